/*
 * sqlite_int: the private header of the SQLite backend (src/store/sqlite_*).
 *
 * One connection per struct sq_store (SQLITE_OPEN_NOMUTEX: one thread at a
 * time). WAL journal, synchronous=FULL: a commit that returned is on disk.
 * Every write runs in BEGIN IMMEDIATE, or in a savepoint inside the
 * caller's transaction, so writers queue on the busy timeout instead of
 * failing when a read snapshot turns stale. Statements are prepared once
 * per connection and reset right after use so no read snapshot lingers.
 *
 * Files: sqlite_sql (every SQL text: schema steps and statements),
 * sqlite_query (one statement at a time), sqlite_db (open, migrate,
 * transactions, log upkeep, the ops table), and one file per entity:
 * sqlite_events, sqlite_jobs (enqueue, claim, reads), sqlite_jobs_settle
 * (what store_settle needs to move a job out of RUNNING; resume), sqlite_ledger, sqlite_audit,
 * sqlite_watermarks, sqlite_secrets (the credential rows), sqlite_leases
 * (named leases), sqlite_shared (shared records), sqlite_export (rows out
 * and in for a migration).
 *
 * Ownership: a struct sq_store owns its connection and its statements
 * (the close op frees them). Values bound through sq_q_* are borrowed until
 * sq_q_end; sq_col_text points into the statement until the next step;
 * sq_col_dup returns a copy the caller frees.
 */
#ifndef MLC_STORE_SQLITE_INT_H
#define MLC_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "store/store_settle.h"
#include "store/store_sql.h"

/* ---- statements (text in sqlite_sql.c; column lists in store_sql.h) ---- */

/* The named parameter of each column (":id"), for an INSERT of whole rows
 * (STORE_*_COLUMNS(SQ_COL_PARAM, ", ")). */
#define SQ_COL_PARAM(id, name) ":" name

enum sq_id {
    SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK, SQ_SAVEPOINT, SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_VERSION_TABLE, SQ_VERSION_HAS_TABLE, SQ_VERSION, SQ_VERSION_ADD,
    SQ_EVENT_INSERT,
    SQ_JOB_FIND_READY, SQ_JOB_INSERT, SQ_JOB_PULL_RUN_AT, SQ_JOB_CLAIM,
    SQ_JOB_EXTEND, SQ_JOB_SETTLE, SQ_JOB_DELETE, SQ_JOB_GET, SQ_JOB_LIST,
    SQ_JOB_LIST_STATE, SQ_JOB_COUNT, SQ_JOB_RUNNING_IDS, SQ_JOB_FENCE,
    SQ_WM_GET, SQ_WM_SET,
    SQ_LEDGER_GET, SQ_LEDGER_INSERT, SQ_LEDGER_STATE, SQ_LEDGER_UNKNOWN,
    SQ_LEDGER_POSTED, SQ_LEDGER_DELETE, SQ_LEDGER_LIST, SQ_LEDGER_ENTITY,
    SQ_LEDGER_LIST_ENTITY,
    SQ_AUDIT_INSERT, SQ_AUDIT_LIST, SQ_AUDIT_LIST_ENTITY,
    SQ_SECRET_PUT, SQ_SECRET_GET, SQ_SECRET_DELETE, SQ_SECRET_LIST,
    SQ_JOB_PAUSE_MARK, SQ_JOB_HOLD_MARK, SQ_JOB_DISMISS_MARK, SQ_JOB_DISMISSAL,
    SQ_JOBS_RESUME, SQ_JOBS_PAUSED, SQ_JOBS_PAUSED_ALL,
    SQ_LEASE_TAKE, SQ_LEASE_CHECK, SQ_LEASE_DROP, SQ_LEASE_GET,
    SQ_LEASE_FORGET, SQ_LEASE_EXISTS, SQ_LEASE_LIST,
    SQ_EXPORT_EVENTS, SQ_EXPORT_JOBS, SQ_EXPORT_LEDGER, SQ_EXPORT_AUDIT,
    SQ_EXPORT_WATERMARKS, SQ_EXPORT_SECRETS, SQ_EXPORT_REPORTS, SQ_EXPORT_ALERTS,
    SQ_IMPORT_EVENT, SQ_IMPORT_JOB, SQ_IMPORT_LEDGER, SQ_IMPORT_AUDIT,
    SQ_IMPORT_WATERMARK, SQ_IMPORT_SECRET, SQ_IMPORT_REPORT, SQ_IMPORT_ALERT,
    SQ_ALERT_ADD, SQ_ALERT_LIST, SQ_ALERT_PRUNE,
    SQ_REPORT_ADD, SQ_REPORT_LATEST, SQ_REPORT_LATEST_DAY,
    SQ_SHARED_GET, SQ_SHARED_PUT,
    SQ_GAUGES,
    SQ_COUNT
};

extern const char *const sq_sql[SQ_COUNT];

/* Schema steps, applied in order; step n brings the schema to version n. */
extern const char *const sq_migrations[];
extern const int sq_schema_steps;

/* ---- connection -------------------------------------------------------- */

struct sq_store {
    struct store  base;             /* first: &s->base is the handle */
    sqlite3      *db;
    sqlite3_stmt *stmts[SQ_COUNT];  /* prepared on first use */
};

static inline struct sq_store *sq_of(struct store *st)
{
    return (struct sq_store *)st;
}

static inline int64_t sq_now(struct sq_store *s)
{
    return store_now_ms(&s->base);
}

/* SQLite reads a negative LIMIT as "no limit". */
static inline int64_t sq_limit(size_t limit)
{
    return limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
}

/* Turns an SQLite failure into an mlc error naming the operation. */
int sq_fail(struct sq_store *s, int rc, const char *op, struct mlc_err *e);

/* ---- one statement at a time (sqlite_query.c) -------------------------- */

/* A query in progress: binds and steps record the first SQLite error in rc,
 * sq_q_end reports it and resets the statement. */
struct sq_q {
    struct sq_store *s;
    sqlite3_stmt    *stmt;
    int              rc;
    const char      *op;
};

/* Prepares statement id on first use; MLC_ESTATE when a list callback
 * calls back into a statement that is still walking its rows. */
int sq_q_begin(struct sq_q *q, struct sq_store *s, enum sq_id id,
               const char *op, struct mlc_err *e);
void sq_q_int(struct sq_q *q, const char *name, int64_t v);
/* NULL binds SQL NULL. */
void sq_q_text(struct sq_q *q, const char *name, const char *v);
void sq_q_blob(struct sq_q *q, const char *name, const void *v, size_t len);
/* SQLITE_ROW, SQLITE_DONE, or the error (also kept in q->rc). */
int sq_q_step(struct sq_q *q);
/* Rows changed by the last sq_q_step of an INSERT/UPDATE/DELETE. */
int sq_q_changes(const struct sq_q *q);
/* Reports the first error (before the reset can lose it), resets. */
int sq_q_end(struct sq_q *q, struct mlc_err *e);
/* Runs a statement without parameters or rows (BEGIN, COMMIT, ...). */
int sq_q_run(struct sq_store *s, enum sq_id id, const char *op,
             struct mlc_err *e);

/* Copies a text column; NULL stays NULL, *oom is set when strdup fails. */
char *sq_col_dup(sqlite3_stmt *stmt, int i, bool *oom);
const char *sq_col_text(sqlite3_stmt *stmt, int i);

/* ---- transactions (sqlite_db.c) ---------------------------------------- */

/* Depth 0 -> 1 is BEGIN IMMEDIATE, deeper levels are savepoints. */
int sq_tx_enter(struct sq_store *s, struct mlc_err *e);
/* Ends what sq_tx_enter began: commit when rc is MLC_OK, else roll back;
 * returns rc, or the commit's failure. */
int sq_tx_leave(struct sq_store *s, int rc, struct mlc_err *e);

/* ---- jobs: what sqlite_jobs.c lends the other entity files ------------- */

/* j arrives zeroed and is cleared again on failure; the caller clears it. */
int sq_job_load(struct sq_store *s, int64_t id, struct store_job *j,
                struct mlc_err *e);
/* sq_job_load, then MLC_ESTATE unless owner holds the job's lease. */
int sq_job_load_owned(struct sq_store *s, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e);
/* These two are also the settle rules' settle and requeue primitives. */
int sq_job_settle(struct store *st, int64_t id, const struct store_settle *to,
                  struct mlc_err *e);
/* READY again at to->run_at, a READY twin of (kind, key) folded in. */
int sq_job_requeue(struct store *st, const struct store_job *j,
                   struct store_settle *to, struct mlc_err *e);
/* Enqueue inside the caller's transaction (event ingest shares it). */
int sq_job_enqueue_tx(struct sq_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      bool *coalesced, struct mlc_err *e);

/* ---- the ops of each entity file (see struct store_ops) ---------------- */

int sq_event_ingest(struct store *st, const struct store_event *ev,
                    const char *job_kind, bool *inserted, struct mlc_err *e);

int sq_job_enqueue(struct store *st, const char *kind, const char *key,
                   const char *payload, int64_t run_at, int64_t *id,
                   bool *coalesced, struct mlc_err *e);
int sq_job_claim(struct store *st, const char *owner,
                 const char *const *kinds, int64_t lease_ms,
                 struct store_job *out, struct mlc_err *e);
int sq_job_claim_batch(struct store *st, const char *owner,
                       const char *const *kinds, int64_t lease_ms,
                       size_t max, struct store_job *out, size_t *n,
                       struct mlc_err *e);
int sq_job_extend(struct store *st, int64_t id, const char *owner,
                  int64_t lease_ms, struct mlc_err *e);
int sq_job_get(struct store *st, int64_t id, struct store_job *out,
               struct mlc_err *e);
int sq_job_list(struct store *st, int state, size_t limit,
                int (*fn)(const struct store_job *j, void *ctx), void *ctx,
                struct mlc_err *e);
int sq_job_count(struct store *st, enum store_job_state state, int64_t *out,
                 struct mlc_err *e);

/* The settle rules' primitives (sqlite_jobs_settle.c; store_settle.h). */
extern const struct store_settle_ops sq_settle_ops;
int sq_jobs_resume(struct store *st, const char *system, int64_t *n,
                   struct mlc_err *e);
int sq_job_hold_mark(struct store *st, int64_t id, const struct store_hold *h,
                     struct mlc_err *e);
int sq_job_dismiss_mark(struct store *st, int64_t id, const char *by,
                        const char *note, struct mlc_err *e);
int sq_dismissal_get(struct store *st, const char *key, struct store_dismissal *out,
                     struct mlc_err *e);
int sq_jobs_paused_count(struct store *st, const char *system, int64_t *out,
                         struct mlc_err *e);
int sq_gauges_read(struct store *st, struct store_gauges *out, struct mlc_err *e);

int sq_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                 const char *body, bool *added, struct mlc_err *e);
int sq_alert_list(struct store *st, int64_t after_id, size_t limit,
                  int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                  struct mlc_err *e);
int sq_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms,
                   int64_t *n, struct mlc_err *e);
int sq_report_add(struct store *st, const char *kind, const char *day,
                  const char *body, int64_t differences, int64_t *id_out,
                  struct mlc_err *e);
int sq_report_latest(struct store *st, const char *kind, const char *day,
                     struct store_report *out, struct mlc_err *e);
int sq_watermark_get(struct store *st, const char *name, char *buf,
                     size_t cap, struct mlc_err *e);
int sq_watermark_set(struct store *st, const char *name, const char *value,
                     struct mlc_err *e);

int sq_ledger_get(struct store *st, const char *key, struct store_ledger *out,
                  struct mlc_err *e);
int sq_ledger_begin(struct store *st, const char *key, const char *kind,
                    const char *entity, const char *request,
                    struct mlc_err *e);
int sq_ledger_mark_unknown(struct store *st, const char *key,
                           struct mlc_err *e);
int sq_ledger_mark_posted(struct store *st, const char *key,
                          const char *doc_type, const char *doc_company,
                          int64_t doc_number, int64_t batch,
                          struct mlc_err *e);
int sq_ledger_forget(struct store *st, const char *key, struct mlc_err *e);
int sq_ledger_list(struct store *st, const char *entity,
                   int (*fn)(const struct store_ledger *l, void *ctx),
                   void *ctx, struct mlc_err *e);

int sq_audit_add(struct store *st, const struct store_audit *a,
                 struct mlc_err *e);
int sq_audit_list(struct store *st, const char *entity, size_t limit,
                  int (*fn)(const struct store_audit *a, void *ctx),
                  void *ctx, struct mlc_err *e);

int sq_secret_put(struct store *st, const char *name, const void *blob,
                  size_t len, struct mlc_err *e);
int sq_secret_get(struct store *st, const char *name, void **blob,
                  size_t *len, struct mlc_err *e);
int sq_secret_delete(struct store *st, const char *name, struct mlc_err *e);
int sq_secret_list(struct store *st,
                   int (*fn)(const char *name, int64_t updated_at, void *ctx),
                   void *ctx, struct mlc_err *e);

int sq_lease_take(struct store *st, const char *name, const char *holder,
                  int64_t ttl_ms, int64_t *token, struct mlc_err *e);
int sq_lease_check(struct store *st, const char *name, const char *holder,
                   int64_t token, struct mlc_err *e);
int sq_lease_drop(struct store *st, const char *name, const char *holder,
                  struct mlc_err *e);
int sq_lease_get(struct store *st, const char *name, struct store_lease *out,
                 struct mlc_err *e);
int sq_lease_forget(struct store *st, const char *name, struct mlc_err *e);
int sq_lease_list(struct store *st, const char *prefix,
                  int (*fn)(const struct store_lease *l, void *ctx), void *ctx,
                  struct mlc_err *e);

int sq_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e);
/* Rows out and in as is, for mlc store migrate (sqlite_export.c). */
int sq_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e);
int sq_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e);
int sq_import_finish(struct store *st, struct mlc_err *e);

#endif
