#!/usr/bin/env bash
# Benchmark: several `mlc run` processes on one store (issue 10). Prints
# figures; asserts nothing. Not part of `make bench` (a full run takes
# about 40 minutes): `make bench-scale`.
#
#   bench/scale.sh [BUILD_DIR]         (default build/release)
#
# Each run: a fresh mlc-sim (bench/gen-orders.py's ORDERS paid orders and
# its mapping, as in bench/orders.sh; AIS orchestrations answer in AIS_MS),
# a fresh store, and N processes, each with its own configuration file
# (own listen port, the same store.url and master key) and its own log.
# Credentials live in the store: set once before the processes start.
#
# 1. backlog: the ORDERS orders are queued with `mlc sync orders`, the
#    quota window restarts, then the N processes start together and post
#    until no job is open. The clock runs from the first start to the last
#    posted ledger row (the store's own millisecond stamp).
# 2. webhooks: WEBHOOK_ORDERS new orders are placed, RATE per second,
#    through the simulator's control API; each reaches the processes as a
#    signed webhook through tests/e2e/lib/lb.py, a round-robin balancer on one
#    public URL (the simulator delivers a hook to one destination; the
#    leader registers the balancer's URL). The latency of an order runs
#    from its placement to its ledger row's posted time, so it includes
#    workers.gather_ms (10 s by default): the wait that lets orders arriving
#    together share a batch.
#
# Case (a): an enterprise-like quota that does not bind (QUOTA_A per
# WINDOW_A_MS, default 7,500 per 30 s), one run per process count in PROCS.
# Case (b): the Standard quota (QUOTA_B per WINDOW_B_MS, 150 per 30 s) with
# B_PROCS processes (default: the largest of PROCS).
#
# Printed per run: orders/s, BigCommerce calls per order, AIS calls per
# document, 429s, p50/p99 webhook-to-posted, the peak RSS (VmHWM) of each
# process, AIS calls/s and the AIS simulator's concurrency; for case (b)
# the share of the quota-bound rate. Then a table per case with the targets.
#
# The store (STORE_URL): unset, a private PostgreSQL server
# (tests/lib/pg-server: the script runs again inside it) when its binaries
# are installed, else SQLite (which takes one process only: runs with more
# are skipped); "sqlite" or "pg" choose;
# a postgresql:// URL uses that server: each run gets a database of its
# own, <its name>_<run>, created and dropped through STORE_ADMIN_URL
# (default STORE_URL; needs CREATEDB).
#
# Environment: ORDERS (5000), PROCS ("1 2 4"), CASES ("a b"), B_PROCS,
# AIS_MS (200), AIS_THREADS (0: a thread per connection, no limit; N: an
# AIS server that serves N calls at once), QUOTA_A, WINDOW_A_MS, QUOTA_B,
# WINDOW_B_MS, WORKERS (workers.count, 4: the daemon's default), BATCH
# (workers.batch_max; unset: the default, 250), GATHER_MS (workers.gather_ms;
# unset: the default), WEBHOOK_ORDERS (120), RATE (2 per second), TIMEOUT
# (seconds a phase may take, 3600), BC_EXTRA (YAML lines added to each
# process's bigcommerce section, e.g. "shared_budget: true"), MLC_BIN (the
# mlc binary; default BUILD_DIR/mlc), BENCH_JSON (a file: every figure as
# one JSON object, keys in bench/README.md), KEEP=1 keeps the temp dir
# (not the private server's: tests/lib/pg-server removes it).
# QUICK=1: a smoke run (500 orders, 20 webhook orders, case (b) at 50 per
# 10 s, the same 5 requests/s as the Standard plan).
set -u
set -o pipefail

STORE_URL=${STORE_URL:-}
# pg_binaries: the server binaries tests/lib/pg-server looks for are there
# (and, as root, the postgres user it runs them as).
pg_binaries() {
    local d
    for d in ${PG_BINDIR:-/usr/lib/postgresql/*/bin}; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then
            [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1
            return
        fi
    done
    return 1
}
# A private server: run again inside tests/lib/pg-server, which starts it,
# passes its URLs (MLC_TEST_PG_*) and stops it when this script ends.
if [ -z "${MLC_TEST_PG_URL:-}" ] && { [ -z "$STORE_URL" ] || [ "$STORE_URL" = pg ]; } && pg_binaries; then
    exec "$(dirname "$0")/../tests/lib/pg-server" bash "$0" "$@"
fi

# shellcheck source=bench/lib.bash
. "$(dirname "$0")/lib.bash"
bench_init scale "${1:-build/release}"
MLC=${MLC_BIN:-$MLC}

QUICK=${QUICK:-}
ORDERS=${ORDERS:-$([ -n "$QUICK" ] && echo 500 || echo 5000)}
WEBHOOK_ORDERS=${WEBHOOK_ORDERS:-$([ -n "$QUICK" ] && echo 20 || echo 120)}
PROCS=${PROCS:-1 2 4}
CASES=${CASES:-a b}
B_PROCS=${B_PROCS:-$(tr ' ' '\n' <<<"$PROCS" | sort -n | tail -n 1)}
AIS_MS=${AIS_MS:-200}
AIS_THREADS=${AIS_THREADS:-0}
QUOTA_A=${QUOTA_A:-7500}
WINDOW_A_MS=${WINDOW_A_MS:-30000}
QUOTA_B=${QUOTA_B:-$([ -n "$QUICK" ] && echo 50 || echo 150)}
WINDOW_B_MS=${WINDOW_B_MS:-$([ -n "$QUICK" ] && echo 10000 || echo 30000)}
WORKERS=${WORKERS:-4}
BATCH=${BATCH:-}
GATHER_MS=${GATHER_MS:-}
RATE=${RATE:-2}
TIMEOUT=${TIMEOUT:-3600}
BC_EXTRA=${BC_EXTRA:-}
STORE_URL=${STORE_URL:-}
FIRST_ID=2001

for t in python3 curl; do command -v "$t" >/dev/null || bench_die "needs $t"; done
[ -x "$MLC" ] || bench_die "no $MLC"

# ---- the store --------------------------------------------------------------------
# STORE is sqlite or pg; for pg, ADMIN_URL creates the run's databases and
# BASE_URL is the one each run's URL is made from.
need_pg=0
for n in $PROCS $B_PROCS; do [ "$n" -gt 1 ] && need_pg=1; done
PSQL=psql
case "$STORE_URL" in
    sqlite) STORE=sqlite ;;
    pg|"")
        if [ -n "${MLC_TEST_PG_URL:-}" ]; then
            STORE=pg; BASE_URL=$MLC_TEST_PG_URL; ADMIN_URL=$MLC_TEST_PG_ADMIN_URL
            PSQL="${MLC_TEST_PG_BINDIR:+$MLC_TEST_PG_BINDIR/}psql"
        elif [ "$STORE_URL" = pg ] || [ $need_pg = 1 ]; then
            bench_die "several processes need PostgreSQL: no server binaries (scripts/install-deps installs postgresql-15; or STORE_URL=postgresql://...)"
        else
            STORE=sqlite
        fi ;;
    postgres://*|postgresql://*)
        STORE=pg; BASE_URL=$STORE_URL; ADMIN_URL=${STORE_ADMIN_URL:-$STORE_URL}
        command -v psql >/dev/null || bench_die "needs psql (postgresql-client)" ;;
    *) bench_die "STORE_URL: sqlite, pg or a postgresql:// URL, not '$STORE_URL'" ;;
esac
if [ $STORE = sqlite ]; then command -v sqlite3 >/dev/null || bench_die "needs sqlite3"; fi
CREATED_DBS=()

# PostgreSQL helpers. pg_psql URL ARGS...: no startup file, stop at the
# first error, notices off.
pg_psql() {
    local url="$1"; shift
    PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}
# pg_url_with_db URL NAME: URL naming database NAME instead.
pg_url_with_db() { sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$2"'#' <<<"$1"; }
# pg_url_user URL: the role a URL connects as (user= or user@), else "".
pg_url_user() {
    local u
    u=$(sed -nE 's#.*[?&]user=([^&]*).*#\1#p' <<<"$1")
    [ -n "$u" ] || u=$(sed -nE 's#^postgres(ql)?://([^:@/]+)(:[^@/]*)?@.*#\2#p' <<<"$1")
    printf '%s\n' "$u"
}
# pg_createdb NAME: (re)creates database NAME through ADMIN_URL, owned by
# BASE_URL's role; prints BASE_URL naming it.
pg_createdb() {
    local owner
    owner=$(pg_url_user "$BASE_URL")
    pg_psql "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$1\"" \
        -c "CREATE DATABASE \"$1\"${owner:+ OWNER \"$owner\"}" >/dev/null || return 1
    pg_url_with_db "$BASE_URL" "$1"
}
pg_dropdb() { pg_psql "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1; }

# store_for_run NAME DIR: a new, empty store; sets RUN_URL (its
# store.url) and, on PostgreSQL, RUN_DB (its database).
store_for_run() {
    RUN_DB=""
    if [ $STORE = sqlite ]; then RUN_URL="$2/mlc.db"; return 0; fi
    RUN_DB="$(sed -nE 's#^postgres(ql)?://[^/?]*/([^?]*).*#\2#p' <<<"$BASE_URL")"
    RUN_DB="${RUN_DB:-mlc}_$1"
    CREATED_DBS+=("$RUN_DB")
    RUN_URL=$(pg_createdb "$RUN_DB")
}

# store_sql URL QUERY: rows, tab-separated (the same SQL on both engines).
store_sql() {
    case "$1" in
        postgres://*|postgresql://*) pg_psql "$1" -A -t -F $'\t' -c "$2" ;;
        *) sqlite3 -batch -separator $'\t' -cmd '.timeout 10000' "$1" "$2" ;;
    esac
}

# ---- processes ----------------------------------------------------------------------
RUN_PIDS=()
scale_cleanup() {
    local p db
    for p in "${RUN_PIDS[@]}"; do bench_stop "$p"; done
    if [ "${STORE_URL#postgres}" != "$STORE_URL" ] && [ -z "${KEEP:-}" ]; then
        for db in "${CREATED_DBS[@]}"; do pg_dropdb "$db"; done
    fi
    if [ -n "${KEEP:-}" ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap scale_cleanup EXIT

stop_run() {
    local p
    for p in "${RUN_PIDS[@]}"; do bench_stop "$p"; done
    RUN_PIDS=()
}

ctl() { # PORT METHOD PATH [BODY]
    curl -sS --max-time 10 -X "$2" -H 'Content-Type: application/json' \
        ${4:+--data-binary "$4"} "http://127.0.0.1:$1$3"
}

# counters PORT EXPR: a Python expression over c, the simulator's counters.
counters() {
    ctl "$1" GET /__sim/counters | python3 -c '
import json, sys
c = json.load(sys.stdin)
s = lambda part: sum(v for k, v in c.items() if part in k)
print(eval(sys.argv[1]))' "$2"
}

calc() { python3 -c "import math, sys; print($1)"; }
ratio() { python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print("%.3f" % (a / b) if b else "null")' "$1" "$2"; }

FIG="$tmp/figures.tsv"
: > "$FIG"
fig() { printf '%s\t%s\n' "$1" "$2" >> "$FIG"; } # KEY VALUE (a number, null or text)
fig_of() { awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "null" : v) }' "$FIG"; }
# cpu_snap: "TOTAL IDLE" jiffies of the whole machine (idle + iowait).
cpu_snap() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
# proc_cpu_ticks PID: user + system jiffies of a process so far (0 if gone).
proc_cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0; }

# The JDE seed: the demo's, served by a thread per connection (or
# AIS_THREADS), so that only the orchestrations' own time bounds AIS.
python3 - "$AIS_THREADS" "$tmp/jde.json" <<'PY' || bench_die "cannot write the JDE seed"
import json, sys
seed = json.load(open("sim/seed/demo-jde.json"))
seed["jde"]["settings"]["threads"] = int(sys.argv[1])
json.dump(seed, open(sys.argv[2], "w"))
PY

# write_config FILE PORT STORE_URL DIR PUBLIC_URL: bench/orders.sh's mapping
# and settings (the whole quota is the bench's: rate_reserve 0).
write_config() {
    local extra=""
    [ -z "$BC_EXTRA" ] || extra="  ${BC_EXTRA//$'\n'/$'\n'  }"
    cat > "$1" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bigcommerce_token"
  webhook_public_url: "$5"
  webhook_secret_ref: "bigcommerce_webhook_secret"
  client_secret_ref: "bigcommerce_client_secret"
  rate_reserve: 0
  timeout_ms: 10000
$extra
$(bench_finance_yaml "$AISP")
orders:
  start: "2020-01-01T00:00:00Z"
store:
  url: "$3"
  master_key_file: "$4/mlc.key"
server:
  listen: "127.0.0.1:$2"
schedule:
  reconcile_interval: 86400
workers:
  count: $WORKERS
  lease_s: 120
  drain_timeout_s: 1
  retry_base_ms: 200
  retry_cap_ms: 2000
${BATCH:+  batch_max: $BATCH}
${GATHER_MS:+  gather_ms: $GATHER_MS}
EOF
    "$MLC" config check "$1" >/dev/null 2>&1 ||
        { "$MLC" config check "$1" >&2; bench_die "the configuration does not validate"; }
}

# ---- one run ------------------------------------------------------------------------

healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/healthz")" = 200 ]; }
ports_ready() { grep -q "^$2=" "$1" 2>/dev/null; }
n429() { cat "$dir"/p*.log | grep -c 'msg="rate limited"'; }
run_die() {
    local f
    for f in "$dir"/p*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
    bench_die "$*"
}
alive() {
    local i
    for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$i]}" 2>/dev/null || run_die "mlc run (process $((i + 1))) exited"
    done
}

# run_one CASE N QUOTA WINDOW_MS: one run; figures go to fig as CASE_pN_*.
run_one() {
    local case="$1" n="$2" quota="$3" window="$4"
    local name="${case}_p$n" i p url t0 open posted idle deadline
    local ports=() public lbp
    dir="$tmp/$name"
    mkdir -p "$dir"
    echo
    echo "== case ($case), $n process(es): quota $quota / $window ms, AIS orchestrations $AIS_MS ms," \
         "$ORDERS orders, workers $WORKERS x $n${BATCH:+, batch_max $BATCH}"

    # Simulators: a fresh store and JDE each run.
    python3 bench/gen-orders.py "$ORDERS" "$FIRST_ID" "$quota" "$window" "$dir/bc.json" ||
        bench_die "cannot generate the seed"
    "$SIM" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$dir/bc.json" \
        --seed "$tmp/jde.json" --ready-file "$dir/ports" --log-level error \
        >"$dir/sim.log" 2>&1 &
    RUN_PIDS+=("$!"); SIM_PID=$!
    wait_until 100 ports_ready "$dir/ports" jde || bench_die "mlc-sim did not start"
    BCP=$(sed -n 's/^bigcommerce=//p' "$dir/ports"); AISP=$(sed -n 's/^jde=//p' "$dir/ports")
    ctl "$AISP" POST /__sim/faults "{\"orch_latency_ms\": $AIS_MS}" >/dev/null ||
        bench_die "the AIS simulator refused orch_latency_ms"

    # One public URL in front of the processes.
    for i in $(seq 1 "$n"); do
        while :; do
            p=$(free_port) || bench_die "no free port"
            case " ${ports[*]} " in *" $p "*) ;; *) break ;; esac
        done
        ports+=("$p")
    done
    while :; do
        lbp=$(free_port) || bench_die "no free port"
        case " ${ports[*]} " in *" $lbp "*) ;; *) break ;; esac
    done
    python3 tests/e2e/lib/lb.py "$lbp" "${ports[@]}" >"$dir/lb.out" 2>"$dir/lb.log" &
    RUN_PIDS+=("$!")
    wait_until 100 grep -q listening "$dir/lb.out" || bench_die "tests/e2e/lib/lb.py did not start"
    public="http://127.0.0.1:$lbp/webhooks/bigcommerce"

    store_for_run "$name" "$dir" || bench_die "cannot create the store"
    url=$RUN_URL
    "$MLC" init "$dir/init.yaml" >/dev/null 2>&1 || bench_die "mlc init failed"
    for i in $(seq 1 "$n"); do write_config "$dir/p$i.yaml" "${ports[$((i - 1))]}" "$url" "$dir" "$public"; done
    WEBHOOK_SECRET=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
    cred() {
        printf '%s' "$2" | "$MLC" credentials set "$1" --config "$dir/p1.yaml" >"$dir/cred.log" 2>&1 ||
            { cat "$dir/cred.log" >&2; bench_die "credentials set $1"; }
    }
    cred bigcommerce "$BC_TOKEN"; cred jde "$JDE_PASSWORD"
    cred webhook "$WEBHOOK_SECRET"; cred client-secret "$BC_CLIENT_SECRET"

    # ---- 1. backlog
    "$MLC" sync orders --from-id "$FIRST_ID" --config "$dir/p1.yaml" >"$dir/sync.log" 2>&1 ||
        { cat "$dir/sync.log" >&2; bench_die "mlc sync orders failed"; }
    # The backfill spent part of the window: the processes start in a new one.
    ctl "$BCP" POST /__sim/rate "{\"quota\": $quota, \"window_ms\": $window}" >/dev/null
    ctl "$BCP" POST /__sim/counters/reset >/dev/null; ctl "$AISP" POST /__sim/counters/reset >/dev/null
    t0=$(python3 -c 'import time; print(int(time.time() * 1000))')
    read -r CPU_T0 CPU_I0 < <(cpu_snap); SIM_T0=$(proc_cpu_ticks "$SIM_PID")
    PIDS=()
    for i in $(seq 1 "$n"); do
        "$MLC" run --config "$dir/p$i.yaml" >"$dir/p$i.log" 2>&1 &
        RUN_PIDS+=("$!"); PIDS+=("$!")
    done
    for i in $(seq 1 "$n"); do
        wait_until 300 healthy "${ports[$((i - 1))]}" || run_die "process $i did not become healthy"
    done
    idle=0; deadline=$((SECONDS + TIMEOUT))
    while :; do
        alive
        open=$(store_sql "$url" "SELECT count(*) FROM jobs WHERE state IN ('ready', 'running')")
        posted=$(store_sql "$url" "SELECT count(DISTINCT entity) FROM ledger WHERE state = 'posted' AND entity LIKE 'order:%'")
        if [ "${open:-1}" = 0 ]; then idle=$((idle + 1)); else idle=0; fi
        [ $idle -ge 2 ] && [ "${posted:-0}" -ge "$ORDERS" ] && break
        [ $idle -ge 5 ] && break          # idle with orders missing: held or failed
        [ $SECONDS -lt $deadline ] || { echo "  (timeout after $TIMEOUT s)"; break; }
        sleep 1
    done
    cpu_figures "$name"
    backlog_figures "$name" "$n" "$quota" "$window" "$url" "$t0"

    # ---- 2. webhooks
    webhook_phase "$name" "$url"

    # ---- memory, then stop
    rss_figures "$name"
    stop_run
    if [ -n "$RUN_DB" ] && [ -z "${KEEP:-}" ]; then pg_dropdb "$RUN_DB"; fi
}

# cpu_figures NAME: how busy the machine was over the backlog (every core,
# every process: the daemons, PostgreSQL, the simulator, anything else),
# the CPU the daemons used, and the simulators' (both in one process).
cpu_figures() {
    local name="$1" t1 i1 ticks=0 pid hz
    read -r t1 i1 < <(cpu_snap)
    hz=$(getconf CLK_TCK)
    for pid in "${PIDS[@]}"; do ticks=$((ticks + $(proc_cpu_ticks "$pid"))); done
    fig "${name}_cpu_busy_pct" "$(calc "'%.0f' % (100.0 * (1 - ($i1 - $CPU_I0) / max(1, $t1 - $CPU_T0)))")"
    fig "${name}_daemon_cpu_s" "$(calc "'%.1f' % ($ticks / $hz)")"
    fig "${name}_sim_cpu_s" "$(calc "'%.1f' % (($(proc_cpu_ticks "$SIM_PID") - $SIM_T0) / $hz)")"
}

# backlog_figures NAME N QUOTA WINDOW URL T0_MS
backlog_figures() {
    local name="$1" n="$2" quota="$3" window="$4" url="$5" t0="$6"
    local held docs orders_posted t_end wall bc ais orch peak r429 line
    held=$(store_sql "$url" "SELECT count(*) FROM jobs WHERE state IN ('held', 'failed')")
    read -r docs orders_posted t_end < <(store_sql "$url" \
        "SELECT count(*), count(DISTINCT entity), max(updated_at) FROM ledger WHERE state = 'posted' AND entity LIKE 'order:%'" | tr '\t' ' ')
    if [ -z "$t_end" ] || [ "${orders_posted:-0}" = 0 ]; then run_die "nothing was posted"; fi
    wall=$(calc "'%.1f' % (($t_end - $t0) / 1000.0)")
    bc=$(counters "$BCP" 's("")'); r429=$(n429)
    read -r ais orch < <(counters "$AISP" 's("/jderest"), s("/orchestrator/")' | tr -d '(),')
    peak=$(ctl "$AISP" GET /__sim/load | python3 -c 'import json, sys; print(json.load(sys.stdin)["peak"])')
    fig "${name}_orders" "$orders_posted"; fig "${name}_documents" "$docs"
    fig "${name}_held_jobs" "$held"; fig "${name}_wall_s" "$wall"
    fig "${name}_orders_per_s" "$(ratio "$orders_posted" "$wall")"
    fig "${name}_bc_calls" "$bc"; fig "${name}_bc_calls_per_order" "$(ratio "$bc" "$orders_posted")"
    fig "${name}_ais_calls_per_document" "$(ratio "$ais" "$docs")"
    fig "${name}_ais_calls_per_s" "$(ratio "$ais" "$wall")"
    fig "${name}_ais_peak_in_flight" "$peak"
    fig "${name}_429" "$r429"
    # Where an order's time goes: its create (PENDING row to POSTED mark:
    # the orchestration and two commits) and its whole run (the flow's
    # "decide" audit row to its "post" row: fetch, lookups, create).
    fig "${name}_create_ms" "$(store_sql "$url" "SELECT round(avg(updated_at - created_at)) FROM ledger WHERE state = 'posted' AND entity LIKE 'order:%'")"
    fig "${name}_order_run_ms" "$(store_sql "$url" "SELECT round(avg(p.at - d.at)) FROM audit d JOIN audit p ON p.entity = d.entity AND p.action = 'post' AND p.outcome = 'ok' WHERE d.action = 'decide' AND d.outcome = 'ok' AND d.entity LIKE 'order:%'")"
    # What bounds it. The AIS ceiling: every worker always waiting on an
    # orchestration. Mean orchestrations in flight: their count times their
    # time over the wall time (Little's law).
    python3 - "$ORDERS" "${BATCH:-250}" "$WORKERS" "$n" "$AIS_MS" "$orch" "$wall" \
        "$bc" "$quota" "$window" "$orders_posted" >"$dir/bounds" <<'PY'
import math, sys
orders, batch, workers, n, ais_ms = (int(a) for a in sys.argv[1:6])
orch, wall, calls, quota, window, posted = (float(a) for a in sys.argv[6:])
rate = quota * 1000.0 / window
print("ais_ceiling_orders_per_s %.1f" % (n * workers * 1000.0 / ais_ms))
print("ais_mean_in_flight %.2f" % (orch * ais_ms / 1000.0 / wall if wall > 0 else 0))
print("call_rate_pct %.0f" % (100.0 * calls / wall / rate if wall > 0 else 0))
print("quota_bound_pct %.0f" % (100.0 * posted / wall / rate if wall > 0 else 0))
# A fixed window grants its quota at once: C calls need ceil(C/Q) windows,
# the last one partly used.
bound = (math.ceil(calls / quota) - 1) * window / 1000.0
print("quota_time_pct %.0f" % (100.0 * bound / wall if wall > 0 else 0))
PY
    while read -r line; do fig "${name}_${line%% *}" "${line#* }"; done < "$dir/bounds"

    printf '  backlog: %s orders (%s documents, held or failed jobs: %s) in %s s = %s orders/s\n' \
        "$orders_posted" "$docs" "$held" "$wall" "$(fig_of "${name}_orders_per_s")"
    printf '    %-42s %s = %s per order\n' "BigCommerce calls" "$bc" "$(fig_of "${name}_bc_calls_per_order")"
    printf '    %-42s %s %% of the quota (order rate: %s %% of the quota-bound rate)\n' \
        "BigCommerce call rate" "$(fig_of "${name}_call_rate_pct")" "$(fig_of "${name}_quota_bound_pct")"
    printf '    %-42s %s\n' "429 responses" "$r429"
    printf '    %-42s %s = %s per document, %s/s\n' "AIS calls" "$ais" \
        "$(fig_of "${name}_ais_calls_per_document")" "$(fig_of "${name}_ais_calls_per_s")"
    printf '    %-42s mean %s, peak %s (AIS threads: %s)\n' "AIS orchestrations in flight" \
        "$(fig_of "${name}_ais_mean_in_flight")" "$peak" \
        "$([ "$AIS_THREADS" = 0 ] && echo "one per connection" || echo "$AIS_THREADS")"
    printf '    %-42s %s orders/s (%s x %s workers, %s ms each)\n' "AIS ceiling" \
        "$(fig_of "${name}_ais_ceiling_orders_per_s")" "$n" "$WORKERS" "$AIS_MS"
    printf '    %-42s %s %% of %s cores; the daemons used %s CPU s (%s per 1,000 orders)\n' \
        "machine busy over the backlog" "$(fig_of "${name}_cpu_busy_pct")" "$(nproc)" \
        "$(fig_of "${name}_daemon_cpu_s")" \
        "$(calc "'%.1f' % (1000.0 * $(fig_of "${name}_daemon_cpu_s") / max(1, $orders_posted))")"
    printf '    %-42s %s CPU s\n' "the simulators over the backlog" "$(fig_of "${name}_sim_cpu_s")"
    printf '    %-42s create %s ms (orchestration and ledger), whole run %s ms (mean)\n' \
        "an order's time" "$(fig_of "${name}_create_ms")" "$(fig_of "${name}_order_run_ms")"
}

# webhook_phase NAME URL LB_PORT
webhook_phase() {
    local name="$1" url="$2" next=$((FIRST_ID + ORDERS)) r0 t_phase bc ais docs idle=0 deadline got
    hooked() { grep -q 'msg="hook created"' "$dir"/p*.log; }
    wait_until 600 hooked || run_die "no process registered the webhook"
    ctl "$BCP" POST /__sim/counters/reset >/dev/null; ctl "$AISP" POST /__sim/counters/reset >/dev/null
    r0=$(n429)
    python3 bench/gen-orders.py "$WEBHOOK_ORDERS" "$next" 150 30000 "$dir/live.json" ||
        bench_die "cannot generate the live orders"
    t_phase=$(python3 -c 'import time; print(int(time.time() * 1000))')
    # One order every 1/RATE s on a fixed schedule; each placement time
    # (ms) is written down just before the call that fires its webhook.
    python3 - "$BCP" "$RATE" "$dir/live.json" "$dir/placed.tsv" <<'PY' || bench_die "the simulator refused an order"
import json, sys, time, urllib.request
port, rate, seed, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
orders = json.load(open(seed))["bigcommerce"]["orders"]
t0 = time.monotonic()
with open(out, "w") as f:
    for i, o in enumerate(orders):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        f.write("%d\t%d\n" % (o["id"], int(time.time() * 1000)))
        f.flush()
        rq = urllib.request.Request("http://127.0.0.1:%s/__sim/orders" % port,
                                    data=json.dumps(o).encode(), method="POST",
                                    headers={"Content-Type": "application/json"})
        urllib.request.urlopen(rq, timeout=10).read()
PY
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        alive
        got=$(store_sql "$url" "SELECT count(DISTINCT entity) FROM ledger WHERE state = 'posted' AND updated_at >= $t_phase")
        [ "${got:-0}" -ge "$WEBHOOK_ORDERS" ] && break
        if [ "$(store_sql "$url" "SELECT count(*) FROM jobs WHERE state IN ('ready', 'running')")" = 0 ]; then
            idle=$((idle + 1)); [ $idle -ge 15 ] && break   # gather windows are 10 s
        else
            idle=0
        fi
        [ $SECONDS -lt $deadline ] || { echo "  (timeout after $TIMEOUT s)"; break; }
        sleep 1
    done
    store_sql "$url" "SELECT entity, max(updated_at) FROM ledger WHERE state = 'posted' AND updated_at >= $t_phase GROUP BY entity" > "$dir/posted.tsv"
    docs=$(store_sql "$url" "SELECT count(*) FROM ledger WHERE state = 'posted' AND updated_at >= $t_phase")
    bc=$(counters "$BCP" 's("")'); ais=$(counters "$AISP" 's("/jderest")')
    python3 - "$dir/placed.tsv" "$dir/posted.tsv" >"$dir/latency" <<'PY'
import math, sys
placed = {}
for line in open(sys.argv[1]):
    oid, ms = line.split()
    placed["order:" + oid] = int(ms)
lat = []
for line in open(sys.argv[2]):
    ent, ms = line.split()
    if ent in placed:
        lat.append(int(ms) - placed[ent])
lat.sort()
pct = lambda p: lat[max(0, math.ceil(p / 100.0 * len(lat)) - 1)] if lat else None
print("posted %d" % len(lat))
for k, v in (("p50_ms", pct(50)), ("p99_ms", pct(99)), ("max_ms", lat[-1] if lat else None)):
    print("%s %s" % (k, "null" if v is None else v))
PY
    local wposted p50 p99 mx
    wposted=$(awk '$1 == "posted" { print $2 }' "$dir/latency")
    p50=$(awk '$1 == "p50_ms" { print $2 }' "$dir/latency")
    p99=$(awk '$1 == "p99_ms" { print $2 }' "$dir/latency")
    mx=$(awk '$1 == "max_ms" { print $2 }' "$dir/latency")
    fig "${name}_webhook_orders" "$wposted"
    fig "${name}_webhook_p50_ms" "$p50"; fig "${name}_webhook_p99_ms" "$p99"
    fig "${name}_webhook_max_ms" "$mx"
    fig "${name}_webhook_bc_calls_per_order" "$(ratio "$bc" "$wposted")"
    fig "${name}_webhook_ais_calls_per_document" "$(ratio "$ais" "$docs")"
    fig "${name}_webhook_429" "$(( $(n429) - r0 ))"
    # The balancer logs "-> PORT STATUS" per request: answered per process.
    printf '  webhooks: %s of %s orders posted (%s per second; deliveries answered per process: %s)\n' \
        "$wposted" "$WEBHOOK_ORDERS" "$RATE" \
        "$(awk '$1 == "->" { n[$2]++ } END { for (p in n) printf "%s%s %d", (s++ ? ", " : ""), (p == "none" ? "none (502)" : ":" p), n[p] }' "$dir/lb.log")"
    printf '    %-42s p50 %s ms, p99 %s ms, max %s ms (gather_ms: %s)\n' "placed to posted" \
        "$p50" "$p99" "$mx" "${GATHER_MS:-the default, 10000}"
    printf '    %-42s %s per order; AIS calls %s per document; 429s %s\n' "BigCommerce calls" \
        "$(fig_of "${name}_webhook_bc_calls_per_order")" "$(fig_of "${name}_webhook_ais_calls_per_document")" \
        "$(fig_of "${name}_webhook_429")"
}

# rss_figures NAME: peak RSS (VmHWM) of each process, in kB.
rss_figures() {
    local name="$1" i kb all="" max=0
    for i in "${!PIDS[@]}"; do
        kb=$(rss_kb "${PIDS[$i]}" VmHWM)
        [ -n "$kb" ] || kb=0
        all="$all${all:+ }$kb"
        [ "$kb" -gt "$max" ] && max=$kb
    done
    fig "${name}_rss_peak_kb" "$max"
    fig "${name}_rss_peak_kb_each" "\"$all\""
    printf '    %-42s %s kB\n' "peak RSS (VmHWM) of each process" "$all"
}

# ---- the runs -----------------------------------------------------------------------
echo "bench/scale.sh: $(nproc) cores; store: $STORE$([ $STORE = pg ] && echo " ($BASE_URL)");" \
     "$ORDERS orders; AIS orchestrations $AIS_MS ms; workers $WORKERS per process"
fig cores "$(nproc)"; fig store "\"$STORE\""; fig orders "$ORDERS"; fig ais_ms "$AIS_MS"
fig ais_threads "$AIS_THREADS"; fig workers "$WORKERS"; fig batch_max "${BATCH:-250}"
fig quota_a "$QUOTA_A"; fig window_a_ms "$WINDOW_A_MS"
fig quota_b "$QUOTA_B"; fig window_b_ms "$WINDOW_B_MS"
fig webhook_rate_per_s "$RATE"

ran_a=()
for c in $CASES; do
    case "$c" in
        a)
            for n in $PROCS; do
                if [ $STORE = sqlite ] && [ "$n" -gt 1 ]; then
                    echo; echo "== case (a), $n processes: skipped (SQLite serves one process)"; continue
                fi
                run_one a "$n" "$QUOTA_A" "$WINDOW_A_MS"
                ran_a+=("$n")
            done ;;
        b)
            if [ $STORE = sqlite ] && [ "$B_PROCS" -gt 1 ]; then
                echo; echo "== case (b), $B_PROCS processes: skipped (SQLite serves one process)"
            else
                run_one b "$B_PROCS" "$QUOTA_B" "$WINDOW_B_MS"
            fi ;;
        *) bench_die "CASES: a and/or b, not '$c'" ;;
    esac
done

# ---- summary ------------------------------------------------------------------------
base=""
for n in "${ran_a[@]}"; do [ "$n" = 1 ] && base=$(fig_of a_p1_orders_per_s); done
for n in "${ran_a[@]}"; do
    [ -n "$base" ] && [ "$base" != null ] && fig "a_p${n}_speedup" "$(ratio "$(fig_of "a_p${n}_orders_per_s")" "$base")"
done

python3 - "$FIG" "$AIS_THREADS" <<'PY'
import math, re, sys
figs = {}
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition("\t")
    figs[k] = v
ais_threads = int(sys.argv[2])
g = lambda k: figs.get(k, "null") if figs.get(k) not in (None, "", "null") else "n/a"
num = lambda k: None if g(k) == "n/a" else float(g(k).strip('"'))
def mb(k):
    kbs = [x for x in g(k).strip('"').split() if x.isdigit()]
    return " ".join("%.1f" % (int(x) / 1024.0) for x in kbs) or "n/a"
def s(k):
    v = num(k)
    return "n/a" if v is None else "%.1f" % (v / 1000.0)
def row(name, n):
    p = "%s_p%d_" % (name, n)
    return ("  %-5d %8s %8s %9s %8s %5s %7s %7s  %s" %
            (n, g(p + "orders_per_s"), g(p + "speedup") if name == "a" else g(p + "quota_bound_pct") + " %",
             g(p + "bc_calls_per_order"), g(p + "ais_calls_per_document"), g(p + "429"),
             s(p + "webhook_p50_ms"), s(p + "webhook_p99_ms"), mb(p + "rss_peak_kb_each")))
head = "  %-5s %8s %8s %9s %8s %5s %7s %7s  %s"
runs = lambda c: sorted(int(m.group(1)) for m in
                        (re.match(c + r"_p(\d+)_orders_per_s$", k) for k in figs) if m)
runs_a, runs_b = runs("a"), runs("b")
verdict = lambda ok: "n/a" if ok is None else ("met" if ok else "NOT met")
if runs_a:
    print("\ncase (a): quota %s / %s ms (not binding), AIS orchestrations %s ms" %
          (g("quota_a"), g("window_a_ms"), g("ais_ms")))
    print(head % ("procs", "orders/s", "speed-up", "BC/order", "AIS/doc", "429", "p50 s", "p99 s",
                  "peak RSS MB, each process"))
    for n in runs_a:
        print(row("a", n))
    top = runs_a[-1]
    p = "a_p%d_" % top
    sp = num(p + "speedup")
    if top > 1:
        print("  goal: >= 3.5x at 4 processes until AIS binds; %d processes: %s x" %
              (top, "n/a" if sp is None else "%.2f" % sp))
    # What bounded the largest run.
    peak, mean = num(p + "ais_peak_in_flight"), num(p + "ais_mean_in_flight")
    ceiling, rate = num(p + "ais_ceiling_orders_per_s"), num(p + "orders_per_s")
    workers = int(g("workers")) * top
    if ais_threads > 0 and peak is not None and peak >= ais_threads:
        print("  AIS binds: its %d threads were all busy (peak %d calls in flight, %s AIS calls/s)" %
              (ais_threads, peak, g(p + "ais_calls_per_s")))
    elif mean is not None and mean >= 0.9 * workers:
        print("  bound: the workers' wait on AIS (mean %.1f of %d workers in an orchestration;"
              " %s AIS calls/s; ceiling %s orders/s)" % (mean, workers, g(p + "ais_calls_per_s"), g(p + "ais_ceiling_orders_per_s")))
    elif mean is not None:
        busy = num(p + "cpu_busy_pct")
        print("  AIS did not bind: mean %.1f of %d workers in an orchestration, peak %s in flight,"
              " %s AIS calls/s; call rate %s %% of the quota" %
              (mean, workers, g(p + "ais_peak_in_flight"), g(p + "ais_calls_per_s"),
               g(p + "call_rate_pct")))
        if busy is not None and busy >= 85:
            print("  the machine binds: %d %% busy over the backlog on %s cores (daemons, PostgreSQL"
                  " and the simulators share them); one process: %s %%" %
                  (busy, g("cores"), g("a_p1_cpu_busy_pct")))
for n in runs_b:
    p = "b_p%d_" % n
    print("\ncase (b): Standard quota %s / %s ms, %d process(es)" % (g("quota_b"), g("window_b_ms"), n))
    print(head % ("procs", "orders/s", "% quota", "BC/order", "AIS/doc", "429", "p50 s", "p99 s",
                  "peak RSS MB, each process"))
    print(row("b", n))
    r429, pct, cpo = num(p + "429"), num(p + "quota_bound_pct"), num(p + "bc_calls_per_order")
    print("  0 x 429: %s; >= 95 %% of the quota-bound rate: %s; <= 1.05 BigCommerce calls per order: %s" %
          (verdict(None if r429 is None else r429 == 0), verdict(None if pct is None else pct >= 95),
           verdict(None if cpo is None else cpo <= 1.05)))
PY

if [ -n "${BENCH_JSON:-}" ]; then
    python3 - "$FIG" "$BENCH_JSON" <<'PY' || bench_die "cannot write $BENCH_JSON"
import json, sys
out = {"bench": "scale"}
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition("\t")
    out[k] = json.loads(v) if v not in ("", "null") else None
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
    f.write("\n")
PY
    echo; echo "figures written to $BENCH_JSON"
fi
