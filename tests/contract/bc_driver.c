/*
 * bc_driver: drives the project's BigCommerce client (src/bc/) through every
 * kind of request it sends, against mlc-sim, for the client-side contract
 * check (tests/contract/client.sh records the exchanges and validates them
 * with bc-spec-check).
 *
 *   bc_driver BASE_URL api|unrecorded [RECEIVER_URL]
 *
 * BASE_URL is the API base (http://127.0.0.1:PORT/stores/HASH); the token is
 * read from the environment (BC_TOKEN), never from argv. "api" runs every
 * call whose operation the spec files declare; "unrecorded" runs the calls
 * the spec files do not cover (GET /v2/store, and bc_probe, which starts
 * with it). One line per call, "ok NAME ..." or "FAIL NAME: message"; exit 1
 * when any call failed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bc_customers.h"
#include "bc/bc_hooks.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/order.h"
#include "core/secret.h"
#include "net/httpc.h"

struct drv {
    struct bc_client *c;
    const char       *receiver; /* webhook destination */
    unsigned          failures;
};

static void report(struct drv *d, const char *name, int rc, const struct mlc_err *e,
                   const char *detail)
{
    if (rc == MLC_OK) {
        printf("ok   %-28s %s\n", name, detail != NULL ? detail : "");
    } else {
        d->failures++;
        printf("FAIL %-28s %s\n", name, e->msg);
    }
}

static void run_orders(struct drv *d)
{
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    struct mlc_err e = { 0 };
    struct bc_pager pg;
    struct order o;
    struct order_refund *refs = NULL;
    size_t nrefs = 0;
    json_t *j = NULL;
    int64_t count = 0, ids[] = { 100, 101, 102, 104, 105 }, rids[] = { 100, 101, 104 };
    char buf[64];
    int rc;

    rc = bc_orders_page(d->c, &f, 1, 50, &j, &e);
    snprintf(buf, sizeof(buf), "%zu orders", json_array_size(j));
    report(d, "orders page (line items)", rc, &e, buf);
    json_decref(j);
    j = NULL;

    f.min_id = 100;
    f.max_id = 104;
    f.status_id = 11;
    f.sort = "id:asc";
    f.min_date_modified = "Sun, 01 Nov 2026 00:00:00 +0000";
    f.max_date_created = "2026-12-01T00:00:00Z";
    rc = bc_orders_pager(d->c, &f, 2, &pg, &e);
    if (rc == MLC_OK) {
        rc = bc_pager_collect(&pg, 1000, &j, &e);
        bc_pager_free(&pg);
    }
    snprintf(buf, sizeof(buf), "%zu orders", json_array_size(j));
    report(d, "orders pager (filters)", rc, &e, buf);
    json_decref(j);
    j = NULL;

    rc = bc_orders_count(d->c, &f, &count, &e);
    snprintf(buf, sizeof(buf), "%" PRId64, count);
    report(d, "orders count", rc, &e, buf);

    rc = bc_orders_by_ids(d->c, ids, sizeof(ids) / sizeof(ids[0]), true, &j, &e);
    snprintf(buf, sizeof(buf), "%zu orders", json_array_size(j));
    report(d, "orders by ids", rc, &e, buf);
    json_decref(j);
    j = NULL;

    rc = bc_order_get(d->c, 100, &j, &e);
    report(d, "order get", rc, &e, NULL);
    json_decref(j);
    j = NULL;

    rc = bc_order_get(d->c, 999999, &j, &e);
    report(d, "order get (404 expected)", rc == MLC_ENOTFOUND ? MLC_OK : MLC_EPROTO, &e,
           "not found");
    json_decref(j);
    j = NULL;

    rc = bc_order_products(d->c, 101, &j, &e);
    snprintf(buf, sizeof(buf), "%zu lines", json_array_size(j));
    report(d, "order products", rc, &e, buf);
    json_decref(j);
    j = NULL;

    rc = bc_order_transactions(d->c, 101, &j, &e);
    snprintf(buf, sizeof(buf), "%zu transactions", json_array_size(j));
    report(d, "order transactions", rc, &e, buf);
    json_decref(j);
    j = NULL;

    rc = bc_order_refunds(d->c, 101, &j, &e);
    snprintf(buf, sizeof(buf), "%zu refunds", json_array_size(j));
    report(d, "order refunds", rc, &e, buf);
    json_decref(j);
    j = NULL;

    rc = bc_refunds_pager(d->c, &(struct bc_refund_filter){
        .order_ids = rids, .n_order_ids = 3, .created_min = "2026-01-01T00:00:00Z" },
        10, &pg, &e);
    if (rc == MLC_OK) {
        rc = bc_pager_collect(&pg, 1000, &j, &e);
        bc_pager_free(&pg);
    }
    snprintf(buf, sizeof(buf), "%zu refunds", json_array_size(j));
    report(d, "refunds across orders", rc, &e, buf);
    json_decref(j);
    j = NULL;

    memset(&o, 0, sizeof(o));
    rc = bc_order_load(d->c, 101, &o, &e);
    report(d, "order load (decoded)", rc, &e, NULL);
    if (rc == MLC_OK) {
        rc = bc_order_load_refunds(d->c, &o, &refs, &nrefs, &e);
        snprintf(buf, sizeof(buf), "%zu refunds", nrefs);
        report(d, "order load refunds (decoded)", rc, &e, buf);
        order_refunds_free(refs, nrefs);
    }
    order_clear(&o);
}

static void run_customers(struct drv *d)
{
    static const char *const emails[] = { "jane.doe@example.com" };
    int64_t ids[] = { 1, 2, 3 };
    struct bc_customer *v = NULL;
    struct bc_address *a = NULL;
    struct mlc_err e = { 0 };
    size_t n = 0;
    char buf[64];
    int rc;

    rc = bc_customers_list(d->c, &(struct bc_customer_filter){ .addresses = true }, &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu customers", n);
    report(d, "customers (addresses)", rc, &e, buf);
    bc_customers_free(v, n);

    rc = bc_customers_list(d->c, &(struct bc_customer_filter){
        .ids = ids, .n_ids = 3, .date_modified_min = "2026-01-01T00:00:00Z",
        .addresses = true }, &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu customers", n);
    report(d, "customers by ids", rc, &e, buf);
    bc_customers_free(v, n);

    rc = bc_customers_list(d->c, &(struct bc_customer_filter){
        .emails = emails, .n_emails = 1 }, &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu customers", n);
    report(d, "customers by e-mail", rc, &e, buf);
    bc_customers_free(v, n);

    rc = bc_customer_addresses(d->c, 2, &a, &n, &e);
    snprintf(buf, sizeof(buf), "%zu addresses", n);
    report(d, "customer addresses", rc, &e, buf);
    for (size_t i = 0; a != NULL && i < n; i++)
        bc_address_clear(&a[i]);
    free(a);
}

static void run_catalog(struct drv *d)
{
    static const char *const skus[] = { "NW-SOAP-6PK", "NW-POD", "NW-NOSUCH" };
    static const char *const resolve[] = { "NW-POD-84", "NW-DISH-1L", "NW-MISSING" };
    int64_t pids[] = { 114, 115 };
    struct bc_product *p = NULL, created;
    struct bc_variant *v = NULL;
    struct bc_item_result *res = NULL;
    struct bc_catalog_index *x = NULL;
    struct mlc_err e = { 0 };
    size_t n = 0, nres = 0, missing = 0;
    json_t *items;
    char buf[64];
    int rc;

    rc = bc_products_by_skus(d->c, skus, 3, true, &p, &n, &e);
    snprintf(buf, sizeof(buf), "%zu products", n);
    report(d, "products by SKU (variants)", rc, &e, buf);
    bc_products_free(p, n);

    rc = bc_products_by_ids(d->c, pids, 2, true, &p, &n, &e);
    snprintf(buf, sizeof(buf), "%zu products", n);
    report(d, "products by id (variants)", rc, &e, buf);
    bc_products_free(p, n);

    rc = bc_variants_by_sku(d->c, "NW-POD-84", &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu variants", n);
    report(d, "variants by SKU", rc, &e, buf);
    bc_variants_free(v, n);

    rc = bc_variants_by_product_ids(d->c, pids, 2, &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu variants", n);
    report(d, "variants by product id", rc, &e, buf);
    bc_variants_free(v, n);

    rc = bc_catalog_index_new(&x, &e);
    if (rc == MLC_OK)
        rc = bc_catalog_resolve(d->c, x, resolve, 3, &missing, &e);
    snprintf(buf, sizeof(buf), "%zu missing", missing);
    report(d, "catalog resolve", rc, &e, buf);
    bc_catalog_index_free(x);

    items = json_pack("[{s:i, s:f, s:i}]", "id", 1141, "price", 18.99, "inventory_level", 150);
    rc = bc_variants_update(d->c, items, &res, &nres, &e);
    json_decref(items);
    free(res);
    res = NULL;
    report(d, "variant batch update", rc, &e, NULL);

    items = json_pack("[{s:i, s:f}, {s:i, s:i}]", "id", 111, "price", 13.25, "id", 112,
                      "inventory_level", 1100);
    rc = bc_products_update(d->c, items, &res, &nres, &e);
    json_decref(items);
    free(res);
    report(d, "product batch update", rc, &e, NULL);

    items = json_pack("{s:s, s:s, s:f, s:f, s:s, s:i, s:b}", "name", "Contract Dish Brush",
                      "type", "physical", "weight", 0.2, "price", 3.5, "sku", "NW-CBRUSH",
                      "inventory_level", 10, "is_visible", 0);
    memset(&created, 0, sizeof(created));
    rc = bc_product_create(d->c, items, &created, &e);
    snprintf(buf, sizeof(buf), "id %" PRId64, created.id);
    report(d, "product create", rc, &e, buf);
    bc_product_clear(&created);
    memset(&created, 0, sizeof(created));
    rc = bc_product_create(d->c, items, &created, &e);
    report(d, "product create again (409)", rc == MLC_EEXIST ? MLC_OK : MLC_EPROTO, &e,
           "duplicate refused");
    bc_product_clear(&created);
    json_decref(items);
}

static void run_hooks(struct drv *d)
{
    struct bc_hook *v = NULL, h;
    struct bc_hooks_admin adm;
    struct mlc_secret *hv = NULL;
    struct mlc_err e = { 0 };
    size_t n = 0;
    char buf[64];
    int rc;

    rc = secret_new("contract-header-value", 21, &hv, &e);
    memset(&h, 0, sizeof(h));
    if (rc == MLC_OK)
        rc = bc_hook_create(d->c, &(struct bc_hook_spec){
            .scope = "store/order/*", .destination = d->receiver, .is_active = true,
            .header_name = "X-Mlc-Hook", .header_value = hv }, &h, &e);
    snprintf(buf, sizeof(buf), "id %" PRId64, h.id);
    report(d, "hook create", rc, &e, buf);
    secret_free(hv);

    rc = bc_hooks_list(d->c, &v, &n, &e);
    snprintf(buf, sizeof(buf), "%zu hooks", n);
    report(d, "hooks list", rc, &e, buf);
    bc_hooks_free(v, n);

    if (h.id > 0) {
        rc = bc_hook_set_active(d->c, h.id, false, NULL, &e);
        report(d, "hook update (deactivate)", rc, &e, NULL);
        rc = bc_hook_set_active(d->c, h.id, true, NULL, &e);
        report(d, "hook update (activate)", rc, &e, NULL);
    }

    rc = bc_hooks_admin(d->c, &adm, &e);
    snprintf(buf, sizeof(buf), "%zu hooks", rc == MLC_OK ? adm.n_hooks : 0);
    report(d, "hooks admin", rc, &e, buf);
    if (rc == MLC_OK)
        bc_hooks_admin_clear(&adm);

    if (h.id > 0) {
        rc = bc_hook_delete(d->c, h.id, &e);
        report(d, "hook delete", rc, &e, NULL);
    }
    bc_hook_clear(&h);
}

static void run_unrecorded(struct drv *d)
{
    struct bc_probe_result res[BC_PROBE_MAX];
    struct bc_store_info si;
    struct mlc_err e = { 0 };
    size_t n = 0;
    int rc;

    rc = bc_store_info(d->c, &si, &e);
    report(d, "store information", rc, &e, rc == MLC_OK ? si.name : NULL);
    if (rc == MLC_OK)
        bc_store_info_clear(&si);
    rc = bc_probe(d->c, res, &n, &e);
    report(d, "probe (mlc ping)", rc, &e, NULL);
}

int main(int argc, char **argv)
{
    const char *tok = getenv("BC_TOKEN");
    struct cfg_bigcommerce cfg = { 0 };
    struct mlc_secret *token = NULL;
    struct pacer *pacer = NULL;
    struct mlc_err e = { 0 };
    struct drv d = { 0 };
    int status = 2;

    if (argc < 3 || tok == NULL || (strcmp(argv[2], "api") != 0 &&
                                     strcmp(argv[2], "unrecorded") != 0)) {
        fprintf(stderr, "usage: BC_TOKEN=... %s BASE_URL api|unrecorded [RECEIVER_URL]\n",
                argv[0]);
        return 2;
    }
    if (secret_lib_init() != MLC_OK || httpc_global_init(&e) != MLC_OK) {
        fprintf(stderr, "bc_driver: library init failed %s\n", e.msg);
        return 1;
    }
    cfg.store_hash = "contract";
    cfg.api_base_url = argv[1];
    cfg.timeout_ms = 10000;
    d.receiver = argc > 3 ? argv[3] : "https://hooks.example.com/bc";
    if (secret_new(tok, strlen(tok), &token, &e) != MLC_OK ||
        pacer_new(NULL, &pacer, &e) != MLC_OK ||
        bc_client_new(&cfg, token, pacer, &d.c, &e) != MLC_OK) {
        fprintf(stderr, "bc_driver: %s\n", e.msg);
        status = 1;
        goto out;
    }
    if (strcmp(argv[2], "api") == 0) {
        run_orders(&d);
        run_customers(&d);
        run_catalog(&d);
        run_hooks(&d);
    } else {
        run_unrecorded(&d);
    }
    printf("bc_driver: %" PRIu64 " requests, %u failed calls\n", bc_client_requests(d.c),
           d.failures);
    status = d.failures == 0 ? 0 : 1;
out:
    bc_client_free(d.c);
    pacer_free(pacer);
    secret_free(token);
    return status;
}
