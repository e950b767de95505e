# Shared helpers of the benchmark scripts (sourced, never run): all of
# them for bench/webhooks.sh, bench/footprint.sh and bench/scale.sh, the
# finance mapping (bench_finance_yaml) for bench/orders.sh too.
#
#   . "$(dirname "$0")/lib.bash"
#   bench_init NAME [BUILD]    # paths, temp dir, cleanup trap
#
# Set by bench_init: ROOT (the checkout), BUILD, MLC, SIM, WHLOAD (absolute),
# tmp (removed at exit unless KEEP is set). Everything listens on 127.0.0.1;
# every wait is bounded; the EXIT trap stops every process started here.
# Figures: bench_fig KEY VALUE collects them; bench_emit prints them and
# writes them as one JSON object to $BENCH_JSON when it is set.

BENCH_PIDS=()

bench_init() {
    local name="$1"
    ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    cd "$ROOT" || exit 2
    BUILD=${2:-build/release}
    case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
    MLC="$BUILD/mlc"; SIM="$BUILD/mlc-sim"; WHLOAD="$BUILD/bench/whload"
    BENCH_NAME="bench/$name.sh"
    local t
    for t in python3 curl sqlite3; do
        command -v "$t" >/dev/null || bench_die "needs $t (scripts/install-deps)"
    done
    if [ ! -x "$MLC" ] || [ ! -x "$SIM" ]; then bench_die "build $MLC and $SIM first (make)"; fi
    [ -x "$WHLOAD" ] || bench_die "build $WHLOAD first (make bench builds it)"
    tmp=$(mktemp -d "/tmp/mlc-bench-$name.XXXXXX") || exit 2
    : > "$tmp/figures"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

bench_die() { echo "${BENCH_NAME:-bench}: $*" >&2; exit 1; }

# bench_stop PID: SIGTERM, up to 20 s to exit, then SIGKILL; reaps it.
bench_stop() {
    [ -n "${1:-}" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do bench_stop "$p"; done
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}

# bench_track PID: stop it at exit too.
bench_track() { BENCH_PIDS+=("$1"); }

# wait_until TENTHS CMD...: polls CMD every 0.1 s, at most TENTHS times.
wait_until() {
    local n="$1"; shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# free_port: a loopback port nobody listens on (a bind race remains).
free_port() {
    local p eph_lo
    # Below the kernel's ephemeral range: an outgoing connection (the
    # daemons' own, by the thousand in a bench) cannot take it meanwhile.
    eph_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${eph_lo:-0}" -gt 20000 ] 2>/dev/null || eph_lo=32768
    for _ in $(seq 1 50); do
        p=$((15000 + RANDOM % (eph_lo - 15000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# ---- simulators and the daemon ------------------------------------------------

# The demo store (sim/seed/demo-*.json): BigCommerce's Standard quota of 150
# requests per 30 s, a JDE with the demo's chart of accounts.
BC_TOKEN="sim-token-northwind-demo"
BC_CLIENT_SECRET="sim-secret-northwind-demo"
JDE_PASSWORD="northwind-demo-pass"

sim_ready() { grep -q '^jde=' "$tmp/ports" 2>/dev/null; }

# bench_sim_start [BC_SEED]: starts mlc-sim on the demo seeds (BC_SEED instead
# of the demo store, e.g. one of bench/gen-orders.py); sets SIM_PID, BCP, AISP.
bench_sim_start() {
    "$SIM" --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 \
        --seed "${1:-sim/seed/demo-bigcommerce.json}" --seed sim/seed/demo-jde.json \
        --ready-file "$tmp/ports" --log-level error >"$tmp/sim.log" 2>&1 &
    SIM_PID=$!
    bench_track "$SIM_PID"
    wait_until 100 sim_ready || bench_die "mlc-sim did not start"
    BCP=$(sed -n 's/^bigcommerce=//p' "$tmp/ports")
    AISP=$(sed -n 's/^jde=//p' "$tmp/ports")
}

# bench_config FILE PORT DB [AIS_PORT] [START]: a configuration for the
# simulated store with the shipped defaults for server.* and workers.*
# (but workers.drain_timeout_s 1: a benchmark's stop needs no drain) and the
# mapping of bench/orders.sh. orders.start is START (quoted), else now: then
# every order of the seeds is before the cutover and an idle daemon has
# nothing to post. AIS_PORT overrides the simulator's ("" keeps it).
bench_config() {
    local file="$1" port="$2" db="$3" ais="${4:-$AISP}"
    local start="${5:-\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" dir
    dir=$(dirname "$file")
    [ -f "$dir/mlc.key" ] || "$MLC" init "$dir/init.yaml" >/dev/null 2>&1 || bench_die "mlc init failed"
    cat > "$file" <<EOF
log:
  level: info
bigcommerce:
  store_hash: "nwhg42"
  api_base_url: "http://127.0.0.1:$BCP/stores/{store_hash}"
  token_ref: "bigcommerce_token"
  webhook_public_url: "http://127.0.0.1:$port/webhooks/bigcommerce"
  webhook_secret_ref: "bigcommerce_webhook_secret"
  client_secret_ref: "bigcommerce_client_secret"
jde:
  ais_base_url: "http://127.0.0.1:$ais"
  environment: "JDV920"
  device_name: "mlc-bench"
  user: "MLCINT"
  password_ref: "jde_password"
posting:
  mode: journal
  company: "00001"
  gl_date: created
  timezone: "UTC"
  balance_sheet_bu: "1"
  default_bu: "100"
$(bench_accounts_yaml)
  revenue_by_sku:
    "NW-SOAP-6PK": "100.4010.CLEAN"
    "NW-DISH-1L": "100.4010.CLEAN"
    "NW-SPRAY-750": "100.4010.CLEAN"
    "NW-TOWEL-12": "100.4010.PAPER"
    "NW-TISSUE-24": "100.4010.PAPER"
    "NW-NAPKIN-200": "100.4010.PAPER"
    "NW-DETERG-3L": "100.4010.LAUNDRY"
    "NW-BASKET-L": "100.4010.HOME"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
orders:
  start: $start
store:
  url: "$db"
  master_key_file: "$dir/mlc.key"
server:
  listen: "127.0.0.1:$port"
workers:
  drain_timeout_s: 1
EOF
    "$MLC" config check "$file" >/dev/null 2>&1 ||
        { "$MLC" config check "$file" >&2; bench_die "the configuration does not validate"; }
}

# bench_accounts_yaml: the posting.accounts block every bench uses.
bench_accounts_yaml() {
    cat <<EOF
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

# bench_finance_yaml AIS_PORT: the jde and posting sections of the mapping
# a finance team writes (revenue by category with SKU exceptions, clearing
# by gateway with one gateway unmapped), for bench/orders.sh and
# bench/scale.sh: the figures of both come from the same configuration.
bench_finance_yaml() {
    cat <<EOF
jde:
  ais_base_url: "http://127.0.0.1:$1"
  environment: "JDV920"
  device_name: "mlc-bench"
  user: "MLCINT"
  password_ref: "jde_password"
  timeout_ms: 10000
posting:
  mode: journal
  company: "00001"
  gl_date: created
  timezone: "UTC"
  strict_sku_mapping: false
  balance_sheet_bu: "1"
  default_bu: "100"
$(bench_accounts_yaml)
  revenue_by_sku:
    "NW-DETERG-3L": "100.4010.LAUNDRY"
    "NW-BASKET-L": "100.4010.HOME"
    "NW-CANDLE-LAV": "100.4010.HOME"
  revenue_by_category:
    "21": "100.4010.CLEAN"
    "22": "100.4010.PAPER"
    "23": "100.4010.LAUNDRY"
    "24": "100.4010.HOME"
  clearing_by_gateway:
    stripe: "1.1110.STRIPE"
    paypal: "1.1110.PAYPAL"
EOF
}

# bench_creds CFG: stores the four credentials the configuration names;
# the webhook header secret is random and left in $WEBHOOK_SECRET.
bench_creds() {
    local cfg="$1"
    WEBHOOK_SECRET=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
    cred() {
        printf '%s' "$2" | "$MLC" credentials set "$1" --config "$cfg" >/dev/null 2>&1 ||
            bench_die "credentials set $1"
    }
    cred bigcommerce "$BC_TOKEN"
    cred jde "$JDE_PASSWORD"
    cred webhook "$WEBHOOK_SECRET"
    cred client-secret "$BC_CLIENT_SECRET"
}

# bench_daemon CFG LOG: starts `mlc run` in the background; sets MLC_PID and
# MLC_T0 (bash's wall clock just before the fork, seconds with microseconds).
bench_daemon() {
    MLC_T0=$EPOCHREALTIME
    "$MLC" run --config "$1" >"$2" 2>&1 &
    MLC_PID=$!
    bench_track "$MLC_PID"
}

# bench_ready PORT [TIMEOUT_MS]: waits for /readyz 200 (whload polls every
# 2 ms); prints the milliseconds since MLC_T0, or fails.
bench_ready() {
    local out at
    out=$("$WHLOAD" wait --port "$1" --path /readyz --timeout-ms "${2:-30000}") || return 1
    at=$(sed -n 's/.*"ready_at_us":\([0-9]*\).*/\1/p' <<<"$out")
    python3 -c 'import sys; print("%.1f" % ((int(sys.argv[1]) - float(sys.argv[2]) * 1e6) / 1000))' \
        "$at" "$MLC_T0"
}

# rss_kb PID [FIELD]: VmRSS (or FIELD, e.g. VmHWM) of PID in kB.
rss_kb() { sed -n "s/^${2:-VmRSS}:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null; }

# ---- figures --------------------------------------------------------------------

# bench_fig KEY VALUE: one figure (a number, or n/a when unmeasured).
bench_fig() { printf '%s\t%s\n' "$1" "$2" >> "$tmp/figures"; }

# bench_emit: prints the figures and writes them as JSON to $BENCH_JSON.
bench_emit() {
    python3 - "$tmp/figures" "${BENCH_JSON:-}" <<'PY'
import json, sys
figs = {}
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition("\t")
    try:
        figs[k] = int(v)
    except ValueError:
        try:
            figs[k] = float(v)
        except ValueError:
            figs[k] = None if v in ("", "n/a") else v
for k, v in figs.items():
    print("  %-36s %s" % (k, "n/a" if v is None else v))
if sys.argv[2]:
    with open(sys.argv[2], "w") as f:
        json.dump(figs, f, indent=1)
        f.write("\n")
PY
}
