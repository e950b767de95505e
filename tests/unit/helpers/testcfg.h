/*
 * testcfg: a minimal valid configuration for unit tests: the required
 * BigCommerce and JDE keys, a go-live cutover before every fixture, and
 * the posting section's company, followed by the caller's posting keys
 * (indented two spaces). A text that does not load fails the running test.
 * The caller frees the result with cfg_unref.
 */
#ifndef MLC_TEST_TESTCFG_H
#define MLC_TEST_TESTCFG_H

#include "core/config.h"

/* The cutover of the test configurations: before every order they use. */
#define TESTCFG_ORDERS "orders:\n  start: \"2020-01-01T00:00:00Z\"\n"

struct mlc_config *testcfg_posting(const char *posting);

#endif
