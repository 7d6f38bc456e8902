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
    # The map drawn and what belongs to it.
    coords: np.ndarray | None = None
    map_params: dict = field(default_factory=dict)  # asdict(MapParams) of the coords
    labels: np.ndarray | None = None  # cluster id per row
    clusters: list = field(default_factory=list)  # core.clusters.Cluster
    analysis: MapAnalysis | None = None
    selected: int | None = None  # the clicked sentence
    selection: np.ndarray = field(default_factory=_no_rows)  # rectangle / lasso rows
    restore_selected: object = None  # a project's clicked sentence, shown with its map

    def wanted_params(self) -> MapParams:
        """The map the controls ask for."""
        return MapParams(self.method, center_languages=self.center)

    def is_stale(self) -> bool:
        """True when a map is shown but the controls now ask for another one."""
        if self.coords is None:
            return False
        return (self.map_params.get("method"), bool(self.map_params.get("center_languages"))) \
            != (self.method, self.center)

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
                    "selected": self.selected, "all_links": self.all_links}
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
