"""Turn what a user registers into a :class:`~gitreg.registry.Package`.

A source is a saved model directory (gitreg's or MLflow's: it has an
``MLmodel`` file) or a single pickle file of a scikit-learn estimator. Only
regular files inside the source are taken: symlinks, devices and other
special files are refused, so registration never reads outside the source.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.flavors.mlmodel import MLMODEL, MLModel
from gitreg.manifest import MANIFEST_FILE, check_artifact_path, check_metrics, check_params
from gitreg.registry import Package

_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints"}
MAX_FILES = 10_000


def _walk(root: Path) -> list[str]:
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if d in _SKIP_DIRS:
                dirnames.remove(d)
            elif (here / d).is_symlink():
                raise InvalidInputError(f"{here / d} is a symbolic link; gitreg registers only regular files.")
        for f in filenames:
            path = here / f
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                raise InvalidInputError(f"{path} is a symbolic link; copy the file it points to into the model.")
            if not stat.S_ISREG(st.st_mode):
                raise InvalidInputError(f"{path} is not a regular file (device, socket or pipe); remove it.")
            if not os.access(path, os.R_OK):
                raise InvalidInputError(f"{path} is not readable; fix its permissions.")
            if rel == MANIFEST_FILE or f.endswith(".pyc"):
                continue
            files.append(check_artifact_path(rel, str(root)))
            if len(files) > MAX_FILES:
                raise InvalidInputError(f"{root} holds more than {MAX_FILES} files; is it really a model directory?")
    return sorted(files)


def from_directory(
    root: Path,
    *,
    metrics: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    run_id: str | None = None,
    source: str | None = None,
) -> Package:
    """A package from a saved model directory; ``metrics``/``params`` add to
    (and override) what the directory's ``MLmodel`` metadata records."""
    if root.is_symlink():
        raise InvalidInputError(f"{root} is a symbolic link; pass the directory itself.")
    mlmodel = MLModel.read(root)
    files = _walk(root)
    example = mlmodel.input_example if mlmodel.input_example in files else None
    raw_meta = mlmodel.metadata.get("gitreg")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    return Package(
        root=root,
        files=tuple(files),
        flavor=mlmodel.flavor,
        signature=mlmodel.signature,
        input_example=example,
        metrics={**check_metrics(meta.get("metrics")), **check_metrics(metrics)},
        params={**check_params(meta.get("params")), **check_params(params)},
        run_id=run_id or mlmodel.run_id,
        source=source or str(root),
    )


def from_pickle(path: Path, workdir: Path, **kwargs: Any) -> Package:
    """Wrap a single pickled estimator as an sklearn-flavor model in ``workdir``."""
    import cloudpickle

    from gitreg.flavors import sklearn as sk

    try:
        with open(path, "rb") as fh:
            model = cloudpickle.load(fh)
    except Exception as exc:  # an arbitrary pickle can raise anything
        raise InvalidInputError(f"{path} could not be unpickled ({type(exc).__name__}: {exc}).") from None
    sk.save(model, workdir)
    return from_directory(workdir, source=kwargs.pop("source", None) or str(path), **kwargs)


def from_source(
    source: str | os.PathLike[str], **kwargs: Any
) -> tuple[Package, tempfile.TemporaryDirectory[str] | None]:
    """A package from a directory or pickle file. Returns the temporary
    directory backing it (if any) for the caller to clean up after registering."""
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFoundError(f"Model source {str(source)!r} does not exist.")
    if path.is_dir():
        if not (path / MLMODEL).exists():
            raise InvalidInputError(
                f"{path} is not a saved model directory (no {MLMODEL} file). Save one with "
                "gitreg.sklearn.save_model(model, PATH) or pass a pickle file."
            )
        return from_directory(path.absolute(), **kwargs), None
    if path.is_file():
        tmp = tempfile.TemporaryDirectory(prefix="gitreg-pkg-")
        try:
            return from_pickle(path.absolute(), Path(tmp.name), **kwargs), tmp
        except BaseException:
            tmp.cleanup()
            raise
    raise InvalidInputError(f"{path} is neither a directory nor a regular file.")
