#include "sync/cutover.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/jdate.h"

bool cutover_before(const struct cfg_orders *c, int64_t order_id, int64_t created)
{
    if (c->start_id > 0 && order_id < c->start_id)
        return true;
    return created > 0 && created < c->start_s;
}

void cutover_reason(const struct cfg_orders *c, int64_t order_id, int64_t created,
                    char *buf, size_t cap)
{
    char when[JDATE_ISO8601_SIZE] = "";

    if (c->start_id > 0 && order_id < c->start_id) {
        snprintf(buf, cap, "numbered below the go-live cutover (orders.start_id %d): "
                 "never posted", c->start_id);
        return;
    }
    if (jdate_iso8601_format(created, when, sizeof(when), NULL) != MLC_OK)
        snprintf(when, sizeof(when), "%" PRId64, created);
    snprintf(buf, cap, "created %s, before the go-live cutover (orders.start %s): never posted",
             when, c->start != NULL ? c->start : "");
}

static int skip_cb(const struct store_audit *a, void *ctx)
{
    bool *yes = ctx;

    if (a->action != NULL && a->outcome != NULL && strcmp(a->action, CUTOVER_ACTION) == 0 &&
        strcmp(a->outcome, CUTOVER_OUTCOME) == 0) {
        *yes = true;
        return 1; /* found: stop */
    }
    return 0;
}

int cutover_skip_audited(struct store *st, const char *entity, bool *yes, struct mlc_err *e)
{
    *yes = false;
    return store_audit_list(st, entity, 0, skip_cb, yes, e);
}
