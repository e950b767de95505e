/*
 * bcsim_orders: the v2 API (orders and their sub-resources, order statuses,
 * store information). v2 lists are bare arrays; past the last page, or when
 * nothing matches, they answer 204 with no body, as the real API does.
 */
#include <stdlib.h>
#include <string.h>

#include "bc/bcsim_api.h"

#define V2_LIMIT_DEFAULT 50
#define V2_LIMIT_MAX     250

/* ---- rendering ---------------------------------------------------------- */

static json_t *num_of(const json_t *v2money)
{
    int64_t v4 = 0;

    bcsim_money_in(v2money, &v4, NULL);
    return bcsim_j_number(v4, 4);
}

static json_t *link(struct bcsim *s, const char *res)
{
    char url[256];

    snprintf(url, sizeof(url), "https://api.bigcommerce.com/stores/%s/v2%s",
             s->set.store_hash, res);
    return json_pack("{s:s, s:s}", "url", url, "resource", res);
}

/* The consignment object (consignment_structure=object) of an order. */
static json_t *consignments(struct bcsim *s, const struct bcsim_order *o,
                            bool line_items)
{
    static const char *const money_keys[] = {
        "base_cost", "cost_ex_tax", "cost_inc_tax", "cost_tax", "base_handling_cost",
        "handling_cost_ex_tax", "handling_cost_inc_tax", "handling_cost_tax",
    };
    json_t *ship = json_array();
    size_t i, k;
    json_t *a, *p;
    char res[128];

    json_array_foreach(o->shipping, i, a) {
        json_t *c = json_deep_copy(a);
        json_t *items = json_array();
        int64_t aid = json_integer_value(json_object_get(a, "id"));

        json_object_del(c, "order_id");
        for (size_t m = 0; m < sizeof(money_keys) / sizeof(money_keys[0]); m++)
            json_object_set_new(c, money_keys[m], num_of(json_object_get(a, money_keys[m])));
        json_array_foreach(o->products, k, p) {
            if (json_integer_value(json_object_get(p, "order_address_id")) != aid)
                continue;
            if (line_items) {
                json_array_append_new(items, json_deep_copy(p));
            } else {
                snprintf(res, sizeof(res), "/orders/%lld/products/%lld",
                         (long long)o->id,
                         (long long)json_integer_value(json_object_get(p, "id")));
                json_array_append_new(items, link(s, res));
            }
        }
        json_object_set_new(c, "line_items", items);
        snprintf(res, sizeof(res), "/orders/%lld/consignments/shipping/%lld/shipping_quotes",
                 (long long)o->id, (long long)aid);
        json_object_set_new(c, "shipping_quotes", link(s, res));
        json_array_append_new(ship, c);
    }
    return json_pack("{s:[], s:o, s:[], s:{s:[]}}", "pickups", "shipping", ship,
                     "downloads", "email", "gift_certificates");
}

static json_t *render(struct bcsim *s, const struct bcsim_req *rq,
                      const struct bcsim_order *o)
{
    json_t *v = json_deep_copy(o->v2);
    const char *inc = bcsim_q(rq, "include");

    if (bcsim_csv_has(inc, "consignments.line_items"))
        json_object_set_new(v, "consignments", consignments(s, o, true));
    else if (bcsim_csv_has(inc, "consignments"))
        json_object_set_new(v, "consignments", consignments(s, o, false));
    if (bcsim_csv_has(inc, "fees"))
        json_object_set_new(v, "fees", json_deep_copy(o->fees));
    return v;
}

/* ---- filters and sorting ------------------------------------------------ */

struct filt {
    int64_t min_id, max_id, status_id, customer_id;
    bool    has_status, has_customer;
    bool    has_cmin, has_cmax, has_mmin, has_mmax;
    int64_t cmin, cmax, mmin, mmax;
    const char *email;
};

static bool read_filters(const struct bcsim_req *rq, struct bcsim_out *out,
                         struct filt *f)
{
    memset(f, 0, sizeof(*f));
    f->has_status = bcsim_q(rq, "status_id") != NULL;
    f->has_customer = bcsim_q(rq, "customer_id") != NULL;
    f->email = bcsim_q(rq, "email");
    return bcsim_q_i64(rq, out, "min_id", 0, 0, INT64_MAX, &f->min_id) == MLC_OK &&
           bcsim_q_i64(rq, out, "max_id", INT64_MAX, 0, INT64_MAX, &f->max_id) == MLC_OK &&
           bcsim_q_i64(rq, out, "status_id", 0, 0, 14, &f->status_id) == MLC_OK &&
           bcsim_q_i64(rq, out, "customer_id", 0, 0, INT64_MAX, &f->customer_id) == MLC_OK &&
           bcsim_q_time(rq, out, "min_date_created", &f->has_cmin, &f->cmin) == MLC_OK &&
           bcsim_q_time(rq, out, "max_date_created", &f->has_cmax, &f->cmax) == MLC_OK &&
           bcsim_q_time(rq, out, "min_date_modified", &f->has_mmin, &f->mmin) == MLC_OK &&
           bcsim_q_time(rq, out, "max_date_modified", &f->has_mmax, &f->mmax) == MLC_OK;
}

static bool matches(const struct filt *f, const struct bcsim_order *o)
{
    if (o->id < f->min_id || o->id > f->max_id)
        return false;
    if (f->has_status && o->status_id != f->status_id)
        return false;
    if (f->has_customer && o->customer_id != f->customer_id)
        return false;
    if ((f->has_cmin && o->created < f->cmin) || (f->has_cmax && o->created > f->cmax))
        return false;
    if ((f->has_mmin && o->modified < f->mmin) || (f->has_mmax && o->modified > f->mmax))
        return false;
    if (f->email != NULL) {
        const char *em = json_string_value(
            json_object_get(json_object_get(o->v2, "billing_address"), "email"));

        if (em == NULL || strcasecmp(em, f->email) != 0)
            return false;
    }
    return true;
}

enum sort_key { SK_ID, SK_CUSTOMER, SK_CREATED, SK_MODIFIED, SK_STATUS };

struct sort_spec {
    enum sort_key key;
    bool          desc;
};

static int64_t key_of(const struct bcsim_order *o, enum sort_key k)
{
    switch (k) {
    case SK_CUSTOMER: return o->customer_id;
    case SK_CREATED:  return o->created;
    case SK_MODIFIED: return o->modified;
    case SK_STATUS:   return o->status_id;
    default:          return o->id;
    }
}

static int cmp_orders(const void *a, const void *b, void *arg)
{
    const struct bcsim_order *x = *(const struct bcsim_order *const *)a;
    const struct bcsim_order *y = *(const struct bcsim_order *const *)b;
    const struct sort_spec *sp = arg;
    int64_t kx = key_of(x, sp->key), ky = key_of(y, sp->key);
    int c = kx < ky ? -1 : kx > ky ? 1 : (x->id < y->id ? -1 : x->id > y->id);

    return sp->desc ? -c : c;
}

static bool read_sort(const struct bcsim_req *rq, struct bcsim_out *out,
                      struct sort_spec *sp)
{
    static const struct { const char *name; enum sort_key key; } keys[] = {
        { "id", SK_ID }, { "customer_id", SK_CUSTOMER }, { "date_created", SK_CREATED },
        { "date_modified", SK_MODIFIED }, { "status_id", SK_STATUS },
    };
    const char *v = bcsim_q(rq, "sort");
    const char *colon;
    size_t n;

    sp->key = SK_ID;
    sp->desc = false;
    if (v == NULL)
        return true;
    colon = strchr(v, ':');
    n = colon != NULL ? (size_t)(colon - v) : strlen(v);
    if (colon != NULL && strcmp(colon, ":asc") != 0 && strcmp(colon, ":desc") != 0)
        goto bad;
    sp->desc = colon != NULL && strcmp(colon, ":desc") == 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strlen(keys[i].name) == n && strncmp(keys[i].name, v, n) == 0) {
            sp->key = keys[i].key;
            return true;
        }
    }
bad:
    bcsim_out_err(rq, out, 400, "The sort '%s' is not supported", v);
    return false;
}

/* ---- handlers ----------------------------------------------------------- */

void bcsim_v2_orders_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct filt f;
    struct sort_spec sp;
    struct bcsim_order **hits;
    int64_t page, limit;
    size_t n = 0, off;
    json_t *arr;

    if (!read_filters(rq, out, &f) || !read_sort(rq, out, &sp) ||
        bcsim_q_i64(rq, out, "page", 1, 1, INT32_MAX, &page) != MLC_OK ||
        bcsim_q_i64(rq, out, "limit", V2_LIMIT_DEFAULT, 1, INT32_MAX, &limit) != MLC_OK)
        return;
    if (limit > V2_LIMIT_MAX)
        limit = V2_LIMIT_MAX;
    hits = malloc((s->data.orders.n + 1) * sizeof(*hits));
    if (hits == NULL) {
        bcsim_out_err(rq, out, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < s->data.orders.n; i++)
        if (matches(&f, s->data.orders.v[i]))
            hits[n++] = s->data.orders.v[i];
    if (sp.key != SK_ID || sp.desc)
        qsort_r(hits, n, sizeof(*hits), cmp_orders, &sp);
    off = (size_t)((page - 1) * limit);
    if ((uint64_t)(page - 1) * (uint64_t)limit >= n) {
        free(hits);
        bcsim_out_set(out, 204, NULL);
        return;
    }
    arr = json_array();
    for (size_t i = off; i < n && i < off + (size_t)limit; i++)
        json_array_append_new(arr, render(s, rq, hits[i]));
    free(hits);
    bcsim_out_set(out, 200, arr);
}

void bcsim_v2_orders_count(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    int64_t counts[15] = { 0 }, total = 0;
    struct filt f;
    json_t *st = json_array();

    if (!read_filters(rq, out, &f)) {
        json_decref(st);
        return;
    }
    for (size_t i = 0; i < s->data.orders.n; i++) {
        struct bcsim_order *o = s->data.orders.v[i];

        if (!matches(&f, o))
            continue;
        counts[o->status_id]++;
        total++;
    }
    for (int id = 0; id <= 14; id++)
        json_array_append_new(st, json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:i}",
                                            "id", id, "name", bcsim_status_name(id),
                                            "system_label", bcsim_status_name(id),
                                            "custom_label", bcsim_status_name(id),
                                            "system_description", bcsim_status_desc(id),
                                            "count", (json_int_t)counts[id],
                                            "sort_order", id));
    bcsim_out_set(out, 200, json_pack("{s:o, s:I}", "statuses", st, "count",
                                      (json_int_t)total));
}

static struct bcsim_order *order_or_404(struct bcsim *s, const struct bcsim_req *rq,
                                        struct bcsim_out *out)
{
    struct bcsim_order *o = bcsim_order_find(&s->data, rq->id[0]);

    if (o == NULL)
        bcsim_out_err(rq, out, 404, "The requested order %lld was not found",
                      (long long)rq->id[0]);
    return o;
}

void bcsim_v2_order_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = order_or_404(s, rq, out);

    if (o != NULL)
        bcsim_out_set(out, 200, render(s, rq, o));
}

/* A paged copy of a sub-resource array; 204 when the page is empty. */
static void sub_list(const struct bcsim_req *rq, struct bcsim_out *out,
                     const json_t *arr)
{
    int64_t page, limit;
    size_t n = json_array_size(arr), off;
    json_t *res;

    if (bcsim_q_i64(rq, out, "page", 1, 1, INT32_MAX, &page) != MLC_OK ||
        bcsim_q_i64(rq, out, "limit", V2_LIMIT_DEFAULT, 1, INT32_MAX, &limit) != MLC_OK)
        return;
    if (limit > V2_LIMIT_MAX)
        limit = V2_LIMIT_MAX;
    if ((uint64_t)(page - 1) * (uint64_t)limit >= n) {
        bcsim_out_set(out, 204, NULL);
        return;
    }
    off = (size_t)((page - 1) * limit);
    res = json_array();
    for (size_t i = off; i < n && i < off + (size_t)limit; i++)
        json_array_append_new(res, json_deep_copy(json_array_get(arr, i)));
    bcsim_out_set(out, 200, res);
}

void bcsim_v2_order_products(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = order_or_404(s, rq, out);

    if (o != NULL)
        sub_list(rq, out, o->products);
}

void bcsim_v2_order_shipping(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = order_or_404(s, rq, out);

    if (o != NULL)
        sub_list(rq, out, o->shipping);
}

void bcsim_v2_order_coupons(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = order_or_404(s, rq, out);

    if (o != NULL)
        sub_list(rq, out, o->coupons);
}

/* The spec's example wraps the list: {"fees": [...]}. */
void bcsim_v2_order_fees(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = order_or_404(s, rq, out);

    if (o != NULL)
        bcsim_out_set(out, 200, json_pack("{s:o}", "fees", json_deep_copy(o->fees)));
}

void bcsim_v2_order_statuses(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    json_t *arr = json_array();

    (void)s;
    (void)rq;
    for (int id = 0; id <= 14; id++)
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", id,
                                             "name", bcsim_status_name(id),
                                             "system_label", bcsim_status_name(id),
                                             "custom_label", bcsim_status_name(id),
                                             "system_description", bcsim_status_desc(id)));
    bcsim_out_set(out, 200, arr);
}

void bcsim_v2_store(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    (void)rq;
    bcsim_out_set(out, 200, json_deep_copy(s->set.store_info));
}
