"""The map's selection drawn and listed: the rows a rectangle, a lasso or Ctrl-clicks chose
keep their colours (ringed while few), every other point turns grey, and the selection
panel lists them. Which rows, and in what order they were clicked, is ``MapState``'s."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from e5desk.gui.map.state import MapState

RINGED_MAX = 5_000  # rows; a bigger selection is told by the grey around it alone


class MapSelection:
    """Draws ``state.selection`` on the plot's points and fills ``panel``. ``shown()``:
    which rows may be selected (their legend entry checked); ``tab`` (the map view) has
    the ``changed``, ``status`` and ``pair_requested`` signals and the query ``scores``."""

    def __init__(self, state: MapState, plot, panel, session, shown: Callable, tab) -> None:
        self.state, self.scatter, self.rings = state, plot.scatter, plot.selection_points
        self.panel, self.session, self.shown, self.tab = panel, session, shown, tab

    def rows(self) -> np.ndarray:
        return self.state.selection.copy()

    def set(self, rows: np.ndarray, notify: bool = True) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        notify = notify and not np.array_equal(rows, self.state.selection)
        self.state.selection = rows
        coords = self.state.coords
        some = coords is not None and len(rows) > 0
        self.scatter.set_kept(rows if some else None)
        self.rings.set_points(coords[rows] if some and len(rows) <= RINGED_MAX
                              else np.zeros((0, 2)))
        combined = self.session.combined
        if combined is not None:
            self.panel.set_columns(combined, self.tab.scores, rows)
            self.panel.show_rows(rows)
        else:
            self.panel.forget_columns(empty=True)
        self.panel.show_count(len(rows))
        if notify:
            self.tab.changed.emit()
        return self.rows()

    def clear(self) -> None:
        self.set(np.zeros(0, dtype=np.int64))

    def in_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Select the shown points inside a rectangle (map coordinates)."""
        from e5desk.core.projection import points_in_rect

        if self.state.coords is None:
            return self.rows()
        rows = points_in_rect(self.state.coords, x0, y0, x1, y1)
        return self.set(rows[self.shown()[rows]])

    def in_polygon(self, polygon: np.ndarray) -> np.ndarray:
        """Select the shown points inside a closed polygon (map coordinates)."""
        from e5desk.core.projection import points_in_polygon

        if self.state.coords is None:
            return self.rows()
        rows = points_in_polygon(self.state.coords, polygon)
        return self.set(rows[self.shown()[rows]])

    def extend(self, row: int) -> np.ndarray:
        """Ctrl- or Shift-click: the clicked point joins the selection (or leaves it)."""
        return self.set(self.state.extended(row))

    def explain(self) -> bool:
        """Open the two selected sentences in the pair view (the first one clicked on the
        left); anything but exactly two selected: says so."""
        from e5desk.gui.pair.state import rows_request

        combined, rows = self.session.combined, self.state.pair_rows()
        if combined is None or rows is None:
            self.tab.status.emit("Select exactly two sentences on the map, then press Why? "
                                 "(click one point, then Ctrl- or Shift-click another).")
            return False
        request = rows_request(combined.text, combined.lang, combined.group, rows)
        if request is not None:
            self.tab.pair_requested.emit(request)
        return request is not None

    def export(self, path: str | Path | None = None) -> Path | None:
        """Write the selection table to CSV (asks where if no path); nothing selected:
        the table says so and nothing is written."""
        if self.session.combined is None or not len(self.state.selection):
            self.panel.forget_columns(empty=True)
        return self.panel.export(path)
