/*
 * bcsim_hooks: webhook event fan-out and delivery.
 *
 * bcsim_hooks_emit builds one thin payload per event and queues a delivery
 * for every active hook whose scope matches (a hook scope ending in a
 * slash and a star matches every event below that prefix). One thread delivers with libcurl:
 * a POST with the hook's custom headers and a Standard Webhooks signature
 * (webhook-id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256
 * of id.timestamp.body>" keyed by the client secret's raw bytes). A 2xx
 * answer is success; anything else is retried after the documented delays
 * (60 s .. 86400 s) multiplied by the configured scale; after the last
 * retry the hook is set is_active=false. A duplicate (fault injection)
 * repeats the same webhook-id, body and hash.
 */
#ifndef MLC_SIM_BCSIM_HOOKS_H
#define MLC_SIM_BCSIM_HOOKS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bcsim;
struct bcsim_delivery;

struct bcsim_hookq {
    pthread_mutex_t        mu;
    pthread_cond_t         cv;
    pthread_t              thread;
    bool                   running;
    bool                   stop;
    struct bcsim_delivery *head;      /* pending, unordered */
    uint64_t               seq;       /* for webhook-id */
    /* statistics, under mu */
    uint64_t               emitted, attempts, delivered, failed_attempts;
    uint64_t               dropped, duplicated, deactivated;
};

/* Number of retries and their delays in seconds (the documented schedule). */
#define BCSIM_HOOK_RETRIES 11
extern const int64_t bcsim_hook_retry_s[BCSIM_HOOK_RETRIES];

int bcsim_hooks_start(struct bcsim *s, struct mlc_err *e);
/* Stops the thread and drops pending deliveries; idempotent. */
void bcsim_hooks_stop(struct bcsim *s);

/* Queues scope's event with data (stolen) for every matching active hook.
 * Called with s->mu held. */
void bcsim_hooks_emit(struct bcsim *s, const char *scope, json_t *data);

/* True when a hook scope (exact, or a prefix ending in a slash and a
 * star, like the wildcard store/order scope) covers event scope. */
bool bcsim_hooks_scope_match(const char *hook_scope, const char *event);

/* {"emitted","attempts","delivered","failed_attempts","dropped",
 *  "duplicated","deactivated","pending"} (new reference). */
json_t *bcsim_hooks_stats(struct bcsim *s);

#endif
