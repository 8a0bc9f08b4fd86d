"""A version's recorded requirements against this Python: one warning line naming what differs."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path

import pytest

import gitreg
from gitreg.flavors import requirements
from gitreg.flavors.requirements import Pin, mismatches, parse_pins, satisfied, warn_mismatches
from gitreg.pyfunc import materialized
from gitreg.registry import Registry
from gitreg.uri import parse

SKLEARN = metadata.version("scikit-learn")
NUMPY = metadata.version("numpy")


def register_with(registry: Registry, saved: Path, name: str, lines: list[str]) -> Path:
    """Register the saved seed model with ``lines`` as its requirements.txt; its materialised directory."""
    (saved / "requirements.txt").write_text("\n".join(lines) + "\n")
    gitreg.register_model(str(saved), name, registry=registry)
    return materialized(parse(f"models:/{name}/1"), registry)


def gitreg_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gitreg" and r.levelno == logging.WARNING]


def test_a_version_saved_with_other_versions_warns_in_one_line_naming_each(
    registry: Registry, saved_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = register_with(
        registry,
        saved_model,
        "Old",
        ["scikit-learn==0.20.4", f"numpy=={NUMPY}", "gitreg-no-such-package==1.0", "pandas>=999.1"],
    )
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        line = warn_mismatches(directory, "models:/Old/1")
    assert gitreg_warnings(caplog) == [line]
    assert line is not None and "\n" not in line
    assert line.startswith("models:/Old/1 was saved with scikit-learn==0.20.4 (installed: " + SKLEARN + "), ")
    assert "gitreg-no-such-package==1.0 (not installed)" in line
    assert "pandas>=999.1 (installed: " in line
    assert "numpy" not in line  # pinned to what is installed
    assert "requirements.txt" in line  # what to do


def test_a_version_whose_requirements_are_installed_loads_without_a_warning(
    registry: Registry, saved_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gitreg.register_model(str(saved_model), "Current", registry=registry)  # requirements as saved: installed ones
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        assert warn_mismatches(materialized(parse("models:/Current/1"), registry), "models:/Current/1") is None
    assert gitreg_warnings(caplog) == []


def test_the_same_version_is_warned_about_once_per_process(
    registry: Registry, saved_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = register_with(registry, saved_model, "Twice", ["scikit-learn==0.20.4"])
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        warn_mismatches(directory, "models:/Twice/1")
        assert warn_mismatches(directory, "models:/Twice/1") is None
    assert len(gitreg_warnings(caplog)) == 1


def test_lines_that_do_not_parse_soundly_are_skipped(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "# saved by gitreg",
            "scikit-learn[alldeps] == 0.20.4  # extras and spaces",
            'pandas==0.1; python_version < "3"',  # a marker: skipped
            "numpy>=1,<2",  # a range: skipped
            "-r other.txt",
            "git+https://example.com/x.git",
            "torch==2.1.0+cpu",
            "",
        ]
    )
    assert parse_pins(text) == [Pin("scikit-learn", "==", "0.20.4"), Pin("torch", "==", "2.1.0+cpu")]
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe not utf-8\n")
    assert warn_mismatches(tmp_path, "a directory") is None  # nothing checkable: no warning, no error
    assert warn_mismatches(tmp_path / "missing", "no file") is None


@pytest.mark.parametrize(
    ("pin", "installed", "expected"),
    [
        (Pin("a", "==", "1.5"), "1.5.0", True),
        (Pin("a", "==", "1.5.2"), "1.5.3", False),
        (Pin("a", "==", "2.1.0"), "2.1.0+cu121", True),  # a local build of the pinned release
        (Pin("a", "==", "2.1.0+cpu"), "2.1.0+cu121", False),
        (Pin("a", ">=", "1.10"), "1.9.1", False),
        (Pin("a", ">=", "1.9"), "1.10", True),
        (Pin("a", "==", "1.0rc1"), "1.0", None),  # pre-releases: not compared
        (Pin("a", ">=", "1.0"), "2.0.dev1", None),
    ],
)
def test_versions_compare_as_release_numbers(pin: Pin, installed: str, expected: bool | None) -> None:
    assert satisfied(pin, installed) is expected


def test_a_missing_package_is_a_mismatch_without_a_version() -> None:
    (found,) = mismatches("gitreg-no-such-package>=1\n")
    assert found.installed is None and str(found) == "gitreg-no-such-package>=1 (not installed)"


@pytest.fixture(autouse=True)
def _fresh_process_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing warned about yet."""
    monkeypatch.setattr(requirements, "_warned", set())


def test_loading_a_version_saved_with_other_versions_warns_once(
    registry: Registry, saved_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (saved_model / "requirements.txt").write_text("scikit-learn==0.20.4\n")
    gitreg.register_model(str(saved_model), "Loaded", registry=registry)
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        gitreg.pyfunc.load_model("models:/Loaded/1", registry=registry)
        gitreg.pyfunc.load_model("models:/Loaded/1", registry=registry)
    [line] = gitreg_warnings(caplog)
    assert line.startswith("models:/Loaded/1 was saved with scikit-learn==0.20.4")
