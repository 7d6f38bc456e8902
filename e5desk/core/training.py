"""Contrastive fine-tuning of an E5 model on the user's own data, with a held-out check.

Data (``load_train_data``):
- the reference retrieval format: a folder (or its ``train.jsonl``) with ``passages.jsonl``
  (``{"contents"}``, doc_id = line number from 0) and ``train.jsonl`` (``query``,
  ``positives.doc_id``, ``negatives.doc_id``). Asymmetric: the family's query prompt on the
  query, its passage prompt on the passages. Each training row holds ``train_n_passages``
  passages: one positive and ``hard_negatives`` negatives (rotated, so later positives of a
  query meet other negatives);
- a parallel set (any e5desk reader with translation groups): per group, the sentence in the
  set's most common language paired with each translation, ``query: `` on both sides.

Split (``split_units``): held out by query (retrieval: same query text stays on one side)
or by group (parallel: groups sharing a text are one unit), so nothing held out was seen.

Training: sentence-transformers' ``SentenceTransformerTrainer`` with
MultipleNegativesRankingLoss (or its cached variant for big batches on little memory) and
the no-duplicates batch sampler; word embeddings frozen by default; bf16 autocast on CPUs
with native bf16. Evaluation before, and after each epoch, with ``e5desk.core.evaluate``
(MRR@10 decides); the best epoch is kept and training stops when the held-out score drops.

Output: a sentence-transformers / transformers model folder (safetensors) with the family
recorded (``e5desk_model.json``) and a README model card; written to a temporary folder
beside the target and renamed at the end, so a cancelled or failed run leaves nothing.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import e5desk.core  # noqa: F401  (offline mode before transformers is imported)
from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.evaluate import METRICS, EvalData, run_evaluation
from e5desk.core.jobs import CancelCheck, Progress

DECIDING_METRIC = "MRR@10"
MAX_PROBLEMS = 8  # bad lines listed in one error
TRAIN_EXTENSIONS = {".po", ".pot", ".tmx", ".xlf", ".xliff", ".csv", ".tsv", ".jsonl", ".txt"}


# -- data ------------------------------------------------------------------------------
@dataclass
class TrainQuery:
    text: str
    positives: list[int]
    negatives: list[int]
    line: int


@dataclass
class TrainData:
    """What training reads: retrieval (queries + passages) or parallel (a sentence set)."""

    kind: str  # "retrieval" | "parallel"
    files: list[str]
    passages: list[str] = field(default_factory=list)
    queries: list[TrainQuery] = field(default_factory=list)
    sentence_set: object | None = None  # SentenceSet for parallel data
    warnings: list[str] = field(default_factory=list)

    def units(self) -> list[list[int]]:
        """Split units: lists of query indices (retrieval) or of row indices (parallel) that
        must stay on one side of the split."""
        if self.kind == "retrieval":
            by_text: dict[str, list[int]] = {}
            for i, q in enumerate(self.queries):
                by_text.setdefault(_norm(q.text), []).append(i)
            return list(by_text.values())
        s = self.sentence_set
        parent: dict = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        keys = [("g", g) if g is not None else ("r", i) for i, g in enumerate(s.group)]
        first_by_text: dict[str, tuple] = {}
        for key, text in zip(keys, s.text, strict=True):
            other = first_by_text.setdefault(_norm(str(text)), key)
            parent[find(key)] = find(other)  # a shared text joins two groups into one unit
        units: dict = {}
        for i, key in enumerate(keys):
            units.setdefault(find(key), []).append(i)
        return list(units.values())


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _read_jsonl(path: Path) -> list[tuple[int, object]]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    out = []
    for n, line in enumerate(raw.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {n}: not valid JSON ({exc.msg} at column "
                            f"{exc.colno})") from None
    if not out:
        raise DataError(f"{path}: the file is empty")
    return out


def _doc_ids(value, what: str, n_passages: int) -> tuple[list[int], str | None]:
    ids = (value or {}).get("doc_id", []) if isinstance(value, dict) else None
    if not isinstance(ids, list):
        return [], f"{what}.doc_id must be a list of passage numbers"
    out = []
    for d in ids:
        try:
            k = int(d)
        except (TypeError, ValueError):
            return [], f"{what}.doc_id {d!r} is not a passage number"
        if not 0 <= k < n_passages:
            return [], (f"unknown {what[:-1]} doc_id {d!r} (passages.jsonl has doc_ids "
                        f"0..{n_passages - 1})")
        out.append(k)
    return out, None


def _raise_problems(path: Path, problems: list[str], total: int) -> None:
    if problems:
        more = f" (and {total - len(problems)} more)" if total > len(problems) else ""
        raise DataError(f"{path}: {total} bad line(s){more}: " + "; ".join(problems))


def read_reference(folder: Path, hard_negatives: int | None) -> tuple[TrainData, int]:
    """passages.jsonl + train.jsonl, checked line by line -> (data, hard negatives used).
    ``hard_negatives`` None: 1 when every query has a negative, else 0."""
    train_file = folder / "train.jsonl"
    passages_file = folder / "passages.jsonl"
    if not passages_file.is_file():
        raise DataError(f"{folder}: train.jsonl needs passages.jsonl beside it (the passages "
                        "its doc_ids number from 0)")
    passages: list[str] = []
    for n, rec in _read_jsonl(passages_file):
        text = rec.get("contents") if isinstance(rec, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{passages_file}, line {n}: expected {{\"contents\": \"text\"}} "
                            "with a non-empty text")
        passages.append(text)
    queries: list[TrainQuery] = []
    problems: list[str] = []
    bad = 0
    for n, rec in _read_jsonl(train_file):
        if not isinstance(rec, dict):
            why = "expected a JSON object"
        elif not isinstance(rec.get("query"), str) or not rec["query"].strip():
            why = "empty or missing 'query'"
        else:
            pos, why = _doc_ids(rec.get("positives"), "positives", len(passages))
            if why is None and not pos:
                why = "no positives.doc_id (each query needs at least one relevant passage)"
            neg, why_n = _doc_ids(rec.get("negatives"), "negatives", len(passages))
            why = why or why_n
        if why:
            bad += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(f"line {n}: {why}")
            continue
        queries.append(TrainQuery(rec["query"], pos, [d for d in neg if d not in pos], n))
    _raise_problems(train_file, problems, bad)
    if hard_negatives is None:
        hard_negatives = 1 if all(q.negatives for q in queries) else 0
    if hard_negatives:
        short = [q for q in queries if len(q.negatives) < hard_negatives]
        if short:
            lines = ", ".join(str(q.line) for q in short[:MAX_PROBLEMS])
            raise DataError(
                f"{train_file}: {len(short)} quer{'y has' if len(short) == 1 else 'ies have'} "
                f"fewer negatives than --hard-negatives {hard_negatives} (train_n_passages "
                f"{hard_negatives + 1} = 1 positive + {hard_negatives} negatives), line(s) "
                f"{lines}; add negatives or lower --hard-negatives")
    data = TrainData("retrieval", [str(train_file), str(passages_file)], passages=passages,
                     queries=queries)
    return data, hard_negatives


def load_train_data(inputs: Sequence[Path], hard_negatives: int | None = None,
                    format: str | None = None, join: bool = True) -> tuple[TrainData, int]:
    """Read and check the training data before any model loads -> (data, hard negatives)."""
    inputs = [Path(p) for p in inputs]
    if len(inputs) == 1:
        p = inputs[0]
        if p.is_dir() and (p / "train.jsonl").is_file():
            return read_reference(p, hard_negatives)
        if p.is_file() and p.name == "train.jsonl":
            return read_reference(p.parent, hard_negatives)
    if hard_negatives:
        raise DataError("--hard-negatives needs train.jsonl with negatives.doc_id; a "
                        "parallel set has no negatives (other translations in the batch "
                        "serve as negatives)")
    from e5desk.core.data import concat_sets, load_sentence_set

    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            inside = sorted(f for f in p.iterdir()
                            if f.is_file() and f.suffix.lower() in TRAIN_EXTENSIONS)
            if not inside:
                raise DataError(f"{p}: no train.jsonl and no sentence files (.po, .tmx, "
                                ".xliff, .csv, ...) in this folder")
            files += inside
        elif p.exists():
            files.append(p)
        else:
            raise DataError(f"{p}: file not found")
    results = [load_sentence_set(f, format=format) for f in files]
    warnings = [f"{r.path}: {problem}" for r in results for problem in r.problems()]
    s = concat_sets([r.sentence_set for r in results], join=join)
    data = TrainData("parallel", [str(f) for f in files], sentence_set=s, warnings=warnings)
    langs = {str(x) for x in s.lang if x}
    if len(langs) < 2:
        raise DataError(f"{', '.join(map(str, inputs))}: one language only "
                        f"({', '.join(sorted(langs)) or 'none found'}): a parallel set needs "
                        "translations in at least two languages, tied by group")
    if not _parallel_pairs(s, range(len(s))):
        raise DataError(f"{', '.join(map(str, inputs))}: no translation pairs (no group holds "
                        "sentences in two languages); give translation groups (PO, TMX, "
                        "XLIFF, a CSV with a column per language) or train.jsonl")
    return data, 0


def _language_order(s) -> list[str]:
    counts = Counter(str(x) for x in s.lang if x)
    return [lang for lang, _ in counts.most_common()]


def _parallel_pairs(s, rows: Sequence[int]) -> list[tuple[str, str]]:
    """Per group: the sentence in the set's most common language present (the pivot, e.g.
    the catalogues' English source) paired with each translation in another language.
    All pairs of a group share the pivot text, so the no-duplicates sampler keeps them out
    of one batch (no translation becomes another's in-batch negative)."""
    rank = {lang: i for i, lang in enumerate(_language_order(s))}
    groups: dict = {}
    for i in rows:
        g, lang = s.group[i], s.lang[i]
        if g is not None and lang:
            groups.setdefault(g, []).append(i)
    pairs, seen = [], set()
    for members in groups.values():
        if len({str(s.lang[i]) for i in members}) < 2:
            continue
        pivot = min(members, key=lambda i: rank[str(s.lang[i])])
        a = str(s.text[pivot])
        for i in members:
            b = str(s.text[i])
            if str(s.lang[i]) == str(s.lang[pivot]) or _norm(b) == _norm(a):
                continue
            if (a, b) not in seen:
                seen.add((a, b))
                pairs.append((a, b))
    return pairs


# -- split -----------------------------------------------------------------------------
def split_units(units: list[list[int]], share: float, seed: int = 0
                ) -> tuple[list[int], list[int]]:
    """(train, held-out) indices; every unit lies wholly on one side. ``share`` of the units
    (at least one when share > 0, never all) is held out."""
    if not 0 <= share < 1:
        raise E5DeskError(f"--held-out must be at least 0 and below 1, got {share}")
    order = list(range(len(units)))
    random.Random(seed).shuffle(order)
    n_held = 0 if share == 0 else min(len(units) - 1, max(1, round(share * len(units))))
    held = sorted(i for u in order[:n_held] for i in units[u])
    train = sorted(i for u in order[n_held:] for i in units[u])
    return train, held


# -- training --------------------------------------------------------------------------
@dataclass
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    held_out: float = 0.2
    max_tokens: int = 128
    hard_negatives: int | None = None
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    seed: int = 0
    freeze_embeddings: bool = True
    precision: str = "fast"  # fast: bf16 autocast where native; exact: float32
    mini_batch: int | None = None  # CachedMultipleNegativesRankingLoss with this mini batch
    task: str | None = None  # instruct models: the query instruction
    device: str = "auto"
    threads: int | None = None


@dataclass
class TrainResult:
    out: Path
    before: dict[str, float]
    after: dict[str, float]
    epochs: list[dict]  # per finished epoch: {"epoch", "metrics", "kept"}
    losses: list[tuple[int, float]]
    summary: dict
    seconds: float
    steps: int
    best_epoch: int | None
    stopped_early: bool

    @property
    def improved(self) -> bool | None:
        if not self.before or not self.after:
            return None
        return self.after[DECIDING_METRIC] > self.before[DECIDING_METRIC]

    def verdict(self) -> str:
        if self.improved is None:
            return ("No held-out data (--held-out 0): nothing shows whether the tuned model is "
                    "better than the base model.")
        b, a = self.before[DECIDING_METRIC], self.after[DECIDING_METRIC]
        n = self.before.get("queries")
        if self.improved:
            return (f"Better on held-out data: {DECIDING_METRIC} {b:.3f} -> {a:.3f} "
                    f"({(a - b) * 100:+.1f} points; P@1 {self.before['P@1']:.3f} -> "
                    f"{self.after['P@1']:.3f}).")
        return (f"NOT better on held-out data: {DECIDING_METRIC} {b:.3f} -> {a:.3f}"
                f"{f' on {n} queries' if n else ''}. Keep using the base model, or try more "
                "data, another --learning-rate or --epochs.")


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


def build_rows(data: TrainData, train_idx: Sequence[int], family, hard_negatives: int,
               task: str | None = None) -> dict[str, list[str]]:
    """The training columns (anchor, positive, negative_1..N), prompts applied."""
    cols: dict[str, list[str]] = {"anchor": [], "positive": []}
    for k in range(hard_negatives):
        cols[f"negative_{k + 1}"] = []
    if data.kind == "retrieval":
        for qi in train_idx:
            q = data.queries[qi]
            for j, pos in enumerate(q.positives):
                cols["anchor"].append(q.text)
                cols["positive"].append(data.passages[pos])
                negs = q.negatives
                for k in range(hard_negatives):
                    cols[f"negative_{k + 1}"].append(
                        data.passages[negs[(j * hard_negatives + k) % len(negs)]])
        out = {"anchor": family.format(cols["anchor"], "query", task)}
        for name, texts in cols.items():
            if name != "anchor":
                out[name] = family.format(texts, "passage")
        return out
    pairs = _parallel_pairs(data.sentence_set, train_idx)
    return {"anchor": family.format([a for a, _ in pairs], "query", task),
            "positive": family.format([b for _, b in pairs], "query", task)}


def eval_data(data: TrainData, held_idx: Sequence[int]) -> EvalData | None:
    if not held_idx:
        return None
    if data.kind == "retrieval":
        qs = [data.queries[i] for i in held_idx]
        return EvalData("retrieval", queries=[q.text for q in qs], passages=data.passages,
                        relevant=[set(q.positives) for q in qs])
    held = data.sentence_set.take(np.asarray(held_idx))
    try:
        return EvalData.from_set(held)
    except E5DeskError:
        return None


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
    """transformers' weight loading/saving bars and chatter off the user's terminal."""

    def __enter__(self):
        from transformers.utils import logging as hf_logging

        self.hf = hf_logging
        self.verbosity, self.bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc) -> None:
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
    with _quiet_hf():
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

    def evaluate(label: str) -> dict[str, float]:
        if evaluation is None:
            return {}
        say(f"evaluating on held-out data ({label})")
        run = run_evaluation(encode, evaluation, cancelled=cancelled)
        return run[evaluation.default_rule].metrics

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
        with _quiet_hf():
            trainer = Trainer(model=model, args=args, train_dataset=dataset, loss=loss,
                              callbacks=[Watch()])
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # logs go to on_log, not print()
        say(f"training: {len(dataset)} rows, {cfg.epochs} epoch(s)")
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
        summary = _summary(train_data, train_idx, held_idx, rows, n_neg, evaluation)
        out_result = TrainResult(out, before, after, epochs, losses_seen, summary, seconds,
                                 int(result.global_step), state["best_epoch"],
                                 state["stopped"])
        say(f"writing {out}")
        if partial.exists():
            shutil.rmtree(partial)
        with _quiet_hf():
            model.save(str(partial), create_model_card=False, safe_serialization=True)
        _write_marker(partial, out, source, fam)
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


def _summary(data: TrainData, train_idx, held_idx, rows, n_neg: int, evaluation) -> dict:
    out = {"format": "train.jsonl + passages.jsonl" if data.kind == "retrieval"
           else "parallel set (translation groups)",
           "files": [Path(f).name for f in data.files], "training rows": len(rows["anchor"])}
    if data.kind == "retrieval":
        out.update({"queries (train / held out)": f"{len(train_idx)} / {len(held_idx)}",
                    "passages": len(data.passages),
                    "train_n_passages": n_neg + 1,
                    "hard negatives per row": n_neg})
    else:
        s = data.sentence_set
        out.update({"sentences (train / held out)": f"{len(train_idx)} / {len(held_idx)}",
                    "languages": ", ".join(_language_order(s)),
                    "pairs": f"{_language_order(s)[0]} (or the group's most common language)"
                             " -> each translation"})
    if evaluation is not None and evaluation.kind == "parallel":
        out["held-out evaluation"] = "every language pair of the held-out groups, averaged"
    elif evaluation is not None:
        out["held-out evaluation"] = "held-out queries against all passages"
    return out


def _write_marker(folder: Path, out: Path, source, fam) -> None:
    marker = {"family": fam.key, "name": out.name,
              "description": f"fine-tuned by e5desk train from {source.name}",
              "base_model": source.name, "base_path": str(source.path)}
    (folder / "e5desk_model.json").write_text(json.dumps(marker, indent=2) + "\n",
                                              encoding="utf-8")


def metrics_table(before: dict, after: dict, columns: Sequence[str] = METRICS) -> str:
    """Before/after side by side (markdown), the change in points."""
    lines = ["| metric | base model | fine-tuned | change |", "|---|---:|---:|---:|"]
    for m in columns:
        if m in before or m in after:
            b, a = before.get(m), after.get(m)
            change = f"{(a - b) * 100:+.1f}" if b is not None and a is not None else ""
            fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(f"| {m} | {fmt(b)} | {fmt(a)} | {change} |")
    return "\n".join(lines)


def model_card(r: TrainResult, source, fam, cfg: TrainConfig, bf16: bool, device: str) -> str:
    base_name = source.name
    hyper = {"epochs": cfg.epochs, "epochs run": len(r.epochs), "batch size": cfg.batch_size,
             "learning rate": cfg.learning_rate, "warm-up": f"{cfg.warmup_ratio:.0%} of steps",
             "max tokens": cfg.max_tokens, "steps": r.steps,
             "loss": ("CachedMultipleNegativesRankingLoss (mini batch "
                      f"{cfg.mini_batch})" if cfg.mini_batch else
                      "MultipleNegativesRankingLoss") + " (in-batch negatives)",
             "batch sampler": "no duplicates", "word embeddings": "frozen"
             if cfg.freeze_embeddings else "trained",
             "precision": "bf16 autocast" if bf16 else "float32", "device": device,
             "held-out share": cfg.held_out, "seed": cfg.seed,
             "best epoch kept": r.best_epoch, "stopped early": r.stopped_early,
             "wall time": f"{r.seconds:.0f} s"}
    lines = [
        "---", f"base_model: {json.dumps(base_name)}", "library_name: sentence-transformers",
        "pipeline_tag: sentence-similarity",
        "tags: [sentence-transformers, e5, e5desk, fine-tuned]", "---", "",
        f"# {r.out.name}", "",
        f"Fine-tuned from **{base_name}** ({fam.display}) with `e5desk train`. Prompts as the "
        f"base model: {fam.prompt_description()}.", "",
        "## Held-out evaluation", "",
        r.verdict(), "",
    ]
    if r.before or r.after:
        counted = (f"{int(r.before['queries'])} held-out queries; " if r.before.get("queries")
                   else "")
        lines += [metrics_table(r.before, r.after), "",
                  f"{counted}{DECIDING_METRIC} decides which epoch is kept.", ""]
        if len(r.epochs) > 1:
            lines += ["| epoch | " + " | ".join(METRICS) + " | kept |",
                      "|---|" + "---:|" * (len(METRICS) + 1)]
            for e in r.epochs:
                cells = " | ".join(f"{e['metrics'].get(m, math.nan):.3f}" for m in METRICS)
                lines.append(f"| {e['epoch']} | {cells} | {'yes' if e['kept'] else ''} |")
            lines.append("")
    lines += ["## Data", ""]
    lines += [f"- {k}: {', '.join(v) if isinstance(v, list) else v}"
              for k, v in r.summary.items()]
    lines += ["", "## Hyper-parameters", ""]
    lines += [f"- {k}: {v}" for k, v in hyper.items()]
    lines += ["", "## Use", "", "```", f"e5desk --model {r.out}", "```", "",
              "```python", "from sentence_transformers import SentenceTransformer",
              f"model = SentenceTransformer({str(r.out)!r})",
              "vectors = model.encode(texts, prompt_name=\"query\")", "```", ""]
    return "\n".join(lines)
