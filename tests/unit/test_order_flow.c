/* Unit tests: the order flow (sync/order_flow) against the real BigCommerce
 * and AIS simulators in-process, with a temporary SQLite store per case.
 * Run from the repository root (seeds in sim/seed/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers/simctl.h"
#include "helpers/simfix.h"
#include "helpers/testclock.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ais/aissim.h"
#include "bc/bcsim.h"
#include "core/config.h"
#include "core/err.h"
#include "core/health.h"
#include "core/log.h"
#include "core/money.h"
#include "core/secret.h"
#include "core/tz.h"
#include "jde/ais_data.h"
#include "net/httpc.h"
#include "store/store.h"
#include "sync/accounts.h"
#include "sync/catcache.h"
#include "sync/env.h"
#include "sync/order_flow.h"

#define JE_CALLS "POST /jderest/v3/orchestrator/MLC_AddJournalEntry"
#define PV_CALLS "POST /jderest/v3/orchestrator/MLC_AddVoucher"

/* ---- fixture ------------------------------------------------------------------ */

static struct simfix TF;

static int group_setup(void **state)
{
    (void)state;
    return simfix_start(&TF, "flow-test");
}

static int group_teardown(void **state)
{
    (void)state;
    simfix_stop(&TF);
    return 0;
}

/* A control call on a simulator; the parsed answer (caller decrefs). */
static json_t *ctl(const char *base, const char *method, const char *path, const char *body)
{
    return simctl(TF.ctl, base, method, path, body);
}

/* The order-product id of the first line of order id (BigCommerce API). */
static int64_t first_item_id(int64_t id)
{
    struct httpc_header h[] = { { "X-Auth-Token", SIMFIX_BC_TOKEN }, { "Accept", "application/json" } };
    struct httpc_request rq = { 0 };
    struct httpc_response r = { 0 };
    char url[256];
    json_t *j;
    int64_t item;

    snprintf(url, sizeof(url), "%s/stores/nwhg42/v2/orders/%" PRId64 "/products", TF.bc_base, id);
    rq.method = "GET";
    rq.url = url;
    rq.headers = h;
    rq.n_headers = 2;
    assert_int_equal(httpc_do(TF.ctl, &rq, &r, NULL), MLC_OK);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    httpc_response_clear(&r);
    item = json_integer_value(json_object_get(json_array_get(j, 0), "id"));
    json_decref(j);
    assert_true(item > 0);
    return item;
}

static void ais_ctl(const char *path, const char *body)
{
    json_decref(ctl(TF.ais_base, "POST", path, body));
}

static long long ais_counter(const char *key)
{
    json_t *c = ctl(TF.ais_base, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, key));

    json_decref(c);
    return n;
}

/* A paid order (or status) of two units of sku at 10.00 + 0.80 tax, paid
 * 21.60 by card through stripe, created at created (ISO 8601). */
static void make_order_at(int64_t id, const char *sku, int status, const char *created)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"id\":%" PRId64 ",\"customer_id\":0,\"status_id\":%d,\"currency\":\"USD\","
             "\"date_created\":\"%s\",\"date_modified\":\"2026-11-27T10:05:00Z\","
             "\"payment_method\":\"Credit Card\",\"payment_provider_id\":\"stripe\","
             "\"products\":[{\"product_id\":0,\"sku\":\"%s\",\"name\":\"Thing\",\"quantity\":2,"
             "\"price_ex_tax\":\"10.00\",\"tax\":\"1.60\"}],"
             "\"transactions\":[{\"event\":\"purchase\",\"method\":\"credit_card\","
             "\"amount\":\"21.60\",\"gateway\":\"stripe\"}]}",
             id, status, created, sku);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/orders", body));
}

static void make_order(int64_t id, const char *sku, int status)
{
    make_order_at(id, sku, status, "2026-11-27T10:00:00Z");
}

/* ---- configuration and runs ----------------------------------------------------- */

struct run {
    struct mlc_config *cfg;
    struct store      *st;
    struct env        *env;
    int64_t            ahead_ms;  /* the store's clock: real time + this */
    struct flow_hold_info hold;   /* the last single run's hold details */
    struct flow_hold_info holds[64]; /* the last batch's */
};

/* The go-live cutover of every case but the cutover's own: before every
 * order of the seeds and of the cases. */
#define ORDERS_PAST "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"

/* A config with `posting_extra` appended to the posting section (indented
 * two spaces), the orders section orders (NULL: ORDERS_PAST) and the store
 * at a fresh file. */
static struct mlc_config *mkcfg_orders(const char *mode, bool strict, const char *posting_extra,
                                       const char *orders, const char *store_path)
{
    char text[6144];
    struct mlc_config *cfg = NULL;
    struct mlc_err e = { 0 };
    int n;

    n = snprintf(text, sizeof(text),
                 "log:\n  level: error\n"
                 "bigcommerce:\n  store_hash: \"nwhg42\"\n"
                 "  api_base_url: \"%s/stores/{store_hash}\"\n"
                 "  token_ref: \"bc_token\"\n  rate_reserve: 0\n  timeout_ms: 10000\n"
                 "jde:\n  ais_base_url: \"%s\"\n  environment: \"JDV920\"\n  role: \"*ALL\"\n"
                 "  device_name: \"mlc-flow-test\"\n  user: \"MLCINT\"\n"
                 "  password_ref: \"jde_password\"\n  timeout_ms: 4000\n"
                 "posting:\n  mode: %s\n  company: \"00001\"\n  gl_date: created\n"
                 "  timezone: \"UTC\"\n  strict_sku_mapping: %s\n"
                 "  default_supplier: \"5001\"\n"
                 "  accounts:\n    revenue: \"100.4010\"\n    discounts: \"100.4020\"\n"
                 "    shipping: \"100.4030\"\n    handling: \"100.4040\"\n"
                 "    wrapping: \"100.4050\"\n    fees: \"100.4060\"\n    tax: \"1.2310\"\n"
                 "    clearing: \"1.1110\"\n    gift_certificate: \"1.2410\"\n"
                 "    store_credit: \"1.2420\"\n    rounding: \"100.7990\"\n"
                 "  clearing_by_gateway:\n    stripe: \"1.1110.STRIPE\"\n"
                 "    braintree: \"1.1110.BRAINTRE\"\n    paypal: \"1.1110.PAYPAL\"\n"
                 "  supplier_by_gateway:\n    stripe: \"5001\"\n    braintree: \"5003\"\n"
                 "%s%s"
                 "store:\n  url: \"%s\"\n",
                 TF.bc_base, TF.ais_base, mode, strict ? "true" : "false",
                 posting_extra != NULL ? posting_extra : "",
                 orders != NULL ? orders : ORDERS_PAST, store_path);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (cfg_load_buffer("flow-test.yaml", text, (size_t)n, &cfg, &e) != MLC_OK)
        fprintf(stderr, "config: %s\n", e.msg);
    assert_non_null(cfg);
    return cfg;
}

static struct mlc_config *mkcfg(const char *mode, bool strict, const char *posting_extra,
                                const char *store_path)
{
    return mkcfg_orders(mode, strict, posting_extra, NULL, store_path);
}

#define SKU_MAP \
    "  revenue_by_sku:\n    \"NW-SOAP-6PK\": \"100.4010\"\n    \"NW-DISH-1L\": \"100.4010\"\n" \
    "    \"NW-TOWEL-12\": \"100.4010.APPAREL\"\n    \"NW-POD-42\": \"100.4010\"\n" \
    "    \"NW-CANDLE-CED\": \"110.4010\"\n    \"T-THING\": \"100.4010\"\n"

static void run_open_orders(struct run *r, const char *mode, bool strict, const char *extra,
                            const char *orders)
{
    struct mlc_err e = { 0 };
    char path[128];

    memset(r, 0, sizeof(*r));
    snprintf(path, sizeof(path), "%s/s%d.db", TF.dir, ++TF.n_stores);
    r->cfg = mkcfg_orders(mode, strict, extra, orders, path);
    assert_int_equal(store_open(path, &r->st, &e), MLC_OK);
    store_set_clock(r->st, testclock_ahead, &r->ahead_ms);
    if (env_new_with(r->cfg, TF.tok, TF.pwd, &r->env, &e) != MLC_OK)
        fprintf(stderr, "env: %s\n", e.msg);
    assert_non_null(r->env);
}

static void run_open(struct run *r, const char *mode, bool strict, const char *extra)
{
    run_open_orders(r, mode, strict, extra, NULL);
}

static void run_close(struct run *r)
{
    env_free(r->env);
    store_close(r->st);
    cfg_unref(r->cfg);
}

/* One flow run; reason (may be NULL) receives e.msg. */
static enum flow_result sync_cfg(struct run *r, const struct mlc_config *cfg, int64_t id,
                                 bool dry, json_t **report, char *reason, size_t cap)
{
    struct flow_run fr = { .env = r->env, .st = r->st, .cfg = cfg, .actor = "test",
                           .dry_run = dry, .hold = &r->hold };
    enum flow_result res = FLOW_RETRY;
    struct mlc_err e = { 0 };

    assert_int_equal(flow_order_sync(&fr, id, &res, report, &e), MLC_OK);
    if (reason != NULL)
        snprintf(reason, cap, "%s", e.msg);
    return res;
}

static enum flow_result sync1(struct run *r, int64_t id, char *reason, size_t cap)
{
    return sync_cfg(r, r->cfg, id, false, NULL, reason, cap);
}

static void expect_done(struct run *r, int64_t id)
{
    char why[MLC_ERR_MSG_MAX];
    enum flow_result res = sync1(r, id, why, sizeof(why));

    if (res != FLOW_DONE)
        fprintf(stderr, "order %" PRId64 ": %d %s\n", id, (int)res, why);
    assert_int_equal(res, FLOW_DONE);
}

/* ---- JDE facts -------------------------------------------------------------------- */

struct jfacts {
    size_t  rows;
    size_t  docs;          /* distinct DOC */
    int64_t sum;           /* Σ AA, cents */
    int64_t doc;           /* the first DOC */
};

static bool key_match(const char *vinv, const char *key, bool prefix)
{
    return prefix ? strncmp(vinv, key, strlen(key)) == 0 : strcmp(vinv, key) == 0;
}

/* F0911 rows whose VINV is key (or starts with it), optionally of one DCT. */
static struct jfacts je_facts(const char *key, bool prefix, const char *dct)
{
    json_t *t = ctl(TF.ais_base, "GET", "/__sim/table/F0911", NULL), *row;
    struct jfacts f = { 0 };
    int64_t docs[64];
    size_t i;

    json_array_foreach(json_object_get(t, "rows"), i, row) {
        char vinv[32], d[4];
        int64_t doc = 0, aa = 0;
        bool seen = false;

        assert_int_equal(ais_row_str(row, "F0911_VINV", vinv, sizeof(vinv), NULL), MLC_OK);
        assert_int_equal(ais_row_str(row, "F0911_DCT", d, sizeof(d), NULL), MLC_OK);
        if (!key_match(vinv, key, prefix) || (dct != NULL && strcmp(d, dct) != 0))
            continue;
        assert_int_equal(ais_row_i64(row, "F0911_DOC", &doc, NULL), MLC_OK);
        assert_int_equal(ais_row_amount(row, "F0911_AA", 2, MONEY_ROUND_EXACT, &aa, NULL),
                         MLC_OK);
        f.rows++;
        f.sum += aa;
        for (size_t k = 0; k < f.docs; k++)
            seen = seen || docs[k] == doc;
        if (!seen && f.docs < 64)
            docs[f.docs++] = doc;
        if (f.doc == 0)
            f.doc = doc;
    }
    json_decref(t);
    return f;
}

/* Σ AA per account over every F0911 row whose VINV starts with prefix:
 * true when every account nets to zero. */
static bool nets_to_zero(const char *prefix)
{
    json_t *t = ctl(TF.ais_base, "GET", "/__sim/table/F0911", NULL), *row;
    char aids[64][16];
    int64_t sums[64];
    size_t n = 0, i;
    bool zero = true;

    json_array_foreach(json_object_get(t, "rows"), i, row) {
        char vinv[32], aid[16];
        int64_t aa = 0;
        size_t k;

        assert_int_equal(ais_row_str(row, "F0911_VINV", vinv, sizeof(vinv), NULL), MLC_OK);
        if (!key_match(vinv, prefix, true))
            continue;
        assert_int_equal(ais_row_str(row, "F0911_AID", aid, sizeof(aid), NULL), MLC_OK);
        assert_int_equal(ais_row_amount(row, "F0911_AA", 2, MONEY_ROUND_EXACT, &aa, NULL),
                         MLC_OK);
        for (k = 0; k < n && strcmp(aids[k], aid) != 0; k++)
            ;
        if (k == n) {
            assert_true(n < 64);
            snprintf(aids[n], sizeof(aids[n]), "%s", aid);
            sums[n++] = 0;
        }
        sums[k] += aa;
    }
    json_decref(t);
    for (size_t k = 0; k < n; k++)
        zero = zero && sums[k] == 0;
    return n > 0 && zero;
}

static enum store_ledger_state ledger_state(struct run *r, const char *key, int64_t *doc)
{
    struct store_ledger l = { 0 };
    enum store_ledger_state s;

    assert_int_equal(store_ledger_get(r->st, key, &l, NULL), MLC_OK);
    s = l.state;
    if (doc != NULL)
        *doc = l.doc_number;
    store_ledger_clear(&l);
    return s;
}

static bool ledger_has(struct run *r, const char *key)
{
    struct store_ledger l = { 0 };
    int rc = store_ledger_get(r->st, key, &l, NULL);

    store_ledger_clear(&l);
    return rc == MLC_OK;
}

/* ---- cases ------------------------------------------------------------------------- */

static void test_key_parse(void **state)
{
    int64_t id = 0;

    (void)state;
    assert_int_equal(flow_order_key_parse("order:105", &id, NULL), MLC_OK);
    assert_int_equal(id, 105);
    assert_int_equal(flow_order_key_parse("order:", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_order_key_parse("order:12x", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_order_key_parse("customer:1", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_order_key_parse("order:-4", &id, NULL), MLC_EINVAL);
}

/* A paid order posts one balanced journal keyed BC100S; a second run posts
 * nothing (ledger), and neither does a run of an unpaid order. */
static void test_paid_posts_once(void **state)
{
    struct run r;
    struct jfacts j;
    long long je0, je1;
    int64_t doc = 0;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    je0 = ais_counter(JE_CALLS);
    expect_done(&r, 100);
    j = je_facts("BC100S", false, "JE");
    assert_int_equal(j.docs, 1);
    assert_true(j.rows >= 4);
    assert_int_equal(j.sum, 0);
    assert_int_equal(ledger_state(&r, "BC100S", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, j.doc);
    je1 = ais_counter(JE_CALLS);
    assert_int_equal(je1, je0 + 1);

    expect_done(&r, 100);
    assert_int_equal(ais_counter(JE_CALLS), je1);
    assert_int_equal(je_facts("BC100S", false, NULL).docs, 1);

    /* 103 is awaiting payment (status 7): nothing. */
    expect_done(&r, 103);
    assert_false(ledger_has(&r, "BC103S"));
    assert_int_equal(je_facts("BC103", true, NULL).rows, 0);
    assert_int_equal(ais_counter(JE_CALLS), je1);
    run_close(&r);
}

/* A PENDING row whose document JDE has is adopted, not posted again; so is
 * a document JDE has while the store has no row at all (restored store). */
static void test_pending_adopted(void **state)
{
    struct run a, b, c;
    long long je;
    int64_t doc = 0;

    (void)state;
    run_open(&a, "journal", false, SKU_MAP);
    expect_done(&a, 102);
    assert_int_equal(je_facts("BC102S", false, NULL).docs, 1);
    je = ais_counter(JE_CALLS);

    run_open(&b, "journal", false, SKU_MAP);
    assert_int_equal(store_ledger_begin(b.st, "BC102S", "sale", "order:102", "{}", NULL), MLC_OK);
    expect_done(&b, 102);
    assert_int_equal(ledger_state(&b, "BC102S", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, je_facts("BC102S", false, NULL).doc);

    run_open(&c, "journal", false, SKU_MAP);
    expect_done(&c, 102);
    assert_int_equal(ledger_state(&c, "BC102S", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, je_facts("BC102S", false, NULL).doc);

    assert_int_equal(ais_counter(JE_CALLS), je);
    assert_int_equal(je_facts("BC102S", false, NULL).docs, 1);
    run_close(&a);
    run_close(&b);
    run_close(&c);
}

/* The orchestration commits but never answers (longer than the client's
 * 4 s timeout): the run waits (deferred, no attempt spent) with the row
 * UNKNOWN; the next run finds the document and adopts it: one document. */
static void test_commit_no_answer(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long je;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    je = ais_counter(JE_CALLS);
    ais_ctl("/__sim/faults", "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\","
                             "\"count\":1,\"hang_s\":6}}");
    assert_int_equal(sync1(&r, 105, why, sizeof(why)), FLOW_DEFER);
    assert_non_null(strstr(why, "BC105S"));
    assert_int_equal(ledger_state(&r, "BC105S", NULL), STORE_LEDGER_UNKNOWN);
    assert_int_equal(je_facts("BC105S", false, NULL).docs, 1);

    expect_done(&r, 105);
    assert_int_equal(ledger_state(&r, "BC105S", NULL), STORE_LEDGER_POSTED);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC105S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC105S", false, NULL).sum, 0);
    run_close(&r);
}

/* AIS restarts (every token dropped) between two jobs: the next still posts. */
static void test_ais_restart(void **state)
{
    struct run r;

    (void)state;
    struct acct_stats a0, a1, a2;

    run_open(&r, "journal", false, SKU_MAP);
    make_order(210, "T-THING", 11);
    make_order(211, "T-THING", 11);
    make_order(212, "T-THING", 11);
    expect_done(&r, 210);
    acct_stats(env_accounts(r.env), &a0);
    assert_true(a0.lookups > 0);
    ais_ctl("/__sim/restart", "{}");
    expect_done(&r, 211);
    /* Same accounts: answered from the cache, no new F0901/F0006 read. */
    acct_stats(env_accounts(r.env), &a1);
    assert_int_equal(a1.lookups, a0.lookups);
    assert_true(a1.hits > a0.hits);
    /* The scheduled refresh makes them stale: read again on next use. */
    assert_int_equal(env_task_accounts(r.env, NULL), MLC_OK);
    expect_done(&r, 212);
    acct_stats(env_accounts(r.env), &a2);
    assert_int_equal(a2.lookups, a1.lookups + a0.entries);
    assert_int_equal(je_facts("BC211S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC211S", false, NULL).sum, 0);
    run_close(&r);
}

/* Strict SKU mapping: the unmapped SKU holds with the reason, nothing is
 * posted; the mapping is fixed (new config), the replay posts once. */
static void test_unmapped_sku_held_then_fixed(void **state)
{
    struct run r;
    struct mlc_config *fixed;
    char why[MLC_ERR_MSG_MAX];
    long long je;

    (void)state;
    run_open(&r, "journal", true, SKU_MAP);
    je = ais_counter(JE_CALLS);
    assert_int_equal(sync1(&r, 104, why, sizeof(why)), FLOW_HOLD);
    assert_non_null(strstr(why, "NW-LEGACY-OLIVE"));
    assert_int_equal(r.hold.code, HOLD_UNMAPPED_SKU);
    assert_string_equal(r.hold.currency, "USD");
    assert_true(r.hold.amount > 0);
    assert_false(ledger_has(&r, "BC104S"));
    assert_int_equal(ais_counter(JE_CALLS), je);

    fixed = mkcfg("journal", true, SKU_MAP "    \"NW-LEGACY-OLIVE\": \"100.4010\"\n",
                  "/nonexistent/unused.db");
    assert_int_equal(sync_cfg(&r, fixed, 104, false, NULL, why, sizeof(why)), FLOW_DONE);
    assert_int_equal(sync_cfg(&r, fixed, 104, false, NULL, why, sizeof(why)), FLOW_DONE);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC104S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC104S", false, NULL).sum, 0);
    cfg_unref(fixed);
    run_close(&r);
}

/* A SKU mapped to a header account (posting edit code N) holds, naming it. */
static void test_non_postable_account_held(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long je;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP "    \"T-HEADER\": \"110.4000\"\n");
    make_order(220, "T-HEADER", 11);
    je = ais_counter(JE_CALLS);
    assert_int_equal(sync1(&r, 220, why, sizeof(why)), FLOW_HOLD);
    assert_non_null(strstr(why, "110.4000"));
    assert_non_null(strstr(why, "not postable"));
    assert_int_equal(r.hold.code, HOLD_ACCOUNT_NOT_POSTABLE);
    assert_string_equal(r.hold.currency, "USD");
    assert_int_equal(r.hold.amount, 2160); /* the order's total, minor units */
    assert_false(ledger_has(&r, "BC220S"));
    assert_int_equal(ais_counter(JE_CALLS), je);
    assert_int_equal(je_facts("BC220", true, NULL).rows, 0);
    run_close(&r);
}

/* A SKU mapped to an account JDE does not have holds as account_missing,
 * with the order's total as the money that waits. */
static void test_missing_account_held(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];

    (void)state;
    run_open(&r, "journal", false, SKU_MAP "    \"T-GONE\": \"100.4999\"\n");
    make_order(221, "T-GONE", 11);
    assert_int_equal(sync1(&r, 221, why, sizeof(why)), FLOW_HOLD);
    assert_non_null(strstr(why, "100.4999"));
    assert_non_null(strstr(why, "does not exist"));
    assert_int_equal(r.hold.code, HOLD_ACCOUNT_MISSING);
    assert_string_equal(r.hold.currency, "USD");
    assert_int_equal(r.hold.amount, 2160);
    assert_false(ledger_has(&r, "BC221S"));
    run_close(&r);
}

/* JDE refuses the GL date (a closed period): the document is held with
 * JDE's own message and no ledger row; once the period opens, a replay
 * posts it exactly once. */
static void test_closed_period_held(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    make_order(245, "T-THING", 11);
    ais_ctl("/__sim/faults", "{\"orch_fail\":[{\"orchestration\":\"MLC_AddJournalEntry\","
            "\"from\":\"20261101\",\"to\":\"20261130\",\"company\":\"00001\","
            "\"message\":\"Period 11 of fiscal year 26 is closed\",\"style\":\"500\"}]}");
    assert_int_equal(sync1(&r, 245, why, sizeof(why)), FLOW_HOLD);
    assert_non_null(strstr(why, "Period 11 of fiscal year 26 is closed"));
    assert_int_equal(r.hold.code, HOLD_PERIOD_CLOSED);
    assert_false(ledger_has(&r, "BC245S"));
    assert_int_equal(je_facts("BC245S", false, NULL).docs, 0);

    ais_ctl("/__sim/faults", "{\"orch_fail\":[]}");
    expect_done(&r, 245);
    assert_int_equal(je_facts("BC245S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC245S", false, NULL).sum, 0);
    run_close(&r);
}

/* The seeded refund of order 101 posts its own offsetting entry after the
 * sale. */
static void test_refund_offsets(void **state)
{
    struct run r;
    struct jfacts s, rf;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    expect_done(&r, 101);
    s = je_facts("BC101S", false, NULL);
    rf = je_facts("BC101R", true, NULL);
    assert_int_equal(s.docs, 1);
    assert_int_equal(s.sum, 0);
    assert_int_equal(rf.docs, 1);
    assert_int_equal(rf.sum, 0);
    assert_true(rf.rows >= 2);
    expect_done(&r, 101);
    assert_int_equal(je_facts("BC101R", true, NULL).docs, 1);
    run_close(&r);
}

/* Posted, refunded, then cancelled: the reversal makes every account of
 * the order net to zero. */
static void test_cancel_reversal(void **state)
{
    struct run r;
    char body[512];

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    make_order(230, "T-THING", 11);
    expect_done(&r, 230);
    snprintf(body, sizeof(body),
             "{\"order_id\":230,\"created\":\"2026-11-28T09:00:00Z\",\"tax\":\"0.80\","
             "\"items\":[{\"item_type\":\"PRODUCT\",\"item_id\":%" PRId64 ",\"quantity\":1,"
             "\"amount\":\"10.80\"}],"
             "\"payments\":[{\"provider_id\":\"stripe\",\"amount\":\"10.80\"}]}",
             first_item_id(230));
    json_decref(ctl(TF.bc_base, "POST", "/__sim/refunds", body));
    expect_done(&r, 230);
    assert_int_equal(je_facts("BC230R", true, NULL).docs, 1);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/orders/230", "{\"status_id\":5}"));
    expect_done(&r, 230);
    assert_int_equal(ledger_state(&r, "BC230C", NULL), STORE_LEDGER_POSTED);
    assert_int_equal(je_facts("BC230C", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC230C", false, NULL).sum, 0);
    assert_true(nets_to_zero("BC230"));
    /* Nothing more to do afterwards. */
    expect_done(&r, 230);
    assert_int_equal(je_facts("BC230C", false, NULL).docs, 1);
    run_close(&r);
}

/* Voucher mode: one AP voucher (F0411) keyed by the sale, PV distribution
 * rows in F0911, once. */
static void test_voucher_mode(void **state)
{
    struct run r;
    json_t *t, *row;
    long long pv;
    size_t i, n = 0;

    (void)state;
    run_open(&r, "voucher", false, SKU_MAP);
    make_order(240, "T-THING", 11);
    pv = ais_counter(PV_CALLS);
    expect_done(&r, 240);
    expect_done(&r, 240);
    assert_int_equal(ais_counter(PV_CALLS), pv + 1);
    t = ctl(TF.ais_base, "GET", "/__sim/table/F0411", NULL);
    json_array_foreach(json_object_get(t, "rows"), i, row) {
        char vinv[32];

        assert_int_equal(ais_row_str(row, "F0411_VINV", vinv, sizeof(vinv), NULL), MLC_OK);
        n += strcmp(vinv, "BC240S") == 0;
    }
    json_decref(t);
    assert_int_equal(n, 1);
    assert_int_equal(je_facts("BC240S", false, "PV").docs, 1);
    assert_int_equal(je_facts("BC240S", false, "JE").rows, 0);
    assert_int_equal(ledger_state(&r, "BC240S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

static int count_audit(const struct store_audit *a, void *ctx)
{
    (void)a;
    (*(size_t *)ctx)++;
    return 0;
}

/* Dry run: the document and its validation, nothing written anywhere. */
static void test_dry_run(void **state)
{
    struct run r;
    json_t *rep = NULL, *d;
    long long je;
    int64_t n = -1;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    make_order(250, "T-THING", 11);
    je = ais_counter(JE_CALLS);
    assert_int_equal(sync_cfg(&r, r.cfg, 250, true, &rep, NULL, 0), FLOW_DONE);
    assert_non_null(rep);
    d = json_array_get(json_object_get(rep, "documents"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "key")), "BC250S");
    assert_string_equal(json_string_value(json_object_get(d, "action")), "would post");
    assert_true(json_is_true(json_object_get(json_object_get(d, "validation"), "ok")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "document"),
                                                          "total")), "0.00");
    json_decref(rep);
    assert_int_equal(ais_counter(JE_CALLS), je);
    assert_false(ledger_has(&r, "BC250S"));
    assert_int_equal(store_job_count(r.st, STORE_JOB_READY, &n, NULL), MLC_OK);
    assert_int_equal(n, 0);
    {
        size_t rows = 0;

        assert_int_equal(store_audit_list(r.st, NULL, 0, count_audit, &rows, NULL), MLC_OK);
        assert_int_equal(rows, 0);
    }
    run_close(&r);
}

/* ---- batch mode ------------------------------------------------------------------- */

/* Σ of a simulator's counters whose key contains part (NULL: all). */
static long long counters_sum(const char *base, const char *part)
{
    json_t *c = ctl(base, "GET", "/__sim/counters", NULL), *v;
    const char *k;
    long long n = 0;

    json_object_foreach(c, k, v) {
        if (part == NULL || strstr(k, part) != NULL)
            n += json_integer_value(v);
    }
    json_decref(c);
    return n;
}

static long long bc_calls(void)
{
    return counters_sum(TF.bc_base, NULL);
}

static long long ais_calls(void)
{
    return counters_sum(TF.ais_base, "/jderest");
}

static void batch_run(struct run *r, const int64_t *ids, size_t n, enum flow_result *res,
                      struct mlc_err *errs)
{
    struct flow_run fr = { .env = r->env, .st = r->st, .cfg = r->cfg, .actor = "test",
                           .hold = r->holds };

    assert_true(n <= 64);
    assert_int_equal(flow_orders_sync_batch(&fr, ids, n, res, errs, NULL), MLC_OK);
}

static void expect_batch_done(struct run *r, const int64_t *ids, size_t n)
{
    enum flow_result res[64];
    struct mlc_err errs[64];

    assert_true(n <= 64);
    batch_run(r, ids, n, res, errs);
    for (size_t i = 0; i < n; i++) {
        if (res[i] != FLOW_DONE)
            fprintf(stderr, "order %" PRId64 ": %d %s\n", ids[i], (int)res[i], errs[i].msg);
        assert_int_equal(res[i], FLOW_DONE);
    }
}

static void sale_key(int64_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "BC%" PRId64 "S", id);
}

/* A batch of paid orders posts each exactly once; BigCommerce calls are
 * one per order (its transactions) plus a constant (list and refunds), AIS
 * calls at most 1.1 per document once the accounts are cached; a second
 * run of the batch spends the constant only and posts nothing. */
static void test_batch_posts_each_once(void **state)
{
    enum { WARM = 8, N = 30 };
    struct run r;
    int64_t ids[WARM + N + 1];
    long long bc0, ais0, je0, bc1, ais1, je1;
    char key[32];

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    for (int i = 0; i < WARM + N; i++) {
        ids[i] = 300 + i;
        make_order(ids[i], "T-THING", 11);
    }
    ids[WARM + N] = 103;                     /* awaiting payment: nothing */
    expect_batch_done(&r, ids, WARM);        /* warms the accounts cache */
    bc0 = bc_calls();
    ais0 = ais_calls();
    je0 = ais_counter(JE_CALLS);
    expect_batch_done(&r, ids + WARM, N + 1);
    bc1 = bc_calls();
    ais1 = ais_calls();
    je1 = ais_counter(JE_CALLS);
    if (getenv("MLC_TEST_VERBOSE") != NULL)
        fprintf(stderr, "batch of %d: %lld BigCommerce calls, %lld AIS calls\n", N + 1,
                bc1 - bc0, ais1 - ais0);
    assert_int_equal(je1 - je0, N);
    assert_true(bc1 - bc0 <= N + 3);
    assert_true((ais1 - ais0) * 10 <= N * 11);
    for (int i = 0; i < WARM + N; i++) {
        struct jfacts j;

        sale_key(ids[i], key, sizeof(key));
        j = je_facts(key, false, "JE");
        assert_int_equal(j.docs, 1);
        assert_int_equal(j.sum, 0);
        assert_int_equal(ledger_state(&r, key, NULL), STORE_LEDGER_POSTED);
    }
    assert_false(ledger_has(&r, "BC103S"));

    /* Again: the ledger says posted; no transactions, no lookup, no create. */
    expect_batch_done(&r, ids, WARM + N + 1);
    assert_true(bc_calls() - bc1 <= 3);
    assert_int_equal(ais_counter(JE_CALLS), je1);
    assert_int_equal(ais_calls(), ais1);

    /* A refund on one order of the batch: its own entry, once. */
    {
        char body[512];

        snprintf(body, sizeof(body),
                 "{\"order_id\":311,\"created\":\"2026-11-28T09:00:00Z\",\"tax\":\"0.80\","
                 "\"items\":[{\"item_type\":\"PRODUCT\",\"item_id\":%" PRId64 ",\"quantity\":1,"
                 "\"amount\":\"10.80\"}],"
                 "\"payments\":[{\"provider_id\":\"stripe\",\"amount\":\"10.80\"}]}",
                 first_item_id(311));
        json_decref(ctl(TF.bc_base, "POST", "/__sim/refunds", body));
    }
    expect_batch_done(&r, ids + WARM, N + 1);
    expect_batch_done(&r, ids + WARM, N + 1);
    assert_int_equal(je_facts("BC311R", true, NULL).docs, 1);
    assert_int_equal(je_facts("BC311R", true, NULL).sum, 0);
    assert_int_equal(ais_counter(JE_CALLS), je1 + 1);
    run_close(&r);
}

/* One order that holds (unmapped SKU) and one BigCommerce does not have do
 * not stop the others of the batch; each carries its own reason. */
static void test_batch_hold_independent(void **state)
{
    int64_t ids[] = { 350, 351, 352, 399999, 353 };
    enum flow_result res[5];
    struct mlc_err errs[5];
    struct run r;

    (void)state;
    run_open(&r, "journal", true, SKU_MAP);
    make_order(350, "T-THING", 11);
    make_order(351, "T-NOPE", 11);
    make_order(352, "T-THING", 11);
    make_order(353, "T-THING", 9);
    batch_run(&r, ids, 5, res, errs);
    assert_int_equal(res[0], FLOW_DONE);
    assert_int_equal(res[1], FLOW_HOLD);
    assert_non_null(strstr(errs[1].msg, "T-NOPE"));
    assert_int_equal(r.holds[1].code, HOLD_UNMAPPED_SKU);
    assert_string_equal(r.holds[1].currency, "USD");
    assert_int_equal(res[2], FLOW_DONE);
    assert_int_equal(res[3], FLOW_HOLD);
    assert_non_null(strstr(errs[3].msg, "not found"));
    assert_int_equal(r.holds[3].code, HOLD_OTHER);
    assert_string_equal(r.holds[3].currency, ""); /* never read: no amount */
    assert_int_equal(res[4], FLOW_DONE);
    assert_string_equal(errs[0].msg, "");
    assert_int_equal(je_facts("BC350S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC352S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC353S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC351", true, NULL).rows, 0);
    assert_false(ledger_has(&r, "BC351S"));
    /* Bad arguments: a repeated id. */
    {
        int64_t dup[] = { 350, 350 };
        struct flow_run fr = { .env = r.env, .st = r.st, .cfg = r.cfg, .actor = "test" };

        assert_int_equal(flow_orders_sync_batch(&fr, dup, 2, res, errs, NULL), MLC_EINVAL);
    }
    run_close(&r);
}

/* Rows left PENDING are settled by the batch's lookup before anything is
 * created: the one JDE has is adopted, the one it has not is posted once. */
static void test_batch_pending_settled(void **state)
{
    int64_t ids[] = { 360, 361, 362, 363 };
    struct run a, b;
    long long je;
    int64_t doc = 0;

    (void)state;
    for (size_t i = 0; i < 4; i++)
        make_order(ids[i], "T-THING", 11);
    run_open(&a, "journal", false, SKU_MAP);
    expect_batch_done(&a, ids, 1);           /* JDE has 360 */
    je = ais_counter(JE_CALLS);

    run_open(&b, "journal", false, SKU_MAP);
    assert_int_equal(store_ledger_begin(b.st, "BC360S", "sale", "order:360", "{}", NULL),
                     MLC_OK);
    assert_int_equal(store_ledger_begin(b.st, "BC361S", "sale", "order:361", "{}", NULL),
                     MLC_OK);
    assert_int_equal(store_ledger_mark_unknown(b.st, "BC361S", NULL), MLC_OK);
    b.ahead_ms = 14000;          /* the rows are older than the send window + settle time */
    expect_batch_done(&b, ids, 4);
    assert_int_equal(ais_counter(JE_CALLS), je + 3);
    assert_int_equal(ledger_state(&b, "BC360S", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, je_facts("BC360S", false, NULL).doc);
    for (size_t i = 0; i < 4; i++) {
        char key[32];

        sale_key(ids[i], key, sizeof(key));
        assert_int_equal(je_facts(key, false, NULL).docs, 1);
        assert_int_equal(ledger_state(&b, key, NULL), STORE_LEDGER_POSTED);
    }
    run_close(&a);
    run_close(&b);
}

/* Contract §3's settle rule. A create left in doubt that JDE does not have
 * is not believed absent until the send window (5 s) and its settle time
 * (here 2 x the 4 s AIS timeout) have passed since its row was begun:
 * before, the run waits (deferred, until exactly then) and sends nothing;
 * after, it posts once. */
static void test_in_doubt_waits_for_settle(void **state)
{
    struct flow_run fr;
    struct run r;
    struct store_ledger l = { 0 };
    enum flow_result res = FLOW_RETRY;
    struct mlc_err e = { 0 };
    int64_t until = 0;
    long long je;

    (void)state;
    make_order(380, "T-THING", 11);
    run_open(&r, "journal", false, SKU_MAP);
    assert_int_equal(store_ledger_begin(r.st, "BC380S", "sale", "order:380", "{}", NULL),
                     MLC_OK);
    assert_int_equal(store_ledger_get(r.st, "BC380S", &l, NULL), MLC_OK);
    je = ais_counter(JE_CALLS);
    fr = (struct flow_run){ .env = r.env, .st = r.st, .cfg = r.cfg, .actor = "test",
                            .defer_until = &until };
    r.ahead_ms = 12000;
    assert_int_equal(flow_order_sync(&fr, 380, &res, NULL, &e), MLC_OK);
    assert_int_equal(res, FLOW_DEFER);
    assert_int_equal(until, l.created_at + 13000);
    assert_non_null(strstr(e.msg, "may still land"));
    assert_int_equal(ais_counter(JE_CALLS), je);          /* nothing sent */
    assert_int_equal(ledger_state(&r, "BC380S", NULL), STORE_LEDGER_PENDING);
    r.ahead_ms = 13000;
    expect_done(&r, 380);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC380S", false, NULL).docs, 1);
    store_ledger_clear(&l);
    run_close(&r);
}

/* A batch asks JDE for all its keys at once, then works through its
 * orders. A row in doubt whose settle time ends while the batch runs must
 * not be believed absent on that earlier answer: the late commit landed
 * after the batch asked, and before the settle time ended. Here: the create
 * of 391 times out (4 s) and commits at 6 s; the batch asks at 12.5 s on the
 * store's clock (send window and settle: 5 + 8 s), spends 2.5 s on order
 * 390's create, and comes to 391 at 15 s. It must look again, find the late
 * document and adopt it: exactly one journal entry. */
static void test_batch_answer_older_than_settle(void **state)
{
    int64_t ids[] = { 390, 391 };
    struct run a, b;
    char why[MLC_ERR_MSG_MAX];
    long long je;
    int64_t doc = 0;

    (void)state;
    make_order(390, "T-THING", 11);
    make_order(391, "T-THING", 11);
    run_open(&a, "journal", false, SKU_MAP);
    je = ais_counter(JE_CALLS);
    ais_ctl("/__sim/faults", "{\"delay_commit\":{\"orchestration\":\"MLC_AddJournalEntry\","
                             "\"count\":1,\"delay_s\":6}}");
    assert_int_equal(sync1(&a, 391, why, sizeof(why)), FLOW_DEFER);   /* timed out at 4 s */
    assert_int_equal(je_facts("BC391S", false, NULL).docs, 0);

    /* The same store, its clock 8.5 s ahead: the batch asks at 12.5 s. */
    b = a;
    b.ahead_ms = 8500;
    store_set_clock(b.st, testclock_ahead, &b.ahead_ms);
    ais_ctl("/__sim/faults", "{\"orch_latency_ms\":2500}");
    expect_batch_done(&b, ids, 2);
    ais_ctl("/__sim/faults", "{\"orch_latency_ms\":0}");
    assert_int_equal(je_facts("BC391S", false, NULL).docs, 1);         /* not two */
    assert_int_equal(ais_counter(JE_CALLS), je + 2);     /* 391's first, 390's: no other */
    assert_int_equal(ledger_state(&b, "BC391S", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, je_facts("BC391S", false, NULL).doc);
    run_close(&a);
}

/* The takeover of test_mark_refused_closes_tx: a second worker's own
 * connection, its clock past w1's lease, that claims order:392's job as
 * soon as the ledger row of its create exists (the create is in flight). */
struct takeover {
    const char *path;
    int64_t     ahead_ms;
    bool        taken;
};

static void *takeover_main(void *arg)
{
    struct takeover *t = arg;
    struct store *st2 = NULL;
    struct store_ledger l = { 0 };
    struct store_job j = { 0 };
    struct timespec ts = { 0, 10 * 1000000L };

    if (store_open(t->path, &st2, NULL) != MLC_OK)
        return NULL;
    store_set_clock(st2, testclock_ahead, &t->ahead_ms);
    for (int i = 0; i < 3000 && store_ledger_get(st2, "BC392S", &l, NULL) != MLC_OK; i++)
        nanosleep(&ts, NULL);
    store_ledger_clear(&l);
    t->taken = store_job_claim(st2, "w2", NULL, 60000, &j, NULL) == MLC_OK &&
               strcmp(j.key, "order:392") == 0;
    store_job_clear(&j);
    store_close(st2);
    return NULL;
}

/* A worker's create commits in JDE while its job is taken over (it stalled
 * past its lease): the store's fence refuses the POSTED mark. That refusal
 * must close the mark's transaction: left open, every later write of the
 * worker's connection would stay uncommitted, lost with the process (ledger
 * rows included, so the next run posts again), while its write lock stalls
 * every other writer. The new owner then adopts the document: one entry. */
static void test_mark_refused_closes_tx(void **state)
{
    struct takeover t = { .ahead_ms = 5000 };
    struct store_job j = { 0 };
    struct mlc_err e = { 0 };
    struct store *st2 = NULL;
    char path[128], why[MLC_ERR_MSG_MAX];
    pthread_t th;
    struct run r;
    long long je;

    (void)state;
    make_order(392, "T-THING", 11);
    run_open(&r, "journal", false, SKU_MAP);
    snprintf(path, sizeof(path), "%s/s%d.db", TF.dir, TF.n_stores);
    t.path = path;
    assert_int_equal(store_job_enqueue(r.st, "order.sync", "order:392", NULL, 0, NULL, NULL, &e),
                     MLC_OK);
    assert_int_equal(store_job_claim(r.st, "w1", NULL, 2000, &j, &e), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_fence(r.st, "w1", &e), MLC_OK);
    je = ais_counter(JE_CALLS);
    ais_ctl("/__sim/faults", "{\"orch_latency_ms\":2500}");
    assert_int_equal(pthread_create(&th, NULL, takeover_main, &t), 0);
    assert_int_not_equal(sync1(&r, 392, why, sizeof(why)), FLOW_DONE);
    pthread_join(th, NULL);
    ais_ctl("/__sim/faults", "{\"orch_latency_ms\":0}");
    assert_true(t.taken);
    assert_non_null(strstr(why, "lease lost"));
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC392S", false, NULL).docs, 1);

    /* Nothing left open; another connection writes at once and sees the
     * row still in doubt. */
    assert_int_equal(store_tx_open(r.st), 0);
    assert_int_equal(store_open(path, &st2, &e), MLC_OK);
    assert_int_equal(store_audit_add(st2, &(struct store_audit){ .actor = "test",
                     .entity = "order:392", .action = "probe", .outcome = "ok" }, &e), MLC_OK);
    store_close(st2);
    assert_int_equal(ledger_state(&r, "BC392S", NULL), STORE_LEDGER_PENDING);

    /* The new owner adopts what JDE has. */
    assert_int_equal(store_fence(r.st, "w2", &e), MLC_OK);
    expect_done(&r, 392);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC392S", false, NULL).docs, 1);
    assert_int_equal(ledger_state(&r, "BC392S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

/* AIS keeps running an orchestration after its caller gave up: the create
 * times out (4 s), JDE has nothing yet when asked right after, and the
 * commit lands at 12 s, inside the AIS server's own 20 s request timeout.
 * The run waits instead of creating again, then adopts the late document:
 * exactly one journal entry. */
static void test_late_commit_adopted(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long je;
    int waited = 0;

    (void)state;
    make_order(381, "T-THING", 11);
    run_open(&r, "journal", false, SKU_MAP);
    r.cfg->jde.server_timeout_s = 20;              /* settle: 5 s + 4 s + 20 s */
    je = ais_counter(JE_CALLS);
    ais_ctl("/__sim/faults", "{\"delay_commit\":{\"orchestration\":\"MLC_AddJournalEntry\","
                             "\"count\":1,\"delay_s\":12}}");
    assert_int_equal(sync1(&r, 381, why, sizeof(why)), FLOW_DEFER);   /* timed out */
    assert_int_equal(sync1(&r, 381, why, sizeof(why)), FLOW_DEFER);   /* absent, unsettled */
    assert_non_null(strstr(why, "may still land"));
    assert_non_null(strstr(why, "settle time 29 s"));  /* 5 s window + 4 s + 20 s */
    assert_int_equal(je_facts("BC381S", false, NULL).docs, 0);
    while (je_facts("BC381S", false, NULL).docs == 0 && waited++ < 150) {
        struct timespec ts = { 0, 100 * 1000000L };

        nanosleep(&ts, NULL);                              /* the commit lands */
    }
    assert_int_equal(ais_counter(JE_CALLS), je + 1);     /* counted when it ran */
    expect_done(&r, 381);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC381S", false, NULL).docs, 1);
    assert_int_equal(ledger_state(&r, "BC381S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

/* A gateway in front of AIS answers 504 (with a JSON message) after the
 * orchestration committed: not a refusal. The row stays in doubt, the run
 * waits, and the next run adopts the document: one entry, nothing held. */
static void test_gateway_504_after_commit(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long je;

    (void)state;
    make_order(382, "T-THING", 11);
    run_open(&r, "journal", false, SKU_MAP);
    je = ais_counter(JE_CALLS);
    ais_ctl("/__sim/faults", "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\","
                             "\"count\":1,\"hang_s\":0,\"status\":504}}");
    assert_int_equal(sync1(&r, 382, why, sizeof(why)), FLOW_DEFER);
    assert_non_null(strstr(why, "outcome unknown"));
    assert_int_equal(ledger_state(&r, "BC382S", NULL), STORE_LEDGER_UNKNOWN);
    expect_done(&r, 382);
    assert_int_equal(ais_counter(JE_CALLS), je + 1);
    assert_int_equal(je_facts("BC382S", false, NULL).docs, 1);
    assert_int_equal(ledger_state(&r, "BC382S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

/* Voucher mode batches its F0411 lookups the same way: once each. */
static void test_batch_voucher(void **state)
{
    int64_t ids[] = { 370, 371, 372 };
    struct run r;
    long long pv;

    (void)state;
    run_open(&r, "voucher", false, SKU_MAP);
    for (size_t i = 0; i < 3; i++)
        make_order(ids[i], "T-THING", 11);
    pv = ais_counter(PV_CALLS);
    expect_batch_done(&r, ids, 3);
    expect_batch_done(&r, ids, 3);
    assert_int_equal(ais_counter(PV_CALLS), pv + 3);
    assert_int_equal(je_facts("BC371S", false, "PV").docs, 1);
    assert_int_equal(ledger_state(&r, "BC372S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

/* ---- the go-live cutover ------------------------------------------------------------ */

#define CUT_AT   "2026-11-26T00:00:00Z"
#define ORDERS_CUT "orders:\n  start: \"" CUT_AT "\"\n"

struct audit_count {
    const char *action, *outcome;
    size_t      n;
};

static int audit_match(const struct store_audit *a, void *ctx)
{
    struct audit_count *c = ctx;

    c->n += (c->action == NULL || strcmp(a->action, c->action) == 0) &&
            (c->outcome == NULL || strcmp(a->outcome, c->outcome) == 0);
    return 0;
}

/* Audit rows of order id with that action and outcome (NULL: any). */
static size_t audits(struct run *r, int64_t id, const char *action, const char *outcome)
{
    struct audit_count c = { action, outcome, 0 };
    char entity[32];

    snprintf(entity, sizeof(entity), "order:%" PRId64, id);
    assert_int_equal(store_audit_list(r->st, entity, 0, audit_match, &c, NULL), MLC_OK);
    return c.n;
}

/* A refund of one unit of the order's first product, created at created. */
static void make_refund(int64_t id, const char *created)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"order_id\":%" PRId64 ",\"created\":\"%s\",\"tax\":\"0.80\","
             "\"items\":[{\"item_type\":\"PRODUCT\",\"item_id\":%" PRId64 ",\"quantity\":1,"
             "\"amount\":\"10.80\"}],"
             "\"payments\":[{\"provider_id\":\"stripe\",\"amount\":\"10.80\"}]}",
             id, created, first_item_id(id));
    json_decref(ctl(TF.bc_base, "POST", "/__sim/refunds", body));
}

/* Orders on both sides of the cutover, in one batch and one by one: the
 * older one is never posted, ends DONE (not held), and its skip is audited
 * once however often it is asked for; the newer one posts. */
static void test_cutover_straddle(void **state)
{
    int64_t ids[] = { 400, 401, 402 };
    enum flow_result res[3];
    struct mlc_err errs[3];
    struct run r;
    long long je;
    char why[MLC_ERR_MSG_MAX];

    (void)state;
    run_open_orders(&r, "journal", false, SKU_MAP, ORDERS_CUT);
    make_order_at(400, "T-THING", 11, "2026-11-25T23:59:59Z");   /* keyed by hand */
    make_order_at(401, "T-THING", 11, CUT_AT);                   /* at the cutover */
    make_order_at(402, "T-THING", 11, "2026-11-27T10:00:00Z");
    je = ais_counter(JE_CALLS);
    batch_run(&r, ids, 3, res, errs);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(res[i], FLOW_DONE);
    assert_int_equal(ais_counter(JE_CALLS), je + 2);
    assert_int_equal(je_facts("BC401S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC402S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC400", true, NULL).rows, 0);
    assert_false(ledger_has(&r, "BC400S"));
    assert_int_equal(audits(&r, 400, "skip", "before_cutover"), 1);
    assert_int_equal(audits(&r, 401, "skip", NULL), 0);

    /* Asked again and again (webhooks, a replay): still DONE, nothing
     * posted, no second skip row, not even a fetch row. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sync1(&r, 400, why, sizeof(why)), FLOW_DONE);
        assert_string_equal(why, "");
    }
    assert_int_equal(ais_counter(JE_CALLS), je + 2);
    assert_int_equal(audits(&r, 400, "skip", "before_cutover"), 1);
    assert_int_equal(audits(&r, 400, NULL, NULL), 1);
    run_close(&r);
}

/* A refund and then the cancellation of an order from before the cutover:
 * the sale was keyed by hand, so neither is posted either. */
static void test_cutover_refund_not_posted(void **state)
{
    struct run r;
    long long je;

    (void)state;
    run_open_orders(&r, "journal", false, SKU_MAP, ORDERS_CUT);
    make_order_at(410, "T-THING", 11, "2026-11-20T10:00:00Z");
    make_refund(410, "2026-11-28T09:00:00Z");
    je = ais_counter(JE_CALLS);
    expect_done(&r, 410);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/orders/410", "{\"status_id\":5}"));
    expect_done(&r, 410);
    assert_int_equal(ais_counter(JE_CALLS), je);
    assert_int_equal(je_facts("BC410", true, NULL).rows, 0);
    assert_false(ledger_has(&r, "BC410S"));
    assert_false(ledger_has(&r, "BC410C"));
    assert_int_equal(audits(&r, 410, "skip", "before_cutover"), 1);
    run_close(&r);
}

/* orders.start_id: an order numbered below it stops before any call, even
 * when it was created after orders.start. */
static void test_cutover_start_id(void **state)
{
    struct run r;
    json_t *rep = NULL;
    long long bc;
    char why[MLC_ERR_MSG_MAX];

    (void)state;
    run_open_orders(&r, "journal", false, SKU_MAP, ORDERS_CUT "  start_id: 421\n");
    make_order_at(420, "T-THING", 11, "2026-11-27T10:00:00Z");
    make_order_at(421, "T-THING", 11, "2026-11-27T10:00:00Z");
    bc = bc_calls();
    assert_int_equal(sync1(&r, 420, why, sizeof(why)), FLOW_DONE);
    assert_int_equal(bc_calls(), bc);
    assert_false(ledger_has(&r, "BC420S"));
    assert_int_equal(audits(&r, 420, "skip", "before_cutover"), 1);
    expect_done(&r, 421);
    assert_int_equal(je_facts("BC421S", false, NULL).docs, 1);

    /* The dry run (mlc orders show) says why, and writes nothing. */
    assert_int_equal(sync_cfg(&r, r.cfg, 420, true, &rep, NULL, 0), FLOW_DONE);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "decision"),
                                                          "action")), "skip");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "decision"),
                                                          "why")),
                        "numbered below the go-live cutover (orders.start_id 421): never posted");
    assert_int_equal(json_array_size(json_object_get(rep, "documents")), 0);
    json_decref(rep);
    assert_int_equal(audits(&r, 420, NULL, NULL), 1);
    run_close(&r);
}

/* An order the connector posted under an earlier cutover stays its own
 * when orders.start moves later: its refund is posted, so JDE never holds
 * half of an order. */
static void test_cutover_owned_order_goes_on(void **state)
{
    struct run r;
    struct mlc_config *later;
    json_t *rep = NULL;
    char path[128];

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    make_order_at(430, "T-THING", 11, "2026-11-20T10:00:00Z");
    expect_done(&r, 430);
    assert_int_equal(je_facts("BC430S", false, NULL).docs, 1);
    make_refund(430, "2026-11-28T09:00:00Z");
    snprintf(path, sizeof(path), "%s/s%d.db", TF.dir, TF.n_stores);
    later = mkcfg_orders("journal", false, SKU_MAP, ORDERS_CUT, path);
    assert_int_equal(sync_cfg(&r, later, 430, false, &rep, NULL, 0), FLOW_DONE);
    assert_null(json_object_get(rep, "cutover"));
    json_decref(rep);
    assert_int_equal(je_facts("BC430R", true, NULL).docs, 1);
    assert_int_equal(audits(&r, 430, "skip", NULL), 0);
    cfg_unref(later);
    run_close(&r);
}

/* ---- outages: pause, hold or retry ------------------------------------------- */

/* One run under a health watch, as a worker runs it; *sys: the system a
 * pause waits for (NULL otherwise). */
static enum flow_result sync_watched(struct env *env, struct store *st,
                                     const struct mlc_config *cfg, int64_t id, char *why,
                                     size_t cap, const char **sys)
{
    struct health_watch w;
    struct flow_run fr = { .env = env, .st = st, .cfg = cfg, .actor = "test", .watch = &w };
    enum flow_result res = FLOW_RETRY;
    struct mlc_err e = { 0 };

    health_watch_begin(env_health(env), &w);
    assert_int_equal(flow_order_sync(&fr, id, &res, NULL, &e), MLC_OK);
    health_watch_end(&w);
    snprintf(why, cap, "%s", e.msg);
    *sys = res == FLOW_PAUSE ? flow_pause_system(&fr) : NULL;
    return res;
}

/* An env with the run's config and these credentials, reporting to h. */
static struct env *env_with(struct run *r, const char *token, const char *pwd,
                            struct health *h)
{
    struct mlc_secret *t = NULL, *p = NULL;
    struct env *env = NULL;

    assert_int_equal(secret_new(token, strlen(token), &t, NULL), MLC_OK);
    assert_int_equal(secret_new(pwd, strlen(pwd), &p, NULL), MLC_OK);
    assert_int_equal(env_new_with(r->cfg, t, p, &env, NULL), MLC_OK);
    env_set_health(env, h);
    secret_free(t);
    secret_free(p);
    return env;
}

/* A system that refuses our credentials or does not answer pauses the run
 * (and names the system); JDE refusing the document holds it; a create in
 * doubt retries even though AIS did not answer; without a watch (the CLI)
 * nothing pauses. */
static void test_outage_pause_hold_retry(void **state)
{
    struct run r;
    struct health *h = NULL;
    struct env *env;
    struct mlc_config *dead;
    char why[MLC_ERR_MSG_MAX], saved[64], path[128];
    const char *sys;
    long long je;

    (void)state;
    assert_int_equal(health_new(&h, NULL), MLC_OK);
    run_open(&r, "journal", false, SKU_MAP);
    for (int64_t id = 260; id <= 264; id++)
        make_order(id, "T-THING", 11);

    /* AIS refuses the password: paused on jde, nothing sent. */
    je = ais_counter(JE_CALLS);
    env = env_with(&r, SIMFIX_BC_TOKEN, "not-the-password", h);
    assert_int_equal(sync_watched(env, r.st, r.cfg, 260, why, sizeof(why), &sys), FLOW_PAUSE);
    assert_string_equal(sys, "jde");
    assert_non_null(strstr(why, "AIS login failed"));
    assert_true(health_is_set(h, HEALTH_JDE_LOGIN));
    assert_int_equal(sync1(&r, 260, why, sizeof(why)), FLOW_DONE); /* the good env posts */
    env_free(env);

    /* BigCommerce refuses the token: paused on bigcommerce. */
    env = env_with(&r, "revoked-token", SIMFIX_JDE_PWD, h);
    assert_int_equal(sync_watched(env, r.st, r.cfg, 261, why, sizeof(why), &sys), FLOW_PAUSE);
    assert_string_equal(sys, "bigcommerce");
    assert_true(health_is_set(h, HEALTH_BC_AUTH));
    env_free(env);

    /* AIS does not answer at all (nothing listens): paused on jde; the same
     * run without a watch (mlc orders, mlc sync) just retries. */
    snprintf(saved, sizeof(saved), "%s", TF.ais_base);
    snprintf(TF.ais_base, sizeof(TF.ais_base), "http://127.0.0.1:9");
    snprintf(path, sizeof(path), "%s/s%d.db", TF.dir, ++TF.n_stores);
    dead = mkcfg("journal", false, SKU_MAP, path);
    snprintf(TF.ais_base, sizeof(TF.ais_base), "%s", saved);
    assert_int_equal(env_new_with(dead, TF.tok, TF.pwd, &env, NULL), MLC_OK);
    env_set_health(env, h);
    assert_int_equal(sync_watched(env, r.st, dead, 262, why, sizeof(why), &sys), FLOW_PAUSE);
    assert_string_equal(sys, "jde");
    assert_true(health_is_set(h, HEALTH_JDE_DOWN));
    {
        struct flow_run fr = { .env = env, .st = r.st, .cfg = dead, .actor = "cli" };
        enum flow_result res = FLOW_DONE;
        struct mlc_err e = { 0 };

        assert_int_equal(flow_order_sync(&fr, 262, &res, NULL, &e), MLC_OK);
        assert_int_equal(res, FLOW_RETRY);
    }
    env_free(env);
    cfg_unref(dead);

    /* With the health watch on: JDE refuses the document -> HOLD. */
    env = env_with(&r, SIMFIX_BC_TOKEN, SIMFIX_JDE_PWD, h);
    ais_ctl("/__sim/faults", "{\"orch_fail\":[{\"orchestration\":\"MLC_AddJournalEntry\","
            "\"message\":\"Account is locked\",\"style\":\"500\",\"count\":1}]}");
    assert_int_equal(sync_watched(env, r.st, r.cfg, 263, why, sizeof(why), &sys), FLOW_HOLD);
    assert_non_null(strstr(why, "Account is locked"));
    ais_ctl("/__sim/faults", "{\"orch_fail\":[]}");

    /* The create commits but its answer never comes (AIS "did not answer"
     * is reported on this very thread): in doubt -> RETRY, not a pause. */
    ais_ctl("/__sim/faults", "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\","
                             "\"count\":1,\"hang_s\":6}}");
    assert_int_equal(sync_watched(env, r.st, r.cfg, 264, why, sizeof(why), &sys), FLOW_DEFER);
    assert_null(sys);
    assert_non_null(strstr(why, "outcome unknown"));
    assert_true(health_is_set(h, HEALTH_JDE_DOWN));
    assert_int_equal(sync_watched(env, r.st, r.cfg, 264, why, sizeof(why), &sys), FLOW_DONE);
    assert_false(health_is_set(h, HEALTH_JDE_DOWN)); /* AIS answered again */
    assert_int_equal(je_facts("BC264S", false, NULL).docs, 1);
    assert_int_equal(ais_counter(JE_CALLS), je + 3); /* 260, 263 (refused), 264 (once) */
    env_free(env);
    run_close(&r);
    health_free(h);
}


/* ---- categories, the batch's calls, the pipeline (issue 9) ---------------------- */

/* Revenue by category onto accounts the AIS seed has: 31 -> 100.4010.APPAREL
 * (AID 00004011), 32 -> 110.4010 (AID 00014010); the default revenue is
 * 100.4010 (AID 00004010). The SKUs of these cases are in no SKU map. */
#define CAT_MAP "  revenue_by_category:\n    \"31\": \"100.4010.APPAREL\"\n" \
                "    \"32\": \"110.4010\"\n"
#define AID_CAT31   "00004011"
#define AID_CAT32   "00014010"
#define AID_DEFAULT "00004010"
#define CATALOG     "GET /v3/catalog/products"
#define TXNS        "GET /v3/orders/{id}/transactions"
#define ORDERS_LIST "GET /v2/orders"
#define REFUNDS     "GET /v3/orders/payment_actions/refunds"

/* METHOD path (after /stores/{hash}) on the BigCommerce API with the
 * token; the parsed answer (caller decrefs). */
static json_t *bc_api(const char *method, const char *path, const char *body)
{
    struct httpc_header h[] = { { "X-Auth-Token", SIMFIX_BC_TOKEN }, { "Accept", "application/json" },
                                { "Content-Type", "application/json" } };
    struct httpc_request rq = { 0 };
    struct httpc_response r = { 0 };
    char url[256];
    json_t *j;

    snprintf(url, sizeof(url), "%s/stores/nwhg42%s", TF.bc_base, path);
    rq.method = method;
    rq.url = url;
    rq.headers = h;
    rq.n_headers = body != NULL ? 3 : 2;
    rq.body = body;
    rq.body_len = body != NULL ? strlen(body) : 0;
    assert_int_equal(httpc_do(TF.ctl, &rq, &r, NULL), MLC_OK);
    if (r.status != 200)
        fprintf(stderr, "%s %s: %d %.*s\n", method, path, r.status, (int)r.body_len, r.body);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    httpc_response_clear(&r);
    assert_non_null(j);
    return j;
}

/* A catalog product in category cat (through the API, as a merchant
 * would); its id. */
static int64_t make_product(const char *sku, int64_t cat)
{
    char body[256];
    json_t *j;
    int64_t id;

    snprintf(body, sizeof(body), "{\"name\":\"Thing %s\",\"type\":\"physical\",\"weight\":1,"
             "\"price\":10,\"sku\":\"%s\",\"categories\":[%" PRId64 "]}", sku, sku, cat);
    j = bc_api("POST", "/v3/catalog/products", body);
    id = json_integer_value(json_object_get(json_object_get(j, "data"), "id"));
    json_decref(j);
    assert_true(id > 0);
    return id;
}

/* Moves product pid to category cat in the catalog (no webhook reaches
 * the env: only env_resource_changed tells it). */
static void set_category(int64_t pid, int64_t cat)
{
    char path[64], body[64];

    snprintf(path, sizeof(path), "/v3/catalog/products/%" PRId64, pid);
    snprintf(body, sizeof(body), "{\"categories\":[%" PRId64 "]}", cat);
    json_decref(bc_api("PUT", path, body));
}

/* make_order's paid order, its one line being catalog product pid. */
static void make_order_of(int64_t id, int64_t pid, const char *sku)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"id\":%" PRId64 ",\"customer_id\":0,\"status_id\":11,\"currency\":\"USD\","
             "\"date_created\":\"2026-11-27T10:00:00Z\","
             "\"date_modified\":\"2026-11-27T10:05:00Z\","
             "\"payment_method\":\"Credit Card\",\"payment_provider_id\":\"stripe\","
             "\"products\":[{\"product_id\":%" PRId64 ",\"sku\":\"%s\",\"name\":\"Thing\","
             "\"quantity\":2,\"price_ex_tax\":\"10.00\",\"tax\":\"1.60\"}],"
             "\"transactions\":[{\"event\":\"purchase\",\"method\":\"credit_card\","
             "\"amount\":\"21.60\",\"gateway\":\"stripe\"}]}",
             id, pid, sku);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/orders", body));
}

/* One BigCommerce simulator counter (a route, e.g. CATALOG). */
static long long bc_counter(const char *route)
{
    json_t *c = ctl(TF.bc_base, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, route));

    json_decref(c);
    return n;
}

/* The BigCommerce calls of one stretch of a test, by route. */
struct bc_spend {
    long long catalog, txns, list, refunds, all;
};

static struct bc_spend bc_spend_now(void)
{
    return (struct bc_spend){ bc_counter(CATALOG), bc_counter(TXNS), bc_counter(ORDERS_LIST),
                              bc_counter(REFUNDS), bc_calls() };
}

static struct bc_spend bc_spend_since(const struct bc_spend *a)
{
    struct bc_spend b = bc_spend_now();

    return (struct bc_spend){ b.catalog - a->catalog, b.txns - a->txns, b.list - a->list,
                              b.refunds - a->refunds, b.all - a->all };
}

/* Σ AA (cents) and rows of the F0911 lines of document key on account aid. */
static int64_t je_on(const char *key, const char *aid, size_t *rows)
{
    json_t *t = ctl(TF.ais_base, "GET", "/__sim/table/F0911", NULL), *row;
    int64_t sum = 0;
    size_t i;

    *rows = 0;
    json_array_foreach(json_object_get(t, "rows"), i, row) {
        char vinv[32], a[16];
        int64_t aa = 0;

        assert_int_equal(ais_row_str(row, "F0911_VINV", vinv, sizeof(vinv), NULL), MLC_OK);
        assert_int_equal(ais_row_str(row, "F0911_AID", a, sizeof(a), NULL), MLC_OK);
        if (strcmp(vinv, key) != 0 || strcmp(a, aid) != 0)
            continue;
        assert_int_equal(ais_row_amount(row, "F0911_AA", 2, MONEY_ROUND_EXACT, &aa, NULL),
                         MLC_OK);
        sum += aa;
        (*rows)++;
    }
    json_decref(t);
    return sum;
}

/* Order id's sale posted its 20.00 of revenue on aid, none on the other
 * revenue accounts. */
static void expect_revenue_on(int64_t id, const char *aid)
{
    static const char *const revenue[] = { AID_CAT31, AID_CAT32, AID_DEFAULT };
    char key[32];
    size_t rows;

    sale_key(id, key, sizeof(key));
    assert_int_equal(je_facts(key, false, "JE").docs, 1);
    for (size_t i = 0; i < 3; i++) {
        int64_t sum = je_on(key, revenue[i], &rows);

        if (strcmp(revenue[i], aid) == 0) {
            if (rows != 1 || sum != -2000)
                fprintf(stderr, "%s on %s: %zu rows, %lld\n", key, aid, rows, (long long)sum);
            assert_int_equal(rows, 1);
            assert_int_equal(sum, -2000);          /* a credit of 2 x 10.00 */
        } else {
            if (rows != 0)
                fprintf(stderr, "%s: revenue on %s, not %s\n", key, revenue[i], aid);
            assert_int_equal(rows, 0);
        }
    }
}

/* (a) A batch of orders sharing two products asks the catalog once (id:in)
 * and posts each order's revenue on its category's account; (e) its
 * BigCommerce calls are exactly one transactions call per order plus one
 * list, one refunds and one catalog call. (b) The next batch of the same
 * products asks the catalog nothing (the cache), a product the catalog no
 * longer has included (remembered in no category: default revenue); (TTL)
 * once posting.category_cache_s has passed on the store clock, a batch
 * asks again. */
static void test_batch_categories_one_call(void **state)
{
    enum { N = 6 };
    int64_t p31, p32, a[N], b[N + 1], c[2] = { 716, 717 };
    struct bc_spend before, d;
    struct catcache_stats cs;
    struct run r;

    (void)state;
    run_open(&r, "journal", false, CAT_MAP);
    p31 = make_product("T-CAT-A31", 31);
    p32 = make_product("T-CAT-A32", 32);
    for (int i = 0; i < N; i++) {
        a[i] = 700 + i;
        make_order_of(a[i], i % 2 == 0 ? p31 : p32, i % 2 == 0 ? "T-CAT-A31" : "T-CAT-A32");
        b[i] = 708 + i;
        make_order_of(b[i], i % 2 == 0 ? p31 : p32, i % 2 == 0 ? "T-CAT-A31" : "T-CAT-A32");
    }
    b[N] = 714;
    make_order_of(714, 999000, "T-CAT-GONE");         /* deleted from the catalog */
    make_order_of(716, p31, "T-CAT-A31");
    make_order_of(717, p31, "T-CAT-A31");

    before = bc_spend_now();
    expect_batch_done(&r, a, N);
    d = bc_spend_since(&before);
    assert_int_equal(d.catalog, 1);
    assert_int_equal(d.txns, N);
    assert_int_equal(d.list, 1);
    assert_int_equal(d.refunds, 1);
    assert_int_equal(d.all, N + 3);
    for (int i = 0; i < N; i++)
        expect_revenue_on(a[i], i % 2 == 0 ? AID_CAT31 : AID_CAT32);

    /* (b) Same products (and one gone): its one catalog call, once. */
    before = bc_spend_now();
    expect_batch_done(&r, b, N + 1);
    d = bc_spend_since(&before);
    assert_int_equal(d.catalog, 1);                    /* only for the gone product */
    assert_int_equal(d.all, (N + 1) + 3);
    expect_revenue_on(714, AID_DEFAULT);
    for (int i = 0; i < N; i++)
        expect_revenue_on(b[i], i % 2 == 0 ? AID_CAT31 : AID_CAT32);
    catcache_stats(env_categories(r.env), &cs);
    assert_int_equal(cs.entries, 3);

    /* Every product known: no catalog call at all. The gone one too. */
    before = bc_spend_now();
    expect_batch_done(&r, c, 1);
    d = bc_spend_since(&before);
    assert_int_equal(d.catalog, 0);
    assert_int_equal(d.all, 3);
    expect_revenue_on(716, AID_CAT31);

    /* Ten minutes later (the default TTL) the answers are too old: the
     * catalog is asked again, and its new category is used. */
    set_category(p31, 32);
    r.ahead_ms = 600 * 1000;
    before = bc_spend_now();
    expect_batch_done(&r, c + 1, 1);
    assert_int_equal(bc_spend_since(&before).catalog, 1);
    expect_revenue_on(717, AID_CAT32);
    run_close(&r);
}

/* (c) A product webhook (env_resource_changed "product:<id>") drops that
 * product's categories: the next batch asks the catalog again and uses the
 * category changed meanwhile; another product changed in the catalog but
 * not announced keeps its cached category until its TTL; resources that
 * are not products drop nothing. */
static void test_batch_categories_invalidated(void **state)
{
    int64_t p1, p2, a[] = { 720, 721 }, b[] = { 722, 723 }, c[] = { 724 };
    struct catcache_stats s0, s1;
    struct bc_spend before;
    struct run r;

    (void)state;
    run_open(&r, "journal", false, CAT_MAP);
    p1 = make_product("T-CAT-C1", 31);
    p2 = make_product("T-CAT-C2", 31);
    make_order_of(720, p1, "T-CAT-C1");
    make_order_of(721, p2, "T-CAT-C2");
    make_order_of(722, p1, "T-CAT-C1");
    make_order_of(723, p2, "T-CAT-C2");
    make_order_of(724, p2, "T-CAT-C2");
    expect_batch_done(&r, a, 2);
    expect_revenue_on(720, AID_CAT31);
    expect_revenue_on(721, AID_CAT31);

    set_category(p1, 32);
    set_category(p2, 32);
    catcache_stats(env_categories(r.env), &s0);
    env_resource_changed(r.env, "order:722");
    env_resource_changed(r.env, "customer:1");
    env_resource_changed(r.env, "product:");
    env_resource_changed(r.env, "product:x1");
    env_resource_changed(r.env, NULL);
    env_resource_changed(NULL, "product:1");
    catcache_stats(env_categories(r.env), &s1);
    assert_int_equal(s1.invalidations, s0.invalidations);
    assert_int_equal(s1.entries, 2);

    {
        char res[32];

        snprintf(res, sizeof(res), "product:%" PRId64, p1);
        env_resource_changed(r.env, res);
    }
    catcache_stats(env_categories(r.env), &s1);
    assert_int_equal(s1.invalidations, s0.invalidations + 1);
    assert_int_equal(s1.entries, 1);
    before = bc_spend_now();
    expect_batch_done(&r, b, 2);
    assert_int_equal(bc_spend_since(&before).catalog, 1);
    expect_revenue_on(722, AID_CAT32);                 /* asked again: its new category */
    expect_revenue_on(723, AID_CAT31);                 /* not announced: still cached */

    before = bc_spend_now();
    expect_batch_done(&r, c, 1);
    assert_int_equal(bc_spend_since(&before).catalog, 0);
    expect_revenue_on(724, AID_CAT31);
    run_close(&r);
}

/* (d) posting.category_cache_s 0: every batch asks the catalog, and a
 * change is used at once without any webhook. */
static void test_batch_categories_no_cache(void **state)
{
    int64_t p, a[] = { 730, 731 }, b[] = { 732, 733 };
    struct bc_spend before, d;
    struct catcache_stats cs;
    struct run r;

    (void)state;
    run_open(&r, "journal", false, CAT_MAP "  category_cache_s: 0\n");
    p = make_product("T-CAT-D", 31);
    for (int64_t id = 730; id <= 733; id++)
        make_order_of(id, p, "T-CAT-D");
    before = bc_spend_now();
    expect_batch_done(&r, a, 2);
    d = bc_spend_since(&before);
    assert_int_equal(d.catalog, 1);
    assert_int_equal(d.all, 2 + 3);
    expect_revenue_on(730, AID_CAT31);
    set_category(p, 32);
    before = bc_spend_now();
    expect_batch_done(&r, b, 2);
    d = bc_spend_since(&before);
    assert_int_equal(d.catalog, 1);
    assert_int_equal(d.all, 2 + 3);
    expect_revenue_on(732, AID_CAT32);
    expect_revenue_on(733, AID_CAT32);
    catcache_stats(env_categories(r.env), &cs);
    assert_int_equal(cs.entries, 0);
    run_close(&r);
}

struct audit_find {
    const char *action, *outcome, *part;
    int64_t     id;    /* the first match */
};

static int audit_first(const struct store_audit *a, void *ctx)
{
    struct audit_find *f = ctx;

    if (f->id == 0 && strcmp(a->action, f->action) == 0 && strcmp(a->outcome, f->outcome) == 0 &&
        (f->part == NULL || (a->detail != NULL && strstr(a->detail, f->part) != NULL)))
        f->id = a->id;
    return 0;
}

/* The id of order id's first audit row with that action and outcome whose
 * detail contains part (NULL: any); 0 when none. Ids grow with time. */
static int64_t audit_id(struct run *r, int64_t id, const char *action, const char *outcome,
                        const char *part)
{
    struct audit_find f = { action, outcome, part, 0 };
    char entity[32];

    snprintf(entity, sizeof(entity), "order:%" PRId64, id);
    assert_int_equal(store_audit_list(r->st, entity, 0, audit_first, &f, NULL), MLC_OK);
    return f.id;
}

/* (f) The pipeline: each order fetches its own transactions and posts
 * before the next order's are asked for. The second order's transactions
 * call fails (501: an error the client does not retry itself): the first
 * order was already posted, the third is still fetched and posted, the
 * second is left to a retry, which posts it once. */
static void test_batch_pipeline_fault(void **state)
{
    int64_t ids[] = { 740, 741, 742 };
    enum flow_result res[3];
    struct mlc_err errs[3];
    int64_t post0, err1, fetch2, post2;
    struct run r;
    long long je;

    (void)state;
    run_open(&r, "journal", false, SKU_MAP);
    for (size_t i = 0; i < 3; i++)
        make_order(ids[i], "T-THING", 11);
    je = ais_counter(JE_CALLS);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/faults",
                    "{\"error_status\":501,\"error_path\":\"/v3/orders/741/transactions\","
                    "\"error_path_next\":1}"));
    batch_run(&r, ids, 3, res, errs);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/faults", "{\"reset\":true}"));
    assert_int_equal(res[0], FLOW_DONE);
    assert_int_equal(res[1], FLOW_RETRY);
    assert_non_null(strstr(errs[1].msg, "transactions"));
    assert_int_equal(res[2], FLOW_DONE);
    assert_int_equal(ais_counter(JE_CALLS), je + 2);
    assert_int_equal(je_facts("BC740S", false, NULL).docs, 1);
    assert_int_equal(je_facts("BC742S", false, NULL).docs, 1);
    assert_false(ledger_has(&r, "BC741S"));

    /* In that order: 740 posted, then 741's call failed, then 742's
     * transactions were fetched and it posted. */
    post0 = audit_id(&r, 740, "post", "ok", NULL);
    err1 = audit_id(&r, 741, "fetch", "error", "transactions");
    fetch2 = audit_id(&r, 742, "fetch", "ok", "transactions");
    post2 = audit_id(&r, 742, "post", "ok", NULL);
    assert_true(post0 > 0 && err1 > 0 && fetch2 > 0 && post2 > 0);
    assert_true(post0 < err1);
    assert_true(err1 < fetch2);
    assert_true(fetch2 < post2);

    /* The retry: 741 posts, the others are not posted again. */
    expect_batch_done(&r, ids, 3);
    assert_int_equal(ais_counter(JE_CALLS), je + 3);
    assert_int_equal(je_facts("BC741S", false, NULL).docs, 1);
    assert_int_equal(ledger_state(&r, "BC741S", NULL), STORE_LEDGER_POSTED);
    run_close(&r);
}

/* The catalog call fails for a batch where one order's product is cached
 * and the other's is not: the order that needed the answer is left to a
 * retry, the other still posts its revenue on its category's account (not
 * on the default revenue account), and the retry posts the first. */
static void test_batch_catalog_failure(void **state)
{
    int64_t pa, pb, warm[] = { 750 }, ids[] = { 751, 752 };
    enum flow_result res[2];
    struct mlc_err errs[2];
    struct run r;

    (void)state;
    run_open(&r, "journal", false, CAT_MAP);
    pa = make_product("T-CAT-F1", 31);
    pb = make_product("T-CAT-F2", 32);
    make_order_of(750, pa, "T-CAT-F1");
    make_order_of(751, pa, "T-CAT-F1");
    make_order_of(752, pb, "T-CAT-F2");
    expect_batch_done(&r, warm, 1);                     /* pa's categories cached */
    json_decref(ctl(TF.bc_base, "POST", "/__sim/faults",
                    "{\"error_status\":501,\"error_path\":\"/v3/catalog/products\","
                    "\"error_path_next\":1}"));
    batch_run(&r, ids, 2, res, errs);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/faults", "{\"reset\":true}"));
    if (res[0] != FLOW_DONE)
        fprintf(stderr, "order 751: %d %s\n", (int)res[0], errs[0].msg);
    assert_int_equal(res[0], FLOW_DONE);
    assert_int_equal(res[1], FLOW_RETRY);
    assert_non_null(strstr(errs[1].msg, "catalog categories"));
    expect_revenue_on(751, AID_CAT31);
    assert_false(ledger_has(&r, "BC752S"));
    expect_batch_done(&r, ids, 2);
    expect_revenue_on(752, AID_CAT32);
    run_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_paid_posts_once),
        cmocka_unit_test(test_pending_adopted),
        cmocka_unit_test(test_commit_no_answer),
        cmocka_unit_test(test_ais_restart),
        cmocka_unit_test(test_unmapped_sku_held_then_fixed),
        cmocka_unit_test(test_non_postable_account_held),
        cmocka_unit_test(test_missing_account_held),
        cmocka_unit_test(test_closed_period_held),
        cmocka_unit_test(test_refund_offsets),
        cmocka_unit_test(test_cancel_reversal),
        cmocka_unit_test(test_voucher_mode),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_batch_posts_each_once),
        cmocka_unit_test(test_batch_hold_independent),
        cmocka_unit_test(test_batch_pending_settled),
        cmocka_unit_test(test_in_doubt_waits_for_settle),
        cmocka_unit_test(test_late_commit_adopted),
        cmocka_unit_test(test_batch_answer_older_than_settle),
        cmocka_unit_test(test_mark_refused_closes_tx),
        cmocka_unit_test(test_gateway_504_after_commit),
        cmocka_unit_test(test_batch_voucher),
        cmocka_unit_test(test_cutover_straddle),
        cmocka_unit_test(test_cutover_refund_not_posted),
        cmocka_unit_test(test_cutover_start_id),
        cmocka_unit_test(test_cutover_owned_order_goes_on),
        cmocka_unit_test(test_outage_pause_hold_retry),
        cmocka_unit_test(test_batch_categories_one_call),
        cmocka_unit_test(test_batch_categories_invalidated),
        cmocka_unit_test(test_batch_categories_no_cache),
        cmocka_unit_test(test_batch_pipeline_fault),
        cmocka_unit_test(test_batch_catalog_failure),
    };

    return cmocka_run_group_tests_name("order_flow", tests, group_setup, group_teardown);
}
