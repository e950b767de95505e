#!/usr/bin/env bash
# End-to-end: `mlc init` creates the master key, `mlc credentials set|list|
# delete` against a temp SQLite store. The secret (a canary) must never be
# printed and never stored in plain text; a wrong master key must say
# "cannot decrypt", never show garbage. Prints TAP lines.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init cred
unset MLC_MASTER_KEY

CANARY="s3cret-CANARY-$$"
cfg="$tmp/mlc.yaml"
key="$tmp/mlc.key"
capture_init   # $all: everything any command printed; $out/$err: the last one's
# run / run_in (lib): mlc with output kept, its status returned.
status_of() { "$@"; echo $?; }
out_has()   { grep -q -- "$1" "$out"; }
err_has()   { grep -q -- "$1" "$err"; }
list_line() { grep -E "^$1 " "$out"; }

# ---- init ------------------------------------------------------------------
require "mlc init writes the config" run init "$cfg"
check "mlc init creates the master key file" test -f "$key"
check "the key file has mode 600" test "$(stat -c %a "$key")" = 600
check "mlc init says it created the key" out_has "created master key"
yaml_set "$cfg" "$cfg" url="\"$tmp/mlc.db\""
cp "$key" "$tmp/key.before"
run init --force "$cfg"
check "mlc init --force keeps the existing key" cmp -s "$key" "$tmp/key.before"
check "mlc init --force says it kept the key" out_has "kept the existing master key"
yaml_set "$cfg" "$cfg" url="\"$tmp/mlc.db\""

# ---- set ---------------------------------------------------------------------
if run_in "$CANARY" credentials set jde --config "$cfg"; then
    ok "credentials set jde from stdin"
else
    not_ok "credentials set jde from stdin"; cat "$err"
fi
check "set prints 'credential jde_password stored'" out_has "^credential jde_password stored$"
check "an empty secret is refused" test "$(status_of run_in "" credentials set bigcommerce --config "$cfg")" = 1
check "the empty-secret error says so" err_has "empty secret"
check "the secret is never taken from argv" \
    test "$(status_of run credentials set jde "$CANARY" --config "$cfg")" = 2
check "an unknown kind is a usage error" \
    test "$(status_of run_in x credentials set nosuch --config "$cfg")" = 2
run_in "tok-$CANARY" credentials set --name extra_token --config "$cfg"
check "set --name stores any name" out_has "^credential extra_token stored$"

# ---- list --------------------------------------------------------------------
check "list succeeds with the right key" run credentials list --config "$cfg"
check "list shows jde_password as ok" eval 'list_line jde_password | grep -q " ok "'
check "list shows the reference using it" eval 'list_line jde_password | grep -q "jde.password_ref"'
check "list shows an ISO-8601 UTC date" \
    eval 'list_line jde_password | grep -qE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
check "list shows the unset bigcommerce token as missing" \
    eval 'list_line bigcommerce_token | grep -q missing'
check "list --json works" run credentials list --config "$cfg" --json
check "list --json has status ok" out_has '"status": "ok"'

# The key is found next to the config whatever the working directory: here
# the config path is relative to / and the key's path relative to the config.
(cd / && "$MLC" credentials list --config "${cfg#/}" >"$out" 2>"$err"); rc=$?
cat "$out" "$err" >> "$all"
check "a relative key path resolves against the config's directory" test "$rc" = 0

# ---- at rest -------------------------------------------------------------------
count_canary() {
    local f total=0 c
    for f in "$tmp"/mlc.db "$tmp"/mlc.db-wal "$tmp"/mlc.db-shm "$tmp"/mlc.db-journal; do
        [ -e "$f" ] || continue
        c=$(grep -a -c -- "$CANARY" "$f")
        total=$((total + c))
    done
    echo "$total"
}
check "the database file exists" test -s "$tmp/mlc.db"
check "the database (and WAL) do not contain the canary" test "$(count_canary)" = 0
check "the audit trail has the set without the value" \
    eval 'grep -a -q "credential:jde_password" "$tmp/mlc.db"'

# ---- wrong master key ------------------------------------------------------------
other=$(head -c 32 /dev/urandom | base64)
rc=$(MLC_MASTER_KEY="$other" status_of run credentials list --config "$cfg")
check "list with another MLC_MASTER_KEY exits 1" test "$rc" = 1
check "list with another key shows 'cannot decrypt'" \
    eval 'list_line jde_password | grep -q "cannot decrypt"'
rc=$(MLC_MASTER_KEY="$other" status_of run_in "x" credentials set --name new_one --config "$cfg")
check "set with a key that opens no stored credential is refused" test "$rc" = 1
check "the refusal explains itself" err_has "decrypts none"
rc=$(MLC_MASTER_KEY="not-base64!" status_of run credentials list --config "$cfg")
check "a malformed MLC_MASTER_KEY is refused" test "$rc" = 1
check "its error names MLC_MASTER_KEY" err_has "MLC_MASTER_KEY"

chmod 644 "$key"
rc=$(status_of run credentials list --config "$cfg")
check "a key file readable by others is refused" test "$rc" = 1
check "the error names the path and chmod 600" err_has "chmod 600 $key"
chmod 600 "$key"
chmod 644 "$tmp/mlc.db"
rc=$(status_of run credentials list --config "$cfg")
check "a store file readable by others is refused" test "$rc" = 1
check "the error names its mode and chmod 0600" err_has "has mode 0644.*chmod 0600 $tmp/mlc.db"
chmod 600 "$tmp/mlc.db"

# ---- root and the service user's store ------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    chown nobody "$tmp/mlc.db"
    rc=$(status_of run credentials list --config "$cfg")
    check "root refuses a store file another user owns" test "$rc" = 1
    check "... and says to run as that user" err_has "belongs to nobody, not root: run mlc as that user (runuser -u nobody"
    check "... leaving no root-owned file beside it" \
        sh -c '! find "$0" -maxdepth 1 -name "mlc.db*" -user root | grep -q .' "$tmp"
    chown root "$tmp/mlc.db"
    mkdir "$tmp/svc"; chown nobody "$tmp/svc"
    yaml_set "$cfg" "$tmp/svc.yaml" url="\"$tmp/svc/mlc.db\""
    rc=$(status_of run credentials list --config "$tmp/svc.yaml")
    check "root does not create a store in a directory another user owns" \
        sh -c '[ "$0" = 1 ] && [ ! -e "$1" ]' "$rc" "$tmp/svc/mlc.db"
else
    note "not root: the ownership checks are skipped"
fi

# ---- the configuration without --config ----------------------------------------------
MLC_CONFIG="$cfg" run credentials list
check "MLC_CONFIG stands for --config" sh -c '[ "$0" = 0 ] && grep -q jde_password "$1"' "$rc" "$out"
run credentials list --config "$cfg"
cp "$out" "$tmp/list-flag.txt"
MLC_CONFIG="$tmp/none.yaml" run credentials list --config "$cfg"
check "--config wins over MLC_CONFIG" cmp -s "$out" "$tmp/list-flag.txt"
if [ ! -e /etc/mlc/mlc.yaml ]; then
    MLC_CONFIG= run credentials list
    check "neither: /etc/mlc/mlc.yaml, named in the error" \
        sh -c '[ "$0" = 1 ] && grep -q "/etc/mlc/mlc.yaml: cannot open" "$1"' "$rc" "$err"
fi

# ---- delete -------------------------------------------------------------------------
check "delete works" run credentials delete jde_password --config "$cfg"
check "delete prints 'credential jde_password deleted'" out_has "^credential jde_password deleted$"
run credentials list --config "$cfg"
check "after delete the credential is missing" eval 'list_line jde_password | grep -q missing'
check "deleting it again fails" test "$(status_of run credentials delete jde_password --config "$cfg")" = 1
check "the audit trail is still free of the canary" test "$(count_canary)" = 0

# ---- nothing printed -------------------------------------------------------------------
check "no command printed the canary" eval '! grep -q -- "$CANARY" "$all"'

e2e_done
