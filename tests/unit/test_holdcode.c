/* Unit tests: holdcode (the stable reason codes of held items: names both
 * ways, old rows without a code, the fix each names, JDE's refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/holdcode.h"

/* Every code has a distinct name that parses back to it, and a fix. */
static void test_names_round_trip(void **state)
{
    enum hold_code c;

    (void)state;
    for (int i = 0; i < HOLD_CODE_COUNT; i++) {
        assert_true(hold_code_parse(hold_code_name((enum hold_code)i), &c));
        assert_int_equal(c, i);
        assert_true(strlen(hold_code_fix((enum hold_code)i)) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(hold_code_name((enum hold_code)i),
                                    hold_code_name((enum hold_code)j));
    }
    /* The names are an interface: these never change. */
    assert_string_equal(hold_code_name(HOLD_ACCOUNT_MISSING), "account_missing");
    assert_string_equal(hold_code_name(HOLD_ACCOUNT_NOT_POSTABLE), "account_not_postable");
    assert_string_equal(hold_code_name(HOLD_UNMAPPED_SKU), "unmapped_sku");
    assert_string_equal(hold_code_name(HOLD_PERIOD_CLOSED), "period_closed");
    assert_string_equal(hold_code_name(HOLD_VOUCHER_SUPPLIER), "voucher_supplier");
    assert_string_equal(hold_code_name(HOLD_AUTH), "auth");
    assert_string_equal(hold_code_name(HOLD_JDE_ERROR), "jde_error");
    assert_string_equal(hold_code_name(HOLD_OTHER), "other");
    assert_string_equal(hold_code_name(HOLD_CODE_COUNT), "other");
    assert_string_equal(hold_code_name((enum hold_code)-1), "other");
    assert_non_null(strstr(hold_code_fix(HOLD_UNMAPPED_SKU), "posting.revenue_by_sku"));
    assert_non_null(strstr(hold_code_fix(HOLD_ACCOUNT_MISSING), "F0901"));
}

/* Rows written before codes (NULL), or by a newer version, read as other. */
static void test_unknown_reads_other(void **state)
{
    enum hold_code c = HOLD_AUTH;

    (void)state;
    assert_false(hold_code_parse("no_such_code", &c));
    assert_int_equal(c, HOLD_OTHER);
    assert_false(hold_code_parse(NULL, &c));
    assert_int_equal(hold_code_of(NULL), HOLD_OTHER);
    assert_int_equal(hold_code_of(""), HOLD_OTHER);
    assert_int_equal(hold_code_of("Account_Missing"), HOLD_OTHER); /* exact names only */
    assert_int_equal(hold_code_of("period_closed"), HOLD_PERIOD_CLOSED);
}

/* JDE's refusal of a document: what its message says. */
static void test_jde_refusal(void **state)
{
    (void)state;
    assert_int_equal(hold_code_of_jde_refusal("G/L date is in a closed period", false),
                     HOLD_PERIOD_CLOSED);
    assert_int_equal(hold_code_of_jde_refusal("Period 11 of fiscal year 26 is closed", true),
                     HOLD_PERIOD_CLOSED);
    assert_int_equal(hold_code_of_jde_refusal("PERIOD NOT OPEN for company 00001", false),
                     HOLD_PERIOD_CLOSED);
    assert_int_equal(hold_code_of_jde_refusal("Supplier 4242 does not exist in the address "
                                              "book", true), HOLD_VOUCHER_SUPPLIER);
    /* A journal has no supplier: not a supplier problem there. */
    assert_int_equal(hold_code_of_jde_refusal("Supplier 4242 does not exist", false),
                     HOLD_JDE_ERROR);
    assert_int_equal(hold_code_of_jde_refusal("Batch is in use", false), HOLD_JDE_ERROR);
    assert_int_equal(hold_code_of_jde_refusal(NULL, false), HOLD_JDE_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_unknown_reads_other),
        cmocka_unit_test(test_jde_refusal),
    };

    return cmocka_run_group_tests_name("holdcode", tests, NULL, NULL);
}
