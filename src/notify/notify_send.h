/*
 * notify_send: the one sender of alerts. On the leader only (daemon.c), it
 * reads the outbox past each channel's cursor, builds that channel's
 * digest (digest.h) when the channel is due, sends it, and moves the
 * cursor only after the channel accepted. A failing channel backs off on
 * its own (5 s doubling, at most the digest interval); the others go on.
 * It also turns long health conditions into "system down" alerts and
 * their end into "recovered" (nsend_health).
 *
 * Cursors are durable (watermark "alerts.sent.<channel>": "<last id>
 * <sent at ms>"), so a new leader neither repeats nor skips a digest;
 * backoff and the health watch live in struct nsend, in memory.
 *
 * Threads: a struct nsend belongs to one thread (the scheduler's).
 */
#ifndef MLC_NOTIFY_NOTIFY_SEND_H
#define MLC_NOTIFY_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/health.h"
#include "store/store.h"

#define NSEND_WM_PREFIX "alerts.sent."
#define NSEND_KEEP_MS   (7LL * 24 * 3600 * 1000) /* sent alerts kept for mlc notify list */

struct nsend;

/* *out: caller frees with nsend_free. */
int nsend_new(struct nsend **out, struct mlc_err *e);
void nsend_free(struct nsend *s); /* NULL-safe */

/* One pass over every configured channel (see above); a channel's failure
 * is logged and retried later, never returned. Errors are the store's. */
int nsend_run(struct nsend *s, const struct mlc_config *cfg, struct store *st, int64_t now_ms,
              struct mlc_err *e);

/* Alerts for the conditions of BigCommerce, JDE and the store (conds[0..n),
 * health_list) set longer than alerts.down_after_s, and for their end. */
int nsend_health(struct nsend *s, const struct mlc_config *cfg, struct store *st,
                 const struct health_cond *conds, size_t n, int64_t now_ms, struct mlc_err *e);

/* A channel's cursor: the last alert id it accepted and when. */
struct nsend_cursor {
    int64_t last_id;
    int64_t sent_ms;
};
int nsend_cursor_get(struct store *st, const char *channel, struct nsend_cursor *c,
                     struct mlc_err *e);

/* ---- mlc notify ----------------------------------------------------------- */

/* What one channel answered. */
struct nsend_result {
    const char *name;
    const char *type;   /* "webhook", "email" */
    int         rc;
    struct mlc_err err; /* when rc != MLC_OK; never holds a secret */
};

/* Sends one test message to each channel (only: that one, NULL: all) and
 * calls fn with each result. MLC_ENOTFOUND when only names no channel;
 * else MLC_OK even when channels failed (the results say). */
int nsend_test(const struct mlc_config *cfg, struct store *st, const char *only,
               void (*fn)(const struct nsend_result *r, void *ctx), void *ctx,
               struct mlc_err *e);

#endif
