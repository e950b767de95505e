#include "daemon/service.h"

#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

void service_init(struct service *sv)
{
    uint64_t usec = 0;

    sv->watchdog_ms = 0;
    sv->last_ping = 0;
    /* 0 unset args: keep WATCHDOG_USEC for a child we do not have; the
     * variable is read-only for us either way. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
        sv->watchdog_ms = (int64_t)(usec / 1000 / 2);
}

void service_ready(void)
{
    sd_notify(0, "READY=1");
}

void service_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void service_status(const char *fmt, ...)
{
    char text[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", text);
}

void service_watchdog(struct service *sv, int64_t now_ms)
{
    if (sv->watchdog_ms <= 0 || now_ms - sv->last_ping < sv->watchdog_ms)
        return;
    sd_notify(0, "WATCHDOG=1");
    sv->last_ping = now_ms;
}

int64_t service_watchdog_wait(const struct service *sv, int64_t now_ms)
{
    int64_t left;

    if (sv->watchdog_ms <= 0)
        return -1;
    left = sv->last_ping + sv->watchdog_ms - now_ms;
    return left > 0 ? left : 0;
}
