"""The map: sentences placed by meaning (PCA preview, then UMAP), coloured by language,
cluster or set; hover for the sentence, click for its nearest neighbours in every language
and lines to its translations; clusters labelled at their centres."""

from __future__ import annotations

import html
from dataclasses import asdict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.session import Session

METHODS = {"umap": "UMAP (cosine)", "pca": "PCA (instant)", "tsne": "t-SNE"}
COLOUR_BY = {"lang": "language", "cluster": "cluster", "set": "set"}
MAP_ROLE = "query"  # clustering and features use the query form (model cards)


def palette(n: int) -> list[QColor]:
    return [pg.intColor(i, hues=max(n, 8), values=1, maxValue=230, minValue=150)
            for i in range(n)]


class MapView(QWidget):
    status = Signal(str)
    changed = Signal()  # a new map was drawn

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.coords: np.ndarray | None = None
        self.map_params: dict = {}
        self.labels: np.ndarray | None = None
        self.clusters = []
        self.selected: int | None = None
        self.highlight = np.zeros(0, dtype=int)

        self.method = QComboBox()
        for key, label in METHODS.items():
            self.method.addItem(label, key)
        self.center = QCheckBox("Separate meaning from language")
        self.center.setToolTip("Subtract each language's mean vector before mapping, so "
                               "translations land together (language-identity switch)")
        self.center.setChecked(True)
        self.colour = QComboBox()
        for key, label in COLOUR_BY.items():
            self.colour.addItem(f"Colour by {label}", key)
        self.compute = QPushButton("Compute map")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find on the map: type a sentence in any language, Enter")
        self.figures = QLabel("")
        self.figures.setWordWrap(True)

        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.scatter = pg.ScatterPlotItem(size=8, pxMode=True, hoverable=True,
                                          tip=self._tip, pen=None)
        self.links = pg.PlotDataItem(pen=pg.mkPen((40, 40, 40, 160), width=1.5),
                                     connect="pairs")
        self.found = pg.ScatterPlotItem(size=16, pxMode=True, brush=None,
                                        pen=pg.mkPen((220, 30, 30), width=2))
        self.plot.addItem(self.links)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.found)
        self.cluster_text: list[pg.TextItem] = []
        self.legend = QListWidget()
        self.legend.setMaximumWidth(170)
        self.neighbours = QTextBrowser()
        self.neighbours.setPlaceholderText("Click a point: its nearest sentences in every "
                                           "language appear here.")

        controls = QHBoxLayout()
        controls.addWidget(self.method)
        controls.addWidget(self.center)
        controls.addWidget(self.colour)
        controls.addWidget(self.compute)
        controls.addWidget(self.search, 1)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.legend)
        side.addWidget(self.neighbours)
        body = QSplitter()
        body.addWidget(self.plot)
        body.addWidget(side)
        body.setStretchFactor(0, 4)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.figures)
        layout.addWidget(body, 1)

        self.compute.clicked.connect(self.compute_map)
        self.colour.currentIndexChanged.connect(self.recolour)
        self.legend.itemChanged.connect(self._legend_toggled)
        self.scatter.sigClicked.connect(self._clicked)
        self.search.returnPressed.connect(self.find)
        session.sets_changed.connect(self.clear)
        session.model_changed.connect(self.clear)
        session.vectors_restored.connect(self._show_saved_map)

    # -- computing --------------------------------------------------------------------
    def clear(self) -> None:
        self.coords = self.labels = None
        self.clusters = []
        self.selected = None
        self.scatter.clear()
        self.links.setData([], [])
        self.found.clear()
        for t in self.cluster_text:
            self.plot.removeItem(t)
        self.cluster_text = []
        self.figures.setText("")

    def compute_map(self) -> None:
        combined = self.session.combined
        if combined is None or self.session.encoder is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        self.session.ensure_vectors(MAP_ROLE, None, then=self._project)

    def _project(self, vectors: np.ndarray) -> None:
        from e5desk.core.process_job import run_in_process
        from e5desk.core.projection import MapParams, project

        langs = list(self.session.combined.lang)
        center = self.center.isChecked()
        method = self.method.currentData()
        runner = self.session.runner
        preview = MapParams("pca", center_languages=center)
        runner.start("PCA preview", lambda p, c: project(vectors, preview, langs),
                     lambda coords: self._show(coords, asdict(preview)))
        if method == "pca":
            return
        params = MapParams(method, center_languages=center)
        runner.start(f"{METHODS[method]} map",
                     lambda p, c: run_in_process(project, vectors, params, langs,
                                                 progress=p, cancelled=c),
                     lambda coords: self._show(coords, asdict(params)))

    # -- projects ---------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(arrays, settings) to save in a project."""
        arrays = {}
        if self.coords is not None:
            arrays["map"] = (self.coords, self.map_params)
        if self.labels is not None:
            arrays["clusters"] = (self.labels, {"labels": {str(c.id): c.label
                                                           for c in self.clusters}})
        settings = {"method": self.method.currentData(), "center": self.center.isChecked(),
                    "colour": self.colour.currentData(), "selected": self.selected}
        return arrays, settings

    def apply_settings(self, settings: dict) -> None:
        for box, key in ((self.method, "method"), (self.colour, "colour")):
            index = box.findData(settings.get(key))
            if index >= 0:
                box.setCurrentIndex(index)
        self.center.setChecked(bool(settings.get("center", True)))
        self._restore_selection = settings.get("selected")

    def _show_saved_map(self) -> None:
        saved = self.session.project_arrays.get("map")
        combined = self.session.combined
        if saved is None or combined is None or self.session.vectors(MAP_ROLE) is None:
            return
        coords, params = saved
        if len(coords) == len(combined):
            self._show(np.asarray(coords), dict(params), saved=True)
            row = getattr(self, "_restore_selection", None)
            if row is not None and 0 <= row < len(coords):
                self.select(int(row))

    def _show(self, coords: np.ndarray, params: dict | None = None, saved=False) -> None:
        self.coords = coords
        self.map_params = params or {}
        self.selected = None
        self.links.setData([], [])
        combined = self.session.combined
        vectors = self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or len(coords) != len(combined):
            return
        self.scatter.setData(pos=coords, data=np.arange(len(coords)))
        self.recolour()
        self.plot.autoRange()
        if not saved:
            self.changed.emit()
        from e5desk.core.alignment import cross_lingual_p_at_1, mixing_score
        from e5desk.core.clusters import describe_clusters, hdbscan_labels
        from e5desk.core.projection import center_languages

        texts, langs, groups = list(combined.text), list(combined.lang), list(combined.group)
        centered = self.center.isChecked()

        def analyse(progress, cancelled):
            labels = hdbscan_labels(coords, min_cluster_size=max(10, len(coords) // 40))
            clusters = describe_clusters(labels, texts, langs)
            figures = {"mixing": mixing_score(coords, langs)}
            if any(g is not None for g in groups):
                x = center_languages(vectors, langs) if centered else vectors
                figures["p1"] = cross_lingual_p_at_1(x, langs, groups)[0]
            return labels, clusters, figures

        self.session.runner.start("Clusters", analyse, self._show_clusters)

    def _show_clusters(self, result) -> None:
        labels, clusters, figures = result
        if self.coords is None or len(labels) != len(self.coords):
            return
        self.labels, self.clusters = labels, clusters
        for t in self.cluster_text:
            self.plot.removeItem(t)
        self.cluster_text = []
        for c in sorted(clusters, key=lambda c: -c.size)[:25]:  # more would only clutter
            centre = self.coords[labels == c.id].mean(axis=0)
            item = pg.TextItem(c.label, color=(30, 30, 30), anchor=(0.5, 0.5))
            item.setPos(*centre)
            self.plot.addItem(item)
            self.cluster_text.append(item)
        parts = [f"languages mixing on the map: {figures['mixing']:.2f} "
                 "(share of each point's 10 nearest neighbours in another language)"]
        if "p1" in figures:
            parts.append(f"cross-lingual P@1: {figures['p1']:.3f} (nearest sentence in each "
                         "other language is the translation)")
        multi = sum(1 for c in clusters if len(c.languages) > 1)
        parts.append(f"{len(clusters)} clusters, {multi} of them span several languages")
        self.figures.setText(" · ".join(parts))
        if self.colour.currentData() == "cluster":
            self.recolour()

    # -- drawing ----------------------------------------------------------------------
    def _categories(self) -> tuple[list[str], np.ndarray]:
        combined = self.session.combined
        key = self.colour.currentData()
        if key == "cluster" and self.labels is not None:
            values = np.array([f"cluster {c}" if c >= 0 else "noise" for c in self.labels])
        elif key == "set":
            values = np.array([str(x) for x in combined.set_name])
        else:
            values = np.array([str(x or "?") for x in combined.lang])
        names, codes = np.unique(values, return_inverse=True)
        return list(names), codes

    def recolour(self) -> None:
        if self.coords is None or self.session.combined is None:
            return
        names, codes = self._categories()
        colours = palette(len(names))
        brushes = [pg.mkBrush(c) for c in colours]  # one brush per category, reused
        self.scatter.setBrush([brushes[c] for c in codes])
        self._codes = codes
        self.legend.blockSignals(True)
        self.legend.clear()
        for name, colour in zip(names, colours, strict=True):
            item = QListWidgetItem(f"● {name}")
            item.setForeground(colour)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.legend.addItem(item)
        self.legend.blockSignals(False)

    def _legend_toggled(self, _item) -> None:
        shown = np.array([self.legend.item(i).checkState() == Qt.CheckState.Checked
                          for i in range(self.legend.count())])
        self.scatter.setPointsVisible(shown[self._codes])

    def _tip(self, x: float, y: float, data) -> str:
        c = self.session.combined
        if c is None or data is None:
            return ""
        i = int(data)
        return f"{c.text[i]}\n[{c.lang[i] or '?'}] {c.set_name[i]}"

    # -- interaction ------------------------------------------------------------------
    def _clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.select(int(points[0].data()))

    def select(self, row: int) -> None:
        """Show the neighbours of ``row`` in every language and link its translations."""
        combined, vectors = self.session.combined, self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or self.coords is None:
            return
        self.selected = row
        sims = vectors @ vectors[row] * 100
        langs = np.array([str(x or "?") for x in combined.lang])
        lines = [f"<p><b>{html.escape(combined.text[row])}</b> [{langs[row]}]</p><ul>"]
        for lang in sorted(set(langs)):
            rows = np.flatnonzero((langs == lang) & (np.arange(len(langs)) != row))
            if not len(rows):
                continue
            best = rows[np.argmax(sims[rows])]
            mark = " ✓" if combined.group[best] is not None and \
                combined.group[best] == combined.group[row] else ""
            lines.append(f"<li>{lang}: {sims[best]:.1f} — {html.escape(combined.text[best])}"
                         f"{mark}</li>")
        self.neighbours.setHtml("".join(lines) + "</ul>")
        group = combined.group[row]
        if group is not None:
            members = [i for i in np.flatnonzero(combined.group == group) if i != row]
            xy = np.repeat(self.coords[[row]], len(members), axis=0)
            pairs = np.empty((2 * len(members), 2))
            pairs[0::2], pairs[1::2] = xy, self.coords[members]
            self.links.setData(pairs[:, 0], pairs[:, 1])
        else:
            self.links.setData([], [])

    def highlight_rows(self, rows: np.ndarray) -> None:
        """Ring these sentences on the map (when one is drawn)."""
        if self.coords is None or not len(rows) or rows.max() >= len(self.coords):
            return
        self.highlight = rows
        self.found.setData(pos=self.coords[rows])

    def find(self) -> None:
        text = self.search.text().strip()
        enc, vectors = self.session.encoder, self.session.vectors(MAP_ROLE)
        if not text or enc is None or vectors is None or self.coords is None:
            return

        def job(progress, cancelled):
            q = enc.encode([text], role=MAP_ROLE)[0]
            return np.argsort(-(vectors @ q))[:10]

        def done(rows) -> None:
            self.highlight = rows
            self.found.setData(pos=self.coords[rows])
            self.select(int(rows[0]))

        self.session.runner.start("Finding", job, done)
