/*
 * pg_shared: shared records (store_shared_update): read under a row lock
 * (SELECT ... FOR UPDATE), changed by the caller's function, written back
 * in the same short transaction. Every other process updating the record
 * waits on the row meanwhile. A record is created, empty, on first use.
 *
 * The transaction commits without waiting for its WAL flush
 * (synchronous_commit off, for it alone): the row lock is then held for
 * the statements only, not for a disk flush, which would serialize every
 * process's BigCommerce calls behind the disk. A server crash can lose the
 * last updates of a record, which is run-time state (a budget rebuilt from
 * the next answers), never a posting.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* The record's bytes into buf (at most cap); *found false when absent. */
static int shared_lock(struct pg_store *s, const char *name, void *buf,
                       size_t cap, size_t *len, bool *found, struct mlc_err *e)
{
    struct pg_q q;
    void *raw = NULL;
    size_t n = 0;
    int rc;

    *found = false;
    pg_q_init(&q, s, PG_SHARED_LOCK, "shared record");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0) {
        *found = true;
        rc = pg_bytea_copy(pg_text(&q, 0, 0), &raw, &n, e);
    }
    pg_q_end(&q);
    if (rc == MLC_OK && *found) {
        if (n > cap)
            rc = mlc_err_set(e, MLC_ETOOBIG, "store: shared record %s holds %zu "
                             "bytes, more than %zu", name, n, cap);
        else if (n > 0)
            memcpy(buf, raw, n);
        *len = n;
    }
    free(raw);
    return rc;
}

static int shared_create(struct pg_store *s, const char *name,
                         struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_SHARED_CREATE, "shared record");
    pg_q_text(&q, name);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

static int shared_write(struct pg_store *s, const char *name, const void *buf,
                        size_t len, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_SHARED_SET, "shared record");
    pg_q_text(&q, name);
    pg_q_bytea(&q, buf, len);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

static int shared_update_tx(struct pg_store *s, const char *name,
                            store_shared_fn fn, void *ctx, struct mlc_err *e)
{
    unsigned char buf[STORE_SHARED_MAX];
    size_t len = 0;
    bool found = false;
    int rc = shared_lock(s, name, buf, sizeof(buf), &len, &found, e);

    /* First use: the row, then its lock (a racing creator makes us wait). */
    if (rc == MLC_OK && !found)
        rc = shared_create(s, name, e);
    if (rc == MLC_OK && !found)
        rc = shared_lock(s, name, buf, sizeof(buf), &len, &found, e);
    if (rc != MLC_OK)
        return rc;
    rc = fn(buf, &len, sizeof(buf), ctx);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "store: shared record %s: the update was "
                           "refused (%s)", name, mlc_strerror(rc));
    if (len > sizeof(buf))
        return mlc_err_set(e, MLC_ETOOBIG, "store: shared record %s: %zu bytes, "
                           "more than %d", name, len, STORE_SHARED_MAX);
    return shared_write(s, name, buf, len, e);
}

int pg_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = pg_run(s, PG_SHARED_ASYNC, "shared record", e);
    if (rc == MLC_OK)
        rc = shared_update_tx(s, name, fn, ctx, e);
    return pg_tx_leave(s, rc, e);
}
