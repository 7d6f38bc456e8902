"""Translations tab: how is this said elsewhere (learner view), which translations look
wrong (suspects), mining pairs between two loaded sets, and retrieval quality figures.
Symmetric tasks: the 'query: ' form on both sides (model cards)."""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.session import Session
from e5desk.gui.tables import ColumnTableModel

ROLE = "query"


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
        for lang in langs:
            item = QListWidgetItem(lang)
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
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

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
        from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD

        w = QWidget()
        self.mine_src, self.mine_tgt = QComboBox(), QComboBox()
        self.threshold = QLineEdit(str(DEFAULT_MARGIN_THRESHOLD))
        self.threshold.setMaximumWidth(70)
        go = QPushButton("Mine")
        self.mine_model = ColumnTableModel()
        self.mine_table = _table(self.mine_model)
        row = QHBoxLayout()
        for widget in (QLabel("Source set"), self.mine_src, QLabel("target set"),
                       self.mine_tgt, QLabel("margin ≥"), self.threshold, go):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(w)
        layout.addLayout(row)
        layout.addWidget(QLabel("Ratio margin over the 4 nearest neighbours both ways; pairs "
                                "both directions agree on (intersection)."))
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
        names = np.array([str(x) for x in c.set_name])
        src_rows = np.flatnonzero(names == s_name)
        tgt_rows = np.flatnonzero(names == t_name)
        if s_name == t_name:  # one set: mine between its first two languages instead
            langs = np.array([str(x or "?") for x in c.lang])
            a, b = self.src_lang.currentText(), self.tgt_lang.currentText()
            src_rows, tgt_rows = src_rows[langs[src_rows] == a], tgt_rows[langs[tgt_rows] == b]

        def with_vectors(vectors):
            def job(progress, cancelled):
                return mine(vectors[src_rows], vectors[tgt_rows], threshold=threshold,
                            progress=progress, cancelled=cancelled)

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
        w = QWidget()
        go = QPushButton("Evaluate the loaded sets")
        self.eval_model = ColumnTableModel()
        self.eval_table = _table(self.eval_model)
        layout = QVBoxLayout(w)
        layout.addWidget(QLabel("Parallel sets: each language's sentences as queries, the other "
                                "language's as passages, translations relevant. Retrieval "
                                "data (train.jsonl): its queries and passages."))
        layout.addWidget(go)
        layout.addWidget(self.eval_table, 1)
        go.clicked.connect(self.evaluate)
        return w

    def evaluate(self) -> None:
        from e5desk.core.evaluate import average, evaluate_parallel, evaluate_retrieval

        c, enc = self.session.combined, self.session.encoder
        if c is None or enc is None:
            return
        texts, langs, groups, roles = list(c.text), list(c.lang), list(c.group), list(c.role)
        relevance = dict(c.relevance)

        def job(progress, cancelled):
            if relevance:
                q_rows = sorted(relevance)
                p_rows = [i for i, r in enumerate(roles) if r == "passage"]
                where = {r: n for n, r in enumerate(p_rows)}
                rel = [{where[p] for p in relevance[q] if p in where} for q in q_rows]
                q = enc.encode([texts[i] for i in q_rows], role="query")
                p = enc.encode([texts[i] for i in p_rows], role="passage")
                return {"queries vs passages": evaluate_retrieval(q, p, rel)}
            vectors = enc.encode(texts, role=ROLE, progress=progress, cancelled=cancelled)
            pairs = evaluate_parallel(vectors, langs, groups)
            out = {"all language pairs": average(pairs)} if pairs else {}
            out.update({f"{a} → {b}": r for (a, b), r in itertools.islice(pairs.items(), 200)})
            return out

        self.session.runner.start("Evaluating", job, self._show_eval)

    def _show_eval(self, results: dict) -> None:
        metrics = ["MRR@10", "Recall@1", "Recall@5", "Recall@10", "nDCG@10", "P@1"]
        names = list(results)
        self.eval_model.set_data(
            ["", *metrics], [names, *[np.array([results[n].get(m, np.nan) for n in names])
                                     for m in metrics]],
            [None] + [".3f"] * len(metrics))
        _fit(self.eval_table, 0)
