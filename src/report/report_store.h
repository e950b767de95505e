/*
 * report_store: reports kept in the store (table reports, store.h) and the
 * watermark that says how the latest reconciliation went.
 *
 * Every reconciliation of a day (the daemon's daily run or `mlc report
 * reconcile`) is stored as its JSON (rcn_day_json). In the same
 * transaction the watermark RPT_WM_DIFFERENCES is set to the differences
 * count of the latest day's latest report, so a gauge reading it shows the
 * present: re-running an older day never hides a newer day's count.
 */
#ifndef MLC_REPORT_REPORT_STORE_H
#define MLC_REPORT_REPORT_STORE_H

#include <jansson.h>

#include "core/err.h"
#include "core/jdate.h"
#include "store/store.h"

#define RPT_KIND_RECONCILE  "reconcile"
#define RPT_WM_DIFFERENCES  "reconcile.differences"

/* Stores one reconciled day (its "day" and "difference_count" are read
 * from it) and moves the watermark. */
int rpt_store_day(struct store *st, const json_t *day, struct mlc_err *e);

/* The latest stored report of kind, of day (NULL: of the latest day), as
 * JSON (*out: caller decrefs). MLC_ENOTFOUND when there is none. */
int rpt_load(struct store *st, const char *kind, const struct jdate_civil *day, json_t **out,
             struct mlc_err *e);

#endif
