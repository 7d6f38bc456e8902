"""One encoding thread behind a bounded queue; concurrent requests are batched together.

The event loop never runs the model: a request puts its (already formatted) inputs on the
queue and awaits a future. The worker thread takes the first waiting request, collects
others that arrive within a short window (up to a text and character budget), encodes them
in one ``Encoder.encode_inputs`` call (embedding cache included) and hands each request
its rows. A full queue is refused at once (the server answers 503) instead of piling up.
The model loads on first use, in the worker thread.

How long to collect: clients usually send their next request as soon as the last one is
answered, so the requests of a finished batch plus those already waiting are the number
in play (``expected``). The next batch waits for that many (at most ``max_wait_s``) and
then starts at once; with fewer known, it waits the short window for strangers. Without
this, the event loop is still parsing most of a batch's follow-up requests when a fixed
window closes, and a batch of 8 splits into 1 + 7: two forward passes, each reading all
the weights, for the cost of one.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.server.threads import ThreadChoice, torch_threads


class Busy(E5DeskError):
    """The request queue is full."""


@dataclass
class Embedded:
    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    tokens: np.ndarray  # tokens per input, special tokens included (before truncation)
    truncated: list[int]  # positions of inputs the model saw only part of


@dataclass
class _Job:
    inputs: list[str]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    call: Callable[[object], object] | None = None  # other model work (word alignment)


class Batcher:
    """``await batcher.embed(inputs)`` from any event loop; one encoder thread."""

    def __init__(self, load: Callable[[], object], max_texts: int = 256,
                 max_chars: int = 64_000, window_s: float = 0.003,
                 max_pending: int = 256, max_wait_s: float = 0.025) -> None:
        self._load = load
        self._model = None
        self._load_error: BaseException | None = None
        self._loaded = threading.Event()
        self.max_texts, self.max_chars, self.window_s = max_texts, max_chars, window_s
        self.max_wait_s = max_wait_s
        self.expected = 1  # requests in play at the end of the last batch
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.threads: ThreadChoice | None = None  # set once the model is loaded in-process
        self.batches = 0  # forward calls made (a measure of how much batching happened)

    # -- model ---------------------------------------------------------------------
    def model(self):
        """The loaded model (loads it on first call; thread-safe)."""
        with self._lock:
            if self._model is None and self._load_error is None:
                try:
                    self._model = self._load()
                except BaseException as exc:  # remembered: every request reports it
                    self._load_error = exc
                finally:
                    self._loaded.set()
        if self._load_error is not None:
            raise self._load_error
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def model_async(self):
        if self._model is not None:  # loaded: no thread hop on every request
            return self._model
        return await asyncio.get_running_loop().run_in_executor(None, self.model)

    # -- queue -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="e5desk-serve-encoder",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put(None, timeout=1)
            except queue.Full:
                pass
            self._thread.join(timeout=5)
        self._thread = None

    async def embed(self, inputs: list[str]) -> Embedded:
        """Encode model inputs (prefixes already applied) without blocking the loop."""
        self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        try:
            self._queue.put_nowait(_Job(list(inputs), future, loop))
        except queue.Full:
            raise Busy("the server is busy (request queue full); retry shortly") from None
        return await future

    async def call(self, fn: Callable[[object], object]):
        """``fn(model)`` in the encoder thread (the one thread that uses the model), between
        batches; its result."""
        self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        try:
            self._queue.put_nowait(_Job([], future, loop, fn))
        except queue.Full:
            raise Busy("the server is busy (request queue full); retry shortly") from None
        return await future

    def _answer(self, job: _Job) -> None:
        try:
            value = job.call(self.model())
        except BaseException as exc:  # noqa: BLE001 - handed to the request
            job.loop.call_soon_threadsafe(_set_exception, job.future, exc)
        else:
            job.loop.call_soon_threadsafe(_set_result, job.future, value)

    def _collect(self, first: _Job) -> list[_Job]:
        jobs = [first]
        texts = len(first.inputs)
        chars = sum(map(len, first.inputs))
        start = time.monotonic()
        # Fewer in play than last time: wait for them (bounded). All there: go now, only
        # taking what is already queued. Nothing known (the first request): a short window.
        wait = self.max_wait_s if self.expected > 1 else self.window_s
        while texts < self.max_texts and chars < self.max_chars:
            left = 0.0 if len(jobs) >= self.expected > 1 else start + wait - time.monotonic()
            try:
                job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)  # stop after this batch
                break
            if job.call is not None:
                self._answer(job)
                continue
            jobs.append(job)
            texts += len(job.inputs)
            chars += sum(map(len, job.inputs))
        return jobs

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.call is not None:
                self._answer(job)
                continue
            jobs = self._collect(job)
            try:
                model = self.model()
                inputs = [s for j in jobs for s in j.inputs]
                chars = sum(map(len, inputs))
                threads = self._fit_threads(chars)
                started = time.perf_counter()
                result = model.encoder.encode_inputs(inputs)
                if threads:
                    self.threads.record(chars, threads, time.perf_counter() - started)
                self.batches += 1
            except BaseException as exc:  # handed to every waiting request
                for j in jobs:
                    j.loop.call_soon_threadsafe(_set_exception, j.future, exc)
                continue
            # Those answered now and those already waiting will (mostly) be back next time.
            self.expected = min(len(jobs) + self._queue.qsize(), self.max_texts)
            truncated = {t.index for t in result.truncated}
            start = 0
            for j in jobs:
                end = start + len(j.inputs)
                out = Embedded(result.vectors[start:end], result.token_counts[start:end],
                               [i - start for i in range(start, end) if i in truncated])
                j.loop.call_soon_threadsafe(_set_result, j.future, out)
                start = end

    def _fit_threads(self, chars: int) -> int | None:
        """Intra-op threads for this batch (threads.py); None: no torch in this process."""
        if self.threads is None:
            full = torch_threads()
            if full is None:
                return None
            self.threads = ThreadChoice(full)
        return torch_threads(self.threads.pick(chars))


def _set_result(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
