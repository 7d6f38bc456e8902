"""Translation workflows on real-shaped files: five gettext catalogues of one project that
share msgids (with contexts, plurals, untranslated/fuzzy/obsolete entries) and a TMX memory
with three languages (tests/data/real). Driven through the CLI with the embedded model."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from e5desk.cli import main
from e5desk.core.data import concat_sets, load_sentence_set

REAL = Path(__file__).parent / "data" / "real"
PO = {lang: REAL / "catalogues" / f"{lang}.po" for lang in ("es", "ja", "ar", "ru", "de")}


def _set(*paths, join=True):
    return concat_sets([load_sentence_set(p).sentence_set for p in paths], join=join)


def test_catalogues_join_by_msgctxt_and_msgid():
    es, ja = (load_sentence_set(PO[x]).sentence_set for x in ("es", "ja"))
    joined = _set(PO["es"], PO["ja"], PO["ar"])
    required = [i for i, t in enumerate(joined.text) if t == "This field is required."]
    assert len(required) == 1  # the shared English msgid once, not once per catalogue
    group = joined.group[required[0]]
    members = {joined.lang[i]: joined.text[i] for i in np.flatnonzero(joined.group == group)}
    assert members == {"en": "This field is required.", "es": "Este campo es obligatorio.",
                       "ja": next(t for t, g, x in zip(ja.text, ja.group, ja.lang, strict=True)
                                  if g == group and x == "ja"),
                       "ar": members["ar"]}
    # Every translation keeps the file it came from.
    assert {joined.set_name[i] for i in np.flatnonzero(joined.group == group)} == \
        {"es.po", "ja.po", "ar.po"}
    # Same msgid under two contexts stays two groups ("May" the month, abbreviated, alt.).
    may = [g for g, t, x in zip(joined.group, joined.text, joined.lang, strict=True)
           if t == "May" and x == "en"]
    assert len(may) == len(set(may)) >= 2
    assert len(joined) == len(es) + len(ja) + len(load_sentence_set(PO["ar"]).sentence_set) \
        - 2 * sum(x == "en" for x in es.lang) + len(
            {g for g, x in zip(ja.group, ja.lang, strict=True) if x == "en"} - set(es.group))
    apart = _set(PO["es"], PO["ja"], join=False)
    assert sum(t == "This field is required." for t in apart.text) == 2


def test_tmx_joins_catalogues_by_source_segment():
    joined = _set(PO["de"], REAL / "memory.tmx")
    langs_by_group: dict = {}
    for g, x in zip(joined.group, joined.lang, strict=True):
        langs_by_group.setdefault(g, set()).add(x)
    # Units whose English source is a msgid of the catalogue join it: en + de + fr.
    assert sum({"en", "de", "fr"} <= v for v in langs_by_group.values()) >= 15
    assert "joined" in " ".join(joined.notes)


def test_unrelated_numbered_tables_stay_apart(tmp_path):
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("id,en,de\n1,Hello,Hallo\n2,Thanks,Danke\n", encoding="utf-8")
    b.write_text("id,en,fr\n1,Goodbye,Au revoir\n2,Please,S'il vous plaît\n", encoding="utf-8")
    c = _set(a, b)
    assert len(set(c.group)) == 4 and "kept apart" in c.notes[0]


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory, embedded_folder):
    """Run eval, mine and check once on es.po + ja.po (one embedding, reused via the cache)."""
    out = tmp_path_factory.mktemp("real")
    results = {}
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["eval", str(PO["es"]), str(PO["ja"]), "--json"]) == 0
    results["eval"] = json.loads(buf.getvalue())
    assert main(["mine", str(PO["es"]), str(PO["ja"]), "--out", str(out / "pairs.tsv")]) == 0
    with (out / "pairs.tsv").open(encoding="utf-8") as f:
        results["mine"] = list(csv.DictReader(f, delimiter="\t"))
    assert main(["check", str(PO["es"]), str(PO["ja"]), "--out", str(out / "check.csv")]) == 0
    with (out / "check.csv").open(encoding="utf-8") as f:
        results["check"] = list(csv.DictReader(f))
    return results


def test_eval_of_two_catalogues_reports_both_directions_between_translations(cli_out):
    pairs = cli_out["eval"]
    keys = set(pairs)
    assert {"es->ja", "ja->es", "en->es", "es->en"} <= keys, keys
    # The English msgid exists once, so es -> en is not split among copies.
    assert pairs["es->en"]["P@1"] >= 0.75 and pairs["es->en"]["Recall@1"] >= 0.6
    assert pairs["es->ja"]["P@1"] >= 0.5


def test_mining_two_catalogues_pairs_their_languages_only(cli_out):
    rows = cli_out["mine"]
    assert {(r["src_lang"], r["tgt_lang"]) for r in rows} == {("es", "ja")}
    joined = _set(PO["es"], PO["ja"])
    groups_of: dict = {}
    for t, g, x in zip(joined.text, joined.group, joined.lang, strict=True):
        groups_of.setdefault((x, t), set()).add(g)
    right = sum(bool(groups_of[("es", r["src_text"])] & groups_of[("ja", r["tgt_text"])])
                for r in rows)
    assert len(rows) >= 40 and right / len(rows) >= 0.9, (right, len(rows))


def test_check_two_catalogues_is_not_flagged_wholesale(cli_out):
    rows = [r for r in cli_out["check"] if r["kind"] == "meaning"]
    assert {(r["src_lang"], r["tgt_lang"]) for r in rows} <= {("en", "es"), ("en", "ja")}
    assert len(rows) <= 10  # of ~310 pairs checked; before joining every pair was flagged
    assert all("\x04" not in r["group"] for r in rows)


def test_check_finds_rotated_translations(tmp_path, embedded_folder):
    import polib

    po = polib.pofile(str(PO["es"]))
    entries = [e for e in po if e.msgstr and not e.fuzzy and not e.obsolete
               and len(e.msgid) > 12]
    broken = entries[::4][:10]
    assert len(broken) == 10
    texts = [e.msgstr for e in broken]
    for e, t in zip(broken, texts[1:] + texts[:1], strict=True):
        e.msgstr = t
    path = tmp_path / "es.po"
    po.save(str(path))
    out = tmp_path / "check.csv"
    assert main(["check", str(path), "--out", str(out), "--all"]) == 0
    with out.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "meaning"]  # rules apart
    assert len(rows) == 158  # --all lists every pair, flagged first
    flagged = [r for r in rows if r["reason"] != "looks fine"]
    wrong = {e.msgid for e in broken}
    hits = sum(r["src_text"] in wrong for r in flagged)
    assert hits >= 8 and len(flagged) <= 15, (hits, len(flagged))
    assert sum(r["src_text"] in wrong for r in rows[:10]) >= 8


def test_score_by_language_says_when_nothing_is_close(capsys, embedded_folder):
    assert main(["score", "This field is required.", "The spaceship landed on Mars.",
                 "--passages", str(PO["es"]), "--rule", "symmetric", "--lang", "es",
                 "--top", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert {r["lang"] for r in results} == {"es"}
    best = {r["query"]: r for r in results if r["rank"] == 1}
    assert best["This field is required."]["passage"] == "Este campo es obligatorio."
    assert best["This field is required."]["clearly_best"] is True
    assert best["The spaceship landed on Mars."]["clearly_best"] is False
    # Entries with no words of their own are never offered.
    assert all(re.search(r"\w", r["passage"]) for r in results)
