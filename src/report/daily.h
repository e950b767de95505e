/*
 * daily (report): the daemon's daily reconciliation (report.reconcile_at).
 *
 * A leader singleton task looks every RPT_DAILY_CHECK_S seconds whether
 * the run is due: once the local time (posting.timezone) has passed
 * reconcile_at, the day before is reconciled (report/gather.h), stored
 * with rpt_store_day (which also moves the watermark
 * reconcile.differences), and the watermark RPT_WM_DAILY set to that day,
 * so that it runs once per day whatever the process or restarts. A failed
 * run (a system down) is tried again at the next look. A day the daemon
 * missed altogether (it was stopped over the hour and the whole next day)
 * is not caught up: `mlc report reconcile --day D` reports it.
 */
#ifndef MLC_REPORT_DAILY_H
#define MLC_REPORT_DAILY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct env;

#define RPT_WM_DAILY      "reconcile.daily"
#define RPT_DAILY_CHECK_S 300

/* "HH:MM" -> minutes after midnight; MLC_EINVAL when malformed. */
int rpt_parse_hhmm(const char *s, int *minutes);

/* Whether the daily run is due at now_s (Unix seconds) for a zone at
 * offset_min, with the run at at_min minutes after local midnight and
 * last_day ("YYYY-MM-DD" or NULL/"") the day last reconciled by it. When
 * due, day ("YYYY-MM-DD", 11 bytes) is the local day before now. Pure. */
bool rpt_daily_due(int64_t now_s, int offset_min, int at_min, const char *last_day,
                   char day[11]);

/* The task: reconciles and stores the day before when due (see above). */
int rpt_daily_run(struct env *env, struct store *st, const struct mlc_config *cfg,
                  int64_t now_s, struct mlc_err *e);

#endif
