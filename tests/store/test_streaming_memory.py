"""Registering and materialising stream: the memory a real ``gitreg
register`` (and every git process it starts) peaks at does not grow with the
artifact's size. A 64 MB and a 256 MB artifact are registered by separate
processes; their peaks may differ by far less than the 192 MB between them,
a bound any whole-file read (in gitreg or in git) would break. The same for
a reader materialising LFS artifacts of 16 MB and 144 MB from a remote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitreg.testing import run_cli

MB = 1 << 20

_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def _peak_of_registering(tmp_path: Path, size: int, *, bare: bool) -> int:
    """Peak RSS (bytes) of the largest process of one ``gitreg register`` of a ``size``-byte artifact."""
    reg, model = tmp_path / f"reg-{size}-{bare}", tmp_path / f"model-{size}"
    assert run_cli("init", *(["--bare"] if bare else []), str(reg)).returncode == 0
    if not model.exists():
        model.mkdir()
        (model / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: gitreg.pyfunc\n")
        with open(model / "weights.bin", "wb") as fh:
            fh.truncate(size)  # sparse: no disk written, every byte still read
    cli = [sys.executable, "-m", "gitreg", "-r", str(reg), "register", "Big", str(model)]
    out = subprocess.run([sys.executable, "-c", _PEAK, *cli], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_registration_memory_does_not_grow_with_the_artifact(tmp_path: Path) -> None:
    for bare in (True, False):  # a work tree registry also checks the version out
        small = _peak_of_registering(tmp_path, 64 * MB, bare=bare)
        big = _peak_of_registering(tmp_path, 256 * MB, bare=bare)
        assert big - small < 32 * MB, f"bare={bare}: peak RSS {small:,} bytes for 64 MB, {big:,} for 256 MB"
        assert big < 100 * MB, f"bare={bare}: registering a 256 MB artifact peaked at {big:,} bytes"


_LOAD = """
import resource, sys
from gitreg.pyfunc import materialized
from gitreg.uri import parse
path = materialized(parse(sys.argv[2]), sys.argv[1])
print(max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) * 1024)
"""


def test_a_reader_materialising_from_a_remote_does_not_hold_an_lfs_artifact(tmp_path: Path) -> None:
    """git-lfs's smudge prints the whole object: it is read in chunks and dropped."""
    origin = tmp_path / "origin.git"
    assert run_cli("init", "--bare", str(origin)).returncode == 0
    peaks = {}
    for version, size in ((1, 16 * MB), (2, 144 * MB)):
        model = tmp_path / f"model-{size}"
        model.mkdir()
        (model / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: gitreg.pyfunc\n")
        with open(model / "weights.bin", "wb") as fh:
            fh.truncate(size)
            fh.write(version.to_bytes(1, "big"))  # versions differ, so each has its own LFS object
        out = run_cli("-r", f"file://{origin}", "register", "Big", str(model))
        assert out.returncode == 0, out.stderr
        env = {"GITREG_CACHE_DIR": str(tmp_path / f"reader-{version}")}  # another machine: an empty cache
        got = subprocess.run(
            [sys.executable, "-c", _LOAD, f"file://{origin}", f"models:/Big/{version}"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert got.returncode == 0, got.stderr
        peaks[size] = int(got.stdout)
    assert peaks[144 * MB] - peaks[16 * MB] < 32 * MB, f"peak RSS by artifact size: {peaks}"
