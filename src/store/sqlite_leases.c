/*
 * sqlite_leases: named leases with fencing tokens (store.h). One SQLite
 * file has one daemon (store_lock), so these matter mostly to the CLI and to
 * tests; every write transaction is exclusive, which makes the check's
 * "no takeover until this transaction ends" hold by itself.
 */
#include <string.h>

#include "store/sqlite_int.h"

static int lease_take_tx(struct sq_store *s, const char *name,
                         const char *holder, int64_t ttl_ms, int64_t *token,
                         struct mlc_err *e)
{
    struct sq_q q;
    int64_t now = sq_now(s);
    int end, rc = sq_q_begin(&q, s, SQ_LEASE_TAKE, "lease take", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_text(&q, ":holder", holder);
    sq_q_int(&q, ":until", ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms);
    sq_q_int(&q, ":now", now);
    if (sq_q_step(&q) == SQLITE_ROW)
        *token = sqlite3_column_int64(q.stmt, 0);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_EBUSY, "store: lease %s is held by another "
                         "process", name);
    end = sq_q_end(&q, e);
    return end != MLC_OK ? end : rc;
}

int sq_lease_take(struct store *st, const char *name, const char *holder,
                  int64_t ttl_ms, int64_t *token, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, lease_take_tx(s, name, holder, ttl_ms, token, e), e);
}

int sq_lease_check(struct store *st, const char *name, const char *holder,
                   int64_t token, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = sq_q_begin(&q, sq_of(st), SQ_LEASE_CHECK, "lease check", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_text(&q, ":holder", holder);
    sq_q_int(&q, ":token", token);
    if (sq_q_step(&q) == SQLITE_ROW && sqlite3_column_int64(q.stmt, 0) == 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: lease %s lost (token %lld is "
                         "no longer %s's)", name, (long long)token, holder);
    end = sq_q_end(&q, e);
    return end != MLC_OK ? end : rc;
}

static int lease_drop_tx(struct sq_store *s, const char *name,
                         const char *holder, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_LEASE_DROP, "lease drop", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_text(&q, ":holder", holder);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_lease_drop(struct store *st, const char *name, const char *holder,
                  struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, lease_drop_tx(s, name, holder, e), e);
}

int sq_lease_get(struct store *st, const char *name, struct store_lease *out,
                 struct mlc_err *e)
{
    struct sq_q q;
    bool oom = false;
    int end, rc = sq_q_begin(&q, sq_of(st), SQ_LEASE_GET, "lease get", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    if (sq_q_step(&q) == SQLITE_ROW) {
        out->name = sq_col_dup(q.stmt, LEASE_COL_NAME, &oom);
        out->holder = sq_col_dup(q.stmt, LEASE_COL_HOLDER, &oom);
        out->until = sqlite3_column_int64(q.stmt, LEASE_COL_UNTIL);
        out->token = sqlite3_column_int64(q.stmt, LEASE_COL_TOKEN);
        if (oom)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    } else if (q.rc == SQLITE_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: lease %s never taken", name);
    }
    end = sq_q_end(&q, e);
    if (end != MLC_OK || rc != MLC_OK)
        store_lease_clear(out);
    return end != MLC_OK ? end : rc;
}

static int lease_forget_tx(struct sq_store *s, const char *name, struct mlc_err *e)
{
    struct sq_q q;
    int live = 0, rc = sq_q_begin(&q, s, SQ_LEASE_FORGET, "lease forget", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    if (q.rc == SQLITE_OK)
        live = sq_q_changes(&q) == 0;
    if ((rc = sq_q_end(&q, e)) != MLC_OK || !live)
        return rc;
    /* Nothing deleted: absent (fine) or still held (refused). */
    if ((rc = sq_q_begin(&q, s, SQ_LEASE_EXISTS, "lease forget", e)) != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    if (sq_q_step(&q) == SQLITE_ROW && sqlite3_column_int64(q.stmt, 0) > 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: lease %s is still held", name);
    live = sq_q_end(&q, e);
    return live != MLC_OK ? live : rc;
}

int sq_lease_forget(struct store *st, const char *name, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, lease_forget_tx(s, name, e), e);
}

int sq_lease_list(struct store *st, const char *prefix,
                  int (*fn)(const struct store_lease *l, void *ctx), void *ctx,
                  struct mlc_err *e)
{
    struct sq_q q;
    int end, stop = 0, rc = sq_q_begin(&q, sq_of(st), SQ_LEASE_LIST, "lease list", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":prefix", prefix);
    while (stop == 0 && sq_q_step(&q) == SQLITE_ROW) {
        struct store_lease l = {
            .name = (char *)sq_col_text(q.stmt, LEASE_COL_NAME),
            .holder = (char *)sq_col_text(q.stmt, LEASE_COL_HOLDER),
            .until = sqlite3_column_int64(q.stmt, LEASE_COL_UNTIL),
            .token = sqlite3_column_int64(q.stmt, LEASE_COL_TOKEN),
        };

        stop = fn(&l, ctx);
    }
    end = sq_q_end(&q, e);
    return end != MLC_OK ? end : stop;
}
