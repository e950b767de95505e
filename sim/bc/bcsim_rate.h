/*
 * bcsim_rate: BigCommerce-style request quota per store and fixed window.
 *
 * One window of window_ms starts at the first request after the previous
 * one ended; each request takes one unit of the quota; an exhausted window
 * answers 429 until it ends. A quota of 0 means unlimited (benchmarks): the
 * headers then report INT32_MAX as both quota and requests left. Not
 * thread-safe: the caller holds the simulator's lock.
 */
#ifndef MLC_SIM_BCSIM_RATE_H
#define MLC_SIM_BCSIM_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct bcsim_rate {
    int64_t quota;      /* 0 = unlimited */
    int64_t window_ms;  /* > 0 */
    int64_t start_ms;   /* start of the current window, -1 before the first */
    int64_t used;
};

/* The values of the four X-Rate-Limit-* headers for one response. */
struct bcsim_rate_view {
    int64_t window_ms;
    int64_t reset_ms;   /* until the window ends */
    int64_t quota;
    int64_t left;
};

void bcsim_rate_init(struct bcsim_rate *r, int64_t quota, int64_t window_ms);
/* Takes one request at now_ms (monotonic); false when the quota is
 * exhausted (answer 429). v receives the header values either way. */
bool bcsim_rate_take(struct bcsim_rate *r, int64_t now_ms,
                     struct bcsim_rate_view *v);

#endif
