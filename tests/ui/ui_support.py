"""What the UI tests share: a registry built for them and a real ``gitreg ui`` process
(:mod:`helpers.ui_process`, re-exported here)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.ui_process import start_ui, stop

import gitreg
import gitreg.sklearn
from gitreg import saving
from gitreg.registry import Registry

__all__ = ["MODEL", "OTHER", "UiServer", "build_large_registry", "build_registry", "register_iris", "start_ui", "stop"]

MODEL = "iris-classifier"
OTHER = "churn.model"


def build_registry(root: Path, model: object) -> Registry:
    """Two models with several versions, stages, an alias, tags and
    descriptions, plus one logged model that is not registered yet."""
    import pandas as pd

    reg = Registry.init(root / "registry")
    gitreg.set_registry(reg.path)
    saved = register_iris(reg, model, root, "Classifies iris flowers.\nTrained on the seed data.")
    for auc in (0.7, 0.75):
        saving.register(saved, OTHER, metrics={"auc": auc}, registry=reg, quiet=True)
    reg.set_model_tag(OTHER, "team", "growth")
    reg.promote(OTHER, 1, "Production")
    with gitreg.start_run():
        gitreg.log_metric("accuracy", 0.93)
        gitreg.sklearn.log_model(model, "model", input_example=pd.DataFrame({"x": [0.0]}))
    return reg


def register_iris(reg: Registry, model: object, root: Path, description: str) -> Path:
    """:data:`MODEL` in ``reg`` as the UI tests check it and the README's screenshots
    (scripts/ui_screenshots.py) show it: ``model`` saved under ``root``, registered four times
    (accuracy and f1 rising to v3, accuracy dipping at v4), ``description`` and tag team=vision,
    v3 described and tagged validated=yes, v2 then v4 in Staging, v3 in Production and
    @champion. Returns the saved model's directory, for more registrations."""
    import pandas as pd

    saved = root / "saved"
    gitreg.sklearn.save_model(model, saved, input_example=pd.DataFrame({"x": [1.0, -1.0, 0.5]}))
    for accuracy, f1 in ((0.81, 0.78), (0.86, 0.83), (0.91, 0.88), (0.89, 0.9)):
        saving.register(
            saved,
            MODEL,
            metrics={"accuracy": accuracy, "f1": f1},
            params={"C": "1.0", "max_iter": "100"},
            run_id="0123456789abcdef",
            registry=reg,
            quiet=True,
        )
    reg.update_model(MODEL, description)
    reg.set_model_tag(MODEL, "team", "vision")
    reg.update_version(MODEL, 3, description="Best accuracy so far.", tags={"validated": "yes"})
    reg.promote(MODEL, 2, "Staging")
    reg.promote(MODEL, 3, "Production")
    reg.promote(MODEL, 4, "Staging")
    reg.set_alias(MODEL, "champion", 3)
    return saved


@dataclass
class UiServer:
    url: str
    registry: Registry
    process: subprocess.Popen[str]


def build_large_registry(path: Path, models: int, versions: int) -> Registry:
    """A registry of ``models`` x ``versions`` written straight into the object
    store in one ref transaction: each version is a tag on a commit holding its
    ``models/<name>/`` subtree, main holds every record and latest subtree, and
    Production/Staging hold versions ``versions - 2`` and ``versions``. It
    reads like a registry built by ``Registry.register`` (what the UI reads),
    without one ref transaction per version; its history is not linear."""
    from gitreg.manifest import Artifact, Manifest, ModelRecord, Provenance
    from gitreg.registry import MAIN, stage_ref, tag_ref
    from gitreg.store import MODE_FILE, MODE_TREE, RefUpdate

    reg = Registry.init(path, bare=True)
    store = reg.store
    blob = store.write_blob(b"not really a pickle")
    artifact = Artifact("model.pkl", "0" * 64, 19)
    updates: list[RefUpdate] = []
    main_changes: dict[str, tuple[str, str] | None] = {}
    stage_changes: dict[str, dict[str, tuple[str, str] | None]] = {"production": {}, "staging": {}}
    now = int(time.time() * 1000)
    for m in range(models):
        name = f"model-{m:04d}"
        subtrees = {}
        for v in range(1, versions + 1):
            manifest = Manifest(
                name=name,
                version=v,
                flavor="sklearn",
                artifacts=(artifact,),
                provenance=Provenance(author="Bench <bench@example.com>", created=now + v, run_id=f"run{m}x{v}"),
                metrics={"accuracy": 0.5 + v / (2 * versions), "f1": 0.4 + v / (3 * versions)},
                params={"C": str(v)},
            )
            subtree = store.edit_tree(
                None,
                {
                    "gitreg.yaml": (MODE_FILE, store.write_blob(manifest.to_yaml().encode())),
                    "model.pkl": (MODE_FILE, blob),
                },
            )
            subtrees[v] = subtree
            root = store.edit_tree(None, {f"models/{name}": (MODE_TREE, subtree)})
            commit = store.write_commit(root, [], f"Register {name} version {v}")
            updates.append(
                RefUpdate(
                    tag_ref(name, v), store.write_tag(commit, f"{name}/v{v}", f"Register {name} version {v}"), None
                )
            )
        record = ModelRecord(
            name=name,
            created=now,
            next_version=versions + 1,
            description=f"Model number {m}.",
            tags={"team": f"team-{m % 7}"},
        )
        main_changes[f"models/{name}.yaml"] = (MODE_FILE, store.write_blob(record.to_yaml().encode()))
        main_changes[f"models/{name}"] = (MODE_TREE, subtrees[versions])
        stage_changes["production"][f"models/{name}"] = (MODE_TREE, subtrees[max(1, versions - 2)])
        stage_changes["staging"][f"models/{name}"] = (MODE_TREE, subtrees[versions])
    head = store.ref(MAIN)
    assert head is not None
    main_tree = store.edit_tree(store.commit_tree(head), main_changes)
    updates.append(RefUpdate(MAIN, store.write_commit(main_tree, [head], f"Register {models} models"), head))
    for stage, changes in stage_changes.items():
        updates.append(RefUpdate(stage_ref(stage), store.write_commit(store.edit_tree(None, changes), [], stage), None))
    store.update_refs(updates, "build large registry")
    store.git("pack-refs", "--all")
    return reg
