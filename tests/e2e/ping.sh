#!/usr/bin/env bash
# End-to-end: `mlc ping` against mlc-sim (both simulators, shipped seeds).
# A right configuration passes every step (text and --json); a wrong API
# token, a wrong JDE password, a missing orchestration and a stopped
# simulator each fail with a precise message and exit 1. Every account and
# business unit the posting configuration names is checked against the
# simulated F0901 / F0006: each bad one (missing, not postable, a missing
# business unit, in the defaults or in a map) fails with its configuration
# key. No secret may appear in any output. Loopback only, bounded waits.
# Prints TAP lines.
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
fails() { grep -cE '^FAIL ' "$out"; }

# with_posting IN OUT: IN with its whole posting section replaced by stdin.
with_posting() {
    local blk; blk=$(cat)
    BLK="$blk" awk '/^posting:/ { print ENVIRON["BLK"]; skip = 1; next }
                    skip && /^[a-z]/ { skip = 0 }
                    !skip { print }' "$1" > "$2.new" && mv "$2.new" "$2"
}

# A posting section whose every account and business unit exists in the
# seed's F0901 / F0006 (12 accounts in business units 1 and 100).
good_posting() {
    cat <<'YAML'
posting:
  mode: journal
  company: "00001"
  balance_sheet_bu: "1"
  default_bu: "100"
  accounts:
    revenue: "100.4010"
    discounts: "100.4020"
    shipping: "100.4030"
    handling: "100.4040"
    tax: "1.2310"
    clearing: "1.1110"
    gift_certificate: "1.2410"
    rounding: "100.7990"
  revenue_by_sku:
    "SKU-1": "100.4010.APPAREL"
  revenue_by_category:
    "23": "100.4060"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
  clearing_by_method:
    "Cash on Delivery": "1.1110.OFFLINE"
  supplier_by_gateway:
    stripe: "5001"
YAML
}

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
MLC_CONFIG="$tmp/none.yaml" run ping
check "ping without --config reads \$MLC_CONFIG (here missing: exit 1, named)" \
    sh -c '[ "$0" = 1 ] && grep -q "none.yaml" "$1"' "$rc" "$err"
run ping --config "$cfg" extra
check "ping with a stray argument is a usage error (2)" test "$rc" = 2

# ---- the example's own accounts: three are not in the simulated chart -------------
# (issue 8: ping said ok, then the first backfill held most orders)
run ping --config "$cfg"
check "the example configuration against the seed's chart: exit 1" test "$rc" = 1
check "posting.accounts.discounts (100.4090) is named missing" \
    line_has jde mapping "^FAIL .*posting.accounts.discounts: account 100.4090 does not exist in F0901"
check "posting.accounts.clearing (1.1150) is named missing" \
    line_has jde mapping "^FAIL .*posting.accounts.clearing: account 1.1150 does not exist in F0901"
check "posting.accounts.rounding (100.8990) is named missing" \
    line_has jde mapping "^FAIL .*posting.accounts.rounding: account 100.8990 does not exist in F0901"
check "nothing else fails (3 FAIL lines)" test "$(fails)" = 3

good_posting | with_posting "$cfg" "$cfg"
run config check "$cfg"
check "the configuration with the seed's accounts is valid" test "$rc" = 0

# ---- everything right ------------------------------------------------------------
ais_ctl POST counters/reset >/dev/null
run ping --config "$cfg"
check "ping exits 0 against the simulators" test "$rc" = 0
[ "$rc" = 0 ] || cat "$out"
verdicts=$(grep -cE '^(ok|FAIL|skip) ' "$out")
oks=$(grep -cE '^ok ' "$out")
check "ping prints at least 15 verdict lines" test "$verdicts" -ge 15
check "every verdict line is ok" test "$verdicts" = "$oks"
check "the steps come in order: bigcommerce reach first, jde mapping after login" \
    bash -c "grep -E '^(ok|FAIL|skip) ' '$out' | head -n1 | grep -q 'bigcommerce reach' &&
             grep -nE ' jde +login ' '$out' | cut -d: -f1 | { read l; f=\$(grep -nE ' jde +mapping ' '$out' | cut -d: -f1); [ \"\$f\" -gt \"\$l\" ]; }"
check "store line names the store and its currency" line_has bigcommerce store "Northwind Home Goods (USD)"
for r in orders transactions refunds customers products variants hooks; do
    check "bigcommerce $r read ok" line_has bigcommerce "$r" "read ok"
done
check "jde login names the user, environment and date format" line_has jde login "MLCINT in JDV920 .*MM/dd/yyyy"
check "jde validate: token valid" line_has jde validate "token valid"
check "jde orchestration MLC_AddJournalEntry found" line_has jde orchestration "MLC_AddJournalEntry found"
check "jde mapping: says how many accounts and business units it checked" \
    line_has jde mapping "^ok .*12 account(s) and 2 business unit(s) of the posting configuration checked"
dsv=$(ais_ctl GET counters | python3 -c 'import json,sys; print(json.load(sys.stdin).get("POST /jderest/v2/dataservice", 0))')
check "the 12 accounts and 2 business units take 2 data service reads, not one each ($dsv)" \
    test "$dsv" = 2
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
    assert set(x) - {"detail"} == keys, x
    assert ("detail" in x) == (x["step"] == "mapping"), x
    assert x["ok"] is True and x["status"] == "ok", x
    assert isinstance(x["ms"], int) and x["ms"] >= 0, x
assert {x["system"] for x in d} == {"bigcommerce", "jde"}
m = [x for x in d if x["step"] == "mapping"]
assert len(m) == 1 and m[0]["detail"] == {"accounts": 12, "business_units": 2}, m
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
check "a wrong password: the later JDE steps are skipped" line_has jde mapping "^skip "
check "a wrong password: BigCommerce still passes" line_has bigcommerce store "^ok "
run_in "$PASSWORD" credentials set jde --config "$cfg"

# ---- --orchestrations: the validation mode (docs/orchestrations.md) ------------------
rows() { ais_ctl GET tables | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
sed '/^customers:/,/^[a-z]/ s/^  enabled: false/  enabled: true/' "$cfg" > "$tmp/dry.yaml"
run ping --config "$tmp/dry.yaml"
check "without --orchestrations: existence only, and said so" \
    line_has jde orchestration "MLC_AddJournalEntry found (existence only"
check "without --orchestrations: no sample call" bash -c "! grep -q ' dry-run ' '$out'"
gl0=$(rows F0911) ab0=$(rows F0101)
run ping --config "$tmp/dry.yaml" --orchestrations
check "--orchestrations against a build with the mode: exit 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$out"
check "the journal orchestration lists the mode" \
    line_has jde orchestration "MLC_AddJournalEntry found, with the validation mode (ValidateOnly)"
check "the journal orchestration validated a sample" \
    line_has jde dry-run "^ok .*MLC_AddJournalEntry validated a sample (ValidateOnly MLCPING[0-9]*)"
check "the add-customer orchestration validated a sample" \
    line_has jde dry-run "^ok .*MLC_AddCustomer validated a sample"
check "the update orchestration is not called (it needs a real customer)" \
    line_has jde dry-run "^skip .*MLC_UpdateCustomer: no sample call"
check "nothing was written to F0911 or F0101" test "$(rows F0911) $(rows F0101)" = "$gl0 $ab0"
ais_ctl POST settings '{"validate_mode":"none"}' >/dev/null
run ping --config "$tmp/dry.yaml" --orchestrations
check "a build without the mode: exit 0" test "$rc" = 0
check "a build without the mode: says only existence was checked" \
    line_has jde orchestration "MLC_AddJournalEntry found; it has no validation mode (no ValidateOnly input), so only its existence was checked"
check "a build without the mode: never called" bash -c "! grep -qE ' dry-run .*(validated|WROTE)' '$out'"
ais_ctl POST settings '{"validate_mode":"ignore"}' >/dev/null
run ping --config "$tmp/dry.yaml" --orchestrations
check "a build that lists the mode but writes anyway: exit 1" test "$rc" = 1
check "a build that writes anyway: the journal written is named, with its key, to void" \
    line_has jde dry-run "^FAIL .*MLC_AddJournalEntry ignored ValidateOnly and WROTE number [0-9]* (key MLCPING[0-9]* in F0911 VINV): void it"
check "a build that writes anyway: the customer written is named too" \
    line_has jde dry-run "^FAIL .*MLC_AddCustomer ignored ValidateOnly and WROTE number"
check "(the simulator did write: the detection is real)" test "$(rows F0911)" -gt "$gl0"
ais_ctl POST settings '{"validate_mode":"honour"}' >/dev/null
sed 's|^\(    revenue: \).*|\1"100.4999"|' "$tmp/dry.yaml" > "$tmp/dry-bad.yaml"
run ping --config "$tmp/dry-bad.yaml" --orchestrations
check "a sample on a missing account: JDE's refusal is shown" \
    line_has jde dry-run "^FAIL .*MLC_AddJournalEntry refused the sample MLCPING[0-9]*: .*100.4999"

# ---- missing orchestration ------------------------------------------------------------
sed 's|^\(    add_journal_entry: \).*|\1"MLC_NoSuchJournal"|' "$cfg" > "$tmp/orch.yaml"
run ping --config "$tmp/orch.yaml"
check "a missing orchestration: exit 1" test "$rc" = 1
check "a missing orchestration: named in a FAIL line" \
    line_has jde orchestration "^FAIL .*MLC_NoSuchJournal not found"
check "a missing orchestration: the configuration key is named" out_has "jde.orchestrations.add_journal_entry"

# ---- the mapping: bad accounts and business units in the maps --------------------
# A missing account in the SKU map, a header account (posting edit code N)
# in the payment-method map, an account that the default business unit
# moves onto one that does not exist, and a channel business unit that
# F0006 does not have (its accounts are not listed one by one).
good_posting | sed -e 's|^\(    "SKU-1": .*\)|\1\n    "SKU-GONE": "100.4999"|' \
    -e 's|^\(    "23": \).*|\1"110.4000"|' \
    -e 's|^\(    "Cash on Delivery": \).*|\1"1.1000"|' \
    -e 's|^\(  default_bu: .*\)|\1\n  bu_by_channel:\n    "2": "300"|' |
    with_posting "$cfg" "$tmp/badmap.yaml"
run config check "$tmp/badmap.yaml"
check "the bad mapping is a valid configuration (only JDE can tell)" test "$rc" = 0
run ping --config "$tmp/badmap.yaml"
check "a bad mapping: exit 1" test "$rc" = 1
check "a bad mapping: the last line says the ping failed" bash -c "tail -n1 '$out' | grep -q '^ping FAILED: 4 step(s) failed'"
check "a map's missing account: its key and 'does not exist in F0901'" \
    line_has jde mapping "^FAIL .*posting.revenue_by_sku.SKU-GONE: account 100.4999 does not exist in F0901"
check "a map's header account: its key and 'not postable' with the posting edit code" \
    line_has jde mapping "^FAIL .*posting.clearing_by_method.Cash on Delivery: account 1.1000 is not postable in F0901 (posting edit code N)"
check "an account checked as posted: 110.4000 moved to 100.4000 by posting.default_bu" \
    line_has jde mapping "^FAIL .*posting.revenue_by_category.23: account 100.4000 does not exist in F0901 (configured as 110.4000; posting.default_bu posts it in business unit 100)"
check "a missing business unit: its key and 'does not exist in F0006'" \
    line_has jde mapping "^FAIL .*posting.bu_by_channel.2: business unit 300 does not exist in F0006"
check "exactly those 4 lines fail; the accounts in business unit 300 are not listed one by one" \
    bash -c "[ \$(grep -cE '^FAIL ' '$out') = 4 ] && ! grep -q 'account 300\.' '$out'"
check "a bad mapping: the good steps still pass" line_has jde login "^ok "
run ping --config "$tmp/badmap.yaml" --json
check "a bad mapping --json: each problem in a detail object (key, kind, reason, pec)" \
    python3 - "$out" "$rc" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert sys.argv[2] == "1", sys.argv[2]
m = [x["detail"] for x in d if x["step"] == "mapping"]
assert all(x["status"] == "fail" and not x["ok"] for x in d if x["step"] == "mapping"), d
by = {x["key"]: x for x in m}
assert len(m) == 4 and len(by) == 4, m
bu = by["posting.bu_by_channel.2"]
assert bu == {"key": "posting.bu_by_channel.2", "kind": "business_unit",
              "reason": "missing", "business_unit": "300"}, bu
sku = by["posting.revenue_by_sku.SKU-GONE"]
assert (sku["kind"], sku["reason"], sku["account"]) == ("account", "missing", "100.4999"), sku
assert sku["business_unit_key"] == "posting.default_bu" and "pec" not in sku, sku
pec = by["posting.clearing_by_method.Cash on Delivery"]
assert (pec["reason"], pec["pec"], pec["account"]) == ("not_postable", "N", "1.1000"), pec
assert pec["business_unit_key"] == "posting.balance_sheet_bu", pec
cat = by["posting.revenue_by_category.23"]
assert (cat["account"], cat["configured"], cat["reason"]) == ("100.4000", "110.4000", "missing"), cat
PY

# An account kept in its own business unit (no default_bu) that F0006 lacks.
good_posting | sed -e '/^  default_bu: /d' -e 's|^\(    shipping: \).*|\1"999.4030"|' |
    with_posting "$cfg" "$tmp/ownbu.yaml"
run ping --config "$tmp/ownbu.yaml"
check "an account's own missing business unit: named under the account's key" \
    line_has jde mapping "^FAIL .*posting.accounts.shipping: business unit 999 of account 999.4030 does not exist in F0006"
check "an account's own missing business unit: the only failure" test "$(fails)" = 1
run ping --config "$tmp/ownbu.yaml" --json
check "an account's own missing business unit --json: kind business_unit, the account as configured" \
    python3 -c "import json,sys; m=[x['detail'] for x in json.load(open('$out')) if x['step']=='mapping']; sys.exit(0 if m==[{'key':'posting.accounts.shipping','kind':'business_unit','reason':'missing','business_unit':'999','configured':'999.4030'}] else 1)"

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
