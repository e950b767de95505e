/* leader: the singleton tasks' lease (see leader.h). */
#include "daemon/leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct leader {
    struct store   *st;          /* NULL: alone on the store */
    char           *holder;
    char           *proc_lease;  /* LEADER_PROC_PREFIX + holder */
    int64_t         ttl_ms;
    pthread_mutex_t io_mu;       /* the connection: one caller at a time */
    pthread_mutex_t mu;          /* what follows */
    pthread_cond_t  wake;
    bool            stop;
    bool            leads;
    int64_t         token;
    int64_t         valid_until; /* monotonic ms: believe we lead until then */
    int             processes;   /* live process leases at the last round, >= 1 */
    bool            thread_up;
    pthread_t       thread;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under io_mu: the connection is the thread's or the caller's alone. */
static void audit(struct leader *l, const char *action, int64_t token)
{
    char detail[64];
    struct store_audit a = { .actor = l->holder, .entity = "leader", .action = action,
                             .outcome = "ok", .detail = detail };
    struct mlc_err e;

    snprintf(detail, sizeof(detail), "{\"token\":%lld}", (long long)token);
    if (store_audit_add(l->st, &a, &e) != MLC_OK)
        log_warn("leader", "cannot audit a leadership change", LF_STR("action", action),
                 LF_ERR(&e));
}

/* Records the outcome of one take; returns the transition to audit, if any. */
static const char *note_take(struct leader *l, int rc, int64_t t0, int64_t token,
                             const struct mlc_err *e)
{
    const char *change = NULL;

    pthread_mutex_lock(&l->mu);
    if (rc == MLC_OK) {
        if (!l->leads || l->token != token)
            change = "acquired";
        l->leads = true;
        l->token = token;
        /* A tenth of the lease in hand: our clock and the store's may
         * drift apart a little, and the holder must stop first. */
        l->valid_until = t0 + l->ttl_ms - l->ttl_ms / 10;
    } else if (rc == MLC_EBUSY) {
        if (l->leads)
            change = "lost";
        l->leads = false;
    } else {
        log_warn("leader", "cannot renew or take the leader lease", LF_ERR(e),
                 LF_BOOL("leads", l->leads));
    }
    pthread_mutex_unlock(&l->mu);
    return change;
}

/* Names of the process leases that ran out (their processes are gone). */
struct dead_list {
    const char *self;
    int64_t     now;
    char      **names;
    size_t      n, cap;
    int         alive;  /* live leases of other processes */
    bool        oom;
};

static int collect_dead(const struct store_lease *ls, void *ctx)
{
    struct dead_list *d = ctx;
    char **nv;

    if (strcmp(ls->name, d->self) == 0)
        return 0;
    if (ls->holder != NULL && ls->until > d->now) {
        d->alive++;
        return 0;
    }
    if (d->n == d->cap) {
        size_t ncap = d->cap > 0 ? d->cap * 2 : 8;

        if ((nv = realloc(d->names, ncap * sizeof(*nv))) == NULL) {
            d->oom = true;
            return 1;
        }
        d->names = nv;
        d->cap = ncap;
    }
    if ((d->names[d->n] = strdup(ls->name)) == NULL) {
        d->oom = true;
        return 1;
    }
    d->n++;
    return 0;
}

/* One gone process: its running jobs are released now (their ledger rows
 * are looked up before anything is sent again, as after any crash), then
 * its lease entry is removed. */
static void reap_one(struct leader *l, const char *lease_name)
{
    const char *ident = lease_name + strlen(LEADER_PROC_PREFIX);
    char prefix[320], detail[400];
    struct store_audit a = { .actor = l->holder, .entity = "jobs", .action = "recover",
                             .outcome = "ok", .detail = detail };
    struct mlc_err e;
    int64_t n = 0;

    snprintf(prefix, sizeof(prefix), "%s:", ident);
    if (store_job_release_owner(l->st, prefix, &n, &e) != MLC_OK) {
        log_warn("leader", "cannot release the jobs of a gone process", LF_STR("process", ident),
                 LF_ERR(&e));
        return;
    }
    if (n > 0) {
        snprintf(detail, sizeof(detail), "{\"process\":\"%s\",\"released\":%lld}", ident,
                 (long long)n);
        if (store_audit_add(l->st, &a, &e) != MLC_OK)
            log_warn("leader", "cannot audit the released jobs", LF_ERR(&e));
        log_warn("leader", "jobs of a gone process run again now", LF_STR("process", ident),
                 LF_INT("jobs", n));
    }
    if (store_lease_forget(l->st, lease_name, &e) != MLC_OK)
        log_debug("leader", "process entry kept", LF_STR("process", ident), LF_ERR(&e));
}

/* Under io_mu: counts the live processes and, while leading, releases
 * the work of every process whose lease ran out. */
static void look_at_processes(struct leader *l, bool leading)
{
    struct dead_list d = { .self = l->proc_lease, .now = store_now_ms(l->st) };
    struct mlc_err e;
    int rc;

    rc = store_lease_list(l->st, LEADER_PROC_PREFIX, collect_dead, &d, &e);
    if (rc != MLC_OK && !d.oom)
        log_warn("leader", "cannot list the processes", LF_ERR(&e));
    if (rc == MLC_OK) {
        pthread_mutex_lock(&l->mu);
        l->processes = 1 + d.alive;
        pthread_mutex_unlock(&l->mu);
    }
    for (size_t i = 0; i < d.n; i++) {
        if (leading && !d.oom)
            reap_one(l, d.names[i]);
        free(d.names[i]);
    }
    free(d.names);
}

int leader_processes(struct leader *l)
{
    int n;

    if (l == NULL)
        return 1;
    pthread_mutex_lock(&l->mu);
    n = l->processes > 0 ? l->processes : 1;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void leader_poll(struct leader *l)
{
    struct mlc_err e;
    const char *change;
    int64_t token = 0, ptoken = 0, t0;
    int rc;

    if (l == NULL || l->st == NULL)
        return;
    pthread_mutex_lock(&l->io_mu);
    t0 = mono_ms();
    mlc_err_clear(&e);
    /* This process is alive: its own lease, which nobody else takes. */
    if (store_lease_take(l->st, l->proc_lease, l->holder, l->ttl_ms, &ptoken, &e) != MLC_OK)
        log_warn("leader", "cannot renew this process's lease", LF_ERR(&e));
    mlc_err_clear(&e);
    rc = store_lease_take(l->st, LEADER_LEASE, l->holder, l->ttl_ms, &token, &e);
    change = note_take(l, rc, t0, token, &e);
    if (change != NULL) {
        if (rc == MLC_OK)
            log_info("leader", "this process leads: it runs the singleton tasks",
                     LF_STR("holder", l->holder), LF_INT("token", token));
        else
            log_warn("leader", "leadership lost to another process",
                     LF_STR("holder", l->holder));
        audit(l, change, rc == MLC_OK ? token : l->token);
    }
    look_at_processes(l, rc == MLC_OK);
    pthread_mutex_unlock(&l->io_mu);
}

static void *leader_main(void *arg)
{
    struct leader *l = arg;
    struct timespec ts;
    int64_t every = l->ttl_ms / 3;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        pthread_mutex_unlock(&l->mu);
        leader_poll(l);
        pthread_mutex_lock(&l->mu);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(every / 1000);
        ts.tv_nsec += (long)(every % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!l->stop && pthread_cond_timedwait(&l->wake, &l->mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static int leader_init_sync(struct leader *l, struct mlc_err *e)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);

    if (rc == 0)
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&l->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return mlc_err_set(e, MLC_EIO, "leader: %s", strerror(rc));
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->io_mu, NULL);
    return MLC_OK;
}

int leader_start(struct store *st, const char *holder, int64_t ttl_ms,
                 struct leader **out, struct mlc_err *e)
{
    struct leader *l;
    int rc;

    *out = NULL;
    if (holder == NULL || holder[0] == '\0' || ttl_ms < 3000) {
        store_close(st);
        return mlc_err_set(e, MLC_EINVAL, "leader: a holder and a lease of at least 3 s "
                           "are required");
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->holder = strdup(holder)) == NULL ||
        asprintf(&l->proc_lease, "%s%s", LEADER_PROC_PREFIX, holder) < 0) {
        if (l != NULL)
            free(l->holder);
        free(l);
        store_close(st);
        return mlc_err_set(e, MLC_ENOMEM, "leader: out of memory");
    }
    l->st = st;
    l->ttl_ms = ttl_ms;
    if ((rc = leader_init_sync(l, e)) != MLC_OK) {
        free(l->proc_lease);
        free(l->holder);
        free(l);
        store_close(st);
        return rc;
    }
    if (st != NULL) {
        leader_poll(l); /* lead from the first tick when the lease is free */
        if ((rc = pthread_create(&l->thread, NULL, leader_main, l)) != 0) {
            leader_stop(l);
            return mlc_err_set(e, MLC_EIO, "leader: cannot start its thread: %s",
                               strerror(rc));
        }
        l->thread_up = true;
    }
    *out = l;
    return MLC_OK;
}

bool leader_holds(struct leader *l, int64_t *token)
{
    bool leads;

    if (l == NULL)
        return false;
    if (l->st == NULL) {
        if (token != NULL)
            *token = 0;
        return true;
    }
    pthread_mutex_lock(&l->mu);
    leads = l->leads && mono_ms() < l->valid_until;
    if (token != NULL)
        *token = leads ? l->token : 0;
    pthread_mutex_unlock(&l->mu);
    return leads;
}

const char *leader_holder(const struct leader *l)
{
    return l != NULL ? l->holder : "";
}

/* A clean exit hands the lease over at once instead of after its time. */
static void resign(struct leader *l)
{
    struct mlc_err e;

    if (l->st == NULL || !l->leads)
        return;
    if (store_lease_drop(l->st, LEADER_LEASE, l->holder, &e) != MLC_OK) {
        log_warn("leader", "cannot give the leader lease up; it ends with its time",
                 LF_ERR(&e));
        return;
    }
    log_info("leader", "leadership given up", LF_STR("holder", l->holder));
    audit(l, "resigned", l->token);
    l->leads = false;
}

/* Gone for good: whoever leads next releases what this process still
 * runs (nothing, after a complete drain) and removes its entry. */
static void leave(struct leader *l)
{
    struct mlc_err e;

    if (l->st != NULL && store_lease_drop(l->st, l->proc_lease, l->holder, &e) != MLC_OK)
        log_warn("leader", "cannot give this process's lease up", LF_ERR(&e));
}

void leader_stop(struct leader *l)
{
    if (l == NULL)
        return;
    if (l->thread_up) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->wake);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    resign(l);
    leave(l);
    store_close(l->st);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->io_mu);
    free(l->proc_lease);
    free(l->holder);
    free(l);
}
