"""A registry of 2,000 versions over 20 models (built with register_many) still
answers every read command correctly. Not timed: it catches scale bugs such as
a command that reads another model's tags or truncates a long listing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitreg import package, testing
from gitreg.pyfunc import load_model
from gitreg.registry import NewVersion, Registry
from gitreg.uri import parse

MODELS, PER_MODEL = 20, 100  # 2,000 versions, interleaved as real registrations are

pytestmark = pytest.mark.slow


@pytest.fixture
def big(tmp_path: Path, saved_model: Path) -> Registry:
    reg = Registry.init(tmp_path / "big")
    pkg = package.from_directory(saved_model)
    names = [f"M{i:02d}" for i in range(MODELS)]
    reg.register_many(NewVersion(n, pkg, tags={"round": str(v)}) for v in range(1, PER_MODEL + 1) for n in names)
    for n in names:
        reg.promote(n, 7, "staging")
        reg.promote(n, 42, "production")
    return reg


def cli(reg: Registry, *args: str) -> object:
    proc = testing.run_cli("-r", str(reg.path), *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def test_every_read_command_answers_correctly_at_2000_versions(big: Registry) -> None:
    models = cli(big, "models", "--json")
    assert [m["name"] for m in models] == [f"M{i:02d}" for i in range(MODELS)]
    assert all(m["aliases"] == {"Production": 42, "Staging": 7} for m in models)
    assert all(sorted(v["version"] for v in m["latest_versions"]) == [7, 42, PER_MODEL] for m in models)

    versions = cli(big, "versions", "M03", "--json")
    assert [v["version"] for v in versions] == list(range(1, PER_MODEL + 1))
    assert {v["version"]: v["current_stage"] for v in versions if v["current_stage"] != "None"} == {
        7: "Staging",
        42: "Production",
    }
    assert all(v["name"] == "M03" and v["tags"] == {"round": str(v["version"])} for v in versions)

    for uri, expected in (("models:/M05/63", 63), ("models:/M05/Production", 42), ("models:/M05/latest", PER_MODEL)):
        shown = cli(big, "show", uri, "--json")
        assert (shown["name"], shown["version"]) == ("M05", expected)
        assert shown["tag"] == f"M05/v{expected}"
    assert cli(big, "show", "M05", "--json")["aliases"] == {"Production": 42, "Staging": 7}

    history = cli(big, "history", "M11", "--json")
    registered = sorted(e["version"] for e in history if e["event"] == "registered")
    assert registered == list(range(1, PER_MODEL + 1))
    moves = [(e["stage"], e["version"]) for e in history if e["event"] == "stage"]
    assert sorted(moves) == [("Production", 42), ("Staging", 7)]

    assert "Promoted M11 version 99 to Production (was version 42)" in cli(big, "promote", "M11", "99", "production")
    assert big.resolve(parse("models:/M11/Production")).version == 99
    assert big.resolve(parse("models:/M12/Production")).version == 42  # other models untouched
    assert big.resolve(parse("models:/M19@staging")).version == 7
    assert load_model("models:/M11/Production", registry=big).predict([[1.0], [2.0]]).tolist() == [1, 1]
    fsck = subprocess.run(["git", "-C", str(big.path), "fsck", "--strict"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
