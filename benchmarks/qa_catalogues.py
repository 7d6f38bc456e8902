"""Translation QA on real-shaped catalogues with injected errors (issue 26).

Builds, in a temporary folder: de.po, ja.po, ru.po (the hand-written Pyrame catalogues of
tests/data/real plus 14 messages written here with c-format, python-brace-format, ICU,
tags, numbers, URLs, plurals), fr.po (those 14 only), de-admin.po (a second German domain
sharing messages with de.po), an XLIFF 1.2 (en->de) and the TMX memory; once clean and
once with injected errors: placeholders dropped/renamed, tags broken, numbers changed,
URLs changed, plural forms missing, translations swapped, inconsistent duplicates. Then
runs every check (embedded multilingual-e5-small) and prints: injected rule errors found,
swapped entries found, inconsistent duplicates found, and findings on the clean build by
kind (the false alarms).

    python benchmarks/qa_catalogues.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import polib

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real"
PLURAL_FORMS = {"de": "nplurals=2; plural=(n != 1);", "fr": "nplurals=2; plural=(n > 1);",
                "ja": "nplurals=1; plural=0;",
                "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                      "(n%100<10 || n%100>=20) ? 1 : 2);"}
# (flags, msgid, {lang: msgstr}) ; plural entries: (flags, (msgid, msgid_plural), {lang: [forms]})
EXTRA = [
    ("c-format", "%d files selected", {
        "de": "%d Dateien ausgewählt", "fr": "%d fichiers sélectionnés",
        "ja": "%d 個のファイルを選択しました", "ru": "Выбрано файлов: %d"}),
    ("c-format", "Copied %s to %s.", {
        "de": "%s wurde nach %s kopiert.", "fr": "%s copié vers %s.",
        "ja": "%s を %s にコピーしました。", "ru": "%s скопирован в %s."}),
    ("c-format", "Disk %1$s is %2$d%% full.", {
        "de": "Datenträger %1$s ist zu %2$d%% voll.", "fr": "Le disque %1$s est plein à %2$d%%.",
        "ja": "ディスク %1$s の使用率は %2$d%% です。", "ru": "Диск %1$s заполнен на %2$d%%."}),
    ("python-brace-format", "Hello {name}, you have {count} new messages.", {
        "de": "Hallo {name}, Sie haben {count} neue Nachrichten.",
        "fr": "Bonjour {name}, vous avez {count} nouveaux messages.",
        "ja": "{name} さん、新しいメッセージが {count} 件あります。",
        "ru": "Здравствуйте, {name}! У вас {count} новых сообщений."}),
    ("python-brace-format", "Uploaded {filename} ({size} MB).", {
        "de": "{filename} hochgeladen ({size} MB).", "fr": "{filename} téléversé ({size} Mo).",
        "ja": "{filename} をアップロードしました（{size} MB）。",
        "ru": "Файл {filename} загружен ({size} МБ)."}),
    ("python-format", 'Click <a href="%(url)s">here</a> to reset your password.', {
        "de": 'Klicken Sie <a href="%(url)s">hier</a>, um Ihr Passwort zurückzusetzen.',
        "fr": 'Cliquez <a href="%(url)s">ici</a> pour réinitialiser votre mot de passe.',
        "ja": 'パスワードを再設定するには<a href="%(url)s">こちら</a>をクリックしてください。',
        "ru": 'Нажмите <a href="%(url)s">здесь</a>, чтобы сбросить пароль.'}),
    ("", "<b>Warning:</b> this cannot be undone.", {
        "de": "<b>Warnung:</b> Dies kann nicht rückgängig gemacht werden.",
        "fr": "<b>Attention :</b> cette action est irréversible.",
        "ja": "<b>警告：</b>この操作は元に戻せません。",
        "ru": "<b>Внимание:</b> это действие нельзя отменить."}),
    ("", "Passwords must be at least 12 characters long.", {
        "de": "Passwörter müssen mindestens 12 Zeichen lang sein.",
        "fr": "Les mots de passe doivent comporter au moins 12 caractères.",
        "ja": "パスワードは12文字以上にしてください。",
        "ru": "Пароль должен содержать не менее 12 символов."}),
    ("", "The trial period lasts 30 days.", {
        "de": "Der Testzeitraum dauert 30 Tage.", "fr": "La période d’essai dure 30 jours.",
        "ja": "試用期間は30日間です。", "ru": "Пробный период длится 30 дней."}),
    ("", "Read the guide at https://docs.pyrame.example.org/start.", {
        "de": "Lesen Sie die Anleitung unter https://docs.pyrame.example.org/start.",
        "fr": "Lisez le guide sur https://docs.pyrame.example.org/start.",
        "ja": "ガイドは https://docs.pyrame.example.org/start をご覧ください。",
        "ru": "Прочитайте руководство на https://docs.pyrame.example.org/start."}),
    ("", "Write to support@pyrame.example.org for help.", {
        "de": "Schreiben Sie an support@pyrame.example.org, um Hilfe zu erhalten.",
        "fr": "Écrivez à support@pyrame.example.org pour obtenir de l’aide.",
        "ja": "サポートが必要な場合は support@pyrame.example.org までご連絡ください。",
        "ru": "Чтобы получить помощь, напишите на support@pyrame.example.org."}),
    ("", "{0} of {1} items", {
        "de": "{0} von {1} Elementen", "fr": "{0} sur {1} éléments", "ja": "{1} 件中 {0} 件",
        "ru": "{0} из {1} элементов"}),
    ("c-format", ("%d comment", "%d comments"), {
        "de": ["%d Kommentar", "%d Kommentare"], "fr": ["%d commentaire", "%d commentaires"],
        "ja": ["%d 件のコメント"],
        "ru": ["%d комментарий", "%d комментария", "%d комментариев"]}),
    ("", "Search: ", {"de": "Suchen: ", "fr": "Rechercher : ", "ja": "検索：", "ru": "Поиск: "}),
]
# (lang, msgid, how, expected check)
INJECT = [
    ("de", 'Click <a href="%(url)s">here</a> to reset your password.', "drop %(url)s",
     "python-format"),
    ("de", "Passwords must be at least 12 characters long.", "12->10", "numbers"),
    ("de", "<b>Warning:</b> this cannot be undone.", "</b>-><b>", "tags"),
    ("de", "Hello {name}, you have {count} new messages.", "{count}->{anzahl}",
     "python-brace-format"),
    ("de", "The trial period lasts 30 days.", "same as source", "same-as-source"),
    ("fr", "Copied %s to %s.", "drop second %s", "c-format"),
    ("fr", "Read the guide at https://docs.pyrame.example.org/start.", "url host",
     "urls"),
    ("fr", "%d comment", "one plural form", "plural-forms"),
    ("fr", "{0} of {1} items", "{1}->{2}", "icu-format"),
    ("ja", "Ensure this value has at most %(limit_value)d characters (it has "
     "%(show_value)d).", "%(limit_value)d->%(limit)d", "python-format"),
    ("ja", "The trial period lasts 30 days.", "30->3", "numbers"),
    ("ja", 'Click <a href="%(url)s">here</a> to reset your password.', "drop <a>", "tags"),
    ("ja", "Disk %1$s is %2$d%% full.", "%1$s->%3$s", "c-format"),
    ("ru", "Ensure this value has at least %(limit_value)d characters (it has "
     "%(show_value)d).", "drop %(show_value)d", "python-format"),
    ("ru", "Uploaded {filename} ({size} MB).", "drop {size}", "python-brace-format"),
    ("ru", "Write to support@pyrame.example.org for help.", "e-mail", "urls"),
    ("ru", "%d comment", "two forms", "plural-forms"),
    ("ru", "<b>Warning:</b> this cannot be undone.", "repeat word", "repeated-word"),
    ("ru", "Search: ", "no trailing space", "whitespace"),
]


def _apply(text: str, how: str) -> str:
    if how.startswith("drop ") and how[5:] in text and how[5:] not in ("second %s", "<a>"):
        return text.replace(how[5:], "", 1).replace("  ", " ")
    rules = {"12->10": ("12", "10"), "</b>-><b>": ("</b>", "<b>"),
             "{count}->{anzahl}": ("{count}", "{anzahl}"), "{1}->{2}": ("{1}", "{2}"),
             "%(limit_value)d->%(limit)d": ("%(limit_value)d", "%(limit)d"),
             "30->3": ("30", "3"), "%1$s->%3$s": ("%1$s", "%3$s"),
             "url host": ("docs.pyrame.example.org", "docs.pyrame.example.fr"),
             "e-mail": ("support@pyrame.example.org", "help@pyrame.example.org")}
    if how in rules:
        a, b = rules[how]
        return text.replace(a, b, 1)
    if how == "drop second %s":
        i = text.rfind("%s")
        return text[:i] + text[i + 2:]
    if how == "drop <a>":
        import re

        return re.sub(r"</?a[^>]*>", "", text)
    if how == "repeat word":
        return text.replace("это", "это это", 1)
    if how == "no trailing space":
        return text.rstrip()
    raise ValueError(how)


def build(folder: Path, inject: bool, seed: int = 7) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truth: dict = {"rules": [], "swaps": [], "dups": []}
    catalogues = {}
    for lang in ("de", "fr", "ja", "ru"):
        if lang == "fr":
            po = polib.POFile()
            po.metadata = {"Project-Id-Version": "Pyrame 3.2", "Language": "fr",
                           "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
                           "Content-Transfer-Encoding": "8bit",
                           "Plural-Forms": PLURAL_FORMS["fr"]}
        else:
            po = polib.pofile(str(REAL / "catalogues" / f"{lang}.po"))
        for flags, msgid, tr in EXTRA:
            if isinstance(msgid, tuple):
                e = polib.POEntry(msgid=msgid[0], msgid_plural=msgid[1],
                                  msgstr_plural=dict(enumerate(tr[lang])))
            else:
                e = polib.POEntry(msgid=msgid, msgstr=tr[lang])
            if flags:
                e.flags = [flags]
            e.occurrences = [("pyrame/extra.py", str(len(po)))]
            po.append(e)
        catalogues[lang] = po
    if inject:
        for lang, msgid, how, check in INJECT:
            e = catalogues[lang].find(msgid)
            if how == "same as source":
                e.msgstr = e.msgid
            elif how == "one plural form":
                e.msgstr_plural = {0: e.msgstr_plural[0]}
            elif how == "two forms":
                e.msgstr_plural = {0: e.msgstr_plural[0], 1: e.msgstr_plural[1]}
            else:
                e.msgstr = _apply(e.msgstr, how)
            truth["rules"].append((f"{lang}.po", msgid, check))
        for lang in ("de", "ja", "ru"):
            long_ = [e for e in catalogues[lang] if e.msgstr and not e.msgid_plural
                     and len(e.msgid) > 20 and not e.fuzzy and not e.obsolete
                     and not any(x[1] == e.msgid for x in INJECT)]
            picked = rng.sample(long_, 10)
            for a, b in zip(picked[::2], picked[1::2], strict=True):
                a.msgstr, b.msgstr = b.msgstr, a.msgstr
                truth["swaps"] += [(f"{lang}.po", a.msgid), (f"{lang}.po", b.msgid)]
    for lang, po in catalogues.items():
        po.save(str(folder / f"{lang}.po"))
    # a second German domain: five shared messages, three translated another way
    admin = polib.POFile()
    admin.metadata = dict(catalogues["de"].metadata)
    other = {"This field is required.": "Dieses Feld muss ausgefüllt werden.",
             "Enter a valid email address.": "Geben Sie eine gültige E-Mail ein.",
             "Enter a valid URL.": "Gib eine gültige Adresse ein."}
    for msgid in ["This field is required.", "Enter a valid email address.",
                  "Enter a number.", "Enter a valid date.", "Enter a valid URL."]:
        base = catalogues["de"].find(msgid)
        text = base.msgstr if base else msgid
        if inject and msgid in other and base:
            text = other[msgid]
            truth["dups"].append(("de-admin.po", msgid))
        admin.append(polib.POEntry(msgid=msgid, msgstr=text))
    admin.save(str(folder / "de-admin.po"))
    # XLIFF 1.2 en->de of the extra messages, with inline codes
    units = []
    for n, (_, msgid, tr) in enumerate(EXTRA[:12], 1):
        if isinstance(msgid, tuple):
            continue
        src, tgt = msgid, tr["de"]
        if n == 7:
            src = 'Press <ph id="1"/> to save <g id="2">now</g>.'
            tgt = 'Drücken Sie <ph id="1"/>, um <g id="2">jetzt</g> zu speichern.'
            if inject:
                tgt = "Drücken Sie die Taste, um <g id=\"2\">jetzt</g> zu speichern."
                truth["rules"].append(("app.xlf", "u7", "tags"))
        esc = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
        if n != 7:
            src, tgt = ("".join(esc.get(c, c) for c in t) for t in (src, tgt))
        if inject and n == 9:
            tgt = tgt.replace("30", "31")
            truth["rules"].append(("app.xlf", "u9", "numbers"))
        units.append(f'      <trans-unit id="u{n}">\n        <source>{src}</source>\n'
                     f'        <target state="translated">{tgt}</target>\n      </trans-unit>')
    (folder / "app.xlf").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="1.2" '
        'xmlns="urn:oasis:names:tc:xliff:document:1.2">\n  <file original="app" '
        'source-language="en" target-language="de" datatype="plaintext">\n    <body>\n'
        + "\n".join(units) + "\n    </body>\n  </file>\n</xliff>\n", encoding="utf-8")
    tmx = (REAL / "memory.tmx").read_text(encoding="utf-8")
    if inject:
        tmx = tmx.replace("Dernière mise à jour le 3 mars 2024",
                          "Dernière mise à jour le 3 mars 2023")
        truth["rules"].append(("memory.tmx", "Last updated on March 3, 2024", "numbers"))
    (folder / "memory.tmx").write_text(tmx, encoding="utf-8")
    return truth


def run(folder: Path, encode) -> list:
    from e5desk.core.qa import pick_checks, read_entries, run_checks

    files = sorted(folder.glob("*.po")) + [folder / "app.xlf", folder / "memory.tmx"]
    entries = read_entries(files)
    return run_checks(entries, pick_checks("all"), encode).flagged


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    from e5desk.core.encoder import Encoder
    from e5desk.core.models.families import SYMMETRIC_ROLE

    encoder = Encoder.load(None)

    def encode(texts):
        return encoder.encode(texts, role=SYMMETRIC_ROLE)

    tmp = Path(args.keep or tempfile.mkdtemp())
    clean = tmp / "clean"
    bad = tmp / "injected"
    build(clean, inject=False)
    truth = build(bad, inject=True)
    found = run(bad, encode)

    def hit(file, source, checks):
        return any(Path(x.entry.file).name == file and x.check in checks
                   and (x.entry.source == source or x.entry.unit_id == source)
                   for x in found)

    rules = [(t, hit(t[0], t[1], {t[2]})) for t in truth["rules"]]
    swaps = [(t, hit(t[0], t[1], {"meaning"})) for t in truth["swaps"]]
    dups = [(t, hit(t[0], t[1], {"same-source"})) for t in truth["dups"]]
    print(f"injected rule errors found: {sum(h for _, h in rules)}/{len(rules)}")
    for t, h in rules:
        if not h:
            print("   missed:", t)
    print(f"swapped entries found (meaning): {sum(h for _, h in swaps)}/{len(swaps)}")
    print(f"inconsistent duplicates found (same-source): {sum(h for _, h in dups)}/{len(dups)}")
    extra = [x for x in found if not any(
        Path(x.entry.file).name == t[0] and t[1] in (x.entry.source, x.entry.unit_id)
        for t in truth["rules"] + truth["swaps"] + truth["dups"])]
    print("other findings on the injected build by check:",
          dict(Counter(x.check for x in extra)))
    clean_found = run(clean, encode)
    print(f"findings on the clean build: {len(clean_found)}; by kind/check:",
          dict(Counter((x.kind, x.check) for x in clean_found)))
    for x in clean_found:
        if x.check != "untranslated":
            print(f"   {x.check}: {Path(x.entry.file).name}:{x.entry.line} "
                  f"{x.entry.identity[:40]!r} -> {x.entry.target[:30]!r}: {x.reason[:90]}")
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
