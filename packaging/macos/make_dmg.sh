#!/usr/bin/env bash
# macOS: wrap dist/AniSketch.app (made by packaging/build.sh through the spec's BUNDLE step) in a disk image
# dist/AniSketch-<version>-macos-<arch>.dmg with an /Applications link for drag-and-drop install.
#
#   packaging/build.sh && packaging/macos/make_dmg.sh
#   CODESIGN_IDENTITY="Developer ID Application: ..." packaging/macos/make_dmg.sh   # sign before packing
#
# Unsigned apps open with right-click > Open the first time (Gatekeeper). Notarization (xcrun notarytool) needs
# an Apple developer account and is not scripted here.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ "$(uname)" == Darwin ]] || { echo "error: make_dmg.sh needs macOS (hdiutil)" >&2; exit 1; }

APP=dist/AniSketch.app
[[ -d "$APP" ]] || { echo "error: $APP missing; run packaging/build.sh first" >&2; exit 1; }
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' anisketch_desktop/__init__.py)
OUT=dist/AniSketch-$VERSION-macos-$(uname -m).dmg

if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    codesign --deep --force --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$APP"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
# ULMO (LZMA) makes the smallest image; it opens on macOS 10.15 and later (torch needs 11+ anyway).
hdiutil create -volname "AniSketch $VERSION" -srcfolder "$STAGE" -ov -format ULMO "$OUT"
echo "== $OUT: $(du -h "$OUT" | cut -f1)"
