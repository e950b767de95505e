#!/usr/bin/env bash
# End-to-end: `make install DESTDIR=... PREFIX=/usr` of the binary under test:
# the binary, the systemd unit with PREFIX's path, the example configuration
# and docs, the manual pages mlc(1) and mlc.yaml(5) generated from the
# binary's own tables (every command, every configuration key), and the
# bash completion generated the same way.
set -u

. "$(dirname "$0")/lib/common.bash"
E2E_NO_MLC=0 e2e_init install
need_py

variant=$(basename "$BUILD")
root="$tmp/root"
require "make install DESTDIR PREFIX=/usr" \
    make -C "$ROOT" --no-print-directory -s install VARIANT="$variant" DESTDIR="$root" PREFIX=/usr
check "the binary is /usr/bin/mlc and runs" sh -c '"$0/usr/bin/mlc" version | grep -q "^mlc "' "$root"
unit="$root/usr/lib/systemd/system/mlc.service"
check "the unit runs /usr/bin/mlc" grep -q '^ExecStart=/usr/bin/mlc run ' "$unit"
check "the example configuration and the docs are installed" \
    sh -c 'test -s "$0/mlc.example.yaml" && test -s "$0/operations.md" && test -s "$0/posting-rules.md"' \
    "$root/usr/share/doc/ml-connector"

man1="$root/usr/share/man/man1/mlc.1"
man5="$root/usr/share/man/man5/mlc.yaml.5"
check "mlc(1) and mlc.yaml(5) are installed" test -s "$man1" -a -s "$man5"
if command -v groff >/dev/null 2>&1; then
    check "mlc(1) formats without a warning" sh -c '[ -z "$(groff -man -Tutf8 -ww -z "$0" 2>&1)" ]' "$man1"
    check "mlc.yaml(5) formats without a warning" sh -c '[ -z "$(groff -man -Tutf8 -ww -z "$0" 2>&1)" ]' "$man5"
else
    not_ok "groff is not installed (scripts/install-deps installs groff-base)"
fi
# Every command of `mlc help` has its entry in mlc(1).
"$MLC" help 2>&1 | awk '/^  [a-z]/ { print $1 }' > "$tmp/cmds.txt"
missing_cmds() { while read -r c; do grep -q "^\.B $c\( \|$\)" "$man1" || echo "$c"; done < "$tmp/cmds.txt"; }
check "every command of mlc help is in mlc(1) ($(wc -l < "$tmp/cmds.txt"))" \
    sh -c '[ -s "$0" ] && [ -z "$1" ]' "$tmp/cmds.txt" "$(missing_cmds)"
# Every key `mlc init` writes (required, defaulted or optional) is in mlc.yaml(5).
"$MLC" init "$tmp/ex.yaml" >/dev/null 2>&1
"$PY" - "$tmp/ex.yaml" > "$tmp/keys.txt" <<'PYEOF'
import re, sys
path, desc = [], False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"^( *)(# )?([a-z_]+):( |$)", line)
    if not line.strip() or line.startswith("#"):
        continue
    if m and m.group(1) == "" and not m.group(2):
        path, desc = [m.group(3)], False          # a section
    elif m and m.group(1):
        if m.group(2) and not desc:
            continue                              # an example entry of a map
        path = path[:len(m.group(1)) // 2] + [m.group(3)]
        print(".".join(path))
        desc = False
    elif line.lstrip().startswith("# "):
        desc = True
PYEOF
missing_keys() { while read -r k; do grep -qx "\.B $k" "$man5" || echo "$k"; done < "$tmp/keys.txt"; }
check "every key of mlc init is in mlc.yaml(5) ($(wc -l < "$tmp/keys.txt") keys)" \
    sh -c '[ "$(wc -l < "$0")" -gt 100 ] && [ -z "$1" ]' "$tmp/keys.txt" "$(missing_keys)"

comp="$root/usr/share/bash-completion/completions/mlc"
complete_words() { # WORDS...: what completion offers for the last word
    bash -c '. "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _mlc; echo "${COMPREPLY[*]}"' "$comp" "$@"
}
check "completion: commands" test "$(complete_words mlc rep)" = "replay report"
check "completion: subcommands" test "$(complete_words mlc report "")" = "reconcile show"
check "completion: options" sh -c 'echo " $0 " | grep -q " --undismiss "' "$(complete_words mlc replay --)"
e2e_done
