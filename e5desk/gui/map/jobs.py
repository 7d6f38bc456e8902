"""The map's background work: the map itself (a PCA preview at once; the method asked for,
UMAP of a sample above 200k rows then placed, in a child process with progress and
cancel) and the clusters with their labels by level. Which finished map is drawn is
``MapState.accepts``'s rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from e5desk.core.mapping import (
    analyse_map,
    closest_to_text,
    label_levels,
    links_of,
    nearest_per_language,
)
from e5desk.gui.map.state import METHODS, MapState

NEIGHBOURS_NOW = 200_000  # rows; a click on a bigger map finds its neighbours in a job


class MapJobs:
    def __init__(self, runner, state: MapState) -> None:
        self.runner, self.state = runner, state
        self.maps: list = []  # running projection jobs (cancelled by a newer map)

    def computing(self) -> str | None:
        """The name of the map being computed, if one is."""
        if any(j in self.runner.running for j in self.maps):
            return METHODS[self.state.wanted_params().method]
        return None

    def project(self, vectors: np.ndarray, langs: list, show: Callable) -> None:
        """``show(coords, params dict)`` for the preview and the map as they come (either
        may finish first); a newer map cancels both."""
        from e5desk.core.projection import MapParams, project, project_in_process

        params = self.state.wanted_params()
        for job in self.maps:
            job.cancel()
        self.state.begin_map()

        def shown(p):
            return lambda coords: self.state.accepts(p, params) and show(coords, asdict(p))

        preview = MapParams("pca", center_languages=params.center_languages)
        self.maps = [self.runner.start(
            "PCA preview", lambda p, c: project(vectors, preview, langs), shown(preview))]
        if params.method != "pca":
            self.maps.append(self.runner.start(
                f"{METHODS[params.method]} map",
                lambda p, c: project_in_process(vectors, params, langs, progress=p,
                                                cancelled=c), shown(params)))

    def analyse(self, coords: np.ndarray, vectors: np.ndarray, combined, centred: bool,
                done: Callable) -> None:
        """``done((coords, MapAnalysis, label levels))`` when the clusters are known."""
        texts, langs, groups = list(combined.text), list(combined.lang), list(combined.group)

        def analyse(progress, cancelled):
            analysis = analyse_map(coords, vectors, texts, langs, groups, centred)
            levels = label_levels(coords, analysis.labels, analysis.clusters, texts, langs)
            return coords, analysis, levels

        self.runner.start("Clusters", analyse, done)

    def find(self, encoder, text: str, vectors: np.ndarray, done: Callable) -> None:
        """``done(rows)``: the 10 rows closest to the typed ``text``, best first."""
        self.runner.start("Finding", lambda p, c: closest_to_text(encoder, text, vectors,
                                                                  k=10), done)

    def neighbours(self, vectors: np.ndarray, coords: np.ndarray, row: int, groups, coded,
                   done: Callable) -> None:
        """``done((neighbours, link segments))``: the clicked row's nearest sentence in
        every language and lines to its translations; at once on maps of up to
        ``NEIGHBOURS_NOW`` rows, in the background above (a product over every row and a
        pass over every group: ~150 ms at 1M, the GUI stays free)."""
        def find(progress=None, cancelled=None):
            return (nearest_per_language(vectors, row, None, groups, coded),
                    links_of(row, coords, groups))

        if len(vectors) <= NEIGHBOURS_NOW:
            done(find())
        else:
            self.runner.start("Neighbours", find, done)
