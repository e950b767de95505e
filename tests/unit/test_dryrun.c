/* Unit tests: sync/dryrun, the samples of `mlc ping --orchestrations`:
 * which orchestrations offer the validation mode, the sample inputs (on
 * the configured accounts and business units, balanced, ValidateOnly "1")
 * and the verdict on an answer, including one that wrote anyway. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/tz.h"
#include "helpers/testcfg.h"
#include "jde/ais_orch.h"
#include "sync/dryrun.h"

#define NOW 1780000000 /* 2026-05-28T20:26:40Z */

#define ACCOUNTS(clearing)                                                                  \
    "  accounts:\n    revenue: \"900.4010\"\n    discounts: \"100.4020\"\n"                  \
    "    shipping: \"100.4030\"\n    tax: \"1.2310\"\n    clearing: \"" clearing "\"\n"      \
    "    rounding: \"100.7990\"\n"

static const char *const posting =
    "  balance_sheet_bu: \"1\"\n"
    "  default_bu: \"100\"\n"
    "  default_supplier: \"5001\"\n"
    ACCOUNTS("1.1110.STRIPE");

/* The value of input name in body (header inputs), NULL when absent. */
static const char *input(const json_t *body, const char *name)
{
    const json_t *x;
    size_t i;

    json_array_foreach(json_object_get(body, "inputs"), i, x)
        if (strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
            return json_string_value(json_object_get(x, "value"));
    return NULL;
}

/* Row r's value of name in the first grid. */
static const char *cell(const json_t *body, size_t r, const char *name)
{
    const json_t *g = json_array_get(json_object_get(body, "detailInputs"), 0);
    const json_t *row = json_array_get(json_object_get(g, "repeatingInputs"), r);
    const json_t *x;
    size_t i;

    json_array_foreach(json_object_get(row, "inputs"), i, x)
        if (strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
            return json_string_value(json_object_get(x, "value"));
    return NULL;
}

static json_t *body_of(const struct mlc_config *c, const struct dryrun_sample *sm)
{
    json_t *b = NULL;

    assert_int_equal(ais_orch_in_json(sm->in, &c->jde, "yyyy-MM-dd", &b, NULL), MLC_OK);
    return b;
}

static void test_supported(void **state)
{
    struct mlc_config *c = testcfg_posting(posting);
    json_t *with = json_pack("{s:[{s:s},{s:s}]}", "inputs", "name", "Company", "name",
                             "ValidateOnly");
    json_t *without = json_pack("{s:[{s:s}]}", "inputs", "name", "Company");

    (void)state;
    assert_true(dryrun_supported(with, &c->jde));
    assert_false(dryrun_supported(without, &c->jde));
    assert_false(dryrun_supported(NULL, &c->jde));
    json_decref(with);
    json_decref(without);
    cfg_unref(c);
}

/* A renamed input (jde.inputs) is looked for under the customer's name. */
static void test_supported_renamed(void **state)
{
    struct mlc_config *c = NULL;
    struct mlc_err e;
    char text[2048];
    json_t *d = json_pack("{s:[{s:s}]}", "inputs", "name", "Z_CHECK_ONLY");
    int n = snprintf(text, sizeof(text),
                     "bigcommerce:\n  store_hash: abc123\n  token_ref: bc\n"
                     "jde:\n  ais_base_url: \"http://127.0.0.1:1\"\n  user: U\n"
                     "  password_ref: j\n  inputs:\n    ValidateOnly: Z_CHECK_ONLY\n"
                     TESTCFG_ORDERS "posting:\n  company: \"00001\"\n%s", posting);

    (void)state;
    if (cfg_load_buffer("renamed.yaml", text, (size_t)n, &c, &e) != MLC_OK)
        fail_msg("%s", e.msg);
    assert_true(dryrun_supported(d, &c->jde));
    json_decref(d);
    cfg_unref(c);
}

/* A balanced journal entry of one unit on the configured accounts, the
 * business units of their roles applied, ValidateOnly "1". */
static void test_journal_sample(void **state)
{
    struct mlc_config *c = testcfg_posting(posting);
    struct dryrun_sample sm;
    struct mlc_err e;
    json_t *b;

    (void)state;
    assert_int_equal(tz_init("UTC", &e), MLC_OK);
    assert_int_equal(dryrun_sample(c, AIS_ORCH_JOURNAL, "USD", NOW, &sm, &e), MLC_OK);
    assert_string_equal(sm.key, "MLCPING1780000000");
    b = body_of(c, &sm);
    assert_string_equal(input(b, "ValidateOnly"), "1");
    assert_string_equal(input(b, "Reference"), "MLCPING1780000000");
    assert_string_equal(input(b, "Company"), "00001");
    assert_string_equal(input(b, "Currency"), "USD");
    assert_string_equal(input(b, "GLDate"), "2026-05-28");
    assert_string_equal(cell(b, 0, "Account"), "1.1110.STRIPE");
    assert_string_equal(cell(b, 0, "Amount"), "1.00");
    assert_string_equal(cell(b, 1, "Account"), "100.4010"); /* default_bu moves it */
    assert_string_equal(cell(b, 1, "Amount"), "-1.00");
    json_decref(b);
    dryrun_sample_clear(&sm);

    /* A currency without minor units: one unit is "1". */
    assert_int_equal(dryrun_sample(c, AIS_ORCH_JOURNAL, "JPY", NOW, &sm, &e), MLC_OK);
    b = body_of(c, &sm);
    assert_string_equal(cell(b, 0, "Amount"), "1");
    json_decref(b);
    dryrun_sample_clear(&sm);

    /* No currency (the store did not answer): a clear refusal. */
    assert_int_equal(dryrun_sample(c, AIS_ORCH_JOURNAL, "", NOW, &sm, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "currency"));
    assert_null(sm.in);
    cfg_unref(c);
}

/* The voucher: the supplier, gross one unit, the distribution on revenue. */
static void test_voucher_sample(void **state)
{
    struct mlc_config *c = testcfg_posting(posting), *n;
    struct dryrun_sample sm;
    struct mlc_err e;
    json_t *b;

    (void)state;
    assert_int_equal(dryrun_sample(c, AIS_ORCH_VOUCHER, "EUR", NOW, &sm, &e), MLC_OK);
    b = body_of(c, &sm);
    assert_string_equal(input(b, "SupplierNumber"), "5001");
    assert_string_equal(input(b, "InvoiceNumber"), sm.key);
    assert_string_equal(input(b, "GrossAmount"), "1.00");
    assert_string_equal(input(b, "ValidateOnly"), "1");
    assert_string_equal(cell(b, 0, "Account"), "100.4010");
    assert_string_equal(cell(b, 0, "Amount"), "1.00");
    json_decref(b);
    dryrun_sample_clear(&sm);

    n = testcfg_posting(ACCOUNTS("1.1110"));
    assert_int_equal(dryrun_sample(n, AIS_ORCH_VOUCHER, "EUR", NOW, &sm, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "posting.default_supplier"));
    cfg_unref(n);
    cfg_unref(c);
}

static void test_customer_samples(void **state)
{
    struct mlc_config *c = testcfg_posting(posting);
    struct dryrun_sample sm;
    struct mlc_err e;
    json_t *b;

    (void)state;
    assert_int_equal(dryrun_sample(c, AIS_ORCH_ADD_CUSTOMER, NULL, NOW, &sm, &e), MLC_OK);
    assert_string_equal(sm.key, "MLCPING1780000000");
    b = body_of(c, &sm);
    assert_string_equal(input(b, "LongAddressNumber"), sm.key);
    assert_non_null(strstr(input(b, "AlphaName"), "MLC PING"));
    assert_string_equal(input(b, "ValidateOnly"), "1");
    assert_null(input(b, "AddressNumber"));
    json_decref(b);
    dryrun_sample_clear(&sm);
    /* An update would need (and, built wrong, overwrite) a real customer. */
    assert_int_equal(dryrun_sample(c, AIS_ORCH_UPDATE_CUSTOMER, NULL, NOW, &sm, &e),
                     MLC_ESTATE);
    assert_null(sm.in);
    cfg_unref(c);
}

static enum dryrun_outcome judge(int rc, bool rejected, const char *out, int64_t *doc)
{
    struct ais_orch_result res = { .rejected = rejected };
    enum dryrun_outcome o;

    res.out = out != NULL ? json_loads(out, 0, NULL) : NULL;
    o = dryrun_judge(rc, &res, doc);
    json_decref(res.out);
    return o;
}

static void test_judge(void **state)
{
    int64_t doc;

    (void)state;
    assert_int_equal(judge(MLC_OK, false, "{\"Validated\":\"1\"}", &doc), DRYRUN_VALIDATED);
    assert_int_equal(doc, 0);
    assert_int_equal(judge(MLC_OK, false, "{\"Validated\":true}", &doc), DRYRUN_UNCLEAR);
    assert_int_equal(judge(MLC_OK, false, "{\"Validated\":\"true\"}", &doc), DRYRUN_VALIDATED);
    /* A number means it wrote, whatever else it says. */
    assert_int_equal(judge(MLC_OK, false, "{\"Validated\":\"1\",\"DocumentNumber\":\"100007\"}",
                           &doc), DRYRUN_WROTE);
    assert_int_equal(doc, 100007);
    assert_int_equal(judge(MLC_OK, false, "{\"AddressNumber\":90001}", &doc), DRYRUN_WROTE);
    assert_int_equal(doc, 90001);
    assert_int_equal(judge(MLC_OK, false, "{}", &doc), DRYRUN_UNCLEAR);
    assert_int_equal(judge(MLC_EPROTO, true, NULL, &doc), DRYRUN_REFUSED);
    assert_int_equal(judge(MLC_ETIMEOUT, false, NULL, &doc), DRYRUN_NO_ANSWER);
    assert_int_equal(judge(MLC_EIO, false, NULL, &doc), DRYRUN_NO_ANSWER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported),
        cmocka_unit_test(test_supported_renamed),
        cmocka_unit_test(test_journal_sample),
        cmocka_unit_test(test_voucher_sample),
        cmocka_unit_test(test_customer_samples),
        cmocka_unit_test(test_judge),
    };

    return cmocka_run_group_tests_name("dryrun", tests, NULL, NULL);
}
