/*
 * testclock: a store clock (store_set_clock) for tests: real time moved
 * ahead by the int64_t of milliseconds that ctx points to, so a test can
 * let a settle time or a lease pass without waiting for it.
 */
#ifndef MLC_TEST_TESTCLOCK_H
#define MLC_TEST_TESTCLOCK_H

#include <stdint.h>

/* store_clock_fn: Unix ms now + *(const int64_t *)ctx. */
int64_t testclock_ahead(void *ctx);

#endif
