"""Tools ▸ Fine-tune…: the panel trains a tiny model on a tiny parallel set off the GUI
thread, draws the loss curve, fills the before/after table, "Use this model" switches the
window's model; cancel leaves no folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHRASES = ROOT / "resources" / "samples" / "phrases.csv"


@pytest.fixture
def parallel_csv(tmp_path) -> Path:
    with PHRASES.open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))[:24]
    path = tmp_path / "phrases.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "en", "de"])
        for r in records:
            w.writerow([r["group"], r["en"], r["de"]])
    return path


def _panel(window, monkeypatch, tmp_path, tiny_model):
    from e5desk.gui.finetune import FinetunePanel

    monkeypatch.setenv("E5DESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("E5DESK_DATA_DIR", str(tmp_path / "data"))
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    action = next(a for a in tools.actions() if a.text().startswith("&Fine-tune"))
    action.trigger()
    panel = window.finetune_panel
    assert isinstance(panel, FinetunePanel) and panel.isVisible()
    panel.base.addItem("tiny", str(tiny_model))
    panel.base.setCurrentIndex(panel.base.count() - 1)
    panel.batch_size.setValue(8)
    panel.held_out.setValue(0.25)
    return panel


def test_finetune_panel_trains_shows_curve_table_and_uses_the_model(
        qtbot, window, monkeypatch, tmp_path, tiny_model, parallel_csv):
    from gui_helpers import GuiThreadWatch
    from PySide6.QtCore import Qt

    panel = _panel(window, monkeypatch, tmp_path, tiny_model)
    out = tmp_path / "tuned"
    panel.data.setText(str(parallel_csv))
    panel.out.setText(str(out))
    watch = GuiThreadWatch()
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.job is not None and not panel.train_button.isEnabled()
    qtbot.waitUntil(lambda: panel.job is None, timeout=120_000)
    watch.timer.stop()
    assert panel.result is not None, panel.state.text()
    assert (out / "model.safetensors").is_file()
    assert not list(tmp_path.glob(".tuned.partial*"))
    # live loss curve
    xs, ys = panel.curve.getData()
    assert xs is not None and len(xs) >= 1 and all(y > 0 for y in ys)
    # before/after table: a ResultTable, so it exports like every other table
    model = panel.table.result_model
    assert model.headers == ["metric", "base model", "fine-tuned", "change (points)"]
    metrics = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert "MRR@10" in metrics and "P@1" in metrics
    written = panel.table.export_csv(tmp_path / "before_after.csv")
    assert written and "MRR@10" in written.read_text(encoding="utf-8")
    assert "held-out" in panel.verdict.text().lower()
    assert watch.worst < 1.0, f"GUI thread stalled {watch.worst:.2f} s"
    # use it: the session's model becomes the new folder
    assert panel.use_button.isEnabled()
    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.encoder is not None
                    and window.session.model_spec == str(out), timeout=60_000)
    assert window.session.encoder.source.path.resolve() == out.resolve()


def test_finetune_panel_cancel_leaves_no_folder(qtbot, window, monkeypatch, tmp_path,
                                                 tiny_model, parallel_csv):
    panel = _panel(window, monkeypatch, tmp_path, tiny_model)
    panel.epochs.setValue(50)  # far more than the test waits for
    out = tmp_path / "cancelled"
    panel.data.setText(str(parallel_csv))
    panel.out.setText(str(out))
    panel.start_training()
    qtbot.waitUntil(lambda: len(panel.losses) >= 1, timeout=120_000)
    panel.cancel()
    qtbot.waitUntil(lambda: panel.job is None, timeout=60_000)
    assert panel.result is None and "cancelled" in panel.state.text()
    assert panel.train_button.isEnabled() and not panel.use_button.isEnabled()
    assert not out.exists() and not list(tmp_path.glob(".cancelled*"))
