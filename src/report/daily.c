#include "report/daily.h"

#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "core/jdate.h"
#include "core/log.h"
#include "core/tz.h"
#include "report/gather.h"
#include "report/reconcile.h"
#include "report/report_store.h"

#define MOD "report"

int rpt_parse_hhmm(const char *s, int *minutes)
{
    int h, m;

    if (s == NULL || strlen(s) != 5 || s[2] != ':')
        return MLC_EINVAL;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return MLC_EINVAL;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return MLC_EINVAL;
    *minutes = h * 60 + m;
    return MLC_OK;
}

bool rpt_daily_due(int64_t now_s, int offset_min, int at_min, const char *last_day,
                   char day[11])
{
    struct jdate_civil today, before;
    int32_t hhmmss = 0;

    if (jdate_unix_to_civil(now_s, offset_min, &today, &hhmmss, NULL) != MLC_OK ||
        (hhmmss / 10000) * 60 + (hhmmss / 100) % 100 < at_min ||
        jdate_civil_add_days(&today, -1, &before, NULL) != MLC_OK ||
        jdate_iso_date_format(&before, day, 11, NULL) != MLC_OK)
        return false;
    /* ISO dates compare as text. */
    return last_day == NULL || strcmp(last_day, day) < 0;
}

int rpt_daily_run(struct env *env, struct store *st, const struct mlc_config *cfg,
                  int64_t now_s, struct mlc_err *e)
{
    char last[32] = "", dstr[11];
    struct jdate_civil day;
    struct rcn_day d;
    json_t *j = NULL;
    int at, rc;

    if (rpt_parse_hhmm(cfg->report.reconcile_at, &at) != MLC_OK)
        return MLC_OK;   /* off (the loader refuses a malformed time) */
    rc = store_watermark_get(st, RPT_WM_DAILY, last, sizeof(last), e);
    if (rc != MLC_OK && rc != MLC_ENOTFOUND)
        return rc;
    if (!rpt_daily_due(now_s, tz_offset_min(now_s), at, rc == MLC_OK ? last : NULL, dstr))
        return MLC_OK;
    if ((rc = jdate_iso_date_parse(dstr, &day, e)) != MLC_OK)
        return rc;
    log_info(MOD, "daily reconciliation", LF_STR("day", dstr));
    rc = rcn_gather_day(env, st, cfg, &day, NULL, &d, e);
    if (rc == MLC_OK)
        rc = rcn_day_json(&d, &j, e);
    if (rc == MLC_OK)
        rc = rpt_store_day(st, j, e);
    if (rc == MLC_OK)
        rc = store_watermark_set(st, RPT_WM_DAILY, dstr, e);
    if (rc == MLC_OK)
        log_info(MOD, "daily reconciliation stored", LF_STR("day", dstr),
                 LF_INT("differences", rcn_json_differences(j)),
                 LF_STR("show", "mlc report show"));
    else
        mlc_err_wrap(e, "daily reconciliation of %s", dstr);
    json_decref(j);
    rcn_day_clear(&d);
    return rc;
}
