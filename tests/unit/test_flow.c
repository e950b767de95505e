/* Unit tests: what the flows share (sync/flow): job keys, the padded
 * company, the hold reason, the checkpoint call and the audit writer (on a
 * temporary SQLite store). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"
#include "sync/flow.h"

static void test_key_parse(void **state)
{
    struct mlc_err e;
    int64_t id = 7;

    (void)state;
    assert_int_equal(flow_key_parse("order:105", "order:", &id, NULL), MLC_OK);
    assert_int_equal(id, 105);
    assert_int_equal(flow_key_parse("customer:42", "customer:", &id, NULL), MLC_OK);
    assert_int_equal(id, 42);
    assert_int_equal(flow_key_parse("customer:1", "order:", &id, &e), MLC_EINVAL);
    assert_int_equal(id, 0);
    assert_string_equal(e.msg, "job key 'customer:1' is not order:<id>");
    assert_int_equal(flow_key_parse(NULL, "order:", &id, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "job key '' is not order:<id>");
    assert_int_equal(flow_key_parse("order:", "order:", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_key_parse("order:12x", "order:", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_key_parse("order:-4", "order:", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_key_parse("order:0", "order:", &id, NULL), MLC_EINVAL);
    assert_int_equal(flow_key_parse("order:99999999999999999999", "order:", &id, NULL),
                     MLC_EINVAL);
}

static void test_kco_pad(void **state)
{
    char out[6];

    (void)state;
    flow_kco_pad("1", out);
    assert_string_equal(out, "00001");
    flow_kco_pad("00200", out);
    assert_string_equal(out, "00200");
    flow_kco_pad("A1", out);        /* not a number: as is */
    assert_string_equal(out, "A1");
    flow_kco_pad("123456", out);    /* too long to pad: cut */
    assert_string_equal(out, "12345");
    flow_kco_pad(NULL, out);
    assert_string_equal(out, "");
}

/* The reason may quote the error it replaces; the code goes out beside it. */
static void test_hold_quotes_itself(void **state)
{
    enum hold_code code = HOLD_OTHER;
    struct mlc_err e;

    (void)state;
    mlc_err_set(&e, MLC_EIO, "F0901 says no");
    assert_int_equal(flow_hold(&e, &code, HOLD_ACCOUNT_MISSING, "BC1S: %s", e.msg),
                     FLOW_HELD);
    assert_int_equal(e.code, MLC_ESTATE);
    assert_string_equal(e.msg, "BC1S: F0901 says no");
    assert_int_equal(code, HOLD_ACCOUNT_MISSING);
    assert_int_equal(flow_hold(&e, NULL, HOLD_JDE_ERROR, "x"), FLOW_HELD);
}

static int stop_with(void *ctx, struct mlc_err *e)
{
    int code = *(const int *)ctx;

    if (code == 0)
        return 0;
    mlc_err_set(e, code, "stop");
    return 1;
}

static void test_checkpoint(void **state)
{
    int code = 0;
    struct flow_run r = { .checkpoint = stop_with, .checkpoint_ctx = &code };
    struct flow_run none = { 0 };
    struct mlc_err e;

    (void)state;
    assert_int_equal(flow_run_checkpoint(&none, &e), MLC_OK);
    assert_int_equal(flow_run_checkpoint(&r, &e), MLC_OK);
    code = MLC_EIO;
    assert_int_equal(flow_run_checkpoint(&r, &e), MLC_EIO);
    code = 5;   /* not an error code: still a stop */
    assert_int_equal(flow_run_checkpoint(&r, &e), MLC_ESTATE);
}

static int count_row(const struct store_audit *a, void *ctx)
{
    size_t *n = ctx;

    assert_string_equal(a->actor, "test");
    assert_string_equal(a->action, "fetch");
    assert_string_equal(a->outcome, "ok");
    assert_string_equal(a->detail, "{\"n\":1}");
    (*n)++;
    return 0;
}

/* One row per call; none in a dry run (the detail is released either way,
 * which ASan checks). */
static void test_audit(void **state)
{
    char dir[] = "/tmp/mlc-flow-XXXXXX", path[64], p[80];
    struct flow_run r = { .actor = "test" };
    struct mlc_err e;
    size_t n = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/state.db", dir);
    assert_int_equal(store_open(path, &r.st, &e), MLC_OK);
    r.dry_run = true;
    flow_audit(&r, "order:1", "fetch", "ok", json_pack("{s:i}", "n", 1));
    r.dry_run = false;
    flow_audit(&r, "order:1", "fetch", "ok", json_pack("{s:i}", "n", 1));
    assert_int_equal(store_audit_list(r.st, "order:1", 0, count_row, &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    store_close(r.st);
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_kco_pad),
        cmocka_unit_test(test_hold_quotes_itself),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_audit),
    };

    return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
