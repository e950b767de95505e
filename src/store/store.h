/*
 * store: the connector's only shared state, behind one interface.
 *
 * A struct store is one connection to the state store; use one per thread.
 * The SQLite implementation (sqlite_*.c) is the embedded default; the
 * PostgreSQL one (pg_*.c, on libpq) serves several processes through the
 * same vtable (store_impl.h) without touching any caller, and gives the
 * same guarantees across them (one live job per kind and key, fenced
 * ledger writes, named leases; see pg_int.h for how). A lost PostgreSQL
 * connection fails the call with MLC_EIO and the next call reconnects.
 * The store knows no API: it keeps inbound
 * events, jobs, watermarks, the posting ledger, the audit trail and secrets
 * (ciphertext only) as plain data.
 *
 * Every call is atomic on its own. store_tx_begin/commit group several calls
 * into one transaction (a watermark moves with the jobs it produced).
 *
 * Ownership: strings inside returned structs are owned by the struct and
 * freed by the matching *_clear function. Times are Unix milliseconds, taken
 * from the store's clock (store_set_clock) so tests can move time.
 */
#ifndef MLC_STORE_STORE_H
#define MLC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct store;

/* Milliseconds since the Unix epoch; ctx is the value given to store_set_clock. */
typedef int64_t (*store_clock_fn)(void *ctx);

/* Opens (creating and migrating as needed) the store at url: a file path or
 * "sqlite:PATH" for SQLite, or a libpq URI "postgresql://user@host/db?..."
 * for PostgreSQL (TLS as its sslmode says). A URL with a password is
 * refused (MLC_EINVAL; the message never repeats it). *out: caller
 * closes. */
int store_open(const char *url, struct store **out, struct mlc_err *e);
/* store_open with where PostgreSQL's password is (store.password_ref):
 * "file:PATH", a file nobody else may write and the world may not read
 * (0600 or 0640), or "systemd:NAME", the service's systemd credential
 * $CREDENTIALS_DIRECTORY/NAME (LoadCredential=). Its first line is the
 * password, read again at each (re)connect. NULL or "": libpq's own
 * sources (PGPASSFILE, ~/.pgpass). SQLite ignores it. */
int store_open_with(const char *url, const char *password_ref,
                    struct store **out, struct mlc_err *e);
void store_close(struct store *st); /* NULL-safe; rolls back an open tx */
/* True for a store several processes may share (PostgreSQL): no daemon
 * lock, and jobs a dead process left are taken over when their leases end,
 * not released at start. */
bool store_url_shared(const char *url);

/* One daemon per SQLite file. store_lock takes the store's daemon lock: an
 * exclusive flock(2) on "<file>.lock" beside the database (never on the
 * database itself: SQLite's POSIX locks must not be disturbed), recording
 * the holder's pid, host and start time. It is released when *out is
 * passed to store_unlock or the process dies, so a crashed daemon never
 * leaves it behind. MLC_EBUSY, naming the file and the holder, when
 * another process has it. A private ":memory:" store needs no lock (*out
 * NULL), nor does a PostgreSQL store, which several daemons share (*out
 * NULL: they coordinate through leases). Commands that only read or
 * enqueue never take it. */
struct store_lock;
int store_lock(const char *url, struct store_lock **out, struct mlc_err *e);
void store_unlock(struct store_lock *l); /* NULL-safe */

void store_set_clock(struct store *st, store_clock_fn fn, void *ctx);
int64_t store_now_ms(struct store *st);
/* Retry delays for store_job_retry (defaults: 1 s doubling up to 15 min).
 * Values <= 0 keep the current setting. */
void store_set_backoff(struct store *st, int64_t base_ms, int64_t cap_ms);
/* Schema version after migrations (tests, `mlc status`). */
int store_schema_version(struct store *st, int *out, struct mlc_err *e);

/* Write-ahead log upkeep, for a connection whose commits must stay short
 * (the webhook endpoint's). By default a commit that finds the log large
 * copies it into the database first (SQLite's auto-checkpoint), an fsync
 * of the database file inside that commit. store_set_log_upkeep(st, false)
 * stops that on st; then someone must call store_log_checkpoint, on
 * another connection, from time to time: it copies what it can without
 * waiting for anyone (a passive checkpoint). Backends without such a log
 * do nothing. */
void store_set_log_upkeep(struct store *st, bool on);
int store_log_checkpoint(struct store *st, struct mlc_err *e);

/* Inside an open transaction, store_tx_begin nests (a savepoint): its
 * rollback undoes only what came after it. A call that fails inside the
 * caller's transaction undoes only its own changes. */
int store_tx_begin(struct store *st, struct mlc_err *e); /* write tx (IMMEDIATE) */
int store_tx_commit(struct store *st, struct mlc_err *e);
void store_tx_rollback(struct store *st);
/* Levels of transaction open on st (0: none). A unit of work (a job, a
 * task) must leave none: anything written on st after a transaction left
 * open is never committed, and the open write transaction blocks every
 * other connection's writes. store_tx_reset rolls every level back and
 * returns how many there were, for the caller to report the leak. */
int store_tx_open(const struct store *st);
int store_tx_reset(struct store *st);

/* ---- inbound events ---------------------------------------------------- */

struct store_event {
    const char *source;     /* "bigcommerce", "jde", "cli" */
    const char *dedupe_key; /* unique: webhook-id, or hash+created_at */
    const char *kind;       /* e.g. "store/order/updated" */
    const char *resource;   /* e.g. "order:105" */
    const char *payload;    /* raw JSON as received (may be NULL) */
    int64_t     job_run_at; /* when its job becomes due (store clock, Unix
                               ms); 0: now */
};

/* Records an event unless its dedupe_key was seen (*inserted false then).
 * When inserted and job_kind is not NULL, enqueues job (job_kind,
 * ev->resource, due at ev->job_run_at) coalesced, in the same
 * transaction. */
int store_event_ingest(struct store *st, const struct store_event *ev,
                       const char *job_kind, bool *inserted,
                       struct mlc_err *e);

/* ---- jobs -------------------------------------------------------------- */

enum store_job_state {
    STORE_JOB_READY = 0,
    STORE_JOB_RUNNING,
    STORE_JOB_DONE,
    STORE_JOB_HELD,   /* dead letter: waits for a fix, then replay */
    STORE_JOB_FAILED  /* gave up after max attempts */
};

const char *store_job_state_name(enum store_job_state s);
int store_job_state_parse(const char *name, enum store_job_state *out);

struct store_job {
    int64_t              id;
    char                *kind;
    char                *key;        /* resource key, e.g. "order:105" */
    char                *payload;    /* JSON or NULL */
    enum store_job_state state;
    int                  attempts;   /* claims so far */
    int64_t              run_at;     /* not claimable before this */
    char                *owner;      /* lease owner while running */
    int64_t              lease_until;
    char                *last_error; /* or the hold reason */
    int64_t              created_at;
    int64_t              updated_at;
    char                *paused_on;  /* READY, waiting for this system
                                        ("jde"); NULL when not paused */
    /* Why it is held, as the flow that held it decided (store_job_hold_as);
     * cleared whenever the job moves again. */
    char                *hold_code;     /* core/holdcode.h name; NULL: none */
    int64_t              hold_amount;   /* minor units of hold_currency */
    char                *hold_currency; /* NULL: no amount known */
    /* Set by store_job_dismiss: an operator handled it by hand. */
    int64_t              dismissed_at;  /* 0: not dismissed */
    char                *dismissed_by;
    char                *dismiss_note;
};

void store_job_clear(struct store_job *j); /* frees strings, NULL-safe */

/* Enqueues (kind, key) at run_at (0 = now). Coalescing: when a job with the
 * same kind and key is already READY, nothing is added, its run_at moves to
 * the earlier of the two, and *coalesced is set; a RUNNING one does not
 * coalesce, so a change seen while a job runs is fetched again. id_out and
 * coalesced may be NULL. */
int store_job_enqueue(struct store *st, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id_out,
                      bool *coalesced, struct mlc_err *e);

/* Claims the oldest claimable job: READY with run_at <= now, or RUNNING with
 * an expired lease (its owner died). kinds: NULL-terminated list of kinds to
 * take, or NULL for any. Sets state RUNNING, owner, lease_until = now +
 * lease_ms, attempts + 1. MLC_ENOTFOUND when there is nothing to do. */
int store_job_claim(struct store *st, const char *owner,
                    const char *const *kinds, int64_t lease_ms,
                    struct store_job *out, struct mlc_err *e);
/* Claims up to max claimable jobs of kinds (same rules and order as
 * store_job_claim, never two live jobs of one kind and key) in one
 * transaction: out[0..*n) is filled (max entries; each cleared with
 * store_job_clear by the caller). MLC_ENOTFOUND with *n = 0 when there is
 * nothing to do; on any other error nothing is claimed. */
int store_job_claim_batch(struct store *st, const char *owner,
                          const char *const *kinds, int64_t lease_ms,
                          size_t max, struct store_job *out, size_t *n,
                          struct mlc_err *e);

/* The following act only while owner still holds the lease on job id;
 * otherwise MLC_ESTATE (the lease expired and someone else took it).
 * A lease that expired but was not yet claimed by another owner still
 * belongs to its owner: finishing late beats doing the work twice. Owner
 * names must therefore be unique per worker and process. MLC_ENOTFOUND for
 * an unknown id.
 *
 * There is at most one READY job per (kind, key): a job going back to READY
 * (retry, replay) absorbs a READY one enqueued meanwhile, keeping the earlier
 * run_at. Jobs with the same kind and key never run at the same time: a
 * READY one is not claimed while another holds a live lease on that key. */
int store_job_extend(struct store *st, int64_t id, const char *owner,
                     int64_t lease_ms, struct mlc_err *e);
int store_job_done(struct store *st, int64_t id, const char *owner,
                   struct mlc_err *e);
/* Back to READY after a delay computed by store_backoff_ms, or FAILED when
 * attempts reached max_attempts. *failed tells which (may be NULL). */
int store_job_retry(struct store *st, int64_t id, const char *owner,
                    const char *error, int max_attempts, bool *failed,
                    struct mlc_err *e);
int store_job_hold(struct store *st, int64_t id, const char *owner,
                   const char *reason, struct mlc_err *e);

/* What the flow knows about a hold: its reason code and the money that
 * waits (strings borrowed). */
struct store_hold {
    const char *code;     /* core/holdcode.h name; NULL: none */
    const char *currency; /* the amount's currency; NULL: no amount */
    int64_t     amount;   /* minor units */
};

/* store_job_hold, then h recorded with the job, in one transaction. h may
 * be NULL (a hold without a code). */
int store_job_hold_as(struct store *st, int64_t id, const char *owner,
                      const char *reason, const struct store_hold *h,
                      struct mlc_err *e);

/* Back to READY at run_at (Unix ms) without spending an attempt: the job
 * could not be decided yet (e.g. a create in doubt that may still land in
 * JDE) and says when to look again. reason goes to last_error. */
int store_job_defer(struct store *st, int64_t id, const char *owner,
                    int64_t run_at, const char *reason, struct mlc_err *e);

/* Every RUNNING job back to READY now, its lease gone (*n: how many; may
 * be NULL). Only for a process that knows no other one uses the store (an
 * SQLite file held by one daemon, see store_lock): leases left by a
 * crashed predecessor are then dead, and waiting them out would stall
 * posting for a whole lease. Attempts are kept: the crash counted. */
int store_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e);

/* store_job_release_leases for the RUNNING jobs whose owner name starts
 * with prefix only: those of one process that is known to be gone (its
 * process lease ran out, see daemon/leader.h), taken over now rather than
 * when each job's lease ends. */
int store_job_release_owner(struct store *st, const char *prefix, int64_t *n,
                            struct mlc_err *e);

/* READY, or RUNNING with an expired lease (nobody works on it) -> HELD with
 * reason, attempts kept: a job no worker of this process will ever claim
 * (its kind has no handler here) waits for an operator instead of forever.
 * MLC_ESTATE for any other state or a live lease; MLC_ENOTFOUND. */
int store_job_hold_idle(struct store *st, int64_t id, const char *reason,
                        struct mlc_err *e);

/*
 * Dismissal: an operator handled a held or failed item by hand (posted it
 * in JDE, or decided it must never post). The job stays HELD or FAILED,
 * marked with who and why; store_job_replay refuses it (MLC_ESTATE), and
 * workers settle any later job of the same key as done without running it
 * (store_dismissal_get), so neither a webhook nor the reconcile sweep posts
 * it. store_job_undismiss takes the mark off again (replayable then).
 */
/* HELD or FAILED and not dismissed -> dismissed by (the actor, e.g.
 * "cli:alice") with note (required). MLC_ESTATE otherwise. */
int store_job_dismiss(struct store *st, int64_t id, const char *by,
                      const char *note, struct mlc_err *e);
/* Clears the dismissal of job id; MLC_ESTATE when it is not dismissed. */
int store_job_undismiss(struct store *st, int64_t id, struct mlc_err *e);

struct store_dismissal {
    int64_t job_id;
    int64_t at;
    char   *by;        /* "cli:alice" */
    char   *note;
    char   *hold_code; /* the dismissed job's code, NULL: none */
};
void store_dismissal_clear(struct store_dismissal *d); /* NULL-safe */
/* The latest dismissal of resource key ("order:104"); MLC_ENOTFOUND when
 * none of its jobs is dismissed. For whoever must not act on a dismissed
 * item (workers) and whoever reports it ("dismissed by USER: NOTE"). */
int store_dismissal_get(struct store *st, const char *key,
                        struct store_dismissal *out, struct mlc_err *e);

/* HELD or FAILED (not dismissed) -> READY now, attempts reset. MLC_ESTATE otherwise.
 * last_error keeps the old reason until the next retry or hold overwrites
 * it; done clears it. */
int store_job_replay(struct store *st, int64_t id, struct mlc_err *e);
int store_job_get(struct store *st, int64_t id, struct store_job *out,
                  struct mlc_err *e);
/* Calls fn for each job in state (or every job when state < 0), oldest first,
 * at most limit (0 = no limit). fn returning non-zero stops the walk.
 * In every *_list callback fn may read through st but must not write:
 * collect ids and act after the walk. */
int store_job_list(struct store *st, int state, size_t limit,
                   int (*fn)(const struct store_job *j, void *ctx), void *ctx,
                   struct mlc_err *e);
int store_job_count(struct store *st, enum store_job_state state,
                    int64_t *out, struct mlc_err *e);

/* Retry delay for the given attempt (1-based): base * 2^(attempt-1) capped
 * at cap_ms, with "equal jitter" (half fixed, half random) from rnd, a
 * uniformly random 32-bit value supplied by the caller. Pure. */
int64_t store_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
                         uint32_t rnd);

/* ---- paused jobs ------------------------------------------------------- */

/*
 * A job whose system is down or refuses our credentials is paused, not
 * failed: it goes back to READY with paused_on = the system ("jde",
 * "bigcommerce"), the reason as last_error, run_at = now + recheck_ms (a
 * fallback: normally store_jobs_resume wakes it earlier), and its attempts
 * as they were before this claim (a pause never uses up max_attempts, and a
 * paused job never becomes FAILED). Lease rules as store_job_retry
 * (MLC_ESTATE when owner lost it); a READY twin is folded in the same way.
 * Any later way out of RUNNING (done, retry, hold) and a replay clear
 * paused_on.
 */
int store_job_pause(struct store *st, int64_t id, const char *owner,
                    const char *system, const char *reason, int64_t recheck_ms,
                    struct mlc_err *e);
/* The system answers again: every READY job paused on system becomes due
 * now (run_at = now unless earlier) and is no longer marked paused. *n (may
 * be NULL) receives how many. */
int store_jobs_resume(struct store *st, const char *system, int64_t *n,
                      struct mlc_err *e);
/* READY jobs paused on system (NULL: on any system). */
int store_jobs_paused_count(struct store *st, const char *system, int64_t *out,
                            struct mlc_err *e);

/* ---- gauges ------------------------------------------------------------ */

/* The watermark the reconcile report writes its count of differences to
 * (a decimal integer); read by store_gauges_read, 0 while never set. */
#define STORE_WM_RECONCILE_DIFFERENCES "reconcile.differences"

/* Live jobs by what they wait for: queued = READY and not paused. */
enum store_gauge_jobs {
    STORE_GAUGE_QUEUED = 0,
    STORE_GAUGE_RUNNING,
    STORE_GAUGE_PAUSED,
    STORE_GAUGE_HELD,
    STORE_GAUGE_FAILED,
    STORE_GAUGE_JOBS
};

/* What /metrics shows of the present, read by one statement. Times are Unix
 * ms, 0 when there is none. */
struct store_gauges {
    int64_t jobs[STORE_GAUGE_JOBS];
    /* Since when the oldest of each waits: its creation for a queued job,
     * else its last change of state (claimed, paused, held, failed). */
    int64_t oldest_ms[STORE_GAUGE_JOBS];
    int64_t last_posted_ms;        /* newest posted JDE document (not customers) */
    int64_t reconcile_differences; /* STORE_WM_RECONCILE_DIFFERENCES */
};
int store_gauges_read(struct store *st, struct store_gauges *out,
                      struct mlc_err *e);

/* ---- watermarks -------------------------------------------------------- */

/* Copies the value into buf; MLC_ENOTFOUND when never set. */
int store_watermark_get(struct store *st, const char *name, char *buf,
                        size_t cap, struct mlc_err *e);
int store_watermark_set(struct store *st, const char *name,
                        const char *value, struct mlc_err *e);

/* ---- posting ledger ---------------------------------------------------- */

enum store_ledger_state {
    STORE_LEDGER_PENDING = 0, /* create about to be sent */
    STORE_LEDGER_POSTED,      /* JDE answered with a document number */
    STORE_LEDGER_UNKNOWN      /* outcome unknown: look it up in JDE first */
};

const char *store_ledger_state_name(enum store_ledger_state s);

struct store_ledger {
    char                   *key;        /* idempotency key, e.g. "BC105S" */
    char                   *kind;       /* "sale", "refund", "reversal", "customer" */
    char                   *entity;     /* e.g. "order:105" */
    enum store_ledger_state state;
    char                   *doc_type;   /* JDE DCT */
    char                   *doc_company;/* JDE KCO */
    int64_t                 doc_number; /* JDE DOC, 0 until posted */
    int64_t                 batch;      /* JDE ICU, 0 until posted */
    char                   *request;    /* JSON document sent (lines, totals) */
    int64_t                 created_at; /* begin: when its create was sent */
    int64_t                 updated_at;
};

void store_ledger_clear(struct store_ledger *l);

/* Fencing. After store_fence(st, owner), every ledger write through st
 * (begin, mark_unknown, mark_posted, forget) is made only while a RUNNING
 * job whose key is the row's entity ("order:105") is leased to owner, in
 * the same transaction; otherwise nothing is written and the call fails
 * with MLC_ESTATE ("lease lost"). A worker whose job was taken over (its
 * lease ran out while it was stalled) can then never record a document
 * the new owner is also handling. owner NULL lifts the fence. Workers fence
 * their own connection once; the CLI, which holds no lease, does not. */
int store_fence(struct store *st, const char *owner, struct mlc_err *e);

/* MLC_ENOTFOUND when the key has no row. */
int store_ledger_get(struct store *st, const char *key,
                     struct store_ledger *out, struct mlc_err *e);
/* Inserts key as PENDING with its request; MLC_EEXIST when the key exists.
 * Refused (MLC_ESTATE) inside an open transaction: the row must be on disk
 * before the create it announces is sent (posting rules §3). */
int store_ledger_begin(struct store *st, const char *key, const char *kind,
                       const char *entity, const char *request,
                       struct mlc_err *e);
/* PENDING/UNKNOWN -> UNKNOWN or POSTED; MLC_ESTATE on a POSTED row (a
 * document number is never overwritten), MLC_ENOTFOUND without a row. */
int store_ledger_mark_unknown(struct store *st, const char *key,
                              struct mlc_err *e);
int store_ledger_mark_posted(struct store *st, const char *key,
                             const char *doc_type, const char *doc_company,
                             int64_t doc_number, int64_t batch,
                             struct mlc_err *e);
/* Removes a PENDING/UNKNOWN row once JDE said the document does not exist. */
int store_ledger_forget(struct store *st, const char *key, struct mlc_err *e);
/* Rows of entity (NULL = all), oldest first. */
int store_ledger_list(struct store *st, const char *entity,
                      int (*fn)(const struct store_ledger *l, void *ctx),
                      void *ctx, struct mlc_err *e);

/* ---- audit trail (append-only) ----------------------------------------- */

struct store_audit {
    int64_t     id;
    int64_t     at;
    const char *actor;   /* "worker:3", "cli", "webhook", "scheduler" */
    const char *entity;  /* "order:105", "hook:12", "config" */
    const char *action;  /* "fetch", "post", "hold", "replay", ... */
    const char *outcome; /* "ok", "error", "held", "skipped" */
    const char *detail;  /* JSON object or NULL; never holds secrets */
};

/* id and at are filled by the store. */
int store_audit_add(struct store *st, const struct store_audit *a,
                    struct mlc_err *e);
/* Entity NULL = all; oldest first; limit 0 = all. Strings valid during fn. */
int store_audit_list(struct store *st, const char *entity, size_t limit,
                     int (*fn)(const struct store_audit *a, void *ctx),
                     void *ctx, struct mlc_err *e);

/* ---- stored reports ---------------------------------------------------- */

/*
 * Reports the connector made (the daily reconciliation), kept as their JSON
 * body with the day they are about and how many differences they found.
 * Every run adds a row; the latest one of a day is that day's report.
 */
struct store_report {
    int64_t id;
    char   *day;         /* "2026-11-27" (the report's own time zone) */
    char   *kind;        /* "reconcile" */
    int64_t created_at;  /* store clock, Unix ms */
    char   *body;        /* JSON */
    int64_t differences;
};

void store_report_clear(struct store_report *r); /* frees strings, NULL-safe */
/* Adds a report; *id_out (may be NULL) receives its id. */
int store_report_add(struct store *st, const char *kind, const char *day,
                     const char *body, int64_t differences, int64_t *id_out,
                     struct mlc_err *e);
/* The latest report of kind: of day when day is not NULL, else of the
 * latest day any such report is about. MLC_ENOTFOUND when there is none. */
int store_report_latest(struct store *st, const char *kind, const char *day,
                        struct store_report *out, struct mlc_err *e);

/* ---- the alerts outbox ------------------------------------------------- */

/*
 * Events for the operator (notify/notify.h): producers append, in their
 * own transaction when they have one, and a single sender (the leader)
 * reads past each channel's cursor. A dedupe key is taken once: a second
 * append of the same key (a job held again by a retry loop) adds nothing.
 */
struct store_alert {
    int64_t     id;
    const char *dedupe_key;  /* "job:42:held:account_missing" */
    const char *reason;      /* the digest's group, "held.account_missing" */
    int64_t     created_at;  /* store clock, Unix ms */
    const char *body;        /* JSON (notify.h) */
};

/* Appends an alert; *added (may be NULL) is false when the key was taken. */
int store_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                    const char *body, bool *added, struct mlc_err *e);
/* Calls fn for up to limit alerts with an id above after_id, in id order
 * (0: no limit); fn returns non-zero to stop. Strings are borrowed for the
 * call. */
int store_alert_list(struct store *st, int64_t after_id, size_t limit,
                     int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                     struct mlc_err *e);
/* Deletes the alerts with an id up to upto_id created before before_ms
 * (every channel has sent them); *n (may be NULL): how many. */
int store_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms,
                      int64_t *n, struct mlc_err *e);

/* ---- secrets (ciphertext only; encryption lives in the vault) ---------- */

int store_secret_put(struct store *st, const char *name, const void *blob,
                     size_t len, struct mlc_err *e);
/* *blob: caller frees with free(). MLC_ENOTFOUND when absent. */
int store_secret_get(struct store *st, const char *name, void **blob,
                     size_t *len, struct mlc_err *e);
int store_secret_delete(struct store *st, const char *name, struct mlc_err *e);
/* Names and update times, never contents. */
int store_secret_list(struct store *st,
                      int (*fn)(const char *name, int64_t updated_at, void *ctx),
                      void *ctx, struct mlc_err *e);

/* ---- named leases: one holder at a time, across processes -------------- */

/*
 * A task that must run on one process at a time (the reconcile sweep, the
 * hook check, the catalog poll) runs under a named lease. store_lease_take
 * grants name to holder until now + ttl_ms when the lease is free, expired,
 * or already holder's (a renewal). *token is the lease's fencing token: it
 * grows by one each time the lease changes hands and stays the same on a
 * renewal. MLC_EBUSY, *token untouched, while another holder's lease is live.
 *
 * Writes made on the strength of a lease are fenced: store_lease_check, in
 * the same transaction as the writes, fails with MLC_ESTATE unless holder
 * still holds name with token, and keeps anyone from taking the lease over
 * until that transaction ends (a row lock on PostgreSQL). As with job
 * leases, a lease that expired but was not taken over still belongs to its
 * holder. Expiry uses each process's store clock: a skew between hosts can
 * delay or hasten a takeover, never let two holders write.
 */
int store_lease_take(struct store *st, const char *name, const char *holder,
                     int64_t ttl_ms, int64_t *token, struct mlc_err *e);
int store_lease_check(struct store *st, const char *name, const char *holder,
                      int64_t token, struct mlc_err *e);
/* Fences every later transaction on st with the lease: store_tx_commit of
 * an outermost transaction runs store_lease_check(name, holder, token)
 * first and, when the lease was lost, rolls back and fails with
 * MLC_ESTATE. name NULL lifts the fence. For a task connection whose writes
 * (watermarks with the jobs they made) go in explicit transactions. */
int store_fence_lease(struct store *st, const char *name, const char *holder,
                      int64_t token, struct mlc_err *e);
/* Ends holder's lease at once (a clean shutdown), so that another process
 * need not wait it out; the token is kept. Nothing happens when holder does
 * not hold it. */
int store_lease_drop(struct store *st, const char *name, const char *holder,
                     struct mlc_err *e);

/* Deletes lease name when nobody holds it any more (dropped or expired):
 * the entry of a process that is gone. MLC_ESTATE while it is live. */
int store_lease_forget(struct store *st, const char *name, struct mlc_err *e);

struct store_lease {
    char   *name;
    char   *holder;  /* NULL when dropped */
    int64_t until;   /* store clock, Unix ms; 0 when dropped */
    int64_t token;
};

void store_lease_clear(struct store_lease *l); /* frees strings, NULL-safe */
/* MLC_ENOTFOUND when the lease was never taken. */
int store_lease_get(struct store *st, const char *name,
                    struct store_lease *out, struct mlc_err *e);
/* Every lease whose name starts with prefix, in name order; l is valid
 * during fn only, and fn returning non-zero stops the walk. */
int store_lease_list(struct store *st, const char *prefix,
                     int (*fn)(const struct store_lease *l, void *ctx),
                     void *ctx, struct mlc_err *e);

/* ---- shared records: small state that several processes update --------- */

/*
 * A named record of at most STORE_SHARED_MAX bytes (the BigCommerce request
 * budget that every process draws from). store_shared_update reads it under
 * a row lock (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on
 * PostgreSQL), calls fn with its bytes (len 0 for a record never written),
 * and when fn returns MLC_OK writes back what fn left in buf[0..*len) in the
 * same transaction; any other return rolls back and is returned. fn must be
 * quick and do no I/O: every other process waits on the row meanwhile. Not
 * inside the caller's transaction (MLC_ESTATE): the lock must be short.
 * For run-time state only: on PostgreSQL the update commits without
 * waiting for the disk, so a server crash may lose the last updates.
 */
#define STORE_SHARED_MAX 1024

typedef int (*store_shared_fn)(void *buf, size_t *len, size_t cap, void *ctx);

int store_shared_update(struct store *st, const char *name,
                        store_shared_fn fn, void *ctx, struct mlc_err *e);

/* ---- moving an installation (mlc store migrate) ------------------------ */

/*
 * Every durable row, table by table, as is: ids, states and times are
 * kept. Leases and shared records are run-time state and are not moved.
 */
enum store_table {
    STORE_TABLE_EVENTS = 0,
    STORE_TABLE_JOBS,
    STORE_TABLE_LEDGER,
    STORE_TABLE_AUDIT,
    STORE_TABLE_WATERMARKS,
    STORE_TABLE_SECRETS,
    STORE_TABLE_REPORTS,
    STORE_TABLE_ALERTS,
    STORE_TABLE_COUNT
};

const char *store_table_name(enum store_table t); /* "events", "jobs", ... */

struct store_event_row {
    int64_t     id;
    const char *source, *dedupe_key, *kind, *resource, *payload;
    int64_t     received_at;
};

struct store_watermark_row {
    const char *name, *value;
    int64_t     updated_at;
};

struct store_secret_row {
    const char *name;
    const void *blob;
    size_t      len;
    int64_t     updated_at;
};

struct store_report_row {
    int64_t     id;
    const char *day, *kind;
    int64_t     created_at;
    const char *body;
    int64_t     differences;
};

/* One row of table; the member named after the table is set. Strings are
 * borrowed (valid during the export callback, or the import call). */
struct store_row {
    enum store_table table;
    union {
        struct store_event_row     event;
        struct store_job           job;
        struct store_ledger        ledger;
        struct store_audit         audit;
        struct store_watermark_row watermark;
        struct store_secret_row    secret;
        struct store_report_row    report;
        struct store_alert         alert;
    } u;
};

/* Calls fn for each row of table in primary-key order (id, or key/name;
 * text keys in byte order, as memcmp: PostgreSQL needs COLLATE "C"), the
 * same on every backend, so that `mlc store migrate` can checksum both
 * sides; fn returning non-zero stops the walk and is returned. */
int store_export(struct store *st, enum store_table table,
                 int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                 struct mlc_err *e);
/* Inserts r as is (ids, states, attempts, times, owners kept); MLC_EEXIST
 * when its key is taken. Group many in one transaction. */
int store_import(struct store *st, const struct store_row *r,
                 struct mlc_err *e);
/* After imports: id sequences move past the largest imported ids, so new
 * rows never collide with them. */
int store_import_finish(struct store *st, struct mlc_err *e);

#endif
