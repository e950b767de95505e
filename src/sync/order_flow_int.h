/*
 * order_flow_int: the private side of the order flow, shared by its four
 * files and by nothing else (the public side is order_flow.h):
 *
 *   order_flow.c    fx_            the run: the context below, decide, the
 *                                  sale / refunds / reversal, the batch driver
 *                                  and the public entry points
 *   order_fetch.c   order_fetch_   BigCommerce: orders, refunds, what the list
 *                                  did not embed, categories, transactions
 *   order_ledger.c  order_ledger_  the order's ledger rows, rows left in doubt
 *                                  settled, and the JDE existence lookups
 *                                  (one by one, or asked for a whole batch)
 *   order_post.c    order_post_    validation, then the idempotent create
 *                                  (orchestration inputs, PENDING, call,
 *                                  POSTED / forgotten / UNKNOWN)
 *
 * Every function here works on one struct fx (an order's run) owned by the
 * batch driver, on the calling thread only. Functions that return int
 * return MLC_OK, FLOW_HELD (the run holds, the reason is in e),
 * FLOW_DEFERRED (not decidable yet: x->defer_until says when to look
 * again, e why) or a negative code (retry, or pause when the run's calls
 * found the system down: flow_result_of).
 */
#ifndef MLC_SYNC_ORDER_FLOW_INT_H
#define MLC_SYNC_ORDER_FLOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/order.h"
#include "jde/ais_data.h"
#include "store/store.h"
#include "sync/order_flow.h"
#include "sync/posting.h"

/* A batched existence answer is trusted this long; older, the key is
 * looked up again right before its create (posting rules §3 wants the lookup
 * close to the create). */
#define LOOKUP_FRESH_MS 30000
/* A batch asks again for the keys of its orders still to come once its
 * answers are this old, so that they are still fresh at the creates. */
#define LOOKUP_REFRESH_MS 20000

/* The JDE header facts of a document as stored in its ledger request. */
struct docid {
    bool voucher;
    char company[6];
    char dct[3];
};

/* One key's answer from a batched existence lookup. */
struct lk_entry {
    char            key[64];
    struct docid    id;
    bool            ok;      /* answered (false: its query failed) */
    struct ais_docs docs;
};

/* The batch's existence answers (see order_ledger_prefetch); v is freed
 * by its owner, the batch driver. */
struct lk_cache {
    struct lk_entry *v;
    size_t           n;
    int64_t          at_ms;  /* monotonic time of the queries */
    int64_t          asked_ms; /* the store's clock when they were sent */
};

/* A ledger row of the order, copied out of the store's callback. */
struct lrow {
    char                   *key;
    char                   *kind;
    char                   *request;
    enum store_ledger_state state;
    int64_t                 doc_number;
    int64_t                 sent_ms;  /* when its create was sent (store clock) */
    bool                    gone;     /* forgotten (or would be, dry run) */
};

/* One order's run. Everything is owned by it (freed by fx_clear) unless
 * said borrowed. */
struct fx {
    const struct flow_run    *r;
    const struct cfg_posting *pc;
    int64_t                   order_id;
    int64_t                   now;
    char                      entity[40];
    /* What BigCommerce says (order_fetch.c). */
    struct fx_bc {
        struct order         o;
        struct order_refund *refunds;
        size_t               n_refunds;
        json_t              *refund_objs; /* this order's refunds, raw (batch) */
        bool                 found;       /* the list call returned the order */
        uint64_t             own_calls;   /* its calls of its own (not the batch's) */
    } bc;
    /* The order's ledger rows and the batch's lookups (order_ledger.c). */
    struct fx_ledger {
        struct lrow     *rows;
        size_t           n_rows;
        struct lk_cache *lk;      /* borrowed; NULL: every lookup live */
    } ledger;
    /* What is posted: from the ledger, by this run, or (dry run) would be. */
    struct fx_posted {
        bool             sale_posted, sale_doc_ok, reversal_posted;
        struct post_doc  sale;
        struct post_doc *ref_docs;
        size_t           n_ref_docs;
    } posted;
    bool                      pre_sale;/* the decision before resolve is a sale */
    json_t                   *report;  /* owned */
    json_t                   *docs;    /* borrowed from report */
    int                       rc;      /* MLC_OK while the run goes on */
    struct mlc_err            err;     /* the reason of a hold or retry */
    int64_t                   defer_until; /* FLOW_DEFERRED: again then (Unix ms) */
    enum hold_code            hold_code;   /* FLOW_HELD: why (flow_hold) */
};

/* ---- order_flow.c: the run's shared helpers ------------------------------- */

/* The run ends DONE with nothing posted: the order is before the go-live
 * cutover (fx_cutover). Positive like FLOW_HELD and FLOW_DEFERRED (flow.h),
 * distinct from both, never an MLC_E* code. */
#define FX_SKIPPED 3

/* Stops x with FX_SKIPPED when its order is before the go-live cutover
 * (sync/cutover.h), by its id, and by its creation time once fetched; the
 * skip is reported and audited once per order. */
void fx_cutover(struct fx *x);

/* One audit row under the order's entity (detail stolen). */
void fx_audit(struct fx *x, const char *action, const char *outcome, json_t *detail);
/* A new report entry for a document (borrowed: owned by the report; NULL
 * when out of memory). why may be NULL. */
json_t *fx_report_doc(struct fx *x, const char *key, const char *kind, const char *action,
                      const char *why);
/* The idempotency key of the order's document of kind k. */
void fx_key_of(const struct fx *x, enum post_kind k, int64_t refund_id, char *buf, size_t cap);
/* Ends the run of x with rc (a hold reason or an error already in x->err);
 * the first stop wins. */
void fx_stop(struct fx *x, int rc);
bool fx_alive(const struct fx *x);
/* The run waits: a create in doubt (key, sent at sent_ms) was absent from
 * JDE when asked at asked_ms, but may still land. MLC_OK when the lookup
 * was asked after its settle time (absent then counts); else FLOW_DEFERRED
 * with x->defer_until set, audited and reported. */
int fx_settled(struct fx *x, const char *key, int64_t sent_ms, int64_t asked_ms, json_t *rd,
               struct mlc_err *e);
/* Appends a posted refund's document (moved: *d is zeroed). */
int fx_push_ref_doc(struct fx *x, struct post_doc *d, struct mlc_err *e);

/* ---- order_fetch.c ---------------------------------------------------------- */

/* The BigCommerce side of the batch xs[0..n): its orders, then its refunds,
 * then what each order still lacks. A failure stops the orders it
 * concerned. Transactions come later (order_fetch_txns). */
void order_fetch_batch(const struct flow_run *r, struct fx *xs, size_t n);
/* The order's transactions, when it has something to pay or its GL date is
 * the time it became paid. */
int order_fetch_txns(struct fx *x, struct mlc_err *e);

/* ---- order_ledger.c ------------------------------------------------------- */

/* Reads the order's ledger rows into x->ledger. */
int order_ledger_read(struct fx *x, struct mlc_err *e);
void order_ledger_rows_free(struct lrow *v, size_t n);
/* The header facts of a document from its ledger request (NULL: the
 * posting config's). */
void order_ledger_docid(const struct fx *x, const char *request, struct docid *out);
/* The idempotency lookup (posting rules §3): documents in JDE with this key,
 * from the batch's fresh answer if it was asked at or after not_before (the
 * store's clock; 0: any), else asked now. *asked: when the answer used was
 * asked (the store's clock). Audited. */
int order_ledger_lookup(struct fx *x, const struct docid *id, const char *key,
                        int64_t not_before, struct ais_docs *docs, int64_t *asked,
                        struct mlc_err *e);
/* Records a document found in JDE as ours (adopted). */
int order_ledger_adopt(struct fx *x, const char *key, const struct ais_docs *docs,
                       const char *why, struct mlc_err *e);
/* Rows an earlier attempt left PENDING or UNKNOWN: found -> adopted,
 * absent -> forgotten. */
int order_ledger_resolve(struct fx *x, struct mlc_err *e);
/* x->posted from the POSTED rows (with their documents, for a reversal). */
int order_ledger_facts(struct fx *x, struct mlc_err *e);
/* The existence checks of every order of xs[0..n) alive, asked at once
 * into lk (see order_flow.h; what lk held before is dropped); failures
 * leave keys to the live lookup. */
void order_ledger_prefetch(const struct flow_run *r, struct fx *xs, size_t n,
                           struct lk_cache *lk);
/* True when lk holds answers older than LOOKUP_REFRESH_MS. */
bool order_ledger_aging(const struct lk_cache *lk);

/* ---- order_post.c --------------------------------------------------------- */

/* Validates d's accounts and business units, then posts it idempotently
 * (or, dry, says it would). MLC_OK once posted. */
int order_post_emit(struct fx *x, const struct post_doc *d, struct mlc_err *e);

#endif
