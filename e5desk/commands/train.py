"""`e5desk train`: fine-tune an E5 model on your own pairs (train.jsonl + passages.jsonl, or
a parallel set), checked before and after on held-out queries; writes a model folder that
e5desk, sentence-transformers and transformers load, and adds it to e5desk's model list."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from e5desk.commands._common import READERS, add_device_option, count_int, positive_int
from e5desk.core.options import (
    DEFAULT_TRAIN_PRECISION,
    TRAIN_PRECISION_CHOICES,
    TRAIN_PRECISIONS,
    choices_help,
)


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.2, got {value!r}") from None
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {number}")
    return number




def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="fine-tune a model on your pairs, checked on held-out data",
        description="Contrastive fine-tuning (sentence-transformers, in-batch negatives) on "
        "DATA: a folder with train.jsonl + passages.jsonl (queries with 'query: ', passages "
        "with 'passage: ', or the instruct format), or a parallel set (PO catalogues, TMX, "
        "XLIFF, CSV with a column per language: 'query: ' on both sides). A share of the "
        "queries (groups) is held out; MRR@10, nDCG@10, Recall@k and P@1 on it are shown "
        "before and after, and written into the model card.")
    p.add_argument("data", nargs="+", type=Path, metavar="DATA",
                   help="folder with train.jsonl + passages.jsonl, or parallel set files / a "
                   "folder of them")
    p.add_argument("--out", required=True, type=Path, metavar="MODEL_DIR",
                   help="new model folder (must not exist, or be empty)")
    p.add_argument("--model", default=None, metavar="PATH_OR_NAME",
                   help="base model: folder, HF cache name, or 'embedded' (default)")
    p.add_argument("--family", default=None, help="override the base model's family")
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N",
                   help="rows per batch (more = more in-batch negatives; default 32)")
    p.add_argument("--held-out", type=_share, default=0.2, metavar="SHARE",
                   help="share of queries (groups) kept out of training for the before/after "
                   "check (default 0.2; 0 = none)")
    p.add_argument("--max-tokens", type=positive_int, default=128, metavar="N",
                   help="tokens per text while training (default 128)")
    p.add_argument("--hard-negatives", type=count_int, default=None, metavar="N",
                   help="negatives.doc_id per query and row (train_n_passages - 1); default: "
                   "1 when every query has one, else 0")
    p.add_argument("--learning-rate", type=float, default=2e-5, metavar="LR")
    p.add_argument("--seed", type=int, default=0, help="split and training seed (default 0)")
    p.add_argument("--mini-batch", type=positive_int, default=None, metavar="N",
                   help="cached in-batch-negatives loss with this mini batch: big batches "
                   "on little memory")
    p.add_argument("--train-embeddings", action="store_true",
                   help="also train the word embeddings (frozen by default: most of the "
                   "parameters, little gain on small data)")
    p.add_argument("--precision", default=DEFAULT_TRAIN_PRECISION, choices=TRAIN_PRECISIONS,
                   help=choices_help(TRAIN_PRECISION_CHOICES, DEFAULT_TRAIN_PRECISION))
    p.add_argument("--task", default=None,
                   help="instruct models: the query instruction (preset or sentence)")
    add_device_option(p)
    p.add_argument("--threads", type=int, default=None, metavar="N")
    p.add_argument("--format", default=None, choices=READERS,
                   help="reader for parallel set files (default: detected)")
    p.add_argument("--join", action=argparse.BooleanOptionalAction, default=True,
                   help="join translations across files by their source text (default: on)")
    p.add_argument("--verbose", action="store_true",
                   help="show the training libraries' own logs and warnings (hidden by "
                   "default)")
    p.add_argument("--register", action=argparse.BooleanOptionalAction, default=True,
                   help="add the new model to e5desk's model list (default: on)")
    p.set_defaults(func=run)


class _Bar:
    """Training progress on stderr (tqdm, or a line every few seconds when stderr is not a
    terminal) with the latest loss."""

    def __init__(self) -> None:
        from e5desk.core.progress import ProgressLine

        self.line = ProgressLine("training", unit="step")

    def progress(self, done: int, total: int) -> None:
        self.line(done, total)

    def log(self, step: int, loss: float) -> None:
        self.line.set_postfix(f"loss={loss:.4f}")

    def close(self) -> None:
        self.line.close()


def run(args: argparse.Namespace) -> int:
    from e5desk.core.training import (
        DECIDING_METRIC,
        TrainConfig,
        load_train_data,
        metrics_table,
        train,
    )

    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, held_out=args.held_out,
                      max_tokens=args.max_tokens, hard_negatives=args.hard_negatives,
                      learning_rate=args.learning_rate, seed=args.seed,
                      freeze_embeddings=not args.train_embeddings, precision=args.precision,
                      mini_batch=args.mini_batch, task=args.task, device=args.device,
                      threads=args.threads, verbose=args.verbose)
    from e5desk.workflows.train import TrainSettings, check_output, fine_tune

    settings = TrainSettings(args.data, check_output(args.out), args.model, args.family, cfg,
                             register=args.register)
    data = load_train_data(args.data, cfg.hard_negatives, args.format, args.join)
    for warning in data[0].warnings:
        print(f"e5desk: warning: {warning}", file=sys.stderr)
    bar = _Bar()
    try:
        trained = fine_tune(settings, partial(train, data=data, format=args.format,
                                              join=args.join),
                            progress=bar.progress, on_log=bar.log,
                            on_status=lambda t: print(f"e5desk: {t}", file=sys.stderr))
    finally:
        bar.close()
    result = trained.result
    if result.before or result.after:
        print(metrics_table(result.before, result.after))
        print()
    print(result.verdict())
    if len(result.epochs) > 1:
        scores = ", ".join(f"{e['epoch']}: {e['metrics'].get(DECIDING_METRIC, 0):.3f}"
                           for e in result.epochs)
        early = " (stopped early: the score dropped)" if result.stopped_early else ""
        print(f"held-out {DECIDING_METRIC} per epoch ({scores}); kept epoch "
              f"{result.best_epoch}{early}")
    print(f"{result.steps} steps in {result.seconds:.0f} s; model written to {result.out}")
    if trained.note:  # the model is written; the list could not take it
        from e5desk.core.errors import E5DeskError

        raise E5DeskError(trained.note)
    if trained.registered:
        print(f"added to e5desk's model list: e5desk --model {result.out}")
    return 0
