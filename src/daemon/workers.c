#include "daemon/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/health.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "notify/notify.h"

#define IDLE_POLL_MS      200   /* sleep between empty claims */
#define HEARTBEAT_MIN_MS  100   /* the heartbeat never ticks faster */
#define ERROR_BACKOFF_MS  1000  /* sleep after a store error */
#define NOOP_MAX_SLEEP_MS 10000
#define BATCH_MAX         1000

struct handler {
    char              *kind;
    workers_handler_fn fn;       /* single jobs, or */
    workers_batch_fn   batch;    /* batches of up to max_batch */
    size_t             max_batch;
    void              *arg;
};

struct worker {
    struct workers  *pool;
    int              index;        /* 1-based */
    pthread_t        thread;
    bool             joined;
    char             name[16];     /* "w3" */
    char             actor[24];    /* "worker:3" */
    char             owner[320];   /* "<host>:<pid>:<nonce>:w3" */
    _Atomic int64_t  current_job;  /* 0 when idle */
    /* What the heartbeat renews, under hb_mu: the ids of the jobs running
     * now (n 0 when idle), their lease, since when they run; lease_lost is
     * set when a renewal found a job taken over. */
    pthread_mutex_t  hb_mu;
    int64_t         *hb_ids;
    size_t           hb_n;
    int64_t          hb_lease_ms;
    int64_t          hb_since_ms;  /* monotonic */
    bool             hb_gave_up;   /* past workers.job_max_s: said once */
    atomic_bool      lease_lost;
};

struct workers {
    pthread_mutex_t    mu;
    pthread_cond_t     wake;      /* idle sleep; broadcast on stop */
    pthread_cond_t     exited;    /* a thread ended */
    struct mlc_config *cfg;       /* current config, under mu */
    struct handler    *handlers;
    size_t             n_handlers;
    const char       **kinds;     /* NULL-terminated view of handler kinds */
    struct worker     *w;
    char               ident[300]; /* owner prefix (workers_set_ident) */
    int              (*peers)(void *ctx); /* processes on the store (workers_set_peers) */
    void              *peers_ctx;
    bool             (*scarce)(void *ctx); /* workers_set_scarce */
    void              *scarce_ctx;
    /* One batch claim at a time in this process: two workers waking at
     * the end of a gather window would split it into two batches. */
    pthread_mutex_t    claim_mu;
    _Atomic int64_t    ready_est;    /* ready jobs at the last count */
    _Atomic int64_t    ready_at_ms;  /* when (monotonic), 0: never */
    int                n;         /* threads started */
    int                count;     /* threads to start (set before the first) */
    pthread_t          hb_thread; /* the heartbeat (see heartbeat_main) */
    bool               hb_started;
    int                n_alive;   /* under mu */
    bool               started;
    atomic_bool        stopping;
    atomic_int         running;   /* threads with an open store */
    _Atomic uint64_t   done, retried, held, deferred, failed, errors;
    _Atomic uint64_t   paused;
    struct health     *health;    /* borrowed, may be NULL */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec mono_deadline(int64_t ms_from_now)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms_from_now / 1000);
    ts.tv_nsec += (long)(ms_from_now % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- job context -------------------------------------------------------- */

bool workers_job_cancelled(const struct workers_job_ctx *ctx)
{
    return ctx->cancel != NULL && atomic_load(ctx->cancel);
}

bool workers_job_lease_lost(const struct workers_job_ctx *ctx)
{
    return ctx->lease_lost != NULL && atomic_load(ctx->lease_lost);
}

int workers_job_extend(struct workers_job_ctx *ctx, struct mlc_err *e)
{
    struct mlc_err ce;
    int rc = MLC_OK;

    if (ctx->jobs == NULL || ctx->n_jobs == 0)
        return store_job_extend(ctx->store, ctx->job_id, ctx->owner, ctx->lease_ms, e);
    /* Every job of the batch, even past a lost one: the others go on. One
     * transaction for all (a failed extend undoes only itself). */
    if ((rc = store_tx_begin(ctx->store, e)) != MLC_OK)
        return rc;
    for (size_t i = 0; i < ctx->n_jobs; i++) {
        struct mlc_err je;
        int jrc = store_job_extend(ctx->store, ctx->jobs[i].id, ctx->owner,
                                   ctx->lease_ms, &je);

        if (jrc != MLC_OK && rc == MLC_OK) {
            rc = jrc;
            if (e != NULL)
                *e = je;
        }
    }
    if (store_tx_commit(ctx->store, &ce) != MLC_OK) {
        if (e != NULL)
            *e = ce;
        return ce.code;
    }
    return rc;
}

/* ---- noop --------------------------------------------------------------- */

/* Sleeps ms on the monotonic clock, renewing the lease at a third of it. */
static int noop_sleep(struct workers_job_ctx *ctx, int64_t ms, struct mlc_err *e)
{
    int64_t end = mono_ms() + ms;
    int64_t every = ctx->lease_ms / 3 > 100 ? ctx->lease_ms / 3 : 100;
    int64_t next_extend = mono_ms() + every;
    int64_t now;

    while ((now = mono_ms()) < end) {
        int64_t slice = end - now < 100 ? end - now : 100;
        struct timespec ts = { 0, (long)slice * 1000000L };

        if (now >= next_extend) {
            int rc = workers_job_extend(ctx, e);

            if (rc != MLC_OK)
                return rc;
            next_extend = now + every;
        }
        nanosleep(&ts, NULL);
    }
    return MLC_OK;
}

enum job_result workers_noop(struct workers_job_ctx *ctx,
                             const struct store_job *job, struct mlc_err *e)
{
    enum job_result res = WORKERS_DONE;
    json_t *root = NULL, *v;
    json_error_t je;
    int64_t sleep_ms = 0;
    const char *fail = NULL;

    if (job->payload == NULL || job->payload[0] == '\0')
        return WORKERS_DONE;
    root = json_loads(job->payload, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        mlc_err_set(e, MLC_EINVAL, "noop: payload must be a JSON object");
        res = WORKERS_HOLD;
        goto out;
    }
    v = json_object_get(root, "sleep_ms");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > NOOP_MAX_SLEEP_MS) {
            mlc_err_set(e, MLC_EINVAL, "noop: sleep_ms must be an integer "
                        "from 0 to %d", NOOP_MAX_SLEEP_MS);
            res = WORKERS_HOLD;
            goto out;
        }
        sleep_ms = (int64_t)json_integer_value(v);
    }
    v = json_object_get(root, "fail");
    if (v != NULL) {
        fail = json_string_value(v);
        if (fail == NULL || (strcmp(fail, "hold") != 0 && strcmp(fail, "retry") != 0)) {
            mlc_err_set(e, MLC_EINVAL, "noop: fail must be \"hold\" or \"retry\"");
            res = WORKERS_HOLD;
            goto out;
        }
    }
    if (sleep_ms > 0 && noop_sleep(ctx, sleep_ms, e) != MLC_OK) {
        mlc_err_wrap(e, "noop: lease");
        res = WORKERS_RETRY;
        goto out;
    }
    if (fail != NULL && strcmp(fail, "hold") == 0) {
        mlc_err_set(e, MLC_ESTATE, "noop: asked to hold");
        res = WORKERS_HOLD;
    } else if (fail != NULL) {
        mlc_err_set(e, MLC_EIO, "noop: asked to retry");
        res = WORKERS_RETRY;
    }
out:
    json_decref(root);
    return res;
}

/* ---- pool --------------------------------------------------------------- */

int workers_new(struct mlc_config *cfg, struct workers **out, struct mlc_err *e)
{
    struct workers *p;
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "workers: out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->claim_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_cond_init(&p->exited, &ca);
    pthread_condattr_destroy(&ca);
    p->cfg = cfg_ref(cfg);
    /* The diagnostic kind only when asked for (core/jobkind.h). */
    rc = jobkind_handled(cfg, JOB_NOOP) ? workers_register(p, JOB_NOOP, workers_noop, NULL, e)
                                        : MLC_OK;
    if (rc != MLC_OK) {
        workers_free(p);
        return rc;
    }
    *out = p;
    return MLC_OK;
}

static int add_handler(struct workers *p, const char *kind, const struct handler *h,
                       struct mlc_err *e)
{
    struct handler *nh;
    char *k;

    if (p->started)
        return mlc_err_set(e, MLC_ESTATE, "workers: register '%s' before start", kind);
    if (kind == NULL || kind[0] == '\0' || (h->fn == NULL && h->batch == NULL))
        return mlc_err_set(e, MLC_EINVAL, "workers: a handler needs a kind and a function");
    for (size_t i = 0; i < p->n_handlers; i++)
        if (strcmp(p->handlers[i].kind, kind) == 0)
            return mlc_err_set(e, MLC_EEXIST, "workers: kind '%s' has a handler", kind);
    nh = realloc(p->handlers, (p->n_handlers + 1) * sizeof(*nh));
    if (nh == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "workers: out of memory");
    p->handlers = nh;
    k = strdup(kind);
    if (k == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "workers: out of memory");
    p->handlers[p->n_handlers] = *h;
    p->handlers[p->n_handlers++].kind = k;
    return MLC_OK;
}

int workers_register(struct workers *p, const char *kind,
                     workers_handler_fn fn, void *arg, struct mlc_err *e)
{
    struct handler h = { .fn = fn, .max_batch = 1, .arg = arg };

    return add_handler(p, kind, &h, e);
}

int workers_register_batch(struct workers *p, const char *kind, size_t max_batch,
                           workers_batch_fn fn, void *arg, struct mlc_err *e)
{
    struct handler h = { .batch = fn, .max_batch = max_batch, .arg = arg };

    if (max_batch < 1 || max_batch > BATCH_MAX)
        return mlc_err_set(e, MLC_EINVAL, "workers: batch size of '%s' must be 1 to %d",
                           kind != NULL ? kind : "", BATCH_MAX);
    return add_handler(p, kind, &h, e);
}

void workers_set_config(struct workers *p, struct mlc_config *cfg)
{
    struct mlc_config *old;

    cfg_ref(cfg);
    pthread_mutex_lock(&p->mu);
    old = p->cfg;
    p->cfg = cfg;
    pthread_mutex_unlock(&p->mu);
    cfg_unref(old); /* freed now, or when the last job holding it ends */
}

struct mlc_config *workers_config(struct workers *p)
{
    struct mlc_config *c;

    pthread_mutex_lock(&p->mu);
    c = cfg_ref(p->cfg);
    pthread_mutex_unlock(&p->mu);
    return c;
}

int workers_running(struct workers *p)
{
    return atomic_load(&p->stopping) ? 0 : atomic_load(&p->running);
}

int workers_count(const struct workers *p) { return p->n; }

void workers_stats(struct workers *p, struct workers_stats *out)
{
    out->done = atomic_load(&p->done);
    out->retried = atomic_load(&p->retried);
    out->held = atomic_load(&p->held);
    out->deferred = atomic_load(&p->deferred);
    out->failed = atomic_load(&p->failed);
    out->errors = atomic_load(&p->errors);
    out->paused = atomic_load(&p->paused);
}

/* Sleeps up to ms, returning early when the pool stops. */
static void idle_wait(struct workers *p, int64_t ms)
{
    struct timespec until = mono_deadline(ms);

    pthread_mutex_lock(&p->mu);
    if (!atomic_load(&p->stopping))
        pthread_cond_timedwait(&p->wake, &p->mu, &until);
    pthread_mutex_unlock(&p->mu);
}

static const struct handler *find_handler(const struct workers *p, const char *kind)
{
    for (size_t i = 0; i < p->n_handlers; i++)
        if (strcmp(p->handlers[i].kind, kind) == 0)
            return &p->handlers[i];
    return NULL;
}

bool workers_has_handler(const struct workers *p, const char *kind)
{
    return kind != NULL && find_handler(p, kind) != NULL;
}

/* {"job_id":N,"attempt":N,"error":"..."}; NULL on allocation failure. */
static char *audit_detail(const struct store_job *job, const char *error)
{
    json_t *o = json_pack("{s:I, s:i}", "job_id", (json_int_t)job->id,
                          "attempt", job->attempts);
    char *s;

    if (o == NULL)
        return NULL;
    if (error != NULL && error[0] != '\0') {
        json_t *m = json_string(error); /* NULL if not UTF-8: left out */

        if (m != NULL)
            json_object_set_new(o, "error", m);
    }
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Adds the audit row of job's outcome; logs a failure. */
static int audit_in(struct worker *w, struct store *st, const struct store_job *job,
                    const char *outcome, const char *error, struct mlc_err *e)
{
    char *detail = audit_detail(job, error);
    struct store_audit a = {
        .actor = w->actor, .entity = job->key, .action = job->kind,
        .outcome = outcome, .detail = detail,
    };
    int rc = store_audit_add(st, &a, e);

    if (rc != MLC_OK) {
        atomic_fetch_add(&w->pool->errors, 1);
        log_error("workers", "cannot write audit row", LF_STR("worker", w->name),
                  LF_INT("job", job->id), LF_ERR(e));
    }
    free(detail);
    return rc;
}

static void audit(struct worker *w, struct store *st, const struct store_job *job,
                  const char *outcome, const char *error)
{
    struct mlc_err e;

    audit_in(w, st, job, outcome, error, &e);
}

/* A claim or outcome write that the store took (MLC_OK) or refused: the
 * "store.write" condition. A lost lease says nothing about the store. */
static void note_store(struct workers *p, int rc, const struct mlc_err *e)
{
    if (p->health == NULL || rc == MLC_ESTATE)
        return;
    if (rc == MLC_OK)
        health_clear(p->health, HEALTH_STORE_WRITE);
    else
        health_set(p->health, HEALTH_STORE_WRITE, "the store refused a write: %s",
                   e != NULL && e->msg[0] != '\0' ? e->msg : mlc_strerror(rc));
}

/* Records the handler's result in the store, the counters, the log and the
 * audit trail. */
static void finish(struct worker *w, struct store *st, const struct mlc_config *cfg,
                   const struct store_job *job, enum job_result res, int64_t defer_until,
                   const struct workers_hold *hold, const struct mlc_err *he)
{
    struct workers *p = w->pool;
    const char *msg = he->msg[0] != '\0' ? he->msg : NULL;
    const char *outcome = "error";
    bool failed = false;
    struct mlc_err se;
    int rc;

    mlc_err_clear(&se);
    /* The outcome and its audit row in one transaction: a job that goes
     * back to READY can run again at once, and its next row must come
     * after this one. */
    if ((rc = store_tx_begin(st, &se)) != MLC_OK)
        goto recorded;
    if (res == WORKERS_DONE) {
        rc = store_job_done(st, job->id, w->owner, &se);
        outcome = "done";
    } else if (res == WORKERS_HOLD) {
        if (msg == NULL)
            msg = "held by handler";
        rc = store_job_hold_as(st, job->id, w->owner, msg,
                               hold == NULL ? NULL : &(struct store_hold){
                                   .code = hold->code, .amount = hold->amount,
                                   .currency = hold->currency[0] != '\0'
                                                   ? hold->currency : NULL },
                               &se);
        outcome = "held";
    } else if (res == WORKERS_DEFER) {
        if (msg == NULL)
            msg = "deferred by handler";
        rc = store_job_defer(st, job->id, w->owner, defer_until, msg, &se);
        outcome = "deferred";
    } else {
        if (msg == NULL)
            msg = "retry requested by handler";
        rc = store_job_retry(st, job->id, w->owner, msg, cfg->workers.max_attempts,
                             &failed, &se);
        outcome = failed ? "failed" : "retry";
    }
    if (rc == MLC_OK)
        rc = audit_in(w, st, job, outcome, msg, &se);
    /* The operator's alert commits with the outcome (notify/notify.h). */
    if (rc == MLC_OK && (res == WORKERS_HOLD || failed))
        rc = notify_job(st, job->id, job->key, failed, hold != NULL ? hold->code : NULL,
                        hold != NULL ? hold->amount : 0,
                        hold != NULL && hold->currency[0] != '\0' ? hold->currency : NULL,
                        msg, &se);
    if (rc == MLC_OK)
        rc = store_tx_commit(st, &se);
    else
        store_tx_rollback(st);
recorded:
    if (rc != MLC_OK) {
        /* Most likely the lease ran out and another worker owns the job now:
         * its outcome is theirs to record. */
        atomic_fetch_add(&p->errors, 1);
        note_store(p, rc, &se);
        log_warn("workers", "job outcome not recorded", LF_STR("worker", w->name),
                 LF_INT("job", job->id), LF_STR("kind", job->kind),
                 LF_STR("outcome", outcome), LF_ERR(&se));
        audit(w, st, job, rc == MLC_ESTATE ? "lease_lost" : "error", se.msg);
        return;
    }
    if (res == WORKERS_DONE)
        atomic_fetch_add(&p->done, 1);
    else if (res == WORKERS_HOLD)
        atomic_fetch_add(&p->held, 1);
    else if (res == WORKERS_DEFER)
        atomic_fetch_add(&p->deferred, 1);
    else if (failed)
        atomic_fetch_add(&p->failed, 1);
    else
        atomic_fetch_add(&p->retried, 1);
    if (res == WORKERS_DONE)
        log_info("workers", "job done", LF_STR("worker", w->name),
                 LF_INT("job", job->id), LF_STR("kind", job->kind),
                 LF_STR("key", job->key), LF_INT("attempt", job->attempts));
    else
        log_warn("workers", res == WORKERS_HOLD ? "job held"
                            : res == WORKERS_DEFER ? "job deferred"
                            : failed ? "job failed" : "job will retry",
                 LF_STR("worker", w->name), LF_INT("job", job->id),
                 LF_STR("kind", job->kind), LF_STR("key", job->key),
                 LF_INT("attempt", job->attempts), LF_STR("error", msg));
}

/* A handler's answer, anything unknown (or a DEFER without a time) read as
 * RETRY. */
static enum job_result valid_result(enum job_result r, int64_t defer_until)
{
    if (r == WORKERS_DONE || r == WORKERS_HOLD || (r == WORKERS_DEFER && defer_until > 0))
        return r;
    return WORKERS_RETRY;
}

/* Publishes jobs[0..n) to the heartbeat (n 0: idle again). */
static void hb_set(struct worker *w, const struct store_job *jobs, size_t n, int64_t lease_ms)
{
    int64_t *ids = n > 0 ? calloc(n, sizeof(*ids)) : NULL;

    for (size_t i = 0; ids != NULL && i < n; i++)
        ids[i] = jobs[i].id;
    pthread_mutex_lock(&w->hb_mu);
    free(w->hb_ids);
    w->hb_ids = ids;
    w->hb_n = ids != NULL ? n : 0;
    w->hb_lease_ms = lease_ms;
    w->hb_since_ms = mono_ms();
    w->hb_gave_up = false;
    pthread_mutex_unlock(&w->hb_mu);
    if (n > 0)
        atomic_store(&w->lease_lost, false);
}

/* WORKERS_PAUSE: back to READY waiting for system, the attempt given back. */
static void finish_pause(struct worker *w, struct store *st, const struct store_job *job,
                         const char *system, const struct mlc_err *he)
{
    struct workers *p = w->pool;
    const char *msg = he->msg[0] != '\0' ? he->msg : "paused by handler";
    struct mlc_err se;
    int rc;

    mlc_err_clear(&se);
    rc = store_job_pause(st, job->id, w->owner, system, msg, WORKERS_PAUSE_RECHECK_MS, &se);
    if (rc != MLC_OK) {
        atomic_fetch_add(&p->errors, 1);
        note_store(p, rc, &se);
        log_warn("workers", "job outcome not recorded", LF_STR("worker", w->name),
                 LF_INT("job", job->id), LF_STR("kind", job->kind),
                 LF_STR("outcome", "paused"), LF_ERR(&se));
        audit(w, st, job, rc == MLC_ESTATE ? "lease_lost" : "error", se.msg);
        return;
    }
    atomic_fetch_add(&p->paused, 1);
    log_warn("workers", "job paused", LF_STR("worker", w->name), LF_INT("job", job->id),
             LF_STR("kind", job->kind), LF_STR("key", job->key),
             LF_STR("waits_for", system), LF_STR("error", msg));
    audit(w, st, job, "paused", msg);
}

/* Settles one job by the handler's result (anything unknown retries). */
static void settle(struct worker *w, struct store *st, const struct mlc_config *cfg,
                   const struct store_job *job, enum job_result res, int64_t defer_until,
                   const char *pause_on, const struct workers_hold *hold,
                   const struct mlc_err *he)
{
    if (res == WORKERS_PAUSE && pause_on != NULL && pause_on[0] != '\0') {
        finish_pause(w, st, job, pause_on, he);
        return;
    }
    res = valid_result(res, defer_until);
    finish(w, st, cfg, job, res, defer_until, hold, he);
}

/* Runs a batch handler on jobs[0..n) and settles each job on its own. */
static void execute_batch(struct worker *w, struct store *st, const struct mlc_config *cfg,
                          const struct handler *h, const struct store_job *jobs, size_t n)
{
    struct workers *p = w->pool;
    struct workers_job_ctx ctx = {
        .store = st, .cfg = cfg, .worker = w->name, .actor = w->actor, .owner = w->owner,
        .job_id = jobs[0].id, .lease_ms = (int64_t)cfg->workers.lease_s * 1000,
        .arg = h->arg, .cancel = &p->stopping, .lease_lost = &w->lease_lost,
        .jobs = jobs, .n_jobs = n,
    };
    enum job_result *res = calloc(n, sizeof(*res));
    struct mlc_err *errs = calloc(n, sizeof(*errs));
    int64_t *until = calloc(n, sizeof(*until));

    ctx.pause_on_batch = calloc(n, sizeof(*ctx.pause_on_batch));
    ctx.hold = calloc(n, sizeof(*ctx.hold));
    for (size_t i = 0; res != NULL && errs != NULL && i < n; i++) {
        res[i] = WORKERS_RETRY;
        mlc_err_clear(&errs[i]);
    }
    ctx.defer_until = until;
    if (res != NULL && errs != NULL && until != NULL) {
        log_debug("workers", "batch start", LF_STR("worker", w->name),
                  LF_STR("kind", jobs[0].kind), LF_UINT("jobs", n));
        hb_set(w, jobs, n, ctx.lease_ms);
        h->batch(&ctx, jobs, n, res, errs);
        hb_set(w, NULL, 0, 0);
    }
    for (size_t i = 0; i < n; i++) {
        struct mlc_err oom;
        enum job_result r = res != NULL && until != NULL ? res[i] : WORKERS_RETRY;

        if (res == NULL || errs == NULL || until == NULL)
            mlc_err_set(&oom, MLC_ENOMEM, "workers: out of memory for a batch");
        settle(w, st, cfg, &jobs[i], r, until != NULL ? until[i] : 0,
               ctx.pause_on_batch != NULL ? ctx.pause_on_batch[i] : NULL,
               ctx.hold != NULL ? &ctx.hold[i] : NULL, errs != NULL ? &errs[i] : &oom);
    }
    free(res);
    free(errs);
    free(until);
    free(ctx.pause_on_batch);
    free(ctx.hold);
}

static void execute(struct worker *w, struct store *st, const struct mlc_config *cfg,
                    const struct store_job *job)
{
    struct workers *p = w->pool;
    const struct handler *h = find_handler(p, job->kind);
    struct workers_job_ctx ctx = {
        .store = st, .cfg = cfg, .worker = w->name, .actor = w->actor, .owner = w->owner,
        .job_id = job->id, .lease_ms = (int64_t)cfg->workers.lease_s * 1000,
        .arg = h != NULL ? h->arg : NULL, .cancel = &p->stopping,
        .lease_lost = &w->lease_lost,
    };
    enum job_result res;
    struct workers_hold hold = { 0 };
    struct mlc_err he;
    int64_t until = 0;

    mlc_err_clear(&he);
    if (h != NULL && h->batch != NULL) {
        execute_batch(w, st, cfg, h, job, 1);
        return;
    }
    if (h == NULL) {
        /* Claims filter on our kinds, so this is a store bug: keep the job. */
        mlc_err_set(&he, MLC_ESTATE, "no handler for kind '%s'", job->kind);
        res = WORKERS_HOLD;
    } else {
        log_debug("workers", "job start", LF_STR("worker", w->name),
                  LF_INT("job", job->id), LF_STR("kind", job->kind),
                  LF_INT("attempt", job->attempts));
        ctx.defer_until = &until;
        ctx.hold = &hold;
        hb_set(w, job, 1, ctx.lease_ms);
        res = h->fn(&ctx, job, &he);
        hb_set(w, NULL, 0, 0);
    }
    settle(w, st, cfg, job, res, until, ctx.pause_on, &hold, &he);
}

#define READY_COUNT_MS 1000 /* how old the backlog count may be */

/* The size of a batch: the ready backlog (the job just claimed included)
 * shared by every worker of every process, within [WORKERS_SHARE_MIN,
 * max_batch]. A batch posts its orders one after another, so 5,000 orders
 * in batches of 250 would keep 20 workers busy and leave the others idle
 * at the end. Half a share each, unless the shared calls are scarce: the
 * backlog then shrinks by halves, and its end comes in batches small
 * enough that the workers finish together (measured: 4 processes posted
 * 71 orders/s, against 67 with whole shares). When the quota binds, the
 * fewer batches the better: a whole share. The floor keeps a batch's
 * shared BigCommerce calls spread over enough orders, and a gather window
 * in one batch. The backlog is the last count (ready_note): no query
 * between the first claim and the rest, which would widen the gap in
 * which another process takes part of a gather window. */
static size_t batch_size(const struct workers *p, const struct handler *h)
{
    int64_t ready = atomic_load(&p->ready_est), slots, share;

    slots = (int64_t)p->count * (p->peers != NULL ? p->peers(p->peers_ctx) : 1);
    if (slots < 1)
        slots = 1;
    if (p->scarce == NULL || !p->scarce(p->scarce_ctx))
        slots *= 2;
    share = (ready + 1 + slots - 1) / slots;
    if (share < WORKERS_SHARE_MIN)
        share = WORKERS_SHARE_MIN;
    return share < (int64_t)h->max_batch ? (size_t)share : h->max_batch;
}

/* Counts the ready backlog for the next batch when the last count is
 * older than READY_COUNT_MS (after a claim, outside the claim's gap). */
static void ready_note(struct workers *p, struct store *st)
{
    int64_t now = mono_ms(), at = atomic_load(&p->ready_at_ms), ready = 0;

    if (at != 0 && now - at < READY_COUNT_MS)
        return;
    if (!atomic_compare_exchange_strong(&p->ready_at_ms, &at, now))
        return; /* another worker counts */
    if (store_job_count(st, STORE_JOB_READY, &ready, NULL) == MLC_OK)
        atomic_store(&p->ready_est, ready);
}

/* After the first job of a batch kind: up to batch_size - 1 more of that
 * kind into jobs[1..), with the same lease. Returns how many jobs there are
 * now (1 when the extra claim fails: the first one runs alone). */
static size_t claim_more(struct worker *w, struct store *st, const struct handler *h,
                         int64_t lease_ms, struct store_job *jobs)
{
    const char *const kinds[] = { h->kind, NULL };
    size_t n = 0, size;
    struct mlc_err e;
    int rc;

    if (h->max_batch <= 1 || (size = batch_size(w->pool, h)) <= 1)
        return 1;
    rc = store_job_claim_batch(st, w->owner, kinds, lease_ms, size - 1, jobs + 1, &n, &e);
    if (rc != MLC_OK && rc != MLC_ENOTFOUND) {
        atomic_fetch_add(&w->pool->errors, 1);
        log_warn("workers", "batch claim failed", LF_STR("worker", w->name), LF_ERR(&e));
    }
    return 1 + (rc == MLC_OK ? n : 0);
}

/* job's key is dismissed (d): done without running, audited "dismissed"
 * with who and why, in one transaction. */
static void finish_dismissed(struct worker *w, struct store *st, const struct store_job *job,
                             const struct store_dismissal *d)
{
    char why[MLC_ERR_MSG_MAX];
    struct mlc_err se;
    int rc;

    snprintf(why, sizeof(why), "dismissed by %s: %s", d->by != NULL ? d->by : "?",
             d->note != NULL ? d->note : "");
    mlc_err_clear(&se);
    if ((rc = store_tx_begin(st, &se)) == MLC_OK) {
        rc = store_job_done(st, job->id, w->owner, &se);
        if (rc == MLC_OK)
            rc = audit_in(w, st, job, "dismissed", why, &se);
        if (rc == MLC_OK)
            rc = store_tx_commit(st, &se);
        else
            store_tx_rollback(st);
    }
    if (rc != MLC_OK) {
        atomic_fetch_add(&w->pool->errors, 1);
        note_store(w->pool, rc, &se);
        log_warn("workers", "job outcome not recorded", LF_STR("worker", w->name),
                 LF_INT("job", job->id), LF_STR("outcome", "dismissed"), LF_ERR(&se));
        return;
    }
    atomic_fetch_add(&w->pool->done, 1);
    log_info("workers", "job skipped: its item is dismissed", LF_STR("worker", w->name),
             LF_INT("job", job->id), LF_STR("kind", job->kind), LF_STR("key", job->key),
             LF_STR("why", why));
}

/* Settles the jobs of jobs[0..n) whose key is dismissed and packs the
 * others to the front; returns how many remain. A job whose dismissal
 * cannot be read is retried later rather than run. */
static size_t drop_dismissed(struct worker *w, struct store *st, const struct mlc_config *cfg,
                             struct store_job *jobs, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        struct store_dismissal d;
        struct mlc_err e;
        int rc;

        mlc_err_clear(&e);
        rc = store_dismissal_get(st, jobs[i].key, &d, &e);
        if (rc == MLC_OK || rc != MLC_ENOTFOUND) {
            if (rc == MLC_OK)
                finish_dismissed(w, st, &jobs[i], &d);
            else
                finish(w, st, cfg, &jobs[i], WORKERS_RETRY, 0, NULL, &e);
            store_dismissal_clear(&d);
            store_job_clear(&jobs[i]);
            continue;
        }
        if (k != i) {
            jobs[k] = jobs[i];
            memset(&jobs[i], 0, sizeof(jobs[i]));
        }
        k++;
    }
    return k;
}

/* Claims and runs one job, or one batch of a batch handler's kind.
 * MLC_ENOTFOUND when idle, another code after a store error. The config
 * reference spans exactly one job (batch). */
static int run_one(struct worker *w, struct store *st)
{
    struct workers *p = w->pool;
    struct mlc_config *cfg = workers_config(p);
    int64_t lease_ms = (int64_t)cfg->workers.lease_s * 1000;
    struct store_job one, *jobs = &one;
    const struct handler *h;
    struct mlc_err e;
    size_t n = 0, run;
    int rc;

    memset(&one, 0, sizeof(one));
    pthread_mutex_lock(&p->claim_mu);
    rc = store_job_claim(st, w->owner, p->kinds, lease_ms, &one, &e);
    note_store(p, rc == MLC_ENOTFOUND ? MLC_OK : rc, &e);
    if (rc == MLC_OK) {
        n = 1;
        h = find_handler(p, one.kind);
        if (h != NULL && h->batch != NULL && h->max_batch > 1 &&
            (jobs = calloc(h->max_batch, sizeof(*jobs))) != NULL) {
            jobs[0] = one;
            memset(&one, 0, sizeof(one));
            n = claim_more(w, st, h, lease_ms, jobs);
        } else {
            jobs = &one;
        }
    }
    pthread_mutex_unlock(&p->claim_mu);
    if (rc == MLC_OK) {
        if (h != NULL && h->batch != NULL)
            ready_note(p, st);
        /* The job starts now: it runs under the config current at this point,
         * even if a reload landed while we were claiming. */
        cfg_unref(cfg);
        cfg = workers_config(p);
        store_set_backoff(st, cfg->workers.retry_base_ms, cfg->workers.retry_cap_ms);
        atomic_store(&w->current_job, jobs[0].id);
        run = drop_dismissed(w, st, cfg, jobs, n);
        if (run > 1)
            execute_batch(w, st, cfg, h, jobs, run);
        else if (run == 1)
            execute(w, st, cfg, &jobs[0]);
        atomic_store(&w->current_job, 0);
    } else if (rc != MLC_ENOTFOUND) {
        atomic_fetch_add(&p->errors, 1);
        log_warn("workers", "claim failed", LF_STR("worker", w->name), LF_ERR(&e));
    }
    for (size_t i = 0; i < n; i++)
        store_job_clear(&jobs[i]);
    if (jobs != &one)
        free(jobs);
    cfg_unref(cfg);
    return rc;
}

/* The worker's own connection, fenced by its owner name: its ledger
 * writes land only while it holds the job of the row's entity. */
static struct store *open_store(struct worker *w)
{
    struct mlc_config *cfg = workers_config(w->pool);
    struct store *st = NULL;
    struct mlc_err e;

    if (store_open_with(cfg->store.url, cfg->store.password_ref, &st, &e) != MLC_OK ||
        store_fence(st, w->owner, &e) != MLC_OK) {
        atomic_fetch_add(&w->pool->errors, 1);
        log_error("workers", "cannot open store", LF_STR("worker", w->name), LF_ERR(&e));
        store_close(st);
        st = NULL;
    }
    cfg_unref(cfg);
    return st;
}

/* ---- heartbeat ------------------------------------------------------------ */

/* Renews w's running jobs (one transaction). A job another owner took is
 * flagged: the handler stops at its next checkpoint, and the store's fence
 * refuses its ledger writes meanwhile. */
static void hb_renew(struct worker *w, struct store *st, int64_t job_max_ms)
{
    int64_t *ids = NULL, lease_ms;
    bool stuck, say;
    size_t n;
    struct mlc_err e;
    int rc = MLC_OK;

    pthread_mutex_lock(&w->hb_mu);
    n = w->hb_n;
    lease_ms = w->hb_lease_ms;
    stuck = n > 0 && mono_ms() - w->hb_since_ms > job_max_ms;
    say = stuck && !w->hb_gave_up;
    w->hb_gave_up = w->hb_gave_up || stuck;
    if (n > 0 && !stuck && (ids = malloc(n * sizeof(*ids))) != NULL)
        memcpy(ids, w->hb_ids, n * sizeof(*ids));
    pthread_mutex_unlock(&w->hb_mu);
    if (say) /* stuck: the lease runs out, so the job is not held forever */
        log_error("workers", "job runs past workers.job_max_s: its lease is no longer renewed",
                  LF_STR("worker", w->name), LF_UINT("jobs", n));
    if (ids == NULL)
        return;
    if (store_tx_begin(st, &e) == MLC_OK) {
        for (size_t i = 0; i < n; i++) {
            struct mlc_err je;
            int jrc = store_job_extend(st, ids[i], w->owner, lease_ms, &je);

            if (jrc == MLC_ESTATE && !atomic_exchange(&w->lease_lost, true))
                log_warn("workers", "lease lost: the job was taken over",
                         LF_STR("worker", w->name), LF_INT("job", ids[i]), LF_ERR(&je));
            else if (jrc != MLC_OK && jrc != MLC_ESTATE && rc == MLC_OK) {
                rc = jrc;
                e = je;
            }
        }
        if (store_tx_commit(st, rc == MLC_OK ? &e : NULL) != MLC_OK && rc == MLC_OK)
            rc = MLC_EIO;
    } else {
        rc = e.code;
    }
    if (rc != MLC_OK) {
        store_tx_rollback(st);
        atomic_fetch_add(&w->pool->errors, 1);
        log_warn("workers", "lease renewal failed", LF_STR("worker", w->name), LF_ERR(&e));
    }
    free(ids);
}

/* Renews the leases of every busy worker at a third of the lease, so a
 * lease can be short without a slow call (a create that waits for JDE)
 * ever losing its job to another worker while its worker lives. */
static void *heartbeat_main(void *arg)
{
    struct workers *p = arg;
    struct mlc_config *cfg = workers_config(p);
    struct store *st = NULL;
    bool said = false;
    struct mlc_err e;

    while (!atomic_load(&p->stopping)) {
        int64_t every = (int64_t)cfg->workers.lease_s * 1000 / 3;
        int64_t job_max_ms = (int64_t)cfg->workers.job_max_s * 1000;

        idle_wait(p, every > HEARTBEAT_MIN_MS ? every : HEARTBEAT_MIN_MS);
        /* Opened (again) here: a database down for a moment is no reason
         * to leave leases to the checkpoints for the life of the process. */
        if (st == NULL &&
            store_open_with(cfg->store.url, cfg->store.password_ref, &st, &e) != MLC_OK) {
            if (!said)
                log_error("workers", "heartbeat: cannot open store; leases are renewed "
                          "only at checkpoints until it can", LF_ERR(&e));
            said = true;
            st = NULL;
        }
        if (st != NULL)
            for (int i = 0; i < p->n; i++)
                hb_renew(&p->w[i], st, job_max_ms);
        cfg_unref(cfg);
        cfg = workers_config(p);
    }
    store_close(st);
    cfg_unref(cfg);
    return NULL;
}

/* A job that left a transaction open on st: everything the worker wrote
 * since would stay uncommitted (and be lost with the process) while its
 * write lock stalls every other writer. Rolled back and reported: a bug. */
static void tx_leak_check(struct worker *w, struct store *st)
{
    int n = store_tx_reset(st);

    if (n == 0)
        return;
    atomic_fetch_add(&w->pool->errors, 1);
    log_error("workers", "a job left a store transaction open: rolled back",
              LF_STR("worker", w->name), LF_INT("levels", n));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct workers *p = w->pool;
    struct store *st = NULL;

    while (!atomic_load(&p->stopping)) {
        int rc;

        if (st == NULL) {
            st = open_store(w);
            if (st == NULL) {
                idle_wait(p, ERROR_BACKOFF_MS);
                continue;
            }
            atomic_fetch_add(&p->running, 1);
        }
        rc = run_one(w, st);
        tx_leak_check(w, st);
        if (rc == MLC_ENOTFOUND)
            idle_wait(p, IDLE_POLL_MS);
        else if (rc != MLC_OK)
            idle_wait(p, ERROR_BACKOFF_MS);
    }
    if (st != NULL) {
        atomic_fetch_sub(&p->running, 1);
        store_close(st);
    }
    pthread_mutex_lock(&p->mu);
    p->n_alive--;
    pthread_cond_broadcast(&p->exited);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void worker_names(struct worker *w, int index, const char *ident)
{
    w->index = index;
    snprintf(w->name, sizeof(w->name), "w%d", index);
    snprintf(w->actor, sizeof(w->actor), "worker:%d", index);
    snprintf(w->owner, sizeof(w->owner), "%s:w%d", ident, index);
}

void workers_set_peers(struct workers *p, int (*count)(void *ctx), void *ctx)
{
    p->peers = count;
    p->peers_ctx = ctx;
}

void workers_set_scarce(struct workers *p, bool (*scarce)(void *ctx), void *ctx)
{
    p->scarce = scarce;
    p->scarce_ctx = ctx;
}

void workers_set_ident(struct workers *p, const char *ident)
{
    snprintf(p->ident, sizeof(p->ident), "%s", ident != NULL ? ident : "");
}

int workers_start(struct workers *p, struct mlc_err *e)
{
    char host[256];
    int count, rc = MLC_OK;

    if (p->started)
        return mlc_err_set(e, MLC_ESTATE, "workers: already started");
    count = p->cfg->workers.count;
    if (count < 1)
        return mlc_err_set(e, MLC_EINVAL, "workers: count must be at least 1");
    p->kinds = calloc(p->n_handlers + 1, sizeof(*p->kinds));
    p->w = calloc((size_t)count, sizeof(*p->w));
    if (p->kinds == NULL || p->w == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "workers: out of memory");
    for (size_t i = 0; i < p->n_handlers; i++)
        p->kinds[i] = p->handlers[i].kind;
    if (p->ident[0] == '\0') {
        if (gethostname(host, sizeof(host)) != 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(p->ident, sizeof(p->ident), "%s:%ld", host, (long)getpid());
    }
    p->started = true;
    p->count = count;
    for (int i = 0; i < count; i++) {
        struct worker *w = &p->w[i];

        w->pool = p;
        pthread_mutex_init(&w->hb_mu, NULL);
        worker_names(w, i + 1, p->ident);
        pthread_mutex_lock(&p->mu);
        p->n_alive++;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            pthread_mutex_lock(&p->mu);
            p->n_alive--;
            pthread_mutex_unlock(&p->mu);
            rc = mlc_err_set(e, MLC_EIO, "workers: cannot create thread %d: %s",
                             i + 1, strerror(errno));
            break;
        }
        p->n++;
    }
    if (rc == MLC_OK) {
        if (pthread_create(&p->hb_thread, NULL, heartbeat_main, p) != 0)
            rc = mlc_err_set(e, MLC_EIO, "workers: cannot create the heartbeat thread: %s",
                             strerror(errno));
        else
            p->hb_started = true;
    }
    return rc;
}

/* "w1 (job 12), w3 (job 40)" for the workers still running. */
static void busy_list(struct workers *p, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < p->n && len < cap; i++) {
        int64_t job = atomic_load(&p->w[i].current_job);

        if (job == 0)
            continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s (job %lld)",
                                len > 0 ? ", " : "", p->w[i].name, (long long)job);
    }
}

static int stop_wait(struct workers *p, int64_t timeout_ms, bool log,
                     struct mlc_err *e)
{
    struct timespec until = mono_deadline(timeout_ms > 0 ? timeout_ms : 0);
    int alive;

    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, true);
    pthread_cond_broadcast(&p->wake);
    while (p->n_alive > 0)
        if (pthread_cond_timedwait(&p->exited, &p->mu, &until) == ETIMEDOUT)
            break;
    alive = p->n_alive;
    pthread_mutex_unlock(&p->mu);
    if (alive > 0) {
        char busy[256];

        busy_list(p, busy, sizeof(busy));
        if (log)
            log_warn("workers", "drain deadline passed", LF_INT("still_running", alive),
                     LF_STR("busy", busy));
        return mlc_err_set(e, MLC_ETIMEOUT, "%d worker(s) still running after "
                           "%lld ms: %s", alive, (long long)timeout_ms, busy);
    }
    for (int i = 0; i < p->n; i++) {
        if (!p->w[i].joined) {
            pthread_join(p->w[i].thread, NULL);
            p->w[i].joined = true;
        }
    }
    if (p->hb_started) {
        pthread_join(p->hb_thread, NULL);
        p->hb_started = false;
    }
    return MLC_OK;
}

int workers_stop(struct workers *p, int64_t timeout_ms, struct mlc_err *e)
{
    return stop_wait(p, timeout_ms, true, e);
}

void workers_free(struct workers *p)
{
    if (p == NULL)
        return;
    /* A stop that already timed out is not waited for again. */
    if (p->started && stop_wait(p, atomic_load(&p->stopping) ? 0 : 3600 * 1000,
                                false, NULL) != MLC_OK)
        return; /* threads still use the pool: left to process exit */
    for (size_t i = 0; i < p->n_handlers; i++)
        free(p->handlers[i].kind);
    for (int i = 0; i < p->n; i++) {
        free(p->w[i].hb_ids);
        pthread_mutex_destroy(&p->w[i].hb_mu);
    }
    free(p->handlers);
    free(p->kinds);
    free(p->w);
    cfg_unref(p->cfg);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->exited);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->claim_mu);
    free(p);
}

void workers_set_health(struct workers *p, struct health *h)
{
    p->health = h;
}
