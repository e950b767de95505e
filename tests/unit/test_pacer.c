/* Unit tests: bc/pacer. Simulated time against a model of BigCommerce's
 * fixed-window rate limiter, plus a short real multi-threaded smoke test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/pacer.h"
#include "bc/pacer_int.h" /* the record's encoding and turn hold */

/* ---- model server ------------------------------------------------------- */

#define MAX_WINDOWS 64

/* Fixed windows aligned on t = 0, like BigCommerce's 30 s window. Counts
 * live in MAX_WINDOWS slots reused round-robin (slot_w says which window a
 * slot holds), so long real-time runs fit too. */
struct model {
    int64_t quota;
    int64_t window_ms;
    int64_t slot_w[MAX_WINDOWS];  /* window id held by the slot, +1 (0: none) */
    int64_t count[MAX_WINDOWS];  /* requests counted (all apps) */
    int64_t ours[MAX_WINDOWS];   /* of which ours */
    int64_t storm_from, storm_to; /* header-less 429s in [from, to) */
    uint64_t served, served_in_storm, n429_ours, n429_other;
};

/* One request arriving at t; fills the response observation. */
static struct pacer_obs model_serve(struct model *m, int64_t t, bool ours)
{
    int64_t id = t / m->window_ms, w = id % MAX_WINDOWS;
    int64_t reset = (id + 1) * m->window_ms - t;
    struct pacer_obs o = PACER_OBS_NONE(200);

    if (m->slot_w[w] != id + 1) {
        m->slot_w[w] = id + 1;
        m->count[w] = 0;
        m->ours[w] = 0;
    }
    m->served++;
    if (t >= m->storm_from && t < m->storm_to) {
        m->served_in_storm++;
        o.status = 429; /* platform load: no rate-limit headers */
        return o;
    }
    o.reset_ms = reset;
    o.window_ms = m->window_ms;
    o.quota = m->quota;
    if (m->count[w] >= m->quota) {
        o.status = 429;
        o.left = 0;
        if (ours)
            m->n429_ours++;
        else
            m->n429_other++;
        return o;
    }
    m->count[w]++;
    if (ours)
        m->ours[w]++;
    o.left = m->quota - m->count[w];
    return o;
}

/* ---- simulation ----------------------------------------------------------- */

#define SIM_CLIENTS 8

static uint64_t rng_state;

static uint64_t xorshift(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One-way latency, 20 ms up to max_ms. A wide spread (big pages take
 * seconds) keeps several requests in flight and reorders responses. */
static int64_t latency(int64_t max_ms)
{
    return 20 + (int64_t)(xorshift() % (uint64_t)(max_ms - 19));
}

struct vclient {
    bool             busy;
    int64_t          next_try;   /* idle: ask the pacer again at */
    int64_t          arrive_at;  /* busy: request reaches the server */
    int64_t          respond_at; /* busy: response reaches us */
    bool             served;
    struct pacer_obs obs;
};

struct sim_result {
    uint64_t ok;           /* 2xx responses */
    uint64_t ok_after;     /* 2xx responses received at or after after_ms */
};

struct sim_cfg {
    int64_t duration_ms;
    int64_t lat_max_ms;       /* see latency() */
    int64_t other_per_window; /* requests of another app per window */
    bool    other_burst;      /* at the window start (9 ms apart), else random */
    int64_t after_ms;         /* for sim_result.ok_after */
};

/* True when the other app sends a request at t (random mode uses the
 * precomputed moments in at[], OTHER_MAX per window). */
#define OTHER_MAX 16

static bool other_sends(const struct sim_cfg *cfg, const struct model *m,
                        int64_t at[][OTHER_MAX], int64_t t)
{
    int64_t w = t / m->window_ms, off = t % m->window_ms;

    if (cfg->other_burst)
        return off % 9 == 0 && off / 9 < cfg->other_per_window;
    for (int64_t k = 0; k < cfg->other_per_window; k++)
        if (at[w][k] == t)
            return true;
    return false;
}

/* Runs SIM_CLIENTS clients that issue requests as fast as the pacer allows,
 * in 1 ms ticks. */
static struct sim_result simulate(struct pacer *p, struct model *m,
                                  const struct sim_cfg *cfg)
{
    struct vclient c[SIM_CLIENTS];
    struct sim_result res = { 0, 0 };
    int64_t other_at[MAX_WINDOWS][OTHER_MAX];

    memset(c, 0, sizeof(c));
    rng_state = 0x9e3779b97f4a7c15ULL;
    assert_true(cfg->duration_ms / m->window_ms < MAX_WINDOWS);
    assert_true(cfg->other_burst || cfg->other_per_window <= OTHER_MAX);
    for (int w = 0; w < MAX_WINDOWS; w++)
        for (int k = 0; k < OTHER_MAX; k++)
            other_at[w][k] = w * m->window_ms + (int64_t)(xorshift() % (uint64_t)m->window_ms);
    for (int64_t t = 0; t < cfg->duration_ms; t++) {
        if (other_sends(cfg, m, other_at, t))
            (void)model_serve(m, t, false);
        for (int i = 0; i < SIM_CLIENTS; i++) {
            struct vclient *v = &c[i];
            int64_t wait;

            if (v->busy && !v->served && t >= v->arrive_at) {
                v->obs = model_serve(m, t, true);
                v->served = true;
            }
            if (v->busy && t >= v->respond_at) {
                pacer_on_response_at(p, t, &v->obs);
                if (v->obs.status == 200) {
                    res.ok++;
                    if (t >= cfg->after_ms)
                        res.ok_after++;
                }
                v->busy = false;
                v->next_try = t;
            }
            if (!v->busy && t >= v->next_try) {
                if (pacer_try_acquire_at(p, t, &wait)) {
                    v->busy = true;
                    v->served = false;
                    v->arrive_at = t + latency(cfg->lat_max_ms);
                    v->respond_at = v->arrive_at + latency(cfg->lat_max_ms);
                } else {
                    assert_true(wait >= 1);
                    v->next_try = t + wait;
                }
            }
        }
    }
    return res;
}

static struct pacer *new_pacer(int64_t reserve, int64_t quota, int64_t window)
{
    struct pacer_opts o = { .reserve = reserve, .quota = quota, .window_ms = window };
    struct pacer *p;

    assert_int_equal(pacer_new(&o, &p, NULL), MLC_OK);
    return p;
}

/* ---- tests ------------------------------------------------------------- */

/* 150 req / 30 s, 8 clients, 90 s: no 429 and at least 80% of the rate
 * that the reserve allows; the reserve is never touched. Run with short and
 * with long, widely spread latencies. */
static void sim_quota(int64_t lat_max_ms)
{
    struct model m = { .quota = 150, .window_ms = 30000, .storm_from = -1, .storm_to = -1 };
    const int64_t reserve = 10, windows = 3;
    struct pacer *p = new_pacer(reserve, 0, 0);
    struct sim_result r;

    r = simulate(p, &m, &(struct sim_cfg){ .duration_ms = windows * m.window_ms,
                                          .lat_max_ms = lat_max_ms });
    printf("# sim (latency <= %lld ms): %llu ok of %lld allowed\n",
           (long long)lat_max_ms, (unsigned long long)r.ok,
           (long long)(windows * (m.quota - reserve)));
    assert_int_equal(m.n429_ours, 0);
    assert_true(r.ok * 10 >= (uint64_t)(windows * (m.quota - reserve)) * 8);
    for (int w = 0; w < windows; w++)
        assert_true(m.ours[w] <= m.quota - reserve);
    pacer_free(p);
}

static void test_sim_no_429_and_throughput(void **state)
{
    (void)state;
    sim_quota(150);
}

static void test_sim_no_429_slow_responses(void **state)
{
    (void)state;
    sim_quota(1500);
}

/* Another app uses up to the reserve at random moments: nobody gets a 429. */
static void test_sim_reserve_left_to_other_apps(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .storm_from = -1, .storm_to = -1 };
    const int64_t reserve = 12, other = 12, windows = 4;
    struct pacer *p = new_pacer(reserve, 0, 0);
    struct sim_result r;

    (void)state;
    r = simulate(p, &m, &(struct sim_cfg){ .duration_ms = windows * m.window_ms,
                                          .lat_max_ms = 1500, .other_per_window = other });
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(m.n429_other, 0);
    assert_true(r.ok * 10 >= (uint64_t)(windows * (m.quota - reserve - other)) * 8);
    pacer_free(p);
}

/* A greedy app spends 110 requests in the first second of every window:
 * we live on what is left, in flight included, without a 429. */
static void test_sim_greedy_neighbour(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .storm_from = -1, .storm_to = -1 };
    const int64_t reserve = 5, windows = 4;
    struct pacer *p = new_pacer(reserve, 0, 0);
    struct sim_result r;

    (void)state;
    r = simulate(p, &m, &(struct sim_cfg){ .duration_ms = windows * m.window_ms,
                                          .lat_max_ms = 1500, .other_per_window = 110,
                                          .other_burst = true });
    printf("# greedy neighbour: %llu ok, neighbour refused %llu\n",
           (unsigned long long)r.ok, (unsigned long long)m.n429_other);
    assert_int_equal(m.n429_ours, 0);
    assert_true(r.ok >= (uint64_t)windows * 20);
    pacer_free(p);
}

/* A large reserve caps our share of each window. */
static void test_sim_large_reserve_caps_share(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .storm_from = -1, .storm_to = -1 };
    const int64_t reserve = 100;
    struct pacer *p = new_pacer(reserve, 0, 0);
    struct sim_result r;

    (void)state;
    r = simulate(p, &m, &(struct sim_cfg){ .duration_ms = 3 * m.window_ms,
                                          .lat_max_ms = 1500 });
    for (int w = 0; w < 3; w++) {
        assert_true(m.ours[w] <= m.quota - reserve);
        assert_true(m.ours[w] >= (m.quota - reserve) / 2);
    }
    assert_true(r.ok > 0);
    assert_int_equal(m.n429_ours, 0);
    pacer_free(p);
}

/* Header-less 429s for 20 s: few requests are spent during the storm
 * (doubling backoff, one probe at a time), pacing recovers afterwards. */
static void test_sim_bare_429_storm_recovers(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000,
                       .storm_from = 20000, .storm_to = 40000 };
    const int64_t reserve = 10;
    struct pacer *p = new_pacer(reserve, 0, 0);
    struct pacer_stats st;
    struct sim_result r;

    (void)state;
    r = simulate(p, &m, &(struct sim_cfg){ .duration_ms = 90000, .lat_max_ms = 1500,
                                          .after_ms = 45000 });
    pacer_get_stats(p, &st);
    printf("# storm: %llu requests during the storm, %llu ok after it\n",
           (unsigned long long)m.served_in_storm, (unsigned long long)r.ok_after);
    assert_true(m.served_in_storm >= 3);   /* it kept probing */
    assert_true(m.served_in_storm <= 16);  /* but did not hammer */
    assert_int_equal(st.n429_bare, m.served_in_storm);
    assert_int_equal(m.n429_ours, 0);
    /* From 45 s on, 8 clients with round trips up to 3 s could do about
     * 240; ask for 150. */
    assert_true(r.ok_after >= 150);
    pacer_free(p);
}

/* Feeds one 200 with headers so that the pacer knows its window. */
static void prime(struct pacer *p, int64_t now, int64_t left, int64_t reset)
{
    struct pacer_obs o = { .status = 200, .left = left, .reset_ms = reset,
                           .window_ms = 30000, .quota = 150 };
    int64_t wait;

    assert_true(pacer_try_acquire_at(p, now, &wait));
    pacer_on_response_at(p, now, &o);
}

static void test_429_with_reset_waits_until_reset(void **state)
{
    struct pacer *p = new_pacer(0, 0, 0);
    struct pacer_obs o = { .status = 429, .left = 0, .reset_ms = 5000,
                           .window_ms = 30000, .quota = 150 };
    int64_t wait;

    (void)state;
    prime(p, 1000, 100, 25000);
    assert_true(pacer_try_acquire_at(p, 2000, &wait));
    pacer_on_response_at(p, 2000, &o);
    assert_false(pacer_try_acquire_at(p, 2000, &wait));
    assert_int_equal(wait, 5000);
    assert_false(pacer_try_acquire_at(p, 6999, &wait));
    assert_int_equal(wait, 1);
    assert_true(pacer_try_acquire_at(p, 7000, &wait));
    pacer_free(p);
}

static void test_bare_429_backoff_doubles_and_resets(void **state)
{
    struct pacer_opts opt = { .backoff_ms = 1000, .backoff_max_ms = 4000 };
    struct pacer *p;
    struct pacer_obs bare = PACER_OBS_NONE(429);
    struct pacer_obs ok = PACER_OBS_NONE(200);
    const int64_t expect[] = { 1000, 2000, 4000, 4000 };
    int64_t now = 0, wait;

    (void)state;
    assert_int_equal(pacer_new(&opt, &p, NULL), MLC_OK);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        assert_true(pacer_try_acquire_at(p, now, &wait));
        pacer_on_response_at(p, now, &bare);
        assert_false(pacer_try_acquire_at(p, now, &wait));
        assert_int_equal(wait, expect[i]);
        now += wait;
    }
    /* A success ends the run: the next bare 429 starts at 1 s again. */
    assert_true(pacer_try_acquire_at(p, now, &wait));
    pacer_on_response_at(p, now, &ok);
    now += 1000; /* past the spreading gap of the assumed 150 / 30 s */
    assert_true(pacer_try_acquire_at(p, now, &wait));
    pacer_on_response_at(p, now, &bare);
    assert_false(pacer_try_acquire_at(p, now, &wait));
    assert_int_equal(wait, 1000);
    pacer_free(p);
}

/* Before any response, and after a bare 429, one request at a time. */
static void test_probe_one_at_a_time(void **state)
{
    struct pacer *p = new_pacer(0, 0, 0);
    struct pacer_obs o = { .status = 200, .left = 149, .reset_ms = 30000,
                           .window_ms = 30000, .quota = 150 };
    int64_t wait;

    (void)state;
    assert_true(pacer_try_acquire_at(p, 0, &wait));
    assert_false(pacer_try_acquire_at(p, 0, &wait));
    assert_int_equal(wait, PACER_PROBE_RECHECK_MS);
    pacer_on_response_at(p, 10, &o);
    assert_true(pacer_try_acquire_at(p, 10, &wait));
    /* 149 left over 30 s: the next grant is spread, not immediate. */
    assert_false(pacer_try_acquire_at(p, 10, &wait));
    assert_true(wait > 100 && wait < 300);
    pacer_free(p);
}

/* Budget exhausted (left <= in flight + reserve): wait for the reset, then
 * the window is assumed refilled. */
static void test_budget_exhausted_waits_for_reset(void **state)
{
    struct pacer *p = new_pacer(5, 0, 0);
    int64_t wait;

    (void)state;
    prime(p, 0, 6, 10000);
    assert_true(pacer_try_acquire_at(p, 10000 - 1, &wait));
    assert_false(pacer_try_acquire_at(p, 10000 - 1, &wait));
    assert_int_equal(wait, 1);
    pacer_on_response_at(p, 10000 - 1, &PACER_OBS_NONE(0));
    assert_true(pacer_try_acquire_at(p, 10000, &wait));
    pacer_free(p);
}

/* Scarce: nothing known yet, a gap between grants over PACER_TURN_FREE_MS,
 * or no budget left; not scarce when grants could follow each other. */
static void test_scarce(void **state)
{
    struct pacer *plenty = new_pacer(0, 0, 0), *tight = new_pacer(0, 0, 0);
    int64_t wait;

    (void)state;
    assert_true(pacer_scarce_at(plenty, 0));
    prime(plenty, 0, 7499, 30000);          /* 4 ms apart */
    assert_false(pacer_scarce_at(plenty, 1));
    prime(tight, 0, 100, 30000);            /* 300 ms apart */
    assert_true(pacer_scarce_at(tight, 1));
    pacer_free(tight);
    tight = new_pacer(5, 0, 0);
    prime(tight, 0, 6, 10000);              /* one grant left over 10 s */
    assert_true(pacer_scarce_at(tight, 1000));
    assert_true(pacer_try_acquire_at(tight, 9990, &wait));
    assert_false(pacer_scarce_at(tight, 9995)); /* none left, but the reset is near */
    pacer_free(plenty);
    pacer_free(tight);
}

/* Requests in flight count against the budget until their response. */
static void test_in_flight_counts_against_budget(void **state)
{
    struct pacer *p = new_pacer(5, 0, 0);
    int64_t wait;

    (void)state;
    prime(p, 0, 8, 30000); /* budget 8 - 5 = 3 for the rest of the window */
    assert_true(pacer_try_acquire_at(p, 10000, &wait));
    assert_false(pacer_try_acquire_at(p, 10001, &wait));
    assert_int_equal(wait, 9998);  /* 2 left over 19999 ms: 9999 apart */
    assert_true(pacer_try_acquire_at(p, 20000, &wait));
    assert_true(pacer_try_acquire_at(p, 29000, &wait));
    /* 3 in flight spend the whole budget: wait for the reset. */
    assert_false(pacer_try_acquire_at(p, 29001, &wait));
    assert_int_equal(wait, 999);
    pacer_free(p);
}

/* Responses arrive out of order: the lowest "left" of a window wins. */
static void test_lowest_left_of_window_wins(void **state)
{
    struct pacer *p = new_pacer(0, 0, 0);
    struct pacer_obs o = { .status = 200, .window_ms = 30000, .quota = 150 };
    struct pacer_stats st;
    int64_t wait;

    (void)state;
    pacer_get_stats(p, &st);
    assert_int_equal(st.last_left, -1);
    prime(p, 0, 100, 30000);
    assert_true(pacer_try_acquire_at(p, 1000, &wait));
    assert_true(pacer_try_acquire_at(p, 2000, &wait));
    o.left = 50;
    o.reset_ms = 27000;
    pacer_on_response_at(p, 3000, &o);
    o.left = 80; /* an older request, answered late */
    o.reset_ms = 26000;
    pacer_on_response_at(p, 4000, &o);
    pacer_get_stats(p, &st);
    assert_int_equal(st.left, 50);
    assert_int_equal(st.last_left, 80); /* /metrics: the last header seen */
    assert_int_equal(st.in_flight, 0);
    /* A later window replaces the estimate. */
    o.left = 140;
    o.reset_ms = 29000;
    assert_true(pacer_try_acquire_at(p, 31000, &wait));
    pacer_on_response_at(p, 31000, &o);
    pacer_get_stats(p, &st);
    assert_int_equal(st.left, 140);
    pacer_free(p);
}

static void test_acquire_timeout_and_shutdown(void **state)
{
    struct pacer *p = new_pacer(0, 0, 0);
    struct pacer_obs o = { .status = 429, .left = 0, .reset_ms = 60000,
                           .window_ms = 30000, .quota = 150 };
    struct mlc_err e;

    (void)state;
    assert_int_equal(pacer_acquire(p, -1, &e), MLC_OK);
    pacer_on_response(p, &o);
    assert_int_equal(pacer_acquire(p, 10, &e), MLC_ETIMEOUT);
    assert_non_null(strstr(e.msg, "rate limit"));
    pacer_shutdown(p);
    assert_int_equal(pacer_acquire(p, -1, &e), MLC_ESTATE);
    pacer_free(p);
}

static void test_options_checked(void **state)
{
    struct pacer_opts o = { .reserve = 150 };
    struct pacer *p = (struct pacer *)1;
    struct mlc_err e;

    (void)state;
    assert_int_equal(pacer_new(&o, &p, &e), MLC_EINVAL);
    assert_null(p);
    assert_non_null(strstr(e.msg, "reserve"));
    o.reserve = -1;
    assert_int_equal(pacer_new(&o, &p, &e), MLC_EINVAL);
    o.reserve = 449;
    o.quota = 450;
    assert_int_equal(pacer_new(&o, &p, &e), MLC_OK);
    pacer_free(p);
    pacer_free(NULL);
}

/* ---- real threads --------------------------------------------------------- */

#define T_THREADS 8
#define T_REQS    25

struct rt_model {
    pthread_mutex_t mu;
    struct model    m;
    int64_t         t0;
    uint64_t        responses;
};

struct rt_arg {
    struct pacer    *p;
    struct rt_model *rm;
    int              rc;
};

static void *rt_worker(void *ud)
{
    struct rt_arg *a = ud;

    for (int i = 0; i < T_REQS; i++) {
        struct pacer_obs o;

        a->rc = pacer_acquire(a->p, 5000, NULL);
        if (a->rc != MLC_OK)
            return NULL;
        pthread_mutex_lock(&a->rm->mu);
        o = model_serve(&a->rm->m, pacer_now_ms() - a->rm->t0, true);
        a->rm->responses++;
        pthread_mutex_unlock(&a->rm->mu);
        pacer_on_response(a->p, &o);
    }
    return NULL;
}

static void test_threads_smoke(void **state)
{
    struct pacer_opts opt = { .reserve = 4, .quota = 40, .window_ms = 40,
                              .backoff_ms = 5, .backoff_max_ms = 20 };
    struct rt_model rm;
    struct rt_arg args[T_THREADS];
    pthread_t th[T_THREADS];
    struct pacer_stats st;
    struct pacer *p;

    (void)state;
    memset(&rm, 0, sizeof(rm));
    pthread_mutex_init(&rm.mu, NULL);
    rm.m.quota = 40;
    rm.m.window_ms = 40;
    rm.m.storm_from = rm.m.storm_to = -1;
    assert_int_equal(pacer_new(&opt, &p, NULL), MLC_OK);
    rm.t0 = pacer_now_ms();
    for (int i = 0; i < T_THREADS; i++) {
        args[i] = (struct rt_arg){ p, &rm, MLC_OK };
        assert_int_equal(pthread_create(&th[i], NULL, rt_worker, &args[i]), 0);
    }
    for (int i = 0; i < T_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].rc, MLC_OK);
    }
    pacer_get_stats(p, &st);
    assert_int_equal(rm.responses, T_THREADS * T_REQS);
    assert_int_equal(st.granted, T_THREADS * T_REQS);
    assert_int_equal(st.responses, T_THREADS * T_REQS);
    assert_int_equal(st.in_flight, 0);
    pacer_free(p);
    pthread_mutex_destroy(&rm.mu);
}

/* ---- shared mode: several processes, one record ---------------------------- */

#define WALL0 1700000000000LL /* a wall clock, ms */

/* The record as a store would keep it: one read-modify-write at a time,
 * written back only when fn says so; "down" fails every update. */
struct fake_rec {
    pthread_mutex_t mu;
    unsigned char   buf[1024];
    size_t          len;
    bool            down;
    uint64_t        writes;
};

static int fake_update(void *ctx, pacer_record_fn fn, void *fn_ctx,
                       struct mlc_err *e)
{
    struct fake_rec *r = ctx;
    unsigned char tmp[1024];
    size_t len;
    int rc;

    pthread_mutex_lock(&r->mu);
    if (r->down) {
        pthread_mutex_unlock(&r->mu);
        return mlc_err_set(e, MLC_EIO, "store: connection refused");
    }
    memcpy(tmp, r->buf, r->len);
    len = r->len;
    rc = fn(tmp, &len, sizeof(tmp), fn_ctx);
    if (rc == MLC_OK) {
        assert_true(len <= sizeof(r->buf));
        memcpy(r->buf, tmp, len);
        r->len = len;
        r->writes++;
    }
    pthread_mutex_unlock(&r->mu);
    return rc == MLC_OK ? MLC_OK : mlc_err_set(e, rc, "store: update refused");
}

static struct fake_rec *fake_new(void)
{
    struct fake_rec *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static void fake_free(struct fake_rec *r)
{
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The record's state as decoded. */
static struct pacer_state fake_state(struct fake_rec *r)
{
    struct pacer_state s;

    assert_int_equal(pacer_rec_decode(&s, r->buf, r->len), MLC_OK);
    return s;
}

static struct pacer *new_shared(struct fake_rec *r, uint32_t member,
                                int64_t reserve, int64_t quota)
{
    struct pacer_opts o = { .reserve = reserve, .quota = quota };
    struct pacer_share sh = { .update = fake_update, .ctx = r, .member = member };
    struct pacer *p;

    assert_int_equal(pacer_new_shared(&o, &sh, &p, NULL), MLC_OK);
    return p;
}

static struct pacer_obs obs_at(int64_t left, int64_t reset_ms)
{
    return (struct pacer_obs){ .status = 200, .left = left, .reset_ms = reset_ms,
                               .window_ms = 30000, .quota = 150 };
}

/* One answered request: the record learns the window. */
static void prime_shared(struct pacer *p, int64_t now, int64_t left, int64_t reset)
{
    struct pacer_grant g;
    struct pacer_obs o = obs_at(left, reset);
    int64_t wait;

    assert_true(pacer_try_grant_at(p, now, &wait, &g));
    assert_int_equal(g.where, PACER_GRANT_SHARED);
    pacer_on_grant_response_at(p, now, &g, &o);
}

/* Grants are spread across processes, not per process: the second one
 * waits for the gap after the first one's grant. */
static void test_shared_spreads_across_processes(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0);
    struct pacer_grant g;
    int64_t wait, t;

    (void)state;
    assert_true(pacer_try_grant_at(a, WALL0, &wait, &g)); /* the probe */
    assert_false(pacer_try_grant_at(b, WALL0, &wait, &g));
    assert_int_equal(wait, PACER_PROBE_RECHECK_MS);
    pacer_on_grant_response_at(a, WALL0 + 100, &g, &(struct pacer_obs){
        .status = 200, .left = 149, .reset_ms = 29900, .window_ms = 30000, .quota = 150 });
    /* 139 left to spend over 29.9 s: one every 215 ms, whoever asks. */
    assert_false(pacer_try_grant_at(b, WALL0 + 100, &wait, &g));
    assert_true(wait > 100 && wait < 300);
    t = WALL0 + 100 + wait;
    assert_true(pacer_try_grant_at(b, t, &wait, &g));
    assert_false(pacer_try_grant_at(a, t, &wait, &g));
    assert_true(wait > 150 && wait < 300);
    assert_int_equal(fake_state(r).nmem, 2);
    pacer_free(a);
    pacer_free(b);
    fake_free(r);
}

/* Many grants never answered: the record stays small (entries merge), and
 * answers with headers clear it again. */
static void test_shared_record_stays_small(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *p = new_shared(r, 1, 10, 10000);
    struct pacer_grant g[200];
    struct pacer_state s;
    int64_t wait, n = 0;

    (void)state;
    prime_shared(p, WALL0, 9999, 30000);
    for (int i = 0; i < 200; i++)
        assert_true(pacer_try_grant_at(p, WALL0 + 20 + 20 * i, &wait, &g[i]));
    s = fake_state(r);
    for (int i = 0; i < s.nfl; i++)
        n += s.fl[i].n;
    assert_int_equal(s.nfl, PACER_FL_MAX);
    assert_int_equal(n, 200);
    assert_true(r->len <= 1024);
    print_message("# record with %d in-flight entries: %zu bytes\n", s.nfl, r->len);
    for (int i = 0; i < 200; i++) {
        struct pacer_obs o = obs_at(9998 - i, 30000 - 4020 - i);

        pacer_on_grant_response_at(p, WALL0 + 4020 + i, &g[i], &o);
    }
    s = fake_state(r);
    assert_int_equal(s.nfl, 0);
    assert_true(r->len < 64);
    pacer_free(p);
    fake_free(r);
}

/* The store is out of reach: each process paces alone on its share of the
 * window (quota - reserve over the processes seen + 1), then goes back to
 * the record once it answers. */
static void test_shared_fallback_share(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0),
                 *c = new_shared(r, 3, 10, 0);
    struct pacer_stats st;
    struct pacer_grant g;
    int64_t wait, t, granted = 0, end = WALL0 + 30000;

    (void)state;
    prime_shared(a, WALL0, 149, 30000);
    assert_false(pacer_try_grant_at(b, WALL0 + 1, &wait, &g));
    assert_false(pacer_try_grant_at(c, WALL0 + 2, &wait, &g));
    assert_false(pacer_try_grant_at(a, WALL0 + 3, &wait, &g));
    r->down = true;
    /* Alone until the end of the window: (150 - 10) / (3 + 1) = 35. */
    for (t = WALL0 + 3; t < end; t += wait) {
        if (pacer_try_grant_at(a, t, &wait, &g)) {
            struct pacer_obs o = obs_at(148 - granted, end - t);

            assert_int_equal(g.where, PACER_GRANT_FALLBACK);
            pacer_on_grant_response_at(a, t, &g, &o);
            granted++;
            wait = 1;
        }
        assert_true(wait >= 1 && wait <= PACER_STORE_RETRY_MS);
    }
    pacer_get_stats(a, &st);
    print_message("# alone: %lld granted in the window\n", (long long)granted);
    assert_true(st.fallback);
    assert_true(st.failures >= 29); /* it asked the store once a second */
    assert_int_equal(st.members, 3);
    assert_true(granted >= 30 && granted <= 35);
    assert_int_equal((int64_t)st.fallback_granted, granted);
    /* Back: the record decides again (b and c queued first: their turn is
     * held for them a moment, and a, third in line, comes back later). */
    r->down = false;
    assert_false(pacer_try_grant_at(a, end + 2000, &wait, &g));
    assert_true(wait >= PACER_TURN_HOLD_MS);
    assert_true(pacer_try_grant_at(a, end + 2000 + wait, &wait, &g));
    assert_int_equal(g.where, PACER_GRANT_SHARED);
    pacer_get_stats(a, &st);
    assert_false(st.fallback);
    pacer_free(a);
    pacer_free(b);
    pacer_free(c);
    fake_free(r);
}

/* Never unbounded: a process that never reached the store probes one
 * request at a time, then spends half the window at most. */
static void test_shared_fallback_without_record(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0);
    struct pacer_grant g;
    struct pacer_obs o;
    int64_t wait, t, granted = 0, end = WALL0 + 30000;

    (void)state;
    r->down = true;
    assert_true(pacer_try_grant_at(a, WALL0, &wait, &g));
    assert_false(pacer_try_grant_at(a, WALL0, &wait, &g));
    assert_int_equal(wait, PACER_PROBE_RECHECK_MS);
    o = obs_at(149, 30000);
    pacer_on_grant_response_at(a, WALL0, &g, &o);
    granted = 1;
    for (t = WALL0; t < end; t += wait)
        if (pacer_try_grant_at(a, t, &wait, &g)) {
            o = obs_at(149 - granted, end - t);
            pacer_on_grant_response_at(a, t, &g, &o);
            granted++;
            wait = 1;
        }
    assert_true(granted <= (150 - 10) / 2);
    pacer_free(a);
    fake_free(r);
}

/* A record of a newer version is left alone: the process paces alone. A
 * record that is not one at all starts afresh. */
static void test_shared_record_versions(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0);
    static const unsigned char newer[] = { PACER_REC_MAGIC, PACER_REC_VERSION + 1, 0, 0 };
    struct pacer_obs o;
    struct pacer_stats st;
    struct pacer_grant g;
    int64_t wait;

    (void)state;
    memcpy(r->buf, newer, sizeof(newer));
    r->len = sizeof(newer);
    assert_true(pacer_try_grant_at(a, WALL0, &wait, &g));
    assert_int_equal(g.where, PACER_GRANT_FALLBACK);
    assert_int_equal(r->writes, 0);
    assert_memory_equal(r->buf, newer, sizeof(newer));
    pacer_get_stats(a, &st);
    assert_true(st.fallback);
    o = obs_at(149, 30000);
    pacer_on_grant_response_at(a, WALL0, &g, &o);
    pacer_free(a);

    a = new_shared(r, 1, 10, 0);
    memcpy(r->buf, "garbage", 7);
    r->len = 7;
    assert_true(pacer_try_grant_at(a, WALL0, &wait, &g));
    assert_int_equal(g.where, PACER_GRANT_SHARED);
    assert_int_equal(fake_state(r).nfl, 1);
    pacer_free(a);
    fake_free(r);
}

/* A grant that comes free goes to the process that waited longest; it is
 * held for it PACER_TURN_HOLD_MS, then whoever asks takes it. */
static void test_shared_turns(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0),
                 *c = new_shared(r, 3, 10, 0);
    struct pacer_grant g;
    int64_t wait, free_at;

    (void)state;
    prime_shared(a, WALL0, 149, 30000);
    assert_false(pacer_try_grant_at(b, WALL0 + 1, &wait, &g)); /* b queues */
    free_at = WALL0 + 1 + wait;
    /* a asks first when the grant comes free: held for b. */
    assert_false(pacer_try_grant_at(a, free_at, &wait, &g));
    assert_int_equal(wait, PACER_TURN_HOLD_MS);
    assert_true(pacer_try_grant_at(b, free_at + 1, &wait, &g));
    /* Next one: c is new, a has waited since; a does not come (died). */
    assert_false(pacer_try_grant_at(c, free_at + 1, &wait, &g));
    free_at = free_at + 1 + wait;
    assert_false(pacer_try_grant_at(c, free_at, &wait, &g));
    assert_int_equal(wait, PACER_TURN_HOLD_MS);
    assert_true(pacer_try_grant_at(c, free_at + PACER_TURN_HOLD_MS, &wait, &g));
    /* a lost its turn: it queues again, behind nobody. */
    assert_int_equal(fake_state(r).mem[0].waiting, 0);
    pacer_free(a);
    pacer_free(b);
    pacer_free(c);
    fake_free(r);
}

/* With a quota far above the demand (grants a few ms apart), a grant that
 * comes free is not held for the one who waited: whoever asks takes it,
 * and the one who waited keeps its place and is told a short wait, not a
 * turn hold. */
static void test_shared_no_turns_when_plenty(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 0, 0), *b = new_shared(r, 2, 0, 0);
    struct pacer_grant g;
    int64_t wait, free_at;

    (void)state;
    prime_shared(a, WALL0, 7499, 30000);     /* a gap of 4 ms between grants */
    assert_false(pacer_try_grant_at(b, WALL0 + 1, &wait, &g)); /* b waits */
    assert_true(wait >= 1 && wait < PACER_TURN_FREE_MS);
    free_at = WALL0 + 1 + wait;
    assert_true(pacer_try_grant_at(a, free_at, &wait, &g)); /* no hold for b */
    assert_true(fake_state(r).mem[1].waiting != 0);          /* b keeps its place */
    assert_false(pacer_try_grant_at(b, free_at + 1, &wait, &g));
    assert_true(wait >= 1 && wait < PACER_TURN_FREE_MS);
    assert_true(pacer_try_grant_at(b, free_at + 1 + wait, &wait, &g));
    pacer_free(a);
    pacer_free(b);
    fake_free(r);
}

/* Shared: scarcity is the record's, as this process last read it. */
static void test_shared_scarce(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 0, 0), *b = new_shared(r, 2, 0, 0);
    struct pacer_grant g;
    int64_t wait;

    (void)state;
    prime_shared(a, WALL0, 7499, 30000);
    assert_false(pacer_scarce_at(a, WALL0 + 1));
    assert_true(pacer_scarce_at(b, WALL0 + 1));  /* b has not read it yet */
    pacer_try_grant_at(b, WALL0 + 1, &wait, &g);
    assert_false(pacer_scarce_at(b, WALL0 + 1));
    pacer_free(a);
    pacer_free(b);
    fake_free(r);
    r = fake_new();
    a = new_shared(r, 1, 0, 0);
    prime_shared(a, WALL0, 120, 30000);          /* 250 ms apart */
    assert_true(pacer_scarce_at(a, WALL0 + 1));
    pacer_free(a);
    fake_free(r);
}

/* A probe whose process died blocks the others for one window at most. */
static void test_shared_dead_probe(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0);
    struct pacer_grant g;
    int64_t wait;

    (void)state;
    assert_true(pacer_try_grant_at(a, WALL0, &wait, &g));
    pacer_free(a); /* never answers */
    assert_false(pacer_try_grant_at(b, WALL0 + 10, &wait, &g));
    assert_false(pacer_try_grant_at(b, WALL0 + 29000, &wait, &g));
    assert_true(pacer_try_grant_at(b, WALL0 + 30000 + PACER_FL_QUANT_MS, &wait, &g));
    pacer_free(b);
    fake_free(r);
}

/* Clocks differ between hosts: a window is assumed refilled only skew_ms
 * after its reset. */
static void test_shared_skew_margin(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0);
    struct pacer_grant g;
    int64_t wait;

    (void)state;
    prime_shared(a, WALL0, 10, 30000); /* all but the reserve spent */
    assert_false(pacer_try_grant_at(b, WALL0 + 1, &wait, &g));
    assert_int_equal(wait, 30000 + 250 - 1);
    assert_false(pacer_try_grant_at(b, WALL0 + 30100, &wait, &g));
    assert_true(pacer_try_grant_at(b, WALL0 + 30250, &wait, &g));
    pacer_free(a);
    pacer_free(b);
    fake_free(r);
}

/* A host whose clock ran an hour ahead wrote the record: the others wait a
 * window at most, not an hour. */
static void test_shared_clock_ahead_bounded(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer *a = new_shared(r, 1, 10, 0), *b = new_shared(r, 2, 10, 0);
    const int64_t hour = 3600 * 1000;
    struct pacer_grant g;
    int64_t wait;

    (void)state;
    prime_shared(a, WALL0 + hour, 10, 30000); /* all but the reserve spent */
    assert_false(pacer_try_grant_at(b, WALL0, &wait, &g));
    assert_true(wait <= 30000 + 250);
    assert_true(pacer_try_grant_at(b, WALL0 + wait, &wait, &g));
    pacer_free(a);
    pacer_free(b);
    fake_free(r);
}

/* Threads of two processes with the blocking calls: every grant answered,
 * the record clean at the end, nobody waited for ever. */
#define SH_THREADS 4
#define SH_REQS    10

struct sh_arg {
    struct pacer *p;
    int           rc;
};

static void *sh_worker(void *ud)
{
    struct sh_arg *a = ud;

    for (int i = 0; i < SH_REQS; i++) {
        struct pacer_grant g;
        struct pacer_obs o = { .status = 200, .left = 1000, .reset_ms = 500,
                               .window_ms = 1000, .quota = 1000 };

        a->rc = pacer_acquire_grant(a->p, 5000, &g, NULL);
        if (a->rc != MLC_OK)
            return NULL;
        pacer_on_grant_response(a->p, &g, &o);
    }
    return NULL;
}

static void test_shared_threads(void **state)
{
    struct fake_rec *r = fake_new();
    struct pacer_opts o = { .reserve = 10, .quota = 1000, .window_ms = 1000,
                            .skew_ms = 5, .arrive_ms = 50 };
    struct pacer_share sh = { .update = fake_update, .ctx = r };
    struct pacer *p[2];
    struct sh_arg args[2][SH_THREADS];
    pthread_t th[2][SH_THREADS];
    struct pacer_stats st;

    (void)state;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pacer_new_shared(&o, &sh, &p[i], NULL), MLC_OK);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < SH_THREADS; k++) {
            args[i][k] = (struct sh_arg){ p[i], MLC_OK };
            assert_int_equal(pthread_create(&th[i][k], NULL, sh_worker, &args[i][k]), 0);
        }
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < SH_THREADS; k++) {
            pthread_join(th[i][k], NULL);
            assert_int_equal(args[i][k].rc, MLC_OK);
        }
    for (int i = 0; i < 2; i++) {
        pacer_get_stats(p[i], &st);
        assert_int_equal(st.granted, SH_THREADS * SH_REQS);
        assert_int_equal(st.responses, SH_THREADS * SH_REQS);
        assert_int_equal(st.in_flight, 0);
        assert_false(st.fallback);
        pacer_free(p[i]);
    }
    assert_int_equal(fake_state(r).nfl, 0);
    fake_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_no_429_and_throughput),
        cmocka_unit_test(test_sim_no_429_slow_responses),
        cmocka_unit_test(test_sim_reserve_left_to_other_apps),
        cmocka_unit_test(test_sim_greedy_neighbour),
        cmocka_unit_test(test_sim_large_reserve_caps_share),
        cmocka_unit_test(test_sim_bare_429_storm_recovers),
        cmocka_unit_test(test_429_with_reset_waits_until_reset),
        cmocka_unit_test(test_bare_429_backoff_doubles_and_resets),
        cmocka_unit_test(test_probe_one_at_a_time),
        cmocka_unit_test(test_budget_exhausted_waits_for_reset),
        cmocka_unit_test(test_scarce),
        cmocka_unit_test(test_in_flight_counts_against_budget),
        cmocka_unit_test(test_lowest_left_of_window_wins),
        cmocka_unit_test(test_acquire_timeout_and_shutdown),
        cmocka_unit_test(test_options_checked),
        cmocka_unit_test(test_threads_smoke),
        cmocka_unit_test(test_shared_spreads_across_processes),
        cmocka_unit_test(test_shared_scarce),
        cmocka_unit_test(test_shared_record_stays_small),
        cmocka_unit_test(test_shared_fallback_share),
        cmocka_unit_test(test_shared_fallback_without_record),
        cmocka_unit_test(test_shared_record_versions),
        cmocka_unit_test(test_shared_turns),
        cmocka_unit_test(test_shared_no_turns_when_plenty),
        cmocka_unit_test(test_shared_dead_probe),
        cmocka_unit_test(test_shared_skew_margin),
        cmocka_unit_test(test_shared_clock_ahead_bounded),
        cmocka_unit_test(test_shared_threads),
    };

    return cmocka_run_group_tests_name("pacer", tests, NULL, NULL);
}
