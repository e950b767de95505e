/*
 * sqlite_export: every durable row out and in as is, for mlc store migrate.
 *
 * One descriptor per table: its export SELECT (whole rows in primary-key
 * order), a reader that points a struct store_row into the statement's
 * current row, its import INSERT with its parameter names in column
 * order, and a check; the values bound are store_row_values'. Imports
 * keep every value (ids, states, attempts, owners, times): nothing is
 * taken from the clock.
 * Leases and shared records are run-time state and are not moved.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_row.h"

struct table_io {
    enum sq_id  export_id, import_id;
    const char *export_op, *import_op; /* operation names in errors */
    /* Fills r from the statement's current row; strings are borrowed. */
    int (*read)(sqlite3_stmt *stmt, struct store_row *r, struct mlc_err *e);
    /* The import INSERT's parameters (":id", ...), in column order. */
    const char *const *params;
    /* NULL, or MLC_EINVAL for a value the table cannot hold (an unknown
     * state, a blob without bytes). */
    int (*check)(const struct store_row *r, struct mlc_err *e);
    /* The row's key, for the MLC_EEXIST message. */
    void (*key)(const struct store_row *r, char *buf, size_t cap);
};

/* A text column, borrowed; NULL stays NULL. store_job and store_ledger
 * hold char * because they usually own their strings: here they do not,
 * and nobody writes through them. */
static char *col_borrow(sqlite3_stmt *stmt, int i)
{
    return (char *)sq_col_text(stmt, i);
}

/* ---- events ------------------------------------------------------------ */

static int read_event(sqlite3_stmt *stmt, struct store_row *r,
                      struct mlc_err *e)
{
    struct store_event_row *v = &r->u.event;

    (void)e;
    v->id = sqlite3_column_int64(stmt, EVENT_COL_ID);
    v->source = sq_col_text(stmt, EVENT_COL_SOURCE);
    v->dedupe_key = sq_col_text(stmt, EVENT_COL_DEDUPE_KEY);
    v->kind = sq_col_text(stmt, EVENT_COL_KIND);
    v->resource = sq_col_text(stmt, EVENT_COL_RESOURCE);
    v->payload = sq_col_text(stmt, EVENT_COL_PAYLOAD);
    v->received_at = sqlite3_column_int64(stmt, EVENT_COL_RECEIVED_AT);
    return MLC_OK;
}

static void key_event(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "id %lld or dedupe key %s", (long long)r->u.event.id,
             r->u.event.dedupe_key != NULL ? r->u.event.dedupe_key : "(null)");
}

/* ---- jobs -------------------------------------------------------------- */

static int read_job_row(sqlite3_stmt *stmt, struct store_row *r,
                        struct mlc_err *e)
{
    struct store_job *j = &r->u.job;

    j->id = sqlite3_column_int64(stmt, JOB_COL_ID);
    j->kind = col_borrow(stmt, JOB_COL_KIND);
    j->key = col_borrow(stmt, JOB_COL_KEY);
    j->payload = col_borrow(stmt, JOB_COL_PAYLOAD);
    j->attempts = sqlite3_column_int(stmt, JOB_COL_ATTEMPTS);
    j->run_at = sqlite3_column_int64(stmt, JOB_COL_RUN_AT);
    j->owner = col_borrow(stmt, JOB_COL_OWNER);
    j->lease_until = sqlite3_column_int64(stmt, JOB_COL_LEASE_UNTIL);
    j->last_error = col_borrow(stmt, JOB_COL_LAST_ERROR);
    j->created_at = sqlite3_column_int64(stmt, JOB_COL_CREATED_AT);
    j->updated_at = sqlite3_column_int64(stmt, JOB_COL_UPDATED_AT);
    j->paused_on = col_borrow(stmt, JOB_COL_PAUSED_ON);
    j->hold_code = col_borrow(stmt, JOB_COL_HOLD_CODE);
    j->hold_amount = sqlite3_column_int64(stmt, JOB_COL_HOLD_AMOUNT);
    j->hold_currency = col_borrow(stmt, JOB_COL_HOLD_CURRENCY);
    j->dismissed_at = sqlite3_column_int64(stmt, JOB_COL_DISMISSED_AT);
    j->dismissed_by = col_borrow(stmt, JOB_COL_DISMISSED_BY);
    j->dismiss_note = col_borrow(stmt, JOB_COL_DISMISS_NOTE);
    if (store_job_state_parse(sq_col_text(stmt, JOB_COL_STATE),
                              &j->state) != MLC_OK)
        return mlc_err_set(e, MLC_EIO, "store: job %lld has an unknown state",
                           (long long)j->id);
    return MLC_OK;
}

static int check_job(const struct store_row *r, struct mlc_err *e)
{
    const struct store_job *j = &r->u.job;
    enum store_job_state parsed;
    const char *state = store_job_state_name(j->state);

    if (store_job_state_parse(state, &parsed) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "store: import of job %lld: unknown "
                           "state %d", (long long)j->id, (int)j->state);
    return MLC_OK;
}

/* The partial unique index on READY jobs can refuse a row too. */
static void key_job(const struct store_row *r, char *buf, size_t cap)
{
    const struct store_job *j = &r->u.job;

    snprintf(buf, cap, "id %lld (or a ready job %s %s)", (long long)j->id,
             j->kind != NULL ? j->kind : "(null)",
             j->key != NULL ? j->key : "(null)");
}

/* ---- ledger ------------------------------------------------------------ */

static int read_ledger_row(sqlite3_stmt *stmt, struct store_row *r,
                           struct mlc_err *e)
{
    struct store_ledger *l = &r->u.ledger;

    l->key = col_borrow(stmt, LEDGER_COL_KEY);
    l->kind = col_borrow(stmt, LEDGER_COL_KIND);
    l->entity = col_borrow(stmt, LEDGER_COL_ENTITY);
    l->doc_type = col_borrow(stmt, LEDGER_COL_DOC_TYPE);
    l->doc_company = col_borrow(stmt, LEDGER_COL_DOC_COMPANY);
    l->doc_number = sqlite3_column_int64(stmt, LEDGER_COL_DOC_NUMBER);
    l->batch = sqlite3_column_int64(stmt, LEDGER_COL_BATCH);
    l->request = col_borrow(stmt, LEDGER_COL_REQUEST);
    l->created_at = sqlite3_column_int64(stmt, LEDGER_COL_CREATED_AT);
    l->updated_at = sqlite3_column_int64(stmt, LEDGER_COL_UPDATED_AT);
    if (store_ledger_state_parse(sq_col_text(stmt, LEDGER_COL_STATE),
                                 &l->state) != MLC_OK)
        return mlc_err_set(e, MLC_EIO, "store: ledger row %s has an unknown "
                           "state", l->key != NULL ? l->key : "(null)");
    return MLC_OK;
}

static int check_ledger(const struct store_row *r, struct mlc_err *e)
{
    const struct store_ledger *l = &r->u.ledger;
    enum store_ledger_state parsed;
    const char *state = store_ledger_state_name(l->state);

    if (store_ledger_state_parse(state, &parsed) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "store: import of ledger row %s: "
                           "unknown state %d",
                           l->key != NULL ? l->key : "(null)", (int)l->state);
    return MLC_OK;
}

static void key_ledger(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "key %s",
             r->u.ledger.key != NULL ? r->u.ledger.key : "(null)");
}

/* ---- audit ------------------------------------------------------------- */

static int read_audit_row(sqlite3_stmt *stmt, struct store_row *r,
                          struct mlc_err *e)
{
    struct store_audit *a = &r->u.audit;

    (void)e;
    a->id = sqlite3_column_int64(stmt, AUDIT_COL_ID);
    a->at = sqlite3_column_int64(stmt, AUDIT_COL_AT);
    a->actor = sq_col_text(stmt, AUDIT_COL_ACTOR);
    a->entity = sq_col_text(stmt, AUDIT_COL_ENTITY);
    a->action = sq_col_text(stmt, AUDIT_COL_ACTION);
    a->outcome = sq_col_text(stmt, AUDIT_COL_OUTCOME);
    a->detail = sq_col_text(stmt, AUDIT_COL_DETAIL);
    return MLC_OK;
}

static void key_audit(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "id %lld", (long long)r->u.audit.id);
}

/* ---- watermarks -------------------------------------------------------- */

static int read_watermark(sqlite3_stmt *stmt, struct store_row *r,
                          struct mlc_err *e)
{
    struct store_watermark_row *w = &r->u.watermark;

    (void)e;
    w->name = sq_col_text(stmt, WM_COL_NAME);
    w->value = sq_col_text(stmt, WM_COL_VALUE);
    w->updated_at = sqlite3_column_int64(stmt, WM_COL_UPDATED_AT);
    return MLC_OK;
}

static void key_watermark(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "name %s",
             r->u.watermark.name != NULL ? r->u.watermark.name : "(null)");
}

/* ---- credential rows --------------------------------------------------- */

static int read_secret(sqlite3_stmt *stmt, struct store_row *r,
                       struct mlc_err *e)
{
    struct store_secret_row *s = &r->u.secret;

    (void)e;
    s->name = sq_col_text(stmt, SECRET_ROW_COL_NAME);
    /* blob before bytes (SQLite's rule); an empty blob reads as NULL. */
    s->blob = sqlite3_column_blob(stmt, SECRET_ROW_COL_BLOB);
    s->len = (size_t)sqlite3_column_bytes(stmt, SECRET_ROW_COL_BLOB);
    if (s->blob == NULL)
        s->blob = "";
    s->updated_at = sqlite3_column_int64(stmt, SECRET_ROW_COL_UPDATED_AT);
    return MLC_OK;
}

static int check_secret(const struct store_row *r, struct mlc_err *e)
{
    const struct store_secret_row *s = &r->u.secret;

    if (s->blob == NULL && s->len > 0)
        return mlc_err_set(e, MLC_EINVAL, "store: import of secret %s: no "
                           "bytes", s->name != NULL ? s->name : "(null)");
    return MLC_OK;
}

static void key_secret(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "name %s",
             r->u.secret.name != NULL ? r->u.secret.name : "(null)");
}

/* ---- reports ----------------------------------------------------------- */

static int read_report(sqlite3_stmt *stmt, struct store_row *r,
                       struct mlc_err *e)
{
    struct store_report_row *v = &r->u.report;

    (void)e;
    v->id = sqlite3_column_int64(stmt, REPORT_COL_ID);
    v->day = sq_col_text(stmt, REPORT_COL_DAY);
    v->kind = sq_col_text(stmt, REPORT_COL_KIND);
    v->created_at = sqlite3_column_int64(stmt, REPORT_COL_CREATED_AT);
    v->body = sq_col_text(stmt, REPORT_COL_BODY);
    v->differences = sqlite3_column_int64(stmt, REPORT_COL_DIFFERENCES);
    return MLC_OK;
}

static void key_report(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "id %lld", (long long)r->u.report.id);
}

/* ---- alerts ------------------------------------------------------------ */

static int read_alert(sqlite3_stmt *stmt, struct store_row *r,
                      struct mlc_err *e)
{
    struct store_alert *v = &r->u.alert;

    (void)e;
    v->id = sqlite3_column_int64(stmt, ALERT_COL_ID);
    v->dedupe_key = sq_col_text(stmt, ALERT_COL_DEDUPE_KEY);
    v->reason = sq_col_text(stmt, ALERT_COL_REASON);
    v->created_at = sqlite3_column_int64(stmt, ALERT_COL_CREATED_AT);
    v->body = sq_col_text(stmt, ALERT_COL_BODY);
    return MLC_OK;
}

static void key_alert(const struct store_row *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "id %lld", (long long)r->u.alert.id);
}

/* ---- the tables -------------------------------------------------------- */

/* [JOB_COL_ID] = ":id", ...: each column's parameter at its index. */
#define PARAM_AT(id, name) [id] = SQ_COL_PARAM(id, name),

static const char *const event_params[] = { STORE_EVENT_COLUMNS(PARAM_AT, ) };
static const char *const job_params[] = { STORE_JOB_COLUMNS(PARAM_AT, ) };
static const char *const ledger_params[] = { STORE_LEDGER_COLUMNS(PARAM_AT, ) };
static const char *const audit_params[] = { STORE_AUDIT_COLUMNS(PARAM_AT, ) };
static const char *const wm_params[] = { STORE_WM_COLUMNS(PARAM_AT, ) };
static const char *const report_params[] = { STORE_REPORT_COLUMNS(PARAM_AT, ) };
static const char *const alert_params[] = { STORE_ALERT_COLUMNS(PARAM_AT, ) };
static const char *const secret_params[] = {
    STORE_SECRET_ROW_COLUMNS(PARAM_AT, )
};

static const struct table_io tables[STORE_TABLE_COUNT] = {
    [STORE_TABLE_EVENTS] = { SQ_EXPORT_EVENTS, SQ_IMPORT_EVENT,
        "export events", "import into events",
        read_event, event_params, NULL, key_event },
    [STORE_TABLE_JOBS] = { SQ_EXPORT_JOBS, SQ_IMPORT_JOB,
        "export jobs", "import into jobs",
        read_job_row, job_params, check_job, key_job },
    [STORE_TABLE_LEDGER] = { SQ_EXPORT_LEDGER, SQ_IMPORT_LEDGER,
        "export ledger", "import into ledger",
        read_ledger_row, ledger_params, check_ledger, key_ledger },
    [STORE_TABLE_AUDIT] = { SQ_EXPORT_AUDIT, SQ_IMPORT_AUDIT,
        "export audit", "import into audit",
        read_audit_row, audit_params, NULL, key_audit },
    [STORE_TABLE_WATERMARKS] = { SQ_EXPORT_WATERMARKS, SQ_IMPORT_WATERMARK,
        "export watermarks", "import into watermarks",
        read_watermark, wm_params, NULL, key_watermark },
    [STORE_TABLE_SECRETS] = { SQ_EXPORT_SECRETS, SQ_IMPORT_SECRET,
        "export secrets", "import into secrets",
        read_secret, secret_params, check_secret, key_secret },
    [STORE_TABLE_REPORTS] = { SQ_EXPORT_REPORTS, SQ_IMPORT_REPORT,
        "export reports", "import into reports",
        read_report, report_params, NULL, key_report },
    [STORE_TABLE_ALERTS] = { SQ_EXPORT_ALERTS, SQ_IMPORT_ALERT,
        "export alerts", "import into alerts",
        read_alert, alert_params, NULL, key_alert },
};

/* One SELECT walks the table: one read snapshot, whatever fn takes. */
int sq_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e)
{
    const struct table_io *t = &tables[table];
    struct store_row r;
    struct sq_q q;
    int stop = 0, end, rc = sq_q_begin(&q, sq_of(st), t->export_id,
                                       t->export_op, e);

    if (rc != MLC_OK)
        return rc;
    while (stop == 0 && sq_q_step(&q) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        r.table = table;
        if ((rc = t->read(q.stmt, &r, e)) != MLC_OK)
            break;
        stop = fn(&r, ctx);
    }
    end = sq_q_end(&q, e);
    if (rc != MLC_OK)
        return rc;
    return end != MLC_OK ? end : stop;
}

/* r's values (store_row_values) to their named parameters. */
static void bind_row(struct sq_q *q, const struct table_io *t,
                     const struct store_row *r)
{
    struct store_val v[STORE_ROW_MAX_COLS];
    size_t n = store_row_values(r, v);

    for (size_t i = 0; i < n; i++) {
        if (v[i].type == STORE_VAL_INT)
            sq_q_int(q, t->params[i], v[i].i);
        else if (v[i].type == STORE_VAL_TEXT)
            sq_q_text(q, t->params[i], v[i].text);
        else
            sq_q_blob(q, t->params[i], v[i].blob, v[i].len);
    }
}

static int import_tx(struct sq_store *s, const struct table_io *t,
                     const struct store_row *r, struct mlc_err *e)
{
    char key[256];
    struct sq_q q;
    bool inserted;
    int rc = sq_q_begin(&q, s, t->import_id, t->import_op, e);

    if (rc != MLC_OK)
        return rc;
    if (t->check != NULL && (rc = t->check(r, e)) != MLC_OK) {
        sq_q_end(&q, NULL);
        return rc;
    }
    bind_row(&q, t, r);
    inserted = sq_q_step(&q) == SQLITE_DONE && sq_q_changes(&q) > 0;
    if ((rc = sq_q_end(&q, e)) != MLC_OK)
        return rc;
    if (!inserted) {
        t->key(r, key, sizeof(key));
        return mlc_err_set(e, MLC_EEXIST, "store: %s: %s is taken",
                           t->import_op, key);
    }
    return MLC_OK;
}

int sq_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, import_tx(s, &tables[r->table], r, e), e);
}

/* Nothing to move: an AUTOINCREMENT table's sequence already follows every
 * explicit id inserted above it (sqlite_sequence), so the next id the store
 * hands out is past the largest imported one. */
int sq_import_finish(struct store *st, struct mlc_err *e)
{
    (void)st;
    (void)e;
    return MLC_OK;
}
