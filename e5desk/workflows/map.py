"""Map sentences: embed in the clustering role, project to 2-D, cluster and label. The one
pipeline behind `e5desk map`, `e5desk.map` and the window's Map tab, so all three report the
same clusters (tests/test_map_agreement.py).

    map_sentences = embed (MAP_ROLE) + map_vectors
    map_vectors   = project_vectors + analyse
    the window    = stages(params): a PCA preview, then the map asked for, each by
                    project_vectors (the slow one with ``in_child``: cancel stops it at
                    once, the window stays responsive), then analyse(levels=True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.mapping import DEFAULT_PARAMS, MAP_ROLE, MapAnalysis, analyse_map, label_levels
from e5desk.core.projection import MapParams, effective_params, project, project_in_process


def _unknown_language(langs: Sequence) -> bool:
    return any(x is None or x == "" for x in langs)


_NO_CENTRING = ("separating meaning from language needs a language for every sentence; "
                "some rows have none")


@dataclass
class MapSettings:
    """What the user chose; ``center_languages`` None = on when every row has a language."""

    method: str = DEFAULT_PARAMS.method
    neighbors: int = DEFAULT_PARAMS.n_neighbors
    min_dist: float = DEFAULT_PARAMS.min_dist
    seed: int = DEFAULT_PARAMS.seed
    center_languages: bool | None = None

    def params(self, langs: Sequence) -> MapParams:
        unknown = _unknown_language(langs)
        if self.center_languages and unknown:
            raise E5DeskError(_NO_CENTRING)
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
    if params.center_languages and _unknown_language(langs):
        raise E5DeskError(_NO_CENTRING)
    notes: list[str] = []
    coords = project_vectors(vectors, langs, params, progress=progress, cancelled=cancelled,
                             notes=notes)
    analysis = analyse(coords, vectors, texts, langs, groups, params.center_languages)
    return SentenceMapResult(coords, analysis, params, notes)


def stages(params: MapParams) -> list[MapParams]:
    """The maps to compute, in the order they should appear: a PCA preview first (instant
    at any size), then the map asked for; only that map when it is the PCA map. Either
    may finish first: which one is drawn is the front end's rule (gui MapState.accepts)."""
    preview = MapParams("pca", center_languages=params.center_languages)
    return [params] if params == preview else [preview, params]


def project_vectors(vectors: np.ndarray, langs: Sequence, params: MapParams, *,
                    in_child: bool = False, progress: Progress | None = None,
                    cancelled: CancelCheck | None = None,
                    notes: list[str] | None = None) -> np.ndarray:
    """(n, 2) map coordinates (core.projection.project, remembered per input). ``in_child``:
    computed in a child process (core/process_job): cancel stops it at once and this
    process stays responsive. ``notes`` (a list) is told what a small map changed (PCA
    instead of the method, no centring)."""
    langs = list(langs)
    if notes is not None:
        notes += effective_params(len(vectors), params, langs)[1]
    run = project_in_process if in_child else project
    return run(vectors, params, langs, progress=progress, cancelled=cancelled)


def analyse(coords: np.ndarray, vectors: np.ndarray | None, texts: Sequence[str],
            langs: Sequence, groups: Sequence | None, centred: bool, *,
            levels: bool = False) -> MapAnalysis:
    """Clusters, their labels and the figures of a map (core.mapping.analyse_map); with
    ``levels`` also the labels by zoom level (``MapAnalysis.levels``, what the window
    draws)."""
    texts, langs = list(texts), list(langs)
    groups = None if groups is None else list(groups)
    analysis = analyse_map(coords, vectors, texts, langs, groups, centred)
    if levels:
        analysis.levels = label_levels(coords, analysis.labels, analysis.clusters, texts,
                                       langs)
    return analysis
