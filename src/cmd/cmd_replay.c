/*
 * mlc replay ID|KEY... | --all  --config FILE [--json]: puts held and failed
 * jobs back in the queue (READY now, attempts reset) once their cause is
 * fixed. A target is a job id ("12") or a resource key ("order:104", every
 * held or failed job of that resource). Each replay is one transaction with
 * its audit row (actor "cli:<OS user>", action "replay"); a running daemon picks the
 * job up at its next claim.
 *
 * Every target is resolved before anything changes: one unknown id or a job
 * that is not held stops the command with nothing replayed.
 *
 * A dismissed job (mlc dismiss: handled by hand) is never replayed: named,
 * it stops the command with who dismissed it and why; under --all it is
 * left out. --undismiss takes the dismissal off and replays it (audited
 * with the dismissal it undid), for an item that must post after all.
 *
 * A job whose kind has no handler under the configuration (core/jobkind.h:
 * customer.sync with customers.enabled false, ...) is not replayed: it
 * would only wait in the queue. Named, it stops the command; under --all
 * it stays held and is counted on stderr.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/json.h"
#include "core/jobkind.h"
#include "store/store.h"
#include "sync/heldops.h"

#define PROG "mlc replay"

struct replay_args {
    const char *config;
    bool        all;
    bool        undismiss;
    bool        json;
    int         npos;
    char      **pos;
};

static const struct cmdo_opt replay_opts[] = {
    CMDO_CONFIG(struct replay_args),
    { "all", 'a', CMDO_FLAG, offsetof(struct replay_args, all), NULL,
      "every held or failed job (not dismissed ones)", 0, 0 },
    { "undismiss", 'u', CMDO_FLAG, offsetof(struct replay_args, undismiss), NULL,
      "replay dismissed jobs too (with ids or keys, never --all)", 0, 0 },
    CMDO_JSON(struct replay_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec replay_spec = {
    "replay", "ID|KEY...|--all", "put held or failed jobs back in the queue after a fix",
    replay_opts,
    "Moves held or failed jobs back to ready. ID is a job id, KEY a\n"
    "resource key such as order:104 (all its held or failed jobs).\n"
    "Dismissed jobs (mlc dismiss) replay only with --undismiss.\n"
    "See them with: mlc held",
};
const struct cmdo_spec *const cmd_replay_specs[] = { &replay_spec, NULL };

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, struct replay_args *a)
{
    int rc;

    memset(a, 0, sizeof(*a));
    if ((rc = cmdo_parse(&replay_spec, argc, argv, a, &a->npos)) != CMDO_GO)
        return rc;
    a->pos = argv + 1;
    a->config = cmdu_config(a->config);
    if (a->all == (a->npos > 0))
        return cmdo_fail(&replay_spec, "give job ids or keys, or --all (not both)");
    if (a->all && a->undismiss)
        return cmdo_fail(&replay_spec, "--undismiss takes ids or keys, never --all");
    return 0;
}

/* ---- resolving targets to job ids ------------------------------------------ */

struct key_walk {
    struct cmdu_ids              *ids;
    const char              *key;  /* NULL: every job of the walk */
    const struct mlc_config *cfg;  /* NULL: no handler check (pending jobs) */
    size_t                   found;
    size_t                   unhandled;          /* found, kind without a handler */
    char                     unhandled_kind[64]; /* the first such kind */
    bool                     undismiss;          /* dismissed jobs are taken too */
    size_t                   dismissed;          /* found, dismissed (left out) */
    char                     dismissed_why[256]; /* "by USER: NOTE" of the first */
};

/* "by USER: NOTE" of a dismissed job. */
static void dismissed_why(const struct store_job *j, char *buf, size_t cap)
{
    snprintf(buf, cap, "by %s: %s", j->dismissed_by != NULL ? j->dismissed_by : "?",
             j->dismiss_note != NULL ? j->dismiss_note : "");
}

static int key_cb(const struct store_job *j, void *ctx)
{
    struct key_walk *w = ctx;

    if (w->key != NULL && strcmp(j->key, w->key) != 0)
        return 0;
    w->found++;
    if (j->dismissed_at > 0 && !w->undismiss) {
        if (w->dismissed++ == 0)
            dismissed_why(j, w->dismissed_why, sizeof(w->dismissed_why));
        return 0;
    }
    if (w->cfg != NULL && !jobkind_handled(w->cfg, j->kind)) {
        if (w->unhandled++ == 0)
            snprintf(w->unhandled_kind, sizeof(w->unhandled_kind), "%s", j->kind);
        return 0;
    }
    cmdu_ids_add(w->ids, j->id);
    return w->ids->oom ? 1 : 0;
}

/* Held and failed jobs of key (every one when key is NULL) into ids,
 * except those whose kind has no handler under w->cfg (counted in w). */
static int add_replayable(struct store *st, struct key_walk *w, struct mlc_err *e)
{
    int rc = heldops_walk(st, key_cb, w, e);

    if (rc == MLC_OK && w->ids->oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return rc;
}

/* Says why jobs of kind stay held. */
static void explain_unhandled(const struct mlc_config *cfg, const char *what,
                              const char *kind)
{
    struct mlc_err why;

    mlc_err_clear(&why);
    jobkind_check(cfg, kind, &why);
    fprintf(stderr, PROG ": %s not replayed: %s; it would only wait in the queue "
            "(fix the configuration, restart the daemon, then replay)\n", what, why.msg);
}

/* Why key has nothing to replay: its pending jobs, if any, say it. */
static void explain_key(struct store *st, const char *key)
{
    struct cmdu_ids pending = { 0 };
    struct key_walk w = { .ids = &pending, .key = key };
    struct mlc_err e;

    store_job_list(st, STORE_JOB_READY, 0, key_cb, &w, &e);
    store_job_list(st, STORE_JOB_RUNNING, 0, key_cb, &w, &e);
    if (pending.n > 0)
        fprintf(stderr, PROG ": %s has no held or failed job (job %" PRId64
                " for it is waiting or running)\n", key, pending.v[0]);
    else
        fprintf(stderr, PROG ": %s has no held or failed job (see: mlc held)\n",
                key);
    free(pending.v);
}

/* One target into ids; prints why it cannot be replayed. 0 or exit status. */
static int resolve_one(struct store *st, const struct mlc_config *cfg, const char *t,
                       bool undismiss, struct cmdu_ids *ids)
{
    struct key_walk w = { .ids = ids, .key = t, .cfg = cfg, .undismiss = undismiss };
    struct store_job j;
    struct mlc_err e;
    long long id;
    int rc;

    mlc_err_clear(&e);
    if (cmdu_parse_ll(t, &id) == MLC_OK) {
        if (id <= 0) {
            fprintf(stderr, PROG ": '%s' is not a job id\n", t);
            return 2;
        }
        memset(&j, 0, sizeof(j));
        rc = store_job_get(st, id, &j, &e);
        if (rc == MLC_ENOTFOUND) {
            fprintf(stderr, PROG ": no job %lld (see: mlc held)\n", id);
            return 1;
        }
        if (rc != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            return 1;
        }
        rc = 1;
        if (!heldops_open_state(j.state)) {
            fprintf(stderr, PROG ": job %lld (%s %s) is %s, not held or failed: "
                    "nothing to replay\n", id, j.kind, j.key,
                    store_job_state_name(j.state));
        } else if (j.dismissed_at > 0 && !undismiss) {
            dismissed_why(&j, w.dismissed_why, sizeof(w.dismissed_why));
            fprintf(stderr, PROG ": job %lld (%s %s) is dismissed %s; to post it after "
                    "all: mlc replay --undismiss %lld\n", id, j.kind, j.key, w.dismissed_why,
                    id);
        } else if (!jobkind_handled(cfg, j.kind)) {
            char what[160];

            snprintf(what, sizeof(what), "job %lld (%s %s)", id, j.kind, j.key);
            explain_unhandled(cfg, what, j.kind);
        } else {
            cmdu_ids_add(ids, j.id);
            rc = 0;
        }
        store_job_clear(&j);
        return ids->oom ? 1 : rc;
    }
    if (strchr(t, ':') == NULL || t[0] == ':') {
        fprintf(stderr, PROG ": '%s' is neither a job id nor a key like "
                "order:104\n", t);
        return 2;
    }
    if (add_replayable(st, &w, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 1;
    }
    if (w.found == 0) {
        explain_key(st, t);
        return 1;
    }
    if (w.dismissed > 0) {
        fprintf(stderr, PROG ": %s is dismissed %s; to post it after all: mlc replay "
                "--undismiss %s\n", t, w.dismissed_why, t);
        return 1;
    }
    if (w.unhandled > 0) {
        explain_unhandled(cfg, t, w.unhandled_kind);
        return 1;
    }
    return 0;
}

/* ---- replaying ------------------------------------------------------------- */

/* Replays job id as the OS user (sync/heldops.h). *was: the job as it was
 * (caller clears). */
static int replay_one(struct store *st, int64_t id, bool undismiss, struct store_job *was,
                      struct mlc_err *e)
{
    char actor[96];

    cmdu_actor(actor, sizeof(actor));
    return heldops_replay(st, id, actor, NULL, undismiss, was, e);
}

static json_t *replayed_json(const struct store_job *j)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:i, s:o}", "id", (json_int_t)j->id,
                     "kind", j->kind, "key", j->key,
                     "previous_state", store_job_state_name(j->state),
                     "attempts", j->attempts, "reason", jx_text(j->last_error));
}

/* Replays every id; reports in text as it goes, or fills out. Exit status. */
static int replay_ids(struct store *st, const struct cmdu_ids *ids, bool undismiss, bool json,
                      json_t *out)
{
    int status = 0;

    for (size_t i = 0; i < ids->n; i++) {
        struct store_job was;
        struct mlc_err e;

        memset(&was, 0, sizeof(was));
        mlc_err_clear(&e);
        if (replay_one(st, ids->v[i], undismiss, &was, &e) != MLC_OK) {
            fprintf(stderr, PROG ": job %" PRId64 ": %s\n", ids->v[i], e.msg);
            if (json)
                json_array_append_new(json_object_get(out, "errors"),
                                      json_pack("{s:I, s:s}", "id",
                                                (json_int_t)ids->v[i], "error", e.msg));
            status = 1;
        } else if (json) {
            json_array_append_new(json_object_get(out, "replayed"), replayed_json(&was));
        } else {
            printf("replayed job %" PRId64 "  %s  (%s, was %s after %d attempt%s)\n",
                   was.id, was.key, was.kind, store_job_state_name(was.state),
                   was.attempts, was.attempts == 1 ? "" : "s");
        }
        store_job_clear(&was);
    }
    return status;
}

static int resolve(struct store *st, const struct mlc_config *cfg,
                   const struct replay_args *a, struct cmdu_ids *ids)
{
    struct mlc_err e;
    int status = 0;

    mlc_err_clear(&e);
    if (a->all) {
        struct key_walk w = { .ids = ids, .cfg = cfg };

        if (add_replayable(st, &w, &e) != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            return 1;
        }
        if (w.dismissed > 0)
            fprintf(stderr, PROG ": %zu dismissed job%s left out (handled by hand; "
                    "mlc replay --undismiss KEY to post one after all)\n", w.dismissed,
                    w.dismissed == 1 ? "" : "s");
        if (w.unhandled > 0) {
            char what[64];

            snprintf(what, sizeof(what), "%zu job%s (first kind %s)", w.unhandled,
                     w.unhandled == 1 ? "" : "s", w.unhandled_kind);
            explain_unhandled(cfg, what, w.unhandled_kind);
        }
        return 0;
    }
    for (int i = 0; i < a->npos; i++) {
        int s = resolve_one(st, cfg, a->pos[i], a->undismiss, ids);

        if (s > status)
            status = s;
    }
    if (ids->oom) {
        fprintf(stderr, PROG ": out of memory\n");
        status = 1;
    }
    return status;
}

int cmd_replay(int argc, char **argv)
{
    struct replay_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct cmdu_ids ids = { 0 };
    json_t *out = NULL;
    int status;

    status = parse_args(argc, argv, &a);
    if (status != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, &cfg, &st) != MLC_OK)
        return 1;
    status = resolve(st, cfg, &a, &ids);
    if (status != 0) {
        fprintf(stderr, PROG ": nothing replayed\n");
        goto out;
    }
    if (a.json) {
        out = json_pack("{s:[], s:[]}", "replayed", "errors");
        if (out == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            status = 1;
            goto out;
        }
    }
    status = replay_ids(st, &ids, a.undismiss, a.json, out);
    if (a.json) {
        json_object_set_new(out, "count",
                            json_integer((json_int_t)json_array_size(
                                json_object_get(out, "replayed"))));
        if (cmdu_print_json(PROG, out) != 0)
            status = 1;
    } else if (ids.n == 0) {
        printf("nothing held or failed: nothing to replay\n");
    } else if (status == 0) {
        printf("%zu job%s back in the queue; a running daemon picks %s up now\n",
               ids.n, ids.n == 1 ? "" : "s", ids.n == 1 ? "it" : "them");
    }
out:
    json_decref(out);
    free(ids.v);
    store_close(st);
    cfg_unref(cfg);
    return status;
}
