/*
 * store: backend choice, argument checks and dispatch, plus the parts every
 * backend shares (state names, backoff, clock).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store/store_impl.h"

/* ---- shared helpers ---------------------------------------------------- */

static int64_t realtime_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_base_init(struct store *st, const struct store_ops *ops)
{
    st->ops = ops;
    st->clock = realtime_ms;
    st->clock_ctx = NULL;
    st->backoff_base_ms = STORE_BACKOFF_BASE_MS;
    st->backoff_cap_ms = STORE_BACKOFF_CAP_MS;
    st->tx_depth = 0;
}

/* Jitter only spreads retries out; if getrandom fails we still want some
 * spread, so fall back to the clock's nanoseconds. */
uint32_t store_random_u32(void)
{
    uint32_t r;
    struct timespec ts;

    if (getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
        return r;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec;
}

int64_t store_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
                         uint32_t rnd)
{
    int64_t d, half;

    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    d = base_ms < cap_ms ? base_ms : cap_ms;
    /* Doubling stops at the cap, so the loop ends after ~63 rounds at most. */
    for (int i = 1; i < attempt && d < cap_ms; i++)
        d = d > cap_ms / 2 ? cap_ms : d * 2;
    half = d / 2;
    /* Equal jitter: d - half fixed, plus 0..half at random. */
    return (d - half) + (int64_t)((uint64_t)rnd % ((uint64_t)half + 1));
}

static const char *const job_state_names[] = {
    [STORE_JOB_READY]   = "ready",
    [STORE_JOB_RUNNING] = "running",
    [STORE_JOB_DONE]    = "done",
    [STORE_JOB_HELD]    = "held",
    [STORE_JOB_FAILED]  = "failed",
};

#define N_JOB_STATES (sizeof(job_state_names) / sizeof(job_state_names[0]))

const char *store_job_state_name(enum store_job_state s)
{
    if ((unsigned)s >= N_JOB_STATES)
        return "invalid";
    return job_state_names[s];
}

int store_job_state_parse(const char *name, enum store_job_state *out)
{
    for (size_t i = 0; name != NULL && i < N_JOB_STATES; i++) {
        if (strcmp(name, job_state_names[i]) == 0) {
            *out = (enum store_job_state)i;
            return MLC_OK;
        }
    }
    return MLC_EINVAL;
}

static const char *const ledger_state_names[] = {
    [STORE_LEDGER_PENDING] = "pending",
    [STORE_LEDGER_POSTED]  = "posted",
    [STORE_LEDGER_UNKNOWN] = "unknown",
};

#define N_LEDGER_STATES \
    (sizeof(ledger_state_names) / sizeof(ledger_state_names[0]))

const char *store_ledger_state_name(enum store_ledger_state s)
{
    if ((unsigned)s >= N_LEDGER_STATES)
        return "invalid";
    return ledger_state_names[s];
}

int store_ledger_state_parse(const char *name, enum store_ledger_state *out)
{
    for (size_t i = 0; name != NULL && i < N_LEDGER_STATES; i++) {
        if (strcmp(name, ledger_state_names[i]) == 0) {
            *out = (enum store_ledger_state)i;
            return MLC_OK;
        }
    }
    return MLC_EINVAL;
}

void store_job_clear(struct store_job *j)
{
    if (j == NULL)
        return;
    free(j->kind);
    free(j->key);
    free(j->payload);
    free(j->owner);
    free(j->last_error);
    free(j->paused_on);
    free(j->hold_code);
    free(j->hold_currency);
    free(j->dismissed_by);
    free(j->dismiss_note);
    memset(j, 0, sizeof(*j));
}

void store_dismissal_clear(struct store_dismissal *d)
{
    if (d == NULL)
        return;
    free(d->by);
    free(d->note);
    free(d->hold_code);
    memset(d, 0, sizeof(*d));
}

void store_ledger_clear(struct store_ledger *l)
{
    if (l == NULL)
        return;
    free(l->key);
    free(l->kind);
    free(l->entity);
    free(l->doc_type);
    free(l->doc_company);
    free(l->request);
    memset(l, 0, sizeof(*l));
}

/* ---- argument checks --------------------------------------------------- */

/* Fails with "store: <what> is required" when s is NULL or empty. */
static int need_str(const char *s, const char *what, struct mlc_err *e)
{
    if (s == NULL || s[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "store: %s is required", what);
    return MLC_OK;
}

static int need_store(const struct store *st, struct mlc_err *e)
{
    if (st == NULL)
        return mlc_err_set(e, MLC_EINVAL, "store: no store");
    return MLC_OK;
}

static int need_positive(int64_t v, const char *what, struct mlc_err *e)
{
    if (v <= 0)
        return mlc_err_set(e, MLC_EINVAL, "store: %s must be positive (%lld)",
                           what, (long long)v);
    return MLC_OK;
}

/* Store, job id and owner: the checks of every lease operation. */
static int need_lease(const struct store *st, int64_t id, const char *owner,
                      struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_positive(id, "job id", e);
    if (rc == MLC_OK)
        rc = need_str(owner, "owner", e);
    return rc;
}

/* ---- open, close, clock, transactions ---------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool store_url_is_pg(const char *url)
{
    return url != NULL && (has_prefix(url, "postgresql://") ||
                           has_prefix(url, "postgres://"));
}

/* The URL may carry a password: messages never repeat it. */
int store_sqlite_path(const char *url, const char **path, struct mlc_err *e)
{
    *path = url;
    if (url == NULL || url[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "store: empty store URL");
    if (store_url_is_pg(url))
        return mlc_err_set(e, MLC_EINVAL,
                           "store: a PostgreSQL URL is not a SQLite file");
    if (has_prefix(url, "sqlite://"))
        *path = url + strlen("sqlite://");
    else if (has_prefix(url, "sqlite:"))
        *path = url + strlen("sqlite:");
    else if (strstr(url, "://") != NULL)
        return mlc_err_set(e, MLC_EINVAL,
                           "store: unknown store URL scheme (use a path, "
                           "sqlite:PATH or postgresql://...)");
    if ((*path)[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "store: empty SQLite path");
    return MLC_OK;
}

bool store_url_shared(const char *url)
{
    return store_url_is_pg(url);
}

/* A password in a PostgreSQL URL: user:password@ before the host, or a
 * password= parameter. */
static bool pg_url_has_password(const char *url)
{
    const char *rest = strstr(url, "://") + 3;
    const char *end = rest + strcspn(rest, "/?#");
    const char *at = memchr(rest, '@', (size_t)(end - rest));

    return (at != NULL && memchr(rest, ':', (size_t)(at - rest)) != NULL) ||
           strstr(url, "password=") != NULL;
}

int store_open_with(const char *url, const char *password_ref,
                    struct store **out, struct mlc_err *e)
{
    const char *path = NULL;
    int rc;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "store: no output handle");
    *out = NULL;
    if (store_url_is_pg(url)) {
        if (pg_url_has_password(url))
            return mlc_err_set(e, MLC_EINVAL, "store: the PostgreSQL URL must "
                               "not contain a password (use store.password_ref, "
                               "~/.pgpass or PGPASSFILE)");
        return store_pg_open(url, password_ref, out, e);
    }
    if ((rc = store_sqlite_path(url, &path, e)) != MLC_OK)
        return rc;
    return store_sqlite_open(path, out, e);
}

int store_open(const char *url, struct store **out, struct mlc_err *e)
{
    return store_open_with(url, NULL, out, e);
}

void store_close(struct store *st)
{
    if (st != NULL) {
        free(st->fence_owner);
        free(st->fence_lease);
        free(st->fence_holder);
        st->ops->close(st);
    }
}

int store_fence(struct store *st, const char *owner, struct mlc_err *e)
{
    char *copy = NULL;
    int rc = need_store(st, e);

    if (rc != MLC_OK)
        return rc;
    if (owner != NULL && (copy = strdup(owner)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    free(st->fence_owner);
    st->fence_owner = copy;
    return MLC_OK;
}

int store_fence_lease(struct store *st, const char *name, const char *holder,
                      int64_t token, struct mlc_err *e)
{
    char *n = NULL, *h = NULL;
    int rc = need_store(st, e);

    if (rc == MLC_OK && name != NULL) {
        rc = need_str(holder, "lease holder", e);
        if (rc == MLC_OK)
            rc = need_positive(token, "lease token", e);
        if (rc == MLC_OK && ((n = strdup(name)) == NULL || (h = strdup(holder)) == NULL))
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (rc != MLC_OK) {
        free(n);
        free(h);
        return rc;
    }
    free(st->fence_lease);
    free(st->fence_holder);
    st->fence_lease = n;
    st->fence_holder = h;
    st->fence_token = name != NULL ? token : 0;
    return MLC_OK;
}

void store_set_clock(struct store *st, store_clock_fn fn, void *ctx)
{
    st->clock = fn != NULL ? fn : realtime_ms;
    st->clock_ctx = fn != NULL ? ctx : NULL;
}

int64_t store_now_ms(struct store *st)
{
    return st->clock(st->clock_ctx);
}

void store_set_backoff(struct store *st, int64_t base_ms, int64_t cap_ms)
{
    if (base_ms > 0)
        st->backoff_base_ms = base_ms;
    if (cap_ms > 0)
        st->backoff_cap_ms = cap_ms;
}

int store_schema_version(struct store *st, int *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output");
    return rc != MLC_OK ? rc : st->ops->schema_version(st, out, e);
}

void store_set_log_upkeep(struct store *st, bool on)
{
    if (st != NULL && st->ops->log_upkeep != NULL)
        st->ops->log_upkeep(st, on);
}

int store_log_checkpoint(struct store *st, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc != MLC_OK || st->ops->log_checkpoint == NULL)
        return rc;
    return st->ops->log_checkpoint(st, e);
}

int store_tx_begin(struct store *st, struct mlc_err *e)
{
    int rc = need_store(st, e);

    return rc != MLC_OK ? rc : st->ops->tx_begin(st, e);
}

int store_tx_commit(struct store *st, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc != MLC_OK)
        return rc;
    /* Checked last, inside the transaction: the check holds the lease row
     * until the commit, so no takeover slips in between. */
    if (st->fence_lease != NULL && st->tx_depth == 1 &&
        (rc = st->ops->lease_check(st, st->fence_lease, st->fence_holder,
                                   st->fence_token, e)) != MLC_OK) {
        st->ops->tx_rollback(st);
        return rc;
    }
    return st->ops->tx_commit(st, e);
}

void store_tx_rollback(struct store *st)
{
    if (st != NULL)
        st->ops->tx_rollback(st);
}

int store_tx_open(const struct store *st)
{
    return st != NULL ? st->tx_depth : 0;
}

int store_tx_reset(struct store *st)
{
    int n = store_tx_open(st);

    while (st != NULL && st->tx_depth > 0)
        st->ops->tx_rollback(st);
    return n;
}

/* ---- events ------------------------------------------------------------ */

int store_event_ingest(struct store *st, const struct store_event *ev,
                       const char *job_kind, bool *inserted,
                       struct mlc_err *e)
{
    bool dummy;
    int rc = need_store(st, e);

    if (rc == MLC_OK && ev == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no event");
    if (rc == MLC_OK)
        rc = need_str(ev->source, "event source", e);
    if (rc == MLC_OK)
        rc = need_str(ev->dedupe_key, "event dedupe key", e);
    if (rc == MLC_OK)
        rc = need_str(ev->kind, "event kind", e);
    if (rc == MLC_OK && job_kind != NULL)
        rc = need_str(ev->resource, "event resource (to enqueue a job)", e);
    if (rc != MLC_OK)
        return rc;
    return st->ops->event_ingest(st, ev, job_kind,
                                 inserted != NULL ? inserted : &dummy, e);
}

/* ---- jobs -------------------------------------------------------------- */

int store_job_enqueue(struct store *st, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id_out,
                      bool *coalesced, struct mlc_err *e)
{
    int64_t id;
    bool merged;
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(kind, "job kind", e);
    if (rc == MLC_OK)
        rc = need_str(key, "job key", e);
    if (rc == MLC_OK && run_at < 0)
        rc = mlc_err_set(e, MLC_EINVAL, "store: negative run_at");
    if (rc != MLC_OK)
        return rc;
    if (run_at == 0)
        run_at = store_now_ms(st);
    rc = st->ops->job_enqueue(st, kind, key, payload, run_at, &id, &merged, e);
    if (rc == MLC_OK && id_out != NULL)
        *id_out = id;
    if (rc == MLC_OK && coalesced != NULL)
        *coalesced = merged;
    return rc;
}

int store_job_claim(struct store *st, const char *owner,
                    const char *const *kinds, int64_t lease_ms,
                    struct store_job *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(owner, "owner", e);
    if (rc == MLC_OK)
        rc = need_positive(lease_ms, "lease", e);
    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output job");
    for (size_t i = 0; rc == MLC_OK && kinds != NULL && kinds[i]; i++)
        rc = need_str(kinds[i], "job kind", e);
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->job_claim(st, owner, kinds, lease_ms, out, e);
}

/* For a backend without a batch claim: single claims inside one
 * transaction (each claim sees the ones before, so keys stay unique). */
static int claim_each(struct store *st, const char *owner,
                      const char *const *kinds, int64_t lease_ms, size_t max,
                      struct store_job *out, size_t *n, struct mlc_err *e)
{
    int rc = st->ops->tx_begin(st, e);

    for (*n = 0; rc == MLC_OK && *n < max; (*n)++) {
        rc = st->ops->job_claim(st, owner, kinds, lease_ms, &out[*n], e);
        if (rc != MLC_OK)
            break;
    }
    if (rc == MLC_ENOTFOUND && *n > 0)
        rc = MLC_OK;
    if (rc == MLC_OK)
        rc = st->ops->tx_commit(st, e);
    else
        st->ops->tx_rollback(st);
    if (rc != MLC_OK) {
        for (size_t i = 0; i < *n; i++)
            store_job_clear(&out[i]);
        *n = 0;
    }
    if (rc == MLC_ENOTFOUND)
        mlc_err_set(e, rc, "store: no job to claim");
    return rc;
}

int store_job_claim_batch(struct store *st, const char *owner,
                          const char *const *kinds, int64_t lease_ms,
                          size_t max, struct store_job *out, size_t *n,
                          struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (n != NULL)
        *n = 0;
    if (rc == MLC_OK)
        rc = need_str(owner, "owner", e);
    if (rc == MLC_OK)
        rc = need_positive(lease_ms, "lease", e);
    if (rc == MLC_OK && (out == NULL || n == NULL || max == 0))
        rc = mlc_err_set(e, MLC_EINVAL, "store: no room for claimed jobs");
    for (size_t i = 0; rc == MLC_OK && kinds != NULL && kinds[i]; i++)
        rc = need_str(kinds[i], "job kind", e);
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, max * sizeof(*out));
    if (st->ops->job_claim_batch != NULL)
        return st->ops->job_claim_batch(st, owner, kinds, lease_ms, max, out, n, e);
    return claim_each(st, owner, kinds, lease_ms, max, out, n, e);
}

int store_job_extend(struct store *st, int64_t id, const char *owner,
                     int64_t lease_ms, struct mlc_err *e)
{
    int rc = need_lease(st, id, owner, e);

    if (rc == MLC_OK)
        rc = need_positive(lease_ms, "lease", e);
    return rc != MLC_OK ? rc : st->ops->job_extend(st, id, owner, lease_ms, e);
}

int store_job_done(struct store *st, int64_t id, const char *owner,
                   struct mlc_err *e)
{
    int rc = need_lease(st, id, owner, e);

    return rc != MLC_OK ? rc : st->ops->job_done(st, id, owner, e);
}

int store_job_retry(struct store *st, int64_t id, const char *owner,
                    const char *error, int max_attempts, bool *failed,
                    struct mlc_err *e)
{
    bool dummy;
    int rc = need_lease(st, id, owner, e);

    if (rc == MLC_OK)
        rc = need_positive(max_attempts, "max_attempts", e);
    if (rc != MLC_OK)
        return rc;
    return st->ops->job_retry(st, id, owner, error, max_attempts,
                              failed != NULL ? failed : &dummy, e);
}

int store_job_hold(struct store *st, int64_t id, const char *owner,
                   const char *reason, struct mlc_err *e)
{
    int rc = need_lease(st, id, owner, e);

    /* A missing reason must not leave the job running: hold it anyway. */
    if (reason == NULL || reason[0] == '\0')
        reason = "(no reason given)";
    return rc != MLC_OK ? rc : st->ops->job_hold(st, id, owner, reason, e);
}

int store_job_hold_as(struct store *st, int64_t id, const char *owner,
                      const char *reason, const struct store_hold *h,
                      struct mlc_err *e)
{
    int rc = store_tx_begin(st, e);

    if (rc != MLC_OK)
        return rc;
    rc = store_job_hold(st, id, owner, reason, e);
    if (rc == MLC_OK && h != NULL && (h->code != NULL || h->currency != NULL))
        rc = st->ops->job_hold_mark(st, id, h, e);
    if (rc == MLC_OK)
        return store_tx_commit(st, e);
    store_tx_rollback(st);
    return rc;
}

int store_job_defer(struct store *st, int64_t id, const char *owner,
                    int64_t run_at, const char *reason, struct mlc_err *e)
{
    int rc = need_lease(st, id, owner, e);

    if (rc == MLC_OK && run_at <= 0)
        rc = mlc_err_set(e, MLC_EINVAL, "store: defer needs a time");
    return rc != MLC_OK ? rc : st->ops->job_defer(st, id, owner, run_at, reason, e);
}

int store_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e)
{
    int64_t dummy = 0;
    int rc = need_store(st, e);

    return rc != MLC_OK ? rc : st->ops->job_release_leases(st, n != NULL ? n : &dummy, e);
}

int store_job_hold_idle(struct store *st, int64_t id, const char *reason,
                        struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_positive(id, "job id", e);
    if (reason == NULL || reason[0] == '\0')
        reason = "(no reason given)";
    return rc != MLC_OK ? rc : st->ops->job_hold_idle(st, id, reason, e);
}

int store_job_replay(struct store *st, int64_t id, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_positive(id, "job id", e);
    return rc != MLC_OK ? rc : st->ops->job_replay(st, id, e);
}

/* Loads job id and checks it can be (un)dismissed, then marks it. */
static int dismiss_tx(struct store *st, int64_t id, const char *by, const char *note,
                      struct mlc_err *e)
{
    struct store_job j = { 0 };
    int rc = store_job_get(st, id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (by != NULL && j.state != STORE_JOB_HELD && j.state != STORE_JOB_FAILED)
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s, only held or "
                         "failed jobs can be dismissed", (long long)id,
                         store_job_state_name(j.state));
    else if (by != NULL && j.dismissed_at > 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is dismissed already "
                         "(by %s)", (long long)id,
                         j.dismissed_by != NULL ? j.dismissed_by : "?");
    else if (by == NULL && j.dismissed_at <= 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is not dismissed",
                         (long long)id);
    else
        rc = st->ops->job_dismiss_mark(st, id, by, note, e);
    store_job_clear(&j);
    return rc;
}

static int dismiss_in_tx(struct store *st, int64_t id, const char *by, const char *note,
                         struct mlc_err *e)
{
    int rc = store_tx_begin(st, e);

    if (rc != MLC_OK)
        return rc;
    rc = dismiss_tx(st, id, by, note, e);
    if (rc == MLC_OK)
        return store_tx_commit(st, e);
    store_tx_rollback(st);
    return rc;
}

int store_job_dismiss(struct store *st, int64_t id, const char *by,
                      const char *note, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_positive(id, "job id", e);
    if (rc == MLC_OK)
        rc = need_str(by, "dismissed by", e);
    if (rc == MLC_OK)
        rc = need_str(note, "dismissal note", e);
    return rc != MLC_OK ? rc : dismiss_in_tx(st, id, by, note, e);
}

int store_job_undismiss(struct store *st, int64_t id, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_positive(id, "job id", e);
    return rc != MLC_OK ? rc : dismiss_in_tx(st, id, NULL, NULL, e);
}

int store_dismissal_get(struct store *st, const char *key,
                        struct store_dismissal *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(key, "key", e);
    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output dismissal");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->dismissal_get(st, key, out, e);
}

int store_job_get(struct store *st, int64_t id, struct store_job *out,
                  struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output job");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->job_get(st, id, out, e);
}

static int need_state(int state, struct mlc_err *e)
{
    if (state < 0 || (size_t)state >= N_JOB_STATES)
        return mlc_err_set(e, MLC_EINVAL, "store: invalid job state %d",
                           state);
    return MLC_OK;
}

int store_job_list(struct store *st, int state, size_t limit,
                   int (*fn)(const struct store_job *j, void *ctx), void *ctx,
                   struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && state >= 0)
        rc = need_state(state, e);
    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no callback");
    return rc != MLC_OK ? rc
                        : st->ops->job_list(st, state < 0 ? -1 : state, limit,
                                            fn, ctx, e);
}

int store_job_count(struct store *st, enum store_job_state state,
                    int64_t *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_state((int)state, e);
    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output");
    return rc != MLC_OK ? rc : st->ops->job_count(st, state, out, e);
}

/* ---- watermarks -------------------------------------------------------- */

int store_watermark_get(struct store *st, const char *name, char *buf,
                        size_t cap, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "watermark name", e);
    if (rc == MLC_OK && (buf == NULL || cap == 0))
        rc = mlc_err_set(e, MLC_EINVAL, "store: no watermark buffer");
    return rc != MLC_OK ? rc : st->ops->watermark_get(st, name, buf, cap, e);
}

int store_watermark_set(struct store *st, const char *name,
                        const char *value, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "watermark name", e);
    if (rc == MLC_OK && value == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no watermark value");
    return rc != MLC_OK ? rc : st->ops->watermark_set(st, name, value, e);
}

/* ---- stored reports ---------------------------------------------------- */

void store_report_clear(struct store_report *r)
{
    if (r == NULL)
        return;
    free(r->day);
    free(r->kind);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int store_report_add(struct store *st, const char *kind, const char *day,
                     const char *body, int64_t differences, int64_t *id_out,
                     struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(kind, "report kind", e);
    if (rc == MLC_OK)
        rc = need_str(day, "report day", e);
    if (rc == MLC_OK && body == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no report body");
    if (rc == MLC_OK && differences < 0)
        rc = mlc_err_set(e, MLC_EINVAL, "store: negative differences count");
    return rc != MLC_OK ? rc
                        : st->ops->report_add(st, kind, day, body, differences, id_out, e);
}

int store_report_latest(struct store *st, const char *kind, const char *day,
                        struct store_report *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(kind, "report kind", e);
    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no report output");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->report_latest(st, kind, day, out, e);
}

/* ---- the alerts outbox ------------------------------------------------- */

int store_alert_add(struct store *st, const char *dedupe_key, const char *reason,
                    const char *body, bool *added, struct mlc_err *e)
{
    bool dummy;
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(dedupe_key, "alert key", e);
    if (rc == MLC_OK)
        rc = need_str(reason, "alert reason", e);
    if (rc == MLC_OK && body == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no alert body");
    return rc != MLC_OK ? rc
                        : st->ops->alert_add(st, dedupe_key, reason, body,
                                             added != NULL ? added : &dummy, e);
}

int store_alert_list(struct store *st, int64_t after_id, size_t limit,
                     int (*fn)(const struct store_alert *a, void *ctx), void *ctx,
                     struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no callback");
    return rc != MLC_OK ? rc : st->ops->alert_list(st, after_id, limit, fn, ctx, e);
}

int store_alert_prune(struct store *st, int64_t upto_id, int64_t before_ms,
                      int64_t *n, struct mlc_err *e)
{
    int64_t dummy;
    int rc = need_store(st, e);

    return rc != MLC_OK ? rc
                        : st->ops->alert_prune(st, upto_id, before_ms,
                                               n != NULL ? n : &dummy, e);
}

/* ---- ledger ------------------------------------------------------------ */

static int need_key(const struct store *st, const char *key,
                    struct mlc_err *e)
{
    int rc = need_store(st, e);

    return rc != MLC_OK ? rc : need_str(key, "ledger key", e);
}

int store_ledger_get(struct store *st, const char *key,
                     struct store_ledger *out, struct mlc_err *e)
{
    int rc = need_key(st, key, e);

    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output ledger row");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->ledger_get(st, key, out, e);
}

int store_ledger_begin(struct store *st, const char *key, const char *kind,
                       const char *entity, const char *request,
                       struct mlc_err *e)
{
    int rc = need_key(st, key, e);

    if (rc == MLC_OK)
        rc = need_str(kind, "ledger kind", e);
    if (rc == MLC_OK)
        rc = need_str(entity, "ledger entity", e);
    if (rc == MLC_OK && st->tx_depth > 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: ledger row %s begun inside an open "
                         "transaction: it would not be on disk before its create is sent",
                         key);
    return rc != MLC_OK ? rc
                        : st->ops->ledger_begin(st, key, kind, entity,
                                                request, e);
}

int store_ledger_mark_unknown(struct store *st, const char *key,
                              struct mlc_err *e)
{
    int rc = need_key(st, key, e);

    return rc != MLC_OK ? rc : st->ops->ledger_mark_unknown(st, key, e);
}

int store_ledger_mark_posted(struct store *st, const char *key,
                             const char *doc_type, const char *doc_company,
                             int64_t doc_number, int64_t batch,
                             struct mlc_err *e)
{
    int rc = need_key(st, key, e);

    if (rc == MLC_OK)
        rc = need_str(doc_type, "document type", e);
    if (rc == MLC_OK)
        rc = need_str(doc_company, "document company", e);
    if (rc == MLC_OK)
        rc = need_positive(doc_number, "document number", e);
    if (rc == MLC_OK && batch < 0)
        rc = mlc_err_set(e, MLC_EINVAL, "store: negative batch number");
    return rc != MLC_OK ? rc
                        : st->ops->ledger_mark_posted(st, key, doc_type,
                                                      doc_company, doc_number,
                                                      batch, e);
}

int store_ledger_forget(struct store *st, const char *key, struct mlc_err *e)
{
    int rc = need_key(st, key, e);

    return rc != MLC_OK ? rc : st->ops->ledger_forget(st, key, e);
}

int store_ledger_list(struct store *st, const char *entity,
                      int (*fn)(const struct store_ledger *l, void *ctx),
                      void *ctx, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no callback");
    return rc != MLC_OK ? rc : st->ops->ledger_list(st, entity, fn, ctx, e);
}

/* ---- audit ------------------------------------------------------------- */

int store_audit_add(struct store *st, const struct store_audit *a,
                    struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && a == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no audit row");
    if (rc == MLC_OK)
        rc = need_str(a->actor, "audit actor", e);
    if (rc == MLC_OK)
        rc = need_str(a->entity, "audit entity", e);
    if (rc == MLC_OK)
        rc = need_str(a->action, "audit action", e);
    if (rc == MLC_OK)
        rc = need_str(a->outcome, "audit outcome", e);
    return rc != MLC_OK ? rc : st->ops->audit_add(st, a, e);
}

int store_audit_list(struct store *st, const char *entity, size_t limit,
                     int (*fn)(const struct store_audit *a, void *ctx),
                     void *ctx, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no callback");
    return rc != MLC_OK ? rc
                        : st->ops->audit_list(st, entity, limit, fn, ctx, e);
}

/* ---- secrets ----------------------------------------------------------- */

int store_secret_put(struct store *st, const char *name, const void *blob,
                     size_t len, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "secret name", e);
    if (rc == MLC_OK && blob == NULL && len > 0)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no secret blob");
    return rc != MLC_OK ? rc : st->ops->secret_put(st, name, blob, len, e);
}

int store_secret_get(struct store *st, const char *name, void **blob,
                     size_t *len, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "secret name", e);
    if (rc == MLC_OK && (blob == NULL || len == NULL))
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output blob");
    if (rc != MLC_OK)
        return rc;
    *blob = NULL;
    *len = 0;
    return st->ops->secret_get(st, name, blob, len, e);
}

int store_secret_delete(struct store *st, const char *name, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "secret name", e);
    return rc != MLC_OK ? rc : st->ops->secret_delete(st, name, e);
}

int store_secret_list(struct store *st,
                      int (*fn)(const char *name, int64_t updated_at,
                                void *ctx),
                      void *ctx, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no callback");
    return rc != MLC_OK ? rc : st->ops->secret_list(st, fn, ctx, e);
}

/* ---- paused jobs --------------------------------------------------------- */

int store_job_pause(struct store *st, int64_t id, const char *owner,
                    const char *system, const char *reason, int64_t recheck_ms,
                    struct mlc_err *e)
{
    int rc = need_lease(st, id, owner, e);

    if (rc == MLC_OK)
        rc = need_str(system, "system", e);
    if (rc == MLC_OK)
        rc = need_positive(recheck_ms, "recheck delay", e);
    if (reason == NULL || reason[0] == '\0')
        reason = "(no reason given)";
    return rc != MLC_OK ? rc : st->ops->job_pause(st, id, owner, system, reason,
                                                  recheck_ms, e);
}

int store_jobs_resume(struct store *st, const char *system, int64_t *n,
                      struct mlc_err *e)
{
    int64_t dummy;
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(system, "system", e);
    if (n == NULL)
        n = &dummy;
    *n = 0;
    return rc != MLC_OK ? rc : st->ops->jobs_resume(st, system, n, e);
}

int store_gauges_read(struct store *st, struct store_gauges *out,
                      struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output gauges");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->gauges_read(st, out, e);
}

int store_jobs_paused_count(struct store *st, const char *system, int64_t *out,
                            struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output count");
    if (rc != MLC_OK)
        return rc;
    *out = 0;
    return st->ops->jobs_paused_count(st, system, out, e);
}

/* ---- named leases ------------------------------------------------------ */

/* Store, lease name and holder: the checks of every lease call. */
static int need_named(const struct store *st, const char *name,
                      const char *holder, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "lease name", e);
    if (rc == MLC_OK)
        rc = need_str(holder, "lease holder", e);
    return rc;
}

int store_lease_take(struct store *st, const char *name, const char *holder,
                     int64_t ttl_ms, int64_t *token, struct mlc_err *e)
{
    int rc = need_named(st, name, holder, e);

    if (rc == MLC_OK)
        rc = need_positive(ttl_ms, "lease time", e);
    if (rc == MLC_OK && token == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output token");
    return rc != MLC_OK ? rc : st->ops->lease_take(st, name, holder, ttl_ms, token, e);
}

int store_lease_check(struct store *st, const char *name, const char *holder,
                      int64_t token, struct mlc_err *e)
{
    int rc = need_named(st, name, holder, e);

    if (rc == MLC_OK)
        rc = need_positive(token, "lease token", e);
    return rc != MLC_OK ? rc : st->ops->lease_check(st, name, holder, token, e);
}

int store_lease_drop(struct store *st, const char *name, const char *holder,
                     struct mlc_err *e)
{
    int rc = need_named(st, name, holder, e);

    return rc != MLC_OK ? rc : st->ops->lease_drop(st, name, holder, e);
}

void store_lease_clear(struct store_lease *l)
{
    if (l == NULL)
        return;
    free(l->name);
    free(l->holder);
    memset(l, 0, sizeof(*l));
}

int store_lease_get(struct store *st, const char *name,
                    struct store_lease *out, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "lease name", e);
    if (rc == MLC_OK && out == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no output lease");
    if (rc != MLC_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    return st->ops->lease_get(st, name, out, e);
}

int store_lease_forget(struct store *st, const char *name, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "lease name", e);
    return rc != MLC_OK ? rc : st->ops->lease_forget(st, name, e);
}

int store_lease_list(struct store *st, const char *prefix,
                     int (*fn)(const struct store_lease *l, void *ctx),
                     void *ctx, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no lease callback");
    return rc != MLC_OK ? rc : st->ops->lease_list(st, prefix != NULL ? prefix : "",
                                                    fn, ctx, e);
}

int store_job_release_owner(struct store *st, const char *prefix, int64_t *n,
                            struct mlc_err *e)
{
    int64_t dummy;
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(prefix, "owner prefix", e);
    if (n == NULL)
        n = &dummy;
    *n = 0;
    return rc != MLC_OK ? rc : st->ops->job_release_owner(st, prefix, n, e);
}

/* ---- shared records ---------------------------------------------------- */

int store_shared_update(struct store *st, const char *name,
                        store_shared_fn fn, void *ctx, struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK)
        rc = need_str(name, "record name", e);
    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no update function");
    if (rc == MLC_OK && st->tx_depth > 0)
        rc = mlc_err_set(e, MLC_ESTATE, "store: shared record %s updated inside "
                         "a transaction", name);
    return rc != MLC_OK ? rc : st->ops->shared_update(st, name, fn, ctx, e);
}

/* ---- moving an installation -------------------------------------------- */

static const char *const table_names[STORE_TABLE_COUNT] = {
    [STORE_TABLE_EVENTS]     = "events",
    [STORE_TABLE_JOBS]       = "jobs",
    [STORE_TABLE_LEDGER]     = "ledger",
    [STORE_TABLE_AUDIT]      = "audit",
    [STORE_TABLE_WATERMARKS] = "watermarks",
    [STORE_TABLE_SECRETS]    = "secrets",
    [STORE_TABLE_REPORTS]    = "reports",
    [STORE_TABLE_ALERTS]     = "alerts",
};

const char *store_table_name(enum store_table t)
{
    return (unsigned)t < STORE_TABLE_COUNT ? table_names[t] : "invalid";
}

int store_export(struct store *st, enum store_table table,
                 int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                 struct mlc_err *e)
{
    int rc = need_store(st, e);

    if (rc == MLC_OK && (unsigned)table >= STORE_TABLE_COUNT)
        rc = mlc_err_set(e, MLC_EINVAL, "store: unknown table %d", (int)table);
    if (rc == MLC_OK && fn == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no row callback");
    return rc != MLC_OK ? rc : st->ops->export_rows(st, table, fn, ctx, e);
}

/* The key of a row, for messages: its id or its text key. */
static void row_key(const struct store_row *r, char *buf, size_t cap)
{
    switch (r->table) {
    case STORE_TABLE_EVENTS:
        snprintf(buf, cap, "event id %lld (dedupe key %s)", (long long)r->u.event.id,
                 r->u.event.dedupe_key ? r->u.event.dedupe_key : "(null)");
        break;
    case STORE_TABLE_JOBS:
        snprintf(buf, cap, "job id %lld (%s %s)", (long long)r->u.job.id,
                 r->u.job.kind ? r->u.job.kind : "(null)", r->u.job.key ? r->u.job.key : "(null)");
        break;
    case STORE_TABLE_AUDIT:
        snprintf(buf, cap, "audit row id %lld", (long long)r->u.audit.id);
        break;
    case STORE_TABLE_LEDGER:
        snprintf(buf, cap, "ledger row %s", r->u.ledger.key ? r->u.ledger.key : "(null)");
        break;
    case STORE_TABLE_WATERMARKS:
        snprintf(buf, cap, "watermark %s", r->u.watermark.name ? r->u.watermark.name : "(null)");
        break;
    case STORE_TABLE_REPORTS:
        snprintf(buf, cap, "report id %lld", (long long)r->u.report.id);
        break;
    case STORE_TABLE_ALERTS:
        snprintf(buf, cap, "alert id %lld", (long long)r->u.alert.id);
        break;
    default:
        snprintf(buf, cap, "secret %s", r->u.secret.name ? r->u.secret.name : "(null)");
        break;
    }
}

/* What no table can hold, refused alike on every backend. */
static int check_row(const struct store_row *r, const char *key, struct mlc_err *e)
{
    if (r->table == STORE_TABLE_JOBS && (unsigned)r->u.job.state >= N_JOB_STATES)
        return mlc_err_set(e, MLC_EINVAL, "store: import of %s: unknown state %d", key,
                           (int)r->u.job.state);
    if (r->table == STORE_TABLE_LEDGER && (unsigned)r->u.ledger.state >= N_LEDGER_STATES)
        return mlc_err_set(e, MLC_EINVAL, "store: import of %s: unknown state %d", key,
                           (int)r->u.ledger.state);
    if (r->table == STORE_TABLE_REPORTS &&
        (r->u.report.day == NULL || r->u.report.kind == NULL || r->u.report.body == NULL))
        return mlc_err_set(e, MLC_EINVAL, "store: import of %s: day, kind and body are "
                           "required", key);
    if (r->table == STORE_TABLE_ALERTS &&
        (r->u.alert.dedupe_key == NULL || r->u.alert.reason == NULL || r->u.alert.body == NULL))
        return mlc_err_set(e, MLC_EINVAL, "store: import of %s: key, reason and body are "
                           "required", key);
    if (r->table == STORE_TABLE_SECRETS && r->u.secret.blob == NULL)
        return mlc_err_set(e, MLC_EINVAL, "store: import of %s: no blob", key);
    return MLC_OK;
}

int store_import(struct store *st, const struct store_row *r,
                 struct mlc_err *e)
{
    char key[160];
    int rc = need_store(st, e);

    if (rc == MLC_OK && r == NULL)
        rc = mlc_err_set(e, MLC_EINVAL, "store: no row");
    if (rc == MLC_OK && (unsigned)r->table >= STORE_TABLE_COUNT)
        rc = mlc_err_set(e, MLC_EINVAL, "store: unknown table %d", (int)r->table);
    if (rc != MLC_OK)
        return rc;
    row_key(r, key, sizeof(key));
    if ((rc = check_row(r, key, e)) != MLC_OK)
        return rc;
    rc = st->ops->import_row(st, r, e);
    if (rc == MLC_EEXIST) /* the same words from every backend */
        mlc_err_set(e, MLC_EEXIST, "store: import into %s: %s is taken",
                    store_table_name(r->table), key);
    return rc;
}

int store_import_finish(struct store *st, struct mlc_err *e)
{
    int rc = need_store(st, e);

    return rc != MLC_OK ? rc : st->ops->import_finish(st, e);
}
