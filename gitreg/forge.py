"""Where a forge opens a pull request for a branch, derived from a remote URL.

Pure string work, no I/O: GitHub and GitLab (gitlab.com or a host whose name
says gitlab) are recognised from ``https://``, ``ssh://`` and scp-like
``git@host:org/repo.git`` remotes. Other hosts get None and the caller prints
the branch names instead.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_SCP_LIKE = re.compile(r"^(?:[\w.+-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")


def host_and_path(url: str) -> tuple[str, str] | None:
    """``("github.com", "org/repo")`` for any form of a remote URL, else None."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    else:
        m = _SCP_LIKE.match(url)
        if not m:
            return None
        host, path = m.group("host"), m.group("path")
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return (host.lower(), path) if path else None


def pull_request_url(remote_url: str, source: str, target: str) -> str | None:
    """The page that opens a pull (merge) request from ``source`` into ``target``."""
    found = host_and_path(remote_url)
    if found is None:
        return None
    host, path = found
    if host == "github.com" or host.startswith("github."):
        return f"https://{host}/{path}/compare/{quote(target)}...{quote(source)}?expand=1"
    if host == "gitlab.com" or host.startswith("gitlab."):
        src, dst = quote(source, safe=""), quote(target, safe="")
        return (
            f"https://{host}/{path}/-/merge_requests/new"
            f"?merge_request[source_branch]={src}&merge_request[target_branch]={dst}"
        )
    return None
