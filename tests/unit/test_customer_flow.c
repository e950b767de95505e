/* Unit tests: the customer flow (sync/customer_flow): the pure mapping, then
 * runs against the real BigCommerce and AIS simulators in-process, with a
 * temporary SQLite store per case. Run from the repository root (seeds in
 * sim/seed/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers/simctl.h"
#include "helpers/simfix.h"
#include "helpers/testclock.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ais/aissim.h"
#include "bc/bc_customers.h"
#include "bc/bcsim.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/secret.h"
#include "jde/ais_data.h"
#include "net/httpc.h"
#include "store/store.h"
#include "sync/customer_flow.h"
#include "sync/env.h"

#define ADD_CALLS "POST /jderest/v3/orchestrator/MLC_AddCustomer"
#define UPD_CALLS "POST /jderest/v3/orchestrator/MLC_UpdateCustomer"

/* ---- pure mapping ------------------------------------------------------------ */

static const struct cust_opts OPTS = {
    .key_prefix = "BC", .company = "1", .ar_class = "WEB", .currency = "USD",
    .payment_terms = "N30",
};

/* A customer on the stack: strings point at literals (never freed). */
static struct bc_customer cust(int64_t id, char *first, char *last, char *company, char *phone)
{
    struct bc_customer c = {
        .id = id, .email = "a@example.com", .first_name = first, .last_name = last,
        .company = company, .phone = phone,
    };

    return c;
}

static struct bc_address addr(int64_t id, char *line1, char *state, char *phone)
{
    struct bc_address a = {
        .id = id, .address1 = line1, .address2 = "", .city = "Austin",
        .state_or_province = state, .postal_code = "78701", .country_code = "US",
        .phone = phone,
    };

    return a;
}

static void test_map_names(void **state)
{
    struct bc_customer c = cust(7, "Jane", "Doe", "", "");
    struct cust_map m;

    (void)state;
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_string_equal(m.v[CUST_F_LONG_ADDRESS], "BC7");
    assert_string_equal(m.v[CUST_F_ALPHA_NAME], "Doe, Jane");
    assert_string_equal(m.v[CUST_F_MAILING_NAME], "Jane Doe");
    assert_string_equal(m.v[CUST_F_SEARCH_TYPE], "C");
    assert_string_equal(m.v[CUST_F_COMPANY], "00001");
    assert_string_equal(m.v[CUST_F_AR_CLASS], "WEB");
    assert_string_equal(m.v[CUST_F_CURRENCY], "USD");
    assert_string_equal(m.v[CUST_F_PAYMENT_TERMS], "N30");
    assert_string_equal(m.v[CUST_F_EMAIL], "a@example.com");
    assert_string_equal(m.v[CUST_F_ADDRESS1], "");   /* no address */
    assert_int_equal(m.address_id, 0);
    for (size_t i = 0; i < CUST_F_COUNT; i++)
        assert_int_equal(m.cut[i], 0);
    cust_map_clear(&m);

    c = cust(8, "Raj", "Patel", "Acme Corner Stores LLC", "");
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_string_equal(m.v[CUST_F_ALPHA_NAME], "Acme Corner Stores LLC");
    assert_string_equal(m.v[CUST_F_MAILING_NAME], "Raj Patel");
    cust_map_clear(&m);

    /* One name only; no name at all: never a blank AlphaName. */
    c = cust(9, "", "Cher", "", "");
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_string_equal(m.v[CUST_F_ALPHA_NAME], "Cher");
    assert_string_equal(m.v[CUST_F_MAILING_NAME], "Cher");
    cust_map_clear(&m);
    c = cust(10, "", "", "", "");
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_string_equal(m.v[CUST_F_ALPHA_NAME], "a@example.com");
    cust_map_clear(&m);
}

static void test_map_first_address_and_phone(void **state)
{
    struct bc_address as[3] = {
        addr(9, "9 Late Road", "TX", "111"),
        addr(4, "4 Early Road", "CA", "222"),
        addr(6, "6 Middle Road", "NY", ""),
    };
    struct bc_customer c = cust(11, "Jane", "Doe", "", "");
    struct cust_map m;

    (void)state;
    c.addresses = as;
    c.n_addresses = 3;
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_int_equal(m.address_id, 4);
    assert_string_equal(m.v[CUST_F_ADDRESS1], "4 Early Road");
    assert_string_equal(m.v[CUST_F_STATE], "CA");
    assert_string_equal(m.v[CUST_F_CITY], "Austin");
    assert_string_equal(m.v[CUST_F_POSTAL_CODE], "78701");
    assert_string_equal(m.v[CUST_F_COUNTRY], "US");
    assert_string_equal(m.v[CUST_F_PHONE], "222");   /* no customer phone: the address's */
    cust_map_clear(&m);

    c.phone = "+1 512 555 0101";
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_string_equal(m.v[CUST_F_PHONE], "+1 512 555 0101");
    cust_map_clear(&m);
}

static void test_map_truncation(void **state)
{
    /* 24 ASCII bytes then "é" (2 bytes): 26 > 25, cut before the é. */
    static char city[] = "Saint-Jean-sur-Richelieu\xc3\xa9";
    static char company[] = "The Extremely Long Company Name Incorporated Worldwide";
    struct bc_address a = addr(1, "1 Road", "Texas", "");
    struct bc_customer c = cust(12, "Jane", "Doe", company, "");
    struct cust_opts o = OPTS;
    struct cust_map m;
    struct mlc_err e = { 0 };

    (void)state;
    a.city = city;
    c.addresses = &a;
    c.n_addresses = 1;
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_int_equal(strlen(m.v[CUST_F_ALPHA_NAME]), 40);
    assert_memory_equal(m.v[CUST_F_ALPHA_NAME], company, 40);
    assert_int_equal(m.cut[CUST_F_ALPHA_NAME], strlen(company));
    assert_string_equal(m.v[CUST_F_STATE], "Tex");
    assert_int_equal(m.cut[CUST_F_STATE], 5);
    assert_string_equal(m.v[CUST_F_CITY], "Saint-Jean-sur-Richelieu");
    assert_int_equal(m.cut[CUST_F_CITY], 26);
    assert_int_equal(m.cut[CUST_F_MAILING_NAME], 0);
    assert_int_equal(cust_field_max(CUST_F_CITY), 25);
    assert_string_equal(cust_field_name(CUST_F_CITY), "City");
    cust_map_clear(&m);

    /* The key is never cut. */
    o.key_prefix = "WEBSTORE-NORTHWIND-";
    assert_int_equal(cust_map_build(&c, &o, &m, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "key_prefix"));
    for (size_t i = 0; i < CUST_F_COUNT; i++)
        assert_null(m.v[i]);
}

static void test_map_json_hash(void **state)
{
    struct bc_customer c = cust(13, "Jane", "Doe", "", "");
    struct cust_map m;
    char h1[65], h2[65], *js = NULL;

    (void)state;
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_int_equal(cust_map_json(&m, &js, NULL), MLC_OK);
    assert_non_null(strstr(js, "\"AlphaName\":\"Doe, Jane\""));
    assert_non_null(strstr(js, "\"LongAddressNumber\":\"BC13\""));
    assert_int_equal(cust_map_hash(&m, h1, NULL), MLC_OK);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(cust_map_hash(&m, h2, NULL), MLC_OK);
    assert_string_equal(h1, h2);
    cust_map_clear(&m);
    c.last_name = "Smith";
    assert_int_equal(cust_map_build(&c, &OPTS, &m, NULL), MLC_OK);
    assert_int_equal(cust_map_hash(&m, h2, NULL), MLC_OK);
    assert_string_not_equal(h1, h2);
    cust_map_clear(&m);
    free(js);
}

static void test_key_parse(void **state)
{
    int64_t id;

    (void)state;
    assert_int_equal(cust_key_parse("customer:42", &id, NULL), MLC_OK);
    assert_int_equal(id, 42);
    assert_int_equal(cust_key_parse("customer:", &id, NULL), MLC_EINVAL);
    assert_int_equal(cust_key_parse("customer:4x", &id, NULL), MLC_EINVAL);
    assert_int_equal(cust_key_parse("order:4", &id, NULL), MLC_EINVAL);
    assert_int_equal(cust_key_parse("customer:0", &id, NULL), MLC_EINVAL);
    assert_int_equal(cust_key_parse(NULL, &id, NULL), MLC_EINVAL);
}

/* ---- fixture ------------------------------------------------------------------ */

static struct simfix TF;

static int group_setup(void **state)
{
    (void)state;
    return simfix_start(&TF, "cust-test");
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

static long long ais_counter(const char *key)
{
    json_t *c = ctl(TF.ais_base, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, key));

    json_decref(c);
    return n;
}

/* A BigCommerce customer with one address in Texas (State is cut). */
static void make_customer(int64_t id, const char *first, const char *last)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"id\":%" PRId64 ",\"email\":\"c%" PRId64 "@example.com\",\"first_name\":\"%s\","
             "\"last_name\":\"%s\",\"phone\":\"\",\"addresses\":[{\"first_name\":\"%s\","
             "\"last_name\":\"%s\",\"address1\":\"12 Elm Street\",\"city\":\"Austin\","
             "\"state_or_province\":\"Texas\",\"postal_code\":\"78701\","
             "\"country_code\":\"US\",\"phone\":\"+1 512 555 0199\"}]}",
             id, id, first, last, first, last);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/customers", body));
}

/* F0101 rows whose ALKY is key: their count, the first AN8 and ALPH. */
static size_t ab_rows(const char *key, int64_t *an8, char *alph, size_t cap)
{
    json_t *t = ctl(TF.ais_base, "GET", "/__sim/table/F0101", NULL), *row;
    size_t i, n = 0;

    json_array_foreach(json_object_get(t, "rows"), i, row) {
        char alky[32];

        assert_int_equal(ais_row_str(row, "F0101_ALKY", alky, sizeof(alky), NULL), MLC_OK);
        if (strcmp(alky, key) != 0)
            continue;
        if (n++ == 0) {
            if (an8 != NULL)
                assert_int_equal(ais_row_i64(row, "F0101_AN8", an8, NULL), MLC_OK);
            if (alph != NULL)
                assert_int_equal(ais_row_str(row, "F0101_ALPH", alph, cap, NULL), MLC_OK);
        }
    }
    json_decref(t);
    return n;
}

/* ---- runs ------------------------------------------------------------------------ */

struct run {
    struct mlc_config *cfg;
    struct store      *st;
    struct env        *env;
    int64_t            ahead_ms;  /* the store's clock: real time + this */
};

static void run_open(struct run *r)
{
    char text[4096], path[128];
    struct mlc_err e = { 0 };
    int n;

    memset(r, 0, sizeof(*r));
    snprintf(path, sizeof(path), "%s/s%d.db", TF.dir, ++TF.n_stores);
    n = snprintf(text, sizeof(text),
                 "log:\n  level: error\n"
                 "bigcommerce:\n  store_hash: \"nwhg42\"\n"
                 "  api_base_url: \"%s/stores/{store_hash}\"\n"
                 "  token_ref: \"bc_token\"\n  rate_reserve: 0\n  timeout_ms: 10000\n"
                 "jde:\n  ais_base_url: \"%s\"\n  environment: \"JDV920\"\n  role: \"*ALL\"\n"
                 "  device_name: \"mlc-cust-test\"\n  user: \"MLCINT\"\n"
                 "  password_ref: \"jde_password\"\n  timeout_ms: 4000\n"
                 "posting:\n  mode: journal\n  company: \"00001\"\n  gl_date: created\n"
                 "  timezone: \"UTC\"\n"
                 "  accounts:\n    revenue: \"100.4010\"\n    discounts: \"100.4020\"\n"
                 "    shipping: \"100.4030\"\n    handling: \"100.4040\"\n"
                 "    wrapping: \"100.4050\"\n    fees: \"100.4060\"\n    tax: \"1.2310\"\n"
                 "    clearing: \"1.1110\"\n    gift_certificate: \"1.2410\"\n"
                 "    store_credit: \"1.2420\"\n    rounding: \"100.7990\"\n"
                 "customers:\n  enabled: true\n  ar_class: \"WEB\"\n  payment_terms: \"N30\"\n"
                 "  currency: \"USD\"\n"
                 "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"
                 "store:\n  url: \"%s\"\n",
                 TF.bc_base, TF.ais_base, path);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (cfg_load_buffer("cust-test.yaml", text, (size_t)n, &r->cfg, &e) != MLC_OK)
        fprintf(stderr, "config: %s\n", e.msg);
    assert_non_null(r->cfg);
    assert_int_equal(store_open(path, &r->st, &e), MLC_OK);
    store_set_clock(r->st, testclock_ahead, &r->ahead_ms);
    if (env_new_with(r->cfg, TF.tok, TF.pwd, &r->env, &e) != MLC_OK)
        fprintf(stderr, "env: %s\n", e.msg);
    assert_non_null(r->env);
}

static void run_close(struct run *r)
{
    env_free(r->env);
    store_close(r->st);
    cfg_unref(r->cfg);
}

static enum flow_result sync1(struct run *r, int64_t id, char *why, size_t cap)
{
    struct flow_run fr = { .env = r->env, .st = r->st, .cfg = r->cfg, .actor = "test" };
    enum flow_result res = FLOW_RETRY;
    struct mlc_err e = { 0 };

    assert_int_equal(cust_sync(&fr, id, &res, &e), MLC_OK);
    if (why != NULL)
        snprintf(why, cap, "%s", e.msg);
    return res;
}

static void expect_done(struct run *r, int64_t id)
{
    char why[MLC_ERR_MSG_MAX];
    enum flow_result res = sync1(r, id, why, sizeof(why));

    if (res != FLOW_DONE)
        fprintf(stderr, "customer %" PRId64 ": %d %s\n", id, (int)res, why);
    assert_int_equal(res, FLOW_DONE);
}

/* The ledger row of key: its state and AN8; -1 when there is none. */
static int ledger_state(struct run *r, const char *key, int64_t *an8)
{
    struct store_ledger l = { 0 };
    int rc = store_ledger_get(r->st, key, &l, NULL), s = -1;

    if (rc == MLC_OK) {
        s = (int)l.state;
        if (an8 != NULL)
            *an8 = l.doc_number;
        assert_string_equal(l.kind, "customer");
        if (l.state == STORE_LEDGER_POSTED)
            assert_string_equal(l.doc_type, "AB");
    }
    store_ledger_clear(&l);
    return s;
}

struct acount {
    const char *action;
    const char *needle;   /* in the detail (may be NULL) */
    size_t      n;
};

static int count_audit(const struct store_audit *a, void *ctx)
{
    struct acount *c = ctx;

    if (strcmp(a->action, c->action) == 0 &&
        (c->needle == NULL || (a->detail != NULL && strstr(a->detail, c->needle) != NULL)))
        c->n++;
    return 0;
}

static size_t audits(struct run *r, int64_t id, const char *action, const char *needle)
{
    struct acount c = { action, needle, 0 };
    char entity[40];

    snprintf(entity, sizeof(entity), "customer:%" PRId64, id);
    assert_int_equal(store_audit_list(r->st, entity, 0, count_audit, &c, NULL), MLC_OK);
    return c.n;
}

/* A new customer: one F0101 record keyed BC<id>, POSTED with its AN8; a
 * second run writes nothing; a change costs one update. */
static void test_create_then_update(void **state)
{
    struct run r;
    long long add0, upd0;
    int64_t an8 = 0, doc = 0;
    char alph[64];

    (void)state;
    run_open(&r);
    make_customer(7001, "Jane", "Roe");
    add0 = ais_counter(ADD_CALLS);
    upd0 = ais_counter(UPD_CALLS);
    expect_done(&r, 7001);
    assert_int_equal(ab_rows("BC7001", &an8, alph, sizeof(alph)), 1);
    assert_string_equal(alph, "Roe, Jane");
    assert_int_equal(ledger_state(&r, "BC7001", &doc), STORE_LEDGER_POSTED);
    assert_true(an8 > 0);
    assert_int_equal(doc, an8);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ais_counter(UPD_CALLS), upd0);
    /* "Texas" is cut to the 3 characters of State, and audited. */
    assert_int_equal(audits(&r, 7001, "truncate", "\"field\":\"State\""), 1);
    assert_int_equal(audits(&r, 7001, "create", NULL), 1);

    /* Unchanged: no JDE write at all. */
    expect_done(&r, 7001);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ais_counter(UPD_CALLS), upd0);
    assert_int_equal(audits(&r, 7001, "update", "unchanged"), 1);

    /* A new name: one update of the same record. */
    json_decref(ctl(TF.bc_base, "POST", "/__sim/customers/7001", "{\"last_name\":\"Smith\"}"));
    expect_done(&r, 7001);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 1);
    assert_int_equal(ab_rows("BC7001", &doc, alph, sizeof(alph)), 1);
    assert_int_equal(doc, an8);
    assert_string_equal(alph, "Smith, Jane");

    expect_done(&r, 7001);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 1);
    run_close(&r);
}

/* In JDE already (seed: AN8 4001, ALKY BC9001), no ledger row: adopted and
 * brought up to date once, never created again. */
static void test_adopt_existing(void **state)
{
    struct run r;
    long long add0, upd0;
    int64_t an8 = 0, doc = 0;
    char alph[64];

    (void)state;
    run_open(&r);
    make_customer(9001, "Existing", "Customer");
    assert_int_equal(ab_rows("BC9001", &an8, NULL, 0), 1);
    assert_int_equal(an8, 4001);
    add0 = ais_counter(ADD_CALLS);
    upd0 = ais_counter(UPD_CALLS);
    expect_done(&r, 9001);
    assert_int_equal(ais_counter(ADD_CALLS), add0);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 1);
    assert_int_equal(ledger_state(&r, "BC9001", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, 4001);
    assert_int_equal(ab_rows("BC9001", &an8, alph, sizeof(alph)), 1);
    assert_string_equal(alph, "Customer, Existing");
    assert_int_equal(audits(&r, 9001, "adopt", "no ledger row"), 1);

    expect_done(&r, 9001);
    assert_int_equal(ais_counter(ADD_CALLS), add0);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 1);
    run_close(&r);
}

/* The create commits but never answers (hang longer than the 4 s timeout):
 * RETRY with the row UNKNOWN; the next run finds the record and adopts it:
 * exactly one F0101 record, no update (the fields sent are known). */
static void test_commit_no_answer(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long add0, upd0;
    int64_t an8 = 0, doc = 0;

    (void)state;
    run_open(&r);
    make_customer(7002, "Hung", "Call");
    add0 = ais_counter(ADD_CALLS);
    upd0 = ais_counter(UPD_CALLS);
    json_decref(ctl(TF.ais_base, "POST", "/__sim/faults",
                    "{\"hang\":{\"orchestration\":\"MLC_AddCustomer\",\"count\":1,"
                    "\"hang_s\":6}}"));
    assert_int_equal(sync1(&r, 7002, why, sizeof(why)), FLOW_DEFER);
    assert_non_null(strstr(why, "BC7002"));
    assert_int_equal(ledger_state(&r, "BC7002", NULL), STORE_LEDGER_UNKNOWN);
    assert_int_equal(ab_rows("BC7002", &an8, NULL, 0), 1);

    expect_done(&r, 7002);
    assert_int_equal(ledger_state(&r, "BC7002", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, an8);
    assert_int_equal(ab_rows("BC7002", NULL, NULL, 0), 1);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ais_counter(UPD_CALLS), upd0);
    assert_int_equal(audits(&r, 7002, "adopt", "in doubt"), 1);

    expect_done(&r, 7002);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ais_counter(UPD_CALLS), upd0);
    run_close(&r);
}

/* JDE refuses the create: HOLD with its message, no ledger row left; once
 * the cause is gone the replay creates it. */
static void test_rejected_holds(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long add0;

    (void)state;
    run_open(&r);
    make_customer(7003, "Blocked", "Person");
    add0 = ais_counter(ADD_CALLS);
    json_decref(ctl(TF.ais_base, "POST", "/__sim/faults",
                    "{\"orch_fail\":[{\"orchestration\":\"MLC_AddCustomer\","
                    "\"message\":\"Customer master is locked\",\"count\":1}]}"));
    assert_int_equal(sync1(&r, 7003, why, sizeof(why)), FLOW_HOLD);
    assert_non_null(strstr(why, "Customer master is locked"));
    assert_int_equal(ledger_state(&r, "BC7003", NULL), -1);
    assert_int_equal(ab_rows("BC7003", NULL, NULL, 0), 0);
    assert_int_equal(audits(&r, 7003, "hold", NULL), 1);

    expect_done(&r, 7003);
    assert_int_equal(ab_rows("BC7003", NULL, NULL, 0), 1);
    assert_int_equal(ledger_state(&r, "BC7003", NULL), STORE_LEDGER_POSTED);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 2);
    json_decref(ctl(TF.ais_base, "POST", "/__sim/faults", "{\"orch_fail\":[]}"));
    run_close(&r);
}

/* A dry run reads and writes nothing: no ledger row, no audit, no create. */
static void test_dry_run(void **state)
{
    struct run r;
    struct flow_run fr;
    enum flow_result res = FLOW_RETRY;
    struct mlc_err e = { 0 };
    long long add0;

    (void)state;
    run_open(&r);
    make_customer(7004, "Dry", "Run");
    add0 = ais_counter(ADD_CALLS);
    fr = (struct flow_run){ .env = r.env, .st = r.st, .cfg = r.cfg, .actor = "test",
                            .dry_run = true };
    assert_int_equal(cust_sync(&fr, 7004, &res, &e), MLC_OK);
    assert_int_equal(res, FLOW_DONE);
    assert_int_equal(ais_counter(ADD_CALLS), add0);
    assert_int_equal(ledger_state(&r, "BC7004", NULL), -1);
    assert_int_equal(audits(&r, 7004, "fetch", NULL), 0);
    assert_int_equal(ab_rows("BC7004", NULL, NULL, 0), 0);
    run_close(&r);
}

/* A PENDING row whose create never reached JDE (a crash before the call):
 * looked up, absent, forgotten and created once. */
static void test_pending_absent(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX];
    long long add0;
    int64_t an8 = 0, doc = 0;

    (void)state;
    run_open(&r);
    make_customer(7005, "Crashed", "Before");
    assert_int_equal(store_ledger_begin(r.st, "BC7005", "customer", "customer:7005", "{}", NULL),
                     MLC_OK);
    add0 = ais_counter(ADD_CALLS);
    /* Absent, but its create may still land for the send window (5 s) and
     * the settle time (2 x 4 s): the run waits and sends nothing... */
    assert_int_equal(sync1(&r, 7005, why, sizeof(why)), FLOW_DEFER);
    assert_non_null(strstr(why, "may still land"));
    assert_int_equal(ais_counter(ADD_CALLS), add0);
    /* ...then starts over, once. */
    r.ahead_ms = 13000;
    expect_done(&r, 7005);
    assert_int_equal(ais_counter(ADD_CALLS), add0 + 1);
    assert_int_equal(ab_rows("BC7005", &an8, NULL, 0), 1);
    assert_int_equal(ledger_state(&r, "BC7005", &doc), STORE_LEDGER_POSTED);
    assert_int_equal(doc, an8);
    run_close(&r);
}

/* An update that commits without an answer: RETRY; the next run sends it
 * again (an update is safe to repeat), then nothing more. */
static void test_update_no_answer(void **state)
{
    struct run r;
    char why[MLC_ERR_MSG_MAX], alph[64];
    long long upd0;

    (void)state;
    run_open(&r);
    make_customer(7006, "First", "Name");
    expect_done(&r, 7006);
    json_decref(ctl(TF.bc_base, "POST", "/__sim/customers/7006", "{\"company\":\"Renamed Ltd\"}"));
    upd0 = ais_counter(UPD_CALLS);
    json_decref(ctl(TF.ais_base, "POST", "/__sim/faults",
                    "{\"hang\":{\"orchestration\":\"MLC_UpdateCustomer\",\"count\":1,"
                    "\"hang_s\":6}}"));
    assert_int_equal(sync1(&r, 7006, why, sizeof(why)), FLOW_RETRY);
    assert_non_null(strstr(why, "BC7006"));
    assert_int_equal(ledger_state(&r, "BC7006", NULL), STORE_LEDGER_POSTED);
    expect_done(&r, 7006);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 2);
    assert_int_equal(ab_rows("BC7006", NULL, alph, sizeof(alph)), 1);
    assert_string_equal(alph, "Renamed Ltd");
    expect_done(&r, 7006);
    assert_int_equal(ais_counter(UPD_CALLS), upd0 + 2);
    run_close(&r);
}

/* A customer BigCommerce does not have (deleted): done, nothing written. */
static void test_not_found(void **state)
{
    struct run r;
    long long add0;

    (void)state;
    run_open(&r);
    add0 = ais_counter(ADD_CALLS);
    expect_done(&r, 987654);
    assert_int_equal(ais_counter(ADD_CALLS), add0);
    assert_int_equal(ledger_state(&r, "BC987654", NULL), -1);
    assert_int_equal(audits(&r, 987654, "fetch", "987654"), 1);
    run_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_names),
        cmocka_unit_test(test_map_first_address_and_phone),
        cmocka_unit_test(test_map_truncation),
        cmocka_unit_test(test_map_json_hash),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_create_then_update),
        cmocka_unit_test(test_adopt_existing),
        cmocka_unit_test(test_commit_no_answer),
        cmocka_unit_test(test_rejected_holds),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_pending_absent),
        cmocka_unit_test(test_update_no_answer),
    };

    return cmocka_run_group_tests_name("customer_flow", tests, group_setup, group_teardown);
}
