#!/usr/bin/env bash
# End-to-end: `mlc run` under a service manager's notify protocol, and the
# shipped systemd unit's hardening. A Unix datagram socket stands in for
# systemd's NOTIFY_SOCKET (the daemon talks to it through libsystemd's
# sd_notify): READY=1 once it serves, STATUS=, WATCHDOG=1 at half of
# WATCHDOG_USEC from the scheduler loop, STOPPING=1 on SIGTERM. Then
# `systemd-analyze security --offline` scores the unit `make install`
# writes: exposure 2.0 at most.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init service
need_py

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
sock="$tmp/notify.sock"
got="$tmp/notify.txt"

write_config() {
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$tmp/mlc.db\"" listen="\"127.0.0.1:$port\"" \
        count=1 drain_timeout_s=5
}
# The listener: one line per datagram, until killed.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    print("listening", file=out)
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$sock" "$got" &
e2e_track $!
has() { grep -q -- "$1" "$got" 2>/dev/null; }
pings() { grep -c '^WATCHDOG=1' "$got" 2>/dev/null; }
two_pings() { [ "$(pings)" -ge 2 ]; }
wait_until 50 has listening || bail "the notify listener did not start"

require "mlc init writes a base config" mlc_init_base
export NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000
require "the daemon starts under the notify protocol" daemon_start write_config
unset NOTIFY_SOCKET WATCHDOG_USEC
check "it says READY=1" wait_until 100 has '^READY=1'
check "... and what it serves (STATUS=)" wait_until 100 has "^STATUS=serving on 127.0.0.1:$port"
check "it feeds the watchdog from its scheduler (WATCHDOG=1, twice)" wait_until 200 two_pings
check "SIGTERM stops it" daemon_term 200
check "it says STOPPING=1 while it drains" has '^STOPPING=1'
check "... with the drain in its status" has '^STATUS=draining'

# ---- the unit ---------------------------------------------------------------
unit="$tmp/mlc.service"
sed 's#@BINDIR@#/usr/bin#g' "$ROOT/etc/mlc.service.in" > "$unit"
check "the unit has no @...@ left" sh -c '! grep -q "@[A-Z]*@" "$0"' "$unit"
check "the unit is Type=notify with a watchdog" \
    sh -c 'grep -q "^Type=notify" "$0" && grep -q "^WatchdogSec=" "$0"' "$unit"
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze security --offline=true "$unit" > "$tmp/security.txt" 2>&1
    score=$(sed -n 's/.*Overall exposure level for mlc.service: \([0-9.]*\).*/\1/p' "$tmp/security.txt")
    note "systemd-analyze security: exposure ${score:-?}"
    check "systemd-analyze security scores the unit at 2.0 or less" \
        "$PY" -c 'import sys; sys.exit(0 if sys.argv[1] and float(sys.argv[1]) <= 2.0 else 1)' "${score:-}"
else
    not_ok "systemd-analyze is not installed (scripts/install-deps installs systemd)"
fi
e2e_done
