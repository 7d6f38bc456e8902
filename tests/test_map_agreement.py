"""One map, three entry points: `e5desk map` (CSV), its PNG and the window give the same
coordinates, clusters and cluster labels for the same catalogues and settings (issue 12's
goal for the map pipeline in core)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import wait_idle  # noqa: E402

from e5desk.cli import main  # noqa: E402

CATALOGUES = [Path(__file__).parent / "data" / "real" / "catalogues" / f"{lang}.po"
              for lang in ("es", "ja")]


def test_cli_png_and_window_draw_the_same_map(qtbot, window, tiny_model, tmp_path, capsys):
    out, png = tmp_path / "map.csv", tmp_path / "map.png"
    assert main(["map", *map(str, CATALOGUES), "--model", str(tiny_model), "--out", str(out),
                 "--plot", str(png)]) == 0
    cli_summary = capsys.readouterr().err
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cli_coords = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    cli_clusters = np.array([int(r["cluster"]) for r in rows])
    cli_labels = {int(r["cluster"]): r["cluster_label"] for r in rows}
    assert png.stat().st_size > 10_000

    window.start(model=str(tiny_model), files=CATALOGUES, sample=False)
    qtbot.waitUntil(lambda: window.session.encoder is not None
                    and len(window.session.sets) == 2, timeout=120_000)
    wait_idle(qtbot, window)
    view = window.map_view
    window.tabs.setCurrentWidget(view)
    assert view.method.currentData() == "umap"  # the CLI's default too
    view.compute_map()
    qtbot.waitUntil(lambda: view.analysis is not None and view.analysis.labels is view.labels,
                    timeout=180_000)
    wait_idle(qtbot, window)

    assert list(window.session.combined.text) == [r["text"] for r in rows]
    np.testing.assert_allclose(view.coords, cli_coords, atol=2e-4)  # CSV keeps 5 decimals
    assert np.array_equal(view.labels, cli_clusters)
    assert {c.id: c.label for c in view.clusters} == {
        c: label for c, label in cli_labels.items() if c >= 0}
    assert len(view.clusters) >= 2 and all(c.label for c in view.clusters)
    shown = f"{len(view.clusters)} clusters"
    assert shown in cli_summary and shown in view.figures.text()
