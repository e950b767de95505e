/*
 * Unit tests: the BigCommerce simulator over loopback HTTP with libcurl,
 * seeded from sim/seed/bigcommerce.json (run from the repository root).
 * Webhooks go to a small receiver built on net/httpd; the test verifies
 * their Standard Webhooks signature itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "bc/bcsim.h"
#include "core/log.h"
#include "net/httpd.h"

#define SEED_FILE "sim/seed/bigcommerce.json"
#define TOKEN     "tok-test"
#define SECRET    "whsec-test-secret"
#define HASH      "teststore"

/* ---- HTTP client -------------------------------------------------------- */

struct reply {
    long   status;
    char  *body;
    size_t len;
    char   headers[4096];
    size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n;
    char *nb = realloc(r->body, r->len + k + 1);

    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, k);
    r->body = nb;
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n;

    if (r->hlen + k < sizeof(r->headers)) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

static void reply_free(struct reply *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Value of a response header (case-insensitive name) into buf; false when absent. */
static bool reply_header(const struct reply *r, const char *name, char *buf, size_t cap)
{
    const char *p = r->headers;
    size_t n = strlen(name);

    while (p != NULL && *p != '\0') {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *end;

            while (*v == ' ')
                v++;
            end = strpbrk(v, "\r\n");
            snprintf(buf, cap, "%.*s", (int)(end != NULL ? end - v : (long)strlen(v)), v);
            return true;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return false;
}

/* One request; token NULL sends none; hdr_name lets a test pick the case. */
static void call(uint16_t port, const char *method, const char *path, const char *body,
                 const char *hdr_name, const char *token, struct reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[1024], line[256];

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    if (token != NULL) {
        snprintf(line, sizeof(line), "%s: %s", hdr_name, token);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* API call with the right token; returns the parsed body (NULL if none). */
static json_t *api(uint16_t port, const char *method, const char *path, const char *body,
                   long *status)
{
    struct reply r;
    char full[1024];
    json_t *j = NULL;

    snprintf(full, sizeof(full), "/stores/" HASH "%s", path);
    call(port, method, full, body, "X-Auth-Token", TOKEN, &r);
    *status = r.status;
    if (r.len > 0) {
        j = json_loads(r.body, 0, NULL);
        assert_non_null(j);
    }
    reply_free(&r);
    return j;
}

static json_t *ctl(uint16_t port, const char *method, const char *path, const char *body,
                   long *status)
{
    struct reply r;
    char full[256];
    json_t *j = NULL;

    snprintf(full, sizeof(full), "/__sim%s", path);
    call(port, method, full, body, "X-Ignored", NULL, &r);
    *status = r.status;
    if (r.len > 0)
        j = json_loads(r.body, 0, NULL);
    reply_free(&r);
    return j;
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct bcsim *sim;
    uint16_t      port;
};

static int start_with(void **state, int64_t quota)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_error_t je;
    json_t *doc = json_load_file(SEED_FILE, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce");
    json_t *set;
    struct mlc_err e = { 0 };

    assert_non_null(f);
    assert_non_null(seed);
    set = json_object_get(seed, "settings");
    json_object_set_new(set, "store_hash", json_string(HASH));
    json_object_set_new(set, "access_token", json_string(TOKEN));
    json_object_set_new(set, "client_secret", json_string(SECRET));
    json_object_set_new(set, "rate_quota", json_integer(quota));
    json_object_set_new(set, "rate_window_ms", json_integer(600000));
    json_object_set_new(set, "webhook_retry_scale", json_real(0.000001));
    json_object_set_new(set, "webhook_timeout_ms", json_integer(2000));
    json_object_set_new(set, "clock_frozen", json_true());
    if (bcsim_start("127.0.0.1:0", seed, &f->sim, &e) != MLC_OK)
        fail_msg("bcsim_start: %s", e.msg);
    json_decref(doc);
    f->port = bcsim_port(f->sim);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start_with(state, 0);
}

static int teardown(void **state)
{
    struct fx *f = *state;

    bcsim_free(f->sim);
    free(f);
    return 0;
}

/* ---- auth, rate limits, errors ------------------------------------------ */

static void test_auth(void **state)
{
    struct fx *f = *state;
    struct reply r;
    json_t *j;

    call(f->port, "GET", "/stores/" HASH "/v2/orders", NULL, "X-Auth-Token", NULL, &r);
    assert_int_equal(r.status, 401);
    j = json_loads(r.body, 0, NULL);
    assert_true(json_is_array(j));   /* v2 errors are arrays */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "status")), 401);
    json_decref(j);
    reply_free(&r);

    call(f->port, "GET", "/stores/" HASH "/v3/customers", NULL, "X-Auth-Token", "wrong", &r);
    assert_int_equal(r.status, 401);
    j = json_loads(r.body, 0, NULL);
    assert_true(json_is_object(j));  /* v3 errors are objects */
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 401);
    assert_non_null(json_object_get(j, "title"));
    json_decref(j);
    reply_free(&r);

    /* Header names are case-insensitive. */
    call(f->port, "GET", "/stores/" HASH "/v2/orders/100", NULL, "x-auth-token", TOKEN, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* Unknown store hash and unknown paths. */
    call(f->port, "GET", "/stores/other/v2/orders", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    call(f->port, "GET", "/stores/" HASH "/v2/orders/999999", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    call(f->port, "DELETE", "/stores/" HASH "/v2/order_statuses", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 405);
    reply_free(&r);
}

static void test_rate_limit(void **state)
{
    struct fx *f;
    struct reply r;
    char v[64];

    (void)state;
    start_with((void **)&f, 3);
    for (int i = 0; i < 3; i++) {
        call(f->port, "GET", "/stores/" HASH "/v2/order_statuses", NULL, "X-Auth-Token", TOKEN, &r);
        assert_int_equal(r.status, 200);
        assert_true(reply_header(&r, "X-Rate-Limit-Requests-Quota", v, sizeof(v)));
        assert_string_equal(v, "3");
        assert_true(reply_header(&r, "x-rate-limit-requests-left", v, sizeof(v)));
        assert_int_equal(strtol(v, NULL, 10), 2 - i);
        assert_true(reply_header(&r, "X-Rate-Limit-Time-Window-Ms", v, sizeof(v)));
        assert_string_equal(v, "600000");
        assert_true(reply_header(&r, "X-Rate-Limit-Time-Reset-Ms", v, sizeof(v)));
        assert_true(strtol(v, NULL, 10) > 0);
        reply_free(&r);
    }
    call(f->port, "GET", "/stores/" HASH "/v2/order_statuses", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 429);
    assert_true(reply_header(&r, "X-Rate-Limit-Requests-Left", v, sizeof(v)));
    assert_string_equal(v, "0");
    assert_true(reply_header(&r, "X-Rate-Limit-Time-Reset-Ms", v, sizeof(v)));
    reply_free(&r);

    /* 429 without headers (platform load) by fault injection. */
    {
        long st;
        json_t *j = ctl(f->port, "POST", "/rate", "{\"quota\":0}", &st);

        assert_int_equal(st, 200);
        json_decref(j);
        j = ctl(f->port, "POST", "/faults", "{\"throttle_next\":1}", &st);
        json_decref(j);
    }
    call(f->port, "GET", "/stores/" HASH "/v2/order_statuses", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 429);
    assert_false(reply_header(&r, "X-Rate-Limit-Requests-Left", v, sizeof(v)));
    reply_free(&r);
    call(f->port, "GET", "/stores/" HASH "/v2/order_statuses", NULL, "X-Auth-Token", TOKEN, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    teardown((void **)&f);
}

static void test_faults_5xx(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j = ctl(f->port, "POST", "/faults", "{\"error_next\":2,\"error_status\":503}", &st);

    assert_int_equal(st, 200);
    json_decref(j);
    j = api(f->port, "GET", "/v2/orders/100", NULL, &st);
    assert_int_equal(st, 503);
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers", NULL, &st);
    assert_int_equal(st, 503);
    assert_true(json_is_object(j));
    json_decref(j);
    j = api(f->port, "GET", "/v2/orders/100", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(j);
}

/* ---- v2 orders ---------------------------------------------------------- */

static void test_orders_paging(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j;
    struct reply r;

    j = api(f->port, "GET", "/v2/orders?limit=2&page=1", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(j), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "id")), 100);
    json_decref(j);
    j = api(f->port, "GET", "/v2/orders?limit=2&page=3", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 1), "id")), 105);
    json_decref(j);

    /* Past the end: 204 with an empty body. */
    call(f->port, "GET", "/stores/" HASH "/v2/orders?limit=2&page=4", NULL, "X-Auth-Token",
         TOKEN, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    reply_free(&r);
    /* No match at all: 204 too. */
    j = api(f->port, "GET", "/v2/orders?min_id=500", NULL, &st);
    assert_int_equal(st, 204);
    assert_null(j);
    /* Bad parameters: 400 in the v2 shape. */
    j = api(f->port, "GET", "/v2/orders?limit=abc", NULL, &st);
    assert_int_equal(st, 400);
    assert_true(json_is_array(j));
    json_decref(j);
}

static void test_orders_filters(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j;

    j = api(f->port, "GET", "/v2/orders?status_id=11", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(j), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "id")), 100);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 1), "id")), 104);
    json_decref(j);

    j = api(f->port, "GET", "/v2/orders?min_id=101&max_id=103&sort=id:desc", NULL, &st);
    assert_int_equal(json_array_size(j), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "id")), 103);
    json_decref(j);

    /* RFC 2822, URL-encoded once, and ISO 8601. */
    j = api(f->port, "GET", "/v2/orders?min_date_created=Fri%2C%2027%20Nov%202026%2000%3A00%3A00%20%2B0000",
            NULL, &st);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    j = api(f->port, "GET", "/v2/orders?min_date_modified=2026-11-27T12:00:00Z"
            "&max_date_modified=2026-11-27T18:00:00Z", NULL, &st);
    assert_int_equal(json_array_size(j), 2); /* 101 (17:40), 103 (13:00) */
    json_decref(j);

    j = api(f->port, "GET", "/v2/orders/count", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 6);
    json_decref(j);
}

static void test_order_representation(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j, *c, *li;

    j = api(f->port, "GET", "/v2/orders/100?include=consignments.line_items,fees", NULL, &st);
    assert_int_equal(st, 200);
    /* 50.00 + 28.50 + 9.95 - 10.00 coupon + 6.28 tax */
    assert_string_equal(json_string_value(json_object_get(j, "total_inc_tax")), "84.7300");
    assert_string_equal(json_string_value(json_object_get(j, "coupon_discount")), "10.0000");
    assert_string_equal(json_string_value(json_object_get(j, "date_created")),
                        "Wed, 25 Nov 2026 15:04:10 +0000");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "Awaiting Fulfillment");
    c = json_object_get(j, "consignments");
    li = json_object_get(json_array_get(json_object_get(c, "shipping"), 0), "line_items");
    assert_int_equal(json_array_size(li), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(li, 0), "sku")),
                        "NW-SOAP-6PK");
    assert_true(json_is_array(json_object_get(j, "fees")));
    json_decref(j);

    j = api(f->port, "GET", "/v2/orders/100/products", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(j), 2);
    /* The coupon is shared over the lines in cents: 6.37 of 54.00 and 3.63 of 30.78. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0),
                                                          "discounted_total_inc_tax")), "47.6300");
    json_decref(j);

    j = api(f->port, "GET", "/v2/orders/102", NULL, &st);
    assert_string_equal(json_string_value(json_object_get(j, "currency_code")), "CAD");
    assert_string_equal(json_string_value(json_object_get(j, "store_default_currency_code")), "USD");
    assert_string_equal(json_string_value(json_object_get(
                            j, "store_default_to_transactional_exchange_rate")), "1.3600000000");
    json_decref(j);

    j = api(f->port, "GET", "/v2/orders/105/fees", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "fees")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v2/orders/101/coupons", NULL, &st);
    assert_int_equal(st, 204);
    j = api(f->port, "GET", "/v2/orders/100/shipping_addresses", NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "cost_ex_tax")),
                        "9.9500");
    json_decref(j);
    j = api(f->port, "GET", "/v2/order_statuses", NULL, &st);
    assert_int_equal(json_array_size(j), 15);
    json_decref(j);
    j = api(f->port, "GET", "/v2/store", NULL, &st);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Northwind Home Goods");
    json_decref(j);
}

/* ---- v3 ----------------------------------------------------------------- */

static void test_transactions(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j, *t;

    j = api(f->port, "GET", "/v3/orders/103/transactions", NULL, &st);
    assert_int_equal(st, 204);   /* unpaid: none */
    assert_null(j);
    j = api(f->port, "GET", "/v3/orders/101/transactions", NULL, &st);
    assert_int_equal(st, 200);
    /* Two purchases (gift certificate + card) and the refund. */
    assert_int_equal(json_array_size(json_object_get(j, "data")), 3);
    t = json_array_get(json_object_get(j, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "method")), "gift_certificate");
    assert_true(json_is_real(json_object_get(t, "amount")));
    assert_string_equal(json_string_value(json_object_get(t, "order_id")), "101");
    json_decref(j);
    j = api(f->port, "GET", "/v3/orders/999/transactions", NULL, &st);
    assert_int_equal(st, 404);
    json_decref(j);
}

static void test_refunds(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j, *r;

    j = api(f->port, "GET", "/v3/orders/payment_actions/refunds?order_id:in=100,101", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    r = json_array_get(json_object_get(j, "data"), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "order_id")), 101);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "meta"), "pagination"), "total")), 1);
    json_decref(j);

    /* Add one through the control API; created:min filters by time. */
    j = ctl(f->port, "POST", "/refunds",
            "{\"order_id\":104,\"items\":[{\"item_type\":\"ORDER\",\"item_id\":104,"
            "\"amount\":\"5.00\"}]}", &st);
    assert_int_equal(st, 201);
    json_decref(j);
    j = api(f->port, "GET", "/v3/orders/payment_actions/refunds?created:min=2026-11-28T00:00:00Z",
            NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v3/orders/payment_actions/refunds?limit=1&page=2", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v3/orders/104/payment_actions/refunds", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    /* Over-refunding is refused. */
    j = ctl(f->port, "POST", "/refunds",
            "{\"order_id\":104,\"items\":[{\"item_type\":\"ORDER\",\"item_id\":104,"
            "\"amount\":\"500.00\"}]}", &st);
    assert_int_equal(st, 400);
    json_decref(j);
    j = api(f->port, "GET", "/v3/orders/payment_actions/refunds?order_id:in=abc", NULL, &st);
    assert_int_equal(st, 422);
    json_decref(j);
}

static void test_customers(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j, *pg;

    j = api(f->port, "GET", "/v3/customers?limit=2", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 2);
    pg = json_object_get(json_object_get(j, "meta"), "pagination");
    assert_int_equal(json_integer_value(json_object_get(pg, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(pg, "total_pages")), 2);
    assert_null(json_object_get(json_array_get(json_object_get(j, "data"), 0), "addresses"));
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers?limit=2&page=2&include=addresses", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(j, "data"), 0),
                                                     "addresses")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers?email:in=PURCHASING@acme-corner.example", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers?id:in=1,3&date_modified:min=2026-11-10T00:00:00Z", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers/addresses?customer_id:in=2", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 2);
    json_decref(j);
}

/* ---- catalog ------------------------------------------------------------ */

/* "[{"id":111,"price":9.99},...]" (with_price) or "[{"id":111},...]". */
static char *batch_body(int n, bool with_price)
{
    size_t cap = (size_t)n * 64 + 8, len = 1;
    char *b = malloc(cap);

    assert_non_null(b);
    b[0] = '[';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s{\"id\":%d%s}", i == 0 ? "" : ",",
                                111 + (i % 5), with_price ? ",\"price\":9.99" : "");
    snprintf(b + len, cap - len, "]");
    return b;
}

static void test_catalog(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j;
    char *b;

    j = api(f->port, "GET", "/v3/catalog/products?sku=NW-POD&include=variants", NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(j, "data"), 0),
                                                     "variants")), 2);
    json_decref(j);
    j = api(f->port, "GET", "/v3/catalog/products?sku:in=NW-SOAP-6PK,NW-DISH-1L", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 2);
    json_decref(j);
    j = api(f->port, "GET", "/v3/catalog/variants?sku=NW-POD-84", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);

    b = batch_body(11, true);
    j = api(f->port, "PUT", "/v3/catalog/products", b, &st);
    assert_int_equal(st, 413);
    json_decref(j);
    free(b);
    b = batch_body(51, false);
    j = api(f->port, "PUT", "/v3/catalog/variants", b, &st);
    assert_int_equal(st, 413);
    json_decref(j);
    free(b);

    j = api(f->port, "POST", "/v3/catalog/products",
            "{\"name\":\"New soap\",\"type\":\"physical\",\"weight\":1,\"price\":3.5,"
            "\"sku\":\"NW-SOAP-6PK\"}", &st);
    assert_int_equal(st, 409);   /* duplicate SKU */
    json_decref(j);
    j = api(f->port, "POST", "/v3/catalog/products",
            "{\"name\":\"Dish Liquid 1 L\",\"type\":\"physical\",\"weight\":1,\"price\":3.5}", &st);
    assert_int_equal(st, 409);   /* duplicate name */
    json_decref(j);
    j = api(f->port, "POST", "/v3/catalog/products", "{\"name\":\"No price\",\"type\":\"physical\"}",
            &st);
    assert_int_equal(st, 422);
    json_decref(j);
    j = api(f->port, "POST", "/v3/catalog/products",
            "{\"name\":\"Bamboo Brush\",\"type\":\"physical\",\"weight\":0.2,\"price\":3.5,"
            "\"sku\":\"NW-BRUSH\"}", &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_real_value(json_object_get(json_object_get(j, "data"), "price")) * 10, 35);
    json_decref(j);

    /* 207: one good update, one duplicate SKU. */
    j = api(f->port, "PUT", "/v3/catalog/products",
            "[{\"id\":111,\"price\":13.25},{\"id\":112,\"sku\":\"NW-TOWEL-12\"}]", &st);
    assert_int_equal(st, 207);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    assert_non_null(json_object_get(j, "errors"));
    json_decref(j);
    j = api(f->port, "PUT", "/v3/catalog/variants", "[{\"id\":1142,\"price\":33.5}]", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = api(f->port, "PUT", "/v3/catalog/variants", "[{\"id\":1142,\"price\":\"x\"}]", &st);
    assert_int_equal(st, 422);
    assert_non_null(json_object_get(j, "batch_errors"));
    json_decref(j);
}

/* ---- webhooks ----------------------------------------------------------- */

#define RX_MAX 32

struct rx_msg {
    char id[64], ts[32], sig[160], key[64];
    char body[2048];
};

struct receiver {
    pthread_mutex_t mu;
    int             status;      /* what to answer */
    int             n;
    struct rx_msg   msgs[RX_MAX];
    struct httpd   *h;
};

static void rx_handler(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct receiver *rx = ctx;
    const char *v;
    int status;

    pthread_mutex_lock(&rx->mu);
    if (rx->n < RX_MAX) {
        struct rx_msg *m = &rx->msgs[rx->n];

        snprintf(m->id, sizeof(m->id), "%s", (v = httpd_req_header(rq, "webhook-id")) ? v : "");
        snprintf(m->ts, sizeof(m->ts), "%s", (v = httpd_req_header(rq, "webhook-timestamp")) ? v : "");
        snprintf(m->sig, sizeof(m->sig), "%s", (v = httpd_req_header(rq, "webhook-signature")) ? v : "");
        snprintf(m->key, sizeof(m->key), "%s", (v = httpd_req_header(rq, "X-Hook-Key")) ? v : "");
        snprintf(m->body, sizeof(m->body), "%s", httpd_req_body(rq, NULL));
    }
    rx->n++;
    status = rx->status;
    pthread_mutex_unlock(&rx->mu);
    httpd_resp_static(rs, status, "application/json", "{}");
}

static void rx_start(struct receiver *rx, int status)
{
    struct httpd_route rt = { "POST", "/hook", rx_handler, rx };
    struct httpd_opts o = { .listen = "127.0.0.1:0", .threads = 1, .connection_timeout_s = 5,
                            .max_body_bytes = 65536 };

    memset(rx, 0, sizeof(*rx));
    pthread_mutex_init(&rx->mu, NULL);
    rx->status = status;
    assert_int_equal(httpd_start(&o, &rt, 1, &rx->h, NULL), MLC_OK);
}

static void rx_stop(struct receiver *rx)
{
    httpd_free(rx->h);
    pthread_mutex_destroy(&rx->mu);
}

/* Waits (bounded) until the receiver got n calls; returns the count. */
static int rx_wait(struct receiver *rx, int n)
{
    struct timespec ts = { 0, 10 * 1000000 };
    int got = 0;

    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&rx->mu);
        got = rx->n;
        pthread_mutex_unlock(&rx->mu);
        if (got >= n)
            break;
        nanosleep(&ts, NULL);
    }
    return got;
}

static bool sig_ok(const struct rx_msg *m)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char b64[64], want[80];

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)m->id, strlen(m->id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)m->ts, strlen(m->ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)m->body, strlen(m->body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    snprintf(want, sizeof(want), "v1,%s", b64);
    return strcmp(want, m->sig) == 0;
}

static int64_t register_hook(struct fx *f, struct receiver *rx, const char *scope)
{
    char body[512];
    long st;
    json_t *j;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"scope\":\"%s\",\"destination\":\"http://127.0.0.1:%u/hook\","
             "\"is_active\":true,\"headers\":{\"X-Hook-Key\":\"k-123\"}}",
             scope, httpd_port(rx->h));
    j = api(f->port, "POST", "/v3/hooks", body, &st);
    assert_int_equal(st, 200);
    id = json_integer_value(json_object_get(json_object_get(j, "data"), "id"));
    assert_true(id > 0);
    json_decref(j);
    return id;
}

static void test_webhook_delivery(void **state)
{
    struct fx *f = *state;
    struct receiver rx;
    long st;
    json_t *j, *p;
    bool saw_status = false;

    rx_start(&rx, 200);
    register_hook(f, &rx, "store/order/*");
    j = ctl(f->port, "POST", "/orders/103", "{\"status_id\":11}", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    assert_int_equal(rx_wait(&rx, 2), 2);
    for (int i = 0; i < 2; i++) {
        struct rx_msg *m = &rx.msgs[i];

        assert_true(sig_ok(m));
        assert_string_equal(m->key, "k-123");
        p = json_loads(m->body, 0, NULL);
        assert_non_null(p);
        assert_true(json_is_string(json_object_get(p, "store_id")));
        assert_string_equal(json_string_value(json_object_get(p, "producer")), "stores/" HASH);
        assert_int_equal(strlen(json_string_value(json_object_get(p, "hash"))), 40);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "data"), "id")), 103);
        if (strcmp(json_string_value(json_object_get(p, "scope")), "store/order/statusUpdated") == 0) {
            json_t *s = json_object_get(json_object_get(p, "data"), "status");

            assert_int_equal(json_integer_value(json_object_get(s, "previous_status_id")), 7);
            assert_int_equal(json_integer_value(json_object_get(s, "new_status_id")), 11);
            saw_status = true;
        }
        json_decref(p);
    }
    assert_true(saw_status);

    /* The change is visible through the API. */
    j = api(f->port, "GET", "/v2/orders?status_id=11", NULL, &st);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);

    /* A duplicate carries the same webhook-id and hash. */
    j = ctl(f->port, "POST", "/faults", "{\"webhook_duplicate_next\":1}", &st);
    json_decref(j);
    j = ctl(f->port, "POST", "/orders",
            "{\"customer_id\":1,\"status_id\":1,\"products\":[{\"name\":\"Soap\",\"sku\":\"NW-SOAP-6PK\","
            "\"quantity\":1,\"price_ex_tax\":\"12.50\",\"tax\":\"1.00\"}]}", &st);
    assert_int_equal(st, 201);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 106);
    assert_string_equal(json_string_value(json_object_get(j, "total_inc_tax")), "13.5000");
    json_decref(j);
    assert_int_equal(rx_wait(&rx, 4), 4);
    assert_string_equal(rx.msgs[2].id, rx.msgs[3].id);
    {
        json_t *a = json_loads(rx.msgs[2].body, 0, NULL), *b = json_loads(rx.msgs[3].body, 0, NULL);

        assert_string_equal(json_string_value(json_object_get(a, "scope")), "store/order/created");
        assert_string_equal(json_string_value(json_object_get(a, "hash")),
                            json_string_value(json_object_get(b, "hash")));
        json_decref(a);
        json_decref(b);
    }
    rx_stop(&rx);
}

static void test_webhook_retries_deactivate(void **state)
{
    struct fx *f = *state;
    struct receiver rx;
    long st;
    json_t *j, *list;
    char path[64];
    int64_t id;
    int waited = 0;

    rx_start(&rx, 500);
    id = register_hook(f, &rx, "store/order/refund/created");
    j = ctl(f->port, "POST", "/refunds",
            "{\"order_id\":100,\"items\":[{\"item_type\":\"ORDER\",\"item_id\":100,"
            "\"amount\":\"1.00\"}]}", &st);
    assert_int_equal(st, 201);
    json_decref(j);
    /* First attempt + 11 retries, then the hook is turned off. */
    assert_int_equal(rx_wait(&rx, 12), 12);
    snprintf(path, sizeof(path), "/v3/hooks/%lld", (long long)id);
    for (; waited < 500; waited++) {
        j = api(f->port, "GET", path, NULL, &st);
        if (!json_is_true(json_object_get(json_object_get(j, "data"), "is_active"))) {
            json_decref(j);
            break;
        }
        json_decref(j);
        {
            struct timespec ts = { 0, 10 * 1000000 };

            nanosleep(&ts, NULL);
        }
    }
    assert_true(waited < 500);
    j = api(f->port, "GET", "/v3/hooks/admin", NULL, &st);
    list = json_object_get(json_object_get(j, "data"), "hooks_list");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")),
                        "deactivated");
    json_decref(j);
    {
        struct timespec ts = { 0, 50 * 1000000 };

        nanosleep(&ts, NULL);
        assert_int_equal(rx_wait(&rx, 0), 12);  /* nothing more */
    }
    rx_stop(&rx);
}

static void test_hooks_crud(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j;

    j = api(f->port, "POST", "/v3/hooks", "{\"scope\":\"store/order/created\"}", &st);
    assert_int_equal(st, 422);
    json_decref(j);
    j = api(f->port, "POST", "/v3/hooks",
            "{\"scope\":\"store/customer/*\",\"destination\":\"https://erp.example/bc\"}", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = api(f->port, "GET", "/v3/hooks?is_active=true", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = api(f->port, "PUT", "/v3/hooks/18000000", "{}", &st);
    assert_int_equal(st, 422);
    json_decref(j);
    j = api(f->port, "PUT", "/v3/hooks/18000000", "{\"is_active\":false}", &st);
    assert_int_equal(st, 200);
    assert_false(json_is_true(json_object_get(json_object_get(j, "data"), "is_active")));
    json_decref(j);
    j = api(f->port, "PUT", "/v3/hooks/admin", "{\"emails\":[\"ops@example.com\"]}", &st);
    assert_int_equal(st, 204);
    j = api(f->port, "DELETE", "/v3/hooks/18000000", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = api(f->port, "GET", "/v3/hooks/18000000", NULL, &st);
    assert_int_equal(st, 404);
    json_decref(j);
}

static void test_control(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *j;

    j = ctl(f->port, "POST", "/counters/reset", "{}", &st);
    json_decref(j);
    json_decref(api(f->port, "GET", "/v2/orders/100", NULL, &st));
    json_decref(api(f->port, "GET", "/v2/orders/101", NULL, &st));
    j = ctl(f->port, "GET", "/counters", NULL, &st);
    assert_int_equal(json_integer_value(json_object_get(j, "GET /v2/orders/{id}")), 2);
    json_decref(j);

    j = ctl(f->port, "POST", "/clock", "{\"now\":\"2026-12-01T00:00:00Z\",\"advance_s\":60}", &st);
    assert_string_equal(json_string_value(json_object_get(j, "now")), "2026-12-01T00:01:00.000Z");
    json_decref(j);
    /* A change stamps date_modified with the simulated clock. */
    j = ctl(f->port, "POST", "/orders/104", "{\"status_id\":2}", &st);
    assert_string_equal(json_string_value(json_object_get(j, "date_modified")),
                        "Tue, 01 Dec 2026 00:01:00 +0000");
    json_decref(j);
    j = ctl(f->port, "POST", "/customers/2", "{\"phone\":\"+1 214 555 0199\"}", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = api(f->port, "GET", "/v3/customers?date_modified:min=2026-11-30T00:00:00Z", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    j = ctl(f->port, "GET", "/catalog", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(j, "products")), 5);
    json_decref(j);
    j = ctl(f->port, "GET", "/nope", NULL, &st);
    assert_int_equal(st, 404);
    json_decref(j);
}

static void test_bad_seed(void **state)
{
    struct bcsim *s = NULL;
    struct mlc_err e = { 0 };
    json_t *seed = json_pack("{s:[{s:i, s:[{s:s, s:i, s:s}]}]}", "orders", "id", 7,
                             "products", "name", "x", "quantity", 1, "price_ex_tax", "1.234567");

    (void)state;
    assert_int_not_equal(bcsim_start("127.0.0.1:0", seed, &s, &e), MLC_OK);
    assert_null(s);
    assert_non_null(strstr(e.msg, "price_ex_tax"));
    json_decref(seed);
    /* NULL seed: an empty store with defaults. */
    assert_int_equal(bcsim_start("127.0.0.1:0", NULL, &s, &e), MLC_OK);
    bcsim_free(s);
    bcsim_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test_setup_teardown(test_faults_5xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_representation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refunds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_retries_deactivate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control, setup, teardown),
        cmocka_unit_test(test_bad_seed),
    };
    int rc;

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("bcsim", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
