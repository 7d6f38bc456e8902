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
        else:
            print(f"{m[0]}\n  unusable: {m[1]}")
    return 0


def _numbers(card: dict) -> dict:
    """The card's counts as JSON numbers (the card itself is text for display)."""
    return {k: int(v) if k in ("dimensions", "layers", "max tokens") and str(v).isdigit()
            else v for k, v in card.items()}
