"""``Client`` search, paging, latest versions, version stages and copies, as
MLflow's client behaves: results are compared with MLflow's own filter and
sort (``mlflow.utils.search_utils``) applied to the same registry."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gitreg
from gitreg.entities import ModelVersion, PagedList, RegisteredModel
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry import Registry
from gitreg.saving import register

mlflow_search = pytest.importorskip("mlflow.utils.search_utils")
from mlflow.entities.model_registry import ModelVersion as MlflowVersion  # noqa: E402
from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag  # noqa: E402
from mlflow.entities.model_registry import RegisteredModel as MlflowModel  # noqa: E402


@pytest.fixture
def small(registry: Registry, saved_model: Path, tmp_path: Path) -> Registry:
    """alpha v1-v3, Beta v1-v2 (another source), gamma (no versions), with tags, run ids and stages."""
    other = tmp_path / "other_src"
    shutil.copytree(saved_model, other)
    for i, run in enumerate(("run-a", "run-b", None), start=1):
        register(saved_model, "alpha", registry=registry, quiet=True, run_id=run, tags={"n": str(i)})
    register(other, "Beta", registry=registry, quiet=True, run_id="run-a", tags={"stage note": "R AND D"})
    register(other, "Beta", registry=registry, quiet=True, run_id="run-c")
    registry.create_model("gamma", tags={"team": "ml"})
    registry.set_model_tag("alpha", "team", "Vision")
    registry.set_model_tag("Beta", "team", "ops")
    registry.set_model_tag("Beta", "key with spaces", "x")
    registry.promote("alpha", 2, "Production")
    registry.promote("alpha", 3, "Staging")
    registry.set_alias("alpha", "champion", 2)
    return registry


def as_mlflow_model(m: RegisteredModel) -> MlflowModel:
    tags = [RegisteredModelTag(k, v) for k, v in m.tags.items()]
    return MlflowModel(m.name, m.creation_timestamp, m.last_updated_timestamp, m.description, tags=tags)


def as_mlflow_version(v: ModelVersion) -> MlflowVersion:
    tags = [ModelVersionTag(k, val) for k, val in v.tags.items()]
    return MlflowVersion(
        v.name,
        v.version,  # type: ignore[arg-type]  # MLflow's file store keeps it an int
        v.creation_timestamp,
        v.last_updated_timestamp,
        source=v.source,
        run_id=v.run_id,
        tags=tags,
    )


def all_pages(search: Callable[..., PagedList[Any]], size: int, **kwargs: Any) -> list[Any]:
    found, token = [], None
    while True:
        page = search(max_results=size, page_token=token, **kwargs)
        assert len(page) <= size
        found += page
        token = page.token
        if token is None:
            return found


MODEL_FILTERS = [
    None,
    "name = 'alpha'",
    "name != 'alpha'",
    "name LIKE 'a%'",
    "name LIKE '%a'",
    "name ILIKE 'b%'",
    "name LIKE 'b%'",
    "name IN ('alpha', 'gamma', 'nope')",
    "name NOT IN ('alpha')",
    "tags.team = 'ops'",
    "tags.team != 'ops'",
    "tags.team ILIKE 'vision'",
    "tags.team LIKE 'V%' AND name = 'alpha'",
    "tags.`key with spaces` = 'x'",
    "tags.missing != 'x'",
    "name = 'a b'",
]
MODEL_ORDERS: list[list[str] | None] = [
    None,
    ["name DESC"],
    ["creation_timestamp DESC"],
    ["last_updated_timestamp DESC"],
    ["last_updated_timestamp ASC", "name DESC"],
]


@pytest.mark.parametrize("filter_string", MODEL_FILTERS)
def test_registered_model_search_finds_and_orders_what_mlflow_does(small: Registry, filter_string: str | None) -> None:
    client = gitreg.Client(small)
    everything = [as_mlflow_model(m) for m in client.search_registered_models(max_results=1000)]
    for order_by in MODEL_ORDERS:
        expected = mlflow_search.SearchModelUtils.sort(
            mlflow_search.SearchModelUtils.filter(everything, filter_string), order_by
        )
        got = client.search_registered_models(filter_string, order_by=order_by, max_results=1000)
        assert [m.name for m in got] == [m.name for m in expected], order_by
        paged = all_pages(client.search_registered_models, 2, filter_string=filter_string, order_by=order_by)
        assert paged == got, order_by


VERSION_FILTERS = [
    None,
    "name = 'alpha'",
    "name='Beta' AND version_number = 2",
    "version_number > 1",
    "version_number <= '2' AND name != 'Beta'",
    "run_id = 'run-a'",
    "run_id IN ('run-a', 'run-c')",
    "run_id NOT IN ('run-a')",
    "run_id != 'run-a'",
    "source_path LIKE '%other_src'",
    "source_path ILIKE '%SAVED%'",
    "tags.n = '2'",
    "tags.n != '2'",
    "tags.`stage note` = 'R AND D'",
    "name LIKE 'a%' AND tags.n LIKE '%'",
    "name = 'gamma'",
    "name = 'missing'",
]
VERSION_ORDERS: list[list[str] | None] = [
    None,
    ["version_number DESC"],
    ["name DESC", "version_number ASC"],
    ["creation_timestamp ASC"],
    ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
]


@pytest.mark.parametrize("filter_string", VERSION_FILTERS)
def test_model_version_search_finds_and_orders_what_mlflow_does(small: Registry, filter_string: str | None) -> None:
    client = gitreg.Client(small)
    everything = [as_mlflow_version(v) for v in client.search_model_versions()]
    for order_by in VERSION_ORDERS:
        expected = mlflow_search.SearchModelVersionUtils.sort(
            mlflow_search.SearchModelVersionUtils.filter(everything, filter_string),
            order_by or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],  # MLflow's stores' default
        )
        got = client.search_model_versions(filter_string, order_by=order_by)
        assert [(v.name, v.version) for v in got] == [(v.name, v.version) for v in expected], order_by
        paged = all_pages(client.search_model_versions, 2, filter_string=filter_string, order_by=order_by)
        assert paged == got, order_by


def test_search_results_are_a_paged_list_whose_last_page_has_no_token(small: Registry) -> None:
    client = gitreg.Client(small)
    first = client.search_model_versions("name = 'alpha'", order_by=["version_number ASC"], max_results=2)
    assert isinstance(first, PagedList) and [v.version for v in first] == [1, 2]
    assert first.token is not None
    rest = client.search_model_versions(
        "name = 'alpha'", order_by=["version_number ASC"], max_results=2, page_token=first.token
    )
    assert [v.version for v in rest] == [3] and rest.token is None
    exact = client.search_model_versions("name = 'alpha'", max_results=3)
    assert len(exact) == 3 and exact.token is None
    assert client.search_registered_models().token is None


def test_a_page_token_only_continues_the_search_that_issued_it(small: Registry) -> None:
    client = gitreg.Client(small)
    token = client.search_model_versions("name = 'alpha'", max_results=1).token
    with pytest.raises(InvalidInputError, match="another filter"):
        client.search_model_versions("name = 'Beta'", max_results=1, page_token=token)
    with pytest.raises(InvalidInputError, match="Invalid page token"):
        client.search_registered_models(page_token="garbage")


@pytest.mark.parametrize("bad", [0, -5, 1001, "10"])
def test_registered_model_search_refuses_a_page_size_mlflow_refuses(small: Registry, bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_results"):
        gitreg.Client(small).search_registered_models(max_results=bad)


def test_or_is_refused_instead_of_silently_finding_nothing(small: Registry) -> None:
    client = gitreg.Client(small)
    with pytest.raises(InvalidInputError, match=r"'OR'.*Only AND is supported"):
        client.search_registered_models("name='alpha' OR name='Beta'")
    with pytest.raises(InvalidInputError, match="'OR'"):
        client.search_model_versions("name='alpha' OR name='Beta'")


class Reads:
    """Counts what a search reads through the registry's public methods."""

    def __init__(self, reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for method in ("model_names", "record", "version_ref", "get_model", "list_versions"):
            original = getattr(reg, method)

            def spy(*args: Any, _name: str = method, _original: Any = original, **kwargs: Any) -> Any:
                self.calls.append((_name, args))
                return _original(*args, **kwargs)

            monkeypatch.setattr(reg, method, spy)
        many = reg.reader.get_models

        def describe(names: Any, **kwargs: Any) -> Any:  # a listing describes its page in one batch
            self.calls += [("get_model", (n,)) for n in names]
            return many(names, **kwargs)

        monkeypatch.setattr(reg.reader, "get_models", describe)

    def of(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]


def test_newest_version_by_name_reads_that_version_only(small: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(small, monkeypatch)
    got = gitreg.Client(small).search_model_versions("name='alpha'", order_by=["version_number DESC"], max_results=1)
    assert [(v.name, v.version) for v in got] == [("alpha", 3)] and got.token is not None
    assert reads.of("model_names") == []
    assert {args[0] for args in reads.of("record")} == {"alpha"}
    assert reads.of("version_ref") == [("alpha", 3)]
    assert reads.of("list_versions") == []


def test_a_filter_on_run_id_reads_versions_in_order_until_the_page_is_full(
    small: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(small, monkeypatch)
    got = gitreg.Client(small).search_model_versions(
        "name = 'alpha' AND run_id != 'run-b'", order_by=["version_number ASC"], max_results=1
    )
    assert [v.version for v in got] == [1] and got.token is None  # v2 is run-b, v3 has no run id
    assert [args[1] for args in reads.of("version_ref")] == [1, 2, 3]


def test_a_name_equality_model_search_describes_that_model_only(
    small: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(small, monkeypatch)
    got = gitreg.Client(small).search_registered_models("name = 'Beta'")
    assert [m.name for m in got] == ["Beta"]
    assert reads.of("model_names") == []
    assert [args[0] for args in reads.of("get_model")] == ["Beta"]


def test_a_model_search_by_name_describes_only_the_page(small: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(small, monkeypatch)
    got = gitreg.Client(small).search_registered_models(max_results=1, order_by=["name DESC"])
    assert [m.name for m in got] == ["gamma"]
    assert [args[0] for args in reads.of("get_model")] == ["gamma"]


def test_a_filter_naming_an_impossible_model_finds_nothing(small: Registry) -> None:
    client = gitreg.Client(small)
    assert client.search_registered_models("name = '../x'") == []
    assert client.search_model_versions("name IN ('a b', '')") == []


# -- get_latest_versions, get_model_version_stages ------------------------------------


def test_latest_versions_per_stage_read_only_those_versions(small: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    client = gitreg.Client(small)
    small.promote("Beta", 1, "Archived")
    reads = Reads(small, monkeypatch)
    latest = {v.current_stage: v.version for v in client.get_latest_versions("alpha")}
    assert latest == {"Production": 2, "Staging": 3, "None": 1}
    assert sorted(args[1] for args in reads.of("version_ref")) == [1, 2, 3]
    assert [v.version for v in client.get_latest_versions("alpha", stages=["production"])] == [2]
    assert [v.version for v in client.get_latest_versions("alpha", stages=[])] == [2, 3, 1]
    assert [v.version for v in client.get_latest_versions("alpha", stages=["champion"])] == [2]
    assert [v.version for v in client.get_latest_versions("Beta", stages=["None", "Archived"])] == [2, 1]
    assert client.get_latest_versions("gamma") == []
    with pytest.raises(NotFoundError):
        client.get_latest_versions("nope")


def test_version_stages_are_none_and_the_declared_stages(small: Registry) -> None:
    client = gitreg.Client(small)
    assert client.get_model_version_stages("alpha", "1") == ["None", "Staging", "Production", "Archived"]
    with pytest.raises(NotFoundError):
        client.get_model_version_stages("alpha", 9)


# -- copy_model_version ---------------------------------------------------------------


def test_copying_a_version_registers_its_files_and_metadata_as_a_new_model(small: Registry) -> None:
    client = gitreg.Client(small)
    small.update_version("alpha", 2, description="the good one")
    src = client.get_model_version("alpha", 2)
    copy = client.copy_model_version("models:/alpha@champion", "alpha-prod")
    assert (copy.name, copy.version, copy.current_stage) == ("alpha-prod", 1, "None")
    for field in ("flavor", "metrics", "params", "run_id", "source", "description", "tags", "signature"):
        assert getattr(copy, field) == getattr(src, field), field
    assert client.get_registered_model("alpha-prod").latest_versions[0].version == 1
    src_files = {a.path: a.sha256 for a in small.version_ref("alpha", 2).manifest.artifacts}
    copy_files = {a.path: a.sha256 for a in small.version_ref("alpha-prod", 1).manifest.artifacts}
    assert copy_files == src_files
    assert gitreg.pyfunc.load_model("models:/alpha-prod/1", registry=small) is not None


def test_copying_into_an_existing_model_adds_its_next_version(small: Registry) -> None:
    copy = gitreg.Client(small).copy_model_version("models:/Beta/1", "alpha")
    assert copy.version == 4 and copy.run_id == "run-a" and copy.tags == {"stage note": "R AND D"}


def test_copying_needs_a_registry_uri(small: Registry, saved_model: Path) -> None:
    client = gitreg.Client(small)
    with pytest.raises(InvalidInputError, match="models:/"):
        client.copy_model_version(str(saved_model), "x")
    with pytest.raises(NotFoundError):
        client.copy_model_version("models:/alpha/9", "x")
    with pytest.raises(InvalidInputError):
        client.copy_model_version("models:/alpha/1", "bad name")
