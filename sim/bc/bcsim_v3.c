/*
 * bcsim_v3: the v3 API: order transactions and refunds, customers and their
 * addresses, catalog products and variants, webhooks. Bodies are
 * {"data": ..., "meta": {...}}; errors {"status","title","type"[,"errors"]}.
 */
#include <stdlib.h>
#include <string.h>

#include "bc/bcsim_api.h"
#include "bc/bcsim_hooks.h"
#include "core/money.h"

#define V3_LIMIT_DEFAULT   50
#define V3_LIMIT_MAX       250
#define PRODUCT_BATCH_MAX  10
#define VARIANT_BATCH_MAX  50

static json_t *wrap(json_t *data, json_t *meta)
{
    return json_pack("{s:o, s:o}", "data", data, "meta",
                     meta != NULL ? meta : json_object());
}

/* Appends the page of items (a new array of candidates, stolen) to out as
 * {"data": [...], "meta": {"pagination": ...}}. */
static void paged(const struct bcsim_req *rq, struct bcsim_out *out, json_t *all,
                  int64_t page, int64_t limit)
{
    size_t n = json_array_size(all);
    json_t *data = json_array();

    for (size_t i = (size_t)((page - 1) * limit); i < n && i < (size_t)(page * limit); i++)
        json_array_append(data, json_array_get(all, i));
    json_decref(all);
    bcsim_out_set(out, 200, wrap(data, bcsim_meta_pagination(rq, (int64_t)n,
                                                               (int64_t)json_array_size(data),
                                                               limit, page)));
}

static bool ints_filter_ok(const struct bcsim_req *rq, struct bcsim_out *out,
                           const char *name)
{
    if (bcsim_csv_ints_ok(bcsim_q(rq, name)))
        return true;
    bcsim_out_err3(out, 422, "The filter is invalid",
                   json_pack("{s:s}", name, "expected a comma-separated list of integers"));
    return false;
}

/* ---- orders: transactions and refunds ----------------------------------- */

void bcsim_v3_transactions(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_order *o = bcsim_order_find(&s->data, rq->id[0]);
    int64_t n;

    if (o == NULL) {
        bcsim_out_err(rq, out, 404, "Order %lld not found", (long long)rq->id[0]);
        return;
    }
    n = (int64_t)json_array_size(o->transactions);
    if (n == 0) {
        bcsim_out_set(out, 204, NULL);
        return;
    }
    bcsim_out_set(out, 200, wrap(json_deep_copy(o->transactions),
                                 bcsim_meta_pagination(rq, n, n, n, 1)));
}

void bcsim_v3_order_refunds(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    json_t *data;

    if (bcsim_order_find(&s->data, rq->id[0]) == NULL) {
        bcsim_out_err(rq, out, 404, "Order %lld not found", (long long)rq->id[0]);
        return;
    }
    data = json_array();
    for (size_t i = 0; i < s->data.refunds.n; i++) {
        struct bcsim_refund *r = s->data.refunds.v[i];

        if (r->order_id == rq->id[0])
            json_array_append_new(data, json_deep_copy(r->v3));
    }
    bcsim_out_set(out, 200, wrap(data, NULL));
}

void bcsim_v3_refunds(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *oid = bcsim_q(rq, "order_id:in"), *rid = bcsim_q(rq, "id:in");
    bool has_min, has_max;
    int64_t cmin, cmax, page, limit;
    json_t *all;

    if (!ints_filter_ok(rq, out, "order_id:in") || !ints_filter_ok(rq, out, "id:in") ||
        bcsim_q_time(rq, out, "created:min", &has_min, &cmin) != MLC_OK ||
        bcsim_q_time(rq, out, "created:max", &has_max, &cmax) != MLC_OK ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.refunds.n; i++) {
        struct bcsim_refund *r = s->data.refunds.v[i];

        if ((oid != NULL && !bcsim_csv_has_i64(oid, r->order_id)) ||
            (rid != NULL && !bcsim_csv_has_i64(rid, r->id)) ||
            (has_min && r->created < cmin) || (has_max && r->created > cmax))
            continue;
        json_array_append_new(all, json_deep_copy(r->v3));
    }
    paged(rq, out, all, page, limit);
}

/* The spec types requested_amount as a string here (a number in the lists):
 * the simulator follows each operation's schema. */
void bcsim_v3_refund_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_refund *r = bcsim_refund_find(&s->data, rq->id[0]);
    struct bcsim_order *o;
    json_t *v, *it;
    size_t i;

    if (r == NULL) {
        bcsim_out_err(rq, out, 404, "Refund %lld not found", (long long)rq->id[0]);
        return;
    }
    o = bcsim_order_find(&s->data, r->order_id);
    v = json_deep_copy(r->v3);
    json_array_foreach(json_object_get(v, "items"), i, it) {
        int64_t v4;
        char buf[MONEY_FMT_MAX];

        if (bcsim_money_in(json_object_get(it, "requested_amount"), &v4, NULL) != MLC_OK)
            continue;
        if (o != NULL && o->exponent < 4)
            money_round_scale(v4, 4, o->exponent, MONEY_ROUND_HALF_AWAY, &v4, NULL);
        money_format(v4, o != NULL && o->exponent < 4 ? o->exponent : 4, buf, sizeof(buf));
        json_object_set_new(it, "requested_amount", json_string(buf));
    }
    bcsim_out_set(out, 200, wrap(v, NULL));
}

/* ---- customers ---------------------------------------------------------- */

void bcsim_v3_customers(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *ids = bcsim_q(rq, "id:in"), *emails = bcsim_q(rq, "email:in");
    bool with_addr = bcsim_csv_has(bcsim_q(rq, "include"), "addresses");
    bool has_mmin, has_mmax, has_cmin, has_cmax;
    int64_t mmin, mmax, cmin, cmax, page, limit;
    json_t *all;

    if (!ints_filter_ok(rq, out, "id:in") ||
        bcsim_q_time(rq, out, "date_modified:min", &has_mmin, &mmin) != MLC_OK ||
        bcsim_q_time(rq, out, "date_modified:max", &has_mmax, &mmax) != MLC_OK ||
        bcsim_q_time(rq, out, "date_created:min", &has_cmin, &cmin) != MLC_OK ||
        bcsim_q_time(rq, out, "date_created:max", &has_cmax, &cmax) != MLC_OK ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.customers.n; i++) {
        struct bcsim_customer *c = s->data.customers.v[i];
        json_t *v;

        if ((ids != NULL && !bcsim_csv_has_i64(ids, c->id)) ||
            (emails != NULL &&
             !bcsim_csv_has_ci(emails, json_string_value(json_object_get(c->v3, "email")))) ||
            (has_mmin && c->modified < mmin) || (has_mmax && c->modified > mmax) ||
            (has_cmin && c->created < cmin) || (has_cmax && c->created > cmax))
            continue;
        v = json_deep_copy(c->v3);
        if (with_addr)
            json_object_set_new(v, "addresses", json_deep_copy(c->addresses));
        json_array_append_new(all, v);
    }
    paged(rq, out, all, page, limit);
}

void bcsim_v3_addresses(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *cids = bcsim_q(rq, "customer_id:in"), *ids = bcsim_q(rq, "id:in");
    int64_t page, limit;
    json_t *all;

    if (!ints_filter_ok(rq, out, "customer_id:in") || !ints_filter_ok(rq, out, "id:in") ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.customers.n; i++) {
        struct bcsim_customer *c = s->data.customers.v[i];
        size_t k;
        json_t *a;

        if (cids != NULL && !bcsim_csv_has_i64(cids, c->id))
            continue;
        json_array_foreach(c->addresses, k, a)
            if (ids == NULL ||
                bcsim_csv_has_i64(ids, json_integer_value(json_object_get(a, "id"))))
                json_array_append_new(all, json_deep_copy(a));
    }
    paged(rq, out, all, page, limit);
}

/* ---- catalog ------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? v : "";
}

void bcsim_v3_products_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *sku = bcsim_q(rq, "sku"), *skus = bcsim_q(rq, "sku:in");
    const char *ids = bcsim_q(rq, "id:in"), *name = bcsim_q(rq, "name");
    bool with_var = bcsim_csv_has(bcsim_q(rq, "include"), "variants");
    bool has_min, has_max;
    int64_t mmin, mmax, page, limit;
    json_t *all;

    if (!ints_filter_ok(rq, out, "id:in") ||
        bcsim_q_time(rq, out, "date_modified:min", &has_min, &mmin) != MLC_OK ||
        bcsim_q_time(rq, out, "date_modified:max", &has_max, &mmax) != MLC_OK ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.products.n; i++) {
        struct bcsim_product *p = s->data.products.v[i];

        if ((sku != NULL && strcmp(jstr(p->v3, "sku"), sku) != 0) ||
            (skus != NULL && !bcsim_csv_has(skus, jstr(p->v3, "sku"))) ||
            (ids != NULL && !bcsim_csv_has_i64(ids, p->id)) ||
            (name != NULL && strcmp(jstr(p->v3, "name"), name) != 0) ||
            (has_min && p->modified < mmin) || (has_max && p->modified > mmax))
            continue;
        json_array_append_new(all, bcsim_product_render(p, with_var));
    }
    paged(rq, out, all, page, limit);
}

static int status_of(int rc)
{
    switch (rc) {
    case MLC_EEXIST:    return 409;
    case MLC_ENOTFOUND: return 404;
    case MLC_ENOMEM:    return 500;
    default:            return 422;
    }
}

static const char *title_of(int status)
{
    switch (status) {
    case 409: return "The product name or SKU is a duplicate";
    case 404: return "The requested resource was not found";
    default:  return "JSON data is missing or invalid";
    }
}

void bcsim_v3_product_create(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_product *p;
    struct mlc_err e = { 0 };
    int rc = bcsim_product_create(s, rq->body, true, &p, &e);

    if (rc != MLC_OK) {
        bcsim_out_err3(out, status_of(rc), title_of(status_of(rc)),
                       json_pack("{s:s}", "product", e.msg));
        return;
    }
    bcsim_out_set(out, 200, wrap(bcsim_product_render(p, false), NULL));
}

void bcsim_v3_products_batch(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    json_t *ok, *errs;
    size_t i;
    const json_t *it;
    int first = 0;

    if (!json_is_array(rq->body) || json_array_size(rq->body) == 0) {
        bcsim_out_err3(out, 422, "JSON data is missing or invalid",
                       json_pack("{s:s}", "body", "expected a non-empty array of products"));
        return;
    }
    if (json_array_size(rq->body) > PRODUCT_BATCH_MAX) {
        bcsim_out_err3(out, 413, "The request payload is too large. The maximum "
                       "items allowed in the array is 10.", NULL);
        return;
    }
    ok = json_array();
    errs = json_object();
    json_array_foreach(rq->body, i, it) {
        struct mlc_err e = { 0 };
        struct bcsim_product *p = NULL;
        int rc;
        char key[32];

        if (!json_is_integer(json_object_get(it, "id")))
            rc = mlc_err_set(&e, MLC_EINVAL, "item %zu: an integer id is required", i);
        else if ((p = bcsim_product_find(&s->data, json_integer_value(json_object_get(it, "id")))) == NULL)
            rc = mlc_err_set(&e, MLC_ENOTFOUND, "item %zu: no such product", i);
        else
            rc = bcsim_product_update(s, p, it, true, &e);
        if (rc == MLC_OK) {
            json_array_append_new(ok, bcsim_product_render(p, false));
            continue;
        }
        if (first == 0)
            first = status_of(rc);
        snprintf(key, sizeof(key), "%zu", i);
        json_object_set_new(errs, key, json_string(e.msg));
    }
    if (first == 0) {
        json_decref(errs);
        bcsim_out_set(out, 200, wrap(ok, NULL));
    } else if (json_array_size(ok) == 0) {
        json_decref(ok);
        bcsim_out_err3(out, first, title_of(first), errs);
    } else {
        json_t *b = wrap(ok, NULL);

        json_object_set_new(b, "errors", json_pack("{s:i, s:s, s:s, s:o}", "status", first,
                                                   "title", title_of(first),
                                                   "type", BCSIM_ERR_TYPE, "errors", errs));
        bcsim_out_set(out, 207, b);
    }
}

void bcsim_v3_product_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_product *p = bcsim_product_find(&s->data, rq->id[0]);

    if (p == NULL) {
        bcsim_out_err(rq, out, 404, "Product %lld not found", (long long)rq->id[0]);
        return;
    }
    bcsim_out_set(out, 200, wrap(bcsim_product_render(
        p, bcsim_csv_has(bcsim_q(rq, "include"), "variants")), NULL));
}

void bcsim_v3_product_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_product *p = bcsim_product_find(&s->data, rq->id[0]);
    struct mlc_err e = { 0 };
    int rc;

    if (p == NULL) {
        bcsim_out_err(rq, out, 404, "Product %lld not found", (long long)rq->id[0]);
        return;
    }
    rc = bcsim_product_update(s, p, rq->body, true, &e);
    if (rc != MLC_OK) {
        bcsim_out_err3(out, status_of(rc), title_of(status_of(rc)),
                       json_pack("{s:s}", "product", e.msg));
        return;
    }
    bcsim_out_set(out, 200, wrap(bcsim_product_render(p, false), NULL));
}

void bcsim_v3_product_variants(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_product *p = bcsim_product_find(&s->data, rq->id[0]);
    int64_t page, limit;

    if (p == NULL) {
        bcsim_out_err(rq, out, 404, "Product %lld not found", (long long)rq->id[0]);
        return;
    }
    if (bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        paged(rq, out, json_deep_copy(p->variants), page, limit);
}

void bcsim_v3_variants_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *sku = bcsim_q(rq, "sku"), *pids = bcsim_q(rq, "product_id:in");
    const char *ids = bcsim_q(rq, "id:in"), *id = bcsim_q(rq, "id");
    int64_t page, limit;
    json_t *all;

    if (!ints_filter_ok(rq, out, "product_id:in") || !ints_filter_ok(rq, out, "id:in") ||
        !ints_filter_ok(rq, out, "id") ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.products.n; i++) {
        struct bcsim_product *p = s->data.products.v[i];
        size_t k;
        json_t *v;

        if (pids != NULL && !bcsim_csv_has_i64(pids, p->id))
            continue;
        json_array_foreach(p->variants, k, v) {
            if ((sku != NULL && strcmp(jstr(v, "sku"), sku) != 0) ||
                (ids != NULL &&
                 !bcsim_csv_has_i64(ids, json_integer_value(json_object_get(v, "id")))) ||
                (id != NULL &&
                 !bcsim_csv_has_i64(id, json_integer_value(json_object_get(v, "id")))))
                continue;
            json_array_append_new(all, json_deep_copy(v));
        }
    }
    paged(rq, out, all, page, limit);
}

/* Valid items are applied; the failures are answered 422 batch_errors. */
void bcsim_v3_variants_batch(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    json_t *ok, *errs;
    size_t i;
    const json_t *it;

    if (!json_is_array(rq->body) || json_array_size(rq->body) == 0) {
        bcsim_out_err3(out, 422, "JSON data is missing or invalid",
                       json_pack("{s:s}", "body", "expected a non-empty array of variants"));
        return;
    }
    if (json_array_size(rq->body) > VARIANT_BATCH_MAX) {
        bcsim_out_err3(out, 413, "The request payload is too large. The maximum "
                       "items allowed in the array is 50.", NULL);
        return;
    }
    ok = json_array();
    errs = json_array();
    json_array_foreach(rq->body, i, it) {
        struct mlc_err e = { 0 };
        int rc = bcsim_variant_update(s, it, &e);

        if (rc == MLC_OK) {
            json_array_append_new(ok, json_deep_copy(bcsim_variant_find(
                &s->data, json_integer_value(json_object_get(it, "id")), NULL)));
            continue;
        }
        json_array_append_new(errs, json_pack("{s:i, s:s, s:s, s:{s:s}}", "status",
                                              status_of(rc), "title", title_of(status_of(rc)),
                                              "type", BCSIM_ERR_TYPE, "errors",
                                              "variant", e.msg));
    }
    if (json_array_size(errs) == 0) {
        json_decref(errs);
        bcsim_out_set(out, 200, wrap(ok, NULL));
        return;
    }
    json_decref(ok);
    bcsim_out_set(out, 422, json_pack("{s:o}", "batch_errors", errs));
}

/* ---- hooks -------------------------------------------------------------- */

static json_t *hook_view(const struct bcsim_hook *h, bool with_status)
{
    json_t *v = json_deep_copy(h->v3);

    if (with_status)
        json_object_set_new(v, "status",
                            json_string(json_is_true(json_object_get(h->v3, "is_active"))
                                            ? "active"
                                            : h->deactivated ? "deactivated" : "inactive"));
    return v;
}

static bool bool_query(const struct bcsim_req *rq, struct bcsim_out *out,
                       const char *name, int *val)
{
    const char *v = bcsim_q(rq, name);

    *val = -1;
    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *val = v[0] == 't';
        return true;
    }
    bcsim_out_err3(out, 422, "The filter is invalid", json_pack("{s:s}", name, "expected true or false"));
    return false;
}

void bcsim_v3_hooks_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const char *scope = bcsim_q(rq, "scope"), *dest = bcsim_q(rq, "destination");
    int active;
    int64_t page, limit;
    json_t *all;

    if (!bool_query(rq, out, "is_active", &active) ||
        !bcsim_paging(rq, out, V3_LIMIT_DEFAULT, V3_LIMIT_MAX, &page, &limit))
        return;
    all = json_array();
    for (size_t i = 0; i < s->data.hooks.n; i++) {
        struct bcsim_hook *h = s->data.hooks.v[i];

        if ((active >= 0 && json_is_true(json_object_get(h->v3, "is_active")) != active) ||
            (scope != NULL && strcmp(jstr(h->v3, "scope"), scope) != 0) ||
            (dest != NULL && strcmp(jstr(h->v3, "destination"), dest) != 0))
            continue;
        json_array_append_new(all, hook_view(h, false));
    }
    paged(rq, out, all, page, limit);
}

void bcsim_v3_hook_create(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_hook *h;
    struct mlc_err e = { 0 };

    if (!json_is_object(rq->body) ||
        bcsim_hook_create(s, rq->body, &h, &e) != MLC_OK) {
        bcsim_out_err3(out, 422, "The webhook could not be created",
                       json_pack("{s:s}", "hook", e.msg[0] != '\0' ? e.msg : "expected an object"));
        return;
    }
    bcsim_out_set(out, 200, wrap(hook_view(h, false), NULL));
}

static struct bcsim_hook *hook_or_404(struct bcsim *s, const struct bcsim_req *rq,
                                      struct bcsim_out *out)
{
    struct bcsim_hook *h = bcsim_hook_find(&s->data, rq->id[0]);

    if (h == NULL)
        bcsim_out_err(rq, out, 404, "Webhook %lld not found", (long long)rq->id[0]);
    return h;
}

void bcsim_v3_hook_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_hook *h = hook_or_404(s, rq, out);

    if (h != NULL)
        bcsim_out_set(out, 200, wrap(hook_view(h, false), NULL));
}

void bcsim_v3_hook_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_hook *h = hook_or_404(s, rq, out);
    const json_t *b = rq->body;
    const json_t *scope, *dest, *act, *hdr;

    if (h == NULL)
        return;
    scope = json_object_get(b, "scope");
    dest = json_object_get(b, "destination");
    act = json_object_get(b, "is_active");
    hdr = json_object_get(b, "headers");
    if (scope == NULL && dest == NULL && act == NULL && hdr == NULL) {
        bcsim_out_err3(out, 422, "Update webhook request should not be empty", NULL);
        return;
    }
    if ((scope != NULL && (!json_is_string(scope) ||
                           strncmp(json_string_value(scope), "store/", 6) != 0)) ||
        (dest != NULL && (!json_is_string(dest) ||
                          strncmp(json_string_value(dest), "http", 4) != 0)) ||
        (act != NULL && !json_is_boolean(act)) ||
        (hdr != NULL && !json_is_object(hdr) && !json_is_null(hdr))) {
        bcsim_out_err3(out, 422, "JSON data is missing or invalid", NULL);
        return;
    }
    if (scope != NULL)
        json_object_set(h->v3, "scope", (json_t *)scope);
    if (dest != NULL)
        json_object_set(h->v3, "destination", (json_t *)dest);
    if (act != NULL) {
        json_object_set(h->v3, "is_active", (json_t *)act);
        if (json_is_true(act))
            h->deactivated = false;
    }
    if (hdr != NULL)
        json_object_set_new(h->v3, "headers", json_deep_copy(hdr));
    json_object_set_new(h->v3, "updated_at", json_integer((json_int_t)bcsim_now(s)));
    bcsim_out_set(out, 200, wrap(hook_view(h, false), NULL));
}

void bcsim_v3_hook_delete(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    struct bcsim_hook *h = hook_or_404(s, rq, out);
    json_t *v;

    if (h == NULL)
        return;
    v = hook_view(h, false);
    bcsim_hook_delete(&s->data, h->id);
    bcsim_out_set(out, 200, wrap(v, NULL));
}

void bcsim_v3_hooks_admin(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    int active;
    json_t *list;

    if (!bool_query(rq, out, "is_active", &active))
        return;
    list = json_array();
    for (size_t i = 0; i < s->data.hooks.n; i++) {
        struct bcsim_hook *h = s->data.hooks.v[i];

        if (active >= 0 && json_is_true(json_object_get(h->v3, "is_active")) != active)
            continue;
        json_array_append_new(list, hook_view(h, true));
    }
    bcsim_out_set(out, 200, wrap(json_pack("{s:O, s:o, s:[]}", "emails", s->data.admin_emails,
                                           "hooks_list", list, "blocked_domains"),
                                 NULL));
    /* The emails array is shared: hand out a copy instead. */
    json_object_set_new(json_object_get(out->body, "data"), "emails",
                        json_deep_copy(s->data.admin_emails));
}

void bcsim_v3_hooks_admin_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *out)
{
    const json_t *emails = json_object_get(rq->body, "emails");
    size_t i;
    const json_t *v;

    if (!json_is_array(emails)) {
        bcsim_out_err3(out, 422, "JSON data is missing or invalid",
                       json_pack("{s:s}", "emails", "expected an array of strings"));
        return;
    }
    json_array_foreach(emails, i, v) {
        if (!json_is_string(v) || strchr(json_string_value(v), '@') == NULL) {
            bcsim_out_err3(out, 422, "JSON data is missing or invalid",
                           json_pack("{s:s}", "emails", "expected e-mail addresses"));
            return;
        }
    }
    json_array_clear(s->data.admin_emails);
    json_array_extend(s->data.admin_emails, (json_t *)emails);
    bcsim_out_set(out, 204, NULL);
}
