#!/usr/bin/env bash
# End-to-end: nothing waits forever (issue 8 part 7), against the real
# `mlc run` and both simulators (mlc-sim, shipped seeds) on 127.0.0.1 with a
# temp SQLite store.
#  - catalog sync on: a product whose price and name are edited in
#    BigCommerce (through its API, as the store's admin does) gets JDE's
#    back from the product webhook's catalog.sync job; the webhook of our own
#    write changes nothing (no loop); a product no JDE item matches is
#    audited, done, left alone;
#  - customers off: `mlc sync customers` and `mlc jobs enqueue customer.sync`
#    are refused and queue nothing; a key of the wrong shape is refused;
#  - a daemon started without the handler of queued jobs holds them with
#    the reason (log, `mlc held`), `mlc replay` refuses them, its hook check
#    removes the product and SKU hooks, and a late product delivery is
#    acknowledged and stored without a job (metric "unhandled").
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init jobkinds

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
HDR_SECRET="hdr-CANARY-$$-4b1d"
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"
need_py

# write_config [CATALOG [CUSTOMERS]]: the config for $port (both default off
# for customers, on for the catalog).
CAT_ON=true
CUST_ON=false
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
  rate_reserve: 10
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-jobkinds"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
orders:
  start: $E2E_CUTOVER
posting:
$(e2e_posting_journal)
customers:
  enabled: $CUST_ON
catalog:
  enabled: $CAT_ON
  sku_source: litm
  sku_map:
    "SKU-1002": "NW-DISH-1L"
  price_currency: "USD"
  sync_name: true
  sync_price: true
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
  catalog_poll_interval: 604800
  accounts_refresh_interval: 3600
  session_keepalive_interval: 300
$(e2e_runtime_yaml)
EOF
}

# The product $1 of the simulated catalog as "<price> <name>" (Decimal text).
product() {
    bc_ctl GET catalog | "$PY" -c '
import json, sys
from decimal import Decimal
for p in json.load(sys.stdin, parse_float=Decimal)["products"]:
    if p["id"] == int(sys.argv[1]):
        v = (p.get("variants") or [{}])[0].get("price")
        print(v if v is not None else p.get("price"), p["name"])' "$1"
}
# price_is ID AMOUNT: equal as decimals, never through float.
price_is() {
    "$PY" -c 'import sys; from decimal import Decimal as D; sys.exit(0 if D(sys.argv[1]) == D(sys.argv[2]) else 1)' \
        "$(product "$1" | cut -d" " -f1)" "$2" 2>/dev/null
}
name_is() { [ "$(product "$1" | cut -d" " -f2-)" = "$2" ]; }
# bc_put products|variants JSON: an edit in the store through BigCommerce's
# API, as its admin makes one (fires store/product/updated or
# store/sku/updated).
bc_put() {
    curl -s --max-time 10 -X PUT -H "X-Auth-Token: $BC_TOKEN" -H 'Content-Type: application/json' \
        -H 'Accept: application/json' "http://127.0.0.1:$BCP/stores/nwhg42/v3/catalog/$1" \
        --data-binary "$2" -o /dev/null -w '%{http_code}'
}
# Catalog writes the simulator saw (PUT/POST on products and variants).
catalog_writes() {
    bc_ctl GET counters | "$PY" -c '
import json, sys
c = json.load(sys.stdin)
print(sum(v for k, v in c.items() if isinstance(v, int) and k.split(" ")[0] in ("PUT", "POST")
          and "/v3/catalog/" in k))'
}
delivered() { bc_ctl GET webhooks | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("delivered", 0))'; }
# Jobs of kind $1 in state $2.
kind_jobs() {
    jobs_json "$2" | "$PY" -c 'import json,sys; print(len([j for j in json.load(sys.stdin) if j["kind"] == sys.argv[1]]))' "$1"
}
no_catalog_job_waits() { [ "$(kind_jobs catalog.sync ready)" = 0 ] && [ "$(kind_jobs catalog.sync running)" = 0 ]; }
hooks_json() {
    curl -s --max-time 5 -H "X-Auth-Token: $BC_TOKEN" -H 'Accept: application/json' \
        "http://127.0.0.1:$BCP/stores/nwhg42/v3/hooks?limit=250"
}
hook_scopes() { hooks_json | "$PY" -c 'import json,sys; print(" ".join(sorted(h["scope"] for h in json.load(sys.stdin)["data"] if h.get("is_active"))))'; }
# All six: the hook check creates them one after the other.
has_product_hooks() { [ "$(hook_scopes | tr ' ' '\n' | grep -c 'store/product/\|store/sku/')" = 6 ]; }
no_product_hooks() { ! hook_scopes | grep -q 'store/product/\|store/sku/'; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q "^mlc_webhooks_total{outcome=\"$1\"} $2\$"; }
capture_init

# ---- simulators, configuration, credentials --------------------------------------
require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
mlc_init_base || { not_ok "mlc init writes a master key"; bail; }
port=$(free_port) || bail
write_config
require "config check accepts the configuration" run config check "$cfg"
require "credentials stored" eval 'cred_set "$BC_TOKEN" --name bc_token &&
    cred_set "$JDE_PASSWORD" --name jde_password && cred_set "$HDR_SECRET" --name bc_webhook_secret'

# ---- refusals at enqueue: customers are off -----------------------------------------
run sync customers --from-id 1 --config "$cfg"
check "sync customers with customers.enabled false exits 1" [ "$rc" = 1 ]
check "... saying why" grep -q "customers.enabled is false" "$err"
check "... and queues no customer.sync job" [ "$(kind_jobs customer.sync '')" = 0 ]
run jobs enqueue --config "$cfg" customer.sync customer:1
check "jobs enqueue customer.sync is refused (exit 1)" [ "$rc" = 1 ]
check "... with the reason" grep -q "no handler for kind customer.sync in this configuration" "$err"
run jobs enqueue --config "$cfg" order.sync 105
check "jobs enqueue with a key of the wrong shape is refused" \
    sh -c '[ "$0" = 1 ] && grep -q "is not order:<id>" "$1"' "$rc" "$err"
run jobs enqueue --config "$cfg" order.synk order:105
check "jobs enqueue of an unknown kind is refused" \
    sh -c '[ "$0" = 1 ] && grep -q "unknown job kind" "$1"' "$rc" "$err"
check "nothing was queued" [ "$(jobs_count ready)" = 0 ]

# ---- catalog on: a product edited in BigCommerce gets JDE's values back -------------
# One poll first: the catalog carries JDE's values and the watermarks have
# moved, so the daemon's own polls never touch product 112 again: what puts
# its values back below is the product webhook's job alone.
run sync catalog --config "$cfg"
check "a first catalog poll gives NW-DISH-1L JDE's price 5.25" \
    sh -c '[ "$0" = 0 ]' "$rc" && price_is 112 5.25
require "daemon serves on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port, BigCommerce on $BCP, AIS on $AISP"
check "the daemon registers the product and SKU hooks" wait_until 150 has_product_hooks
check "... and no customer hook (customers off)" sh -c '! printf "%s" "$0" | grep -q store/customer/' "$(hook_scopes)"

d_edit=$(delivered)
# The daemon is frozen while the edit is made and read back: its webhook
# job would otherwise put JDE's price back, at times before the read. The
# deliveries wait in the socket (the store's timeout is 5 s).
kill -STOP "$pid"
check "the store edits answer 200 (variant price, product name)" \
    sh -c '[ "$0" = 200 ] && [ "$1" = 200 ]' "$(bc_put variants '[{"id":1121,"price":3.33}]')" \
    "$(bc_put products '[{"id":112,"name":"Dish Liquid (promo)"}]')"
check "BigCommerce shows the edited price 3.33" price_is 112 3.33
kill -CONT "$pid"
back_to_jde() { price_is 112 5.25 && name_is 112 "Widget, small"; }
check "the product webhook puts JDE's price (5.25) and name back" wait_until 300 back_to_jde
by_worker() {
    run audit --entity sku:NW-DISH-1L --config "$cfg" --json &&
        "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("audit", d) if isinstance(d, dict) else d
sys.exit(0 if any(a.get("actor", "").startswith("worker:") and a.get("action") in ("price", "product")
                  for a in r) else 1)' "$out"
}
check "... written by a worker's catalog.sync job (audited per SKU)" by_worker
check "no catalog.sync job is left waiting" wait_until 300 no_catalog_job_waits
check "the catalog.sync jobs are done, none held" \
    sh -c '[ "$0" -ge 1 ] && [ "$1" = 0 ]' "$(kind_jobs catalog.sync done)" "$(kind_jobs catalog.sync held)"

# Our own writes (a variant price, a product name) fired webhooks too: the
# jobs they make must find nothing to change.
w0=$(catalog_writes)
ours_delivered() { [ "$(delivered)" -ge "$((d_edit + 4))" ]; }
check "the webhooks of both edits and of our two writes were delivered" wait_until 100 ours_delivered
check "the queue is idle" wait_until 300 queue_idle
sleep 0.5
check "no further catalog write (no loop)" [ "$(catalog_writes)" = "$w0" ]
check "the price stays JDE's" price_is 112 5.25

# A product no JDE item matches: audited, done, left as edited.
bc_put variants '[{"id":1131,"price":21.5}]' >/dev/null
audited_113() { run audit --entity product:113 --config "$cfg" && grep -q "no JD Edwards item" "$out"; }
check "a product JDE does not know is audited" wait_until 300 audited_113
check "... its job done, nothing held" sh -c '[ "$0" = 0 ]' "$(kind_jobs catalog.sync held)"
check "... and its price left as edited" price_is 113 21.5

# ---- a restart without the handlers: queued jobs are held, not left waiting ---------
check "SIGTERM stops the daemon" daemon_term 300
CUST_ON=true
write_config
run jobs enqueue --config "$cfg" customer.sync customer:1
check "with customers on, a customer.sync job is accepted" [ "$rc" = 0 ]
run jobs enqueue --config "$cfg" catalog.sync product:112
check "... and a catalog.sync job" [ "$rc" = 0 ]
CUST_ON=false
CAT_ON=false
write_config
require "daemon restarts with customers and catalog off" daemon_start write_config
warned() { grep "queued jobs held" "$log" | grep -q "kind=$1" ; }
check "the start log names customer.sync and its count" \
    sh -c 'grep "queued jobs held" "$0" | grep "kind=customer.sync" | grep -q "count=1"' "$log"
check "... and catalog.sync" warned catalog.sync
# Only the two held kinds: order jobs of the first run may still be retrying
# on a slow machine (ASan), and they have a handler.
held_kinds_idle() { [ "$(kind_jobs customer.sync ready)" = 0 ] && [ "$(kind_jobs catalog.sync ready)" = 0 ]; }
check "no customer.sync or catalog.sync job waits in the queue" held_kinds_idle
[ "$(jobs_count ready)" = 0 ] || note "other ready jobs: $(jobs_json ready | tr -d '\n' | cut -c1-400)"
run held --all --config "$cfg"
check "mlc held shows them with the reason" \
    grep -q "no handler for kind customer.sync in this configuration (customers.enabled is false)" "$out"
check "... both" grep -q "no handler for kind catalog.sync in this configuration" "$out"
run replay customer:1 --config "$cfg"
check "mlc replay refuses a job whose kind has no handler (exit 1)" \
    sh -c '[ "$0" = 1 ] && grep -q "no handler for kind customer.sync" "$1"' "$rc" "$err"
check "... and it stays held" [ "$(kind_jobs customer.sync held)" = 1 ]
check "the hook check removes the product and SKU hooks" wait_until 150 no_product_hooks

# A late product delivery (a hook BigCommerce still had): 200, stored, no job.
body='{"scope":"store/product/updated","store_id":"1025646","data":{"type":"product","id":112},"hash":"7e1f","created_at":1700000000}'
code=$(http_code -X POST -H 'Content-Type: application/json' -H "X-MLC-Webhook-Secret: $HDR_SECRET" \
       "http://127.0.0.1:$port/webhooks/bigcommerce" --data-binary "$body")
check "a product delivery without a handler is acknowledged (200)" [ "$code" = 200 ]
check "... counted as unhandled" metric unhandled 1
check "... logged" grep -q "delivery stored without a job" "$log"
check "... and queues nothing" [ "$(kind_jobs catalog.sync ready)" = 0 ]

# ---- shutdown, secrets ----------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 300
check "exit status 0" [ "$daemon_rc" = 0 ]
check "no secret in any output" \
    sh -c '! grep -rq -e "$1" -e "$2" -e "$3" "$0"/*.log "$0"/*.out "$0"/*.err' \
    "$tmp" "$HDR_SECRET" "$BC_TOKEN" "$JDE_PASSWORD"
e2e_done
