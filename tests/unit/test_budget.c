/*
 * Unit tests: sync/budget, one BigCommerce quota shared by several
 * processes through the state store. Each "process" is a budget of its own
 * (a shared pacer with its own connection to one SQLite file).
 *
 *  - Simulated time (explicit wall-clock ms) against a model of
 *    BigCommerce's window, fixed on a grid or starting at the first request
 *    after the previous one ended, with several clients per process: no 429
 *    and >= 95 % of the quota-bound rate (quota - reserve per window); a
 *    process that dies with calls in flight; another app spending part of
 *    the quota.
 *  - Real threads against the model, and real bc clients against the
 *    BigCommerce simulator: no 429 (the share of the quota they reach is
 *    printed; it depends on the machine's speed). Their windows are 1-2 s
 *    so they stay short.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bc/bc_client.h"
#include "bc/bcsim.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/secret.h"
#include "net/httpc.h"
#include "sync/budget.h"
#include "helpers/testcfg.h"

#define T0    1700000000000LL /* simulated wall clock at the start */
#define NPROC 4
#define MAXW  64

/* ---- fixture: one SQLite file --------------------------------------------- */

struct fx {
    char dir[64];
    char path[128];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-budget-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct budget *open_budget(struct fx *f, const struct pacer_opts *po)
{
    struct budget *b = NULL;
    struct mlc_err e = { 0 };

    if (budget_open_shared(f->path, NULL, po, &b, &e) != MLC_OK)
        fail_msg("budget_open_shared: %s", e.msg);
    return b;
}

/* ---- model server ------------------------------------------------------------ */

/* BigCommerce's window per store: fixed on a grid from t0, or (sliding)
 * starting with the first request after the previous window ended, as
 * mlc-sim does. Counts per window; a request over the quota gets 429. */
struct model {
    int64_t  quota, window_ms, t0;
    bool     sliding;
    int64_t  start;  /* sliding: start of the current window */
    int      nwin;   /* sliding: windows begun */
    int64_t  count[MAXW], ours[MAXW];
    uint64_t n429_ours, n429_other;
};

static int model_window(struct model *m, int64_t t, int64_t *reset)
{
    int64_t id;

    if (m->sliding) {
        if (m->nwin == 0 || t - m->start >= m->window_ms) {
            m->start = t;
            m->nwin++;
            assert_true(m->nwin <= MAXW);
        }
        *reset = m->start + m->window_ms - t;
        return m->nwin - 1;
    }
    id = (t - m->t0) / m->window_ms;
    assert_true(id >= 0 && id < MAXW);
    *reset = m->t0 + (id + 1) * m->window_ms - t;
    return (int)id;
}

static struct pacer_obs model_serve(struct model *m, int64_t t, bool ours)
{
    int64_t reset;
    int w = model_window(m, t, &reset);
    struct pacer_obs o = { .status = 200, .reset_ms = reset,
                           .window_ms = m->window_ms, .quota = m->quota };

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

/* ---- simulated time ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t xorshift(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One-way latency, 20 ms up to max_ms. */
static int64_t latency(int64_t max_ms)
{
    return 20 + (int64_t)(xorshift() % (uint64_t)(max_ms - 19));
}

#define MAX_CLIENTS 64
#define OTHER_MAX   16

struct vclient {
    int                proc;
    bool               busy, served, hung;
    int64_t            next_try, arrive_at, respond_at;
    struct pacer_obs   obs;
    struct pacer_grant g;
};

struct sim {
    struct pacer *p[NPROC];
    int           clients[NPROC];   /* clients ("threads") per process */
    int64_t       duration_ms;
    int64_t       lat_max_ms;
    int64_t       other_per_window; /* another app's requests per window */
    bool          other_burst;      /* at the window start, else random */
    int           mute;             /* from mute_from, this process never
                                       hears back from its calls; it dies
                                       at die_at; -1: none */
    int64_t       mute_from, die_at;
    uint64_t      ok;               /* 2xx answers reported */
};

static bool other_sends(const struct sim *s, const struct model *m,
                        int64_t at[][OTHER_MAX], int64_t t)
{
    int64_t w = (t - T0) / m->window_ms, off = (t - T0) % m->window_ms;

    if (s->other_burst)
        return off % 9 == 0 && off / 9 < s->other_per_window;
    for (int64_t k = 0; k < s->other_per_window; k++)
        if (at[w][k] == t)
            return true;
    return false;
}

/* 1 ms ticks: every client asks its process's pacer as soon as it may. */
static void simulate(struct sim *s, struct model *m)
{
    static struct vclient c[MAX_CLIENTS];
    static int64_t other_at[MAXW][OTHER_MAX];
    int n = 0;

    memset(c, 0, sizeof(c));
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < NPROC; i++)
        for (int k = 0; k < s->clients[i]; k++)
            c[n++] = (struct vclient){ .proc = i, .next_try = T0 };
    assert_true(n <= MAX_CLIENTS);
    assert_true(s->other_burst || s->other_per_window <= OTHER_MAX);
    for (int w = 0; w < MAXW; w++)
        for (int k = 0; k < OTHER_MAX; k++)
            other_at[w][k] = T0 + w * m->window_ms +
                             (int64_t)(xorshift() % (uint64_t)m->window_ms);
    for (int64_t t = T0; t < T0 + s->duration_ms; t++) {
        if (other_sends(s, m, other_at, t))
            (void)model_serve(m, t, false);
        /* Who asks first in a tick varies, as between real processes. */
        int first = (int)(xorshift() % (uint64_t)n);

        for (int k = 0; k < n; k++) {
            struct vclient *v = &c[(first + k) % n];
            struct pacer *p = s->p[v->proc];
            int64_t wait;

            if (v->busy && !v->served && t >= v->arrive_at) {
                v->obs = model_serve(m, t, true);
                v->served = true;
            }
            if (v->busy && !v->hung && t >= v->respond_at) {
                pacer_on_grant_response_at(p, t, &v->g, &v->obs);
                if (v->obs.status == 200)
                    s->ok++;
                v->busy = false;
                v->next_try = t;
            }
            if (v->busy || t < v->next_try ||
                (v->proc == s->mute && (t < s->mute_from || t >= s->die_at)))
                continue;
            if (pacer_try_grant_at(p, t, &wait, &v->g)) {
                v->busy = true;
                v->served = false;
                v->hung = v->proc == s->mute;
                v->arrive_at = t + latency(s->lat_max_ms);
                v->respond_at = v->arrive_at + latency(s->lat_max_ms);
            } else {
                assert_true(wait >= 1);
                v->next_try = t + wait;
            }
        }
    }
}

struct run {
    struct budget *b[NPROC];
    struct sim     s;
};

static void run_open(struct fx *f, struct run *r, int64_t reserve)
{
    struct pacer_opts po = { .reserve = reserve };

    memset(r, 0, sizeof(*r));
    r->s.mute = -1;
    for (int i = 0; i < NPROC; i++) {
        r->b[i] = open_budget(f, &po);
        r->s.p[i] = budget_pacer(r->b[i]);
        r->s.clients[i] = 3;
    }
}

/* Every 429 a pacer saw; closes the budgets. The processes that ask alike
 * get alike: none gets less than 60 % of an even share. */
static uint64_t run_close(struct run *r)
{
    uint64_t n429 = 0, granted = 0;
    struct pacer_stats st;

    for (int i = 0; i < NPROC; i++) {
        pacer_get_stats(r->s.p[i], &st);
        granted += st.granted;
    }
    for (int i = 0; i < NPROC; i++) {
        pacer_get_stats(r->s.p[i], &st);
        if (i != r->s.mute && r->s.clients[i] == 3)
            assert_true(st.granted * 100 * NPROC >= granted * 60);
        n429 += st.n429;
        assert_int_equal(st.failures, 0);
        assert_int_equal(st.fallback_granted, 0);
        budget_free(r->b[i]);
    }
    return n429;
}

/* Standard quota, 4 processes of 3 clients, 4 windows: no 429; with
 * round trips up to 600 ms the processes together spend >= 95 % of
 * quota - reserve in every window. */
static void test_four_processes_fixed_window(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .t0 = T0 };
    const int64_t reserve = 10, windows = 4;
    struct run r;

    run_open(*state, &r, reserve);
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 300;
    simulate(&r.s, &m);
    print_message("# 4 processes, fixed window: %llu ok of %lld the quota allows (",
                  (unsigned long long)r.s.ok, (long long)(windows * (m.quota - reserve)));
    for (int w = 0; w < windows; w++)
        print_message("%s%lld", w ? " " : "", (long long)m.ours[w]);
    print_message(" per window)\n");
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < windows; w++) {
        assert_true(m.ours[w] <= m.quota - reserve);
        assert_true(m.ours[w] * 100 >= (m.quota - reserve) * 95);
    }
}

/* Round trips up to 3 s, widely spread (responses overtake each other):
 * still no 429. Requests in flight that "left" already counts are counted
 * twice near the window's end, so less of the quota is spent (a single
 * process loses as much). */
static void test_four_processes_slow_responses(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .t0 = T0 };
    const int64_t reserve = 10, windows = 4;
    uint64_t bound = (uint64_t)(windows * (m.quota - reserve));
    struct run r;

    run_open(*state, &r, reserve);
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 1500;
    simulate(&r.s, &m);
    print_message("# 4 processes, slow responses: %llu ok, %.1f %% of the quota-bound %llu\n",
                  (unsigned long long)r.s.ok, 100.0 * (double)r.s.ok / (double)bound,
                  (unsigned long long)bound);
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < windows; w++)
        assert_true(m.ours[w] <= m.quota - reserve);
    assert_true(r.s.ok * 100 >= bound * 85);
}

/* The window starts with the first request after the previous one ended
 * (mlc-sim): >= 95 % of quota - reserve per window of time, no 429. */
static void test_four_processes_sliding_window(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .sliding = true };
    const int64_t reserve = 20, windows = 5;
    struct run r;
    uint64_t bound = (uint64_t)(windows * (m.quota - reserve));

    run_open(*state, &r, reserve);
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 300;
    simulate(&r.s, &m);
    print_message("# 4 processes, sliding window: %llu ok in %lld windows of time, "
                  "%.1f %% of the quota-bound %llu\n", (unsigned long long)r.s.ok,
                  (long long)windows, 100.0 * (double)r.s.ok / (double)bound,
                  (unsigned long long)bound);
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < m.nwin; w++)
        assert_true(m.ours[w] <= m.quota - reserve);
    assert_true(r.s.ok * 100 >= bound * 95);
}

/* A process dies mid-window with its calls in flight (granted, sent, never
 * answered): the others get the whole budget back as soon as BigCommerce
 * answers a later request, in that window already, not only in the next
 * one (and not never, as a count of requests in flight would). */
static void test_dead_process_in_flight(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .t0 = T0 };
    const int64_t reserve = 10, windows = 3;
    struct pacer_stats st;
    struct run r;

    run_open(*state, &r, reserve);
    r.s.mute = 3;
    r.s.clients[3] = 20;
    r.s.mute_from = T0 + m.window_ms / 6;
    r.s.die_at = T0 + m.window_ms / 2;
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 300;
    simulate(&r.s, &m);
    pacer_get_stats(r.s.p[3], &st);
    print_message("# dead process with %lld in flight: %lld %lld %lld per window\n",
                  (long long)st.in_flight, (long long)m.ours[0], (long long)m.ours[1],
                  (long long)m.ours[2]);
    assert_true(st.in_flight >= 10);
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < windows; w++)
        assert_true(m.ours[w] * 100 >= (m.quota - reserve) * 95);
}

/* Another app spends up to the reserve at random moments: the headers show
 * less left, nobody gets a 429, and we still spend what is ours. */
static void test_other_app_within_reserve(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .t0 = T0 };
    const int64_t reserve = 15, other = 15, windows = 3;
    struct run r;

    run_open(*state, &r, reserve);
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 300;
    r.s.other_per_window = other;
    simulate(&r.s, &m);
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(m.n429_other, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < windows; w++)
        assert_true(m.ours[w] * 100 >= (m.quota - reserve - other) * 95);
}

/* A greedy app takes 60 requests at the start of every window: we live on
 * what is left, without a 429. */
static void test_other_app_greedy(void **state)
{
    struct model m = { .quota = 150, .window_ms = 30000, .t0 = T0 };
    const int64_t reserve = 10, other = 60, windows = 3;
    struct run r;

    run_open(*state, &r, reserve);
    r.s.duration_ms = windows * m.window_ms;
    r.s.lat_max_ms = 300;
    r.s.other_per_window = other;
    r.s.other_burst = true;
    simulate(&r.s, &m);
    print_message("# greedy neighbour: %lld %lld %lld per window\n",
                  (long long)m.ours[0], (long long)m.ours[1], (long long)m.ours[2]);
    assert_int_equal(m.n429_ours, 0);
    assert_int_equal(run_close(&r), 0);
    for (int w = 0; w < windows; w++)
        assert_true(m.ours[w] * 100 >= (m.quota - reserve - other) * 95);
}

/* ---- real threads, wall clock ------------------------------------------------ */

#define RT_THREADS 3 /* per process */

struct rt_shared {
    pthread_mutex_t mu;
    struct model    m;
    int64_t         stop_at; /* wall ms */
    uint64_t        ok;
};

struct rt_arg {
    struct pacer     *p;
    struct rt_shared *sh;
    int               rc;
    unsigned          seed;
};

static void *rt_worker(void *ud)
{
    struct rt_arg *a = ud;

    for (;;) {
        struct pacer_grant g;
        struct pacer_obs o;
        int64_t now = pacer_wall_ms();

        if (now >= a->sh->stop_at)
            return NULL;
        a->rc = pacer_acquire_grant(a->p, a->sh->stop_at - now, &g, NULL);
        if (a->rc == MLC_ETIMEOUT) {
            a->rc = MLC_OK;
            return NULL;
        }
        if (a->rc != MLC_OK)
            return NULL;
        usleep(1000 + (unsigned)rand_r(&a->seed) % 5000); /* on the way */
        pthread_mutex_lock(&a->sh->mu);
        o = model_serve(&a->sh->m, pacer_wall_ms(), true);
        if (o.status == 200)
            a->sh->ok++;
        pthread_mutex_unlock(&a->sh->mu);
        usleep(1000 + (unsigned)rand_r(&a->seed) % 5000); /* on the way back */
        pacer_on_grant_response(a->p, &g, &o);
    }
}

/* 4 processes of 3 threads with blocking calls: no 429, every grant
 * answered, nothing left in flight. The share of the quota reached is
 * printed, not asserted (wall time). */
static void test_threads_four_processes(void **state)
{
    struct fx *f = *state;
    struct pacer_opts po = { .reserve = 2, .quota = 20, .window_ms = 1000,
                             .skew_ms = 20, .arrive_ms = 100 };
    struct rt_shared sh = { .m = { .quota = 20, .window_ms = 1000, .sliding = true } };
    struct budget *b[NPROC];
    struct rt_arg a[NPROC][RT_THREADS];
    pthread_t th[NPROC][RT_THREADS];
    const int64_t windows = 4;
    int64_t t0;

    pthread_mutex_init(&sh.mu, NULL);
    for (int i = 0; i < NPROC; i++)
        b[i] = open_budget(f, &po);
    t0 = pacer_wall_ms();
    sh.stop_at = t0 + windows * po.window_ms;
    for (int i = 0; i < NPROC; i++)
        for (int k = 0; k < RT_THREADS; k++) {
            a[i][k] = (struct rt_arg){ budget_pacer(b[i]), &sh, MLC_OK,
                                       (unsigned)(i * 7 + k) };
            assert_int_equal(pthread_create(&th[i][k], NULL, rt_worker, &a[i][k]), 0);
        }
    for (int i = 0; i < NPROC; i++)
        for (int k = 0; k < RT_THREADS; k++) {
            pthread_join(th[i][k], NULL);
            assert_int_equal(a[i][k].rc, MLC_OK);
        }
    print_message("# threads: %llu ok in %lld windows, %.0f %% of the quota-bound %lld\n",
                  (unsigned long long)sh.ok, (long long)windows,
                  100.0 * (double)sh.ok / (double)(windows * (po.quota - po.reserve)),
                  (long long)(windows * (po.quota - po.reserve)));
    assert_int_equal(sh.m.n429_ours, 0);
    assert_true(sh.ok > 0);
    for (int i = 0; i < NPROC; i++) {
        struct pacer_stats st;

        pacer_get_stats(budget_pacer(b[i]), &st);
        assert_int_equal(st.n429, 0);
        assert_int_equal(st.granted, st.responses);
        assert_int_equal(st.in_flight, 0);
        assert_int_equal(st.failures, 0);
        assert_int_equal(st.members, NPROC);
        budget_free(b[i]);
    }
    pthread_mutex_destroy(&sh.mu);
}

/* ---- the BigCommerce simulator, real clients ----------------------------------- */

#define SIM_SEED    "sim/seed/bigcommerce.json"
#define SIM_TOKEN   "sim-token-budget"
#define SIM_QUOTA   30
#define SIM_WINDOW  2000
#define SIM_RESERVE 2
#define SIM_WINDOWS 4

struct simfx {
    struct bcsim          *sim;
    char                   base[96];
    struct cfg_bigcommerce cfg;
    struct mlc_secret     *tok;
    pthread_mutex_t        mu;
    int64_t                stop_at; /* monotonic ms */
    uint64_t               ok;      /* calls done before stop_at */
};

struct simarg {
    struct simfx *f;
    struct pacer *p;
    int           failed;
    char          err[256];
};

static void start_sim(struct simfx *f)
{
    json_error_t je;
    json_t *doc = json_load_file(SIM_SEED, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce");
    json_t *set = json_object_get(seed, "settings");
    struct mlc_err e = { 0 };

    assert_non_null(set);
    json_object_set_new(set, "store_hash", json_string("budget"));
    json_object_set_new(set, "access_token", json_string(SIM_TOKEN));
    json_object_set_new(set, "rate_quota", json_integer(SIM_QUOTA));
    json_object_set_new(set, "rate_window_ms", json_integer(SIM_WINDOW));
    assert_int_equal(bcsim_start("127.0.0.1:0", seed, &f->sim, &e), MLC_OK);
    json_decref(doc);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u/stores/budget",
             (unsigned)bcsim_port(f->sim));
    f->cfg.api_base_url = f->base;
    f->cfg.timeout_ms = 20000;
}

static void *sim_worker(void *ud)
{
    struct simarg *a = ud;
    struct bc_client_tuning tu = { .max_pacer_wait_ms = 3 * SIM_WINDOW };
    struct bc_client *c = NULL;
    struct mlc_err e = { 0 };

    if (bc_client_new(&a->f->cfg, a->f->tok, a->p, &c, &e) != MLC_OK) {
        snprintf(a->err, sizeof(a->err), "%s", e.msg);
        a->failed++;
        return NULL;
    }
    bc_client_tune(c, &tu);
    for (int i = 0; pacer_now_ms() < a->f->stop_at; i++) {
        json_t *order = NULL;

        if (bc_order_get(c, 100 + i % 6, &order, &e) != MLC_OK) {
            a->failed++;
            snprintf(a->err, sizeof(a->err), "%s", e.msg);
        } else if (pacer_now_ms() <= a->f->stop_at) {
            pthread_mutex_lock(&a->f->mu);
            a->f->ok++;
            pthread_mutex_unlock(&a->f->mu);
        }
        json_decref(order);
    }
    bc_client_free(c);
    return NULL;
}

/* 4 processes of 3 threads, each with its own client, against mlc-sim with
 * a 30 per 2 s quota: no 429 over 4 windows. The share of the quota-bound
 * rate is about 98 % here (bench/budget.sh: 99.5 % at the Standard quota);
 * it depends on how fast the machine runs the calls (94 % under valgrind),
 * so only a floor that a starved process or a store that serialises the
 * calls would break is asserted. The >= 95 % is asserted in simulated time
 * above. */
static void test_bcsim_four_processes(void **state)
{
    struct fx *f = *state;
    struct pacer_opts po = { .reserve = SIM_RESERVE, .skew_ms = 20, .arrive_ms = 200,
                             .backoff_ms = 200, .backoff_max_ms = 1000 };
    struct simfx sf;
    struct budget *b[NPROC];
    struct simarg a[NPROC][RT_THREADS];
    pthread_t th[NPROC][RT_THREADS];
    struct mlc_err e = { 0 };
    uint64_t n429 = 0, bound = SIM_WINDOWS * (SIM_QUOTA - SIM_RESERVE);

    memset(&sf, 0, sizeof(sf));
    pthread_mutex_init(&sf.mu, NULL);
    start_sim(&sf);
    assert_int_equal(secret_new(SIM_TOKEN, strlen(SIM_TOKEN), &sf.tok, &e), MLC_OK);
    for (int i = 0; i < NPROC; i++)
        b[i] = open_budget(f, &po);
    sf.stop_at = pacer_now_ms() + SIM_WINDOWS * SIM_WINDOW;
    for (int i = 0; i < NPROC; i++)
        for (int k = 0; k < RT_THREADS; k++) {
            a[i][k] = (struct simarg){ .f = &sf, .p = budget_pacer(b[i]) };
            assert_int_equal(pthread_create(&th[i][k], NULL, sim_worker, &a[i][k]), 0);
        }
    for (int i = 0; i < NPROC; i++)
        for (int k = 0; k < RT_THREADS; k++) {
            pthread_join(th[i][k], NULL);
            if (a[i][k].failed)
                print_error("process %d thread %d: %d failed: %s\n", i, k,
                            a[i][k].failed, a[i][k].err);
            assert_int_equal(a[i][k].failed, 0);
        }
    for (int i = 0; i < NPROC; i++) {
        struct pacer_stats st;

        pacer_get_stats(budget_pacer(b[i]), &st);
        n429 += st.n429;
        assert_int_equal(st.in_flight, 0);
        assert_int_equal(st.failures, 0);
        budget_free(b[i]);
    }
    print_message("# mlc-sim: %llu calls in %d windows of %d ms, %.1f %% of the "
                  "quota-bound %llu, %llu x 429\n", (unsigned long long)sf.ok,
                  SIM_WINDOWS, SIM_WINDOW, 100.0 * (double)sf.ok / (double)bound,
                  (unsigned long long)bound, (unsigned long long)n429);
    assert_int_equal(n429, 0);
    assert_true(sf.ok * 100 >= bound * 85);
    secret_free(sf.tok);
    bcsim_free(sf.sim);
    pthread_mutex_destroy(&sf.mu);
}

/* ---- configuration ------------------------------------------------------------- */

static void test_shared_by_config(void **state)
{
    struct mlc_config *cfg = testcfg_posting(
        "  default_bu: \"100\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4020\"\n"
        "    shipping: \"100.4030\"\n"
        "    handling: \"100.4040\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1110\"\n"
        "    rounding: \"100.7990\"\n");
    char *url = cfg->store.url;

    (void)state;
    assert_int_equal(cfg->bigcommerce.shared_budget, CFG_BUDGET_AUTO);
    assert_false(budget_is_shared(cfg));
    cfg->store.url = (char *)"postgresql://mlc@db.example.com/mlc";
    assert_true(budget_is_shared(cfg));
    cfg->bigcommerce.shared_budget = CFG_BUDGET_OFF;
    assert_false(budget_is_shared(cfg));
    cfg->store.url = url;
    cfg->bigcommerce.shared_budget = CFG_BUDGET_ON;
    assert_true(budget_is_shared(cfg));
    cfg->bigcommerce.shared_budget = CFG_BUDGET_AUTO;
    cfg_unref(cfg);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_four_processes_fixed_window),
        T(test_four_processes_slow_responses),
        T(test_four_processes_sliding_window),
        T(test_dead_process_in_flight),
        T(test_other_app_within_reserve),
        T(test_other_app_greedy),
        T(test_threads_four_processes),
        T(test_bcsim_four_processes),
        cmocka_unit_test(test_shared_by_config),
    };
#undef T
    struct mlc_err e = { 0 };

    if (httpc_global_init(&e) != MLC_OK)
        return 1;
    return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
