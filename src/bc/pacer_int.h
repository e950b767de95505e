/*
 * pacer_int: the private header of bc/pacer (pacer.c: the decision core,
 * the single-process pacer and the blocking calls; pacer_shared.c: the
 * shared record, its encoding and the fallback when it is out of reach).
 *
 * The core is pure: it works on a struct pacer_state with the time given,
 * and does no I/O and no locking. The single-process pacer keeps one state
 * in memory; a shared pacer decodes the state from the record, runs the same
 * core on it and encodes it back, all inside one store_shared_update.
 */
#ifndef MLC_BC_PACER_INT_H
#define MLC_BC_PACER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bc/pacer.h"

#define PACER_FL_MAX      32   /* grant-time entries in flight */
#define PACER_FL_QUANT_MS 16   /* grants this close share an entry */
#define PACER_MEMBERS_MAX 16   /* processes remembered in the record */

/* Grants not yet answered, by grant time (shared mode). */
struct pacer_fl {
    int64_t at; /* grant time rounded down to PACER_FL_QUANT_MS */
    int64_t n;
};

/* A process that used the record lately: how many share the quota (each
 * one's share when the record is out of reach), and whose turn it is. */
struct pacer_member {
    uint32_t id;
    int64_t  seen;
    int64_t  waiting; /* since when it waits for a grant; 0: it does not */
};

struct pacer_state {
    int64_t  quota;         /* latest known quota */
    int64_t  window_ms;     /* latest known window length */
    bool     have_window;   /* left/reset_at hold an estimate */
    int64_t  left;          /* lowest "left" of the current window */
    int64_t  reset_at;      /* when the current window ends */
    int64_t  blocked_until; /* no grant before (after 429s) */
    bool     have_grant;
    int64_t  last_grant;
    bool     probe;         /* one request at a time */
    unsigned run429;        /* consecutive 429s */
    unsigned run_bare;      /* consecutive header-less 429s */
    int64_t  win_granted;   /* grants in the current window (for cap) */
    /* single process: a count */
    int64_t  in_flight;
    /* shared: grants at or before basis are counted in "left" already */
    int64_t  basis;
    int      nfl;
    struct pacer_fl fl[PACER_FL_MAX];
    int      nmem;
    struct pacer_member mem[PACER_MEMBERS_MAX];
    int64_t  avail_since;   /* a grant waits for the longest waiter since;
                               0: none does */
};

/* How the core runs on a state. */
struct pacer_core {
    const struct pacer_opts *o;
    bool    shared; /* in flight by grant time, skew margins */
    int64_t cap;    /* > 0: at most this many grants per window */
};

void pacer_state_init(struct pacer_state *s, const struct pacer_opts *o);
/* The core: see pacer.h. *ticket receives the grant time. */
bool pacer_core_try(struct pacer_state *s, const struct pacer_core *c,
                    int64_t now, int64_t *wait, int64_t *ticket);
/* ticket: the answered grant's time, -1 when it is not in s's in-flight
 * accounting (an observation only). */
void pacer_core_response(struct pacer_state *s, const struct pacer_core *c,
                         int64_t now, int64_t ticket,
                         const struct pacer_obs *obs);
/* Requests in flight as the budget counts them. */
int64_t pacer_core_in_flight(const struct pacer_state *s,
                             const struct pacer_core *c);

/* ---- the record (pacer_shared.c) ---------------------------------------- */

#define PACER_REC_MAGIC   0x62 /* 'b' */
#define PACER_REC_VERSION 1

/* Encodes s into buf (cap bytes): its length, or -1 when it does not fit. */
long pacer_rec_encode(const struct pacer_state *s, unsigned char *buf,
                      size_t cap);
/* MLC_OK; MLC_EPARSE when buf is not a record; MLC_ESTATE when it is of a
 * newer version than this program writes. */
int pacer_rec_decode(struct pacer_state *s, const unsigned char *buf,
                     size_t len);

/* ---- the pacer object --------------------------------------------------- */

/* A thread in line for a grant (shared mode), on its own stack. */
struct pacer_waiter {
    struct pacer_waiter *next;
};

struct pacer {
    pthread_mutex_t    mu;     /* everything below; the record's update */
    pthread_cond_t     cv;     /* signalled on responses and shutdown */
    struct pacer_opts  o;
    struct pacer_state s;      /* single process: the state; shared: the
                                  state used while the record is away */
    bool               stopping;
    struct pacer_stats st;
    /* shared mode */
    bool               shared;
    struct pacer_share sh;
    struct pacer_state mirror; /* the record as last read */
    bool               have_mirror;
    bool               fallback;     /* pacing alone on s */
    int64_t            retry_at;     /* wall: next try of the record */
    struct pacer_waiter *line;       /* threads waiting for a grant, in
                                        order; the first asks the record */
    int64_t            next_at;      /* monotonic: the first in line asks
                                        no sooner (what the record said) */
    int64_t            after_grant;  /* the last grant's next_wait */
    bool               warned_ahead; /* said the record's clock is ahead */
    int64_t            mine;         /* our grants not yet answered */
};

/* Shared mode (pacer_shared.c), p->mu held. */
/* more: another thread of this process waits too (it keeps our place in
 * the queue of processes). */
bool pacer_shared_try(struct pacer *p, int64_t now, int64_t *wait,
                      struct pacer_grant *g, bool more);
void pacer_shared_response(struct pacer *p, int64_t now,
                           const struct pacer_grant *g,
                           const struct pacer_obs *obs);
/* Processes seen in the record within the last two windows. */
int64_t pacer_members_live(const struct pacer_state *s, int64_t now);

#endif
