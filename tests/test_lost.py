"""Issue 23, "nothing silently lost": every row, language and field given comes out the
other side. Each test goes through the public entry points (the CLI, the Python API) on
real-shaped data written here."""

from __future__ import annotations

import csv
import json

from e5desk.cli import main

# A UI-strings table as web frameworks ship them: a key, then one column per language,
# among them every ISO 639-1 code that is also a usual column name.
UI = {
    "save": {"en": "Save", "de": "Speichern", "fr": "Enregistrer", "es": "Guardar",
             "id": "Simpan", "no": "Lagre", "is": "Vista", "it": "Salva", "nl": "Opslaan",
             "pt": "Salvar", "sv": "Spara", "pl": "Zapisz"},
    "cancel": {"en": "Cancel", "de": "Abbrechen", "fr": "Annuler", "es": "Cancelar",
               "id": "Batal", "no": "Avbryt", "is": "Hætta við", "it": "Annulla",
               "nl": "Annuleren", "pt": "Cancelar", "sv": "Avbryt", "pl": "Anuluj"},
    "delete_account": {"en": "Delete your account", "de": "Konto löschen",
                       "fr": "Supprimer votre compte", "es": "Eliminar tu cuenta",
                       "id": "Hapus akun Anda", "no": "Slett kontoen din",
                       "is": "Eyða aðganginum þínum", "it": "Elimina il tuo account",
                       "nl": "Verwijder je account", "pt": "Excluir sua conta",
                       "sv": "Radera ditt konto", "pl": "Usuń swoje konto"},
}
LANGS = list(UI["save"])


def write_wide(path, key_column="key"):
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([key_column, *LANGS])
        for key, row in UI.items():
            w.writerow([key, *(row[x] for x in LANGS)])
    return path


def test_language_codes_win_over_id_like_column_names(tmp_path, capsys):
    """`id` (Indonesian), `no` (Norwegian), `is` (Icelandic), `it` (Italian) are languages
    when the other columns are: no column of the table is lost, and inspect says why."""
    path = write_wide(tmp_path / "ui.csv")
    assert main(["inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert set(summary["languages"]) == set(LANGS)
    assert all(v["rows"] == 3 for v in summary["languages"].values())
    assert summary["rows"] == 3 * len(LANGS) and summary["groups"] == 3
    assert "'id' read as Indonesian" in summary["columns"]
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "columns: wide table, 12 language columns" in out and "group: key" in out

    # The same table with numeric row ids in `id`: then `id` is the group, not Indonesian.
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("id,en,de,it\n1,Save,Speichern,Salva\n2,Cancel,Abbrechen,Annulla\n",
                        encoding="utf-8")
    assert main(["inspect", str(numbered), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert set(summary["languages"]) == {"en", "de", "it"} and summary["groups"] == 2
    assert "holds numbers or ids" in summary["columns"]


def test_wide_table_through_the_api_keeps_every_language(tmp_path):
    import e5desk

    s = e5desk.read_sets(write_wide(tmp_path / "ui.csv"))
    by_group = {}
    for text, lang, group in zip(s.text, s.lang, s.group, strict=True):
        by_group.setdefault(group, {})[lang] = text
    assert by_group["save"]["id"] == "Simpan" and by_group["cancel"]["no"] == "Avbryt"
    assert len(by_group["delete_account"]) == len(LANGS)


MIXED = ["The cat sleeps on the sofa.", "Die Katze schläft auf dem Sofa.",
         "Le chat dort sur le canapé.", "Where is the railway station?",
         "Wo ist der Bahnhof?", "¿Dónde está la estación de tren?",
         "I would like a cup of coffee.", "Eu gostaria de uma xícara de café.",
         "Vorrei una tazza di caffè.", "Save the file before closing.",
         "Speichern Sie die Datei vor dem Schließen.", "Enregistrez le fichier avant de fermer."]


def _batch(inputs, out, model):
    return main(["batch", *map(str, inputs), "--out", str(out), "--model", str(model),
                 "--precision", "exact", "--shard-rows", "5"])


def test_batch_keeps_languages_groups_and_is_read_by_every_command(tmp_path, tiny_model,
                                                                   capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = tmp_path / "mixed.txt"
    text.write_text("\n".join(MIXED) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert _batch([text], out, tiny_model) == 0
    table = pa.concat_tables(pq.read_table(f) for f in sorted(out.glob("part-*.parquet")))
    langs = table.column("lang").to_pylist()
    assert None not in langs and {"en", "de", "fr", "es", "pt", "it"} <= set(langs)
    assert set(table.column("line").to_pylist()) == set(range(1, 13))
    capsys.readouterr()

    # inspect: the folder and a single shard
    assert main(["inspect", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert summary["rows"] == 12 and summary["format"] == "batch"
    assert "?" not in summary["languages"]
    assert main(["inspect", str(out / "part-00001.parquet"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["rows"] == 5

    # map reads the stored vectors (same model, same settings: nothing recomputed)
    model = ["--model", str(tiny_model), "--precision", "exact"]
    assert main(["map", str(out), "--out", str(tmp_path / "map.csv"), *model]) == 0
    err = capsys.readouterr().err
    assert "12 of 12 vectors taken from the batch output" in err
    with (tmp_path / "map.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and all(r["lang"] for r in rows)

    # score in query form (--lang: the symmetric rule) also reads them
    assert main(["score", "Wo ist der Bahnhof?", "--passages", str(out), "--lang", "de",
                 "--json", *model]) == 0
    cap = capsys.readouterr()
    results = json.loads(cap.out)
    assert results[0]["rule"] == "symmetric" and all(r["lang"] == "de" for r in results)
    assert "3 of 3 vectors taken" in cap.err

    # check / eval on a plain-text batch: no groups, said plainly (exit 2, no traceback)
    assert main(["eval", str(out), *model]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err

    # a wide table's batch keeps its groups: check and eval run on it
    wide = write_wide(tmp_path / "ui.csv")
    out2 = tmp_path / "out2"
    assert _batch([wide], out2, tiny_model) == 0
    table = pq.read_table(out2 / "part-00000.parquet")
    assert set(table.column("group").to_pylist()) <= {"save", "cancel", "delete_account"}
    capsys.readouterr()
    assert main(["check", str(out2), "--out", str(tmp_path / "check.csv"), "--src-lang",
                 "en", *model]) == 0
    shard = str(sorted(out2.glob("part-*.parquet"))[0])  # one shard, read as its batch
    assert main(["check", shard, "--checks", "rules", "--src-lang", "en"]) == 0
    assert "translation(s) checked" in capsys.readouterr().err
    assert main(["eval", str(out2), "--json", *model]) == 0
    assert "all pairs (symmetric)" in json.loads(capsys.readouterr().out)

    # another model's settings: the stored vectors are refused with the reason, and
    # the sentences embedded again (nothing lost, nothing mixed)
    assert main(["map", str(out), "--out", str(tmp_path / "map2.csv"), "--model",
                 str(tiny_model), "--precision", "exact", "--long-text", "windows"]) == 0
    assert "stored vectors not used" in capsys.readouterr().err


def test_api_reads_a_batch_folder_with_its_vectors(tmp_path, tiny_model):
    import numpy as np
    import pyarrow.parquet as pq

    import e5desk

    text = tmp_path / "mixed.txt"
    text.write_text("\n".join(MIXED) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert _batch([text], out, tiny_model) == 0
    s = e5desk.read_sets(out)
    assert len(s) == 12 and all(s.lang)
    model = e5desk.load_model(str(tiny_model), precision="exact", cache=False)
    stored = np.asarray(pq.read_table(out / "part-00000.parquet").column("vector")
                        .to_pylist(), dtype=np.float32)
    calls = []
    real = model.encoder.encode
    model.encoder.encode = lambda *a, **k: calls.append(a) or real(*a, **k)
    m = e5desk.map(model, s, method="pca")
    assert m.coords.shape == (12, 2) and np.isfinite(m.coords).all() and not calls
    assert np.allclose(stored[0], real([MIXED[0]])[0], atol=1e-5)


def test_tiny_maps_fall_back_with_a_note_never_nan(tmp_path, tiny_model, capsys):
    """Three sentences, one per language: centring by language would erase every point
    and UMAP/t-SNE need more rows; the map says what it did instead."""
    three = tmp_path / "three.csv"
    three.write_text("en,de,fr\nThe cat sleeps.,Die Katze schläft.,Le chat dort.\n",
                     encoding="utf-8")
    for method in ("umap", "tsne"):
        out = tmp_path / f"{method}.csv"
        assert main(["map", str(three), "--out", str(out), "--method", method, "--model",
                     str(tiny_model), "--precision", "exact"]) == 0
        err = capsys.readouterr().err
        assert f"{method} needs at least" in err and "PCA map of 3" in err
        assert "not centred by language" in err and "nan" not in err.lower()
        with out.open(encoding="utf-8") as f:
            xy = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
        assert len(set(xy)) == 3  # three distinct points, none NaN
        assert all(x == x and y == y for x, y in xy)


def test_score_lang_finds_translations_with_the_symmetric_rule(tmp_path, tiny_model, capsys):
    passages = tmp_path / "memory.tsv"
    passages.write_text("lang\ttext\nen\tWhere is the station?\npt-BR\tOnde fica a estação?\n"
                        "pt-BR\tO gato dorme.\nde\tWo ist der Bahnhof?\n", encoding="utf-8")
    model = ["--model", str(tiny_model), "--precision", "exact"]
    assert main(["score", "Where is the station?", "--passages", str(passages), "--lang",
                 "pt", "--json", *model]) == 0
    cap = capsys.readouterr()
    results = json.loads(cap.out)
    assert {r["lang"] for r in results} == {"pt-BR"} and len(results) == 2
    assert all(r["rule"] == "symmetric" for r in results)
    assert "prefix rule symmetric (for translations in --lang)" in cap.err
    assert main(["score", "Where is the station?", "--passages", str(passages), "--lang",
                 "pt", "--rule", "retrieval", *model]) == 0
    out = capsys.readouterr()
    assert "prefix rule retrieval (given)" in out.err
    if "no close match" in out.out:
        assert "calibrated for the symmetric rule, not retrieval" in out.out


def test_json_arrays_and_pair_files_keep_every_field(tmp_path, capsys):
    import e5desk

    strings = tmp_path / "sentences.json"
    strings.write_text(json.dumps(["Where is the station?", "Wo ist der Bahnhof?",
                                   "Où est la gare ?"], ensure_ascii=False, indent=2),
                       encoding="utf-8")
    objects = tmp_path / "labelled.json"
    objects.write_text(json.dumps([{"text": "Good morning", "lang": "en", "id": "m1"},
                                   {"text": "Guten Morgen", "lang": "de", "id": "m1"}]),
                       encoding="utf-8")
    assert main(["inspect", str(strings), str(objects), "--json"]) == 0
    a, b = json.loads(capsys.readouterr().out)
    assert a["rows"] == 3 and b["rows"] == 2 and b["groups"] == 1
    assert set(b["languages"]) == {"en", "de"}

    pairs = {
        "qp.jsonl": [{"query": "how tall is the eiffel tower",
                      "positive": "The Eiffel Tower is 330 metres tall.",
                      "negative": "Paris is the capital of France."},
                     {"query": "when was the eiffel tower built",
                      "positive": "It was built from 1887 to 1889.",
                      "negative": ["The Louvre is a museum.", "Paris is the capital of France."]}],
        "ap.jsonl": [{"anchor": "A man is playing a guitar.",
                      "positive": "Someone plays an instrument."},
                     {"anchor": "A woman slices an onion.", "positive": "Food is prepared."}],
        "sts.jsonl": [{"sentence1": "A cat sits on the mat.", "sentence2": "A cat is sitting.",
                       "score": 4.2}],
        "mt.jsonl": [{"text": "Save the file", "translation": "Datei speichern"}],
    }
    for name, records in pairs.items():
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in records),
                                     encoding="utf-8")
    s = e5desk.read_sets(tmp_path / "qp.jsonl")
    texts = list(s.text)
    assert "The Eiffel Tower is 330 metres tall." in texts  # positives kept (were dropped)
    assert texts.count("Paris is the capital of France.") == 1  # one row per passage
    assert len(s.relevance) == 2 and list(s.role).count("passage") == 4
    for name, records in pairs.items():
        s = e5desk.read_sets(tmp_path / name)
        first = records[0]
        fields = [k for k in first if isinstance(first[k], str)]
        assert all(first[k] in set(s.text) for k in fields), name
        assert len({g for g in s.group if g is not None}) == len(records), name


def test_train_reads_query_positive_pairs(tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("E5DESK_CONFIG_DIR", str(tmp_path / "config"))
    pairs = tmp_path / "pairs.jsonl"
    facts = [("capital of france", "Paris is the capital of France."),
             ("capital of germany", "Berlin is the capital of Germany."),
             ("capital of italy", "Rome is the capital of Italy."),
             ("capital of spain", "Madrid is the capital of Spain."),
             ("largest ocean", "The Pacific is the largest ocean."),
             ("highest mountain", "Everest is the highest mountain."),
             ("longest river", "The Nile is the longest river."),
             ("speed of light", "Light travels at about 300,000 km per second."),
             ("boiling point of water", "Water boils at 100 degrees Celsius."),
             ("author of hamlet", "Hamlet was written by Shakespeare.")]
    pairs.write_text("".join(json.dumps({"query": q, "positive": p}) + "\n" for q, p in facts),
                     encoding="utf-8")
    out = tmp_path / "tuned"
    assert main(["train", str(pairs), "--out", str(out), "--model", str(tiny_model),
                 "--batch-size", "4", "--held-out", "0.3", "--no-register",
                 "--precision", "exact"]) == 0
    cap = capsys.readouterr()
    printed = cap.out
    assert "| MRR@10 |" in printed
    # the verdict carries its uncertainty; 3 held-out queries cannot show a clear gain
    assert "95 % interval" in printed and "on 3 held-out queries" in printed
    assert "Better on held-out data" not in printed
    assert "Computing widget examples" not in cap.err and "FutureWarning" not in cap.err
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "query/positive pairs (JSONL)" in card


def test_po_syntax_error_names_file_line_and_expectation(tmp_path, capsys):
    po = tmp_path / "de.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: de\\n"\n\nmsgid "Save"\nmsgstr "Speichern\n\n'
                  'msgid "Cancel"\nmsgstr "Abbrechen"\n', encoding="utf-8")
    assert main(["inspect", str(po)]) == 2
    err = capsys.readouterr().err
    assert "de.po, line 6: msgstr: expected a string in double quotes" in err
    assert "Traceback" not in err


def test_train_verdict_needs_the_interval_above_zero():
    """+0.2 points on 15 queries is no clear difference; a consistent gain is better."""
    from pathlib import Path

    from e5desk.core.train_report import TrainResult

    def result(before, after):
        m = lambda r: {"MRR@10": sum(r) / len(r), "P@1": 0.5, "queries": len(r)}  # noqa: E731
        return TrainResult(Path("m"), m(before), m(after), [], [], {}, 1.0, 1, 1, False,
                           before, after)

    noisy_b = [1, 0.5, 1, 0.33, 1, 1, 0.5, 1, 0.25, 1, 1, 0.5, 1, 1, 0.2]
    noisy_a = [1, 1, 0.5, 0.33, 1, 1, 0.5, 1, 0.25, 1, 1, 0.5, 1, 1, 0.2]
    verdict = result(noisy_b, noisy_a).verdict()
    assert verdict.startswith("No clear difference") and "95 % interval" in verdict
    clear = result([0.5] * 40, [1.0] * 30 + [0.5] * 10).verdict()
    assert clear.startswith("Better on held-out data") and "+37.5 points" in clear
    worse = result([1.0] * 40, [0.5] * 40).verdict()
    assert worse.startswith("NOT better")


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path, tiny_model, monkeypatch,
                                                      capsys):
    """A log or a pipe gets a line every few seconds (here 0.01 s): stage, done/total, rate."""
    import re

    monkeypatch.setenv("E5DESK_PROGRESS_SECONDS", "0.01")
    text = tmp_path / "mixed.txt"
    text.write_text("\n".join(MIXED * 4) + "\n", encoding="utf-8")
    assert main(["embed", str(text), "--out", str(tmp_path / "v.npy"), "--model",
                 str(tiny_model), "--precision", "exact", "--batch-size", "4", "--no-cache"]) == 0
    err = capsys.readouterr().err
    lines = re.findall(r"e5desk: (.+?): ([\d,]+)/([\d,]+) (\w+)s \(\d+ %\), ([\d.,]+) \w+s/s",
                       err)
    assert lines and any(d == t == "12" for _, d, t, _, _ in lines), err  # 12 distinct


def test_first_run_conversion_reports_progress_without_a_terminal(tmp_path, monkeypatch,
                                                                  capsys):
    import time

    from e5desk.core.models import embedded

    monkeypatch.setenv("E5DESK_PROGRESS_SECONDS", "0.01")
    monkeypatch.setattr(embedded, "embedded_model_dir", lambda variant=None: tmp_path / "m")
    monkeypatch.setattr(embedded, "is_converted", lambda folder: False)

    def slow_convert(source, dest, progress, model=None):  # a step that reports nothing
        progress(0, 5)
        time.sleep(0.2)
        progress(5, 5)

    monkeypatch.setattr(embedded, "convert_packed_model", slow_convert)
    embedded.ensure_embedded_model()
    err = capsys.readouterr().err
    assert "e5desk: converting the embedded model (first run only): 0/5 steps" in err
    assert "5/5 steps (100 %)" in err and "(done)" in err
