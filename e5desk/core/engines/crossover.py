"""Where ``--engine auto`` switches from the fused runtime to torch, measured on this machine.

A forward batch's shape is (rows, padded width); its cost grows with rows x width. Torch's
eager kernels pay a fixed price per operation, which a fused graph does not, so the fused
runtime wins small batches; torch's bf16 GEMMs may win big ones. The measurement times both
at a ladder of batch shapes up to the encoder's token budget (a few seconds, once), rounds
interleaved and the best of each kept, and stores the result per model, engine pair, CPU and
thread count in ``<user cache>/engines/crossover.json``. ``limit`` is the largest padded
token count up to which the fused runtime won every measured shape (None: it won them all).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.engines.graph import _write_json, engines_dir

# (rows, width): single texts, small batches, full 1,024-token budgets short and long.
SHAPES: tuple[tuple[int, int], ...] = ((1, 16), (1, 64), (4, 32), (8, 32), (16, 32),
                                       (8, 128), (32, 32), (2, 512))
ROUNDS = 3


@dataclass(frozen=True)
class Crossover:
    limit: int | None  # fused for rows x width <= limit; None = fused for every shape
    table: tuple[tuple[int, int, float, float], ...]  # rows, width, fused ms, torch ms
    measured: str = ""

    def use_fused(self, rows: int, width: int) -> bool:
        return self.limit is None or rows * width <= self.limit

    def summary(self, fused: str, torch: str) -> str:
        if self.limit is None:
            rule = f"{fused} for every batch (it was faster at every shape measured)"
        elif self.limit == 0:
            rule = f"{torch} for every batch (it was faster even for one short text)"
        else:
            rule = (f"{fused} for batches up to {self.limit} padded tokens (single texts, "
                    f"small batches), {torch} above")
        single = next(((f, t) for b, w, f, t in self.table if b == 1), None)
        big = next(((b, w, f, t) for b, w, f, t in self.table if b * w >= 1024), None)
        how = []
        if single:
            how.append(f"one short text {single[0]:.1f} vs {single[1]:.1f} ms")
        if big:
            how.append(f"{big[0]}x{big[1]} tokens {big[2]:.0f} vs {big[3]:.0f} ms")
        where = f"measured {self.measured}" if self.measured else "measured"
        return f"{rule} ({where}: {', '.join(how)})" if how else rule


def limit_from(table) -> int | None:
    """The largest padded token count up to which the fused runtime won every shape."""
    rows = sorted(table, key=lambda r: (r[0] * r[1], r[0]))
    best = 0
    for b, w, fused_ms, torch_ms in rows:
        if fused_ms > torch_ms:
            return best
        best = b * w
    return None


def measure(fused, torch_forward, seq: list[int], pad: int,
            shapes=SHAPES, rounds: int = ROUNDS, budget: int | None = None) -> Crossover:
    """Time ``fused(ids, mask)`` and ``torch_forward(ids, mask)`` at each shape; ``seq`` is a
    real token sequence repeated to fill the width."""
    batches = []
    for b, w in shapes:
        if budget and b * w > budget:
            continue
        row = (list(seq) * (w // max(1, len(seq)) + 1))[:w]
        ids = np.full((b, w), pad, dtype=np.int64)
        ids[:] = row
        batches.append((b, w, ids, np.ones((b, w), dtype=np.int64)))
    best = {(b, w): [float("inf"), float("inf")] for b, w, _, _ in batches}
    for _b, _w, ids, mask in batches[:2]:  # warm-up (thread pools, allocators, caches)
        fused(ids, mask)
        torch_forward(ids, mask)
    for _ in range(rounds):
        for b, w, ids, mask in batches:
            for k, run in enumerate((fused, torch_forward)):
                t0 = time.perf_counter()
                run(ids, mask)
                best[b, w][k] = min(best[b, w][k], 1000 * (time.perf_counter() - t0))
    table = tuple((b, w, round(f, 2), round(t, 2)) for (b, w), (f, t) in best.items())
    return Crossover(limit_from(table), table, time.strftime("%Y-%m-%d"))


def _store() -> Path:
    return engines_dir() / "crossover.json"


def stored(key: str) -> Crossover | None:
    try:
        entry = json.loads(_store().read_text())[key]
        return Crossover(entry["limit"], tuple(tuple(r) for r in entry["table"]),
                         entry.get("measured", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(key: str, result: Crossover) -> None:
    try:
        data = json.loads(_store().read_text())
    except (OSError, ValueError):
        data = {}
    data[key] = {"limit": result.limit, "table": [list(r) for r in result.table],
                 "measured": result.measured}
    _write_json(_store(), data)


def stored_for(digest: str) -> list[tuple[str, Crossover]]:
    """Every stored measurement of one model (``e5desk models``)."""
    try:
        data = json.loads(_store().read_text())
    except (OSError, ValueError):
        return []
    out = []
    for key, entry in data.items():
        if key.startswith(digest + "|"):
            try:
                out.append((key, Crossover(entry["limit"], tuple(tuple(r) for r in
                                                                 entry["table"]),
                                           entry.get("measured", ""))))
            except (KeyError, TypeError):
                continue
    return out
