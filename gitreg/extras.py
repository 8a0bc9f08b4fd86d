"""Which extra brings each optional package, and the one error for a missing one.

gitreg's core (the registry, the CLI, ``gitreg check``, the loader) needs only
PyYAML, cloudpickle and click. Serving, the web UI and the scikit-learn flavor
need more, installed as extras of the distribution (``pyproject.toml``'s
``[project.optional-dependencies]``: what each extra installs lives there).
Every module-level import of an optional package sits inside :func:`require`::

    with require("serve"):
        import falcon

so using a part without its extra fails in one line naming what to install,
``pip install 'gitreg-registry[serve]'``, which the CLI shows like any other
refusal (exit status 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gitreg.errors import MissingExtraError

__all__ = ["DISTRIBUTION", "EXTRAS", "require"]

# The name gitreg is published under; the import package and the command stay
# ``gitreg`` (the index's ``gitreg`` is an unrelated project).
DISTRIBUTION = "gitreg-registry"

# extra -> the top-level modules gitreg imports from it. tests/test_packaging.py
# checks this against pyproject.toml, so the two cannot drift apart.
EXTRAS: dict[str, frozenset[str]] = {
    "serve": frozenset({"falcon", "gunicorn", "gevent", "packaging", "numpy", "pandas"}),
    "ui": frozenset({"falcon", "gunicorn"}),
    "sklearn": frozenset({"sklearn", "numpy", "pandas", "skops"}),
    "skops": frozenset(),  # an alias of [sklearn], kept for installs that name it
    "mlflow": frozenset({"mlflow"}),  # the registry-store plugin (gitreg.mlflow_plugin)
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, quoted for a POSIX shell."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


@contextmanager
def require(extra: str) -> Iterator[None]:
    """Imports in this block come from ``extra``: a package of it that is not
    installed raises :class:`MissingExtraError` (an ``ImportError`` too) naming
    the extra. Any other import failure (a broken install, a missing module of
    a package's own) propagates unchanged, since installing the extra would not
    fix it."""
    modules = EXTRAS[extra]
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = exc.name or ""  # the first module not found: a package, or a submodule of an installed one
        if missing not in modules:
            raise
        raise MissingExtraError(
            f"{missing} is not installed; it comes with gitreg's {extra!r} extra: {install_hint(extra)}.",
            extra=extra,
            module=missing,
        ) from None
