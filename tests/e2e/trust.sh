#!/usr/bin/env bash
# End-to-end: exactly once on real networks, against the real `mlc run` and
# mlc-sim on 127.0.0.1. Each scenario is one the layer under us (libcurl, a
# gateway in front of AIS, AIS itself, the OS) makes happen, and each ends
# with exactly one JDE document per order:
#   1. the reply of a create is lost on a reused keep-alive connection
#      (AIS commits, holds the reply, closes without a byte);
#   2. a gateway answers 504 (with a JSON message) after the commit;
#   3. the create times out and commits seconds later (AIS keeps running it);
#   4. the daemon is frozen (SIGSTOP) past its lease while a create is in
#      flight and the commit lands after another worker could take the job;
#   5. a SIGKILL while a create is in flight: the restarted daemon takes the
#      dead process's jobs at once (not a lease later) and settles the one in
#      doubt before sending anything; the time to the next posted document
#      is printed;
#   6. a second daemon on the same SQLite file is refused, naming the holder.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init trust

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
db="$tmp/mlc.db"
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"
need_py

# Journal entries in F0911 for reference $1: "DOCS BALANCED(1/0)", amounts
# as Decimal, never float.
je_of() {
    ais_ctl GET table/F0911 | "$PY" -c '
import json, sys
from decimal import Decimal
docs, total = set(), Decimal(0)
for r in json.load(sys.stdin, parse_float=Decimal)["rows"]:
    if str(r.get("F0911_VINV") or "").strip() == sys.argv[1]:
        docs.add(r["F0911_DOC"]); total += Decimal(str(r["F0911_AA"]))
print(len(docs), 1 if total == 0 else 0)
' "$1"
}
one_balanced_doc() { [ "$(je_of "$1")" = "1 1" ]; }
docs_of() { je_of "$1" | cut -d' ' -f1; }
# q SQL: one query on the store while the daemon runs (WAL: readers wait
# for a checkpoint at most 5 s rather than fail).
q() { sqlite3 -cmd ".timeout 5000" "$db" "$1"; }
ledger_state() { q "SELECT state FROM ledger WHERE key = '$1'"; }
posted() { [ "$(ledger_state "$1")" = posted ]; }
job_state() { q "SELECT state FROM jobs WHERE key = '$1' ORDER BY id DESC LIMIT 1"; }
audit_has() { # ENTITY ACTION OUTCOME
    [ "$(q "SELECT count(*) FROM audit WHERE entity = '$1' AND action = '$2' AND outcome = '$3'")" -gt 0 ]
}
je_calls() { ais_ctl GET counters | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("POST /jderest/v3/orchestrator/MLC_AddJournalEntry", 0))'; }

# A paid order of 2 x NW-SOAP-6PK, 9.99 each, 2.00 tax, paid by Stripe.
mkorder() {
    bc_ctl POST orders '{"id":'"$1"',"customer_id":0,"status_id":11,"currency":"USD","date_created":"2026-11-20T09:00:00Z","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":111,"sku":"NW-SOAP-6PK","name":"Soap","quantity":2,"price_ex_tax":"9.99","tax":"1.00"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"21.98","gateway":"stripe"}]}' >/dev/null
}
enqueue() { "$MLC" jobs enqueue --config "$cfg" order.sync "order:$1" >/dev/null 2>&1; }
# past SECONDS_SINCE_EPOCH: sleeps until then (a delayed commit has landed).
past() { local now; now=$(date +%s); [ "$now" -ge "$1" ] || sleep $(( $1 - now )); }

# ---- simulators, configuration, credentials --------------------------------------
require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
mlc_init_base || { not_ok "mlc init"; exit 1; }

# write_config: AIS timeout 2 s; the settle time is the 5 s send window,
# plus 2 s, plus the larger of 2 s and the AIS server's own timeout
# ($server_timeout_s): 15 s to begin with.
lease_s=10; server_timeout_s=8
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
  device_name: "mlc-e2e-trust"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 2000
  server_timeout_s: $server_timeout_s
orders:
  start: $E2E_CUTOVER
posting:
$(e2e_posting_journal)
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
schedule:
  reconcile_interval: 604800
  hooks_interval: 604800
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
store:
  url: "$db"
  master_key_file: "mlc.key"
server:
  listen: "127.0.0.1:$port"
workers:
  count: 3
  lease_s: $lease_s
  retry_base_ms: 200
  retry_cap_ms: 2000
  drain_timeout_s: 5
EOF
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
require "config check accepts the configuration" sh -c '"$0" config check "$1" >/dev/null 2>&1' "$MLC" "$cfg"
store_credentials() { cred_set "$BC_TOKEN" --name bc_token && cred_set "$JDE_PASSWORD" --name jde_password; }
require "credentials stored" store_credentials
require "the daemon starts" daemon_start write_config
# The start-up reconcile sweep enqueues the seeded orders: a fault armed
# while they post could be taken by one of them. Let them finish first, and
# before the test's own orders exist: a sweep that ran late would list those
# too and post them before their faults are armed.
swept() { [ "$(q "SELECT count(*) FROM audit WHERE entity = 'reconcile' AND action = 'sweep'")" -gt 0 ]; }
idle() { [ "$(q "SELECT count(*) FROM jobs WHERE state IN ('ready', 'running')")" = 0 ]; }
sweep_done() { wait_until 300 swept && wait_until 300 idle; }
require "the start-up sweep's orders are done before the test's orders exist" sweep_done
for id in 7001 7002 7003 7004 7005 7006 7007 7008 7009; do mkorder "$id"; done

# ---- 1. a lost reply on a reused connection ---------------------------------------
# A first order warms the connections (login, reads, one create). Then AIS
# commits the next create, holds the reply 1 s (inside the 2 s timeout) and
# closes the connection without a byte.
enqueue 7001
require "a first order posts (connections warm)" wait_until 200 posted BC7001S
require "nothing else is at work before a fault is armed" wait_until 300 idle
ais_ctl POST faults '{"hang":{"orchestration":"MLC_AddJournalEntry","count":1,"hang_s":1}}' >/dev/null
enqueue 7002
check "lost reply: the order ends posted" wait_until 300 posted BC7002S
check "lost reply: exactly one balanced journal entry in JDE" one_balanced_doc BC7002S
check "lost reply: the create reached AIS once" [ "$(ais_ctl GET faults | "$PY" -c 'import json,sys; print((json.load(sys.stdin).get("hang") or {}).get("count"))')" = 0 ]
unknown_then_adopted() { audit_has "order:$1" post unknown && audit_has "order:$1" adopt ok; }
# The adopt row is written just after the ledger row it follows: wait for it.
check "lost reply: audited as an unknown outcome, then adopted from JDE" \
    wait_until 100 unknown_then_adopted 7002

# ---- 2. a gateway's 504 after the commit ---------------------------------------
ais_ctl POST faults '{"hang":{"orchestration":"MLC_AddJournalEntry","count":1,"hang_s":0,"status":504}}' >/dev/null
enqueue 7003
check "gateway 504: the order ends posted, not held" wait_until 300 posted BC7003S
check "gateway 504: exactly one balanced journal entry" one_balanced_doc BC7003S
check "gateway 504: the job is done" [ "$(job_state order:7003)" = done ]

# ---- 3. a create that commits after our timeout ---------------------------------
# AIS runs it for 6 s: our 2 s timeout passes, the look-up 2 s later finds
# nothing, the commit lands at 6 s, inside the settle time (15 s).
before=$(je_calls)
ais_ctl POST faults '{"delay_commit":{"orchestration":"MLC_AddJournalEntry","count":1,"delay_s":6}}' >/dev/null
enqueue 7004; landed=$(( $(date +%s) + 8 ))
check "late commit: the order ends posted" wait_until 300 posted BC7004S
past "$landed"
check "late commit: exactly one balanced journal entry" one_balanced_doc BC7004S
check "late commit: one create sent, never a second" [ "$(( $(je_calls) - before ))" = 1 ]
check "late commit: the run waited for the settle time before believing 'absent'" \
    audit_has order:7004 settle waiting

# ---- 4. frozen past the lease while a create is in flight -----------------------
# The AIS server's own timeout is 30 s here (settle 37 s); the create runs
# 14 s inside AIS; the daemon is frozen 12 s, past its 10 s lease, so another
# worker can take the job over while the first one's create is still coming.
daemon_stop
server_timeout_s=30; write_config
require "the daemon restarts (settle 37 s)" daemon_start write_config
before=$(je_calls)
ais_ctl POST faults '{"delay_commit":{"orchestration":"MLC_AddJournalEntry","count":1,"delay_s":14}}' >/dev/null
enqueue 7005; landed=$(( $(date +%s) + 16 ))
pending() { [ "$(ledger_state "$1")" = pending ]; }
require "frozen: the create is in flight" wait_until 200 pending BC7005S
kill -STOP "$pid"; sleep 12; kill -CONT "$pid"
check "frozen: the order ends posted" wait_until 400 posted BC7005S
past "$landed"
check "frozen: exactly one balanced journal entry" one_balanced_doc BC7005S
check "frozen: one create sent, never a second" [ "$(( $(je_calls) - before ))" = 1 ]

# ---- 5. SIGKILL with a create in flight, then a restart ------------------------
# A 60 s lease: waiting it out after the crash would show.
server_timeout_s=0; lease_s=60; daemon_stop; write_config
require "the daemon restarts (settle 4 s, lease 60 s)" daemon_start write_config
before=$(je_calls)
ais_ctl POST faults '{"delay_commit":{"orchestration":"MLC_AddJournalEntry","count":1,"delay_s":3}}' >/dev/null
enqueue 7006
require "kill: the create is in flight" wait_until 200 pending BC7006S
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=""
for id in 7007 7008 7009; do enqueue "$id"; done
check "kill: the dead daemon left its job running" [ "$(job_state order:7006)" = running ]
t0=$(date +%s%N)
require "the daemon restarts after the SIGKILL" daemon_start write_config
first_posted() { for k in BC7006S BC7007S BC7008S BC7009S; do posted "$k" && return 0; done; return 1; }
wait_until 450 first_posted
t1=$(date +%s%N)
note "time from restart to the next posted document: $(( (t1 - t0) / 1000000 )) ms (lease 60 s)"
check "kill: the restarted daemon released the dead one's lease at once (audited)" \
    audit_has jobs recover ok
all_posted() { for k in BC7006S BC7007S BC7008S BC7009S; do posted "$k" || return 1; done; }
check "kill: every order posts, well before the 60 s lease would have run out" \
    wait_until 450 all_posted
for k in BC7006S BC7007S BC7008S BC7009S; do
    check "kill: $k is one balanced journal entry" one_balanced_doc "$k"
done
check "kill: the create in flight was never sent twice" [ "$(( $(je_calls) - before ))" = 4 ]

# ---- 6. one daemon per SQLite file --------------------------------------------------
"$MLC" run --config "$cfg" >"$tmp/second.log" 2>&1 &
second=$!; e2e_track "$second"
second_gone() { ! kill -0 "$second" 2>/dev/null; }
wait_until 100 second_gone
wait "$second" 2>/dev/null; second_rc=$?
check "a second daemon on the same store exits non-zero" [ "$second_rc" != 0 ]
names_holder() { grep -q "store $db is in use" "$tmp/second.log" && grep -q "pid=$pid " "$tmp/second.log"; }
check "it names the store file and the process holding it" names_holder
check "the first daemon still serves" healthy

# ---- the end -------------------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 100
check "no job failed or is held" [ "$(q "SELECT count(*) FROM jobs WHERE state IN ('failed','held')")" = 0 ]
every_order_once() { for id in 7001 7002 7003 7004 7005 7006 7007 7008 7009; do one_balanced_doc "BC${id}S" || return 1; done; }
check "every order is exactly one balanced journal entry" every_order_once
e2e_done
