"""The map's colours: by language, cluster, set or score to the query, put on the points
and into the legend; the legend's check boxes say which points are shown (and selectable).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np

from e5desk.core.mapping import MAP_ROLE, cluster_categories, factorize, language_names, score_scale
from e5desk.gui.map.legend import (
    SCORE_BANDS,
    SCORE_LEVELS,
    Colouring,
    category_colouring,
    plain_colouring,
    score_colouring,
)
from e5desk.gui.map.state import MapState


class MapColouring:
    """Colours ``scatter`` and fills ``legend`` as ``state.colour`` says; ``applied`` is
    called after each change of colours or of the shown entries (links follow them)."""

    def __init__(self, state: MapState, session, scatter, legend, query_scores,
                 applied: Callable[[], None]) -> None:
        self.state, self.session, self.scatter, self.legend = state, session, scatter, legend
        self.query_scores, self.applied = query_scores, applied
        self.row_codes = np.zeros(0, dtype=np.int64)  # colour code per row
        self._langs_for = None
        self._langs = np.zeros(0, dtype=object)
        self._lang_codes = None  # factorize(lang_names()) of that set
        legend.shown_changed.connect(self._legend_toggled)

    def lang_names(self) -> np.ndarray:
        combined = self.session.combined
        if self._langs_for is not combined:
            self._langs_for = combined
            self._langs = language_names(combined.lang)
            self._lang_codes = None
        return self._langs

    def lang_codes(self) -> tuple[list[str], np.ndarray]:
        """Sorted language names and each row's index among them (kept per set)."""
        names = self.lang_names()
        if self._lang_codes is None:
            self._lang_codes = factorize(names)
        return self._lang_codes

    def recolour(self) -> None:
        if self.state.coords is None or self.session.combined is None:
            return
        key = self.state.colour
        if key == "score":
            self._colour_by_score()
            return
        self.legend.hide_scale()
        if key == "cluster" and self.state.labels is not None:
            names, codes = cluster_categories(self.state.labels)
        elif key == "set":
            names, codes = factorize(self.session.combined.set_name)
        else:
            names, codes = self.lang_codes()
        self.apply(category_colouring(names, codes, key in ("lang", None)))

    def apply(self, colouring: Colouring) -> None:
        self.scatter.set_colours(colouring.codes, colouring.colours, on_top=colouring.on_top)
        self.row_codes = colouring.codes
        self.legend.fill(colouring)
        self.applied()

    def _legend_toggled(self, shown_codes: np.ndarray) -> None:
        self.scatter.set_shown(shown_codes)
        self.applied()

    def tip(self, row) -> str:
        """The hover text of a point: its sentence, language and set (and score)."""
        c, scores = self.session.combined, self.query_scores.scores
        if c is None or row is None:
            return ""
        i = int(row)
        tip = f"{c.text[i]}\n[{c.lang[i] or '?'}] {c.set_name[i]}"
        if scores is not None and len(scores) == len(c) and self.state.colour == "score":
            tip += f"\nscore {scores[i]:.1f}"
        return tip

    def shown_rows_mask(self) -> np.ndarray:
        """True for rows whose legend entry is checked (drawn, selectable)."""
        coords = self.state.coords
        if coords is None:
            return np.zeros(0, dtype=bool)
        shown = self.legend.shown_codes
        if len(self.row_codes) != len(coords) or not len(shown):
            return np.ones(len(coords), dtype=bool)
        return shown[self.row_codes]

    # -- colour by score to the query ---------------------------------------------------
    def _colour_by_score(self) -> None:
        query = self.query_scores.query_text()
        vectors = self.session.vectors(MAP_ROLE)
        encoder = self.session.encoder
        if query is None or vectors is None or encoder is None:
            self.legend.show_hint(
                "Type a query in the Scores tab: the map colours every sentence by its "
                "score to it." if query is None else "Load a model first.")
            self.apply(plain_colouring(len(self.state.coords), "no query yet"))
            return
        status = self.query_scores.status(query, vectors)
        if status == "ready":
            self.apply_scores()
        elif status is None:
            self.legend.show_caption(f"Scoring “{html.escape(query)}”…")
            self.query_scores.start(query, vectors, encoder)

    def apply_scores(self) -> None:
        scale = score_scale(self.query_scores.scores, SCORE_LEVELS, SCORE_BANDS)
        colouring = score_colouring(scale)
        self.apply(colouring)
        self.legend.show_scale(
            f"Score to “{html.escape(self.query_scores.query or '')}” (cos × 100): "
            f"{scale.lo:.1f} … {scale.hi:.1f}", colouring.colours, scale.lo, scale.hi)
