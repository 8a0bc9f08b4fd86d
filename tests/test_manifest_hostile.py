"""Broken and hostile manifests are refused with an error naming the file:
corrupt YAML, custom tags (never constructed), missing and mistyped fields,
artifact paths leaving the model directory; also when crafted into a tag."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitreg import testing, yamlio
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


# -- every field typed, every YAML problem named (issue "Hostile manifests") ----------------------------------

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)
DIGEST = "ab" * 32
TREE = "cd" * 20


def full_manifest() -> dict[str, Any]:
    """A manifest using every field, as gitreg writes one."""
    return {
        "format": 1,
        "name": "m",
        "version": 3,
        "flavor": "sklearn",
        "created": 1700000000000,
        "author": "A <a@example.com>",
        "run_id": "r1",
        "source": "runs:/r1/model",
        "git": {"commit": "f" * 40, "remote": "https://example.com/x.git", "dirty": False},
        "metrics": {"acc": 0.9, "n": 3},
        "params": {"C": "1.0", "solver": "lbfgs"},
        "signature": {"inputs": [{"type": "double", "name": "x"}], "outputs": None},
        "input_example": "input_example.json",
        "artifacts": [
            {"path": "model.pkl", "sha256": DIGEST, "size": 1},
            {"path": "input_example.json", "sha256": DIGEST, "size": 0},
        ],
    }


def full_record() -> dict[str, Any]:
    return {
        "name": "m",
        "created": 1700000000000,
        "next_version": 3,
        "description": "d",
        "tags": {"team": "ml"},
        "versions": {1: {"description": "v1", "tags": {"k": "v"}}},
        "deleted": [2],
        "registered": {1: TREE},
    }


def edited(data: dict[str, Any], path: str, value: object) -> str:
    """``data`` as YAML with the field at ``path`` (dots; a number indexes a list) set to ``value``."""
    *parents, last = path.split(".")
    node: Any = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[int(last) if isinstance(node, list) else last] = value
    return yamlio.dump(data)


def test_a_manifest_using_every_field_reads_back_what_it_wrote():
    manifest = Manifest.from_yaml(yamlio.dump(full_manifest()), WHERE)
    assert manifest.metrics == {"acc": 0.9, "n": 3.0} and manifest.provenance.git_dirty is False
    assert Manifest.from_yaml(manifest.to_yaml(), WHERE) == manifest


MANIFEST_FIELDS = [
    ("format", True, "format"),
    ("format", "1", "format"),
    ("format", 1.0, "format"),
    ("name", ["m"], "'name'"),
    ("name", 5, "'name'"),
    ("version", True, "'version'"),
    ("version", "3", "'version'"),
    ("version", 3.0, "'version'"),
    ("version", 0, "'version'"),
    ("version", [3], "'version'"),
    ("flavor", None, "'flavor'"),
    ("flavor", "", "'flavor'"),
    ("flavor", {"a": 1}, "'flavor'"),
    ("created", "yesterday", "'created'"),
    ("created", -1, "'created'"),
    ("created", 1.5, "'created'"),
    ("author", ["a"], "'author'"),
    ("author", None, "'author'"),
    ("source", ["x"], "'source'"),
    ("source", {"a": [1, 2]}, "'source'"),
    ("run_id", [1], "'run_id'"),
    ("run_id", True, "'run_id'"),
    ("git", "x", "'git'"),
    ("git.commit", [1], "'git.commit'"),
    ("git.remote", {"a": 1}, "'git.remote'"),
    ("git.dirty", "yes", "'git.dirty'"),
    ("metrics", [1], "metrics"),
    ("metrics.acc", {"x": 1}, "metric 'acc'"),
    ("metrics.acc", [1], "metric 'acc'"),
    ("metrics.acc", True, "metric 'acc'"),
    ("metrics.acc", "0.9", "metric 'acc'"),
    ("metrics.acc", float("nan"), "metric 'acc'"),
    ("metrics.acc", float("-inf"), "metric 'acc'"),
    ("metrics", {"": 1.0}, "metric names"),
    ("metrics", {None: 1.0}, "metric names"),
    ("params", "C=1", "params"),
    ("params.C", [1], "param 'C'"),
    ("params.C", {"a": 1}, "param 'C'"),
    ("params.C", None, "param 'C'"),
    ("signature", [1], "signature"),
    ("signature", "x", "signature"),
    ("signature.inputs", "not json", "signature.inputs"),
    ("signature.inputs", "[" * 100_000 + "]" * 100_000, "signature.inputs"),
    ("signature.inputs", "[" + "1" * 5000 + "]", "signature.inputs"),
    ("signature.inputs", [{"type": "nope"}], "signature.inputs[0]"),
    ("signature.inputs", [{"type": "double", "name": ["x"]}], "signature.inputs[0]"),
    ("signature.inputs", [{"type": "double", "required": "no"}], "signature.inputs[0]: 'required'"),
    ("signature.inputs", [{"type": "tensor", "tensor-spec": [1]}], "tensor spec"),
    ("signature.inputs", [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": ["a"]}}], "shape"),
    ("signature.inputs", [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [1.5]}}], "shape"),
    ("signature.inputs", [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [True]}}], "shape"),
    ("signature.outputs", {"a": 1}, "signature.outputs"),
    ("artifacts", {"model.pkl": DIGEST}, "'artifacts'"),
    ("artifacts.0", "model.pkl", "artifacts[0]"),
    ("artifacts.0.path", ["model.pkl"], "artifacts[0]"),
    ("artifacts.0.sha256", 123, "artifacts[0] (model.pkl): 'sha256'"),
    ("artifacts.0.sha256", "z" * 64, "artifacts[0] (model.pkl): 'sha256'"),
    ("artifacts.0.sha256", [DIGEST], "artifacts[0] (model.pkl): 'sha256'"),
    ("artifacts.0.size", -1, "artifacts[0] (model.pkl): 'size'"),
    ("artifacts.0.size", 1.5, "artifacts[0] (model.pkl): 'size'"),
    ("artifacts.0.size", True, "artifacts[0] (model.pkl): 'size'"),
    ("artifacts.0.size", {"a": 1}, "artifacts[0] (model.pkl): 'size'"),
    ("artifacts.1.path", "model.pkl", "'model.pkl' is listed twice"),
    ("input_example", ["x"], "input_example"),
]


@pytest.mark.parametrize(("path", "value", "words"), MANIFEST_FIELDS)
def test_a_mistyped_manifest_field_is_refused_naming_the_file_and_field(path: str, value: object, words: str):
    with pytest.raises(InvalidInputError) as info:
        Manifest.from_yaml(edited(full_manifest(), path, value), WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: ") and words in message, message
    assert len(message) < 400, message


RECORD = "models/m.yaml"
RECORD_FIELDS = [
    ("name", ["m"], "'name'"),
    ("name", "../x", "Invalid model name"),
    ("next_version", True, "'next_version'"),
    ("next_version", "3", "'next_version'"),
    ("next_version", 0, "'next_version'"),
    ("next_version", 2.5, "'next_version'"),
    ("created", "x", "'created'"),
    ("created", -1, "'created'"),
    ("description", ["x"], "'description'"),
    ("description", {"a": 1}, "'description'"),
    ("tags", [1], "'tags'"),
    ("tags.team", ["ml"], "'tags'"),
    ("tags.team", {"a": 1}, "'tags'"),
    ("tags", {"": "v"}, "'tags'"),
    ("versions", [1], "'versions'"),
    ("versions", {"one": {}}, "'versions'"),
    ("versions", {True: {}}, "'versions'"),
    ("versions.1", [1], "'versions'"),
    ("versions.1.description", [1], "'versions.1.description'"),
    ("versions.1.tags", [1], "'versions.1.tags'"),
    ("versions.1.tags.k", {"a": 1}, "'versions.1.tags'"),
    ("deleted", "2", "'deleted'"),
    ("deleted", [True], "'deleted'"),
    ("deleted", [0], "'deleted'"),
    ("deleted", ["2"], "'deleted'"),
    ("registered", [1], "'registered'"),
    ("registered", {1: "abc"}, "'registered'"),
    ("registered", {1: 5}, "'registered'"),
    ("registered", {1: "z" * 40}, "'registered'"),
    ("registered", {True: TREE}, "'registered'"),
]


def test_a_record_using_every_field_reads_back_what_it_wrote():
    record = ModelRecord.from_yaml(yamlio.dump(full_record()), RECORD)
    assert record.version_notes(1).tags == {"k": "v"} and record.deleted == (2,)
    assert ModelRecord.from_yaml(record.to_yaml(), RECORD) == record


@pytest.mark.parametrize(("path", "value", "words"), RECORD_FIELDS)
def test_a_mistyped_record_field_is_refused_naming_the_file_and_field(path: str, value: object, words: str):
    data = full_record()
    if path.startswith("versions.1"):
        path = path.replace("versions.1", "versions.V", 1)
        data["versions"]["V"] = data["versions"].pop(1)
        text = edited(data, path, value).replace("V:", "1:", 1)
    else:
        text = edited(data, path, value)
    with pytest.raises(InvalidInputError) as info:
        ModelRecord.from_yaml(text, RECORD)
    message = str(info.value)
    assert message.startswith(f"{RECORD}: ") and words in message, message


@pytest.mark.parametrize("field", ["source", "params", "metrics", "signature", "git", "unknown_key"])
def test_an_alias_bomb_in_a_manifest_is_refused_naming_the_file(field: str):
    bomb = "\n".join("  " + line for line in BOMB.splitlines())
    started = time.monotonic()
    with pytest.raises(InvalidInputError, match=rf"^{WHERE}: invalid YAML at line \d+, column \d+: anchors and alias"):
        Manifest.from_yaml(GOOD + f"{field}:\n{bomb}\n", WHERE)
    assert time.monotonic() - started < 1


def test_an_alias_bomb_in_a_record_is_refused_naming_the_file():
    bomb = "\n".join("  " + line for line in BOMB.splitlines())
    with pytest.raises(InvalidInputError, match=rf"^{RECORD}: invalid YAML .*anchors and aliases"):
        ModelRecord.from_yaml(f"name: m\nnext_version: 2\ndescription:\n{bomb}\n", RECORD)


@pytest.mark.parametrize("field", ["version", "created", "size"])
def test_an_integer_of_5000_digits_in_a_manifest_is_refused_naming_the_file(field: str):
    text = GOOD.replace(f"{field}: 1", f"{field}: {'1' * 5000}")
    with pytest.raises(InvalidInputError, match=rf"^{WHERE}: invalid YAML at line \d+.*5,000 characters"):
        Manifest.from_yaml(text, WHERE)


def test_an_integer_of_5000_digits_in_a_record_is_refused_naming_the_file():
    with pytest.raises(InvalidInputError, match=rf"^{RECORD}: invalid YAML at line 2, column 15: an integer"):
        ModelRecord.from_yaml(f"name: m\nnext_version: {'9' * 5000}\n", RECORD)


# -- property-based: whatever comes in, only InvalidInputError (or a value) comes out ---------------------------

PIECES = [
    *("&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n", "  ", "!!int ", "!!python/object:os.system", "? ", "---\n"),
    *("'", '"', "#", "1" * 5000, "0x" + "f" * 50, "2024-13-45", ".nan", "-.inf", "<<: ", "|\n", "\t", "\x00"),
    *("format: 1\n", "name: m\n", "version: 1\n", "next_version: 2\n", "artifacts:\n", "metrics:\n", "signature:\n"),
    *("inputs: ", "tensor-spec: ", "shape: ", "sha256: ", "size: ", "registered:\n", "versions:\n", "tags:\n"),
]
yamlish = st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=40).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["", "m", "../x", DIGEST, TREE, "[1]", '[{"type": "tensor"}]', "tensor", "double", "-1"]),
    st.binary(max_size=4),
    st.dates(),
)
structures = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["type", "tensor-spec", "dtype", "shape", "name", "tags"]) | scalars, inner)
    ),
    max_leaves=20,
)
manifest_paths = st.sampled_from(
    [
        *("format", "name", "version", "flavor", "created", "author", "run_id", "source", "git", "git.commit"),
        *("git.dirty", "metrics", "metrics.acc", "params", "params.C", "signature", "signature.inputs"),
        *("signature.outputs", "input_example", "artifacts", "artifacts.0", "artifacts.0.path", "artifacts.0.sha256"),
        *("artifacts.0.size", "artifacts.1", "extra"),
    ]
)
record_paths = st.sampled_from(
    ["name", "created", "next_version", "description", "tags", "tags.team", "versions", "deleted", "registered", "x"]
)
HYPOTHESIS = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))


def only_refused_or_read(parse: Any, text: bytes | str, where: str) -> Any:
    try:
        return parse(text, where)
    except InvalidInputError as exc:
        assert str(exc).startswith(f"{where}: "), exc
        return None


@HYPOTHESIS
@given(st.one_of(yamlish, yamlish.map(str.encode), st.binary(max_size=300)))
def test_arbitrary_bytes_give_a_manifest_or_record_or_an_invalid_input_error(text: bytes | str):
    only_refused_or_read(Manifest.from_yaml, text, WHERE)
    only_refused_or_read(ModelRecord.from_yaml, text, RECORD)


@HYPOTHESIS
@given(st.lists(st.tuples(manifest_paths, structures), min_size=1, max_size=3))
def test_arbitrary_values_in_any_manifest_field_are_read_or_refused_never_crash(edits: list[tuple[str, Any]]):
    data = full_manifest()
    for path, value in edits:
        try:
            edited(data, path, value)
        except (TypeError, KeyError, IndexError, ValueError):  # an earlier edit removed the parent
            continue
    manifest = only_refused_or_read(Manifest.from_yaml, yamlio.dump(data), WHERE)
    if manifest is not None:  # what was accepted is what gitreg would write
        assert Manifest.from_yaml(manifest.to_yaml(), WHERE) == manifest


@HYPOTHESIS
@given(st.lists(st.tuples(record_paths, structures), min_size=1, max_size=3))
def test_arbitrary_values_in_any_record_field_are_read_or_refused_never_crash(edits: list[tuple[str, Any]]):
    data = full_record()
    for path, value in edits:
        try:
            edited(data, path, value)
        except (TypeError, KeyError, IndexError, ValueError):
            continue
    record = only_refused_or_read(ModelRecord.from_yaml, yamlio.dump(data), RECORD)
    if record is not None:
        assert ModelRecord.from_yaml(record.to_yaml(), RECORD) == record


# -- end to end: a hostile file pushed into a registry fails the CLI cleanly -----------------------------------


def _indented(text: str) -> str:
    return "\n" + "\n".join("  " + line for line in text.splitlines())


HOSTILE_EDITS = {
    "alias bomb in the manifest": ("models/m/gitreg.yaml", r"^source: .*$", "source:" + _indented(BOMB)),
    "5,000-digit integer in the manifest": ("models/m/gitreg.yaml", r"^created: \d+$", "created: " + "7" * 5000),
    "alias bomb in the record": ("models/m.yaml", r"^description: .*$", "description:" + _indented(BOMB)),
    "5,000-digit integer in the record": ("models/m.yaml", r"^next_version: \d+$", "next_version: " + "7" * 5000),
}


@pytest.fixture
def two_models(registry: Registry, tmp_path: Path) -> Registry:
    for name in ("m", "n"):
        registry.register(name, testing.file_package(tmp_path / f"src-{name}", {"model.pkl": name}))
    return registry


def commit_edit(reg: Registry, git_in: Any, rel: str, pattern: str, replacement: str) -> None:
    """Edit a file of the work tree and commit it, as anyone with push access could; a
    manifest edit also moves its version tag, so that tag and main agree and it is read."""
    path = reg.path / rel
    text, count = re.subn(pattern, lambda _: replacement, path.read_text(), flags=re.M)
    assert count == 1, path.read_text()
    path.write_text(text)
    git_in(reg.path, "commit", "-q", "-a", "-m", f"crafted {rel}")
    if rel.endswith("gitreg.yaml"):
        git_in(reg.path, "tag", "-f", "-a", "-m", "crafted", "m/v1")


def assert_clean_refusal(proc: Any, file: str, *, one_line: bool = True) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out and "bug in gitreg" not in out and "MemoryError" not in out, out
    lines = [line for line in out.splitlines() if file in line]
    assert lines, out
    assert all(len(line) < 500 for line in lines), out
    if one_line:
        assert proc.stderr.startswith("Error: ") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("case", list(HOSTILE_EDITS))
def test_a_hostile_file_committed_to_a_registry_fails_show_and_check_cleanly_and_only_its_model(
    case: str, two_models: Registry, git_in: Any, env: dict[str, str]
):
    rel, pattern, replacement = HOSTILE_EDITS[case]
    commit_edit(two_models, git_in, rel, pattern, replacement)
    for args in (["show", "m"], ["check"]):
        started = time.monotonic()
        proc = testing.run_cli(*args, "-r", str(two_models.path), env=env, timeout=60)
        assert time.monotonic() - started < 30, args
        assert_clean_refusal(proc, rel, one_line=args[0] != "check")
    assert testing.run_cli("show", "n", "-r", str(two_models.path), env=env).returncode == 0  # the other model reads
    # one bad model fails only the questions about it: the listing shows the other, and says why m is missing
    listing = testing.run_cli("models", "-r", str(two_models.path), env=env, timeout=60)
    assert listing.returncode == 0 and "n" in listing.stdout.split(), listing.stdout + listing.stderr
    assert "Traceback" not in listing.stderr and rel in listing.stderr and "left out" in listing.stderr


@pytest.mark.parametrize("replacement", ["policy:" + _indented(BOMB), "format: " + "1" * 5000])
def test_a_hostile_registry_yaml_is_reported_by_check_naming_the_file(
    replacement: str, two_models: Registry, git_in: Any, env: dict[str, str]
):
    commit_edit(two_models, git_in, "registry.yaml", r"^policy: .*$", replacement)
    proc = testing.run_cli("check", "-r", str(two_models.path), env=env, timeout=60)
    assert_clean_refusal(proc, "registry.yaml", one_line=False)
