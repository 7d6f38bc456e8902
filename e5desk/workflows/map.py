"""Map sentences: embed in the clustering role, project to 2-D, cluster and label. The one
pipeline behind `e5desk map`, `e5desk.map` and the window's Map tab (which runs the same two
core steps, `compute_coords` in a child process with a PCA preview first, then
`analyse_map`), so all three report the same clusters (tests/test_map_agreement.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.mapping import DEFAULT_PARAMS, MAP_ROLE, MapAnalysis, analyse_map, compute_coords
from e5desk.core.projection import MapParams


@dataclass
class MapSettings:
    """What the user chose; ``center_languages`` None = on when every row has a language."""

    method: str = DEFAULT_PARAMS.method
    neighbors: int = DEFAULT_PARAMS.n_neighbors
    min_dist: float = DEFAULT_PARAMS.min_dist
    seed: int = DEFAULT_PARAMS.seed
    center_languages: bool | None = None

    def params(self, langs: Sequence) -> MapParams:
        unknown = any(x is None or x == "" for x in langs)
        if self.center_languages and unknown:
            raise E5DeskError("separating meaning from language needs a language for every "
                              "sentence; some rows have none")
        center = (DEFAULT_PARAMS.center_languages and not unknown
                  if self.center_languages is None else self.center_languages)
        return MapParams(self.method, self.neighbors, self.min_dist, self.seed, center)


@dataclass
class SentenceMapResult:
    coords: np.ndarray
    analysis: MapAnalysis
    params: MapParams
    notes: list[str] = field(default_factory=list)  # what a small map changed, in words


def map_sentences(encode: Callable[..., np.ndarray], texts: Sequence[str], langs: Sequence,
                  groups: Sequence, settings: MapSettings | None = None, *,
                  embed_progress: Progress | None = None, progress: Progress | None = None,
                  cancelled: CancelCheck | None = None) -> SentenceMapResult:
    """``encode(texts, role=, progress=, cancelled=)`` as ``Encoder.encode`` (or stored
    vectors); ``progress`` reports the projection, ``embed_progress`` the embedding."""
    params = (settings or MapSettings()).params(langs)  # checked before any embedding
    vectors = encode(list(texts), role=MAP_ROLE, progress=embed_progress, cancelled=cancelled)
    return map_vectors(vectors, texts, langs, groups, params, progress=progress,
                       cancelled=cancelled)


def map_vectors(vectors: np.ndarray, texts: Sequence[str], langs: Sequence, groups: Sequence,
                params: MapParams, *, progress: Progress | None = None,
                cancelled: CancelCheck | None = None) -> SentenceMapResult:
    """The map of vectors already embedded in the clustering role (MAP_ROLE)."""
    notes: list[str] = []
    coords = compute_coords(vectors, list(langs), params, progress=progress,
                            cancelled=cancelled, notes=notes)
    analysis = analyse_map(coords, vectors, list(texts), list(langs), list(groups),
                           params.center_languages)
    return SentenceMapResult(coords, analysis, params, notes)
