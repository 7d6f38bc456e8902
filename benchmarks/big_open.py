"""Opening big sets (issue 28): texts.txt + v.npy (1M x 384, from benchmarks/big_map.py data)
read and checked by core (``load_with_vectors``), then the same pair opened in the window
(offscreen) until the set is shown and the event loop is idle, with a profile of where the
time goes (cProfile, top functions by cumulative time).

    .venv/bin/python benchmarks/big_open.py --data /tmp/e5big [--profile 25] [--no-window]
    .venv/bin/python benchmarks/big_open.py --batch /tmp/e5big/batch   # a batch folder
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from pathlib import Path


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.1f} {b:.1f} {c:.1f}"


def core_open(folder: Path) -> None:
    from e5desk.core.vectors_import import load_with_vectors

    t = time.perf_counter()
    imported = load_with_vectors(folder / "texts.txt", folder / "v.npy")
    print(f"core: texts + vectors read and checked, {len(imported.vectors):,} rows: "
          f"{time.perf_counter() - t:.2f} s ({load()})", flush=True)


def window_open(folder: Path, top: int, batch: Path | None = None) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from e5desk.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    settings = QSettings(str(folder / "bench-settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    profile = cProfile.Profile()
    t = time.perf_counter()
    profile.enable()
    if batch is not None:  # an `e5desk batch` output folder
        window.open_batch(batch)
    else:
        window.open_with_vectors(folder / "texts.txt", folder / "v.npy")
    while window.session.imported is None and time.perf_counter() - t < 600:
        app.processEvents()
        time.sleep(0.005)
    shown = time.perf_counter() - t
    for _ in range(20):  # whatever the signals queued (tables, panels)
        app.processEvents()
    idle = time.perf_counter() - t
    profile.disable()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"window: set imported after {shown:.2f} s, idle after {idle:.2f} s, peak RSS "
          f"{rss:,.0f} MB ({load()})", flush=True)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)
    sys.stdout.flush()
    os._exit(0)  # closing would save the set as a project first (not what is measured)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/e5big"))
    ap.add_argument("--profile", type=int, default=25, help="profile rows to print")
    ap.add_argument("--no-window", action="store_true")
    ap.add_argument("--batch", type=Path, default=None,
                    help="open this `e5desk batch` output folder in the window instead")
    args = ap.parse_args()
    if args.batch is None:
        core_open(args.data)
    if not args.no_window:
        window_open(args.data, args.profile, args.batch)


if __name__ == "__main__":
    main()
