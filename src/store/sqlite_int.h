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
 * (every way out of RUNNING, pauses), sqlite_ledger, sqlite_audit,
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

/* ---- statements (text in sqlite_sql.c) --------------------------------- */

/*
 * Row columns, each list written once: it makes both the column text of the
 * SELECT and the enum its reader indexes, so the two cannot drift. X(id,
 * name) is one column, SEP goes between two. Plain SQL names, no SQLite.
 */
#define SQ_JOB_COLUMNS(X, SEP) \
    X(JOB_COL_ID, "id") SEP X(JOB_COL_KIND, "kind") SEP \
    X(JOB_COL_KEY, "key") SEP X(JOB_COL_PAYLOAD, "payload") SEP \
    X(JOB_COL_STATE, "state") SEP X(JOB_COL_ATTEMPTS, "attempts") SEP \
    X(JOB_COL_RUN_AT, "run_at") SEP X(JOB_COL_OWNER, "owner") SEP \
    X(JOB_COL_LEASE_UNTIL, "lease_until") SEP \
    X(JOB_COL_LAST_ERROR, "last_error") SEP \
    X(JOB_COL_CREATED_AT, "created_at") SEP \
    X(JOB_COL_UPDATED_AT, "updated_at") SEP X(JOB_COL_PAUSED_ON, "paused_on")

/* The READY twin of a (kind, key): what coalescing needs. */
#define SQ_TWIN_COLUMNS(X, SEP) \
    X(TWIN_COL_ID, "id") SEP X(TWIN_COL_RUN_AT, "run_at")

#define SQ_LEDGER_COLUMNS(X, SEP) \
    X(LEDGER_COL_KEY, "key") SEP X(LEDGER_COL_KIND, "kind") SEP \
    X(LEDGER_COL_ENTITY, "entity") SEP X(LEDGER_COL_STATE, "state") SEP \
    X(LEDGER_COL_DOC_TYPE, "doc_type") SEP \
    X(LEDGER_COL_DOC_COMPANY, "doc_company") SEP \
    X(LEDGER_COL_DOC_NUMBER, "doc_number") SEP \
    X(LEDGER_COL_BATCH, "batch") SEP X(LEDGER_COL_REQUEST, "request") SEP \
    X(LEDGER_COL_CREATED_AT, "created_at") SEP \
    X(LEDGER_COL_UPDATED_AT, "updated_at")

#define SQ_AUDIT_COLUMNS(X, SEP) \
    X(AUDIT_COL_ID, "id") SEP X(AUDIT_COL_AT, "at") SEP \
    X(AUDIT_COL_ACTOR, "actor") SEP X(AUDIT_COL_ENTITY, "entity") SEP \
    X(AUDIT_COL_ACTION, "action") SEP X(AUDIT_COL_OUTCOME, "outcome") SEP \
    X(AUDIT_COL_DETAIL, "detail")

/* The listing of credential names (the blobs stay behind). */
#define SQ_SECRET_COLUMNS(X, SEP) \
    X(SECRET_COL_NAME, "name") SEP X(SECRET_COL_UPDATED_AT, "updated_at")

#define SQ_LEASE_COLUMNS(X, SEP) \
    X(LEASE_COL_NAME, "name") SEP X(LEASE_COL_HOLDER, "holder") SEP \
    X(LEASE_COL_UNTIL, "until") SEP X(LEASE_COL_TOKEN, "token")

#define SQ_COL_ENUM(id, name) id,
#define SQ_COL_NAME(id, name) name

enum sq_job_col { SQ_JOB_COLUMNS(SQ_COL_ENUM, ) JOB_COL_COUNT };
enum sq_twin_col { SQ_TWIN_COLUMNS(SQ_COL_ENUM, ) TWIN_COL_COUNT };
enum sq_ledger_col { SQ_LEDGER_COLUMNS(SQ_COL_ENUM, ) LEDGER_COL_COUNT };
enum sq_audit_col { SQ_AUDIT_COLUMNS(SQ_COL_ENUM, ) AUDIT_COL_COUNT };
enum sq_secret_col { SQ_SECRET_COLUMNS(SQ_COL_ENUM, ) SECRET_COL_COUNT };
enum sq_lease_col { SQ_LEASE_COLUMNS(SQ_COL_ENUM, ) LEASE_COL_COUNT };

/* "id, kind, ...": the column text of each list above. */
#define JOB_COLS    SQ_JOB_COLUMNS(SQ_COL_NAME, ", ")
#define TWIN_COLS   SQ_TWIN_COLUMNS(SQ_COL_NAME, ", ")
#define LEDGER_COLS SQ_LEDGER_COLUMNS(SQ_COL_NAME, ", ")
#define AUDIT_COLS  SQ_AUDIT_COLUMNS(SQ_COL_NAME, ", ")
#define SECRET_COLS SQ_SECRET_COLUMNS(SQ_COL_NAME, ", ")
#define LEASE_COLS  SQ_LEASE_COLUMNS(SQ_COL_NAME, ", ")

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
    SQ_JOB_PAUSE_MARK, SQ_JOBS_RESUME, SQ_JOBS_PAUSED, SQ_JOBS_PAUSED_ALL,
    SQ_LEASE_TAKE, SQ_LEASE_CHECK, SQ_LEASE_DROP, SQ_LEASE_GET,
    SQ_SHARED_GET, SQ_SHARED_PUT,
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

/* Where a job goes when it leaves RUNNING (or HELD/FAILED on replay). */
struct sq_settle {
    enum store_job_state state;
    int64_t              run_at;
    int                  attempts;
    const char          *last_error;
};

/* j arrives zeroed and is cleared again on failure; the caller clears it. */
int sq_job_load(struct sq_store *s, int64_t id, struct store_job *j,
                struct mlc_err *e);
/* sq_job_load, then MLC_ESTATE unless owner holds the job's lease. */
int sq_job_load_owned(struct sq_store *s, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e);
int sq_job_settle(struct sq_store *s, int64_t id, const struct sq_settle *to,
                  struct mlc_err *e);
/* READY again at to->run_at, a READY twin of (kind, key) folded in. */
int sq_job_requeue(struct sq_store *s, const struct store_job *j,
                   struct sq_settle *to, struct mlc_err *e);
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

int sq_job_done(struct store *st, int64_t id, const char *owner,
                struct mlc_err *e);
int sq_job_hold(struct store *st, int64_t id, const char *owner,
                const char *reason, struct mlc_err *e);
int sq_job_retry(struct store *st, int64_t id, const char *owner,
                 const char *error, int max_attempts, bool *failed,
                 struct mlc_err *e);
int sq_job_defer(struct store *st, int64_t id, const char *owner,
                 int64_t run_at, const char *reason, struct mlc_err *e);
int sq_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e);
int sq_job_replay(struct store *st, int64_t id, struct mlc_err *e);
int sq_job_hold_idle(struct store *st, int64_t id, const char *reason,
                     struct mlc_err *e);
int sq_job_pause(struct store *st, int64_t id, const char *owner,
                 const char *system, const char *reason, int64_t recheck_ms,
                 struct mlc_err *e);
int sq_jobs_resume(struct store *st, const char *system, int64_t *n,
                   struct mlc_err *e);
int sq_jobs_paused_count(struct store *st, const char *system, int64_t *out,
                         struct mlc_err *e);

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

int sq_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e);
int sq_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e);
int sq_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e);
int sq_import_finish(struct store *st, struct mlc_err *e);

#endif
