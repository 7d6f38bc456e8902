"""What a user works on, without Qt: the loaded sentence sets, their joined view, the
vectors of each (model, role, task), a project's saved arrays, and imported vectors.

The window's ``Session`` is a thin signal adapter over one Workspace (the state/view split
of glue and Orange), so the window's state can be built, saved and restored in tests and
scripts without a display. Methods that change something say what changed in their return
value; the adapter turns that into signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import E5DeskError
from e5desk.core.store.project import JOIN_SETTING, Embedding, Project

IMPORTED = "imported"  # the embedding name and model of vectors that came from elsewhere
IMPORTED_FROM = "imported_from"  # setting: the file vectors given with --vectors came from


@dataclass
class Workspace:
    sets: list[SentenceSet] = field(default_factory=list)  # in load order
    # Translations of files opened together join by source text (a project remembers).
    join: bool = True
    model_id: str | None = None  # the model whose vectors `vectors()` answers with
    project_arrays: dict = field(default_factory=dict)
    imported: object | None = None  # ImportedVectors: a set with vectors from elsewhere
    _vectors: dict = field(default_factory=dict)  # (model, role, task) -> (n, dim) array
    # From an opened project: vectors waiting for their model to be loaded.
    _pending: dict = field(default_factory=dict)
    _combined: SentenceSet | None = None

    # -- sentence sets ----------------------------------------------------------------
    @property
    def combined(self) -> SentenceSet | None:
        """All loaded sets as one SentenceSet (joined by source text when ``join``)."""
        if self._combined is None and self.sets:
            from e5desk.core.data import concat_sets

            self._combined = concat_sets(self.sets, join=self.join)
        return self._combined

    def texts(self) -> list[str]:
        c = self.combined
        return [] if c is None else list(c.text)

    def add_set(self, sentence_set: SentenceSet) -> None:
        self.sets.append(sentence_set)
        self._sets_changed()

    def remove_set(self, index: int) -> None:
        del self.sets[index]
        self._sets_changed()

    def set_join(self, join: bool) -> bool:
        """Join translations across files (True) or keep files apart. -> changed?"""
        if join == self.join:
            return False
        self.join = join
        self._sets_changed()
        return True

    def _sets_changed(self) -> None:
        # Rows change meaning: every vector, saved map and import is about the old rows.
        self._combined = None
        self._vectors.clear()
        self._pending = {}
        self.project_arrays = {}
        self.imported = None

    def set_language(self, rows, code: str | None) -> bool:
        """Set the language of ``rows`` of the combined set (None: unknown). Written into
        the loaded sets (what projects save), including the copies that joining folded
        into these rows, and into the combined set; the vectors stay (the text is the
        same). -> anything changed?"""
        c = self.combined
        rows = np.asarray(rows, dtype=np.int64)
        if c is None or not len(rows):
            return False
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
        return True

    # -- vectors ----------------------------------------------------------------------
    def vectors(self, role: str, task: str | None = None) -> np.ndarray | None:
        """The loaded model's vectors of every combined row in ``role`` (None: not yet)."""
        if self.imported is not None:  # the only vectors there are, whatever the role
            return self.imported.vectors
        return self._vectors.get((self.model_id, role, task))

    def store_vectors(self, model_id: str, role: str, task: str | None,
                      vectors: np.ndarray) -> bool:
        """Keep vectors an embedding job made. -> kept? (Not when the model changed or the
        rows changed while it ran: such vectors belong to nothing shown.)"""
        if model_id != self.model_id or len(vectors) != len(self.texts()):
            return False
        self._vectors[(model_id, role, task)] = vectors
        return True

    def set_model(self, model_id: str | None) -> bool:
        """The model now loaded: vectors of others are dropped, a project's saved vectors
        of this one taken over. -> were saved vectors taken over?"""
        if model_id != self.model_id:
            self._vectors = {k: v for k, v in self._vectors.items() if k[0] == model_id}
            self.model_id = model_id
        return self._adopt_pending()

    def _adopt_pending(self) -> bool:
        if self.model_id is None or not self._pending or self.combined is None:
            return False
        n = len(self.combined)
        adopted = False
        for name, e in list(self._pending.items()):
            if e.model == self.model_id and len(e.vectors) == n:
                self._vectors[(e.model, e.role, e.task)] = e.vectors
                del self._pending[name]
                adopted = True
        return adopted

    def import_vectors(self, imported) -> None:
        """Show vectors computed elsewhere (Projector TSV, .npy, Parquet) as the only set."""
        self.sets = [imported.sentences]
        self._sets_changed()
        self.imported = imported

    def typed_text_refusal(self, dim: int | None) -> str | None:
        """Why text typed now cannot be scored against the shown vectors (None: it can)."""
        if self.imported is None or self.model_id is None:
            return None
        from e5desk.core.vectors_import import dimension_refusal, is_imported

        if is_imported(self.imported):  # --vectors: any model of their dimension
            reason = dim is not None and dimension_refusal(self.imported, dim)
            return f"Imported vectors: {reason}" if reason else None
        try:
            self.imported.check_model(self.model_id, dim)
        except E5DeskError as exc:
            return f"Imported vectors: {exc}"
        return None

    # -- projects ---------------------------------------------------------------------
    def snapshot(self, arrays: dict, settings: dict) -> Project:
        """The workspace as a Project (arrays are shared, not copied: saving only reads)."""
        if self.imported is not None:
            # Vectors from elsewhere: kept with their origin, reopened as an import.
            e = Embedding(self.imported.model or IMPORTED, IMPORTED, None,
                          self.imported.vectors)
            prov = getattr(self.imported, "provenance", None) or {}
            extra = {IMPORTED_FROM: prov["imported"]} if prov.get("imported") else {}
            return Project(sets=list(self.sets), embeddings={IMPORTED: e},
                           arrays=dict(arrays),
                           settings={**settings, IMPORTED: True, **extra})
        embeddings = {f"{role}|{task or ''}": Embedding(model, role, task, v)
                      for (model, role, task), v in self._vectors.items()
                      if model is not None and model == self.model_id}
        # Saved vectors not yet taken over (model still loading) are kept, not dropped.
        for name, e in self._pending.items():
            embeddings.setdefault(name, e)
        return Project(sets=list(self.sets), embeddings=embeddings, arrays=dict(arrays),
                       settings={**settings, JOIN_SETTING: self.join})

    def restore(self, project: Project) -> bool:
        """Take over an opened project. -> were saved vectors restored now?"""
        if project.settings.get(IMPORTED) and IMPORTED in project.embeddings:
            from e5desk.core.store.exports import ImportedVectors

            e = project.embeddings[IMPORTED]
            model = None if e.model == IMPORTED else e.model
            imported = ImportedVectors(project.sets[0], e.vectors, model)
            if project.settings.get(IMPORTED_FROM):  # given with --vectors: kept as such
                from e5desk.core.vectors_import import imported_provenance

                imported.provenance = imported_provenance(project.settings[IMPORTED_FROM],
                                                          e.vectors.shape[1])
            self.import_vectors(imported)
            self.project_arrays = dict(project.arrays)
            return True
        self.sets = list(project.sets)
        self.join = bool(project.settings.get(JOIN_SETTING, False))
        self._sets_changed()
        self._pending = dict(project.embeddings)
        self.project_arrays = dict(project.arrays)
        return self._adopt_pending()
