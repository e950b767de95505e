/* Unit tests: console/console_auth (passwords, sessions, CSRF, login rate limit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "console/console_auth.h"

#define T0      1700000000000LL
#define IDLE_MS (30 * 60 * 1000LL)
#define MAX_MS  (12 * 3600 * 1000LL)

static struct cauth *new_auth(void)
{
    struct cauth_opts o = { .idle_ms = IDLE_MS, .max_ms = MAX_MS, .max_failures = 5,
                            .window_ms = 5 * 60 * 1000 };
    struct cauth *a = NULL;
    struct mlc_err e;

    assert_int_equal(cauth_new(&o, &a, &e), MLC_OK);
    return a;
}

static void test_hash_verify(void **state)
{
    char hash[CAUTH_HASH_MAX], other[CAUTH_HASH_MAX];
    struct mlc_err e;

    (void)state;
    assert_int_equal(cauth_hash("correct horse", 13, hash, &e), MLC_OK);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_null(strstr(hash, "correct horse"));
    assert_true(cauth_verify(hash, "correct horse", 13));
    assert_false(cauth_verify(hash, "correct hors", 12));
    assert_false(cauth_verify(hash, "Correct horse", 13));
    assert_false(cauth_verify(hash, "", 0));
    assert_false(cauth_verify("not a hash", "correct horse", 13));
    /* salted: the same password hashes differently each time */
    assert_int_equal(cauth_hash("correct horse", 13, other, &e), MLC_OK);
    assert_string_not_equal(hash, other);
    assert_int_equal(cauth_hash("", 0, other, &e), MLC_EINVAL);
}

static void test_session_idle_and_absolute(void **state)
{
    struct cauth *a = new_auth();
    struct cauth_session s, got;
    struct mlc_err e;
    int64_t t;

    (void)state;
    assert_int_equal(cauth_session_start(a, "alice", CAUTH_OPERATOR, T0, &s, &e), MLC_OK);
    assert_int_equal(strlen(s.id), CAUTH_TOKEN_LEN);
    assert_int_equal(strlen(s.csrf), CAUTH_TOKEN_LEN);
    assert_string_not_equal(s.id, s.csrf);
    assert_true(cauth_session_get(a, s.id, T0 + IDLE_MS - 1, &got));
    assert_string_equal(got.user, "alice");
    assert_int_equal(got.role, CAUTH_OPERATOR);
    /* idle: the use above moved the clock of inactivity */
    assert_true(cauth_session_get(a, s.id, T0 + 2 * IDLE_MS - 2, &got));
    assert_false(cauth_session_get(a, s.id, T0 + 3 * IDLE_MS, &got));
    assert_false(cauth_session_get(a, s.id, T0 + 3 * IDLE_MS - 10, &got)); /* removed */

    /* absolute: active all the time, it still ends max_ms after login */
    assert_int_equal(cauth_session_start(a, "bob", CAUTH_VIEWER, T0, &s, &e), MLC_OK);
    for (t = T0; t < T0 + MAX_MS; t += IDLE_MS / 2)
        assert_true(cauth_session_get(a, s.id, t, &got));
    assert_false(cauth_session_get(a, s.id, T0 + MAX_MS, &got));
    cauth_free(a);
}

static void test_session_end_and_unknown(void **state)
{
    struct cauth *a = new_auth();
    struct cauth_session s, s2, got;
    struct mlc_err e;
    char forged[CAUTH_TOKEN_LEN + 1];

    (void)state;
    assert_int_equal(cauth_session_start(a, "alice", CAUTH_VIEWER, T0, &s, &e), MLC_OK);
    assert_int_equal(cauth_session_start(a, "alice", CAUTH_VIEWER, T0, &s2, &e), MLC_OK);
    snprintf(forged, sizeof(forged), "%s", s.id);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    assert_false(cauth_session_get(a, forged, T0, &got));
    assert_false(cauth_session_get(a, "", T0, &got));
    assert_false(cauth_session_get(a, NULL, T0, &got));
    cauth_session_end(a, s.id);
    assert_false(cauth_session_get(a, s.id, T0, &got));
    assert_true(cauth_session_get(a, s2.id, T0, &got));
    cauth_session_end_user(a, "alice");
    assert_false(cauth_session_get(a, s2.id, T0, &got));
    assert_int_equal(cauth_session_start(a, "", CAUTH_VIEWER, T0, &s, &e), MLC_EINVAL);
    assert_int_equal(cauth_session_start(a, "x", CAUTH_NONE, T0, &s, &e), MLC_EINVAL);
    cauth_free(a);
}

static void test_session_cap(void **state)
{
    struct cauth *a = new_auth();
    struct cauth_session first, s, got;
    struct mlc_err e;

    (void)state;
    assert_int_equal(cauth_session_start(a, "u", CAUTH_VIEWER, T0, &first, &e), MLC_OK);
    for (int i = 1; i <= CAUTH_MAX_SESSIONS; i++)
        assert_int_equal(cauth_session_start(a, "u", CAUTH_VIEWER, T0 + i, &s, &e), MLC_OK);
    assert_int_equal(cauth_session_count(a, T0 + 1000), CAUTH_MAX_SESSIONS);
    /* the least recently used one made room */
    assert_false(cauth_session_get(a, first.id, T0 + 1000, &got));
    assert_true(cauth_session_get(a, s.id, T0 + 1000, &got));
    cauth_free(a);
}

static void test_csrf(void **state)
{
    struct cauth *a = new_auth();
    struct cauth_session s;
    struct mlc_err e;
    char bad[CAUTH_TOKEN_LEN + 1];

    (void)state;
    assert_int_equal(cauth_session_start(a, "alice", CAUTH_OPERATOR, T0, &s, &e), MLC_OK);
    assert_true(cauth_csrf_ok(&s, s.csrf));
    snprintf(bad, sizeof(bad), "%s", s.csrf);
    bad[CAUTH_TOKEN_LEN - 1] = bad[CAUTH_TOKEN_LEN - 1] == '0' ? '1' : '0';
    assert_false(cauth_csrf_ok(&s, bad));
    assert_false(cauth_csrf_ok(&s, NULL));
    assert_false(cauth_csrf_ok(&s, ""));
    bad[10] = '\0';
    assert_false(cauth_csrf_ok(&s, bad));
    assert_false(cauth_csrf_ok(&s, s.id)); /* the session id is not the token */
    cauth_free(a);
}

static void test_rate_limit_per_address(void **state)
{
    struct cauth *a = new_auth();
    int64_t w;

    (void)state;
    for (int i = 0; i < 4; i++) {
        char user[16];

        snprintf(user, sizeof(user), "u%d", i); /* different users, one address */
        cauth_login_failed(a, "10.0.0.9", user, T0 + i * 1000);
        assert_int_equal(cauth_login_wait(a, "10.0.0.9", "someone", T0 + i * 1000), 0);
    }
    cauth_login_failed(a, "10.0.0.9", "u4", T0 + 4000);
    w = cauth_login_wait(a, "10.0.0.9", "someone", T0 + 4000);
    assert_int_equal(w, 5 * 60 * 1000 - 4000); /* until the first failure leaves the window */
    assert_int_equal(cauth_login_wait(a, "10.0.0.10", "someone", T0 + 4000), 0);
    /* a success of one user does not clear the address */
    cauth_login_ok(a, "u0");
    assert_true(cauth_login_wait(a, "10.0.0.9", "u0", T0 + 5000) > 0);
    assert_int_equal(cauth_login_wait(a, "10.0.0.9", "someone", T0 + 5 * 60 * 1000), 0);
    cauth_free(a);
}

static void test_rate_limit_per_user(void **state)
{
    struct cauth *a = new_auth();

    (void)state;
    for (int i = 0; i < 5; i++) {
        char client[32];

        snprintf(client, sizeof(client), "192.0.2.%d", i); /* one user, many addresses */
        cauth_login_failed(a, client, "alice", T0 + i);
    }
    assert_true(cauth_login_wait(a, "198.51.100.1", "alice", T0 + 10) > 0);
    assert_int_equal(cauth_login_wait(a, "198.51.100.1", "bob", T0 + 10), 0);
    cauth_login_ok(a, "alice");
    assert_int_equal(cauth_login_wait(a, "198.51.100.1", "alice", T0 + 10), 0);
    cauth_free(a);
}

static void test_roles(void **state)
{
    char name[64];

    (void)state;
    assert_int_equal(cauth_role_parse("viewer"), CAUTH_VIEWER);
    assert_int_equal(cauth_role_parse("operator"), CAUTH_OPERATOR);
    assert_int_equal(cauth_role_parse("admin"), CAUTH_NONE);
    assert_int_equal(cauth_role_parse(NULL), CAUTH_NONE);
    assert_string_equal(cauth_role_name(CAUTH_OPERATOR), "operator");
    cauth_credential_name("alice", name, sizeof(name));
    assert_string_equal(name, "console_user.alice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_session_idle_and_absolute),
        cmocka_unit_test(test_session_end_and_unknown),
        cmocka_unit_test(test_session_cap),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_rate_limit_per_address),
        cmocka_unit_test(test_rate_limit_per_user),
        cmocka_unit_test(test_roles),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
