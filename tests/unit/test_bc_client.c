/* Unit tests: bc/bc_client, bc_customers, bc_catalog, bc_hooks against a fake
 * BigCommerce store served by net/httpd on 127.0.0.1:0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bc_customers.h"
#include "bc/bc_decode.h"
#include "bc/bc_hooks.h"
#include "bc/bcsim.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/health.h"
#include "core/log.h"
#include "core/order.h"
#include "core/secret.h"
#include "net/httpd.h"

#define TOKEN      "tok-SECRET-7f3a9c"
#define HOOK_KEY   "hook-KEY-55e1"
#define STORE_PFX  "/stores/abc"
#define N_PRODUCTS 3

/* ---- fake store --------------------------------------------------------- */

struct fake {
    struct httpd   *h;
    uint16_t        port;
    pthread_mutex_t mu;
    /* knobs, set by a test before its calls */
    int64_t         n_orders;        /* orders 1..n exist */
    int             fail429;         /* /v3/limited: 429 with headers this often */
    int             bare429;         /* /v3/limited: 429 without headers */
    int             fail503;         /* /v3/flaky: 503 this often */
    int             slow_create_ms;  /* POST products: create, then sleep */
    bool            forbid_customers;
    /* counters */
    int             orders_calls, limited_calls, flaky_calls, variants_puts,
                    products_puts, products_posts, products_gets, variants_gets,
                    addresses_calls, refunds_calls, pager_calls, customers_calls;
    int             max_batch;        /* largest PUT array seen */
    bool            created;          /* the product of POST exists */
    char            token[128];       /* last X-Auth-Token */
    char            ua[128];          /* last User-Agent */
    char            accept[64];
    char            ctype[64];        /* Content-Type of the last body */
    char            include[128];     /* last include= of /v2/orders */
    char            hook_header[128]; /* X-Hook-Key value of the last hook POST */
    json_t         *hooks;            /* registered hooks */
    int64_t         next_hook;
};

static struct fake F;

static void reply(struct httpd_response *rs, int status, json_t *j)
{
    char *t = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    if (t != NULL)
        httpd_resp_take(rs, status, "application/json", t, strlen(t));
    else
        httpd_resp_static(rs, status, "application/json", "");
    json_decref(j);
}

static void rate_headers(struct httpd_response *rs)
{
    httpd_resp_header(rs, "x-rate-limit-requests-left", "10000");
    httpd_resp_header(rs, "X-Rate-Limit-Requests-Quota", "10000");
    httpd_resp_header(rs, "X-RATE-LIMIT-TIME-RESET-MS", "1000");
    httpd_resp_header(rs, "X-Rate-Limit-Time-Window-Ms", "1000");
}

static int64_t qint(const struct httpd_request *rq, const char *name, int64_t def)
{
    const char *v = httpd_req_query(rq, name);
    char *end;
    long long n;

    if (v == NULL || *v == '\0')
        return def;
    errno = 0;
    n = strtoll(v, &end, 10);
    return errno == 0 && *end == '\0' ? (int64_t)n : def;
}

static bool csv_has(const char *csv, const char *item)
{
    size_t n = strlen(item);

    for (const char *p = csv; p != NULL && *p != '\0';) {
        size_t k = strcspn(p, ",");

        if (k == n && strncmp(p, item, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

static json_t *v3_page(json_t *all, int64_t page, int64_t limit, bool with_meta)
{
    json_t *data = json_array();
    int64_t total = (int64_t)json_array_size(all);
    int64_t pages = (total + limit - 1) / limit;

    for (int64_t i = (page - 1) * limit; i < total && i < page * limit; i++)
        json_array_append(data, json_array_get(all, (size_t)i));
    json_decref(all);
    if (!with_meta)
        return json_pack("{s:o, s:{}}", "data", data, "meta");
    return json_pack("{s:o, s:{s:{s:I, s:I, s:I, s:I, s:I}}}", "data", data, "meta",
                     "pagination", "total", (json_int_t)total, "count",
                     (json_int_t)json_array_size(data), "per_page", (json_int_t)limit,
                     "current_page", (json_int_t)page, "total_pages", (json_int_t)pages);
}

static void h_orders(const struct httpd_request *rq, struct httpd_response *rs)
{
    int64_t lo = qint(rq, "min_id", 1), hi = qint(rq, "max_id", INT64_MAX);
    int64_t page = qint(rq, "page", 1), limit = qint(rq, "limit", 50), skip;
    const char *sort = httpd_req_query(rq, "sort"), *inc = httpd_req_query(rq, "include");
    bool desc = sort != NULL && strcmp(sort, "id:desc") == 0;
    json_t *arr = json_array();

    F.orders_calls++;
    snprintf(F.include, sizeof(F.include), "%s", inc != NULL ? inc : "");
    if (lo < 1)
        lo = 1;
    if (hi > F.n_orders)
        hi = F.n_orders;
    skip = (page - 1) * limit;
    for (int64_t k = 0; k <= hi - lo && (int64_t)json_array_size(arr) < limit; k++) {
        int64_t id = desc ? hi - k : lo + k;

        if (skip > 0) {
            skip--;
            continue;
        }
        json_array_append_new(arr, json_pack("{s:I, s:i, s:s}", "id", (json_int_t)id,
                                             "status_id", 11, "total_inc_tax", "10.0000"));
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        reply(rs, 204, NULL);
        return;
    }
    reply(rs, 200, arr);
}

static json_t *customer(int64_t id, int n_addr, int count)
{
    json_t *addrs = json_array();

    for (int i = 0; i < n_addr; i++)
        json_array_append_new(addrs, json_pack("{s:I, s:I, s:s, s:s, s:s}", "id",
                                               (json_int_t)(id * 100 + i), "customer_id",
                                               (json_int_t)id, "city", "Lyon", "country_code",
                                               "FR", "address_type", "commercial"));
    return json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:o}", "id", (json_int_t)id, "email",
                     id == 2 ? "two@example.com" : "x@example.com", "first_name", "Ann",
                     "last_name", "Lee", "customer_group_id", 3, "address_count", count,
                     "addresses", addrs);
}

static void h_customers(const struct httpd_request *rq, struct httpd_response *rs)
{
    json_t *all;
    const char *ids = httpd_req_query(rq, "id:in");

    F.customers_calls++;
    if (F.forbid_customers) {
        reply(rs, 403, json_pack("{s:i, s:s}", "status", 403, "title",
                                 "You don't have a required scope to access the endpoint"));
        return;
    }
    all = json_array();
    for (int64_t id = 1; id <= 3; id++) {
        char k[8];

        snprintf(k, sizeof(k), "%" PRId64, id);
        if (ids == NULL || csv_has(ids, k))
            json_array_append_new(all, customer(id, id == 2 ? 10 : 1, id == 2 ? 12 : 1));
    }
    reply(rs, 200, v3_page(all, qint(rq, "page", 1), qint(rq, "limit", 50), true));
}

static void h_addresses(const struct httpd_request *rq, struct httpd_response *rs)
{
    json_t *c = customer(2, 12, 12), *all = json_incref(json_object_get(c, "addresses"));

    F.addresses_calls++;
    json_decref(c);
    reply(rs, 200, v3_page(all, qint(rq, "page", 1), qint(rq, "limit", 50), true));
}

/* Catalog: P-1 (id 11, one variant 111 "P-1"), P-2 (id 12, variants 121
 * "P-2-RED", 122 "P-2-BLUE", base null), P-NEW (13, created by POST). */
static json_t *product(int i, bool variants)
{
    static const char *const skus[N_PRODUCTS] = { "P-1", "P-2", "P-NEW" };
    json_t *p = json_pack("{s:i, s:s, s:s, s:s}", "id", 11 + i, "name", skus[i], "sku",
                          skus[i], "type", "physical");

    json_object_set_new(p, "base_variant_id", i == 1 ? json_null() : json_integer(111 + 10 * i));
    if (variants) {
        json_t *v = json_array();

        if (i == 1) {
            json_array_append_new(v, json_pack("{s:i, s:i, s:s}", "id", 121, "product_id", 12,
                                               "sku", "P-2-RED"));
            json_array_append_new(v, json_pack("{s:i, s:i, s:s}", "id", 122, "product_id", 12,
                                               "sku", "P-2-BLUE"));
        } else {
            json_array_append_new(v, json_pack("{s:i, s:i, s:s}", "id", 111 + 10 * i,
                                               "product_id", 11 + i, "sku", skus[i]));
        }
        json_object_set_new(p, "variants", v);
    }
    return p;
}

static void h_products_get(const struct httpd_request *rq, struct httpd_response *rs)
{
    const char *skus = httpd_req_query(rq, "sku:in"), *inc = httpd_req_query(rq, "include");
    json_t *all = json_array();

    F.products_gets++;
    for (int i = 0; i < N_PRODUCTS; i++) {
        json_t *p = product(i, inc != NULL && strcmp(inc, "variants") == 0);

        if ((i == 2 && !F.created) ||
            (skus != NULL && !csv_has(skus, json_string_value(json_object_get(p, "sku")))))
            json_decref(p);
        else
            json_array_append_new(all, p);
    }
    reply(rs, 200, v3_page(all, qint(rq, "page", 1), qint(rq, "limit", 50), true));
}

static void h_variants_get(const struct httpd_request *rq, struct httpd_response *rs)
{
    const char *sku = httpd_req_query(rq, "sku");
    json_t *all = json_array();

    F.variants_gets++;
    for (int i = 0; i < 2; i++) {
        json_t *p = product(i, true), *v;
        size_t k;

        json_array_foreach(json_object_get(p, "variants"), k, v)
            if (sku == NULL || strcmp(json_string_value(json_object_get(v, "sku")), sku) == 0)
                json_array_append(all, v);
        json_decref(p);
    }
    reply(rs, 200, v3_page(all, qint(rq, "page", 1), qint(rq, "limit", 50), true));
}

/* Batch PUT: 413 over max; products named "bad" fail (207). */
static void h_batch(const struct httpd_request *rq, struct httpd_response *rs, size_t max,
                    bool products)
{
    size_t len, i;
    const char *b = httpd_req_body(rq, &len);
    json_t *arr = json_loadb(b, len, 0, NULL), *ok = json_array(), *errs = json_object(), *it;

    if (products)
        F.products_puts++;
    else
        F.variants_puts++;
    if ((int)json_array_size(arr) > F.max_batch)
        F.max_batch = (int)json_array_size(arr);
    if (!json_is_array(arr) || json_array_size(arr) > max) {
        json_decref(arr);
        json_decref(ok);
        json_decref(errs);
        reply(rs, 413, json_pack("{s:i, s:s}", "status", 413, "title",
                                 "The request payload is too large."));
        return;
    }
    json_array_foreach(arr, i, it) {
        const char *name = json_string_value(json_object_get(it, "name"));
        char k[16];

        if (name != NULL && strcmp(name, "bad") == 0) {
            snprintf(k, sizeof(k), "%zu", i);
            json_object_set_new(errs, k, json_string("name is not allowed"));
        } else {
            json_array_append(ok, it);
        }
    }
    json_decref(arr);
    if (json_object_size(errs) == 0) {
        json_decref(errs);
        reply(rs, 200, json_pack("{s:o, s:{}}", "data", ok, "meta"));
    } else {
        reply(rs, 207, json_pack("{s:o, s:{s:i, s:s, s:o}, s:{}}", "data", ok, "errors",
                                 "status", 422, "title", "Some products were not saved",
                                 "errors", errs, "meta"));
    }
}

static void h_product_post(struct httpd_response *rs)
{
    int ms;

    F.products_posts++;
    F.created = true;
    ms = F.slow_create_ms;
    pthread_mutex_unlock(&F.mu);
    if (ms > 0) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&F.mu);
    reply(rs, 200, json_pack("{s:o, s:{}}", "data", product(2, true), "meta"));
}

static void h_hooks(const struct httpd_request *rq, struct httpd_response *rs,
                    const char *p)
{
    const char *m = httpd_req_method(rq);
    size_t len;
    const char *b = httpd_req_body(rq, &len);

    if (strcmp(p, "/v3/hooks/admin") == 0) {
        reply(rs, 200, json_pack(
            "{s:{s:[s], s:O, s:[{s:s, s:i, s:[{s:s, s:i}]}]}}", "data", "emails",
            "ops@example.com", "hooks_list", F.hooks, "blocked_domains", "destination",
            "https://erp.example.com", "time_left", 120, "reasons", "failure_description",
            "timeouts", "count", 9));
        return;
    }
    if (strcmp(p, "/v3/hooks") == 0 && strcmp(m, "GET") == 0) {
        reply(rs, 200, v3_page(json_incref(F.hooks), qint(rq, "page", 1),
                               qint(rq, "limit", 50), true));
        return;
    }
    if (strcmp(p, "/v3/hooks") == 0 && strcmp(m, "POST") == 0) {
        json_t *in = json_loadb(b, len, 0, NULL), *h;
        const char *k = json_string_value(json_object_get(json_object_get(in, "headers"),
                                                          "X-Hook-Key"));

        snprintf(F.hook_header, sizeof(F.hook_header), "%s", k != NULL ? k : "");
        h = json_pack("{s:I, s:O, s:O, s:O, s:i, s:i}", "id", (json_int_t)F.next_hook++,
                      "scope", json_object_get(in, "scope"), "destination",
                      json_object_get(in, "destination"), "is_active",
                      json_object_get(in, "is_active"), "created_at", 1700000000,
                      "updated_at", 1700000000);
        json_object_set_new(h, "status", json_string("active"));
        json_array_append(F.hooks, h);
        json_decref(in);
        reply(rs, 200, json_pack("{s:o, s:{}}", "data", h, "meta"));
        return;
    }
    if (strncmp(p, "/v3/hooks/", 10) == 0) {
        int64_t id = strtoll(p + 10, NULL, 10);
        size_t i;
        json_t *h;

        json_array_foreach(F.hooks, i, h) {
            if (json_integer_value(json_object_get(h, "id")) != id)
                continue;
            if (strcmp(m, "DELETE") == 0) {
                json_incref(h);
                json_array_remove(F.hooks, i);
                reply(rs, 200, json_pack("{s:o, s:{}}", "data", h, "meta"));
            } else {
                json_t *in = json_loadb(b, len, 0, NULL);

                json_object_set(h, "is_active", json_object_get(in, "is_active"));
                json_decref(in);
                reply(rs, 200, json_pack("{s:O, s:{}}", "data", h, "meta"));
            }
            return;
        }
        reply(rs, 404, json_pack("{s:i, s:s}", "status", 404, "title", "Hook not found"));
        return;
    }
    reply(rs, 405, NULL);
}

/* /v3/things: 7 items, v3 pagination. /v3/refundish: 5 items, no pagination. */
static void h_things(const struct httpd_request *rq, struct httpd_response *rs, int n,
                     bool meta)
{
    json_t *all = json_array();

    F.pager_calls++;
    for (int i = 1; i <= n; i++)
        json_array_append_new(all, json_pack("{s:i}", "id", i));
    reply(rs, 200, v3_page(all, qint(rq, "page", 1), qint(rq, "limit", 50), meta));
}

static void route(const struct httpd_request *rq, struct httpd_response *rs, const char *p,
                  const char *m)
{
    bool get = strcmp(m, "GET") == 0;

    if (strcmp(p, "/v2/store") == 0) {
        reply(rs, 200, json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", "abc", "name",
                                 "Fake Store", "domain", "fake.example", "currency", "EUR",
                                 "timezone", "name", "Europe/Paris"));
    } else if (strcmp(p, "/v2/orders") == 0 && get) {
        h_orders(rq, rs);
    } else if (strcmp(p, "/v2/orders/count") == 0) {
        reply(rs, 200, json_pack("{s:[], s:I}", "statuses", "count", (json_int_t)F.n_orders));
    } else if (strcmp(p, "/v2/orders/105") == 0) {
        reply(rs, 404, json_pack("[{s:i, s:s}]", "status", 404, "message",
                                 "The requested resource was not found"));
    } else if (strcmp(p, "/v3/orders/1/transactions") == 0) {
        reply(rs, 204, NULL);
    } else if (strncmp(p, "/v3/orders/", 11) == 0 && strstr(p, "/transactions") != NULL) {
        reply(rs, 200, json_pack("{s:[{s:i, s:s, s:s, s:f}, {s:i, s:s, s:s, s:f}], s:{}}",
                                 "data", "id", 1, "order_id", "2", "event", "purchase",
                                 "amount", 10.5, "id", 2, "order_id", "2", "event", "refund",
                                 "amount", 1.25, "meta"));
    } else if (strcmp(p, "/v3/orders/payment_actions/refunds") == 0) {
        F.refunds_calls++;
        h_things(rq, rs, 5, false);
    } else if (strcmp(p, "/v3/customers") == 0) {
        h_customers(rq, rs);
    } else if (strcmp(p, "/v3/customers/addresses") == 0) {
        h_addresses(rq, rs);
    } else if (strcmp(p, "/v3/catalog/products") == 0 && get) {
        h_products_get(rq, rs);
    } else if (strcmp(p, "/v3/catalog/products") == 0 && strcmp(m, "PUT") == 0) {
        h_batch(rq, rs, 10, true);
    } else if (strcmp(p, "/v3/catalog/products") == 0 && strcmp(m, "POST") == 0) {
        h_product_post(rs);
    } else if (strcmp(p, "/v3/catalog/variants") == 0 && get) {
        h_variants_get(rq, rs);
    } else if (strcmp(p, "/v3/catalog/variants") == 0) {
        h_batch(rq, rs, 50, false);
    } else if (strncmp(p, "/v3/hooks", 9) == 0) {
        h_hooks(rq, rs, p);
    } else if (strcmp(p, "/v3/things") == 0) {
        h_things(rq, rs, 7, true);
    } else if (strcmp(p, "/v3/limited") == 0) {
        int n = F.limited_calls++;

        if (n < F.fail429) {
            reply(rs, 429, json_pack("{s:i, s:s}", "status", 429, "title", "Too many"));
            httpd_resp_header(rs, "X-Rate-Limit-Time-Reset-Ms", "30");
            httpd_resp_header(rs, "X-Rate-Limit-Requests-Left", "0");
            httpd_resp_header(rs, "X-Rate-Limit-Time-Window-Ms", "1000");
            httpd_resp_header(rs, "X-Rate-Limit-Requests-Quota", "10000");
            return;
        }
        if (n < F.fail429 + F.bare429) {
            reply(rs, 429, NULL);
            return;
        }
        reply(rs, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(p, "/v3/flaky") == 0) {
        if (F.flaky_calls++ < F.fail503)
            reply(rs, 503, json_pack("{s:i, s:s}", "status", 503, "title",
                                     "Store in maintenance"));
        else
            reply(rs, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(p, "/v3/bad422") == 0) {
        reply(rs, 422, json_pack("{s:i, s:s, s:s, s:{s:s}}", "status", 422, "title",
                                 "JSON data is missing or invalid", "type",
                                 "/api-docs/getting-started/api-status-codes", "errors",
                                 "name", "error.expected.jsstring"));
    } else {
        reply(rs, 404, json_pack("{s:i, s:s}", "status", 404, "title", "no route"));
        return;
    }
    if (rs->status != 429)
        rate_headers(rs);
}

static void h_store(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    const char *p = httpd_req_path(rq) + strlen(STORE_PFX);
    const char *t = httpd_req_header(rq, "x-auth-token");
    const char *ua = httpd_req_header(rq, "user-agent");
    const char *acc = httpd_req_header(rq, "accept");
    const char *ct = httpd_req_header(rq, "content-type");

    (void)ctx;
    pthread_mutex_lock(&F.mu);
    snprintf(F.token, sizeof(F.token), "%s", t != NULL ? t : "");
    snprintf(F.ua, sizeof(F.ua), "%s", ua != NULL ? ua : "");
    snprintf(F.accept, sizeof(F.accept), "%s", acc != NULL ? acc : "");
    if (ct != NULL)
        snprintf(F.ctype, sizeof(F.ctype), "%s", ct);
    if (t == NULL || strcmp(t, TOKEN) != 0)
        reply(rs, 401, json_pack("{s:i, s:s}", "status", 401, "title", "Unauthorized"));
    else
        route(rq, rs, p, httpd_req_method(rq));
    pthread_mutex_unlock(&F.mu);
}

static void fake_reset(void)
{
    pthread_mutex_lock(&F.mu);
    F.n_orders = 0;
    F.fail429 = F.bare429 = F.fail503 = F.slow_create_ms = 0;
    F.forbid_customers = false;
    F.orders_calls = F.limited_calls = F.flaky_calls = F.variants_puts = 0;
    F.products_puts = F.products_posts = F.products_gets = F.variants_gets = 0;
    F.addresses_calls = F.refunds_calls = F.pager_calls = F.customers_calls = 0;
    F.max_batch = 0;
    F.created = false;
    F.token[0] = F.ua[0] = F.accept[0] = F.ctype[0] = F.include[0] = F.hook_header[0] = '\0';
    json_array_clear(F.hooks);
    F.next_hook = 1001;
    pthread_mutex_unlock(&F.mu);
}

static int sim_setup(void);
static void sim_teardown(void);

static int setup(void **state)
{
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 4, .max_connections = 64,
        .connection_timeout_s = 10, .max_body_bytes = 1 << 20,
    };
    const struct httpd_route routes[] = { { "*", STORE_PFX "/*", h_store, NULL } };
    struct mlc_err e;

    (void)state;
    log_set_level(LOG_LVL_ERROR);  /* the 429 warnings are expected here */
    pthread_mutex_init(&F.mu, NULL);
    F.hooks = json_array();
    if (secret_lib_init() != MLC_OK ||
        httpd_start(&o, routes, 1, &F.h, &e) != MLC_OK) {
        fprintf(stderr, "setup failed\n");
        return -1;
    }
    F.port = httpd_port(F.h);
    return sim_setup();
}

static int teardown(void **state)
{
    (void)state;
    sim_teardown();
    httpd_free(F.h);
    json_decref(F.hooks);
    pthread_mutex_destroy(&F.mu);
    return 0;
}

/* ---- client helpers ----------------------------------------------------- */

struct tc {
    char                   base[96];
    struct cfg_bigcommerce cfg;
    struct mlc_secret     *tok;
    struct pacer          *pacer;
    struct bc_client      *c;
};

static void tc_open(struct tc *t, int timeout_ms)
{
    struct pacer_opts po = { .backoff_ms = 20, .backoff_max_ms = 40 };
    struct bc_client_tuning tu = { .base_delay_ms = 5, .max_delay_ms = 20 };
    struct mlc_err e;

    fake_reset();
    memset(t, 0, sizeof(*t));
    snprintf(t->base, sizeof(t->base), "http://127.0.0.1:%u" STORE_PFX "/", (unsigned)F.port);
    t->cfg.api_base_url = t->base;
    t->cfg.timeout_ms = timeout_ms;
    assert_int_equal(secret_new(TOKEN, strlen(TOKEN), &t->tok, &e), MLC_OK);
    assert_int_equal(pacer_new(&po, &t->pacer, &e), MLC_OK);
    assert_int_equal(bc_client_new(&t->cfg, t->tok, t->pacer, &t->c, &e), MLC_OK);
    bc_client_tune(t->c, &tu);
}

static void tc_close(struct tc *t)
{
    bc_client_free(t->c);
    pacer_free(t->pacer);
    secret_free(t->tok);
}

static int counter(int *p)
{
    int v;

    pthread_mutex_lock(&F.mu);
    v = *p;
    pthread_mutex_unlock(&F.mu);
    return v;
}

/* ---- construction and headers ------------------------------------------- */

static void test_new_rejects_bad_args(void **state)
{
    struct cfg_bigcommerce cfg = { 0 };
    struct mlc_secret *tok;
    struct pacer *p;
    struct bc_client *c = (struct bc_client *)1;
    struct mlc_err e;

    (void)state;
    assert_int_equal(secret_new(TOKEN, strlen(TOKEN), &tok, &e), MLC_OK);
    assert_int_equal(pacer_new(NULL, &p, &e), MLC_OK);
    assert_int_equal(bc_client_new(&cfg, tok, p, &c, &e), MLC_EINVAL);
    assert_null(c);
    cfg.api_base_url = "http://127.0.0.1:1/stores/x";
    assert_int_equal(bc_client_new(&cfg, tok, NULL, &c, &e), MLC_EINVAL);
    cfg.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(bc_client_new(&cfg, tok, p, &c, &e), MLC_EIO);
    pacer_free(p);
    secret_free(tok);
}

static void test_headers_and_store_info(void **state)
{
    struct tc t;
    struct bc_store_info si;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_store_info(t.c, &si, &e), MLC_OK);
    assert_string_equal(si.name, "Fake Store");
    assert_string_equal(si.currency, "EUR");
    assert_string_equal(si.timezone, "Europe/Paris");
    assert_string_equal(si.id, "abc");
    bc_store_info_clear(&si);
    assert_string_equal(F.token, TOKEN);
    assert_string_equal(F.accept, "application/json");
    assert_non_null(strstr(F.ua, "ml-connector/"));
    assert_int_equal(bc_client_requests(t.c), 1);
    tc_close(&t);
}

static void test_token_never_logged(void **state)
{
    char path[] = "/tmp/test_bc_log_XXXXXX";
    int fd = mkstemp(path);
    enum log_level old = log_get_level();
    struct tc t;
    struct bc_resp r;
    struct bc_url u;
    struct mlc_err e;
    char buf[65536];
    ssize_t n;

    (void)state;
    assert_true(fd >= 0);
    tc_open(&t, 5000);
    log_set_level(LOG_LVL_DEBUG);
    log_set_fd(fd);
    F.fail429 = 1;
    F.fail503 = 1;
    bc_url_init(&u, "/v3/limited");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_OK);
    bc_resp_clear(&r);
    bc_url_free(&u);
    bc_url_init(&u, "/v3/flaky");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_OK);
    bc_resp_clear(&r);
    bc_url_free(&u);
    bc_url_init(&u, "/v2/orders/105");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_ENOTFOUND);
    assert_null(strstr(e.msg, TOKEN));
    bc_resp_clear(&r);
    bc_url_free(&u);
    log_set_fd(2);
    log_set_level(old);
    assert_string_equal(F.token, TOKEN);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);  /* debug lines were written */
    buf[n] = '\0';
    assert_null(strstr(buf, TOKEN));
    assert_non_null(strstr(buf, "rate limited"));
    close(fd);
    unlink(path);
    tc_close(&t);
}

/* ---- errors ------------------------------------------------------------- */

static void test_error_messages_pure(void **state)
{
    char m[512];
    const char *v2 = "[{\"status\":400,\"message\":\"The field 'x' cannot be written\"},"
                     "{\"status\":400,\"message\":\"second\"}]";
    const char *v3 = "{\"status\":422,\"title\":\"JSON data is missing or invalid\","
                     "\"type\":\"/t\",\"errors\":{\"name\":\"error.expected.jsstring\"}}";
    const char *be = "{\"batch_errors\":[{\"status\":422,\"title\":\"Bad\",\"errors\":"
                     "{\"sku\":\"taken\"}},{\"status\":422,\"title\":\"Worse\"}]}";

    (void)state;
    bc_error_message("PUT", "/v2/orders/7?x=1", 400, v2, strlen(v2), m, sizeof(m));
    assert_string_equal(m, "PUT /v2/orders/7: 400 The field 'x' cannot be written; second");
    bc_error_message("POST", "/v3/catalog/products", 422, v3, strlen(v3), m, sizeof(m));
    assert_string_equal(m, "POST /v3/catalog/products: 422 JSON data is missing or invalid "
                           "(name: error.expected.jsstring)");
    bc_error_message("PUT", "/v3/catalog/variants", 422, be, strlen(be), m, sizeof(m));
    assert_string_equal(m, "PUT /v3/catalog/variants: 422 Bad (sku: taken); Worse");
    bc_error_message("GET", "/v3/x", 502, "<html>\nBad\x01gateway</html>", 25, m, sizeof(m));
    assert_string_equal(m, "GET /v3/x: 502 <html> Bad?gateway</html>");
    bc_error_message("GET", "/v3/x", 401, NULL, 0, m, sizeof(m));
    assert_string_equal(m, "GET /v3/x: 401 Unauthorized");
    bc_error_message("GET", "/v3/x", 404, "{}", 2, m, sizeof(m));
    assert_string_equal(m, "GET /v3/x: 404 Not Found");
    bc_error_message("GET", "/v3/x", 404, "{}", 2, m, 8);
    assert_string_equal(m, "GET /v3");
    assert_int_equal(bc_status_code(401), MLC_EAUTH);
    assert_int_equal(bc_status_code(403), MLC_EAUTH);
    assert_int_equal(bc_status_code(409), MLC_EEXIST);
    assert_int_equal(bc_status_code(413), MLC_ETOOBIG);
    assert_int_equal(bc_status_code(422), MLC_EINVAL);
    assert_int_equal(bc_status_code(500), MLC_EIO);
    assert_int_equal(bc_status_code(503), MLC_EBUSY);
    assert_int_equal(bc_status_code(302), MLC_EPROTO);
}

static void test_error_bodies_live(void **state)
{
    struct tc t;
    struct bc_resp r;
    struct bc_url u;
    json_t *o = NULL;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_order_get(t.c, 105, &o, &e), MLC_ENOTFOUND);
    assert_null(o);
    assert_string_equal(e.msg, "GET /v2/orders/105: 404 The requested resource was not found");
    bc_url_init(&u, "/v3/bad422?secretish=1");
    assert_int_equal(bc_call(t.c, "POST", &u, NULL, false, &r, &e), MLC_EINVAL);
    assert_int_equal(r.status, 422);
    assert_non_null(r.body);
    assert_string_equal(e.msg, "POST /v3/bad422: 422 JSON data is missing or invalid "
                               "(name: error.expected.jsstring)");
    bc_resp_clear(&r);
    bc_url_free(&u);
    tc_close(&t);
}

static void test_wrong_token_is_eauth(void **state)
{
    struct tc t;
    struct mlc_secret *bad;
    struct bc_client *c;
    struct bc_store_info si;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(secret_new("wrong", 5, &bad, &e), MLC_OK);
    assert_int_equal(bc_client_new(&t.cfg, bad, t.pacer, &c, &e), MLC_OK);
    assert_int_equal(bc_store_info(c, &si, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "401 Unauthorized"));
    assert_null(strstr(e.msg, "wrong"));
    bc_client_free(c);
    secret_free(bad);
    tc_close(&t);
}

/* ---- URL builder -------------------------------------------------------- */

static void test_url_builder(void **state)
{
    struct bc_url u, v;
    int64_t ids[] = { 3, 10, 250 };

    (void)state;
    bc_url_init(&u, "/v2/orders");
    bc_url_add(&u, "min_date_modified", "Thu, 20 Apr 2017 11:32:00 +0000");
    bc_url_addi(&u, "limit", 250);
    bc_url_add_ids(&u, "id:in", ids, 3);
    bc_url_add(&u, "email:in", "a+b@x.com,c@y.com");
    assert_int_equal(u.rc, MLC_OK);
    assert_string_equal(u.s, "/v2/orders?min_date_modified=Thu,%2020%20Apr%202017%2011:32:00"
                             "%20%2B0000&limit=250&id:in=3,10,250&email:in=a%2Bb%40x.com,"
                             "c%40y.com");
    bc_url_copy(&v, &u);
    bc_url_addi(&v, "page", 2);
    assert_non_null(strstr(v.s, "&page=2"));
    assert_null(strstr(u.s, "page"));
    bc_url_free(&u);
    bc_url_free(&v);
}

/* ---- paging ------------------------------------------------------------- */

static void test_v2_paging_stops_on_204(void **state)
{
    struct tc t;
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    struct bc_pager p;
    json_t *items;
    struct mlc_err e;
    size_t total = 0;

    (void)state;
    tc_open(&t, 5000);
    F.n_orders = 500;     /* two full pages, then 204 */
    assert_int_equal(bc_orders_pager(t.c, &f, 250, &p, &e), MLC_OK);
    while (bc_pager_next(&p, &items, &e) == MLC_OK && items != NULL) {
        total += json_array_size(items);
        json_decref(items);
    }
    assert_int_equal(e.code, MLC_OK);
    bc_pager_free(&p);
    assert_int_equal(total, 500);
    assert_int_equal(counter(&F.orders_calls), 3);
    assert_string_equal(F.include, "consignments.line_items,fees");
    tc_close(&t);
}

static void test_v2_paging_stops_on_short_page(void **state)
{
    struct tc t;
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    struct bc_pager p;
    json_t *all = NULL, *pg = NULL;
    struct mlc_err e;
    int64_t n = 0;

    (void)state;
    tc_open(&t, 5000);
    F.n_orders = 300;
    f.line_items = false;
    assert_int_equal(bc_orders_pager(t.c, &f, 250, &p, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 10000, &all, &e), MLC_OK);
    bc_pager_free(&p);
    assert_int_equal(json_array_size(all), 300);
    assert_int_equal(counter(&F.orders_calls), 2);
    assert_string_equal(F.include, "");
    json_decref(all);
    /* a single page past the end is an empty array (204) */
    assert_int_equal(bc_orders_page(t.c, &f, 9, 250, &pg, &e), MLC_OK);
    assert_int_equal(json_array_size(pg), 0);
    json_decref(pg);
    assert_int_equal(bc_orders_count(t.c, &f, &n, &e), MLC_OK);
    assert_int_equal(n, 300);
    /* collect's guard */
    assert_int_equal(bc_orders_pager(t.c, &f, 100, &p, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 150, &all, &e), MLC_ETOOBIG);
    assert_null(all);
    bc_pager_free(&p);
    tc_close(&t);
}

static void test_v3_paging_meta(void **state)
{
    struct tc t;
    struct bc_pager p;
    struct bc_url u;
    json_t *all;
    struct bc_refund_filter rf = { 0 };
    int64_t oids[] = { 5, 6 };
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    bc_url_init(&u, "/v3/things");
    assert_int_equal(bc_pager_init(&p, t.c, BC_PAGER_V3, &u, 3, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 100, &all, &e), MLC_OK);
    assert_int_equal(json_array_size(all), 7);
    assert_int_equal(counter(&F.pager_calls), 3); /* 3 + 3 + 1, total_pages 3 */
    json_decref(all);
    bc_pager_free(&p);
    bc_url_free(&u);
    /* exact multiple: total_pages stops it without an extra empty call */
    fake_reset();
    bc_url_init(&u, "/v3/things");
    assert_int_equal(bc_pager_init(&p, t.c, BC_PAGER_V3, &u, 7, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 100, &all, &e), MLC_OK);
    assert_int_equal(json_array_size(all), 7);
    assert_int_equal(counter(&F.pager_calls), 1);
    json_decref(all);
    bc_pager_free(&p);
    bc_url_free(&u);
    /* refunds: no pagination in meta, a short page ends it */
    rf.order_ids = oids;
    rf.n_order_ids = 2;
    rf.created_min = "2024-01-01T00:00:00Z";
    assert_int_equal(bc_refunds_pager(t.c, &rf, 2, &p, &e), MLC_OK);
    assert_non_null(strstr(p.url.s, "order_id:in=5,6&created:min=2024-01-01T00:00:00Z"));
    assert_int_equal(bc_pager_collect(&p, 100, &all, &e), MLC_OK);
    assert_int_equal(json_array_size(all), 5);
    assert_int_equal(counter(&F.refunds_calls), 3);
    json_decref(all);
    bc_pager_free(&p);
    assert_int_equal(bc_pager_init(&p, t.c, BC_PAGER_V3, &u, 251, &e), MLC_EINVAL);
    tc_close(&t);
}

static void test_transactions_and_products(void **state)
{
    struct tc t;
    json_t *tx = NULL;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_order_transactions(t.c, 1, &tx, &e), MLC_OK);
    assert_true(json_is_array(tx));
    assert_int_equal(json_array_size(tx), 0);
    json_decref(tx);
    assert_int_equal(bc_order_transactions(t.c, 2, &tx, &e), MLC_OK);
    assert_int_equal(json_array_size(tx), 2);
    json_decref(tx);
    tc_close(&t);
}

/* ---- 429 and retries ---------------------------------------------------- */

static void test_429_with_headers_waits_and_retries(void **state)
{
    struct tc t;
    struct bc_resp r;
    struct bc_url u;
    struct pacer_stats st;
    struct mlc_err e;
    json_t *body = json_pack("{s:i}", "x", 1);

    (void)state;
    tc_open(&t, 5000);
    F.fail429 = 2;
    bc_url_init(&u, "/v3/limited");
    /* a POST is re-sent after a 429: it was not processed */
    assert_int_equal(bc_call(t.c, "POST", &u, body, false, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(counter(&F.limited_calls), 3);
    assert_string_equal(F.ctype, "application/json");
    pacer_get_stats(t.pacer, &st);
    assert_int_equal(st.n429, 2);
    assert_int_equal(st.n429_bare, 0);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.granted, st.responses);
    bc_resp_clear(&r);
    bc_url_free(&u);
    json_decref(body);
    tc_close(&t);
}

static void test_429_without_headers_recovers(void **state)
{
    struct tc t;
    struct bc_resp r;
    struct bc_url u;
    struct pacer_stats st;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    F.bare429 = 3;
    bc_url_init(&u, "/v3/limited");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_OK);
    assert_int_equal(counter(&F.limited_calls), 4);
    pacer_get_stats(t.pacer, &st);
    assert_int_equal(st.n429_bare, 3);
    assert_int_equal(st.in_flight, 0);
    bc_resp_clear(&r);
    /* a storm longer than the attempts: the 429 is reported */
    fake_reset();
    F.bare429 = 100;
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_EBUSY);
    assert_int_equal(r.status, 429);
    assert_int_equal(counter(&F.limited_calls), 8);
    assert_non_null(strstr(e.msg, "429 Too Many Requests"));
    bc_resp_clear(&r);
    bc_url_free(&u);
    tc_close(&t);
}

static void test_5xx_retried_for_get_not_post(void **state)
{
    struct tc t;
    struct bc_resp r;
    struct bc_url u;
    struct mlc_err e;
    json_t *body = json_pack("{s:i}", "x", 1);

    (void)state;
    tc_open(&t, 5000);
    F.fail503 = 2;
    bc_url_init(&u, "/v3/flaky");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_OK);
    assert_int_equal(counter(&F.flaky_calls), 3);
    bc_resp_clear(&r);
    fake_reset();
    F.fail503 = 2;
    assert_int_equal(bc_call(t.c, "POST", &u, body, false, &r, &e), MLC_EBUSY);
    assert_int_equal(r.status, 503);
    assert_int_equal(counter(&F.flaky_calls), 1);
    assert_string_equal(e.msg, "POST /v3/flaky: 503 Store in maintenance");
    bc_resp_clear(&r);
    /* transient retries are capped (3 retries = 4 calls) */
    fake_reset();
    F.fail503 = 100;
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_EBUSY);
    assert_int_equal(counter(&F.flaky_calls), 4);
    bc_resp_clear(&r);
    bc_url_free(&u);
    json_decref(body);
    tc_close(&t);
}

/* What calls report to the health registry: 401 -> bigcommerce.auth until
 * a 2xx; 5xx after the retries -> bigcommerce.unreachable until any other
 * answer; nothing sent (pacer stopped) -> nothing said. */
static void test_health_conditions(void **state)
{
    struct tc t;
    struct health *h = NULL;
    struct mlc_secret *bad;
    struct bc_client *c;
    struct bc_store_info si;
    struct bc_resp r;
    struct bc_url u;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(health_new(&h, NULL), MLC_OK);
    assert_int_equal(secret_new("wrong", 5, &bad, &e), MLC_OK);
    assert_int_equal(bc_client_new(&t.cfg, bad, t.pacer, &c, &e), MLC_OK);
    bc_client_set_health(c, h);
    bc_client_set_health(t.c, h);
    assert_int_equal(bc_store_info(c, &si, &e), MLC_EAUTH);
    assert_true(health_is_set(h, HEALTH_BC_AUTH));
    assert_false(health_is_set(h, HEALTH_BC_DOWN));
    assert_int_equal(bc_store_info(t.c, &si, &e), MLC_OK); /* the token works again */
    bc_store_info_clear(&si);
    assert_false(health_is_set(h, HEALTH_BC_AUTH));

    F.fail503 = 100;
    bc_url_init(&u, "/v3/flaky");
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_EBUSY);
    bc_resp_clear(&r);
    assert_true(health_is_set(h, HEALTH_BC_DOWN));
    bc_url_free(&u);
    bc_url_init(&u, "/v2/orders/424242");  /* a 404 is an answer */
    assert_int_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_ENOTFOUND);
    bc_resp_clear(&r);
    assert_false(health_is_set(h, HEALTH_BC_DOWN));

    pacer_shutdown(t.pacer);
    health_set(h, HEALTH_BC_DOWN, "set by hand");
    assert_int_not_equal(bc_call(t.c, "GET", &u, NULL, true, &r, &e), MLC_OK);
    bc_resp_clear(&r);
    assert_true(health_is_set(h, HEALTH_BC_DOWN)); /* nothing was sent */
    bc_url_free(&u);
    bc_client_free(c);
    secret_free(bad);
    health_free(h);
    tc_close(&t);
}

/* ---- coalescing --------------------------------------------------------- */

/* Fewest intervals of width w covering sorted v[i..n), by trying every
 * split (independent of the greedy under test). */
static size_t brute_min(const int64_t *v, size_t i, size_t n, int64_t w)
{
    size_t best = SIZE_MAX;

    if (i == n)
        return 0;
    for (size_t k = i; k < n && v[k] - v[i] < w; k++) {
        size_t r = 1 + brute_min(v, k + 1, n, w);

        if (r < best)
            best = r;
    }
    return best;
}

static void test_coalesce_exhaustive(void **state)
{
    enum { U = 12 };

    (void)state;
    for (unsigned mask = 0; mask < (1u << U); mask++) {
        int64_t v[U];
        size_t n = 0;

        for (int b = 0; b < U; b++)
            if (mask & (1u << b))
                v[n++] = b + 1;
        for (int64_t w = 1; w <= 5; w++) {
            struct bc_id_range *r;
            size_t nr, covered = 0, j = 0;
            struct mlc_err e;

            assert_int_equal(bc_coalesce_ids(v, n, w, &r, &nr, &e), MLC_OK);
            assert_int_equal(nr, brute_min(v, 0, n, w));
            for (size_t k = 0; k < nr; k++) {
                assert_true(r[k].max_id - r[k].min_id < w);
                if (k > 0)
                    assert_true(r[k].min_id > r[k - 1].max_id);
                covered += r[k].n_ids;
                /* every id of the range is requested... */
                assert_int_equal(v[j], r[k].min_id);
                while (j < n && v[j] <= r[k].max_id)
                    j++;
                assert_int_equal(v[j - 1], r[k].max_id);
            }
            /* ...and every requested id is in exactly one range */
            assert_int_equal(covered, n);
            assert_int_equal(j, n);
            free(r);
        }
    }
}

static void test_coalesce_edges(void **state)
{
    int64_t unsorted[] = { 900, 3, 5, 3, 260, 901, 5 };
    int64_t bad[] = { 4, 0 };
    struct bc_id_range *r;
    size_t nr;
    struct mlc_err e;

    (void)state;
    assert_int_equal(bc_coalesce_ids(unsorted, 7, 250, &r, &nr, &e), MLC_OK);
    assert_int_equal(nr, 3);
    assert_int_equal(r[0].min_id, 3);
    assert_int_equal(r[0].max_id, 5);      /* 260 - 3 >= 250: a new range */
    assert_int_equal(r[0].n_ids, 2);
    assert_int_equal(r[1].min_id, 260);
    assert_int_equal(r[1].max_id, 260);
    assert_int_equal(r[1].n_ids, 1);
    assert_int_equal(r[2].min_id, 900);
    assert_int_equal(r[2].max_id, 901);
    assert_int_equal(r[2].n_ids, 2);
    free(r);
    /* widest range: exactly per_call ids apart is one call too many */
    {
        int64_t w[] = { 1, 250, 251 };

        assert_int_equal(bc_coalesce_ids(w, 3, 250, &r, &nr, &e), MLC_OK);
        assert_int_equal(nr, 2);
        assert_int_equal(r[0].max_id, 250);
        assert_int_equal(r[1].min_id, 251);
        free(r);
    }
    assert_int_equal(bc_coalesce_ids(bad, 2, 250, &r, &nr, &e), MLC_EINVAL);
    assert_int_equal(bc_coalesce_ids(unsorted, 7, 0, &r, &nr, &e), MLC_EINVAL);
    assert_int_equal(bc_coalesce_ids(unsorted, 7, 251, &r, &nr, &e), MLC_EINVAL);
    assert_int_equal(bc_coalesce_ids(NULL, 0, 250, &r, &nr, &e), MLC_OK);
    assert_null(r);
    assert_int_equal(nr, 0);
}

static void test_orders_by_ids(void **state)
{
    struct tc t;
    int64_t ids[] = { 901, 5, 3, 260, 900, 5000 };
    int64_t want[] = { 3, 5, 260, 900, 901 };
    json_t *all = NULL;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    F.n_orders = 1000;
    assert_int_equal(bc_orders_by_ids(t.c, ids, 6, true, &all, &e), MLC_OK);
    /* ranges 3..5, 260, 900..901, 5000 */
    assert_int_equal(counter(&F.orders_calls), 4);
    assert_int_equal(json_array_size(all), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "id")),
                         want[i]);
    json_decref(all);
    tc_close(&t);
}

/* ---- customers ---------------------------------------------------------- */

static void test_customers(void **state)
{
    struct tc t;
    struct bc_customer *v;
    size_t n;
    int64_t ids[] = { 2, 3 };
    struct bc_customer_filter f = { .ids = ids, .n_ids = 2, .addresses = true };
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_customers_list(t.c, &f, &v, &n, &e), MLC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, 2);
    assert_string_equal(v[0].email, "two@example.com");
    assert_string_equal(v[0].company, "");
    assert_int_equal(v[0].customer_group_id, 3);
    /* 10 embedded of 12: the rest was read */
    assert_int_equal(v[0].n_addresses, 12);
    assert_int_equal(counter(&F.addresses_calls), 1);
    assert_string_equal(v[0].addresses[11].city, "Lyon");
    assert_string_equal(v[0].addresses[11].address_type, "commercial");
    assert_int_equal(v[1].n_addresses, 1);
    bc_customers_free(v, n);
    /* without addresses, every customer */
    f.n_ids = 0;
    f.addresses = false;
    assert_int_equal(bc_customers_list(t.c, &f, &v, &n, &e), MLC_OK);
    assert_int_equal(n, 3);
    bc_customers_free(v, n);
    tc_close(&t);
}

/* ---- catalog ------------------------------------------------------------ */

static json_t *items(size_t n, const char *bad_at)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:I, s:i}", "id", (json_int_t)(1000 + i), "inventory_level", 5);

        if (bad_at != NULL && i == (size_t)strtol(bad_at, NULL, 10))
            json_object_set_new(o, "name", json_string("bad"));
        json_array_append_new(a, o);
    }
    return a;
}

static void test_variant_batches_of_50(void **state)
{
    struct tc t;
    struct bc_item_result *r;
    size_t n;
    json_t *a = items(120, NULL), *bad = json_pack("[{s:s}]", "sku", "x");
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_variants_update(t.c, a, &r, &n, &e), MLC_OK);
    assert_int_equal(n, 120);
    assert_int_equal(counter(&F.variants_puts), 3);
    assert_int_equal(counter(&F.max_batch), 50);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].status, 200);
        assert_int_equal(r[i].id, 1000 + (int64_t)i);
    }
    free(r);
    assert_int_equal(bc_variants_update(t.c, bad, &r, &n, &e), MLC_EINVAL);
    assert_null(r);
    json_decref(a);
    json_decref(bad);
    tc_close(&t);
}

static void test_product_batches_of_10_and_207(void **state)
{
    struct tc t;
    struct bc_item_result *r;
    size_t n;
    json_t *a = items(25, NULL), *b = items(4, "2");
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_products_update(t.c, a, &r, &n, &e), MLC_OK);
    assert_int_equal(counter(&F.products_puts), 3);
    assert_int_equal(counter(&F.max_batch), 10);
    free(r);
    assert_int_equal(bc_products_update(t.c, b, &r, &n, &e), MLC_EINVAL);
    assert_int_equal(n, 4);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(r[2].status, 422);
    assert_int_equal(r[2].code, MLC_EINVAL);
    assert_string_equal(r[2].msg, "name is not allowed");
    assert_int_equal(r[3].status, 200);
    assert_string_equal(e.msg, "1 of 4 products not saved; first, id 1002: name is not allowed");
    free(r);
    json_decref(a);
    json_decref(b);
    tc_close(&t);
}

static void test_product_create_lost_reply_not_resent(void **state)
{
    struct tc t;
    struct bc_product p;
    json_t *np = json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", "P-NEW", "sku", "P-NEW", "type",
                           "physical", "weight", 1, "price", 10);
    struct mlc_err e;

    (void)state;
    tc_open(&t, 300);
    F.slow_create_ms = 800;   /* created, but the reply comes after the timeout */
    assert_int_equal(bc_product_create(t.c, np, &p, &e), MLC_OK);
    assert_int_equal(counter(&F.products_posts), 1);
    assert_int_equal(p.id, 13);
    assert_string_equal(p.sku, "P-NEW");
    assert_int_equal(p.n_variants, 1);
    bc_product_clear(&p);
    /* a quick create */
    fake_reset();
    assert_int_equal(bc_product_create(t.c, np, &p, &e), MLC_OK);
    assert_int_equal(counter(&F.products_posts), 1);
    assert_int_equal(counter(&F.products_gets), 0);
    bc_product_clear(&p);
    json_object_del(np, "sku");
    assert_int_equal(bc_product_create(t.c, np, &p, &e), MLC_EINVAL);
    json_decref(np);
    tc_close(&t);
}

static void test_sku_index_pure(void **state)
{
    struct bc_catalog_index *x;
    int64_t pid, vid;
    struct mlc_err e;
    char sku[32];

    (void)state;
    assert_int_equal(bc_catalog_index_new(&x, &e), MLC_OK);
    assert_false(bc_catalog_index_get(x, "A", &pid, &vid));
    assert_int_equal(bc_catalog_index_put(x, "A", 1, 2, &e), MLC_OK);
    assert_true(bc_catalog_index_get(x, "A", &pid, &vid));
    assert_int_equal(pid, 1);
    assert_int_equal(vid, 2);
    assert_int_equal(bc_catalog_index_put(x, "A", 3, 4, &e), MLC_OK);
    assert_true(bc_catalog_index_get(x, "A", &pid, &vid));
    assert_int_equal(vid, 4);
    assert_int_equal(bc_catalog_index_put(x, "", 3, 4, &e), MLC_EINVAL);
    for (int i = 0; i < 1000; i++) {
        snprintf(sku, sizeof(sku), "SKU-%d", i);
        assert_int_equal(bc_catalog_index_put(x, sku, i, i + 1, &e), MLC_OK);
    }
    assert_int_equal(bc_catalog_index_size(x), 1001);
    for (int i = 0; i < 1000; i += 37) {
        snprintf(sku, sizeof(sku), "SKU-%d", i);
        assert_true(bc_catalog_index_get(x, sku, &pid, &vid));
        assert_int_equal(pid, i);
        assert_int_equal(vid, i + 1);
    }
    bc_catalog_index_invalidate(x, "SKU-5");
    assert_false(bc_catalog_index_get(x, "SKU-5", NULL, NULL));
    assert_true(bc_catalog_index_get(x, "SKU-6", NULL, NULL));
    assert_int_equal(bc_catalog_index_size(x), 1000);
    bc_catalog_index_invalidate(x, NULL);
    assert_int_equal(bc_catalog_index_size(x), 0);
    assert_false(bc_catalog_index_get(x, "A", NULL, NULL));
    bc_catalog_index_free(x);
}

static void test_sku_index_resolve(void **state)
{
    struct tc t;
    struct bc_catalog_index *x;
    const char *skus[] = { "P-1", "P-2-RED", "NOPE" };
    int64_t pid, vid;
    size_t miss;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_catalog_index_new(&x, &e), MLC_OK);
    assert_int_equal(bc_catalog_resolve(t.c, x, skus, 3, &miss, &e), MLC_OK);
    assert_int_equal(miss, 1);
    /* one sku:in call, then one variants call per SKU not found (P-2-RED, NOPE) */
    assert_int_equal(counter(&F.products_gets), 1);
    assert_int_equal(counter(&F.variants_gets), 2);
    assert_true(bc_catalog_index_get(x, "P-1", &pid, &vid));
    assert_int_equal(pid, 11);
    assert_int_equal(vid, 111);
    assert_true(bc_catalog_index_get(x, "P-2-RED", &pid, &vid));
    assert_int_equal(pid, 12);
    assert_int_equal(vid, 121);
    /* P-2-RED's variant call filled nothing else; P-2 itself is unknown */
    assert_false(bc_catalog_index_get(x, "NOPE", NULL, NULL));
    /* again: known SKUs cost nothing */
    fake_reset();
    assert_int_equal(bc_catalog_resolve(t.c, x, skus, 2, &miss, &e), MLC_OK);
    assert_int_equal(miss, 0);
    assert_int_equal(counter(&F.products_gets) + counter(&F.variants_gets), 0);
    /* a product SKU brings every variant of the product */
    {
        const char *p2[] = { "P-2" };

        assert_int_equal(bc_catalog_resolve(t.c, x, p2, 1, &miss, &e), MLC_OK);
        assert_int_equal(miss, 0);
        assert_true(bc_catalog_index_get(x, "P-2-BLUE", &pid, &vid));
        assert_int_equal(vid, 122);
        assert_true(bc_catalog_index_get(x, "P-2", &pid, &vid));
        assert_int_equal(pid, 12);
        assert_int_equal(vid, 0);   /* several variants: no base */
    }
    bc_catalog_index_invalidate(x, "P-1");
    fake_reset();
    assert_int_equal(bc_catalog_resolve(t.c, x, skus, 1, &miss, &e), MLC_OK);
    assert_int_equal(counter(&F.products_gets), 1);
    bc_catalog_index_free(x);
    tc_close(&t);
}

/* ---- hooks -------------------------------------------------------------- */

static void test_hooks(void **state)
{
    struct tc t;
    struct mlc_secret *key;
    struct bc_hook h, *v;
    struct bc_hooks_admin a;
    size_t n;
    struct bc_hook_spec s = { .scope = "store/order/created",
                              .destination = "https://erp.example.com/webhooks/bigcommerce",
                              .is_active = true, .header_name = "X-Hook-Key" };
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(secret_new(HOOK_KEY, strlen(HOOK_KEY), &key, &e), MLC_OK);
    s.header_value = key;
    assert_int_equal(bc_hook_create(t.c, &s, &h, &e), MLC_OK);
    assert_string_equal(F.hook_header, HOOK_KEY);
    assert_int_equal(h.id, 1001);
    assert_true(h.is_active);
    assert_string_equal(h.scope, "store/order/created");
    bc_hook_clear(&h);
    assert_int_equal(bc_hooks_list(t.c, &v, &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].destination, s.destination);
    bc_hooks_free(v, n);
    assert_int_equal(bc_hook_set_active(t.c, 1001, false, &h, &e), MLC_OK);
    assert_false(h.is_active);
    bc_hook_clear(&h);
    assert_int_equal(bc_hooks_admin(t.c, &a, &e), MLC_OK);
    assert_int_equal(a.n_emails, 1);
    assert_string_equal(a.emails[0], "ops@example.com");
    assert_int_equal(a.n_hooks, 1);
    assert_false(a.hooks[0].is_active);
    assert_string_equal(a.hooks[0].status, "active");
    assert_int_equal(a.n_blocked, 1);
    assert_string_equal(a.blocked[0].destination, "https://erp.example.com");
    assert_int_equal(a.blocked[0].time_left_s, 120);
    assert_string_equal(a.blocked[0].reason, "timeouts");
    bc_hooks_admin_clear(&a);
    assert_int_equal(bc_hook_delete(t.c, 1001, &e), MLC_OK);
    assert_int_equal(bc_hook_delete(t.c, 1001, &e), MLC_ENOTFOUND);
    assert_int_equal(bc_hooks_list(t.c, &v, &n, &e), MLC_OK);
    assert_int_equal(n, 0);
    secret_free(key);
    tc_close(&t);
}

/* ---- probe -------------------------------------------------------------- */

static void test_probe(void **state)
{
    struct tc t;
    struct bc_probe_result res[BC_PROBE_MAX];
    size_t n;
    struct mlc_err e;

    (void)state;
    tc_open(&t, 5000);
    assert_int_equal(bc_probe(t.c, res, &n, &e), MLC_OK);
    assert_int_equal(n, 8);
    assert_string_equal(res[2].resource, "transactions");
    assert_int_equal(res[2].verdict, BC_PROBE_SKIPPED);   /* no orders */
    for (size_t i = 0; i < n; i++)
        if (i != 2)
            assert_int_equal(res[i].verdict, BC_PROBE_OK);
    fake_reset();
    F.n_orders = 3;
    F.forbid_customers = true;
    assert_int_equal(bc_probe(t.c, res, &n, &e), MLC_EAUTH);
    assert_int_equal(res[2].verdict, BC_PROBE_OK);   /* order 3's transactions */
    assert_string_equal(res[4].resource, "customers");
    assert_int_equal(res[4].verdict, BC_PROBE_FORBIDDEN);
    assert_int_equal(res[4].status, 403);
    assert_non_null(strstr(res[4].msg, "store_v2_customers_read_only"));
    assert_non_null(strstr(e.msg, "customers (forbidden)"));
    assert_string_equal(bc_verdict_name(res[4].verdict), "forbidden");
    tc_close(&t);
}

/* ---- against the BigCommerce simulator ---------------------------------- */

#define SIM_SEED  "sim/seed/bigcommerce.json"
#define SIM_TOKEN "sim-token-for-bc-client"

struct simfx {
    struct bcsim          *sim;
    char                   base[96];
    struct cfg_bigcommerce cfg;
    struct mlc_secret     *tok;
    struct pacer          *pacer;
    struct bc_client      *c;
};

static struct simfx SIMF;

/* Starts the simulator and a client of it (called by the group setup). */
static int sim_setup(void)
{
    struct simfx *f = &SIMF;
    json_error_t je;
    json_t *doc = json_load_file(SIM_SEED, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce"), *set = json_object_get(seed, "settings");
    struct mlc_err e = { 0 };
    int rc;

    memset(f, 0, sizeof(*f));
    if (set == NULL) {
        fprintf(stderr, "sim_setup: %s: %s\n", SIM_SEED, je.text);
        json_decref(doc);
        return -1;
    }
    json_object_set_new(set, "store_hash", json_string("bcc"));
    json_object_set_new(set, "access_token", json_string(SIM_TOKEN));
    /* a large quota: pacing is tested elsewhere, keep this fast */
    json_object_set_new(set, "rate_quota", json_integer(100000));
    json_object_set_new(set, "rate_window_ms", json_integer(600000));
    json_object_set_new(set, "clock_frozen", json_true());
    rc = bcsim_start("127.0.0.1:0", seed, &f->sim, &e);
    json_decref(doc);
    if (rc != MLC_OK) {
        fprintf(stderr, "bcsim_start: %s\n", e.msg);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u/stores/bcc",
             (unsigned)bcsim_port(f->sim));
    f->cfg.api_base_url = f->base;
    f->cfg.timeout_ms = 10000;
    if (secret_new(SIM_TOKEN, strlen(SIM_TOKEN), &f->tok, &e) != MLC_OK ||
        pacer_new(NULL, &f->pacer, &e) != MLC_OK ||
        bc_client_new(&f->cfg, f->tok, f->pacer, &f->c, &e) != MLC_OK) {
        fprintf(stderr, "sim_setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static void sim_teardown(void)
{
    struct simfx *f = &SIMF;

    bc_client_free(f->c);
    pacer_free(f->pacer);
    secret_free(f->tok);
    bcsim_free(f->sim);
}

static void test_sim_orders_with_line_items(void **state)
{
    struct simfx *f = &SIMF;
    struct bc_order_filter flt = BC_ORDER_FILTER_INIT;
    struct bc_pager p;
    json_t *all = NULL;
    struct order *v = NULL;
    size_t n = 0;
    struct mlc_err e;

    (void)state;
    assert_int_equal(bc_orders_pager(f->c, &flt, 250, &p, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 1000, &all, &e), MLC_OK);
    bc_pager_free(&p);
    assert_int_equal(json_array_size(all), 6);
    if (bcd_orders(all, &v, &n, &e) != MLC_OK)
        fail_msg("bcd_orders: %s", e.msg);
    assert_int_equal(n, 6);
    assert_int_equal(v[0].id, 100);
    assert_true(v[0].have_products);     /* embedded line items */
    assert_int_equal(v[0].n_products, 2);
    bcd_orders_free(v, n);
    json_decref(all);
}

static void test_sim_order_load_and_refunds(void **state)
{
    struct simfx *f = &SIMF;
    struct order o;
    struct order_refund *r = NULL;
    size_t nr = 0;
    int64_t ids[] = { 105, 100, 102 };
    struct bc_refund_filter rf = { .order_ids = &ids[0], .n_order_ids = 3 };
    struct bc_pager p;
    json_t *all = NULL;
    struct mlc_err e;
    uint64_t before;

    (void)state;
    if (bc_order_load(f->c, 100, &o, &e) != MLC_OK)
        fail_msg("bc_order_load: %s", e.msg);
    assert_int_equal(o.id, 100);
    assert_int_equal(o.n_products, 2);
    assert_true(o.have_txns);
    assert_int_equal(o.n_txns, 1);
    order_clear(&o);
    if (bc_order_load(f->c, 101, &o, &e) != MLC_OK)
        fail_msg("bc_order_load: %s", e.msg);
    if (bc_order_load_refunds(f->c, &o, &r, &nr, &e) != MLC_OK)
        fail_msg("bc_order_load_refunds: %s", e.msg);
    assert_int_equal(nr, 1);
    order_refunds_free(r, nr);
    order_clear(&o);
    assert_int_equal(bc_refunds_pager(f->c, &rf, 250, &p, &e), MLC_OK);
    assert_int_equal(bc_pager_collect(&p, 100, &all, &e), MLC_OK);
    assert_int_equal(json_array_size(all), 0);    /* the refund is on 101 */
    json_decref(all);
    bc_pager_free(&p);
    /* ranged coalescing: one call for three ids */
    before = bc_client_requests(f->c);
    assert_int_equal(bc_orders_by_ids(f->c, ids, 3, true, &all, &e), MLC_OK);
    assert_int_equal(bc_client_requests(f->c) - before, 1);
    assert_int_equal(json_array_size(all), 3);
    json_decref(all);
    assert_int_equal(bc_order_get(f->c, 99999, &all, &e), MLC_ENOTFOUND);
}

static void test_sim_probe(void **state)
{
    struct simfx *f = &SIMF;
    struct bc_probe_result res[BC_PROBE_MAX];
    size_t n;
    struct mlc_err e;

    (void)state;
    if (bc_probe(f->c, res, &n, &e) != MLC_OK)
        fail_msg("bc_probe: %s", e.msg);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(res[i].verdict, BC_PROBE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_bad_args),
        cmocka_unit_test(test_headers_and_store_info),
        cmocka_unit_test(test_token_never_logged),
        cmocka_unit_test(test_error_messages_pure),
        cmocka_unit_test(test_error_bodies_live),
        cmocka_unit_test(test_wrong_token_is_eauth),
        cmocka_unit_test(test_url_builder),
        cmocka_unit_test(test_v2_paging_stops_on_204),
        cmocka_unit_test(test_v2_paging_stops_on_short_page),
        cmocka_unit_test(test_v3_paging_meta),
        cmocka_unit_test(test_transactions_and_products),
        cmocka_unit_test(test_429_with_headers_waits_and_retries),
        cmocka_unit_test(test_429_without_headers_recovers),
        cmocka_unit_test(test_5xx_retried_for_get_not_post),
        cmocka_unit_test(test_health_conditions),
        cmocka_unit_test(test_coalesce_exhaustive),
        cmocka_unit_test(test_coalesce_edges),
        cmocka_unit_test(test_orders_by_ids),
        cmocka_unit_test(test_customers),
        cmocka_unit_test(test_variant_batches_of_50),
        cmocka_unit_test(test_product_batches_of_10_and_207),
        cmocka_unit_test(test_product_create_lost_reply_not_resent),
        cmocka_unit_test(test_sku_index_pure),
        cmocka_unit_test(test_sku_index_resolve),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_sim_orders_with_line_items),
        cmocka_unit_test(test_sim_order_load_and_refunds),
        cmocka_unit_test(test_sim_probe),
    };

    return cmocka_run_group_tests_name("bc_client", tests, setup, teardown);
}
