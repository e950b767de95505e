#!/usr/bin/env bash
# Benchmark: what the order flow spends against the BigCommerce quota, and
# how soon it posts, with the real daemon (mlc run) against mlc-sim on
# loopback. Prints figures; asserts nothing.
#
#   bench/orders.sh [BUILD_DIR]          (default build/release)
#
# The mapping is what a finance team writes: revenue by category with a few
# SKU exceptions, products in no mapped category (default revenue), clearing
# by gateway with one gateway unmapped (default clearing), some orders paid
# partly by gift certificate or store credit (bench/gen-orders.py gives the
# demo catalog its categories).
#
# 1. backlog: ORDERS paid orders are queued with `mlc sync orders --from-id
#    N`, then the daemon starts and posts them until the queue is idle.
#    Printed: the time from its start to the first document, documents
#    after 5 s / 15 s / 45 s, BigCommerce calls per posted order (all of
#    them, and by route), AIS calls per document, 429s, wall time, orders/s,
#    and the figures against the quota: the call rate, and the order rate
#    as a fraction of the quota's rate (100 % = one call per order at the
#    quota's full rate).
# 2. webhooks: WEBHOOK_ORDERS new orders are placed one at a time, RATE per
#    second, through the simulator's control API; each reaches the daemon
#    as a signed webhook. Printed: BigCommerce calls per posted order, AIS
#    calls per document, 429s.
#
# The quota is QUOTA requests per WINDOW_MS (default 50 per 10 s: the same
# 5 requests/s as BigCommerce's Standard plan, 150 per 30 s, in windows
# short enough for a run of a minute; QUOTA=150 WINDOW_MS=30000 is the
# Standard plan itself). Environment: ORDERS (300; ORDERS=1000 for the
# issue-9 backlog), WEBHOOK_ORDERS (60), RATE (webhook orders per second,
# 1), QUOTA, WINDOW_MS, BATCH (workers.batch_max; unset: the daemon's default), WORKERS (2), GATHER_MS
# (workers.gather_ms; unset: the daemon's default), TIMEOUT (900 s),
# BENCH_JSON (a file path: the figures are also written there as JSON, keys
# in bench/README.md).
set -u
set -o pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.bash
. "$here/bench/lib.bash"   # bench_finance_yaml; the helpers below are this script's own
cd "$here" || exit 2
build=${1:-build/release}
MLC="$here/$build/mlc"
SIM="$here/$build/mlc-sim"
ORDERS=${ORDERS:-300}
WEBHOOK_ORDERS=${WEBHOOK_ORDERS:-60}
RATE=${RATE:-1}
QUOTA=${QUOTA:-50}
WINDOW_MS=${WINDOW_MS:-10000}
BATCH=${BATCH:-}
WORKERS=${WORKERS:-2}
GATHER_MS=${GATHER_MS:-}
TIMEOUT=${TIMEOUT:-900}
BENCH_JSON=${BENCH_JSON:-}
FIRST_ID=2001
BC_TOKEN="sim-token-northwind-demo"
BC_CLIENT_SECRET="sim-secret-northwind-demo"
JDE_PASSWORD="northwind-demo-pass"
JE_ROUTE="POST /jderest/v3/orchestrator/MLC_AddJournalEntry"

for t in python3 curl; do
    command -v "$t" >/dev/null || { echo "bench/orders.sh: needs $t"; exit 2; }
done
[ -x "$MLC" ] && [ -x "$SIM" ] || { echo "bench/orders.sh: build $MLC and $SIM first (make)"; exit 2; }

tmp=$(mktemp -d)
sim_pid=""; mlc_pid=""; watch_pid=""
stop() { # PID
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}
cleanup() { stop "$watch_pid"; stop "$mlc_pid"; stop "$sim_pid"; if [ -n "${BENCH_KEEP:-}" ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/orders.sh: $*" >&2; [ -f "$tmp/mlc.log" ] && tail -n 20 "$tmp/mlc.log" >&2; exit 1; }
wait_until() { # TENTHS CMD...
    local n="$1"; shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}
ctl() { # PORT METHOD PATH [BODY]
    curl -sS --max-time 10 -X "$2" -H 'Content-Type: application/json' \
        ${4:+--data-binary "$4"} "http://127.0.0.1:$1$3"
}
mlcq() { "$MLC" "$@" --config "$tmp/mlc.yaml"; }

# ---- simulators -----------------------------------------------------------
python3 bench/gen-orders.py "$ORDERS" "$FIRST_ID" "$QUOTA" "$WINDOW_MS" "$tmp/bc.json" ||
    die "cannot generate the seed"
"$SIM" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$tmp/bc.json" \
    --seed sim/seed/demo-jde.json --ready-file "$tmp/ports" --log-level error \
    >"$tmp/sim.log" 2>&1 &
sim_pid=$!
ports_ready() { grep -q '^jde=' "$tmp/ports" 2>/dev/null; }
wait_until 100 ports_ready || die "mlc-sim did not start"
bc=$(sed -n 's/^bigcommerce=//p' "$tmp/ports"); jde=$(sed -n 's/^jde=//p' "$tmp/ports")

# ---- connector --------------------------------------------------------------
"$MLC" init "$tmp/mlc.yaml" >/dev/null 2>&1 || die "mlc init failed"
port=$((20000 + RANDOM % 40000))
cat > "$tmp/mlc.yaml" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$bc/stores/{store_hash}"
  token_ref: "bigcommerce_token"
  webhook_public_url: "http://127.0.0.1:$port/webhooks/bigcommerce"
  webhook_secret_ref: "bigcommerce_webhook_secret"
  client_secret_ref: "bigcommerce_client_secret"
  rate_reserve: 0
  timeout_ms: 10000
$(bench_finance_yaml "$jde")
orders:
  start: "2020-01-01T00:00:00Z"
store:
  url: "$tmp/mlc.db"
  master_key_file: "$tmp/mlc.key"
server:
  listen: "127.0.0.1:$port"
  threads: 2
schedule:
  reconcile_interval: 86400
workers:
  count: $WORKERS
  lease_s: 120
${BATCH:+  batch_max: $BATCH}
  retry_base_ms: 200
  retry_cap_ms: 2000
${GATHER_MS:+  gather_ms: $GATHER_MS}
EOF
"$MLC" config check "$tmp/mlc.yaml" >/dev/null 2>&1 || { "$MLC" config check "$tmp/mlc.yaml"; die "the configuration does not validate"; }
cred() { printf '%s' "$2" | mlcq credentials set "$1" >/dev/null 2>&1 || die "credentials set $1"; }
cred bigcommerce "$BC_TOKEN"
cred jde "$JDE_PASSWORD"
cred webhook "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
cred client-secret "$BC_CLIENT_SECRET"

# ---- measuring helpers --------------------------------------------------------------
# Σ of a simulator's counters whose key contains PART (all: "").
csum() { # PORT PART
    ctl "$1" GET /__sim/counters | python3 -c '
import json, sys
print(sum(v for k, v in json.load(sys.stdin).items() if sys.argv[1] in k))' "$2"
}
# BigCommerce calls of the order routes (orders lists, refunds,
# transactions, products, fees, catalog products): all but hooks and store.
bc_job_calls() {
    ctl "$bc" GET /__sim/counters | python3 -c '
import json, sys
print(sum(v for k, v in json.load(sys.stdin).items()
          if ("/orders" in k and k != "GET /v2/orders/count") or "/catalog/" in k))'
}
by_route() {
    ctl "$bc" GET /__sim/counters | python3 -c '
import json, sys
print("; ".join("%s %d" % kv for kv in sorted(json.load(sys.stdin).items())))'
}
docs() { # distinct JDE documents in F0911
    ctl "$jde" GET /__sim/table/F0911 | python3 -c '
import json, sys
print(len({(r.get("F0911_DCT"), r.get("F0911_DOC")) for r in json.load(sys.stdin)["rows"]}))'
}
open_jobs() {
    mlcq jobs list --json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin) if j["state"] in ("ready", "running")))'
}
held_jobs() {
    mlcq jobs list --json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin) if j["state"] in ("held", "failed")))'
}
# Waits until no job is open (three polls 0.5 s apart) and, when given,
# until JDE holds WANT documents.
wait_idle() { # WANT
    local idle=0 deadline=$((SECONDS + TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$mlc_pid" 2>/dev/null || die "mlc run exited"
        if [ "$(open_jobs)" = 0 ] && { [ -z "${1:-}" ] || [ "$(docs)" -ge "$1" ]; }; then
            idle=$((idle + 1)); [ $idle -ge 3 ] && break
        else
            idle=0
        fi
        sleep 0.5
    done
}
# Watches the AIS simulator's journal-entry creates from now on, every 50
# ms, in the background: the time of the first one and the count at 5, 15
# and 45 s go to FILE as JSON once all are known (or when stopped).
watch_docs() { # FILE
    python3 - "$jde" "$JE_ROUTE" "$1" <<'PY' &
import json, signal, sys, time, urllib.request
port, route, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.monotonic()
first, marks = None, {}
def count():
    with urllib.request.urlopen("http://127.0.0.1:%s/__sim/counters" % port, timeout=5) as r:
        return json.load(r).get(route, 0)
def finish(*_):
    json.dump({"first_s": first, "at": marks}, open(out, "w"))
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
while True:
    t = time.monotonic() - t0
    n = count()
    if first is None and n > 0:
        first = round(t, 2)
    for mark in (5, 15, 45):
        if str(mark) not in marks and t >= mark:
            marks[str(mark)] = n
    if len(marks) == 3 and first is not None:
        finish()
    time.sleep(0.05)
PY
    watch_pid=$!
}
rate429() { grep -c 'msg="rate limited"' "$tmp/mlc.log"; }
ratio() { python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print("%.3f" % (a / b if b else 0))' "$1" "$2"; }
elapsed() { python3 -c 'import sys, time; print("%.1f" % (time.time() - float(sys.argv[1]) - float(sys.argv[2])))' "$1" "${2:-0}"; }
json_put() { # KEY VALUE (a JSON number or null)
    printf '%s\t%s\n' "$1" "$2" >> "$tmp/figures.tsv"
}

req_s=$(python3 -c "print('%.2f' % ($QUOTA * 1000 / $WINDOW_MS))")
echo "machine: $(nproc) cores; quota $QUOTA requests / $WINDOW_MS ms ($req_s req/s);" \
     "workers $WORKERS${BATCH:+, batch_max $BATCH}${GATHER_MS:+, gather_ms $GATHER_MS} (unset: the daemon's defaults)"
json_put quota "$QUOTA"; json_put window_ms "$WINDOW_MS"; json_put workers "$WORKERS"
json_put batch_max "${BATCH:-null}"; json_put cores "$(nproc)"

# ---- 1. backlog -------------------------------------------------------------------
# The backlog is queued first (`mlc sync orders` talks to no daemon), then
# the daemon starts: the clock runs from its start. Its first reconcile
# sweep sees the same orders since the go-live cutover and coalesces with
# the queued jobs.
mlcq sync orders --from-id "$FIRST_ID" >"$tmp/sync.log" 2>&1 || { cat "$tmp/sync.log"; die "mlc sync orders failed"; }
ctl "$bc" POST /__sim/counters/reset >/dev/null; ctl "$jde" POST /__sim/counters/reset >/dev/null
# The backfill spent part of the current quota window, which a daemon
# starting now cannot know of (its first answer would be a 429): start it
# in a fresh window, as after a backfill run a while ago.
sleep $(( WINDOW_MS / 1000 + 1 ))
d0=0; r0=0
t0=$(date +%s.%N)
watch_docs "$tmp/watch.json"
"$MLC" run --config "$tmp/mlc.yaml" >"$tmp/mlc.log" 2>&1 &
mlc_pid=$!
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz")" = 200 ]; }
wait_until 150 healthy || die "mlc run did not become healthy"
# The hook is registered once the daemon logs it (asking the API would
# spend the store's quota behind the daemon's back).
hooked() { grep -q 'msg="hook created"' "$tmp/mlc.log"; }
wait_until 300 hooked || die "the daemon did not register its webhook"
wait_idle $((d0 + ORDERS))
wall=$(elapsed "$t0" 1.0)   # the idle wait's last second is not work
stop "$watch_pid"; watch_pid=""
posted=$(( $(docs) - d0 ))
bc_all=$(csum "$bc" ""); bc_jobs=$(bc_job_calls); ais_all=$(csum "$jde" "/jderest")
bc_products=$(csum "$bc" "/v3/catalog/products")
n429=$(( $(rate429) - r0 ))
read -r first at5 at15 at45 < <(python3 -c '
import json, sys
try:
    w = json.load(open(sys.argv[1]))
except Exception:
    w = {"first_s": None, "at": {}}
f = lambda v: "null" if v is None else v
print(f(w["first_s"]), f(w["at"].get("5")), f(w["at"].get("15")), f(w["at"].get("45")))' "$tmp/watch.json")
echo
echo "backlog: $ORDERS paid orders queued by mlc sync orders --from-id $FIRST_ID; mlc run from its start until idle"
printf '  %-44s %s (held or failed jobs: %s)\n' "documents posted" "$posted" "$(held_jobs)"
printf '  %-44s %s s\n' "time to the first document" "$first"
printf '  %-44s %s / %s / %s\n' "documents after 5 s / 15 s / 45 s" "$at5" "$at15" "$at45"
printf '  %-44s %s = %s per order\n' "BigCommerce calls, all" "$bc_all" "$(ratio "$bc_all" "$posted")"
printf '  %-44s %s = %s per order\n' "BigCommerce calls on order routes" "$bc_jobs" "$(ratio "$bc_jobs" "$posted")"
printf '  %-44s %s\n' "catalog products calls (categories)" "$bc_products"
printf '  %-44s %s = %s per document\n' "AIS calls (login, lookups, creates)" "$ais_all" "$(ratio "$ais_all" "$posted")"
printf '  %-44s %s\n' "429 responses" "$n429"
printf '  %-44s %s\n' "BigCommerce calls by route" "$(by_route)"
printf '  %-44s %s s = %s orders/s\n' "wall time (daemon start to idle)" "$wall" "$(ratio "$posted" "$wall")"
read -r call_pct order_pct bound_pct < <(python3 - "$bc_all" "$wall" "$QUOTA" "$WINDOW_MS" "$posted" <<'PY'
import math, sys
calls, wall, quota, window, posted = (float(a) for a in sys.argv[1:])
rate = quota * 1000.0 / window
# A fixed window grants the quota at once: C calls need ceil(C/Q) windows,
# the last one partly used; the quota-bound time is (ceil(C/Q) - 1) windows.
bound = (math.ceil(calls / quota) - 1) * window / 1000.0
print("%.0f %.0f %.0f" % (100.0 * calls / wall / rate, 100.0 * posted / wall / rate,
                          100.0 * bound / wall if wall else 0))
PY
)
printf '  %-44s %s %% of %s req/s\n' "call rate vs the quota" "$call_pct" "$req_s"
printf '  %-44s %s %% (100 %% = one call per order at the quota)\n' "order rate vs the quota-bound rate" "$order_pct"
printf '  %-44s %s %%\n' "quota-bound share of the wall time" "$bound_pct"
json_put backlog_orders "$ORDERS"; json_put backlog_documents "$posted"
json_put backlog_first_document_s "$first"
json_put backlog_documents_at_5s "$at5"; json_put backlog_documents_at_15s "$at15"
json_put backlog_documents_at_45s "$at45"
json_put backlog_bc_calls "$bc_all"; json_put backlog_bc_calls_per_order "$(ratio "$bc_all" "$posted")"
json_put backlog_bc_order_route_calls_per_order "$(ratio "$bc_jobs" "$posted")"
json_put backlog_bc_products_calls "$bc_products"
json_put backlog_ais_calls_per_document "$(ratio "$ais_all" "$posted")"
json_put backlog_429 "$n429"; json_put backlog_wall_s "$wall"
json_put backlog_orders_per_s "$(ratio "$posted" "$wall")"
json_put backlog_call_rate_pct "$call_pct"; json_put backlog_quota_bound_pct "$order_pct"
json_put backlog_quota_time_pct "$bound_pct"

# ---- 2. webhooks --------------------------------------------------------------------
ctl "$bc" POST /__sim/counters/reset >/dev/null; ctl "$jde" POST /__sim/counters/reset >/dev/null
d0=$(docs); r0=$(rate429)
next=$((FIRST_ID + ORDERS))
python3 bench/gen-orders.py "$WEBHOOK_ORDERS" "$next" "$QUOTA" "$WINDOW_MS" "$tmp/live.json" ||
    die "cannot generate the live orders"
python3 -c '
import json, sys
for o in json.load(open(sys.argv[1]))["bigcommerce"]["orders"]:
    print(json.dumps(o))' "$tmp/live.json" > "$tmp/live.lines"
t0=$(date +%s.%N)
# One order every 1/RATE s on a fixed schedule, whatever each call takes.
python3 - "$bc" "$RATE" "$tmp/live.lines" <<'PY' || die "the simulator refused an order"
import sys, time, urllib.request
port, rate, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
t0 = time.monotonic()
for i, line in enumerate(open(path)):
    delay = t0 + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    rq = urllib.request.Request("http://127.0.0.1:%s/__sim/orders" % port, data=line.encode(),
                                headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(rq, timeout=10).read()
PY
placed=$(elapsed "$t0")
wait_idle $((d0 + WEBHOOK_ORDERS))
wall=$(elapsed "$t0" 1.0)
posted=$(( $(docs) - d0 ))
bc_all=$(csum "$bc" ""); bc_jobs=$(bc_job_calls); ais_all=$(csum "$jde" "/jderest")
n429=$(( $(rate429) - r0 ))
echo
echo "webhooks: $WEBHOOK_ORDERS orders placed one at a time, $RATE per second (control API), each delivered as a webhook"
printf '  %-44s %s\n' "documents posted" "$posted"
printf '  %-44s %s = %s per order\n' "BigCommerce calls, all" "$bc_all" "$(ratio "$bc_all" "$posted")"
printf '  %-44s %s = %s per order\n' "BigCommerce calls on order routes" "$bc_jobs" "$(ratio "$bc_jobs" "$posted")"
printf '  %-44s %s = %s per document\n' "AIS calls" "$ais_all" "$(ratio "$ais_all" "$posted")"
printf '  %-44s %s\n' "BigCommerce calls by route" "$(by_route)"
printf '  %-44s %s\n' "429 responses" "$n429"
printf '  %-44s %s s (orders placed over %s s)\n' "wall time (first order to idle)" "$wall" "$placed"
json_put webhooks_orders "$WEBHOOK_ORDERS"; json_put webhooks_rate_per_s "$RATE"
json_put webhooks_documents "$posted"
json_put webhooks_bc_calls_per_order "$(ratio "$bc_all" "$posted")"
json_put webhooks_bc_order_route_calls_per_order "$(ratio "$bc_jobs" "$posted")"
json_put webhooks_ais_calls_per_document "$(ratio "$ais_all" "$posted")"
json_put webhooks_429 "$n429"; json_put webhooks_wall_s "$wall"
json_put gather_ms "${GATHER_MS:-null}"

if [ -n "$BENCH_JSON" ]; then
    python3 - "$tmp/figures.tsv" "$BENCH_JSON" <<'PY' || die "cannot write $BENCH_JSON"
import json, sys
out = {"bench": "orders"}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("\t", 1)
    out[k] = json.loads(v) if v not in ("", "null") else None
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
    f.write("\n")
PY
    echo; echo "figures written to $BENCH_JSON"
fi
