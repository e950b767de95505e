/*
 * bench/budget: what one BigCommerce quota shared by several processes
 * costs and reaches (bench/budget.sh builds and runs it). Prints figures;
 * asserts nothing.
 *
 *   budget STORE_FILE BC_BASE_URL
 *
 * 1. The cost of one store_shared_update on SQLite (STORE_FILE): with a
 *    write (a commit), and refused (nothing to write: a rollback); then
 *    PROCS connections updating at once.
 * 2. PROCS budgets, each with its own connection to STORE_FILE (the
 *    processes), THREADS threads each with its own client, against mlc-sim
 *    at BC_BASE_URL for WINDOWS windows of WINDOW_MS: calls made, the share
 *    of the quota-bound rate ((QUOTA - RESERVE) per window), 429s, record
 *    updates per call.
 *
 * Environment: BC_TOKEN (never argv), QUOTA, WINDOW_MS, RESERVE, PROCS,
 * THREADS, WINDOWS, UPDATES.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/secret.h"
#include "net/httpc.h"
#include "store/store.h"
#include "sync/budget.h"

#define MAX_PROCS   16
#define MAX_THREADS 16

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, long n, int p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    return v[(n - 1) * p / 100];
}

/* ---- 1. the cost of one update ------------------------------------------ */

/* A record about the size of the budget's (100 bytes), rewritten. */
static int touch(void *buf, size_t *len, size_t cap, void *ctx)
{
    unsigned char *b = buf;

    (void)ctx;
    if (*len < 100 || cap < 100) {
        memset(b, 0, 100);
        *len = 100;
    }
    b[0]++;
    return MLC_OK;
}

static int refuse(void *buf, size_t *len, size_t cap, void *ctx)
{
    (void)buf; (void)len; (void)cap; (void)ctx;
    return MLC_ESTATE;
}

struct upd_arg {
    const char *path;
    long        n;
    int64_t    *lat;
    int         rc;
};

static void *update_loop(void *ud)
{
    struct upd_arg *a = ud;
    struct store *st = NULL;
    struct mlc_err e = { 0 };

    a->rc = store_open(a->path, &st, &e);
    for (long i = 0; i < a->n && a->rc == MLC_OK; i++) {
        int64_t t = now_us();

        a->rc = store_shared_update(st, "bench.record", touch, NULL, &e);
        a->lat[i] = now_us() - t;
    }
    if (a->rc != MLC_OK)
        fprintf(stderr, "update: %s\n", e.msg);
    store_close(st);
    return NULL;
}

static int bench_updates(const char *path, long n, int procs, json_t *out)
{
    struct store *st = NULL;
    struct mlc_err e = { 0 };
    int64_t *lat = calloc((size_t)n * (size_t)procs, sizeof(int64_t)), t0, wall;
    struct upd_arg a[MAX_PROCS];
    pthread_t th[MAX_PROCS];

    if (lat == NULL || store_open(path, &st, &e) != MLC_OK) {
        fprintf(stderr, "budget: %s\n", e.msg);
        free(lat);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int64_t t = now_us();

        if (store_shared_update(st, "bench.record", touch, NULL, &e) != MLC_OK) {
            fprintf(stderr, "budget: %s\n", e.msg);
            store_close(st);
            free(lat);
            return 1;
        }
        lat[i] = now_us() - t;
    }
    printf("update with a write (commit), 1 connection: p50 %" PRId64 " us, p99 %" PRId64 " us\n",
           pct(lat, n, 50), pct(lat, n, 99));
    json_object_set_new(out, "update_write_p50_us", json_integer(pct(lat, n, 50)));
    json_object_set_new(out, "update_write_p99_us", json_integer(pct(lat, n, 99)));
    for (long i = 0; i < n; i++) {
        int64_t t = now_us();

        (void)store_shared_update(st, "bench.record", refuse, NULL, &e);
        lat[i] = now_us() - t;
    }
    printf("update refused (rollback), 1 connection: p50 %" PRId64 " us, p99 %" PRId64 " us\n",
           pct(lat, n, 50), pct(lat, n, 99));
    json_object_set_new(out, "update_refused_p50_us", json_integer(pct(lat, n, 50)));
    json_object_set_new(out, "update_refused_p99_us", json_integer(pct(lat, n, 99)));
    store_close(st);

    t0 = now_us();
    for (int i = 0; i < procs; i++) {
        a[i] = (struct upd_arg){ path, n, lat + (size_t)i * (size_t)n, MLC_OK };
        pthread_create(&th[i], NULL, update_loop, &a[i]);
    }
    for (int i = 0; i < procs; i++)
        pthread_join(th[i], NULL);
    wall = now_us() - t0;
    printf("update with a write, %d connections at once: %.0f updates/s, p50 %" PRId64
           " us, p99 %" PRId64 " us\n", procs, (double)n * procs * 1e6 / (double)wall,
           pct(lat, n * procs, 50), pct(lat, n * procs, 99));
    json_object_set_new(out, "update_contended_per_s",
                        json_integer((json_int_t)((double)n * procs * 1e6 / (double)wall)));
    json_object_set_new(out, "update_contended_p99_us", json_integer(pct(lat, n * procs, 99)));
    free(lat);
    return 0;
}

/* ---- 2. processes against mlc-sim ---------------------------------------- */

struct shared_run {
    struct cfg_bigcommerce cfg;
    struct mlc_secret     *tok;
    int64_t                stop_at; /* monotonic ms */
    pthread_mutex_t        mu;
    uint64_t               calls, failed;
};

struct worker {
    struct shared_run *r;
    struct pacer      *p;
};

static void *worker(void *ud)
{
    struct worker *w = ud;
    struct bc_client_tuning tu = { .max_pacer_wait_ms = 120000 };
    struct bc_client *c = NULL;
    struct mlc_err e = { 0 };

    if (bc_client_new(&w->r->cfg, w->r->tok, w->p, &c, &e) != MLC_OK) {
        fprintf(stderr, "client: %s\n", e.msg);
        return NULL;
    }
    bc_client_tune(c, &tu);
    for (int i = 0; pacer_now_ms() < w->r->stop_at; i++) {
        json_t *order = NULL;
        int rc = bc_order_get(c, 100 + i % 6, &order, &e);

        pthread_mutex_lock(&w->r->mu);
        if (rc != MLC_OK)
            w->r->failed++;
        else if (pacer_now_ms() <= w->r->stop_at)
            w->r->calls++;
        pthread_mutex_unlock(&w->r->mu);
        json_decref(order);
    }
    bc_client_free(c);
    return NULL;
}

static int bench_shared(const char *path, const char *url, json_t *out)
{
    long quota = env_long("QUOTA", 50), window = env_long("WINDOW_MS", 10000);
    long reserve = env_long("RESERVE", 2), windows = env_long("WINDOWS", 4);
    int procs = (int)env_long("PROCS", 4), threads = (int)env_long("THREADS", 3);
    const char *tok = getenv("BC_TOKEN");
    struct pacer_opts po = { .reserve = reserve, .skew_ms = 20, .arrive_ms = 200 };
    struct shared_run r;
    struct budget *b[MAX_PROCS] = { 0 };
    struct worker w[MAX_PROCS][MAX_THREADS];
    pthread_t th[MAX_PROCS][MAX_THREADS];
    struct mlc_err e = { 0 };
    uint64_t n429 = 0, updates = 0, granted = 0, failures = 0, unchanged = 0;
    double bound, share;

    if (tok == NULL || procs < 1 || procs > MAX_PROCS || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "budget: BC_TOKEN, PROCS (1-16) and THREADS (1-16) are needed\n");
        return 1;
    }
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.mu, NULL);
    r.cfg.api_base_url = (char *)url;
    r.cfg.timeout_ms = 20000;
    if (secret_new(tok, strlen(tok), &r.tok, &e) != MLC_OK)
        return 1;
    for (int i = 0; i < procs; i++)
        if (budget_open_shared(path, NULL, &po, &b[i], &e) != MLC_OK) {
            fprintf(stderr, "budget: %s\n", e.msg);
            return 1;
        }
    r.stop_at = pacer_now_ms() + windows * window;
    for (int i = 0; i < procs; i++)
        for (int k = 0; k < threads; k++) {
            w[i][k] = (struct worker){ &r, budget_pacer(b[i]) };
            pthread_create(&th[i][k], NULL, worker, &w[i][k]);
        }
    for (int i = 0; i < procs; i++)
        for (int k = 0; k < threads; k++)
            pthread_join(th[i][k], NULL);
    for (int i = 0; i < procs; i++) {
        struct pacer_stats st;

        pacer_get_stats(budget_pacer(b[i]), &st);
        n429 += st.n429;
        updates += st.updates;
        unchanged += st.unchanged;
        granted += st.granted;
        failures += st.failures;
        printf("  process %d: %" PRIu64 " grants, %" PRIu64 " record updates (%" PRIu64
               " wrote nothing)\n", i, st.granted, st.updates, st.unchanged);
        budget_free(b[i]);
    }
    bound = (double)windows * (double)(quota - reserve);
    share = 100.0 * (double)r.calls / bound;
    printf("%d processes x %d threads, quota %ld per %ld ms, reserve %ld, %ld windows: "
           "%" PRIu64 " calls, %.1f %% of the quota-bound %.0f, %" PRIu64 " x 429, "
           "%.2f record updates per call (%.2f with a write), %" PRIu64 " failed updates, "
           "%" PRIu64 " failed calls\n",
           procs, threads, quota, window, reserve, windows, r.calls, share, bound, n429,
           granted ? (double)updates / (double)granted : 0.0,
           granted ? (double)(updates - unchanged) / (double)granted : 0.0, failures, r.failed);
    json_object_set_new(out, "shared_quota_bound_pct", json_real(share));
    json_object_set_new(out, "shared_429", json_integer((json_int_t)n429));
    json_object_set_new(out, "shared_updates_per_call",
                        json_real(granted ? (double)updates / (double)granted : 0.0));
    json_object_set_new(out, "shared_writes_per_call",
                        json_real(granted ? (double)(updates - unchanged) / (double)granted : 0.0));
    secret_free(r.tok);
    pthread_mutex_destroy(&r.mu);
    return 0;
}

int main(int argc, char **argv)
{
    struct mlc_err e = { 0 };
    json_t *out = json_object();
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s STORE_FILE BC_BASE_URL (token in BC_TOKEN)\n", argv[0]);
        return 2;
    }
    if (httpc_global_init(&e) != MLC_OK)
        return 1;
    rc = bench_updates(argv[1], env_long("UPDATES", 1000), (int)env_long("PROCS", 4), out);
    if (rc == 0)
        rc = bench_shared(argv[1], argv[2], out);
    if (rc == 0) {
        char *s = json_dumps(out, JSON_COMPACT);

        printf("json %s\n", s);
        free(s);
    }
    json_decref(out);
    return rc;
}
