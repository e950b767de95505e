#include "daemon/daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bc/bc_client.h"
#include "core/health.h"
#include "core/jdate.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tz.h"
#include "store/credentials.h"
#include "bc/pacer.h"
#include "daemon/gauges.h"
#include "daemon/leader.h"
#include "daemon/orphans.h"
#include "daemon/service.h"
#include "daemon/webhook.h"
#include "net/httpd.h"
#include "notify/notify_send.h"
#include "store/store.h"
#include "report/daily.h"
#include "sync/catalog_flow.h"
#include "sync/customer_flow.h"
#include "sync/env.h"
#include "sync/hooks.h"
#include "sync/order_flow.h"
#include "sync/reconcile.h"
#include "jde/ais_session.h"
#include "console/console.h"

#define LOOP_MAX_WAIT_MS 1000 /* longest sigtimedwait between scheduler ticks */
#define RESUME_GAP_MAX_MS (15 * 60 * 1000) /* slowest resume of a flapping system */
#define HEALTH_WATERMARK "health.conditions"  /* the conditions, for mlc ping */
#define ALERTS_TICK_S    2  /* how often the leader looks at the alerts outbox */

/* The health task's view of one system whose jobs pause. */
struct pause_sys {
    const char *name;            /* "jde", "bigcommerce" */
    int64_t     last_resume_ms;  /* monotonic; 0: never */
    int64_t     gap_ms;          /* least time between resumes of this system */
};

/* A task that runs on the leader only (daemon/leader.h). */
struct singleton {
    struct daemon *d;
    const char    *name;
    sched_fn       fn;   /* called with the daemon */
    int64_t        term; /* the leader token it last ran under; -1 never */
};

#define MAX_SINGLETONS 8

struct daemon {
    char              *config_path;
    struct mlc_config *cfg;          /* main thread's current config */
    bool               log_level_fixed;
    struct workers    *workers;
    struct sched      *sched;
    struct httpd      *httpd;
    struct httpd      *httpd_admin;   /* server.admin_listen; NULL when unset */
    struct console    *console;       /* console.listen; NULL when unset */
    struct webhook    *webhook;      /* NULL when no webhook secret is configured */
    /* The flows' shared runtime (NULL when the BigCommerce or JDE credential
     * is missing: the daemon then only takes webhooks in, jobs wait). */
    struct env        *env;
    struct store      *task_st;      /* the scheduler tasks' own connection */
    struct mlc_secret *hook_secret;  /* custom header of our hooks, may be NULL */
    bool               store_ready;  /* daemon_start got past every store step */
    char               accounts_seen[32]; /* ACCOUNTS_MARK when last looked at */
    bool               workers_stuck; /* the drain timed out: threads still run */
    /* /readyz probes through this connection, one handler at a time. */
    pthread_mutex_t    probe_mu;
    /* /metrics reads its gauges through its own connection (a slow scrape
     * never holds up /readyz), one scrape at a time. */
    pthread_mutex_t    metrics_mu;
    struct store      *metrics_st;
    struct store      *probe;
    struct store_lock *lock;      /* one daemon per SQLite file */
    /* "<host>:<pid>:<random>": this process incarnation, the prefix of its
     * workers' lease owners and the holder of the leader lease. */
    char               ident[300];
    struct leader     *leader;        /* who runs the singleton tasks */
    /* The singleton tasks registered (scheduler contexts, main thread). */
    struct singleton   singletons[MAX_SINGLETONS];
    size_t             n_singletons;
    int64_t            lead_token;    /* the leadership term last logged; -1 none */
    atomic_bool        stopping;
    _Atomic uint64_t   reloads;
    struct service     svc;          /* the service manager: main thread only */
    /* The public listener, kept for a TLS reload: its routes and options
     * (without TLS), and a digest of the certificate and key it serves. */
    struct httpd_route pub_routes[4];
    size_t             n_pub_routes;
    struct httpd_opts  pub_opts;
    unsigned char      tls_digest[32];
    _Atomic uint64_t   reloads_rejected;
    _Atomic(struct httpd *) httpd_pub; /* for /metrics, set once serving */
    /* Why the daemon is not ready (core/health.h): every component reports
     * into it; /readyz and /metrics render it. */
    struct health     *health;
    struct store      *health_st;     /* the health task's own connection: its
                                         writes may wait, /readyz must not */
    uint64_t           health_saved;  /* version last written to the store */
    struct pause_sys   paused[2];     /* main thread only */
    struct nsend      *nsend;         /* the alerts sender (leader only), main thread */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "<host>:<pid>:<8 hex>": the random part tells apart two incarnations
 * with one pid (a container restarted with pid 1). */
static void make_ident(char *buf, size_t cap)
{
    char host[256];
    uint32_t nonce = 0;

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        nonce = (uint32_t)mono_ms() ^ (uint32_t)getpid();
    snprintf(buf, cap, "%s:%ld:%08x", host, (long)getpid(), nonce);
}

static int open_store(const struct mlc_config *cfg, struct store **out, struct mlc_err *e)
{
    return store_open_with(cfg->store.url, cfg->store.password_ref, out, e);
}

static void signal_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

int daemon_block_signals(struct mlc_err *e)
{
    sigset_t set;
    int rc;

    signal_set(&set);
    rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0)
        return mlc_err_set(e, MLC_EIO, "cannot block signals: %s", strerror(rc));
    return MLC_OK;
}

/* A store URL for the log: a DSN may hold a password, so only its scheme. */
static void store_label(const char *url, char *buf, size_t cap)
{
    const char *sep = url != NULL ? strstr(url, "://") : NULL;

    if (url == NULL)
        snprintf(buf, cap, "(none)");
    else if (sep != NULL)
        snprintf(buf, cap, "%.*s://[redacted]", (int)(sep - url), url);
    else
        snprintf(buf, cap, "%s", url);
}

static void apply_log_level(const struct daemon *d, const struct mlc_config *cfg)
{
    enum log_level lvl;

    if (d->log_level_fixed || cfg->log_level == NULL)
        return;
    if (log_parse_level(cfg->log_level, &lvl) == MLC_OK)
        log_set_level(lvl);
}

/* ---- HTTP handlers ------------------------------------------------------ */

static void h_healthz(const struct httpd_request *rq, struct httpd_response *rs,
                      void *ctx)
{
    (void)rq;
    (void)ctx;
    httpd_resp_static(rs, 200, "application/json", "{\"status\":\"ok\"}");
}

/* One reason of /readyz as a JSON object on its own line. */
static json_t *ready_reason(const char *name, const char *reason, int64_t since_ms)
{
    char since[JDATE_ISO8601_SIZE];
    json_t *o = json_pack("{s:s, s:s}", "condition", name, "reason", reason);

    if (o != NULL && since_ms > 0 &&
        jdate_iso8601_format(since_ms / 1000, since, sizeof(since), NULL) == MLC_OK)
        json_object_set_new(o, "since", json_string(since));
    return o;
}

/* 503: {"status":"unavailable","reason":FIRST,"conditions":[ one per line ]}. */
static void ready_503(struct httpd_response *rs, json_t *conds)
{
    size_t cap = 256, len, n = json_array_size(conds);
    json_t *c, *fs = json_string(json_string_value(
                         json_object_get(json_array_get(conds, 0), "reason")));
    char *buf, *first = fs != NULL ? json_dumps(fs, JSON_ENCODE_ANY) : NULL;
    size_t i;

    json_decref(fs);
    json_array_foreach(conds, i, c) {
        char *line = json_dumps(c, JSON_COMPACT);

        cap += line != NULL ? strlen(line) + 2 : 0;
        free(line);
    }
    cap += first != NULL ? strlen(first) : 0;
    if ((buf = malloc(cap)) == NULL) {
        free(first);
        httpd_resp_static(rs, 503, "application/json", "{\"status\":\"unavailable\"}\n");
        return;
    }
    len = (size_t)snprintf(buf, cap, "{\"status\":\"unavailable\",\"reason\":%s,"
                           "\"conditions\":[\n", first != NULL ? first : "\"\"");
    json_array_foreach(conds, i, c) {
        char *line = json_dumps(c, JSON_COMPACT);

        len += (size_t)snprintf(buf + len, cap - len, "%s%s\n", line != NULL ? line : "{}",
                                i + 1 < n ? "," : "");
        free(line);
    }
    len += (size_t)snprintf(buf + len, cap - len, "]}\n");
    free(first);
    httpd_resp_take(rs, 503, "application/json", buf, len < cap ? len : cap - 1);
}

/* 200 when the store answers, every worker runs and no health condition is
 * set; else 503 naming every reason (machine-readable "condition" names,
 * one per line). */
static void h_readyz(const struct httpd_request *rq, struct httpd_response *rs,
                     void *ctx)
{
    struct daemon *d = ctx;
    struct health_cond hc[HEALTH_MAX];
    int version = 0, running, rc;
    json_t *conds;
    struct mlc_err e;
    size_t n;
    char buf[128];

    (void)rq;
    if (atomic_load(&d->stopping)) {
        httpd_resp_static(rs, 503, "application/json",
                          "{\"status\":\"unavailable\",\"reason\":\"stopping\"}");
        return;
    }
    if ((conds = json_array()) == NULL) {
        httpd_resp_static(rs, 500, "text/plain", "out of memory\n");
        return;
    }
    pthread_mutex_lock(&d->probe_mu);
    rc = store_schema_version(d->probe, &version, &e);
    pthread_mutex_unlock(&d->probe_mu);
    if (rc != MLC_OK) {
        log_warn("daemon", "readiness: store not answering", LF_ERR(&e));
        json_array_append_new(conds, ready_reason("store.read", "store not answering", 0));
    }
    running = workers_running(d->workers);
    if (running < workers_count(d->workers)) {
        snprintf(buf, sizeof(buf), "workers running: %d of %d", running,
                 workers_count(d->workers));
        json_array_append_new(conds, ready_reason("workers.running", buf, 0));
    }
    n = health_list(d->health, hc, HEALTH_MAX);
    for (size_t i = 0; i < n && i < HEALTH_MAX; i++)
        json_array_append_new(conds, ready_reason(hc[i].name, hc[i].reason, hc[i].since_ms));
    if (json_array_size(conds) == 0)
        httpd_resp_static(rs, 200, "application/json", "{\"status\":\"ready\"}");
    else
        ready_503(rs, conds);
    json_decref(conds);
}

static void h_metrics(const struct httpd_request *rq, struct httpd_response *rs,
                      void *ctx)
{
    struct daemon *d = ctx;
    struct httpd *h = atomic_load(&d->httpd_pub);
    struct workers_stats st;
    struct metrics m;
    struct store_gauges g;
    struct gauges_in gin = { .quota_left = -1 };
    struct mlc_err e;
    size_t len = 0;
    char *text;

    (void)rq;
    metrics_init(&m);
    workers_stats(d->workers, &st);
    metrics_one(&m, "mlc_jobs_done_total", "counter",
                "Jobs finished successfully.", (int64_t)st.done);
    metrics_one(&m, "mlc_jobs_retried_total", "counter",
                "Job attempts that will be retried.", (int64_t)st.retried);
    metrics_one(&m, "mlc_jobs_held_total", "counter",
                "Jobs held for an operator (dead letter).", (int64_t)st.held);
    metrics_one(&m, "mlc_jobs_deferred_total", "counter",
                "Jobs not decidable yet (a create in doubt), back later without an attempt.",
                (int64_t)st.deferred);
    metrics_one(&m, "mlc_jobs_failed_total", "counter",
                "Jobs that gave up after the maximum attempts.", (int64_t)st.failed);
    metrics_one(&m, "mlc_worker_store_errors_total", "counter",
                "Store errors seen by workers.", (int64_t)st.errors);
    metrics_one(&m, "mlc_http_requests_total", "counter",
                "HTTP requests answered before this one.",
                h != NULL ? (int64_t)httpd_requests_total(h) : 0);
    metrics_one(&m, "mlc_http_requests_cut_total", "counter",
                "HTTP requests cut: not read whole within server.request_timeout_s.",
                h != NULL ? (int64_t)httpd_requests_cut(h) : 0);
    metrics_one(&m, "mlc_http_idle_closed_total", "counter",
                "HTTP connections closed: no request within server.request_timeout_s.",
                h != NULL ? (int64_t)httpd_idle_cut(h) : 0);
    metrics_one(&m, "mlc_config_reloads_total", "counter",
                "Configuration reloads applied.", (int64_t)atomic_load(&d->reloads));
    metrics_one(&m, "mlc_config_reload_errors_total", "counter",
                "Configuration reloads rejected.", (int64_t)atomic_load(&d->reloads_rejected));
    metrics_one(&m, "mlc_workers_running", "gauge",
                "Worker threads running with a store connection.",
                workers_running(d->workers));
    metrics_one(&m, "mlc_leader", "gauge",
                "1 while this process runs the singleton tasks (sweep, hook check, catalog poll).",
                leader_holds(d->leader, NULL) ? 1 : 0);
    webhook_metrics(d->webhook, &m);
    metrics_one(&m, "mlc_jobs_paused_total", "counter",
                "Job runs paused because a system was down or refused our credentials.",
                (int64_t)st.paused);
    pthread_mutex_lock(&d->metrics_mu);
    if (d->metrics_st != NULL) {
        gin.now_ms = store_now_ms(d->metrics_st);
        if (store_gauges_read(d->metrics_st, &g, &e) == MLC_OK)
            gin.store = &g;
        else
            log_warn("daemon", "metrics: store gauges not read", LF_ERR(&e));
    }
    pthread_mutex_unlock(&d->metrics_mu);
    metrics_one(&m, "mlc_jobs_paused", "gauge",
                "Jobs waiting for a system to answer again.",
                gin.store != NULL ? g.jobs[STORE_GAUGE_PAUSED] : 0);
    metrics_one(&m, "mlc_ready", "gauge",
                "1 while no health condition is set (see /readyz).",
                health_list(d->health, NULL, 0) == 0 ? 1 : 0);
    health_metrics(d->health, &m);
    if (d->env != NULL) {
        struct pacer_stats ps;

        pacer_get_stats(env_pacer(d->env), &ps);
        gin.quota_left = ps.last_left;
        gin.ais_up = ais_session_up(env_ais(d->env));
    }
    gauges_metrics(&m, &gin);
    if ((text = metrics_take(&m, &len)) == NULL) {
        httpd_resp_static(rs, 500, "text/plain", "out of memory\n");
        return;
    }
    httpd_resp_take(rs, 200, "text/plain; version=0.0.4", text, len);
}

/* ---- flows --------------------------------------------------------------- */

/* The checkpoint state of one job or batch. */
struct flow_cp {
    struct workers_job_ctx *jc;
    int64_t                 last_extend_ms; /* monotonic */
};

/* Between the long steps of a flow: stop at a safe point when the pool
 * stops (the job runs again later), else renew the lease once a quarter of
 * it has passed (a batch renews every job's lease: not at every step). */
static int flow_checkpoint(void *ctx, struct mlc_err *e)
{
    struct flow_cp *cp = ctx;
    int64_t now = mono_ms();
    int rc;

    if (workers_job_cancelled(cp->jc))
        return mlc_err_set(e, MLC_ESTATE, "stopping: the job resumes later");
    if (workers_job_lease_lost(cp->jc))
        return mlc_err_set(e, MLC_ESTATE, "lease lost: another worker took the job over");
    if (now - cp->last_extend_ms < cp->jc->lease_ms / 4)
        return MLC_OK;
    if ((rc = workers_job_extend(cp->jc, e)) == MLC_OK)
        cp->last_extend_ms = now;
    return rc;
}

static enum job_result job_result_of(enum flow_result r)
{
    switch (r) {
    case FLOW_DONE:  return WORKERS_DONE;
    case FLOW_HOLD:  return WORKERS_HOLD;
    case FLOW_PAUSE: return WORKERS_PAUSE;
    case FLOW_DEFER: return WORKERS_DEFER;
    default:         return WORKERS_RETRY;
    }
}

/* A flow's hold details to the worker's (static code name, currency copied). */
static void hold_out(const struct flow_hold_info *in, struct workers_hold *out)
{
    out->code = hold_code_name(in->code);
    snprintf(out->currency, sizeof(out->currency), "%s", in->currency);
    out->amount = in->amount;
}

/* order.sync, in batches: every job whose key parses goes into one
 * flow_orders_sync_batch; a key that does not holds its own job only. */
static void h_order_sync(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                         enum job_result *res, struct mlc_err *errs)
{
    struct flow_cp cp = { .jc = ctx, .last_extend_ms = mono_ms() };
    struct flow_run r = {
        .env = ctx->arg, .st = ctx->store, .cfg = ctx->cfg,
        .checkpoint = flow_checkpoint, .checkpoint_ctx = &cp,
    };
    int64_t *ids = calloc(n, sizeof(*ids)), *until = calloc(n, sizeof(*until));
    size_t *at = calloc(n, sizeof(*at));
    enum flow_result *fr = calloc(n, sizeof(*fr));
    struct mlc_err *fe = calloc(n, sizeof(*fe));
    struct flow_hold_info *hi = calloc(n, sizeof(*hi));
    struct mlc_err be;
    struct health_watch w;
    size_t k = 0;

    r.defer_until = until;
    r.hold = hi;
    health_watch_begin(env_health(ctx->arg), &w);
    r.watch = &w;
    if (ids == NULL || until == NULL || at == NULL || fr == NULL || fe == NULL || hi == NULL) {
        for (size_t i = 0; i < n; i++)
            mlc_err_set(&errs[i], MLC_ENOMEM, "out of memory");
        goto out;
    }
    r.actor = ctx->actor;
    for (size_t i = 0; i < n; i++) {
        if (flow_order_key_parse(jobs[i].key, &ids[k], &errs[i]) != MLC_OK) {
            res[i] = WORKERS_HOLD;
            continue;
        }
        at[k++] = i;
    }
    if (k == 0)
        goto out;
    mlc_err_clear(&be);
    if (flow_orders_sync_batch(&r, ids, k, fr, fe, &be) != MLC_OK) {
        for (size_t j = 0; j < k; j++) {
            errs[at[j]] = be;
            res[at[j]] = WORKERS_HOLD;
        }
        goto out;
    }
    for (size_t j = 0; j < k; j++) {
        res[at[j]] = job_result_of(fr[j]);
        errs[at[j]] = fe[j];
        ctx->defer_until[at[j]] = until[j];
        if (fr[j] == FLOW_PAUSE && ctx->pause_on_batch != NULL)
            ctx->pause_on_batch[at[j]] = flow_pause_system(&r);
        if (fr[j] == FLOW_HOLD && ctx->hold != NULL)
            hold_out(&hi[j], &ctx->hold[at[j]]);
    }
out:
    health_watch_end(&w);
    free(ids);
    free(until);
    free(at);
    free(fr);
    free(fe);
    free(hi);
}

/* customer.sync: one customer per job (sync/customer_flow.h). */
static enum job_result h_customer_sync(struct workers_job_ctx *ctx, const struct store_job *job,
                                       struct mlc_err *e)
{
    struct flow_cp cp = { .jc = ctx, .last_extend_ms = mono_ms() };
    struct flow_run r = {
        .env = ctx->arg, .st = ctx->store, .cfg = ctx->cfg,
        .checkpoint = flow_checkpoint, .checkpoint_ctx = &cp,
    };
    enum flow_result fr = FLOW_RETRY;
    struct flow_hold_info hi = { 0 };
    struct health_watch w;
    int64_t id;
    int rc;

    r.defer_until = ctx->defer_until;
    r.hold = &hi;
    if (cust_key_parse(job->key, &id, e) != MLC_OK)
        return WORKERS_HOLD;
    r.actor = ctx->actor;
    health_watch_begin(env_health(ctx->arg), &w);
    r.watch = &w;
    rc = cust_sync(&r, id, &fr, e);
    health_watch_end(&w);
    if (rc != MLC_OK)
        return WORKERS_HOLD;
    if (fr == FLOW_PAUSE)
        ctx->pause_on = flow_pause_system(&r);
    if (fr == FLOW_HOLD && ctx->hold != NULL)
        hold_out(&hi, ctx->hold);
    return job_result_of(fr);
}

/* catalog.sync, in batches: products edited in BigCommerce get JDE's name
 * and price back (sync/catalog_flow.h). */
static void h_catalog_sync(struct workers_job_ctx *ctx, const struct store_job *jobs, size_t n,
                           enum job_result *res, struct mlc_err *errs)
{
    struct flow_cp cp = { .jc = ctx, .last_extend_ms = mono_ms() };
    const char **keys = calloc(n, sizeof(*keys));
    enum cat_outcome *cr = calloc(n, sizeof(*cr));
    struct cat_run r = {
        .env = ctx->arg, .st = ctx->store, .cfg = ctx->cfg,
        .checkpoint = flow_checkpoint, .checkpoint_ctx = &cp,
    };
    struct cat_stats stats;
    struct mlc_err be;

    if (keys == NULL || cr == NULL) {
        for (size_t i = 0; i < n; i++)
            mlc_err_set(&errs[i], MLC_ENOMEM, "out of memory");
        goto out;
    }
    r.actor = ctx->actor;
    for (size_t i = 0; i < n; i++)
        keys[i] = jobs[i].key;
    mlc_err_clear(&be);
    if (cat_sync_products(&r, keys, n, cr, errs, &stats, &be) != MLC_OK) {
        for (size_t i = 0; i < n; i++)
            errs[i] = be;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        res[i] = cr[i] == CAT_DONE ? WORKERS_DONE
               : cr[i] == CAT_HOLD ? WORKERS_HOLD : WORKERS_RETRY;
out:
    free(keys);
    free(cr);
}

/* Batches share BigCommerce calls: workers_set_scarce. */
static bool bc_scarce(void *ctx)
{
    struct pacer *p = env_pacer(ctx);

    return p != NULL && pacer_scarce(p);
}

/* A handler for exactly the kinds jobkind_handled accepts under the
 * config: the enqueuers ask the same function, so nothing is queued that
 * no worker takes. */
static int register_handlers(struct daemon *d, struct mlc_err *e)
{
    const struct mlc_config *cfg = d->cfg;
    size_t batch = (size_t)cfg->workers.batch_max;
    int rc = MLC_OK;

    if (jobkind_handled(cfg, JOB_ORDER_SYNC))
        rc = workers_register_batch(d->workers, JOB_ORDER_SYNC, batch, h_order_sync, d->env, e);
    if (rc == MLC_OK && jobkind_handled(cfg, JOB_CUSTOMER_SYNC))
        rc = workers_register(d->workers, JOB_CUSTOMER_SYNC, h_customer_sync, d->env, e);
    if (rc == MLC_OK && jobkind_handled(cfg, JOB_CATALOG_SYNC))
        rc = workers_register_batch(d->workers, JOB_CATALOG_SYNC, batch, h_catalog_sync,
                                    d->env, e);
    for (size_t i = 0; rc == MLC_OK && i < jobkind_count(); i++) {
        const char *k = jobkind_at(i)->name;

        if (jobkind_handled(cfg, k) != workers_has_handler(d->workers, k))
            rc = mlc_err_set(e, MLC_ESTATE, "job kind %s: the handlers registered and "
                             "core/jobkind disagree", k);
    }
    return rc;
}

static int task_hooks(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    struct hooks_report rep;
    struct bc_client *bc;
    int rc;

    if ((rc = env_bc(d->env, &bc, e)) != MLC_OK)
        return rc;
    rc = hooks_ensure(bc, d->cfg, d->hook_secret, d->task_st, &rep, e);
    if (rc == MLC_OK && !rep.skipped && (rep.created || rep.reactivated || rep.updated ||
                                          rep.deleted))
        log_info("daemon", "hooks repaired", LF_UINT("created", rep.created),
                 LF_UINT("reactivated", rep.reactivated), LF_UINT("updated", rep.updated),
                 LF_UINT("deleted", rep.deleted));
    return rc;
}

static int task_reconcile(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    struct recon_stats stats;
    struct bc_client *bc;
    int rc;

    if ((rc = env_bc(d->env, &bc, e)) != MLC_OK)
        return rc;
    rc = recon_sweep(bc, d->task_st, d->cfg, store_now_ms(d->task_st), &stats, e);
    if (rc == MLC_OK && stats.enqueued > 0)
        log_info("daemon", "reconcile enqueued orders", LF_UINT("enqueued", stats.enqueued),
                 LF_UINT("orders_seen", stats.orders_seen),
                 LF_UINT("refunds_seen", stats.refunds_seen));
    return rc;
}

/* The chart-of-accounts caches. Each process caches on its own, but the
 * refresh is one decision for the whole cluster: the leader moves this
 * mark (fenced by its lease), and every process drops its cache when it
 * sees the mark move (task_accounts_follow, every ACCOUNTS_FOLLOW_S). */
#define ACCOUNTS_MARK     "accounts.refreshed"
#define ACCOUNTS_FOLLOW_S 10

static int task_accounts_follow(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    char mark[sizeof(d->accounts_seen)];
    int rc = store_watermark_get(d->task_st, ACCOUNTS_MARK, mark, sizeof(mark), e);

    if (rc == MLC_ENOTFOUND)
        return MLC_OK;
    if (rc != MLC_OK)
        return rc;
    /* The first look only learns the mark: the cache starts empty. */
    if (d->accounts_seen[0] != '\0' && strcmp(mark, d->accounts_seen) != 0) {
        env_task_accounts(d->env, e);
        log_info("daemon", "account cache dropped: the leader refreshed it", LF_STR("mark", mark));
    }
    memcpy(d->accounts_seen, mark, sizeof(mark));
    return MLC_OK;
}

static int task_accounts(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    char mark[32];
    int rc;

    snprintf(mark, sizeof(mark), "%lld", (long long)store_now_ms(d->task_st));
    if ((rc = store_watermark_set(d->task_st, ACCOUNTS_MARK, mark, e)) != MLC_OK)
        return rc;
    return task_accounts_follow(d, e);
}

/* JDE items and prices -> BigCommerce (sync/catalog_flow.h). */
/* The daily reconciliation (report/daily.h): due once a day. */
static int task_daily_report(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;

    return rpt_daily_run(d->env, d->task_st, d->cfg, store_now_ms(d->task_st) / 1000, e);
}

static int task_catalog(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    struct cat_stats stats;

    return cat_poll(d->env, d->task_st, d->cfg, store_now_ms(d->task_st), &stats, e);
}

/* ---- health -------------------------------------------------------------- */

/* The conditions into the store (watermark "health.conditions"), so that
 * `mlc ping` can tell what the daemon sees: {"at": ms, "daemon": "running"
 * or "stopped", "conditions": [{"condition", "reason", "since"}]}. */
static void health_save(struct daemon *d, bool stopped)
{
    struct health_cond hc[HEALTH_MAX];
    size_t n = stopped ? 0 : health_list(d->health, hc, HEALTH_MAX);
    uint64_t v = health_version(d->health);
    json_t *o, *arr;
    struct mlc_err e;
    char *text;

    if (d->health_st == NULL)
        return;
    o = json_pack("{s:I, s:s, s:[]}", "at", (json_int_t)store_now_ms(d->health_st),
                  "daemon", stopped ? "stopped" : "running", "conditions");
    arr = json_object_get(o, "conditions");
    for (size_t i = 0; arr != NULL && i < n && i < HEALTH_MAX; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "condition", hc[i].name,
                                             "reason", hc[i].reason,
                                             "since", (json_int_t)hc[i].since_ms));
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text == NULL)
        return;
    if (store_watermark_set(d->health_st, HEALTH_WATERMARK, text, &e) == MLC_OK)
        d->health_saved = v;
    else
        log_warn("daemon", "cannot record the health conditions", LF_ERR(&e));
    free(text);
}

/* The system answers: its paused jobs become due. A system that goes down
 * again right after each resume (a token missing one scope, say) is resumed
 * less and less often (up to RESUME_GAP_MAX_MS), so paused jobs never
 * hammer it; a quiet spell resets the pace. */
static void resume_paused(struct daemon *d, struct pause_sys *ps, int64_t now)
{
    int64_t base = (int64_t)d->cfg->schedule.health_probe_interval * 1000, n = 0;
    struct mlc_err e;
    int rc;

    if (ps->gap_ms < base)
        ps->gap_ms = base;
    if (ps->last_resume_ms > 0 && now - ps->last_resume_ms < ps->gap_ms)
        return;
    rc = store_jobs_resume(d->health_st, ps->name, &n, &e);
    if (rc != MLC_OK) {
        log_warn("daemon", "cannot resume paused jobs", LF_STR("system", ps->name), LF_ERR(&e));
        return;
    }
    if (n == 0)
        return;
    if (ps->last_resume_ms > 0 && now - ps->last_resume_ms < 2 * ps->gap_ms)
        ps->gap_ms = ps->gap_ms * 2 < RESUME_GAP_MAX_MS ? ps->gap_ms * 2 : RESUME_GAP_MAX_MS;
    else
        ps->gap_ms = base;
    ps->last_resume_ms = now;
    log_info("daemon", "paused jobs resumed: the system answers again",
             LF_STR("system", ps->name), LF_INT("jobs", n));
}

/* Every health_probe_interval: a system with a condition set is asked once
 * (cheaply: env_probe); a system without one gets its paused jobs back;
 * the conditions are recorded in the store when they changed. */
static int task_health(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    int64_t now = mono_ms();

    (void)e;
    for (size_t i = 0; d->env != NULL && i < sizeof(d->paused) / sizeof(d->paused[0]); i++) {
        struct pause_sys *ps = &d->paused[i];
        struct mlc_err pe;

        if (!health_system_ok(d->health, ps->name) &&
            env_probe(d->env, ps->name, &pe) != MLC_OK)
            log_debug("daemon", "probe: still failing", LF_STR("system", ps->name),
                      LF_ERR(&pe));
        if (health_system_ok(d->health, ps->name))
            resume_paused(d, ps, now);
    }
    if (health_version(d->health) != d->health_saved)
        health_save(d, false);
    return MLC_OK;
}

/* ---- alerts ---------------------------------------------------------------- */

/* The leader sends the alerts (notify/notify_send.h): systems down past
 * alerts.down_after_s become alerts, then every channel that is due gets
 * its digest. Not a singleton task: it runs every few seconds, and one
 * audit row a run would drown the trail; its writes are fenced the same. */
static int task_alerts(void *ctx, struct mlc_err *e)
{
    struct daemon *d = ctx;
    struct health_cond hc[HEALTH_MAX];
    size_t n = health_list(d->health, hc, HEALTH_MAX);
    int64_t token = 0, now;
    int rc;

    if (!leader_holds(d->leader, &token))
        return MLC_OK;
    if (token > 0 &&
        (rc = store_fence_lease(d->task_st, LEADER_LEASE, d->ident, token, e)) != MLC_OK)
        return rc;
    now = store_now_ms(d->task_st);
    rc = nsend_health(d->nsend, d->cfg, d->task_st, hc, n < HEALTH_MAX ? n : HEALTH_MAX, now, e);
    if (rc == MLC_OK)
        rc = nsend_run(d->nsend, d->cfg, d->task_st, now, e);
    return rc;
}

/* Registers one interval task (seconds; 0 disables it). */
static int add_task(struct daemon *d, const char *name, int interval_s, sched_fn fn,
                    void *ctx, struct mlc_err *e)
{
    if (interval_s <= 0)
        return MLC_OK;
    return sched_add(d->sched, name, (int64_t)interval_s * 1000, fn, ctx, e);
}

/* One run of a singleton task, for the audit: who ran it under which
 * token and when, so that runs on two processes at once would show. */
static void singleton_audit(struct daemon *d, const char *name, int64_t token,
                            int64_t t0, int64_t t1, int rc)
{
    char entity[64], detail[400];
    struct store_audit a = { .actor = "scheduler", .entity = entity, .action = "run",
                             .outcome = rc == MLC_OK ? "ok" : "error", .detail = detail };
    struct mlc_err e;

    snprintf(entity, sizeof(entity), "task:%s", name);
    snprintf(detail, sizeof(detail),
             "{\"holder\":\"%s\",\"token\":%lld,\"started\":%lld,\"ended\":%lld}",
             d->ident, (long long)token, (long long)t0, (long long)t1);
    if (store_audit_add(d->task_st, &a, &e) != MLC_OK)
        log_warn("daemon", "cannot audit a task run", LF_STR("task", name), LF_ERR(&e));
}

/* Runs a singleton task when this process leads; its transactions commit
 * only while the lease is still ours (store_fence_lease). */
static int task_singleton(void *ctx, struct mlc_err *e)
{
    struct singleton *t = ctx;
    struct daemon *d = t->d;
    int64_t token = 0, t0, t1;
    int rc, leak;

    if (!leader_holds(d->leader, &token))
        return MLC_OK; /* another process leads and runs it */
    if (token > 0 &&
        (rc = store_fence_lease(d->task_st, LEADER_LEASE, d->ident, token, e)) != MLC_OK)
        return rc;
    t->term = token;
    t0 = store_now_ms(d->task_st);
    rc = t->fn(d, e);
    t1 = store_now_ms(d->task_st);
    if ((leak = store_tx_reset(d->task_st)) > 0) /* a bug: see store_tx_open */
        log_error("daemon", "a task left a store transaction open: rolled back",
                  LF_STR("task", t->name), LF_INT("levels", leak));
    singleton_audit(d, t->name, token, t0, t1, rc);
    return rc;
}

/* In a new leadership term every singleton task runs at once (once), as in
 * a restarted daemon: the turns this process skipped while another led
 * would otherwise hold a task back up to its whole interval (a daily
 * reconcile skipped for a day after a failover). Main thread. */
static void singletons_on_lead(struct daemon *d)
{
    int64_t token = 0;

    if (d->n_singletons == 0 || !leader_holds(d->leader, &token))
        return;
    if (token != d->lead_token) {
        if (d->lead_token >= 0)
            log_info("daemon", "leadership taken: the singleton tasks run now",
                     LF_INT("token", token));
        d->lead_token = token;
    }
    for (size_t i = 0; i < d->n_singletons; i++)
        if (d->singletons[i].term != token)
            sched_make_due(d->sched, d->singletons[i].name);
}

/* Registers a singleton task (seconds; 0 disables it). */
static int add_singleton(struct daemon *d, const char *name, int interval_s, sched_fn fn,
                         struct mlc_err *e)
{
    struct singleton *t;

    if (interval_s <= 0)
        return MLC_OK;
    if (d->n_singletons == MAX_SINGLETONS)
        return mlc_err_set(e, MLC_ESTATE, "daemon: too many singleton tasks");
    t = &d->singletons[d->n_singletons++];
    *t = (struct singleton){ .d = d, .name = name, .fn = fn, .term = -1 };
    return add_task(d, name, interval_s, task_singleton, t, e);
}

/* The order flow and its tasks. Missing credentials only disable the flows
 * (logged): webhooks are still taken in and their jobs wait for a restart
 * with the credentials stored. */
static int start_flows(struct daemon *d, struct mlc_err *e)
{
    const struct mlc_config *cfg = d->cfg;
    const struct cfg_schedule *sc = &cfg->schedule;
    struct vault *v = NULL;
    struct mlc_err fe;
    int rc;

    /* GL dates: the zone is process-wide, so before any thread starts. */
    if ((rc = tz_init(cfg->posting.timezone != NULL ? cfg->posting.timezone : "UTC", e)) != MLC_OK) {
        mlc_err_wrap(e, "posting.timezone");
        return rc;
    }
    mlc_err_clear(&fe);
    if (env_new(d->cfg, d->probe, &d->env, &fe) != MLC_OK) {
        log_error("daemon", "order flow disabled: credentials not available",
                  LF_ERR(&fe));
        health_set(d->health, HEALTH_FLOWS_DISABLED, "the order flow is disabled until a "
                   "restart: %s", fe.msg);
        return MLC_OK;
    }
    env_set_health(d->env, d->health);
    if ((rc = open_store(cfg, &d->task_st, e)) != MLC_OK) {
        mlc_err_wrap(e, "scheduler store");
        return rc;
    }
    if (cfg->bigcommerce.webhook_secret_ref != NULL) {
        rc = credentials_open_vault(cfg, &v, e);
        if (rc == MLC_OK)
            rc = credentials_load(v, d->probe, cfg->bigcommerce.webhook_secret_ref,
                                  &d->hook_secret, e);
        vault_free(v);
        if (rc != MLC_OK) {
            mlc_err_wrap(e, "hooks");
            return rc;
        }
    }
    rc = register_handlers(d, e);
    workers_set_scarce(d->workers, bc_scarce, d->env);
    if (rc == MLC_OK && hooks_enabled(cfg))
        rc = add_singleton(d, "hooks", sc->hooks_interval, task_hooks, e);
    if (rc == MLC_OK)
        rc = add_singleton(d, "reconcile", sc->reconcile_interval, task_reconcile, e);
    if (rc == MLC_OK)
        rc = add_task(d, "ais_keepalive", sc->session_keepalive_interval,
                      env_task_keepalive, d->env, e);
    if (rc == MLC_OK)
        rc = add_singleton(d, "accounts_refresh", sc->accounts_refresh_interval,
                           task_accounts, e);
    if (rc == MLC_OK)
        rc = add_task(d, "accounts_follow", ACCOUNTS_FOLLOW_S < sc->accounts_refresh_interval
                      ? ACCOUNTS_FOLLOW_S : sc->accounts_refresh_interval,
                      task_accounts_follow, d, e);
    if (rc == MLC_OK && cfg->catalog.enabled)
        rc = add_singleton(d, "catalog_poll", sc->catalog_poll_interval, task_catalog, e);
    if (rc == MLC_OK && cfg->report.reconcile_at != NULL)
        rc = add_singleton(d, "daily_report", RPT_DAILY_CHECK_S, task_daily_report, e);
    if (rc == MLC_OK)
        rc = nsend_new(&d->nsend, e);
    if (rc == MLC_OK)
        rc = add_task(d, "alerts", ALERTS_TICK_S, task_alerts, d, e);
    if (rc == MLC_OK)
        log_info("daemon", "order flow enabled", LF_STR("job", JOB_ORDER_SYNC),
                 LF_STR("timezone", cfg->posting.timezone),
                 LF_BOOL("hooks", hooks_enabled(cfg)),
                 LF_BOOL("customers", cfg->customers.enabled),
                 LF_BOOL("catalog", cfg->catalog.enabled));
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* cfg: takes its own reference. config_path is reloaded on SIGHUP.
 * log_level_fixed: true when the command line set the level (a reload then
 * keeps it). *out: caller frees with daemon_free. */
static int daemon_new(const char *config_path, struct mlc_config *cfg,
               bool log_level_fixed, struct daemon **out, struct mlc_err *e)
{
    struct daemon *d;
    int rc;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "daemon: out of memory");
    pthread_mutex_init(&d->probe_mu, NULL);
    pthread_mutex_init(&d->metrics_mu, NULL);
    d->cfg = cfg_ref(cfg);
    d->log_level_fixed = log_level_fixed;
    d->lead_token = -1;
    d->config_path = strdup(config_path);
    if (d->config_path == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "daemon: out of memory");
        goto fail;
    }
    make_ident(d->ident, sizeof(d->ident));
    d->paused[0].name = "jde";
    d->paused[1].name = "bigcommerce";
    rc = health_new(&d->health, e);
    if (rc == MLC_OK)
        rc = workers_new(cfg, &d->workers, e);
    if (rc == MLC_OK)
        rc = sched_new(&d->sched, e);
    if (rc != MLC_OK)
        goto fail;
    workers_set_health(d->workers, d->health);
    workers_set_ident(d->workers, d->ident);
    *out = d;
    return MLC_OK;
fail:
    daemon_free(d);
    return rc;
}

/* A webhook said a resource changed: the flows' caches drop what they
 * hold about it (a product's categories), whether or not it queues a job. */
static void resource_changed(void *env, const char *resource)
{
    env_resource_changed(env, resource);
}

/* The webhook endpoint with its secrets, or a log line saying it is off. */
static int start_webhook(struct daemon *d, struct mlc_err *e)
{
    const struct cfg_bigcommerce *bc = &d->cfg->bigcommerce;
    int rc;

    if (!webhook_enabled(d->cfg)) {
        log_info("daemon", "webhooks disabled: no bigcommerce.webhook_secret_ref "
                 "or client_secret_ref configured");
        return MLC_OK;
    }
    rc = webhook_from_config(d->cfg, d->probe, &d->webhook, e);
    if (rc != MLC_OK)
        return rc;
    log_info("daemon", "webhooks enabled", LF_STR("path", WEBHOOK_PATH),
             LF_BOOL("custom_header", bc->webhook_secret_ref != NULL),
             LF_BOOL("signature", bc->client_secret_ref != NULL));
    return MLC_OK;
}

/* This process alone holds the store (store_lock): every lease still in
 * it belongs to a daemon that died. (On a shared store other daemons hold
 * live leases: there a dead process's jobs wait out their lease.) Those jobs run again now, not a whole
 * lease later; a create one of them had in flight is in the ledger as
 * PENDING and is looked up (and settled) before anything is sent again. */
static int leader_peers(void *ctx)
{
    return leader_processes(ctx);
}

/* The leader lease on its own connection when the store is shared; a
 * process alone on an SQLite file simply leads. */
static int start_leader(struct daemon *d, struct mlc_err *e)
{
    struct store *st = NULL;
    int rc;

    if (store_url_shared(d->cfg->store.url) &&
        (rc = open_store(d->cfg, &st, e)) != MLC_OK) {
        mlc_err_wrap(e, "leader store");
        return rc;
    }
    rc = leader_start(st, d->ident, (int64_t)d->cfg->schedule.leader_lease_s * 1000,
                      &d->leader, e);
    if (rc == MLC_OK)
        workers_set_peers(d->workers, leader_peers, d->leader);
    return rc;
}

static int recover_leases(struct daemon *d, struct mlc_err *e)
{
    struct store_audit a = { .actor = "daemon", .entity = "jobs", .action = "recover",
                             .outcome = "ok" };
    char detail[64];
    int64_t n = 0;
    int rc;

    if ((rc = store_job_release_leases(d->probe, &n, e)) != MLC_OK) {
        mlc_err_wrap(e, "releasing the leases of a previous process");
        return rc;
    }
    if (n == 0)
        return MLC_OK;
    snprintf(detail, sizeof(detail), "{\"released\":%lld}", (long long)n);
    a.detail = detail;
    if (store_audit_add(d->probe, &a, e) != MLC_OK)
        log_warn("daemon", "cannot audit the recovered jobs", LF_ERR(e));
    log_warn("daemon", "jobs left running by a previous process run again now",
             LF_INT("jobs", n));
    return MLC_OK;
}

/* Not fatal: without it /metrics says mlc_store_gauges_up 0. */
static void open_metrics_store(struct daemon *d)
{
    struct mlc_err me;

    mlc_err_clear(&me);
    if (open_store(d->cfg, &d->metrics_st, &me) != MLC_OK) {
        log_warn("daemon", "metrics: no store connection, the store gauges read 0",
                 LF_ERR(&me));
        d->metrics_st = NULL;
    }
}

static const char *public_routes(const struct daemon *d)
{
    if (d->cfg->server.public_metrics)
        return d->webhook != NULL ? "healthz readyz metrics webhooks" : "healthz readyz metrics";
    return d->webhook != NULL ? "healthz readyz webhooks" : "healthz readyz";
}

/* server.admin_listen: health and metrics only, never the webhook route,
 * on a small pool of its own with the public listener's limits. */
#define TLS_FILE_MAX (1024 * 1024)

/* Reads a PEM file whole into *text (NUL-terminated, caller frees; for the
 * key, the caller wipes it too). A key file must not be open to others or
 * writable by the group, as the master key file. */
static int read_pem(const char *path, bool key, char **text, size_t *len, struct mlc_err *e)
{
    struct stat sb;
    FILE *f = NULL;
    char *buf = NULL;
    int rc = MLC_OK;

    *text = NULL;
    if (stat(path, &sb) != 0)
        return mlc_err_set(e, MLC_EIO, "%s: cannot read: %m", path);
    if (key && (sb.st_mode & 0027) != 0)
        return mlc_err_set(e, MLC_EAUTH, "%s has mode %04o: a private key must not be "
                           "group-writable or readable by others (chmod 0600 %s)", path,
                           (unsigned)(sb.st_mode & 07777), path);
    if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 || sb.st_size > TLS_FILE_MAX)
        return mlc_err_set(e, MLC_EINVAL, "%s: not a PEM file of 1 byte to 1 MiB", path);
    buf = malloc((size_t)sb.st_size + 1);
    f = fopen(path, "rb");
    if (buf == NULL || f == NULL) {
        rc = mlc_err_set(e, buf == NULL ? MLC_ENOMEM : MLC_EIO, "%s: cannot read: %m", path);
        goto out;
    }
    *len = fread(buf, 1, (size_t)sb.st_size, f);
    buf[*len] = '\0';
    *text = buf;
    buf = NULL;
out:
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}

/* Reads cfg's certificate and key (*cert, *key: caller frees, and wipes
 * the key) and their digest. */
static int read_tls(const struct cfg_server *sv, char **cert, size_t *cert_len, char **key,
                    size_t *key_len, unsigned char digest[32], struct mlc_err *e)
{
    crypto_generichash_state st;
    int rc = read_pem(sv->tls_cert_file, false, cert, cert_len, e);

    if (rc == MLC_OK)
        rc = read_pem(sv->tls_key_file, true, key, key_len, e);
    if (rc != MLC_OK)
        return rc;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)*cert, *cert_len);
    crypto_generichash_update(&st, (const unsigned char *)*key, *key_len);
    crypto_generichash_final(&st, digest, 32);
    return MLC_OK;
}

static void free_tls(char *cert, char *key, size_t key_len)
{
    if (key != NULL)
        sodium_memzero(key, key_len);
    free(key);
    free(cert);
}

/* The public listener under cfg (TLS when server.tls_cert_file is set),
 * with the routes and options daemon_start kept. digest: of the certificate
 * and key served (zeros without TLS). */
static int start_public(struct daemon *d, const struct mlc_config *cfg, struct httpd **out,
                        unsigned char digest[32], struct mlc_err *e)
{
    const struct cfg_server *sv = &cfg->server;
    struct httpd_opts ho = d->pub_opts;
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    int rc = MLC_OK;

    memset(digest, 0, 32);
    if (sv->tls_cert_file != NULL) {
        rc = read_tls(sv, &cert, &cert_len, &key, &key_len, digest, e);
        if (rc != MLC_OK)
            goto out;
        ho.tls_cert_pem = cert;
        ho.tls_key_pem = key;
        ho.reuse_port = true;
    }
    rc = httpd_start(&ho, d->pub_routes, d->n_pub_routes, out, e);
out:
    free_tls(cert, key, key_len);
    if (rc != MLC_OK && sv->tls_cert_file != NULL)
        mlc_err_wrap(e, "server.tls_cert_file / tls_key_file");
    return rc;
}

/* SIGHUP with TLS: when the certificate or key changed on disk, a new
 * listener takes the port (SO_REUSEPORT) before the old one stops, so no
 * delivery is refused meanwhile. A file that cannot be used keeps the old
 * listener, and the log says why. */
static void reload_tls(struct daemon *d, const struct mlc_config *ncfg)
{
    unsigned char digest[32];
    struct httpd *nh = NULL, *old = d->httpd;
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    struct mlc_err e;
    int rc;

    if (ncfg->server.tls_cert_file == NULL || d->cfg->server.tls_cert_file == NULL ||
        old == NULL)
        return;
    mlc_err_clear(&e);
    rc = read_tls(&ncfg->server, &cert, &cert_len, &key, &key_len, digest, &e);
    free_tls(cert, key, key_len);
    if (rc == MLC_OK && sodium_memcmp(digest, d->tls_digest, sizeof(digest)) == 0)
        return; /* unchanged: keep the running one */
    if (rc == MLC_OK)
        rc = start_public(d, ncfg, &nh, digest, &e);
    if (rc != MLC_OK) {
        log_error("daemon", "TLS certificate not reloaded: the listener keeps the old one",
                  LF_ERR(&e));
        return;
    }
    d->httpd = nh;
    atomic_store(&d->httpd_pub, nh);
    memcpy(d->tls_digest, digest, sizeof(digest));
    httpd_free(old);
    log_info("daemon", "TLS certificate reloaded", LF_STR("cert", ncfg->server.tls_cert_file),
             LF_UINT("port", httpd_port(nh)));
}

static int start_admin(struct daemon *d, const struct httpd_opts *pub, struct mlc_err *e)
{
    struct httpd_route admin[] = {
        { "GET", "/healthz", h_healthz, d },
        { "GET", "/readyz", h_readyz, d },
        { "GET", "/metrics", h_metrics, d },
    };
    struct httpd_opts ho = *pub;
    int rc;

    if (d->cfg->server.admin_listen == NULL)
        return MLC_OK;
    ho.tls_cert_pem = ho.tls_key_pem = NULL; /* loopback, plain HTTP */
    ho.reuse_port = false;
    ho.listen = d->cfg->server.admin_listen;
    ho.threads = 2;
    rc = httpd_start(&ho, admin, sizeof(admin) / sizeof(admin[0]), &d->httpd_admin, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "server.admin_listen %s", ho.listen);
        return rc;
    }
    if (strncmp(ho.listen, "127.", 4) != 0 && strncmp(ho.listen, "[::1]:", 6) != 0)
        log_warn("daemon", "the admin listener is not on loopback: keep its address private",
                 LF_STR("listen", ho.listen));
    log_info("daemon", "admin listener ready", LF_STR("listen", ho.listen),
             LF_UINT("port", httpd_port(d->httpd_admin)),
             LF_STR("routes", "healthz readyz metrics"));
    return MLC_OK;
}

/* console.listen: the web console on a listener of its own (console/). */
static int start_console(struct daemon *d, struct mlc_err *e)
{
    const struct console_deps deps = { .health = d->health, .env = d->env };

    if (d->cfg->console.listen == NULL)
        return MLC_OK;
    return console_start(d->cfg, &deps, &d->console, e);
}

/* Opens the store once (migrations, fail fast), starts the workers and the
 * HTTP server, and logs "ready". */
static int daemon_start(struct daemon *d, struct mlc_err *e)
{
    const struct cfg_server *sv = &d->cfg->server;
    struct httpd_route routes[] = {
        { "GET", "/healthz", h_healthz, d },
        { "GET", "/readyz", h_readyz, d },
        { "GET", "/metrics", h_metrics, d },   /* third: dropped when not public */
        { "POST", WEBHOOK_PATH, webhook_handle, NULL }, /* last: only when enabled */
    };
    size_t n_routes = sizeof(routes) / sizeof(routes[0]);
    struct httpd_opts ho = {
        .listen = sv->listen,
        .threads = sv->threads > 0 ? (unsigned)sv->threads : 1,
        .max_connections = sv->max_connections > 0 ? (unsigned)sv->max_connections : 0,
        .per_ip_limit = (unsigned)sv->max_connections_per_ip,
        .connection_timeout_s = sv->connection_timeout_s > 0
                                ? (unsigned)sv->connection_timeout_s : 30,
        .request_timeout_ms = (unsigned)sv->request_timeout_s * 1000u,
        .max_body_bytes = sv->max_body_bytes,
    };
    char label[256];
    size_t held = 0;
    int rc;

    store_label(d->cfg->store.url, label, sizeof(label));
    log_info("daemon", "starting", LF_STR("version", MLC_VERSION),
             LF_STR("config", d->config_path), LF_STR("listen", sv->listen),
             LF_INT("workers", d->cfg->workers.count), LF_STR("store", label),
             LF_STR("ident", d->ident));
    rc = store_lock(d->cfg->store.url, &d->lock, e);
    if (rc != MLC_OK)
        return rc;
    /* Migrations run here, once, before any worker opens its connection. */
    rc = open_store(d->cfg, &d->probe, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "store %s", label);
        return rc;
    }
    if (d->lock != NULL && (rc = recover_leases(d, e)) != MLC_OK)
        return rc;
    if ((rc = start_leader(d, e)) != MLC_OK)
        return rc;
    rc = start_webhook(d, e);
    if (rc != MLC_OK)
        return rc;
    routes[n_routes - 1].ctx = d->webhook;
    if (d->webhook == NULL)
        n_routes--;
    if (!sv->public_metrics) {
        routes[2] = routes[3];
        n_routes--;
    }
    rc = start_flows(d, e);
    if (rc == MLC_OK && d->webhook != NULL && d->env != NULL)
        webhook_set_observer(d->webhook, resource_changed, d->env);
    if (rc == MLC_OK)
        rc = orphans_hold(d->probe, d->cfg, &held, e);
    if (rc == MLC_OK && (rc = open_store(d->cfg, &d->health_st, e)) != MLC_OK)
        mlc_err_wrap(e, "health task store");
    if (rc == MLC_OK)
        open_metrics_store(d);
    if (rc == MLC_OK)
        rc = add_task(d, "health", d->cfg->schedule.health_probe_interval, task_health, d, e);
    if (rc != MLC_OK)
        return rc;
    rc = workers_start(d->workers, e);
    if (rc != MLC_OK)
        return rc;
    d->store_ready = true; /* what fails from here is not the store */
    memcpy(d->pub_routes, routes, n_routes * sizeof(routes[0]));
    d->n_pub_routes = n_routes;
    d->pub_opts = ho;
    rc = start_public(d, d->cfg, &d->httpd, d->tls_digest, e);
    if (rc != MLC_OK)
        return rc;
    atomic_store(&d->httpd_pub, d->httpd);
    if ((rc = start_admin(d, &ho, e)) != MLC_OK)
        return rc;
    if ((rc = start_console(d, e)) != MLC_OK)
        return rc;
    log_info("daemon", "ready", LF_STR("listen", sv->listen),
             LF_UINT("port", httpd_port(d->httpd)),
             LF_STR("routes", public_routes(d)),
             LF_INT("workers", workers_count(d->workers)),
             LF_INT("tasks", (long long)sched_count(d->sched)));
    return MLC_OK;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Settings read once at start: say so when a reload changes them. */
/* Appends key to the comma-separated list buf. */
static void list_add(char *buf, size_t cap, const char *key)
{
    size_t n = strlen(buf);

    snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "", key);
}

static bool same_inputs(const struct cfg_jde *a, const struct cfg_jde *b)
{
    if (a->n_inputs != b->n_inputs)
        return false;
    for (size_t i = 0; i < a->n_inputs; i++)
        if (!same_str(a->inputs[i].match, b->inputs[i].match) ||
            !same_str(a->inputs[i].value, b->inputs[i].value))
            return false;
    return true;
}

/* The connections' settings: the clients and the AIS session are built at
 * start (sync/env), and GL dates take the zone selected then (core/tz). */
static void restart_needed_conn(const struct mlc_config *o, const struct mlc_config *n,
                                char *restart, size_t cap)
{
    const struct cfg_bigcommerce *a = &o->bigcommerce, *b = &n->bigcommerce;
    const struct cfg_jde *x = &o->jde, *y = &n->jde;
#define STR(key, f, g) do { if (!same_str(f, g)) list_add(restart, cap, key); } while (0)
#define NUM(key, f, g) do { if ((f) != (g)) list_add(restart, cap, key); } while (0)
    STR("bigcommerce.store_hash", a->store_hash, b->store_hash);
    STR("bigcommerce.api_base_url", a->api_base_url, b->api_base_url);
    STR("bigcommerce.token_ref", a->token_ref, b->token_ref);
    STR("bigcommerce.ca_file", a->ca_file, b->ca_file);
    NUM("bigcommerce.timeout_ms", a->timeout_ms, b->timeout_ms);
    NUM("bigcommerce.rate_reserve", a->rate_reserve, b->rate_reserve);
    NUM("bigcommerce.shared_budget", a->shared_budget, b->shared_budget);
    STR("jde.ais_base_url", x->ais_base_url, y->ais_base_url);
    STR("jde.environment", x->environment, y->environment);
    STR("jde.role", x->role, y->role);
    STR("jde.device_name", x->device_name, y->device_name);
    STR("jde.user", x->user, y->user);
    STR("jde.password_ref", x->password_ref, y->password_ref);
    STR("jde.ca_file", x->ca_file, y->ca_file);
    NUM("jde.timeout_ms", x->timeout_ms, y->timeout_ms);
    NUM("jde.login_backoff_s", x->login_backoff_s, y->login_backoff_s);
    if (!same_str(x->orch.add_journal_entry, y->orch.add_journal_entry) ||
        !same_str(x->orch.add_voucher, y->orch.add_voucher) ||
        !same_str(x->orch.add_customer, y->orch.add_customer) ||
        !same_str(x->orch.update_customer, y->orch.update_customer))
        list_add(restart, cap, "jde.orchestrations");
    if (!same_inputs(x, y))
        list_add(restart, cap, "jde.inputs");
    STR("posting.timezone", o->posting.timezone, n->posting.timezone);
#undef STR
#undef NUM
}

/* Settings read once at start: the keys a reload changed but cannot
 * apply, into restart (comma-separated; empty when none). */
static void restart_needed(const struct mlc_config *o, const struct mlc_config *n,
                           char *restart, size_t cap)
{
    const struct cfg_server *a = &o->server, *b = &n->server;

    restart[0] = '\0';
    if (strcmp(a->listen, b->listen) != 0)
        list_add(restart, cap, "server.listen");
    if (!same_str(a->admin_listen, b->admin_listen))
        list_add(restart, cap, "server.admin_listen");
    if (!same_str(o->console.listen, n->console.listen))
        list_add(restart, cap, "console.listen");
    if (a->public_metrics != b->public_metrics || a->threads != b->threads ||
        a->max_connections != b->max_connections ||
        a->max_connections_per_ip != b->max_connections_per_ip ||
        a->request_timeout_s != b->request_timeout_s || a->max_body_bytes != b->max_body_bytes ||
        a->connection_timeout_s != b->connection_timeout_s)
        list_add(restart, cap, "server.*");
    if ((a->tls_cert_file == NULL) != (b->tls_cert_file == NULL))
        list_add(restart, cap, "server.tls_cert_file (HTTP to HTTPS or back)");
    if (o->workers.count != n->workers.count)
        list_add(restart, cap, "workers.count");
    if (strcmp(o->store.url, n->store.url) != 0)
        list_add(restart, cap, "store.url");
    if (!same_str(o->bigcommerce.webhook_secret_ref, n->bigcommerce.webhook_secret_ref) ||
        !same_str(o->bigcommerce.client_secret_ref, n->bigcommerce.client_secret_ref))
        list_add(restart, cap, "bigcommerce webhook secrets");
    if (o->schedule.leader_lease_s != n->schedule.leader_lease_s)
        list_add(restart, cap, "schedule.leader_lease_s");
    for (size_t i = 0; i < jobkind_count(); i++)
        if (jobkind_handled(o, jobkind_at(i)->name) != jobkind_handled(n, jobkind_at(i)->name)) {
            list_add(restart, cap, "customers.enabled or catalog.enabled");
            break;
        }
    restart_needed_conn(o, n, restart, cap);
}

/* The schedule's intervals apply at once. Turning a task on or off (an
 * interval to or from 0) needs a restart: it joins restart. */
static void reload_schedule(struct daemon *d, const struct mlc_config *o,
                            const struct mlc_config *n, char *restart, size_t cap)
{
    const struct cfg_schedule *a = &o->schedule, *b = &n->schedule;
    const struct { const char *task, *key; int was, now; } rows[] = {
        { "hooks", "schedule.hooks_interval", a->hooks_interval, b->hooks_interval },
        { "reconcile", "schedule.reconcile_interval", a->reconcile_interval,
          b->reconcile_interval },
        { "ais_keepalive", "schedule.session_keepalive_interval",
          a->session_keepalive_interval, b->session_keepalive_interval },
        { "accounts_refresh", "schedule.accounts_refresh_interval",
          a->accounts_refresh_interval, b->accounts_refresh_interval },
        { "accounts_follow", NULL,
          ACCOUNTS_FOLLOW_S < a->accounts_refresh_interval ? ACCOUNTS_FOLLOW_S
                                                           : a->accounts_refresh_interval,
          ACCOUNTS_FOLLOW_S < b->accounts_refresh_interval ? ACCOUNTS_FOLLOW_S
                                                           : b->accounts_refresh_interval },
        { "catalog_poll", "schedule.catalog_poll_interval", a->catalog_poll_interval,
          b->catalog_poll_interval },
        { "health", "schedule.health_probe_interval", a->health_probe_interval,
          b->health_probe_interval },
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].was == rows[i].now)
            continue;
        if (rows[i].was == 0 || rows[i].now == 0) {
            if (rows[i].key != NULL)
                list_add(restart, cap, rows[i].key);
            continue;
        }
        if (sched_set_interval(d->sched, rows[i].task, (int64_t)rows[i].now * 1000) == MLC_OK)
            log_info("daemon", "schedule changed", LF_STR("task", rows[i].task),
                     LF_INT("interval_s", rows[i].now));
    }
}

static void reload(struct daemon *d)
{
    struct mlc_config *ncfg = NULL;
    char restart[1024];
    struct mlc_err e;

    log_info("daemon", "config reload requested", LF_STR("config", d->config_path));
    if (cfg_load(d->config_path, &ncfg, &e) != MLC_OK) {
        atomic_fetch_add(&d->reloads_rejected, 1);
        log_error("daemon", "config reload rejected", LF_STR("config", d->config_path),
                  LF_ERR(&e));
        return;
    }
    restart_needed(d->cfg, ncfg, restart, sizeof(restart));
    if (d->sched != NULL)
        reload_schedule(d, d->cfg, ncfg, restart, sizeof(restart));
    if (restart[0] != '\0')
        log_warn("daemon", "config change needs a restart to apply",
                 LF_STR("settings", restart));
    workers_set_config(d->workers, ncfg);
    reload_tls(d, ncfg);
    console_set_config(d->console, ncfg); /* users and roles apply at once */
    if (d->webhook != NULL) { /* read at every delivery, so they apply at once */
        webhook_set_gather(d->webhook, ncfg->workers.gather_ms);
        webhook_set_store_id(d->webhook, ncfg->bigcommerce.store_id != NULL
                                             ? strtoll(ncfg->bigcommerce.store_id, NULL, 10) : 0);
    }
    cfg_unref(d->cfg);
    d->cfg = ncfg; /* our load reference becomes the main thread's */
    apply_log_level(d, ncfg);
    atomic_fetch_add(&d->reloads, 1);
    log_info("daemon", "config reloaded", LF_STR("config", d->config_path),
             LF_STR("restart_needed", restart[0] != '\0' ? restart : "none"));
}

static int shutdown_all(struct daemon *d, int sig)
{
    int64_t drain_ms = (int64_t)d->cfg->workers.drain_timeout_s * 1000;
    int64_t t0 = mono_ms();
    struct workers_stats st;
    struct mlc_err e;
    int rc;

    log_info("daemon", "stopping", LF_STR("signal", sigabbrev_np(sig)),
             LF_INT("drain_timeout_s", d->cfg->workers.drain_timeout_s));
    service_stopping();
    service_status("draining: running jobs get %d s to finish",
                   d->cfg->workers.drain_timeout_s);
    atomic_store(&d->stopping, true);
    atomic_store(&d->httpd_pub, NULL);
    httpd_stop(d->httpd);
    httpd_stop(d->httpd_admin);
    console_stop(d->console);
    env_shutdown(d->env); /* a worker waiting for BigCommerce budget stops now */
    rc = workers_stop(d->workers, drain_ms, &e);
    d->workers_stuck = rc != MLC_OK;
    leader_stop(d->leader); /* hands the singleton tasks over at once */
    d->leader = NULL;
    health_save(d, true);
    workers_stats(d->workers, &st);
    if (rc != MLC_OK) {
        log_error("daemon", "stopped, drain incomplete", LF_ERR(&e),
                  LF_UINT("jobs_done", st.done), LF_UINT("jobs_retried", st.retried),
                  LF_UINT("jobs_held", st.held), LF_UINT("jobs_failed", st.failed));
        return 1;
    }
    log_info("daemon", "stopped", LF_INT("drain_ms", mono_ms() - t0),
             LF_UINT("jobs_done", st.done), LF_UINT("jobs_retried", st.retried),
             LF_UINT("jobs_held", st.held), LF_UINT("jobs_failed", st.failed),
             LF_UINT("reloads", atomic_load(&d->reloads)));
    return 0;
}

int daemon_loop(struct daemon *d)
{
    sigset_t set;

    signal_set(&set);
    service_init(&d->svc);
    service_ready();
    service_status("serving on %s, %d workers", d->cfg->server.listen,
                   workers_count(d->workers));
    for (;;) {
        int64_t wait, wd;
        struct timespec ts;
        int sig;

        singletons_on_lead(d);
        sched_run_due(d->sched, mono_ms());
        service_watchdog(&d->svc, mono_ms());
        wait = sched_next_due(d->sched, mono_ms());
        if (wait < 0 || wait > LOOP_MAX_WAIT_MS)
            wait = LOOP_MAX_WAIT_MS;
        wd = service_watchdog_wait(&d->svc, mono_ms());
        if (wd >= 0 && wd < wait)
            wait = wd;
        ts.tv_sec = (time_t)(wait / 1000);
        ts.tv_nsec = (long)(wait % 1000) * 1000000L;
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig < 0)
            continue; /* EAGAIN: timeout, time to tick; EINTR: retry */
        if (sig == SIGHUP)
            reload(d);
        else
            return shutdown_all(d, sig);
    }
}

/* How long a starting daemon waits for a shared store it cannot reach (a
 * database that restarts, or that starts together with it). */
#define STORE_WAIT_MS  (60 * 1000)
#define STORE_RETRY_MS 1000

/* Sleeps ms unless SIGTERM or SIGINT comes (blocked by
 * daemon_block_signals); true when one came. A SIGHUP is ignored here. */
static bool stop_signalled(int64_t ms)
{
    int64_t until = mono_ms() + ms, left;
    sigset_t set;

    signal_set(&set);
    while ((left = until - mono_ms()) > 0) {
        struct timespec ts = { left / 1000, (long)(left % 1000) * 1000000L };
        int sig = sigtimedwait(&set, NULL, &ts);

        if (sig == SIGTERM || sig == SIGINT)
            return true;
    }
    return false;
}

/* Every step of a start may meet a database that is down for a moment
 * (each thread opens its own connection), so the whole start is retried:
 * the half-started daemon is freed and built again. */
int daemon_launch(const char *config_path, struct mlc_config *cfg, bool log_level_fixed,
                  struct daemon **out, struct mlc_err *e)
{
    int64_t until = mono_ms() + STORE_WAIT_MS;
    struct daemon *d = NULL;
    bool said = false;
    int rc;

    for (;;) {
        rc = daemon_new(config_path, cfg, log_level_fixed, &d, e);
        if (rc == MLC_OK && (rc = daemon_start(d, e)) == MLC_OK)
            break;
        if (d == NULL || d->store_ready || rc != MLC_EIO ||
            !store_url_shared(cfg->store.url) || mono_ms() >= until)
            break;
        if (!said)
            log_warn("daemon", "store not reachable; starting again until it is", LF_ERR(e),
                     LF_INT("wait_s", STORE_WAIT_MS / 1000));
        said = true;
        daemon_free(d);
        d = NULL;
        if (stop_signalled(STORE_RETRY_MS))
            break;
    }
    *out = d;
    return rc;
}

void daemon_free(struct daemon *d)
{
    if (d == NULL)
        return;
    atomic_store(&d->httpd_pub, NULL);
    httpd_free(d->httpd); /* first: handlers use the pool and the probe */
    httpd_free(d->httpd_admin);
    console_free(d->console);
    webhook_free(d->webhook);
    workers_free(d->workers);
    /* After the workers: logs out of AIS and frees the clients. A pool that
     * did not drain is left to process exit, and so is the env it uses. */
    if (!d->workers_stuck)
        env_free(d->env);
    secret_free(d->hook_secret);
    sched_free(d->sched);
    leader_stop(d->leader);
    nsend_free(d->nsend);
    store_close(d->task_st);
    store_close(d->health_st);
    store_close(d->metrics_st);
    store_close(d->probe);
    store_unlock(d->lock);
    if (!d->workers_stuck)
        health_free(d->health); /* after everything that reports into it */
    cfg_unref(d->cfg);
    free(d->config_path);
    pthread_mutex_destroy(&d->probe_mu);
    pthread_mutex_destroy(&d->metrics_mu);
    free(d);
}
