/*
 * gauges: the /metrics series that show the present (what waits, since
 * when, the last document posted, the BigCommerce quota, the AIS session,
 * the reconcile differences), rendered from values the daemon gathered.
 *
 * Pure: the caller reads the store once (store_gauges_read, on the scrape's
 * own connection), the pacer and the AIS session, and passes the values in.
 * The reconcile count is the watermark STORE_WM_RECONCILE_DIFFERENCES
 * ("reconcile.differences"), written by the reconcile report.
 */
#ifndef MLC_DAEMON_GAUGES_H
#define MLC_DAEMON_GAUGES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/metrics.h"
#include "store/store.h"

struct gauges_in {
    const struct store_gauges *store; /* NULL: the store did not answer */
    int64_t now_ms;                   /* Unix ms, the store's clock */
    int64_t quota_left;               /* last Requests-Left, -1 unknown */
    bool    ais_up;                   /* a session token is held */
};

/* The label value of each enum store_gauge_jobs ("queued", "running", ...). */
const char *gauges_state_name(enum store_gauge_jobs s);

/* Appends the gauges to m (HELP and TYPE once per name). */
void gauges_metrics(struct metrics *m, const struct gauges_in *in);

#endif
