/*
 * pg_audit: the append-only audit trail (a trigger refuses UPDATE, DELETE
 * and TRUNCATE; the mlc role is granted only SELECT and INSERT).
 */
#include <stdint.h>

#include "store/pg_int.h"

static int audit_insert(struct pg_store *s, const struct store_audit *a,
                        struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_AUDIT_INSERT, "audit add");
    pg_q_int(&q, pg_now(s));
    pg_q_text(&q, a->actor);
    pg_q_text(&q, a->entity);
    pg_q_text(&q, a->action);
    pg_q_text(&q, a->outcome);
    pg_q_text(&q, a->detail);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_audit_add(struct store *st, const struct store_audit *a,
                 struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, audit_insert(s, a, e), e);
}

/* Strings point into the result: valid during the callback. */
static void read_audit(const struct pg_q *q, int row, struct store_audit *a)
{
    a->id = pg_int(q, row, AUDIT_COL_ID);
    a->at = pg_int(q, row, AUDIT_COL_AT);
    a->actor = pg_text(q, row, AUDIT_COL_ACTOR);
    a->entity = pg_text(q, row, AUDIT_COL_ENTITY);
    a->action = pg_text(q, row, AUDIT_COL_ACTION);
    a->outcome = pg_text(q, row, AUDIT_COL_OUTCOME);
    a->detail = pg_text(q, row, AUDIT_COL_DETAIL);
}

int pg_audit_list(struct store *st, const char *entity, size_t limit,
                  int (*fn)(const struct store_audit *a, void *ctx),
                  void *ctx, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    enum pg_id id = entity != NULL ? PG_AUDIT_LIST_ENTITY : PG_AUDIT_LIST;
    struct store_audit a;
    struct pg_q q;
    bool stop = false;
    int rc;

    pg_q_init(&q, s, id, "audit list");
    if (entity != NULL)
        pg_q_text(&q, entity);
    if (limit == 0 || limit > INT64_MAX)
        pg_q_text(&q, NULL);
    else
        pg_q_int(&q, (int64_t)limit);
    rc = pg_q_exec(&q, e);
    s->walking[id] = true;
    for (int i = 0; rc == MLC_OK && !stop && i < q.rows; i++) {
        read_audit(&q, i, &a);
        stop = fn(&a, ctx) != 0;
    }
    s->walking[id] = false;
    pg_q_end(&q);
    return rc;
}
