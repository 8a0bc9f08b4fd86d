"""gitreg's errors as MLflow's: the one translation, so MLflow's callers branch on the
``error_code`` they already know (``mlflow.register_model`` creates or appends on
``RESOURCE_ALREADY_EXISTS``, a REST client sees 404 for ``RESOURCE_DOES_NOT_EXIST``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import ErrorCode

from gitreg.errors import GitregError

P = ParamSpec("P")
R = TypeVar("R")


def to_mlflow(exc: GitregError) -> MlflowException:
    """``exc`` as an :class:`MlflowException` carrying the same ``error_code`` (gitreg's codes are MLflow's)."""
    try:
        code = ErrorCode.Value(exc.error_code)
    except ValueError:
        code = ErrorCode.Value("INTERNAL_ERROR")
    return MlflowException(str(exc), error_code=code)


@contextmanager
def as_mlflow_errors() -> Iterator[None]:
    """Raise every :class:`GitregError` inside as its :class:`MlflowException`."""
    try:
        yield
    except GitregError as exc:
        raise to_mlflow(exc) from exc


def mlflow_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """:func:`as_mlflow_errors` around a whole method."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with as_mlflow_errors():
            return fn(*args, **kwargs)

    return wrapper
