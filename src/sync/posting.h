/*
 * posting: the pure posting engine. A BigCommerce sale (core/order.h) and
 * the posting configuration in, one balanced JD Edwards document out.
 *
 * This module is the accounting core of the product and implements
 * the posting rules §3-§6 (docs/posting-rules.md):
 *   §3 idempotency keys   <prefix><N>S, <prefix><N>R<refund id>, <prefix><N>C
 *   §4 the sale           one line per account; rounding within tolerance
 *   §4 status rules       post_decide
 *   §4 cancellation       the reversal: the negation of sale + refunds
 *   §5 refunds            payments, tax, remaining split over the items
 *   §6 voucher mode       gross = payment lines, distribution = the rest
 *
 * It is pure: no I/O, no clock, no store, no network. "Now" and "paid at"
 * are inputs (struct post_opts), as is the store's UTC offset.
 *
 * Results: MLC_OK with *out filled (caller frees with post_doc_clear);
 * POST_HELD with hold->reason naming what to fix (nothing in *out); or
 * POST_EMPTY when the document would have no lines (a zero-value order).
 * A negative MLC_E* code is a caller error (products not loaded, a refund
 * of another order) or a broken invariant: the engine checks, as a
 * postcondition, that a journal sums to exactly 0 and a voucher's
 * distribution to exactly its gross, and returns MLC_ESTATE rather than an
 * unbalanced document. No partial document is ever returned.
 *
 * Amounts are int64_t minor units of the order currency; debit positive,
 * credit negative (journal). Nothing here uses floating point.
 */
#ifndef MLC_SYNC_POSTING_H
#define MLC_SYNC_POSTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/holdcode.h"
#include "core/err.h"
#include "core/jdate.h"
#include "core/order.h"

/* Positive results (never errors). */
#define POST_HELD  1   /* held: see post_hold.reason */
#define POST_EMPTY 2   /* nothing to post: every line is zero */

#define POST_KEY_MAX   25   /* JDE VINV */
#define POST_TEXT_MAX  30   /* EXA, EXR, RMK */
#define POST_HOLD_MAX  512

enum post_kind { POST_KIND_SALE = 0, POST_KIND_REFUND, POST_KIND_REVERSAL };

/* What a line is for. Revenue-type roles take the channel / default
 * business unit, balance-sheet roles (tax, payment, unmatched) the
 * balance-sheet business unit (§4). */
enum post_role {
    POST_ROLE_REVENUE = 0,
    POST_ROLE_DISCOUNT,
    POST_ROLE_SHIPPING,
    POST_ROLE_HANDLING,
    POST_ROLE_WRAPPING,
    POST_ROLE_FEES,
    POST_ROLE_TAX,
    POST_ROLE_PAYMENT,
    POST_ROLE_UNMATCHED,
    POST_ROLE_ROUNDING
};

struct post_line {
    struct cfg_account account;   /* as posted: BU already chosen (§4) */
    int64_t            amount;    /* journal: debit +, credit -; voucher: distribution */
    char               remark[POST_TEXT_MAX + 1];
    enum post_role     role;      /* of the first amount summed into the line */
};

/* One JDE document. Journal: lines sum to 0. Voucher: lines are the GL
 * distribution and sum to gross; the payment lines are JDE's AP offset. */
struct post_doc {
    enum post_kind     kind;
    enum cfg_post_mode mode;
    char               key[POST_KEY_MAX + 1];     /* Reference / InvoiceNumber (§3) */
    int64_t            order_id;
    int64_t            refund_id;                 /* refunds only */
    char               company[6];                /* KCO */
    char               doc_type[3];               /* DCT: journal's, "PV" for vouchers */
    char               ledger_type[3];            /* LT */
    struct jdate_civil gl_date;                   /* also a voucher's InvoiceDate */
    char               explanation[POST_TEXT_MAX + 1];
    char               currency[ORDER_CUR_SIZE];
    int                exponent;
    int64_t            gross;                     /* voucher GrossAmount; 0 in journal mode */
    char               supplier[9];               /* voucher AN8; "" in journal mode */
    struct post_line  *lines;                     /* owned */
    size_t             n_lines;
};

struct post_hold {
    char           reason[POST_HOLD_MAX]; /* every problem found, "; "-separated */
    enum hold_code code;   /* the most specific problem's code (HOLD_OTHER: none) */
};

/* Inputs the engine never reads from a clock. */
struct post_opts {
    int     utc_offset_min;  /* the store's time zone (posting.timezone) as a fixed offset */
    int64_t now;             /* Unix seconds: gl_date = posting, refunds without a date */
    int64_t paid_at;         /* Unix seconds the order became paid: gl_date = paid */
    bool    strict_sku;      /* hold a product that neither the SKU nor the category map
                                names, instead of posting it to default revenue (no config
                                key yet: see the report of issue 5) */
};

/* §4: the business unit a line of role is posted in. Balance-sheet roles
 * (tax, payment, unmatched) take posting.balance_sheet_bu; the others
 * channel_bu (the order channel's posting.bu_by_channel value, NULL when
 * the channel has none), else posting.default_bu. NULL when that setting
 * is not set: the line keeps its account's own business unit. *key (may
 * be NULL) receives the configuration key that chose it, NULL with it. */
const char *post_line_bu(const struct cfg_posting *cfg, enum post_role role,
                         const char *channel_bu, const char **key);

/* ---- decisions (§4 status rules) -------------------------------------- */

enum post_action {
    POST_ACT_NOTHING = 0,  /* post nothing (audit the why) */
    POST_ACT_SALE,         /* build and post the sale */
    POST_ACT_REVERSAL,     /* build and post the reversal */
    POST_ACT_REFUND,       /* build and post the refund */
    POST_ACT_HOLD          /* hold for review with the why */
};

/* What the ledger already knows about the order. */
struct post_facts {
    bool sale_posted;
    bool sale_held;
    bool reversal_posted;
};

struct post_decision {
    enum post_action action;
    const char      *why;   /* static text for the audit trail */
};

/* "Paid" per §4: status_id in posting.paid_statuses, or Refunded (4) /
 * Partially Refunded (14), which were paid. */
bool post_is_paid(int64_t status_id, const struct cfg_posting *cfg);

/* What to do with an order's sale in status status_id. */
struct post_decision post_decide(int64_t status_id, const struct post_facts *f,
                                 const struct cfg_posting *cfg);
/* What to do with one of its refunds not yet posted (§5: held with a held
 * sale; after the sale; never after a reversal). */
struct post_decision post_decide_refund(const struct post_facts *f);

/* ---- documents ------------------------------------------------------- */

/* The idempotency key of §3 into buf (POST_KEY_MAX + 1 fits any key that
 * JDE accepts): MLC_ETOOBIG when longer than POST_KEY_MAX. */
int post_key(const char *prefix, int64_t order_id, enum post_kind kind, int64_t refund_id,
             char *buf, size_t cap);

/* §4 (journal) or §6 (voucher) sale of o. o must have products, fees and
 * transactions loaded (have_* set; MLC_EINVAL otherwise). */
int post_sale(const struct order *o, const struct cfg_posting *cfg,
              const struct post_opts *opts, struct post_doc *out,
              struct post_hold *hold, struct mlc_err *e);

/* §5 (and §6) offsetting entry of refund r of order o. */
int post_refund(const struct order *o, const struct order_refund *r,
                const struct cfg_posting *cfg, const struct post_opts *opts,
                struct post_doc *out, struct post_hold *hold, struct mlc_err *e);

/* §4 reversal of o's posted sale and its n posted refunds (all in the
 * configured mode): their lines summed by account and negated, so that the
 * order nets to zero. GL date: the order's date_modified. */
int post_reversal(const struct order *o, const struct post_doc *sale,
                  const struct post_doc *refunds, size_t n,
                  const struct cfg_posting *cfg, const struct post_opts *opts,
                  struct post_doc *out, struct post_hold *hold, struct mlc_err *e);

/* The balance postcondition, for documents built here or read back from
 * the ledger: lines non-zero with distinct accounts, a journal summing to 0,
 * a voucher's distribution summing to its gross. MLC_ESTATE otherwise. */
int post_doc_check(const struct post_doc *d, struct mlc_err *e);

/* Σ of the lines (journal: 0; voucher: gross), MLC_ERANGE on overflow. */
int post_doc_total(const struct post_doc *d, int64_t *out, struct mlc_err *e);

/* Frees the lines and zeroes d (NULL-safe). */
void post_doc_clear(struct post_doc *d);

/* The distinct accounts and business units a document uses, sorted, for
 * the F0901 / F0006 checks before posting. Caller frees with
 * post_refs_clear. */
struct post_refs {
    struct cfg_account *accounts;
    size_t              n_accounts;
    char              (*bus)[13];
    size_t              n_bus;
};
int post_doc_refs(const struct post_doc *d, struct post_refs *out, struct mlc_err *e);
void post_refs_clear(struct post_refs *r);

/* JSON rendering for the ledger and `mlc orders show` (amounts as decimal
 * strings at the currency's exponent; *out owned by the caller, json_decref),
 * and its inverse, which also runs post_doc_check. */
int post_doc_to_json(const struct post_doc *d, json_t **out, struct mlc_err *e);
int post_doc_from_json(const json_t *j, struct post_doc *out, struct mlc_err *e);

const char *post_kind_name(enum post_kind k);
const char *post_role_name(enum post_role r);

#endif
