"""An Encoder in a child process, with the same encode API.

Why: loading a model holds Python's GIL in native code for long stretches (the Rust
tokenizer parses tokenizer.json for ~1 s without releasing it; importing torch ~0.15 s),
which would freeze a GUI running in the same process. In a child process those stalls cost
the window nothing, cancel is immediate, and the GUI process never imports torch. The child
answers "ready" once the model's config is read; the model itself starts on the first
text whose vector is not cached (see ``Encoder``).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError, ModelError
from e5desk.core.jobs import CancelCheck, Progress

POLL_S = 0.05


def _serve(conn, cancel, spec, family, kwargs) -> None:  # runs in the child
    try:
        from e5desk.core.encoder import Encoder, available_devices

        def load_progress(done: int, total: int) -> None:
            conn.send(("progress", done, total))

        encoder = Encoder.load(spec, family=family, progress=load_progress, **kwargs)
        info = {
            "source": encoder.source, "dim": encoder.dim, "device": encoder.device,
            "dtype": str(encoder.dtype).replace("torch.", ""),
            "max_tokens": encoder.max_tokens, "describe": encoder.describe(),
            "devices": available_devices(), "precision": encoder.precision,
            "model_id": encoder.model_id,
        }
        conn.send(("ready", info))
    except E5DeskError as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - report, never hang the parent
        conn.send(("error", "ModelError", f"loading failed: {exc}"))
        return
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        kind, args = request[0], request[1:]
        try:
            if kind == "close":
                return
            if kind == "tokenize":
                conn.send(("result", encoder.tokenize(*args)))
                continue
            texts, role, task, batch_size = args

            def progress(done: int, total: int) -> None:
                conn.send(("progress", done, total))

            result = encoder.encode_detailed(texts, role, task, batch_size, progress,
                                             cancel.is_set)
            conn.send(("result", result))
        except Cancelled:
            conn.send(("cancelled",))
        except E5DeskError as exc:
            conn.send(("error", type(exc).__name__, str(exc)))
        except Exception as exc:  # noqa: BLE001
            conn.send(("error", "E5DeskError", f"embedding failed: {exc}"))


class EncoderProcess:
    """Drop-in for :class:`Encoder` where a responsive GUI matters."""

    def __init__(self, spec: str | None = None, family: str | None = None,
                 progress: Progress | None = None, cancelled: CancelCheck | None = None,
                 **kwargs: Any) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
        self._conn, child = ctx.Pipe()
        self._cancel = ctx.Event()
        self._lock = threading.Lock()
        self._process = ctx.Process(target=_serve, args=(child, self._cancel, spec, family,
                                                         kwargs), daemon=True)
        self._process.start()
        child.close()
        info = self._wait(progress, cancelled, on_cancel=self.close)
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

    def _wait(self, progress: Progress | None, cancelled: CancelCheck | None,
              on_cancel=None) -> Any:
        while True:
            if cancelled and cancelled() and not self._cancel.is_set():
                self._cancel.set()
                if on_cancel:
                    on_cancel()
                    raise Cancelled()
            try:
                if not self._conn.poll(POLL_S):
                    if not self._process.is_alive():
                        raise ModelError("the embedding process stopped unexpectedly")
                    continue
                message = self._conn.recv()
            except (EOFError, OSError):
                raise ModelError("the embedding process stopped unexpectedly") from None
            kind = message[0]
            if kind == "progress":
                if progress:
                    progress(message[1], message[2])
            elif kind in ("ready", "result"):
                return message[1]
            elif kind == "cancelled":
                raise Cancelled("Embedding cancelled.")
            elif kind == "error":
                cls = ModelError if message[1] == "ModelError" else E5DeskError
                raise cls(message[2])

    def _request(self, message: tuple, progress: Progress | None = None,
                 cancelled: CancelCheck | None = None) -> Any:
        with self._lock:
            self._cancel.clear()
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                raise ModelError("the embedding process is not running") from None
            return self._wait(progress, cancelled)

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

    def encode(self, texts: Sequence[str], role: str = "query", task: str | None = None,
               batch_size: int | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> np.ndarray:
        return self.encode_detailed(texts, role, task, batch_size, progress, cancelled).vectors

    def close(self) -> None:
        try:
            self._conn.send(("close",))
        except (OSError, ValueError):
            pass
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.terminate()
        self._conn.close()
