/* Unit tests: sync/accounts, the F0901 / F0006 checks, against the AIS
 * simulator seeded with sim/seed/jde.json (run from the repository root).
 * acct_check_mapping: every account and business unit of a posting
 * configuration, each problem with its key and reason, in batched reads,
 * good answers cached. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ais/aissim.h"
#include "core/config.h"
#include "helpers/testcfg.h"
#include "core/secret.h"
#include "helpers/simctl.h"
#include "jde/ais_data.h"
#include "jde/ais_session.h"
#include "net/httpc.h"
#include "sync/accounts.h"
#include "sync/mapping.h"

#define SEED "sim/seed/jde.json"
#define DATASERVICE "POST /jderest/v2/dataservice"

struct fx {
    struct aissim      *sim;
    char                base[64];
    struct httpc       *ctl;
    struct ais_session *s;
    struct acct_cache  *cache;
};

static struct ais_session *session_at(const char *base)
{
    struct cfg_jde c = { 0 };
    struct ais_session_opts o = { .read_attempts = 1, .retry_base_ms = 10 };
    struct mlc_secret *p = NULL;
    struct ais_session *s = NULL;

    c.ais_base_url = (char *)base;
    c.environment = "JDV920";
    c.role = "*ALL";
    c.device_name = "mlc-test-device";
    c.user = "MLCINT";
    c.timeout_ms = 5000;
    assert_int_equal(secret_new("mlcint-pass", 11, &p, NULL), MLC_OK);
    assert_int_equal(ais_session_new(&c, p, &o, &s, NULL), MLC_OK);
    secret_free(p);
    return s;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_t *seed = json_load_file(SEED, 0, NULL);
    struct mlc_err e = { 0 };

    assert_non_null(f);
    assert_non_null(seed);
    assert_int_equal(aissim_start("127.0.0.1:0", json_object_get(seed, "jde"), &f->sim, &e),
                     MLC_OK);
    json_decref(seed);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)aissim_port(f->sim));
    assert_int_equal(httpc_new(NULL, &f->ctl, NULL), MLC_OK);
    f->s = session_at(f->base);
    assert_int_equal(ais_session_login(f->s, &e), MLC_OK);
    assert_int_equal(acct_cache_new(&f->cache, &e), MLC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    acct_cache_free(f->cache);
    ais_session_free(f->s);
    httpc_free(f->ctl);
    aissim_free(f->sim);
    free(f);
    return 0;
}

static long long reads(struct fx *f)
{
    json_t *c = simctl(f->ctl, f->base, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, DATASERVICE));

    json_decref(c);
    return n;
}


/* Checks the mapping of c; the report's problems as text, '\n'-terminated
 * lines "reason: text", into buf. */
static void check(struct fx *f, const struct mlc_config *c, struct acct_report *rep,
                  char *buf, size_t cap)
{
    struct mapping m;
    struct mlc_err e = { 0 };
    char line[512];
    size_t len = 0;

    assert_int_equal(mapping_build(&c->posting, &m, &e), MLC_OK);
    if (acct_check_mapping(f->cache, f->s, &m, rep, &e) != MLC_OK)
        fail_msg("acct_check_mapping: %s", e.msg);
    buf[0] = '\0';
    for (size_t i = 0; i < rep->n_problems; i++) {
        const struct acct_problem *p = &rep->problems[i];

        assert_true(p->ref >= m.refs && p->ref < m.refs + m.n); /* borrowed from m */
        acct_problem_text(p, line, sizeof(line));
        len += (size_t)snprintf(buf + len, cap - len, "%s: %s\n",
                                acct_reason_name(p->reason), line);
    }
    /* The problems point into m: drop them with it. */
    acct_report_clear(rep);
    mapping_clear(&m);
}

/* The seed's chart: everything the settings and maps name exists. */
static const char good_posting[] =
    "  balance_sheet_bu: \"1\"\n"
    "  default_bu: \"100\"\n"
    "  accounts:\n"
    "    revenue: \"100.4010\"\n"
    "    discounts: \"100.4020\"\n"
    "    shipping: \"100.4030\"\n"
    "    handling: \"100.4040\"\n"
    "    tax: \"1.2310\"\n"
    "    clearing: \"1.1110\"\n"
    "    rounding: \"100.7990\"\n"
    "  revenue_by_sku:\n"
    "    \"SKU-1\": \"100.4010.APPAREL\"\n"
    "  clearing_by_gateway:\n"
    "    stripe: \"1.1110.STRIPE\"\n";

/* ---- tests -------------------------------------------------------------- */

/* All good: counted, two reads (F0006, F0901); a second check answers from
 * the cache without any read. */
static void test_all_good_cached(void **state)
{
    struct fx *f = *state;
    struct mlc_config *c = testcfg_posting(good_posting);
    struct acct_report rep;
    struct acct_stats st;
    struct mapping m;
    char text[2048];
    long long before = reads(f);

    check(f, c, &rep, text, sizeof(text));
    assert_string_equal(text, "");
    assert_int_equal(reads(f) - before, 2);
    before = reads(f);
    assert_int_equal(mapping_build(&c->posting, &m, NULL), MLC_OK);
    assert_int_equal(acct_check_mapping(f->cache, f->s, &m, &rep, NULL), MLC_OK);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.n_bus, 2);       /* 1, 100 */
    assert_int_equal(rep.n_accounts, 9);
    assert_int_equal(reads(f) - before, 0);
    acct_stats(f->cache, &st);
    assert_int_equal(st.hits, 11);
    acct_report_clear(&rep);
    mapping_clear(&m);
    cfg_unref(c);
}

/* A missing account in a map, a header account (posting edit code N) in a
 * map, an account moved by default_bu onto a missing one, a missing
 * channel business unit (whose accounts are not listed one by one): each
 * named by its key, in the configuration's order, in two reads. Bad
 * answers are never trusted: a second check reads them again. */
static void test_problems_with_keys(void **state)
{
    static const char want[] =
        "missing: posting.bu_by_channel.2: business unit 300 does not exist in F0006\n"
        "missing: posting.revenue_by_sku.SKU-GONE: account 100.4999 does not exist in F0901\n"
        "missing: posting.revenue_by_category.23: account 100.4000 does not exist in F0901 "
        "(configured as 110.4000; posting.default_bu posts it in business unit 100)\n"
        "not_postable: posting.clearing_by_method.Cash on Delivery: account 1.1000 is not "
        "postable in F0901 (posting edit code N)\n";
    struct fx *f = *state;
    struct mlc_config *c = testcfg_posting(
        "  balance_sheet_bu: \"1\"\n"
        "  default_bu: \"100\"\n"
        "  bu_by_channel:\n"
        "    \"2\": \"300\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4020\"\n"
        "    shipping: \"100.4030\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1110\"\n"
        "    rounding: \"100.7990\"\n"
        "  revenue_by_sku:\n"
        "    \"SKU-1\": \"100.4010.APPAREL\"\n"
        "    \"SKU-GONE\": \"100.4999\"\n"
        "  revenue_by_category:\n"
        "    \"23\": \"110.4000\"\n"
        "  clearing_by_method:\n"
        "    \"Cash on Delivery\": \"1.1000\"\n"
        "  supplier_by_gateway:\n"
        "    stripe: \"5001\"\n");
    struct acct_report rep;
    char text[4096];
    long long before = reads(f);

    check(f, c, &rep, text, sizeof(text));
    assert_string_equal(text, want);
    assert_int_equal(reads(f) - before, 2);
    before = reads(f);
    check(f, c, &rep, text, sizeof(text));
    assert_string_equal(text, want);
    assert_int_equal(reads(f) - before, 2);
    cfg_unref(c);
}

/* Without business unit settings an account's own business unit is
 * checked under the account's key; the account itself is then not listed
 * again. The report counts what it checked. */
static void test_own_business_unit(void **state)
{
    static const char want[] =
        "missing: posting.accounts.tax: business unit 9 of account 9.2310 does not exist "
        "in F0006\n"
        "not_postable: posting.accounts.rounding: account 110.4000 is not postable in F0901 "
        "(posting edit code N)\n";
    struct fx *f = *state;
    struct mlc_config *c = testcfg_posting(
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4020\"\n"
        "    shipping: \"110.4030\"\n"
        "    tax: \"9.2310\"\n"
        "    clearing: \"1.1110\"\n"
        "    rounding: \"110.4000\"\n");
    struct acct_report rep;
    struct mapping m;
    char text[2048];

    check(f, c, &rep, text, sizeof(text));
    assert_string_equal(text, want);
    assert_int_equal(mapping_build(&c->posting, &m, NULL), MLC_OK);
    assert_int_equal(acct_check_mapping(f->cache, f->s, &m, &rep, NULL), MLC_OK);
    assert_int_equal(rep.n_bus, 4);       /* 1, 9, 100, 110 */
    assert_int_equal(rep.n_accounts, 5);  /* not 9.2310 */
    assert_int_equal(rep.n_problems, 2);
    assert_int_equal(rep.problems[0].ref->kind, MAPPING_BU);
    assert_int_equal(rep.problems[1].reason, ACCT_NOT_POSTABLE);
    assert_string_equal(rep.problems[1].pec, "N");
    acct_report_clear(&rep);
    acct_report_clear(&rep); /* twice: harmless */
    acct_report_clear(NULL);
    mapping_clear(&m);
    cfg_unref(c);
}

/* AIS does not answer: an error, an empty report, nothing concluded. */
static void test_ais_down(void **state)
{
    struct fx *f = *state;
    struct mlc_config *c = testcfg_posting(good_posting);
    struct ais_session *dead = session_at("http://127.0.0.1:1");
    struct acct_report rep = { .n_problems = 7 };
    struct mapping m;
    struct mlc_err e = { 0 };

    assert_int_equal(mapping_build(&c->posting, &m, NULL), MLC_OK);
    assert_true(acct_check_mapping(f->cache, dead, &m, &rep, &e) < 0);
    assert_true(e.msg[0] != '\0');
    assert_int_equal(rep.n_problems, 0);
    assert_null(rep.problems);
    assert_int_equal(rep.n_accounts + rep.n_bus, 0);
    mapping_clear(&m);
    ais_session_free(dead);
    cfg_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_good_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problems_with_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_business_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ais_down, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
