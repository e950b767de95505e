/* Unit tests: daemon/gauges (the /metrics series of the present). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "daemon/gauges.h"

static char *render(const struct gauges_in *in)
{
    struct metrics m;
    char *t;

    metrics_init(&m);
    gauges_metrics(&m, in);
    t = metrics_take(&m, NULL);
    assert_non_null(t);
    return t;
}

static void has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void test_values_and_ages(void **state)
{
    const int64_t now = 1700000000000LL;
    struct store_gauges g = {
        .jobs = { [STORE_GAUGE_QUEUED] = 4, [STORE_GAUGE_HELD] = 2,
                  [STORE_GAUGE_PAUSED] = 1 },
        .oldest_ms = { [STORE_GAUGE_QUEUED] = now - 90500,
                       [STORE_GAUGE_HELD] = now - 7200000,
                       [STORE_GAUGE_PAUSED] = now - 1000,
                       /* none running: a stale time never shows */
                       [STORE_GAUGE_RUNNING] = now - 5000 },
        .last_posted_ms = 1699990000123LL,
        .reconcile_differences = 3,
    };
    struct gauges_in in = { .store = &g, .now_ms = now, .quota_left = 87, .ais_up = true };
    char *t = render(&in);

    (void)state;
    has(t, "# TYPE mlc_jobs_current gauge\n");
    has(t, "mlc_jobs_current{state=\"queued\"} 4\n");
    has(t, "mlc_jobs_current{state=\"running\"} 0\n");
    has(t, "mlc_jobs_current{state=\"paused\"} 1\n");
    has(t, "mlc_jobs_current{state=\"held\"} 2\n");
    has(t, "mlc_jobs_current{state=\"failed\"} 0\n");
    has(t, "# TYPE mlc_jobs_oldest_age_seconds gauge\n");
    has(t, "mlc_jobs_oldest_age_seconds{state=\"queued\"} 90\n");
    has(t, "mlc_jobs_oldest_age_seconds{state=\"held\"} 7200\n");
    has(t, "mlc_jobs_oldest_age_seconds{state=\"paused\"} 1\n");
    has(t, "mlc_jobs_oldest_age_seconds{state=\"running\"} 0\n");
    has(t, "mlc_last_document_timestamp_seconds 1699990000\n");
    has(t, "mlc_reconcile_differences 3\n");
    has(t, "mlc_bigcommerce_quota_left 87\n");
    has(t, "mlc_jde_session_up 1\n");
    has(t, "mlc_store_gauges_up 1\n");
    free(t);
}

/* The store did not answer, nothing seen yet: zeros, -1 for the quota. */
static void test_unknown(void **state)
{
    struct gauges_in in = { .store = NULL, .now_ms = 1, .quota_left = -1 };
    char *t = render(&in);

    (void)state;
    has(t, "mlc_store_gauges_up 0\n");
    has(t, "mlc_jobs_current{state=\"held\"} 0\n");
    has(t, "mlc_last_document_timestamp_seconds 0\n");
    has(t, "mlc_reconcile_differences 0\n");
    has(t, "mlc_bigcommerce_quota_left -1\n");
    has(t, "mlc_jde_session_up 0\n");
    free(t);
}

/* A clock that stepped back shows age 0, never a negative age. */
static void test_clock_back(void **state)
{
    struct store_gauges g = { .jobs = { [STORE_GAUGE_RUNNING] = 1 },
                              .oldest_ms = { [STORE_GAUGE_RUNNING] = 5000 } };
    struct gauges_in in = { .store = &g, .now_ms = 1000, .quota_left = 0 };
    char *t = render(&in);

    (void)state;
    has(t, "mlc_jobs_oldest_age_seconds{state=\"running\"} 0\n");
    assert_string_equal(gauges_state_name(STORE_GAUGE_FAILED), "failed");
    assert_string_equal(gauges_state_name(STORE_GAUGE_JOBS), "unknown");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_ages),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_clock_back),
    };

    return cmocka_run_group_tests_name("gauges", tests, NULL, NULL);
}
