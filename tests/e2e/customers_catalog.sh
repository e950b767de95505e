#!/usr/bin/env bash
# End-to-end: the customer and catalog flows of the real `mlc run` against
# both simulators (mlc-sim with the shipped seeds) on 127.0.0.1, temp SQLite
# store. A customer created at the store arrives by webhook and gets exactly
# one F0101 row (ALKY BC<id>); a name change is one update, a repeated
# webhook writes nothing; `mlc sync customers` enqueues the seeded customers
# and each lands once; a JDE price change reaches BigCommerce rounded after
# `mlc sync catalog`, and a second poll updates nothing. Secrets never show.
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init custcat
need_py   # $PY: the interpreter, resolved once

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
HDR_SECRET="hdr-CANARY-$$-7c3e"
CLIENT_SECRET="sim-secret-northwind"   # the simulator's client_secret (seed)
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"

# F0101 rows with ALKY $1: "<count> <ALPH of the first>".
f0101() {
    ais_ctl GET table/F0101 | "$PY" -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["rows"] if str(r.get("F0101_ALKY") or "").strip() == sys.argv[1]]
print(len(rows), str(rows[0].get("F0101_ALPH") or "").strip() if rows else "")' "$1"
}
f0101_count() { f0101 "$1" | awk '{ print $1 }'; }
one_row()     { [ "$(f0101_count "$1")" = 1 ]; }
# Calls of one orchestration answered by AIS so far (sum of matching counters).
orch_calls() {
    ais_ctl GET counters | "$PY" -c '
import json, sys
print(sum(v for k, v in json.load(sys.stdin).items() if isinstance(v, int) and k.endswith("/" + sys.argv[1])))' "$1"
}
# The BigCommerce price of SKU $1 (the variant's own price, else the product's).
bc_price() {
    bc_ctl GET catalog | "$PY" -c '
import json, sys
from decimal import Decimal
for p in json.load(sys.stdin, parse_float=Decimal)["products"]:
    for v in p.get("variants") or []:
        if v.get("sku") == sys.argv[1]:
            print(v.get("price") if v.get("price") is not None else p.get("price")); sys.exit(0)
    if p.get("sku") == sys.argv[1]:
        print(p.get("price")); sys.exit(0)
print("none")' "$1"
}
delivered() { bc_ctl GET webhooks | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("delivered", 0))'; }

json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
# price_is SKU AMOUNT: equal as decimals (7 = 7.00), never through float.
price_is()   { "$PY" -c 'import sys; from decimal import Decimal as D; sys.exit(0 if D(sys.argv[1]) == D(sys.argv[2]) else 1)' "$(bc_price "$1")" "$2" 2>/dev/null; }
field_is()   { [ "$(json_field "$1" "$2")" = "$3" ]; }

# ---- simulators ----------------------------------------------------------------
require "mlc-sim serves BigCommerce and AIS" \
    sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$ROOT/sim/seed/bigcommerce.json" \
              --seed "$ROOT/sim/seed/jde.json"
note "BigCommerce simulator on $BCP, AIS simulator on $AISP"

# ---- configuration, credentials -------------------------------------------------
# mlc init writes the master key file next to the config (mlc.key).
require "mlc init writes the master key" mlc_init_base
write_config() {
    local catalog_enabled="${1:-true}"
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
  device_name: "mlc-e2e-custcat"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
$(e2e_posting_journal)
customers:
  enabled: true
catalog:
  enabled: $catalog_enabled
  sku_source: litm
  sku_map:
    "SKU-1001": "NW-SOAP-6PK"
    "SKU-1002": "NW-DISH-1L"
    "SKU-1003": "NW-CANDLE-CED"
  price_currency: "USD"
  sync_name: true
  sync_price: true
  create_missing: false
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
  catalog_poll_interval: 604800
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
orders:
  start: $E2E_CUTOVER
$(e2e_runtime_yaml)
EOF
}
port=$(free_port) || { not_ok "a free port"; bail; }
write_config
"$MLC" config check "$cfg" >"$tmp/check.out" 2>&1
check "config check accepts the customer and catalog configuration" [ $? = 0 ]
stored() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "$JDE_PASSWORD" --name jde_password &&
        cred_set "$HDR_SECRET" --name bc_webhook_secret &&
        cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "credentials stored" stored

# ---- catalog: refused when disabled, then the first poll (before the daemon) --------
write_config false
"$MLC" sync catalog --config "$cfg" >"$tmp/catoff.out" 2>"$tmp/catoff.err"; rc=$?
check "sync catalog with catalog.enabled false is refused (exit 1, says why)" \
    sh -c '[ "$0" = 1 ] && grep -q "catalog.enabled is false" "$1"' "$rc" "$tmp/catoff.err"
write_config true

"$MLC" sync catalog --config "$cfg" --json >"$tmp/cat1.json" 2>"$tmp/cat1.err"; rc=$?
check "first sync catalog exits 0" [ "$rc" = 0 ]
check "first poll reads the seeded items (3)" [ "$(json_field "$tmp/cat1.json" items)" = 3 ]
check "first poll writes the two effective prices" [ "$(json_field "$tmp/cat1.json" price_updates)" = 2 ]
check "SKU-1003 (price effective in 3 days) has no price yet" [ "$(json_field "$tmp/cat1.json" no_price)" = 1 ]
check "NW-SOAP-6PK carries the JDE price in force today 19.99" price_is NW-SOAP-6PK 19.99
check "NW-DISH-1L carries the JDE price 5.25" price_is NW-DISH-1L 5.25
check "NW-CANDLE-CED keeps its store price 8.00 (its JDE price starts in 3 days)" price_is NW-CANDLE-CED 8.00
"$MLC" sync catalog --config "$cfg" >"$tmp/cat1b.out" 2>&1; rc=$?
check "human output names the counts and watermarks" \
    sh -c '[ "$0" = 0 ] && grep -q "price updates  0" "$1" && grep -q "catalog.f4106=" "$1"' "$rc" "$tmp/cat1b.out"
"$MLC" audit --entity catalog --config "$cfg" --json >"$tmp/catpoll.json" 2>/dev/null
check "each sync catalog is audited with the OS user" \
    "$PY" -c 'import json,sys; a=[r for r in json.load(open(sys.argv[1]))["audit"] if r["action"]=="sync"]; sys.exit(0 if len(a)==2 and all(r["actor"].startswith(sys.argv[2]) and r["outcome"]=="ok" for r in a) else 1)' \
    "$tmp/catpoll.json" "cli:$(id -un)"

# ---- daemon ---------------------------------------------------------------------------
require "daemon serves on 127.0.0.1" daemon_start write_config
check "log says the customer flow is enabled" grep -q "customers=true" "$log"
hooked() { curl -s --max-time 5 -H "X-Auth-Token: $BC_TOKEN" -H 'Accept: application/json' \
               "http://127.0.0.1:$BCP/stores/nwhg42/v3/hooks" | grep -q "store/customer/"; }
check "the daemon registered the customer hooks at the store" wait_until 100 hooked

# ---- a customer created at the store arrives by webhook ---------------------------------
bc_ctl POST customers '{"id":77,"email":"erin.new@example.com","first_name":"Erin","last_name":"Newcomb","phone":"555-0177","addresses":[{"first_name":"Erin","last_name":"Newcomb","address1":"1 Harbor Way","city":"Portland","state_or_province":"Oregon","postal_code":"97201","country_code":"US"}]}' >"$tmp/c77.json"
check "the simulator created customer 77" grep -q '"id": *77' "$tmp/c77.json"
created77() { one_row BC77; }
check "customer 77 gets its F0101 row (ALKY BC77) by webhook" wait_until 300 created77
check "the daemon is idle after the create" wait_until 300 queue_idle
check "exactly one F0101 row for BC77" one_row BC77
alpha_is() { [ "$(f0101 "$1" | cut -d" " -f2-)" = "$2" ]; }
check "its alpha name is \"Newcomb, Erin\"" alpha_is BC77 "Newcomb, Erin"

# ---- a name change is one update ------------------------------------------------------
upd0=$(orch_calls MLC_UpdateCustomer)
add0=$(orch_calls MLC_AddCustomer)
bc_ctl POST customers/77 '{"last_name":"Newcomb-Hale"}' >/dev/null
renamed() { [ "$(f0101 BC77 | cut -d" " -f2-)" = "Newcomb-Hale, Erin" ]; }
check "the name change reaches F0101" wait_until 300 renamed
check "the daemon is idle after the update" wait_until 300 queue_idle
check "one MLC_UpdateCustomer call for the change" [ "$(orch_calls MLC_UpdateCustomer)" = "$((upd0 + 1))" ]
check "still one F0101 row for BC77" one_row BC77

# the same webhook again (an unchanged customer, delivered twice): nothing written
d0=$(delivered)
upd1=$(orch_calls MLC_UpdateCustomer)
bc_ctl POST faults '{"webhook_duplicate_next":1}' >/dev/null
bc_ctl POST customers/77 '{"last_name":"Newcomb-Hale"}' >/dev/null
redelivered() { [ "$(delivered)" -ge "$((d0 + 2))" ]; }
check "the repeated webhook is delivered (twice)" wait_until 100 redelivered
sleep 0.5
check "the daemon is idle after the repeats" wait_until 300 queue_idle
no_writes() { [ "$(orch_calls MLC_UpdateCustomer)" = "$1" ] && [ "$(orch_calls MLC_AddCustomer)" = "$2" ]; }
check "the repeated webhook writes nothing (no update, no add)" no_writes "$upd1" "$add0"
check "still one F0101 row for BC77 after the repeats" one_row BC77

# ---- backfill: the seeded customers ------------------------------------------------------
"$MLC" sync customers --from-id 1 --config "$cfg" >"$tmp/bf1.out" 2>"$tmp/bf1.err"; rc=$?
check "sync customers --from-id 1 exits 0" [ "$rc" = 0 ]
check "it enqueues the four customers (1, 2, 3, 77)" \
    grep -q "^enqueued [0-9]* customer.sync jobs ([0-9]* already waiting) from 4 customers; checkpoint backfill:customers:from=1 at customer 77" "$tmp/bf1.out"
check "progress lines on a non-terminal" grep -q "customers (after customer" "$tmp/bf1.err"
check "the daemon works the backfill off" wait_until 600 queue_idle
for id in 1 2 3; do
    landed() { one_row "BC$1"; }
    check "seeded customer $id has exactly one F0101 row" wait_until 100 landed "$id"
done
check "customer 77 still has exactly one F0101 row" one_row BC77
none_held() { [ "$(jobs_count held)" = 0 ]; }
check "no customer.sync job is held" none_held
"$MLC" sync customers --from-id 1 --config "$cfg" >"$tmp/bf2.out" 2>"$tmp/bf2.err"; rc=$?
check "re-run resumes after the last customer and enqueues nothing" \
    sh -c '[ "$0" = 0 ] && grep -q "resuming backfill:customers:from=1 after customer 77" "$1" && grep -q "^enqueued 0 customer.sync jobs" "$2"' \
    "$rc" "$tmp/bf2.err" "$tmp/bf2.out"
"$MLC" sync customers --since 2000-01-01 --config "$cfg" >"$tmp/bf3.out" 2>&1; rc=$?
check "sync customers --since reads the customers modified since the date" \
    sh -c '[ "$0" = 0 ] && grep -q "from 4 customers; checkpoint backfill:customers:since=" "$1"' "$rc" "$tmp/bf3.out"
check "the daemon is idle again" wait_until 600 queue_idle
for id in 1 2 3 77; do
    check "customer $id still has exactly one F0101 row" one_row "BC$id"
done
"$MLC" sync customers --config "$cfg" >/dev/null 2>&1; rc=$?
check "sync customers without a range: usage error (2)" [ "$rc" = 2 ]

# ---- catalog: a JDE price change reaches BigCommerce --------------------------------------
# Each price we push comes back as a store/sku/updated webhook, and the
# daemon's catalog.sync job then compares the product with JDE. Before the
# test changes JDE again, that job must be over: run late, it would push the
# next change itself and the poll under test would find nothing to write.
cat_jobs_done() {
    "$MLC" jobs list --config "$cfg" --json --state done --limit 0 2>/dev/null |
        "$PY" -c 'import json,sys; print(sum(j["kind"] == "catalog.sync" for j in json.load(sys.stdin)))'
}
# hooks_settled N: at least N catalog.sync jobs done and nothing queued.
hooks_settled() { [ "$(cat_jobs_done)" -ge "$1" ] 2>/dev/null && queue_idle; }
res=$(ais_ctl POST table/F4106 '{"rows":[{"ITM":60002,"LITM":"SKU-1002","AITM":"W-SMALL","MCU":"","CRCD":"USD","UOM":"EA","EFTJ":"today-331","EXDJ":"today+5147","UPRC":"6.1250"}]}')
check "F4106 price of SKU-1002 changed in JDE to 6.1250" sh -c 'printf "%s" "$0" | grep -q "\"changed\": *1"' "$res"
cat_done0=$(cat_jobs_done)
"$MLC" sync catalog --config "$cfg" --json >"$tmp/cat2.json" 2>"$tmp/cat2.err"; rc=$?
check "sync catalog after the change exits 0" [ "$rc" = 0 ]
check "it writes one price" [ "$(json_field "$tmp/cat2.json" price_updates)" = 1 ]
check "BigCommerce shows the price rounded half away from zero (6.13)" price_is NW-DISH-1L 6.13
check "the push's webhook job is done" wait_until 600 hooks_settled $((cat_done0 + 1))
"$MLC" sync catalog --config "$cfg" --json >"$tmp/cat3.json" 2>"$tmp/cat3.err"; rc=$?
check "a second sync catalog exits 0" [ "$rc" = 0 ]
nothing_written() { field_is "$1" price_updates 0 && field_is "$1" name_updates 0; }
check "the second poll updates nothing" nothing_written "$tmp/cat3.json"
check "the price is still 6.13" price_is NW-DISH-1L 6.13

wm_of() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["watermarks"]["catalog.f4106"])' "$1" 2>/dev/null; }

# BigCommerce does not answer the push: the poll fails, the watermarks stay,
# and the next poll pushes the same change
ais_ctl POST table/F4106 '{"rows":[{"ITM":60002,"MCU":"","CRCD":"USD","UOM":"EA","EFTJ":"today-331","UPRC":"7.0000"}]}' >/dev/null
check "BigCommerce answers every API call 503 (fault set)" sh -c 'printf "%s" "$0" | grep -q "error_rate"' "$(bc_ctl POST faults '{"error_rate": 1, "error_status": 503}')"
"$MLC" sync catalog --config "$cfg" --json >"$tmp/catbc.json" 2>"$tmp/catbc.err"; rc=$?
bc_ctl POST faults '{"reset": true}' >/dev/null
check "a poll whose push gets no answer exits 1 with ok=false" \
    sh -c '[ "$0" = 1 ] && grep -q "\"ok\": false" "$1"' "$rc" "$tmp/catbc.json"
check "it keeps the F4106 watermark" [ "$(wm_of "$tmp/catbc.json")" = "$(wm_of "$tmp/cat3.json")" ]
check "BigCommerce still shows 6.13" price_is NW-DISH-1L 6.13
"$MLC" sync catalog --config "$cfg" --json >"$tmp/catbc2.json" 2>"$tmp/catbc2.err"; rc=$?
check "the next poll pushes the change (exit 0, one price)" \
    sh -c '[ "$0" = 0 ] && grep -q "\"price_updates\": 1," "$1"' "$rc" "$tmp/catbc2.json"
check "BigCommerce shows 7.00" price_is NW-DISH-1L 7.00
check "that push's webhook job is done too" wait_until 600 hooks_settled $((cat_done0 + 2))

# JDE fails while the changes are read: exit 1, watermarks kept
wm_before=$(wm_of "$tmp/catbc2.json")
ais_ctl POST faults '{"fail_next": 50}' >/dev/null
"$MLC" sync catalog --config "$cfg" --json >"$tmp/cat4.json" 2>"$tmp/cat4.err"; rc=$?
ais_ctl POST faults '{"fail_next": 0}' >/dev/null
check "a poll whose JDE reads fail exits 1 with ok=false" \
    sh -c '[ "$0" = 1 ] && grep -q "\"ok\": false" "$1"' "$rc" "$tmp/cat4.json"
"$MLC" sync catalog --config "$cfg" --json >"$tmp/cat5.json" 2>"$tmp/cat5.err"; rc=$?
check "after the failure the watermark had not moved" \
    sh -c '[ "$0" = 0 ] && python3 -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))[\"watermarks\"][\"catalog.f4106\"] == sys.argv[2] else 1)" "$1" "$2"' \
    "$rc" "$tmp/cat5.json" "$wm_before"

# ---- shutdown, secrets -------------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 300
check "exit status 0" [ "$daemon_rc" = 0 ]
check "no secret in any output" \
    sh -c '! grep -rq -e "$1" -e "$2" -e "$3" -e "$4" "$0"/*.log "$0"/*.out "$0"/*.err "$0"/*.json' \
    "$tmp" "$HDR_SECRET" "$BC_TOKEN" "$JDE_PASSWORD" "$CLIENT_SECRET"

e2e_done
