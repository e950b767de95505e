#!/usr/bin/env bash
# End-to-end: every command and subcommand of the binary's own table
# (`mlc help --table`) answers --help and -h with its usage on stdout and
# exit 0, `mlc help CMD` shows the same text, and an unknown option is a
# usage error (2) named after the command. The bash completion offers each
# subcommand's own options.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init help
capture_init

run help --table
check "mlc help --table lists the commands" sh -c '[ "$0" = 0 ] && [ -s "$1" ]' "$rc" "$out"
cut -f1 "$out" > "$tmp/names"
cut -d' ' -f1 "$tmp/names" | uniq > "$tmp/cmds"
note "$(wc -l < "$tmp/names") commands and subcommands"

# Every entry of the table, subcommands included.
while read -r name; do
    # shellcheck disable=SC2086 # "jobs list" is two words on purpose
    run $name --help
    check "mlc $name --help: exit 0, its usage on stdout" \
        sh -c '[ "$0" = 0 ] && grep -q "mlc $1" "$2" && [ ! -s "$3" ]' "$rc" "$name" "$out" "$err"
    # shellcheck disable=SC2086
    run $name -h
    check "mlc $name -h: exit 0" sh -c '[ "$0" = 0 ] && grep -q "mlc $1" "$2"' "$rc" "$name" "$out"
    # shellcheck disable=SC2086
    run $name --no-such-option
    check "mlc $name --no-such-option: usage error (2), named" \
        sh -c '[ "$0" = 2 ] && grep -q "^mlc ${1%% *}: .*no-such-option" "$2"' "$rc" "$name" "$err"
done < "$tmp/names"

# Every command, with or without subcommands: --help and `mlc help CMD`.
while read -r c; do
    run "$c" --help
    check "mlc $c --help: exit 0, its usage" \
        sh -c '[ "$0" = 0 ] && grep -q "mlc $1" "$2"' "$rc" "$c" "$out"
    cp "$out" "$tmp/own"
    run help "$c"
    check "mlc help $c: exit 0, the same text" sh -c '[ "$0" = 0 ] && cmp -s "$1" "$2"' \
        "$rc" "$tmp/own" "$out"
done < "$tmp/cmds"

# The two that answered "unknown subcommand" before.
run sync --help
check "mlc sync --help lists orders, customers and catalog" \
    sh -c '[ "$0" = 0 ] && grep -q "sync orders" "$1" && grep -q "sync catalog" "$1"' "$rc" "$out"
run jobs --help
check "mlc jobs --help lists list, enqueue and show" \
    sh -c '[ "$0" = 0 ] && grep -q "jobs enqueue" "$1" && grep -q "jobs show" "$1"' "$rc" "$out"

run help
check "mlc help: the commands on stdout, exit 0" \
    sh -c '[ "$0" = 0 ] && grep -q "^  jobs list" "$1" && grep -q "^  ping" "$1"' "$rc" "$out"
run help no-such-command
check "mlc help with an unknown command: 2" [ "$rc" = 2 ]
run no-such-command
check "an unknown command: 2" [ "$rc" = 2 ]
run jobs no-such-sub
check "an unknown subcommand: 2, named" \
    sh -c '[ "$0" = 2 ] && grep -q "unknown subcommand .no-such-sub." "$1"' "$rc" "$err"
run jobs list --limit ten
check "a bad number: 2, with the range" \
    sh -c '[ "$0" = 2 ] && grep -q "^mlc jobs: --limit .ten.: expected a whole number" "$1"' \
    "$rc" "$err"
run jobs list --config
check "a missing value: 2" sh -c '[ "$0" = 2 ] && grep -q "needs a value" "$1"' "$rc" "$err"

# The completion knows each subcommand's options.
sh "$ROOT/scripts/gen-completion" "$MLC" > "$tmp/compl"
complete_words() {
    bash -c '. "$0"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mlc; echo "${COMPREPLY[*]}"' \
        "$tmp/compl" x "$@"
}
check "completion: jobs list offers --state" \
    sh -c 'echo " $0 " | grep -q " --state "' "$(complete_words mlc jobs list --)"
check "completion: jobs show does not" \
    sh -c '! echo " $0 " | grep -q " --state "' "$(complete_words mlc jobs show --)"
check "completion: sync orders offers --from-id" \
    sh -c 'echo " $0 " | grep -q " --from-id "' "$(complete_words mlc sync orders --)"
e2e_done
