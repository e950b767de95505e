/*
 * gather (report): the three sides of one day of the reconciliation,
 * read from BigCommerce, the store and JDE, then compared (reconcile.h).
 *
 * The day runs from local midnight to local midnight in posting.timezone
 * (the process zone, core/tz.h).
 *   - BigCommerce: the v2 orders created in the day (with line items and
 *     fees, 250 a page) and the v3 refunds created in the day, both paged
 *     through the shared request pacer. A refund of an order of another
 *     day costs one more order read (for its currency), once per order.
 *     Payments are totalled by the order header's provider and method.
 *   - The ledger: the rows of each order seen (its sale, its refunds of
 *     the day, its reversal), with their posted documents decoded; and the
 *     live order.sync jobs (ready, running, held, failed), for why a
 *     document is missing.
 *   - JDE: F0911 lines (journal mode) or F0411 gross (voucher mode) of
 *     every key above, in LIST queries of AIS_EXISTS_CHUNK keys, plus the
 *     documents of the day (GL date) whose reference starts with the key
 *     prefix and that the ledger has never heard of. F0901 gives the
 *     account descriptions.
 * Nothing is written anywhere.
 */
#ifndef MLC_REPORT_GATHER_H
#define MLC_REPORT_GATHER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"
#include "report/reconcile.h"
#include "store/store.h"

struct env;

struct rcn_gather_opts {
    /* Progress (may be NULL): a stage name and how many so far. */
    void (*progress)(void *ctx, const char *stage, size_t n);
    void            *progress_ctx;
};

/* Gathers and compares day into *out (initialised here; the caller clears
 * it with rcn_day_clear, also on error). o may be NULL. */
int rcn_gather_day(struct env *env, struct store *st, const struct mlc_config *cfg,
                   const struct jdate_civil *day, const struct rcn_gather_opts *o,
                   struct rcn_day *out, struct mlc_err *e);

#endif
