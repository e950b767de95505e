/*
 * webhook: the BigCommerce webhook endpoint of `mlc run`,
 * POST /webhooks/bigcommerce — verify, store durably, answer.
 *
 * One delivery:
 *   1. authenticity (bc/bc_webhook): the custom header BCWH_SECRET_HEADER
 *      against bigcommerce.webhook_secret_ref's credential, and the Standard
 *      Webhooks signature keyed by bigcommerce.client_secret_ref's, each when
 *      configured (both configured: both must pass). Failure -> 401, nothing
 *      stored, a warn line with the reason (never a secret or a signature);
 *   2. the payload envelope (bcwh_parse). Malformed -> 400 with a JSON error
 *      {"error":"malformed payload","detail":"<path: problem>"}, logged;
 *   3. store_event_ingest (source "bigcommerce", the dedupe key of
 *      bcwh_dedupe_key, kind = scope, resource "order:105", payload = the
 *      raw body) with the job kind of the resource; the store coalesces a
 *      job still READY. Stored -> 200 {"status":"stored"}; seen before ->
 *      200 {"status":"duplicate"}; the store failed -> 503 (BigCommerce
 *      retries), never a 200 for something not stored.
 *      An order job is due at the next multiple of workers.gather_ms on
 *      the store's clock (webhook_set_gather): the orders whose webhooks
 *      arrive in the same window are fetched as one batch, instead of one
 *      batch each (a list call and a refunds call per order).
 *      A kind without a handler in this configuration (webhook_set_jobs;
 *      e.g. a product event with catalog.enabled false, from a hook not
 *      yet removed) is still acknowledged with a 200 and stored as an
 *      event, but without a job, with a warn line and the "unhandled"
 *      outcome: refusing it would only make BigCommerce retry it for a
 *      day and then deactivate the hook, and a job would wait forever.
 *   4. the observer (webhook_set_observer), if any, hears of the resource
 *      of every delivery stored or seen before, with or without a job: the
 *      daemon drops what it caches about a product (sync/env.h).
 * No upstream call is made: the job re-reads the resource later.
 *
 * The body cap (server.max_body_bytes -> 413) is httpd's, before the
 * handler runs.
 *
 * Threads: MHD calls the handler on several threads. A webhook owns ONE
 * store connection of its own, used under a mutex: SQLite has a single
 * writer anyway, so a pool would only queue on the database lock instead of
 * on the mutex, and one connection used by one thread at a time is what
 * SQLite's multi-thread mode requires. Counters are atomics.
 *
 * Secrets are read once, at start (webhook_from_config): rotating one needs
 * a restart, like server.* settings.
 */
#ifndef MLC_DAEMON_WEBHOOK_H
#define MLC_DAEMON_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/secret.h"
#include "net/httpd.h"
#include "store/store.h"

#define WEBHOOK_PATH   "/webhooks/bigcommerce"
#define WEBHOOK_SOURCE "bigcommerce"

struct webhook;

/* Deliveries by outcome since start (the labels of mlc_webhooks_total). */
struct webhook_stats {
    uint64_t stored;
    uint64_t duplicate;
    uint64_t unauthorized;
    uint64_t malformed;
    uint64_t error;
    uint64_t unhandled;  /* stored without a job: no handler for its kind */
};

/* Wall clock in Unix seconds (the timestamp window); ctx as given. */
typedef int64_t (*webhook_clock_fn)(void *ctx);

/* True when cfg names at least one webhook secret: without one the endpoint
 * is not served at all. */
bool webhook_enabled(const struct mlc_config *cfg);

/* An endpoint storing into store_url (its own connection, opened here
 * with password_ref as store_open_with does).
 * header_secret and sign_key are taken in every case (freed by webhook_free
 * or on failure); either may be NULL, not both (MLC_EINVAL). *out: caller
 * frees with webhook_free after the HTTP server stopped. */
int webhook_new(const char *store_url, const char *password_ref,
                struct mlc_secret *header_secret,
                struct mlc_secret *sign_key, struct webhook **out,
                struct mlc_err *e);

/* Loads the secrets cfg names through its vault from st (any open
 * connection; not kept), then webhook_new on cfg->store.url. A credential
 * that is named but not stored fails with the message saying how to store
 * it. */
int webhook_from_config(const struct mlc_config *cfg, struct store *st,
                        struct webhook **out, struct mlc_err *e);

/* Which job kinds deliveries may enqueue: those with a handler under cfg
 * (core/jobkind.h's jobkind_handled, the function the daemon registers its
 * handlers by). webhook_new starts with cfg NULL (the defaults: order.sync
 * only); webhook_from_config sets its cfg. Any thread. */
void webhook_set_jobs(struct webhook *w, const struct mlc_config *cfg);

/* The store's numeric id (bigcommerce.store_id: the API does not give
 * it): deliveries naming another store_id are then refused with 403, as
 * those whose producer is not stores/<bigcommerce.store_hash> always are
 * (bcwh_check_store). 0: unchecked. webhook_from_config sets both. */
void webhook_set_store_id(struct webhook *w, int64_t store_id);

/* Order jobs enqueued by deliveries are due at the next multiple of
 * gather_ms (store clock); 0: at once. webhook_from_config sets
 * cfg->workers.gather_ms. Any thread. */
void webhook_set_gather(struct webhook *w, int gather_ms);

/* Told the resource ("product:123") of every delivery that was stored or
 * seen before; called on the HTTP threads, so it must be quick and
 * thread-safe. ctx as given. */
typedef void (*webhook_observer_fn)(void *ctx, const char *resource);
/* Sets the observer (NULL: none); call before serving. */
void webhook_set_observer(struct webhook *w, webhook_observer_fn fn, void *ctx);

/* Replaces the wall clock (tests); call before serving. */
void webhook_set_clock(struct webhook *w, webhook_clock_fn fn, void *ctx);
/* Replaces the clock of the webhook's own store connection (tests: the
 * gather window's due times, the events' and jobs' stamps); call before
 * serving. See store_set_clock. */
void webhook_set_store_clock(struct webhook *w, store_clock_fn fn, void *ctx);

/* The httpd handler; ctx is the struct webhook. */
void webhook_handle(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx);

/* Counters so far; all zero for w NULL. Any thread. */
void webhook_stats(const struct webhook *w, struct webhook_stats *out);

/* Appends mlc_webhooks_total{outcome="..."} (HELP, TYPE, one line per
 * outcome, zeros for w NULL) to m. */
void webhook_metrics(const struct webhook *w, struct metrics *m);

void webhook_free(struct webhook *w); /* NULL-safe */

#endif
