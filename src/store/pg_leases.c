/*
 * pg_leases: named leases with fencing tokens (store.h). A take is one
 * upsert: concurrent takes queue on the row and each sees the winner's
 * holder. A check reads the row FOR SHARE, so a takeover (an update of
 * that row) waits until the checking transaction has committed its writes.
 */
#include <string.h>

#include "store/pg_int.h"

static int lease_take_tx(struct pg_store *s, const char *name,
                         const char *holder, int64_t ttl_ms, int64_t *token,
                         struct mlc_err *e)
{
    struct pg_q q;
    int64_t now = pg_now(s);
    int rc;

    pg_q_init(&q, s, PG_LEASE_TAKE, "lease take");
    pg_q_text(&q, name);
    pg_q_text(&q, holder);
    pg_q_int(&q, ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms);
    pg_q_int(&q, now);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0)
        *token = pg_int(&q, 0, 0);
    else if (rc == MLC_OK)
        rc = mlc_err_set(e, MLC_EBUSY, "store: lease %s is held by another "
                         "process", name);
    pg_q_end(&q);
    return rc;
}

int pg_lease_take(struct store *st, const char *name, const char *holder,
                  int64_t ttl_ms, int64_t *token, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, lease_take_tx(s, name, holder, ttl_ms, token, e), e);
}

int pg_lease_check(struct store *st, const char *name, const char *holder,
                   int64_t token, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_LEASE_CHECK, "lease check");
    pg_q_text(&q, name);
    pg_q_text(&q, holder);
    pg_q_int(&q, token);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: lease %s lost (token %lld is "
                         "no longer %s's)", name, (long long)token, holder);
    pg_q_end(&q);
    return rc;
}

static int lease_drop_tx(struct pg_store *s, const char *name,
                         const char *holder, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_LEASE_DROP, "lease drop");
    pg_q_text(&q, name);
    pg_q_text(&q, holder);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_lease_drop(struct store *st, const char *name, const char *holder,
                  struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, lease_drop_tx(s, name, holder, e), e);
}

int pg_lease_get(struct store *st, const char *name, struct store_lease *out,
                 struct mlc_err *e)
{
    struct pg_q q;
    bool oom = false;
    int rc;

    pg_q_init(&q, pg_of(st), PG_LEASE_GET, "lease get");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0) {
        out->name = pg_dup(&q, 0, LEASE_COL_NAME, &oom);
        out->holder = pg_dup(&q, 0, LEASE_COL_HOLDER, &oom);
        out->until = pg_int(&q, 0, LEASE_COL_UNTIL);
        out->token = pg_int(&q, 0, LEASE_COL_TOKEN);
        if (oom)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    } else if (rc == MLC_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: lease %s never taken", name);
    }
    pg_q_end(&q);
    if (rc != MLC_OK)
        store_lease_clear(out);
    return rc;
}

static int lease_forget_tx(struct pg_store *s, const char *name, struct mlc_err *e)
{
    struct pg_q q;
    int rc;
    bool deleted;

    pg_q_init(&q, s, PG_LEASE_FORGET, "lease forget");
    pg_q_text(&q, name);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    deleted = q.rows > 0;
    pg_q_end(&q);
    if (rc != MLC_OK || deleted)
        return rc;
    /* Nothing deleted: absent (fine) or still held (refused). */
    pg_q_init(&q, s, PG_LEASE_EXISTS, "lease forget");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0 && pg_int(&q, 0, 0) > 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: lease %s is still held", name);
    pg_q_end(&q);
    return rc;
}

int pg_lease_forget(struct store *st, const char *name, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, lease_forget_tx(s, name, e), e);
}

int pg_lease_list(struct store *st, const char *prefix,
                  int (*fn)(const struct store_lease *l, void *ctx), void *ctx,
                  struct mlc_err *e)
{
    struct pg_q q;
    int stop = 0, rc;

    pg_q_init(&q, pg_of(st), PG_LEASE_LIST, "lease list");
    pg_q_text(&q, prefix);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && stop == 0 && i < q.rows; i++) {
        struct store_lease l = {
            .name = (char *)pg_text(&q, i, LEASE_COL_NAME),
            .holder = pg_null(&q, i, LEASE_COL_HOLDER)
                      ? NULL : (char *)pg_text(&q, i, LEASE_COL_HOLDER),
            .until = pg_int(&q, i, LEASE_COL_UNTIL),
            .token = pg_int(&q, i, LEASE_COL_TOKEN),
        };

        stop = fn(&l, ctx);
    }
    pg_q_end(&q);
    return rc != MLC_OK ? rc : stop;
}
