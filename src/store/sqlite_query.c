/*
 * sqlite_query: one prepared statement at a time (see sqlite_int.h).
 *
 * Binds and steps record the first SQLite error in the query, so a caller
 * binds everything, steps, and checks once in sq_q_end.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

/* Turns an SQLite failure into an mlc error naming the operation. */
int sq_fail(struct sq_store *s, int rc, const char *op,
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


int sq_q_begin(struct sq_q *q, struct sq_store *s, enum sq_id id,
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

void sq_q_int(struct sq_q *q, const char *name, int64_t v)
{
    int i = q_param(q, name);

    if (q->rc == SQLITE_OK)
        q->rc = sqlite3_bind_int64(q->stmt, i, v);
}

/* NULL binds SQL NULL. */
void sq_q_text(struct sq_q *q, const char *name, const char *v)
{
    int i = q_param(q, name);

    if (q->rc == SQLITE_OK)
        q->rc = sqlite3_bind_text(q->stmt, i, v, -1, SQLITE_STATIC);
}

void sq_q_blob(struct sq_q *q, const char *name, const void *v,
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
int sq_q_step(struct sq_q *q)
{
    int rc;

    if (q->rc != SQLITE_OK)
        return q->rc;
    rc = sqlite3_step(q->stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        q->rc = rc;
    return rc;
}

/* Rows changed by the last sq_q_step of an INSERT/UPDATE/DELETE. */
int sq_q_changes(const struct sq_q *q)
{
    return sqlite3_changes(q->s->db);
}

/* Reports the first error (before the reset can lose it), resets. */
int sq_q_end(struct sq_q *q, struct mlc_err *e)
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
int sq_q_run(struct sq_store *s, enum sq_id id, const char *op,
             struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, id, op, e);

    if (rc != MLC_OK)
        return rc;
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

/* Copies a text column; NULL stays NULL, *oom is set when strdup fails. */
char *sq_col_dup(sqlite3_stmt *stmt, int i, bool *oom)
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

const char *sq_col_text(sqlite3_stmt *stmt, int i)
{
    return (const char *)sqlite3_column_text(stmt, i);
}
