/*
 * pg_sql: every SQL text of the PostgreSQL backend, in one place to review.
 *
 * The schema steps are append-only: a shipped step is never edited, and
 * step n here is step n of sqlite_sql.c in PostgreSQL's dialect. Times are
 * BIGINT Unix milliseconds from the store's clock (never the server's), ids
 * are identity columns, names and keys sort byte-wise (COLLATE "C", as
 * SQLite's BINARY) so both backends list and export in the same order.
 * Parameters are positional ($1) and go as text: casts say their type
 * where the statement alone does not. Column lists come from store_sql.h.
 */
#include "store/pg_int.h"

/* Applied in order inside one transaction that holds the migration lock
 * (pg_db.c); never edit a shipped step, append a new one. */
const char *const pg_migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE events ("
    "  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  source      TEXT NOT NULL,"
    "  dedupe_key  TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    "  kind        TEXT NOT NULL,"
    "  resource    TEXT,"
    "  payload     TEXT,"
    "  received_at BIGINT NOT NULL"
    ");"

    "CREATE TABLE jobs ("
    "  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  kind        TEXT COLLATE \"C\" NOT NULL,"
    "  key         TEXT COLLATE \"C\" NOT NULL,"
    "  payload     TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN"
    "                ('ready', 'running', 'done', 'held', 'failed')),"
    "  attempts    INTEGER NOT NULL DEFAULT 0,"
    "  run_at      BIGINT NOT NULL,"
    "  owner       TEXT,"
    "  lease_until BIGINT NOT NULL DEFAULT 0,"
    "  last_error  TEXT,"
    "  created_at  BIGINT NOT NULL,"
    "  updated_at  BIGINT NOT NULL"
    ");"
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
    "  name       TEXT COLLATE \"C\" PRIMARY KEY,"
    "  value      TEXT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"

    "CREATE TABLE ledger ("
    "  key         TEXT COLLATE \"C\" PRIMARY KEY,"
    "  kind        TEXT NOT NULL,"
    "  entity      TEXT COLLATE \"C\" NOT NULL,"
    "  state       TEXT NOT NULL CHECK (state IN"
    "                ('pending', 'posted', 'unknown')),"
    "  doc_type    TEXT,"
    "  doc_company TEXT,"
    "  doc_number  BIGINT NOT NULL DEFAULT 0,"
    "  batch       BIGINT NOT NULL DEFAULT 0,"
    "  request     TEXT,"
    "  created_at  BIGINT NOT NULL,"
    "  updated_at  BIGINT NOT NULL"
    ");"
    "CREATE INDEX ledger_entity ON ledger (entity, created_at);"

    "CREATE TABLE audit ("
    "  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  at      BIGINT NOT NULL,"
    "  actor   TEXT NOT NULL,"
    "  entity  TEXT COLLATE \"C\" NOT NULL,"
    "  action  TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  detail  TEXT"
    ");"
    "CREATE INDEX audit_entity ON audit (entity, id);"
    /* Append-only even for the schema's owner (the GRANTs of
     * docs/operations.md keep the mlc role from trying). */
    "CREATE FUNCTION mlc_audit_append_only() RETURNS trigger"
    "  LANGUAGE plpgsql AS $$"
    "  BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$;"
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit"
    "  FOR EACH ROW EXECUTE FUNCTION mlc_audit_append_only();"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
    "  FOR EACH STATEMENT EXECUTE FUNCTION mlc_audit_append_only();"

    "CREATE TABLE secrets ("
    "  name       TEXT COLLATE \"C\" PRIMARY KEY,"
    "  blob       BYTEA NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");",

    /* 2: paused jobs wait for a system ("jde", "bigcommerce") */
    "ALTER TABLE jobs ADD COLUMN paused_on TEXT;"
    "CREATE INDEX jobs_paused ON jobs (paused_on)"
    "  WHERE paused_on IS NOT NULL;",

    /* 3: several processes on one store: named leases with fencing tokens
     * (singleton tasks), small records they update together (the
     * BigCommerce request budget) */
    "CREATE TABLE leases ("
    "  name   TEXT COLLATE \"C\" PRIMARY KEY,"
    "  holder TEXT,"
    "  until  BIGINT NOT NULL DEFAULT 0,"
    "  token  BIGINT NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE shared ("
    "  name       TEXT COLLATE \"C\" PRIMARY KEY,"
    "  value      BYTEA NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");",

    /* 4: stored reports (the daily reconciliation); a day's latest row is
     * its report */
    "CREATE TABLE reports ("
    "  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  day         TEXT COLLATE \"C\" NOT NULL,"
    "  kind        TEXT COLLATE \"C\" NOT NULL,"
    "  created_at  BIGINT NOT NULL,"
    "  body        TEXT NOT NULL,"
    "  differences BIGINT NOT NULL"
    ");"
    "CREATE INDEX reports_day ON reports (kind, day, id);",
    /* 5: held items that explain themselves: the reason code and the money
     * that waits, decided by the flow that held the job; the dismissal of
     * an item handled by hand (who, when, why), looked up by key */
    "ALTER TABLE jobs ADD COLUMN hold_code TEXT;"
    "ALTER TABLE jobs ADD COLUMN hold_amount BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN hold_currency TEXT;"
    "ALTER TABLE jobs ADD COLUMN dismissed_at BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN dismissed_by TEXT;"
    "ALTER TABLE jobs ADD COLUMN dismiss_note TEXT;"
    "CREATE INDEX jobs_dismissed ON jobs (key, dismissed_at)"
    "  WHERE dismissed_at > 0;",
    /* 6: the alerts outbox: producers append (one row per dedupe key), the
     * leader's sender reads past each channel's cursor (a watermark) */
    "CREATE TABLE alerts ("
    "  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  dedupe_key TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    "  reason     TEXT COLLATE \"C\" NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  body       TEXT NOT NULL"
    ");",
};

const int pg_schema_steps =
    (int)(sizeof(pg_migrations) / sizeof(pg_migrations[0]));

/* A live lease of another job of the same kind and key (j: the job). */
#define LIVE_TWIN(now) \
    "NOT EXISTS (SELECT 1 FROM jobs AS r" \
    "             WHERE r.state = 'running' AND r.kind = j.kind" \
    "               AND r.key = j.key AND r.lease_until > " now ")"

/* Claimable: due READY, or RUNNING whose lease expired (owner died). */
#define CLAIMABLE(now) \
    "j.state IN ('ready', 'running') AND j.run_at <= " now \
    " AND (j.state = 'ready' OR j.lease_until <= " now ")"

const char *const pg_sql[PG_COUNT] = {
    [PG_BEGIN]          = "BEGIN ISOLATION LEVEL READ COMMITTED",
    /* An export reads one table in pages: one snapshot for all of them. */
    [PG_BEGIN_SNAPSHOT] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    [PG_COMMIT]         = "COMMIT",
    [PG_ROLLBACK]       = "ROLLBACK",
    /* Savepoints stack by name, so one name serves every nesting level. */
    [PG_SAVEPOINT]      = "SAVEPOINT mlc",
    [PG_RELEASE]        = "RELEASE SAVEPOINT mlc",
    [PG_ROLLBACK_TO]    = "ROLLBACK TO SAVEPOINT mlc",

    /* Two processes starting at once: the second waits here, then finds
     * the schema current. Released when the transaction ends. */
    [PG_MIGRATE_LOCK] =
        "SELECT pg_advisory_xact_lock($1::integer, $2::integer)",
    [PG_VERSION_HAS_TABLE] =
        "SELECT count(*) FROM (SELECT to_regclass('schema_version') AS t) AS s"
        " WHERE s.t IS NOT NULL",
    [PG_VERSION_TABLE] =
        "CREATE TABLE schema_version ("
        "  version    INTEGER PRIMARY KEY,"
        "  applied_at BIGINT NOT NULL"
        ")",
    [PG_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [PG_VERSION_ADD] =
        "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",

    [PG_EVENT_INSERT] =
        "INSERT INTO events"
        "  (source, dedupe_key, kind, resource, payload, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",

    /* The (kind, key) lock: see pg_int.h. Held until the transaction ends. */
    [PG_KEY_LOCK] = "SELECT pg_advisory_xact_lock($1::bigint)",
    /* Coalescing under the key lock: the READY twin's run_at moves earlier,
     * never later. */
    [PG_JOB_COALESCE] =
        "UPDATE jobs"
        "   SET run_at = least(run_at, $3::bigint),"
        "       updated_at = CASE WHEN $3::bigint < run_at THEN $4::bigint"
        "                         ELSE updated_at END"
        " WHERE kind = $1 AND key = $2 AND state = 'ready'"
        " RETURNING id",
    [PG_JOB_INSERT] =
        "INSERT INTO jobs"
        "  (kind, key, payload, state, run_at, created_at, updated_at)"
        " VALUES ($1, $2, $3, 'ready', $4, $5, $5)"
        " RETURNING id",
    /* A claim's first step: the oldest claimable jobs, skipping keys under
     * a live lease, locked so that no other claim takes them ($1 now, $2
     * kinds or NULL for any, $3 ids already tried, $4 how many). */
    [PG_JOB_CANDIDATES] =
        "SELECT j.id, j.kind, j.key FROM jobs AS j"
        " WHERE " CLAIMABLE("$1::bigint")
        "   AND ($2::text[] IS NULL OR j.kind = ANY ($2::text[]))"
        "   AND NOT (j.id = ANY ($3::bigint[]))"
        "   AND " LIVE_TWIN("$1::bigint")
        " ORDER BY j.run_at, j.id"
        " LIMIT $4"
        " FOR UPDATE OF j SKIP LOCKED",
    /* Second step: the candidates' key locks, without waiting. */
    [PG_KEYS_TRY_LOCK] =
        "SELECT pg_try_advisory_xact_lock(k.id)"
        "  FROM unnest($1::bigint[]) WITH ORDINALITY AS k (id, n)"
        " ORDER BY k.n",
    /* Third step, a new snapshot taken under the key locks: claimable and
     * no live lease on the key, checked again, then claimed ($1 now, $2
     * owner, $3 lease end, $4 ids, one per key). */
    [PG_JOB_CLAIM] =
        "WITH c AS ("
        "  UPDATE jobs AS j"
        "     SET state = 'running', owner = $2, lease_until = $3,"
        "         attempts = j.attempts + 1, updated_at = $1"
        "   WHERE j.id = ANY ($4::bigint[])"
        "     AND " CLAIMABLE("$1::bigint")
        "     AND " LIVE_TWIN("$1::bigint")
        "  RETURNING j.*)"
        " SELECT " JOB_COLS " FROM c ORDER BY run_at, id",
    [PG_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = $1",
    [PG_JOB_GET_LOCKED] =
        "SELECT " JOB_COLS " FROM jobs WHERE id = $1 FOR UPDATE",
    [PG_JOB_EXTEND] =
        "UPDATE jobs SET lease_until = $2, updated_at = $3 WHERE id = $1",
    /* Every way out of RUNNING (and replay out of HELD/FAILED). */
    [PG_JOB_SETTLE] =
        "UPDATE jobs"
        "   SET state = $2, run_at = $3, attempts = $4, owner = NULL,"
        "       lease_until = 0, last_error = $5, updated_at = $6,"
        "       paused_on = NULL, hold_code = NULL, hold_amount = 0,"
        "       hold_currency = NULL"
        " WHERE id = $1",
    /* A job going back to READY folds in the READY twin (key lock held). */
    [PG_JOB_ABSORB_TWIN] =
        "DELETE FROM jobs"
        " WHERE kind = $1 AND key = $2 AND state = 'ready' AND id <> $3"
        " RETURNING run_at",
    /* A NULL limit is no limit. */
    [PG_JOB_LIST] =
        "SELECT " JOB_COLS " FROM jobs ORDER BY id LIMIT $1::bigint",
    [PG_JOB_LIST_STATE] =
        "SELECT " JOB_COLS " FROM jobs WHERE state = $1"
        " ORDER BY id LIMIT $2::bigint",
    [PG_JOB_COUNT] = "SELECT count(*) FROM jobs WHERE state = $1",
    /* Every running job, or those of owners that start with $1. */
    [PG_JOB_RUNNING_IDS] =
        "SELECT id FROM jobs WHERE state = 'running'"
        "   AND ($1::text IS NULL OR left(owner, length($1::text)) = $1::text)"
        " ORDER BY id",
    /* The fence of a ledger write: a live claim of the entity's job, its
     * row locked so that no takeover commits before the write does. */
    [PG_JOB_FENCE] =
        "SELECT id FROM jobs"
        " WHERE key = $1 AND state = 'running' AND owner = $2"
        " FOR SHARE",
    [PG_JOB_PAUSE_MARK] = "UPDATE jobs SET paused_on = $2 WHERE id = $1",
    [PG_JOB_HOLD_MARK] =
        "UPDATE jobs SET hold_code = $2, hold_amount = $3, hold_currency = $4"
        " WHERE id = $1",
    /* $3 NULL takes the dismissal off. */
    [PG_JOB_DISMISS_MARK] =
        "UPDATE jobs SET dismissed_at = CASE WHEN $3::text IS NULL THEN 0"
        "                                    ELSE $2::bigint END,"
        "       dismissed_by = $3, dismiss_note = $4"
        " WHERE id = $1",
    [PG_JOB_DISMISSAL] =
        "SELECT " DISMISSAL_COLS " FROM jobs"
        " WHERE key = $1 AND dismissed_at > 0"
        " ORDER BY dismissed_at DESC, id DESC LIMIT 1",
    [PG_JOBS_RESUME] =
        "UPDATE jobs SET run_at = least(run_at, $2::bigint), paused_on = NULL,"
        "       updated_at = $2"
        " WHERE paused_on = $1 AND state = 'ready'",
    [PG_JOBS_PAUSED] =
        "SELECT count(*) FROM jobs WHERE paused_on = $1 AND state = 'ready'",
    [PG_JOBS_PAUSED_ALL] =
        "SELECT count(*) FROM jobs"
        " WHERE paused_on IS NOT NULL AND state = 'ready'",

    [PG_WM_GET] = "SELECT value FROM watermarks WHERE name = $1",
    [PG_WM_SET] =
        "INSERT INTO watermarks (name, value, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET value = excluded.value, updated_at = excluded.updated_at",

    [PG_LEDGER_GET] = "SELECT " LEDGER_COLS " FROM ledger WHERE key = $1",
    [PG_LEDGER_INSERT] =
        "INSERT INTO ledger"
        "  (key, kind, entity, state, request, created_at, updated_at)"
        " VALUES ($1, $2, $3, 'pending', $4, $5, $5)"
        " ON CONFLICT (key) DO NOTHING RETURNING key",
    /* A write's first step: the row, locked, with what its fence needs. */
    [PG_LEDGER_LOCK] =
        "SELECT state, entity FROM ledger WHERE key = $1 FOR UPDATE",
    [PG_LEDGER_UNKNOWN] =
        "UPDATE ledger SET state = 'unknown', updated_at = $2 WHERE key = $1",
    [PG_LEDGER_POSTED] =
        "UPDATE ledger"
        "   SET state = 'posted', doc_type = $2, doc_company = $3,"
        "       doc_number = $4, batch = $5, updated_at = $6"
        " WHERE key = $1",
    [PG_LEDGER_DELETE] = "DELETE FROM ledger WHERE key = $1",
    [PG_LEDGER_LIST] =
        "SELECT " LEDGER_COLS " FROM ledger ORDER BY created_at, key",
    [PG_LEDGER_LIST_ENTITY] =
        "SELECT " LEDGER_COLS " FROM ledger WHERE entity = $1"
        " ORDER BY created_at, key",

    [PG_AUDIT_INSERT] =
        "INSERT INTO audit (at, actor, entity, action, outcome, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
    [PG_ALERT_ADD] =
        "INSERT INTO alerts (dedupe_key, reason, created_at, body)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
    [PG_ALERT_LIST] =
        "SELECT " ALERT_COLS " FROM alerts WHERE id > $1 ORDER BY id LIMIT $2::bigint",
    [PG_ALERT_PRUNE] =
        "DELETE FROM alerts WHERE id <= $1 AND created_at < $2 RETURNING id",
    [PG_EXPORT_ALERTS] =
        "SELECT " ALERT_COLS " FROM alerts WHERE id > $1 ORDER BY id LIMIT $2",
    [PG_IMPORT_ALERT] =
        "INSERT INTO alerts (" ALERT_COLS ") OVERRIDING SYSTEM VALUE"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [PG_REPORT_ADD] =
        "INSERT INTO reports (day, kind, created_at, body, differences)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [PG_REPORT_LATEST] =
        "SELECT " REPORT_COLS " FROM reports WHERE kind = $1"
        " ORDER BY day DESC, id DESC LIMIT 1",
    [PG_REPORT_LATEST_DAY] =
        "SELECT " REPORT_COLS " FROM reports WHERE kind = $1 AND day = $2"
        " ORDER BY id DESC LIMIT 1",
    [PG_AUDIT_LIST] =
        "SELECT " AUDIT_COLS " FROM audit ORDER BY id LIMIT $1::bigint",
    [PG_AUDIT_LIST_ENTITY] =
        "SELECT " AUDIT_COLS " FROM audit WHERE entity = $1"
        " ORDER BY id LIMIT $2::bigint",

    [PG_SECRET_PUT] =
        "INSERT INTO secrets (name, blob, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET blob = excluded.blob, updated_at = excluded.updated_at",
    [PG_SECRET_GET] = "SELECT blob FROM secrets WHERE name = $1",
    [PG_SECRET_DELETE] = "DELETE FROM secrets WHERE name = $1 RETURNING name",
    [PG_SECRET_LIST] = "SELECT " SECRET_COLS " FROM secrets ORDER BY name",

    /* Free, expired or already ours: take it; the token moves only when the
     * holder changes. No row comes back while someone else holds it. A
     * concurrent take waits on the row and sees the winner's values. */
    [PG_LEASE_TAKE] =
        "INSERT INTO leases AS l (name, holder, until, token)"
        " VALUES ($1, $2, $3, 1)"
        " ON CONFLICT (name) DO UPDATE"
        "   SET token = CASE WHEN l.holder IS NOT DISTINCT FROM excluded.holder"
        "                    THEN l.token ELSE l.token + 1 END,"
        "       holder = excluded.holder, until = excluded.until"
        "   WHERE l.holder IS NULL OR l.holder = excluded.holder"
        "      OR l.until <= $4::bigint"
        " RETURNING token",
    /* Locked: no takeover commits before the checking transaction ends. */
    [PG_LEASE_CHECK] =
        "SELECT token FROM leases"
        " WHERE name = $1 AND holder = $2 AND token = $3"
        " FOR SHARE",
    [PG_LEASE_DROP] =
        "UPDATE leases SET holder = NULL, until = 0"
        " WHERE name = $1 AND holder = $2",
    [PG_LEASE_GET] = "SELECT " LEASE_COLS " FROM leases WHERE name = $1",
    [PG_LEASE_FORGET] =
        "DELETE FROM leases WHERE name = $1 AND (holder IS NULL OR until <= $2)"
        " RETURNING name",
    [PG_LEASE_EXISTS] = "SELECT count(*) FROM leases WHERE name = $1",
    /* Byte order (COLLATE "C" keys), as SQLite lists them. */
    [PG_LEASE_LIST] =
        "SELECT " LEASE_COLS " FROM leases"
        " WHERE left(name, length($1::text)) = $1::text ORDER BY name",

    [PG_SHARED_LOCK] = "SELECT value FROM shared WHERE name = $1 FOR UPDATE",
    [PG_SHARED_CREATE] =
        "INSERT INTO shared (name, value, updated_at) VALUES ($1, '', $2)"
        " ON CONFLICT (name) DO NOTHING",
    [PG_SHARED_SET] =
        "UPDATE shared SET value = $2, updated_at = $3 WHERE name = $1",
    [PG_SHARED_ASYNC] = "SET LOCAL synchronous_commit TO off",

    /* Pages in primary-key order after the last key of the page before. */
    [PG_EXPORT_EVENTS] =
        "SELECT " EVENT_COLS " FROM events WHERE id > $1 ORDER BY id LIMIT $2",
    [PG_EXPORT_JOBS] =
        "SELECT " JOB_COLS " FROM jobs WHERE id > $1 ORDER BY id LIMIT $2",
    [PG_EXPORT_LEDGER] =
        "SELECT " LEDGER_COLS " FROM ledger WHERE key > $1"
        " ORDER BY key LIMIT $2",
    [PG_EXPORT_AUDIT] =
        "SELECT " AUDIT_COLS " FROM audit WHERE id > $1 ORDER BY id LIMIT $2",
    [PG_EXPORT_WATERMARKS] =
        "SELECT " WM_COLS " FROM watermarks WHERE name > $1"
        " ORDER BY name LIMIT $2",
    [PG_EXPORT_SECRETS] =
        "SELECT " SECRET_ROW_COLS " FROM secrets WHERE name > $1"
        " ORDER BY name LIMIT $2",

    /* Rows as they were: ids kept (OVERRIDING SYSTEM VALUE); any key
     * already taken returns no row (MLC_EEXIST). */
    [PG_IMPORT_EVENT] =
        "INSERT INTO events (" EVENT_COLS ") OVERRIDING SYSTEM VALUE"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [PG_IMPORT_JOB] =
        "INSERT INTO jobs (" JOB_COLS ") OVERRIDING SYSTEM VALUE"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
        "         $16, $17, $18, $19)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [PG_IMPORT_LEDGER] =
        "INSERT INTO ledger (" LEDGER_COLS ")"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT DO NOTHING RETURNING key",
    [PG_IMPORT_AUDIT] =
        "INSERT INTO audit (" AUDIT_COLS ") OVERRIDING SYSTEM VALUE"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [PG_IMPORT_WATERMARK] =
        "INSERT INTO watermarks (" WM_COLS ") VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING name",
    [PG_IMPORT_SECRET] =
        "INSERT INTO secrets (" SECRET_ROW_COLS ") VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING name",
    /* Each identity sequence moves past the largest id, never back. */
    [PG_EXPORT_REPORTS] =
        "SELECT " REPORT_COLS " FROM reports WHERE id > $1 ORDER BY id LIMIT $2",
    [PG_IMPORT_REPORT] =
        "INSERT INTO reports (" REPORT_COLS ") OVERRIDING SYSTEM VALUE"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [PG_IMPORT_FINISH] =
        "SELECT setval(s.seq, s.m) FROM ("
        "  SELECT pg_get_serial_sequence('events', 'id')::regclass AS seq,"
        "         (SELECT max(id) FROM events) AS m"
        "  UNION ALL"
        "  SELECT pg_get_serial_sequence('jobs', 'id')::regclass,"
        "         (SELECT max(id) FROM jobs)"
        "  UNION ALL"
        "  SELECT pg_get_serial_sequence('audit', 'id')::regclass,"
        "         (SELECT max(id) FROM audit)"
        "  UNION ALL"
        "  SELECT pg_get_serial_sequence('reports', 'id')::regclass,"
        "         (SELECT max(id) FROM reports)"
        "  UNION ALL"
        "  SELECT pg_get_serial_sequence('alerts', 'id')::regclass,"
        "         (SELECT max(id) FROM alerts)) AS s"
        " WHERE s.m IS NOT NULL"
        "   AND s.m > coalesce(pg_sequence_last_value(s.seq), 0)",

    /* /metrics: one row per gauge, tagged (store_gauges_read); a
     * watermark that is not an integer reads 0. */
    [PG_GAUGES] =
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
        " UNION ALL SELECT 6, 0, coalesce((SELECT CASE WHEN value ~ '^-?[0-9]{1,18}$'"
        "   THEN value::bigint ELSE 0 END FROM watermarks WHERE name = $1), 0)",
};
