#!/usr/bin/env bash
# Every tab at 1024x700 and 1600x1000, light and dark, with the bundled sample and with five
# real-shaped catalogues: docs/screenshots/<tab>-<set>-<size>-<theme>.png, each taken in a
# real window on a virtual screen (../shared/tools/look-at-app). About 40 s a picture.
# Usage: bash docs/screenshots/matrix.sh [TAB ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
look=${LOOK_AT_APP:-../shared/tools/look-at-app}
tabs=("${@:-scores map translations}")
read -r -a tabs <<<"${tabs[*]}"
for tab in "${tabs[@]}"; do
  for set in sample catalogues; do
    if [ "$set" = sample ] && [ "$tab" = translations ]; then
      files=(); query="Where is the train station?"  # has a translation in every language
    elif [ "$set" = sample ]; then files=(); query="Will it rain tomorrow?"
    else files=(tests/data/real/catalogues/*.po --no-sample); query="Enter a valid date"; fi
    for size in 1024x700 1600x1000; do
      for theme in light dark; do
        out=docs/screenshots/$tab-$set-${size%%x*}-$theme.png
        rm -rf "$HOME/.local/share/e5desk/autosave/"*  # no recovery prompt in the picture
        SCREEN=$size XDG_CONFIG_HOME=$(mktemp -d) "$look" "$out" ${WAIT:-60} \
          .venv/bin/e5desk "${files[@]}" --tab "$tab" --theme "$theme" \
          --query "$query" >/dev/null
        rm -f "${out%.png}.log"  # look-at-app's log of the run
        echo "$out"
      done
    done
  done
done
