"""Bytes -> text: UTF-8 (with or without BOM), UTF-16/32 with BOM, else a detected guess."""

from __future__ import annotations

import codecs
from pathlib import Path

from e5desk.core.errors import DataError

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def decode(raw: bytes, path: Path) -> tuple[str, str, str | None]:
    """(text with newlines normalised, encoding, note for the user or None)."""
    if not raw.strip():
        raise DataError(f"{path}: the file is empty")
    for bom, name in BOMS:
        if raw.startswith(bom):
            try:
                return unix_newlines(raw[len(bom):].decode(name)), name, None
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}: starts with a {name} byte-order mark but is not "
                                f"valid {name} ({exc.reason} at byte {exc.start})") from None
    head = raw[:8000]
    if head.count(b"\x00") > max(1, len(head) // 100):
        raise DataError(f"{path}: looks like a binary file, not text (NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    else:
        return unix_newlines(text), "utf-8", None
    # UTF-8 with a few stray bytes is still UTF-8: a guessed legacy encoding would garble
    # every other line instead of one character.
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - raw.count("\ufffd".encode())
    if bad <= max(3, len(raw) // 1000):
        line = raw[:first_bad].count(b"\n") + 1
        return unix_newlines(text), "utf-8", (f"{bad} byte(s) that are not UTF-8 were replaced "
                                          f"by \ufffd (first on line {line})")
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:1_000_000]).best()
    if best is None:
        raise DataError(f"{path}: not valid UTF-8 and no text encoding fits it")
    try:
        text = raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise DataError(f"{path}: not valid UTF-8 and not {best.encoding} either") from None
    return unix_newlines(text), best.encoding, f"not UTF-8: read as {best.encoding} (a guess)"


def unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
