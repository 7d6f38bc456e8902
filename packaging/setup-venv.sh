#!/usr/bin/env bash
# Create .venv in the repository root and install e5desk (with its test tools) into it.
# torch is installed first: the CPU build torch==2.13.0 by default. A GPU user installs a
# CUDA build of torch into .venv beforehand (see README); an importable torch is kept.
# Re-running is cheap: nothing is reinstalled until pyproject.toml, the lock or this script
# changes. Every version comes from the lock, packaging/constraints.txt (E5DESK_NO_LOCK=1
# resolves anew instead: packaging/refresh-lock.sh uses it to make a new lock).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -c 'import sys; assert sys.version_info >= (3, 11), "e5desk needs Python >= 3.11"'
    echo "e5desk: creating .venv (first run: a few minutes)" >&2
    "$PY" -m venv .venv
fi
stamp=.venv/.e5desk-installed
lock=(-c packaging/constraints.txt)
if [ -n "${E5DESK_NO_LOCK:-}" ]; then lock=(); fi
want="$(cat pyproject.toml packaging/setup-venv.sh packaging/constraints.txt | sha256sum |
        cut -c1-16)${E5DESK_NO_LOCK:+-unlocked}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip "${lock[@]}"
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
    echo "e5desk: installing ${E5DESK_TORCH:-torch==2.13.0}" >&2
    # shellcheck disable=SC2086  # E5DESK_TORCH may carry pip options
    .venv/bin/python -m pip install --quiet ${E5DESK_TORCH:-torch==2.13.0}
fi
echo "e5desk: installing e5desk and its dependencies into .venv" >&2
.venv/bin/python -m pip install --quiet -e ".[test]" "${lock[@]}"
# Fill numba's cache for the map code once (a 64-point map), so the first map is as fast
# as later ones (10k points: ~8 s instead of ~33 s with a cold cache). Best effort.
.venv/bin/python -c "from e5desk.core.projection import warm_up; warm_up()" 2>/dev/null ||
    echo "e5desk: note: the map code was not pre-compiled; the first map will be slower" >&2
echo "$want" > "$stamp"
