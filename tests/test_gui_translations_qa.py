"""Translations ▸ Suspect translations as a QA pass (issue 26, issue 25 part 2) and the split
of the tab into sub-tab modules over a Qt-free state (issue 24): rule findings with a kind
column and filter, the words a doubtful translation leaves out, and "Save a marked copy…"
of a loaded catalogue (pytest-qt, offscreen, embedded model)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from e5desk.gui.translations import state

PAIRS = [  # (English, German): the catalogue's messages
    ("Your changes have been saved.", "Ihre Änderungen wurden gespeichert."),
    ("The file could not be opened.", "Die Datei konnte nicht geöffnet werden."),
    ("Delete this account permanently?", "Dieses Konto endgültig löschen?"),
    ("Hello %(name)s, you have new messages.", "Hallo, Sie haben neue Nachrichten."),
    ("<b>Warning:</b> this cannot be undone.",
     "<b>Warnung:<b> Dies kann nicht rückgängig gemacht werden."),
    ("The weather is sunny and warm today.", "Bitte geben Sie Ihr Passwort erneut ein."),
    ("Please enter your password again.", "Das Wetter ist heute sonnig und warm."),
    ("Your order will arrive tomorrow morning.", "Ihre Bestellung kommt morgen früh an."),
    ("Print the invoice as a PDF document.", "Die Rechnung als PDF-Dokument drucken."),
    ("The meeting was moved to Thursday.", "Das Treffen wurde auf Donnerstag verlegt."),
    ("Choose a colour for the background.", "Wählen Sie eine Farbe für den Hintergrund."),
    ("Search results are sorted by date.", "Suchergebnisse sind nach Datum sortiert."),
]
PLACEHOLDER, TAGS = PAIRS[3][0], PAIRS[4][0]
SWAPPED = {PAIRS[5][0], PAIRS[6][0]}


def _po_text() -> str:
    head = ('msgid ""\nmsgstr ""\n"Language: de\\n"\n'
            '"Content-Type: text/plain; charset=UTF-8\\n"\n\n')
    body = "".join(f'#: app.py:{i}\nmsgid "{s}"\nmsgstr "{t}"\n\n'
                   for i, (s, t) in enumerate(PAIRS, 1))
    return head + body


# -- the Qt-free state -------------------------------------------------------------------------
def _suspect(src, tgt, doubt, reason, group):
    return SimpleNamespace(src=src, tgt=tgt, doubt=doubt, score=80.0, reason=reason,
                           group=group)


def test_suspect_table_puts_rule_findings_first_with_their_kind():
    from e5desk.core.qa import Entry, Finding

    texts = ["Hi %s", "Hallo", "One", "Zwei", "Two", "Eins"]
    groups = ["g1", "g1", "g2", "g2", "g3", "g3"]
    rule = Finding("c-format", Entry("x", "window", 1, "Hi %s", "Hallo", "en", "de",
                                     index=1), "placeholder %s missing")
    suspects = [_suspect(2, 3, 9.0, "matches another source better", "g2"),
                _suspect(4, 5, -1.0, "looks fine", "g3")]
    t = state.suspect_table(suspects, [rule], texts, groups, "en", "de")
    assert t.headers[:4] == ["doubt", "group", "source (en)", "translation (de)"]
    assert t.headers[-1] == "reason" and state.MISSING in t.headers
    kinds = t.columns[t.headers.index("kind")]
    assert list(kinds) == ["placeholder", "meaning", "meaning"]
    assert t.columns[2] == ["Hi %s", "One", "Two"] and np.isnan(t.columns[0][0])
    assert t.columns[-1][0].startswith("error: ") and t.muted == [False, False, True]
    assert t.extra["pairs"] == [(1, "One", "Zwei")]  # only flagged meanings get words
    assert state.kind_choices(kinds) == [state.ALL_KINDS, "placeholder", "meaning"]
    assert list(state.rows_of_kind(kinds, "meaning")) == [1, 2]
    assert list(state.rows_of_kind(kinds, state.ALL_KINDS)) == [0, 1, 2]


def test_rule_findings_of_loaded_texts(tmp_path):
    from e5desk.core.data import load_sentence_set

    po = tmp_path / "de.po"
    po.write_text(_po_text(), encoding="utf-8")
    s = load_sentence_set(po).sentence_set
    found = state.rule_findings(s, "en", "de")
    by_source = {x.entry.source: x.kind for x in found}
    assert by_source[PLACEHOLDER] == "placeholder" and by_source[TAGS] == "markup"
    assert not SWAPPED & set(by_source)  # meaning is not a rule's business
    assert all(x.entry.src_lang == "en" and x.entry.tgt_lang == "de" for x in found)
    reverse = state.rule_findings(s, "de", "en")
    assert reverse and all(x.entry.src_lang == "de" for x in reverse)
    assert state.rule_findings(s, "en", "fr") == []


def test_bar_at_and_bar_values():
    results = {"all": {"P@1": 0.9}, "en→de": {"P@1": float("nan")}}
    names, values = state.bar_values(results, "P@1")
    assert names == ["all", "en→de"]
    assert state.bar_at(values, 0.1, 0.5) == 0 and state.bar_at(values, 0.5, 0.5) is None
    assert state.bar_at(values, 1.0, 0.01) == 1 and state.bar_at(values, 1.0, 0.5) is None


# -- in the window ---------------------------------------------------------------------------
try:
    import pytestqt  # noqa: F401
except ImportError:  # pragma: no cover - the plain tests above still run
    pytestqt = None
needs_qtbot = pytest.mark.skipif(pytestqt is None, reason="pytest-qt is not installed")


def _open_catalogue(qtbot, window, path):
    from gui_helpers import wait_idle

    window.start(files=[str(path)], sample=False)
    qtbot.waitUntil(lambda: window.session.encoder is not None
                    and window.session.combined is not None, timeout=120_000)
    wait_idle(qtbot, window)
    return window.translations


def _checked_en_de(qtbot, window, path):
    """The catalogue opened and checked en -> de in Suspect translations."""
    from gui_helpers import wait_idle

    view = _open_catalogue(qtbot, window, path)
    view.tabs.setCurrentIndex(1)
    view.src_lang.setCurrentText("en")
    view.tgt_lang.setCurrentText("de")
    view.check()
    qtbot.waitUntil(lambda: view.suspect_model.rowCount() > 0, timeout=120_000)
    wait_idle(qtbot, window)
    return view


@needs_qtbot
def test_suspects_list_rules_by_kind_and_missing_words(qtbot, window, tmp_path):
    po = tmp_path / "de.po"
    po.write_text(_po_text(), encoding="utf-8")
    view = _checked_en_de(qtbot, window, po)
    model = view.suspect_model
    col = {h: i for i, h in enumerate(model.headers)}
    kinds = list(model.columns[col["kind"]])
    sources = list(model.columns[col["source (en)"]])
    assert kinds[sources.index(PLACEHOLDER)] == "placeholder"
    assert kinds[sources.index(TAGS)] == "markup"
    assert kinds[:2] == ["placeholder", "markup"] or kinds[:2] == ["markup", "placeholder"]
    # the swapped pair is a meaning suspect, and the alignment says what it leaves out
    flagged = [r for r, s in enumerate(sources) if s in SWAPPED and kinds[r] == "meaning"]
    assert flagged and all(not model.muted[r] for r in flagged)
    missing = [str(model.columns[col[state.MISSING]][r]) for r in flagged]
    assert all(missing), missing
    assert "weather" in missing[[sources[r] for r in flagged].index(PAIRS[5][0])]
    # the kind filter shows one kind; all kinds shows every row again
    box = view.kind_filter
    assert [box.itemText(i) for i in range(box.count())][0] == state.ALL_KINDS
    box.setCurrentText("placeholder")
    assert model.rowCount() == 1 and model.source_row(0) == sources.index(PLACEHOLDER)
    box.setCurrentText(state.ALL_KINDS)
    assert model.rowCount() == len(sources)


@needs_qtbot
def test_save_a_marked_copy_never_over_the_input(qtbot, window, tmp_path, monkeypatch):
    import polib
    from gui_helpers import status_text, wait_idle

    from e5desk.gui.translations import suspects

    po = tmp_path / "de.po"
    po.write_text(_po_text(), encoding="utf-8")
    before = po.read_bytes()
    view = _open_catalogue(qtbot, window, po)
    answer = [str(po)]
    monkeypatch.setattr(suspects.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (answer[0], "")))
    view.mark_button.click()  # the input itself: refused at once
    assert "never written over the input" in status_text(window)
    out = tmp_path / "marked" / "de.marked.po"
    out.parent.mkdir()
    answer[0] = str(out)
    view.mark_button.click()
    qtbot.waitUntil(lambda: out.exists(), timeout=120_000)
    wait_idle(qtbot, window)
    assert po.read_bytes() == before
    marked = {e.msgid: e for e in polib.pofile(str(out))}
    assert [e.msgid for e in polib.pofile(str(out))] == [s for s, _ in PAIRS]
    fuzzy = {s for s, e in marked.items() if "fuzzy" in e.flags}
    assert {PLACEHOLDER, TAGS} <= fuzzy and SWAPPED <= fuzzy  # rules and meaning (a model)
    assert PAIRS[0][0] not in fuzzy
    assert "e5desk:" in marked[PLACEHOLDER].comment
    assert f"Wrote {out}" in status_text(window)


# -- Similar strings (issue 26, item 4) ----------------------------------------------------------
SIMILAR = [("Your changes were saved.", "Die Datei konnte nicht geöffnet werden."),
           ("Your changes have been saved!", "Ihre Änderungen wurden gespeichert!")]


def test_similar_strings_list_neighbours_and_flag_diverging_translations(real_encoder):
    pairs = PAIRS + SIMILAR
    texts = [x for p in pairs for x in p]
    langs = ["en", "de"] * len(pairs)
    groups = [f"g{i}" for i in range(len(pairs)) for _ in range(2)]
    vectors = real_encoder.encode(texts, role="query")
    t = state.similar_strings(texts, langs, groups, vectors, PAIRS[0][0], PAIRS[0][1],
                              "en", "de", n=4)
    col = {h: i for i, h in enumerate(t.headers)}
    sources = list(t.columns[col["similar source (en)"]])
    assert len(sources) == 4 and PAIRS[0][0] not in sources
    assert set(sources[:2]) == {s for s, _ in SIMILAR}  # the near-identical ones first
    sims = t.columns[col["similarity"]]
    assert all(sims[i] >= sims[i + 1] for i in range(3))
    translated = dict(zip(sources, t.columns[col["its translation (de)"]], strict=True))
    assert translated[SIMILAR[0][0]] == SIMILAR[0][1]
    notes = dict(zip(sources, t.columns[col["note"]], strict=True))
    assert notes[SIMILAR[0][0]] == state.DIVERGES  # "were saved" -> "could not be opened"
    assert notes[SIMILAR[1][0]] == ""  # the same message with "!": translated alike
    assert t.extra["diverging"].count(True) == 1
    none = state.similar_strings(texts, langs, groups, vectors, "not loaded", "", "en", "de")
    assert none.extra["found"] is False and len(none.columns[0]) == 0


@needs_qtbot
def test_similar_strings_panel_follows_the_selected_entry(qtbot, window, tmp_path):
    po = tmp_path / "de.po"
    text = _po_text() + "".join(f'msgid "{s}"\nmsgstr "{t}"\n\n' for s, t in SIMILAR)
    po.write_text(text, encoding="utf-8")
    view = _checked_en_de(qtbot, window, po)
    model = view.suspect_model
    sources = list(model.columns[model.headers.index("source (en)")])
    # select the meaning row of "Your changes have been saved." (a "looks fine" row)
    row = next(r for r in range(model.rowCount())
               if sources[model.source_row(r)] == PAIRS[0][0])
    view.suspect_table.selectRow(row)
    similar = view.similar_model
    qtbot.waitUntil(lambda: similar.rowCount() > 0, timeout=10_000)
    col = {h: i for i, h in enumerate(similar.headers)}
    shown = list(similar.columns[col["similar source (en)"]])
    assert set(shown[:2]) == {s for s, _ in SIMILAR}
    translations = dict(zip(shown, similar.columns[col["its translation (de)"]], strict=True))
    assert translations[SIMILAR[1][0]] == SIMILAR[1][1]
    notes = dict(zip(shown, similar.columns[col["note"]], strict=True))
    assert notes[SIMILAR[0][0]] == state.DIVERGES and notes[SIMILAR[1][0]] == ""
    assert "translated differently" in view.similar_title.text()
    # another entry: the panel follows
    other = next(r for r in range(model.rowCount())
                 if sources[model.source_row(r)] == PAIRS[9][0])
    view.suspect_table.selectRow(other)
    qtbot.waitUntil(lambda: PAIRS[9][0][:20] in view.similar_title.text(), timeout=10_000)
    assert PAIRS[9][0] not in list(similar.columns[col["similar source (en)"]])


def test_rule_findings_honour_the_catalogues_format_flags(tmp_path):
    """As `check` does: python-format finds a stray % that no unflagged shape shows and
    names the check python-format; no-c-format keeps a literal "%s" from being checked."""
    from e5desk.core.data import load_sentence_set

    po = tmp_path / "de.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-format\nmsgid "Disk %(name)s is %(pct)d%% full."\n'
        'msgstr "Datenträger %(name)s ist zu %(pct)d % voll."\n\n'
        '#, no-c-format\nmsgid "Type %s to search for text."\n'
        'msgstr "Geben Sie %d ein, um nach Text zu suchen."\n\n'
        '#, python-brace-format\nmsgid "Uploaded {filename} ({size} MB)."\n'
        'msgstr "{filename} hochgeladen."\n', encoding="utf-8")
    s = load_sentence_set(po).sentence_set
    by_source = {x.entry.source: x for x in state.rule_findings(s, "en", "de", [po])}
    disk = by_source["Disk %(name)s is %(pct)d%% full."]
    assert disk.check == "python-format" and "not a valid directive" in disk.reason
    assert "Type %s to search for text." not in by_source
    assert by_source["Uploaded {filename} ({size} MB)."].check == "python-brace-format"
    # without the catalogue (the loaded texts alone) the flags are unknown: shapes only
    blind = {x.entry.source: x for x in state.rule_findings(s, "en", "de")}
    assert "Disk %(name)s is %(pct)d%% full." not in blind
    assert blind["Type %s to search for text."].check == "c-format"
