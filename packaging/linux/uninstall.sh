#!/usr/bin/env bash
# Remove AniSketch installed by install.sh: the program folder, its menu entry, icon and ~/.local/bin links.
#
#   ~/.local/opt/AniSketch/uninstall.sh           # keeps your settings, trained models, datasets and logs
#   ~/.local/opt/AniSketch/uninstall.sh --purge   # also deletes those (~/.local/share/AniSketch, ~/.config/AniSketch)
set -euo pipefail

PURGE=0
QUIET=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        --quiet) QUIET=1 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

DEST=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MANIFEST=$DEST/.anisketch-install
[[ -f "$MANIFEST" ]] || { echo "uninstall.sh: $DEST was not installed by install.sh (no $MANIFEST)" >&2; exit 1; }

while IFS= read -r path; do
    [[ -n "$path" ]] || continue
    if [[ -L "$path" ]]; then
        # Only our own links: a link someone re-pointed elsewhere is left alone.
        if [[ "$(readlink "$path")" == "$DEST/"* ]]; then rm -f "$path"; fi
    elif [[ -f "$path" ]]; then
        rm -f "$path"
    fi
done < "$MANIFEST"

DATA=${XDG_DATA_HOME:-$HOME/.local/share}
if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$DATA/applications" 2>/dev/null || true; fi

rm -rf "$DEST"
if [[ $PURGE == 1 ]]; then
    rm -rf "$DATA/AniSketch" "${XDG_CONFIG_HOME:-$HOME/.config}/AniSketch"
fi
if [[ $QUIET == 0 ]]; then
    echo "AniSketch removed from $DEST"
    [[ $PURGE == 1 ]] || echo "  your models, datasets and settings are kept in $DATA/AniSketch (--purge deletes them)"
fi
