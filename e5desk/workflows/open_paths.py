"""Open paths: decide what each opened path is (a project, an `e5desk batch` output folder,
a file whose columns the user picks, or a sentence file read with the others) and open a
batch folder for the loaded model. The window's File ▸ Open, drag and drop, recent files and
`e5desk FILE...` go through :func:`plan_open`; the CLI and the API read sentence files with
``core.data.load_sentence_set`` and batch folders with ``core.batch.StoredEncoder``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from e5desk.core.batch import MANIFEST, is_batch_folder, load_batch, provenance_mismatch
from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

PROJECT_SUFFIX = ".e5desk"
MAX_RECENT = 10
OPEN_FILTER = ("Projects and sentence sets (*.e5desk *.txt *.csv *.tsv *.jsonl *.json *.tmx *.xlf "
               "*.xliff *.po *.pot);;e5desk projects (*.e5desk);;"
               f"e5desk batch output ({MANIFEST});;"
               "Sentence sets (*.txt *.csv *.tsv *.jsonl *.json *.tmx *.xlf *.xliff *.po *.pot);;"
               "All files (*)")
VECTORS_FILTER = "Vectors (*.tsv *.npy *.parquet);;All files (*)"
PAIRED_VECTORS_FILTER = "Vectors (*.npy *.parquet);;All files (*)"


@dataclass(frozen=True)
class OpenStep:
    """One thing to do for an opened path, in the order the paths came."""

    kind: Literal["project", "batch", "columns"]
    path: str | Path  # as given (a batch step: the folder)
    preview: Any = None  # the column preview (core.data.columns.ColumnPreview) for "columns"


@dataclass
class OpenPlan:
    steps: list[OpenStep] = field(default_factory=list)
    files: list[str | Path] = field(default_factory=list)  # read together, in order given


def batch_folder(path: str | Path) -> Path | None:
    """The `e5desk batch` output folder that ``path`` is, or is a file of (its manifest or
    a ``part-*.parquet`` shard)."""
    path = Path(path)
    if path.name == MANIFEST or (path.suffix == ".parquet" and path.name.startswith("part-")):
        path = path.parent
    return path if is_batch_folder(path) else None


def column_choice(path: str | Path):
    """The column preview when ``path``'s format has columns to choose (CSV/TSV, generic
    JSONL), else None (also when it cannot be read: the reader will say what is wrong)."""
    from e5desk.core.data.columns import preview_columns

    try:
        return preview_columns(path)
    except (E5DeskError, OSError):
        return None


def plan_open(paths: Iterable[str | Path], ask_columns: bool = True) -> OpenPlan:
    """What to do with ``paths``: projects open as projects, batch folders with their stored
    vectors, files with columns to choose ask first (when ``ask_columns``), the rest are read
    together so their sets keep the order given."""
    plan = OpenPlan()
    for raw in paths:
        path = Path(raw)
        folder = None if str(raw).endswith(PROJECT_SUFFIX) else batch_folder(path)
        preview = (column_choice(path) if ask_columns and folder is None
                   and not str(raw).endswith(PROJECT_SUFFIX) else None)
        if str(raw).endswith(PROJECT_SUFFIX):
            plan.steps.append(OpenStep("project", raw))
        elif folder is not None:
            plan.steps.append(OpenStep("batch", folder))
        elif preview is not None:
            plan.steps.append(OpenStep("columns", raw, preview))
        else:
            plan.files.append(raw)
    return plan


def remember(recent: Sequence[str], paths: Iterable[str | Path],
             limit: int = MAX_RECENT) -> list[str]:
    """The recent-files list after opening ``paths``: newest first, no repeats."""
    first = [str(Path(p).resolve()) for p in paths]
    return (first + [p for p in recent if p not in first])[:limit]


def project_path(path: str) -> str:
    """A name typed in a save dialog, with the project suffix added when it lacks one."""
    return path if path.endswith(PROJECT_SUFFIX) else path + PROJECT_SUFFIX


def is_user_work(project: Path | None, sources: Iterable[Any]) -> bool:
    """Anything beyond the bundled sample set (that one needs no saving)."""
    from e5desk.core.resources import resource_path

    sample = str(resource_path("samples", "phrases.csv"))
    return project is not None or any(str(s) != sample for s in sources)


def batch_refusal(folder: str | Path, provenance: dict, model_id: str | None,
                  dim: int | None) -> str | None:
    """Why a batch folder's stored vectors cannot go with the loaded model (another model or
    model setting made them); None when they can, or when no model is loaded yet."""
    reason = model_id is not None and provenance_mismatch(provenance, model_id, dim)
    return f"{Path(folder).name} was not opened: {reason}." if reason else None


def open_batch(folder: str | Path, progress: Progress | None = None,
               cancelled: CancelCheck | None = None):
    """An `e5desk batch` output folder's stored vectors (never recomputed); check them
    against the loaded model with :func:`batch_refusal`."""
    return load_batch(folder, progress, cancelled)
