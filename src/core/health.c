/*
 * health: a small table of named conditions under one mutex, plus a
 * thread-specific pointer to the calling thread's watch.
 */
#include "core/health.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct health {
    pthread_mutex_t    mu;
    pthread_key_t      watch_key;  /* this thread's struct health_watch */
    struct health_cond c[HEALTH_MAX];
    size_t             n;          /* under mu, oldest first */
    uint64_t           version;
};

static const char *const vocabulary[] = {
    HEALTH_FLOWS_DISABLED, HEALTH_JDE_LOGIN, HEALTH_JDE_DOWN,
    HEALTH_BC_AUTH, HEALTH_BC_DOWN, HEALTH_STORE_WRITE,
};

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int health_new(struct health **out, struct mlc_err *e)
{
    struct health *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (h == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "health: out of memory");
    if (pthread_key_create(&h->watch_key, NULL) != 0) {
        free(h);
        return mlc_err_set(e, MLC_ENOMEM, "health: cannot create a thread key");
    }
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return MLC_OK;
}

void health_free(struct health *h)
{
    if (h == NULL)
        return;
    pthread_key_delete(h->watch_key);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* Index of name, or -1; mu held. */
static long find_locked(const struct health *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->c[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void watch_note(struct health *h, const char *name)
{
    struct health_watch *w = pthread_getspecific(h->watch_key);

    if (w == NULL)
        return;
    w->seen++;
    snprintf(w->last, sizeof(w->last), "%s", name);
}

void health_set(struct health *h, const char *name, const char *fmt, ...)
{
    char reason[HEALTH_REASON_MAX];
    struct health_cond *c;
    bool added = false, full = false;
    int64_t now = wall_ms();
    va_list ap;
    long i;

    if (h == NULL || name == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&h->mu);
    i = find_locked(h, name);
    if (i < 0 && h->n < HEALTH_MAX) {
        i = (long)h->n++;
        c = &h->c[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", name);
        c->since_ms = now;
        h->version++;
        added = true;
    }
    full = i < 0;
    if (!full) {
        c = &h->c[i];
        if (!added && strcmp(c->reason, reason) != 0)
            h->version++; /* a new reason is worth recording too */
        snprintf(c->reason, sizeof(c->reason), "%s", reason);
        c->updated_ms = now;
        c->reports++;
    }
    pthread_mutex_unlock(&h->mu);
    watch_note(h, name);
    if (added)
        log_warn("health", "not ready", LF_STR("condition", name), LF_STR("reason", reason));
    else if (full)
        log_error("health", "too many conditions: one is not shown", LF_STR("condition", name),
                  LF_STR("reason", reason));
}

bool health_clear(struct health *h, const char *name)
{
    int64_t since = 0;
    long i;

    if (h == NULL || name == NULL)
        return false;
    pthread_mutex_lock(&h->mu);
    i = find_locked(h, name);
    if (i >= 0) {
        since = h->c[i].since_ms;
        memmove(&h->c[i], &h->c[i + 1], (h->n - (size_t)i - 1) * sizeof(h->c[0]));
        h->n--;
        h->version++;
    }
    pthread_mutex_unlock(&h->mu);
    if (i < 0)
        return false;
    log_info("health", "condition cleared", LF_STR("condition", name),
             LF_INT("lasted_s", (wall_ms() - since) / 1000));
    return true;
}

bool health_is_set(struct health *h, const char *name)
{
    bool set;

    if (h == NULL || name == NULL)
        return false;
    pthread_mutex_lock(&h->mu);
    set = find_locked(h, name) >= 0;
    pthread_mutex_unlock(&h->mu);
    return set;
}

/* True when name is "<system>." followed by something. */
static bool of_system(const char *name, const char *system)
{
    size_t n = strlen(system);

    return strncmp(name, system, n) == 0 && name[n] == '.';
}

bool health_system_ok(struct health *h, const char *system)
{
    bool ok = true;

    if (h == NULL || system == NULL)
        return true;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n && ok; i++)
        ok = !of_system(h->c[i].name, system);
    pthread_mutex_unlock(&h->mu);
    return ok;
}

size_t health_list(struct health *h, struct health_cond *out, size_t max)
{
    size_t n;

    if (h == NULL)
        return 0;
    pthread_mutex_lock(&h->mu);
    n = h->n;
    if (out != NULL)
        memcpy(out, h->c, (n < max ? n : max) * sizeof(*out));
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint64_t health_version(struct health *h)
{
    uint64_t v;

    if (h == NULL)
        return 0;
    pthread_mutex_lock(&h->mu);
    v = h->version;
    pthread_mutex_unlock(&h->mu);
    return v;
}

void health_system_of(const char *name, char *buf, size_t cap)
{
    const char *dot = strchr(name, '.');

    if (dot == NULL)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "%.*s", (int)(dot - name), name);
}

void health_watch_begin(struct health *h, struct health_watch *w)
{
    memset(w, 0, sizeof(*w));
    w->h = h;
    if (h != NULL)
        pthread_setspecific(h->watch_key, w);
}

void health_watch_end(struct health_watch *w)
{
    if (w->h != NULL && pthread_getspecific(w->h->watch_key) == w)
        pthread_setspecific(w->h->watch_key, NULL);
}

void health_metrics(struct health *h, struct metrics *m)
{
    struct health_cond c[HEALTH_MAX];
    size_t n = health_list(h, c, HEALTH_MAX), nv = sizeof(vocabulary) / sizeof(vocabulary[0]);

    if (n > HEALTH_MAX)
        n = HEALTH_MAX;
    metrics_head(m, "mlc_health_condition", "gauge",
                 "1 while the condition makes /readyz answer 503.");
    for (size_t i = 0; i < nv; i++) {
        bool set = false;

        for (size_t j = 0; j < n && !set; j++)
            set = strcmp(c[j].name, vocabulary[i]) == 0;
        metrics_sample(m, "mlc_health_condition", "condition", vocabulary[i], set);
    }
    for (size_t j = 0; j < n; j++) {
        bool known = false;

        for (size_t i = 0; i < nv && !known; i++)
            known = strcmp(c[j].name, vocabulary[i]) == 0;
        if (!known)
            metrics_sample(m, "mlc_health_condition", "condition", c[j].name, 1);
    }
}
