/* Unit tests: held_groups (`mlc held`'s summary: counts by reason code,
 * sums per currency in minor units, overflow flagged, oldest, order). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sync/held_groups.h"

static const struct hg_sum *sum_of(const struct hg_group *g, const char *cur)
{
    for (size_t i = 0; i < g->n_sums; i++)
        if (strcmp(g->sums[i].currency, cur) == 0)
            return &g->sums[i];
    return NULL;
}

/* Items of one code add up per currency; items without an amount are
 * counted apart; the oldest (ties: the lower job id) is kept. */
static void test_sums_and_oldest(void **state)
{
    struct hg_set s;
    const struct hg_group *g;

    (void)state;
    hg_init(&s);
    assert_int_equal(hg_add(&s, HOLD_ACCOUNT_MISSING, false, "USD", 2160, 5000, 12, NULL),
                     MLC_OK);
    assert_int_equal(hg_add(&s, HOLD_ACCOUNT_MISSING, true, "EUR", 999, 3000, 14, NULL),
                     MLC_OK);
    assert_int_equal(hg_add(&s, HOLD_ACCOUNT_MISSING, false, "USD", 40, 3000, 13, NULL),
                     MLC_OK);
    assert_int_equal(hg_add(&s, HOLD_ACCOUNT_MISSING, false, NULL, 77, 9000, 15, NULL),
                     MLC_OK);
    assert_int_equal(hg_add(&s, HOLD_ACCOUNT_MISSING, false, "", 77, 9000, 16, NULL),
                     MLC_OK);
    g = &s.by_code[HOLD_ACCOUNT_MISSING];
    assert_int_equal(g->count, 5);
    assert_int_equal(g->failed, 1);
    assert_int_equal(g->no_amount, 2);
    assert_int_equal(g->n_sums, 2);
    assert_int_equal(sum_of(g, "USD")->minor, 2200);
    assert_int_equal(sum_of(g, "EUR")->minor, 999);
    assert_false(sum_of(g, "USD")->overflow);
    assert_int_equal(g->oldest_ms, 3000);
    assert_int_equal(g->oldest_id, 13);
    assert_int_equal(s.by_code[HOLD_OTHER].count, 0);
    hg_clear(&s);
    assert_int_equal(s.by_code[HOLD_ACCOUNT_MISSING].count, 0);
    hg_clear(NULL);
}

/* A sum that would leave int64 is flagged, never wrapped. */
static void test_overflow_flagged(void **state)
{
    struct hg_set s;
    const struct hg_sum *u;

    (void)state;
    hg_init(&s);
    assert_int_equal(hg_add(&s, HOLD_JDE_ERROR, false, "USD", INT64_MAX - 1, 1, 1, NULL),
                     MLC_OK);
    assert_int_equal(hg_add(&s, HOLD_JDE_ERROR, false, "USD", 5, 2, 2, NULL), MLC_OK);
    u = sum_of(&s.by_code[HOLD_JDE_ERROR], "USD");
    assert_true(u->overflow);
    assert_int_equal(u->minor, INT64_MAX - 1); /* the last sum that held */
    hg_clear(&s);
}

/* Groups come most items first, ties by the older; out-of-range codes
 * count as other. */
static void test_order(void **state)
{
    enum hold_code order[HOLD_CODE_COUNT];
    struct hg_set s;

    (void)state;
    hg_init(&s);
    assert_int_equal(hg_order(&s, order), 0);
    hg_add(&s, HOLD_PERIOD_CLOSED, false, "USD", 1, 500, 1, NULL);
    hg_add(&s, HOLD_UNMAPPED_SKU, false, "USD", 1, 900, 2, NULL);
    hg_add(&s, HOLD_UNMAPPED_SKU, false, "USD", 1, 950, 3, NULL);
    hg_add(&s, HOLD_AUTH, false, NULL, 0, 100, 4, NULL);
    hg_add(&s, (enum hold_code)99, false, NULL, 0, 700, 5, NULL);
    assert_int_equal(hg_order(&s, order), 4);
    assert_int_equal(order[0], HOLD_UNMAPPED_SKU);
    assert_int_equal(order[1], HOLD_AUTH);          /* one item, oldest */
    assert_int_equal(order[2], HOLD_PERIOD_CLOSED);
    assert_int_equal(order[3], HOLD_OTHER);
    assert_int_equal(s.by_code[HOLD_OTHER].oldest_id, 5);
    hg_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_oldest),
        cmocka_unit_test(test_overflow_flagged),
        cmocka_unit_test(test_order),
    };

    return cmocka_run_group_tests_name("held_groups", tests, NULL, NULL);
}
