"""The rules on each version tag: what it holds, that it never moved, its artifacts and the files its MLmodel names."""

from __future__ import annotations

from gitreg.audit.findings import Rule
from gitreg.audit.state import Audit, Tag
from gitreg.errors import InvalidInputError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.registry import layout
from gitreg.store import lfs


def check_tag(run: Audit, tag: Tag, record: ModelRecord | None, main_commits: set[str], trusted: str) -> None:
    """The tag holds ``models/<name>/`` of its model and version, was not moved, and its artifacts
    match; fills in ``tag.tree`` and ``tag.manifest`` for the branch rules."""
    where = layout.at(tag.short, layout.version_dir(tag.name)) + "/"
    tree = run.store.tree_oid(layout.at(tag.commit, layout.version_dir(tag.name)))
    if tree is None:
        run.add(tag.name, tag.version, where, Rule.TAG_CONTENT, f"tag {tag.short} does not contain models/{tag.name}/.")
        return
    tag.tree = tree
    manifest = run.manifest(tree, where + MANIFEST_FILE, tag.name, tag.version)
    if manifest is not None and (manifest.name != tag.name or manifest.version != tag.version):
        run.add(
            tag.name,
            tag.version,
            where + MANIFEST_FILE,
            Rule.TAG_CONTENT,
            f"tag {tag.short} holds {manifest.name!r} version {manifest.version}, not {tag.name!r} "
            f"version {tag.version}.",
        )
        manifest = None
    tag.manifest = manifest
    check_tag_not_moved(run, tag, record, main_commits, trusted)
    if manifest is not None:
        check_artifacts(run, tree, manifest, where, tag.name, tag.version)


def check_tag_not_moved(run: Audit, tag: Tag, record: ModelRecord | None, main_commits: set[str], trusted: str) -> None:
    """A tag was moved if (a) its ``models/<name>/`` tree differs from the
    tree the model's record on main says the version was registered with,
    or (b) it points at a commit outside main's history.

    Why this design: the evidence lives on ``main``, which a tag move can't
    rewrite (changing it needs a reviewed commit on a protected branch),
    and it costs nothing per tag: the record is read once per model and
    main's history once. (a) catches a tag moved to other content even
    inside main's history (``git tag -f m/v1 <v2's commit>``); (b) covers
    versions registered before records carried the tree, and a tag moved
    to a commit forged off to the side. A tag moved to another commit of
    main with the very same subtree is not reported: its content, which is
    what a version is, did not change.
    """
    recorded = record.registered.get(tag.version) if record is not None else None
    if recorded is not None and tag.tree is not None and recorded != tag.tree:
        run.add(
            tag.name,
            tag.version,
            tag.short,
            Rule.TAG_MOVED,
            f"tag {tag.short} now holds tree {tag.tree[:12]}, but version {tag.version} was registered with "
            f"tree {recorded[:12]} (models/{tag.name}.yaml on {trusted}); restore the tag or investigate.",
        )
    elif main_commits and tag.commit not in main_commits:
        run.add(
            tag.name,
            tag.version,
            tag.short,
            Rule.TAG_MOVED,
            f"tag {tag.short} points at commit {tag.commit[:12]}, which is not in main's history; "
            "versions are registered on main, so the tag was moved or forged.",
        )


def check_artifacts(run: Audit, tree: str, manifest: Manifest, where: str, name: str, version: int) -> None:
    """Every artifact the manifest lists is there with its sha256 and size, and nothing else is (once per tree)."""
    if tree in run.checked_trees:
        return
    run.checked_trees.add(tree)
    files = run.files(tree)
    check_artifact_paths(run, files, manifest, where, name, version)
    for art in manifest.artifacts:
        blob = files.pop(art.path, None)
        digest = run.digest(blob) if blob else None
        if digest is None:
            run.add(name, version, where + art.path, Rule.ARTIFACT, "listed in the manifest but missing.")
        elif digest != (art.sha256, art.size):
            run.add(
                name,
                version,
                where + art.path,
                Rule.ARTIFACT,
                f"sha256 {digest[0][:12]}… size {digest[1]} but the manifest says sha256 {art.sha256[:12]}… "
                f"size {art.size}: the file was changed after registration.",
            )
    files.pop(MANIFEST_FILE, None)
    for extra in sorted(files):
        run.add(name, version, where + extra, Rule.ARTIFACT, "file is not listed in the manifest.")


def check_artifact_paths(
    run: Audit, files: dict[str, str], manifest: Manifest, where: str, name: str, version: int
) -> None:
    """What ``MLmodel`` names must be an artifact: a loader opens nothing else
    (:func:`gitreg.flavors.loading.artifact_path`), so such a version cannot load."""
    from gitreg.flavors.loading import artifact_name
    from gitreg.flavors.mlmodel import MLMODEL, MLModel

    raw = run.store.read_blob(files[MLMODEL]) if MLMODEL in files else None
    if raw is None or lfs.parse_pointer(raw):
        return
    try:
        mlmodel = MLModel.from_yaml(raw, where + MLMODEL)
    except InvalidInputError as exc:
        run.add(name, version, where + MLMODEL, Rule.ARTIFACT_PATH, f"the files it names cannot be told: {exc}")
        return
    listed = {a.path for a in manifest.artifacts}
    for key, rel in mlmodel.named_paths():
        if artifact_name(rel, listed, tree=True) is None:
            run.add(
                name,
                version,
                where + MLMODEL,
                Rule.ARTIFACT_PATH,
                f"{key} is {rel!r}, which is not one of the version's artifacts; loading it is refused. "
                "Register a version whose MLmodel names only its own files.",
            )
