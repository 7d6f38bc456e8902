"""Run a CPU-heavy core function in a child process: the caller's process keeps its GIL
(numba compiling UMAP holds it for seconds), progress comes back, and cancel is immediate
(the child is stopped)."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress


def _child(conn, fn, args, kwargs) -> None:
    def progress(done: int, total: int) -> None:
        conn.send(("progress", done, total))

    try:
        conn.send(("result", fn(*args, progress=progress, **kwargs)))
    except E5DeskError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001 - report, never hang the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def run_in_process(fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
                   cancelled: CancelCheck | None = None, **kwargs: Any) -> Any:
    """``fn(*args, progress=..., **kwargs)`` in a spawned process; its result returned."""
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    process = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
    process.start()
    child.close()
    try:
        while True:
            if cancelled and cancelled():
                raise Cancelled()
            if not conn.poll(0.05):
                if not process.is_alive() and not conn.poll(0):
                    raise E5DeskError("the background process stopped unexpectedly")
                continue
            message = conn.recv()
            if message[0] == "progress":
                if progress:
                    progress(message[1], message[2])
            elif message[0] == "result":
                return message[1]
            else:
                raise E5DeskError(message[1])
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        conn.close()
