"""What a loader may open and deserialise: decided by the caller and the
registry, never by the model being loaded.

Two rules live here, once, and every flavor follows them:

* :func:`artifact_path`: a file a flavor opens is an artifact of the model.
  The paths in ``MLmodel`` are written by whoever registered the model, so
  ``python_model: /tmp/x.pkl`` or ``pickled_model: ../../y.pkl`` would
  otherwise unpickle a file whose sha256 nobody checked. A path is accepted
  only if it is relative, has no ``..``, crosses no symbolic link, and, for a
  registry version, is one of the manifest's artifacts (their sha256 and size
  were checked when the version was materialised, :mod:`gitreg.cache`).
* :func:`check_pickle_allowed`: a loader may refuse every pickle-based
  format (``allow_pickle=False``, ``--no-pickle``, or ``loading:
  {allow_pickle: false}`` in ``registry.yaml``). The format is read from the
  model's ``MLmodel``, so the refusal is checked before the model file is
  opened, and by :func:`gitreg.pyfunc.load_model` before the version is even
  materialised.

A model file that does not deserialise (:func:`deserialise`) is one
:class:`InvalidInputError` naming the file and the version, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gitreg.errors import GitregError, IntegrityError, InvalidInputError
from gitreg.flavors.mlmodel import MLMODEL

T = TypeVar("T")

PICKLE_FORMATS = ("cloudpickle", "pickle", "joblib")
SKOPS = 'gitreg.sklearn.log_model(model, ..., serialization_format="skops")'


@dataclass(frozen=True)
class Loading:
    """How one model is being loaded.

    ``label`` names the model in errors (``models:/M/1``, or the directory).
    ``artifacts``: the artifact paths of a registry version, verified against
    its manifest; None for a local directory, which has no manifest (then a
    path need only stay inside the directory). ``trusted_types``: the types a
    skops file may construct beyond skops' defaults. ``pickle_refused``: why
    pickle-based formats are refused (said in the error), None when allowed.
    """

    label: str
    artifacts: frozenset[str] | None = None
    trusted_types: tuple[str, ...] = ()
    pickle_refused: str | None = None


def artifact_name(rel: object, artifacts: Collection[str] | None, *, tree: bool = False) -> str | None:
    """``rel`` as a normalised artifact path (``a/b``), or None when it is not one.

    Not one: not a non-empty string, absolute, containing ``..``, a NUL or a
    backslash, or, given ``artifacts``, not among them. With ``tree`` a
    directory that holds at least one of ``artifacts`` counts too. No I/O.
    """
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\x00" in rel or "\\" in rel:
        return None
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    name = "/".join(parts)
    if artifacts is None or name in artifacts:
        return name
    if tree and any(a.startswith(name + "/") for a in artifacts):
        return name
    return None


def artifact_path(directory: Path, rel: object, what: str, loading: Loading, *, tree: bool = False) -> Path:
    """The local path of the artifact ``rel``, which ``what`` (e.g. "the sklearn
    flavor's pickled_model") names; with ``tree`` it may be a directory.

    Raises :class:`IntegrityError` for a registry version when ``rel`` is not
    one of its artifacts, :class:`InvalidInputError` for a local directory
    when it leaves the directory or does not exist. Reads no file content.
    """
    registered = loading.artifacts is not None
    refuse = IntegrityError if registered else InvalidInputError
    name = artifact_name(rel, loading.artifacts, tree=tree)
    if name is None:
        if registered:
            inside = "one of the version's artifacts (listed, with its sha256, in the manifest)"
            fix = "register a version whose MLmodel names only its own files"
        else:
            inside, fix = "a relative path inside the model directory", f"fix {MLMODEL} to name a file of the model"
        raise refuse(
            f"{loading.label}: {what} is {rel!r}, which is not {inside}; refusing to open it. To load it, {fix}."
        )
    path = directory
    for part in name.split("/"):
        path = path / part
        if path.is_symlink():
            raise refuse(
                f"{loading.label}: {what} ({name}) goes through the symbolic link {path}; refusing to open it. "
                "Replace the link with the file it points to."
            )
    if not (path.exists() if tree else path.is_file()):
        kind = "file or directory" if tree else "file"
        raise refuse(f"{loading.label}: {what} is {name!r}, which is not a {kind} of the model.")
    return path


def check_pickle_allowed(fmt: str, flavor: str, loading: Loading) -> None:
    """Refuse (:class:`InvalidInputError`) a pickle-based ``fmt`` when the loader refuses pickles."""
    if loading.pickle_refused is None or fmt not in PICKLE_FORMATS:
        return
    how = f"register it again in the skops format: {SKOPS}"
    if flavor != "sklearn":
        how = f"python_function models are always pickled; register a scikit-learn model in the skops format: {SKOPS}"
    raise InvalidInputError(
        f"{loading.label} is stored with {fmt} ({flavor} flavor), a pickle format that runs code when it is "
        f"loaded, and this load refuses pickles ({loading.pickle_refused}). To load it without pickle, {how}."
    )


def deserialise(rel: str, loading: Loading, read: Callable[[], T], verb: str = "unpickled") -> T:
    """``read()``, with any failure turned into one actionable line naming ``rel`` and the version."""
    try:
        return read()
    except ModuleNotFoundError as exc:
        raise InvalidInputError(
            f"{rel} of {loading.label} needs the module {exc.name!r} to load; install it "
            "(the model's requirements.txt lists what it was saved with)."
        ) from None
    except GitregError:
        raise
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        fix = (
            "the artifact was registered broken — register a fixed version"
            if loading.artifacts is not None
            else "the file is broken — save the model again"
        )
        raise InvalidInputError(f"{rel} of {loading.label} could not be {verb}: {reason}; {fix}.") from None


def unpickle(path: Path, rel: str, loading: Loading) -> Any:
    """Load a cloudpickle or pickle file (cloudpickle reads both)."""
    import cloudpickle

    def read() -> Any:
        with open(path, "rb") as fh:
            return cloudpickle.load(fh)

    return deserialise(rel, loading, read)
