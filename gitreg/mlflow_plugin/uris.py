"""The ``gitreg`` URIs MLflow is given: which registry a store URI names, and which version
an artifact URI names.

A registry URI is one of:

- ``gitreg:///abs/path``: a local registry at an absolute path;
- ``gitreg:rel/path``: a local registry relative to the working directory (made absolute
  when parsed, so every URI handed back to MLflow names the same registry from anywhere);
- ``gitreg+file:///path``, ``gitreg+ssh://host/path``, ``gitreg+https://host/path``: the
  registry at that git URL (``file://``, ``ssh://``, ``https://``), through gitreg's mirror.

A version's artifact URI is its registry URI with ``?model=NAME&version=N``, what
:meth:`GitregRegistryStore.get_model_version_download_uri` returns and
:class:`~gitreg.mlflow_plugin.artifacts.GitregArtifactRepository` reads.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass

from gitreg.errors import InvalidInputError

SCHEME = "gitreg"
#: ``gitreg+<transport>`` schemes and the git URL scheme each stands for.
TRANSPORTS = {"gitreg+file": "file", "gitreg+ssh": "ssh", "gitreg+https": "https"}
SCHEMES = (SCHEME, *TRANSPORTS)


@dataclass(frozen=True)
class RegistryURI:
    """A registry as MLflow names it: ``location`` is what :func:`gitreg.locate.open_registry`
    opens (a path or a git URL), ``uri`` the canonical ``gitreg`` URI for it."""

    location: str
    uri: str

    def version_uri(self, name: str, version: int | str) -> str:
        """The artifact URI of ``version`` of model ``name`` in this registry."""
        query = urllib.parse.urlencode({"model": name, "version": str(version)})
        return f"{self.uri}?{query}"


@dataclass(frozen=True)
class VersionURI:
    """A version's artifact URI, parsed."""

    registry: RegistryURI
    name: str
    version: int


def parse_registry_uri(uri: str) -> RegistryURI:
    """The registry ``uri`` names; :class:`InvalidInputError` for anything else."""
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise InvalidInputError(f"{uri!r}: a registry URI takes no '?query' or '#fragment'.")
    if scheme == SCHEME:
        if parts.netloc:
            raise InvalidInputError(
                f"{uri!r} names a host; use gitreg:///ABSOLUTE/PATH or gitreg:RELATIVE/PATH for a local "
                "registry, or gitreg+ssh://HOST/PATH, gitreg+https://HOST/PATH for a remote one."
            )
        path = urllib.parse.unquote(parts.path)
        if not path:
            raise InvalidInputError(f"{uri!r} names no registry path.")
        absolute = os.path.abspath(os.path.expanduser(path))
        return RegistryURI(absolute, f"{SCHEME}://{urllib.parse.quote(absolute)}")
    if scheme in TRANSPORTS:
        if not parts.path.strip("/") and not parts.netloc:
            raise InvalidInputError(f"{uri!r} names no repository.")
        # Spelled out: urlunsplit drops the "//" of schemes it does not know (gitreg+file).
        return RegistryURI(
            f"{TRANSPORTS[scheme]}://{parts.netloc}{parts.path}", f"{scheme}://{parts.netloc}{parts.path}"
        )
    raise InvalidInputError(f"{uri!r} is not a gitreg URI (schemes: {', '.join(SCHEMES)}).")


def parse_version_uri(uri: str) -> VersionURI:
    """The version an artifact URI names; :class:`InvalidInputError` if it names none."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qs(parts.query, strict_parsing=False)
    name, version = query.get("model", []), query.get("version", [])
    if len(name) != 1 or len(version) != 1 or not version[0].isdigit():
        raise InvalidInputError(
            f"{uri!r} names no model version: gitreg artifact URIs end in ?model=NAME&version=N "
            "(MLflow gets them from get_model_version_download_uri)."
        )
    base = uri.partition("#")[0].partition("?")[0]
    return VersionURI(parse_registry_uri(base), name[0], int(version[0]))
