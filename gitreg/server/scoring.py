"""Scoring a parsed request: the step ``/invocations`` and ``gitreg predict`` share.

Free of HTTP so that offline scoring refuses exactly what the server refuses.
"""

from __future__ import annotations

import logging
from typing import Any

from gitreg.errors import GitregError, InvalidInputError
from gitreg.pyfunc import PyFuncModel
from gitreg.server.payload import ParsedRequest, dumps_predictions, excerpt

__all__ = ["ModelPredictError", "predict", "score"]

log = logging.getLogger("gitreg.server")


class ModelPredictError(InvalidInputError):
    """The model's own ``predict`` refused the input: the client's problem, as in MLflow.

    The original exception is the ``__cause__``, for the server's log.
    """

    error_code = "BAD_REQUEST"


def score(model: PyFuncModel, request: ParsedRequest) -> bytes:
    """The JSON body answering ``request``.

    Raises :class:`~gitreg.errors.InvalidInputError` for input the signature
    refuses, :class:`ModelPredictError` when the model's ``predict`` raises
    (its message shortened) and :class:`~gitreg.errors.GitregError` for
    predictions JSON cannot carry.
    """
    return dumps_predictions(predict(model, request.data, request.params), request.legacy)


def predict(model: PyFuncModel, data: Any, params: dict[str, Any] | None) -> Any:
    """``model.predict``, an exception of the model's own becoming :class:`ModelPredictError`
    (the client's input, as MLflow answers it) in both protocols alike."""
    try:
        return model.predict(data, params)
    except (GitregError, MemoryError):
        raise
    except Exception as exc:
        log.info("the model refused a request: %r", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        message = excerpt(str(exc) or type(exc).__name__, 300)
        raise ModelPredictError(f"the model refused the input: {type(exc).__name__}: {message}") from exc
