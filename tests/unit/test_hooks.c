/*
 * Unit tests: sync/hooks (hooks_ensure) against the BigCommerce simulator
 * in-process (seeded from sim/seed/bigcommerce.json; run from the repository
 * root) and a temporary SQLite store for the audit trail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/bc_hooks.h"
#include "bc/bc_webhook.h"
#include "bc/bcsim.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "store/store.h"
#include "sync/hooks.h"

#define SEED_FILE "sim/seed/bigcommerce.json"
#define TOKEN     "tok-hooks-test"
#define SECRET    "hdr-SECRET-hooks-51d7"
#define HASH      "nwhg42"
/* Nothing listens there: deliveries fail at once. */
#define PUBLIC    "http://127.0.0.1:9/webhooks/bigcommerce"

#define CFG_BASE \
    "bigcommerce:\n" \
    "  store_hash: " HASH "\n" \
    "  token_ref: bc_token\n" \
    "  api_base_url: \"http://127.0.0.1:%u/stores/{store_hash}\"\n" \
    "%s" \
    "jde:\n" \
    "  ais_base_url: https://ais.example.com\n" \
    "  user: MLC\n" \
    "  password_ref: jde_pw\n" \
    "posting:\n" \
    "  company: \"00001\"\n" \
    "  accounts:\n" \
    "    revenue: \"100.4010\"\n" \
    "    discounts: \"100.4090\"\n" \
    "    shipping: \"100.4020\"\n" \
    "    tax: \"1.2310\"\n" \
    "    clearing: \"1.1150\"\n" \
    "    rounding: \"100.8990\"\n" \
    "orders:\n" \
    "  start: \"2020-01-01T00:00:00Z\"\n" \
    "store:\n" \
    "  url: \"%s\"\n" \
    "customers:\n" \
    "  enabled: %s\n"

#define CFG_HOOKS \
    "  webhook_public_url: \"" PUBLIC "\"\n" \
    "  webhook_secret_ref: bc_webhook_secret\n"

struct fx {
    struct bcsim       *sim;
    uint16_t            port;
    char                dir[64];
    char                db[96];
    struct store       *st;
    struct mlc_config  *cfg;
    struct mlc_secret  *token, *secret;
    struct pacer       *pacer;
    struct bc_client   *bc;
};

/* ---- fixture -------------------------------------------------------------- */

static struct mlc_config *load_cfg(struct fx *f, bool with_hooks, bool customers)
{
    char text[4096];
    struct mlc_config *cfg = NULL;
    struct mlc_err e;

    mlc_err_clear(&e);
    snprintf(text, sizeof(text), CFG_BASE, (unsigned)f->port, with_hooks ? CFG_HOOKS : "",
             f->db, customers ? "true" : "false");
    if (cfg_load_buffer("hooks.yaml", text, strlen(text), &cfg, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
    return cfg;
}

static void client_for(struct fx *f, struct mlc_config *cfg)
{
    struct mlc_err e;
    struct bc_client_tuning t = { .max_attempts = 3, .max_transient = 1, .base_delay_ms = 1,
                                  .max_delay_ms = 5, .max_pacer_wait_ms = 5000 };

    mlc_err_clear(&e);
    bc_client_free(f->bc);
    f->bc = NULL;
    cfg_unref(f->cfg);
    f->cfg = cfg;
    if (bc_client_new(&cfg->bigcommerce, f->token, f->pacer, &f->bc, &e) != MLC_OK)
        fail_msg("bc_client_new: %s", e.msg);
    bc_client_tune(f->bc, &t);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_error_t je;
    json_t *doc = json_load_file(SEED_FILE, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce"), *set;
    struct mlc_err e;

    mlc_err_clear(&e);
    assert_non_null(f);
    assert_non_null(seed);
    set = json_object_get(seed, "settings");
    json_object_set_new(set, "access_token", json_string(TOKEN));
    json_object_set_new(set, "rate_quota", json_integer(0));
    json_object_set_new(set, "webhook_retry_scale", json_real(0.000001));
    json_object_set_new(set, "webhook_timeout_ms", json_integer(500));
    json_object_set_new(set, "clock_frozen", json_true());
    if (bcsim_start("127.0.0.1:0", seed, &f->sim, &e) != MLC_OK)
        fail_msg("bcsim_start: %s", e.msg);
    json_decref(doc);
    f->port = bcsim_port(f->sim);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-test-hooks.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/mlc.db", f->dir);
    if (store_open(f->db, &f->st, &e) != MLC_OK)
        fail_msg("store_open: %s", e.msg);
    assert_int_equal(secret_new(TOKEN, strlen(TOKEN), &f->token, &e), MLC_OK);
    assert_int_equal(secret_new(SECRET, strlen(SECRET), &f->secret, &e), MLC_OK);
    assert_int_equal(pacer_new(NULL, &f->pacer, &e), MLC_OK);
    client_for(f, load_cfg(f, true, true));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char path[128];

    bc_client_free(f->bc);
    pacer_free(f->pacer);
    secret_free(f->token);
    secret_free(f->secret);
    cfg_unref(f->cfg);
    store_close(f->st);
    bcsim_free(f->sim);
    snprintf(path, sizeof(path), "%s/mlc.db", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-shm", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static void ensure(struct fx *f, struct hooks_report *r)
{
    struct mlc_err e;

    mlc_err_clear(&e);
    if (hooks_ensure(f->bc, f->cfg, f->secret, f->st, r, &e) != MLC_OK)
        fail_msg("hooks_ensure: %s", e.msg);
}

/* Every hook as BigCommerce lists it, raw (with headers). Caller decrefs. */
static json_t *raw_hooks(struct fx *f)
{
    struct bc_url u;
    struct bc_pager p;
    json_t *all = NULL;
    struct mlc_err e;

    mlc_err_clear(&e);
    bc_url_init(&u, "/v3/hooks");
    assert_int_equal(bc_pager_init(&p, f->bc, BC_PAGER_V3, &u, 250, &e), MLC_OK);
    if (bc_pager_collect(&p, 1000, &all, &e) != MLC_OK)
        fail_msg("list: %s", e.msg);
    bc_pager_free(&p);
    bc_url_free(&u);
    return all;
}

static const json_t *hook_at(const json_t *all, const char *scope, const char *dest)
{
    size_t i;
    const json_t *h;

    json_array_foreach(all, i, h)
        if (strcmp(json_string_value(json_object_get(h, "scope")), scope) == 0 &&
            strcmp(json_string_value(json_object_get(h, "destination")), dest) == 0)
            return h;
    return NULL;
}

static int64_t hook_id(struct fx *f, const char *scope, const char *dest)
{
    json_t *all = raw_hooks(f);
    const json_t *h = hook_at(all, scope, dest);
    int64_t id = h != NULL ? (int64_t)json_integer_value(json_object_get(h, "id")) : 0;

    json_decref(all);
    return id;
}

static const char *secret_header(const json_t *h)
{
    const char *k;
    json_t *v;

    json_object_foreach(json_object_get(h, "headers"), k, v)
        if (strcasecmp(k, BCWH_SECRET_HEADER) == 0)
            return json_string_value(v);
    return NULL;
}

/* Asserts every wanted scope has exactly our hook, active, with our secret. */
static void assert_all_ours(struct fx *f)
{
    const char *want[HOOKS_SCOPES_MAX];
    size_t n = hooks_wanted(f->cfg, want);
    json_t *all = raw_hooks(f);

    for (size_t i = 0; i < n; i++) {
        const json_t *h = hook_at(all, want[i], PUBLIC);

        if (h == NULL)
            fail_msg("no hook for %s", want[i]);
        assert_true(json_is_true(json_object_get(h, "is_active")));
        assert_non_null(secret_header(h));
        assert_string_equal(secret_header(h), SECRET);
    }
    json_decref(all);
}

/* PUT /v3/hooks/{id} with body. */
static void put(struct fx *f, int64_t id, json_t *body)
{
    struct bc_url u;
    struct bc_resp r;
    struct mlc_err e;
    char path[48];

    mlc_err_clear(&e);
    snprintf(path, sizeof(path), "/v3/hooks/%" PRId64, id);
    bc_url_init(&u, path);
    if (bc_call(f->bc, "PUT", &u, body, true, &r, &e) != MLC_OK)
        fail_msg("PUT: %s", e.msg);
    bc_resp_clear(&r);
    bc_url_free(&u);
    json_decref(body);
}

/* A hook registered by somebody else (or by us under an old URL). */
static int64_t create_hook(struct fx *f, const char *scope, const char *dest,
                           const char *header_value)
{
    struct mlc_secret *s = NULL;
    struct bc_hook h;
    struct mlc_err e;
    struct bc_hook_spec spec = { .scope = scope, .destination = dest, .is_active = true };
    int64_t id;

    mlc_err_clear(&e);
    if (header_value != NULL) {
        assert_int_equal(secret_new(header_value, strlen(header_value), &s, &e), MLC_OK);
        spec.header_name = BCWH_SECRET_HEADER;
        spec.header_value = s;
    }
    if (bc_hook_create(f->bc, &spec, &h, &e) != MLC_OK)
        fail_msg("create: %s", e.msg);
    id = h.id;
    bc_hook_clear(&h);
    secret_free(s);
    return id;
}

struct audit_count {
    const char *action;
    int         n;
    bool        leaked;
};

static int audit_cb(const struct store_audit *a, void *ctx)
{
    struct audit_count *c = ctx;

    if (a->detail != NULL && strstr(a->detail, SECRET) != NULL)
        c->leaked = true;
    if (c->action == NULL || strcmp(a->action, c->action) == 0)
        c->n++;
    return 0;
}

static int audits(struct fx *f, const char *action)
{
    struct audit_count c = { action, 0, false };
    struct mlc_err e;

    mlc_err_clear(&e);
    assert_int_equal(store_audit_list(f->st, NULL, 0, audit_cb, &c, &e), MLC_OK);
    assert_false(c.leaked);
    return c.n;
}

static size_t changes(const struct hooks_report *r)
{
    return r->created + r->reactivated + r->updated + r->deleted + r->failed;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_wanted_scopes(void **state)
{
    struct fx *f = *state;
    const char *want[HOOKS_SCOPES_MAX];
    struct mlc_config *c = load_cfg(f, true, false);

    assert_int_equal(hooks_wanted(c, want), 1);
    assert_string_equal(want[0], "store/order/*");
    assert_true(hooks_enabled(c));
    cfg_unref(c);
    assert_int_equal(hooks_wanted(f->cfg, want), 2);
    assert_string_equal(want[1], "store/customer/*");
    c = load_cfg(f, false, false);
    assert_false(hooks_enabled(c));
    cfg_unref(c);
}

static void test_create_then_nothing(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;

    ensure(f, &r);
    assert_false(r.skipped);
    assert_int_equal(r.wanted, 2);
    assert_int_equal(r.created, 2);
    assert_int_equal(r.ok, 0);
    assert_int_equal(r.failed, 0);
    assert_all_ours(f);
    assert_int_equal(audits(f, "create"), 2);

    /* Second run: all in place, nothing touched, nothing audited. */
    ensure(f, &r);
    assert_int_equal(r.ok, 2);
    assert_int_equal(changes(&r), 0);
    assert_int_equal(audits(f, NULL), 2);
    assert_all_ours(f);
}

static void test_reactivate(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    int64_t id;

    ensure(f, &r);
    id = hook_id(f, "store/order/*", PUBLIC);
    assert_true(id > 0);
    put(f, id, json_pack("{s:b}", "is_active", 0));
    ensure(f, &r);
    assert_int_equal(r.reactivated, 1);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.created, 0);
    assert_int_equal(hook_id(f, "store/order/*", PUBLIC), id);
    assert_all_ours(f);
    assert_int_equal(audits(f, "reactivate"), 1);
}

static bool admin_deactivated(struct fx *f, int64_t id)
{
    struct bc_hooks_admin a;
    struct mlc_err e;
    bool yes = false;

    mlc_err_clear(&e);
    assert_int_equal(bc_hooks_admin(f->bc, &a, &e), MLC_OK);
    for (size_t i = 0; i < a.n_hooks; i++)
        if (a.hooks[i].id == id && strcmp(a.hooks[i].status, "deactivated") == 0)
            yes = true;
    bc_hooks_admin_clear(&a);
    return yes;
}

/* An order change in the simulator (control API): fires store/order/updated. */
static void touch_order(struct fx *f, int64_t id)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char url[128];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");

    assert_non_null(c);
    assert_non_null(sink);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/__sim/orders/%" PRId64, (unsigned)f->port,
             id);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"customer_message\":\"touched\"}");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_true(status >= 200 && status < 300);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(sink);
}

static int count_alert(const struct store_alert *a, void *ctx)
{
    if (strcmp(a->reason, "hook.deactivated") == 0)
        (*(int *)ctx)++;
    return 0;
}

/* The operator's alerts of deactivated hooks in the outbox. */
static int hook_alerts(struct fx *f)
{
    int n = 0;

    assert_int_equal(store_alert_list(f->st, 0, 0, count_alert, &n, NULL), MLC_OK);
    return n;
}

static void test_deactivated_by_failures(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    int64_t id;
    int i;

    ensure(f, &r);
    id = hook_id(f, "store/order/*", PUBLIC);
    /* Deliveries to PUBLIC fail; the retries (scaled to microseconds) run
     * out and the simulator deactivates the hook, as BigCommerce does. */
    touch_order(f, 100);
    for (i = 0; i < 500 && !admin_deactivated(f, id); i++) {
        struct timespec ts = { 0, 20 * 1000000 };

        nanosleep(&ts, NULL);
    }
    assert_true(i < 500);
    ensure(f, &r);
    assert_int_equal(r.deactivated, 1);
    assert_int_equal(r.reactivated, 1);
    assert_int_equal(audits(f, "deactivated"), 1);
    assert_int_equal(audits(f, "reactivate"), 1);
    assert_int_equal(hook_alerts(f), 1); /* one alert for the operator */
    assert_false(admin_deactivated(f, id));
    assert_all_ours(f);
}

static void test_recreate_after_delete(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    struct mlc_err e;
    int64_t id;

    mlc_err_clear(&e);
    ensure(f, &r);
    id = hook_id(f, "store/customer/*", PUBLIC);
    assert_int_equal(bc_hook_delete(f->bc, id, &e), MLC_OK);
    assert_int_equal(hook_id(f, "store/customer/*", PUBLIC), 0);
    ensure(f, &r);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.ok, 1);
    assert_true(hook_id(f, "store/customer/*", PUBLIC) > 0);
    assert_int_not_equal(hook_id(f, "store/customer/*", PUBLIC), id);
    assert_all_ours(f);
    assert_int_equal(audits(f, "create"), 3);
}

static void test_wrong_header_rewritten(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    int64_t id, id2;

    ensure(f, &r);
    id = hook_id(f, "store/order/*", PUBLIC);
    put(f, id, json_pack("{s:{s:s}}", "headers", BCWH_SECRET_HEADER, "stale-value"));
    id2 = hook_id(f, "store/customer/*", PUBLIC);
    put(f, id2, json_pack("{s:n}", "headers"));
    ensure(f, &r);
    assert_int_equal(r.updated, 2);
    assert_int_equal(r.created, 0);
    assert_int_equal(hook_id(f, "store/order/*", PUBLIC), id);
    assert_all_ours(f);
    assert_int_equal(audits(f, "update"), 2);
}

static void test_foreign_untouched(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    const char *other = "http://127.0.0.1:9/someone-else";
    int64_t a, b, c;
    json_t *all;
    const json_t *h;

    a = create_hook(f, "store/order/*", other, NULL);
    b = create_hook(f, "store/order/created", "http://127.0.0.1:9/erp", "their-secret");
    c = create_hook(f, "store/cart/*", other, NULL);
    put(f, c, json_pack("{s:b}", "is_active", 0));
    ensure(f, &r);
    assert_int_equal(r.foreign, 3);
    assert_int_equal(r.created, 2);
    assert_int_equal(r.deleted, 0);
    all = raw_hooks(f);
    assert_int_equal(json_array_size(all), 5);
    h = hook_at(all, "store/order/*", other);
    assert_non_null(h);
    assert_int_equal(json_integer_value(json_object_get(h, "id")), a);
    assert_null(secret_header(h));
    h = hook_at(all, "store/order/created", "http://127.0.0.1:9/erp");
    assert_non_null(h);
    assert_int_equal(json_integer_value(json_object_get(h, "id")), b);
    assert_string_equal(secret_header(h), "their-secret");
    h = hook_at(all, "store/cart/*", other);
    assert_non_null(h);
    assert_false(json_is_true(json_object_get(h, "is_active")));
    json_decref(all);
    assert_all_ours(f);
}

static void test_moved_and_unwanted(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    const char *old = "http://127.0.0.1:9/old-path";
    int64_t moved, cart;
    json_t *all;

    /* Ours under an earlier URL (our secret proves it), and ours for a scope
     * no longer wanted. */
    moved = create_hook(f, "store/order/*", old, SECRET);
    cart = create_hook(f, "store/cart/*", PUBLIC, SECRET);
    ensure(f, &r);
    assert_int_equal(r.updated, 1);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.deleted, 1);
    assert_int_equal(r.foreign, 0);
    assert_int_equal(hook_id(f, "store/order/*", PUBLIC), moved);
    assert_int_equal(hook_id(f, "store/cart/*", PUBLIC), 0);
    (void)cart;
    all = raw_hooks(f);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    assert_all_ours(f);
    assert_int_equal(audits(f, "delete"), 1);

    /* Customers turned off: its hook goes, the order hook stays. */
    client_for(f, load_cfg(f, true, false));
    ensure(f, &r);
    assert_int_equal(r.wanted, 1);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.deleted, 1);
    assert_int_equal(hook_id(f, "store/customer/*", PUBLIC), 0);
}

/* catalog.enabled: the six product and SKU scopes (their catalog.sync jobs
 * have a handler); turned off, exactly those hooks of ours go. */
static void test_catalog_scopes(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    struct mlc_config *c = NULL;
    const char *want[HOOKS_SCOPES_MAX];
    char text[4096];
    struct mlc_err e;
    json_t *all;

    mlc_err_clear(&e);
    snprintf(text, sizeof(text), CFG_BASE "catalog:\n  enabled: true\n", (unsigned)f->port,
             CFG_HOOKS, f->db, "false");
    if (cfg_load_buffer("hooks.yaml", text, strlen(text), &c, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
    assert_int_equal(hooks_wanted(c, want), 7);
    assert_string_equal(want[1], "store/product/created");
    assert_string_equal(want[6], "store/sku/deleted");
    client_for(f, c);
    ensure(f, &r);
    assert_int_equal(r.created, 7);
    assert_true(hook_id(f, "store/sku/updated", PUBLIC) > 0);

    client_for(f, load_cfg(f, true, false));
    ensure(f, &r);
    assert_int_equal(r.wanted, 1);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.deleted, 6);
    assert_int_equal(hook_id(f, "store/product/updated", PUBLIC), 0);
    all = raw_hooks(f);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
}

static void test_skipped_without_url(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    json_t *all;

    client_for(f, load_cfg(f, false, true));
    ensure(f, &r);
    assert_true(r.skipped);
    assert_int_equal(changes(&r), 0);
    all = raw_hooks(f);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    assert_int_equal(audits(f, NULL), 0);
}

static void test_refused_and_https(void **state)
{
    struct fx *f = *state;
    struct hooks_report r;
    struct mlc_secret *bad = NULL;
    struct mlc_err e;
    struct mlc_config *c;
    char text[4096];
    const char *url = "https://mlc.example.com/webhooks/bigcommerce";

    mlc_err_clear(&e);
    snprintf(text, sizeof(text), CFG_BASE, (unsigned)f->port,
             "  webhook_public_url: \"https://mlc.example.com/webhooks/bigcommerce\"\n"
             "  webhook_secret_ref: bc_webhook_secret\n",
             f->db, "false");
    assert_int_equal(cfg_load_buffer("x.yaml", text, strlen(text), &c, &e), MLC_OK);
    client_for(f, c);

    /* A revoked token: BigCommerce refuses (401), the error comes back with
     * its status and nothing is recorded as done. */
    assert_int_equal(secret_new("wrong", 5, &bad, &e), MLC_OK);
    bc_client_free(f->bc);
    assert_int_equal(bc_client_new(&f->cfg->bigcommerce, bad, f->pacer, &f->bc, &e), MLC_OK);
    assert_int_equal(hooks_ensure(f->bc, f->cfg, f->secret, f->st, &r, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "401"));
    assert_int_equal(audits(f, NULL), 0);
    bc_client_free(f->bc);
    f->bc = NULL;
    secret_free(bad);

    /* The real token: an https destination on 443 is registered. */
    client_for(f, cfg_ref(f->cfg));
    ensure(f, &r);
    assert_int_equal(r.created, 1);
    assert_true(hook_id(f, "store/order/*", url) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wanted_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_then_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reactivate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deactivated_by_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recreate_after_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_header_rewritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_and_unwanted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skipped_without_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_and_https, setup, teardown),
    };

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    secret_lib_init();
    {
        int rc = cmocka_run_group_tests_name("hooks", tests, NULL, NULL);

        curl_global_cleanup();
        return rc;
    }
}
