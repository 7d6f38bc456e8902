"""The layering holds where it matters at run time: `e5desk map --plot` renders its PNG
without any e5desk.gui module, Qt widgets or pyqtgraph (checked in a fresh interpreter), and
the contracts in pyproject (import-linter) are kept."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
from e5desk.cli import main
code = main(sys.argv[1:])
bad = sorted(m for m in sys.modules if m.startswith(("e5desk.gui", "PySide6.QtWidgets",
                                                     "pyqtgraph")))
print(json.dumps({"code": code, "bad": bad}))
"""


def test_map_plot_imports_no_gui(tmp_path, tiny_model):
    out, png = tmp_path / "map.csv", tmp_path / "map.png"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, "map", "resources/samples/phrases.csv", "--method",
         "pca", "--model", str(tiny_model), "--out", str(out), "--plot", str(png)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "bad": []}
    assert png.stat().st_size > 10_000
    assert "clusters" in proc.stderr


def test_import_contracts_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e .[test])")
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "broken" not in proc.stdout.lower().replace("0 broken", "")


WINDOW_SCRIPT = """
import json, socket, sys, time, urllib.request
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from e5desk.gui.main_window import MainWindow

app = QApplication([])
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
window = MainWindow(settings)
window.confirm_close = False
window.show()

def wait(condition, timeout=240):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.01)

window.start(model=sys.argv[1], sample=True)
wait(lambda: window.session.encoder is not None and window.session.combined is not None)
window.workbench.set_queries("Where is the train station?")
window.workbench.run()
wait(lambda: window.workbench.ranking is not None)
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
window.serve_switch.port = port
window.serve_switch.action.setChecked(True)
body = json.dumps({"input": ["hello"], "model": "e5"}).encode()
def ask():
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/embeddings", body,
                                     {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=120))
reply = None
end = time.monotonic() + 120
while reply is None:
    app.processEvents()
    try:
        reply = ask()
    except OSError:
        if time.monotonic() > end:
            raise
        time.sleep(0.1)
window.serve_switch.action.setChecked(False)
loaded = sorted(m for m in ("torch", "transformers", "sentence_transformers")
                if m in sys.modules)
print(json.dumps({"loaded": loaded, "dim": len(reply["data"][0]["embedding"]),
                  "ranked": len(window.workbench.ranking.rows())}))
window.session.close()
"""


def test_window_process_imports_no_torch(tmp_path, tiny_model):
    """The window scores queries and serves its local API with the model in child
    processes: its own process never imports torch or transformers."""
    pytest.importorskip("pytestqt")
    proc = subprocess.run(
        [sys.executable, "-c", WINDOW_SCRIPT, str(tiny_model), str(tmp_path / "s.ini")],
        capture_output=True, text=True, timeout=400, cwd=ROOT,
        # Its own data folder: another window's autosave there would ask to be recovered.
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
             "E5DESK_DATA_DIR": str(tmp_path / "data")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["dim"] > 0 and result["ranked"] > 0
