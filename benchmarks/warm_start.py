"""Start to first scores in the window, as a user sees it: a fresh process opens the window
on the embedded model and the bundled sample, and runs a query as soon as it can.

Run twice or more: the first run may embed the sample (cold cache), later runs find every
vector in the embedding cache (warm start). Prints a timeline per run (seconds from the
process start): window shown, model ready, sample loaded, first scores.

    python benchmarks/warm_start.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

SCRIPT = r"""
import json, sys, time
t0 = float(sys.argv[1])
marks = {"python started": time.time() - t0}
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from e5desk.gui.main_window import MainWindow
import e5desk.gui.projects
# its own autosave folder: an orphan left by a crashed window would offer recovery instead
e5desk.gui.projects.autosave_dir = lambda: __import__("pathlib").Path(sys.argv[3])
marks["window code imported"] = time.time() - t0
app = QApplication([])
window = MainWindow(QSettings(sys.argv[2], QSettings.Format.IniFormat))
window.confirm_close = False
window.show()
app.processEvents()
marks["window shown"] = time.time() - t0
window.start(sample=True)
window.workbench.set_queries("Where is the train station?")
asked = False
while window.workbench.ranking is None:
    app.processEvents()
    if window.session.encoder is not None and "model ready" not in marks:
        marks["model ready"] = time.time() - t0
    if window.session.combined is not None and "sample loaded" not in marks:
        marks["sample loaded"] = time.time() - t0
    if not asked and window.session.encoder is not None and window.session.combined is not None:
        window.workbench.run()
        asked = True
    time.sleep(0.005)
marks["first scores"] = time.time() - t0
print(json.dumps(marks))
window.session.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    ns = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, ns.runs + 1):
            import time

            proc = subprocess.run([sys.executable, "-c", SCRIPT, repr(time.time()),
                                   os.path.join(tmp, "settings.ini"), tmp],
                                  capture_output=True, text=True, env=env, timeout=900)
            if proc.returncode:
                sys.exit(proc.stderr[-3000:])
            marks = json.loads(proc.stdout.strip().splitlines()[-1])
            line = ", ".join(f"{k} {v:.2f}" for k, v in marks.items())
            print(f"run {run}: {line}   (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
