#!/usr/bin/env bash
# e2e: serial (many processes, SIGKILLs and timing under load: runs alone)
# End-to-end: three `mlc run` processes on one PostgreSQL store, behind one
# webhook URL, against mlc-sim on 127.0.0.1, while they are killed.
#
#   1. A private PostgreSQL server (tests/lib/pg-server, as the postgres
#      user when run as root) holds the store; three daemons share it, each
#      on its own port, behind a round-robin balancer (lib/lb.py) that is the
#      hook's one public URL. Every webhook is delivered twice (the store's
#      duplicate fault), so copies reach different processes.
#   2. A backlog (`mlc sync orders`) and new orders placed at the store all
#      along (every fifth unpaid), reaching the daemons by webhook; the
#      leader's reconcile sweep runs every 10 s; the hook check only at
#      start and when leadership moves (its interval is an hour).
#   3. Every 1-3 s a daemon is SIGKILLed and started again, at least
#      CLUSTER_KILLS times (20): every third kill hits the leader, every
#      third a process with a job at work, the others a random one.
#   4. PostgreSQL itself is stopped in the middle of the run (fast
#      shutdown: every connection dropped), orders still coming in; a
#      daemon started while it is down must wait for it, not exit.
#   5. The verdicts, once the queue is idle: every paid order exactly one
#      balanced journal entry in JDE, nothing for unpaid ones; the ledger
#      agrees with JDE; no job lost, held or failed; the singleton tasks
#      (sweep, hook check) never ran on two processes at once, by their
#      audit rows, and every new leader ran each of them at once (the hook
#      check, an hour apart, ran in every leadership term that swept); leadership moved and the jobs of killed processes were
#      released by the leader; no daemon exited on its own; no secret and no
#      sanitizer report in the logs.
# Prints TAP lines; "# " lines carry figures. KEEP=1 keeps the temp dir.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# The whole test runs under its own PostgreSQL server.
if [ -z "${MLC_TEST_PG_URL:-}" ]; then
    exec "$here/../lib/pg-server" bash "$0" "$@"
fi
. "$here/lib/common.bash"
e2e_init cluster
need_py
. "$here/lib/jde.bash"

PROCS=3
KILLS=${CLUSTER_KILLS:-20}
BACKLOG=30
STORE_HASH="nwhg42"
BC_TOKEN="sim-token-northwind-demo"        # demo seed values (simulator only)
CLIENT_SECRET="sim-secret-northwind-demo"
JDE_PASSWORD="northwind-demo-pass"
HDR_SECRET="hdr-CANARY-$$-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
URL="$MLC_TEST_PG_URL"
logs="$tmp/logs"
mkdir -p "$logs"

PSQL="$MLC_TEST_PG_BINDIR/psql"
sql() { "$PSQL" -X -q -A -t -d "$URL" -c "$1" 2>/dev/null; }
# pg_ctl_do ACTION: pg_ctl stop|start|restart on the test server (fast:
# every session cut), as its owner.
pg_ctl_do() {
    local as=()
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$MLC_TEST_PG_BINDIR/pg_ctl" -D "$MLC_TEST_PG_DIR/data" -m fast -w -t 60 \
        -l "$MLC_TEST_PG_DIR/server.log" -o "$MLC_TEST_PG_OPTS" "$1" >/dev/null 2>&1
}

# ---- simulators, configuration ----------------------------------------------------------
SEED_JDE="$tmp/demo-jde.json"   # 16 AIS threads: three daemons call at once
"$PY" - "$ROOT/sim/seed/demo-jde.json" "$SEED_JDE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["jde"].setdefault("settings", {})["threads"] = 16
json.dump(d, open(sys.argv[2], "w"))
PY
require "mlc-sim serves BigCommerce and AIS (demo seeds)" \
    sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/demo-bigcommerce.json" --seed "$SEED_JDE"
bc_ctl POST rate '{"quota":0,"window_ms":30000}' >/dev/null
# AIS answers in 150 ms: kills catch jobs at work.
ais_ctl POST faults '{"latency_ms":150}' >/dev/null

# Go-live right after the demo's newest order: only the orders made here.
CUTOVER=$("$PY" -c '
import json, sys
from datetime import datetime, timedelta
o = json.load(open(sys.argv[1]))["bigcommerce"]["orders"]
t = max(datetime.fromisoformat(x["date_created"].replace("Z", "+00:00")) for x in o)
print((t + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$ROOT/sim/seed/demo-bigcommerce.json")

LBP=$(free_port) || { not_ok "a free port"; exit 1; }
PORTS=()
for i in $(seq 0 $((PROCS - 1))); do PORTS+=("$(free_port)"); done
"$MLC" init "$tmp/base.yaml" >/dev/null 2>&1 || { not_ok "mlc init"; exit 1; }
KEY="$tmp/mlc.key"
write_config() { # I
    cat >"$tmp/mlc-$1.yaml" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "$STORE_HASH"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  webhook_public_url: "http://127.0.0.1:$LBP/webhooks/bigcommerce"
  webhook_secret_ref: "bc_webhook_secret"
  client_secret_ref: "bc_client_secret"
  rate_reserve: 0
  timeout_ms: 5000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  device_name: "mlc-e2e-cluster"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 2000
posting:
$(e2e_posting_journal)
  paid_statuses: [2, 3, 8, 9, 10, 11]
schedule:
  reconcile_interval: 10
  hooks_interval: 3600
  accounts_refresh_interval: 10
  leader_lease_s: 3
orders:
  start: "$CUTOVER"
store:
  url: "$URL"
  master_key_file: "$KEY"
server:
  listen: "127.0.0.1:${PORTS[$1]}"
  threads: 4
workers:
  count: 2
  lease_s: 10
  batch_max: 20
  gather_ms: 500
  max_attempts: 50
  retry_base_ms: 100
  retry_cap_ms: 1000
  drain_timeout_s: 5
EOF
}
for i in $(seq 0 $((PROCS - 1))); do write_config "$i"; done
cfg="$tmp/mlc-0.yaml"
check "config check accepts a PostgreSQL store" \
    sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "$JDE_PASSWORD" --name jde_password &&
        cred_set "$HDR_SECRET" --name bc_webhook_secret && cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "credentials stored once, in the shared store" store_credentials

# ---- the balancer and the daemons --------------------------------------------------------
"$PY" "$here/lib/lb.py" "$LBP" "${PORTS[@]}" >"$tmp/lb.out" 2>"$tmp/lb.log" &
lbpid=$!
e2e_track "$lbpid"
require "the balancer listens on the public URL" wait_until 50 grep -q listening "$tmp/lb.out"

PIDS=()
runs=0
launch() { # I: starts daemon I, its log in $logs
    runs=$((runs + 1))
    "$MLC" run --config "$tmp/mlc-$1.yaml" >"$logs/run-$runs-p$1.log" 2>&1 &
    PIDS[$1]=$!
    e2e_track "${PIDS[$1]}"
}
up() { [ "$(http_code "http://127.0.0.1:${PORTS[$1]}/healthz")" = 200 ]; }
all_up() { local i; for i in $(seq 0 $((PROCS - 1))); do up "$i" || return 1; done; }

# The backlog, before any daemon runs.
GEN=()
next_id=3000
place() { # N: N more orders, every fifth unpaid (status 7)
    local k id st
    for k in $(seq 1 "$1"); do
        next_id=$((next_id + 1)); id=$next_id; st=11
        [ $((id % 5)) = 0 ] && st=7
        new_order "$id" "$st" && GEN+=("$id")
    done
}
place "$BACKLOG"
check "a backlog of $BACKLOG orders queued (mlc sync orders)" \
    sh -c '"$0" sync orders --from-id 3001 --config "$1" >/dev/null 2>&1' "$MLC" "$cfg"

for i in $(seq 0 $((PROCS - 1))); do launch "$i"; done
check "three daemons serve on one PostgreSQL store" wait_until 200 all_up
hooked() { port=$LBP bc_hooked "$STORE_HASH" "$BC_TOKEN"; }
check "the leader registered the hook on the balancer's URL" wait_until 150 hooked
leaders() { local i n=0; for i in $(seq 0 $((PROCS - 1))); do
    curl -s --max-time 2 "http://127.0.0.1:${PORTS[$i]}/metrics" | grep -q '^mlc_leader 1' && n=$((n + 1))
done; echo "$n"; }
one_leader() { [ "$(leaders)" = 1 ]; }
leader_idx() { local i; for i in $(seq 0 $((PROCS - 1))); do
    curl -s --max-time 2 "http://127.0.0.1:${PORTS[$i]}/metrics" | grep -q '^mlc_leader 1' &&
        { echo "$i"; return; }
done; }
# The daemon that holds a running job now (owners "<host>:<pid>:<nonce>:wN").
# Polls up to 5 s (the caller places orders first, to make work).
busy_idx() { local owner p i try
    for try in $(seq 1 50); do
        owner=$(sql "SELECT owner FROM jobs WHERE state = 'running' AND owner IS NOT NULL LIMIT 1")
        p=$(echo "$owner" | awk -F: 'NF >= 4 { print $(NF - 2) }')
        for i in $(seq 0 $((PROCS - 1))); do
            [ -n "$p" ] && [ "${PIDS[$i]}" = "$p" ] && { echo "$i"; return; }
        done
        sleep 0.1
    done; }
check "exactly one of them leads" wait_until 100 one_leader
bc_ctl POST faults '{"webhook_duplicate_rate":1}' >/dev/null

# ---- kills --------------------------------------------------------------------------------
t0=$SECONDS
kills=0; gone=0; restarted=0; pg_restarted=0; pg_alive_after=1
while [ "$kills" -lt "$KILLS" ]; do
    place 3
    sleep "$(( (RANDOM % 3) + 1 )).$(( RANDOM % 10 ))"
    # Every third kill hits the leader, every third one a process with a job
    # at work (so takeovers and releases happen whatever the dice say).
    case $((kills % 3)) in
        0) i=$(leader_idx) ;;
        1) place 4; i=$(busy_idx) ;;
        *) i="" ;;
    esac
    [ -n "$i" ] || i=$((RANDOM % PROCS))
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then
        kill -KILL "${PIDS[$i]}" 2>/dev/null
        wait "${PIDS[$i]}" 2>/dev/null
        kills=$((kills + 1))
    fi
    # Every daemon that is not the one just killed must still run.
    for j in $(seq 0 $((PROCS - 1))); do
        [ "$j" = "$i" ] && continue
        kill -0 "${PIDS[$j]}" 2>/dev/null || { gone=$((gone + 1)); launch "$j"; }
    done
    sleep 0.$((RANDOM % 10))
    # Halfway, PostgreSQL goes down under the daemons that run, and the one
    # just killed starts while it is down: it must wait, not exit.
    if [ "$kills" = $((KILLS / 2)) ] && [ "$pg_restarted" = 0 ]; then
        place 3
        pg_ctl_do stop && pg_down=1
        launch "$i"; restarted=$((restarted + 1))
        sleep 3
        kill -0 "${PIDS[$i]}" 2>/dev/null && waited=1
        pg_ctl_do start && [ "${pg_down:-0}" = 1 ] && pg_restarted=1
        place 3
        sleep 2
        for j in $(seq 0 $((PROCS - 1))); do
            kill -0 "${PIDS[$j]}" 2>/dev/null || pg_alive_after=0
        done
        continue
    fi
    launch "$i"; restarted=$((restarted + 1))
done
note "$kills kills in $((SECONDS - t0)) s, $restarted restarts, ${#GEN[@]} orders placed"
check "$kills SIGKILLs of a live daemon (>= $KILLS)" [ "$kills" -ge "$KILLS" ]
check "PostgreSQL restarted mid-run (every connection cut)" [ "$pg_restarted" = 1 ]
check "every daemon outlived the PostgreSQL restart" [ "$pg_alive_after" = 1 ]
check "a daemon started while PostgreSQL was down waited for it" [ "${waited:-0}" = 1 ]
check "no daemon exited on its own" [ "$gone" = 0 ]
place 4
check "all three serve again" wait_until 200 all_up

# ---- drain, verdicts ------------------------------------------------------------------------
PAID=(); UNPAID=()
for id in "${GEN[@]}"; do
    if [ $((id % 5)) = 0 ]; then UNPAID+=("$id"); else PAID+=("$id"); fi
done
posted_all() {
    [ "$(sql "SELECT count(*) FROM ledger WHERE state = 'posted' AND kind = 'sale'")" \
        -ge "${#PAID[@]}" ]
}
idle() { [ "$(sql "SELECT count(*) FROM jobs WHERE state IN ('ready', 'running')")" = 0 ]; }
check "every paid order posted (${#PAID[@]})" wait_until 1800 posted_all
check "the queue drains" wait_until 600 idle
for i in $(seq 0 $((PROCS - 1))); do kill -TERM "${PIDS[$i]}" 2>/dev/null; done
stopped_all() { local i; for i in $(seq 0 $((PROCS - 1))); do
    kill -0 "${PIDS[$i]}" 2>/dev/null && return 1; done; return 0; }
check "SIGTERM stops the three daemons" wait_until 300 stopped_all

check "every paid order has exactly one document in JDE" all_one "${PAID[@]}"
check "every journal balances to the cent" all_balanced "${PAID[@]}"
none_unpaid() { local i; for i in "${UNPAID[@]}"; do no_rows "BC${i}S" || return 1; done; }
check "nothing posted for the ${#UNPAID[@]} unpaid orders" none_unpaid

# The ledger and JDE: the same keys with the same document numbers.
ledger_agrees() {
    sql "SELECT key || ' ' || doc_number FROM ledger WHERE state = 'posted' ORDER BY key" \
        >"$tmp/ledger.txt"
    ais_ctl GET table/F0911 | "$PY" -c '
import json, sys
docs = set()
for r in json.load(sys.stdin)["rows"]:
    v = str(r.get("F0911_VINV") or "").strip()
    if v.startswith("BC3"):
        docs.add("%s %s" % (v, r["F0911_DOC"]))
led = set(l.strip() for l in open(sys.argv[1]) if l.strip().startswith("BC3"))
if docs != led:
    print("ledger only:", sorted(led - docs)[:5], "JDE only:", sorted(docs - led)[:5])
    sys.exit(1)' "$tmp/ledger.txt"
}
check "the ledger agrees with JDE, key by key and document by document" ledger_agrees
check "nothing in doubt is left in the ledger" \
    [ "$(sql "SELECT count(*) FROM ledger WHERE state <> 'posted'")" = 0 ]
check "no job lost: none ready or running" idle
check "no job held or failed" \
    [ "$(sql "SELECT count(*) FROM jobs WHERE state IN ('held', 'failed')")" = 0 ]

# Singleton tasks: their runs, by holder, never overlap in time.
sql "SELECT entity || ' ' || detail FROM audit WHERE entity LIKE 'task:%' AND action = 'run'
     ORDER BY id" >"$tmp/runs.txt"
# singleton_runs MODE: the verdicts on the audited runs in runs.txt.
#   overlap: no two holders' runs of a task overlap, tokens never go back;
#            prints "runs=N holders=N"
#   terms:   a new leader runs every singleton task at its first tick, not
#            when its own (skipped) turn next comes: with the hook check an
#            hour apart, each term that swept checked the hooks, and once;
#            prints "terms=N swept=N"
singleton_runs() {
    "$PY" - "$1" "$tmp/runs.txt" <<'PY'
import json, sys
mode, rows = sys.argv[1], []
for line in open(sys.argv[2]):
    task, _, d = line.strip().partition(" ")
    if d:
        rows.append((task, json.loads(d)))
bad = []
if mode == "overlap":
    runs = {}
    for task, d in rows:
        runs.setdefault(task, []).append((d["started"], d["ended"], d["holder"], d["token"]))
    holders = set()
    for task, rs in runs.items():
        rs.sort()
        for (s1, e1, h1, t1), (s2, e2, h2, t2) in zip(rs, rs[1:]):
            holders.update((h1, h2))
            if h1 != h2 and s2 < e1:
                bad.append("# overlap: %s %s..%s by %s and %s..%s by %s" % (task, s1, e1, h1, s2, e2, h2))
            if t2 < t1:
                bad.append("# token went back: %s %d then %d" % (task, t1, t2))
    print("runs=%d holders=%d" % (len(rows), len(holders)))
else:
    terms = {}
    for task, d in rows:
        ts = terms.setdefault((d["holder"], d["token"]), {})
        ts[task] = ts.get(task, 0) + 1
    swept = [t for t, ts in terms.items() if "task:reconcile" in ts]
    bad = ["# term %s/%d swept without the hook check" % t
           for t in swept if "task:hooks" not in terms[t]]
    bad += ["# term %s/%d checked the hooks %d times" % (h, tok, ts["task:hooks"])
            for (h, tok), ts in terms.items() if ts.get("task:hooks", 0) > 1]
    if len(swept) < 2:
        bad.append("# fewer than two terms swept")
    print("terms=%d swept=%d" % (len(terms), len(swept)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
res=$(singleton_runs overlap); rc=$?
note "singleton task runs: $res"
check "the account cache refresh ran as a singleton task too" \
    grep -q "^task:accounts_refresh " "$tmp/runs.txt"
dropped=$(grep -l "account cache dropped" "$logs"/*.log 2>/dev/null | wc -l)
check "its refresh reached more than one process's cache ($dropped logs)" [ "$dropped" -ge 2 ]
check "no singleton task ran on two processes at once (audit: holders, tokens, times)" [ "$rc" = 0 ]
terms=$(singleton_runs terms); rc=$?
note "leadership terms: $terms"
check "every new leader ran the hour-apart hook check at once, and once (each term that swept)" [ "$rc" = 0 ]
holders=$(echo "$res" | sed -n 's/.*holders=\([0-9]*\).*/\1/p' | tail -n 1)
check "the singleton tasks ran on more than one process over the run ($holders)" \
    [ "${holders:-0}" -ge 2 ]
acq=$(sql "SELECT count(*) FROM audit WHERE entity = 'leader' AND action = 'acquired'")
rel=$(sql "SELECT count(*) FROM audit WHERE entity = 'jobs' AND action = 'recover'")
note "leadership acquired $acq times; jobs of gone processes released $rel times"
check "leadership moved when its holder died ($acq)" [ "${acq:-0}" -ge 2 ]
check "the leader released the jobs of killed processes ($rel)" [ "${rel:-0}" -ge 1 ]
dup=$(grep -l "duplicate delivery" "$logs"/*.log 2>/dev/null | wc -l)
check "duplicate deliveries were recognised across processes ($dup logs)" [ "$dup" -ge 2 ]

check "no secret in any daemon log" \
    sh -c '! grep -l -e "$0" -e "$1" -e "$2" -e "$3" "$4"/*.log' \
    "$BC_TOKEN" "$JDE_PASSWORD" "$HDR_SECRET" "$CLIENT_SECRET" "$logs"
check "no sanitizer report in any daemon log" sh -c '! grep -l "Sanitizer" "$0"/*.log' "$logs"
echo "1..$n"
[ "$failed" = 0 ]
