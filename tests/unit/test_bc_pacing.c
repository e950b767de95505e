/*
 * Pacing against the BigCommerce simulator with real threads: 8 threads, each
 * with its own client, share one pacer against a store whose quota is small
 * (the 150 per 30 s scaled down to 15 per 3 s so the test is short;
 * the algorithm only sees the ratio). Every call must succeed and the store
 * must never answer 429. Nothing here asserts a duration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "bc/bc_client.h"
#include "bc/bcsim.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/secret.h"
#include "net/httpc.h"

#define SEED     "sim/seed/bigcommerce.json"
#define TOKEN    "sim-token-pacing"
#define THREADS  8
#define CALLS    6   /* per thread: 48 requests, about 3.5 windows of 14 */
#define QUOTA    15
#define WINDOW   3000
#define RESERVE  1

struct fx {
    struct bcsim          *sim;
    char                   base[96];
    struct cfg_bigcommerce cfg;
    struct mlc_secret     *tok;
    struct pacer          *pacer;
};

struct worker {
    struct fx *f;
    int        ok;
    int        failed;
    char       err[256];
};

static int start_sim(struct fx *f)
{
    json_error_t je;
    json_t *doc = json_load_file(SEED, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce");
    json_t *set = json_object_get(seed, "settings");
    struct mlc_err e = { 0 };
    int rc;

    if (set == NULL) {
        json_decref(doc);
        return -1;
    }
    json_object_set_new(set, "store_hash", json_string("pace"));
    json_object_set_new(set, "access_token", json_string(TOKEN));
    json_object_set_new(set, "rate_quota", json_integer(QUOTA));
    json_object_set_new(set, "rate_window_ms", json_integer(WINDOW));
    rc = bcsim_start("127.0.0.1:0", seed, &f->sim, &e);
    json_decref(doc);
    if (rc != MLC_OK)
        return -1;
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u/stores/pace",
             (unsigned)bcsim_port(f->sim));
    f->cfg.api_base_url = f->base;
    f->cfg.timeout_ms = 20000;
    return 0;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    struct bc_client *c = NULL;
    struct mlc_err e = { 0 };

    if (bc_client_new(&w->f->cfg, w->f->tok, w->f->pacer, &c, &e) != MLC_OK) {
        snprintf(w->err, sizeof(w->err), "%s", e.msg);
        w->failed = CALLS;
        return NULL;
    }
    for (int i = 0; i < CALLS; i++) {
        json_t *order = NULL;

        if (bc_order_get(c, 100 + i % 6, &order, &e) == MLC_OK) {
            w->ok++;
        } else {
            w->failed++;
            snprintf(w->err, sizeof(w->err), "%s", e.msg);
        }
        json_decref(order);
    }
    bc_client_free(c);
    return NULL;
}

static void test_eight_threads_no_429(void **state)
{
    struct fx f = { 0 };
    struct pacer_opts po = { .reserve = RESERVE, .quota = QUOTA, .window_ms = WINDOW,
                             .backoff_ms = 500, .backoff_max_ms = 4000 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    struct pacer_stats ps;
    struct mlc_err e = { 0 };
    int ok = 0;

    (void)state;
    assert_int_equal(start_sim(&f), 0);
    assert_int_equal(secret_new(TOKEN, strlen(TOKEN), &f.tok, &e), MLC_OK);
    assert_int_equal(pacer_new(&po, &f.pacer, &e), MLC_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .f = &f };
        assert_int_equal(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failed)
            fprintf(stderr, "worker %d: %d failed: %s\n", i, w[i].failed, w[i].err);
        ok += w[i].ok;
    }
    pacer_get_stats(f.pacer, &ps);
    assert_int_equal(ok, THREADS * CALLS);
    assert_int_equal(ps.n429, 0);           /* the store never throttled us */
    assert_int_equal(ps.granted, THREADS * CALLS);
    pacer_free(f.pacer);
    secret_free(f.tok);
    bcsim_free(f.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_threads_no_429),
    };
    struct mlc_err e = { 0 };

    if (httpc_global_init(&e) != MLC_OK)
        return 1;
    return cmocka_run_group_tests_name("bc_pacing", tests, NULL, NULL);
}
