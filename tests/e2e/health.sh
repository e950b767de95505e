#!/usr/bin/env bash
# End-to-end: honest health and outages that heal themselves (issue 8 §5),
# with the real `mlc run` against the simulators on 127.0.0.1. BigCommerce
# and AIS run as two mlc-sim processes so that AIS alone can be stopped and
# brought back on its port.
#   1. the master key missing: /readyz 503 naming flows.disabled and the key
#      (/healthz stays 200); with the key back and a restart, 200;
#   2. the JDE password refused: /readyz 503 naming jde.login; exactly one
#      login per back-off window (the simulator's counters), the back-off in
#      the log and in `mlc ping`; orders paused with no attempt used; the JDE
#      administrator sets the password we hold: the next login works, /readyz
#      200, the orders post by themselves;
#   3. AIS stopped: orders paused (jde.unreachable), none FAILED although the
#      outage outlasts workers.max_attempts; AIS back: they resume and post
#      by themselves, each with one attempt, without `mlc replay`;
#   4. the store refuses writes (its write lock held elsewhere): /readyz 503
#      naming store.write, 200 again once writes go through;
#   5. the gauges of the present on /metrics (jobs by state and their ages,
#      the last document, quota left, AIS session, reconcile differences),
#      served whole, and the admin listener (server.admin_listen) that
#      serves them without the webhook route.
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init health
unset MLC_MASTER_KEY

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"
BACKOFF_S=20          # jde.login_backoff_s: longer than the window checked below
LOGINS="POST /jderest/v2/tokenrequest"
need_py

# ---- simulators: BigCommerce, and AIS on its own ------------------------------
require "mlc-sim serves BigCommerce" sim_start --bigcommerce 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --log-level error
aispid=""
# ais_up FILE: the ready file names the AIS port, or the process ended.
ais_up() { sim_ready_file "$1" jde || ! kill -0 "$aispid" 2>/dev/null; }
# ais_start PORT: the AIS simulator alone (PORT 0: any), fresh from the seed.
ais_start() {
    local ready="$tmp/ais.env" try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        rm -f "$ready"
        "$SIM" --jde "127.0.0.1:$1" --seed "$ROOT/sim/seed/jde.json" --log-level error \
            --ready-file "$ready" >>"$tmp/ais.log" 2>&1 &
        aispid=$!
        e2e_track "$aispid"
        if wait_until 100 ais_up "$ready" && sim_ready_file "$ready" jde; then
            AISP=$(sed -n 's/^jde=//p' "$ready")
            return 0
        fi
        kill_wait "$aispid"; aispid=""
        sleep 0.5   # the port may still be closing
    done
    return 1
}
ais_stop() { [ -z "$aispid" ] || { kill -TERM "$aispid" 2>/dev/null; wait "$aispid" 2>/dev/null; aispid=""; }; }
require "mlc-sim serves AIS" ais_start 0
note "BigCommerce on $BCP, AIS on $AISP"

# ---- configuration, credentials ------------------------------------------------------
mlc_init_base || { not_ok "mlc init"; exit 1; }
cp "$tmp/mlc.key" "$tmp/master.key"   # the base's key, kept aside
write_config() {
    cat >"$cfg" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  rate_reserve: 10
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-health"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 5000
  login_backoff_s: $BACKOFF_S
orders:
  start: "2026-11-28T09:00:00Z"
posting:
$(e2e_posting_journal)
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
    braintree: "1.1110.BRAINTRE"
    paypal: "1.1110.PAYPAL"
schedule:
  reconcile_interval: 604800
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
  health_probe_interval: 1
store:
  url: "$tmp/mlc.db"
  master_key_file: "mlc.key"
server:
  listen: "127.0.0.1:$port"
$admin_yaml
workers:
  count: 2
  lease_s: 60
  max_attempts: 2
  retry_base_ms: 200
  retry_cap_ms: 1000
  drain_timeout_s: 20
EOF
}
admin_yaml=""
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
require "config check accepts the configuration" sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
require "credentials stored" sh -c \
    "printf %s '$BC_TOKEN' | '$MLC' credentials set --name bc_token --config '$cfg' >/dev/null 2>&1 &&
     printf %s '$JDE_PASSWORD' | '$MLC' credentials set --name jde_password --config '$cfg' >/dev/null 2>&1"

# ---- helpers --------------------------------------------------------------------------
ready_url() { echo "http://127.0.0.1:$port/readyz"; }
# ready_is CODE [CONDITION]: /readyz answers CODE (and names CONDITION); the
# body stays in $tmp/ready.json.
ready_is() {
    [ "$(curl -s -o "$tmp/ready.json" -w '%{http_code}' --max-time 5 "$(ready_url)")" = "$1" ] || return 1
    [ -z "${2:-}" ] || grep -q "\"condition\":\"$2\"" "$tmp/ready.json"
}
ready_has() { grep -q -- "$1" "$tmp/ready.json"; }
ais_count() { ais_ctl GET counters | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }
in_log() { grep -q -- "$1" "$log"; }
log_count() { grep -c -- "$1" "$log"; }
# jobs_where PYEXPR: how many jobs j satisfy PYEXPR.
jobs_where() { jobs_json | "$PY" -c 'import json,sys; print(sum(1 for j in json.load(sys.stdin) if eval(sys.argv[1])))' "$1"; }
paused_jde() { [ "$(jobs_where "j['state']=='ready' and j['paused_on']=='jde' and j['attempts']==0")" = "$1" ]; }
# The orders of scenarios 2 and 3 (81xx), made in the store while the test
# runs; the go-live cutover (orders.start) is after every seed order, so
# the reconcile sweep at each start leaves the seed alone.
done_once() { [ "$(jobs_where "j['state']=='done' and j['attempts']==1 and j['key'].startswith('order:81')")" = "$1" ]; }
mkorder() { for id in "$@"; do
    bc_ctl POST orders '{"id":'"$id"',"customer_id":0,"status_id":11,"currency":"USD","date_created":"2026-11-28T09:30:00Z","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":111,"sku":"NW-SOAP-6PK","name":"Soap","quantity":2,"price_ex_tax":"9.99","tax":"1.00"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"21.98","gateway":"stripe"}]}' >/dev/null
done; }
no_failed() { [ "$(jobs_where "j['state'] in ('failed','held')")" = 0 ]; }
f0911_docs() { # KEY: documents in the AIS simulator's F0911 with this reference
    ais_ctl GET table/F0911 | "$PY" -c '
import json, sys
print(len({r["F0911_DOC"] for r in json.load(sys.stdin)["rows"] if str(r.get("F0911_VINV") or "").strip() == sys.argv[1]}))' "$1"
}
posted_once() { local k; for k in "$@"; do [ "$(f0911_docs "$k")" = 1 ] || return 1; done; }
still_paused() { paused_jde 2 && no_failed; }
all_done() { done_once 4 && no_failed; }
enqueue() { for id in "$@"; do "$MLC" jobs enqueue --config "$cfg" order.sync "order:$id" >/dev/null 2>&1; done; }

# ---- 1. the master key is missing ------------------------------------------------------
mv "$tmp/mlc.key" "$tmp/mlc.key.away"
require "daemon serves /healthz without its master key" daemon_start write_config
check "/healthz stays 200 (liveness)" healthy
check "/readyz 503 naming flows.disabled" wait_until 100 ready_is 503 flows.disabled
check "the reason names the missing master key file" ready_has "master key file .*mlc.key does not exist"
check "/metrics: the flows.disabled condition is 1, mlc_ready 0" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_health_condition{condition=\"flows.disabled\"} 1$' &&
     curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_ready 0$'"
check "daemon stops" daemon_term 200
mv "$tmp/mlc.key.away" "$tmp/mlc.key"
require "daemon restarts with the key back" daemon_start write_config
check "/readyz 200 once the key is back" wait_until 100 ready_is 200
check "the daemon logged in to AIS" wait_until 100 in_log 'msg="logged in"'
check "daemon stops" daemon_term 200

# ---- 2. JDE refuses the password: back-off, pause, self-healing ------------------------------
# The JDE administrator changed the user's password: ours is now refused.
ais_ctl POST users '{"username":"MLCINT","password":"rotated-by-the-admin"}' >/dev/null
ais_ctl POST counters/reset >/dev/null
require "daemon starts" daemon_start write_config
mkorder 8100 8102
enqueue 8100 8102
check "/readyz 503 naming jde.login" wait_until 100 ready_is 503 jde.login
check "the reason is AIS's refusal and when the next login goes" \
    ready_has "AIS login failed for user MLCINT: 403.*next attempt after"
first_fail=$(date +%s)
check "both orders are paused on jde, no attempt used" wait_until 150 paused_jde 2
runs_before=$(log_count 'msg="job paused"')
# Callers keep coming for 7 s: the probe every second, and the orders
# enqueued again every second (each run is turned away by the back-off at
# once and pauses again, still without using an attempt).
for _ in 1 2 3 4 5 6 7; do enqueue 8100 8102; sleep 1; done
elapsed=$(( $(date +%s) - first_fail + 2 ))
bound=$(( 1 + elapsed / BACKOFF_S ))
logins=$(ais_count "$LOGINS")
note "AIS logins: $logins in about ${elapsed}s (back-off ${BACKOFF_S}s)"
check "exactly one login in the back-off window (AIS counters)" test "$logins" -ge 1 -a "$logins" -le "$bound"
check "the log says logins back off, once per refused login" sh -c \
    "[ \"\$(grep -c 'msg=\"login refused: logins back off\"' '$log')\" = '$logins' ] &&
     grep -q 'next_attempt_in_s=$BACKOFF_S .*setting=jde.login_backoff_s' '$log'"
check "the paused jobs are in the log, waiting for jde" in_log 'msg="job paused".*waits_for=jde'
check "the orders enqueued again ran meanwhile, each turned away at once" \
    test "$(log_count 'msg="job paused"')" -gt "$runs_before"
check "still paused with no attempt used" wait_until 100 paused_jde 2
check "nothing failed or held" no_failed
"$MLC" ping --config "$cfg" >"$tmp/ping.out" 2>&1
check "mlc ping: the daemon's login back-off in one verdict line" \
    grep -qE '^FAIL +jde +login-backoff .*backs off.*AIS login failed for user MLCINT' "$tmp/ping.out"
"$MLC" held --config "$cfg" >"$tmp/held.out" 2>&1
check "mlc held: 2 jobs paused waiting for jde, nothing to replay" \
    grep -q '^PAUSED 2 jobs waiting for jde' "$tmp/held.out"
# The administrator sets the password we hold: nothing is done to the daemon.
ais_ctl POST users "{\"username\":\"MLCINT\",\"password\":\"$JDE_PASSWORD\"}" >/dev/null
check "after the back-off the next login works: /readyz 200" \
    wait_until $(( (BACKOFF_S + 15) * 10 )) ready_is 200
check "the paused orders resume and post by themselves" wait_until 300 posted_once BC8100S BC8102S
check "the log says the paused jobs resumed" in_log 'msg="paused jobs resumed: the system answers again" system=jde'
check "both jobs done with one attempt each" wait_until 100 done_once 2
check "daemon stops" daemon_term 200

# ---- 3. AIS stopped: orders paused, none failed; AIS back: they post --------------------------------
require "daemon starts" daemon_start write_config
check "/readyz 200" wait_until 100 ready_is 200
ais_stop
note "AIS simulator stopped"
mkorder 8101 8105
enqueue 8101 8105
check "/readyz 503 naming jde.unreachable" wait_until 150 ready_is 503 jde.unreachable
check "both orders are paused on jde, no attempt used" wait_until 150 paused_jde 2
sleep 3   # longer than max_attempts (2) retries would take: they stay paused
check "still paused, none FAILED (attempts not used up)" still_paused
check "/metrics counts the paused jobs" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_jobs_paused 2$'"
check "/metrics: the paused gauge and its age" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics > '$tmp/m.txt' &&
     grep -q '^mlc_jobs_current{state=\"paused\"} 2$' '$tmp/m.txt' &&
     grep -q '^mlc_jobs_oldest_age_seconds{state=\"paused\"} [0-9]' '$tmp/m.txt' &&
     grep -q '^mlc_jobs_current{state=\"held\"} 0$' '$tmp/m.txt'"
require "AIS comes back on its port" ais_start "$AISP"
note "AIS simulator back on $AISP"
check "/readyz 200 once AIS answers" wait_until 200 ready_is 200
check "the paused orders post by themselves" wait_until 300 posted_once BC8101S BC8105S
check "all four orders done with one attempt each, nothing failed" wait_until 100 all_done
# scrape FILE [PORT]: /metrics of the daemon (or of PORT) into FILE.
scrape() { curl -s --max-time 5 "http://127.0.0.1:${2:-$port}/metrics" > "$1"; }
metric_val() { sed -n "s/^$1 //p" "$2"; }
# The newest document is the one just posted: its time is within an hour
# of now (the test's clock, which runs as far ahead as the daemon's).
last_doc_recent() {
    scrape "$tmp/m.txt" || return 1
    local t; t=$(metric_val mlc_last_document_timestamp_seconds "$tmp/m.txt")
    [ -n "$t" ] && [ "$t" -gt 0 ] && [ $(( $(date +%s) - t )) -lt 3600 ] && [ $(( t - $(date +%s) )) -lt 60 ]
}
check "/metrics: the last document's time is now" last_doc_recent
check "/metrics: the AIS session is up, nothing paused or queued" sh -c \
    "grep -q '^mlc_jde_session_up 1$' '$tmp/m.txt' &&
     grep -q '^mlc_jobs_current{state=\"paused\"} 0$' '$tmp/m.txt' &&
     grep -q '^mlc_jobs_current{state=\"queued\"} 0$' '$tmp/m.txt' &&
     grep -q '^mlc_jobs_oldest_age_seconds{state=\"queued\"} 0$' '$tmp/m.txt'"
check "/metrics: the BigCommerce quota left is the simulator's header (0..150)" sh -c \
    "q=\$(sed -n 's/^mlc_bigcommerce_quota_left //p' '$tmp/m.txt'); [ -n \"\$q\" ] && [ \"\$q\" -ge 0 ] && [ \"\$q\" -le 150 ]"
check "/metrics: no reconcile difference before any report" grep -q '^mlc_reconcile_differences 0$' "$tmp/m.txt"
# The reconcile report records its count of differences in this watermark.
"$PY" - "$tmp/mlc.db" <<'PYEOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("INSERT INTO watermarks (name, value, updated_at) VALUES ('reconcile.differences', '3', ?)"
           " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (int(time.time() * 1000),))
db.commit()
PYEOF
check "/metrics: reconcile differences read from the store" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_reconcile_differences 3$'"
# Whole: it ends with the last series, newline included (the writer grows
# its buffer: tests/unit/test_metrics.c goes far past any fixed size).
check "/metrics is served whole (ends with its last series)" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics > '$tmp/m.txt' &&
     tail -n 1 '$tmp/m.txt' | grep -q '^mlc_jde_session_up [01]$'"
note "/metrics: $(wc -c < "$tmp/m.txt") bytes"
check "daemon stops cleanly" daemon_term 200
check "exit status 0" test "$daemon_rc" = 0

# ---- 4. the store refuses writes (another process holds its write lock) -------------------
require "daemon starts" daemon_start write_config
check "/readyz 200" wait_until 100 ready_is 200
"$PY" - "$tmp/mlc.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")   # every writer now waits, then gives up
time.sleep(8)
c.execute("ROLLBACK")
PY
lockpid=$!
e2e_track "$lockpid"
check "/readyz 503 naming store.write while the store refuses writes" \
    wait_until 80 ready_is 503 store.write
check "the reason is SQLite's" ready_has "database is locked"
wait "$lockpid" 2>/dev/null
check "/readyz 200 again once a write goes through" wait_until 100 ready_is 200
check "daemon stops" daemon_term 200

# ---- 5. the admin listener: metrics and health only, never webhooks -----------------------
aport=$(free_port) || { not_ok "a free admin port"; exit 1; }
admin_yaml="  admin_listen: \"127.0.0.1:$aport\"
  public_metrics: false"
write_config
check "config check accepts admin_listen with public_metrics false" \
    sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
require "daemon starts with an admin listener" daemon_start write_config
admin_code() { http_code -X "$1" ${3:+-d "$3"} "http://127.0.0.1:$aport$2"; }
check "admin listener: /metrics, /healthz and /readyz answer 200" sh -c \
    "wait_ready() { for i in \$(seq 1 100); do
         [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:$aport/readyz)\" = 200 ] && return 0; sleep 0.1; done; return 1; }
     wait_ready &&
     [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:$aport/healthz)\" = 200 ] &&
     curl -s --max-time 5 http://127.0.0.1:$aport/metrics | grep -q '^mlc_jobs_current{state=\"held\"} 0$'"
check "admin listener: no webhook route (404)" \
    test "$(admin_code POST /webhooks/bigcommerce '{"scope":"store/order/created"}')" = 404
check "public listener: /metrics gone (public_metrics: false), /healthz still there" sh -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:$port/metrics)\" = 404 ] &&
     [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:$port/healthz)\" = 200 ]"
check "the log names the admin listener" in_log 'msg="admin listener ready"'
check "daemon stops" daemon_term 200
check "no secret in the log" sh -c "! grep -q -e '$JDE_PASSWORD' -e '$BC_TOKEN' '$log'"

e2e_done
