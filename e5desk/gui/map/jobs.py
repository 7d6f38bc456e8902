"""The map's background work, each step the map workflow's (workflows/map.py, the one the
CLI and the API run): its stages (a PCA preview at once; the method asked for, UMAP of a
sample above 200k rows then placed, in a child process with progress and cancel) and the
clusters with their labels by level. Which finished map is drawn is ``MapState.accepts``'s
rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from e5desk.core.mapping import closest_to_text, links_of, nearest_per_language
from e5desk.gui.map.state import METHODS, MapState
from e5desk.workflows import map as workflow

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
        params = self.state.wanted_params()
        for job in self.maps:
            job.cancel()
        self.state.begin_map()

        def shown(p):
            return lambda coords: self.state.accepts(p, params) and show(coords, asdict(p))

        def job(p):  # PCA here (instant, remembered), UMAP and t-SNE in a child process
            return lambda progress, cancelled: workflow.project_vectors(
                vectors, langs, p, in_child=p.method != "pca", progress=progress,
                cancelled=cancelled)

        self.maps = [self.runner.start("PCA preview" if p.method == "pca"
                                       else f"{METHODS[p.method]} map", job(p), shown(p))
                     for p in workflow.stages(params)]

    def analyse(self, coords: np.ndarray, vectors: np.ndarray, combined, centred: bool,
                done: Callable) -> None:
        """``done((coords, MapAnalysis, label levels))`` when the clusters are known."""
        texts, langs, groups = list(combined.text), list(combined.lang), list(combined.group)

        def analyse(progress, cancelled):
            analysis = workflow.analyse(coords, vectors, texts, langs, groups, centred,
                                        levels=True)
            return coords, analysis, analysis.levels

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
