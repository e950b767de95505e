#include "report/gather.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/bc_decode.h"
#include "core/jobkind.h"
#include "core/json.h"
#include "core/money.h"
#include "core/order.h"
#include "core/tz.h"
#include "jde/ais_data.h"
#include "sync/cutover.h"
#include "sync/env.h"
#include "sync/flow.h"
#include "sync/posting.h"

#define ORDER_PREFIX "order:"

struct gather {
    struct env                   *env;
    struct store                 *st;
    const struct mlc_config      *cfg;
    const struct rcn_gather_opts *o;
    struct rcn_day               *d;
    const char                   *prefix;
    char                          kco[6];
    int64_t                       start, end;   /* the day, Unix seconds [start, end) */
    /* Orders of other days whose refunds fall in the day: currency only. */
    struct order_cur { int64_t id; char cur[RCN_CUR_SIZE]; int exp; int64_t created; } *oc;
    size_t                        n_oc;
};

static void progress(struct gather *g, const char *stage, size_t n)
{
    if (g->o != NULL && g->o->progress != NULL)
        g->o->progress(g->o->progress_ctx, stage, n);
}

/* The local day's [start, end) in Unix seconds, in the process zone. */
static int rcn_day_bounds(const struct jdate_civil *day, int64_t *start, int64_t *end,
                   struct mlc_err *e)
{
    struct jdate_civil next;
    int64_t s0, e0;
    int rc;

    /* The offset at local midnight: guessed with the offset at UTC
     * midnight, then taken again at the instant found (DST moves it). */
    if ((rc = jdate_civil_add_days(day, 1, &next, e)) != MLC_OK ||
        (rc = jdate_civil_to_unix(day, 0, 0, &s0, e)) != MLC_OK ||
        (rc = jdate_civil_to_unix(&next, 0, 0, &e0, e)) != MLC_OK)
        return rc;
    if ((rc = jdate_civil_to_unix(day, 0, tz_offset_min(s0), start, e)) != MLC_OK ||
        (rc = jdate_civil_to_unix(day, 0, tz_offset_min(*start), start, e)) != MLC_OK ||
        (rc = jdate_civil_to_unix(&next, 0, tz_offset_min(e0), end, e)) != MLC_OK)
        return rc;
    return jdate_civil_to_unix(&next, 0, tz_offset_min(*end), end, e);
}

/* ---- BigCommerce ------------------------------------------------------------------ */

static int add_bc_totals(struct gather *g, const struct order *o, struct mlc_err *e)
{
    struct rcn_bc_total *t = NULL;
    int64_t products = 0, fees = 0, disc = 0, net = 0;
    int rc;

    if ((rc = rcn_bc_total_get(g->d, o->currency, o->exponent, &t, e)) != MLC_OK)
        return rc;
    for (size_t i = 0; i < o->n_products && rc == MLC_OK; i++)
        if (o->products[i].parent_order_product_id == 0)
            rc = money_add(products, o->products[i].total_ex_tax, &products, e);
    for (size_t i = 0; i < o->n_fees && rc == MLC_OK; i++)
        rc = money_add(fees, o->fees[i].cost_ex_tax, &fees, e);
    if (rc == MLC_OK && (rc = money_add(o->discount_amount, o->coupon_discount, &disc, e)) == MLC_OK)
        rc = money_sub(products, disc, &net, e);
    if (rc != MLC_OK)
        return rc;
    t->orders++;
    if ((rc = money_add(t->net_sales, net, &t->net_sales, e)) ||
        (rc = money_add(t->tax, o->total_tax, &t->tax, e)) ||
        (rc = money_add(t->shipping, o->shipping_cost_ex_tax, &t->shipping, e)) ||
        (rc = money_add(t->handling, o->handling_cost_ex_tax, &t->handling, e)) ||
        (rc = money_add(t->wrapping, o->wrapping_cost_ex_tax, &t->wrapping, e)) ||
        (rc = money_add(t->fees, fees, &t->fees, e)) ||
        (rc = money_add(t->discounts, disc, &t->discounts, e)) ||
        (rc = money_add(t->total, o->total_inc_tax, &t->total, e)))
        return rc;
    return rcn_bc_add_payment(t, o->payment_provider_id, o->payment_method, o->total_inc_tax, e);
}

static int on_order(struct gather *g, const json_t *obj, struct mlc_err *e)
{
    struct order o = { 0 };
    struct rcn_item *it = NULL;
    char key[POST_KEY_MAX + 1];
    int rc;

    if ((rc = bcd_order(obj, &o, e)) != MLC_OK)
        goto out;
    if (o.date_created < g->start || o.date_created >= g->end)
        goto out;   /* the list's bounds are inclusive to the second */
    if ((rc = post_key(g->prefix, o.id, POST_KIND_SALE, 0, key, sizeof(key))) != MLC_OK ||
        (rc = rcn_item_get(g->d, g->prefix, key, &it, e)) != MLC_OK) {
        rc = mlc_err_set(e, MLC_EINVAL, "order %" PRId64 ": no document key", o.id);
        goto out;
    }
    it->bc_seen = true;
    it->bc_status = o.status_id;
    it->bc_paid = post_is_paid(o.status_id, &g->cfg->posting);
    it->bc_before_golive = cutover_before(&g->cfg->orders, o.id, o.date_created);
    it->bc_amount = o.total_inc_tax;
    snprintf(it->currency, sizeof(it->currency), "%s", o.currency);
    it->exponent = o.exponent;
    if (it->bc_paid && !it->bc_before_golive && o.exponent >= 0)
        rc = add_bc_totals(g, &o, e);
out:
    order_clear(&o);
    return rc;
}

/* Every item of a pager to fn; n counts them. */
static int walk(struct gather *g, struct bc_pager *p, const char *stage,
                int (*fn)(struct gather *, const json_t *, struct mlc_err *), struct mlc_err *e)
{
    size_t n = 0, i;
    json_t *items = NULL, *it;
    int rc;

    for (;;) {
        if ((rc = bc_pager_next(p, &items, e)) != MLC_OK || items == NULL)
            return rc;
        json_array_foreach(items, i, it) {
            if ((rc = fn(g, it, e)) != MLC_OK)
                break;
            n++;
        }
        json_decref(items);
        progress(g, stage, n);
        if (rc != MLC_OK)
            return rc;
    }
}

/* The currency and creation time of a refund's order. */
static int order_cur(struct gather *g, int64_t id, struct order *o, struct mlc_err *e)
{
    char key[POST_KEY_MAX + 1];
    struct rcn_item *it;
    struct bc_client *bc;
    json_t *obj = NULL;
    int rc;

    o->id = id;
    if (post_key(g->prefix, id, POST_KIND_SALE, 0, key, sizeof(key)) == MLC_OK &&
        (it = rcn_item_find(g->d, key)) != NULL && it->bc_seen) {
        snprintf(o->currency, sizeof(o->currency), "%s", it->currency);
        o->exponent = it->exponent;
        o->date_created = g->start;
        return MLC_OK;
    }
    for (size_t i = 0; i < g->n_oc; i++)
        if (g->oc[i].id == id) {
            snprintf(o->currency, sizeof(o->currency), "%s", g->oc[i].cur);
            o->exponent = g->oc[i].exp;
            o->date_created = g->oc[i].created;
            return MLC_OK;
        }
    if ((rc = env_bc(g->env, &bc, e)) != MLC_OK || (rc = bc_order_get(bc, id, &obj, e)) != MLC_OK)
        return rc;
    rc = bcd_order(obj, o, e);
    json_decref(obj);
    if (rc == MLC_OK) {
        struct order_cur *v = realloc(g->oc, (g->n_oc + 1) * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        g->oc = v;
        v[g->n_oc] = (struct order_cur){ .id = id, .exp = o->exponent,
                                         .created = o->date_created };
        snprintf(v[g->n_oc].cur, sizeof(v->cur), "%s", o->currency);
        g->n_oc++;
    }
    return rc;
}

static int on_refund(struct gather *g, const json_t *obj, struct mlc_err *e)
{
    struct order o = { 0 };
    struct order_refund r = { 0 };
    struct rcn_item *it = NULL;
    struct rcn_bc_total *t = NULL;
    char key[POST_KEY_MAX + 1];
    json_int_t oid = json_integer_value(json_object_get(obj, "order_id"));
    int rc;

    if (oid <= 0)
        return mlc_err_set(e, MLC_EPROTO, "a refund without order_id");
    if ((rc = order_cur(g, oid, &o, e)) != MLC_OK || (rc = bcd_refund(obj, &o, &r, e)) != MLC_OK)
        goto out;
    if (r.created != 0 && (r.created < g->start || r.created >= g->end))
        goto out;
    if ((rc = post_key(g->prefix, oid, POST_KIND_REFUND, r.id, key, sizeof(key))) != MLC_OK ||
        (rc = rcn_item_get(g->d, g->prefix, key, &it, e)) != MLC_OK) {
        rc = mlc_err_set(e, MLC_EINVAL, "refund %" PRId64 ": no document key", r.id);
        goto out;
    }
    it->bc_seen = it->bc_paid = true;
    it->bc_before_golive = cutover_before(&g->cfg->orders, oid, o.date_created);
    it->bc_amount = r.total_amount;
    snprintf(it->currency, sizeof(it->currency), "%s", o.currency);
    it->exponent = o.exponent;
    if (it->bc_before_golive || o.exponent < 0)
        goto out;
    if ((rc = rcn_bc_total_get(g->d, o.currency, o.exponent, &t, e)) == MLC_OK &&
        (rc = money_add(t->refunded, r.total_amount, &t->refunded, e)) == MLC_OK)
        rc = money_add(t->refunded_tax, r.total_tax, &t->refunded_tax, e);
    t->refunds += rc == MLC_OK;
out:
    order_refund_clear(&r);
    order_clear(&o);
    return rc;
}

static int read_bc(struct gather *g, struct mlc_err *e)
{
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    char from[JDATE_ISO8601_SIZE], to[JDATE_ISO8601_SIZE];
    struct bc_refund_filter rf = { .created_min = from, .created_max = to };
    struct bc_client *bc;
    struct bc_pager p;
    int rc;

    if ((rc = env_bc(g->env, &bc, e)) != MLC_OK ||
        (rc = jdate_iso8601_format(g->start, from, sizeof(from), e)) != MLC_OK ||
        (rc = jdate_iso8601_format(g->end - 1, to, sizeof(to), e)) != MLC_OK)
        return rc;
    f.min_date_created = from;
    f.max_date_created = to;
    f.sort = "id:asc";
    if ((rc = bc_orders_pager(bc, &f, BC_V2_LIMIT_MAX, &p, e)) != MLC_OK)
        return rc;
    rc = walk(g, &p, "BigCommerce orders", on_order, e);
    bc_pager_free(&p);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "BigCommerce orders of the day");
        return rc;
    }
    if ((rc = bc_refunds_pager(bc, &rf, BC_V3_LIMIT_MAX, &p, e)) != MLC_OK)
        return rc;
    rc = walk(g, &p, "BigCommerce refunds", on_refund, e);
    bc_pager_free(&p);
    if (rc != MLC_OK)
        mlc_err_wrap(e, "BigCommerce refunds of the day");
    return rc;
}

/* ---- the ledger and the jobs -------------------------------------------------------- */

static enum rcn_ledger ledger_state(enum store_ledger_state s)
{
    return s == STORE_LEDGER_POSTED ? RCN_LEDGER_POSTED :
           s == STORE_LEDGER_UNKNOWN ? RCN_LEDGER_UNKNOWN : RCN_LEDGER_PENDING;
}

static int ledger_into(struct rcn_item *it, const struct store_ledger *l, struct mlc_err *e)
{
    struct post_doc doc = { 0 };
    json_t *j = NULL;
    int rc = MLC_OK;

    it->ledger = ledger_state(l->state);
    it->ledger_doc = l->doc_number;
    if (l->request == NULL || jx_loads(l->request, strlen(l->request), 0, &j, NULL) != MLC_OK)
        return MLC_OK;   /* no document to compare: the row's state still counts */
    if (post_doc_from_json(j, &doc, NULL) == MLC_OK)
        rc = rcn_item_set_ledger_doc(it, &doc, e);
    post_doc_clear(&doc);
    json_decref(j);
    return rc;
}

struct ledger_walk {
    struct gather   *g;
    int64_t          order_id;
    struct store_ledger *rows;
    size_t           n;
    bool             oom;
};

static int collect_row(const struct store_ledger *l, void *ctx)
{
    struct ledger_walk *w = ctx;
    struct store_ledger *v = realloc(w->rows, (w->n + 1) * sizeof(*v));

    if (v == NULL) {
        w->oom = true;
        return 1;
    }
    w->rows = v;
    memset(&v[w->n], 0, sizeof(*v));
    v[w->n].key = strdup(l->key);
    v[w->n].request = l->request != NULL ? strdup(l->request) : NULL;
    v[w->n].state = l->state;
    v[w->n].doc_number = l->doc_number;
    if (v[w->n].key == NULL) {
        free(v[w->n].request);
        w->oom = true;
        return 1;
    }
    w->n++;
    return 0;
}

/* The ledger rows of one order: those of the day's items, and the
 * reversal of an order of the day. */
static int ledger_order(struct gather *g, int64_t order_id, struct mlc_err *e)
{
    struct ledger_walk w = { .g = g, .order_id = order_id };
    char entity[32], sale[POST_KEY_MAX + 1];
    int rc;

    snprintf(entity, sizeof(entity), ORDER_PREFIX "%" PRId64, order_id);
    post_key(g->prefix, order_id, POST_KIND_SALE, 0, sale, sizeof(sale));
    rc = store_ledger_list(g->st, entity, collect_row, &w, e);
    if (rc == MLC_OK && w.oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < w.n && rc == MLC_OK; i++) {
        struct rcn_item *it = rcn_item_find(g->d, w.rows[i].key);
        enum rcn_kind kind;
        int64_t oid, rid;

        if (it == NULL && rcn_key_parse(g->prefix, w.rows[i].key, &kind, &oid, &rid) == MLC_OK &&
            kind == RCN_KIND_REVERSAL && rcn_item_find(g->d, sale) != NULL &&
            (rc = rcn_item_get(g->d, g->prefix, w.rows[i].key, &it, e)) != MLC_OK)
            break;
        if (it != NULL)
            rc = ledger_into(it, &w.rows[i], e);
    }
    for (size_t i = 0; i < w.n; i++) {
        free(w.rows[i].key);
        free(w.rows[i].request);
    }
    free(w.rows);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int read_ledger(struct gather *g, struct mlc_err *e)
{
    size_t n = g->d->n_items, k = 0;
    int64_t *ids = n > 0 ? malloc(n * sizeof(*ids)) : NULL;
    int rc = MLC_OK;

    if (n > 0 && ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = g->d->items[i].order_id;
    if (n > 1)
        qsort(ids, n, sizeof(*ids), cmp_i64);
    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        if (i > 0 && ids[i] == ids[i - 1])
            continue;
        rc = ledger_order(g, ids[i], e);
        if (++k % 200 == 0)
            progress(g, "ledger", k);
    }
    free(ids);
    return rc;
}

struct job_seen {
    int64_t      order_id;
    enum rcn_job job;
    int64_t      id;
    char         reason[RCN_TEXT_SIZE];
};

struct job_walk {
    struct job_seen *v;
    size_t           n;
    bool             oom;
};

static int on_job(const struct store_job *j, void *ctx)
{
    struct job_walk *w = ctx;
    struct job_seen *v;
    long long id;

    if (strcmp(j->kind, JOB_ORDER_SYNC) != 0 || strncmp(j->key, ORDER_PREFIX, 6) != 0)
        return 0;
    id = strtoll(j->key + 6, NULL, 10);
    if (id <= 0)
        return 0;
    if ((v = realloc(w->v, (w->n + 1) * sizeof(*v))) == NULL) {
        w->oom = true;
        return 1;
    }
    w->v = v;
    v[w->n].order_id = id;
    v[w->n].id = j->id;
    v[w->n].job = j->state == STORE_JOB_HELD ? RCN_JOB_HELD :
                  j->state == STORE_JOB_FAILED ? RCN_JOB_FAILED : RCN_JOB_WAITING;
    snprintf(v[w->n].reason, sizeof(v->reason), "%s", j->last_error != NULL ? j->last_error : "");
    w->n++;
    return 0;
}

/* The live order.sync jobs (never the done ones: there are too many, and
 * a done job explains nothing that the ledger does not). */
static int read_jobs(struct gather *g, struct mlc_err *e)
{
    static const enum store_job_state states[] = { STORE_JOB_READY, STORE_JOB_RUNNING,
                                                   STORE_JOB_HELD, STORE_JOB_FAILED };
    struct job_walk w = { 0 };
    int rc = MLC_OK;

    for (size_t i = 0; i < 4 && rc == MLC_OK; i++)
        rc = store_job_list(g->st, (int)states[i], 0, on_job, &w, e);
    if (rc == MLC_OK && w.oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->d->n_items && rc == MLC_OK; i++) {
        struct rcn_item *it = &g->d->items[i];

        for (size_t k = 0; k < w.n; k++)
            if (w.v[k].order_id == it->order_id && w.v[k].job >= it->job) {
                it->job = w.v[k].job;
                it->job_id = w.v[k].id;
                snprintf(it->job_reason, sizeof(it->job_reason), "%s", w.v[k].reason);
            }
    }
    free(w.v);
    return rc;
}

/* Items someone handled by hand (`mlc dismiss`): listed apart, with who
 * and why, never as differences. An order's dismissal covers its documents. */
static int read_dismissed(struct gather *g, struct mlc_err *e)
{
    int rc = MLC_OK;

    for (size_t i = 0; i < g->d->n_items && rc == MLC_OK; i++) {
        struct rcn_item *it = &g->d->items[i];
        struct store_dismissal dm = { 0 };
        char key[40];

        if (it->order_id <= 0)
            continue;
        snprintf(key, sizeof(key), "order:%" PRId64, it->order_id);
        rc = store_dismissal_get(g->st, key, &dm, e);
        if (rc == MLC_OK) {
            it->dismissed = true;
            snprintf(it->dismissed_by, sizeof(it->dismissed_by), "%s", dm.by ? dm.by : "");
            snprintf(it->dismissed_note, sizeof(it->dismissed_note), "%s",
                     dm.note ? dm.note : "");
        } else if (rc == MLC_ENOTFOUND) {
            rc = MLC_OK;
        }
        store_dismissal_clear(&dm);
    }
    return rc;
}

/* ---- JDE ---------------------------------------------------------------------------- */

struct jde_walk {
    struct gather *g;
    bool           by_date;  /* the GL-date pass: only keys nobody knows */
    size_t         rows;
};

static int row_exponent(struct rcn_item *it, const json_t *row, const char *table)
{
    char col[16], cur[8];
    int exp;

    if (it->exponent >= 0)
        return it->exponent;
    snprintf(col, sizeof(col), "%s_CRCD", table);
    if (ais_row_str(row, col, cur, sizeof(cur), NULL) == MLC_OK &&
        money_exponent(cur, &exp, NULL) == MLC_OK) {
        snprintf(it->currency, sizeof(it->currency), "%s", cur);
        it->exponent = exp;
        return exp;
    }
    return 2;
}

static int on_jde_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct jde_walk *w = ctx;
    struct gather *g = w->g;
    bool voucher = g->d->voucher;
    const char *t = voucher ? "F0411" : "F0911";
    char col[16], vinv[64], dct[3], kco[6];
    struct rcn_item *it;
    struct rcn_jdoc *doc = NULL;
    int64_t docno = 0, amount = 0;
    int rc;

#define COL(c) (snprintf(col, sizeof(col), "%s_%s", t, c), col)
    if ((rc = ais_row_str(row, COL("VINV"), vinv, sizeof(vinv), e)) != MLC_OK ||
        (rc = ais_row_str(row, COL("DCT"), dct, sizeof(dct), e)) != MLC_OK ||
        (rc = ais_row_str(row, COL("KCO"), kco, sizeof(kco), e)) != MLC_OK ||
        (rc = ais_row_i64(row, COL("DOC"), &docno, e)) != MLC_OK)
        return rc;
    w->rows++;
    it = rcn_item_find(g->d, vinv);
    if (w->by_date) {
        struct store_ledger l = { 0 };

        if (it != NULL)
            return MLC_OK;   /* read by key already */
        rc = store_ledger_get(g->st, vinv, &l, e);
        store_ledger_clear(&l);
        if (rc == MLC_OK)
            return MLC_OK;   /* the ledger has it: a document of another day's order */
        if (rc != MLC_ENOTFOUND)
            return rc;
        if (rcn_item_get(g->d, g->prefix, vinv, &it, NULL) != MLC_OK)
            return MLC_OK;   /* not one of our keys: keyed by hand for something else */
    }
    if (it == NULL)
        return MLC_OK;
    if ((rc = rcn_item_add_jdoc(it, docno, dct, kco, &doc, e)) != MLC_OK)
        return rc;
    if (voucher) {
        if ((rc = ais_row_amount(row, COL("AG"), row_exponent(it, row, t), MONEY_ROUND_HALF_AWAY,
                                 &amount, e)) != MLC_OK)
            return rc;
        doc->has_gross = true;
        return money_add(doc->gross, amount, &doc->gross, e);
    } else {
        struct cfg_account a = { 0 };

        if ((rc = ais_row_str(row, COL("MCU"), a.bu, sizeof(a.bu), e)) != MLC_OK ||
            (rc = ais_row_str(row, COL("OBJ"), a.obj, sizeof(a.obj), e)) != MLC_OK ||
            (rc = ais_row_str(row, COL("SUB"), a.sub, sizeof(a.sub), e)) != MLC_OK ||
            (rc = ais_row_amount(row, COL("AA"), row_exponent(it, row, t), MONEY_ROUND_HALF_AWAY,
                                 &amount, e)) != MLC_OK)
            return rc;
        return rcn_jdoc_add(doc, &a, amount, e);
    }
#undef COL
}

static int jde_query(struct gather *g, struct ais_query **out, struct mlc_err *e)
{
    bool voucher = g->d->voucher;
    const char *dct = g->cfg->posting.document_type;
    int rc;

    if ((rc = ais_query_new(voucher ? "F0411" : "F0911", out, e)) != MLC_OK)
        return rc;
    if (voucher)
        rc = ais_query_columns(*out, "KCO|DCT|DOC|SFX|VINV|AG|CRCD", e);
    else
        rc = ais_query_columns(*out, "KCO|DCT|DOC|JELN|LT|VINV|MCU|OBJ|SUB|AA|CRCD", e);
    if (rc == MLC_OK)
        rc = ais_query_key(*out, voucher ? "KCO|DCT|DOC|SFX" : "KCO|DCT|DOC|JELN|LT", e);
    if (rc == MLC_OK)
        rc = ais_query_eq(*out, "KCO", g->kco, e);
    if (rc == MLC_OK && !voucher) {
        rc = ais_query_eq(*out, "LT", g->cfg->posting.ledger_type != NULL
                                          ? g->cfg->posting.ledger_type : "AA", e);
        if (rc == MLC_OK && dct != NULL && dct[0] != '\0')
            rc = ais_query_eq(*out, "DCT", dct, e);
    }
    return rc;
}

static int read_jde(struct gather *g, struct mlc_err *e)
{
    struct jde_walk w = { .g = g };
    size_t n = g->d->n_items;
    struct ais_value *vals = n > 0 ? calloc(n, sizeof(*vals)) : NULL;
    char **keys = n > 0 ? calloc(n, sizeof(*keys)) : NULL;
    struct ais_query *q = NULL;
    struct jdate_civil day = g->d->day;
    int rc = MLC_OK;

    if (n > 0 && (vals == NULL || keys == NULL)) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    /* Keys copied: the walk may add items (and move the array). */
    for (size_t i = 0; i < n && rc == MLC_OK; i++)
        if ((keys[i] = strdup(g->d->items[i].key)) == NULL)
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t at = 0; at < n && rc == MLC_OK; at += AIS_EXISTS_CHUNK) {
        size_t k = n - at < AIS_EXISTS_CHUNK ? n - at : AIS_EXISTS_CHUNK;

        for (size_t i = 0; i < k; i++)
            vals[i] = AIS_LIT(keys[at + i]);
        if ((rc = jde_query(g, &q, e)) == MLC_OK &&
            (rc = ais_query_where(q, "VINV", AIS_OP_LIST, vals, k, e)) == MLC_OK)
            rc = ais_query_run(env_ais(g->env), q, on_jde_row, &w, NULL, e);
        ais_query_free(q);
        q = NULL;
        progress(g, "JDE documents", at + k);
    }
    /* The day's documents under our prefix that no key above named. */
    if (rc == MLC_OK) {
        struct ais_value dv = AIS_DATE(day), pv = AIS_LIT(g->prefix);

        w.by_date = true;
        if ((rc = jde_query(g, &q, e)) == MLC_OK &&
            (rc = ais_query_where(q, "DGJ", AIS_OP_EQUAL, &dv, 1, e)) == MLC_OK &&
            (rc = ais_query_where(q, "VINV", AIS_OP_STR_START_WITH, &pv, 1, e)) == MLC_OK)
            rc = ais_query_run(env_ais(g->env), q, on_jde_row, &w, NULL, e);
        ais_query_free(q);
    }
    if (rc != MLC_OK)
        mlc_err_wrap(e, "JDE documents of the day");
out:
    for (size_t i = 0; keys != NULL && i < n; i++)
        free(keys[i]);
    free(keys);
    free(vals);
    return rc;
}

/* F0901 descriptions of the accounts in the totals (best effort: a report
 * without descriptions is still a report). */
static int describe(struct gather *g, struct mlc_err *e)
{
    size_t n = g->d->n_accounts;
    struct cfg_account *a;
    struct ais_account *out;
    int rc;

    if (n == 0)
        return MLC_OK;
    a = calloc(n, sizeof(*a));
    out = calloc(n, sizeof(*out));
    if (a == NULL || out == NULL) {
        free(a);
        free(out);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        a[i] = g->d->accounts[i].account;
    rc = ais_account_lookup_many(env_ais(g->env), a, n, out, e);
    for (size_t i = 0; i < n && rc == MLC_OK; i++)
        if (out[i].exists)
            rcn_set_description(g->d, &a[i], out[i].desc);
    free(a);
    free(out);
    return rc;
}

int rcn_gather_day(struct env *env, struct store *st, const struct mlc_config *cfg,
                   const struct jdate_civil *day, const struct rcn_gather_opts *o,
                   struct rcn_day *out, struct mlc_err *e)
{
    struct gather g = { .env = env, .st = st, .cfg = cfg, .o = o, .d = out };
    int rc;

    rcn_day_init(out, day, cfg->posting.mode == CFG_POST_VOUCHER, cfg->posting.timezone);
    g.prefix = cfg->posting.key_prefix != NULL ? cfg->posting.key_prefix : "BC";
    flow_kco_pad(cfg->posting.company, g.kco);
    if ((rc = rcn_day_bounds(day, &g.start, &g.end, e)) != MLC_OK)
        return rc;
    if ((rc = read_bc(&g, e)) == MLC_OK && (rc = read_ledger(&g, e)) == MLC_OK &&
        (rc = read_jobs(&g, e)) == MLC_OK && (rc = read_dismissed(&g, e)) == MLC_OK &&
        (rc = read_jde(&g, e)) == MLC_OK && (rc = rcn_compare(out, e)) == MLC_OK)
        rc = describe(&g, e);
    free(g.oc);
    return rc;
}
