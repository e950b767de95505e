/*
 * sqlite_reports: stored reports (the daily reconciliation), one row per
 * run; the latest row of a day is that day's report.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

static int report_insert(struct sq_store *s, const char *kind, const char *day,
                         const char *body, int64_t differences, int64_t *id_out,
                         struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_REPORT_ADD, "report add", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":day", day);
    sq_q_text(&q, ":kind", kind);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_text(&q, ":body", body);
    sq_q_int(&q, ":differences", differences);
    if (sq_q_step(&q) == SQLITE_ROW && id_out != NULL)
        *id_out = sqlite3_column_int64(q.stmt, 0);
    return sq_q_end(&q, e);
}

int sq_report_add(struct store *st, const char *kind, const char *day,
                  const char *body, int64_t differences, int64_t *id_out,
                  struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, report_insert(s, kind, day, body, differences, id_out, e), e);
}

static char *dup_col(sqlite3_stmt *stmt, int i, bool *oom)
{
    const char *v = sq_col_text(stmt, i);
    char *d = strdup(v != NULL ? v : "");

    *oom = *oom || d == NULL;
    return d;
}

int sq_report_latest(struct store *st, const char *kind, const char *day,
                     struct store_report *out, struct mlc_err *e)
{
    enum sq_id id = day != NULL ? SQ_REPORT_LATEST_DAY : SQ_REPORT_LATEST;
    bool oom = false;
    struct sq_q q;
    int end, rc = sq_q_begin(&q, sq_of(st), id, "report latest", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":kind", kind);
    if (day != NULL)
        sq_q_text(&q, ":day", day);
    if (sq_q_step(&q) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(q.stmt, REPORT_COL_ID);
        out->day = dup_col(q.stmt, REPORT_COL_DAY, &oom);
        out->kind = dup_col(q.stmt, REPORT_COL_KIND, &oom);
        out->created_at = sqlite3_column_int64(q.stmt, REPORT_COL_CREATED_AT);
        out->body = dup_col(q.stmt, REPORT_COL_BODY, &oom);
        out->differences = sqlite3_column_int64(q.stmt, REPORT_COL_DIFFERENCES);
        if (oom)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    } else if (q.rc == SQLITE_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: no %s report%s%s", kind,
                         day != NULL ? " for " : "", day != NULL ? day : "");
    }
    end = sq_q_end(&q, e);
    if (rc != MLC_OK || end != MLC_OK)
        store_report_clear(out);
    return end != MLC_OK ? end : rc;
}
