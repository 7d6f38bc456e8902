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
from collections.abc import Callable, Sequence
from pathlib import Path

from e5desk.core.errors import Cancelled
from e5desk.core.jobs import CancelCheck, Progress, child_progress, relay, reply

KILL_AFTER_S = 10.0
CANCELLED = "Training cancelled: nothing was written."


def _child(conn, cancel, inputs, out, base, family, config) -> None:  # runs in the child
    def work():
        if cancel.is_set():  # cancelled while the process started: skip the heavy imports
            raise Cancelled(CANCELLED)
        from e5desk.core.training import train

        return train(inputs, out, base, family, config, progress=child_progress(conn),
                     cancelled=cancel.is_set,
                     on_log=lambda s, loss: conn.send(("event", "loss", s, loss)),
                     on_status=lambda text: conn.send(("event", "status", text)))

    try:
        reply(conn, work, "training failed")
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
    events = {"loss": on_log, "status": on_status}
    try:
        return relay(conn, process, progress, cancelled, on_cancel=cancel.set,
                     grace_s=KILL_AFTER_S, events={k: v for k, v in events.items() if v},
                     what="the training process", cancel_message=CANCELLED)
    finally:
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
            for partial in out.parent.glob(f".{out.name}.partial-{process.pid}"):
                shutil.rmtree(partial, ignore_errors=True)
        conn.close()
