#!/usr/bin/env bash
# End-to-end: the web console (console.listen) of the real `mlc run`, with
# both simulators (mlc-sim) on 127.0.0.1 and a temp SQLite store.
# Without a browser: passwords set by `mlc console passwd` (stdin, never
# echoed), the console absent from the public listener, 401 without a
# session, the session cookie's flags, 403 for a POST without the CSRF
# token, 403 (audited as refused) for a viewer's replay, the proxy user
# header from loopback, and the login rate limit (429 with Retry-After).
# In headless Chromium (tests/e2e/lib/console_browser.py; skipped, saying
# so, when chromium, chromedriver or python3-selenium is absent): a viewer
# finds the held order and sees replay refused; the mapping is fixed (config
# edit + SIGHUP); an operator replays it with a note and sees it posted; the
# reconcile CSV downloads, byte for byte what `mlc report show --format csv`
# prints. Prints TAP lines; every wait is bounded.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init console

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
BC_TOKEN="sim-token-northwind"
GONE_ACCOUNT="100.4999"   # not in the simulator's F0901
VIEWER_PW="viewer pass 1"
OPERATOR_PW="operator pass 2"
DAY="2026-11-28"
jar="$tmp/cookies"

pyj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }
audit_has() { # ENTITY PY-EXPR over r (one row): some row matches
    "$MLC" audit --entity "$1" --config "$cfg" --json >"$tmp/audit.json" 2>/dev/null &&
        pyj "$tmp/audit.json" "sys.exit(0 if any($2 for r in d['audit']) else 1)"
}

require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
mlc_init_base || { not_ok "mlc init"; exit 1; }

gone_account="$GONE_ACCOUNT"
vic_role="viewer"
cport=""
write_config() {
    [ -n "$cport" ] || cport=$(free_port)
    cat >"$cfg" <<EOC
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-console"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
$(e2e_posting_journal)
  revenue_by_sku:
    "NW-GONE-1": "$gone_account"
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
orders:
  start: $E2E_CUTOVER
$(e2e_runtime_yaml)
console:
  listen: "127.0.0.1:$cport"
  users:
    vic: $vic_role
    olga: operator
  proxy_user_header: "X-Forwarded-User"
EOC
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
capture_init
require "config check accepts the console section" "$MLC" config check "$cfg"
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "mlcint-pass" --name jde_password
}
require "credentials stored" store_credentials

# ---- passwords ----------------------------------------------------------------------
run_in "$VIEWER_PW" console passwd vic --config "$cfg"
check "mlc console passwd stores vic's password (from stdin)" \
    sh -c '[ "$0" = 0 ] && grep -q "console password of vic (viewer) stored" "$1"' "$rc" "$out"
run_in "$OPERATOR_PW" console passwd olga --config "$cfg"
check "and olga's" [ "$rc" = 0 ]
run_in "x" console passwd mallory --config "$cfg"
check "a user not in console.users gets no password (exit 1)" \
    sh -c '[ "$0" = 1 ] && grep -q "not in console.users" "$1"' "$rc" "$err"
run console users --config "$cfg"
check "mlc console users shows both with a password" \
    sh -c 'grep -q "^vic  *viewer  *password set" "$0" && grep -q "^olga  *operator  *password set" "$0"' "$out"
run credentials list --config "$cfg"
check "mlc credentials list names the user a password hash belongs to" \
    grep -q "^console_user.vic .* ok  *console.users.vic" "$out"
check "the password is stored as an Argon2id hash, never in clear (store file)" \
    sh -c '! grep -aq "$0" "$1" && ! grep -aq "$2" "$1"' "$VIEWER_PW" "$tmp/mlc.db" "$OPERATOR_PW"
check "setting it is audited with the OS user" \
    audit_has credential:console_user.vic "r['actor'].startswith('cli:$(id -un)') and r['action'] == 'set'"
check "no password was printed" sh -c '! grep -q "$0" "$1" && ! grep -q "$2" "$1"' "$VIEWER_PW" "$all" "$OPERATOR_PW"

require "daemon serves on 127.0.0.1" daemon_start write_config
C="http://127.0.0.1:$cport"
console_up() { [ "$(http_code "$C/api/session")" = 401 ]; }
require "the console listens on console.listen" wait_until 100 console_up
check "the daemon logs the console listener" grep -q "console listener ready" "$log"

# Order 400 sells NW-GONE-1, mapped to an account JDE does not have: held.
order_json() { # ID SKU
    printf '{"id":%s,"customer_id":0,"status_id":11,"currency":"USD","date_created":"%s","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"%s","name":"Thing","quantity":3,"price_ex_tax":"5.00","tax":"1.20"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"16.20","gateway":"stripe"}]}' \
        "$1" "${DAY}T09:00:00Z" "$2"
}
bc_ctl POST orders "$(order_json 400 NW-GONE-1)" >/dev/null
run jobs enqueue --config "$cfg" order.sync order:400
held400() { jobs_json held | python3 -c 'import json,sys; sys.exit(0 if any(j["key"]=="order:400" for j in json.load(sys.stdin)) else 1)'; }
require "order 400 ends held" wait_until 300 held400
job400=$(jobs_json held | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["key"]=="order:400"][0])')

# ---- without a browser --------------------------------------------------------------
check "the public listener does not serve the console" \
    sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" "$0/")" = 404 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" "$0/api/session")" = 404 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/json" -d "{}" "$0/api/login")" != 200 ]' \
    "http://127.0.0.1:$port"
check "the console serves its page, with a CSP and no inline script" \
    sh -c 'curl -s -D "$1.h" "$0/" -o "$1.b" && grep -qi "^content-security-policy: default-src .self." "$1.h" && grep -q "<script src=\"/app.js\"" "$1.b" && ! grep -q "<script>" "$1.b"' "$C" "$tmp/page"
check "every API call needs a session (401)" [ "$(http_code "$C/api/held")" = 401 ]
login() { # USER PASSWORD [CURL ARGS]: POST /api/login, cookie in $jar, body in $tmp/login.json; prints the status
    local u="$1" p="$2"; shift 2
    curl -s -o "$tmp/login.json" -D "$tmp/login.h" -c "$jar" -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' "$@" \
        --data-binary "{\"user\":\"$u\",\"password\":\"$p\"}" "$C/api/login"
}
check "a wrong password is refused (401)" [ "$(login vic nope)" = 401 ]
check "vic signs in" [ "$(login vic "$VIEWER_PW")" = 200 ]
check "the session cookie is HttpOnly, SameSite=Strict, Path=/ (not Secure without secure_cookie)" \
    sh -c 'c=$(grep -i "^set-cookie: mlc_session=" "$0") && echo "$c" | grep -q "HttpOnly" && echo "$c" | grep -q "SameSite=Strict" && echo "$c" | grep -q "Path=/" && ! echo "$c" | grep -qi "secure"' "$tmp/login.h"
check "the login answer names the role and a CSRF token" \
    pyj "$tmp/login.json" "sys.exit(0 if d['role']=='viewer' and len(d['csrf'])==64 and d['timezone']=='UTC' else 1)"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$tmp/login.json")
post() { # PATH JSON [CURL ARGS]: a POST with the session cookie; prints the status
    local p="$1" b="$2"; shift 2
    curl -s -o "$tmp/post.json" -b "$jar" -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' "$@" --data-binary "$b" "$C$p"
}
check "a POST without the CSRF token is refused (403)" \
    [ "$(post /api/replay "{\"id\":$job400,\"note\":\"x\"}")" = 403 ]
check "a POST with a wrong CSRF token is refused (403)" \
    [ "$(post /api/replay "{\"id\":$job400,\"note\":\"x\"}" -H "X-CSRF-Token: ${csrf%?}0")" = 403 ]
check "a viewer's replay is refused (403) even with the token" \
    [ "$(post /api/replay "{\"id\":$job400,\"note\":\"x\"}" -H "X-CSRF-Token: $csrf")" = 403 ]
check "so is a viewer's dismiss" \
    [ "$(post /api/dismiss "{\"id\":$job400,\"note\":\"x\"}" -H "X-CSRF-Token: $csrf")" = 403 ]
check "the refusal is audited with actor console:vic" \
    audit_has order:400 "r['actor'] == 'console:vic' and r['action'] == 'replay' and r['outcome'] == 'refused'"
check "the order is still held" held400
check "the held page lists it with its reason code and amount" \
    sh -c 'curl -s -b "$0" "$1/api/held" > "$2" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); i=[x for x in d[\"items\"] if x[\"key\"]==\"order:400\"][0]; sys.exit(0 if i[\"code\"]==\"account_missing\" and i[\"amount\"][\"text\"]==\"16.20\" else 1)" "$2"' \
    "$jar" "$C" "$tmp/held.json"
check "logout ends the session" \
    sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" -b "$0" -H "Content-Type: application/json" -H "X-CSRF-Token: $2" -d "{}" "$1/api/logout")" = 200 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" -b "$0" "$1/api/held")" = 401 ]' \
    "$jar" "$C" "$csrf"
check "the proxy user header from loopback signs olga in as operator" \
    sh -c 'curl -s -H "X-Forwarded-User: olga" "$0/api/session" | grep -q "\"role\":\"operator\""' "$C"
check "an e-mail search lists that customer's orders from BigCommerce" \
    sh -c 'curl -s -H "X-Forwarded-User: vic" "$0/api/order?q=jane.doe%40example.com" > "$1" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); ids={o[\"id\"] for o in d[\"orders\"]}; sys.exit(0 if {100,101} <= ids and 102 not in ids else 1)" "$1"' \
    "$C" "$tmp/email.json"
check "an order search by document key shows its trail" \
    sh -c 'curl -s -H "X-Forwarded-User: vic" "$0/api/order?q=BC400S" > "$1" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"key\"]==\"order:400\" and any(a[\"actor\"]==\"console:vic\" for a in d[\"audit\"]) else 1)" "$1"' \
    "$C" "$tmp/order.json"
check "a proxy user not in console.users is not signed in (401)" \
    [ "$(http_code -H 'X-Forwarded-User: mallory' "$C/api/session")" = 401 ]

# ---- in a browser ---------------------------------------------------------------------
browser_ok=""
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
    browser_ok=1
fi
B="$ROOT/tests/e2e/lib/console_browser.py"
if [ -n "$browser_ok" ]; then
    check "browser: a viewer finds the held order and sees replay refused" \
        /usr/bin/python3 "$B" "$C" viewer vic "$VIEWER_PW" order:400
else
    ok "# SKIP browser: chromium, chromedriver or python3-selenium not installed (scripts/install-deps)"
fi

gone_account="100.4010"
write_config
kill -HUP "$pid"
check "the daemon reloads the fixed mapping" wait_until 100 grep -q "config reloaded" "$log"
posted400() {
    "$MLC" audit --entity order:400 --config "$cfg" --json >"$tmp/a400.json" 2>/dev/null &&
        pyj "$tmp/a400.json" "sys.exit(0 if any(l['key'] == 'BC400S' and l['state'] == 'posted' for l in d['ledger']) else 1)"
}
if [ -n "$browser_ok" ]; then
    check "browser: an operator replays it with a note and sees it posted" \
        /usr/bin/python3 "$B" "$C" operator olga "$OPERATOR_PW" order:400 400
else
    # the same through the API, so the rest of the script still runs
    login olga "$OPERATOR_PW" >/dev/null
    csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$tmp/login.json")
    check "an operator replays it through the API" \
        [ "$(post /api/replay "{\"id\":$job400,\"note\":\"mapping fixed\"}" -H "X-CSRF-Token: $csrf")" = 200 ]
fi
check "order 400 is posted" wait_until 300 posted400
check "the replay is audited with actor console:olga and the note" \
    audit_has order:400 "r['actor'] == 'console:olga' and r['action'] == 'replay' and r['outcome'] == 'ok' and r['detail']['note'] != ''"

run report reconcile --day "$DAY" --config "$cfg"
check "mlc report reconcile stores the day ($DAY)" [ "$rc" -le 1 ]
run report show --day "$DAY" --format csv --config "$cfg"
cp "$out" "$tmp/expected.csv"
check "the console's CSV is the stored report's, byte for byte (curl)" \
    sh -c 'curl -s -b "$0" -H "X-Forwarded-User: olga" "$1/api/report.csv?day=$2" > "$3" && cmp -s "$3" "$4" && grep -q "^day,section,currency" "$3" && grep -q "^$2," "$3"' \
    "$tmp/nojar" "$C" "$DAY" "$tmp/got.csv" "$tmp/expected.csv"
if [ -n "$browser_ok" ]; then
    mkdir -p "$tmp/dl"
    check "browser: the reconcile CSV downloads, byte for byte what mlc report show prints" \
        /usr/bin/python3 "$B" "$C" csv vic "$VIEWER_PW" "$DAY" "$tmp/expected.csv" "$tmp/dl"
else
    ok "# SKIP browser: chromium, chromedriver or python3-selenium not installed"
fi

# ---- a role changed in the file applies at the reload ----------------------------
login vic "$VIEWER_PW" >/dev/null
check "vic's session works" [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$C/api/held")" = 200 ]
vic_role="operator"
write_config
n_reloads=$(grep -c "config reloaded" "$log")
kill -HUP "$pid"
reloaded_again() { [ "$(grep -c "config reloaded" "$log")" -gt "$n_reloads" ]; }
check "the daemon reloads vic's new role" wait_until 100 reloaded_again
check "vic's session from before the role change has ended (401)" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$C/api/held")" = 401 ]
vic_operator() { [ "$(login vic "$VIEWER_PW")" = 200 ] && pyj "$tmp/login.json" "sys.exit(0 if d['role']=='operator' else 1)"; }
check "signing in again gives vic the new role" vic_operator

# ---- the login rate limit (last: it locks 127.0.0.1 out for five minutes) -----------
BAD_PW="Zq9-not-it"
for _ in 1 2 3 4 5; do login olga "$BAD_PW" >/dev/null; done
check "after five failures even the right password is refused with 429" \
    [ "$(login olga "$OPERATOR_PW")" = 429 ]
check "the 429 says when to come back" grep -qi "^retry-after: [0-9]" "$tmp/login.h"
check "failures are logged without the password" \
    sh -c 'grep -q "login failed" "$0" && ! grep -q "$2" "$0" && ! grep -q "$1" "$0"' "$log" "$OPERATOR_PW" "$BAD_PW"
check "SIGTERM stops the daemon" daemon_term 300
e2e_done
