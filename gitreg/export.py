"""A verified copy of one registry version, to ship it where no registry is.

``export_version("models:/M/Production", "out")`` writes the version's
artifacts and its ``gitreg.yaml`` manifest to ``out``. The files are copied
out of the verified cache (:func:`gitreg.materialize.materialized`: every
artifact's sha256 checked against the manifest), never handed out as a path
inside it, and the copy is checked against the manifest again before it
appears at ``out``, so an export either is the registered version byte for
byte or is not there at all. ``gitreg serve -m out`` serves it.

``dockerfile(uri)`` writes the Dockerfile of an image serving such an export
(or, with ``follow``, following a stage of a registry reached by git URL).

``format="mlflow"`` also makes sure ``mlflow.pyfunc.load_model(out)`` and
``mlflow models serve -m out`` accept it: its ``MLmodel`` must name one of
MLflow's own loaders, and the environment files MLflow reads
(``requirements.txt``, ``python_env.yaml``) are written when the version
lacks them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from gitreg import uri as uris
from gitreg.cache import read_artifact, verify_directory
from gitreg.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from gitreg.flavors.mlmodel import MLMODEL, MLModel
from gitreg.manifest import MANIFEST_FILE, Manifest
from gitreg.materialize import materialized
from gitreg.registry import Registry, VersionRef

__all__ = [
    "EXPORT_DIR",
    "FORMATS",
    "GITREG_GIT_URL",
    "GITREG_REF",
    "Export",
    "dockerfile",
    "export_version",
    "exported",
]

FORMATS = ("gitreg", "mlflow")
Format = Literal["gitreg", "mlflow"]
REQUIREMENTS = "requirements.txt"
PYTHON_ENV = "python_env.yaml"


@dataclass(frozen=True)
class Export:
    """What :func:`exported` wrote: which version, where, how many files."""

    name: str
    version: int
    path: Path
    format: str
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "path": str(self.path),
            "format": self.format,
            "files": list(self.files),
        }


def export_version(
    uri: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    registry: str | os.PathLike[str] | Registry | None = None,
    format: Format = "gitreg",
) -> Path:
    """Write a verified copy of the version ``uri`` names (and its manifest) to ``dest``; return ``dest``.

    ``dest`` may be missing or an empty directory. Raises
    :class:`~gitreg.errors.AlreadyExistsError` for anything else at
    ``dest``, :class:`~gitreg.errors.InvalidInputError` for a URI that is not
    a registry version or (``format="mlflow"``) a version MLflow cannot
    load, :class:`~gitreg.errors.NotFoundError` for an unknown version and
    :class:`~gitreg.errors.IntegrityError` when stored content differs from
    its manifest; nothing is left at ``dest`` then.
    """
    return exported(uri, dest, registry=registry, format=format).path


def exported(
    uri: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    registry: str | os.PathLike[str] | Registry | None = None,
    format: Format = "gitreg",
) -> Export:
    """:func:`export_version`, saying what was written."""
    if format not in FORMATS:
        raise InvalidInputError(f"Unknown export format {format!r}; use one of: {', '.join(FORMATS)}.")
    parsed = uris.parse(os.fspath(uri))
    if not parsed.is_registry:
        raise InvalidInputError(f"{parsed} is not a registry version; export takes a models:/ URI.")
    target = Path(dest).expanduser().absolute()
    _check_free(target)
    source = materialized(parsed, registry)
    manifest = Manifest.from_yaml((source / MANIFEST_FILE).read_bytes(), str(source / MANIFEST_FILE))
    label = f"{manifest.name} version {manifest.version}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        files = [a.path for a in manifest.artifacts]
        for rel in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, tmp / rel)
        shutil.copyfile(source / MANIFEST_FILE, tmp / MANIFEST_FILE)
        files.append(MANIFEST_FILE)
        verify_directory(tmp, manifest, f"{label} (exported copy)")
        if format == "mlflow":
            files += _complete_for_mlflow(tmp, label)
        _check_free(target)
        if target.exists():
            target.rmdir()  # empty, as checked: the copy takes its place whole
        tmp.chmod(0o755)  # mkdtemp's 0700 is for the copy in progress, not for what is shipped
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Export(manifest.name, manifest.version, target, format, tuple(sorted(files)))


def _check_free(target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return
    raise AlreadyExistsError(f"{target} already exists and is not an empty directory; export to a new or empty one.")


# MLflow's own pyfunc loaders, which load without gitreg installed.
_MLFLOW_LOADERS = ("mlflow.",)


def _complete_for_mlflow(directory: Path, label: str) -> list[str]:
    """Refuse what MLflow cannot load; write the environment files it reads. Return what was added."""
    try:
        mlmodel = MLModel.read(directory)
    except NotFoundError:
        raise InvalidInputError(
            f"{label} has no {MLMODEL} file, so MLflow cannot load it; export it as gitreg."
        ) from None
    pyfunc = mlmodel.flavors.get("python_function", {})
    loader = str(pyfunc.get("loader_module") or "")
    if not loader.startswith(_MLFLOW_LOADERS):
        raise InvalidInputError(
            f"{label} is loaded by {loader or 'no pyfunc loader'}, not by one of MLflow's own loaders, so "
            "mlflow.pyfunc.load_model cannot load it; export it as gitreg and serve it with gitreg serve."
        )
    added = []
    if not (directory / REQUIREMENTS).is_file():
        (directory / REQUIREMENTS).write_text("")  # nothing was recorded; MLflow reads the file regardless
        added.append(REQUIREMENTS)
    if not (directory / PYTHON_ENV).is_file():
        python = pyfunc.get("python_version") or "3.11"
        (directory / PYTHON_ENV).write_text(
            f"python: {python}\nbuild_dependencies:\n- pip\ndependencies:\n- -r {REQUIREMENTS}\n"
        )
        added.append(PYTHON_ENV)
    return added


# ----------------------------------------------------------------- Dockerfile

EXPORT_DIR = "model"  # where the build context holds the export
# Build arguments the Dockerfile installs gitreg from: a git URL and a tag, given at build time.
GITREG_GIT_URL = "https://git.example.com/gitreg.git"
GITREG_REF = "vX.Y.Z"
PORT = 8080


_DOCKERFILE = Template("""\
# The image serving $shown ($label now), written by `gitreg dockerfile`.
$how#   docker build --build-arg GITREG_GIT_URL=... --build-arg GITREG_REF=... -t IMAGE .
#   docker run -p $port:$port IMAGE
# MLflow's /invocations and the Open Inference Protocol's /v2 answer on port 8080; /ping is the probe.

FROM python:$python-slim

# gitreg, from git: set both at build time (the defaults are placeholders).
ARG GITREG_GIT_URL=$git_url
ARG GITREG_REF=$git_ref
RUN apt-get update && apt-get install -y --no-install-recommends git \\
    && rm -rf /var/lib/apt/lists/*

${requirements}RUN pip install --no-cache-dir "gitreg-registry[serve] @ git+$${GITREG_GIT_URL}@$${GITREG_REF}"

${copy_model}# --allowed-host '*': the Host a request names inside a container network is not known here;
# replace it with your service's host name(s) to keep gitreg's Host check.
EXPOSE $port
CMD [$command]
""")
_HOW_EXPORTED = Template("""\
# Build context: this file and the verified export of the version, made with
#   gitreg export $shown_quoted $export_dir
""")
_HOW_FOLLOWED = Template("""\
# It follows $shown in the registry $url: a promotion is served without a rebuild, but the
# requirements installed are $label's; rebuild when a version needs others.
# The container must be able to fetch the registry (credentials for ssh:// or https:// URLs).
""")


def dockerfile(
    uri: str | os.PathLike[str],
    *,
    registry: str | os.PathLike[str] | Registry | None = None,
    follow: bool = False,
) -> str:
    """The Dockerfile of an image serving ``uri`` with ``gitreg serve`` on port 8080.

    Without ``follow``: the image installs the version's recorded
    requirements (its ``requirements.txt``) and gitreg, copies the directory
    ``gitreg export URI model`` wrote into the build context to ``/model``
    and serves it (``gitreg serve -m /model``). With ``follow``: ``uri``
    names a stage or alias of a registry given as a git URL, which the
    container follows (``gitreg serve -m URI -r GIT_URL --follow``); the
    requirements installed are those of the version in the stage now.
    gitreg itself is installed from the build arguments ``GITREG_GIT_URL``
    and ``GITREG_REF`` (a git URL and tag; the defaults are placeholders).
    Raises what resolving ``uri`` raises, and
    :class:`~gitreg.errors.InvalidInputError` when ``follow`` is given a
    fixed version or a registry that is not a git URL.
    """
    from gitreg.locate import open_registry

    shown = os.fspath(uri)
    parsed = uris.parse(shown)
    if not parsed.is_registry:
        raise InvalidInputError(f"{parsed} is not a registry version; dockerfile takes a models:/ URI.")
    location = registry if isinstance(registry, Registry | None) else os.fspath(registry)
    url = _followed_url(parsed, location) if follow else None
    reg = open_registry(location)
    ref = reg.resolve(parsed).ref
    label = f"{ref.name} version {ref.version}"
    requirements = read_artifact(reg.store, ref.tree, ref.manifest, REQUIREMENTS, label)
    # gitreg serve answers only requests naming an allowed host (421 otherwise); behind a container
    # network the Host is a service name or an address nobody knows when building.
    served = ["-m", shown, "-r", str(url), "--follow"] if url else ["-m", "/model"]
    command = ["gitreg", "serve", *served, "--host", "0.0.0.0", "--port", str(PORT), "--allowed-host", "*"]
    how = _HOW_FOLLOWED if url else _HOW_EXPORTED
    return _DOCKERFILE.substitute(
        shown=shown,
        label=label,
        how=how.substitute(shown=shown, shown_quoted=shlex.quote(shown), export_dir=EXPORT_DIR, url=url, label=label),
        port=PORT,
        python=_python_version(reg, ref, label),
        git_url=GITREG_GIT_URL,
        git_ref=GITREG_REF,
        requirements=_requirements_step(requirements, label, followed=url is not None),
        copy_model="" if url else f"COPY {EXPORT_DIR} /model\n\n",
        command=", ".join(f'"{a}"' for a in command),
    )


def _followed_url(parsed: uris.ModelURI, location: str | Registry | None) -> str:
    """The git URL of the registry a container following ``parsed`` fetches; refused for a fixed
    version or a registry the container cannot reach (a local path is not inside the image)."""
    from gitreg.locate import get_registry, is_remote
    from gitreg.uri import check_followable

    check_followable(parsed)
    url = location if isinstance(location, str) else get_registry() if location is None else None
    if not url or not is_remote(url):
        raise InvalidInputError(
            "--stage-follow needs a registry given as a git URL (-r https://…, ssh://…, git@host:…) that "
            "the container can fetch; a local path is not there inside the image."
        )
    return url


def _python_version(reg: Registry, ref: VersionRef, label: str) -> str:
    """The image's Python: the ``major.minor`` the version's MLmodel records, else 3.11."""
    raw_mlmodel = read_artifact(reg.store, ref.tree, ref.manifest, MLMODEL, label)
    if raw_mlmodel is not None:
        version = MLModel.from_yaml(raw_mlmodel, MLMODEL).flavors.get("python_function", {}).get("python_version")
        if isinstance(version, str) and version.count(".") >= 1:
            return ".".join(version.split(".")[:2])
    return "3.11"


def _requirements_step(requirements: bytes | None, label: str, *, followed: bool) -> str:
    """The Dockerfile lines installing the version's recorded requirements: from the export's
    ``requirements.txt``, or (following a stage, with no export) the packages it names."""
    if requirements is None:
        return f"# {label} records no requirements.txt: only gitreg's own dependencies are installed.\n\n"
    if not followed:
        return (
            f"# {label}'s recorded requirements ({REQUIREMENTS} of the export).\n"
            f"COPY {EXPORT_DIR}/{REQUIREMENTS} /tmp/{REQUIREMENTS}\n"
            f"RUN pip install --no-cache-dir -r /tmp/{REQUIREMENTS}\n\n"
        )
    packages = [r.strip() for r in requirements.decode("utf-8", "replace").splitlines()]
    packages = [p for p in packages if p and not p.startswith("#")]
    step = f"# {label}'s recorded requirements ({REQUIREMENTS}).\n"
    if packages:
        step += "RUN pip install --no-cache-dir " + " ".join(shlex.quote(p) for p in packages) + "\n\n"
    return step
