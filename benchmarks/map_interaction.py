"""Map interaction at size: hover and click latency and pan frames per second on the real
map tab (``MapView``) with 100k and 1M points, offscreen.

N points in 50 blobs with 9 languages, unit random 384-d vectors (so a click really
searches every row for its nearest sentence per language), no model, no background jobs.
The view is 1400x900. Measured, each in a fresh process:

- hover: a mouse move over a point sent to the plot's viewport, until the tooltip text is
  set (median and max of 20 moves, 12 ms apart: pyqtgraph drops faster moves), zoomed
  out (density image: the point is searched among all of them) and zoomed in (points);
- click: press and release on a point: how long the GUI thread was busy with it, and
  how long until the neighbours panel and the translation links were drawn (the same
  up to 200k rows; above, they are found in a background job) (median, max of 10);
- pan fps: the view moved by 2% of its width per frame, each frame repainted
  synchronously; zoomed out (the whole map, every point counted in the density image),
  4x zoomed, and zoomed out with half the map selected (the rest grey) and contours on.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/map_interaction.py [--sizes N ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build(n: int):
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from e5desk.core.data import SentenceSet
    from e5desk.core.mapping import MAP_ROLE
    from e5desk.gui.map import MapView
    from e5desk.gui.session import Session
    from e5desk.gui.workers import JobRunner

    class OnlyNeighbours(JobRunner):  # the map's clusters and contours are not timed here
        def start(self, name, *args, **kwargs):
            return super().start(name, *args, **kwargs) if name == "Neighbours" else None

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 2)) * 10
    coords = (centres[rng.integers(0, 50, n)] + rng.normal(size=(n, 2))).astype(np.float32)
    vectors = np.empty((n, 384), dtype=np.float32)
    for s in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - s), 384), dtype=np.float32)
        vectors[s:s + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    langs = np.array(["ar", "de", "en", "es", "fr", "hi", "ja", "ru", "zh"], dtype=object)
    session = Session(OnlyNeighbours())
    session.add_set(SentenceSet.build(
        np.char.add("sentence ", np.arange(n).astype(str)).astype(object),
        lang=langs[rng.integers(0, 9, n)], group=np.arange(n) // 9))
    ws = session.workspace
    ws.store_vectors(ws.model_id, MAP_ROLE, None, vectors)
    view = MapView(session)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    view._show(coords, {"method": "bench"})
    view.plot.autoRange()
    app.processEvents()
    view.plot.viewport().repaint()
    return app, view, coords


def pixel(view, x: float, y: float):
    from PySide6.QtCore import QPointF

    return QPointF(view.plot.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y))))


def send(view, kind, pos, buttons) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    vp = view.plot.viewport()
    button = Qt.MouseButton.NoButton if kind.name == "MouseMove" else Qt.MouseButton.LeftButton
    ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    ev.setTimestamp(int(time.monotonic() * 1000))
    QApplication.sendEvent(vp, ev)


def hover_ms(view, coords, rows) -> list[float]:
    from PySide6.QtCore import QEvent, QPointF, Qt

    out = []
    for r in rows:
        send(view, QEvent.Type.MouseMove, pixel(view, *coords[r]) + QPointF(40, 40),
             Qt.MouseButton.NoButton)
        time.sleep(0.012)
        view.view_box.setToolTip("")
        start = time.perf_counter()
        send(view, QEvent.Type.MouseMove, pixel(view, *coords[r]), Qt.MouseButton.NoButton)
        if view.view_box.toolTip():
            out.append((time.perf_counter() - start) * 1000)
        time.sleep(0.012)
    return out


def click_ms(view, coords, rows) -> tuple[list[float], list[float]]:
    """(ms the GUI thread was busy with the click, ms until its neighbours were shown)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtWidgets import QApplication

    busy, shown, left = [], [], Qt.MouseButton.LeftButton
    for r in rows:
        time.sleep(0.6)  # never a double click
        view.selected = None
        view.neighbours.setHtml("")
        p = pixel(view, *coords[r])
        start = time.perf_counter()
        send(view, QEvent.Type.MouseButtonPress, p, left)
        send(view, QEvent.Type.MouseButtonRelease, p, Qt.MouseButton.NoButton)
        if view.selected is None:
            continue
        busy.append((time.perf_counter() - start) * 1000)
        row = view.selected
        while f"sentence {row} " not in view.neighbours.toPlainText() + " ":
            QApplication.processEvents()
            time.sleep(0.001)
        shown.append((time.perf_counter() - start) * 1000)
    return busy, shown


def pan_fps(view, frames: int = 40) -> float:
    vb = view.view_box
    start = time.perf_counter()
    for i in range(frames):
        (x0, x1), _ = vb.viewRange()
        vb.translateBy(x=(x1 - x0) * 0.02 * (1 if (i // 10) % 2 == 0 else -1))
        view.plot.viewport().repaint()
    return frames / (time.perf_counter() - start)


def stats(values: list[float]) -> dict:
    import numpy as np

    return {"median": float(np.median(values)), "max": float(np.max(values)),
            "n": len(values)} if values else {}


def run(n: int) -> dict:
    import numpy as np

    app, view, coords = build(n)
    out = {"n": n}
    rng = np.random.default_rng(1)
    rows = rng.choice(n, 20, replace=False)
    out["hover_out_ms"] = stats(hover_ms(view, coords, rows))
    out["pan_fps_out"] = pan_fps(view)
    counts = view.scatter.density_counts()
    out["represented"] = int(counts.sum()) if counts is not None else None
    busy, shown = click_ms(view, coords, rows[:10])
    out["click_out_busy_ms"], out["click_out_shown_ms"] = stats(busy), stats(shown)
    # 4x zoomed in on the map's middle.
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 8, (y1 - y0) / 8
    view.view_box.setRange(xRange=(cx - w, cx + w), yRange=(cy - h, cy + h), padding=0)
    app.processEvents()
    view.plot.viewport().repaint()
    inside = np.flatnonzero((np.abs(coords[:, 0] - cx) < w * 0.8)
                            & (np.abs(coords[:, 1] - cy) < h * 0.8))
    near = rng.choice(inside, 20, replace=False)
    out["mode_zoomed"] = view.scatter.mode
    out["hover_in_ms"] = stats(hover_ms(view, coords, near))
    busy, shown = click_ms(view, coords, near[:10])
    out["click_in_busy_ms"], out["click_in_shown_ms"] = stats(busy), stats(shown)
    out["pan_fps_in"] = pan_fps(view)
    # Zoomed out with half the map selected (the rest grey) and contours drawn.
    view.plot.autoRange()
    view.select_rect(float(coords[:, 0].min()) - 1, float(coords[:, 1].min()) - 1,
                     float(np.median(coords[:, 0])), float(coords[:, 1].max()) + 1)
    from e5desk.gui.map.density import contour_lines

    start = time.perf_counter()
    lines = contour_lines(coords)
    out["contours_s"] = time.perf_counter() - start
    view.contours.coords = coords
    view.contours._draw((coords, lines))
    app.processEvents()
    view.plot.viewport().repaint()
    out["pan_fps_selected_contours"] = pan_fps(view)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one)))
        return
    for n in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n)],
                              capture_output=True, text=True)
        line = proc.stdout.strip().splitlines()[-1:] or [proc.stderr[-2000:]]
        print(line[0], flush=True)


if __name__ == "__main__":
    main()
