"""What the map tab shows, without Qt: the controls (method, colouring, language separation,
all links), the map drawn (coordinates and the parameters that made them), its clusters,
the clicked sentence and the selection; and how they go into a project and come back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from e5desk.core.mapping import DEFAULT_PARAMS, MapAnalysis
from e5desk.core.projection import MapParams

METHODS = {"umap": "UMAP (cosine)", "pca": "PCA (instant)", "tsne": "t-SNE"}
COLOUR_BY = {"lang": "language", "cluster": "cluster", "set": "set",
             "score": "score to the query"}


def _no_rows() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class SavedMap:
    """A project's map that fits the sentences loaded now."""

    coords: np.ndarray
    params: dict
    selected: int | None  # the clicked sentence, if it is a row of this map
    selection: np.ndarray | None  # the selected rows, if they are all rows of this map


@dataclass
class MapState:
    # The controls (the first entry of each list unless a project says otherwise).
    method: str = next(iter(METHODS))
    center: bool = DEFAULT_PARAMS.center_languages
    colour: str = next(iter(COLOUR_BY))
    all_links: bool = False
    contours: bool = False  # density contours over the points
    # The map drawn and what belongs to it.
    coords: np.ndarray | None = None
    map_params: dict = field(default_factory=dict)  # asdict(MapParams) of the coords
    labels: np.ndarray | None = None  # cluster id per row
    clusters: list = field(default_factory=list)  # core.clusters.Cluster
    analysis: MapAnalysis | None = None
    selected: int | None = None  # the clicked sentence
    selection: np.ndarray = field(default_factory=_no_rows)  # rectangle / lasso rows
    restore_selected: object = None  # a project's clicked sentence, shown with its map
    order: list = field(default_factory=list)  # selected rows in the order Ctrl-clicked
    final_shown: object = None  # the params of the last finished map (not a preview)

    def wanted_params(self) -> MapParams:
        """The map the controls ask for."""
        return MapParams(self.method, center_languages=self.center)

    def is_stale(self) -> bool:
        """True when a map is shown but the controls now ask for another one."""
        if self.coords is None:
            return False
        return (self.map_params.get("method"), bool(self.map_params.get("center_languages"))) \
            != (self.method, self.center)

    # -- progressive maps -----------------------------------------------------------------
    def begin_map(self) -> None:
        """A new map is asked for: its PCA preview may show until the map itself comes."""
        self.final_shown = None

    def accepts(self, made_with: MapParams, wanted: MapParams) -> bool:
        """Should a finished job's map be drawn? Only while the controls still ask for
        ``wanted``; a preview never replaces the map it stands in for once that came
        (the two run side by side and either may finish first)."""
        if self.wanted_params() != wanted:
            return False
        if made_with == wanted:
            self.final_shown = wanted
            return True
        return self.final_shown != wanted

    # -- selection ------------------------------------------------------------------------
    def kept_selection(self, n_rows: int) -> np.ndarray:
        """The selection is a set of sentences: it survives a new map of the same rows."""
        rows = self.selection
        return rows if len(rows) and rows.max() < n_rows else _no_rows()

    def extended(self, row: int) -> np.ndarray:
        """Ctrl- or Shift-click on ``row``: it joins the selection (or leaves it); the
        first such click after a plain click selects both points. Returns the rows."""
        rows = self.selection
        if not len(rows) and self.selected is not None and self.selected != row:
            rows = np.array([self.selected], dtype=np.int64)
        rows = rows[rows != row] if row in rows else np.append(rows, row)
        self.order = [r for r in self.order if r in rows]
        self.order += [int(r) for r in rows if r not in self.order]
        return np.sort(rows)

    def pair_rows(self) -> list[int] | None:
        """The two selected rows, the first clicked first; None unless exactly two."""
        if len(self.selection) != 2:
            return None
        order = [r for r in self.order if r in self.selection]
        return order if len(order) == 2 else [int(r) for r in self.selection]

    def clear_map(self) -> None:
        """No map (new sentences or model): the controls stay, the selection goes later
        (the view empties its table with it)."""
        self.coords = self.labels = self.analysis = None
        self.clusters = []
        self.selected = None

    # -- projects -------------------------------------------------------------------------
    def to_project(self) -> tuple[dict, dict]:
        """(arrays, settings) to save in a project."""
        arrays = {}
        if self.coords is not None:
            arrays["map"] = (self.coords, self.map_params)
        if self.labels is not None:
            arrays["clusters"] = (self.labels, {"labels": {str(c.id): c.label
                                                           for c in self.clusters}})
        if len(self.selection):
            arrays["selection"] = (self.selection, {})
        settings = {"method": self.method, "center": self.center, "colour": self.colour,
                    "selected": self.selected, "all_links": self.all_links,
                    "contours": self.contours}
        return arrays, settings

    def apply_settings(self, settings: Mapping) -> None:
        """Take a project's settings; unknown methods or colourings keep the current ones
        (a damaged or newer file may hold anything)."""
        method, colour = settings.get("method"), settings.get("colour")
        if isinstance(method, str) and method in METHODS:
            self.method = method
        if isinstance(colour, str) and colour in COLOUR_BY:
            self.colour = colour
        self.center = bool(settings.get("center", True))
        self.all_links = bool(settings.get("all_links", False))
        self.contours = bool(settings.get("contours", False))
        self.restore_selected = settings.get("selected")

    def saved_map(self, arrays: Mapping, n_rows: int) -> SavedMap | None:
        """The project's map (``arrays`` as restored) when it has one row per sentence."""
        saved = arrays.get("map")
        if saved is None:
            return None
        coords, params = saved
        if len(coords) != n_rows:
            return None
        row = self.restore_selected
        selected = int(row) if isinstance(row, Integral) and not isinstance(row, bool) \
            and 0 <= row < n_rows else None
        selection = None
        rows = arrays.get("selection")
        if rows is not None:
            rows = np.asarray(rows[0], dtype=np.int64)
            if len(rows) and rows.min() >= 0 and rows.max() < n_rows:
                selection = rows
        return SavedMap(np.asarray(coords), dict(params), selected, selection)
