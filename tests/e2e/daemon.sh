#!/usr/bin/env bash
# End-to-end: the real `mlc run` daemon on 127.0.0.1 with a temp SQLite store.
# Health and readiness, noop jobs through `mlc jobs`, a held job, 404/405/413,
# SIGHUP with a broken and a valid config, SIGTERM draining a running job.
# Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init daemon
# The diagnostic job kind noop runs only when asked for (core/jobkind.h).
export MLC_DEBUG_JOBS=1

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"

in_log()    { grep -q -- "$1" "$log"; }
job_json()  { "$MLC" jobs show --config "$cfg" "$1" --json 2>/dev/null; }
job_state() { job_json "$1" | grep -q "\"state\": \"$2\""; }

write_config() { # $1 = log level
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$tmp/mlc.db\"" listen="\"127.0.0.1:$port\"" \
        count=2 max_body_bytes=1024 drain_timeout_s=20 level="${1:-info}"
}

# ---- configuration and start --------------------------------------------
require "mlc init writes a base config" mlc_init_base

# The master key from the environment (the key file's own: the same key):
# the daemon takes it out of its environment at start.
export MLC_MASTER_KEY
MLC_MASTER_KEY="$(cat "$tmp/mlc.key")"
require "daemon serves /healthz on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port"
check "MLC_MASTER_KEY is not in the daemon's /proc/PID/environ" \
    sh -c '! tr "\0" "\n" < /proc/$0/environ | grep -q -e MLC_MASTER_KEY -e "$1"' "$pid" "$MLC_MASTER_KEY"
unset MLC_MASTER_KEY

check "log has the ready line" in_log 'msg=ready'
check "/healthz body" test "$(curl -s --max-time 5 "http://127.0.0.1:$port/healthz")" = '{"status":"ok"}'
# No credential is stored: the flows are disabled, and readiness says so.
check "/readyz answers 503: the flows are disabled (no credentials stored)" \
    sh -c "[ \"\$(curl -s -o '$tmp/ready.json' -w '%{http_code}' --max-time 5 http://127.0.0.1:$port/readyz)\" = 503 ] &&
           grep -q '\"condition\":\"flows.disabled\"' '$tmp/ready.json'"
check "unknown path answers 404" test "$(http_code "http://127.0.0.1:$port/nope")" = 404
check "POST /healthz answers 405" test "$(http_code -X POST -d x "http://127.0.0.1:$port/healthz")" = 405
head -c 4096 /dev/zero > "$tmp/big.bin"
check "a body over max_body_bytes answers 413" \
    test "$(http_code -H 'Expect: 100-continue' --data-binary @"$tmp/big.bin" "http://127.0.0.1:$port/healthz")" = 413

# ---- jobs ---------------------------------------------------------------
MLC_DEBUG_JOBS= "$MLC" jobs enqueue --config "$cfg" noop e2e:off >/dev/null 2>"$tmp/noop.err"
noop_rc=$?
check "without MLC_DEBUG_JOBS=1 a noop job is refused (exit 1)" test "$noop_rc" = 1
check "without MLC_DEBUG_JOBS=1: the message names the variable" grep -q 'MLC_DEBUG_JOBS=1' "$tmp/noop.err"
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
yaml_set "$cfg" "$cfg" health_probe_interval=7 '#admin_listen'='"127.0.0.1:1"' \
    ais_base_url='"https://jde-ais2.example.com:9300"' timezone='"Europe/Paris"'
kill -HUP "$pid"
check "valid config: config reloaded" wait_until 100 in_log 'msg="config reloaded"'
check "a schedule interval applies at the reload" \
    in_log 'msg="schedule changed" task=health interval_s=7'
check "a key that needs a restart is named in the reload line" \
    in_log 'msg="config reloaded" .*restart_needed=server.admin_listen'
check "the AIS address and the GL time zone need a restart, and the line says so" \
    in_log 'msg="config reloaded" .*restart_needed=server.admin_listen,jde.ais_base_url,posting.timezone'
idd=$("$MLC" jobs enqueue --config "$cfg" noop e2e:after-reload | awk '{print $1}')
check "jobs still run after the reload" wait_until 150 job_state "$idd" done

# ---- SIGTERM drains -----------------------------------------------------
idl=$("$MLC" jobs enqueue --config "$cfg" noop e2e:long '{"sleep_ms": 1500}' | awk '{print $1}')
check "long job starts running" wait_until 150 job_state "$idl" running
check "daemon exits after SIGTERM within the drain timeout" daemon_term 250
check "exit status is 0" test "$daemon_rc" = 0
check "the running job finished during the drain" job_state "$idl" done
check "log has the stop summary" in_log 'msg=stopped'

e2e_done
