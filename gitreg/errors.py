"""The one exception hierarchy of gitreg.

Every error a user can cause is a :class:`GitregError`. Its message says what
was wrong and what to do about it. Each class carries what HTTP servers answer
with (``error_code``, MLflow's REST code, and ``http_status``): this is the one
place statuses are decided, so the scoring server and the UI agree; subclasses
defined by a server (a body too large, say) set their own. The CLI maps the
classes to exit codes in ``gitreg.cli.errors``; nothing else does.
"""

from __future__ import annotations


class GitregError(Exception):
    """Root of every error gitreg raises on purpose.

    ``error_code`` mirrors MLflow's REST error codes so that HTTP clients
    written against MLflow can branch on it.
    """

    error_code = "INTERNAL_ERROR"
    http_status = 500


class InvalidInputError(GitregError, ValueError):
    """A name, URI, manifest, payload or argument was refused at the boundary."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class NotFoundError(GitregError, LookupError):
    """A registry, model, version, stage or file does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class AlreadyExistsError(GitregError):
    """Creating something that is already there (a model name, a registry)."""

    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 409


class ConflictError(GitregError):
    """Someone else changed the registry first and retrying did not help."""

    error_code = "ABORTED"
    http_status = 409


class IntegrityError(GitregError):
    """Stored content does not match what its manifest or tag promises.

    Raised before anything is unpickled, so a tampered artifact never runs.
    """

    error_code = "INVALID_STATE"
    # The server's state, not the request's: nothing is served until someone
    # repairs or re-promotes.
    http_status = 503


class GitError(GitregError):
    """A git command failed for a reason gitreg did not anticipate."""

    error_code = "INTERNAL_ERROR"


class NoRegistryError(NotFoundError):
    """No registry was given and none contains the current directory."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "No gitreg registry found. Create one with 'gitreg init PATH', then pass "
            "registry=PATH / --registry PATH, call gitreg.set_registry(PATH), or set "
            "GITREG_REGISTRY=PATH."
        )
        super().__init__(f"{detail} {msg}".strip())
