"""The distribution as users install it: a wheel built from this tree and
installed into a fresh virtualenv with the core dependencies only.

The core (the registry, the CLI, ``gitreg check``, the loader) works there
without scikit-learn, pandas or the serving stack; a command that needs an
extra says which in one line. The wheel carries the license, and the version
everyone reports is the one in ``pyproject.toml``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitreg import extras
from gitreg.errors import InvalidInputError, MissingExtraError

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# Read before any test isolates HOME, so pip finds the machine's package cache.
MACHINE_ENV = dict(os.environ)

# What only an extra may bring: none of it is importable in the core install.
NOT_IN_CORE = ("sklearn", "pandas", "numpy", "scipy", "skops", "falcon", "gunicorn", "gevent")
# distribution -> the module gitreg imports, where the two differ
MODULE_OF = {"scikit-learn": "sklearn", "pyyaml": "yaml"}


def _distribution(requirement: str) -> tuple[str, frozenset[str]]:
    """``(name, extras)`` of a PEP 508 requirement, lower-cased."""
    found = re.match(r"\s*([A-Za-z0-9._-]+)\s*(\[[^\]]*\])?", requirement)
    assert found, requirement
    named = (found.group(2) or "").strip("[]")
    return found.group(1).lower(), frozenset(e.strip() for e in named.split(",") if e.strip())


@dataclass(frozen=True)
class CoreInstall:
    wheel: Path
    python: Path
    gitreg: Path

    def run(self, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.gitreg), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)

    def importable(self, *modules: str) -> list[str]:
        code = f"import importlib.util as u; print(*[m for m in {modules!r} if u.find_spec(m)])"
        out = subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, check=True).stdout
        return out.split()


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> CoreInstall:
    """The wheel, built from a copy of the tree (so no build/ or egg-info lands
    in it), installed without extras into a virtualenv with no pip of its own."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "gitreg", source / "gitreg", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]

    def run(*args: str) -> None:
        done = subprocess.run([*pip, *args], env=MACHINE_ENV, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    run("wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    run("--python", str(python), "install", "-q", str(wheel))  # the core's dependencies, no extra
    return CoreInstall(wheel, python, venv / "bin" / "gitreg")


@pytest.fixture
def core_env(isolated: dict[str, str]) -> dict[str, str]:
    env = {**os.environ}
    env.pop("PYTHONPATH", None)  # the venv's own gitreg, not this tree's
    return env


def test_wheel_is_named_for_the_distribution_and_carries_the_license(core: CoreInstall) -> None:
    assert core.wheel.name.startswith(f"{PROJECT['name'].replace('-', '_')}-{PROJECT['version']}-")
    with zipfile.ZipFile(core.wheel) as whl:
        (license_file,) = [n for n in whl.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert whl.read(license_file) == (ROOT / "LICENSE").read_bytes()
        metadata = whl.read(license_file.replace("licenses/LICENSE", "METADATA")).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()


def test_version_everyone_reports_is_the_one_in_pyproject(core: CoreInstall, core_env: dict[str, str]) -> None:
    version = PROJECT["version"]
    shown = subprocess.run(
        [str(core.python), "-c", "import gitreg; print(gitreg.__version__)"], capture_output=True, text=True
    )
    assert shown.stdout.strip() == version, shown.stderr
    assert core.run("--version", env=core_env, cwd=core.python.parent).stdout.strip() == f"gitreg {version}"
    import gitreg

    assert gitreg.__version__ == version  # this tree's editable install


def test_core_install_has_neither_sklearn_nor_pandas_nor_the_serving_stack(core: CoreInstall) -> None:
    assert core.importable(*NOT_IN_CORE) == []
    assert core.importable("gitreg", "yaml", "cloudpickle", "click") == ["gitreg", "yaml", "cloudpickle", "click"]


def test_core_install_inits_registers_checks_and_shows(
    core: CoreInstall, core_env: dict[str, str], saved_model: Path, tmp_path: Path
) -> None:
    init = core.run("init", "registry", env=core_env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    reg = tmp_path / "registry"
    for args in (
        ("register", "LogisticRegression", str(saved_model), "--metric", "score=0.67"),
        ("promote", "LogisticRegression", "1", "Production"),
        ("check",),
    ):
        done = core.run(*args, env=core_env, cwd=reg)
        assert done.returncode == 0, (args, done.stderr)
    show = core.run("show", "models:/LogisticRegression/Production", "--json", env=core_env, cwd=reg)
    assert show.returncode == 0, show.stderr
    print(show.stdout)
    assert json.loads(show.stdout)["version"] in (1, "1")


@pytest.mark.parametrize(
    ("args", "extra", "module"),
    [
        (("serve", "-m", "models:/LogisticRegression/1"), "serve", "falcon"),
        (("predict", "-m", "models:/LogisticRegression/1", "-i", "input.csv"), "serve", "numpy"),
        (("ui",), "ui", "falcon"),
    ],
)
def test_a_command_without_its_extra_says_which_to_install_in_one_line(
    core: CoreInstall, core_env: dict[str, str], tmp_path: Path, args: tuple[str, ...], extra: str, module: str
) -> None:
    assert core.run("init", "registry", env=core_env, cwd=tmp_path).returncode == 0
    (tmp_path / "registry" / "input.csv").write_text("x\n1\n")
    done = core.run(*args, env=core_env, cwd=tmp_path / "registry")
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {module} is not installed; it comes with gitreg's {extra!r} extra: "
        f"pip install '{PROJECT['name']}[{extra}]'.\n"
    )


def test_distribution_name_is_written_once_for_the_code() -> None:
    assert PROJECT["name"] == extras.DISTRIBUTION
    assert PROJECT["scripts"] == {"gitreg": "gitreg.cli:main"}


def test_each_extra_brings_the_modules_the_code_requires_it_for() -> None:
    declared = PROJECT["optional-dependencies"]
    for extra, modules in extras.EXTRAS.items():
        direct = {_distribution(r)[0] for r in declared[extra]} - {PROJECT["name"]}
        assert {MODULE_OF.get(d, d) for d in direct} == modules, extra
    (everything,) = [named for name, named in map(_distribution, declared["all"]) if name == PROJECT["name"]]
    assert everything >= set(extras.EXTRAS) - {"mlflow"}  # MLflow itself is too heavy to come with [all]
    assert (PROJECT["name"], {"all"}) in map(_distribution, declared["dev"])
    core = {MODULE_OF.get(d, d) for d in (_distribution(r)[0] for r in PROJECT["dependencies"])}
    assert not core & set(NOT_IN_CORE)


def test_require_names_the_extra_of_a_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gunicorn", None)  # import of gunicorn halted: as if not installed
    with pytest.raises(MissingExtraError) as raised, extras.require("ui"):
        import gunicorn  # noqa: F401
    assert raised.value.extra == "ui" and raised.value.module == "gunicorn"
    assert isinstance(raised.value, ImportError) and isinstance(raised.value, InvalidInputError)
    assert str(raised.value).endswith(f"pip install '{PROJECT['name']}[ui]'.")


@pytest.mark.parametrize("module", ["falcon.no_such_module", "no_such_package_of_any_extra"])
def test_require_lets_through_what_installing_the_extra_would_not_fix(module: str) -> None:
    with pytest.raises(ModuleNotFoundError) as raised, extras.require("serve"):
        importlib.import_module(module)
    assert not isinstance(raised.value, MissingExtraError)
