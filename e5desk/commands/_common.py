"""Shared CLI helpers: model options, tqdm progress on stderr, text-file reading."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.core.errors import DataError


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, metavar="PATH_OR_NAME",
                        help="model folder, HF cache name, or 'embedded' (default)")
    parser.add_argument("--family", default=None,
                        help="override the detected model family (e.g. multilingual-e5-base)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--precision", default="exact", choices=["exact", "fast", "int8"],
                        help="fast = float16 on GPUs, bfloat16 on CPUs with native bf16 "
                        "(else exact); int8 = dynamic int8 on the CPU: faster, less accurate")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N")
    parser.add_argument("--threads", type=int, default=None, metavar="N")
    parser.add_argument("--long-text", default="truncate", choices=["truncate", "windows"],
                        help="texts over 512 tokens: truncate (like the model card) or "
                        "average 510-token windows")
    parser.add_argument("--cache", action=argparse.BooleanOptionalAction, default=True,
                        help="reuse vectors computed before for the same model and input "
                        "(the embedding cache in the user cache folder; default: on)")


def load_encoder(args: argparse.Namespace):
    from e5desk.core.encoder import Encoder

    with progress_bar("converting the embedded model (first run only)", unit="step") as bar:
        return Encoder.load(
            args.model, family=args.family, progress=bar, device=args.device,
            precision=args.precision, threads=args.threads, long_text=args.long_text,
            batch_size=args.batch_size, cache=args.cache,
        )


class progress_bar:
    """A tqdm bar on stderr usable as ``progress(done, total)``; silent when not a TTY."""

    def __init__(self, desc: str, unit: str = "text") -> None:
        self.desc, self.unit, self.bar = desc, unit, None

    def __enter__(self) -> progress_bar:
        return self

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                            disable=None, leave=False)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def read_lines(path: Path) -> list[str]:
    """UTF-8 text, one text per line; every line kept (empty ones too)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not valid UTF-8 (byte {exc.start})") from None
    lines = text.splitlines()
    return lines
