"""`e5desk export PROJECT --format projector|npy|parquet|csv --out PATH`."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from e5desk.commands._files import atomic_out
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

    _check_target(args.project, args.out, args.format)
    project = load_project(args.project)
    for problem in project.problems:
        print(f"e5desk: warning: {args.project}: {problem}", file=sys.stderr)
    if not project.sets:
        raise E5DeskError(f"{args.project}: the project holds no sentence sets")
    sentences = project_sentences(project)
    if args.format == "csv":
        extra = {}
        for name, (array, _info) in project.arrays.items():
            if name.startswith("map") and array.shape == (len(sentences), 2):
                extra = {"x": array[:, 0], "y": array[:, 1]}
                break
        with atomic_out(args.out) as tmp:
            export_table_csv(sentences, tmp, extra)
        written = [args.out]
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
            # np.save adds ".npy" to other names: the temporary file must end with it
            with atomic_out(args.out, "" if args.out.suffix == ".npy" else ".npy") as tmp:
                export_npy(vectors, tmp)
            written = [args.out]
        elif args.format == "parquet":
            with atomic_out(args.out) as tmp:
                export_parquet(vectors, sentences, tmp, project.embeddings[name].model)
            written = [args.out]
        else:
            written = _export_projector(export_projector, vectors, sentences, args.out)
    print("e5desk: wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _targets(out: Path, format: str) -> list[Path]:
    return [out / "vectors.tsv", out / "metadata.tsv"] if format == "projector" else [out]


def _check_target(project: Path, out: Path, format: str) -> None:
    """Refuse, before anything is written, to overwrite the project itself or a folder."""
    for target in [out, *_targets(out, format)]:
        with contextlib.suppress(OSError):
            if target.exists() and project.exists() and os.path.samefile(target, project):
                raise E5DeskError(f"--out {out}: that is the project being exported; "
                                  "choose another file name")
    if format == "projector":
        if out.exists() and not out.is_dir():
            raise E5DeskError(f"--out {out}: the projector export writes a folder "
                              "(vectors.tsv + metadata.tsv), and this is a file")
        if not out.parent.is_dir():
            raise E5DeskError(f"--out {out}: folder {out.parent} does not exist")
    else:
        if out.is_dir():
            raise E5DeskError(f"--out {out}: is a folder; give a file name")
        if not out.parent.is_dir():
            raise E5DeskError(f"--out {out}: folder {out.parent} does not exist")


def _export_projector(export, vectors, sentences, out: Path) -> list[Path]:
    """The projector pair written into a temporary folder, then each file renamed in."""
    try:
        out.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".projector.", suffix=".partial", dir=out))
    except OSError as exc:
        raise E5DeskError(f"--out {out}: cannot write there ({exc.strerror})") from None
    try:
        written = []
        for path in export(vectors, sentences, tmp):
            os.replace(path, out / path.name)
            written.append(out / path.name)
        return written
    except OSError as exc:
        raise E5DeskError(f"--out {out}: writing failed ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
