"""An Encoder in a child process, with the same encode API.

Why: loading a model holds Python's GIL in native code for long stretches (the Rust
tokenizer parses tokenizer.json for ~1 s without releasing it; importing torch ~0.15 s),
which would freeze a GUI running in the same process. In a child process those stalls cost
the window nothing, cancel is immediate, and the GUI process never imports torch. The child
answers "ready" once the model's config is read; the model itself starts on the first
text whose vector is not cached (see ``Encoder``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from functools import partial
from typing import Any

import numpy as np

from e5desk.core.errors import E5DeskError, ModelError
from e5desk.core.jobs import CancelCheck, Progress, child_progress, reply
from e5desk.core.process_job import Child

WHAT = "the embedding process"


def _serve(conn, cancel, spec, family, kwargs) -> None:  # runs in the child
    encoder = None

    def load() -> dict:
        nonlocal encoder
        from e5desk.core.encoder import Encoder, available_devices

        try:
            encoder = Encoder.load(spec, family=family, progress=child_progress(conn),
                                   **kwargs)
        except E5DeskError:
            raise
        except Exception as exc:  # noqa: BLE001 - said as a model problem
            raise ModelError(f"loading failed: {exc}") from exc
        return {
            "source": encoder.source, "dim": encoder.dim, "device": encoder.device,
            "dtype": str(encoder.dtype).replace("torch.", ""),
            "max_tokens": encoder.max_tokens, "describe": encoder.describe(),
            "devices": available_devices(), "precision": encoder.precision,
            "model_id": encoder.model_id, "engine": encoder.engine,
        }

    if not reply(conn, load, "loading failed"):
        return
    while True:  # one request at a time, each answered by the jobs protocol
        try:
            kind, *args = conn.recv()
        except EOFError:
            return
        if kind == "close":
            return
        if kind == "tokenize":
            reply(conn, partial(encoder.tokenize, *args), "tokenizing failed")
        elif kind == "token_states":  # texts, layers, role, task (word alignment)
            reply(conn, partial(encoder.token_states, *args, child_progress(conn),
                                cancel.is_set), "token vectors failed")
        elif kind == "inputs":  # already formatted model inputs, batch size
            reply(conn, partial(encoder.encode_inputs, *args, child_progress(conn),
                                cancel.is_set), "embedding failed")
        else:  # encode: texts, role, task, batch size
            reply(conn, partial(encoder.encode_detailed, *args, child_progress(conn),
                                cancel.is_set), "embedding failed")


class EncoderProcess:
    """Drop-in for :class:`Encoder` where a responsive GUI matters."""

    def __init__(self, spec: str | None = None, family: str | None = None,
                 progress: Progress | None = None, cancelled: CancelCheck | None = None,
                 **kwargs: Any) -> None:
        self._lock = threading.Lock()
        self._child = Child(_serve, spec, family, kwargs, what=WHAT, lost=ModelError)
        try:  # a cancelled load stops the child at once
            info = self._child.wait(progress, cancelled, on_cancel=self.close,
                                    cancel_message="Model loading cancelled.")
        except E5DeskError:
            self.close()
            raise
        self.source = info["source"]
        self.family = self.source.family
        self.dim = info["dim"]
        self.device = info["device"]
        self.dtype = info["dtype"]
        self.precision = info["precision"]
        self.max_tokens = info["max_tokens"]
        self.devices = info["devices"]
        self._describe = info["describe"]
        self.model_id = info["model_id"]
        self.engine = info.get("engine", "torch")

    def _request(self, message: tuple, progress: Progress | None = None,
                 cancelled: CancelCheck | None = None) -> Any:
        with self._lock:
            self._child.cancel.clear()
            self._child.send(message)
            # A cancel is the child's to act on between batches: wait for its answer.
            return self._child.wait(progress, cancelled, grace_s=None,
                                    cancel_message="Embedding cancelled.")

    # -- the Encoder API ---------------------------------------------------------------
    def format(self, texts: Sequence[str], role: str = "query",
               task: str | None = None) -> list[str]:
        return self.family.format(texts, role, task)

    def tokenize(self, text: str) -> list[str]:
        return self._request(("tokenize", text))

    def describe(self) -> str:
        return self._describe

    def encode_detailed(self, texts: Sequence[str], role: str = "query",
                        task: str | None = None, batch_size: int | None = None,
                        progress: Progress | None = None, cancelled: CancelCheck | None = None):
        if isinstance(texts, str):
            raise E5DeskError("encode expects a list of texts, not a single string")
        return self._request(("encode", list(texts), role, task, batch_size), progress,
                             cancelled)

    def encode_inputs(self, inputs: Sequence[str], batch_size: int | None = None,
                      progress: Progress | None = None, cancelled: CancelCheck | None = None):
        """Encode already-formatted model inputs (no prefix is added here)."""
        return self._request(("inputs", list(inputs), batch_size), progress, cancelled)

    def token_states(self, texts: Sequence[str], layers: Sequence[int] = (8,),
                     role: str = "raw", task: str | None = None,
                     progress: Progress | None = None, cancelled: CancelCheck | None = None):
        """Per text, hidden states of ``layers`` for its subword pieces (Encoder's)."""
        if isinstance(texts, str):
            raise E5DeskError("token_states expects a list of texts, not a single string")
        return self._request(("token_states", list(texts), tuple(layers), role, task),
                             progress, cancelled)

    def encode(self, texts: Sequence[str], role: str = "query", task: str | None = None,
               batch_size: int | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> np.ndarray:
        return self.encode_detailed(texts, role, task, batch_size, progress, cancelled).vectors

    def close(self) -> None:
        with suppress(ModelError):  # already gone
            self._child.send(("close",))
        self._child.stop(wait_s=2)
        self._child.close()
