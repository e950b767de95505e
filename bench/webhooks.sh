#!/usr/bin/env bash
# Benchmark: how many signed webhooks the real `mlc run` accepts durably per
# second, and their latency, with bench/whload as the load generator. Loopback
# only, bounded request counts. Prints figures; asserts nothing.
#
#   bench/webhooks.sh [BUILD_DIR]        (default build/release; make bench)
#
# The daemon runs as in production: both webhook checks (the custom header
# and the Standard Webhooks signature), the shipped server and worker
# defaults, the simulators holding REAL_ORDERS paid orders (bench/gen-orders.py)
# at BigCommerce's Standard quota (150 requests / 30 s). Its first reconcile
# sweep queues those orders and the workers post them at the quota's pace
# during the whole measurement, as they would during a burst of webhooks.
# Every delivery is a new order ("store/order/created" for an order id of its
# own, with its own webhook-id), so each one stores an event AND enqueues a
# job: the endpoint's most expensive path.
#
#  1. warm-up: 1,000 deliveries;
#  2. capacity: REQUESTS deliveries, closed loop over CONNS keep-alive
#     connections (each sends its next delivery when its answer came);
#  3. at the target rate: REQUESTS deliveries offered at RATE/s (open loop;
#     latency counts from when a delivery was due, waiting included);
#  4. retries: the deliveries of 2 sent again (same webhook-ids, fresh
#     timestamps and signatures): all must answer "duplicate";
#  5. durability: the daemon is killed with SIGKILL, then every delivery
#     answered "stored" is looked up in the store's events table (sqlite3).
#
# Environment: REQUESTS (20000), CONNS (16), RATE (5000), REAL_ORDERS (2000).
# BENCH_JSON=FILE writes the figures there as one JSON object (keys: see
# bench/README.md).
set -u
# shellcheck source=bench/lib.bash
. "$(dirname "$0")/lib.bash"
bench_init webhooks "${1:-}"
tmp=${tmp:?}
REQUESTS=${REQUESTS:-20000}
CONNS=${CONNS:-16}
RATE=${RATE:-5000}
REAL_ORDERS=${REAL_ORDERS:-2000}
FIRST_ID=2001

# ---- simulators and daemon -------------------------------------------------------
python3 bench/gen-orders.py "$REAL_ORDERS" "$FIRST_ID" 150 30000 "$tmp/bc.json" ||
    bench_die "cannot generate the seed"
bench_sim_start "$tmp/bc.json"
port=$(free_port) || bench_die "no free port"
cfg="$tmp/mlc.yaml"; db="$tmp/mlc.db"
bench_config "$cfg" "$port" "$db" "" '"2020-01-01T00:00:00Z"'
bench_creds "$cfg"
bench_daemon "$cfg" "$tmp/mlc.log"
bench_ready "$port" >/dev/null || bench_die "mlc run did not become ready"
queued() { [ "$(sqlite3 "$db" 'select count(*) from jobs' 2>/dev/null || echo 0)" -ge "$REAL_ORDERS" ]; }
wait_until 300 queued || bench_die "the reconcile sweep did not queue the $REAL_ORDERS orders"

export WHLOAD_CLIENT_SECRET="$BC_CLIENT_SECRET" WHLOAD_HEADER_SECRET="$WEBHOOK_SECRET"
# load NAME PREFIX ORDER_BASE [whload options]: one run; its JSON in
# $tmp/NAME.json and on stdout.
load() {
    local name="$1" prefix="$2" base="$3"; shift 3
    "$WHLOAD" load --port "$port" --conns "$CONNS" --prefix "$prefix" \
        --order-base "$base" "$@" > "$tmp/$name.json" ||
        bench_die "whload failed ($name): $(cat "$tmp/$name.json")"
    cat "$tmp/$name.json"
}
# get JSON KEY: one value of a whload result.
get() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "machine: $(nproc) cores (load generator, daemon and simulators share them);" \
     "$CONNS keep-alive connections; $REQUESTS deliveries a run"
load warm "warm-$$" 100000000 --requests 1000 >/dev/null
load cap "cap-$$" 200000000 --requests "$REQUESTS" >/dev/null
load at "rate-$$" 300000000 --requests "$REQUESTS" --rate "$RATE" >/dev/null
load dup "cap-$$" 200000000 --requests "$REQUESTS" >/dev/null
cap=$(<"$tmp/cap.json"); at=$(<"$tmp/at.json"); dup=$(<"$tmp/dup.json")
rss=$(rss_kb "$MLC_PID")

# ---- durability: SIGKILL, then count what the store holds -------------------------
kill -KILL "$MLC_PID" 2>/dev/null; wait "$MLC_PID" 2>/dev/null
rows() { sqlite3 "$db" "select count(*) from events where dedupe_key like 'bc:id:$1-%'"; }
stored=$(( $(get "$cap" stored) + $(get "$at" stored) ))
found=$(( $(rows "cap-$$") + $(rows "rate-$$") ))

printf '\n%-52s %s\n' "closed loop, new deliveries:" "$cap"
printf '%-52s %s\n' "open loop at $RATE/s, new deliveries:" "$at"
printf '%-52s %s\n\n' "closed loop, the same deliveries again:" "$dup"
bench_fig webhook_accepts_per_s "$(get "$cap" accepted_per_s)"
bench_fig webhook_p50_ms "$(get "$cap" p50_ms)"
bench_fig webhook_p99_ms "$(get "$cap" p99_ms)"
bench_fig webhook_rate_offered "$RATE"
bench_fig webhook_rate_achieved "$(get "$at" accepted_per_s)"
bench_fig webhook_rate_p50_ms "$(get "$at" p50_ms)"
bench_fig webhook_rate_p99_ms "$(get "$at" p99_ms)"
bench_fig webhook_dup_accepts_per_s "$(get "$dup" accepted_per_s)"
bench_fig webhook_dup_p99_ms "$(get "$dup" p99_ms)"
bench_fig webhook_dup_answered_duplicate "$(get "$dup" duplicate)"
bench_fig webhook_not_accepted "$(( $(get "$cap" other) + $(get "$cap" errors) + $(get "$at" other) + $(get "$at" errors) + $(get "$dup" other) + $(get "$dup" errors) ))"
bench_fig webhook_stored "$stored"
bench_fig webhook_stored_missing_after_kill "$(( stored - found ))"
bench_fig webhook_conns "$CONNS"
bench_fig webhook_requests "$REQUESTS"
bench_fig webhook_daemon_rss_kb "$rss"
bench_emit
