#include "daemon/sched.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct sched_task {
    char    *name;
    int64_t  interval_ms;
    sched_fn fn;
    void    *ctx;
    bool     started;   /* false until the first run: due at once */
    int64_t  next_at;   /* when started: due at or after this */
    uint64_t runs;
};

struct sched {
    struct sched_task *tasks;
    size_t             n;
    size_t             cap;
};

int sched_new(struct sched **out, struct mlc_err *e)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "sched: out of memory");
    return MLC_OK;
}

void sched_free(struct sched *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->tasks[i].name);
    free(s->tasks);
    free(s);
}

int sched_add(struct sched *s, const char *name, int64_t interval_ms,
              sched_fn fn, void *ctx, struct mlc_err *e)
{
    struct sched_task *t;

    if (name == NULL || fn == NULL || interval_ms <= 0)
        return mlc_err_set(e, MLC_EINVAL, "sched: task '%s' needs a function "
                           "and an interval > 0", name != NULL ? name : "?");
    if (s->n == s->cap) {
        size_t ncap = s->cap == 0 ? 8 : s->cap * 2;
        struct sched_task *nt = realloc(s->tasks, ncap * sizeof(*nt));

        if (nt == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "sched: out of memory");
        s->tasks = nt;
        s->cap = ncap;
    }
    t = &s->tasks[s->n];
    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    if (t->name == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "sched: out of memory");
    t->interval_ms = interval_ms;
    t->fn = fn;
    t->ctx = ctx;
    s->n++;
    return MLC_OK;
}

size_t sched_count(const struct sched *s) { return s->n; }

int sched_set_interval(struct sched *s, const char *name, int64_t interval_ms)
{
    for (size_t i = 0; i < s->n; i++) {
        struct sched_task *t = &s->tasks[i];

        if (strcmp(t->name, name) != 0)
            continue;
        if (interval_ms <= 0)
            return MLC_EINVAL;
        if (t->started)
            t->next_at += interval_ms - t->interval_ms;
        t->interval_ms = interval_ms;
        return MLC_OK;
    }
    return MLC_ENOTFOUND;
}

int sched_make_due(struct sched *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->tasks[i].name, name) == 0) {
            s->tasks[i].started = false;
            return MLC_OK;
        }
    }
    return MLC_ENOTFOUND;
}

int64_t sched_next_due(const struct sched *s, int64_t now)
{
    int64_t best = -1;

    for (size_t i = 0; i < s->n; i++) {
        const struct sched_task *t = &s->tasks[i];
        int64_t wait = !t->started || t->next_at <= now ? 0 : t->next_at - now;

        if (best < 0 || wait < best)
            best = wait;
    }
    return best;
}

size_t sched_run_due(struct sched *s, int64_t now)
{
    size_t ran = 0;

    for (size_t i = 0; i < s->n; i++) {
        struct sched_task *t = &s->tasks[i];
        struct mlc_err e;

        if (t->started && t->next_at > now)
            continue;
        t->started = true;
        /* From this run's start, not from the missed slot: no catch-up burst. */
        t->next_at = now + t->interval_ms;
        t->runs++;
        ran++;
        mlc_err_clear(&e);
        if (t->fn(t->ctx, &e) != MLC_OK)
            log_warn("sched", "task failed", LF_STR("task", t->name), LF_ERR(&e));
    }
    return ran;
}

uint64_t sched_runs(const struct sched *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->tasks[i].name, name) == 0)
            return s->tasks[i].runs;
    return 0;
}
