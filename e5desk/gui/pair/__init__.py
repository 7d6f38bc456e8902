"""The pair view (issue 25): why two texts score as they do.

    state.py    Qt-free: the pair, its results, hover, colours, tooltips, labels;
                requests built from result-table rows
    compute.py  Qt-free: the background job (word alignment, score shares, calibrated band)
    canvas.py   the word boxes, link lines and tooltips
    view.py     the view: mode toggle, score line, what has no partner
    __init__    the window's dock and the "Why?" buttons that open it
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QPushButton

from e5desk.gui.pair.state import PairRequest, learner_request, suspect_request
from e5desk.gui.pair.view import PairView

__all__ = ["PairRequest", "PairView", "install_pair_view", "learner_request",
           "suspect_request", "why_button"]


def why_button(table, make_request: Callable[[int], PairRequest | None],
               emit: Callable[[PairRequest], None], text: str = "Why?") -> QPushButton:
    """A button that opens the selected row of ``table`` (a ResultTable) in the pair view;
    a double-click on a row does the same. ``make_request(model row)``."""
    button = QPushButton(text)
    button.setToolTip("Show the selected pair word by word: which word is which, what has no "
                      "partner, and each word's share of the score (or double-click a row)")

    def fire(index=None) -> None:
        rows = table.selected_view_rows() if index is None else [index.row()]
        if not rows:
            table.status.emit("Select a row first, then press Why?")
            return
        request = make_request(table.result_model.source_row(rows[0]))
        if request is None:
            table.status.emit("That row has no pair to show.")
            return
        emit(request)

    button.clicked.connect(lambda: fire())
    table.doubleClicked.connect(fire)
    return button


def install_pair_view(window) -> QDockWidget:
    """The pair view as a dock of ``window`` (tabbed with the sentence sets, hidden until a
    pair is opened), opened by every view's ``pair_requested`` signal."""
    view = PairView(window.session)
    dock = QDockWidget("Pair view", window)
    dock.setObjectName("Pair_view")
    dock.setWidget(view)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    sets_dock = getattr(window, "sets_dock", None)
    if sets_dock is not None:
        window.tabifyDockWidget(sets_dock, dock)
    dock.hide()
    dock.pair_view = view

    def open_pair(request: PairRequest) -> None:
        dock.show()
        dock.raise_()
        view.open(request)

    dock.open_pair = open_pair
    for source in ("workbench", "translations", "map_view"):
        signal = getattr(getattr(window, source, None), "pair_requested", None)
        if signal is not None:
            signal.connect(open_pair)
    view.status.connect(getattr(window, "show_status", lambda _m: None))
    return dock
