"""Issue 14: every bad model folder, file, project and cache gets a clear answer (a typed
E5DeskError naming the file; exit 2 on the CLI, no traceback) and nothing is lost."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from e5desk.cli import main
from e5desk.core.data import load_sentence_set
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, ModelError, cut, cut_list
from e5desk.core.models.discovery import configured_folders, inspect_folder, model_load_error
from e5desk.core.store.cache import EmbeddingCache
from e5desk.core.store.project import (
    Embedding,
    Project,
    ProjectError,
    load_project,
    save_project,
)


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def small_project(path: Path) -> Path:
    s = SentenceSet.build(["one", "two", "three"], lang=["en"] * 3)
    save_project(Project(sets=[s], embeddings={
        "query|": Embedding("m", "query", None, np.eye(3, 4, dtype=np.float32))},
        arrays={"map": (np.zeros((3, 2), np.float32), {"method": "pca"})},
        settings={"tab": 1}), path)
    return path


# -- data loss ---------------------------------------------------------------------------
def test_export_refuses_to_overwrite_its_project(tmp_path, capsys):
    project = small_project(tmp_path / "P.e5desk")
    before = project.read_bytes()
    code, err = run_cli(capsys, "export", project, "--format", "csv", "--out", project)
    assert code == 2 and "the project being exported" in err
    assert project.read_bytes() == before
    link = tmp_path / "link.csv"
    link.symlink_to(project)
    code, err = run_cli(capsys, "export", project, "--format", "npy", "--out", link)
    assert code == 2 and project.read_bytes() == before


def test_export_is_atomic(tmp_path, capsys, monkeypatch):
    project = small_project(tmp_path / "P.e5desk")
    out = tmp_path / "out.csv"
    out.write_text("previous export\n")

    def dies_midway(sentences, path, extra=None):
        Path(path).write_text("half a fil")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("e5desk.core.store.exports.export_table_csv", dies_midway)
    code, err = run_cli(capsys, "export", project, "--format", "csv", "--out", out)
    assert code == 2 and "No space left" in err
    assert out.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    monkeypatch.undo()
    for fmt, name in (("csv", "out.csv"), ("npy", "v.dat"), ("projector", "proj")):
        code, _ = run_cli(capsys, "export", project, "--format", fmt, "--out", tmp_path / name)
        assert code == 0
    assert np.load(tmp_path / "v.dat").shape == (3, 4)  # named as asked, not v.dat.npy
    assert (tmp_path / "proj" / "vectors.tsv").is_file()
    assert oct((tmp_path / "out.csv").stat().st_mode & 0o777) != "0o600"


def _corrupt_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = struct.unpack(">H", data[16:18])[0] or 65536
    for start in range(page, len(data), page):  # every page after the header page
        data[start:start + 64] = b"\xde\xad" * 32
    path.write_bytes(bytes(data))


def test_cache_damaged_or_unwritable_is_set_aside_and_work_goes_on(tmp_path, caplog):
    path = tmp_path / "cache" / "embeddings.sqlite"
    path.parent.mkdir()
    cache = EmbeddingCache(path)
    cache.put_many("m", [f"t{i}" for i in range(2000)], np.ones((2000, 8)))
    cache.close()
    _corrupt_pages(path)
    cache = EmbeddingCache(path)  # opens: the damage shows on first lookup
    found = cache.get_many("m", ["t1", "t2"], 8)
    assert found == {}
    cache.put_many("m", ["new"], np.ones((1, 8)))  # goes on (in memory) without failing
    assert len(cache.get_many("m", ["new"], 8)) == 1
    assert len(cache.warnings) == 1 and "damaged" in cache.warnings[0]
    assert any(p.name.startswith("embeddings.sqlite.damaged-") for p in path.parent.iterdir())
    assert EmbeddingCache(path).warnings == []  # next run: a fresh cache

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    cache = EmbeddingCache(garbage)
    assert "set aside" in cache.warnings[0] and cache.count() == 0

    folder = tmp_path / "folder.sqlite"
    folder.mkdir()
    assert "cannot be used" in EmbeddingCache(folder).warnings[0]


def test_cache_folder_is_a_file(tmp_path, monkeypatch):
    blocker = tmp_path / "cachefile"
    blocker.write_text("x")
    monkeypatch.setenv("E5DESK_CACHE_DIR", str(blocker / "sub"))
    cache = EmbeddingCache()
    assert "cannot be used" in cache.warnings[0]
    cache.put_many("m", ["a"], np.ones((1, 4)))
    assert cache.count() == 1  # in memory for this run


def test_readonly_cache_never_loses_computed_vectors(tmp_path, tiny_model, capsys,
                                                      monkeypatch):
    monkeypatch.setenv("E5DESK_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.txt"
    src.write_text("hello\nworld\n")
    out = tmp_path / "out.npy"
    assert run_cli(capsys, "embed", src, "--out", out, "--model", tiny_model)[0] == 0
    src.write_text("hello\nworld\nsomething new\n")
    real_connect = sqlite3.connect

    def read_only(path, *args, **kwargs):  # as a cache on a read-only disk behaves
        if str(path).endswith("embeddings.sqlite"):
            return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    code, err = run_cli(capsys, "embed", src, "--out", out, "--model", tiny_model)
    assert code == 0
    assert np.load(out).shape == (3, 32)


def test_stale_save_files_are_cleaned(tmp_path):
    project = small_project(tmp_path / "P.e5desk")
    stale = tmp_path / ".P.e5desk.abc123.saving"
    fresh = tmp_path / ".P.e5desk.def456.saving"
    stale.write_bytes(b"x" * 100)
    fresh.write_bytes(b"x")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    load_project(project)
    assert not stale.exists() and fresh.exists()  # a save still running is left alone


# -- model folders -------------------------------------------------------------------------
def _model_copy(tiny_model: Path, tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(tiny_model, dest)
    return dest


def _pickle_with_code() -> bytes:
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch /tmp/e5desk-pwned",))

    return pickle.dumps(Evil())


MODEL_CASES = {
    "truncated safetensors": (lambda d: (d / "model.safetensors").write_bytes(
        (d / "model.safetensors").read_bytes()[:5000]), "damaged"),
    "garbage safetensors": (lambda d: (d / "model.safetensors").write_bytes(
        os.urandom(3000)), "not a safetensors file"),
    "absurd header": (lambda d: (d / "model.safetensors").write_bytes(
        struct.pack("<Q", 2**62) + b"{}"), "header claims"),
    "empty safetensors": (lambda d: (d / "model.safetensors").write_bytes(b""), "truncated"),
    "pickle with code": (lambda d: ((d / "model.safetensors").unlink(),
                                    (d / "pytorch_model.bin").write_bytes(_pickle_with_code())),
                         "refers to code"),
    "config garbage": (lambda d: (d / "config.json").write_bytes(b"\xff\xfe{"), "not valid JSON"),
    "config a list": (lambda d: (d / "config.json").write_text("[1]"), "expected a JSON object"),
    "config wrong types": (lambda d: (d / "config.json").write_text(json.dumps(
        {**json.loads((d / "config.json").read_text()), "hidden_size": "big"})),
        "'hidden_size' must be a whole number"),
    "hidden size mismatch": (lambda d: (d / "config.json").write_text(json.dumps(
        {**json.loads((d / "config.json").read_text()), "hidden_size": 64})),
        "does not belong to these weights"),
    "huge model type": (lambda d: (d / "config.json").write_text(json.dumps(
        {"model_type": "x" * 10**6})), "more characters"),
    "prompts not an object": (lambda d: (d / "config_sentence_transformers.json").write_text(
        '{"prompts": "x"}'), "'prompts' must be an object"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_bad_model_folders_are_model_errors(case, tiny_model, tmp_path):
    damage, expected = MODEL_CASES[case]
    folder = _model_copy(tiny_model, tmp_path, case.replace(" ", "-"))
    damage(folder)
    with pytest.raises(ModelError) as info:
        inspect_folder(folder)
    message = str(info.value)
    assert expected in message and str(folder) in message
    assert "weights_only=False" not in message and len(message) < 1000
    assert not Path("/tmp/e5desk-pwned").exists()


def test_bad_model_folder_on_the_cli_is_exit_2(tiny_model, tmp_path, capsys):
    folder = _model_copy(tiny_model, tmp_path, "trunc")
    (folder / "model.safetensors").write_bytes(b"\x08" + b"\0" * 7 + b"{}")
    src = tmp_path / "in.txt"
    src.write_text("hello\n")
    code, err = run_cli(capsys, "embed", src, "--out", tmp_path / "o.npy", "--model", folder)
    assert code == 2 and "model.safetensors" in err


def test_unreadable_files_are_permission_denied(tiny_model, tmp_path, monkeypatch):
    folder = _model_copy(tiny_model, tmp_path, "noread")
    real_open = Path.open

    def guarded(self, *args, **kwargs):
        if self.name in ("model.safetensors", "config.json") and self.parent == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    with pytest.raises(ModelError, match="permission denied"):
        inspect_folder(folder)


def test_loader_failures_never_advise_weights_only_false(tmp_path):
    import pickle

    exc = pickle.UnpicklingError("Weights only load failed. Re-running `torch.load` with "
                                 "`weights_only` set to `False` will likely succeed")
    message = str(model_load_error(tmp_path, exc))
    assert "weights_only=True" in message and "False" not in message
    err = model_load_error(tmp_path, RuntimeError("size mismatch ... look at the above report"))
    assert "above report" not in str(err) and "do not fit config.json" in str(err)
    err = model_load_error(tmp_path, PermissionError(13, "Permission denied", "/x/w.bin"))
    assert "permission denied" in str(err) and "No such file" not in str(err)


def test_models_json_with_wrong_types(tmp_path, monkeypatch):
    monkeypatch.setenv("E5DESK_CONFIG_DIR", str(tmp_path))
    for content in ('{"folders": "nope"}', "[1, 2]", '{"folders": [1, null, {"a": 1}]}',
                    "{broken"):
        (tmp_path / "models.json").write_text(content)
        assert configured_folders() == []


# -- sentence files ------------------------------------------------------------------------
def test_non_regular_files_are_refused_before_reading(tmp_path, capsys):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        with pytest.raises(DataError, match="not a file"):
            load_sentence_set(path)
        code, err = run_cli(capsys, "inspect", path)
        assert code == 2
        code, err = run_cli(capsys, "embed", path, "--out", tmp_path / "o.npy")
        assert code == 2 and "not a file" in err


def test_binary_files_refused_before_the_model_loads(tmp_path, capsys, monkeypatch):
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"\0" * 100_000)
    monkeypatch.setattr("e5desk.commands._common.load_encoder",
                        lambda args: pytest.fail("the model must not load"))
    code, err = run_cli(capsys, "embed", nul, "--out", tmp_path / "o.npy")
    assert code == 2 and "binary" in err
    with pytest.raises(DataError, match="binary"):
        load_sentence_set(nul)


def test_deeply_nested_json_keeps_good_rows(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text('{"text": "good one", "lang": "en"}\n' + "[" * 100_000 + "]" * 100_000
                 + '\n{"text": "good two", "lang": "en"}\n')
    r = load_sentence_set(f)
    assert list(r.sentence_set.text) == ["good one", "good two"]
    assert "nested too deeply" in r.reasons[0]


TRAIN_CASES = [
    '{"query": "q", "positives": "oops"}',
    '{"query": "q", "positives": {"doc_id": "abc"}}',
    '{"query": "q", "positives": {"doc_id": [[1]]}, "negatives": "x"}',
    '{"query": "q", "positives": [0], "negatives": {"doc_id": {"a": 1}}}',
]


@pytest.mark.parametrize("bad", TRAIN_CASES)
def test_train_jsonl_field_types_are_checked(tmp_path, bad):
    (tmp_path / "passages.jsonl").write_text('{"contents": "p0"}\n{"contents": 5}\n')
    f = tmp_path / "train.jsonl"
    f.write_text(bad + '\n{"query": "good", "positives": {"doc_id": [0]}}\n')
    s = load_sentence_set(f).sentence_set
    assert "good" in list(s.text) and all(isinstance(t, str) for t in s.text)


def test_jsonl_lang_and_group_must_be_scalars(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"text": "a", "lang": ["en"], "group": {"x": 1}}\n'
                 '{"text": "b", "lang": "en", "group": 7}\n')
    s = load_sentence_set(f).sentence_set
    assert list(s.group) == [None, "7"]


def test_long_messages_are_cut(tmp_path):
    assert len(cut("x" * 10**6)) < 700 and "more characters" in cut("x" * 10**6)
    assert cut_list(range(100), 3) == "0, 1, 2, … 97 more"
    f = tmp_path / "wide.csv"
    f.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n")
    with pytest.raises(DataError) as info:
        load_sentence_set(f)
    assert len(str(info.value)) < 1500 and "more" in str(info.value)


# -- projects ------------------------------------------------------------------------------
def _damaged(tmp_path: Path, name: str, sql: str, *args) -> Path:
    path = small_project(tmp_path / name)
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()
    return path


PROJECT_DAMAGE = {
    "wrong dims": ("UPDATE embeddings SET dim=5", "embedding"),
    "negative dims": ("UPDATE embeddings SET dim=-4, rows=-3", "embedding"),
    "short blob": ("UPDATE embeddings SET vectors=x'0000'", "embedding"),
    "absurd rows": ("UPDATE embeddings SET rows=1000000000000000", "embedding"),
    "object dtype": ("UPDATE arrays SET dtype='|O'", "array 'map'"),
    "bad shape": ("UPDATE arrays SET shape='[\"a\"]'", "array 'map'"),
    "settings broken": ("UPDATE meta SET value='{x' WHERE key='settings'", "view settings"),
    "settings a list": ("UPDATE meta SET value='[1]' WHERE key='settings'", "view settings"),
    "relevance broken": ("UPDATE sets SET relevance='{'", "relevance"),
    "relevance wrong": ("UPDATE sets SET relevance='{\"x\": 1}'", "relevance"),
}


@pytest.mark.parametrize("case", list(PROJECT_DAMAGE))
def test_damaged_project_parts_are_reported_and_sentences_kept(case, tmp_path, capsys):
    sql, what = PROJECT_DAMAGE[case]
    path = _damaged(tmp_path, "p.e5desk", sql)
    project = load_project(path)
    assert list(project.sets[0].text) == ["one", "two", "three"]
    assert any(what in p for p in project.problems), project.problems
    code, err = run_cli(capsys, "export", path, "--format", "csv", "--out", tmp_path / "o.csv")
    assert code == 0 and "warning" in err


def test_unusable_projects_are_project_errors(tmp_path, capsys):
    zero = small_project(tmp_path / "zero.e5desk")
    db = sqlite3.connect(zero)
    db.execute("PRAGMA user_version=0")
    db.commit()
    db.close()
    truncated = small_project(tmp_path / "trunc.e5desk")
    truncated.write_bytes(truncated.read_bytes()[:3000])
    empty = tmp_path / "empty.e5desk"
    empty.write_bytes(b"")
    for path in (zero, truncated, empty):
        with pytest.raises(ProjectError, match=str(path.name)):
            load_project(path)
        code, err = run_cli(capsys, "export", path, "--format", "csv",
                            "--out", tmp_path / "o.csv")
        assert code == 2 and path.name in err


def test_saved_tab_that_is_a_name(qtbot, window, tmp_path):
    from gui_helpers import wait_idle

    path = _damaged(tmp_path, "tab.e5desk",
                    "UPDATE meta SET value='{\"tab\": \"map\", \"scores\": 3}' "
                    "WHERE key='settings'")
    errors = []
    window.project.error.connect(errors.append)
    window.start(files=[str(path)])
    qtbot.waitUntil(lambda: window.session.combined is not None, timeout=60_000)
    wait_idle(qtbot, window)
    assert window.tabs.currentIndex() == 0 and not errors
    # just opened (and embedded, the saved vectors being another model's): not modified
    assert not window.project.dirty


def test_sigterm_is_a_clean_quit(qtbot, window, autosave_folder):
    from PySide6.QtWidgets import QApplication

    from e5desk.gui.projects import _terminate

    window.project.dirty = False
    _terminate(QApplication.instance(), window)
    assert not window.project.autosave_path.exists()
    assert window.project.orphaned_autosaves() == []  # nothing offered next time


def test_stale_export_partials_are_cleaned(tmp_path, capsys):
    project = small_project(tmp_path / "P.e5desk")
    stale = tmp_path / ".out.csv.xyz.partial.csv"
    stale.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    out = tmp_path / "out.csv"
    assert run_cli(capsys, "export", project, "--format", "csv", "--out", out)[0] == 0
    assert not stale.exists()
