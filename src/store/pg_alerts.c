/*
 * pg_alerts: the alerts outbox (store.h), appended by producers and read
 * past a cursor by the sender.
 */
#include "store/pg_int.h"

static int alert_insert(struct pg_store *s, const char *dedupe_key, const char *reason,
                        const char *body, bool *added, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_ALERT_ADD, "alert add");
    pg_q_text(&q, dedupe_key);
    pg_q_text(&q, reason);
    pg_q_int(&q, pg_now(s));
    pg_q_text(&q, body);
    rc = pg_q_exec(&q, e);
    *added = rc == MLC_OK && q.rows > 0;
    pg_q_end(&q);
    return rc;
}

int pg_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                 const char *body, bool *added, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    *added = false;
    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, alert_insert(s, dedupe_key, reason, body, added, e), e);
}

int pg_alert_list(struct store *st, int64_t after_id, size_t limit,
                  int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                  struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct store_alert a;
    struct pg_q q;
    bool stop = false;
    int rc;

    pg_q_init(&q, s, PG_ALERT_LIST, "alert list");
    pg_q_int(&q, after_id);
    if (limit == 0 || limit > INT64_MAX)
        pg_q_text(&q, NULL);
    else
        pg_q_int(&q, (int64_t)limit);
    rc = pg_q_exec(&q, e);
    s->walking[PG_ALERT_LIST] = true;
    for (int i = 0; rc == MLC_OK && !stop && i < q.rows; i++) {
        a.id = pg_int(&q, i, ALERT_COL_ID);
        a.dedupe_key = pg_text(&q, i, ALERT_COL_DEDUPE_KEY);
        a.reason = pg_text(&q, i, ALERT_COL_REASON);
        a.created_at = pg_int(&q, i, ALERT_COL_CREATED_AT);
        a.body = pg_text(&q, i, ALERT_COL_BODY);
        stop = fn(&a, ctx) != 0;
    }
    s->walking[PG_ALERT_LIST] = false;
    pg_q_end(&q);
    return rc;
}

static int alert_delete(struct pg_store *s, int64_t upto_id, int64_t before_ms, int64_t *n,
                        struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_ALERT_PRUNE, "alert prune");
    pg_q_int(&q, upto_id);
    pg_q_int(&q, before_ms);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *n = q.rows;
    pg_q_end(&q);
    return rc;
}

int pg_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms, int64_t *n,
                   struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    *n = 0;
    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, alert_delete(s, upto_id, before_ms, n, e), e);
}
