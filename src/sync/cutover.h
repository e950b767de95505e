/*
 * cutover: the go-live cutover (orders.start, orders.start_id; issue 8 §4).
 *
 * An order created before orders.start, or numbered below orders.start_id
 * when that is set, belongs to the time before go-live: the clerk keyed it
 * into JD Edwards by hand. Nothing of it is ever posted, neither its sale
 * nor its refunds nor a reversal, whatever asks for it (a webhook, the
 * reconcile sweep, a replay, a backfill). The order flow ends such a run
 * DONE without any JDE call and audits the skip once per order (entity
 * "order:<id>", action CUTOVER_ACTION, outcome CUTOVER_OUTCOME); the sweep
 * and `mlc sync orders` do not reach back before the cutover at all.
 *
 * The one exception: an order that already has a ledger row is the
 * connector's, whatever its date (orders.start was moved later after the
 * connector posted it). Its refunds and reversal go on, so that JDE never
 * holds half of an order.
 *
 * Stateless; safe from any thread.
 */
#ifndef MLC_SYNC_CUTOVER_H
#define MLC_SYNC_CUTOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

#define CUTOVER_ACTION  "skip"
#define CUTOVER_OUTCOME "before_cutover"

/* Whether an order is before the cutover: created before c->start_s, or
 * its id below c->start_id (when set). created <= 0 (not known yet): the
 * id alone decides. Pure. */
bool cutover_before(const struct cfg_orders *c, int64_t order_id, int64_t created);

/* Why such an order is not posted, one line for the audit, the report and
 * `mlc orders show`: "created 2019-06-01T09:00:00Z, before the go-live
 * cutover (orders.start 2020-01-01T00:00:00Z): never posted". */
void cutover_reason(const struct cfg_orders *c, int64_t order_id, int64_t created,
                    char *buf, size_t cap);

/* Whether the audit trail of entity ("order:<id>") already records the
 * skip (an indexed read of that order's rows). */
int cutover_skip_audited(struct store *st, const char *entity, bool *yes, struct mlc_err *e);

#endif
