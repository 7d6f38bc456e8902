"""``training.train`` in a child process, with the same callbacks.

Why: training imports torch, transformers, datasets and sentence-transformers and runs
long stretches of native code that hold Python's GIL; in the window's process that would
freeze the GUI (the GUI process never imports torch, see ``encoder_process``). The child
reports progress, loss and status over a pipe; cancel is an event the child polls every
step, so ``train`` itself removes its temporary folder (a cancelled run leaves nothing).
A child that does not stop within ``KILL_AFTER_S`` of a cancel is terminated and its
partial folder removed here.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

POLL_S = 0.05
KILL_AFTER_S = 10.0


def _child(conn, cancel, inputs, out, base, family, config) -> None:  # runs in the child
    try:
        if cancel.is_set():  # cancelled while the process started: skip the heavy imports
            raise Cancelled("Training cancelled: nothing was written.")
        from e5desk.core.training import train

        result = train(inputs, out, base, family, config,
                       progress=lambda d, t: conn.send(("progress", d, t)),
                       cancelled=cancel.is_set,
                       on_log=lambda s, loss: conn.send(("loss", s, loss)),
                       on_status=lambda text: conn.send(("status", text)))
        conn.send(("result", result))
    except Cancelled as exc:
        conn.send(("cancelled", str(exc)))
    except E5DeskError as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
    except Exception as exc:  # noqa: BLE001 - report, never hang the parent
        conn.send(("error", "E5DeskError", f"training failed: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def train_in_child(inputs: Sequence[Path], out: Path, base: str | Path | None = None,
                   family: str | None = None, config=None,
                   progress: Progress | None = None, cancelled: CancelCheck | None = None,
                   on_log: Callable[[int, float], None] | None = None,
                   on_status: Callable[[str], None] | None = None):
    """Run :func:`e5desk.core.training.train` in a spawned process -> its TrainResult.
    Raises Cancelled when cancelled (nothing written), the child's E5DeskError otherwise."""
    out = Path(out).expanduser()
    ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
    conn, child_conn = ctx.Pipe(duplex=False)
    cancel = ctx.Event()
    process = ctx.Process(target=_child, args=(child_conn, cancel, [Path(p) for p in inputs],
                                               out, base, family, config), daemon=True)
    process.start()
    child_conn.close()
    cancel_at = None
    try:
        while True:
            if cancelled and cancelled() and cancel_at is None:
                cancel.set()
                cancel_at = time.monotonic()
            if cancel_at is not None and time.monotonic() - cancel_at > KILL_AFTER_S:
                raise Cancelled("Training cancelled: nothing was written.")
            try:
                if not conn.poll(POLL_S):
                    if not process.is_alive():
                        raise E5DeskError("the training process stopped unexpectedly")
                    continue
                message = conn.recv()
            except (EOFError, OSError):
                raise E5DeskError("the training process stopped unexpectedly") from None
            kind = message[0]
            if kind == "progress":
                if progress:
                    progress(message[1], message[2])
            elif kind == "loss":
                if on_log:
                    on_log(message[1], message[2])
            elif kind == "status":
                if on_status:
                    on_status(message[1])
            elif kind == "result":
                return message[1]
            elif kind == "cancelled":
                raise Cancelled(message[1] or "Training cancelled: nothing was written.")
            elif kind == "error":
                raise (DataError if message[1] == "DataError" else E5DeskError)(message[2])
    finally:
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
            for partial in out.parent.glob(f".{out.name}.partial-{process.pid}"):
                shutil.rmtree(partial, ignore_errors=True)
        conn.close()
