"""Translations ▸ Evaluation: retrieval quality of the loaded sets (workflows/evaluate, the
table of `e5desk eval`) and a bar chart of one metric per row; Prefix A/B compares the
prefix rules side by side."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.models.families import ROLES
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import state

_BAR_BRUSH = pg.mkBrush(70, 130, 180)
_SUMMARY_BRUSH = pg.mkBrush(230, 140, 40)


def _bare(widget: QWidget, *children: QWidget) -> QWidget:
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(children[0], 1)
    for child in children[1:]:
        layout.addWidget(child)
    return widget


class EvaluationTab(QWidget):
    status = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        from e5desk.core.evaluate import METRICS
        from e5desk.core.prefix_rules import rules_help

        super().__init__(parent)
        self.session = session
        go = QPushButton("Evaluate the loaded sets")
        self.prefix_ab = QCheckBox("Prefix A/B")
        self.prefix_ab.setToolTip("The same evaluation with each prefix rule (as the Scores tab "
                                  "names them: " + rules_help() + "), side by side (one row "
                                  "and bar per rule)")
        self.eval_metric = QComboBox()
        self.eval_metric.addItems(METRICS)
        self.eval_table = ResultTable("evaluation", "evaluation",
                                      empty_hint="Press Evaluate the loaded sets first.")
        self.eval_model = self.eval_table.result_model
        self.eval_plot = pg.PlotWidget()
        self.eval_plot.setBackground(None)
        self.eval_plot.setMouseEnabled(x=True, y=False)
        self.eval_plot.setYRange(0, 1.08, padding=0)
        self.eval_plot.setLabel("left", self.eval_metric.currentText())
        self.eval_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.eval_plot.addItem(self.eval_bars)
        self._bar_labels: list[pg.TextItem] = []
        self.eval_results: dict[str, dict] = {}
        self._eval_job = None
        row = QHBoxLayout()
        for widget in (go, self.prefix_ab, QLabel("Chart:"), self.eval_metric):
            row.addWidget(widget)
        row.addStretch(1)
        for button in self.eval_table.buttons():  # beside the controls: the table keeps rows
            row.addWidget(button)
        self.eval_hover = QLabel("Hover a bar to see its name and value.")
        # Prefix A/B: one sentence on whether the model cards' rule is the best here.
        self.eval_finding = QLabel()
        self.eval_finding.setWordWrap(True)
        self.eval_finding.setStyleSheet("font-weight: bold")
        self.eval_finding.hide()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(_bare(QWidget(), self.eval_table, self.eval_finding))
        split.addWidget(_bare(QWidget(), self.eval_plot, self.eval_hover))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([300, 200])  # the table shows rows, not three lines
        self.eval_plot.setMinimumHeight(110)
        self.eval_table.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        explain = QLabel("Parallel sets: each language's sentences as queries, the other "
                         "language's as passages, translations relevant. Retrieval data "
                         "(train.jsonl): its queries and passages.")
        explain.setWordWrap(True)
        layout.addWidget(explain)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        go.clicked.connect(self.evaluate)
        self.eval_metric.currentTextChanged.connect(lambda _m: self._draw_bars())
        self.eval_plot.scene().sigMouseMoved.connect(self._bar_hovered)

    def bar_values(self) -> tuple[list[str], np.ndarray]:
        """Names and heights of the bars: the chosen metric per row of the table."""
        return state.bar_values(self.eval_results, self.eval_metric.currentText())

    def bar_at(self, x: float, y: float) -> int | None:
        """Row of the bar under plot coordinates (x, y), if any."""
        return state.bar_at(self.bar_values()[1], x, y)

    def _bar_hovered(self, pos) -> None:
        point = self.eval_plot.getPlotItem().vb.mapSceneToView(pos)
        i = self.bar_at(point.x(), point.y())
        if i is not None:
            names, values = self.bar_values()
            self.eval_hover.setText(f"{names[i]}: {self.eval_metric.currentText()} "
                                    f"{values[i]:.3f}")

    def evaluate(self) -> None:
        from e5desk.core.evaluate import EvalData
        from e5desk.workflows.evaluate import evaluate

        c, enc = self.session.combined, self.session.encoder
        if c is None or enc is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        ab = self.prefix_ab.isChecked()
        # Vectors the session already holds for every loaded sentence are reused.
        known = {role: v for role in ROLES
                 if (v := self.session.vectors(role)) is not None and len(v) == len(c)}

        def encode(texts, role, progress=None, cancelled=None):
            if role in known and len(texts) == len(known[role]):
                return known[role]
            return enc.encode(texts, role=role, progress=progress, cancelled=cancelled)

        def job(progress, cancelled):
            data = EvalData.from_set(c)
            if data.kind != "parallel":
                known.clear()  # retrieval: queries and passages are subsets of the rows
            # the one evaluation and table of `e5desk eval` and e5desk.evaluate
            result = evaluate(encode, data, prefixes=ab, progress=progress,
                              cancelled=cancelled)
            if ab:  # the A/B compares the rules: their rows, without every language pair
                return result.rule_rows, result.finding
            return dict(itertools.islice(result.rows.items(), 1 + 200)), None  # readable

        if self._eval_job is not None:
            self._eval_job.cancel()  # a newer request replaces a running one
        self._eval_job = self.session.runner.start("Evaluating", job, self._show_eval)

    def _show_eval(self, outcome: tuple[dict, str | None]) -> None:
        results, finding = outcome
        self.eval_finding.setText(finding or "")
        self.eval_finding.setVisible(bool(finding))
        self._eval_job = None
        self.eval_results = results
        t = state.eval_table(results)
        self.eval_model.set_data(t.headers, t.columns, t.formats)
        self._draw_bars()

    def _draw_bars(self) -> None:
        names, values = self.bar_values()
        for label in self._bar_labels:
            self.eval_plot.removeItem(label)
        self._bar_labels = []
        x = np.arange(len(names), dtype=float)
        heights = np.nan_to_num(values, nan=0.0)
        # A mean over language pairs (first row) stands out from the pairs it sums up.
        summary = len(names) > 1 and names[0] == "all language pairs"
        brushes = [_SUMMARY_BRUSH if summary and i == 0 else _BAR_BRUSH
                   for i in range(len(names))]
        self.eval_bars.setOpts(x=x, height=heights, width=0.7, brushes=brushes)
        # Names under at most 12 bars, so they do not overlap; hovering names any bar.
        step = max(1, -(-len(names) // 12))
        self.eval_plot.getAxis("bottom").setTicks(
            [[(float(i), names[i]) for i in range(0, len(names), step)], []])
        self.eval_plot.setLabel("left", self.eval_metric.currentText())
        self.eval_hover.setText(("Orange: the mean over all language pairs. " if summary else "")
                                + "Hover a bar to see its name and value.")
        if len(names) <= 12:  # few bars: write the values on them
            for xi, v in zip(x, values, strict=True):
                inside = not np.isnan(v) and v > 0.15
                label = pg.TextItem("–" if np.isnan(v) else f"{v:.3f}",
                                    anchor=(0.5, 0.0 if inside else 1.0),
                                    color=(255, 255, 255) if inside else (40, 40, 40))
                label.setPos(xi, v if inside else (0 if np.isnan(v) else v))
                self.eval_plot.addItem(label)
                self._bar_labels.append(label)
        self.eval_plot.setXRange(-0.6, max(len(names), 1) - 0.4, padding=0)
        self.eval_plot.setYRange(0, 1.08, padding=0)
