/* Unit tests: jobkind (the registry of job kinds, their key prefixes and
 * which have a handler under a configuration). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/jobkind.h"

/* A config with only the switches the registry reads. */
static struct mlc_config cfg_with(bool customers, bool catalog)
{
    struct mlc_config c;

    memset(&c, 0, sizeof(c));
    c.customers.enabled = customers;
    c.catalog.enabled = catalog;
    return c;
}

static void test_every_kind_named_once(void **state)
{
    (void)state;
    assert_int_equal(jobkind_count(), 4);
    for (size_t i = 0; i < jobkind_count(); i++) {
        const struct jobkind *k = jobkind_at(i);

        assert_non_null(k->name);
        assert_non_null(k->what);
        assert_ptr_equal(jobkind_find(k->name), k);
        for (size_t j = i + 1; j < jobkind_count(); j++)
            assert_string_not_equal(k->name, jobkind_at(j)->name);
    }
    assert_null(jobkind_at(jobkind_count()));
    assert_null(jobkind_find("order"));
    assert_null(jobkind_find(NULL));
    assert_string_equal(JOB_ORDER_SYNC, "order.sync");
    assert_string_equal(JOB_KEY_ORDER, "order:");
}

/* The kind of a webhook's resource type (the keys each kind takes). */
static void test_of_resource(void **state)
{
    (void)state;
    assert_string_equal(jobkind_of_resource("order"), JOB_ORDER_SYNC);
    assert_string_equal(jobkind_of_resource("customer"), JOB_CUSTOMER_SYNC);
    assert_string_equal(jobkind_of_resource("product"), JOB_CATALOG_SYNC);
    assert_string_equal(jobkind_of_resource("sku"), JOB_CATALOG_SYNC);
    assert_null(jobkind_of_resource("cart"));
    assert_null(jobkind_of_resource("orde"));
    assert_null(jobkind_of_resource("order:"));
    assert_null(jobkind_of_resource(""));
    assert_null(jobkind_of_resource(NULL));
}

/* Which kinds have a handler: one function of the configuration. */
static void test_handled_by_config(void **state)
{
    struct mlc_config off = cfg_with(false, false), cust = cfg_with(true, false),
                      cat = cfg_with(false, true);

    (void)state;
    assert_true(jobkind_handled(&off, JOB_ORDER_SYNC));
    /* The diagnostic kind: only with MLC_DEBUG_JOBS=1 in the environment. */
    unsetenv(JOBKIND_DEBUG_ENV);
    assert_false(jobkind_handled(&off, JOB_NOOP));
    assert_false(jobkind_handled(NULL, JOB_NOOP));
    struct mlc_err e;
    assert_int_equal(jobkind_check(&off, JOB_NOOP, &e), MLC_ESTATE);
    assert_non_null(strstr(e.msg, "MLC_DEBUG_JOBS=1"));
    setenv(JOBKIND_DEBUG_ENV, "yes", 1);
    assert_false(jobkind_handled(&off, JOB_NOOP));
    setenv(JOBKIND_DEBUG_ENV, "1", 1);
    assert_true(jobkind_handled(&off, JOB_NOOP));
    assert_true(jobkind_handled(NULL, JOB_NOOP));
    assert_int_equal(jobkind_check(&off, JOB_NOOP, &e), MLC_OK);
    unsetenv(JOBKIND_DEBUG_ENV);
    assert_false(jobkind_handled(&off, JOB_CUSTOMER_SYNC));
    assert_false(jobkind_handled(&off, JOB_CATALOG_SYNC));
    assert_true(jobkind_handled(&cust, JOB_CUSTOMER_SYNC));
    assert_false(jobkind_handled(&cust, JOB_CATALOG_SYNC));
    assert_true(jobkind_handled(&cat, JOB_CATALOG_SYNC));
    assert_false(jobkind_handled(&cat, JOB_CUSTOMER_SYNC));
    /* NULL: the defaults, every switch off */
    assert_true(jobkind_handled(NULL, JOB_ORDER_SYNC));
    assert_false(jobkind_handled(NULL, JOB_CATALOG_SYNC));
    assert_false(jobkind_handled(&cat, "order.synk"));
    assert_false(jobkind_handled(&cat, NULL));
}

/* The refusal names the kind and the switch that turns it on. */
static void test_check_messages(void **state)
{
    struct mlc_config off = cfg_with(false, false), on = cfg_with(true, true);
    struct mlc_err e = { 0 };

    (void)state;
    assert_int_equal(jobkind_check(&off, JOB_CUSTOMER_SYNC, &e), MLC_ESTATE);
    assert_string_equal(e.msg, "no handler for kind customer.sync in this configuration "
                        "(customers.enabled is false)");
    assert_int_equal(jobkind_check(&off, JOB_CATALOG_SYNC, &e), MLC_ESTATE);
    assert_non_null(strstr(e.msg, "no handler for kind catalog.sync in this configuration"));
    assert_non_null(strstr(e.msg, "catalog.enabled is false"));
    assert_int_equal(jobkind_check(&off, "order.synk", &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "unknown job kind 'order.synk'"));
    assert_int_equal(jobkind_check(&on, JOB_CUSTOMER_SYNC, NULL), MLC_OK);
    assert_int_equal(jobkind_check(&on, JOB_CATALOG_SYNC, NULL), MLC_OK);
    assert_int_equal(jobkind_check(&off, JOB_ORDER_SYNC, NULL), MLC_OK);
}

static void test_key_parse(void **state)
{
    struct mlc_err e = { 0 };
    int64_t id = -1;

    (void)state;
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:105", &id, NULL), MLC_OK);
    assert_int_equal(id, 105);
    assert_int_equal(jobkind_key_parse(JOB_CATALOG_SYNC, "product:111", &id, NULL), MLC_OK);
    assert_int_equal(id, 111);
    assert_int_equal(jobkind_key_parse(JOB_CATALOG_SYNC, "sku:1111", &id, NULL), MLC_OK);
    assert_int_equal(id, 1111);
    assert_int_equal(jobkind_key_parse(JOB_NOOP, "diag:anything", &id, NULL), MLC_OK);
    assert_int_equal(id, 0);
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "customer:7", &id, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "job key 'customer:7' is not order:<id>");
    assert_int_equal(jobkind_key_parse(JOB_CATALOG_SYNC, "order:1", NULL, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "job key 'order:1' is not product:<id> or sku:<id>");
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:", NULL, NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:0", NULL, NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:-3", NULL, NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:12x", NULL, NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse(JOB_ORDER_SYNC, "order:99999999999999999999", NULL,
                                       NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse(JOB_NOOP, "", NULL, NULL), MLC_EINVAL);
    assert_int_equal(jobkind_key_parse("nope", "order:1", NULL, NULL), MLC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_named_once),
        cmocka_unit_test(test_of_resource),
        cmocka_unit_test(test_handled_by_config),
        cmocka_unit_test(test_check_messages),
        cmocka_unit_test(test_key_parse),
    };

    return cmocka_run_group_tests_name("jobkind", tests, NULL, NULL);
}
