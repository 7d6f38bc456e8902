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


MAX_MESSAGE = 600  # characters: a message longer than this is cut, with a count of the rest


def cut(text: object, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to a readable length: "… N more characters" says what was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} … ({len(text) - limit:,} more characters)"


def cut_list(items, limit: int = 8, sep: str = ", ") -> str:
    """The first ``limit`` items joined, then "… N more"."""
    items = [str(i) for i in items]
    shown = sep.join(cut(i, 80) for i in items[:limit])
    return shown + (f"{sep}… {len(items) - limit:,} more" if len(items) > limit else "")
