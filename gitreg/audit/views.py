"""The rules on main and each stage: every ``models/<name>/`` is its tag's, is live, has a record and a valid name."""

from __future__ import annotations

from gitreg.audit.findings import Rule
from gitreg.audit.state import Audit, Tag
from gitreg.errors import InvalidInputError
from gitreg.manifest import MANIFEST_FILE, ModelRecord
from gitreg.names import check_model_name
from gitreg.registry import layout
from gitreg.registry.reader import is_live


def check_view(
    run: Audit, rev: str, label: str, records: dict[str, ModelRecord], rule: Rule, only: set[str] | None = None
) -> dict[str, Tag]:
    """Check each ``models/<name>/`` of ``rev`` against its tag; returns
    the tags of the versions it holds (those that check out)."""
    held: dict[str, Tag] = {}
    for entry in sorted(run.models(rev).values(), key=lambda e: e.name):
        if not entry.is_tree or (only is not None and entry.name not in only):
            continue
        name, where = entry.name, layout.at(label, layout.version_dir(entry.name)) + "/"
        manifest = run.manifest(entry.oid, where + MANIFEST_FILE, name, None)
        if manifest is None:
            continue
        version = manifest.version
        if manifest.name != name:
            run.add(name, version, where + MANIFEST_FILE, rule, f"manifest names model {manifest.name!r}.")
            continue
        tag = run.refs.tags.get((name, version))
        record = records.get(name)
        if rule == Rule.STAGE_SUBTREE and (record is None or not is_live(record, version)):
            _stale(run, name, version, where, label, record)
            continue
        if tag is None or tag.tree is None:
            run.add(name, version, where, rule, f"names version {version} but tag {name}/v{version} is missing.")
            continue
        if record is not None and version in record.deleted:
            run.add(name, version, where, rule, f"holds version {version}, which was deleted.")
        if entry.oid != tag.tree:
            differences = ", ".join(run.tree_differences(tag.tree, entry.oid)) or "tree differs"
            run.add(
                name,
                version,
                where,
                rule,
                f"says version {version} but differs from tag {tag.short} ({differences}).",
            )
            continue
        held[name] = tag
    return held


def _stale(run: Audit, name: str, version: int, where: str, label: str, record: ModelRecord | None) -> None:
    """A stage entry no reader uses: a crash between a delete's two steps (main, then the
    stages) leaves one. A demote or the next promotion clears it while the model has a record."""
    stage = label.rsplit(layout.STAGE_BRANCH_PREFIX, 1)[-1]
    if record is None:
        why = f"model {name!r} has no record on main (it was deleted)"
        fix = (
            f"remove it with a commit on stages/{stage} that deletes models/{name}/ "
            f"(git rm -r models/{name}), or register {name} again and run 'gitreg demote {name} {stage}'"
        )
    else:
        if version in record.deleted:
            why = f"version {version} was deleted"
        else:
            why = f"version {version} is not registered on main (the next version is {record.next_version})"
        fix = f"clear it with 'gitreg demote {name} {stage}' (the next promotion of {name} to {stage} does too)"
    run.add(
        name,
        version,
        where,
        Rule.STAGE_STALE,
        f"holds version {version} but {why}; readers ignore it. To tidy, {fix}.",
    )


def check_orphans(run: Audit, rev: str, label: str, records: dict[str, ModelRecord]) -> None:
    """A version directory on main whose record is missing: e.g. left by an old gitreg when a
    model named ``<name>.yaml`` wrote its version directory over ``<name>``'s record."""
    models = run.models(rev)
    for entry in sorted(models.values(), key=lambda e: e.name):
        clash = models.get(f"{entry.name}.yaml")
        if not entry.is_tree or entry.name in records or (clash is not None and not clash.is_tree):
            continue  # a record that does not parse is a schema finding already
        over = ""
        if clash is not None and clash.is_tree:
            over = f" (models/{entry.name}.yaml is the version directory of a model named '{entry.name}.yaml')"
        run.add(
            entry.name,
            None,
            layout.at(label, layout.version_dir(entry.name)) + "/",
            Rule.ORPHAN_VERSION,
            f"main holds a version directory for {entry.name!r} but no record models/{entry.name}.yaml{over}; "
            "gitreg does not list the model. Restore the record from history "
            f"(git log -- models/{entry.name}.yaml) "
            "or remove the directory with a commit.",
        )


def check_names(run: Audit, main: str | None) -> None:
    """Every model name the registry holds (records and version directories on main, stage
    entries, tags) must pass today's name rules; the first place each bad name is seen is reported."""
    seen: dict[str, str] = {}
    branches = [(main, layout.short_ref(main or "main")), *((b, layout.short_ref(b)) for b in run.refs.stages.values())]
    for rev, label in branches:
        for entry in run.models(rev).values():
            name = entry.name if entry.is_tree else layout.record_name(entry.name)
            if name is not None:
                seen.setdefault(
                    name, layout.at(label, f"{layout.MODELS_DIR}/{entry.name}{'/' if entry.is_tree else ''}")
                )
    for tag in run.refs.tags.values():
        seen.setdefault(tag.name, tag.ref)
    for name, where in sorted(seen.items()):
        try:
            check_model_name(name)
        except InvalidInputError as exc:
            run.add(
                name,
                None,
                where,
                Rule.MODEL_NAME,
                f"{exc} An older gitreg accepted it; its files may overwrite another model's. Re-register the "
                "versions under a valid name and delete this one with git.",
            )
