/*
 * hooks: the webhook registrations the connector needs, kept in shape.
 *
 * hooks_ensure runs at start and every schedule.hooks_interval. For each
 * scope in the wanted list (hooks_wanted) one hook must exist with
 * destination = bigcommerce.webhook_public_url, is_active true and the
 * custom header BCWH_SECRET_HEADER carrying the webhook secret. It creates
 * what is missing (also a hook deleted behind our back), re-activates what
 * BigCommerce deactivated (PUT is_active), rewrites a missing or wrong
 * secret header, moves one of our hooks whose destination is stale (the
 * public URL changed) and deletes our hooks for scopes no longer wanted.
 *
 * Which hooks are "ours": destination equal to the public URL, or a hook
 * elsewhere whose custom header carries our secret (only this connector
 * knows it, so it registered that hook under an earlier URL). Everything
 * else — other destinations of the same API account, another connector
 * instance with its own secret — is foreign and never touched.
 *
 * /v3/hooks/admin is read first: a hook of ours that BigCommerce
 * deactivated after failed deliveries, and a blocked destination domain of
 * ours, are logged at warn and audited before being repaired. Every change
 * is audited (actor "scheduler", entity "hook:<id>" or "hooks", action
 * create|reactivate|update|delete|deactivated|blocked), never with the
 * secret. The secret is formatted only into request bodies, wiped after
 * use; secret header values read back from BigCommerce are wiped too.
 *
 * Without webhook_public_url the connector polls only: hooks_ensure logs
 * that once per call and does nothing (out->skipped). The daemon calls it
 * once at start and schedules it only when hooks_enabled(cfg).
 */
#ifndef MLC_SYNC_HOOKS_H
#define MLC_SYNC_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "store/store.h"

struct bc_client;

/*
 * The scopes, by the job kind their events enqueue (the webhook endpoint
 * maps order and transaction events to order.sync, customer events to
 * customer.sync, product and sku events to catalog.sync); a scope is
 * wanted exactly when its kind has a handler (core/jobkind.h), so turning
 * a flow off removes our hooks of its scopes at the next check:
 *   always                 store/order/<all>    (the wildcard: created,
 *                          updated, statusUpdated, refund/created, ...)
 *   customers.enabled      store/customer/<all> (customer and address)
 *   catalog.enabled        store/product/{created,updated,deleted},
 *                          store/sku/{created,updated,deleted}
 * where <all> stands for the trailing wildcard. The catalog scopes are
 * listed one by one: their wildcards would add an inventory event for
 * every item sold, which the catalog flow does not use.
 */
#define HOOKS_SCOPES_MAX 8

/* The scopes cfg asks for (static strings) into out; returns the count. */
size_t hooks_wanted(const struct mlc_config *cfg,
                    const char *out[HOOKS_SCOPES_MAX]);

/* True when a public URL is configured (hooks can be registered). */
bool hooks_enabled(const struct mlc_config *cfg);

struct hooks_report {
    bool   skipped;      /* no webhook_public_url: nothing was done */
    size_t wanted;       /* scopes asked for */
    size_t ok;           /* already right, untouched */
    size_t created;
    size_t reactivated;
    size_t updated;      /* header or destination rewritten */
    size_t deleted;      /* ours, for a scope no longer wanted */
    size_t foreign;      /* hooks of other destinations, left alone */
    size_t deactivated;  /* ours, found deactivated by BigCommerce */
    size_t blocked;      /* blocked destination domains that are ours */
    size_t failed;       /* changes that BigCommerce refused */
};

/* Brings the registrations in line (see above). header_secret may be NULL
 * when only the signature authenticates deliveries (no custom header is
 * registered then). st receives the audit rows. A failed change does not
 * stop the others: the first error is returned after all were tried. */
int hooks_ensure(struct bc_client *bc, const struct mlc_config *cfg,
                 const struct mlc_secret *header_secret, struct store *st,
                 struct hooks_report *out, struct mlc_err *e);

#endif
