/* Unit tests: core/metrics (the Prometheus text writer). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static void test_one_and_labels(void **state)
{
    struct metrics m;
    size_t len = 0;
    char *t;

    (void)state;
    metrics_init(&m);
    metrics_one(&m, "mlc_x", "gauge", "An x.", -3);
    metrics_head(&m, "mlc_y", "counter", "Ys by kind.");
    metrics_sample(&m, "mlc_y", "kind", "a\"b\\c\nd", 7);
    t = metrics_take(&m, &len);
    assert_non_null(t);
    assert_string_equal(t, "# HELP mlc_x An x.\n# TYPE mlc_x gauge\nmlc_x -3\n"
                           "# HELP mlc_y Ys by kind.\n# TYPE mlc_y counter\n"
                           "mlc_y{kind=\"a\\\"b\\\\c\\nd\"} 7\n");
    assert_int_equal(len, strlen(t));
    /* The writer is empty again after a take. */
    assert_null(m.buf);
    free(t);
}

/* Far past the 4 KiB the daemon's fixed buffer used to cut at: every
 * series is there, in order, and the text ends with the last one. */
static void test_grows_without_cutting(void **state)
{
    struct metrics m;
    char name[64], *t, *p;
    size_t len = 0;

    (void)state;
    metrics_init(&m);
    metrics_head(&m, "mlc_series", "gauge", "Many series.");
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "system%04d.unreachable", i);
        metrics_sample(&m, "mlc_series", "condition", name, i);
    }
    t = metrics_take(&m, &len);
    assert_non_null(t);
    assert_true(len > 100 * 1024);
    assert_int_equal(len, strlen(t));
    p = t;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "{condition=\"system%04d.unreachable\"} %d\n", i, i);
        p = strstr(p, name);
        assert_non_null(p);
    }
    assert_string_equal(t + len - strlen(name), name);
    free(t);
}

static void test_empty_and_free(void **state)
{
    struct metrics m;
    size_t len = 9;
    char *t;

    (void)state;
    metrics_init(&m);
    t = metrics_take(&m, &len);
    assert_non_null(t);
    assert_string_equal(t, "");
    assert_int_equal(len, 0);
    free(t);
    metrics_printf(&m, "%s", "x");
    metrics_free(&m);
    metrics_free(&m);
    metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_and_labels),
        cmocka_unit_test(test_grows_without_cutting),
        cmocka_unit_test(test_empty_and_free),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
