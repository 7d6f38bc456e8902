#!/usr/bin/env bash
# Start the app built by packaging/build-app.sh the way a user gets it: unpack the archive,
# install it with its install.sh into a fresh home, and run it with an empty environment (no
# Python on PATH, no venv, no network where `unshare -n` works), offscreen:
#   - every command's --help, --version, `models`
#   - first launch: the window with --screenshot (not blank), nothing converted (the embedded
#     model runs from the folder shipped beside its graph); a second launch for start-to-window
#   - `embed` of 10 lines equal to the source tree's vectors (cosine >= 0.9999)
#   - `map` with UMAP (numba compiles into the user cache folder)
#   - a broken file: one clear line, exit 2, no traceback
#   - nothing written into the installed app folder
# The source tree's venv is used only for the reference vectors and to read the PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
info=out/app/build-info.txt
[ -f "$info" ] || { echo "smoke-test: no $info: run packaging/build-app.sh first" >&2; exit 2; }
archive="$(sed -n 's/^archive=//p' "$info")"
name="$(sed -n 's/^name=//p' "$info")"
py="$repo/${E5DESK_APP_VENV:-.venv}/bin/python"

work="$(mktemp -d /tmp/e5desk-smoke.XXXXXX)"
cleanup() { rm -rf "$work"; }
[ -n "${E5DESK_SMOKE_KEEP:-}" ] || trap cleanup EXIT
home="$work/home"
mkdir -p "$home" "$work/emptybin" "$work/unpacked"
fails=0
ok() { echo "  ok    $*"; }
fail() { echo "  FAIL  $*"; fails=$((fails + 1)); }

echo "smoke-test: unpacking and installing $archive into $home"
tar -xJf "$archive" -C "$work/unpacked"
env -i HOME="$home" PATH=/usr/bin:/bin bash "$work/unpacked/$name/install.sh" >/dev/null
app="$home/.local/share/e5desk/app"
bin="$home/.local/bin/e5desk"
[ -x "$bin" ] && ok "install.sh: $bin -> $(readlink "$bin")" || fail "install.sh: no $bin"
grep -q "^Exec=\"$app/e5desk\"" "$home/.local/share/applications/e5desk.desktop" \
    && ok "menu entry ~/.local/share/applications/e5desk.desktop" || fail "menu entry"
touch "$work/stamp"
sleep 1

nonet=()
if unshare -n true 2>/dev/null; then nonet=(unshare -n); fi
# The user's environment, minus everything that could find a Python or the source tree.
e5() {
    "${nonet[@]}" env -i HOME="$home" PATH="$work/emptybin" LANG=C.UTF-8 \
        QT_QPA_PLATFORM=offscreen "$bin" "$@"
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
no_traceback() { ! grep -q "Traceback" "$1"; }

echo "smoke-test: commands (${nonet[*]:-network not isolated: unshare -n unavailable})"
e5 --version > "$work/out.txt" 2>&1 && ok "--version: $(cat "$work/out.txt")" \
    || fail "--version: $(tail -3 "$work/out.txt")"
# Every command the source tree has must be in the app and answer --help.
commands="$("$py" -c 'from e5desk.commands import COMMANDS; print(*COMMANDS)')"
for cmd in $commands; do
    if [ ! -e "e5desk/commands/$cmd.py" ] && [ ! -d "e5desk/commands/$cmd" ]; then
        continue  # listed before its module landed
    fi
    if e5 "$cmd" --help > "$work/out.txt" 2>&1 && grep -q "usage: e5desk $cmd" "$work/out.txt"
    then ok "$cmd --help"; else fail "$cmd --help: $(tail -3 "$work/out.txt")"; fi
done
e5 --help > "$work/out.txt" 2>&1 && ok "--help" || fail "--help: $(tail -3 "$work/out.txt")"

echo "smoke-test: first launch (the embedded model runs from the app folder)"
log="$home/.local/share/e5desk/e5desk.log"
# start to a usable window: the log's "window shown" line (polled), then the whole run
wait_window() {  # pid, t0, lines of "window shown" before -> seconds (or "?")
    local seen="" n
    while kill -0 "$1" 2>/dev/null; do
        n=$(grep -c "window shown" "$log" 2>/dev/null) || n=0
        if [ "${n:-0}" -gt "$3" ]; then
            seen=$(elapsed "$2"); break
        fi
        sleep 0.02
    done
    echo "${seen:-?}"
}
t0=$(date +%s.%N)
e5 --screenshot "$work/first.png" > "$work/out.txt" 2>&1 &
pid=$!
first_window_s=$(wait_window "$pid" "$t0" 0)
if wait "$pid"; then
    first_s=$(elapsed "$t0")
    ok "window + screenshot, first launch: to window ${first_window_s} s, whole run ${first_s} s"
else
    first_s="?"
    fail "first launch: $(tail -5 "$work/out.txt")"
fi
ls "$home/.local/share/e5desk/models/"*/model.safetensors >/dev/null 2>&1 \
    && fail "first launch converted the embedded model (the shipped folder should serve)" \
    || ok "nothing converted at first launch: the embedded model ran from the app folder"

echo "smoke-test: second launch (start to window)"
before=$(grep -c "window shown" "$log" 2>/dev/null) || before=0
t0=$(date +%s.%N)
e5 --screenshot "$work/shot.png" > "$work/out.txt" 2>&1 &
pid=$!
window_s=$(wait_window "$pid" "$t0" "$before")
if wait "$pid"; then
    ready_s=$(elapsed "$t0")
    ok "start to window ${window_s:-?} s; to scores and screenshot ${ready_s} s"
else
    fail "second launch: $(tail -5 "$work/out.txt")"
fi
colours=$("$py" - "$work/shot.png" <<'EOF'
import sys
import numpy as np
from PySide6.QtGui import QImage
img = QImage(sys.argv[1]).convertToFormat(QImage.Format.Format_RGB32)
if img.isNull():
    print(0)
else:
    rows = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), -1)
    print(len(np.unique(rows[:, :img.width()])), f"{img.width()}x{img.height()}")
EOF
)
[ "${colours%% *}" -ge 100 ] && ok "screenshot not blank: ${colours%% *} distinct colours (${colours#* })" \
    || fail "screenshot blank or unreadable ($colours colours)"

echo "smoke-test: embed equals the source tree"
cat > "$work/lines.txt" <<'EOF'
Will it rain tomorrow?
Va-t-il pleuvoir demain ?
Regnet es morgen?
¿Lloverá mañana?
明天会下雨吗？
The cat sleeps on the sofa.
Die Katze schläft auf dem Sofa.
Кошка спит на диване.
I would like a cup of coffee, please.
Eu gostaria de uma xícara de café, por favor.
EOF
if e5 embed "$work/lines.txt" --out "$work/app.npy" --no-cache > "$work/out.txt" 2>&1; then
    ok "embed (app)"
else
    fail "embed (app): $(tail -5 "$work/out.txt")"
fi
# the reference: exact float32 torch vectors (the app runs the 4-bit graph in float32)
HF_HUB_OFFLINE=1 "$py" -m e5desk embed "$work/lines.txt" --out "$work/ref.npy" --no-cache \
    --precision exact --engine torch \
    > "$work/ref.txt" 2>&1 || fail "embed (source tree): $(tail -5 "$work/ref.txt")"
cos=$("$py" -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print(f'{(a * b).sum(1).min():.6f}' if a.shape == b.shape == (10, 384) else 'shape', a.shape)
" "$work/app.npy" "$work/ref.npy" 2>&1 || true)
if "$py" -c "import sys; sys.exit(not float(sys.argv[1]) >= 0.9999)" "${cos%% *}" 2>/dev/null
then ok "10 vectors, min cosine to the source tree ${cos%% *}"
else fail "embed differs from the source tree: $cos"; fi

echo "smoke-test: models, map (UMAP), a broken file"
if e5 models > "$work/out.txt" 2>&1 && grep -qi "embedded" "$work/out.txt"; then
    ok "models"
else
    fail "models: $(tail -3 "$work/out.txt")"
fi
cp resources/samples/phrases.csv "$work/phrases.csv"
t0=$(date +%s.%N)
if e5 map "$work/phrases.csv" --method umap --out "$work/map.csv" > "$work/out.txt" 2>&1 \
    && [ "$(wc -l < "$work/map.csv")" -gt 10 ]; then
    ok "map --method umap ($(wc -l < "$work/map.csv") rows," \
        "$(elapsed "$t0") s with numba compiling)"
else
    fail "map: $(tail -5 "$work/out.txt")"
fi
printf '<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>Hi</seg></tuv>\n<tuv' \
    > "$work/broken.tmx"
set +e
e5 map "$work/broken.tmx" --out "$work/broken.csv" > "$work/out.txt" 2>&1
rc=$?
set -e
if [ "$rc" = 2 ] && no_traceback "$work/out.txt" && [ "$(wc -l < "$work/out.txt")" -le 2 ]
then ok "broken file: exit 2, '$(head -1 "$work/out.txt")'"
else fail "broken file: exit $rc, $(head -5 "$work/out.txt")"; fi

echo "smoke-test: the app folder is untouched"
changed="$(find "$app" -newer "$work/stamp" | head -5)"
[ -z "$changed" ] && ok "nothing written into $app" || fail "written into the app: $changed"
for f in "$work"/*.txt; do
    if grep -q "Traceback" "$f"; then fail "traceback in $(basename "$f")"; fi
done

echo "smoke-test: no torch in the app"
if find "$app" -maxdepth 3 \( -name "libtorch*" -o -name "torch" \) | grep -q .; then
    fail "torch is in the app: $(find "$app" -maxdepth 3 -name "libtorch*" | head -3)"
else ok "no torch in $app"; fi
if e5 embed "$work/lines.txt" --engine torch --out "$work/t.npy" > "$work/torch.txt" 2>&1; then
    fail "--engine torch ran without torch"
elif grep -q "pip install" "$work/torch.txt" && no_traceback "$work/torch.txt"; then
    ok "--engine torch: '$(head -1 "$work/torch.txt")'"
else fail "--engine torch: $(head -3 "$work/torch.txt")"; fi

sed 's/^/  build: /' "$info"
unpacked_mb=$(du -sm "$app" | cut -f1)
archive_mb=$(( $(stat -c %s "$archive") / 1048576 ))
echo "smoke-test: figures: unpacked ${unpacked_mb} MB (goal <= 700), archive ${archive_mb} MB" \
    "(goal <= 300), first launch to window ${first_window_s} s (goal <= 10; whole first" \
    "run ${first_s} s), second launch to window ${window_s:-?} s"
if [ "$fails" -gt 0 ]; then
    echo "smoke-test: $fails check(s) failed"
    exit 1
fi
echo "smoke-test: all checks passed"
