"""``python -m benchmarks.ui_models [--runs N]``: the UI's models page, 1 model against 200.

Issue #13's target: the page for 200 models within 2x of the page for one,
warm (immutable manifests and records are parsed once per process, by blob
id). Both registries are built here and served in-process through
falcon's test client, so the figures are the page's own cost, without
sockets. Rendering the rows shown is the one cost that should grow, so each
page size is printed with the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from gitreg.registry import Package, Registry


def build(root: Path, models: int) -> Registry:
    reg = Registry.init(root / f"reg-{models}", bare=True)
    src = root / f"src-{models}"
    src.mkdir()
    for i in range(models):
        (src / "model.pkl").write_bytes(os.urandom(64))
        reg.register(f"m{i:03d}", Package(src, ("model.pkl",), "python_function"))
    reg.promote("m000", 1, "Production")
    return reg


def page_ms(reg: Registry, per_page: int, runs: int) -> float:
    """Median milliseconds of a warm GET / (after one request that warms the caches)."""
    import falcon.testing

    from gitreg.ui.app import Settings, create_app

    client = falcon.testing.TestClient(create_app(Settings(str(reg.path))))
    params = {"per_page": str(per_page)}
    assert client.simulate_get("/", host="localhost", params=params).status_code == 200
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.simulate_get("/", host="localhost", params=params)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_models", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, many = build(Path(tmp), 1), build(Path(tmp), 200)
        print("| rows per page | 1 model (ms) | 200 models (ms) | ratio (target < 2) |\n|---|---|---|---|")
        for per_page in (10, 50):
            a, b = page_ms(one, per_page, args.runs), page_ms(many, per_page, args.runs)
            print(f"| {per_page} | {a:.1f} | {b:.1f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
