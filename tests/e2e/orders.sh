#!/usr/bin/env bash
# End-to-end: the order flow of the real `mlc run` against both simulators
# (mlc-sim with the shipped seeds) on 127.0.0.1, temp SQLite store.
# Seeded orders enqueued as order.sync jobs -> every paid order posted exactly
# once and balanced, the unmapped-SKU order held with its reason, the unpaid
# order not posted, the refund posted; hooks registered by the daemon, a new
# order delivered by webhook -> posted; duplicate webhooks -> still one
# document; `mlc orders show` dry run; the go-live cutover: an order created
# before orders.start is never posted, however many webhooks it gets, and its
# skip is audited once. Prints TAP lines; every wait is bounded.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init orders
need_py

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
HDR_SECRET="hdr-CANARY-$$-51d2"
CLIENT_SECRET="sim-secret-northwind"   # the simulator's client_secret (seed)
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"

# F0911 facts per reference, exactly (amounts parsed as Decimal, never float):
# prints "REF DOCS SUM_IS_ZERO(1/0)" for every VINV starting with $1.
f0911() {
    ais_ctl GET table/F0911 | python3 -c '
import json, sys
from decimal import Decimal
rows = json.load(sys.stdin, parse_float=Decimal)["rows"]
acc = {}
for r in rows:
    v = str(r.get("F0911_VINV") or "").strip()
    if not v.startswith(sys.argv[1]):
        continue
    d = acc.setdefault(v, [set(), Decimal(0)])
    d[0].add(r["F0911_DOC"]); d[1] += Decimal(str(r["F0911_AA"]))
for v in sorted(acc):
    print(v, len(acc[v][0]), 1 if acc[v][1] == 0 else 0)
' "$1"
}
docs_of()    { f0911 "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
one_doc()    { [ "$(docs_of "$1")" = 1 ]; }
balanced()   { f0911 "$1" | awk 'BEGIN { ok = 1; n = 0 } { n++; if ($3 != 1) ok = 0 } END { exit !(ok && n > 0) }'; }
no_rows()    { [ -z "$(f0911 "$1")" ]; }
refund_docs() { f0911 "$1" | awk '{ s += $2 } END { print s + 0 }'; }

held_reason() { # KEY: the hold reason of the held job with that key
    jobs_json held | python3 -c 'import json,sys; k=sys.argv[1]; print(next((j.get("last_error") or "" for j in json.load(sys.stdin) if j["key"]==k), ""))' "$1"
}

# ---- simulators ----------------------------------------------------------------
require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
note "mlc-sim: BigCommerce on $BCP, AIS on $AISP"

# ---- configuration, credentials -------------------------------------------------
mlc_init_base || { not_ok "mlc init"; exit 1; }

write_config() {
    cat >"$cfg" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  webhook_public_url: "http://127.0.0.1:$port/webhooks/bigcommerce"
  webhook_secret_ref: "bc_webhook_secret"
  client_secret_ref: "bc_client_secret"
  rate_reserve: 10
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-orders"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
  mode: journal
  company: "00001"
  gl_date: created
  timezone: "UTC"
  strict_sku_mapping: true
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
    "NW-SOAP-6PK": "100.4010"
    "NW-DISH-1L": "100.4010"
    "NW-TOWEL-12": "100.4010.APPAREL"
    "NW-POD-42": "100.4010"
    "NW-CANDLE-CED": "110.4010"
    "NW-NEW-1": "100.4010"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
    braintree: "1.1110.BRAINTRE"
    paypal: "1.1110.PAYPAL"
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
orders:
  start: "2020-01-01T00:00:00Z"
$(e2e_runtime_yaml)
EOF
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
check "config check accepts the order flow configuration" \
    sh -c "\"\$0\" config check \"\$1\" >/dev/null" "$MLC" "$cfg"
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "$JDE_PASSWORD" --name jde_password &&
        cred_set "$HDR_SECRET" --name bc_webhook_secret && cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "credentials stored" store_credentials

# ---- dry run before anything ------------------------------------------------------
"$MLC" orders show 100 --config "$cfg" >"$tmp/show100.txt" 2>"$tmp/show100.err"
rc=$?
check "orders show 100 exits 0 and prints the document" \
    sh -c "[ $rc = 0 ] && grep -q 'BC100S' '$tmp/show100.txt' && grep -q 'would post' '$tmp/show100.txt' && grep -q '1.1110.STRIPE' '$tmp/show100.txt'"
# Finance-friendly: the status named, each account described (F0901
# through AIS), amounts in debit and credit columns whose totals agree.
dc_totals_agree() {
    awk '$1 == "totals" { found = 1; ok = ($2 == $3 && $2 != "" && $2 != "?") }
         END { exit !(found && ok) }' "$tmp/show100.txt"
}
check "orders show 100 names the status (not a bare number)" \
    grep -Eq '^order 100: (Completed|Awaiting Fulfillment|Awaiting Shipment|Shipped) \([0-9]+\),' "$tmp/show100.txt"
check "orders show 100 prints the account descriptions from F0901" \
    grep -Eq '^ +1\.1110\.STRIPE +Clearing - Stripe +[0-9]+\.[0-9]{2} ' "$tmp/show100.txt"
check "orders show 100 has debit and credit columns, totals equal" sh -c \
    "grep -Eq '^ +account +description +debit +credit +role +remark' '$tmp/show100.txt'" && dc_totals_agree
"$MLC" orders show 100 --config "$cfg" --json >"$tmp/show100.json" 2>/dev/null
check "orders show --json carries status_name and line descriptions" \
    "$PY" -c 'import json,sys
r = json.load(open(sys.argv[1]))
lines = [l for d in r["documents"] for l in d["document"]["lines"]]
assert r["status_name"] and lines and all(l.get("description") for l in lines), r' "$tmp/show100.json"
"$MLC" orders show 104 --config "$cfg" --json >"$tmp/show104.json" 2>/dev/null
rc=$?
check "orders show 104 (unmapped SKU) exits 1 naming the SKU" \
    sh -c "[ $rc = 1 ] && grep -q 'NW-LEGACY-OLIVE' '$tmp/show104.json'"
check "the dry run wrote nothing to JDE" no_rows "BC10"

# ---- daemon ---------------------------------------------------------------------------
require "daemon serves on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port"
check "log says the order flow is enabled" grep -q "order flow enabled" "$log"

for id in 100 101 102 103 104 105; do
    "$MLC" jobs enqueue --config "$cfg" order.sync "order:$id" >/dev/null 2>&1
done
check "the daemon goes idle (no READY or RUNNING jobs)" wait_until 600 queue_idle

for id in 100 101 102 105; do
    check "paid order $id posted exactly once" one_doc "BC${id}S"
    check "journal of order $id balances to the cent" balanced "BC${id}S"
done
check "the refund of order 101 is one document" sh -c "[ '$(refund_docs BC101R)' = 1 ]"
check "the refund of order 101 balances" balanced "BC101R"
check "unpaid order 103 not posted" no_rows "BC103"
check "unmapped-SKU order 104 not posted" no_rows "BC104"
reason=$(held_reason order:104)
check "order 104 is held with the unmapped SKU in the reason" \
    sh -c "printf '%s' \"\$1\" | grep -q 'NW-LEGACY-OLIVE'" _ "$reason"

# ---- webhooks: hooks registered by the daemon, a new order arrives -------------------------
check "the daemon registered its hook at the store" wait_until 100 bc_hooked nwhg42 "$BC_TOKEN"
bc_ctl POST orders '{"id":300,"customer_id":0,"status_id":11,"currency":"USD","date_created":"2026-11-28T09:00:00Z","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"NW-NEW-1","name":"New thing","quantity":3,"price_ex_tax":"5.00","tax":"1.20"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"16.20","gateway":"stripe"}]}' >/dev/null
posted300() { one_doc BC300S; }
check "an order created at the store is posted through its webhook" wait_until 300 posted300
check "its journal balances" balanced "BC300S"

# duplicate deliveries of a change to an already posted order
bc_ctl POST faults '{"webhook_duplicate_next":4}' >/dev/null
bc_ctl POST orders/100 '{"staff_notes":"touched"}' >/dev/null
bc_ctl POST orders/300 '{"staff_notes":"touched"}' >/dev/null
sleep 1
check "the daemon is idle again after the duplicates" wait_until 300 queue_idle
check "order 100 still has exactly one document" one_doc "BC100S"
check "order 300 still has exactly one document" one_doc "BC300S"

# ---- the go-live cutover ----------------------------------------------------------------
# Order 310 was created in 2019, before orders.start (2020-01-01): the clerk
# keyed it by hand. Its webhooks (created, then a staff note) post nothing,
# its jobs end done, and its skip is audited once.
audit_count() { # ORDER ACTION OUTCOME: audit rows of the order with both
    "$MLC" audit --order "$1" --config "$cfg" --json 2>/dev/null | python3 -c '
import json, sys
a = json.load(sys.stdin)["audit"]
print(sum(1 for r in a if r["action"] == sys.argv[1] and r["outcome"] == sys.argv[2]))' "$2" "$3"
}
runs_done() { [ "$(audit_count 310 order.sync done)" -ge "$1" ]; }
bc_ctl POST orders '{"id":310,"customer_id":0,"status_id":11,"currency":"USD","date_created":"2019-06-01T09:00:00Z","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"NW-NEW-1","name":"Old thing","quantity":1,"price_ex_tax":"5.00","tax":"0.40"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"5.40","gateway":"stripe"}]}' >/dev/null
check "the webhook of an order created before the cutover runs its job to done" wait_until 300 runs_done 1
bc_ctl POST orders/310 '{"staff_notes":"keyed by hand in 2019"}' >/dev/null
check "a second webhook for it runs its job to done again" wait_until 300 runs_done 2
check "the daemon is idle after the old order's webhooks" wait_until 300 queue_idle
check "nothing of the order before the cutover is posted" no_rows "BC310"
check "its skip is audited exactly once (skip, before_cutover)" \
    [ "$(audit_count 310 skip before_cutover)" = 1 ]
check "and it is not held" [ -z "$(held_reason order:310)" ]
"$MLC" orders show 310 --config "$cfg" >"$tmp/show310.txt" 2>/dev/null
rc=$?
check "orders show 310 says it is before the go-live cutover and never posted (exit 0)" \
    sh -c '[ "$0" = 0 ] && grep -q "before the go-live cutover (orders.start 2020-01-01T00:00:00Z): never posted" "$1"' \
    "$rc" "$tmp/show310.txt"
"$MLC" sync orders --since 2019-01-01 --config "$cfg" >/dev/null 2>"$tmp/since.err"
rc=$?
check "sync orders --since before the cutover is refused, naming orders.start" \
    sh -c '[ "$0" = 1 ] && grep -q "before the go-live cutover (orders.start 2020-01-01T00:00:00Z" "$1"' \
    "$rc" "$tmp/since.err"

# ---- the cutover is required --------------------------------------------------------------
"$MLC" init "$tmp/fresh.yaml" >"$tmp/init.out" 2>&1
check "mlc init writes orders.start: the current time with its UTC offset" \
    grep -Eq '^  start: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00"$' "$tmp/fresh.yaml"
sed '/^  start: /d' "$cfg" >"$tmp/nocut.yaml"
line=$(grep -n '^orders:' "$tmp/nocut.yaml" | cut -d: -f1)
"$MLC" config check "$tmp/nocut.yaml" >/dev/null 2>"$tmp/nocut.err"
rc=$?
check "config check rejects a config without orders.start (file:line: key, how to set it)" \
    sh -c '[ "$0" = 1 ] && grep -q "^$1:$2: orders.start: required key is missing: the go-live cutover" "$3" &&
           grep -q "mlc init" "$3"' "$rc" "$tmp/nocut.yaml" "$line" "$tmp/nocut.err"

# dry run of a posted order: it says so, and exits 0
"$MLC" orders show 100 --config "$cfg" >"$tmp/show100b.txt" 2>/dev/null
check "orders show 100 reports the sale as already posted" grep -q "already posted" "$tmp/show100b.txt"

# ---- shutdown ------------------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 300
check "exit status 0" [ "$daemon_rc" = 0 ]
check "AIS session logged out at shutdown" \
    sh -c "curl -s --max-time 5 http://127.0.0.1:$AISP/__sim/counters | grep -q 'tokenrequest/logout'"
check "no secret in the log" \
    sh -c "! grep -q -e '$HDR_SECRET' -e '$BC_TOKEN' -e '$JDE_PASSWORD' '$log'"

e2e_done
