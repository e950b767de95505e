/*
 * pg_query: one prepared statement at a time, and what PostgreSQL's
 * errors mean to the caller (see pg_int.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* ---- errors ------------------------------------------------------------ */

static bool sqlstate_is(const char *state, const char *prefix)
{
    return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* The server's message, or libpq's when the server said nothing (a lost
 * connection), on one line. */
static void error_text(const struct pg_store *s, const PGresult *res,
                       char *buf, size_t cap)
{
    const char *m = res != NULL
        ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (m == NULL)
        m = PQerrorMessage(s->conn);
    snprintf(buf, cap, "%s", m != NULL && m[0] != '\0' ? m : "unknown error");
    for (char *p = buf; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = (p[1] == '\0') ? '\0' : ' ';
}

/* Maps a failed statement to an mlc error naming the operation. */
static int q_fail(struct pg_q *q, const PGresult *res, struct mlc_err *e)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                    : NULL;
    char msg[320];
    int code = MLC_EIO;

    error_text(q->s, res, msg, sizeof(msg));
    if (!pg_conn_ok(q->s) || sqlstate_is(state, "08") ||
        sqlstate_is(state, "57P")) {
        if (q->id == PG_COMMIT)
            return mlc_err_set(e, MLC_EIO, "store: connection lost while "
                               "committing (%s), the outcome is unknown: %s",
                               q->op, msg);
        return mlc_err_set(e, MLC_EIO, "store: connection lost: %s: %s",
                           q->op, msg);
    }
    if (sqlstate_is(state, "40") || sqlstate_is(state, "55P03") ||
        sqlstate_is(state, "57014") || sqlstate_is(state, "53"))
        code = MLC_EBUSY;
    else if (sqlstate_is(state, "23505"))
        code = MLC_EEXIST;
    else if (sqlstate_is(state, "28") || sqlstate_is(state, "42501"))
        code = MLC_EAUTH;
    return mlc_err_set(e, code, "store: %s: %s", q->op, msg);
}

/* ---- binding ----------------------------------------------------------- */

void pg_q_init(struct pg_q *q, struct pg_store *s, enum pg_id id,
               const char *op)
{
    memset(q, 0, sizeof(*q));
    q->s = s;
    q->id = id;
    q->op = op;
}

/* The next parameter slot, or NULL when there are too many. */
static int q_slot(struct pg_q *q)
{
    if (q->n >= PG_MAX_PARAMS) {
        q->oom = true;
        return -1;
    }
    return q->n++;
}

void pg_q_int(struct pg_q *q, int64_t v)
{
    int i = q_slot(q);

    if (i < 0)
        return;
    snprintf(q->nums[i], sizeof(q->nums[i]), "%" PRId64, v);
    q->vals[i] = q->nums[i];
}

void pg_q_text(struct pg_q *q, const char *v)
{
    int i = q_slot(q);

    if (i >= 0)
        q->vals[i] = v;
}

void pg_q_text_owned(struct pg_q *q, char *v)
{
    int i = q_slot(q);

    if (i < 0 || v == NULL) {
        free(v);
        q->oom = true;
        return;
    }
    q->owned[i] = v;
    q->vals[i] = v;
}

void pg_q_bytea(struct pg_q *q, const void *v, size_t len)
{
    int i = q_slot(q);

    if (i < 0)
        return;
    if (len > INT32_MAX) {
        q->oom = true;
        return;
    }
    q->vals[i] = len > 0 ? v : "";
    q->lens[i] = (int)len;
    q->fmts[i] = 1; /* binary: the bytes as they are */
}

/* ---- running ----------------------------------------------------------- */

static int q_prepare(struct pg_q *q, struct mlc_err *e)
{
    struct pg_store *s = q->s;
    char name[16];
    PGresult *res;
    int rc = MLC_OK;

    if (s->prepared[q->id])
        return MLC_OK;
    snprintf(name, sizeof(name), "mlc%d", (int)q->id);
    res = PQprepare(s->conn, name, pg_sql[q->id], 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = q_fail(q, res, e);
    else
        s->prepared[q->id] = true;
    PQclear(res);
    return rc;
}

static int q_run_once(struct pg_q *q, struct mlc_err *e)
{
    char name[16];
    ExecStatusType st;
    int rc = q_prepare(q, e);

    if (rc != MLC_OK)
        return rc;
    snprintf(name, sizeof(name), "mlc%d", (int)q->id);
    q->res = PQexecPrepared(q->s->conn, name, q->n, q->vals, q->lens, q->fmts, 0);
    st = PQresultStatus(q->res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        q->rows = PQntuples(q->res);
        return MLC_OK;
    }
    rc = q_fail(q, q->res, e);
    PQclear(q->res);
    q->res = NULL;
    return rc;
}

/*
 * Outside a transaction a broken connection is replaced first, and a
 * statement that failed because the connection broke under it is sent
 * once more on a new one: at depth 0 a statement opens a transaction or
 * only reads (every write runs inside pg_tx_enter), so nothing can have
 * been written. Inside a transaction the loss is the caller's failure.
 */
int pg_q_exec(struct pg_q *q, struct mlc_err *e)
{
    struct pg_store *s = q->s;
    bool outside = s->base.tx_depth == 0;
    int rc;

    if (q->oom)
        return mlc_err_set(e, MLC_ENOMEM, "store: %s: out of memory", q->op);
    if (s->walking[q->id])
        return mlc_err_set(e, MLC_ESTATE,
                           "store: %s: called from inside a list callback",
                           q->op);
    if (!pg_conn_ok(s)) {
        if (!outside)
            return mlc_err_set(e, MLC_EIO, "store: connection lost: %s: the "
                               "transaction was rolled back", q->op);
        if ((rc = pg_connect(s, e)) != MLC_OK) {
            mlc_err_wrap(e, "store: connection lost: %s", q->op);
            return rc;
        }
    }
    rc = q_run_once(q, e);
    if (rc != MLC_OK && outside && !pg_conn_ok(s) && pg_connect(s, NULL) == MLC_OK)
        rc = q_run_once(q, e);
    return rc;
}

void pg_q_end(struct pg_q *q)
{
    PQclear(q->res);
    q->res = NULL;
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        free(q->owned[i]);
        q->owned[i] = NULL;
    }
}

int pg_run(struct pg_store *s, enum pg_id id, const char *op,
           struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, id, op);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

bool pg_null(const struct pg_q *q, int row, int col)
{
    return PQgetisnull(q->res, row, col) != 0;
}

int64_t pg_int(const struct pg_q *q, int row, int col)
{
    const char *v;

    if (pg_null(q, row, col))
        return 0;
    v = PQgetvalue(q->res, row, col);
    /* PostgreSQL prints booleans as t/f. */
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    return strtoll(v, NULL, 10);
}

const char *pg_text(const struct pg_q *q, int row, int col)
{
    return pg_null(q, row, col) ? NULL : PQgetvalue(q->res, row, col);
}

char *pg_dup(const struct pg_q *q, int row, int col, bool *oom)
{
    const char *v = pg_text(q, row, col);
    char *d;

    if (v == NULL)
        return NULL;
    if ((d = strdup(v)) == NULL)
        *oom = true;
    return d;
}

/* ---- array literals ---------------------------------------------------- */

/* {"a","b\"c"}: every element quoted, " and \ escaped. */
char *pg_text_array(const char *const *v)
{
    size_t cap = 3, n = 0;
    char *out;

    for (size_t i = 0; v[i] != NULL; i++)
        cap += strlen(v[i]) * 2 + 3;
    if ((out = malloc(cap)) == NULL)
        return NULL;
    out[n++] = '{';
    for (size_t i = 0; v[i] != NULL; i++) {
        if (i > 0)
            out[n++] = ',';
        out[n++] = '"';
        for (const char *c = v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                out[n++] = '\\';
            out[n++] = *c;
        }
        out[n++] = '"';
    }
    out[n++] = '}';
    out[n] = '\0';
    return out;
}

char *pg_int_array(const int64_t *v, size_t n)
{
    size_t cap = 3 + n * 22, len = 0;
    char *out = malloc(cap);

    if (out == NULL)
        return NULL;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%" PRId64,
                                i > 0 ? "," : "", v[i]);
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

/* FNV-1a 64: stable across processes and versions of mlc, which must all
 * lock the same key for the same job. */
int64_t pg_key_lock_id(const char *kind, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint64_t prime = 0x100000001b3ULL;

    for (const unsigned char *c = (const unsigned char *)kind; *c; c++)
        h = (h ^ *c) * prime;
    h = (h ^ 0x1f) * prime;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * prime;
    return (int64_t)h;
}
