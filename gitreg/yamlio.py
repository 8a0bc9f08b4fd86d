"""YAML in and out, bounded: registry files come from git pushes, so whoever
can push can hand every reader a file crafted to hurt it.

Reading is PyYAML's *safe* constructor (a custom tag never constructs an
object) over the libyaml parser where it is installed, with a composer of our
own between them that refuses what registry files never need:

* anchors and aliases (``&a`` / ``*a``): an alias bomb ("billion laughs")
  is 1 KB of text that expands to gigabytes once anything walks it, and
  gitreg never writes one (:func:`dump` writes every value out in full);
* documents larger than :data:`MAX_BYTES`, checked before parsing;
* collections nested deeper than :data:`MAX_DEPTH`;
* integers longer than :data:`MAX_INT_CHARS` characters (Python refuses to
  turn a 5,000-digit decimal into an int, and a hexadecimal or base-60 one
  becomes an int that nothing can print).

Every problem, these and plain syntax errors alike, is an
:class:`InvalidInputError` whose message starts with the file it came from.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from gitreg.errors import InvalidInputError

#: The largest registry YAML document read, in bytes. A manifest is about
#: 1.5 KB (a signature of 10,000 columns is ~450 KB); a model's record grows
#: by ~50 bytes per version, so this holds ~20,000 versions of one model.
#: Parsing a hostile document of this size (half a million one-letter list
#: items) takes about a second and 170 MB; a limit four times larger would
#: let one pushed file cost a reader most of a gigabyte.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and lists. gitreg's own files nest at most 5
#: levels (a tensor signature's shape); MLmodel files a few more.
MAX_DEPTH = 32
#: Longest integer scalar, in characters (underscores and sign included):
#: every 128-bit integer fits. Sizes and timestamps need 20 at most.
MAX_INT_CHARS = 40

try:
    from yaml._yaml import CParser as _Parser  # what yaml.cyaml.CSafeLoader parses with

    _HAS_C_COMPOSER = True
except ImportError:  # PyYAML built without libyaml: the same rules, slower
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: bytes | str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    _HAS_C_COMPOSER = False

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels; registry files are shallow, flatten it"


class _Refused(yaml.MarkedYAMLError):
    """A document that is valid YAML but breaks one of the bounds above."""


class _BoundedLoader(_Parser, SafeConstructor, Resolver):
    """The safe loader with :meth:`get_single_node` replaced by a composer
    that refuses anchors, aliases and deep nesting as the events stream by,
    before any node is built for them; integers and other scalars whose
    conversion fails are refused with their line and column."""

    def __init__(self, stream: bytes | str) -> None:
        # Without a '&' or '*' (in any of YAML's encodings, a byte 0x26 or
        # 0x2A) there can be no anchor or alias, so libyaml's own composer,
        # which is faster than any composer in Python, may build the nodes
        # and only their depth is left to check.
        if isinstance(stream, str):
            self._fast = _HAS_C_COMPOSER and "&" not in stream and "*" not in stream
        else:
            self._fast = _HAS_C_COMPOSER and b"&" not in stream and b"*" not in stream
        _Parser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def get_single_node(self) -> Node | None:
        if self._fast:
            node = _Parser.get_single_node(self)
            _check_depth(node)
            return node
        get: Any = self.get_event
        get()  # StreamStartEvent
        event = get()
        node = None
        if event.__class__ is not StreamEndEvent:  # a DocumentStartEvent
            node = self._compose(get(), 0)
            get()  # DocumentEndEvent
            event = get()
            if event.__class__ is not StreamEndEvent:
                raise _Refused(
                    "expected a single document in the stream", None, "but found another document", event.start_mark
                )
        return node

    def _compose(self, event: Any, depth: int) -> Node:
        # Events are fetched once each and compared by class (not with
        # check_event): this loop is most of the cost of reading a manifest.
        cls = event.__class__
        if cls is AliasEvent or event.anchor is not None:
            raise _Refused(
                None,
                None,
                "anchors and aliases (&name, *name) are not allowed in registry files; write each value out in full",
                event.start_mark,
            )
        tag = event.tag
        if cls is ScalarEvent:
            if tag is None or tag == "!":
                tag = self.resolve(ScalarNode, event.value, event.implicit)
            return ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        if depth >= MAX_DEPTH:
            raise _Refused(None, None, _TOO_DEEP, event.start_mark)
        get: Any = self.get_event
        child = get()
        if cls is SequenceStartEvent:
            if tag is None or tag == "!":
                tag = self.resolve(SequenceNode, None, event.implicit)
            items: list[Any] = []
            while child.__class__ is not SequenceEndEvent:
                items.append(self._compose(child, depth + 1))
                child = get()
            end: Any = child.end_mark  # libyaml's Mark class, which the stubs do not take
            return SequenceNode(tag, items, event.start_mark, end, event.flow_style)
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, event.implicit)
        pairs: list[Any] = []
        while child.__class__ is not MappingEndEvent:
            key = self._compose(child, depth + 1)
            pairs.append((key, self._compose(get(), depth + 1)))
            child = get()
        end = child.end_mark
        return MappingNode(tag, pairs, event.start_mark, end, event.flow_style)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        if len(node.value) > MAX_INT_CHARS:
            raise _Refused(
                None,
                None,
                f"an integer of {len(node.value):,} characters is longer than the {MAX_INT_CHARS} allowed "
                "(quote it if it is meant as text)",
                node.start_mark,
            )
        return SafeConstructor.construct_yaml_int(self, node)


def _check_depth(root: Node | None) -> None:
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node is None or node.__class__ is ScalarNode:
            continue
        if depth >= MAX_DEPTH:
            raise _Refused(None, None, _TOO_DEEP, node.start_mark)
        depth += 1
        if node.__class__ is SequenceNode:
            for child in node.value:
                if child.__class__ is not ScalarNode:
                    stack.append((child, depth))
        else:
            for key, value in node.value:
                if key.__class__ is not ScalarNode:
                    stack.append((key, depth))
                if value.__class__ is not ScalarNode:
                    stack.append((value, depth))


def _with_mark(construct: Any) -> Any:
    """``construct``, with Python's own conversion errors for values the
    resolver let through (a timestamp of 2024-13-45, ``!!int abc``,
    ``!!bool maybe``) turned into a YAML error that says where."""

    def guarded(loader: _BoundedLoader, node: ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            raise _Refused(
                None, None, f"cannot read {_clip(repr(node.value), 60)} as a {kind}", node.start_mark
            ) from exc

    return guarded


for _tag, _construct in (
    ("int", _BoundedLoader.construct_yaml_int),
    ("float", SafeConstructor.construct_yaml_float),
    ("bool", SafeConstructor.construct_yaml_bool),
    ("timestamp", SafeConstructor.construct_yaml_timestamp),
):
    _BoundedLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _with_mark(_construct))


class _FullDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Writes a value as often as it occurs instead of as an alias, so that
    what gitreg writes is always what it reads back."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load(text: bytes | str, where: str) -> Any:
    """Parse one registry YAML document within the bounds above.

    Raises :class:`InvalidInputError` naming ``where`` (and the line and
    column where the parser knows them) for any syntax error, an anchor or
    alias, a document over :data:`MAX_BYTES`, nesting over
    :data:`MAX_DEPTH`, or a scalar that cannot be converted.
    """
    size = len(text)
    if size > MAX_BYTES:
        unit = "bytes" if isinstance(text, bytes) else "characters"
        raise InvalidInputError(
            f"{where}: not read: {size:,} {unit} is more than the {MAX_BYTES:,} a registry YAML file may hold. "
            "Shorten it, or restore it from the registry's git history."
        )
    try:
        loader = _BoundedLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and mark:
            problem = f"{context}, {problem}"
        raise InvalidInputError(f"{where}: invalid YAML{at}: {_clip(problem, 200)}.") from None
    except UnicodeError as exc:  # a str holding a lone surrogate cannot be encoded for the parser
        raise InvalidInputError(f"{where}: invalid YAML: {_clip(str(exc))}.") from None


def dump(data: Any) -> str:
    """YAML text of ``data`` (plain values only), without anchors or aliases."""
    return yaml.dump(data, Dumper=_FullDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def load_mapping(text: bytes | str, where: str) -> dict[str, Any]:
    """:func:`load` of a document that must be a mapping (an empty one is refused too)."""
    data = load(text, where)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: expected a YAML mapping, got {type(data).__name__}.")
    return data
