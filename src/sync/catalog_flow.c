/*
 * catalog_flow: JDE items and prices -> BigCommerce catalog. See the header
 * for the poll's steps and failure rules.
 */
#include "sync/catalog_flow.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "core/jobkind.h"
#include "core/json.h"
#include "core/log.h"
#include "core/money.h"
#include "jde/ais_data.h"
#include "sync/env.h"

#define MOD       "catalog"
#define ACTOR     "scheduler"
#define ITM_CHUNK 500   /* ITM values per LIST condition (AIS allows 1000) */

struct cat_item {
    int64_t            itm;
    bool               master;          /* its F4101 row was read */
    char               litm[32], aitm[32], dsc1[64], uom1[4];
    const char        *sku;             /* borrowed: cfg map or litm/aitm */
    bool               priced;
    int64_t            price;           /* minor units at the exponent */
    int                rank;            /* 2 configured branch, 1 item level */
    int32_t            eftj;
    struct jdate_stamp upd;
    bool               found;           /* in BigCommerce */
    int64_t            pid, vid;
    bool               refused;         /* BigCommerce refused its update */
    char               refusal[200];    /* BigCommerce's message then */
};

struct poll {
    struct env                *env;
    struct store              *st;
    const struct cfg_catalog  *cc;
    const char                *actor;    /* of the audit rows */
    struct bc_client          *bc;
    struct bc_product         *pre;      /* products already read (product
                                            jobs), sorted by id; borrowed */
    size_t                     npre;
    char                       currency[8];
    int                        exp;
    int64_t                   *itms;     /* affected ITMs, then sorted unique */
    size_t                     n_itms, cap_itms;
    struct cat_item           *items;    /* sorted by itm */
    size_t                     n;
    struct jdate_stamp         wm_items, wm_prices, max_items, max_prices;
    int                        transient; /* first push failure without answer */
    char                       transient_msg[MLC_ERR_MSG_MAX];
    struct cat_stats          *out;
};

/* ---- small helpers ------------------------------------------------------------ */

int cat_wm_format(const struct jdate_stamp *w, char *buf, size_t cap, struct mlc_err *e)
{
    int n = snprintf(buf, cap, "%06" PRId32 "/%06" PRId32, w->julian, w->hhmmss);

    if (n < 0 || (size_t)n >= cap)
        return mlc_err_set(e, MLC_ETOOBIG, "catalog watermark: buffer too small");
    return MLC_OK;
}

static int parse_part(const char *s, const char *end, int32_t *out)
{
    int64_t v = 0;

    if (s == end || end - s > 7)
        return MLC_EINVAL;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return MLC_EINVAL;
        v = v * 10 + (*s - '0');
    }
    *out = (int32_t)v;
    return MLC_OK;
}

int cat_wm_parse(const char *s, struct jdate_stamp *out, struct mlc_err *e)
{
    const char *slash = s != NULL ? strchr(s, '/') : NULL;
    struct jdate_stamp w = { 0, 0 };
    int rc;

    if (slash == NULL || parse_part(s, slash, &w.julian) != MLC_OK ||
        parse_part(slash + 1, slash + strlen(slash), &w.hhmmss) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "catalog watermark \"%s\": expected CYYDDD/HHMMSS",
                           s != NULL ? s : "(null)");
    if ((rc = jdate_stamp_check(&w, e)) != MLC_OK) {
        mlc_err_wrap(e, "catalog watermark \"%s\"", s);
        return rc;
    }
    *out = w;
    return MLC_OK;
}

const char *cat_sku_for(const struct cfg_catalog *cfg, const char *item)
{
    for (size_t i = 0; i < cfg->n_sku_map; i++)
        if (strcmp(cfg->sku_map[i].match, item) == 0)
            return cfg->sku_map[i].value;
    return item;
}

static int wm_load(struct store *st, const char *name, struct jdate_stamp *out,
                   struct mlc_err *e)
{
    char buf[64];
    int rc = store_watermark_get(st, name, buf, sizeof(buf), e);

    out->julian = out->hhmmss = 0;
    if (rc == MLC_ENOTFOUND) {
        mlc_err_clear(e);
        return MLC_OK;
    }
    return rc == MLC_OK ? cat_wm_parse(buf, out, e) : rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int add_itm(struct poll *p, int64_t itm, struct mlc_err *e)
{
    if (p->n_itms == p->cap_itms) {
        size_t cap = p->cap_itms != 0 ? p->cap_itms * 2 : 64;
        int64_t *v = realloc(p->itms, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu items", cap);
        p->itms = v;
        p->cap_itms = cap;
    }
    p->itms[p->n_itms++] = itm;
    return MLC_OK;
}

static struct cat_item *find_item(struct poll *p, int64_t itm)
{
    size_t lo = 0, hi = p->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->items[mid].itm == itm)
            return &p->items[mid];
        if (p->items[mid].itm < itm)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The row's (UPMJ, TDAY); a blank date is Julian 0. */
static int row_stamp(const json_t *row, const char *t, struct jdate_stamp *out,
                     struct mlc_err *e)
{
    char col[24];
    int64_t tday = 0;
    int rc;

    snprintf(col, sizeof(col), "%s_UPMJ", t);
    rc = ais_row_julian(row, col, &out->julian, e);
    if (rc < 0)
        return rc;
    snprintf(col, sizeof(col), "%s_TDAY", t);
    if ((rc = ais_row_i64(row, col, &tday, e)) != MLC_OK)
        return rc;
    if (tday < 0 || tday > 235959)
        return mlc_err_set(e, MLC_EINVAL, "%s: TDAY %" PRId64 " out of range", t, tday);
    out->hhmmss = (int32_t)tday;
    return MLC_OK;
}

/* A price as a JSON number. BigCommerce reads numbers as decimals; the
 * double of a decimal of at most 15 significant digits reads back as that
 * same shortest decimal, so no rounding noise reaches the catalog. */
static json_t *price_json(int64_t v, int exp)
{
    char buf[MONEY_FMT_MAX];

    if (money_format(v, exp, buf, sizeof(buf)) != MLC_OK)
        return NULL;
    return json_real(strtod(buf, NULL));
}

static void audit_item(struct poll *p, const char *sku, const char *action,
                       const char *outcome, const char *msg)
{
    char entity[300];
    json_t *d = json_pack("{s:s}", "message", msg != NULL ? msg : "");
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    struct mlc_err ae = { 0 };

    snprintf(entity, sizeof(entity), "sku:%s", sku);
    if (store_audit_add(p->st, &(struct store_audit){
            .actor = p->actor, .entity = entity, .action = action, .outcome = outcome,
            .detail = text }, &ae) != MLC_OK)
        log_warn(MOD, "audit row not written", LF_STR("sku", sku), LF_ERR(&ae));
    free(text);
    json_decref(d);
}

/* ---- JDE reads ------------------------------------------------------------------ */

struct collect {
    struct poll        *p;
    const char         *table;   /* "F4101" / "F4106" */
    struct jdate_stamp *max;     /* newest stamp seen, or NULL */
    size_t             *count;
};

static int on_changed(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct collect *c = ctx;
    char col[24];
    int64_t itm = 0;
    int rc;

    snprintf(col, sizeof(col), "%s_ITM", c->table);
    if ((rc = ais_row_i64(row, col, &itm, e)) != MLC_OK)
        return rc;
    if (c->max != NULL) {
        struct jdate_stamp s;

        if ((rc = row_stamp(row, c->table, &s, e)) != MLC_OK)
            return rc;
        if (jdate_stamp_cmp(&s, c->max) > 0)
            *c->max = s;
    }
    (*c->count)++;
    return add_itm(c->p, itm, e);
}

/* CRCD, and UOM when configured (without it the item's UOM1 is checked per
 * row, since it differs by item). */
static int price_filters(struct poll *p, struct ais_query *q, struct mlc_err *e)
{
    int rc = ais_query_eq(q, "CRCD", p->currency, e);

    if (rc == MLC_OK && p->cc->price_uom != NULL)
        rc = ais_query_eq(q, "UOM", p->cc->price_uom, e);
    return rc;
}

static int run_query(struct poll *p, struct ais_query **q, ais_row_fn fn, void *ctx,
                     const char *what, struct mlc_err *e)
{
    int rc = ais_query_run(env_ais(p->env), *q, fn, ctx, NULL, e);

    ais_query_free(*q);
    *q = NULL;
    if (rc != MLC_OK)
        mlc_err_wrap(e, "%s", what);
    return rc;
}

/* Changed F4101 rows, changed F4106 rows, and F4106 rows whose window opens
 * today or closed yesterday (JDE's today). */
static int read_changes(struct poll *p, struct mlc_err *e)
{
    struct collect ci = { p, "F4101", &p->max_items, &p->out->item_rows };
    struct collect cp = { p, "F4106", &p->max_prices, &p->out->price_rows };
    struct collect cw = { p, "F4106", NULL, &p->out->price_rows };
    const struct ais_value today = { .special = AIS_SV_TODAY };
    const struct ais_value yesterday = { .special = AIS_SV_TODAY_MINUS_DAY, .text = "1" };
    struct ais_query *q = NULL;
    int rc;

    rc = ais_query_new("F4101", &q, e);
    if (rc == MLC_OK)
        rc = ais_query_columns(q, "ITM|UPMJ|TDAY", e);
    if (rc == MLC_OK)
        rc = ais_query_watermark(q, "UPMJ", "TDAY", &p->wm_items, e);
    if (rc != MLC_OK || (rc = run_query(p, &q, on_changed, &ci, "F4101 changes", e)) != MLC_OK)
        goto fail;
    q = NULL;
    rc = ais_query_new("F4106", &q, e);
    if (rc == MLC_OK)
        rc = ais_query_columns(q, "ITM|UPMJ|TDAY", e);
    if (rc == MLC_OK)
        rc = price_filters(p, q, e);
    if (rc == MLC_OK)
        rc = ais_query_watermark(q, "UPMJ", "TDAY", &p->wm_prices, e);
    if (rc != MLC_OK || (rc = run_query(p, &q, on_changed, &cp, "F4106 changes", e)) != MLC_OK)
        goto fail;
    for (int k = 0; k < 2; k++) {
        q = NULL;
        rc = ais_query_new("F4106", &q, e);
        if (rc == MLC_OK)
            rc = ais_query_columns(q, "ITM", e);
        if (rc == MLC_OK)
            rc = price_filters(p, q, e);
        if (rc == MLC_OK)
            rc = k == 0 ? ais_query_where(q, "EFTJ", AIS_OP_EQUAL, &today, 1, e)
                        : ais_query_where(q, "EXDJ", AIS_OP_EQUAL, &yesterday, 1, e);
        if (rc != MLC_OK ||
            (rc = run_query(p, &q, on_changed, &cw, "F4106 windows of today", e)) != MLC_OK)
            goto fail;
    }
    return MLC_OK;
fail:
    ais_query_free(q);
    return rc;
}

/* The affected ITMs sorted and unique, as items. */
static int make_items(struct poll *p, struct mlc_err *e)
{
    size_t n = 0;

    if (p->n_itms == 0)
        return MLC_OK;
    qsort(p->itms, p->n_itms, sizeof(*p->itms), cmp_i64);
    for (size_t i = 0; i < p->n_itms; i++)
        if (n == 0 || p->itms[n - 1] != p->itms[i])
            p->itms[n++] = p->itms[i];
    p->items = calloc(n, sizeof(*p->items));
    if (p->items == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu items", n);
    for (size_t i = 0; i < n; i++)
        p->items[i].itm = p->itms[i];
    p->n = n;
    p->out->items = n;
    return MLC_OK;
}

static int on_master(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct poll *p = ctx;
    struct cat_item *it;
    int64_t itm = 0;
    int rc;

    if ((rc = ais_row_i64(row, "F4101_ITM", &itm, e)) != MLC_OK)
        return rc;
    if ((it = find_item(p, itm)) == NULL)
        return MLC_OK;
    rc = ais_row_str(row, "F4101_LITM", it->litm, sizeof(it->litm), e);
    if (rc == MLC_OK)
        rc = ais_row_str(row, "F4101_AITM", it->aitm, sizeof(it->aitm), e);
    if (rc == MLC_OK)
        rc = ais_row_str(row, "F4101_DSC1", it->dsc1, sizeof(it->dsc1), e);
    if (rc == MLC_OK)
        rc = ais_row_str(row, "F4101_UOM1", it->uom1, sizeof(it->uom1), e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "item %" PRId64, itm);
        return rc;
    }
    it->master = true;
    return MLC_OK;
}

/* Row ranks: 2 for the configured branch, 1 for item level, 0 to ignore. */
static int price_rank(const struct poll *p, const char *mcu)
{
    if (mcu[0] == '\0')
        return 1;
    if (p->cc->price_branch != NULL && strcmp(mcu, p->cc->price_branch) == 0)
        return 2;
    return 0;
}

/* One effective F4106 row (the query already checked the window against
 * JDE's today): kept when it beats the item's current best. */
static int on_price(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct poll *p = ctx;
    struct cat_item *it;
    char mcu[16], uom[4];
    struct jdate_stamp upd;
    int64_t itm = 0, price = 0;
    int32_t eftj = 0;
    int rank, rc;

    if ((rc = ais_row_i64(row, "F4106_ITM", &itm, e)) != MLC_OK)
        return rc;
    if ((it = find_item(p, itm)) == NULL || !it->master)
        return MLC_OK;
    rc = ais_row_str(row, "F4106_MCU", mcu, sizeof(mcu), e);
    if (rc == MLC_OK)
        rc = ais_row_str(row, "F4106_UOM", uom, sizeof(uom), e);
    if (rc == MLC_OK && (rc = ais_row_julian(row, "F4106_EFTJ", &eftj, e)) > 0)
        rc = MLC_OK;
    if (rc == MLC_OK)
        rc = row_stamp(row, "F4106", &upd, e);
    if (rc == MLC_OK)
        rc = ais_row_amount(row, "F4106_UPRC", p->exp, MONEY_ROUND_HALF_AWAY, &price, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "price of item %" PRId64, itm);
        return rc;
    }
    rank = price_rank(p, mcu);
    if (rank == 0 || (p->cc->price_uom == NULL && strcmp(uom, it->uom1) != 0))
        return MLC_OK;
    if (it->priced && (rank < it->rank || (rank == it->rank && eftj < it->eftj) ||
                       (rank == it->rank && eftj == it->eftj &&
                        jdate_stamp_cmp(&upd, &it->upd) <= 0)))
        return MLC_OK;
    it->priced = true;
    it->rank = rank;
    it->eftj = eftj;
    it->upd = upd;
    it->price = price;
    return MLC_OK;
}

/* F4101 rows, then the effective F4106 rows (EFTJ <= TODAY and EXDJ >= TODAY
 * or blank, i.e. two queries) of items [from, to). */
static int read_chunk(struct poll *p, size_t from, size_t to, struct mlc_err *e)
{
    struct ais_value vals[ITM_CHUNK];
    const struct ais_value today = { .special = AIS_SV_TODAY };
    struct ais_query *q = NULL;
    size_t n = to - from;
    char (*txt)[24] = calloc(n, sizeof(*txt));
    int rc;

    if (txt == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for an item list");
    for (size_t i = 0; i < n; i++) {
        snprintf(txt[i], sizeof(txt[i]), "%" PRId64, p->items[from + i].itm);
        vals[i] = AIS_LIT(txt[i]);
    }
    rc = ais_query_new("F4101", &q, e);
    if (rc == MLC_OK)
        rc = ais_query_columns(q, "ITM|LITM|AITM|DSC1|UOM1", e);
    if (rc == MLC_OK)
        rc = ais_query_where(q, "ITM", AIS_OP_LIST, vals, n, e);
    if (rc != MLC_OK || (rc = run_query(p, &q, on_master, p, "F4101 items", e)) != MLC_OK)
        goto out;
    for (int k = 0; k < 2; k++) {
        q = NULL;
        rc = ais_query_new("F4106", &q, e);
        if (rc == MLC_OK)
            rc = ais_query_columns(q, "ITM|MCU|UOM|EFTJ|EXDJ|UPRC|UPMJ|TDAY", e);
        if (rc == MLC_OK)
            rc = ais_query_where(q, "ITM", AIS_OP_LIST, vals, n, e);
        if (rc == MLC_OK)
            rc = price_filters(p, q, e);
        if (rc == MLC_OK)
            rc = ais_query_where(q, "EFTJ", AIS_OP_LESS_EQUAL, &today, 1, e);
        if (rc == MLC_OK)
            rc = k == 0 ? ais_query_where(q, "EXDJ", AIS_OP_GREATER_EQUAL, &today, 1, e)
                        : ais_query_where(q, "EXDJ", AIS_OP_STR_BLANK, NULL, 0, e);
        if (rc != MLC_OK || (rc = run_query(p, &q, on_price, p, "F4106 prices", e)) != MLC_OK)
            goto out;
    }
    q = NULL;
out:
    ais_query_free(q);
    free(txt);
    return rc;
}

static int read_items(struct poll *p, struct mlc_err *e)
{
    int rc = MLC_OK;

    for (size_t from = 0; from < p->n && rc == MLC_OK; from += ITM_CHUNK)
        rc = read_chunk(p, from, from + ITM_CHUNK < p->n ? from + ITM_CHUNK : p->n, e);
    return rc;
}

/* ---- BigCommerce -------------------------------------------------------------- */

/* Product updates carry a name, a price (a product whose SKU has no single
 * variant of its own), or both. */
#define UPD_NAME  1
#define UPD_PRICE 2

struct push {
    json_t *variants, *products;
    size_t *vmap, *pmap;          /* update index -> item index */
    int    *pflags;               /* UPD_* per product update */
    size_t  nv, np;
};

static int cmp_product(const void *a, const void *b)
{
    int64_t x = ((const struct bc_product *)a)->id, y = ((const struct bc_product *)b)->id;

    return (x > y) - (x < y);
}

static const struct bc_product *find_product(const struct bc_product *v, size_t n, int64_t id)
{
    struct bc_product key = { .id = id };

    return n == 0 ? NULL : bsearch(&key, v, n, sizeof(*v), cmp_product);
}

static bool transient_status(int status)
{
    return status == 0 || status == 429 || status >= 500;
}

static void note_transient(struct poll *p, int code, const char *sku, const char *msg)
{
    if (p->transient != 0)
        return;
    p->transient = code < 0 ? code : MLC_EIO;
    snprintf(p->transient_msg, sizeof(p->transient_msg), "SKU %s: %s", sku, msg);
}

/* The price BigCommerce sells the item at: the variant's own price when set,
 * else the product's. *known false when neither is a number. */
static int current_price(const struct poll *p, const struct bc_product *pr, int64_t vid,
                         bool *known, int64_t *out, struct mlc_err *e)
{
    const json_t *v = NULL;

    for (size_t i = 0; vid != 0 && i < pr->n_variants; i++)
        if (pr->variants[i].id == vid)
            v = json_object_get(pr->variants[i].raw, "price");
    if (!json_is_number(v))
        v = json_object_get(pr->raw, "price");
    *known = json_is_number(v);
    return *known ? jx_money_value(v, p->exp, MONEY_ROUND_HALF_AWAY, out, e) : MLC_OK;
}

static int add_update(json_t *arr, int64_t id, const char *name, const json_t *price,
                      struct mlc_err *e)
{
    json_t *o = json_pack("{s:I}", "id", (json_int_t)id);

    if (o == NULL || (name != NULL && json_object_set_new(o, "name", json_string(name)) != 0) ||
        (price != NULL && json_object_set(o, "price", (json_t *)price) != 0) ||
        json_array_append_new(arr, o) != 0) {
        json_decref(o);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a catalog update");
    }
    return MLC_OK;
}

/* What differs for one found item, added to the batches. */
static int plan_item(struct poll *p, struct push *u, size_t i, const struct bc_product *pr,
                     struct mlc_err *e)
{
    struct cat_item *it = &p->items[i];
    bool known = false, want_price, want_name;
    int64_t cur = 0;
    json_t *pj = NULL;
    int rc = MLC_OK, flags = 0;

    if ((rc = current_price(p, pr, it->vid, &known, &cur, e)) != MLC_OK) {
        mlc_err_wrap(e, "product %" PRId64 " price", pr->id);
        return rc;
    }
    want_price = p->cc->sync_price && it->priced && (!known || cur != it->price);
    want_name = p->cc->sync_name && it->dsc1[0] != '\0' && strcmp(pr->sku, it->sku) == 0 &&
                strcmp(pr->name, it->dsc1) != 0;
    for (size_t k = 0; want_name && k < u->np; k++)
        if (p->items[u->pmap[k]].pid == it->pid)
            want_name = false;  /* two items named one product: the first wins */
    if (!want_price && !want_name) {
        p->out->unchanged++;
        return MLC_OK;
    }
    if (want_price && (pj = price_json(it->price, p->exp)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a price");
    if (want_price && it->vid != 0) {
        rc = add_update(u->variants, it->vid, NULL, pj, e);
        if (rc == MLC_OK)
            u->vmap[u->nv++] = i;
    } else if (want_price) {
        flags |= UPD_PRICE;
    }
    if (want_name)
        flags |= UPD_NAME;
    if (rc == MLC_OK && flags != 0) {
        rc = add_update(u->products, it->pid, want_name ? it->dsc1 : NULL,
                        (flags & UPD_PRICE) ? pj : NULL, e);
        if (rc == MLC_OK) {
            u->pmap[u->np] = i;
            u->pflags[u->np++] = flags;
        }
    }
    json_decref(pj);
    return rc;
}

/* Per-item outcomes of one batch call. */
static int take_results(struct poll *p, int rc, struct bc_item_result *res, size_t n_res,
                        const size_t *map, const int *flags, const char *what,
                        struct mlc_err *e)
{
    if (res == NULL) {
        if (rc != MLC_OK)
            mlc_err_wrap(e, "%s", what);
        return rc;
    }
    for (size_t k = 0; k < n_res; k++) {
        struct cat_item *it = &p->items[map[k]];
        int f = flags != NULL ? flags[k] : UPD_PRICE;

        if (res[k].code == MLC_OK) {
            p->out->price_updates += (f & UPD_PRICE) != 0;
            p->out->name_updates += (f & UPD_NAME) != 0;
            audit_item(p, it->sku, what, "ok", res[k].msg);
        } else if (transient_status(res[k].status)) {
            note_transient(p, res[k].code, it->sku, res[k].msg);
        } else {
            p->out->failed++;
            it->refused = true;
            snprintf(it->refusal, sizeof(it->refusal), "%s", res[k].msg);
            log_warn(MOD, "BigCommerce refused a catalog update", LF_STR("sku", it->sku),
                     LF_INT("status", res[k].status), LF_STR("message", res[k].msg));
            audit_item(p, it->sku, what, "error", res[k].msg);
        }
    }
    mlc_err_clear(e);
    return MLC_OK;
}

static int send_updates(struct poll *p, struct push *u, struct mlc_err *e)
{
    struct bc_item_result *res = NULL;
    size_t n_res = 0;
    int rc = MLC_OK;

    if (u->nv > 0) {
        rc = bc_variants_update(p->bc, u->variants, &res, &n_res, e);
        rc = take_results(p, rc, res, n_res, u->vmap, NULL, "price", e);
        free(res);
        res = NULL;
    }
    if (rc == MLC_OK && u->np > 0) {
        rc = bc_products_update(p->bc, u->products, &res, &n_res, e);
        rc = take_results(p, rc, res, n_res, u->pmap, u->pflags, "product", e);
        free(res);
    }
    return rc;
}

/* A SKU BigCommerce does not have: a hidden product, or an audit row. */
static int handle_missing(struct poll *p, struct cat_item *it, struct mlc_err *e)
{
    struct bc_product made = { 0 };
    struct mlc_err ce = { 0 };
    json_t *prod, *pj;
    int rc;

    if (!p->cc->create_missing || !it->priced) {
        p->out->missing++;
        log_info(MOD, "SKU not in BigCommerce", LF_STR("sku", it->sku),
                 LF_BOOL("priced", it->priced));
        audit_item(p, it->sku, "missing SKU", "skipped",
                   p->cc->create_missing ? "no effective price to create it at"
                                         : "not in BigCommerce; create_missing is off");
        return MLC_OK;
    }
    if ((pj = price_json(it->price, p->exp)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a price");
    prod = json_pack("{s:s, s:s, s:s, s:i, s:o, s:b}", "name",
                     it->dsc1[0] != '\0' ? it->dsc1 : it->sku, "type", "physical",
                     "sku", it->sku, "weight", 0, "price", pj, "is_visible", 0);
    if (prod == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a product");
    rc = bc_product_create(p->bc, prod, &made, &ce);
    json_decref(prod);
    if (rc == MLC_OK) {
        p->out->created++;
        log_info(MOD, "hidden product created", LF_STR("sku", it->sku),
                 LF_INT("product_id", made.id));
        audit_item(p, it->sku, "create", "ok", "hidden product created");
    } else if (rc == MLC_EEXIST || rc == MLC_EINVAL) {
        p->out->failed++;
        audit_item(p, it->sku, "create", "error", ce.msg);
    } else {
        note_transient(p, rc, it->sku, ce.msg);
    }
    bc_product_clear(&made);
    return MLC_OK;
}

/* Gives every item with a master row its SKU, resolves the SKUs to
 * products and variants (found, pid, vid) and reads those products with
 * their variants (*prods sorted by id; caller frees with bc_products_free). */
static int resolve(struct poll *p, struct bc_product **prods, size_t *nprods,
                   struct mlc_err *e)
{
    struct bc_catalog_index *idx = NULL;
    const char **skus = calloc(p->n + 1, sizeof(*skus));
    int64_t *pids = calloc(p->n + 1, sizeof(*pids));
    size_t ns = 0, npid = 0, n_missing = 0;
    int rc;

    if (skus == NULL || pids == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu SKUs", p->n);
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct cat_item *it = &p->items[i];
        const char *item = p->cc->sku_source == CFG_SKU_AITM ? it->aitm : it->litm;

        if (!it->master || item[0] == '\0')
            continue;   /* no F4101 row (deleted item) or no item number */
        it->sku = cat_sku_for(p->cc, item);
        if (!it->priced)
            p->out->no_price++;
        skus[ns++] = it->sku;
    }
    if ((rc = bc_catalog_index_new(&idx, e)) != MLC_OK)
        goto out;
    /* Product jobs: the products read answer for every SKU (the items were
     * found from those SKUs), without a call. */
    if (p->pre != NULL)
        rc = bc_catalog_index_add_products(idx, p->pre, p->npre, e);
    else
        rc = bc_catalog_resolve(p->bc, idx, skus, ns, &n_missing, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "resolving %zu SKUs", ns);
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct cat_item *it = &p->items[i];

        if (it->sku != NULL && bc_catalog_index_get(idx, it->sku, &it->pid, &it->vid)) {
            it->found = true;
            pids[npid++] = it->pid;
        }
    }
    if (npid > 0 && p->pre != NULL) {
        *prods = p->pre;    /* every SKU came from them (cat_sync_products) */
        *nprods = p->npre;
    } else if (npid > 0) {
        size_t k = 0;

        qsort(pids, npid, sizeof(*pids), cmp_i64);
        for (size_t i = 0; i < npid; i++)   /* several variants of one product */
            if (k == 0 || pids[k - 1] != pids[i])
                pids[k++] = pids[i];
        rc = bc_products_by_ids(p->bc, pids, k, true, prods, nprods, e);
        if (rc != MLC_OK) {
            mlc_err_wrap(e, "reading %zu products", k);
            goto out;
        }
        qsort(*prods, *nprods, sizeof(**prods), cmp_product);
    }
out:
    bc_catalog_index_free(idx);
    free(pids);
    free(skus);
    return rc;
}

/* Resolves, writes what differs and handles the missing SKUs. */
static int push(struct poll *p, struct mlc_err *e)
{
    struct bc_product *prods = NULL;
    struct push u = { 0 };
    size_t nprods = 0;
    int rc;

    u.vmap = calloc(p->n + 1, sizeof(*u.vmap));
    u.pmap = calloc(p->n + 1, sizeof(*u.pmap));
    u.pflags = calloc(p->n + 1, sizeof(*u.pflags));
    u.variants = json_array();
    u.products = json_array();
    if (u.vmap == NULL || u.pmap == NULL || u.pflags == NULL || u.variants == NULL ||
        u.products == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu items", p->n);
        goto out;
    }
    if ((rc = resolve(p, &prods, &nprods, e)) != MLC_OK)
        goto out;
    for (size_t i = 0; i < p->n && rc == MLC_OK; i++) {
        struct cat_item *it = &p->items[i];
        const struct bc_product *pr;

        if (it->sku == NULL || (!it->found && p->pre != NULL))
            continue;   /* a product job never creates a product */
        if (!it->found)
            rc = handle_missing(p, it, e);
        else if ((pr = find_product(prods, nprods, it->pid)) == NULL)
            note_transient(p, MLC_ENOTFOUND, it->sku, "product vanished while reading");
        else
            rc = plan_item(p, &u, i, pr, e);
    }
    if (rc == MLC_OK)
        rc = send_updates(p, &u, e);
out:
    if (prods != p->pre)
        bc_products_free(prods, nprods);
    json_decref(u.variants);
    json_decref(u.products);
    free(u.vmap);
    free(u.pmap);
    free(u.pflags);
    return rc;
}

/* ---- watermarks ---------------------------------------------------------------- */

static int audit_poll(struct poll *p, int64_t now_ms, struct mlc_err *e)
{
    const struct cat_stats *o = p->out;
    json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                          " s:s, s:s, s:s}",
                          "item_rows", (json_int_t)o->item_rows,
                          "price_rows", (json_int_t)o->price_rows,
                          "items", (json_int_t)o->items,
                          "no_price", (json_int_t)o->no_price,
                          "price_updates", (json_int_t)o->price_updates,
                          "name_updates", (json_int_t)o->name_updates,
                          "unchanged", (json_int_t)o->unchanged,
                          "created", (json_int_t)o->created,
                          "missing", (json_int_t)o->missing,
                          "failed", (json_int_t)o->failed,
                          "now_ms", (json_int_t)now_ms,
                          "items_watermark", o->items_wm,
                          "prices_watermark", o->prices_wm,
                          "currency", p->currency);
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    int rc;

    json_decref(d);
    if (text == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for the poll audit");
    rc = store_audit_add(p->st, &(struct store_audit){
        .actor = p->actor, .entity = "catalog", .action = "poll", .outcome = "ok",
        .detail = text }, e);
    free(text);
    return rc;
}

/* Both watermarks and the summary in one transaction. */
static int commit(struct poll *p, int64_t now_ms, struct mlc_err *e)
{
    int rc;

    if (jdate_stamp_cmp(&p->max_items, &p->wm_items) < 0)
        p->max_items = p->wm_items;
    if (jdate_stamp_cmp(&p->max_prices, &p->wm_prices) < 0)
        p->max_prices = p->wm_prices;
    rc = cat_wm_format(&p->max_items, p->out->items_wm, sizeof(p->out->items_wm), e);
    if (rc == MLC_OK)
        rc = cat_wm_format(&p->max_prices, p->out->prices_wm, sizeof(p->out->prices_wm), e);
    if (rc != MLC_OK || (rc = store_tx_begin(p->st, e)) != MLC_OK)
        return rc;
    rc = store_watermark_set(p->st, CAT_WM_ITEMS, p->out->items_wm, e);
    if (rc == MLC_OK)
        rc = store_watermark_set(p->st, CAT_WM_PRICES, p->out->prices_wm, e);
    if (rc == MLC_OK)
        rc = audit_poll(p, now_ms, e);
    if (rc == MLC_OK)
        rc = store_tx_commit(p->st, e);
    if (rc != MLC_OK)
        store_tx_rollback(p->st);
    return rc;
}

/* ---- the poll -------------------------------------------------------------------- */

/* This thread's client and the catalog currency with its exponent. */
static int setup_currency(struct poll *p, struct mlc_err *e)
{
    struct bc_store_info si = { 0 };
    int rc;

    if ((rc = env_bc(p->env, &p->bc, e)) != MLC_OK)
        return rc;
    if (p->cc->price_currency != NULL) {
        snprintf(p->currency, sizeof(p->currency), "%s", p->cc->price_currency);
    } else {
        /* Not configured: the store's default currency. */
        if ((rc = bc_store_info(p->bc, &si, e)) != MLC_OK) {
            mlc_err_wrap(e, "store currency");
            return rc;
        }
        snprintf(p->currency, sizeof(p->currency), "%s", si.currency != NULL ? si.currency : "");
        bc_store_info_clear(&si);
    }
    if ((rc = money_exponent(p->currency, &p->exp, e)) != MLC_OK) {
        mlc_err_wrap(e, "catalog currency");
        return rc;
    }
    return MLC_OK;
}

static int setup(struct poll *p, struct mlc_err *e)
{
    int rc;

    if ((rc = wm_load(p->st, CAT_WM_ITEMS, &p->wm_items, e)) != MLC_OK ||
        (rc = wm_load(p->st, CAT_WM_PRICES, &p->wm_prices, e)) != MLC_OK)
        return rc;
    p->max_items = p->wm_items;
    p->max_prices = p->wm_prices;
    return setup_currency(p, e);
}

int cat_poll(struct env *env, struct store *st, const struct mlc_config *cfg,
             int64_t now_ms, struct cat_stats *out, struct mlc_err *e)
{
    struct poll p = { .env = env, .st = st, .cc = &cfg->catalog, .actor = ACTOR, .out = out };
    int rc;

    memset(out, 0, sizeof(*out));
    rc = setup(&p, e);
    if (rc == MLC_OK)
        rc = cat_wm_format(&p.wm_items, out->items_wm, sizeof(out->items_wm), e);
    if (rc == MLC_OK)
        rc = cat_wm_format(&p.wm_prices, out->prices_wm, sizeof(out->prices_wm), e);
    if (rc == MLC_OK)
        rc = read_changes(&p, e);
    if (rc == MLC_OK)
        rc = make_items(&p, e);
    if (rc == MLC_OK && p.n > 0)
        rc = read_items(&p, e);
    if (rc == MLC_OK && p.n > 0)
        rc = push(&p, e);
    if (rc == MLC_OK && p.transient != 0)
        rc = mlc_err_set(e, p.transient, "catalog push incomplete, watermarks kept: %s",
                         p.transient_msg);
    /* Nothing read: no transaction, no audit row every poll interval. */
    if (rc == MLC_OK && p.n > 0)
        rc = commit(&p, now_ms, e);
    if (rc == MLC_OK && (out->price_updates || out->name_updates || out->created ||
                         out->failed || out->missing))
        log_info(MOD, "catalog poll", LF_UINT("items", out->items),
                 LF_UINT("price_updates", out->price_updates),
                 LF_UINT("name_updates", out->name_updates),
                 LF_UINT("created", out->created), LF_UINT("missing", out->missing),
                 LF_UINT("failed", out->failed));
    free(p.itms);
    free(p.items);
    return rc;
}

/* ---- product jobs: a product edited in BigCommerce ------------------------------ */

/* A growable list of borrowed strings. */
struct strv {
    const char **v;
    size_t       n, cap;
};

static int strv_add(struct strv *l, const char *s, struct mlc_err *e)
{
    if (s == NULL || s[0] == '\0')
        return MLC_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 32;
        const char **v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu item numbers", cap);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return MLC_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The JDE item numbers whose SKU (cat_sku_for) is sku: the sku_map entries
 * naming it, and sku itself unless the map sends that item elsewhere. */
static int add_candidates(const struct cfg_catalog *cc, const char *sku, struct strv *out,
                          struct mlc_err *e)
{
    bool mapped_away = false;
    int rc = MLC_OK;

    for (size_t i = 0; i < cc->n_sku_map && rc == MLC_OK; i++) {
        if (strcmp(cc->sku_map[i].value, sku) == 0)
            rc = strv_add(out, cc->sku_map[i].match, e);
        if (strcmp(cc->sku_map[i].match, sku) == 0 && strcmp(cc->sku_map[i].value, sku) != 0)
            mapped_away = true;
    }
    return rc == MLC_OK && !mapped_away ? strv_add(out, sku, e) : rc;
}

static int on_item_number(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct poll *p = ctx;
    int64_t itm = 0;
    int rc = ais_row_i64(row, "F4101_ITM", &itm, e);

    return rc == MLC_OK ? add_itm(p, itm, e) : rc;
}

/* The ITMs of item numbers c[0..n) (LITM or AITM, as catalog.sku_source
 * says), LIST conditions of at most ITM_CHUNK values. */
static int read_item_numbers(struct poll *p, const char **c, size_t n, struct mlc_err *e)
{
    struct ais_value vals[ITM_CHUNK];
    const char *col = p->cc->sku_source == CFG_SKU_AITM ? "AITM" : "LITM";
    int rc = MLC_OK;

    for (size_t from = 0; from < n && rc == MLC_OK; from += ITM_CHUNK) {
        size_t k = n - from < ITM_CHUNK ? n - from : ITM_CHUNK;
        struct ais_query *q = NULL;

        for (size_t i = 0; i < k; i++)
            vals[i] = AIS_LIT(c[from + i]);
        rc = ais_query_new("F4101", &q, e);
        if (rc == MLC_OK)
            rc = ais_query_columns(q, "ITM", e);
        if (rc == MLC_OK)
            rc = ais_query_where(q, col, AIS_OP_LIST, vals, k, e);
        if (rc == MLC_OK)
            rc = run_query(p, &q, on_item_number, p, "F4101 by item number", e);
        ais_query_free(q);
    }
    return rc;
}

/* What one job (its key) came to before the shared steps. */
struct pjob {
    int64_t pid;       /* the product to re-read; 0 once settled */
    bool    settled;
};

static void pjob_settle(struct pjob *j, enum cat_outcome *res, enum cat_outcome r)
{
    *res = r;
    j->settled = true;
    j->pid = 0;
}

static void audit_product(struct poll *p, int64_t pid, const char *action, const char *outcome,
                          const char *msg)
{
    char entity[48];
    json_t *d = json_pack("{s:s}", "message", msg);
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    struct mlc_err ae = { 0 };

    snprintf(entity, sizeof(entity), JOB_KEY_PRODUCT "%" PRId64, pid);
    if (store_audit_add(p->st, &(struct store_audit){
            .actor = p->actor, .entity = entity, .action = action, .outcome = outcome,
            .detail = text }, &ae) != MLC_OK)
        log_warn(MOD, "audit row not written", LF_STR("entity", entity), LF_ERR(&ae));
    free(text);
    json_decref(d);
}

/* Keys -> products: "product:<id>" names it, "sku:<id>" through its variant
 * (one call each: real deliveries name the product, see bc_webhook.h). A
 * key that does not parse holds; a variant BigCommerce does not have is
 * done. */
static int jobs_resolve(struct poll *p, const char *const *keys, size_t n, struct pjob *jobs,
                        enum cat_outcome *res, struct mlc_err *errs, struct mlc_err *e)
{
    for (size_t i = 0; i < n; i++) {
        struct bc_variant v;
        bool found = false;
        int64_t id = 0;
        int rc;

        if (jobkind_key_parse(JOB_CATALOG_SYNC, keys[i], &id, &errs[i]) != MLC_OK) {
            pjob_settle(&jobs[i], &res[i], CAT_HOLD);
            continue;
        }
        if (strncmp(keys[i], JOB_KEY_PRODUCT, strlen(JOB_KEY_PRODUCT)) == 0) {
            jobs[i].pid = id;
            continue;
        }
        if ((rc = bc_variant_by_id(p->bc, id, &v, &found, e)) != MLC_OK) {
            mlc_err_wrap(e, "variant %" PRId64, id);
            return rc;
        }
        if (found)
            jobs[i].pid = v.product_id;
        else
            pjob_settle(&jobs[i], &res[i], CAT_DONE);
        bc_variant_clear(&v);
    }
    return MLC_OK;
}

/* The distinct products of the jobs, read with their variants into p->pre
 * (sorted). A product BigCommerce no longer has (deleted) settles its
 * jobs as done. */
static int read_products(struct poll *p, struct pjob *jobs, size_t n, enum cat_outcome *res,
                         struct mlc_err *e)
{
    int64_t *pids = calloc(n + 1, sizeof(*pids));
    size_t k = 0;
    int rc;

    if (pids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu products", n);
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].settled)
            pids[k++] = jobs[i].pid;
    qsort(pids, k, sizeof(*pids), cmp_i64);
    {
        size_t u = 0;

        for (size_t i = 0; i < k; i++)
            if (u == 0 || pids[u - 1] != pids[i])
                pids[u++] = pids[i];
        k = u;
    }
    rc = k > 0 ? bc_products_by_ids(p->bc, pids, k, true, &p->pre, &p->npre, e) : MLC_OK;
    free(pids);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "reading the products");
        return rc;
    }
    if (p->npre > 0)
        qsort(p->pre, p->npre, sizeof(*p->pre), cmp_product);
    for (size_t i = 0; i < n; i++) {
        int64_t pid = jobs[i].pid;

        if (jobs[i].settled || find_product(p->pre, p->npre, pid) != NULL)
            continue;
        audit_product(p, pid, "catalog.sync", "skipped", "not in BigCommerce (deleted)");
        pjob_settle(&jobs[i], &res[i], CAT_DONE);
    }
    return MLC_OK;
}

/* Every SKU of the products read -> the candidate JDE item numbers ->
 * their ITMs in p->itms. */
static int find_items(struct poll *p, struct mlc_err *e)
{
    struct strv c = { 0 };
    int rc = MLC_OK;

    for (size_t i = 0; i < p->npre && rc == MLC_OK; i++) {
        const struct bc_product *pr = &p->pre[i];

        rc = add_candidates(p->cc, pr->sku, &c, e);
        for (size_t k = 0; k < pr->n_variants && rc == MLC_OK; k++)
            rc = add_candidates(p->cc, pr->variants[k].sku, &c, e);
    }
    if (rc == MLC_OK && c.n > 0) {
        size_t u = 0;

        qsort(c.v, c.n, sizeof(*c.v), cmp_str);
        for (size_t i = 0; i < c.n; i++)
            if (u == 0 || strcmp(c.v[u - 1], c.v[i]) != 0)
                c.v[u++] = c.v[i];
        rc = read_item_numbers(p, c.v, u, e);
    }
    free(c.v);
    return rc;
}

/* The outcome of each job still open, from what happened to the items of
 * its product: refused -> held with BigCommerce's message; no JDE item ->
 * audited, done; else done. */
static void settle_jobs(struct poll *p, struct pjob *jobs, size_t n, enum cat_outcome *res,
                        struct mlc_err *errs)
{
    for (size_t i = 0; i < n; i++) {
        const struct cat_item *refused = NULL;
        bool known = false;

        if (jobs[i].settled)
            continue;
        for (size_t k = 0; k < p->n; k++) {
            const struct cat_item *it = &p->items[k];

            if (!it->found || it->pid != jobs[i].pid)
                continue;
            known = true;
            if (it->refused && refused == NULL)
                refused = it;
        }
        if (refused != NULL) {
            mlc_err_set(&errs[i], MLC_EPROTO, "BigCommerce refused JD Edwards' values for "
                        "SKU %s: %s", refused->sku, refused->refusal);
            res[i] = CAT_HOLD;
        } else {
            if (!known)
                audit_product(p, jobs[i].pid, "catalog.sync", "skipped",
                              "no JD Edwards item has a SKU of this product");
            res[i] = CAT_DONE;
        }
    }
}

static int checkpoint(const struct cat_run *r, struct mlc_err *e)
{
    return r->checkpoint != NULL ? r->checkpoint(r->checkpoint_ctx, e) : MLC_OK;
}

/* The shared steps; a failure here leaves every open job to retry. */
static int sync_open_jobs(const struct cat_run *r, struct poll *p, struct pjob *jobs,
                          const char *const *keys, size_t n, enum cat_outcome *res,
                          struct mlc_err *errs, struct mlc_err *e)
{
    int rc = setup_currency(p, e);

    if (rc == MLC_OK)
        rc = jobs_resolve(p, keys, n, jobs, res, errs, e);
    if (rc == MLC_OK)
        rc = read_products(p, jobs, n, res, e);
    if (rc == MLC_OK && p->npre > 0 && (rc = checkpoint(r, e)) == MLC_OK)
        rc = find_items(p, e);
    if (rc == MLC_OK)
        rc = make_items(p, e);
    if (rc == MLC_OK && p->n > 0)
        rc = read_items(p, e);
    if (rc == MLC_OK && p->n > 0 && (rc = checkpoint(r, e)) == MLC_OK)
        rc = push(p, e);
    if (rc == MLC_OK && p->transient != 0)
        rc = mlc_err_set(e, p->transient, "catalog update incomplete: %s", p->transient_msg);
    return rc;
}

int cat_sync_products(const struct cat_run *r, const char *const *keys, size_t n,
                      enum cat_outcome *res, struct mlc_err *errs, struct cat_stats *out,
                      struct mlc_err *e)
{
    struct poll p = { 0 };
    struct pjob *jobs;
    struct mlc_err se = { 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    if (r == NULL || r->env == NULL || r->st == NULL || r->cfg == NULL || keys == NULL ||
        res == NULL || errs == NULL || n == 0)
        return mlc_err_set(e, MLC_EINVAL, "cat_sync_products: missing argument");
    jobs = calloc(n, sizeof(*jobs));
    if (jobs == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu jobs", n);
    for (size_t i = 0; i < n; i++) {
        res[i] = CAT_RETRY;
        mlc_err_clear(&errs[i]);
    }
    p = (struct poll){ .env = r->env, .st = r->st, .cc = &r->cfg->catalog,
                       .actor = r->actor != NULL ? r->actor : ACTOR, .out = out };
    rc = sync_open_jobs(r, &p, jobs, keys, n, res, errs, &se);
    for (size_t i = 0; i < n; i++)
        if (rc != MLC_OK && !jobs[i].settled)
            errs[i] = se;       /* RETRY: a re-run costs reads, never a double write */
    if (rc == MLC_OK)
        settle_jobs(&p, jobs, n, res, errs);
    if (out->price_updates || out->name_updates || out->failed)
        log_info(MOD, "products put back to JD Edwards' values", LF_UINT("jobs", n),
                 LF_UINT("items", out->items), LF_UINT("price_updates", out->price_updates),
                 LF_UINT("name_updates", out->name_updates), LF_UINT("failed", out->failed));
    bc_products_free(p.pre, p.npre);
    free(p.itms);
    free(p.items);
    free(jobs);
    return MLC_OK;
}
