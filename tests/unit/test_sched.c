/* Unit tests: daemon/sched with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/log.h"
#include "daemon/sched.h"

/* A task that counts its runs and can fail or "take time" on the fake clock. */
struct probe {
    int      runs;
    int64_t *clock;     /* advanced by cost_ms on each run when not NULL */
    int64_t  cost_ms;
    int      fail;
};

static int probe_fn(void *ctx, struct mlc_err *e)
{
    struct probe *p = ctx;

    p->runs++;
    if (p->clock != NULL)
        *p->clock += p->cost_ms;
    if (p->fail)
        return mlc_err_set(e, MLC_EIO, "probe failed");
    return MLC_OK;
}

static void test_empty(void **state)
{
    struct sched *s;

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_count(s), 0);
    assert_int_equal(sched_next_due(s, 1000), -1);
    assert_int_equal(sched_run_due(s, 1000), 0);
    sched_free(s);
    sched_free(NULL);
}

static void test_add_rejects(void **state)
{
    struct sched *s;
    struct probe p = { 0 };
    struct mlc_err e;

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "zero", 0, probe_fn, &p, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "zero"));
    assert_int_equal(sched_add(s, "neg", -5, probe_fn, &p, &e), MLC_EINVAL);
    assert_int_equal(sched_add(s, "nofn", 10, NULL, &p, &e), MLC_EINVAL);
    assert_int_equal(sched_count(s), 0);
    sched_free(s);
}

static void test_first_run_then_interval(void **state)
{
    struct sched *s;
    struct probe p = { 0 };

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "t", 1000, probe_fn, &p, NULL), MLC_OK);
    /* Due at start. */
    assert_int_equal(sched_next_due(s, 5000), 0);
    assert_int_equal(sched_run_due(s, 5000), 1);
    assert_int_equal(p.runs, 1);
    /* Not again before the interval. */
    assert_int_equal(sched_next_due(s, 5000), 1000);
    assert_int_equal(sched_next_due(s, 5400), 600);
    assert_int_equal(sched_run_due(s, 5999), 0);
    assert_int_equal(p.runs, 1);
    assert_int_equal(sched_next_due(s, 6000), 0);
    assert_int_equal(sched_run_due(s, 6000), 1);
    assert_int_equal(p.runs, 2);
    /* A late tick: the next one is measured from this run's start. */
    assert_int_equal(sched_run_due(s, 7300), 1);
    assert_int_equal(sched_next_due(s, 7300), 1000);
    assert_int_equal(sched_run_due(s, 8299), 0);
    assert_int_equal(sched_run_due(s, 8300), 1);
    assert_int_equal(sched_runs(s, "t"), 4);
    assert_int_equal(sched_runs(s, "other"), 0);
    sched_free(s);
}

/* A reload's new interval counts from the task's last start. */
static void test_set_interval(void **state)
{
    struct sched *s;
    struct probe p = { 0 };

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "t", 60000, probe_fn, &p, NULL), MLC_OK);
    assert_int_equal(sched_set_interval(s, "t", 5000), MLC_OK); /* not run yet: due at once */
    assert_int_equal(sched_next_due(s, 1000), 0);
    assert_int_equal(sched_run_due(s, 1000), 1);
    assert_int_equal(sched_next_due(s, 2000), 4000);
    assert_int_equal(sched_set_interval(s, "t", 3000), MLC_OK);
    assert_int_equal(sched_next_due(s, 2000), 2000);            /* 1000 + 3000 */
    assert_int_equal(sched_set_interval(s, "t", 500), MLC_OK);  /* already passed */
    assert_int_equal(sched_next_due(s, 2000), 0);
    assert_int_equal(sched_run_due(s, 2000), 1);
    assert_int_equal(sched_next_due(s, 2000), 500);
    assert_int_equal(sched_set_interval(s, "nope", 500), MLC_ENOTFOUND);
    assert_int_equal(sched_set_interval(s, "t", 0), MLC_EINVAL);
    sched_free(s);
}

/* A task made due runs at the next tick, then keeps its interval from there. */
static void test_make_due(void **state)
{
    struct sched *s;
    struct probe a = { 0 }, b = { 0 };

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "a", 60000, probe_fn, &a, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "b", 60000, probe_fn, &b, NULL), MLC_OK);
    assert_int_equal(sched_run_due(s, 1000), 2);
    assert_int_equal(sched_next_due(s, 5000), 56000);
    assert_int_equal(sched_make_due(s, "b"), MLC_OK);
    assert_int_equal(sched_next_due(s, 5000), 0);
    assert_int_equal(sched_run_due(s, 5000), 1); /* b only */
    assert_int_equal(a.runs, 1);
    assert_int_equal(b.runs, 2);
    assert_int_equal(sched_next_due(s, 6000), 55000); /* a at 61000 comes first */
    assert_int_equal(sched_run_due(s, 61000), 1);
    assert_int_equal(sched_run_due(s, 64999), 0);
    assert_int_equal(sched_run_due(s, 65000), 1);  /* b: 5000 + 60000 */
    assert_int_equal(sched_make_due(s, "nope"), MLC_ENOTFOUND);
    sched_free(s);
}

static void test_no_catch_up_burst(void **state)
{
    struct sched *s;
    int64_t now = 0;
    struct probe slow = { .clock = &now, .cost_ms = 3500 };

    (void)state;
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "slow", 1000, probe_fn, &slow, NULL), MLC_OK);
    assert_int_equal(sched_run_due(s, now), 1); /* takes 3.5 intervals */
    assert_int_equal(now, 3500);
    slow.cost_ms = 0;
    /* Overdue: exactly one run per tick, not three catch-up runs. */
    assert_int_equal(sched_next_due(s, now), 0);
    assert_int_equal(sched_run_due(s, now), 1);
    assert_int_equal(sched_run_due(s, now), 0);
    assert_int_equal(slow.runs, 2);
    /* A very long pause (e.g. a suspended machine) also gives one run. */
    slow.clock = NULL;
    now = 1000000;
    assert_int_equal(sched_run_due(s, now), 1);
    assert_int_equal(sched_run_due(s, now), 0);
    assert_int_equal(sched_next_due(s, now), 1000);
    sched_free(s);
}

static void test_several_tasks(void **state)
{
    struct sched *s;
    struct probe a = { 0 }, b = { 0 }, bad = { .fail = 1 };
    int64_t now;

    (void)state;
    log_set_level(LOG_LVL_ERROR); /* the failing task logs a warning */
    assert_int_equal(sched_new(&s, NULL), MLC_OK);
    for (int i = 0; i < 10; i++) {
        /* Grows the table past its first allocation. */
        char name[16];
        static struct probe filler[10];

        name[0] = 'f';
        name[1] = (char)('0' + i);
        name[2] = '\0';
        assert_int_equal(sched_add(s, name, 60000, probe_fn, &filler[i], NULL), MLC_OK);
    }
    assert_int_equal(sched_add(s, "a", 100, probe_fn, &a, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "b", 250, probe_fn, &b, NULL), MLC_OK);
    assert_int_equal(sched_add(s, "bad", 100, probe_fn, &bad, NULL), MLC_OK);
    assert_int_equal(sched_count(s), 13);
    assert_int_equal(sched_run_due(s, 0), 13);
    /* Drive the fake clock by always sleeping exactly until the next due. */
    now = 0;
    for (int i = 0; i < 100 && now < 1000; i++) {
        int64_t wait = sched_next_due(s, now);

        assert_true(wait > 0);
        now += wait;
        assert_true(sched_run_due(s, now) >= 1);
    }
    /* t = 0,100,...,1000 for a; 0,250,...,1000 for b. */
    assert_int_equal(a.runs, 11);
    assert_int_equal(b.runs, 5);
    /* A failing task keeps its schedule. */
    assert_int_equal(bad.runs, 11);
    assert_int_equal(sched_runs(s, "f0"), 1);
    sched_free(s);
    log_set_level(LOG_LVL_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_add_rejects),
        cmocka_unit_test(test_first_run_then_interval),
        cmocka_unit_test(test_set_interval),
        cmocka_unit_test(test_make_due),
        cmocka_unit_test(test_no_catch_up_burst),
        cmocka_unit_test(test_several_tasks),
    };

    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
