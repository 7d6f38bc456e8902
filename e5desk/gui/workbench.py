"""The similarity workbench: queries in, ranked passages with scores (cos x 100) out."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.models.families import TASK_PRESETS
from e5desk.core.scoring import NARROW_BAND_NOTE, PREFIX_RULES
from e5desk.gui import scores_state as state
from e5desk.gui.heatmap import Heatmap
from e5desk.gui.scores_state import NO_CALIBRATION, NO_PAIR, PASSAGE_SOURCES, VS_UNRELATED
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable, table_panel, table_text
from e5desk.workflows.score import Reference, score_pair, score_passages


class Workbench(QWidget):
    """Query box, prefix rule, passage source, ranked results, heatmap and pair readout."""

    status = Signal(str)
    pair_requested = Signal(object)  # a pair view request (e5desk.gui.pair.PairRequest)

    def __init__(self, session: Session, selected_rows=None, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.selected_rows = selected_rows or (lambda: np.zeros(0, dtype=np.int64))
        self.result = self.ranking = None  # the last score (workflows.score.ScoreResult)
        self.calibration = None  # the loaded set's reference scores (issue 25)
        self._passage_texts: list[str] = []
        self._passage_meta: list[tuple[str, str]] = []

        self.queries = QPlainTextEdit()
        self.queries.setPlaceholderText(
            "Type a query in any language (one per line), then press Ctrl+Enter")
        self.queries.setMaximumHeight(64)
        self.rule = QComboBox()
        for key, rule in PREFIX_RULES.items():
            self.rule.addItem(rule.label, key)
        self.task = QComboBox()
        self.task.setEditable(True)
        for key, text in TASK_PRESETS.items():
            self.task.addItem(f"{key}: {text}", text)
        self.task.setToolTip("Instruction for instruct models (one sentence describing the task)")
        self.source = QComboBox()
        for key, label in PASSAGE_SOURCES.items():
            self.source.addItem(label, key)
        self.k = QSpinBox()
        self.k.setRange(1, 1000)
        self.k.setValue(20)
        self.typed = QPlainTextEdit()
        self.typed.setPlaceholderText("One passage per line")
        self.typed.setVisible(False)
        self.run_button = QPushButton("Score")
        self.run_button.setToolTip("Score the queries against the passages (Ctrl+Enter)")
        self.prefix_hint = QLabel()
        self.prefix_hint.setObjectName("prefixHint")
        # Long entries are elided (full text in the drop-down): the window fits 1024 px.
        for combo, chars in ((self.rule, 14), (self.source, 10), (self.task, 20)):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)

        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.rule, 2)
        row.addWidget(QLabel("Passages:"))
        row.addWidget(self.source, 1)
        row.addWidget(QLabel("Top"))
        row.addWidget(self.k)
        row.addWidget(self.run_button)
        form.addRow("Queries:", self.queries)
        form.addRow("Prefix rule:", row)
        self.task_label = QLabel("Task:")
        form.addRow(self.task_label, self.task)
        form.addRow("", self.prefix_hint)
        form.addRow("", self.typed)

        self.table = ResultTable("scores", "ranked results",
                                 empty_hint="Score some queries first.")
        self.results = self.table.result_model
        self.table.verticalHeader().hide()  # the rank column numbers the rows
        self.note = QLabel(NARROW_BAND_NOTE)
        self.note.setWordWrap(True)
        self.note.setObjectName("note")
        ranked = table_panel(self.table, self.note)

        self.heatmap = Heatmap()
        self.pair_query = QLineEdit()
        self.pair_query.setPlaceholderText("query, e.g. What is the recommended sugar intake?")
        self.pair_passage = QLineEdit()
        self.pair_passage.setPlaceholderText(
            "passage, e.g. The CDC recommends 20 g of sugar a day.")
        self.pair_result = QLabel("Relevancy score: –")
        self.pair_result.setObjectName("pairScore")
        pair_button = QPushButton("Score pair")
        pair = QWidget()
        pl = QFormLayout(pair)
        pl.addRow("Query:", self.pair_query)
        pl.addRow("Passage:", self.pair_passage)
        pl.addRow(pair_button, self.pair_result)
        why = QPushButton("Why this score?")
        why.setToolTip("Open the pair in the pair view: word links and each word's share")
        why.clicked.connect(self.explain_pair)
        pl.addRow(why)

        self.tabs = QTabWidget()
        self.tabs.addTab(ranked, "Ranked results")
        self.tabs.addTab(self.heatmap, "Heatmap")
        self.tabs.addTab(pair, "Single pair")
        splitter = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top.setLayout(form)
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.table.status.connect(self.status)
        self.heatmap.exporter.status.connect(self.status)
        self.run_button.clicked.connect(self.run)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.run)
        pair_button.clicked.connect(self.run_pair)
        self.pair_passage.returnPressed.connect(self.run_pair)
        self.source.currentIndexChanged.connect(self._source_changed)
        self.rule.currentIndexChanged.connect(self._update_hint)
        self.task.currentTextChanged.connect(self._update_hint)
        session.model_changed.connect(self._update_hint)
        self._update_hint()

    # -- settings ---------------------------------------------------------------------
    def rule_key(self) -> str:
        return self.rule.currentData()

    def task_text(self) -> str | None:
        enc = self.session.encoder
        return state.task_text(self.task.currentText(), self.task.currentData(),
                               bool(enc and enc.family.instruct))

    def _source_changed(self) -> None:
        self.typed.setVisible(self.source.currentData() == "typed")

    def _update_hint(self) -> None:
        enc = self.session.encoder
        instruct = bool(enc and enc.family.instruct)
        self.task.setVisible(instruct)
        self.task_label.setVisible(instruct)
        self.prefix_hint.setText("Loading the model…" if enc is None else
                                 state.prefix_hint(enc.format, self.rule_key(),
                                                   self.task_text()))

    def state(self) -> state.ScoresState:
        return state.ScoresState(
            self.queries.toPlainText(), self.rule_key(), self.task.currentText(),
            self.source.currentData(), self.k.value(), self.typed.toPlainText(),
            (self.pair_query.text(), self.pair_passage.text()))

    def view_settings(self) -> dict:
        return self.state().to_dict()

    def apply_settings(self, settings: dict) -> None:
        new = self.state().updated(settings)
        self.queries.setPlainText(new.queries)
        self.rule.setCurrentIndex(self.rule.findData(new.rule))
        self.source.setCurrentIndex(self.source.findData(new.source))
        self.task.setCurrentText(new.task)
        self.k.setValue(new.k)
        self.typed.setPlainText(new.typed)
        self.pair_query.setText(new.pair[0])
        self.pair_passage.setText(new.pair[1])

    # -- scoring ----------------------------------------------------------------------
    def set_queries(self, text: str) -> None:
        self.queries.setPlainText(text)

    def run(self) -> None:
        enc = self.session.encoder
        if enc is None:
            self.status.emit("The model is still loading.")
            return
        view = self.state()
        settings = view.settings(self.task_text())
        if not settings.queries:
            self.status.emit("Type a query first.")
            return
        role, task = settings.passage_role, settings.task
        loaded = self.session.combined
        if view.source == "typed":
            texts = view.typed_passages()
            self._passage_texts = texts
            self._passage_meta = [("", "typed")] * len(texts)
            # typed passages: percentiles against the loaded set's pairs, when embedded
            reference = Reference(loaded, self.session.workspace.vectors(role, task)
                                  if loaded is not None else None)
            self.session.runner.start("Scoring", lambda p, c: score_passages(
                enc, settings, texts, reference=reference, progress=p, cancelled=c),
                self._show)
            return
        if loaded is None:
            self.status.emit("Load a sentence set first (File ▸ Open).")
            return
        refusal = self.session.typed_text_refusal()
        if refusal:
            self.session.error.emit(refusal)
            return
        rows = self.selected_rows() if view.source == "selection" else np.arange(len(loaded))
        if len(rows) == 0:
            self.status.emit("Select some sentences in the table first.")
            return
        self._passage_texts = [loaded.text[i] for i in rows]
        self._passage_meta = [(loaded.lang[i] or "", loaded.set_name[i]) for i in rows]

        def with_vectors(all_vectors: np.ndarray) -> None:
            self.session.runner.start("Scoring", lambda p, c: score_passages(
                enc, settings, vectors=all_vectors[rows],
                reference=Reference(loaded, all_vectors), progress=p, cancelled=c),
                self._show)

        self.session.ensure_vectors(role, task, then=with_vectors)

    def _show(self, result) -> None:
        self.result, self.ranking, self.calibration = result, result.ranking, result.calibration
        texts = self._passage_texts
        self.results.set_data(*state.ranked_table(result, texts, self._passage_meta))
        self.results.header_tips = {VS_UNRELATED: self.calibration.tooltip()
                                    if self.calibration else NO_CALIBRATION}
        self.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
        self.table.setColumnHidden(0, len(result.ranking.queries) == 1)  # no need to repeat
        self.table.fit_columns()
        self.heatmap.set_scores(*result.heatmap(texts))
        best = state.best_match(result, texts)
        if best:
            self.status.emit(best)

    def run_pair(self) -> None:
        enc = self.session.encoder
        query, passage = self.pair_query.text().strip(), self.pair_passage.text().strip()
        if enc is None or not query or not passage:
            self.pair_result.setText(NO_PAIR)
            return
        rule, task = self.rule_key(), self.task_text()
        self.session.runner.start(
            "Scoring pair", lambda p, c: score_pair(enc, query, passage, rule, task),
            lambda s: self.pair_result.setText(state.pair_text(s, self.calibration, rule)))

    def explain_pair(self) -> None:
        from e5desk.gui.pair.state import PairRequest

        query, passage = self.pair_query.text().strip(), self.pair_passage.text().strip()
        if not query or not passage:
            self.pair_result.setText(NO_PAIR)
            return
        self.pair_requested.emit(PairRequest(query, passage, self.rule_key(), "query",
                                             self.task_text(), origin="Scores tab"))

    # -- output -----------------------------------------------------------------------
    def current_table(self):
        """The result table in view (for the window's Ctrl+E): the heatmap's cells on the
        Heatmap tab, else the ranked results."""
        return self.heatmap.exporter if self.tabs.currentWidget() is self.heatmap else self.table

    def results_csv(self, delimiter: str = ",") -> str:
        return table_text(self.results, delimiter=delimiter)

    def copy_results(self) -> None:
        self.table.exporter.copy_rows()

    def export_results(self, path=None) -> None:
        self.table.export_csv(path or None)
