#include "report/report_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "notify/notify.h"
#include "report/reconcile.h"

int rpt_store_day(struct store *st, const json_t *day, struct mlc_err *e)
{
    const char *d = json_string_value(json_object_get(day, "day"));
    struct store_report latest = { 0 };
    char *body = NULL, count[24];
    int64_t id = 0;
    int rc;

    if (d == NULL)
        return mlc_err_set(e, MLC_EINVAL, "report: no day");
    if ((body = json_dumps(day, JSON_COMPACT)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if ((rc = store_tx_begin(st, e)) != MLC_OK)
        goto out;
    if ((rc = store_report_add(st, RPT_KIND_RECONCILE, d, body, rcn_json_differences(day), &id,
                               e)) == MLC_OK &&
        /* Differences are an alert, committed with the report. */
        (rc = notify_reconcile(st, d, rcn_json_differences(day), id, e)) == MLC_OK &&
        (rc = store_report_latest(st, RPT_KIND_RECONCILE, NULL, &latest, e)) == MLC_OK) {
        snprintf(count, sizeof(count), "%" PRId64, latest.differences);
        rc = store_watermark_set(st, RPT_WM_DIFFERENCES, count, e);
    }
    if (rc == MLC_OK)
        rc = store_tx_commit(st, e);
    else
        store_tx_rollback(st);
out:
    store_report_clear(&latest);
    free(body);
    return rc;
}

int rpt_load(struct store *st, const char *kind, const struct jdate_civil *day, json_t **out,
             struct mlc_err *e)
{
    struct store_report r = { 0 };
    char d[16];
    int rc;

    *out = NULL;
    if (day != NULL && (rc = jdate_iso_date_format(day, d, sizeof(d), e)) != MLC_OK)
        return rc;
    if ((rc = store_report_latest(st, kind, day != NULL ? d : NULL, &r, e)) != MLC_OK)
        return rc;
    rc = jx_loads(r.body, strlen(r.body), 0, out, e);
    if (rc != MLC_OK)
        mlc_err_wrap(e, "stored %s report %" PRId64, kind, r.id);
    store_report_clear(&r);
    return rc;
}
