/*
 * pg_reports: stored reports (the daily reconciliation), one row per run;
 * the latest row of a day is that day's report.
 */
#include <string.h>

#include "store/pg_int.h"

static int report_insert(struct pg_store *s, const char *kind, const char *day,
                         const char *body, int64_t differences, int64_t *id_out,
                         struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_REPORT_ADD, "report add");
    pg_q_text(&q, day);
    pg_q_text(&q, kind);
    pg_q_int(&q, pg_now(s));
    pg_q_text(&q, body);
    pg_q_int(&q, differences);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0 && id_out != NULL)
        *id_out = pg_int(&q, 0, 0);
    pg_q_end(&q);
    return rc;
}

int pg_report_add(struct store *st, const char *kind, const char *day,
                  const char *body, int64_t differences, int64_t *id_out,
                  struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, report_insert(s, kind, day, body, differences, id_out, e), e);
}

int pg_report_latest(struct store *st, const char *kind, const char *day,
                     struct store_report *out, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    bool oom = false;
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, day != NULL ? PG_REPORT_LATEST_DAY : PG_REPORT_LATEST, "report latest");
    pg_q_text(&q, kind);
    if (day != NULL)
        pg_q_text(&q, day);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0) {
        out->id = pg_int(&q, 0, REPORT_COL_ID);
        out->day = pg_dup(&q, 0, REPORT_COL_DAY, &oom);
        out->kind = pg_dup(&q, 0, REPORT_COL_KIND, &oom);
        out->created_at = pg_int(&q, 0, REPORT_COL_CREATED_AT);
        out->body = pg_dup(&q, 0, REPORT_COL_BODY, &oom);
        out->differences = pg_int(&q, 0, REPORT_COL_DIFFERENCES);
        if (oom)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    } else if (rc == MLC_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: no %s report%s%s", kind,
                         day != NULL ? " for " : "", day != NULL ? day : "");
    }
    pg_q_end(&q);
    if (rc != MLC_OK)
        store_report_clear(out);
    return rc;
}
