"""The map tab: the controls, the plot and the side panel wired to the session. Which map
and what belongs to it live in ``MapState``; the maths in core.mapping; drawing in
``MapPoints``; the legend and the selection in their panels."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from e5desk.core.mapping import (
    MAP_ROLE,
    analyse_map,
    closest_to_text,
    cluster_categories,
    factorize,
    language_names,
    link_pairs,
    links_of,
    nearest_per_language,
    score_scale,
)
from e5desk.gui.map.controls import MapControls
from e5desk.gui.map.labels import ClusterLabels, figures_html, figures_text, figures_tooltip
from e5desk.gui.map.legend import (
    SCORE_BANDS,
    SCORE_LEVELS,
    Colouring,
    category_colouring,
    plain_colouring,
    score_colouring,
)
from e5desk.gui.map.points import MapPoints
from e5desk.gui.map.query_scores import QueryScores
from e5desk.gui.map.side import SidePanel
from e5desk.gui.map.state import METHODS, MapState
from e5desk.gui.map.tools import MapViewBox
from e5desk.gui.map.window import OwnsWindow
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.theme import map_colours

ALL_LINKS_MAX = 20_000  # points; more links than that only hide the map


def _kept_in(part: str, name: str) -> property:
    """An attribute of the view kept in one of its parts (``map_state``, ``query_scores``)."""
    return property(lambda self: getattr(getattr(self, part), name),
                    lambda self, value: setattr(getattr(self, part), name, value))


class MapView(OwnsWindow, QWidget):
    status = Signal(str)
    changed = Signal()  # a new map was drawn, or the selection changed (saved in projects)
    pair_requested = Signal(object)  # two selected sentences for the pair view (PairRequest)

    coords = _kept_in("map_state", "coords")
    map_params = _kept_in("map_state", "map_params")
    labels = _kept_in("map_state", "labels")
    clusters = _kept_in("map_state", "clusters")
    analysis = _kept_in("map_state", "analysis")  # core.mapping.MapAnalysis of the map
    selected = _kept_in("map_state", "selected")
    selection = _kept_in("map_state", "selection")
    scores = _kept_in("query_scores", "scores")  # score (cos x 100) of each row to the query
    score_query = _kept_in("query_scores", "query")

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.map_state = MapState()
        self._figures_text = ""
        self._map_jobs: list = []  # running projection jobs (cancelled by a newer map)
        self.highlight = np.zeros(0, dtype=int)
        self._order: list[int] = []  # selected rows in the order they were Ctrl/Shift-clicked
        self.query_scores = QueryScores(session, lambda: self.coords is not None, self)
        self._row_codes = np.zeros(0, dtype=np.int64)  # colour code per row
        self._langs_for = None
        self._langs = np.zeros(0, dtype=object)
        self._build()
        self._connect()

    # -- widgets ----------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = c = MapControls(self, self.map_state, ALL_LINKS_MAX)
        self.method, self.colour, self.center, self.compute = c.method, c.colour, c.center, \
            c.compute
        self.search, self.tools, self.all_links_box = c.search, c.tools, c.all_links

        self.view_box = MapViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view_box)
        self.plot.setBackground(map_colours()["background"])
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.scatter = MapPoints(size=8, tip=lambda row: self._tip(0, 0, row))
        self.selection_points = MapPoints(size=13, ring=True)
        self.selection_points.set_colours(np.zeros(0), [QColor(20, 20, 20)])
        self.all_links = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90, 70), width=1),
                                          connect="pairs")
        self.links = pg.PlotDataItem(pen=pg.mkPen((40, 40, 40, 160), width=1.5),
                                     connect="pairs")
        self.found = pg.ScatterPlotItem(size=16, pxMode=True, brush=None,
                                        pen=pg.mkPen((220, 30, 30), width=2))
        for item in (self.all_links, self.links, self.scatter, self.selection_points,
                     self.found):
            self.plot.addItem(item)
        self.cluster_labels = ClusterLabels(self.plot, self.view_box)

        # The plot owns the tab: controls in two short rows above it; figures, legend,
        # neighbours and the selection in a side panel that never shrinks the plot.
        c.tool_row.addWidget(self._full_screen_switch())
        self.side = side = SidePanel()
        self.figures, self.legend_panel = side.figures, side.legend
        self.neighbours, self.selection_panel = side.neighbours, side.selection
        legend, panel = side.legend, side.selection
        self.legend, self.lod_note = legend.entries, legend.note
        self.score_caption, self.score_bar = legend.caption, legend.bar
        self.selection_table, self.selection_model = panel.table, panel.model
        self.selection_count, self.export_button = panel.count, panel.export_button
        self.clear_selection_button = panel.clear_button
        body = QSplitter()
        body.addWidget(self.plot)
        body.addWidget(side)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 0)
        body.setCollapsible(0, False)
        body.setSizes([1000, 320])
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(c.top)
        layout.addLayout(c.tool_row)
        layout.addWidget(body, 1)

    def _connect(self) -> None:
        session = self.session
        # The state follows the controls first, then the controls' own reactions run.
        for signal in (self.method.currentIndexChanged, self.center.toggled,
                       self.colour.currentIndexChanged, self.all_links_box.toggled):
            signal.connect(self._read_controls)
        self.compute.clicked.connect(self.compute_map)
        self.method.currentIndexChanged.connect(self._settings_changed)
        self.center.toggled.connect(self._settings_changed)
        self.colour.currentIndexChanged.connect(self.recolour)
        self.legend_panel.shown_changed.connect(self._legend_toggled)
        self.scatter.extend_clicked.connect(self.extend_selection)
        self.scatter.clicked.connect(self.select)
        self.search.returnPressed.connect(self.find)
        self.tools.buttonClicked.connect(lambda b: self.set_tool(b.property("tool")))
        self.view_box.region_selected.connect(self._region_selected)
        self.all_links_box.toggled.connect(self._draw_all_links)
        self.selection_panel.status.connect(self.status)
        self.selection_panel.clear_button.clicked.connect(self.clear_selection)
        self.selection_panel.export_button.clicked.connect(lambda: self.export_selection())
        self.selection_panel.why_button.clicked.connect(lambda: self.explain_selection())
        self.selection_panel.row_clicked.connect(self.select)
        self.query_scores.ready.connect(self._scores_ready)
        self.query_scores.failed.connect(self.status)
        session.sets_changed.connect(self.clear)
        session.model_changed.connect(self.clear)
        session.vectors_restored.connect(self._show_saved_map)
        session.runner.busy_changed.connect(lambda _busy: self._show_figures())

    def _read_controls(self, *_args) -> None:
        self.controls.read_into(self.map_state)

    # -- hooks ------------------------------------------------------------------------
    def set_query_source(self, source: Callable[[], str | None] | None) -> None:
        """Where "Colour by score to the query" reads the query: a callable returning the
        query text (its first non-empty line is used) or None. The scores are refreshed
        whenever the map is shown again, so typing another query and coming back works."""
        self.query_scores.source = source
        if self.colour.currentData() == "score":
            self.recolour()

    def query_text(self) -> str | None:
        return self.query_scores.query_text()

    def set_tool(self, tool: str) -> None:
        """Left-drag on the map: "pan" (pan/zoom), "rect" or "lasso" (select)."""
        self.view_box.tool = tool
        for button in self.tools.buttons():
            button.setChecked(button.property("tool") == tool)
        self.plot.viewport().setCursor(Qt.CursorShape.ArrowCursor if tool == "pan"
                                       else Qt.CursorShape.CrossCursor)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._own_window()
        if self.colour.currentData() == "score" and self.coords is not None:
            self.recolour()  # the query may have changed in the Scores tab

    # -- computing --------------------------------------------------------------------
    def clear(self) -> None:
        self.map_state.clear_map()
        self.query_scores.forget()
        self.scatter.clear()
        self.selection_points.clear()
        self.links.setData([], [])
        self.all_links.setData([], [])
        self.found.clear()
        self.cluster_labels.clear()
        self._figures_text = ""
        self._show_figures()
        self.legend_panel.set_note("")
        self._set_selection(np.zeros(0, dtype=np.int64), notify=False)

    def compute_map(self) -> None:
        combined = self.session.combined
        if combined is None or self.session.encoder is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        self.session.ensure_vectors(MAP_ROLE, None, then=self._project)

    def wanted_params(self):
        """The map the controls ask for (core.projection.MapParams)."""
        return self.map_state.wanted_params()

    def is_stale(self) -> bool:
        """True when a map is shown but the controls now ask for another one."""
        return self.map_state.is_stale()

    def _settings_changed(self) -> None:
        """Method or language separation changed: the map and its figures are out of date
        (marked so at once) and a new map is computed in the background."""
        self._show_figures()
        if self.coords is not None and self.session.combined is not None:
            self.compute_map()

    def _show_figures(self) -> None:
        stale = self.is_stale()
        running = [j for j in self._map_jobs if j in self.session.runner.running]
        computing = METHODS[self.wanted_params().method] if running else None
        self.figures.setText(figures_html(self._figures_text, stale, computing))
        self.side.fit_figures()
        self.compute.setText("Recompute map" if stale else "Compute map")
        self.compute.setStyleSheet("font-weight: bold" if stale else "")

    def _project(self, vectors: np.ndarray) -> None:
        from e5desk.core.projection import MapParams, project, project_in_process

        langs = list(self.session.combined.lang)
        params = self.wanted_params()
        for job in self._map_jobs:  # a newer map supersedes the ones still running
            job.cancel()
        self._map_jobs = []
        runner = self.session.runner

        final_shown = []

        def shown(p):
            def show(coords):
                if self.wanted_params() != params:
                    return
                if p == params:
                    final_shown.append(True)
                elif final_shown:  # the map came first (remembered): keep it, not the preview
                    return
                self._show(coords, asdict(p))
            return show

        preview = MapParams("pca", center_languages=params.center_languages)
        self._map_jobs.append(runner.start(
            "PCA preview", lambda p, c: project(vectors, preview, langs), shown(preview)))
        if params.method == "pca":
            return
        self._map_jobs.append(runner.start(
            f"{METHODS[params.method]} map",
            lambda p, c: project_in_process(vectors, params, langs, progress=p, cancelled=c),
            shown(params)))

    # -- projects ---------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(arrays, settings) to save in a project."""
        return self.map_state.to_project()

    def apply_settings(self, settings: dict) -> None:
        self.map_state.apply_settings(settings)
        self.controls.set_from(self.map_state)

    def _show_saved_map(self) -> None:
        combined = self.session.combined
        if combined is None or self.session.vectors(MAP_ROLE) is None:
            return
        saved = self.map_state.saved_map(self.session.project_arrays, len(combined))
        if saved is None:
            return
        self._show(saved.coords, saved.params, saved=True)
        if saved.selected is not None:
            self.select(saved.selected)
        if saved.selection is not None:
            self._set_selection(saved.selection, notify=False)

    def _show(self, coords: np.ndarray, params: dict | None = None, saved=False) -> None:
        self.coords = coords
        self.map_params = params or {}
        self._figures_text = "Clusters and figures: computing…"
        self.figures.setToolTip(figures_tooltip(None))
        self._show_figures()
        self.selected = None
        self.links.setData([], [])
        combined = self.session.combined
        vectors = self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or len(coords) != len(combined):
            return
        self.scatter.set_points(coords)
        self.selection_panel.forget_columns()
        # The selection is a set of sentences: it survives a new map (UMAP after PCA).
        self._set_selection(self.selection if len(self.selection) and
                            self.selection.max() < len(coords) else np.zeros(0, np.int64),
                            notify=False)
        n = len(coords)
        self.all_links_box.setEnabled(n <= ALL_LINKS_MAX)
        self.legend_panel.set_note(
            f"{n:,} points: where more than {self.scatter.budget:,} are in view the map "
            "shows their density (colour: the languages' mix; darker: more points); zoom "
            "in to see each point" if n > self.scatter.budget else "")
        self.recolour()
        self._draw_all_links()
        self.plot.autoRange()
        if not saved:
            self.changed.emit()
        texts, langs, groups = list(combined.text), list(combined.lang), list(combined.group)
        centered = bool(self.map_params.get("center_languages", self.center.isChecked()))

        def analyse(progress, cancelled):
            return coords, analyse_map(coords, vectors, texts, langs, groups, centered)

        self.session.runner.start("Clusters", analyse, self._show_clusters)

    def _show_clusters(self, result) -> None:
        coords, analysis = result
        if self.coords is not coords:
            return  # a newer map replaced the one these clusters belong to
        labels, clusters = analysis.labels, analysis.clusters
        self.labels, self.clusters, self.analysis = labels, clusters, analysis
        self.cluster_labels.show(coords, labels, clusters)
        self._figures_text = figures_text(analysis, len(coords))
        self.figures.setToolTip(figures_tooltip(analysis))
        self._show_figures()
        if self.colour.currentData() == "cluster":
            self.recolour()

    # -- drawing ----------------------------------------------------------------------
    @property
    def cluster_text(self) -> list[pg.TextItem]:
        """The cluster labels on the map, largest cluster first."""
        return self.cluster_labels.items

    def _lang_names(self) -> np.ndarray:
        combined = self.session.combined
        if self._langs_for is not combined:
            self._langs_for = combined
            self._langs = language_names(combined.lang)
        return self._langs

    def recolour(self) -> None:
        if self.coords is None or self.session.combined is None:
            return
        key = self.colour.currentData()
        if key == "score":
            self._colour_by_score()
            return
        self.legend_panel.hide_scale()
        if key == "cluster" and self.labels is not None:
            names, codes = cluster_categories(self.labels)
        elif key == "set":
            names, codes = factorize(self.session.combined.set_name)
        else:
            names, codes = factorize(self._lang_names())
        self._apply_colouring(category_colouring(names, codes, key in ("lang", None)))

    def _apply_colouring(self, colouring: Colouring) -> None:
        self.scatter.set_colours(colouring.codes, colouring.colours, on_top=colouring.on_top)
        self._row_codes = colouring.codes
        self.legend_panel.fill(colouring)
        if self.all_links_box.isChecked():
            self._draw_all_links()

    def _legend_toggled(self, shown_codes: np.ndarray) -> None:
        self.scatter.set_shown(shown_codes)
        if self.all_links_box.isChecked():
            self._draw_all_links()

    def shown_rows_mask(self) -> np.ndarray:
        """True for rows whose legend entry is checked (drawn, selectable)."""
        if self.coords is None:
            return np.zeros(0, dtype=bool)
        shown = self.legend_panel.shown_codes
        if len(self._row_codes) != len(self.coords) or not len(shown):
            return np.ones(len(self.coords), dtype=bool)
        return shown[self._row_codes]

    # -- colour by score to the query -------------------------------------------------
    def _colour_by_score(self) -> None:
        query = self.query_text()
        vectors = self.session.vectors(MAP_ROLE)
        encoder = self.session.encoder
        if query is None or vectors is None or encoder is None:
            self.legend_panel.show_hint(
                "Type a query in the Scores tab: the map colours every sentence by its "
                "score to it." if query is None else "Load a model first.")
            self._apply_colouring(plain_colouring(len(self.coords), "no query yet"))
            return
        status = self.query_scores.status(query, vectors)
        if status == "ready":
            self._apply_scores()
        elif status is None:
            self.legend_panel.show_caption(f"Scoring “{html.escape(query)}”…")
            self.query_scores.start(query, vectors, encoder)

    def _scores_ready(self) -> None:
        self.selection_panel.set_columns(self.session.combined, self.scores, self.selection)
        if self.colour.currentData() == "score":
            self._apply_scores()

    def _apply_scores(self) -> None:
        scale = score_scale(self.scores, SCORE_LEVELS, SCORE_BANDS)
        colouring = score_colouring(scale)
        self._apply_colouring(colouring)
        self.legend_panel.show_scale(
            f"Score to “{html.escape(self.score_query or '')}” (cos × 100): "
            f"{scale.lo:.1f} … {scale.hi:.1f}", colouring.colours, scale.lo, scale.hi)

    def _tip(self, x: float, y: float, data) -> str:
        c = self.session.combined
        if c is None or data is None:
            return ""
        i = int(data)
        tip = f"{c.text[i]}\n[{c.lang[i] or '?'}] {c.set_name[i]}"
        if self.scores is not None and len(self.scores) == len(c) and \
                self.colour.currentData() == "score":
            tip += f"\nscore {self.scores[i]:.1f}"
        return tip

    # -- translation links ------------------------------------------------------------
    def _draw_all_links(self, *_args) -> None:
        combined = self.session.combined
        if not self.all_links_box.isChecked() or self.coords is None or combined is None:
            self.all_links.setData([], [])
            return
        if len(self.coords) > ALL_LINKS_MAX:
            self.all_links.setData([], [])
            self.status.emit(f"All translation links are drawn for maps of up to "
                             f"{ALL_LINKS_MAX:,} points only.")
            return
        pairs = link_pairs(self.coords, combined.group, self.shown_rows_mask())
        if not len(pairs):
            self.all_links.setData([], [])
            return
        self.all_links.setData(pairs[:, 0], pairs[:, 1], connect="pairs")

    # -- selection --------------------------------------------------------------------
    def selected_rows(self) -> np.ndarray:
        """Rows selected on the map (rectangle or lasso), ascending."""
        return self.selection.copy()

    def select_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Select the shown points inside a rectangle (map coordinates)."""
        from e5desk.core.projection import points_in_rect

        if self.coords is None:
            return self.selected_rows()
        rows = points_in_rect(self.coords, x0, y0, x1, y1)
        return self._set_selection(rows[self.shown_rows_mask()[rows]])

    def select_lasso(self, polygon: np.ndarray) -> np.ndarray:
        """Select the shown points inside a closed polygon (map coordinates)."""
        from e5desk.core.projection import points_in_polygon

        if self.coords is None:
            return self.selected_rows()
        rows = points_in_polygon(self.coords, polygon)
        return self._set_selection(rows[self.shown_rows_mask()[rows]])

    def clear_selection(self) -> None:
        self._set_selection(np.zeros(0, dtype=np.int64))

    def _region_selected(self, kind: str, shape) -> None:
        if kind == "rect":
            self.select_rect(*shape)
        else:
            self.select_lasso(shape)

    def _set_selection(self, rows: np.ndarray, notify: bool = True) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        notify = notify and not np.array_equal(rows, self.selection)
        self.selection = rows
        if self.coords is not None and len(self.selection):
            self.selection_points.set_points(self.coords[self.selection])
        else:
            self.selection_points.set_points(np.zeros((0, 2)))
        panel = self.selection_panel
        if self.session.combined is not None:
            panel.set_columns(self.session.combined, self.scores, self.selection)
            panel.show_rows(self.selection)
        else:
            panel.forget_columns(empty=True)
        panel.show_count(len(self.selection))
        if notify:
            self.changed.emit()
        return self.selected_rows()

    def extend_selection(self, row: int) -> np.ndarray:
        """Ctrl- or Shift-click: the clicked point joins the selection (or leaves it); the
        first such click after a plain click selects both points."""
        rows = self.selection
        if not len(rows) and self.selected is not None and self.selected != row:
            rows = np.array([self.selected], dtype=np.int64)
        if row in rows:
            rows = rows[rows != row]
        else:
            rows = np.append(rows, row)
        self._order = [r for r in self._order if r in rows]
        self._order += [int(r) for r in rows if r not in self._order]
        return self._set_selection(np.sort(rows))

    def explain_selection(self) -> bool:
        """Open the two selected sentences in the pair view (the first one clicked on the
        left); anything but exactly two selected: says so."""
        from e5desk.gui.pair.state import rows_request

        combined, rows = self.session.combined, self.selected_rows()
        if combined is None or len(rows) != 2:
            self.status.emit("Select exactly two sentences on the map, then press Why? "
                             "(click one point, then Ctrl- or Shift-click another).")
            return False
        order = [r for r in self._order if r in rows]
        rows = order if len(order) == 2 else list(rows)
        request = rows_request(combined.text, combined.lang, combined.group, rows)
        if request is None:
            return False
        self.pair_requested.emit(request)
        return True

    def export_selection(self, path: str | Path | None = None) -> Path | None:
        """Write the selected sentences (the selection table: text, lang, group, set, line;
        score when colouring by score) to CSV; asks where if no path. Nothing selected:
        says so and writes nothing."""
        if self.session.combined is None or not len(self.selected_rows()):
            self.selection_panel.forget_columns(empty=True)
        return self.selection_panel.export(path)

    def current_table(self) -> ResultTable:
        """The result table of this tab (for the window's Ctrl+E)."""
        return self.selection_table

    # -- interaction ------------------------------------------------------------------
    def select(self, row: int) -> None:
        """Show the neighbours of ``row`` in every language and link its translations."""
        combined, vectors = self.session.combined, self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or self.coords is None:
            return
        self.selected = row
        langs = self._lang_names()
        self.neighbours.show_neighbours(combined.text, langs, row, nearest_per_language(
            vectors, row, langs, combined.group))
        pairs = links_of(row, self.coords, combined.group)
        if len(pairs):
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
            return closest_to_text(enc, text, vectors, k=10)

        def done(rows) -> None:
            self.highlight = rows
            self.found.setData(pos=self.coords[rows])
            self.select(int(rows[0]))

        self.session.runner.start("Finding", job, done)
