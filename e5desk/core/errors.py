"""Typed errors whose message is meant for the user: what went wrong and where."""


class E5DeskError(Exception):
    """Base class; str(err) is a complete, user-facing sentence."""


class ModelError(E5DeskError):
    """A model folder or name that cannot be used (says which and why)."""


class DataError(E5DeskError):
    """A sentence file that cannot be read (says which file, line and what was expected)."""


class Cancelled(E5DeskError):
    """A long job was cancelled by the user."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
