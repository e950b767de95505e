#!/usr/bin/env bash
# Benchmark: requests/s the simulators sustain on this machine (loopback
# only, bounded request counts). Prints figures; asserts nothing.
#   bench/sim.sh [BUILD_DIR]      (default build/release; needs ab from apache2-utils)
# BENCH_JSON=FILE also writes the figures there as one JSON object (keys:
# see bench/README.md).
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build/release}
sim=$build/mlc-sim
command -v ab >/dev/null || { echo "bench/sim.sh: needs ab (scripts/install-deps installs apache2-utils)"; exit 2; }
[ -x "$sim" ] || { echo "bench/sim.sh: build $sim first (make)"; exit 2; }
tmp=$(mktemp -d); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Unlimited quota so the rate limiter does not cap the figures.
python3 - "$tmp/seed.json" <<'PY'
import json, sys
bc = json.load(open("sim/seed/bigcommerce.json"))
bc["bigcommerce"]["settings"]["rate_quota"] = 0
jde = json.load(open("sim/seed/jde.json"))
json.dump({"bigcommerce": bc["bigcommerce"], "jde": jde["jde"]}, open(sys.argv[1], "w"))
PY
"$sim" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$tmp/seed.json" \
    --ready-file "$tmp/ports" --log-level error >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
bc=$(sed -n 's/^bigcommerce=//p' "$tmp/ports"); jde=$(sed -n 's/^jde=//p' "$tmp/ports")
token=$(curl -s -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -d '{"username":"MLCINT","password":"mlcint-pass","deviceName":"bench"}' \
    "http://127.0.0.1:$jde/jderest/v2/tokenrequest" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["userInfo"]["token"])')
cat > "$tmp/browse.json" <<JSON
{"targetName":"F0901","targetType":"table","dataServiceType":"BROWSE",
 "returnControlIDs":"F0901.MCU|F0901.OBJ|F0901.SUB|F0901.PEC",
 "query":{"autoFind":true,"matchType":"MATCH_ALL","condition":[{"controlId":"F0901.OBJ",
 "operator":"EQUAL","value":[{"content":"4010","specialValueId":"LITERAL"}]}]}}
JSON

figs=""
run() { # key, label, ab args...
    local key="$1" label="$2"; shift 2
    local rps
    rps=$(ab -q -k -c 8 -n 5000 "$@" 2>/dev/null | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
    printf '%-48s %10s req/s\n' "$label" "${rps:-failed}"
    figs="$figs${figs:+,}\"$key\":${rps:-null}"
}
echo "machine: $(nproc) cores; 8 concurrent keep-alive clients, 5000 requests each"
run sim_bc_order_get_per_s "BigCommerce GET /v2/orders/{id}" -H 'X-Auth-Token: sim-token-northwind' \
    "http://127.0.0.1:$bc/stores/nwhg42/v2/orders/100"
run sim_bc_customers_per_s "BigCommerce GET /v3/customers?include=addresses" -H 'X-Auth-Token: sim-token-northwind' \
    "http://127.0.0.1:$bc/stores/nwhg42/v3/customers?include=addresses"
run sim_bc_orders_page_per_s "BigCommerce GET /v2/orders (line items embedded)" -H 'X-Auth-Token: sim-token-northwind' \
    "http://127.0.0.1:$bc/stores/nwhg42/v2/orders?include=consignments.line_items&limit=250"
run sim_ais_browse_per_s "AIS POST /v2/dataservice (F0901 BROWSE)" -T application/json -H 'Accept: application/json' \
    -H "jde-AIS-Auth: $token" -H 'jde-AIS-Auth-Device: bench' -p "$tmp/browse.json" \
    "http://127.0.0.1:$jde/jderest/v2/dataservice"
[ -z "${BENCH_JSON:-}" ] || printf '{%s}\n' "$figs" > "$BENCH_JSON"
