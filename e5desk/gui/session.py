"""The window's view of a core Workspace: the loaded model, the sentence sets and their
vectors, with Qt signals announcing changes.

State lives in ``e5desk.core.workspace.Workspace`` (testable without Qt); this adapter owns
the model process and starts the long steps (model load, file load, embedding) as core jobs
on the JobRunner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.core.options import DEFAULT_ENGINE
from e5desk.core.workspace import Workspace
from e5desk.gui.workers import JobRunner
from e5desk.workflows.embed import EmbedSettings, embed


class Session(QObject):
    model_loading = Signal(str)
    model_changed = Signal()
    model_failed = Signal(str)
    sets_changed = Signal()
    load_problems = Signal(str, list, bool)  # file, messages, rows were skipped
    vectors_changed = Signal(str)  # role
    vectors_restored = Signal()  # a project's saved vectors were taken over
    error = Signal(str)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.workspace = Workspace()
        self.encoder = None
        self.model_spec: str | None = None
        # (role, task) -> callbacks waiting for the embedding that is running for it
        self._waiting: dict[tuple[str, str | None], list[Callable]] = {}

    # Read-only views of the workspace, named as the panels use them.
    sets = property(lambda self: self.workspace.sets)
    join = property(lambda self: self.workspace.join)
    imported = property(lambda self: self.workspace.imported)
    project_arrays = property(lambda self: self.workspace.project_arrays)
    combined = property(lambda self: self.workspace.combined)

    def texts(self) -> list[str]:
        return self.workspace.texts()

    # -- model ------------------------------------------------------------------------
    def load_model(self, spec: str | None = None, device: str = "auto",
                   precision: str = "auto", engine: str = DEFAULT_ENGINE) -> None:
        self.model_loading.emit(spec or "embedded")

        def job(progress, cancelled):
            # In a child process: loading holds the GIL for long stretches, and the GUI
            # process never imports torch (see encoder_process).
            from e5desk.core.encoder_process import EncoderProcess

            return EncoderProcess(spec, progress=progress, cancelled=cancelled, device=device,
                                  precision=precision, cache=True, engine=engine)

        def done(encoder) -> None:
            if self.encoder is not None:
                self.encoder.close()
            self.encoder = encoder
            self.model_spec = spec
            self._waiting.clear()  # embeddings of the old model no longer deliver
            adopted = self.workspace.set_model(encoder.model_id)
            self.model_changed.emit()
            if adopted:
                self.vectors_restored.emit()

        self.runner.start("Loading model", job, done, on_error=self.model_failed.emit)

    def close(self) -> None:
        if self.encoder is not None:
            self.encoder.close()
            self.encoder = None

    # -- sentence sets ----------------------------------------------------------------
    def open_files(self, paths: Sequence[str | Path], **options) -> None:
        """Read files as parallel jobs; their sets are added in the order given (the
        order of sets is the order of rows, maps and exports), whichever finishes first."""
        from e5desk.core.data import load_sentence_set

        paths = [Path(p) for p in paths]
        results: list = [None] * len(paths)
        ended = [False] * len(paths)
        added = [0]  # files before this one have been added (or failed)

        def arrived(index: int, result=None) -> None:
            results[index], ended[index] = result, True
            while added[0] < len(paths) and ended[added[0]]:
                first, results[added[0]] = results[added[0]], None
                added[0] += 1
                if first is not None:
                    self._add_result(first)

        for index, path in enumerate(paths):
            def job(progress, cancelled, path=path):
                return load_sentence_set(path, progress=progress, cancelled=cancelled,
                                         **options)

            def failed(message: str, index=index) -> None:
                arrived(index)
                self.error.emit(message)

            self.runner.start(f"Opening {path.name}", job,
                              lambda result, index=index: arrived(index, result),
                              on_error=failed, on_cancel=lambda index=index: arrived(index))

    def _add_result(self, result) -> None:
        problems = result.problems() if hasattr(result, "problems") else []
        if problems:
            self.load_problems.emit(str(result.path), problems, bool(result.skipped))
        if len(result.sentence_set):
            self.add_set(result.sentence_set)

    def set_join(self, join: bool) -> None:
        """Join translations across files by source text (True) or keep files apart."""
        if self.workspace.set_join(join):
            self._sets_changed()

    def add_set(self, sentence_set) -> None:
        self.workspace.add_set(sentence_set)
        self._sets_changed()

    def remove_set(self, index: int) -> None:
        self.workspace.remove_set(index)
        self._sets_changed()

    def _sets_changed(self) -> None:
        self._waiting.clear()  # running embeddings are of the old rows: they deliver nothing
        self.sets_changed.emit()

    def set_language(self, rows, code: str | None) -> None:
        """Set the language of ``rows`` of the combined set (see Workspace.set_language)."""
        if self.workspace.set_language(rows, code):
            self.sets_changed.emit()

    def import_vectors(self, imported) -> None:
        """Show vectors computed elsewhere (Projector TSV, .npy, Parquet) as the only set."""
        self.workspace.import_vectors(imported)
        self._sets_changed()
        self.vectors_changed.emit(SYMMETRIC_ROLE)

    def typed_text_refusal(self) -> str | None:
        """Why typed text cannot be scored against the loaded vectors (None: it can)."""
        dim = self.encoder.dim if self.encoder is not None else None
        return self.workspace.typed_text_refusal(dim)

    # -- projects ---------------------------------------------------------------------
    def snapshot(self, arrays: dict, settings: dict):
        """The session as a Project (arrays are shared, not copied: saving only reads)."""
        return self.workspace.snapshot(arrays, settings)

    def restore(self, project) -> None:
        adopted = self.workspace.restore(project)
        self._sets_changed()
        if self.workspace.imported is not None:  # the workspace decided it is an import
            self.vectors_changed.emit(SYMMETRIC_ROLE)
        if adopted:
            self.vectors_restored.emit()

    # -- vectors ----------------------------------------------------------------------
    def vectors(self, role: str, task: str | None = None) -> np.ndarray | None:
        return self.workspace.vectors(role, task)

    def ensure_vectors(self, role: str, task: str | None = None,
                       then: Callable[[np.ndarray], None] | None = None) -> None:
        """Embed every loaded sentence in ``role`` (once), then call ``then``. Callers that
        ask while the same embedding runs are each called when it ends."""
        key = (role, task)
        ready = self.workspace.vectors(role, task)
        if ready is not None:
            if then:
                then(ready)
            return
        if self.encoder is None or self.combined is None:
            return
        if key in self._waiting:  # already running: wait for it with the others
            if then:
                self._waiting[key].append(then)
            return
        waiting = self._waiting[key] = [then] if then else []
        encoder, texts = self.encoder, self.texts()

        def job(progress, cancelled):
            return embed(encoder, texts, EmbedSettings(role, task), progress=progress,
                         cancelled=cancelled)

        def ended() -> list[Callable]:
            # Only the embedding still registered for this key delivers: a model or row
            # change since it started cleared the list.
            if self._waiting.get(key) is waiting:
                return self._waiting.pop(key)
            return []

        def done(vectors) -> None:
            callbacks = ended()
            if self.workspace.store_vectors(encoder.model_id, role, task, vectors):
                self.vectors_changed.emit(role)
                for callback in callbacks:
                    callback(vectors)

        def failed(message: str) -> None:
            ended()
            if message.startswith("cannot load the model"):
                # the weights load at the first embedding: the model panel says why too
                self.model_failed.emit(message)
            else:
                self.error.emit(message)

        self.runner.start(f"Embedding {len(texts):,} sentences", job, done, on_error=failed,
                          on_cancel=ended)
