#!/usr/bin/env bash
# Benchmark: the real `mlc run`'s memory (VmRSS) idle and with a 100k-job
# backlog, and its start-up time (exec to the first /readyz 200) with an empty
# store and with that backlog. Loopback only. Prints figures; asserts nothing.
#
#   bench/footprint.sh [BUILD_DIR]        (default build/release; make bench)
#
# The daemon runs against the simulators (the demo JDE; a BigCommerce store
# with REAL_ORDERS generated paid orders, bench/gen-orders.py, at the Standard
# quota of 150 requests / 30 s), with the shipped server and worker defaults.
#
#  1. empty store, go-live cutover now (every simulated order is before it:
#     nothing to post). One start creates the store; then STARTS starts,
#     each timed from the fork of `mlc run` to its first /readyz 200 (polled
#     every 2 ms by bench/whload) and killed once ready (see starts()).
#  2. idle: one more start; VmRSS sampled every 0.5 s for IDLE_S seconds
#     (the scheduler's first runs included: hook check, reconcile, AIS
#     login); the last sample is the figure.
#  3. backlog: a second store, cutover before the orders. `mlc sync orders`
#     queues the REAL_ORDERS real orders (the product's own path); the rest
#     of BACKLOG order.sync jobs is inserted with sqlite3 in one transaction,
#     rows exactly as the store writes them, all due now, queued after the
#     real ones and for order ids the simulator does not have. One start is
#     held for HOLD_S seconds while the workers post real orders at the
#     quota's pace (4 workers x batch_max 100 in flight: they never get to
#     the others within the window): VmRSS sampled every 0.5 s, the highest
#     kept. Then STARTS timed starts on that store, as in 1.
#
# Environment: BACKLOG (100000), STARTS (5), IDLE_S (10), HOLD_S (20),
# REAL_ORDERS (2000). BENCH_JSON=FILE writes the figures there as one JSON
# object (keys: see bench/README.md).
set -u
# shellcheck source=bench/lib.bash
. "$(dirname "$0")/lib.bash"
bench_init footprint "${1:-}"
tmp=${tmp:?}
BACKLOG=${BACKLOG:-100000}
STARTS=${STARTS:-5}
IDLE_S=${IDLE_S:-10}
HOLD_S=${HOLD_S:-20}
REAL_ORDERS=${REAL_ORDERS:-2000}
FIRST_ID=2001
[ "$BACKLOG" -ge "$REAL_ORDERS" ] || bench_die "BACKLOG must be at least REAL_ORDERS"

python3 bench/gen-orders.py "$REAL_ORDERS" "$FIRST_ID" 150 30000 "$tmp/bc.json" ||
    bench_die "cannot generate the seed"
bench_sim_start "$tmp/bc.json"
port=$(free_port) || bench_die "no free port"

# start_ready CFG LOG: starts the daemon, waits for /readyz 200; sets
# START_MS (fork to ready, ms) and leaves MLC_PID running.
start_ready() {
    bench_daemon "$1" "$2"
    START_MS=$(bench_ready "$port") || { tail -n 20 "$2" >&2; bench_die "mlc run did not become ready"; }
}
# starts CFG N: N timed starts; prints the times (ms). Each daemon is killed
# (SIGKILL) once ready: a SIGTERM waits for the start-up's scheduler tasks
# (hook check, reconcile sweep), up to seconds at the quota, and a graceful
# stop hands the running jobs back with a retry delay, which would reorder
# the backlog.
starts() {
    for _ in $(seq 1 "$2"); do
        start_ready "$1" "$tmp/start.log"
        echo "$START_MS"
        kill -KILL "$MLC_PID" 2>/dev/null; wait "$MLC_PID" 2>/dev/null
    done
}
median() { python3 -c 'import statistics,sys; print("%.1f" % statistics.median(float(a) for a in sys.argv[1:]))' "$@"; }
# sample SECONDS: VmRSS of MLC_PID every 0.5 s; sets RSS_LAST, RSS_MAX (kB).
sample() {
    local v
    RSS_MAX=0; RSS_LAST=0
    for _ in $(seq 1 $(( $1 * 2 ))); do
        sleep 0.5
        v=$(rss_kb "$MLC_PID"); [ -n "$v" ] || bench_die "mlc run exited"
        RSS_LAST=$v; [ "$v" -gt "$RSS_MAX" ] && RSS_MAX=$v
    done
}
jobs_in() { sqlite3 "$1" "select count(*) from jobs where state = '$2'"; }

echo "machine: $(nproc) cores; $STARTS timed starts a store; backlog $BACKLOG jobs"

# ---- 1, 2: empty store ------------------------------------------------------------
mkdir -p "$tmp/a"
bench_config "$tmp/a/mlc.yaml" "$port" "$tmp/a/mlc.db"
bench_creds "$tmp/a/mlc.yaml"
start_ready "$tmp/a/mlc.yaml" "$tmp/a/first.log"; bench_stop "$MLC_PID"
# shellcheck disable=SC2207
empty=($(starts "$tmp/a/mlc.yaml" "$STARTS"))
echo "start-up, empty store (ms): ${empty[*]}"
start_ready "$tmp/a/mlc.yaml" "$tmp/a/idle.log"
sample "$IDLE_S"
idle_last=$RSS_LAST; idle_max=$RSS_MAX; idle_hwm=$(rss_kb "$MLC_PID" VmHWM)
bench_stop "$MLC_PID"
echo "idle: VmRSS $idle_last kB after $IDLE_S s (highest $idle_max kB, VmHWM $idle_hwm kB)"

# ---- 3: a 100k backlog --------------------------------------------------------------
mkdir -p "$tmp/b"
db="$tmp/b/mlc.db"
bench_config "$tmp/b/mlc.yaml" "$port" "$db" "" '"2020-01-01T00:00:00Z"'
bench_creds "$tmp/b/mlc.yaml"
"$MLC" sync orders --from-id "$FIRST_ID" --config "$tmp/b/mlc.yaml" >"$tmp/b/sync.log" 2>&1 ||
    { cat "$tmp/b/sync.log" >&2; bench_die "mlc sync orders failed"; }
synced=$(jobs_in "$db" ready)
t0=$EPOCHREALTIME
# The row job_insert (src/store/store_sqlite.c) writes: payload NULL, run_at,
# created_at and updated_at now in Unix ms, the other columns their defaults.
if [ "$BACKLOG" -gt "$synced" ]; then
    sqlite3 "$db" <<SQL || bench_die "cannot insert the backlog"
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (
  SELECT $((FIRST_ID + synced)) UNION ALL SELECT i + 1 FROM n WHERE i < $((FIRST_ID + BACKLOG - 1)))
INSERT INTO jobs (kind, key, payload, state, run_at, created_at, updated_at)
SELECT 'order.sync', 'order:' || i, NULL, 'ready', $(date +%s%3N), $(date +%s%3N), $(date +%s%3N)
  FROM n;
COMMIT;
SQL
fi
insert_s=$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$EPOCHREALTIME")
queued=$(jobs_in "$db" ready)
echo "backlog: $synced jobs from mlc sync orders, $((queued - synced)) inserted in $insert_s s: $queued ready"
start_ready "$tmp/b/mlc.yaml" "$tmp/b/hold.log"
first_ms=$START_MS
done0=$(jobs_in "$db" "done")
sample "$HOLD_S"
bl_last=$RSS_LAST; bl_max=$RSS_MAX; bl_hwm=$(rss_kb "$MLC_PID" VmHWM)
posted=$(( $(jobs_in "$db" "done") - done0 ))
bench_stop "$MLC_PID"
echo "backlog: VmRSS highest $bl_max kB over $HOLD_S s (last $bl_last kB, VmHWM $bl_hwm kB);" \
     "$posted jobs done meanwhile"
# shellcheck disable=SC2207
loaded=($(starts "$tmp/b/mlc.yaml" "$STARTS"))
echo "start-up, $queued-job backlog (ms): ${loaded[*]} (the first start: $first_ms)"
echo

bench_fig startup_empty_ms "$(median "${empty[@]}")"
bench_fig startup_backlog_ms "$(median "${loaded[@]}")"
bench_fig rss_idle_kb "$idle_last"
bench_fig rss_idle_max_kb "$idle_max"
bench_fig rss_idle_hwm_kb "$idle_hwm"
bench_fig rss_backlog_kb "$bl_max"
bench_fig rss_backlog_hwm_kb "$bl_hwm"
bench_fig backlog_jobs "$queued"
bench_fig backlog_jobs_done_while_sampled "$posted"
bench_fig backlog_store_mb "$(python3 -c 'import os,sys; print("%.1f" % (sum(os.path.getsize(f) for f in sys.argv[1:] if os.path.exists(f)) / 1048576))' "$db" "$db-wal")"
bench_fig startup_runs "$STARTS"
bench_emit
