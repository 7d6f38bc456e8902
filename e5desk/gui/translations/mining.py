"""Translations ▸ Mine pairs: translation pairs between two loaded sets by margin
(core/similarity.mine), the languages that tell the two sets apart by default."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.errors import E5DeskError
from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import state
from e5desk.gui.translations.common import buttons_row, combo


class MiningTab(QWidget):
    status = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, MODES

        super().__init__(parent)
        self.session = session
        self.mine_src, self.mine_tgt = combo(10), combo(10)
        self.mine_src_lang, self.mine_tgt_lang = combo(4), combo(4)
        self.mine_src_lang.setToolTip("Language of the source sentences")
        self.mine_tgt_lang.setToolTip("Language of the target sentences")
        self.threshold = QLineEdit(str(DEFAULT_MARGIN_THRESHOLD))
        self.threshold.setMaximumWidth(70)
        self.mine_mode = QComboBox()
        self.mine_mode.addItems(list(MODES))
        self.mine_mode.setToolTip("forward: each source sentence's best target; backward: each "
                                  "target's best source; intersect: pairs both agree on")
        go = QPushButton("Mine")
        self.mine_table = ResultTable("mined-pairs", "mined pairs",
                                      empty_hint="Press Mine first.")
        self.mine_model = self.mine_table.result_model
        grid = QGridLayout()
        for col, (label, widget) in enumerate((("Source set", self.mine_src),
                                               ("language", self.mine_src_lang),
                                               ("mode", self.mine_mode))):
            grid.addWidget(QLabel(label), 0, 2 * col)
            grid.addWidget(widget, 0, 2 * col + 1)
        for col, (label, widget) in enumerate((("Target set", self.mine_tgt),
                                               ("language", self.mine_tgt_lang),
                                               ("margin ≥", self.threshold))):
            grid.addWidget(QLabel(label), 1, 2 * col)
            grid.addWidget(widget, 1, 2 * col + 1)
        grid.addWidget(go, 1, 6)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(7, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        hint = QLabel("Ratio margin over the 4 nearest neighbours both ways; intersect keeps "
                      "the pairs both directions agree on.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.mine_table, 1)
        layout.addLayout(buttons_row(self.mine_table))
        go.clicked.connect(self.mine_sets)
        self.mine_src.currentIndexChanged.connect(lambda _i: self._mining_languages())
        self.mine_tgt.currentIndexChanged.connect(lambda _i: self._mining_languages())

    def refresh_choices(self) -> None:
        names = [s.name for s in self.session.sets]
        for box in (self.mine_src, self.mine_tgt):
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.blockSignals(False)
        if len(names) > 1:
            self.mine_tgt.setCurrentIndex(1)
        self._mining_languages()

    def _set_langs(self, name: str) -> list:
        return state.set_langs(self.session.combined, name)

    def _mining_languages(self) -> None:
        """Language pickers list the languages of each chosen set; the defaults are the
        languages that tell the two sets apart (never one language on both sides)."""
        from e5desk.core.translations import language_counts, mining_languages

        s_name, t_name = self.mine_src.currentText(), self.mine_tgt.currentText()
        for box, name in ((self.mine_src_lang, s_name), (self.mine_tgt_lang, t_name)):
            box.clear()
            box.addItems(sorted(language_counts(self._set_langs(name))))
        # Defaults from the files as read: joined catalogues keep the shared English source
        # once (in the first file), yet es.po vs ja.po is still es vs ja.
        own = {s.name: list(s.lang) for s in self.session.sets}
        try:
            a, b = mining_languages(own.get(s_name, []), own.get(t_name, []))
        except E5DeskError as exc:
            self.status.emit(str(exc))
            return
        if a is not None and b is not None:
            self.mine_src_lang.setCurrentText(a)
            self.mine_tgt_lang.setCurrentText(b)

    def mine_sets(self) -> None:
        from e5desk.core.similarity import DEFAULT_ROUNDS, mine

        c, enc = self.session.combined, self.session.encoder
        s_name, t_name = self.mine_src.currentText(), self.mine_tgt.currentText()
        a, b = self.mine_src_lang.currentText(), self.mine_tgt_lang.currentText()
        if c is None or enc is None or not s_name or not t_name:
            self.status.emit("Load a model and the sentence sets to mine first.")
            return
        if not a or not b:
            self.status.emit("Pick a source and a target language.")
            return
        if a == b:
            self.status.emit(f"Both sides are {a}: mining pairs sentences of two languages. "
                             "Pick two different languages.")
            return
        try:
            threshold = float(self.threshold.text())
        except ValueError:
            self.status.emit("The margin threshold must be a number, e.g. 1.02")
            return
        mode = self.mine_mode.currentText()
        src_rows, tgt_rows = state.mining_rows(c, s_name, t_name, a, b)
        if not len(src_rows) or not len(tgt_rows):
            self.status.emit(f"No {a if not len(src_rows) else b} sentences in "
                             f"{s_name if not len(src_rows) else t_name}.")
            return

        texts = ([c.text[i] for i in src_rows], [c.text[i] for i in tgt_rows])

        def with_vectors(vectors):
            def job(progress, cancelled):
                return mine(vectors[src_rows], vectors[tgt_rows], mode=mode,
                            threshold=threshold, progress=progress, cancelled=cancelled,
                            texts=texts, rounds=DEFAULT_ROUNDS)

            self.session.runner.start("Mining", job, lambda pairs: self._show_pairs(
                pairs, src_rows, tgt_rows, a, b))

        self.session.ensure_vectors(SYMMETRIC_ROLE, None, then=with_vectors)

    def _show_pairs(self, pairs, src_rows, tgt_rows, a: str = "", b: str = "") -> None:
        t = state.mined_table(pairs, self.session.combined.text, src_rows, tgt_rows, a, b)
        self.mine_model.set_data(t.headers, t.columns, t.formats)
        self.status.emit(f"{len(pairs)} {a} → {b} pairs mined")
