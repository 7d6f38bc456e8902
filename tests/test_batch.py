"""`e5desk batch`: streamed shards, provenance, resume, the Ray engine, the window opening it."""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e5desk.cli import main

SENTENCES = [
    ("en", "The cat sleeps on the sofa."), ("de", "Die Katze schläft auf dem Sofa."),
    ("fr", "Le chat dort sur le canapé."), ("en", "Where is the railway station?"),
    ("de", "Wo ist der Bahnhof?"), ("es", "¿Dónde está la estación de tren?"),
    ("en", "I would like a cup of coffee."), ("pt", "Eu gostaria de uma xícara de café."),
    ("it", "Vorrei una tazza di caffè."), ("en", "Save the file before closing."),
    ("de", "Speichern Sie die Datei vor dem Schließen."), ("fr", "Enregistrez le fichier."),
]


def make_corpus(folder):
    """A folder of shards in four formats, as a user's export might look."""
    folder.mkdir()
    with (folder / "a.txt").open("w", encoding="utf-8") as f:  # lang<TAB>text, a blank line
        for lang, text in SENTENCES[:6]:
            f.write(f"{lang}\t{text}\n")
        f.write("\n")
    with (folder / "b.jsonl").open("w", encoding="utf-8") as f:
        for i, (lang, text) in enumerate(SENTENCES[6:9]):
            f.write(json.dumps({"text": text, "lang": lang, "group": f"g{i}"}) + "\n")
        f.write("{broken json\n")
    with (folder / "c.csv").open("w", encoding="utf-8", newline="") as f:
        f.write('text,lang\n"Save the file,\nthen close it.",en\n')
        for lang, text in SENTENCES[9:]:
            f.write(f'"{text}",{lang}\n')
    pq.write_table(pa.table({"sentence": [t for _, t in SENTENCES[:5]],
                             "language": [lang for lang, _ in SENTENCES[:5]]}),
                   folder / "d.parquet")
    return folder


def read_out(folder):
    files = sorted(folder.glob("part-*.parquet"))
    tables = [pq.read_table(f) for f in files]
    table = pa.concat_tables(tables)
    vectors = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
    return files, table.drop(["vector"]).to_pydict(), vectors, tables[0].schema.metadata


def batch(corpus, out, model, *extra):
    return main(["batch", str(corpus), "--out", str(out), "--model", str(model),
                 "--shard-rows", "4", "--precision", "exact", *extra])


@pytest.fixture(scope="module")
def local_run(tiny_model, tmp_path_factory):
    """One uninterrupted local run over the corpus (passage role), shared by the tests."""
    root = tmp_path_factory.mktemp("batch")
    corpus = make_corpus(root / "corpus")
    assert batch(corpus, root / "out", tiny_model, "--role", "passage") == 0
    return corpus, root / "out"


def test_local_batch_streams_every_format_with_provenance(local_run, tiny_model):
    from e5desk.core.encoder import Encoder

    files, cols, vectors, meta = read_out(local_run[1])
    n = 6 + 3 + 4 + 5
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(5)]
    assert cols["id"] == list(range(n))
    assert cols["text"][:2] == [SENTENCES[0][1], SENTENCES[1][1]]
    assert cols["lang"][:3] == ["en", "de", "fr"]
    assert cols["group"][6:9] == ["g0", "g1", "g2"]
    assert cols["text"][9] == "Save the file,\nthen close it."  # quoted newline: one row
    assert cols["line"][9:11] == [2, 4]
    assert cols["text"][13:] == [t for _, t in SENTENCES[:5]]
    assert cols["lang"][13:] == [lang for lang, _ in SENTENCES[:5]]
    prov = json.loads(meta[b"e5desk.provenance"])
    assert prov["role"] == "passage" and prov["prefix"] == "passage: "
    assert prov["family"] == "multilingual-e5-small" and prov["pooling"] == "mean"
    assert prov["normalisation"] == "l2" and prov["dtype"] == "float32"
    assert prov["max_tokens"] == 512 and prov["dim"] == 32 and prov["e5desk_version"]
    assert len(prov["fingerprint"]) == 32
    # the vectors the Encoder gives for each shard's texts, row for row
    encoder = Encoder.load(str(tiny_model), cache=False, precision="exact")
    for a in range(0, n, 4):
        expected = encoder.encode(cols["text"][a:a + 4], role="passage")
        assert np.allclose(vectors[a:a + 4], expected, atol=1e-6)
    manifest = json.loads((local_run[1] / "_e5desk_batch.json").read_text())
    assert manifest["skipped"] == 1 and "b.jsonl, line 4" in manifest["skipped_reasons"][0]


def test_interrupted_run_resumes_to_the_same_output(local_run, tiny_model, tmp_path, capsys):
    from e5desk.core import batch as core
    from e5desk.core.encoder import Encoder
    from e5desk.core.errors import Cancelled, E5DeskError

    corpus, whole = local_run
    encoder = Encoder.load(str(tiny_model), cache=False, precision="exact")
    plan = core.prepare([corpus], tmp_path / "cut", encoder, role="passage", shard_rows=4)
    written = []

    def stop_after_two() -> bool:
        return len(written) >= 2

    with pytest.raises(Cancelled):
        core.run_local(plan, encoder, cancelled=stop_after_two, on_shard=written.append)
    # a shard being written when the process died never counts
    (tmp_path / "cut" / ".part-00002.parquet.tmp").write_bytes(b"half a shard")
    kept = {f.name: f.stat().st_mtime_ns for f in (tmp_path / "cut").glob("part-*.parquet")}
    assert sorted(kept) == ["part-00000.parquet", "part-00001.parquet"]
    capsys.readouterr()
    assert batch(corpus, tmp_path / "cut", tiny_model, "--role", "passage") == 0
    assert "continuing" in capsys.readouterr().err
    for name, mtime in kept.items():  # finished shards were not embedded again
        assert (tmp_path / "cut" / name).stat().st_mtime_ns == mtime
    assert not list((tmp_path / "cut").glob(".*.tmp"))
    a, b = read_out(whole), read_out(tmp_path / "cut")
    assert [f.name for f in a[0]] == [f.name for f in b[0]]
    assert a[1]["id"] == b[1]["id"] and a[1]["text"] == b[1]["text"]
    assert a[1]["line"] == b[1]["line"] and a[1]["lang"] == b[1]["lang"]
    assert np.array_equal(a[2], b[2])
    # the same folder with other settings is refused, not mixed
    with pytest.raises(E5DeskError, match="role: passage there, query now"):
        core.prepare([corpus], tmp_path / "cut", encoder, role="query", shard_rows=4)


def test_batch_folder_refused_for_another_model(local_run, tmp_path):
    import shutil

    from e5desk.core.batch import load_batch, provenance_mismatch
    from e5desk.core.errors import DataError

    shutil.copytree(local_run[1], tmp_path / "out")
    imported = load_batch(tmp_path / "out")
    prov = imported.provenance
    assert imported.vectors.shape == (18, 32) and imported.model == prov["model_id"]
    assert provenance_mismatch(prov, prov["model_id"], 32) is None
    other = "0" * 32 + ":" + prov["model_id"].split(":", 1)[1]
    assert "weights fingerprint" in provenance_mismatch(prov, other, 32)
    assert prov["dtype"] == "float32"
    model, _, long_text, max_tokens = prov["model_id"].rsplit(":", 3)
    bf16 = ":".join([model, "bfloat16", long_text, max_tokens])
    assert "number format" in provenance_mismatch(prov, bf16, 32)
    assert "384" in provenance_mismatch(prov, prov["model_id"], 384)
    (tmp_path / "out" / "part-00003.parquet").unlink()
    with pytest.raises(DataError, match="unfinished"):
        load_batch(tmp_path / "out")


def test_ray_engine_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    (tmp_path / "a.txt").write_text("hello\n", encoding="utf-8")
    assert main(["batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o"),
                 "--engine", "ray"]) == 2
    assert "pip install 'e5desk[ray]'" in capsys.readouterr().err


def test_ray_engine_writes_what_the_local_engine_writes(local_run, tiny_model, tmp_path):
    pytest.importorskip("ray.data")
    corpus, local = local_run
    assert batch(corpus, tmp_path / "ray", tiny_model, "--engine", "ray",
                 "--role", "passage") == 0
    a, b = read_out(local), read_out(tmp_path / "ray")
    assert [f.name for f in a[0]] == [f.name for f in b[0]]
    assert a[1] == b[1]  # ids, text, lang, group, source, line
    cos = (a[2] * b[2]).sum(axis=1)
    assert cos.min() >= 0.9999
    assert a[3] == b[3]  # provenance


def test_window_opens_a_batch_folder_without_recomputing(qtbot, window, local_run,
                                                         tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from e5desk.core import batch as core

    corpus, tiny = local_run
    window.start(sample=False)
    qtbot.waitUntil(lambda: window.session.encoder is not None, timeout=120_000)
    # a batch by the window's own model (its encoder process, as `e5desk batch` would)
    plan = core.prepare([corpus], tmp_path / "real", window.session.encoder, shard_rows=4)
    core.run_local(plan, window.session.encoder)
    window.open_files([tiny])  # another model's vectors: refused with the reason
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None,
                    timeout=30_000)
    assert "32 dimensions" in window.findChild(QMessageBox, "errorDialog").text()
    assert window.session.imported is None
    window.open_files([tmp_path / "real" / "_e5desk_batch.json"])
    qtbot.waitUntil(lambda: window.session.imported is not None, timeout=30_000)
    stored = read_out(tmp_path / "real")[2]
    assert np.array_equal(window.session.vectors("query"), stored)
    assert window.session.typed_text_refusal() is None  # the same model: typed text scores
    assert len(window.session.combined) == 18


def test_killed_process_resumes_to_the_same_output(tiny_model, tmp_path):
    """SIGKILL a real `e5desk batch` process mid-run; the same command then finishes the
    job, keeps the shards already written and gives what an uninterrupted run gives."""
    import os
    import signal
    import subprocess
    import time

    corpus = tmp_path / "lines.txt"
    corpus.write_text("".join(f"{lang}\t{text} ({i})\n" for i in range(25)
                              for lang, text in SENTENCES), encoding="utf-8")  # 300 rows
    args = [str(corpus), "--out", str(tmp_path / "cut"), "--model", str(tiny_model),
            "--shard-rows", "2", "--precision", "exact", "--no-cache"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "e5desk", "batch", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((tmp_path / "cut").glob("part-*.parquet"))) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, "batch ended early"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = {f.name: f.stat().st_mtime_ns for f in (tmp_path / "cut").glob("part-*.parquet")}
    assert 3 <= len(kept) < 150  # killed part-way
    assert main(["batch", *args]) == 0
    for name, mtime in kept.items():  # finished shards are not embedded again
        assert (tmp_path / "cut" / name).stat().st_mtime_ns == mtime
    whole = tmp_path / "whole"
    assert main(["batch", *args[:2], str(whole), *args[3:]]) == 0
    a, b = read_out(whole), read_out(tmp_path / "cut")
    assert len(a[0]) == len(b[0]) == 150 and not list((tmp_path / "cut").glob(".*.tmp"))
    assert a[1]["id"] == b[1]["id"] == list(range(300)) and a[1]["text"] == b[1]["text"]
    assert np.array_equal(a[2], b[2])
