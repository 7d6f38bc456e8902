"""The CLI contract: `e5desk embed`, `score`, `models`; errors are one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from e5desk.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "e5desk", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def lines_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("Where is the station?\n\nДе вокзал?\n駅はどこですか？\n" + "x " * 700 + "\n",
                    encoding="utf-8")
    return path


def test_embed_keeps_every_line(lines_file, tmp_path, capsys, embedded_folder):
    out = tmp_path / "out.npy"
    assert main(["embed", str(lines_file), "--role", "passage", "--out", str(out)]) == 0
    vectors = np.load(out)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    err = capsys.readouterr().err
    assert "line 5 has" in err and "first 512" in err  # the truncation is reported


def test_embed_matches_encoder(lines_file, tmp_path, tiny_model):
    from e5desk.core.encoder import Encoder

    out = tmp_path / "tiny.npy"
    assert main(["embed", str(lines_file), "--model", str(tiny_model), "--out", str(out),
                 "--precision", "exact"]) == 0
    texts = lines_file.read_text(encoding="utf-8").splitlines()
    expected = Encoder.load(str(tiny_model), device="cpu", precision="exact").encode(
        texts, role="query")
    assert np.abs(np.load(out) - expected).max() < 1e-6


@pytest.mark.parametrize("args,message", [
    (["embed", "missing.txt", "--out", "o.npy"], "missing.txt: file not found"),
    (["embed", "{file}", "--out", "o.txt"], "expected a .npy"),
    (["embed", "{file}", "--out", "o.npy", "--model", "/nonexistent/model"], "does not exist"),
    (["embed", "{bad}", "--out", "o.npy"], "line 2: not valid UTF-8"),
])
def test_errors_are_one_line_exit_2(args, message, lines_file, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    args = [a.format(file=lines_file, bad=bad) for a in args]
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_score_ranks_lines(tmp_path, capsys, embedded_folder):
    passages = tmp_path / "p.txt"
    passages.write_text("The CDC recommends 20 grams of sugar a day for women.\n\n"
                        "Paris is the capital of France.\n", encoding="utf-8")
    assert main(["score", "How much sugar should women eat?", "--passages", str(passages),
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["line"] for r in results] == [1, 3]  # empty line skipped, numbers kept
    assert results[0]["score"] > results[1]["score"]


def test_score_passages_jsonl_by_doc_id(capsys, embedded_folder):
    assert main(["score", "Wie lange soll man Nudeln kochen?", "--passages",
                 "resources/samples/retrieval/passages.jsonl", "--top", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["doc_id"] == 13 and results[0]["passage"].startswith("Nudeln")
    assert '"contents"' not in results[0]["passage"]  # the text, not the JSON line


def test_models_lists_embedded(capsys, embedded_folder):
    assert main(["models", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert cards[0]["family"] == "multilingual-e5-small"
    assert "dequantised" in cards[0]["note"]


def test_map_writes_csv_and_png(tmp_path, capsys, embedded_folder):
    import csv as csv_module

    out, png = tmp_path / "map.csv", tmp_path / "map.png"
    sample = "resources/samples/phrases.csv"
    assert main(["map", sample, "--method", "pca", "--center-languages", "--out", str(out),
                 "--plot", str(png)]) == 0
    rows = list(csv_module.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 576 and set(rows[0]) >= {"x", "y", "cluster", "lang", "group", "text"}
    assert png.stat().st_size > 10_000
    assert "cross-lingual P@1" in capsys.readouterr().err


def test_map_bad_input_exit_2(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    proc = run_cli("map", str(empty), "--out", str(tmp_path / "m.csv"))
    assert proc.returncode == 2 and "is empty" in proc.stderr and "Traceback" not in proc.stderr


def test_mine_recovers_shuffled_translations(tmp_path, embedded_folder):
    import csv as csv_module
    import random

    rows = list(csv_module.DictReader(open("resources/samples/phrases.csv", encoding="utf-8")))
    src, tgt = tmp_path / "src.en", tmp_path / "tgt.es"
    src.write_text("\n".join(r["en"] for r in rows) + "\n", encoding="utf-8")
    spanish = [r["es"] for r in rows[:48]]
    random.Random(0).shuffle(spanish)
    tgt.write_text("\n".join(spanish) + "\n", encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    assert main(["mine", str(src), str(tgt), "--format", "text", "--out", str(out)]) == 0
    pairs = list(csv_module.DictReader(out.open(encoding="utf-8"), delimiter="\t"))
    truth = {r["en"]: r["es"] for r in rows[:48]}
    correct = sum(truth.get(p["src_text"]) == p["tgt_text"] for p in pairs)
    assert correct / len(pairs) >= 0.95 and correct >= 0.9 * 48
    first = pairs[0]
    assert src.read_text(encoding="utf-8").splitlines()[int(first["src_line"]) - 1] == \
        first["src_text"]


def test_check_and_eval(tmp_path, capsys, embedded_folder):
    import csv as csv_module

    rows = list(csv_module.DictReader(open("resources/samples/phrases.csv", encoding="utf-8")))
    rows = [{k: r[k] for k in ("group", "en", "de")} for r in rows]
    rows[5]["de"] = "Meine Großmutter erzählt wunderbare Geschichten."
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as f:
        w = csv_module.DictWriter(f, fieldnames=["group", "en", "de"])
        w.writeheader()
        w.writerows(rows)
    report = tmp_path / "report.csv"
    assert main(["check", str(bad), "--out", str(report)]) == 0
    first = next(csv_module.DictReader(report.open(encoding="utf-8")))
    assert first["group"] == rows[5]["group"]
    capsys.readouterr()
    assert main(["eval", "resources/samples/phrases.csv", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["all pairs (symmetric)"]["P@1"] > 0.8
    assert main(["eval", "resources/samples/retrieval/train.jsonl", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["retrieval"]["Recall@10"] > 0.9  # measured 0.98 with the embedded model
    assert main(["eval", "resources/samples/retrieval/passages.jsonl"]) == 2


def test_cli_reader_names_match_the_readers():
    from e5desk.commands._common import READERS
    from e5desk.core.data import FORMATS

    assert sorted(READERS) == sorted(FORMATS)


def test_bad_numbers_and_missing_passages_exit_2_before_any_model(tmp_path, capsys):
    passages = tmp_path / "p.txt"
    passages.write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["score", "q", "--passages", str(passages), "--top", "-3"])
    assert exc.value.code == 2 and "at least 1" in capsys.readouterr().err
    train = tmp_path / "train.jsonl"
    train.write_text('{"query": "q", "positives": {"doc_id": ["0"]}}\n', encoding="utf-8")
    assert main(["eval", str(train)]) == 2
    assert "passages.jsonl" in capsys.readouterr().err


def test_score_rule_names_are_the_shared_prefix_rules(capsys):
    from e5desk.cli import build_parser
    from e5desk.core.prefix_rules import PREFIX_RULES

    parser = build_parser()
    for name in [*PREFIX_RULES, "query/passage", "query/query", "raw"]:
        args = parser.parse_args(["score", "q", "--passages", "p.txt", "--rule", name])
        assert args.rule in PREFIX_RULES  # older names arrive as the shared name
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["score", "q", "--passages", "p.txt", "--rule", "passage/query"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unknown prefix rule 'passage/query'" in err
    assert "retrieval, symmetric, none" in err


def test_embed_reads_utf16_and_refuses_empty(tmp_path, capsys, embedded_folder):
    src = tmp_path / "u16.txt"
    src.write_bytes("Guten Tag\nこんにちは\n".encode("utf-16"))
    assert main(["embed", str(src), "--out", str(tmp_path / "u.npy")]) == 0
    assert np.load(tmp_path / "u.npy").shape == (2, 384)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["embed", str(empty), "--out", str(tmp_path / "e.npy")]) == 2
    assert "empty" in capsys.readouterr().err
