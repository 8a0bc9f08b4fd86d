"""``gitreg check --staged`` run by pre-commit itself, as a registry repository's hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from helpers.gitcli import run_git

from gitreg.check import check_staged
from gitreg.registry import Registry
from gitreg.testing import file_package

ROOT = Path(__file__).resolve().parent.parent


def local_config() -> str:
    """This project's gitreg-check hook, as a ``repo: local`` hook run from this environment
    (pre-commit's ``language: python`` would pip-install gitreg from a git URL)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "gitreg-check")
    hook = {**hook, "language": "system"}
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]})


def registry_with_hook(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    reg = Registry.init(tmp_path / "registry")
    files = {"model.bin": b"one", "requirements.txt": "scikit-learn==1.5.0\n"}
    reg.register("m", file_package(tmp_path / "p1", files))
    reg.close()
    repo = tmp_path / "registry"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }
    (repo / ".pre-commit-config.yaml").write_text(local_config())
    assert run_git(repo, "add", ".pre-commit-config.yaml").returncode == 0
    assert run_git(repo, "commit", "--quiet", "-m", "Add pre-commit", env=env).returncode == 0
    installed = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "install"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert installed.returncode == 0, installed.stderr
    return repo, env


def test_pre_commit_refuses_a_staged_hand_edit_of_a_version(tmp_path: Path) -> None:
    repo, env = registry_with_hook(tmp_path)
    head = run_git(repo, "rev-parse", "HEAD").stdout
    (repo / "models/m/requirements.txt").write_text("scikit-learn==0.20\n")
    assert run_git(repo, "add", "models/m/requirements.txt").returncode == 0
    out = run_git(repo, "commit", "-m", "pin an older sklearn", env=env)
    assert out.returncode != 0
    assert "index:models/m/: latest-subtree: m v1" in out.stdout + out.stderr
    assert "requirements.txt changed" in out.stdout + out.stderr
    assert run_git(repo, "rev-parse", "HEAD").stdout == head


def test_pre_commit_lets_an_unrelated_commit_through(tmp_path: Path) -> None:
    repo, env = registry_with_hook(tmp_path)
    (repo / "README.md").write_text("# our models\n")
    assert run_git(repo, "add", "README.md").returncode == 0
    out = run_git(repo, "commit", "-m", "Describe the registry", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "gitreg check --staged" in out.stdout + out.stderr and "Passed" in out.stdout + out.stderr


def test_check_staged_reads_the_index_git_gives_a_hook(tmp_path: Path) -> None:
    """``git commit -a`` stages into a temporary index (GIT_INDEX_FILE): that is what is checked."""
    repo, _ = registry_with_hook(tmp_path)
    (repo / "models/m/model.bin").write_bytes(b"tampered")
    store = Registry.open(repo).store
    assert check_staged(store, fetch=False) == []  # nothing staged in the real index
    temp = tmp_path / "index.tmp"
    env = {**os.environ, "GIT_INDEX_FILE": str(temp)}
    assert run_git(repo, "read-tree", "HEAD", env=env).returncode == 0
    assert run_git(repo, "add", "-A", env=env).returncode == 0
    found = check_staged(store, index_file=temp, fetch=False)
    assert {(f.model, f.rule) for f in found} == {("m", "latest-subtree")}
