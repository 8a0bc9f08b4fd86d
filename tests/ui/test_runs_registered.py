"""A model registered inside ``with gitreg.start_run():`` shows as registered
on the Logged models page (the run's end used to overwrite the record)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import falcon.testing

import gitreg
import gitreg.sklearn
from gitreg import runs
from gitreg.registry import Registry
from gitreg.ui.app import Settings, create_app


def test_registration_inside_a_run_survives_the_end_of_the_run(tmp_path: Path, seed_model: Any) -> None:
    reg = Registry.init(tmp_path / "registry")
    gitreg.set_registry(reg.path)
    with gitreg.start_run() as run:
        gitreg.sklearn.log_model(seed_model, "model", registered_model_name="inside-run")
    record = runs.load_run(run.info.run_id)
    assert record.models["model"]["registered"] == {"name": "inside-run", "version": 1}
    page = falcon.testing.TestClient(create_app(Settings(str(reg.path)))).simulate_get("/runs", host="localhost").text
    main = page[page.index("<main>") :]
    assert "registered as" in main and "inside-run v1" in main and "not registered" not in main, main[:2000]
