#!/usr/bin/env bash
# Build the e5desk desktop app (Linux, one folder, no torch: OpenVINO, or ONNX Runtime with
# E5DESK_APP_RUNTIME=onnxruntime, runs the embedded models from 4-bit graphs made here with
# torch, packaging/ship_graphs.py) and its archive:
#
#   out/app/e5desk-VERSION-linux-x86_64/            e5desk/ (the app), e5desk.desktop,
#                                                   e5desk.svg, install.sh
#   out/e5desk-VERSION-linux-x86_64.tar.xz          the same folder, to hand out (xz: 30 %
#                                                   smaller than gzip on these libraries)
#
# Then `bash packaging/smoke-test.sh` starts what was built. Several minutes; not part of the
# test command. Builds in the project .venv (packaging/setup-venv.sh, then the `app` extra:
# PyInstaller) unless E5DESK_APP_VENV names another venv that already has e5desk installed,
# e.g. one with a CUDA torch (then also set E5DESK_APP_CUDA=1 to keep the CUDA libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
venv="${E5DESK_APP_VENV:-.venv}"
if [ "$venv" = ".venv" ]; then
    bash packaging/setup-venv.sh
fi
py="$venv/bin/python"
if ! "$py" -c 'import PyInstaller' 2>/dev/null; then
    echo "e5desk: installing the app extra (PyInstaller) into $venv" >&2
    lock=(-c packaging/constraints.txt)  # the versions the tests ran with
    if [ -n "${E5DESK_NO_LOCK:-}" ]; then lock=(); fi
    "$py" -m pip install --quiet -e ".[app]" "${lock[@]}"
fi
if ! "$py" -c 'import onnx, onnxruntime, openvino' 2>/dev/null; then
    echo "e5desk: installing the bench extra (onnx, onnxruntime, openvino) into $venv" >&2
    lock=(-c packaging/constraints.txt)
    if [ -n "${E5DESK_NO_LOCK:-}" ]; then lock=(); fi
    "$py" -m pip install --quiet -e ".[bench]" "${lock[@]}"
fi
version="$("$py" -c 'import e5desk; print(e5desk.__version__)')"
name="e5desk-$version-linux-$(uname -m)"
stage="out/app/$name"
archive="out/$name.tar.xz"

rm -rf "$stage" "$archive"
mkdir -p out/app
echo "e5desk: making the shipped graphs (convert, export with torch, 4-bit, parity on" \
    "the benchmark corpus)" >&2
if [ -n "${E5DESK_APP_REUSE_GRAPHS:-}" ] && [ -f out/app/engines/graphs.json ]; then
    echo "e5desk: E5DESK_APP_REUSE_GRAPHS: keeping out/app/engines from the last build" >&2
else
    nice -n 19 "$py" packaging/ship_graphs.py out/app/engines \
        --texts "${E5DESK_APP_PARITY_TEXTS:-2000}" --runtime "${E5DESK_APP_RUNTIME:-openvino}"
fi
graphs=$(date +%s)
echo "e5desk: building $name with PyInstaller (several minutes)" >&2
# nice: the build shares the machine with interactive work and tests.
nice -n 19 "$py" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$stage" --workpath out/app/build packaging/e5desk.spec
built=$(date +%s)
# symbol tables off the libraries that load without them (not auditwheel's patched copies)
"$py" packaging/strip_bundle.py "$stage/e5desk/_internal"

cp packaging/e5desk.desktop packaging/install.sh "$stage/"
cp resources/icons/e5desk.svg "$stage/e5desk.svg"
chmod +x "$stage/install.sh"
echo "e5desk: packing $archive" >&2
XZ_OPT="${XZ_OPT:--6 -T0}" nice -n 19 tar -C out/app -cJf "$archive" "$name"
finished=$(date +%s)

unpacked=$(du -sm "$stage/e5desk" | cut -f1)
packed=$(( $(stat -c %s "$archive") / 1048576 ))
{
    echo "name=$name"
    echo "archive=$archive"
    echo "unpacked_mb=$unpacked"
    echo "archive_mb=$packed"
    echo "graphs_s=$(( graphs - started ))"
    echo "pyinstaller_s=$(( built - graphs ))"
    "$py" packaging/ship_graphs.py --summary out/app/engines

    echo "total_build_s=$(( finished - started ))"
} | tee out/app/build-info.txt
echo "e5desk: built $stage/e5desk (${unpacked} MB unpacked) and $archive (${packed} MB)" \
    "in $(( finished - started )) s; next: bash packaging/smoke-test.sh" >&2
