/*
 * pg_int: the private header of the PostgreSQL backend (src/store/pg_*).
 *
 * One libpq connection per struct pg_store, used by one thread at a time,
 * shared with other threads and processes only through the server.
 * Statements are PQprepare'd once per connection on first use; parameters
 * go as text (int64 printed in decimal), BYTEA as binary; results come
 * back as text, whole (no row-by-row mode), so a list callback may read
 * through the same connection.
 *
 * Isolation: READ COMMITTED, the server's default. Each statement sees
 * what was committed when it began, so every rule that two processes
 * could race on is made true by a lock taken before the statement that
 * checks it, never by a snapshot alone:
 *  - a claim locks its candidate rows (FOR UPDATE SKIP LOCKED: claims
 *    never wait for each other and never take the same row), then takes
 *    each candidate key's transaction advisory lock with a try-lock, and
 *    only then, in a new statement whose snapshot includes every claim of
 *    that key committed before, checks that no live lease holds the key
 *    and claims. Every way into "RUNNING with a live lease" is a claim, so
 *    the advisory lock serializes them per key: never two live jobs of one
 *    kind and key, even when a READY job and an expired RUNNING one of the
 *    same key are claimed at once by two connections;
 *  - every way to make a job READY (enqueue, retry, defer, pause, replay,
 *    release) takes the same key lock, blocking, before it looks for a
 *    READY twin, so "one READY job per (kind, key)" never meets a unique
 *    violation;
 *  - a settle (done, retry, hold...) reads its job FOR UPDATE, so the
 *    owner check and the write see the same row;
 *  - a fenced ledger write reads the entity's RUNNING job FOR SHARE in its
 *    own transaction: a takeover (a claim's FOR UPDATE) skips that row
 *    until the write commits, so no takeover lands between the check and
 *    the write; store_lease_check reads the lease row FOR SHARE likewise;
 *  - shared records are read FOR UPDATE.
 * SERIALIZABLE would add retries on every conflict and still need these
 * locks to say who wins; READ COMMITTED with explicit locks is simpler to
 * reason about and never fails a statement for a benign overlap.
 *
 * Lost connections: a statement that finds the connection broken fails
 * with MLC_EIO ("store: connection lost ..."); nothing half-done commits
 * (the server rolls the transaction back). Outside a transaction the next
 * call reconnects (a fresh PQconnectdbParams, statements prepared again);
 * a statement that opens a transaction or only reads is retried once on
 * the new connection. Inside the caller's transaction every call fails
 * until the caller rolls back (the commit says the transaction is lost),
 * so a transaction is never silently split in two.
 *
 * Password: never in the URL. libpq reads PGPASSFILE or ~/.pgpass by
 * itself; a password_ref ("file:PATH" or "systemd:NAME") is read at each
 * connect, passed to libpq as the "password" keyword and wiped.
 *
 * Files: pg_sql (every SQL text: schema steps and statements), pg_query
 * (one statement at a time, errors), pg_conn (connect, reconnect, the
 * password), pg_db (open, migrate, transactions, the ops table), and one
 * file per entity: pg_events, pg_jobs (enqueue, claim, reads), pg_jobs_settle
 * (what store_settle needs to move a job out of RUNNING; resume), pg_ledger, pg_audit, pg_watermarks,
 * pg_secrets, pg_leases, pg_shared, pg_export.
 *
 * Ownership: a struct pg_store owns its connection, its URL and password
 * reference copies. A struct pg_q owns its result until pg_q_end; pg_text
 * points into it; pg_dup returns a copy the caller frees.
 */
#ifndef MLC_STORE_PG_INT_H
#define MLC_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "store/store_settle.h"
#include "store/store_sql.h"

/* ---- statements (text in pg_sql.c; column lists in store_sql.h) -------- */

enum pg_id {
    PG_BEGIN, PG_BEGIN_SNAPSHOT, PG_COMMIT, PG_ROLLBACK, PG_SAVEPOINT,
    PG_RELEASE, PG_ROLLBACK_TO,
    PG_MIGRATE_LOCK, PG_VERSION_HAS_TABLE, PG_VERSION_TABLE, PG_VERSION,
    PG_VERSION_ADD,
    PG_EVENT_INSERT,
    PG_KEY_LOCK, PG_JOB_COALESCE, PG_JOB_INSERT, PG_JOB_CANDIDATES,
    PG_KEYS_TRY_LOCK, PG_JOB_CLAIM, PG_JOB_GET, PG_JOB_GET_LOCKED,
    PG_JOB_EXTEND, PG_JOB_SETTLE, PG_JOB_ABSORB_TWIN, PG_JOB_LIST,
    PG_JOB_LIST_STATE, PG_JOB_COUNT, PG_JOB_RUNNING_IDS, PG_JOB_FENCE,
    PG_JOB_PAUSE_MARK, PG_JOB_HOLD_MARK, PG_JOB_DISMISS_MARK, PG_JOB_DISMISSAL,
    PG_JOBS_RESUME, PG_JOBS_PAUSED, PG_JOBS_PAUSED_ALL,
    PG_WM_GET, PG_WM_SET,
    PG_LEDGER_GET, PG_LEDGER_INSERT, PG_LEDGER_LOCK, PG_LEDGER_UNKNOWN,
    PG_LEDGER_POSTED, PG_LEDGER_DELETE, PG_LEDGER_LIST, PG_LEDGER_LIST_ENTITY,
    PG_AUDIT_INSERT, PG_AUDIT_LIST, PG_AUDIT_LIST_ENTITY,
    PG_REPORT_ADD, PG_REPORT_LATEST, PG_REPORT_LATEST_DAY,
    PG_EXPORT_REPORTS, PG_IMPORT_REPORT,
    PG_ALERT_ADD, PG_ALERT_LIST, PG_ALERT_PRUNE, PG_EXPORT_ALERTS, PG_IMPORT_ALERT,
    PG_SECRET_PUT, PG_SECRET_GET, PG_SECRET_DELETE, PG_SECRET_LIST,
    PG_LEASE_TAKE, PG_LEASE_CHECK, PG_LEASE_DROP, PG_LEASE_GET,
    PG_LEASE_FORGET, PG_LEASE_EXISTS, PG_LEASE_LIST,
    PG_SHARED_LOCK, PG_SHARED_CREATE, PG_SHARED_SET, PG_SHARED_ASYNC,
    PG_EXPORT_EVENTS, PG_EXPORT_JOBS, PG_EXPORT_LEDGER, PG_EXPORT_AUDIT,
    PG_EXPORT_WATERMARKS, PG_EXPORT_SECRETS,
    PG_IMPORT_EVENT, PG_IMPORT_JOB, PG_IMPORT_LEDGER, PG_IMPORT_AUDIT,
    PG_IMPORT_WATERMARK, PG_IMPORT_SECRET, PG_IMPORT_FINISH,
    PG_GAUGES,
    PG_COUNT
};

extern const char *const pg_sql[PG_COUNT];

/* Schema steps, applied in order; step n brings the schema to version n
 * (the same numbers as SQLite's, so store_schema_version agrees). */
extern const char *const pg_migrations[];
extern const int pg_schema_steps;

/* The two keys of the advisory lock every migration holds. */
#define PG_MIGRATE_LOCK_CLASS 0x4d4c43 /* "MLC" */
#define PG_MIGRATE_LOCK_OBJ   1

/* ---- connection -------------------------------------------------------- */

struct pg_store {
    struct store base;              /* first: &s->base is the handle */
    PGconn      *conn;              /* never NULL after open */
    char        *url;               /* libpq URI, no password */
    char        *password_ref;      /* "file:..."/"systemd:..." or NULL */
    bool         prepared[PG_COUNT];
    bool         walking[PG_COUNT]; /* a list callback is running */
};

static inline struct pg_store *pg_of(struct store *st)
{
    return (struct pg_store *)st;
}

static inline int64_t pg_now(struct pg_store *s)
{
    return store_now_ms(&s->base);
}

/* pg_conn.c: a new connection from s->url and s->password_ref. Always
 * leaves a PGconn in s->conn (a broken one on failure: the next call tries
 * again) and forgets the prepared statements. */
int pg_connect(struct pg_store *s, struct mlc_err *e);
bool pg_conn_ok(const struct pg_store *s);
/* Reads the password named by ref into buf (NUL-terminated, no newline). */
int pg_password_read(const char *ref, char *buf, size_t cap,
                     struct mlc_err *e);

/* ---- one statement at a time (pg_query.c) ------------------------------ */

#define PG_MAX_PARAMS 24

/* A query in progress: binds record the first failure (out of memory, too
 * many parameters), pg_q_exec reports it or runs the statement; the rows
 * stay in res until pg_q_end. */
struct pg_q {
    struct pg_store *s;
    enum pg_id       id;
    const char      *op;
    int              n;
    bool             oom;
    const char      *vals[PG_MAX_PARAMS];
    int              lens[PG_MAX_PARAMS];
    int              fmts[PG_MAX_PARAMS];
    char             nums[PG_MAX_PARAMS][24];
    char            *owned[PG_MAX_PARAMS]; /* freed by pg_q_end */
    PGresult        *res;
    int              rows;
};

void pg_q_init(struct pg_q *q, struct pg_store *s, enum pg_id id,
               const char *op);
void pg_q_int(struct pg_q *q, int64_t v);
/* NULL binds SQL NULL. Borrowed until pg_q_end. */
void pg_q_text(struct pg_q *q, const char *v);
/* Takes v (malloc'd; NULL records out of memory). */
void pg_q_text_owned(struct pg_q *q, char *v);
void pg_q_bytea(struct pg_q *q, const void *v, size_t len);
/* Runs the statement: MLC_OK with q->rows set, or the error. */
int pg_q_exec(struct pg_q *q, struct mlc_err *e);
void pg_q_end(struct pg_q *q);
/* Runs a statement without parameters (BEGIN, COMMIT, ...). */
int pg_run(struct pg_store *s, enum pg_id id, const char *op,
           struct mlc_err *e);

/* Column readers of q->res. NULL reads as 0 / NULL. */
int64_t pg_int(const struct pg_q *q, int row, int col);
bool pg_null(const struct pg_q *q, int row, int col);
const char *pg_text(const struct pg_q *q, int row, int col);
/* A copy; NULL stays NULL, *oom set when the copy fails. */
char *pg_dup(const struct pg_q *q, int row, int col, bool *oom);

/* BYTEA text ("\x0102...") into a fresh malloc'd buffer the caller
 * frees (1 byte for an empty one: success always returns non-NULL). */
int pg_bytea_copy(const char *text, void **out, size_t *len,
                  struct mlc_err *e);

/* Array literals for $n::text[] and $n::bigint[] (caller frees; NULL when
 * out of memory). */
char *pg_text_array(const char *const *v);
char *pg_int_array(const int64_t *v, size_t n);

/* The advisory lock key of a job's (kind, key): FNV-1a 64 of kind, 0x1f,
 * key. Every process must compute the same value: never change it. */
int64_t pg_key_lock_id(const char *kind, const char *key);

/* ---- transactions (pg_db.c) -------------------------------------------- */

/* Depth 0 -> 1 is BEGIN, deeper levels are savepoints. */
int pg_tx_enter(struct pg_store *s, struct mlc_err *e);
/* Ends what pg_tx_enter began: commit when rc is MLC_OK, else roll back;
 * returns rc, or the commit's failure. */
int pg_tx_leave(struct pg_store *s, int rc, struct mlc_err *e);

/* ---- jobs: what pg_jobs.c lends the other entity files ------------------ */

/* Reads a row of STORE_JOB_COLUMNS into j (zeroed by the caller). */
int pg_read_job(const struct pg_q *q, int row, struct store_job *j,
                struct mlc_err *e);
/* j arrives zeroed and is cleared again on failure; the caller clears it.
 * locked: the row is read FOR UPDATE (inside a transaction). */
int pg_job_load(struct pg_store *s, int64_t id, bool locked,
                struct store_job *j, struct mlc_err *e);
/* pg_job_load locked, then MLC_ESTATE unless owner holds the lease. */
int pg_job_load_owned(struct pg_store *s, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e);
/* These two are also the settle rules' settle and requeue primitives. */
int pg_job_settle(struct store *st, int64_t id, const struct store_settle *to,
                  struct mlc_err *e);
/* READY again at to->run_at, a READY twin of (kind, key) folded in. */
int pg_job_requeue(struct store *st, const struct store_job *j,
                   struct store_settle *to, struct mlc_err *e);
/* Blocks until this transaction holds the (kind, key) advisory lock. */
int pg_key_lock(struct pg_store *s, const char *kind, const char *key,
                struct mlc_err *e);
/* Enqueue inside the caller's transaction (event ingest shares it). */
int pg_job_enqueue_tx(struct pg_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      bool *coalesced, struct mlc_err *e);

/* ---- the ops of each entity file (see struct store_ops) ---------------- */

int pg_event_ingest(struct store *st, const struct store_event *ev,
                    const char *job_kind, bool *inserted, struct mlc_err *e);

int pg_job_enqueue(struct store *st, const char *kind, const char *key,
                   const char *payload, int64_t run_at, int64_t *id,
                   bool *coalesced, struct mlc_err *e);
int pg_job_claim(struct store *st, const char *owner,
                 const char *const *kinds, int64_t lease_ms,
                 struct store_job *out, struct mlc_err *e);
int pg_job_claim_batch(struct store *st, const char *owner,
                       const char *const *kinds, int64_t lease_ms,
                       size_t max, struct store_job *out, size_t *n,
                       struct mlc_err *e);
int pg_job_extend(struct store *st, int64_t id, const char *owner,
                  int64_t lease_ms, struct mlc_err *e);
int pg_job_get(struct store *st, int64_t id, struct store_job *out,
               struct mlc_err *e);
int pg_job_list(struct store *st, int state, size_t limit,
                int (*fn)(const struct store_job *j, void *ctx), void *ctx,
                struct mlc_err *e);
int pg_job_count(struct store *st, enum store_job_state state, int64_t *out,
                 struct mlc_err *e);

int pg_lease_forget(struct store *st, const char *name, struct mlc_err *e);
int pg_lease_list(struct store *st, const char *prefix,
                  int (*fn)(const struct store_lease *l, void *ctx), void *ctx,
                  struct mlc_err *e);
/* The settle rules' primitives (pg_jobs_settle.c; store_settle.h). */
extern const struct store_settle_ops pg_settle_ops;
int pg_jobs_resume(struct store *st, const char *system, int64_t *n,
                   struct mlc_err *e);
int pg_job_hold_mark(struct store *st, int64_t id, const struct store_hold *h,
                     struct mlc_err *e);
int pg_job_dismiss_mark(struct store *st, int64_t id, const char *by,
                        const char *note, struct mlc_err *e);
int pg_dismissal_get(struct store *st, const char *key, struct store_dismissal *out,
                     struct mlc_err *e);
int pg_jobs_paused_count(struct store *st, const char *system, int64_t *out,
                         struct mlc_err *e);
int pg_gauges_read(struct store *st, struct store_gauges *out, struct mlc_err *e);

int pg_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                 const char *body, bool *added, struct mlc_err *e);
int pg_alert_list(struct store *st, int64_t after_id, size_t limit,
                  int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                  struct mlc_err *e);
int pg_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms,
                   int64_t *n, struct mlc_err *e);
int pg_report_add(struct store *st, const char *kind, const char *day,
                  const char *body, int64_t differences, int64_t *id_out,
                  struct mlc_err *e);
int pg_report_latest(struct store *st, const char *kind, const char *day,
                     struct store_report *out, struct mlc_err *e);
int pg_watermark_get(struct store *st, const char *name, char *buf,
                     size_t cap, struct mlc_err *e);
int pg_watermark_set(struct store *st, const char *name, const char *value,
                     struct mlc_err *e);

int pg_ledger_get(struct store *st, const char *key, struct store_ledger *out,
                  struct mlc_err *e);
int pg_ledger_begin(struct store *st, const char *key, const char *kind,
                    const char *entity, const char *request,
                    struct mlc_err *e);
int pg_ledger_mark_unknown(struct store *st, const char *key,
                           struct mlc_err *e);
int pg_ledger_mark_posted(struct store *st, const char *key,
                          const char *doc_type, const char *doc_company,
                          int64_t doc_number, int64_t batch,
                          struct mlc_err *e);
int pg_ledger_forget(struct store *st, const char *key, struct mlc_err *e);
int pg_ledger_list(struct store *st, const char *entity,
                   int (*fn)(const struct store_ledger *l, void *ctx),
                   void *ctx, struct mlc_err *e);

int pg_audit_add(struct store *st, const struct store_audit *a,
                 struct mlc_err *e);
int pg_audit_list(struct store *st, const char *entity, size_t limit,
                  int (*fn)(const struct store_audit *a, void *ctx),
                  void *ctx, struct mlc_err *e);

int pg_secret_put(struct store *st, const char *name, const void *blob,
                  size_t len, struct mlc_err *e);
int pg_secret_get(struct store *st, const char *name, void **blob,
                  size_t *len, struct mlc_err *e);
int pg_secret_delete(struct store *st, const char *name, struct mlc_err *e);
int pg_secret_list(struct store *st,
                   int (*fn)(const char *name, int64_t updated_at, void *ctx),
                   void *ctx, struct mlc_err *e);

int pg_lease_take(struct store *st, const char *name, const char *holder,
                  int64_t ttl_ms, int64_t *token, struct mlc_err *e);
int pg_lease_check(struct store *st, const char *name, const char *holder,
                   int64_t token, struct mlc_err *e);
int pg_lease_drop(struct store *st, const char *name, const char *holder,
                  struct mlc_err *e);
int pg_lease_get(struct store *st, const char *name, struct store_lease *out,
                 struct mlc_err *e);

int pg_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e);

int pg_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e);
int pg_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e);
int pg_import_finish(struct store *st, struct mlc_err *e);

#endif
