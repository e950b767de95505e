/*
 * reconcile: the sweep that catches what webhooks missed.
 *
 * Every schedule.reconcile_interval, recon_sweep lists
 *  - orders modified since the watermark RECON_WM_ORDERS minus
 *    schedule.reconcile_overlap (GET /v2/orders?min_date_modified, 250 per
 *    page, no line items: id, status_id and date_modified are enough), and
 *  - refunds across orders created since RECON_WM_REFUNDS minus the overlap
 *    (GET /v3/orders/payment_actions/refunds?created:min),
 * and enqueues order.sync (key "order:<id>", coalesced) only for what the
 * ledger does not reflect yet (recon_order_needs_sync, and a refund whose
 * key has no POSTED row while the order is not reversed). An order whose
 * order.sync job is HELD is skipped: it waits for a fix and a replay, and
 * another job would only be held again. So is an order with a job READY
 * or RUNNING when the sweep began that was enqueued more than the overlap
 * after the change listed (in_flight): that job fetches the order after
 * the change, even if it runs and ends while the sweep reads (a backlog
 * queued by `mlc sync orders` and drained by several processes is not
 * fetched twice by the first sweep).
 *
 * Everything is read before anything is written; then one transaction
 * enqueues the jobs, moves both watermarks (ISO 8601 UTC text of the newest
 * date_modified / created seen; never backwards) and adds the summary audit
 * row (actor "scheduler", entity "reconcile", action "sweep"). A crash or a
 * BigCommerce error anywhere leaves the watermarks where they were, so the
 * next sweep reads the same window again.
 *
 * The overlap covers clock skew and listing delays; orders re-read inside it
 * cost nothing more than a ledger lookup when posted, and coalesce with a
 * waiting job when not. Sorting by id (the default) keeps paging stable
 * while orders change during a sweep: a change only adds orders to the
 * filtered set, and an order changed mid-sweep is newer than the watermark.
 *
 * The go-live cutover (orders.start, sync/cutover.h) bounds both windows
 * from below: the first sweep (no watermark) starts exactly at the cutover,
 * with no look-back, and no later window reaches before it. Older history
 * is never the sweep's: `mlc sync orders` backfills, deliberately. An order
 * created before the cutover but changed after it (a staff note) still
 * shows up in the window: it is enqueued once, so that the order flow
 * audits its skip, and counted as before_cutover (no job) once that skip is
 * in its audit trail; the same for a refund of such an order. An order
 * with a ledger row is the connector's whatever its date (cutover.h).
 */
#ifndef MLC_SYNC_RECONCILE_H
#define MLC_SYNC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"
#include "core/jobkind.h"
#include "store/store.h"

struct bc_client;

#define RECON_WM_ORDERS        "recon.orders"
#define RECON_WM_REFUNDS       "recon.refunds"
#define RECON_JOB_KIND         JOB_ORDER_SYNC
/* Guard against a runaway list: a sweep that sees more orders (or refunds)
 * fails with MLC_ETOOBIG and moves nothing; such a backlog is a job for
 * `mlc sync orders` (an operator decision, hence no silent truncation). */
#define RECON_MAX_ITEMS        1000000

struct recon_stats {
    size_t orders_seen;
    size_t refunds_seen;
    size_t reflected;     /* already reflected by the ledger (or nothing to post) */
    size_t held_skipped;  /* order.sync job held: left for the operator */
    size_t in_flight;     /* a ready or running job enqueued after the change sees it */
    size_t before_cutover; /* before the go-live cutover, skip already audited */
    size_t enqueued;      /* new jobs */
    size_t coalesced;     /* a job was already waiting */
    char   orders_since[JDATE_ISO8601_SIZE];    /* window start used */
    char   refunds_since[JDATE_ISO8601_SIZE];
    char   orders_watermark[JDATE_ISO8601_SIZE];  /* after the sweep */
    char   refunds_watermark[JDATE_ISO8601_SIZE];
};

/* Whether an order in status status_id needs an order.sync run, given what
 * the ledger holds: a paid order without a POSTED sale, a cancelled one
 * whose sale is POSTED without a POSTED reversal, and the other cases
 * post_decide would hold (which a run makes visible). Pure. */
bool recon_order_needs_sync(int64_t status_id, bool sale_posted, bool reversal_posted,
                            const struct cfg_posting *cfg);

/* One sweep (see above). now_ms: Unix milliseconds; while the cutover is
 * still ahead of it (before go-live) the sweep reads nothing. */
int recon_sweep(struct bc_client *bc, struct store *st, const struct mlc_config *cfg,
                int64_t now_ms, struct recon_stats *out, struct mlc_err *e);

#endif
