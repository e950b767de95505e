/*
 * sqlite_sql: every SQL text of the SQLite backend, in one place to review.
 *
 * The schema steps are append-only: a shipped step is never edited. The
 * statements bind named parameters (:name), which is SQLite syntax: libpq
 * numbers them ($1), so a PostgreSQL backend keeps its own texts. What is
 * SQLite-only beyond that is marked "SQLite:" where it occurs. The column
 * lists (store_sql.h) are plain SQL that both backends share.
 */
#include "store/sqlite_int.h"

/* Applied in order, each in its own transaction; never edit a shipped step,
 * append a new one. SQLite: STRICT tables, AUTOINCREMENT, RAISE() in the
 * audit triggers. */
const char *const sq_migrations[] = {
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

    /* 3: several processes on one store: named leases with fencing tokens
     * (singleton tasks), small records they update together (the
     * BigCommerce request budget) */
    "CREATE TABLE leases ("
    "  name   TEXT PRIMARY KEY,"
    "  holder TEXT,"
    "  until  INTEGER NOT NULL DEFAULT 0,"
    "  token  INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE TABLE shared ("
    "  name       TEXT PRIMARY KEY,"
    "  value      BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;",

    /* 4: stored reports (the daily reconciliation); a day's latest row is
     * its report */
    "CREATE TABLE reports ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  day         TEXT NOT NULL,"
    "  kind        TEXT NOT NULL,"
    "  created_at  INTEGER NOT NULL,"
    "  body        TEXT NOT NULL,"
    "  differences INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX reports_day ON reports (kind, day, id);",
    /* 5: held items that explain themselves: the reason code and the money
     * that waits, decided by the flow that held the job; the dismissal of
     * an item handled by hand (who, when, why), looked up by key */
    "ALTER TABLE jobs ADD COLUMN hold_code TEXT;"
    "ALTER TABLE jobs ADD COLUMN hold_amount INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN hold_currency TEXT;"
    "ALTER TABLE jobs ADD COLUMN dismissed_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN dismissed_by TEXT;"
    "ALTER TABLE jobs ADD COLUMN dismiss_note TEXT;"
    "CREATE INDEX jobs_dismissed ON jobs (key, dismissed_at)"
    "  WHERE dismissed_at > 0;",
    /* 6: the alerts outbox: producers append (one row per dedupe key), the
     * leader's sender reads past each channel's cursor (a watermark) */
    "CREATE TABLE alerts ("
    "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  dedupe_key TEXT NOT NULL UNIQUE,"
    "  reason     TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  body       TEXT NOT NULL"
    ") STRICT;",
};

const int sq_schema_steps =
    (int)(sizeof(sq_migrations) / sizeof(sq_migrations[0]));

const char *const sq_sql[SQ_COUNT] = {
    /* SQLite: IMMEDIATE takes the write lock at once (see sqlite_int.h). */
    [SQ_BEGIN]       = "BEGIN IMMEDIATE",
    [SQ_COMMIT]      = "COMMIT",
    [SQ_ROLLBACK]    = "ROLLBACK",
    /* Savepoints stack by name, so one name serves every nesting level. */
    [SQ_SAVEPOINT]   = "SAVEPOINT mlc",
    [SQ_RELEASE]     = "RELEASE mlc",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO mlc",

    /* SQLite: STRICT, and the sqlite_schema catalog. */
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
        "SELECT " TWIN_COLS " FROM jobs"
        " WHERE kind = :kind AND key = :key AND state = 'ready'",
    [SQ_JOB_INSERT] =
        "INSERT INTO jobs"
        "  (kind, key, payload, state, run_at, created_at, updated_at)"
        " VALUES (:kind, :key, :payload, 'ready', :run_at, :now, :now)",
    /* SQLite: two-argument min() (PostgreSQL: least()). */
    [SQ_JOB_PULL_RUN_AT] =
        "UPDATE jobs SET run_at = min(run_at, :run_at), updated_at = :now"
        " WHERE id = :id",
    /* The oldest due READY job or RUNNING job whose lease expired, skipping
     * keys another owner is working on right now. INDEXED BY pins the walk
     * in (run_at, id) order over live jobs, which stops at the first match;
     * left alone, the planner (no ANALYZE stats) sorts every READY row.
     * SQLite: INDEXED BY, json_each() over the kinds array. */
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
        "       updated_at = :now, paused_on = NULL, hold_code = NULL,"
        "       hold_amount = 0, hold_currency = NULL"
        " WHERE id = :id",
    [SQ_JOB_DELETE] = "DELETE FROM jobs WHERE id = :id",
    [SQ_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = :id",
    /* SQLite: a negative :limit means no limit (sq_limit). */
    [SQ_JOB_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id LIMIT :limit",
    [SQ_JOB_LIST_STATE] =
        "SELECT " JOB_COLS " FROM jobs WHERE state = :state"
        " ORDER BY id LIMIT :limit",
    [SQ_JOB_COUNT] = "SELECT count(*) FROM jobs WHERE state = :state",
    /* Every running job, or those of owners that start with :prefix. */
    [SQ_JOB_RUNNING_IDS] =
        "SELECT id FROM jobs WHERE state = 'running'"
        "   AND (:prefix IS NULL OR substr(owner, 1, length(:prefix)) = :prefix)"
        " ORDER BY id",
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
    /* SQLite: a negative :limit means no limit (sq_limit). */
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
    [SQ_SECRET_LIST] = "SELECT " SECRET_COLS " FROM secrets ORDER BY name",

    [SQ_JOB_PAUSE_MARK] = "UPDATE jobs SET paused_on = :system WHERE id = :id",
    [SQ_JOB_HOLD_MARK] =
        "UPDATE jobs SET hold_code = :code, hold_amount = :amount,"
        "       hold_currency = :currency"
        " WHERE id = :id",
    /* :by NULL takes the dismissal off. */
    [SQ_JOB_DISMISS_MARK] =
        "UPDATE jobs SET dismissed_at = CASE WHEN :by IS NULL THEN 0 ELSE :now END,"
        "       dismissed_by = :by, dismiss_note = :note"
        " WHERE id = :id",
    [SQ_JOB_DISMISSAL] =
        "SELECT " DISMISSAL_COLS " FROM jobs"
        " WHERE key = :key AND dismissed_at > 0"
        " ORDER BY dismissed_at DESC, id DESC LIMIT 1",
    /* SQLite: two-argument min(). */
    [SQ_JOBS_RESUME] =
        "UPDATE jobs SET run_at = min(run_at, :now), paused_on = NULL,"
        "       updated_at = :now"
        " WHERE paused_on = :system AND state = 'ready'",
    [SQ_JOBS_PAUSED] =
        "SELECT count(*) FROM jobs WHERE paused_on = :system AND state = 'ready'",
    [SQ_JOBS_PAUSED_ALL] =
        "SELECT count(*) FROM jobs WHERE paused_on IS NOT NULL AND state = 'ready'",

    /* Free, expired or already ours: take it; the token moves only when the
     * holder changes. No row comes back while someone else holds it. */
    [SQ_LEASE_TAKE] =
        "INSERT INTO leases (name, holder, until, token)"
        " VALUES (:name, :holder, :until, 1)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET token = CASE WHEN leases.holder IS excluded.holder"
        "                    THEN leases.token ELSE leases.token + 1 END,"
        "       holder = excluded.holder, until = excluded.until"
        "   WHERE leases.holder IS NULL OR leases.holder = excluded.holder"
        "      OR leases.until <= :now"
        " RETURNING token",
    [SQ_LEASE_CHECK] =
        "SELECT count(*) FROM leases"
        " WHERE name = :name AND holder = :holder AND token = :token",
    [SQ_LEASE_DROP] =
        "UPDATE leases SET holder = NULL, until = 0"
        " WHERE name = :name AND holder = :holder",
    [SQ_LEASE_GET] =
        "SELECT " LEASE_COLS " FROM leases WHERE name = :name",
    [SQ_LEASE_FORGET] =
        "DELETE FROM leases WHERE name = :name"
        "   AND (holder IS NULL OR until <= :now)",
    [SQ_LEASE_EXISTS] = "SELECT count(*) FROM leases WHERE name = :name",
    [SQ_LEASE_LIST] =
        "SELECT " LEASE_COLS " FROM leases"
        " WHERE substr(name, 1, length(:prefix)) = :prefix ORDER BY name",

    /* Moving an installation: whole rows in primary-key order, text keys
     * in byte order (SQLite's BINARY collation; PostgreSQL: COLLATE "C"),
     * so that both backends export a table in the same order. */
    [SQ_EXPORT_EVENTS]     = "SELECT " EVENT_COLS " FROM events ORDER BY id",
    [SQ_EXPORT_JOBS]       = "SELECT " JOB_COLS " FROM jobs ORDER BY id",
    [SQ_EXPORT_LEDGER]     = "SELECT " LEDGER_COLS " FROM ledger ORDER BY key",
    [SQ_EXPORT_AUDIT]      = "SELECT " AUDIT_COLS " FROM audit ORDER BY id",
    [SQ_EXPORT_WATERMARKS] = "SELECT " WM_COLS " FROM watermarks ORDER BY name",
    [SQ_EXPORT_REPORTS]    = "SELECT " REPORT_COLS " FROM reports ORDER BY id",
    [SQ_EXPORT_ALERTS]     = "SELECT " ALERT_COLS " FROM alerts ORDER BY id",
    [SQ_EXPORT_SECRETS] =
        "SELECT " SECRET_ROW_COLS " FROM secrets ORDER BY name",
    /* Rows go in as they were, ids included. A taken key (primary key or
     * any unique index) inserts nothing: the caller sees no change and
     * reports MLC_EEXIST. An explicit id above an AUTOINCREMENT table's
     * sequence moves the sequence with it (SQLite). */
    [SQ_IMPORT_EVENT] =
        "INSERT INTO events (" EVENT_COLS ")"
        " VALUES (" STORE_EVENT_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_JOB] =
        "INSERT INTO jobs (" JOB_COLS ")"
        " VALUES (" STORE_JOB_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_LEDGER] =
        "INSERT INTO ledger (" LEDGER_COLS ")"
        " VALUES (" STORE_LEDGER_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_AUDIT] =
        "INSERT INTO audit (" AUDIT_COLS ")"
        " VALUES (" STORE_AUDIT_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_WATERMARK] =
        "INSERT INTO watermarks (" WM_COLS ")"
        " VALUES (" STORE_WM_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_ALERT] =
        "INSERT INTO alerts (" ALERT_COLS ")"
        " VALUES (" STORE_ALERT_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_REPORT] =
        "INSERT INTO reports (" REPORT_COLS ")"
        " VALUES (" STORE_REPORT_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",
    [SQ_IMPORT_SECRET] =
        "INSERT INTO secrets (" SECRET_ROW_COLS ")"
        " VALUES (" STORE_SECRET_ROW_COLUMNS(SQ_COL_PARAM, ", ") ")"
        " ON CONFLICT DO NOTHING",

    /* Read and written back in one transaction (BEGIN IMMEDIATE here, so
     * the read already holds the write lock; FOR UPDATE on PostgreSQL). */
    [SQ_ALERT_ADD] =
        "INSERT INTO alerts (dedupe_key, reason, created_at, body)"
        " VALUES (:key, :reason, :now, :body) ON CONFLICT DO NOTHING",
    [SQ_ALERT_LIST] =
        "SELECT " ALERT_COLS " FROM alerts WHERE id > :after ORDER BY id LIMIT :limit",
    [SQ_ALERT_PRUNE] =
        "DELETE FROM alerts WHERE id <= :upto AND created_at < :before",
    [SQ_REPORT_ADD] =
        "INSERT INTO reports (day, kind, created_at, body, differences)"
        " VALUES (:day, :kind, :now, :body, :differences) RETURNING id",
    [SQ_REPORT_LATEST] =
        "SELECT " REPORT_COLS " FROM reports WHERE kind = :kind"
        " ORDER BY day DESC, id DESC LIMIT 1",
    [SQ_REPORT_LATEST_DAY] =
        "SELECT " REPORT_COLS " FROM reports WHERE kind = :kind AND day = :day"
        " ORDER BY id DESC LIMIT 1",

    [SQ_SHARED_GET] = "SELECT value FROM shared WHERE name = :name",
    [SQ_SHARED_PUT] =
        "INSERT INTO shared (name, value, updated_at)"
        " VALUES (:name, :value, :now)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET value = excluded.value, updated_at = excluded.updated_at",

    /* /metrics: one row per gauge, tagged (store_gauges_read). The live
     * job states come through jobs_state; the ledger's newest posting is a
     * scan of the ledger (no index on updated_at: no schema change). */
    [SQ_GAUGES] =
        "SELECT 0, count(*), coalesce(min(created_at), 0) FROM jobs"
        " WHERE state = 'ready' AND paused_on IS NULL"
        " UNION ALL SELECT 1, count(*), coalesce(min(updated_at), 0) FROM jobs"
        " WHERE state = 'running'"
        " UNION ALL SELECT 2, count(*), coalesce(min(updated_at), 0) FROM jobs"
        " WHERE state = 'ready' AND paused_on IS NOT NULL"
        " UNION ALL SELECT 3, count(*), coalesce(min(updated_at), 0) FROM jobs"
        " WHERE state = 'held'"
        " UNION ALL SELECT 4, count(*), coalesce(min(updated_at), 0) FROM jobs"
        " WHERE state = 'failed'"
        " UNION ALL SELECT 5, 0, coalesce(max(updated_at), 0) FROM ledger"
        " WHERE state = 'posted' AND kind <> 'customer'"
        " UNION ALL SELECT 6, 0, coalesce((SELECT CAST(value AS INTEGER)"
        "   FROM watermarks WHERE name = :wm), 0)",
};
