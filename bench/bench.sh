#!/usr/bin/env bash
# `make bench`: runs every benchmark, then prints one table (figure, value,
# target, verdict) and writes it, with every figure, as one JSON file.
# Figures, never assertions: the exit status is 0 even when a target is not
# met; it is 1 only when a benchmark could not run at all.
#
#   bench/bench.sh [BUILD_DIR]      (default build/release, relative to the
#                                     checkout; make bench builds it first)
#
# Each benchmark runs with BENCH_JSON=BUILD_DIR/bench/<name>.json; its output
# goes to BUILD_DIR/bench/<name>.log. bench/report.py reads the JSON files
# and prints the table.
#
# Environment: BENCH_ONLY ("orders webhooks footprint sim clients budget", the
# default: which ones, in that order), BENCH_OUT (BUILD_DIR/bench.json), and
# each benchmark's own knobs (see bench/README.md).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=${1:-build/release}
case "$build" in
    "$root"/*) build=${build#"$root"/} ;;
    /*) echo "bench/bench.sh: BUILD_DIR must lie in the checkout ($root)" >&2; exit 2 ;;
esac
out=${BENCH_OUT:-$build/bench.json}
dir="$build/bench"
names=${BENCH_ONLY:-orders webhooks footprint sim clients budget}
mkdir -p "$dir" || exit 2
: > "$dir/durations"

echo "make bench: $(nproc) cores, $(uname -r); logs and figures in $dir/"
t_all=$EPOCHREALTIME
failed=0
for name in $names; do
    [ -f "bench/$name.sh" ] || { echo "bench/bench.sh: no bench/$name.sh" >&2; exit 2; }
    rm -f "$dir/$name.json"
    t0=$EPOCHREALTIME
    BENCH_JSON="$root/$dir/$name.json" bash "bench/$name.sh" "$build" >"$dir/$name.log" 2>&1
    rc=$?
    secs=$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$EPOCHREALTIME")
    echo "$name $secs $rc" >> "$dir/durations"
    if [ "$rc" = 0 ]; then
        printf '  %-10s %6s s\n' "$name" "$secs"
    else
        failed=1
        printf '  %-10s %6s s  FAILED (exit %s): tail of %s:\n' "$name" "$secs" "$rc" "$dir/$name.log"
        tail -n 5 "$dir/$name.log" | sed 's/^/      /'
    fi
done
echo
# shellcheck disable=SC2086
python3 bench/report.py "$dir" "$out" $names || exit 1
echo
echo "all benchmarks: $(python3 -c 'import sys; print("%.0f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t_all" "$EPOCHREALTIME") s; table and figures in $out"
exit "$failed"
