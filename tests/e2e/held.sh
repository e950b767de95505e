#!/usr/bin/env bash
# End-to-end: held items that explain themselves, with the real `mlc run`
# against both simulators (mlc-sim) on 127.0.0.1, temp SQLite store.
# An order whose SKU maps to an account JDE does not have is held with the
# reason code account_missing, its amount and the configuration key to fix
# (`mlc held`, `--all`, `--json`); an unmapped SKU groups apart. `mlc
# dismiss` (a note required) closes it, recording the OS user and the note;
# afterwards neither a webhook, a replay nor an enqueue posts it, even with
# the mapping fixed; `mlc replay --undismiss` posts it once. Every operator
# action's audit row names the OS user. Prints TAP lines; every wait is
# bounded.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init held

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
BC_TOKEN="sim-token-northwind"
ME="cli:$(id -un)"
GONE_ACCOUNT="100.4999"   # not in the simulator's F0901

f0911_docs() { # KEY: distinct DOC numbers of F0911 rows whose VINV is KEY
    ais_ctl GET table/F0911 | python3 -c '
import json, sys
print(len({r["F0911_DOC"] for r in json.load(sys.stdin)["rows"]
           if str(r.get("F0911_VINV") or "").strip() == sys.argv[1]}))' "$1"
}
no_doc()  { [ "$(f0911_docs "$1")" = 0 ]; }
one_doc() { [ "$(f0911_docs "$1")" = 1 ]; }
pyj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }
# audit rows of ENTITY as JSON lines into $tmp/audit.json
audit_json() { "$MLC" audit --entity "$1" --config "$cfg" --json >"$tmp/audit.json" 2>/dev/null; }
audit_has() { # ENTITY PY-EXPR over r (one row): some row matches
    audit_json "$1" && pyj "$tmp/audit.json" "sys.exit(0 if any($2 for r in d['audit']) else 1)"
}

require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
mlc_init_base || { not_ok "mlc init"; exit 1; }

gone_account="$GONE_ACCOUNT"
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
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-held"
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
    "NW-GONE-1": "$gone_account"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
  accounts_refresh_interval: 3600
orders:
  start: $E2E_CUTOVER
$(e2e_runtime_yaml)
EOF
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "mlcint-pass" --name jde_password &&
        cred_set "hdr-$$" --name bc_webhook_secret && cred_set "sim-secret-northwind" --name bc_client_secret
}
require "credentials stored" store_credentials
check "storing a credential is audited with the OS user" \
    audit_has credential:bc_token "r['actor'].startswith('$ME') and r['action'] == 'set'"

require "daemon serves on 127.0.0.1" daemon_start write_config
capture_init

# Order 400 sells NW-GONE-1, mapped to an account JDE
# does not have; order 401 sells a SKU in no map at all.
order_json() { # ID SKU
    printf '{"id":%s,"customer_id":0,"status_id":11,"currency":"USD","date_created":"%s","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"%s","name":"Thing","quantity":3,"price_ex_tax":"5.00","tax":"1.20"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"16.20","gateway":"stripe"}]}' \
        "$1" "2026-11-28T09:00:00Z" "$2"
}
bc_ctl POST orders "$(order_json 400 NW-GONE-1)" >/dev/null
bc_ctl POST orders "$(order_json 401 NW-NOWHERE-9)" >/dev/null
run jobs enqueue --config "$cfg" order.sync order:400
run jobs enqueue --config "$cfg" order.sync order:401
check "mlc jobs enqueue is audited with the OS user" \
    audit_has order:400 "r['actor'].startswith('$ME') and r['action'] == 'enqueue'"
held_key() { jobs_json held | python3 -c 'import json,sys; sys.exit(0 if any(j["key"]==sys.argv[1] for j in json.load(sys.stdin)) else 1)' "$1"; }
both_held() { held_key order:400 && held_key order:401; }
check "both orders end held" wait_until 300 both_held
check "order 400 posted nothing" no_doc BC400S

# ---- mlc held: grouped, --all, --json -----------------------------------------------
run held --config "$cfg"
check "mlc held exits 0" [ "$rc" = 0 ]
check "mlc held groups order 400 under account_missing with its amount" \
    sh -c "grep -q '^account_missing: 1 item' '$out' && grep -q 'amount  *USD 16.20' '$out'"
check "mlc held names the configuration key to fix" grep -q 'fix .*posting.accounts' "$out"
check "mlc held gives the reason as an example, naming the account" grep -q "e.g. .*$GONE_ACCOUNT" "$out"
# (the reconcile sweep holds the seeded orders too: none of their SKUs is mapped)
check "mlc held puts the unmapped SKUs in their own group" grep -q '^unmapped_sku: [0-9][0-9]* item' "$out"
run held --all --config "$cfg"
check "mlc held --all lists each item with its code" \
    sh -c "grep -q 'order:400' '$out' && grep -q 'code  *account_missing' '$out' && grep -q 'code  *unmapped_sku' '$out'"
run held --json --config "$cfg"
cp "$out" "$tmp/held.json"
check "mlc held --json: order 400 has code account_missing and 1620 minor units of USD" \
    pyj "$tmp/held.json" "i=[x for x in d['items'] if x['key']=='order:400'][0]; sys.exit(0 if i['code']=='account_missing' and i['amount']['minor']==1620 and i['amount']['currency']=='USD' and 'posting.accounts' in i['fix'] and '$GONE_ACCOUNT' in i['reason'] else 1)"
check "mlc held --json: one group per code with its sum" \
    pyj "$tmp/held.json" "g={x['code']: x for x in d['groups']}; sys.exit(0 if set(g)=={'account_missing','unmapped_sku'} and g['account_missing']['amounts']==[{'currency':'USD','minor':1620,'text':'16.20'}] and g['account_missing']['oldest_key']=='order:400' else 1)"

# ---- mlc dismiss -----------------------------------------------------------------------
run dismiss order:400 --config "$cfg"
check "mlc dismiss without --note is a usage error (2), nothing dismissed" \
    sh -c '[ "$0" = 2 ] && grep -q -- "--note TEXT is required" "$1"' "$rc" "$err"
run dismiss --reason no_such_code --note x --config "$cfg"
check "mlc dismiss --reason with an unknown code is a usage error listing the codes" \
    sh -c '[ "$0" = 2 ] && grep -q "account_missing" "$1"' "$rc" "$err"
run dismiss --reason account_missing --note "keyed into JDE by hand, JE 4711" --config "$cfg"
check "mlc dismiss --reason account_missing dismisses order 400" \
    sh -c '[ "$0" = 0 ] && grep -q "dismissed job .* order:400" "$1"' "$rc" "$out"
run dismiss order:400 --note again --config "$cfg"
check "dismissing it again says there is nothing left (exit 1)" [ "$rc" = 1 ]
check "the dismissal is audited with the OS user and the note" \
    audit_has order:400 "r['actor'].startswith('$ME') and r['action'] == 'dismiss' and r['detail']['note'] == 'keyed into JDE by hand, JE 4711' and r['detail']['code'] == 'account_missing'"
run held --json --config "$cfg"
check "mlc held no longer lists it, and counts it dismissed" \
    pyj "$out" "k=[x['key'] for x in d['items']]; sys.exit(0 if d['dismissed']==1 and 'order:400' not in k and 'order:401' in k else 1)"

# ---- never posted afterwards, even with the mapping fixed --------------------------------
gone_account="100.4010"
write_config
kill -HUP "$pid"
check "the daemon reloads the fixed mapping" wait_until 100 grep -q "config reloaded" "$log"
run replay order:400 --config "$cfg"
check "mlc replay refuses the dismissed order, saying who and why, and how to undo" \
    sh -c '[ "$0" = 1 ] && grep -q "dismissed by $2.*keyed into JDE by hand" "$1" && grep -q -- "--undismiss" "$1"' \
    "$rc" "$err" "$ME"
bc_ctl POST orders/400 '{"staff_notes":"touched"}' >/dev/null
dismissed_runs() { # N: worker runs settled as dismissed
    audit_json order:400 && pyj "$tmp/audit.json" "sys.exit(0 if sum(1 for r in d['audit'] if r['action']=='order.sync' and r['outcome']=='dismissed') >= $1 else 1)"
}
check "a webhook's job for the dismissed order ends without running (audited dismissed)" \
    wait_until 300 dismissed_runs 1
run jobs enqueue --config "$cfg" order.sync order:400
check "so does an operator's enqueue" wait_until 300 dismissed_runs 2
check "the dismissed order is never posted" no_doc BC400S
check "the worker's audit row says who dismissed it and why" \
    audit_has order:400 "r['outcome'] == 'dismissed' and 'dismissed by $ME' in r['detail']['error'] and 'JE 4711' in r['detail']['error']"

# ---- --undismiss: the way back ------------------------------------------------------------
run replay --undismiss order:400 --config "$cfg"
check "mlc replay --undismiss puts it back" sh -c '[ "$0" = 0 ] && grep -q "replayed job" "$1"' "$rc" "$out"
posted400() { one_doc BC400S; }
check "undismissed, it posts exactly once under the fixed mapping" wait_until 300 posted400
check "the replay is audited with the OS user and the dismissal it undid" \
    audit_has order:400 "r['actor'].startswith('$ME') and r['action'] == 'replay' and r['detail']['undismissed']['note'] == 'keyed into JDE by hand, JE 4711'"

check "SIGTERM stops the daemon" daemon_term 300
e2e_done
