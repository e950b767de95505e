/* order_fetch: the BigCommerce side of an order's run (see order_flow_int.h). */
#include "sync/order_flow_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bc_decode.h"
#include "sync/catcache.h"
#include "sync/env.h"

/* ---- one order's extras -------------------------------------------------- */

static int load_products(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    json_t *arr = NULL;
    int rc = bc_order_products(c, o->id, &arr, e);

    if (rc == MLC_OK)
        rc = bcd_products(arr, o, e);
    json_decref(arr);
    return rc;
}

/* GET /v2/orders/{id}/fees, for a store that did not embed them. */
static int load_fees(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    struct bc_resp resp = { 0 };
    struct bc_url u;
    const json_t *arr;
    char path[64];
    int rc;

    snprintf(path, sizeof(path), "/v2/orders/%" PRId64 "/fees", o->id);
    bc_url_init(&u, path);
    rc = bc_call(c, "GET", &u, NULL, true, &resp, e);
    if (rc == MLC_OK) {
        arr = json_is_object(resp.body) ? json_object_get(resp.body, "fees") : resp.body;
        rc = bcd_fees(arr, o, e);
    }
    bc_resp_clear(&resp);
    bc_url_free(&u);
    return rc;
}

/* ---- the batch ----------------------------------------------------------- */

/* An error of a call made for the whole batch, into every order it
 * concerned (want: those found by the list call only). */
static void batch_error(struct fx *xs, size_t n, bool want_found, int rc,
                        const struct mlc_err *be)
{
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (!fx_alive(x) || (want_found && !x->bc.found))
            continue;
        x->err = *be;
        mlc_err_wrap(&x->err, "order %" PRId64 ": fetch", x->order_id);
        fx_audit(x, "fetch", "error", json_pack("{s:s}", "error", x->err.msg));
        fx_stop(x, rc);
    }
}

static struct fx *fx_find(struct fx *xs, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (xs[i].order_id == id)
            return &xs[i];
    return NULL;
}

/* The orders of the batch with products and fees embedded: ranged list
 * calls (one per 250 ids close together). */
static int fetch_orders(struct bc_client *c, struct fx *xs, size_t n, struct mlc_err *e)
{
    int64_t *ids = calloc(n + 1, sizeof(*ids));
    json_t *arr = NULL, *o;
    size_t k = 0, i;
    int rc;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        if (fx_alive(&xs[i]))
            ids[k++] = xs[i].order_id;
    rc = k > 0 ? bc_orders_by_ids(c, ids, k, true, &arr, e) : MLC_OK;
    free(ids);
    if (rc != MLC_OK)
        return rc;
    json_array_foreach(arr, i, o) {
        struct fx *x = fx_find(xs, n, (int64_t)json_integer_value(json_object_get(o, "id")));

        if (x == NULL || !fx_alive(x) || x->bc.found)
            continue;
        x->bc.found = true;
        if (bcd_order(o, &x->bc.o, &x->err) != MLC_OK)
            fx_stop(x, flow_hold(&x->err, &x->hold_code, HOLD_OTHER, "order %" PRId64 " cannot be read: %s",
                                 x->order_id, x->err.msg));
    }
    json_decref(arr);
    for (i = 0; i < n; i++)
        if (fx_alive(&xs[i]) && !xs[i].bc.found)
            fx_stop(&xs[i], flow_hold(&xs[i].err, &xs[i].hold_code, HOLD_OTHER, "order %" PRId64
                                      " not found in BigCommerce", xs[i].order_id));
    return MLC_OK;
}

/* Gives one refund object to its order's list. */
static int refund_to_order(struct fx *xs, size_t n, json_t *obj, struct mlc_err *e)
{
    struct fx *x = fx_find(xs, n, (int64_t)json_integer_value(json_object_get(obj, "order_id")));

    if (x == NULL || !fx_alive(x) || !x->bc.found)
        return MLC_OK; /* not asked for (or already stopped) */
    if (x->bc.refund_objs == NULL && (x->bc.refund_objs = json_array()) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (json_array_append(x->bc.refund_objs, obj) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

/* Every refund of the orders found: one cross-order list (order_id:in,
 * paged) per 250 orders instead of one call per order. */
static int fetch_refunds(struct bc_client *c, struct fx *xs, size_t n, struct mlc_err *e)
{
    int64_t *ids = calloc(n + 1, sizeof(*ids));
    size_t k = 0;
    int rc = MLC_OK;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (fx_alive(&xs[i]) && xs[i].bc.found)
            ids[k++] = xs[i].order_id;
    for (size_t at = 0; at < k && rc == MLC_OK; at += BC_V3_LIMIT_MAX) {
        struct bc_refund_filter f = { .order_ids = ids + at,
                                      .n_order_ids = k - at < BC_V3_LIMIT_MAX ? k - at
                                                                            : BC_V3_LIMIT_MAX };
        struct bc_pager pg;
        json_t *items = NULL, *obj;
        size_t i;

        if ((rc = bc_refunds_pager(c, &f, BC_V3_LIMIT_MAX, &pg, e)) != MLC_OK)
            break;
        rc = bc_pager_collect(&pg, 100000, &items, e);
        bc_pager_free(&pg);
        json_array_foreach(items, i, obj) {
            if (rc == MLC_OK)
                rc = refund_to_order(xs, n, obj, e);
        }
        json_decref(items);
    }
    free(ids);
    return rc;
}

/* What the list did not embed, and the refunds decoded: per order, for
 * one order found by the list. */
static int fetch_rest(struct bc_client *c, struct fx *x, struct mlc_err *e)
{
    json_t *root;
    int rc = MLC_OK;

    if (!x->bc.o.have_products)
        rc = load_products(c, &x->bc.o, e);
    if (rc == MLC_OK && !x->bc.o.have_fees)
        rc = load_fees(c, &x->bc.o, e);
    if (rc == MLC_OK) {
        json_t *arr = x->bc.refund_objs != NULL ? json_incref(x->bc.refund_objs) : json_array();

        root = arr != NULL ? json_pack("{s:o}", "data", arr) : NULL; /* o: stolen */
        rc = root == NULL ? mlc_err_set(e, MLC_ENOMEM, "out of memory")
                          : bcd_refunds(root, &x->bc.o, &x->bc.refunds, &x->bc.n_refunds, e);
        json_decref(root);
    }
    return rc;
}

/* ---- categories (posting.revenue_by_category) ------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The distinct product ids of the batch's live orders, sorted (*out:
 * caller frees). */
static int batch_products(struct fx *xs, size_t n, int64_t **out, size_t *n_out,
                          struct mlc_err *e)
{
    size_t cap = 0, k = 0;
    int64_t *v;

    for (size_t i = 0; i < n; i++)
        if (fx_alive(&xs[i]))
            cap += xs[i].bc.o.n_products;
    if ((v = calloc(cap + 1, sizeof(*v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; fx_alive(&xs[i]) && j < xs[i].bc.o.n_products; j++)
            if (xs[i].bc.o.products[j].product_id > 0)
                v[k++] = xs[i].bc.o.products[j].product_id;
    qsort(v, k, sizeof(*v), cmp_i64);
    *n_out = 0;
    for (size_t i = 0; i < k; i++)
        if (*n_out == 0 || v[*n_out - 1] != v[i])
            v[(*n_out)++] = v[i];
    *out = v;
    return MLC_OK;
}

/* Appends {"id": id, "categories": ids} to data (the catalog's shape). */
static int data_push(json_t *data, int64_t id, const int64_t *ids, size_t n, struct mlc_err *e)
{
    json_t *cats = json_array(), *p;

    for (size_t i = 0; cats != NULL && i < n; i++)
        if (json_array_append_new(cats, json_integer((json_int_t)ids[i])) != 0) {
            json_decref(cats);
            cats = NULL;
        }
    p = cats != NULL ? json_pack("{s:I, s:o}", "id", (json_int_t)id, "categories", cats) : NULL;
    if (p == NULL || json_array_append_new(data, p) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

/* The category ids of a catalog product as received; false when they are
 * not a list of at most CATCACHE_CATS_MAX integers (the decoder then says
 * what is wrong, and nothing is cached). */
static bool raw_categories(const json_t *raw, int64_t *ids, size_t *n)
{
    const json_t *arr = json_object_get(raw, "categories"), *v;
    size_t i;

    *n = 0;
    if (arr == NULL)
        return true;
    if (!json_is_array(arr) || json_array_size(arr) > CATCACHE_CATS_MAX)
        return false;
    json_array_foreach(arr, i, v) {
        if (!json_is_integer(v))
            return false;
        ids[(*n)++] = (int64_t)json_integer_value(v);
    }
    return true;
}

/* Asks the catalog for ids[0..n) (one call per 100) and appends each
 * product to data, remembering its categories in cc; a product the catalog
 * no longer has is remembered with none. */
static int ask_catalog(const struct flow_run *r, struct bc_client *c, const int64_t *ids,
                       size_t n, json_t *data, struct mlc_err *e)
{
    struct catcache *cc = env_categories(r->env);
    int64_t ttl_ms = (int64_t)r->cfg->posting.category_cache_s * 1000;
    uint64_t gen = catcache_generation(cc);   /* before the call: see catcache.h */
    int64_t cats[CATCACHE_CATS_MAX], now;
    struct bc_product *prods = NULL;
    size_t np = 0, nc;
    int rc = bc_products_by_ids(c, ids, n, false, &prods, &np, e);

    now = store_now_ms(r->st);
    for (size_t i = 0; rc == MLC_OK && i < np; i++) {
        if (prods[i].raw == NULL)
            continue;
        if (json_array_append(data, prods[i].raw) != 0)
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        else if (raw_categories(prods[i].raw, cats, &nc))
            rc = catcache_put(cc, prods[i].id, cats, nc, now, ttl_ms, gen, e);
    }
    for (size_t i = 0; rc == MLC_OK && i < n; i++) {
        bool got = false;

        for (size_t k = 0; k < np && !got; k++)
            got = prods[k].id == ids[i];
        if (!got && (rc = data_push(data, ids[i], NULL, 0, e)) == MLC_OK)
            rc = catcache_put(cc, ids[i], NULL, 0, now, ttl_ms, gen, e);
    }
    bc_products_free(prods, np);
    return rc;
}

/* True when one of x's products is among ids[0..n) (sorted). */
static bool asks_for(const struct fx *x, const int64_t *ids, size_t n)
{
    for (size_t j = 0; j < x->bc.o.n_products; j++) {
        int64_t id = x->bc.o.products[j].product_id;

        if (n > 0 && bsearch(&id, ids, n, sizeof(*ids), cmp_i64) != NULL)
            return true;
    }
    return false;
}

/* The catalog categories of every product of the batch's live orders:
 * those the env's cache knows (fresh), the rest asked at once
 * (id:in, one call per 100 products), onto each order's products. A
 * failed catalog call stops the orders that needed its answer (the others
 * still get theirs from the cache); an answer that does not decode, the
 * orders it concerns. */
static void fetch_categories(const struct flow_run *r, struct bc_client *c, struct fx *xs,
                             size_t n)
{
    struct catcache *cc = env_categories(r->env);
    int64_t ttl_ms = (int64_t)r->cfg->posting.category_cache_s * 1000;
    int64_t now = store_now_ms(r->st), cats[CATCACHE_CATS_MAX];
    int64_t *ids = NULL, *ask = NULL;
    size_t n_ids = 0, n_ask = 0, nc;
    json_t *root = NULL, *data = json_array();
    struct mlc_err be;
    int rc;

    mlc_err_clear(&be);
    rc = data == NULL ? mlc_err_set(&be, MLC_ENOMEM, "out of memory")
                      : batch_products(xs, n, &ids, &n_ids, &be);
    if (rc == MLC_OK && (ask = calloc(n_ids + 1, sizeof(*ask))) == NULL)
        rc = mlc_err_set(&be, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MLC_OK && i < n_ids; i++) {
        if (catcache_get(cc, ids[i], now, ttl_ms, cats, CATCACHE_CATS_MAX, &nc))
            rc = data_push(data, ids[i], cats, nc, &be);
        else
            ask[n_ask++] = ids[i];
    }
    if (rc == MLC_OK && n_ask > 0 &&
        (rc = ask_catalog(r, c, ask, n_ask, data, &be)) != MLC_OK && rc != MLC_ENOMEM) {
        /* The catalog call failed (before anything was added to data): the
         * orders that needed its answer stop; the others have all their
         * categories from the cache and go on with them. */
        mlc_err_wrap(&be, "catalog categories");
        for (size_t i = 0; i < n; i++)
            if (asks_for(&xs[i], ask, n_ask))
                batch_error(&xs[i], 1, false, rc, &be);
        rc = MLC_OK;
    }
    if (rc == MLC_OK && (root = json_pack("{s:O}", "data", data)) == NULL)
        rc = mlc_err_set(&be, MLC_ENOMEM, "out of memory");
    if (rc != MLC_OK) {   /* out of memory: no order can have its categories */
        mlc_err_wrap(&be, "catalog categories");
        batch_error(xs, n, false, rc, &be);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (fx_alive(x) && (rc = bcd_product_categories(root, &x->bc.o, &x->err)) != MLC_OK)
            batch_error(x, 1, false, rc, &x->err);
    }
out:
    json_decref(root);
    json_decref(data);
    free(ids);
    free(ask);
}

/* The BigCommerce side of the batch: its orders, then its refunds, then
 * what each order still lacks. Transactions come later, for the orders
 * whose sale is due (order_fetch_txns). */
void order_fetch_batch(const struct flow_run *r, struct fx *xs, size_t n)
{
    struct bc_client *c = NULL;
    struct mlc_err be;
    uint64_t before, own_calls = 0;
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        k += fx_alive(&xs[i]);
    if (k == 0)
        return;
    mlc_err_clear(&be);
    if ((rc = env_bc(r->env, &c, &be)) != MLC_OK) {
        batch_error(xs, n, false, rc, &be);
        return;
    }
    before = bc_client_requests(c);
    if ((rc = fetch_orders(c, xs, n, &be)) != MLC_OK) {
        batch_error(xs, n, false, rc, &be);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fx_cutover(&xs[i]);   /* created before the go-live: nothing more to fetch */
    if ((rc = fetch_refunds(c, xs, n, &be)) != MLC_OK) {
        batch_error(xs, n, true, rc, &be);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];
        uint64_t own = bc_client_requests(c);

        if (!fx_alive(x))
            continue;
        if ((rc = fetch_rest(c, x, &x->err)) != MLC_OK)
            batch_error(x, 1, false, rc, &x->err);
        x->bc.own_calls = bc_client_requests(c) - own;
        own_calls += x->bc.own_calls;
    }
    if (r->cfg->posting.n_revenue_by_category > 0)
        fetch_categories(r, c, xs, n);
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (!fx_alive(x))
            continue;
        fx_audit(x, "fetch", "ok",
                 json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "status_id",
                           (json_int_t)x->bc.o.status_id, "currency", x->bc.o.currency,
                           "products", (json_int_t)x->bc.o.n_products,
                           "refunds", (json_int_t)x->bc.n_refunds,
                           "bc_calls", (json_int_t)x->bc.own_calls,
                           "batch_orders", (json_int_t)k,
                           "batch_bc_calls",
                           (json_int_t)(bc_client_requests(c) - before - own_calls)));
        json_object_set_new(x->report, "status_id", json_integer(x->bc.o.status_id));
        json_object_set_new(x->report, "currency", json_string(x->bc.o.currency));
        json_object_set_new(x->report, "refunds", json_integer((json_int_t)x->bc.n_refunds));
    }
}

/* ---- transactions -------------------------------------------------------- */

/* The order's transactions (v3 has no cross-order list: one call). An
 * order with nothing to pay has nothing to fetch, unless its GL date is
 * the time it became paid. */
int order_fetch_txns(struct fx *x, struct mlc_err *e)
{
    struct bc_client *c = NULL;
    int rc;

    if (x->bc.o.have_txns)
        return MLC_OK;
    if (x->bc.o.total_inc_tax == 0 && x->pc->gl_date != CFG_GLDATE_PAID) {
        x->bc.o.have_txns = true;
        return MLC_OK;
    }
    if ((rc = env_bc(x->r->env, &c, e)) == MLC_OK)
        rc = bc_order_load_transactions(c, &x->bc.o, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "order %" PRId64 ": fetch transactions", x->order_id);
        fx_audit(x, "fetch", "error", json_pack("{s:s}", "error", e->msg));
        return rc;
    }
    fx_audit(x, "fetch", "ok", json_pack("{s:s, s:I, s:I}", "what", "transactions",
                                         "transactions", (json_int_t)x->bc.o.n_txns,
                                         "bc_calls", (json_int_t)1));
    return MLC_OK;
}
