/*
 * bc_decode: BigCommerce order JSON into core/order.h (see bc_decode.h).
 *
 * Every field is read through json.h's path getters relative to one root
 * (the order object, the products array, ...) with the element's prefix
 * ("products[2].") prepended, so a failure names the full JSON path. One
 * struct dec carries the jx context (first failure wins), so each record is
 * read field by field and checked once.
 */
#include "bc/bc_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"
#include "core/json.h"
#include "core/money.h"

#define DEC_WHERE_MAX  64
#define DEC_PREFIX_MAX 160
#define DEC_PATH_MAX   224

struct dec {
    struct jx_ctx   cx;
    struct mlc_err *e;
    const json_t   *root;   /* paths are relative to it; borrowed */
    int             exp;    /* money exponent, or ORDER_EXP_UNKNOWN */
    char            where[DEC_WHERE_MAX];
    char            prefix[DEC_PREFIX_MAX]; /* of the element being read */
    char            path[DEC_PATH_MAX];     /* scratch for at() */
};

static void dec_init(struct dec *d, const json_t *root, const char *where, int exp,
                     struct mlc_err *e)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->where, sizeof(d->where), "%s", where);
    jx_ctx_init(&d->cx, d->where, e);
    d->e = e;
    d->root = root;
    d->exp = exp;
}

/* prefix + key, in the scratch buffer (valid until the next call). */
static const char *at(struct dec *d, const char *key)
{
    snprintf(d->path, sizeof(d->path), "%s%s", d->prefix, key);
    return d->path;
}

__attribute__((format(printf, 4, 5)))
static void dec_fail(struct dec *d, int code, const char *key, const char *fmt, ...)
{
    char what[MLC_ERR_MSG_MAX];
    va_list ap;

    if (d->cx.rc != MLC_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    d->cx.rc = code;
    mlc_err_set(d->e, code, "%s: %s: %s", d->where, at(d, key), what);
}

static char *dup_str(struct dec *d, const char *key, const char *s)
{
    char *c = strdup(s != NULL ? s : "");

    if (c == NULL)
        dec_fail(d, MLC_ENOMEM, key, "out of memory");
    return c;
}

/* An optional string ("" when absent or null), owned. */
static char *d_str(struct dec *d, const char *key)
{
    const char *s = NULL;

    jx_opt_str(&d->cx, d->root, at(d, key), "", &s);
    return dup_str(d, key, s);
}

static int64_t d_i64(struct dec *d, const char *key)
{
    int64_t v = 0;

    jx_get_i64(&d->cx, d->root, at(d, key), &v);
    return v;
}

static int64_t d_opt_i64(struct dec *d, const char *key, int64_t def)
{
    int64_t v = def;

    jx_opt_i64(&d->cx, d->root, at(d, key), def, &v);
    return v;
}

static bool d_opt_bool(struct dec *d, const char *key)
{
    bool v = false;

    jx_opt_bool(&d->cx, d->root, at(d, key), false, &v);
    return v;
}

/* Money rounded half away from zero to the currency (§4); 0 when the
 * currency is unknown (the order is held before any amount is used). */
static int64_t d_money(struct dec *d, const char *key)
{
    int64_t v = 0;

    if (d->exp != ORDER_EXP_UNKNOWN)
        jx_get_money(&d->cx, d->root, at(d, key), d->exp, MONEY_ROUND_HALF_AWAY, &v);
    return v;
}

static int64_t d_opt_money(struct dec *d, const char *key)
{
    int64_t v = 0;

    if (d->exp != ORDER_EXP_UNKNOWN)
        jx_opt_money(&d->cx, d->root, at(d, key), d->exp, MONEY_ROUND_HALF_AWAY, 0, &v);
    return v;
}

/* A date as RFC 2822 (v2) or ISO 8601 (v3); blank gives 0 unless required. */
static int64_t d_date(struct dec *d, const char *key, bool required)
{
    const char *s = NULL;
    struct mlc_err me;
    int64_t t = 0;
    int rc;

    if (jx_opt_str(&d->cx, d->root, at(d, key), "", &s) != MLC_OK)
        return 0;
    if (s[0] == '\0') {
        if (required)
            dec_fail(d, MLC_ENOTFOUND, key, "missing date");
        return 0;
    }
    rc = jdate_rfc2822_parse(s, &t, &me);
    if (rc != MLC_OK)
        rc = jdate_iso8601_parse(s, &t, &me);
    if (rc != MLC_OK) {
        dec_fail(d, MLC_EINVAL, key, "not an RFC 2822 or ISO 8601 date: %.40s", s);
        return 0;
    }
    return t;
}

/* Grows *arr (of elements of `size`) to hold at least n. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap = *cap != 0 ? *cap : 4;
    void *p;

    if (n <= *cap)
        return MLC_OK;
    while (ncap < n)
        ncap *= 2;
    if ((p = realloc(*arr, ncap * size)) == NULL)
        return MLC_ENOMEM;
    memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
    *arr = p;
    *cap = ncap;
    return MLC_OK;
}

/* ---- products -------------------------------------------------------- */

/* Reads the product at d->prefix into *p. */
static void dec_product(struct dec *d, struct order_product *p)
{
    p->id = d_i64(d, "id");
    p->product_id = d_opt_i64(d, "product_id", 0);
    p->variant_id = d_opt_i64(d, "variant_id", 0);
    p->sku = d_str(d, "sku");
    p->name = d_str(d, "name");
    p->type = d_str(d, "type");
    p->quantity = d_i64(d, "quantity");
    p->price_ex_tax = d_opt_money(d, "price_ex_tax");
    p->price_inc_tax = d_opt_money(d, "price_inc_tax");
    p->total_ex_tax = d_money(d, "total_ex_tax");
    p->total_inc_tax = d_money(d, "total_inc_tax");
    p->total_tax = d_opt_money(d, "total_tax");
    p->parent_order_product_id = d_opt_i64(d, "parent_order_product_id", 0);
}

/* A growing product list shared by the array and consignment forms. */
struct plist {
    struct order_product *v;
    size_t n, cap;
    bool   linked;   /* some line items were links, not objects */
};

static void plist_free(struct plist *l)
{
    for (size_t i = 0; i < l->n; i++)
        order_product_clear(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Appends the product object at prefix `pfx` unless its id is already
 * there (a product listed in two consignments is one order line). */
static void plist_add(struct dec *d, struct plist *l, const char *pfx)
{
    struct order_product p = { 0 };

    snprintf(d->prefix, sizeof(d->prefix), "%s", pfx);
    dec_product(d, &p);
    for (size_t i = 0; d->cx.rc == MLC_OK && i < l->n; i++) {
        if (l->v[i].id != p.id)
            continue;
        if (l->v[i].total_ex_tax != p.total_ex_tax || l->v[i].quantity != p.quantity)
            dec_fail(d, MLC_EPROTO, "id", "order product %lld listed twice with different "
                     "amounts", (long long)p.id);
        order_product_clear(&p);
        return;
    }
    if (d->cx.rc == MLC_OK && grow((void **)&l->v, &l->cap, l->n + 1, sizeof(p)) != MLC_OK)
        dec_fail(d, MLC_ENOMEM, "id", "out of memory");
    if (d->cx.rc != MLC_OK) {
        order_product_clear(&p);
        return;
    }
    l->v[l->n++] = p;
}

/* Products of the JSON array at path `apath` (relative to d->root). */
static void plist_array(struct dec *d, struct plist *l, const char *apath, const json_t *arr)
{
    char pfx[DEC_PREFIX_MAX];

    for (size_t i = 0; d->cx.rc == MLC_OK && i < json_array_size(arr); i++) {
        snprintf(pfx, sizeof(pfx), "%s[%zu].", apath, i);
        plist_add(d, l, pfx);
    }
}

/* A consignment's line_items: product objects (embedded with
 * include=consignments.line_items), or links that need another call. */
static void plist_line_items(struct dec *d, struct plist *l, const char *cpath,
                             const json_t *cons)
{
    char apath[DEC_PREFIX_MAX];
    const json_t *items = json_object_get(cons, "line_items");

    if (items == NULL || json_is_null(items))
        return;
    if (!json_is_array(items)) {
        l->linked = true;   /* a {url, resource} link */
        return;
    }
    for (size_t i = 0; i < json_array_size(items); i++)
        if (json_object_get(json_array_get(items, i), "id") == NULL)
            l->linked = true;
    if (l->linked)
        return;
    snprintf(apath, sizeof(apath), "%sline_items", cpath);
    plist_array(d, l, apath, items);
}

/* One consignment group ("shipping": [...]) at gpath. */
static void plist_group(struct dec *d, struct plist *l, const char *gpath, const json_t *grp)
{
    char cpath[DEC_PREFIX_MAX];

    if (grp == NULL || json_is_null(grp))
        return;
    if (!json_is_array(grp)) {
        snprintf(d->prefix, sizeof(d->prefix), "%s", "");
        dec_fail(d, MLC_EPROTO, gpath, "expected array, got %s", jx_type_name(grp));
        return;
    }
    for (size_t i = 0; d->cx.rc == MLC_OK && i < json_array_size(grp); i++) {
        snprintf(cpath, sizeof(cpath), "%s[%zu].", gpath, i);
        plist_line_items(d, l, cpath, json_array_get(grp, i));
    }
}

/* One consignments object {pickups, shipping, downloads, email}. */
static void plist_consignments(struct dec *d, struct plist *l, const char *opath,
                               const json_t *obj)
{
    static const char *const groups[] = { "pickups", "shipping", "downloads" };
    char gpath[DEC_PREFIX_MAX];
    const json_t *email = json_object_get(obj, "email");

    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        snprintf(gpath, sizeof(gpath), "%s%s", opath, groups[g]);
        plist_group(d, l, gpath, json_object_get(obj, groups[g]));
    }
    if (json_is_object(email)) {
        snprintf(gpath, sizeof(gpath), "%semail.gift_certificates", opath);
        plist_group(d, l, gpath, json_object_get(email, "gift_certificates"));
    }
}

static void take_products(struct order *o, struct plist *l)
{
    order_products_clear(o);
    o->products = l->v;
    o->n_products = l->n;
    o->have_products = true;
    memset(l, 0, sizeof(*l));
}

/* The products embedded in a v2 order, if any. */
static void dec_order_products(struct dec *d, struct order *o)
{
    const json_t *p = json_object_get(d->root, "products");
    const json_t *c = json_object_get(d->root, "consignments");
    struct plist l = { 0 };
    char opath[DEC_PREFIX_MAX];

    if (json_is_array(p)) {
        plist_array(d, &l, "products", p);
    } else if (json_is_object(c) && json_object_get(c, "url") == NULL) {
        plist_consignments(d, &l, "consignments.", c);
    } else if (json_is_array(c)) {
        for (size_t i = 0; d->cx.rc == MLC_OK && i < json_array_size(c); i++) {
            snprintf(opath, sizeof(opath), "consignments[%zu].", i);
            plist_consignments(d, &l, opath, json_array_get(c, i));
        }
    } else {
        return;   /* a link or nothing: products come from another call */
    }
    if (d->cx.rc == MLC_OK && !l.linked)
        take_products(o, &l);
    plist_free(&l);
}

/* ---- fees ------------------------------------------------------------ */

static void dec_fee(struct dec *d, struct order_fee *f)
{
    const char *name = NULL;

    f->id = d_opt_i64(d, "id", 0);
    f->type = d_str(d, "type");
    jx_opt_str(&d->cx, d->root, at(d, "display_name_merchant"), "", &name);
    if (name != NULL && name[0] == '\0')
        jx_opt_str(&d->cx, d->root, at(d, "display_name_customer"), "", &name);
    f->display_name = dup_str(d, "display_name_merchant", name);
    f->cost_ex_tax = d_money(d, "cost_ex_tax");
    f->cost_inc_tax = d_opt_money(d, "cost_inc_tax");
    f->cost_tax = d_opt_money(d, "cost_tax");
}

/* Fees of the array at apath into o. */
static void dec_fee_array(struct dec *d, struct order *o, const char *apath, const json_t *arr)
{
    size_t n = json_array_size(arr);
    struct order_fee *v = n > 0 ? calloc(n, sizeof(*v)) : NULL;

    if (n > 0 && v == NULL) {
        dec_fail(d, MLC_ENOMEM, apath, "out of memory");
        return;
    }
    order_fees_clear(o);
    o->fees = v;
    o->n_fees = n;
    for (size_t i = 0; d->cx.rc == MLC_OK && i < n; i++) {
        snprintf(d->prefix, sizeof(d->prefix), "%s[%zu].", apath, i);
        dec_fee(d, &v[i]);
    }
    o->have_fees = true;
}

/* ---- the order header -------------------------------------------------- */

static void set_currency(struct order *o, const char *code)
{
    struct mlc_err me;

    snprintf(o->currency, sizeof(o->currency), "%s", code);
    if (strlen(code) >= sizeof(o->currency) ||
        money_exponent(code, &o->exponent, &me) != MLC_OK)
        o->exponent = ORDER_EXP_UNKNOWN;
}

/* payment_provider_id: a string, but tolerate a number. */
static char *dec_provider_id(struct dec *d)
{
    const json_t *v = json_object_get(d->root, "payment_provider_id");
    char buf[32];

    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return dup_str(d, "payment_provider_id", buf);
    }
    return d_str(d, "payment_provider_id");
}

static void dec_header_amounts(struct dec *d, struct order *o)
{
    o->subtotal_ex_tax = d_opt_money(d, "subtotal_ex_tax");
    o->subtotal_inc_tax = d_opt_money(d, "subtotal_inc_tax");
    o->subtotal_tax = d_opt_money(d, "subtotal_tax");
    o->shipping_cost_ex_tax = d_money(d, "shipping_cost_ex_tax");
    o->shipping_cost_inc_tax = d_opt_money(d, "shipping_cost_inc_tax");
    o->shipping_cost_tax = d_opt_money(d, "shipping_cost_tax");
    o->handling_cost_ex_tax = d_money(d, "handling_cost_ex_tax");
    o->handling_cost_inc_tax = d_opt_money(d, "handling_cost_inc_tax");
    o->handling_cost_tax = d_opt_money(d, "handling_cost_tax");
    o->wrapping_cost_ex_tax = d_money(d, "wrapping_cost_ex_tax");
    o->wrapping_cost_inc_tax = d_opt_money(d, "wrapping_cost_inc_tax");
    o->wrapping_cost_tax = d_opt_money(d, "wrapping_cost_tax");
    o->total_ex_tax = d_money(d, "total_ex_tax");
    o->total_inc_tax = d_money(d, "total_inc_tax");
    o->total_tax = d_money(d, "total_tax");
    o->discount_amount = d_money(d, "discount_amount");
    o->coupon_discount = d_money(d, "coupon_discount");
    o->store_credit_amount = d_opt_money(d, "store_credit_amount");
    o->gift_certificate_amount = d_opt_money(d, "gift_certificate_amount");
}

static void dec_header(struct dec *d, struct order *o)
{
    const char *cur = NULL;

    o->status_id = d_i64(d, "status_id");
    o->customer_id = d_opt_i64(d, "customer_id", 0);
    o->channel_id = d_opt_i64(d, "channel_id", 1);
    if (jx_get_str(&d->cx, d->root, "default_currency_code", &cur) == MLC_OK)
        set_currency(o, cur);
    d->exp = o->exponent;
    o->payment_method = d_str(d, "payment_method");
    o->payment_provider_id = dec_provider_id(d);
    o->date_created = d_date(d, "date_created", true);
    o->date_modified = d_date(d, "date_modified", true);
    o->is_tax_inclusive = d_opt_bool(d, "is_tax_inclusive_pricing");
    dec_header_amounts(d, o);
}

int bcd_order(const json_t *obj, struct order *out, struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    const json_t *fees;
    struct jx_ctx cx;
    struct dec d;
    int64_t id = 0;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_order: out is NULL");
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return mlc_err_set(e, MLC_EPROTO, "order: expected object, got %s",
                           jx_type_name(obj));
    jx_ctx_init(&cx, "order", e);
    if (jx_get_i64(&cx, obj, "id", &id) != MLC_OK)
        return cx.rc;
    snprintf(where, sizeof(where), "order %lld", (long long)id);
    dec_init(&d, obj, where, ORDER_EXP_UNKNOWN, e);
    out->id = id;
    dec_header(&d, out);
    d.prefix[0] = '\0';
    if (d.cx.rc == MLC_OK)
        dec_order_products(&d, out);
    fees = json_object_get(obj, "fees");
    if (d.cx.rc == MLC_OK && json_is_array(fees))
        dec_fee_array(&d, out, "fees", fees);
    if (d.cx.rc != MLC_OK)
        order_clear(out);
    return d.cx.rc;
}

void bcd_orders_free(struct order *orders, size_t n)
{
    for (size_t i = 0; orders != NULL && i < n; i++)
        order_clear(&orders[i]);
    free(orders);
}

int bcd_orders(const json_t *arr, struct order **out, size_t *n, struct mlc_err *e)
{
    struct order *v;
    size_t len;
    int rc = MLC_OK;

    if (out == NULL || n == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_orders: out is NULL");
    *out = NULL;
    *n = 0;
    if (arr == NULL)
        return MLC_OK;
    if (!json_is_array(arr))
        return mlc_err_set(e, MLC_EPROTO, "orders: expected array, got %s",
                           jx_type_name(arr));
    len = json_array_size(arr);
    if (len == 0)
        return MLC_OK;
    if ((v = calloc(len, sizeof(*v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "orders: out of memory");
    for (size_t i = 0; i < len && rc == MLC_OK; i++)
        if ((rc = bcd_order(json_array_get(arr, i), &v[i], e)) != MLC_OK)
            mlc_err_wrap(e, "orders[%zu]", i);
    if (rc != MLC_OK) {
        bcd_orders_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return MLC_OK;
}

/* ---- sub-resources ----------------------------------------------------- */

static int want_array(const json_t *arr, const char *where, struct mlc_err *e)
{
    if (arr != NULL && !json_is_array(arr))
        return mlc_err_set(e, MLC_EPROTO, "%s: expected array, got %s", where,
                           jx_type_name(arr));
    return MLC_OK;
}

int bcd_products(const json_t *arr, struct order *o, struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    struct plist l = { 0 };
    struct dec d;
    int rc;

    if (o == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_products: order is NULL");
    snprintf(where, sizeof(where), "order %lld products", (long long)o->id);
    if ((rc = want_array(arr, where, e)) != MLC_OK)
        return rc;
    dec_init(&d, arr, where, o->exponent, e);
    plist_array(&d, &l, "", arr);
    if (d.cx.rc == MLC_OK)
        take_products(o, &l);
    plist_free(&l);
    return d.cx.rc;
}

int bcd_fees(const json_t *arr, struct order *o, struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    struct dec d;
    int rc;

    if (o == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_fees: order is NULL");
    snprintf(where, sizeof(where), "order %lld fees", (long long)o->id);
    if ((rc = want_array(arr, where, e)) != MLC_OK)
        return rc;
    dec_init(&d, arr, where, o->exponent, e);
    dec_fee_array(&d, o, "", arr);
    if (d.cx.rc != MLC_OK)
        order_fees_clear(o);
    return d.cx.rc;
}

/* The data[] array of a v3 list; NULL root (a 204) is an empty list. */
static int v3_data(struct dec *d, json_t **arr)
{
    *arr = NULL;
    if (d->root == NULL)
        return MLC_OK;
    return jx_opt_arr(&d->cx, d->root, "data", arr);
}

static enum order_txn_event txn_event(const char *s)
{
    static const char *const names[] = { "", "purchase", "authorization", "capture",
                                         "refund", "void", "pending", "settled" };

    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return (enum order_txn_event)i;
    return ORDER_TXN_EV_OTHER;
}

static enum order_txn_status txn_status(const char *s)
{
    if (strcmp(s, "ok") == 0)
        return ORDER_TXN_ST_OK;
    if (strcmp(s, "error") == 0)
        return ORDER_TXN_ST_ERROR;
    return ORDER_TXN_ST_OTHER;
}

static void dec_txn(struct dec *d, struct order_txn *t)
{
    const char *ev = NULL, *st = NULL;
    json_t *off = NULL;

    t->id = d_i64(d, "id");
    jx_get_str(&d->cx, d->root, at(d, "event"), &ev);
    t->event = ev != NULL ? txn_event(ev) : ORDER_TXN_EV_OTHER;
    jx_opt_str(&d->cx, d->root, at(d, "status"), "", &st);
    t->status = st != NULL ? txn_status(st) : ORDER_TXN_ST_OTHER;
    t->method = d_str(d, "method");
    t->gateway = d_str(d, "gateway");
    t->currency = d_str(d, "currency");
    t->amount = d_money(d, "amount");
    jx_opt_obj(&d->cx, d->root, at(d, "offline"), &off);
    t->offline = off != NULL || (t->method != NULL && strcmp(t->method, "offline") == 0);
    t->test = d_opt_bool(d, "test");
    t->date_created = d_date(d, "date_created", false);
    t->tender = order_tender_of(t->gateway, t->method);
}

int bcd_transactions(const json_t *root, struct order *o, struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    struct order_txn *v = NULL;
    json_t *arr = NULL;
    struct dec d;
    size_t n;

    if (o == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_transactions: order is NULL");
    snprintf(where, sizeof(where), "order %lld transactions", (long long)o->id);
    dec_init(&d, root, where, o->exponent, e);
    if (v3_data(&d, &arr) != MLC_OK)
        return d.cx.rc;
    n = json_array_size(arr);
    if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", where);
    order_txns_clear(o);
    o->txns = v;
    o->n_txns = n;
    for (size_t i = 0; d.cx.rc == MLC_OK && i < n; i++) {
        snprintf(d.prefix, sizeof(d.prefix), "data[%zu].", i);
        dec_txn(&d, &v[i]);
    }
    if (d.cx.rc != MLC_OK) {
        order_txns_clear(o);
        return d.cx.rc;
    }
    o->have_txns = true;
    return MLC_OK;
}

/* ---- catalog categories ------------------------------------------------ */

static int set_categories(struct order *o, int64_t product_id, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < o->n_products; i++) {
        struct order_product *p = &o->products[i];
        int64_t *copy = NULL;

        if (p->product_id != product_id)
            continue;
        if (n > 0 && (copy = malloc(n * sizeof(*copy))) == NULL)
            return MLC_ENOMEM;
        if (n > 0)
            memcpy(copy, ids, n * sizeof(*copy));
        free(p->category_ids);
        p->category_ids = copy;
        p->n_category_ids = n;
    }
    return MLC_OK;
}

/* Category ids of data[i] into ids[] (cap entries); returns the count. */
static size_t dec_category_ids(struct dec *d, size_t i, int64_t *ids, size_t cap)
{
    char path[DEC_PATH_MAX];
    json_t *arr = NULL;
    size_t n;

    snprintf(path, sizeof(path), "data[%zu].categories", i);
    jx_opt_arr(&d->cx, d->root, path, &arr);
    n = json_array_size(arr);
    if (n > cap) {
        dec_fail(d, MLC_ETOOBIG, path, "more than %zu categories", cap);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        snprintf(path, sizeof(path), "data[%zu].categories[%zu]", i, k);
        jx_get_i64(&d->cx, d->root, path, &ids[k]);
    }
    return n;
}

int bcd_product_categories(const json_t *root, struct order *o, struct mlc_err *e)
{
    enum { MAX_CATS = 256 };
    int64_t ids[MAX_CATS];
    char where[DEC_WHERE_MAX];
    json_t *arr = NULL;
    struct dec d;

    if (o == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_product_categories: order is NULL");
    snprintf(where, sizeof(where), "order %lld catalog products", (long long)o->id);
    dec_init(&d, root, where, o->exponent, e);
    if (v3_data(&d, &arr) != MLC_OK)
        return d.cx.rc;
    for (size_t i = 0; d.cx.rc == MLC_OK && i < json_array_size(arr); i++) {
        size_t n;
        int64_t pid;

        snprintf(d.prefix, sizeof(d.prefix), "data[%zu].", i);
        pid = d_i64(&d, "id");
        n = dec_category_ids(&d, i, ids, MAX_CATS);
        if (d.cx.rc == MLC_OK && set_categories(o, pid, ids, n) != MLC_OK)
            dec_fail(&d, MLC_ENOMEM, "categories", "out of memory");
    }
    return d.cx.rc;
}

/* ---- refunds ----------------------------------------------------------- */

static enum order_refund_item_type ritem_type(const char *s)
{
    static const char *const names[] = { "", "PRODUCT", "SHIPPING", "HANDLING",
                                         "GIFT_WRAPPING", "ORDER", "FEE" };

    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return (enum order_refund_item_type)i;
    return ORDER_RITEM_OTHER;
}

static void dec_ritem(struct dec *d, const json_t *item, struct order_refund_item *it)
{
    const json_t *ra = json_object_get(item, "requested_amount");

    it->type_name = d_str(d, "item_type");
    it->type = it->type_name != NULL ? ritem_type(it->type_name) : ORDER_RITEM_OTHER;
    it->item_id = d_opt_i64(d, "item_id", 0);
    it->quantity = d_opt_i64(d, "quantity", 0);
    it->has_requested = ra != NULL && !json_is_null(ra);
    if (it->has_requested)
        it->requested_amount = d_money(d, "requested_amount");
}

static void dec_rpayment(struct dec *d, struct order_refund_payment *p)
{
    const char *pid = NULL;

    p->id = d_opt_i64(d, "id", 0);
    jx_get_str(&d->cx, d->root, at(d, "provider_id"), &pid);
    p->provider_id = dup_str(d, "provider_id", pid);
    p->amount = d_money(d, "amount");
    p->offline = d_opt_bool(d, "offline");
    p->declined = d_opt_bool(d, "is_declined");
    p->tender = order_tender_of(p->provider_id, NULL);
}

/* items[] or payments[] of the refund at base: allocates n elements. */
static void *dec_ralloc(struct dec *d, const char *base, const char *key, size_t size,
                        size_t *n, json_t **arr)
{
    char path[DEC_PATH_MAX];
    void *v = NULL;

    snprintf(path, sizeof(path), "%s%s", base, key);
    *arr = NULL;
    jx_opt_arr(&d->cx, d->root, path, arr);
    *n = json_array_size(*arr);
    if (*n > 0 && (v = calloc(*n, size)) == NULL) {
        dec_fail(d, MLC_ENOMEM, key, "out of memory");
        *n = 0;
    }
    return v;
}

static void dec_refund_lists(struct dec *d, const char *base, struct order_refund *r)
{
    json_t *items, *pays;

    r->items = dec_ralloc(d, base, "items", sizeof(*r->items), &r->n_items, &items);
    for (size_t i = 0; d->cx.rc == MLC_OK && i < r->n_items; i++) {
        snprintf(d->prefix, sizeof(d->prefix), "%sitems[%zu].", base, i);
        dec_ritem(d, json_array_get(items, i), &r->items[i]);
    }
    snprintf(d->prefix, sizeof(d->prefix), "%s", base);
    r->payments = dec_ralloc(d, base, "payments", sizeof(*r->payments), &r->n_payments,
                             &pays);
    for (size_t i = 0; d->cx.rc == MLC_OK && i < r->n_payments; i++) {
        snprintf(d->prefix, sizeof(d->prefix), "%spayments[%zu].", base, i);
        dec_rpayment(d, &r->payments[i]);
    }
}

/* The refund object at prefix base of d->root. */
static void dec_refund_at(struct dec *d, const char *base, const struct order *o,
                          struct order_refund *r)
{
    snprintf(d->prefix, sizeof(d->prefix), "%s", base);
    r->id = d_i64(d, "id");
    r->order_id = d_i64(d, "order_id");
    if (d->cx.rc == MLC_OK && r->order_id != o->id)
        dec_fail(d, MLC_EPROTO, "order_id", "refund %lld belongs to order %lld, not %lld",
                 (long long)r->id, (long long)r->order_id, (long long)o->id);
    r->created = d_date(d, "created", false);
    r->total_amount = d_money(d, "total_amount");
    r->total_tax = d_opt_money(d, "total_tax");
    dec_refund_lists(d, base, r);
}

int bcd_refund(const json_t *obj, const struct order *o, struct order_refund *out,
               struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    struct dec d;

    if (o == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_refund: NULL argument");
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return mlc_err_set(e, MLC_EPROTO, "order %lld refund: expected object, got %s",
                           (long long)o->id, jx_type_name(obj));
    snprintf(where, sizeof(where), "order %lld refund", (long long)o->id);
    dec_init(&d, obj, where, o->exponent, e);
    dec_refund_at(&d, "", o, out);
    if (d.cx.rc != MLC_OK)
        order_refund_clear(out);
    return d.cx.rc;
}

int bcd_refunds(const json_t *root, const struct order *o, struct order_refund **out,
                size_t *n, struct mlc_err *e)
{
    char where[DEC_WHERE_MAX];
    struct order_refund *v = NULL;
    json_t *data = NULL;
    struct dec d;
    size_t len;

    if (o == NULL || out == NULL || n == NULL)
        return mlc_err_set(e, MLC_EINVAL, "bcd_refunds: NULL argument");
    *out = NULL;
    *n = 0;
    if (root == NULL)
        return MLC_OK;
    snprintf(where, sizeof(where), "order %lld refunds", (long long)o->id);
    dec_init(&d, root, where, o->exponent, e);
    if (jx_get(&d.cx, root, "data", &data) != MLC_OK)
        return d.cx.rc;
    if (json_is_object(data)) {      /* GET .../refunds/{id} */
        if ((v = calloc(1, sizeof(*v))) == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", where);
        dec_refund_at(&d, "data.", o, v);
        len = 1;
    } else {
        if (jx_get_arr(&d.cx, root, "data", &data) != MLC_OK)
            return d.cx.rc;
        len = json_array_size(data);
        if (len > 0 && (v = calloc(len, sizeof(*v))) == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", where);
        for (size_t i = 0; d.cx.rc == MLC_OK && i < len; i++) {
            char base[DEC_PREFIX_MAX];
            snprintf(base, sizeof(base), "data[%zu].", i);
            dec_refund_at(&d, base, o, &v[i]);
        }
    }
    if (d.cx.rc != MLC_OK) {
        order_refunds_free(v, len);
        return d.cx.rc;
    }
    *out = v;
    *n = len;
    return MLC_OK;
}
