/*
 * pg_ledger: one row per document sent to JDE (pending, unknown, posted).
 * A posted row is never changed or forgotten. Every write locks its row
 * first, and under a fence (store_fence) locks the entity's RUNNING job
 * FOR SHARE in the same transaction: a takeover of that job waits for the
 * write to commit, and a write after a takeover finds no job of its owner.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

static int read_ledger(const struct pg_q *q, int row, struct store_ledger *l,
                       struct mlc_err *e)
{
    bool oom = false;

    l->key = pg_dup(q, row, LEDGER_COL_KEY, &oom);
    l->kind = pg_dup(q, row, LEDGER_COL_KIND, &oom);
    l->entity = pg_dup(q, row, LEDGER_COL_ENTITY, &oom);
    l->doc_type = pg_dup(q, row, LEDGER_COL_DOC_TYPE, &oom);
    l->doc_company = pg_dup(q, row, LEDGER_COL_DOC_COMPANY, &oom);
    l->doc_number = pg_int(q, row, LEDGER_COL_DOC_NUMBER);
    l->batch = pg_int(q, row, LEDGER_COL_BATCH);
    l->request = pg_dup(q, row, LEDGER_COL_REQUEST, &oom);
    l->created_at = pg_int(q, row, LEDGER_COL_CREATED_AT);
    l->updated_at = pg_int(q, row, LEDGER_COL_UPDATED_AT);
    if (oom) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_ledger_state_parse(pg_text(q, row, LEDGER_COL_STATE),
                                 &l->state) != MLC_OK) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_EIO, "store: ledger row has an unknown state");
    }
    return MLC_OK;
}

int pg_ledger_get(struct store *st, const char *key, struct store_ledger *out,
                  struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_LEDGER_GET, "ledger get");
    pg_q_text(&q, key);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0)
        rc = read_ledger(&q, 0, out, e);
    else if (rc == MLC_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found", key);
    pg_q_end(&q);
    return rc;
}

/* The fence of store_fence: MLC_OK when no fence is set, or a RUNNING job
 * whose key is entity is leased to the fence's owner (and now locked). */
static int ledger_fenced(struct pg_store *s, const char *entity,
                         struct mlc_err *e)
{
    const char *owner = s->base.fence_owner;
    struct pg_q q;
    int rc;

    if (owner == NULL)
        return MLC_OK;
    pg_q_init(&q, s, PG_JOB_FENCE, "ledger fence");
    pg_q_text(&q, entity);
    pg_q_text(&q, owner);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: lease lost: the job of %s is no "
                         "longer held by %s; the ledger was not written",
                         entity, owner);
    pg_q_end(&q);
    return rc;
}

static int ledger_insert(struct pg_store *s, const char *key, const char *kind,
                         const char *entity, const char *request,
                         struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_LEDGER_INSERT, "ledger begin");
    pg_q_text(&q, key);
    pg_q_text(&q, kind);
    pg_q_text(&q, entity);
    pg_q_text(&q, request);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_EEXIST, "store: ledger key %s already exists", key);
    pg_q_end(&q);
    return rc;
}

int pg_ledger_begin(struct store *st, const char *key, const char *kind,
                    const char *entity, const char *request,
                    struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_fenced(s, entity, e);
    if (rc == MLC_OK)
        rc = ledger_insert(s, key, kind, entity, request, e);
    return pg_tx_leave(s, rc, e);
}

/* Locks key's row; MLC_OK when it exists, the fence holds and it is not
 * POSTED: a document number, once known, is never overwritten or
 * forgotten. */
static int ledger_check_open(struct pg_store *s, const char *key,
                             struct mlc_err *e)
{
    enum store_ledger_state state = STORE_LEDGER_PENDING;
    struct pg_q q;
    char *entity = NULL;
    int rc;

    pg_q_init(&q, s, PG_LEDGER_LOCK, "ledger update");
    pg_q_text(&q, key);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found", key);
    } else if (rc == MLC_OK) {
        store_ledger_state_parse(pg_text(&q, 0, 0), &state);
        if ((entity = strdup(pg_text(&q, 0, 1))) == NULL)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    pg_q_end(&q);
    if (rc == MLC_OK)
        rc = ledger_fenced(s, entity, e);
    if (rc == MLC_OK && state == STORE_LEDGER_POSTED)
        rc = mlc_err_set(e, MLC_ESTATE, "store: ledger key %s is already posted",
                         key);
    free(entity);
    return rc;
}

/* Runs one key-bound ledger statement after ledger_check_open. */
static int ledger_update(struct pg_store *s, enum pg_id id, const char *key,
                         struct mlc_err *e)
{
    struct pg_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, id, "ledger update");
    pg_q_text(&q, key);
    if (id == PG_LEDGER_UNKNOWN)
        pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_ledger_mark_unknown(struct store *st, const char *key,
                           struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, ledger_update(s, PG_LEDGER_UNKNOWN, key, e), e);
}

int pg_ledger_forget(struct store *st, const char *key, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, ledger_update(s, PG_LEDGER_DELETE, key, e), e);
}

static int ledger_posted_tx(struct pg_store *s, const char *key,
                            const char *doc_type, const char *doc_company,
                            int64_t doc_number, int64_t batch,
                            struct mlc_err *e)
{
    struct pg_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, PG_LEDGER_POSTED, "ledger mark posted");
    pg_q_text(&q, key);
    pg_q_text(&q, doc_type);
    pg_q_text(&q, doc_company);
    pg_q_int(&q, doc_number);
    pg_q_int(&q, batch);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_ledger_mark_posted(struct store *st, const char *key,
                          const char *doc_type, const char *doc_company,
                          int64_t doc_number, int64_t batch,
                          struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_posted_tx(s, key, doc_type, doc_company, doc_number, batch, e);
    return pg_tx_leave(s, rc, e);
}

int pg_ledger_list(struct store *st, const char *entity,
                   int (*fn)(const struct store_ledger *l, void *ctx),
                   void *ctx, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    enum pg_id id = entity != NULL ? PG_LEDGER_LIST_ENTITY : PG_LEDGER_LIST;
    struct store_ledger l;
    struct pg_q q;
    bool stop = false;
    int rc;

    pg_q_init(&q, s, id, "ledger list");
    if (entity != NULL)
        pg_q_text(&q, entity);
    rc = pg_q_exec(&q, e);
    s->walking[id] = true;
    for (int i = 0; rc == MLC_OK && !stop && i < q.rows; i++) {
        memset(&l, 0, sizeof(l));
        rc = read_ledger(&q, i, &l, e);
        if (rc == MLC_OK)
            stop = fn(&l, ctx) != 0;
        store_ledger_clear(&l);
    }
    s->walking[id] = false;
    pg_q_end(&q);
    return rc;
}
