"""Soak ``gitreg serve`` at saturation: good and bad requests mixed, the
followed stage swapped every ``--swap-every`` seconds, worker memory watched.

    PYTHONPATH=. python benchmarks/soak.py [--seconds 300] [--swap-every 30] [--clients 4] [--workers 2]

Serves ``models:/LogisticRegression/Production --follow`` from a temporary
registry holding two versions of the seed model and promotes them in turn.
``--clients`` processes each keep one keep-alive connection busy; one
request in five is bad (malformed JSON, wrong column, wrong content type,
garbage CSV). Passes (exit 0) when no good request failed, nothing answered
5xx, every bad request got a 4xx, and each worker's resident memory at the
end is within ``--rss-tolerance`` of its level after the first minute (or
after the first fifth of a shorter run). Prints requests/s, p50/p99 latency
of good requests, and the memory of each worker over time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOOD = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[2.0], [-2.0]]}}).encode()
BAD = [
    (b'{"dataframe_split": {"columns": ["x"], "data": [[', "application/json"),
    (json.dumps({"dataframe_split": {"columns": ["y"], "data": [[1.0]]}}).encode(), "application/json"),
    (GOOD, "text/plain"),
    (b"x\n\x00garbage,,\n", "text/csv"),
    (json.dumps({"inputs": [[float("nan")]]}).encode(), "application/json"),
]


def client(port: int, until: float, seed: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """One keep-alive connection, requests back to back until ``until``."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    counts = {"good": 0, "bad": 0, "good_failed": 0, "bad_not_4xx": 0, "5xx": 0}
    failures: list[str] = []
    while time.monotonic() < until:
        good = rng.random() >= 0.2
        body, ctype = (GOOD, "application/json") if good else rng.choice(BAD)
        started = time.perf_counter()
        try:
            conn.request("POST", "/invocations", body, {"Content-Type": ctype})
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status, data = 0, repr(exc).encode()
        elapsed = time.perf_counter() - started
        counts["good" if good else "bad"] += 1
        if status >= 500:
            counts["5xx"] += 1
        if good:
            ok = status == 200 and json.loads(data).get("predictions") == [1, 0]
            if ok:
                latencies.append(elapsed)
            else:
                counts["good_failed"] += 1
                failures.append(f"{status} {data[:200]!r}")
        elif not 400 <= status < 500:
            counts["bad_not_4xx"] += 1
            failures.append(f"bad request got {status} {data[:200]!r}")
    out.put((counts, latencies, failures[:5]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--swap-every", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-tolerance", type=float, default=0.10)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args(argv)

    import pandas as pd

    import gitreg.sklearn
    from gitreg import testing
    from gitreg.registry import Registry

    root = Path(tempfile.mkdtemp(prefix="gitreg-soak-"))
    env = testing.isolated_env(root / "env")
    os.environ.update({k: v for k, v in env.items() if v})
    reg = Registry.init(root / "registry")
    for i in range(2):
        gitreg.sklearn.log_model(
            testing.seed_model(),
            f"model-{i}",
            registered_model_name="LogisticRegression",
            input_example=pd.DataFrame({"x": [1.0, -1.0]}),
            registry=reg,
        )
    reg.promote("LogisticRegression", 1, "Production")
    serve_args = ("-m", "models:/LogisticRegression/Production", "-r", str(reg.path), "--follow", "--interval", "1")
    serve_args += ("--workers", str(args.workers), "--no-access-log")
    baseline_at = min(60.0, args.seconds / 5)
    with testing.ScoringServer(*serve_args, env=env, cwd=root) as server:
        assert server.proc is not None
        start = time.monotonic()
        until = start + args.seconds
        queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        procs = [
            mp.Process(target=client, args=(server.port, until, i, queue), daemon=True) for i in range(args.clients)
        ]
        for p in procs:
            p.start()
        samples: list[tuple[float, dict[int, int | None]]] = []
        next_swap, version, swaps = start + args.swap_every, 1, 0
        while (now := time.monotonic()) < until:
            if now >= next_swap:
                version = 2 if version == 1 else 1
                reg.promote("LogisticRegression", version, "Production")
                swaps += 1
                next_swap += args.swap_every
            samples.append((now - start, {pid: testing.rss_kb(pid) for pid in sorted(server.worker_pids())}))
            time.sleep(min(5.0, max(0.05, min(next_swap, until) - time.monotonic())))
        results = [queue.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        final = {pid: testing.rss_kb(pid) for pid in sorted(server.worker_pids())}
    counts = {k: sum(r[0][k] for r in results) for k in results[0][0]}
    latencies = sorted(x for r in results for x in r[1])
    failures = [f for r in results for f in r[2]]
    baseline = next((s for t, s in samples if t >= baseline_at), samples[-1][1] if samples else {})
    rss = {pid: {"baseline_kb": baseline.get(pid), "final_kb": kb} for pid, kb in final.items()}
    rss_ok = all(
        v["baseline_kb"]
        and v["final_kb"]
        and abs(v["final_kb"] - v["baseline_kb"]) <= args.rss_tolerance * v["baseline_kb"]
        for v in rss.values()
    ) and set(final) == set(baseline)
    total = counts["good"] + counts["bad"]
    report = {
        "seconds": args.seconds,
        "clients": args.clients,
        "workers": args.workers,
        "swaps": swaps,
        "requests": total,
        "requests_per_s": round(total / args.seconds, 1),
        "good_p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "good_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
        **counts,
        "rss": rss,
        "workers_replaced": sorted(set(baseline) ^ set(final)),
        "rss_within_tolerance": rss_ok,
        "failures": failures[:10],
    }
    passed = counts["good_failed"] == 0 and counts["5xx"] == 0 and counts["bad_not_4xx"] == 0 and rss_ok
    report["passed"] = passed
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k}: {v}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
