#!/usr/bin/env bash
# Install AniSketch for the current user (no root needed). Run from the unpacked package folder:
#
#   ./install.sh            # installs to ~/.local/opt/AniSketch, adds the menu entry and ~/.local/bin links
#   ./install.sh --force    # also replace a folder at the target that an earlier install did not create
#
# Environment: PREFIX (default ~/.local), XDG_DATA_HOME (default ~/.local/share).
# Undo with ~/.local/opt/AniSketch/uninstall.sh (user data and trained models are kept).
set -euo pipefail

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
DEST=$PREFIX/opt/AniSketch
BIN=$PREFIX/bin
APPS=$DATA/applications
MARKER=.anisketch-install
MANIFEST=$DEST/$MARKER

[[ -x "$SRC/AniSketch" ]] || { echo "install.sh: $SRC/AniSketch not found; run me from the package folder" >&2; exit 1; }

if [[ -e "$DEST" && "$SRC" != "$DEST" ]]; then
    if [[ -f "$DEST/$MARKER" ]]; then
        echo "Replacing the earlier installation in $DEST"
        # Take the old entries out first, so nothing from the old version lingers.
        if [[ -x "$DEST/uninstall.sh" ]]; then "$DEST/uninstall.sh" --quiet; else rm -rf "$DEST"; fi
    elif [[ $FORCE == 1 ]]; then
        rm -rf "$DEST"
    else
        echo "install.sh: $DEST exists and was not made by this installer; use --force to replace it" >&2
        exit 1
    fi
fi

if [[ "$SRC" != "$DEST" ]]; then
    mkdir -p "$(dirname "$DEST")"
    tmp=$(mktemp -d "$(dirname "$DEST")/.AniSketch.XXXXXX")
    cp -a "$SRC/." "$tmp/"
    mv "$tmp" "$DEST"  # the new folder appears complete or not at all
fi
: > "$MANIFEST"

link() {  # link NAME TARGET: a symlink in $BIN unless a foreign file already has that name
    local path=$BIN/$1
    mkdir -p "$BIN"
    if [[ -e "$path" || -L "$path" ]] && [[ "$(readlink "$path" 2>/dev/null)" != "$DEST/"* ]]; then
        echo "note: $path exists and is not ours; left alone" >&2
        return
    fi
    ln -sfn "$2" "$path"
    echo "$path" >> "$MANIFEST"
}
link AniSketch "$DEST/AniSketch"
if [[ -x "$DEST/anisketch" ]]; then link anisketch "$DEST/anisketch"; fi

# Menu entry: the shipped .desktop file, with Exec/TryExec pointing at the installed program.
desktop_src=$DEST/_internal/resources/anisketch.desktop
[[ -f "$desktop_src" ]] || desktop_src=$DEST/anisketch.desktop
if [[ -f "$desktop_src" ]]; then
    mkdir -p "$APPS"
    desktop=$APPS/anisketch.desktop
    sed -e "s|^Exec=AniSketch|Exec=\"$DEST/AniSketch\"|" -e "s|^TryExec=.*|TryExec=$DEST/AniSketch|" \
        "$desktop_src" > "$desktop.tmp"
    mv "$desktop.tmp" "$desktop"
    echo "$desktop" >> "$MANIFEST"
fi

# Icon: PNG into hicolor/256x256 (and SVG into scalable when there is one).
for icon_dir in "$DEST/_internal/resources/icons" "$DEST/icons"; do
    [[ -d "$icon_dir" ]] || continue
    if [[ -f "$icon_dir/anisketch.png" ]]; then
        target=$DATA/icons/hicolor/256x256/apps/anisketch.png
        mkdir -p "$(dirname "$target")"
        cp "$icon_dir/anisketch.png" "$target"
        echo "$target" >> "$MANIFEST"
    fi
    if [[ -f "$icon_dir/anisketch.svg" ]]; then
        target=$DATA/icons/hicolor/scalable/apps/anisketch.svg
        mkdir -p "$(dirname "$target")"
        cp "$icon_dir/anisketch.svg" "$target"
        echo "$target" >> "$MANIFEST"
    fi
    break
done

if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$APPS" 2>/dev/null || true; fi
if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true; fi

echo "AniSketch installed in $DEST"
echo "  start it from your applications menu, or run: $BIN/AniSketch   (command line: $BIN/anisketch --help)"
case ":$PATH:" in *":$BIN:"*) ;; *) echo "  ($BIN is not on your PATH)";; esac
echo "  uninstall: $DEST/uninstall.sh"
