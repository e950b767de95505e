/*
 * bench/clients: what the project's clients sustain against mlc-sim, and how
 * many AIS logins a restart under load costs. Prints figures, asserts
 * nothing. Built and run by bench/clients.sh.
 *
 *   clients BC_BASE_URL AIS_BASE_URL AIS_CONTROL_URL
 *
 * Secrets come from the environment (BC_TOKEN, JDE_PASSWORD), never argv.
 * The BigCommerce simulator should run without a quota (rate_quota 0) so
 * that the pacer does not cap the figures.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "jde/ais_data.h"
#include "jde/ais_session.h"
#include "net/httpc.h"

#define MAX_THREADS 16
#define RESTARTS 5

enum op { OP_ORDER_GET, OP_ORDERS_PAGE, OP_AIS_ACCOUNT };

struct shared {
    struct cfg_bigcommerce bc_cfg;
    struct mlc_secret     *bc_token;
    struct pacer          *pacer;
    struct ais_session    *ais;
    atomic_long            next;    /* requests handed out */
    long                   total;   /* requests to run; < 0: until stop */
    atomic_bool            stop;
    atomic_long            errors;
    atomic_long            done;
};

struct worker {
    struct shared *sh;
    enum op        op;
    pthread_t      tid;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Claims the next request; false when the run is over. */
static bool claim(struct shared *sh)
{
    if (atomic_load(&sh->stop))
        return false;
    return sh->total < 0 || atomic_fetch_add(&sh->next, 1) < sh->total;
}

static int one_bc(struct bc_client *c, enum op op, struct mlc_err *e)
{
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    json_t *j = NULL;
    int rc;

    if (op == OP_ORDER_GET)
        rc = bc_order_get(c, 100, &j, e);
    else
        rc = bc_orders_page(c, &f, 1, BC_V2_LIMIT_MAX, &j, e);
    json_decref(j);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    struct bc_client *c = NULL;
    struct mlc_err e = { 0 };

    if (w->op != OP_AIS_ACCOUNT &&
        bc_client_new(&sh->bc_cfg, sh->bc_token, sh->pacer, &c, &e) != MLC_OK) {
        fprintf(stderr, "clients: %s\n", e.msg);
        atomic_fetch_add(&sh->errors, 1);
        return NULL;
    }
    while (claim(sh)) {
        int rc;

        if (w->op == OP_AIS_ACCOUNT) {
            struct ais_account a;
            rc = ais_account_lookup(sh->ais, "1", "1110", NULL, &a, &e);
        } else {
            rc = one_bc(c, w->op, &e);
        }
        if (rc != MLC_OK && atomic_fetch_add(&sh->errors, 1) == 0)
            fprintf(stderr, "clients: first error: %s\n", e.msg);
        atomic_fetch_add(&sh->done, 1);
    }
    bc_client_free(c);
    return NULL;
}

static int start_workers(struct shared *sh, struct worker *w, int n, enum op op)
{
    for (int i = 0; i < n; i++) {
        w[i].sh = sh;
        w[i].op = op;
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
            return i;
    }
    return n;
}

static void join_workers(struct worker *w, int n)
{
    for (int i = 0; i < n; i++)
        pthread_join(w[i].tid, NULL);
}

/* n threads share total requests of op; prints requests/s. */
static void throughput(struct shared *sh, const char *label, enum op op, int n, long total)
{
    struct worker w[MAX_THREADS];
    double t0, dt;
    int started;

    atomic_store(&sh->next, 0);
    atomic_store(&sh->errors, 0);
    atomic_store(&sh->done, 0);
    atomic_store(&sh->stop, false);
    sh->total = total;
    t0 = now_s();
    started = start_workers(sh, w, n, op);
    join_workers(w, started);
    dt = now_s() - t0;
    printf("%-44s %2d threads %6ld req %9.0f req/s  errors %ld\n", label, n,
           atomic_load(&sh->done), dt > 0 ? (double)atomic_load(&sh->done) / dt : 0.0,
           atomic_load(&sh->errors));
    fflush(stdout);
}

static int ctl_restart(struct httpc *h, const char *ctl_url, struct mlc_err *e)
{
    struct httpc_header hd[] = { { "Content-Type", "application/json" } };
    struct httpc_response r = { 0 };
    char url[512];
    int rc;

    snprintf(url, sizeof(url), "%s/__sim/restart", ctl_url);
    rc = httpc_do(h, &(struct httpc_request){ .method = "POST", .url = url, .headers = hd,
                  .n_headers = 1, .body = "{}", .body_len = 2 }, &r, e);
    if (rc == MLC_OK && r.status != 200)
        rc = mlc_err_set(e, MLC_EPROTO, "restart: HTTP %d", r.status);
    httpc_response_clear(&r);
    return rc;
}

/* 16 threads read through one session while the AIS server restarts
 * RESTARTS times; prints the logins each restart cost. */
static void logins_per_restart(struct shared *sh, const char *ctl_url)
{
    struct worker w[MAX_THREADS];
    struct httpc *h = NULL;
    struct mlc_err e = { 0 };
    uint64_t before, after, sum = 0;
    int started;

    if (httpc_new(NULL, &h, &e) != MLC_OK) {
        fprintf(stderr, "clients: %s\n", e.msg);
        return;
    }
    atomic_store(&sh->errors, 0);
    atomic_store(&sh->done, 0);
    atomic_store(&sh->stop, false);
    sh->total = -1;
    started = start_workers(sh, w, MAX_THREADS, OP_AIS_ACCOUNT);
    sleep_ms(300);
    for (int r = 1; r <= RESTARTS; r++) {
        long reads0 = atomic_load(&sh->done);

        before = ais_session_login_count(sh->ais);
        if (ctl_restart(h, ctl_url, &e) != MLC_OK) {
            fprintf(stderr, "clients: %s\n", e.msg);
            break;
        }
        sleep_ms(400);
        after = ais_session_login_count(sh->ais);
        sum += after - before;
        printf("AIS restart %d under %d reading threads: %" PRIu64 " login(s), %ld reads "
               "in 400 ms\n", r, started, after - before, atomic_load(&sh->done) - reads0);
        fflush(stdout);
    }
    atomic_store(&sh->stop, true);
    join_workers(w, started);
    printf("logins per restart: %.2f over %d restarts (read errors: %ld)\n",
           (double)sum / RESTARTS, RESTARTS, atomic_load(&sh->errors));
    httpc_free(h);
}

int main(int argc, char **argv)
{
    static const int threads[] = { 1, 4, 8 };
    const char *tok = getenv("BC_TOKEN"), *pw = getenv("JDE_PASSWORD");
    struct shared sh;
    struct cfg_jde jc = { 0 };
    struct mlc_secret *pws = NULL;
    struct mlc_err e = { 0 };
    int status = 1;

    if (argc != 4 || tok == NULL || pw == NULL) {
        fprintf(stderr, "usage: BC_TOKEN=... JDE_PASSWORD=... %s BC_BASE_URL AIS_BASE_URL "
                "AIS_CONTROL_URL\n", argv[0]);
        return 2;
    }
    if (secret_lib_init() != MLC_OK || httpc_global_init(&e) != MLC_OK)
        return 1;
    log_set_level(LOG_LVL_ERROR);
    memset(&sh, 0, sizeof(sh));
    sh.bc_cfg.store_hash = "bench";
    sh.bc_cfg.api_base_url = argv[1];
    sh.bc_cfg.timeout_ms = 30000;
    jc.ais_base_url = argv[2];
    jc.user = "MLCINT";
    jc.device_name = "mlc-bench";
    if (secret_new(tok, strlen(tok), &sh.bc_token, &e) != MLC_OK ||
        secret_new(pw, strlen(pw), &pws, &e) != MLC_OK ||
        pacer_new(&(struct pacer_opts){ .reserve = 0 }, &sh.pacer, &e) != MLC_OK ||
        ais_session_new(&jc, pws, NULL, &sh.ais, &e) != MLC_OK ||
        ais_session_login(sh.ais, &e) != MLC_OK) {
        fprintf(stderr, "clients: %s\n", e.msg);
        goto out;
    }
    for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
        throughput(&sh, "BigCommerce bc_order_get", OP_ORDER_GET, threads[i], 3000);
    for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
        throughput(&sh, "BigCommerce bc_orders_page (250, line items)", OP_ORDERS_PAGE,
                   threads[i], 500);
    for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
        throughput(&sh, "AIS ais_account_lookup (F0901 BROWSE)", OP_AIS_ACCOUNT,
                   threads[i], 3000);
    logins_per_restart(&sh, argv[3]);
    ais_session_logout(sh.ais, NULL);
    status = 0;
out:
    ais_session_free(sh.ais);
    pacer_free(sh.pacer);
    secret_free(sh.bc_token);
    secret_free(pws);
    return status;
}
