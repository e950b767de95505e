/* order_fetch: the BigCommerce side of an order's run (see order_flow_int.h). */
#include "sync/order_flow_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bc_decode.h"
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

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Catalog categories of the order's products (one call for up to 250). */
static int load_categories(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    struct bc_product *prods = NULL;
    size_t n = 0, np = 0;
    int64_t *ids = calloc(o->n_products + 1, sizeof(*ids));
    json_t *root = NULL, *data;
    int rc = MLC_OK;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_products; i++)
        if (o->products[i].product_id > 0)
            ids[n++] = o->products[i].product_id;
    qsort(ids, n, sizeof(*ids), cmp_i64);
    if (n > 0)
        rc = bc_products_by_ids(c, ids, n, false, &prods, &np, e);
    if (rc == MLC_OK && np > 0) {
        root = json_object();
        data = json_array();
        if (root == NULL || data == NULL || json_object_set_new(root, "data", data) != 0) {
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < np; i++)
            if (prods[i].raw != NULL)
                json_array_append(data, prods[i].raw);
        rc = bcd_product_categories(root, o, e);
    }
out:
    json_decref(root);
    bc_products_free(prods, np);
    free(ids);
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
            fx_stop(x, flow_hold(&x->err, "order %" PRId64 " cannot be read: %s",
                                 x->order_id, x->err.msg));
    }
    json_decref(arr);
    for (i = 0; i < n; i++)
        if (fx_alive(&xs[i]) && !xs[i].bc.found)
            fx_stop(&xs[i], flow_hold(&xs[i].err, "order %" PRId64
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

/* What the list did not embed, the refunds decoded, and the categories:
 * per order, for one order found by the list. */
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
    if (rc == MLC_OK && x->pc->n_revenue_by_category > 0)
        rc = load_categories(c, &x->bc.o, e);
    return rc;
}

/* The BigCommerce side of the batch: its orders, then its refunds, then
 * what each order still lacks. Transactions come later, for the orders
 * whose sale is due (order_fetch_txns). */
void order_fetch_batch(const struct flow_run *r, struct fx *xs, size_t n)
{
    struct bc_client *c = NULL;
    struct mlc_err be;
    uint64_t before;
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
        if ((rc = fetch_rest(c, x, &x->err)) != MLC_OK) {
            batch_error(x, 1, false, rc, &x->err);
            continue;
        }
        fx_audit(x, "fetch", "ok",
                 json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "status_id",
                           (json_int_t)x->bc.o.status_id, "currency", x->bc.o.currency,
                           "products", (json_int_t)x->bc.o.n_products,
                           "refunds", (json_int_t)x->bc.n_refunds,
                           "bc_calls", (json_int_t)(bc_client_requests(c) - own),
                           "batch_orders", (json_int_t)k,
                           "batch_bc_calls", (json_int_t)(own - before)));
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
