/*
 * bc_webhook: verifying and reading one BigCommerce webhook delivery.
 * Pure: no I/O, no clock (the caller passes "now"), no allocation that
 * outlives a call. daemon/webhook is the HTTP handler around it.
 *
 * Authenticity, two independent checks (the handler runs the configured
 * ones; both configured means both must pass):
 *
 *  1. The custom header. When the connector registers a hook it asks
 *     BigCommerce to send BCWH_SECRET_HEADER with a random secret (the
 *     credential named by bigcommerce.webhook_secret_ref) on every
 *     callback; bcwh_check_header compares it in constant time.
 *
 *  2. The Standard Webhooks signature, keyed by the app's client secret
 *     (bigcommerce.client_secret_ref): headers webhook-id, webhook-timestamp
 *     (Unix seconds) and webhook-signature, a space-separated list of
 *     "v1,<base64 of HMAC-SHA256 over id '.' timestamp '.' raw body>"; any
 *     one matching entry accepts, entries of other versions are ignored.
 *     The HMAC key is the client secret's raw bytes, as our BigCommerce fact
 *     sheet settles it (the Standard Webhooks samples hand those same bytes
 *     to their library base64-encoded; the simulator signs this way too).
 *     The timestamp must lie within BCWH_TOLERANCE_S of now, either way: a
 *     retry carries its own fresh timestamp and signature, so the window
 *     bounds replays without refusing legitimate retries.
 *
 * Error codes: MLC_EAUTH a header is missing, malformed or does not match;
 * MLC_ETIMEOUT the timestamp is outside the window; MLC_ECRYPTO no signature
 * matches. Messages name the header and the problem, never a secret, a
 * signature or an expected value.
 *
 * Payload (thin, re-fetched by the job): bcwh_parse reads the envelope
 * {scope, store_id, data{type, id}, hash, created_at} and derives the
 * resource key and job kind. Errors are MLC_EPARSE (not JSON) or json.h's
 * codes (MLC_ENOTFOUND, MLC_EPROTO, MLC_ERANGE) and MLC_EINVAL (a value of
 * the wrong shape), each message naming the JSON path:
 *   "webhook payload: data.id: missing".
 */
#ifndef MLC_BC_BC_WEBHOOK_H
#define MLC_BC_BC_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/secret.h"

/* The custom header registered with every hook (hook lifecycle code sends
 * it in the hook's "headers"; the endpoint requires it). */
#define BCWH_SECRET_HEADER "X-MLC-Webhook-Secret"

/* Standard Webhooks header names (matched case-insensitively by httpd). */
#define BCWH_HDR_ID        "webhook-id"
#define BCWH_HDR_TIMESTAMP "webhook-timestamp"
#define BCWH_HDR_SIGNATURE "webhook-signature"

/* Accepted distance between webhook-timestamp and now, in seconds. */
#define BCWH_TOLERANCE_S 300

/* Longest webhook-id accepted (it becomes part of the dedupe key). */
#define BCWH_ID_MAX 200

/* Constant-time comparison of the custom header's value (NULL when the
 * header is absent) with the stored secret. MLC_OK or MLC_EAUTH. */
int bcwh_check_header(const struct mlc_secret *want, const char *got,
                      struct mlc_err *e);

/* Verifies the Standard Webhooks signature of body[0..len) with key (the
 * client secret's raw bytes). id, timestamp and signature are the header
 * values (NULL when absent); now_s is the current Unix time. */
int bcwh_verify_signature(const struct mlc_secret *key, const char *id,
                          const char *timestamp, const char *signature,
                          const void *body, size_t len, int64_t now_s,
                          struct mlc_err *e);

/* The signature header value "v1,<base64>" for id, timestamp and body under
 * key (what a sender puts in webhook-signature; tests and the simulator's
 * counterpart). out must hold BCWH_SIG_MAX bytes. */
#define BCWH_SIG_MAX 64
int bcwh_sign(const struct mlc_secret *key, const char *id,
              const char *timestamp, const void *body, size_t len,
              char out[BCWH_SIG_MAX], struct mlc_err *e);

/* One parsed delivery. Strings are copies (fixed buffers: nothing to free). */
struct bcwh_event {
    char        scope[128];     /* "store/order/updated" */
    char        store_id[24];   /* decimal digits, from a string or a number */
    char        type[32];       /* data.type: "order", "customer", ... */
    char        id[72];         /* data.id as text ("105", a cart's UUID);
                                   a transaction's data.order_id */
    char        resource[112];  /* "order:105" (see bcwh_parse) */
    char        hash[72];       /* event hash (a digest of data) */
    char        producer[96];   /* "stores/<store_hash>"; "" when absent */
    int64_t     created_at;     /* Unix seconds */
    const char *job_kind;       /* static (core/jobkind.h), or NULL */
};

/* Parses the raw body. Required: scope (a string starting with "store/"),
 * store_id (string of digits, or a non-negative integer, normalised to
 * text), data (object) with type (string) and id (non-negative integer or a
 * string of letters, digits, '-' and '_'), hash (string) and created_at
 * (non-negative integer).
 *
 * Resource and job kind follow the resource a job must re-read (the kinds
 * and their key prefixes are core/jobkind.h's; whether the kind has a
 * handler in the running configuration is the endpoint's business):
 *   type order                 -> "order:<id>",    "order.sync"
 *   type transaction           -> "order:<data.order_id>", "order.sync"
 *                                 (transaction events name their order in
 *                                 order_id, which is then required; data.id
 *                                 is not)
 *   type customer              -> "customer:<id>", "customer.sync"; an
 *                                 address event (data.address.customer_id)
 *                                 -> "customer:<customer_id>"
 *   type product               -> "product:<id>",  "catalog.sync"
 *   type sku                   -> "product:<data.sku.product_id>",
 *                                 "catalog.sync" (a SKU id is not a variant
 *                                 id; its product is re-read); "sku:<id>"
 *                                 when the payload has no sku.product_id
 *   anything else              -> "<type>:<id>",   no job (stored only)
 * *out is cleared first. */
int bcwh_parse(const char *body, size_t len, struct bcwh_event *out,
               struct mlc_err *e);

/* The ids of a resource a job re-reads (orders, customers, products) are
 * BigCommerce's 32-bit ids: bcwh_parse refuses others (0, a sign, more
 * than BCWH_ID_MAX_VALUE) with MLC_EINVAL, so no job is made to be held. */
#define BCWH_ID_MAX_VALUE 2147483647LL

/* MLC_OK when the delivery is this store's: its producer, when present,
 * is "stores/<store_hash>", and its store_id is store_id when that is
 * known (> 0: bigcommerce.store_id; GET /v2/store gives the hash only). Otherwise
 * MLC_EAUTH, the message naming the field (a signed delivery of another
 * store that shares the app's secret, or a hook copied between stores). */
int bcwh_check_store(const struct bcwh_event *ev, const char *store_hash, int64_t store_id,
                     struct mlc_err *e);

/* The store's dedupe key of a delivery: "bc:id:<webhook-id>" when the
 * webhook-id header is present (retries and duplicates keep it), else
 * "bc:hash:<hash>:<created_at>" (the hash alone is shared by every update
 * of one resource). MLC_EINVAL for a webhook-id that is empty, longer than
 * BCWH_ID_MAX or not printable ASCII; MLC_ERANGE when cap is too small
 * (BCWH_KEY_MAX always suffices). */
#define BCWH_KEY_MAX 256
int bcwh_dedupe_key(const char *webhook_id, const struct bcwh_event *ev,
                    char *buf, size_t cap, struct mlc_err *e);

#endif
