/*
 * migrate: copy and checksum of whole tables through the public store API
 * (see migrate.h for the canonical row encoding).
 */
#include "store/migrate.h"

#include <string.h>

#include <sodium.h>

/* ---- checksums --------------------------------------------------------- */

struct sum_ctx {
    crypto_hash_sha256_state h;
    int64_t                  rows;
};

static void put_int(crypto_hash_sha256_state *h, int64_t v)
{
    unsigned char b[9];
    uint64_t u = (uint64_t)v;

    b[0] = 'I';
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    crypto_hash_sha256_update(h, b, sizeof(b));
}

/* Bytes with their length; NULL (whatever len) is 'N'. */
static void put_bytes(crypto_hash_sha256_state *h, const void *p, size_t len)
{
    unsigned char b[9];
    uint64_t u = (uint64_t)len;

    if (p == NULL) {
        crypto_hash_sha256_update(h, (const unsigned char *)"N", 1);
        return;
    }
    b[0] = 'S';
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    crypto_hash_sha256_update(h, b, sizeof(b));
    if (len > 0)
        crypto_hash_sha256_update(h, p, len);
}

static void put_str(crypto_hash_sha256_state *h, const char *s)
{
    put_bytes(h, s, s != NULL ? strlen(s) : 0);
}

static void put_event(crypto_hash_sha256_state *h,
                      const struct store_event_row *v)
{
    put_int(h, v->id);
    put_str(h, v->source);
    put_str(h, v->dedupe_key);
    put_str(h, v->kind);
    put_str(h, v->resource);
    put_str(h, v->payload);
    put_int(h, v->received_at);
}

static void put_job(crypto_hash_sha256_state *h, const struct store_job *j)
{
    put_int(h, j->id);
    put_str(h, j->kind);
    put_str(h, j->key);
    put_str(h, j->payload);
    put_str(h, store_job_state_name(j->state));
    put_int(h, j->attempts);
    put_int(h, j->run_at);
    put_str(h, j->owner);
    put_int(h, j->lease_until);
    put_str(h, j->last_error);
    put_int(h, j->created_at);
    put_int(h, j->updated_at);
    put_str(h, j->paused_on);
    put_str(h, j->hold_code);
    put_int(h, j->hold_amount);
    put_str(h, j->hold_currency);
    put_int(h, j->dismissed_at);
    put_str(h, j->dismissed_by);
    put_str(h, j->dismiss_note);
}

static void put_ledger(crypto_hash_sha256_state *h,
                       const struct store_ledger *l)
{
    put_str(h, l->key);
    put_str(h, l->kind);
    put_str(h, l->entity);
    put_str(h, store_ledger_state_name(l->state));
    put_str(h, l->doc_type);
    put_str(h, l->doc_company);
    put_int(h, l->doc_number);
    put_int(h, l->batch);
    put_str(h, l->request);
    put_int(h, l->created_at);
    put_int(h, l->updated_at);
}

static void put_audit(crypto_hash_sha256_state *h, const struct store_audit *a)
{
    put_int(h, a->id);
    put_int(h, a->at);
    put_str(h, a->actor);
    put_str(h, a->entity);
    put_str(h, a->action);
    put_str(h, a->outcome);
    put_str(h, a->detail);
}

static int sum_row(const struct store_row *r, void *vctx)
{
    struct sum_ctx *c = vctx;
    crypto_hash_sha256_state *h = &c->h;

    crypto_hash_sha256_update(h, (const unsigned char *)"R", 1);
    switch (r->table) {
    case STORE_TABLE_EVENTS: put_event(h, &r->u.event); break;
    case STORE_TABLE_JOBS: put_job(h, &r->u.job); break;
    case STORE_TABLE_LEDGER: put_ledger(h, &r->u.ledger); break;
    case STORE_TABLE_AUDIT: put_audit(h, &r->u.audit); break;
    case STORE_TABLE_WATERMARKS:
        put_str(h, r->u.watermark.name);
        put_str(h, r->u.watermark.value);
        put_int(h, r->u.watermark.updated_at);
        break;
    case STORE_TABLE_SECRETS:
        put_str(h, r->u.secret.name);
        /* A blob is never NULL: a backend may hand an empty one as NULL. */
        put_bytes(h, r->u.secret.blob != NULL ? r->u.secret.blob : "",
                  r->u.secret.len);
        put_int(h, r->u.secret.updated_at);
        break;
    case STORE_TABLE_REPORTS:
        put_int(h, r->u.report.id);
        put_str(h, r->u.report.day);
        put_str(h, r->u.report.kind);
        put_int(h, r->u.report.created_at);
        put_str(h, r->u.report.body);
        put_int(h, r->u.report.differences);
        break;
    case STORE_TABLE_ALERTS:
        put_int(h, r->u.alert.id);
        put_str(h, r->u.alert.dedupe_key);
        put_str(h, r->u.alert.reason);
        put_int(h, r->u.alert.created_at);
        put_str(h, r->u.alert.body);
        break;
    case STORE_TABLE_COUNT: break;
    }
    c->rows++;
    return 0;
}

int migrate_sum_table(struct store *st, enum store_table t,
                      struct migrate_sum *out, struct mlc_err *e)
{
    struct sum_ctx c;
    int rc;

    memset(out, 0, sizeof(*out));
    c.rows = 0;
    crypto_hash_sha256_init(&c.h);
    rc = store_export(st, t, sum_row, &c, e);
    if (rc != MLC_OK)
        return rc;
    out->rows = c.rows;
    crypto_hash_sha256_final(&c.h, out->sha256);
    return MLC_OK;
}

bool migrate_sum_equal(const struct migrate_sum *a,
                       const struct migrate_sum *b)
{
    return a->rows == b->rows &&
           memcmp(a->sha256, b->sha256, sizeof(a->sha256)) == 0;
}

void migrate_sum_hex(const struct migrate_sum *s, char out[MIGRATE_SHA256_HEX])
{
    sodium_bin2hex(out, MIGRATE_SHA256_HEX, s->sha256, sizeof(s->sha256));
}

/* ---- is the target empty? ---------------------------------------------- */

static int stop_at_first(const struct store_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return 1;
}

int migrate_first_nonempty(struct store *st, enum store_table *out,
                           struct mlc_err *e)
{
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        bool any = false;
        int rc = store_export(st, (enum store_table)t, stop_at_first, &any, e);

        if (rc < 0)
            return rc;
        if (any) {
            *out = (enum store_table)t;
            return MLC_OK;
        }
    }
    *out = STORE_TABLE_COUNT;
    return MLC_OK;
}

/* ---- copy -------------------------------------------------------------- */

struct copy_ctx {
    struct store       *dst;
    enum store_table    table;
    size_t              batch;
    size_t              in_tx;   /* rows imported in the open transaction */
    bool                open;    /* a transaction of dst is open */
    int64_t             copied;  /* rows committed */
    migrate_progress_fn progress;
    void               *pctx;
    int                 rc;      /* the first failure, MLC_OK until then */
    struct mlc_err     *e;
};

static int copy_commit(struct copy_ctx *c)
{
    int rc = store_tx_commit(c->dst, c->e);

    c->open = false;
    if (rc != MLC_OK)
        return rc;
    c->copied += (int64_t)c->in_tx;
    c->in_tx = 0;
    if (c->progress != NULL)
        c->progress(c->table, c->copied, c->pctx);
    return MLC_OK;
}

static int copy_row(const struct store_row *r, void *vctx)
{
    struct copy_ctx *c = vctx;
    int rc = MLC_OK;

    if (!c->open) {
        rc = store_tx_begin(c->dst, c->e);
        c->open = rc == MLC_OK;
    }
    if (rc == MLC_OK)
        rc = store_import(c->dst, r, c->e);
    if (rc == MLC_OK && ++c->in_tx >= c->batch)
        rc = copy_commit(c);
    c->rc = rc;
    return rc != MLC_OK;
}

int migrate_copy_table(struct store *src, struct store *dst,
                       enum store_table t, size_t batch,
                       migrate_progress_fn progress, void *ctx,
                       int64_t *copied, struct mlc_err *e)
{
    struct copy_ctx c = {
        .dst = dst, .table = t,
        .batch = batch > 0 ? batch : MIGRATE_BATCH_DEFAULT,
        .progress = progress, .pctx = ctx, .rc = MLC_OK, .e = e,
    };
    int rc = store_export(src, t, copy_row, &c, e);

    if (rc < 0 && c.rc == MLC_OK)
        c.rc = rc;
    if (c.rc == MLC_OK && c.open)
        c.rc = copy_commit(&c);
    if (c.open)
        store_tx_rollback(dst);
    *copied = c.copied;
    if (c.rc != MLC_OK)
        mlc_err_wrap(e, "%s: after %lld rows copied", store_table_name(t),
                     (long long)c.copied);
    return c.rc;
}
