"""MLflow's search grammar: filters, order_by, max_results and page tokens.

The accept/refuse decisions are compared with MLflow's own parser
(``mlflow.utils.search_utils``, used here only, never by gitreg): a filter
MLflow applies is applied, one it refuses is refused, and the few places
where gitreg is deliberately stricter are listed as such.
"""

from __future__ import annotations

import pytest

from gitreg import filters
from gitreg.errors import InvalidInputError

mlflow_search = pytest.importorskip("mlflow.utils.search_utils")
from mlflow.entities.model_registry import ModelVersion as MlflowVersion  # noqa: E402
from mlflow.entities.model_registry import RegisteredModel as MlflowModel  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

# Filters both parsers accept, for registered models (M) and model versions (V).
VALID_BOTH = [
    "name = 'A'",
    'name = "A"',
    "name='A'",
    "name != 'A'",
    "name LIKE 'a%'",
    "name like 'a%'",
    "name ILIKE 'A_%'",
    "name IN ('a', 'b')",
    "name in ('a',)",
    "name NOT IN ('a')",
    "tags.k = 'v'",
    "tags.k != 'v'",
    "tags.k LIKE '%v'",
    "tags.k ILIKE 'V'",
    "tag.k = 'v'",
    "tags.`key with spaces` = 'x'",
    "tags.\"key q\" = 'x'",
    "tags.'k' = 'v'",
    "tags.mlflow.source.type = 'v'",
    "tags.1abc = 'v'",
    "attribute.name = 'A'",
    "name = 'R AND D'",
    "name = 'x OR y'",
    "name = ''",
    'tags.k = ""',
    "name = 'é'",
    "name\n=\n'a'",
    "name='a'AND tags.k='v'",
    "name = 'A' AND tags.k = 'v'",
    "name = 'A' and tags.k = 'v' AND tags.j LIKE 'w%'",
    "name LIKE 'a%' AND tags.`k` = \"v\"",
    "name = 'a'  ",
    "name = 'O''Brien'",
]
VALID_VERSIONS_ONLY = [
    "version_number = 3",
    "version_number=01",
    "version_number != 3",
    "version_number < 3",
    "version_number <= 3",
    "version_number > 3",
    "version_number >= 3",
    "version_number = -1",
    "version_number = '3'",
    "run_id = 'abc'",
    "run_id != 'abc'",
    "run_id LIKE 'ab%'",
    "run_id IN ('a', 'b')",
    "run_id in ('a', \"b\")",
    "run_id NOT IN ('a')",
    "source_path = 'x'",
    "source_path LIKE '%x%'",
    "source_path ILIKE '%X%'",
    "name = 'a' AND version_number = 2 AND run_id = 'r'",
    "attribute.version_number > 1",
]
INVALID_BOTH = [
    "name='A' OR name='B'",
    "name = 'a' OR",
    "name='A",
    'name = "A',
    "foo='A'",
    "NAME = 'A'",
    "Name='A'",
    "`name` = 'A'",
    "attribute.`name` = 'A'",
    "params.x='1'",
    "metrics.x > 1",
    "name > 'A'",
    "name <> 'A'",
    "name=='A'",
    "name NOT LIKE 'a'",
    "tags.k IN ('v')",
    "tags.k = 3",
    "tags.k LIKE 3",
    "tags.k > 'v'",
    "tags.my-key = 'v'",
    "tags.=x",
    "name = `A`",
    "tags.`a` = `b`",
    "(name='A')",
    "name = 'a' )",
    "name='A'; name='B'",
    "name = 'a' -- comment",
    "name",
    "name =",
    "name ILIKE",
    "= 'A'",
    "name IN ('a', 1)",
    "version_number = 1 OR name = 'a'",
    "creation_timestamp > 0",
    "last_updated_timestamp > 0",
]
INVALID_MODELS_ONLY = [
    "version_number = 3",
    "run_id = 'abc'",
    "source_path = 'x'",
    "run_id IN ('a','b')",
    "name = 3",
]
INVALID_VERSIONS_ONLY = [
    "version_number LIKE '3'",
    "version_number IN (1,2)",
    "source_path IN ('x')",
    "run_id IN ()",
    "name = 3",
    "version_number = +1",
]

# Where gitreg refuses what MLflow's sqlparse-based parser lets through, and why.
STRICTER_THAN_MLFLOW = {
    "name='A' AND": "a dangling AND is a typo, not an empty comparison",
    "AND name='A'": "a leading AND is a typo",
    "name='A' AND AND name='B'": "a doubled AND is a typo",
    "name='A' name='B'": "two comparisons without AND between them",
    "tags.='x'": "a tag key cannot be empty",
    "name IN ('a' 'b')": "MLflow joins adjacent strings into 'ab' (Python literal rules)",
    "name = ('a')": "a list goes with IN, not with =",
    "tags.`a b`.c = 'v'": "MLflow reads the key as '`a b`.c', backticks included",
    "version_number = 1.5": "MLflow truncates 1.5 to version 1",
}


def mlflow_accepts(utils: type, entity: object, filter_string: str) -> bool | None:
    """MLflow's decision: True applied, False refused, None when MLflow itself crashes."""
    try:
        utils.filter([entity], filter_string)  # type: ignore[attr-defined]  # comparators are checked on match
    except MlflowException:
        return False
    except Exception:
        return None
    return True


def accepts(parse: object, filter_string: str) -> bool:
    try:
        parse(filter_string)  # type: ignore[operator]
    except InvalidInputError:
        return False
    return True


MODEL = MlflowModel("A", 0, 0)
VERSION = MlflowVersion("A", 1, 0, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", VALID_BOTH + INVALID_BOTH + INVALID_MODELS_ONLY + VALID_VERSIONS_ONLY)
def test_registered_model_filters_are_accepted_and_refused_as_mlflow_decides(text: str) -> None:
    theirs = mlflow_accepts(mlflow_search.SearchModelUtils, MODEL, text)
    assert accepts(filters.parse_model_filter, text) is theirs


@pytest.mark.parametrize("text", VALID_BOTH + VALID_VERSIONS_ONLY + INVALID_BOTH + INVALID_VERSIONS_ONLY)
def test_model_version_filters_are_accepted_and_refused_as_mlflow_decides(text: str) -> None:
    theirs = mlflow_accepts(mlflow_search.SearchModelVersionUtils, VERSION, text)
    assert accepts(filters.parse_version_filter, text) is theirs


@pytest.mark.parametrize("text", sorted(STRICTER_THAN_MLFLOW))
def test_filters_mlflow_lets_through_by_accident_are_refused(text: str) -> None:
    assert mlflow_accepts(mlflow_search.SearchModelVersionUtils, VERSION, text) is True
    with pytest.raises(InvalidInputError, match="at character"):
        filters.parse_version_filter(text)


@pytest.mark.parametrize(
    "text",
    ["tags.k IS NULL", "name IS NOT NULL", "version_number = 'x'"],
)
def test_filters_that_crash_mlflow_are_refused_with_a_message(text: str) -> None:
    assert mlflow_accepts(mlflow_search.SearchModelVersionUtils, VERSION, text) is None
    with pytest.raises(InvalidInputError, match="at character"):
        filters.parse_version_filter(text)


def test_empty_and_blank_filters_select_everything() -> None:
    assert not filters.parse_model_filter(None)
    assert not filters.parse_model_filter("")
    assert not filters.parse_version_filter("   ")


def test_clauses_carry_key_operator_and_unescaped_value() -> None:
    parsed = filters.parse_version_filter(
        "name ILIKE 'iris%' AND tags.`my key` != \"x\" AND run_id IN ('a', \"b\") AND version_number >= '2'"
    )
    assert [(c.key, c.op, c.value) for c in parsed.clauses] == [
        ("name", "ILIKE", "iris%"),
        ("tags.my key", "!=", "x"),
        ("run_id", "IN", ("a", "b")),
        ("version_number", ">=", 2),
    ]
    assert [c.position for c in parsed.clauses] == [1, 24, 49, 74]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("tags.k = 'O''Brien'", "O'Brien"),
        ("tags.k = 'O\\'Brien'", "O'Brien"),
        ('tags.k = "say ""hi"""', 'say "hi"'),
        ('tags.k = "a\\"b"', 'a"b'),
        ("tags.k = 'back\\\\slash'", "back\\slash"),
        ("tags.k = 'R AND D'", "R AND D"),
        ('tags.k = "it\'s"', "it's"),
    ],
)
def test_quotes_inside_values_are_escaped_by_doubling_or_backslash(text: str, value: str) -> None:
    assert filters.parse_model_filter(text).clauses[0].value == value


def test_and_inside_quotes_does_not_split_the_filter() -> None:
    parsed = filters.parse_model_filter("name = 'R AND D' AND tags.team = 'x AND y'")
    assert [c.value for c in parsed.clauses] == ["R AND D", "x AND y"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name='A' OR name='B'", r"'OR'.*Only AND is supported.*at character 10 "),
        ("name = 'A' AND tags.k = 'oops", r"Unterminated string.*at character 25 "),
        ("colour = 'red'", r"Invalid attribute key 'colour' specified.*at character 1 "),
        ("name = 'a' AND run_id = 'r'", r"Invalid attribute key 'run_id'.*at character 16 "),
        ("name > 'A'", r"Invalid comparator '>' for 'name'.*at character 6 "),
        ("name ~ 'x'", r"Unexpected character '~' in filter.*at character 6 "),
        ("name = 'a' name = 'b'", r"expected AND, found 'name'.*at character 12 "),
        ("name = 'a' AND", r"expected a comparison after AND.*at character 15 "),
        ("tags.my-key = 'v'", r"tags.`my-key`.*at character 8 "),
        ("name = 'a'; name = 'b'", r"multiple expressions.*at character 11 "),
        ("name = iris", r"Expected a quoted string value for attribute 'name'. Got value iris.*at character 8 "),
        ("params.x = '1'", r"Invalid entity type 'params'"),
    ],
)
def test_a_refusal_names_the_problem_and_its_position(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        filters.parse_model_filter(text)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("a%", "abc"),
        ("a%", "a"),
        ("%c", "abc"),
        ("%b%", "abc"),
        ("a_c", "abc"),
        ("a_c", "ac"),
        ("a_c", "abbc"),
        ("abc", "ABC"),
        ("a.c", "abc"),
        ("a.c", "a.c"),
        ("a[b]c", "a[b]c"),
        ("a*", "aaa"),
        ("100%", "100 percent"),
        ("_", ""),
        ("%", ""),
    ],
)
def test_like_and_ilike_match_as_mlflow_does(pattern: str, value: str) -> None:
    like = filters.Clause("name", "LIKE", pattern)
    ilike = filters.Clause("name", "ILIKE", pattern)
    assert like.matches(value) is mlflow_search._like(value, pattern)
    assert ilike.matches(value) is mlflow_search._ilike(value, pattern)


def test_an_absent_value_matches_no_comparison_not_even_not_equal() -> None:
    for op, value in (("=", "x"), ("!=", "x"), ("LIKE", "%"), ("NOT IN", ("x",))):
        assert not filters.Clause("tags.k", op, value).matches(None)


def test_version_numbers_compare_as_numbers() -> None:
    parsed = filters.parse_version_filter("version_number > 9")
    assert parsed.matches(lambda key: 10)
    assert not parsed.matches(lambda key: 9)


def test_exact_names_come_from_equality_and_in_clauses() -> None:
    assert filters.parse_version_filter("name = 'M' AND version_number > 1").exact_names() == {"M"}
    assert filters.parse_version_filter("name IN ('a', 'b') AND name = 'b'").exact_names() == {"b"}
    assert filters.parse_version_filter("name LIKE 'M%'").exact_names() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'a'", True),
        ("tags.team = 'ml'", True),
        ("name LIKE 'i%'", True),
        ("name IN ('a')", True),
        ("name = iris", True),
        ("foo LIKE 'x'", True),
        ("version_number >= 2", True),
        ("tags.team", True),
        ("iris", False),
        ("vision", False),
        ("growth in sales", False),
        ("R&D", False),
    ],
)
def test_a_search_box_query_with_a_comparison_is_a_filter(text: str, expected: bool) -> None:
    assert filters.looks_like_filter(text) is expected


# -- order_by ---------------------------------------------------------------------


def orders(order_by: list[str] | None, grammar: filters.Grammar) -> list[tuple[str, bool]]:
    return [(o.key, o.ascending) for o in filters.parse_order_by(order_by, grammar)]


def test_models_are_ordered_by_name_by_default_and_name_breaks_ties() -> None:
    assert orders(None, filters.MODELS) == [("name", True)]
    assert orders(["last_updated_timestamp DESC"], filters.MODELS) == [
        ("last_updated_timestamp", False),
        ("name", True),
    ]
    assert orders(["name desc"], filters.MODELS) == [("name", False)]


def test_versions_default_to_mlflows_order_and_break_ties_by_name_then_newest_version() -> None:
    assert orders(None, filters.VERSIONS) == [
        ("last_updated_timestamp", False),
        ("name", True),
        ("version_number", False),
    ]
    assert orders(["version_number DESC"], filters.VERSIONS) == [("version_number", False), ("name", True)]
    assert orders(["creation_timestamp"], filters.VERSIONS) == [
        ("creation_timestamp", True),
        ("name", True),
        ("version_number", False),
    ]


@pytest.mark.parametrize(
    "clause", ["name", "name ASC", "name desc", "`name` DESC", "creation_timestamp", "attribute.name"]
)
def test_order_by_clauses_mlflow_accepts_are_accepted(clause: str) -> None:
    mlflow_search.SearchModelVersionUtils.parse_order_by_for_search_model_versions(clause)
    assert orders([clause], filters.VERSIONS)[0][0] == "name" or clause == "creation_timestamp"


@pytest.mark.parametrize(
    ("clause", "grammar", "message"),
    [
        ("name ascending", filters.VERSIONS, "Invalid ordering key"),
        ("NAME", filters.VERSIONS, "Invalid order by key 'NAME'"),
        ("tags.x", filters.VERSIONS, "Invalid order by key 'tags.x'"),
        ("version_number", filters.MODELS, "Invalid order by key 'version_number'"),
        ("name ASC DESC", filters.VERSIONS, "Could not be parsed"),
        ("name, version_number", filters.VERSIONS, "Could not be parsed"),
        ("", filters.VERSIONS, "Could not be parsed"),
    ],
)
def test_order_by_clauses_mlflow_refuses_are_refused(clause: str, grammar: filters.Grammar, message: str) -> None:
    with pytest.raises(MlflowException):
        if grammar is filters.MODELS:
            mlflow_search.SearchModelUtils._get_sort_key([clause])(MODEL)
        else:
            mlflow_search.SearchModelVersionUtils._get_sort_key([clause])(VERSION)
    with pytest.raises(InvalidInputError, match=message):
        filters.parse_order_by([clause], grammar)


def test_an_order_by_key_given_twice_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="duplicate fields"):
        filters.parse_order_by(["name ASC", "name DESC"], filters.MODELS)


def test_timestamp_is_mlflows_sql_store_spelling_of_last_updated_for_models() -> None:
    assert orders(["timestamp DESC"], filters.MODELS)[0] == ("last_updated_timestamp", False)


def test_sort_applies_keys_in_order_with_their_own_directions() -> None:
    rows = [("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    order = filters.parse_order_by(["name DESC", "version_number ASC"], filters.VERSIONS)
    got = filters.sort(rows, order, lambda r, k: r[0] if k == "name" else r[1])
    assert got == [("b", 1), ("b", 2), ("a", 1), ("a", 2)]


# -- max_results and page tokens ----------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, None])
def test_max_results_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="It must be a positive integer"):
        filters.check_max_results(bad, filters.MODELS)


def test_max_results_is_bounded_as_in_mlflow() -> None:
    assert filters.check_max_results(1000, filters.MODELS) == 1000
    with pytest.raises(InvalidInputError, match="at most 1000, but got value 1001"):
        filters.check_max_results(1001, filters.MODELS)
    assert filters.check_max_results(200_000, filters.VERSIONS) == 200_000
    with pytest.raises(InvalidInputError, match="at most 200000"):
        filters.check_max_results(200_001, filters.VERSIONS)


def query(text: str = "name = 'a'", order: list[str] | None = None) -> filters.Query:
    return filters.Query(
        filters.VERSIONS, filters.parse_version_filter(text), filters.parse_order_by(order, filters.VERSIONS)
    )


def test_a_page_token_round_trips_its_offset() -> None:
    q = query()
    assert q.offset(None) == 0
    assert q.offset(q.token(25)) == 25


def test_a_page_token_does_not_depend_on_spacing_of_the_filter() -> None:
    assert query("name='a'").offset(query("name = 'a'").token(3)) == 3


@pytest.mark.parametrize("bad", ["not base64!", "bm90IGpzb24=", "e30=", "eyJvZmZzZXQiOiAtMX0=", "é"])
def test_a_malformed_page_token_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="Invalid page token"):
        query().offset(bad)


def test_a_page_token_from_another_search_is_refused() -> None:
    token = query("name = 'a'").token(10)
    with pytest.raises(InvalidInputError, match="another filter or order_by"):
        query("name = 'b'").offset(token)
    with pytest.raises(InvalidInputError, match="another filter or order_by"):
        query("name = 'a'", ["version_number DESC"]).offset(token)
