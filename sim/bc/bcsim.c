/*
 * bcsim: lifecycle, routing, auth, rate limiting, faults, counters and the
 * recording of the BigCommerce simulator. The handlers live in
 * bcsim_orders.c (v2), bcsim_v3.c (v3) and bcsim_ctl.c (control API).
 */
#include "bc/bcsim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bc/bcsim_api.h"
#include "bc/bcsim_int.h"
#include "core/jdate.h"
#include "core/json.h"
#include "core/log.h"
#include "core/money.h"

#define BODY_MAX      (4u << 20)
#define HTTP_THREADS  4u
#define DUMP_FLAGS    (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* ---- route table -------------------------------------------------------- */

/* "{id}" matches a segment of digits; literal segments never do, so
 * "/v2/orders/count" and "/v2/orders/{id}" cannot both match. */
struct bcsim_route {
    const char *method;
    const char *tmpl;
    bcsim_fn    fn;
};

static const struct bcsim_route routes[] = {
    { "GET", "/v2/orders", bcsim_v2_orders_list },
    { "GET", "/v2/orders/count", bcsim_v2_orders_count },
    { "GET", "/v2/orders/{id}", bcsim_v2_order_get },
    { "GET", "/v2/orders/{id}/products", bcsim_v2_order_products },
    { "GET", "/v2/orders/{id}/shipping_addresses", bcsim_v2_order_shipping },
    { "GET", "/v2/orders/{id}/coupons", bcsim_v2_order_coupons },
    { "GET", "/v2/orders/{id}/fees", bcsim_v2_order_fees },
    { "GET", "/v2/order_statuses", bcsim_v2_order_statuses },
    { "GET", "/v2/store", bcsim_v2_store },
    { "GET", "/v3/orders/{id}/transactions", bcsim_v3_transactions },
    { "GET", "/v3/orders/{id}/payment_actions/refunds", bcsim_v3_order_refunds },
    { "GET", "/v3/orders/payment_actions/refunds", bcsim_v3_refunds },
    { "GET", "/v3/orders/payment_actions/refunds/{id}", bcsim_v3_refund_get },
    { "GET", "/v3/customers", bcsim_v3_customers },
    { "GET", "/v3/customers/addresses", bcsim_v3_addresses },
    { "GET", "/v3/catalog/products", bcsim_v3_products_list },
    { "POST", "/v3/catalog/products", bcsim_v3_product_create },
    { "PUT", "/v3/catalog/products", bcsim_v3_products_batch },
    { "GET", "/v3/catalog/products/{id}", bcsim_v3_product_get },
    { "PUT", "/v3/catalog/products/{id}", bcsim_v3_product_put },
    { "GET", "/v3/catalog/products/{id}/variants", bcsim_v3_product_variants },
    { "GET", "/v3/catalog/variants", bcsim_v3_variants_list },
    { "PUT", "/v3/catalog/variants", bcsim_v3_variants_batch },
    { "GET", "/v3/hooks", bcsim_v3_hooks_list },
    { "POST", "/v3/hooks", bcsim_v3_hook_create },
    { "GET", "/v3/hooks/admin", bcsim_v3_hooks_admin },
    { "PUT", "/v3/hooks/admin", bcsim_v3_hooks_admin_put },
    { "GET", "/v3/hooks/{id}", bcsim_v3_hook_get },
    { "PUT", "/v3/hooks/{id}", bcsim_v3_hook_put },
    { "DELETE", "/v3/hooks/{id}", bcsim_v3_hook_delete },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Matches path against tmpl, collecting numeric parameters. */
static bool tmpl_match(const char *tmpl, const char *path, int64_t *ids,
                       size_t *n_ids)
{
    const char *t = tmpl, *p = path;

    *n_ids = 0;
    while (*t != '\0' && *p != '\0') {
        if (strncmp(t, "{id}", 4) == 0) {
            int64_t v = 0;

            if (*p < '0' || *p > '9' || *n_ids >= 3)
                return false;
            while (*p >= '0' && *p <= '9') {
                if (v > (INT64_MAX - 9) / 10)
                    return false;
                v = v * 10 + (*p - '0');
                p++;
            }
            ids[(*n_ids)++] = v;
            t += 4;
            continue;
        }
        if (*t != *p)
            return false;
        t++;
        p++;
    }
    return *t == '\0' && *p == '\0';
}

/* The route for method+path; *path_known tells a 405 from a 404. */
static int route_find(const char *method, const char *path, int64_t *ids,
                      size_t *n_ids, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!tmpl_match(routes[i].tmpl, path, ids, n_ids))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return (int)i;
        *path_known = true;
    }
    return -1;
}

json_t *bcsim_counters_json(struct bcsim *s)
{
    json_t *o = json_object();
    char key[128];

    for (size_t i = 0; i < N_ROUTES; i++) {
        if (s->counters[i] == 0)
            continue;
        snprintf(key, sizeof(key), "%s %s", routes[i].method, routes[i].tmpl);
        json_object_set_new(o, key, json_integer((json_int_t)s->counters[i]));
    }
    if (s->counters[N_ROUTES] != 0)
        json_object_set_new(o, "unmatched",
                            json_integer((json_int_t)s->counters[N_ROUTES]));
    return o;
}

void bcsim_counters_reset(struct bcsim *s)
{
    memset(s->counters, 0, (N_ROUTES + 1) * sizeof(*s->counters));
}

/* ---- clock -------------------------------------------------------------- */

int64_t bcsim_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bcsim_now_ms(struct bcsim *s)
{
    if (s->clock.frozen)
        return s->clock.base_ms;
    return s->clock.base_ms + (bcsim_mono_ms() - s->clock.mono_ms);
}

int64_t bcsim_now(struct bcsim *s)
{
    int64_t ms = bcsim_now_ms(s);

    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* ---- output helpers ----------------------------------------------------- */

void bcsim_out_set(struct bcsim_out *o, int status, json_t *body)
{
    json_decref(o->body);
    o->status = status;
    o->body = body;
}

void bcsim_out_err(const struct bcsim_req *rq, struct bcsim_out *o, int status,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rq != NULL && rq->version == 2) {
        bcsim_out_set(o, status, json_pack("[{s:i, s:s}]", "status", status,
                                           "message", msg));
        return;
    }
    bcsim_out_err3(o, status, msg, NULL);
}

void bcsim_out_err3(struct bcsim_out *o, int status, const char *title,
                    json_t *errors)
{
    json_t *b = json_pack("{s:i, s:s, s:s}", "status", status, "title", title,
                          "type", BCSIM_ERR_TYPE);

    if (errors != NULL)
        json_object_set_new(b, "errors", errors);
    bcsim_out_set(o, status, b);
}

/* ---- query helpers ------------------------------------------------------ */

const char *bcsim_q(const struct bcsim_req *rq, const char *name)
{
    return httpd_req_query(rq->hr, name);
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0')
        return MLC_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return MLC_EINVAL;
    *out = v;
    return MLC_OK;
}

int bcsim_q_i64(const struct bcsim_req *rq, struct bcsim_out *o,
                const char *name, int64_t def, int64_t min, int64_t max,
                int64_t *out)
{
    const char *v = bcsim_q(rq, name);

    *out = def;
    if (v == NULL)
        return MLC_OK;
    if (parse_i64(v, out) != MLC_OK || *out < min || *out > max) {
        bcsim_out_err(rq, o, rq->version == 2 ? 400 : 422,
                      "The filter '%s' is invalid: '%s'", name, v);
        return MLC_EINVAL;
    }
    return MLC_OK;
}

int bcsim_q_time(const struct bcsim_req *rq, struct bcsim_out *o,
                 const char *name, bool *present, int64_t *out)
{
    const char *v = bcsim_q(rq, name);
    const char *p;

    *present = false;
    *out = 0;
    if (v == NULL)
        return MLC_OK;
    for (p = v; *p >= '0' && *p <= '9'; p++)
        ;
    if ((*p == '\0' && p != v && parse_i64(v, out) == MLC_OK) ||
        jdate_iso8601_parse(v, out, NULL) == MLC_OK ||
        jdate_rfc2822_parse(v, out, NULL) == MLC_OK) {
        *present = true;
        return MLC_OK;
    }
    bcsim_out_err(rq, o, rq->version == 2 ? 400 : 422,
                  "The filter '%s' is not a valid date: '%s'", name, v);
    return MLC_EINVAL;
}

/* Calls fn on each comma-separated item of csv until it returns true. */
static bool csv_any(const char *csv, bool (*fn)(const char *, size_t, const void *),
                    const void *arg)
{
    const char *p = csv;

    if (csv == NULL)
        return false;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

        if (fn(p, n, arg))
            return true;
        if (c == NULL)
            return false;
        p = c + 1;
    }
}

static bool item_bad_int(const char *p, size_t n, const void *arg)
{
    (void)arg;
    if (n == 0 || n > 18)
        return true;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return true;
    return false;
}

bool bcsim_csv_ints_ok(const char *csv)
{
    return csv == NULL || !csv_any(csv, item_bad_int, NULL);
}

static bool item_eq_int(const char *p, size_t n, const void *arg)
{
    int64_t v = 0;

    if (item_bad_int(p, n, NULL))
        return false;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v == *(const int64_t *)arg;
}

bool bcsim_csv_has_i64(const char *csv, int64_t v)
{
    return csv_any(csv, item_eq_int, &v);
}

static bool item_eq(const char *p, size_t n, const void *arg)
{
    const char *s = arg;

    return strlen(s) == n && strncmp(p, s, n) == 0;
}

static bool item_eq_ci(const char *p, size_t n, const void *arg)
{
    const char *s = arg;

    return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

bool bcsim_csv_has(const char *csv, const char *item)
{
    return item != NULL && csv_any(csv, item_eq, item);
}

bool bcsim_csv_has_ci(const char *csv, const char *item)
{
    return item != NULL && csv_any(csv, item_eq_ci, item);
}

bool bcsim_paging(const struct bcsim_req *rq, struct bcsim_out *o,
                  int64_t def_limit, int64_t max_limit, int64_t *page,
                  int64_t *limit)
{
    if (bcsim_q_i64(rq, o, "page", 1, 1, INT32_MAX, page) != MLC_OK)
        return false;
    return bcsim_q_i64(rq, o, "limit", def_limit, 1, max_limit, limit) == MLC_OK;
}

static json_t *page_link(int64_t page, int64_t limit)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "?page=%lld&limit=%lld", (long long)page,
             (long long)limit);
    return json_string(buf);
}

json_t *bcsim_meta_pagination(const struct bcsim_req *rq, int64_t total,
                              int64_t count, int64_t per_page, int64_t page)
{
    int64_t pages = per_page > 0 ? (total + per_page - 1) / per_page : 0;
    json_t *links = json_object();

    (void)rq;
    if (page > 1)
        json_object_set_new(links, "previous", page_link(page - 1, per_page));
    json_object_set_new(links, "current", page_link(page, per_page));
    if (page < pages)
        json_object_set_new(links, "next", page_link(page + 1, per_page));
    return json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:o}}", "pagination",
                     "total", (json_int_t)total, "count", (json_int_t)count,
                     "per_page", (json_int_t)per_page, "current_page",
                     (json_int_t)page, "total_pages", (json_int_t)pages,
                     "links", links);
}

/* ---- representations ---------------------------------------------------- */

json_t *bcsim_j_v2money(int64_t v4)
{
    char buf[MONEY_FMT_MAX];

    money_format(v4, 4, buf, sizeof(buf));
    return json_string(buf);
}

/* The JSON number is made from the exact decimal text; dumping at 15
 * significant digits gives that text back, so no binary noise shows. */
json_t *bcsim_j_number(int64_t v4, int exponent)
{
    char buf[MONEY_FMT_MAX];
    int64_t v = v4;

    if (exponent < 4)
        money_round_scale(v4, 4, exponent, MONEY_ROUND_HALF_AWAY, &v, NULL);
    else
        exponent = 4;
    money_format(v, exponent, buf, sizeof(buf));
    return json_real(strtod(buf, NULL));
}

json_t *bcsim_j_rfc2822(int64_t t)
{
    char buf[JDATE_RFC2822_SIZE];

    if (jdate_rfc2822_format(t, buf, sizeof(buf), NULL) != MLC_OK)
        return json_string("");
    return json_string(buf);
}

json_t *bcsim_j_iso(int64_t t)
{
    char buf[JDATE_ISO8601_SIZE];

    if (jdate_iso8601_format(t, buf, sizeof(buf), NULL) != MLC_OK)
        return json_string("");
    return json_string(buf);
}

int bcsim_money_in(const json_t *v, int64_t *v4, struct mlc_err *e)
{
    *v4 = 0;
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOTFOUND, "missing amount");
    return jx_money_value(v, 4, MONEY_ROUND_EXACT, v4, e);
}

bool bcsim_fault_draw(int64_t *next, double rate)
{
    if (*next > 0) {
        (*next)--;
        return true;
    }
    if (rate <= 0)
        return false;
    if (rate >= 1)
        return true;
    return (double)randombytes_uniform(1000000) < rate * 1000000.0;
}

/* ---- recording ---------------------------------------------------------- */

int bcsim_record_open(struct bcsim *s, const char *path, struct mlc_err *e)
{
    FILE *f = NULL;
    int rc = MLC_OK;

    if (path != NULL) {
        f = fopen(path, "a");
        if (f == NULL)
            return mlc_err_set(e, MLC_EIO, "cannot open recording '%s': %s",
                               path, strerror(errno));
    }
    pthread_mutex_lock(&s->rec_mu);
    if (s->record != NULL)
        fclose(s->record);
    s->record = f;
    pthread_mutex_unlock(&s->rec_mu);
    return rc;
}

void bcsim_record(struct bcsim *s, json_t *rec)
{
    char *line;

    if (rec == NULL)
        return;
    pthread_mutex_lock(&s->rec_mu);
    if (s->record != NULL) {
        line = json_dumps(rec, DUMP_FLAGS);
        if (line != NULL) {
            fprintf(s->record, "%s\n", line);
            fflush(s->record);
            free(line);
        }
    }
    pthread_mutex_unlock(&s->rec_mu);
    json_decref(rec);
}

static bool recording(struct bcsim *s)
{
    bool on;

    pthread_mutex_lock(&s->rec_mu);
    on = s->record != NULL;
    pthread_mutex_unlock(&s->rec_mu);
    return on;
}

/* ---- the API handler ---------------------------------------------------- */

static void add_rate_headers(struct httpd_response *rs,
                             const struct bcsim_rate_view *v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", (long long)v->window_ms);
    httpd_resp_header(rs, "X-Rate-Limit-Time-Window-Ms", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)v->reset_ms);
    httpd_resp_header(rs, "X-Rate-Limit-Time-Reset-Ms", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)v->quota);
    httpd_resp_header(rs, "X-Rate-Limit-Requests-Quota", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)v->left);
    httpd_resp_header(rs, "X-Rate-Limit-Requests-Left", buf);
}

/* The header view without taking a request (401s and faults). */
static void rate_peek(struct bcsim *s, struct bcsim_rate_view *v)
{
    struct bcsim_rate r = s->rate;

    /* A copy with one more unit: take() then reports the current state. */
    if (r.quota > 0 && r.used > 0)
        r.used--;
    else if (r.quota > 0)
        r.quota++;
    bcsim_rate_take(&r, bcsim_mono_ms(), v);
    if (s->rate.quota > 0)
        v->quota = s->rate.quota;
}

static bool token_ok(struct bcsim *s, const char *tok)
{
    size_t n;

    if (tok == NULL || s->set.access_token == NULL)
        return false;
    n = strlen(s->set.access_token);
    return strlen(tok) == n &&
           sodium_memcmp(tok, s->set.access_token, n) == 0;
}

/* Splits "/stores/{hash}/v2/..." into hash check and the rest. */
static const char *strip_store(struct bcsim *s, const char *path)
{
    const char *p = path + strlen("/stores/");
    size_t hl = strlen(s->set.store_hash);

    if (strncmp(p, s->set.store_hash, hl) != 0 || p[hl] != '/')
        return NULL;
    return p + hl;
}

/* The next error_path_next requests to error_path fail (one route of one
 * resource: a test fails the call it means, not whichever comes next). */
static bool path_fault(struct bcsim_faults *f, const char *path)
{
    if (f->error_path_next <= 0 || strcmp(f->error_path, path) != 0)
        return false;
    f->error_path_next--;
    return true;
}

static void serve(struct bcsim *s, struct bcsim_req *rq, struct bcsim_out *o,
                  struct bcsim_rate_view *rv, bool *rate_headers)
{
    int64_t ids[3];
    size_t n_ids = 0;
    bool known;
    int ri;
    size_t blen;
    const char *btxt;

    *rate_headers = true;
    ri = route_find(rq->method, rq->path, ids, &n_ids, &known);
    s->counters[ri >= 0 ? (size_t)ri : N_ROUTES]++;
    rate_peek(s, rv);
    if (!token_ok(s, httpd_req_header(rq->hr, "X-Auth-Token"))) {
        bcsim_out_err(rq, o, 401, "You have not been authorized to access this "
                      "resource: the X-Auth-Token is missing or invalid.");
        return;
    }
    if (bcsim_fault_draw(&s->faults.throttle_next, s->faults.throttle_rate)) {
        *rate_headers = false;
        bcsim_out_err(rq, o, 429, "Too many requests (platform load)");
        return;
    }
    if (!bcsim_rate_take(&s->rate, bcsim_mono_ms(), rv)) {
        bcsim_out_err(rq, o, 429, "You have exceeded your request quota. "
                      "Wait X-Rate-Limit-Time-Reset-Ms before retrying.");
        return;
    }
    if (bcsim_fault_draw(&s->faults.error_next, s->faults.error_rate) ||
        path_fault(&s->faults, rq->path)) {
        bcsim_out_err(rq, o, s->faults.error_status,
                      "Internal error (injected fault)");
        return;
    }
    if (ri < 0) {
        if (known)
            bcsim_out_err(rq, o, 405, "The method %s is not allowed on %s",
                          rq->method, rq->path);
        else
            bcsim_out_err(rq, o, 404, "The requested resource was not found");
        return;
    }
    memcpy(rq->id, ids, sizeof(ids));
    rq->n_id = n_ids;
    btxt = httpd_req_body(rq->hr, &blen);
    if (blen > 0) {
        json_error_t je;

        rq->body = json_loadb(btxt, blen, JSON_REJECT_DUPLICATES, &je);
        if (rq->body == NULL) {
            if (rq->version == 2)
                bcsim_out_err(rq, o, 400, "The request body is not valid JSON");
            else
                bcsim_out_err3(o, 422, "JSON data is missing or invalid",
                               json_pack("{s:s}", "body", je.text));
            return;
        }
    }
    routes[ri].fn(s, rq, o);
}

static void record_exchange(struct bcsim *s, const struct bcsim_req *rq,
                            const struct bcsim_out *o)
{
    const char *path = httpd_req_path(rq->hr);
    json_t *rec;

    /* Request bodies the simulator accepted must match the spec; rejected
     * ones are often invalid on purpose, so only accepted ones are kept. */
    if (rq->body != NULL && o->status >= 200 && o->status < 300)
        bcsim_record(s, json_pack("{s:s, s:s, s:s, s:O}", "kind", "request",
                                  "method", rq->method, "path", path,
                                  "body", rq->body));
    rec = json_pack("{s:s, s:s, s:i}", "method", rq->method, "path", path,
                    "status", o->status);
    if (o->body != NULL)
        json_object_set(rec, "body", o->body);
    bcsim_record(s, rec);
}

static void h_store(const struct httpd_request *hr, struct httpd_response *rs,
                    void *ctx)
{
    struct bcsim *s = ctx;
    struct bcsim_req rq = { .hr = hr };
    struct bcsim_out o = { .status = 200 };
    struct bcsim_rate_view rv = { 0 };
    bool rate_headers = false;
    int64_t latency;
    char *text = NULL;

    rq.method = httpd_req_method(hr);
    pthread_mutex_lock(&s->mu);
    latency = s->faults.latency_ms;
    pthread_mutex_unlock(&s->mu);
    if (latency > 0) {
        struct timespec ts = { latency / 1000, (latency % 1000) * 1000000 };

        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s->mu);
    rq.path = strip_store(s, httpd_req_path(hr));
    if (rq.path == NULL || (strncmp(rq.path, "/v2/", 4) != 0 &&
                            strncmp(rq.path, "/v3/", 4) != 0)) {
        rq.version = 3;
        s->counters[N_ROUTES]++;
        bcsim_out_err(&rq, &o, 404, "No such store or API version");
    } else {
        rq.version = rq.path[2] - '0';
        serve(s, &rq, &o, &rv, &rate_headers);
    }
    if (o.body != NULL)
        text = json_dumps(o.body, DUMP_FLAGS);
    pthread_mutex_unlock(&s->mu);

    if (recording(s))
        record_exchange(s, &rq, &o);
    if (text != NULL)
        httpd_resp_take(rs, o.status, "application/json", text, strlen(text));
    else
        httpd_resp_static(rs, o.status, "application/json", "");
    if (rate_headers)
        add_rate_headers(rs, &rv);
    json_decref(o.body);
    json_decref(rq.body);
}

static void h_ctl(const struct httpd_request *hr, struct httpd_response *rs,
                  void *ctx)
{
    struct bcsim *s = ctx;
    struct bcsim_out o = { .status = 200 };
    json_t *body = NULL;
    size_t blen;
    const char *btxt = httpd_req_body(hr, &blen);
    char *text = NULL;

    if (blen > 0) {
        json_error_t je;

        body = json_loadb(btxt, blen, JSON_REJECT_DUPLICATES, &je);
        if (body == NULL) {
            httpd_resp_static(rs, 400, "application/json",
                              "{\"error\":\"body is not valid JSON\"}");
            return;
        }
    }
    pthread_mutex_lock(&s->mu);
    bcsim_ctl_handle(s, httpd_req_method(hr),
                     httpd_req_path(hr) + strlen("/__sim"), body, &o);
    if (o.body != NULL)
        text = json_dumps(o.body, DUMP_FLAGS);
    pthread_mutex_unlock(&s->mu);
    if (text != NULL)
        httpd_resp_take(rs, o.status, "application/json", text, strlen(text));
    else
        httpd_resp_static(rs, o.status, "application/json", "");
    json_decref(o.body);
    json_decref(body);
}

/* ---- settings and lifecycle --------------------------------------------- */

static json_t *default_store_info(const struct bcsim_settings *st)
{
    char domain[128], url[160];

    snprintf(domain, sizeof(domain), "%s.mybigcommerce.example", st->store_hash);
    snprintf(url, sizeof(url), "https://%s", domain);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i, s:i, s:b, s:s},"
                     " s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
                     "id", st->store_hash, "domain", domain, "secure_url", url,
                     "name", "Simulated Store", "first_name", "Sim",
                     "last_name", "Merchant", "admin_email", "admin@example.com",
                     "timezone", "name", "Etc/UTC", "raw_offset", 0, "dst_offset", 0,
                     "dst_correction", 0, "date_format", "%b %d %Y",
                     "language", "en", "currency", "USD", "currency_symbol", "$",
                     "decimal_separator", ".", "thousands_separator", ",",
                     "decimal_places", 2, "currency_symbol_location", "left",
                     "weight_units", "LBS", "dimension_units", "Inches",
                     "plan_name", "Simulated");
}

static char *dup_or(const char *v, const char *def)
{
    return strdup(v != NULL ? v : def);
}

static int load_settings(struct bcsim *s, const json_t *seed, struct mlc_err *e)
{
    struct bcsim_settings *st = &s->set;
    json_t *empty = json_object();
    const json_t *set = seed != NULL ? json_object_get(seed, "settings") : NULL;
    const char *hash, *sid, *tok, *cid, *sec, *clock;
    json_t *info, *scale;
    struct jx_ctx cx;
    int64_t quota, window, timeout;
    bool frozen;
    int rc;

    if (set == NULL)
        set = empty;
    jx_ctx_init(&cx, "bigcommerce settings", e);
    jx_opt_str(&cx, set, "store_hash", "abc123", &hash);
    jx_opt_str(&cx, set, "store_id", "1001", &sid);
    jx_opt_str(&cx, set, "access_token", "sim-access-token", &tok);
    jx_opt_str(&cx, set, "client_id", "sim-client-id", &cid);
    jx_opt_str(&cx, set, "client_secret", "sim-client-secret", &sec);
    jx_opt_i64(&cx, set, "rate_quota", 150, &quota);
    jx_opt_i64(&cx, set, "rate_window_ms", 30000, &window);
    jx_opt_i64(&cx, set, "webhook_timeout_ms", 5000, &timeout);
    jx_opt_str(&cx, set, "clock", NULL, &clock);
    jx_opt_bool(&cx, set, "clock_frozen", false, &frozen);
    jx_opt_obj(&cx, set, "store", &info);
    if (cx.rc != MLC_OK) {
        rc = cx.rc;
        goto out;
    }
    if (strlen(hash) >= sizeof(st->store_hash) || strlen(sid) >= sizeof(st->store_id) ||
        strchr(hash, '/') != NULL || *hash == '\0') {
        rc = mlc_err_set(e, MLC_EINVAL, "bigcommerce settings: bad store_hash or store_id");
        goto out;
    }
    if (quota < 0 || window <= 0 || timeout <= 0) {
        rc = mlc_err_set(e, MLC_EINVAL, "bigcommerce settings: rate_quota, "
                         "rate_window_ms and webhook_timeout_ms must be positive");
        goto out;
    }
    snprintf(st->store_hash, sizeof(st->store_hash), "%s", hash);
    snprintf(st->store_id, sizeof(st->store_id), "%s", sid);
    st->access_token = dup_or(tok, "");
    st->client_id = dup_or(cid, "");
    st->client_secret = dup_or(sec, "");
    st->rate_quota = quota;
    st->rate_window_ms = window;
    st->webhook_timeout_ms = timeout;
    scale = json_object_get(set, "webhook_retry_scale");
    st->retry_scale = json_is_number(scale) ? json_number_value(scale) : 1.0;
    if (st->retry_scale < 0) {
        rc = mlc_err_set(e, MLC_EINVAL, "bigcommerce settings: webhook_retry_scale < 0");
        goto out;
    }
    st->store_info = default_store_info(st);
    if (info != NULL)
        json_object_update(st->store_info, info);
    s->clock.mono_ms = bcsim_mono_ms();
    s->clock.frozen = frozen;
    s->clock.base_ms = jdate_now_unix() * 1000;
    if (clock != NULL) {
        int64_t t;

        if ((rc = jdate_iso8601_parse_ms(clock, &t, e)) != MLC_OK) {
            mlc_err_wrap(e, "bigcommerce settings: clock");
            goto out;
        }
        s->clock.base_ms = t;
    }
    bcsim_rate_init(&s->rate, quota, window);
    s->faults.error_status = 500;
    rc = MLC_OK;
out:
    json_decref(empty);
    return rc;
}

int bcsim_start(const char *listen, const json_t *seed, struct bcsim **out,
                struct mlc_err *e)
{
    struct bcsim *s;
    struct httpd_route hr[2];
    struct httpd_opts ho = {
        .listen = listen, .threads = HTTP_THREADS, .connection_timeout_s = 30,
        .max_body_bytes = BODY_MAX,
    };
    const char *rec = NULL;
    const json_t *set;
    int rc;

    *out = NULL;
    if (sodium_init() < 0)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialise");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rec_mu, NULL);
    pthread_mutex_init(&s->hooks.mu, NULL);
    pthread_cond_init(&s->hooks.cv, NULL);
    bcsim_data_init(&s->data);
    s->counters = calloc(N_ROUTES + 1, sizeof(*s->counters));
    if (s->counters == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto fail;
    }
    if (seed != NULL && !json_is_object(seed)) {
        rc = mlc_err_set(e, MLC_EINVAL, "bigcommerce seed: expected an object");
        goto fail;
    }
    rc = load_settings(s, seed, e);
    if (rc != MLC_OK)
        goto fail;
    rc = bcsim_data_load(s, seed, e);
    if (rc != MLC_OK)
        goto fail;
    set = seed != NULL ? json_object_get(seed, "settings") : NULL;
    if (set != NULL)
        rec = json_string_value(json_object_get(set, "record"));
    if (rec != NULL && (rc = bcsim_record_open(s, rec, e)) != MLC_OK)
        goto fail;
    rc = bcsim_hooks_start(s, e);
    if (rc != MLC_OK)
        goto fail;
    hr[0] = (struct httpd_route){ "*", "/stores/*", h_store, s };
    hr[1] = (struct httpd_route){ "*", "/__sim/*", h_ctl, s };
    rc = httpd_start(&ho, hr, 2, &s->httpd, e);
    if (rc != MLC_OK)
        goto fail;
    log_info("bcsim", "BigCommerce simulator listening",
             LF_INT("port", httpd_port(s->httpd)),
             LF_STR("store_hash", s->set.store_hash));
    *out = s;
    return MLC_OK;
fail:
    bcsim_free(s);
    return rc;
}

uint16_t bcsim_port(const struct bcsim *s)
{
    return s != NULL && s->httpd != NULL ? httpd_port(s->httpd) : 0;
}

void bcsim_free(struct bcsim *s)
{
    if (s == NULL)
        return;
    httpd_free(s->httpd);
    bcsim_hooks_stop(s);
    bcsim_record_open(s, NULL, NULL);
    bcsim_data_free(&s->data);
    free(s->counters);
    free(s->set.access_token);
    free(s->set.client_id);
    if (s->set.client_secret != NULL)
        sodium_memzero(s->set.client_secret, strlen(s->set.client_secret));
    free(s->set.client_secret);
    json_decref(s->set.store_info);
    pthread_cond_destroy(&s->hooks.cv);
    pthread_mutex_destroy(&s->hooks.mu);
    pthread_mutex_destroy(&s->rec_mu);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
