"""Reading registry YAML is bounded: no anchors or aliases, a size limit
checked before parsing, a nesting limit, no integers too long to convert,
and every refusal an InvalidInputError naming the file; what gitreg writes
always reads back."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitreg import yamlio
from gitreg.errors import InvalidInputError

WHERE = "models/m/gitreg.yaml"
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def refusal(text: bytes | str) -> str:
    with pytest.raises(InvalidInputError) as info:
        yamlio.load(text, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: "), message
    return message


# A '*' or '&' anywhere in a document (here in a comment) sends it through
# gitreg's own composer; without them libyaml's composer builds the nodes.
# Both must apply the same rules.
both_composers = pytest.mark.parametrize("suffix", ["", "# R&D *\n"], ids=["libyaml-composer", "event-composer"])


def test_alias_bomb_is_refused_at_its_first_anchor_quickly():
    started = time.monotonic()
    message = refusal(BOMB)
    assert time.monotonic() - started < 1
    assert "line 1, column 4" in message and "anchors and aliases" in message


@pytest.mark.parametrize(
    "text", ["a: &x 1\n", "a: &x [1]\nb: 2\n", "? &k a\n: 1\n", "- !!str &x a\n"], ids=["scalar", "list", "key", "tag"]
)
def test_an_anchor_is_refused_even_when_never_aliased(text: str):
    assert "anchors and aliases" in refusal(text)


def test_an_alias_to_an_undefined_anchor_is_refused_naming_the_file():
    assert "invalid YAML" in refusal("a: *nowhere\n")


@pytest.mark.parametrize(
    ("text", "value"),
    [("a: '*'\nb: \"&amp;\"\n", {"a": "*", "b": "&amp;"}), ("a: x*y&z  # & *\n", {"a": "x*y&z"})],
)
def test_asterisks_and_ampersands_in_text_are_just_text(text: str, value: dict[str, str]):
    assert yamlio.load(text, WHERE) == value


def test_a_document_over_the_size_limit_is_refused_before_it_is_parsed():
    # Broken YAML: were it parsed, the message would be a syntax error.
    text = b"a: [" + b"x" * yamlio.MAX_BYTES
    started = time.monotonic()
    message = refusal(text)
    assert time.monotonic() - started < 0.5
    assert f"{len(text):,} bytes" in message and f"{yamlio.MAX_BYTES:,}" in message
    assert "invalid YAML" not in message


def test_a_document_at_the_size_limit_is_read():
    text = "a: " + "x" * (yamlio.MAX_BYTES - 3)
    assert len(yamlio.load(text, WHERE)["a"]) == yamlio.MAX_BYTES - 3


@both_composers
@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_is_read_to_the_limit_and_refused_past_it(style: str, suffix: str):
    def nested(depth: int) -> str:
        if style == "flow":
            return "[" * depth + "]" * depth + "\n"
        return "".join("  " * i + "-\n" for i in range(depth))

    assert yamlio.load(nested(yamlio.MAX_DEPTH) + suffix, WHERE) is not None
    assert f"deeper than {yamlio.MAX_DEPTH}" in refusal(nested(yamlio.MAX_DEPTH + 1) + suffix)
    assert "nest" in refusal(nested(100_000 if style == "flow" else 500) + suffix)  # libyaml stops at 1,000


@both_composers
@pytest.mark.parametrize(
    "number", ["1" * 5000, "-" + "9" * 4301, "0x" + "f" * 5000, "0" + "7" * 100, "0b" + "1" * 100, "1" + ":30" * 2000]
)
def test_an_integer_too_long_is_refused_with_its_position(number: str, suffix: str):
    message = refusal(f"format: 1\ncreated: {number}\n{suffix}")
    assert "line 2, column 10" in message and f"{len(number):,} characters" in message


def test_an_integer_as_long_as_allowed_is_read_and_a_quoted_one_is_text():
    assert yamlio.load("a: " + "9" * yamlio.MAX_INT_CHARS, WHERE) == {"a": int("9" * yamlio.MAX_INT_CHARS)}
    assert yamlio.load(f"a: '{'1' * 5000}'", WHERE) == {"a": "1" * 5000}


@both_composers
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("2024-13-45", "timestamp"),
        ("!!timestamp soon", "timestamp"),
        ("!!int abc", "int"),
        ("!!float x", "float"),
        ("!!bool maybe", "bool"),
    ],
)
def test_a_scalar_python_cannot_convert_is_refused_with_its_position(value: str, kind: str, suffix: str):
    message = refusal(f"a: 1\nb: {value}\n{suffix}")
    assert "invalid YAML at line 2, column 4" in message and f"as a {kind}" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"a: \xff\xfe\xfa\n", ["invalid YAML", "UTF-8"]),
        ("a: \ud800\n", ["invalid YAML", "surrogates"]),
        ("a: 1\n---\nb: 2\n", ["invalid YAML", "line 2", "single document", "another document"]),
        ("a: !!python/object/apply:os.system [true]\n", ["invalid YAML", "constructor"]),
        ("? [a]\n: 1\n", ["invalid YAML", "unhashable"]),
        ("a: \x07\n", ["invalid YAML", "control characters"]),
    ],
)
def test_malformed_documents_are_refused_naming_the_file(text: bytes | str, words: list[str]):
    message = refusal(text)
    for word in words:
        assert word in message, message


def test_dump_writes_shared_values_out_in_full_so_they_read_back():
    shared: dict[str, object] = {"k": [1]}
    text = yamlio.dump({"a": shared, "b": shared, "c": [shared, shared]})
    assert "&" not in text and "*" not in text
    assert yamlio.load(text, WHERE) == {"a": {"k": [1]}, "b": {"k": [1]}, "c": [{"k": [1]}, {"k": [1]}]}


def test_the_pure_python_parser_applies_the_same_bounds():
    """Without libyaml (a PyYAML built without it) the same documents are refused."""
    code = f"""
import sys
sys.modules["yaml._yaml"] = None  # as if PyYAML had been built without libyaml
from gitreg import yamlio
from gitreg.errors import InvalidInputError
assert not yamlio._HAS_C_COMPOSER
assert yamlio.load("a: [1, {{b: c}}]", "f") == {{"a": [1, {{"b": "c"}}]}}
for text in ({BOMB!r}, "a: &x 1", "[" * 100_000 + "]" * 100_000, "a: " + "1" * 5000, "a: 2024-13-45"):
    try:
        yamlio.load(text, "f")
    except InvalidInputError as exc:
        assert str(exc).startswith("f: "), exc
    else:
        raise AssertionError(text[:40])
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)
    assert proc.stdout.strip() == "ok", proc.stderr


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(values)
def test_what_dump_writes_reads_back_the_same_through_either_composer(value: object):
    text = yamlio.dump(value)
    assert yamlio.load(text, WHERE) == value
    assert yamlio.load(text + "# & *\n", WHERE) == value


yamlish = st.lists(
    st.sampled_from(
        [
            *("&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n", "  ", "!!int ", "!!python/name:os.system", "? "),
            *("---\n", "'", '"', "#", "1" * 5000, "0x" + "f" * 50, "2024-13-45", ".nan", "<<: ", "|\n", "\t", "\x00"),
        ]
    )
    | st.text(max_size=6),
    max_size=40,
).map("".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(yamlish, yamlish.map(str.encode), st.binary(max_size=200)))
def test_any_input_either_loads_or_is_refused_naming_the_file(text: bytes | str):
    try:
        yamlio.load(text, WHERE)
    except InvalidInputError as exc:
        assert str(exc).startswith(f"{WHERE}: ")
