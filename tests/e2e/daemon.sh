#!/usr/bin/env bash
# End-to-end: the real `mlc run` daemon on 127.0.0.1 with a temp SQLite store.
# Health and readiness, noop jobs through `mlc jobs`, a held job, 404/405/413,
# SIGHUP with a broken and a valid config, SIGTERM draining a running job.
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

MLC="${MLC:?MLC must point at the mlc binary}"
case "$MLC" in /*) ;; *) MLC="$PWD/$MLC" ;; esac

tmp=$(mktemp -d /tmp/mlc-e2e-daemon.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check()  { local d="$1"; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"

# Polls "$@" every 0.1 s until it succeeds, at most $1 tenths of a second.
wait_until() {
    local tenths="$1"; shift
    for _ in $(seq 1 "$tenths"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
healthy()   { [ "$(http_code "http://127.0.0.1:$port/healthz")" = 200 ]; }
in_log()    { grep -q -- "$1" "$log"; }
job_json()  { "$MLC" jobs show --config "$cfg" "$1" --json 2>/dev/null; }
job_state() { job_json "$1" | grep -q "\"state\": \"$2\""; }
alive()     { kill -0 "$pid" 2>/dev/null; }
gone()      { ! alive; }

# A port nobody listens on (a bind race is handled by retrying the start).
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    return 1
}

write_config() { # $1 = log level
    sed -e "s|^\(  url: \).*|\1\"$tmp/mlc.db\"|" \
        -e "s|^\(  listen: \).*|\1\"127.0.0.1:$port\"|" \
        -e "s|^\(  count: \).*|\12|" \
        -e "s|^\(  max_body_bytes: \).*|\11024|" \
        -e "s|^\(  drain_timeout_s: \).*|\120|" \
        -e "s|^\(  level: \).*|\1$1|" \
        "$tmp/base.yaml" > "$cfg.new" && mv "$cfg.new" "$cfg"
}

# ---- configuration and start --------------------------------------------
if "$MLC" init "$tmp/base.yaml" >/dev/null 2>&1; then
    ok "mlc init writes a base config"
else
    not_ok "mlc init writes a base config"; exit 1
fi

started=0
for _ in 1 2 3 4 5; do
    port=$(free_port) || break
    write_config info
    "$MLC" run --config "$cfg" >"$log" 2>&1 &
    pid=$!
    if wait_until 150 healthy; then started=1; break; fi
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
done
if [ "$started" = 1 ]; then
    ok "daemon serves /healthz on 127.0.0.1:$port"
else
    not_ok "daemon serves /healthz"; cat "$log" 2>/dev/null; exit 1
fi

check "log has the ready line" in_log 'msg=ready'
check "/healthz body" test "$(curl -s --max-time 5 "http://127.0.0.1:$port/healthz")" = '{"status":"ok"}'
check "/readyz answers 200" wait_until 100 test "$(http_code "http://127.0.0.1:$port/readyz")" = 200
check "unknown path answers 404" test "$(http_code "http://127.0.0.1:$port/nope")" = 404
check "POST /healthz answers 405" test "$(http_code -X POST -d x "http://127.0.0.1:$port/healthz")" = 405
head -c 4096 /dev/zero > "$tmp/big.bin"
check "a body over max_body_bytes answers 413" \
    test "$(http_code -H 'Expect: 100-continue' --data-binary @"$tmp/big.bin" "http://127.0.0.1:$port/healthz")" = 413

# ---- jobs ---------------------------------------------------------------
id1=$("$MLC" jobs enqueue --config "$cfg" noop e2e:one '{"sleep_ms": 50}' | awk '{print $1}')
check "mlc jobs enqueue prints a job id" test -n "$id1"
check "noop job ends done" wait_until 150 job_state "$id1" done
idh=$("$MLC" jobs enqueue --config "$cfg" noop e2e:hold '{"fail": "hold"}' | awk '{print $1}')
check "hold job ends held" wait_until 150 job_state "$idh" held
check "held job keeps its reason" sh -c "'$MLC' jobs show --config '$cfg' '$idh' | grep -q 'last_error:  noop: asked to hold'"
check "mlc jobs list --state held shows it" sh -c "'$MLC' jobs list --config '$cfg' --state held | grep -q 'e2e:hold'"
check "/metrics counts done and held jobs" sh -c \
    "curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_jobs_done_total [1-9]' &&
     curl -s --max-time 5 http://127.0.0.1:$port/metrics | grep -q '^mlc_jobs_held_total 1$'"

# ---- SIGHUP ------------------------------------------------------------
cp "$cfg" "$tmp/good.yaml"
printf 'workers:\n  count: [unclosed\n' > "$cfg"
kill -HUP "$pid"
check "broken config: reload rejected in the log" wait_until 100 in_log 'lvl=error.*msg="config reload rejected"'
check "broken config: daemon still alive and healthy" sh -c "kill -0 $pid && [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:$port/healthz)\" = 200 ]"
write_config debug
kill -HUP "$pid"
check "valid config: config reloaded" wait_until 100 in_log 'msg="config reloaded"'
idd=$("$MLC" jobs enqueue --config "$cfg" noop e2e:after-reload | awk '{print $1}')
check "jobs still run after the reload" wait_until 150 job_state "$idd" done

# ---- SIGTERM drains -----------------------------------------------------
idl=$("$MLC" jobs enqueue --config "$cfg" noop e2e:long '{"sleep_ms": 1500}' | awk '{print $1}')
check "long job starts running" wait_until 150 job_state "$idl" running
kill -TERM "$pid"
if wait_until 250 gone; then
    wait "$pid"; rc=$?; pid=""
    ok "daemon exits after SIGTERM within the drain timeout"
    check "exit status is 0" test "$rc" = 0
else
    not_ok "daemon exits after SIGTERM within the drain timeout"
    not_ok "exit status is 0"
fi
check "the running job finished during the drain" job_state "$idl" done
check "log has the stop summary" in_log 'msg=stopped'

echo "1..$n"
