"""The write forms and the confirmation step in front of the risky ones.

A move between stages, a demotion and a deletion are two POSTs: the first
(without ``confirm=yes``) answers with a page that says exactly what will
happen and carries the same fields plus ``confirm=yes``; only that second
POST writes. Plain HTML forms, so it works with JavaScript off.
"""

from __future__ import annotations

from gitreg.entities import ModelVersion
from gitreg.names import display_stage, is_fixed_stage
from gitreg.ui.html import Safe, badge, join, link, render, url
from gitreg.ui.pages.common import Forms, hidden

CONFIRM = "confirm"
YES = "yes"
NO_STAGE = "None"


def writer_note(writer: str, from_proxy: bool) -> Safe:
    """Whom a write is recorded as, said before anyone presses a button."""
    source = "the person your sign-in proxy names" if from_proxy else "this server's git identity"
    return render(
        '<p class="muted small writer">Changes are committed as <b>$who</b> ($source).</p>',
        who=writer,
        source=source,
    )


def confirm_page(forms: Forms, action: str, question: str, fields: dict[str, str], button: str, back: str) -> Safe:
    """Ask before writing: the same POST again with ``confirm=yes``."""
    inner = hidden(**{k: v for k, v in fields.items() if k != CONFIRM}, **{CONFIRM: YES})
    return render(
        '<section class="card confirm"><h1>Please confirm</h1><p class="question">$q</p>$form'
        '<p><a href="$back">Cancel</a></p></section>',
        q=question,
        form=forms.form(action, inner, button, cls="inline", button_cls="danger confirm-button"),
        back=back,
    )


def stage_forms(forms: Forms, mv: ModelVersion, stages: list[str], *, pushable: bool) -> Safe:
    """Move the version to one of the registry's declared stages (or to None), or propose it.
    ``stages`` are branch names; the chooser shows MLflow's spelling."""
    action = url("models", mv.name, "versions", mv.version)
    current = mv.current_stage
    options = join(
        render('<option value="$v"$sel>$s</option>', v=s, s=s, sel=Safe(" selected" if s == current else ""))
        for s in [*(display_stage(st) for st in stages), NO_STAGE]
    )
    push = (
        Safe('<button type="submit" name="action" value="propose_push" class="secondary">Propose and push</button>')
        if pushable
        else Safe("")
    )
    fields = render(
        '<label>Stage <select name="stage" aria-label="Stage">$o</select></label>'
        '<label class="check"><input type="checkbox" name="archive_existing" value="1"> '
        "Archive the version the stage held</label>"
        '<div class="buttons"><button type="submit" name="action" value="promote">Move…</button>'
        '<button type="submit" name="action" value="propose" class="secondary">Propose for review</button>$push</div>'
        '<p class="muted small">Move asks for confirmation, then commits on the stage branch. Propose puts the '
        "change on a branch <code>promote/STAGE/MODEL-vN</code> for a pull request$pushed.</p>",
        o=options,
        push=push,
        pushed=" (Propose and push also pushes it to the registry's remote)" if pushable else "",
    )
    demote = Safe("")
    if current != NO_STAGE:
        demote = forms.form(
            action,
            hidden(action="promote", stage=NO_STAGE),
            f"Demote (leave {current})…",
            cls="inline",
            button_cls="danger small demote",
        )
    return render(
        '<section class="card actions"><h2>Stage</h2>$f$d</section>',
        f=forms.form(action, fields, "", cls="stack"),
        d=demote,
    )


def alias_forms(forms: Forms, mv: ModelVersion) -> Safe:
    """Aliases set and removed one by one, apart from the stage chooser."""
    action = url("models", mv.name, "versions", mv.version)
    rows = join(
        forms.form(
            action,
            render("$h$b", h=hidden(action="delete_alias", alias=a), b=badge(a)),
            "Remove",
            cls="inline alias-row",
            button_cls="danger small",
        )
        for a in mv.aliases
        if not is_fixed_stage(a)
    )
    add = forms.form(
        action,
        render(
            '$h<label>Alias <input name="alias" required placeholder="champion" pattern="[A-Za-z0-9._-]+"></label>',
            h=hidden(action="set_alias"),
        ),
        "Set alias",
        cls="inline",
    )
    return render(
        '<section class="card actions"><h2>Aliases</h2>$rows$add'
        '<p class="muted small">An alias names this version (<code>models:/$name@ALIAS</code>) and moves to '
        "whichever version you set it on.</p></section>",
        rows=rows or Safe('<p class="muted">No aliases.</p>'),
        add=add,
        name=mv.name,
    )


def delete_form(forms: Forms, action: str, what: str) -> Safe:
    return render(
        '<section class="card danger-zone"><h2>Delete</h2>$f</section>',
        f=forms.form(action, hidden(action="delete"), f"Delete {what}…", cls="inline", button_cls="danger"),
    )


def pushed_note(branch: str, remote: str, pull_request: str | None) -> Safe:
    """What a "Propose and push" did, with the forge's pull-request page when it has one."""
    if pull_request:
        return render(
            'Pushed $b to $r. <a class="pull-request" href="$u" rel="noreferrer">Open the pull request</a>',
            b=branch,
            r=remote,
            u=pull_request,
        )
    return render("Pushed $b to $r; open a pull request from it into its stage branch.", b=branch, r=remote)


def back_link(href: str, text: str) -> Safe:
    return link(href, text)
