#include "report/reconcile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "sync/posting.h"

/* Details name at most this many accounts that differ. */
#define DETAIL_ACCOUNTS 4

static const char *const reason_names[] = { "missing_in_jde", "unknown_to_ledger",
                                            "amount_differs", "posted_twice" };
static const char *const missing_names[] = { "", "not_yet_posted", "held", "failed",
                                             "in_doubt", "lost" };
static const char *const info_names[] = { "unpaid", "before_golive", "dismissed" };
static const char *const kind_names[] = { "sale", "refund", "reversal" };

const char *rcn_reason_name(enum rcn_reason r) { return reason_names[r]; }
const char *rcn_missing_name(enum rcn_missing m) { return missing_names[m]; }
const char *rcn_info_name(enum rcn_info_kind k) { return info_names[k]; }
const char *rcn_kind_name(enum rcn_kind k) { return kind_names[k]; }

/* ---- the day and its items ---------------------------------------------------- */

void rcn_day_init(struct rcn_day *d, const struct jdate_civil *day, bool voucher,
                  const char *timezone)
{
    memset(d, 0, sizeof(*d));
    d->day = *day;
    d->voucher = voucher;
    snprintf(d->timezone, sizeof(d->timezone), "%s", timezone != NULL ? timezone : "UTC");
}

static void item_clear(struct rcn_item *it)
{
    free(it->ledger_lines);
    for (size_t i = 0; i < it->n_jde; i++)
        free(it->jde[i].lines);
    free(it->jde);
}

static void results_clear(struct rcn_day *d)
{
    free(d->diffs);
    free(d->infos);
    free(d->accounts);
    free(d->balances);
    d->diffs = NULL;
    d->infos = NULL;
    d->accounts = NULL;
    d->balances = NULL;
    d->n_diffs = d->n_infos = d->n_accounts = d->n_balances = 0;
}

void rcn_day_clear(struct rcn_day *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_items; i++)
        item_clear(&d->items[i]);
    free(d->items);
    for (size_t i = 0; i < d->n_bc; i++)
        free(d->bc[i].payments);
    free(d->bc);
    results_clear(d);
    memset(d, 0, sizeof(*d));
}

int rcn_key_parse(const char *prefix, const char *key, enum rcn_kind *kind,
                  int64_t *order_id, int64_t *refund_id)
{
    size_t pl = strlen(prefix);
    const char *p = key + pl;
    char *end = NULL;
    long long n;

    if (strncmp(key, prefix, pl) != 0 || *p < '0' || *p > '9')
        return MLC_EINVAL;
    n = strtoll(p, &end, 10);
    if (n <= 0 || end == NULL)
        return MLC_EINVAL;
    *order_id = n;
    *refund_id = 0;
    if (strcmp(end, "S") == 0) {
        *kind = RCN_KIND_SALE;
    } else if (strcmp(end, "C") == 0) {
        *kind = RCN_KIND_REVERSAL;
    } else if (end[0] == 'R' && end[1] >= '0' && end[1] <= '9') {
        char *e2 = NULL;
        long long r = strtoll(end + 1, &e2, 10);

        if (r <= 0 || e2 == NULL || *e2 != '\0')
            return MLC_EINVAL;
        *kind = RCN_KIND_REFUND;
        *refund_id = r;
    } else {
        return MLC_EINVAL;
    }
    return MLC_OK;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct rcn_item *)a)->key, ((const struct rcn_item *)b)->key);
}

struct rcn_item *rcn_item_find(struct rcn_day *d, const char *key)
{
    struct rcn_item probe;

    snprintf(probe.key, sizeof(probe.key), "%s", key);
    if (d->n_sorted > 0) {
        struct rcn_item *it = bsearch(&probe, d->items, d->n_sorted, sizeof(*d->items),
                                      cmp_item);
        if (it != NULL)
            return it;
    }
    for (size_t i = d->n_sorted; i < d->n_items; i++)
        if (strcmp(d->items[i].key, key) == 0)
            return &d->items[i];
    return NULL;
}

/* Keeps lookups near O(log n): the unsorted tail is sorted in once it grows. */
static void items_sort(struct rcn_day *d)
{
    if (d->n_items > 1)
        qsort(d->items, d->n_items, sizeof(*d->items), cmp_item);
    d->n_sorted = d->n_items;
}

int rcn_item_get(struct rcn_day *d, const char *prefix, const char *key,
                 struct rcn_item **out, struct mlc_err *e)
{
    struct rcn_item *it;
    enum rcn_kind kind;
    int64_t oid, rid;

    *out = NULL;
    if ((it = rcn_item_find(d, key)) != NULL) {
        *out = it;
        return MLC_OK;
    }
    if (strlen(key) >= RCN_KEY_SIZE || rcn_key_parse(prefix, key, &kind, &oid, &rid) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "%s: not a document key of prefix %s", key, prefix);
    if (d->n_items - d->n_sorted >= 64)
        items_sort(d);
    if (d->n_items == d->cap_items) {
        size_t cap = d->cap_items ? d->cap_items * 2 : 64;
        struct rcn_item *v = realloc(d->items, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu report items", cap);
        d->items = v;
        d->cap_items = cap;
    }
    it = &d->items[d->n_items++];
    memset(it, 0, sizeof(*it));
    snprintf(it->key, sizeof(it->key), "%s", key);
    it->kind = kind;
    it->order_id = oid;
    it->refund_id = rid;
    it->exponent = -1;
    *out = it;
    return MLC_OK;
}

int rcn_item_set_ledger_lines(struct rcn_item *it, const struct rcn_line *lines, size_t n,
                              struct mlc_err *e)
{
    struct rcn_line *v = NULL;

    if (n > 0) {
        if ((v = malloc(n * sizeof(*v))) == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        memcpy(v, lines, n * sizeof(*v));
    }
    free(it->ledger_lines);
    it->ledger_lines = v;
    it->n_ledger_lines = n;
    it->ledger_has_doc = true;
    return MLC_OK;
}

int rcn_item_add_jdoc(struct rcn_item *it, int64_t doc, const char *dct, const char *kco,
                      struct rcn_jdoc **out, struct mlc_err *e)
{
    struct rcn_jdoc *v;

    for (size_t i = 0; i < it->n_jde; i++)
        if (it->jde[i].doc == doc && strcmp(it->jde[i].dct, dct) == 0 &&
            strcmp(it->jde[i].kco, kco) == 0) {
            *out = &it->jde[i];
            return MLC_OK;
        }
    v = realloc(it->jde, (it->n_jde + 1) * sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    it->jde = v;
    *out = &v[it->n_jde++];
    memset(*out, 0, sizeof(**out));
    (*out)->doc = doc;
    snprintf((*out)->dct, sizeof((*out)->dct), "%s", dct);
    snprintf((*out)->kco, sizeof((*out)->kco), "%s", kco);
    return MLC_OK;
}

static bool acct_eq(const struct cfg_account *a, const struct cfg_account *b)
{
    return strcmp(a->bu, b->bu) == 0 && strcmp(a->obj, b->obj) == 0 &&
           strcmp(a->sub, b->sub) == 0;
}

static int acct_cmp(const struct cfg_account *a, const struct cfg_account *b)
{
    int c = strcmp(a->bu, b->bu);

    if (c == 0)
        c = strcmp(a->obj, b->obj);
    return c != 0 ? c : strcmp(a->sub, b->sub);
}

int rcn_jdoc_add(struct rcn_jdoc *doc, const struct cfg_account *a, int64_t amount,
                 struct mlc_err *e)
{
    struct rcn_line *v;

    for (size_t i = 0; i < doc->n_lines; i++)
        if (acct_eq(&doc->lines[i].account, a))
            return money_add(doc->lines[i].amount, amount, &doc->lines[i].amount, e);
    v = realloc(doc->lines, (doc->n_lines + 1) * sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    doc->lines = v;
    v[doc->n_lines].account = *a;
    v[doc->n_lines].amount = amount;
    doc->n_lines++;
    return MLC_OK;
}

int rcn_bc_total_get(struct rcn_day *d, const char *currency, int exponent,
                     struct rcn_bc_total **out, struct mlc_err *e)
{
    struct rcn_bc_total *v;

    for (size_t i = 0; i < d->n_bc; i++)
        if (strcmp(d->bc[i].currency, currency) == 0) {
            *out = &d->bc[i];
            return MLC_OK;
        }
    v = realloc(d->bc, (d->n_bc + 1) * sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    d->bc = v;
    *out = &v[d->n_bc++];
    memset(*out, 0, sizeof(**out));
    snprintf((*out)->currency, sizeof((*out)->currency), "%s", currency);
    (*out)->exponent = exponent;
    return MLC_OK;
}

int rcn_bc_add_payment(struct rcn_bc_total *t, const char *gateway, const char *method,
                       int64_t amount, struct mlc_err *e)
{
    struct rcn_payment *v;

    gateway = gateway != NULL ? gateway : "";
    method = method != NULL ? method : "";
    for (size_t i = 0; i < t->n_payments; i++)
        if (strcmp(t->payments[i].gateway, gateway) == 0 &&
            strcmp(t->payments[i].method, method) == 0) {
            t->payments[i].count++;
            return money_add(t->payments[i].amount, amount, &t->payments[i].amount, e);
        }
    v = realloc(t->payments, (t->n_payments + 1) * sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    t->payments = v;
    memset(&v[t->n_payments], 0, sizeof(*v));
    snprintf(v[t->n_payments].gateway, sizeof(v->gateway), "%s", gateway);
    snprintf(v[t->n_payments].method, sizeof(v->method), "%s", method);
    v[t->n_payments].count = 1;
    v[t->n_payments].amount = amount;
    t->n_payments++;
    return MLC_OK;
}

/* ---- the comparison ------------------------------------------------------------- */

struct results {
    struct rcn_day *d;
    size_t cap_diffs, cap_infos, cap_accounts;
};

static int add_diff(struct results *r, enum rcn_reason reason, enum rcn_missing missing,
                    size_t item, const char *detail, const char *action, struct mlc_err *e)
{
    struct rcn_day *d = r->d;

    if (d->n_diffs == r->cap_diffs) {
        size_t cap = r->cap_diffs ? r->cap_diffs * 2 : 16;
        struct rcn_diff *v = realloc(d->diffs, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        d->diffs = v;
        r->cap_diffs = cap;
    }
    d->diffs[d->n_diffs] = (struct rcn_diff){ .reason = reason, .missing = missing,
                                              .item = item };
    snprintf(d->diffs[d->n_diffs].detail, sizeof(d->diffs->detail), "%s", detail);
    snprintf(d->diffs[d->n_diffs].action, sizeof(d->diffs->action), "%s", action);
    d->n_diffs++;
    return MLC_OK;
}

static int add_info(struct results *r, enum rcn_info_kind kind, size_t item,
                    const char *detail, struct mlc_err *e)
{
    struct rcn_day *d = r->d;

    if (d->n_infos == r->cap_infos) {
        size_t cap = r->cap_infos ? r->cap_infos * 2 : 16;
        struct rcn_info *v = realloc(d->infos, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        d->infos = v;
        r->cap_infos = cap;
    }
    d->infos[d->n_infos] = (struct rcn_info){ .kind = kind, .item = item };
    snprintf(d->infos[d->n_infos].detail, sizeof(d->infos->detail), "%s", detail);
    d->n_infos++;
    return MLC_OK;
}

static void fmt_amt(int64_t v, int exp, char *buf, size_t cap)
{
    if (money_format(v, exp < 0 ? 0 : exp, buf, cap) != MLC_OK)
        snprintf(buf, cap, "%" PRId64, v);
}

/* Why a document that should be in JDE is not, from the ledger and the job. */
static int missing(struct results *r, size_t idx, struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2], action[RCN_TEXT_SIZE];
    enum rcn_missing m;

    if (it->ledger == RCN_LEDGER_POSTED) {
        m = RCN_MISS_LOST;
        snprintf(detail, sizeof(detail),
                 "the ledger says posted as document %" PRId64 ", JDE has no document with this key",
                 it->ledger_doc);
        snprintf(action, sizeof(action),
                 "find out in JDE who deleted or voided document %" PRId64
                 "; mlc never posts a key twice on its own", it->ledger_doc);
    } else if (it->ledger == RCN_LEDGER_PENDING || it->ledger == RCN_LEDGER_UNKNOWN) {
        m = RCN_MISS_IN_DOUBT;
        snprintf(detail, sizeof(detail), "the create was sent and its outcome is unknown");
        snprintf(action, sizeof(action),
                 "nothing: the worker looks the key up in JDE before trying again");
    } else if (it->job == RCN_JOB_HELD) {
        m = RCN_MISS_HELD;
        snprintf(detail, sizeof(detail), "held: %s", it->job_reason);
        snprintf(action, sizeof(action), "fix the cause (mlc held), then mlc replay order:%" PRId64,
                 it->order_id);
    } else if (it->job == RCN_JOB_FAILED) {
        m = RCN_MISS_FAILED;
        snprintf(detail, sizeof(detail), "failed: %s", it->job_reason);
        snprintf(action, sizeof(action), "see mlc held, then mlc replay order:%" PRId64,
                 it->order_id);
    } else {
        m = RCN_MISS_NOT_YET;
        snprintf(detail, sizeof(detail), "not yet posted (%s)",
                 it->job == RCN_JOB_WAITING ? "its job is queued" :
                 it->job == RCN_JOB_DONE ? "its last job posted nothing" : "no job yet");
        snprintf(action, sizeof(action),
                 it->job == RCN_JOB_WAITING ? "wait for the worker, or see mlc jobs list" :
                 "mlc sync orders --from-id %" PRId64 " --to-id %" PRId64,
                 it->order_id, it->order_id);
    }
    return add_diff(r, RCN_MISSING_IN_JDE, m, idx, detail, action, e);
}

/* The ledger's lines against the JDE document's, per account. */
static int compare_lines(struct results *r, size_t idx, const struct rcn_jdoc *doc,
                         struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2], a1[MONEY_FMT_MAX], a2[MONEY_FMT_MAX], acct[RCN_ACCT_SIZE];
    size_t len = 0, shown = 0, differ = 0;

    detail[0] = '\0';
    /* Every account of either side: ledger accounts first, then JDE-only ones. */
    for (int side = 0; side < 2; side++) {
        const struct rcn_line *ls = side == 0 ? it->ledger_lines : doc->lines;
        size_t n = side == 0 ? it->n_ledger_lines : doc->n_lines;

        for (size_t i = 0; i < n; i++) {
            int64_t led = 0, jde = 0;
            bool in_led = false;

            for (size_t k = 0; k < it->n_ledger_lines; k++)
                if (acct_eq(&it->ledger_lines[k].account, &ls[i].account)) {
                    led += it->ledger_lines[k].amount;
                    in_led = true;
                }
            if (side == 1 && in_led)
                continue;   /* already compared from the ledger side */
            for (size_t k = 0; k < doc->n_lines; k++)
                if (acct_eq(&doc->lines[k].account, &ls[i].account))
                    jde += doc->lines[k].amount;
            if (led == jde)
                continue;
            differ++;
            if (shown++ >= DETAIL_ACCOUNTS || len >= sizeof(detail))
                continue;
            cfg_account_format(&ls[i].account, acct, sizeof(acct));
            fmt_amt(led, it->exponent, a1, sizeof(a1));
            fmt_amt(jde, it->exponent, a2, sizeof(a2));
            len += (size_t)snprintf(detail + len, sizeof(detail) - len, "%s%s ledger %s, JDE %s",
                                    len > 0 ? "; " : "", acct, a1, a2);
        }
    }
    if (differ == 0)
        return MLC_OK;
    if (differ > DETAIL_ACCOUNTS && len < sizeof(detail))
        snprintf(detail + len, sizeof(detail) - len, "; %zu more", differ - DETAIL_ACCOUNTS);
    {
        char action[RCN_TEXT_SIZE];

        snprintf(action, sizeof(action),
                 "correct JDE document %s %" PRId64 " to the posted lines (mlc orders show %" PRId64 ")",
                 doc->dct, doc->doc, it->order_id);
        return add_diff(r, RCN_AMOUNT_DIFFERS, RCN_MISS_NONE, idx, detail, action, e);
    }
}

static int compare_gross(struct results *r, size_t idx, const struct rcn_jdoc *doc,
                         struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2], action[RCN_TEXT_SIZE], a1[MONEY_FMT_MAX], a2[MONEY_FMT_MAX];

    if (!doc->has_gross || doc->gross == it->ledger_gross)
        return MLC_OK;
    fmt_amt(it->ledger_gross, it->exponent, a1, sizeof(a1));
    fmt_amt(doc->gross, it->exponent, a2, sizeof(a2));
    snprintf(detail, sizeof(detail), "voucher gross: ledger %s, JDE %s", a1, a2);
    snprintf(action, sizeof(action), "correct JDE voucher %s %" PRId64 " to the posted gross",
             doc->dct, doc->doc);
    return add_diff(r, RCN_AMOUNT_DIFFERS, RCN_MISS_NONE, idx, detail, action, e);
}

/* BigCommerce's amount against what was posted (an order changed after posting). */
static int compare_bc(struct results *r, size_t idx, struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2], action[RCN_TEXT_SIZE], a1[MONEY_FMT_MAX], a2[MONEY_FMT_MAX];

    if (!it->bc_seen || it->kind == RCN_KIND_REVERSAL || !it->ledger_has_doc ||
        it->ledger != RCN_LEDGER_POSTED || it->bc_amount == it->ledger_amount)
        return MLC_OK;
    fmt_amt(it->bc_amount, it->exponent, a1, sizeof(a1));
    fmt_amt(it->ledger_amount, it->exponent, a2, sizeof(a2));
    snprintf(detail, sizeof(detail), "BigCommerce %s %s, posted %s", it->kind == RCN_KIND_SALE ?
             "order total" : "refund total", a1, a2);
    snprintf(action, sizeof(action),
             "the %s changed after posting: adjust in JDE by hand (mlc orders show %" PRId64 ")",
             it->kind == RCN_KIND_SALE ? "order" : "refund", it->order_id);
    return add_diff(r, RCN_AMOUNT_DIFFERS, RCN_MISS_NONE, idx, detail, action, e);
}

/* Listed apart: not the connector's to post (or handled by hand). True when
 * the item is informational only. */
static int info_of(struct results *r, size_t idx, bool *only, struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2];
    bool posted = it->ledger != RCN_LEDGER_NONE || it->n_jde > 0;

    *only = false;
    if (it->dismissed && it->n_jde == 0) {
        snprintf(detail, sizeof(detail), "dismissed by %s: %s",
                 it->dismissed_by[0] ? it->dismissed_by : "?", it->dismissed_note);
        *only = true;
        return add_info(r, RCN_INFO_DISMISSED, idx, detail, e);
    }
    if (posted)
        return MLC_OK;
    if (it->bc_seen && it->bc_before_golive) {
        snprintf(detail, sizeof(detail), "created before go-live (orders.start): never posted");
        *only = true;
        return add_info(r, RCN_INFO_BEFORE_GOLIVE, idx, detail, e);
    }
    if (it->bc_seen && it->kind == RCN_KIND_SALE && !it->bc_paid) {
        snprintf(detail, sizeof(detail), "status %" PRId64 " is not paid: nothing to post",
                 it->bc_status);
        *only = true;
        return add_info(r, RCN_INFO_UNPAID, idx, detail, e);
    }
    return MLC_OK;
}

static int compare_item(struct results *r, size_t idx, struct mlc_err *e)
{
    const struct rcn_item *it = &r->d->items[idx];
    char detail[RCN_TEXT_SIZE * 2], action[RCN_TEXT_SIZE];
    bool only;
    int rc;

    if ((rc = info_of(r, idx, &only, e)) != MLC_OK || only)
        return rc;
    if (it->n_jde > 1) {
        size_t len = (size_t)snprintf(detail, sizeof(detail), "%zu JDE documents carry this key:",
                                      it->n_jde);

        for (size_t i = 0; i < it->n_jde && len < sizeof(detail); i++)
            len += (size_t)snprintf(detail + len, sizeof(detail) - len, " %s %" PRId64,
                                    it->jde[i].dct, it->jde[i].doc);
        if (it->ledger == RCN_LEDGER_POSTED)
            snprintf(action, sizeof(action), "void every document but %" PRId64 " in JDE",
                     it->ledger_doc);
        else
            snprintf(action, sizeof(action), "void all but one of them in JDE");
        return add_diff(r, RCN_POSTED_TWICE, RCN_MISS_NONE, idx, detail, action, e);
    }
    if (it->n_jde == 0) {
        bool expected = it->ledger != RCN_LEDGER_NONE ||
                        (it->bc_seen && (it->kind != RCN_KIND_SALE || it->bc_paid));

        return expected ? missing(r, idx, e) : MLC_OK;
    }
    /* Exactly one JDE document. */
    if (it->ledger == RCN_LEDGER_NONE ||
        (it->ledger == RCN_LEDGER_POSTED && it->ledger_doc != it->jde[0].doc)) {
        if (it->ledger == RCN_LEDGER_NONE)
            snprintf(detail, sizeof(detail),
                     "JDE document %s %" PRId64 " carries this key; the ledger has no row for it",
                     it->jde[0].dct, it->jde[0].doc);
        else
            snprintf(detail, sizeof(detail),
                     "JDE document %s %" PRId64 " carries this key; the ledger posted %" PRId64,
                     it->jde[0].dct, it->jde[0].doc, it->ledger_doc);
        snprintf(action, sizeof(action),
                 "if it was keyed by hand for order %" PRId64 ", the next sync adopts it; "
                 "else void it in JDE", it->order_id);
        return add_diff(r, RCN_UNKNOWN_TO_LEDGER, RCN_MISS_NONE, idx, detail, action, e);
    }
    if (it->ledger != RCN_LEDGER_POSTED) {
        snprintf(detail, sizeof(detail),
                 "in doubt in the ledger, JDE has document %s %" PRId64,
                 it->jde[0].dct, it->jde[0].doc);
        snprintf(action, sizeof(action), "nothing: the next run of the order adopts it");
        return add_diff(r, RCN_UNKNOWN_TO_LEDGER, RCN_MISS_NONE, idx, detail, action, e);
    }
    if ((rc = compare_bc(r, idx, e)) != MLC_OK || !it->ledger_has_doc)
        return rc;
    if (r->d->voucher)
        return compare_gross(r, idx, &it->jde[0], e);
    return compare_lines(r, idx, &it->jde[0], e);
}

/* ---- totals per account and balance --------------------------------------------- */

static int account_add(struct results *r, const struct rcn_item *it, const struct rcn_line *l,
                       bool jde, struct mlc_err *e)
{
    struct rcn_day *d = r->d;
    struct rcn_account_total *t = NULL;

    for (size_t i = 0; i < d->n_accounts && t == NULL; i++)
        if (strcmp(d->accounts[i].currency, it->currency) == 0 &&
            acct_eq(&d->accounts[i].account, &l->account))
            t = &d->accounts[i];
    if (t == NULL) {
        if (d->n_accounts == r->cap_accounts) {
            size_t cap = r->cap_accounts ? r->cap_accounts * 2 : 16;
            struct rcn_account_total *v = realloc(d->accounts, cap * sizeof(*v));

            if (v == NULL)
                return mlc_err_set(e, MLC_ENOMEM, "out of memory");
            d->accounts = v;
            r->cap_accounts = cap;
        }
        t = &d->accounts[d->n_accounts++];
        memset(t, 0, sizeof(*t));
        snprintf(t->currency, sizeof(t->currency), "%s", it->currency);
        t->exponent = it->exponent;
        t->account = l->account;
    }
    return jde ? money_add(t->jde, l->amount, &t->jde, e)
               : money_add(t->ledger, l->amount, &t->ledger, e);
}

static int cmp_account(const void *a, const void *b)
{
    const struct rcn_account_total *x = a, *y = b;
    int c = strcmp(x->currency, y->currency);

    return c != 0 ? c : acct_cmp(&x->account, &y->account);
}

static int totals(struct results *r, struct mlc_err *e)
{
    struct rcn_day *d = r->d;
    int rc = MLC_OK;

    for (size_t i = 0; i < d->n_items && rc == MLC_OK; i++) {
        const struct rcn_item *it = &d->items[i];

        if (it->ledger == RCN_LEDGER_POSTED)
            for (size_t k = 0; k < it->n_ledger_lines && rc == MLC_OK; k++)
                rc = account_add(r, it, &it->ledger_lines[k], false, e);
        for (size_t j = 0; j < it->n_jde && rc == MLC_OK; j++)
            for (size_t k = 0; k < it->jde[j].n_lines && rc == MLC_OK; k++)
                rc = account_add(r, it, &it->jde[j].lines[k], true, e);
    }
    if (rc != MLC_OK)
        return rc;
    if (d->n_accounts > 1)
        qsort(d->accounts, d->n_accounts, sizeof(*d->accounts), cmp_account);
    /* One balance per currency: the accounts are sorted by currency. */
    for (size_t i = 0; i < d->n_accounts && rc == MLC_OK; i++) {
        struct rcn_balance *b = d->n_balances > 0 ? &d->balances[d->n_balances - 1] : NULL;

        if (b == NULL || strcmp(b->currency, d->accounts[i].currency) != 0) {
            struct rcn_balance *v = realloc(d->balances, (d->n_balances + 1) * sizeof(*v));

            if (v == NULL)
                return mlc_err_set(e, MLC_ENOMEM, "out of memory");
            d->balances = v;
            b = &v[d->n_balances++];
            memset(b, 0, sizeof(*b));
            snprintf(b->currency, sizeof(b->currency), "%s", d->accounts[i].currency);
            b->exponent = d->accounts[i].exponent;
        }
        if ((rc = money_add(b->ledger_sum, d->accounts[i].ledger, &b->ledger_sum, e)) == MLC_OK)
            rc = money_add(b->jde_sum, d->accounts[i].jde, &b->jde_sum, e);
    }
    return rc;
}

int rcn_compare(struct rcn_day *d, struct mlc_err *e)
{
    struct results r = { .d = d };
    int rc = MLC_OK;

    results_clear(d);
    items_sort(d);
    for (size_t i = 0; i < d->n_items && rc == MLC_OK; i++)
        rc = compare_item(&r, i, e);
    if (rc == MLC_OK)
        rc = totals(&r, e);
    if (rc != MLC_OK)
        results_clear(d);
    return rc;
}

void rcn_set_description(struct rcn_day *d, const struct cfg_account *a, const char *desc)
{
    for (size_t i = 0; i < d->n_accounts; i++)
        if (acct_eq(&d->accounts[i].account, a))
            snprintf(d->accounts[i].description, sizeof(d->accounts[i].description), "%s",
                     desc != NULL ? desc : "");
}

/* ---- the ledger's document ------------------------------------------------------- */

int rcn_item_set_ledger_doc(struct rcn_item *it, const struct post_doc *doc, struct mlc_err *e)
{
    struct rcn_line *ls = NULL;
    int64_t pay = 0;
    int rc;

    if (doc->n_lines > 0 && (ls = calloc(doc->n_lines, sizeof(*ls))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < doc->n_lines; i++) {
        ls[i].account = doc->lines[i].account;
        ls[i].amount = doc->lines[i].amount;
        if (doc->lines[i].role == POST_ROLE_PAYMENT || doc->lines[i].role == POST_ROLE_UNMATCHED)
            if ((rc = money_add(pay, doc->lines[i].amount, &pay, e)) != MLC_OK)
                goto out;
    }
    /* What the customer paid (sale) or got back (refund): the payment side,
     * which voucher mode leaves to the AP offset as the gross. */
    if (doc->mode == CFG_POST_VOUCHER)
        pay = doc->gross;
    it->ledger_amount = doc->kind == POST_KIND_REFUND ? -pay : pay;
    it->ledger_gross = doc->gross;
    it->ledger_voucher = doc->mode == CFG_POST_VOUCHER;
    if (it->currency[0] == '\0' || it->exponent < 0) {
        snprintf(it->currency, sizeof(it->currency), "%s", doc->currency);
        it->exponent = doc->exponent;
    }
    rc = rcn_item_set_ledger_lines(it, ls, doc->n_lines, e);
out:
    free(ls);
    return rc;
}
