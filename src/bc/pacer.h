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
 * The core takes the time explicitly (pacer_try_acquire_at,
 * pacer_on_response_at) so that tests simulate hours in microseconds; the
 * blocking wrappers use CLOCK_MONOTONIC milliseconds. Every grant must be
 * followed by exactly one pacer_on_response (status 0 when no response came
 * back) so that in_flight stays right. All functions are thread-safe.
 */
#ifndef MLC_BC_PACER_H
#define MLC_BC_PACER_H

#include <stdbool.h>
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

/* How long a waiter sleeps before looking again while a probe is in flight
 * (a response wakes it earlier). */
#define PACER_PROBE_RECHECK_MS 50

struct pacer_stats {
    uint64_t granted;     /* permissions given */
    uint64_t responses;   /* pacer_on_response calls */
    uint64_t n429;        /* 429s seen, with or without headers */
    uint64_t n429_bare;   /* 429s without rate-limit headers */
    int64_t  in_flight;   /* granted, response not yet reported */
    int64_t  left;        /* current estimate, -1 before any response */
};

/* New pacer (*out, caller frees with pacer_free). o may be NULL. */
int pacer_new(const struct pacer_opts *o, struct pacer **out,
              struct mlc_err *e);
/* NULL-safe; no thread may be inside a pacer call. */
void pacer_free(struct pacer *p);

/* Core, explicit time in ms on any monotonic scale. Returns true and counts
 * the request in flight when it may start at now_ms; otherwise false with
 * *wait_ms (>= 1) the time after which to ask again. */
bool pacer_try_acquire_at(struct pacer *p, int64_t now_ms, int64_t *wait_ms);
/* Reports the outcome of a granted request received at now_ms. */
void pacer_on_response_at(struct pacer *p, int64_t now_ms,
                          const struct pacer_obs *obs);

/* Blocks until a request may start. max_wait_ms < 0 waits as long as it
 * takes; otherwise MLC_ETIMEOUT as soon as the needed wait would pass it.
 * MLC_ESTATE after pacer_shutdown. */
int pacer_acquire(struct pacer *p, int64_t max_wait_ms, struct mlc_err *e);
/* pacer_on_response_at with the monotonic clock; wakes waiters. */
void pacer_on_response(struct pacer *p, const struct pacer_obs *obs);
/* Makes every present and future pacer_acquire fail with MLC_ESTATE. */
void pacer_shutdown(struct pacer *p);

void pacer_get_stats(struct pacer *p, struct pacer_stats *out);

/* CLOCK_MONOTONIC in ms, the scale of the blocking wrappers. */
int64_t pacer_now_ms(void);

#endif
