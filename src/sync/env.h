/*
 * env: the shared runtime of the flows (orders, hooks, reconcile, backfill).
 *
 * One struct env per process holds what every flow needs and what must be
 * shared rather than duplicated:
 *   - the configuration it was built from (a reference; BigCommerce and AIS
 *     connection settings are read once, a reload needs a restart for them;
 *     posting rules are read from the job's current config instead);
 *   - the BigCommerce credential and the store's one request pacer (the
 *     quota is per store, so every client of every thread spends it once);
 *   - the one AIS session (single-flight re-login, login back-off from
 *     jde.login_backoff_s);
 *   - the chart-of-accounts cache (sync/accounts.h);
 *   - the catalog categories of products (sync/catcache.h), for
 *     posting.revenue_by_category; env_resource_changed drops a product's
 *     entry when a webhook says the product changed;
 *   - one bc_client per thread, created on first use by env_bc (a libcurl
 *     handle is not shared between threads) and freed by env_free.
 *
 * Threads: env_new and env_free from one thread, while no other thread uses
 * the env; everything else from any thread.
 *
 * Secrets: env_new loads the BigCommerce token (bigcommerce.token_ref) and
 * the JDE password (jde.password_ref) from the store through the vault
 * (store/credentials.h; the key file or MLC_MASTER_KEY). They never leave
 * the env except as secret headers of the clients.
 */
#ifndef MLC_SYNC_ENV_H
#define MLC_SYNC_ENV_H

#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "store/store.h"

struct env;
struct bc_client;
struct pacer;
struct ais_session;
struct acct_cache;
struct catcache;

/* Builds the env for cfg (a reference is taken), loading both credentials
 * from st (borrowed for the call only). MLC_ENOTFOUND names a credential
 * that is not stored and says how to store it. *out: caller frees with
 * env_free. */
int env_new(struct mlc_config *cfg, struct store *st, struct env **out,
            struct mlc_err *e);

/* The same with the credentials given (copied; tests, tools). */
int env_new_with(struct mlc_config *cfg, const struct mlc_secret *bc_token,
                 const struct mlc_secret *jde_password, struct env **out,
                 struct mlc_err *e);

/* Stops every wait on the pacer (shutdown: a worker blocked for budget
 * returns MLC_ESTATE at once). Thread-safe, idempotent. */
void env_shutdown(struct env *env);

/* Logs out of AIS (best effort, logged), frees the per-thread clients, the
 * session, the pacer and the secrets. No other thread may use env any more.
 * NULL-safe. */
void env_free(struct env *env);

/* This thread's BigCommerce client, created on first call (borrowed: valid
 * until env_free; never share it with another thread). */
int env_bc(struct env *env, struct bc_client **out, struct mlc_err *e);

/* A new client of its own (caller frees with bc_client_free before
 * env_free), e.g. for a short-lived thread. */
int env_bc_client_new(struct env *env, struct bc_client **out, struct mlc_err *e);

/* Shared pieces (borrowed, valid while env lives). */
struct pacer *env_pacer(struct env *env);
struct ais_session *env_ais(struct env *env);
struct acct_cache *env_accounts(struct env *env);
struct catcache *env_categories(struct env *env);

/* A webhook said resource ("product:123", "order:5", ...) changed: what
 * the env caches about it is dropped (a product's categories). Anything
 * else is ignored. Any thread (the webhook endpoint's). */
void env_resource_changed(struct env *env, const char *resource);

struct health;
/* Makes every client report to h (borrowed; may be NULL): the AIS session
 * at once, BigCommerce clients from their creation on. Call right after
 * env_new, before other threads use the env. */
void env_set_health(struct env *env, struct health *h);
struct health *env_health(const struct env *env); /* NULL-safe */

/* One cheap question to system ("jde": ais_session_touch, which within a
 * login back-off fails at once without a network call; "bigcommerce": GET
 * /v2/store through the pacer, one attempt, no retry). The clients report
 * what they find to the health registry. One thread at a time (the
 * scheduler's): it owns the probe's BigCommerce client. */
int env_probe(struct env *env, const char *system, struct mlc_err *e);

/* Scheduler task bodies (sched_fn shape: ctx is the env). */
/* AIS keep-alive: ais_session_touch (re-logs in when the token died). */
int env_task_keepalive(void *env, struct mlc_err *e);
/* Chart-of-accounts refresh: makes every cached account and business unit
 * stale, so that each is read from F0901 / F0006 again on its next use
 * (cheap: no AIS call on the scheduler thread; see acct_invalidate). */
int env_task_accounts(void *env, struct mlc_err *e);

#endif
