/*
 * aissim: a simulated JD Edwards AIS Server for tests, benchmarks and demos.
 *
 * Serves the AIS REST paths under /jderest/ (defaultconfig, tokenrequest,
 * validate, logout, discover, dataservice BROWSE with paging, and the
 * configured orchestrations) over in-memory JDE tables, plus a control API
 * under /__sim/ (counters, simulated clock, restart, tables, faults,
 * settings). docs/simulators-jde.md describes the seed and the control API.
 */
#ifndef MLC_SIM_AIS_AISSIM_H
#define MLC_SIM_AIS_AISSIM_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct aissim;

/* Starts serving on listen ("127.0.0.1:0" picks a free port). seed: the
 * "jde" section of the seed file (borrowed, may be NULL = empty tables and
 * default settings). *out: caller stops and frees with aissim_free. */
int aissim_start(const char *listen, const json_t *seed, struct aissim **out,
                 struct mlc_err *e);
/* The port actually bound. */
uint16_t aissim_port(const struct aissim *s);
/* Stops serving (waking any hung orchestration reply), then frees;
 * NULL-safe. */
void aissim_free(struct aissim *s);

#endif
