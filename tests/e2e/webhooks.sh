#!/usr/bin/env bash
# End-to-end: POST /webhooks/bigcommerce on the real `mlc run` (127.0.0.1,
# temp SQLite store), signed here with openssl as BigCommerce would sign:
# stored -> 200 and one READY order.sync job; duplicate and coalesced
# deliveries; 401 for a wrong signature, a missing custom header and a stale
# timestamp (nothing stored); 400 malformed; 413 over max_body_bytes;
# /metrics counters; workers.gather_ms (an order job waits for the end of
# its window) and a reload that changes it; SIGTERM; no secret in the log.
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init webhooks

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
db="$tmp/mlc.db"
HDR_SECRET="hdr-CANARY-$$-7c1f"
CLIENT_SECRET="cs-CANARY-$$-0b9e"

in_log()    { grep -q -- "$1" "$log"; }

write_config() {
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$db\"" listen="\"127.0.0.1:$port\"" \
        count=2 max_body_bytes=1024 drain_timeout_s=10 gather_ms=60000 \
        api_base_url='"http://127.0.0.1:9/stores/{store_hash}"' \
        '#webhook_public_url'="\"http://127.0.0.1:$port/webhooks/bigcommerce\"" \
        '#webhook_secret_ref'='"bc_webhook_secret"' '#client_secret_ref'='"bc_client_secret"' \
        '#store_id'='"1025646"'
}

# ---- Standard Webhooks signing, as BigCommerce does it --------------------
# sig ID TS FILE: "v1,<base64 HMAC-SHA256(client secret bytes, ID.TS.body)>"
sig() {
    printf 'v1,%s' "$({ printf '%s.%s.' "$1" "$2"; cat "$3"; } |
        openssl dgst -sha256 -hmac "${4:-$CLIENT_SECRET}" -binary | base64 -w0)"
}
now() { date +%s; }

# deliver FILE ID [TS] [SIG] [HEADER_SECRET|-]: POSTs, prints the status code.
deliver() {
    local file="$1" id="$2" ts="${3:-$(now)}" s="${4:-}" hs="${5:-$HDR_SECRET}"
    [ -n "$s" ] || s=$(sig "$id" "$ts" "$file")
    local args=(-H "Content-Type: application/json" -H "webhook-id: $id"
                -H "webhook-timestamp: $ts" -H "webhook-signature: $s")
    [ "$hs" = - ] || args+=(-H "X-MLC-Webhook-Secret: $hs")
    curl -s -o "$tmp/reply" -w '%{http_code}' --max-time 10 "${args[@]}" \
        --data-binary @"$file" "http://127.0.0.1:$port/webhooks/bigcommerce"
}
reply_has() { grep -q -- "$1" "$tmp/reply"; }

order_event() { # FILE ORDER_ID CREATED_AT
    printf '{"scope":"store/order/updated","store_id":"1025646","data":{"type":"order","id":%s},"hash":"9d0f2c7e1b","created_at":%s,"producer":"stores/abc123def4"}' \
        "$2" "$3" > "$1"
}

# Counts via the store itself (python3's sqlite3 reads the WAL database).
events() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' "$db"; }
# ready_jobs KIND KEY: how many READY jobs `mlc jobs list --json` shows.
ready_jobs() {
    "$MLC" jobs list --config "$cfg" --state ready --json 2>/dev/null |
        python3 -c 'import json,sys; k,key=sys.argv[1:3]; print(sum(1 for j in json.load(sys.stdin) if j["kind"]==k and j["key"]==key and j["state"]=="ready"))' "$1" "$2"
}
all_jobs() { "$MLC" jobs list --config "$cfg" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q "^mlc_webhooks_total{outcome=\"$1\"} $2\$"; }
# job_field KEY FIELD: FIELD of the job of KEY in `mlc jobs list --json`.
job_field() {
    "$MLC" jobs list --config "$cfg" --json 2>/dev/null |
        python3 -c 'import json,sys; key,f=sys.argv[1:3]; print(next((j[f] for j in json.load(sys.stdin) if j["key"]==key), ""))' "$1" "$2"
}
# Not in the last 5 s of a minute (the store clock is the real one): a
# delivery made now is still in its 60 s gather window when checked.
early_in_minute() { [ $(( $(date +%s%3N) % 60000 )) -lt 55000 ]; }
# gathered KEY: the job waits for the end of a 60 s window, untouched.
gathered() { [ "$(job_field "$1" attempts)" = 0 ] && [ $(( $(job_field "$1" run_at) % 60000 )) = 0 ]; }
not_gathered() { ! gathered "$1"; }

# ---- configuration, credentials, start ------------------------------------
require "mlc init writes a base config" mlc_init_base
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
check "config check accepts the webhook settings" sh -c "\"\$0\" config check \"\$1\" >/dev/null" "$MLC" "$cfg"
webhook_secrets() {
    cred_set "$HDR_SECRET" --name bc_webhook_secret && cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "both webhook secrets stored" webhook_secrets

require "daemon serves on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port"
check "log says webhooks are enabled with both checks" \
    in_log 'msg="webhooks enabled" path=/webhooks/bigcommerce custom_header=true signature=true'
check "GET on the endpoint answers 405" \
    test "$(http_code "http://127.0.0.1:$port/webhooks/bigcommerce")" = 405

# ---- accepted deliveries ---------------------------------------------------
order_event "$tmp/e1.json" 105 1700000000
wait_until 60 early_in_minute
check "valid delivery answers 200" test "$(deliver "$tmp/e1.json" msg_e2e_1)" = 200
check "reply says stored" reply_has '"status":"stored"'
check "one event stored" test "$(events)" = 1
check "one READY order.sync job for order:105" test "$(ready_jobs order.sync order:105)" = 1
check "its job is due at the end of its gather window (workers.gather_ms 60000)" gathered order:105
check "the same delivery again answers 200" test "$(deliver "$tmp/e1.json" msg_e2e_1)" = 200
check "reply says duplicate" reply_has '"status":"duplicate"'
check "still one event" test "$(events)" = 1
order_event "$tmp/e2.json" 105 1700000060
check "a second update of order 105 answers 200" test "$(deliver "$tmp/e2.json" msg_e2e_2)" = 200
check "two events stored" test "$(events)" = 2
check "coalesced: still one READY job for order:105" test "$(ready_jobs order.sync order:105)" = 1
check "and no other job" test "$(all_jobs)" = 1

# ---- rejected deliveries: nothing stored -----------------------------------
order_event "$tmp/e3.json" 106 1700000100
check "wrong signature answers 401" \
    test "$(deliver "$tmp/e3.json" msg_e2e_3 "$(now)" "$(sig msg_e2e_3 "$(now)" "$tmp/e3.json" wrong-secret)")" = 401
check "401 body says unauthorized" reply_has '"error":"unauthorized"'
cp "$tmp/e3.json" "$tmp/e3x.json"; sed -i 's/106/107/' "$tmp/e3x.json"
ts=$(now)
check "body altered after signing answers 401" \
    test "$(deliver "$tmp/e3x.json" msg_e2e_3 "$ts" "$(sig msg_e2e_3 "$ts" "$tmp/e3.json")")" = 401
check "missing custom header answers 401" test "$(deliver "$tmp/e3.json" msg_e2e_4 "" "" -)" = 401
check "wrong custom header answers 401" test "$(deliver "$tmp/e3.json" msg_e2e_4 "" "" wrong)" = 401
check "stale timestamp (-10 min) answers 401" test "$(deliver "$tmp/e3.json" msg_e2e_5 $(( $(now) - 600 )))" = 401
check "future timestamp (+10 min) answers 401" test "$(deliver "$tmp/e3.json" msg_e2e_6 $(( $(now) + 600 )))" = 401
printf '{"scope":"store/order/updated","data":' > "$tmp/bad.json"
check "malformed JSON answers 400" test "$(deliver "$tmp/bad.json" msg_e2e_7)" = 400
check "400 body says malformed payload" reply_has '"error":"malformed payload"'
printf '{"scope":"store/order/updated","store_id":"1","data":{"type":"order"},"hash":"h","created_at":1}' > "$tmp/noid.json"
check "payload without data.id answers 400" test "$(deliver "$tmp/noid.json" msg_e2e_8)" = 400
check "400 detail names the path" reply_has 'data.id: missing'
printf '{"scope":"store/order/updated","store_id":"1","data":{"type":"order","id":0},"hash":"h","created_at":1}' > "$tmp/id0.json"
check "an order id of 0 answers 400" test "$(deliver "$tmp/id0.json" msg_e2e_10)" = 400
check "... naming the range" reply_has 'data.id: expected an id from 1 to 2147483647'
order_event "$tmp/other.json" 108 1700000300
sed -i 's#stores/abc123def4#stores/zz9other#' "$tmp/other.json"
check "a signed delivery of another store (producer) answers 403" \
    test "$(deliver "$tmp/other.json" msg_e2e_11)" = 403
order_event "$tmp/other2.json" 108 1700000300
sed -i 's#"1025646"#"7777"#' "$tmp/other2.json"
check "... and one naming another store_id" test "$(deliver "$tmp/other2.json" msg_e2e_12)" = 403
check "the refusal names the field" in_log 'status=403 reason="webhook payload: store_id: another store'"'"'s (7777), not 1025646"'
head -c 4096 /dev/zero | tr '\0' ' ' > "$tmp/big.json"
check "body over max_body_bytes answers 413" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Expect: 100-continue' \
            -H "X-MLC-Webhook-Secret: $HDR_SECRET" --data-binary @"$tmp/big.json" \
            "http://127.0.0.1:$port/webhooks/bigcommerce")" = 413
check "nothing stored by the rejected deliveries" test "$(events)" = 2
check "and no job for order 106" test "$(ready_jobs order.sync order:106)" = 0
check "nor for order 108" test "$(ready_jobs order.sync order:108)" = 0
check "rejections are logged at warn with a reason" \
    in_log 'lvl=warn mod=webhook msg="delivery rejected" status=401 reason="header webhook-signature: no v1 signature matches"'
check "missing header reason logged" in_log 'reason="header X-MLC-Webhook-Secret missing"'
check "stale timestamp reason logged" in_log 'reason="header webhook-timestamp [0-9]* is 60[0-9] s away'
check "malformed reason logged" in_log 'status=400 reason="webhook payload: data.id: missing"'

# ---- metrics ---------------------------------------------------------------
check "/metrics counts stored" metric stored 2
check "/metrics counts duplicate" metric duplicate 1
check "/metrics counts unauthorized" metric unauthorized 8
check "/metrics counts malformed" metric malformed 3
check "/metrics counts error" metric error 0

# ---- a reload applies workers.gather_ms -------------------------------------
yaml_set "$cfg" "$cfg" gather_ms=0
kill -HUP "$pid"
check "reload with workers.gather_ms 0" wait_until 100 in_log 'msg="config reloaded"'
order_event "$tmp/e9.json" 110 1700000200
wait_until 60 early_in_minute
check "a delivery after the reload answers 200" test "$(deliver "$tmp/e9.json" msg_e2e_9)" = 200
check "its job is due at once, not at the window's end" not_gathered order:110

# ---- stop -------------------------------------------------------------------
check "daemon exits after SIGTERM" daemon_term 200
check "exit status is 0" test "$daemon_rc" = 0
check "the log never holds the custom header secret" sh -c "! grep -q -- '$HDR_SECRET' '$log'"
check "the log never holds the client secret" sh -c "! grep -q -- '$CLIENT_SECRET' '$log'"
check "the log never holds a signature" sh -c "! grep -q -- 'v1,' '$log'"

# ---- disabled without secrets ----------------------------------------------
sed -e 's|^\(  webhook_public_url: \)|  # \1|' -e 's|^\(  webhook_secret_ref: \)|  # \1|' \
    -e 's|^\(  client_secret_ref: \)|  # \1|' "$cfg" > "$tmp/nowh.yaml"
log="$tmp/daemon-nowebhooks.log"
"$MLC" run --config "$tmp/nowh.yaml" >"$log" 2>&1 &
pid=$!
if wait_until 150 healthy; then
    ok "daemon without webhook secrets serves"
    check "log says webhooks are disabled" in_log 'msg="webhooks disabled'
    check "the endpoint is not served (404)" \
        test "$(http_code -X POST -d '{}' "http://127.0.0.1:$port/webhooks/bigcommerce")" = 404
else
    not_ok "daemon without webhook secrets serves"; cat "$log"
fi
daemon_term 200

# ---- a named secret that is not stored: no start -----------------------------
sed -e 's|^\(  webhook_secret_ref: \).*|\1"never_stored"|' "$cfg" > "$tmp/missing.yaml"
timeout 20 "$MLC" run --config "$tmp/missing.yaml" >"$tmp/missing.log" 2>&1
check "a webhook secret named but not stored stops the start (exit 1)" test "$?" = 1
check "the error says how to store it" \
    grep -q "webhooks: credential 'never_stored' is not stored (store it with: mlc credentials set --name never_stored" "$tmp/missing.log"

e2e_done
