#!/usr/bin/env bash
# Refresh the dependency lock (packaging/constraints.txt) deliberately:
#   1. resolve the newest releases pyproject.toml's ranges allow, in a throw-away venv
#      (torch excepted: it stays the one setup-venv.sh installs, E5DESK_TORCH or torch==2.13.0);
#   2. rebuild .venv from the new lock and run the README's test command;
#   3. build the app and run its smoke test.
# Only when all three pass is the new lock written over packaging/constraints.txt (commit it,
# with the changed versions in the message: `git diff packaging/constraints.txt`). On a failure
# the old lock stays, the candidate is kept in out/constraints.candidate.txt, and .venv is rebuilt
# from the old lock. Takes 20-40 minutes on 2 cores. Run it when a dependency fix is wanted,
# not on a schedule: a lock that passed is worth more than a newer one that was never tried.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
work="$(mktemp -d /tmp/e5desk-lock.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p out
candidate=out/constraints.candidate.txt

echo "refresh-lock: resolving in a throw-away venv" >&2
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
# shellcheck disable=SC2086  # E5DESK_TORCH may carry pip options
"$work/venv/bin/python" -m pip install --quiet ${E5DESK_TORCH:-torch==2.13.0}
"$work/venv/bin/python" -m pip install --quiet ".[test,bench,app]"
{
    sed -n '/^#/p' packaging/constraints.txt  # the header explains the file; keep it
    echo "pip==$("$work/venv/bin/python" -m pip --version | cut -d' ' -f2)"
    "$work/venv/bin/python" -m pip freeze --exclude-editable |
        grep -v -i -E '^(torch|nvidia-|triton|e5desk)([=_-]|$)'
} > "$candidate"
echo "refresh-lock: candidate lock in $candidate; changes:" >&2
diff <(grep -v '^#' packaging/constraints.txt) <(grep -v '^#' "$candidate") >&2 || true

cp packaging/constraints.txt "$work/old-lock.txt"
cp "$candidate" packaging/constraints.txt
restore() {
    echo "refresh-lock: FAILED at: $1; the old lock stays ($candidate kept)" >&2
    cp "$work/old-lock.txt" packaging/constraints.txt
    rm -rf .venv && bash packaging/setup-venv.sh
    exit 1
}
rm -rf .venv
bash packaging/setup-venv.sh && .venv/bin/python -m pip install --quiet \
    -e ".[bench,app]" -c packaging/constraints.txt || restore "set-up"
bash packaging/setup-venv.sh && .venv/bin/python -m pytest -q || restore "the test command"
bash packaging/build-app.sh || restore "build-app.sh"
bash packaging/smoke-test.sh || restore "smoke-test.sh"
echo "refresh-lock: the new lock passed the tests, the build and the smoke test;" \
    "review and commit packaging/constraints.txt" >&2
