/*
 * pg_db: the PostgreSQL store: open, migrate, close, transactions, and the
 * ops table that dispatches to the entity files.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* ---- transactions ------------------------------------------------------ */

/*
 * Depth 0 -> 1 is BEGIN; deeper levels are savepoints, so a call failing
 * inside the caller's transaction undoes only its own work (PostgreSQL
 * refuses every statement after an error until the rollback to the
 * savepoint). A connection lost inside a transaction took the transaction
 * with it: the levels then unwind without SQL.
 */
int pg_tx_enter(struct pg_store *s, struct mlc_err *e)
{
    enum pg_id id = s->base.tx_depth == 0 ? PG_BEGIN : PG_SAVEPOINT;
    int rc = pg_run(s, id, "begin transaction", e);

    if (rc == MLC_OK)
        s->base.tx_depth++;
    return rc;
}

static void tx_rollback(struct pg_store *s)
{
    if (s->base.tx_depth == 0)
        return;
    if (pg_conn_ok(s)) {
        if (s->base.tx_depth == 1) {
            pg_run(s, PG_ROLLBACK, "rollback", NULL);
        } else {
            pg_run(s, PG_ROLLBACK_TO, "rollback", NULL);
            pg_run(s, PG_RELEASE, "rollback", NULL);
        }
    }
    s->base.tx_depth--;
}

static int tx_commit(struct pg_store *s, struct mlc_err *e)
{
    enum pg_id id = s->base.tx_depth == 1 ? PG_COMMIT : PG_RELEASE;
    int rc;

    if (s->base.tx_depth == 0)
        return mlc_err_set(e, MLC_ESTATE, "store: commit without a "
                           "transaction");
    if (!pg_conn_ok(s)) {
        s->base.tx_depth--;
        return mlc_err_set(e, MLC_EIO, "store: connection lost: commit: the "
                           "transaction was rolled back");
    }
    /* COMMIT of a failed transaction answers ROLLBACK without an error. */
    if (PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
        tx_rollback(s);
        return mlc_err_set(e, MLC_EIO, "store: commit: the transaction was "
                           "rolled back by an earlier error");
    }
    rc = pg_run(s, id, "commit", e);
    if (rc != MLC_OK) {
        tx_rollback(s);
        return rc;
    }
    s->base.tx_depth--;
    return MLC_OK;
}

int pg_tx_leave(struct pg_store *s, int rc, struct mlc_err *e)
{
    if (rc == MLC_OK)
        return tx_commit(s, e);
    tx_rollback(s);
    return rc;
}

static int pg_tx_begin(struct store *st, struct mlc_err *e)
{
    return pg_tx_enter(pg_of(st), e);
}

static int pg_tx_commit(struct store *st, struct mlc_err *e)
{
    return tx_commit(pg_of(st), e);
}

static void pg_tx_rollback(struct store *st)
{
    tx_rollback(pg_of(st));
}

/* ---- schema ------------------------------------------------------------ */

/* One integer from a one-row query without parameters. */
static int query_int(struct pg_store *s, enum pg_id id, const char *op,
                     int64_t *out, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, id, op);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *out = q.rows > 0 ? pg_int(&q, 0, 0) : 0;
    pg_q_end(&q);
    return rc;
}

/* 0 for a new schema (no schema_version table yet). */
static int read_version(struct pg_store *s, int *out, struct mlc_err *e)
{
    int64_t v = 0;
    int rc = query_int(s, PG_VERSION_HAS_TABLE, "read schema version", &v, e);

    if (rc == MLC_OK && v > 0)
        rc = query_int(s, PG_VERSION, "read schema version", &v, e);
    if (rc == MLC_OK)
        *out = v > INT_MAX ? INT_MAX : (int)v;
    return rc;
}

static int pg_schema_version(struct store *st, int *out, struct mlc_err *e)
{
    return read_version(pg_of(st), out, e);
}

static int exec_step(struct pg_store *s, int n, struct mlc_err *e)
{
    PGresult *res = PQexec(s->conn, pg_migrations[n - 1]);
    int rc = MLC_OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

        rc = mlc_err_set(e, MLC_EIO, "store: schema step %d: %s", n,
                         m != NULL ? m : PQerrorMessage(s->conn));
    }
    PQclear(res);
    return rc;
}

static int record_step(struct pg_store *s, int n, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_VERSION_ADD, "record schema version");
    pg_q_int(&q, n);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

/*
 * Inside the migration lock: the version table, then every missing step,
 * all in the caller's transaction (PostgreSQL's DDL is transactional, so
 * a failed step leaves nothing behind). A schema already current needs no
 * DDL at all, so a role without CREATE rights opens it.
 */
static int migrate_locked(struct pg_store *s, struct mlc_err *e)
{
    struct pg_q q;
    int64_t has = 0;
    int v = 0, rc;

    pg_q_init(&q, s, PG_MIGRATE_LOCK, "lock for migrations");
    pg_q_int(&q, PG_MIGRATE_LOCK_CLASS);
    pg_q_int(&q, PG_MIGRATE_LOCK_OBJ);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    if (rc == MLC_OK)
        rc = query_int(s, PG_VERSION_HAS_TABLE, "read schema version", &has, e);
    if (rc == MLC_OK && has == 0)
        rc = pg_run(s, PG_VERSION_TABLE, "create schema_version", e);
    if (rc == MLC_OK)
        rc = read_version(s, &v, e);
    if (rc != MLC_OK)
        return rc;
    if (v > pg_schema_steps)
        return mlc_err_set(e, MLC_ESTATE, "store: database schema version %d"
                           " is newer than this mlc knows (%d); upgrade mlc",
                           v, pg_schema_steps);
    for (int n = v + 1; rc == MLC_OK && n <= pg_schema_steps; n++) {
        rc = exec_step(s, n, e);
        if (rc == MLC_OK)
            rc = record_step(s, n, e);
    }
    return rc;
}

static int migrate(struct pg_store *s, struct mlc_err *e)
{
    int rc = pg_tx_enter(s, e);

    return rc != MLC_OK ? rc : pg_tx_leave(s, migrate_locked(s, e), e);
}

/* ---- open, close ------------------------------------------------------- */

static void pg_close(struct store *st)
{
    struct pg_store *s = pg_of(st);

    while (s->base.tx_depth > 0)
        tx_rollback(s);
    PQfinish(s->conn);
    free(s->url);
    free(s->password_ref);
    free(s);
}

static const struct store_ops pg_ops;

int store_pg_open(const char *url, const char *password_ref,
                  struct store **out, struct mlc_err *e)
{
    struct pg_store *s = calloc(1, sizeof(*s));
    int rc = MLC_OK;

    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    store_base_init(&s->base, &pg_ops);
    s->url = strdup(url);
    if (password_ref != NULL && password_ref[0] != '\0')
        s->password_ref = strdup(password_ref);
    if (s->url == NULL ||
        (password_ref != NULL && password_ref[0] != '\0' && s->password_ref == NULL))
        rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    if (rc == MLC_OK)
        rc = pg_connect(s, e);
    if (rc == MLC_OK)
        rc = migrate(s, e);
    if (rc != MLC_OK) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return MLC_OK;
}

/* ---- the ops table ----------------------------------------------------- */

static const struct store_ops pg_ops = {
    .name                = "postgresql",
    .close               = pg_close,
    .schema_version      = pg_schema_version,
    .log_upkeep          = NULL, /* the server keeps its own log */
    .log_checkpoint      = NULL,
    .tx_begin            = pg_tx_begin,
    .tx_commit           = pg_tx_commit,
    .tx_rollback         = pg_tx_rollback,
    .event_ingest        = pg_event_ingest,
    .job_enqueue         = pg_job_enqueue,
    .job_claim           = pg_job_claim,
    .job_claim_batch     = pg_job_claim_batch,
    .job_extend          = pg_job_extend,
    .job_get             = pg_job_get,
    .job_list            = pg_job_list,
    .job_count           = pg_job_count,
    .watermark_get       = pg_watermark_get,
    .watermark_set       = pg_watermark_set,
    .report_add          = pg_report_add,
    .alert_add           = pg_alert_add,
    .alert_list          = pg_alert_list,
    .alert_prune         = pg_alert_prune,
    .report_latest       = pg_report_latest,
    .ledger_get          = pg_ledger_get,
    .ledger_begin        = pg_ledger_begin,
    .ledger_mark_unknown = pg_ledger_mark_unknown,
    .ledger_mark_posted  = pg_ledger_mark_posted,
    .ledger_forget       = pg_ledger_forget,
    .ledger_list         = pg_ledger_list,
    .audit_add           = pg_audit_add,
    .audit_list          = pg_audit_list,
    .secret_put          = pg_secret_put,
    .secret_get          = pg_secret_get,
    .secret_delete       = pg_secret_delete,
    .secret_list         = pg_secret_list,
    .jobs_resume         = pg_jobs_resume,
    .jobs_paused_count   = pg_jobs_paused_count,
    .gauges_read         = pg_gauges_read,
    .job_hold_mark       = pg_job_hold_mark,
    .job_dismiss_mark    = pg_job_dismiss_mark,
    .dismissal_get       = pg_dismissal_get,
    .lease_take          = pg_lease_take,
    .lease_check         = pg_lease_check,
    .lease_drop          = pg_lease_drop,
    .lease_get           = pg_lease_get,
    .lease_forget        = pg_lease_forget,
    .lease_list          = pg_lease_list,
    .shared_update       = pg_shared_update,
    .export_rows         = pg_export_rows,
    .import_row          = pg_import_row,
    .import_finish       = pg_import_finish,
    STORE_SETTLE_OPS(&pg_settle_ops),
};
