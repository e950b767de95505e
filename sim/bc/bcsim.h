/*
 * bcsim: a BigCommerce store simulator (v2 orders, v3 transactions, refunds,
 * customers, catalog, webhooks) for tests, benchmarks and the demo.
 *
 * It serves /stores/{hash}/v2/... and /stores/{hash}/v3/... as the real API
 * documents them (shapes checked against the official OpenAPI specs), with
 * X-Auth-Token auth, per-store rate limiting, signed webhook delivery with
 * retries, fault injection, and a JSON control API under /__sim/ (see
 * docs/simulators-bigcommerce.md for the seed format and the control API).
 *
 * Thread safety: the simulator serves concurrently from its own threads;
 * the functions below are called from one thread (start, then free).
 */
#ifndef MLC_SIM_BCSIM_H
#define MLC_SIM_BCSIM_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bcsim;

/* Starts serving on listen ("127.0.0.1:0" picks a free port). seed: the
 * simulator's section of the seed file (may be NULL = empty store with
 * default settings); settings such as tokens, quotas, clock live in it. The
 * seed is read during the call only. *out: caller frees with bcsim_free. */
int bcsim_start(const char *listen, const json_t *seed, struct bcsim **out,
                struct mlc_err *e);
uint16_t bcsim_port(const struct bcsim *s);
/* Stops serving and webhook delivery, then frees; NULL-safe. */
void bcsim_free(struct bcsim *s);

#endif
