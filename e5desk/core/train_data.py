"""Training data for ``e5desk train``: read and checked before any model loads, split
without leaks, and turned into the trainer's columns.

- the reference retrieval format: a folder (or its ``train.jsonl``) with ``passages.jsonl``
  (``{"contents"}``, doc_id = line number from 0) and ``train.jsonl`` (``query``,
  ``positives.doc_id``, ``negatives.doc_id``). Asymmetric: the family's query prompt on the
  query, its passage prompt on the passages. Each training row holds ``train_n_passages``
  passages: one positive and ``hard_negatives`` negatives (rotated, so later positives of a
  query meet other negatives);
- a parallel set (any e5desk reader with translation groups): per group, the sentence in the
  set's most common language paired with each translation, the symmetric role on both sides.

Split (``split_units``): held out by query (retrieval: same query text stays on one side)
or by group (parallel: groups sharing a text are one unit), so nothing held out was seen.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.errors import DataError, E5DeskError
from e5desk.core.evaluate import EvalData
from e5desk.core.models.families import SYMMETRIC_ROLE

MAX_PROBLEMS = 8  # bad lines listed in one error
TRAIN_EXTENSIONS = {".po", ".pot", ".tmx", ".xlf", ".xliff", ".csv", ".tsv", ".jsonl", ".txt"}


# -- reading ---------------------------------------------------------------------------
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
    # Pair files of a symmetric task (sentence1/sentence2, text/translation): the query
    # role on both sides, as for parallel sets; retrieval pairs use query/passage.
    symmetric: bool = False
    format: str = ""  # what the data was read as (the model card's data section)

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


def read_pairs(path: Path, hard_negatives: int | None) -> tuple[TrainData, int] | None:
    """A JSONL file (or JSON array) of pairs as people write them: query/positive[/negative],
    anchor/positive[/negative], sentence1/sentence2, text/translation -> (data, hard
    negatives used); None when the file is not one of those."""
    from e5desk.core.data.encoding import decode, read_input
    from e5desk.core.data.jsonl import _records, pair_format, pair_negatives
    from e5desk.core.data.result import LoadResult
    from e5desk.core.data.sentence_set import SentenceSet

    report = LoadResult(SentenceSet.build([]), path, "jsonl")
    records = list(_records(path, decode(read_input(path), path)[0], report))
    fmt = pair_format(records[0][1]) if records else None
    if fmt is None:
        return None
    a_field, p_field, _, symmetric = fmt
    passages: list[str] = []
    row: dict[str, int] = {}

    def passage(text: str) -> int:
        if text not in row:
            row[text] = len(passages)
            passages.append(text)
        return row[text]

    queries, problems, bad = [], list(report.reasons), report.skipped
    for n, rec in records:
        a, b = rec.get(a_field), rec.get(p_field)
        if not all(isinstance(v, str) and v.strip() for v in (a, b)):
            bad += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(f"line {n}: expected two texts in {a_field!r} and {p_field!r}")
            continue
        pos = passage(b)
        negs = [passage(x) for x in pair_negatives(rec)]
        queries.append(TrainQuery(a, [pos], [d for d in negs if d != pos], n))
    _raise_problems(path, problems, bad)
    if hard_negatives is None:
        hard_negatives = 1 if queries and all(q.negatives for q in queries) else 0
    short = [q for q in queries if len(q.negatives) < hard_negatives]
    if short:
        raise DataError(f"{path}: {len(short)} pair(s) have fewer negatives than "
                        f"--hard-negatives {hard_negatives} (line {short[0].line} first); add "
                        "negatives or lower --hard-negatives")
    data = TrainData("retrieval", [str(path)], passages=passages, queries=queries,
                     symmetric=symmetric, format=f"{a_field}/{p_field} pairs (JSONL)")
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
        if p.is_file() and p.suffix.lower() in (".jsonl", ".json", ".ndjson") \
                and format in (None, "jsonl"):
            pairs = read_pairs(p, hard_negatives)
            if pairs is not None:
                return pairs
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


def language_order(s) -> list[str]:
    counts = Counter(str(x) for x in s.lang if x)
    return [lang for lang, _ in counts.most_common()]


def _parallel_pairs(s, rows: Sequence[int]) -> list[tuple[str, str]]:
    """Per group: the sentence in the set's most common language present (the pivot, e.g.
    the catalogues' English source) paired with each translation in another language.
    All pairs of a group share the pivot text, so the no-duplicates sampler keeps them out
    of one batch (no translation becomes another's in-batch negative)."""
    rank = {lang: i for i, lang in enumerate(language_order(s))}
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


# -- the trainer's columns and the held-out evaluation -----------------------------------
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
                out[name] = (family.format(texts, SYMMETRIC_ROLE, task) if data.symmetric
                             else family.format(texts, "passage"))
        return out
    pairs = _parallel_pairs(data.sentence_set, train_idx)
    return {"anchor": family.format([a for a, _ in pairs], SYMMETRIC_ROLE, task),
            "positive": family.format([b for _, b in pairs], SYMMETRIC_ROLE, task)}


def eval_data(data: TrainData, held_idx: Sequence[int]) -> EvalData | None:
    if not held_idx:
        return None
    if data.kind == "retrieval":
        qs = [data.queries[i] for i in held_idx]
        return EvalData("retrieval", queries=[q.text for q in qs], passages=data.passages,
                        relevant=[set(q.positives) for q in qs],
                        rule="symmetric" if data.symmetric else None)
    held = data.sentence_set.take(np.asarray(held_idx))
    try:
        return EvalData.from_set(held)
    except E5DeskError:
        return None


# Here, not in training.py, so that the window can build one without the trainer module.
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
    verbose: bool = False  # the libraries' own logs and warnings (silenced by default)
