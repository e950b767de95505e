/* Unit tests: orphans (the start-up hold of queued jobs whose kind has no
 * handler in the configuration). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "daemon/orphans.h"
#include "helpers/tmpstore.h"
#include "store/store.h"

struct fx {
    struct tmpstore t;
    struct store   *st;  /* t.st */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || tmpstore_open(&f->t, "orphans") != 0) {
        free(f);
        return -1;
    }
    f->st = f->t.st;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    tmpstore_close(&f->t);
    free(f);
    return 0;
}

static int64_t enqueue(struct fx *f, const char *kind, const char *key)
{
    int64_t id = 0;

    assert_int_equal(store_job_enqueue(f->st, kind, key, NULL, 0, &id, NULL, NULL), MLC_OK);
    return id;
}

static struct store_job get(struct fx *f, int64_t id)
{
    struct store_job j;

    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    return j;
}

static enum store_job_state state_of(struct fx *f, int64_t id)
{
    struct store_job j = get(f, id);
    enum store_job_state s = j.state;

    store_job_clear(&j);
    return s;
}

struct audit_q { const char *actor, *outcome; int n; };

static int on_audit(const struct store_audit *a, void *ctx)
{
    struct audit_q *q = ctx;

    if (strcmp(a->actor, q->actor) == 0 && strcmp(a->outcome, q->outcome) == 0)
        q->n++;
    return 0;
}

/* customers and catalog off: their queued jobs (and an unknown kind's) are
 * held with the reason; order.sync and noop jobs, a job running under a
 * live lease and finished jobs are left alone. Idempotent. */
static void test_hold_unhandled(void **state)
{
    struct fx *f = *state;
    struct mlc_config off, on;
    struct store_job j;
    struct mlc_err e = { 0 };
    const char *const cat[] = { JOB_CATALOG_SYNC, NULL };
    struct audit_q q = { "daemon", "held", 0 };
    int64_t c1, c2, p5, p6, o9, n1, legacy, done;
    size_t held = 99;

    memset(&off, 0, sizeof(off));
    memset(&on, 0, sizeof(on));
    on.customers.enabled = on.catalog.enabled = true;
    done = enqueue(f, JOB_CUSTOMER_SYNC, "customer:3");
    assert_int_equal(store_job_claim(f->st, "old", NULL, 60000, &j, NULL), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_done(f->st, done, "old", NULL), MLC_OK);
    c1 = enqueue(f, JOB_CUSTOMER_SYNC, "customer:1");
    c2 = enqueue(f, JOB_CUSTOMER_SYNC, "customer:2");
    p6 = enqueue(f, JOB_CATALOG_SYNC, "product:6");
    assert_int_equal(store_job_claim(f->st, "elsewhere", cat, 600000, &j, NULL), MLC_OK);
    assert_int_equal(j.id, p6);
    store_job_clear(&j);
    p5 = enqueue(f, JOB_CATALOG_SYNC, "product:5");
    o9 = enqueue(f, JOB_ORDER_SYNC, "order:9");
    n1 = enqueue(f, JOB_NOOP, "diag:1");
    legacy = enqueue(f, "legacy.sync", "x:1");

    assert_int_equal(orphans_hold(f->st, &off, &held, &e), MLC_OK);
    assert_int_equal(held, 4);
    assert_int_equal(state_of(f, c1), STORE_JOB_HELD);
    assert_int_equal(state_of(f, c2), STORE_JOB_HELD);
    assert_int_equal(state_of(f, p5), STORE_JOB_HELD);
    assert_int_equal(state_of(f, legacy), STORE_JOB_HELD);
    assert_int_equal(state_of(f, p6), STORE_JOB_RUNNING);
    assert_int_equal(state_of(f, o9), STORE_JOB_READY);
    assert_int_equal(state_of(f, n1), STORE_JOB_READY);
    assert_int_equal(state_of(f, done), STORE_JOB_DONE);
    j = get(f, c1);
    assert_string_equal(j.last_error, "no handler for kind customer.sync in this "
                        "configuration (customers.enabled is false)");
    store_job_clear(&j);
    j = get(f, p5);
    assert_non_null(strstr(j.last_error, "no handler for kind catalog.sync in this "
                           "configuration"));
    store_job_clear(&j);
    j = get(f, legacy);
    assert_non_null(strstr(j.last_error, "unknown job kind 'legacy.sync'"));
    store_job_clear(&j);
    assert_int_equal(store_audit_list(f->st, "customer:1", 0, on_audit, &q, NULL), MLC_OK);
    assert_int_equal(q.n, 1);

    /* again: nothing left to hold */
    assert_int_equal(orphans_hold(f->st, &off, &held, &e), MLC_OK);
    assert_int_equal(held, 0);
    /* with every flow on, only the unknown kind would be held */
    enqueue(f, JOB_CUSTOMER_SYNC, "customer:1");
    assert_int_equal(orphans_hold(f->st, &on, &held, &e), MLC_OK);
    assert_int_equal(held, 0);
}

/* More orphans than one transaction takes: every one held. */
static void test_hold_many(void **state)
{
    struct fx *f = *state;
    struct mlc_config off;
    size_t held = 0;
    int64_t n = -1;
    char key[32];

    memset(&off, 0, sizeof(off));
    assert_int_equal(store_tx_begin(f->st, NULL), MLC_OK);
    for (int i = 1; i <= 1234; i++) {
        snprintf(key, sizeof(key), "customer:%d", i);
        enqueue(f, JOB_CUSTOMER_SYNC, key);
    }
    enqueue(f, JOB_ORDER_SYNC, "order:1");
    assert_int_equal(store_tx_commit(f->st, NULL), MLC_OK);
    assert_int_equal(orphans_hold(f->st, &off, &held, NULL), MLC_OK);
    assert_int_equal(held, 1234);
    assert_int_equal(store_job_count(f->st, STORE_JOB_HELD, &n, NULL), MLC_OK);
    assert_int_equal(n, 1234);
    assert_int_equal(store_job_count(f->st, STORE_JOB_READY, &n, NULL), MLC_OK);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hold_unhandled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_many, setup, teardown),
    };

    log_set_level(LOG_LVL_ERROR);
    setenv("MLC_DEBUG_JOBS", "1", 1); /* the diagnostic kind noop (core/jobkind.h) */
    return cmocka_run_group_tests_name("orphans", tests, NULL, NULL);
}
