"""`e5desk models`: the models this machine can use, offline."""

from __future__ import annotations

import argparse
import json

from e5desk.core.models.discovery import ModelSource, list_models


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list available models (embedded, HF cache, folders)")
    p.add_argument("--json", action="store_true", help="print the model cards as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = list_models()
    if args.json:
        print(json.dumps([
            _numbers(m.card()) if isinstance(m, ModelSource)
            else {"name": m[0], "unusable": m[1]}
            for m in found
        ], indent=2, ensure_ascii=False))
        return 0
    for m in found:
        if isinstance(m, ModelSource):
            print(f"{m.name}\n  family: {m.family.display}   dim: {m.dim}   "
                  f"languages: {m.languages or m.family.languages}\n  {m.origin}: {m.path}")
            for note in m.notes:
                print(f"  note: {note}")
            for line in _engine_lines(m):
                print(f"  engine {line}")
        else:
            print(f"{m[0]}\n  unusable: {m[1]}")
    from e5desk.core.engines import engines_overview

    print("engines (--engine; auto picks per batch shape, measured on first use):")
    for line in engines_overview():
        print(f"  {line}")
    return 0


def _engine_lines(m: ModelSource) -> list[str]:
    """What ``--engine auto`` measured for this model on this machine (if it has run)."""
    from e5desk.core.engines import stored_choices

    try:
        return stored_choices(m.path)
    except OSError:
        return []


def _numbers(card: dict) -> dict:
    """The card's counts as JSON numbers (the card itself is text for display)."""
    return {k: int(v) if k in ("dimensions", "layers", "max tokens") and str(v).isdigit()
            else v for k, v in card.items()}
