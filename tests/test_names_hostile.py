"""Hostile names and URIs (property-based): every generated string is either
accepted and round-trips exactly, or refused with InvalidInputError; a
refusal changes no ref, and nothing is ever written outside the registry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import refs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitreg import uri as uris
from gitreg.errors import AlreadyExistsError, InvalidInputError
from gitreg.names import check_model_name, check_stage_name, check_tag_key
from gitreg.registry import Package, Registry

NASTY = [
    "..", ".", "/", "\\", "-", "--", "-rf", "--upload-pack=touch /tmp/pwned", "\x00", "\n", "\r", "\t", "\x1b[31m",
    "@{", "@{-1}", ".lock", "HEAD", "head", "main", "refs/heads/main", "~", "^", ":", "?", "*", "[", " ", "\u202e",
    "\u0430", "\uff0e", "\u2024", "\u00a0", "\ufeff", "\ud800", "CON", "nul", "a" * 101, "a" * 5000, "models:/", "@",
    "/v1", "gitreg.yaml", ".git", "latest", "None", "é", "ß", "\u0131",
]  # fmt: skip
nasty_text = st.lists(st.sampled_from(NASTY) | st.text(min_size=1, max_size=8), min_size=1, max_size=5).map("".join)
names = st.one_of(nasty_text, st.text(max_size=120), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True))
FAST = settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def snapshot(root: Path, skip: Path) -> dict[str, float]:
    """Every path under ``root`` except inside ``skip`` (the registry), with its mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            dirnames[:] = []
            continue
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            if p != skip:
                out[str(p)] = p.lstat().st_mtime
    return out


@FAST
@given(name=names)
def test_model_names_are_valid_path_components_or_refused(name: str):
    try:
        checked = check_model_name(name)
    except InvalidInputError:
        return
    assert checked == name
    assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(("-", "."))
    assert name.isascii() and name.isprintable() and len(name) <= 100 and not name.lower().endswith(".lock")


@FAST
@given(stage=names)
def test_stage_names_are_canonical_lower_case_or_refused(stage: str):
    try:
        canonical = check_stage_name(stage)
    except InvalidInputError:
        return
    assert canonical == stage.lower() and canonical.isascii() and not canonical.startswith("-")
    assert canonical not in {"head", "main", "none", "latest"} and "@{" not in canonical


@FAST
@given(text=st.one_of(nasty_text.map(lambda s: "models:/" + s), nasty_text, st.text(max_size=200)))
def test_uris_parse_to_a_value_that_prints_back_or_are_refused(text: str):
    try:
        parsed = uris.parse(text)
    except InvalidInputError:
        return
    if parsed.is_registry:
        assert uris.parse(str(parsed)) == parsed
        check_model_name(parsed.name)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Registry, Path]:
    root = tmp_path_factory.mktemp("hostile")
    reg = Registry.init(root / "reg")
    src = root / "src"
    src.mkdir()
    (src / "model.pkl").write_bytes(b"x")
    reg.register("m", Package(src, ("model.pkl",), "python_function"))
    return reg, root


@SLOW
@given(name=names)
def test_create_model_round_trips_or_refuses_without_writing_anything(shared, name: str):
    reg, root = shared
    before_refs, before_files = refs(reg.path), snapshot(root, reg.path)
    try:
        reg.create_model(name)
    except InvalidInputError:
        assert refs(reg.path) == before_refs
    except AlreadyExistsError:
        assume(False)
    else:
        assert reg.get_model(name).name == name
        assert (
            f"models/{name}.yaml"
            in subprocess.run(
                ["git", "-C", str(reg.path), "ls-tree", "-r", "--name-only", "main", "--", f"models/{name}.yaml"],
                capture_output=True,
                text=True,
            ).stdout.splitlines()
        )
    assert snapshot(root, reg.path) == before_files


@SLOW
@given(stage=names)
def test_promote_to_any_stage_name_round_trips_or_refuses(shared, stage: str):
    reg, root = shared
    before_refs, before_files = refs(reg.path), snapshot(root, reg.path)
    try:
        mv = reg.promote("m", 1, stage)
    except InvalidInputError:
        assert refs(reg.path) == before_refs
    else:
        held = reg.stages_of("m")
        if stage.lower() != "none":
            assert held[stage.lower()] == 1 and mv.version == 1
    assert snapshot(root, reg.path) == before_files


@SLOW
@given(key=names, value=st.text(max_size=300))
def test_tags_round_trip_exactly_or_are_refused(shared, key: str, value: str):
    reg, _ = shared
    before_refs = refs(reg.path)
    try:
        check_tag_key(key)
        reg.set_model_tag("m", key, value)
    except InvalidInputError:
        assert refs(reg.path) == before_refs
        return
    assert reg.get_model("m").tags[key] == value


@pytest.mark.parametrize(
    "value", ["\ud800", "a\x85b", "\u2028", "\x1b[2J", "\ufeff", "---\n...", "!!python/object:os.system", "\r\n", " "]
)
def test_awkward_tag_values_round_trip_exactly_or_are_refused(shared, value: str):
    reg, _ = shared
    before_refs = refs(reg.path)
    try:
        reg.set_model_tag("m", "awkward", value)
    except InvalidInputError:
        assert refs(reg.path) == before_refs
        return
    assert reg.get_model("m").tags["awkward"] == value
