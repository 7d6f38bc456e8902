"""Vectors computed elsewhere for a sentence file: ``--vectors V.npy`` (row i = sentence i).

``read_vectors`` reads a ``.npy`` (float32/float16/float64, memory-mapped) or a Parquet file
with a vector column, checks it against the sentences (row count, dimension, finite values,
no all-zero rows) and returns float32 rows of unit length. ``attach_vectors`` puts them on a
``LoadResult`` as its ``stored`` vectors, the same path batch folders use
(``core.batch.StoredEncoder`` takes them instead of embedding), marked as imported: no model
made them that e5desk knows of, so text typed or read from other files is embedded by the
loaded model, which must then have the same number of dimensions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from e5desk.core.errors import DataError, E5DeskError

VECTOR_COLUMNS = ("vector", "vectors", "embedding", "embeddings", "emb")
BLOCK = 65_536  # rows checked and normalised at a time (bounded extra memory)
IMPORTED_ID = "imported"


def read_vectors(path: str | Path, rows: int | None = None, dim: int | None = None
                 ) -> np.ndarray:
    """float32 (n, dim) rows of unit length from ``path``; DataError naming the file when
    it is not a table of vectors, has another row count (``rows``) or dimension
    (``dim``), a value that is not finite, or a row of zeros."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such vectors file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        raw = _read_npy(path)
    elif suffix in (".parquet", ".pq"):
        raw = _read_parquet(path)
    else:
        raise DataError(f"{path}: vectors must be a .npy file (rows x dimensions, float32 "
                        "or float16) or a Parquet file with a vector column")
    n, d = raw.shape
    if rows is not None and n != rows:
        raise DataError(f"{path}: {n:,} vectors for {rows:,} sentences; row i must be "
                        "sentence i of the input (blank or skipped lines are not sentences)")
    if dim is not None and d != dim:
        raise DataError(f"{path}: vectors of {d} dimensions, expected {dim}")
    if n == 0 or d == 0:
        raise DataError(f"{path}: holds no vectors (shape {n} x {d})")
    return _checked_unit_rows(raw, path, in_place=suffix != ".npy")


def _read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":  # numpy's own error speaks of pickles for any other file
        raise DataError(f"{path}: not a .npy file (it does not start with NumPy's header; "
                        "save the vectors with numpy.save as float32 rows x dimensions)")
    try:
        raw = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        if "object" in str(exc).lower() or "pickle" in str(exc).lower():
            raise DataError(f"{path}: holds Python objects (a pickled or ragged array), not "
                            "a table of numbers; save it as float32 rows x dimensions"
                            ) from None
        if "mmap length" in str(exc):
            raise DataError(f"{path}: the file is cut short ({_npy_shape(path)}, but only "
                            f"{path.stat().st_size:,} bytes); was it copied completely?"
                            ) from None
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None
    if raw.ndim != 2:
        raise DataError(f"{path}: expected a 2-D array (rows x dimensions), got shape "
                        f"{tuple(raw.shape)}")
    if raw.dtype.kind != "f":
        raise DataError(f"{path}: expected float32 or float16 numbers, got {raw.dtype}")
    return raw


def _npy_shape(path: Path) -> str:
    """What the header of a .npy file promises ("1,000 x 384 float32 = 1,536,000 bytes")."""
    try:
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if major == 1
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f)
    except (OSError, ValueError):
        return "its header is unreadable"
    size = int(np.prod(shape)) * dtype.itemsize
    return f"its header says {' x '.join(f'{x:,}' for x in shape)} {dtype} = {size:,} bytes"


def _read_parquet(path: Path) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    lists = [f.name for f in schema if pa.types.is_list(f.type)
             or pa.types.is_fixed_size_list(f.type) or pa.types.is_large_list(f.type)]
    name = next((c for c in VECTOR_COLUMNS if c in lists), None)
    if name is None and len(lists) == 1:
        name = lists[0]
    if name is None:
        raise DataError(f"{path}: no vector column (a list of numbers named "
                        f"{', '.join(VECTOR_COLUMNS[:3])}, ...; columns: "
                        f"{', '.join(schema.names)})")
    # Batch by batch into one float32 array: reading the column whole, then combining and
    # converting it, held about three copies (5.8 GB of memory for 1M x 384).
    try:
        # no pre-buffering: it read whole row groups ahead (1.9 GB of Arrow memory, not 0.4)
        file = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 24)
        n = file.metadata.num_rows
        out: np.ndarray | None = None
        row = 0
        for batch in file.iter_batches(batch_size=BLOCK, columns=[name], use_threads=False):
            block = _vector_block(batch.column(0), path, name, row,
                                  None if out is None else out.shape[1])
            if out is None:
                out = np.empty((n, block.shape[1]), dtype=np.float32)
            out[row:row + len(block)] = block
            row += len(block)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: column {name!r} could not be read ({exc})") from None
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _vector_block(arr, path: Path, name: str, first_row: int, d: int | None) -> np.ndarray:
    """One batch of a vector column as a float32 (rows, d) array, checked: no empty rows,
    every row ``d`` numbers long (``d``: the first row's length when None)."""
    import pyarrow as pa

    n = len(arr)
    if arr.null_count:
        bad = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(f"{path}: column {name!r}, row {first_row + bad + 1} is empty")
    if pa.types.is_fixed_size_list(arr.type):
        lengths = np.full(n, arr.type.list_size)
    else:
        lengths = np.diff(arr.offsets.to_numpy())
    d = int(lengths[0]) if d is None and n else d
    bad = np.flatnonzero(lengths != d)
    if len(bad):
        raise DataError(f"{path}: column {name!r}, row {first_row + bad[0] + 1}: "
                        f"{lengths[bad[0]]} numbers where row 1 has {d}")
    values = arr.flatten()
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise DataError(f"{path}: column {name!r} holds {values.type}, not numbers")
    if values.null_count:
        raise DataError(f"{path}: column {name!r} has missing numbers inside vectors")
    flat = values.to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(n, d or 0)


UNIT_TOLERANCE = 1e-4  # rows this close to length 1 are used as they are


def _checked_unit_rows(raw: np.ndarray, path: Path, in_place: bool = False) -> np.ndarray:
    """One pass in blocks: finite, no zero rows, float32, L2-normalised. A float32 file
    whose rows are already of unit length (as E5 vectors are) is returned memory-mapped,
    read-only, without a copy: opening 1M x 384 reads it once and holds no second copy."""
    n, d = raw.shape
    as_is = raw.dtype == np.float32  # until a row needs normalising
    out = None
    for start in range(0, n, BLOCK):
        block = np.asarray(raw[start:start + BLOCK], dtype=np.float32)
        finite = np.isfinite(block)
        if not finite.all():
            row = int(np.flatnonzero(~finite.all(axis=1))[0])
            raise DataError(f"{path}: row {start + row + 1} holds a value that is not a "
                            "finite number (NaN or infinity)")
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        if not (norms > 0).all():
            row = int(np.flatnonzero(~(norms > 0))[0])
            raise DataError(f"{path}: row {start + row + 1} is all zeros (no direction to "
                            "compare)")
        if as_is and np.abs(norms - 1).max() <= UNIT_TOLERANCE:
            continue
        if out is None:  # in place: an array read here for the purpose (Parquet)
            out = raw if in_place else np.empty((n, d), dtype=np.float32)
            if as_is and start:  # the blocks before were fine as they are
                out[:start] = raw[:start]
            as_is = False
        np.divide(block, norms[:, None], out=out[start:start + len(block)])
    return raw if out is None else out


def attach_vectors(result, path: str | Path):
    """Give a ``LoadResult`` the vectors in ``path`` as its stored vectors (checked against
    its rows), marked as imported; returns the result."""
    from e5desk.core.store.exports import ImportedVectors

    path = Path(path)
    vectors = read_vectors(path, rows=len(result.sentence_set))
    imported = ImportedVectors(result.sentence_set, vectors, None)
    imported.provenance = imported_provenance(path, vectors.shape[1])
    result.stored = imported
    return result


def imported_provenance(path: Path, dim: int) -> dict:
    return {"imported": str(path), "model": f"vectors from {Path(path).name}",
            "model_id": IMPORTED_ID, "dim": int(dim)}


def is_imported(stored) -> bool:
    return bool(getattr(stored, "provenance", {}).get("imported"))


def dimension_refusal(stored, model_dim: int) -> str | None:
    """Why text embedded by a model of ``model_dim`` dimensions cannot be compared with
    imported vectors (None: it can)."""
    dim = stored.vectors.shape[1]
    if dim == model_dim:
        return None
    return (f"the vectors from {Path(stored.provenance['imported']).name} have {dim} "
            f"dimensions and the loaded model makes {model_dim}: text not covered by them "
            f"(typed queries, other files) needs a model with {dim} dimensions (--model)")


class LazyEncoder:
    """An encoder loaded on first use: commands whose every vector was given need no
    model (``e5desk map texts.txt --vectors v.npy`` never starts one)."""

    def __init__(self, load: Callable[[], object]) -> None:
        self._load, self._encoder = load, None

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._encoder is None:
            self._encoder = self._load()
        return getattr(self._encoder, name)


def check_pairing(inputs: list, vectors: list | None) -> None:
    """``--vectors`` given once per input, in order (an E5DeskError otherwise)."""
    if vectors and len(vectors) != len(inputs):
        raise E5DeskError(f"--vectors was given {len(vectors)} time(s) for {len(inputs)} "
                          "input(s): give one vectors file per input, in the same order")


def load_with_vectors(path: str | Path, vectors: str | Path, progress=None, cancelled=None,
                      format: str | None = None):
    """A sentence file and its vectors (``e5desk FILE --vectors V.npy``, File ▸ Open with
    vectors…) as one ImportedVectors marked imported: what the window shows as the set."""
    from e5desk.core.data import load_sentence_set

    result = load_sentence_set(path, format=format, progress=progress, cancelled=cancelled)
    attach_vectors(result, vectors)
    result.stored.notes = result.problems()
    return result.stored
