#!/usr/bin/env bash
# Pack dist/AniSketch/ (made by build.sh) as the Linux installer: dist/AniSketch-<version>-linux-<arch>.tar.xz
#
#   packaging/make_tarball.sh                  # xz -6, 2 threads
#   COMPRESS=zstd packaging/make_tarball.sh    # .tar.zst (zstd -19): bigger, unpacks faster
#
# The user unpacks it and runs ./AniSketch-<version>/install.sh (see packaging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${ANISKETCH_DIST:-dist}
BUNDLE=$DIST/AniSketch
[[ -x "$BUNDLE/AniSketch" ]] || { echo "error: $BUNDLE/AniSketch missing; run packaging/build.sh first" >&2; exit 1; }

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' anisketch_desktop/__init__.py)
ARCH=$(uname -m)
NAME=AniSketch-$VERSION
STAGE=$(mktemp -d "$DIST/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

cp -al "$BUNDLE" "$STAGE/$NAME"  # hard links: no second copy of ~700 MB
rm -f "$STAGE/$NAME/install.sh" "$STAGE/$NAME/uninstall.sh"
cp packaging/linux/install.sh packaging/linux/uninstall.sh "$STAGE/$NAME/"
chmod 755 "$STAGE/$NAME/install.sh" "$STAGE/$NAME/uninstall.sh"
cat > "$STAGE/$NAME/INSTALL.txt" <<EOF
AniSketch $VERSION for Linux ($ARCH)

Install (no root needed):   ./install.sh
  -> program in ~/.local/opt/AniSketch, menu entry "AniSketch", commands ~/.local/bin/AniSketch and anisketch
Run without installing:     ./AniSketch          (command line: ./anisketch --help)
Check the installation:     ./anisketch self-test
Uninstall:                  ~/.local/opt/AniSketch/uninstall.sh   (--purge also deletes your models and settings)
EOF

case "${COMPRESS:-xz}" in
    xz) OUT=$DIST/$NAME-linux-$ARCH.tar.xz; FILTER="xz -T2 -6" ;;
    zstd) OUT=$DIST/$NAME-linux-$ARCH.tar.zst; FILTER="zstd -T2 -19" ;;
    *) echo "error: COMPRESS must be xz or zstd" >&2; exit 2 ;;
esac
start=$(date +%s)
# Sorted, owner-less entries: the same bundle gives the same archive.
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$STAGE" -I "$FILTER" -cf "$OUT.part" "$NAME"
mv "$OUT.part" "$OUT"
echo "== $OUT: $(du -h "$OUT" | cut -f1) ($(stat -c %s "$OUT") bytes), packed in $(( $(date +%s) - start ))s"
