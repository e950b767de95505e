/*
 * daemon: `mlc run` — the worker pool, the HTTP server and the scheduler
 * under one main thread that owns signals and configuration reloads.
 *
 * Threads: the caller blocks SIGTERM, SIGINT and SIGHUP (daemon_block_signals)
 * before any thread exists, so every thread inherits the mask and only the
 * main thread takes them, synchronously, with sigtimedwait in daemon_loop. It
 * also ticks the scheduler between signals. No signal handlers exist.
 *
 *   SIGTERM/SIGINT  stop accepting HTTP, drain the workers within
 *                   workers.drain_timeout_s, log a summary; exit status 0, or
 *                   1 when the drain deadline passed.
 *   SIGHUP          reload the config file; a broken file is logged
 *                   ("config reload rejected") and the old config stays.
 *                   Jobs pick the new config up at their next start.
 *                   server.*, workers.count and store.url need a restart.
 *
 * HTTP: GET /healthz (200 while serving: liveness only), GET /readyz (200
 * when the store answers, all workers run and no health condition is set,
 * else 503 listing every reason, one JSON object per line with its
 * "condition"), GET /metrics (Prometheus text, the conditions included),
 * and POST /webhooks/bigcommerce (daemon/webhook.h) when a webhook secret
 * is configured; its secrets are loaded at start.
 *
 * Health (core/health.h): the daemon owns the registry; the workers report
 * the store's writability, the AIS session and the BigCommerce clients
 * their systems, start_flows a flow disabled by a start-up error. The
 * "health" task (schedule.health_probe_interval) asks a failing system once
 * (env_probe), resumes the paused jobs of a system that answers again
 * (store_jobs_resume; a system that fails again right after each resume is
 * resumed less and less often) and records the conditions in the store
 * (watermark "health.conditions", for mlc ping). Order and customer jobs
 * run under a health watch: a run that failed because its own calls found
 * a system down or refusing our credentials is paused (WORKERS_PAUSE), not
 * retried.
 *
 * Flows: daemon_start sets the GL-date time zone (tz_init, before any
 * thread), builds the flows' shared runtime (sync/env.h: credentials, the
 * BigCommerce pacer, the AIS session, the accounts cache), registers a
 * handler for exactly the job kinds core/jobkind.h's jobkind_handled
 * accepts under the config (order.sync always, customer.sync with
 * customers.enabled, catalog.sync with catalog.enabled; checked at start)
 * and the scheduler tasks hooks (when a public webhook URL is set),
 * reconcile, accounts_refresh and catalog_poll (on the leader only, see
 * daemon/leader.h), ais_keepalive and accounts_follow (on every process:
 * its own AIS session; dropping its account cache when the leader's
 * refresh moved the store's "accounts.refreshed" mark). A missing
 * BigCommerce or JDE credential disables the flows with an error in the
 * log and the "flows.disabled" health condition (webhooks are still
 * stored; their jobs wait for a restart with the credentials). Jobs already queued whose kind has no handler under the
 * config are held at start (daemon/orphans.h), never left waiting.
 * Which kinds have a handler is fixed at start: a reload that changes it
 * logs that a restart is needed. On SIGTERM the pacer is shut first, so no worker waits for
 * BigCommerce budget during the drain; the AIS session is logged out after.
 *
 * Usage: daemon_block_signals; daemon_launch; daemon_loop; daemon_free.
 */
#ifndef MLC_DAEMON_DAEMON_H
#define MLC_DAEMON_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "daemon/sched.h"
#include "daemon/workers.h"

struct daemon;

/* Blocks the signals the daemon waits for in the calling thread (and so in
 * every thread created after). */
int daemon_block_signals(struct mlc_err *e);

/* Builds the daemon, opens the store once (migrations, fail fast), starts
 * the workers and the HTTP server, and logs "ready". While a shared store (PostgreSQL)
 * cannot be reached, it frees the half-started daemon and starts again,
 * every second for up to 60 s or until SIGTERM/SIGINT (needs
 * daemon_block_signals first). *out: set even on failure (may be NULL);
 * caller frees with daemon_free. */
int daemon_launch(const char *config_path, struct mlc_config *cfg, bool log_level_fixed,
                  struct daemon **out, struct mlc_err *e);

/* Waits for signals and ticks the scheduler until SIGTERM/SIGINT, then stops.
 * Returns the process exit status (0, or 1 when the drain timed out). */
int daemon_loop(struct daemon *d);

void daemon_free(struct daemon *d); /* NULL-safe; stops what still runs */

#endif
