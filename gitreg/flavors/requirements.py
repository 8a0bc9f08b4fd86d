"""Does this Python have what a model was saved with? One warning line if not.

A version records the packages it was saved with in ``requirements.txt``
(``scikit-learn==1.5.2``, ...). Unpickling an estimator under another
scikit-learn may work, fail, or quietly predict differently, so loading a
version compares those pins with what is installed (``importlib.metadata``)
and says, in one line on the ``gitreg`` logger (the library's channel for
warnings), which packages differ or are missing, as MLflow's
``_warn_dependency_requirement_mismatches`` does. It never refuses: the
environment is the deployer's decision.

Only what parses soundly is compared: ``name==version`` and
``name>=version`` with plain release numbers (``1.5.2``; ``==`` also
matches the same text, or an installed local build such as
``2.1.0+cpu``). Anything else (markers, ranges, URLs, options, pre-releases
on either side) is skipped silently rather than guessed at.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["REQUIREMENTS_FILE", "Mismatch", "mismatches", "parse_pins", "warn_mismatches"]

log = logging.getLogger("gitreg")

REQUIREMENTS_FILE = "requirements.txt"

_PIN = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[^\]]*\])?\s*(==|>=)\s*([^\s,;]+)$")
_RELEASE = re.compile(r"^\d+(?:\.\d+)*$")
_warned: set[str] = set()


@dataclass(frozen=True)
class Pin:
    """One requirement line gitreg can check: ``name op version``."""

    name: str
    op: str  # "==" or ">="
    version: str

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.version}"


@dataclass(frozen=True)
class Mismatch:
    """A pin the installed environment does not satisfy; ``installed`` None when the package is missing."""

    pin: Pin
    installed: str | None

    def __str__(self) -> str:
        return f"{self.pin} ({'not installed' if self.installed is None else f'installed: {self.installed}'})"


def parse_pins(text: str) -> list[Pin]:
    """The checkable pins of a ``requirements.txt``; every other line is skipped."""
    pins = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = _PIN.match(line)
        if m is not None:
            pins.append(Pin(m.group(1), m.group(2), m.group(3)))
    return pins


def _parse_version(version: str) -> tuple[tuple[int, ...], str] | None:
    """A plain release and its local label (``2.1.0+cpu`` -> ``((2, 1), "cpu")``); None otherwise."""
    release, _, local = version.partition("+")
    if not _RELEASE.match(release):
        return None
    parts = [int(p) for p in release.split(".")]
    while len(parts) > 1 and parts[-1] == 0:  # 1.5 == 1.5.0
        parts.pop()
    return tuple(parts), local.lower()


def satisfied(pin: Pin, installed: str) -> bool | None:
    """Whether ``installed`` meets ``pin``; None when that cannot be said soundly.

    As PEP 440 says for these two operators: ``==`` ignores the installed
    local label unless the pin has one; ``>=`` compares releases.
    """
    wanted, have = _parse_version(pin.version), _parse_version(installed)
    if wanted is None or have is None:
        return True if pin.op == "==" and installed == pin.version else None
    if pin.op == "==":
        return wanted == have if wanted[1] else wanted[0] == have[0]
    return have[0] >= wanted[0]


def mismatches(text: str) -> list[Mismatch]:
    """The pins of ``text`` (a ``requirements.txt``) this Python does not satisfy, in file order."""
    found = []
    for pin in parse_pins(text):
        try:
            installed: str | None = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or satisfied(pin, installed) is False:
            found.append(Mismatch(pin, installed))
    return found


def warn_mismatches(directory: Path, label: str) -> str | None:
    """Warn once per process and model directory when its requirements are not met; return the line.

    ``label`` names the model (``models:/M/1``). A model without a readable
    ``requirements.txt`` is not checked. Never raises for the file's content.
    """
    key = str(directory)
    if key in _warned:
        return None
    path = directory / REQUIREMENTS_FILE
    if path.is_symlink():  # not one of the version's files: nothing of the model's to compare
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = mismatches(text)
    _warned.add(key)
    if not found:
        return None
    line = (
        f"{label} was saved with {', '.join(map(str, found))}; its predictions may differ or fail here. "
        f"Install the versions in its {REQUIREMENTS_FILE} to match."
    )
    log.warning("%s", line)
    return line
