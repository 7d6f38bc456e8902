"""Results out of the app, in formats other tools read; and vectors from elsewhere in.

- ``.npy``: float32 (n, dim), row i = sentence i.
- Parquet (pyarrow): one row per sentence with text, lang, group, set, line and the vector
  as a fixed-size list of float32; the model is kept in the file's metadata.
- TensorFlow Embedding Projector pair: ``vectors.tsv`` (one vector per line, tab-separated)
  and ``metadata.tsv`` (header: text, lang, group, set) — loadable on the web projector.
- scores CSV (from the workbench), sentence table CSV.
Imports read a Projector pair or ``.npy`` + metadata into a sentence set with precomputed
vectors; the dimension and the model they came from (if given) are recorded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, E5DeskError

META_COLUMNS = ["text", "lang", "group", "set"]


def _clean(value) -> str:
    # The Projector's TSV has no quoting: tabs and newlines inside a cell would shift columns.
    return "" if value is None else str(value).replace("\t", " ").replace("\n", " ")


def export_projector(vectors: np.ndarray, sentences: SentenceSet, folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if len(vectors) != len(sentences):
        raise E5DeskError(f"{len(vectors)} vectors for {len(sentences)} sentences")
    vec_path, meta_path = folder / "vectors.tsv", folder / "metadata.tsv"
    np.savetxt(vec_path, vectors, delimiter="\t", fmt="%.6f", encoding="utf-8")
    with meta_path.open("w", encoding="utf-8", newline="") as f:
        f.write("\t".join(META_COLUMNS) + "\n")
        for i in range(len(sentences)):
            f.write("\t".join(_clean(v) for v in (sentences.text[i], sentences.lang[i],
                                                   sentences.group[i], sentences.set_name[i]))
                    + "\n")
    return [vec_path, meta_path]


def export_npy(vectors: np.ndarray, path: Path) -> Path:
    np.save(path, np.asarray(vectors, dtype=np.float32))
    return Path(path)


def export_table_csv(sentences: SentenceSet, path: Path, extra: dict | None = None) -> Path:
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        names = list(extra or {})
        w.writerow(["text", "lang", "group", "set", "line", *names])
        for i in range(len(sentences)):
            w.writerow([sentences.text[i], sentences.lang[i] or "", sentences.group[i] or "",
                        sentences.set_name[i], sentences.line[i],
                        *[extra[n][i] for n in names]])
    return Path(path)


def vector_column(vectors: np.ndarray):
    """float32 (n, dim) as a Parquet-ready fixed-size list column (no copy per row)."""
    import pyarrow as pa

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])


def export_parquet(vectors: np.ndarray, sentences: SentenceSet, path: Path,
                   model: str | None = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) != len(sentences):
        raise E5DeskError(f"{len(vectors)} vectors for {len(sentences)} sentences")
    dim = vectors.shape[1]
    column = vector_column(vectors)
    as_text = lambda col: pa.array([None if v is None else str(v) for v in col],  # noqa: E731
                                   pa.string())
    table = pa.table({
        "text": as_text(sentences.text), "lang": as_text(sentences.lang),
        "group": as_text(sentences.group), "set": as_text(sentences.set_name),
        "line": pa.array(np.asarray(sentences.line, dtype=np.int64)), "vector": column,
    }, metadata={"e5desk.model": model or "", "e5desk.dim": str(dim)})
    pq.write_table(table, path)
    return Path(path)


def _read_parquet(path: Path) -> tuple[np.ndarray, dict, str | None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    if "vector" not in table.column_names:
        raise DataError(f"{path}: no 'vector' column (columns: {', '.join(table.column_names)})")
    vectors = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
    meta = {c: table.column(c).to_pylist() for c in ("text", "lang", "group")
            if c in table.column_names}
    model = (table.schema.metadata or {}).get(b"e5desk.model", b"").decode() or None
    return vectors, meta, model


@dataclass
class ImportedVectors:
    sentences: SentenceSet
    vectors: np.ndarray
    model: str | None  # None: unknown origin, so text typed in the app cannot be compared

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def check_model(self, model: str, dim: int) -> None:
        """Refuse comparing typed text with these vectors unless the model matches."""
        if self.dim != dim:
            raise E5DeskError(f"these vectors have {self.dim} dimensions, the loaded model "
                              f"{dim}: they come from another model")
        if self.model is None or self.model != model:
            raise E5DeskError(f"these vectors were computed by {self.model or 'an unknown model'}"
                              f", not by {model}: scores against typed text would mean nothing")


def import_vectors(vectors_path: Path, metadata_path: Path | None = None,
                   model: str | None = None) -> ImportedVectors:
    """A Projector ``vectors.tsv``, a ``.npy`` file (with optional ``metadata.tsv``), or a
    Parquet file written by :func:`export_parquet` (metadata and model inside)."""
    vectors_path = Path(vectors_path)
    if vectors_path.suffix == ".parquet":
        vectors, meta, stored_model = _read_parquet(vectors_path)
        n = len(vectors)
        sentences = SentenceSet.build(
            meta.get("text") or [f"vector {i + 1}" for i in range(n)], lang=meta.get("lang"),
            group=meta.get("group"), source=vectors_path, name=vectors_path.stem)
        return ImportedVectors(sentences, _normalised(vectors), model or stored_model)
    if metadata_path is None and (vectors_path.parent / "metadata.tsv").is_file():
        metadata_path = vectors_path.parent / "metadata.tsv"
    try:
        if vectors_path.suffix == ".npy":
            vectors = np.load(vectors_path, allow_pickle=False)
        else:
            vectors = np.loadtxt(vectors_path, delimiter="\t", dtype=np.float32, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"{vectors_path}: not a table of numbers ({exc})") from None
    if vectors.ndim != 2:
        raise DataError(f"{vectors_path}: expected a 2-D array (rows x dimensions)")
    n = len(vectors)
    texts, langs, groups = [f"vector {i + 1}" for i in range(n)], [None] * n, [None] * n
    if metadata_path is not None:
        rows = Path(metadata_path).read_text(encoding="utf-8").rstrip("\n").split("\n")
        header = rows[0].split("\t")
        has_header = len(header) > 1 or header[0] in META_COLUMNS
        body = rows[1:] if has_header else rows
        if len(body) != n:
            raise DataError(f"{metadata_path}: {len(body)} rows of metadata for {n} vectors")
        cols = header if has_header else ["text"]
        for i, row in enumerate(body):
            cells = dict(zip(cols, row.split("\t"), strict=False))
            texts[i] = cells.get("text", texts[i])
            langs[i] = cells.get("lang") or None
            groups[i] = cells.get("group") or None
    sentences = SentenceSet.build(texts, lang=langs, group=groups, source=vectors_path,
                                  name=vectors_path.stem)
    return ImportedVectors(sentences, _normalised(vectors), model)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
