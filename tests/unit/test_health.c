/* Unit tests: core/health (conditions, systems, watches, metrics). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/log.h"

static struct health *new_health(void)
{
    struct health *h = NULL;

    assert_int_equal(health_new(&h, NULL), MLC_OK);
    assert_non_null(h);
    return h;
}

static void test_set_clear_list(void **state)
{
    struct health *h = new_health();
    struct health_cond c[HEALTH_MAX];
    uint64_t v0 = health_version(h), v1;

    (void)state;
    assert_int_equal(health_list(h, c, HEALTH_MAX), 0);
    health_set(h, HEALTH_JDE_LOGIN, "AIS login failed for user %s: %d", "MLCSVC", 403);
    health_set(h, HEALTH_STORE_WRITE, "disk full");
    assert_true(health_is_set(h, HEALTH_JDE_LOGIN));
    assert_int_equal(health_list(h, c, HEALTH_MAX), 2);
    assert_string_equal(c[0].name, "jde.login");  /* oldest first */
    assert_string_equal(c[0].reason, "AIS login failed for user MLCSVC: 403");
    assert_true(c[0].since_ms > 0);
    assert_int_equal(c[0].reports, 1);
    v1 = health_version(h);
    assert_true(v1 > v0);

    /* A re-report keeps since and counts; the same reason does not move
     * the version, a new one does. */
    health_set(h, HEALTH_JDE_LOGIN, "AIS login failed for user MLCSVC: 403");
    assert_int_equal(health_version(h), v1);
    health_set(h, HEALTH_JDE_LOGIN, "again");
    assert_int_equal(health_list(h, c, HEALTH_MAX), 2);
    assert_string_equal(c[0].reason, "again");
    assert_int_equal(c[0].reports, 3);
    assert_true(health_version(h) > v1);
    v1 = health_version(h);

    assert_true(health_clear(h, HEALTH_JDE_LOGIN));
    assert_false(health_clear(h, HEALTH_JDE_LOGIN)); /* not a transition */
    assert_false(health_is_set(h, HEALTH_JDE_LOGIN));
    assert_int_equal(health_list(h, c, 1), 1);
    assert_string_equal(c[0].name, "store.write");
    assert_true(health_version(h) > v1);
    health_free(h);
}

static void test_systems(void **state)
{
    struct health *h = new_health();
    char sys[16];

    (void)state;
    assert_true(health_system_ok(h, "jde"));
    health_set(h, HEALTH_JDE_DOWN, "connection refused");
    health_set(h, "jdex.other", "not jde");
    assert_false(health_system_ok(h, "jde"));
    assert_true(health_system_ok(h, "bigcommerce"));
    health_clear(h, HEALTH_JDE_DOWN);
    assert_true(health_system_ok(h, "jde")); /* "jdex." is another system */
    health_system_of("bigcommerce.auth", sys, sizeof(sys));
    assert_string_equal(sys, "bigcommerce");
    health_system_of("plain", sys, sizeof(sys));
    assert_string_equal(sys, "plain");
    health_free(h);
}

static void test_null_registry(void **state)
{
    struct health_watch w;

    (void)state;
    health_set(NULL, HEALTH_JDE_LOGIN, "x");
    assert_false(health_clear(NULL, HEALTH_JDE_LOGIN));
    assert_false(health_is_set(NULL, HEALTH_JDE_LOGIN));
    assert_true(health_system_ok(NULL, "jde"));
    assert_int_equal(health_list(NULL, NULL, 0), 0);
    health_watch_begin(NULL, &w);
    health_watch_end(&w);
    assert_int_equal(w.seen, 0);
    {
        struct metrics m;
        char *text;

        metrics_init(&m);
        health_metrics(NULL, &m);
        assert_non_null(text = metrics_take(&m, NULL));
        assert_non_null(strstr(text, "mlc_health_condition{condition=\"jde.login\"} 0\n"));
        free(text);
    }
    health_free(NULL);
}

/* A watch notes reports of its own thread only, also of a condition that
 * was set already. */
struct other {
    struct health *h;
    unsigned       seen;
};

static void *other_thread(void *arg)
{
    struct other *o = arg;
    struct health_watch w;

    health_watch_begin(o->h, &w);
    health_set(o->h, HEALTH_BC_AUTH, "401 from the other thread");
    health_watch_end(&w);
    o->seen = w.seen;
    return NULL;
}

static void test_watch_is_per_thread(void **state)
{
    struct health *h = new_health();
    struct health_watch w;
    struct other o = { .h = h };
    pthread_t t;

    (void)state;
    health_set(h, HEALTH_JDE_LOGIN, "set before the watch");
    health_watch_begin(h, &w);
    assert_int_equal(pthread_create(&t, NULL, other_thread, &o), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(o.seen, 1);
    assert_int_equal(w.seen, 0); /* the other thread's report is not ours */
    health_set(h, HEALTH_JDE_LOGIN, "re-reported here");
    assert_int_equal(w.seen, 1);
    assert_string_equal(w.last, "jde.login");
    health_watch_end(&w);
    health_set(h, HEALTH_JDE_DOWN, "after the watch");
    assert_int_equal(w.seen, 1);
    health_free(h);
}

static void test_metrics(void **state)
{
    struct health *h = new_health();
    struct metrics m;
    char *buf;
    size_t len;

    (void)state;
    health_set(h, HEALTH_BC_AUTH, "401");
    health_set(h, "custom.thing", "x");
    metrics_init(&m);
    health_metrics(h, &m);
    assert_non_null(buf = metrics_take(&m, &len));
    assert_int_equal(len, strlen(buf));
    assert_non_null(strstr(buf, "# TYPE mlc_health_condition gauge\n"));
    assert_non_null(strstr(buf, "mlc_health_condition{condition=\"bigcommerce.auth\"} 1\n"));
    assert_non_null(strstr(buf, "mlc_health_condition{condition=\"jde.login\"} 0\n"));
    assert_non_null(strstr(buf, "mlc_health_condition{condition=\"store.write\"} 0\n"));
    assert_non_null(strstr(buf, "mlc_health_condition{condition=\"custom.thing\"} 1\n"));
    free(buf);
    health_free(h);
}

static void test_capacity(void **state)
{
    struct health *h = new_health();
    struct health_cond c[HEALTH_MAX];
    char name[32];

    (void)state;
    for (int i = 0; i < HEALTH_MAX + 3; i++) {
        snprintf(name, sizeof(name), "sys%d.down", i);
        health_set(h, name, "reason %d", i);
    }
    assert_int_equal(health_list(h, c, HEALTH_MAX), HEALTH_MAX);
    assert_string_equal(c[HEALTH_MAX - 1].name, "sys15.down");
    health_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_clear_list),
        cmocka_unit_test(test_systems),
        cmocka_unit_test(test_null_registry),
        cmocka_unit_test(test_watch_is_per_thread),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_capacity),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
