"""Run a CPU-heavy core function in a child process: the caller's process keeps its GIL
(numba compiling UMAP holds it for seconds), progress comes back, and cancel is immediate
(the child is stopped). Messages follow the child protocol of ``core.jobs``."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

from e5desk.core.jobs import CancelCheck, Progress, child_progress, relay, reply


def _child(conn, fn, args, kwargs) -> None:
    reply(conn, lambda: fn(*args, progress=child_progress(conn), **kwargs))


def run_in_process(fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
                   cancelled: CancelCheck | None = None, **kwargs: Any) -> Any:
    """``fn(*args, progress=..., **kwargs)`` in a spawned process; its result returned."""
    ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
    conn, child = ctx.Pipe()
    process = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
    process.start()
    child.close()
    try:
        return relay(conn, process, progress, cancelled)
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        conn.close()
