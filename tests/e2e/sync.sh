#!/usr/bin/env bash
# End-to-end: `mlc sync orders` (the backfill) against mlc-sim over loopback
# with a temp SQLite store: one order.sync job per order, a re-run resumes
# from its checkpoint and adds nothing, --since filters by creation date,
# --restart coalesces with the waiting jobs, a run interrupted with SIGINT
# (slowed by a simulator latency fault) resumes without duplicates, and the
# go-live cutover bounds every range (a range before it is refused).
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init sync
SEED="$ROOT/sim/seed/bigcommerce.json"

cfg="$tmp/mlc.yaml"
db="$tmp/mlc.db"
N_ORDERS=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bigcommerce"]["orders"]))' "$SEED")

# ---- simulator ----------------------------------------------------------------
require "mlc-sim is up" sim_start --bigcommerce 127.0.0.1:0 --seed "$SEED" --log-level warn
port="$BCP"
note "mlc-sim: BigCommerce on $port"
ctl() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
            -X "$1" -d "$3" "http://127.0.0.1:$port/__sim$2"; }

# ---- configuration and token --------------------------------------------------
require "mlc init writes a base config" mlc_init_base
yaml_set "$tmp/base.yaml" "$cfg" store_hash='"nwhg42"' \
    api_base_url="\"http://127.0.0.1:$port/stores/{store_hash}\"" url="\"$db\""
check "config check accepts the simulator settings" \
    sh -c '"$0" config check "$1" >/dev/null 2>&1' "$MLC" "$cfg"
require "BigCommerce token stored" cred_set sim-token-northwind bigcommerce

# jobs_summary: "<jobs> <distinct keys>" of order.sync jobs in the store.
jobs_summary() {
    "$MLC" jobs list --config "$cfg" --json 2>/dev/null | python3 -c '
import json, sys
j = [x for x in json.load(sys.stdin) if x["kind"] == "order.sync"]
print(len(j), len({x["key"] for x in j}))'
}
has_keys() { # has_keys KEY... : every key has a job
    "$MLC" jobs list --config "$cfg" --json 2>/dev/null | python3 -c '
import json, sys
keys = {x["key"] for x in json.load(sys.stdin) if x["kind"] == "order.sync"}
sys.exit(0 if all(k in keys for k in sys.argv[1:]) else 1)' "$@"
}
backfill() { "$MLC" sync orders --config "$cfg" "$@"; }

# ---- --from-id ----------------------------------------------------------------
backfill --from-id 1 >"$tmp/run1.out" 2>"$tmp/run1.err"; rc=$?
check "sync --from-id 1 exits 0" [ "$rc" = 0 ]
check "one job per order ($N_ORDERS)" [ "$(jobs_summary)" = "$N_ORDERS $N_ORDERS" ]
check "the jobs are order:100 .. order:105" has_keys order:100 order:101 order:102 order:103 order:104 order:105
check "progress lines on a non-terminal" grep -q "orders (after order" "$tmp/run1.err"
check "the summary names the checkpoint" grep -q "checkpoint backfill:orders:from=1" "$tmp/run1.out"

backfill --from-id 1 >"$tmp/run2.out" 2>"$tmp/run2.err"; rc=$?
check "re-run exits 0" [ "$rc" = 0 ]
check "re-run resumes after the last order" grep -q "resuming backfill:orders:from=1 after order 105" "$tmp/run2.err"
check "re-run enqueues nothing new" grep -q "^enqueued 0 order.sync jobs" "$tmp/run2.out"
check "still one job per order" [ "$(jobs_summary)" = "$N_ORDERS $N_ORDERS" ]

backfill --from-id 1 --restart >"$tmp/run3.out" 2>&1; rc=$?
check "--restart re-reads everything and coalesces" \
    sh -c '[ "$0" = 0 ] && grep -q "^enqueued 0 order.sync jobs ($1 already waiting)" "$2"' \
    "$rc" "$N_ORDERS" "$tmp/run3.out"
check "still one job per order after --restart" [ "$(jobs_summary)" = "$N_ORDERS $N_ORDERS" ]

# ---- usage errors -------------------------------------------------------------
backfill >/dev/null 2>&1; rc=$?
check "neither --since nor --from-id: usage error (2)" [ "$rc" = 2 ]
backfill --since yesterday >/dev/null 2>"$tmp/bad.err"; rc=$?
check "a bad --since is refused (2)" sh -c '[ "$0" = 2 ] && grep -q -- "--since" "$1"' "$rc" "$tmp/bad.err"

# ---- --since (fresh store) ----------------------------------------------------
rm -f "$db" "$db-wal" "$db-shm"
cred_set sim-token-northwind bigcommerce
backfill --since 2026-11-27 >"$tmp/since.out" 2>&1; rc=$?
check "sync --since 2026-11-27 exits 0" [ "$rc" = 0 ]
# Created on or after 2026-11-27: 103, 104, 105.
check "--since enqueues the orders created since the date (3)" [ "$(jobs_summary)" = "3 3" ]
check "--since: 103, 104 and 105" has_keys order:103 order:104 order:105

# ---- interrupted, then resumed (fresh store) ------------------------------------
rm -f "$db" "$db-wal" "$db-shm"
cred_set sim-token-northwind bigcommerce
check "latency fault set" [ "$(ctl POST /faults '{"latency_ms": 400}')" = 200 ]
# Run mlc itself in the background (not a shell function: $! must be mlc).
"$MLC" sync orders --config "$cfg" --from-id 1 --page-size 1 >"$tmp/int.out" 2>"$tmp/int.err" &
bpid=$!; e2e_track "$bpid"
# Wait for the first committed page, then interrupt.
for _ in $(seq 1 100); do grep -q "orders (after order" "$tmp/int.err" 2>/dev/null && break; sleep 0.1; done
kill -INT "$bpid" 2>/dev/null
rc=""
for _ in $(seq 1 150); do
    if ! kill -0 "$bpid" 2>/dev/null; then wait "$bpid"; rc=$?; break; fi
    sleep 0.1
done
[ -n "$rc" ] || { kill_wait "$bpid"; rc=timeout; }
check "SIGINT stops the backfill with status 130" [ "$rc" = 130 ]
check "it says how to resume" grep -q "run the same command again to resume" "$tmp/int.err"
read -r jobs keys <<<"$(jobs_summary)"
check "interrupted after some orders, before all ($jobs of $N_ORDERS)" \
    sh -c '[ "$0" -ge 1 ] && [ "$0" -lt "$1" ] && [ "$0" = "$2" ]' "$jobs" "$N_ORDERS" "$keys"
check "latency fault reset" [ "$(ctl POST /faults '{"reset": true}')" = 200 ]
backfill --from-id 1 --page-size 1 >"$tmp/res.out" 2>"$tmp/res.err"; rc=$?
check "the re-run completes (exit 0)" [ "$rc" = 0 ]
check "the re-run resumed from the checkpoint" grep -q "^mlc sync: resuming" "$tmp/res.err"
check "after resuming: one job per order, no duplicates" [ "$(jobs_summary)" = "$N_ORDERS $N_ORDERS" ]
check "the re-run enqueued only the rest" \
    grep -q "^enqueued $((N_ORDERS - jobs)) order.sync jobs (0 already waiting)" "$tmp/res.out"

# ---- the go-live cutover (fresh store) -------------------------------------------
rm -f "$db" "$db-wal" "$db-shm"
cred_set sim-token-northwind bigcommerce
yaml_set "$cfg" "$tmp/cut.yaml" start='"2026-11-27T00:00:00Z"'
"$MLC" sync orders --config "$tmp/cut.yaml" --since 2026-11-26 >"$tmp/cut1.out" 2>"$tmp/cut1.err"; rc=$?
check "--since before orders.start is refused (1)" [ "$rc" = 1 ]
check "the refusal names orders.start and the file" grep -q -- \
    "--since 2026-11-26 is before the go-live cutover (orders.start 2026-11-27T00:00:00Z in $tmp/cut.yaml)" \
    "$tmp/cut1.err"
check "nothing enqueued by the refused run" [ "$(jobs_summary)" = "0 0" ]
"$MLC" sync orders --config "$tmp/cut.yaml" --from-id 1 >"$tmp/cut2.out" 2>"$tmp/cut2.err"; rc=$?
check "--from-id with a cutover exits 0" [ "$rc" = 0 ]
check "it says orders before the cutover are left out" \
    grep -q "only orders created at or after the go-live cutover" "$tmp/cut2.err"
# Created on or after 2026-11-27: 103, 104, 105 only.
check "--from-id enqueues only the orders created since the cutover (3)" [ "$(jobs_summary)" = "3 3" ]
check "--from-id: 103, 104 and 105" has_keys order:103 order:104 order:105
yaml_set "$tmp/cut.yaml" "$tmp/cutid.yaml" '#start_id'=104
"$MLC" sync orders --config "$tmp/cutid.yaml" --from-id 100 >/dev/null 2>"$tmp/cut3.err"; rc=$?
check "--from-id below orders.start_id is refused (1), naming it" \
    sh -c '[ "$0" = 1 ] && grep -q "below the go-live cutover (orders.start_id 104" "$1"' "$rc" "$tmp/cut3.err"

# ---- the token never shows ------------------------------------------------------
check "no token in any output" sh -c '! grep -rq "sim-token-northwind" "$0"/*.out "$0"/*.err' "$tmp"

e2e_done
