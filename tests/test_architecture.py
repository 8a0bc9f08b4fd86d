"""The layering of the design brief, checked on the source: every module of the
gitreg package is parsed with :mod:`ast` (nothing is imported or executed).

What counts as an import: every ``import`` / ``from … import`` statement,
at module level *and inside functions* (a function-level import still ties
the two modules together, it only defers the cost). Imports under ``if
TYPE_CHECKING:`` are not counted: they exist for annotations only and never
run. ``from gitreg.registry import layout`` is an import of
``gitreg.registry.layout``; ``from gitreg.registry import Registry`` is one
of the package ``gitreg.registry``. Running a package's ``__init__`` on the
way to a submodule is Python's doing, not an arrow of ours, and is not
counted.

The checks:

- no import cycle between gitreg modules;
- arrows point down the layers (:data:`LAYERS`): a module imports only
  modules of its own layer or of layers below it, and only the adapters
  import click or falcon;
- one module starts processes (:data:`PROCESS_MODULES`);
- ref and path names are spelled only by the layout module and the store
  (:data:`LAYOUT_MODULES`).

:data:`ALLOW_LIST` names the modules whose violations are known and waiting
for a fix (module -> what remains); it shrinks, it does not grow.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gitreg"

# Lowest first. A module belongs to the first layer with a matching pattern.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "values",  # plain values and their text formats: no I/O on a repository
        (
            "gitreg.errors",
            "gitreg.extras",  # which extra brings an optional package
            "gitreg.names",
            "gitreg.uri",
            "gitreg.manifest",
            "gitreg.signature",
            "gitreg.config",
            "gitreg.entities",
            "gitreg.yamlio",
            "gitreg.policy",
            "gitreg.filters",
            "gitreg.forge",
            "gitreg.audit.findings",  # a rule and a finding: plain values
        ),
    ),
    ("store", ("gitreg.store", "gitreg.store.*")),  # git, knowing nothing of models
    (
        "registry",  # the domain on the store; no model code (flavors, pyfunc, client) below here
        (
            "gitreg.registry",
            "gitreg.registry.*",
            "gitreg.signatures",
            "gitreg.history",
            "gitreg.diff",
            "gitreg.overview",
            "gitreg.sync",
            "gitreg.remote",
            "gitreg.locate",
            "gitreg.cache",
            "gitreg.runs",
            "gitreg.events",
            "gitreg.notify",
            "gitreg.proposals",
        ),
    ),
    (
        "models",  # Python models as files and back, and the facades over everything below
        (
            "gitreg.flavors",
            "gitreg.flavors.*",
            "gitreg.materialize",
            "gitreg.export",
            "gitreg.pyfunc",
            "gitreg.sklearn",
            "gitreg.package",
            "gitreg.saving",
            "gitreg.audit",
            "gitreg.audit.*",
            "gitreg.check",  # reads each version's MLmodel with the flavors' own rules
            "gitreg.hooks",  # the pre-receive hook: check on a push
            "gitreg.client",
            "gitreg.testing",
            "gitreg",
        ),
    ),
    (
        "adapters",  # parse, call the library, print or answer
        (
            "gitreg.cli",
            "gitreg.cli.*",
            "gitreg.server",
            "gitreg.server.*",
            "gitreg.ui",
            "gitreg.ui.*",
            "gitreg.mlflow_plugin",
            "gitreg.mlflow_plugin.*",
            "gitreg.__main__",
        ),
    ),
)
ADAPTER_ONLY = ("click", "falcon", "mlflow")  # third-party packages only the adapters may import

# The one primitive that starts git, and the public test helpers (a scoring server in a child process).
PROCESS_MODULES = ("gitreg.store.process", "gitreg.testing")
_PROCESS_CALLS = {
    "subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"},
    "os": {"system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "spawn*", "exec*"},
}

LAYOUT_MODULES = ("gitreg.registry.layout", "gitreg.store", "gitreg.store.*")
_LAYOUT_HEADS = ("refs/", "models/")

# module -> a violation waiting for its fix; empty, and it must stay so (a new entry needs a reason here).
ALLOW_LIST: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    target: str  # the module (or package) imported
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES: dict[str, ast.Module] = {m: ast.parse(p.read_text(), str(p)) for m, p in MODULES.items()}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for stmt in child.orelse:
                yield stmt
                yield from _runtime_nodes(stmt)
            continue
        yield child
        yield from _runtime_nodes(child)


def imports_of(module: str) -> list[Import]:
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in _runtime_nodes(TREES[module]):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(sub if sub in MODULES else base, node.lineno))
    return found


def _internal_graph() -> dict[str, set[str]]:
    return {m: {i.target for i in imports_of(m) if i.target in MODULES and i.target != m} for m in MODULES}


def layer_of(module: str) -> int:
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(module, p) for p in patterns)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


Problem = tuple[str, str]  # (module, what is wrong)


def cycle_problems() -> list[Problem]:
    graph = _internal_graph()
    problems = []
    for component in _cycles(graph):
        edges = ", ".join(f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component)
        problems += [(m, f"is in the import cycle {edges}") for m in component]
    return problems


def layer_problems() -> list[Problem]:
    problems = []
    for module in MODULES:
        mine = layer_of(module)
        for imp in imports_of(module):
            if imp.target in MODULES and layer_of(imp.target) > mine:
                above = f"{LAYERS[layer_of(imp.target)][0]} is above {LAYERS[mine][0]}"
                problems.append((module, f"line {imp.line} imports {imp.target} ({above})"))
            if imp.target.split(".")[0] in ADAPTER_ONLY and LAYERS[mine][0] != "adapters":
                problems.append((module, f"line {imp.line} imports {imp.target}: only the adapters may"))
    return problems


def _starts_process(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``subprocess.run``, ``os.fork``… (also imported by name) if the called ``node`` names one."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner, name = aliases.get(node.value.id, node.value.id), node.attr
    elif isinstance(node, ast.Name) and "." in aliases.get(node.id, ""):
        owner, _, name = aliases[node.id].rpartition(".")
    else:
        return None
    if any(fnmatch.fnmatchcase(name, p) for p in _PROCESS_CALLS.get(owner, ())):
        return f"{owner}.{name}"
    return None


def process_problems() -> list[Problem]:
    problems = []
    for module, tree in TREES.items():
        if _matches(module, PROCESS_MODULES):
            continue
        aliases: dict[str, str] = {}
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                aliases.update({a.asname or a.name: a.name for a in node.names})
            elif isinstance(node, ast.ImportFrom) and node.module in _PROCESS_CALLS:
                aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if "subprocess" in names:
                    problems.append((module, f"line {node.lineno} imports subprocess at run time"))
            elif isinstance(node, ast.Call) and (started := _starts_process(node.func, aliases)):
                problems.append((module, f"line {node.lineno} calls {started}"))
    return problems


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants, which may quote a ref or a path."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def layout_literals(module: str) -> list[tuple[int, str]]:
    tree = TREES[module]
    skip = _docstrings(tree)
    heads = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            heads.update(id(v) for v in node.values)
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and head.value.startswith(_LAYOUT_HEADS):
                found.append((node.lineno, head.value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in heads
            and node.value.startswith(_LAYOUT_HEADS)
        ):
            found.append((node.lineno, node.value))
    return sorted(found)


def literal_problems() -> list[Problem]:
    problems = []
    for module in MODULES:
        if not _matches(module, LAYOUT_MODULES):
            problems += [(module, f"line {line} spells {text!r}") for line, text in layout_literals(module)]
    return problems


CHECKS = {
    "cycles": cycle_problems,
    "layers": layer_problems,
    "processes": process_problems,
    "literals": literal_problems,
}


def _report(problems: list[Problem]) -> str:
    return "\n".join(f"{module}: {what}" for module, what in problems if module not in ALLOW_LIST)


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_import_cycles() -> None:
    problems = cycle_problems()
    # a cycle is allowed only while one of its modules is on the allow list
    allowed = {what for module, what in problems if module in ALLOW_LIST}
    assert not _report([p for p in problems if p[1] not in allowed])


def test_imports_point_down_the_layers() -> None:
    assert not _report(layer_problems())


def test_one_module_starts_processes() -> None:
    assert not _report(process_problems())


def test_refs_and_paths_are_spelled_by_the_layout_module() -> None:
    assert not _report(literal_problems())


@pytest.mark.parametrize("module", sorted(ALLOW_LIST))
def test_allow_list_entries_are_still_needed(module: str) -> None:
    """An entry goes as soon as its module is fixed, so the list cannot hide a new violation there for long."""
    assert module in MODULES
    assert any(m == module for check in CHECKS.values() for m, _ in check()), f"{module} passes now: remove it"
