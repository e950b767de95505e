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
    int64_t         ttl_ms;
    pthread_mutex_t io_mu;       /* the connection: one caller at a time */
    pthread_mutex_t mu;          /* what follows */
    pthread_cond_t  wake;
    bool            stop;
    bool            leads;
    int64_t         token;
    int64_t         valid_until; /* monotonic ms: believe we lead until then */
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

void leader_poll(struct leader *l)
{
    struct mlc_err e;
    const char *change;
    int64_t token = 0, t0;
    int rc;

    if (l == NULL || l->st == NULL)
        return;
    pthread_mutex_lock(&l->io_mu);
    t0 = mono_ms();
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
    if (l == NULL || (l->holder = strdup(holder)) == NULL) {
        free(l);
        store_close(st);
        return mlc_err_set(e, MLC_ENOMEM, "leader: out of memory");
    }
    l->st = st;
    l->ttl_ms = ttl_ms;
    if ((rc = leader_init_sync(l, e)) != MLC_OK) {
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
    store_close(l->st);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->io_mu);
    free(l->holder);
    free(l);
}
