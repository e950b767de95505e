/* Unit tests: leader (the singleton tasks' lease), with several "processes"
 * as connections to one store file and a store clock the test moves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/leader.h"
#include "store/store.h"

#define T0 1700000000000LL

struct fx {
    char            dir[64], db[96];
    _Atomic int64_t now;
    struct store   *st; /* the test's own view */
};

static int64_t fake_clock(void *ctx)
{
    return atomic_load((_Atomic int64_t *)ctx);
}

static struct store *open_conn(struct fx *f)
{
    struct store *st = NULL;

    assert_int_equal(store_open(f->db, &st, NULL), MLC_OK);
    store_set_clock(st, fake_clock, &f->now);
    return st;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-leader-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/mlc.db", f->dir);
    atomic_store(&f->now, T0);
    f->st = open_conn(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const files[] = { "mlc.db", "mlc.db-wal", "mlc.db-shm" };
    struct fx *f = *state;
    char p[160];

    store_close(f->st);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

struct count_ctx {
    const char *action;
    int         n;
};

static int count_audit(const struct store_audit *a, void *ctx)
{
    struct count_ctx *c = ctx;

    if (strcmp(a->action, c->action) == 0)
        c->n++;
    return 0;
}

static int audited(struct fx *f, const char *action)
{
    struct count_ctx c = { action, 0 };

    assert_int_equal(store_audit_list(f->st, "leader", 0, count_audit, &c, NULL), MLC_OK);
    return c.n;
}

/* Alone on an SQLite file: always the leader, no token, no lease row. */
static void test_alone(void **state)
{
    struct fx *f = *state;
    struct leader *l = NULL;
    struct store_lease ls;
    int64_t token = -1;

    assert_int_equal(leader_start(NULL, "h:1:aa", 15000, &l, NULL), MLC_OK);
    assert_true(leader_holds(l, &token));
    assert_int_equal(token, 0);
    assert_string_equal(leader_holder(l), "h:1:aa");
    leader_stop(l);
    assert_int_equal(store_lease_get(f->st, LEADER_LEASE, &ls, NULL), MLC_ENOTFOUND);
}

/* Two processes: one leads; when it stops cleanly the other takes over at
 * once with a new token. */
static void test_handover(void **state)
{
    struct fx *f = *state;
    struct leader *a = NULL, *b = NULL;
    int64_t ta = 0, tb = 0;

    assert_int_equal(leader_start(open_conn(f), "a", 3000, &a, NULL), MLC_OK);
    assert_true(leader_holds(a, &ta));
    assert_int_equal(ta, 1);
    assert_int_equal(leader_start(open_conn(f), "b", 3000, &b, NULL), MLC_OK);
    assert_false(leader_holds(b, &tb));
    assert_int_equal(tb, 0);
    leader_poll(b);
    assert_false(leader_holds(b, NULL));
    leader_stop(a);
    leader_poll(b);
    assert_true(leader_holds(b, &tb));
    assert_int_equal(tb, 2);
    assert_int_equal(audited(f, "acquired"), 2);
    assert_int_equal(audited(f, "resigned"), 1);
    leader_stop(b);
}

/* A leader that died without a word: the lease runs out on the store
 * clock, then the next poll takes it, and the old token is fenced out. */
static void test_takeover_after_expiry(void **state)
{
    struct fx *f = *state;
    struct leader *b = NULL;
    struct mlc_err e = {0};
    int64_t ghost = 0, tb = 0;

    assert_int_equal(store_lease_take(f->st, LEADER_LEASE, "dead:1:00", 3000, &ghost, &e),
                     MLC_OK);
    assert_int_equal(leader_start(open_conn(f), "b", 3000, &b, NULL), MLC_OK);
    assert_false(leader_holds(b, NULL));
    atomic_fetch_add(&f->now, 2999);
    leader_poll(b);
    assert_false(leader_holds(b, NULL));
    atomic_fetch_add(&f->now, 1);
    leader_poll(b);
    assert_true(leader_holds(b, &tb));
    assert_int_equal(tb, ghost + 1);
    /* The dead leader's writes can no longer commit. */
    assert_int_equal(store_fence_lease(f->st, LEADER_LEASE, "dead:1:00", ghost, &e), MLC_OK);
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    assert_int_equal(store_watermark_set(f->st, "recon.orders", "x", &e), MLC_OK);
    assert_int_equal(store_tx_commit(f->st, &e), MLC_ESTATE);
    leader_stop(b);
}

/* The thread renews on its own: a leader keeps the lease across many
 * lease times as long as it lives, and nobody else gets it. */
static void test_renewal_thread(void **state)
{
    struct fx *f = *state;
    struct leader *a = NULL, *b = NULL;
    int64_t ta = 0, t = 0;

    assert_int_equal(leader_start(open_conn(f), "a", 3000, &a, NULL), MLC_OK);
    assert_int_equal(leader_start(open_conn(f), "b", 3000, &b, NULL), MLC_OK);
    assert_true(leader_holds(a, &ta));
    for (int i = 0; i < 4; i++) {
        /* 1.1 s of real time: the thread renews every second. */
        usleep(1100 * 1000);
        atomic_fetch_add(&f->now, 1000);
        leader_poll(b);
        assert_false(leader_holds(b, NULL));
    }
    assert_true(leader_holds(a, &t));
    assert_int_equal(t, ta);
    leader_stop(b);
    leader_stop(a);
}

/* The leader releases the jobs of a process whose own lease ran out, and
 * leaves a live process's jobs alone. */
static void test_reaps_gone_process(void **state)
{
    struct fx *f = *state;
    struct leader *a = NULL;
    struct store_job j;
    struct store_lease ls;
    struct mlc_err e = {0};
    int64_t t = 0, gone_job = 0, live_job = 0;

    assert_int_equal(store_lease_take(f->st, LEADER_PROC_PREFIX "gone:1:aa", "gone:1:aa",
                                      3000, &t, &e), MLC_OK);
    assert_int_equal(store_lease_take(f->st, LEADER_PROC_PREFIX "live:2:bb", "live:2:bb",
                                      60000, &t, &e), MLC_OK);
    assert_int_equal(store_job_enqueue(f->st, "order.sync", "order:1", NULL, 0, &gone_job,
                                       NULL, &e), MLC_OK);
    assert_int_equal(store_job_enqueue(f->st, "order.sync", "order:2", NULL, 0, &live_job,
                                       NULL, &e), MLC_OK);
    assert_int_equal(store_job_claim(f->st, "gone:1:aa:w1", NULL, 120000, &j, &e), MLC_OK);
    assert_int_equal(j.id, gone_job);
    store_job_clear(&j);
    assert_int_equal(store_job_claim(f->st, "live:2:bb:w1", NULL, 120000, &j, &e), MLC_OK);
    store_job_clear(&j);
    /* Still within the gone process's lease: nothing happens. */
    assert_int_equal(leader_start(open_conn(f), "a:3:cc", 3000, &a, NULL), MLC_OK);
    assert_int_equal(store_job_get(f->st, gone_job, &j, &e), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_RUNNING);
    store_job_clear(&j);
    atomic_fetch_add(&f->now, 3000);
    leader_poll(a);
    assert_int_equal(store_job_get(f->st, gone_job, &j, &e), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_READY);
    assert_int_equal(j.attempts, 1); /* the crash counted */
    store_job_clear(&j);
    assert_int_equal(store_job_get(f->st, live_job, &j, &e), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_RUNNING);
    store_job_clear(&j);
    assert_int_equal(store_lease_get(f->st, LEADER_PROC_PREFIX "gone:1:aa", &ls, &e),
                     MLC_ENOTFOUND);
    assert_int_equal(store_lease_get(f->st, LEADER_PROC_PREFIX "a:3:cc", &ls, &e), MLC_OK);
    assert_string_equal(ls.holder, "a:3:cc");
    store_lease_clear(&ls);
    leader_stop(a);
}

static void test_bad_arguments(void **state)
{
    struct leader *l = NULL;

    (void)state;
    assert_int_equal(leader_start(NULL, "", 15000, &l, NULL), MLC_EINVAL);
    assert_int_equal(leader_start(NULL, "h", 2999, &l, NULL), MLC_EINVAL);
    assert_null(l);
    assert_false(leader_holds(NULL, NULL));
    leader_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_takeover_after_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renewal_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reaps_gone_process, setup, teardown),
        cmocka_unit_test(test_bad_arguments),
    };

    log_set_level(LOG_LVL_ERROR);
    return cmocka_run_group_tests_name("leader", tests, NULL, NULL);
}
