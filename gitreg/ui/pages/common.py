"""What several pages share: forms carrying the CSRF token, badges, chips,
metadata edit forms, signature tables, the error page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitreg.entities import ModelVersion
from gitreg.names import display_stage
from gitreg.signature import Schema, Signature, TensorSpec
from gitreg.ui.csrf import FIELD
from gitreg.ui.html import Safe, badge, join, render, table
from gitreg.ui.markdown import render_markdown

KEY_METRICS = 3


@dataclass(frozen=True)
class Forms:
    """Builds POST forms carrying this browser's CSRF token."""

    token: str

    def form(self, action: str, inner: Safe, button: str, *, cls: str = "", button_cls: str = "") -> Safe:
        return render(
            '<form method="post" action="$action" class="$cls">'
            '<input type="hidden" name="$field" value="$token">$inner$button</form>',
            action=action,
            field=FIELD,
            token=self.token,
            inner=inner,
            button=render('<button type="submit" class="$bcls">$label</button>', bcls=button_cls, label=button)
            if button
            else Safe(""),
            cls=cls,
        )


def hidden(**fields: object) -> Safe:
    return join(render('<input type="hidden" name="$k" value="$v">', k=k, v=v) for k, v in fields.items())


def stage_badges(stages: Sequence[str]) -> Safe:
    return join((badge(display_stage(s)) for s in stages), " ")


def short(commit: str | None) -> Safe:
    if not commit:
        return Safe("")
    return render('<code title="$full">$short</code>', full=commit, short=commit[:7])


def person(who: str) -> str:
    """``Name <email>`` shown as the name (the email is in the title)."""
    return who.split(" <", 1)[0] if " <" in who else who


def first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def tag_chips(tags: dict[str, str]) -> Safe:
    return join(
        (
            render('<span class="chip"><b>$k</b>$sep$v</span>', k=k, sep="=" if v else "", v=v)
            for k, v in sorted(tags.items())
        ),
        " ",
    )


def description_block(description: str) -> Safe:
    if not description.strip():
        return Safe('<p class="muted">No description.</p>')
    return render('<div class="description markdown">$d</div>', d=render_markdown(description))


def stages_of(v: ModelVersion) -> list[str]:
    return ([v.current_stage.lower()] if v.current_stage != "None" else []) + list(v.aliases)


def metadata_forms(forms: Forms, action: str, description: str, tags: dict[str, str]) -> Safe:
    desc = forms.form(
        action,
        render(
            '$h<label for="description">Description</label>'
            '<textarea id="description" name="description" rows="3">$d</textarea>',
            h=hidden(action="description"),
            d=description,
        ),
        "Save description",
        cls="stack",
    )
    set_tag = forms.form(
        action,
        render(
            '$h<label>Key <input name="key" required></label><label>Value <input name="value"></label>',
            h=hidden(action="set_tag"),
        ),
        "Set tag",
        cls="inline",
    )
    drops = join(
        forms.form(
            action,
            render('$h<span class="chip"><b>$k</b>=$v</span>', h=hidden(action="delete_tag", key=k), k=k, v=v),
            "Delete",
            cls="inline tag-row",
            button_cls="danger small",
        )
        for k, v in sorted(tags.items())
    )
    return render(
        '<section class="card actions"><h2>Edit</h2>$desc<h3>Tags</h3>$drops$set</section>',
        desc=desc,
        drops=drops,
        set=set_tag,
    )


def schema_table(schema: Schema | None) -> Safe:
    if schema is None:
        return Safe('<p class="muted">Not recorded.</p>')
    if isinstance(schema, TensorSpec):
        return table(("Type", "Shape"), [(f"tensor ({schema.dtype})", str(list(schema.shape)))], "schema")
    rows = [(c.name or "—", c.type, "yes" if c.required else "no") for c in schema]
    return table(("Column", "Type", "Required"), rows, "schema")


def signature_block(signature: Signature | None) -> Safe:
    if signature is None:
        return Safe('<p class="muted">No signature recorded.</p>')
    return render(
        '<div class="two"><div><h3>Inputs</h3>$i</div><div><h3>Outputs</h3>$o</div></div>',
        i=schema_table(signature.inputs),
        o=schema_table(signature.outputs),
    )


def error_page(status: int, title: str, message: str) -> Safe:
    return render(
        '<div class="error-page"><p class="status">$s</p><h1>$t</h1><p>$m</p>'
        '<p><a href="/">Back to the models</a></p></div>',
        s=status,
        t=title,
        m=message,
    )
