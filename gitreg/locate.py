"""Which registry a call uses, strongest first: the ``registry=`` argument
(``--registry`` on the CLI), :func:`set_registry`, ``GITREG_REGISTRY``, the
registry containing the current directory (found the way git finds
``.git``), and git's own configuration, ``gitreg.registry`` (``git config
gitreg.registry PATH`` in a project's repository, or ``--global``). Opened
registries are kept per path so their git reader process is reused across
calls in a warm process."""

from __future__ import annotations

import os
from pathlib import Path

from gitreg.errors import GitError, InvalidInputError, NoRegistryError
from gitreg.registry import Registry
from gitreg.store import GitStore
from gitreg.store import process as git_process

ENV = "GITREG_REGISTRY"
CONFIG_KEY = "gitreg.registry"
_explicit: str | None = None
_open: dict[str, Registry] = {}


def set_registry(path: str | os.PathLike[str] | None) -> None:
    """Use ``path`` as the registry for calls that name none (None clears it)."""
    global _explicit
    if path is not None and (not isinstance(path, str | os.PathLike) or not str(path)):
        raise InvalidInputError(f"set_registry expects a path, got {path!r}.")
    _explicit = None if path is None else str(path)


def get_registry() -> str | None:
    """The registry location calls would use now, or None if there is none."""
    if _explicit:
        return _explicit
    if os.environ.get(ENV):
        return os.environ[ENV]
    found = GitStore.discover(Path.cwd())
    top = None if found is None else os.path.abspath(found.work_tree or found.git_dir)
    if found is not None and top is not None and _is_registry(top, found):
        return top
    configured = configured_registry(Path(top) if top else Path.cwd())
    if configured:
        return configured
    return top  # a git repository that is no registry: opening it says so


def configured_registry(base: Path | None = None) -> str | None:
    """``git config --get gitreg.registry`` read from the current directory
    (its repository's config, then the global and system ones), or None.
    A relative path is taken from ``base`` (the repository's top), ``~`` is
    expanded, a URL is kept as it is."""
    try:
        value = git_process.run(["config", "--type=path", "--get", CONFIG_KEY], cwd=Path.cwd()).decode().strip()
    except (GitError, OSError):  # unset (git exits 1), or no usable configuration
        return None
    if not value or is_remote(value) or os.path.isabs(value):
        return value or None
    return os.path.abspath(os.path.join(base or Path.cwd(), value))


def _is_registry(top: str, found: GitStore) -> bool:
    """Whether the repository around the current directory is a registry; kept open if so."""
    reg = _open.get(top)
    if reg is not None and reg.store.git_dir.exists():
        return True
    reg = Registry(found)
    if reg.reader.is_registry():
        _open[top] = reg
        return True
    reg.close()
    return False


def is_remote(location: str) -> bool:
    """Whether ``location`` is a git URL (``file://`` included) rather than a path."""
    from gitreg.store.remote import is_url

    return is_url(location)


def open_registry(registry: str | os.PathLike[str] | Registry | None = None) -> Registry:
    """The :class:`Registry` to use, per the precedence above."""
    if isinstance(registry, Registry):
        return registry
    location = str(registry) if registry is not None else get_registry()
    if not location:
        raise NoRegistryError()
    remote = is_remote(location)
    key = location if remote else os.path.abspath(os.path.expanduser(location))
    reg = _open.get(key)
    if reg is None or not reg.store.git_dir.exists():
        if remote:
            from gitreg.remote import RemoteRegistry

            reg = RemoteRegistry.open_url(location)
        else:
            reg = Registry.open(key)
        _open[key] = reg
    return reg


def opened() -> list[Registry]:
    """The registries this process has opened through :func:`open_registry`."""
    return list(_open.values())
