/*
 * store_sqlite: the embedded SQLite backend of the state store.
 *
 * One connection per struct store (SQLITE_OPEN_NOMUTEX: one thread at a
 * time). WAL journal, synchronous=FULL: a commit that returned is on disk.
 * Every write runs in BEGIN IMMEDIATE, or in a savepoint inside the
 * caller's transaction, so writers queue on the busy timeout instead of
 * failing when a read snapshot turns stale. Statements are prepared once
 * per connection and reset right after use so no read snapshot lingers.
 *
 * Jobs: "at most one READY job per (kind, key)" is enforced by a partial
 * unique index, the claim is one UPDATE ... WHERE id = (SELECT ...)
 * RETURNING inside the write lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_impl.h"

#define BUSY_TIMEOUT_MS 5000

/* ---- schema ------------------------------------------------------------ */

/* Applied in order, each in its own transaction; never edit a shipped step,
 * append a new one. */
static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE events ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  source      TEXT NOT NULL,"
    "  dedupe_key  TEXT NOT NULL UNIQUE,"
    "  kind        TEXT NOT NULL,"
    "  resource    TEXT,"
    "  payload     TEXT,"
    "  received_at INTEGER NOT NULL"
    ") STRICT;"

    "CREATE TABLE jobs ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind        TEXT NOT NULL,"
    "  key         TEXT NOT NULL,"
    "  payload     TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN"
    "                ('ready', 'running', 'done', 'held', 'failed')),"
    "  attempts    INTEGER NOT NULL DEFAULT 0,"
    "  run_at      INTEGER NOT NULL,"
    "  owner       TEXT,"
    "  lease_until INTEGER NOT NULL DEFAULT 0,"
    "  last_error  TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ") STRICT;"
    /* Claim order over the live jobs only: done ones never slow it down. */
    "CREATE INDEX jobs_claim ON jobs (run_at, id)"
    "  WHERE state IN ('ready', 'running');"
    /* Coalescing: two READY jobs for one resource cannot exist. */
    "CREATE UNIQUE INDEX jobs_ready_key ON jobs (kind, key)"
    "  WHERE state = 'ready';"
    "CREATE INDEX jobs_running_key ON jobs (kind, key)"
    "  WHERE state = 'running';"
    "CREATE INDEX jobs_state ON jobs (state, id);"

    "CREATE TABLE watermarks ("
    "  name       TEXT PRIMARY KEY,"
    "  value      TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;"

    "CREATE TABLE ledger ("
    "  key         TEXT PRIMARY KEY,"
    "  kind        TEXT NOT NULL,"
    "  entity      TEXT NOT NULL,"
    "  state       TEXT NOT NULL CHECK (state IN"
    "                ('pending', 'posted', 'unknown')),"
    "  doc_type    TEXT,"
    "  doc_company TEXT,"
    "  doc_number  INTEGER NOT NULL DEFAULT 0,"
    "  batch       INTEGER NOT NULL DEFAULT 0,"
    "  request     TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX ledger_entity ON ledger (entity, created_at);"

    "CREATE TABLE audit ("
    "  id      INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at      INTEGER NOT NULL,"
    "  actor   TEXT NOT NULL,"
    "  entity  TEXT NOT NULL,"
    "  action  TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  detail  TEXT"
    ") STRICT;"
    "CREATE INDEX audit_entity ON audit (entity, id);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"

    "CREATE TABLE secrets ("
    "  name       TEXT PRIMARY KEY,"
    "  blob       BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;",

    /* 2: paused jobs wait for a system ("jde", "bigcommerce") */
    "ALTER TABLE jobs ADD COLUMN paused_on TEXT;"
    "CREATE INDEX jobs_paused ON jobs (paused_on)"
    "  WHERE paused_on IS NOT NULL;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- statements -------------------------------------------------------- */

#define JOB_COLS \
    "id, kind, key, payload, state, attempts, run_at, owner, lease_until, " \
    "last_error, created_at, updated_at, paused_on"
#define LEDGER_COLS \
    "key, kind, entity, state, doc_type, doc_company, doc_number, batch, " \
    "request, created_at, updated_at"
#define AUDIT_COLS "id, at, actor, entity, action, outcome, detail"

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
    SQ_COUNT
};

static const char *const sq_sql[SQ_COUNT] = {
    [SQ_BEGIN]       = "BEGIN IMMEDIATE",
    [SQ_COMMIT]      = "COMMIT",
    [SQ_ROLLBACK]    = "ROLLBACK",
    /* Savepoints stack by name, so one name serves every nesting level. */
    [SQ_SAVEPOINT]   = "SAVEPOINT mlc",
    [SQ_RELEASE]     = "RELEASE mlc",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO mlc",

    [SQ_VERSION_TABLE] =
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "  version    INTEGER PRIMARY KEY,"
        "  applied_at INTEGER NOT NULL"
        ") STRICT",
    [SQ_VERSION_HAS_TABLE] =
        "SELECT count(*) FROM sqlite_schema"
        " WHERE type = 'table' AND name = 'schema_version'",
    [SQ_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [SQ_VERSION_ADD] =
        "INSERT INTO schema_version (version, applied_at)"
        " VALUES (:version, :now)",

    [SQ_EVENT_INSERT] =
        "INSERT INTO events"
        "  (source, dedupe_key, kind, resource, payload, received_at)"
        " VALUES (:source, :dedupe_key, :kind, :resource, :payload, :now)"
        " ON CONFLICT (dedupe_key) DO NOTHING",

    [SQ_JOB_FIND_READY] =
        "SELECT id, run_at FROM jobs"
        " WHERE kind = :kind AND key = :key AND state = 'ready'",
    [SQ_JOB_INSERT] =
        "INSERT INTO jobs"
        "  (kind, key, payload, state, run_at, created_at, updated_at)"
        " VALUES (:kind, :key, :payload, 'ready', :run_at, :now, :now)",
    [SQ_JOB_PULL_RUN_AT] =
        "UPDATE jobs SET run_at = min(run_at, :run_at), updated_at = :now"
        " WHERE id = :id",
    /* The oldest due READY job or RUNNING job whose lease expired, skipping
     * keys another owner is working on right now. INDEXED BY pins the walk
     * in (run_at, id) order over live jobs, which stops at the first match;
     * left alone, the planner (no ANALYZE stats) sorts every READY row. */
    [SQ_JOB_CLAIM] =
        "UPDATE jobs"
        "   SET state = 'running', owner = :owner,"
        "       lease_until = :lease_until, attempts = attempts + 1,"
        "       updated_at = :now"
        " WHERE id = ("
        "   SELECT j.id FROM jobs AS j INDEXED BY jobs_claim"
        "    WHERE j.state IN ('ready', 'running')"
        "      AND j.run_at <= :now"
        "      AND (j.state = 'ready' OR j.lease_until <= :now)"
        "      AND (:kinds IS NULL"
        "           OR j.kind IN (SELECT value FROM json_each(:kinds)))"
        "      AND NOT EXISTS ("
        "        SELECT 1 FROM jobs AS r"
        "         WHERE r.state = 'running'"
        "           AND r.kind = j.kind AND r.key = j.key"
        "           AND r.lease_until > :now)"
        "    ORDER BY j.run_at, j.id"
        "    LIMIT 1)"
        " RETURNING " JOB_COLS,
    [SQ_JOB_EXTEND] =
        "UPDATE jobs SET lease_until = :lease_until, updated_at = :now"
        " WHERE id = :id",
    /* Every way out of RUNNING (and replay out of HELD/FAILED). */
    [SQ_JOB_SETTLE] =
        "UPDATE jobs"
        "   SET state = :state, run_at = :run_at, attempts = :attempts,"
        "       owner = NULL, lease_until = 0, last_error = :last_error,"
        "       updated_at = :now, paused_on = NULL"
        " WHERE id = :id",
    [SQ_JOB_DELETE] = "DELETE FROM jobs WHERE id = :id",
    [SQ_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = :id",
    [SQ_JOB_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id LIMIT :limit",
    [SQ_JOB_LIST_STATE] =
        "SELECT " JOB_COLS " FROM jobs WHERE state = :state"
        " ORDER BY id LIMIT :limit",
    [SQ_JOB_COUNT] = "SELECT count(*) FROM jobs WHERE state = :state",
    [SQ_JOB_RUNNING_IDS] = "SELECT id FROM jobs WHERE state = 'running' ORDER BY id",
    /* The fence of a ledger write: a live claim of the entity's job. */
    [SQ_JOB_FENCE] =
        "SELECT count(*) FROM jobs"
        " WHERE key = :key AND state = 'running' AND owner = :owner",

    [SQ_WM_GET] = "SELECT value FROM watermarks WHERE name = :name",
    [SQ_WM_SET] =
        "INSERT INTO watermarks (name, value, updated_at)"
        " VALUES (:name, :value, :now)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET value = excluded.value, updated_at = excluded.updated_at",

    [SQ_LEDGER_GET] = "SELECT " LEDGER_COLS " FROM ledger WHERE key = :key",
    [SQ_LEDGER_INSERT] =
        "INSERT INTO ledger"
        "  (key, kind, entity, state, request, created_at, updated_at)"
        " VALUES (:key, :kind, :entity, 'pending', :request, :now, :now)"
        " ON CONFLICT (key) DO NOTHING",
    [SQ_LEDGER_STATE] = "SELECT state FROM ledger WHERE key = :key",
    [SQ_LEDGER_ENTITY] = "SELECT entity FROM ledger WHERE key = :key",
    [SQ_LEDGER_UNKNOWN] =
        "UPDATE ledger SET state = 'unknown', updated_at = :now"
        " WHERE key = :key",
    [SQ_LEDGER_POSTED] =
        "UPDATE ledger"
        "   SET state = 'posted', doc_type = :doc_type,"
        "       doc_company = :doc_company, doc_number = :doc_number,"
        "       batch = :batch, updated_at = :now"
        " WHERE key = :key",
    [SQ_LEDGER_DELETE] = "DELETE FROM ledger WHERE key = :key",
    [SQ_LEDGER_LIST] =
        "SELECT " LEDGER_COLS " FROM ledger ORDER BY created_at, key",
    [SQ_LEDGER_LIST_ENTITY] =
        "SELECT " LEDGER_COLS " FROM ledger WHERE entity = :entity"
        " ORDER BY created_at, key",

    [SQ_AUDIT_INSERT] =
        "INSERT INTO audit (at, actor, entity, action, outcome, detail)"
        " VALUES (:now, :actor, :entity, :action, :outcome, :detail)",
    [SQ_AUDIT_LIST] =
        "SELECT " AUDIT_COLS " FROM audit ORDER BY id LIMIT :limit",
    [SQ_AUDIT_LIST_ENTITY] =
        "SELECT " AUDIT_COLS " FROM audit WHERE entity = :entity"
        " ORDER BY id LIMIT :limit",

    [SQ_SECRET_PUT] =
        "INSERT INTO secrets (name, blob, updated_at)"
        " VALUES (:name, :blob, :now)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET blob = excluded.blob, updated_at = excluded.updated_at",
    [SQ_SECRET_GET] = "SELECT blob FROM secrets WHERE name = :name",
    [SQ_SECRET_DELETE] = "DELETE FROM secrets WHERE name = :name",
    [SQ_SECRET_LIST] = "SELECT name, updated_at FROM secrets ORDER BY name",

    [SQ_JOB_PAUSE_MARK] = "UPDATE jobs SET paused_on = :system WHERE id = :id",
    [SQ_JOBS_RESUME] =
        "UPDATE jobs SET run_at = min(run_at, :now), paused_on = NULL,"
        "       updated_at = :now"
        " WHERE paused_on = :system AND state = 'ready'",
    [SQ_JOBS_PAUSED] =
        "SELECT count(*) FROM jobs WHERE paused_on = :system AND state = 'ready'",
    [SQ_JOBS_PAUSED_ALL] =
        "SELECT count(*) FROM jobs WHERE paused_on IS NOT NULL AND state = 'ready'",
};

/* ---- connection -------------------------------------------------------- */

struct sq_store {
    struct store  base;             /* first: &s->base is the handle */
    sqlite3      *db;
    sqlite3_stmt *stmts[SQ_COUNT];  /* prepared on first use */
};

static struct sq_store *sq_of(struct store *st)
{
    return (struct sq_store *)st;
}

static int64_t now_ms(struct sq_store *s)
{
    return store_now_ms(&s->base);
}

/* Turns an SQLite failure into an mlc error naming the operation. */
static int sq_fail(struct sq_store *s, int rc, const char *op,
                   struct mlc_err *e)
{
    int code;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = MLC_EBUSY; break;
    case SQLITE_NOMEM:  code = MLC_ENOMEM; break;
    default:            code = MLC_EIO; break;
    }
    return mlc_err_set(e, code, "store: %s: %s", op,
                       s->db != NULL ? sqlite3_errmsg(s->db)
                                     : sqlite3_errstr(rc));
}

/* ---- one statement at a time ------------------------------------------- */

/* A query in progress: binds and steps record the first SQLite error in rc,
 * q_end reports it and resets the statement. */
struct sq_q {
    struct sq_store *s;
    sqlite3_stmt    *stmt;
    int              rc;
    const char      *op;
};

static int q_begin(struct sq_q *q, struct sq_store *s, enum sq_id id,
                   const char *op, struct mlc_err *e)
{
    int rc;

    q->s = s;
    q->stmt = NULL;
    q->rc = SQLITE_OK;
    q->op = op;
    if (s->stmts[id] == NULL) {
        rc = sqlite3_prepare_v3(s->db, sq_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &s->stmts[id],
                                NULL);
        if (rc != SQLITE_OK)
            return sq_fail(s, rc, op, e);
    }
    /* A list callback calling back into the same statement would reset
     * the walk under its feet. */
    if (sqlite3_stmt_busy(s->stmts[id]))
        return mlc_err_set(e, MLC_ESTATE,
                           "store: %s: called from inside a list callback",
                           op);
    q->stmt = s->stmts[id];
    return MLC_OK;
}

static int q_param(struct sq_q *q, const char *name)
{
    int i = sqlite3_bind_parameter_index(q->stmt, name);

    if (i == 0 && q->rc == SQLITE_OK)
        q->rc = SQLITE_RANGE;
    return i;
}

static void q_int(struct sq_q *q, const char *name, int64_t v)
{
    int i = q_param(q, name);

    if (q->rc == SQLITE_OK)
        q->rc = sqlite3_bind_int64(q->stmt, i, v);
}

/* NULL binds SQL NULL. */
static void q_text(struct sq_q *q, const char *name, const char *v)
{
    int i = q_param(q, name);

    if (q->rc == SQLITE_OK)
        q->rc = sqlite3_bind_text(q->stmt, i, v, -1, SQLITE_STATIC);
}

static void q_blob(struct sq_q *q, const char *name, const void *v,
                   size_t len)
{
    int i = q_param(q, name);

    if (q->rc != SQLITE_OK)
        return;
    if (len == 0) /* bind_blob(NULL, 0) would store NULL, not "" */
        q->rc = sqlite3_bind_zeroblob(q->stmt, i, 0);
    else
        q->rc = sqlite3_bind_blob64(q->stmt, i, v, len, SQLITE_STATIC);
}

/* SQLITE_ROW, SQLITE_DONE, or the error (also kept in q->rc). */
static int q_step(struct sq_q *q)
{
    int rc;

    if (q->rc != SQLITE_OK)
        return q->rc;
    rc = sqlite3_step(q->stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        q->rc = rc;
    return rc;
}

/* Rows changed by the last q_step of an INSERT/UPDATE/DELETE. */
static int q_changes(const struct sq_q *q)
{
    return sqlite3_changes(q->s->db);
}

/* Reports the first error (before the reset can lose it), resets. */
static int q_end(struct sq_q *q, struct mlc_err *e)
{
    int ret = MLC_OK;

    if (q->stmt == NULL)
        return MLC_OK;
    if (q->rc != SQLITE_OK)
        ret = sq_fail(q->s, q->rc, q->op, e);
    sqlite3_reset(q->stmt);
    sqlite3_clear_bindings(q->stmt);
    q->stmt = NULL;
    return ret;
}

/* Runs a statement without parameters or rows (BEGIN, COMMIT, ...). */
static int q_run(struct sq_store *s, enum sq_id id, const char *op,
                 struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, id, op, e);

    if (rc != MLC_OK)
        return rc;
    q_step(&q);
    return q_end(&q, e);
}

/* Copies a text column; NULL stays NULL, *oom is set when strdup fails. */
static char *col_dup(sqlite3_stmt *stmt, int i, bool *oom)
{
    const unsigned char *t;
    char *d;

    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return NULL;
    t = sqlite3_column_text(stmt, i);
    d = t != NULL ? strdup((const char *)t) : NULL;
    if (d == NULL)
        *oom = true;
    return d;
}

static const char *col_text(sqlite3_stmt *stmt, int i)
{
    return (const char *)sqlite3_column_text(stmt, i);
}

/* ---- transactions ------------------------------------------------------ */

/*
 * Depth 0 -> 1 is BEGIN IMMEDIATE; deeper levels are savepoints, so a call
 * failing inside the caller's transaction undoes only its own work. SQLite
 * itself rolls the whole transaction back on some errors (I/O, full disk):
 * sqlite3_get_autocommit then says so and the levels unwind without SQL.
 */
static int tx_enter(struct sq_store *s, struct mlc_err *e)
{
    enum sq_id id = s->base.tx_depth == 0 ? SQ_BEGIN : SQ_SAVEPOINT;
    int rc = q_run(s, id, "begin transaction", e);

    if (rc == MLC_OK)
        s->base.tx_depth++;
    return rc;
}

static bool tx_lost(struct sq_store *s)
{
    return sqlite3_get_autocommit(s->db) != 0;
}

static void tx_rollback(struct sq_store *s)
{
    if (s->base.tx_depth == 0)
        return;
    if (!tx_lost(s)) {
        if (s->base.tx_depth == 1) {
            q_run(s, SQ_ROLLBACK, "rollback", NULL);
        } else {
            q_run(s, SQ_ROLLBACK_TO, "rollback", NULL);
            q_run(s, SQ_RELEASE, "rollback", NULL);
        }
    }
    s->base.tx_depth--;
}

static int tx_commit(struct sq_store *s, struct mlc_err *e)
{
    enum sq_id id = s->base.tx_depth == 1 ? SQ_COMMIT : SQ_RELEASE;
    int rc;

    if (s->base.tx_depth == 0)
        return mlc_err_set(e, MLC_ESTATE, "store: commit without a "
                           "transaction");
    if (tx_lost(s)) {
        s->base.tx_depth--;
        return mlc_err_set(e, MLC_EIO, "store: commit: the transaction was "
                           "rolled back by an earlier error");
    }
    rc = q_run(s, id, "commit", e);
    if (rc != MLC_OK) {
        tx_rollback(s);
        return rc;
    }
    s->base.tx_depth--;
    return MLC_OK;
}

/* Ends what tx_enter began: commit when rc is MLC_OK, else roll back. */
static int tx_leave(struct sq_store *s, int rc, struct mlc_err *e)
{
    if (rc == MLC_OK)
        return tx_commit(s, e);
    tx_rollback(s);
    return rc;
}

static int sq_tx_begin(struct store *st, struct mlc_err *e)
{
    return tx_enter(sq_of(st), e);
}

static int sq_tx_commit(struct store *st, struct mlc_err *e)
{
    return tx_commit(sq_of(st), e);
}

static void sq_tx_rollback(struct store *st)
{
    tx_rollback(sq_of(st));
}

/* ---- open, migrate, close ---------------------------------------------- */

static void sq_close(struct store *st)
{
    struct sq_store *s = sq_of(st);

    while (s->base.tx_depth > 0)
        tx_rollback(s);
    for (size_t i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

/* The file holds ciphertext and the audit trail: create it private before
 * SQLite does (SQLite gives its -wal and -shm files the same mode). */
static int create_private(const char *path, struct mlc_err *e)
{
    int fd;

    if (strcmp(path, ":memory:") == 0)
        return MLC_OK;
    /* Only ever create: closing a descriptor of an existing database would
     * drop the POSIX locks of every SQLite connection this process holds on
     * it (fcntl locks are per process), and another process could then
     * checkpoint and delete the WAL under them. */
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return MLC_OK;
    if (fd < 0)
        return mlc_err_set(e, MLC_EIO, "store: cannot create %s: %m", path);
    close(fd);
    return MLC_OK;
}

static int db_open(struct sq_store *s, const char *path, struct mlc_err *e)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);

    return rc == SQLITE_OK ? MLC_OK : sq_fail(s, rc, "open", e);
}

static int exec_sql(struct sq_store *s, const char *sql, const char *op,
                    struct mlc_err *e)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? MLC_OK : sq_fail(s, rc, op, e);
}

/* PRAGMA journal_mode answers with the mode it ended up in. */
static int set_wal(struct sq_store *s, struct mlc_err *e)
{
    sqlite3_stmt *stmt = NULL;
    const char *mode;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1,
                                &stmt, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, rc, "set WAL journal", e);
        goto out;
    }
    mode = col_text(stmt, 0);
    rc = MLC_OK;
    if (mode == NULL || (strcmp(mode, "wal") != 0 &&
                         strcmp(mode, "memory") != 0))
        rc = mlc_err_set(e, MLC_EIO, "store: journal mode is %s, not wal",
                         mode != NULL ? mode : "unknown");
out:
    sqlite3_finalize(stmt);
    return rc;
}

/* Waits for another connection's write lock in short steps. SQLite's own
 * busy timeout sleeps 1, 2, 5, 10, 15 ms... between tries, so a lock held
 * for 2 ms costs the waiter 3 and one held 4 ms costs 8: the webhook
 * endpoint's commits queue behind a worker's short transactions. Polling
 * every BUSY_STEP_US instead costs a few wake-ups and keeps the wait close
 * to the lock's real hold time; past BUSY_TIMEOUT_MS the caller gets
 * SQLITE_BUSY as before. */
#define BUSY_STEP_US 200

static int busy_wait(void *ctx, int tries)
{
    (void)ctx;
    if ((int64_t)tries * BUSY_STEP_US >= (int64_t)BUSY_TIMEOUT_MS * 1000)
        return 0;
    usleep(BUSY_STEP_US);
    return 1;
}

static int configure(struct sq_store *s, struct mlc_err *e)
{
    int rc = sqlite3_busy_handler(s->db, busy_wait, NULL);

    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "set busy handler", e);
    rc = exec_sql(s, "PRAGMA foreign_keys = ON;"
                     "PRAGMA trusted_schema = OFF;", "configure", e);
    if (rc == MLC_OK)
        rc = set_wal(s, e);
    if (rc == MLC_OK)
        rc = exec_sql(s, "PRAGMA synchronous = FULL", "configure", e);
    return rc;
}

/* One integer from a one-row query without parameters. */
static int query_int(struct sq_store *s, enum sq_id id, const char *op,
                     int64_t *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, id, op, e);

    if (rc != MLC_OK)
        return rc;
    if (q_step(&q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q.stmt, 0);
    else if (q.rc == SQLITE_OK)
        *out = 0;
    return q_end(&q, e);
}

/* 0 for a new file (no schema_version table yet). */
static int read_version(struct sq_store *s, int *out, struct mlc_err *e)
{
    int64_t v = 0;
    int rc = query_int(s, SQ_VERSION_HAS_TABLE, "read schema version", &v, e);

    if (rc == MLC_OK && v > 0)
        rc = query_int(s, SQ_VERSION, "read schema version", &v, e);
    if (rc == MLC_OK)
        *out = v > INT_MAX ? INT_MAX : (int)v;
    return rc;
}

static int sq_schema_version(struct store *st, int *out, struct mlc_err *e)
{
    return read_version(sq_of(st), out, e);
}

/* SQLite's own default threshold, in log pages. */
#define SQ_AUTOCHECKPOINT_PAGES 1000

static void sq_log_upkeep(struct store *st, bool on)
{
    sqlite3_wal_autocheckpoint(sq_of(st)->db, on ? SQ_AUTOCHECKPOINT_PAGES : 0);
}

/* Passive: copies the frames no reader still needs, waits for no one. A
 * busy answer (another checkpoint runs) is no error: it is being done. */
static int sq_log_checkpoint(struct store *st, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return MLC_OK;
    return sq_fail(s, rc, "checkpoint the write-ahead log", e);
}

/* Applies step n unless another process did while we waited for the lock. */
static int migrate_step(struct sq_store *s, int n, struct mlc_err *e)
{
    struct sq_q q;
    int cur = 0;
    int rc = q_run(s, SQ_VERSION_TABLE, "create schema_version", e);

    if (rc == MLC_OK)
        rc = read_version(s, &cur, e);
    if (rc != MLC_OK || cur >= n)
        return rc;
    rc = exec_sql(s, migrations[n - 1], "migrate", e);
    if (rc != MLC_OK)
        return mlc_err_wrap(e, "schema step %d", n);
    rc = q_begin(&q, s, SQ_VERSION_ADD, "record schema version", e);
    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":version", n);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int migrate(struct sq_store *s, struct mlc_err *e)
{
    int v = 0;
    int rc = read_version(s, &v, e);

    if (rc != MLC_OK)
        return rc;
    if (v > SCHEMA_VERSION)
        return mlc_err_set(e, MLC_ESTATE, "store: database schema version %d"
                           " is newer than this mlc knows (%d); upgrade mlc",
                           v, SCHEMA_VERSION);
    for (int n = v + 1; rc == MLC_OK && n <= SCHEMA_VERSION; n++) {
        rc = tx_enter(s, e);
        if (rc == MLC_OK)
            rc = tx_leave(s, migrate_step(s, n, e), e);
    }
    return rc;
}

static const struct store_ops sq_ops;

int store_sqlite_open(const char *path, struct store **out,
                      struct mlc_err *e)
{
    struct sq_store *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    store_base_init(&s->base, &sq_ops);
    rc = create_private(path, e);
    if (rc == MLC_OK)
        rc = db_open(s, path, e);
    if (rc == MLC_OK)
        rc = configure(s, e);
    if (rc == MLC_OK)
        rc = migrate(s, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "opening %s", path);
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return MLC_OK;
}

/* ---- jobs: rows -------------------------------------------------------- */

/* Reads a JOB_COLS row into j (zeroed by the caller). */
static int read_job(sqlite3_stmt *stmt, struct store_job *j,
                    struct mlc_err *e)
{
    bool oom = false;

    j->id = sqlite3_column_int64(stmt, 0);
    j->kind = col_dup(stmt, 1, &oom);
    j->key = col_dup(stmt, 2, &oom);
    j->payload = col_dup(stmt, 3, &oom);
    j->attempts = sqlite3_column_int(stmt, 5);
    j->run_at = sqlite3_column_int64(stmt, 6);
    j->owner = col_dup(stmt, 7, &oom);
    j->lease_until = sqlite3_column_int64(stmt, 8);
    j->last_error = col_dup(stmt, 9, &oom);
    j->created_at = sqlite3_column_int64(stmt, 10);
    j->updated_at = sqlite3_column_int64(stmt, 11);
    j->paused_on = col_dup(stmt, 12, &oom);
    if (oom) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_job_state_parse(col_text(stmt, 4), &j->state) != MLC_OK) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_EIO, "store: job has an unknown state");
    }
    return MLC_OK;
}

static int job_load(struct sq_store *s, int64_t id, struct store_job *j,
                    struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = q_begin(&q, s, SQ_JOB_GET, "job get", e);

    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    if (q_step(&q) == SQLITE_ROW)
        rc = read_job(q.stmt, j, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: job %lld not found",
                         (long long)id);
    end = q_end(&q, e);
    if (end != MLC_OK) {
        store_job_clear(j);
        return end;
    }
    return rc;
}

/* Loads job id into j and checks that owner holds its lease. */
static int job_load_owned(struct sq_store *s, int64_t id, const char *owner,
                          struct store_job *j, struct mlc_err *e)
{
    int rc = job_load(s, id, j, e);

    if (rc != MLC_OK)
        return rc;
    if (j->state == STORE_JOB_RUNNING && j->owner != NULL &&
        strcmp(j->owner, owner) == 0)
        return MLC_OK;
    rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is not held by %s "
                     "(state %s, owner %s)", (long long)id, owner,
                     store_job_state_name(j->state),
                     j->owner != NULL ? j->owner : "none");
    store_job_clear(j);
    return rc;
}

/* The READY job of (kind, key): MLC_ENOTFOUND without touching e. */
static int job_find_ready(struct sq_store *s, const char *kind,
                          const char *key, int64_t *id, int64_t *run_at,
                          struct mlc_err *e)
{
    struct sq_q q;
    int found = 0;
    int rc = q_begin(&q, s, SQ_JOB_FIND_READY, "job find", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":kind", kind);
    q_text(&q, ":key", key);
    if (q_step(&q) == SQLITE_ROW) {
        *id = sqlite3_column_int64(q.stmt, 0);
        *run_at = sqlite3_column_int64(q.stmt, 1);
        found = 1;
    }
    rc = q_end(&q, e);
    return rc != MLC_OK ? rc : found ? MLC_OK : MLC_ENOTFOUND;
}

static int job_insert(struct sq_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_JOB_INSERT, "job enqueue", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":kind", kind);
    q_text(&q, ":key", key);
    q_text(&q, ":payload", payload);
    q_int(&q, ":run_at", run_at);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    *id = sqlite3_last_insert_rowid(s->db);
    return q_end(&q, e);
}

static int job_pull_run_at(struct sq_store *s, int64_t id, int64_t run_at,
                           struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_JOB_PULL_RUN_AT, "job coalesce", e);

    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    q_int(&q, ":run_at", run_at);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int job_delete(struct sq_store *s, int64_t id, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_JOB_DELETE, "job merge", e);

    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    q_step(&q);
    return q_end(&q, e);
}

/* Where a job goes when it leaves RUNNING (or HELD/FAILED on replay). */
struct settle {
    enum store_job_state state;
    int64_t              run_at;
    int                  attempts;
    const char          *last_error;
};

static int job_settle(struct sq_store *s, int64_t id, const struct settle *to,
                      struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_JOB_SETTLE, "job update", e);

    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    q_text(&q, ":state", store_job_state_name(to->state));
    q_int(&q, ":run_at", to->run_at);
    q_int(&q, ":attempts", to->attempts);
    q_text(&q, ":last_error", to->last_error);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

/*
 * Makes j READY again. A READY job of the same kind and key enqueued in the
 * meantime is folded into j (same rule as enqueue coalescing: the earlier
 * run_at wins); j survives because it carries the attempts and the error.
 */
static int job_requeue(struct sq_store *s, const struct store_job *j,
                       struct settle *to, struct mlc_err *e)
{
    int64_t twin, twin_run_at;
    int rc = job_find_ready(s, j->kind, j->key, &twin, &twin_run_at, e);

    if (rc == MLC_OK) {
        if (twin_run_at < to->run_at)
            to->run_at = twin_run_at;
        rc = job_delete(s, twin, e);
    } else if (rc == MLC_ENOTFOUND) {
        rc = MLC_OK;
    }
    to->state = STORE_JOB_READY;
    return rc != MLC_OK ? rc : job_settle(s, j->id, to, e);
}

/* ---- jobs: operations -------------------------------------------------- */

static int job_enqueue_tx(struct sq_store *s, const char *kind,
                          const char *key, const char *payload,
                          int64_t run_at, int64_t *id, bool *coalesced,
                          struct mlc_err *e)
{
    int64_t old_run_at;
    int rc = job_find_ready(s, kind, key, id, &old_run_at, e);

    *coalesced = rc == MLC_OK;
    if (rc == MLC_OK)
        return run_at < old_run_at ? job_pull_run_at(s, *id, run_at, e)
                                   : MLC_OK;
    if (rc != MLC_ENOTFOUND)
        return rc;
    return job_insert(s, kind, key, payload, run_at, id, e);
}

static int sq_job_enqueue(struct store *st, const char *kind,
                          const char *key, const char *payload,
                          int64_t run_at, int64_t *id, bool *coalesced,
                          struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_enqueue_tx(s, kind, key, payload, run_at, id, coalesced, e);
    return tx_leave(s, rc, e);
}

/* kinds as a JSON array for json_each(); caller frees. NULL on OOM. */
static char *kinds_json(const char *const *kinds)
{
    size_t cap = 3, n = 0;
    char *out;

    for (size_t i = 0; kinds[i] != NULL; i++)
        cap += strlen(kinds[i]) * 6 + 3; /* worst case: all \u00XX */
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[n++] = '[';
    for (size_t i = 0; kinds[i] != NULL; i++) {
        if (i > 0)
            out[n++] = ',';
        out[n++] = '"';
        for (const unsigned char *c = (const unsigned char *)kinds[i]; *c;
             c++) {
            if (*c == '"' || *c == '\\')
                out[n++] = '\\';
            if (*c < 0x20)
                n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *c);
            else
                out[n++] = (char)*c;
        }
        out[n++] = '"';
    }
    out[n++] = ']';
    out[n] = '\0';
    return out;
}

static int job_claim_tx(struct sq_store *s, const char *owner,
                        const char *kinds, int64_t lease_ms,
                        struct store_job *out, struct mlc_err *e)
{
    struct sq_q q;
    int64_t now = now_ms(s);
    int end, rc = q_begin(&q, s, SQ_JOB_CLAIM, "job claim", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":owner", owner);
    q_int(&q, ":lease_until", now + lease_ms);
    q_int(&q, ":now", now);
    q_text(&q, ":kinds", kinds);
    if (q_step(&q) == SQLITE_ROW)
        rc = read_job(q.stmt, out, e);
    else if (q.rc == SQLITE_OK)
        rc = MLC_ENOTFOUND;
    end = q_end(&q, e);
    if (end != MLC_OK) {
        store_job_clear(out);
        return end;
    }
    if (rc == MLC_ENOTFOUND)
        mlc_err_set(e, rc, "store: no job to claim");
    return rc;
}

static int sq_job_claim(struct store *st, const char *owner,
                        const char *const *kinds, int64_t lease_ms,
                        struct store_job *out, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    char *json = NULL;
    int rc;

    if (kinds != NULL && (json = kinds_json(kinds)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    rc = tx_enter(s, e);
    if (rc == MLC_OK)
        rc = tx_leave(s, job_claim_tx(s, owner, json, lease_ms, out, e), e);
    if (rc != MLC_OK)
        store_job_clear(out);
    free(json);
    return rc;
}

/* Claims one job after another inside one write transaction: each claim
 * sees the leases taken before it, so one kind and key is claimed once. */
static int sq_job_claim_batch(struct store *st, const char *owner,
                              const char *const *kinds, int64_t lease_ms,
                              size_t max, struct store_job *out, size_t *n,
                              struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    char *json = NULL;
    int rc;

    *n = 0;
    if (kinds != NULL && (json = kinds_json(kinds)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    rc = tx_enter(s, e);
    if (rc == MLC_OK) {
        int crc = MLC_OK;

        while (*n < max &&
               (crc = job_claim_tx(s, owner, json, lease_ms, &out[*n], e)) == MLC_OK)
            (*n)++;
        if (crc == MLC_ENOTFOUND && *n > 0)
            crc = MLC_OK;
        rc = tx_leave(s, crc, e);
    }
    if (rc != MLC_OK) {
        for (size_t i = 0; i < *n; i++)
            store_job_clear(&out[i]);
        *n = 0;
    }
    free(json);
    return rc;
}

static int job_extend_tx(struct sq_store *s, int64_t id, const char *owner,
                         int64_t lease_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_q q;
    int64_t now = now_ms(s);
    int rc = job_load_owned(s, id, owner, &j, e);

    store_job_clear(&j);
    if (rc == MLC_OK)
        rc = q_begin(&q, s, SQ_JOB_EXTEND, "job extend", e);
    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    q_int(&q, ":lease_until", now + lease_ms);
    q_int(&q, ":now", now);
    q_step(&q);
    return q_end(&q, e);
}

static int sq_job_extend(struct store *st, int64_t id, const char *owner,
                         int64_t lease_ms, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, job_extend_tx(s, id, owner, lease_ms, e), e);
}

/* DONE or HELD: the lease-checked ways to finish without a retry. */
static int job_finish_tx(struct sq_store *s, int64_t id, const char *owner,
                         enum store_job_state state, const char *last_error,
                         struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    int rc = job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct settle){ .state = state, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = last_error };
    rc = job_settle(s, id, &to, e);
    store_job_clear(&j);
    return rc;
}

static int sq_job_done(struct store *st, int64_t id, const char *owner,
                       struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_DONE, NULL, e);
    return tx_leave(s, rc, e);
}

static int sq_job_hold(struct store *st, int64_t id, const char *owner,
                       const char *reason, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_HELD, reason, e);
    return tx_leave(s, rc, e);
}

static int64_t retry_delay(struct sq_store *s, int attempt)
{
    return store_backoff_ms(attempt, s->base.backoff_base_ms,
                            s->base.backoff_cap_ms, store_random_u32());
}

static int job_retry_tx(struct sq_store *s, int64_t id, const char *owner,
                        const char *error, int max_attempts, bool *failed,
                        struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    int rc = job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    *failed = j.attempts >= max_attempts;
    to = (struct settle){ .state = STORE_JOB_FAILED, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = error };
    if (*failed) {
        rc = job_settle(s, id, &to, e);
    } else {
        to.run_at = now_ms(s) + retry_delay(s, j.attempts);
        rc = job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

static int sq_job_retry(struct store *st, int64_t id, const char *owner,
                        const char *error, int max_attempts, bool *failed,
                        struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_retry_tx(s, id, owner, error, max_attempts, failed, e);
    return tx_leave(s, rc, e);
}

/* READY at run_at, the claim's attempt given back. */
static int job_defer_tx(struct sq_store *s, int64_t id, const char *owner, int64_t run_at,
                        const char *reason, struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    int rc = job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct settle){ .run_at = run_at, .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    return rc;
}

static int sq_job_defer(struct store *st, int64_t id, const char *owner, int64_t run_at,
                        const char *reason, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, job_defer_tx(s, id, owner, run_at, reason, e), e);
}

/* The ids of every RUNNING job (*ids: caller frees). */
static int running_ids(struct sq_store *s, int64_t **ids, size_t *n, struct mlc_err *e)
{
    struct sq_q q;
    size_t cap = 0;
    int rc = q_begin(&q, s, SQ_JOB_RUNNING_IDS, "job release", e);

    *ids = NULL;
    *n = 0;
    while (rc == MLC_OK && q_step(&q) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap > 0 ? cap * 2 : 16;
            int64_t *nv = realloc(*ids, ncap * sizeof(*nv));

            if (nv == NULL) {
                rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
                break;
            }
            *ids = nv;
            cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q.stmt, 0);
    }
    return q_end(&q, e) != MLC_OK ? MLC_EIO : rc;
}

static int job_release_tx(struct sq_store *s, int64_t *released, struct mlc_err *e)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = running_ids(s, &ids, &n, e);

    for (size_t i = 0; rc == MLC_OK && i < n; i++) {
        struct store_job j = {0};
        struct settle to;

        if ((rc = job_load(s, ids[i], &j, e)) != MLC_OK)
            break;
        to = (struct settle){ .run_at = now_ms(s), .attempts = j.attempts,
                              .last_error = j.last_error };
        rc = job_requeue(s, &j, &to, e);
        store_job_clear(&j);
    }
    if (rc == MLC_OK)
        *released = (int64_t)n;
    free(ids);
    return rc;
}

static int sq_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, job_release_tx(s, n, e), e);
}

static int job_replay_tx(struct sq_store *s, int64_t id, struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    int rc = job_load(s, id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_HELD && j.state != STORE_JOB_FAILED) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s, only held "
                         "or failed jobs can be replayed", (long long)id,
                         store_job_state_name(j.state));
    } else {
        to = (struct settle){ .run_at = now_ms(s), .attempts = 0,
                              .last_error = j.last_error };
        rc = job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

static int sq_job_replay(struct store *st, int64_t id, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, job_replay_tx(s, id, e), e);
}

static int job_hold_idle_tx(struct sq_store *s, int64_t id, const char *reason,
                            struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    int rc = job_load(s, id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_READY &&
        (j.state != STORE_JOB_RUNNING || j.lease_until > now_ms(s))) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s%s, not idle", (long long)id,
                         store_job_state_name(j.state),
                         j.state == STORE_JOB_RUNNING ? " with a live lease" : "");
    } else {
        to = (struct settle){ .state = STORE_JOB_HELD, .run_at = j.run_at,
                              .attempts = j.attempts, .last_error = reason };
        rc = job_settle(s, id, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

static int sq_job_hold_idle(struct store *st, int64_t id, const char *reason,
                            struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, job_hold_idle_tx(s, id, reason, e), e);
}

static int sq_job_get(struct store *st, int64_t id, struct store_job *out,
                      struct mlc_err *e)
{
    return job_load(sq_of(st), id, out, e);
}

/* SQLite reads a negative LIMIT as "no limit". */
static int64_t sql_limit(size_t limit)
{
    return limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
}

static int sq_job_list(struct store *st, int state, size_t limit,
                       int (*fn)(const struct store_job *j, void *ctx),
                       void *ctx, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct store_job j;
    struct sq_q q;
    bool stop = false;
    int end, rc = q_begin(&q, s, state < 0 ? SQ_JOB_LIST : SQ_JOB_LIST_STATE,
                          "job list", e);

    if (rc != MLC_OK)
        return rc;
    if (state >= 0)
        q_text(&q, ":state", store_job_state_name(state));
    q_int(&q, ":limit", sql_limit(limit));
    while (rc == MLC_OK && !stop && q_step(&q) == SQLITE_ROW) {
        memset(&j, 0, sizeof(j));
        rc = read_job(q.stmt, &j, e);
        if (rc == MLC_OK)
            stop = fn(&j, ctx) != 0;
        store_job_clear(&j);
    }
    end = q_end(&q, e);
    return rc != MLC_OK ? rc : end;
}

static int sq_job_count(struct store *st, enum store_job_state state,
                        int64_t *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, sq_of(st), SQ_JOB_COUNT, "job count", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":state", store_job_state_name(state));
    *out = q_step(&q) == SQLITE_ROW ? sqlite3_column_int64(q.stmt, 0) : 0;
    return q_end(&q, e);
}

/* ---- events ------------------------------------------------------------ */

static int event_insert(struct sq_store *s, const struct store_event *ev,
                        bool *inserted, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_EVENT_INSERT, "event ingest", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":source", ev->source);
    q_text(&q, ":dedupe_key", ev->dedupe_key);
    q_text(&q, ":kind", ev->kind);
    q_text(&q, ":resource", ev->resource);
    q_text(&q, ":payload", ev->payload);
    q_int(&q, ":now", now_ms(s));
    *inserted = q_step(&q) == SQLITE_DONE && q_changes(&q) > 0;
    return q_end(&q, e);
}

static int sq_event_ingest(struct store *st, const struct store_event *ev,
                           const char *job_kind, bool *inserted,
                           struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int64_t id;
    bool coalesced;
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = event_insert(s, ev, inserted, e);
    if (rc == MLC_OK && *inserted && job_kind != NULL)
        rc = job_enqueue_tx(s, job_kind, ev->resource, NULL,
                            ev->job_run_at > 0 ? ev->job_run_at : now_ms(s), &id,
                            &coalesced, e);
    rc = tx_leave(s, rc, e);
    if (rc != MLC_OK)
        *inserted = false;
    return rc;
}

/* ---- watermarks -------------------------------------------------------- */

static int sq_watermark_get(struct store *st, const char *name, char *buf,
                            size_t cap, struct mlc_err *e)
{
    struct sq_q q;
    size_t len;
    int end, rc = q_begin(&q, sq_of(st), SQ_WM_GET, "watermark get", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":name", name);
    if (q_step(&q) == SQLITE_ROW) {
        len = (size_t)sqlite3_column_bytes(q.stmt, 0);
        if (len < cap)
            memcpy(buf, col_text(q.stmt, 0), len + 1);
        else
            rc = mlc_err_set(e, MLC_ERANGE, "store: watermark %s is %zu "
                             "bytes, buffer holds %zu", name, len, cap - 1);
    } else if (q.rc == SQLITE_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: watermark %s not set",
                         name);
    }
    end = q_end(&q, e);
    return end != MLC_OK ? end : rc;
}

static int watermark_set_tx(struct sq_store *s, const char *name,
                            const char *value, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_WM_SET, "watermark set", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":name", name);
    q_text(&q, ":value", value);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int sq_watermark_set(struct store *st, const char *name,
                            const char *value, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, watermark_set_tx(s, name, value, e), e);
}

/* ---- ledger ------------------------------------------------------------ */

static int read_ledger(sqlite3_stmt *stmt, struct store_ledger *l,
                       struct mlc_err *e)
{
    bool oom = false;

    l->key = col_dup(stmt, 0, &oom);
    l->kind = col_dup(stmt, 1, &oom);
    l->entity = col_dup(stmt, 2, &oom);
    l->doc_type = col_dup(stmt, 4, &oom);
    l->doc_company = col_dup(stmt, 5, &oom);
    l->doc_number = sqlite3_column_int64(stmt, 6);
    l->batch = sqlite3_column_int64(stmt, 7);
    l->request = col_dup(stmt, 8, &oom);
    l->created_at = sqlite3_column_int64(stmt, 9);
    l->updated_at = sqlite3_column_int64(stmt, 10);
    if (oom) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_ledger_state_parse(col_text(stmt, 3), &l->state) != MLC_OK) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_EIO, "store: ledger row has an unknown "
                           "state");
    }
    return MLC_OK;
}

static int sq_ledger_get(struct store *st, const char *key,
                         struct store_ledger *out, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = q_begin(&q, sq_of(st), SQ_LEDGER_GET, "ledger get", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    if (q_step(&q) == SQLITE_ROW)
        rc = read_ledger(q.stmt, out, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found",
                         key);
    end = q_end(&q, e);
    if (end != MLC_OK) {
        store_ledger_clear(out);
        return end;
    }
    return rc;
}

/* The fence of store_fence: MLC_OK when no fence is set, or a RUNNING
 * job whose key is entity is leased to the fence's owner. */
static int ledger_fenced(struct sq_store *s, const char *entity, struct mlc_err *e)
{
    const char *owner = s->base.fence_owner;
    struct sq_q q;
    int64_t live = 0;
    int rc;

    if (owner == NULL)
        return MLC_OK;
    if ((rc = q_begin(&q, s, SQ_JOB_FENCE, "ledger fence", e)) != MLC_OK)
        return rc;
    q_text(&q, ":key", entity);
    q_text(&q, ":owner", owner);
    if (q_step(&q) == SQLITE_ROW)
        live = sqlite3_column_int64(q.stmt, 0);
    if ((rc = q_end(&q, e)) != MLC_OK)
        return rc;
    if (live == 0)
        return mlc_err_set(e, MLC_ESTATE, "store: lease lost: the job of %s is no longer "
                           "held by %s; the ledger was not written", entity, owner);
    return MLC_OK;
}

/* The fence for an existing row: its entity's job (a missing row passes:
 * the write itself reports it). */
static int ledger_fenced_key(struct sq_store *s, const char *key, struct mlc_err *e)
{
    struct sq_q q;
    char *entity = NULL;
    int rc;

    if (s->base.fence_owner == NULL)
        return MLC_OK;
    if ((rc = q_begin(&q, s, SQ_LEDGER_ENTITY, "ledger fence", e)) != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    if (q_step(&q) == SQLITE_ROW && (entity = strdup(col_text(q.stmt, 0))) == NULL)
        q.rc = SQLITE_NOMEM;
    rc = q_end(&q, e);
    if (rc == MLC_OK && entity != NULL)
        rc = ledger_fenced(s, entity, e);
    free(entity);
    return rc;
}

static int ledger_insert(struct sq_store *s, const char *key,
                         const char *kind, const char *entity,
                         const char *request, struct mlc_err *e)
{
    struct sq_q q;
    bool inserted;
    int rc = q_begin(&q, s, SQ_LEDGER_INSERT, "ledger begin", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    q_text(&q, ":kind", kind);
    q_text(&q, ":entity", entity);
    q_text(&q, ":request", request);
    q_int(&q, ":now", now_ms(s));
    inserted = q_step(&q) == SQLITE_DONE && q_changes(&q) > 0;
    rc = q_end(&q, e);
    if (rc == MLC_OK && !inserted)
        rc = mlc_err_set(e, MLC_EEXIST, "store: ledger key %s already "
                         "exists", key);
    return rc;
}

static int sq_ledger_begin(struct store *st, const char *key,
                           const char *kind, const char *entity,
                           const char *request, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_fenced(s, entity, e);
    if (rc == MLC_OK)
        rc = ledger_insert(s, key, kind, entity, request, e);
    return tx_leave(s, rc, e);
}

/* MLC_OK when key exists and is not POSTED: a document number, once
 * known, is never overwritten or forgotten. */
static int ledger_check_open(struct sq_store *s, const char *key,
                             struct mlc_err *e)
{
    struct sq_q q;
    enum store_ledger_state state = STORE_LEDGER_PENDING;
    bool found = false;
    int rc = ledger_fenced_key(s, key, e);

    if (rc == MLC_OK)
        rc = q_begin(&q, s, SQ_LEDGER_STATE, "ledger update", e);
    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    if (q_step(&q) == SQLITE_ROW) {
        found = true;
        store_ledger_state_parse(col_text(q.stmt, 0), &state);
    }
    rc = q_end(&q, e);
    if (rc == MLC_OK && !found)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found",
                         key);
    if (rc == MLC_OK && state == STORE_LEDGER_POSTED)
        rc = mlc_err_set(e, MLC_ESTATE, "store: ledger key %s is already "
                         "posted", key);
    return rc;
}

/* Runs one key-bound ledger statement after ledger_check_open. */
static int ledger_update(struct sq_store *s, enum sq_id id, const char *key,
                         struct mlc_err *e)
{
    struct sq_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc == MLC_OK)
        rc = q_begin(&q, s, id, "ledger update", e);
    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    if (id == SQ_LEDGER_UNKNOWN)
        q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int sq_ledger_mark_unknown(struct store *st, const char *key,
                                  struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, ledger_update(s, SQ_LEDGER_UNKNOWN, key, e), e);
}

static int sq_ledger_forget(struct store *st, const char *key,
                            struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, ledger_update(s, SQ_LEDGER_DELETE, key, e), e);
}

static int ledger_posted_tx(struct sq_store *s, const char *key,
                            const char *doc_type, const char *doc_company,
                            int64_t doc_number, int64_t batch,
                            struct mlc_err *e)
{
    struct sq_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc == MLC_OK)
        rc = q_begin(&q, s, SQ_LEDGER_POSTED, "ledger mark posted", e);
    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":key", key);
    q_text(&q, ":doc_type", doc_type);
    q_text(&q, ":doc_company", doc_company);
    q_int(&q, ":doc_number", doc_number);
    q_int(&q, ":batch", batch);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int sq_ledger_mark_posted(struct store *st, const char *key,
                                 const char *doc_type,
                                 const char *doc_company, int64_t doc_number,
                                 int64_t batch, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_posted_tx(s, key, doc_type, doc_company, doc_number, batch,
                          e);
    return tx_leave(s, rc, e);
}

static int sq_ledger_list(struct store *st, const char *entity,
                          int (*fn)(const struct store_ledger *l, void *ctx),
                          void *ctx, struct mlc_err *e)
{
    struct store_ledger l;
    struct sq_q q;
    bool stop = false;
    enum sq_id id = entity != NULL ? SQ_LEDGER_LIST_ENTITY : SQ_LEDGER_LIST;
    int end, rc = q_begin(&q, sq_of(st), id, "ledger list", e);

    if (rc != MLC_OK)
        return rc;
    if (entity != NULL)
        q_text(&q, ":entity", entity);
    while (rc == MLC_OK && !stop && q_step(&q) == SQLITE_ROW) {
        memset(&l, 0, sizeof(l));
        rc = read_ledger(q.stmt, &l, e);
        if (rc == MLC_OK)
            stop = fn(&l, ctx) != 0;
        store_ledger_clear(&l);
    }
    end = q_end(&q, e);
    return rc != MLC_OK ? rc : end;
}

/* ---- audit ------------------------------------------------------------- */

static int audit_insert(struct sq_store *s, const struct store_audit *a,
                        struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_AUDIT_INSERT, "audit add", e);

    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":now", now_ms(s));
    q_text(&q, ":actor", a->actor);
    q_text(&q, ":entity", a->entity);
    q_text(&q, ":action", a->action);
    q_text(&q, ":outcome", a->outcome);
    q_text(&q, ":detail", a->detail);
    q_step(&q);
    return q_end(&q, e);
}

static int sq_audit_add(struct store *st, const struct store_audit *a,
                        struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, audit_insert(s, a, e), e);
}

/* Strings point into the statement: valid until the next step. */
static void read_audit(sqlite3_stmt *stmt, struct store_audit *a)
{
    a->id = sqlite3_column_int64(stmt, 0);
    a->at = sqlite3_column_int64(stmt, 1);
    a->actor = col_text(stmt, 2);
    a->entity = col_text(stmt, 3);
    a->action = col_text(stmt, 4);
    a->outcome = col_text(stmt, 5);
    a->detail = col_text(stmt, 6);
}

static int sq_audit_list(struct store *st, const char *entity, size_t limit,
                         int (*fn)(const struct store_audit *a, void *ctx),
                         void *ctx, struct mlc_err *e)
{
    struct store_audit a;
    struct sq_q q;
    bool stop = false;
    enum sq_id id = entity != NULL ? SQ_AUDIT_LIST_ENTITY : SQ_AUDIT_LIST;
    int rc = q_begin(&q, sq_of(st), id, "audit list", e);

    if (rc != MLC_OK)
        return rc;
    if (entity != NULL)
        q_text(&q, ":entity", entity);
    q_int(&q, ":limit", sql_limit(limit));
    while (!stop && q_step(&q) == SQLITE_ROW) {
        read_audit(q.stmt, &a);
        stop = fn(&a, ctx) != 0;
    }
    return q_end(&q, e);
}

/* ---- secrets ----------------------------------------------------------- */

static int secret_put_tx(struct sq_store *s, const char *name,
                         const void *blob, size_t len, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, s, SQ_SECRET_PUT, "secret put", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":name", name);
    q_blob(&q, ":blob", blob, len);
    q_int(&q, ":now", now_ms(s));
    q_step(&q);
    return q_end(&q, e);
}

static int sq_secret_put(struct store *st, const char *name,
                         const void *blob, size_t len, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, secret_put_tx(s, name, blob, len, e), e);
}

/* Copies the blob column into a fresh buffer (1 byte for an empty one, so
 * that success always returns non-NULL). */
static int copy_blob(sqlite3_stmt *stmt, void **blob, size_t *len,
                     struct mlc_err *e)
{
    const void *src = sqlite3_column_blob(stmt, 0);
    size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

    *blob = malloc(n > 0 ? n : 1);
    if (*blob == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    if (n > 0)
        memcpy(*blob, src, n);
    *len = n;
    return MLC_OK;
}

static int sq_secret_get(struct store *st, const char *name, void **blob,
                         size_t *len, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = q_begin(&q, sq_of(st), SQ_SECRET_GET, "secret get", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":name", name);
    if (q_step(&q) == SQLITE_ROW)
        rc = copy_blob(q.stmt, blob, len, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found",
                         name);
    end = q_end(&q, e);
    if (end != MLC_OK) {
        free(*blob);
        *blob = NULL;
        *len = 0;
        return end;
    }
    return rc;
}

static int secret_delete_tx(struct sq_store *s, const char *name,
                            struct mlc_err *e)
{
    struct sq_q q;
    bool deleted;
    int rc = q_begin(&q, s, SQ_SECRET_DELETE, "secret delete", e);

    if (rc != MLC_OK)
        return rc;
    q_text(&q, ":name", name);
    deleted = q_step(&q) == SQLITE_DONE && q_changes(&q) > 0;
    rc = q_end(&q, e);
    if (rc == MLC_OK && !deleted)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: secret %s not found",
                         name);
    return rc;
}

static int sq_secret_delete(struct store *st, const char *name,
                            struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return tx_leave(s, secret_delete_tx(s, name, e), e);
}

static int sq_secret_list(struct store *st,
                          int (*fn)(const char *name, int64_t updated_at,
                                    void *ctx),
                          void *ctx, struct mlc_err *e)
{
    struct sq_q q;
    bool stop = false;
    int rc = q_begin(&q, sq_of(st), SQ_SECRET_LIST, "secret list", e);

    if (rc != MLC_OK)
        return rc;
    while (!stop && q_step(&q) == SQLITE_ROW)
        stop = fn(col_text(q.stmt, 0), sqlite3_column_int64(q.stmt, 1),
                  ctx) != 0;
    return q_end(&q, e);
}

/* ---- the vtable -------------------------------------------------------- */

/* ---- paused jobs --------------------------------------------------------- */

static int job_pause_tx(struct sq_store *s, int64_t id, const char *owner,
                        const char *system, const char *reason,
                        int64_t recheck_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct settle to;
    struct sq_q q;
    int rc = job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    /* The claim counted this attempt: a pause gives it back. */
    to = (struct settle){ .run_at = now_ms(s) + recheck_ms,
                          .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    if (rc == MLC_OK)
        rc = q_begin(&q, s, SQ_JOB_PAUSE_MARK, "job pause", e);
    if (rc != MLC_OK)
        return rc;
    q_int(&q, ":id", id);
    q_text(&q, ":system", system);
    q_step(&q);
    return q_end(&q, e);
}

static int sq_job_pause(struct store *st, int64_t id, const char *owner,
                        const char *system, const char *reason,
                        int64_t recheck_ms, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_pause_tx(s, id, owner, system, reason, recheck_ms, e);
    return tx_leave(s, rc, e);
}

static int sq_jobs_resume(struct store *st, const char *system, int64_t *n,
                          struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct sq_q q;
    int rc = tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = q_begin(&q, s, SQ_JOBS_RESUME, "jobs resume", e);
    if (rc == MLC_OK) {
        q_text(&q, ":system", system);
        q_int(&q, ":now", now_ms(s));
        if (q_step(&q) == SQLITE_DONE)
            *n = q_changes(&q);
        rc = q_end(&q, e);
    }
    return tx_leave(s, rc, e);
}

static int sq_jobs_paused_count(struct store *st, const char *system,
                                int64_t *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = q_begin(&q, sq_of(st), system != NULL ? SQ_JOBS_PAUSED
                                                   : SQ_JOBS_PAUSED_ALL,
                     "paused job count", e);

    if (rc != MLC_OK)
        return rc;
    if (system != NULL)
        q_text(&q, ":system", system);
    *out = q_step(&q) == SQLITE_ROW ? sqlite3_column_int64(q.stmt, 0) : 0;
    return q_end(&q, e);
}

static const struct store_ops sq_ops = {
    .name                = "sqlite",
    .close               = sq_close,
    .schema_version      = sq_schema_version,
    .log_upkeep          = sq_log_upkeep,
    .log_checkpoint      = sq_log_checkpoint,
    .tx_begin            = sq_tx_begin,
    .tx_commit           = sq_tx_commit,
    .tx_rollback         = sq_tx_rollback,
    .event_ingest        = sq_event_ingest,
    .job_enqueue         = sq_job_enqueue,
    .job_claim           = sq_job_claim,
    .job_claim_batch     = sq_job_claim_batch,
    .job_extend          = sq_job_extend,
    .job_done            = sq_job_done,
    .job_retry           = sq_job_retry,
    .job_defer           = sq_job_defer,
    .job_release_leases  = sq_job_release_leases,
    .job_hold            = sq_job_hold,
    .job_replay          = sq_job_replay,
    .job_hold_idle       = sq_job_hold_idle,
    .job_get             = sq_job_get,
    .job_list            = sq_job_list,
    .job_count           = sq_job_count,
    .watermark_get       = sq_watermark_get,
    .watermark_set       = sq_watermark_set,
    .ledger_get          = sq_ledger_get,
    .ledger_begin        = sq_ledger_begin,
    .ledger_mark_unknown = sq_ledger_mark_unknown,
    .ledger_mark_posted  = sq_ledger_mark_posted,
    .ledger_forget       = sq_ledger_forget,
    .ledger_list         = sq_ledger_list,
    .audit_add           = sq_audit_add,
    .audit_list          = sq_audit_list,
    .secret_put          = sq_secret_put,
    .secret_get          = sq_secret_get,
    .secret_delete       = sq_secret_delete,
    .secret_list         = sq_secret_list,
    .job_pause           = sq_job_pause,
    .jobs_resume         = sq_jobs_resume,
    .jobs_paused_count   = sq_jobs_paused_count,
};
