"""`e5desk check INPUT... [--out REPORT.csv] [--html REPORT.html] [--mark-fuzzy OUT]`: the
translation QA pass: rule checks (placeholders, tags, numbers, ...), doubtful meaning,
consistency; one report, and marked copies of the catalogues for the translator's tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.commands._common import (
    add_input_options,
    add_model_options,
    load_encoder,
    progress_bar,
)
from e5desk.core.errors import E5DeskError

CHECKS_HELP = ("checks to run, comma-separated: all (default), rules (no model), a kind "
               "(placeholder, markup, plural, number, url, whitespace, punctuation, "
               "untranslated, style, meaning, consistency) or a check id (python-format, "
               "c-format, python-brace-format, icu-format, tags, plural-forms, numbers, urls, "
               "whitespace, end-punctuation, repeated-word, untranslated, same-as-source, "
               "meaning, same-source, same-translation, similar-source); -ID leaves one out "
               "(all,-end-punctuation)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="translation QA: rule checks, suspect meanings, "
                       "consistency; marked copies",
                       description="Check translations (PO catalogues, XLIFF, TMX, wide CSV, "
                       "...): placeholders and format strings (by the catalogue's flags), "
                       "tags, numbers, URLs, whitespace, end punctuation, plural forms, "
                       "untranslated entries, repeated words; translations that match another "
                       "source better (by meaning); one source translated several ways. "
                       "Findings go to --out (CSV, or JSON lines for .jsonl), --html, or the "
                       "terminal; --mark-fuzzy writes a copy of each catalogue with the "
                       "flagged entries marked for review.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    add_input_options(p)
    p.add_argument("--out", type=Path, default=None, metavar="REPORT.csv",
                   help="write the findings: CSV, or JSON lines for .jsonl (default: list "
                   "them on the terminal)")
    p.add_argument("--html", type=Path, default=None, metavar="REPORT.html",
                   help="also write a self-contained HTML report (findings by kind, source "
                   "and translation side by side)")
    p.add_argument("--mark-fuzzy", type=Path, default=None, metavar="OUT",
                   help="write a copy of the catalogue (PO, XLIFF, TMX) with each flagged "
                   "entry marked for review (PO: fuzzy + '#. e5desk: reason'; XLIFF: "
                   "state=needs-review-translation + note; TMX: a prop); OUT is a folder for "
                   "several inputs; never the input itself")
    p.add_argument("--checks", default="all", metavar="LIST", help=CHECKS_HELP)
    p.add_argument("--all", action="store_true",
                   help="also list meaning pairs that look fine")
    p.add_argument("--src-lang", default=None, metavar="LANG",
                   help="check only translations from this language (default: the source "
                   "language of catalogues and memories)")
    p.add_argument("--tgt-lang", default=None, metavar="LANG",
                   help="check only translations into this language")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.qa import (
        mark_copies,
        pick_checks,
        read_entries,
        run_checks,
        summary,
        write_html,
        write_report,
    )
    from e5desk.core.qa.report import text_lines
    from e5desk.core.qa.rules import MODEL_CHECKS

    checks = pick_checks(args.checks)
    for path in (args.out, args.html):
        if path is not None and not path.parent.exists():
            raise E5DeskError(f"{path}: folder {path.parent} does not exist")
    if args.mark_fuzzy is not None:
        from e5desk.core.qa.run import mark_targets

        mark_targets(args.inputs, args.mark_fuzzy)  # refused before any work
    notes: list[str] = []
    entries = read_entries(args.inputs, args.format, args.src_lang, notes)
    for note in notes:
        print(f"e5desk: warning: {note}", file=sys.stderr)
    if not entries:
        raise E5DeskError("no translation groups in the input: check needs a parallel set "
                          "(TMX, XLIFF, PO catalogues, a wide CSV, ...)")
    if (args.src_lang or args.tgt_lang) and not any(
            args.src_lang in (None, e.src_lang) and args.tgt_lang in (None, e.tgt_lang)
            for e in entries):
        raise E5DeskError("no translation pairs to check: no entry goes "
                          f"{args.src_lang or 'any language'} → "
                          f"{args.tgt_lang or 'any language'}")
    encoder = encode = None
    if any(c in MODEL_CHECKS for c in checks):
        from e5desk.core.models.families import SYMMETRIC_ROLE

        if args.vectors:  # --vectors: the inputs' sentences as read, row i = sentence i
            from e5desk.commands._common import load_inputs

            load_inputs(args.inputs, args.format, args.join, args.vectors)
        encoder = load_encoder(args)

        def encode(texts: list[str]):
            with progress_bar("embedding") as bar:
                return encoder.encode(texts, role=SYMMETRIC_ROLE, progress=bar)

    result = run_checks(entries, checks, encode, args.src_lang, args.tgt_lang, args.all)
    for note in result.notes:
        print(f"e5desk: {note}", file=sys.stderr)
    findings = result.findings
    if encoder is not None:  # what each doubtful pair leaves out or adds, by word alignment
        from e5desk.core.qa.words import add_unaligned_words

        note = add_unaligned_words(encoder, findings)
        if note:
            print(f"e5desk: note: {note}", file=sys.stderr)
    if args.out is not None:
        write_report(findings, args.out)
        print(f"e5desk: wrote {args.out}", file=sys.stderr)
    if args.html is not None:
        write_html(findings, args.html)
        print(f"e5desk: wrote {args.html}", file=sys.stderr)
    if args.out is None and args.html is None:
        for line in text_lines([x for x in findings if x.flagged or args.all]):
            print(line)
    if args.mark_fuzzy is not None:
        for path, n in mark_copies(findings, args.inputs, args.mark_fuzzy):
            print(f"e5desk: wrote {path}: {n} entr{'y' if n == 1 else 'ies'} marked for "
                  "review", file=sys.stderr)
    pairs = (" (meaning: " + ", ".join(f"{a}→{b}" for a, b in result.pairs) + ")"
             if result.pairs else "")
    print(f"e5desk: {len(entries)} translation(s) checked: {summary(findings)}{pairs}",
          file=sys.stderr)
    return 0
