"""Fine-tune a model: check where it goes, train (in this process for `e5desk train`, in a
child process for the window's Fine-tune dock: the front end passes the runner), add it to
the model list, and shape the before/after metrics. The training itself is
``core/training.train`` (``core/train_process.train_in_child`` runs it in a child)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.train_data import TrainConfig

# The metrics of the before/after table, in the order shown.
TABLE_METRICS = ("MRR@10", "nDCG@10", "Recall@1", "Recall@5", "Recall@10", "P@1")


@dataclass
class TrainSettings:
    inputs: Sequence[Path]
    out: Path
    base: str | Path | None = None  # None: the embedded model
    family: str | None = None
    config: TrainConfig = field(default_factory=TrainConfig)
    register: bool = True  # add the new model to e5desk's model list


def check_output(out: str | Path) -> Path:
    """The output folder, refused when it exists and is not empty."""
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise E5DeskError(f"{out} already exists and is not empty; choose another --out")
    return out


@dataclass
class Trained:
    result: Any  # core.train_report.TrainResult
    registered: bool
    note: str | None = None  # why the model was not added to the list


def fine_tune(settings: TrainSettings, run: Callable[..., Any], *,
              progress: Progress | None = None, cancelled: CancelCheck | None = None,
              on_log: Callable[[int, float], None] | None = None,
              on_status: Callable[[str], None] | None = None) -> Trained:
    """``run(inputs, out, base, family, config, progress=, cancelled=, on_log=,
    on_status=)``: ``core.training.train`` or ``core.train_process.train_in_child``."""
    out = check_output(settings.out)
    result = run([Path(p) for p in settings.inputs], out, settings.base, settings.family,
                 settings.config, progress=progress, cancelled=cancelled, on_log=on_log,
                 on_status=on_status)
    if not settings.register:
        return Trained(result, False)
    from e5desk.core.models.discovery import add_configured_folder

    try:
        add_configured_folder(result.out)
    except E5DeskError as exc:
        return Trained(result, False, f"{result.out} was not added to the model list: {exc}")
    return Trained(result, True)


def metric_table(before: dict, after: dict) -> tuple[list, list, list]:
    """Before/after per metric with the change in points: (names, columns, formats)."""
    rows = [m for m in TABLE_METRICS if m in before or m in after]
    b = [before.get(m) for m in rows]
    a = [after.get(m) for m in rows]
    change = [None if x is None or y is None else (y - x) * 100
              for x, y in zip(b, a, strict=True)]
    return (["metric", "base model", "fine-tuned", "change (points)"], [rows, b, a, change],
            ["s", ".3f", ".3f", "+.1f"])
