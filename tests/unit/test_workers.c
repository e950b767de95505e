/* Unit tests: daemon/workers against a real SQLite store in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/health.h"
#include "core/log.h"
#include "daemon/workers.h"
#include "store/store.h"

#define N_JOBS 120

struct fx {
    char               dir[64];
    char               db[128];
    struct mlc_config *cfg;
    struct store      *st;
    struct workers    *pool;
};

static const char cfg_fmt[] =
    "log:\n  level: %s\n"
    "bigcommerce:\n  store_hash: abc123def4\n  token_ref: bigcommerce_token\n"
    "jde:\n  ais_base_url: https://jde-ais.example.com:9300\n"
    "  user: MLCSVC\n  password_ref: jde_password\n  timeout_ms: 10000\n"
    "posting:\n  company: \"00001\"\n  accounts:\n"
    "    revenue: \"100.4010\"\n    discounts: \"100.4090\"\n"
    "    shipping: \"100.4020\"\n    tax: \"1.2310\"\n"
    "    clearing: \"1.1150\"\n    rounding: \"100.8990\"\n"
    "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"
    "store:\n  url: %s\n"
    "workers:\n  count: 4\n  lease_s: 30\n  max_attempts: %d\n"
    "  retry_base_ms: 10\n  retry_cap_ms: 20\n  drain_timeout_s: 5\n";

static struct mlc_config *load_cfg(const struct fx *f, const char *level,
                                   int max_attempts)
{
    char text[2048];
    struct mlc_config *c = NULL;
    struct mlc_err e;
    int n = snprintf(text, sizeof(text), cfg_fmt, level, f->db, max_attempts);

    if (cfg_load_buffer("test.yaml", text, (size_t)n, &c, &e) != MLC_OK) {
        fprintf(stderr, "config: %s\n", e.msg);
        return NULL;
    }
    return c;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct mlc_err e;

    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-workers-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/mlc.db", f->dir);
    f->cfg = load_cfg(f, "error", 3);
    if (f->cfg == NULL)
        return -1;
    if (store_open(f->db, &f->st, &e) != MLC_OK) {
        fprintf(stderr, "store: %s\n", e.msg);
        return -1;
    }
    if (workers_new(f->cfg, &f->pool, &e) != MLC_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char path[160];

    workers_free(f->pool);
    store_close(f->st);
    cfg_unref(f->cfg);
    for (const char *const *sfx = (const char *const[]){ "", "-wal", "-shm", NULL };
         *sfx != NULL; sfx++) {
        snprintf(path, sizeof(path), "%s%s", f->db, *sfx);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void nap(void)
{
    struct timespec ts = { 0, 20 * 1000000L };

    nanosleep(&ts, NULL);
}

static int64_t count_state(struct fx *f, enum store_job_state s)
{
    int64_t n = -1;

    assert_int_equal(store_job_count(f->st, s, &n, NULL), MLC_OK);
    return n;
}

/* Waits (bounded: ~30 s) until n jobs are in state s. */
static bool wait_count(struct fx *f, enum store_job_state s, int64_t n)
{
    for (int i = 0; i < 1500; i++) {
        if (count_state(f, s) == n)
            return true;
        nap();
    }
    return false;
}

static enum store_job_state job_state(struct fx *f, int64_t id, struct store_job *out)
{
    enum store_job_state s_;
    struct store_job j;

    memset(&j, 0, sizeof(j));
    assert_int_equal(store_job_get(f->st, id, &j, NULL), MLC_OK);
    if (out != NULL) {
        *out = j;
        return out->state;
    }
    s_ = j.state;
    store_job_clear(&j);
    return s_;
}

static bool wait_state(struct fx *f, int64_t id, enum store_job_state s)
{
    for (int i = 0; i < 1500; i++) {
        if (job_state(f, id, NULL) == s)
            return true;
        nap();
    }
    return false;
}

static int64_t enqueue(struct fx *f, const char *kind, const char *key,
                       const char *payload)
{
    int64_t id = 0;
    struct mlc_err e;

    assert_int_equal(store_job_enqueue(f->st, kind, key, payload, 0, &id, NULL, &e),
                     MLC_OK);
    return id;
}

/* Audit rows of one entity as "outcome,outcome,..." */
struct audit_acc {
    char out[512];
    char last_detail[512];
    char actor[32];
};

static int audit_cb(const struct store_audit *a, void *ctx)
{
    struct audit_acc *acc = ctx;
    size_t n = strlen(acc->out);

    snprintf(acc->out + n, sizeof(acc->out) - n, "%s%s", n ? "," : "", a->outcome);
    snprintf(acc->last_detail, sizeof(acc->last_detail), "%s",
             a->detail != NULL ? a->detail : "");
    snprintf(acc->actor, sizeof(acc->actor), "%s", a->actor);
    return 0;
}

static void audit_of(struct fx *f, const char *entity, struct audit_acc *acc)
{
    memset(acc, 0, sizeof(*acc));
    assert_int_equal(store_audit_list(f->st, entity, 0, audit_cb, acc, NULL), MLC_OK);
}

/* ---- handlers ----------------------------------------------------------- */

static _Atomic int runs[N_JOBS];

static enum job_result h_count(struct workers_job_ctx *ctx,
                               const struct store_job *job, struct mlc_err *e)
{
    long idx = strtol(job->key + 2, NULL, 10); /* "k:NN" */

    (void)ctx;
    (void)e;
    if (idx >= 0 && idx < N_JOBS)
        atomic_fetch_add(&runs[idx], 1);
    return WORKERS_DONE;
}

/* Retries until the third attempt. */
static enum job_result h_flaky(struct workers_job_ctx *ctx,
                               const struct store_job *job, struct mlc_err *e)
{
    (void)ctx;
    if (job->attempts < 3) {
        mlc_err_set(e, MLC_EIO, "flaky: attempt %d failed", job->attempts);
        return WORKERS_RETRY;
    }
    return WORKERS_DONE;
}

static _Atomic int never_calls;

static enum job_result h_never(struct workers_job_ctx *ctx,
                               const struct store_job *job, struct mlc_err *e)
{
    (void)ctx;
    (void)job;
    (void)e;
    atomic_fetch_add(&never_calls, 1);
    return WORKERS_DONE;
}

/* Records the log level of the config the job saw. */
static char seen_level[16];

static enum job_result h_cfg(struct workers_job_ctx *ctx,
                             const struct store_job *job, struct mlc_err *e)
{
    (void)job;
    (void)e;
    snprintf(seen_level, sizeof(seen_level), "%s", ctx->cfg->log_level);
    assert_non_null(ctx->store);
    assert_non_null(strstr(ctx->owner, ctx->worker));
    assert_false(workers_job_cancelled(ctx));
    assert_int_equal(workers_job_extend(ctx, NULL), MLC_OK);
    return WORKERS_DONE;
}

/* ---- tests -------------------------------------------------------------- */

static void test_each_job_once(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    char key[16];

    for (int i = 0; i < N_JOBS; i++)
        atomic_store(&runs[i], 0);
    assert_int_equal(workers_register(f->pool, "count", h_count, NULL, NULL), MLC_OK);
    for (int i = 0; i < N_JOBS; i++) {
        snprintf(key, sizeof(key), "k:%d", i);
        enqueue(f, "count", key, NULL);
    }
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_int_equal(workers_count(f->pool), 4);
    assert_true(wait_count(f, STORE_JOB_DONE, N_JOBS));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    for (int i = 0; i < N_JOBS; i++)
        assert_int_equal(atomic_load(&runs[i]), 1);
    workers_stats(f->pool, &s);
    assert_int_equal(s.done, N_JOBS);
    assert_int_equal(s.retried + s.held + s.failed, 0);
    audit_of(f, "k:7", &acc);
    assert_string_equal(acc.out, "done");
    assert_non_null(strstr(acc.actor, "worker:"));
    assert_non_null(strstr(acc.last_detail, "\"attempt\":1"));
    assert_int_equal(workers_running(f->pool), 0);
}

static void test_retry_then_done(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    struct store_job j;
    struct mlc_config *c5;
    int64_t id;

    /* Five attempts allowed: the third one succeeds. */
    c5 = load_cfg(f, "error", 5);
    assert_non_null(c5);
    workers_set_config(f->pool, c5);
    cfg_unref(c5);
    assert_int_equal(workers_register(f->pool, "flaky", h_flaky, NULL, NULL), MLC_OK);
    id = enqueue(f, "flaky", "order:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_DONE));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    job_state(f, id, &j);
    assert_int_equal(j.attempts, 3);
    store_job_clear(&j);
    workers_stats(f->pool, &s);
    assert_int_equal(s.retried, 2);
    assert_int_equal(s.done, 1);
    audit_of(f, "order:1", &acc);
    assert_string_equal(acc.out, "retry,retry,done");
}

static void test_retry_until_failed(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    struct store_job j;
    int64_t id;

    /* max_attempts 3 (the fixture's config): noop asked to retry gives up. */
    id = enqueue(f, "noop", "diag:retry", "{\"fail\":\"retry\"}");
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_FAILED));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    job_state(f, id, &j);
    assert_int_equal(j.attempts, 3);
    assert_string_equal(j.last_error, "noop: asked to retry");
    store_job_clear(&j);
    workers_stats(f->pool, &s);
    assert_int_equal(s.retried, 2);
    assert_int_equal(s.failed, 1);
    audit_of(f, "diag:retry", &acc);
    assert_string_equal(acc.out, "retry,retry,failed");
    assert_non_null(strstr(acc.last_detail, "\"error\":\"noop: asked to retry\""));
}

static void test_hold(void **state)
{
    struct fx *f = *state;
    struct audit_acc acc;
    struct store_job j;
    int64_t id, bad;

    id = enqueue(f, "noop", "diag:hold", "{\"fail\":\"hold\"}");
    bad = enqueue(f, "noop", "diag:bad", "{\"sleep_ms\": 99999}");
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_HELD));
    assert_true(wait_state(f, bad, STORE_JOB_HELD));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    job_state(f, id, &j);
    assert_string_equal(j.last_error, "noop: asked to hold");
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);
    job_state(f, bad, &j);
    assert_non_null(strstr(j.last_error, "sleep_ms"));
    store_job_clear(&j);
    audit_of(f, "diag:hold", &acc);
    assert_string_equal(acc.out, "held");
    assert_non_null(strstr(acc.last_detail, "asked to hold"));
}

static _Atomic int coded_calls;

/* Holds with a reason code and an amount, as the order flow does. */
static enum job_result h_coded(struct workers_job_ctx *ctx, const struct store_job *job,
                               struct mlc_err *e)
{
    (void)job;
    atomic_fetch_add(&coded_calls, 1);
    ctx->hold->code = "unmapped_sku";
    snprintf(ctx->hold->currency, sizeof(ctx->hold->currency), "EUR");
    ctx->hold->amount = 4250;
    mlc_err_set(e, MLC_ESTATE, "product 7 is in no revenue map");
    return WORKERS_HOLD;
}

static void h_bcoded(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                     enum job_result *res, struct mlc_err *errs)
{
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&coded_calls, 1);
        res[i] = WORKERS_HOLD;
        ctx->hold[i].code = "account_missing";
        ctx->hold[i].amount = (int64_t)(100 + i);
        mlc_err_set(&errs[i], MLC_ESTATE, "%s: account 1.9 missing", jobs[i].key);
    }
}

/* A handler's hold code and amount land with the job (single and batch);
 * a dismissed key's later jobs are settled done without running, audited
 * "dismissed" with who and the note. */
static void test_hold_code_and_dismissed(void **state)
{
    struct fx *f = *state;
    struct audit_acc acc;
    struct store_job j;
    struct mlc_err e;
    int64_t a, b, again, bagain;

    atomic_store(&coded_calls, 0);
    assert_int_equal(workers_register(f->pool, "coded", h_coded, NULL, &e), MLC_OK);
    assert_int_equal(workers_register_batch(f->pool, "bcoded", 10, h_bcoded, NULL, &e),
                     MLC_OK);
    a = enqueue(f, "coded", "order:5", NULL);
    b = enqueue(f, "bcoded", "order:6", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, a, STORE_JOB_HELD));
    assert_true(wait_state(f, b, STORE_JOB_HELD));
    job_state(f, a, &j);
    assert_string_equal(j.hold_code, "unmapped_sku");
    assert_string_equal(j.hold_currency, "EUR");
    assert_int_equal(j.hold_amount, 4250);
    assert_string_equal(j.last_error, "product 7 is in no revenue map");
    store_job_clear(&j);
    job_state(f, b, &j);
    assert_string_equal(j.hold_code, "account_missing");
    assert_null(j.hold_currency); /* no currency: no amount */
    store_job_clear(&j);
    assert_int_equal(atomic_load(&coded_calls), 2);

    /* Dismissed: a webhook's new job for either key never runs. */
    assert_int_equal(store_job_dismiss(f->st, a, "cli:ops", "posted by hand", &e), MLC_OK);
    assert_int_equal(store_job_dismiss(f->st, b, "cli:ops", "refunded", &e), MLC_OK);
    again = enqueue(f, "coded", "order:5", NULL);
    bagain = enqueue(f, "bcoded", "order:6", NULL);
    assert_true(wait_state(f, again, STORE_JOB_DONE));
    assert_true(wait_state(f, bagain, STORE_JOB_DONE));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(atomic_load(&coded_calls), 2);
    assert_int_equal(job_state(f, a, NULL), STORE_JOB_HELD); /* the dismissed one stays */
    audit_of(f, "order:5", &acc);
    assert_string_equal(acc.out, "held,dismissed");
    assert_non_null(strstr(acc.last_detail, "dismissed by cli:ops: posted by hand"));
    audit_of(f, "order:6", &acc);
    assert_string_equal(acc.out, "held,dismissed");
}

static void test_unregistered_kind(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    int64_t other, probe;

    atomic_store(&never_calls, 0);
    /* Enqueued first, so it would be claimed first if kinds were ignored. */
    other = enqueue(f, "other", "x:1", NULL);
    probe = enqueue(f, "noop", "x:2", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, probe, STORE_JOB_DONE));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    job_state(f, other, &j);
    assert_int_equal(j.state, STORE_JOB_READY);
    assert_int_equal(j.attempts, 0);
    store_job_clear(&j);
    assert_int_equal(atomic_load(&never_calls), 0);
}

static void test_register_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(workers_register(f->pool, "noop", h_never, NULL, NULL), MLC_EEXIST);
    assert_int_equal(workers_register(f->pool, "", h_never, NULL, NULL), MLC_EINVAL);
    assert_int_equal(workers_register(f->pool, "x", NULL, NULL, NULL), MLC_EINVAL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_int_equal(workers_start(f->pool, NULL), MLC_ESTATE);
    assert_int_equal(workers_register(f->pool, "late", h_never, NULL, NULL), MLC_ESTATE);
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
}

static void test_stop_drains(void **state)
{
    struct fx *f = *state;
    int64_t id;

    id = enqueue(f, "noop", "diag:sleep", "{\"sleep_ms\": 700}");
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_RUNNING));
    /* The running job finishes; nothing new is claimed. */
    enqueue(f, "noop", "diag:after", NULL);
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(job_state(f, id, NULL), STORE_JOB_DONE);
    assert_int_equal(workers_running(f->pool), 0);
}

static void test_stop_deadline(void **state)
{
    struct fx *f = *state;
    struct mlc_err e;
    int64_t id;

    id = enqueue(f, "noop", "diag:long", "{\"sleep_ms\": 1500}");
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_RUNNING));
    assert_int_equal(workers_stop(f->pool, 50, &e), MLC_ETIMEOUT);
    assert_non_null(strstr(e.msg, "still running"));
    assert_non_null(strstr(e.msg, "job"));
    /* A second stop with room waits for it and joins. */
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(job_state(f, id, NULL), STORE_JOB_DONE);
}

static void test_config_swap(void **state)
{
    struct fx *f = *state;
    struct mlc_config *dbg, *cur;
    int64_t a, b;

    assert_int_equal(workers_register(f->pool, "cfg", h_cfg, NULL, NULL), MLC_OK);
    a = enqueue(f, "cfg", "c:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, a, STORE_JOB_DONE));
    assert_string_equal(seen_level, "error");
    dbg = load_cfg(f, "warn", 3);
    assert_non_null(dbg);
    workers_set_config(f->pool, dbg);
    cfg_unref(dbg); /* the pool holds its own reference */
    cur = workers_config(f->pool);
    assert_string_equal(cur->log_level, "warn");
    cfg_unref(cur);
    b = enqueue(f, "cfg", "c:2", NULL);
    assert_true(wait_state(f, b, STORE_JOB_DONE));
    assert_string_equal(seen_level, "warn");
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
}

static void test_free_unstarted(void **state)
{
    struct fx *f = *state;
    struct workers *p = NULL;

    assert_int_equal(workers_new(f->cfg, &p, NULL), MLC_OK);
    workers_free(p);
    workers_free(NULL);
}

/* ---- batch handlers ------------------------------------------------------ */

#define N_BATCH_JOBS 40

static _Atomic int batch_runs[N_BATCH_JOBS];
static _Atomic int batch_calls, batch_biggest, batch_extend_fails;

/* Key "b:N": N % 10 == 3 holds, N % 10 == 5 retries on its first attempt,
 * the rest are done. Renews the leases of the whole batch once. */
static void h_batch(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                    enum job_result *res, struct mlc_err *errs)
{
    int big = atomic_load(&batch_biggest);

    atomic_fetch_add(&batch_calls, 1);
    while ((int)n > big && !atomic_compare_exchange_weak(&batch_biggest, &big, (int)n))
        ;
    if (ctx->n_jobs != n || ctx->jobs != jobs || ctx->job_id != jobs[0].id ||
        workers_job_extend(ctx, NULL) != MLC_OK)
        atomic_fetch_add(&batch_extend_fails, 1);
    for (size_t i = 0; i < n; i++) {
        long idx = strtol(jobs[i].key + 2, NULL, 10);

        if (idx >= 0 && idx < N_BATCH_JOBS)
            atomic_fetch_add(&batch_runs[idx], 1);
        if (idx % 10 == 3) {
            mlc_err_set(&errs[i], MLC_ESTATE, "batch: b:%ld needs a fix", idx);
            res[i] = WORKERS_HOLD;
        } else if (idx % 10 == 5 && jobs[i].attempts < 2) {
            mlc_err_set(&errs[i], MLC_EIO, "batch: b:%ld later", idx);
            res[i] = WORKERS_RETRY;
        } else {
            res[i] = WORKERS_DONE;
        }
    }
}

/* Jobs of a batch kind run in batches (more than one per call once a
 * backlog is waiting), each settled and audited on its own; single and noop
 * handlers keep working beside it. */
static void test_batch_handler(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    int64_t noop, single;
    char key[16];

    for (int i = 0; i < N_BATCH_JOBS; i++)
        atomic_store(&batch_runs[i], 0);
    atomic_store(&batch_calls, 0);
    atomic_store(&batch_biggest, 0);
    atomic_store(&batch_extend_fails, 0);
    atomic_store(&never_calls, 0);
    assert_int_equal(workers_register_batch(f->pool, "batch", 10, h_batch, NULL, NULL),
                     MLC_OK);
    assert_int_equal(workers_register_batch(f->pool, "batch", 10, h_batch, NULL, NULL),
                     MLC_EEXIST);
    assert_int_equal(workers_register_batch(f->pool, "other", 0, h_batch, NULL, NULL),
                     MLC_EINVAL);
    assert_int_equal(workers_register_batch(f->pool, "other", 5, NULL, NULL, NULL),
                     MLC_EINVAL);
    assert_int_equal(workers_register(f->pool, "single", h_never, NULL, NULL), MLC_OK);
    for (int i = 0; i < N_BATCH_JOBS; i++) {
        snprintf(key, sizeof(key), "b:%d", i);
        enqueue(f, "batch", key, NULL);
    }
    noop = enqueue(f, "noop", "n:1", NULL);
    single = enqueue(f, "single", "s:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    /* 4 held (3, 13, 23, 33), 36 done after the retries. */
    assert_true(wait_count(f, STORE_JOB_DONE, N_BATCH_JOBS - 4 + 2));
    assert_true(wait_count(f, STORE_JOB_HELD, 4));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(job_state(f, noop, NULL), STORE_JOB_DONE);
    assert_int_equal(job_state(f, single, NULL), STORE_JOB_DONE);
    assert_int_equal(atomic_load(&never_calls), 1);
    for (int i = 0; i < N_BATCH_JOBS; i++)
        assert_int_equal(atomic_load(&batch_runs[i]), i % 10 == 5 ? 2 : 1);
    assert_true(atomic_load(&batch_biggest) > 1);
    assert_true(atomic_load(&batch_biggest) <= 10);
    assert_true(atomic_load(&batch_calls) < N_BATCH_JOBS);
    assert_int_equal(atomic_load(&batch_extend_fails), 0);
    workers_stats(f->pool, &s);
    assert_int_equal(s.held, 4);
    assert_int_equal(s.retried, 4);
    assert_int_equal(s.done, N_BATCH_JOBS - 4 + 2);
    audit_of(f, "b:13", &acc);
    assert_string_equal(acc.out, "held");
    assert_non_null(strstr(acc.last_detail, "needs a fix"));
    audit_of(f, "b:25", &acc);
    assert_string_equal(acc.out, "retry,done");
    audit_of(f, "b:7", &acc);
    assert_string_equal(acc.out, "done");
    assert_non_null(strstr(acc.actor, "worker:"));
}

/* ---- batch share ----------------------------------------------------------- */

#define N_SHARE_JOBS 600

static _Atomic int share_done, share_biggest;

static void h_share(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                    enum job_result *res, struct mlc_err *errs)
{
    int big = atomic_load(&share_biggest);

    (void)ctx;
    (void)jobs;
    (void)errs;
    while ((int)n > big && !atomic_compare_exchange_weak(&share_biggest, &big, (int)n))
        ;
    for (size_t i = 0; i < n; i++)
        res[i] = WORKERS_DONE;
    atomic_fetch_add(&share_done, (int)n);
}

static int two_processes(void *ctx)
{
    (void)ctx;
    return 2;
}

/* Runs n jobs of the batch kind "share" (up to 250 a batch) on the
 * fixture's 4 workers, as if a second process shared the store. */
static void share_run(struct fx *f, int n)
{
    char key[16];

    atomic_store(&share_done, 0);
    atomic_store(&share_biggest, 0);
    assert_int_equal(workers_register_batch(f->pool, "share", 250, h_share, NULL, NULL),
                     MLC_OK);
    workers_set_peers(f->pool, two_processes, NULL);
    assert_int_equal(store_tx_begin(f->st, NULL), MLC_OK);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "s:%d", i);
        enqueue(f, "share", key, NULL);
    }
    assert_int_equal(store_tx_commit(f->st, NULL), MLC_OK);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_count(f, STORE_JOB_DONE, n));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(atomic_load(&share_done), n);
}

/* A backlog is shared by every worker of every process: 600 ready jobs,
 * 4 workers here and a second process make batches of half a share, 38 at
 * most, not the 250 the handler allows (which would leave workers idle at
 * the end). */
static void test_batch_share(void **state)
{
    share_run(*state, N_SHARE_JOBS);
    /* The first batch, before any count, takes the floor; the count after
     * it sees at most 599 ready: (599 + 16) / 16 = 38. */
    assert_true(atomic_load(&share_biggest) <= (N_SHARE_JOBS + 15) / 16);
    assert_true(atomic_load(&share_biggest) > WORKERS_SHARE_MIN);
}

static bool always_scarce(void *ctx)
{
    (void)ctx;
    return true;
}

/* While the shared calls are scarce (the quota binds), a batch takes the
 * whole share: fewer batches spend fewer calls. */
static void test_batch_share_scarce(void **state)
{
    struct fx *f = *state;

    workers_set_scarce(f->pool, always_scarce, NULL);
    share_run(f, N_SHARE_JOBS);
    assert_true(atomic_load(&share_biggest) <= (N_SHARE_JOBS + 7) / 8);
    assert_true(atomic_load(&share_biggest) > (N_SHARE_JOBS + 15) / 16);
}

/* A small backlog still goes in one batch of up to WORKERS_SHARE_MIN, so
 * the calls a batch shares stay spread over enough jobs. */
static void test_batch_share_floor(void **state)
{
    share_run(*state, WORKERS_SHARE_MIN);
    assert_true(atomic_load(&share_biggest) >= WORKERS_SHARE_MIN - 2);
}

static _Atomic int share_calls;

static void h_share_count(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                          enum job_result *res, struct mlc_err *errs)
{
    atomic_fetch_add(&share_calls, 1);
    h_share(ctx, jobs, n, res, errs);
}

/* A gather window: 20 jobs that all come due at one instant, with four
 * workers polling. One batch takes them all: a second worker waking at the
 * same moment must not split them (each batch costs shared calls). */
static void test_batch_gather_not_split(void **state)
{
    struct fx *f = *state;
    int64_t due = store_now_ms(f->st) + 400;
    char key[16];

    atomic_store(&share_done, 0);
    atomic_store(&share_calls, 0);
    assert_int_equal(workers_register_batch(f->pool, "share", 250, h_share_count, NULL, NULL),
                     MLC_OK);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_int_equal(store_tx_begin(f->st, NULL), MLC_OK);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "g:%d", i);
        assert_int_equal(store_job_enqueue(f->st, "share", key, NULL, due, NULL, NULL, NULL),
                         MLC_OK);
    }
    assert_int_equal(store_tx_commit(f->st, NULL), MLC_OK);
    assert_true(wait_count(f, STORE_JOB_DONE, 20));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(atomic_load(&share_done), 20);
    assert_int_equal(atomic_load(&share_calls), 1);
}

/* ---- leases: heartbeat, fence, defer --------------------------------------- */

static _Atomic int slow_runs, slow_lost;

/* A call slower than the lease that never renews it itself (a create
 * waiting for JDE): the heartbeat must keep the job. */
static enum job_result h_slow(struct workers_job_ctx *ctx, const struct store_job *job,
                              struct mlc_err *e)
{
    struct timespec ts = { 3, 500 * 1000000L };

    (void)job;
    (void)e;
    atomic_fetch_add(&slow_runs, 1);
    nanosleep(&ts, NULL);
    if (workers_job_lease_lost(ctx))
        atomic_fetch_add(&slow_lost, 1);
    return WORKERS_DONE;
}

static void test_heartbeat_keeps_slow_job(void **state)
{
    struct fx *f = *state;
    struct audit_acc acc;
    struct store_job j;
    int64_t id;

    f->cfg->workers.lease_s = 1;        /* below the config minimum, for speed */
    atomic_store(&slow_runs, 0);
    atomic_store(&slow_lost, 0);
    assert_int_equal(workers_register(f->pool, "slow", h_slow, NULL, NULL), MLC_OK);
    id = enqueue(f, "slow", "s:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_DONE));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(atomic_load(&slow_runs), 1);  /* no other worker took it */
    assert_int_equal(atomic_load(&slow_lost), 0);
    job_state(f, id, &j);
    assert_int_equal(j.attempts, 1);
    store_job_clear(&j);
    audit_of(f, "s:1", &acc);
    assert_string_equal(acc.out, "done");
}

static _Atomic int fence_own, fence_other, defer_runs;

/* A worker's ledger writes need the live lease of the row's entity. */
static enum job_result h_fenced(struct workers_job_ctx *ctx, const struct store_job *job,
                                struct mlc_err *e)
{
    struct mlc_err le;

    (void)e;
    atomic_store(&fence_own, store_ledger_begin(ctx->store, "K1S", "sale", job->key, "{}",
                                                &le));
    atomic_store(&fence_other, store_ledger_begin(ctx->store, "K2S", "sale", "order:2", "{}",
                                                  &le));
    return WORKERS_DONE;
}

/* Not decidable on the first run: back 300 ms later, no attempt spent. */
static enum job_result h_defer(struct workers_job_ctx *ctx, const struct store_job *job,
                               struct mlc_err *e)
{
    struct timespec ts;

    (void)job;
    if (atomic_fetch_add(&defer_runs, 1) > 0)
        return WORKERS_DONE;
    clock_gettime(CLOCK_REALTIME, &ts);
    ctx->defer_until[0] = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 300;
    mlc_err_set(e, MLC_ESTATE, "in doubt: looked up again later");
    return WORKERS_DEFER;
}

static void test_fence_and_defer(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    struct store_job j;
    int64_t fid, did;

    atomic_store(&defer_runs, 0);
    assert_int_equal(workers_register(f->pool, "fenced", h_fenced, NULL, NULL), MLC_OK);
    assert_int_equal(workers_register(f->pool, "defer", h_defer, NULL, NULL), MLC_OK);
    fid = enqueue(f, "fenced", "order:1", NULL);
    did = enqueue(f, "defer", "d:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, fid, STORE_JOB_DONE));
    assert_true(wait_state(f, did, STORE_JOB_DONE));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    assert_int_equal(atomic_load(&fence_own), MLC_OK);
    assert_int_equal(atomic_load(&fence_other), MLC_ESTATE);
    assert_int_equal(atomic_load(&defer_runs), 2);
    job_state(f, did, &j);
    assert_int_equal(j.attempts, 1);             /* the deferral was not an attempt */
    store_job_clear(&j);
    workers_stats(f->pool, &s);
    assert_int_equal(s.deferred, 1);
    assert_int_equal(s.retried, 0);
    audit_of(f, "d:1", &acc);
    assert_string_equal(acc.out, "deferred,done");
    assert_non_null(strstr(acc.last_detail, "\"attempt\":1"));
}

/* ---- pauses ------------------------------------------------------------- */

static atomic_bool jde_down;
static _Atomic int down_runs;

/* Pauses on "jde" while jde_down; a key "nosys:*" asks for a pause without
 * naming a system (a retry). */
static enum job_result h_down(struct workers_job_ctx *ctx, const struct store_job *job,
                              struct mlc_err *e)
{
    atomic_fetch_add(&down_runs, 1);
    if (strncmp(job->key, "nosys:", 6) == 0) {
        mlc_err_set(e, MLC_EIO, "down: no system named");
        return WORKERS_PAUSE;
    }
    if (atomic_load(&jde_down)) {
        ctx->pause_on = "jde";
        mlc_err_set(e, MLC_EAUTH, "AIS login failed for user MLCSVC: 403");
        return WORKERS_PAUSE;
    }
    return WORKERS_DONE;
}

static bool wait_paused(struct fx *f, uint64_t n)
{
    struct workers_stats s;

    for (int i = 0; i < 1500; i++) {
        workers_stats(f->pool, &s);
        if (s.paused == n)
            return true;
        nap();
    }
    return false;
}

/* A system that stays down longer than max_attempts runs: the job is paused
 * each time, never uses up an attempt, never fails, and runs once more when
 * the system's jobs are resumed. */
static void test_pause_keeps_attempts(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct audit_acc acc;
    struct store_job j;
    struct health *h = NULL;
    int64_t id, n;

    atomic_store(&jde_down, true);
    atomic_store(&down_runs, 0);
    assert_int_equal(health_new(&h, NULL), MLC_OK);
    health_set(h, HEALTH_STORE_WRITE, "a stale report");
    workers_set_health(f->pool, h);
    assert_int_equal(workers_register(f->pool, "down", h_down, NULL, NULL), MLC_OK);
    id = enqueue(f, "down", "order:9", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    for (uint64_t k = 1; k <= 5; k++) { /* the fixture allows 3 attempts */
        assert_true(wait_paused(f, k));
        job_state(f, id, &j);
        assert_int_equal(j.state, STORE_JOB_READY);
        assert_int_equal(j.attempts, 0);
        assert_string_equal(j.paused_on, "jde");
        assert_string_equal(j.last_error, "AIS login failed for user MLCSVC: 403");
        assert_true(j.run_at > store_now_ms(f->st) + WORKERS_PAUSE_RECHECK_MS / 2);
        store_job_clear(&j);
        if (k == 5)
            atomic_store(&jde_down, false);
        assert_int_equal(store_jobs_resume(f->st, "jde", &n, NULL), MLC_OK);
        assert_int_equal(n, 1);
    }
    assert_true(wait_state(f, id, STORE_JOB_DONE));
    assert_false(health_is_set(h, HEALTH_STORE_WRITE)); /* claims went through */
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    job_state(f, id, &j);
    assert_int_equal(j.attempts, 1);
    assert_null(j.paused_on);
    store_job_clear(&j);
    workers_stats(f->pool, &s);
    assert_int_equal(s.paused, 5);
    assert_int_equal(s.failed + s.retried + s.held, 0);
    assert_int_equal(count_state(f, STORE_JOB_FAILED), 0);
    assert_int_equal(atomic_load(&down_runs), 6);
    audit_of(f, "order:9", &acc);
    assert_string_equal(acc.out, "paused,paused,paused,paused,paused,done");
    health_free(h);
}

/* A pause that names no system is a retry (and counts). */
static void test_pause_without_system_retries(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    int64_t id;

    assert_int_equal(workers_register(f->pool, "down", h_down, NULL, NULL), MLC_OK);
    id = enqueue(f, "down", "nosys:1", NULL);
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_state(f, id, STORE_JOB_FAILED));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    workers_stats(f->pool, &s);
    assert_int_equal(s.paused, 0);
    assert_int_equal(s.failed, 1);
}

/* Batch: "p:N" with N odd pauses on bigcommerce, the rest are done. */
static void h_batch_pause(struct workers_job_ctx *ctx, const struct store_job *jobs,
                          size_t n, enum job_result *res, struct mlc_err *errs)
{
    assert_non_null(ctx->pause_on_batch);
    for (size_t i = 0; i < n; i++) {
        long idx = strtol(jobs[i].key + 2, NULL, 10);

        if (idx % 2 == 1) {
            res[i] = WORKERS_PAUSE;
            ctx->pause_on_batch[i] = "bigcommerce";
            mlc_err_set(&errs[i], MLC_EAUTH, "GET /v2/orders: 401 Unauthorized");
        } else {
            res[i] = WORKERS_DONE;
        }
    }
}

static void test_batch_pause(void **state)
{
    struct fx *f = *state;
    struct workers_stats s;
    struct store_job j;
    int64_t ids[10], n = 0;
    char key[16];

    assert_int_equal(workers_register_batch(f->pool, "bp", 10, h_batch_pause, NULL, NULL),
                     MLC_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "p:%d", i);
        ids[i] = enqueue(f, "bp", key, NULL);
    }
    assert_int_equal(workers_start(f->pool, NULL), MLC_OK);
    assert_true(wait_paused(f, 5));
    assert_true(wait_count(f, STORE_JOB_DONE, 5));
    assert_int_equal(workers_stop(f->pool, 10000, NULL), MLC_OK);
    for (int i = 1; i < 10; i += 2) {
        job_state(f, ids[i], &j);
        assert_int_equal(j.state, STORE_JOB_READY);
        assert_int_equal(j.attempts, 0);
        assert_string_equal(j.paused_on, "bigcommerce");
        store_job_clear(&j);
    }
    assert_int_equal(store_jobs_paused_count(f->st, "bigcommerce", &n, NULL), MLC_OK);
    assert_int_equal(n, 5);
    workers_stats(f->pool, &s);
    assert_int_equal(s.done, 5);
    assert_int_equal(s.paused, 5);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_each_job_once),
        T(test_retry_then_done),
        T(test_retry_until_failed),
        T(test_hold),
        T(test_hold_code_and_dismissed),
        T(test_unregistered_kind),
        T(test_register_errors),
        T(test_stop_drains),
        T(test_stop_deadline),
        T(test_config_swap),
        T(test_free_unstarted),
        T(test_batch_handler),
        T(test_batch_share),
        T(test_batch_share_scarce),
        T(test_batch_share_floor),
        T(test_batch_gather_not_split),
        T(test_heartbeat_keeps_slow_job),
        T(test_fence_and_defer),
        T(test_pause_keeps_attempts),
        T(test_pause_without_system_retries),
        T(test_batch_pause),
    };
#undef T
    enum log_level lvl = LOG_LVL_ERROR;

    /* MLC_TEST_LOG=debug shows the workers' lines while debugging a test. */
    if (getenv("MLC_TEST_LOG") != NULL)
        log_parse_level(getenv("MLC_TEST_LOG"), &lvl);
    log_set_level(lvl);
    if (getenv("MLC_TEST_ONLY") != NULL)
        cmocka_set_test_filter(getenv("MLC_TEST_ONLY"));
    setenv("MLC_DEBUG_JOBS", "1", 1); /* the diagnostic kind noop (core/jobkind.h) */
    return cmocka_run_group_tests_name("workers", tests, NULL, NULL);
}
