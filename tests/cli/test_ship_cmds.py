"""``gitreg export`` and ``gitreg dockerfile``; the image's layout run without docker (no engine here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from served_models import register_seed

from gitreg import testing
from gitreg.registry import Registry


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    register_seed(registry)
    return registry


def gitreg(registry: Registry, env: dict[str, str], *args: str) -> testing.subprocess.CompletedProcess[str]:
    return testing.run_cli(*args, "-r", str(registry.path), env=env)


def test_export_prints_one_line_saying_what_was_written(seeded: Registry, env: dict[str, str], tmp_path: Path) -> None:
    out = gitreg(seeded, env, "export", "models:/LogisticRegression/1", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"Exported LogisticRegression version 1 (7 files, gitreg format) to {tmp_path / 'out'}.\n")
    js = gitreg(seeded, env, "export", "models:/LogisticRegression/1", str(tmp_path / "js"), "--json")
    assert json.loads(js.stdout)["files"] == sorted(p.name for p in (tmp_path / "js").iterdir())


def test_export_into_a_non_empty_directory_is_a_one_line_error(
    seeded: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    out = gitreg(seeded, env, "export", "models:/LogisticRegression/1", str(tmp_path / "busy"))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "not an empty directory" in out.stderr


def test_dockerfile_installs_the_recorded_requirements_and_serves_the_export(
    seeded: Registry, env: dict[str, str]
) -> None:
    out = gitreg(seeded, env, "dockerfile", "models:/LogisticRegression/1")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "FROM python:3.11-slim" in text
    assert "#   gitreg export models:/LogisticRegression/1 model" in text
    assert (
        "COPY model/requirements.txt /tmp/requirements.txt\nRUN pip install --no-cache-dir -r /tmp/requirements.txt"
        in text
    )
    assert "ARG GITREG_GIT_URL=" in text and "ARG GITREG_REF=" in text
    assert 'pip install --no-cache-dir "gitreg-registry[serve] @ git+${GITREG_GIT_URL}@${GITREG_REF}"' in text
    assert "COPY model /model" in text
    assert text.endswith(
        'CMD ["gitreg", "serve", "-m", "/model", "--host", "0.0.0.0", "--port", "8080", "--allowed-host", "*"]\n'
    )


def test_the_image_layout_serves_both_protocols_like_the_registry_version(
    seeded: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    """What the container runs, without docker: the export at model/, served from there alone."""
    context = tmp_path / "context"
    context.mkdir()
    docker = gitreg(seeded, env, "dockerfile", "models:/LogisticRegression/1", "-o", str(context / "Dockerfile"))
    assert docker.returncode == 0 and "Wrote the Dockerfile" in docker.stdout
    assert gitreg(seeded, env, "export", "models:/LogisticRegression/1", str(context / "model")).returncode == 0
    image_root = tmp_path / "image"
    shutil.copytree(context / "model", image_root / "model")  # COPY model /model
    shutil.rmtree(seeded.path)  # the image has no registry

    body = '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [3], "data": [1, -1, 2]}]}'
    with testing.ScoringServer("-m", str(image_root / "model"), env=env, cwd=image_root) as srv:
        mlflow = srv.post("/invocations", '{"dataframe_split": {"columns": ["x"], "data": [[1], [-1], [2]]}}')
        v2 = srv.post("/v2/models/LogisticRegression/versions/1/infer", body)
        metadata = srv.request("GET", "/v2/models/LogisticRegression").json()

    assert mlflow.json() == {"predictions": [1, 0, 1]}
    assert v2.status == 200, v2.body
    assert v2.json()["outputs"][0]["data"] == [1, 0, 1]
    assert metadata["versions"] == ["1"]


def test_dockerfile_stage_follow_serves_the_stage_from_a_git_url(
    seeded: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    seeded.promote("LogisticRegression", 1, "Production")
    local = gitreg(seeded, env, "dockerfile", "models:/LogisticRegression/Production", "--stage-follow")
    assert local.returncode == 1 and "git URL" in local.stderr

    url = f"file://{seeded.path}"
    out = testing.run_cli("dockerfile", "models:/LogisticRegression/Production", "--stage-follow", "-r", url, env=env)
    assert out.returncode == 0, out.stderr
    assert "COPY" not in out.stdout
    assert "RUN pip install --no-cache-dir scikit-learn==" in out.stdout
    assert (
        f'CMD ["gitreg", "serve", "-m", "models:/LogisticRegression/Production", "-r", "{url}", "--follow", '
        '"--host", "0.0.0.0", "--port", "8080", "--allowed-host", "*"]'
    ) in out.stdout

    fixed = testing.run_cli("dockerfile", "models:/LogisticRegression/1", "--stage-follow", "-r", url, env=env)
    assert fixed.returncode == 1 and "fixed version" in fixed.stderr
