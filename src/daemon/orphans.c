#include "daemon/orphans.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/jobkind.h"
#include "core/log.h"

#define TX_JOBS 500   /* holds per transaction: one commit each, not one per job */

/* Queued jobs (READY or RUNNING) whose kind has no handler under cfg. */
struct orphans {
    const struct mlc_config *cfg;
    int64_t                 *ids;
    size_t                   n, cap;
    bool                     oom;
};

static int orphan_cb(const struct store_job *j, void *ctx)
{
    struct orphans *o = ctx;

    if (jobkind_handled(o->cfg, j->kind))
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap != 0 ? o->cap * 2 : 64;
        int64_t *v = realloc(o->ids, cap * sizeof(*v));

        if (v == NULL) {
            o->oom = true;
            return 1;
        }
        o->ids = v;
        o->cap = cap;
    }
    o->ids[o->n++] = j->id;
    return 0;
}

/* Counts of one kind, for the report. */
struct orphan_kind {
    char   kind[64];
    size_t held, running;   /* running: a live lease elsewhere, left alone */
};

static struct orphan_kind *orphan_kind_of(struct orphan_kind *v, size_t *n, size_t cap,
                                          const char *kind)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i].kind, kind) == 0)
            return &v[i];
    if (*n == cap)
        return &v[cap - 1];    /* more kinds than slots: the last one sums them */
    memset(&v[*n], 0, sizeof(v[*n]));
    snprintf(v[*n].kind, sizeof(v[*n].kind), "%s", kind);
    return &v[(*n)++];
}

/* Holds job id with the reason, audited, inside the caller's transaction
 * (a hold that fails undoes only itself). MLC_ESTATE: under a live lease;
 * MLC_ENOTFOUND: gone since the walk. *j: the job as read. */
static int hold_one(struct store *st, int64_t id, const struct mlc_config *cfg,
                    struct store_job *j, struct mlc_err *e)
{
    struct mlc_err why;
    json_t *d = NULL;
    char *text = NULL;
    int rc = store_job_get(st, id, j, e);

    if (rc != MLC_OK)
        return rc;
    mlc_err_clear(&why);
    jobkind_check(cfg, j->kind, &why);
    rc = store_job_hold_idle(st, id, why.msg, e);
    if (rc == MLC_OK) {
        d = json_pack("{s:I, s:s, s:s}", "job_id", (json_int_t)id, "kind", j->kind,
                      "reason", why.msg);
        text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
        rc = store_audit_add(st, &(struct store_audit){
            .actor = "daemon", .entity = j->key, .action = j->kind, .outcome = "held",
            .detail = text }, e);
    }
    json_decref(d);
    free(text);
    return rc;
}

/* Jobs ids[from..to) in one transaction, counted by kind. */
static int hold_chunk(struct store *st, const struct mlc_config *cfg, const int64_t *ids,
                      size_t from, size_t to, struct orphan_kind *kinds, size_t *n_kinds,
                      size_t cap, size_t *held, struct mlc_err *e)
{
    int rc = store_tx_begin(st, e);

    for (size_t i = from; rc == MLC_OK && i < to; i++) {
        struct store_job j;
        struct orphan_kind *k;

        memset(&j, 0, sizeof(j));
        rc = hold_one(st, ids[i], cfg, &j, e);
        if (rc == MLC_OK || rc == MLC_ESTATE) {
            k = orphan_kind_of(kinds, n_kinds, cap, j.kind);
            if (rc == MLC_OK) {
                k->held++;
                (*held)++;
            } else {
                k->running++;
            }
        }
        if (rc == MLC_ESTATE || rc == MLC_ENOTFOUND) {
            mlc_err_clear(e);
            rc = MLC_OK;
        }
        store_job_clear(&j);
    }
    if (rc == MLC_OK)
        return store_tx_commit(st, e);
    store_tx_rollback(st);
    return rc;
}

int orphans_hold(struct store *st, const struct mlc_config *cfg, size_t *held,
                 struct mlc_err *e)
{
    struct orphans o = { .cfg = cfg };
    struct orphan_kind kinds[16];
    size_t n_kinds = 0;
    int rc;

    *held = 0;
    rc = store_job_list(st, STORE_JOB_READY, 0, orphan_cb, &o, e);
    if (rc == MLC_OK && !o.oom)
        rc = store_job_list(st, STORE_JOB_RUNNING, 0, orphan_cb, &o, e);
    if (rc == MLC_OK && o.oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t from = 0; rc == MLC_OK && from < o.n; from += TX_JOBS)
        rc = hold_chunk(st, cfg, o.ids, from, from + TX_JOBS < o.n ? from + TX_JOBS : o.n,
                        kinds, &n_kinds, sizeof(kinds) / sizeof(kinds[0]), held, e);
    for (size_t i = 0; i < n_kinds; i++) {
        struct mlc_err why;

        mlc_err_clear(&why);
        jobkind_check(cfg, kinds[i].kind, &why);
        log_warn("daemon", "queued jobs held: their kind has no handler in this "
                 "configuration", LF_STR("kind", kinds[i].kind),
                 LF_UINT("count", kinds[i].held), LF_UINT("running_elsewhere", kinds[i].running),
                 LF_STR("reason", why.msg), LF_STR("see", "mlc held"));
    }
    free(o.ids);
    return rc;
}
