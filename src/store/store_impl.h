/*
 * store_impl: what a store backend implements (internal to src/store/).
 *
 * store.c checks arguments once and dispatches every public store_* call
 * through struct store_ops, so a backend sees only valid input (non-NULL
 * required strings, positive leases, run_at already resolved from 0 to now)
 * and a new backend plugs in without any caller change.
 *
 * A backend allocates its own struct that embeds struct store as its first
 * member, fills it with store_base_init and returns &impl->base; its close
 * op frees the whole thing. Output structs (store_job, store_ledger) arrive
 * zeroed; a backend clears them again when it fails. Every write runs in
 * its own transaction, or in a savepoint when tx_depth > 0.
 */
#ifndef MLC_STORE_STORE_IMPL_H
#define MLC_STORE_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* Retry delays used by store_job_retry until store_set_backoff says else. */
#define STORE_BACKOFF_BASE_MS 1000
#define STORE_BACKOFF_CAP_MS  (15 * 60 * 1000)

struct store_settle_ops;

struct store_ops {
    const char *name; /* "sqlite", "postgresql" */

    void (*close)(struct store *st); /* rolls back, frees st */
    int (*schema_version)(struct store *st, int *out, struct mlc_err *e);
    /* Both may be NULL (no write-ahead log to keep). */
    void (*log_upkeep)(struct store *st, bool on);
    int (*log_checkpoint)(struct store *st, struct mlc_err *e);

    int (*tx_begin)(struct store *st, struct mlc_err *e);
    int (*tx_commit)(struct store *st, struct mlc_err *e);
    void (*tx_rollback)(struct store *st);

    int (*event_ingest)(struct store *st, const struct store_event *ev,
                        const char *job_kind, bool *inserted,
                        struct mlc_err *e);

    int (*job_enqueue)(struct store *st, const char *kind, const char *key,
                       const char *payload, int64_t run_at, int64_t *id_out,
                       bool *coalesced, struct mlc_err *e);
    int (*job_claim)(struct store *st, const char *owner,
                     const char *const *kinds, int64_t lease_ms,
                     struct store_job *out, struct mlc_err *e);
    /* May be NULL: store.c then claims one at a time in a transaction. */
    int (*job_claim_batch)(struct store *st, const char *owner,
                           const char *const *kinds, int64_t lease_ms,
                           size_t max, struct store_job *out, size_t *n,
                           struct mlc_err *e);
    int (*job_extend)(struct store *st, int64_t id, const char *owner,
                      int64_t lease_ms, struct mlc_err *e);
    int (*job_done)(struct store *st, int64_t id, const char *owner,
                    struct mlc_err *e);
    int (*job_retry)(struct store *st, int64_t id, const char *owner,
                     const char *error, int max_attempts, bool *failed,
                     struct mlc_err *e);
    int (*job_hold)(struct store *st, int64_t id, const char *owner,
                    const char *reason, struct mlc_err *e);
    int (*job_defer)(struct store *st, int64_t id, const char *owner,
                     int64_t run_at, const char *reason, struct mlc_err *e);
    int (*job_release_leases)(struct store *st, int64_t *n, struct mlc_err *e);
    int (*job_replay)(struct store *st, int64_t id, struct mlc_err *e);
    int (*job_hold_idle)(struct store *st, int64_t id, const char *reason,
                         struct mlc_err *e);
    int (*job_get)(struct store *st, int64_t id, struct store_job *out,
                   struct mlc_err *e);
    int (*job_list)(struct store *st, int state, size_t limit,
                    int (*fn)(const struct store_job *j, void *ctx),
                    void *ctx, struct mlc_err *e);
    int (*job_count)(struct store *st, enum store_job_state state,
                     int64_t *out, struct mlc_err *e);

    int (*watermark_get)(struct store *st, const char *name, char *buf,
                         size_t cap, struct mlc_err *e);
    int (*watermark_set)(struct store *st, const char *name,
                         const char *value, struct mlc_err *e);

    int (*ledger_get)(struct store *st, const char *key,
                      struct store_ledger *out, struct mlc_err *e);
    int (*ledger_begin)(struct store *st, const char *key, const char *kind,
                        const char *entity, const char *request,
                        struct mlc_err *e);
    int (*ledger_mark_unknown)(struct store *st, const char *key,
                               struct mlc_err *e);
    int (*ledger_mark_posted)(struct store *st, const char *key,
                              const char *doc_type, const char *doc_company,
                              int64_t doc_number, int64_t batch,
                              struct mlc_err *e);
    int (*ledger_forget)(struct store *st, const char *key,
                         struct mlc_err *e);
    int (*ledger_list)(struct store *st, const char *entity,
                       int (*fn)(const struct store_ledger *l, void *ctx),
                       void *ctx, struct mlc_err *e);

    int (*audit_add)(struct store *st, const struct store_audit *a,
                     struct mlc_err *e);
    int (*audit_list)(struct store *st, const char *entity, size_t limit,
                      int (*fn)(const struct store_audit *a, void *ctx),
                      void *ctx, struct mlc_err *e);

    int (*secret_put)(struct store *st, const char *name, const void *blob,
                      size_t len, struct mlc_err *e);
    int (*secret_get)(struct store *st, const char *name, void **blob,
                      size_t *len, struct mlc_err *e);
    int (*secret_delete)(struct store *st, const char *name,
                         struct mlc_err *e);
    int (*secret_list)(struct store *st,
                       int (*fn)(const char *name, int64_t updated_at,
                                 void *ctx),
                       void *ctx, struct mlc_err *e);

    /* Paused jobs (store.h); system is never NULL in pause and resume. */
    int (*job_pause)(struct store *st, int64_t id, const char *owner,
                     const char *system, const char *reason,
                     int64_t recheck_ms, struct mlc_err *e);
    int (*jobs_resume)(struct store *st, const char *system, int64_t *n,
                       struct mlc_err *e);
    int (*jobs_paused_count)(struct store *st, const char *system,
                             int64_t *out, struct mlc_err *e);
    /* out zeroed by the caller. */
    int (*gauges_read)(struct store *st, struct store_gauges *out,
                       struct mlc_err *e);
    /* Hold details and dismissals (store.h): plain writes of job id's
     * columns; the callers in store.c check the state in their own
     * transaction. by NULL clears a dismissal. */
    int (*job_hold_mark)(struct store *st, int64_t id, const struct store_hold *h,
                         struct mlc_err *e);
    int (*job_dismiss_mark)(struct store *st, int64_t id, const char *by,
                            const char *note, struct mlc_err *e);
    int (*dismissal_get)(struct store *st, const char *key,
                         struct store_dismissal *out, struct mlc_err *e);
    /* Named leases (store.h); ttl_ms > 0, strings non-NULL. */
    int (*lease_take)(struct store *st, const char *name, const char *holder,
                      int64_t ttl_ms, int64_t *token, struct mlc_err *e);
    int (*lease_check)(struct store *st, const char *name,
                       const char *holder, int64_t token, struct mlc_err *e);
    int (*lease_drop)(struct store *st, const char *name, const char *holder,
                      struct mlc_err *e);
    int (*lease_get)(struct store *st, const char *name,
                     struct store_lease *out, struct mlc_err *e);
    int (*lease_forget)(struct store *st, const char *name,
                        struct mlc_err *e);
    int (*lease_list)(struct store *st, const char *prefix,
                      int (*fn)(const struct store_lease *l, void *ctx),
                      void *ctx, struct mlc_err *e);
    int (*job_release_owner)(struct store *st, const char *prefix, int64_t *n,
                             struct mlc_err *e);

    /* Stored reports (store.h); strings non-NULL except day in latest. */
    int (*report_add)(struct store *st, const char *kind, const char *day,
                      const char *body, int64_t differences, int64_t *id_out,
                      struct mlc_err *e);
    int (*report_latest)(struct store *st, const char *kind, const char *day,
                         struct store_report *out, struct mlc_err *e);

    /* The alerts outbox (store.h); strings non-NULL. */
    int (*alert_add)(struct store *st, const char *dedupe_key, const char *reason,
                     const char *body, bool *added, struct mlc_err *e);
    int (*alert_list)(struct store *st, int64_t after_id, size_t limit,
                      int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                      struct mlc_err *e);
    int (*alert_prune)(struct store *st, int64_t upto_id, int64_t before_ms,
                       int64_t *n, struct mlc_err *e);

    /* Shared records (store.h); never called inside a transaction. */
    int (*shared_update)(struct store *st, const char *name,
                         store_shared_fn fn, void *ctx, struct mlc_err *e);

    /* Moving an installation (store.h); table < STORE_TABLE_COUNT. */
    int (*export_rows)(struct store *st, enum store_table table,
                       int (*fn)(const struct store_row *r, void *ctx),
                       void *ctx, struct mlc_err *e);
    int (*import_row)(struct store *st, const struct store_row *r,
                      struct mlc_err *e);
    int (*import_finish)(struct store *st, struct mlc_err *e);

    /* What the settle rules (store_settle.h) need from the backend; the
     * job_done ... job_release_owner entries above are those rules. */
    const struct store_settle_ops *settle;
};

/* The part every backend shares; embedded first in the backend's struct. */
struct store {
    const struct store_ops *ops;
    store_clock_fn          clock;       /* never NULL */
    void                   *clock_ctx;
    int64_t                 backoff_base_ms;
    int64_t                 backoff_cap_ms;
    int                     tx_depth;    /* 0: no transaction; >1: nested */
    char                   *fence_owner; /* store_fence; NULL: no fence */
    char                   *fence_lease; /* store_fence_lease: name, */
    char                   *fence_holder;/* holder and token; NULL: none */
    int64_t                 fence_token;
};

/* Sets ops, the realtime clock and the default backoff. */
void store_base_init(struct store *st, const struct store_ops *ops);

/* A uniformly random 32-bit value for backoff jitter (getrandom). */
uint32_t store_random_u32(void);

/* "pending"/"posted"/"unknown" -> state; MLC_EINVAL otherwise. */
int store_ledger_state_parse(const char *name, enum store_ledger_state *out);

/* The SQLite file path of a store URL (a path, sqlite:PATH, sqlite://PATH;
 * borrowed from url); MLC_EINVAL for another scheme. */
int store_sqlite_path(const char *url, const char **path, struct mlc_err *e);
/* postgresql:// or postgres://. */
bool store_url_is_pg(const char *url);

/* Backends. path: a file path (":memory:" for a private in-memory db). */
int store_sqlite_open(const char *path, struct store **out,
                      struct mlc_err *e);
/* url: a libpq URI without a password; password_ref: see store_open_with
 * (NULL or "": libpq's own sources). */
int store_pg_open(const char *url, const char *password_ref,
                  struct store **out, struct mlc_err *e);

#endif
