"""One version: manifest, artifacts, provenance, snippets, promotion."""

from __future__ import annotations

import json

from gitreg.entities import ModelVersion
from gitreg.registry import VersionRef
from gitreg.ui.html import Safe, copyable, join, key_values, link, number, render, size, table, url, when
from gitreg.ui.links import commit_link, run_link, source_link
from gitreg.ui.pages.artifact import artifact_href
from gitreg.ui.pages.common import (
    Forms,
    description_block,
    metadata_forms,
    signature_block,
    stage_badges,
    stages_of,
    tag_chips,
)
from gitreg.ui.pages.writes import alias_forms, delete_form, stage_forms
from gitreg.ui.snippets import Snippets


def _example_block(example: bytes | None) -> Safe:
    if example is None:
        return Safe('<p class="muted">No input example.</p>')
    try:
        data = json.loads(example)
    except (ValueError, UnicodeDecodeError):
        return Safe('<p class="muted">The input example is not JSON.</p>')
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("data"), list):
        rows = [r if isinstance(r, list) else [r] for r in data["data"][:20]]
        more = len(data["data"]) - len(rows)
        note = render('<p class="muted">… and $n more rows</p>', n=more) if more > 0 else Safe("")
        return render("$t$note", t=table(data["columns"], rows, "example"), note=note)
    text = json.dumps(data, indent=2)
    return render("<pre><code>$t</code></pre>", t=text if len(text) < 4000 else text[:4000] + "\n…")


def version_page(
    mv: ModelVersion,
    ref: VersionRef,
    example: bytes | None,
    snippets: Snippets,
    *,
    stages: list[str],
    forms: Forms | None,
    remote: str | None = None,
) -> Safe:
    """``stages``: the declared stages the chooser offers; ``remote``: the
    registry's remote (commit links, and "Propose and push" when there is one)."""
    name, m = mv.name, ref.manifest
    artifacts = table(
        ("Path", "Size", "SHA-256", ""),
        [
            (
                link(artifact_href(name, mv.version, a.path), Safe(render("<code>$p</code>", p=a.path))),
                size(a.size),
                render('<code class="hash">$s</code>', s=a.sha256),
                link(artifact_href(name, mv.version, a.path, download=True), "Download", "download"),
            )
            for a in m.artifacts
        ],
        "artifacts",
    )
    dirty = {True: "yes (uncommitted changes when registered)", False: "no", None: "unknown"}[mv.git_dirty]
    provenance = table(
        ("", ""),
        [
            (
                "Training commit",
                commit_link(mv.git_remote, mv.git_commit, full=True) if mv.git_commit else "not recorded",
            ),
            ("Training remote", mv.git_remote or "not recorded"),
            ("Work tree dirty", dirty),
            ("Source", source_link(mv.source) or "—"),
            ("Run id", run_link(mv.run_id) or "—"),
            ("Registered by", mv.user_id),
            ("Registered at", when(mv.creation_timestamp)),
            ("Registry tag", render("<code>$t</code>", t=mv.tag)),
            ("Registry commit", commit_link(remote, mv.commit, full=True)),
            ("Flavor", mv.flavor),
        ],
        "kv provenance",
    )
    snips = [
        copyable("Model URI", snippets.uri, "snip-uri"),
        copyable("Load in Python", snippets.python, "snip-python"),
        copyable("Serve over HTTP", snippets.serve, "snip-serve"),
    ]
    if snippets.curl:
        snips.append(copyable("Score the input example", snippets.curl, "snip-curl"))
    actions = Safe("")
    if forms is not None:
        actions = join(
            [
                stage_forms(forms, mv, stages, pushable=remote is not None),
                alias_forms(forms, mv),
                metadata_forms(forms, url("models", name, "versions", mv.version), mv.description, mv.tags),
                delete_form(forms, url("models", name, "versions", mv.version), f"version {mv.version}"),
            ]
        )
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <a href="$model_url">$name</a> / <span>Version $v</span></nav>
<div class="page-head"><h1>$name <span class="version">version $v</span></h1><div>$badges</div></div>
$description<div class="chips">$tags</div>
<section class="card"><h2>Use this version</h2><div class="snippets">$snippets</div></section>
<div class="grid">
<div class="main-col">
<section class="card"><h2>Metrics</h2>$metrics</section>
<section class="card"><h2>Parameters</h2>$params</section>
<section class="card"><h2>Signature</h2>$signature</section>
<section class="card"><h2>Input example</h2>$example</section>
<section class="card"><h2>Artifacts</h2>$artifacts</section>
</div>
<div class="side-col">
<section class="card"><h2>Provenance</h2>$provenance</section>
$actions
</div></div>""",
        model_url=url("models", name),
        name=name,
        v=mv.version,
        badges=stage_badges(stages_of(mv)) or Safe('<span class="muted">In no stage</span>'),
        description=description_block(mv.description),
        tags=tag_chips(mv.tags),
        metrics=key_values({k: number(v) for k, v in mv.metrics.items()}, "No metrics recorded."),
        params=key_values(dict(mv.params), "No parameters recorded."),
        signature=signature_block(mv.signature),
        example=_example_block(example),
        artifacts=artifacts,
        snippets=join(snips),
        provenance=provenance,
        actions=actions,
    )
