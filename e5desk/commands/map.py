"""`e5desk map INPUT... --out MAP.csv [--plot MAP.png]`: sentences placed by meaning."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from e5desk.commands._common import (
    add_input_options,
    add_model_options,
    load_encoder,
    load_inputs,
    progress_bar,
)
from e5desk.core.errors import E5DeskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="2-D map of sentence sets (UMAP/PCA/t-SNE) to CSV/PNG",
                       description="Embed the sentences of INPUT files (query form, as for "
                       "clustering), project them to 2-D and cluster them. MAP.csv has one "
                       "row per sentence: x, y, cluster, cluster_label, lang, group, text.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    add_input_options(p)
    p.add_argument("--method", choices=["umap", "pca", "tsne"], default="umap")
    p.add_argument("--center-languages", action="store_true",
                   help="subtract each language's mean vector first (meaning over language)")
    p.add_argument("--neighbors", type=int, default=15, help="UMAP n_neighbors")
    p.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, required=True, metavar="MAP.csv")
    p.add_argument("--plot", type=Path, default=None, metavar="MAP.png")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.alignment import cross_lingual_p_at_1, mixing_score
    from e5desk.core.clusters import describe_clusters, hdbscan_labels
    from e5desk.core.projection import MapParams, center_languages, project

    for path in (args.out, args.plot):
        if path is not None and not path.parent.exists():
            raise E5DeskError(f"{path}: folder {path.parent} does not exist")
    sentences, _ = load_inputs(args.inputs, args.format, args.join)
    texts, langs = list(sentences.text), list(sentences.lang)
    encoder = load_encoder(args)
    with progress_bar("embedding") as bar:
        vectors = encoder.encode(texts, role="query", progress=bar)
    params = MapParams(args.method, args.neighbors, args.min_dist, args.seed,
                       args.center_languages)
    if args.center_languages and any(x is None for x in langs):
        raise E5DeskError("--center-languages needs a language for every sentence; "
                          "some rows have none")
    with progress_bar(f"{args.method} map", unit="step") as bar:
        coords = project(vectors, params, langs, progress=bar)
    labels = hdbscan_labels(coords, min_cluster_size=max(10, len(coords) // 40))
    clusters = {c.id: c for c in describe_clusters(labels, texts, langs)}
    tmp = args.out.with_name(args.out.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y", "cluster", "cluster_label", "lang", "group", "text"])
        for i, text in enumerate(texts):
            c = int(labels[i])
            w.writerow([f"{coords[i, 0]:.5f}", f"{coords[i, 1]:.5f}", c,
                        clusters[c].label if c in clusters else "", langs[i] or "",
                        sentences.group[i] or "", text])
    tmp.replace(args.out)
    summary = [f"{len(texts)} sentences, {len(clusters)} clusters",
               f"mixing {mixing_score(coords, langs):.3f}"]
    if any(g is not None for g in sentences.group):
        x = center_languages(vectors, langs) if args.center_languages else vectors
        p_at_1, _ = cross_lingual_p_at_1(x, langs, sentences.group)
        summary.append(f"cross-lingual P@1 {p_at_1:.3f}")
    if args.plot:
        from e5desk.gui.map_png import render_map

        render_map(coords, langs, [clusters[c] for c in clusters], labels, args.plot)
    print(f"e5desk: wrote {args.out}" + (f" and {args.plot}" if args.plot else "") +
          f" ({', '.join(summary)})", file=sys.stderr)
    return 0
