"""``registry.yaml`` parsed once into one value: every setting a registry's main branch declares.

Whoever can change main's ``registry.yaml`` decides what loaders trust, which
stages exist, what a stage's policy is and which artifacts go to Git LFS, so
the file is read in exactly one place and every reader asks this value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitreg import yamlio
from gitreg.errors import InvalidInputError
from gitreg.policy import StagePolicy, parse_policy

CONFIG_FILE = "registry.yaml"
DEFAULT_STAGES = ("staging", "production", "archived")
#: What ``gitreg init`` writes as ``lfs.threshold_bytes``: 10 MB, as the Hugging Face Hub does.
DEFAULT_LFS_THRESHOLD = 10 * 1024 * 1024
#: No plain blob this large is ever written, whatever ``registry.yaml`` says: forges refuse them (GitHub at 100 MB).
MAX_PLAIN_BLOB = 100 * 1000 * 1000
_KEYS = {"format", "stages", "policy", "lfs", "trusted_types", "loading", "webhooks"}
_WEBHOOK_KEYS = {"url", "secret_env", "events", "ledger"}


@dataclass(frozen=True)
class LoadingPolicy:
    """What a reader of this registry may deserialise (``loading:`` in registry.yaml).

    ``allow_pickle: false`` refuses every pickle-based serialization format
    (cloudpickle, pickle, joblib) before any artifact byte is read; only
    formats that construct no arbitrary objects (skops) load."""

    allow_pickle: bool = True


@dataclass(frozen=True)
class WebhookConfig:
    """One receiver of ``gitreg notify`` (``webhooks:`` in registry.yaml). The secret itself never
    lives in git: ``secret_env`` names the environment variable holding it. ``events`` are event
    names (:class:`gitreg.events.EventKind`), checked where they are used; empty means all."""

    url: str
    secret_env: str | None = None
    events: tuple[str, ...] = ()
    ledger: str | None = None


@dataclass(frozen=True)
class RegistryConfig:
    """The parsed ``registry.yaml`` of one main commit."""

    format: int = 1
    stages: tuple[str, ...] = DEFAULT_STAGES
    policy: dict[str, StagePolicy] = field(default_factory=dict)
    lfs_threshold: int | None = None
    trusted_types: tuple[str, ...] = ()
    loading: LoadingPolicy = LoadingPolicy()
    webhooks: tuple[WebhookConfig, ...] = ()

    @classmethod
    def from_yaml(cls, raw: bytes | str, where: str = CONFIG_FILE) -> RegistryConfig:
        """Parse ``registry.yaml``; :class:`InvalidInputError` names the file and the setting at fault."""
        data = yamlio.load_mapping(raw, where)
        return cls.from_mapping(data, where)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str = CONFIG_FILE) -> RegistryConfig:
        unknown = sorted(str(k) for k in data if k not in _KEYS)
        if unknown:
            raise InvalidInputError(
                f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}."
            )
        fmt = data.get("format", 1)
        if fmt != 1 or isinstance(fmt, bool):
            raise InvalidInputError(
                f"{where}: format {fmt!r} is not one this gitreg reads (1); upgrade gitreg to open this registry."
            )
        return cls(
            format=1,
            stages=_stages(data.get("stages"), where),
            policy=parse_policy(data, where),
            lfs_threshold=_lfs_threshold(data.get("lfs"), where),
            trusted_types=_trusted_types(data.get("trusted_types"), where),
            loading=_loading(data.get("loading"), where),
            webhooks=_webhooks(data.get("webhooks"), where),
        )


def _stages(raw: object, where: str) -> tuple[str, ...]:
    from gitreg.names import check_stage_name

    if raw is None:
        return DEFAULT_STAGES
    if not isinstance(raw, list):
        raise InvalidInputError(f"{where}: stages must be a list of stage names.")
    out = []
    for item in raw:
        if not isinstance(item, str):
            raise InvalidInputError(f"{where}: stages must be a list of stage names, not {item!r}.")
        try:
            out.append(check_stage_name(item))
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: stages: {exc}") from None
    return tuple(out)


def _lfs_threshold(raw: object, where: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: lfs must be a mapping such as 'lfs: {{threshold_bytes: 52428800}}'.")
    value = raw.get("threshold_bytes")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(f"{where}: lfs.threshold_bytes must be a whole number of bytes, not {value!r}.")
    return value


def _trusted_types(raw: object, where: str) -> tuple[str, ...]:
    types = raw or []
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        raise InvalidInputError(f"{where}: trusted_types must be a list of fully qualified type names.")
    return tuple(types)


def _loading(raw: object, where: str) -> LoadingPolicy:
    if raw is None:
        return LoadingPolicy()
    if not isinstance(raw, dict) or set(raw) - {"allow_pickle"}:
        raise InvalidInputError(f"{where}: loading must be a mapping with allow_pickle: true or false.")
    allow = raw.get("allow_pickle", True)
    if not isinstance(allow, bool):
        raise InvalidInputError(f"{where}: loading.allow_pickle must be true or false, not {allow!r}.")
    return LoadingPolicy(allow_pickle=allow)


def _webhooks(raw: object, where: str) -> tuple[WebhookConfig, ...]:
    if raw is None:
        return ()
    shape = "a list of {url: URL, secret_env: VAR, events: [NAME, ...], ledger: NAME}"
    if not isinstance(raw, list):
        raise InvalidInputError(f"{where}: webhooks must be {shape}.")
    out = []
    for i, item in enumerate(raw):
        at = f"{where}: webhooks[{i}]"
        if not isinstance(item, dict) or set(item) - _WEBHOOK_KEYS or not isinstance(item.get("url"), str):
            raise InvalidInputError(f"{at} must be a mapping with url (and optionally secret_env, events, ledger).")
        secret_env, events, ledger = item.get("secret_env"), item.get("events") or [], item.get("ledger")
        if secret_env is not None and not isinstance(secret_env, str):
            raise InvalidInputError(f"{at}.secret_env must name an environment variable.")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise InvalidInputError(f"{at}.events must be a list of event names such as model_version.created.")
        if ledger is not None and not (isinstance(ledger, str) and ledger.replace("-", "").isalnum()):
            raise InvalidInputError(f"{at}.ledger must be a name of letters, digits and '-'.")
        out.append(WebhookConfig(item["url"], secret_env, tuple(events), ledger))
    return tuple(out)
