/*
 * pacer_shared: the pacer's shared mode (see pacer.h): the record that every
 * process updates, its encoding, and pacing alone while it is out of reach.
 *
 * The record, version 1: the bytes PACER_REC_MAGIC, PACER_REC_VERSION, then
 * LEB128 varints (signed ones zigzag): flags (have_window, have_grant,
 * probe), run429, run_bare, quota, window_ms, left, win_granted, reset_at
 * (the base), blocked_until, last_grant, basis and avail_since as
 * differences from the base (an optional time is 0 when unset, else its
 * zigzag difference + 1), the in-flight entries (count, then at - base and
 * n each) and the members (count, then id, seen - base and the optional
 * waiting each). About 90 bytes with four processes and three requests in
 * flight, 810 at most, under STORE_SHARED_MAX (1024). A reader that finds a newer version leaves the
 * record alone and paces alone.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bc/pacer_int.h"
#include "core/log.h"

#define REC_MAX          1024 /* = STORE_SHARED_MAX, which bc cannot see */

/* ---- encoding ------------------------------------------------------------ */

struct wbuf {
    unsigned char *b;
    size_t         cap, n;
};

struct rbuf {
    const unsigned char *b;
    size_t               n, i;
    bool                 bad;
};

static uint64_t zigzag(int64_t v)
{
    return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
}

static int64_t unzigzag(uint64_t u)
{
    return (u & 1) ? (int64_t)~(u >> 1) : (int64_t)(u >> 1);
}

/* t - base and base + d without overflow traps: times are far from the
 * limits, and a corrupt record only decodes to nonsense, never to undefined
 * behaviour. */
static int64_t diff(int64_t t, int64_t base)
{
    return (int64_t)((uint64_t)t - (uint64_t)base);
}

static int64_t add(int64_t base, int64_t d)
{
    return (int64_t)((uint64_t)base + (uint64_t)d);
}

static void put_u(struct wbuf *w, uint64_t v)
{
    do {
        unsigned char byte = (unsigned char)(v & 0x7f);

        v >>= 7;
        if (v != 0)
            byte |= 0x80;
        if (w->n < w->cap)
            w->b[w->n] = byte;
        w->n++;
    } while (v != 0);
}

static void put_s(struct wbuf *w, int64_t v)
{
    put_u(w, zigzag(v));
}

/* An optional time: 0 when unset, else its difference from base + 1. */
static void put_opt(struct wbuf *w, int64_t t, int64_t base)
{
    put_u(w, t == 0 ? 0 : zigzag(diff(t, base)) + 1);
}

static uint64_t get_u(struct rbuf *r)
{
    uint64_t v = 0;

    for (unsigned shift = 0;; shift += 7) {
        unsigned char byte;

        if (r->i >= r->n || shift > 63) {
            r->bad = true;
            return 0;
        }
        byte = r->b[r->i++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0)
            return v;
    }
}

static int64_t get_s(struct rbuf *r)
{
    return unzigzag(get_u(r));
}

static int64_t get_opt(struct rbuf *r, int64_t base)
{
    uint64_t u = get_u(r);

    return u == 0 ? 0 : add(base, unzigzag(u - 1));
}

long pacer_rec_encode(const struct pacer_state *s, unsigned char *buf,
                      size_t cap)
{
    struct wbuf w = { buf, cap, 0 };
    int64_t base = s->reset_at;

    put_u(&w, PACER_REC_MAGIC);
    put_u(&w, PACER_REC_VERSION);
    put_u(&w, (s->have_window ? 1u : 0u) | (s->have_grant ? 2u : 0u) |
              (s->probe ? 4u : 0u));
    put_u(&w, s->run429);
    put_u(&w, s->run_bare);
    put_s(&w, s->quota);
    put_s(&w, s->window_ms);
    put_s(&w, s->left);
    put_s(&w, s->win_granted);
    put_s(&w, base);
    put_s(&w, diff(s->blocked_until, base));
    put_s(&w, diff(s->last_grant, base));
    put_s(&w, diff(s->basis, base));
    put_opt(&w, s->avail_since, base);
    put_u(&w, (uint64_t)s->nfl);
    for (int i = 0; i < s->nfl; i++) {
        put_s(&w, diff(s->fl[i].at, base));
        put_u(&w, (uint64_t)s->fl[i].n);
    }
    put_u(&w, (uint64_t)s->nmem);
    for (int i = 0; i < s->nmem; i++) {
        put_u(&w, s->mem[i].id);
        put_s(&w, diff(s->mem[i].seen, base));
        put_opt(&w, s->mem[i].waiting, base);
    }
    return w.n <= cap ? (long)w.n : -1;
}

int pacer_rec_decode(struct pacer_state *s, const unsigned char *buf,
                     size_t len)
{
    struct rbuf r = { buf, len, 0, false };
    uint64_t flags, n;
    int64_t base;

    memset(s, 0, sizeof(*s));
    if (get_u(&r) != PACER_REC_MAGIC || r.bad)
        return MLC_EPARSE;
    n = get_u(&r);
    if (r.bad || n == 0)
        return MLC_EPARSE;
    if (n > PACER_REC_VERSION)
        return MLC_ESTATE;
    flags = get_u(&r);
    s->have_window = (flags & 1) != 0;
    s->have_grant = (flags & 2) != 0;
    s->probe = (flags & 4) != 0;
    s->run429 = (unsigned)(get_u(&r) & 0xff);
    s->run_bare = (unsigned)(get_u(&r) & 0xff);
    s->quota = get_s(&r);
    s->window_ms = get_s(&r);
    s->left = get_s(&r);
    s->win_granted = get_s(&r);
    base = get_s(&r);
    s->reset_at = base;
    s->blocked_until = add(base, get_s(&r));
    s->last_grant = add(base, get_s(&r));
    s->basis = add(base, get_s(&r));
    s->avail_since = get_opt(&r, base);
    n = get_u(&r);
    if (r.bad || n > PACER_FL_MAX || s->quota <= 0 || s->window_ms <= 0)
        return MLC_EPARSE;
    s->nfl = (int)n;
    for (int i = 0; i < s->nfl; i++) {
        s->fl[i].at = add(base, get_s(&r));
        s->fl[i].n = (int64_t)get_u(&r);
        if (s->fl[i].n <= 0)
            r.bad = true;
    }
    n = get_u(&r);
    if (r.bad || n > PACER_MEMBERS_MAX)
        return MLC_EPARSE;
    s->nmem = (int)n;
    for (int i = 0; i < s->nmem; i++) {
        s->mem[i].id = (uint32_t)get_u(&r);
        s->mem[i].seen = add(base, get_s(&r));
        s->mem[i].waiting = get_opt(&r, base);
    }
    return r.bad || r.i != r.n ? MLC_EPARSE : MLC_OK;
}

/* ---- members and turns ------------------------------------------------------ */

static int64_t member_ttl(const struct pacer_state *s)
{
    return 2 * s->window_ms;
}

int64_t pacer_members_live(const struct pacer_state *s, int64_t now)
{
    int64_t n = 0;

    for (int i = 0; i < s->nmem; i++)
        if (s->mem[i].seen >= now - member_ttl(s))
            n++;
    return n;
}

/* id's entry, made when missing; members gone for two windows are
 * forgotten. Its time is set by member_touch. */
static struct pacer_member *member_find(struct pacer_state *s, uint32_t id,
                                        int64_t now)
{
    int j = 0, oldest = 0;

    for (int i = 0; i < s->nmem; i++)
        if (s->mem[i].seen >= now - member_ttl(s) || s->mem[i].id == id)
            s->mem[j++] = s->mem[i];
    s->nmem = j;
    for (int i = 0; i < s->nmem; i++)
        if (s->mem[i].id == id)
            return &s->mem[i];
    if (s->nmem == PACER_MEMBERS_MAX) {
        for (int i = 1; i < s->nmem; i++)
            if (s->mem[i].seen < s->mem[oldest].seen)
                oldest = i;
        s->mem[oldest] = (struct pacer_member){ id, now, 0 };
        return &s->mem[oldest];
    }
    s->mem[s->nmem] = (struct pacer_member){ id, now, 0 };
    return &s->mem[s->nmem++];
}

/* How many waited longer than me for a grant (0: it is my turn). */
static int ahead_of(const struct pacer_state *s, const struct pacer_member *me,
                    int64_t now)
{
    int64_t mine = me->waiting != 0 ? me->waiting : now + 1;
    int n = 0;

    for (int i = 0; i < s->nmem; i++)
        if (&s->mem[i] != me && s->mem[i].waiting != 0 && s->mem[i].waiting < mine)
            n++;
    return n;
}

/* The turn of those who waited longer than me has passed: they wait anew,
 * at the back. */
static void skip_ahead(struct pacer_state *s, const struct pacer_member *me,
                       int64_t now)
{
    int64_t mine = me->waiting != 0 ? me->waiting : now + 1;

    for (int i = 0; i < s->nmem; i++)
        if (&s->mem[i] != me && s->mem[i].waiting != 0 && s->mem[i].waiting < mine)
            s->mem[i].waiting = 0;
}

/* ---- one update of the record --------------------------------------------- */

struct rec_call {
    struct pacer            *p;
    int64_t                  now;
    bool                     acquire;
    /* acquire */
    bool                     more;     /* another of our threads waits */
    bool                     granted;
    int64_t                  wait, ticket;
    int64_t                  next_wait; /* granted: when to ask again */
    /* response */
    int64_t                  answered; /* grant time, -1: observation only */
    const struct pacer_obs  *obs;
    /* what happened */
    bool                     ran, unchanged, newer, corrupt, ahead;
    struct pacer_state       s;
};

/* Times no process could have written with a clock near ours: a window
 * ends at most one window from now, a block lasts at most a window and the
 * longest backoff. Pulled back, so that a host whose clock runs ahead
 * cannot make the others wait for hours; true when something was. */
static bool clamp_ahead(struct pacer_state *s, const struct pacer_opts *o,
                        int64_t now)
{
    int64_t w = s->window_ms + o->skew_ms;
    bool ahead = false;

    if (s->have_window && s->reset_at > now + w) {
        s->reset_at = now + s->window_ms;
        ahead = true;
    }
    if (s->blocked_until > now + w + o->backoff_max_ms) {
        s->blocked_until = now + w + o->backoff_max_ms;
        ahead = true;
    }
    if (s->have_grant && s->last_grant > now + o->skew_ms) {
        s->last_grant = now;
        ahead = true;
    }
    return ahead;
}

/* How long after a grant at now the next one may follow (0: at once). */
static int64_t wait_after_grant(const struct pacer_state *s,
                                const struct pacer_core *core, int64_t now)
{
    struct pacer_state after = *s;
    int64_t wait, t;

    return pacer_core_try(&after, core, now, &wait, &t) ? 0 : wait;
}

/*
 * A grant, in turn: processes that were refused queue by the time of their
 * first refusal, and a grant that comes free goes to the one that waited
 * longest. Everyone asks again at the time it was told, so that one is
 * there within milliseconds; if it is not there within PACER_TURN_HOLD_MS
 * (it died, or gave up), the next in line takes the grant and the late one
 * queues again at the back. The others come back for the grant after.
 * Without turns the process nearest to the store would win every race and
 * the others could starve.
 */
static void acquire_in_turn(struct rec_call *c, const struct pacer_core *core)
{
    struct pacer_state *s = &c->s;
    struct pacer_state next = *s;
    struct pacer_member *me = member_find(s, c->p->sh.member, c->now);
    int64_t now = c->now;
    bool jump = false;
    int ahead;

    c->granted = pacer_core_try(&next, core, now, &c->wait, &c->ticket);
    ahead = c->granted ? ahead_of(s, me, now) : 0;
    /* Turns matter only while grants are scarce. When the next grant could
     * follow this one within PACER_TURN_FREE_MS, whoever waited longer
     * loses no more than that, and keeps its place; holding this grant for
     * it would cost a hold on most calls when the quota is far above the
     * demand (measured: 4 processes posted 23 % fewer orders). */
    if (ahead > 0 && wait_after_grant(&next, core, now) <= PACER_TURN_FREE_MS)
        jump = true;
    if (ahead > 0 && !jump &&
        (s->avail_since == 0 || now - s->avail_since < PACER_TURN_HOLD_MS)) {
        /* Free, but another's turn: hold it for them a moment. The next in
         * line comes back when the hold ends, the others after that
         * grant. */
        c->granted = false;
        if (s->avail_since == 0 || s->avail_since > now)
            s->avail_since = now;
        c->wait = s->avail_since + PACER_TURN_HOLD_MS - now;
        if (ahead > 1 && wait_after_grant(&next, core, now) > c->wait)
            c->wait = wait_after_grant(&next, core, now);
        if (c->wait < 1)
            c->wait = 1;
        if (me->waiting == 0)
            me->waiting = now;
        return;
    }
    *s = next;
    me = member_find(s, c->p->sh.member, now);
    if (!c->granted) {
        s->avail_since = 0;
        if (me->waiting == 0)
            me->waiting = now;
        return;
    }
    if (!jump)
        skip_ahead(s, me, now);
    s->avail_since = 0;
    me->waiting = c->more ? now : 0;
    c->next_wait = wait_after_grant(s, core, now);
}

/* Runs inside the store's transaction: no I/O, no lock taken. A member's
 * time is set when the record is written anyway, and otherwise at most
 * every quarter window (enough to count the processes), so that most
 * refusals write nothing. */
static int rec_fn(void *buf, size_t *len, size_t cap, void *ctx)
{
    struct rec_call *c = ctx;
    struct pacer *p = c->p;
    struct pacer_core core = { .o = &p->o, .shared = true };
    struct pacer_member *me;
    unsigned char out[REC_MAX];
    long n;
    int rc = MLC_OK;

    c->ran = true;
    if (*len > 0)
        rc = pacer_rec_decode(&c->s, buf, *len);
    if (rc == MLC_ESTATE) {
        c->newer = true;
        return MLC_ESTATE;
    }
    if (*len == 0 || rc != MLC_OK) {
        c->corrupt = rc != MLC_OK;
        pacer_state_init(&c->s, &p->o);
    }
    c->ahead = clamp_ahead(&c->s, &p->o, c->now);
    if (c->acquire)
        acquire_in_turn(c, &core);
    else
        pacer_core_response(&c->s, &core, c->now, c->answered, c->obs);
    me = member_find(&c->s, p->sh.member, c->now);
    if (cap > sizeof(out))
        cap = sizeof(out);
    n = pacer_rec_encode(&c->s, out, cap);
    if (n >= 0 && (size_t)n == *len && memcmp(out, buf, (size_t)n) == 0 &&
        c->now - me->seen < c->s.window_ms / 4 && c->now >= me->seen) {
        c->unchanged = true; /* nothing to write: the cheap rollback */
        return MLC_ESTATE;
    }
    me->seen = c->now;
    n = pacer_rec_encode(&c->s, out, cap);
    if (n < 0)
        return MLC_ETOOBIG;
    memcpy(buf, out, (size_t)n);
    *len = (size_t)n;
    return MLC_OK;
}

/* One update; true when the record was read (and written when needed). */
static bool rec_call(struct pacer *p, struct rec_call *c, struct mlc_err *e)
{
    int rc;

    c->p = p;
    rc = p->sh.update(p->sh.ctx, rec_fn, c, e);
    if (rc != MLC_OK && !(c->ran && c->unchanged)) {
        p->st.failures++;
        if (c->newer)
            mlc_err_set(e, MLC_ESTATE, "the request budget record \"%s\" is of a newer "
                        "version than this mlc writes", PACER_RECORD);
        return false;
    }
    if (c->corrupt)
        log_warn("bc", "request budget record unreadable: started afresh",
                 LF_STR("record", PACER_RECORD));
    if (c->ahead && !p->warned_ahead)
        log_warn("bc", "request budget record has times ahead of this host's clock: "
                 "check NTP on every host", LF_STR("record", PACER_RECORD),
                 LF_INT("skew_ms", p->o.skew_ms));
    p->warned_ahead = c->ahead;
    p->mirror = c->s;
    p->have_mirror = true;
    p->st.updates++;
    if (c->unchanged)
        p->st.unchanged++;
    p->st.members = pacer_members_live(&c->s, c->now);
    p->st.left = c->s.have_window ? c->s.left : -1;
    return true;
}

/* ---- pacing alone ---------------------------------------------------------- */

/* Our share of a window while the record is away: the processes seen in
 * it lately, plus one for a process that may have joined since. */
static int64_t fallback_share(const struct pacer *p)
{
    int64_t members = p->st.members > 0 ? p->st.members : 1;
    int64_t share = (p->s.quota - p->o.reserve) / (members + 1);

    return share > 0 ? share : 1;
}

static void enter_fallback(struct pacer *p, int64_t now,
                           const struct mlc_err *e)
{
    p->retry_at = now + PACER_STORE_RETRY_MS;
    if (p->fallback)
        return;
    p->fallback = true;
    if (p->have_mirror) {
        p->s = p->mirror;
        p->s.nfl = 0;
        p->s.nmem = 0;
    } else {
        pacer_state_init(&p->s, &p->o);
    }
    p->s.in_flight = p->mine;
    p->s.win_granted = 0;
    log_warn("bc", "request budget record out of reach: pacing alone on a share",
             LF_STR("record", PACER_RECORD), LF_INT("share", fallback_share(p)),
             LF_INT("window_ms", p->s.window_ms), LF_ERR(e));
}

static bool fallback_try(struct pacer *p, int64_t now, int64_t *wait,
                         struct pacer_grant *g)
{
    struct pacer_core c = { .o = &p->o, .cap = fallback_share(p) };
    int64_t t;

    if (!pacer_core_try(&p->s, &c, now, wait, &t)) {
        if (*wait > p->retry_at - now)
            *wait = p->retry_at - now > 1 ? p->retry_at - now : 1;
        return false;
    }
    p->st.granted++;
    p->st.fallback_granted++;
    p->mine++;
    *g = (struct pacer_grant){ t, PACER_GRANT_FALLBACK };
    return true;
}

/* ---- shared entry points (p->mu held) -------------------------------------- */

bool pacer_shared_try(struct pacer *p, int64_t now, int64_t *wait,
                      struct pacer_grant *g, bool more)
{
    struct mlc_err e = { 0 };

    if (!p->fallback || now >= p->retry_at) {
        struct rec_call c = { .now = now, .acquire = true, .more = more };

        if (rec_call(p, &c, &e)) {
            if (p->fallback) {
                p->fallback = false;
                log_info("bc", "request budget record reachable again",
                         LF_STR("record", PACER_RECORD));
            }
            *wait = c.wait;
            if (!c.granted)
                return false;
            p->after_grant = c.next_wait;
            p->st.granted++;
            p->mine++;
            *g = (struct pacer_grant){ c.ticket, PACER_GRANT_SHARED };
            return true;
        }
        enter_fallback(p, now, &e);
    }
    return fallback_try(p, now, wait, g);
}

void pacer_shared_response(struct pacer *p, int64_t now,
                           const struct pacer_grant *g,
                           const struct pacer_obs *obs)
{
    struct pacer_core alone = { .o = &p->o };
    struct mlc_err e = { 0 };
    /* Without a ticket the grant is ours all the same; only the record's
     * in-flight entry cannot be found (it is pruned later). */
    bool ours = g == NULL || g->where != PACER_GRANT_NONE;

    if (!p->fallback) {
        /* A grant made alone is not in the record's in-flight list; its
         * answer is news all the same. */
        struct rec_call c = {
            .now = now, .obs = obs,
            .answered = g != NULL && g->where == PACER_GRANT_SHARED ? g->at : -1,
        };

        if (rec_call(p, &c, &e))
            goto out;
        enter_fallback(p, now, &e);
    }
    pacer_core_response(&p->s, &alone, now, ours ? 0 : -1, obs);
    p->st.left = p->s.have_window ? p->s.left : -1;
out:
    if (ours && p->mine > 0)
        p->mine--;
}

int pacer_new_shared(const struct pacer_opts *o, const struct pacer_share *sh,
                     struct pacer **out, struct mlc_err *e)
{
    int rc;

    *out = NULL;
    if (sh == NULL || sh->update == NULL)
        return mlc_err_set(e, MLC_EINVAL, "shared rate pacer: no record to share");
    rc = pacer_new(o, out, e);
    if (rc != MLC_OK)
        return rc;
    (*out)->shared = true;
    (*out)->sh = *sh;
    if ((*out)->sh.member == 0) {
        uint32_t id = 0;

        if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
            id = (uint32_t)getpid() ^ (uint32_t)pacer_wall_ms();
        (*out)->sh.member = id != 0 ? id : 1;
    }
    return MLC_OK;
}
