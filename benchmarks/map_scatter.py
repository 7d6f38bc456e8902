"""Map drawing speed: frames per second while panning and zooming, offscreen.

N random points in 50 blobs, coloured by 9 categories (languages), in a 1000x700 plot. Each
frame changes the view range (pan and zoom around the map) and repaints the plot's
viewport synchronously; fps = frames / time. Two implementations, each in a fresh process:

- ``scatter``: what the map used before, one ``pg.ScatterPlotItem`` (pxMode, no pen) with
  a per-point list of 9 shared brushes;
- ``mapview``: the real ``MapView`` (``MapPoints``: pixmap-atlas fragments while at most
  ``budget`` points are in view, a density image of every point above that) over a Session
  holding the sentences, with no model and no background jobs. "represented" is the number
  of points the last pan/zoom frame drew (as points, or counted in the density image), over
  the points in its view.

Also reported: the time to put the map on screen (setData / ``_show``) and to find the
point under the mouse (hover).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/map_scatter.py [--sizes 200000 1000000]
        [--frames 30] [--only scatter|mapview]

Measured (2 shared CPU cores, load ~1.1, 1000x700 plot, 30 frames):
    scatter  200k: 14.1 fps, zoomed in 43.7 fps, shown in 1.36 s, first hover 0.50 s
    mapview  200k: 48.7 fps, zoomed in 271 fps, shown in 0.09 s, hover 0.1 ms
    scatter  1M:    2.9 fps, zoomed in 10.6 fps, shown in 6.31 s, first hover 2.63 s
    mapview  1M:   49.8 fps, zoomed in 92 fps,  shown in 0.42 s, hover 0.4 ms
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_points(n: int):
    import numpy as np

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 2)) * 10
    coords = (centres[rng.integers(0, 50, n)] + rng.normal(size=(n, 2))).astype(np.float32)
    codes = rng.integers(0, 9, n)
    return coords, codes


def frames(app, plot, count: int) -> float:
    """Pan and zoom through ``count`` view ranges, repainting each; frames per second."""
    import numpy as np

    vb = plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    plot.viewport().repaint()  # first frame (atlas, caches) outside the timing
    start = time.perf_counter()
    for i in range(count):
        zoom = 1 + 0.5 * np.sin(i / 5)  # 0.5x .. 1.5x the full view
        cx = (x0 + x1) / 2 + (x1 - x0) * 0.15 * np.cos(i / 7)
        cy = (y0 + y1) / 2 + (y1 - y0) * 0.15 * np.sin(i / 9)
        w, h = (x1 - x0) * zoom / 2, (y1 - y0) * zoom / 2
        vb.setRange(xRange=(cx - w, cx + w), yRange=(cy - h, cy + h), padding=0)
        plot.viewport().repaint()
    elapsed = time.perf_counter() - start
    app.processEvents()
    return count / elapsed


def zoomed_in(app, plot, count: int) -> float:
    """Frames per second with the view zoomed in on one blob (few points in view)."""
    vb = plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = (x1 - x0) / 40, (y1 - y0) / 40
    start = time.perf_counter()
    for i in range(count):
        d = w * 0.1 * (i % 10)
        vb.setRange(xRange=(cx - w + d, cx + w + d), yRange=(cy - h, cy + h), padding=0)
        plot.viewport().repaint()
    return count / (time.perf_counter() - start)


def run_scatter(n: int, count: int) -> dict:
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    coords, codes = make_points(n)
    plot = pg.PlotWidget()
    plot.setBackground("w")
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setAspectLocked(True)
    plot.resize(1000, 700)
    plot.show()
    app.processEvents()
    scatter = pg.ScatterPlotItem(size=8, pxMode=True, hoverable=True, pen=None)
    plot.addItem(scatter)
    start = time.perf_counter()
    scatter.setData(pos=coords, data=np.arange(n))
    brushes = [pg.mkBrush(c) for c in [pg.intColor(i, hues=9) for i in range(9)]]
    scatter.setBrush([brushes[c] for c in codes])
    show_s = time.perf_counter() - start
    plot.autoRange()
    app.processEvents()
    fps = frames(app, plot, count)
    fps_in = zoomed_in(app, plot, count)
    # pyqtgraph's hover builds a SpotItem per point on first use: time one lookup.
    start = time.perf_counter()
    scatter.pointsAt(pg.Point(*coords[0]))
    hover_s = time.perf_counter() - start
    return {"impl": "scatter", "n": n, "show_s": show_s, "fps": fps, "fps_zoomed_in": fps_in,
            "first_hover_s": hover_s}


def run_mapview(n: int, count: int) -> dict:
    import numpy as np
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from e5desk.core.data import SentenceSet
    from e5desk.core.mapping import MAP_ROLE
    from e5desk.gui.map import MapView
    from e5desk.gui.session import Session

    app = QApplication.instance() or QApplication([])
    coords, codes = make_points(n)
    langs = np.array(["ar", "de", "en", "es", "fr", "hi", "ja", "ru", "zh"], dtype=object)

    from PySide6.QtCore import QObject, Signal

    class NoJobs(QObject):
        running: list = []
        busy_changed = Signal(bool)

        def start(self, *args, **kwargs):  # the map's cluster analysis is not timed here
            return None

    session = Session(NoJobs())
    session.add_set(SentenceSet.build([f"sentence {i}" for i in range(n)], lang=langs[codes]))
    # The map view only checks that vectors exist; a zero-stride array costs no memory.
    workspace = session.workspace
    assert workspace.store_vectors(workspace.model_id, MAP_ROLE, None,
                                   np.broadcast_to(np.zeros(1, np.float32), (n, 384)))
    view = MapView(session)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    start = time.perf_counter()
    view._show(coords, {"method": "bench"})
    show_s = time.perf_counter() - start
    app.processEvents()
    view.plot.resize(1000, 700)
    view.plot.autoRange()
    app.processEvents()
    fps = frames(app, view.plot, count)
    item = view.scatter
    (vx0, vx1), (vy0, vy1) = view.plot.getViewBox().viewRange()
    in_view = int(((coords[:, 0] >= vx0) & (coords[:, 0] <= vx1)
                   & (coords[:, 1] >= vy0) & (coords[:, 1] <= vy1)).sum())
    if item.mode == "density":
        counts, extent = item.density_counts(), item._density[0]
        ex0, ey0 = extent.left(), extent.top()
        cx, cy = item._density[1], item._density[2]
        i0, i1 = int((vx0 - ex0) // cx), int((vx1 - ex0) // cx) + 1
        j0, j1 = int((vy0 - ey0) // cy), int((vy1 - ey0) // cy) + 1
        drawn = int(counts[max(j0, 0):j1, max(i0, 0):i1].sum())  # cells over the view
    else:
        drawn = len(item.drawn_rows())
    mode = item.mode
    # Hover over the zoomed-out view (density mode at 1M: searches all the points).
    start = time.perf_counter()
    for i in range(20):
        view.scatter.row_at(QPointF(*coords[i].astype(float)))
    hover_s = (time.perf_counter() - start) / 20
    fps_in = zoomed_in(app, view.plot, count)
    start = time.perf_counter()
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    selected = view.select_rect(-5, -5, 5, 5)
    select_s = time.perf_counter() - start
    return {"impl": "mapview", "n": n, "show_s": show_s, "fps": fps, "fps_zoomed_in": fps_in,
            "hover_s": hover_s, "drawn_last_frame": drawn, "in_view": in_view, "mode": mode,
            "rect_select_s": select_s, "selected": len(selected)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--only", choices=["scatter", "mapview"])
    ap.add_argument("--child", nargs=3, metavar=("IMPL", "N", "FRAMES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        impl, n, count = args.child[0], int(args.child[1]), int(args.child[2])
        result = (run_scatter if impl == "scatter" else run_mapview)(n, count)
        print(json.dumps(result))
        return
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} CPUs")
    for n in args.sizes:
        for impl in ("scatter", "mapview"):
            if args.only and impl != args.only:
                continue
            # The old scatter gets fewer frames at 1M: each one takes a third of a second.
            count = args.frames if impl == "mapview" or n <= 300_000 else max(5,
                                                                              args.frames // 4)
            out = subprocess.run([sys.executable, __file__, "--child", impl, str(n),
                                  str(count)], capture_output=True, text=True, check=False)
            if out.returncode:
                print(out.stderr[-2000:])
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            extra = (f"first hover {r['first_hover_s']:.2f} s" if impl == "scatter" else
                     f"hover lookup {r['hover_s'] * 1000:.1f} ms, "
                     f"last frame ({r['mode']}): {r['drawn_last_frame']:,} of the "
                     f"{r['in_view']:,} points in view represented, rectangle "
                     f"selection {r['rect_select_s'] * 1000:.0f} ms ({r['selected']:,} rows)")
            print(f"{impl:8s} n={n:>9,}: pan/zoom {r['fps']:6.1f} fps, zoomed in "
                  f"{r['fps_zoomed_in']:6.1f} fps, map shown in {r['show_s']:.2f} s; {extra}",
                  flush=True)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
