"""The map tab: sentences placed by meaning (PCA preview, then UMAP), coloured by language,
cluster, set or score to the current query; hover for the sentence, click for its nearest
neighbours in every language and lines to its translations; clusters labelled; rectangle
or lasso selection into a table that exports to CSV.

    state.py      what the tab shows (controls, map, clusters, selection) <-> projects
    points.py     MapPoints: every point in one item, a density image above a budget
    tools.py      pan/zoom, rectangle and lasso drags
    legend.py     colours and the legend (check an entry to show its points)
    selection.py  the neighbours and selection panels
    window.py     the map owns the window (docks aside, full screen)
    view.py       MapView: the widgets wired to the session

The maths (projection, clusters, links, nearest sentences, scores) is in core.mapping.
"""

from __future__ import annotations

__all__ = ["MapView"]


def __getattr__(name: str):
    # Lazily, so that the Qt-free parts (state.py) import without Qt.
    if name == "MapView":
        from e5desk.gui.map.view import MapView

        return MapView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
