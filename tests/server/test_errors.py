"""The one table from gitreg errors to HTTP statuses (the HTTP tests show each on the wire)."""

from __future__ import annotations

import pytest

from gitreg.errors import (
    AlreadyExistsError,
    ConflictError,
    GitError,
    GitregError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from gitreg.server.errors import ModelUnavailable, PayloadTooLarge, status_of
from gitreg.server.payload import UnsupportedMediaType
from gitreg.server.scoring import ModelPredictError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (InvalidInputError("x"), 400),
        (ModelPredictError("x"), 400),
        (UnsupportedMediaType("x"), 415),
        (PayloadTooLarge("x"), 413),
        (NotFoundError("x"), 404),
        (AlreadyExistsError("x"), 409),
        (ConflictError("x"), 409),
        (IntegrityError("x"), 503),
        (ModelUnavailable("x"), 503),
        (GitError("x"), 500),
        (GitregError("x"), 500),
        (ValueError("x"), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_status_of_each_error_class(exc: Exception, status: int) -> None:
    assert int(status_of(exc).split()[0]) == status
