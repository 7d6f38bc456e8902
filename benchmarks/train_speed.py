"""`e5desk train` on the real embedded model: wall time, CPU time and held-out metrics
before/after, per seed (never run in the test suite).

    .venv/bin/python benchmarks/train_speed.py [DATA ...] [--seeds 0 1 2] [--threads 2]
        [--epochs 1] [--batch-size 32] [--precision fast|exact]

Default DATA: the real-shaped PO catalogues in tests/data/real/catalogues (English source +
five translations, joined by msgid). Prints one line per seed and the mean/spread of the
gain in P@1 and MRR@10. The load average is printed too: on a shared machine wall time
says little, CPU time more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _held(summary: dict) -> str:
    return next((f"{k}: {v}" for k, v in summary.items() if "held out" in k), "")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("data", nargs="*", type=Path,
                   default=[ROOT / "tests" / "data" / "real" / "catalogues"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-5)
    p.add_argument("--precision", default="fast", choices=["fast", "exact"])
    p.add_argument("--model", default=None)
    args = p.parse_args()

    from e5desk.core.training import TrainConfig, train

    gains = {"P@1": [], "MRR@10": []}
    for seed in args.seeds:
        cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=seed,
                          threads=args.threads, precision=args.precision,
                          learning_rate=args.learning_rate)
        with tempfile.TemporaryDirectory() as tmp:
            t, cpu = time.perf_counter(), time.process_time()
            r = train(args.data, Path(tmp) / "tuned", args.model, config=cfg)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        b, a = r.before, r.after
        for m in gains:
            gains[m].append(a[m] - b[m])
        print(f"seed {seed}: rows {r.summary['training rows']}, steps {r.steps}, "
              f"wall {wall:.0f} s, CPU {cpu:.0f} s, load {os.getloadavg()[0]:.1f}; held-out "
              f"P@1 {b['P@1']:.3f} -> {a['P@1']:.3f}, MRR@10 {b['MRR@10']:.3f} -> "
              f"{a['MRR@10']:.3f}; {_held(r.summary)}",
              flush=True)
    for m, values in gains.items():
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        print(f"{m} gain: mean {statistics.mean(values) * 100:+.1f} points, "
              f"spread (sd) {spread * 100:.1f} over {len(values)} seed(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
