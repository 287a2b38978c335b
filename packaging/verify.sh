#!/usr/bin/env bash
# Check a built bundle without a screen: version, self-test (both executables), missing shared libraries, and
# the desktop window opening under Xvfb from the .desktop launcher's Exec line, with start-up times.
#
#   packaging/verify.sh [dist/AniSketch]
#   RUNS=5 START_TARGET=2.5 packaging/verify.sh
#
# Needs Xvfb and xdotool for the window check (Debian/Ubuntu: apt-get install -y xvfb xdotool); without them that
# check is reported as skipped unless REQUIRE_GUI=1. Exit status 0 when every check passed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUNDLE=$(cd "${1:-dist/AniSketch}" && pwd) || { echo "error: no bundle folder ${1:-dist/AniSketch}" >&2; exit 1; }
RUNS=${RUNS:-3}
START_TARGET=${START_TARGET:-2.5}
TIMEOUT=${GUI_TIMEOUT:-30}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' anisketch_desktop/__init__.py)
CLI=$BUNDLE/anisketch
[[ -x "$CLI" ]] || CLI=$BUNDLE/anisketch-cli
FAILED=0
WORK=$(mktemp -d)
export ANISKETCH_HOME=$WORK/home  # the checks never touch the real user folders
export XDG_CONFIG_HOME=$WORK/config
cleanup() {
    [[ -n "${APP_PID:-}" ]] && kill "$APP_PID" 2>/dev/null
    [[ -n "${XVFB_PID:-}" ]] && kill "$XVFB_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }  # seconds since $1
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }

echo "== bundle $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"

# 1. --version from both executables
for exe in "$CLI" "$BUNDLE/AniSketch"; do
    out=$(QT_QPA_PLATFORM=offscreen timeout 60 "$exe" --version 2>&1)
    if [[ "$out" == *"$VERSION"* ]]; then pass "$(basename "$exe") --version: $out"
    else fail "$(basename "$exe") --version printed: $out"; fi
done

# 2. self-test (headless: loads the shipped models, sketches and colorizes a built-in sample)
for exe in "$CLI" "$BUNDLE/AniSketch"; do
    start=$(now)
    out=$(QT_QPA_PLATFORM=offscreen timeout 300 "$exe" --self-test 2>&1)
    rc=$?
    took=$(since "$start")
    echo "$out" | sed 's/^/     /'
    if [[ $rc == 0 ]]; then pass "$(basename "$exe") --self-test (${took}s)"
    else fail "$(basename "$exe") --self-test exit $rc"; fi
done

# 3. every shared library the bundle's binaries need can be found (catches over-eager pruning)
libdirs=$(find "$BUNDLE" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
missing=$(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    xargs -0 file -L | grep -E 'ELF .*(shared object|executable)' | cut -d: -f1 |
    while read -r f; do LD_LIBRARY_PATH=$libdirs ldd "$f" 2>/dev/null | grep 'not found' | sed "s|^|$f: |"; done |
    sort -u)
# Optional plugins that link to system libraries the host may lack are reported, not failed.
hard_missing=$(echo "$missing" | grep -v -E '/plugins/|^$' || true)
if [[ -n "$missing" ]]; then echo "$missing" | sed 's/^/     missing: /' | head -20; fi
if [[ -z "$hard_missing" ]]; then pass "shared libraries resolve"
else fail "shared libraries missing (outside Qt plugins)"; fi

# 4. training works frozen (autograd, optimizer, checkpoints, export): 3 steps on a generated tiny set
if [[ "${SKIP_TRAIN:-0}" == 1 ]]; then
    echo "SKIP frozen training (SKIP_TRAIN=1)"
elif ! "$CLI" train --help >/dev/null 2>&1; then
    echo "SKIP frozen training (this build has no 'train' command)"
else
    "${PYTHON:-python3}" packaging/smoke_data.py "$WORK/smoke"
    start=$(now)
    if (cd "$WORK/smoke" && timeout 600 "$CLI" train --recipe "$WORK/smoke/recipe.json" --pairs "$WORK/smoke/pairs" \
            --runs "$WORK/smoke/runs" --output "$WORK/smoke/model.safetensors" --no-resume >"$WORK/train.log" 2>&1) &&
        "$CLI" sketch "$WORK/smoke/pairs/color/smoke1.png" -o "$WORK/smoke/out" -q \
            --model "$WORK/smoke/model.safetensors" >>"$WORK/train.log" 2>&1 &&
        [[ -s "$WORK/smoke/out/smoke1_sketch.png" ]]; then
        pass "frozen training: 3 steps, export, sketch with the new model ($(since "$start")s)"
    else
        tail -20 "$WORK/train.log" | sed 's/^/     /'
        fail "frozen training smoke test"
    fi
fi

# 5. the window opens under Xvfb from the .desktop file's Exec line
desktop=$BUNDLE/_internal/resources/anisketch.desktop
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null; then
    if [[ "${REQUIRE_GUI:-0}" == 1 ]]; then fail "Xvfb/xdotool not installed"; else echo "SKIP window check (no Xvfb/xdotool)"; fi
elif [[ ! -f "$desktop" ]]; then
    fail "no launcher at $desktop"
else
    exec_line=$(sed -n 's/^Exec=//p' "$desktop" | head -1)
    # Field codes (%f %F %u %U ...) expand to nothing when no file is passed.
    read -r -a argv <<< "$(echo "$exec_line" | sed -E 's/ ?%[fFuUdDnNickvm]//g')"
    [[ "${argv[0]}" == /* ]] || argv[0]=$BUNDLE/${argv[0]}
    echo "     launcher command: ${argv[*]}"
    display=:$((90 + RANDOM % 400))
    Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
    XVFB_PID=$!
    for _ in $(seq 50); do DISPLAY=$display xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
    if sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then cache="cold (page cache dropped)"
    else cache="page cache not dropped (no permission): first run after the build reads files already in memory"; fi
    times=()
    for run in $(seq "$RUNS"); do
        start=$(now)
        DISPLAY=$display QT_QPA_PLATFORM=xcb "${argv[@]}" >"$WORK/gui.log" 2>&1 &
        APP_PID=$!
        seen=""
        while less "$(since "$start")" "$TIMEOUT"; do
            if DISPLAY=$display xdotool search --onlyvisible --name 'AniSketch' >/dev/null 2>&1; then
                seen=$(since "$start"); break
            fi
            kill -0 "$APP_PID" 2>/dev/null || break
            sleep 0.05
        done
        if [[ -n "$seen" ]]; then
            times+=("$seen")
            [[ $run == 1 ]] && { echo "     first run: $cache"; DISPLAY=$display xwininfo -root -tree | grep -i anisketch | head -3 | sed 's/^ */     window: /'; }
        fi
        kill "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null; APP_PID=""
        if [[ -z "$seen" ]]; then
            sed 's/^/     app: /' "$WORK/gui.log" | tail -20
            break
        fi
    done
    if [[ ${#times[@]} -eq "$RUNS" ]]; then
        pass "window 'AniSketch' visible under Xvfb; start to window (s): ${times[*]} (target ${START_TARGET})"
        if less "$START_TARGET" "${times[0]}"; then echo "NOTE first start above the target"; fi
    else
        fail "no visible 'AniSketch' window within ${TIMEOUT}s"
    fi
fi

echo "== $([[ $FAILED == 0 ]] && echo 'all checks passed' || echo "$FAILED check(s) failed")"
exit $(( FAILED > 0 ))
