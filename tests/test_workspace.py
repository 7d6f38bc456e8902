"""The window's state without Qt: core.workspace.Workspace on the real catalogues, and the
GUI session's embedding hand-off (two callers of one running embedding both get it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from e5desk.core.data import load_sentence_set
from e5desk.core.store.project import load_project, save_project
from e5desk.core.workspace import Workspace

REAL = Path(__file__).parent / "data" / "real" / "catalogues"


@pytest.fixture(scope="module")
def catalogues():
    return [load_sentence_set(REAL / f"{lang}.po").sentence_set for lang in ("es", "ja")]


def _workspace(catalogues) -> Workspace:
    ws = Workspace()
    for s in catalogues:
        ws.add_set(s)
    return ws


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_join_toggle_changes_rows_and_drops_their_vectors(catalogues):
    ws = _workspace(catalogues)
    joined = len(ws.combined)
    assert list(ws.combined.text).count("This field is required.") == 1
    ws.set_model("m")
    assert ws.store_vectors("m", "query", None, _vectors(joined))
    assert not ws.set_join(True)  # unchanged: nothing dropped
    assert ws.vectors("query") is not None
    assert ws.set_join(False)
    assert len(ws.combined) > joined and ws.vectors("query") is None


def test_vectors_belong_to_their_model_and_rows(catalogues):
    ws = _workspace(catalogues)
    n = len(ws.combined)
    ws.set_model("a")
    assert not ws.store_vectors("b", "query", None, _vectors(n))  # another model's job
    assert not ws.store_vectors("a", "query", None, _vectors(n - 1))  # rows changed since
    assert ws.store_vectors("a", "query", None, _vectors(n))
    assert ws.vectors("passage") is None
    ws.set_model("b")
    assert ws.vectors("query") is None  # never another model's vectors


def test_project_round_trip_adopts_vectors_when_their_model_loads(catalogues, tmp_path):
    ws = _workspace(catalogues)
    n = len(ws.combined)
    ws.set_model("m")
    vectors = _vectors(n)
    ws.store_vectors("m", "query", None, vectors)
    ws.set_language([0], "fr")
    arrays = {"map": (np.zeros((n, 2), np.float32), {"method": "umap"})}
    save_project(ws.snapshot(arrays, {"tab": 2}), tmp_path / "p.e5desk")

    other = Workspace()
    assert not other.restore(load_project(tmp_path / "p.e5desk"))  # no model loaded yet
    assert other.join and len(other.combined) == n and other.combined.lang[0] == "fr"
    assert "map" in other.project_arrays
    # Saved before its model loaded: the vectors are kept in a new snapshot, not dropped.
    assert "query|" in other.snapshot({}, {}).embeddings
    assert not other.set_model("another")
    assert other.set_model("m")
    np.testing.assert_array_equal(other.vectors("query"), vectors)


def test_language_edit_reaches_the_copies_joining_folded(catalogues):
    ws = _workspace(catalogues)
    row = list(ws.combined.text).index("This field is required.")
    assert ws.set_language([row], "en")
    # The shared msgid is in both files: both copies now say "en".
    langs = {s.lang[i] for s in ws.sets for i, t in enumerate(s.text)
             if t == "This field is required."}
    assert langs == {"en"}
    assert not ws.set_language([], "fr")


class _Runner:
    """Records jobs instead of running them, so a test decides when each ends."""

    def __init__(self):
        self.jobs = []

    def start(self, name, fn, on_done=None, on_error=None, on_cancel=None):
        self.jobs.append((fn, on_done, on_error, on_cancel))


class _Encoder:
    model_id = "m"
    dim = 8

    def encode(self, texts, role, task, progress, cancelled):
        return _vectors(len(texts))


def test_second_caller_of_a_running_embedding_gets_its_vectors(catalogues):
    pytest.importorskip("PySide6")
    from e5desk.gui.session import Session

    runner = _Runner()
    session = Session(runner)
    for s in catalogues:
        session.add_set(s)
    session.encoder = _Encoder()
    session.workspace.set_model("m")
    got = []
    session.ensure_vectors("query", then=lambda v: got.append(("first", len(v))))
    session.ensure_vectors("query", then=lambda v: got.append(("second", len(v))))
    assert len(runner.jobs) == 1  # one embedding, two waiting
    fn, on_done, _, _ = runner.jobs[0]
    on_done(fn(None, lambda: False))
    n = len(session.combined)
    assert got == [("first", n), ("second", n)]
    session.ensure_vectors("query", then=lambda v: got.append(("third", len(v))))
    assert got[-1] == ("third", n) and len(runner.jobs) == 1  # served from the workspace

    # Rows changed while an embedding ran: its vectors are dropped, nobody is called.
    session.ensure_vectors("passage", then=lambda v: got.append(("stale", len(v))))
    fn, on_done, _, _ = runner.jobs[-1]
    session.set_join(False)
    on_done(fn(None, lambda: False))
    assert got[-1][0] == "third" and session.vectors("passage") is None


def test_files_opened_together_keep_their_order_whichever_ends_first():
    pytest.importorskip("PySide6")
    from e5desk.gui.session import Session

    runner = _Runner()
    session = Session(runner)
    errors = []
    session.error.connect(errors.append)
    paths = [REAL / "es.po", REAL / "missing.po", REAL / "ja.po"]
    session.open_files(paths)
    assert len(runner.jobs) == 3
    (es, es_done, _, _), (_, _, missing_failed, _), (ja, ja_done, _, _) = runner.jobs
    ja_done(ja(None, lambda: False))
    assert session.sets == []  # es.po (and the missing file) still to come
    es_done(es(None, lambda: False))
    assert len(session.sets) == 1  # es.po; ja.po waits for the missing file's answer
    missing_failed("missing.po: no such file")
    assert [s.lang[1] for s in session.sets] == ["es", "ja"] and errors
