"""`e5desk batch INPUT... --out OUT_DIR`: large sentence sets to a folder of Parquet shards,
streamed, resumable, on this machine or a Ray cluster (see e5desk.core.batch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.commands._common import add_model_options, load_encoder, positive_int, progress_bar
from e5desk.core.models.families import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="embed large sets (files, globs, folders) to Parquet shards, resumable",
        description="Stream text/JSONL/CSV/Parquet inputs (files, globs or folders of shards) "
        "and write OUT_DIR/part-NNNNN.parquet with id, text, lang, group, source, line and "
        "vector, the provenance in each file's metadata and in OUT_DIR/_e5desk_batch.json. "
        "Run the same command again to continue a run that stopped: finished shards are kept.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a file (.txt .jsonl .csv .tsv .parquet), a glob or a folder")
    p.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process; ray: Ray Data on a cluster (--address) or a "
                   "local one started for the run")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="Ray cluster to join (e.g. ray://head:10001 or auto)")
    p.add_argument("--role", choices=list(ROLES), default="query",
                   help="query: / passage: prefix, or raw (no prefix)")
    p.add_argument("--task", default=None,
                   help="instruction for instruct models (preset name or one sentence)")
    p.add_argument("--shard-rows", type=positive_int, default=10_000, metavar="N",
                   help="rows per output shard (default 10000)")
    p.add_argument("--text-field", default=None, metavar="NAME",
                   help="JSONL field / CSV or Parquet column holding the text "
                   "(default: guessed from text, sentence, contents, ...)")
    add_model_options(p)
    # A batch's vectors live in its shards: filling the embedding cache with a million
    # rows would only evict what the window uses.
    p.set_defaults(func=run, cache=False)


def run(args: argparse.Namespace) -> int:
    from e5desk.workflows.batch import BatchSettings, check_engine, plan_batch, run_batch

    settings = BatchSettings(args.inputs, args.out, args.role, args.task, args.shard_rows,
                             args.text_field, args.engine, args.address, model_options=args)
    check_engine(settings)  # before the model loads: say how to install Ray
    encoder = load_encoder(args)
    with progress_bar("planning shards", unit="B") as bar:
        plan = plan_batch(encoder, settings, progress=bar)
    pending = plan.pending()
    if plan.resumed:
        print(f"e5desk: continuing {args.out}: {len(plan.shards) - len(pending)} of "
              f"{len(plan.shards)} shards already written", file=sys.stderr)
    with progress_bar(f"embedding ({args.engine})", unit="row") as bar:
        result = run_batch(encoder, plan, settings, progress=bar)
    rate = sum(s.rows for s in pending) / result.seconds if result.seconds else 0.0
    print(f"e5desk: wrote {args.out} ({result.rows:,} rows in {result.shards} shards, "
          f"{result.computed} computed now, {encoder.describe()}, engine {args.engine}, "
          f"{rate:.0f} rows/s)", file=sys.stderr)
    if result.skipped.count:
        print(f"e5desk: warning: {result.skipped.count:,} rows skipped", file=sys.stderr)
        for reason in result.skipped.reasons[:5]:
            print(f"e5desk: warning: {reason}", file=sys.stderr)
    if result.truncated:
        print(f"e5desk: warning: {result.truncated:,} texts were longer than "
              f"{encoder.max_tokens} tokens and truncated", file=sys.stderr)
    return 0
