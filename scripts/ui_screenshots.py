"""Regenerate the README's two UI screenshots (docs/images/ui-model.png, ui-version.png).

Builds a small registry (two models, several versions with metrics, stages, an alias, tags and
descriptions, trained in a clean git project with a GitHub remote) in a scratch directory with a fixed
author, serves it with a real ``gitreg ui`` on 127.0.0.1 and photographs two pages with headless
Chromium's own ``--screenshot``. Nothing outside the scratch directory (``$TMPDIR/gitreg-screenshots``,
a fixed name so the pages show the same paths each time; removed afterwards) is read or written,
except the two images.

    .venv/bin/python scripts/ui_screenshots.py [--out docs/images] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The UI tests' helpers (tests/ui/ui_support.py, which imports tests/helpers/): the registry the
# pages show is the one those tests check, served the way they serve it.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "ui")]
from ui_support import MODEL, register_iris, start_ui, stop  # noqa: E402

# page -> (URL path, window height): tall enough for the whole page; the background below is trimmed.
PAGES = {
    "ui-model.png": (f"/models/{MODEL}", 1700),
    "ui-version.png": (f"/models/{MODEL}/versions/3", 2400),
}
WIDTH = 1280


def training_project(root: Path) -> Path:
    """A committed git project with a forge remote, so each version records a clean training commit."""
    project = root / "iris-training"
    project.mkdir()
    (project / "train.py").write_text("# trains the iris classifier\n")
    for args in (["init", "-q"], ["add", "train.py"], ["commit", "-qm", "Train"]):
        subprocess.run(["git", "-C", str(project), *args], check=True)
    remote = ["remote", "add", "origin", "https://github.com/acme/iris-training.git"]
    subprocess.run(["git", "-C", str(project), *remote], check=True)
    return project


def build_registry(root: Path) -> Path:
    """The registry the screenshots show; returns its path. iris-classifier is the UI tests'
    (``ui_support.register_iris``) with a Markdown description and v4 described too; churn-model
    has two versions, v2 in Production."""
    from gitreg import saving, testing
    from gitreg.registry import Registry

    reg = Registry.init(root / "registry")
    os.chdir(training_project(root))
    description = "Classifies iris flowers.\n\nTrained on the **seed** data; see `notebooks/iris.ipynb`."
    saved = register_iris(reg, testing.seed_model(), root, description)
    reg.update_version(MODEL, 4, description="More regularisation.", tags={"validated": "pending"})
    for auc in (0.7, 0.74):
        saving.register(saved, "churn-model", metrics={"auc": auc}, registry=reg, quiet=True)
    reg.promote("churn-model", 2, "Production")
    return reg.path


def screenshot(chromium: str, url: str, out: Path, height: int, profile: Path, env: dict[str, str]) -> None:
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{height}",
        f"--screenshot={out}",
        url,
    ]
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=120)
    trim_bottom(out)


def trim_bottom(path: Path) -> None:
    """Cut the page background below the footer (with Pillow, when installed; else keep it)."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    with Image.open(path) as img:
        rgb = img.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is not None and box[3] + 24 < rgb.height:
        rgb.crop((0, 0, rgb.width, box[3] + 24)).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    opts = parser.parse_args()
    opts.out = opts.out.resolve()
    scratch = Path(tempfile.gettempdir()) / "gitreg-screenshots"
    shutil.rmtree(scratch, ignore_errors=True)  # a previous run's, killed before it cleaned up
    scratch.mkdir()
    try:
        from gitreg import testing

        env = {**os.environ, **testing.isolated_env(scratch / "env")}
        os.environ.update(env)  # the registry built here has the same fixed author
        registry = build_registry(scratch)
        proc, url = start_ui(registry, allow_writes=False)  # read-only, in the environment set above
        try:
            for name, (path, height) in PAGES.items():
                screenshot(opts.chromium, url + path, opts.out / name, height, scratch / "chromium", env)
                print(f"wrote {opts.out / name}")
        finally:
            stop(proc)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
