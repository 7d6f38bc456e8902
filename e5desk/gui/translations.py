"""Translations tab: how is this said elsewhere (learner view), which translations look
wrong (suspects), mining pairs between two loaded sets, and retrieval quality figures (a
table and a bar chart of one metric per language pair, or per prefix rule with Prefix A/B).
Symmetric tasks: the 'query: ' form on both sides (model cards)."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.session import Session
from e5desk.gui.tables import ColumnTableModel

ROLE = "query"
_BAR_BRUSH = pg.mkBrush(70, 130, 180)
_SUMMARY_BRUSH = pg.mkBrush(230, 140, 40)


def _table(model: ColumnTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(22)
    return view


def _fit(view: QTableView, stretch: int) -> None:
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


class TranslationsView(QWidget):
    status = Signal(str)
    show_on_map = Signal(object)  # row indices to highlight

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        tabs = QTabWidget()
        tabs.addTab(self._learner(), "How is it said?")
        tabs.addTab(self._suspects(), "Suspect translations")
        tabs.addTab(self._mining(), "Mine pairs")
        tabs.addTab(self._evaluation(), "Evaluation")
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        session.sets_changed.connect(self._refresh_choices)

    # -- learner view -----------------------------------------------------------------
    def _learner(self) -> QWidget:
        w = QWidget()
        self.sentence = QLineEdit()
        self.sentence.setPlaceholderText("Type a sentence in any language, then Enter")
        self.targets = QListWidget()
        self.targets.setMaximumWidth(160)
        self.learner_model = ColumnTableModel()
        self.learner_table = _table(self.learner_model)
        go = QPushButton("Find")
        row = QHBoxLayout()
        row.addWidget(self.sentence, 1)
        row.addWidget(go)
        body = QHBoxLayout()
        side = QVBoxLayout()
        side.addWidget(QLabel("Target languages:"))
        side.addWidget(self.targets)
        body.addLayout(side)
        body.addWidget(self.learner_table, 1)
        layout = QVBoxLayout(w)
        layout.addLayout(row)
        layout.addLayout(body, 1)
        go.clicked.connect(self.find_translations)
        self.sentence.returnPressed.connect(self.find_translations)
        return w

    def _refresh_choices(self) -> None:
        c = self.session.combined
        langs = sorted({str(x) for x in c.lang if x}) if c is not None else []
        self.targets.clear()
        from e5desk.core.langid import display_name

        for lang in langs:
            item = QListWidgetItem(f"{lang} — {display_name(lang)}")
            item.setData(Qt.ItemDataRole.UserRole, lang)
            item.setCheckState(Qt.CheckState.Checked)
            self.targets.addItem(item)
        for combo in (self.src_lang, self.tgt_lang):
            combo.clear()
            combo.addItems(langs)
        if len(langs) > 1:
            self.tgt_lang.setCurrentIndex(1)
        names = [s.name for s in self.session.sets]
        for combo in (self.mine_src, self.mine_tgt):
            combo.clear()
            combo.addItems(names)
        if len(names) > 1:
            self.mine_tgt.setCurrentIndex(1)

    def chosen_languages(self) -> list[str]:
        items = [self.targets.item(i) for i in range(self.targets.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items
                if i.checkState() == Qt.CheckState.Checked]

    def find_translations(self) -> None:
        text = self.sentence.text().strip()
        enc, c = self.session.encoder, self.session.combined
        if not text or enc is None or c is None:
            self.status.emit("Load a model and a sentence set, then type a sentence.")
            return
        targets = self.chosen_languages()

        def with_vectors(vectors: np.ndarray) -> None:
            langs = np.array([str(x or "?") for x in c.lang])

            def job(progress, cancelled):
                q = enc.encode([text], role=ROLE)[0]
                scores = vectors @ q * 100
                rows = []
                for lang in targets:
                    idx = np.flatnonzero(langs == lang)
                    if len(idx):
                        best = idx[np.argsort(-scores[idx])[:3]]
                        rows += [(lang, rank + 1, float(scores[i]), int(i))
                                 for rank, i in enumerate(best)]
                return rows

            self.session.runner.start("Finding translations", job, self._show_learner)

        self.session.ensure_vectors(ROLE, None, then=with_vectors)

    def _show_learner(self, rows) -> None:
        c = self.session.combined
        self.learner_model.set_data(
            ["lang", "rank", "score", "sentence", "group"],
            [[r[0] for r in rows], np.array([r[1] for r in rows]),
             np.array([r[2] for r in rows]), [c.text[r[3]] for r in rows],
             [c.group[r[3]] or "" for r in rows]],
            [None, "d", ".2f", None, None])
        _fit(self.learner_table, 3)
        best = [r[3] for r in rows if r[1] == 1]
        self.show_on_map.emit(np.array(best, dtype=np.int64))

    # -- suspects ---------------------------------------------------------------------
    def _suspects(self) -> QWidget:
        w = QWidget()
        self.src_lang, self.tgt_lang = QComboBox(), QComboBox()
        go = QPushButton("Check translations")
        self.suspect_model = ColumnTableModel()
        self.suspect_table = _table(self.suspect_model)
        row = QHBoxLayout()
        row.addWidget(QLabel("Between"))
        row.addWidget(self.src_lang)
        row.addWidget(QLabel("and"))
        row.addWidget(self.tgt_lang)
        row.addWidget(go)
        row.addStretch(1)
        layout = QVBoxLayout(w)
        layout.addLayout(row)
        layout.addWidget(self.suspect_table, 1)
        go.clicked.connect(self.check)
        return w

    def check(self) -> None:
        c = self.session.combined
        a, b = self.src_lang.currentText(), self.tgt_lang.currentText()
        if c is None or not a or a == b:
            self.status.emit("Pick two different languages of a parallel set.")
            return
        from e5desk.core.evaluate import suspect_translations

        def with_vectors(vectors):
            texts, langs, groups = list(c.text), list(c.lang), list(c.group)
            self.session.runner.start(
                "Checking translations",
                lambda p, k: suspect_translations(vectors, texts, langs, groups, a, b),
                self._show_suspects)

        self.session.ensure_vectors(ROLE, None, then=with_vectors)

    def _show_suspects(self, suspects) -> None:
        c = self.session.combined
        self.suspect_model.set_data(
            ["doubt", "group", "source", "translation", "score", "reason"],
            [np.array([s.doubt for s in suspects]), [s.group for s in suspects],
             [c.text[s.src] for s in suspects], [c.text[s.tgt] for s in suspects],
             np.array([s.score for s in suspects]), [s.reason for s in suspects]],
            [".1f", None, None, None, ".1f", None])
        _fit(self.suspect_table, 5)
        flagged = sum(s.reason != "looks fine" for s in suspects)
        self.status.emit(f"{flagged} of {len(suspects)} pairs look doubtful")

    # -- mining -----------------------------------------------------------------------
    def _mining(self) -> QWidget:
        from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, MODES

        w = QWidget()
        self.mine_src, self.mine_tgt = QComboBox(), QComboBox()
        self.threshold = QLineEdit(str(DEFAULT_MARGIN_THRESHOLD))
        self.threshold.setMaximumWidth(70)
        self.mine_mode = QComboBox()
        self.mine_mode.addItems(list(MODES))
        self.mine_mode.setToolTip("forward: each source sentence's best target; backward: each "
                                  "target's best source; intersect: pairs both agree on")
        go = QPushButton("Mine")
        self.mine_model = ColumnTableModel()
        self.mine_table = _table(self.mine_model)
        row = QHBoxLayout()
        for widget in (QLabel("Source set"), self.mine_src, QLabel("target set"),
                       self.mine_tgt, QLabel("mode"), self.mine_mode, QLabel("margin ≥"),
                       self.threshold, go):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(w)
        layout.addLayout(row)
        layout.addWidget(QLabel("Ratio margin over the 4 nearest neighbours both ways; "
                                "intersect keeps the pairs both directions agree on."))
        layout.addWidget(self.mine_table, 1)
        go.clicked.connect(self.mine_sets)
        return w

    def mine_sets(self) -> None:
        from e5desk.core.similarity import mine

        c, enc = self.session.combined, self.session.encoder
        s_name, t_name = self.mine_src.currentText(), self.mine_tgt.currentText()
        if c is None or enc is None or not s_name or not t_name:
            return
        try:
            threshold = float(self.threshold.text())
        except ValueError:
            self.status.emit("The margin threshold must be a number, e.g. 1.02")
            return
        mode = self.mine_mode.currentText()
        names = np.array([str(x) for x in c.set_name])
        src_rows = np.flatnonzero(names == s_name)
        tgt_rows = np.flatnonzero(names == t_name)
        if s_name == t_name:  # one set: mine between its first two languages instead
            langs = np.array([str(x or "?") for x in c.lang])
            a, b = self.src_lang.currentText(), self.tgt_lang.currentText()
            src_rows, tgt_rows = src_rows[langs[src_rows] == a], tgt_rows[langs[tgt_rows] == b]

        def with_vectors(vectors):
            def job(progress, cancelled):
                return mine(vectors[src_rows], vectors[tgt_rows], mode=mode,
                            threshold=threshold, progress=progress, cancelled=cancelled)

            self.session.runner.start("Mining", job, lambda pairs: self._show_pairs(
                pairs, src_rows, tgt_rows))

        self.session.ensure_vectors(ROLE, None, then=with_vectors)

    def _show_pairs(self, pairs, src_rows, tgt_rows) -> None:
        c = self.session.combined
        self.mine_model.set_data(
            ["margin", "cosine", "source", "target"],
            [np.array([p.margin for p in pairs]), np.array([p.cosine * 100 for p in pairs]),
             [c.text[src_rows[p.src]] for p in pairs], [c.text[tgt_rows[p.tgt]] for p in pairs]],
            [".4f", ".1f", None, None])
        _fit(self.mine_table, 3)
        self.status.emit(f"{len(pairs)} pairs mined")

    # -- evaluation -------------------------------------------------------------------
    def _evaluation(self) -> QWidget:
        from e5desk.core.evaluate import METRICS

        w = QWidget()
        go = QPushButton("Evaluate the loaded sets")
        self.prefix_ab = QCheckBox("Prefix A/B")
        self.prefix_ab.setToolTip("The same evaluation with query/passage, query/query and no "
                                  "prefix, side by side (one row and bar per rule)")
        self.eval_metric = QComboBox()
        self.eval_metric.addItems(METRICS)
        self.eval_model = ColumnTableModel()
        self.eval_table = _table(self.eval_model)
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
        self.eval_hover = QLabel("Hover a bar to see its name and value.")
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.eval_plot, 1)
        chart_layout.addWidget(self.eval_hover)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.eval_table)
        split.addWidget(chart)
        layout = QVBoxLayout(w)
        layout.addWidget(QLabel("Parallel sets: each language's sentences as queries, the other "
                                "language's as passages, translations relevant. Retrieval "
                                "data (train.jsonl): its queries and passages."))
        layout.addLayout(row)
        layout.addWidget(split, 1)
        go.clicked.connect(self.evaluate)
        self.eval_metric.currentTextChanged.connect(lambda _m: self._draw_bars())
        self.eval_plot.scene().sigMouseMoved.connect(self._bar_hovered)
        return w

    def bar_at(self, x: float, y: float) -> int | None:
        """Row of the bar under plot coordinates (x, y), if any."""
        names, values = self.bar_values()
        i = int(round(x))
        if 0 <= i < len(names) and abs(x - i) <= 0.35:
            top = 0.0 if np.isnan(values[i]) else float(values[i])
            if 0 <= y <= max(top, 0.02):
                return i
        return None

    def _bar_hovered(self, pos) -> None:
        point = self.eval_plot.getPlotItem().vb.mapSceneToView(pos)
        i = self.bar_at(point.x(), point.y())
        if i is not None:
            names, values = self.bar_values()
            self.eval_hover.setText(f"{names[i]}: {self.eval_metric.currentText()} "
                                    f"{values[i]:.3f}")

    def evaluate(self) -> None:
        from e5desk.core.evaluate import PREFIX_VARIANTS, EvalData, run_evaluation

        c, enc = self.session.combined, self.session.encoder
        if c is None or enc is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        ab = self.prefix_ab.isChecked()
        # Vectors the session already holds for every loaded sentence are reused.
        known = {role: v for role in ("query", "passage", "raw")
                 if (v := self.session.vectors(role)) is not None and len(v) == len(c)}

        def encode(texts, role, progress=None, cancelled=None):
            if role in known and len(texts) == len(known[role]):
                return known[role]
            return enc.encode(texts, role=role, progress=progress, cancelled=cancelled)

        def job(progress, cancelled):
            data = EvalData.from_set(c)
            if data.kind != "parallel":
                known.clear()  # retrieval: queries and passages are subsets of the rows
            runs = run_evaluation(encode, data, list(PREFIX_VARIANTS) if ab else None,
                                  progress=progress, cancelled=cancelled)
            if ab:
                return {rule: run.metrics for rule, run in runs.items()}
            run = runs[data.default_rule]
            if data.kind == "retrieval":
                return {"queries vs passages": run.metrics}
            out = {"all language pairs": run.metrics} if run.pairs else {}
            out.update({f"{a} → {b}": r for (a, b), r in itertools.islice(run.pairs.items(),
                                                                           200)})
            return out

        if self._eval_job is not None:
            self._eval_job.cancel()  # a newer request replaces a running one
        self._eval_job = self.session.runner.start("Evaluating", job, self._show_eval)

    def _show_eval(self, results: dict) -> None:
        from e5desk.core.evaluate import METRICS

        self._eval_job = None
        self.eval_results = results
        names = list(results)
        self.eval_model.set_data(
            ["", *METRICS], [names, *[np.array([results[n].get(m, np.nan) for n in names])
                                     for m in METRICS]],
            [None] + [".3f"] * len(METRICS))
        _fit(self.eval_table, 0)
        self._draw_bars()

    def bar_values(self) -> tuple[list[str], np.ndarray]:
        """Names and heights of the bars: the chosen metric per row of the table."""
        metric = self.eval_metric.currentText()
        names = list(self.eval_results)
        return names, np.array([self.eval_results[n].get(metric, np.nan) for n in names],
                               dtype=float)

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
