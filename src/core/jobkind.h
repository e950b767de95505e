/*
 * jobkind: the one registry of job kinds.
 *
 * Every job the connector queues has a kind (the handler that runs it) and
 * a key naming the resource it re-reads ("order:105"). This module names
 * them all, with the key prefixes each kind takes, and answers the one
 * question that every enqueuer and the daemon must answer alike: does a
 * daemon running this configuration have a handler for the kind?
 *
 *   kind           key                          handler when
 *   order.sync     order:<id>                   always
 *   customer.sync  customer:<id>                customers.enabled
 *   catalog.sync   product:<id>, sku:<id>       catalog.enabled
 *   noop           anything (a diagnostic)      MLC_DEBUG_JOBS=1 in the environment
 *
 * The daemon registers a handler for exactly the kinds jobkind_handled
 * accepts (it checks that at start), and every enqueuer (the webhook
 * endpoint, the reconcile sweep, `mlc sync`, `mlc jobs enqueue`,
 * `mlc replay`) refuses a kind it does not accept: a job never waits in
 * the queue for a handler that will not come.
 *
 * Lives in core/ because bc/ (the webhook's resource -> kind mapping) must
 * use it and may include only core/. Pure: static tables, no state.
 */
#ifndef MLC_CORE_JOBKIND_H
#define MLC_CORE_JOBKIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

/* The kinds. */
#define JOB_ORDER_SYNC    "order.sync"
#define JOB_CUSTOMER_SYNC "customer.sync"
#define JOB_CATALOG_SYNC  "catalog.sync"
#define JOB_NOOP          "noop"

/* The environment variable that enables the diagnostic kind noop. */
#define JOBKIND_DEBUG_ENV "MLC_DEBUG_JOBS"

/* The key prefixes (a prefix is followed by a decimal id). */
#define JOB_KEY_ORDER    "order:"
#define JOB_KEY_CUSTOMER "customer:"
#define JOB_KEY_PRODUCT  "product:"
#define JOB_KEY_SKU      "sku:"

#define JOBKIND_PREFIX_MAX 2

struct jobkind {
    const char *name;                          /* "order.sync" */
    const char *prefixes[JOBKIND_PREFIX_MAX];  /* key prefixes; none: any key */
    const char *enabled_by;                    /* config switch, "$VAR": environment
                                                  variable set to 1, NULL: always */
    const char *what;                          /* one line for people */
};

/* Number of kinds, and kind i (0 <= i < jobkind_count()). */
size_t jobkind_count(void);
const struct jobkind *jobkind_at(size_t i);
/* The kind named name, or NULL. */
const struct jobkind *jobkind_find(const char *name);

/* The kind whose keys start with "<type>:" ("order" -> order.sync,
 * "product" -> catalog.sync), or NULL when no kind re-reads such a
 * resource. Static string. */
const char *jobkind_of_resource(const char *type);

/* True when a daemon running cfg has a handler for kind. cfg NULL means
 * the defaults (every switch off). Unknown kinds: false. */
bool jobkind_handled(const struct mlc_config *cfg, const char *kind);

/* MLC_OK when kind is handled under cfg. Else MLC_EINVAL for a kind the
 * registry does not know, MLC_ESTATE for a known kind without a handler in
 * this configuration; e->msg reads
 *   "no handler for kind customer.sync in this configuration
 *    (customers.enabled is false)". */
int jobkind_check(const struct mlc_config *cfg, const char *kind, struct mlc_err *e);

/* MLC_OK when key suits kind: one of its prefixes followed by a positive
 * decimal id (any non-empty key for a kind without prefixes). *id (may be
 * NULL) receives the id, 0 for a kind without prefixes. MLC_EINVAL
 * otherwise, naming the expected shape. */
int jobkind_key_parse(const char *kind, const char *key, int64_t *id, struct mlc_err *e);

#endif
