/*
 * bcsim_ctl: the control API under /__sim/ (no auth, loopback use): counters,
 * simulated clock, faults, rate settings, recording, and data changes that
 * fire webhooks like the store would (orders, refunds, customers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bcsim_api.h"
#include "bc/bcsim_hooks.h"
#include "core/jdate.h"
#include "core/json.h"

static void fail(struct bcsim_out *o, int status, const char *msg)
{
    bcsim_out_set(o, status, json_pack("{s:s}", "error", msg));
}

static int status_of(int rc)
{
    switch (rc) {
    case MLC_ENOTFOUND: return 404;
    case MLC_EEXIST:    return 409;
    case MLC_ENOMEM:    return 500;
    default:            return 400;
    }
}

/* "/orders/105" -> 105 after prefix; -1 when the rest is not an id. */
static int64_t id_after(const char *path, const char *prefix)
{
    const char *p;
    int64_t v = 0;
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0 || path[n] == '\0')
        return -1;
    for (p = path + n; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 9)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static json_t *clock_json(struct bcsim *s)
{
    char buf[JDATE_ISO8601_SIZE];
    int64_t ms = bcsim_now_ms(s);

    jdate_iso8601_format_ms(ms, buf, sizeof(buf), NULL);
    return json_pack("{s:s, s:I, s:b}", "now", buf, "now_unix", (json_int_t)bcsim_now(s),
                     "frozen", s->clock.frozen);
}

static void ctl_clock(struct bcsim *s, const json_t *b, struct bcsim_out *o)
{
    const json_t *now = json_object_get(b, "now"), *adv = json_object_get(b, "advance_s");
    const json_t *frz = json_object_get(b, "frozen");
    int64_t cur = bcsim_now_ms(s), t;

    if ((now != NULL && !json_is_string(now)) || (adv != NULL && !json_is_integer(adv)) ||
        (frz != NULL && !json_is_boolean(frz))) {
        fail(o, 400, "expected {\"now\": ISO-8601, \"advance_s\": integer, \"frozen\": bool}");
        return;
    }
    if (now != NULL) {
        if (jdate_iso8601_parse_ms(json_string_value(now), &t, NULL) != MLC_OK) {
            fail(o, 400, "now: not an ISO 8601 date-time");
            return;
        }
        cur = t;
    }
    if (adv != NULL)
        cur += json_integer_value(adv) * 1000;
    s->clock.base_ms = cur;
    s->clock.mono_ms = bcsim_mono_ms();
    if (frz != NULL)
        s->clock.frozen = json_is_true(frz);
    bcsim_out_set(o, 200, clock_json(s));
}

static json_t *faults_json(const struct bcsim_faults *f)
{
    return json_pack("{s:I, s:f, s:I, s:i, s:s, s:I, s:f, s:I, s:f, s:I, s:f, s:I}",
                     "latency_ms", (json_int_t)f->latency_ms, "error_rate", f->error_rate,
                     "error_next", (json_int_t)f->error_next, "error_status", f->error_status,
                     "error_path", f->error_path,
                     "error_path_next", (json_int_t)f->error_path_next,
                     "throttle_rate", f->throttle_rate,
                     "throttle_next", (json_int_t)f->throttle_next,
                     "webhook_drop_rate", f->webhook_drop_rate,
                     "webhook_drop_next", (json_int_t)f->webhook_drop_next,
                     "webhook_duplicate_rate", f->webhook_duplicate_rate,
                     "webhook_duplicate_next", (json_int_t)f->webhook_duplicate_next);
}

/* Reads a fault member into *dst when present; false on a bad value. */
static bool fault_rate(const json_t *b, const char *key, double *dst)
{
    const json_t *v = json_object_get(b, key);

    if (v == NULL)
        return true;
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
        return false;
    *dst = json_number_value(v);
    return true;
}

static bool fault_int(const json_t *b, const char *key, int64_t max, int64_t *dst)
{
    const json_t *v = json_object_get(b, key);

    if (v == NULL)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return false;
    *dst = json_integer_value(v);
    return true;
}

/* Reads the error_path member into dst when present; false on a bad value. */
static bool fault_path(const json_t *b, char *dst, size_t cap)
{
    const json_t *v = json_object_get(b, "error_path");

    if (v == NULL)
        return true;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return false;
    snprintf(dst, cap, "%s", json_string_value(v));
    return true;
}

static void ctl_faults(struct bcsim *s, const json_t *b, struct bcsim_out *o)
{
    struct bcsim_faults f = s->faults;
    int64_t status = f.error_status;

    if (json_is_true(json_object_get(b, "reset"))) {
        memset(&f, 0, sizeof(f));
        status = 500;
    }
    if (!fault_int(b, "latency_ms", 60000, &f.latency_ms) ||
        !fault_rate(b, "error_rate", &f.error_rate) ||
        !fault_int(b, "error_next", INT32_MAX, &f.error_next) ||
        !fault_int(b, "error_status", 599, &status) || status < 500 ||
        !fault_path(b, f.error_path, sizeof(f.error_path)) ||
        !fault_int(b, "error_path_next", INT32_MAX, &f.error_path_next) ||
        !fault_rate(b, "throttle_rate", &f.throttle_rate) ||
        !fault_int(b, "throttle_next", INT32_MAX, &f.throttle_next) ||
        !fault_rate(b, "webhook_drop_rate", &f.webhook_drop_rate) ||
        !fault_int(b, "webhook_drop_next", INT32_MAX, &f.webhook_drop_next) ||
        !fault_rate(b, "webhook_duplicate_rate", &f.webhook_duplicate_rate) ||
        !fault_int(b, "webhook_duplicate_next", INT32_MAX, &f.webhook_duplicate_next)) {
        fail(o, 400, "bad fault setting (rates 0..1, counts >= 0, error_status 5xx)");
        return;
    }
    f.error_status = (int)status;
    s->faults = f;
    bcsim_out_set(o, 200, faults_json(&s->faults));
}

static void ctl_rate(struct bcsim *s, const json_t *b, struct bcsim_out *o)
{
    int64_t quota = s->rate.quota, window = s->rate.window_ms;

    if (!fault_int(b, "quota", INT32_MAX, &quota) ||
        !fault_int(b, "window_ms", INT32_MAX, &window) || window <= 0) {
        fail(o, 400, "expected {\"quota\": >= 0, \"window_ms\": > 0}");
        return;
    }
    bcsim_rate_init(&s->rate, quota, window);
    bcsim_out_set(o, 200, json_pack("{s:I, s:I}", "quota", (json_int_t)quota,
                                    "window_ms", (json_int_t)window));
}

static void ctl_orders(struct bcsim *s, const char *method, const char *path,
                       const json_t *b, struct bcsim_out *o)
{
    struct mlc_err e = { 0 };
    struct bcsim_order *ord;
    int64_t id;
    int rc;

    if (strcmp(path, "/orders") == 0 && strcmp(method, "POST") == 0) {
        rc = bcsim_order_create(s, b, true, &ord, &e);
        if (rc != MLC_OK)
            fail(o, status_of(rc), e.msg);
        else
            bcsim_out_set(o, 201, json_deep_copy(ord->v2));
        return;
    }
    id = id_after(path, "/orders/");
    if (id < 0 || (ord = bcsim_order_find(&s->data, id)) == NULL) {
        fail(o, 404, "no such order");
        return;
    }
    if (strcmp(method, "GET") == 0) {
        bcsim_out_set(o, 200, json_deep_copy(ord->v2));
        return;
    }
    rc = bcsim_order_change(s, ord, b, &e);
    if (rc != MLC_OK)
        fail(o, status_of(rc), e.msg);
    else
        bcsim_out_set(o, 200, json_deep_copy(ord->v2));
}

static void ctl_customers(struct bcsim *s, const char *method, const char *path,
                          const json_t *b, struct bcsim_out *o)
{
    struct mlc_err e = { 0 };
    struct bcsim_customer *c;
    int64_t id;
    int rc;

    if (strcmp(path, "/customers") == 0 && strcmp(method, "POST") == 0) {
        rc = bcsim_customer_create(s, b, true, &c, &e);
    } else {
        id = id_after(path, "/customers/");
        if (id < 0 || (c = bcsim_customer_find(&s->data, id)) == NULL) {
            fail(o, 404, "no such customer");
            return;
        }
        rc = bcsim_customer_change(s, c, b, &e);
    }
    if (rc != MLC_OK) {
        fail(o, status_of(rc), e.msg);
        return;
    }
    bcsim_out_set(o, 200, json_deep_copy(c->v3));
    json_object_set_new(o->body, "addresses", json_deep_copy(c->addresses));
}

static void ctl_catalog(struct bcsim *s, struct bcsim_out *o)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->data.products.n; i++)
        json_array_append_new(arr, bcsim_product_render(s->data.products.v[i], true));
    bcsim_out_set(o, 200, json_pack("{s:o}", "products", arr));
}

static void ctl_record(struct bcsim *s, const json_t *b, struct bcsim_out *o)
{
    const json_t *p = json_object_get(b, "path");
    struct mlc_err e = { 0 };

    if (p == NULL || (!json_is_string(p) && !json_is_null(p))) {
        fail(o, 400, "expected {\"path\": FILE} or {\"path\": null}");
        return;
    }
    if (bcsim_record_open(s, json_string_value(p), &e) != MLC_OK) {
        fail(o, 400, e.msg);
        return;
    }
    bcsim_out_set(o, 200, json_pack("{s:O}", "path", p));
}

void bcsim_ctl_handle(struct bcsim *s, const char *method, const char *path,
                      const json_t *body, struct bcsim_out *o)
{
    bool get = strcmp(method, "GET") == 0;
    bool post = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;

    if (post && body != NULL && !json_is_object(body)) {
        fail(o, 400, "expected a JSON object");
        return;
    }
    if (strcmp(path, "/counters") == 0 && get)
        bcsim_out_set(o, 200, bcsim_counters_json(s));
    else if (strcmp(path, "/counters/reset") == 0 && post) {
        bcsim_counters_reset(s);
        bcsim_out_set(o, 200, json_object());
    } else if (strcmp(path, "/clock") == 0 && get)
        bcsim_out_set(o, 200, clock_json(s));
    else if (strcmp(path, "/clock") == 0 && post)
        ctl_clock(s, body, o);
    else if (strcmp(path, "/faults") == 0 && get)
        bcsim_out_set(o, 200, faults_json(&s->faults));
    else if (strcmp(path, "/faults") == 0 && post)
        ctl_faults(s, body, o);
    else if (strcmp(path, "/rate") == 0 && post)
        ctl_rate(s, body, o);
    else if (strncmp(path, "/orders", 7) == 0 && (get || post) && (post || path[7] == '/'))
        ctl_orders(s, method, path, body, o);
    else if (strcmp(path, "/refunds") == 0 && post) {
        struct mlc_err e = { 0 };
        struct bcsim_refund *r;
        int rc = bcsim_refund_create(s, body, true, &r, &e);

        if (rc != MLC_OK)
            fail(o, status_of(rc), e.msg);
        else
            bcsim_out_set(o, 201, json_deep_copy(r->v3));
    } else if (strncmp(path, "/customers", 10) == 0 && post)
        ctl_customers(s, method, path, body, o);
    else if (strcmp(path, "/catalog") == 0 && get)
        ctl_catalog(s, o);
    else if (strcmp(path, "/webhooks") == 0 && get)
        bcsim_out_set(o, 200, bcsim_hooks_stats(s));
    else if (strcmp(path, "/record") == 0 && post)
        ctl_record(s, body, o);
    else
        fail(o, 404, "unknown control endpoint");
}
