/*
 * sqlite_audit: the append-only audit trail (triggers refuse UPDATE and
 * DELETE).
 */
#include "store/sqlite_int.h"

static int audit_insert(struct sq_store *s, const struct store_audit *a,
                        struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_AUDIT_INSERT, "audit add", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_text(&q, ":actor", a->actor);
    sq_q_text(&q, ":entity", a->entity);
    sq_q_text(&q, ":action", a->action);
    sq_q_text(&q, ":outcome", a->outcome);
    sq_q_text(&q, ":detail", a->detail);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_audit_add(struct store *st, const struct store_audit *a,
                 struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, audit_insert(s, a, e), e);
}

/* Strings point into the statement: valid until the next step. */
static void read_audit(sqlite3_stmt *stmt, struct store_audit *a)
{
    a->id = sqlite3_column_int64(stmt, AUDIT_COL_ID);
    a->at = sqlite3_column_int64(stmt, AUDIT_COL_AT);
    a->actor = sq_col_text(stmt, AUDIT_COL_ACTOR);
    a->entity = sq_col_text(stmt, AUDIT_COL_ENTITY);
    a->action = sq_col_text(stmt, AUDIT_COL_ACTION);
    a->outcome = sq_col_text(stmt, AUDIT_COL_OUTCOME);
    a->detail = sq_col_text(stmt, AUDIT_COL_DETAIL);
}

int sq_audit_list(struct store *st, const char *entity, size_t limit,
                  int (*fn)(const struct store_audit *a, void *ctx),
                  void *ctx, struct mlc_err *e)
{
    struct store_audit a;
    struct sq_q q;
    bool stop = false;
    enum sq_id id = entity != NULL ? SQ_AUDIT_LIST_ENTITY : SQ_AUDIT_LIST;
    int rc = sq_q_begin(&q, sq_of(st), id, "audit list", e);

    if (rc != MLC_OK)
        return rc;
    if (entity != NULL)
        sq_q_text(&q, ":entity", entity);
    sq_q_int(&q, ":limit", sq_limit(limit));
    while (!stop && sq_q_step(&q) == SQLITE_ROW) {
        read_audit(q.stmt, &a);
        stop = fn(&a, ctx) != 0;
    }
    return sq_q_end(&q, e);
}
