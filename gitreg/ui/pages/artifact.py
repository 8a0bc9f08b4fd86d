"""One artifact of a version: its text, or a download, with size and sha256."""

from __future__ import annotations

from gitreg.manifest import Artifact
from gitreg.ui.html import Safe, link, render, size, url

# Shown inline up to this size; bigger text is downloaded like a binary.
TEXT_LIMIT = 512 * 1024


def artifact_text(data: bytes) -> str | None:
    """``data`` as text when it is UTF-8 without NUL bytes and small enough to show."""
    if len(data) > TEXT_LIMIT or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def artifact_href(name: str, version: int, path: str, *, download: bool = False) -> str:
    # The path's slashes stay separators: each of its segments is encoded on its own.
    return url("models", name, "versions", version, "artifacts", *path.split("/"), download=1 if download else None)


def artifact_page(name: str, version: int, artifact: Artifact, text: str) -> Safe:
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <a href="$mu">$name</a> / <a href="$vu">Version $v</a>
 / <span>$path</span></nav>
<div class="page-head"><h1><code>$path</code></h1>$dl</div>
<p class="muted">$size · SHA-256 <code class="hash">$sha</code> (checked against the manifest before it was read)</p>
<pre class="artifact"><code>$text</code></pre>""",
        mu=url("models", name),
        vu=url("models", name, "versions", version),
        name=name,
        v=version,
        path=artifact.path,
        dl=link(artifact_href(name, version, artifact.path, download=True), "Download", "button secondary"),
        size=size(artifact.size),
        sha=artifact.sha256,
        text=text,
    )
