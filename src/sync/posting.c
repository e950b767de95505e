/*
 * posting: the pure posting engine (see posting.h; rules in
 * docs/posting-rules.md §3-§6).
 *
 * Every document is built the same way: a builder collects lines through
 * put(), which picks the business unit (§4), sums amounts on the same
 * account and records a hold reason when an account is missing; the
 * rule functions (one per contract rule) only say which amount goes to
 * which configured account; finish() turns the lines into a journal or a
 * voucher (§6), refuses anything held, overflowed or empty, and checks the
 * balance postcondition before handing the document out.
 */
#include "sync/posting.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/money.h"

/* ---- names ------------------------------------------------------------- */

static const char *const kind_names[] = { "sale", "refund", "reversal" };
static const char *const role_names[] = {
    "revenue", "discount", "shipping", "handling", "wrapping", "fees",
    "tax", "payment", "unmatched", "rounding"
};
/* Remark of each role's line (≤ 30 with the " refund" suffix). */
static const char *const role_remarks[] = {
    "Sales", "Discounts", "Shipping", "Handling", "Gift wrapping", "Fees",
    "Sales tax", "Payment", "Unmatched payment", "Rounding"
};

#define N_ROLES (sizeof(role_names) / sizeof(role_names[0]))

const char *post_kind_name(enum post_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

const char *post_role_name(enum post_role r)
{
    return (unsigned)r < N_ROLES ? role_names[r] : "?";
}

/* Balance-sheet roles (§4): payments, unmatched and tax. */
static bool role_is_balance_sheet(enum post_role r)
{
    return r == POST_ROLE_TAX || r == POST_ROLE_PAYMENT || r == POST_ROLE_UNMATCHED;
}

/* The clearing side, which JDE's AP offset takes in voucher mode (§6). */
static bool role_is_payment(enum post_role r)
{
    return r == POST_ROLE_PAYMENT || r == POST_ROLE_UNMATCHED;
}

static bool acct_eq(const struct cfg_account *a, const struct cfg_account *b)
{
    return strcmp(a->bu, b->bu) == 0 && strcmp(a->obj, b->obj) == 0 &&
           strcmp(a->sub, b->sub) == 0;
}

/* ---- the builder ------------------------------------------------------- */

struct bline {
    struct post_line l;
    bool             pay;   /* payment class: kept apart for §6 */
};

struct bld {
    const struct order       *o;
    const struct cfg_posting *cfg;
    struct post_opts          opts;
    struct mlc_err           *e;
    enum post_kind            kind;
    int                       exp;        /* for amounts in messages */
    char                      ctx[64];    /* "order 105", prefixes the hold reason */
    struct post_hold          hold;
    bool                      held, overflow, nomem;
    struct bline             *v;
    size_t                    n, cap;
};

static void bld_init(struct bld *b, const struct order *o, const struct cfg_posting *cfg,
                     const struct post_opts *opts, enum post_kind kind, struct mlc_err *e)
{
    memset(b, 0, sizeof(*b));
    b->o = o;
    b->cfg = cfg;
    if (opts != NULL)
        b->opts = *opts;
    b->e = e;
    b->kind = kind;
    b->exp = o->exponent;
    snprintf(b->ctx, sizeof(b->ctx), "order %lld", (long long)o->id);
}

static void bld_free(struct bld *b)
{
    free(b->v);
    b->v = NULL;
    b->n = b->cap = 0;
}

/* Appends one problem to the hold reason; the first one is prefixed with
 * the order (and refund). Building goes on, so that the reason lists every
 * mapping to fix at once. */
__attribute__((format(printf, 2, 3)))
static void hold_on(struct bld *b, const char *fmt, ...)
{
    char msg[POST_HOLD_MAX];
    size_t len = strlen(b->hold.reason);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (len == 0)
        snprintf(b->hold.reason, sizeof(b->hold.reason), "%s: %s", b->ctx, msg);
    else if (strstr(b->hold.reason, msg) == NULL) /* one line per distinct problem */
        snprintf(b->hold.reason + len, sizeof(b->hold.reason) - len, "; %s", msg);
    b->held = true;
}

/* An amount for messages ("105.00"); buf has MONEY_FMT_MAX bytes. */
static const char *amt(const struct bld *b, int64_t v, char *buf)
{
    if (money_format(v, b->exp >= 0 ? b->exp : 0, buf, MONEY_FMT_MAX) != MLC_OK)
        snprintf(buf, MONEY_FMT_MAX, "%lld minor units", (long long)v);
    return buf;
}

static int64_t add_ck(struct bld *b, int64_t x, int64_t y)
{
    int64_t r;

    if (__builtin_add_overflow(x, y, &r)) {
        b->overflow = true;
        return 0;
    }
    return r;
}

static int64_t neg_ck(struct bld *b, int64_t x)
{
    if (x == INT64_MIN) {
        b->overflow = true;
        return 0;
    }
    return -x;
}

static int64_t sub_ck(struct bld *b, int64_t x, int64_t y)
{
    return add_ck(b, x, neg_ck(b, y));
}

/* ---- configuration look-ups -------------------------------------------- */

static int cmp_amap(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cfg_account_map *)elem)->match);
}

static int cmp_smap(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cfg_str_map *)elem)->match);
}

/* Maps are sorted by match (config.h), so bsearch them. */
static const struct cfg_account *amap(const struct cfg_account_map *m, size_t n,
                                      const char *key)
{
    const struct cfg_account_map *hit;

    if (m == NULL || n == 0 || key == NULL || key[0] == '\0')
        return NULL;
    hit = bsearch(key, m, n, sizeof(*m), cmp_amap);
    return hit != NULL ? &hit->account : NULL;
}

static const char *smap(const struct cfg_str_map *m, size_t n, const char *key)
{
    const struct cfg_str_map *hit;

    if (m == NULL || n == 0 || key == NULL || key[0] == '\0')
        return NULL;
    hit = bsearch(key, m, n, sizeof(*m), cmp_smap);
    return hit != NULL ? hit->value : NULL;
}

const char *post_line_bu(const struct cfg_posting *cfg, enum post_role role,
                         const char *channel_bu, const char **key)
{
    const char *bu, *k;

    if (role_is_balance_sheet(role)) {
        bu = cfg->balance_sheet_bu;
        k = "posting.balance_sheet_bu";
    } else if (channel_bu != NULL && channel_bu[0] != '\0') {
        bu = channel_bu;
        k = "posting.bu_by_channel";
    } else {
        bu = cfg->default_bu;
        k = "posting.default_bu";
    }
    if (bu == NULL || bu[0] == '\0')
        bu = k = NULL;
    if (key != NULL)
        *key = k;
    return bu;
}

/* §4: the account as posted: revenue-type lines in the channel / default
 * business unit, balance-sheet lines in balance_sheet_bu; where that is
 * not configured, the account's own business unit. */
static struct cfg_account posted_account(const struct bld *b, enum post_role role,
                                         const struct cfg_account *a)
{
    struct cfg_account r = *a;
    const char *bu;
    char ch[24];

    snprintf(ch, sizeof(ch), "%lld", (long long)b->o->channel_id);
    bu = post_line_bu(b->cfg, role,
                      smap(b->cfg->bu_by_channel, b->cfg->n_bu_by_channel, ch), NULL);
    if (bu != NULL)
        snprintf(r.bu, sizeof(r.bu), "%s", bu);
    return r;
}

/* ---- collecting lines ------------------------------------------------- */

static void remark_for(const struct bld *b, enum post_role role, const char *detail,
                       char *buf, size_t cap)
{
    const char *base = role_remarks[role];

    if (detail != NULL && detail[0] != '\0')
        snprintf(buf, cap, "%s %s", b->kind == POST_KIND_REFUND ? "Refund" : base, detail);
    else
        snprintf(buf, cap, "%s%s", base, b->kind == POST_KIND_REFUND ? " refund" : "");
}

/* Adds amount to the line of (account, class), creating it (§4: lines with
 * the same account are summed). */
static void put_posted(struct bld *b, enum post_role role, const struct cfg_account *a,
                       int64_t amount, const char *remark, bool pay)
{
    struct bline *nv;

    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].pay == pay && acct_eq(&b->v[i].l.account, a)) {
            b->v[i].l.amount = add_ck(b, b->v[i].l.amount, amount);
            return;
        }
    }
    if (b->n == b->cap) {
        size_t ncap = b->cap != 0 ? b->cap * 2 : 16;
        if ((nv = realloc(b->v, ncap * sizeof(*nv))) == NULL) {
            b->nomem = true;
            return;
        }
        b->v = nv;
        b->cap = ncap;
    }
    memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
    b->v[b->n].l.account = *a;
    b->v[b->n].l.amount = amount;
    b->v[b->n].l.role = role;
    b->v[b->n].pay = pay;
    snprintf(b->v[b->n].l.remark, sizeof(b->v[b->n].l.remark), "%s", remark);
    b->n++;
}

/* One rule's amount on a configured account. key names the setting for
 * the hold reason when the account is not configured; zero amounts are
 * omitted (§4) and so never need their account. */
static void put(struct bld *b, enum post_role role, const struct cfg_account *acct,
                const char *key, int64_t amount, const char *detail)
{
    char remark[POST_TEXT_MAX + 1], a1[MONEY_FMT_MAX];
    struct cfg_account a;

    if (amount == 0 || acct == NULL)
        return;
    if (acct->bu[0] == '\0') {
        b->hold.code = HOLD_ACCOUNT_MISSING;
        hold_on(b, "%s is not set (needed for %s %s)", key, role_names[role],
                amt(b, amount, a1));
        return;
    }
    a = posted_account(b, role, acct);
    remark_for(b, role, detail, remark, sizeof(remark));
    put_posted(b, role, &a, amount, remark, role_is_payment(role));
}

/* Σ of every line collected so far (journal sense). */
static int64_t lines_sum(struct bld *b)
{
    int64_t s = 0;

    for (size_t i = 0; i < b->n; i++)
        s = add_ck(b, s, b->v[i].l.amount);
    return s;
}

/* ---- account rules ----------------------------------------------------- */

/* §4 revenue by category: the mapped category with the lowest id, so that
 * a product in several mapped categories always lands on the same account. */
static const struct cfg_account *category_account(const struct bld *b,
                                                  const struct order_product *p)
{
    const struct cfg_account *best = NULL;
    int64_t best_id = 0;
    char key[24];

    for (size_t i = 0; i < p->n_category_ids; i++) {
        const struct cfg_account *a;
        snprintf(key, sizeof(key), "%lld", (long long)p->category_ids[i]);
        a = amap(b->cfg->revenue_by_category, b->cfg->n_revenue_by_category, key);
        if (a != NULL && (best == NULL || p->category_ids[i] < best_id)) {
            best = a;
            best_id = p->category_ids[i];
        }
    }
    return best;
}

/* §4 revenue account of a product: SKU map, else category map, else the
 * default revenue account (or a hold under strict SKU mapping). */
static const struct cfg_account *revenue_account(struct bld *b, const struct order_product *p,
                                                 const char **key)
{
    const struct cfg_account *a;

    *key = "posting.revenue_by_sku";
    if ((a = amap(b->cfg->revenue_by_sku, b->cfg->n_revenue_by_sku, p->sku)) != NULL)
        return a;
    *key = "posting.revenue_by_category";
    if ((a = category_account(b, p)) != NULL)
        return a;
    if (b->opts.strict_sku) {
        b->hold.code = HOLD_UNMAPPED_SKU;
        hold_on(b, "product %lld (SKU \"%s\") is in neither posting.revenue_by_sku nor, "
                "by category, posting.revenue_by_category (strict SKU mapping)",
                (long long)p->id, p->sku != NULL ? p->sku : "");
        return NULL;
    }
    *key = "posting.accounts.revenue";
    return &b->cfg->accounts.revenue;
}

/* §4 unmatched payments: the order's payment_method map, else the default
 * clearing account. */
static const struct cfg_account *unmatched_account(const struct bld *b, const char **key)
{
    const struct cfg_account *a;

    *key = "posting.clearing_by_method";
    a = amap(b->cfg->clearing_by_method, b->cfg->n_clearing_by_method, b->o->payment_method);
    if (a != NULL)
        return a;
    *key = "posting.accounts.clearing";
    return &b->cfg->accounts.clearing;
}

/* §4 payments: gift certificate and store credit are liabilities; a card
 * gateway goes to its clearing account; an unmapped gateway as unmatched. */
static const struct cfg_account *tender_account(const struct bld *b, enum order_tender t,
                                                const char *gateway, const char **key)
{
    const struct cfg_account *a;

    if (t == ORDER_TENDER_GIFT_CERTIFICATE) {
        *key = "posting.accounts.gift_certificate";
        return &b->cfg->accounts.gift_certificate;
    }
    if (t == ORDER_TENDER_STORE_CREDIT) {
        *key = "posting.accounts.store_credit";
        return &b->cfg->accounts.store_credit;
    }
    *key = "posting.clearing_by_gateway";
    a = amap(b->cfg->clearing_by_gateway, b->cfg->n_clearing_by_gateway, gateway);
    return a != NULL ? a : unmatched_account(b, key);
}

/* §6 supplier: by the gateway, else the default supplier. */
static const char *supplier_for(struct bld *b, const char *gateway)
{
    const char *s = smap(b->cfg->supplier_by_gateway, b->cfg->n_supplier_by_gateway, gateway);

    if (s == NULL)
        s = b->cfg->default_supplier;
    if (s == NULL || s[0] == '\0') {
        b->hold.code = HOLD_VOUCHER_SUPPLIER;
        hold_on(b, "posting.default_supplier is not set (needed in voucher mode)");
    }
    return s != NULL ? s : "";
}

/* ---- the document header ---------------------------------------------- */

/* GL date: the local day of instant t in the store's fixed UTC offset. */
static void gl_date(struct bld *b, int64_t t, const char *what, struct jdate_civil *out)
{
    struct mlc_err me;

    memset(out, 0, sizeof(*out));
    if (t == 0) {
        hold_on(b, "no %s for the GL date", what);
        return;
    }
    mlc_err_clear(&me);
    if (jdate_unix_to_civil(t, b->opts.utc_offset_min, out, NULL, &me) != MLC_OK)
        hold_on(b, "GL date from %s: %s", what, me.msg);
}

static void doc_header(struct bld *b, struct post_doc *d, int64_t refund_id)
{
    const struct cfg_posting *c = b->cfg;
    const char *prefix = c->key_prefix != NULL ? c->key_prefix : "BC";

    d->kind = b->kind;
    d->mode = c->mode;
    d->order_id = b->o->id;
    d->refund_id = refund_id;
    if (post_key(prefix, b->o->id, b->kind, refund_id, d->key, sizeof(d->key)) != MLC_OK)
        hold_on(b, "idempotency key of the %s is longer than %d characters",
                kind_names[b->kind], POST_KEY_MAX);
    snprintf(d->company, sizeof(d->company), "%s", c->company != NULL ? c->company : "");
    snprintf(d->doc_type, sizeof(d->doc_type), "%s",
             c->mode == CFG_POST_VOUCHER ? "PV" : (c->document_type ? c->document_type : "JE"));
    snprintf(d->ledger_type, sizeof(d->ledger_type), "%s",
             c->ledger_type != NULL ? c->ledger_type : "AA");
    snprintf(d->currency, sizeof(d->currency), "%s", b->o->currency);
    d->exponent = b->o->exponent;
    if (b->kind == POST_KIND_SALE)
        snprintf(d->explanation, sizeof(d->explanation), "Order %lld", (long long)b->o->id);
    else if (b->kind == POST_KIND_REFUND)
        snprintf(d->explanation, sizeof(d->explanation), "Order %lld refund %lld",
                 (long long)b->o->id, (long long)refund_id);
    else
        snprintf(d->explanation, sizeof(d->explanation), "Order %lld cancelled",
                 (long long)b->o->id);
}

/* ---- finishing: journal or voucher ------------------------------------- */

/* Appends (or sums into) an output line; zero lines are dropped later. */
static void doc_put(struct bld *b, struct post_doc *d, const struct post_line *l, int64_t amount)
{
    for (size_t i = 0; i < d->n_lines; i++) {
        if (acct_eq(&d->lines[i].account, &l->account)) {
            d->lines[i].amount = add_ck(b, d->lines[i].amount, amount);
            return;
        }
    }
    d->lines[d->n_lines] = *l;
    d->lines[d->n_lines].amount = amount;
    d->n_lines++;
}

static void drop_zero_lines(struct post_doc *d)
{
    size_t k = 0;

    for (size_t i = 0; i < d->n_lines; i++)
        if (d->lines[i].amount != 0)
            d->lines[k++] = d->lines[i];
    d->n_lines = k;
}

/* §4 journal: every line, same accounts summed. §6 voucher: gross = the
 * payment lines, distribution = every other line with its sign flipped.
 * A reversal's lines are already in document form (b->v holds them, none
 * of the payment class, and d->gross is set). */
static int doc_lines(struct bld *b, struct post_doc *d)
{
    bool voucher = d->mode == CFG_POST_VOUCHER && b->kind != POST_KIND_REVERSAL;

    d->n_lines = 0;
    if (b->n > 0 && (d->lines = calloc(b->n, sizeof(*d->lines))) == NULL)
        return mlc_err_set(b->e, MLC_ENOMEM, "%s: out of memory", b->ctx);
    for (size_t i = 0; i < b->n; i++) {
        const struct bline *x = &b->v[i];
        if (voucher && x->pay)
            d->gross = add_ck(b, d->gross, x->l.amount);
        else
            doc_put(b, d, &x->l, voucher ? neg_ck(b, x->l.amount) : x->l.amount);
    }
    drop_zero_lines(d);
    return MLC_OK;
}

/* Hands the document out, or the hold, or POST_EMPTY; checks the balance
 * postcondition last. d is consumed either way. */
static int finish(struct bld *b, struct post_doc *d, struct post_doc *out,
                  struct post_hold *hold)
{
    int rc;

    if (b->nomem) {
        rc = mlc_err_set(b->e, MLC_ENOMEM, "%s: out of memory", b->ctx);
        goto fail;
    }
    if (!b->held && (rc = doc_lines(b, d)) != MLC_OK)
        goto fail;
    if (b->overflow)
        hold_on(b, "amounts overflow the 64-bit range");
    if (b->held) {
        if (hold != NULL)
            *hold = b->hold;
        rc = POST_HELD;
        goto fail;
    }
    if (d->n_lines == 0 && d->gross == 0) {
        rc = POST_EMPTY;
        goto fail;
    }
    if ((rc = post_doc_check(d, b->e)) != MLC_OK) {
        mlc_err_wrap(b->e, "%s: unbalanced %s refused", b->ctx, kind_names[b->kind]);
        goto fail;
    }
    *out = *d;
    bld_free(b);
    return MLC_OK;
fail:
    post_doc_clear(d);
    bld_free(b);
    return rc;
}

/* ---- §4 the sale ------------------------------------------------------- */

/* Revenue: −Σ product total_ex_tax, one line per revenue account. */
static void sale_revenue(struct bld *b)
{
    for (size_t i = 0; i < b->o->n_products; i++) {
        const struct order_product *p = &b->o->products[i];
        const struct cfg_account *a;
        const char *key;

        if (p->total_ex_tax == 0)
            continue;
        a = revenue_account(b, p, &key);
        put(b, POST_ROLE_REVENUE, a, key, neg_ck(b, p->total_ex_tax), NULL);
    }
}

/* Discounts, shipping, handling, wrapping, fees and tax. */
static void sale_charges(struct bld *b)
{
    const struct order *o = b->o;
    const struct cfg_posting *c = b->cfg;
    int64_t fees = 0;

    put(b, POST_ROLE_DISCOUNT, &c->accounts.discounts, "posting.accounts.discounts",
        add_ck(b, o->discount_amount, o->coupon_discount), NULL);
    put(b, POST_ROLE_SHIPPING, &c->accounts.shipping, "posting.accounts.shipping",
        neg_ck(b, o->shipping_cost_ex_tax), NULL);
    put(b, POST_ROLE_HANDLING, &c->accounts.handling, "posting.accounts.handling",
        neg_ck(b, o->handling_cost_ex_tax), NULL);
    put(b, POST_ROLE_WRAPPING, &c->accounts.wrapping, "posting.accounts.wrapping",
        neg_ck(b, o->wrapping_cost_ex_tax), NULL);
    for (size_t i = 0; i < o->n_fees; i++)
        fees = add_ck(b, fees, o->fees[i].cost_ex_tax);
    put(b, POST_ROLE_FEES, &c->accounts.fees, "posting.accounts.fees", neg_ck(b, fees), NULL);
    put(b, POST_ROLE_TAX, &c->accounts.tax, "posting.accounts.tax", neg_ck(b, o->total_tax),
        NULL);
}

/* A settled transaction that makes no sense as money received: a negative
 * purchase or capture, or one listed twice. Posting it would put a wrong
 * amount on a clearing account and hide the difference in the unmatched
 * line; the order is held for a person to look at. */
static bool payment_suspect(struct bld *b, size_t i)
{
    const struct order_txn *t = &b->o->txns[i];
    char a1[MONEY_FMT_MAX];

    if (t->amount < 0) {
        hold_on(b, "transaction %lld is a %s of a negative amount (%s): a payment cannot be "
                "negative; check the order's transactions in BigCommerce", (long long)t->id,
                t->event == ORDER_TXN_EV_CAPTURE ? "capture" : "purchase",
                amt(b, t->amount, a1));
        return true;
    }
    for (size_t j = 0; t->id != 0 && j < i; j++) {
        if (b->o->txns[j].id == t->id && order_txn_is_settled(&b->o->txns[j])) {
            hold_on(b, "transaction %lld is listed twice by BigCommerce: its amount would "
                    "count twice", (long long)t->id);
            return true;
        }
    }
    return false;
}

/* Payments: +amount of each successful purchase/capture; returns the Σ. */
static int64_t sale_payments(struct bld *b)
{
    int64_t paid = 0;

    for (size_t i = 0; i < b->o->n_txns; i++) {
        const struct order_txn *t = &b->o->txns[i];
        const struct cfg_account *a;
        const char *key;

        if (!order_txn_is_settled(t) || payment_suspect(b, i))
            continue;
        if (t->currency != NULL && t->currency[0] != '\0' &&
            strcmp(t->currency, b->o->currency) != 0) {
            hold_on(b, "transaction %lld is in %s, the order in %s", (long long)t->id,
                    t->currency, b->o->currency);
            continue;
        }
        a = tender_account(b, t->tender, t->gateway, &key);
        put(b, POST_ROLE_PAYMENT, a, key, t->amount, t->gateway);
        paid = add_ck(b, paid, t->amount);
    }
    return paid;
}

/* Unmatched payment: total_inc_tax − Σ transactions (offline orders). */
static void sale_unmatched(struct bld *b, int64_t paid)
{
    const char *key;
    const struct cfg_account *a = unmatched_account(b, &key);

    put(b, POST_ROLE_UNMATCHED, a, key, sub_ck(b, b->o->total_inc_tax, paid), NULL);
}

/* Rounding: what makes the entry sum to 0, within the tolerance (in minor
 * units of the order currency, config.h); beyond it the order is held.
 * Skipped once held: missing lines would make the gap meaningless. */
static void sale_rounding(struct bld *b)
{
    char a1[MONEY_FMT_MAX], a2[MONEY_FMT_MAX], a3[MONEY_FMT_MAX];
    int64_t diff, tol = b->cfg->rounding_tolerance_minor;

    if (b->held || b->overflow)
        return;
    diff = lines_sum(b);
    if (diff == 0 || b->overflow)
        return;
    if (diff > tol || diff < -tol) {
        hold_on(b, "the lines miss balance by %s (debits exceed credits by that much; "
                "total_inc_tax %s), beyond the rounding tolerance %s",
                amt(b, diff, a1), amt(b, b->o->total_inc_tax, a2), amt(b, tol, a3));
        return;
    }
    put(b, POST_ROLE_ROUNDING, &b->cfg->accounts.rounding, "posting.accounts.rounding",
        neg_ck(b, diff), NULL);
}

/* §6: the gateway of the first settled transaction. */
static const char *sale_gateway(const struct order *o)
{
    for (size_t i = 0; i < o->n_txns; i++)
        if (order_txn_is_settled(&o->txns[i]))
            return o->txns[i].gateway;
    return NULL;
}

static int64_t sale_gl_time(const struct bld *b)
{
    switch (b->cfg->gl_date) {
    case CFG_GLDATE_PAID:    return b->opts.paid_at;
    case CFG_GLDATE_POSTING: return b->opts.now;
    default:                 return b->o->date_created;
    }
}

static const char *const gl_what[] = { "date_created",
                                       "time the order became paid (posting.gl_date: paid)",
                                       "posting day (posting.gl_date: posting)" };

/* Caller errors, before any rule: everything the sale needs is loaded. */
static int check_loaded(const struct order *o, const struct cfg_posting *cfg,
                        struct mlc_err *e)
{
    if (o == NULL || cfg == NULL)
        return mlc_err_set(e, MLC_EINVAL, "posting: order or config is NULL");
    if (!o->have_products)
        return mlc_err_set(e, MLC_EINVAL, "order %lld: products not loaded", (long long)o->id);
    if (!o->have_fees)
        return mlc_err_set(e, MLC_EINVAL, "order %lld: fees not loaded", (long long)o->id);
    if (!o->have_txns)
        return mlc_err_set(e, MLC_EINVAL, "order %lld: transactions not loaded",
                           (long long)o->id);
    return MLC_OK;
}

/* Holds an order whose currency has no known exponent. */
static bool currency_known(struct bld *b)
{
    if (b->o->exponent != ORDER_EXP_UNKNOWN)
        return true;
    hold_on(b, "currency \"%s\" is not a known ISO 4217 currency", b->o->currency);
    return false;
}

int post_sale(const struct order *o, const struct cfg_posting *cfg,
              const struct post_opts *opts, struct post_doc *out,
              struct post_hold *hold, struct mlc_err *e)
{
    struct post_doc d = { 0 };
    struct bld b;
    int rc;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_sale: out is NULL");
    memset(out, 0, sizeof(*out));
    if ((rc = check_loaded(o, cfg, e)) != MLC_OK)
        return rc;
    bld_init(&b, o, cfg, opts, POST_KIND_SALE, e);
    doc_header(&b, &d, 0);
    gl_date(&b, sale_gl_time(&b), gl_what[cfg->gl_date], &d.gl_date);
    if (currency_known(&b)) {
        sale_revenue(&b);
        sale_charges(&b);
        sale_unmatched(&b, sale_payments(&b));
        sale_rounding(&b);
        if (cfg->mode == CFG_POST_VOUCHER)
            snprintf(d.supplier, sizeof(d.supplier), "%s", supplier_for(&b, sale_gateway(o)));
    }
    return finish(&b, &d, out, hold);
}

/* ---- §5 refunds -------------------------------------------------------- */

/* Payments: −amount per non-declined payment, through the same tender
 * rules as the sale; returns the Σ. */
static int64_t refund_payments(struct bld *b, const struct order_refund *r)
{
    int64_t paid = 0;

    for (size_t i = 0; i < r->n_payments; i++) {
        const struct order_refund_payment *p = &r->payments[i];
        const struct cfg_account *a;
        const char *key;

        if (p->declined)
            continue;   /* moved no money */
        a = tender_account(b, p->tender, p->provider_id, &key);
        put(b, POST_ROLE_PAYMENT, a, key, neg_ck(b, p->amount), p->provider_id);
        paid = add_ck(b, paid, p->amount);
    }
    return paid;
}

/* Payments that do not add up to total_amount: the difference to the
 * unmatched (default clearing) account. */
static void refund_unmatched(struct bld *b, const struct order_refund *r, int64_t paid)
{
    const char *key;
    const struct cfg_account *a = unmatched_account(b, &key);

    put(b, POST_ROLE_UNMATCHED, a, key, neg_ck(b, sub_ck(b, r->total_amount, paid)), NULL);
}

/* The weight of an item in the split: its requested_amount; a PRODUCT
 * item sent without one weighs its quantity at the unit price ex tax. */
static int64_t item_weight(struct bld *b, const struct order_refund_item *it)
{
    const struct order_product *p;
    int64_t w;

    if (it->has_requested) {
        if (it->requested_amount < 0)
            hold_on(b, "item %s %lld has a negative requested_amount",
                    it->type_name, (long long)it->item_id);
        return it->requested_amount > 0 ? it->requested_amount : 0;
    }
    if (it->type != ORDER_RITEM_PRODUCT ||
        (p = order_product_by_id(b->o, it->item_id)) == NULL)
        return 0;
    if (__builtin_mul_overflow(p->price_ex_tax, it->quantity, &w)) {
        b->overflow = true;
        return 0;
    }
    return w > 0 ? w : 0;
}

/* §5 item accounts: PRODUCT → its revenue account, SHIPPING, HANDLING,
 * GIFT_WRAPPING → theirs, ORDER / FEE → default revenue. */
static const struct cfg_account *item_account(struct bld *b, const struct order_refund_item *it,
                                              enum post_role *role, const char **key)
{
    const struct cfg_posting *c = b->cfg;
    const struct order_product *p;

    switch (it->type) {
    case ORDER_RITEM_PRODUCT:
        *role = POST_ROLE_REVENUE;
        if ((p = order_product_by_id(b->o, it->item_id)) == NULL) {
            hold_on(b, "refunded product item %lld is not a product of the order",
                    (long long)it->item_id);
            return NULL;
        }
        return revenue_account(b, p, key);
    case ORDER_RITEM_SHIPPING:
        *role = POST_ROLE_SHIPPING;
        *key = "posting.accounts.shipping";
        return &c->accounts.shipping;
    case ORDER_RITEM_HANDLING:
        *role = POST_ROLE_HANDLING;
        *key = "posting.accounts.handling";
        return &c->accounts.handling;
    case ORDER_RITEM_GIFT_WRAPPING:
        *role = POST_ROLE_WRAPPING;
        *key = "posting.accounts.wrapping";
        return &c->accounts.wrapping;
    case ORDER_RITEM_ORDER:
    case ORDER_RITEM_FEE:
        *role = POST_ROLE_REVENUE;
        *key = "posting.accounts.revenue";
        return &c->accounts.revenue;
    default:
        hold_on(b, "refund item type \"%s\" is not known", it->type_name);
        return NULL;
    }
}

/* Splits total over the items by weight (largest remainder, exact). */
static void refund_split(struct bld *b, const struct order_refund *r, int64_t total,
                         const int64_t *w)
{
    char a1[MONEY_FMT_MAX];
    struct mlc_err me;
    int64_t *part = calloc(r->n_items, sizeof(*part));

    if (part == NULL) {
        b->nomem = true;
        return;
    }
    if (money_allocate(total, w, r->n_items, part, &me) != MLC_OK) {
        hold_on(b, "cannot split %s over the refunded items: no item has a "
                "requested_amount", amt(b, total, a1));
        goto out;
    }
    for (size_t i = 0; i < r->n_items; i++) {
        enum post_role role = POST_ROLE_REVENUE;
        const char *key = "";
        const struct cfg_account *a;

        if (part[i] == 0)
            continue;
        a = item_account(b, &r->items[i], &role, &key);
        put(b, role, a, key, part[i], NULL);
    }
out:
    free(part);
}

/* §5: total_amount − total_tax over items[] by requested_amount. */
static void refund_items(struct bld *b, const struct order_refund *r)
{
    char a1[MONEY_FMT_MAX];
    int64_t rest = sub_ck(b, r->total_amount, r->total_tax);
    int64_t *w;

    if (rest == 0 || b->overflow)
        return;
    if (r->n_items == 0) {
        hold_on(b, "%s to split but the refund lists no items", amt(b, rest, a1));
        return;
    }
    if ((w = calloc(r->n_items, sizeof(*w))) == NULL) {
        b->nomem = true;
        return;
    }
    for (size_t i = 0; i < r->n_items; i++)
        w[i] = item_weight(b, &r->items[i]);
    if (!b->overflow)
        refund_split(b, r, rest, w);
    free(w);
}

/* §6: the provider of the refund's first payment that moved money. */
static const char *refund_gateway(const struct order_refund *r)
{
    for (size_t i = 0; i < r->n_payments; i++)
        if (!r->payments[i].declined)
            return r->payments[i].provider_id;
    return NULL;
}

int post_refund(const struct order *o, const struct order_refund *r,
                const struct cfg_posting *cfg, const struct post_opts *opts,
                struct post_doc *out, struct post_hold *hold, struct mlc_err *e)
{
    struct post_doc d = { 0 };
    struct bld b;

    if (out == NULL || r == NULL || o == NULL || cfg == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_refund: NULL argument");
    memset(out, 0, sizeof(*out));
    if (r->order_id != o->id)
        return mlc_err_set(e, MLC_EINVAL, "refund %lld is of order %lld, not %lld",
                           (long long)r->id, (long long)r->order_id, (long long)o->id);
    if (!o->have_products)
        return mlc_err_set(e, MLC_EINVAL, "order %lld: products not loaded", (long long)o->id);
    bld_init(&b, o, cfg, opts, POST_KIND_REFUND, e);
    snprintf(b.ctx, sizeof(b.ctx), "order %lld refund %lld", (long long)o->id,
             (long long)r->id);
    doc_header(&b, &d, r->id);
    gl_date(&b, r->created != 0 ? r->created : b.opts.now, "refund created date",
            &d.gl_date);
    if (currency_known(&b)) {
        refund_unmatched(&b, r, refund_payments(&b, r));
        put(&b, POST_ROLE_TAX, &cfg->accounts.tax, "posting.accounts.tax", r->total_tax, NULL);
        refund_items(&b, r);
        if (cfg->mode == CFG_POST_VOUCHER)
            snprintf(d.supplier, sizeof(d.supplier), "%s", supplier_for(&b, refund_gateway(r)));
    }
    return finish(&b, &d, out, hold);
}

/* ---- §4 cancellation: the reversal -------------------------------------- */

/* A posted document of this order that the reversal may negate. */
static int check_posted(const struct order *o, const struct post_doc *d, enum post_kind kind,
                        struct mlc_err *e)
{
    int rc;
    if (d->kind != kind || d->order_id != o->id)
        return mlc_err_set(e, MLC_EINVAL, "order %lld reversal: %s is not a %s of the order",
                           (long long)o->id, d->key, kind_names[kind]);
    if ((rc = post_doc_check(d, e)) != MLC_OK) {
        mlc_err_wrap(e, "order %lld reversal: posted %s", (long long)o->id, d->key);
        return rc;
    }
    return MLC_OK;
}

/* Adds the negation of document d's lines (and gross) to the builder. */
static void reverse_doc(struct bld *b, const struct post_doc *sale, const struct post_doc *d,
                        int64_t *gross)
{
    char remark[POST_TEXT_MAX + 1];

    if (d->mode != sale->mode || d->exponent != sale->exponent ||
        strcmp(d->currency, sale->currency) != 0) {
        hold_on(b, "%s was posted in another mode or currency than the sale", d->key);
        return;
    }
    for (size_t i = 0; i < d->n_lines; i++) {
        snprintf(remark, sizeof(remark), "Rev %s", d->lines[i].remark);
        put_posted(b, d->lines[i].role, &d->lines[i].account, neg_ck(b, d->lines[i].amount),
                   remark, false);
    }
    *gross = add_ck(b, *gross, neg_ck(b, d->gross));
}

int post_reversal(const struct order *o, const struct post_doc *sale,
                  const struct post_doc *refunds, size_t n,
                  const struct cfg_posting *cfg, const struct post_opts *opts,
                  struct post_doc *out, struct post_hold *hold, struct mlc_err *e)
{
    struct post_doc d = { 0 };
    struct bld b;
    int rc;

    if (out == NULL || o == NULL || sale == NULL || cfg == NULL || (n > 0 && refunds == NULL))
        return mlc_err_set(e, MLC_EINVAL, "post_reversal: NULL argument");
    memset(out, 0, sizeof(*out));
    if ((rc = check_posted(o, sale, POST_KIND_SALE, e)) != MLC_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_posted(o, &refunds[i], POST_KIND_REFUND, e)) != MLC_OK)
            return rc;
    bld_init(&b, o, cfg, opts, POST_KIND_REVERSAL, e);
    b.exp = sale->exponent;
    doc_header(&b, &d, 0);
    /* Negate the documents as they were posted: their mode, currency and
     * supplier, even if the configuration changed since. */
    d.mode = sale->mode;
    snprintf(d.doc_type, sizeof(d.doc_type), "%s", sale->doc_type);
    snprintf(d.currency, sizeof(d.currency), "%s", sale->currency);
    d.exponent = sale->exponent;
    snprintf(d.supplier, sizeof(d.supplier), "%s", sale->supplier);
    gl_date(&b, o->date_modified, "date_modified", &d.gl_date);
    reverse_doc(&b, sale, sale, &d.gross);
    for (size_t i = 0; i < n; i++)
        reverse_doc(&b, sale, &refunds[i], &d.gross);
    return finish(&b, &d, out, hold);
}

/* ---- §4 status rules ----------------------------------------------------- */

bool post_is_paid(int64_t status_id, const struct cfg_posting *cfg)
{
    if (status_id == ORDER_STATUS_REFUNDED || status_id == ORDER_STATUS_PARTIALLY_REFUNDED)
        return true;   /* were paid: the sale posts and the refunds offset it */
    for (size_t i = 0; cfg != NULL && i < cfg->n_paid_statuses; i++)
        if (cfg->paid_statuses[i] == status_id)
            return true;
    return false;
}

static struct post_decision decision(enum post_action a, const char *why)
{
    struct post_decision d = { a, why };

    return d;
}

static struct post_decision decide_cancelled(const struct post_facts *f,
                                             const struct cfg_posting *cfg)
{
    if (f->reversal_posted)
        return decision(POST_ACT_NOTHING, "cancelled: the reversal is already posted");
    if (!f->sale_posted)
        return decision(POST_ACT_NOTHING, "cancelled before its sale was posted: nothing to post");
    if (cfg->on_cancel == CFG_CANCEL_HOLD)
        return decision(POST_ACT_HOLD, "cancelled after posting: held for review "
                        "(posting.on_cancel is hold)");
    return decision(POST_ACT_REVERSAL, "cancelled after posting: post the reversal");
}

struct post_decision post_decide(int64_t status_id, const struct post_facts *f,
                                 const struct cfg_posting *cfg)
{
    static const struct post_facts none = { 0 };

    if (f == NULL)
        f = &none;
    if (cfg == NULL)
        return decision(POST_ACT_HOLD, "no posting configuration");
    if (status_id == ORDER_STATUS_CANCELLED)
        return decide_cancelled(f, cfg);
    if (post_is_paid(status_id, cfg)) {
        if (f->reversal_posted)
            return decision(POST_ACT_HOLD, "paid again after its reversal was posted: "
                            "held for review");
        if (f->sale_posted)
            return decision(POST_ACT_NOTHING, "paid: the sale is already posted");
        return decision(POST_ACT_SALE, "paid: post the sale");
    }
    if (f->sale_posted)
        return decision(POST_ACT_NOTHING, "status changed after posting: audited only");
    return decision(POST_ACT_NOTHING, "not paid: nothing to post");
}

struct post_decision post_decide_refund(const struct post_facts *f)
{
    if (f == NULL || (!f->sale_posted && !f->sale_held))
        return decision(POST_ACT_NOTHING, "the sale is not posted yet: the refund waits for it");
    if (f->sale_held)
        return decision(POST_ACT_HOLD, "the order's sale is held: the refund is held too");
    if (f->reversal_posted)
        return decision(POST_ACT_HOLD, "refund after the order's reversal: held for review");
    return decision(POST_ACT_REFUND, "post the refund");
}

/* ---- keys, checks, lifetime ------------------------------------------- */

int post_key(const char *prefix, int64_t order_id, enum post_kind kind, int64_t refund_id,
             char *buf, size_t cap)
{
    int n;

    if (buf == NULL || cap == 0)
        return MLC_EINVAL;
    if (prefix == NULL)
        prefix = "BC";
    if (kind == POST_KIND_SALE)
        n = snprintf(buf, cap, "%s%lldS", prefix, (long long)order_id);
    else if (kind == POST_KIND_REFUND)
        n = snprintf(buf, cap, "%s%lldR%lld", prefix, (long long)order_id, (long long)refund_id);
    else
        n = snprintf(buf, cap, "%s%lldC", prefix, (long long)order_id);
    if (n < 0 || (size_t)n >= cap || n > POST_KEY_MAX) {
        buf[0] = '\0';
        return MLC_ETOOBIG;
    }
    return MLC_OK;
}

int post_doc_total(const struct post_doc *d, int64_t *out, struct mlc_err *e)
{
    int64_t s = 0;

    *out = 0;
    for (size_t i = 0; i < d->n_lines; i++)
        if (__builtin_add_overflow(s, d->lines[i].amount, &s))
            return mlc_err_set(e, MLC_ERANGE, "%s: lines overflow", d->key);
    *out = s;
    return MLC_OK;
}

static int check_lines(const struct post_doc *d, struct mlc_err *e)
{
    for (size_t i = 0; i < d->n_lines; i++) {
        if (d->lines[i].amount == 0)
            return mlc_err_set(e, MLC_ESTATE, "%s: line %zu is zero", d->key, i + 1);
        if (d->lines[i].account.bu[0] == '\0' || d->lines[i].account.obj[0] == '\0')
            return mlc_err_set(e, MLC_ESTATE, "%s: line %zu has no account", d->key, i + 1);
        for (size_t k = 0; k < i; k++)
            if (acct_eq(&d->lines[k].account, &d->lines[i].account))
                return mlc_err_set(e, MLC_ESTATE, "%s: lines %zu and %zu share an account",
                                   d->key, k + 1, i + 1);
    }
    return MLC_OK;
}

int post_doc_check(const struct post_doc *d, struct mlc_err *e)
{
    int64_t total;

    if (d == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_doc_check: NULL document");
    if (d->exponent < 0 || d->exponent > MONEY_MAX_SCALE || d->key[0] == '\0')
        return mlc_err_set(e, MLC_ESTATE, "%s: no key or currency exponent", d->key);
    if (check_lines(d, e) != MLC_OK)
        return MLC_ESTATE;
    if (post_doc_total(d, &total, e) != MLC_OK)
        return MLC_ESTATE;
    if (d->mode == CFG_POST_VOUCHER && total != d->gross)
        return mlc_err_set(e, MLC_ESTATE, "%s: distribution sums to %lld, gross is %lld "
                           "(minor units)", d->key, (long long)total, (long long)d->gross);
    if (d->mode != CFG_POST_VOUCHER && (total != 0 || d->gross != 0))
        return mlc_err_set(e, MLC_ESTATE, "%s: journal sums to %lld minor units, not 0",
                           d->key, (long long)total);
    return MLC_OK;
}

void post_doc_clear(struct post_doc *d)
{
    if (d == NULL)
        return;
    free(d->lines);
    memset(d, 0, sizeof(*d));
}

/* ---- accounts and business units ------------------------------------- */

static int cmp_acct(const void *x, const void *y)
{
    const struct cfg_account *a = x, *b = y;
    int c = strcmp(a->bu, b->bu);

    if (c == 0)
        c = strcmp(a->obj, b->obj);
    return c != 0 ? c : strcmp(a->sub, b->sub);
}

static int cmp_bu(const void *x, const void *y)
{
    return strcmp(x, y);
}

/* Sorts and removes duplicates in place; returns the new count. */
static size_t uniq(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *p = base;
    size_t k = 0;

    if (n == 0)
        return 0;
    qsort(base, n, size, cmp);
    for (size_t i = 1; i < n; i++)
        if (cmp(p + k * size, p + i * size) != 0)
            memmove(p + ++k * size, p + i * size, size);
    return k + 1;
}

int post_doc_refs(const struct post_doc *d, struct post_refs *out, struct mlc_err *e)
{
    if (d == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_doc_refs: NULL argument");
    memset(out, 0, sizeof(*out));
    if (d->n_lines == 0)
        return MLC_OK;
    out->accounts = calloc(d->n_lines, sizeof(*out->accounts));
    out->bus = calloc(d->n_lines, sizeof(*out->bus));
    if (out->accounts == NULL || out->bus == NULL) {
        post_refs_clear(out);
        return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", d->key);
    }
    for (size_t i = 0; i < d->n_lines; i++) {
        out->accounts[i] = d->lines[i].account;
        snprintf(out->bus[i], sizeof(out->bus[i]), "%s", d->lines[i].account.bu);
    }
    out->n_accounts = uniq(out->accounts, d->n_lines, sizeof(*out->accounts), cmp_acct);
    out->n_bus = uniq(out->bus, d->n_lines, sizeof(*out->bus), cmp_bu);
    return MLC_OK;
}

void post_refs_clear(struct post_refs *r)
{
    if (r == NULL)
        return;
    free(r->accounts);
    free(r->bus);
    memset(r, 0, sizeof(*r));
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *json_amount(const struct post_doc *d, int64_t v)
{
    char buf[MONEY_FMT_MAX];

    if (money_format(v, d->exponent, buf, sizeof(buf)) != MLC_OK)
        return NULL;
    return json_string(buf);
}

static json_t *line_json(const struct post_doc *d, const struct post_line *l)
{
    char acct[40];

    cfg_account_format(&l->account, acct, sizeof(acct));
    return json_pack("{s:s, s:o*, s:s, s:s}", "account", acct,
                     "amount", json_amount(d, l->amount), "remark", l->remark,
                     "role", post_role_name(l->role));
}

static json_t *lines_json(const struct post_doc *d)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < d->n_lines; i++) {
        json_t *l = line_json(d, &d->lines[i]);
        if (l == NULL || json_array_append_new(arr, l) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int post_doc_to_json(const struct post_doc *d, json_t **out, struct mlc_err *e)
{
    char date[JDATE_ISO_DATE_SIZE] = "";
    int64_t total = 0;
    json_t *j;

    if (d == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_doc_to_json: NULL argument");
    *out = NULL;
    if (post_doc_total(d, &total, e) != MLC_OK)
        return MLC_ERANGE;
    jdate_iso_date_format(&d->gl_date, date, sizeof(date), NULL);
    j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o*, s:o*}",
                  "kind", post_kind_name(d->kind), "key", d->key,
                  "mode", d->mode == CFG_POST_VOUCHER ? "voucher" : "journal",
                  "order_id", (json_int_t)d->order_id, "company", d->company,
                  "document_type", d->doc_type, "ledger_type", d->ledger_type,
                  "gl_date", date, "explanation", d->explanation, "currency", d->currency,
                  "exponent", d->exponent, "lines", lines_json(d),
                  "total", json_amount(d, total));
    if (j != NULL && d->kind == POST_KIND_REFUND)
        json_object_set_new(j, "refund_id", json_integer(d->refund_id));
    if (j != NULL && d->mode == CFG_POST_VOUCHER) {
        json_object_set_new(j, "gross", json_amount(d, d->gross));
        json_object_set_new(j, "supplier", json_string(d->supplier));
    }
    if (j == NULL || json_object_size(j) < 13) {
        json_decref(j);
        return mlc_err_set(e, MLC_ENOMEM, "%s: cannot render", d->key);
    }
    *out = j;
    return MLC_OK;
}

/* ---- JSON back to a document (ledger) ---------------------------------- */

static int name_index(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

/* Records the first failure of a document read, as the jx getters do. */
__attribute__((format(printf, 2, 3)))
static void cx_fail(struct jx_ctx *cx, const char *fmt, ...)
{
    char msg[MLC_ERR_MSG_MAX];
    va_list ap;

    if (cx->rc != MLC_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cx->rc = mlc_err_set(cx->e, MLC_EPROTO, "document: %s", msg);
}

static void copy_str(struct jx_ctx *cx, const json_t *j, const char *path, char *buf,
                     size_t cap)
{
    const char *s = NULL;

    if (jx_opt_str(cx, j, path, "", &s) == MLC_OK && strlen(s) >= cap)
        cx_fail(cx, "%s: longer than %zu", path, cap - 1);
    snprintf(buf, cap, "%s", s != NULL ? s : "");
}

static int amount_from(struct jx_ctx *cx, const json_t *j, const char *path, int exp,
                       int64_t *out)
{
    const char *s = NULL;
    struct mlc_err me;

    *out = 0;
    if (jx_get_str(cx, j, path, &s) != MLC_OK)
        return cx->rc;
    if (money_parse_scaled(s, exp, out, &me) != MLC_OK)
        cx_fail(cx, "%s: %s", path, me.msg);
    return cx->rc;
}

static void line_from(struct jx_ctx *cx, const json_t *j, size_t i, struct post_doc *d)
{
    struct post_line *l = &d->lines[i];
    const char *acct = NULL, *role = NULL;
    char path[64];
    int r;

    snprintf(path, sizeof(path), "lines[%zu].account", i);
    if (jx_get_str(cx, j, path, &acct) == MLC_OK && cfg_account_parse(acct, &l->account) != MLC_OK)
        cx_fail(cx, "%s: not an account", path);
    snprintf(path, sizeof(path), "lines[%zu].amount", i);
    amount_from(cx, j, path, d->exponent, &l->amount);
    snprintf(path, sizeof(path), "lines[%zu].remark", i);
    copy_str(cx, j, path, l->remark, sizeof(l->remark));
    snprintf(path, sizeof(path), "lines[%zu].role", i);
    jx_opt_str(cx, j, path, "revenue", &role);
    r = name_index(role, role_names, N_ROLES);
    l->role = r >= 0 ? (enum post_role)r : POST_ROLE_REVENUE;
}

static void header_from(struct jx_ctx *cx, const json_t *j, struct post_doc *d)
{
    const char *kind = NULL, *mode = NULL, *date = NULL;
    int64_t exp = 0;
    int k;

    jx_get_str(cx, j, "kind", &kind);
    if ((k = name_index(kind, kind_names, 3)) < 0)
        cx_fail(cx, "kind: unknown");
    d->kind = k >= 0 ? (enum post_kind)k : POST_KIND_SALE;
    jx_get_str(cx, j, "mode", &mode);
    d->mode = mode != NULL && strcmp(mode, "voucher") == 0 ? CFG_POST_VOUCHER : CFG_POST_JOURNAL;
    copy_str(cx, j, "key", d->key, sizeof(d->key));
    jx_get_i64(cx, j, "order_id", &d->order_id);
    jx_opt_i64(cx, j, "refund_id", 0, &d->refund_id);
    copy_str(cx, j, "company", d->company, sizeof(d->company));
    copy_str(cx, j, "document_type", d->doc_type, sizeof(d->doc_type));
    copy_str(cx, j, "ledger_type", d->ledger_type, sizeof(d->ledger_type));
    copy_str(cx, j, "explanation", d->explanation, sizeof(d->explanation));
    copy_str(cx, j, "currency", d->currency, sizeof(d->currency));
    copy_str(cx, j, "supplier", d->supplier, sizeof(d->supplier));
    jx_get_i64(cx, j, "exponent", &exp);
    d->exponent = exp >= 0 && exp <= MONEY_MAX_SCALE ? (int)exp : -1;
    if (jx_get_str(cx, j, "gl_date", &date) == MLC_OK &&
        jdate_iso_date_parse(date, &d->gl_date, NULL) != MLC_OK)
        cx_fail(cx, "gl_date: not a date");
}

int post_doc_from_json(const json_t *j, struct post_doc *out, struct mlc_err *e)
{
    struct post_doc d = { 0 };
    json_t *lines = NULL;
    struct jx_ctx cx;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "post_doc_from_json: out is NULL");
    memset(out, 0, sizeof(*out));
    jx_ctx_init(&cx, "document", e);
    header_from(&cx, j, &d);
    if (d.mode == CFG_POST_VOUCHER)
        amount_from(&cx, j, "gross", d.exponent < 0 ? 0 : d.exponent, &d.gross);
    jx_get_arr(&cx, j, "lines", &lines);
    if (cx.rc == MLC_OK && json_array_size(lines) > 0 &&
        (d.lines = calloc(json_array_size(lines), sizeof(*d.lines))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "document: out of memory");
    for (size_t i = 0; cx.rc == MLC_OK && i < json_array_size(lines); i++) {
        line_from(&cx, j, i, &d);
        d.n_lines = i + 1;
    }
    if (cx.rc == MLC_OK && post_doc_check(&d, e) != MLC_OK)
        cx.rc = MLC_EPROTO;
    if (cx.rc != MLC_OK) {
        post_doc_clear(&d);
        return cx.rc;
    }
    *out = d;
    return MLC_OK;
}
