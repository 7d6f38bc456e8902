"""`e5desk export PROJECT --format projector|npy|parquet|csv --out PATH`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.core.errors import E5DeskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a project's sentences and vectors",
                       description="Write a saved project's embeddings for other tools: the "
                       "TensorFlow Embedding Projector pair (vectors.tsv + metadata.tsv), "
                       ".npy, Parquet (vectors with text/lang/group), or a CSV of the sentences "
                       "(with map coordinates if any).")
    p.add_argument("project", type=Path, metavar="PROJECT.e5desk")
    p.add_argument("--format", choices=["projector", "npy", "parquet", "csv"], required=True)
    p.add_argument("--embedding", default=None, help="which stored embedding (default: first)")
    p.add_argument("--out", type=Path, required=True, help="file, or folder for projector")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.store.exports import (
        export_npy,
        export_parquet,
        export_projector,
        export_table_csv,
    )
    from e5desk.core.store.project import load_project, project_sentences

    project = load_project(args.project)
    if not project.sets:
        raise E5DeskError(f"{args.project}: the project holds no sentence sets")
    sentences = project_sentences(project)
    if args.format == "csv":
        extra = {}
        for name, (array, _info) in project.arrays.items():
            if name.startswith("map") and array.shape == (len(sentences), 2):
                extra = {"x": array[:, 0], "y": array[:, 1]}
                break
        written = [export_table_csv(sentences, args.out, extra)]
    else:
        if not project.embeddings:
            raise E5DeskError(f"{args.project}: no embeddings saved in this project")
        name = args.embedding or next(iter(project.embeddings))
        if name not in project.embeddings:
            raise E5DeskError(f"no embedding {name!r}; the project has: "
                              f"{', '.join(project.embeddings)}")
        vectors = project.embeddings[name].vectors
        if len(vectors) != len(sentences):
            raise E5DeskError(f"embedding {name!r} has {len(vectors)} rows for "
                              f"{len(sentences)} sentences")
        if args.format == "npy":
            written = [export_npy(vectors, args.out)]
        elif args.format == "parquet":
            written = [export_parquet(vectors, sentences, args.out,
                                      project.embeddings[name].model)]
        else:
            written = export_projector(vectors, sentences, args.out)
    print("e5desk: wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0
