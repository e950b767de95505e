#include "sync/flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jdate.h"
#include "core/log.h"

void flow_audit(const struct flow_run *r, const char *entity, const char *action,
                const char *outcome, json_t *detail)
{
    struct store_audit a = {
        .actor = r->actor != NULL ? r->actor : "flow",
        .entity = entity, .action = action, .outcome = outcome,
    };
    char *s = NULL;
    struct mlc_err ae;

    if (!r->dry_run) {
        s = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
        a.detail = s;
        if (store_audit_add(r->st, &a, &ae) != MLC_OK)
            log_warn("flow", "cannot write audit row", LF_STR("entity", entity),
                     LF_STR("action", action), LF_ERR(&ae));
    }
    free(s);
    json_decref(detail);
}

int flow_run_checkpoint(const struct flow_run *r, struct mlc_err *e)
{
    if (r->checkpoint == NULL || r->checkpoint(r->checkpoint_ctx, e) == 0)
        return MLC_OK;
    return e != NULL && e->code < 0 ? e->code : MLC_ESTATE;
}

/* The systems jobs pause for. */
static const char *const pause_systems[] = { "jde", "bigcommerce" };

const char *flow_pause_system(const struct flow_run *r)
{
    char sys[HEALTH_NAME_MAX];

    if (r == NULL || r->watch == NULL || r->watch->seen == 0)
        return NULL;
    health_system_of(r->watch->last, sys, sizeof(sys));
    for (size_t i = 0; i < sizeof(pause_systems) / sizeof(pause_systems[0]); i++)
        if (strcmp(sys, pause_systems[i]) == 0)
            return pause_systems[i];
    return NULL;
}

/* Codes an unreachable or refusing system produces; anything else (a bad
 * document, out of memory, a checkpoint stop) is not an outage. */
static bool outage_code(int rc)
{
    return rc == MLC_EAUTH || rc == MLC_EIO || rc == MLC_ETIMEOUT || rc == MLC_EBUSY ||
           rc == MLC_EPROTO;
}

enum flow_result flow_result_of(const struct flow_run *r, int rc)
{
    if (rc == MLC_OK)
        return FLOW_DONE;
    if (rc == FLOW_HELD)
        return FLOW_HOLD;
    if (rc == FLOW_DEFERRED)
        return FLOW_DEFER;
    if (rc < 0 && outage_code(rc) && flow_pause_system(r) != NULL)
        return FLOW_PAUSE;
    return FLOW_RETRY;
}

const char *flow_result_name(enum flow_result res)
{
    static const char *const names[] = { "done", "retry", "hold", "pause", "wait" };

    return (unsigned)res < sizeof(names) / sizeof(names[0]) ? names[res] : "retry";
}

int flow_hold(struct mlc_err *e, enum hold_code *code_out, enum hold_code code,
              const char *fmt, ...)
{
    char buf[MLC_ERR_MSG_MAX];
    va_list ap;

    if (code_out != NULL)
        *code_out = code;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mlc_err_set(e, MLC_ESTATE, "%s", buf);
    return FLOW_HELD;
}

int64_t flow_send_by(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + FLOW_SEND_WINDOW_MS;
}

int64_t flow_settle_deadline(const struct flow_run *r, int64_t sent_ms)
{
    return sent_ms + FLOW_SEND_WINDOW_MS + cfg_settle_ms(r->cfg);
}

int flow_settle(const struct flow_run *r, const char *key, int64_t sent_ms, int64_t asked_ms,
                int64_t *until, struct mlc_err *e)
{
    int64_t settle = FLOW_SEND_WINDOW_MS + cfg_settle_ms(r->cfg), now = store_now_ms(r->st);
    char sent[32], at[32];

    *until = flow_settle_deadline(r, sent_ms);
    if (asked_ms >= *until)
        return MLC_OK;
    if (now >= *until)   /* settled by now, but asked before: ask again at once */
        *until = now;
    jdate_iso8601_format(sent_ms / 1000, sent, sizeof(sent), NULL);
    jdate_iso8601_format(*until / 1000, at, sizeof(at), NULL);
    mlc_err_set(e, MLC_ESTATE, "%s: not in JD Edwards yet, but its create sent at %s may "
                "still land (settle time %lld s): looked up again at %s", key, sent,
                (long long)(settle / 1000), at);
    return FLOW_DEFERRED;
}

void flow_kco_pad(const char *co, char out[6])
{
    size_t n = co != NULL ? strlen(co) : 0;
    bool digits = n > 0 && n <= 5;

    for (size_t i = 0; digits && i < n; i++)
        digits = co[i] >= '0' && co[i] <= '9';
    if (digits)
        snprintf(out, 6, "%.*s%s", (int)(5 - n), "00000", co);
    else
        snprintf(out, 6, "%s", co != NULL ? co : "");
}

int flow_key_parse(const char *key, const char *prefix, int64_t *id, struct mlc_err *e)
{
    size_t n = strlen(prefix);
    char *end = NULL;
    long long v;

    *id = 0;
    if (key == NULL || strncmp(key, prefix, n) != 0 || key[n] < '0' || key[n] > '9')
        return mlc_err_set(e, MLC_EINVAL, "job key '%s' is not %s<id>",
                           key != NULL ? key : "", prefix);
    errno = 0;
    v = strtoll(key + n, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0' || v <= 0)
        return mlc_err_set(e, MLC_EINVAL, "job key '%s' is not %s<id>", key, prefix);
    *id = (int64_t)v;
    return MLC_OK;
}
