/*
 * sqlite_alerts: the alerts outbox (store.h), appended by producers and
 * read past a cursor by the sender.
 */
#include "store/sqlite_int.h"

static int alert_insert(struct sq_store *s, const char *dedupe_key, const char *reason,
                        const char *body, bool *added, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_ALERT_ADD, "alert add", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", dedupe_key);
    sq_q_text(&q, ":reason", reason);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_text(&q, ":body", body);
    sq_q_step(&q);
    *added = sq_q_changes(&q) > 0;
    return sq_q_end(&q, e);
}

int sq_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                 const char *body, bool *added, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    *added = false;
    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, alert_insert(s, dedupe_key, reason, body, added, e), e);
}

int sq_alert_list(struct store *st, int64_t after_id, size_t limit,
                  int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                  struct mlc_err *e)
{
    struct store_alert a;
    struct sq_q q;
    bool stop = false;
    int rc = sq_q_begin(&q, sq_of(st), SQ_ALERT_LIST, "alert list", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":after", after_id);
    sq_q_int(&q, ":limit", sq_limit(limit));
    while (!stop && sq_q_step(&q) == SQLITE_ROW) {
        a.id = sqlite3_column_int64(q.stmt, ALERT_COL_ID);
        a.dedupe_key = sq_col_text(q.stmt, ALERT_COL_DEDUPE_KEY);
        a.reason = sq_col_text(q.stmt, ALERT_COL_REASON);
        a.created_at = sqlite3_column_int64(q.stmt, ALERT_COL_CREATED_AT);
        a.body = sq_col_text(q.stmt, ALERT_COL_BODY);
        stop = fn(&a, ctx) != 0;
    }
    return sq_q_end(&q, e);
}

static int alert_delete(struct sq_store *s, int64_t upto_id, int64_t before_ms, int64_t *n,
                        struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_ALERT_PRUNE, "alert prune", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":upto", upto_id);
    sq_q_int(&q, ":before", before_ms);
    sq_q_step(&q);
    *n = sq_q_changes(&q);
    return sq_q_end(&q, e);
}

int sq_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms, int64_t *n,
                   struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    *n = 0;
    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, alert_delete(s, upto_id, before_ms, n, e), e);
}
