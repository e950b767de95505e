#!/usr/bin/env bash
# End-to-end: the public listener of the real `mlc run` under a slow-client
# attack from one loopback address (127.0.0.2; Linux routes all of 127/8 to
# lo). Twice the connections the server accepts in all, each sending one
# header line every half second (well inside the idle timeout), and a webhook
# body dribbled one byte a second from 127.0.0.3. Meanwhile, from 127.0.0.1,
# /healthz answers and a signed webhook is stored; the dribbled requests are
# cut after server.request_timeout_s, unanswered; the daemon logs the cuts
# (and not one line per refused connection) and stops cleanly.
# The bounds are short here (2 s) so that the test stays short; checks on
# time are logical (never before the bound) or generous (well after it).
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init slowclients
need_py

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
db="$tmp/mlc.db"
HDR_SECRET="hdr-slow-$$-41d2"
CLIENT_SECRET="cs-slow-$$-9a07"
MAXCONN=64        # server.max_connections
PER_IP=8          # server.max_connections_per_ip
BOUND=2           # server.request_timeout_s
ATTACK_S=120      # the header attack's own limit (it is stopped before)
ATTACKERS=$((MAXCONN * 2))

in_log() { grep -q -- "$1" "$log"; }

write_config() {
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$db\"" listen="\"127.0.0.1:$port\"" \
        count=1 drain_timeout_s=5 max_connections=$MAXCONN \
        max_connections_per_ip=$PER_IP request_timeout_s=$BOUND connection_timeout_s=30 \
        api_base_url='"http://127.0.0.1:9/stores/{store_hash}"' \
        '#webhook_public_url'="\"http://127.0.0.1:$port/webhooks/bigcommerce\"" \
        '#webhook_secret_ref'='"bc_webhook_secret"' '#client_secret_ref'='"bc_client_secret"'
}

# ---- signed deliveries, as in webhooks.sh -----------------------------------
sig() {
    printf 'v1,%s' "$({ printf '%s.%s.' "$1" "$2"; cat "$3"; } |
        openssl dgst -sha256 -hmac "$CLIENT_SECRET" -binary | base64 -w0)"
}
deliver() { # FILE ID: POSTs from 127.0.0.1, prints the status code
    local ts s
    ts=$(date +%s); s=$(sig "$2" "$ts" "$1")
    curl -s -o "$tmp/reply" -w '%{http_code}' --max-time 10 \
        -H "Content-Type: application/json" -H "webhook-id: $2" \
        -H "webhook-timestamp: $ts" -H "webhook-signature: $s" \
        -H "X-MLC-Webhook-Secret: $HDR_SECRET" \
        --data-binary @"$1" "http://127.0.0.1:$port/webhooks/bigcommerce"
}
order_event() { # FILE ORDER_ID
    printf '{"scope":"store/order/updated","store_id":"1025646","data":{"type":"order","id":%s},"hash":"9d0f2c7e1b","created_at":%s,"producer":"stores/abc123def4"}' \
        "$2" "$(date +%s)" > "$1"
}
events() { "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' "$db"; }
# field FILE KEY: one value of the attacker's JSON result
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
metric_pos() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q "^$1 [1-9]"; }
healthz_ok() { [ "$(http_code --max-time 5 "http://127.0.0.1:$port/healthz")" = 200 ]; }

# ---- configuration, credentials, start ------------------------------------
require "mlc init writes a base config" mlc_init_base
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
webhook_secrets() {
    cred_set "$HDR_SECRET" --name bc_webhook_secret && cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "both webhook secrets stored" webhook_secrets
require "daemon serves on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port; $ATTACKERS attackers from 127.0.0.2, bound ${BOUND}s, $PER_IP per address"
require "127.0.0.2 reaches the daemon (127/8 is loopback)" \
    test "$(http_code --interface 127.0.0.2 "http://127.0.0.1:$port/healthz")" = 200

# ---- the attack --------------------------------------------------------------
"$PY" "$ROOT/tests/e2e/lib/slowclients.py" headers "$port" 127.0.0.2 "$ATTACKERS" \
    "$ATTACK_S" 0.5 "$tmp/headers.json" 2>"$tmp/headers.err" &
attack=$!
e2e_track "$attack"
"$PY" "$ROOT/tests/e2e/lib/slowclients.py" body "$port" 127.0.0.3 200 \
    $((BOUND * 10)) 1 "$tmp/body.json" 2>"$tmp/body.err" &
dribble=$!
e2e_track "$dribble"
sleep 3 # the attackers hold every slot they can get by now

# ---- a legitimate client from 127.0.0.1 during the attack --------------------
answered=0
for _ in 1 2 3 4 5; do
    healthz_ok && answered=$((answered + 1))
    sleep 0.5
done
check "/healthz answers from 127.0.0.1 during the attack (5 of 5)" test "$answered" = 5
order_event "$tmp/e1.json" 301
check "a signed webhook from 127.0.0.1 is accepted during the attack" \
    test "$(deliver "$tmp/e1.json" msg_slow_1)" = 200
check "and stored" grep -q '"status":"stored"' "$tmp/reply"
check "one event in the store" test "$(events)" = 1
check "the attack was still running while these were served" kill -0 "$attack"
check "/metrics counts requests cut" wait_until 50 metric_pos mlc_http_requests_cut_total

# ---- the attackers' view -------------------------------------------------------
check "the body dribbler ends within $((BOUND * 10)) s" wait_until $((BOUND * 100 + 50)) \
    test -s "$tmp/body.json"
check "the dribbled body was cut by the server" test "$(field "$tmp/body.json" closed)" = True
check "after some of its bytes were taken (a cut, not a refusal)" \
    test "$(field "$tmp/body.json" sent)" -ge 1
check "never before the bound" \
    "$PY" -c "import sys; sys.exit(float(sys.argv[1]) < $BOUND)" "$(field "$tmp/body.json" after_s)"
check "and unanswered" test -z "$(field "$tmp/body.json" reply)"
kill -TERM "$attack" 2>/dev/null
check "the header attack stops" wait_until 100 test -s "$tmp/headers.json"
note "header attack: $(cat "$tmp/headers.json" 2>/dev/null)"
check "the attackers opened more connections than they may hold" \
    test "$(field "$tmp/headers.json" opened)" -gt "$PER_IP"
check "the server closed dribbling connections (cut or refused)" \
    test "$(field "$tmp/headers.json" closed_by_server)" -gt "$PER_IP"
check "no dribbled request got an answer" test "$(field "$tmp/headers.json" answered)" = 0
cut=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | sed -n 's/^mlc_http_requests_cut_total //p')
note "requests cut: ${cut:-none}"
check "every dribbler the server took was cut (/metrics: more cuts than the per-address share)" \
    test "${cut:-0}" -gt "$PER_IP"
check "/healthz answers after the attack" healthz_ok
order_event "$tmp/e2.json" 302
check "and a webhook is still accepted" test "$(deliver "$tmp/e2.json" msg_slow_2)" = 200

# ---- the log ---------------------------------------------------------------
check "the log reports requests cut" in_log 'lvl=warn mod=httpd msg="requests cut: not read whole in time"'
mhd_lines=$(grep -c 'mod=httpd msg=mhd ' "$log")
note "MHD warnings logged: $mhd_lines"
check "refused connections do not flood the log (a few MHD lines, not one each)" \
    test "$mhd_lines" -le 20
check "daemon exits after SIGTERM" daemon_term 200
check "exit status is 0" test "$daemon_rc" = 0
check "the refusals left out of the log are counted" in_log 'msg="mhd warnings suppressed" count='

e2e_done
