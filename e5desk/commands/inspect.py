"""`e5desk inspect FILE... [--format NAME] [--json]`: what a sentence file holds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from e5desk.core.errors import E5DeskError


def register(sub: argparse._SubParsersAction) -> None:
    from e5desk.core.data import FORMATS

    p = sub.add_parser("inspect", help="summarise sentence files (rows, languages, groups)",
                       description="Read each FILE as a sentence set and summarise it. Exit 0 "
                       "when something loaded (problems on stderr), 2 when nothing could.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="reader to use (default: by extension and content)")
    p.add_argument("--text-column", default=None, help="CSV/TSV: column holding the text")
    p.add_argument("--lang-column", default=None, help="CSV/TSV: column holding the language")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def catalogue_counts(result) -> dict | None:
    """gettext catalogues: messages by state (translated, untranslated, fuzzy, obsolete)."""
    if result.format != "po":
        return None
    from e5desk.core.data import po
    from e5desk.core.data.encoding import decode

    path = Path(result.path)
    return po.count_entries(path, decode(path.read_bytes(), path)[0])


def summary(result) -> dict:
    from e5desk.core.data.sentence_set import UNKNOWN_LANG
    from e5desk.core.langid import display_name

    s = result.sentence_set
    langs = s.languages()
    groups = {g for g in s.group if g is not None}
    return {
        "file": str(result.path), "format": result.format, "encoding": result.encoding,
        "rows": len(s),
        "languages": {k: {"rows": v, "name": display_name(None if k == UNKNOWN_LANG else k)}
                      for k, v in langs.items()},
        "groups": len(groups),
        "queries": sum(1 for r in s.role if r == "query"),
        "passages": sum(1 for r in s.role if r == "passage"),
        "relevance_judgements": sum(len(v) for v in s.relevance.values()),
        **({"columns": result.columns} if getattr(result, "columns", None) else {}),
        "skipped": result.skipped, "skipped_reasons": result.reasons, "notes": result.notes,
        **({"catalogue": counts} if (counts := catalogue_counts(result)) else {}),
    }


def run(args: argparse.Namespace) -> int:
    from e5desk.core.data import load_sentence_set

    options = {k: v for k, v in (("text_column", args.text_column),
                                  ("lang_column", args.lang_column)) if v}
    summaries, failures = [], []
    for path in args.files:
        try:
            result = load_sentence_set(path, format=args.format, **options)
        except E5DeskError as exc:
            failures.append(str(exc))
            print(f"e5desk: error: {exc}", file=sys.stderr)
            continue
        summaries.append(summary(result))
        for problem in result.problems():
            print(f"e5desk: warning: {path}: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(summaries, indent=2, ensure_ascii=False))
    else:
        for s in summaries:
            langs = ", ".join(f"{k} ({v['name']}) {v['rows']:,}" for k, v in s["languages"].items())
            print(f"{s['file']}: {s['format']}, {s['encoding']}, {s['rows']:,} sentences, "
                  f"{s['groups']:,} group{'' if s['groups'] == 1 else 's'}")
            print(f"  languages: {langs}")
            if s.get("columns"):
                print(f"  columns: {s['columns']}")
            if c := s.get("catalogue"):
                print(f"  messages {c['messages']:,}: translated {c['translated']:,}, "
                      f"untranslated {c['untranslated']:,}, fuzzy {c['fuzzy']:,}, "
                      f"obsolete {c['obsolete']:,} (left out)")
            if s["queries"] or s["passages"]:
                print(f"  queries {s['queries']}, passages {s['passages']}, relevance "
                      f"judgements {s['relevance_judgements']}")
            if s["skipped"]:
                print(f"  skipped {s['skipped']} row(s): " + "; ".join(s["skipped_reasons"][:5]))
    return 0 if summaries else 2
