"""The similarity workbench: queries in, ranked passages with scores (cos x 100) out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
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

from e5desk.core.calibration import calibrate_set, share_below
from e5desk.core.models.families import TASK_PRESETS
from e5desk.core.scoring import NARROW_BAND_NOTE, PREFIX_RULES, pair_score, rank_passages, roles_for
from e5desk.gui.session import Session
from e5desk.gui.tables import ColumnTableModel, ResultTable, TableExport, table_text

PASSAGE_SOURCES = {"all": "All loaded sentences", "selection": "Selected sentences",
                   "typed": "Passages typed below"}
MAX_HEATMAP = 300
VS_UNRELATED = "vs unrelated"  # issue 25: the score's percentile among unrelated pairs
NO_CALIBRATION = ("Where the score stands among unrelated pairs of the loaded sentences: "
                  "load a sentence set (and score against it once) to see it.")


def elide(text: str, n: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def query_ticks(queries: list[str], most: int = 30) -> list[tuple[float, str]]:
    """Heatmap rows named by their (elided) query, at most ``most`` names so they never
    overlap; every row's full text is in the hover readout."""
    step = max(1, -(-len(queries) // most))
    return [(i + 0.5, elide(q)) for i, q in enumerate(queries) if i % step == 0]


class Heatmap(QWidget):
    """Queries x passages scores as an image with a colour bar and hover values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(None)
        self.plot.invertY(True)
        self.plot.setLabel("left", "query")
        self.plot.setLabel("bottom", "passage (sorted by best score)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(70, 100), colorMap=pg.colormap.get("viridis"),
                                   label="score (cos × 100)", interactive=False)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.hover = QLabel("Hover a cell to see its score.")
        self.hover.setWordWrap(True)
        # The cells as a table (query, passage, score) for copy and CSV export.
        self.cells = ColumnTableModel()
        self.exporter = TableExport(self.cells, "heatmap", "heatmap.csv",
                                    "Score some queries first.", self)
        copy, export = QPushButton("Copy"), QPushButton("Export CSV…")
        copy.setToolTip("Copy every cell (query, passage, score) as tab-separated text")
        export.setToolTip("Save every cell (query, passage, score) as CSV (Ctrl+E)")
        copy.clicked.connect(lambda: self.exporter.copy_rows())
        export.clicked.connect(lambda: self.exporter.export_csv())
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover, 1)
        bottom.addWidget(copy)
        bottom.addWidget(export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(bottom)
        self.scores = np.zeros((0, 0))
        self.queries: list[str] = []
        self.passages: list[str] = []
        self.plot.scene().sigMouseMoved.connect(self._moved)

    def set_scores(self, scores: np.ndarray, queries: list[str], passages: list[str]) -> None:
        self.scores, self.queries, self.passages = scores, queries, passages
        q, p = np.indices(scores.shape)
        self.cells.set_data(["query", "passage", "score"],
                            [np.array(queries, dtype=object)[q.ravel()] if queries else [],
                             np.array(passages, dtype=object)[p.ravel()] if passages else [],
                             scores.ravel().astype(float)], [None, None, ".2f"])
        self.image.setImage(scores, autoLevels=False)
        self.plot.getAxis("left").setTicks([query_ticks(queries)])
        if scores.size:
            lo, hi = float(scores.min()), float(scores.max())
            self.bar.setLevels((np.floor(lo), np.ceil(hi) if hi > lo else lo + 1))
        self.plot.autoRange()

    def cell_text(self, row: int, col: int) -> str:
        return (f"{self.scores[row, col]:.2f}  ·  query: {self.queries[row]!r}  ·  "
                f"passage: {self.passages[col]!r}")

    def _moved(self, pos) -> None:
        if not self.scores.size:
            return
        p = self.image.mapFromScene(pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= row < self.scores.shape[0] and 0 <= col < self.scores.shape[1]:
            self.hover.setText(self.cell_text(row, col))


class Workbench(QWidget):
    """Query box, prefix rule, passage source, ranked results, heatmap and pair readout."""

    status = Signal(str)
    pair_requested = Signal(object)  # a pair view request (e5desk.gui.pair.PairRequest)

    def __init__(self, session: Session, selected_rows=None, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.selected_rows = selected_rows or (lambda: np.zeros(0, dtype=np.int64))
        self.ranking = None
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
        copy, export = self.table.buttons()
        ranked = QWidget()
        rl = QVBoxLayout(ranked)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(copy)
        bottom.addWidget(export)
        rl.addLayout(bottom)

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
        if enc is None or not enc.family.instruct:
            return None
        data = self.task.currentData()
        text = self.task.currentText()
        return data if data and text.endswith(data) else text

    def _source_changed(self) -> None:
        self.typed.setVisible(self.source.currentData() == "typed")

    def _update_hint(self) -> None:
        enc = self.session.encoder
        instruct = bool(enc and enc.family.instruct)
        self.task.setVisible(instruct)
        self.task_label.setVisible(instruct)
        if enc is None:
            self.prefix_hint.setText("Loading the model…")
            return
        q_role, p_role = roles_for(self.rule_key())
        task = self.task_text()
        q = enc.format(["…"], q_role, task)[0].replace("\n", "\\n")
        p = enc.format(["…"], p_role, task)[0].replace("\n", "\\n")
        self.prefix_hint.setText(f"Model input: queries “{q}”, passages “{p}”")

    def view_settings(self) -> dict:
        return {"queries": self.queries.toPlainText(), "rule": self.rule_key(),
                "task": self.task.currentText(), "source": self.source.currentData(),
                "k": self.k.value(), "typed": self.typed.toPlainText(),
                "pair": [self.pair_query.text(), self.pair_passage.text()]}

    def apply_settings(self, settings: dict) -> None:
        self.queries.setPlainText(settings.get("queries", ""))
        for box, key in ((self.rule, "rule"), (self.source, "source")):
            index = box.findData(settings.get(key))
            if index >= 0:
                box.setCurrentIndex(index)
        if settings.get("task"):
            self.task.setCurrentText(settings["task"])
        self.k.setValue(int(settings.get("k", self.k.value())))
        self.typed.setPlainText(settings.get("typed", ""))
        pair = settings.get("pair") or ["", ""]
        self.pair_query.setText(pair[0])
        self.pair_passage.setText(pair[1])

    # -- scoring ----------------------------------------------------------------------
    def set_queries(self, text: str) -> None:
        self.queries.setPlainText(text)

    def run(self) -> None:
        enc = self.session.encoder
        if enc is None:
            self.status.emit("The model is still loading.")
            return
        queries = [q for q in self.queries.toPlainText().splitlines() if q.strip()]
        if not queries:
            self.status.emit("Type a query first.")
            return
        rule, task, k = self.rule_key(), self.task_text(), self.k.value()
        _, passage_role = roles_for(rule)
        source = self.source.currentData()
        if source == "typed":
            texts = [t for t in self.typed.toPlainText().splitlines() if t.strip()]
            self._passage_texts = texts
            self._passage_meta = [("", "typed")] * len(texts)

            loaded = self.session.combined
            loaded_vectors = (self.session.workspace.vectors(passage_role, task)
                              if loaded is not None else None)

            def job(progress, cancelled):
                p = enc.encode(texts, role=passage_role, task=task, progress=progress,
                               cancelled=cancelled)
                # typed passages: percentiles against the loaded set's pairs, when embedded
                cal = calibrate_set(enc, loaded, rule, loaded_vectors, task, cancelled)
                return rank_passages(enc, queries, p, rule, task, k), p, cal

            self.session.runner.start("Scoring", job, self._show)
            return
        combined = self.session.combined
        if combined is None:
            self.status.emit("Load a sentence set first (File ▸ Open).")
            return
        refusal = self.session.typed_text_refusal()
        if refusal:
            self.session.error.emit(refusal)
            return
        rows = self.selected_rows() if source == "selection" else np.arange(len(combined))
        if len(rows) == 0:
            self.status.emit("Select some sentences in the table first.")
            return
        self._passage_texts = [combined.text[i] for i in rows]
        self._passage_meta = [(combined.lang[i] or "", combined.set_name[i]) for i in rows]

        def with_vectors(all_vectors: np.ndarray) -> None:
            p = all_vectors[rows]

            def job(progress, cancelled):
                ranking = rank_passages(enc, queries, p, rule, task, k, progress, cancelled)
                return ranking, p, calibrate_set(enc, combined, rule, all_vectors, task,
                                                 cancelled)  # once per set and rule (cached)

            self.session.runner.start("Scoring", job, self._show)

        self.session.ensure_vectors(passage_role, task, then=with_vectors)

    def _show(self, result) -> None:
        ranking, passage_vectors, *calibration = result
        self.ranking = ranking
        self.calibration = calibration[0] if calibration else None
        rows = ranking.rows()
        texts, meta = self._passage_texts, self._passage_meta
        self.results.set_data(
            ["query", "rank", "score", "cosine", "lang", "set", "passage", VS_UNRELATED],
            [
                [ranking.queries[r[0]] for r in rows],
                np.array([r[1] for r in rows]),
                np.array([r[3] for r in rows]),
                np.array([r[3] / 100 for r in rows]),
                [meta[r[2]][0] for r in rows],
                [meta[r[2]][1] for r in rows],
                [texts[r[2]] for r in rows],
                share_below(self.calibration, [r[3] for r in rows]),
            ],
            [None, "d", ".2f", ".4f", None, None, None, ".1%"],
        )
        self.results.header_tips = {VS_UNRELATED: self.calibration.tooltip()
                                    if self.calibration else NO_CALIBRATION}
        self.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
        self.table.setColumnHidden(0, len(ranking.queries) == 1)  # one query: no need to repeat
        self.table.fit_columns()
        self._show_heatmap(ranking, passage_vectors)
        best = rows[0] if rows else None
        if best:
            self.status.emit(f"Best match for “{ranking.queries[0]}”: {best[3]:.2f} — "
                             f"{texts[best[2]]}")

    def _show_heatmap(self, ranking, passage_vectors: np.ndarray) -> None:
        # Columns: the union of every query's top passages (at most 300), best first.
        cols = list(dict.fromkeys(int(i) for i in ranking.indices.T.reshape(-1)))[:MAX_HEATMAP]
        queries = ranking.queries[:MAX_HEATMAP]
        scores = ranking.query_vectors[: len(queries)] @ passage_vectors[cols].T * 100
        order = np.argsort(-scores.max(0), kind="stable")
        cols = [cols[i] for i in order]
        self.heatmap.set_scores(scores[:, order], queries,
                                [self._passage_texts[c] for c in cols])

    def run_pair(self) -> None:
        enc = self.session.encoder
        query, passage = self.pair_query.text().strip(), self.pair_passage.text().strip()
        if enc is None or not query or not passage:
            self.pair_result.setText("Relevancy score: type a query and a passage")
            return
        rule, task = self.rule_key(), self.task_text()
        self.session.runner.start(
            "Scoring pair", lambda p, c: pair_score(enc, query, passage, rule, task),
            lambda s: self.pair_result.setText(
                f"Relevancy score: {s:.2f}  (cosine {s / 100:.4f})" + (
                    f" — {self.calibration.phrase(s)}" if self.calibration is not None
                    and self.calibration.rule == rule else "")))

    def explain_pair(self) -> None:
        from e5desk.gui.pair.state import PairRequest

        query, passage = self.pair_query.text().strip(), self.pair_passage.text().strip()
        if not query or not passage:
            self.pair_result.setText("Relevancy score: type a query and a passage")
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
