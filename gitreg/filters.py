"""MLflow's search grammar for registered models and model versions: filters,
``order_by`` clauses, ``max_results`` and page tokens, as values (no I/O).

A filter is comparisons joined by ``AND`` (``OR`` and parentheses are
refused, as MLflow refuses them)::

    filter      := comparison ( AND comparison )*
    comparison  := identifier comparator value
    identifier  := name | version_number | run_id | source_path
                 | attribute.<one of those> | tags.<key> | tag.<key>
    <key>       := [A-Za-z0-9_.]+ | `any text` | "any text" | 'any text'
    comparator  := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
    value       := 'text' | "text" | integer | ( 'text' [, 'text']* )

Which identifier takes which comparator is the grammar's table
(:data:`MODELS`, :data:`VERSIONS`), the same as MLflow's ``SearchModelUtils``
and ``SearchModelVersionUtils``. Keywords are case-insensitive, attribute
names are not. A quote inside a string is written doubled (``'O''Brien'``)
or escaped (``'O\\'Brien'``). ``LIKE`` patterns use ``%`` (any run of
characters) and ``_`` (one character) and must match the whole value;
``ILIKE`` ignores case. A value that is absent (a missing tag, a version
without a run id) matches no comparison, ``!=`` included, as in MLflow.

Every refusal is an :class:`InvalidInputError` whose message says what is
wrong and at which character of the filter.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gitreg.errors import InvalidInputError

T = TypeVar("T")
Value = str | int | tuple[str, ...]
Getter = Callable[[str], str | int | None]

_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS = ("IN", "NOT IN")
_NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
_ALL_OPS = (*_NUMERIC_OPS, "LIKE", "ILIKE", *_LIST_OPS)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"}
TAG_PREFIX = "tags."


@dataclass(frozen=True)
class Grammar:
    """What one search accepts: its attributes and their comparators, and its ``order_by`` keys."""

    what: str  # "registered models" / "model versions"
    attributes: dict[str, tuple[str, ...]]  # attribute -> comparators
    numeric: frozenset[str]
    order_keys: tuple[str, ...]
    order_aliases: dict[str, str]
    default_order: tuple[str, ...]
    tie_breakers: tuple[tuple[str, bool], ...]  # appended unless the key is already ordered on
    max_results: int  # MLflow's bound
    default_max_results: int  # MLflow client's default

    @property
    def list_keys(self) -> list[str]:
        return [k for k, ops in self.attributes.items() if "IN" in ops]


MODELS = Grammar(
    what="registered models",
    attributes={"name": (*_STRING_OPS, *_LIST_OPS)},
    numeric=frozenset(),
    order_keys=("name", "creation_timestamp", "last_updated_timestamp"),
    order_aliases={"timestamp": "last_updated_timestamp"},  # MLflow's SQL store spelling
    default_order=(),
    tie_breakers=(("name", True),),
    max_results=1000,
    default_max_results=100,
)
VERSIONS = Grammar(
    what="model versions",
    attributes={
        "name": (*_STRING_OPS, *_LIST_OPS),
        "version_number": _NUMERIC_OPS,
        "run_id": (*_STRING_OPS, *_LIST_OPS),
        "source_path": _STRING_OPS,
    },
    numeric=frozenset({"version_number"}),
    order_keys=("name", "version_number", "creation_timestamp", "last_updated_timestamp"),
    order_aliases={},
    default_order=("last_updated_timestamp DESC", "name ASC", "version_number DESC"),
    tie_breakers=(("name", True), ("version_number", False)),
    max_results=200_000,
    default_max_results=10_000,
)


# -- filters ------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One comparison: ``key`` is an attribute (``name``, ``version_number``,
    ``run_id``, ``source_path``) or ``tags.<key>``; ``op`` is upper case."""

    key: str
    op: str
    value: Value
    position: int = field(default=0, compare=False)  # 1-based character of the filter it starts at

    @property
    def tag(self) -> str | None:
        """The tag key this clause compares, or None for an attribute."""
        return self.key[len(TAG_PREFIX) :] if self.key.startswith(TAG_PREFIX) else None

    def matches(self, actual: str | int | None) -> bool:
        """Whether ``actual`` (the entity's value for :attr:`key`) satisfies the clause."""
        if actual is None:
            return False
        op, value = self.op, self.value
        if op in _LIST_OPS:
            assert isinstance(value, tuple)
            return (actual in value) == (op == "IN")
        if op in ("LIKE", "ILIKE"):
            assert isinstance(value, str)
            return _like(value, op == "ILIKE").fullmatch(str(actual)) is not None
        if isinstance(value, int):
            try:
                actual = int(actual)
            except ValueError:
                return False
        elif not isinstance(actual, str):
            actual = str(actual)
        return _COMPARE[op](actual, value)


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


@functools.lru_cache(maxsize=256)
def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its clauses, all of which must hold."""

    clauses: tuple[Clause, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def matches(self, get: Getter) -> bool:
        """Whether an entity whose values ``get(key)`` returns passes every clause."""
        return all(c.matches(get(c.key)) for c in self.clauses)

    def only(self, keep: Callable[[Clause], bool]) -> Filter:
        """The clauses ``keep`` selects, as a filter (to test what is cheap to read first)."""
        return Filter(tuple(c for c in self.clauses if keep(c)))

    def on(self, *keys: str) -> Filter:
        """The clauses on these attributes (``"tags."`` selects every tag clause)."""
        return self.only(lambda c: c.key in keys or (TAG_PREFIX in keys and c.tag is not None))

    def exact_names(self) -> frozenset[str] | None:
        """The only model names this filter can select, from its ``name =`` and
        ``name IN`` clauses; None when it has neither (any name may match)."""
        found: frozenset[str] | None = None
        for c in self.clauses:
            if c.key != "name" or c.op not in ("=", "IN"):
                continue
            names = frozenset(c.value if isinstance(c.value, tuple) else (str(c.value),))
            found = names if found is None else found & names
        return found

    def fingerprint(self) -> str:
        return repr([(c.key, c.op, c.value) for c in self.clauses])


def parse_model_filter(filter_string: str | None) -> Filter:
    """Parse a ``search_registered_models`` filter (``name`` and ``tags.<key>``)."""
    return _Parser(filter_string or "", MODELS).parse()


def parse_version_filter(filter_string: str | None) -> Filter:
    """Parse a ``search_model_versions`` filter (``name``, ``version_number``,
    ``run_id``, ``source_path`` and ``tags.<key>``)."""
    return _Parser(filter_string or "", VERSIONS).parse()


def parse(filter_string: str | None) -> list[Clause]:
    """The clauses of a registered-models filter (see :func:`parse_model_filter`)."""
    return list(parse_model_filter(filter_string).clauses)


def matcher(clauses: Iterable[Clause], get: Getter) -> bool:
    """Whether every clause holds for the entity ``get`` reads."""
    return all(c.matches(get(c.key)) for c in clauses)


_FILTERISH = re.compile(
    r"[=<>]|\b(?:I?LIKE|IN)\s*['\"(]|^\s*(?:tags?|attribute)\.|\bIS\s+(?:NOT\s+)?NULL\b", re.IGNORECASE
)


def looks_like_filter(text: str) -> bool:
    """Whether a search box's text is meant as a filter (it has a comparison
    in it), so that a malformed one is reported rather than searched for."""
    return _FILTERISH.search(text) is not None


@dataclass(frozen=True)
class _Token:
    kind: str  # word, quoted_key, string, backtick, number, op, (, ), ",", ;, end
    text: str  # as written
    value: str  # words: the text; strings: unescaped content; quoted keys: the key
    start: int  # 0-based
    prefix: str | None = None  # "tags" in tags.`a b`


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[\w.]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w.])")
_OPS = ("!=", "<>", "==", "<=", ">=", "=", "<", ">")


class _Parser:
    def __init__(self, text: str, grammar: Grammar) -> None:
        self.text = text
        self.grammar = grammar
        self.tokens = self._lex()
        self.i = 0

    # -- errors ---------------------------------------------------------------

    def fail(self, message: str, at: int) -> InvalidInputError:
        shown = self.text if len(self.text) <= 200 else self.text[:197] + "..."
        return InvalidInputError(f"{message} (at character {at + 1} of filter {shown!r})")

    # -- lexing -----------------------------------------------------------------

    def _quoted(self, start: int, what: str) -> tuple[str, int]:
        """The unescaped content of the quoted text at ``start`` and the index after it."""
        quote, text, out, i = self.text[start], self.text, [], start + 1
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
                out.append(text[i + 1])
                i += 2
            elif c == quote and text[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
            elif c == quote:
                return "".join(out), i + 1
            else:
                out.append(c)
                i += 1
        raise self.fail(f"Unterminated {what} starting with {quote}: add the closing {quote}", start)

    def _lex(self) -> list[_Token]:
        text, i, out = self.text, 0, []
        while True:
            space = _SPACE.match(text, i)
            if space:
                i = space.end()
            if i >= len(text):
                out.append(_Token("end", "", "", i))
                return out
            c = text[i]
            if c in "'\"":
                value, end = self._quoted(i, "string")
                out.append(_Token("string", text[i:end], value, i))
            elif c == "`":
                value, end = self._quoted(i, "quoted name")
                out.append(_Token("backtick", text[i:end], value, i))
            elif c in "(),;":
                end = i + 1
                out.append(_Token(c, c, c, i))
            elif (number := _NUMBER.match(text, i)) is not None:
                end = number.end()
                out.append(_Token("number", number.group(), number.group(), i))
            elif (word := _WORD.match(text, i)) is not None:
                end = word.end()
                if text[end : end + 1] == ".":
                    out.append(self._dotted(word.group(), i, end + 1))
                    end = out[-1].start + len(out[-1].text)
                else:
                    out.append(_Token("word", word.group(), word.group(), i))
            else:
                op = next((o for o in _OPS if text.startswith(o, i)), None)
                if op is None:
                    hint = " (quote a tag key with special characters: tags.`my-key`)" if c in "-:/" else ""
                    raise self.fail(f"Unexpected character {c!r} in filter{hint}", i)
                end = i + len(op)
                out.append(_Token("op", op, op, i))
            i = end

    def _dotted(self, prefix: str, start: int, key_start: int) -> _Token:
        """``prefix.key`` where the key is bare (``tags.a.b``) or quoted (``tags.`a b```)."""
        text = self.text
        if key_start < len(text) and text[key_start] in "`'\"":
            key, end = self._quoted(key_start, "quoted name")
            return _Token("quoted_key", text[start:end], key, start, prefix)
        bare = _BARE_KEY.match(text, key_start)
        if bare is None:
            raise self.fail(f"Expected a key after '{prefix}.'", key_start)
        return _Token("quoted_key", text[start : bare.end()], bare.group(), start, prefix)

    # -- parsing ----------------------------------------------------------------

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_keyword(self, tok: _Token, *words: str) -> bool:
        return tok.kind == "word" and tok.value.upper() in words

    def parse(self) -> Filter:
        if not self.text.strip():
            return Filter()
        clauses = [self.comparison()]
        while True:
            tok = self.take()
            if tok.kind == "end":
                return Filter(tuple(clauses))
            if self.is_keyword(tok, "AND"):
                clauses.append(self.comparison(after_and=True))
            elif self.is_keyword(tok, "OR"):
                raise self.fail(
                    "Invalid clause(s) in filter string: 'OR'. Only AND is supported to combine comparisons", tok.start
                )
            elif tok.kind == ";":
                raise self.fail(
                    "Search filter contained multiple expressions. Provide AND-ed expression list", tok.start
                )
            else:
                raise self.fail(f"Invalid clause(s) in filter string: expected AND, found {tok.text!r}", tok.start)

    def comparison(self, after_and: bool = False) -> Clause:
        tok = self.take()
        if tok.kind == "end":
            where = "after AND" if after_and else "in filter"
            raise self.fail(f"Invalid clause(s) in filter string: expected a comparison {where}", tok.start)
        if tok.kind == "(":
            raise self.fail(
                "Invalid clause(s) in filter string: parentheses are only allowed around the list of IN", tok.start
            )
        if tok.kind not in ("word", "quoted_key", "backtick") or (
            tok.kind == "word" and tok.value.upper() in _KEYWORDS
        ):
            raise self.fail(
                f"Invalid clause(s) in filter string: expected an attribute or tags.<key>, found {tok.text!r}",
                tok.start,
            )
        key = self.identifier(tok)
        op, op_at = self.comparator()
        allowed = _STRING_OPS if key.startswith(TAG_PREFIX) else self.grammar.attributes[key]
        if op not in allowed:
            subject = "tags" if key.startswith(TAG_PREFIX) else f"'{key}'"
            if op in _LIST_OPS and not key.startswith(TAG_PREFIX):
                keys = ", ".join(repr(k) for k in self.grammar.list_keys)
                raise self.fail(
                    f"Only [{keys}] attributes support comparison with a list of quoted string values", op_at
                )
            raise self.fail(f"Invalid comparator '{op}' for {subject}: not one of {', '.join(allowed)}", op_at)
        value = self.value(key, op)
        return Clause(key, op, value, tok.start + 1)

    def identifier(self, tok: _Token) -> str:
        grammar = self.grammar
        valid = ", ".join(repr(k) for k in grammar.attributes)
        if tok.kind == "backtick":
            raise self.fail(
                f"Invalid attribute key {tok.text!r} specified. Valid keys are {valid} and tags.<key>", tok.start
            )
        if tok.kind == "quoted_key":
            prefix = tok.prefix or ""
            if prefix in ("tag", "tags"):
                if not tok.value:
                    raise self.fail("Invalid tag key '': a tag key cannot be empty", tok.start)
                return TAG_PREFIX + tok.value
            if prefix != "attribute":
                raise self.fail(
                    f"Invalid entity type '{prefix}'. Valid entity types are ('attribute', 'tag', 'tags')", tok.start
                )
            name = tok.text[len(prefix) + 1 :]  # as written: a quoted attribute name is no attribute
        else:
            name = tok.value
        if name not in grammar.attributes:
            raise self.fail(
                f"Invalid attribute key '{name}' specified. Valid keys are {valid} and tags.<key>", tok.start
            )
        return name

    def comparator(self) -> tuple[str, int]:
        tok = self.take()
        if tok.kind == "op":
            if tok.value in ("<>", "=="):
                raise self.fail(f"Invalid comparator '{tok.value}': not one of {', '.join(_ALL_OPS)}", tok.start)
            return tok.value, tok.start
        if self.is_keyword(tok, "LIKE", "ILIKE", "IN"):
            return tok.value.upper(), tok.start
        if self.is_keyword(tok, "NOT"):
            nxt = self.take()
            if self.is_keyword(nxt, "IN"):
                return "NOT IN", tok.start
            raise self.fail(f"Invalid comparator 'NOT {nxt.text.upper()}': not one of {', '.join(_ALL_OPS)}", tok.start)
        if self.is_keyword(tok, "IS"):
            raise self.fail("Invalid comparator 'IS': IS NULL and IS NOT NULL are not supported here", tok.start)
        found = "the end of the filter" if tok.kind == "end" else repr(tok.text)
        raise self.fail(f"Invalid comparison clause: expected a comparator, found {found}", tok.start)

    def value(self, key: str, op: str) -> Value:
        tok = self.take()
        if op in _LIST_OPS:
            if tok.kind != "(":
                raise self.fail(f"Expected a list of quoted strings after {op}, like ('a', 'b')", tok.start)
            return self.string_list(tok)
        if tok.kind == "end":
            raise self.fail(f"Invalid comparison clause: expected a value after {op}", tok.start)
        if tok.kind == "backtick":
            raise self.fail(
                f"Parameter value is either not quoted or unidentified quote types used for string value {tok.text}. "
                "Use either single or double quotes",
                tok.start,
            )
        if key in self.grammar.numeric:
            if tok.kind == "number" and "." not in tok.value:
                return int(tok.value)
            if tok.kind == "string" and re.fullmatch(r"-?\d+", tok.value.strip()):
                return int(tok.value)
            raise self.fail(f"Expected an integer value for {key}, got {tok.text}", tok.start)
        if tok.kind == "string":
            return tok.value
        what = "tag (e.g. 'my-value')" if key.startswith(TAG_PREFIX) else f"attribute '{key}'"
        raise self.fail(f"Expected a quoted string value for {what}. Got value {tok.text}", tok.start)

    def string_list(self, opening: _Token) -> tuple[str, ...]:
        items: list[str] = []
        while True:
            tok = self.take()
            if tok.kind == ")" and items:
                return tuple(items)
            if tok.kind != "string":
                if tok.kind == ")":
                    raise self.fail(
                        "While parsing a list in the query, expected a non-empty list of string values, "
                        "but got empty list",
                        opening.start,
                    )
                found = "the end of the filter" if tok.kind == "end" else repr(tok.text)
                raise self.fail(
                    f"While parsing a list in the query, expected a quoted string, found {found}", tok.start
                )
            items.append(tok.value)
            sep = self.take()
            if sep.kind == ")":
                return tuple(items)
            if sep.kind != ",":
                found = "the end of the filter" if sep.kind == "end" else repr(sep.text)
                raise self.fail(f"While parsing a list in the query, expected ',' or ')', found {found}", sep.start)


# -- order_by -----------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    key: str
    ascending: bool = True


_ORDER = re.compile(r"\s*(?P<key>`[^`]*`|[A-Za-z_][\w.]*)(?:\s+(?P<dir>\S+))?\s*\Z")


def parse_order_by(order_by: Sequence[str] | str | None, grammar: Grammar) -> tuple[Order, ...]:
    """MLflow's ``order_by`` list (``"name ASC"``, ``"version_number DESC"``…),
    with the grammar's default and its tie-breakers appended."""
    items = [order_by] if isinstance(order_by, str) else list(order_by or grammar.default_order)
    out: list[Order] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInputError(f"Invalid order_by clause {item!r}: expected a string like 'name ASC'.")
        m = _ORDER.match(item)
        if m is None:
            raise InvalidInputError(f"Invalid order_by clause '{item}'. Could not be parsed.")
        key = m.group("key").strip("`")
        key = key.removeprefix("attribute.")
        key = grammar.order_aliases.get(key, key)
        if key not in grammar.order_keys:
            valid = ", ".join(repr(k) for k in grammar.order_keys)
            raise InvalidInputError(f"Invalid order by key '{key}' specified. Valid keys are {valid}.")
        direction = (m.group("dir") or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise InvalidInputError(f"Invalid ordering key in order_by clause '{item}': use ASC or DESC.")
        if any(o.key == key for o in out):
            raise InvalidInputError(f"`order_by` contains duplicate fields: {items}")
        out.append(Order(key, direction == "ASC"))
    for key, ascending in grammar.tie_breakers:
        if not any(o.key == key for o in out):
            out.append(Order(key, ascending))
    return tuple(out)


def sort(items: Iterable[T], order: Sequence[Order], get: Callable[[T, str], Any]) -> list[T]:
    """``items`` sorted by ``order`` (first key first), reading keys with ``get(item, key)``."""
    out = list(items)
    for o in reversed(order):  # stable sorts, least significant key first
        out.sort(key=functools.partial(_key, get, o.key), reverse=not o.ascending)
    return out


def _key(get: Callable[[T, str], Any], key: str, item: T) -> Any:
    return get(item, key)


# -- max_results and page tokens ----------------------------------------------


def check_max_results(max_results: object, grammar: Grammar) -> int:
    """``max_results`` if it is a positive integer within MLflow's bound for this search."""
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidInputError(
            f"Invalid value for max_results. It must be a positive integer, but got {max_results!r}."
        )
    if max_results > grammar.max_results:
        raise InvalidInputError(
            "Invalid value for request parameter max_results. It must be at most "
            f"{grammar.max_results}, but got value {max_results}."
        )
    return max_results


@dataclass(frozen=True)
class Query:
    """A search as a page token binds it: a token from one query is refused by another."""

    grammar: Grammar
    filter: Filter
    order: tuple[Order, ...]

    def digest(self) -> str:
        text = repr((self.grammar.what, self.filter.fingerprint(), self.order))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def token(self, offset: int) -> str:
        """The page token of the page starting at ``offset``."""
        payload = json.dumps({"offset": offset, "query": self.digest()}, separators=(",", ":"))
        return base64.b64encode(payload.encode()).decode("ascii")

    def offset(self, page_token: str | None) -> int:
        """Where the page ``page_token`` names starts (0 without a token)."""
        if page_token is None or page_token == "":
            return 0
        if not isinstance(page_token, str):
            raise InvalidInputError(f"Invalid page token {page_token!r}: expected the token string a search returned.")
        try:
            data = json.loads(base64.b64decode(page_token.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidInputError(
                f"Invalid page token {page_token[:40]!r}: could not be decoded; pass the token a search returned."
            ) from None
        offset = data.get("offset") if isinstance(data, dict) else None
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
            raise InvalidInputError(f"Invalid page token {page_token[:40]!r}: it names no page.")
        if data.get("query") != self.digest():
            raise InvalidInputError(
                "Invalid page token: it continues a search with another filter or order_by; "
                "repeat that search, or start this one without a page token."
            )
        return offset
