#!/usr/bin/env bash
# mlc-sim end to end: both simulators in one process from the shipped seeds,
# reachable over loopback, answering auth, data and control calls, and
# stopping cleanly on SIGTERM. Prints TAP lines.
set -u
SIM="${BUILD:-build/release}/mlc-sim"
tmp=$(mktemp -d); pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }

"$SIM" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed sim/seed/bigcommerce.json \
    --seed sim/seed/jde.json --ready-file "$tmp/ports" --log-level warn >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
check "ready file names both ports" "grep -q '^bigcommerce=[0-9]' '$tmp/ports' && grep -q '^jde=[0-9]' '$tmp/ports'"
bc=$(sed -n 's/^bigcommerce=//p' "$tmp/ports"); jde=$(sed -n 's/^jde=//p' "$tmp/ports")
BC="http://127.0.0.1:$bc/stores/nwhg42"; AIS="http://127.0.0.1:$jde/jderest"

code=$(curl -s -o "$tmp/b" -w '%{http_code}' "$BC/v2/orders")
check "BigCommerce refuses a call without X-Auth-Token (401)" "[ '$code' = 401 ]"
code=$(curl -s -o "$tmp/orders" -w '%{http_code}' -H 'x-auth-token: sim-token-northwind' \
    -H 'Accept: application/json' "$BC/v2/orders?limit=250")
check "orders list with the token, header name in lower case (200)" "[ '$code' = 200 ]"
check "orders list is a JSON array of the seeded orders" \
    "python3 -c 'import json,sys; d=json.load(open(\"$tmp/orders\")); sys.exit(0 if isinstance(d,list) and len(d)>=6 else 1)'"
curl -s -D "$tmp/h" -o /dev/null -H 'X-Auth-Token: sim-token-northwind' "$BC/v2/orders/count"
check "rate limit headers on the response" "grep -qi '^x-rate-limit-requests-left:' '$tmp/h'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: sim-token-northwind' \
    "$BC/v2/orders?min_id=999999")
check "past the end of the orders: 204" "[ '$code' = 204 ]"

code=$(curl -s -o "$tmp/dc" -w '%{http_code}' "$AIS/v2/defaultconfig")
check "AIS defaultconfig without auth (200)" "[ '$code' = 200 ]"
curl -s -o "$tmp/login" -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -d '{"username":"MLCINT","password":"mlcint-pass","deviceName":"e2e"}' "$AIS/v2/tokenrequest"
token=$(python3 -c "import json; print(json.load(open('$tmp/login'))['userInfo']['token'])" 2>/dev/null)
check "AIS login returns a token" "[ -n '$token' ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json' -H "jde-AIS-Auth: $token" -H 'jde-AIS-Auth-Device: e2e' \
    -d '{"targetName":"F0901","targetType":"table","dataServiceType":"BROWSE","returnControlIDs":"F0901.MCU|F0901.OBJ"}' \
    "$AIS/v2/dataservice")
check "AIS data service with the token (200)" "[ '$code' = 200 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json' -H 'jde-AIS-Auth: not-a-token' -H 'jde-AIS-Auth-Device: e2e' \
    -d '{"targetName":"F0901","targetType":"table","dataServiceType":"BROWSE"}' "$AIS/v2/dataservice")
check "AIS answers 444 for an invalid token" "[ '$code' = 444 ]"
curl -s -o "$tmp/cnt" "http://127.0.0.1:$bc/__sim/counters"
check "BigCommerce call counters count the orders list" "grep -q 'GET /v2/orders' '$tmp/cnt'"

kill -TERM "$pid"
rc=""; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { wait "$pid"; rc=$?; break; }; sleep 0.1; done
pid=""
check "SIGTERM stops mlc-sim with status 0" "[ '$rc' = 0 ]"
echo "1..$n"
