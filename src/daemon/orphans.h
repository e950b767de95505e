/*
 * orphans: queued jobs whose kind has no handler under the configuration.
 *
 * The daemon registers a handler for exactly the kinds core/jobkind.h's
 * jobkind_handled accepts; a job queued before (under another
 * configuration, or before a flow was turned off) would otherwise wait in
 * the queue forever, since no worker claims its kind. orphans_hold, called
 * by daemon_start before the workers start, holds every such job with the
 * reason of jobkind_check, so that `mlc held` shows it and `mlc replay`
 * puts it back once the configuration has the handler again.
 */
#ifndef MLC_DAEMON_ORPHANS_H
#define MLC_DAEMON_ORPHANS_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* Holds every READY job, and every RUNNING one whose lease expired, whose
 * kind has no handler under cfg (jobkind_handled), with the reason of
 * jobkind_check ("no handler for kind customer.sync in this configuration
 * (customers.enabled is false)"), each with one audit row (actor "daemon",
 * entity the job key, action the kind, outcome "held") in the hold's
 * transaction, and logs one warning per kind with the count. A RUNNING job
 * under a live lease (another process) is left alone and counted in the
 * warning. *held: jobs held. */
int orphans_hold(struct store *st, const struct mlc_config *cfg, size_t *held,
                 struct mlc_err *e);

#endif
