"""`e5desk map INPUT... --out MAP.csv [--plot MAP.png]`: sentences placed by meaning."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.commands._common import (
    add_input_options,
    add_model_options,
    embed_texts,
    progress_bar,
    read_inputs,
)
from e5desk.commands._files import write_table
from e5desk.core.errors import E5DeskError
from e5desk.core.mapping import MAP_ROLE
from e5desk.core.projection import METHODS
from e5desk.workflows.map import MapSettings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="2-D map of sentence sets (UMAP/PCA/t-SNE) to CSV/PNG",
                       description="Embed the sentences of INPUT files (query form, as for "
                       "clustering), project them to 2-D and cluster them. MAP.csv has one "
                       "row per sentence: x, y, cluster, cluster_label, lang, group, text.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    add_input_options(p)
    p.add_argument("--method", choices=sorted(METHODS, key=lambda m: m != "umap"),
                   default=MapSettings.method)
    p.add_argument("--center-languages", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="subtract each language's mean vector first, so meaning outweighs "
                   "language (the window's 'Separate meaning from language'; on by default "
                   "when every sentence has a language)")
    # the defaults are the workflow's (one definition for the CLI, the API and the window)
    p.add_argument("--neighbors", type=int, default=MapSettings.neighbors,
                   help="UMAP n_neighbors")
    p.add_argument("--min-dist", type=float, default=MapSettings.min_dist,
                   help="UMAP min_dist")
    p.add_argument("--seed", type=int, default=MapSettings.seed)
    p.add_argument("--out", type=Path, required=True, metavar="MAP.csv")
    p.add_argument("--plot", type=Path, default=None, metavar="MAP.png")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    for path in (args.out, args.plot):
        if path is not None and not path.parent.exists():
            raise E5DeskError(f"{path}: folder {path.parent} does not exist")
    from e5desk.workflows.map import map_vectors

    sentences, _ = read_inputs(args)
    texts, langs, groups = list(sentences.text), list(sentences.lang), list(sentences.group)
    settings = MapSettings(args.method, args.neighbors, args.min_dist, args.seed,
                           args.center_languages)
    try:
        params = settings.params(langs)  # before the model loads
    except E5DeskError as exc:
        raise E5DeskError(f"--center-languages: {exc} (try --no-center-languages)") from None
    _, vectors = embed_texts(args, texts, MAP_ROLE)
    with progress_bar(f"{args.method} map", unit="step") as bar:
        result = map_vectors(vectors, texts, langs, groups, params, progress=bar)
    for note in result.notes:
        print(f"e5desk: note: {note}", file=sys.stderr)
    coords, analysis = result.coords, result.analysis
    labels = analysis.labels
    names = {c.id: c.label for c in analysis.clusters}
    write_table(args.out, ["x", "y", "cluster", "cluster_label", "lang", "group", "text"],
                ([f"{x:.5f}", f"{y:.5f}", int(c), names.get(int(c), ""), lang or "",
                  group or "", text]
                 for (x, y), c, lang, group, text in zip(coords, labels, langs, groups, texts,
                                                          strict=True)))
    summary = [f"{len(texts)} sentences", *analysis.summary()]
    if args.plot:
        from e5desk.core.process_job import run_named_in_process

        # Drawn by the window's painter code (Qt) in a child process: commands never load
        # Qt (the layers contract keeps Qt under gui/).
        run_named_in_process("e5desk.gui.map_png:render_map", coords, langs,
                             analysis.clusters, labels, args.plot)
    print(f"e5desk: wrote {args.out}" + (f" and {args.plot}" if args.plot else "") +
          f" ({', '.join(summary)})", file=sys.stderr)
    return 0
