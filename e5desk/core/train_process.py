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

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from e5desk.core.errors import Cancelled
from e5desk.core.jobs import CancelCheck, Progress, child_progress, reply
from e5desk.core.process_job import Child

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
    child = Child(_child, [Path(p) for p in inputs], out, base, family, config,
                  what="the training process")
    events = {"loss": on_log, "status": on_status}
    try:
        return child.wait(progress, cancelled, grace_s=KILL_AFTER_S,
                          events={k: v for k, v in events.items() if v},
                          cancel_message=CANCELLED)
    finally:
        if child.stop(wait_s=5):  # it did not stop by itself: its partial folder is ours
            for partial in out.parent.glob(f".{out.name}.partial-{child.process.pid}"):
                shutil.rmtree(partial, ignore_errors=True)
        child.close()
