/* Unit tests: the state store (SQLite backend) through its public API, plus
 * raw SQLite checks of what the API must not allow (audit rewrite, torn
 * transactions after a crash). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"

#define T0 1700000000000LL /* fixture clock start, ms */

struct fx {
    char          dir[64];
    char          path[128];
    struct store *st;
    int64_t       now; /* the store's clock */
};

static int64_t fake_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

static int fx_open(struct fx *f, struct store **out)
{
    struct mlc_err e = {0};
    int rc = store_open(f->path, out, &e);

    if (rc != MLC_OK)
        print_error("store_open: %s\n", e.msg);
    else
        store_set_clock(*out, fake_clock, &f->now);
    return rc;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
    f->now = T0;
    if (fx_open(f, &f->st) != MLC_OK) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void unlink_db(const char *path)
{
    char p[160];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->st);
    unlink_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static int64_t enqueue_at(struct fx *f, const char *kind, const char *key,
                          int64_t run_at, bool *coalesced)
{
    struct mlc_err e = {0};
    int64_t id = 0;
    bool c = false;

    assert_int_equal(store_job_enqueue(f->st, kind, key, NULL, run_at, &id,
                                       &c, &e), MLC_OK);
    if (coalesced != NULL)
        *coalesced = c;
    assert_true(id > 0);
    return id;
}

static int64_t enqueue(struct fx *f, const char *kind, const char *key)
{
    return enqueue_at(f, kind, key, 0, NULL);
}

static int claim(struct fx *f, const char *owner, const char *const *kinds,
                 int64_t lease_ms, struct store_job *j)
{
    return store_job_claim(f->st, owner, kinds, lease_ms, j, NULL);
}

static int64_t count(struct fx *f, enum store_job_state s)
{
    int64_t n = -1;

    assert_int_equal(store_job_count(f->st, s, &n, NULL), MLC_OK);
    return n;
}

static enum store_job_state job_state(struct fx *f, int64_t id)
{
    struct store_job j;
    enum store_job_state s;

    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    s = j.state;
    store_job_clear(&j);
    return s;
}

/* One integer from SQL run on a separate raw connection. */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

/* Runs SQL on a raw connection; returns the SQLite code, errmsg in msg. */
static int raw_exec(const char *path, const char *sql, char *msg, size_t cap)
{
    sqlite3 *db = NULL;
    int rc;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (msg != NULL)
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* ---- open, names ------------------------------------------------------- */

static void test_open_urls(void **state)
{
    struct fx *f = *state;
    struct store *st = NULL;
    struct mlc_err e = {0};
    char url[200];
    struct stat sb;
    int v = 0;

    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(store_schema_version(f->st, &v, NULL), MLC_OK);
    assert_true(v >= 1);

    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    assert_int_equal(store_open(url, &st, &e), MLC_OK);
    store_close(st);
    snprintf(url, sizeof(url), "sqlite://%s", f->path);
    assert_int_equal(store_open(url, &st, &e), MLC_OK);
    store_close(st);

    assert_int_equal(store_open("postgresql://mlc:hunter2@db/mlc", &st, &e),
                     MLC_EINVAL);
    assert_null(st);
    assert_non_null(strstr(e.msg, "PostgreSQL store not built yet"));
    assert_null(strstr(e.msg, "hunter2"));
    assert_int_equal(store_open("postgres://db/mlc", &st, &e), MLC_EINVAL);
    assert_int_equal(store_open("mysql://db/mlc", &st, &e), MLC_EINVAL);
    assert_int_equal(store_open("", &st, &e), MLC_EINVAL);
    assert_int_equal(store_open("sqlite:", &st, &e), MLC_EINVAL);
    snprintf(url, sizeof(url), "%s/no/such/dir/x.db", f->dir);
    assert_int_equal(store_open(url, &st, &e), MLC_EIO);
    assert_null(st);
    store_close(NULL);

    assert_int_equal(store_open(":memory:", &st, &e), MLC_OK);
    assert_int_equal(store_job_enqueue(st, "k", "x", NULL, 0, NULL, NULL, &e),
                     MLC_OK);
    store_close(st);
}

static int64_t wal_bytes(const struct fx *f)
{
    char p[160];
    struct stat sb;

    snprintf(p, sizeof(p), "%s-wal", f->path);
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* A connection without log upkeep leaves the write-ahead log to grow; a
 * checkpoint on another connection copies it into the database, after
 * which the next writer starts the log over instead of growing it. */
static void test_log_upkeep(void **state)
{
    struct fx *f = *state;
    struct store *keeper = NULL;
    struct mlc_err e = {0};
    char key[32];
    int64_t grown, again;

    assert_int_equal(fx_open(f, &keeper), MLC_OK);
    store_set_log_upkeep(f->st, false);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "order:%d", i);
        assert_int_equal(store_job_enqueue(f->st, "order.sync", key, NULL, 0, NULL, NULL, &e),
                         MLC_OK);
    }
    grown = wal_bytes(f);
    assert_true(grown > 2000 * 4096);   /* twice past SQLite's auto-checkpoint point */
    assert_int_equal(store_log_checkpoint(keeper, &e), MLC_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "order:x%d", i);
        assert_int_equal(store_job_enqueue(f->st, "order.sync", key, NULL, 0, NULL, NULL, &e),
                         MLC_OK);
    }
    again = wal_bytes(f);
    assert_true(again == grown);        /* written over from the start, not appended */
    assert_int_equal(store_log_checkpoint(NULL, &e), MLC_EINVAL);
    store_close(keeper);
}

static void test_state_names(void **state)
{
    enum store_job_state s;

    (void)state;
    for (int i = STORE_JOB_READY; i <= STORE_JOB_FAILED; i++) {
        assert_int_equal(store_job_state_parse(store_job_state_name(i), &s),
                         MLC_OK);
        assert_int_equal(s, i);
    }
    assert_string_equal(store_job_state_name(STORE_JOB_HELD), "held");
    assert_int_equal(store_job_state_parse("sleeping", &s), MLC_EINVAL);
    assert_int_equal(store_job_state_parse(NULL, &s), MLC_EINVAL);
    assert_string_equal(store_job_state_name((enum store_job_state)42),
                        "invalid");
    assert_string_equal(store_ledger_state_name(STORE_LEDGER_UNKNOWN),
                        "unknown");
    assert_string_equal(store_ledger_state_name(STORE_LEDGER_POSTED),
                        "posted");
    store_job_clear(NULL);
    store_ledger_clear(NULL);
}

static void test_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};

    assert_int_equal(store_job_enqueue(f->st, NULL, "k", NULL, 0, NULL, NULL,
                                       &e), MLC_EINVAL);
    assert_int_equal(store_job_enqueue(f->st, "k", "", NULL, 0, NULL, NULL,
                                       &e), MLC_EINVAL);
    assert_int_equal(store_job_enqueue(f->st, "k", "x", NULL, -5, NULL, NULL,
                                       &e), MLC_EINVAL);
    assert_int_equal(store_job_claim(f->st, "w", NULL, 0, &j, &e),
                     MLC_EINVAL);
    assert_int_equal(store_job_claim(f->st, NULL, NULL, 10, &j, &e),
                     MLC_EINVAL);
    assert_int_equal(store_job_retry(f->st, 1, "w", "x", 0, NULL, &e),
                     MLC_EINVAL);
    assert_int_equal(store_job_done(NULL, 1, "w", &e), MLC_EINVAL);
    assert_int_equal(store_job_count(f->st, (enum store_job_state)9, NULL,
                                     &e), MLC_EINVAL);
}

/* ---- jobs -------------------------------------------------------------- */

static void test_enqueue_claim_done(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id;

    assert_int_equal(store_job_enqueue(f->st, "order.sync", "order:105",
                                       "{\"hint\":1}", 0, &id, NULL, &e),
                     MLC_OK);
    f->now += 10;
    assert_int_equal(store_job_claim(f->st, "w1", NULL, 30000, &j, &e),
                     MLC_OK);
    assert_int_equal(j.id, id);
    assert_string_equal(j.kind, "order.sync");
    assert_string_equal(j.key, "order:105");
    assert_string_equal(j.payload, "{\"hint\":1}");
    assert_int_equal(j.state, STORE_JOB_RUNNING);
    assert_int_equal(j.attempts, 1);
    assert_int_equal(j.run_at, T0);
    assert_string_equal(j.owner, "w1");
    assert_int_equal(j.lease_until, T0 + 10 + 30000);
    assert_null(j.last_error);
    assert_int_equal(j.created_at, T0);
    assert_int_equal(j.updated_at, T0 + 10);
    store_job_clear(&j);
    assert_null(j.kind);

    assert_int_equal(claim(f, "w2", NULL, 30000, &j), MLC_ENOTFOUND);
    assert_int_equal(store_job_done(f->st, id, "w1", &e), MLC_OK);
    assert_int_equal(job_state(f, id), STORE_JOB_DONE);
    assert_int_equal(count(f, STORE_JOB_DONE), 1);
    assert_int_equal(store_job_claim(f->st, "w1", NULL, 1000, &j, &e),
                     MLC_ENOTFOUND);
    assert_int_equal(e.code, MLC_ENOTFOUND);
    assert_int_equal(store_job_get(f->st, 999, &j, &e), MLC_ENOTFOUND);
    assert_int_equal(store_job_done(f->st, 999, "w1", &e), MLC_ENOTFOUND);
}

static void test_claim_order(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    int64_t late = enqueue_at(f, "k", "a", T0 + 5, NULL);
    int64_t first = enqueue_at(f, "k", "b", T0 - 100, NULL);
    int64_t tie1 = enqueue_at(f, "k", "c", T0, NULL);
    int64_t tie2 = enqueue_at(f, "k", "d", T0, NULL);
    int64_t want[] = { first, tie1, tie2, late };

    f->now = T0 + 5;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
        assert_int_equal(j.id, want[i]);
        store_job_clear(&j);
    }
}

static void test_coalescing(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    bool c = true;
    int64_t id = enqueue_at(f, "order.sync", "order:1", T0 + 5000, &c);
    int64_t id2, id3;

    assert_false(c);
    /* READY duplicate: merged, run_at moves earlier, never later. */
    assert_int_equal(enqueue_at(f, "order.sync", "order:1", T0 + 1000, &c),
                     id);
    assert_true(c);
    assert_int_equal(enqueue_at(f, "order.sync", "order:1", T0 + 9000, &c),
                     id);
    assert_true(c);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.run_at, T0 + 1000);
    store_job_clear(&j);
    /* Other kind or key: separate jobs (due later than the first). */
    assert_int_not_equal(enqueue_at(f, "order.sync", "order:2", T0 + 2000,
                                    NULL), id);
    assert_int_not_equal(enqueue_at(f, "refund.sync", "order:1", T0 + 2000,
                                    NULL), id);
    assert_int_equal(count(f, STORE_JOB_READY), 3);

    /* RUNNING does not coalesce: the change is fetched again later. */
    f->now = T0 + 1000;
    assert_int_equal(claim(f, "w1", NULL, 10000, &j), MLC_OK);
    assert_int_equal(j.id, id);
    store_job_clear(&j);
    id2 = enqueue_at(f, "order.sync", "order:1", 0, &c);
    assert_false(c);
    assert_int_not_equal(id2, id);
    /* ...and is not claimed while the first one holds a live lease. */
    f->now = T0 + 2000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(claim(f, "w2", NULL, 10000, &j), MLC_OK);
        assert_int_not_equal(j.id, id2);
        store_job_clear(&j);
    }
    assert_int_equal(claim(f, "w2", NULL, 10000, &j), MLC_ENOTFOUND);
    id3 = enqueue_at(f, "order.sync", "order:1", 0, &c);
    assert_true(c);
    assert_int_equal(id3, id2);
    assert_int_equal(store_job_done(f->st, id, "w1", NULL), MLC_OK);
    assert_int_equal(claim(f, "w2", NULL, 10000, &j), MLC_OK);
    assert_int_equal(j.id, id2);
    store_job_clear(&j);
}

static void test_kinds_filter(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    const char *odd = "we\"ird\\kind\n";
    int64_t a = enqueue(f, "a", "1");
    int64_t b = enqueue(f, "b", "2");
    int64_t c = enqueue(f, "c", "3");
    int64_t o = enqueue(f, odd, "4");

    assert_int_equal(claim(f, "w", (const char *const[]){ "b", NULL }, 100,
                           &j), MLC_OK);
    assert_int_equal(j.id, b);
    store_job_clear(&j);
    assert_int_equal(claim(f, "w", (const char *const[]){ "x", NULL }, 100,
                           &j), MLC_ENOTFOUND);
    assert_int_equal(claim(f, "w", (const char *const[]){ NULL }, 100, &j),
                     MLC_ENOTFOUND);
    assert_int_equal(claim(f, "w", (const char *const[]){ odd, NULL }, 100,
                           &j), MLC_OK);
    assert_int_equal(j.id, o);
    store_job_clear(&j);
    assert_int_equal(claim(f, "w", (const char *const[]){ "c", "a", NULL },
                           100, &j), MLC_OK);
    assert_int_equal(j.id, a);
    store_job_clear(&j);
    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_OK);
    assert_int_equal(j.id, c);
    store_job_clear(&j);
}

static void test_run_at_future(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    int64_t id = enqueue_at(f, "k", "x", T0 + 10000, NULL);

    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_ENOTFOUND);
    f->now = T0 + 9999;
    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_ENOTFOUND);
    f->now = T0 + 10000;
    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_OK);
    assert_int_equal(j.id, id);
    store_job_clear(&j);
}

static void test_lease_expiry(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id = enqueue(f, "k", "x");

    assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    /* extend keeps the job away from others */
    f->now += 900;
    assert_int_equal(store_job_extend(f->st, id, "w1", 1000, &e), MLC_OK);
    f->now += 500;
    assert_int_equal(claim(f, "w2", NULL, 1000, &j), MLC_ENOTFOUND);
    assert_int_equal(store_job_done(f->st, id, "w2", &e), MLC_ESTATE);
    /* expired, reclaimed by w2 with a second attempt */
    f->now += 501;
    assert_int_equal(claim(f, "w2", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, id);
    assert_int_equal(j.attempts, 2);
    assert_string_equal(j.owner, "w2");
    store_job_clear(&j);
    assert_int_equal(store_job_done(f->st, id, "w1", &e), MLC_ESTATE);
    assert_non_null(strstr(e.msg, "w2"));
    assert_int_equal(store_job_extend(f->st, id, "w1", 1000, &e), MLC_ESTATE);
    assert_int_equal(store_job_retry(f->st, id, "w1", "x", 5, NULL, &e),
                     MLC_ESTATE);
    assert_int_equal(store_job_hold(f->st, id, "w1", "x", &e), MLC_ESTATE);
    /* expired but not reclaimed: the owner may still finish it */
    f->now += 60000;
    assert_int_equal(store_job_done(f->st, id, "w2", &e), MLC_OK);
    assert_int_equal(job_state(f, id), STORE_JOB_DONE);
    assert_int_equal(store_job_done(f->st, id, "w2", &e), MLC_ESTATE);
}

/* d = min(base * 2^(attempt-1), cap) without overflow. */
static int64_t expected_ceiling(int attempt, int64_t base, int64_t cap)
{
    int64_t d = base < cap ? base : cap;

    for (int i = 1; i < attempt && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    return d;
}

static void test_backoff_pure(void **state)
{
    const int64_t base = 250, cap = 60000;
    uint32_t rnd = 12345;
    int64_t prev_max = 0;

    (void)state;
    for (int a = 1; a <= 80; a++) {
        int64_t d = expected_ceiling(a, base, cap);
        int64_t lo = INT64_MAX, hi = 0;

        assert_true(d >= prev_max);
        prev_max = d;
        assert_int_equal(store_backoff_ms(a, base, cap, 0), d - d / 2);
        assert_true(store_backoff_ms(a, base, cap, UINT32_MAX) <= d);
        for (int k = 0; k < 1000; k++) {
            int64_t v;

            rnd = rnd * 1664525u + 1013904223u;
            v = store_backoff_ms(a, base, cap, rnd);
            assert_true(v >= d - d / 2);
            assert_true(v <= d);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        assert_true(lo < hi); /* the jitter does vary */
    }
    assert_int_equal(expected_ceiling(3, base, cap), 1000);
    assert_int_equal(expected_ceiling(80, base, cap), cap);
    assert_int_equal(store_backoff_ms(1, 0, cap, 7), 0);
    assert_int_equal(store_backoff_ms(0, 100, 1000, 0), 50);
    assert_int_equal(store_backoff_ms(-3, 100, 1000, 0), 50);
    assert_int_equal(store_backoff_ms(1, 5000, 1000, 0), 500);
    assert_true(store_backoff_ms(INT_MAX, 1, INT64_MAX, UINT32_MAX) > 0);
}

static void test_retry_and_fail(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    bool failed = true;
    int64_t id = enqueue(f, "k", "x");

    store_set_backoff(f->st, 1000, 4000);
    for (int a = 1; a <= 4; a++) {
        int64_t d = expected_ceiling(a, 1000, 4000);

        assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_OK);
        assert_int_equal(j.attempts, a);
        store_job_clear(&j);
        assert_int_equal(store_job_retry(f->st, id, "w", "HTTP 503", 5,
                                         &failed, &e), MLC_OK);
        assert_false(failed);
        assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
        assert_int_equal(j.state, STORE_JOB_READY);
        assert_string_equal(j.last_error, "HTTP 503");
        assert_null(j.owner);
        assert_true(j.run_at - f->now >= d - d / 2);
        assert_true(j.run_at - f->now <= d);
        f->now = j.run_at - 1;
        store_job_clear(&j);
        assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_ENOTFOUND);
        f->now += 1;
    }
    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_OK);
    assert_int_equal(j.attempts, 5);
    store_job_clear(&j);
    assert_int_equal(store_job_retry(f->st, id, "w", "HTTP 500", 5, &failed,
                                     &e), MLC_OK);
    assert_true(failed);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_FAILED);
    assert_string_equal(j.last_error, "HTTP 500");
    store_job_clear(&j);
    f->now += 10000000;
    assert_int_equal(claim(f, "w", NULL, 100, &j), MLC_ENOTFOUND);
}

static void test_retry_absorbs_twin(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    int64_t id = enqueue(f, "k", "x"), twin;
    bool c;

    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    f->now += 10;
    twin = enqueue_at(f, "k", "x", 0, &c); /* seen while running */
    assert_false(c);
    assert_int_equal(store_job_retry(f->st, id, "w", "timeout", 5, NULL,
                                     NULL), MLC_OK);
    assert_int_equal(store_job_get(f->st, twin, &j, NULL), MLC_ENOTFOUND);
    assert_int_equal(count(f, STORE_JOB_READY), 1);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.run_at, f->now); /* the twin's run_at was earlier */
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);
}

/* A pause gives the attempt back, never fails the job, waits for the
 * recheck delay unless the system is resumed, and any other outcome or a
 * replay clears it. */
static void test_pause_resume(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id = enqueue(f, "order.sync", "order:1"), other, n = -1;
    bool failed = true;

    /* Far more pauses than max_attempts: still READY, attempts untouched. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
        assert_int_equal(j.attempts, 1);
        store_job_clear(&j);
        assert_int_equal(store_job_pause(f->st, id, "w", "jde", "AIS login failed",
                                         60000, &e), MLC_OK);
        assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
        assert_int_equal(j.state, STORE_JOB_READY);
        assert_int_equal(j.attempts, 0);
        assert_string_equal(j.paused_on, "jde");
        assert_string_equal(j.last_error, "AIS login failed");
        assert_int_equal(j.run_at, f->now + 60000);
        assert_null(j.owner);
        store_job_clear(&j);
        f->now += 60000; /* the recheck fallback */
    }
    assert_int_equal(count(f, STORE_JOB_FAILED), 0);

    /* Paused: not claimable before its run_at; counted per system. */
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_pause(f->st, id, "w", "jde", "AIS down", 60000, &e), MLC_OK);
    other = enqueue(f, "customer.sync", "customer:7");
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, other);
    store_job_clear(&j);
    assert_int_equal(store_job_pause(f->st, other, "w", "bigcommerce", "401", 60000, &e),
                     MLC_OK);
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_ENOTFOUND);
    assert_int_equal(store_jobs_paused_count(f->st, "jde", &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_jobs_paused_count(f->st, NULL, &n, &e), MLC_OK);
    assert_int_equal(n, 2);

    /* JDE answers again: only its jobs become due, at once. */
    f->now += 10;
    assert_int_equal(store_jobs_resume(f->st, "jde", &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_jobs_resume(f->st, "jde", &n, &e), MLC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_null(j.paused_on);
    assert_int_equal(j.run_at, f->now);
    store_job_clear(&j);
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, id);
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);
    assert_int_equal(store_job_done(f->st, id, "w", &e), MLC_OK);
    assert_int_equal(store_jobs_paused_count(f->st, "jde", &n, &e), MLC_OK);
    assert_int_equal(n, 0);

    /* A paused job woken by its fallback that then retries is no longer
     * paused (settling clears the mark). */
    f->now += 60000;
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, other);
    assert_string_equal(j.paused_on, "bigcommerce"); /* still marked while it runs */
    store_job_clear(&j);
    assert_int_equal(store_job_retry(f->st, other, "w", "HTTP 500", 5, &failed, &e), MLC_OK);
    assert_false(failed);
    assert_int_equal(store_job_get(f->st, other, &j, NULL), MLC_OK);
    assert_null(j.paused_on);
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);

    /* Lease rules as every outcome: another owner cannot pause. */
    f->now += 10000000;
    assert_int_equal(claim(f, "w2", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_pause(f->st, other, "w", "jde", "x", 1000, &e), MLC_ESTATE);
    assert_int_equal(store_job_pause(f->st, other, "w2", "", "x", 1000, &e), MLC_EINVAL);
    assert_int_equal(store_job_pause(f->st, other, "w2", "jde", "x", 0, &e), MLC_EINVAL);
    assert_int_equal(store_jobs_resume(f->st, NULL, &n, &e), MLC_EINVAL);
}

/* A pause folds a READY twin enqueued while the job ran, like a retry. */
static void test_pause_absorbs_twin(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    int64_t id = enqueue(f, "k", "x"), twin;

    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    f->now += 10;
    twin = enqueue(f, "k", "x");
    assert_int_equal(store_job_pause(f->st, id, "w", "jde", "down", 60000, NULL), MLC_OK);
    assert_int_equal(store_job_get(f->st, twin, &j, NULL), MLC_ENOTFOUND);
    assert_int_equal(count(f, STORE_JOB_READY), 1);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.attempts, 0);
    assert_string_equal(j.paused_on, "jde");
    store_job_clear(&j);
}

static void test_hold_replay(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id = enqueue(f, "order.sync", "order:7"), twin;

    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_hold(f->st, id, "w", "unknown SKU ABC-1", &e),
                     MLC_OK);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_HELD);
    assert_string_equal(j.last_error, "unknown SKU ABC-1");
    store_job_clear(&j);
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_ENOTFOUND);

    /* a new change for the held order makes a fresh job; replay merges */
    twin = enqueue(f, "order.sync", "order:7");
    assert_int_not_equal(twin, id);
    f->now += 50;
    assert_int_equal(store_job_replay(f->st, id, &e), MLC_OK);
    assert_int_equal(store_job_get(f->st, twin, &j, NULL), MLC_ENOTFOUND);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_READY);
    assert_int_equal(j.attempts, 0);
    assert_int_equal(j.run_at, T0); /* the earlier of now and the twin's */
    assert_string_equal(j.last_error, "unknown SKU ABC-1");
    store_job_clear(&j);
    assert_int_equal(store_job_replay(f->st, id, &e), MLC_ESTATE);
    assert_int_equal(store_job_replay(f->st, 4242, &e), MLC_ENOTFOUND);

    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, id);
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);
    assert_int_equal(store_job_done(f->st, id, "w", &e), MLC_OK);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_null(j.last_error);
    store_job_clear(&j);
    assert_int_equal(store_job_replay(f->st, id, &e), MLC_ESTATE);

    /* a hold without a reason still holds */
    id = enqueue(f, "order.sync", "order:8");
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_hold(f->st, id, "w", NULL, &e), MLC_OK);
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_HELD);
    assert_non_null(j.last_error);
    store_job_clear(&j);
}

/* Holding a job nobody works on (its kind has no handler): READY, or
 * RUNNING past its lease; never one under a live lease, nor a settled one. */
static void test_hold_idle(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t ready = enqueue(f, "customer.sync", "customer:7");
    int64_t live = enqueue(f, "catalog.sync", "product:1");
    int64_t stale = enqueue(f, "catalog.sync", "product:2");
    const char *const cat[] = { "catalog.sync", NULL };

    assert_int_equal(claim(f, "w1", cat, 60000, &j), MLC_OK);
    assert_int_equal(j.id, live);
    store_job_clear(&j);
    assert_int_equal(claim(f, "w2", cat, 1000, &j), MLC_OK);
    assert_int_equal(j.id, stale);
    store_job_clear(&j);
    f->now += 5000;              /* w2's lease ran out; w1's did not */

    assert_int_equal(store_job_hold_idle(f->st, ready, "no handler for kind customer.sync",
                                         &e), MLC_OK);
    assert_int_equal(store_job_get(f->st, ready, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_HELD);
    assert_int_equal(j.attempts, 0);
    assert_string_equal(j.last_error, "no handler for kind customer.sync");
    store_job_clear(&j);
    assert_int_equal(store_job_hold_idle(f->st, stale, "gone", &e), MLC_OK);
    assert_int_equal(store_job_get(f->st, stale, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_HELD);
    assert_int_equal(j.attempts, 1);
    assert_null(j.owner);
    store_job_clear(&j);
    assert_int_equal(store_job_hold(f->st, stale, "w2", "late", &e), MLC_ESTATE);

    assert_int_equal(store_job_hold_idle(f->st, live, "x", &e), MLC_ESTATE);
    assert_non_null(strstr(e.msg, "live lease"));
    assert_int_equal(store_job_get(f->st, live, &j, NULL), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_RUNNING);
    store_job_clear(&j);
    assert_int_equal(store_job_hold_idle(f->st, ready, "again", &e), MLC_ESTATE);
    assert_int_equal(store_job_hold_idle(f->st, 4242, "x", &e), MLC_ENOTFOUND);
    assert_int_equal(store_job_hold_idle(f->st, 0, "x", &e), MLC_EINVAL);
    /* held jobs replay like any other */
    assert_int_equal(store_job_replay(f->st, ready, &e), MLC_OK);
}

struct walk {
    struct store *st;
    int64_t       ids[16];
    size_t        n;
    size_t        stop_after; /* 0: never */
    int           inner_rc;
};

static int walk_job(const struct store_job *j, void *ctx)
{
    struct walk *w = ctx;

    if (w->n < 16)
        w->ids[w->n] = j->id;
    w->n++;
    return w->stop_after != 0 && w->n >= w->stop_after;
}

static int walk_reenter(const struct store_job *j, void *ctx)
{
    struct walk *w = ctx;

    (void)j;
    w->inner_rc = store_job_list(w->st, -1, 0, walk_job, w, NULL);
    return 1;
}

static void test_job_list(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct walk w = { .st = f->st };
    int64_t ids[5];

    for (int i = 0; i < 5; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%d", i);
        ids[i] = enqueue(f, "k", key);
    }
    assert_int_equal(claim(f, "w", NULL, 1000, &j), MLC_OK);
    assert_int_equal(store_job_done(f->st, j.id, "w", NULL), MLC_OK);
    store_job_clear(&j);

    assert_int_equal(store_job_list(f->st, STORE_JOB_READY, 0, walk_job, &w,
                                    NULL), MLC_OK);
    assert_int_equal(w.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w.ids[i], ids[i + 1]);
    w.n = 0;
    assert_int_equal(store_job_list(f->st, -1, 2, walk_job, &w, NULL),
                     MLC_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.ids[0], ids[0]);
    w.n = 0;
    w.stop_after = 3;
    assert_int_equal(store_job_list(f->st, -1, 0, walk_job, &w, NULL),
                     MLC_OK);
    assert_int_equal(w.n, 3);
    w.n = 0;
    assert_int_equal(store_job_list(f->st, STORE_JOB_DONE, 0, walk_job, &w,
                                    NULL), MLC_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(store_job_list(f->st, 17, 0, walk_job, &w, NULL),
                     MLC_EINVAL);
    assert_int_equal(store_job_list(f->st, -1, 0, walk_reenter, &w, NULL),
                     MLC_OK);
    assert_int_equal(w.inner_rc, MLC_ESTATE);
}

/* ---- events ------------------------------------------------------------ */

static void test_event_dedupe(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    bool ins = false;
    struct store_event ev = {
        .source = "bigcommerce", .dedupe_key = "hash-1",
        .kind = "store/order/updated", .resource = "order:105",
        .payload = "{\"id\":105}",
    };

    assert_int_equal(store_event_ingest(f->st, &ev, "order.sync", &ins, &e),
                     MLC_OK);
    assert_true(ins);
    assert_int_equal(store_event_ingest(f->st, &ev, "order.sync", &ins, &e),
                     MLC_OK);
    assert_false(ins);
    assert_int_equal(count(f, STORE_JOB_READY), 1);

    ev.dedupe_key = "hash-2"; /* another change of the same order */
    assert_int_equal(store_event_ingest(f->st, &ev, "order.sync", &ins, &e),
                     MLC_OK);
    assert_true(ins);
    assert_int_equal(count(f, STORE_JOB_READY), 1);

    ev.dedupe_key = "hash-3";
    ev.payload = NULL;
    assert_int_equal(store_event_ingest(f->st, &ev, NULL, &ins, &e), MLC_OK);
    assert_true(ins);
    assert_int_equal(count(f, STORE_JOB_READY), 1);

    ev.dedupe_key = "hash-4";
    ev.resource = NULL;
    assert_int_equal(store_event_ingest(f->st, &ev, "order.sync", &ins, &e),
                     MLC_EINVAL);
    assert_int_equal(store_event_ingest(f->st, &ev, NULL, NULL, &e), MLC_OK);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events"), 4);
}

/* ---- transactions and watermarks --------------------------------------- */

static void test_watermarks(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    char buf[32];

    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_ENOTFOUND);
    assert_int_equal(store_watermark_set(f->st, "bc.orders",
                                         "2026-01-01T00:00:00Z", &e), MLC_OK);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_OK);
    assert_string_equal(buf, "2026-01-01T00:00:00Z");
    assert_int_equal(store_watermark_set(f->st, "bc.orders", "42", &e),
                     MLC_OK);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_OK);
    assert_string_equal(buf, "42");
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf, 2, &e),
                     MLC_ERANGE);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf, 3, &e),
                     MLC_OK);
}

static void test_transactions(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    char buf[32];

    assert_int_equal(store_tx_commit(f->st, &e), MLC_ESTATE);
    store_tx_rollback(f->st); /* no-op */

    /* watermark and jobs roll back together */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    enqueue(f, "order.sync", "order:1");
    assert_int_equal(store_watermark_set(f->st, "bc.orders", "100", &e),
                     MLC_OK);
    store_tx_rollback(f->st);
    assert_int_equal(count(f, STORE_JOB_READY), 0);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_ENOTFOUND);

    /* ...and commit together; a failing call inside does not spoil it */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    enqueue(f, "order.sync", "order:1");
    assert_int_equal(store_ledger_begin(f->st, "K", "sale", "order:1", NULL,
                                        &e), MLC_OK);
    assert_int_equal(store_ledger_begin(f->st, "K", "sale", "order:1", NULL,
                                        &e), MLC_EEXIST);
    assert_int_equal(store_watermark_set(f->st, "bc.orders", "100", &e),
                     MLC_OK);
    assert_int_equal(store_tx_commit(f->st, &e), MLC_OK);
    assert_int_equal(count(f, STORE_JOB_READY), 1);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_OK);
    assert_string_equal(buf, "100");
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM ledger"), 1);

    /* nested: the inner rollback undoes only its part */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    enqueue(f, "order.sync", "order:2");
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    enqueue(f, "order.sync", "order:3");
    store_tx_rollback(f->st);
    assert_int_equal(store_tx_commit(f->st, &e), MLC_OK);
    assert_int_equal(count(f, STORE_JOB_READY), 2);

    /* close rolls back an open transaction */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    assert_int_equal(store_watermark_set(f->st, "bc.orders", "200", &e),
                     MLC_OK);
    store_close(f->st);
    assert_int_equal(fx_open(f, &f->st), MLC_OK);
    assert_int_equal(store_watermark_get(f->st, "bc.orders", buf,
                                         sizeof(buf), &e), MLC_OK);
    assert_string_equal(buf, "100");
}

/* ---- ledger ------------------------------------------------------------ */

struct keys {
    char   keys[8][16];
    size_t n;
};

static int collect_ledger(const struct store_ledger *l, void *ctx)
{
    struct keys *k = ctx;

    if (k->n < 8)
        snprintf(k->keys[k->n], sizeof(k->keys[0]), "%s", l->key);
    k->n++;
    return 0;
}

static void test_ledger(void **state)
{
    struct fx *f = *state;
    struct store_ledger l;
    struct mlc_err e = {0};
    struct keys k = {0};

    assert_int_equal(store_ledger_begin(f->st, "BC105S", "sale", "order:105",
                                        "{\"lines\":2}", &e), MLC_OK);
    assert_int_equal(store_ledger_get(f->st, "BC105S", &l, &e), MLC_OK);
    assert_int_equal(l.state, STORE_LEDGER_PENDING);
    assert_string_equal(l.kind, "sale");
    assert_string_equal(l.entity, "order:105");
    assert_string_equal(l.request, "{\"lines\":2}");
    assert_null(l.doc_type);
    assert_int_equal(l.doc_number, 0);
    assert_int_equal(l.created_at, T0);
    store_ledger_clear(&l);
    assert_int_equal(store_ledger_begin(f->st, "BC105S", "sale", "order:105",
                                        NULL, &e), MLC_EEXIST);

    f->now += 5;
    assert_int_equal(store_ledger_mark_unknown(f->st, "BC105S", &e), MLC_OK);
    assert_int_equal(store_ledger_get(f->st, "BC105S", &l, &e), MLC_OK);
    assert_int_equal(l.state, STORE_LEDGER_UNKNOWN);
    assert_int_equal(l.updated_at, T0 + 5);
    store_ledger_clear(&l);
    assert_int_equal(store_ledger_mark_posted(f->st, "BC105S", "RI", "00001",
                                              123456, 789, &e), MLC_OK);
    assert_int_equal(store_ledger_get(f->st, "BC105S", &l, &e), MLC_OK);
    assert_int_equal(l.state, STORE_LEDGER_POSTED);
    assert_string_equal(l.doc_type, "RI");
    assert_string_equal(l.doc_company, "00001");
    assert_int_equal(l.doc_number, 123456);
    assert_int_equal(l.batch, 789);
    store_ledger_clear(&l);
    assert_int_equal(store_ledger_mark_unknown(f->st, "BC105S", &e),
                     MLC_ESTATE);
    assert_int_equal(store_ledger_mark_posted(f->st, "BC105S", "RI", "00001",
                                              999, 1, &e), MLC_ESTATE);
    assert_int_equal(store_ledger_forget(f->st, "BC105S", &e), MLC_ESTATE);

    assert_int_equal(store_ledger_begin(f->st, "BC105R1", "refund",
                                        "order:105", NULL, &e), MLC_OK);
    assert_int_equal(store_ledger_forget(f->st, "BC105R1", &e), MLC_OK);
    assert_int_equal(store_ledger_get(f->st, "BC105R1", &l, &e),
                     MLC_ENOTFOUND);
    assert_int_equal(store_ledger_forget(f->st, "BC105R1", &e),
                     MLC_ENOTFOUND);
    assert_int_equal(store_ledger_mark_unknown(f->st, "nope", &e),
                     MLC_ENOTFOUND);

    f->now += 5;
    assert_int_equal(store_ledger_begin(f->st, "BC106S", "sale", "order:106",
                                        NULL, &e), MLC_OK);
    assert_int_equal(store_ledger_list(f->st, "order:105", collect_ledger, &k,
                                       &e), MLC_OK);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.keys[0], "BC105S");
    k.n = 0;
    assert_int_equal(store_ledger_list(f->st, NULL, collect_ledger, &k, &e),
                     MLC_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.keys[1], "BC106S");
}

/* ---- audit ------------------------------------------------------------- */

struct audit_seen {
    size_t  n;
    int64_t last_id;
    char    actions[4][16];
    bool    ordered;
};

static int collect_audit(const struct store_audit *a, void *ctx)
{
    struct audit_seen *s = ctx;

    if (a->id <= s->last_id)
        s->ordered = false;
    s->last_id = a->id;
    if (s->n < 4)
        snprintf(s->actions[s->n], sizeof(s->actions[0]), "%s", a->action);
    s->n++;
    return 0;
}

static void test_audit_append_only(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    struct audit_seen s = { .ordered = true };
    struct store_audit a = { .actor = "worker:1", .entity = "order:105",
                             .action = "fetch", .outcome = "ok" };
    char msg[200];

    assert_int_equal(store_audit_add(f->st, &a, &e), MLC_OK);
    a.action = "post";
    a.detail = "{\"doc\":123456}";
    assert_int_equal(store_audit_add(f->st, &a, &e), MLC_OK);
    a.entity = "hook:12";
    a.action = "verify";
    a.outcome = "error";
    a.detail = NULL;
    assert_int_equal(store_audit_add(f->st, &a, &e), MLC_OK);
    a.actor = NULL;
    assert_int_equal(store_audit_add(f->st, &a, &e), MLC_EINVAL);

    assert_int_equal(store_audit_list(f->st, NULL, 0, collect_audit, &s, &e),
                     MLC_OK);
    assert_int_equal(s.n, 3);
    assert_true(s.ordered);
    assert_string_equal(s.actions[0], "fetch");
    assert_string_equal(s.actions[2], "verify");
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_audit_list(f->st, "order:105", 0, collect_audit,
                                      &s, &e), MLC_OK);
    assert_int_equal(s.n, 2);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_audit_list(f->st, NULL, 1, collect_audit, &s, &e),
                     MLC_OK);
    assert_int_equal(s.n, 1);

    assert_int_not_equal(raw_exec(f->path, "UPDATE audit SET outcome = 'ok'",
                                  msg, sizeof(msg)), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    assert_int_not_equal(raw_exec(f->path, "DELETE FROM audit WHERE id = 1",
                                  msg, sizeof(msg)), SQLITE_OK);
    assert_int_not_equal(raw_exec(f->path, "DELETE FROM audit", msg,
                                  sizeof(msg)), SQLITE_OK);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 3);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"
                             " WHERE outcome = 'error'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT min(at) FROM audit"), T0);
}

/* ---- secrets ----------------------------------------------------------- */

struct names {
    char    names[4][16];
    int64_t at[4];
    size_t  n;
};

static int collect_secret(const char *name, int64_t updated_at, void *ctx)
{
    struct names *s = ctx;

    if (s->n < 4) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
        s->at[s->n] = updated_at;
    }
    s->n++;
    return 0;
}

static void test_secrets(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    struct names s = {0};
    const unsigned char ct[] = { 1, 0, 2, 0xff, 0, 9 };
    void *blob = NULL;
    size_t len = 99;

    assert_int_equal(store_secret_get(f->st, "bc.token", &blob, &len, &e),
                     MLC_ENOTFOUND);
    assert_null(blob);
    assert_int_equal(store_secret_put(f->st, "bc.token", ct, sizeof(ct), &e),
                     MLC_OK);
    assert_int_equal(store_secret_get(f->st, "bc.token", &blob, &len, &e),
                     MLC_OK);
    assert_int_equal(len, sizeof(ct));
    assert_memory_equal(blob, ct, sizeof(ct));
    free(blob);

    f->now += 7;
    assert_int_equal(store_secret_put(f->st, "bc.token", ct, 3, &e), MLC_OK);
    assert_int_equal(store_secret_put(f->st, "ais.password", ct, 0, &e),
                     MLC_OK);
    assert_int_equal(store_secret_get(f->st, "ais.password", &blob, &len, &e),
                     MLC_OK);
    assert_int_equal(len, 0);
    assert_non_null(blob);
    free(blob);
    assert_int_equal(store_secret_get(f->st, "bc.token", &blob, &len, &e),
                     MLC_OK);
    assert_int_equal(len, 3);
    free(blob);

    assert_int_equal(store_secret_list(f->st, collect_secret, &s, &e),
                     MLC_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "ais.password");
    assert_string_equal(s.names[1], "bc.token");
    assert_int_equal(s.at[1], T0 + 7);

    assert_int_equal(store_secret_delete(f->st, "bc.token", &e), MLC_OK);
    assert_int_equal(store_secret_delete(f->st, "bc.token", &e),
                     MLC_ENOTFOUND);
    assert_int_equal(store_secret_get(f->st, "bc.token", &blob, &len, &e),
                     MLC_ENOTFOUND);
    assert_int_equal(store_secret_put(f->st, "x", NULL, 4, &e), MLC_EINVAL);
}

/* ---- migrations -------------------------------------------------------- */

static void test_migrations(void **state)
{
    struct fx *f = *state;
    struct store *st = NULL;
    struct mlc_err e = {0};
    char sql[128];
    int v = 0, v2 = 0;
    int64_t applied;

    assert_int_equal(store_schema_version(f->st, &v, &e), MLC_OK);
    applied = raw_int(f->path, "SELECT max(applied_at) FROM schema_version");
    assert_int_equal(store_watermark_set(f->st, "w", "1", &e), MLC_OK);
    store_close(f->st);
    f->st = NULL;

    /* reopening applies nothing again and keeps the data */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fx_open(f, &f->st), MLC_OK);
        assert_int_equal(store_schema_version(f->st, &v2, &e), MLC_OK);
        assert_int_equal(v2, v);
        store_close(f->st);
        f->st = NULL;
    }
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_version"),
                     v);
    assert_int_equal(raw_int(f->path, "SELECT max(applied_at)"
                             " FROM schema_version"), applied);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM watermarks"), 1);

    /* a database from a newer mlc is refused */
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)",
             v + 1);
    assert_int_equal(raw_exec(f->path, sql, NULL, 0), SQLITE_OK);
    assert_int_equal(store_open(f->path, &st, &e), MLC_ESTATE);
    assert_null(st);
    assert_non_null(strstr(e.msg, "newer"));
    snprintf(sql, sizeof(sql), "DELETE FROM schema_version WHERE version = %d",
             v + 1);
    assert_int_equal(raw_exec(f->path, sql, NULL, 0), SQLITE_OK);
    assert_int_equal(fx_open(f, &f->st), MLC_OK);
}

/* ---- concurrency ------------------------------------------------------- */

#define CONC_JOBS    200
#define CONC_THREADS 4

struct conc {
    const char *path;
    int         claimed[CONC_JOBS + 1]; /* by job id */
    int         errors;
    char        msg[MLC_ERR_MSG_MAX];
};

struct worker {
    struct conc *c;
    int          n;
};

static void conc_error(struct conc *c, const struct mlc_err *e)
{
    if (__atomic_fetch_add(&c->errors, 1, __ATOMIC_SEQ_CST) == 0)
        snprintf(c->msg, sizeof(c->msg), "%s", e->msg);
}

/* Claims and completes jobs on its own connection until none is left. */
static void *conc_worker(void *arg)
{
    struct worker *w = arg;
    struct store *st = NULL;
    struct store_job j;
    struct mlc_err e = {0};
    char owner[16];
    int rc, busy = 0;

    snprintf(owner, sizeof(owner), "t%d", w->n);
    if (store_open(w->c->path, &st, &e) != MLC_OK) {
        conc_error(w->c, &e);
        return NULL;
    }
    while ((rc = store_job_claim(st, owner, NULL, 600000, &j, &e)) !=
           MLC_ENOTFOUND) {
        if (rc == MLC_EBUSY && busy++ < 100)
            continue;
        if (rc != MLC_OK) {
            conc_error(w->c, &e);
            break;
        }
        if (j.id >= 1 && j.id <= CONC_JOBS)
            __atomic_fetch_add(&w->c->claimed[j.id], 1, __ATOMIC_SEQ_CST);
        rc = store_job_done(st, j.id, owner, &e);
        store_job_clear(&j);
        if (rc != MLC_OK) {
            conc_error(w->c, &e);
            break;
        }
    }
    store_close(st);
    return NULL;
}

static void test_concurrent_claims(void **state)
{
    struct fx *f = *state;
    struct conc *c = calloc(1, sizeof(*c));
    struct worker w[CONC_THREADS];
    pthread_t t[CONC_THREADS];

    assert_non_null(c);
    c->path = f->path;
    assert_int_equal(store_tx_begin(f->st, NULL), MLC_OK);
    for (int i = 0; i < CONC_JOBS; i++) {
        char key[16];

        snprintf(key, sizeof(key), "order:%d", i);
        enqueue(f, "order.sync", key);
    }
    assert_int_equal(store_tx_commit(f->st, NULL), MLC_OK);
    /* the workers use the real clock: make the jobs due for it */
    store_set_clock(f->st, NULL, NULL);

    for (int i = 0; i < CONC_THREADS; i++) {
        w[i] = (struct worker){ .c = c, .n = i };
        assert_int_equal(pthread_create(&t[i], NULL, conc_worker, &w[i]), 0);
    }
    for (int i = 0; i < CONC_THREADS; i++)
        pthread_join(t[i], NULL);
    if (c->errors != 0)
        fail_msg("%d worker errors, first: %s", c->errors, c->msg);
    for (int id = 1; id <= CONC_JOBS; id++)
        assert_int_equal(c->claimed[id], 1);
    assert_int_equal(count(f, STORE_JOB_DONE), CONC_JOBS);
    free(c);
}

/* ---- crash consistency ------------------------------------------------- */

#define CRASH_JOBS 400

/* Kill points: inside the transaction after job i (< CRASH_JOBS), after the
 * watermark, while committing (either outcome is fine), after commit. */
enum { KILL_AFTER_WM = CRASH_JOBS, KILL_COMMITTING, KILL_COMMITTED };

static void child_wait_for_death(int wfd)
{
    if (write(wfd, "x", 1) != 1)
        _exit(3);
    for (;;)
        pause();
}

/* Runs in the forked child: one big transaction, stopped at kill_at. */
static void crash_child(const char *path, int round, int kill_at, int wfd)
{
    struct store *st = NULL;
    char key[32], name[32], payload[256];

    memset(payload, 'p', sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    if (store_open(path, &st, NULL) != MLC_OK ||
        store_tx_begin(st, NULL) != MLC_OK)
        _exit(2);
    for (int i = 0; i < CRASH_JOBS; i++) {
        snprintf(key, sizeof(key), "r%d-%d", round, i);
        if (store_job_enqueue(st, "crash", key, payload, 0, NULL, NULL,
                              NULL) != MLC_OK)
            _exit(2);
        if (i == kill_at)
            child_wait_for_death(wfd);
    }
    snprintf(name, sizeof(name), "crash-%d", round);
    if (store_watermark_set(st, name, "done", NULL) != MLC_OK)
        _exit(2);
    if (kill_at == KILL_AFTER_WM)
        child_wait_for_death(wfd);
    if (kill_at == KILL_COMMITTING && write(wfd, "x", 1) != 1)
        _exit(3);
    if (store_tx_commit(st, NULL) != MLC_OK)
        _exit(2);
    if (kill_at == KILL_COMMITTED)
        child_wait_for_death(wfd);
    _exit(0);
}

/* Forks the writer, kills it at kill_at, checks what survived: all of the
 * transaction or nothing. Returns how many jobs of the round exist. */
static int64_t crash_round(struct fx *f, int round, int kill_at)
{
    int p[2], status = 0;
    char byte, sql[128], name[32], buf[16];
    pid_t pid;
    int64_t jobs;
    int wm;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        crash_child(f->path, round, kill_at, p[1]);
    }
    close(p[1]);
    assert_int_equal(read(p[0], &byte, 1), 1);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(p[0]);
    assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) == 0);

    assert_int_equal(fx_open(f, &f->st), MLC_OK);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM jobs WHERE key LIKE 'r%d-%%'", round);
    jobs = raw_int(f->path, sql);
    snprintf(name, sizeof(name), "crash-%d", round);
    wm = store_watermark_get(f->st, name, buf, sizeof(buf), NULL);
    assert_true((jobs == 0 && wm == MLC_ENOTFOUND) ||
                (jobs == CRASH_JOBS && wm == MLC_OK));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"
                             " WHERE state <> 'ready'"), 0);
    assert_int_equal(raw_exec(f->path, "PRAGMA integrity_check", NULL, 0),
                     SQLITE_OK);
    assert_int_equal(raw_int(f->path, "SELECT count(*)"
                             " FROM pragma_integrity_check"
                             " WHERE integrity_check <> 'ok'"), 0);
    store_close(f->st);
    f->st = NULL;
    return jobs;
}

static void test_crash_consistency(void **state)
{
    struct fx *f = *state;
    const int points[] = { 0, 1, CRASH_JOBS / 2, CRASH_JOBS - 1,
                           KILL_AFTER_WM, KILL_COMMITTING, KILL_COMMITTED,
                           7, KILL_COMMITTING, KILL_COMMITTED };
    int64_t expect = 0;

    /* No connection may cross the fork: the parent's is closed first. */
    store_close(f->st);
    f->st = NULL;
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        int64_t got = crash_round(f, (int)i, points[i]);

        if (points[i] < KILL_COMMITTING)
            assert_int_equal(got, 0);
        if (points[i] == KILL_COMMITTED)
            assert_int_equal(got, CRASH_JOBS);
        expect += got;
    }
    assert_int_equal(fx_open(f, &f->st), MLC_OK);
    assert_int_equal(count(f, STORE_JOB_READY), expect);
}

/* ---- batch claims ------------------------------------------------------ */

static void clear_jobs(struct store_job *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_job_clear(&v[i]);
}

/* Up to max jobs of the kinds asked, oldest first, in one call; future
 * jobs, other kinds and live keys stay; nothing left gives ENOTFOUND. */
static void test_claim_batch(void **state)
{
    struct fx *f = *state;
    const char *const kinds[] = { "order.sync", NULL };
    struct store_job v[8];
    struct mlc_err e = {0};
    int64_t a = enqueue_at(f, "order.sync", "order:1", T0 - 30, NULL);
    int64_t b = enqueue_at(f, "order.sync", "order:2", T0 - 20, NULL);
    int64_t c = enqueue_at(f, "order.sync", "order:3", T0 - 10, NULL);
    int64_t other = enqueue(f, "noop", "x");
    int64_t later = enqueue_at(f, "order.sync", "order:4", T0 + 60000, NULL);
    size_t n = 99;

    assert_int_equal(store_job_claim_batch(f->st, "w1", kinds, 1000, 2, v, &n, &e),
                     MLC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, a);
    assert_int_equal(v[1].id, b);
    assert_int_equal(v[0].state, STORE_JOB_RUNNING);
    assert_string_equal(v[1].owner, "w1");
    assert_int_equal(v[1].attempts, 1);
    assert_int_equal(v[1].lease_until, T0 + 1000);
    clear_jobs(v, n);
    assert_int_equal(store_job_claim_batch(f->st, "w2", kinds, 1000, 8, v, &n, &e),
                     MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, c);
    clear_jobs(v, n);
    assert_int_equal(store_job_claim_batch(f->st, "w2", kinds, 1000, 8, v, &n, &e),
                     MLC_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(job_state(f, other), STORE_JOB_READY);
    assert_int_equal(job_state(f, later), STORE_JOB_READY);
    /* Each job settles on its own. */
    assert_int_equal(store_job_done(f->st, a, "w1", &e), MLC_OK);
    assert_int_equal(store_job_hold(f->st, b, "w1", "why", &e), MLC_OK);
    assert_int_equal(store_job_retry(f->st, c, "w2", "later", 5, NULL, &e), MLC_OK);
    assert_int_equal(job_state(f, a), STORE_JOB_DONE);
    assert_int_equal(job_state(f, b), STORE_JOB_HELD);
    assert_int_equal(job_state(f, c), STORE_JOB_READY);
    /* Any kind; bad arguments. */
    assert_int_equal(store_job_claim_batch(f->st, "w3", NULL, 1000, 8, v, &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, other);
    clear_jobs(v, n);
    assert_int_equal(store_job_claim_batch(f->st, "w3", NULL, 1000, 0, v, &n, &e),
                     MLC_EINVAL);
    assert_int_equal(store_job_claim_batch(f->st, "w3", NULL, 0, 8, v, &n, &e), MLC_EINVAL);
    assert_int_equal(store_job_claim_batch(f->st, "w3", NULL, 1000, 8, NULL, &n, &e),
                     MLC_EINVAL);
}

/* A READY job and an expired RUNNING one of the same key: one claim takes
 * only one of them (never two live jobs of one key); the other waits. */
static void test_claim_batch_one_per_key(void **state)
{
    struct fx *f = *state;
    struct store_job v[4], j;
    struct mlc_err e = {0};
    int64_t first = enqueue(f, "order.sync", "order:7");
    int64_t second, third;
    size_t n = 0;

    assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, first);
    store_job_clear(&j);
    second = enqueue(f, "order.sync", "order:7"); /* RUNNING does not coalesce */
    assert_int_not_equal(second, first);
    third = enqueue(f, "order.sync", "order:8");
    /* While the lease lives, only order:8 is claimable. */
    assert_int_equal(store_job_claim_batch(f->st, "w2", NULL, 1000, 4, v, &n, &e), MLC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, third);
    clear_jobs(v, n);
    /* Lease gone: the expired job or the ready one, not both. */
    f->now += 1001;
    assert_int_equal(store_job_claim_batch(f->st, "w2", NULL, 1000, 4, v, &n, &e), MLC_OK);
    assert_int_equal(n, 2); /* one of order:7 and the expired order:8 */
    assert_string_not_equal(v[0].key, v[1].key);
    for (size_t i = 0; i < n; i++)
        assert_true(v[i].id == first || v[i].id == second || v[i].id == third);
    clear_jobs(v, n);
    assert_int_equal(store_job_claim_batch(f->st, "w3", NULL, 1000, 4, v, &n, &e),
                     MLC_ENOTFOUND);
}

/* Fencing: with a fence, ledger writes need a live claim of the entity's
 * job by the fence's owner, checked in the write's own transaction. A
 * worker whose job was taken over cannot record anything any more. */
static void test_ledger_fence(void **state)
{
    struct fx *f = *state;
    struct store_ledger l;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id = enqueue(f, "order.sync", "order:7");

    assert_int_equal(store_fence(f->st, "w1", &e), MLC_OK);
    /* No claim yet: nothing may be written. */
    assert_int_equal(store_ledger_begin(f->st, "BC7S", "sale", "order:7", "{}", &e),
                     MLC_ESTATE);
    assert_non_null(strstr(e.msg, "lease lost"));
    assert_int_equal(store_ledger_get(f->st, "BC7S", &l, &e), MLC_ENOTFOUND);
    /* w1 holds the job: it writes. */
    assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_OK);
    assert_int_equal(j.id, id);
    store_job_clear(&j);
    assert_int_equal(store_ledger_begin(f->st, "BC7S", "sale", "order:7", "{}", &e), MLC_OK);
    assert_int_equal(store_ledger_mark_unknown(f->st, "BC7S", &e), MLC_OK);
    /* w1 stalls past its lease; w2 takes the job over. */
    f->now += 1001;
    assert_int_equal(claim(f, "w2", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_ledger_mark_posted(f->st, "BC7S", "JE", "00001", 1, 1, &e),
                     MLC_ESTATE);
    assert_int_equal(store_ledger_forget(f->st, "BC7S", &e), MLC_ESTATE);
    assert_int_equal(store_ledger_mark_unknown(f->st, "BC7S", &e), MLC_ESTATE);
    assert_int_equal(store_ledger_begin(f->st, "BC7R1", "refund", "order:7", "{}", &e),
                     MLC_ESTATE);
    assert_int_equal(store_ledger_get(f->st, "BC7S", &l, &e), MLC_OK);
    assert_int_equal(l.state, STORE_LEDGER_UNKNOWN); /* untouched */
    store_ledger_clear(&l);
    /* The new owner's writes go through. */
    assert_int_equal(store_fence(f->st, "w2", &e), MLC_OK);
    assert_int_equal(store_ledger_mark_posted(f->st, "BC7S", "JE", "00001", 1, 1, &e), MLC_OK);
    /* Another entity's job does not open this one. */
    assert_int_equal(store_ledger_begin(f->st, "BC8S", "sale", "order:8", "{}", &e),
                     MLC_ESTATE);
    /* Without a fence (the CLI) nothing is checked. */
    assert_int_equal(store_fence(f->st, NULL, &e), MLC_OK);
    assert_int_equal(store_ledger_begin(f->st, "BC8S", "sale", "order:8", "{}", &e), MLC_OK);
}

/* A deferred job waits until its time and keeps its attempt. */
static void test_defer(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t id = enqueue(f, "k", "x");

    for (int round = 0; round < 3; round++) {
        assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_OK);
        assert_int_equal(j.attempts, 1);
        store_job_clear(&j);
        assert_int_equal(store_job_defer(f->st, id, "w1", f->now + 5000, "in doubt", &e),
                         MLC_OK);
        assert_int_equal(job_state(f, id), STORE_JOB_READY);
        f->now += 4999;
        assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_ENOTFOUND);
        f->now += 1;
    }
    assert_int_equal(store_job_get(f->st, id, &j, &e), MLC_OK);
    assert_string_equal(j.last_error, "in doubt");
    store_job_clear(&j);
    /* Only the lease holder defers. */
    assert_int_equal(claim(f, "w1", NULL, 1000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(store_job_defer(f->st, id, "w2", f->now + 10, "x", &e), MLC_ESTATE);
}

/* A restarted daemon frees the leases its dead predecessor left: the jobs
 * are claimable at once, not after a whole lease. */
static void test_release_leases(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct mlc_err e = {0};
    int64_t n = -1, a = enqueue(f, "k", "a"), b = enqueue(f, "k", "b");

    enqueue(f, "k", "c");
    assert_int_equal(claim(f, "dead:1:w1", NULL, 300000, &j), MLC_OK);
    store_job_clear(&j);
    assert_int_equal(claim(f, "dead:1:w2", NULL, 300000, &j), MLC_OK);
    store_job_clear(&j);
    /* A READY twin of a running job is absorbed, never duplicated. */
    enqueue(f, "k", "a");
    assert_int_equal(store_job_release_leases(f->st, &n, &e), MLC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(count(f, STORE_JOB_RUNNING), 0);
    assert_int_equal(count(f, STORE_JOB_READY), 3);
    assert_int_equal(claim(f, "new:2:w1", NULL, 1000, &j), MLC_OK);
    assert_true(j.id == a || j.id == b);
    assert_int_equal(j.attempts, 2);   /* the crash counted */
    store_job_clear(&j);
}

/* A named lease: one holder at a time, renewals keep the token, a takeover
 * after expiry bumps it and fences the old holder out. */
static void test_named_leases(void **state)
{
    struct fx *f = *state;
    struct store_lease l;
    struct mlc_err e = {0};
    int64_t t1 = 0, t2 = 0, t3 = 0;

    assert_int_equal(store_lease_get(f->st, "leader", &l, &e), MLC_ENOTFOUND);
    assert_int_equal(store_lease_take(f->st, "leader", "a:1", 1000, &t1, &e), MLC_OK);
    assert_int_equal(t1, 1);
    /* Someone else must wait for the lease to end. */
    assert_int_equal(store_lease_take(f->st, "leader", "b:2", 1000, &t2, &e), MLC_EBUSY);
    assert_int_equal(t2, 0);
    /* A renewal moves the end and keeps the token. */
    f->now += 900;
    assert_int_equal(store_lease_take(f->st, "leader", "a:1", 1000, &t2, &e), MLC_OK);
    assert_int_equal(t2, t1);
    f->now += 900;
    assert_int_equal(store_lease_take(f->st, "leader", "b:2", 1000, &t3, &e), MLC_EBUSY);
    assert_int_equal(store_lease_get(f->st, "leader", &l, &e), MLC_OK);
    assert_string_equal(l.name, "leader");
    assert_string_equal(l.holder, "a:1");
    assert_int_equal(l.until, T0 + 900 + 1000);
    assert_int_equal(l.token, 1);
    store_lease_clear(&l);
    /* Expired but not taken over: still a:1's, its writes still pass. */
    f->now += 200;
    assert_int_equal(store_lease_check(f->st, "leader", "a:1", t1, &e), MLC_OK);
    /* Taken over: a new token, and a:1 is fenced out. */
    assert_int_equal(store_lease_take(f->st, "leader", "b:2", 1000, &t3, &e), MLC_OK);
    assert_int_equal(t3, 2);
    assert_int_equal(store_lease_check(f->st, "leader", "a:1", t1, &e), MLC_ESTATE);
    assert_non_null(strstr(e.msg, "lost"));
    assert_int_equal(store_lease_check(f->st, "leader", "b:2", t1, &e), MLC_ESTATE);
    assert_int_equal(store_lease_check(f->st, "leader", "b:2", t3, &e), MLC_OK);
    /* A drop by someone else does nothing; b's own drop frees it at once. */
    assert_int_equal(store_lease_drop(f->st, "leader", "a:1", &e), MLC_OK);
    assert_int_equal(store_lease_take(f->st, "leader", "a:1", 1000, &t2, &e), MLC_EBUSY);
    assert_int_equal(store_lease_drop(f->st, "leader", "b:2", &e), MLC_OK);
    assert_int_equal(store_lease_check(f->st, "leader", "b:2", t3, &e), MLC_ESTATE);
    assert_int_equal(store_lease_take(f->st, "leader", "a:1", 1000, &t2, &e), MLC_OK);
    assert_int_equal(t2, 3);
    /* Leases are independent of each other. */
    assert_int_equal(store_lease_take(f->st, "other", "b:2", 1000, &t3, &e), MLC_OK);
    assert_int_equal(t3, 1);
    /* Bad arguments. */
    assert_int_equal(store_lease_take(f->st, "", "a:1", 1000, &t2, &e), MLC_EINVAL);
    assert_int_equal(store_lease_take(f->st, "x", NULL, 1000, &t2, &e), MLC_EINVAL);
    assert_int_equal(store_lease_take(f->st, "x", "a:1", 0, &t2, &e), MLC_EINVAL);
    assert_int_equal(store_lease_check(f->st, "x", "a:1", 0, &e), MLC_EINVAL);
}

/* The check fences writes made in the same transaction. */
static void test_lease_fences_tx(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    char buf[32];
    int64_t t1 = 0, t2 = 0;

    assert_int_equal(store_lease_take(f->st, "sweep", "a", 1000, &t1, &e), MLC_OK);
    f->now += 1001;
    assert_int_equal(store_lease_take(f->st, "sweep", "b", 1000, &t2, &e), MLC_OK);
    /* a wakes up late and tries to move the watermark with its jobs. */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    if (store_lease_check(f->st, "sweep", "a", t1, &e) == MLC_OK) {
        enqueue(f, "order.sync", "order:1");
        assert_int_equal(store_watermark_set(f->st, "orders", "late", &e), MLC_OK);
        assert_int_equal(store_tx_commit(f->st, &e), MLC_OK);
    } else {
        store_tx_rollback(f->st);
    }
    assert_int_equal(store_watermark_get(f->st, "orders", buf, sizeof(buf), &e),
                     MLC_ENOTFOUND);
    assert_int_equal(count(f, STORE_JOB_READY), 0);
}

/* ---- shared records ----------------------------------------------------- */

/* A counter record: 8 bytes, little-endian; *ctx says what to add. */
static int add_to_counter(void *buf, size_t *len, size_t cap, void *ctx)
{
    unsigned char *b = buf;
    uint64_t v = 0;

    assert_true(cap >= 8);
    if (*len == 8)
        for (int i = 7; i >= 0; i--)
            v = v << 8 | b[i];
    else
        assert_int_equal(*len, 0);
    v += *(const uint64_t *)ctx;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    *len = 8;
    return MLC_OK;
}

static int read_counter(void *buf, size_t *len, size_t cap, void *ctx)
{
    const unsigned char *b = buf;
    uint64_t v = 0;

    (void)cap;
    for (int i = (int)*len - 1; i >= 0; i--)
        v = v << 8 | b[i];
    *(uint64_t *)ctx = v;
    return MLC_ESTATE; /* nothing to write: roll back */
}

static int grow_too_big(void *buf, size_t *len, size_t cap, void *ctx)
{
    (void)ctx;
    memset(buf, 'x', cap);
    *len = cap + 1;
    return MLC_OK;
}

/* Read under the lock, written back; a refusal rolls back; one record per
 * name; no record is larger than STORE_SHARED_MAX. */
static void test_shared_record(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    uint64_t one = 1, v = 0;

    assert_int_equal(store_shared_update(f->st, "n", read_counter, &v, &e), MLC_ESTATE);
    assert_int_equal(v, 0);
    assert_int_equal(store_shared_update(f->st, "n", add_to_counter, &one, &e), MLC_OK);
    assert_int_equal(store_shared_update(f->st, "n", add_to_counter, &one, &e), MLC_OK);
    assert_int_equal(store_shared_update(f->st, "n", read_counter, &v, &e), MLC_ESTATE);
    assert_int_equal(v, 2);
    assert_int_equal(store_shared_update(f->st, "m", read_counter, &v, &e), MLC_ESTATE);
    assert_int_equal(v, 0);
    assert_int_equal(store_shared_update(f->st, "n", grow_too_big, NULL, &e), MLC_ETOOBIG);
    assert_int_equal(store_shared_update(f->st, "n", read_counter, &v, &e), MLC_ESTATE);
    assert_int_equal(v, 2);
    /* Not inside the caller's transaction: the lock must stay short. */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    assert_int_equal(store_shared_update(f->st, "n", add_to_counter, &one, &e), MLC_ESTATE);
    store_tx_rollback(f->st);
    assert_int_equal(store_shared_update(f->st, "", add_to_counter, &one, &e), MLC_EINVAL);
    assert_int_equal(store_shared_update(f->st, "n", NULL, &one, &e), MLC_EINVAL);
}

#define SHARED_THREADS 4
#define SHARED_ADDS    200

struct shared_arg {
    struct fx *f;
    int        rc;
};

static void *shared_adder(void *ud)
{
    struct shared_arg *a = ud;
    struct store *st = NULL;
    struct mlc_err e = {0};
    uint64_t one = 1;

    a->rc = fx_open(a->f, &st);
    for (int i = 0; i < SHARED_ADDS && a->rc == MLC_OK; i++)
        a->rc = store_shared_update(st, "count", add_to_counter, &one, &e);
    store_close(st);
    return NULL;
}

/* Connections of their own (processes, in effect) never lose an update. */
static void test_shared_record_concurrent(void **state)
{
    struct fx *f = *state;
    struct shared_arg a[SHARED_THREADS];
    pthread_t th[SHARED_THREADS];
    struct mlc_err e = {0};
    uint64_t v = 0;

    for (int i = 0; i < SHARED_THREADS; i++) {
        a[i] = (struct shared_arg){ f, MLC_OK };
        assert_int_equal(pthread_create(&th[i], NULL, shared_adder, &a[i]), 0);
    }
    for (int i = 0; i < SHARED_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].rc, MLC_OK);
    }
    assert_int_equal(store_shared_update(f->st, "count", read_counter, &v, &e), MLC_ESTATE);
    assert_int_equal(v, SHARED_THREADS * SHARED_ADDS);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_urls),
        T(test_log_upkeep),
        cmocka_unit_test(test_state_names),
        T(test_bad_arguments),
        T(test_enqueue_claim_done),
        T(test_claim_order),
        T(test_coalescing),
        T(test_kinds_filter),
        T(test_run_at_future),
        T(test_lease_expiry),
        cmocka_unit_test(test_backoff_pure),
        T(test_retry_and_fail),
        T(test_retry_absorbs_twin),
        T(test_pause_resume),
        T(test_pause_absorbs_twin),
        T(test_hold_replay),
        T(test_hold_idle),
        T(test_job_list),
        T(test_event_dedupe),
        T(test_watermarks),
        T(test_transactions),
        T(test_ledger),
        T(test_audit_append_only),
        T(test_secrets),
        T(test_migrations),
        T(test_concurrent_claims),
        T(test_crash_consistency),
        T(test_claim_batch),
        T(test_claim_batch_one_per_key),
        T(test_ledger_fence),
        T(test_defer),
        T(test_release_leases),
        T(test_named_leases),
        T(test_lease_fences_tx),
        T(test_shared_record),
        T(test_shared_record_concurrent),
    };
#undef T
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
