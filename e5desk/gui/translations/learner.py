"""Translations ▸ How is it said?: a typed sentence's closest translations in the ticked
languages, with where each score stands (calibrated percentiles)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.calibration import TOOLTIP_TRANSLATIONS, calibrate_set, share_below
from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.gui.pair import learner_request
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import state
from e5desk.gui.translations.common import buttons_row, why


class LearnerTab(QWidget):
    status = Signal(str)
    show_on_map = Signal(object)
    pair_requested = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.learner_rows: list[int] = []
        self.sentence = QLineEdit()
        self.sentence.setPlaceholderText("Type a sentence in any language, then Enter")
        self.targets = QListWidget()
        self.targets.setMaximumWidth(160)
        self.learner_table = ResultTable("learner", "translations",
                                         empty_hint="Type a sentence and press Find first.")
        self.learner_model = self.learner_table.result_model
        go = QPushButton("Find")
        row = QHBoxLayout()
        row.addWidget(self.sentence, 1)
        row.addWidget(go)
        body = QHBoxLayout()
        side = QVBoxLayout()
        side.addWidget(QLabel("Target languages:"))
        side.addWidget(self.targets)
        body.addLayout(side)
        table = QVBoxLayout()
        table.addWidget(self.learner_table, 1)
        self.learner_note = QLabel("A translation is marked found when it clearly beats the "
                                   "other candidates; grey rows are weak candidates.")
        self.learner_note.setWordWrap(True)
        buttons = buttons_row(self.learner_table, self.learner_note)
        buttons.insertWidget(1, why(self.learner_table, lambda h, c, r: learner_request(
            self.sentence.text(), h, c, r), self.pair_requested.emit))
        table.addLayout(buttons)
        body.addLayout(table, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(body, 1)
        go.clicked.connect(self.find_translations)
        self.sentence.returnPressed.connect(self.find_translations)

    def refresh_choices(self) -> None:
        from e5desk.core.langid import display_name

        self.targets.clear()
        for lang in state.languages(self.session.combined):
            item = QListWidgetItem(f"{lang} — {display_name(lang)}")
            item.setData(Qt.ItemDataRole.UserRole, lang)
            item.setCheckState(Qt.CheckState.Checked)
            self.targets.addItem(item)

    def chosen_languages(self) -> list[str]:
        items = [self.targets.item(i) for i in range(self.targets.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items
                if i.checkState() == Qt.CheckState.Checked]

    def find_translations(self) -> None:
        from e5desk.core.translations import closest_translations

        text = self.sentence.text().strip()
        enc, c = self.session.encoder, self.session.combined
        if not text or enc is None or c is None:
            self.status.emit("Load a model and a sentence set, then type a sentence.")
            return
        targets = self.chosen_languages()
        if not targets:
            self.status.emit("Tick at least one target language.")
            return

        def with_vectors(vectors: np.ndarray) -> None:
            texts, langs = list(c.text), list(c.lang)

            def job(progress, cancelled):
                q = enc.encode([text], role=SYMMETRIC_ROLE)[0]
                found = closest_translations(q, vectors, texts, langs, targets, top=3)
                # issue 25: percentiles among the set's unrelated pairs / translations (cached)
                return found, calibrate_set(enc, c, "symmetric", vectors, cancelled=cancelled)

            self.session.runner.start("Finding translations", job,
                                      lambda out: self._show_learner(out[0], targets, out[1]))

        self.session.ensure_vectors(SYMMETRIC_ROLE, None, then=with_vectors)

    def _show_learner(self, candidates, targets=(), cal=None) -> None:
        c = self.session.combined
        t = state.learner_table(candidates, targets, c.text, c.group, cal, share_below)
        self.learner_rows = t.extra["found"]
        self.learner_model.set_data(t.headers, t.columns, t.formats)
        self.learner_model.header_tips = {
            state.VS_UNRELATED: cal.tooltip() if cal else state.NO_CALIBRATION,
            state.VS_TRANSLATIONS: TOOLTIP_TRANSLATIONS}
        self.learner_model.set_styles(muted=t.muted, notes=t.notes)
        self.show_on_map.emit(np.array(self.learner_rows, dtype=np.int64))
        self.status.emit(state.learner_message(t.extra["missing"], t.extra["shown"]))
