#!/usr/bin/env bash
# End-to-end: `mlc ping` against mlc-sim (both simulators, shipped seeds).
# A right configuration passes every step (text and --json); a wrong API
# token, a wrong JDE password, a missing orchestration and a stopped
# simulator each fail with a precise message and exit 1. No secret may
# appear in any output. Loopback only, bounded waits. Prints TAP lines.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init ping
unset MLC_MASTER_KEY

TOKEN=sim-token-northwind
PASSWORD=mlcint-pass
BAD_TOKEN="wrong-token-CANARY-$$"
BAD_PASSWORD="wrong-pass-CANARY-$$"
capture_init   # run / run_in (lib) keep the last output and set $rc

out_has() { grep -q -- "$1" "$out"; }
line_of() { grep -E "^[a-zA-Z]+ +$1 +$2 " "$out"; }    # system step
line_has() { line_of "$1" "$2" | grep -q -- "$3"; }

# ---- simulators -------------------------------------------------------------
require "mlc-sim starts with both simulators" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json" --log-level error
bc="$BCP"; jde="$AISP"

# ---- configuration and credentials -----------------------------------------
cfg="$tmp/mlc.yaml"
run init "$cfg"
check "mlc init writes a configuration" test "$rc" = 0
yaml_set "$cfg" "$cfg" store_hash='"nwhg42"' \
    api_base_url="\"http://127.0.0.1:$bc/stores/{store_hash}\"" ais_base_url="\"http://127.0.0.1:$jde\"" \
    user='"MLCINT"' url="\"$tmp/mlc.db\"" start="$E2E_CUTOVER"
run config check "$cfg"
check "the adjusted configuration is valid" test "$rc" = 0
run_in "$TOKEN" credentials set bigcommerce --config "$cfg"
check "credentials set bigcommerce" test "$rc" = 0
run_in "$PASSWORD" credentials set jde --config "$cfg"
check "credentials set jde" test "$rc" = 0

# ---- usage ----------------------------------------------------------------------
run ping
check "ping without --config is a usage error (2)" test "$rc" = 2
run ping --config "$cfg" extra
check "ping with a stray argument is a usage error (2)" test "$rc" = 2

# ---- everything right ------------------------------------------------------------
run ping --config "$cfg"
check "ping exits 0 against the simulators" test "$rc" = 0
[ "$rc" = 0 ] || cat "$out"
verdicts=$(grep -cE '^(ok|FAIL|skip) ' "$out")
oks=$(grep -cE '^ok ' "$out")
check "ping prints at least 15 verdict lines" test "$verdicts" -ge 15
check "every verdict line is ok" test "$verdicts" = "$oks"
check "the steps come in order: bigcommerce reach first, jde F0901 after login" \
    bash -c "grep -E '^(ok|FAIL|skip) ' '$out' | head -n1 | grep -q 'bigcommerce reach' &&
             grep -nE ' jde +login ' '$out' | cut -d: -f1 | { read l; f=\$(grep -nE ' jde +F0901 ' '$out' | cut -d: -f1); [ \"\$f\" -gt \"\$l\" ]; }"
check "store line names the store and its currency" line_has bigcommerce store "Northwind Home Goods (USD)"
for r in orders transactions refunds customers products variants hooks; do
    check "bigcommerce $r read ok" line_has bigcommerce "$r" "read ok"
done
check "jde login names the user, environment and date format" line_has jde login "MLCINT in JDV920 .*MM/dd/yyyy"
check "jde validate: token valid" line_has jde validate "token valid"
check "jde orchestration MLC_AddJournalEntry found" line_has jde orchestration "MLC_AddJournalEntry found"
check "jde F0901 readable" line_has jde F0901 "chart of accounts readable"
check "jde logout ends the session" line_has jde logout "session ended"

run ping --config "$cfg" --json
check "ping --json exits 0" test "$rc" = 0
check "ping --json is an array of {system,step,ok,status,message,ms}, all ok" \
    python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keys = {"system", "step", "ok", "status", "message", "ms"}
assert isinstance(d, list) and len(d) >= 15, d
for x in d:
    assert set(x) == keys, x
    assert x["ok"] is True and x["status"] == "ok", x
    assert isinstance(x["ms"], int) and x["ms"] >= 0, x
assert {x["system"] for x in d} == {"bigcommerce", "jde"}
PY

# ---- wrong API token --------------------------------------------------------------
run_in "$BAD_TOKEN" credentials set bigcommerce --config "$cfg"
run ping --config "$cfg"
check "a wrong token: exit 1" test "$rc" = 1
check "a wrong token: the store step fails with 401" line_has bigcommerce store "^FAIL .*401 Unauthorized: the API token was refused"
check "a wrong token: the orders read fails with 401" line_has bigcommerce orders "^FAIL .*401"
check "a wrong token: JDE still passes (login ok)" line_has jde login "^ok "
run ping --config "$cfg" --json
check "a wrong token --json: exit 1 and store status fail" \
    python3 -c "import json,sys; d=json.load(open('$out')); s=[x for x in d if x['system']=='bigcommerce' and x['step']=='store'][0]; sys.exit(0 if $rc==1 and s['status']=='fail' and not s['ok'] and '401' in s['message'] else 1)"
run_in "$TOKEN" credentials set bigcommerce --config "$cfg"

# ---- wrong JDE password -------------------------------------------------------------
run_in "$BAD_PASSWORD" credentials set jde --config "$cfg"
run ping --config "$cfg"
check "a wrong password: exit 1" test "$rc" = 1
check "a wrong password: jde login fails naming the user and AIS's answer" \
    line_has jde login "^FAIL .*AIS login failed for user MLCINT: 403"
check "a wrong password: the message says how to store the password" \
    line_has jde login "mlc credentials set jde"
check "a wrong password: the later JDE steps are skipped" line_has jde F0901 "^skip "
check "a wrong password: BigCommerce still passes" line_has bigcommerce store "^ok "
run_in "$PASSWORD" credentials set jde --config "$cfg"

# ---- missing orchestration ------------------------------------------------------------
sed 's|^\(    add_journal_entry: \).*|\1"MLC_NoSuchJournal"|' "$cfg" > "$tmp/orch.yaml"
run ping --config "$tmp/orch.yaml"
check "a missing orchestration: exit 1" test "$rc" = 1
check "a missing orchestration: named in a FAIL line" \
    line_has jde orchestration "^FAIL .*MLC_NoSuchJournal not found"
check "a missing orchestration: the configuration key is named" out_has "jde.orchestrations.add_journal_entry"

# ---- missing credential ---------------------------------------------------------------
sed 's|^\(  password_ref: \).*|\1"no_such_password"|' "$cfg" > "$tmp/nocred.yaml"
run ping --config "$tmp/nocred.yaml"
check "a credential not stored: exit 1" test "$rc" = 1
check "a credential not stored: FAIL naming mlc credentials set jde" \
    line_has jde credentials "^FAIL .*mlc credentials set jde"

# ---- simulator stopped -----------------------------------------------------------------
sim_stop
run ping --config "$cfg"
check "simulator stopped: exit 1" test "$rc" = 1
check "simulator stopped: bigcommerce reach FAIL (TCP)" line_has bigcommerce reach "^FAIL .*TCP: cannot connect to 127.0.0.1:$bc"
check "simulator stopped: jde reach FAIL (TCP)" line_has jde reach "^FAIL .*TCP: cannot connect to 127.0.0.1:$jde"
check "simulator stopped: the API steps are skipped" line_has bigcommerce store "^skip "

# ---- TLS: a self-signed server is refused unless its CA is configured -------------------
if command -v openssl >/dev/null &&
   openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls.key" -out "$tmp/tls.crt" \
       -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1; then
    openssl s_server -accept 127.0.0.1:0 -cert "$tmp/tls.crt" -key "$tmp/tls.key" -www \
        >"$tmp/tls.out" 2>&1 &
    tls_pid=$!; e2e_track "$tls_pid"
    tport=""
    for _ in $(seq 1 50); do
        tport=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/tls.out")
        [ -n "$tport" ] && break; sleep 0.1
    done
    sed "s|^\(  api_base_url: \).*|\1\"https://127.0.0.1:$tport/stores/{store_hash}\"|" \
        "$cfg" > "$tmp/tls.yaml"
    run ping --config "$tmp/tls.yaml"
    check "TLS: a self-signed certificate fails reach with the CA hint" \
        line_has bigcommerce reach "^FAIL .*TLS: the certificate of 127.0.0.1:$tport is not trusted.*bigcommerce.ca_file"
    sed -i "s|^  # ca_file: \"/etc/ssl/certs/extra-ca.pem\"|  ca_file: \"$tmp/tls.crt\"|" "$tmp/tls.yaml"
    run ping --config "$tmp/tls.yaml"
    check "TLS: with bigcommerce.ca_file naming its CA, reach verifies the certificate" \
        line_has bigcommerce reach "^ok .*certificate verified"
    kill "$tls_pid" 2>/dev/null; wait "$tls_pid" 2>/dev/null; tls_pid=""
else
    ok "TLS checks skipped: openssl not available # SKIP"
fi

# ---- secrets ---------------------------------------------------------------------------
for s in "$TOKEN" "$PASSWORD" "$BAD_TOKEN" "$BAD_PASSWORD"; do
    check "no output holds the secret ${s:0:6}..." bash -c "! grep -qF -- '$s' '$all'"
done

e2e_done
