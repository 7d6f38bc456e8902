"""Bytes -> text: UTF-8 (with or without BOM), UTF-16/32 with BOM, else a detected guess."""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from e5desk.core.errors import DataError

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


MAX_BYTES = 2 * 2**30
KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
         (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


@contextlib.contextmanager
def _reading(path: str | Path) -> Iterator[None]:
    """An OS failure to find or read ``path`` as a DataError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except MemoryError:
        raise DataError(f"{path}: too large for the memory available") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def check_regular(path: str | Path) -> os.stat_result:
    """``path`` is a regular file (or a link to one); else a DataError saying what it is."""
    path = Path(path)
    with _reading(path):
        st = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in KINDS if test(st.st_mode)), "not a regular file")
        link = " (a link to it)" if path.is_symlink() else ""
        raise DataError(f"{path}: is {kind}{link}, not a file; e5desk reads regular files "
                        "only")
    return st


def read_input(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a sentence file, after checking, before anything is read, that it is a
    regular file (FIFOs, devices, sockets and links to them would hang or never end) of at
    most ``max_bytes``. Every failure is a DataError naming the file."""
    st = check_regular(path)
    if st.st_size > max_bytes:
        raise DataError(f"{path}: {st.st_size / 2**30:.1f} GB is over the "
                        f"{max_bytes / 2**30:.0f} GB limit; split the file")
    with _reading(path), open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise DataError(f"{path}: over the {max_bytes / 2**30:.0f} GB limit; split the file")
    return raw


def check_binary(raw: bytes, path: Path) -> None:
    """Refuse binary content (NUL bytes outside UTF-16/32: more than 1 % of the file) before
    any model loads."""
    if any(raw.startswith(bom) for bom, name in BOMS if name != "utf-8"):
        return
    count = raw.count(b"\x00")  # a stray NUL is a damaged line (readers skip it), many: binary
    if count > max(1, len(raw) // 100) or raw[:8000].count(b"\x00") > 80:
        nul = raw.find(b"\x00")
        line = raw[:nul].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: looks like a binary file, not text (NUL bytes "
                        f"from byte {nul:,}); convert it to UTF-8 text")


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
    check_binary(raw, path)
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
