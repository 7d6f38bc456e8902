#!/usr/bin/env bash
# Install (or remove) the e5desk desktop app for the current user, without root.
#
#   bash install.sh              copy the app to ~/.local/share/e5desk/app, link
#                                ~/.local/bin/e5desk, add e5desk to the applications menu
#   bash install.sh --uninstall  remove those again (your models and projects stay in
#                                ~/.local/share/e5desk)
#
# Run it from the unpacked archive (e5desk-VERSION-linux-x86_64/). XDG_DATA_HOME and
# E5DESK_BIN_DIR move the targets (defaults: ~/.local/share, ~/.local/bin).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="${E5DESK_BIN_DIR:-$HOME/.local/bin}"
app="$data/e5desk/app"
desktop="$data/applications/e5desk.desktop"
icon="$data/icons/hicolor/scalable/apps/e5desk.svg"

refresh_menu() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data/applications" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app"
    rm -f "$desktop" "$icon"
    if [ -L "$bin/e5desk" ]; then rm -f "$bin/e5desk"; fi
    refresh_menu
    echo "e5desk removed (models, settings and projects in $data/e5desk are kept)"
    exit 0
fi
if [ -n "${1:-}" ]; then
    echo "usage: bash install.sh [--uninstall]" >&2
    exit 2
fi
if [ ! -x "$here/e5desk/e5desk" ]; then
    echo "install.sh: no e5desk/e5desk next to this script: run it from the unpacked archive" >&2
    exit 2
fi

mkdir -p "$data/e5desk" "$data/applications" "$(dirname "$icon")" "$bin"
tmp="$data/e5desk/.app-installing"
rm -rf "$tmp"
cp -a "$here/e5desk" "$tmp"
rm -rf "$app"
mv "$tmp" "$app"
ln -sfn "$app/e5desk" "$bin/e5desk"
cp "$here/e5desk.svg" "$icon"
# The menu entry starts the installed binary by its full path (~/.local/bin may not be on
# the menu's PATH).
sed "s|^Exec=e5desk |Exec=\"$app/e5desk\" |" "$here/e5desk.desktop" > "$desktop"
chmod 644 "$desktop"
refresh_menu

echo "e5desk installed: $app"
echo "  menu entry: $desktop"
echo "  command:    $bin/e5desk (window), e5desk COMMAND ... (e.g. e5desk embed, e5desk --help)"
case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "  note: $bin is not on your PATH; add it to use 'e5desk' in a terminal" ;;
esac
