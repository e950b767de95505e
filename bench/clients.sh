#!/usr/bin/env bash
# Benchmark: requests/s the project's clients (bc_client, ais_session and
# ais_data) sustain against mlc-sim without a quota, and AIS logins per
# restart with 16 threads reading. Loopback only, bounded request counts.
# Prints figures; asserts nothing.
#   bench/clients.sh [BUILD_DIR]      (default build/release; run make first)
# BENCH_JSON=FILE also writes the figures there as one JSON object (keys:
# see bench/README.md).
set -u
root=$(git rev-parse --show-toplevel 2>/dev/null) || root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=${1:-build/release}
sim=$build/mlc-sim
lib=$build/libmlc.a
[ -x "$sim" ] && [ -f "$lib" ] || { echo "bench/clients.sh: build $sim and $lib first (make)"; exit 2; }
tmp=$(mktemp -d /tmp/mlc-bench-clients.XXXXXX); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Compiled with the Makefile's flags for the release library.
pkgs="libcurl libmicrohttpd jansson yaml-0.1 libsodium sqlite3"
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
   -Wmissing-prototypes -Wvla -Werror -Wno-format-truncation -O2 -g -Isrc \
   $(pkg-config --cflags $pkgs) -o "$tmp/clients" bench/clients.c "$lib" \
   $(pkg-config --libs $pkgs) -lpthread || { echo "bench/clients.sh: cannot compile bench/clients.c"; exit 2; }

# Unlimited quota so the rate limiter does not cap the figures.
python3 - "$tmp/seed.json" <<'PY'
import json, sys
bc = json.load(open("sim/seed/bigcommerce.json"))
bc["bigcommerce"]["settings"]["rate_quota"] = 0
jde = json.load(open("sim/seed/jde.json"))
json.dump({"bigcommerce": bc["bigcommerce"], "jde": jde["jde"]}, open(sys.argv[1], "w"))
PY
"$sim" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$tmp/seed.json" \
    --ready-file "$tmp/ports" --log-level error >"$tmp/sim.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
bc=$(sed -n 's/^bigcommerce=//p' "$tmp/ports"); jde=$(sed -n 's/^jde=//p' "$tmp/ports")
[ -n "$bc" ] && [ -n "$jde" ] || { echo "bench/clients.sh: mlc-sim did not start"; cat "$tmp/sim.log"; exit 1; }

echo "machine: $(nproc) cores; clients and simulators on one host (loopback)"
BC_TOKEN=sim-token-northwind JDE_PASSWORD=mlcint-pass "$tmp/clients" \
    "http://127.0.0.1:$bc/stores/nwhg42" "http://127.0.0.1:$jde" "http://127.0.0.1:$jde" |
    tee "$tmp/out"
[ -z "${BENCH_JSON:-}" ] || python3 - "$tmp/out" "$BENCH_JSON" <<'PY'
import json, re, sys
names = {"bc_order_get": "bc_order_get", "bc_orders_page": "bc_orders_page",
         "ais_account_lookup": "ais_lookup"}
figs = {}
for line in open(sys.argv[1]):
    m = re.match(r"\S+ (\w+) .*?(\d+) threads .* (\d+) req/s", line)
    if m and m.group(1) in names:
        figs["clients_%s_%st_per_s" % (names[m.group(1)], m.group(2))] = int(m.group(3))
    m = re.match(r"logins per restart: ([0-9.]+)", line)
    if m:
        figs["clients_ais_logins_per_restart"] = float(m.group(1))
json.dump(figs, open(sys.argv[2], "w"), indent=1)
PY
