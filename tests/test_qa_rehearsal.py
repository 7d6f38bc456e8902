"""The QA rehearsal's catalogues (benchmarks/qa_rehearsal.py: a French web-app catalogue,
its JavaScript domain, an XLIFF 1.2, a multi-language TMX, a zh_CN catalogue) through the
rule and consistency checks, no model: the clean build gives no rule or consistency finding
but its untranslated entries, and every injected rule error and duplicate is found."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from e5desk.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
qa_rehearsal = pytest.importorskip("qa_rehearsal")

INPUTS = ("fr.po", "fr-js.po", "fr.xlf", "memory.tmx", "zh_CN.po")


def _check(folder: Path) -> list[dict]:
    report = folder / "report.csv"
    assert main(["check", *[str(folder / n) for n in INPUTS], "--checks",
                 "rules,consistency", "--out", str(report)]) == 0
    with open(report, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_clean_rehearsal_catalogues_raise_no_rule_alarm(tmp_path):
    qa_rehearsal.build(tmp_path, False, 3)
    qa_rehearsal.build_zh(tmp_path, False, 3)
    rows = _check(tmp_path)
    assert [r for r in rows if r["check"] != "untranslated"] == []
    assert len(rows) == 3  # the three entries really left untranslated in fr.po


def test_every_injected_rule_error_and_duplicate_is_found(tmp_path):
    truth = qa_rehearsal.build(tmp_path, True, 3)
    truth_zh = qa_rehearsal.build_zh(tmp_path, True, 3)
    rows = _check(tmp_path)
    found = {(Path(r["file"]).name, r["src_text"], r["check"]) for r in rows}
    missed = [t for t in truth["rules"] + truth_zh["rules"] if t not in found]
    assert missed == []
    same = {(Path(r["file"]).name, r["src_text"]) for r in rows if r["check"] == "same-source"}
    assert all(d in same for d in truth["dups"])
