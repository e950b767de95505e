/*
 * pg_export: every durable row out and in as is (mlc store migrate).
 *
 * An export walks one table in primary-key order, a page at a time, so a
 * large table never sits in memory whole; outside the caller's
 * transaction the pages share one REPEATABLE READ snapshot. An import
 * keeps ids (OVERRIDING SYSTEM VALUE), and import_finish moves the
 * identity sequences past them.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"
#include "store/store_row.h"

#define EXPORT_PAGE 500

static const enum pg_id export_stmt[STORE_TABLE_COUNT] = {
    [STORE_TABLE_EVENTS]     = PG_EXPORT_EVENTS,
    [STORE_TABLE_JOBS]       = PG_EXPORT_JOBS,
    [STORE_TABLE_LEDGER]     = PG_EXPORT_LEDGER,
    [STORE_TABLE_AUDIT]      = PG_EXPORT_AUDIT,
    [STORE_TABLE_WATERMARKS] = PG_EXPORT_WATERMARKS,
    [STORE_TABLE_SECRETS]    = PG_EXPORT_SECRETS,
    [STORE_TABLE_REPORTS]    = PG_EXPORT_REPORTS,
    [STORE_TABLE_ALERTS]     = PG_EXPORT_ALERTS,
};

/* Tables keyed by a text (ledger, watermarks, secrets) page by that key. */
static bool text_keyed(enum store_table t)
{
    return t == STORE_TABLE_LEDGER || t == STORE_TABLE_WATERMARKS ||
           t == STORE_TABLE_SECRETS;
}

/* Fills r from row i; a job or ledger row and a secret's blob are copies
 * (released by row_clear), every other string points into the result. */
static int read_row(const struct pg_q *q, int i, struct store_row *r,
                    struct mlc_err *e)
{
    switch (r->table) {
    case STORE_TABLE_EVENTS:
        r->u.event = (struct store_event_row){
            .id = pg_int(q, i, EVENT_COL_ID),
            .source = pg_text(q, i, EVENT_COL_SOURCE),
            .dedupe_key = pg_text(q, i, EVENT_COL_DEDUPE_KEY),
            .kind = pg_text(q, i, EVENT_COL_KIND),
            .resource = pg_text(q, i, EVENT_COL_RESOURCE),
            .payload = pg_text(q, i, EVENT_COL_PAYLOAD),
            .received_at = pg_int(q, i, EVENT_COL_RECEIVED_AT) };
        return MLC_OK;
    case STORE_TABLE_JOBS:
        memset(&r->u.job, 0, sizeof(r->u.job));
        return pg_read_job(q, i, &r->u.job, e);
    case STORE_TABLE_LEDGER: {
        struct store_ledger *l = &r->u.ledger;
        bool oom = false;

        memset(l, 0, sizeof(*l));
        l->key = pg_dup(q, i, LEDGER_COL_KEY, &oom);
        l->kind = pg_dup(q, i, LEDGER_COL_KIND, &oom);
        l->entity = pg_dup(q, i, LEDGER_COL_ENTITY, &oom);
        l->doc_type = pg_dup(q, i, LEDGER_COL_DOC_TYPE, &oom);
        l->doc_company = pg_dup(q, i, LEDGER_COL_DOC_COMPANY, &oom);
        l->doc_number = pg_int(q, i, LEDGER_COL_DOC_NUMBER);
        l->batch = pg_int(q, i, LEDGER_COL_BATCH);
        l->request = pg_dup(q, i, LEDGER_COL_REQUEST, &oom);
        l->created_at = pg_int(q, i, LEDGER_COL_CREATED_AT);
        l->updated_at = pg_int(q, i, LEDGER_COL_UPDATED_AT);
        if (oom || store_ledger_state_parse(pg_text(q, i, LEDGER_COL_STATE),
                                            &l->state) != MLC_OK) {
            store_ledger_clear(l);
            return mlc_err_set(e, oom ? MLC_ENOMEM : MLC_EIO,
                               "store: export: bad ledger row");
        }
        return MLC_OK;
    }
    case STORE_TABLE_AUDIT:
        r->u.audit = (struct store_audit){
            .id = pg_int(q, i, AUDIT_COL_ID), .at = pg_int(q, i, AUDIT_COL_AT),
            .actor = pg_text(q, i, AUDIT_COL_ACTOR),
            .entity = pg_text(q, i, AUDIT_COL_ENTITY),
            .action = pg_text(q, i, AUDIT_COL_ACTION),
            .outcome = pg_text(q, i, AUDIT_COL_OUTCOME),
            .detail = pg_text(q, i, AUDIT_COL_DETAIL) };
        return MLC_OK;
    case STORE_TABLE_WATERMARKS:
        r->u.watermark = (struct store_watermark_row){
            .name = pg_text(q, i, WM_COL_NAME),
            .value = pg_text(q, i, WM_COL_VALUE),
            .updated_at = pg_int(q, i, WM_COL_UPDATED_AT) };
        return MLC_OK;
    case STORE_TABLE_SECRETS: {
        void *blob = NULL;
        size_t len = 0;
        int rc = pg_bytea_copy(pg_text(q, i, SECRET_ROW_COL_BLOB), &blob, &len, e);

        r->u.secret = (struct store_secret_row){
            .name = pg_text(q, i, SECRET_ROW_COL_NAME), .blob = blob, .len = len,
            .updated_at = pg_int(q, i, SECRET_ROW_COL_UPDATED_AT) };
        return rc;
    }
    case STORE_TABLE_REPORTS:
        r->u.report = (struct store_report_row){
            .id = pg_int(q, i, REPORT_COL_ID),
            .day = pg_text(q, i, REPORT_COL_DAY),
            .kind = pg_text(q, i, REPORT_COL_KIND),
            .created_at = pg_int(q, i, REPORT_COL_CREATED_AT),
            .body = pg_text(q, i, REPORT_COL_BODY),
            .differences = pg_int(q, i, REPORT_COL_DIFFERENCES) };
        return MLC_OK;
    case STORE_TABLE_ALERTS:
        r->u.alert = (struct store_alert){
            .id = pg_int(q, i, ALERT_COL_ID),
            .dedupe_key = pg_text(q, i, ALERT_COL_DEDUPE_KEY),
            .reason = pg_text(q, i, ALERT_COL_REASON),
            .created_at = pg_int(q, i, ALERT_COL_CREATED_AT),
            .body = pg_text(q, i, ALERT_COL_BODY) };
        return MLC_OK;
    default:
        return mlc_err_set(e, MLC_EINVAL, "store: unknown table");
    }
}

static void row_clear(struct store_row *r)
{
    if (r->table == STORE_TABLE_JOBS)
        store_job_clear(&r->u.job);
    else if (r->table == STORE_TABLE_LEDGER)
        store_ledger_clear(&r->u.ledger);
    else if (r->table == STORE_TABLE_SECRETS)
        free((void *)r->u.secret.blob);
}

/* One page after *last_id / last_key; *more: a full page came back. */
static int export_page(struct pg_store *s, enum store_table table,
                       int64_t *last_id, char **last_key, bool *more,
                       int (*fn)(const struct store_row *r, void *ctx),
                       void *ctx, int *stop, struct mlc_err *e)
{
    enum pg_id id = export_stmt[table];
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, id, "export");
    if (text_keyed(table))
        pg_q_text(&q, *last_key != NULL ? *last_key : "");
    else
        pg_q_int(&q, *last_id);
    pg_q_int(&q, EXPORT_PAGE);
    rc = pg_q_exec(&q, e);
    *more = rc == MLC_OK && q.rows == EXPORT_PAGE;
    s->walking[id] = true;
    for (int i = 0; rc == MLC_OK && *stop == 0 && i < q.rows; i++) {
        struct store_row r = { .table = table };

        if ((rc = read_row(&q, i, &r, e)) == MLC_OK)
            *stop = fn(&r, ctx);
        row_clear(&r);
        if (i == q.rows - 1 && text_keyed(table)) {
            free(*last_key);
            if ((*last_key = strdup(pg_text(&q, i, 0))) == NULL)
                rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
        } else if (i == q.rows - 1) {
            *last_id = pg_int(&q, i, 0);
        }
    }
    s->walking[id] = false;
    pg_q_end(&q);
    return rc;
}

static int export_walk(struct pg_store *s, enum store_table table,
                       int (*fn)(const struct store_row *r, void *ctx),
                       void *ctx, struct mlc_err *e)
{
    int64_t last_id = 0;
    char *last_key = NULL;
    bool more = true;
    int stop = 0, rc = MLC_OK;

    while (rc == MLC_OK && more && stop == 0)
        rc = export_page(s, table, &last_id, &last_key, &more, fn, ctx, &stop, e);
    free(last_key);
    return rc != MLC_OK ? rc : stop;
}

int pg_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc;

    if (s->base.tx_depth > 0)
        return export_walk(s, table, fn, ctx, e);
    if ((rc = pg_run(s, PG_BEGIN_SNAPSHOT, "export", e)) != MLC_OK)
        return rc;
    s->base.tx_depth++;
    rc = export_walk(s, table, fn, ctx, e);
    /* Read only: a rollback ends it as well as a commit would. */
    if (pg_conn_ok(s))
        pg_run(s, PG_ROLLBACK, "export", NULL);
    s->base.tx_depth--;
    return rc;
}

/* ---- import ------------------------------------------------------------ */

/* r's values (store_row_values) to $1, $2, ... in column order. */
static void bind_row(struct pg_q *q, const struct store_row *r)
{
    struct store_val v[STORE_ROW_MAX_COLS];
    size_t n = store_row_values(r, v);

    for (size_t i = 0; i < n; i++) {
        if (v[i].type == STORE_VAL_INT)
            pg_q_int(q, v[i].i);
        else if (v[i].type == STORE_VAL_TEXT)
            pg_q_text(q, v[i].text);
        else
            pg_q_bytea(q, v[i].blob, v[i].len);
    }
}

static const enum pg_id import_stmt[STORE_TABLE_COUNT] = {
    [STORE_TABLE_EVENTS]     = PG_IMPORT_EVENT,
    [STORE_TABLE_JOBS]       = PG_IMPORT_JOB,
    [STORE_TABLE_LEDGER]     = PG_IMPORT_LEDGER,
    [STORE_TABLE_AUDIT]      = PG_IMPORT_AUDIT,
    [STORE_TABLE_WATERMARKS] = PG_IMPORT_WATERMARK,
    [STORE_TABLE_SECRETS]    = PG_IMPORT_SECRET,
    [STORE_TABLE_REPORTS]    = PG_IMPORT_REPORT,
    [STORE_TABLE_ALERTS]     = PG_IMPORT_ALERT,
};

static int import_tx(struct pg_store *s, const struct store_row *r,
                     struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    if (r->table == STORE_TABLE_SECRETS && r->u.secret.blob == NULL &&
        r->u.secret.len > 0)
        return mlc_err_set(e, MLC_EINVAL, "store: import: secret without a blob");
    pg_q_init(&q, s, import_stmt[r->table], "import");
    bind_row(&q, r);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_EEXIST, "store: import into %s: the row's key "
                         "is taken", store_table_name(r->table));
    pg_q_end(&q);
    return rc;
}

int pg_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, import_tx(s, r, e), e);
}

int pg_import_finish(struct store *st, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, pg_run(s, PG_IMPORT_FINISH, "import finish", e), e);
}
