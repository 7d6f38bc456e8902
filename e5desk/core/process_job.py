"""Run a CPU-heavy core function in a child process: the caller's process keeps its GIL
(numba compiling UMAP holds it for seconds), progress comes back, and cancel is immediate
(the child is stopped). Messages follow the child protocol of ``core.jobs``.

A child can import its heavy modules (``preload``) while the caller still prepares the
job's input, e.g. umap's 2-3 s import beside the map's neighbour search (``ChildProcess``)."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from multiprocessing.reduction import ForkingPickler
from typing import Any

from e5desk.core.jobs import CancelCheck, Progress, child_progress, relay, reply


def _child(conn, preload: Sequence[str]) -> None:
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the job's own import reports the problem
            break
    try:
        fn, args, kwargs = conn.recv()
    except (EOFError, OSError):  # the parent gave up before sending a job
        return
    reply(conn, lambda: fn(*args, progress=child_progress(conn), **kwargs))


class ChildProcess:
    """One spawned process for one job; it starts importing ``preload`` at once."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_child, args=(child, tuple(preload)), daemon=True)
        self._process.start()
        child.close()
        self._answered = False
        self._sender: threading.Thread | None = None

    def run(self, fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
            cancelled: CancelCheck | None = None, **kwargs: Any) -> Any:
        """``fn(*args, progress=..., **kwargs)`` in the child; its result returned.

        The job is pickled here (a job that cannot be pickled fails here) and sent from a
        thread: a large input waits in the pipe until the child has imported its preload,
        and cancel must not wait for that."""
        job = bytes(ForkingPickler.dumps((fn, args, kwargs)))
        self._sender = threading.Thread(target=self._send, args=(job,), daemon=True)
        self._sender.start()
        result = relay(self._conn, self._process, progress, cancelled)
        self._answered = True
        return result

    def _send(self, job: bytes) -> None:
        try:
            self._conn.send_bytes(job)
        except Exception:  # noqa: BLE001 - the child died or was stopped: relay says so
            pass

    def close(self) -> None:
        """Stop the child, unless it answered: then it exits by itself (stopped mid-exit, it
        leaks semaphores; waiting for it would delay the answer by up to a second)."""
        if not self._answered:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join(timeout=5)
        if self._sender is not None:  # its send fails at once now that the child is gone
            self._sender.join(timeout=5)
        self._conn.close()

    def __enter__(self) -> ChildProcess:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _call_named(target: str, *args: Any, progress: Progress | None = None,
                **kwargs: Any) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def run_named_in_process(target: str, *args: Any, **kwargs: Any) -> Any:
    """``module:function`` imported and called in a spawned process: for work a layer above
    the caller owns (the map PNG is drawn by gui/ code; the `map` command never loads Qt)."""
    return run_in_process(_call_named, target, *args, **kwargs)


def run_in_process(fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
                   cancelled: CancelCheck | None = None, **kwargs: Any) -> Any:
    """``fn(*args, progress=..., **kwargs)`` in a spawned process; its result returned."""
    with ChildProcess() as child:
        return child.run(fn, *args, progress=progress, cancelled=cancelled, **kwargs)
