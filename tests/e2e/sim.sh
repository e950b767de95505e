#!/usr/bin/env bash
# mlc-sim end to end: both simulators in one process from the shipped seeds,
# reachable over loopback, answering auth, data and control calls, and
# stopping cleanly on SIGTERM. Prints TAP lines.
set -u
E2E_NO_MLC=1   # only mlc-sim here; BUILD defaults to build/release
. "$(dirname "$0")/lib/common.bash"
e2e_init sim

sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed "$ROOT/sim/seed/bigcommerce.json" \
    --seed "$ROOT/sim/seed/jde.json" --log-level warn
check "ready file names both ports" eval "grep -q '^bigcommerce=[0-9]' '$tmp/ports.env' && grep -q '^jde=[0-9]' '$tmp/ports.env'"
bc="$BCP"; jde="$AISP"
BC="http://127.0.0.1:$bc/stores/nwhg42"; AIS="http://127.0.0.1:$jde/jderest"

code=$(curl -s -o "$tmp/b" -w '%{http_code}' "$BC/v2/orders")
check "BigCommerce refuses a call without X-Auth-Token (401)" eval "[ '$code' = 401 ]"
code=$(curl -s -o "$tmp/orders" -w '%{http_code}' -H 'x-auth-token: sim-token-northwind' \
    -H 'Accept: application/json' "$BC/v2/orders?limit=250")
check "orders list with the token, header name in lower case (200)" eval "[ '$code' = 200 ]"
check "orders list is a JSON array of the seeded orders" eval \
    "python3 -c 'import json,sys; d=json.load(open(\"$tmp/orders\")); sys.exit(0 if isinstance(d,list) and len(d)>=6 else 1)'"
curl -s -D "$tmp/h" -o /dev/null -H 'X-Auth-Token: sim-token-northwind' "$BC/v2/orders/count"
check "rate limit headers on the response" eval "grep -qi '^x-rate-limit-requests-left:' '$tmp/h'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: sim-token-northwind' \
    "$BC/v2/orders?min_id=999999")
check "past the end of the orders: 204" eval "[ '$code' = 204 ]"

code=$(curl -s -o "$tmp/dc" -w '%{http_code}' "$AIS/v2/defaultconfig")
check "AIS defaultconfig without auth (200)" eval "[ '$code' = 200 ]"
curl -s -o "$tmp/login" -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -d '{"username":"MLCINT","password":"mlcint-pass","deviceName":"e2e"}' "$AIS/v2/tokenrequest"
token=$(python3 -c "import json; print(json.load(open('$tmp/login'))['userInfo']['token'])" 2>/dev/null)
check "AIS login returns a token" eval "[ -n '$token' ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json' -H "jde-AIS-Auth: $token" -H 'jde-AIS-Auth-Device: e2e' \
    -d '{"targetName":"F0901","targetType":"table","dataServiceType":"BROWSE","returnControlIDs":"F0901.MCU|F0901.OBJ"}' \
    "$AIS/v2/dataservice")
check "AIS data service with the token (200)" eval "[ '$code' = 200 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json' -H 'jde-AIS-Auth: not-a-token' -H 'jde-AIS-Auth-Device: e2e' \
    -d '{"targetName":"F0901","targetType":"table","dataServiceType":"BROWSE"}' "$AIS/v2/dataservice")
check "AIS answers 444 for an invalid token" eval "[ '$code' = 444 ]"
curl -s -o "$tmp/cnt" "http://127.0.0.1:$bc/__sim/counters"
check "BigCommerce call counters count the orders list" eval "grep -q 'GET /v2/orders' '$tmp/cnt'"

sim_stop
check "SIGTERM stops mlc-sim with status 0" eval "[ '$sim_rc' = 0 ]"
e2e_done
