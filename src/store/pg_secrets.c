/*
 * pg_secrets: the credential rows: ciphertext blobs by name (the vault
 * encrypts; this file only stores). Blobs go in as binary parameters and
 * come back in BYTEA's text form, decoded here.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

static int secret_put_tx(struct pg_store *s, const char *name,
                         const void *blob, size_t len, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_SECRET_PUT, "secret put");
    pg_q_text(&q, name);
    pg_q_bytea(&q, blob, len);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_secret_put(struct store *st, const char *name, const void *blob,
                  size_t len, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, secret_put_tx(s, name, blob, len, e), e);
}

/* BYTEA text ("\x0102...") into a fresh malloc'd buffer (1 byte for an
 * empty one, so that success always returns non-NULL). */
int pg_bytea_copy(const char *text, void **out, size_t *len, struct mlc_err *e)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)(text != NULL ? text : ""),
                                         &n);

    if (raw == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    *out = malloc(n > 0 ? n : 1);
    if (*out != NULL && n > 0)
        memcpy(*out, raw, n);
    PQfreemem(raw);
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    *len = n;
    return MLC_OK;
}

int pg_secret_get(struct store *st, const char *name, void **blob,
                  size_t *len, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_SECRET_GET, "secret get");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0)
        rc = pg_bytea_copy(pg_text(&q, 0, 0), blob, len, e);
    else if (rc == MLC_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found", name);
    pg_q_end(&q);
    return rc;
}

static int secret_delete_tx(struct pg_store *s, const char *name,
                            struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_SECRET_DELETE, "secret delete");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found", name);
    pg_q_end(&q);
    return rc;
}

int pg_secret_delete(struct store *st, const char *name, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, secret_delete_tx(s, name, e), e);
}

int pg_secret_list(struct store *st,
                   int (*fn)(const char *name, int64_t updated_at, void *ctx),
                   void *ctx, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct pg_q q;
    bool stop = false;
    int rc;

    pg_q_init(&q, s, PG_SECRET_LIST, "secret list");
    rc = pg_q_exec(&q, e);
    s->walking[PG_SECRET_LIST] = true;
    for (int i = 0; rc == MLC_OK && !stop && i < q.rows; i++)
        stop = fn(pg_text(&q, i, SECRET_COL_NAME),
                  pg_int(&q, i, SECRET_COL_UPDATED_AT), ctx) != 0;
    s->walking[PG_SECRET_LIST] = false;
    pg_q_end(&q);
    return rc;
}
