/* Unit tests: err, log (logfmt, level gating, one write per line, redaction)
 * and secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/secret.h"

#define CANARY "s3cr3t-CANARY-7f1e"

/* Reads everything written to the pipe so far. */
static size_t drain(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;

    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return n;
}

static int pipe_fds[2];

static int setup_pipe(void **state)
{
    (void)state;
    if (pipe2(pipe_fds, O_NONBLOCK) != 0)
        return -1;
    log_set_fd(pipe_fds[1]);
    log_set_level(LOG_LVL_DEBUG);
    return 0;
}

static int teardown_pipe(void **state)
{
    (void)state;
    log_set_fd(2);
    log_set_level(LOG_LVL_INFO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
}

static void test_err_set_and_wrap(void **state)
{
    struct mlc_err e;

    (void)state;
    mlc_err_clear(&e);
    assert_int_equal(e.code, MLC_OK);
    assert_int_equal(mlc_err_set(&e, MLC_EINVAL, "bad %s", "thing"), MLC_EINVAL);
    assert_string_equal(e.msg, "bad thing");
    mlc_err_wrap(&e, "loading %s", "x.yaml");
    assert_string_equal(e.msg, "loading x.yaml: bad thing");
    assert_int_equal(e.code, MLC_EINVAL);   /* the code is kept */
    mlc_err_wrap(NULL, "nothing to wrap");  /* NULL-safe */
    assert_int_equal(mlc_err_set(NULL, MLC_EIO, "ignored"), MLC_EIO);
    assert_string_equal(mlc_strerror(MLC_ENOTFOUND), "not found");
    assert_string_equal(mlc_strerror(-999), "unknown error");
}

static void test_format_logfmt(void **state)
{
    char buf[512];
    const struct log_field f[] = {
        LF_STR("path", "/var/lib/mlc/state.db"),
        LF_STR("note", "has space \"and\" quote\nnewline"),
        LF_INT("n", -42), LF_UINT("u", 7), LF_BOOL("ok", true), LF_END,
    };

    (void)state;
    /* 2026-11-28T07:58:15.123Z */
    size_t n = log_format(buf, sizeof(buf), 1795852695123LL, LOG_LVL_INFO,
                          "store", "opened", f);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf,
        "ts=2026-11-28T07:58:15.123Z lvl=info mod=store msg=opened "
        "path=/var/lib/mlc/state.db note=\"has space \\\"and\\\" quote\\nnewline\" "
        "n=-42 u=7 ok=true\n");
}

static void test_format_truncates(void **state)
{
    char big[3000];
    char buf[256];
    const struct log_field f[] = { LF_STR("v", big), LF_END };

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t n = log_format(buf, sizeof(buf), 0, LOG_LVL_WARN, "m", "long", f);
    assert_true(n < sizeof(buf));
    assert_int_equal(buf[n - 1], '\n');
    assert_memory_equal(buf + n - 4, "...\n", 4);
}

static void test_err_field(void **state)
{
    char buf[256];
    struct mlc_err e;

    (void)state;
    mlc_err_set(&e, MLC_EIO, "disk full");
    const struct log_field f[] = { LF_ERR(&e), LF_END };
    log_format(buf, sizeof(buf), 0, LOG_LVL_ERROR, "m", "failed", f);
    assert_non_null(strstr(buf, "err=\"disk full\" code=\"I/O error\""));
}

static void test_level_gating_and_single_write(void **state)
{
    char out[4096];

    (void)state;
    log_set_level(LOG_LVL_WARN);
    log_info("t", "hidden", LF_STR("x", "1"));
    log_debug("t", "hidden");
    log_warn("t", "shown", LF_INT("k", 1));
    log_error("t", "also shown");
    drain(pipe_fds[0], out, sizeof(out));
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "lvl=warn mod=t msg=shown k=1\n"));
    assert_non_null(strstr(out, "lvl=error mod=t msg=\"also shown\"\n"));
}

/* Counts how often the level gate let a field expression run. */
static int evaluated;
static const char *count_eval(void)
{
    evaluated++;
    return "v";
}

static void test_fields_not_evaluated_below_level(void **state)
{
    char out[256];

    (void)state;
    evaluated = 0;
    log_set_level(LOG_LVL_ERROR);
    log_debug("t", "x", LF_STR("k", count_eval()));
    assert_int_equal(evaluated, 0);
    log_error("t", "x", LF_STR("k", count_eval()));
    assert_int_equal(evaluated, 1);
    drain(pipe_fds[0], out, sizeof(out));
}

static void test_level_names(void **state)
{
    enum log_level l;

    (void)state;
    assert_int_equal(log_parse_level("debug", &l), MLC_OK);
    assert_int_equal(l, LOG_LVL_DEBUG);
    assert_int_equal(log_parse_level("WARNING", &l), MLC_OK);
    assert_int_equal(l, LOG_LVL_WARN);
    assert_int_equal(log_parse_level("loud", &l), MLC_EINVAL);
}

/* The canary: a secret cannot reach a log line through any field type. */
static void test_secret_canary(void **state)
{
    struct mlc_secret *s = NULL;
    char out[8192];

    (void)state;
    assert_int_equal(secret_new(CANARY, strlen(CANARY), &s, NULL), MLC_OK);
    log_info("auth", "login", LF_SECRET("jde_password", s));
    log_info("auth", "login", LF_SECRET("anything", s));
    /* Even a credential given as plain text under a credential's key. */
    log_info("auth", "header", LF_STR("X-Auth-Token", CANARY));
    log_info("auth", "header", LF_STR("password", CANARY));
    log_info("auth", "header", LF_STR("client_secret", CANARY));
    log_info("auth", "header", LF_STR("Authorization", CANARY));
    drain(pipe_fds[0], out, sizeof(out));
    assert_null(strstr(out, CANARY));
    assert_non_null(strstr(out, "jde_password=[redacted]"));
    assert_non_null(strstr(out, "X-Auth-Token=[redacted]"));
    secret_free(s);
}

static int check_bytes(const char *b, size_t n, void *ctx)
{
    assert_int_equal(n, strlen(ctx));
    assert_memory_equal(b, ctx, n);
    assert_int_equal(b[n], '\0');
    return 17;
}

static void test_secret_use_and_equals(void **state)
{
    struct mlc_secret *s = NULL;

    (void)state;
    assert_int_equal(secret_new("hunter2", 7, &s, NULL), MLC_OK);
    assert_int_equal(secret_len(s), 7);
    assert_int_equal(secret_use(s, check_bytes, "hunter2"), 17);
    assert_true(secret_equals(s, "hunter2", 7));
    assert_false(secret_equals(s, "hunter3", 7));
    assert_false(secret_equals(s, "hunter", 6));
    secret_free(s);
    secret_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set_and_wrap),
        cmocka_unit_test(test_format_logfmt),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_err_field),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test_setup_teardown(test_level_gating_and_single_write, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_fields_not_evaluated_below_level, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_secret_canary, setup_pipe, teardown_pipe),
        cmocka_unit_test(test_secret_use_and_equals),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
