/* Unit tests: json (jx_loads, path walking and error paths, typed getters,
 * money from JSON strings, integers and reals, shortest decimal of a real). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "core/money.h"

#define HALF_AWAY MONEY_ROUND_HALF_AWAY
#define HALF_EVEN MONEY_ROUND_HALF_EVEN
#define EXACT     MONEY_ROUND_EXACT

static const char ORDER[] =
    "{\"id\": 105, \"status_id\": 11, \"is_deleted\": false, \"count\": 3.0,\n"
    " \"huge\": 1e19, \"frac\": 2.5, \"neg_id\": -9223372036854775808,\n"
    " \"billing_address\": {\"email\": 42, \"first_name\": \"Ann\", \"zip\": null},\n"
    " \"products\": [{\"sku\": \"A-1\", \"qty\": 2}, {\"sku\": \"B-2\", \"qty\": 1.5},\n"
    "                {\"sku\": 7}],\n"
    " \"matrix\": [[1, 2], [3, {\"x\": \"deep\"}]],\n"
    " \"total_inc_tax\": \"336.3200\", \"discount\": \"-0.5000\", \"amount\": 336.32,\n"
    " \"paid\": 1, \"odd\": 1.005, \"sum\": 0.30000000000000004, \"big\": 1e300,\n"
    " \"bad_amount\": \"1,000.00\", \"tiny\": 1e-7, \"flag\": true, \"nothing\": null,\n"
    " \"tags\": [], \"meta\": {}}";

static int load_order(void **state)
{
    json_t *root = NULL;
    struct mlc_err e;

    if (jx_loads(ORDER, strlen(ORDER), 0, &root, &e) != MLC_OK) {
        print_error("fixture does not parse: %s\n", e.msg);
        return -1;
    }
    *state = root;
    return 0;
}

static int free_order(void **state)
{
    json_decref(*state);
    return 0;
}

/* Asserts a failure code and the exact message left in cx. */
static void expect_fail(const struct jx_ctx *cx, int rc, int want, const char *msg)
{
    if (rc != want)
        fail_msg("rc %d, want %d (message '%s')", rc, want, cx->e ? cx->e->msg : "");
    assert_int_equal(cx->rc, want);
    if (msg != NULL && strcmp(cx->e->msg, msg) != 0)
        fail_msg("message '%s', want '%s'", cx->e->msg, msg);
}

/* ---- loading ---- */

#define LOADS(text, out, e) jx_loads((text), strlen(text), 0, (out), (e))

static void test_loads(void **state)
{
    struct mlc_err e;
    json_t *root = (json_t *)1;

    (void)state;
    assert_int_equal(LOADS("{\"a\": [1, 2]}", &root, &e), MLC_OK);
    assert_true(json_is_object(root));
    json_decref(root);

    mlc_err_clear(&e);
    assert_int_equal(LOADS("{\n  \"a\": 1,\n  \"b\": }", &root, &e), MLC_EPARSE);
    assert_null(root);
    assert_non_null(strstr(e.msg, "line 3"));
    assert_non_null(strstr(e.msg, "column"));

    mlc_err_clear(&e);
    assert_int_equal(LOADS("{\"a\": 1, \"a\": 2}", &root, &e), MLC_EPARSE);
    assert_null(root);
    assert_non_null(strstr(e.msg, "duplicate"));

    /* trailing garbage, truncated text, embedded NUL, empty */
    assert_int_equal(LOADS("{} x", &root, NULL), MLC_EPARSE);
    assert_int_equal(jx_loads("{\"a\": 1}", 5, 0, &root, NULL), MLC_EPARSE);
    assert_int_equal(LOADS("{\"a\": \"x\\u0000y\"}", &root, NULL), MLC_EPARSE);
    assert_int_equal(jx_loads("", 0, 0, &root, NULL), MLC_EPARSE);
    assert_int_equal(jx_loads(NULL, 3, 0, &root, NULL), MLC_EINVAL);
    assert_int_equal(jx_loads("{}", 2, 0, NULL, NULL), MLC_EINVAL);
    /* an integer beyond int64 is a parse error, not a silent wrap */
    assert_int_equal(LOADS("[9223372036854775808]", &root, NULL), MLC_EPARSE);
}

static void test_type_name(void **state)
{
    json_t *v;

    (void)state;
    assert_string_equal(jx_type_name(NULL), "nothing");
    assert_string_equal(jx_type_name(json_null()), "null");
    assert_string_equal(jx_type_name(json_true()), "boolean");
    v = json_integer(1);
    assert_string_equal(jx_type_name(v), "number");
    json_decref(v);
    v = json_real(1.5);
    assert_string_equal(jx_type_name(v), "number");
    json_decref(v);
}

/* ---- paths and error reporting ---- */

static void test_path_errors(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *s = "untouched";
    int rc;

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "billing_address.email", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: billing_address.email: expected string, got number");
    assert_null(s);

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "billing_address.phone", &s);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: billing_address.phone: missing");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "shipping.city", &s);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: shipping.city: missing");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "billing_address.email.domain", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: billing_address.email: expected object, got number");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "billing_address.zip", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: billing_address.zip: expected string, got null");

    /* a null on the way down is absent */
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "nothing.x", &s);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: nothing.x: missing");

    /* no where: the path alone */
    jx_ctx_init(&cx, NULL, &e);
    rc = jx_get_i64(&cx, o, "total_inc_tax", &(int64_t){ 0 });
    expect_fail(&cx, rc, MLC_EPROTO, "total_inc_tax: expected integer, got string");
}

static void test_path_arrays(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *s;
    int64_t n;
    json_t *v;
    int rc;

    jx_ctx_init(&cx, "order 105", &e);
    assert_int_equal(jx_get_str(&cx, o, "products[1].sku", &s), MLC_OK);
    assert_string_equal(s, "B-2");
    assert_int_equal(jx_get_i64(&cx, o, "products[0].qty", &n), MLC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(jx_get_i64(&cx, o, "matrix[1][0]", &n), MLC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(jx_get_str(&cx, o, "matrix[1][1].x", &s), MLC_OK);
    assert_string_equal(s, "deep");
    assert_int_equal(cx.rc, MLC_OK);

    rc = jx_get_str(&cx, o, "products[3].sku", &s);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: products[3].sku: missing");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "products[2].sku", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: products[2].sku: expected string, got number");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "products[1].qty", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: products[1].qty: expected integer, got 1.5");
    assert_int_equal(n, 0);

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "id[0]", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: id: expected array, got number");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_str(&cx, o, "products.sku", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: products: expected object, got array");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "matrix[1][1][0]", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: matrix[1][1]: expected array, got object");

    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "[0]", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: <root>: expected array, got object");

    /* a root array, and the root itself */
    jx_ctx_init(&cx, "products", &e);
    assert_int_equal(jx_get_arr(&cx, o, "products", &v), MLC_OK);
    assert_int_equal(jx_get_str(&cx, v, "[0].sku", &s), MLC_OK);
    assert_string_equal(s, "A-1");
    assert_int_equal(jx_get_arr(&cx, v, "", &v), MLC_OK);
    assert_int_equal(json_array_size(v), 3);
    rc = jx_get_str(&cx, v, "", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "products: <root>: expected string, got array");
}

static void test_bad_paths(void **state)
{
    static const char *const bad[] = {
        ".id", "id.", "a..b", "products[", "products[x]", "products[-1]", "products]",
        "products[0]x", "products[]", "products[1234567890]", "[0", "a[0].",
    };
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    size_t i;
    int64_t n;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jx_ctx_init(&cx, "t", &e);
        if (jx_get_i64(&cx, o, bad[i], &n) != MLC_EINVAL)
            fail_msg("path '%s' accepted", bad[i]);
        assert_non_null(strstr(e.msg, "malformed path"));
        assert_non_null(strstr(e.msg, bad[i]));
    }
}

/* NULL roots, paths, outputs and contexts never crash. */
static void test_nulls(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *s = "x";
    json_t *v;
    int64_t n = 5;
    bool b = true;

    jx_ctx_init(&cx, "order 105", &e);
    expect_fail(&cx, jx_get_str(&cx, NULL, "id", &s), MLC_ENOTFOUND, "order 105: id: missing");
    assert_null(s);
    jx_ctx_init(&cx, "order 105", &e);
    expect_fail(&cx, jx_get_str(&cx, o, NULL, &s), MLC_EINVAL, "order 105: <root>: NULL path");
    jx_ctx_init(&cx, "order 105", &e);
    expect_fail(&cx, jx_get_str(&cx, o, "id", NULL), MLC_EINVAL, NULL);
    jx_ctx_init(&cx, "order 105", &e);
    expect_fail(&cx, jx_get_money(&cx, o, "id", 2, HALF_AWAY, NULL), MLC_EINVAL, NULL);

    /* no context at all */
    assert_int_equal(jx_get_str(NULL, o, "billing_address.email", &s), MLC_EPROTO);
    assert_int_equal(jx_get_i64(NULL, NULL, "id", &n), MLC_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(jx_get_bool(NULL, o, "id", &b), MLC_EPROTO);
    assert_false(b);
    assert_int_equal(jx_opt_obj(NULL, NULL, "x", &v), MLC_OK);
    assert_null(v);
    assert_int_equal(jx_get(NULL, o, "nothing", &v), MLC_OK);
    assert_true(json_is_null(v));
    assert_int_equal(jx_get(NULL, o, "nope", NULL), MLC_EINVAL);

    /* a context without an error struct */
    jx_ctx_init(&cx, "x", NULL);
    assert_int_equal(jx_get_str(&cx, o, "id", &s), MLC_EPROTO);
    assert_int_equal(cx.rc, MLC_EPROTO);
    jx_ctx_init(NULL, "x", NULL);
}

/* The first failure sticks; later getters still run and fill outputs. */
static void test_first_error_wins(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *email, *name;
    int64_t id;

    jx_ctx_init(&cx, "order 105", &e);
    jx_get_str(&cx, o, "billing_address.email", &email);
    jx_get_i64(&cx, o, "nope", &id);
    jx_get_str(&cx, o, "billing_address.first_name", &name);
    assert_int_equal(cx.rc, MLC_EPROTO);
    assert_string_equal(e.msg, "order 105: billing_address.email: expected string, got number");
    assert_string_equal(name, "Ann");
    assert_int_equal(jx_get_i64(&cx, o, "nope", &id), MLC_ENOTFOUND);
    assert_int_equal(cx.rc, MLC_EPROTO);
}

/* ---- typed getters ---- */

static void test_scalars(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *s;
    int64_t n;
    bool b;
    json_t *v;
    int rc;

    jx_ctx_init(&cx, "order 105", &e);
    assert_int_equal(jx_get_i64(&cx, o, "id", &n), MLC_OK);
    assert_int_equal(n, 105);
    assert_int_equal(jx_get_i64(&cx, o, "count", &n), MLC_OK);   /* 3.0 */
    assert_int_equal(n, 3);
    assert_int_equal(jx_get_i64(&cx, o, "neg_id", &n), MLC_OK);
    assert_true(n == INT64_MIN);
    assert_int_equal(jx_get_bool(&cx, o, "is_deleted", &b), MLC_OK);
    assert_false(b);
    assert_int_equal(jx_get_bool(&cx, o, "flag", &b), MLC_OK);
    assert_true(b);
    assert_int_equal(jx_get_obj(&cx, o, "meta", &v), MLC_OK);
    assert_true(json_is_object(v));
    assert_int_equal(jx_get_arr(&cx, o, "tags", &v), MLC_OK);
    assert_int_equal(json_array_size(v), 0);
    assert_int_equal(jx_get(&cx, o, "billing_address.first_name", &v), MLC_OK);
    assert_true(json_is_string(v));
    assert_int_equal(cx.rc, MLC_OK);

    rc = jx_get_i64(&cx, o, "huge", &n);
    expect_fail(&cx, rc, MLC_ERANGE, "order 105: huge: 1e+19 is out of range for an integer");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "frac", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: frac: expected integer, got 2.5");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_i64(&cx, o, "flag", &n);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: flag: expected integer, got boolean");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_bool(&cx, o, "id", &b);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: id: expected boolean, got number");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_obj(&cx, o, "tags", &v);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: tags: expected object, got array");
    assert_null(v);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_arr(&cx, o, "meta", &v);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: meta: expected array, got object");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_arr(&cx, o, "nothing", &v);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: nothing: expected array, got null");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get(&cx, o, "nope", &v);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: nope: missing");
    (void)s;
}

static void test_opt_strdup(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    char *s = NULL;

    jx_ctx_init(&cx, "order 105", &e);
    assert_int_equal(jx_opt_strdup(&cx, o, "billing_address.zip", &s), MLC_OK);
    assert_string_equal(s, ""); /* absent: an empty copy, never NULL */
    free(s);
    assert_int_equal(jx_opt_strdup(&cx, o, "billing_address.first_name", &s), MLC_OK);
    assert_string_equal(s, "Ann");
    free(s);
    assert_int_equal(jx_opt_strdup(&cx, o, "billing_address.email", &s), MLC_EPROTO); /* a number */
    assert_non_null(s);
    free(s);
    assert_int_equal(cx.rc, MLC_EPROTO);
}

static void test_optionals(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    const char *s;
    int64_t n;
    bool b;
    json_t *v;
    int rc;

    jx_ctx_init(&cx, "order 105", &e);
    assert_int_equal(jx_opt_str(&cx, o, "billing_address.zip", "none", &s), MLC_OK);
    assert_string_equal(s, "none");
    assert_int_equal(jx_opt_str(&cx, o, "billing_address.company", NULL, &s), MLC_OK);
    assert_null(s);
    assert_int_equal(jx_opt_str(&cx, o, "shipping.city", "-", &s), MLC_OK);
    assert_string_equal(s, "-");
    assert_int_equal(jx_opt_str(&cx, o, "billing_address.first_name", "-", &s), MLC_OK);
    assert_string_equal(s, "Ann");
    assert_int_equal(jx_opt_i64(&cx, o, "channel_id", 1, &n), MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(jx_opt_i64(&cx, o, "status_id", 1, &n), MLC_OK);
    assert_int_equal(n, 11);
    assert_int_equal(jx_opt_bool(&cx, o, "test", true, &b), MLC_OK);
    assert_true(b);
    assert_int_equal(jx_opt_bool(&cx, o, "is_deleted", true, &b), MLC_OK);
    assert_false(b);
    assert_int_equal(jx_opt_obj(&cx, o, "shipping", &v), MLC_OK);
    assert_null(v);
    assert_int_equal(jx_opt_arr(&cx, o, "products", &v), MLC_OK);
    assert_int_equal(json_array_size(v), 3);
    assert_int_equal(jx_opt_arr(&cx, o, "products[5]", &v), MLC_OK);
    assert_null(v);
    assert_int_equal(jx_opt_money(&cx, o, "store_credit_amount", 2, HALF_AWAY, 0, &n), MLC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(jx_opt_money(&cx, o, "nothing", 2, HALF_AWAY, -7, &n), MLC_OK);
    assert_int_equal(n, -7);
    assert_int_equal(jx_opt_money(&cx, o, "total_inc_tax", 2, HALF_AWAY, 0, &n), MLC_OK);
    assert_int_equal(n, 33632);
    assert_int_equal(cx.rc, MLC_OK);

    /* present with the wrong type is still an error */
    rc = jx_opt_str(&cx, o, "billing_address.email", "-", &s);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: billing_address.email: expected string, got number");
    assert_null(s);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_opt_i64(&cx, o, "frac", 9, &n);
    expect_fail(&cx, rc, MLC_EPROTO, NULL);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_opt_bool(&cx, o, "id", false, &b);
    expect_fail(&cx, rc, MLC_EPROTO, NULL);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_opt_obj(&cx, o, "id.x", &v);
    expect_fail(&cx, rc, MLC_EPROTO, "order 105: id: expected object, got number");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_opt_money(&cx, o, "bad_amount", 2, HALF_AWAY, 0, &n);
    expect_fail(&cx, rc, MLC_EINVAL, NULL);
}

/* ---- money ---- */

static void test_money_fields(void **state)
{
    const json_t *o = *state;
    struct mlc_err e;
    struct jx_ctx cx;
    int64_t m;
    int rc;

    jx_ctx_init(&cx, "order 105", &e);
    assert_int_equal(jx_get_money(&cx, o, "total_inc_tax", 2, EXACT, &m), MLC_OK);
    assert_int_equal(m, 33632);
    assert_int_equal(jx_get_money(&cx, o, "total_inc_tax", 4, EXACT, &m), MLC_OK);
    assert_int_equal(m, 3363200);
    assert_int_equal(jx_get_money(&cx, o, "discount", 2, EXACT, &m), MLC_OK);
    assert_int_equal(m, -50);
    assert_int_equal(jx_get_money(&cx, o, "amount", 2, EXACT, &m), MLC_OK);
    assert_int_equal(m, 33632);
    assert_int_equal(jx_get_money(&cx, o, "paid", 2, EXACT, &m), MLC_OK);
    assert_int_equal(m, 100);
    assert_int_equal(jx_get_money(&cx, o, "odd", 2, HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 101);
    assert_int_equal(jx_get_money(&cx, o, "sum", 2, HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 30);
    assert_int_equal(jx_get_money(&cx, o, "tiny", 2, HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 0);
    assert_int_equal(jx_get_money(&cx, o, "products[0].qty", 0, EXACT, &m), MLC_OK);
    assert_int_equal(m, 2);
    assert_int_equal(jx_get_money_cur(&cx, o, "amount", "USD", HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 33632);
    assert_int_equal(jx_get_money_cur(&cx, o, "amount", "JPY", HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 336);
    assert_int_equal(jx_get_money_cur(&cx, o, "amount", "KWD", HALF_AWAY, &m), MLC_OK);
    assert_int_equal(m, 336320);
    assert_int_equal(cx.rc, MLC_OK);

    rc = jx_get_money(&cx, o, "sum", 2, EXACT, &m);
    expect_fail(&cx, rc, MLC_EINVAL,
                "order 105: sum: '0.30000000000000004' has more than 2 decimal places");
    assert_int_equal(m, 0);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "bad_amount", 2, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_EINVAL,
                "order 105: bad_amount: '1,000.00' is not a plain decimal number");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "big", 2, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_ERANGE, NULL);
    assert_non_null(strstr(e.msg, "order 105: big: '1000000000"));
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "flag", 2, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_EPROTO,
                "order 105: flag: expected decimal string or number, got boolean");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "nothing", 2, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_EPROTO,
                "order 105: nothing: expected decimal string or number, got null");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "store_credit_amount", 2, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_ENOTFOUND, "order 105: store_credit_amount: missing");
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money_cur(&cx, o, "amount", "xxq", HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_EINVAL, NULL);
    assert_non_null(strstr(e.msg, "xxq"));
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money_cur(&cx, o, "amount", "ZZZ", HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_ENOTFOUND, NULL);
    jx_ctx_init(&cx, "order 105", &e);
    rc = jx_get_money(&cx, o, "amount", 19, HALF_AWAY, &m);
    expect_fail(&cx, rc, MLC_EINVAL, NULL);
}

struct real_case {
    double           d;
    int              scale;
    enum money_round mode;
    int              code;
    int64_t          want;
};

/* Reals as jansson hands them over, rounded through their shortest decimal. */
static void test_money_reals(void **state)
{
    const struct real_case c[] = {
        { 0.1, 2, EXACT, MLC_OK, 10 },
        { 0.2, 2, EXACT, MLC_OK, 20 },
        { 0.1 + 0.2, 2, HALF_AWAY, MLC_OK, 30 },
        { 0.1 + 0.2, 2, HALF_EVEN, MLC_OK, 30 },
        { 0.1 + 0.2, 2, EXACT, MLC_EINVAL, 0 },
        { 0.1 + 0.2, 17, EXACT, MLC_OK, 30000000000000004 },
        { 336.32, 2, EXACT, MLC_OK, 33632 },
        { 336.3225, 4, EXACT, MLC_OK, 3363225 },
        { 336.3225, 2, HALF_AWAY, MLC_OK, 33632 },
        { 336.325, 2, HALF_AWAY, MLC_OK, 33633 },
        { 336.325, 2, HALF_EVEN, MLC_OK, 33632 },
        { 1.005, 2, HALF_AWAY, MLC_OK, 101 },   /* the double is below 1.005; we read "1.005" */
        { 1.005, 2, HALF_EVEN, MLC_OK, 100 },
        { -1.005, 2, HALF_AWAY, MLC_OK, -101 },
        { 1.015, 2, HALF_AWAY, MLC_OK, 102 },
        { 2.675, 2, HALF_AWAY, MLC_OK, 268 },
        { 99999999999.99, 2, EXACT, MLC_OK, 9999999999999 },
        { 1e15, 2, EXACT, MLC_OK, 100000000000000000 },
        { 1e14, 4, EXACT, MLC_OK, 1000000000000000000 },
        { 1e15, 4, EXACT, MLC_ERANGE, 0 },
        { 92233720368547758.07, 2, EXACT, MLC_ERANGE, 0 },   /* the double is 92233720368547760 */
        { 1e20, 0, EXACT, MLC_ERANGE, 0 },
        { 1e300, 2, HALF_AWAY, MLC_ERANGE, 0 },
        { -1e300, 2, HALF_AWAY, MLC_ERANGE, 0 },
        { DBL_MAX, 0, HALF_AWAY, MLC_ERANGE, 0 },
        { -0.5, 2, EXACT, MLC_OK, -50 },
        { -0.125, 2, HALF_AWAY, MLC_OK, -13 },
        { -0.125, 2, HALF_EVEN, MLC_OK, -12 },
        { -0.0, 2, EXACT, MLC_OK, 0 },
        { 0.0, 0, EXACT, MLC_OK, 0 },
        { 105.0, 0, EXACT, MLC_OK, 105 },
        { 1234.5, 0, HALF_AWAY, MLC_OK, 1235 },
        { 1e-7, 2, HALF_AWAY, MLC_OK, 0 },
        { 1e-7, 7, EXACT, MLC_OK, 1 },
        { 1e-7, 2, EXACT, MLC_EINVAL, 0 },
        { 5e-3, 2, HALF_AWAY, MLC_OK, 1 },
        { -5e-3, 2, HALF_AWAY, MLC_OK, -1 },
        { 4.9e-3, 2, HALF_AWAY, MLC_OK, 0 },
        { 1e-300, 2, HALF_AWAY, MLC_OK, 0 },
        { -1e-300, 2, HALF_EVEN, MLC_OK, 0 },
        { 5e-324, 18, HALF_AWAY, MLC_OK, 0 },
        { 5e-324, 18, EXACT, MLC_EINVAL, 0 },
        { 123456.789, 3, EXACT, MLC_OK, 123456789 },
    };
    struct mlc_err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        json_t *v = json_real(c[i].d);
        int64_t m = 99;
        int rc;

        assert_non_null(v);
        mlc_err_clear(&e);
        rc = jx_money_value(v, c[i].scale, c[i].mode, &m, &e);
        json_decref(v);
        if (rc != c[i].code)
            fail_msg("case %zu (%.17g, scale %d, mode %d): rc %d (%s), want %d", i, c[i].d,
                     c[i].scale, (int)c[i].mode, rc, e.msg, c[i].code);
        if (rc == MLC_OK && m != c[i].want)
            fail_msg("case %zu (%.17g, scale %d, mode %d) = %lld, want %lld", i, c[i].d,
                     c[i].scale, (int)c[i].mode, (long long)m, (long long)c[i].want);
    }
}

static void test_money_values(void **state)
{
    static const char *const bad[] = { "", " 1.00", "1.00 ", "1e3", "NaN", "inf", "1.2.3",
                                       "--1", "$5", ".5", "5." };
    struct mlc_err e;
    size_t i;
    int64_t m = 5;
    json_t *v;

    (void)state;
    /* jansson refuses to build NaN or infinity, so they never reach us */
    assert_null(json_real(NAN));
    assert_null(json_real(INFINITY));
    assert_int_equal(jx_money_value(NULL, 2, HALF_AWAY, &m, &e), MLC_EPROTO);
    assert_int_equal(m, 0);

    v = json_integer(INT64_MAX);
    assert_int_equal(jx_money_value(v, 0, EXACT, &m, NULL), MLC_OK);
    assert_true(m == INT64_MAX);
    assert_int_equal(jx_money_value(v, 2, EXACT, &m, &e), MLC_ERANGE);
    json_decref(v);
    v = json_integer(-42);
    assert_int_equal(jx_money_value(v, 3, EXACT, &m, NULL), MLC_OK);
    assert_int_equal(m, -42000);
    json_decref(v);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = json_string(bad[i]);
        if (jx_money_value(v, 2, HALF_AWAY, &m, NULL) != MLC_EINVAL)
            fail_msg("amount string '%s' accepted", bad[i]);
        json_decref(v);
    }
    /* an embedded NUL would otherwise truncate the amount silently */
    v = json_stringn("1\0" "99", 4);
    assert_int_equal(jx_money_value(v, 2, HALF_AWAY, &m, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "NUL"));
    json_decref(v);
    v = json_stringn("a\0b", 3);
    assert_int_equal(jx_get_str(NULL, v, "", &(const char *){ NULL }), MLC_EPROTO);
    json_decref(v);

    v = json_string("336.3200");
    assert_int_equal(jx_money_value(v, 2, EXACT, &m, NULL), MLC_OK);
    assert_int_equal(m, 33632);
    assert_int_equal(jx_money_value(v, 2, EXACT, NULL, NULL), MLC_EINVAL);
    json_decref(v);
}

/* ---- shortest decimal of a real ---- */

static void test_real_decimal(void **state)
{
    static const struct { double d; const char *want; } c[] = {
        { 0.1, "0.1" },
        { 0.30000000000000004, "0.30000000000000004" },
        { 1.005, "1.005" },
        { 336.32, "336.32" },
        { -336.32, "-336.32" },
        { 1e-7, "0.0000001" },
        { -1.5e-7, "-0.00000015" },
        { 1e20, "100000000000000000000" },
        { 1.25e21, "1250000000000000000000" },
        { 123456789012345680.0, "123456789012345680" },
        { 1e15, "1000000000000000" },
        { 100.0, "100" },
        { 0.0, "0" },
        { -0.0, "0" },
        { 0.001, "0.001" },
        { 12345.678, "12345.678" },
        { 99999999999.99, "99999999999.99" },
    };
    char buf[JX_DEC_MAX];
    char small[8];
    struct mlc_err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_int_equal(jx_real_decimal(c[i].d, buf, sizeof(buf), NULL), MLC_OK);
        if (strcmp(buf, c[i].want) != 0)
            fail_msg("decimal(%.17g) = '%s', want '%s'", c[i].d, buf, c[i].want);
    }
    /* the extremes fit JX_DEC_MAX */
    assert_int_equal(jx_real_decimal(5e-324, buf, sizeof(buf), NULL), MLC_OK);
    assert_int_equal(strlen(buf), 2 + 323 + 1);
    assert_int_equal(strncmp(buf, "0.000", 5), 0);
    assert_int_equal(buf[strlen(buf) - 1], '5');
    assert_int_equal(jx_real_decimal(-DBL_MAX, buf, sizeof(buf), NULL), MLC_OK);
    assert_int_equal(strlen(buf), 1 + 309);
    assert_int_equal(strncmp(buf, "-17976931348623157000", 21), 0);

    assert_int_equal(jx_real_decimal(NAN, buf, sizeof(buf), &e), MLC_EINVAL);
    assert_int_equal(jx_real_decimal(-INFINITY, buf, sizeof(buf), &e), MLC_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(jx_real_decimal(1e20, small, sizeof(small), &e), MLC_ETOOBIG);
    assert_string_equal(small, "");
    assert_int_equal(jx_real_decimal(-336.32, small, sizeof(small), NULL), MLC_OK);
    assert_string_equal(small, "-336.32");
    assert_int_equal(jx_real_decimal(1.0, NULL, 4, NULL), MLC_EINVAL);
}

/* xorshift64*, seeded, so a failure reproduces. */
static uint64_t prng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Any finite double: its decimal text reads back as exactly the same double,
 * and is never longer than needed (17 significant digits at most). */
static void test_real_decimal_property(void **state)
{
    uint64_t seed = 0x853C49E6748FEA9Bull;
    char buf[JX_DEC_MAX];
    int iter;

    (void)state;
    for (iter = 0; iter < 100000; iter++) {
        uint64_t bits = prng_next(&seed);
        double d;

        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d))
            continue;
        assert_int_equal(jx_real_decimal(d, buf, sizeof(buf), NULL), MLC_OK);
        if (strtod(buf, NULL) != d)
            fail_msg("decimal '%s' does not read back as %.17g", buf, d);
        if (strchr(buf, 'e') != NULL || strchr(buf, 'E') != NULL)
            fail_msg("decimal '%s' has an exponent", buf);
    }
}

/* A v3 amount with at most 15 significant digits, sent as a JSON number,
 * comes back exactly: the double nearest a short decimal formats back to it. */
/* Text for JSON: NULL is null, UTF-8 kept, other bytes >= 0x80 become '?'. */
static void test_text(void **state)
{
    json_t *j;

    (void)state;
    j = jx_text(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
    j = jx_text("caf\xc3\xa9 ok");
    assert_string_equal(json_string_value(j), "caf\xc3\xa9 ok");
    json_decref(j);
    j = jx_text("bad \xff\xfe byte");
    assert_string_equal(json_string_value(j), "bad ?? byte");
    json_decref(j);
}

static void test_money_real_roundtrip(void **state)
{
    uint64_t seed = 0xDA3E39CB94B95BDBull;
    char text[MONEY_FMT_MAX];
    int iter;

    (void)state;
    for (iter = 0; iter < 100000; iter++) {
        int scale = (int)(prng_next(&seed) % 5);
        int64_t want = (int64_t)(prng_next(&seed) % 1000000000000000ull);   /* < 10^15 */
        int64_t got = 0;
        json_t *v;
        int rc;

        if (prng_next(&seed) & 1u)
            want = -want;
        want /= (int64_t)(prng_next(&seed) % 1000000 + 1);   /* small amounts too */
        assert_int_equal(money_format(want, scale, text, sizeof(text)), MLC_OK);
        v = json_real(strtod(text, NULL));   /* what jansson makes of the JSON number */
        rc = jx_money_value(v, scale, EXACT, &got, NULL);
        json_decref(v);
        if (rc != MLC_OK || got != want)
            fail_msg("'%s' at scale %d came back as %lld (rc %d)", text, scale,
                     (long long)got, rc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads),
        cmocka_unit_test(test_type_name),
        cmocka_unit_test_setup_teardown(test_path_errors, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_opt_strdup, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_path_arrays, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_bad_paths, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_nulls, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_first_error_wins, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_scalars, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_optionals, load_order, free_order),
        cmocka_unit_test_setup_teardown(test_money_fields, load_order, free_order),
        cmocka_unit_test(test_money_reals),
        cmocka_unit_test(test_money_values),
        cmocka_unit_test(test_real_decimal),
        cmocka_unit_test(test_real_decimal_property),
        cmocka_unit_test(test_money_real_roundtrip),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
