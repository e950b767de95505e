/*
 * sqlite_secrets: the credential rows: ciphertext blobs by name (the vault
 * encrypts; this file only stores).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

static int secret_put_tx(struct sq_store *s, const char *name,
                         const void *blob, size_t len, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_SECRET_PUT, "secret put", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_blob(&q, ":blob", blob, len);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_secret_put(struct store *st, const char *name,
                  const void *blob, size_t len, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, secret_put_tx(s, name, blob, len, e), e);
}

/* Copies the blob column into a fresh buffer (1 byte for an empty one, so
 * that success always returns non-NULL). */
static int copy_blob(sqlite3_stmt *stmt, void **blob, size_t *len,
                     struct mlc_err *e)
{
    const void *src = sqlite3_column_blob(stmt, 0);
    size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

    *blob = malloc(n > 0 ? n : 1);
    if (*blob == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    if (n > 0)
        memcpy(*blob, src, n);
    *len = n;
    return MLC_OK;
}

int sq_secret_get(struct store *st, const char *name, void **blob,
                  size_t *len, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = sq_q_begin(&q, sq_of(st), SQ_SECRET_GET, "secret get", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    if (sq_q_step(&q) == SQLITE_ROW)
        rc = copy_blob(q.stmt, blob, len, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found",
                         name);
    end = sq_q_end(&q, e);
    if (end != MLC_OK) {
        free(*blob);
        *blob = NULL;
        *len = 0;
        return end;
    }
    return rc;
}

static int secret_delete_tx(struct sq_store *s, const char *name,
                            struct mlc_err *e)
{
    struct sq_q q;
    bool deleted;
    int rc = sq_q_begin(&q, s, SQ_SECRET_DELETE, "secret delete", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    deleted = sq_q_step(&q) == SQLITE_DONE && sq_q_changes(&q) > 0;
    rc = sq_q_end(&q, e);
    if (rc == MLC_OK && !deleted)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found",
                         name);
    return rc;
}

int sq_secret_delete(struct store *st, const char *name,
                     struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, secret_delete_tx(s, name, e), e);
}

int sq_secret_list(struct store *st,
                   int (*fn)(const char *name, int64_t updated_at,
                                    void *ctx),
                   void *ctx, struct mlc_err *e)
{
    struct sq_q q;
    bool stop = false;
    int rc = sq_q_begin(&q, sq_of(st), SQ_SECRET_LIST, "secret list", e);

    if (rc != MLC_OK)
        return rc;
    while (!stop && sq_q_step(&q) == SQLITE_ROW)
        stop = fn(sq_col_text(q.stmt, SECRET_COL_NAME),
                  sqlite3_column_int64(q.stmt, SECRET_COL_UPDATED_AT),
                  ctx) != 0;
    return sq_q_end(&q, e);
}
