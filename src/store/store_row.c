/*
 * store_row: a row's values in column order (store_row.h). Each table's
 * values are written at their column's index, so the order follows the
 * column list of store_sql.h whatever order they are written in.
 */
#include "store/store_row.h"

static struct store_val val_int(int64_t i)
{
    return (struct store_val){ .type = STORE_VAL_INT, .i = i };
}

static struct store_val val_text(const char *text)
{
    return (struct store_val){ .type = STORE_VAL_TEXT, .text = text };
}

static size_t event_values(const struct store_event_row *r,
                           struct store_val *v)
{
    v[EVENT_COL_ID] = val_int(r->id);
    v[EVENT_COL_SOURCE] = val_text(r->source);
    v[EVENT_COL_DEDUPE_KEY] = val_text(r->dedupe_key);
    v[EVENT_COL_KIND] = val_text(r->kind);
    v[EVENT_COL_RESOURCE] = val_text(r->resource);
    v[EVENT_COL_PAYLOAD] = val_text(r->payload);
    v[EVENT_COL_RECEIVED_AT] = val_int(r->received_at);
    return EVENT_COL_COUNT;
}

static size_t job_values(const struct store_job *r, struct store_val *v)
{
    v[JOB_COL_ID] = val_int(r->id);
    v[JOB_COL_KIND] = val_text(r->kind);
    v[JOB_COL_KEY] = val_text(r->key);
    v[JOB_COL_PAYLOAD] = val_text(r->payload);
    v[JOB_COL_STATE] = val_text(store_job_state_name(r->state));
    v[JOB_COL_ATTEMPTS] = val_int(r->attempts);
    v[JOB_COL_RUN_AT] = val_int(r->run_at);
    v[JOB_COL_OWNER] = val_text(r->owner);
    v[JOB_COL_LEASE_UNTIL] = val_int(r->lease_until);
    v[JOB_COL_LAST_ERROR] = val_text(r->last_error);
    v[JOB_COL_CREATED_AT] = val_int(r->created_at);
    v[JOB_COL_UPDATED_AT] = val_int(r->updated_at);
    v[JOB_COL_PAUSED_ON] = val_text(r->paused_on);
    v[JOB_COL_HOLD_CODE] = val_text(r->hold_code);
    v[JOB_COL_HOLD_AMOUNT] = val_int(r->hold_amount);
    v[JOB_COL_HOLD_CURRENCY] = val_text(r->hold_currency);
    v[JOB_COL_DISMISSED_AT] = val_int(r->dismissed_at);
    v[JOB_COL_DISMISSED_BY] = val_text(r->dismissed_by);
    v[JOB_COL_DISMISS_NOTE] = val_text(r->dismiss_note);
    return JOB_COL_COUNT;
}

static size_t ledger_values(const struct store_ledger *r, struct store_val *v)
{
    v[LEDGER_COL_KEY] = val_text(r->key);
    v[LEDGER_COL_KIND] = val_text(r->kind);
    v[LEDGER_COL_ENTITY] = val_text(r->entity);
    v[LEDGER_COL_STATE] = val_text(store_ledger_state_name(r->state));
    v[LEDGER_COL_DOC_TYPE] = val_text(r->doc_type);
    v[LEDGER_COL_DOC_COMPANY] = val_text(r->doc_company);
    v[LEDGER_COL_DOC_NUMBER] = val_int(r->doc_number);
    v[LEDGER_COL_BATCH] = val_int(r->batch);
    v[LEDGER_COL_REQUEST] = val_text(r->request);
    v[LEDGER_COL_CREATED_AT] = val_int(r->created_at);
    v[LEDGER_COL_UPDATED_AT] = val_int(r->updated_at);
    return LEDGER_COL_COUNT;
}

static size_t audit_values(const struct store_audit *r, struct store_val *v)
{
    v[AUDIT_COL_ID] = val_int(r->id);
    v[AUDIT_COL_AT] = val_int(r->at);
    v[AUDIT_COL_ACTOR] = val_text(r->actor);
    v[AUDIT_COL_ENTITY] = val_text(r->entity);
    v[AUDIT_COL_ACTION] = val_text(r->action);
    v[AUDIT_COL_OUTCOME] = val_text(r->outcome);
    v[AUDIT_COL_DETAIL] = val_text(r->detail);
    return AUDIT_COL_COUNT;
}

static size_t watermark_values(const struct store_watermark_row *r,
                               struct store_val *v)
{
    v[WM_COL_NAME] = val_text(r->name);
    v[WM_COL_VALUE] = val_text(r->value);
    v[WM_COL_UPDATED_AT] = val_int(r->updated_at);
    return WM_COL_COUNT;
}

static size_t secret_values(const struct store_secret_row *r,
                            struct store_val *v)
{
    v[SECRET_ROW_COL_NAME] = val_text(r->name);
    v[SECRET_ROW_COL_BLOB] = (struct store_val){ .type = STORE_VAL_BLOB,
                                                 .blob = r->blob,
                                                 .len = r->len };
    v[SECRET_ROW_COL_UPDATED_AT] = val_int(r->updated_at);
    return SECRET_ROW_COL_COUNT;
}

static size_t report_values(const struct store_report_row *r,
                            struct store_val *v)
{
    v[REPORT_COL_ID] = val_int(r->id);
    v[REPORT_COL_DAY] = val_text(r->day);
    v[REPORT_COL_KIND] = val_text(r->kind);
    v[REPORT_COL_CREATED_AT] = val_int(r->created_at);
    v[REPORT_COL_BODY] = val_text(r->body);
    v[REPORT_COL_DIFFERENCES] = val_int(r->differences);
    return REPORT_COL_COUNT;
}

static size_t alert_values(const struct store_alert *r, struct store_val *v)
{
    v[ALERT_COL_ID] = val_int(r->id);
    v[ALERT_COL_DEDUPE_KEY] = val_text(r->dedupe_key);
    v[ALERT_COL_REASON] = val_text(r->reason);
    v[ALERT_COL_CREATED_AT] = val_int(r->created_at);
    v[ALERT_COL_BODY] = val_text(r->body);
    return ALERT_COL_COUNT;
}

size_t store_row_values(const struct store_row *r,
                        struct store_val v[STORE_ROW_MAX_COLS])
{
    switch (r->table) {
    case STORE_TABLE_EVENTS:     return event_values(&r->u.event, v);
    case STORE_TABLE_JOBS:       return job_values(&r->u.job, v);
    case STORE_TABLE_LEDGER:     return ledger_values(&r->u.ledger, v);
    case STORE_TABLE_AUDIT:      return audit_values(&r->u.audit, v);
    case STORE_TABLE_WATERMARKS: return watermark_values(&r->u.watermark, v);
    case STORE_TABLE_SECRETS:    return secret_values(&r->u.secret, v);
    case STORE_TABLE_REPORTS:    return report_values(&r->u.report, v);
    case STORE_TABLE_ALERTS:     return alert_values(&r->u.alert, v);
    default:                     return 0;
    }
}

_Static_assert((int)EVENT_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)LEDGER_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)AUDIT_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)WM_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)SECRET_ROW_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)REPORT_COL_COUNT <= STORE_ROW_MAX_COLS &&
               (int)ALERT_COL_COUNT <= STORE_ROW_MAX_COLS,
               "STORE_ROW_MAX_COLS must be the widest table");
