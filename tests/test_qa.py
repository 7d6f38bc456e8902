"""Translation QA (issue 26): rule checks per format flag, consistency, report shapes, and
marked copies for PO/XLIFF/TMX. No model: the meaning checks are tested in
test_translations.py and test_real_translations.py."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import polib
import pytest

from e5desk.cli import main
from e5desk.core.errors import E5DeskError
from e5desk.core.qa import Entry, Finding, pick_checks, read_entries, run_checks, write_report
from e5desk.core.qa.consistency import same_source, same_translation, similar_sources
from e5desk.core.qa.rules import CHECKS, run_rules
from e5desk.core.qa.run import abbreviation

RULES = pick_checks("rules")


def entry(source, target, flags=(), tgt_lang="de", **kw) -> Entry:
    return Entry("x.po", "po", 1, source, target, "en", tgt_lang, flags=tuple(flags), **kw)


def found(e: Entry, checks=RULES) -> set[str]:
    return {c for c, _ in run_rules(e, checks)}


# --- rule checks: positive and negative, per format flag -------------------------------------

@pytest.mark.parametrize("flag,source,good,bad", [
    ("python-format", "Hello %(name)s, %(n)d new", "%(n)d neu, hallo %(name)s",
     "Hallo %(nom)s, %(n)d neu"),
    ("python-format", "%s of %d", "%s von %d", "%d von %s"),  # positional order matters
    ("python-format", "%(n)d%% done", "%(n)d %% fertig", "%(n)d fertig %"),
    ("c-format", "Copied %s to %s.", "%s nach %s kopiert.", "%s kopiert."),
    ("c-format", "Disk %1$s is %2$d%% full", "Zu %2$d%% voll: %1$s", "Voll: %1$s"),
    ("c-format", "%ld bytes", "%ld Bytes", "%d Bytes"),
    # a translation may number printf arguments to reorder them (msgfmt accepts it)
    ("c-format", "Copy %s to %s?", "Nach %2$s kopieren: %1$s?", "Nach %2$s kopieren: %2$s?"),
    ("python-brace-format", "Hi {name}, {count} new", "{count} neu, hallo {name}",
     "Hallo {nom}, {count} neu"),
    ("python-brace-format", "{{literal}} {0}", "{{wörtlich}} {0}", "{{wörtlich}}"),
])
def test_placeholders_by_flag(flag, source, good, bad):
    assert found(entry(source, good, [flag])) == set()
    assert flag in found(entry(source, bad, [flag]))


def test_placeholders_without_flags_are_detected_and_respect_no_format():
    assert "icu-format" in found(entry("{0} of {1} items", "{0} von {2} Elementen"))
    # Vue/Angular/Jinja double braces (JSON, XLIFF, tables): a renamed variable is found
    assert found(entry("Hello {{ name }}!", "Hallo {{name}}!")) == set()
    assert "icu-format" in found(entry("Hello {{ name }}!", "Hallo {{ nom }}!"))
    assert found(entry("{0} of {1} items", "{1} Elemente, davon {0}")) == set()
    icu = "{count, plural, one {# file} other {# files}}"
    assert found(entry(icu, "{count, plural, one {# Datei} other {# Dateien}}")) == set()
    assert "icu-format" in found(entry(icu, "{n, plural, one {# Datei} other {# Dateien}}"))
    assert "c-format" in found(entry("Copied %s.", "Kopiert."))
    # without flags (XLIFF, TMX) a named %(x)s is reported as python-format
    assert found(entry("Task %(id)s is late", "Aufgabe %(nr)s ist spät")) == {"python-format"}
    assert found(entry("100 % sure", "100 % sicher")) == set()
    assert found(entry("Copied %s.", "Kopiert.", ["no-c-format"])) == set()
    # a declared flag decides: python-format does not read {x} as a placeholder
    assert found(entry("%(a)s {x}", "%(a)s", ["python-format"])) == set()


def test_tags_and_inline_codes():
    src = 'Click <a href="%(url)s">here</a> to <b>save</b>.'
    assert found(entry(src, 'Klicken Sie <a href="%(url)s">hier</a>, um zu <b>speichern</b>.',
                       ["python-format"])) == set()
    assert "tags" in found(entry(src, 'Klicken Sie <a href="%(url)s">hier</a> <b>x<b>.',
                                 ["python-format"]))
    assert "tags" in found(entry("<b>a</b> <i>b</i>", "<b>a <i>b</b></i>"))  # nesting
    assert "tags" in found(entry('Press <ph 1/> now', "Jetzt drücken"))
    assert found(entry("Line<br/>break", "Zeilen<br/>umbruch")) == set()
    # a quote left open or an attribute renamed breaks the markup; values are text
    link = '<a href="%(url)s" title="Help">help</a>'
    assert found(entry(link, '<a title="Hilfe" href="%(url)s">Hilfe</a>', ["python-format"])
                 ) == set()
    assert "tags" in found(entry(link, '<a href="%(url)s title="Hilfe">Hilfe</a>',
                                 ["python-format"]))
    assert "tags" in found(entry(link, '<a hre="%(url)s" title="Hilfe">Hilfe</a>',
                                 ["python-format"]))
    # nesting is checked on tags with attributes too
    assert "tags" in found(entry('<a href="x"><b>a</b></a>', '<a href="x"><b>a</a></b>'))


def test_numbers_urls_whitespace_punctuation_repeats():
    assert "numbers" in found(entry("At least 12 characters.", "Mindestens 10 Zeichen."))
    assert found(entry("1,000 files", "1.000 Dateien")) == set()
    assert found(entry("April", "4月", tgt_lang="ja")) == set()  # a number where none was
    assert found(entry("March 3, 2024", "3. März 2024")) == set()
    # the source's numbers repeated: "24/7" -> "24 h/24, 7 j/7"; a changed one still counts
    assert found(entry("Support 24/7.", "Assistance 24 h/24, 7 j/7.", tgt_lang="fr")) == set()
    assert "numbers" in found(entry("Support 24/7.", "Assistance 24 h/24, 6 j/7.",
                                    tgt_lang="fr"))
    assert "numbers" in found(entry("Step 1 of 3", "Étape 1 sur 1", tgt_lang="fr"))
    assert found(entry("1 hour left", "Une heure restante", tgt_lang="fr")) == set()
    assert "numbers" in found(entry("1 hour left", "2 heures restantes", tgt_lang="fr"))
    # a decimal point moved is a changed number; the locale's separators are not
    assert "numbers" in found(entry("Files over 25 MB", "Fichiers de plus de 2,5 Mo",
                                    tgt_lang="fr"))
    assert found(entry("99.9% uptime", "Disponibilité de 99,9 %", tgt_lang="fr")) == set()
    assert found(entry("$1,234.50 due", "1 234,50 $ dus", tgt_lang="fr")) == set()
    assert found(entry("Version 2.4.1", "Version 2.4.1")) == set()
    assert "urls" in found(entry("See https://a.example.org/x.", "Siehe https://b.example.org."))
    assert found(entry("See https://a.example.org/en/x.", "Siehe https://a.example.org/de/x."
                       )) == set()
    assert "urls" in found(entry("Mail help@a.example.org.", "Mail an hilfe@a.example.org."))
    assert "whitespace" in found(entry("Search: ", "Suchen:"))
    assert "whitespace" in found(entry("Line\n", "Zeile"))
    assert found(entry(", ", "、", tgt_lang="ja")) == set()
    assert "end-punctuation" in found(entry("Saved.", "Gespeichert"))
    assert found(entry("Saved.", "保存しました。", tgt_lang="ja")) == set()
    assert found(entry("Really?", "本当に？", tgt_lang="ja")) == set()
    assert found(entry("Mon", "Mo.")) == set()  # an abbreviation's dot
    assert "repeated-word" in found(entry("Save the file", "Die Datei Datei speichern"))
    assert found(entry("Save those", "Speichern, die die Datei")) == set()  # grammar
    assert found(entry("We sent you", "Nous vous vous", tgt_lang="fr")) == set()


def test_plural_forms_against_the_header():
    def plural(forms, n):
        return entry("%d file", "", ["c-format"], source_plural="%d files",
                     plurals=dict(enumerate(forms)), nplurals=n)

    assert found(plural(["%d Datei", "%d Dateien"], 2)) == set()
    assert "plural-forms" in found(plural(["%d Datei"], 2))
    assert "plural-forms" in found(plural(["%d файл", "%d файла", ""], 3))
    assert found(plural(["одна %d", "%d файла", "%d файлов"], 3)) == set()
    assert "c-format" in found(plural(["%s файл", "%d файла", "%d файлов"], 3))
    # the singular form may leave the number out (Python's gettext, "one file")
    assert found(plural(["Eine Datei", "%d Dateien"], 2)) == set()


def test_untranslated_and_same_as_source():
    assert found(entry("Enter a number.", "")) == {"untranslated"}
    assert found(entry("…", "")) == set()
    assert "same-as-source" in found(entry("Enter a valid number.", "Enter a valid number."))
    for name in ("Pyrame", "PDF", "E-mail", "GitHub Actions", "OK", "page", "description"):
        assert found(entry(name, name, tgt_lang="fr")) == set(), name
    assert "same-as-source" in found(entry("save changes", "save changes", tgt_lang="fr"))
    assert found(entry("Enter a number.", "Enter a number.", tgt_lang="en-GB")) == set()


def test_checks_table_and_picking():
    assert all(c.severity in ("error", "warning", "info") and c.message for c in
               CHECKS.values())
    assert "meaning" not in RULES and "python-format" in RULES
    assert pick_checks("placeholder") == ["python-format", "c-format", "python-brace-format",
                                          "icu-format"]
    assert "end-punctuation" not in pick_checks("all,-end-punctuation")
    assert pick_checks("-meaning") == [c for c in CHECKS if c != "meaning"]
    with pytest.raises(E5DeskError, match="unknown check"):
        pick_checks("spelling")
    e = entry("Copied %s.", "Kopiert.", ["c-format"])
    assert run_rules(e, ["numbers"]) == []


# --- consistency ------------------------------------------------------------------------------

def test_consistency_same_source_and_same_translation():
    a = [entry("Save", "Speichern"), entry("Save", "Speichern"), entry("Save", "Sichern"),
         entry("Save", "Enregistrer", tgt_lang="fr"),
         entry("Save", "Beitrag", context="noun")]  # another context: another message
    flagged = same_source(a)
    assert [f.entry.target for f in flagged] == ["Sichern"]
    b = [entry("Delete", "Löschen"), entry("Remove", "Löschen"), entry("Fri", "Fr."),
         entry("Friday", "Fr."), entry("Tue", "mar.", context="abbrev. weekday"),
         entry("March", "mar.")]
    assert sorted(f.entry.source for f in same_translation(b)) == ["Delete", "Remove"]


def test_similar_sources_by_vectors():
    texts = {"Save the file": [1, 0, 0], "Save the file now": [0.99, 0.141, 0],
             "Datei speichern": [1, 0, 0], "Katze": [0, 0, 1], "Datei sofort speichern":
             [0.98, 0.199, 0]}

    def encode(ts):
        v = np.array([texts[t] for t in ts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    good = [entry("Save the file", "Datei speichern"),
            entry("Save the file now", "Datei sofort speichern")]
    assert similar_sources(good, encode) == []
    bad = [good[0], entry("Save the file now", "Katze")]
    assert {f.entry.target for f in similar_sources(bad, encode)} == {"Katze",
                                                                       "Datei speichern"}


def test_abbreviations_are_not_doubtful_meanings():
    sources = {"tue", "tuesday", "apr", "april", "enter a number"}
    assert abbreviation(entry("Fri", "Пт", context="abbrev. weekday"), sources)
    # Arabic writes the whole weekday: the context still says what the entry is
    assert abbreviation(entry("Wed", "الأربعاء", tgt_lang="ar", context="abbrev. weekday"),
                        set())
    assert abbreviation(entry("Wed", "الأربعاء", tgt_lang="ar"), set()) is None
    assert abbreviation(entry("translator-credits", "Jean Dupont <jean@example.org>"), set())
    assert abbreviation(entry("apr", "4月"), sources)  # the catalogue has "April"
    assert abbreviation(entry("Enter a number.", "数値"), sources) is None
    assert abbreviation(entry("Cat", "猫"), sources) is None


# --- catalogues, reports, marked copies -------------------------------------------------------

PO = r'''# German translation.
# Copyright (C) 2024
#
msgid ""
msgstr ""
"Project-Id-Version: demo 1.0\n"
"Language: de\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#. Shown after saving.
#: app/views.py:10
msgid "Your changes have been saved."
msgstr "Ihre Änderungen wurden gespeichert."

#: app/forms.py:22
#, python-format
msgid ""
"Ensure this value has at most %(limit_value)d characters (it has "
"%(show_value)d)."
msgstr ""
"Stellen Sie sicher, dass dieser Wert höchstens %(limit_value)d Zeichen hat "
"(er hat %(show)d)."

#: app/forms.py:30
msgctxt "abbrev. weekday"
msgid "Fri"
msgstr "Fr."

#: app/upload.py:5
#, python-brace-format
msgid "Uploaded {filename} ({size} MB)."
msgstr "{filename} hochgeladen."

#: app/list.py:8
#, c-format
msgid "%d file"
msgid_plural "%d files"
msgstr[0] "%d Datei"
msgstr[1] "%d Dateien"

#: app/help.py:3
msgid "<b>Warning:</b> this cannot be undone."
msgstr "<b>Warnung:<b> Dies kann nicht rückgängig gemacht werden."

#: app/help.py:9
msgid "Read the guide."
msgstr ""

#~ msgid "Old"
#~ msgstr "Alt"
'''
FLAGGED_PO = {"Ensure this value has at most %(limit_value)d characters (it has "
              "%(show_value)d).", "Uploaded {filename} ({size} MB).",
              "<b>Warning:</b> this cannot be undone."}

XLIFF = '''<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment that stays -->
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file original="app" source-language="en" target-language="fr" datatype="plaintext">
    <body>
      <trans-unit id="save">
        <source>Your changes have been saved.</source>
        <target state="translated">Vos modifications ont été enregistrées.</target>
      </trans-unit>
      <trans-unit id="press">
        <source>Press <ph id="1"/> to save {0} files.</source>
        <target state="translated">Appuyez pour enregistrer {1} fichiers.</target>
      </trans-unit>
      <trans-unit id="trial">
        <source>The trial lasts 30 days.</source>
        <target>L’essai dure 31 jours.</target>
      </trans-unit>
    </body>
  </file>
</xliff>
'''

TMX = '''<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="t" creationtoolversion="1" datatype="plaintext" segtype="sentence"
          adminlang="en" srclang="en" o-tmf="t"/>
  <body>
    <tu tuid="a">
      <tuv xml:lang="en"><seg>Your changes have been saved.</seg></tuv>
      <tuv xml:lang="de"><seg>Ihre Änderungen wurden gespeichert.</seg></tuv>
    </tu>
    <tu tuid="b">
      <prop type="x-client">demo</prop>
      <tuv xml:lang="en"><seg>Last updated on March 3, 2024</seg></tuv>
      <tuv xml:lang="de"><seg>Zuletzt aktualisiert am 3. März 2023</seg></tuv>
      <tuv xml:lang="fr"><seg>Dernière mise à jour le 3 mars 2024</seg></tuv>
    </tu>
  </body>
</tmx>
'''


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, text in (("de.po", PO), ("app.xlf", XLIFF), ("memory.tmx", TMX)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        out[name] = tmp_path / name
    return out


def test_entries_carry_what_the_checks_need(files):
    po = read_entries([files["de.po"]])
    assert len(po) == 7  # header and obsolete entry left out
    fri = next(e for e in po if e.source == "Fri")
    assert fri.context == "abbrev. weekday" and fri.identity == "abbrev. weekday | Fri"
    assert PO.splitlines()[fri.line - 1] == 'msgid "Fri"'
    plural = next(e for e in po if e.source_plural)
    assert plural.nplurals == 2 and plural.plurals == {0: "%d Datei", 1: "%d Dateien"}
    assert "python-format" in next(e for e in po if "limit" in e.source).flags
    xlf = read_entries([files["app.xlf"]])
    assert [e.unit_id for e in xlf] == ["save", "press", "trial"]
    assert xlf[1].source == "Press <ph 1/> to save {0} files." and xlf[1].tgt_lang == "fr"
    tmx = read_entries([files["memory.tmx"]])
    assert [(e.unit_id, e.tgt_lang) for e in tmx] == [("a", "de"), ("b", "de"), ("b", "fr")]


def test_report_shapes(files, tmp_path):
    result = run_checks(read_entries(list(files.values())), RULES)
    assert result.findings[0].severity == "error"
    write_report(result.findings, tmp_path / "r.csv")
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert {"kind", "check", "severity", "group", "context", "file", "line", "src_text",
            "tgt_text", "reason"} <= set(rows[0])
    assert len(rows) == len(result.findings)
    write_report(result.findings, tmp_path / "r.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text("utf-8").splitlines()]
    assert [x["check"] for x in lines] == [r["check"] for r in rows]
    kinds = {x["kind"] for x in lines}
    assert {"placeholder", "markup", "number", "untranslated"} <= kinds
    write_report(result.findings, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert "&lt;b&gt;Warnung:&lt;b&gt;" in page and "<b>Warnung" not in page
    for kind in kinds:
        assert f'id="{kind}"' in page
    ET.fromstring(page.split("\n", 1)[1].replace("<br>", "<br/>").replace(
        '<meta charset="utf-8">', ""))  # well-formed apart from the two void elements


def _strip_marks(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#. e5desk: ") or line.rstrip() == "#, fuzzy":
            continue
        out.append(line.replace("#, fuzzy, ", "#, "))
    return "".join(out)


def test_marked_po_round_trip(files, tmp_path):
    src = files["de.po"]
    before = src.read_bytes()
    out = tmp_path / "marked.po"
    report = tmp_path / "r.csv"
    assert main(["check", str(src), "--checks", "rules", "--out", str(report),
                 "--mark-fuzzy", str(out)]) == 0
    assert src.read_bytes() == before
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    flagged = {r["src_text"] for r in rows if r["check"] != "untranslated"}
    assert flagged == FLAGGED_PO
    a, b = polib.pofile(str(src)), polib.pofile(str(out))
    assert [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in a] == \
        [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in b]
    assert {e.msgid for e in b if e.fuzzy} == flagged
    assert a.metadata == b.metadata
    marked = next(e for e in b if e.msgid.startswith("<b>"))
    assert marked.comment.startswith("e5desk: tags:")
    assert "python-format" in next(e for e in b if "limit" in e.msgid).flags
    # everything else byte for byte: order, comments, wrapping, header
    assert _strip_marks(out.read_text("utf-8")) == PO
    text = out.read_text("utf-8")
    assert "#. e5desk: python-format: missing %(show_value)d; not in the source %(show)d\n" \
           "#: app/forms.py:22\n#, fuzzy, python-format\n" in text


def test_marked_copy_refuses_the_input_and_missing_folders(files, tmp_path, capsys):
    src = files["de.po"]
    before = src.read_bytes()
    assert main(["check", str(src), "--checks", "rules", "--mark-fuzzy", str(src)]) == 2
    assert "never written over the input" in capsys.readouterr().err
    link = tmp_path / "link.po"
    link.symlink_to(src)
    assert main(["check", str(src), "--checks", "rules", "--mark-fuzzy", str(link)]) == 2
    assert main(["check", str(src), "--checks", "rules", "--mark-fuzzy",
                 str(tmp_path / "nowhere" / "x.po")]) == 2
    assert main(["check", str(src), str(files["app.xlf"]), "--checks", "rules",
                 "--mark-fuzzy", str(tmp_path / "one.po")]) == 2  # several: a folder
    assert src.read_bytes() == before
    assert not list(tmp_path.glob(".*.part"))


def test_marked_copy_folder_refused_before_any_check(files, tmp_path, capsys, monkeypatch):
    import e5desk.core.qa as qa

    def no_work(*a, **k):
        raise AssertionError("the checks ran before the output was refused")

    monkeypatch.setattr(qa, "run_checks", no_work)
    assert main(["check", str(files["de.po"]), str(files["app.xlf"]), "--checks", "rules",
                 "--mark-fuzzy", str(tmp_path / "marked")]) == 2
    assert "names an existing folder" in capsys.readouterr().err


def test_marked_xliff_and_tmx(files, tmp_path, capsys):
    outdir = tmp_path / "marked"
    outdir.mkdir()
    xlf_before = files["app.xlf"].read_bytes()
    assert main(["check", str(files["app.xlf"]), str(files["memory.tmx"]), "--checks",
                 "rules", "--mark-fuzzy", str(outdir)]) == 0
    assert files["app.xlf"].read_bytes() == xlf_before
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    marked = (outdir / "app.xlf").read_text("utf-8")
    assert "<!-- a comment that stays -->" in marked
    units = {u.get("id"): u for u in ET.fromstring(marked.encode()).iter(
        "{urn:oasis:names:tc:xliff:document:1.2}trans-unit")}
    states = {k: u.find("x:target", ns).get("state") for k, u in units.items()}
    assert states == {"save": "translated", "press": "needs-review-translation",
                      "trial": "needs-review-translation"}
    note = units["press"].find("x:note", ns)
    assert note.get("from") == "e5desk" and "tags" in note.text and "icu-format" in note.text
    assert units["save"].find("x:note", ns) is None
    before = read_entries([files["app.xlf"]])
    after = read_entries([outdir / "app.xlf"])
    assert [(e.source, e.target) for e in before] == [(e.source, e.target) for e in after]
    tmx = ET.fromstring((outdir / "memory.tmx").read_bytes())
    props = {tu.get("tuid"): [p.text for p in tu.findall("prop")
                              if p.get("type") == "x-e5desk-qa"] for tu in tmx.iter("tu")}
    assert props["a"] == [] and len(props["b"]) == 1 and props["b"][0].startswith("de: numbers")
    assert [p.get("type") for p in tmx.find("body")[1].findall("prop")] == [
        "x-client", "x-e5desk-qa"]
    tb, ta = read_entries([files["memory.tmx"]]), read_entries([outdir / "memory.tmx"])
    assert [(e.source, e.target) for e in tb] == [(e.source, e.target) for e in ta]


def test_cli_text_listing_and_unknown_check(files, capsys):
    assert main(["check", str(files["de.po"]), "--checks", "placeholder,markup"]) == 0
    out = capsys.readouterr()
    assert "error [python-brace-format]" in out.out and "missing {size}" in out.out
    assert "3 finding(s)" in out.err and "untranslated" not in out.out
    assert main(["check", str(files["de.po"]), "--checks", "spelling"]) == 2


def test_api_check_without_model(files):
    import e5desk

    result = e5desk.check(files["de.po"], checks="rules")
    assert {x.check for x in result.flagged} >= {"python-format", "tags", "untranslated"}
    assert isinstance(result.findings[0], Finding)


def test_doubtful_pairs_list_what_the_translation_leaves_out(real_encoder):
    """A translation that drops half the source: the word alignment names the missing
    content words in the report row and the text listing (issue 25: check's column)."""
    from e5desk.core.qa.report import Finding, text_lines
    from e5desk.core.qa.words import add_unaligned_words

    short = entry("The red car is parked next to the old bakery.", "Das rote Auto.")
    fine = entry("The cat sleeps on the sofa.", "Die Katze schläft auf dem Sofa.")
    findings = [Finding("meaning", short, "matches another source better", doubt=2.0),
                Finding("meaning", fine, "looks fine", flagged=False)]
    assert add_unaligned_words(real_encoder, findings) is None
    missing = set(findings[0].missing)
    assert {"parked", "bakery"} <= missing and not {"red", "car"} & missing
    assert findings[1].missing == [] and findings[1].added == []  # unflagged: not aligned
    row = findings[0].row()
    assert "bakery" in row["missing_in_translation"] and row["added_in_translation"] == ""
    assert any(line.strip().startswith("missing in translation:") and "bakery" in line
               for line in text_lines(findings[:1]))


XLIFF2 = '''<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="de">
  <file id="f1">
    <unit id="save">
      <segment state="final">
        <source>Your changes have been saved.</source>
        <target>Ihre Änderungen wurden gespeichert.</target>
      </segment>
    </unit>
    <unit id="upload">
      <notes><note category="dev">shown after an upload</note></notes>
      <segment id="s1" state="reviewed">
        <source>Uploaded {filename} ({size} MB).</source>
        <target>{filename} hochgeladen.</target>
      </segment>
    </unit>
    <unit id="trial">
      <segment>
        <source>The trial lasts 30 days.</source>
        <target>Die Testphase dauert 31 Tage.</target>
      </segment>
    </unit>
  </file>
</xliff>
'''


def test_marked_xliff2_segment_state_round_trip(tmp_path):
    """XLIFF 2.0: flagged segments leave reviewed/final for translated (initial stays),
    with subState e5desk:needs-review and a note; texts and everything else unchanged."""
    src = tmp_path / "app2.xlf"
    src.write_text(XLIFF2, encoding="utf-8")
    before = read_entries([src])
    assert [(e.unit_id, e.src_lang, e.tgt_lang) for e in before] == [
        ("save", "en", "de"), ("upload", "en", "de"), ("trial", "en", "de")]
    out = tmp_path / "marked.xlf"
    assert main(["check", str(src), "--checks", "rules", "--mark-fuzzy", str(out)]) == 0
    assert src.read_text("utf-8") == XLIFF2
    ns = "{urn:oasis:names:tc:xliff:document:2.0}"
    units = {u.get("id"): u for u in ET.fromstring(out.read_bytes()).iter(f"{ns}unit")}
    seg = {k: u.find(f"{ns}segment") for k, u in units.items()}
    assert seg["save"].get("state") == "final" and seg["save"].get("subState") is None
    assert seg["upload"].get("state") == "translated"
    assert seg["upload"].get("subState") == "e5desk:needs-review"
    assert seg["trial"].get("state") == "initial"  # no state: initial, and stays so
    assert seg["trial"].get("subState") == "e5desk:needs-review"
    notes = [n for n in units["upload"].iter(f"{ns}note")]
    assert [n.get("category") for n in notes] == ["dev", "e5desk"]
    assert "python-brace-format" in notes[1].text or "icu-format" in notes[1].text
    assert "numbers" in next(units["trial"].iter(f"{ns}note")).text
    assert units["save"].find(f"{ns}notes") is None
    after = read_entries([out])
    assert [(e.unit_id, e.source, e.target) for e in before] == \
        [(e.unit_id, e.source, e.target) for e in after]
    # a second pass over the marked copy keeps one subState per segment
    again = tmp_path / "again.xlf"
    assert main(["check", str(out), "--checks", "rules", "--mark-fuzzy", str(again)]) == 0
    assert again.read_text("utf-8").count("subState=") == 2


def test_every_translation_of_a_repeated_source_is_judged_by_meaning():
    """An XLIFF beside a memory: one source, a right and a wrong translation in one
    language. Both are judged (before, only the last one seen was)."""
    from e5desk.core.qa.run import meaning_findings

    pairs = [("Access denied", "Accès refusé"), ("Show more", "Afficher plus"),
             ("New password", "Nouveau mot de passe"), ("Upload a file", "Téléverser un fichier"),
             ("Delete this project", "Supprimer ce projet"), ("Invite people", "Inviter des gens"),
             ("Time zone", "Fuseau horaire"), ("Dark mode", "Mode sombre")]
    concept = {t: i for i, pair in enumerate(pairs) for t in pair}

    def encode(texts):
        v = np.zeros((len(texts), len(pairs) + 1))
        for r, t in enumerate(texts):
            v[r, concept[t]] = 1.0
            v[r, -1] = 0.3  # every text a little alike
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def unit(n, src, tgt, fmt):
        return Entry(f"x.{fmt}", fmt, n, src, tgt, "en", "fr", index=n)

    entries = [unit(n, s, t, "xliff") for n, (s, t) in enumerate(pairs)]
    entries[0] = unit(0, "Access denied", "Afficher plus", "xliff")  # wrong, seen first
    entries += [unit(n, s, t, "tmx") for n, (s, t) in enumerate(pairs)]  # right, seen last
    found, _, _ = meaning_findings(entries, encode)
    flagged = {(x.entry.fmt, x.entry.source) for x in found if x.flagged}
    assert ("xliff", "Access denied") in flagged
    assert ("tmx", "Access denied") not in flagged


def test_a_tables_message_keys_act_as_contexts(tmp_path):
    """A wide CSV keyed like "abbrev. month|March" tells two rows with the source "March"
    apart, as msgctxt does; without a key column the same rows are one message."""
    rows = [("month|March", "March", "März", "marzo"), ("abbrev. month|March", "March",
                                                       "Mär.", "mar."),
            ("save", "Save", "Speichern", "Guardar"), ("ok", "OK", "OK", "Aceptar")]
    keyed = tmp_path / "keyed.csv"
    keyed.write_text("key,en,de,es\n" + "".join(",".join(r) + "\n" for r in rows), "utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text("en,de,es\n" + "".join(",".join(r[1:]) + "\n" for r in rows), "utf-8")
    entries = read_entries([keyed])
    assert {e.context for e in entries} == {"month|March", "abbrev. month|March", None}
    assert run_checks(entries, ["same-source"]).findings == []
    found = run_checks(read_entries([plain]), ["same-source"]).findings
    assert {(x.entry.source, x.entry.tgt_lang) for x in found} == {("March", "de"),
                                                                   ("March", "es")}


def test_a_catalogues_language_and_a_memorys_region_are_one_for_consistency():
    def e(lang, target, file):
        return Entry(file, "po", 1, "Save", target, "en", lang)

    found = same_source([e("fr", "Enregistrer", "fr.po"), e("fr-FR", "Sauvegarder", "m.tmx")])
    assert {x.entry.file for x in found} == {"fr.po", "m.tmx"}
    # two regions of one language may differ: neither is merged with the other or with fr
    assert same_source([e("fr-CA", "Enregistrer", "a.po"), e("fr-FR", "Sauvegarder", "b.tmx"),
                        e("fr", "Sauvegarder", "c.po")]) == []


def test_exchanged_translations_are_found_by_their_swap_gain():
    from e5desk.core.qa.swaps import swapped_pairs

    rng = np.random.default_rng(3)
    concepts = rng.normal(size=(8, 32))

    def vec(c, noise=0.35):
        v = concepts[c] + noise * rng.normal(size=32)
        return v / np.linalg.norm(v)

    # rows 0..7: sources, 8..15: their translations; entries 2 and 5 exchanged
    vectors = np.stack([vec(c) for c in range(8)] + [vec(c) for c in range(8)])
    texts = [f"s{c}" for c in range(8)] + [f"t{c}" for c in range(8)]
    target_of = list(range(8))
    target_of[2], target_of[5] = 5, 2
    pairs = [(c, 8 + target_of[c]) for c in range(8)]
    found = swapped_pairs(vectors, texts, pairs, [True] * 8)
    assert set(found) == {2, 5} and found[2][0] == 5 and found[5][0] == 2
    assert found[2][1] > 30
    clean = [(c, 8 + c) for c in range(8)]
    assert swapped_pairs(vectors, texts, clean, [True] * 8) == {}
    # an entry that may not take part (no words) is never paired
    assert swapped_pairs(vectors, texts, pairs, [True, True, False] + [True] * 5) == {}


def test_a_clear_swap_of_abbreviations_is_still_flagged():
    """Abbreviations are not doubtful for a loose match, but two exchanged ones are."""
    from e5desk.core.qa.run import meaning_findings

    pairs = [("Mon", "lun."), ("Tue", "mar."), ("Wed", "mer."), ("Thu", "jeu."),
             ("Fri", "ven."), ("Sat", "sam."), ("Sun", "dim.")]
    concept = {t: i for i, pair in enumerate(pairs) for t in pair}

    def encode(texts):
        v = np.zeros((len(texts), len(pairs) + 1))
        for r, t in enumerate(texts):
            v[r, concept[t]], v[r, -1] = 1.0, 0.3
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def unit(n, src, tgt):
        return Entry("x.po", "po", n, src, tgt, "en", "fr", context="abbrev. weekday",
                     index=n)

    clean = [unit(n, s, t) for n, (s, t) in enumerate(pairs)]
    assert not [x for x in meaning_findings(clean, encode)[0] if x.flagged]
    swapped = list(clean)
    swapped[0], swapped[4] = unit(0, "Mon", "ven."), unit(4, "Fri", "lun.")
    flagged = {x.entry.source for x in meaning_findings(swapped, encode)[0] if x.flagged}
    assert flagged == {"Mon", "Fri"}


def test_a_catalogue_without_a_language_header(tmp_path):
    """Older catalogues have no Language header: the path says it, else the translations;
    before, every entry went to language None and the meaning check compared nothing."""
    from e5desk.core.qa.entries import language_of_catalogue

    body = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
            'msgid "Your changes have been saved."\nmsgstr "Vos modifications ont été '
            'enregistrées."\n\nmsgid "This link has expired."\nmsgstr "Ce lien a expiré."\n')
    (tmp_path / "src").mkdir()
    plain = tmp_path / "src" / "app.po"  # "src" is no language: the texts decide
    plain.write_text(body, "utf-8")
    assert {e.tgt_lang for e in read_entries([plain])} == {"fr"}
    layout = tmp_path / "locale" / "pt_BR" / "LC_MESSAGES"
    layout.mkdir(parents=True)
    assert language_of_catalogue(layout / "django.po", []) == "pt-BR"
    assert language_of_catalogue(tmp_path / "sr@latin.po", []) == "sr"
    assert language_of_catalogue(tmp_path / "messages.po", []) is None
