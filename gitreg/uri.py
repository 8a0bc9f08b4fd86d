"""Parse model URIs into small values. No I/O happens here.

Accepted forms, as in MLflow:

* ``models:/Name/3``          a version
* ``models:/Name/Production`` a stage, case-insensitive
* ``models:/Name@champion``   an alias (aliases are stages too)
* ``models:/Name/latest``     the latest version on ``main``
* ``models:/Name/Production@2026-11-01T12:00Z``  what a stage (or ``models:/Name@alias@…``
  an alias) held at that instant: ISO 8601, UTC unless an offset is given
* ``runs:/<run_id>/<path>``   a model logged without a registered name
* a local path (or ``file://`` URL) to a saved model directory
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gitreg.errors import InvalidInputError
from gitreg.names import check_model_name, check_stage_name, check_version

Kind = Literal["version", "stage", "latest", "run", "path"]
_USAGE = "Use models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME@ALIAS, models:/NAME/latest or a local path."


@dataclass(frozen=True)
class ModelURI:
    """A parsed model URI. ``stage`` is the canonical lower-case branch name."""

    kind: Kind
    name: str = ""
    version: int | None = None
    stage: str | None = None
    run_id: str | None = None
    path: str | None = None
    as_of: int | None = None  # a stage URI's instant (seconds since the epoch): what the stage held then

    def __str__(self) -> str:
        if self.kind == "version":
            return f"models:/{self.name}/{self.version}"
        if self.kind == "stage":
            when = f"@{format_instant(self.as_of)}" if self.as_of is not None else ""
            return f"models:/{self.name}/{self.stage}{when}"
        if self.kind == "latest":
            return f"models:/{self.name}/latest"
        if self.kind == "run":
            return f"runs:/{self.run_id}/{self.path}"
        return str(self.path)

    @property
    def is_registry(self) -> bool:
        return self.kind in ("version", "stage", "latest")


def parse_instant(text: str) -> int:
    """Seconds since the epoch of an ISO 8601 instant (``2026-11-01``, ``2026-11-01T12:00Z``,
    ``2026-11-01T12:00:00+02:00``); UTC when no offset is given. InvalidInputError otherwise."""
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise InvalidInputError(
            f"{text[:40]!r} is not an ISO 8601 instant; use e.g. 2026-11-01T12:00Z or 2026-11-01."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def format_instant(seconds: int) -> str:
    """``2026-11-01T12:00:00Z``: an instant as :func:`parse_instant` reads it back."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_instant(uri: ModelURI, seconds: int) -> ModelURI:
    """``uri`` (a stage or alias URI) as of ``seconds``; InvalidInputError for any other kind."""
    if uri.kind != "stage":
        raise InvalidInputError(f"{uri} names no stage; only a stage or alias has a past (models:/NAME/STAGE).")
    return ModelURI(kind="stage", name=uri.name, stage=uri.stage, as_of=seconds)


def parse(uri: object) -> ModelURI:
    """Parse ``uri``; raise :class:`InvalidInputError` naming what is wrong."""
    if not isinstance(uri, str):
        raise InvalidInputError(f"A model URI must be a string, got {type(uri).__name__}. {_USAGE}")
    if not uri or "\x00" in uri or len(uri) > 4096:
        raise InvalidInputError(f"Invalid model URI {uri[:60]!r}. {_USAGE}")
    if uri.startswith("models:"):
        return _parse_models(uri)
    if uri.startswith("runs:"):
        return _parse_runs(uri)
    if uri.startswith("file://"):
        return ModelURI(kind="path", path=uri[len("file://") :])
    if "://" in uri or uri.startswith(("mlflow-artifacts:", "dbfs:", "s3:", "gs:")):
        raise InvalidInputError(f"Unsupported model URI scheme in {uri[:60]!r}. {_USAGE}")
    return ModelURI(kind="path", path=uri)


def _parse_models(uri: str) -> ModelURI:
    body = uri[len("models:") :]
    if not body.startswith("/") or body.startswith("//"):
        raise InvalidInputError(f"Invalid model URI {uri[:80]!r}: expected 'models:/' followed by a name. {_USAGE}")
    body = body[1:]
    if "@" in body and "/" not in body:
        name, alias = body.split("@", 1)
        alias, sep, when = alias.partition("@")
        as_of = parse_instant(when) if sep else None
        return ModelURI(kind="stage", name=check_model_name(name), stage=check_stage_name(alias), as_of=as_of)
    if "/" in body and "@" in body.split("/", 1)[1]:
        head, when = body.rsplit("@", 1)
        plain = _parse_models(f"models:/{head}")
        return at_instant(plain, parse_instant(when))
    parts = body.split("/")
    if len(parts) != 2 or not parts[1]:
        raise InvalidInputError(f"Invalid model URI {uri[:80]!r}: expected exactly NAME and one selector. {_USAGE}")
    name, selector = check_model_name(parts[0]), parts[1]
    if selector.isascii() and selector.isdigit():
        return ModelURI(kind="version", name=name, version=check_version(selector))
    if selector.lower() == "latest":
        return ModelURI(kind="latest", name=name)
    return ModelURI(kind="stage", name=name, stage=check_stage_name(selector))


def _parse_runs(uri: str) -> ModelURI:
    body = uri[len("runs:") :].lstrip("/")
    run_id, _, path = body.partition("/")
    if not run_id or not run_id.isalnum() or len(run_id) > 64:
        raise InvalidInputError(f"Invalid run URI {uri[:80]!r}: expected runs:/<run_id>/<artifact path>.")
    path = path.strip("/") or "model"
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise InvalidInputError(f"Invalid artifact path in {uri[:80]!r}: no '.' or '..' components.")
    return ModelURI(kind="run", run_id=run_id, path=path)


def check_followable(uri: ModelURI) -> None:
    """Refuse ``--follow`` on a URI that can never move."""
    if uri.kind == "version":
        raise InvalidInputError(
            f"{uri} names a fixed version, which never changes; --follow needs a stage, alias or latest URI "
            f"(e.g. models:/{uri.name}/Production)."
        )
    if not uri.is_registry:
        raise InvalidInputError(f"{uri} is not in a registry; --follow needs a models:/ URI with a stage or alias.")
