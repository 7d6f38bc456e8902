"""The window with a big set, for docs/screenshots/big-map.png.

    .venv/bin/python benchmarks/big_screenshot.py data --rows 250000 --out /tmp/e5shot
    SCREEN=1600x1000 /work/shared/tools/look-at-app docs/screenshots/big-map.png 240 \\
        .venv/bin/python benchmarks/big_screenshot.py show --out /tmp/e5shot

``data`` writes texts.txt and v.npy: 8 themes of 5 topics each (their words in the texts),
meanings inside topics, unit 384-d vectors. ``show`` opens them as ``e5desk texts.txt
--vectors v.npy`` does, computes the map (a PCA preview, then UMAP of a 100k sample with
the rest placed), and once its clusters are labelled colours by cluster, switches density
contours on and selects a rectangle, so the picture shows the density image, labels by
level, contours and grey unselected points. PCA by default: on this synthetic data the sampled
UMAP (PCA start, 60 epochs at 100k sampled rows) came out as one round cloud.

``--shape topics`` writes data the UMAP can show, for docs/screenshots/big-map-umap.png:
each of the 40 topics is one Gaussian blob (a few broad directions plus narrow noise), no
meanings of 40 near-identical rows. The meanings' kNN graph falls apart into many small
islands, which UMAP spreads into a uniform disc; inside a topic blob the neighbours
are connected, so each topic is one island:

    .venv/bin/python benchmarks/big_screenshot.py data --shape topics --rows 1000000 \\
        --out /tmp/e5big
    SCREEN=1600x1000 /work/shared/tools/look-at-app docs/screenshots/big-map-umap.png 400 \\
        .venv/bin/python benchmarks/big_screenshot.py show --out /tmp/e5big --method umap

Seen at 1M (see README): islands by topic (2-D topic purity@10 0.99997 on 20k rows). HDBSCAN
first found 2 clusters, 48% noise: its min_samples defaulted to the min cluster size, 1/40
of the 20k-row cluster sample (500), which fills the gaps between neighbouring islands; with
min_samples 10 (core.clusters.MIN_SAMPLES) and no centring of this language-less set, 15.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

THEMES = {
    "travel": "train airport hotel passport luggage",
    "cooking": "recipe oven pasta spices dessert",
    "music": "guitar concert piano singer album",
    "sport": "football tennis marathon swimming cycling",
    "weather": "rain storm snow sunshine forecast",
    "health": "doctor fever vaccine sleep exercise",
    "money": "bank invoice salary taxes savings",
    "school": "exam teacher homework library lecture",
}


def _topic_centres(rng) -> tuple[list, np.ndarray]:
    """(theme, word) per topic and its centre: near its theme's centre."""
    themes = list(THEMES)
    topics = [(t, w) for t in themes for w in THEMES[t].split()]
    theme_c = rng.normal(size=(len(themes), 384)) * 2.5
    topic_c = np.array([theme_c[themes.index(t)] for t, _ in topics]) + rng.normal(
        size=(len(topics), 384)) * 1.2
    return topics, topic_c


def write_data(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    topics, topic_c = _topic_centres(rng)
    n_meanings = n // 40
    meaning_topic = rng.integers(0, len(topics), n_meanings)
    meaning_c = topic_c[meaning_topic] + rng.normal(size=(n_meanings, 384)) * 0.5
    meaning = rng.integers(0, n_meanings, n)
    x = (meaning_c[meaning] + rng.normal(size=(n, 384)) * 0.45).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    np.save(folder / "v.npy", x)
    fillers = ("about the", "my question on", "news of", "a note about", "help with")
    with (folder / "texts.txt").open("w", encoding="utf-8") as f:
        for i, m in enumerate(meaning):
            theme, word = topics[meaning_topic[m]]
            f.write(f"{fillers[i % 5]} {word} ({theme}) #{m}\n")
    print(f"wrote {folder}: {n:,} rows", flush=True)


def write_topics(folder: Path, n: int, seed: int = 0, block: int = 100_000) -> None:
    """40 topic blobs, 8 themes of 5; written in blocks (1M x 384 float64 would be 3 GB)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    topics, topic_c = _topic_centres(rng)
    # 3 broad directions per topic: neighbours follow them, so the blob stays one
    # connected piece with a dense middle instead of equidistant noise
    spread = np.array([9.0, 6.0, 4.0])[:, None]
    axes = rng.normal(size=(len(topics), 3, 384)) / np.sqrt(384) * spread
    weight = rng.uniform(0.4, 1.6, len(topics))  # topics of unequal size
    topic = rng.choice(len(topics), size=n, p=weight / weight.sum())
    out = np.lib.format.open_memmap(folder / "v.npy", mode="w+", dtype=np.float32, shape=(n, 384))
    for a in range(0, n, block):
        t = topic[a:a + block]
        z = rng.normal(size=(len(t), 3))
        x = topic_c[t] + np.einsum("nk,nkd->nd", z, axes[t]) + rng.normal(size=(len(t), 384)) * 0.4
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[a:a + block] = x
    out.flush()
    del out
    fillers = ("about the", "my question on", "news of", "a note about", "help with")
    with (folder / "texts.txt").open("w", encoding="utf-8") as f:
        for i, k in enumerate(topic):
            theme, word = topics[k]
            f.write(f"{fillers[i % 5]} {word} ({theme}) #{i}\n")
    print(f"wrote {folder}: {n:,} rows, 40 topic blobs", flush=True)


def show(folder: Path, method: str) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from e5desk.core.mapping import MAP_ROLE
    from e5desk.gui.app import run

    app = QApplication.instance() or QApplication([sys.argv[0]])
    start = time.perf_counter()
    step = {"n": 0}

    def log(text: str) -> None:
        print(f"{time.perf_counter() - start:6.1f} s  {text}", flush=True)

    def tick() -> None:
        window = next((w for w in app.topLevelWidgets() if hasattr(w, "map_view")), None)
        if window is None:
            return
        view, session = window.map_view, window.session
        if step["n"] == 0 and session.vectors(MAP_ROLE) is not None and \
                session.encoder is not None and not session.runner.running:
            window.showMaximized()
            window.tabs.setCurrentWidget(view)
            view.method.setCurrentIndex(view.method.findData(method))
            view.changed.connect(lambda: log(f"map drawn: {view.map_params.get('method')}"))
            view.compute_map()  # as the button does
            step["n"] = 1
            log("map asked for")
        elif step["n"] == 1 and view.map_params.get("method") == method and \
                view.analysis is not None and view.analysis.labels is view.labels and \
                not session.runner.running:
            view.colour.setCurrentIndex(view.colour.findData("cluster"))
            view.controls.contours.setChecked(True)
            (x0, y0), (x1, y1) = view.coords.min(axis=0), view.coords.max(axis=0)
            view.select_rect(x0 + (x1 - x0) * 0.35, y0 + (y1 - y0) * 0.3,
                             x0 + (x1 - x0) * 0.75, y0 + (y1 - y0) * 0.7)
            step["n"] = 2
            log(f"map shown: {len(view.clusters)} clusters, "
                f"{len(view.selected_rows()):,} selected")

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(500)
    return run([str(folder / "texts.txt"), "--vectors", str(folder / "v.npy")])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["data", "show"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/e5shot"))
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--method", default="pca", choices=["pca", "umap"],
                    help="umap: on --shape meanings the sampled UMAP (above 200k rows) gives "
                         "one round cloud, PCA shows the 8 themes; use --shape topics")
    ap.add_argument("--shape", default="meanings", choices=["meanings", "topics"],
                    help="data: meanings of 40 rows inside topics (PCA shows it), or topic "
                         "blobs whose kNN graph is connected (UMAP shows it)")
    args = ap.parse_args()
    if args.what == "data":
        (write_topics if args.shape == "topics" else write_data)(args.out, args.rows)
    else:
        sys.exit(show(args.out, args.method))


if __name__ == "__main__":
    main()
