/*
 * simctl: control calls on the simulators from unit tests (linked into every
 * test binary). A call that does not answer 200/201 fails the running test.
 */
#ifndef MLC_TEST_SIMCTL_H
#define MLC_TEST_SIMCTL_H

#include <jansson.h>

#include "net/httpc.h"

/* METHOD base+path with an optional JSON body on client c; returns the
 * parsed answer (caller decrefs). */
json_t *simctl(struct httpc *c, const char *base, const char *method,
               const char *path, const char *body);

#endif
