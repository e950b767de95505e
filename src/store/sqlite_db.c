/*
 * sqlite_db: the SQLite connection: open, configure, migrate, close,
 * transactions, write-ahead log upkeep, and the ops table that dispatches
 * to the entity files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_int.h"

#define BUSY_TIMEOUT_MS 5000
#define BUSY_STEP_US    200 /* see busy_wait */

/* ---- transactions ------------------------------------------------------ */

/*
 * Depth 0 -> 1 is BEGIN IMMEDIATE; deeper levels are savepoints, so a call
 * failing inside the caller's transaction undoes only its own work. SQLite
 * itself rolls the whole transaction back on some errors (I/O, full disk):
 * sqlite3_get_autocommit then says so and the levels unwind without SQL.
 */
int sq_tx_enter(struct sq_store *s, struct mlc_err *e)
{
    enum sq_id id = s->base.tx_depth == 0 ? SQ_BEGIN : SQ_SAVEPOINT;
    int rc = sq_q_run(s, id, "begin transaction", e);

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
            sq_q_run(s, SQ_ROLLBACK, "rollback", NULL);
        } else {
            sq_q_run(s, SQ_ROLLBACK_TO, "rollback", NULL);
            sq_q_run(s, SQ_RELEASE, "rollback", NULL);
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
    rc = sq_q_run(s, id, "commit", e);
    if (rc != MLC_OK) {
        tx_rollback(s);
        return rc;
    }
    s->base.tx_depth--;
    return MLC_OK;
}

/* Ends what sq_tx_enter began: commit when rc is MLC_OK, else roll back. */
int sq_tx_leave(struct sq_store *s, int rc, struct mlc_err *e)
{
    if (rc == MLC_OK)
        return tx_commit(s, e);
    tx_rollback(s);
    return rc;
}

static int sq_tx_begin(struct store *st, struct mlc_err *e)
{
    return sq_tx_enter(sq_of(st), e);
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

/* Root must not take over the service user's store: the -wal and -shm
 * files SQLite adds (and a new store file) would be root's, and the
 * service could no longer open them. uid is the owner of the store file,
 * or of its directory for a new one. */
static int owner_ok(const char *path, uid_t uid, struct mlc_err *e)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    if (geteuid() != 0 || uid == 0)
        return MLC_OK;
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return mlc_err_set(e, MLC_EAUTH, "store: %s belongs to uid %u, not root: run mlc as "
                           "that user, so that the files SQLite adds stay theirs", path,
                           (unsigned)uid);
    return mlc_err_set(e, MLC_EAUTH, "store: %s belongs to %s, not root: run mlc as that "
                       "user (runuser -u %s -- mlc ...), so that the files SQLite adds "
                       "(-wal, -shm) stay theirs and the service can still open them",
                       path, pw.pw_name, pw.pw_name);
}

/* A new store's directory, for owner_ok. */
static int dir_owner_ok(const char *path, struct mlc_err *e)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    struct stat sb;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(dir, &sb) != 0)
        return MLC_OK; /* the create fails and says why */
    return owner_ok(path, sb.st_uid, e);
}

/* An existing store must be as private as a new one: no access for
 * others, no writing for the group (0600 and 0640 pass), as the master key
 * file and a PostgreSQL password file. */
static int check_private(const char *path, struct mlc_err *e)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return mlc_err_set(e, MLC_EIO, "store: cannot stat %s: %m", path);
    if (owner_ok(path, sb.st_uid, e) != MLC_OK)
        return MLC_EAUTH;
    if ((sb.st_mode & 0027) != 0)
        return mlc_err_set(e, MLC_EAUTH, "store: %s has mode %04o: it holds the audit trail "
                           "and encrypted credentials, and must not be group-writable or "
                           "readable by others (chmod 0600 %s)", path,
                           (unsigned)(sb.st_mode & 07777), path);
    return MLC_OK;
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
    if (access(path, F_OK) != 0 && dir_owner_ok(path, e) != MLC_OK)
        return MLC_EAUTH;
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return check_private(path, e);
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

/* PRAGMA journal_mode answers with the mode it ended up in. Switching a
 * new file to WAL needs it to itself, and SQLite answers BUSY at once
 * (without the busy handler) while another connection opens it too: try
 * again for as long as the busy timeout. */
static int set_wal(struct sq_store *s, struct mlc_err *e)
{
    sqlite3_stmt *stmt = NULL;
    const char *mode;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1,
                                &stmt, NULL);

    for (int tries = 0; rc == SQLITE_OK || rc == SQLITE_BUSY; tries++) {
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_BUSY || tries * BUSY_STEP_US >= BUSY_TIMEOUT_MS * 1000)
            break;
        sqlite3_reset(stmt);
        usleep(BUSY_STEP_US);
    }
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, rc, "set WAL journal", e);
        goto out;
    }
    mode = sq_col_text(stmt, 0);
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
    int rc = sq_q_begin(&q, s, id, op, e);

    if (rc != MLC_OK)
        return rc;
    if (sq_q_step(&q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q.stmt, 0);
    else if (q.rc == SQLITE_OK)
        *out = 0;
    return sq_q_end(&q, e);
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
    int rc = sq_q_run(s, SQ_VERSION_TABLE, "create schema_version", e);

    if (rc == MLC_OK)
        rc = read_version(s, &cur, e);
    if (rc != MLC_OK || cur >= n)
        return rc;
    rc = exec_sql(s, sq_migrations[n - 1], "migrate", e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "schema step %d", n);
        return rc;
    }
    rc = sq_q_begin(&q, s, SQ_VERSION_ADD, "record schema version", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":version", n);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

static int migrate(struct sq_store *s, struct mlc_err *e)
{
    int v = 0;
    int rc = read_version(s, &v, e);

    if (rc != MLC_OK)
        return rc;
    if (v > sq_schema_steps)
        return mlc_err_set(e, MLC_ESTATE, "store: database schema version %d"
                           " is newer than this mlc knows (%d); upgrade mlc",
                           v, sq_schema_steps);
    for (int n = v + 1; rc == MLC_OK && n <= sq_schema_steps; n++) {
        rc = sq_tx_enter(s, e);
        if (rc == MLC_OK)
            rc = sq_tx_leave(s, migrate_step(s, n, e), e);
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

/* ---- the ops table ----------------------------------------------------- */

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
    .job_get             = sq_job_get,
    .job_list            = sq_job_list,
    .job_count           = sq_job_count,
    .watermark_get       = sq_watermark_get,
    .watermark_set       = sq_watermark_set,
    .report_add          = sq_report_add,
    .alert_add           = sq_alert_add,
    .alert_list          = sq_alert_list,
    .alert_prune         = sq_alert_prune,
    .report_latest       = sq_report_latest,
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
    .jobs_resume         = sq_jobs_resume,
    .jobs_paused_count   = sq_jobs_paused_count,
    .gauges_read         = sq_gauges_read,
    .job_hold_mark       = sq_job_hold_mark,
    .job_dismiss_mark    = sq_job_dismiss_mark,
    .dismissal_get       = sq_dismissal_get,
    .lease_take          = sq_lease_take,
    .lease_check         = sq_lease_check,
    .lease_drop          = sq_lease_drop,
    .lease_get           = sq_lease_get,
    .lease_forget        = sq_lease_forget,
    .lease_list          = sq_lease_list,
    .shared_update       = sq_shared_update,
    .export_rows         = sq_export_rows,
    .import_row          = sq_import_row,
    .import_finish       = sq_import_finish,
    STORE_SETTLE_OPS(&sq_settle_ops),
};
