/*
 * order_flow: one BigCommerce order into JD Edwards, exactly once
 * (issue 5 §2, posting rules §3-§6). The body of the `order.sync` job
 * (key "order:<N>") and of `mlc orders show` (dry run).
 *
 * One run:
 *  1. fetch   the order with products and fees embedded (one ranged list
 *             call), its refunds (the cross-order list) and, when its sale
 *             is due, its transactions (plus one catalog call when
 *             posting.revenue_by_category is set): 3 BigCommerce calls at
 *             most, fewer per order in a batch (flow_orders_sync_batch);
 *     An order before the go-live cutover (orders.start, orders.start_id:
 *             sync/cutover.h) stops here, by its id before any call, by its
 *             creation time right after the list call: DONE, nothing looked
 *             up or posted, the skip audited once per order ("skip",
 *             "before_cutover");
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
 *
 * The run context, results and audit writer are the flows' shared ones
 * (sync/flow.h). The code: order_flow.c (decide, the documents, the batch
 * driver), order_fetch.c (step 1), order_ledger.c (step 2 and every JDE
 * lookup), order_post.c (validate and create); order_flow_int.h holds
 * what they share.
 */
#ifndef MLC_SYNC_ORDER_FLOW_H
#define MLC_SYNC_ORDER_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/jobkind.h"
#include "core/err.h"
#include "sync/flow.h"

/* The job kind and the key prefix of its resources (core/jobkind.h). */
#define FLOW_ORDER_JOB  JOB_ORDER_SYNC
#define FLOW_ORDER_KEY  JOB_KEY_ORDER

/* Runs the flow for order_id. Returns MLC_OK with *res set (e->msg holds the
 * reason of a HOLD or RETRY), or a negative code for a caller error (bad
 * arguments). report (may be NULL) receives a new JSON object describing the
 * run: order, decision, every document with its action, lines, validation
 * and JDE document number (caller decrefs). */
int flow_order_sync(const struct flow_run *r, int64_t order_id, enum flow_result *res,
                    json_t **report, struct mlc_err *e);

/* The most orders one batch takes. */
#define FLOW_BATCH_MAX 1000

/* Runs the flow for the distinct orders ids[0..n) together (n 1..
 * FLOW_BATCH_MAX), spending BigCommerce and AIS calls per batch where the
 * APIs allow it:
 *   - the orders with products and fees embedded: ranged v2 list calls
 *     (bc_orders_by_ids: one per 250 ids close together);
 *   - their refunds: one cross-order v3 list (order_id:in, paged) per 250
 *     orders;
 *   - transactions (v3 has no cross-order list): one call per order whose
 *     sale is due, none for an order with nothing to post or nothing paid;
 *   - the idempotency lookups of posting rules §3: one F0911 / F0411 query per
 *     company and document type with every key of the batch in a LIST
 *     condition (rows left in doubt and documents about to be created); an
 *     answer older than 30 s is asked again before the create.
 * Each order's steps, audit rows and result are those of flow_order_sync,
 * independent of the others: res[i] and errs[i] (may be NULL; n entries,
 * the reason of a HOLD or RETRY) belong to ids[i]. A call made for the
 * whole batch that fails makes the orders it concerned RETRY. Returns
 * MLC_OK, or MLC_EINVAL for bad arguments (a repeated id included). */
int flow_orders_sync_batch(const struct flow_run *r, const int64_t *ids, size_t n,
                           enum flow_result *res, struct mlc_err *errs, struct mlc_err *e);

struct post_doc;
struct ais_orch_in;
/* The inputs of MLC_AddJournalEntry / MLC_AddVoucher for d (posting rules
 * §1). *out: caller frees with ais_orch_in_free. */
int order_orch_inputs(const struct post_doc *d, struct ais_orch_in **out, struct mlc_err *e);

/* "order:105" -> 105; MLC_EINVAL for anything else. */
int flow_order_key_parse(const char *key, int64_t *order_id, struct mlc_err *e);

#endif
