"""Load-test ``gitreg serve`` on the seed model against its floor and MLflow, in one run.

Three servers (four with ``--base``) answer the same requests, with the same worker count:

* ``gitreg``: ``gitreg serve -m models:/LogisticRegression/1``;
* ``floor``: the same gunicorn gevent worker and settings (gitreg's runner,
  access log on) serving a plain WSGI function that reads the body and
  answers a constant prediction of the right length: what any Python
  server on this stack costs before parsing, scoring or encoding;
* ``mlflow`` (with ``--mlflow-python PATH`` naming a Python that can
  ``import mlflow``): the seed model saved by MLflow, served by
  ``mlflow models serve --env-manager local``;
* ``base`` (with ``--base DIR`` naming another copy of gitreg's source, e.g.
  ``git archive HEAD | tar -x -C DIR``): the same ``gitreg serve`` run from
  that copy, so a change is measured against what it changes in one run.

Bounded: each scenario runs a fixed number of seconds on 127.0.0.1, at 1 and
16 concurrent keep-alive connections, with a single-row and a 1,000-row
``dataframe_split`` body, for each ``--workers`` count. The runs of one
scenario alternate between the servers, each run starting with the next
one, so a busy moment on the machine touches all of them and none always
runs right after the same neighbour. Prints requests/s, p50 and p99 latency
(medians over ``--runs``), gitreg/floor, gitreg/MLflow (and gitreg/base)
side by side, the time from start to the first 200 from ``/ping`` and the
resident memory of each worker.

Uses ``wrk`` when it is installed, else a Python client (threads, one
keep-alive ``http.client`` connection each; it is slower than wrk, so its
figures are a floor).

    PYTHONPATH=. python benchmarks/serve.py --seconds 5 --runs 3 --workers 1,2 [--mlflow-python PATH] [--base DIR]

The figures depend on the machine and on what else runs on it; quote them
with that caveat.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gitreg import testing

CONNECTIONS = (1, 16)
SCENARIOS = {"1 row": 1, "1,000 rows": 1000}


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def body_for(rows: int) -> bytes:
    data = [[(i % 7) - 3.0] for i in range(rows)]
    return json.dumps({"dataframe_split": {"columns": ["x"], "data": data}}).encode()


# --------------------------------------------------------------------------- servers


class Server:
    """A scoring server process: started, timed to its first /ping, measured, stopped."""

    def __init__(self, label: str, argv: list[str], port: int, env: dict[str, str], logs: Path) -> None:
        self.label = label
        self.argv = argv
        self.port = port
        self.env = env
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_after = float("nan")

    def start(self, timeout: float = 180) -> None:
        started = time.monotonic()
        with open(self.logs / f"{self.label}.log", "wb") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                tail = (self.logs / f"{self.label}.log").read_text(errors="replace").splitlines()[-15:]
                raise SystemExit(f"{self.label} exited early with {self.proc.returncode}:\n" + "\n".join(tail))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    self.ready_after = time.monotonic() - started
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise SystemExit(f"{self.label} was not ready after {timeout}s")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (the master's non-git descendants that serve)."""
        assert self.proc is not None
        tree = _descendants(self.proc.pid)
        workers = [p for p in tree if _is_worker(p)] or [self.proc.pid]
        return [_rss_mb(p) for p in workers]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _is_worker(pid: int) -> bool:
    """A Python process (gunicorn/uvicorn worker), not git or a shell."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    exe = os.path.basename(cmd[0].decode(errors="replace")) if cmd and cmd[0] else ""
    return exe.startswith("python") and b"multiprocessing.resource_tracker" not in b" ".join(cmd)


def _rss_mb(pid: int) -> float:
    kb = testing.rss_kb(pid)
    return float("nan") if kb is None else kb / 1024


# --------------------------------------------------------------------------- load


def load_wrk(port: int, body: bytes, connections: int, seconds: float, tmp: Path) -> Result:
    (tmp / "body.json").write_bytes(body)
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{tmp / "body.json"}", "rb")\n'
        "wrk.body = f:read('*a')\nf:close()\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/invocations"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Result(rps, p50, p99, errors)


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def load_python(port: int, body: bytes, connections: int, seconds: float, tmp: Path) -> Result:
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while (start := time.monotonic()) < deadline:
            try:
                conn.request("POST", "/invocations", body, headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors[i] += 1
                latencies[i].append(time.monotonic() - start)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    every = sorted(x for per in latencies for x in per)
    if not every:
        return Result(0.0, float("nan"), float("nan"), sum(errors))
    return Result(
        len(every) / elapsed,
        every[len(every) // 2] * 1e3,
        every[min(len(every) - 1, int(len(every) * 0.99))] * 1e3,
        sum(errors),
    )


Results = dict[tuple[str, int], list[Result]]


def measure(servers: list[Server], args: argparse.Namespace, tmp: Path) -> dict[str, Results]:
    """Every run of every scenario on every server, the runs of a scenario alternating between servers."""
    load = load_wrk if shutil.which("wrk") else load_python
    results: dict[str, Results] = {s.label: {} for s in servers}
    for scenario, rows in SCENARIOS.items():
        body = body_for(rows)
        for connections in CONNECTIONS:
            runs: dict[str, list[Result]] = {s.label: [] for s in servers}
            for run in range(args.runs):
                # each run starts with another server: none always follows the same one (MLflow's
                # worker can still be busy when its run ends, which would slow whoever comes next)
                for server in servers[run % len(servers) :] + servers[: run % len(servers)]:
                    r = load(server.port, body, connections, args.seconds, tmp)
                    runs[server.label].append(r)
                    print(
                        f"  {server.label:>6}: {scenario}, {connections} conn, run {run + 1}/{args.runs}: "
                        f"{r.rps:8.1f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  errors {r.errors}",
                        flush=True,
                    )
            for label, done in runs.items():
                results[label][(scenario, connections)] = done
    return results


def median_of(runs: list[Result]) -> Result:
    return Result(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )


def paired_ratio(ours: list[Result], theirs: list[Result]) -> float:
    """The median over runs of ours/theirs, each pair measured back to back (robust to a drifting load)."""
    return statistics.median(a.rps / b.rps for a, b in zip(ours, theirs, strict=True))


# --------------------------------------------------------------------------- the floor


def floor_app(rows: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """A WSGI app that reads the body and answers the seed model's prediction
    for ``rows`` rows as a constant, chosen by the body's length."""
    answers = {len(body_for(n)): json.dumps({"predictions": [0] * n}).encode() for n in rows}
    default = json.dumps({"predictions": [0]}).encode()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        body = answers.get(length, default)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve_floor(port: int, workers: int) -> None:
    """Run the floor under gitreg's own runner: same worker class, settings and access log."""
    from gitreg.server.runner import ServerOptions, run

    run(floor_app(tuple(SCENARIOS.values())), ServerOptions(port=port, workers=workers), lambda: None)


# --------------------------------------------------------------------------- setup


def build_registry(root: Path, env: dict[str, str]) -> Path:
    """A registry holding the seed model as LogisticRegression version 1, built in a child process."""
    script = (
        "import pandas as pd, gitreg.sklearn\n"
        "from gitreg import testing\nfrom gitreg.registry import Registry\n"
        f"reg = Registry.init({str(root / 'registry')!r})\n"
        "gitreg.sklearn.log_model(testing.seed_model(), 'model', registered_model_name='LogisticRegression',\n"
        "    input_example=pd.DataFrame({'x': [1.0, -1.0]}), registry=reg)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    return root / "registry"


def mlflow_model(python: str, root: Path) -> Path | None:
    """The seed model saved by MLflow itself, or None if ``python`` cannot import mlflow."""
    probe = subprocess.run([python, "-c", "import mlflow, sklearn"], capture_output=True)
    if probe.returncode != 0:
        print(f"MLflow: skipped ({python} cannot import mlflow and sklearn).")
        return None
    path = root / "mlflow-model"
    script = (
        "import sys, numpy as np, pandas as pd, mlflow.sklearn\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1); y = np.array([0, 0, 1, 1, 1, 0])\n"
        "mlflow.sklearn.save_model(LogisticRegression().fit(X, y), sys.argv[1],\n"
        "    input_example=pd.DataFrame({'x': [1.0, -1.0]}))\n"
    )
    subprocess.run([python, "-c", script, str(path)], check=True, capture_output=True)
    return path


def servers_for(workers: int, registry: Path, model: Path | None, args: argparse.Namespace, env: dict[str, str],
                tmp: Path) -> list[Server]:  # fmt: skip
    port = testing.free_port()
    argv = [sys.executable, "-m", "gitreg", "serve", "-m", "models:/LogisticRegression/1", "-r", str(registry),
            "--port", str(port), "--workers", str(workers)]  # fmt: skip
    if args.no_access_log:
        argv.append("--no-access-log")
    servers = [Server("gitreg", argv, port, env, tmp)]
    if args.base:
        bport = testing.free_port()
        bargv = [*argv[: argv.index("--port") + 1], str(bport), *argv[argv.index("--port") + 2 :]]
        servers.append(Server("base", bargv, bport, {**env, "PYTHONPATH": str(Path(args.base).resolve())}, tmp))
    fport = testing.free_port()
    fargv = [sys.executable, __file__, "--floor-port", str(fport), "--workers", str(workers)]
    servers.append(Server("floor", fargv, fport, {**env, "PYTHONPATH": str(Path(__file__).parents[1])}, tmp))
    if model is not None:
        mport = testing.free_port()
        margv = [args.mlflow_python, "-m", "mlflow", "models", "serve", "-m", str(model), "--env-manager",
                 "local", "-h", "127.0.0.1", "-p", str(mport), "-w", str(workers)]  # fmt: skip
        # mlflow runs its venv's uvicorn by name: put that venv's bin first on PATH
        path = f"{Path(args.mlflow_python).parent}{os.pathsep}{os.environ['PATH']}"
        servers.append(Server("mlflow", margv, mport, {**env, "PATH": path}, tmp))
    return servers


Report = dict[str, tuple[Server, Results, list[float]]]


def run_workers(servers: list[Server], args: argparse.Namespace, tmp: Path) -> Report:
    """Start every server, measure them together, stop them."""
    try:
        for server in servers:
            print(f"{server.label}: starting...", flush=True)
            server.start()
            print(f"{server.label}: first 200 from /ping {server.ready_after:.2f} s after start", flush=True)
        results = measure(servers, args, tmp)
        return {s.label: (s, results[s.label], s.worker_rss_mb()) for s in servers}
    finally:
        for server in servers:
            server.stop()


def print_report(workers: int, report: Report, runs: int) -> None:
    print(f"\nmedians{f' of {runs} runs' if runs > 1 else ''}, {workers} worker(s); ratios: median of per-run ratios")
    for label, (server, _, rss) in report.items():
        print(f"  {label}: ready {server.ready_after:.2f} s, RSS per worker {', '.join(f'{m:.0f}' for m in rss)} MB")
    labels = list(report)
    head = "".join(f"{label:>22}" for label in labels)
    base = "base" in report
    print(f"  {'':>20}{head}   gitreg/floor  gitreg/MLflow" + ("  gitreg/base  base/floor" if base else ""))
    for key, ours in report["gitreg"][1].items():
        medians = {label: median_of(report[label][1][key]) for label in labels}
        cells = "".join(f"{medians[label].rps:>9.0f} req/s p99 {medians[label].p99_ms:>5.1f}" for label in labels)
        floor = paired_ratio(ours, report["floor"][1][key])
        mlflow = f"{paired_ratio(ours, report['mlflow'][1][key]):>9.1f}x" if "mlflow" in report else f"{'-':>10}"
        errors = sum(m.errors for m in medians.values())
        against = ""
        if base:
            against = (f"  {paired_ratio(ours, report['base'][1][key]):>10.2f}x"
                       f"  {paired_ratio(report['base'][1][key], report['floor'][1][key]):>8.2f}x")  # fmt: skip
        print(f"  {key[0]:>10}, {key[1]:>2} conn{cells}   {floor:>9.2f}x    {mlflow}{against}"
              + (f"  ({errors} errors)" if errors else ""))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario and server (medians are reported)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--mlflow-python", default=None, metavar="PATH", help="a Python with mlflow installed")
    parser.add_argument("--no-access-log", action="store_true", help="serve gitreg without its access log")
    parser.add_argument("--base", default=None, metavar="DIR", help="another copy of gitreg's source to compare with")
    parser.add_argument("--floor-port", type=int, default=None, help=argparse.SUPPRESS)  # the floor server itself
    args = parser.parse_args()
    if args.floor_port is not None:
        serve_floor(args.floor_port, int(args.workers))
        return

    generator = "wrk" if shutil.which("wrk") else "Python threads (slower than wrk)"
    print(f"load generator: {generator}; {args.runs} run(s) x {args.seconds:g} s per scenario and server; "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gitreg-bench-") as tmpdir:
        tmp = Path(tmpdir)
        env = {**os.environ, **testing.isolated_env(tmp / "env")}
        registry = build_registry(tmp, env)
        model = mlflow_model(args.mlflow_python, tmp) if args.mlflow_python else None
        if not args.mlflow_python:
            print("MLflow: skipped (pass --mlflow-python PATH to compare).", flush=True)
        reports = {}
        for workers in (int(w) for w in args.workers.split(",")):
            print(f"--- {workers} worker(s)", flush=True)
            reports[workers] = run_workers(servers_for(workers, registry, model, args, env, tmp), args, tmp)
    for workers, report in reports.items():
        print_report(workers, report, args.runs)


if __name__ == "__main__":
    main()
