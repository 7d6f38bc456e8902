"""What a training run reports and leaves beside the model: the result with its verdict,
the data summary, the e5desk marker file and the README model card."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from e5desk.core.evaluate import METRICS
from e5desk.core.train_data import TrainData, language_order

if TYPE_CHECKING:
    from e5desk.core.training import TrainConfig

DECIDING_METRIC = "MRR@10"


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
    # Per held-out query, reciprocal rank before and after (paired; see evaluate.py).
    ranks_before: Sequence[float] | None = None
    ranks_after: Sequence[float] | None = None

    @property
    def interval(self) -> tuple[float, float, float] | None:
        """(mean change, 2.5 %, 97.5 %) of MRR@10 in points from a paired bootstrap over
        the held-out queries; None without paired values."""
        b, a = self.ranks_before, self.ranks_after
        if b is None or a is None or len(b) != len(a) or len(b) < 2:
            return None
        return paired_bootstrap(np.asarray(b), np.asarray(a))

    @property
    def improved(self) -> bool | None:
        """True only when the whole 95 % interval lies above 0 (without paired values: any
        gain); False otherwise."""
        if not self.before or not self.after:
            return None
        ci = self.interval
        if ci is not None:
            return ci[1] > 0
        return self.after[DECIDING_METRIC] > self.before[DECIDING_METRIC]

    def verdict(self) -> str:
        if self.improved is None:
            return ("No held-out data (--held-out 0): nothing shows whether the tuned model is "
                    "better than the base model.")
        b, a = self.before[DECIDING_METRIC], self.after[DECIDING_METRIC]
        n = self.before.get("queries")
        on = f" on {int(n)} held-out queries" if n else ""
        ci = self.interval
        if ci is None:
            change = f"{(a - b) * 100:+.1f} points"
        else:
            change = (f"{ci[0]:+.1f} points, 95 % interval {ci[1]:+.1f} to {ci[2]:+.1f} "
                      "(paired bootstrap over the queries)")
        if self.improved:
            return (f"Better on held-out data: {DECIDING_METRIC} {b:.3f} -> {a:.3f}{on} "
                    f"({change}; P@1 {self.before['P@1']:.3f} -> {self.after['P@1']:.3f}).")
        if ci is not None and ci[2] >= 0:
            return (f"No clear difference on held-out data: {DECIDING_METRIC} {b:.3f} -> "
                    f"{a:.3f}{on} ({change}): too close to call; more held-out data would "
                    "tell. Keep using the base model unless another measure says otherwise.")
        return (f"NOT better on held-out data: {DECIDING_METRIC} {b:.3f} -> {a:.3f}{on}"
                f" ({change}). Keep using the base model, or try more data, another "
                "--learning-rate or --epochs.")


BOOTSTRAP_SAMPLES = 2000


def paired_bootstrap(before: np.ndarray, after: np.ndarray, samples: int = BOOTSTRAP_SAMPLES,
                     seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``after - before`` in points (x 100) and its 95 % percentile interval,
    resampling the queries with replacement (the same queries for both: paired)."""
    diff = (np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)) * 100
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(samples, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(lo), float(hi)


def data_summary(data: TrainData, train_idx, held_idx, rows, n_neg: int, evaluation) -> dict:
    """The data part of the model card and of the command's report."""
    out = {"format": getattr(data, "format", "") or (
               "train.jsonl + passages.jsonl" if data.kind == "retrieval"
               else "parallel set (translation groups)"),
           "files": [Path(f).name for f in data.files], "training rows": len(rows["anchor"])}
    if data.kind == "retrieval":
        out.update({"queries (train / held out)": f"{len(train_idx)} / {len(held_idx)}",
                    "passages": len(data.passages),
                    "train_n_passages": n_neg + 1,
                    "hard negatives per row": n_neg})
    else:
        s = data.sentence_set
        out.update({"sentences (train / held out)": f"{len(train_idx)} / {len(held_idx)}",
                    "languages": ", ".join(language_order(s)),
                    "pairs": f"{language_order(s)[0]} (or the group's most common language)"
                             " -> each translation"})
    if evaluation is not None and evaluation.kind == "parallel":
        out["held-out evaluation"] = "every language pair of the held-out groups, averaged"
    elif evaluation is not None:
        out["held-out evaluation"] = "held-out queries against all passages"
    return out


def write_marker(folder: Path, out: Path, source, fam) -> None:
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
