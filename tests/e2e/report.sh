#!/usr/bin/env bash
# End-to-end: `mlc report reconcile` with the real binary against both
# simulators (shipped seeds), temp SQLite store. The seeded orders are
# posted by `mlc run`; 2026-11-26 (orders 101 and 102) agrees (exit 0).
# Then JDE is tampered with through the AIS simulator's control API: one
# F0911 amount of BC101S changed, a document BC990S the ledger never heard
# of, a second document for BC102S; with order 104 held (unmapped SKU) and
# order 103 unpaid on 2026-11-27, the report over both days lists each
# difference with its reason (amount_differs, unknown_to_ledger,
# posted_twice, missing_in_jde/held), lists 103 apart, and exits 1, in
# text, JSON and CSV (both parse). After the fixes (amount restored, the
# stray documents re-keyed, the SKU mapped and 104 replayed) it exits 0.
# Each run is stored: `mlc report show` prints the latest day's report, or
# a given day's, in the same formats.
# The days are the seeds' fixed dates: nothing depends on today's date.
# Prints TAP lines; every wait is bounded.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init report
need_py

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
BC_TOKEN="sim-token-northwind"
JDE_PASSWORD="mlcint-pass"
D1="2026-11-26"
D2="2026-11-27"

require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json" --log-level warn
mlc_init_base || { not_ok "mlc init"; exit 1; }

OLIVE=""   # the SKU map line added by the fix
DAILY=""   # the report section of the daemon's daily run
write_config() {
    cat >"$cfg" <<EOF
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
  device_name: "mlc-e2e-report"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
$(e2e_posting_journal)
  strict_sku_mapping: true
  revenue_by_sku:
    "NW-SOAP-6PK": "100.4010"
    "NW-DISH-1L": "100.4010"
    "NW-TOWEL-12": "100.4010.APPAREL"
    "NW-POD-42": "100.4010"
    "NW-CANDLE-CED": "110.4010"
$OLIVE
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
schedule:
  reconcile_interval: 604800
  hooks_interval: 604800
orders:
  start: $E2E_CUTOVER
$(e2e_runtime_yaml)
$DAILY
EOF
}
port=$(free_port) || { not_ok "a free port"; exit 1; }
write_config
require "credentials stored" sh -c 'printf %s "$1" | "$0" credentials set --name bc_token --config "$2" >/dev/null 2>&1 &&
    printf %s "$3" | "$0" credentials set --name jde_password --config "$2" >/dev/null 2>&1' \
    "$MLC" "$BC_TOKEN" "$cfg" "$JDE_PASSWORD"

# post_all: the daemon works the queue until idle, then stops.
post_all() {
    daemon_start write_config || return 1
    wait_until 600 queue_idle || return 1
    daemon_stop
}

# report ARGS...: `mlc report reconcile ARGS` with $out/$err; sets rc.
report() { "$MLC" report reconcile --config "$cfg" "$@" >"$tmp/r.out" 2>"$tmp/r.err"; rc=$?; }
# jq EXPR: a Python expression on the JSON in $tmp/r.out (d), printed.
jq() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$tmp/r.out"; }
# diffs: "KEY reason[/why]" per difference, sorted, one line.
diffs() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = sorted(x["key"] + " " + x["reason"] + ("/" + x["why"] if x.get("why") else "")
           for day in d["days"] for x in day["differences"])
print(";".join(r))' "$tmp/r.out"
}

# show ARGS...: `mlc report show ARGS` into $tmp/r.out; sets rc.
show() { "$MLC" report show --config "$cfg" "$@" >"$tmp/r.out" 2>"$tmp/r.err"; rc=$?; }

show
check "report show before any report: exit 1, says how to make one" \
    sh -c '[ "$0" = 1 ] && grep -q "mlc report reconcile" "$1"' "$rc" "$tmp/r.err"

# ---- post the seeds ----------------------------------------------------------------
for id in 100 101 102 103 104 105; do
    "$MLC" jobs enqueue --config "$cfg" order.sync "order:$id" >/dev/null 2>&1
done
require "the daemon posts the seeded orders" post_all

# ---- usage -------------------------------------------------------------------------
report; check "no --day: usage error (2)" [ "$rc" = 2 ]
report --day "$D1" --format xml; check "a bad --format: usage error (2)" [ "$rc" = 2 ]
report --day 26/11/2026; check "a bad --day: usage error (2)" [ "$rc" = 2 ]
report --day "$D2" --to "$D1"; check "--to before --day: usage error (2)" [ "$rc" = 2 ]

# ---- a day that agrees -------------------------------------------------------------
report --day "$D1" --format json
check "$D1 agrees: exit 0" [ "$rc" = 0 ]
check "$D1: no differences" [ "$(jq 'd["difference_count"], d["days"][0]["agree"]')" = "0 True" ]
check "$D1: BigCommerce totals per currency (USD and CAD, one order each)" \
    [ "$(jq '" ".join(sorted(b["currency"] + ":" + str(b["orders"]) for b in d["days"][0]["bigcommerce"]))')" = "CAD:1 USD:1" ]
check "$D1: account totals agree to the cent and carry F0901 descriptions" \
    [ "$(jq 'all(a["ledger"] == a["jde"] and a["description"] != "" for a in d["days"][0]["accounts"]) and len(d["days"][0]["accounts"]) > 0')" = True ]
check "$D1: each currency balances" \
    [ "$(jq 'all(b["balanced"] for b in d["days"][0]["balance"])')" = True ]

# ---- tamper with JDE ---------------------------------------------------------------
# One amount of BC101S plus 1.00 (same row key, so the row changes).
ais_ctl GET table/F0911 | "$PY" -c '
import json, sys
from decimal import Decimal
rows = json.load(sys.stdin, parse_float=Decimal)["rows"]
r = next(r for r in rows if str(r.get("F0911_VINV")).strip() == "BC101S")
keep = {k: r[k] for k in ("F0911_KCO", "F0911_DCT", "F0911_DOC", "F0911_JELN", "F0911_LT")}
json.dump(dict(keep, F0911_AA=str(Decimal(str(r["F0911_AA"])))), open(sys.argv[1] + "/orig.json", "w"))
print(json.dumps({"rows": [dict(keep, F0911_AA=str(Decimal(str(r["F0911_AA"])) + 1))]}))
' "$tmp" >"$tmp/change.json"
# f0911_post JSON FIELD N: the simulator's answer to the rows says FIELD N.
f0911_post() { ais_ctl POST table/F0911 "$1" | grep -q "\"$2\": *$3[,}]"; }
check "one F0911 amount of BC101S changed" f0911_post "$(cat "$tmp/change.json")" changed 1

# stray ROWS_FOR VINV DOC DATE: a balanced two-line journal keyed by hand.
stray() {
    printf '{"rows":[%s,%s]}' \
        "{\"F0911_KCO\":\"00001\",\"F0911_DCT\":\"JE\",\"F0911_DOC\":$2,\"F0911_JELN\":1,\"F0911_LT\":\"AA\",\"F0911_DGJ\":\"$3\",\"F0911_MCU\":\"100\",\"F0911_OBJ\":\"4010\",\"F0911_AA\":\"-5.00\",\"F0911_CRCD\":\"USD\",\"F0911_VINV\":\"$1\"}" \
        "{\"F0911_KCO\":\"00001\",\"F0911_DCT\":\"JE\",\"F0911_DOC\":$2,\"F0911_JELN\":2,\"F0911_LT\":\"AA\",\"F0911_DGJ\":\"$3\",\"F0911_MCU\":\"1\",\"F0911_OBJ\":\"1110\",\"F0911_AA\":\"5.00\",\"F0911_CRCD\":\"USD\",\"F0911_VINV\":\"$1\"}"
}
check "a JDE document BC990S unknown to the ledger (GL date $D2)" \
    f0911_post "$(stray BC990S 990001 20261127)" added 2
check "a second JDE document for BC102S" f0911_post "$(stray BC102S 990002 20261126)" added 2

# ---- the differences ---------------------------------------------------------------
report --day "$D1" --to "$D2" --format json
check "differences: exit 1" [ "$rc" = 1 ]
check "the JSON parses and counts 4 differences" [ "$(jq 'd["difference_count"], d["agree"]')" = "4 False" ]
check "each difference has its reason" [ "$(diffs)" = \
    "BC101S amount_differs;BC102S posted_twice;BC104S missing_in_jde/held;BC990S unknown_to_ledger" ]
check "the changed amount is named to the cent" \
    [ "$(jq 'next(x["detail"] for x in d["days"][0]["differences"] if x["key"] == "BC101S")' | grep -c 'ledger -.*, JDE ')" = 1 ]
check "the held order says why and what to do" \
    [ "$(jq 'next("NW-LEGACY-OLIVE" in x["detail"] and "mlc replay order:104" in x["action"] for x in d["days"][1]["differences"] if x["key"] == "BC104S")')" = True ]
check "unpaid order 103 is listed apart, not as a difference" \
    [ "$(jq '" ".join(x["key"] + ":" + x["reason"] for x in d["days"][1]["information"])')" = "BC103S:unpaid" ]
check "the refund of order 101 ($D2) is no difference" \
    [ "$(jq 'any(x["key"].startswith("BC101R") for x in d["days"][1]["differences"])')" = False ]

report --day "$D1" --to "$D2"
check "text: exit 1, says the sides differ, with what to do" \
    sh -c '[ "$0" = 1 ] && grep -q "the sides DIFFER" "$1" && grep -q "to do:" "$1" && grep -q "BC990S  unknown_to_ledger" "$1"' "$rc" "$tmp/r.out"

report --day "$D1" --to "$D2" --format csv
check "CSV: exit 1 and it parses: 4 difference rows, 1 information row" \
    [ "$rc:$("$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(sum(r["section"] == "difference" for r in rows), sum(r["section"] == "information" for r in rows))' "$tmp/r.out")" = "1:4 1" ]

show --format json
check "report show: the latest day's stored report ($D2, with its differences), exit 1" \
    [ "$rc:$(jq 'd["days"][0]["day"], d["difference_count"]')" = "1:$D2 2" ]
show --day "$D1"
check "report show --day $D1 in text: its differences, exit 1" \
    sh -c '[ "$0" = 1 ] && grep -q "Reconciliation of $1" "$2" && grep -q "BC101S  amount_differs" "$2"' \
    "$rc" "$D1" "$tmp/r.out"
show --day 2026-01-01
check "report show of a day never reconciled: exit 1" [ "$rc" = 1 ]

# ---- a dismissed item is listed apart -------------------------------------------------
check "mlc dismiss order:104 (handled by hand)" \
    sh -c '"$0" dismiss order:104 --note "keyed by hand" --config "$1" >/dev/null 2>&1' "$MLC" "$cfg"
report --day "$D2" --format json
check "the dismissed order is no difference: listed apart, with who and why" \
    [ "$(jq 'any(x["key"] == "BC104S" for x in d["days"][0]["differences"]), next(x["reason"] + "|" + ("keyed by hand" in x.get("detail", "")).__str__() for x in d["days"][0]["information"] if x["key"] == "BC104S")')" = "False dismissed|True" ]

# ---- fix, replay, agree --------------------------------------------------------------
check "the changed amount restored" f0911_post "{\"rows\":[$(cat "$tmp/orig.json")]}" changed 1
s1=$(stray BC990S 990001 20261127); s2=$(stray BC102S 990002 20261126)
check "the stray document BC990S re-keyed in JDE (voided)" f0911_post "${s1//BC990S/VOID990}" changed 2
check "the second document of BC102S re-keyed in JDE (voided)" f0911_post "${s2//BC102S/VOID102}" changed 2
OLIVE='    "NW-LEGACY-OLIVE": "100.4010"'
write_config
check "mlc replay --undismiss order:104 after mapping its SKU (the dismissal taken back)" \
    sh -c '"$0" replay --undismiss order:104 --config "$1" >/dev/null 2>&1' "$MLC" "$cfg"
require "the daemon posts order 104" post_all

report --day "$D1" --to "$D2" --format json
check "after the fixes the sides agree: exit 0" [ "$rc" = 0 ]
check "no differences left; 103 still listed apart" \
    [ "$(jq 'd["difference_count"], len(d["days"][1]["information"])')" = "0 1" ]
show --format csv
check "report show --format csv: the stored report agrees now (exit 0)" \
    sh -c '[ "$0" = 0 ] && head -1 "$1" | grep -q "^day,section,"' "$rc" "$tmp/r.out"

# ---- the daemon's daily run --------------------------------------------------------
# At 00:00 local (UTC here) the run for the day before is due at once: the
# day is taken from the clock, as the daemon's (faketime moves both).
YESTERDAY=$(date -u -d yesterday +%F)
DAILY=$(printf 'report:\n  reconcile_at: "00:00"')
write_config
stored_day() { show --format json; [ "$(jq 'd["days"][0]["day"]' 2>/dev/null)" = "$YESTERDAY" ]; }
check "config check accepts report.reconcile_at" sh -c '"$0" config check "$1" >/dev/null 2>&1' "$MLC" "$cfg"
daemon_start write_config
check "the daemon stores the daily reconciliation of the day before ($YESTERDAY)" \
    wait_until 300 stored_day
check "... a day without orders: it agrees (show exits 0)" [ "$rc" = 0 ]
check "the daemon logs where to read it" grep -q 'msg="daily reconciliation stored".*show="mlc report show"' "$log"
daemon_stop
DAILY=$(printf 'report:\n  reconcile_at: "25:00"')
write_config
check "config check refuses reconcile_at 25:00" sh -c '! "$0" config check "$1" >/dev/null 2>&1' "$MLC" "$cfg"

e2e_done
