/*
 * store_sql: the SQL text both backends share (internal to src/store/).
 *
 * Row columns, each list written once: it makes both the column text of a
 * SELECT and the enum its reader indexes, so the two cannot drift. X(id,
 * name) is one column, SEP goes between two. Plain SQL names that SQLite
 * (sqlite_*.c) and PostgreSQL (pg_*.c) read alike; each backend keeps its
 * own statements around them (parameters and dialects differ).
 */
#ifndef MLC_STORE_STORE_SQL_H
#define MLC_STORE_STORE_SQL_H

#define STORE_JOB_COLUMNS(X, SEP) \
    X(JOB_COL_ID, "id") SEP X(JOB_COL_KIND, "kind") SEP \
    X(JOB_COL_KEY, "key") SEP X(JOB_COL_PAYLOAD, "payload") SEP \
    X(JOB_COL_STATE, "state") SEP X(JOB_COL_ATTEMPTS, "attempts") SEP \
    X(JOB_COL_RUN_AT, "run_at") SEP X(JOB_COL_OWNER, "owner") SEP \
    X(JOB_COL_LEASE_UNTIL, "lease_until") SEP \
    X(JOB_COL_LAST_ERROR, "last_error") SEP \
    X(JOB_COL_CREATED_AT, "created_at") SEP \
    X(JOB_COL_UPDATED_AT, "updated_at") SEP X(JOB_COL_PAUSED_ON, "paused_on") SEP \
    X(JOB_COL_HOLD_CODE, "hold_code") SEP X(JOB_COL_HOLD_AMOUNT, "hold_amount") SEP \
    X(JOB_COL_HOLD_CURRENCY, "hold_currency") SEP \
    X(JOB_COL_DISMISSED_AT, "dismissed_at") SEP \
    X(JOB_COL_DISMISSED_BY, "dismissed_by") SEP \
    X(JOB_COL_DISMISS_NOTE, "dismiss_note")

/* A key's latest dismissal (store_dismissal_get). */
#define STORE_DISMISSAL_COLUMNS(X, SEP) \
    X(DISMISSAL_COL_ID, "id") SEP X(DISMISSAL_COL_AT, "dismissed_at") SEP \
    X(DISMISSAL_COL_BY, "dismissed_by") SEP \
    X(DISMISSAL_COL_NOTE, "dismiss_note") SEP \
    X(DISMISSAL_COL_HOLD_CODE, "hold_code")

/* The READY twin of a (kind, key): what coalescing needs. */
#define STORE_TWIN_COLUMNS(X, SEP) \
    X(TWIN_COL_ID, "id") SEP X(TWIN_COL_RUN_AT, "run_at")

#define STORE_LEDGER_COLUMNS(X, SEP) \
    X(LEDGER_COL_KEY, "key") SEP X(LEDGER_COL_KIND, "kind") SEP \
    X(LEDGER_COL_ENTITY, "entity") SEP X(LEDGER_COL_STATE, "state") SEP \
    X(LEDGER_COL_DOC_TYPE, "doc_type") SEP \
    X(LEDGER_COL_DOC_COMPANY, "doc_company") SEP \
    X(LEDGER_COL_DOC_NUMBER, "doc_number") SEP \
    X(LEDGER_COL_BATCH, "batch") SEP X(LEDGER_COL_REQUEST, "request") SEP \
    X(LEDGER_COL_CREATED_AT, "created_at") SEP \
    X(LEDGER_COL_UPDATED_AT, "updated_at")

#define STORE_AUDIT_COLUMNS(X, SEP) \
    X(AUDIT_COL_ID, "id") SEP X(AUDIT_COL_AT, "at") SEP \
    X(AUDIT_COL_ACTOR, "actor") SEP X(AUDIT_COL_ENTITY, "entity") SEP \
    X(AUDIT_COL_ACTION, "action") SEP X(AUDIT_COL_OUTCOME, "outcome") SEP \
    X(AUDIT_COL_DETAIL, "detail")

/* The listing of credential names (the blobs stay behind). */
#define STORE_SECRET_COLUMNS(X, SEP) \
    X(SECRET_COL_NAME, "name") SEP X(SECRET_COL_UPDATED_AT, "updated_at")

#define STORE_LEASE_COLUMNS(X, SEP) \
    X(LEASE_COL_NAME, "name") SEP X(LEASE_COL_HOLDER, "holder") SEP \
    X(LEASE_COL_UNTIL, "until") SEP X(LEASE_COL_TOKEN, "token")

/* Whole rows of the tables that only an export reads in full. */
#define STORE_EVENT_COLUMNS(X, SEP) \
    X(EVENT_COL_ID, "id") SEP X(EVENT_COL_SOURCE, "source") SEP \
    X(EVENT_COL_DEDUPE_KEY, "dedupe_key") SEP X(EVENT_COL_KIND, "kind") SEP \
    X(EVENT_COL_RESOURCE, "resource") SEP X(EVENT_COL_PAYLOAD, "payload") SEP \
    X(EVENT_COL_RECEIVED_AT, "received_at")

#define STORE_WM_COLUMNS(X, SEP) \
    X(WM_COL_NAME, "name") SEP X(WM_COL_VALUE, "value") SEP \
    X(WM_COL_UPDATED_AT, "updated_at")

#define STORE_SECRET_ROW_COLUMNS(X, SEP) \
    X(SECRET_ROW_COL_NAME, "name") SEP X(SECRET_ROW_COL_BLOB, "blob") SEP \
    X(SECRET_ROW_COL_UPDATED_AT, "updated_at")

#define STORE_REPORT_COLUMNS(X, SEP) \
    X(REPORT_COL_ID, "id") SEP X(REPORT_COL_DAY, "day") SEP \
    X(REPORT_COL_KIND, "kind") SEP X(REPORT_COL_CREATED_AT, "created_at") SEP \
    X(REPORT_COL_BODY, "body") SEP X(REPORT_COL_DIFFERENCES, "differences")

/* The alerts outbox (notify/notify.h). */
#define STORE_ALERT_COLUMNS(X, SEP) \
    X(ALERT_COL_ID, "id") SEP X(ALERT_COL_DEDUPE_KEY, "dedupe_key") SEP \
    X(ALERT_COL_REASON, "reason") SEP X(ALERT_COL_CREATED_AT, "created_at") SEP \
    X(ALERT_COL_BODY, "body")

#define STORE_COL_ENUM(id, name) id,
#define STORE_COL_NAME(id, name) name

enum store_job_col { STORE_JOB_COLUMNS(STORE_COL_ENUM, ) JOB_COL_COUNT };
enum store_dismissal_col {
    STORE_DISMISSAL_COLUMNS(STORE_COL_ENUM, ) DISMISSAL_COL_COUNT
};
enum store_twin_col { STORE_TWIN_COLUMNS(STORE_COL_ENUM, ) TWIN_COL_COUNT };
enum store_ledger_col { STORE_LEDGER_COLUMNS(STORE_COL_ENUM, ) LEDGER_COL_COUNT };
enum store_audit_col { STORE_AUDIT_COLUMNS(STORE_COL_ENUM, ) AUDIT_COL_COUNT };
enum store_secret_col { STORE_SECRET_COLUMNS(STORE_COL_ENUM, ) SECRET_COL_COUNT };
enum store_lease_col { STORE_LEASE_COLUMNS(STORE_COL_ENUM, ) LEASE_COL_COUNT };
enum store_event_col { STORE_EVENT_COLUMNS(STORE_COL_ENUM, ) EVENT_COL_COUNT };
enum store_wm_col { STORE_WM_COLUMNS(STORE_COL_ENUM, ) WM_COL_COUNT };
enum store_report_col { STORE_REPORT_COLUMNS(STORE_COL_ENUM, ) REPORT_COL_COUNT };
enum store_alert_col { STORE_ALERT_COLUMNS(STORE_COL_ENUM, ) ALERT_COL_COUNT };
enum store_secret_row_col {
    STORE_SECRET_ROW_COLUMNS(STORE_COL_ENUM, ) SECRET_ROW_COL_COUNT
};

/* "id, kind, ...": the column text of each list above. */
#define JOB_COLS        STORE_JOB_COLUMNS(STORE_COL_NAME, ", ")
#define DISMISSAL_COLS  STORE_DISMISSAL_COLUMNS(STORE_COL_NAME, ", ")
#define TWIN_COLS       STORE_TWIN_COLUMNS(STORE_COL_NAME, ", ")
#define LEDGER_COLS     STORE_LEDGER_COLUMNS(STORE_COL_NAME, ", ")
#define AUDIT_COLS      STORE_AUDIT_COLUMNS(STORE_COL_NAME, ", ")
#define SECRET_COLS     STORE_SECRET_COLUMNS(STORE_COL_NAME, ", ")
#define LEASE_COLS      STORE_LEASE_COLUMNS(STORE_COL_NAME, ", ")
#define EVENT_COLS      STORE_EVENT_COLUMNS(STORE_COL_NAME, ", ")
#define WM_COLS         STORE_WM_COLUMNS(STORE_COL_NAME, ", ")
#define SECRET_ROW_COLS STORE_SECRET_ROW_COLUMNS(STORE_COL_NAME, ", ")
#define REPORT_COLS     STORE_REPORT_COLUMNS(STORE_COL_NAME, ", ")
#define ALERT_COLS      STORE_ALERT_COLUMNS(STORE_COL_NAME, ", ")

#endif
