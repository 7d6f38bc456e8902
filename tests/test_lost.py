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
