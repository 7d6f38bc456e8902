"""The map tab: the controls, the plot and the side panel wired to the session. Which map
and what belongs to it, and the rules about them, live in ``MapState``; the maths in
core.mapping; drawing in ``MapPlot``; colours in ``MapColouring``; the selection drawn and
listed in ``MapSelection``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from e5desk.core.mapping import MAP_ROLE
from e5desk.gui.map.colouring import MapColouring
from e5desk.gui.map.controls import MapControls
from e5desk.gui.map.jobs import MapJobs
from e5desk.gui.map.labels import figures_html, figures_text, figures_tooltip
from e5desk.gui.map.plot import MapPlot
from e5desk.gui.map.query_scores import QueryScores
from e5desk.gui.map.selecting import MapSelection
from e5desk.gui.map.side import SidePanel
from e5desk.gui.map.state import MapState
from e5desk.gui.map.tools import use_tool
from e5desk.gui.map.window import OwnsWindow
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable

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
        self.jobs = MapJobs(session.runner, self.map_state)
        self.highlight = np.zeros(0, dtype=int)
        self.query_scores = QueryScores(session, lambda: self.coords is not None, self)
        self._build()
        self._connect()

    # -- widgets ----------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = c = MapControls(self, self.map_state, ALL_LINKS_MAX)
        self.method, self.colour, self.center, self.compute = c.method, c.colour, c.center, \
            c.compute
        self.search, self.tools, self.all_links_box = c.search, c.tools, c.all_links
        self.map_plot = mp = MapPlot(self.session.runner, lambda row: self._tip(0, 0, row))
        self.plot, self.view_box = mp.widget, mp.view_box
        for name in ("scatter", "selection_points", "all_links", "links", "found",
                     "cluster_labels", "contours"):
            setattr(self, name, getattr(mp, name))
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
        self.colouring = MapColouring(self.map_state, self.session, self.scatter, legend,
                                      self.query_scores,
                                      lambda: self.all_links_box.isChecked() and
                                      self._draw_all_links())
        self.selecting = MapSelection(self.map_state, self.map_plot, panel, self.session,
                                      self.colouring.shown_rows_mask, self)
        self._selection_api()
        self.body = body = QSplitter()
        body.addWidget(self.plot)
        body.addWidget(side)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 0)
        body.setCollapsible(0, False)
        body.setSizes([1000, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(c.top)
        layout.addLayout(c.tool_row)
        layout.addWidget(body, 1)

    def _connect(self) -> None:
        session, c = self.session, self.controls
        # The state follows the controls first, then the controls' own reactions run.
        for signal in (self.method.currentIndexChanged, self.center.toggled,
                       self.colour.currentIndexChanged, self.all_links_box.toggled,
                       c.contours.toggled):
            signal.connect(lambda *_: self.controls.read_into(self.map_state))
        self.compute.clicked.connect(self.compute_map)
        self.method.currentIndexChanged.connect(self._settings_changed)
        self.center.toggled.connect(self._settings_changed)
        self.colour.currentIndexChanged.connect(self.recolour)
        c.contours.toggled.connect(self._draw_contours)
        self.scatter.extend_clicked.connect(self.extend_selection)
        self.scatter.clicked.connect(self.select)
        self.search.returnPressed.connect(self.find)
        self.tools.buttonClicked.connect(lambda b: self.set_tool(b.property("tool")))
        self.view_box.region_selected.connect(
            lambda kind, shape: self.select_rect(*shape) if kind == "rect"
            else self.select_lasso(shape))
        self.all_links_box.toggled.connect(self._draw_all_links)
        panel = self.selection_panel
        panel.status.connect(self.status)
        panel.clear_button.clicked.connect(self.clear_selection)
        panel.export_button.clicked.connect(lambda: self.export_selection())
        panel.why_button.clicked.connect(lambda: self.explain_selection())
        panel.row_clicked.connect(self.select)
        self.query_scores.ready.connect(self._scores_ready)
        self.query_scores.failed.connect(self.status)
        session.sets_changed.connect(self.clear)
        session.model_changed.connect(self.clear)
        session.vectors_restored.connect(self._show_saved_map)
        session.runner.busy_changed.connect(lambda _busy: self._show_figures())

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
        use_tool(tool, self.view_box, self.tools, self.plot.viewport())

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._own_window()
        if self.colour.currentData() == "score" and self.coords is not None:
            self.recolour()  # the query may have changed in the Scores tab

    # -- computing --------------------------------------------------------------------
    def clear(self) -> None:
        self.map_state.clear_map()
        self.query_scores.forget()
        self.map_plot.clear()
        self._figures_text = ""
        self._show_figures()
        self.legend_panel.set_note("")
        self._set_selection(np.zeros(0, dtype=np.int64), notify=False)

    def compute_map(self) -> None:
        if self.session.combined is None or self.session.encoder is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        self.session.ensure_vectors(MAP_ROLE, None, then=self._project)

    def wanted_params(self):
        return self.map_state.wanted_params()  # core.projection.MapParams

    def is_stale(self) -> bool:
        return self.map_state.is_stale()  # a map is shown, the controls ask for another

    def _settings_changed(self) -> None:
        """Method or language separation changed: the map and its figures are out of date
        (marked so at once) and a new map is computed in the background."""
        self._show_figures()
        if self.coords is not None and self.session.combined is not None:
            self.compute_map()

    def _show_figures(self) -> None:
        stale = self.is_stale()
        self.figures.setText(figures_html(self._figures_text, stale, self.jobs.computing()))
        self.side.fit_figures()
        self.compute.setText("Recompute map" if stale else "Compute map")
        self.compute.setStyleSheet("font-weight: bold" if stale else "")

    def _project(self, vectors: np.ndarray) -> None:
        self.jobs.project(vectors, list(self.session.combined.lang), self._show)

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
        self.coords, self.map_params, self.selected = coords, params or {}, None
        self._figures_text = "Clusters and figures: computing…"
        self.figures.setToolTip(figures_tooltip(None))
        self._show_figures()
        self.links.setData([], [])
        combined, vectors = self.session.combined, self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or len(coords) != len(combined):
            return
        self.scatter.set_points(coords)
        self.selection_panel.forget_columns()
        self._set_selection(self.map_state.kept_selection(len(coords)), notify=False)
        n = len(coords)
        self.all_links_box.setEnabled(n <= ALL_LINKS_MAX)
        self.legend_panel.set_note(
            f"{n:,} points: where more than {self.scatter.budget:,} are in view the map "
            "shows their density (colour: the languages' mix; darker: more points); zoom "
            "in to see each point" if n > self.scatter.budget else "")
        self.recolour()
        self._draw_contours()
        self.plot.autoRange()
        if not saved:
            self.changed.emit()
        centred = bool(self.map_params.get("center_languages", self.center.isChecked()))
        self.jobs.analyse(coords, vectors, combined, centred, self._show_clusters)

    def _show_clusters(self, result) -> None:
        coords, analysis, levels = result
        if self.coords is not coords:
            return  # a newer map replaced the one these clusters belong to
        self.labels, self.clusters, self.analysis = analysis.labels, analysis.clusters, analysis
        self.cluster_labels.show(coords, levels)
        self._figures_text = figures_text(analysis, len(coords))
        self.figures.setToolTip(figures_tooltip(analysis))
        self._show_figures()
        if self.colour.currentData() == "cluster":
            self.recolour()

    # -- drawing ----------------------------------------------------------------------
    @property
    def cluster_text(self) -> list:
        """The cluster labels on the map (pg.TextItem), coarsest level first."""
        return self.cluster_labels.items

    def recolour(self) -> None:
        self.colouring.recolour()

    def shown_rows_mask(self) -> np.ndarray:
        """True for rows whose legend entry is checked (drawn, selectable)."""
        return self.colouring.shown_rows_mask()

    def _scores_ready(self) -> None:
        self.selection_panel.set_columns(self.session.combined, self.scores, self.selection)
        if self.colour.currentData() == "score":
            self.colouring.apply_scores()

    def _tip(self, x: float, y: float, data) -> str:
        return self.colouring.tip(data)

    def _draw_all_links(self, *_args) -> None:
        on, coords = self.all_links_box.isChecked(), self.coords
        if on and coords is not None and len(coords) > ALL_LINKS_MAX:
            self.status.emit(f"All translation links are drawn for maps of up to "
                             f"{ALL_LINKS_MAX:,} points only.")
            on = False
        self.map_plot.draw_all_links(coords if on else None, self.session.combined,
                                     self.shown_rows_mask())

    def _draw_contours(self, *_args) -> None:
        self.contours.show(self.coords if self.map_state.contours else None)

    # -- selection (MapSelection; these names are the tab's API) ----------------------
    def _selection_api(self) -> None:
        s = self.selecting
        self.selected_rows, self.select_rect, self.select_lasso = s.rows, s.in_rect, \
            s.in_polygon
        self.clear_selection, self._set_selection, self.extend_selection = s.clear, s.set, \
            s.extend
        self.export_selection, self.explain_selection = s.export, s.explain

    def current_table(self) -> ResultTable:
        """The result table of this tab (for the window's Ctrl+E)."""
        return self.selection_table

    # -- interaction ------------------------------------------------------------------
    def select(self, row: int) -> None:
        """Show the neighbours of ``row`` in every language and link its translations."""
        combined, vectors = self.session.combined, self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or self.coords is None:
            return
        self.selected, langs = row, self.colouring.lang_names()

        def show(found) -> None:
            if self.selected == row:
                self.neighbours.show_neighbours(combined.text, langs, row, found[0])
                self.map_plot.draw_links(found[1])
        self.jobs.neighbours(vectors, self.coords, row, combined.group,
                             self.colouring.lang_codes(), show)

    def highlight_rows(self, rows: np.ndarray) -> None:
        """Ring these sentences on the map (when one is drawn)."""
        if self.coords is None or not len(rows) or rows.max() >= len(self.coords):
            return
        self.highlight = rows
        self.found.setData(pos=self.coords[rows])

    def find(self) -> None:
        """The 10 sentences closest to the search box's text ringed, the first clicked."""
        text = self.search.text().strip()
        enc, vectors = self.session.encoder, self.session.vectors(MAP_ROLE)
        if text and enc is not None and vectors is not None and self.coords is not None:
            self.jobs.find(enc, text, vectors, lambda rows: (
                self.highlight_rows(rows), self.select(int(rows[0]))))
