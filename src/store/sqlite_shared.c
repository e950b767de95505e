/*
 * sqlite_shared: shared records (store_shared_update). The read, the
 * caller's function and the write back run in one BEGIN IMMEDIATE
 * transaction: SQLite's write lock is the row lock, so two connections to
 * the file (two threads, or processes in a test) update in turn and never
 * lose each other's change.
 */
#include <string.h>

#include "store/sqlite_int.h"

/* The record's bytes into buf (*len 0 when it was never written). */
static int shared_read(struct sq_store *s, const char *name,
                       unsigned char *buf, size_t *len, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = sq_q_begin(&q, s, SQ_SHARED_GET, "shared record read", e);

    *len = 0;
    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    if (sq_q_step(&q) == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(q.stmt, 0);
        size_t n = (size_t)sqlite3_column_bytes(q.stmt, 0);

        if (n > STORE_SHARED_MAX)
            rc = mlc_err_set(e, MLC_ETOOBIG, "store: shared record %s holds %zu "
                             "bytes, over %d", name, n, STORE_SHARED_MAX);
        else if (n > 0)
            memcpy(buf, v, n);
        *len = rc == MLC_OK ? n : 0;
    }
    end = sq_q_end(&q, e);
    return end != MLC_OK ? end : rc;
}

static int shared_write(struct sq_store *s, const char *name,
                        const unsigned char *buf, size_t len,
                        struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_SHARED_PUT, "shared record write", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_blob(&q, ":value", buf, len);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

static int shared_update_tx(struct sq_store *s, const char *name,
                            store_shared_fn fn, void *ctx, struct mlc_err *e)
{
    unsigned char buf[STORE_SHARED_MAX];
    size_t len;
    int rc = shared_read(s, name, buf, &len, e);

    if (rc != MLC_OK)
        return rc;
    rc = fn(buf, &len, sizeof(buf), ctx);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "store: shared record %s: update refused (%s)",
                           name, mlc_strerror(rc));
    if (len > sizeof(buf))
        return mlc_err_set(e, MLC_ETOOBIG, "store: shared record %s: %zu bytes, "
                           "over %d", name, len, STORE_SHARED_MAX);
    return shared_write(s, name, buf, len, e);
}

int sq_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, shared_update_tx(s, name, fn, ctx, e), e);
}
