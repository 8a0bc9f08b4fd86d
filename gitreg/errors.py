"""The one exception hierarchy of gitreg.

Every error a user can cause is a :class:`GitregError`. Its message says what
was wrong and what to do about it. Each class carries what HTTP servers answer
with (``error_code``, MLflow's REST code, and ``http_status``): this is the one
place statuses are decided, so the scoring server and the UI agree; subclasses
defined by a server (a body too large, say) set their own. The CLI maps the
classes to exit codes in ``gitreg.cli.errors``; nothing else does.
"""

from __future__ import annotations

import errno


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


class PolicyError(InvalidInputError):
    """A write the registry's promotion policy (``registry.yaml`` on main) refuses.

    The request was well formed; the version does not satisfy the stage's
    rules, so HTTP answers 422. ``findings`` are the rule violations, each with
    ``line()``; the message lists them and names the override
    (``--override-policy REASON``), which is recorded in the promotion commit.
    An :class:`InvalidInputError`, so callers that treat a refused argument as
    the caller's mistake keep doing so."""

    http_status = 422

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class MissingExtraError(InvalidInputError, ImportError):
    """A part of gitreg was used without the extra that installs its packages
    (serving without ``[serve]``, say); the message names the ``pip install``.

    Raised where the package is imported (:func:`gitreg.extras.require`), so it
    is an ``ImportError`` too and code that falls back on a failed import keeps
    doing so. Over HTTP it is the server's lack, not the request's: 501."""

    http_status = 501

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message)
        self.extra, self.module = extra, module
        self.name = module  # what ImportError.name means: the module that could not be found


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


class StorageError(GitregError):
    """The file system refused what the registry had to write: the disk is
    full, a quota is used up, or a path is too long for it. Raised before
    anything was published, so the registry is as it was.

    :func:`storage_error` is the one place an errno becomes one of these, for
    Python's own ``OSError`` and for git's messages alike. The message is
    ``problem: advice; outcome.``; callers that know what was being done (the
    CLI) restate the outcome with :meth:`with_outcome`.
    """

    error_code = "RESOURCE_EXHAUSTED"
    http_status = 507  # Insufficient Storage

    def __init__(self, problem: str, advice: str, outcome: str = "the registry is unchanged") -> None:
        self.problem, self.advice, self.outcome = problem, advice, outcome
        super().__init__(f"{problem}: {advice}; {outcome}.")

    def with_outcome(self, outcome: str) -> StorageError:
        return type(self)(self.problem, self.advice, outcome)


class ReadOnlyError(StorageError):
    """The registry's files cannot be written by this user (a read-only mount,
    or permissions)."""

    error_code = "PERMISSION_DENIED"
    http_status = 403


_FULL = {errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded"}
_READ_ONLY = {errno.EROFS: "read-only file system", errno.EACCES: "permission denied", errno.EPERM: "not permitted"}


def storage_error(code: int | None, path: object = None, *, registry: object = None) -> StorageError | None:
    """The :class:`StorageError` for an errno of the storage kind (full, over
    quota, read-only, name too long), naming ``path``; None for any other
    errno, which stays what it was. ``registry`` (the repository's path)
    makes a refused write read "the registry at X is read-only for you"."""
    where = f" while writing {path}" if path else ""
    if code in _FULL:
        return StorageError(f"{_FULL[code]}{where}", "free space and try again")
    if code in _READ_ONLY:
        if registry is not None:
            return ReadOnlyError(
                f"the registry at {registry} is read-only for you ({_READ_ONLY[code]}{where})",
                "get write access to it, or register into a clone you can write ('gitreg clone URL PATH')",
            )
        return ReadOnlyError(f"{_READ_ONLY[code].capitalize()}{where}", "check that you may write there")
    if code == errno.ENAMETOOLONG:
        return StorageError(
            f"path too long: {path or 'a file name'} is more than this file system allows",
            "use a shorter model or file name, or a registry at a shorter path",
        )
    return None


class NoRegistryError(NotFoundError):
    """No registry was given and none contains the current directory."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "No gitreg registry found. Create one with 'gitreg init PATH', then pass "
            "registry=PATH / --registry PATH, call gitreg.set_registry(PATH), or set "
            "GITREG_REGISTRY=PATH."
        )
        super().__init__(f"{detail} {msg}".strip())
