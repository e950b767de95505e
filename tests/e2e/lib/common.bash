# Shared helpers for the end-to-end scripts in tests/e2e/*.sh.
#
# Sourced, never run: scripts/run-tests runs tests/e2e/*.sh, and this file
# lives below tests/e2e/lib/ with a .bash ending so that glob never sees it.
#
#   . "$(dirname "$0")/lib/common.bash"
#   e2e_init NAME          # paths, temp dir, cleanup trap, TAP counters
#
# Conventions the helpers rely on (all set by e2e_init or by the script):
#   MLC, SIM, BUILD, ROOT   absolute paths of mlc, mlc-sim, the build and repo
#   tmp                     the temp dir (removed on exit unless KEEP is set)
#   cfg, log                the config file and the daemon log of the script
#   pid, simpid             the daemon and simulator processes, "" when none
#   port, BCP, AISP         daemon, BigCommerce simulator and AIS simulator ports
# Everything listens on 127.0.0.1 only; every wait is bounded; the EXIT trap
# kills every process started here (pid, simpid and anything e2e_track'ed),
# also when the script fails or is interrupted.

# Variables here are set for the sourcing script and read from it (SC2034),
# and cfg/log/out/err/all are the script's own (SC2154).
# shellcheck disable=SC2034,SC2154

# ---- setup and cleanup -------------------------------------------------------

E2E_PIDS=()

# e2e_init NAME: resolves MLC (required unless E2E_NO_MLC=1), BUILD, SIM and
# ROOT to absolute paths, makes the temp dir /tmp/mlc-e2e-NAME.XXXXXX and
# installs the cleanup trap. Interrupts end the script through that trap.
e2e_init() {
    if [ "${E2E_NO_MLC:-0}" = 1 ]; then
        MLC="${MLC:-}"
    else
        MLC="${MLC:?MLC must point at the mlc binary}"
    fi
    case "$MLC" in /*|"") ;; *) MLC="$PWD/$MLC" ;; esac
    if [ -n "$MLC" ]; then BUILD="${BUILD:-$(dirname "$MLC")}"; else BUILD="${BUILD:-build/release}"; fi
    SIM="$BUILD/mlc-sim"
    case "$SIM" in /*) ;; *) SIM="$PWD/$SIM" ;; esac
    ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
    tmp=$(mktemp -d "/tmp/mlc-e2e-$1.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
    pid=""; simpid=""; port=""; BCP=""; AISP=""
    n=0; failed=0
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

# e2e_track PID...: kill these processes too at exit (if still running).
e2e_track() { E2E_PIDS+=("$@"); }

# kill_wait PID: SIGKILL the process if it still runs, then reap it.
kill_wait() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
    fi
    return 0
}

e2e_cleanup() {
    local p
    for p in "$pid" "$simpid" "${E2E_PIDS[@]}"; do kill_wait "$p"; done
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}

# ---- TAP ---------------------------------------------------------------------

ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION CMD...: one TAP line, ok when CMD succeeds; returns
# CMD's success. CMD runs in this shell, so variables it sets stay set.
check()  { local d="$1"; shift; if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi; }
note()   { echo "# $*"; }
# e2e_done: prints the plan; the script's status says whether all passed.
e2e_done() { echo "1..$n"; [ "$failed" = 0 ]; }
# bail: stops the script early: the plan so far, status 1.
bail()   { echo "1..$n"; exit 1; }
# require DESCRIPTION CMD...: a check the rest of the script cannot do
# without. On failure it shows the end of the daemon log ($log), the
# simulator log and the last mlc stderr ($err), whichever exist, and bails.
require() {
    check "$@" && return 0
    local f
    for f in "${log:-}" "$tmp/sim.log" "${err:-}"; do
        if [ -n "$f" ] && [ -s "$f" ]; then
            echo "# --- $f"; tail -n 40 "$f" | sed 's/^/# /'
        fi
    done
    bail
}

# ---- waiting and HTTP ----------------------------------------------------------

# wait_until TENTHS CMD...: polls CMD every 0.1 s, at most TENTHS times.
wait_until() {
    local tenths="$1"; shift
    for _ in $(seq 1 "$tenths"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# http_code CURL_ARGS...: prints the status code (000 when nothing answers).
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# free_port: prints a loopback port nobody listens on (a bind race remains;
# daemon_start retries with another port).
free_port() {
    local p eph_lo
    # Below the kernel's ephemeral range: an outgoing connection (the
    # daemons' own, by the thousand in a bench) cannot take it meanwhile.
    eph_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${eph_lo:-0}" -gt 20000 ] 2>/dev/null || eph_lo=32768
    for _ in $(seq 1 50); do
        p=$((15000 + RANDOM % (eph_lo - 15000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    return 1
}

# need_py: sets PY to the python3 interpreter itself, not a version-manager
# shim (which costs up to 0.5 s a call). Call it in the script's own shell
# (not in $(...)) before using $PY; only scripts that use python pay for it.
PY=""
need_py() {
    [ -z "$PY" ] || return 0
    PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=python3
    [ -x "$PY" ] || PY=python3
}

# ---- configuration and credentials -------------------------------------------------

# e2e_posting_journal: the body of a "posting:" section in journal mode on
# the chart of accounts of sim/seed/jde.json (every default account), for
# the configs the scripts write: "posting:\n$(e2e_posting_journal)".
e2e_posting_journal() {
    cat <<'EOF'
  mode: journal
  company: "00001"
  gl_date: created
  timezone: "UTC"
  accounts:
    revenue: "100.4010"
    discounts: "100.4020"
    shipping: "100.4030"
    handling: "100.4040"
    wrapping: "100.4050"
    fees: "100.4060"
    tax: "1.2310"
    clearing: "1.1110"
    gift_certificate: "1.2410"
    store_credit: "1.2420"
    rounding: "100.7990"
EOF
}

# e2e_runtime_yaml: the store, server and workers sections most daemon tests
# share: a SQLite store in $tmp, the listener on $port, two workers with
# short retries.
e2e_runtime_yaml() {
    cat <<EOF
store:
  url: "$tmp/mlc.db"
  master_key_file: "mlc.key"
server:
  listen: "127.0.0.1:$port"
workers:
  count: 2
  lease_s: 60
  retry_base_ms: 200
  retry_cap_ms: 2000
  drain_timeout_s: 20
EOF
}

# E2E_CUTOVER: the go-live cutover (orders.start) of every test config, a
# fixed date before every order of the seeds (`mlc init` writes the current
# time, which would make a test depend on today's date).
E2E_CUTOVER='"2020-01-01T00:00:00Z"'

# mlc_init_base: `mlc init` of $tmp/base.yaml (and the master key beside it),
# its orders.start set to E2E_CUTOVER.
mlc_init_base() {
    "$MLC" init "$tmp/base.yaml" >/dev/null 2>&1 &&
        yaml_set "$tmp/base.yaml" "$tmp/base.yaml" start="$E2E_CUTOVER"
}

# yaml_set IN OUT KEY=VALUE...: copies IN to OUT (IN may be OUT) with the
# value of every two-space-indented "  KEY: ..." line replaced by VALUE
# (quote strings yourself: url='"/tmp/x.db"'). A KEY written "#name"
# uncomments the line "  # name: ..." and sets it.
yaml_set() {
    local in="$1" out="$2" kv k v args=()
    shift 2
    for kv in "$@"; do
        k="${kv%%=*}"; v="${kv#*=}"
        case "$k" in
            \#*) args+=(-e "s|^  # \\(${k#\#}: \\).*|  \\1$v|") ;;
            *)   args+=(-e "s|^\\(  $k: \\).*|\\1$v|") ;;
        esac
    done
    sed "${args[@]}" "$in" > "$out.new" && mv "$out.new" "$out"
}

# cred_set SECRET ARGS...: `mlc credentials set ARGS --config $cfg` with
# SECRET on stdin; quiet, returns its status. ARGS: a kind or --name NAME.
cred_set() {
    local s="$1"; shift
    printf '%s' "$s" | "$MLC" credentials set "$@" --config "$cfg" >/dev/null 2>&1
}

# run ARGS...: mlc with stdout in $out and stderr in $err, both appended to
# $all (everything printed, to search for secrets); sets and returns $rc.
run() {
    "$MLC" "$@" >"$out" 2>"$err"
    rc=$?
    cat "$out" "$err" >> "$all"
    return $rc
}
# run_in INPUT ARGS...: the same with INPUT on stdin (no trailing newline).
run_in() {
    local input="$1"; shift
    printf '%s' "$input" | "$MLC" "$@" >"$out" 2>"$err"
    rc=$?
    cat "$out" "$err" >> "$all"
    return $rc
}
# capture_init: out, err and all in the temp dir, all emptied.
capture_init() { all="$tmp/all.out"; out="$tmp/last.out"; err="$tmp/last.err"; : > "$all"; }

# ---- the daemon ----------------------------------------------------------------------

healthy() { [ "$(http_code "http://127.0.0.1:$port/healthz")" = 200 ]; }
alive()   { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
stopped() { ! alive; }

# daemon_launch: starts `mlc run --config $cfg` in the background, output
# in $log; sets pid.
daemon_launch() {
    "$MLC" run --config "$cfg" >"$log" 2>&1 &
    pid=$!
}

# daemon_start WRITE_CONFIG [LAUNCH]: starts the daemon and waits (15 s) for
# /healthz. Up to 5 tries; each try but a first one with $port already set
# picks a free port and calls WRITE_CONFIG (which writes $cfg for $port).
# LAUNCH (default daemon_launch) starts the process and sets pid.
daemon_start() {
    local write="$1" launch="${2:-daemon_launch}" try
    for try in 1 2 3 4 5; do
        if [ "$try" -gt 1 ] || [ -z "${port:-}" ]; then
            port=$(free_port) || return 1
            "$write"
        fi
        "$launch"
        wait_until 150 healthy && return 0
        kill_wait "$pid"; pid=""
    done
    return 1
}

# daemon_term TENTHS: SIGTERM, then waits TENTHS tenths of a second for the
# exit. On exit: daemon_rc is its status, pid is "", returns 0. Otherwise
# returns 1 and leaves the process to daemon_stop or the cleanup.
daemon_term() {
    daemon_rc=""
    [ -n "$pid" ] || return 1
    kill -TERM "$pid" 2>/dev/null
    wait_until "$1" stopped || return 1
    wait "$pid" 2>/dev/null
    daemon_rc=$?
    pid=""
}

# daemon_stop: stops the daemon whatever it takes (SIGTERM, 10 s, SIGKILL).
daemon_stop() {
    [ -n "$pid" ] || return 0
    daemon_term 100 || kill_wait "$pid"
    pid=""
}

# ---- the job queue -------------------------------------------------------------------

# jobs_json [STATE]: `mlc jobs list --json` of $cfg, optionally one state.
jobs_json() { "$MLC" jobs list --config "$cfg" --json ${1:+--state "$1"} 2>/dev/null; }
# jobs_count STATE: how many jobs are in that state (nothing on error);
# needs need_py first.
jobs_count() { jobs_json "$1" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null; }
# queue_busy: true while any job is READY or RUNNING, or the store cannot say.
queue_busy() {
    local r u
    need_py
    r=$(jobs_count ready) || return 0
    u=$(jobs_count running) || return 0
    [ -n "$r" ] && [ -n "$u" ] || return 0
    [ "$r" != 0 ] || [ "$u" != 0 ]
}
queue_idle() { ! queue_busy; }

# ---- the simulators (mlc-sim) -------------------------------------------------------

# sim_start ARGS...: starts mlc-sim with ARGS (listen addresses, seeds, ...)
# plus a ready file, output in $tmp/sim.log; waits (10 s) until the ready
# file names every simulator asked for. Sets simpid, BCP and AISP.
sim_start() {
    local ready="$tmp/ports.env" want=()
    case " $* " in *" --bigcommerce "*) want+=(bigcommerce) ;; esac
    case " $* " in *" --jde "*) want+=(jde) ;; esac
    "$SIM" "$@" --ready-file "$ready" >"$tmp/sim.log" 2>&1 &
    simpid=$!
    wait_until 100 sim_ready_file "$ready" "${want[@]}" || return 1
    BCP=$(sed -n 's/^bigcommerce=//p' "$ready")
    AISP=$(sed -n 's/^jde=//p' "$ready")
}

# sim_ready_file FILE NAME...: FILE has a "NAME=port" line for every NAME.
sim_ready_file() {
    local f="$1" w; shift
    [ -s "$f" ] || return 1
    for w in "$@"; do grep -q "^$w=[0-9]" "$f" || return 1; done
}

# sim_stop: SIGTERM, up to 10 s, then SIGKILL; sets sim_rc to its status.
sim_stop() {
    sim_rc=""
    [ -n "$simpid" ] || return 0
    kill -TERM "$simpid" 2>/dev/null
    for _ in $(seq 1 100); do
        if ! kill -0 "$simpid" 2>/dev/null; then wait "$simpid"; sim_rc=$?; break; fi
        sleep 0.1
    done
    kill_wait "$simpid"
    simpid=""
}

# bc_ctl METHOD PATH [JSON] / ais_ctl ...: the simulators' control API (/__sim).
bc_ctl()  { curl -s --max-time 10 -H 'Content-Type: application/json' -X "$1" \
                "http://127.0.0.1:$BCP/__sim/$2" ${3:+--data-binary "$3"}; }
ais_ctl() { curl -s --max-time 10 -H 'Content-Type: application/json' -X "$1" \
                "http://127.0.0.1:$AISP/__sim/$2" ${3:+--data-binary "$3"}; }

# bc_hooked STORE_HASH TOKEN: the simulated store has a hook to this daemon.
bc_hooked() {
    curl -s --max-time 5 -H "X-Auth-Token: $2" -H 'Accept: application/json' \
        "http://127.0.0.1:$BCP/stores/$1/v3/hooks" | grep -q "127.0.0.1:$port/webhooks"
}
