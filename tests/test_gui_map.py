"""The map tab driven as a user would (pytest-qt, offscreen): colour by score to the query,
rectangle and lasso selection into the table and CSV, all translation links, and the
level-of-detail drawing that keeps big maps smooth."""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import GuiThreadWatch, start_with_sample, wait_idle  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def sample_map(qtbot, window):
    """The bundled sample (64 meanings x 9 languages) on a PCA map, clusters done."""
    start_with_sample(qtbot, window)
    view = window.map_view
    window.tabs.setCurrentWidget(view)
    view.method.setCurrentIndex(view.method.findData("pca"))
    view.compute_map()
    qtbot.waitUntil(lambda: bool(view.clusters), timeout=120_000)
    wait_idle(qtbot, window)
    assert view.coords.shape == (576, 2)
    return view


_clock = [0]


def send_mouse(widget, kind, pos: QPointF, button, buttons,
               modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A mouse event with a rising timestamp: presses a second apart are never taken for
    a double click (what QTest does too). Moves are paced: pyqtgraph drops moves that
    come less than 10 ms apart (its ``mouseRateLimit``)."""
    _clock[0] += 1000 if kind == QEvent.Type.MouseButtonPress else 10
    if kind == QEvent.Type.MouseMove:
        time.sleep(0.012)
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    event.setTimestamp(_clock[0])
    QApplication.sendEvent(widget, event)


def drag(plot, points: list[QPointF], modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A left-button drag through ``points`` (viewport pixels) on the plot."""
    viewport, left = plot.viewport(), Qt.MouseButton.LeftButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, points[0], left, left, modifiers)
    for p in points[1:]:
        send_mouse(viewport, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left,
                   modifiers)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, points[-1], left,
               Qt.MouseButton.NoButton, modifiers)


def line(a: QPointF, b: QPointF, steps: int = 12) -> list[QPointF]:
    return [a + (b - a) * (i / steps) for i in range(steps + 1)]


def to_map(view, pos: QPointF) -> tuple[float, float]:
    """Viewport pixel -> map coordinates."""
    p = view.view_box.mapSceneToView(view.plot.mapToScene(pos.toPoint()))
    return p.x(), p.y()


def to_pixels(view, x: float, y: float) -> QPointF:
    return QPointF(view.plot.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y))))


def draw_loop(view, corners, steps: int) -> np.ndarray:
    """Drag the mouse around the polygon ``corners`` (map coordinates), ``steps`` moves per
    side, back to its start; the corners as the plot placed them (map coordinates)."""
    pixels = [to_pixels(view, *c) for c in corners]
    outline = []
    for a, b in zip(pixels, pixels[1:] + pixels[:1], strict=True):
        outline += line(a, b, steps)[:-1]
    drag(view.plot, [*outline, outline[0]])
    return np.array([to_map(view, p) for p in pixels])


def test_colour_by_score_to_the_query(qtbot, window):
    view = sample_map(qtbot, window)
    combined = window.session.combined
    # What main_window wires: the map reads the Scores tab's query box.
    view.set_query_source(window.workbench.queries.toPlainText)
    view.colour.setCurrentIndex(view.colour.findData("score"))
    assert "Type a query" in view.score_caption.text()  # no query yet: says what to do
    assert view.legend.count() == 1

    window.workbench.set_queries("Where can I find the railway station?\nsecond query")
    watch = GuiThreadWatch()
    view.recolour()
    qtbot.waitUntil(lambda: view.scores is not None, timeout=60_000)
    wait_idle(qtbot, window)
    assert watch.worst < 0.25  # encoding ran in the background
    assert view.score_query == "Where can I find the railway station?"
    scores = view.scores
    assert scores.shape == (576,) and -100 <= scores.min() < scores.max() <= 100
    # The translations of the query's meaning (travel-01, 9 languages) score highest:
    # the best point is one, most of them are among the top 15, half of them above the
    # 97th percentile (E5 scores are compressed: unrelated sentences still score ~75).
    meaning = np.flatnonzero(combined.group == combined.group[0])
    assert len(meaning) == 9
    order = np.argsort(-scores)
    assert order[0] in meaning
    assert len(set(order[:15].tolist()) & set(meaning.tolist())) >= 6
    assert np.median(scores[meaning]) > np.percentile(scores, 97)
    # ... and get the darkest colours; the legend shows the score range.
    codes = view.colouring.row_codes
    assert codes[order[0]] == codes.max() and codes[order[-1]] == 0
    assert np.median(codes[meaning]) > np.percentile(codes, 90)
    assert f"{scores.max():.1f}" in view.score_caption.text()
    assert f"{scores.min():.1f}" in view.score_caption.text()
    assert view.score_bar.isVisible() and view.legend.count() == 5
    assert "score" in view._tip(0, 0, int(meaning[0]))

    # Hiding the lowest band hides those points (the legend toggles score bands).
    view.legend.item(4).setCheckState(Qt.CheckState.Unchecked)
    shown = view.shown_rows_mask()
    assert shown[meaning].all() and not shown.all()

    # Another query in the Scores tab: coming back to the map rescores.
    window.tabs.setCurrentWidget(window.workbench)
    window.workbench.set_queries("Ich habe Hunger.")
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.score_query == "Ich habe Hunger.", timeout=60_000)
    wait_idle(qtbot, window)
    assert not np.allclose(view.scores, scores)
    assert combined.lang[int(np.argmax(view.scores))] == "de"


def test_rectangle_and_lasso_selection_table_and_export(qtbot, window, tmp_path):
    view = sample_map(qtbot, window)
    combined = window.session.combined
    view.plot.autoRange()
    QApplication.processEvents()
    rect = view.plot.viewport().rect()
    start = QPointF(rect.width() * 0.3, rect.height() * 0.25)
    end = QPointF(rect.width() * 0.62, rect.height() * 0.7)
    changed = []
    view.changed.connect(lambda: changed.append(True))

    # (Map coordinates of the drag first: the table opening below shrinks the map.)
    (x0, y0), (x1, y1) = to_map(view, start), to_map(view, end)
    drag(view.plot, line(start, end), Qt.KeyboardModifier.ShiftModifier)  # Shift: rectangle
    assert view.selection_table.isVisible()
    x, y = view.coords[:, 0], view.coords[:, 1]
    inside = np.flatnonzero((x >= min(x0, x1)) & (x <= max(x0, x1))
                            & (y >= min(y0, y1)) & (y <= max(y0, y1)))
    rows = view.selected_rows()
    assert rows.dtype.kind == "i" and 5 < len(rows) < 576
    # The drag's ends, mapped back, can differ from the view's by a fraction of a pixel.
    assert len(np.setxor1d(rows, inside)) <= 2
    assert changed  # the project notes the selection, and saves it
    assert np.array_equal(view.state()[0]["selection"][0], rows)
    # The table lists exactly the selected sentences, with a count.
    model = view.selection_model
    assert model.rowCount() == len(rows)
    assert model.headers[:4] == ["text", "lang", "group", "set"]
    assert [model.columns[0][r] for r in model.rows] == list(combined.text[rows])
    assert f"{len(rows)} selected" in view.selection_count.text()
    # A plain drag still pans: the selection stays, the view moves.
    before = view.view_box.viewRange()
    middle = QPointF(view.plot.viewport().rect().center())
    drag(view.plot, line(middle, middle + QPointF(-80, -40)))
    assert view.view_box.viewRange() != before
    assert np.array_equal(view.selected_rows(), rows)

    # Export writes those rows.
    path = tmp_path / "selection.csv"
    view.export_selection(path)
    wait_idle(qtbot, window)
    with path.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:4] == ["text", "lang", "group", "set"]
    assert [r[0] for r in table[1:]] == list(combined.text[rows])
    assert [r[1] for r in table[1:]] == [str(v) for v in combined.lang[rows]]

    # Lasso tool: a triangle drawn on the map selects what lies inside it.
    view.set_tool("lasso")
    view.plot.autoRange()
    QApplication.processEvents()
    cx, cy = view.coords.mean(axis=0)
    sx, sy = view.coords.std(axis=0)
    corners = [(cx - sx, cy - sy), (cx + sx, cy - sy), (cx, cy + sx)]
    tri = draw_loop(view, corners, 10)
    lasso = view.selected_rows()
    # Inside the triangle by half-planes (an independent test from the even-odd rule).
    pts = view.coords.astype(np.float64)
    edges = [(tri[(i + 1) % 3] - tri[i], pts - tri[i]) for i in range(3)]
    cross = [d[0] * e[:, 1] - d[1] * e[:, 0] for d, e in edges]
    inside = np.flatnonzero(np.all(np.array(cross) >= 0, axis=0)
                            | np.all(np.array(cross) <= 0, axis=0))
    assert 5 < len(inside) < 576
    assert len(np.setxor1d(lasso, inside)) <= 3
    assert view.selection_model.rowCount() == len(lasso)

    view.clear_selection()
    assert len(view.selected_rows()) == 0 and view.selection_model.rowCount() == 0
    assert not view.export_button.isEnabled() and not view.selection_table.isVisible()


def test_all_translation_links(qtbot, window, monkeypatch):
    view = sample_map(qtbot, window)
    combined = window.session.combined
    assert "20,000" in view.all_links_box.toolTip()
    assert view.all_links.getData()[0] is None or len(view.all_links.getData()[0]) == 0
    view.all_links_box.setChecked(True)
    xs, ys = view.all_links.getData()
    assert len(xs) == 2 * (576 - 64)  # 64 meanings x 9 languages: 8 links each
    # Every line joins two translations of one meaning.
    where = {(float(a), float(b)): i for i, (a, b) in enumerate(view.coords)}
    ends = [where[(float(a), float(b))] for a, b in zip(xs, ys, strict=True)]
    assert all(combined.group[ends[i]] == combined.group[ends[i + 1]]
               for i in range(0, len(ends), 2))
    assert len({combined.group[e] for e in ends}) == 64

    # Hidden languages lose their lines.
    view.legend.item(0).setCheckState(Qt.CheckState.Unchecked)
    xs, _ = view.all_links.getData()
    assert len(xs) == 2 * (512 - 64)
    view.all_links_box.setChecked(False)
    assert len(view.all_links.getData()[0]) == 0

    # Above the cap the switch is off and draws nothing.
    monkeypatch.setattr("e5desk.gui.map.view.ALL_LINKS_MAX", 100)
    view._show(view.coords, view.map_params)
    wait_idle(qtbot, window)
    assert not view.all_links_box.isEnabled()
    view.all_links_box.setChecked(True)
    assert len(view.all_links.getData()[0]) == 0


def test_map_points_level_of_detail(qtbot):
    """Above its point budget a map draws a density image that counts every shown point;
    zoomed in it draws every point in view; hover/click find points in both modes."""
    import pyqtgraph as pg

    from e5desk.gui.map.points import MapPoints

    plot = pg.PlotWidget()
    plot.setBackground("w")
    qtbot.addWidget(plot)
    plot.resize(800, 600)
    plot.show()
    qtbot.waitExposed(plot)

    def repaint():
        QApplication.processEvents()
        plot.viewport().repaint()
    rng = np.random.default_rng(0)
    n = 5_000
    coords = rng.normal(size=(n, 2)).astype(np.float32)
    coords[0] = (4.5, -4.0)  # a lone outlier is represented too
    item = MapPoints(size=8, budget=300)
    item.set_points(coords)
    colours = [pg.mkColor(pg.intColor(i, 9)) for i in range(9)]
    item.set_colours(np.arange(n) % 9, colours)
    plot.addItem(item)
    plot.autoRange()
    repaint()
    # Zoomed out: the density image, and it counts every point exactly once.
    assert item.mode == "density" and len(item.drawn_rows()) == 0
    counts = item.density_counts()
    assert counts.sum() == n
    extent = item._density[0]
    assert all(extent.contains(QPointF(*c.astype(float))) for c in coords[:50])
    # ... painted on the plot: the outlier's cell is not background.
    image = plot.grab().toImage()

    def inked(x, y):
        p = plot.mapFromScene(item.mapToScene(QPointF(x, y)))
        return any(image.pixelColor(p.x() + dx, p.y() + dy).lightness() < 245
                   for dx in (-1, 0, 1) for dy in (-1, 0, 1))
    assert np.hypot(*(coords - 3.3).T).min() > 0.2
    assert inked(4.5, -4.0) and not inked(3.3, 3.3)
    # Hover and click work on the density image (full coordinates).
    row = 1
    assert item.row_at(QPointF(*coords[row].astype(float))) in {row} | set(
        np.flatnonzero(np.hypot(*(coords - coords[row]).T) < 0.05).tolist())
    assert item.row_at(QPointF(10.0, 10.0)) == -1
    clicked = []
    item.clicked.connect(clicked.append)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=plot.mapFromScene(item.mapToScene(QPointF(4.5, -4.0))))
    assert clicked == [0]
    # Hiding a colour takes its points out of the image.
    shown = np.ones(9, dtype=bool)
    shown[0] = False
    item.set_shown(shown)
    repaint()
    assert item.mode == "density" and item.density_counts().sum() == n - len(range(0, n, 9))
    item.set_shown(np.ones(9, dtype=bool))
    # Zoomed in on a small window: points, every one in view.
    plot.getViewBox().setRange(xRange=(-0.2, 0.2), yRange=(-0.2, 0.2), padding=0)
    repaint()
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    in_view = np.flatnonzero((coords[:, 0] >= x0) & (coords[:, 0] <= x1)
                             & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    assert item.mode == "points" and 0 < len(in_view) < 300
    assert set(in_view.tolist()) <= set(item.drawn_rows().tolist())
    assert item.density_counts() is None
    row = int(in_view[0])
    assert item.row_at(QPointF(*coords[row].astype(float))) == row


def test_stale_marking_and_fixed_language_colours(qtbot, window):
    from e5desk.core.mapping import language_colour

    view = sample_map(qtbot, window)
    assert not view.is_stale() and "Out of date" not in view.figures.text()
    # Cluster labels never overlap one another (decluttered at this zoom).
    qtbot.wait(200)
    boxes = [t.sceneBoundingRect() for t in view.cluster_text if t.isVisible()]
    assert boxes and all(not a.intersects(b) for i, a in enumerate(boxes)
                         for b in boxes[i + 1:])
    # Colours: each language has its fixed colour; the legend text keeps the text colour.
    names = view.legend_panel.keys()
    assert "en" in names and "de" in names
    assert "German (de) · 64" in [view.legend.item(i).text() for i in range(len(names))]
    for i, name in enumerate(names):
        assert view.scatter._colours[i].name() == language_colour(name)
        assert view.legend.item(i).foreground().style() == Qt.BrushStyle.NoBrush
    # Changing language separation marks the map out of date and recomputes it.
    view.center.setChecked(not view.center.isChecked())
    assert view.is_stale()
    assert "Out of date" in view.figures.text() or "Computing" in view.figures.text()
    qtbot.waitUntil(lambda: not view.is_stale() and view.analysis is not None and
                    view.analysis.labels is view.labels, timeout=60_000)
    wait_idle(qtbot, window)
    assert "Out of date" not in view.figures.text() and "clusters" in view.figures.text()
    assert view.compute.text() == "Compute map"


def test_map_owns_the_window_and_fits_small_screens(qtbot, window):
    from PySide6.QtCore import QRect

    view = sample_map(qtbot, window)
    window.resize(1600, 1000)
    qtbot.wait(100)
    plot = view.plot.size()
    share = plot.width() * plot.height() / (window.width() * window.height())
    assert share >= 0.6, (plot, share)
    assert not any(d.isVisible() for d in view._docks())  # stepped aside for the map
    # A selection lists beside the plot: the plot keeps its size.
    view.select_rect(-1e9, -1e9, 1e9, 1e9)
    qtbot.wait(50)
    assert view.plot.size() == plot and view.selection_table.isVisible()
    # Leaving the tab brings the docks back as they were.
    window.tabs.setCurrentWidget(window.workbench)
    assert window.sets_dock.isVisible()
    window.tabs.setCurrentWidget(view)

    # 1024 x 700: the window fits on every tab (docks shown on the others), and every
    # control of the map is on screen.
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        qtbot.wait(20)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, (window.tabs.tabText(i), hint)
    window.tabs.setCurrentWidget(view)
    window.resize(1024, 700)
    qtbot.wait(100)
    assert window.width() == 1024 and window.height() == 700
    frame = QRect(0, 0, window.width(), window.height())
    for w in (view.compute, view.search, view.full_screen_button, view.legend,
              view.export_button, view.neighbours, window.statusBar()):
        top_left = w.mapTo(window, w.rect().topLeft())
        rect = QRect(top_left, w.size())
        assert w.isVisible() and rect.width() > 20 and frame.contains(rect), (w, rect)
    # ... and the side panel's words are read whole, not scrolled or clipped: the figures
    # (clusters first), the selection hint (wrapped), the neighbours hint.
    view.clear_selection()
    qtbot.wait(50)
    figures, count = view.figures, view.selection_count
    box = figures.parentWidget().parentWidget()  # the figures' scroll area
    assert "clusters" in figures.text().split("<br>")[0]
    assert not box.verticalScrollBar().isVisible() and figures.height() <= box.height()
    one_line = count.fontMetrics().horizontalAdvance(count.text()) <= count.width()
    assert one_line or (count.wordWrap() and
                        count.heightForWidth(count.width()) <= count.height()), count.text()
    assert "Shift-drag a rectangle" in count.text()
    assert "Click a point" in view.neighbours.toPlainText()

    # Full-screen map and back.
    view.set_full_screen(True)
    assert window.isFullScreen() and not window.statusBar().isVisible()
    assert not window.tabs.tabBar().isVisible()
    view.set_full_screen(False)
    assert not window.isFullScreen() and window.statusBar().isVisible()


def test_map_state_round_trips_through_a_project_and_refuses_damage():
    """The tab's state, without Qt: what goes into a project comes back; unknown or
    damaged values keep the current ones or are dropped."""
    import subprocess
    import sys

    from e5desk.core.clusters import Cluster
    from e5desk.gui.map.state import MapState

    state = MapState(method="pca", center=False, colour="cluster", all_links=True,
                     contours=True, coords=np.arange(8, dtype=np.float32).reshape(4, 2),
                     map_params={"method": "pca", "center_languages": False},
                     labels=np.array([0, 0, 1, -1]), selected=2,
                     selection=np.array([1, 3], dtype=np.int64))
    state.clusters = [Cluster(0, 2, "rain", ["rain"], {"en": 1.0}, 0.0),
                      Cluster(1, 1, "file", ["file"], {"de": 1.0}, 0.0)]
    arrays, settings = state.to_project()
    assert settings == {"method": "pca", "center": False, "colour": "cluster",
                        "selected": 2, "all_links": True, "contours": True}
    assert arrays["clusters"][1] == {"labels": {"0": "rain", "1": "file"}}
    assert not state.is_stale()
    state.method = "umap"
    assert state.is_stale() and state.wanted_params().method == "umap"

    other = MapState()
    other.apply_settings(settings)
    saved = other.saved_map(arrays, 4)
    assert (other.method, other.center, other.colour, other.all_links, other.contours) == (
        "pca", False, "cluster", True, True)
    assert np.array_equal(saved.coords, state.coords) and saved.params == state.map_params
    assert saved.selected == 2 and saved.selection.tolist() == [1, 3]
    assert other.saved_map(arrays, 5) is None  # another set of sentences
    assert MapState().saved_map({}, 4) is None

    damaged = MapState(method="pca")
    damaged.apply_settings({"method": ["x"], "colour": "rainbow", "selected": "2"})
    assert (damaged.method, damaged.colour, damaged.center) == ("pca", "lang", True)
    arrays["selection"] = (np.array([1, 9]), {})
    saved = damaged.saved_map(arrays, 4)
    assert saved.selected is None and saved.selection is None

    # The selection: Ctrl-clicks join and leave it, in click order; it survives a new map
    # of the same rows only.
    clicks = MapState(selected=5, coords=np.zeros((8, 2)))
    assert clicks.extended(2).tolist() == [2, 5]  # the plainly clicked point joins
    clicks.selection = np.array([2, 5])
    assert clicks.pair_rows() == [5, 2]  # the first clicked first
    assert clicks.extended(5).tolist() == [2]
    assert clicks.kept_selection(8).tolist() == [2, 5] and not len(clicks.kept_selection(4))
    # The progressive map: the preview shows until the map comes, never after it.
    from e5desk.core.projection import MapParams

    prog = MapState(method="umap", center=True)
    umap, pca = MapParams("umap", center_languages=True), MapParams("pca",
                                                                     center_languages=True)
    prog.begin_map()
    assert prog.accepts(pca, umap) and prog.accepts(umap, umap)
    assert not prog.accepts(pca, umap)  # a late preview does not replace the map
    prog.method = "tsne"
    assert not prog.accepts(umap, umap)  # the controls ask for another map now

    # state.py and density.py import no Qt (checked in a fresh interpreter).
    code = ("import sys, e5desk.gui.map.state, e5desk.gui.map.density; "
            "print([m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_million_point_map_is_all_represented(qtbot):
    """1,000,000 points on the real map view, default point budget: zoomed out, the density
    image counts every point exactly once; zoomed in on a small region, the view draws
    points again and hovering one shows its sentence. (The way benchmarks/map_scatter.py
    builds it: no model, no background jobs, zero-stride stand-in vectors.)"""
    n = 1_000_000
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(50, 2)) * 10
    coords = (centres[rng.integers(0, 50, n)] + rng.normal(size=(n, 2))).astype(np.float32)
    langs = np.array(["ar", "de", "en", "es", "fr", "hi", "ja", "ru", "zh"], dtype=object)
    view = map_without_jobs(qtbot, coords, np.char.add("sentence ", np.arange(n).astype(str)),
                            langs[rng.integers(0, 9, n)])
    item, plot = view.scatter, view.plot
    assert item.budget < n  # the default budget: far fewer points than the map has
    assert "1,000,000 points" in view.lod_note.text()
    plot.autoRange()
    QApplication.processEvents()
    plot.viewport().repaint()
    # Zoomed out: a density image that counts every one of the million points once.
    assert item.mode == "density" and len(item.drawn_rows()) == 0
    counts = item.density_counts()
    assert counts.sum() == n
    assert (counts > 0).sum() > 10_000  # an image, not a few blobs

    # Zoomed in on a small region: points, each one in view drawn.
    cx, cy = (float(v) for v in centres[0])
    plot.getViewBox().setRange(xRange=(cx - 0.3, cx + 0.3), yRange=(cy - 0.3, cy + 0.3),
                               padding=0)
    QApplication.processEvents()
    plot.viewport().repaint()
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    in_view = np.flatnonzero((coords[:, 0] >= x0) & (coords[:, 0] <= x1)
                             & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    assert item.mode == "points" and item.density_counts() is None
    assert 0 < len(in_view) <= item.budget
    assert set(in_view.tolist()) <= set(item.drawn_rows().tolist())
    # Hover: the mouse over a point (a real move on the viewport) shows its sentence.
    row = int(in_view[np.argmin(np.hypot(coords[in_view, 0] - cx, coords[in_view, 1] - cy))])
    pixel = to_pixels(view, *coords[row].astype(float))
    viewport = plot.viewport()
    for p in (pixel + QPointF(30, 30), pixel):
        send_mouse(viewport, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton,
                   Qt.MouseButton.NoButton)
    QApplication.processEvents()
    assert item.row_at(QPointF(*coords[row].astype(float))) == row
    assert view.view_box.toolTip().startswith(f"sentence {row}\n")


def click(plot, pos: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    viewport, left = plot.viewport(), Qt.MouseButton.LeftButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, pos, left, left, modifiers)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, pos, left, Qt.MouseButton.NoButton,
               modifiers)


def test_two_points_open_the_pair_view(qtbot, window):
    """Click a point, Ctrl-click its translation: both are selected, Why? opens them (the
    first clicked on the left) in the pair view, word links and the calibrated band."""
    view = sample_map(qtbot, window)
    combined = window.session.combined
    dock, pair = window.pair_dock, window.pair_dock.pair_view
    why = view.selection_panel.why_button
    assert not why.isEnabled()
    view.plot.autoRange()
    QApplication.processEvents()
    pixels = np.array([[p.x(), p.y()] for p in (to_pixels(view, *c) for c in view.coords)])
    rect = view.plot.viewport().rect()

    def alone(r: int) -> bool:  # no other point within 6 px, and well inside the plot
        d = np.hypot(*(pixels - pixels[r]).T)
        x, y = pixels[r]
        return (np.sort(d)[1] > 6 and 20 < x < rect.width() - 20
                and 20 < y < rect.height() - 20)

    groups, langs = combined.group, combined.lang
    a, b = next((a, b) for a in range(len(combined)) if alone(a)
                for b in range(len(combined)) if b != a and groups[b] == groups[a]
                and langs[b] != langs[a] and alone(b))
    click(view.plot, QPointF(*pixels[a]))
    assert view.selected == a and len(view.selected_rows()) == 0
    click(view.plot, QPointF(*pixels[b]), Qt.KeyboardModifier.ControlModifier)
    assert view.selected_rows().tolist() == sorted([a, b])
    assert why.isEnabled() and "2 selected" in view.selection_count.text()
    with qtbot.waitSignal(pair.finished, timeout=120_000):
        why.click()
        assert dock.isVisible()
    request = pair.state.request
    assert (request.left, request.right) == (combined.text[a], combined.text[b])
    assert request.kind == "translation" and request.origin == "map"
    assert not pair.state.error and pair.state.alignment.links
    assert "from the map" in pair.title.text() and "unrelated pairs" in pair.headline.text()
    # a third point: Why? is off again, and pressing it anyway only says what to do
    QApplication.processEvents()  # (the pair view's dock took room from the map)
    pixels = np.array([[p.x(), p.y()] for p in (to_pixels(view, *c) for c in view.coords)])
    rect = view.plot.viewport().rect()
    c = next(r for r in range(len(combined)) if r not in (a, b) and alone(r))
    click(view.plot, QPointF(*pixels[c]), Qt.KeyboardModifier.ShiftModifier)
    assert len(view.selected_rows()) == 3 and not why.isEnabled()
    messages = []
    view.status.connect(messages.append)
    assert not view.explain_selection() and "exactly two" in messages[-1]
    # Shift-click it again: it leaves the selection
    click(view.plot, QPointF(*pixels[c]), Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_rows().tolist() == sorted([a, b]) and why.isEnabled()


def test_lasso_selects_and_greys_the_rest(qtbot, window):
    """A lasso drawn with the mouse selects the points inside it into the selection panel
    and every other point turns grey (in the drawn frame too)."""
    view = sample_map(qtbot, window)
    view.plot.autoRange()
    QApplication.processEvents()
    view.set_tool("lasso")
    lo, hi = view.coords.min(axis=0), view.coords.max(axis=0)
    # A square loop around the map's left half, drawn as a mouse path.
    pad = (hi - lo) * 0.01  # (inside the view: autoRange leaves a margin)
    corners = [(lo[0] - pad[0], lo[1] - pad[1]), ((lo[0] + hi[0]) / 2, lo[1] - pad[1]),
               ((lo[0] + hi[0]) / 2, hi[1] + pad[1]), (lo[0] - pad[0], hi[1] + pad[1])]
    square = draw_loop(view, corners, 8)
    rows = view.selected_rows()
    x = view.coords[:, 0]
    assert 50 < len(rows) < 526
    assert len(np.setxor1d(rows, np.flatnonzero(x <= square[1, 0]))) <= 2
    assert view.selection_model.rowCount() == len(rows)
    assert np.array_equal(view.scatter.grey_rows(), np.setdiff1d(np.arange(576), rows))
    # On screen: the unselected point farthest from any other is painted grey.
    view.plot.viewport().repaint()
    others = np.setdiff1d(np.arange(576), rows)
    gaps = np.array([np.sort(np.hypot(*(view.coords - view.coords[r]).T))[1] for r in others])
    lone = int(others[np.argmax(gaps)])
    pixel = to_pixels(view, *view.coords[lone].astype(float)).toPoint()
    colour = view.plot.grab().toImage().pixelColor(pixel)
    assert max(colour.red(), colour.green(), colour.blue()) - min(
        colour.red(), colour.green(), colour.blue()) < 12 and colour.red() > 150
    view.clear_selection()
    assert len(view.scatter.grey_rows()) == 0

    # Density contours: traced in the background when switched on, gone when off.
    view.controls.contours.setChecked(True)
    qtbot.waitUntil(lambda: len(view.contours.curves) > 0, timeout=30_000)
    assert view.state()[1]["contours"]
    xs, ys = view.contours.curves[0].getData()
    assert np.nanmin(xs) >= lo[0] - (hi - lo)[0] and np.nanmax(xs) <= hi[0] + (hi - lo)[0]
    view.controls.contours.setChecked(False)
    assert not view.contours.curves


def test_density_contours_ring_the_dense_places():
    """contour_lines: the densest level rings each of two blobs (its lines near their
    centres), lower levels lie further out; NaN rows separate the lines."""
    from e5desk.gui.map.density import CONTOUR_LEVELS, contour_lines

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 4.0]])
    xy = centres[rng.integers(0, 2, 20_000)] + rng.normal(size=(20_000, 2))
    levels = contour_lines(xy)
    assert len(levels) == CONTOUR_LEVELS
    top, bottom = levels[-1], levels[0]
    assert np.isnan(top).any()
    pts = top[~np.isnan(top[:, 0])]
    near = np.min([np.hypot(*(pts - c).T) for c in centres], axis=0)
    assert near.max() < 2.0  # the densest contour hugs the blob centres
    for c in centres:  # ... around each of them
        assert (np.hypot(*(pts - c).T) < 2.0).sum() > 5
    low = bottom[~np.isnan(bottom[:, 0])]
    assert np.min([np.hypot(*(low - c).T) for c in centres], axis=0).mean() > near.mean()



def map_without_jobs(qtbot, coords: np.ndarray, texts, langs):
    """A MapView over a Session holding these sentences and stand-in vectors, with no
    model and no background jobs (as benchmarks/map_scatter.py builds it)."""
    from PySide6.QtCore import QObject, Signal

    from e5desk.core.data import SentenceSet
    from e5desk.core.mapping import MAP_ROLE
    from e5desk.gui.map import MapView
    from e5desk.gui.session import Session

    class NoJobs(QObject):
        running: list = []
        busy_changed = Signal(bool)

        def start(self, *args, **kwargs):
            return None

    n = len(coords)
    session = Session(NoJobs())
    session.add_set(SentenceSet.build(np.asarray(texts, dtype=object),
                                      lang=np.asarray(langs, dtype=object)))
    workspace = session.workspace
    assert workspace.store_vectors(workspace.model_id, MAP_ROLE, None,
                                   np.broadcast_to(np.zeros(1, np.float32), (n, 384)))
    view = MapView(session)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    qtbot.waitExposed(view)
    view._show(coords, {"method": "test"})
    return view


def test_cluster_labels_come_by_level_as_you_zoom(qtbot):
    """30 topics on a map: zoomed out only a few labels of groups of clusters; zoomed in
    4x the finer clusters' labels join (more labels), none overlapping."""
    from e5desk.core.mapping import analyse_map, label_levels

    rng = np.random.default_rng(3)
    topics = ("river mountain forest desert ocean island valley glacier volcano meadow "
              "harbour bridge castle market garden library museum station airport stadium "
              "kitchen bakery theatre temple bicycle tractor violin trumpet lantern "
              "compass").split()
    centres = rng.uniform(-40, 40, size=(30, 2))
    which = np.repeat(np.arange(30), 80)
    coords = (centres[which] + rng.normal(size=(len(which), 2))).astype(np.float32)
    filler = ("near the", "beyond that", "around some", "under this", "behind our")
    texts = [f"{filler[r % 5]} {topics[t]}" for r, t in enumerate(which)]
    langs = ["en"] * len(texts)
    view = map_without_jobs(qtbot, coords, texts, langs)
    analysis = analyse_map(coords, None, texts, langs)
    levels = label_levels(coords, analysis.labels, analysis.clusters, texts, langs)
    assert len(analysis.clusters) >= 15 and len(levels) >= 2 and len(levels[0].clusters) == 5
    assert len(levels[-1].clusters) == len(analysis.clusters)
    view._show_clusters((coords, analysis, levels))
    labels = view.cluster_labels
    assert set(labels.item_level.tolist()) == set(range(len(levels)))
    # Each group's label is words of its own clusters: topics of the rows it covers; it
    # reads as its largest cluster and how many more it holds.
    fine_labels = {c.label for c in analysis.clusters}
    for group in levels[0].clusters:
        assert group.keywords and set(group.keywords) <= set(topics)
        name, _, more = group.label.partition(" (+")
        assert name in fine_labels and (not more or int(more.rstrip(")")) >= 1)

    # Labels by level: the whole map shows the coarsest level only.
    labels = view.cluster_labels
    assert labels.n_levels >= 2 and set(labels.item_level.tolist()) >= {0, labels.n_levels - 1}
    view.plot.autoRange()
    QApplication.processEvents()
    labels.declutter()
    zoomed_out = labels.shown_levels()
    assert zoomed_out and set(zoomed_out) == {0}
    shown_out = np.array([i.isVisible() for i in labels.items])
    # Zoomed in 4x on the label-densest part: finer labels join, none overlapping.
    fine = labels.anchors[labels.item_level == labels.n_levels - 1]
    centre = fine[np.argmin([np.hypot(*(fine - f).T).sum() for f in fine])]
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    w, h = (x1 - x0) / 4.2, (y1 - y0) / 4.2
    view.view_box.setRange(xRange=(centre[0] - w / 2, centre[0] + w / 2),
                           yRange=(centre[1] - h / 2, centre[1] + h / 2), padding=0)
    QApplication.processEvents()
    labels.declutter()
    zoomed_in = labels.shown_levels()
    assert max(zoomed_in) >= 1  # a finer level joined
    # More labels for this part of the map than it had zoomed out.
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    ax, ay = labels.anchors.T
    here = (ax >= x0) & (ax <= x1) & (ay >= y0) & (ay <= y1)
    assert len(zoomed_in) >= 2 and len(zoomed_in) > (shown_out & here).sum()
    boxes = [t.sceneBoundingRect() for t in labels.items if t.isVisible()]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
