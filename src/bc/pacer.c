#include "bc/pacer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct pacer {
    pthread_mutex_t   mu;
    pthread_cond_t    cv;          /* signalled on responses and shutdown */
    struct pacer_opts o;
    int64_t           quota;       /* latest known quota */
    int64_t           window_ms;   /* latest known window length */
    bool              have_window; /* left/reset_at hold an estimate */
    int64_t           left;        /* lowest "left" of the current window */
    int64_t           reset_at;    /* when the current window ends */
    int64_t           blocked_until; /* no grant before (after 429s) */
    bool              have_grant;
    int64_t           last_grant;
    int64_t           in_flight;
    bool              probe;       /* one request at a time */
    unsigned          run429;      /* consecutive 429s */
    unsigned          run_bare;    /* consecutive header-less 429s */
    bool              stopping;
    struct pacer_stats st;
};

int64_t pacer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pacer_new(const struct pacer_opts *o, struct pacer **out,
              struct mlc_err *e)
{
    static const struct pacer_opts none;
    pthread_condattr_t ca;
    struct pacer *p;

    *out = NULL;
    if (o == NULL)
        o = &none;
    if (o->reserve < 0 || o->quota < 0 || o->window_ms < 0 ||
        o->backoff_ms < 0 || o->backoff_max_ms < 0)
        return mlc_err_set(e, MLC_EINVAL, "rate pacer options must not be negative");
    if (o->reserve >= (o->quota ? o->quota : 150))
        return mlc_err_set(e, MLC_EINVAL,
                           "rate limit reserve %lld leaves nothing of the quota %lld",
                           (long long)o->reserve, (long long)(o->quota ? o->quota : 150));
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a rate pacer");
    p->o = *o;
    if (p->o.quota == 0)
        p->o.quota = 150;
    if (p->o.window_ms == 0)
        p->o.window_ms = 30000;
    if (p->o.backoff_ms == 0)
        p->o.backoff_ms = 1000;
    if (p->o.backoff_max_ms == 0)
        p->o.backoff_max_ms = 8000;
    if (p->o.backoff_max_ms < p->o.backoff_ms)
        p->o.backoff_max_ms = p->o.backoff_ms;
    p->quota = p->o.quota;
    p->window_ms = p->o.window_ms;
    p->probe = true;
    p->st.left = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = p;
    return MLC_OK;
}

void pacer_free(struct pacer *p)
{
    if (p == NULL)
        return;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- core (mutex held) -------------------------------------------------- */

/* When the window's reset passed without news, assume it refilled. */
static void roll_window(struct pacer *p, int64_t now)
{
    int64_t k;

    if (!p->have_window || now < p->reset_at)
        return;
    k = (now - p->reset_at) / p->window_ms + 1;
    p->reset_at += k * p->window_ms;
    p->left = p->quota;
}

static bool try_acquire(struct pacer *p, int64_t now, int64_t *wait)
{
    int64_t budget, gap;

    *wait = 0;
    if (now < p->blocked_until) {
        *wait = p->blocked_until - now;
        return false;
    }
    roll_window(p, now);
    if ((p->probe || !p->have_window) && p->in_flight > 0) {
        *wait = PACER_PROBE_RECHECK_MS;
        return false;
    }
    if (p->have_window) {
        budget = p->left - p->in_flight - p->o.reserve;
        if (budget <= 0) {
            *wait = p->reset_at - now;
            if (*wait < 1)
                *wait = 1;
            return false;
        }
        /* Spread from the last grant of this window; the first grant of a
         * window goes at once. */
        gap = (p->reset_at - now) / budget;
        if (p->have_grant && p->last_grant >= p->reset_at - p->window_ms &&
            now < p->last_grant + gap) {
            *wait = p->last_grant + gap - now;
            return false;
        }
    }
    p->in_flight++;
    p->have_grant = true;
    p->last_grant = now;
    p->st.granted++;
    return true;
}

static int64_t backoff(const struct pacer *p, unsigned n)
{
    int64_t d = p->o.backoff_ms;

    for (unsigned i = 1; i < n && d < p->o.backoff_max_ms; i++)
        d *= 2;
    return d < p->o.backoff_max_ms ? d : p->o.backoff_max_ms;
}

static void block_until(struct pacer *p, int64_t t)
{
    if (t > p->blocked_until)
        p->blocked_until = t;
}

/* Merges a (left, reset_at) observation into the window estimate. */
static void merge_window(struct pacer *p, int64_t now, int64_t left,
                         int64_t reset_ms)
{
    int64_t r = now + reset_ms, tol = p->window_ms / 4;

    if (!p->have_window || r > p->reset_at + tol || r < p->reset_at - tol) {
        /* First news, a later window, or a reset sooner than we assumed
         * (our refill estimate was off, or a straggler from the previous
         * window whose reset is about now): believe the server. */
        p->have_window = true;
        p->left = left;
        p->reset_at = r;
        return;
    }
    if (left < p->left)
        p->left = left;
    if (r > p->reset_at)
        p->reset_at = r;
}

static void on_429(struct pacer *p, int64_t now, const struct pacer_obs *obs)
{
    p->st.n429++;
    p->run429++;
    if (obs->reset_ms >= 0) {
        int64_t margin = p->run429 >= 2 ? backoff(p, p->run429 - 1) : 0;

        p->run_bare = 0;
        merge_window(p, now, obs->left >= 0 ? obs->left : 0, obs->reset_ms);
        p->left = 0;
        block_until(p, now + obs->reset_ms + margin);
        return;
    }
    p->st.n429_bare++;
    p->run_bare++;
    p->probe = true;
    block_until(p, now + backoff(p, p->run_bare));
}

static void on_response(struct pacer *p, int64_t now,
                        const struct pacer_obs *obs)
{
    p->st.responses++;
    if (p->in_flight > 0)
        p->in_flight--;
    if (obs->quota > 0)
        p->quota = obs->quota;
    if (obs->window_ms > 0)
        p->window_ms = obs->window_ms;
    if (obs->status == 429) {
        on_429(p, now, obs);
        goto out;
    }
    if (obs->status != 0) {
        p->run429 = 0;
        p->run_bare = 0;
        p->probe = false;
    }
    roll_window(p, now);
    if (obs->left >= 0 && obs->reset_ms >= 0) {
        merge_window(p, now, obs->left, obs->reset_ms);
    } else if (obs->left >= 0 && p->have_window) {
        if (obs->left < p->left)
            p->left = obs->left;
    } else if (obs->status != 0 && !p->have_window) {
        /* A response without rate-limit headers: pace on the defaults. */
        p->have_window = true;
        p->left = obs->left >= 0 ? obs->left : p->quota - 1;
        p->reset_at = now + p->window_ms;
    } else if (p->have_window && p->left > 0) {
        p->left--; /* the server may have counted it */
    }
out:
    p->st.left = p->have_window ? p->left : -1;
}

/* ---- locked entry points ------------------------------------------------ */

bool pacer_try_acquire_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms)
{
    bool ok;

    pthread_mutex_lock(&p->mu);
    ok = try_acquire(p, now_ms, wait_ms);
    pthread_mutex_unlock(&p->mu);
    return ok;
}

void pacer_on_response_at(struct pacer *p, int64_t now_ms,
                          const struct pacer_obs *obs)
{
    pthread_mutex_lock(&p->mu);
    on_response(p, now_ms, obs);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pacer_on_response(struct pacer *p, const struct pacer_obs *obs)
{
    pacer_on_response_at(p, pacer_now_ms(), obs);
}

int pacer_acquire(struct pacer *p, int64_t max_wait_ms, struct mlc_err *e)
{
    int64_t now = pacer_now_ms(), wait;
    int64_t deadline = max_wait_ms < 0 ? INT64_MAX : now + max_wait_ms;
    int rc = MLC_OK;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct timespec ts;
        int64_t until;

        if (p->stopping) {
            rc = mlc_err_set(e, MLC_ESTATE, "rate pacer stopped");
            break;
        }
        now = pacer_now_ms();
        if (try_acquire(p, now, &wait))
            break;
        if (wait > deadline - now) {
            rc = mlc_err_set(e, MLC_ETIMEOUT,
                             "BigCommerce rate limit: next request allowed in %lld ms, "
                             "over the %lld ms allowed to wait",
                             (long long)wait, (long long)max_wait_ms);
            break;
        }
        until = now + wait;
        ts.tv_sec = (time_t)(until / 1000);
        ts.tv_nsec = (long)(until % 1000) * 1000000L;
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void pacer_shutdown(struct pacer *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pacer_get_stats(struct pacer *p, struct pacer_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    out->in_flight = p->in_flight;
    pthread_mutex_unlock(&p->mu);
}
