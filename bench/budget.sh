#!/usr/bin/env bash
# Benchmark: one BigCommerce quota shared by several processes through the
# state store (bigcommerce.shared_budget). What one record update costs on
# SQLite, and what PROCS processes (budgets with connections of their own to
# one SQLite file, THREADS client threads each) reach against mlc-sim with a
# quota of QUOTA per WINDOW_MS. Prints figures; asserts nothing.
#   bench/budget.sh [BUILD_DIR]      (default build/release; run make first)
# Environment: QUOTA (50), WINDOW_MS (10000), RESERVE (2), WINDOWS (4),
# PROCS (4), THREADS (3), UPDATES (1000). The Standard plan is QUOTA=150
# WINDOW_MS=30000. BENCH_JSON=FILE also writes the figures there.
set -u
root=$(git rev-parse --show-toplevel 2>/dev/null) || root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=${1:-build/release}
sim=$build/mlc-sim
lib=$build/libmlc.a
[ -x "$sim" ] && [ -f "$lib" ] || { echo "bench/budget.sh: build $sim and $lib first (make)"; exit 2; }
tmp=$(mktemp -d /tmp/mlc-bench-budget.XXXXXX); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export QUOTA=${QUOTA:-50} WINDOW_MS=${WINDOW_MS:-10000}

pkgs="libcurl libmicrohttpd jansson yaml-0.1 libsodium sqlite3"
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
   -Wmissing-prototypes -Wvla -Werror -Wno-format-truncation -O2 -g -Isrc \
   $(pkg-config --cflags $pkgs) -o "$tmp/budget" bench/budget.c "$lib" \
   $(pkg-config --libs $pkgs) -lpthread || { echo "bench/budget.sh: cannot compile bench/budget.c"; exit 2; }

python3 - "$tmp/seed.json" <<'PY'
import json, os, sys
bc = json.load(open("sim/seed/bigcommerce.json"))
bc["bigcommerce"]["settings"]["rate_quota"] = int(os.environ["QUOTA"])
bc["bigcommerce"]["settings"]["rate_window_ms"] = int(os.environ["WINDOW_MS"])
json.dump({"bigcommerce": bc["bigcommerce"]}, open(sys.argv[1], "w"))
PY
"$sim" --bigcommerce 127.0.0.1:0 --seed "$tmp/seed.json" \
    --ready-file "$tmp/ports" --log-level error >"$tmp/sim.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
bc=$(sed -n 's/^bigcommerce=//p' "$tmp/ports")
[ -n "$bc" ] || { echo "bench/budget.sh: mlc-sim did not start"; cat "$tmp/sim.log"; exit 1; }

echo "machine: $(nproc) cores; store $tmp/state.db on $(df --output=source "$tmp" | tail -1)"
BC_TOKEN=sim-token-northwind "$tmp/budget" "$tmp/state.db" "http://127.0.0.1:$bc/stores/nwhg42" |
    tee "$tmp/out" | grep -v '^json '
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
[ -z "${BENCH_JSON:-}" ] || sed -n 's/^json //p' "$tmp/out" > "$BENCH_JSON"
