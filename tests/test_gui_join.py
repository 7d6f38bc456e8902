"""Catalogues opened together in the window join into one group space (File ▸ Join
translations across files), and a project reopens the way it was saved (pytest-qt,
offscreen; no model load)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import save_and_reopen, wait_idle  # noqa: E402

REAL = Path(__file__).parent / "data" / "real" / "catalogues"


def _count(window, text: str) -> int:
    return sum(t == text for t in window.session.combined.text)


def test_catalogues_join_in_the_window_and_in_projects(qtbot, window, settings, tmp_path,
                                                      autosave_folder):
    paths = [REAL / "es.po", REAL / "ja.po", REAL / "de.po"]
    window.session.open_files(paths)
    qtbot.waitUntil(lambda: len(window.session.sets) == 3, timeout=30_000)
    wait_idle(qtbot, window)
    assert window.join_action.isChecked()
    assert _count(window, "This field is required.") == 1  # once, not once per catalogue
    joined_rows = len(window.session.combined)
    window.join_action.trigger()  # files apart: the English msgid once per catalogue
    assert not window.session.join and _count(window, "This field is required.") == 3
    window.join_action.trigger()
    assert window.session.join and len(window.session.combined) == joined_rows
    other = save_and_reopen(qtbot, window, settings, tmp_path / "catalogues.e5desk",
                            open_timeout=30_000)
    assert other.session.join and other.join_action.isChecked()
    assert len(other.session.combined) == joined_rows
