"""Writing a command's --out file: to a temporary file beside it, renamed over it at the
end, so a command killed mid-way leaves the previous file whole and no half file."""

from __future__ import annotations

import contextlib
import csv
import glob
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from e5desk.core.errors import E5DeskError


@contextlib.contextmanager
def atomic_out(target: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``target`` (ending in ``suffix`` too, for writers that add
    one), renamed over ``target`` when the block ends without an error."""
    target = Path(target)
    from e5desk.core.store.project import STALE_SAVE_S

    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.partial*"):
        with contextlib.suppress(OSError):  # left by a command killed mid-way
            if time.time() - stale.stat().st_mtime > STALE_SAVE_S:
                stale.unlink()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.",
                                    suffix=f".partial{target.suffix}{suffix}", dir=target.parent)
    except OSError as exc:
        raise E5DeskError(f"--out {target}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(tmp, target)
    except OSError as exc:
        raise E5DeskError(f"--out {target}: writing failed ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_table(target: Path, header: Sequence[str], rows: Iterable[Sequence],
                **dialect) -> None:
    """A CSV (or, with ``delimiter="\\t"``, TSV) file, UTF-8, written whole or not at all."""
    with atomic_out(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, **dialect)
        w.writerow(header)
        w.writerows(rows)
