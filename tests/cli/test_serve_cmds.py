"""``gitreg predict`` and ``gitreg serve``'s refusals, as real processes."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest
from served_models import Gated, Refusing, register, register_seed

from gitreg import testing
from gitreg.registry import Registry


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    register_seed(registry)
    return registry


def gitreg(registry: Registry, env: dict[str, str], *args: str) -> testing.subprocess.CompletedProcess[str]:
    return testing.run_cli(*args, "-r", str(registry.path), env=env)


def assert_one_line_error(proc: testing.subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0]


def test_predict_scores_a_json_file_to_stdout(seeded: Registry, env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "rows.json"
    data.write_text('{"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}}')
    proc = gitreg(seeded, env, "predict", "-m", "models:/LogisticRegression/1", "-i", str(data))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"predictions": [1, 0]}


def test_predict_reads_csv_by_extension_and_writes_output(
    seeded: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("x\n1\n-1\n")
    out = tmp_path / "out.json"
    proc = gitreg(seeded, env, "predict", "-m", "models:/LogisticRegression/1", "-i", str(data), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {"predictions": [1, 0]}
    assert proc.stdout.strip().splitlines() == [
        f"Wrote predictions for {data} by LogisticRegression version 1 to {out}."
    ]


def test_predict_type_option_overrides_the_extension(seeded: Registry, env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "rows.txt"
    data.write_text("x\n1\n")
    proc = gitreg(seeded, env, "predict", "-m", "models:/LogisticRegression/1", "-i", str(data), "-t", "csv")
    assert (proc.returncode, json.loads(proc.stdout)) == (0, {"predictions": [1]})


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"dataframe_split": ', ["malformed JSON"]),
        ('{"dataframe_split": {"columns": ["y"], "data": [[1]]}}', ["missing column", "'x'"]),
        ('{"rows": [[1]]}', ["dataframe_split"]),
    ],
    ids=["malformed", "missing-column", "no-input-key"],
)
def test_predict_refuses_bad_input_in_one_line(
    seeded: Registry, env: dict[str, str], tmp_path: Path, content: str, words: list[str]
) -> None:
    data = tmp_path / "rows.json"
    data.write_text(content)
    out = tmp_path / "out.json"
    proc = gitreg(seeded, env, "predict", "-m", "models:/LogisticRegression/1", "-i", str(data), "-o", str(out))
    assert_one_line_error(proc, *words)
    assert not out.exists()


def test_predict_reports_the_models_own_refusal(registry: Registry, env: dict[str, str], tmp_path: Path) -> None:
    register(registry, "Refuser", Refusing())
    data = tmp_path / "rows.json"
    data.write_text('{"inputs": [[1]]}')
    proc = gitreg(registry, env, "predict", "-m", "models:/Refuser/1", "-i", str(data))
    assert_one_line_error(proc, "ValueError: x must be positive")


def test_predict_refuses_a_missing_file_and_an_unknown_model(
    seeded: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    assert_one_line_error(
        gitreg(seeded, env, "predict", "-m", "models:/LogisticRegression/1", "-i", str(tmp_path / "nope.json")),
        "Cannot read",
    )
    data = tmp_path / "rows.json"
    data.write_text('{"inputs": [[1]]}')
    assert_one_line_error(gitreg(seeded, env, "predict", "-m", "models:/Nope/1", "-i", str(data)), "'Nope'")


def test_serve_refuses_an_unknown_model_before_binding(seeded: Registry, env: dict[str, str]) -> None:
    proc = gitreg(seeded, env, "serve", "-m", "models:/LogisticRegression/7", "--port", str(testing.free_port()))
    assert_one_line_error(proc, "Version 7")


def test_serve_refuses_to_follow_a_fixed_version(seeded: Registry, env: dict[str, str]) -> None:
    proc = gitreg(seeded, env, "serve", "-m", "models:/LogisticRegression/1", "--follow")
    assert_one_line_error(proc, "fixed version", "--follow")


def test_serve_needs_a_uri_or_a_stage(seeded: Registry, env: dict[str, str]) -> None:
    proc = gitreg(seeded, env, "serve")
    assert proc.returncode == 2
    assert "-m URI" in proc.stderr


def test_serve_help_documents_that_a_missing_content_type_is_json(env: dict[str, str]) -> None:
    proc = testing.run_cli("serve", "--help", env=env)
    assert proc.returncode == 0
    assert "without Content-Type is read as JSON" in " ".join(proc.stdout.split())


def test_gitreg_help_lists_serve_and_predict_without_importing_falcon(env: dict[str, str]) -> None:
    code = (
        "import sys; from gitreg.cli import cli; cli.main(['--help'], standalone_mode=False); "
        "print(sorted(m for m in ('falcon', 'pandas', 'gunicorn') if m in sys.modules))"
    )
    proc = testing.subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "serve" in proc.stdout and "predict" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_serve_on_a_port_in_use_is_a_one_line_error(seeded: Registry, env: dict[str, str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        out = testing.run_cli("-r", str(seeded.path), "serve", "-m", "models:/LogisticRegression/1", "--port", port)
    assert out.returncode == 1
    assert f"Error: Cannot serve on 127.0.0.1:{port}: Address already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_reports_a_taken_port_at_once_without_loading_the_model(
    registry: Registry, env: dict[str, str], tmp_path: Path
) -> None:
    register(registry, "SlowToLoad", Gated(str(tmp_path / "never-opened")))  # its load would take 60 s
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        started = time.monotonic()
        proc = gitreg(registry, env, "serve", "-m", "models:/SlowToLoad/1", "--port", port)
        elapsed = time.monotonic() - started
    assert_one_line_error(proc, f"Cannot serve on 127.0.0.1:{port}: Address already in use", "--port")
    assert elapsed < 10, f"the refusal took {elapsed:.1f} s: the model was loaded first"


def test_serve_start_warns_in_one_line_when_the_version_was_saved_with_another_scikit_learn(
    registry: Registry, env: dict[str, str], saved_model: Path
) -> None:
    import gitreg

    (saved_model / "requirements.txt").write_text("scikit-learn==0.20.4\n")
    gitreg.register_model(str(saved_model), "Old", registry=registry)
    with testing.ScoringServer("-m", "models:/Old/1", "-r", str(registry.path), env=env) as srv:
        assert srv.post("/invocations", '{"inputs": [[1]]}').json() == {"predictions": [1]}
        lines = [line for line in srv.output().splitlines() if "was saved with" in line]
    assert len(lines) == 1, lines
    assert "WARNING" in lines[0] and "models:/Old/1 was saved with scikit-learn==0.20.4 (installed: " in lines[0]
