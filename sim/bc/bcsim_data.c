/*
 * bcsim_data: the simulated store's records and the rules that build them.
 *
 * Money: every amount is read into int64_t at scale 4 (the v2 precision),
 * summed with checked arithmetic, and formatted only when the API object is
 * built: v2 as "12.3400" strings, v3 as numbers at the currency exponent.
 */
#include "bc/bcsim_data.h"

#include <stdlib.h>
#include <string.h>

#include "bc/bcsim_hooks.h"
#include "bc/bcsim_int.h"
#include "core/jdate.h"
#include "core/json.h"
#include "core/money.h"

/* ---- vectors ------------------------------------------------------------ */

static int64_t rec_id(const void *p)
{
    return *(const int64_t *)p;
}

static int vec_push(struct bcsim_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap == 0 ? 16 : v->cap * 2;
        void **nv = realloc(v->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return MLC_ENOMEM;
        v->v = nv;
        v->cap = ncap;
    }
    v->v[v->n++] = p;
    return MLC_OK;
}

static size_t vec_lower(const struct bcsim_vec *v, int64_t id)
{
    size_t lo = 0, hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (rec_id(v->v[mid]) < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *vec_find(const struct bcsim_vec *v, int64_t id)
{
    size_t i = vec_lower(v, id);

    return i < v->n && rec_id(v->v[i]) == id ? v->v[i] : NULL;
}

/* Inserts keeping ids ascending; MLC_EEXIST for a duplicate id. */
static int vec_insert(struct bcsim_vec *v, void *p)
{
    size_t i = vec_lower(v, rec_id(p));
    int rc;

    if (i < v->n && rec_id(v->v[i]) == rec_id(p))
        return MLC_EEXIST;
    rc = vec_push(v, p);
    if (rc != MLC_OK)
        return rc;
    memmove(&v->v[i + 1], &v->v[i], (v->n - 1 - i) * sizeof(*v->v));
    v->v[i] = p;
    return MLC_OK;
}

static void order_free(struct bcsim_order *o)
{
    if (o == NULL)
        return;
    json_decref(o->v2);
    json_decref(o->products);
    json_decref(o->shipping);
    json_decref(o->coupons);
    json_decref(o->fees);
    json_decref(o->transactions);
    free(o);
}

static void refund_free(struct bcsim_refund *r)
{
    if (r != NULL)
        json_decref(r->v3);
    free(r);
}

static void customer_free(struct bcsim_customer *c)
{
    if (c == NULL)
        return;
    json_decref(c->v3);
    json_decref(c->addresses);
    free(c);
}

static void product_free(struct bcsim_product *p)
{
    if (p == NULL)
        return;
    json_decref(p->v3);
    json_decref(p->variants);
    free(p);
}

static void hook_free(struct bcsim_hook *h)
{
    if (h != NULL)
        json_decref(h->v3);
    free(h);
}

void bcsim_data_init(struct bcsim_data *d)
{
    memset(d, 0, sizeof(*d));
    d->admin_emails = json_array();
    d->next_order = 100;
    d->next_refund = 1;
    d->next_customer = 1;
    d->next_address = 1;
    d->next_product = 100;
    d->next_variant = 1000;
    d->next_hook = 18000000;
    d->next_item = 1;
    d->next_txn = 85000000;
}

void bcsim_data_free(struct bcsim_data *d)
{
    for (size_t i = 0; i < d->orders.n; i++)
        order_free(d->orders.v[i]);
    for (size_t i = 0; i < d->refunds.n; i++)
        refund_free(d->refunds.v[i]);
    for (size_t i = 0; i < d->customers.n; i++)
        customer_free(d->customers.v[i]);
    for (size_t i = 0; i < d->products.n; i++)
        product_free(d->products.v[i]);
    for (size_t i = 0; i < d->hooks.n; i++)
        hook_free(d->hooks.v[i]);
    free(d->orders.v);
    free(d->refunds.v);
    free(d->customers.v);
    free(d->products.v);
    free(d->hooks.v);
    json_decref(d->admin_emails);
    memset(d, 0, sizeof(*d));
}

struct bcsim_order *bcsim_order_find(struct bcsim_data *d, int64_t id)
{
    return vec_find(&d->orders, id);
}

struct bcsim_customer *bcsim_customer_find(struct bcsim_data *d, int64_t id)
{
    return vec_find(&d->customers, id);
}

struct bcsim_product *bcsim_product_find(struct bcsim_data *d, int64_t id)
{
    return vec_find(&d->products, id);
}

struct bcsim_refund *bcsim_refund_find(struct bcsim_data *d, int64_t id)
{
    return vec_find(&d->refunds, id);
}

struct bcsim_hook *bcsim_hook_find(struct bcsim_data *d, int64_t id)
{
    return vec_find(&d->hooks, id);
}

json_t *bcsim_variant_find(struct bcsim_data *d, int64_t id,
                           struct bcsim_product **owner)
{
    for (size_t i = 0; i < d->products.n; i++) {
        struct bcsim_product *p = d->products.v[i];
        size_t k;
        json_t *v;

        json_array_foreach(p->variants, k, v) {
            if (json_integer_value(json_object_get(v, "id")) == id) {
                if (owner != NULL)
                    *owner = p;
                return v;
            }
        }
    }
    return NULL;
}

/* ---- statuses ----------------------------------------------------------- */

static const struct {
    const char *name;
    const char *desc;
} statuses[] = {
    { "Incomplete", "The shopper did not finish checkout." },
    { "Pending", "The customer started checkout, payment not yet confirmed." },
    { "Shipped", "Every item of the order has been shipped." },
    { "Partially Shipped", "Some items of the order have been shipped." },
    { "Refunded", "The order has been refunded in full." },
    { "Cancelled", "The merchant cancelled the order." },
    { "Declined", "The order was declined (payment or fraud check)." },
    { "Awaiting Payment", "The customer chose an offline payment not yet received." },
    { "Awaiting Pickup", "The order is packed and waits for the customer to collect it." },
    { "Awaiting Shipment", "The order is packed and waits for the carrier." },
    { "Completed", "The order has been delivered or collected." },
    { "Awaiting Fulfillment", "Payment is captured; the order waits to be packed." },
    { "Manual Verification Required", "The order waits for a manual payment or fraud review." },
    { "Disputed", "The customer opened a dispute with the card issuer." },
    { "Partially Refunded", "Part of the order has been refunded." },
};

const char *bcsim_status_name(int id)
{
    return id >= 0 && id <= 14 ? statuses[id].name : NULL;
}

const char *bcsim_status_desc(int id)
{
    return id >= 0 && id <= 14 ? statuses[id].desc : NULL;
}

/* The payment_status a status implies when the seed gives none. */
static const char *default_payment_status(int status_id)
{
    switch (status_id) {
    case 2: case 3: case 8: case 9: case 10: case 11:
        return "captured";
    case 4:
        return "refunded";
    case 14:
        return "partially refunded";
    case 5:
        return "void";
    case 6:
        return "declined";
    case 7: case 12:
        return "pending";
    default:
        return "";
    }
}

/* ---- small builders ----------------------------------------------------- */

static int money_field(struct jx_ctx *cx, const json_t *o, const char *key,
                       int64_t *v4)
{
    const json_t *v = json_object_get(o, key);

    *v4 = 0;
    if (cx->rc != MLC_OK || v == NULL || json_is_null(v))
        return MLC_OK;
    if ((cx->rc = bcsim_money_in(v, v4, cx->e)) != MLC_OK) {
        mlc_err_wrap(cx->e, "%s: %s", cx->where != NULL ? cx->where : "", key);
        return cx->rc;
    }
    return MLC_OK;
}

/* Adds with overflow check into *acc (keeps the first failure in cx). */
static void acc_add(struct jx_ctx *cx, int64_t *acc, int64_t v)
{
    if (cx->rc == MLC_OK && money_add(*acc, v, acc, cx->e) != MLC_OK)
        cx->rc = MLC_ERANGE;
}

static void acc_mul(struct jx_ctx *cx, int64_t a, int64_t k, int64_t *out)
{
    *out = 0;
    if (cx->rc == MLC_OK && money_mul_i64(a, k, out, cx->e) != MLC_OK)
        cx->rc = MLC_ERANGE;
}

static int parse_time(struct jx_ctx *cx, const json_t *o, const char *key,
                      int64_t def, int64_t *out)
{
    const char *s = NULL;

    *out = def;
    jx_opt_str(cx, o, key, NULL, &s);
    if (cx->rc != MLC_OK || s == NULL)
        return cx->rc;
    if (jdate_iso8601_parse(s, out, cx->e) != MLC_OK &&
        jdate_rfc2822_parse(s, out, NULL) != MLC_OK) {
        cx->rc = mlc_err_set(cx->e, MLC_EINVAL, "%s: %s: not a date: '%s'",
                             cx->where != NULL ? cx->where : "", key, s);
        *out = def;
    }
    return cx->rc;
}

static const char *str_or(const json_t *o, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? v : def;
}

static json_t *link_obj(struct bcsim *s, int64_t order_id, const char *sub)
{
    char url[256], res[96];

    snprintf(res, sizeof(res), "/orders/%lld%s", (long long)order_id, sub);
    snprintf(url, sizeof(url), "https://api.bigcommerce.com/stores/%s/v2%s",
             s->set.store_hash, res);
    return json_pack("{s:s, s:s}", "url", url, "resource", res);
}

static int currency_id(const char *code)
{
    static const char *const known[] = { "USD", "EUR", "GBP", "CAD", "AUD", "JPY" };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(code, known[i]) == 0)
            return (int)i + 1;
    return 9;
}

/* A 10-dp rate string ("1.3600000000") from a decimal string. */
static json_t *rate10(struct jx_ctx *cx, const char *s)
{
    int64_t v;
    char buf[MONEY_FMT_MAX];

    if (money_parse_at(s, 10, MONEY_ROUND_HALF_AWAY, &v, cx->e) != MLC_OK) {
        if (cx->rc == MLC_OK)
            cx->rc = MLC_EINVAL;
        return json_string("1.0000000000");
    }
    money_format(v, 10, buf, sizeof(buf));
    return json_string(buf);
}

/* v2 address members from the seed (street_1 ... email). */
static json_t *v2_address(const json_t *a)
{
    json_t *o = json_object();
    static const char *const keys[] = {
        "first_name", "last_name", "company", "street_1", "street_2", "city",
        "state", "zip", "country", "country_iso2", "phone", "email",
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(o, keys[i], json_string(str_or(a, keys[i], "")));
    json_object_set_new(o, "form_fields", json_array());
    return o;
}

/* ---- orders ------------------------------------------------------------- */

struct order_sums {
    int64_t sub_ex, sub_tax, ship_ex, ship_tax, hand_ex, hand_tax;
    int64_t fee_ex, fee_tax, coupon, discount, gift, credit;
    int64_t items;
};

static json_t *build_products(struct bcsim *s, struct jx_ctx *cx,
                              const json_t *in, int64_t order_id,
                              int64_t address_id, bool inclusive,
                              struct order_sums *t, int64_t **line_inc,
                              size_t *n_lines)
{
    json_t *arr = json_array();
    const json_t *lines = json_object_get(in, "products");
    size_t i, n = json_array_size(lines);
    const json_t *l;

    *line_inc = calloc(n > 0 ? n : 1, sizeof(int64_t));
    *n_lines = n;
    if (*line_inc == NULL && cx->rc == MLC_OK)
        cx->rc = mlc_err_set(cx->e, MLC_ENOMEM, "out of memory");
    json_array_foreach(lines, i, l) {
        int64_t price, tax, qty = 0, total_ex = 0, total_inc = 0, unit_tax = 0;
        int64_t pid = 0, vid = 0, id = 0;
        const char *sku = "", *name = "", *type = "physical";
        json_t *p;

        jx_get_i64(cx, l, "quantity", &qty);
        jx_opt_i64(cx, l, "product_id", 0, &pid);
        jx_opt_i64(cx, l, "variant_id", 0, &vid);
        jx_opt_i64(cx, l, "id", 0, &id);
        jx_opt_str(cx, l, "sku", "", &sku);
        jx_get_str(cx, l, "name", &name);
        jx_opt_str(cx, l, "type", "physical", &type);
        money_field(cx, l, "price_ex_tax", &price);
        money_field(cx, l, "tax", &tax);
        if (cx->rc != MLC_OK)
            break;
        if (qty <= 0) {
            cx->rc = mlc_err_set(cx->e, MLC_EINVAL, "%s: products[%zu]: quantity must be positive",
                                 cx->where, i);
            break;
        }
        acc_mul(cx, price, qty, &total_ex);
        total_inc = total_ex;
        acc_add(cx, &total_inc, tax);
        /* The unit tax is the line tax shared out, rounded half away. */
        money_round_scale(tax * 10 / qty, 5, 4, MONEY_ROUND_HALF_AWAY, &unit_tax, NULL);
        acc_add(cx, &t->sub_ex, total_ex);
        acc_add(cx, &t->sub_tax, tax);
        t->items += qty;
        if (id == 0)
            id = s->data.next_item;
        if (id >= s->data.next_item)
            s->data.next_item = id + 1;
        if (*line_inc != NULL)
            (*line_inc)[i] = total_inc;
        p = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
                      "id", (json_int_t)id, "order_id", (json_int_t)order_id,
                      "product_id", (json_int_t)pid, "variant_id", (json_int_t)vid,
                      "order_address_id", (json_int_t)address_id, "name", name,
                      "name_customer", name, "name_merchant", name, "sku", sku,
                      "upc", "", "type", type);
        json_object_set_new(p, "base_price", bcsim_j_v2money(inclusive ? price + unit_tax : price));
        json_object_set_new(p, "price_ex_tax", bcsim_j_v2money(price));
        json_object_set_new(p, "price_inc_tax", bcsim_j_v2money(price + unit_tax));
        json_object_set_new(p, "price_tax", bcsim_j_v2money(unit_tax));
        json_object_set_new(p, "base_total", bcsim_j_v2money(inclusive ? total_inc : total_ex));
        json_object_set_new(p, "total_ex_tax", bcsim_j_v2money(total_ex));
        json_object_set_new(p, "total_inc_tax", bcsim_j_v2money(total_inc));
        json_object_set_new(p, "total_tax", bcsim_j_v2money(tax));
        json_object_set_new(p, "quantity", json_integer((json_int_t)qty));
        json_object_set_new(p, "weight", json_string("0.0000"));
        json_object_set_new(p, "base_cost_price", bcsim_j_v2money(0));
        json_object_set_new(p, "cost_price_inc_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "cost_price_ex_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "cost_price_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "is_refunded", json_false());
        json_object_set_new(p, "quantity_refunded", json_integer(0));
        json_object_set_new(p, "refund_amount", bcsim_j_v2money(0));
        json_object_set_new(p, "return_id", json_integer(0));
        json_object_set_new(p, "wrapping_id", json_integer(0));
        json_object_set_new(p, "wrapping_name", json_string(""));
        json_object_set_new(p, "base_wrapping_cost", bcsim_j_v2money(0));
        json_object_set_new(p, "wrapping_cost_ex_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "wrapping_cost_inc_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "wrapping_cost_tax", bcsim_j_v2money(0));
        json_object_set_new(p, "wrapping_message", json_string(""));
        json_object_set_new(p, "quantity_shipped", json_integer(0));
        json_object_set_new(p, "event_name", json_null());
        json_object_set_new(p, "event_date", json_null());
        json_object_set_new(p, "fixed_shipping_cost", bcsim_j_v2money(0));
        json_object_set_new(p, "ebay_item_id", json_string(""));
        json_object_set_new(p, "ebay_transaction_id", json_string(""));
        json_object_set_new(p, "option_set_id", json_null());
        json_object_set_new(p, "parent_order_product_id", json_null());
        json_object_set_new(p, "is_bundled_product", json_false());
        json_object_set_new(p, "bin_picking_number", json_string(""));
        json_object_set_new(p, "external_id", json_null());
        json_object_set_new(p, "brand", json_string(str_or(l, "brand", "")));
        json_object_set_new(p, "applied_discounts", json_array());
        json_object_set_new(p, "product_options", json_array());
        json_object_set_new(p, "configurable_fields", json_array());
        json_object_set_new(p, "gift_certificate_id", json_null());
        json_object_set_new(p, "discounted_total_inc_tax", bcsim_j_v2money(total_inc));
        json_array_append_new(arr, p);
    }
    return arr;
}

/* Shares the coupon discount over the lines in proportion to their totals,
 * so that the discounted line totals add up to what the order says. */
static void apply_coupon(struct jx_ctx *cx, json_t *products, const json_t *coupons,
                         const int64_t *line_inc, size_t n, int64_t discount,
                         int exponent)
{
    int64_t *share, factor = 1, minor;
    const char *code = "";
    bool any = false;

    if (discount == 0 || n == 0 || cx->rc != MLC_OK)
        return;
    for (size_t i = 0; i < n; i++)
        any = any || line_inc[i] > 0;
    if (!any)
        return;
    /* Shares are whole minor units of the currency (cents), like the store. */
    for (int k = exponent; k < 4; k++)
        factor *= 10;
    money_round_scale(discount, 4, exponent < 4 ? exponent : 4, MONEY_ROUND_HALF_AWAY,
                      &minor, NULL);
    share = calloc(n, sizeof(*share));
    if (share == NULL || money_allocate(minor, line_inc, n, share, cx->e) != MLC_OK) {
        free(share);
        cx->rc = mlc_err_set(cx->e, MLC_EINVAL, "cannot share the coupon discount");
        return;
    }
    code = str_or(json_array_get(coupons, 0), "code", "");
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(products, i);
        json_t *ad = json_object_get(p, "applied_discounts");

        share[i] *= factor;
        if (share[i] == 0)
            continue;
        json_array_append_new(ad, json_pack("{s:s, s:o, s:s, s:s, s:s}",
                                            "id", "coupon", "amount",
                                            bcsim_j_v2money(share[i]), "name",
                                            "Coupon", "code", code, "target",
                                            "order"));
        json_object_set_new(p, "discounted_total_inc_tax",
                            bcsim_j_v2money(line_inc[i] - share[i]));
    }
    free(share);
}

static json_t *build_shipping(struct bcsim *s, struct jx_ctx *cx, const json_t *in,
                              int64_t order_id, int64_t *first_id,
                              struct order_sums *t)
{
    json_t *arr = json_array();
    const json_t *ships = json_object_get(in, "shipping");
    json_t *deflt = NULL;
    size_t i;
    const json_t *a;

    *first_id = 0;
    if (ships == NULL) {
        /* No shipping given: one free consignment to the billing address. */
        const json_t *bill = json_object_get(in, "billing_address");

        deflt = json_pack("[o]", bill != NULL ? json_deep_copy(bill) : json_object());
        ships = deflt;
    }
    json_array_foreach(ships, i, a) {
        int64_t ex, tax, hex, htax, id = s->data.next_address++;
        json_t *o = v2_address(a);
        char sub[64];

        money_field(cx, a, "cost_ex_tax", &ex);
        money_field(cx, a, "cost_tax", &tax);
        money_field(cx, a, "handling_ex_tax", &hex);
        money_field(cx, a, "handling_tax", &htax);
        acc_add(cx, &t->ship_ex, ex);
        acc_add(cx, &t->ship_tax, tax);
        acc_add(cx, &t->hand_ex, hex);
        acc_add(cx, &t->hand_tax, htax);
        if (i == 0)
            *first_id = id;
        json_object_set_new(o, "id", json_integer((json_int_t)id));
        json_object_set_new(o, "order_id", json_integer((json_int_t)order_id));
        json_object_set_new(o, "items_total", json_integer(0));
        json_object_set_new(o, "items_shipped", json_integer(0));
        json_object_set_new(o, "shipping_method",
                            json_string(str_or(a, "shipping_method", "Free Shipping")));
        json_object_set_new(o, "base_cost", bcsim_j_v2money(ex));
        json_object_set_new(o, "cost_ex_tax", bcsim_j_v2money(ex));
        json_object_set_new(o, "cost_inc_tax", bcsim_j_v2money(ex + tax));
        json_object_set_new(o, "cost_tax", bcsim_j_v2money(tax));
        json_object_set_new(o, "cost_tax_class_id", json_integer(2));
        json_object_set_new(o, "base_handling_cost", bcsim_j_v2money(hex));
        json_object_set_new(o, "handling_cost_ex_tax", bcsim_j_v2money(hex));
        json_object_set_new(o, "handling_cost_inc_tax", bcsim_j_v2money(hex + htax));
        json_object_set_new(o, "handling_cost_tax", bcsim_j_v2money(htax));
        json_object_set_new(o, "handling_cost_tax_class_id", json_integer(2));
        json_object_set_new(o, "shipping_zone_id", json_integer(1));
        json_object_set_new(o, "shipping_zone_name",
                            json_string(str_or(a, "shipping_zone_name", "Domestic")));
        snprintf(sub, sizeof(sub), "/shipping_addresses/%lld/shipping_quotes",
                 (long long)id);
        json_object_set_new(o, "shipping_quotes", link_obj(s, order_id, sub));
        json_array_append_new(arr, o);
    }
    json_decref(deflt);
    return arr;
}

static json_t *build_coupons(struct jx_ctx *cx, const json_t *in, int64_t order_id,
                             struct order_sums *t)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *c;

    json_array_foreach(json_object_get(in, "coupons"), i, c) {
        int64_t amount, disc, type = 2, cid = 0;
        const char *code = "";

        jx_get_str(cx, c, "code", &code);
        jx_opt_i64(cx, c, "type", 2, &type);
        jx_opt_i64(cx, c, "coupon_id", (int64_t)i + 1, &cid);
        money_field(cx, c, "amount", &amount);
        money_field(cx, c, "discount", &disc);
        acc_add(cx, &t->coupon, disc);
        if (cx->rc != MLC_OK)
            break;
        json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:s, s:o, s:I, s:o}",
                                             "id", (json_int_t)(order_id * 10 + (int64_t)i),
                                             "coupon_id", (json_int_t)cid,
                                             "order_id", (json_int_t)order_id,
                                             "code", code,
                                             "amount", bcsim_j_number(amount, 4),
                                             "type", (json_int_t)type,
                                             "discount", bcsim_j_number(disc, 4)));
    }
    return arr;
}

static json_t *build_fees(struct jx_ctx *cx, const json_t *in, int64_t order_id,
                          struct order_sums *t)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *f;

    json_array_foreach(json_object_get(in, "fees"), i, f) {
        int64_t ex, tax;
        const char *name = "";
        json_t *o;

        jx_get_str(cx, f, "name", &name);
        money_field(cx, f, "cost_ex_tax", &ex);
        money_field(cx, f, "cost_tax", &tax);
        acc_add(cx, &t->fee_ex, ex);
        acc_add(cx, &t->fee_tax, tax);
        if (cx->rc != MLC_OK)
            break;
        o = json_pack("{s:I, s:s, s:s, s:s, s:s}",
                      "id", (json_int_t)(order_id * 10 + (int64_t)i),
                      "type", "custom_fee", "display_name_customer", name,
                      "display_name_merchant", name, "source", "AA");
        json_object_set_new(o, "base_cost", bcsim_j_v2money(ex));
        json_object_set_new(o, "cost_ex_tax", bcsim_j_v2money(ex));
        json_object_set_new(o, "cost_inc_tax", bcsim_j_v2money(ex + tax));
        json_object_set_new(o, "cost_tax", bcsim_j_v2money(tax));
        json_object_set_new(o, "tax_class_id", json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *build_transaction(struct bcsim *s, struct jx_ctx *cx,
                                 const json_t *in, int64_t order_id,
                                 const char *currency, int exponent,
                                 int64_t created, struct order_sums *t)
{
    int64_t amount, id = s->data.next_txn++, when;
    const char *event = "purchase", *method = "credit_card", *gateway = "custom";
    const char *status = "ok";
    char oid[24], gwid[48];
    json_t *o;
    const json_t *gc;

    jx_opt_str(cx, in, "event", "purchase", &event);
    jx_opt_str(cx, in, "method", "credit_card", &method);
    jx_opt_str(cx, in, "gateway", "custom", &gateway);
    jx_opt_str(cx, in, "status", "ok", &status);
    money_field(cx, in, "amount", &amount);
    parse_time(cx, in, "date_created", created, &when);
    if (cx->rc != MLC_OK)
        return NULL;
    if (strcmp(status, "ok") == 0 &&
        (strcmp(event, "purchase") == 0 || strcmp(event, "capture") == 0)) {
        if (strcmp(method, "gift_certificate") == 0)
            acc_add(cx, &t->gift, amount);
        else if (strcmp(method, "store_credit") == 0)
            acc_add(cx, &t->credit, amount);
    }
    snprintf(oid, sizeof(oid), "%lld", (long long)order_id);
    snprintf(gwid, sizeof(gwid), "%s-%lld", gateway, (long long)id);
    o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:s}",
                  "id", (json_int_t)id, "order_id", oid, "event", event,
                  "method", method, "amount", bcsim_j_number(amount, exponent),
                  "currency", currency, "gateway", gateway,
                  "gateway_transaction_id", str_or(in, "gateway_transaction_id", gwid),
                  "status", status, "test", false, "fraud_review", false,
                  "date_created", bcsim_j_iso(when),
                  "payment_method_id", str_or(in, "payment_method_id", gateway));
    if (json_is_object(json_object_get(in, "credit_card")))
        json_object_set(o, "credit_card", json_object_get(in, "credit_card"));
    gc = json_object_get(in, "gift_certificate");
    if (json_is_object(gc)) {
        int64_t bal;

        money_field(cx, gc, "balance", &bal);
        json_object_set_new(o, "gift_certificate",
                            json_pack("{s:s, s:o, s:o, s:o, s:s}",
                                      "code", str_or(gc, "code", ""),
                                      "original_balance", bcsim_j_number(bal, exponent),
                                      "starting_balance", bcsim_j_number(bal, exponent),
                                      "remaining_balance",
                                      bcsim_j_number(bal - amount, exponent),
                                      "status", "active"));
    }
    if (strcmp(method, "offline") == 0)
        json_object_set_new(o, "offline", json_pack("{s:s}", "display_name",
                                                    str_or(in, "display_name", "Bank transfer")));
    return o;
}

static void set_money(json_t *o, const char *key, int64_t v4)
{
    json_object_set_new(o, key, bcsim_j_v2money(v4));
}

static json_t *build_v2(struct bcsim *s, struct jx_ctx *cx, const json_t *in,
                        struct bcsim_order *o, const struct order_sums *t,
                        bool inclusive)
{
    int64_t total_ex, total_tax, total_inc;
    const char *display = o->currency, *rate = "1", *pstatus;
    json_t *v;
    const json_t *bill = json_object_get(in, "billing_address");
    json_t *empty = json_object();

    jx_opt_str(cx, in, "display_currency", o->currency, &display);
    jx_opt_str(cx, in, "exchange_rate", "1", &rate);
    jx_opt_str(cx, in, "payment_status", default_payment_status(o->status_id), &pstatus);
    total_ex = t->sub_ex;
    acc_add(cx, &total_ex, t->ship_ex);
    acc_add(cx, &total_ex, t->hand_ex);
    acc_add(cx, &total_ex, t->fee_ex);
    acc_add(cx, &total_ex, -t->coupon);
    acc_add(cx, &total_ex, -t->discount);
    total_tax = t->sub_tax;
    acc_add(cx, &total_tax, t->ship_tax);
    acc_add(cx, &total_tax, t->hand_tax);
    acc_add(cx, &total_tax, t->fee_tax);
    total_inc = total_ex;
    acc_add(cx, &total_inc, total_tax);

    v = json_pack("{s:I, s:I, s:o, s:o, s:s, s:i, s:s}",
                  "id", (json_int_t)o->id, "customer_id", (json_int_t)o->customer_id,
                  "date_created", bcsim_j_rfc2822(o->created),
                  "date_modified", bcsim_j_rfc2822(o->modified),
                  "date_shipped", "", "status_id", o->status_id,
                  "status", bcsim_status_name(o->status_id));
    set_money(v, "subtotal_ex_tax", t->sub_ex);
    set_money(v, "subtotal_inc_tax", t->sub_ex + t->sub_tax);
    set_money(v, "subtotal_tax", t->sub_tax);
    set_money(v, "base_shipping_cost", inclusive ? t->ship_ex + t->ship_tax : t->ship_ex);
    set_money(v, "shipping_cost_ex_tax", t->ship_ex);
    set_money(v, "shipping_cost_inc_tax", t->ship_ex + t->ship_tax);
    set_money(v, "shipping_cost_tax", t->ship_tax);
    json_object_set_new(v, "shipping_cost_tax_class_id", json_integer(2));
    set_money(v, "base_handling_cost", t->hand_ex);
    set_money(v, "handling_cost_ex_tax", t->hand_ex);
    set_money(v, "handling_cost_inc_tax", t->hand_ex + t->hand_tax);
    set_money(v, "handling_cost_tax", t->hand_tax);
    json_object_set_new(v, "handling_cost_tax_class_id", json_integer(2));
    set_money(v, "base_wrapping_cost", 0);
    set_money(v, "wrapping_cost_ex_tax", 0);
    set_money(v, "wrapping_cost_inc_tax", 0);
    set_money(v, "wrapping_cost_tax", 0);
    json_object_set_new(v, "wrapping_cost_tax_class_id", json_integer(3));
    set_money(v, "total_ex_tax", total_ex);
    set_money(v, "total_inc_tax", total_inc);
    set_money(v, "total_tax", total_tax);
    json_object_set_new(v, "items_total", json_integer((json_int_t)t->items));
    json_object_set_new(v, "items_shipped", json_integer(0));
    json_object_set_new(v, "payment_method", json_string(str_or(in, "payment_method", "Credit Card")));
    json_object_set_new(v, "payment_provider_id", json_string(str_or(in, "payment_provider_id", "")));
    json_object_set_new(v, "payment_status", json_string(pstatus));
    set_money(v, "refunded_amount", 0);
    json_object_set_new(v, "order_is_digital", json_false());
    set_money(v, "store_credit_amount", t->credit);
    set_money(v, "gift_certificate_amount", t->gift);
    json_object_set_new(v, "ip_address", json_string(str_or(in, "ip_address", "")));
    json_object_set_new(v, "ip_address_v6", json_string(""));
    json_object_set_new(v, "geoip_country", json_string(str_or(bill, "country", "")));
    json_object_set_new(v, "geoip_country_iso2", json_string(str_or(bill, "country_iso2", "")));
    json_object_set_new(v, "currency_id", json_integer(currency_id(display)));
    json_object_set_new(v, "currency_code", json_string(display));
    json_object_set_new(v, "currency_exchange_rate", json_string("1.0000000000"));
    json_object_set_new(v, "default_currency_id", json_integer(currency_id(o->currency)));
    json_object_set_new(v, "default_currency_code", json_string(o->currency));
    json_object_set_new(v, "store_default_currency_code",
                        json_string(str_or(s->set.store_info, "currency", "USD")));
    json_object_set_new(v, "store_default_to_transactional_exchange_rate", rate10(cx, rate));
    json_object_set_new(v, "staff_notes", json_string(str_or(in, "staff_notes", "")));
    json_object_set_new(v, "customer_message", json_string(str_or(in, "customer_message", "")));
    set_money(v, "discount_amount", t->discount);
    set_money(v, "coupon_discount", t->coupon);
    json_object_set_new(v, "shipping_address_count",
                        json_integer((json_int_t)json_array_size(o->shipping)));
    json_object_set_new(v, "is_deleted", json_false());
    json_object_set_new(v, "ebay_order_id", json_string("0"));
    json_object_set_new(v, "cart_id", json_string(str_or(in, "cart_id", "")));
    json_object_set_new(v, "billing_address", v2_address(bill != NULL ? bill : empty));
    json_object_set_new(v, "is_email_opt_in", json_false());
    json_object_set_new(v, "channel_id", json_integer(1));
    json_object_set_new(v, "external_source", json_null());
    json_object_set_new(v, "external_id", json_null());
    json_object_set_new(v, "external_merchant_id", json_null());
    json_object_set_new(v, "external_order_id", json_string(str_or(in, "external_order_id", "")));
    json_object_set_new(v, "order_source", json_string(str_or(in, "order_source", "www")));
    json_object_set_new(v, "tax_provider_id", json_string("BasicTaxProvider"));
    json_object_set_new(v, "customer_locale", json_string("en"));
    json_object_set_new(v, "is_tax_inclusive_pricing", json_boolean(inclusive));
    json_object_set_new(v, "products", link_obj(s, o->id, "/products"));
    json_object_set_new(v, "shipping_addresses", link_obj(s, o->id, "/shipping_addresses"));
    json_object_set_new(v, "coupons", link_obj(s, o->id, "/coupons"));
    json_object_set_new(v, "consignments", link_obj(s, o->id, "/consignments"));
    json_object_set_new(v, "fees", link_obj(s, o->id, "/fees"));
    json_decref(empty);
    return v;
}

int bcsim_order_create(struct bcsim *s, const json_t *in, bool fire,
                       struct bcsim_order **out, struct mlc_err *e)
{
    struct bcsim_order *o = calloc(1, sizeof(*o));
    struct order_sums t = { 0 };
    struct jx_ctx cx;
    char where[48];
    const char *cur = NULL;
    int64_t status = 11, addr_id = 0, id = 0, *line_inc = NULL;
    size_t n_lines = 0, i;
    const json_t *tx;
    bool inclusive = false;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (o == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (!json_is_object(in)) {
        rc = mlc_err_set(e, MLC_EINVAL, "order: expected an object");
        goto fail;
    }
    jx_ctx_init(&cx, NULL, e);
    jx_opt_i64(&cx, in, "id", 0, &id);
    if (cx.rc == MLC_OK && id != 0 && id < s->data.next_order &&
        bcsim_order_find(&s->data, id) != NULL) {
        rc = mlc_err_set(e, MLC_EEXIST, "order %lld already exists", (long long)id);
        goto fail;
    }
    o->id = id != 0 ? id : s->data.next_order;
    snprintf(where, sizeof(where), "order %lld", (long long)o->id);
    cx.where = where;
    jx_opt_i64(&cx, in, "customer_id", 0, &o->customer_id);
    jx_opt_i64(&cx, in, "status_id", 11, &status);
    jx_opt_str(&cx, in, "currency", str_or(s->set.store_info, "currency", "USD"), &cur);
    jx_opt_bool(&cx, in, "tax_inclusive", false, &inclusive);
    parse_time(&cx, in, "date_created", bcsim_now(s), &o->created);
    parse_time(&cx, in, "date_modified", o->created, &o->modified);
    money_field(&cx, in, "discount_amount", &t.discount);
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    if (bcsim_status_name((int)status) == NULL || strlen(cur) != 3 ||
        money_exponent(cur, &o->exponent, e) != MLC_OK) {
        rc = mlc_err_set(e, MLC_EINVAL, "%s: bad status_id or currency", where);
        goto fail;
    }
    o->status_id = (int)status;
    memcpy(o->currency, cur, 4);
    o->shipping = build_shipping(s, &cx, in, o->id, &addr_id, &t);
    o->products = build_products(s, &cx, in, o->id, addr_id, inclusive, &t,
                                 &line_inc, &n_lines);
    o->coupons = build_coupons(&cx, in, o->id, &t);
    apply_coupon(&cx, o->products, o->coupons, line_inc, n_lines, t.coupon, o->exponent);
    o->fees = build_fees(&cx, in, o->id, &t);
    o->transactions = json_array();
    json_array_foreach(json_object_get(in, "transactions"), i, tx) {
        json_t *j = build_transaction(s, &cx, tx, o->id, o->currency, o->exponent,
                                      o->created, &t);

        if (j != NULL)
            json_array_append_new(o->transactions, j);
    }
    /* Every address carries the item count (one consignment in practice). */
    json_array_foreach(o->shipping, i, tx)
        json_object_set_new((json_t *)tx, "items_total", json_integer(i == 0 ? (json_int_t)t.items : 0));
    if (cx.rc == MLC_OK)
        o->v2 = build_v2(s, &cx, in, o, &t, inclusive);
    free(line_inc);
    line_inc = NULL;
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    rc = vec_insert(&s->data.orders, o);
    if (rc != MLC_OK) {
        rc = mlc_err_set(e, rc, "%s: cannot store it", where);
        goto fail;
    }
    if (o->id >= s->data.next_order)
        s->data.next_order = o->id + 1;
    if (fire)
        bcsim_hooks_emit(s, "store/order/created",
                         json_pack("{s:s, s:I}", "type", "order", "id", (json_int_t)o->id));
    if (out != NULL)
        *out = o;
    return MLC_OK;
fail:
    free(line_inc);
    order_free(o);
    return rc;
}

static void order_touch(struct bcsim *s, struct bcsim_order *o)
{
    o->modified = bcsim_now(s);
    json_object_set_new(o->v2, "date_modified", bcsim_j_rfc2822(o->modified));
}

int bcsim_order_change(struct bcsim *s, struct bcsim_order *o,
                       const json_t *in, struct mlc_err *e)
{
    struct jx_ctx cx;
    int64_t status = o->status_id;
    int prev = o->status_id;
    const char *pstatus = NULL;
    const json_t *bill;
    static const char *const text_keys[] = { "customer_message", "staff_notes" };

    jx_ctx_init(&cx, "order change", e);
    jx_opt_i64(&cx, in, "status_id", o->status_id, &status);
    jx_opt_str(&cx, in, "payment_status", NULL, &pstatus);
    if (cx.rc != MLC_OK)
        return cx.rc;
    if (bcsim_status_name((int)status) == NULL)
        return mlc_err_set(e, MLC_EINVAL, "order change: unknown status_id %lld",
                           (long long)status);
    for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++) {
        const char *v = json_string_value(json_object_get(in, text_keys[i]));

        if (v != NULL)
            json_object_set_new(o->v2, text_keys[i], json_string(v));
    }
    bill = json_object_get(in, "billing_address");
    if (json_is_object(bill))
        json_object_update(json_object_get(o->v2, "billing_address"), (json_t *)bill);
    o->status_id = (int)status;
    json_object_set_new(o->v2, "status_id", json_integer(status));
    json_object_set_new(o->v2, "status", json_string(bcsim_status_name((int)status)));
    if (pstatus != NULL)
        json_object_set_new(o->v2, "payment_status", json_string(pstatus));
    else if (prev != o->status_id)
        json_object_set_new(o->v2, "payment_status",
                            json_string(default_payment_status(o->status_id)));
    order_touch(s, o);
    if (prev != o->status_id)
        bcsim_hooks_emit(s, "store/order/statusUpdated",
                         json_pack("{s:s, s:I, s:{s:i, s:i}}", "type", "order",
                                   "id", (json_int_t)o->id, "status",
                                   "previous_status_id", prev,
                                   "new_status_id", o->status_id));
    bcsim_hooks_emit(s, "store/order/updated",
                     json_pack("{s:s, s:I}", "type", "order", "id", (json_int_t)o->id));
    return MLC_OK;
}

/* ---- refunds ------------------------------------------------------------ */

static int64_t refunded_so_far(struct bcsim_data *d, int64_t order_id)
{
    int64_t sum = 0;

    for (size_t i = 0; i < d->refunds.n; i++) {
        struct bcsim_refund *r = d->refunds.v[i];
        int64_t v;

        if (r->order_id == order_id &&
            bcsim_money_in(json_object_get(r->v3, "total_amount"), &v, NULL) == MLC_OK)
            sum += v;
    }
    return sum;
}

static json_t *refund_items(struct jx_ctx *cx, const json_t *in, int exponent,
                            int64_t *total)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *it;

    *total = 0;
    json_array_foreach(json_object_get(in, "items"), i, it) {
        const char *type = "ORDER";
        int64_t item_id = 0, qty = 0, amount;
        json_t *o;

        jx_opt_str(cx, it, "item_type", "ORDER", &type);
        jx_get_i64(cx, it, "item_id", &item_id);
        jx_opt_i64(cx, it, "quantity", 0, &qty);
        money_field(cx, it, "amount", &amount);
        acc_add(cx, total, amount);
        if (cx->rc != MLC_OK)
            break;
        o = json_pack("{s:s, s:I, s:s, s:o}", "item_type", type,
                      "item_id", (json_int_t)item_id,
                      "reason", str_or(it, "reason", ""),
                      "requested_amount", bcsim_j_number(amount, exponent));
        if (qty > 0)
            json_object_set_new(o, "quantity", json_integer((json_int_t)qty));
        json_array_append_new(arr, o);
    }
    return arr;
}

int bcsim_refund_create(struct bcsim *s, const json_t *in, bool fire,
                        struct bcsim_refund **out, struct mlc_err *e)
{
    struct bcsim_refund *r = calloc(1, sizeof(*r));
    struct bcsim_order *o;
    struct jx_ctx cx;
    json_t *items = NULL, *pays = NULL, *txn0;
    int64_t total = 0, tax = 0, paid = 0, order_total = 0, done;
    const char *gateway, *method;
    size_t i;
    const json_t *p;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (r == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    jx_ctx_init(&cx, "refund", e);
    jx_get_i64(&cx, in, "order_id", &r->order_id);
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    o = bcsim_order_find(&s->data, r->order_id);
    if (o == NULL) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "refund: no order %lld", (long long)r->order_id);
        goto fail;
    }
    r->id = s->data.next_refund;
    parse_time(&cx, in, "created", bcsim_now(s), &r->created);
    money_field(&cx, in, "tax", &tax);
    items = refund_items(&cx, in, o->exponent, &total);
    txn0 = json_array_get(o->transactions, 0);
    gateway = str_or(txn0, "gateway", "custom");
    method = str_or(txn0, "method", "custom");
    pays = json_array();
    json_array_foreach(json_object_get(in, "payments"), i, p) {
        int64_t amount;
        bool offline = false;

        money_field(&cx, p, "amount", &amount);
        jx_opt_bool(&cx, p, "offline", false, &offline);
        acc_add(&cx, &paid, amount);
        json_array_append_new(pays, json_pack("{s:I, s:s, s:o, s:b, s:b, s:s}",
                                              "id", (json_int_t)(r->id * 10 + (int64_t)i),
                                              "provider_id", str_or(p, "provider_id", gateway),
                                              "amount", bcsim_j_number(amount, o->exponent),
                                              "offline", offline, "is_declined", false,
                                              "declined_message", ""));
    }
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    if (json_array_size(items) == 0 || total <= 0) {
        rc = mlc_err_set(e, MLC_EINVAL, "refund: at least one item with a positive amount");
        goto fail;
    }
    if (json_array_size(pays) == 0) {
        json_array_append_new(pays, json_pack("{s:I, s:s, s:o, s:b, s:b, s:s}",
                                              "id", (json_int_t)(r->id * 10),
                                              "provider_id", gateway,
                                              "amount", bcsim_j_number(total, o->exponent),
                                              "offline", false, "is_declined", false,
                                              "declined_message", ""));
        paid = total;
    }
    bcsim_money_in(json_object_get(o->v2, "total_inc_tax"), &order_total, NULL);
    done = refunded_so_far(&s->data, o->id);
    if (paid != total || done + total > order_total) {
        rc = mlc_err_set(e, MLC_EINVAL, "refund: payments must sum to the items, and "
                         "refunds may not exceed the order total");
        goto fail;
    }
    r->v3 = json_pack("{s:I, s:I, s:i, s:o, s:s, s:o, s:o, s:b, s:o, s:o}",
                      "id", (json_int_t)r->id, "order_id", (json_int_t)r->order_id,
                      "user_id", 0, "created", bcsim_j_iso(r->created),
                      "reason", str_or(in, "reason", ""),
                      "total_amount", bcsim_j_number(total, o->exponent),
                      "total_tax", bcsim_j_number(tax, o->exponent),
                      "uses_merchant_override_values", false,
                      "items", items, "payments", pays);
    items = pays = NULL;
    rc = vec_insert(&s->data.refunds, r);
    if (rc != MLC_OK) {
        rc = mlc_err_set(e, rc, "refund: cannot store it");
        goto fail;
    }
    s->data.next_refund++;
    /* The order shows the refund: payment status and a refund transaction. */
    {
        struct order_sums t = { 0 };
        json_t *rt = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "refund",
                               "method", method, "gateway", gateway, "status", "ok",
                               "amount", "0");
        json_t *j;

        json_object_set_new(rt, "amount", bcsim_j_v2money(total));
        j = build_transaction(s, &cx, rt, o->id, o->currency, o->exponent,
                              r->created, &t);
        json_decref(rt);
        if (j != NULL)
            json_array_append_new(o->transactions, j);
        json_object_set_new(o->v2, "payment_status",
                            json_string(done + total == order_total ? "refunded"
                                                                    : "partially refunded"));
        /* The order changed when the refund was made (seeded refunds too). */
        if (r->created > o->modified) {
            o->modified = r->created;
            json_object_set_new(o->v2, "date_modified", bcsim_j_rfc2822(o->modified));
        }
    }
    if (fire)
        bcsim_hooks_emit(s, "store/order/refund/created",
                         json_pack("{s:s, s:I, s:{s:I}}", "type", "order",
                                   "id", (json_int_t)o->id, "refund",
                                   "refund_id", (json_int_t)r->id));
    if (out != NULL)
        *out = r;
    return MLC_OK;
fail:
    json_decref(items);
    json_decref(pays);
    refund_free(r);
    return rc;
}

/* ---- customers ---------------------------------------------------------- */

static json_t *v3_address(struct bcsim *s, const json_t *a, int64_t customer_id)
{
    json_t *o = json_object();
    static const char *const keys[] = {
        "first_name", "last_name", "company", "address1", "address2", "city",
        "state_or_province", "postal_code", "country_code", "country", "phone",
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(o, keys[i], json_string(str_or(a, keys[i], "")));
    json_object_set_new(o, "address_type",
                        json_string(str_or(a, "address_type", "commercial")));
    json_object_set_new(o, "id", json_integer((json_int_t)s->data.next_address++));
    json_object_set_new(o, "customer_id", json_integer((json_int_t)customer_id));
    return o;
}

static void customer_sync(struct bcsim_customer *c)
{
    json_object_set_new(c->v3, "date_modified", bcsim_j_iso(c->modified));
    json_object_set_new(c->v3, "address_count",
                        json_integer((json_int_t)json_array_size(c->addresses)));
}

static int customer_fields(struct jx_ctx *cx, struct bcsim_customer *c,
                           const json_t *in)
{
    static const char *const keys[] = {
        "email", "first_name", "last_name", "company", "phone", "notes",
        "tax_exempt_category", "registration_ip_address",
    };
    int64_t group;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(in, keys[i]);

        if (v == NULL)
            continue;
        if (!json_is_string(v))
            return cx->rc = mlc_err_set(cx->e, MLC_EINVAL, "customer: %s: expected a string",
                                        keys[i]);
        json_object_set(c->v3, keys[i], (json_t *)v);
    }
    jx_opt_i64(cx, in, "customer_group_id",
               json_integer_value(json_object_get(c->v3, "customer_group_id")), &group);
    json_object_set_new(c->v3, "customer_group_id", json_integer((json_int_t)group));
    return cx->rc;
}

int bcsim_customer_create(struct bcsim *s, const json_t *in, bool fire,
                          struct bcsim_customer **out, struct mlc_err *e)
{
    struct bcsim_customer *c = calloc(1, sizeof(*c));
    struct jx_ctx cx;
    const char *email = NULL;
    size_t i;
    const json_t *a;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    jx_ctx_init(&cx, "customer", e);
    jx_opt_i64(&cx, in, "id", s->data.next_customer, &c->id);
    jx_get_str(&cx, in, "email", &email);
    parse_time(&cx, in, "date_created", bcsim_now(s), &c->created);
    parse_time(&cx, in, "date_modified", c->created, &c->modified);
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    c->v3 = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o,"
                      " s:i, s:[], s:i, s:[i]}",
                      "id", (json_int_t)c->id, "email", email, "first_name", "",
                      "last_name", "", "company", "", "phone", "", "notes", "",
                      "tax_exempt_category", "", "registration_ip_address", "",
                      "customer_group_id", 0, "date_created", bcsim_j_iso(c->created),
                      "attribute_count", 0, "store_credit_amounts",
                      "origin_channel_id", 1, "channel_ids", 1);
    c->addresses = json_array();
    if (customer_fields(&cx, c, in) != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    json_array_foreach(json_object_get(in, "addresses"), i, a)
        json_array_append_new(c->addresses, v3_address(s, a, c->id));
    customer_sync(c);
    rc = vec_insert(&s->data.customers, c);
    if (rc != MLC_OK) {
        rc = mlc_err_set(e, rc, "customer %lld: duplicate id", (long long)c->id);
        goto fail;
    }
    if (c->id >= s->data.next_customer)
        s->data.next_customer = c->id + 1;
    if (fire)
        bcsim_hooks_emit(s, "store/customer/created",
                         json_pack("{s:s, s:I}", "type", "customer", "id", (json_int_t)c->id));
    if (out != NULL)
        *out = c;
    return MLC_OK;
fail:
    customer_free(c);
    return rc;
}

int bcsim_customer_change(struct bcsim *s, struct bcsim_customer *c,
                          const json_t *in, struct mlc_err *e)
{
    struct jx_ctx cx;
    const json_t *addrs = json_object_get(in, "addresses");
    json_t *saved = json_deep_copy(c->v3);
    size_t i;
    const json_t *a;

    jx_ctx_init(&cx, "customer change", e);
    if (customer_fields(&cx, c, in) != MLC_OK) {
        json_decref(c->v3);
        c->v3 = saved;
        return cx.rc;
    }
    json_decref(saved);
    c->modified = bcsim_now(s);
    if (json_is_array(addrs)) {
        json_array_clear(c->addresses);
        json_array_foreach(addrs, i, a) {
            json_t *na = v3_address(s, a, c->id);

            bcsim_hooks_emit(s, "store/customer/address/created",
                             json_pack("{s:s, s:O, s:{s:I}}", "type", "customer",
                                       "id", json_object_get(na, "id"), "address",
                                       "customer_id", (json_int_t)c->id));
            json_array_append_new(c->addresses, na);
        }
    }
    customer_sync(c);
    bcsim_hooks_emit(s, "store/customer/updated",
                     json_pack("{s:s, s:I}", "type", "customer", "id", (json_int_t)c->id));
    return MLC_OK;
}

/* ---- catalog ------------------------------------------------------------ */

/* A number member: strict JSON number from the API, or a decimal string
 * from the seed; stored as a JSON number (null stays null when allowed). */
static int num_member(const json_t *v, bool api, bool nullable, json_t **out,
                      struct mlc_err *e, const char *key)
{
    int64_t v4;

    *out = NULL;
    if (json_is_null(v) && nullable) {
        *out = json_null();
        return MLC_OK;
    }
    if (api && !json_is_number(v))
        return mlc_err_set(e, MLC_EINVAL, "%s: expected a number", key);
    if (bcsim_money_in(v, &v4, NULL) != MLC_OK || v4 < 0)
        return mlc_err_set(e, MLC_EINVAL, "%s: expected a non-negative number "
                           "with at most 4 decimals", key);
    *out = bcsim_j_number(v4, 4);
    return MLC_OK;
}

enum member_kind { M_STR, M_NUM, M_NUMNULL, M_INT, M_BOOL, M_INTS };

struct member {
    const char      *key;
    enum member_kind kind;
    const char      *allowed;  /* comma list of allowed strings, or NULL */
};

static const struct member product_members[] = {
    { "name", M_STR, NULL }, { "sku", M_STR, NULL },
    { "type", M_STR, "physical,digital" }, { "description", M_STR, NULL },
    { "upc", M_STR, NULL }, { "mpn", M_STR, NULL }, { "gtin", M_STR, NULL },
    { "availability", M_STR, "available,disabled,preorder" },
    { "inventory_tracking", M_STR, "none,product,variant" },
    { "price", M_NUM, NULL }, { "cost_price", M_NUM, NULL },
    { "retail_price", M_NUM, NULL }, { "sale_price", M_NUM, NULL },
    { "map_price", M_NUM, NULL }, { "weight", M_NUM, NULL },
    { "width", M_NUM, NULL }, { "depth", M_NUM, NULL }, { "height", M_NUM, NULL },
    { "inventory_level", M_INT, NULL }, { "inventory_warning_level", M_INT, NULL },
    { "brand_id", M_INT, NULL }, { "tax_class_id", M_INT, NULL },
    { "is_visible", M_BOOL, NULL }, { "is_featured", M_BOOL, NULL },
    { "categories", M_INTS, NULL },
};

static const struct member variant_members[] = {
    { "sku", M_STR, NULL }, { "upc", M_STR, NULL },
    { "bin_picking_number", M_STR, NULL }, { "purchasing_disabled_message", M_STR, NULL },
    { "price", M_NUMNULL, NULL }, { "sale_price", M_NUMNULL, NULL },
    { "retail_price", M_NUMNULL, NULL }, { "cost_price", M_NUMNULL, NULL },
    { "weight", M_NUMNULL, NULL }, { "width", M_NUMNULL, NULL },
    { "height", M_NUMNULL, NULL }, { "depth", M_NUMNULL, NULL },
    { "inventory_level", M_INT, NULL }, { "inventory_warning_level", M_INT, NULL },
    { "purchasing_disabled", M_BOOL, NULL },
};

/* Copies the known members of in onto obj after checking their types;
 * nothing is written unless every member is valid. */
static int apply_members(json_t *obj, const json_t *in, const struct member *m,
                         size_t n, bool api, struct mlc_err *e)
{
    json_t *staged = json_object();
    int rc = MLC_OK;

    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        const json_t *v = json_object_get(in, m[i].key);
        json_t *nv = NULL;

        if (v == NULL)
            continue;
        switch (m[i].kind) {
        case M_STR:
            if (!json_is_string(v) ||
                (m[i].allowed != NULL && !bcsim_csv_has(m[i].allowed, json_string_value(v))))
                rc = mlc_err_set(e, MLC_EINVAL, "%s: invalid value", m[i].key);
            else
                nv = json_copy((json_t *)v);
            break;
        case M_NUM:
        case M_NUMNULL:
            rc = num_member(v, api, m[i].kind == M_NUMNULL, &nv, e, m[i].key);
            break;
        case M_INT:
            if (!json_is_integer(v))
                rc = mlc_err_set(e, MLC_EINVAL, "%s: expected an integer", m[i].key);
            else
                nv = json_copy((json_t *)v);
            break;
        case M_BOOL:
            if (!json_is_boolean(v))
                rc = mlc_err_set(e, MLC_EINVAL, "%s: expected a boolean", m[i].key);
            else
                nv = json_copy((json_t *)v);
            break;
        case M_INTS: {
            size_t k;
            json_t *x;

            if (!json_is_array(v)) {
                rc = mlc_err_set(e, MLC_EINVAL, "%s: expected an array", m[i].key);
                break;
            }
            json_array_foreach(v, k, x)
                if (!json_is_integer(x))
                    rc = mlc_err_set(e, MLC_EINVAL, "%s: expected integers", m[i].key);
            if (rc == MLC_OK)
                nv = json_deep_copy(v);
            break;
        }
        }
        if (nv != NULL)
            json_object_set_new(staged, m[i].key, nv);
    }
    if (rc == MLC_OK)
        json_object_update(obj, staged);
    json_decref(staged);
    return rc;
}

/* True when name or sku is used by another product (or a variant SKU). */
static bool catalog_taken(struct bcsim_data *d, const struct bcsim_product *self,
                          const char *key, const char *value)
{
    if (value == NULL || *value == '\0')
        return false;
    for (size_t i = 0; i < d->products.n; i++) {
        struct bcsim_product *p = d->products.v[i];
        size_t k;
        json_t *v;

        if (p == self)
            continue;
        if (strcmp(str_or(p->v3, key, ""), value) == 0)
            return true;
        if (strcmp(key, "sku") != 0)
            continue;
        json_array_foreach(p->variants, k, v)
            if (strcmp(str_or(v, "sku", ""), value) == 0)
                return true;
    }
    return false;
}

static void product_sync(struct bcsim_product *p)
{
    json_t *price = json_object_get(p->v3, "price");
    json_t *sale = json_object_get(p->v3, "sale_price");
    json_t *base = json_array_size(p->variants) == 1 ? json_array_get(p->variants, 0) : NULL;
    size_t k;
    json_t *v;

    json_object_set(p->v3, "calculated_price",
                    json_is_number(sale) && json_number_value(sale) > 0 ? sale : price);
    json_object_set_new(p->v3, "date_modified", bcsim_j_iso(p->modified));
    if (base != NULL) {
        json_object_set(p->v3, "base_variant_id", json_object_get(base, "id"));
        json_object_set(base, "sku", json_object_get(p->v3, "sku"));
    } else {
        json_object_del(p->v3, "base_variant_id");
    }
    json_array_foreach(p->variants, k, v) {
        json_t *vp = json_object_get(v, "price");

        json_object_set(v, "calculated_price", json_is_number(vp) ? vp : price);
    }
}

static json_t *new_variant(struct bcsim *s, int64_t product_id, const char *sku)
{
    int64_t id = s->data.next_variant++;

    return json_pack("{s:I, s:I, s:s, s:I, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n,"
                     " s:b, s:s, s:s, s:i, s:i, s:s, s:b, s:n, s:[]}",
                     "id", (json_int_t)id, "product_id", (json_int_t)product_id,
                     "sku", sku, "sku_id", (json_int_t)id, "price", "sale_price",
                     "retail_price", "cost_price", "weight", "width", "height",
                     "depth", "purchasing_disabled", false,
                     "purchasing_disabled_message", "", "upc", "",
                     "inventory_level", 0, "inventory_warning_level", 0,
                     "bin_picking_number", "", "is_free_shipping", false,
                     "fixed_cost_shipping_price", "option_values");
}

int bcsim_product_create(struct bcsim *s, const json_t *in, bool api,
                         struct bcsim_product **out, struct mlc_err *e)
{
    struct bcsim_product *p = calloc(1, sizeof(*p));
    struct jx_ctx cx;
    const char *name = NULL, *sku = "";
    int64_t id = 0;
    size_t i;
    const json_t *vi;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (p == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (!json_is_object(in)) {
        rc = mlc_err_set(e, MLC_EINVAL, "product: expected an object");
        goto fail;
    }
    jx_ctx_init(&cx, "product", e);
    if (!api)
        jx_opt_i64(&cx, in, "id", 0, &id);
    jx_get_str(&cx, in, "name", &name);
    jx_opt_str(&cx, in, "sku", "", &sku);
    if (cx.rc == MLC_OK && (json_object_get(in, "type") == NULL ||
                            json_object_get(in, "weight") == NULL ||
                            json_object_get(in, "price") == NULL))
        cx.rc = mlc_err_set(e, MLC_EINVAL, "product: name, type, weight and price are required");
    if (cx.rc == MLC_OK && (*name == '\0' || strlen(name) > 250 || strlen(sku) > 255))
        cx.rc = mlc_err_set(e, MLC_EINVAL, "product: name must be 1..250 and sku at most 255 characters");
    if (cx.rc != MLC_OK) {
        rc = MLC_EINVAL;
        goto fail;
    }
    if (catalog_taken(&s->data, NULL, "name", name) ||
        catalog_taken(&s->data, NULL, "sku", sku)) {
        rc = mlc_err_set(e, MLC_EEXIST, "product: the name or SKU is already in use");
        goto fail;
    }
    p->id = id != 0 ? id : s->data.next_product;
    if (!api)
        parse_time(&cx, in, "date_created", bcsim_now(s), &p->created);
    else
        p->created = bcsim_now(s);
    if (!api)
        parse_time(&cx, in, "date_modified", p->created, &p->modified);
    else
        p->modified = p->created;
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto fail;
    }
    p->v3 = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i,"
                      " s:i, s:i, s:i, s:[], s:i, s:i, s:i, s:s, s:b, s:b, s:s,"
                      " s:s, s:s, s:s, s:o}",
                      "id", (json_int_t)p->id, "name", name, "type", "physical",
                      "sku", sku, "description", "", "weight", 0, "width", 0,
                      "depth", 0, "height", 0, "price", 0, "cost_price", 0,
                      "retail_price", 0, "sale_price", 0, "map_price", 0,
                      "tax_class_id", 0, "categories", "brand_id", 0,
                      "inventory_level", 0, "inventory_warning_level", 0,
                      "inventory_tracking", "none", "is_visible", true,
                      "is_featured", false, "availability", "available",
                      "upc", "", "mpn", "", "gtin", "",
                      "date_created", bcsim_j_iso(p->created));
    p->variants = json_array();
    rc = apply_members(p->v3, in, product_members,
                       sizeof(product_members) / sizeof(product_members[0]), api, e);
    if (rc != MLC_OK)
        goto fail;
    json_array_foreach(json_object_get(in, "variants"), i, vi) {
        json_t *v = new_variant(s, p->id, str_or(vi, "sku", sku));

        if (json_integer_value(json_object_get(vi, "id")) > 0 && !api) {
            int64_t vid = json_integer_value(json_object_get(vi, "id"));

            json_object_set_new(v, "id", json_integer((json_int_t)vid));
            json_object_set_new(v, "sku_id", json_integer((json_int_t)vid));
            if (vid >= s->data.next_variant)
                s->data.next_variant = vid + 1;
        }
        json_array_append_new(p->variants, v);
        if (json_is_array(json_object_get(vi, "option_values")))
            json_object_set(v, "option_values", json_object_get(vi, "option_values"));
        rc = apply_members(v, vi, variant_members,
                           sizeof(variant_members) / sizeof(variant_members[0]), api, e);
        if (rc != MLC_OK)
            goto fail;
    }
    if (json_array_size(p->variants) == 0)
        json_array_append_new(p->variants, new_variant(s, p->id, sku));
    product_sync(p);
    rc = vec_insert(&s->data.products, p);
    if (rc != MLC_OK) {
        rc = mlc_err_set(e, rc, "product %lld: duplicate id", (long long)p->id);
        goto fail;
    }
    if (p->id >= s->data.next_product)
        s->data.next_product = p->id + 1;
    if (api)
        bcsim_hooks_emit(s, "store/product/created",
                         json_pack("{s:s, s:I}", "type", "product", "id", (json_int_t)p->id));
    if (out != NULL)
        *out = p;
    return MLC_OK;
fail:
    product_free(p);
    return rc;
}

int bcsim_product_update(struct bcsim *s, struct bcsim_product *p,
                         const json_t *in, bool api, struct mlc_err *e)
{
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *sku = json_string_value(json_object_get(in, "sku"));
    int rc;

    if (!json_is_object(in))
        return mlc_err_set(e, MLC_EINVAL, "product: expected an object");
    if ((name != NULL && (*name == '\0' || strlen(name) > 250)) ||
        (sku != NULL && strlen(sku) > 255))
        return mlc_err_set(e, MLC_EINVAL, "product: name must be 1..250 and sku "
                           "at most 255 characters");
    if (catalog_taken(&s->data, p, "name", name) || catalog_taken(&s->data, p, "sku", sku))
        return mlc_err_set(e, MLC_EEXIST, "product %lld: the name or SKU is already in use",
                           (long long)p->id);
    rc = apply_members(p->v3, in, product_members,
                       sizeof(product_members) / sizeof(product_members[0]), api, e);
    if (rc != MLC_OK)
        return rc;
    p->modified = bcsim_now(s);
    product_sync(p);
    if (api)
        bcsim_hooks_emit(s, "store/product/updated",
                         json_pack("{s:s, s:I}", "type", "product", "id", (json_int_t)p->id));
    return MLC_OK;
}

int bcsim_variant_update(struct bcsim *s, const json_t *in, struct mlc_err *e)
{
    struct bcsim_product *p = NULL;
    int64_t id = json_integer_value(json_object_get(in, "id"));
    const char *sku = json_string_value(json_object_get(in, "sku"));
    const json_t *pid = json_object_get(in, "product_id");
    json_t *v;
    int rc;

    if (!json_is_object(in) || !json_is_integer(json_object_get(in, "id")))
        return mlc_err_set(e, MLC_EINVAL, "variant: an id is required (creating "
                           "variants by batch is not simulated)");
    v = bcsim_variant_find(&s->data, id, &p);
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOTFOUND, "variant %lld not found", (long long)id);
    if (pid != NULL && json_integer_value(pid) != p->id)
        return mlc_err_set(e, MLC_EINVAL, "variant %lld: product_id does not match",
                           (long long)id);
    if (sku != NULL && (*sku == '\0' || catalog_taken(&s->data, p, "sku", sku)))
        return mlc_err_set(e, MLC_EEXIST, "variant %lld: SKU '%s' is empty or in use",
                           (long long)id, sku);
    rc = apply_members(v, in, variant_members,
                       sizeof(variant_members) / sizeof(variant_members[0]), true, e);
    if (rc != MLC_OK)
        return rc;
    if (sku != NULL && json_array_size(p->variants) == 1)
        json_object_set_new(p->v3, "sku", json_string(sku));
    p->modified = bcsim_now(s);
    product_sync(p);
    bcsim_hooks_emit(s, "store/sku/updated",
                     json_pack("{s:s, s:I, s:{s:I, s:I}}", "type", "sku",
                               "id", (json_int_t)id, "sku", "product_id",
                               (json_int_t)p->id, "variant_id", (json_int_t)id));
    return MLC_OK;
}

json_t *bcsim_product_render(const struct bcsim_product *p, bool variants)
{
    json_t *o = json_deep_copy(p->v3);

    if (variants)
        json_object_set_new(o, "variants", json_deep_copy(p->variants));
    return o;
}

/* ---- hooks -------------------------------------------------------------- */

int bcsim_hook_create(struct bcsim *s, const json_t *in,
                      struct bcsim_hook **out, struct mlc_err *e)
{
    const char *scope = json_string_value(json_object_get(in, "scope"));
    const char *dest = json_string_value(json_object_get(in, "destination"));
    const json_t *act = json_object_get(in, "is_active");
    const json_t *hdr = json_object_get(in, "headers");
    struct bcsim_hook *h;
    int64_t now = bcsim_now(s);
    int rc;

    if (out != NULL)
        *out = NULL;
    if (scope == NULL || strncmp(scope, "store/", 6) != 0 || dest == NULL ||
        (strncmp(dest, "https://", 8) != 0 && strncmp(dest, "http://", 7) != 0))
        return mlc_err_set(e, MLC_EINVAL, "a hook needs a scope (store/...) and an "
                           "http(s) destination");
    if ((act != NULL && !json_is_boolean(act)) ||
        (hdr != NULL && !json_is_object(hdr) && !json_is_null(hdr)))
        return mlc_err_set(e, MLC_EINVAL, "is_active must be a boolean and headers an object");
    for (size_t i = 0; i < s->data.hooks.n; i++) {
        struct bcsim_hook *o = s->data.hooks.v[i];

        if (strcmp(str_or(o->v3, "scope", ""), scope) == 0 &&
            strcmp(str_or(o->v3, "destination", ""), dest) == 0)
            return mlc_err_set(e, MLC_EEXIST, "a hook for this scope and destination "
                               "already exists");
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    h->id = s->data.next_hook;
    h->v3 = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:I, s:I}",
                      "id", (json_int_t)h->id, "client_id", s->set.client_id,
                      "store_hash", s->set.store_hash, "scope", scope,
                      "destination", dest, "is_active", act == NULL || json_is_true(act),
                      "created_at", (json_int_t)now, "updated_at", (json_int_t)now);
    json_object_set_new(h->v3, "headers", hdr != NULL ? json_deep_copy(hdr) : json_null());
    rc = vec_insert(&s->data.hooks, h);
    if (rc != MLC_OK) {
        hook_free(h);
        return mlc_err_set(e, rc, "cannot store the hook");
    }
    s->data.next_hook++;
    if (out != NULL)
        *out = h;
    return MLC_OK;
}

void bcsim_hook_delete(struct bcsim_data *d, int64_t id)
{
    size_t i = vec_lower(&d->hooks, id);

    if (i >= d->hooks.n || rec_id(d->hooks.v[i]) != id)
        return;
    hook_free(d->hooks.v[i]);
    memmove(&d->hooks.v[i], &d->hooks.v[i + 1], (d->hooks.n - i - 1) * sizeof(void *));
    d->hooks.n--;
}

/* ---- seed --------------------------------------------------------------- */

static int load_list(struct bcsim *s, const json_t *seed, const char *key,
                     int (*fn)(struct bcsim *, const json_t *, struct mlc_err *),
                     struct mlc_err *e)
{
    const json_t *arr = json_object_get(seed, key);
    size_t i;
    const json_t *x;
    int rc;

    if (arr == NULL)
        return MLC_OK;
    if (!json_is_array(arr))
        return mlc_err_set(e, MLC_EINVAL, "bigcommerce seed: %s: expected an array", key);
    json_array_foreach(arr, i, x) {
        rc = fn(s, x, e);
        if (rc != MLC_OK) {
            mlc_err_wrap(e, "bigcommerce seed: %s[%zu]", key, i);
            return rc;
        }
    }
    return MLC_OK;
}

static int seed_customer(struct bcsim *s, const json_t *x, struct mlc_err *e)
{
    return bcsim_customer_create(s, x, false, NULL, e);
}

static int seed_product(struct bcsim *s, const json_t *x, struct mlc_err *e)
{
    return bcsim_product_create(s, x, false, NULL, e);
}

static int seed_order(struct bcsim *s, const json_t *x, struct mlc_err *e)
{
    return bcsim_order_create(s, x, false, NULL, e);
}

static int seed_refund(struct bcsim *s, const json_t *x, struct mlc_err *e)
{
    return bcsim_refund_create(s, x, false, NULL, e);
}

static int seed_hook(struct bcsim *s, const json_t *x, struct mlc_err *e)
{
    return bcsim_hook_create(s, x, NULL, e);
}

int bcsim_data_load(struct bcsim *s, const json_t *seed, struct mlc_err *e)
{
    int rc;

    if (seed == NULL)
        return MLC_OK;
    if ((rc = load_list(s, seed, "customers", seed_customer, e)) != MLC_OK ||
        (rc = load_list(s, seed, "products", seed_product, e)) != MLC_OK ||
        (rc = load_list(s, seed, "orders", seed_order, e)) != MLC_OK ||
        (rc = load_list(s, seed, "refunds", seed_refund, e)) != MLC_OK ||
        (rc = load_list(s, seed, "hooks", seed_hook, e)) != MLC_OK)
        return rc;
    if (json_is_array(json_object_get(seed, "hook_admin_emails")))
        json_array_extend(s->data.admin_emails, json_object_get(seed, "hook_admin_emails"));
    return MLC_OK;
}
