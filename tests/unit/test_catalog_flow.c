/* Unit tests: the catalog flow (sync/catalog_flow) against the BigCommerce
 * and AIS simulators in-process, both started fresh for every case with a
 * temporary SQLite store. Run from the repository root (seeds in sim/seed/).
 *
 * Seeds: JDE items 60001 (SKU-1001, item-level 19.99, branch 110 18.50),
 * 60002 (SKU-1002, 5.25) and 60003 (SKU-1003, 129.00 from 2026-12-01).
 * BigCommerce: product 111 "NW-SOAP-6PK" (variant 1111, price 12.50),
 * product 114 "NW-POD" with variant 1141 "NW-POD-42" (19.99), product 115
 * "NW-CANDLE-CED" (variant 1151, 8.00). The SKU map joins them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers/simctl.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ais/aissim.h"
#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bcsim.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jobkind.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "net/httpc.h"
#include "store/store.h"
#include "sync/catalog_flow.h"
#include "sync/env.h"

#define BC_SEED  "sim/seed/bigcommerce.json"
#define AIS_SEED "sim/seed/jde.json"
#define BC_TOKEN "sim-token-northwind"
#define JDE_PWD  "mlcint-pass"
#define PUT_VARIANTS "PUT /v3/catalog/variants"
#define PUT_PRODUCTS "PUT /v3/catalog/products"
#define POST_PRODUCT "POST /v3/catalog/products"

#define MAP_11 "    \"SKU-1001\": \"NW-SOAP-6PK\"\n    \"SKU-1002\": \"NW-POD-42\"\n"
#define MAP_ALL MAP_11 "    \"SKU-1003\": \"NW-CANDLE-CED\"\n"

struct tc {
    struct bcsim      *bc;
    struct aissim     *ais;
    char               bc_base[64], ais_base[64];
    struct httpc      *ctl;
    char               dir[64], path[128];
    struct mlc_secret *tok, *pwd;
    struct mlc_config *cfg;
    struct store      *st;
    struct env        *env;
};

static struct tc T;

static int setup(void **state)
{
    struct tc *t = &T;
    json_error_t je;
    json_t *bdoc = json_load_file(BC_SEED, 0, &je), *adoc = json_load_file(AIS_SEED, 0, &je);
    json_t *bseed = json_object_get(bdoc, "bigcommerce");
    json_t *set = json_object_get(bseed, "settings");
    struct mlc_err e = { 0 };
    int rc = 0;

    (void)state;
    memset(t, 0, sizeof(*t));
    log_set_level(LOG_LVL_ERROR);
    if (set == NULL || adoc == NULL) {
        fprintf(stderr, "seeds: %s\n", je.text);
        rc = -1;
        goto out;
    }
    json_object_set_new(set, "rate_quota", json_integer(100000));
    json_object_set_new(set, "rate_window_ms", json_integer(600000));
    json_object_del(bseed, "hooks");  /* no webhook deliveries needed here */
    /* JD Edwards' "today" is the simulated clock: freeze it. */
    json_object_set_new(json_object_get(adoc, "jde"), "clock",
                        json_pack("{s:s, s:b}", "now", "2026-11-28T10:00:00Z", "frozen", 1));
    if (bcsim_start("127.0.0.1:0", bseed, &t->bc, &e) != MLC_OK ||
        aissim_start("127.0.0.1:0", json_object_get(adoc, "jde"), &t->ais, &e) != MLC_OK) {
        fprintf(stderr, "simulators: %s\n", e.msg);
        rc = -1;
        goto out;
    }
    snprintf(t->bc_base, sizeof(t->bc_base), "http://127.0.0.1:%u", (unsigned)bcsim_port(t->bc));
    snprintf(t->ais_base, sizeof(t->ais_base), "http://127.0.0.1:%u",
             (unsigned)aissim_port(t->ais));
    snprintf(t->dir, sizeof(t->dir), "/tmp/mlc-cat-test.XXXXXX");
    if (mkdtemp(t->dir) == NULL || httpc_new(NULL, &t->ctl, NULL) != MLC_OK ||
        secret_new(BC_TOKEN, strlen(BC_TOKEN), &t->tok, &e) != MLC_OK ||
        secret_new(JDE_PWD, strlen(JDE_PWD), &t->pwd, &e) != MLC_OK)
        rc = -1;
    snprintf(t->path, sizeof(t->path), "%s/s.db", t->dir);
out:
    json_decref(bdoc);
    json_decref(adoc);
    return rc;
}

static int teardown(void **state)
{
    struct tc *t = &T;
    static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
    char p[160];

    (void)state;
    env_free(t->env);
    store_close(t->st);
    cfg_unref(t->cfg);
    for (size_t k = 0; k < 4; k++) {
        snprintf(p, sizeof(p), "%s%s", t->path, sfx[k]);
        unlink(p);
    }
    rmdir(t->dir);
    httpc_free(t->ctl);
    bcsim_free(t->bc);
    aissim_free(t->ais);
    secret_free(t->tok);
    secret_free(t->pwd);
    return 0;
}

/* The run's config (catalog section `catalog`, indented two spaces), store
 * and env; the BigCommerce client retries fast. */
static void open_run(const char *catalog)
{
    struct tc *t = &T;
    struct bc_client_tuning tune = { .base_delay_ms = 1, .max_delay_ms = 2 };
    struct bc_client *bc = NULL;
    struct mlc_err e = { 0 };
    char text[4096];
    int n;

    n = snprintf(text, sizeof(text),
                 "log:\n  level: error\n"
                 "bigcommerce:\n  store_hash: \"nwhg42\"\n"
                 "  api_base_url: \"%s/stores/{store_hash}\"\n"
                 "  token_ref: \"bc_token\"\n  rate_reserve: 0\n  timeout_ms: 10000\n"
                 "jde:\n  ais_base_url: \"%s\"\n  environment: \"JDV920\"\n  role: \"*ALL\"\n"
                 "  device_name: \"mlc-cat-test\"\n  user: \"MLCINT\"\n"
                 "  password_ref: \"jde_password\"\n  timeout_ms: 4000\n"
                 "posting:\n  mode: journal\n  company: \"00001\"\n  timezone: \"UTC\"\n"
                 "  accounts:\n    revenue: \"100.4010\"\n    discounts: \"100.4020\"\n"
                 "    shipping: \"100.4030\"\n    handling: \"100.4040\"\n"
                 "    wrapping: \"100.4050\"\n    fees: \"100.4060\"\n    tax: \"1.2310\"\n"
                 "    clearing: \"1.1110\"\n    gift_certificate: \"1.2410\"\n"
                 "    store_credit: \"1.2420\"\n    rounding: \"100.7990\"\n"
                 "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"
                 "catalog:\n  enabled: true\n  price_currency: \"USD\"\n%s"
                 "store:\n  url: \"%s\"\n",
                 t->bc_base, t->ais_base, catalog, t->path);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (cfg_load_buffer("cat-test.yaml", text, (size_t)n, &t->cfg, &e) != MLC_OK)
        fprintf(stderr, "config: %s\n", e.msg);
    assert_non_null(t->cfg);
    assert_int_equal(store_open(t->path, &t->st, &e), MLC_OK);
    if (env_new_with(t->cfg, t->tok, t->pwd, &t->env, &e) != MLC_OK)
        fprintf(stderr, "env: %s\n", e.msg);
    assert_non_null(t->env);
    assert_int_equal(env_bc(t->env, &bc, &e), MLC_OK);
    bc_client_tune(bc, &tune);
}

/* A control call on a simulator; the parsed answer (caller decrefs). */
static json_t *ctl(const char *base, const char *method, const char *path, const char *body)
{
    return simctl(T.ctl, base, method, path, body);
}

static void ais_clock(const char *iso)
{
    char body[128];

    snprintf(body, sizeof(body), "{\"now\":\"%s\"}", iso);
    json_decref(ctl(T.ais_base, "POST", "/__sim/clock", body));
}

static void bc_counters_reset(void)
{
    json_decref(ctl(T.bc_base, "POST", "/__sim/counters/reset", "{}"));
}

static long long bc_counter(const char *key)
{
    json_t *c = ctl(T.bc_base, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, key));

    json_decref(c);
    return n;
}

static long long bc_writes(void)
{
    return bc_counter(PUT_VARIANTS) + bc_counter(PUT_PRODUCTS) + bc_counter(POST_PRODUCT);
}

/* The product of the catalog whose SKU (product-level) is sku, or NULL
 * (a new reference: caller decrefs). */
static json_t *catalog_product(const char *sku)
{
    json_t *c = ctl(T.bc_base, "GET", "/__sim/catalog", NULL), *p, *out = NULL;
    size_t i;

    json_array_foreach(json_object_get(c, "products"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "sku")), sku) == 0)
            out = json_incref(p);
    json_decref(c);
    return out;
}

/* The price of variant vid in cents (its own, else the product's). */
static int64_t variant_cents(int64_t vid)
{
    json_t *c = ctl(T.bc_base, "GET", "/__sim/catalog", NULL), *p, *v;
    int64_t cents = -1;
    size_t i, k;

    json_array_foreach(json_object_get(c, "products"), i, p) {
        json_array_foreach(json_object_get(p, "variants"), k, v) {
            json_t *pr = json_object_get(v, "price");

            if (json_integer_value(json_object_get(v, "id")) != vid)
                continue;
            if (!json_is_number(pr))
                pr = json_object_get(p, "price");
            assert_int_equal(jx_money_value(pr, 2, MONEY_ROUND_EXACT, &cents, NULL), MLC_OK);
        }
    }
    json_decref(c);
    return cents;
}

static char *product_name(const char *sku)
{
    json_t *p = catalog_product(sku);
    char *name;

    assert_non_null(p);
    name = strdup(json_string_value(json_object_get(p, "name")));
    json_decref(p);
    return name;
}

static int poll_ok(struct cat_stats *s)
{
    struct mlc_err e = { 0 };
    int rc = cat_poll(T.env, T.st, T.cfg, 0, s, &e);

    if (rc != MLC_OK)
        fprintf(stderr, "cat_poll: %s\n", e.msg);
    return rc;
}

static int wm_get(const char *name, char *buf, size_t cap)
{
    return store_watermark_get(T.st, name, buf, cap, NULL);
}

/* Rows of the audit trail for entity with action. */
struct audit_q { const char *action, *outcome; int n; };

static int on_audit(const struct store_audit *a, void *ctx)
{
    struct audit_q *q = ctx;

    if (strcmp(a->action, q->action) == 0 && strcmp(a->outcome, q->outcome) == 0)
        q->n++;
    return 0;
}

static int audit_count(const char *entity, const char *action, const char *outcome)
{
    struct audit_q q = { action, outcome, 0 };

    assert_int_equal(store_audit_list(T.st, entity, 0, on_audit, &q, NULL), MLC_OK);
    return q.n;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_watermark_text(void **state)
{
    struct jdate_stamp w = { 126331, 80000 }, r = { 0, 0 };
    char buf[CAT_WM_SIZE];

    (void)state;
    assert_int_equal(cat_wm_format(&w, buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "126331/080000");
    assert_int_equal(cat_wm_parse(buf, &r, NULL), MLC_OK);
    assert_int_equal(r.julian, 126331);
    assert_int_equal(r.hhmmss, 80000);
    assert_int_not_equal(cat_wm_parse("126331", &r, NULL), MLC_OK);
    assert_int_not_equal(cat_wm_parse("126331/250000", &r, NULL), MLC_OK);
    assert_int_not_equal(cat_wm_parse("12a331/080000", &r, NULL), MLC_OK);
    assert_int_not_equal(cat_wm_parse("/080000", &r, NULL), MLC_OK);
}

/* First poll prices both mapped items (rounded, only what differs); an
 * unchanged poll writes nothing; a changed UPRC gives one variant PUT. */
static void test_price_change(void **state)
{
    struct cat_stats s;
    char wm[64];

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_11);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_ENOTFOUND);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.price_updates, 2);
    assert_int_equal(s.name_updates, 0);
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.missing, 1);      /* SKU-1003 (no effective price yet) */
    assert_int_equal(variant_cents(1111), 1999);
    assert_int_equal(variant_cents(1141), 525);
    assert_int_equal(variant_cents(1142), 3499);  /* the other variant untouched */
    assert_int_equal(wm_get(CAT_WM_ITEMS, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
    assert_int_equal(audit_count("catalog", "poll", "ok"), 1);

    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(bc_writes(), 0);
    assert_int_equal(s.price_updates, 0);

    /* 21.1250 rounds half away from zero to 21.13. */
    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4106",
                    "{\"rows\":[{\"ITM\":60001,\"LITM\":\"SKU-1001\",\"AITM\":\"W-LARGE\","
                    "\"MCU\":\"\",\"CRCD\":\"USD\",\"UOM\":\"EA\",\"EFTJ\":\"20260101\","
                    "\"EXDJ\":\"20261231\",\"UPRC\":\"21.1250\"}]}"));
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    /* 60001, and 60003 whose rows sit exactly at the (inclusive) watermark */
    assert_int_equal(s.items, 2);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(bc_counter(PUT_VARIANTS), 1);
    assert_int_equal(bc_writes(), 1);
    assert_int_equal(variant_cents(1111), 2113);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126332/100000");   /* stamped by the simulated clock */
    assert_int_equal(wm_get(CAT_WM_ITEMS, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
}

/* DSC1 becomes the product name where the SKU is the product's own; a
 * variant SKU never renames its product. A later DSC1 change is pushed. */
static void test_name_sync(void **state)
{
    struct cat_stats s;
    char *name;

    (void)state;
    open_run("  sync_name: true\n  sync_price: false\n  sku_map:\n" MAP_11);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.name_updates, 1);
    assert_int_equal(s.price_updates, 0);
    name = product_name("NW-SOAP-6PK");
    assert_string_equal(name, "Widget, large");
    free(name);
    name = product_name("NW-POD");
    assert_string_equal(name, "Laundry Pods");
    free(name);
    assert_int_equal(variant_cents(1111), 1250);  /* sync_price off */

    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4101",
                    "{\"rows\":[{\"ITM\":60001,\"LITM\":\"SKU-1001\",\"AITM\":\"W-LARGE\","
                    "\"DSC1\":\"Widget, extra large  \",\"STKT\":\"S\",\"LNTY\":\"S\","
                    "\"UOM1\":\"EA\",\"GLPT\":\"IN30\"}]}"));
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.name_updates, 1);
    assert_int_equal(bc_counter(PUT_PRODUCTS), 1);
    name = product_name("NW-SOAP-6PK");
    assert_string_equal(name, "Widget, extra large");
    free(name);
}

/* A name BigCommerce refuses (409, another product's) is audited and
 * counted, and does not hold the watermarks back. */
static void test_item_refused(void **state)
{
    struct cat_stats s;
    char wm[64];

    (void)state;
    open_run("  sync_price: false\n  sku_map:\n" MAP_11);
    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4101",
                    "{\"rows\":[{\"ITM\":60001,\"LITM\":\"SKU-1001\",\"AITM\":\"W-LARGE\","
                    "\"DSC1\":\"Dish Liquid 1 L\",\"UOM1\":\"EA\"}]}"));
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.name_updates, 0);
    assert_int_equal(audit_count("sku:NW-SOAP-6PK", "product", "error"), 1);
    assert_int_equal(wm_get(CAT_WM_ITEMS, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126332/100000");
}

/* With price_branch the branch row wins over the item-level one; an item
 * without a branch price falls back to its item-level price. */
static void test_branch_price(void **state)
{
    struct cat_stats s;

    (void)state;
    open_run("  sync_name: false\n  price_branch: \"110\"\n  sku_map:\n" MAP_11);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.price_updates, 2);
    assert_int_equal(variant_cents(1111), 1850);
    assert_int_equal(variant_cents(1141), 525);
}

/* Without a branch only item-level rows count. */
static void test_item_level_price(void **state)
{
    struct cat_stats s;

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_11);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(variant_cents(1111), 1999);
}

/* 60003's price opens on 2026-12-01: nothing before, applied on that day
 * (JDE's today, the simulated clock) though its UPMJ did not change. */
static void test_window_opens_today(void **state)
{
    struct cat_stats s;

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_ALL);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.no_price, 1);
    assert_int_equal(variant_cents(1151), 800);

    ais_clock("2026-11-30T10:00:00Z");
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.items, 1);        /* re-read at the inclusive watermark */
    assert_int_equal(s.no_price, 1);
    assert_int_equal(bc_writes(), 0);
    assert_int_equal(variant_cents(1151), 800);

    ais_clock("2026-12-01T08:00:00Z");
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.items, 1);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(bc_counter(PUT_VARIANTS), 1);
    assert_int_equal(variant_cents(1151), 12900);

    /* The same day again: found again, nothing to write. */
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.items, 1);
    assert_int_equal(s.unchanged, 1);
    assert_int_equal(bc_writes(), 0);

    /* 60001's windows closed yesterday (EXDJ 2026-12-31): found through
     * TODAY_MINUS_DAY; with no price in force its catalog price stays. */
    ais_clock("2027-01-01T08:00:00Z");
    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.items, 2);        /* 60001 and 60003 (watermark) */
    assert_int_equal(s.no_price, 1);
    assert_int_equal(bc_writes(), 0);
    assert_int_equal(variant_cents(1111), 1999);
}

/* SKU-1003 is not in BigCommerce: audited without create_missing. */
static void test_missing_sku(void **state)
{
    struct cat_stats s;
    json_t *p;

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_11);
    ais_clock("2026-12-02T10:00:00Z");
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.missing, 1);
    assert_int_equal(s.created, 0);
    assert_int_equal(bc_counter(POST_PRODUCT), 0);
    assert_null((p = catalog_product("SKU-1003")));
    assert_int_equal(audit_count("sku:SKU-1003", "missing SKU", "skipped"), 1);
}

/* With create_missing: one hidden physical product, weight 0, at 129.00;
 * not created again by the next poll. */
static void test_create_missing(void **state)
{
    struct cat_stats s;
    json_t *p;
    int64_t cents = 0;

    (void)state;
    open_run("  sync_name: true\n  create_missing: true\n  sku_map:\n" MAP_11);
    ais_clock("2026-12-02T10:00:00Z");
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.created, 1);
    assert_int_equal(s.missing, 0);
    p = catalog_product("SKU-1003");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "name")), "Gadget deluxe");
    assert_string_equal(json_string_value(json_object_get(p, "type")), "physical");
    assert_true(json_is_false(json_object_get(p, "is_visible")));
    assert_int_equal(jx_money_value(json_object_get(p, "price"), 2, MONEY_ROUND_EXACT, &cents,
                                    NULL), MLC_OK);
    assert_int_equal(cents, 12900);
    assert_int_equal(jx_money_value(json_object_get(p, "weight"), 2, MONEY_ROUND_EXACT, &cents,
                                    NULL), MLC_OK);
    assert_int_equal(cents, 0);
    json_decref(p);
    assert_int_equal(audit_count("sku:SKU-1003", "create", "ok"), 1);

    bc_counters_reset();
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.created, 0);
    assert_int_equal(bc_counter(POST_PRODUCT), 0);
}

/* BigCommerce failing (5xx through the client's retries) fails the poll and
 * keeps both watermarks; the next poll after recovery pushes and moves them. */
static void test_watermark_after_success(void **state)
{
    struct cat_stats s;
    struct mlc_err e = { 0 };
    char wm[64];

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_11);
    json_decref(ctl(T.bc_base, "POST", "/__sim/faults", "{\"error_next\":1000}"));
    assert_int_not_equal(cat_poll(T.env, T.st, T.cfg, 0, &s, &e), MLC_OK);
    assert_int_equal(wm_get(CAT_WM_ITEMS, wm, sizeof(wm)), MLC_ENOTFOUND);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_ENOTFOUND);
    assert_int_equal(audit_count("catalog", "poll", "ok"), 0);

    json_decref(ctl(T.bc_base, "POST", "/__sim/faults", "{\"reset\":true}"));
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(variant_cents(1111), 1999);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");

    /* A later change that cannot be pushed leaves the moved watermark. */
    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4106",
                    "{\"rows\":[{\"ITM\":60002,\"LITM\":\"SKU-1002\",\"AITM\":\"W-SMALL\","
                    "\"MCU\":\"\",\"CRCD\":\"USD\",\"UOM\":\"EA\",\"EFTJ\":\"20260101\","
                    "\"EXDJ\":\"20401231\",\"UPRC\":\"6.0000\"}]}"));
    json_decref(ctl(T.bc_base, "POST", "/__sim/faults", "{\"error_next\":1000}"));
    mlc_err_clear(&e);
    assert_int_not_equal(cat_poll(T.env, T.st, T.cfg, 0, &s, &e), MLC_OK);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
    json_decref(ctl(T.bc_base, "POST", "/__sim/faults", "{\"reset\":true}"));
    assert_int_equal(variant_cents(1141), 525);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(variant_cents(1141), 600);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126332/100000");
}

/* JDE failing while changes are read (after a good poll, so the session is
 * up): the poll fails cleanly (an error, no crash, no double free) and
 * keeps the watermark; once JDE answers, the next poll catches up. */
static void test_jde_read_fails(void **state)
{
    struct cat_stats s;
    struct mlc_err e = { 0 };
    char wm[64];

    (void)state;
    open_run("  sync_name: false\n  sku_map:\n" MAP_11);
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4106",
                    "{\"rows\":[{\"ITM\":60002,\"LITM\":\"SKU-1002\",\"AITM\":\"W-SMALL\","
                    "\"MCU\":\"\",\"CRCD\":\"USD\",\"UOM\":\"EA\",\"EFTJ\":\"20260101\","
                    "\"EXDJ\":\"20401231\",\"UPRC\":\"6.0000\"}]}"));
    json_decref(ctl(T.ais_base, "POST", "/__sim/faults", "{\"fail_next\":50}"));
    assert_int_not_equal(cat_poll(T.env, T.st, T.cfg, 0, &s, &e), MLC_OK);
    assert_true(e.msg[0] != '\0');
    assert_int_equal(wm_get(CAT_WM_PRICES, wm, sizeof(wm)), MLC_OK);
    assert_string_equal(wm, "126331/080000");
    assert_int_equal(variant_cents(1141), 525);
    json_decref(ctl(T.ais_base, "POST", "/__sim/faults", "{\"fail_next\":0}"));
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(variant_cents(1141), 600);
}

/* sku_source aitm: the third item number goes through the SKU map. */
static void test_aitm_source(void **state)
{
    struct cat_stats s;

    (void)state;
    open_run("  sync_name: false\n  sku_source: aitm\n"
             "  sku_map:\n    \"W-LARGE\": \"NW-SOAP-6PK\"\n");
    assert_int_equal(poll_ok(&s), MLC_OK);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(variant_cents(1111), 1999);
    assert_int_equal(audit_count("sku:W-SMALL", "missing SKU", "skipped"), 1);
    assert_int_equal(audit_count("sku:SKU-1001", "missing SKU", "skipped"), 0);
}

/* ---- product jobs (catalog.sync) ------------------------------------------------- */

/* Runs the product jobs keys[0..n); outcomes and reasons into res/errs. */
static void sync_products(const char *const *keys, size_t n, enum cat_outcome *res,
                          struct mlc_err *errs, struct cat_stats *s)
{
    struct cat_run r = { .env = T.env, .st = T.st, .cfg = T.cfg, .actor = "worker:1" };
    struct mlc_err e = { 0 };

    assert_int_equal(cat_sync_products(&r, keys, n, res, errs, s, &e), MLC_OK);
}

/* One job; its outcome. */
static enum cat_outcome sync_one(const char *key, struct cat_stats *s)
{
    enum cat_outcome res = CAT_RETRY;
    struct mlc_err err = { 0 };

    sync_products(&key, 1, &res, &err, s);
    if (res != CAT_DONE)
        fprintf(stderr, "%s: %s\n", key, err.msg);
    return res;
}

/* An edit in BigCommerce through its API (what the store's admin does). */
static void bc_edit(const char *what, json_t *items)
{
    struct bc_client *bc = NULL;
    struct bc_item_result *res = NULL;
    size_t n = 0;
    struct mlc_err e = { 0 };

    assert_int_equal(env_bc(T.env, &bc, &e), MLC_OK);
    if (strcmp(what, "variants") == 0)
        assert_int_equal(bc_variants_update(bc, items, &res, &n, &e), MLC_OK);
    else
        assert_int_equal(bc_products_update(bc, items, &res, &n, &e), MLC_OK);
    free(res);
    json_decref(items);
}

/* A product edited in BigCommerce gets JDE's name and price back (JDE is
 * the master); run again (our own write fires the same webhook), nothing
 * differs and nothing is written: no loop. */
static void test_product_job_restores_jde_values(void **state)
{
    struct cat_stats s;
    char *name;

    (void)state;
    open_run("  sku_map:\n" MAP_11);
    assert_int_equal(sync_one("product:111", &s), CAT_DONE);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(s.name_updates, 1);
    assert_int_equal(variant_cents(1111), 1999);

    bc_edit("variants", json_pack("[{s:i, s:f}]", "id", 1111, "price", 9.99));
    bc_edit("products", json_pack("[{s:i, s:s}]", "id", 111, "name", "Soap, on sale"));
    assert_int_equal(variant_cents(1111), 999);
    bc_counters_reset();
    assert_int_equal(sync_one("product:111", &s), CAT_DONE);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(s.name_updates, 1);
    assert_int_equal(bc_counter(PUT_VARIANTS), 1);
    assert_int_equal(bc_counter(PUT_PRODUCTS), 1);
    assert_int_equal(bc_counter("GET /v3/catalog/products"), 1);  /* read once */
    assert_int_equal(variant_cents(1111), 1999);
    name = product_name("NW-SOAP-6PK");
    assert_string_equal(name, "Widget, large");
    free(name);
    assert_int_equal(audit_count("sku:NW-SOAP-6PK", "price", "ok"), 2);

    /* the webhook of our own write: nothing differs, nothing written */
    bc_counters_reset();
    assert_int_equal(sync_one("product:111", &s), CAT_DONE);
    assert_int_equal(s.unchanged, 1);
    assert_int_equal(bc_writes(), 0);
    /* a SKU event names its variant: the same product, the same answer */
    assert_int_equal(sync_one("sku:1111", &s), CAT_DONE);
    assert_int_equal(bc_writes(), 0);
}

/* Several jobs in one run: products read together, each job its own
 * outcome. A variant SKU prices its variant but never names the product;
 * a product none of whose SKUs JDE knows, and a deleted product, are
 * audited and done (not held); a key of the wrong shape holds. */
static void test_product_jobs_batch(void **state)
{
    const char *keys[] = { "product:111", "product:114", "sku:1141", "product:112",
                           "product:999", "order:1" };
    enum cat_outcome res[6];
    struct mlc_err errs[6];
    struct cat_stats s;
    char *name;

    (void)state;
    open_run("  sku_map:\n" MAP_11);
    bc_counters_reset();
    sync_products(keys, 6, res, errs, &s);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(res[i], CAT_DONE);
    assert_int_equal(res[5], CAT_HOLD);
    assert_non_null(strstr(errs[5].msg, "is not product:<id> or sku:<id>"));
    assert_int_equal(bc_counter("GET /v3/catalog/products"), 1);
    assert_int_equal(s.items, 2);
    assert_int_equal(s.price_updates, 2);
    assert_int_equal(bc_counter(PUT_VARIANTS), 1);   /* both prices in one batch */
    assert_int_equal(variant_cents(1111), 1999);
    assert_int_equal(variant_cents(1141), 525);
    assert_int_equal(variant_cents(1142), 3499);
    name = product_name("NW-POD");
    assert_string_equal(name, "Laundry Pods");
    free(name);
    assert_int_equal(audit_count("product:112", "catalog.sync", "skipped"), 1);
    assert_int_equal(audit_count("product:999", "catalog.sync", "skipped"), 1);
    assert_int_equal(audit_count("product:111", "catalog.sync", "skipped"), 0);
    assert_null(catalog_product("SKU-1003"));   /* never created from a job */
}

/* sku_source aitm, the map read backwards: W-LARGE is NW-SOAP-6PK. */
static void test_product_job_aitm(void **state)
{
    struct cat_stats s;

    (void)state;
    open_run("  sync_name: false\n  sku_source: aitm\n"
             "  sku_map:\n    \"W-LARGE\": \"NW-SOAP-6PK\"\n");
    assert_int_equal(sync_one("product:111", &s), CAT_DONE);
    assert_int_equal(s.price_updates, 1);
    assert_int_equal(variant_cents(1111), 1999);
}

/* BigCommerce refusing JDE's value (the name belongs to another product)
 * holds the job with its message; JDE failing retries it, nothing written. */
static void test_product_job_refused_or_jde_down(void **state)
{
    enum cat_outcome res = CAT_DONE;
    struct mlc_err err = { 0 };
    struct cat_stats s;
    const char *key = "product:111";

    (void)state;
    open_run("  sync_price: false\n  sku_map:\n" MAP_11);
    json_decref(ctl(T.ais_base, "POST", "/__sim/table/F4101",
                    "{\"rows\":[{\"ITM\":60001,\"LITM\":\"SKU-1001\",\"AITM\":\"W-LARGE\","
                    "\"DSC1\":\"Dish Liquid 1 L\",\"UOM1\":\"EA\"}]}"));
    sync_products(&key, 1, &res, &err, &s);
    assert_int_equal(res, CAT_HOLD);
    assert_non_null(strstr(err.msg, "BigCommerce refused"));
    assert_non_null(strstr(err.msg, "NW-SOAP-6PK"));

    json_decref(ctl(T.ais_base, "POST", "/__sim/faults", "{\"fail_next\":50}"));
    bc_counters_reset();
    res = CAT_DONE;
    sync_products(&key, 1, &res, &err, &s);
    assert_int_equal(res, CAT_RETRY);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(bc_writes(), 0);
    json_decref(ctl(T.ais_base, "POST", "/__sim/faults", "{\"fail_next\":0}"));
}

static void test_sku_for(void **state)
{
    struct cfg_str_map m[] = { { "SKU-1001", "NW-SOAP-6PK" } };
    struct cfg_catalog c = { .sku_map = m, .n_sku_map = 1 };

    (void)state;
    assert_string_equal(cat_sku_for(&c, "SKU-1001"), "NW-SOAP-6PK");
    assert_string_equal(cat_sku_for(&c, "SKU-1002"), "SKU-1002");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watermark_text),
        cmocka_unit_test(test_sku_for),
        cmocka_unit_test_setup_teardown(test_price_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_level_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_opens_today, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_sku, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watermark_after_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jde_read_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aitm_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_job_restores_jde_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_jobs_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_job_aitm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_job_refused_or_jde_down, setup, teardown),
    };

    return cmocka_run_group_tests_name("catalog_flow", tests, NULL, NULL);
}
