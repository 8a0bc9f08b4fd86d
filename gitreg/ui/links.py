"""Links out of the pages: a commit on its forge, a run on the logged-models page.

Pure string work on top of :func:`gitreg.forge.host_and_path`: GitHub,
GitLab and Gitea (gitea.com, codeberg.org, or a host whose name says
gitea/forgejo) are recognised; any other remote gets no link and the commit
shows as text.
"""

from __future__ import annotations

from urllib.parse import quote

from gitreg.forge import host_and_path
from gitreg.ui.html import Safe, render, url


def commit_url(remote: str | None, commit: str | None) -> str | None:
    """The forge page of ``commit`` in the repository at ``remote``, if it has one."""
    if not remote or not commit or not all(c in "0123456789abcdef" for c in commit.lower()):
        return None
    found = host_and_path(remote)
    if found is None:
        return None
    host, path = found
    base = f"https://{host}/{quote(path)}"
    if host == "github.com" or host.startswith("github."):
        return f"{base}/commit/{commit}"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"{base}/-/commit/{commit}"
    if host in ("gitea.com", "codeberg.org") or host.startswith(("gitea.", "forgejo.")):
        return f"{base}/commit/{commit}"
    return None


def commit_link(remote: str | None, commit: str | None, *, full: bool = False) -> Safe:
    """A commit as code, linked to its forge page when the remote is a known forge."""
    if not commit:
        return Safe("")
    text = commit if full else commit[:7]
    href = commit_url(remote, commit)
    if href is None:
        return render('<code title="$c">$t</code>', c=commit, t=text)
    return render(
        '<a class="commit" href="$h" title="$c" rel="noreferrer"><code>$t</code></a>', h=href, c=commit, t=text
    )


def run_anchor(run_id: str) -> str:
    return f"run-{run_id}"


def run_link(run_id: str | None, *, path: str | None = None) -> Safe:
    """A run id (or a ``runs:/`` URI when ``path`` is given) linked to its card on the logged-models page."""
    if not run_id:
        return Safe("")
    text = f"runs:/{run_id}/{path}" if path else run_id
    return render('<a class="run" href="$h"><code>$t</code></a>', h=url("runs") + "#" + run_anchor(run_id), t=text)


def source_link(source: str | None) -> Safe:
    """A version's source: a ``runs:/`` URI links to its run, anything else is shown as text."""
    if not source:
        return Safe("")
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        if run_id.isalnum():
            return run_link(run_id, path=path or None)
    return render("<code>$s</code>", s=source)
