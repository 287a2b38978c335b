#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/AniSketch/ with PyInstaller (Linux; macOS also gets dist/AniSketch.app).
#
#   packaging/build.sh                 # uses ./.venv if present, else the python on PATH
#   PYTHON=/path/to/python packaging/build.sh
#   ANISKETCH_NO_PRUNE=1 packaging/build.sh   # everything the hooks collect (to measure pruning)
#
# CPU build by default: the bundle contains whatever torch the build environment has. For a CUDA build, build
# in an environment with a CUDA torch (see packaging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
DIST=${ANISKETCH_DIST:-dist}
WORK=${ANISKETCH_WORK:-build/pyinstaller}

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "== installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install "pyinstaller>=6.6"
fi
for module in PySide6 torch; do
    "$PYTHON" -c "import $module" || { echo "error: $module is not installed in $PYTHON's environment" >&2; exit 1; }
done
for other in PyQt5 PyQt6 PySide2; do  # one Qt binding in the build environment, or the hooks mix them
    if "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$other') is None)"; then
        echo "warning: $other is installed too; it is excluded from the bundle" >&2
    fi
done

RESOURCES=${ANISKETCH_BUILD_RESOURCES:-$ROOT/resources}
for model in sketch colorize; do
    [[ -f "$RESOURCES/models/$model.safetensors" ]] ||
        echo "warning: $RESOURCES/models/$model.safetensors is missing; the bundle's --self-test will fail" >&2
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [[ ! -f "$RESOURCES/icons/anisketch.png" && -z "${ANISKETCH_BUILD_ICON:-}" ]]; then
    echo "note: no resources/icons/anisketch.png yet; bundling a generated placeholder icon"
    "$PYTHON" packaging/placeholder_icon.py "$TMP/anisketch.png"
    export ANISKETCH_BUILD_ICON="$TMP/anisketch.png"
fi

export ANISKETCH_PRUNE_REPORT=${ANISKETCH_PRUNE_REPORT:-$WORK/prune-report.txt}
mkdir -p "$WORK"
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level "${PYI_LOG_LEVEL:-WARN}" \
    --distpath "$DIST" --workpath "$WORK" packaging/anisketch.spec
took=$(( $(date +%s) - start ))

BUNDLE="$DIST/AniSketch"
[[ -x "$BUNDLE/AniSketch" ]] || { echo "error: $BUNDLE/AniSketch was not built" >&2; exit 1; }
# PyInstaller leaves empty folders where pruned files would have gone.
find "$BUNDLE" -mindepth 1 -type d -empty -delete
cp packaging/linux/install.sh packaging/linux/uninstall.sh "$BUNDLE/"  # dist/AniSketch/install.sh works too

echo "== built $BUNDLE in ${took}s"
echo "   unpacked size: $(du -sh "$BUNDLE" | cut -f1) ($(du -sk "$BUNDLE" | cut -f1) KiB)"
echo "   largest parts:"
du -s "$BUNDLE"/_internal/* 2>/dev/null | sort -rn |  # awk reads it all (head would SIGPIPE under pipefail)
    awk 'NR <= 8 {printf "     %7.1f MB  %s\n", $1/1024, $2}'
echo "   prune report: $ANISKETCH_PRUNE_REPORT"
