#include "daemon/webhook.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bc/bc_webhook.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "core/vault.h"
#include "store/credentials.h"

struct webhook {
    struct mlc_secret *header_secret; /* NULL: custom header not checked */
    struct mlc_secret *sign_key;      /* NULL: signature not checked */
    webhook_clock_fn   clock;
    void              *clock_ctx;
    /* Group commit: deliveries that arrive while one transaction is being
     * committed wait in the queue; the next thread in becomes the leader
     * and stores them all in one transaction (one fsync instead of one
     * each). Only the leader touches st. */
    pthread_mutex_t    mu;            /* guards queue, leading */
    pthread_cond_t     stored;        /* a group was committed */
    struct ingest     *queue;         /* waiting, oldest first */
    struct ingest     *queue_tail;
    bool               leading;       /* a leader holds st */
    struct store      *st;
    /* The log keeper: st never checkpoints the store's write-ahead log
     * inside a commit (an fsync of the database file, which would stall
     * every delivery of the group); this thread does it on its own
     * connection, every WEBHOOK_KEEPER_MS while deliveries come in. */
    struct store      *keeper_st;
    pthread_t          keeper;
    bool               keeper_on;
    pthread_mutex_t    keeper_mu;     /* guards stopping */
    pthread_cond_t     keeper_wake;   /* monotonic clock */
    bool               stopping;
    _Atomic uint64_t   unkept;        /* deliveries stored since the last run */
    _Atomic uint32_t   handled;       /* bit i: jobkind_at(i) has a handler */
    _Atomic int        gather_ms;     /* order jobs due at multiples of it */
    char               store_hash[64];/* producer must be stores/<it>; "": unchecked */
    _Atomic int64_t    store_id;      /* store_id must be it; 0: not known yet */
    webhook_observer_fn observer;     /* may be NULL */
    void              *observer_ctx;
    _Atomic uint64_t   n_stored, n_duplicate, n_unauthorized, n_malformed,
                       n_error, n_unhandled;
};

#define WEBHOOK_KEEPER_MS 200

static void *keeper_main(void *arg)
{
    struct webhook *w = arg;
    struct timespec ts;
    struct mlc_err e;

    pthread_mutex_lock(&w->keeper_mu);
    while (!w->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)WEBHOOK_KEEPER_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->keeper_wake, &w->keeper_mu, &ts);
        if (w->stopping || atomic_exchange(&w->unkept, 0) == 0)
            continue;
        pthread_mutex_unlock(&w->keeper_mu);
        mlc_err_clear(&e);
        if (store_log_checkpoint(w->keeper_st, &e) != MLC_OK)
            log_warn("webhook", "write-ahead log checkpoint failed", LF_ERR(&e));
        pthread_mutex_lock(&w->keeper_mu);
    }
    pthread_mutex_unlock(&w->keeper_mu);
    return NULL;
}

/* Opens the keeper's connection and starts it; st stops checkpointing. */
static int keeper_start(struct webhook *w, const char *store_url, const char *password_ref,
                        struct mlc_err *e)
{
    pthread_condattr_t ca;
    int rc;

    if ((rc = store_open_with(store_url, password_ref, &w->keeper_st, e)) != MLC_OK)
        return rc;
    pthread_mutex_init(&w->keeper_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->keeper_wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->keeper, NULL, keeper_main, w) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "webhook: cannot start the log keeper thread");
    w->keeper_on = true;
    store_set_log_upkeep(w->st, false);
    return MLC_OK;
}

static void keeper_stop(struct webhook *w)
{
    if (w->keeper_on) {
        pthread_mutex_lock(&w->keeper_mu);
        w->stopping = true;
        pthread_cond_signal(&w->keeper_wake);
        pthread_mutex_unlock(&w->keeper_mu);
        pthread_join(w->keeper, NULL);
        w->keeper_on = false;
    }
    if (w->keeper_st != NULL) {
        pthread_cond_destroy(&w->keeper_wake);
        pthread_mutex_destroy(&w->keeper_mu);
        store_close(w->keeper_st);
        w->keeper_st = NULL;
    }
}

static int64_t wall_clock_s(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

bool webhook_enabled(const struct mlc_config *cfg)
{
    return cfg->bigcommerce.webhook_secret_ref != NULL ||
           cfg->bigcommerce.client_secret_ref != NULL;
}

int webhook_new(const char *store_url, const char *password_ref,
                struct mlc_secret *header_secret,
                struct mlc_secret *sign_key, struct webhook **out,
                struct mlc_err *e)
{
    struct webhook *w = NULL;
    int rc;

    *out = NULL;
    if (header_secret == NULL && sign_key == NULL) {
        rc = mlc_err_set(e, MLC_EINVAL, "webhook: no secret to verify deliveries");
        goto fail;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "webhook: out of memory");
        goto fail;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->stored, NULL);
    w->header_secret = header_secret;
    w->sign_key = sign_key;
    header_secret = sign_key = NULL;
    w->clock = wall_clock_s;
    webhook_set_jobs(w, NULL);
    rc = store_open_with(store_url, password_ref, &w->st, e);
    /* PostgreSQL keeps its own log: only an SQLite file needs the keeper. */
    if (rc == MLC_OK && !store_url_shared(store_url))
        rc = keeper_start(w, store_url, password_ref, e);
    if (rc != MLC_OK)
        goto fail;
    *out = w;
    return MLC_OK;
fail:
    secret_free(header_secret);
    secret_free(sign_key);
    webhook_free(w);
    return rc;
}

int webhook_from_config(const struct mlc_config *cfg, struct store *st,
                        struct webhook **out, struct mlc_err *e)
{
    const struct cfg_bigcommerce *bc = &cfg->bigcommerce;
    struct mlc_secret *hs = NULL, *sk = NULL;
    struct vault *v = NULL;
    int rc;

    *out = NULL;
    rc = credentials_open_vault(cfg, &v, e);
    if (rc == MLC_OK && bc->webhook_secret_ref != NULL)
        rc = credentials_load(v, st, bc->webhook_secret_ref, &hs, e);
    if (rc == MLC_OK && bc->client_secret_ref != NULL)
        rc = credentials_load(v, st, bc->client_secret_ref, &sk, e);
    vault_free(v);
    if (rc != MLC_OK) {
        secret_free(hs);
        secret_free(sk);
        mlc_err_wrap(e, "webhooks");
        return rc;
    }
    rc = webhook_new(cfg->store.url, cfg->store.password_ref, hs, sk, out, e);
    if (rc == MLC_OK) {
        webhook_set_jobs(*out, cfg);
        webhook_set_gather(*out, cfg->workers.gather_ms);
        snprintf((*out)->store_hash, sizeof((*out)->store_hash), "%s",
                 cfg->bigcommerce.store_hash != NULL ? cfg->bigcommerce.store_hash : "");
        if (cfg->bigcommerce.store_id != NULL)
            webhook_set_store_id(*out, strtoll(cfg->bigcommerce.store_id, NULL, 10));
    }
    return rc;
}

void webhook_set_store_id(struct webhook *w, int64_t store_id)
{
    atomic_store(&w->store_id, store_id > 0 ? store_id : 0);
}

void webhook_set_gather(struct webhook *w, int gather_ms)
{
    atomic_store(&w->gather_ms, gather_ms > 0 ? gather_ms : 0);
}

void webhook_set_observer(struct webhook *w, webhook_observer_fn fn, void *ctx)
{
    w->observer = fn;
    w->observer_ctx = ctx;
}

void webhook_set_jobs(struct webhook *w, const struct mlc_config *cfg)
{
    uint32_t mask = 0;

    for (size_t i = 0; i < jobkind_count() && i < 32; i++)
        if (jobkind_handled(cfg, jobkind_at(i)->name))
            mask |= (uint32_t)1 << i;
    atomic_store(&w->handled, mask);
}

/* The job kind a delivery may enqueue: kind when it has a handler here. */
static bool kind_handled(struct webhook *w, const char *kind)
{
    for (size_t i = 0; kind != NULL && i < jobkind_count(); i++)
        if (strcmp(jobkind_at(i)->name, kind) == 0)
            return i < 32 && (atomic_load(&w->handled) & ((uint32_t)1 << i)) != 0;
    return false;
}

void webhook_set_clock(struct webhook *w, webhook_clock_fn fn, void *ctx)
{
    w->clock = fn != NULL ? fn : wall_clock_s;
    w->clock_ctx = fn != NULL ? ctx : NULL;
}

void webhook_set_store_clock(struct webhook *w, store_clock_fn fn, void *ctx)
{
    store_set_clock(w->st, fn, ctx);
}

/* ---- the handler -------------------------------------------------------- */

/* Both configured checks; MLC_OK or the first failure in e. */
static int authenticate(struct webhook *w, const struct httpd_request *rq,
                        const char *body, size_t len, struct mlc_err *e)
{
    int rc = MLC_OK;

    if (w->header_secret != NULL)
        rc = bcwh_check_header(w->header_secret,
                               httpd_req_header(rq, BCWH_SECRET_HEADER), e);
    if (rc == MLC_OK && w->sign_key != NULL)
        rc = bcwh_verify_signature(w->sign_key,
                                   httpd_req_header(rq, BCWH_HDR_ID),
                                   httpd_req_header(rq, BCWH_HDR_TIMESTAMP),
                                   httpd_req_header(rq, BCWH_HDR_SIGNATURE),
                                   body, len, w->clock(w->clock_ctx), e);
    return rc;
}

static void reply_malformed(struct httpd_response *rs, const char *detail)
{
    json_t *o = json_pack("{s:s, s:s}", "error", "malformed payload",
                          "detail", detail);
    char *txt = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    if (txt == NULL) {
        httpd_resp_static(rs, 400, "application/json",
                          "{\"error\":\"malformed payload\"}");
        return;
    }
    httpd_resp_take(rs, 400, "application/json", txt, strlen(txt));
}

/* When a job of kind enqueued now becomes due: an order job at the end
 * of the gather window it falls in, anything else at once (0). */
static int64_t job_due(struct webhook *w, const char *kind)
{
    int64_t g = atomic_load(&w->gather_ms), now;

    if (g <= 0 || kind == NULL || strcmp(kind, JOB_ORDER_SYNC) != 0)
        return 0;
    now = store_now_ms(w->st);
    return (now / g + 1) * g;
}

/* One delivery to store, on its HTTP thread's stack. */
struct ingest {
    struct store_event ev;
    const char        *job;
    bool               inserted;
    bool               done;
    int                rc;
    struct mlc_err     err;
    struct ingest     *next;
};

/* Stores the group g (the leader, without the mutex): each delivery in a
 * savepoint of one transaction, so a bad one fails alone; a failed commit
 * fails them all (nothing of the group is on disk). */
static void store_group(struct webhook *w, struct ingest *g)
{
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = g->next != NULL ? store_tx_begin(w->st, &e) : MLC_OK;
    for (struct ingest *p = g; p != NULL; p = p->next) {
        if (rc != MLC_OK) {
            p->rc = rc;
            p->err = e;
            continue;
        }
        p->ev.job_run_at = job_due(w, p->job);
        p->rc = store_event_ingest(w->st, &p->ev, p->job, &p->inserted, &p->err);
    }
    if (rc != MLC_OK)
        return;
    if (g->next == NULL) {
        atomic_fetch_add(&w->unkept, 1);
        return;
    }
    if (store_tx_commit(w->st, &e) == MLC_OK) {
        atomic_fetch_add(&w->unkept, 1);
        return;
    }
    for (struct ingest *p = g; p != NULL; p = p->next) {
        p->rc = e.code != MLC_OK ? e.code : MLC_EIO;
        p->err = e;
        p->inserted = false;
    }
}

/* Stores ev with its job when job is not NULL; *inserted false for a
 * duplicate. Returns once the delivery is durable (or failed), having
 * perhaps stored the deliveries queued behind another thread's commit. */
static int ingest(struct webhook *w, const struct bcwh_event *ev, const char *job,
                  const char *key, const char *body, bool *inserted,
                  struct mlc_err *e)
{
    struct ingest me = {
        .ev = { .source = WEBHOOK_SOURCE, .dedupe_key = key, .kind = ev->scope,
                .resource = ev->resource, .payload = body },
        .job = job,
    };

    mlc_err_clear(&me.err);
    pthread_mutex_lock(&w->mu);
    if (w->queue_tail != NULL)
        w->queue_tail->next = &me;
    else
        w->queue = &me;
    w->queue_tail = &me;
    while (!me.done) {
        struct ingest *g;

        if (w->leading) {
            pthread_cond_wait(&w->stored, &w->mu);
            continue;
        }
        w->leading = true;
        g = w->queue;
        w->queue = w->queue_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        store_group(w, g);
        pthread_mutex_lock(&w->mu);
        for (struct ingest *p = g, *nx; p != NULL; p = nx) {
            nx = p->next;   /* p may return and vanish once done */
            p->done = true;
        }
        w->leading = false;
        pthread_cond_broadcast(&w->stored);
    }
    pthread_mutex_unlock(&w->mu);
    *inserted = me.inserted;
    if (me.rc != MLC_OK)
        *e = me.err;
    return me.rc;
}

void webhook_handle(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx)
{
    struct webhook *w = ctx;
    const char *wid = httpd_req_header(rq, BCWH_HDR_ID);
    char key[BCWH_KEY_MAX];
    struct bcwh_event ev;
    struct mlc_err e;
    bool inserted = false, unhandled;
    const char *job;
    size_t len = 0;
    const char *body = httpd_req_body(rq, &len);

    mlc_err_clear(&e);
    if (authenticate(w, rq, body, len, &e) != MLC_OK) {
        atomic_fetch_add(&w->n_unauthorized, 1);
        log_warn("webhook", "delivery rejected", LF_INT("status", 401),
                 LF_STR("reason", e.msg), LF_STR("client", httpd_req_client(rq)),
                 LF_STR("webhook_id", wid));
        httpd_resp_static(rs, 401, "application/json", "{\"error\":\"unauthorized\"}");
        return;
    }
    if (bcwh_parse(body, len, &ev, &e) != MLC_OK ||
        bcwh_dedupe_key(wid, &ev, key, sizeof(key), &e) != MLC_OK) {
        atomic_fetch_add(&w->n_malformed, 1);
        log_warn("webhook", "delivery rejected", LF_INT("status", 400),
                 LF_STR("reason", e.msg), LF_STR("client", httpd_req_client(rq)),
                 LF_STR("webhook_id", wid));
        reply_malformed(rs, e.msg);
        return;
    }
    if (bcwh_check_store(&ev, w->store_hash[0] != '\0' ? w->store_hash : NULL,
                         atomic_load(&w->store_id), &e) != MLC_OK) {
        atomic_fetch_add(&w->n_unauthorized, 1);
        log_warn("webhook", "delivery rejected", LF_INT("status", 403),
                 LF_STR("reason", e.msg), LF_STR("client", httpd_req_client(rq)),
                 LF_STR("webhook_id", wid));
        httpd_resp_static(rs, 403, "application/json",
                          "{\"error\":\"the delivery is another store's\"}");
        return;
    }
    /* A kind without a handler here is acknowledged (BigCommerce would
     * otherwise retry it for days, then deactivate the hook) and stored as
     * an event without a job: a job would only wait forever. */
    unhandled = ev.job_kind != NULL && !kind_handled(w, ev.job_kind);
    job = unhandled ? NULL : ev.job_kind;
    if (ingest(w, &ev, job, key, body, &inserted, &e) != MLC_OK) {
        atomic_fetch_add(&w->n_error, 1);
        log_error("webhook", "delivery not stored, answering 503", LF_ERR(&e),
                  LF_STR("scope", ev.scope), LF_STR("resource", ev.resource),
                  LF_STR("dedupe_key", key));
        httpd_resp_static(rs, 503, "application/json",
                          "{\"error\":\"store unavailable, retry later\"}");
        return;
    }
    if (w->observer != NULL && ev.resource[0] != '\0')
        w->observer(w->observer_ctx, ev.resource);
    if (inserted && unhandled) {
        atomic_fetch_add(&w->n_unhandled, 1);
        log_warn("webhook", "delivery stored without a job: its kind has no handler in "
                 "this configuration", LF_STR("scope", ev.scope),
                 LF_STR("resource", ev.resource), LF_STR("kind", ev.job_kind),
                 LF_STR("dedupe_key", key));
        httpd_resp_static(rs, 200, "application/json",
                          "{\"status\":\"stored\",\"job\":\"none: no handler in this "
                          "configuration\"}");
        return;
    }
    atomic_fetch_add(inserted ? &w->n_stored : &w->n_duplicate, 1);
    log_info("webhook", inserted ? "delivery stored" : "duplicate delivery",
             LF_STR("scope", ev.scope), LF_STR("resource", ev.resource),
             LF_STR("store_id", ev.store_id), LF_STR("dedupe_key", key),
             LF_STR("job", job != NULL ? job : "none"));
    httpd_resp_static(rs, 200, "application/json",
                      inserted ? "{\"status\":\"stored\"}"
                               : "{\"status\":\"duplicate\"}");
}

/* ---- counters ----------------------------------------------------------- */

void webhook_stats(const struct webhook *w, struct webhook_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (w == NULL)
        return;
    out->stored = atomic_load(&w->n_stored);
    out->duplicate = atomic_load(&w->n_duplicate);
    out->unauthorized = atomic_load(&w->n_unauthorized);
    out->malformed = atomic_load(&w->n_malformed);
    out->error = atomic_load(&w->n_error);
    out->unhandled = atomic_load(&w->n_unhandled);
}

void webhook_metrics(const struct webhook *w, struct metrics *m)
{
    static const char *const outcomes[] = {
        "stored", "duplicate", "unauthorized", "malformed", "error", "unhandled",
    };
    struct webhook_stats s;

    webhook_stats(w, &s);
    const uint64_t vals[] = {
        s.stored, s.duplicate, s.unauthorized, s.malformed, s.error, s.unhandled,
    };

    metrics_head(m, "mlc_webhooks_total", "counter",
                 "BigCommerce webhook deliveries by outcome.");
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        metrics_sample(m, "mlc_webhooks_total", "outcome", outcomes[i], (int64_t)vals[i]);
}

void webhook_free(struct webhook *w)
{
    if (w == NULL)
        return;
    keeper_stop(w);
    store_close(w->st);
    secret_free(w->header_secret);
    secret_free(w->sign_key);
    pthread_cond_destroy(&w->stored);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
