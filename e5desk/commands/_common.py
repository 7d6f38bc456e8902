"""Shared CLI helpers: model options, tqdm progress on stderr, text-file reading."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.core.data import FORMATS
from e5desk.core.errors import DataError
from e5desk.core.options import (
    DEFAULT_DEVICE,
    DEFAULT_ENGINE,
    DEFAULT_LONG_TEXT,
    DEFAULT_PRECISION,
    DEVICE_CHOICES,
    DEVICES,
    ENGINE_CHOICES,
    ENGINES,
    LONG_TEXT_CHOICES,
    LONG_TEXT_MODES,
    PRECISION_CHOICES,
    PRECISIONS,
    choices_help,
)
from e5desk.core.progress import ProgressLine


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, metavar="PATH_OR_NAME",
                        help="model folder, HF cache name, or 'embedded' (default)")
    parser.add_argument("--family", default=None,
                        help="override the detected model family (e.g. multilingual-e5-base)")
    add_device_option(parser)
    parser.add_argument("--precision", default=DEFAULT_PRECISION, choices=PRECISIONS,
                        help=choices_help(PRECISION_CHOICES, DEFAULT_PRECISION))
    add_engine_option(parser)
    parser.add_argument("--batch-size", type=int, default=None, metavar="N")
    parser.add_argument("--threads", type=int, default=None, metavar="N")
    parser.add_argument("--long-text", default=DEFAULT_LONG_TEXT, choices=LONG_TEXT_MODES,
                        help="texts over 512 tokens: "
                        + choices_help(LONG_TEXT_CHOICES, DEFAULT_LONG_TEXT))
    parser.add_argument("--cache", action=argparse.BooleanOptionalAction, default=True,
                        help="reuse vectors computed before for the same model and input "
                        "(the embedding cache in the user cache folder; default: on)")


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """``--engine`` (``--model-engine`` where a command has its own ``--engine``, as
    ``batch --engine ray``): which runtime runs the model's forward passes."""
    flag = "--model-engine" if "--engine" in parser._option_string_actions else "--engine"
    parser.add_argument(flag, dest="model_engine", default=DEFAULT_ENGINE, choices=ENGINES,
                        help="which runtime runs the model: "
                        + choices_help(ENGINE_CHOICES, DEFAULT_ENGINE))


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES,
                        help=choices_help(DEVICE_CHOICES, DEFAULT_DEVICE))


# Batch outputs among the inputs that load_inputs read last: load_encoder takes their stored
# vectors where the loaded model made them (one command per call; taken once).
_stored: list = []


def load_encoder(args: argparse.Namespace):
    from e5desk.core.encoder import Encoder
    from e5desk.core.vectors_import import LazyEncoder, is_imported

    def load():
        with progress_bar("converting the embedded model (first run only)",
                          unit="step") as bar:
            return Encoder.load(
                args.model, family=args.family, progress=bar, device=args.device,
                precision=args.precision, threads=args.threads, long_text=args.long_text,
                batch_size=args.batch_size, cache=args.cache,
                engine=getattr(args, "model_engine", DEFAULT_ENGINE),
            )

    # --vectors: the model loads only if something they do not cover must be embedded.
    encoder = LazyEncoder(load) if any(is_imported(s) for s in _stored) else load()
    if not _stored:
        return encoder
    from e5desk.core.batch import StoredEncoder

    stored = list(_stored)
    _stored.clear()
    return StoredEncoder(encoder, stored,
                         warn=lambda m: print(f"e5desk: warning: {m}", file=sys.stderr),
                         note=lambda m: print(f"e5desk: {m}", file=sys.stderr))


class progress_bar(ProgressLine):
    """A tqdm bar on stderr usable as ``progress(done, total)``; when stderr is not a
    terminal, a line every few seconds (e5desk.core.progress)."""


# The sentence-set readers (e5desk.core.data.FORMATS), listed here so that `--help` needs
# no import of the readers.
READERS = list(FORMATS)  # --format choices: every reader core.data has, named once


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--join/--no-join`` for commands that read several sentence sets."""
    parser.add_argument("--format", default=None, choices=READERS,
                        help="reader to use (default: detected from each file)")
    parser.add_argument("--join", action=argparse.BooleanOptionalAction, default=True,
                        help="join translations across files by their source text (PO "
                        "msgctxt + msgid, TMX/XLIFF source segment, meaning ids); the shared "
                        "source sentence is kept once per group (default: on); --no-join "
                        "keeps every file's groups apart")
    add_vectors_option(parser)


def add_vectors_option(parser: argparse.ArgumentParser) -> None:
    """``--vectors V.npy``: vectors computed elsewhere, row i = sentence i of the input."""
    parser.add_argument("--vectors", type=Path, action="append", default=None,
                        metavar="V.npy",
                        help="vectors computed elsewhere for the input (N x D float32/"
                        "float16 .npy, or Parquet with a vector column; row i = sentence "
                        "i), used instead of embedding it; once per input, in order. Text "
                        "they do not cover needs a model of the same dimension")


def remember_stored(results) -> None:
    """The inputs' stored (batch or imported) vectors, for load_encoder to take."""
    _stored[:] = [r.stored for r in results if getattr(r, "stored", None) is not None]


def load_inputs(paths, format: str | None = None, join: bool = True, vectors=None):
    """Read every input (warnings on stderr) and combine them: (combined set, results).
    ``vectors``: one vectors file per input (``--vectors``), attached as stored vectors."""
    from e5desk.core.data import concat_sets, load_sentence_set

    if vectors:
        from e5desk.core.vectors_import import check_pairing

        check_pairing(list(paths), vectors)
    results = [load_sentence_set(p, format=format) for p in paths]
    if vectors:
        from e5desk.core.vectors_import import attach_vectors

        for r, v in zip(results, vectors, strict=True):
            attach_vectors(r, v)
    for r in results:
        for problem in r.problems():
            print(f"e5desk: warning: {r.path}: {problem}", file=sys.stderr)
    combined = concat_sets([r.sentence_set for r in results], join=join)
    remember_stored(results)
    return combined, results


def read_inputs(args: argparse.Namespace):
    """INPUT... read with the options of ``add_input_options`` -> (combined set, results)."""
    return load_inputs(args.inputs, args.format, args.join, args.vectors)


def embed_texts(args: argparse.Namespace, texts: list[str], role: str,
                task: str | None = None, what: str = "embedding"):
    """The --model loaded and ``texts`` embedded in ``role`` under a progress bar
    -> (encoder, vectors)."""
    encoder = load_encoder(args)
    with progress_bar(what) as bar:
        return encoder, encoder.encode(texts, role=role, task=task, progress=bar)


def _whole_number(value: str, minimum: int, too_small: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < minimum:
        raise argparse.ArgumentTypeError(f"{too_small}, got {number}")
    return number


def positive_int(value: str) -> int:
    """argparse type: a whole number >= 1 (checked before any model loads)."""
    return _whole_number(value, 1, "must be at least 1")


def count_int(value: str) -> int:
    """argparse type: a whole number >= 0."""
    return _whole_number(value, 0, "must be 0 or more")


def read_lines(path: Path) -> list[str]:
    """One text per line, every line kept (empty ones too): UTF-8, with or without BOM, or
    UTF-16 with BOM. Nothing is guessed: row i of the output must be line i of the input.
    Lines end at \n, \r\n or \r only, so a U+2028 inside a text does not shift rows."""
    from e5desk.core.data.encoding import BOMS, check_binary, read_input, unix_newlines

    raw = read_input(path)  # regular files only, size-limited (a FIFO or /dev/zero is refused)
    check_binary(raw, path)  # before any model loads
    if not raw.strip():
        raise DataError(f"{path}: the file is empty")
    encoding = "utf-8"
    for bom, name in BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom):], name
            break
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1 if encoding == "utf-8" else "?"
        raise DataError(f"{path}, line {line}: not valid {encoding.upper()} "
                        f"(byte {exc.start})") from None
    lines = unix_newlines(text).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def rule_name(name: str) -> str:
    """argparse type of --rule: a prefix rule's name (aliases accepted), else a usage error."""
    from e5desk.core.errors import E5DeskError
    from e5desk.core.prefix_rules import prefix_rule

    try:
        return prefix_rule(name).name
    except E5DeskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
