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
