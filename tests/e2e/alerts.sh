#!/usr/bin/env bash
# End-to-end: alerts, with the real `mlc run` against both simulators
# (mlc-sim) and a receiver (tests/e2e/lib/alert_sink.py) that serves an
# HTTPS webhook and SMTP with STARTTLS on 127.0.0.1, under a throw-away
# self-signed certificate trusted through each channel's ca_file.
# `mlc notify test` reaches both channels; an order held for a missing
# account is exactly one webhook and one e-mail; several held orders in one
# digest interval are one digest with their count; a receiver that is down
# gets the alert once it is back (nothing lost); the webhook URL's token
# and the SMTP password appear in no log, output or store row. Prints TAP
# lines; every wait is bounded.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init alerts
need_py

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
sink="$tmp/sink"
BC_TOKEN="sim-token-northwind"
HOOK_TOKEN="T0ALERTS/B0ALERTS/hooktoken$$x$RANDOM"
SMTP_USER="mlc-alerts"
SMTP_PASSWORD="smtp-Secret-$$-$RANDOM"
GONE_ACCOUNT="100.4999"   # not in the simulator's F0901
INTERVAL=12               # alerts.digest_interval_s
mkdir -p "$sink"

# ---- the receiver ----------------------------------------------------------------------
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
        -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
}
sinkpid=""
HOOKP=0; SMTPP=0
sink_start() {
    rm -f "$tmp/sink.ready"
    "$PY" "$ROOT/tests/e2e/lib/alert_sink.py" --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
        --dir "$sink" --token "$HOOK_TOKEN" --user "$SMTP_USER" --password "$SMTP_PASSWORD" \
        --hook-port "$HOOKP" --smtp-port "$SMTPP" --ready "$tmp/sink.ready" \
        >>"$tmp/sink.log" 2>&1 &
    sinkpid=$!
    e2e_track "$sinkpid"
    wait_until 100 test -s "$tmp/sink.ready" || return 1
    HOOKP=$(sed -n 's/^hook=//p' "$tmp/sink.ready")
    SMTPP=$(sed -n 's/^smtp=//p' "$tmp/sink.ready")
}
sink_stop() { kill_wait "$sinkpid"; sinkpid=""; }
hooks() { find "$sink" -name 'hook-*.json' | wc -l; }
mails() { find "$sink" -name 'mail-*.eml' | wc -l; }
both_are() { [ "$(hooks)" = "$1" ] && [ "$(mails)" = "$2" ]; }
hook_text() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["text"])' "$sink/hook-$1.json"; }
# hook_has N TEXT...: webhook N's text contains every TEXT
hook_has() {
    local t; t=$(hook_text "$1") || return 1; shift
    for s in "$@"; do grep -q -F -- "$s" <<<"$t" || return 1; done
}

require "a self-signed certificate for 127.0.0.1" make_cert
require "the receiver serves HTTPS and SMTP on 127.0.0.1" sink_start
require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
mlc_init_base || { not_ok "mlc init"; exit 1; }

write_config() {
    {
        cat <<EOF
log:
  level: debug
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bc_token"
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-alerts"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
EOF
        e2e_posting_journal
        cat <<EOF
  revenue_by_sku:
    "NW-GONE-1": "$GONE_ACCOUNT"
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
  accounts_refresh_interval: 3600
orders:
  start: $E2E_CUTOVER
  start_id: 400
$(e2e_runtime_yaml)
alerts:
  digest_interval_s: $INTERVAL
  console_url: "https://mlc.example.com"
  webhooks:
    - name: ops-chat
      url_ref: alerts_ops_chat_url
      ca_file: "$tmp/cert.pem"
  email:
    - name: controller
      smtp_url: "smtp://127.0.0.1:$SMTPP"
      from: "mlc@shop.example.com"
      to: ["controller@example.com", "ops@example.com"]
      user: "$SMTP_USER"
      password_ref: alerts_smtp_password
      ca_file: "$tmp/cert.pem"
EOF
    } >"$cfg"
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
capture_init
run config check "$cfg"
check "the configuration with alert channels is valid" [ "$rc" = 0 ]
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "mlcint-pass" --name jde_password &&
        cred_set "https://127.0.0.1:$HOOKP/services/$HOOK_TOKEN" --name alerts_ops_chat_url &&
        cred_set "$SMTP_PASSWORD" --name alerts_smtp_password
}
require "credentials stored (the webhook URL and the SMTP password among them)" store_credentials

# ---- mlc notify test -------------------------------------------------------------------
run notify test --config "$cfg"
check "mlc notify test: exit 0, each channel accepted" \
    sh -c '[ "$0" = 0 ] && grep -q "^ok  *ops-chat  *webhook" "$1" && grep -q "^ok  *controller  *email" "$1"' \
    "$rc" "$out"
check "the receiver got one test webhook and one test e-mail" both_are 1 1
check "the test webhook is Slack-compatible JSON naming the test" \
    hook_has 1 "[mlc] 1 alert: test 1" "Test message from ml-connector"
check "the test e-mail went over STARTTLS, logged in as the configured user, to both addresses" \
    "$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(0 if m["tls"] and m["user"]==sys.argv[2] and m["rcpt"]==["<controller@example.com>","<ops@example.com>"] and m["from"]=="<mlc@shop.example.com>" else 1)' \
    "$sink/mail-1.json" "$SMTP_USER"
check "the test e-mail is an RFC 5322 message (Date, Message-ID, From, To, Subject)" \
    sh -c 'for h in Date Message-ID From To Subject; do grep -q "^$h: " "$0" || exit 1; done; grep -q "^Subject: \[mlc\] 1 alert: test 1" "$0"' \
    "$sink/mail-1.eml"
run notify test --channel ops-chat --config "$cfg"
check "mlc notify test --channel sends to that channel only" both_are 2 1
run notify test --channel nope --config "$cfg"
check "mlc notify test --channel with an unknown name: exit 1, saying so" \
    sh -c '[ "$0" = 1 ] && grep -q "no alert channel named .nope." "$1"' "$rc" "$err"

# ---- one held order: one webhook, one e-mail -------------------------------------------
require "daemon serves on 127.0.0.1" daemon_start write_config
order_json() { # ID SKU
    printf '{"id":%s,"customer_id":0,"status_id":11,"currency":"USD","date_created":"%s","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"%s","name":"Thing","quantity":3,"price_ex_tax":"5.00","tax":"1.20"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"16.20","gateway":"stripe"}]}' \
        "$1" "2026-11-28T09:00:00Z" "$2"
}
hold_order() { # ID
    bc_ctl POST orders "$(order_json "$1" NW-GONE-1)" >/dev/null &&
        "$MLC" jobs enqueue --config "$cfg" order.sync "order:$1" >/dev/null 2>&1
}
held_key() { jobs_json held | "$PY" -c 'import json,sys; sys.exit(0 if any(j["key"]==sys.argv[1] for j in json.load(sys.stdin)) else 1)' "$1"; }
hold_order 400
check "order 400 is held (its account is not in JDE)" wait_until 300 held_key order:400
check "one webhook and one e-mail come for it" wait_until 200 both_are 3 2
check "the webhook says what, how much, the command and the console link" \
    hook_has 3 "held.account_missing 1" "Order 400 held for account_missing (USD 16.20)" \
        "Details: mlc orders show 400" "Console: https://mlc.example.com/orders/400"
check "the e-mail carries the same digest" \
    sh -c 'grep -q "^Subject: \[mlc\] 1 alert: held.account_missing 1" "$0" &&
           grep -q -F "Order 400 held for account_missing (USD 16.20)" "$0"' "$sink/mail-2.eml"

# ---- several held orders in one interval: one digest with the count --------------------
# Held at once after the last digest, so that all four fall well inside the
# next interval (a pause here once let them straddle it on a loaded machine).
for o in 401 402 403 404; do hold_order "$o"; done
all_held() { for o in 401 402 403 404; do held_key "order:$o" || return 1; done; }
check "orders 401-404 are held" wait_until 300 all_held
check "they come as one more webhook and one more e-mail, after the interval" \
    wait_until $(( (INTERVAL + 20) * 10 )) both_are 4 3
check "the digest counts the four, lists three, says 'and 1 more' and points at mlc held" \
    hook_has 4 "held.account_missing: 4" "and 1 more" "Details: mlc held --all" \
        "Console: https://mlc.example.com/held"
check "the e-mail's subject has the count" \
    grep -q "^Subject: \[mlc\] 4 alerts: held.account_missing 4" "$sink/mail-3.eml"
check "order 400 is not alerted again (one alert, not one a retry)" \
    sh -c '! grep -q -F "Order 400" "$0"' "$sink/mail-3.eml"

# ---- a receiver that is down gets the alert later --------------------------------------
sink_stop
hold_order 405
check "order 405 is held" wait_until 300 held_key order:405
failed_both() {
    grep -q 'msg="alert channel failed; it is retried later, nothing is lost" channel=ops-chat' "$log" &&
        grep -q 'msg="alert channel failed; it is retried later, nothing is lost" channel=controller' "$log"
}
check "both channels fail while the receiver is down (logged by name)" \
    wait_until $(( (INTERVAL + 20) * 10 )) failed_both
run notify test --config "$cfg"
check "mlc notify test says FAIL per channel (exit 1), naming the host" \
    sh -c '[ "$0" = 1 ] && grep -q "^FAIL  *ops-chat .*127.0.0.1:" "$1" && grep -q "^FAIL  *controller .*127.0.0.1:" "$1"' \
    "$rc" "$out"
require "the receiver is back on the same ports" sink_start
check "the alert of order 405 arrives on both channels once the receiver is back" \
    wait_until 900 both_are 5 4
check "it is the alert of order 405" grep -q "Order 405 held" "$sink/mail-4.eml"
run notify list --config "$cfg"
check "mlc notify list shows both channels with nothing pending, and the latest alerts" \
    sh -c '[ "$0" = 0 ] && grep -q "^ops-chat .*pending 0" "$1" && grep -q "^controller .*pending 0" "$1" && grep -q "held.account_missing  *Order 405 held" "$1"' \
    "$rc" "$out"

# ---- secrets ---------------------------------------------------------------------------
check "SIGTERM stops the daemon" daemon_term 300
hook_secret_part="${HOOK_TOKEN##*/}"
no_secret() { # FILE...: neither the webhook token nor the SMTP password (absent files skipped)
    local f
    for f in "$@"; do
        [ -e "$f" ] || continue
        ! grep -a -q -F -e "$hook_secret_part" -e "$SMTP_PASSWORD" "$f" || return 1
    done
}
check "the daemon's log (debug level) never shows the webhook token or the SMTP password" \
    no_secret "$log"
check "no command output shows them" no_secret "$all"
check "the store keeps them only encrypted (no row holds them in clear)" \
    no_secret "$tmp/mlc.db" "$tmp"/mlc.db-wal
"$MLC" audit --entity credential:alerts_ops_chat_url --config "$cfg" --json >"$tmp/audit.json" 2>&1
check "the audit trail does not hold them either" no_secret "$tmp/audit.json"
check "the daemon's log names the channel and the host it sent to" \
    grep -q 'msg="alert digest sent" channel=ops-chat type=webhook host=127.0.0.1:' "$log"
e2e_done
