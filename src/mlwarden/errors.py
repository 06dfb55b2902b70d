"""Exceptions that mean "the user gave us something wrong" — shown as one line, never a traceback."""


class MlwardenError(Exception):
    """Base class of every error mlwarden raises on purpose."""


class InputError(MlwardenError, ValueError):
    """Bad input from the user: a missing file, an unreadable format, a column of the wrong type.

    The message names the file, column or field and what was expected. The CLI prints it on one line and
    exits with code 2; the HTTP API answers 422.
    """


class NotFoundError(MlwardenError, LookupError):
    """A named thing (model, version, token, batch) does not exist."""


class ConflictError(MlwardenError):
    """The request clashes with what exists (a model name taken, a version registered twice)."""


class AccessDenied(MlwardenError, PermissionError):
    """The caller's token lacks the scope, or the model belongs to another team."""
