"""Strip symbol tables from the app bundle's shared libraries, where that is safe (run by
packaging/build-app.sh after PyInstaller).

PyInstaller's own ``strip=True`` strips every binary, and breaks libraries that auditwheel
patched with patchelf (scipy's OpenBLAS in ``scipy.libs/``: "ELF load command address/offset not
page-aligned"). Here only libraries outside the ``*.libs/`` folders are stripped, only where that
saves at least --min-mb, and each stripped library must still load (dlopen in a fresh
interpreter, with the bundle's other libraries beside it) or the original is put back.

    python packaging/strip_bundle.py BUNDLE_INTERNAL_DIR [--min-mb 1]

Prints one line: libraries stripped, kept (did not load stripped), MB saved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LOAD = "import ctypes, sys\nctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_LOCAL)\n"


def shared_libraries(root: Path) -> list[Path]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if any(part.endswith(".libs") for part in path.relative_to(root).parts[:-1]):
            continue  # auditwheel's patched copies: stripping them breaks their loading
        if path.name.endswith(".so") or ".so." in path.name:
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def loads(path: Path, root: Path) -> bool:
    """dlopen in a fresh interpreter, the bundle's libraries found as the app finds them."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(root)}
    run = subprocess.run([sys.executable, "-c", LOAD, str(path)], capture_output=True,
                         timeout=120, cwd=path.parent, env=env)
    return run.returncode == 0


def strip_one(path: Path, root: Path, min_bytes: int) -> int:
    """Bytes saved (0 when not worth it; -1 when the stripped library does not load)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        subprocess.run(["strip", "--strip-unneeded", "-o", tmp, str(path)], check=True,
                       capture_output=True)
        saved = path.stat().st_size - Path(tmp).stat().st_size
        if saved < min_bytes or not loads(path, root):
            return 0  # not worth it, or does not load here as it is: leave it
        backup = path.with_name(f".{path.name}.orig")
        shutil.copystat(path, tmp)
        os.replace(path, backup)
        os.replace(tmp, path)
        if loads(path, root):
            backup.unlink()
            return saved
        os.replace(backup, path)  # the stripped copy does not load: keep the original
        return -1
    finally:
        Path(tmp).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--min-mb", type=float, default=1.0)
    args = parser.parse_args()
    if shutil.which("strip") is None:
        print("strip_bundle: no `strip` on PATH (binutils): bundle left unstripped")
        return
    stripped = kept = saved = 0
    root = args.root.resolve()
    for path in shared_libraries(root):
        got = strip_one(path, root, int(args.min_mb * 2**20))
        if got > 0:
            stripped += 1
            saved += got
        elif got < 0:
            kept += 1
            print(f"strip_bundle: {path.relative_to(root)} does not load stripped: kept")
    print(f"strip_bundle: {stripped} libraries stripped, {kept} kept as they were, "
          f"{saved / 2**20:.0f} MB saved")


if __name__ == "__main__":
    main()
