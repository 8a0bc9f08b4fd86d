"""Batched model summaries agree with the per-model reads, and search filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg import overview
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry


@pytest.fixture
def two_models(registry: Registry, saved_model: Path) -> Registry:
    from gitreg.saving import register

    for _ in range(3):
        register(saved_model, "iris", registry=registry, quiet=True)
    register(saved_model, "churn", registry=registry, quiet=True)
    registry.create_model("empty", description="No versions yet.", tags={"team": "ml"})
    registry.set_model_tag("iris", "team", "vision")
    registry.promote("iris", 2, "Production")
    registry.promote("iris", 3, "Staging")
    registry.set_alias("iris", "champion", 2)
    registry.promote("churn", 1, "Staging")
    return registry


def test_summaries_agree_with_get_model(two_models: Registry) -> None:
    reg = two_models
    got = {s.name: s for s in overview.summaries(reg, reg.model_names())}
    assert set(got) == {"iris", "churn", "empty"}
    for name in ("iris", "churn"):
        model = reg.get_model(name)
        assert got[name].stages == {k.lower(): v for k, v in model.aliases.items()}
        assert got[name].latest == max(v.version for v in model.latest_versions)
        assert got[name].tags == model.tags
    assert got["iris"].stages == {"champion": 2, "production": 2, "staging": 3}
    assert got["empty"].latest is None and got["empty"].stages == {} and got["empty"].description == "No versions yet."


def test_a_summarys_last_change_is_the_models_last_updated_timestamp(two_models: Registry) -> None:
    import math
    import time

    reg = two_models
    time.sleep(math.ceil(time.time()) - time.time() + 0.01)  # git dates commits in whole seconds
    started = int(time.time())
    reg.set_alias("churn", "champion", 1)  # a commit on a stage branch only
    got = {s.name: s for s in overview.summaries(reg, reg.model_names())}
    assert got["churn"].last_change == reg.get_model("churn").last_updated_timestamp >= started * 1000
    assert got["iris"].last_change == reg.get_model("iris").last_updated_timestamp < started * 1000


def test_summaries_skip_names_that_are_not_models(two_models: Registry) -> None:
    assert [s.name for s in overview.summaries(two_models, ["nope", "churn"])] == ["churn"]


def test_search_by_substring_of_name_or_tag(two_models: Registry) -> None:
    assert overview.search(two_models, "") == ["churn", "empty", "iris"]
    assert overview.search(two_models, "IR") == ["iris"]
    assert overview.search(two_models, "vision") == ["iris"]
    assert overview.search(two_models, "team") == ["empty", "iris"]


def test_search_with_an_mlflow_filter(two_models: Registry) -> None:
    assert overview.search(two_models, "name LIKE 'i%'") == ["iris"]
    assert overview.search(two_models, "tags.team = 'ml'") == ["empty"]
    assert overview.search(two_models, "name != 'iris' AND tags.team = 'ml'") == ["empty"]
    with pytest.raises(InvalidInputError):
        overview.search(two_models, "colour = 'red'")
