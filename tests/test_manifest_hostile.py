"""Broken and hostile manifests are refused with an error naming the file:
corrupt YAML, custom tags (never constructed), missing and mistyped fields,
artifact paths leaving the model directory; also when crafted into a tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.errors import GitregError, InvalidInputError
from gitreg.manifest import Manifest, ModelRecord
from gitreg.registry import Package, Registry
from gitreg.store import MODE_FILE, MODE_TREE, RefUpdate

GOOD = """format: 1
name: m
version: 1
flavor: sklearn
created: 1
author: a
artifacts:
- {path: model.pkl, sha256: '%s', size: 1}
""" % ("0" * 64)
WHERE = "models/m/gitreg.yaml"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("format: 1\nname: [unclosed\n", ["invalid YAML", "line"]),
        ("\x00\x01", ["invalid YAML"]),
        ("- a list\n", ["expected a YAML mapping"]),
        (GOOD.replace("name: m", "name: !!python/object/apply:os.mkdir ['MARKER']"), ["invalid YAML"]),
        (GOOD.replace("name: m", "name: !!python/name:os.system"), ["invalid YAML"]),
        (GOOD.replace("format: 1", "format: 2"), ["unsupported manifest format"]),
        (GOOD.replace("version: 1", "version: one"), ["'version'"]),
        (GOOD.replace("version: 1", "version: true"), ["'version'"]),
        (GOOD.replace("name: m\n", ""), ["'name'"]),
        (GOOD.replace("name: m", "name: ../../etc"), ["Invalid model name"]),
        (GOOD.replace("path: model.pkl", "path: ../../../etc/passwd"), ["must stay inside the model directory"]),
        (GOOD.replace("path: model.pkl", "path: /etc/passwd"), ["must stay inside"]),
        (GOOD.replace("path: model.pkl", "path: a\\\\b"), ["relative path"]),
        (GOOD.replace("path: model.pkl", "path: .git/config"), ["must stay inside"]),
        (GOOD.replace("sha256: '" + "0" * 64 + "'", "sha256: '12'"), ["sha256"]),
        (GOOD.replace("size: 1", "size: '1'"), ["size"]),
        (
            GOOD.replace("artifacts:\n- {path: model.pkl, sha256: '%s', size: 1}\n" % ("0" * 64), "artifacts: []\n"),
            ["non-empty"],
        ),
        (GOOD + "input_example: ../x.json\n", ["input_example", "inside"]),
        (GOOD + "metrics: {acc: high}\n", ["metric 'acc'"]),
        (GOOD + "git: [1]\n", ["'git' must be a mapping"]),
    ],
)
def test_bad_manifest_is_refused_naming_the_file(text: str, words: list[str], tmp_path: Path):
    marker = tmp_path / "constructed"
    with pytest.raises(InvalidInputError) as info:
        Manifest.from_yaml(text.replace("MARKER", str(marker)), WHERE)
    message = str(info.value)
    assert message.startswith(WHERE), message
    for w in words:
        assert w in message, message
    assert not marker.exists()  # the safe loader constructed nothing


def test_good_manifest_parses():
    assert Manifest.from_yaml(GOOD, WHERE).artifacts[0].path == "model.pkl"


@pytest.mark.parametrize("text", ["name: m\nnext_version: 0\n", "name: m\nnext_version: 1\ndeleted: x\n", "[]"])
def test_bad_model_record_is_refused_naming_the_file(text: str):
    with pytest.raises(InvalidInputError, match=r"^models/m\.yaml: "):
        ModelRecord.from_yaml(text, "models/m.yaml")


def test_tag_with_a_crafted_corrupt_manifest_is_refused_naming_it(bare_registry: Registry, tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.pkl").write_bytes(b"x")
    reg = bare_registry
    reg.register("m", Package(src, ("model.pkl",), "python_function"))
    ref = reg.version_ref("m", 1)
    bad = reg.store.write_blob(b"format: 1\nname: !!python/object/apply:os.system ['true']\n")
    subtree = reg.store.edit_tree(ref.tree, {"gitreg.yaml": (MODE_FILE, bad)})
    root = reg.store.edit_tree(reg.store.commit_tree(ref.commit), {"models/m": (MODE_TREE, subtree)})
    commit = reg.store.write_commit(root, [ref.commit], "crafted")
    tag = reg.store.write_tag(commit, "m/v1", "crafted")
    reg.store.update_refs([RefUpdate("refs/tags/m/v1", tag, reg.store.ref("refs/tags/m/v1"))])
    with pytest.raises(GitregError, match=r"m/v1:models/m/gitreg.yaml: invalid YAML"):
        reg.version_ref("m", 1)
