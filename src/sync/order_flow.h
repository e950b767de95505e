/*
 * order_flow: one BigCommerce order into JD Edwards, exactly once
 * (issue 5 §2, jde-contract §3-§6). The body of the `order.sync` job
 * (key "order:<N>") and of `mlc orders show` (dry run).
 *
 * One run:
 *  1. fetch   the order with products and fees embedded (one ranged list
 *             call), its transactions and its refunds (plus one catalog call
 *             when posting.revenue_by_category is set): 3 BigCommerce calls;
 *  2. resolve every ledger row of the order left PENDING or UNKNOWN by an
 *             earlier attempt: looked up in JDE (F0911 / F0411 by key),
 *             adopted when found (audit "adopt"), forgotten when not;
 *  3. decide  with post_decide on the ledger's facts;
 *  4. for the sale, then each refund, then the reversal: build (pure
 *             engine), validate every account and business unit (F0901 /
 *             F0006 through the accounts cache), then the idempotent create:
 *             ledger row POSTED -> skip; otherwise look the key up in JDE
 *             (found -> adopt), write the PENDING row with the document,
 *             call the orchestration, and record POSTED with JDE's document
 *             number, batch and type. JDE refused -> row removed, HOLD with
 *             JDE's message; no answer (timeout, dropped connection,
 *             re-login) -> row UNKNOWN, RETRY: the next attempt looks the
 *             key up before it ever creates again.
 *  Every step is audited (entity "order:<N>", actor from the caller);
 *  details carry keys, document numbers, line counts and totals, never
 *  secrets. A hold stops the run; documents posted before it stay posted
 *  and are skipped by the replay.
 *
 * GL date "paid" (posting.gl_date: paid): the connector takes the time of
 * the order's first settled transaction (purchase or capture, status ok).
 * An order with no settled transaction (offline payment) has no such time:
 * the engine holds it, naming the missing date.
 *
 * Dry run: the same steps without any write (no ledger row, no audit, no
 * orchestration call); the report says what would be posted. Rows left
 * PENDING/UNKNOWN are looked up and reported, not changed.
 */
#ifndef MLC_SYNC_ORDER_FLOW_H
#define MLC_SYNC_ORDER_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"
#include "sync/env.h"

/* The job kind and the key prefix of its resources. */
#define FLOW_ORDER_JOB  "order.sync"
#define FLOW_ORDER_KEY  "order:"

enum flow_result {
    FLOW_DONE = 0, /* finished: everything due is posted (or nothing was due) */
    FLOW_RETRY,    /* try again later (transport, JDE outcome unknown, ...) */
    FLOW_HOLD      /* needs an operator: e->msg is the reason */
};

/* Called before each long step; a non-zero return (lease lost, shutdown)
 * stops the run at that safe point with FLOW_RETRY. */
typedef int (*flow_checkpoint_fn)(void *ctx, struct mlc_err *e);

struct flow_run {
    struct env              *env;
    struct store            *st;       /* ledger and audit (read only when dry) */
    const struct mlc_config *cfg;      /* posting rules (the job's current config) */
    const char              *actor;    /* audit actor: "worker:3", "cli" */
    bool                     dry_run;
    flow_checkpoint_fn       checkpoint; /* may be NULL */
    void                    *checkpoint_ctx;
    int64_t                  now;      /* Unix seconds; 0: the clock */
};

/* Runs the flow for order_id. Returns MLC_OK with *res set (e->msg holds the
 * reason of a HOLD or RETRY), or a negative code for a caller error (bad
 * arguments). report (may be NULL) receives a new JSON object describing the
 * run: order, decision, every document with its action, lines, validation
 * and JDE document number (caller decrefs). */
int flow_order_sync(const struct flow_run *r, int64_t order_id, enum flow_result *res,
                    json_t **report, struct mlc_err *e);

/* "order:105" -> 105; MLC_EINVAL for anything else. */
int flow_order_key_parse(const char *key, int64_t *order_id, struct mlc_err *e);

#endif
