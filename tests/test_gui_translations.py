"""Translations tab, evaluation: the bar chart follows the table and the chosen metric;
Prefix A/B evaluates with each prefix rule side by side (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import GuiThreadWatch, start_with_sample, wait_idle  # noqa: E402


def _sample_loaded(qtbot, window):
    start_with_sample(qtbot, window)
    return window.translations


def _table_column(model, header):
    col = model.headers.index(header)
    return np.array([model.columns[col][r] for r in range(len(model.columns[0]))], dtype=float)


def test_evaluation_bar_chart_one_bar_per_table_row(qtbot, window):
    view = _sample_loaded(qtbot, window)
    watch = GuiThreadWatch()
    view.evaluate()
    qtbot.waitUntil(lambda: view.eval_model.rowCount() > 0, timeout=60_000)
    wait_idle(qtbot, window)
    rows = view.eval_model.rowCount()
    assert rows == 1 + 9 * 8  # the mean, then every ordered pair of the 9 languages
    heights = np.asarray(view.eval_bars.opts["height"])
    assert len(heights) == rows and len(view.eval_bars.opts["x"]) == rows
    view.eval_metric.setCurrentText("P@1")
    assert np.allclose(view.eval_bars.opts["height"], _table_column(view.eval_model, "P@1"))
    view.eval_metric.setCurrentText("MRR@10")
    mrr = np.asarray(view.eval_bars.opts["height"])
    assert np.allclose(mrr, _table_column(view.eval_model, "MRR@10"))
    assert 0.8 < mrr[0] <= 1 and mrr.min() > 0.5  # E5 finds translations in all pairs
    names = list(view.eval_model.columns[0])
    ticks = view.eval_plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == names[::7]  # 12 names at most, so they do not overlap
    assert view.bar_at(3.1, mrr[3] / 2) == 3 and view.bar_at(3.5, 0.1) is None
    assert view.bar_at(3.0, mrr[3] + 0.05) is None
    assert view.eval_plot.getAxis("left").labelText == "MRR@10"
    print(f"longest GUI-thread stall: {watch.worst * 1000:.0f} ms")
    assert watch.worst < 0.5  # the embedding and scoring ran off the GUI thread


def test_prefix_ab_gives_three_rules_side_by_side(qtbot, window):
    view = _sample_loaded(qtbot, window)
    view.prefix_ab.setChecked(True)
    view.eval_metric.setCurrentText("P@1")
    view.evaluate()
    qtbot.waitUntil(lambda: view.eval_model.rowCount() > 0, timeout=90_000)
    wait_idle(qtbot, window)
    names = list(view.eval_model.columns[0])
    # as the Scores tab names the rules, in the rows of `e5desk eval --prefixes`
    assert names == ["all pairs (retrieval)", "all pairs (symmetric)", "all pairs (none)"]
    p1 = _table_column(view.eval_model, "P@1")
    assert np.allclose(view.eval_bars.opts["height"], p1)
    assert (p1 > 0.8).all()
    # Three bars, each with its value written on it.
    assert [label.toPlainText() for label in view._bar_labels] == [f"{v:.3f}" for v in p1]
    # Each rule embedded the sentences in its own role: the figures are not all the same.
    assert len(set(np.round(_table_column(view.eval_model, "MRR@10"), 6))) > 1
    # One sentence says whether the model cards' rule (symmetric here) is the best.
    assert not view.eval_finding.isHidden() and "model cards" in view.eval_finding.text()
