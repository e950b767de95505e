#!/usr/bin/env bash
# e2e: serial (many processes, SIGKILLs and timing under load: runs alone)
# End-to-end chaos: the product promise — every paid order posted into JDE
# exactly once, balanced — held against faults, with the real `mlc run` and
# `mlc-sim` (demo seeds) on 127.0.0.1 and temp SQLite stores.
#
#   1. webhooks -> posted: orders created and changed through the store's
#      control API reach the daemon through the hook it registered itself;
#   2. every webhook delivered twice, several status changes -> one document;
#   3. webhooks dropped -> the reconcile sweep (every 10 s) posts the orders;
#   4. AIS restarts (all tokens dropped) while orders post -> all posted
#      once, no job failed or held;
#   5. the journal orchestration commits but never answers (hang 4 s, client
#      timeout 2 s) -> the retry finds the document by its key, adopts it:
#      one document;
#   6. crashes, in two phases of `mlc run` starts, each on its own store:
#      a. journal entries, customers and reversals: the whole store as the
#         backlog (the demo's 32 orders, the orders above, 48 more, one of
#         them with a refund) and its 12 customers; four orders cancelled
#         once posted, the refunded demo order 1007 among them;
#      b. AP vouchers (posting.mode voucher, key prefix BV) of the same
#         store; three orders cancelled once their voucher is posted, one
#         of them with a refund voucher.
#      AIS answers 25 ms late, its timeout is 5 s and its own request
#      timeout 16 s (jde.server_timeout_s): a create in doubt is believed
#      absent only 16 s after it was sent. Each start waits for its first
#      posted document (the time from the restart is printed), then has AIS
#      hold the next create (the commit delayed 1 s, or committed with its
#      reply withheld 3 s) and SIGKILLs the daemon while it is in flight;
#      every third start is killed at a random moment instead. Three starts
#      run with a 10 s lease and are frozen (SIGSTOP) 11 s while a create
#      whose commit is delayed 13 s is in flight: the lease runs out and
#      another worker may take the job over before the commit lands; then
#      SIGCONT (and a kill as above), or SIGKILL. Kills go on until >= 20
#      in all, >= 10 of them with a create in flight (a ledger row in doubt
#      whose job the killed process held); the backlog is topped up so that
#      every start has work. A last start drains each store; the verdicts:
#      every paid order exactly one balanced document (a journal entry
#      summing to zero; a voucher whose F0911 distribution sums to its
#      F0411 gross), each refund one document, each order cancelled after
#      posting exactly one reversal that nets the order to zero on every
#      account, each customer exactly one F0101 row, the ledger agrees with
#      JDE, nothing for the unpaid order, the unmapped-SKU order the only
#      hold; every restart found its dead predecessor's jobs released and
#      resumed posting well within the 60 s lease;
#   7. the daemon logs hold no secret and no sanitizer report.
#
# Figures (kills, restart times, documents, adoptions, time) are printed as
# "# " lines. Prints TAP lines; every wait is bounded; KEEP=1 keeps the temp
# dir.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init chaos
need_py   # $PY: the interpreter, resolved once
SEED_BC="$ROOT/sim/seed/demo-bigcommerce.json"
# The demo JDE seed with 16 AIS threads instead of 4: a held reply (delayed
# commit, withheld answer) blocks its thread's other connections.
SEED_JDE="$tmp/demo-jde.json"
"$PY" - "$ROOT/sim/seed/demo-jde.json" "$SEED_JDE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["jde"].setdefault("settings", {})["threads"] = 16
json.dump(d, open(sys.argv[2], "w"))
PY

KILLS=20        # SIGKILLs of a live daemon, at least
MIN_INFLIGHT=10 # of them with a create in flight, at least
GEN_ORDERS=48   # generated orders added to the demo's backlog
HELD_ORDER=1019 # demo seed: a product with an unmapped SKU
UNPAID_ORDER=1016
REFUND_ORDER=1007 # demo seed: partly refunded (refund 1)
# The configuration (write_config). Phases 1-5: journal mode on mlc.db,
# 4 workers, the default batch of 100, a 10 s lease; phase 6 changes them.
MODE=journal
PREFIX=BC
DB="$tmp/mlc.db"
CUSTOMERS=false
WORKERS=4
BATCH_MAX=100
LEASE_S=10
TIMEOUT_MS=2000
SERVER_TIMEOUT_S=0

cfg="$tmp/mlc.yaml"
logs="$tmp/logs"          # one file per `mlc run` process
mkdir -p "$logs"
STORE_HASH="nwhg42"
BC_TOKEN="sim-token-northwind-demo"        # demo seed values (simulator only)
CLIENT_SECRET="sim-secret-northwind-demo"
JDE_PASSWORD="northwind-demo-pass"
HDR_SECRET="hdr-CANARY-$$-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
t_start=$SECONDS

. "$(dirname "$0")/lib/jde.bash"

# ---- the queue -------------------------------------------------------------------
idle2() { queue_idle && sleep 0.3 && queue_idle; }   # twice: a follow-up may be on its way
# Every job of these orders is done (at least one, none open, held or failed).
jobs_done() { # ID...
    jobs_json | "$PY" -c '
import json, sys
keys = {"order:" + i for i in sys.argv[1:]}
jobs = [j for j in json.load(sys.stdin) if j["key"] in keys]
seen = {j["key"] for j in jobs}
sys.exit(0 if seen == keys and all(j["state"] == "done" for j in jobs) else 1)' "$@"
}
held_counts() { "$MLC" held --config "$cfg" --json 2>/dev/null | jq_py '"%d %d" % (d["held"], d["failed"])'; }
hooks_pending() { bc_ctl GET webhooks | jq_py 'd["pending"]'; }
no_webhook_pending() { [ "$(hooks_pending)" = 0 ]; }
in_logs() { grep -q -- "$1" "$logs"/*.log 2>/dev/null; }

# ---- simulators ------------------------------------------------------------------
require "mlc-sim serves BigCommerce and AIS (demo seeds)" \
    sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$SEED_BC" --seed "$SEED_JDE"
note "mlc-sim: BigCommerce on $BCP, AIS on $AISP"
# The quota is not under test here: unlimited keeps the run short.
bc_ctl POST rate '{"quota":0,"window_ms":30000}' >/dev/null

# ---- configuration, credentials ------------------------------------------------------
mlc_init_base || { not_ok "mlc init"; exit 1; }
# Go-live right after the demo seed's newest order: phases 1-5 see only the
# orders they create (now, in the simulator's clock). Phase 6 backfills the
# whole store on purpose, so it moves the cutover back first.
need_py
CUTOVER=$("$PY" -c '
import json, sys
from datetime import datetime, timedelta
o = json.load(open(sys.argv[1]))["bigcommerce"]["orders"]
t = max(datetime.fromisoformat(x["date_created"].replace("Z", "+00:00")) for x in o)
print((t + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$SEED_BC")
HISTORY_CUTOVER="2020-01-01T00:00:00Z"
write_config() {
    cat >"$cfg" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "$STORE_HASH"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  webhook_public_url: "http://127.0.0.1:$port/webhooks/bigcommerce"
  webhook_secret_ref: "bc_webhook_secret"
  client_secret_ref: "bc_client_secret"
  rate_reserve: 0
  timeout_ms: 5000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  device_name: "mlc-e2e-chaos"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: $TIMEOUT_MS
  server_timeout_s: $SERVER_TIMEOUT_S
posting:
  mode: $MODE
  company: "00001"
  document_type: "JE"
  ledger_type: "AA"
  gl_date: created
  timezone: "UTC"
  key_prefix: "$PREFIX"
  rounding_tolerance: "0.02"
  paid_statuses: [2, 3, 8, 9, 10, 11]
  on_cancel: reverse
  strict_sku_mapping: true
  balance_sheet_bu: "1"
  default_bu: "100"
  accounts:
    revenue: "100.4010"
    discounts: "100.4020"
    shipping: "100.4030"
    handling: "100.4040"
    wrapping: "100.4050"
    fees: "100.4060"
    tax: "1.2310"
    clearing: "1.1110"
    gift_certificate: "1.2410"
    store_credit: "1.2420"
    rounding: "100.7990"
  revenue_by_sku:
    "NW-SOAP-6PK": "100.4010.CLEAN"
    "NW-DISH-1L": "100.4010.CLEAN"
    "NW-SPRAY-750": "100.4010.CLEAN"
    "NW-TOWEL-12": "100.4010.PAPER"
    "NW-TISSUE-24": "100.4010.PAPER"
    "NW-NAPKIN-200": "100.4010.PAPER"
    "NW-POD": "100.4010.LAUNDRY"
    "NW-POD-42": "100.4010.LAUNDRY"
    "NW-POD-84": "100.4010.LAUNDRY"
    "NW-DETERG-3L": "100.4010.LAUNDRY"
    "NW-CANDLE": "100.4010.HOME"
    "NW-CANDLE-CED": "100.4010.HOME"
    "NW-CANDLE-LAV": "100.4010.HOME"
    "NW-BASKET-L": "100.4010.HOME"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
    paypal: "1.1110.PAYPAL"
  clearing_by_method:
    "Bank Deposit": "1.1120"
  default_supplier: "5001"
  supplier_by_gateway:
    stripe: "5001"
    paypal: "5002"
customers:
  enabled: $CUSTOMERS
schedule:
  reconcile_interval: 10
  hooks_interval: 3600
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
orders:
  start: "$CUTOVER"
store:
  url: "$DB"
  master_key_file: "mlc.key"
server:
  listen: "127.0.0.1:$port"
  threads: 2
workers:
  count: $WORKERS
  batch_max: $BATCH_MAX
  lease_s: $LEASE_S
  max_attempts: 50
  retry_base_ms: 100
  retry_cap_ms: 1000
  drain_timeout_s: 10
EOF
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
check "config check accepts the chaos configuration (lease 10 s, reconcile every 10 s)" \
    sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "$JDE_PASSWORD" --name jde_password &&
        cred_set "$HDR_SECRET" --name bc_webhook_secret && cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "credentials stored" store_credentials

# ---- daemon ---------------------------------------------------------------------------
runs=0
launch() { # starts `mlc run` in the background, its log ($log) in $logs
    runs=$((runs + 1)); log="$logs/run-$runs.log"
    "$MLC" run --config "$cfg" >"$log" 2>&1 &
    pid=$!
}
require "daemon serves on 127.0.0.1" daemon_start write_config launch
note "daemon on 127.0.0.1:$port"
check "the daemon registered its hook at the store" wait_until 100 bc_hooked "$STORE_HASH" "$BC_TOKEN"

# ---- 1. webhooks -> posted -------------------------------------------------------------
if new_order 2001 11 && new_order 2002 10 && new_order 2003 7; then
    ok "orders created at the store (2001, 2002 paid; 2003 awaiting payment)"
else
    not_ok "orders created at the store"
fi
posted_1() { all_one 2001 2002; }
check "webhooks -> orders 2001 and 2002 posted, one document each" wait_until 300 posted_1
check "their journals balance to the cent" all_balanced 2001 2002
check "the daemon stored their webhook deliveries" \
    sh -c 'grep -q "delivery stored.*resource=order:2001" "$0" && grep -q "delivery stored.*resource=order:2002" "$0"' "$log"
seen_2003() { grep -q "delivery stored.*resource=order:2003" "$log" && jobs_done 2003; }
check "order 2003 (awaiting payment) fetched through its webhook" wait_until 300 seen_2003
check "order 2003 not posted while unpaid" no_rows "BC2003"
set_status 2003 11
posted_2003() { one_doc BC2003S; }
check "status change to paid -> order 2003 posted through the webhook, once" wait_until 300 posted_2003
check "its journal balances" balanced BC2003S

# ---- 2. duplicate webhooks -> one document --------------------------------------------------
bc_ctl POST faults '{"webhook_duplicate_rate":1}' >/dev/null
new_order 2011 11
posted_2011() { one_doc BC2011S; }
check "every webhook duplicated: order 2011 posted" wait_until 300 posted_2011
for st in 9 2 10; do set_status 2011 "$st"; sleep 0.2; done
set_status 2001 9
wait_until 100 no_webhook_pending
dups=$(bc_ctl GET webhooks | jq_py 'd["duplicated"]')
check "the store sent duplicates ($dups)" [ "${dups:-0}" -ge 4 ]
check "the daemon recognised duplicate deliveries" grep -q 'duplicate delivery.*resource=order:2011' "$log"
check "the daemon is idle again" wait_until 300 idle2
check "order 2011 still has exactly one document after 3 status changes" one_doc BC2011S
check "order 2001 still has exactly one document" one_doc BC2001S
bc_ctl POST faults '{"reset":true}' >/dev/null

# ---- 3. dropped webhooks -> the reconcile sweep ------------------------------------------------
dropped0=$(bc_ctl GET webhooks | jq_py 'd["dropped"]')
recon0=$(grep -c 'reconcile enqueued orders' "$log")
bc_ctl POST faults '{"webhook_drop_rate":1}' >/dev/null
new_order 2021 11; new_order 2022 2
dropped1=$(bc_ctl GET webhooks | jq_py 'd["dropped"]')
check "the store dropped the webhooks of orders 2021 and 2022" [ "$((dropped1 - dropped0))" -ge 2 ]
posted_3() { all_one 2021 2022; }
t0=$SECONDS
check "the reconcile sweep posts both within one interval (10 s) and processing" wait_until 300 posted_3
note "dropped-webhook orders posted after $((SECONDS - t0)) s"
check "no webhook of 2021/2022 reached the daemon; a sweep since enqueued orders" \
    sh -c '! grep -q "delivery stored.*resource=order:202[12]" "$0" &&
           [ "$(grep -c "reconcile enqueued orders" "$0")" -gt "$1" ]' "$log" "$recon0"
check "their journals balance" all_balanced 2021 2022
bc_ctl POST faults '{"reset":true}' >/dev/null

# ---- 4. AIS restart while posting -> no failure ---------------------------------------------------
relogins0=$(grep -c 'session token refused' "$log")
ais_ctl POST faults '{"latency_ms":250}' >/dev/null
S4="2031 2032 2033 2034 2035 2036 2037 2038"
for i in $S4; do new_order "$i" 11; done
# Restarts every 0.3 s while the eight post (4 workers, 250 ms per AIS call).
s4_posted() { f0911 BC203 | awk '$1 ~ /S$/ { n++ } END { print n + 0 }'; }
during=0
for _ in 1 2 3 4 5 6; do
    sleep 0.3
    [ "$(s4_posted)" -lt 8 ] && during=$((during + 1))
    ais_ctl POST restart >/dev/null
done
note "AIS restarted 6 times, $during of them with orders of this batch not yet posted"
check "AIS restarts landed while the batch was posting" [ "$during" -ge 2 ]
posted_4() { all_one $S4 && jobs_done $S4; }
check "after the restarts all 8 orders posted, once each" wait_until 400 posted_4
check "their journals balance" all_balanced $S4
check "no job of theirs failed or was held" jobs_done $S4
nothing_held() { [ "$(held_counts)" = "0 0" ]; }
check "nothing held or failed anywhere" nothing_held
check "the daemon saw its token refused and logged in again" \
    sh -c '[ "$(grep -c "session token refused" "$0")" -gt "$1" ]' "$log" "$relogins0"
ais_ctl POST faults '{"latency_ms":0}' >/dev/null

# ---- 5. commit without an answer -> no double post ----------------------------------------------
ais_ctl POST faults '{"hang":{"orchestration":"MLC_AddJournalEntry","count":1,"hang_s":4}}' >/dev/null
new_order 2041 11
done_5() { jobs_done 2041; }
check "order 2041: the orchestration committed, its answer lost (timeout 2 s), the job finished" \
    wait_until 400 done_5
check "order 2041 has exactly one document" one_doc BC2041S
check "its journal balances" balanced BC2041S
"$MLC" audit --order 2041 --config "$cfg" --json >"$tmp/audit-2041.json" 2>/dev/null
check "its audit trail: post outcome unknown, then the document found by key and adopted" \
    "$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))["audit"]
acts = [(r["action"], r["outcome"]) for r in a]
i = acts.index(("post", "unknown"))
sys.exit(0 if ("adopt", "ok") in acts[i:] and ("post", "ok") not in acts else 1)' "$tmp/audit-2041.json"
ais_ctl POST faults '{"hang":null}' >/dev/null

# ---- stop ---------------------------------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 300
check "exit status 0" [ "$daemon_rc" = 0 ]
PHASE1=(2001 2002 2003 2011 2021 2022 $S4 2041)
check "phase 1: all ${#PHASE1[@]} orders still one document each" all_one "${PHASE1[@]}"
note "phases 1-5: $((SECONDS - t_start)) s"


# The verdicts of one phase, from its snapshot (JDE's tables, `mlc held`,
# the store's ledger, jobs and audit counts):
#   verdict.py DIR MODE PREFIX PAID REFUND_KEYS CANCELLED CUSTOMERS HELD UNPAID
# (lists comma-separated). Prints "PASS text" / "FAIL text" / "NOTE text".
cat >"$tmp/verdict.py" <<'PY'
import json, os, sys
from decimal import Decimal

d, mode, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
ids = lambda s: [int(x) for x in s.split(",") if x]
paid, refund_keys = ids(sys.argv[4]), [x for x in sys.argv[5].split(",") if x]
cancelled, customers = ids(sys.argv[6]), ids(sys.argv[7])
held_id, unpaid_id = int(sys.argv[8]), int(sys.argv[9])
voucher = mode == "voucher"
out = []
def verdict(ok, text, bad=()):
    bad = list(bad)
    out.append(("PASS " if ok else "FAIL ") + "%s: %s" % (mode, text)
               + (": " + ", ".join(str(b) for b in bad[:12]) if bad and not ok else ""))
def load(name):
    with open(os.path.join(d, name)) as f:
        t = f.read()
    return json.loads(t, parse_float=Decimal) if t.strip() else []
def s(v): return str(v if v is not None else "").strip()
def dec(v): return Decimal(str(v))

# Documents by (type, number, company): their references, F0411 headers
# (voucher) with the gross, and lines as (account, amount).
docs = {}
def doc(k): return docs.setdefault(k, {"refs": set(), "heads": 0, "gross": Decimal(0), "lines": []})
if voucher:
    for r in load("F0411.json")["rows"]:
        ref = s(r.get("F0411_VINV"))
        if ref.startswith(prefix):
            x = doc((s(r["F0411_DCT"]), r["F0411_DOC"], s(r["F0411_KCO"])))
            x["refs"].add(ref); x["heads"] += 1; x["gross"] += dec(r["F0411_AG"])
for r in load("F0911.json")["rows"]:
    ref = s(r.get("F0911_VINV"))
    if not ref.startswith(prefix):
        continue
    x = doc((s(r["F0911_DCT"]), r["F0911_DOC"], s(r["F0911_KCO"])))
    x["refs"].add(ref)
    acct = ".".join(p for p in (s(r.get("F0911_MCU")), s(r.get("F0911_OBJ")), s(r.get("F0911_SUB"))) if p)
    x["lines"].append((acct, dec(r["F0911_AA"])))
by_ref, several, unbalanced = {}, [], []
for k, x in docs.items():
    if len(x["refs"]) != 1:
        several.append("%s %s %s" % (k[0], k[1], sorted(x["refs"])))
    ref = sorted(x["refs"])[0]
    by_ref.setdefault(ref, []).append(k)
    total = sum((a for _, a in x["lines"]), Decimal(0))
    if voucher and (k[0] != "PV" or x["heads"] != 1 or total != x["gross"] or not x["lines"]):
        unbalanced.append("%s %s (%s): %d F0411 rows, gross %s, distribution %s"
                          % (k[0], k[1], ref, x["heads"], x["gross"], total))
    if not voucher and (k[0] != "JE" or total != 0):
        unbalanced.append("%s %s (%s): sum %s" % (k[0], k[1], ref, total))

doubled = sorted(r for r, ks in by_ref.items() if len(ks) != 1)
verdict(not doubled and not several, "no reference has more than one document (%d documents, %d references)"
        % (len(docs), len(by_ref)), doubled + several)
sales = ["%s%dS" % (prefix, i) for i in paid]
verdict(all(len(by_ref.get(k, [])) == 1 for k in sales),
        "every paid order (%d) has exactly one sale %s" % (len(paid), "voucher" if voucher else "journal entry"),
        [k for k in sales if len(by_ref.get(k, [])) != 1])
verdict(not unbalanced, "every voucher is one F0411 row whose F0911 distribution sums to its gross"
        if voucher else "every journal entry balances to the cent (sum of AA = 0)", unbalanced)
verdict(all(len(by_ref.get(k, [])) == 1 for k in refund_keys),
        "each refund (%s) is exactly one document" % ", ".join(refund_keys),
        [k for k in refund_keys if len(by_ref.get(k, [])) != 1])

# A cancelled order: one reversal, and its documents (sale, refunds,
# reversal) net to zero on every account (and in gross).
bad = []
for i in cancelled:
    rk = "%s%dC" % (prefix, i)
    if len(by_ref.get(rk, [])) != 1:
        bad.append("%s: %d documents" % (rk, len(by_ref.get(rk, []))))
        continue
    net, gross = {}, Decimal(0)
    for ref, ks in by_ref.items():
        if ref == "%s%dS" % (prefix, i) or ref == rk or ref.startswith("%s%dR" % (prefix, i)):
            for k in ks:
                gross += docs[k]["gross"]
                for a, v in docs[k]["lines"]:
                    net[a] = net.get(a, Decimal(0)) + v
    left = {a: v for a, v in net.items() if v != 0}
    if left or gross != 0:
        bad.append("order %d nets to %s, gross %s" % (i, left, gross))
verdict(not bad, "each of the %d orders cancelled after posting (%s) has exactly one reversal, "
        "and the order nets to zero on every account" % (len(cancelled), ", ".join(map(str, cancelled))), bad)
for i in (unpaid_id, held_id):
    nope = [r for r in by_ref if r.startswith("%s%d" % (prefix, i))]
    verdict(not nope, "no document for order %d (%s)" % (i, "unpaid" if i == unpaid_id else "unmapped SKU, held"), nope)
known = set(sales) | set(refund_keys) | {"%s%dC" % (prefix, i) for i in cancelled}
verdict(not (set(by_ref) - known), "no unexpected reference in JDE", sorted(set(by_ref) - known))

held = load("held.json")
items = [(i["key"], i["state"]) for i in held.get("items", [])]
verdict(items == [("order:%d" % held_id, "held")], "mlc held shows only order:%d held" % held_id, items)
reason = held["items"][0]["reason"] if held.get("items") else ""
verdict("NW-BAMBOO-BRUSH" in reason, "its reason names the unmapped SKU")
jobs = load("jobs.json")
open_ = ["%s %s" % (j["key"], j["state"]) for j in jobs if j["state"] in ("ready", "running", "failed")]
verdict(not open_, "no job left ready, running or failed (%d jobs)" % len(jobs), open_)

# The ledger agrees with JDE: every document is a row POSTED under its key
# with JDE's number, the lines (and gross) it sent; no row left in doubt;
# no posted row without its document.
ledger = {l["key"]: l for l in load("ledger.json")}
wrong = []
for ref, ks in by_ref.items():
    l = ledger.get(ref)
    if l is None or l["state"] != "posted" or len(ks) != 1 or l["doc_number"] != ks[0][1]:
        wrong.append("%s (ledger %s)" % (ref, "none" if l is None else "%s %s" % (l["state"], l["doc_number"])))
        continue
    req = json.loads(l["request"])
    sent = sorted(Decimal(x["amount"]) for x in req["lines"])
    got = sorted(v for _, v in docs[ks[0]]["lines"])
    if sent != got or (voucher and Decimal(req["gross"]) != docs[ks[0]]["gross"]):
        wrong.append("%s: JDE lines %s, ledger lines %s" % (ref, got, sent))
wrong += ["%s left %s" % (k, l["state"]) for k, l in ledger.items() if l["state"] != "posted"]
wrong += ["%s posted, not in JDE" % k for k, l in ledger.items()
          if l["kind"] != "customer" and l["state"] == "posted" and k not in by_ref]
verdict(not wrong, "the ledger records every document as posted with JDE's number and lines (%d rows)"
        % len(ledger), wrong)

if customers:
    rows = load("F0101.json")["rows"]
    an8 = {}
    for r in rows:
        an8.setdefault(s(r.get("F0101_ALKY")), []).append(r["F0101_AN8"])
    bad = []
    for c in customers:
        k = "%s%d" % (prefix, c)
        l = ledger.get(k)
        if len(an8.get(k, [])) != 1:
            bad.append("%s: %d F0101 rows" % (k, len(an8.get(k, []))))
        elif l is None or l["state"] != "posted" or l["doc_number"] != an8[k][0]:
            bad.append("%s: ledger %s, AN8 %s" % (k, None if l is None else (l["state"], l["doc_number"]), an8[k][0]))
    verdict(not bad, "each of the %d customers has exactly one F0101 row, recorded in the ledger with its AN8"
            % len(customers), bad)

# Every create's ledger row is on disk before the create leaves, and no
# store is restored here: a document found in JDE without a row means the
# store lost a committed row (as a transaction left open by a worker did).
lost = ["%s (%s)" % (a["key"], a["actor"]) for a in load("adopt_no_row.json")]
verdict(not lost, "the store lost no ledger row: nothing was adopted for want of one", lost)

acts = {(a["action"], a["outcome"]): a["n"] for a in load("audit.json")}
out.append("NOTE %s: %d documents (%d sales, %d refunds, %d reversals); audit: %d posts, %d outcome unknown, "
           "%d adopted (found in JDE by key), %d settle waits, %d jobs recovered at start, %d lease lost"
           % (mode, len(docs), sum(1 for r in by_ref if r.endswith("S")),
              sum(1 for r in by_ref if "R" in r[len(prefix):]), sum(1 for r in by_ref if r.endswith("C")),
              acts.get(("post", "ok"), 0), acts.get(("post", "unknown"), 0) + acts.get(("create", "unknown"), 0),
              acts.get(("adopt", "ok"), 0), acts.get(("settle", "waiting"), 0),
              acts.get(("recover", "ok"), 0), sum(v for (a, o), v in acts.items() if o == "lease_lost")))
print("\n".join(out))
PY

# ---- 6. crashes: SIGKILL and SIGSTOP with creates in flight ------------------------------------
# Reads of the current store ($DB) while a daemon may write it (WAL).
sq() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
sq_json() { sqlite3 -batch -json -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
now_ms() { date +%s%3N; }
posted_n() { sq "SELECT count(*) FROM ledger WHERE state = 'posted'"; }
posted_past() { [ "$(posted_n)" -gt "$1" ]; }
is_posted() { [ "$(sq "SELECT state FROM ledger WHERE key = '$1'")" = posted ]; }
# Creates of process $1 in flight: ledger rows in doubt (pending, unknown)
# whose entity's job that process holds ("<host>:<pid>:<nonce>:wN" owners).
inflight_of() {
    sq "SELECT count(*) FROM ledger AS l JOIN jobs AS j ON j.key = l.entity
         WHERE l.state IN ('pending', 'unknown') AND j.state = 'running'
           AND j.owner LIKE '%:$1:%:w%'"
}
running_of() { sq "SELECT count(*) FROM jobs WHERE state = 'running' AND owner LIKE '%:$1:%:w%'"; }
# Order jobs a start can take at once (ready and due, not deferred) whose
# sale is not posted yet: work that posts.
due_orders() {
    sq "SELECT count(*) FROM jobs AS j WHERE j.kind = 'order.sync' AND j.state = 'ready'
         AND j.run_at <= CAST(strftime('%s', 'now') AS INTEGER) * 1000
         AND NOT EXISTS (SELECT 1 FROM ledger AS l WHERE l.entity = j.key AND l.kind = 'sale')"
}
# Uses left of the AIS fault $1 (hang, delay_commit): 0 once taken. A short
# timeout: a held reply can hold up a request that AIS took on the same
# thread, and the next poll asks again.
fault_left() {
    curl -s --max-time 1 "http://127.0.0.1:$AISP/__sim/faults" |
        jq_py "(d.get('$1') or {}).get('count', 0)" 2>/dev/null
}
taken_in_flight() { [ "$(fault_left "$1")" = 0 ] && [ "$(inflight_of "$pid")" -gt 0 ]; }
in_list() { local x="$1" y; shift; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
enqueue() { "$MLC" jobs enqueue --config "$cfg" order.sync "order:$1" >/dev/null 2>&1; }
sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

GEN=()          # generated orders, in the store's order
next_id=2100
gen_orders() { # N: N more card orders; every third Awaiting Fulfillment (10), else Completed (11)
    local i id st
    for i in $(seq 1 "$1"); do
        next_id=$((next_id + 1)); id=$next_id; st=11
        [ $((id % 3)) = 0 ] && st=10
        new_order "$id" "$st" && GEN+=("$id")
    done
}
# The backlog never runs dry while kills go on: below 20 due order jobs,
# 20 more orders are created and enqueued (`mlc sync orders` from the first).
refills=0
refill() {
    local first
    [ "$(due_orders)" -ge 20 ] && return 0
    first=$((next_id + 1)); gen_orders 20; refills=$((refills + 1))
    "$MLC" sync orders --from-id "$first" --config "$cfg" >>"$tmp/refill.log" 2>&1
}

# Cancellations after posting, at most one before each start: an order
# whose sale the ledger shows posted is set Cancelled (5) at the store and
# its job enqueued (its webhook may find no daemon alive). $CANCEL_WITH, an
# order with a refund, is cancelled once its refund ($CANCEL_WITH_REFUND)
# is posted too; generated orders ($GEN_REFUND aside) make up $CANCEL_MORE
# more.
CANCELLED=()    # of the current phase
cancel() { set_status "$1" 5 && enqueue "$1" && CANCELLED+=("$1"); }
maybe_cancel() {
    local id more=${#CANCELLED[@]}
    if in_list "$CANCEL_WITH" "${CANCELLED[@]}"; then
        more=$((more - 1))
    elif is_posted "$PREFIX${CANCEL_WITH}S" && is_posted "$CANCEL_WITH_REFUND"; then
        cancel "$CANCEL_WITH"; return
    fi
    [ "$more" -lt "$CANCEL_MORE" ] || return 0
    for id in $(sq "SELECT substr(entity, 7) FROM ledger WHERE state = 'posted' AND kind = 'sale'
                     AND CAST(substr(entity, 7) AS INTEGER) > 2100 ORDER BY key"); do
        in_list "$id" "${CANCELLED[@]}" "$GEN_REFUND" && continue
        cancel "$id"; return
    done
}

# ---- the rounds ----
kills=0; inflight=0; stranded=0; dead_early=0; no_post=0; unreleased=0
freezes=0; takeovers=0
RESTART_MS=()
last_dead=""
# round KIND: one start of `mlc run` on $cfg and its end. KIND: delay
# (commit delayed 1 s), hang (committed, reply withheld 3 s), random (a
# random 0-400 ms after the first post), freeze / freezekill (lease 10 s,
# commit delayed 13 s, SIGSTOP 11 s, then SIGCONT and a delay round, or
# SIGKILL).
round() {
    local kind="$1" p0 t0 dt thawed=""
    what="start $((runs + 1)) ($kind)"
    refill
    maybe_cancel
    # A freeze runs 6 workers taking one job at a time: after SIGCONT the
    # others claim often, and may take the frozen job before its renewal.
    LEASE_S=60; WORKERS=3; BATCH_MAX=4
    case "$kind" in freeze*) LEASE_S=10; WORKERS=6; BATCH_MAX=1 ;; esac
    write_config
    p0=$(posted_n)
    launch; t0=$(now_ms)
    if ! wait_until 300 posted_past "$p0"; then
        no_post=$((no_post + 1))
        note "start $runs ($kind): no document posted within 30 s"
    fi
    dt=$(( $(now_ms) - t0 ))
    if ! kill -0 "$pid" 2>/dev/null; then
        dead_early=$((dead_early + 1)); wait "$pid" 2>/dev/null; pid=""; return
    fi
    RESTART_MS+=("$dt")
    what="start $runs ($kind, lease ${LEASE_S} s): first document posted $dt ms after the restart"
    # The dead predecessor's jobs were released at start, not a lease later.
    if [ -n "$last_dead" ] && [ "$(running_of "$last_dead")" != 0 ]; then
        unreleased=$((unreleased + 1))
    fi
    case "$kind" in
        freeze|freezekill)
            ais_ctl POST faults '{"delay_commit":{"orchestration":"*","count":1,"delay_s":13}}' >/dev/null
            if wait_until 100 taken_in_flight delay_commit; then
                kill -STOP "$pid"; sleep 11
                freezes=$((freezes + 1))
                if [ "$kind" = freezekill ]; then
                    kill_now; return
                fi
                # Another worker may take the job over now, while the
                # create is still coming (it commits 13 s after it was sent).
                kill -CONT "$pid"; sleep 0.5
                thawed=$log
                refill   # the thawed daemon may have drained its backlog
            else
                note "start $runs: no delayed create in flight within 10 s, not frozen"
            fi
            kind=delay ;;
    esac
    case "$kind" in
        hang)
            ais_ctl POST faults '{"hang":{"orchestration":"*","count":1,"hang_s":3}}' >/dev/null
            wait_until 100 taken_in_flight hang ;;
        delay)
            ais_ctl POST faults '{"delay_commit":{"orchestration":"*","count":1,"delay_s":1}}' >/dev/null
            wait_until 100 taken_in_flight delay_commit ;;
        random)
            sleep_ms $((RANDOM % 401)) ;;
    esac
    kill_now
    # A worker of the thawed daemon found its job taken over by another.
    if [ -n "$thawed" ] && grep -q -e "lease lost" -e "job outcome not recorded" "$thawed"; then
        takeovers=$((takeovers + 1))
    fi
}
# SIGKILL $pid (running or stopped), reap it, count what it left in flight.
kill_now() {
    local j r
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    j=$(inflight_of "$pid"); r=$(running_of "$pid")
    [ "${j:-0}" -gt 0 ] && inflight=$((inflight + 1))
    stranded=$((stranded + r))
    note "$what; killed with ${j:-?} creates in flight, ${r:-?} jobs running"
    last_dead=$pid; pid=""
    ais_ctl POST faults '{"delay_commit":null,"hang":null}' >/dev/null
}
# kill_loop MIN_KILLS ALL_KILLS ALL_INFLIGHT FREEZE_AT FREEZEKILL_AT:
# rounds until this loop made MIN_KILLS kills and the whole test ALL_KILLS,
# ALL_INFLIGHT of them with a create in flight; round FREEZE_AT is a
# freeze, FREEZEKILL_AT a freezekill (0: none), the others delay, hang and
# random in turn. At most 40 rounds or 150 s. AIS answers every call 25 ms
# late meanwhile (a LAN's latency): the store's backlog would otherwise
# post in the time it takes to see the first document.
kill_loop() {
    local min="$1" all="$2" all_in="$3" fz="$4" fk="$5" k0=$kills r=0 kind t0=$SECONDS
    ais_ctl POST faults '{"latency_ms":25}' >/dev/null
    while [ "$r" -lt 40 ] && [ $((SECONDS - t0)) -lt 150 ] &&
          { [ $((kills - k0)) -lt "$min" ] || [ "$kills" -lt "$all" ] ||
            [ "$inflight" -lt "$all_in" ] || [ "$r" -lt "$fz" ] || [ "$r" -lt "$fk" ]; }; do
        r=$((r + 1))
        case $((r % 3)) in 1) kind=delay ;; 2) kind=hang ;; 0) kind=random ;; esac
        [ "$r" = "$fz" ] && kind=freeze
        [ "$r" = "$fk" ] && kind=freezekill
        round "$kind"
    done
    ais_ctl POST faults '{"latency_ms":0}' >/dev/null
}
# The last start of a phase ($1): the default batch, left to drain the
# store. Cancellations the kill loop did not get to (their orders were not
# posted yet) are made once it is idle; then it drains them.
drain() {
    local t=$SECONDS n0
    WORKERS=4; BATCH_MAX=100; LEASE_S=60; write_config
    launch
    check "$1: the daemon starts after the last kill" wait_until 150 healthy
    check "$1: it drains the backlog until idle" wait_until 900 idle2
    while n0=${#CANCELLED[@]}; maybe_cancel; [ "${#CANCELLED[@]}" -gt "$n0" ]; do :; done
    check "$1: $((CANCEL_MORE + 1)) orders cancelled after posting (${CANCELLED[*]}), $CANCEL_WITH among them" \
        sh -c '[ "$0" = "$1" ] && case " $2 " in *" $3 "*) ;; *) exit 1 ;; esac' \
        "${#CANCELLED[@]}" "$((CANCEL_MORE + 1))" "${CANCELLED[*]}" "$CANCEL_WITH"
    # The store retries the webhooks that found no daemon alive: they come
    # in now, and their jobs find their orders posted.
    check "$1: the store delivered every webhook" wait_until 600 no_webhook_pending
    check "$1: the daemon is idle again" wait_until 900 idle2
    note "$1: final drain $((SECONDS - t)) s"
}
# The phase's facts, read once its daemon stopped: JDE tables, the store.
snapshot() { # DIR
    mkdir -p "$1"
    ais_ctl GET table/F0911 >"$1/F0911.json"
    ais_ctl GET table/F0411 >"$1/F0411.json"
    ais_ctl GET table/F0101 >"$1/F0101.json"
    "$MLC" held --config "$cfg" --json >"$1/held.json" 2>/dev/null
    sq_json "SELECT key, kind, entity, state, doc_type, doc_number, request FROM ledger" >"$1/ledger.json"
    sq_json "SELECT kind, key, state FROM jobs" >"$1/jobs.json"
    sq_json "SELECT action, outcome, count(*) AS n FROM audit GROUP BY action, outcome" >"$1/audit.json"
    sq_json "SELECT json_extract(detail, '\$.key') AS key, actor, at FROM audit
              WHERE action = 'adopt' AND json_extract(detail, '\$.why') LIKE 'no ledger row%'" \
        >"$1/adopt_no_row.json"
}
# The verdicts (verdict.py, below): lines "PASS text" / "FAIL text" / "NOTE text".
verdicts() { # DIR MODE PREFIX PAID REFUND_KEYS CANCELLED CUSTOMERS
    local rc kind text
    "$PY" "$tmp/verdict.py" "$@" "$HELD_ORDER" "$UNPAID_ORDER" >"$1/verdicts.txt" 2>"$1/verdicts.err"
    rc=$?
    while read -r kind text; do
        case "$kind" in
            PASS) ok "$text" ;;
            FAIL) not_ok "$text" ;;
            NOTE) note "$text" ;;
        esac
    done <"$1/verdicts.txt"
    if [ "$rc" != 0 ]; then
        not_ok "the $2 verdicts were computed (exit $rc)"
        sed 's/^/# /' "$1/verdicts.err"
    fi
}
csv() { local IFS=,; echo "$*"; }
# The store's orders by id, the demo's (seed) and every one created here.
DEMO_IDS=$("$PY" -c 'import json, sys
print(" ".join(str(o["id"]) for o in json.load(open(sys.argv[1]))["bigcommerce"]["orders"]))' "$SEED_BC")
# The demo seed as this test reads it: 32 orders, all paid (the configured
# statuses, or refunded) but the unpaid one; the held one paid; one refund,
# of REFUND_ORDER.
seed_as_expected() {
    "$PY" - "$SEED_BC" "$HELD_ORDER" "$UNPAID_ORDER" "$REFUND_ORDER" <<'PY'
import json, sys
bc = json.load(open(sys.argv[1]))["bigcommerce"]
held, unpaid, refunded = (int(x) for x in sys.argv[2:5])
paid = {2, 3, 8, 9, 10, 11, 4, 14}
st = {o["id"]: o.get("status_id", 11) for o in bc["orders"]}
ok = (len(st) == 32 and st.get(unpaid) not in paid and
      all(s in paid for i, s in st.items() if i != unpaid) and
      [r["order_id"] for r in bc.get("refunds", [])] == [refunded])
sys.exit(0 if ok else 1)
PY
}
# mlc audit --order ID --json: the ledger shows these keys posted.
audit_shows() { # ID KEY...
    local id="$1"; shift
    "$MLC" audit --order "$id" --config "$cfg" --json 2>/dev/null | "$PY" -c '
import json, sys
rows = {l["key"]: l["state"] for l in json.load(sys.stdin).get("ledger", [])}
sys.exit(0 if all(rows.get(k) == "posted" for k in sys.argv[1:]) else 1)' "$@"
}

# ---- 6a. journal entries, customers, reversals ----
t6=$SECONDS
check "the demo seed is as this test expects (32 orders, $UNPAID_ORDER unpaid, a refund of $REFUND_ORDER)" \
    seed_as_expected
gen_orders "$GEN_ORDERS"
check "$GEN_ORDERS more paid orders in the store" [ "${#GEN[@]}" = "$GEN_ORDERS" ]
# A refund of one unit of the spray (6.95 + 0.57 tax) on the second one
# (item_id: the order product's id, numbered store-wide).
GEN_REFUND=${GEN[1]}
spray_item=$(curl -s --max-time 10 -H "X-Auth-Token: $BC_TOKEN" -H 'Accept: application/json' \
    "http://127.0.0.1:$BCP/stores/$STORE_HASH/v2/orders/$GEN_REFUND/products" |
    jq_py '[p["id"] for p in d if p["sku"] == "NW-SPRAY-750"][0]' 2>/dev/null)
bc_ctl POST refunds '{"order_id":'"$GEN_REFUND"',"reason":"Leaking","tax":"0.57","items":[{"item_type":"PRODUCT","item_id":'"${spray_item:-0}"',"quantity":1,"amount":"7.52"}],"payments":[{"provider_id":"stripe","amount":"7.52","offline":false}]}' >"$tmp/refund.json"
GEN_REFUND_ID=$(jq_py 'd["id"]' <"$tmp/refund.json" 2>/dev/null)
check "a refund of order $GEN_REFUND at the store (refund $GEN_REFUND_ID)" [ -n "$GEN_REFUND_ID" ]
# Five more customers beside the demo's seven.
CUSTOMER_IDS=$("$PY" -c 'import json, sys
print(" ".join(str(c["id"]) for c in json.load(open(sys.argv[1]))["bigcommerce"]["customers"]))' "$SEED_BC")
for c in 101 102 103 104 105; do
    bc_ctl POST customers '{"id":'"$c"',"email":"buyer'"$c"'@example.com","first_name":"Buyer","last_name":"No '"$c"'","phone":"555-0'"$c"'","addresses":[{"first_name":"Buyer","last_name":"No '"$c"'","address1":"'"$c"' Harbor Way","city":"Portland","state_or_province":"Oregon","postal_code":"97201","country_code":"US"}]}' \
        | grep -q "\"id\": *${c}[,}]" && CUSTOMER_IDS="$CUSTOMER_IDS $c"
done
check "12 customers in the store (the demo's 7 and 5 new)" [ "$(echo $CUSTOMER_IDS | wc -w)" = 12 ]

# Small batches (3 workers x 4): many claims, so kills land in partly posted
# batches. The AIS timeout is 5 s (at most half the 10 s lease of the
# freezes), AIS's own request timeout 16 s: the settle time of a create in
# doubt is 5 + 5 + 16 s, longer than the longest delayed commit below (13 s).
# The deliberate backfill of the history: the cutover moves back first.
CUTOVER=$HISTORY_CUTOVER
CUSTOMERS=true; TIMEOUT_MS=5000; SERVER_TIMEOUT_S=16; WORKERS=3; BATCH_MAX=4; LEASE_S=60; write_config
check "config check accepts the kill-loop configuration (customers, AIS timeout 5 s, settle 26 s)" \
    sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
check "mlc sync orders --from-id 1001 enqueues the whole store as the backlog" \
    sh -c '"$0" sync orders --from-id 1001 --config "$1" >"$2" 2>&1' "$MLC" "$cfg" "$tmp/sync.log"
note "$(tail -n 1 "$tmp/sync.log")"
check "mlc sync customers --from-id 1 enqueues the 12 customers" \
    sh -c '"$0" sync customers --from-id 1 --config "$1" >"$2" 2>&1 && grep -q "from 12 customers" "$2"' \
    "$MLC" "$cfg" "$tmp/sync-customers.log"

CANCEL_WITH=$REFUND_ORDER; CANCEL_WITH_REFUND="BC${REFUND_ORDER}R1"; CANCEL_MORE=3
kill_loop 12 12 6 8 4
note "6a: $kills kills ($inflight with a create in flight), $freezes freezes past the lease ($takeovers with a job taken over), $refills refills; $((SECONDS - t6)) s"
drain 6a
CANCELLED_A=("${CANCELLED[@]}")
check "6a: mlc audit --order $REFUND_ORDER shows its sale, refund and reversal posted" \
    audit_shows "$REFUND_ORDER" "BC${REFUND_ORDER}S" "BC${REFUND_ORDER}R1" "BC${REFUND_ORDER}C"
check "6a: SIGTERM stops the last daemon" daemon_term 300
check "6a: exit status 0" [ "$daemon_rc" = 0 ]
GEN_A=("${GEN[@]}")
PAID_A=()
for i in $DEMO_IDS "${PHASE1[@]}" "${GEN_A[@]}"; do
    [ "$i" = "$HELD_ORDER" ] || [ "$i" = "$UNPAID_ORDER" ] || PAID_A+=("$i")
done
snapshot "$tmp/6a"
verdicts "$tmp/6a" journal BC "$(csv "${PAID_A[@]}")" \
    "BC${REFUND_ORDER}R1,BC${GEN_REFUND}R${GEN_REFUND_ID}" "$(csv "${CANCELLED_A[@]}")" \
    "$(csv $CUSTOMER_IDS)"

# ---- 6b. AP vouchers and their reversals, on a store of their own ----
t6b=$SECONDS
MODE=voucher; PREFIX=BV; DB="$tmp/mlc-voucher.db"; CUSTOMERS=false
WORKERS=3; BATCH_MAX=4; LEASE_S=60; write_config
check "config check accepts the voucher configuration (prefix BV, default supplier 5001)" \
    sh -c '"$0" config check "$1" >/dev/null' "$MLC" "$cfg"
require "credentials stored in the voucher store" store_credentials
check "mlc sync orders --from-id 1001 enqueues the whole store again, for vouchers" \
    sh -c '"$0" sync orders --from-id 1001 --config "$1" >"$2" 2>&1' "$MLC" "$cfg" "$tmp/sync-v.log"
note "$(tail -n 1 "$tmp/sync-v.log")"
CANCELLED=(); last_dead=""
CANCEL_WITH=$GEN_REFUND; CANCEL_WITH_REFUND="BV${GEN_REFUND}R${GEN_REFUND_ID}"; CANCEL_MORE=2
kill_loop 6 "$KILLS" "$MIN_INFLIGHT" 3 0
note "6b: $kills kills in all ($inflight with a create in flight), $freezes freezes ($takeovers with a job taken over), $refills refills; $((SECONDS - t6b)) s"
drain 6b
CANCELLED_B=("${CANCELLED[@]}")
check "6b: mlc audit --order $GEN_REFUND shows its sale, refund and reversal vouchers posted" \
    audit_shows "$GEN_REFUND" "BV${GEN_REFUND}S" "BV${GEN_REFUND}R${GEN_REFUND_ID}" "BV${GEN_REFUND}C"
check "6b: SIGTERM stops the last daemon" daemon_term 300
check "6b: exit status 0" [ "$daemon_rc" = 0 ]
# Paid for the vouchers: what was paid in 6a but not cancelled there, and
# the orders the refills added since.
PAID_B=()
for i in "${PAID_A[@]}" "${GEN[@]:${#GEN_A[@]}}"; do
    in_list "$i" "${CANCELLED_A[@]}" || PAID_B+=("$i")
done
snapshot "$tmp/6b"
verdicts "$tmp/6b" voucher BV "$(csv "${PAID_B[@]}")" \
    "BV${GEN_REFUND}R${GEN_REFUND_ID}" "$(csv "${CANCELLED_B[@]}")" ""

# ---- the kills, the restarts ----
check "$kills SIGKILLs of a live daemon (>= $KILLS)" [ "$kills" -ge "$KILLS" ]
check "$inflight of them caught a create in flight (>= $MIN_INFLIGHT)" [ "$inflight" -ge "$MIN_INFLIGHT" ]
check "$freezes freezes (SIGSTOP) past the 10 s lease with a create in flight (3)" [ "$freezes" = 3 ]
check "no daemon exited on its own during the kill loops" [ "$dead_early" = 0 ]
check "every start posted a document within 30 s" [ "$no_post" = 0 ]
check "every restart found none of its dead predecessor's jobs still leased to it" [ "$unreleased" = 0 ]
summary=$(printf '%s\n' "${RESTART_MS[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "none"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
    printf "%d restarts: median %d ms, max %d ms\n", NR, m, v[NR] }')
note "time from restart to the next posted document: $summary ($stranded jobs left running by killed daemons, released at the next start)"
max_ms=$(printf '%s\n' "${RESTART_MS[@]}" | sort -n | tail -n 1)
check "every restart resumed posting well within the 60 s lease (max ${max_ms:-none} ms < 30 s)" \
    [ "${max_ms:-99999}" -lt 30000 ]
note "phase 6: $((SECONDS - t6)) s"

# ---- 7. logs -------------------------------------------------------------------------------------------
check "no secret in any of the $runs daemon logs" \
    sh -c '! grep -q -F -e "$1" -e "$2" -e "$3" -e "$4" "$0"/*.log' \
    "$logs" "$HDR_SECRET" "$BC_TOKEN" "$JDE_PASSWORD" "$CLIENT_SECRET"
check "no sanitizer report in any daemon log" \
    sh -c '! grep -q -E "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$0"/*.log' "$logs"
check "no daemon left a store transaction open" \
    sh -c '! grep -q "left a store transaction open" "$0"/*.log' "$logs"
check "no worker store error in the logs" \
    sh -c '! grep -q "lvl=error mod=workers" "$0"/*.log' "$logs"
note "total $((SECONDS - t_start)) s"

e2e_done
