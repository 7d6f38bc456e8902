"""QA rehearsal on a catalogue the checks were not tuned on (issue 26's hidden check).

Builds, in a folder: the hand-written French "Tasklane" catalogue (benchmarks/
qa_fr_catalogue.py: 250+ entries, plurals, python-format, python-brace-format,
javascript-format, msgctxt, HTML, URLs, numbers, fuzzy, obsolete, untranslated, wrapped
multi-line msgids) as fr.po + fr-js.po (a second domain sharing 10 messages), the same as
an XLIFF 1.2 (en->fr) and a multi-language TMX (en/fr from it, plus en/de/es/ja/ru/ar units
from tests/data/real/catalogues). Once clean, once with injected errors (placeholders
dropped/renamed, tags broken, numbers changed, URLs changed, plural forms missing, 12
swapped pairs, inconsistent duplicates). Runs `e5desk check` (embedded model) on both and
prints: findings on the clean build by kind (the false alarms), injected rule errors found,
swaps found, duplicates found; then checks the --mark-fuzzy copy with polib.

    python benchmarks/qa_rehearsal.py [--keep DIR] [--seed 3]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qa_fr_catalogue import ENTRIES, FUZZY, JS_ENTRIES, OBSOLETE, UNTRANSLATED  # noqa: E402
from qa_zh_catalogue import ZH, ZH_CONTEXT  # noqa: E402

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real" / "catalogues"
E5DESK = [sys.executable, "-m", "e5desk"]
FR_PLURALS = "nplurals=2; plural=(n > 1);"

# (msgid, how, expected check): each a different entry of fr.po
INJECT = [
    ("Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
     ("(actuellement %(show_value)d)", "(actuellement)"), "python-format"),
    ("The project “%(name)s” was deleted.", ("%(name)s", "%(nom)s"), "python-format"),
    ("Showing %s of %s", ("sur %s", "sur"), "python-format"),
    ("%(percent)d%% complete", ("%(percent)d %%", "%(percent)d %"), "python-format"),
    ("{count} of {total} selected", ("{total}", "{totale}"), "python-brace-format"),
    ("Last edited by {user} on {date}", ("par {user} ", ""), "python-brace-format"),
    ("<strong>Note:</strong> changes are saved automatically.", ("</strong>", "<strong>"),
     "tags"),
    ("Press <kbd>Ctrl</kbd>+<kbd>S</kbd> to save.", ("<kbd>S</kbd>", "S"), "tags"),
    ("Read our <a href=\"%(url)s\">privacy policy</a>.", ("</a>", ""), "tags"),
    ("Passwords must contain at least 8 characters.", ("8", "6"), "numbers"),
    ("Up to 1,000 API requests per hour.", ("1\u00a0000", "10\u00a0000"), "numbers"),
    ("Links expire after 48 hours.", ("48", "24"), "numbers"),
    ("Visit https://status.tasklane.io for the service status.",
     ("status.tasklane.io", "statut.tasklane.fr"), "urls"),
    ("Contact support@tasklane.io if you need help.", ("support@", "aide@"), "urls"),
    ("Sort by: ", (": ", ":"), "whitespace"),
    ("Hello %(name)s,\n\nYou have been invited to join %(project)s on Tasklane.\n\n"
     "Click the link below to accept the invitation:\n%(link)s\n", ("%(link)s\n", "%(link)s"),
     "whitespace"),
    ("Choose who can see this project.", ("voir ce", "voir voir ce"), "repeated-word"),
    ("Deleting your account removes all of your personal data from our servers.",
     "same as source", "same-as-source"),
    ("%(count)d member", "one form", "plural-forms"),
    ("%(count)d file was uploaded.", ("%(count)d fichiers", "%(n)d fichiers"), "python-format"),
    ("{count} hour ago", ("{count} heures", "{nombre} heures"), "python-brace-format"),
    ("Type <code>DELETE</code> to confirm.", ("<code>DELETE</code>", "<code>DELETE<code>"),
     "tags"),
]
JS_INJECT = [("%s of %s uploaded", ("%s sur %s", "%s sur"), "c-format")]
# fr-js.po: a shared message translated another way (same-source)
JS_DUPS = {"Save": "Sauvegarder", "Are you sure?": "Vous êtes sûr\u00a0?",
           "Copy link": "Copier l’adresse"}
XLIFF_INJECT = [
    ("Task %(id)s is overdue by %(days)s days.", ("%(days)s", "%(jours)s"), "python-format"),
    ("Files larger than 25 MB cannot be uploaded.", ("25", "52"), "numbers"),
    ("This action <em>cannot</em> be undone.", ("</em>", ""), "tags"),
]
TMX_INJECT = [  # (lang, msgid, how, check)
    ("fr", "Welcome back, {name}!", ("{name}", ""), "icu-format"),
    ("fr", "Backups are kept for 30 days.", ("30", "3"), "numbers"),
]


def _apply(text: str, how) -> str:
    if how == "same as source":
        raise ValueError
    a, b = how
    assert a in text, (a, text)
    return text.replace(a, b, 1)


def _po(lang: str = "fr", domain: str = "tasklane") -> polib.POFile:
    po = polib.POFile(wrapwidth=79)
    po.metadata = {"Project-Id-Version": f"{domain} 2.4", "Report-Msgid-Bugs-To": "",
                   "POT-Creation-Date": "2026-11-02 10:12+0100",
                   "PO-Revision-Date": "2026-11-20 16:40+0100",
                   "Last-Translator": "Camille Martin <camille@example.org>",
                   "Language-Team": "French", "Language": lang, "MIME-Version": "1.0",
                   "Content-Type": "text/plain; charset=UTF-8",
                   "Content-Transfer-Encoding": "8bit", "Plural-Forms": FR_PLURALS}
    return po


def _entry(ctx, msgid, msgstr, flags, comment, n: int, module: str) -> polib.POEntry:
    if isinstance(msgid, tuple):
        e = polib.POEntry(msgid=msgid[0], msgid_plural=msgid[1],
                          msgstr_plural=dict(enumerate(msgstr)))
    else:
        e = polib.POEntry(msgid=msgid, msgstr=msgstr)
    if ctx:
        e.msgctxt = ctx
    e.flags = [f for f in flags.split(",") if f]
    if comment:
        e.comment = comment
    e.occurrences = [(f"tasklane/{module}.py", str(10 + 7 * n))]
    return e


def build(folder: Path, inject: bool, seed: int) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truth: dict = {"rules": [], "swaps": [], "dups": []}
    entries = [list(x) for x in ENTRIES]
    by_id = {(x[0], x[1] if isinstance(x[1], str) else x[1][0]): x for x in entries}
    if inject:
        for msgid, how, check in INJECT:
            x = next(v for k, v in by_id.items() if k[1] == msgid)
            if how == "same as source":
                x[2] = x[1]
            elif how == "one form":
                x[2] = x[2][:1]
            elif isinstance(x[2], list):
                x[2] = [_apply(f, how) if how[0] in f else f for f in x[2]]
            else:
                x[2] = _apply(x[2], how)
            truth["rules"].append(("fr.po", msgid, check))
        injected = {m for m, _, _ in INJECT}
        plain = [x for x in entries if isinstance(x[1], str) and x[1] not in injected
                 and x[2] and not x[0]]
        picked = rng.sample(plain, 24)
        for a, b in zip(picked[::2], picked[1::2], strict=True):
            a[2], b[2] = b[2], a[2]
            truth["swaps"] += [("fr.po", a[1]), ("fr.po", b[1])]
    po = _po()
    for n, x in enumerate(entries):
        po.append(_entry(*x, n, "views"))
    for n, x in enumerate(UNTRANSLATED):
        po.append(_entry(*x, n, "automation"))
    for n, (ctx, msgid, msgstr, previous) in enumerate(FUZZY):
        e = _entry(ctx, msgid, msgstr, "", "", n, "workspace")
        e.flags = ["fuzzy"]
        e.previous_msgid = previous
        po.append(e)
    for msgid, msgstr in OBSOLETE:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, obsolete=True))
    po.save(str(folder / "fr.po"))
    js = _po(domain="tasklane-js")
    for n, x in enumerate(JS_ENTRIES):
        ctx, msgid, msgstr, flags, comment = x
        if inject and msgid in JS_DUPS:
            msgstr = JS_DUPS[msgid]
            truth["dups"].append(("fr-js.po", msgid))
        if inject:
            for m, how, check in JS_INJECT:
                if m == msgid:
                    msgstr = _apply(msgstr, how)
                    truth["rules"].append(("fr-js.po", msgid, check))
        js.append(_entry(ctx, msgid, msgstr, flags, comment, n, "static/app"))
    js.save(str(folder / "fr-js.po"))
    _write_xliff(folder / "fr.xlf", inject, rng, truth)
    _write_tmx(folder / "memory.tmx", inject, rng, truth)
    return truth


def _write_xliff(path: Path, inject: bool, rng: random.Random, truth: dict) -> None:
    units = [(x[1], x[2]) for x in ENTRIES if isinstance(x[1], str) and not x[0]]
    units = units[50:170]  # 120 units
    units = [list(u) for u in units]
    if inject:
        for msgid, how, check in XLIFF_INJECT:
            u = next(u for u in units if u[0] == msgid)
            u[1] = _apply(u[1], how)
            truth["rules"].append(("fr.xlf", msgid, check))
        done = {m for m, _, _ in XLIFF_INJECT}
        picked = rng.sample([u for u in units if u[0] not in done], 10)
        for a, b in zip(picked[::2], picked[1::2], strict=True):
            a[1], b[1] = b[1], a[1]
            truth["swaps"] += [("fr.xlf", a[0]), ("fr.xlf", b[0])]
    body = []
    for n, (src, tgt) in enumerate(units, 1):
        body.append(f'      <trans-unit id="tl-{n:04d}" resname="msg{n}">\n'
                    f"        <source>{html.escape(src, quote=False)}</source>\n"
                    f'        <target state="translated">{html.escape(tgt, quote=False)}'
                    "</target>\n      </trans-unit>")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
                    '  <file source-language="en" target-language="fr-FR" datatype="plaintext"'
                    ' original="tasklane/views.py">\n    <body>\n' + "\n".join(body)
                    + "\n    </body>\n  </file>\n</xliff>\n", encoding="utf-8")


def _write_tmx(path: Path, inject: bool, rng: random.Random, truth: dict) -> None:
    tus: list[dict] = []
    for x in ENTRIES[:]:
        if isinstance(x[1], str) and not x[0] and len(x[1]) > 12:
            tus.append({"en": x[1], "fr-FR": x[2]})
    tus = tus[:90]
    real = {lang: polib.pofile(str(REAL / f"{lang}.po")) for lang in ("de", "es", "ja", "ru",
                                                                      "ar")}
    for e in real["de"]:
        if e.obsolete or e.msgid_plural or e.fuzzy or not e.msgstr or e.msgctxt:
            continue
        tu = {"en": e.msgid}
        for lang, po in real.items():
            f = po.find(e.msgid)
            if f is not None and f.msgstr and not f.fuzzy:
                tu[lang] = f.msgstr
        if len(tu) >= 5:
            tus.append(tu)
    if inject:
        for lang, msgid, how, check in TMX_INJECT:
            tu = next(t for t in tus if t["en"] == msgid)
            key = "fr-FR" if lang == "fr" else lang
            tu[key] = _apply(tu[key], how)
            truth["rules"].append(("memory.tmx", msgid, check))
        done = {m for _, m, _, _ in TMX_INJECT}
        fr = [t for t in tus if "fr-FR" in t and t["en"] not in done]
        picked = rng.sample(fr, 10)
        for a, b in zip(picked[::2], picked[1::2], strict=True):
            a["fr-FR"], b["fr-FR"] = b["fr-FR"], a["fr-FR"]
            truth["swaps"] += [("memory.tmx", a["en"]), ("memory.tmx", b["en"])]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<tmx version="1.4">',
           '  <header creationtool="handmade" creationtoolversion="1" datatype="plaintext" '
           'segtype="sentence" adminlang="en" srclang="en" o-tmf="none"/>', "  <body>"]
    for n, tu in enumerate(tus, 1):
        out.append(f'    <tu tuid="{n}">')
        for lang, text in tu.items():
            out.append(f'      <tuv xml:lang="{lang}"><seg>{html.escape(text, quote=False)}'
                       "</seg></tuv>")
        out.append("    </tu>")
    out += ["  </body>", "</tmx>"]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def run_check(folder: Path, *extra: str) -> list[dict]:
    report = folder / "report.csv"
    inputs = [str(folder / n) for n in ("fr.po", "fr-js.po", "fr.xlf", "memory.tmx")]
    t0 = time.perf_counter()
    r = subprocess.run([*E5DESK, "check", *inputs, "--out", str(report), *extra],
                       capture_output=True, text=True)
    print(f"  check: exit {r.returncode}, {time.perf_counter() - t0:.1f} s; "
          + r.stderr.strip().splitlines()[-1])
    if r.returncode:
        print(r.stderr)
        raise SystemExit(1)
    with open(report, newline="", encoding="utf-8") as f:
        return [x for x in csv.DictReader(f) if x["severity"] != "ok"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="qa-rehearsal-"))
    clean, bad = root / "clean", root / "injected"
    build(clean, False, args.seed)
    truth = build(bad, True, args.seed)
    n_po = sum(1 for e in polib.pofile(str(clean / "fr.po")) if not e.obsolete)
    print(f"fr.po: {n_po} entries; folder {root}")
    print("clean build:")
    rows = run_check(clean)
    by = Counter((r["kind"], r["check"]) for r in rows)
    for (kind, check), n in sorted(by.items()):
        print(f"  {kind:13s} {check:20s} {n}")
    for r in rows:
        if r["check"] not in ("untranslated",):
            print(f"    [{r['check']}] {Path(r['file']).name}:{r['line']} {r['tgt_lang']} "
                  f"{r['src_text'][:50]!r} -> {r['tgt_text'][:50]!r}: {r['reason'][:90]}")
    print("injected build:")
    (bad / "marked").mkdir(exist_ok=True)
    rows = run_check(bad, "--html", str(bad / "report.html"), "--mark-fuzzy", str(bad / "marked"))
    found = {(Path(r["file"]).name, r["src_text"], r["check"]) for r in rows}
    missed = [t for t in truth["rules"] if t not in found]
    print(f"  rule errors found: {len(truth['rules']) - len(missed)} of {len(truth['rules'])}")
    for t in missed:
        print(f"    MISSED {t}")
    meaning = {(Path(r["file"]).name, r["src_text"]) for r in rows if r["check"] == "meaning"}
    hits = [s for s in truth["swaps"] if s in meaning]
    print(f"  swapped entries flagged by meaning: {len(hits)} of {len(truth['swaps'])}")
    for s in truth["swaps"]:
        if s not in meaning:
            print(f"    missed swap {s}")
    same = {(Path(r["file"]).name, r["src_text"]) for r in rows if r["check"] == "same-source"}
    print(f"  inconsistent duplicates found: {sum(d in same for d in truth['dups'])} of "
          f"{len(truth['dups'])}")
    injected_keys = {(f, m) for f, m, _ in truth["rules"]} | set(truth["swaps"]) | \
        set(truth["dups"])
    extra = [r for r in rows if (Path(r["file"]).name, r["src_text"]) not in injected_keys
             and r["check"] != "untranslated"]
    print(f"  other findings on the injected build: {len(extra)}")
    for r in extra:
        print(f"    [{r['check']}] {Path(r['file']).name} {r['src_text'][:50]!r} -> "
              f"{r['tgt_text'][:40]!r}: {r['reason'][:80]}")
    verify_marked(bad, rows)
    rehearse_zh(root, args.seed)


ZH_INJECT = [
    ("Showing %s of %s", ("共 %s 项", "共项"), "python-format"),
    ("Welcome back, {name}!", ("{name}", "{名字}"), "python-brace-format"),
    ("This action <em>cannot</em> be undone.", ("</em>", ""), "tags"),
    ("Links expire after 48 hours.", ("48", "24"), "numbers"),
    ("Files larger than 25 MB cannot be uploaded.", ("25", "2.5"), "numbers"),
    ("Contact support@tasklane.io if you need help.", ("support@", "help@"), "urls"),
    ("%(count)d member", ("%(count)d", "%(n)d"), "python-format"),
]


def build_zh(folder: Path, inject: bool, seed: int) -> dict:
    """zh_CN.po: the entries of ENTRIES that have a Chinese translation (same order, flags,
    contexts), once clean, once with ZH_INJECT and 10 swapped pairs."""
    rng = random.Random(seed)
    truth: dict = {"rules": [], "swaps": []}
    rows = []
    for ctx, msgid, _, flags, comment in ENTRIES:
        key = msgid if isinstance(msgid, str) else msgid[0]
        zh = ZH_CONTEXT.get((ctx, key)) if ctx else ZH.get(key)
        if zh is not None:
            rows.append([ctx, msgid, zh, flags, comment])
    if inject:
        for msgid, how, check in ZH_INJECT:
            x = next(r for r in rows if (r[1] if isinstance(r[1], str) else r[1][0]) == msgid)
            x[2] = [_apply(f, how) for f in x[2]] if isinstance(x[2], list) else _apply(x[2], how)
            truth["rules"].append(("zh_CN.po", msgid, check))
        done = {m for m, _, _ in ZH_INJECT}
        plain = [r for r in rows if isinstance(r[1], str) and not r[0] and r[1] not in done]
        picked = rng.sample(plain, 20)
        for a, b in zip(picked[::2], picked[1::2], strict=True):
            a[2], b[2] = b[2], a[2]
            truth["swaps"] += [("zh_CN.po", a[1]), ("zh_CN.po", b[1])]
    po = _po(lang="zh_CN")
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Language-Team"] = "Chinese (Simplified)"
    for n, x in enumerate(rows):
        po.append(_entry(*x, n, "views"))
    po.save(str(folder / "zh_CN.po"))
    return truth


def rehearse_zh(root: Path, seed: int) -> None:
    clean, bad = root / "clean", root / "injected"
    build_zh(clean, False, seed)
    truth = build_zh(bad, True, seed)
    for folder, label in ((clean, "clean"), (bad, "injected")):
        for names in (["zh_CN.po"], ["zh_CN.po", "fr.po"]):
            report = folder / "zh-report.csv"
            r = subprocess.run([*E5DESK, "check", *[str(folder / n) for n in names], "--out",
                                str(report)], capture_output=True, text=True)
            rows = [x for x in csv.DictReader(open(report, encoding="utf-8"))
                    if x["severity"] != "ok" and x["file"].endswith("zh_CN.po")]
            print(f"zh_CN.po {label}, checked with {' + '.join(names)} (exit {r.returncode}): "
                  + r.stderr.strip().splitlines()[-1].split(": ", 1)[-1][:160])
            found = {(x["src_text"], x["check"]) for x in rows}
            if label == "clean":
                for x in rows:
                    if x["check"] != "untranslated":
                        print(f"    [{x['check']}] {x['src_text'][:40]!r} -> "
                              f"{x['tgt_text'][:30]!r}: {x['reason'][:90]}")
                continue
            missed = [t for t in truth["rules"] if (t[1], t[2]) not in found]
            meaning = {x["src_text"] for x in rows if x["check"] == "meaning"}
            hits = sum(m in meaning for _, m in truth["swaps"])
            print(f"  rule errors found {len(truth['rules']) - len(missed)} of "
                  f"{len(truth['rules'])} {missed or ''}; swaps flagged {hits} of "
                  f"{len(truth['swaps'])}")


def verify_marked(folder: Path, rows: list[dict]) -> None:
    marked = folder / "marked"
    src = polib.pofile(str(folder / "fr.po"))
    out = polib.pofile(str(marked / "fr.po"))
    flagged = {(r["context"] or None, r["src_text"]) for r in rows
               if Path(r["file"]).name == "fr.po" and r["check"] != "untranslated"}
    same = len(src) == len(out) and all(
        (a.msgctxt, a.msgid, a.msgid_plural, a.msgstr, a.msgstr_plural, a.obsolete)
        == (b.msgctxt, b.msgid, b.msgid_plural, b.msgstr, b.msgstr_plural, b.obsolete)
        for a, b in zip(src, out, strict=True))
    wrong = [b.msgid for a, b in zip(src, out, strict=True) if not b.obsolete
             and b.fuzzy != (a.fuzzy or (b.msgctxt, b.msgid) in flagged)]
    print(f"  marked fr.po: same entries and texts: {same}; fuzzy on exactly the flagged "
          f"(+ already fuzzy) entries: {not wrong} ({len(flagged)} flagged)"
          + (f"; wrong: {wrong[:5]}" if wrong else ""))
    digest = hashlib.sha256((folder / "fr.po").read_bytes()).hexdigest()[:12]
    print(f"  input fr.po sha256 {digest} (compare with a rebuild: the input is untouched)")
    text = (folder / "report.html").read_text(encoding="utf-8")
    print(f"  report.html: {len(text)} chars, {len(re.findall('<tr', text))} rows")


if __name__ == "__main__":
    main()
