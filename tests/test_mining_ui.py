"""Mining short UI strings (issue 26, item 5): placeholders and numbers as evidence, and a
second round among the strings left unpaired. Figures on the five catalogues:
benchmarks/mining_ui.py (README)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from e5desk.core.similarity import EVIDENCE_WEIGHT, mine, text_evidence

UI = Path(__file__).parent / "data" / "real" / "ui_strings.tsv"


def test_placeholders_and_numbers_as_evidence():
    src = ["Page %(page)d of %(total)d", "Step 1 of 3", "April", "Save", "{count} selected"]
    tgt = ["%(page)d / %(total)d ページ", "ステップ 2/3", "4月", "保存", "Выбрано: {n}"]
    ev = text_evidence(src, tgt)
    pairs = np.arange(5)
    got = dict(zip(["page", "step", "april", "save", "count"], ev(pairs, pairs), strict=True))
    assert got["page"] == EVIDENCE_WEIGHT / 2  # the same placeholders: likelier
    assert got["step"] == -EVIDENCE_WEIGHT  # numbers on both sides that differ
    assert got["april"] == 0 and got["save"] == 0  # a number on one side only: no evidence
    assert got["count"] == -EVIDENCE_WEIGHT  # {count} renamed {n}
    # any candidate pairs, as arrays of rows
    assert ev(np.array([[0, 3]]), np.array([[3, 0]])).tolist() == [[-EVIDENCE_WEIGHT] * 2]


def test_a_second_round_pairs_what_a_taken_rival_hid():
    """Three sources crowding three targets: one pass agrees on one pair only (each other
    source's best target is taken); the second round, without that pair, pairs the rest."""
    def unit(rows):
        v = np.array(rows, dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    src = unit([[-0.445, -0.891, -0.089], [-0.396, -0.793, -0.463], [-0.371, -0.927, -0.062]])
    tgt = unit([[0.617, -0.772, 0.154], [-0.527, -0.843, 0.105], [-0.922, 0.173, -0.346]])
    one = {(p.src, p.tgt) for p in mine(src, tgt, k=2, threshold=None, rounds=1)}
    two = {(p.src, p.tgt) for p in mine(src, tgt, k=2, threshold=None, rounds=2)}
    assert one == {(0, 1)}
    assert two == {(0, 1), (1, 2), (2, 0)}
    # forward and backward modes take one pass whatever ``rounds`` says
    assert len(mine(src, tgt, k=2, mode="forward", threshold=None, rounds=3)) == 3


def test_short_ui_strings_mined_es_ja(real_encoder):
    """48 menu items, buttons and dates (es against ja, shuffled): the evidence and the
    second round find more right pairs than one plain pass, at precision >= 0.9."""
    with UI.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    es = [r["es"] for r in rows]
    order = np.random.default_rng(0).permutation(len(rows))
    ja = [rows[i]["ja"] for i in order]
    right = {(int(i), n) for n, i in enumerate(order)}  # (es row, ja row)
    vectors = real_encoder.encode(es + ja, role="query")
    va, vb = vectors[: len(es)], vectors[len(es):]
    before = {(p.src, p.tgt) for p in mine(va, vb, rounds=1)}
    after = {(p.src, p.tgt) for p in mine(va, vb, texts=(es, ja), rounds=2)}
    assert len(before & right) / len(before) >= 0.9
    assert len(after & right) / len(after) >= 0.9
    assert len(after & right) >= len(before & right) + 3
    # a placeholder pair the evidence brings in
    page = es.index("Página %(page)d de %(total)d")
    assert (page, ja.index("%(page)d / %(total)d ページ")) in after


def test_mine_says_how_many_entries_without_words_it_left_out(tmp_path, capsys):
    """A wide table's ":" and "%s" rows are never paired; the command says so instead of
    reporting fewer sentences than the file has without a word (vectors given: no model)."""
    from e5desk.cli import main

    rows = [("Save", "保存"), ("Cancel", "キャンセル"), ("%s", "%s"), (":", "："),
            ("Help", "ヘルプ"), ("Open", "開く")]
    table = tmp_path / "ui.csv"
    table.write_text("en,ja\n" + "".join(f"{a},{b}\n" for a, b in rows), "utf-8")
    rng = np.random.default_rng(0)
    v = rng.normal(size=(12, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", v)
    assert main(["mine", str(table), str(table), "--src-lang", "en", "--tgt-lang", "ja",
                 "--vectors", str(tmp_path / "v.npy"), "--vectors", str(tmp_path / "v.npy"),
                 "--out", str(tmp_path / "pairs.tsv")]) == 0
    err = capsys.readouterr().err
    assert "mining en (4 sentences of ui.csv) against ja (4 of ui.csv); 4 entries without " \
           "words" in err
