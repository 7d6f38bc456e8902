"""Sentence sets from the files users already have.

``load_sentence_set(path, format=None, **options) -> LoadResult`` picks the reader by
extension and content (overridable with ``format``), decodes the bytes (UTF-8, BOMs, else a
reported guess) and returns the set with whatever it had to skip and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from e5desk.core.data import delimited, jsonl, parallel, parquet, po, tatoeba, text, tmx, xliff
from e5desk.core.data.encoding import decode, read_input
from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet, concat_sets
from e5desk.core.errors import DataError, cut
from e5desk.core.jobs import CancelCheck, Progress

__all__ = ["FORMATS", "LoadResult", "SentenceSet", "concat_sets", "detect_format",
           "load_many", "load_sentence_set"]

FORMATS = {"text": text.read, "csv": delimited.read, "jsonl": jsonl.read, "tmx": tmx.read,
           "xliff": xliff.read, "po": po.read, "parallel": parallel.read,
           "tatoeba": tatoeba.read, "parquet": parquet.read}
EXTENSIONS = {".txt": "text", ".text": "text", ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl",
              ".ndjson": "jsonl", ".json": "jsonl", ".tmx": "tmx", ".po": "po", ".pot": "po",
              ".xlf": "xliff", ".xliff": "xliff", ".parquet": "parquet", ".pq": "parquet"}
BINARY_FORMATS = ("parquet",)  # read by their reader from the file, not decoded as text
MAX_DETECT = 200_000  # rows without a language detected on load; more would take minutes
MAX_BYTES = 2 * 2**30


def _lang_tab_lines(head: str) -> bool:
    lines = [ln for ln in head.split("\n")[:20] if ln.strip()]
    if len(lines) < 2 and not (lines and " " in lines[0]):
        return False
    cells = [ln.split("\t") for ln in lines]
    if any(len(c) != 2 or not text.LANG_CODE.match(c[0].strip()) for c in cells):
        return False
    second = cells[0][1].strip()  # a header would name a column: "de", "text", ...
    return not text.LANG_CODE.match(second) and second.lower() not in delimited.TEXT_NAMES


def detect_format(path: Path, head: str) -> str:
    if path.name.lower() == "sentences.csv" and tatoeba.looks_like(head):
        return "tatoeba"
    by_ext = EXTENSIONS.get(path.suffix.lower())
    if by_ext == "csv" and _lang_tab_lines(head):
        return "text"  # `lang<TAB>sentence` lines without a header, named .tsv
    if by_ext:
        return by_ext
    if parallel.is_parallel_name(path) and len(parallel.siblings(path)) >= 2:
        return "parallel"
    start = head.lstrip()[:200]
    if start.startswith("<") and "<tmx" in head[:2000]:
        return "tmx"
    if start.startswith("<") and "<xliff" in head[:2000]:
        return "xliff"
    if start.startswith(("{", "[")):
        return "jsonl"  # one object per line, or one JSON array
    if 'msgid "' in head[:5000]:
        return "po"
    return "text"


def load_sentence_set(path: str | Path, format: str | None = None,
                      progress: Progress | None = None, cancelled: CancelCheck | None = None,
                      **options) -> LoadResult:
    path = Path(path)
    # A batch folder holds its manifest, never parallel files: whatever format a caller
    # guessed for a folder, it is read as the batch it is.
    if format in (None, "batch") or path.is_dir():
        from e5desk.core.batch import is_batch_output

        if is_batch_output(path):
            return _load_batch(path, progress, cancelled)
    if path.is_dir():
        files = parallel.siblings(path)
        if len(files) < 2:
            raise DataError(f"{path}: is a folder without parallel files (corpus.en, "
                            "corpus.de, ...); open the files inside it")
        path = files[0]
        format = format or "parallel"
    fmt = format or EXTENSIONS.get(path.suffix.lower())
    if fmt in BINARY_FORMATS:
        content, encoding, note = None, "binary", None
    else:
        raw = read_input(path, MAX_BYTES)
        content, encoding, note = decode(raw, path)
        fmt = format or detect_format(path, content[:5000])
    if progress:
        progress(0, 2)
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    result = LoadResult(SentenceSet.build([]), path, fmt, encoding)
    if note:
        result.notes.append(note)
    try:
        sentence_set = FORMATS[fmt](path, content, result, **options)
    except DataError:
        raise
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise DataError(f"{path}: option not understood by the {fmt} reader "
                            f"({exc})") from None
        raise _unreadable(path, fmt, exc) from exc
    except RecursionError as exc:
        raise DataError(f"{path}: nested too deeply to read as {fmt}") from exc
    except MemoryError:
        raise DataError(f"{path}: too large for the memory available") from None
    except Exception as exc:  # noqa: BLE001 - the readers' last line of defence
        raise _unreadable(path, fmt, exc) from exc
    if len(sentence_set) == 0:
        first = f" (first problem: {result.reasons[0]})" if result.reasons else ""
        raise DataError(f"{path}: no sentences could be read as {fmt}{first}")
    if progress:
        progress(1, 2)
    _languages(sentence_set, result, progress, cancelled)
    result.sentence_set = sentence_set
    if progress:
        progress(2, 2)
    return result


def _load_batch(path: Path, progress: Progress | None = None,
                cancelled: CancelCheck | None = None) -> LoadResult:
    """An `e5desk batch` output (its folder, manifest or one shard): the rows as stored,
    their vectors in ``result.stored`` (used by commands where the loaded model made
    them). Rows stored without a language (batches written before languages were kept)
    are detected as on any load."""
    from e5desk.core.batch import load_output

    imported = load_output(path, progress, cancelled)
    result = LoadResult(imported.sentences, path, "batch", "utf-8")
    result.stored = imported
    _languages(imported.sentences, result)
    return result


def _unreadable(path: Path, fmt: str, exc: Exception) -> DataError:
    """A reader failed in a way it did not foresee: still a DataError naming the file (the
    details go to the log for a bug report)."""
    import logging

    logging.getLogger(__name__).debug("reader %s failed on %s", fmt, path, exc_info=exc)
    return DataError(f"{path}: could not be read as {fmt} ({type(exc).__name__}: "
                     f"{cut(exc, 160)}); check the file or choose another --format")


def _languages(sentence_set: SentenceSet, result: LoadResult,
               progress: Progress | None = None, cancelled: CancelCheck | None = None) -> None:
    """Normalise codes (BCP-47) and detect the language of rows that have none."""
    from e5desk.core.langid import fill_languages, normalize_code

    codes = {c: normalize_code(c) for c in set(sentence_set.lang) if c}
    if any(k != v for k, v in codes.items()):
        sentence_set.lang[:] = [codes.get(c) if c else None for c in sentence_set.lang]
    missing = sum(1 for c in sentence_set.lang if not c)
    if not missing:
        return
    if missing > MAX_DETECT:
        result.notes.append(f"{missing:,} rows have no language (too many to detect on load)")
        return
    done = fill_languages(sentence_set, progress=progress, cancelled=cancelled)
    note = f"language detected for {done.filled:,} of {missing:,} rows without one"
    if done.by_context:
        note += (f" ({done.by_context:,} of them short or unclear, given the likeliest of "
                 f"the languages found in the file: {', '.join(done.prior[:8])}"
                 + (", …" if len(done.prior) > 8 else "") + ")")
    if done.unknown:
        note += f"; {done.unknown:,} left unknown (nothing to decide them by)"
    result.notes.append(note)


def load_many(paths: Sequence[str | Path], **options) -> list[LoadResult]:
    return [load_sentence_set(p, **options) for p in paths]
