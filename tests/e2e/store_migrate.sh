#!/usr/bin/env bash
# End-to-end: `mlc store migrate` with the real binary. A store seeded by a
# real daemon run (both simulators, orders posted, credentials stored) is
# moved to a new SQLite file: refused while the daemon holds the source;
# then copied, counted and checksummed (exit 0), the source left untouched;
# a second run into the now non-empty target is refused; --verify-only
# agrees; a target changed afterwards (a document number, a NULL made "",
# a missing row) is caught; and the daemon run on the target sees the same
# ledger, jobs and audit and posts nothing again. Prints TAP lines.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init store_migrate

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
db="$tmp/mlc.db"
new="$tmp/moved.db"
bad="$tmp/tampered.db"
store_url="$db"
BC_TOKEN="sim-token-northwind"
CLIENT_SECRET="sim-secret-northwind"
capture_init

q() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$1" "$2"; }

# F0911 documents of a reference ($1), as orders.sh counts them.
docs_of() {
    ais_ctl GET table/F0911 | python3 -c '
import json, sys
docs = {r["F0911_DOC"] for r in json.load(sys.stdin)["rows"]
        if str(r.get("F0911_VINV") or "").strip() == sys.argv[1]}
print(len(docs))' "$1"
}
one_doc() { [ "$(docs_of "$1")" = 1 ]; }
# Calls of the journal orchestration answered by AIS so far.
journal_calls() {
    ais_ctl GET counters | python3 -c '
import json, sys
print(sum(v for k, v in json.load(sys.stdin).items() if isinstance(v, int) and k.endswith("/MLC_AddJournalEntry")))'
}
# The table lines of the last migrate output: "TABLE ROWS SHA-256 ok".
verdict_lines() { grep -E '^(events|jobs|ledger|audit|watermarks|secrets) ' "$out"; }
all_ok() {
    [ "$(verdict_lines | grep -cE '^[a-z]+ +[0-9]+  [0-9a-f]{64}  ok$')" = 6 ]
}
# printed ROWS of table $1 in the last output equals the count in file $2
rows_match() { [ "$(verdict_lines | awk -v t="$1" '$1 == t { print $2 }')" = "$(q "$2" "SELECT count(*) FROM $1")" ]; }
differs() { verdict_lines | grep -qE "^$1 +[0-9]+  [0-9a-f]{64}  DIFFERS$"; }
table_ok() { verdict_lines | grep -qE "^$1 +[0-9]+  [0-9a-f]{64}  ok$"; }

# ---- a store seeded by a real daemon run ---------------------------------------
require "mlc-sim serves BigCommerce and AIS" sim_start --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
    --seed "$ROOT/sim/seed/bigcommerce.json" --seed "$ROOT/sim/seed/jde.json"
require "mlc init writes a base config and a master key" mlc_init_base

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
  client_secret_ref: "bc_client_secret"
  rate_reserve: 10
  timeout_ms: 10000
jde:
  ais_base_url: "http://127.0.0.1:$AISP"
  environment: "JDV920"
  role: "*ALL"
  device_name: "mlc-e2e-migrate"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
$(e2e_posting_journal)
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
    braintree: "1.1110.BRAINTRE"
    paypal: "1.1110.PAYPAL"
schedule:
  reconcile_interval: 604800
  hooks_interval: 3600
orders:
  start: $E2E_CUTOVER
store:
  url: "$store_url"
  master_key_file: "mlc.key"
server:
  listen: "127.0.0.1:$port"
workers:
  count: 2
  retry_base_ms: 200
  retry_cap_ms: 2000
  drain_timeout_s: 20
EOF
}
port=$(free_port) || { not_ok "a free port"; bail; }
write_config
store_credentials() {
    cred_set "$BC_TOKEN" --name bc_token && cred_set "mlcint-pass" --name jde_password &&
        cred_set "hdr-secret-$$" --name bc_webhook_secret &&
        cred_set "$CLIENT_SECRET" --name bc_client_secret
}
require "credentials stored in the source" store_credentials
require "daemon serves on the source store" daemon_start write_config
for id in 100 101 102 103 104 105; do
    "$MLC" jobs enqueue --config "$cfg" order.sync "order:$id" >/dev/null 2>&1
done
require "the daemon goes idle" wait_until 600 queue_idle
require "order 100 is posted once" one_doc BC100S
# An order that arrives by webhook: the store gets events too.
require "the daemon registered its hook" wait_until 100 bc_hooked nwhg42 "$BC_TOKEN"
bc_ctl POST orders '{"id":300,"customer_id":0,"status_id":11,"currency":"USD","date_created":"2026-11-28T09:00:00Z","payment_method":"Credit Card","payment_provider_id":"stripe","products":[{"product_id":0,"sku":"NW-SOAP-6PK","name":"Soap","quantity":2,"price_ex_tax":"5.00","tax":"0.80"}],"transactions":[{"event":"purchase","method":"credit_card","amount":"10.80","gateway":"stripe"}]}' >/dev/null
posted300() { one_doc BC300S; }
require "an order sent by webhook is posted" wait_until 300 posted300
require "the daemon goes idle again" wait_until 600 queue_idle

# ---- refused while the daemon holds the source ------------------------------------
run store migrate --config "$cfg" --to "sqlite:$new"
check "migrate while the daemon runs exits 1" [ "$rc" = 1 ]
check "and names the daemon holding the source" \
    grep -q "the source is in use, nothing was copied: .*in use by another mlc run (pid=$pid " "$err"
check "and does not create the target" [ ! -e "$new" ]

require "SIGTERM stops the daemon" daemon_term 300
posts_before=$(journal_calls)
note "journal orchestration calls so far: $posts_before"
"$MLC" audit --order 100 --config "$cfg" --json >"$tmp/audit100.src.json" 2>/dev/null
"$MLC" jobs list --config "$cfg" --json >"$tmp/jobs.src.json" 2>/dev/null
q "$db" .dump >"$tmp/src.before.sql"

# ---- the migration ---------------------------------------------------------------
run store migrate --config "$cfg" --to "sqlite:$new" --batch 7
check "migrate exits 0" [ "$rc" = 0 ]
check "it prints one ok line per table, with rows and a SHA-256" all_ok
for t in events jobs ledger audit watermarks secrets; do
    check "rows of $t printed as in the source" rows_match "$t" "$db"
done
check "the posted documents came along (ledger rows)" [ "$(q "$new" 'SELECT count(*) FROM ledger')" -ge 5 ]
check "the webhook events came along" [ "$(q "$new" 'SELECT count(*) FROM events')" -ge 1 ]
check "it says every table matches" grep -q "^verified: every table of the target matches the source$" "$out"
check "it says the target needs the same master key" grep -q "the target needs the same master key" "$out"
check "and that the 4 credentials decrypt with the configuration's key" \
    grep -q "^credentials: all 4 decrypt with the master key of $cfg$" "$out"
cp "$out" "$tmp/migrate.out"
q "$db" .dump >"$tmp/src.after.sql"
check "the source is left exactly as it was" cmp -s "$tmp/src.before.sql" "$tmp/src.after.sql"
check "leases are not copied (run-time state)" [ "$(q "$new" 'SELECT count(*) FROM leases')" = 0 ]

# ---- a target that holds rows is refused -----------------------------------------------
q "$new" .dump >"$tmp/new.before.sql"
run store migrate --from "sqlite:$db" --to "$new"
check "a second migrate into the same target exits 1" [ "$rc" = 1 ]
check "saying the target already holds rows" grep -q "already holds rows (table events): migrate only into a new, empty store" "$err"
target_untouched() { q "$new" .dump | cmp -s - "$tmp/new.before.sql"; }
check "and leaves the target untouched" target_untouched
run store migrate --from "$tmp/no-such.db" --to "$tmp/never.db"
missing_refused() {
    [ "$rc" = 1 ] && [ ! -e "$tmp/no-such.db" ] && [ ! -e "$tmp/never.db" ] &&
        grep -q "the source .*no-such.db does not exist" "$err"
}
check "a missing source is refused, not created" missing_refused
run store migrate --from "$db" --to "sqlite://$tmp/../$(basename "$tmp")/mlc.db"
check "the source spelled another way as the target is refused" \
    grep -q "the source and the target are the same store" "$err"

# ---- verification alone --------------------------------------------------------------
run store migrate --from "$db" --to "sqlite:$new" --verify-only
check "--verify-only exits 0 on the faithful copy" [ "$rc" = 0 ]
same_verdict() { [ "$(verdict_lines)" = "$(out="$1" verdict_lines)" ]; }
check "with the checksums the migration printed" same_verdict "$tmp/migrate.out"

# ---- a changed target is caught -----------------------------------------------------------
run store migrate --from "$db" --to "$bad"
require "a second copy for tampering" [ "$rc" = 0 ]
q "$bad" "UPDATE ledger SET doc_number = doc_number + 1 WHERE key = 'BC100S'"
run store migrate --from "$db" --to "$bad" --verify-only
check "a changed document number: exit 1" [ "$rc" = 1 ]
check "ledger DIFFERS" differs ledger
others_ok() { for t in events jobs audit watermarks secrets; do table_ok "$t" || return 1; done; }
check "the other tables still ok" others_ok
check "stderr says the ledger contents do not match" \
    grep -q "ledger differs: [0-9]* rows on both sides, but their contents do not match" "$err"
check "and not to use the target" grep -q "verification failed: the target is not a faithful copy" "$err"
q "$bad" "UPDATE jobs SET payload = '' WHERE id = (SELECT min(id) FROM jobs WHERE payload IS NULL)"
run store migrate --from "$db" --to "$bad" --verify-only
check "a NULL made empty in jobs is caught too" [ "$rc" = 1 ]
check "jobs DIFFERS" differs jobs
q "$bad" "DELETE FROM watermarks WHERE name = (SELECT min(name) FROM watermarks)"
run store migrate --from "$db" --to "$bad" --verify-only
check "a missing watermark row: the counts differ" \
    grep -q "watermarks differs: the source has [0-9]* rows, the target [0-9]*" "$err"

# ---- the daemon on the target ----------------------------------------------------------------
store_url="$new"
write_config
"$MLC" audit --order 100 --config "$cfg" --json >"$tmp/audit100.new.json" 2>/dev/null
check "the target shows order 100's audit and ledger as the source did" \
    cmp -s "$tmp/audit100.src.json" "$tmp/audit100.new.json"
"$MLC" jobs list --config "$cfg" --json >"$tmp/jobs.new.json" 2>/dev/null
check "and the same jobs, ids, states and attempts" cmp -s "$tmp/jobs.src.json" "$tmp/jobs.new.json"
maxid=$(q "$new" "SELECT max(id) FROM jobs")
require "daemon serves on the target store" daemon_start write_config
check "its flows are enabled: the copied credentials decrypt" grep -q "order flow enabled" "$log"
ids=""
for id in 100 101 102 105 300; do
    ids="$ids $("$MLC" jobs enqueue --config "$cfg" order.sync "order:$id" 2>/dev/null | awk '{print $1}')"
done
ids_past() { [ -n "$ids" ] && for i in $ids; do [ "$i" -gt "$maxid" ] || return 1; done; }
check "new jobs get ids past the copied ones" ids_past
check "the daemon goes idle on the target" wait_until 600 queue_idle
for id in 100 101 102 105 300; do
    check "order $id still has exactly one document in JDE" one_doc "BC${id}S"
done
check "nothing was posted again (journal orchestration calls unchanged)" \
    [ "$(journal_calls)" = "$posts_before" ]
bc100s() { q "$1" "SELECT state || ' ' || doc_number FROM ledger WHERE key = 'BC100S'"; }
ledger_kept() { [ "$(bc100s "$new")" = "$(bc100s "$db")" ] && bc100s "$new" | grep -q '^posted [1-9]'; }
check "the target's ledger still has BC100S posted with its number" ledger_kept
check "SIGTERM stops the daemon on the target" daemon_term 300

# ---- to PostgreSQL ----------------------------------------------------------------------------
# The same source into a private PostgreSQL server (tests/lib/pg-server):
# copied and verified, and the CLI on the PostgreSQL store reads the same
# jobs and audit as on the source.
cat >"$tmp/to-pg.sh" <<'SH'
set -u
"$MLC" store migrate --from "$SRC" --to "$MLC_TEST_PG_URL" >"$TMP/pg.out" 2>"$TMP/pg.err" || exit 11
url=${MLC_TEST_PG_URL//&/\\&}   # "&" is sed's whole match
sed -e "s|^  url: .*|  url: \"$url\"|" "$CFG" >"$TMP/pg.yaml"
"$MLC" jobs list --config "$TMP/pg.yaml" --json >"$TMP/jobs.pg.json" 2>/dev/null || exit 12
"$MLC" audit --order 100 --config "$TMP/pg.yaml" --json >"$TMP/audit100.pg.json" 2>/dev/null || exit 13
"$MLC" store migrate --from "$SRC" --to "$MLC_TEST_PG_URL" --verify-only >/dev/null 2>&1 || exit 14
# A role that logs in with a password: the target's password comes from
# --to-password-ref, and without it the server refuses.
"$MLC_TEST_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$MLC_TEST_PG_ADMIN_URL" \
    -c "CREATE ROLE mlcpw LOGIN PASSWORD 'pw-$$-migrate'" -c "CREATE DATABASE mlcpw OWNER mlcpw" \
    >/dev/null 2>&1 || exit 15
printf 'pw-%s-migrate\n' "$$" >"$TMP/pg.pw"; chmod 0600 "$TMP/pg.pw"
pw_url="postgresql:///mlcpw?host=$MLC_TEST_PG_DIR&user=mlcpw"
if "$MLC" store migrate --from "$SRC" --to "$pw_url" >/dev/null 2>"$TMP/pw-none.err"; then exit 16; fi
"$MLC" store migrate --from "$SRC" --to "$pw_url" --to-password-ref "file:$TMP/pg.pw" \
    >"$TMP/pw.out" 2>&1 || exit 17
SH
store_url="$db"
write_config
MLC="$MLC" SRC="$db" CFG="$cfg" TMP="$tmp" "$ROOT/tests/lib/pg-server" bash "$tmp/to-pg.sh" \
    >"$tmp/pg-server.out" 2>&1
pg_rc=$?
if grep -q '^SKIP' "$tmp/pg-server.out"; then
    note "PostgreSQL part skipped: $(cat "$tmp/pg-server.out")"
else
    check "migrate to PostgreSQL: exit 0, every table verified (rc $pg_rc)" [ "$pg_rc" = 0 ]
    check "its report shows every table OK" \
        sh -c '[ "$(grep -c " ok$" "$0")" -ge 6 ]' "$tmp/pg.out"
    check "the PostgreSQL store lists the same jobs as the source" \
        cmp -s "$tmp/jobs.src.json" "$tmp/jobs.pg.json"
    check "and order 100's audit trail and ledger" cmp -s "$tmp/audit100.src.json" "$tmp/audit100.pg.json"
    check "a target role with a password: refused without it" \
        grep -qi "password" "$tmp/pw-none.err"
    check "and copied with --to-password-ref file:PATH" \
        sh -c '[ "$(grep -c " ok$" "$0")" -ge 6 ]' "$tmp/pw.out"
    check "the password is in no output" \
        sh -c '! grep -q "pw-[0-9]*-migrate" "$0"/pw.out "$0"/pw-none.err "$0"/pg.out' "$tmp"
fi

e2e_done
