"""What the window works on: the loaded model, the sentence sets, and their vectors.

Every long step (model load, file load, embedding) runs as a core job on the JobRunner;
this object only keeps results and announces changes with signals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from e5desk.core.store.project import JOIN_SETTING
from e5desk.gui.workers import JobRunner


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
        self.encoder = None
        self.model_spec: str | None = None
        self.sets: list = []  # SentenceSet objects, in load order
        self._combined = None
        self._vectors: dict[tuple[str, str | None], np.ndarray] = {}
        self._embedding: dict[tuple[str, str | None], object] = {}
        # From an opened project: vectors waiting for their model, and saved maps/clusters.
        self._pending: dict = {}
        self.project_arrays: dict = {}
        self.imported = None  # ImportedVectors: a set that came with vectors from elsewhere
        # Translations of files opened together join by source text (a project remembers).
        self.join = True

    # -- model ------------------------------------------------------------------------
    def load_model(self, spec: str | None = None, device: str = "auto",
                   precision: str = "auto") -> None:
        self.model_loading.emit(spec or "embedded")

        def job(progress, cancelled):
            # In a child process: loading holds the GIL for long stretches (see module).
            from e5desk.core.encoder_process import EncoderProcess

            return EncoderProcess(spec, progress=progress, cancelled=cancelled, device=device,
                                  precision=precision, cache=True)

        def done(encoder) -> None:
            if self.encoder is not None:
                self.encoder.close()
            self.encoder = encoder
            self.model_spec = spec
            self._vectors.clear()
            self._embedding.clear()
            self.model_changed.emit()
            self._adopt_pending()

        self.runner.start("Loading model", job, done, on_error=self.model_failed.emit)

    def close(self) -> None:
        if self.encoder is not None:
            self.encoder.close()
            self.encoder = None

    # -- sentence sets ----------------------------------------------------------------
    def open_files(self, paths: Sequence[str | Path], **options) -> None:
        from e5desk.core.data import load_sentence_set

        for path in paths:
            path = Path(path)

            def job(progress, cancelled, path=path):
                return load_sentence_set(path, progress=progress, cancelled=cancelled,
                                         **options)

            self.runner.start(f"Opening {path.name}", job, self._add_result,
                              on_error=self.error.emit)

    def _add_result(self, result) -> None:
        problems = result.problems() if hasattr(result, "problems") else []
        if problems:
            self.load_problems.emit(str(result.path), problems, bool(result.skipped))
        if len(result.sentence_set):
            self.add_set(result.sentence_set)

    def set_join(self, join: bool) -> None:
        """Join translations across files by source text (True) or keep files apart."""
        if join != self.join:
            self.join = join
            self._sets_changed()

    def add_set(self, sentence_set) -> None:
        self.sets.append(sentence_set)
        self._sets_changed()

    def remove_set(self, index: int) -> None:
        del self.sets[index]
        self._sets_changed()

    def _sets_changed(self) -> None:
        self._combined = None
        self._vectors.clear()
        self._embedding.clear()
        self._pending = {}
        self.project_arrays = {}
        self.imported = None
        self.sets_changed.emit()

    def import_vectors(self, imported) -> None:
        """Show vectors computed elsewhere (Projector TSV, .npy, Parquet) as the only set."""
        self.sets = [imported.sentences]
        self._sets_changed()
        self.imported = imported
        self._vectors[("query", None)] = imported.vectors
        self.vectors_changed.emit("query")

    def typed_text_refusal(self) -> str | None:
        """Why typed text cannot be scored against the loaded vectors (None: it can)."""
        from e5desk.core.errors import E5DeskError

        if self.imported is None or self.encoder is None:
            return None
        try:
            self.imported.check_model(self.encoder.model_id, self.encoder.dim)
        except E5DeskError as exc:
            return f"Imported vectors: {exc}"
        return None

    # -- projects ---------------------------------------------------------------------
    def snapshot(self, arrays: dict, settings: dict):
        """The session as a Project (arrays are shared, not copied: saving only reads)."""
        from e5desk.core.store.project import Embedding, Project

        if self.imported is not None:
            # Vectors from elsewhere: kept with their origin, reopened as an import.
            e = Embedding(self.imported.model or "imported", "imported", None,
                          self.imported.vectors)
            return Project(sets=list(self.sets), embeddings={"imported": e},
                           arrays=dict(arrays), settings={**settings, "imported": True})
        model = self.encoder.model_id if self.encoder is not None else None
        embeddings = {f"{role}|{task or ''}": Embedding(model, role, task, v)
                      for (role, task), v in self._vectors.items() if model}
        # Saved vectors not yet taken over (model still loading) are kept, not dropped.
        for name, e in self._pending.items():
            embeddings.setdefault(name, e)
        return Project(sets=list(self.sets), embeddings=embeddings, arrays=dict(arrays),
                       settings={**settings, JOIN_SETTING: self.join})

    def restore(self, project) -> None:
        if project.settings.get("imported") and "imported" in project.embeddings:
            from e5desk.core.store.exports import ImportedVectors

            e = project.embeddings["imported"]
            model = None if e.model == "imported" else e.model
            self.import_vectors(ImportedVectors(project.sets[0], e.vectors, model))
            self.project_arrays = dict(project.arrays)
            self.vectors_restored.emit()
            return
        self.sets = list(project.sets)
        self.join = bool(project.settings.get(JOIN_SETTING, False))
        self._sets_changed()
        self._pending = dict(project.embeddings)
        self.project_arrays = dict(project.arrays)
        self._adopt_pending()

    def _adopt_pending(self) -> None:
        """Take over saved vectors made by the loaded model (same fingerprint)."""
        if self.encoder is None or not self._pending or self.combined is None:
            return
        n = len(self.combined)
        adopted = False
        for name, e in list(self._pending.items()):
            if e.model == self.encoder.model_id and len(e.vectors) == n:
                self._vectors[(e.role, e.task)] = e.vectors
                del self._pending[name]
                adopted = True
        if adopted:
            self.vectors_restored.emit()

    @property
    def combined(self):
        """All loaded sets as one SentenceSet (with a set-name column)."""
        if self._combined is None and self.sets:
            from e5desk.core.data import concat_sets

            self._combined = concat_sets(self.sets, join=self.join)
        return self._combined

    def texts(self) -> list[str]:
        c = self.combined
        return [] if c is None else list(c.text)

    # -- vectors ----------------------------------------------------------------------
    def vectors(self, role: str, task: str | None = None) -> np.ndarray | None:
        return self._vectors.get((role, task))

    def ensure_vectors(self, role: str, task: str | None = None,
                       then: Callable[[np.ndarray], None] | None = None) -> None:
        """Embed every loaded sentence in ``role`` (once), then call ``then``."""
        key = (role, task)
        if self.imported is not None:  # the only vectors there are, whatever the role
            if then:
                then(self.imported.vectors)
            return
        if key in self._vectors:
            if then:
                then(self._vectors[key])
            return
        if self.encoder is None or self.combined is None:
            return
        if key in self._embedding:  # already running: just wait for its signal
            return
        encoder, texts = self.encoder, self.texts()

        def job(progress, cancelled):
            return encoder.encode(texts, role=role, task=task, progress=progress,
                                  cancelled=cancelled)

        def done(vectors) -> None:
            self._embedding.pop(key, None)
            if encoder is self.encoder and len(vectors) == len(self.texts()):
                self._vectors[key] = vectors
                self.vectors_changed.emit(role)
                if then:
                    then(vectors)

        def failed(message: str) -> None:
            self._embedding.pop(key, None)
            self.error.emit(message)

        self._embedding[key] = self.runner.start(
            f"Embedding {len(texts):,} sentences", job, done, on_error=failed,
            on_cancel=lambda: self._embedding.pop(key, None))

    def set_language(self, rows, code: str | None) -> None:
        """Set the language of ``rows`` of the combined set (None: unknown). Written into
        the loaded sets (what projects save), including the copies that joining folded
        into these rows, and into the cached combined set; the vectors stay (the text is
        unchanged)."""
        c = self.combined
        rows = np.asarray(rows, dtype=np.int64)
        if c is None or not len(rows):
            return
        origin = c.origin
        if origin is None:  # the combined set is the only loaded set itself
            origin = np.column_stack([np.zeros(len(c), dtype=np.int64), np.arange(len(c))])
        folded = set()  # (group, old language, text) of rows joining may have folded in
        for row in rows:
            set_index, set_row = (int(x) for x in origin[row])
            s = self.sets[set_index]
            if s.group[set_row] is not None:
                folded.add((s.group[set_row], s.lang[set_row], s.text[set_row]))
            s.lang[set_row] = code
            c.lang[row] = code
        if folded:
            for s in self.sets:
                for i, key in enumerate(zip(s.group, s.lang, s.text, strict=True)):
                    if key[0] is not None and key in folded:
                        s.lang[i] = code
        self.sets_changed.emit()
