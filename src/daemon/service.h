/*
 * service: telling the service manager (systemd, Type=notify) what the
 * daemon is doing, through libsystemd's sd_notify. Every call is a no-op
 * when the daemon does not run under a manager that asked for it (no
 * NOTIFY_SOCKET), so tests and foreground runs need nothing.
 *
 *   service_ready      READY=1 once the daemon serves (and after a reload)
 *   service_status     STATUS=... the one-line state `systemctl status` shows
 *   service_stopping   STOPPING=1 when the drain starts
 *   service_watchdog   WATCHDOG=1 at half the manager's WatchdogSec, from
 *                      the scheduler loop: a loop stuck in a task longer
 *                      than WatchdogSec gets the service restarted
 *
 * State: the watchdog interval and the time of the last ping, owned by the
 * caller (struct service), used from the main thread only.
 */
#ifndef MLC_DAEMON_SERVICE_H
#define MLC_DAEMON_SERVICE_H

#include <stdint.h>

struct service {
    int64_t watchdog_ms; /* ping interval (half of WatchdogSec); 0: off */
    int64_t last_ping;   /* monotonic ms of the last WATCHDOG=1 */
};

/* Reads WATCHDOG_USEC (and WATCHDOG_PID) once, before threads start. */
void service_init(struct service *sv);
void service_ready(void);
void service_stopping(void);
/* Sends STATUS=text (printf-style, truncated to 200 bytes). */
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Pings the watchdog when now_ms (monotonic) is due; cheap otherwise. */
void service_watchdog(struct service *sv, int64_t now_ms);
/* How long the loop may sleep before the next ping is due (ms; -1: no
 * watchdog). */
int64_t service_watchdog_wait(const struct service *sv, int64_t now_ms);

#endif
