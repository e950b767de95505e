/* Unit tests: core/finfmt (status names, debit and credit columns). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/finfmt.h"

static void test_status_names(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(finfmt_bc_status(0), "Incomplete");
    assert_string_equal(finfmt_bc_status(1), "Pending");
    assert_string_equal(finfmt_bc_status(5), "Cancelled");
    assert_string_equal(finfmt_bc_status(10), "Completed");
    assert_string_equal(finfmt_bc_status(11), "Awaiting Fulfillment");
    assert_string_equal(finfmt_bc_status(14), "Partially Refunded");
    assert_null(finfmt_bc_status(15));
    assert_null(finfmt_bc_status(-1));
    finfmt_status_text(10, buf, sizeof(buf));
    assert_string_equal(buf, "Completed (10)");
    finfmt_status_text(99, buf, sizeof(buf));
    assert_string_equal(buf, "status 99");
}

static void test_debit_credit(void **state)
{
    struct finfmt_dc t;
    char d[32], c[32];

    (void)state;
    finfmt_dc_init(&t);
    finfmt_dc_totals(&t, d, sizeof(d), c, sizeof(c));
    assert_string_equal(d, "");
    assert_string_equal(c, "");
    finfmt_debit_credit("21.98", d, sizeof(d), c, sizeof(c), &t);
    assert_string_equal(d, "21.98");
    assert_string_equal(c, "");
    finfmt_debit_credit("-19.98", d, sizeof(d), c, sizeof(c), &t);
    assert_string_equal(d, "");
    assert_string_equal(c, "19.98");
    finfmt_debit_credit("-2.00", d, sizeof(d), c, sizeof(c), &t);
    assert_string_equal(c, "2.00");
    finfmt_debit_credit("0.00", d, sizeof(d), c, sizeof(c), &t);
    assert_string_equal(d, "0.00");
    assert_string_equal(c, "");
    finfmt_dc_totals(&t, d, sizeof(d), c, sizeof(c));
    assert_string_equal(d, "21.98");
    assert_string_equal(c, "21.98");
    /* Without a total, and a currency without decimals. */
    finfmt_debit_credit("-1500", d, sizeof(d), c, sizeof(c), NULL);
    assert_string_equal(d, "");
    assert_string_equal(c, "1500");
}

static void test_bad_amounts(void **state)
{
    struct finfmt_dc t;
    char d[32], c[32];

    (void)state;
    finfmt_dc_init(&t);
    finfmt_debit_credit("12.5x", d, sizeof(d), c, sizeof(c), &t);
    assert_string_equal(d, "12.5x");
    assert_string_equal(c, "");
    finfmt_dc_totals(&t, d, sizeof(d), c, sizeof(c));
    assert_string_equal(d, "?");
    assert_string_equal(c, "?");
    /* Two scales in one document: no total is better than a wrong one. */
    finfmt_dc_init(&t);
    finfmt_debit_credit("1.00", d, sizeof(d), c, sizeof(c), &t);
    finfmt_debit_credit("-1.000", d, sizeof(d), c, sizeof(c), &t);
    finfmt_dc_totals(&t, d, sizeof(d), c, sizeof(c));
    assert_string_equal(d, "?");
    finfmt_dc_init(&t);
    finfmt_debit_credit("", d, sizeof(d), c, sizeof(c), &t);
    finfmt_debit_credit(NULL, d, sizeof(d), c, sizeof(c), &t);
    assert_true(t.bad);
    finfmt_debit_credit("99999999999999999999", d, sizeof(d), c, sizeof(c), NULL);
    assert_string_equal(d, "99999999999999999999");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_debit_credit),
        cmocka_unit_test(test_bad_amounts),
    };

    return cmocka_run_group_tests_name("finfmt", tests, NULL, NULL);
}
