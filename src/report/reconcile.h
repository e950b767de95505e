/*
 * reconcile (report): the daily reconciliation's comparison, pure.
 *
 * For one day, three sides are set against each other per document key
 * (posting rules §3: <prefix><N>S, <prefix><N>R<R>, <prefix><N>C):
 *   - BigCommerce: what should have been posted (paid orders and refunds
 *     created that day), with the amount the customer paid or got back;
 *   - the ledger: what mlc posted (or tried to), with the order's job;
 *   - JDE: the documents that carry the key (F0911 lines, or the F0411
 *     gross in voucher mode), read back through AIS.
 * The gatherer (report/gather.c) fills one struct rcn_item per key; this
 * module turns them into differences, each with a reason and what to do,
 * and into totals per currency and per JDE account. No I/O, no clock.
 *
 * Differences (rcn_reason): missing in JDE (with why: not yet posted,
 * held, failed, in doubt, or lost after posting), in JDE but unknown to
 * the ledger, amount differs (BigCommerce vs the ledger, or the ledger vs
 * JDE, per account), posted twice. Unpaid orders, orders before go-live
 * and dismissed items are listed apart (rcn_info), never as differences.
 *
 * Money: int64_t minor units at each item's currency exponent; every
 * total is per currency, so amounts of different scales are never added.
 *
 * The report is rendered from its JSON form (rcn_day_json), so that a
 * stored report prints the same way as a fresh one (rcn_render_*).
 *
 * Ownership: struct rcn_day owns its items, lines, differences and totals;
 * rcn_day_clear frees them. Strings passed in are copied.
 */
#ifndef MLC_REPORT_RECONCILE_H
#define MLC_REPORT_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"

#define RCN_KEY_SIZE   26   /* JDE VINV (25) + NUL */
#define RCN_TEXT_SIZE  256
#define RCN_CUR_SIZE   8
#define RCN_ACCT_SIZE  32   /* "BU.OBJ.SUB" */

enum rcn_kind { RCN_KIND_SALE = 0, RCN_KIND_REFUND, RCN_KIND_REVERSAL };

/* What the ledger holds for a key. */
enum rcn_ledger { RCN_LEDGER_NONE = 0, RCN_LEDGER_PENDING, RCN_LEDGER_POSTED,
                  RCN_LEDGER_UNKNOWN };

/* The order's order.sync job, the latest one. */
enum rcn_job { RCN_JOB_NONE = 0, RCN_JOB_WAITING /* ready or running */, RCN_JOB_HELD,
               RCN_JOB_FAILED, RCN_JOB_DONE };

/* One amount on one JDE account (journal: debit +, credit -). */
struct rcn_line {
    struct cfg_account account;
    int64_t            amount;
};

/* One JDE document carrying the key. */
struct rcn_jdoc {
    int64_t          doc;
    char             dct[3];
    char             kco[6];
    struct rcn_line *lines;      /* journal: F0911 lines summed by account */
    size_t           n_lines;
    bool             has_gross;  /* voucher: F0411 gross */
    int64_t          gross;
};

struct rcn_item {
    char          key[RCN_KEY_SIZE];
    enum rcn_kind kind;
    int64_t       order_id;
    int64_t       refund_id;
    char          currency[RCN_CUR_SIZE];  /* "" until a side says */
    int           exponent;                /* -1 until known */

    /* BigCommerce */
    bool    bc_seen;          /* listed for the day */
    bool    bc_paid;          /* a sale: the order is in a paid status */
    bool    bc_before_golive; /* before orders.start: never the connector's */
    int64_t bc_amount;        /* sale: total_inc_tax; refund: total_amount */
    int64_t bc_status;        /* the order's status_id */

    /* dismissed by an operator (`mlc dismiss`; store_dismissal_get) */
    bool dismissed;
    char dismissed_by[64];
    char dismissed_note[RCN_TEXT_SIZE];

    /* job and ledger */
    enum rcn_job    job;
    int64_t         job_id;
    char            job_reason[RCN_TEXT_SIZE];  /* hold reason or last error */
    enum rcn_ledger ledger;
    int64_t         ledger_doc;
    bool            ledger_voucher;
    bool            ledger_has_doc;  /* the request decoded: lines below */
    struct rcn_line *ledger_lines;
    size_t          n_ledger_lines;
    int64_t         ledger_gross;    /* voucher gross (0 in journal mode) */
    int64_t         ledger_amount;   /* comparable to bc_amount (rcn_doc_amount) */

    /* JDE */
    struct rcn_jdoc *jde;
    size_t           n_jde;
};

enum rcn_reason {
    RCN_MISSING_IN_JDE = 0,   /* expected, no JDE document */
    RCN_UNKNOWN_TO_LEDGER,    /* a JDE document the ledger does not know */
    RCN_AMOUNT_DIFFERS,
    RCN_POSTED_TWICE
};

/* Why a document is missing in JDE. */
enum rcn_missing {
    RCN_MISS_NONE = 0,
    RCN_MISS_NOT_YET,     /* queued or no job yet */
    RCN_MISS_HELD,
    RCN_MISS_FAILED,
    RCN_MISS_IN_DOUBT,    /* create sent, outcome unknown */
    RCN_MISS_LOST         /* the ledger says posted, JDE has nothing */
};

enum rcn_info_kind { RCN_INFO_UNPAID = 0, RCN_INFO_BEFORE_GOLIVE, RCN_INFO_DISMISSED };

struct rcn_diff {
    enum rcn_reason  reason;
    enum rcn_missing missing;
    size_t           item;      /* index into rcn_day.items */
    char             detail[RCN_TEXT_SIZE * 2];
    char             action[RCN_TEXT_SIZE];
};

struct rcn_info {
    enum rcn_info_kind kind;
    size_t             item;
    char               detail[RCN_TEXT_SIZE * 2];
};

/* One payment total (BigCommerce side). */
struct rcn_payment {
    char    gateway[32];
    char    method[32];
    size_t  count;
    int64_t amount;
};

/* BigCommerce totals for one currency. Net sales = products ex tax minus
 * discounts; refunds are counted and totalled apart. */
struct rcn_bc_total {
    char    currency[RCN_CUR_SIZE];
    int     exponent;
    size_t  orders;
    int64_t net_sales, tax, shipping, handling, wrapping, fees, discounts, total;
    size_t  refunds;
    int64_t refunded, refunded_tax;
    struct rcn_payment *payments;
    size_t              n_payments;
};

/* One JDE account (business unit, object, subsidiary) of one currency. */
struct rcn_account_total {
    char               currency[RCN_CUR_SIZE];
    int                exponent;
    struct cfg_account account;
    char               description[31];   /* F0901 DL01, "" when unknown */
    int64_t            ledger;
    int64_t            jde;
};

/* Per currency: does each side sum to zero (journal mode)? */
struct rcn_balance {
    char    currency[RCN_CUR_SIZE];
    int     exponent;
    int64_t ledger_sum;
    int64_t jde_sum;
};

struct rcn_day {
    struct jdate_civil day;
    bool               voucher;      /* posting.mode */
    char               timezone[64];

    struct rcn_item *items;          /* sorted by key after rcn_compare */
    size_t           n_items, cap_items;
    size_t           n_sorted;       /* items[0..n_sorted) are sorted */

    struct rcn_bc_total *bc;         /* per currency */
    size_t               n_bc;

    struct rcn_diff *diffs;          /* by rcn_compare */
    size_t           n_diffs;
    struct rcn_info *infos;
    size_t           n_infos;
    struct rcn_account_total *accounts;
    size_t                    n_accounts;
    struct rcn_balance *balances;
    size_t              n_balances;
};

void rcn_day_init(struct rcn_day *d, const struct jdate_civil *day, bool voucher,
                  const char *timezone);
void rcn_day_clear(struct rcn_day *d);   /* NULL-safe; leaves it zeroed */

/* The item for key, added (zeroed, kind and ids from the key, exponent -1)
 * when new. The pointer is valid until the next call. prefix: the key
 * prefix (posting.key_prefix). MLC_EINVAL for a key that is not one of
 * ours (posting rules §3). */
int rcn_item_get(struct rcn_day *d, const char *prefix, const char *key,
                 struct rcn_item **out, struct mlc_err *e);
/* The item for key or NULL (no add). */
struct rcn_item *rcn_item_find(struct rcn_day *d, const char *key);

/* Parses a §3 key: kind, order id and refund id. */
int rcn_key_parse(const char *prefix, const char *key, enum rcn_kind *kind,
                  int64_t *order_id, int64_t *refund_id);

/* Copies lines (n) into the item's ledger or into a new JDE document. */
int rcn_item_set_ledger_lines(struct rcn_item *it, const struct rcn_line *lines, size_t n,
                              struct mlc_err *e);
int rcn_item_add_jdoc(struct rcn_item *it, int64_t doc, const char *dct, const char *kco,
                      struct rcn_jdoc **out, struct mlc_err *e);
struct post_doc;
/* The ledger side from the document mlc posted (its request): lines, gross,
 * and ledger_amount = the payment lines' sum (journal) or the gross
 * (voucher), negated for a refund so that it compares with bc_amount. Sets
 * the item's currency when not known yet. */
int rcn_item_set_ledger_doc(struct rcn_item *it, const struct post_doc *doc, struct mlc_err *e);
/* Adds amount to account in doc (lines are summed by account). */
int rcn_jdoc_add(struct rcn_jdoc *doc, const struct cfg_account *a, int64_t amount,
                 struct mlc_err *e);

/* Adds one BigCommerce total (a paid order or a refund) for currency. */
int rcn_bc_total_get(struct rcn_day *d, const char *currency, int exponent,
                     struct rcn_bc_total **out, struct mlc_err *e);
int rcn_bc_add_payment(struct rcn_bc_total *t, const char *gateway, const char *method,
                       int64_t amount, struct mlc_err *e);

/* Compares the sides of every item: fills diffs, infos, account totals and
 * balances (replacing earlier results). */
int rcn_compare(struct rcn_day *d, struct mlc_err *e);

/* Sets the description of every account total on a (after rcn_compare). */
void rcn_set_description(struct rcn_day *d, const struct cfg_account *a, const char *desc);

/* Stable names for JSON and CSV. */
const char *rcn_reason_name(enum rcn_reason r);
const char *rcn_missing_name(enum rcn_missing m);
const char *rcn_info_name(enum rcn_info_kind k);
const char *rcn_kind_name(enum rcn_kind k);

/* The day as JSON (*out: caller decrefs). Shape: docs/operations.md. */
int rcn_day_json(const struct rcn_day *d, json_t **out, struct mlc_err *e);

/* Renderers of one day's JSON (as rcn_day_json made it, or as stored). */
int rcn_render_text(const json_t *day, FILE *out, struct mlc_err *e);
/* CSV: csv_header once, then the rows of each day. RFC 4180 quoting. */
void rcn_render_csv_header(FILE *out);
int rcn_render_csv(const json_t *day, FILE *out, struct mlc_err *e);

/* The differences count of a day's JSON (0 when absent). */
int64_t rcn_json_differences(const json_t *day);

#endif
