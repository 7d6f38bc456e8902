"""Translations tab: how is this said elsewhere (learner view), which translations look
wrong (suspects), mining pairs between two loaded sets, and retrieval quality figures (a
table and a bar chart of one metric per language pair, or per prefix rule with Prefix A/B).
Symmetric tasks: the symmetric role (SYMMETRIC_ROLE, the query form) on both sides."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.calibration import TOOLTIP_TRANSLATIONS, calibrate_set, share_below
from e5desk.core.data.sentence_set import group_label
from e5desk.core.errors import E5DeskError
from e5desk.core.figures import column_help, doubt_summary
from e5desk.core.models.families import ROLES, SYMMETRIC_ROLE
from e5desk.gui.pair import learner_request, suspect_request, why_button
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable

_BAR_BRUSH = pg.mkBrush(70, 130, 180)
_SUMMARY_BRUSH = pg.mkBrush(230, 140, 40)


VS_UNRELATED, VS_TRANSLATIONS = "vs unrelated", "vs translations"  # issue 25
NO_CALIBRATION = "Where the score stands among unrelated pairs of the loaded sentences."


def _combo(min_chars: int = 6) -> QComboBox:
    """A picker that does not grow with its longest entry (file names can be long)."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(min_chars)
    return box


def _lang_name(lang: str) -> str:
    from e5desk.core.langid import display_name

    name = display_name(lang)
    return f"{lang} ({name})" if name and name != lang else lang


def _buttons_row(table: ResultTable, note: QWidget | None = None) -> QHBoxLayout:
    row = QHBoxLayout()
    if note is not None:
        row.addWidget(note, 1)
    else:
        row.addStretch(1)
    for button in table.buttons():
        row.addWidget(button)
    return row


class TranslationsView(QWidget):
    status = Signal(str)
    show_on_map = Signal(object)  # row indices to highlight
    pair_requested = Signal(object)  # a pair view request (e5desk.gui.pair.PairRequest)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tabs = tabs = QTabWidget()
        tabs.addTab(self._learner(), "How is it said?")
        tabs.addTab(self._suspects(), "Suspect translations")
        tabs.addTab(self._mining(), "Mine pairs")
        tabs.addTab(self._evaluation(), "Evaluation")
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        self._tables = [self.learner_table, self.suspect_table, self.mine_table,
                        self.eval_table]
        for table in self._tables:
            table.status.connect(self.status)
        session.sets_changed.connect(self._refresh_choices)

    def current_table(self) -> ResultTable:
        """The result table of the sub-tab in view (for the window's Ctrl+E)."""
        return self._tables[self.tabs.currentIndex()]

    # -- learner view -----------------------------------------------------------------
    def _learner(self) -> QWidget:
        w = QWidget()
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
        buttons = _buttons_row(self.learner_table, self.learner_note)
        buttons.insertWidget(1, self._why(self.learner_table, lambda h, c, r: learner_request(
            self.sentence.text(), h, c, r)))
        table.addLayout(buttons)
        body.addLayout(table, 1)
        layout = QVBoxLayout(w)
        layout.addLayout(row)
        layout.addLayout(body, 1)
        go.clicked.connect(self.find_translations)
        self.sentence.returnPressed.connect(self.find_translations)
        return w

    def _refresh_choices(self) -> None:
        from e5desk.core.translations import default_pair

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
        pair = default_pair(list(c.lang), list(c.group)) if c is not None else None
        if pair is not None:
            self.src_lang.setCurrentText(pair[0])
            self.tgt_lang.setCurrentText(pair[1])
        elif len(langs) > 1:
            self.tgt_lang.setCurrentIndex(1)
        names = [s.name for s in self.session.sets]
        for combo in (self.mine_src, self.mine_tgt):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.blockSignals(False)
        if len(names) > 1:
            self.mine_tgt.setCurrentIndex(1)
        self._mining_languages()

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
        """One block per target language: the found translation and the runners-up, or a
        "no close translation" row with the (greyed, weak) candidates below it."""
        c = self.session.combined
        by_lang: dict[str, list] = {}
        for cand in candidates:
            by_lang.setdefault(cand.lang, []).append(cand)
        rows: list[tuple] = []  # lang, rank, score, sentence, group, match, muted, note
        missing = []
        for lang in list(targets) or list(by_lang):
            cands = by_lang.get(lang, [])
            if not cands:
                rows.append((lang, None, np.nan, f"no sentences in {_lang_name(lang)} to "
                             "offer", "", "none", True, True))
                missing.append(lang)
                continue
            found = cands[0].found
            if not found:
                rows.append((lang, None, np.nan, f"no close translation in {_lang_name(lang)}",
                             "", "not found", False, True))
                missing.append(lang)
            for cand in cands:
                match = ("found" if cand.found else "runner-up") if found else "weak"
                rows.append((lang, cand.rank, cand.score, c.text[cand.row],
                             group_label(c.group[cand.row]), match, not found, False))
        self.learner_rows = [cand.row for cand in candidates if cand.found]
        self.learner_model.set_data(
            ["lang", "rank", "score", "sentence", "group", "match", VS_UNRELATED,
             VS_TRANSLATIONS],
            [[r[0] for r in rows], np.array([r[1] for r in rows], dtype=object),
             np.array([r[2] for r in rows], dtype=float), [r[3] for r in rows],
             [r[4] for r in rows], [r[5] for r in rows],
             share_below(cal, [r[2] for r in rows]),
             share_below(cal, [r[2] for r in rows], translations=True)],
            [None, "d", ".2f", None, None, None, ".1%", ".1%"])
        self.learner_model.header_tips = {
            VS_UNRELATED: cal.tooltip() if cal else NO_CALIBRATION,
            VS_TRANSLATIONS: TOOLTIP_TRANSLATIONS}
        self.learner_model.set_styles(muted=[r[6] for r in rows], notes=[r[7] for r in rows])
        self.show_on_map.emit(np.array(self.learner_rows, dtype=np.int64))
        shown = list(targets) or list(by_lang)
        if missing:
            self.status.emit(f"No close translation in {', '.join(missing)}; found in "
                             f"{len(shown) - len(missing)} of {len(shown)} languages.")
        else:
            self.status.emit(f"Found a translation in all {len(shown)} languages.")

    # -- suspects ---------------------------------------------------------------------
    def _suspects(self) -> QWidget:
        w = QWidget()
        self.src_lang, self.tgt_lang = _combo(), _combo()
        go = QPushButton("Check translations")
        self.suspect_table = ResultTable("suspects", "suspect translations",
                                         empty_hint="Press Check translations first.")
        self.suspect_model = self.suspect_table.result_model
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
        self.suspect_note = QLabel("Most doubtful first; “looks fine” rows are the best "
                                   "mutual matches.")
        self.suspect_note.setWordWrap(True)
        buttons = _buttons_row(self.suspect_table, self.suspect_note)
        buttons.insertWidget(1, self._why(self.suspect_table, suspect_request))
        layout.addLayout(buttons)
        go.clicked.connect(self.check)
        return w

    def _why(self, table: ResultTable, request) -> QPushButton:
        """A Why? button (and double-click) opening a row in the pair view."""
        model = table.result_model
        return why_button(table, lambda row: request(model.headers, model.columns, row),
                          self.pair_requested.emit)

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

        def with_vectors(vectors):
            texts = list(c.text)
            self.session.runner.start(
                "Checking translations",
                lambda p, k: suspect_translations(vectors, texts, langs, groups, a, b),
                lambda found: self._show_suspects(found, a, b))

        self.session.ensure_vectors(SYMMETRIC_ROLE, None, then=with_vectors)

    def _show_suspects(self, suspects, a: str = "", b: str = "") -> None:
        c = self.session.combined
        self.suspect_model.set_data(
            ["doubt", "group", f"source ({a})" if a else "source",
             f"translation ({b})" if b else "translation", "score", "reason"],
            [np.array([s.doubt for s in suspects], dtype=float),
             [group_label(s.group) for s in suspects],
             [c.text[s.src] for s in suspects], [c.text[s.tgt] for s in suspects],
             np.array([s.score for s in suspects], dtype=float),
             [s.reason for s in suspects]],
            [".1f", None, None, None, ".1f", None])
        self.suspect_model.set_styles(muted=[s.reason == "looks fine" for s in suspects])
        flagged = sum(s.reason != "looks fine" for s in suspects)
        summary = doubt_summary(flagged, len(suspects), a, b)  # the figures in words
        self.suspect_note.setToolTip(column_help("doubt"))
        self.status.emit(summary)

    # -- mining -----------------------------------------------------------------------
    def _mining(self) -> QWidget:
        from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, MODES

        w = QWidget()
        self.mine_src, self.mine_tgt = _combo(10), _combo(10)
        self.mine_src_lang, self.mine_tgt_lang = _combo(4), _combo(4)
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
        grid.addWidget(QLabel("Source set"), 0, 0)
        grid.addWidget(self.mine_src, 0, 1)
        grid.addWidget(QLabel("language"), 0, 2)
        grid.addWidget(self.mine_src_lang, 0, 3)
        grid.addWidget(QLabel("mode"), 0, 4)
        grid.addWidget(self.mine_mode, 0, 5)
        grid.addWidget(QLabel("Target set"), 1, 0)
        grid.addWidget(self.mine_tgt, 1, 1)
        grid.addWidget(QLabel("language"), 1, 2)
        grid.addWidget(self.mine_tgt_lang, 1, 3)
        grid.addWidget(QLabel("margin ≥"), 1, 4)
        grid.addWidget(self.threshold, 1, 5)
        grid.addWidget(go, 1, 6)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(7, 1)
        layout = QVBoxLayout(w)
        layout.addLayout(grid)
        hint = QLabel("Ratio margin over the 4 nearest neighbours both ways; intersect keeps "
                      "the pairs both directions agree on.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.mine_table, 1)
        layout.addLayout(_buttons_row(self.mine_table))
        go.clicked.connect(self.mine_sets)
        self.mine_src.currentIndexChanged.connect(lambda _i: self._mining_languages())
        self.mine_tgt.currentIndexChanged.connect(lambda _i: self._mining_languages())
        return w

    def _set_langs(self, name: str) -> list:
        c = self.session.combined
        if c is None:
            return []
        names = np.array([str(x) for x in c.set_name])
        return [c.lang[i] for i in np.flatnonzero(names == name)]

    def _mining_languages(self) -> None:
        """Language pickers list the languages of each chosen set; the defaults are the
        languages that tell the two sets apart (never one language on both sides)."""
        from e5desk.core.translations import language_counts, mining_languages

        s_name, t_name = self.mine_src.currentText(), self.mine_tgt.currentText()
        for combo, name in ((self.mine_src_lang, s_name), (self.mine_tgt_lang, t_name)):
            combo.clear()
            combo.addItems(sorted(language_counts(self._set_langs(name))))
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
        from e5desk.core.similarity import mine

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
        names = np.array([str(x) for x in c.set_name])
        langs = np.array([str(x or "?") for x in c.lang])
        src_rows = np.flatnonzero((names == s_name) & (langs == a))
        tgt_rows = np.flatnonzero((names == t_name) & (langs == b))
        if not len(src_rows) or not len(tgt_rows):
            self.status.emit(f"No {a if not len(src_rows) else b} sentences in "
                             f"{s_name if not len(src_rows) else t_name}.")
            return

        def with_vectors(vectors):
            def job(progress, cancelled):
                return mine(vectors[src_rows], vectors[tgt_rows], mode=mode,
                            threshold=threshold, progress=progress, cancelled=cancelled)

            self.session.runner.start("Mining", job, lambda pairs: self._show_pairs(
                pairs, src_rows, tgt_rows, a, b))

        self.session.ensure_vectors(SYMMETRIC_ROLE, None, then=with_vectors)

    def _show_pairs(self, pairs, src_rows, tgt_rows, a: str = "", b: str = "") -> None:
        c = self.session.combined
        self.mine_model.set_data(
            ["margin", "cosine", "source lang", f"source ({a})", "target lang",
             f"target ({b})"],
            [np.array([p.margin for p in pairs], dtype=float),
             np.array([p.cosine * 100 for p in pairs], dtype=float), [a] * len(pairs),
             [c.text[src_rows[p.src]] for p in pairs], [b] * len(pairs),
             [c.text[tgt_rows[p.tgt]] for p in pairs]],
            [".4f", ".1f", None, None, None, None])
        self.status.emit(f"{len(pairs)} {a} → {b} pairs mined")

    # -- evaluation -------------------------------------------------------------------
    def _evaluation(self) -> QWidget:
        from e5desk.core.evaluate import METRICS
        from e5desk.core.prefix_rules import rules_help

        w = QWidget()
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
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.eval_plot, 1)
        chart_layout.addWidget(self.eval_hover)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.eval_table, 1)
        table_layout.addWidget(self.eval_finding)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(table)
        split.addWidget(chart)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([300, 200])  # the table shows rows, not three lines
        self.eval_plot.setMinimumHeight(110)
        self.eval_table.setMinimumHeight(120)
        layout = QVBoxLayout(w)
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
        from e5desk.core.evaluate import METRICS

        results, finding = outcome
        self.eval_finding.setText(finding or "")
        self.eval_finding.setVisible(bool(finding))
        self._eval_job = None
        self.eval_results = results
        names = list(results)
        self.eval_model.set_data(
            ["", *METRICS], [names, *[np.array([results[n].get(m, np.nan) for n in names])
                                     for m in METRICS]],
            [None] + [".3f"] * len(METRICS))
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
