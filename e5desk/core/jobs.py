"""The Job protocol shared by the CLI (tqdm) and the GUI (progress bar + cancel).

A job is any callable ``run(progress, cancelled) -> result``:
``progress(done, total)`` reports work units, ``cancelled()`` is polled between units
and the job raises :class:`Cancelled` when it returns True.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


class Job(Protocol):
    def __call__(self, progress: Progress, cancelled: CancelCheck) -> Any: ...


def no_progress(done: int, total: int) -> None:
    """Progress sink that ignores reports."""


def never_cancelled() -> bool:
    return False
