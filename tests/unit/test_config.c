/* Unit tests: config (field table, YAML loading, errors, example, commands).
 * Run from the repository root (fixtures in tests/unit/data/config/). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/config_int.h"
#include "core/jdate.h"

/* The required keys only: 16 lines, so appended text starts on line 17 and
 * posting.accounts.tax is on line 14. */
#define BASE \
    "bigcommerce:\n"                       /*  1 */ \
    "  store_hash: abc123\n"               /*  2 */ \
    "  token_ref: bc_token\n"              /*  3 */ \
    "jde:\n"                               /*  4 */ \
    "  ais_base_url: https://ais.example.com\n" /* 5 */ \
    "  user: MLC\n"                        /*  6 */ \
    "  password_ref: jde_pw\n"             /*  7 */ \
    "posting:\n"                           /*  8 */ \
    "  company: \"00001\"\n"               /*  9 */ \
    "  accounts:\n"                        /* 10 */ \
    "    revenue: \"100.4010\"\n"          /* 11 */ \
    "    discounts: \"100.4090\"\n"        /* 12 */ \
    "    shipping: \"100.4020\"\n"         /* 13 */ \
    "    tax: \"1.2310\"\n"                /* 14 */ \
    "    clearing: \"1.1150\"\n"           /* 15 */ \
    "    rounding: \"100.8990\"\n"         /* 16 */

#define DATA "tests/unit/data/config/"

/* The required go-live cutover. load_ok and expect_err append it to a text
 * that has a posting section and no orders section, after everything
 * else, so that the line numbers above stay as they are. */
#define CUTOVER "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"

/* text, with CUTOVER appended when it applies (caller frees). */
static char *with_cutover(const char *text)
{
    bool add = strstr(text, "posting:\n") != NULL && strstr(text, "orders:") == NULL;
    size_t n = strlen(text) + (add ? strlen(CUTOVER) : 0) + 1;
    char *out = malloc(n);

    assert_non_null(out);
    snprintf(out, n, "%s%s", text, add ? CUTOVER : "");
    return out;
}

/* ---- helpers ---- */

struct collected {
    int  n;
    char msg[CFG_MAX_ERRORS + 2][600];
};

static void collect(const char *msg, void *ctx)
{
    struct collected *c = ctx;

    if (c->n < (int)(sizeof(c->msg) / sizeof(c->msg[0])))
        snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s", msg);
    c->n++;
}

static struct mlc_config *load_ok(const char *text)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e;
    char *full = with_cutover(text);

    mlc_err_clear(&e);
    if (cfg_load_buffer("mlc.yaml", full, strlen(full), &cfg, &e) != MLC_OK)
        fail_msg("unexpected error: %s", e.msg);
    free(full);
    assert_non_null(cfg);
    return cfg;
}

/* Loads text and checks that the first error is exactly want. */
static void expect_err(const char *text, const char *want)
{
    struct mlc_config *cfg = (struct mlc_config *)&cfg; /* must be reset */
    struct mlc_err e;
    char *full = with_cutover(text);
    int rc;

    mlc_err_clear(&e);
    rc = cfg_load_buffer("mlc.yaml", full, strlen(full), &cfg, &e);
    free(full);
    assert_true(rc < 0);
    assert_int_equal(e.code, rc);
    assert_null(cfg);
    assert_string_equal(e.msg, want);
}

/* BASE with one occurrence of from replaced by to (caller frees). */
static char *base_with(const char *from, const char *to)
{
    const char *base = BASE;
    const char *p = strstr(base, from);
    size_t n;
    char *out;

    assert_non_null(p);
    n = strlen(base) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
    return out;
}

static void expect_err_replaced(const char *from, const char *to, const char *want)
{
    char *text = base_with(from, to);

    expect_err(text, want);
    free(text);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL)
        return NULL;
    buf = malloc(65536);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_account(const struct cfg_account *a, const char *want)
{
    char buf[32];

    cfg_account_format(a, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

/* ---- the example ---- */

static void test_example_loads(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(cfg_example_yaml());
    assert_string_equal(cfg->path, "mlc.yaml");
    assert_string_equal(cfg->bigcommerce.store_hash, "abc123def4");
    assert_string_equal(cfg->bigcommerce.api_base_url,
                        "https://api.bigcommerce.com/stores/abc123def4");
    assert_string_equal(cfg->bigcommerce.token_ref, "bigcommerce_token");
    assert_null(cfg->bigcommerce.webhook_public_url);
    assert_string_equal(cfg->jde.ais_base_url, "https://jde-ais.example.com:9300");
    assert_string_equal(cfg->jde.user, "MLCSVC");
    assert_string_equal(cfg->posting.company, "00001");
    assert_account(&cfg->posting.accounts.tax, "1.2310");
    assert_account(&cfg->posting.accounts.rounding, "100.8990");
    assert_string_equal(cfg->posting.accounts.handling.bu, "");
    assert_int_equal(cfg->posting.rounding_tolerance_minor, 2);
    assert_int_equal(cfg->posting.n_paid_statuses, 6);
    assert_int_equal(cfg->posting.n_revenue_by_sku, 0);
    assert_null(cfg->posting.revenue_by_sku);
    assert_string_equal(cfg->server.listen, "127.0.0.1:8080");
    assert_string_equal(cfg->orders.start, CFG_START_EXAMPLE);
    assert_int_equal(cfg->orders.start_id, 0);
    cfg_unref(cfg);
}

static void test_example_matches_etc(void **state)
{
    char *file;

    (void)state;
    file = read_all("etc/mlc.example.yaml");
    if (file == NULL)
        fail_msg("etc/mlc.example.yaml missing (run the tests from the repository root)");
    assert_string_equal(file, cfg_example_yaml());
    free(file);
}

/* A table whose example is far past 32 KiB (the old fixed buffer) is
 * written in full: every key, in order, and the end of the last line. */
static void test_example_large_table(void **state)
{
    enum { N = 400 };
    static const struct cfg_section sect[] = { { "big", "A large section." } };
    struct cfg_field *tbl = calloc(N, sizeof(*tbl));
    char (*keys)[32] = calloc(N, sizeof(*keys));
    char comment[121], want[64];
    char *out = NULL;
    const char *p;

    (void)state;
    assert_non_null(tbl);
    assert_non_null(keys);
    memset(comment, 'c', sizeof(comment) - 1);
    comment[sizeof(comment) - 1] = '\0';
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "big.key_%03d", i);
        tbl[i].key = keys[i];
        tbl[i].type = FT_STR;
        tbl[i].def = "a default value";
        tbl[i].comment = comment;
    }
    assert_int_equal(cfg_example_render(tbl, N, sect, 1, &out), MLC_OK);
    assert_non_null(out);
    assert_true(strlen(out) > 2 * 32768);
    assert_non_null(strstr(out, "\n# A large section.\nbig:\n"));
    p = out;
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof(want), "\n  %s: \"a default value\"\n", keys[i] + 4);
        p = strstr(p, want);
        if (p == NULL)
            fail_msg("key %d missing from the example", i);
    }
    assert_string_equal(p, "\n  key_399: \"a default value\"\n");
    free(out);
    free(keys);
    free(tbl);
}

/* Every setting line has a comment line right above it. */
static void test_example_fully_commented(void **state)
{
    const char *p = cfg_example_yaml();
    bool prev_comment = false;
    int settings = 0;

    (void)state;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t ind = strspn(p, " ");
        bool comment = ind < len && p[ind] == '#';

        assert_true(len < 200);
        if (ind < len && !comment) {
            if (!prev_comment)
                fail_msg("no comment above: %.*s", (int)len, p);
            settings++;
        }
        prev_comment = comment;
        p += len + (nl != NULL);
    }
    assert_true(settings > 60);
}

/* ---- values and defaults ---- */

static void test_defaults(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(BASE);
    assert_string_equal(cfg->log_level, "info");
    assert_string_equal(cfg->bigcommerce.api_base_url,
                        "https://api.bigcommerce.com/stores/abc123");
    assert_null(cfg->bigcommerce.webhook_public_url);
    assert_null(cfg->bigcommerce.client_secret_ref);
    assert_null(cfg->bigcommerce.ca_file);
    assert_int_equal(cfg->bigcommerce.rate_reserve, 20);
    assert_int_equal(cfg->bigcommerce.timeout_ms, 30000);
    assert_null(cfg->jde.environment);
    assert_string_equal(cfg->jde.device_name, "ml-connector");
    assert_int_equal(cfg->jde.timeout_ms, 60000);
    assert_string_equal(cfg->jde.orch.add_journal_entry, "MLC_AddJournalEntry");
    assert_string_equal(cfg->jde.orch.add_voucher, "MLC_AddVoucher");
    assert_string_equal(cfg->jde.orch.add_customer, "MLC_AddCustomer");
    assert_string_equal(cfg->jde.orch.update_customer, "MLC_UpdateCustomer");
    assert_int_equal(cfg->jde.n_inputs, 0);
    assert_int_equal(cfg->posting.mode, CFG_POST_JOURNAL);
    assert_string_equal(cfg->posting.document_type, "JE");
    assert_string_equal(cfg->posting.ledger_type, "AA");
    assert_int_equal(cfg->posting.gl_date, CFG_GLDATE_CREATED);
    assert_string_equal(cfg->posting.timezone, "UTC");
    assert_string_equal(cfg->posting.key_prefix, "BC");
    assert_int_equal(cfg->posting.rounding_tolerance_minor, 2);
    {
        static const int want[] = { 2, 3, 8, 9, 10, 11 };
        assert_int_equal(cfg->posting.n_paid_statuses, 6);
        for (size_t i = 0; i < 6; i++)
            assert_int_equal(cfg->posting.paid_statuses[i], want[i]);
    }
    assert_int_equal(cfg->posting.on_cancel, CFG_CANCEL_REVERSE);
    assert_null(cfg->posting.default_supplier);
    assert_null(cfg->posting.default_bu);
    assert_account(&cfg->posting.accounts.revenue, "100.4010");
    assert_string_equal(cfg->posting.accounts.store_credit.bu, "");
    assert_false(cfg->customers.enabled);
    assert_string_equal(cfg->customers.search_type, "C");
    assert_null(cfg->customers.ar_class);
    assert_false(cfg->catalog.enabled);
    assert_int_equal(cfg->catalog.sku_source, CFG_SKU_LITM);
    assert_true(cfg->catalog.sync_name);
    assert_true(cfg->catalog.sync_price);
    assert_false(cfg->catalog.create_missing);
    assert_int_equal(cfg->schedule.reconcile_interval, 900);
    assert_int_equal(cfg->schedule.session_keepalive_interval, 300);
    assert_string_equal(cfg->store.url, "mlc.db");
    assert_string_equal(cfg->store.master_key_file, "mlc.key");
    assert_string_equal(cfg->server.listen, "127.0.0.1:8080");
    assert_int_equal(cfg->server.threads, 16);
    assert_int_equal(cfg->server.max_connections, 256);
    assert_int_equal(cfg->server.max_connections_per_ip, 32);
    assert_int_equal(cfg->server.connection_timeout_s, 30);
    assert_int_equal(cfg->server.request_timeout_s, 10);
    assert_int_equal(cfg->server.max_body_bytes, 1048576);
    assert_null(cfg->server.admin_listen);
    assert_true(cfg->server.public_metrics);
    assert_int_equal(cfg->workers.count, 4);
    assert_int_equal(cfg->workers.lease_s, 120);
    assert_int_equal(cfg->workers.max_attempts, 10);
    assert_int_equal(cfg->workers.retry_base_ms, 1000);
    assert_int_equal(cfg->workers.retry_cap_ms, 300000);
    assert_int_equal(cfg->workers.drain_timeout_s, 30);
    cfg_unref(cfg);
}

static void test_full_file(void **state)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e;

    (void)state;
    mlc_err_clear(&e);
    if (cfg_load(DATA "full.yaml", &cfg, &e) != MLC_OK)
        fail_msg("%s", e.msg);
    assert_string_equal(cfg->path, DATA "full.yaml");
    assert_string_equal(cfg->log_level, "debug");
    /* {store_hash} substituted, trailing '/' dropped */
    assert_string_equal(cfg->bigcommerce.api_base_url, "http://127.0.0.1:7001/stores/s7x9k2");
    assert_string_equal(cfg->jde.ais_base_url, "https://ais.example.com:9300");
    assert_string_equal(cfg->bigcommerce.token_ref, "bc.token-1");
    assert_string_equal(cfg->bigcommerce.webhook_public_url,
                        "http://localhost:8080/webhooks/bigcommerce");
    assert_int_equal(cfg->bigcommerce.rate_reserve, 0);
    assert_string_equal(cfg->jde.role, "*ALL");
    assert_string_equal(cfg->jde.orch.add_voucher, "ACME_AddVoucher");
    assert_string_equal(cfg->jde.orch.add_journal_entry, "MLC_AddJournalEntry");
    /* maps come sorted by match */
    assert_int_equal(cfg->jde.n_inputs, 2);
    assert_string_equal(cfg->jde.inputs[0].match, "Company");
    assert_string_equal(cfg->jde.inputs[0].value, "CompanyCode");
    assert_string_equal(cfg->jde.inputs[1].match, "SupplierNumber");
    assert_int_equal(cfg->posting.mode, CFG_POST_VOUCHER);
    assert_string_equal(cfg->posting.company, "00070");
    assert_int_equal(cfg->posting.gl_date, CFG_GLDATE_PAID);
    assert_string_equal(cfg->posting.timezone, "America/Chicago");
    assert_string_equal(cfg->posting.key_prefix, "WEB");
    assert_int_equal(cfg->posting.rounding_tolerance_minor, 50);
    assert_int_equal(cfg->posting.n_paid_statuses, 2);
    assert_int_equal(cfg->posting.paid_statuses[0], 11); /* file order kept */
    assert_int_equal(cfg->posting.paid_statuses[1], 2);
    assert_int_equal(cfg->posting.on_cancel, CFG_CANCEL_HOLD);
    assert_string_equal(cfg->posting.default_supplier, "4242");
    assert_int_equal(cfg->posting.n_bu_by_channel, 2);
    assert_string_equal(cfg->posting.bu_by_channel[0].match, "1");
    assert_string_equal(cfg->posting.bu_by_channel[1].value, "200");
    assert_account(&cfg->posting.accounts.handling, "100.4030.HND");
    assert_string_equal(cfg->posting.accounts.handling.sub, "HND");
    assert_int_equal(cfg->posting.n_revenue_by_sku, 3);
    assert_string_equal(cfg->posting.revenue_by_sku[0].match, "SKU-A");
    assert_account(&cfg->posting.revenue_by_sku[0].account, "100.4011.A1");
    assert_string_equal(cfg->posting.revenue_by_sku[2].match, "SKU-C");
    assert_account(&cfg->posting.revenue_by_sku[2].account, "100.4013");
    assert_int_equal(cfg->posting.n_revenue_by_category, 0);
    assert_int_equal(cfg->posting.n_clearing_by_gateway, 1);
    assert_account(&cfg->posting.clearing_by_gateway[0].account, "1.1151");
    assert_string_equal(cfg->posting.supplier_by_gateway[0].value, "4243");
    assert_string_equal(cfg->orders.start, "2025-03-09T03:30:00-05:00");
    assert_int_equal(cfg->orders.start_s, 1741509000);
    assert_int_equal(cfg->orders.start_id, 5000);
    assert_true(cfg->customers.enabled);
    assert_string_equal(cfg->customers.ar_class, "NO"); /* a string, not false */
    assert_string_equal(cfg->customers.currency, "EUR");
    assert_true(cfg->catalog.enabled);
    assert_int_equal(cfg->catalog.sku_source, CFG_SKU_AITM);
    assert_string_equal(cfg->catalog.sku_map[0].value, "SKU-A");
    assert_false(cfg->catalog.sync_name);
    assert_true(cfg->catalog.sync_price);
    assert_string_equal(cfg->store.url, "postgresql://mlc@db.example.com/mlc");
    assert_string_equal(cfg->server.listen, "[::1]:9000");
    assert_int_equal(cfg->server.max_body_bytes, 2048);
    assert_int_equal(cfg->workers.count, 16);
    cfg_unref(cfg);
}

static void test_null_values_take_defaults(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(BASE "server:\n  threads:\n  listen: ~\ncatalog:\ncustomers:\n  ar_class:\n");
    assert_int_equal(cfg->server.threads, 16);
    assert_string_equal(cfg->server.listen, "127.0.0.1:8080");
    assert_null(cfg->customers.ar_class);
    cfg_unref(cfg);
}

static void test_scalars_are_text(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    /* A quoted boolean is still a boolean value; zeros are kept in codes. */
    cfg = load_ok(BASE "customers:\n  enabled: \"true\"\n  search_type: \"NO\"\n"
                  "server:\n  threads: \"8\"\n");
    assert_true(cfg->customers.enabled);
    assert_string_equal(cfg->customers.search_type, "NO");
    assert_int_equal(cfg->server.threads, 8);
    assert_string_equal(cfg->posting.company, "00001");
    cfg_unref(cfg);
}

static void test_rounding_tolerance(void **state)
{
    static const struct { const char *text; int64_t minor; } ok[] = {
        { "0.02", 2 }, { "\"0.5\"", 50 }, { "1", 100 }, { "0", 0 }, { "0.10", 10 },
        { "1.00", 100 },
    };
    static const char *const bad[] = {
        "0.025", "1.01", "-0.01", ".5", "0.", "1e-2", "0,02", "\"\"", "0.0.1",
    };
    char text[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct mlc_config *cfg;
        snprintf(text, sizeof(text), BASE "  rounding_tolerance: %s\n", ok[i].text);
        cfg = load_ok(text);
        assert_int_equal(cfg->posting.rounding_tolerance_minor, ok[i].minor);
        cfg_unref(cfg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), BASE "  rounding_tolerance: %s\n", bad[i]);
        expect_err(text, "mlc.yaml:17: posting.rounding_tolerance: expected a decimal "
                   "amount from 0.00 to 1.00 with at most 2 decimals, like \"0.02\"");
    }
}

static void test_load_buffer_uses_len(void **state)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e;
    const char *text = BASE CUTOVER "garbage: [\n";

    (void)state;
    mlc_err_clear(&e);
    assert_int_equal(cfg_load_buffer("inline", text, strlen(BASE CUTOVER), &cfg, &e), MLC_OK);
    assert_string_equal(cfg->path, "inline");
    cfg_unref(cfg);
    assert_int_equal(cfg_load_buffer("inline", text, strlen(text), &cfg, &e), MLC_EPARSE);
    assert_null(cfg);
    assert_int_equal(cfg_load_buffer("x", NULL, 0, &cfg, &e), MLC_EINVAL);
    assert_int_equal(cfg_load_buffer("x", "a: 1", 4, NULL, &e), MLC_EINVAL);
    /* NULL error pointer is fine */
    assert_int_equal(cfg_load_buffer("x", "", 0, &cfg, NULL), MLC_EPARSE);
}

/* ---- errors, one class each ---- */

static void test_err_unknown_key(void **state)
{
    (void)state;
    expect_err_replaced("  store_hash: abc123\n", "  store_hsh: abc123\n",
                        "mlc.yaml:2: bigcommerce.store_hsh: unknown key "
                        "(did you mean store_hash?)");
    expect_err(BASE "server:\n  bananas: 3\n", "mlc.yaml:18: server.bananas: unknown key");
    expect_err(BASE "sever:\n  threads: 3\n",
               "mlc.yaml:17: sever: unknown key (did you mean server?)");
    expect_err(BASE "  accounts2: 1\n",
               "mlc.yaml:17: posting.accounts2: unknown key (did you mean accounts?)");
}

static void test_err_bad_account(void **state)
{
    static const char *const bad[] = {
        "1.2310.", "1", ".2310", "1..2310", "1.2310.A.B", "1234567890123.2310",
        "1.1234567", "1.2310.123456789", "1 .2310", "\"\"", "[1]",
    };
    char want[] = "mlc.yaml:14: posting.accounts.tax: expected an account like "
                  "\"1.4410\" or \"100.4410.01\"";
    char line[64];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(line, sizeof(line), "    tax: %s\n", bad[i]);
        if (bad[i][0] == '[') {
            expect_err_replaced("    tax: \"1.2310\"\n", line,
                                "mlc.yaml:14: posting.accounts.tax: expected an account "
                                "like \"1.4410\" or \"100.4410.01\", not a list");
            continue;
        }
        expect_err_replaced("    tax: \"1.2310\"\n", line, want);
    }
}

static void test_err_bad_enum(void **state)
{
    (void)state;
    expect_err(BASE "  mode: jornal\n",
               "mlc.yaml:17: posting.mode: expected one of: journal, voucher");
    expect_err(BASE "  gl_date: Created\n",
               "mlc.yaml:17: posting.gl_date: expected one of: created, paid, posting");
    expect_err("log:\n  level: verbose\n" BASE,
               "mlc.yaml:2: log.level: expected one of: error, warn, info, debug");
}

static void test_err_bad_bool(void **state)
{
    static const char *const v11[] = { "yes", "no", "on", "off", "Yes", "NO", "y" };
    char text[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(v11) / sizeof(v11[0]); i++) {
        snprintf(text, sizeof(text), BASE "customers:\n  enabled: %s\n", v11[i]);
        expect_err(text, "mlc.yaml:18: customers.enabled: expected true or false "
                   "(YAML 1.1 yes/no/on/off are not accepted)");
    }
    expect_err(BASE "catalog:\n  sync_name: True\n",
               "mlc.yaml:18: catalog.sync_name: expected true or false");
    expect_err(BASE "catalog:\n  sync_name: 1\n",
               "mlc.yaml:18: catalog.sync_name: expected true or false");
}

static void test_err_int_range(void **state)
{
    (void)state;
    expect_err(BASE "server:\n  threads: 0\n",
               "mlc.yaml:18: server.threads: expected an integer from 1 to 64");
    expect_err(BASE "server:\n  threads: 65\n",
               "mlc.yaml:18: server.threads: expected an integer from 1 to 64");
    expect_err(BASE "server:\n  threads: 4.0\n",
               "mlc.yaml:18: server.threads: expected an integer from 1 to 64");
    expect_err(BASE "server:\n  threads: 99999999999999999999999\n",
               "mlc.yaml:18: server.threads: expected an integer from 1 to 64");
    expect_err(BASE "server:\n  request_timeout_s: 0\n",
               "mlc.yaml:18: server.request_timeout_s: expected an integer from 1 to 3600");
    expect_err(BASE "server:\n  max_connections_per_ip: -1\n",
               "mlc.yaml:18: server.max_connections_per_ip: expected an integer from 0 "
               "to 10000");
    expect_err(BASE "server:\n  max_body_bytes: 1k\n",
               "mlc.yaml:18: server.max_body_bytes: expected an integer from 1024 "
               "to 67108864");
    expect_err(BASE "workers:\n  count: -1\n",
               "mlc.yaml:18: workers.count: expected an integer from 1 to 256");
    expect_err(BASE "schedule:\n  hooks_interval: 0\n",
               "mlc.yaml:18: schedule.hooks_interval: expected an integer from 10 "
               "to 604800");
}

static void test_err_duplicate_key(void **state)
{
    (void)state;
    expect_err(BASE "  company: \"00002\"\n",
               "mlc.yaml:17: posting.company: duplicate key (first on line 9)");
    expect_err(BASE "jde:\n  timeout_ms: 5\n",
               "mlc.yaml:17: jde: duplicate key (first on line 4)");
    expect_err(BASE "  revenue_by_sku:\n    A: \"1.2\"\n    B: \"1.3\"\n    A: \"1.4\"\n",
               "mlc.yaml:20: posting.revenue_by_sku.A: duplicate key (first on line 18)");
}

static void test_err_missing_required(void **state)
{
    (void)state;
    expect_err_replaced("  token_ref: bc_token\n", "",
                        "mlc.yaml:1: bigcommerce.token_ref: required key is missing");
    expect_err_replaced("    rounding: \"100.8990\"\n", "",
                        "mlc.yaml:10: posting.accounts.rounding: required key is missing");
    expect_err_replaced("  token_ref: bc_token\n", "  token_ref:\n",
                        "mlc.yaml:3: bigcommerce.token_ref: a value is required");
    expect_err("log:\n  level: info\n",
               "mlc.yaml: bigcommerce.store_hash: required key is missing");
}

static void test_err_literal_secret(void **state)
{
    (void)state;
    expect_err(BASE "  token: abcdef\n",
               "mlc.yaml:17: posting.token: secrets must not be written in the "
               "configuration file; store the value with \"mlc credentials set NAME\" "
               "and refer to it by NAME in a *_ref key");
    expect_err_replaced("  token_ref: bc_token\n", "  token: 0123456789abcdef\n",
                        "mlc.yaml:3: bigcommerce.token: secrets must not be written in "
                        "the configuration file; store the value with \"mlc credentials "
                        "set NAME\" and set token_ref: NAME");
    expect_err_replaced("  password_ref: jde_pw\n", "  password: hunter2\n",
                        "mlc.yaml:7: jde.password: secrets must not be written in the "
                        "configuration file; store the value with \"mlc credentials set "
                        "NAME\" and set password_ref: NAME");
    expect_err("bigcommerce:\n  client_secret: x\n",
               "mlc.yaml:2: bigcommerce.client_secret: secrets must not be written in the "
               "configuration file; store the value with \"mlc credentials set NAME\" "
               "and set client_secret_ref: NAME");
    expect_err("jde:\n  AIS_API_KEY: x\n",
               "mlc.yaml:2: jde.AIS_API_KEY: secrets must not be written in the "
               "configuration file; store the value with \"mlc credentials set NAME\" "
               "and refer to it by NAME in a *_ref key");
    expect_err_replaced("  token_ref: bc_token\n", "  token_ref: Bad Name\n",
                        "mlc.yaml:3: bigcommerce.token_ref: expected a credential name "
                        "of 1-64 characters a-z 0-9 _ . -");
}

static void test_err_urls(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    expect_err_replaced("https://ais.example.com", "ais.example.com",
                        "mlc.yaml:5: jde.ais_base_url: expected a URL starting with "
                        "https:// or http:// (with a host, no user or password)");
    expect_err_replaced("https://ais.example.com", "https://user:pw@ais.example.com",
                        "mlc.yaml:5: jde.ais_base_url: expected a URL starting with "
                        "https:// or http:// (with a host, no user or password)");
    expect_err_replaced("https://ais.example.com", "https://",
                        "mlc.yaml:5: jde.ais_base_url: expected a URL starting with "
                        "https:// or http:// (with a host, no user or password)");
    expect_err_replaced("https://ais.example.com", "https://ais:x/",
                        "mlc.yaml:5: jde.ais_base_url: expected a URL starting with "
                        "https:// or http:// (with a host, no user or password)");
    expect_err_replaced("  token_ref: bc_token\n",
                        "  token_ref: bc_token\n"
                        "  webhook_public_url: http://mlc.example.com/hooks\n"
                        "  client_secret_ref: cs\n",
                        "mlc.yaml:4: bigcommerce.webhook_public_url: must start with "
                        "https:// (BigCommerce delivers webhooks over https on port 443; "
                        "http:// is accepted only for 127.0.0.1 and localhost)");
    expect_err_replaced("  token_ref: bc_token\n",
                        "  token_ref: bc_token\n"
                        "  webhook_public_url: https://mlc.example.com:8443/hooks\n"
                        "  client_secret_ref: cs\n",
                        "mlc.yaml:4: bigcommerce.webhook_public_url: must use port 443 "
                        "(BigCommerce delivers webhooks to port 443 only)");
    expect_err_replaced("  token_ref: bc_token\n",
                        "  token_ref: bc_token\n"
                        "  api_base_url: https://api.example.com/{store}\n",
                        "mlc.yaml:4: bigcommerce.api_base_url: expected a URL whose only "
                        "placeholder is {store_hash}");

    cfg = load_ok("bigcommerce:\n  store_hash: abc123\n  token_ref: bc_token\n"
                  "  webhook_public_url: http://127.0.0.1:8080/hooks\n"
                  "  webhook_secret_ref: wh\n"
                  "jde:\n  ais_base_url: http://127.0.0.1:9300\n  user: MLC\n"
                  "  password_ref: jde_pw\n"
                  "posting:\n  company: \"1\"\n  accounts:\n    revenue: \"1.1\"\n"
                  "    discounts: \"1.2\"\n    shipping: \"1.3\"\n    tax: \"1.4\"\n"
                  "    clearing: \"1.5\"\n    rounding: \"1.6\"\n");
    assert_string_equal(cfg->bigcommerce.webhook_public_url, "http://127.0.0.1:8080/hooks");
    cfg_unref(cfg);
    cfg = load_ok(BASE "store:\n  url: postgres://mlc@db/mlc?sslmode=require\n");
    cfg_unref(cfg);
    cfg = load_ok("bigcommerce:\n  store_hash: abc123\n  token_ref: bc_token\n"
                  "  webhook_public_url: https://mlc.example.com:443/hooks\n"
                  "  client_secret_ref: cs\n"
                  "jde:\n  ais_base_url: http://127.0.0.1:9300\n  user: MLC\n"
                  "  password_ref: jde_pw\n"
                  "posting:\n  company: \"1\"\n  accounts:\n    revenue: \"1.1\"\n"
                  "    discounts: \"1.2\"\n    shipping: \"1.3\"\n    tax: \"1.4\"\n"
                  "    clearing: \"1.5\"\n    rounding: \"1.6\"\n");
    cfg_unref(cfg);
}

static void test_err_other_values(void **state)
{
    (void)state;
    expect_err(BASE "store:\n  url: postgresql://mlc:s3cret@db/mlc\n",
               "mlc.yaml:18: store.url: must not contain a password (put it in a file "
               "named by store.password_ref, or in ~/.pgpass or PGPASSFILE)");
    expect_err(BASE "store:\n  url: mysql://db/mlc\n",
               "mlc.yaml:18: store.url: expected a SQLite file path or a postgresql:// URL");
    expect_err(BASE "server:\n  listen: 127.0.0.1:70000\n",
               "mlc.yaml:18: server.listen: expected host:port with a port from 1 to "
               "65535, like \"127.0.0.1:8080\"");
    expect_err(BASE "server:\n  listen: \":8080\"\n",
               "mlc.yaml:18: server.listen: expected host:port with a port from 1 to "
               "65535, like \"127.0.0.1:8080\"");
    expect_err_replaced("\"00001\"", "\"000001\"",
                        "mlc.yaml:9: posting.company: expected a company number of up to "
                        "5 digits, like \"00001\"");
    expect_err_replaced("abc123", "Abc123",
                        "mlc.yaml:2: bigcommerce.store_hash: expected the store hash: "
                        "lowercase letters and digits");
    expect_err(BASE "  key_prefix: SHOPIFY\n",
               "mlc.yaml:17: posting.key_prefix: expected 1-4 letters or digits");
    expect_err(BASE "  timezone: America/New_Yrok\n",
               "mlc.yaml:17: posting.timezone: unknown time zone: not in the system's tzdata "
               "(/usr/share/zoneinfo; check the spelling, or install tzdata)");
    expect_err(BASE "  timezone: ../etc/passwd\n",
               "mlc.yaml:17: posting.timezone: expected an IANA time zone name like "
               "\"UTC\" or \"America/Chicago\"");
    expect_err(BASE "  document_type: J\n",
               "mlc.yaml:17: posting.document_type: expected a 2-character code of "
               "uppercase letters or digits, like \"JE\"");
    expect_err(BASE "customers:\n  currency: usd\n",
               "mlc.yaml:18: customers.currency: expected an ISO 4217 currency code "
               "like \"USD\"");
    expect_err(BASE "customers:\n  search_type: \"C\\tX\"\n",
               "mlc.yaml:18: customers.search_type: must not contain control characters");
}

static void test_err_wrong_types(void **state)
{
    (void)state;
    expect_err(BASE "server: 8080\n",
               "mlc.yaml:17: server: expected a mapping of settings, not a value");
    expect_err(BASE "server:\n  - threads\n",
               "mlc.yaml:17: server: expected a mapping of settings, not a list");
    expect_err(BASE "server:\n  listen:\n    host: x\n",
               "mlc.yaml:18: server.listen: expected a string, not a mapping");
    expect_err(BASE "server:\n  threads: [1]\n",
               "mlc.yaml:18: server.threads: expected an integer from 1 to 64, not a list");
    expect_err(BASE "  paid_statuses: 2\n",
               "mlc.yaml:17: posting.paid_statuses: expected a list of integers from 0 "
               "to 14, like [2, 3]");
    expect_err(BASE "  revenue_by_sku: [1, 2]\n",
               "mlc.yaml:17: posting.revenue_by_sku: expected a mapping of names to "
               "accounts, like \"SKU-1\": \"100.4010\"");
    expect_err(BASE "[a]: 1\n", "mlc.yaml:17: expected a key name, found a list");
}

static void test_err_yaml_syntax(void **state)
{
    (void)state;
    expect_err(BASE "server:\n  threads: 4\n   listen: x: y\n",
               "mlc.yaml:19: YAML syntax error: mapping values are not allowed in this "
               "context");
    expect_err("bigcommerce: [1, 2\n",
               "mlc.yaml:2: YAML syntax error: did not find expected ',' or ']' "
               "(while parsing a flow sequence on line 1)");
    expect_err("a: \"unterminated\n",
               "mlc.yaml:2: YAML syntax error: found unexpected end of stream "
               "(while scanning a quoted scalar on line 1)");
    expect_err(BASE "---\nlog: {}\n", "mlc.yaml:17: only one YAML document is allowed");
    /* encoding errors carry an offset: the line is counted from it */
    expect_err(BASE "server:\n  listen: \"\xff\"\n",
               "mlc.yaml:18: invalid text: invalid leading UTF-8 octet (byte 0xff)");
    expect_err(BASE "server:\n\n  listen: \"a\x01\"\n",
               "mlc.yaml:19: invalid text: control characters are not allowed (byte 0x01)");
}

/* Nesting is capped before libyaml builds the document (quadratic in the
 * depth): 100,000 levels are refused at once, naming the line. */
static void test_err_yaml_too_deep(void **state)
{
    size_t n = 100000, head = strlen(BASE "log: "), len = head + 2 * n + 2;
    char *text = malloc(len);

    (void)state;
    assert_non_null(text);
    memcpy(text, BASE "log: ", head);
    memset(text + head, '[', n);
    memset(text + head + n, ']', n);
    memcpy(text + head + 2 * n, "\n", 2);
    expect_err(text, "mlc.yaml:17: lists and mappings nest more than 32 levels deep");
    free(text);
    expect_err(BASE "server: {a: {b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}\n",
               "mlc.yaml:17: lists and mappings nest more than 32 levels deep");
}

static void test_err_empty_and_missing_file(void **state)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e;

    (void)state;
    expect_err("", "mlc.yaml: the file is empty (\"mlc init\" writes a commented example)");
    expect_err("# nothing\n\n",
               "mlc.yaml: the file is empty (\"mlc init\" writes a commented example)");
    expect_err("- a\n- b\n", "mlc.yaml:1: expected a mapping of sections (log, "
               "bigcommerce, jde, posting, ...)");
    mlc_err_clear(&e);
    assert_int_equal(cfg_load("tests/unit/data/config/none/mlc.yaml", &cfg, &e), MLC_EIO);
    assert_null(cfg);
    assert_string_equal(e.msg, "tests/unit/data/config/none/mlc.yaml: cannot open: "
                        "No such file or directory");
    {
        struct collected got;
        memset(&got, 0, sizeof(got));
        assert_int_equal(cfg_load_report("none.yaml", collect, &got, &cfg, NULL), MLC_EIO);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.msg[0], "none.yaml: cannot open: No such file or directory");
    }
}

static void test_err_lists(void **state)
{
    (void)state;
    expect_err(BASE "  paid_statuses: [2, 15]\n",
               "mlc.yaml:17: posting.paid_statuses: expected a list of integers from 0 "
               "to 14, like [2, 3]");
    expect_err(BASE "  paid_statuses:\n    - 2\n    - x\n",
               "mlc.yaml:19: posting.paid_statuses: expected a list of integers from 0 "
               "to 14, like [2, 3]");
    expect_err(BASE "  paid_statuses: [2, 3, 2]\n",
               "mlc.yaml:17: posting.paid_statuses: 2 is listed twice");
    expect_err(BASE "  paid_statuses: []\n",
               "mlc.yaml:17: posting.paid_statuses: must not be empty");
}

static void test_err_maps(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    expect_err(BASE "  clearing_by_gateway:\n    stripe: \"1.1151\"\n    paypal: 1151\n",
               "mlc.yaml:19: posting.clearing_by_gateway.paypal: expected an account "
               "like \"1.4410\" or \"100.4410.01\"");
    expect_err(BASE "  clearing_by_gateway:\n    stripe:\n",
               "mlc.yaml:18: posting.clearing_by_gateway.stripe: expected an account "
               "like \"1.4410\" or \"100.4410.01\"");
    expect_err(BASE "  bu_by_channel:\n    web: \"100\"\n",
               "mlc.yaml:18: posting.bu_by_channel.web: expected a channel id (digits)");
    expect_err(BASE "  supplier_by_gateway:\n    stripe: ACME\n",
               "mlc.yaml:18: posting.supplier_by_gateway.stripe: expected an address "
               "number (AN8) of up to 8 digits");
    expect_err("jde:\n  inputs:\n    Compnay: CompanyCode\n",
               "mlc.yaml:3: jde.inputs.Compnay: expected an input name of the "
               "orchestration contract (Company, GLDate, Lines, Account, ...)");
    cfg = load_ok(BASE "  revenue_by_category: {}\n  revenue_by_sku:\n");
    assert_int_equal(cfg->posting.n_revenue_by_category, 0);
    assert_null(cfg->posting.revenue_by_sku);
    cfg_unref(cfg);
}

static void test_err_cross_checks(void **state)
{
    (void)state;
    expect_err(BASE "  mode: voucher\n",
               "mlc.yaml:17: posting.default_supplier: required when posting.mode is "
               "voucher");
    expect_err_replaced("  token_ref: bc_token\n",
                        "  token_ref: bc_token\n"
                        "  webhook_public_url: https://mlc.example.com/hooks\n",
                        "mlc.yaml:4: bigcommerce.webhook_public_url: needs "
                        "bigcommerce.client_secret_ref or webhook_secret_ref to verify "
                        "deliveries");
    expect_err(BASE "workers:\n  retry_base_ms: 5000\n  retry_cap_ms: 1000\n",
               "mlc.yaml:18: workers.retry_base_ms: must not exceed workers.retry_cap_ms "
               "(1000)");
    /* An AIS call must end well inside its job's lease. */
    expect_err(BASE "workers:\n  lease_s: 100\n",
               "mlc.yaml:18: workers.lease_s: must be at least twice jde.timeout_ms "
               "(60000 ms): a call to JD Edwards must end well inside the lease of its job");
    expect_err_replaced("  password_ref: jde_pw\n",
                        "  password_ref: jde_pw\n  timeout_ms: 300000\n",
                        "mlc.yaml:8: jde.timeout_ms: must be at most half of "
                        "workers.lease_s (120 s): a call to JD Edwards must end well "
                        "inside the lease of its job");
    cfg_unref(load_ok(BASE "workers:\n  lease_s: 120\n"));
    /* A settle time shorter than a create can still land is refused. */
    expect_err_replaced("  password_ref: jde_pw\n",
                        "  password_ref: jde_pw\n  settle_s: 100\n",
                        "mlc.yaml:8: jde.settle_s: must be at least jde.timeout_ms plus the "
                        "larger of jde.timeout_ms and jde.server_timeout_s (120 s here), or 0 "
                        "for that automatically: a create whose answer was lost may still land "
                        "until then");
    expect_err_replaced("  password_ref: jde_pw\n",
                        "  password_ref: jde_pw\n  server_timeout_s: 900\n  settle_s: 600\n",
                        "mlc.yaml:9: jde.settle_s: must be at least jde.timeout_ms plus the "
                        "larger of jde.timeout_ms and jde.server_timeout_s (960 s here), or 0 "
                        "for that automatically: a create whose answer was lost may still land "
                        "until then");
    /* One address may never hold every connection; 0 (no limit) is allowed. */
    expect_err(BASE "server:\n  max_connections: 16\n  max_connections_per_ip: 16\n",
               "mlc.yaml:19: server.max_connections_per_ip: must be below "
               "server.max_connections (16), so that one address cannot take every "
               "connection");
    expect_err(BASE "server:\n  max_connections: 16\n",
               "mlc.yaml:17: server.max_connections_per_ip: must be below "
               "server.max_connections (16), so that one address cannot take every "
               "connection");
    {
        struct mlc_config *cfg = load_ok(BASE "server:\n  max_connections: 16\n"
                                         "  max_connections_per_ip: 0\n"
                                         "  request_timeout_s: 2\n");

        assert_int_equal(cfg->server.max_connections_per_ip, 0);
        assert_int_equal(cfg->server.request_timeout_s, 2);
        cfg_unref(cfg);
    }
    /* The admin listener: its own address; /metrics must be served somewhere. */
    {
        struct mlc_config *cfg = load_ok(BASE "server:\n  admin_listen: \"127.0.0.1:9090\"\n"
                                         "  public_metrics: false\n");

        assert_string_equal(cfg->server.admin_listen, "127.0.0.1:9090");
        assert_false(cfg->server.public_metrics);
        cfg_unref(cfg);
    }
    expect_err(BASE "server:\n  admin_listen: \"127.0.0.1:8080\"\n",
               "mlc.yaml:18: server.admin_listen: must differ from server.listen: the admin "
               "listener never serves webhooks");
    expect_err(BASE "server:\n  public_metrics: false\n",
               "mlc.yaml:18: server.public_metrics: false needs server.admin_listen, else "
               "/metrics is served nowhere");
    expect_err(BASE "server:\n  admin_listen: \"9090\"\n",
               "mlc.yaml:18: server.admin_listen: expected host:port with a port from 1 to "
               "65535, like \"127.0.0.1:8080\"");
}


/* The web console: off by default; users with a role; its own address; a
 * proxy header only with users to give roles. */
static void test_console_config(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(BASE);
    assert_null(cfg->console.listen);
    assert_int_equal(cfg->console.n_users, 0);
    assert_false(cfg->console.secure_cookie);
    assert_int_equal(cfg->console.session_idle_s, 1800);
    assert_int_equal(cfg->console.session_max_s, 43200);
    cfg_unref(cfg);
    cfg = load_ok(BASE "console:\n  listen: \"127.0.0.1:8090\"\n  users:\n"
                  "    olga: operator\n    vic: viewer\n"
                  "  proxy_user_header: X-Forwarded-User\n  secure_cookie: true\n");
    assert_string_equal(cfg->console.listen, "127.0.0.1:8090");
    assert_int_equal(cfg->console.n_users, 2);
    assert_string_equal(cfg->console.users[0].match, "olga");
    assert_string_equal(cfg->console.users[0].value, "operator");
    assert_string_equal(cfg->console.users[1].value, "viewer");
    assert_string_equal(cfg->console.proxy_user_header, "X-Forwarded-User");
    assert_true(cfg->console.secure_cookie);
    cfg_unref(cfg);
    expect_err(BASE "console:\n  users:\n    olga: admin\n",
               "mlc.yaml:19: console.users.olga: expected viewer or operator");
    expect_err(BASE "console:\n  users:\n    Olga Smith: viewer\n",
               "mlc.yaml:19: console.users.Olga Smith: expected a user name of 1-32 characters a-z 0-9 _ . -");
    expect_err(BASE "console:\n  listen: \"127.0.0.1:8080\"\n",
               "mlc.yaml:18: console.listen: must differ from server.listen and "
               "server.admin_listen: the console has a listener of its own");
    expect_err(BASE "console:\n  proxy_user_header: X-Forwarded-User\n",
               "mlc.yaml:18: console.proxy_user_header: needs console.users: the role of "
               "each user the proxy names");
    expect_err(BASE "console:\n  proxy_user_header: \"X Forwarded\"\n  users:\n    a: viewer\n",
               "mlc.yaml:18: console.proxy_user_header: expected an HTTP header name such as "
               "X-Forwarded-User");
}

/* The settle time of posting rules §3: explicit, or the AIS timeout plus
 * the larger of the AIS timeout and the AIS server's own timeout. */
static void test_settle_time(void **state)
{
    static const struct { const char *jde; int64_t want; } cases[] = {
        { "", 120000 },                                     /* 2 x 60 s */
        { "  timeout_ms: 5000\n", 10000 },
        { "  server_timeout_s: 900\n", 960000 },            /* AIS runs it longer */
        { "  timeout_ms: 5000\n  server_timeout_s: 3\n", 10000 },
        { "  server_timeout_s: 900\n  settle_s: 1800\n", 1800000 },
    };
    char to[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlc_config *cfg;
        char *text;

        snprintf(to, sizeof(to), "  password_ref: jde_pw\n%s", cases[i].jde);
        text = base_with("  password_ref: jde_pw\n", to);
        cfg = load_ok(text);
        assert_int_equal(cfg_settle_ms(cfg), cases[i].want);
        cfg_unref(cfg);
        free(text);
    }
}

/* ---- the go-live cutover ---- */

static void test_cutover_values(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(BASE "orders:\n  start: 2025-07-01T00:00:00-05:00\n");
    assert_string_equal(cfg->orders.start, "2025-07-01T00:00:00-05:00");
    assert_int_equal(cfg->orders.start_s, 1751346000); /* 05:00 UTC */
    assert_int_equal(cfg->orders.start_id, 0);
    cfg_unref(cfg);
    cfg = load_ok(BASE "orders:\n  start: \"2020-01-01T00:00:00Z\"\n  start_id: 1001\n");
    assert_int_equal(cfg->orders.start_s, 1577836800);
    assert_int_equal(cfg->orders.start_id, 1001);
    cfg_unref(cfg);
}

/* Without orders.start nothing starts: the error names the file, the line
 * of the orders section when there is one, the key, and how to set it. */
static void test_cutover_required(void **state)
{
    static const char how[] = "required key is missing: the go-live cutover: orders "
        "created before it are never posted. Set it under \"orders:\" as \"start: "
        "2025-07-01T00:00:00-05:00\" (ISO 8601 with the UTC offset; \"mlc init\" writes "
        "the current time)";
    struct mlc_config *cfg = NULL;
    struct mlc_err e;
    char want[512];

    (void)state;
    snprintf(want, sizeof(want), "mlc.yaml:17: orders.start: %s", how);
    expect_err(BASE "orders:\n  start_id: 5\n", want);
    expect_err(BASE "orders:\n  start:\n", "mlc.yaml:18: orders.start: a value is required");
    mlc_err_clear(&e);
    assert_int_equal(cfg_load_buffer("mlc.yaml", BASE, strlen(BASE), &cfg, &e), MLC_EINVAL);
    assert_null(cfg);
    snprintf(want, sizeof(want), "mlc.yaml: orders.start: %s", how);
    assert_string_equal(e.msg, want);
}

static void test_cutover_bad_values(void **state)
{
    static const char *const bad[] = {
        "2025-07-01",                 /* midnight where? */
        "2025-07-01T00:00:00",        /* no offset */
        "\"2025-07-01 00:00:00Z\"",
        "2025-13-01T00:00:00Z",
        "2025-02-30T00:00:00Z",
        "yesterday",
        "1751346000",
        "2025-07-01T00:00:00+25:00",
    };
    char text[1024];
    char *out = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), BASE "orders:\n  start: %s\n", bad[i]);
        expect_err(text, "mlc.yaml:18: orders.start: expected a date-time with its UTC "
                   "offset, like \"2025-07-01T00:00:00-05:00\" (ISO 8601; Z or +00:00 for UTC)");
    }
    expect_err(BASE CUTOVER "  start_id: 0\n",
               "mlc.yaml:19: orders.start_id: expected an integer from 1 to 2147483647");
    expect_err(BASE CUTOVER "  start_id: \"12a\"\n",
               "mlc.yaml:19: orders.start_id: expected an integer from 1 to 2147483647");
    assert_int_equal(cfg_example_with_start("2025-07-01", &out, NULL), MLC_EINVAL);
    assert_null(out);
    assert_int_equal(cfg_example_with_start(NULL, &out, NULL), MLC_EINVAL);
}

/* ---- several errors ---- */

static void test_reports_every_error(void **state)
{
    struct collected got;
    struct mlc_config *cfg = NULL;
    struct mlc_err e;

    (void)state;
    memset(&got, 0, sizeof(got));
    mlc_err_clear(&e);
    assert_int_equal(cfg_load_report(DATA "three_errors.yaml", collect, &got, &cfg, &e),
                     MLC_EINVAL);
    assert_null(cfg);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.msg[0], DATA "three_errors.yaml:5: bigcommerce.timeout_ms: "
                        "expected an integer from 100 to 600000");
    assert_string_equal(got.msg[1], DATA "three_errors.yaml:10: jde.pasword_ref: "
                        "unknown key (did you mean password_ref?)");
    assert_string_equal(got.msg[2], DATA "three_errors.yaml:20: posting.on_cancel: "
                        "expected one of: reverse, hold");
    assert_string_equal(e.msg, got.msg[0]);

    /* Missing keys are listed next to other errors. */
    memset(&got, 0, sizeof(got));
    assert_int_equal(cfg_load_buffer_report("mlc.yaml", "jde:\n  usr: x\n", 13, collect,
                                            &got, &cfg, &e), MLC_EINVAL);
    assert_int_equal(got.n, 1 + 2 + 3 + 7 + 1); /* typo, then missing keys */
    assert_string_equal(got.msg[0], "mlc.yaml:2: jde.usr: unknown key (did you mean user?)");
    assert_string_equal(got.msg[1], "mlc.yaml: bigcommerce.store_hash: required key is missing");
    assert_string_equal(got.msg[3], "mlc.yaml:1: jde.ais_base_url: required key is missing");
}

static void test_too_many_errors(void **state)
{
    struct collected got;
    struct mlc_config *cfg = NULL;
    char text[2048];
    size_t n = 0;

    (void)state;
    memset(&got, 0, sizeof(got));
    n += (size_t)snprintf(text, sizeof(text), "%s", BASE "server:\n");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "  unknown%d: 1\n", i);
    assert_int_equal(cfg_load_buffer_report("mlc.yaml", text, n, collect, &got, &cfg, NULL),
                     MLC_EINVAL);
    assert_int_equal(got.n, CFG_MAX_ERRORS + 1);
    assert_string_equal(got.msg[0], "mlc.yaml:18: server.unknown0: unknown key");
    assert_string_equal(got.msg[CFG_MAX_ERRORS], "mlc.yaml: too many errors, stopped after 20");
}

/* ---- objects ---- */

static void test_refcount(void **state)
{
    struct mlc_config *cfg;

    (void)state;
    cfg = load_ok(BASE);
    assert_ptr_equal(cfg_ref(cfg), cfg);
    assert_ptr_equal(cfg_ref(cfg), cfg);
    cfg_unref(cfg);
    cfg_unref(cfg);
    assert_string_equal(cfg->posting.company, "00001"); /* still one reference */
    cfg_unref(cfg);                                      /* freed: leak checkers agree */
    cfg_unref(NULL);
    assert_null(cfg_ref(NULL));
}

static void test_account_parse_format(void **state)
{
    static const struct { const char *in; const char *bu, *obj, *sub; } ok[] = {
        { "1.4410", "1", "4410", "" },
        { "100.4410.01", "100", "4410", "01" },
        { "ABCDEFGHIJKL.123456.12345678", "ABCDEFGHIJKL", "123456", "12345678" },
        { "M-30.4410.X_1", "M-30", "4410", "X_1" },
    };
    static const char *const bad[] = {
        "", "1", "1.", ".1", "1.2.", "1.2.3.4", "1 .2", "1.2 ", "ABCDEFGHIJKLM.1",
        "1.1234567", "1.1.123456789", "1,2", "1.2\n",
    };
    struct cfg_account a;
    char buf[40];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(cfg_account_parse(ok[i].in, &a), MLC_OK);
        assert_string_equal(a.bu, ok[i].bu);
        assert_string_equal(a.obj, ok[i].obj);
        assert_string_equal(a.sub, ok[i].sub);
        cfg_account_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, ok[i].in);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&a, 'x', sizeof(a));
        if (cfg_account_parse(bad[i], &a) != MLC_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(a.bu[0], 'x'); /* untouched on error */
    }
    assert_int_equal(cfg_account_parse(NULL, &a), MLC_EINVAL);
    cfg_account_parse("100.4410.01", &a);
    cfg_account_format(&a, buf, 6);
    assert_string_equal(buf, "100.4");
}

/* ---- commands ---- */

static void test_cmd_init_and_check(void **state)
{
    char dir[] = "/tmp/mlc-test-config-XXXXXX";
    char path[128], bad[128];
    char *argv_init[] = { "init", path, NULL };
    char *argv_force[] = { "init", "--force", path, NULL };
    char *argv_check[] = { "config", "check", path, NULL };
    char *argv_check_bad[] = { "config", "check", bad, NULL };
    struct stat st;
    char *written, *want = NULL;
    const char *at;
    char start[64];
    int64_t t0, t1, t = 0;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mlc.yaml", dir);
    snprintf(bad, sizeof(bad), "%s/bad.yaml", dir);

    t0 = jdate_now_unix();
    assert_int_equal(cmd_init(2, argv_init), 0);
    t1 = jdate_now_unix();
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    written = read_all(path);
    assert_non_null(written);
    /* The example, with the go-live cutover set to the time of the call in
     * the example's zone (UTC), with its offset. */
    at = strstr(written, "\norders:\n");
    assert_non_null(at);
    at = strstr(at, "\n  start: \"");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "\n  start: \"%63[^\"]\"", start), 1);
    assert_int_equal(strlen(start), 25);
    assert_string_equal(start + 19, "+00:00");
    assert_int_equal(jdate_iso8601_parse(start, &t, NULL), MLC_OK);
    assert_true(t >= t0 && t <= t1);
    assert_int_equal(cfg_example_with_start(start, &want, NULL), MLC_OK);
    assert_string_equal(written, want);
    free(want);
    free(written);
    assert_int_equal(cmd_config(3, argv_check), 0);

    /* refuses to overwrite; --force replaces, still 0600 */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("server:\n  threads: 0\n", f);
    fclose(f);
    chmod(path, 0644);
    assert_int_equal(cmd_init(2, argv_init), 1);
    assert_int_equal(cmd_config(3, argv_check), 1);
    assert_int_equal(cmd_init(3, argv_force), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cmd_config(3, argv_check), 0);

    assert_int_equal(cmd_config(3, argv_check_bad), 1); /* does not exist */
    snprintf(bad, sizeof(bad), "%s/mlc.key", dir); /* master key written by mlc init */
    unlink(bad);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);                    /* no temp file left */
}

/* Relative store and key paths are taken from the config file's directory,
 * so the daemon and the CLI agree whatever their working directory. */
static void test_relative_paths(void **state)
{
    char dir[] = "/tmp/mlc-cfg-rel-XXXXXX", path[512], want[600];
    struct mlc_config *c = NULL;
    struct mlc_err e;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mlc.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(cfg_example_yaml(), f);
    fclose(f);
    assert_int_equal(cfg_load(path, &c, &e), MLC_OK);
    snprintf(want, sizeof(want), "%s/mlc.db", dir);
    assert_string_equal(c->store.url, want);
    snprintf(want, sizeof(want), "%s/mlc.key", dir);
    assert_string_equal(c->store.master_key_file, want);
    cfg_unref(c);
    /* Buffers have no directory: paths stay as written. */
    assert_int_equal(cfg_load_buffer("mem.yaml", cfg_example_yaml(),
                                     strlen(cfg_example_yaml()), &c, &e), MLC_OK);
    assert_string_equal(c->store.url, "mlc.db");
    cfg_unref(c);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* alerts: lists of channels, each a mapping with its own keys; secrets are
 * credentials, never values; errors name the item and the key. */
static void test_alerts_channels(void **state)
{
    struct mlc_config *c;

    (void)state;
    c = load_ok(BASE
        "alerts:\n"                                   /* 17 */
        "  digest_interval_s: 60\n"
        "  console_url: https://mlc.example.com\n"
        "  webhooks:\n"                               /* 20 */
        "    - name: ops\n"
        "      url_ref: ops_url\n"
        "    - name: finance-slack\n"
        "      url_ref: fin_url\n"
        "      ca_file: /etc/ssl/private-ca.pem\n"    /* 25 */
        "  email:\n"
        "    - name: controller\n"
        "      smtp_url: smtp://mail.example.com:587\n"
        "      from: mlc@example.com\n"
        "      to: [a@example.com, \"b@example.com\"]\n" /* 30 */
        "      user: mlc\n"
        "      password_ref: smtp_pw\n");
    assert_int_equal(c->alerts.digest_interval_s, 60);
    assert_int_equal(c->alerts.down_after_s, 300);
    assert_int_equal(c->alerts.max_age_s, 86400);
    assert_string_equal(c->alerts.console_url, "https://mlc.example.com");
    assert_int_equal(c->alerts.n_webhooks, 2);
    assert_string_equal(c->alerts.webhooks[1].name, "finance-slack");
    assert_string_equal(c->alerts.webhooks[1].url_ref, "fin_url");
    assert_string_equal(c->alerts.webhooks[1].ca_file, "/etc/ssl/private-ca.pem");
    assert_null(c->alerts.webhooks[0].ca_file);
    assert_int_equal(c->alerts.n_email, 1);
    assert_string_equal(c->alerts.email[0].smtp_url, "smtp://mail.example.com:587");
    assert_int_equal(c->alerts.email[0].n_to, 2);
    assert_string_equal(c->alerts.email[0].to[1], "b@example.com");
    assert_string_equal(c->alerts.email[0].password_ref, "smtp_pw");
    cfg_unref(c);
    /* Defaults: no channels. */
    c = load_ok(BASE);
    assert_int_equal(c->alerts.n_webhooks + c->alerts.n_email, 0);
    assert_int_equal(c->alerts.digest_interval_s, 300);
    cfg_unref(c);

    expect_err(BASE "alerts:\n  webhooks:\n    - name: ops\n",
               "mlc.yaml:19: alerts.webhooks[0].url_ref: required key is missing");
    expect_err(BASE "alerts:\n  webhooks:\n    - name: ops\n"
               "      url: https://hooks.slack.com/services/T0/B0/XYZ\n",
               "mlc.yaml:20: alerts.webhooks[0].url: secrets (and a webhook URL, which "
               "carries a token) must not be written in the configuration file; store the "
               "value with \"mlc credentials set NAME\" and refer to it by NAME in a *_ref "
               "key");
    expect_err(BASE "alerts:\n  email:\n    - name: m\n      smtp_url: smtp://h:587\n"
               "      from: a@b.c\n      to: [x@y.z]\n      password: hunter2\n",
               "mlc.yaml:23: alerts.email[0].password: secrets (and a webhook URL, which "
               "carries a token) must not be written in the configuration file; store the "
               "value with \"mlc credentials set NAME\" and refer to it by NAME in a *_ref "
               "key");
    expect_err(BASE "alerts:\n  email:\n    - name: m\n"
               "      smtp_url: smtp://user:pw@h:587\n      from: a@b.c\n      to: [x@y.z]\n",
               "mlc.yaml:20: alerts.email[0].smtp_url: expected smtp://host:587 (STARTTLS) or "
               "smtps://host:465, with no user or password in it (user: and password_ref: "
               "say them)");
    expect_err(BASE "alerts:\n  email:\n    - name: m\n      smtp_url: smtp://h\n"
               "      from: a@b.c\n      to: x@y.z\n",
               "mlc.yaml:22: alerts.email[0].to: expected a list, like [\"a@example.com\"]");
    expect_err(BASE "alerts:\n  email:\n    - name: m\n      smtp_url: smtp://h\n"
               "      from: \"a@b.c\\r\\nBcc: x@y.z\"\n      to: [x@y.z]\n",
               "mlc.yaml:21: alerts.email[0].from: expected a value");
    expect_err(BASE "alerts:\n  webhooks:\n    - name: ops\n      url_ref: a\n"
               "    - name: ops\n      url_ref: b\n",
               "mlc.yaml:21: alerts.webhooks[1]: duplicate name 'ops'");
    expect_err(BASE "alerts:\n  webhooks:\n    - ops\n",
               "mlc.yaml:19: alerts.webhooks[0]: expected a mapping, not a value");
    expect_err(BASE "alerts:\n  webhooks:\n    name: ops\n",
               "mlc.yaml:18: alerts.webhooks: expected a list of mappings (\"- name: ...\")");
    expect_err(BASE "alerts:\n  webhooks:\n    - name: ops\n      url_ref: a\n      colour: red\n",
               "mlc.yaml:21: alerts.webhooks[0].colour: unknown key");
}

/* store.password_ref: a file (made absolute like every path) or a systemd
 * credential, nothing else. */
static void test_store_password_ref(void **state)
{
    char dir[] = "/tmp/mlc-cfg-pw-XXXXXX", path[512], want[600], *text;
    struct mlc_config *c = NULL;
    struct mlc_err e;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mlc.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    text = with_cutover(BASE "store:\n  url: postgresql://mlc@db/mlc\n"
                        "  password_ref: file:db.pw\n");
    fputs(text, f);
    free(text);
    fclose(f);
    if (cfg_load(path, &c, &e) != MLC_OK)
        fail_msg("%s", e.msg);
    snprintf(want, sizeof(want), "file:%s/db.pw", dir);
    assert_string_equal(c->store.password_ref, want);
    cfg_unref(c);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);

    c = load_ok(BASE "store:\n  password_ref: systemd:mlc-db\n");
    assert_string_equal(c->store.password_ref, "systemd:mlc-db");
    cfg_unref(c);
    c = load_ok(BASE "store:\n  password_ref: file:/etc/mlc/db.pw\n");
    assert_string_equal(c->store.password_ref, "file:/etc/mlc/db.pw");
    cfg_unref(c);
    c = load_ok(BASE);
    assert_null(c->store.password_ref);
    cfg_unref(c);
    expect_err(BASE "store:\n  password_ref: db_pw\n",
               "mlc.yaml:18: store.password_ref: expected file:PATH or systemd:NAME "
               "(a systemd credential)");
    expect_err(BASE "store:\n  password_ref: systemd:../x\n",
               "mlc.yaml:18: store.password_ref: expected file:PATH or systemd:NAME "
               "(a systemd credential)");
    expect_err(BASE "store:\n  password_ref: \"file:\"\n",
               "mlc.yaml:18: store.password_ref: expected file:PATH or systemd:NAME "
               "(a systemd credential)");
}

static void test_cmd_usage(void **state)
{
    char *c1[] = { "config", NULL };
    char *c2[] = { "config", "lint", "x", NULL };
    char *c3[] = { "config", "check", "a", "b", NULL };
    char *i1[] = { "init", "--frce", NULL };
    char *i2[] = { "init", "a", "b", NULL };

    (void)state;
    assert_int_equal(cmd_config(1, c1), 2);
    assert_int_equal(cmd_config(3, c2), 2);
    assert_int_equal(cmd_config(4, c3), 2);
    assert_int_equal(cmd_init(2, i1), 2);
    assert_int_equal(cmd_init(3, i2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_example_matches_etc),
        cmocka_unit_test(test_example_fully_commented),
        cmocka_unit_test(test_example_large_table),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_null_values_take_defaults),
        cmocka_unit_test(test_scalars_are_text),
        cmocka_unit_test(test_rounding_tolerance),
        cmocka_unit_test(test_load_buffer_uses_len),
        cmocka_unit_test(test_err_unknown_key),
        cmocka_unit_test(test_err_bad_account),
        cmocka_unit_test(test_err_bad_enum),
        cmocka_unit_test(test_err_bad_bool),
        cmocka_unit_test(test_err_int_range),
        cmocka_unit_test(test_err_duplicate_key),
        cmocka_unit_test(test_err_missing_required),
        cmocka_unit_test(test_err_literal_secret),
        cmocka_unit_test(test_err_urls),
        cmocka_unit_test(test_err_other_values),
        cmocka_unit_test(test_err_wrong_types),
        cmocka_unit_test(test_err_yaml_syntax),
        cmocka_unit_test(test_err_yaml_too_deep),
        cmocka_unit_test(test_err_empty_and_missing_file),
        cmocka_unit_test(test_err_lists),
        cmocka_unit_test(test_err_maps),
        cmocka_unit_test(test_err_cross_checks),
        cmocka_unit_test(test_settle_time),
        cmocka_unit_test(test_console_config),
        cmocka_unit_test(test_cutover_values),
        cmocka_unit_test(test_cutover_required),
        cmocka_unit_test(test_cutover_bad_values),
        cmocka_unit_test(test_reports_every_error),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_account_parse_format),
        cmocka_unit_test(test_cmd_init_and_check),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_alerts_channels),
        cmocka_unit_test(test_store_password_ref),
        cmocka_unit_test(test_cmd_usage),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
