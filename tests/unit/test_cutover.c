/* Unit tests: the go-live cutover (sync/cutover): which orders are before
 * it, the reason given, and the "audited once" lookup (on a temporary
 * SQLite store). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "store/store.h"
#include "sync/cutover.h"

#define START   "2020-01-01T00:00:00-05:00"
#define START_S 1577854800 /* 05:00 UTC */

static void test_before(void **state)
{
    struct cfg_orders c = { .start = START, .start_s = START_S };

    (void)state;
    assert_true(cutover_before(&c, 7, START_S - 1));
    assert_false(cutover_before(&c, 7, START_S));      /* at the cutover: posted */
    assert_false(cutover_before(&c, 7, START_S + 3600));
    assert_false(cutover_before(&c, 7, 0));            /* not known yet */
    c.start_id = 1001;
    assert_true(cutover_before(&c, 1000, 0));          /* the id alone says so */
    assert_true(cutover_before(&c, 1000, START_S + 3600));
    assert_true(cutover_before(&c, 1001, START_S - 1)); /* either one is enough */
    assert_false(cutover_before(&c, 1001, START_S));
    assert_false(cutover_before(&c, 5000, 0));
}

static void test_reason(void **state)
{
    struct cfg_orders c = { .start = START, .start_s = START_S };
    char buf[256];

    (void)state;
    cutover_reason(&c, 7, START_S - 3600, buf, sizeof(buf));
    assert_string_equal(buf, "created 2020-01-01T04:00:00Z, before the go-live cutover "
                        "(orders.start " START "): never posted");
    c.start_id = 1001;
    cutover_reason(&c, 1000, START_S + 60, buf, sizeof(buf));
    assert_string_equal(buf, "numbered below the go-live cutover (orders.start_id 1001): "
                        "never posted");
}

static void test_skip_audited(void **state)
{
    char dir[] = "/tmp/mlc-test-cutover-XXXXXX", path[96];
    struct store *st = NULL;
    bool yes = true;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mlc.db", dir);
    assert_int_equal(store_open(path, &st, NULL), MLC_OK);
    assert_int_equal(cutover_skip_audited(st, "order:7", &yes, NULL), MLC_OK);
    assert_false(yes);
    assert_int_equal(store_audit_add(st, &(struct store_audit){ .actor = "t",
                         .entity = "order:7", .action = "fetch", .outcome = "ok" }, NULL),
                     MLC_OK);
    assert_int_equal(store_audit_add(st, &(struct store_audit){ .actor = "t",
                         .entity = "order:8", .action = CUTOVER_ACTION,
                         .outcome = CUTOVER_OUTCOME }, NULL), MLC_OK);
    assert_int_equal(cutover_skip_audited(st, "order:7", &yes, NULL), MLC_OK);
    assert_false(yes);   /* another order's skip, another action */
    assert_int_equal(store_audit_add(st, &(struct store_audit){ .actor = "t",
                         .entity = "order:7", .action = CUTOVER_ACTION,
                         .outcome = CUTOVER_OUTCOME }, NULL), MLC_OK);
    assert_int_equal(cutover_skip_audited(st, "order:7", &yes, NULL), MLC_OK);
    assert_true(yes);
    store_close(st);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-shm", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before),
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_skip_audited),
    };

    return cmocka_run_group_tests_name("cutover", tests, NULL, NULL);
}
