"""Contrastive fine-tuning of an E5 model on the user's own data, with a held-out check.

Data (``load_train_data``, ``split_units``, ``build_rows`` in :mod:`e5desk.core.train_data`):
the reference retrieval format (train.jsonl + passages.jsonl, query vs passage prompts, hard
negatives) or a parallel set (translation groups, the symmetric role on both sides), split by
query or by group so that nothing held out was seen.

Training: sentence-transformers' ``SentenceTransformerTrainer`` with
MultipleNegativesRankingLoss (or its cached variant for big batches on little memory) and
the no-duplicates batch sampler; word embeddings frozen by default; bf16 autocast on CPUs
with native bf16. Evaluation before, and after each epoch, with ``e5desk.core.evaluate``
(MRR@10 decides); the best epoch is kept and training stops when the held-out score drops.

Output: a sentence-transformers / transformers model folder (safetensors) with the family
recorded (``e5desk_model.json``) and a README model card (:mod:`e5desk.core.train_report`);
written to a temporary folder beside the target and renamed at the end, so a cancelled or
failed run leaves nothing.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import e5desk.core  # noqa: F401  (offline mode before transformers is imported)
from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.evaluate import reciprocal_ranks, run_evaluation
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.train_data import (
    MAX_PROBLEMS,
    TRAIN_EXTENSIONS,
    TrainConfig,
    TrainData,
    TrainQuery,
    build_rows,
    eval_data,
    load_train_data,
    read_reference,
    split_units,
)
from e5desk.core.train_report import (
    DECIDING_METRIC,
    TrainResult,
    data_summary,
    metrics_table,
    model_card,
    write_marker,
)

# Data and report live in train_data / train_report; their names stay importable from here.
__all__ = [
    "DECIDING_METRIC", "MAX_PROBLEMS", "TRAIN_EXTENSIONS", "TrainConfig", "TrainData",
    "TrainQuery", "TrainResult", "build_rows", "eval_data", "load_train_data",
    "metrics_table", "model_card", "read_reference", "split_units", "train",
]


# -- training --------------------------------------------------------------------------
def _import_st():
    try:
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        try:
            from sentence_transformers.sentence_transformer import losses
            from sentence_transformers.sentence_transformer.training_args import BatchSamplers
        except ImportError:  # sentence-transformers < 6
            from sentence_transformers import losses
            from sentence_transformers.training_args import BatchSamplers
        import accelerate  # noqa: F401
        import datasets  # noqa: F401
        from transformers import TrainerCallback
    except ImportError as exc:
        raise E5DeskError(f"training needs the optional 'train' packages ({exc.name} is "
                          "missing): pip install 'e5desk[train]'") from None
    return (SentenceTransformer, SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments, losses, BatchSamplers, TrainerCallback)


def _prompts(family) -> dict[str, str]:
    """The family's prompts as sentence-transformers stores them (for other tools)."""
    if family.instruct:
        return {"query": family.format([""], "query")[0], "passage": ""}
    return {"query": family.query_prefix, "passage": family.passage_prefix}


def _st_encoder(model, family, max_tokens: int, task: str | None, batch_size: int = 64):
    """``encode(texts, role=, progress=, cancelled=)`` over the in-memory model, as
    e5desk's Encoder computes it (prompt, mean pooling, L2 normalised), at ``max_tokens``."""
    import torch

    def encode(texts, role="query", progress=None, cancelled=None):
        inputs = family.format(list(texts), role, task)
        saved, model.max_seq_length = model.max_seq_length, max_tokens
        out = []
        try:
            for a in range(0, len(inputs), 256):
                if cancelled and cancelled():
                    raise Cancelled("Training cancelled.")
                with torch.inference_mode():
                    out.append(model.encode(inputs[a:a + 256], batch_size=batch_size,
                                            convert_to_numpy=True, normalize_embeddings=True,
                                            show_progress_bar=False).astype(np.float32))
                if progress:
                    progress(min(a + 256, len(inputs)), len(inputs))
        finally:
            model.max_seq_length = saved
        if not out:
            return np.zeros((0, model.get_sentence_embedding_dimension()), np.float32)
        return np.concatenate(out)

    return encode


class _quiet_hf:
    """transformers' weight loading/saving bars and chatter, sentence-transformers' and
    datasets' notices and library warnings off the user's terminal (``verbose``: left on)."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose

    def __enter__(self):
        if self.verbose:
            return
        import logging
        import warnings

        from transformers.utils import logging as hf_logging

        self.hf = hf_logging
        self.verbosity, self.bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.loggers = {name: logging.getLogger(name).level
                        for name in ("sentence_transformers", "datasets", "accelerate")}
        for name in self.loggers:
            logging.getLogger(name).setLevel(logging.ERROR)
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc) -> None:
        if self.verbose:
            return
        import logging

        self.warnings.__exit__(*exc)
        for name, level in self.loggers.items():
            logging.getLogger(name).setLevel(level)
        self.hf.set_verbosity(self.verbosity)
        if self.bars:
            self.hf.enable_progress_bar()


def _use_bf16(device: str, precision: str) -> bool:
    if precision != "fast":
        return False
    import torch

    from e5desk.core.encoder import cpu_has_native_bf16

    if device.startswith("cuda"):
        return bool(torch.cuda.is_bf16_supported())
    return device == "cpu" and cpu_has_native_bf16()


def train(inputs: Sequence[Path], out: Path, base: str | Path | None = None,
          family: str | None = None, config: TrainConfig | None = None,
          format: str | None = None, join: bool = True, progress: Progress | None = None,
          cancelled: CancelCheck | None = None,
          on_log: Callable[[int, float], None] | None = None,
          on_status: Callable[[str], None] | None = None,
          data: tuple[TrainData, int] | None = None) -> TrainResult:
    """Fine-tune ``base`` on ``inputs`` and write the model folder ``out`` (see module
    docstring). ``progress(step, steps)``, ``on_log(step, loss)``, ``on_status(text)``
    report; ``cancelled()`` is polled every step (raises Cancelled, nothing written)."""
    cfg = config or TrainConfig()
    say = on_status or (lambda _t: None)
    start = time.perf_counter()
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise E5DeskError(f"{out} already exists and is not empty; choose another --out")
    for name, value in (("--epochs", cfg.epochs), ("--batch-size", cfg.batch_size),
                        ("--max-tokens", cfg.max_tokens)):
        if value < 1:
            raise E5DeskError(f"{name} must be at least 1, got {value}")
    train_data, n_neg = data or load_train_data(inputs, cfg.hard_negatives, format, join)
    train_idx, held_idx = split_units(train_data.units(), cfg.held_out, cfg.seed)
    from e5desk.core.models.discovery import resolve_model

    source = resolve_model(base, family=family)
    fam = source.family
    rows = build_rows(train_data, train_idx, fam, n_neg, cfg.task)
    if not rows["anchor"]:
        raise DataError("no training pairs are left after holding out "
                        f"{cfg.held_out:.0%}; give more data or a smaller --held-out")
    evaluation = eval_data(train_data, held_idx)
    (SentenceTransformer, Trainer, Arguments, losses, BatchSamplers,
     TrainerCallback) = _import_st()
    import torch
    from datasets import Dataset

    from e5desk.core.encoder import pick_device

    device = pick_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    torch.manual_seed(cfg.seed)
    say(f"loading {source.name}")
    with _quiet_hf(cfg.verbose):
        model = SentenceTransformer(str(source.path), device=device, trust_remote_code=False,
                                    local_files_only=True)
    if not any(type(m).__name__ == "Normalize" for m in model):
        from sentence_transformers.models import Normalize

        model.append(Normalize())
    model.prompts = _prompts(fam)
    encoder = model[0].auto_model
    if cfg.freeze_embeddings:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    encode = _st_encoder(model, fam, source.max_tokens, cfg.task)

    ranks: dict[str, np.ndarray] = {}  # per held-out query: reciprocal rank, by label

    def evaluate(label: str) -> dict[str, float]:
        if evaluation is None:
            return {}
        say(f"evaluating on held-out data ({label})")
        run = run_evaluation(encode, evaluation, cancelled=cancelled)[evaluation.default_rule]
        ranks[label] = reciprocal_ranks(run, evaluation)
        return run.metrics

    before = evaluate("base model")
    losses_seen: list[tuple[int, float]] = []
    epochs: list[dict] = []
    state = {"best": -math.inf, "best_epoch": None, "snapshot": None, "stopped": False}
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    class Watch(TrainerCallback):
        def on_step_end(self, args, st, control, **kw):
            if progress:
                progress(st.global_step, st.max_steps)
            if cancelled and cancelled():
                raise Cancelled("Training cancelled: nothing was written.")

        def on_log(self, args, st, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses_seen.append((st.global_step, float(logs["loss"])))
                if on_log:
                    on_log(st.global_step, float(logs["loss"]))

        def on_epoch_end(self, args, st, control, **kw):
            epoch = len(epochs) + 1
            metrics = evaluate(f"epoch {epoch}")
            score = metrics.get(DECIDING_METRIC)
            kept = score is None or score > state["best"]
            if kept:
                state["best"] = state["best"] if score is None else score
                state["best_epoch"] = epoch
                # a later epoch may be worse: keep a copy of this one's weights
                state["snapshot"] = ({n: p.detach().clone() for n, p in trainable}
                                     if epoch < cfg.epochs else None)
            epochs.append({"epoch": epoch, "metrics": metrics, "kept": kept})
            if score is not None and not kept:
                state["stopped"] = epoch < cfg.epochs
                control.should_training_stop = True  # the held-out score dropped
            return control

    bf16 = _use_bf16(device, cfg.precision)
    # e5desk writes its own model card: no widget examples (their progress bar), and no
    # fork warning from the tokenizers' thread pool.
    model.model_card_data.generate_widget_examples = False
    model.model_card_data.widget = [{"text": "see README.md"}]  # skips computing examples
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not cfg.verbose:
        import datasets

        datasets.disable_progress_bars()
    dataset = Dataset.from_dict(rows)
    model.max_seq_length = cfg.max_tokens
    if cfg.mini_batch:
        loss = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=cfg.mini_batch)
    else:
        loss = losses.MultipleNegativesRankingLoss(model)
    steps_per_epoch = math.ceil(len(dataset) / cfg.batch_size)
    work = Path(tempfile.mkdtemp(prefix="e5desk-train-"))
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    try:
        args = Arguments(
            output_dir=str(work), num_train_epochs=cfg.epochs,
            per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
            warmup_steps=max(0, round(cfg.warmup_ratio * steps_per_epoch * cfg.epochs)),
            batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no",
            eval_strategy="no", report_to="none", disable_tqdm=True, seed=cfg.seed,
            logging_steps=max(1, steps_per_epoch * cfg.epochs // 50), logging_first_step=True,
            bf16=bf16, use_cpu=device == "cpu", dataloader_num_workers=0,
        )
        with _quiet_hf(cfg.verbose):
            trainer = Trainer(model=model, args=args, train_dataset=dataset, loss=loss,
                              callbacks=[Watch()])
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # logs go to on_log, not print()
        say(f"training: {len(dataset)} rows, {cfg.epochs} epoch(s)")
        with _quiet_hf(cfg.verbose):
            result = trainer.train()
        if state["snapshot"] is not None and state["best_epoch"] != len(epochs):
            with torch.no_grad():  # back to the best epoch's weights
                params = dict(model.named_parameters())
                for n, value in state["snapshot"].items():
                    params[n].copy_(value)
        best = next((e for e in epochs if e["epoch"] == state["best_epoch"]), None)
        after = best["metrics"] if best else {}
        model.max_seq_length = source.max_tokens
        seconds = time.perf_counter() - start
        summary = data_summary(train_data, train_idx, held_idx, rows, n_neg, evaluation)
        out_result = TrainResult(out, before, after, epochs, losses_seen, summary, seconds,
                                 int(result.global_step), state["best_epoch"],
                                 state["stopped"], ranks.get("base model"),
                                 ranks.get(f"epoch {state['best_epoch']}"))
        say(f"writing {out}")
        if partial.exists():
            shutil.rmtree(partial)
        with _quiet_hf(cfg.verbose):
            model.save(str(partial), create_model_card=False, safe_serialization=True)
        write_marker(partial, out, source, fam)
        (partial / "README.md").write_text(
            model_card(out_result, source, fam, cfg, bf16, device), encoding="utf-8")
        if cancelled and cancelled():
            raise Cancelled("Training cancelled: nothing was written.")
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(partial, out)
        return out_result
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
