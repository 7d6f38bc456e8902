"""Translations ▸ Suspect translations: the QA pass on the loaded a → b translations, one
table — rule and consistency findings (core/qa) and doubtful meanings
(core/evaluate.suspect_translations), a kind filter, what the most doubtful translations
leave out (word alignment, a background job), and "Save a marked copy…" of a loaded
catalogue (`e5desk check --mark-fuzzy`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.errors import E5DeskError
from e5desk.core.figures import column_help, doubt_summary
from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.core.qa.mark import check_output
from e5desk.gui.pair import suspect_request
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import state
from e5desk.gui.translations.common import buttons_row, combo, why


class SuspectsTab(QWidget):
    status = Signal(str)
    pair_requested = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.src_lang, self.tgt_lang = combo(), combo()
        self.kind_filter = combo(8)
        self.kind_filter.setToolTip("Show one kind of finding (rule checks, consistency, "
                                    "meaning)")
        self.kind_filter.addItem(state.ALL_KINDS)
        self.suspect_kinds: list[str] = []
        self.missing_pairs: list = []
        self._missing_job = None
        go = QPushButton("Check translations")
        self.mark_button = QPushButton("Save a marked copy…")
        self.mark_button.setToolTip("Write a copy of a loaded PO, XLIFF or TMX file with each "
                                    "flagged entry marked for review (as e5desk check "
                                    "--mark-fuzzy); the file itself is never changed")
        self.suspect_table = ResultTable("suspects", "suspect translations",
                                         empty_hint="Press Check translations first.")
        self.suspect_model = self.suspect_table.result_model
        self.similar_table = ResultTable("similar", "similar strings",
                                         empty_hint="Select an entry of the table above.")
        self.similar_model = self.similar_table.result_model
        self.similar_title = QLabel("Similar strings: select an entry above to see its "
                                    "nearest sources and how each was translated.")
        self.similar_title.setWordWrap(True)
        self.suspect_texts: list[tuple[str, str]] = []
        self._vectors = None
        self._pair = ("", "")
        row = QHBoxLayout()
        for widget in (QLabel("Between"), self.src_lang, QLabel("and"), self.tgt_lang, go,
                       QLabel("Show"), self.kind_filter):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        similar = QWidget()
        similar_layout = QVBoxLayout(similar)
        similar_layout.setContentsMargins(0, 0, 0, 0)
        similar_layout.addWidget(self.similar_title)
        similar_layout.addWidget(self.similar_table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.suspect_table)
        split.addWidget(similar)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.suspect_note = QLabel("Rule findings first, then meanings, most doubtful first; "
                                   "“looks fine” rows are the best mutual matches.")
        self.suspect_note.setWordWrap(True)
        buttons = buttons_row(self.suspect_table, self.suspect_note)
        buttons.insertWidget(1, why(self.suspect_table, suspect_request,
                                    self.pair_requested.emit))
        buttons.insertWidget(2, self.mark_button)  # below: the top row fits 1024 pixels
        layout.addLayout(buttons)
        go.clicked.connect(self.check)
        self.kind_filter.currentTextChanged.connect(self.show_kind)
        self.mark_button.clicked.connect(self.save_marked_copy)
        self.suspect_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_similar(current.row()))

    def refresh_choices(self) -> None:
        c = self.session.combined
        langs = state.languages(c)
        for box in (self.src_lang, self.tgt_lang):
            box.clear()
            box.addItems(langs)
        pair = state.default_suspect_pair(c)
        if pair is not None:
            self.src_lang.setCurrentText(pair[0])
            self.tgt_lang.setCurrentText(pair[1])
        elif len(langs) > 1:
            self.tgt_lang.setCurrentIndex(1)

    def check(self) -> None:
        c = self.session.combined
        a, b = self.src_lang.currentText(), self.tgt_lang.currentText()
        if c is None or not a or a == b:
            self.status.emit("Pick two different languages of a parallel set.")
            return
        from e5desk.core.evaluate import suspect_translations
        from e5desk.core.translations import shared_groups

        langs, groups = list(c.lang), list(c.group)
        if not shared_groups(langs, groups, a, b):
            self.suspect_model.set_data([], [])
            self.status.emit(f"Nothing to check: no groups shared by {a} and {b} (no "
                             f"{a} sentence has a {b} translation in the loaded sets).")
            return

        files = state.markable_files(self.session.sets)  # their gettext flags

        def with_vectors(vectors):
            texts = list(c.text)
            self._vectors, self._pair = vectors, (a, b)

            def job(progress, cancelled):
                return (state.rule_findings(c, a, b, files),
                        suspect_translations(vectors, texts, langs, groups, a, b))

            self.session.runner.start("Checking translations", job,
                                      lambda out: self._show_suspects(out[1], a, b, out[0]))

        self.session.ensure_vectors(SYMMETRIC_ROLE, None, then=with_vectors)

    def _show_suspects(self, suspects, a: str = "", b: str = "", findings=()) -> None:
        c = self.session.combined
        t = state.suspect_table(suspects, list(findings), c.text, c.group, a, b)
        self.suspect_model.set_data(t.headers, t.columns, t.formats)
        self.suspect_model.set_styles(muted=t.muted)
        self.suspect_kinds = t.extra["kinds"]
        self.suspect_texts = t.extra["texts"]
        self.similar_model.set_data([], [])
        self.missing_pairs = t.extra["pairs"]
        shown = self.kind_filter.currentText()
        self.kind_filter.blockSignals(True)
        self.kind_filter.clear()
        self.kind_filter.addItems(state.kind_choices(self.suspect_kinds))
        self.kind_filter.setCurrentText(shown)  # stays on all kinds where it is gone
        self.kind_filter.blockSignals(False)
        self.show_kind(self.kind_filter.currentText())
        meaning = len(suspects)
        flagged = sum(s.reason != "looks fine" for s in suspects)
        summary = doubt_summary(flagged, meaning, a, b)  # the figures in words
        if t.extra["rules"]:
            summary += f" {t.extra['rules']} rule or consistency finding(s)."
        self.suspect_note.setToolTip(column_help("doubt"))
        self.status.emit(summary)
        self._find_missing_words()

    def show_similar(self, view_row: int) -> None:
        """The Similar strings panel for the table's row ``view_row``: its nearest
        sources by embedding and how each was translated (state.similar_strings)."""
        c, vectors = self.session.combined, self._vectors
        if view_row < 0 or c is None or vectors is None or len(vectors) != len(c.text):
            return
        row = self.suspect_model.source_row(view_row)
        if row >= len(self.suspect_texts):
            return
        source, translation = self.suspect_texts[row]
        a, b = self._pair
        t = state.similar_strings(c.text, c.lang, c.group, vectors, source, translation, a, b)
        self.similar_model.set_data(t.headers, t.columns, t.formats)
        self.similar_model.set_styles(notes=t.notes)
        n = sum(t.extra["diverging"])
        short = source if len(source) <= 60 else source[:59] + "…"
        self.similar_title.setText(
            f"Similar strings to “{short}”: {len(t.columns[0])} nearest sources"
            + (f", {n} translated differently" if n else "") + ".")

    def show_kind(self, kind: str) -> None:
        self.suspect_model.set_rows(state.rows_of_kind(self.suspect_kinds, kind))

    def _find_missing_words(self) -> None:
        """The unaligned content words of the most doubtful meaning suspects, in the
        background (word alignment, as `e5desk check` lists them)."""
        enc, pairs = self.session.encoder, list(self.missing_pairs)
        if self._missing_job is not None:
            self._missing_job.cancel()
            self._missing_job = None
        if enc is None or not pairs or not hasattr(enc, "token_states"):
            return
        model = self.suspect_model
        columns = model.columns

        def done(words: dict[int, str]) -> None:
            self._missing_job = None
            if model.columns is not columns:  # a newer check replaced the table
                return
            col = model.headers.index(state.MISSING)
            for row, text in words.items():
                columns[col][row] = text
            n = len(model.rows)
            if n:
                model.dataChanged.emit(model.index(0, col), model.index(n - 1, col))

        self._missing_job = self.session.runner.start(
            "Finding missing words",
            lambda p, k: state.missing_words(enc, pairs, progress=p, cancelled=k), done)

    def save_marked_copy(self) -> None:
        """Ask for a loaded catalogue and a new path; write the marked copy in the
        background (every check; meaning too when a model is loaded)."""
        files = state.markable_files(self.session.sets)
        if not files:
            self.status.emit("Open a PO, XLIFF or TMX file first: a marked copy is written "
                             "for those.")
            return
        path = files[0]
        if len(files) > 1:
            names = [str(p) for p in files]
            name, ok = QInputDialog.getItem(self, "Save a marked copy", "Catalogue:", names,
                                            0, False)
            if not ok:
                return
            path = Path(name)
        suggested = str(path.with_name(f"{path.stem}.marked{path.suffix}"))
        out, _ = QFileDialog.getSaveFileName(self, "Save a marked copy", suggested)
        if not out:
            return
        out = Path(out)
        try:
            check_output([path], out)  # refused at once, before any work
        except E5DeskError as exc:
            self.status.emit(str(exc))
            return
        enc = self.session.encoder

        def encode(texts):
            return enc.encode(texts, role=SYMMETRIC_ROLE)

        def job(progress, cancelled):
            return state.write_marked_copy(path, out, encode if enc is not None else None)

        def done(result) -> None:
            written, n, summary = result
            self.status.emit(f"Wrote {written}: {n} entr{'y' if n == 1 else 'ies'} marked for "
                             f"review ({summary})")

        self.session.runner.start("Saving a marked copy", job, done)
