/*
 * workers: the pool of threads that claim and run jobs.
 *
 * Each worker thread opens its own store connection (store_open of the
 * config's store.url), claims jobs of the registered kinds with a lease
 * (owner "<hostname>:<pid>:w<N>"), and calls the handler registered for the
 * job's kind. The handler's result decides what happens to the job:
 *   WORKERS_DONE  -> store_job_done
 *   WORKERS_RETRY -> store_job_retry (backoff from workers.retry_base_ms and
 *                    retry_cap_ms; FAILED once workers.max_attempts is reached)
 *   WORKERS_HOLD  -> store_job_hold_as, e->msg as the reason, with the
 *                    reason code and amount the handler put in ctx->hold[i]
 *   WORKERS_DEFER -> store_job_defer at the handler's ctx->defer_until[i]
 *                    (Unix ms; not an attempt: the job could not be decided
 *                    yet, e.g. a create in doubt that may still land)
 *   WORKERS_PAUSE -> store_job_pause: the system the handler names in
 *                    ctx->pause_on (a batch: ctx->pause_on_batch[i]) is down
 *                    or refuses our credentials; the job waits READY for it
 *                    (WORKERS_PAUSE_RECHECK_MS at most, or until the daemon
 *                    resumes the system's jobs) without using up an attempt.
 *                    Without a system it is a WORKERS_RETRY.
 * and every outcome is appended to the audit trail (actor "worker:N", entity
 * the job key, action the job kind, outcome done/retry/held/deferred/paused/
 * failed, detail {"job_id", "attempt", "error"}). Handler messages must never
 * hold secrets (the err.h convention); they end up in the store and the log.
 *
 * Configuration reload: the pool keeps the "current" config. A worker takes a
 * reference to it when a job starts and drops it when the job ends, so a new
 * config set by workers_set_config applies from the next job on, and an old
 * one is freed when the last job using it ends. store.url and workers.count
 * are read once at workers_start (a reload does not reopen connections).
 *
 * Leases: a heartbeat thread (its own store connection) renews the lease
 * of every running job at a third of workers.lease_s, so a slow call (a
 * create waiting for JDE) never loses its job to another worker while its
 * worker lives, and a lease can be short. Past workers.job_max_s a job's
 * lease is no longer renewed: a handler stuck forever loses its job rather
 * than hold it. A renewal that finds the job taken over (the process was
 * stalled past the lease) sets the lease-lost flag: the handler stops at its
 * next checkpoint (workers_job_lease_lost). Meanwhile the fence keeps it
 * from writing: every worker's connection is fenced by its owner name
 * (store_fence), so its ledger writes need the live lease of the row's
 * entity. Handlers may still call workers_job_extend themselves.
 *
 * Batch handlers (workers_register_batch): after claiming a job of such a
 * kind, the worker claims more jobs of the same kind (store_job_claim_batch)
 * and hands them all to one call. How many: its share of the ready backlog
 * (every worker of every process, workers_set_peers; half of it unless
 * the shared calls are scarce, workers_set_scarce), at least
 * WORKERS_SHARE_MIN and at most max_batch, so that a backlog keeps every
 * worker busy to its end instead of a few long batches. The handler sets
 * one result and one message per job, and each job is then settled and
 * audited on its own, exactly as a single job. While a batch runs,
 * workers_job_extend renews the lease of every job of the batch.
 *
 * Dismissed items (store.h): a claimed job whose key an operator dismissed
 * is settled as done without running its handler (audit outcome
 * "dismissed", with who and the note), so that nothing a webhook, the
 * reconcile sweep or a backfill enqueues for it ever posts.
 *
 * Built-in kind "noop" (a diagnostic for tests and `mlc jobs enqueue`,
 * registered only with MLC_DEBUG_JOBS=1 in the environment): succeeds; its payload may ask {"sleep_ms": N} (at most 10 s, lease extended
 * while sleeping, not cut short by a stop: it shows draining) and
 * {"fail": "hold"} or {"fail": "retry"}.
 *
 * Threads: workers_register before workers_start, from one thread;
 * workers_set_config, workers_stats and workers_running from any thread.
 */
#ifndef MLC_DAEMON_WORKERS_H
#define MLC_DAEMON_WORKERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

enum job_result {
    WORKERS_DONE = 0,
    WORKERS_RETRY,
    WORKERS_HOLD,
    WORKERS_DEFER,    /* again at ctx->defer_until[i], no attempt spent */
    WORKERS_PAUSE
};

/* The longest a paused job waits when nothing resumes its system. */
#define WORKERS_PAUSE_RECHECK_MS (15 * 60 * 1000)

/* Why a job is held, for store_job_hold_as (store.h). */
struct workers_hold {
    const char *code;         /* static name (core/holdcode.h); NULL: none */
    char        currency[8];  /* "": no amount */
    int64_t     amount;       /* minor units */
};

/* What a handler gets besides the job; valid during the call only. */
struct workers_job_ctx {
    struct store             *store;   /* this worker's own connection */
    const struct mlc_config  *cfg;     /* config current at job start */
    const char               *worker;  /* "w3" */
    const char               *actor;   /* "worker:3": the audit actor of the pool */
    const char               *owner;   /* lease owner "<host>:<pid>:w3" */
    int64_t                   job_id;
    int64_t                   lease_ms;
    void                     *arg;     /* given to workers_register */
    const atomic_bool        *cancel;  /* true once the pool is stopping */
    const atomic_bool        *lease_lost; /* a renewal found a job taken over */
    const struct store_job   *jobs;    /* a batch handler's jobs (job_id: */
    size_t                    n_jobs;  /* the first); NULL, 0 otherwise */
    /* Out: for a WORKERS_DEFER answer, when to run again (Unix ms): one
     * entry per job of a batch (index as jobs), else one. Preset 0. */
    int64_t                  *defer_until;
    /* WORKERS_PAUSE: the system waited for, a static string ("jde"). A
     * single handler sets pause_on; a batch handler pause_on_batch[i]
     * (n_jobs entries, preset NULL). */
    const char               *pause_on;
    const char              **pause_on_batch;
    /* Out: for a WORKERS_HOLD answer, its code and amount: one entry per
     * job of a batch (index as jobs), else one. Preset empty. */
    struct workers_hold      *hold;
};

typedef enum job_result (*workers_handler_fn)(struct workers_job_ctx *ctx,
                                              const struct store_job *job,
                                              struct mlc_err *e);

/* A batch handler: jobs[0..n) claimed together (n >= 1). It sets res[i]
 * for every job (preset WORKERS_RETRY) and errs[i] (preset cleared) with the
 * reason of a hold or retry. */
typedef void (*workers_batch_fn)(struct workers_job_ctx *ctx,
                                 const struct store_job *jobs, size_t n,
                                 enum job_result *res, struct mlc_err *errs);

/* True once the pool is stopping: a handler may stop at a safe point and
 * return WORKERS_RETRY (the job then runs again later). */
bool workers_job_cancelled(const struct workers_job_ctx *ctx);
/* True once the heartbeat found one of the handler's jobs taken over by
 * another worker: stop at the next safe point (the fence refuses ledger
 * writes anyway). */
bool workers_job_lease_lost(const struct workers_job_ctx *ctx);
/* Renews the lease for another lease_ms (every job of a batch). MLC_ESTATE
 * when it was lost (for a batch: when any was lost; the others are still
 * renewed). */
int workers_job_extend(struct workers_job_ctx *ctx, struct mlc_err *e);

/* The built-in noop handler (registered by workers_new). */
enum job_result workers_noop(struct workers_job_ctx *ctx,
                             const struct store_job *job, struct mlc_err *e);

struct workers;

struct workers_stats {
    uint64_t done;
    uint64_t retried;
    uint64_t held;
    uint64_t deferred;  /* not decidable yet, back later (no attempt spent) */
    uint64_t failed;    /* gave up after max_attempts */
    uint64_t errors;    /* store errors around claims and outcomes */
    uint64_t paused;    /* waits for a system, attempt given back */
};

/* A pool for cfg (takes its own reference). *out: caller frees with
 * workers_free. "noop" is registered already when MLC_DEBUG_JOBS is 1. */
int workers_new(struct mlc_config *cfg, struct workers **out, struct mlc_err *e);
/* Adds a handler for kind (copied); MLC_EEXIST when taken, MLC_ESTATE after
 * workers_start. */
int workers_register(struct workers *p, const char *kind,
                     workers_handler_fn fn, void *arg, struct mlc_err *e);
/* Adds a batch handler for kind: up to max_batch jobs (1..1000) per call.
 * Same errors as workers_register. */
int workers_register_batch(struct workers *p, const char *kind, size_t max_batch,
                           workers_batch_fn fn, void *arg, struct mlc_err *e);
/* True when kind has a handler (registered or built in). */
bool workers_has_handler(const struct workers *p, const char *kind);
/* The prefix of the workers' lease owners ("<ident>:w3"; copied): unique
 * per process incarnation, since a lease is fenced by its owner's name.
 * Before workers_start; without it "<host>:<pid>" is used. */
void workers_set_ident(struct workers *p, const char *ident);
/* The smallest batch share (when that many jobs are ready). */
#define WORKERS_SHARE_MIN 25

/* How many processes share the store, for the batch share (default 1):
 * count(ctx) is called at each batch claim, from worker threads. */
void workers_set_peers(struct workers *p, int (*count)(void *ctx), void *ctx);
/* Whether the calls a batch shares are scarce now (the BigCommerce budget
 * binds: pacer_scarce), asked at each batch claim from worker threads.
 * Scarce, a batch takes the whole share of the backlog, so that the fewest
 * batches spend the quota; otherwise half of it, so that the backlog's end
 * is spread over every worker (default: never scarce). */
void workers_set_scarce(struct workers *p, bool (*scarce)(void *ctx), void *ctx);
/* Starts cfg->workers.count threads. Threads open their store themselves and
 * retry that until stopped: see workers_running for readiness. */
int workers_start(struct workers *p, struct mlc_err *e);
/* Makes cfg (new reference taken) the config of the jobs that start next. */
void workers_set_config(struct workers *p, struct mlc_config *cfg);
/* The current config, with a new reference (caller drops with cfg_unref). */
struct mlc_config *workers_config(struct workers *p);
/* Threads that are up with an open store connection. */
int workers_running(struct workers *p);
int workers_count(const struct workers *p);
void workers_stats(struct workers *p, struct workers_stats *out);
/* Asks every thread to finish its current job and exit; waits at most
 * timeout_ms. MLC_OK when all exited (and were joined); MLC_ETIMEOUT when
 * some are still busy (their names and jobs are logged and in e). */
int workers_stop(struct workers *p, int64_t timeout_ms, struct mlc_err *e);
/* NULL-safe. After a stop that timed out, threads still running keep the
 * pool alive: it is then left to process exit instead of freed. */
void workers_free(struct workers *p);

struct health;
/* Reports the store's writability to h (borrowed; before workers_start):
 * a claim or an outcome the store refuses sets "store.write", the next
 * claim that goes through clears it (idle workers claim every 200 ms, so
 * it clears within a moment of the store taking writes again). */
void workers_set_health(struct workers *p, struct health *h);

#endif
