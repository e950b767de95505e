/*
 * pacer: the BigCommerce request budget of one store, shared by every thread
 * that calls that store.
 *
 * BigCommerce counts requests per store in a fixed window (30 s, 150
 * requests on Standard/Plus) shared with every other app installed on the
 * store, and reports after each call how many are left and when the window
 * resets. The pacer keeps the 429 count at zero by asking before each
 * request rather than reacting after:
 *
 *  - It holds the lowest "left" seen in the current window and its reset
 *    time (receive time + Time-Reset-Ms). An observation whose reset is
 *    clearly later starts a new window; when the reset time passes without
 *    news, the window is assumed refilled to the quota.
 *  - A request may start when left - in_flight - reserve > 0 (requests in
 *    flight may not be counted in "left" yet; the reserve is never touched,
 *    it belongs to the other apps). The remaining budget is spread evenly
 *    over the time to the reset: grants are at least
 *    (reset - now) / budget apart, so a burst of threads cannot spend it at
 *    once.
 *  - Until the first response, and after a 429 without rate-limit headers,
 *    only one request is in flight at a time (a probe).
 *  - A 429 with Time-Reset-Ms blocks everyone until the reset (plus a
 *    growing margin when 429s repeat); a 429 without headers (platform
 *    load) blocks for a backoff that doubles on each repeat up to a cap.
 *
 * Shared mode (pacer_new_shared): several processes, on several machines,
 * spend one store's quota. The window estimate, the requests in flight,
 * the time of the last grant (for spreading), the 429 block and the probe
 * state then live in one small record that every process reads, updates and
 * writes back atomically (the state store's store_shared_update, reached
 * through struct pacer_share: this module knows no store) on each grant
 * and each response, running the same decision logic as above on it. Times
 * in the record are wall-clock ms (clocks kept within skew_ms of each other
 * by NTP; a last grant more than skew_ms ahead, or a window or block
 * ending more than a window ahead, is pulled back, with a warning). Differences from one process:
 *  - A window is assumed refilled only skew_ms after its reset time.
 *  - In flight is a list of grant times, not a count: a grant stops counting
 *    when it is answered, or once BigCommerce has answered a request granted
 *    more than arrive_ms + skew_ms after it (that answer's "left" already
 *    counts it), or once the window it was granted in has ended (it reached
 *    BigCommerce before the reset), or a window after it was granted. So
 *    the grants of a process that died mid-call cost the budget until the
 *    next answer, never beyond the window they were made in (one made
 *    within arrive_ms of a reset may count in the next window until an
 *    answer; a probe nobody answers blocks for one window).
 *  - Turns: a grant that comes free goes to the process that has waited
 *    longest (held for it PACER_TURN_HOLD_MS), so that the process nearest
 *    to the store does not win every race. Only while grants are scarce:
 *    when the next could follow within PACER_TURN_FREE_MS (a quota far
 *    above the demand), whoever asks takes it and the others keep their
 *    place. Within a process, threads wait
 *    in line and only the first asks the record, at the time it was told.
 *  - When the record cannot be read or written (store down, a record of a
 *    newer version), the process paces alone on its last copy, on at most
 *    a share of the window: (quota - reserve) / (processes seen + 1), and
 *    tries the store again every PACER_STORE_RETRY_MS.
 *
 * The core takes the time explicitly (pacer_try_acquire_at,
 * pacer_on_response_at) so that tests simulate hours in microseconds; the
 * blocking wrappers use CLOCK_MONOTONIC milliseconds, or the wall clock in
 * shared mode. Every grant must be followed by exactly one response report
 * (status 0 when no response came back) so that in_flight stays right; in
 * shared mode report it with the grant's ticket (struct pacer_grant). All
 * functions are thread-safe; in shared mode a pacer calls its record's
 * update from one thread at a time (a store connection may be given).
 */
#ifndef MLC_BC_PACER_H
#define MLC_BC_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct pacer;

struct pacer_opts {
    int64_t reserve;        /* requests per window left to other apps,
                               0 <= reserve < quota */
    int64_t quota;          /* assumed until headers say [150] */
    int64_t window_ms;      /* assumed until headers say [30000] */
    int64_t backoff_ms;     /* first block after a header-less 429 [1000] */
    int64_t backoff_max_ms; /* cap of the doubling backoff [8000] */
    int64_t skew_ms;        /* shared: clock difference between hosts
                               tolerated [250] */
    int64_t arrive_ms;      /* shared: longest time from a grant to the
                               request reaching BigCommerce [2000] */
};

/* What one response said; -1 in a field means the header was absent. */
struct pacer_obs {
    int     status;    /* HTTP status, 0 when no response arrived */
    int64_t left;      /* X-Rate-Limit-Requests-Left */
    int64_t reset_ms;  /* X-Rate-Limit-Time-Reset-Ms */
    int64_t window_ms; /* X-Rate-Limit-Time-Window-Ms */
    int64_t quota;     /* X-Rate-Limit-Requests-Quota */
};

#define PACER_OBS_NONE(st) \
    ((struct pacer_obs){ .status = (st), .left = -1, .reset_ms = -1, \
                         .window_ms = -1, .quota = -1 })

/* A grant's ticket, handed back with its response. */
struct pacer_grant {
    int64_t at;    /* grant time */
    int     where; /* PACER_GRANT_* */
};

enum { PACER_GRANT_NONE = 0, PACER_GRANT_LOCAL, PACER_GRANT_SHARED,
       PACER_GRANT_FALLBACK };

/* How long a waiter sleeps before looking again while a probe is in flight
 * (a response wakes it earlier). */
#define PACER_PROBE_RECHECK_MS 50
/* Shared mode: how long a grant that came free waits for the process whose
 * turn it is. */
#define PACER_TURN_HOLD_MS 50
/* ...unless the grant after it could follow within this: no hold then. */
#define PACER_TURN_FREE_MS 10
/* Shared mode: how often a process pacing alone tries the record again. */
#define PACER_STORE_RETRY_MS 1000
/* Shared mode: the record's name in the state store. */
#define PACER_RECORD "bc.budget"

struct pacer_stats {
    uint64_t granted;     /* permissions given */
    uint64_t responses;   /* pacer_on_response calls */
    uint64_t n429;        /* 429s seen, with or without headers */
    uint64_t n429_bare;   /* 429s without rate-limit headers */
    int64_t  in_flight;   /* granted, response not yet reported */
    int64_t  left;        /* current estimate, -1 before any response */
    int64_t  last_left;   /* the last X-Rate-Limit-Requests-Left seen by
                             this process, -1 before any */
    /* shared mode */
    uint64_t updates;     /* record updates that went through */
    uint64_t unchanged;   /* of which wrote nothing (a refusal) */
    uint64_t failures;    /* record updates that failed */
    uint64_t fallback_granted; /* grants made pacing alone */
    bool     fallback;    /* pacing alone now */
    int64_t  members;     /* processes seen in the record lately */
};

/* New pacer (*out, caller frees with pacer_free). o may be NULL. */
int pacer_new(const struct pacer_opts *o, struct pacer **out,
              struct mlc_err *e);

/* The shared record: one atomic read-modify-write per call, with the
 * contract of store_shared_update (fn gets the record's bytes, len 0 when
 * never written, and what it leaves in buf[0..*len) is written back when it
 * returns MLC_OK; any other return rolls back and is returned). */
typedef int (*pacer_record_fn)(void *buf, size_t *len, size_t cap, void *ctx);

struct pacer_share {
    int      (*update)(void *ctx, pacer_record_fn fn, void *fn_ctx,
                       struct mlc_err *e);
    void      *ctx;       /* borrowed, outlives the pacer */
    uint32_t   member;    /* this process's id in the record; 0: random */
    int64_t  (*clock_ms)(void *ctx); /* wall clock; NULL: CLOCK_REALTIME */
    void      *clock_ctx;
};

/* New pacer in shared mode over sh (copied). Times given to the _at
 * functions are then wall-clock ms on every process. */
int pacer_new_shared(const struct pacer_opts *o, const struct pacer_share *sh,
                     struct pacer **out, struct mlc_err *e);
/* NULL-safe; no thread may be inside a pacer call. */
void pacer_free(struct pacer *p);

/* Core, explicit time in ms on any monotonic scale. Returns true and counts
 * the request in flight when it may start at now_ms; otherwise false with
 * *wait_ms (>= 1) the time after which to ask again. g (may be NULL)
 * receives the grant's ticket. */
bool pacer_try_acquire_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms);
bool pacer_try_grant_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms,
                        struct pacer_grant *g);
/* Reports the outcome of a granted request received at now_ms; g is its
 * ticket (NULL: the single-process pacer needs none). */
void pacer_on_response_at(struct pacer *p, int64_t now_ms,
                          const struct pacer_obs *obs);
void pacer_on_grant_response_at(struct pacer *p, int64_t now_ms,
                                const struct pacer_grant *g,
                                const struct pacer_obs *obs);

/* Blocks until a request may start. max_wait_ms < 0 waits as long as it
 * takes; otherwise MLC_ETIMEOUT as soon as the needed wait would pass it.
 * MLC_ESTATE after pacer_shutdown. */
int pacer_acquire(struct pacer *p, int64_t max_wait_ms, struct mlc_err *e);
int pacer_acquire_grant(struct pacer *p, int64_t max_wait_ms,
                        struct pacer_grant *g, struct mlc_err *e);
/* pacer_on_response_at with the pacer's clock; wakes waiters. */
void pacer_on_response(struct pacer *p, const struct pacer_obs *obs);
void pacer_on_grant_response(struct pacer *p, const struct pacer_grant *g,
                             const struct pacer_obs *obs);
/* Makes every present and future pacer_acquire fail with MLC_ESTATE. */
void pacer_shutdown(struct pacer *p);

void pacer_get_stats(struct pacer *p, struct pacer_stats *out);
/* True while the budget binds: the next grant after one made now would
 * wait more than PACER_TURN_FREE_MS, or none can be made now, or nothing is
 * known yet of the window (assume the worst). Callers that can share calls
 * (a batch's list and refunds) then share them as widely as they can. */
bool pacer_scarce(struct pacer *p);
bool pacer_scarce_at(struct pacer *p, int64_t now_ms);

/* CLOCK_MONOTONIC in ms, the scale of the blocking wrappers. */
int64_t pacer_now_ms(void);
/* CLOCK_REALTIME in ms (Unix epoch), the scale of shared mode. */
int64_t pacer_wall_ms(void);

#endif
