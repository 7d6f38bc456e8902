"""The one child-process runner: ``Child`` spawns a process, relays its messages (the child
protocol of ``core.jobs``: progress, events, the result or a typed error) and stops it.
The model (``encoder_process``), the map's projection (``ChildProcess`` below) and training
(``train_process``) all run on it.

Why a child: a CPU-heavy job holds the GIL (numba compiling UMAP, the Rust tokenizer, torch
training) and the caller's process must stay responsive. Cancel comes in two kinds:
immediate (the child is stopped; ``grace_s=0``) or cooperative (the child polls its
``cancel`` event and cleans up after itself; ``grace_s`` > 0, or None to wait as long as it
lives).

A job child can import its heavy modules (``preload``) while the caller still prepares the
job's input, e.g. umap's 2-3 s import beside the map's neighbour search (``ChildProcess``)."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from multiprocessing.reduction import ForkingPickler
from typing import Any

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress, child_progress, relay, reply


class Child:
    """A spawned process running ``target(conn, cancel, *args)``: ``conn`` its end of the
    pipe, ``cancel`` an event it may poll between units of work."""

    def __init__(self, target: Callable[..., None], *args: Any,
                 what: str = "the background process",
                 lost: type[E5DeskError] = E5DeskError) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
        self.conn, child = ctx.Pipe()
        self.cancel = ctx.Event()
        self.process = ctx.Process(target=target, args=(child, self.cancel, *args),
                                   daemon=True)
        self.process.start()
        child.close()
        self.what, self.lost = what, lost

    def send(self, message: Any) -> None:
        try:
            self.conn.send(message)
        except (OSError, ValueError):
            raise self.lost(f"{self.what} is not running") from None

    def wait(self, progress: Progress | None = None, cancelled: CancelCheck | None = None, *,
             grace_s: float | None = 0.0, on_cancel: Callable[[], None] | None = None,
             events: dict[str, Callable[..., None]] | None = None,
             cancel_message: str = "Cancelled.") -> Any:
        """The child's answer to one job. On cancel its event is set (or ``on_cancel``
        called), then Cancelled is raised after ``grace_s`` seconds or when the child says
        it stopped (see ``core.jobs.relay``)."""
        return relay(self.conn, self.process, progress, cancelled,
                     on_cancel=on_cancel or self.cancel.set, grace_s=grace_s, events=events,
                     what=self.what, cancel_message=cancel_message, lost=self.lost)

    def stop(self, wait_s: float = 0.0) -> bool:
        """Give the child ``wait_s`` seconds to exit by itself, then terminate it.
        -> whether it had to be terminated (what it was writing is left for the caller)."""
        self.process.join(wait_s)
        if not self.process.is_alive():
            return False
        self.process.terminate()
        self.process.join(5)
        return True

    def close(self) -> None:
        self.conn.close()


def _job_child(conn, _cancel, preload: Sequence[str]) -> None:
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
    """One spawned process for one job; it starts importing ``preload`` at once. Cancel is
    immediate: the child is stopped."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        self._child = Child(_job_child, tuple(preload))
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
        result = self._child.wait(progress, cancelled)
        self._answered = True
        return result

    def _send(self, job: bytes) -> None:
        try:
            self._child.conn.send_bytes(job)
        except Exception:  # noqa: BLE001 - the child died or was stopped: wait says so
            pass

    def close(self) -> None:
        """Stop the child, unless it answered: then it exits by itself (stopped mid-exit, it
        leaks semaphores; waiting for it would delay the answer by up to a second)."""
        if not self._answered:
            self._child.stop()
        if self._sender is not None:  # its send fails at once now that the child is gone
            self._sender.join(timeout=5)
        self._child.close()

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
