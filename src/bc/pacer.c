#include "bc/pacer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bc/pacer_int.h"

int64_t pacer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pacer_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pacer_state_init(struct pacer_state *s, const struct pacer_opts *o)
{
    memset(s, 0, sizeof(*s));
    s->quota = o->quota;
    s->window_ms = o->window_ms;
    s->probe = true;
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
        o->backoff_ms < 0 || o->backoff_max_ms < 0 || o->skew_ms < 0 ||
        o->arrive_ms < 0)
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
    if (p->o.skew_ms == 0)
        p->o.skew_ms = 250;
    if (p->o.arrive_ms == 0)
        p->o.arrive_ms = 2000;
    pacer_state_init(&p->s, &p->o);
    p->st.left = -1;
    p->st.last_left = -1;
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

/* ---- core (pure: no lock, no clock, no I/O) ------------------------------ */

/* Shared mode assumes a window over only skew_ms after its reset: the reset
 * time may come from another host's clock. */
static int64_t roll_margin(const struct pacer_core *c)
{
    return c->shared ? c->o->skew_ms : 0;
}

/* A grant made at or before t reached BigCommerce before a request granted
 * at t + arrive_ms + skew_ms did, whichever host granted either. */
static int64_t reached_before(const struct pacer_core *c, int64_t t)
{
    return t - c->o->arrive_ms - c->o->skew_ms;
}

static int64_t fl_key(int64_t t)
{
    return t - (t % PACER_FL_QUANT_MS + PACER_FL_QUANT_MS) % PACER_FL_QUANT_MS;
}

/* Drops the grants that "left" counts already (at or before basis) and
 * those older than a window (they reached BigCommerce long ago). */
static void fl_prune(struct pacer_state *s, int64_t now)
{
    int j = 0;

    for (int i = 0; i < s->nfl; i++) {
        int64_t last = s->fl[i].at + PACER_FL_QUANT_MS - 1;

        if (last <= s->basis || last < now - s->window_ms)
            continue;
        s->fl[j++] = s->fl[i];
    }
    s->nfl = j;
}

static void fl_add(struct pacer_state *s, int64_t t)
{
    int64_t key = fl_key(t);
    int old = 0, next = -1;

    for (int i = 0; i < s->nfl; i++) {
        if (s->fl[i].at == key) {
            s->fl[i].n++;
            return;
        }
    }
    if (s->nfl == PACER_FL_MAX) {
        /* Full: the oldest entry joins the next oldest, which counts its
         * grants a little longer (never shorter). */
        for (int i = 1; i < s->nfl; i++)
            if (s->fl[i].at < s->fl[old].at)
                old = i;
        for (int i = 0; i < s->nfl; i++)
            if (i != old && (next < 0 || s->fl[i].at < s->fl[next].at))
                next = i;
        s->fl[next].n += s->fl[old].n;
        s->fl[old] = s->fl[--s->nfl];
    }
    s->fl[s->nfl++] = (struct pacer_fl){ key, 1 };
}

/* Forgets one answered grant. Not found: it was pruned (counted in "left"
 * already, or too old), or merged into the entry just after it. */
static void fl_remove(struct pacer_state *s, int64_t t, int64_t now)
{
    int64_t key = fl_key(t);
    int at = -1;

    if (key + PACER_FL_QUANT_MS - 1 <= s->basis ||
        key + PACER_FL_QUANT_MS - 1 < now - s->window_ms)
        return;
    for (int i = 0; i < s->nfl; i++) {
        if (s->fl[i].at == key) {
            at = i;
            break;
        }
        if (s->fl[i].at > key && (at < 0 || s->fl[i].at < s->fl[at].at))
            at = i;
    }
    if (at >= 0 && --s->fl[at].n <= 0)
        s->fl[at] = s->fl[--s->nfl];
}

int64_t pacer_core_in_flight(const struct pacer_state *s,
                             const struct pacer_core *c)
{
    int64_t n = 0;

    if (!c->shared)
        return s->in_flight;
    for (int i = 0; i < s->nfl; i++)
        n += s->fl[i].n;
    return n;
}

static void raise_basis(struct pacer_state *s, const struct pacer_core *c,
                        int64_t t)
{
    if (c->shared && reached_before(c, t) > s->basis)
        s->basis = reached_before(c, t);
}

/* When the window's reset passed without news, assume it refilled. */
static void roll_window(struct pacer_state *s, const struct pacer_core *c,
                        int64_t now)
{
    int64_t k;

    if (!s->have_window || now < s->reset_at + roll_margin(c))
        return;
    /* What was granted well before the reset reached the old window. */
    raise_basis(s, c, s->reset_at);
    k = (now - s->reset_at) / s->window_ms + 1;
    s->reset_at += k * s->window_ms;
    s->left = s->quota;
    s->win_granted = 0;
}

bool pacer_core_try(struct pacer_state *s, const struct pacer_core *c,
                    int64_t now, int64_t *wait, int64_t *ticket)
{
    int64_t budget, gap, fl;

    *wait = 0;
    if (now < s->blocked_until) {
        *wait = s->blocked_until - now;
        return false;
    }
    roll_window(s, c, now);
    if (c->shared)
        fl_prune(s, now);
    fl = pacer_core_in_flight(s, c);
    if ((s->probe || !s->have_window) && fl > 0) {
        *wait = PACER_PROBE_RECHECK_MS;
        return false;
    }
    if (s->have_window) {
        budget = s->left - fl - c->o->reserve;
        if (c->cap > 0 && c->cap - s->win_granted < budget)
            budget = c->cap - s->win_granted;
        if (budget <= 0) {
            *wait = s->reset_at + roll_margin(c) - now;
            if (*wait < 1)
                *wait = 1;
            return false;
        }
        /* Spread from the last grant of this window; the first grant of a
         * window goes at once. */
        gap = (s->reset_at - now) / budget;
        if (s->have_grant && s->last_grant >= s->reset_at - s->window_ms &&
            now < s->last_grant + gap) {
            *wait = s->last_grant + gap - now;
            return false;
        }
    }
    if (c->shared)
        fl_add(s, now);
    else
        s->in_flight++;
    s->win_granted++;
    s->have_grant = true;
    s->last_grant = now;
    *ticket = now;
    return true;
}

static int64_t backoff(const struct pacer_opts *o, unsigned n)
{
    int64_t d = o->backoff_ms;

    for (unsigned i = 1; i < n && d < o->backoff_max_ms; i++)
        d *= 2;
    return d < o->backoff_max_ms ? d : o->backoff_max_ms;
}

static void block_until(struct pacer_state *s, int64_t t)
{
    if (t > s->blocked_until)
        s->blocked_until = t;
}

enum merge { MERGE_NEW, MERGE_LOWER, MERGE_OLDER };

/* Merges a (left, reset_at) observation into the window estimate; says
 * whether it became the estimate (a new window, or the lowest left). */
static enum merge merge_window(struct pacer_state *s,
                               const struct pacer_core *c, int64_t now,
                               int64_t left, int64_t reset_ms)
{
    int64_t r = now + reset_ms, tol = s->window_ms / 4;
    enum merge m = MERGE_OLDER;

    /* Shared: the last word of a window that is over by now (answered
     * late, or from a host whose clock is behind) tells nothing new. */
    if (c->shared && s->have_window && r < s->reset_at - tol &&
        r <= now + c->o->skew_ms)
        return MERGE_OLDER;
    if (!s->have_window || r > s->reset_at + tol || r < s->reset_at - tol) {
        /* First news, a later window, or a reset sooner than we assumed
         * (our refill estimate was off, or a straggler from the previous
         * window whose reset is about now): believe the server. */
        if (s->have_window && r > s->reset_at + tol)
            s->win_granted = 0;
        s->have_window = true;
        s->left = left;
        s->reset_at = r;
        return MERGE_NEW;
    }
    if (left <= s->left) {
        s->left = left;
        m = MERGE_LOWER;
    }
    if (r > s->reset_at)
        s->reset_at = r;
    return m;
}

static void on_429(struct pacer_state *s, const struct pacer_core *c,
                   int64_t now, const struct pacer_obs *obs)
{
    s->run429++;
    if (obs->reset_ms >= 0) {
        int64_t margin = s->run429 >= 2 ? backoff(c->o, s->run429 - 1) : 0;

        s->run_bare = 0;
        merge_window(s, c, now, obs->left >= 0 ? obs->left : 0, obs->reset_ms);
        s->left = 0;
        block_until(s, now + obs->reset_ms + margin);
        return;
    }
    s->run_bare++;
    s->probe = true;
    block_until(s, now + backoff(c->o, s->run_bare));
}

void pacer_core_response(struct pacer_state *s, const struct pacer_core *c,
                         int64_t now, int64_t ticket,
                         const struct pacer_obs *obs)
{
    if (c->shared && ticket >= 0)
        fl_remove(s, ticket, now);
    else if (!c->shared && ticket >= 0 && s->in_flight > 0)
        s->in_flight--;
    if (obs->quota > 0)
        s->quota = obs->quota;
    if (obs->window_ms > 0)
        s->window_ms = obs->window_ms;
    if (obs->status == 429) {
        on_429(s, c, now, obs);
        goto out;
    }
    if (obs->status != 0) {
        s->run429 = 0;
        s->run_bare = 0;
        s->probe = false;
    }
    roll_window(s, c, now);
    if (obs->left >= 0 && obs->reset_ms >= 0) {
        if (merge_window(s, c, now, obs->left, obs->reset_ms) != MERGE_OLDER &&
            ticket >= 0)
            raise_basis(s, c, ticket);
    } else if (obs->left >= 0 && s->have_window) {
        if (obs->left <= s->left) {
            s->left = obs->left;
            if (ticket >= 0)
                raise_basis(s, c, ticket);
        }
    } else if (obs->status != 0 && !s->have_window) {
        /* A response without rate-limit headers: pace on the defaults. */
        s->have_window = true;
        s->left = obs->left >= 0 ? obs->left : s->quota - 1;
        s->reset_at = now + s->window_ms;
    } else if (s->have_window && s->left > 0) {
        s->left--; /* the server may have counted it */
    }
out:
    if (c->shared)
        fl_prune(s, now);
}

/* ---- one process ---------------------------------------------------------- */

static bool local_try(struct pacer *p, int64_t now, int64_t *wait,
                      struct pacer_grant *g)
{
    struct pacer_core c = { .o = &p->o };
    int64_t t;

    if (!pacer_core_try(&p->s, &c, now, wait, &t))
        return false;
    p->st.granted++;
    *g = (struct pacer_grant){ t, PACER_GRANT_LOCAL };
    return true;
}

static bool try_grant(struct pacer *p, int64_t now, int64_t *wait,
                      struct pacer_grant *g)
{
    struct pacer_grant scratch;

    if (g == NULL)
        g = &scratch;
    *g = (struct pacer_grant){ -1, PACER_GRANT_NONE };
    return p->shared ? pacer_shared_try(p, now, wait, g,
                                        p->line != NULL && p->line->next != NULL)
                     : local_try(p, now, wait, g);
}

static void on_response(struct pacer *p, int64_t now,
                        const struct pacer_grant *g,
                        const struct pacer_obs *obs)
{
    struct pacer_core c = { .o = &p->o };

    p->st.responses++;
    if (obs->left >= 0)
        p->st.last_left = obs->left;
    if (obs->status == 429) {
        p->st.n429++;
        if (obs->reset_ms < 0)
            p->st.n429_bare++;
    }
    if (p->shared) {
        pacer_shared_response(p, now, g, obs);
        return;
    }
    pacer_core_response(&p->s, &c, now, 0, obs);
    p->st.left = p->s.have_window ? p->s.left : -1;
}

/* ---- locked entry points ------------------------------------------------ */

bool pacer_try_grant_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms,
                        struct pacer_grant *g)
{
    bool ok;

    pthread_mutex_lock(&p->mu);
    ok = try_grant(p, now_ms, wait_ms, g);
    pthread_mutex_unlock(&p->mu);
    return ok;
}

bool pacer_try_acquire_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms)
{
    return pacer_try_grant_at(p, now_ms, wait_ms, NULL);
}

void pacer_on_grant_response_at(struct pacer *p, int64_t now_ms,
                                const struct pacer_grant *g,
                                const struct pacer_obs *obs)
{
    pthread_mutex_lock(&p->mu);
    on_response(p, now_ms, g, obs);
    /* The news may let a waiter go: at once while probing. */
    if (p->shared && (p->fallback || !p->mirror.have_window || p->mirror.probe))
        p->next_at = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pacer_on_response_at(struct pacer *p, int64_t now_ms,
                          const struct pacer_obs *obs)
{
    pacer_on_grant_response_at(p, now_ms, NULL, obs);
}

/* The scale of the _at functions: monotonic, or the wall in shared mode. */
static int64_t clock_of(const struct pacer *p)
{
    if (!p->shared)
        return pacer_now_ms();
    return p->sh.clock_ms != NULL ? p->sh.clock_ms(p->sh.clock_ctx) : pacer_wall_ms();
}

/* Two grants tried on a copy of the state the next grant is decided on: the
 * record as last read, or the local state (one process, or pacing alone). */
bool pacer_scarce_at(struct pacer *p, int64_t now)
{
    struct pacer_core c = { .o = &p->o };
    struct pacer_state t;
    int64_t wait = 0, ticket;
    bool scarce;

    pthread_mutex_lock(&p->mu);
    if (p->shared && p->fallback) {
        pthread_mutex_unlock(&p->mu);
        return true; /* pacing alone on a share of the quota */
    }
    if (p->shared && p->have_mirror) {
        t = p->mirror;
        c.shared = true;
    } else {
        t = p->s;
        c.shared = p->shared;
    }
    pthread_mutex_unlock(&p->mu);
    if (!t.have_window)
        return true;
    if (pacer_core_try(&t, &c, now, &wait, &ticket))
        scarce = !pacer_core_try(&t, &c, now, &wait, &ticket) && wait > PACER_TURN_FREE_MS;
    else
        scarce = wait > PACER_TURN_FREE_MS;
    return scarce;
}

bool pacer_scarce(struct pacer *p)
{
    return pacer_scarce_at(p, clock_of(p));
}

void pacer_on_grant_response(struct pacer *p, const struct pacer_grant *g,
                             const struct pacer_obs *obs)
{
    pacer_on_grant_response_at(p, clock_of(p), g, obs);
}

void pacer_on_response(struct pacer *p, const struct pacer_obs *obs)
{
    pacer_on_grant_response(p, NULL, obs);
}

static void wait_until(struct pacer *p, int64_t until)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(until / 1000);
    ts.tv_nsec = (long)(until % 1000) * 1000000L;
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

static int too_long(int64_t wait, int64_t max_wait_ms, struct mlc_err *e)
{
    return mlc_err_set(e, MLC_ETIMEOUT,
                       "BigCommerce rate limit: next request allowed in %lld ms, "
                       "over the %lld ms allowed to wait",
                       (long long)wait, (long long)max_wait_ms);
}

/* One process: every waiter asks the in-memory state, woken by responses. */
static int local_acquire(struct pacer *p, int64_t max_wait_ms,
                         struct pacer_grant *g, struct mlc_err *e)
{
    int64_t now = pacer_now_ms(), wait;
    int64_t deadline = max_wait_ms < 0 ? INT64_MAX : now + max_wait_ms;

    for (;;) {
        if (p->stopping)
            return mlc_err_set(e, MLC_ESTATE, "rate pacer stopped");
        now = pacer_now_ms();
        if (try_grant(p, now, &wait, g))
            return MLC_OK;
        if (wait > deadline - now)
            return too_long(wait, max_wait_ms, e);
        wait_until(p, now + wait);
    }
}

static void line_leave(struct pacer *p, struct pacer_waiter *w)
{
    struct pacer_waiter **pp = &p->line;

    while (*pp != w)
        pp = &(*pp)->next;
    *pp = w->next;
    if (pp == &p->line)
        pthread_cond_broadcast(&p->cv); /* the next one is first now */
}

/* Shared mode: the threads of the process wait in line and only the first
 * asks the record, at the time the record said (after a refusal, or after
 * the previous grant), or when a response of ours may change things (a
 * probe answered), so that waiting threads cost no transactions and none is
 * passed over by luckier ones. */
static int shared_acquire(struct pacer *p, int64_t max_wait_ms,
                          struct pacer_grant *g, struct mlc_err *e)
{
    int64_t now = pacer_now_ms(), wait;
    int64_t deadline = max_wait_ms < 0 ? INT64_MAX : now + max_wait_ms;
    struct pacer_waiter me = { NULL }, **tail = &p->line;
    int rc = MLC_OK;

    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = &me;
    for (;;) {
        if (p->stopping) {
            rc = mlc_err_set(e, MLC_ESTATE, "rate pacer stopped");
            break;
        }
        now = pacer_now_ms();
        if (p->line != &me) {
            if (now >= deadline) {
                rc = mlc_err_set(e, MLC_ETIMEOUT, "BigCommerce rate limit: still in line "
                                 "after the %lld ms allowed to wait", (long long)max_wait_ms);
                break;
            }
            wait_until(p, deadline - now < 1000 ? deadline : now + 1000);
            continue;
        }
        if (now < p->next_at) {
            wait = p->next_at - now;
        } else if (try_grant(p, clock_of(p), &wait, g)) {
            p->next_at = now + p->after_grant;
            break;
        } else {
            p->next_at = now + wait;
        }
        if (wait > deadline - now) {
            rc = too_long(wait, max_wait_ms, e);
            break;
        }
        wait_until(p, now + wait);
    }
    line_leave(p, &me);
    return rc;
}

int pacer_acquire_grant(struct pacer *p, int64_t max_wait_ms,
                        struct pacer_grant *g, struct mlc_err *e)
{
    int rc;

    pthread_mutex_lock(&p->mu);
    rc = p->shared ? shared_acquire(p, max_wait_ms, g, e)
                   : local_acquire(p, max_wait_ms, g, e);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int pacer_acquire(struct pacer *p, int64_t max_wait_ms, struct mlc_err *e)
{
    return pacer_acquire_grant(p, max_wait_ms, NULL, e);
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
    out->in_flight = p->shared ? p->mine : p->s.in_flight;
    out->fallback = p->fallback;
    pthread_mutex_unlock(&p->mu);
}
