"""The Job protocol shared by the CLI (tqdm), the GUI (progress bar + cancel) and child
processes.

A job is any callable ``run(progress, cancelled) -> result``: ``progress(done, total)``
reports work units, ``cancelled()`` is polled between units and the job raises
:class:`Cancelled` when it returns True. Threads run it directly (gui.workers); a child
process runs it behind a pipe speaking one message vocabulary, written once here:

    ("progress", done, total)      ("event", name, *args)      ("result", value)
    ("cancelled", message)         ("error", error class name, message)

``reply`` is the child's side (one job -> its messages), ``relay`` the parent's (messages ->
progress calls, events, the result or the child's typed error).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from e5desk.core.errors import Cancelled, DataError, E5DeskError, ModelError

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
POLL_S = 0.05
_ERRORS = {cls.__name__: cls for cls in (E5DeskError, ModelError, DataError)}


class Job(Protocol):
    def __call__(self, progress: Progress, cancelled: CancelCheck) -> Any: ...


def no_progress(done: int, total: int) -> None:
    """Progress sink that ignores reports."""


def never_cancelled() -> bool:
    return False


# -- child processes ------------------------------------------------------------------
def child_progress(conn) -> Progress:
    """A progress callback for code running in a child: reports go over ``conn``."""
    return lambda done, total: conn.send(("progress", done, total))


def reply(conn, work: Callable[[], Any], failed: str = "the background job failed") -> bool:
    """Child side: run ``work()`` and send its result, cancel or error. -> succeeded?"""
    try:
        result = work()
    except Cancelled as exc:
        conn.send(("cancelled", str(exc)))
    except E5DeskError as exc:
        name = type(exc).__name__
        conn.send(("error", name if name in _ERRORS else "E5DeskError", str(exc)))
    except Exception as exc:  # noqa: BLE001 - report, never leave the parent waiting
        conn.send(("error", "E5DeskError", f"{failed}: {type(exc).__name__}: {exc}"))
    else:
        conn.send(("result", result))
        return True
    return False


def relay(conn, process, progress: Progress | None = None,
          cancelled: CancelCheck | None = None, *, on_cancel: Callable[[], None] | None = None,
          grace_s: float | None = 0.0, events: dict[str, Callable[..., None]] | None = None,
          what: str = "the background process", cancel_message: str = "Cancelled.",
          lost: type[E5DeskError] = E5DeskError) -> Any:
    """Parent side: wait for the child's answer to one job, relaying its progress and
    events. On the first ``cancelled()`` call ``on_cancel`` (e.g. set the child's cancel
    event), then wait ``grace_s`` seconds for the child to stop by itself (None: as long
    as it lives; 0: not at all) before raising Cancelled. A child that dies without an
    answer raises ``lost`` ("<what> stopped unexpectedly")."""
    cancel_at = None
    while True:
        if cancel_at is None and cancelled is not None and cancelled():
            cancel_at = time.monotonic()
            if on_cancel is not None:
                on_cancel()
        if cancel_at is not None and grace_s is not None and \
                time.monotonic() - cancel_at >= grace_s:
            raise Cancelled(cancel_message)
        try:
            if not conn.poll(POLL_S):
                if not process.is_alive() and not conn.poll(0):
                    raise lost(f"{what} stopped unexpectedly")
                continue
            message = conn.recv()
        except (EOFError, OSError):
            raise lost(f"{what} stopped unexpectedly") from None
        kind = message[0]
        if kind == "progress":
            if progress is not None:
                progress(message[1], message[2])
        elif kind == "event":
            handler = (events or {}).get(message[1])
            if handler is not None:
                handler(*message[2:])
        elif kind == "result":
            return message[1]
        elif kind == "cancelled":
            raise Cancelled(message[1] or cancel_message)
        elif kind == "error":
            raise _ERRORS.get(message[1], E5DeskError)(message[2])
