/*
 * mlc jobs list|enqueue|show: the job queue seen through the store, the only
 * state shared with a running daemon. Nothing here talks to the daemon.
 * enqueue takes only a kind the daemon has a handler for under the
 * configuration, with a key of that kind's shape (core/jobkind.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/config.h"
#include "core/jobkind.h"
#include "store/store.h"

struct jobs_args {
    const struct cmdo_spec *spec;
    const char *config;
    const char *state;
    bool        json;
    long long   limit;
    int         npos;
    char      **pos;      /* positional arguments after the subcommand */
};

static const struct cmdo_opt list_opts[] = {
    CMDO_CONFIG(struct jobs_args),
    { "state", 's', CMDO_STRING, offsetof(struct jobs_args, state), "STATE",
      "only jobs in STATE: ready, running, done, held or failed", 0, 0 },
    { "limit", 'n', CMDO_INT, offsetof(struct jobs_args, limit), "N",
      "at most N jobs (0: all)", 0, LLONG_MAX },
    CMDO_JSON(struct jobs_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_opt enqueue_opts[] = {
    CMDO_CONFIG(struct jobs_args),
    CMDO_JSON(struct jobs_args, "JSON output: the id and whether it coalesced"),
    CMDO_END,
};
static const struct cmdo_opt show_opts[] = {
    CMDO_CONFIG(struct jobs_args),
    CMDO_JSON(struct jobs_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec list_spec = {
    "jobs list", "", "the jobs in the state store, newest first", list_opts, NULL,
};
static const struct cmdo_spec enqueue_spec = {
    "jobs enqueue", "KIND KEY [PAYLOAD_JSON]", "enqueue one job (audited as the OS user)",
    enqueue_opts, "A job already waiting for the same KEY coalesces with it.",
};
static const struct cmdo_spec show_spec = {
    "jobs show", "ID", "one job in full", show_opts, NULL,
};
const struct cmdo_spec *const cmd_jobs_specs[] = {
    &list_spec, &enqueue_spec, &show_spec, NULL,
};

static int jobs_usage(const struct jobs_args *a)
{
    return cmdo_fail(a->spec, "wrong number of arguments");
}

/* argv[0] is the subcommand: 0 to go on, -1 after --help, else the exit
 * status. */
static int parse_args(int argc, char **argv, const struct cmdo_spec *spec,
                      struct jobs_args *a)
{
    int rc;

    memset(a, 0, sizeof(*a));
    a->spec = spec;
    if ((rc = cmdo_parse(spec, argc, argv, a, &a->npos)) != CMDO_GO)
        return rc;
    a->config = cmdu_config(a->config);
    a->pos = argv + 1;
    return 0;
}

static json_t *job_json(const struct store_job *j)
{
    json_t *o = json_object(), *payload = NULL;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "kind", json_string(j->kind));
    json_object_set_new(o, "key", json_string(j->key));
    json_object_set_new(o, "state", json_string(store_job_state_name(j->state)));
    /* READY, waiting for this system to answer again (NULL otherwise). */
    json_object_set_new(o, "paused_on", j->paused_on ? json_string(j->paused_on) : json_null());
    json_object_set_new(o, "attempts", json_integer(j->attempts));
    if (j->payload != NULL) {
        payload = json_loads(j->payload, JSON_DECODE_ANY, NULL);
        if (payload == NULL)
            payload = json_string(j->payload);
    }
    json_object_set_new(o, "payload", payload != NULL ? payload : json_null());
    json_object_set_new(o, "run_at", json_integer(j->run_at));
    json_object_set_new(o, "owner", j->owner ? json_string(j->owner) : json_null());
    json_object_set_new(o, "lease_until", json_integer(j->lease_until));
    json_object_set_new(o, "last_error",
                        j->last_error ? json_string(j->last_error) : json_null());
    json_object_set_new(o, "created_at", json_integer(j->created_at));
    json_object_set_new(o, "updated_at", json_integer(j->updated_at));
    return o;
}

/* ---- list --------------------------------------------------------------- */

static int list_json_cb(const struct store_job *j, void *ctx)
{
    json_t *o = job_json(j);

    return (o == NULL || json_array_append_new(ctx, o) != 0) ? 1 : 0;
}

static int list_text_cb(const struct store_job *j, void *ctx)
{
    bool paused = j->paused_on != NULL && j->state == STORE_JOB_READY;
    char upd[32];

    (void)ctx;
    cmdu_fmt_time(j->updated_at, upd, sizeof(upd));
    /* A paused job is READY, waiting for a system: shown as "paused". */
    printf("%-8" PRId64 " %-8s %-24s %-24s %3d  %s  %s%s%s%s\n", j->id,
           paused ? "paused" : store_job_state_name(j->state), j->kind, j->key,
           j->attempts, upd, paused ? "waits for " : "", paused ? j->paused_on : "",
           paused ? ": " : "", j->last_error != NULL ? j->last_error : "");
    return 0;
}

static int jobs_list(const struct jobs_args *a, struct store *st)
{
    enum store_job_state state;
    json_t *arr = NULL;
    struct mlc_err e;
    int filter = -1, rc;

    if (a->npos != 0)
        return jobs_usage(a);
    if (a->state != NULL) {
        if (store_job_state_parse(a->state, &state) != MLC_OK) {
            fprintf(stderr, "mlc jobs: unknown state '%s'\n", a->state);
            return 2;
        }
        filter = (int)state;
    }
    if (a->json) {
        arr = json_array();
        if (arr == NULL)
            return 1;
        rc = store_job_list(st, filter, (size_t)a->limit, list_json_cb, arr, &e);
    } else {
        printf("%-8s %-8s %-24s %-24s %3s  %-20s  %s\n", "ID", "STATE", "KIND",
               "KEY", "TRY", "UPDATED", "ERROR");
        rc = store_job_list(st, filter, (size_t)a->limit, list_text_cb, NULL, &e);
    }
    if (rc != MLC_OK) {
        json_decref(arr);
        fprintf(stderr, "mlc jobs: %s\n", e.msg);
        return 1;
    }
    if (arr != NULL) {
        rc = cmdu_print_json("mlc jobs", arr);
        json_decref(arr);
        return rc;
    }
    return 0;
}

/* ---- enqueue ------------------------------------------------------------ */

/* Enqueues (kind, key) with its audit row (the OS user, "enqueue"), in one
 * transaction. */
static int enqueue_audited(struct store *st, const char *kind, const char *key,
                           const char *payload, int64_t *id, bool *coalesced,
                           struct mlc_err *e)
{
    char actor[96], *detail = NULL;
    json_t *d;
    int rc = store_tx_begin(st, e);

    if (rc != MLC_OK)
        return rc;
    rc = store_job_enqueue(st, kind, key, payload, 0, id, coalesced, e);
    if (rc == MLC_OK) {
        d = json_pack("{s:I, s:s, s:b}", "job_id", (json_int_t)*id, "kind", kind,
                      "coalesced", *coalesced);
        detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        cmdu_actor(actor, sizeof(actor));
        rc = store_audit_add(st, &(struct store_audit){
            .actor = actor, .entity = key, .action = "enqueue", .outcome = "ok",
            .detail = detail }, e);
    }
    free(detail);
    if (rc == MLC_OK)
        return store_tx_commit(st, e);
    store_tx_rollback(st);
    return rc;
}

static int jobs_enqueue(const struct jobs_args *a, const struct mlc_config *cfg,
                        struct store *st)
{
    const char *payload = a->npos == 3 ? a->pos[2] : NULL;
    bool coalesced = false;
    int64_t id = 0;
    struct mlc_err e;

    if (a->npos != 2 && a->npos != 3)
        return jobs_usage(a);
    if (jobkind_check(cfg, a->pos[0], &e) != MLC_OK ||
        jobkind_key_parse(a->pos[0], a->pos[1], NULL, &e) != MLC_OK) {
        fprintf(stderr, "mlc jobs: not enqueued: %s\n", e.msg);
        return 1;
    }
    if (payload != NULL) {
        json_error_t je;
        json_t *p = json_loads(payload, JSON_REJECT_DUPLICATES, &je);

        if (p == NULL) {
            fprintf(stderr, "mlc jobs: payload is not valid JSON: %s (column %d)\n",
                    je.text, je.column);
            return 1;
        }
        json_decref(p);
    }
    if (enqueue_audited(st, a->pos[0], a->pos[1], payload, &id, &coalesced, &e) != MLC_OK) {
        fprintf(stderr, "mlc jobs: %s\n", e.msg);
        return 1;
    }
    if (a->json) {
        json_t *o = json_pack("{s:I, s:b}", "id", (json_int_t)id,
                              "coalesced", coalesced);
        int rc = cmdu_print_json("mlc jobs", o);

        json_decref(o);
        return rc;
    }
    printf("%" PRId64 " %s\n", id, coalesced ? "coalesced" : "enqueued");
    return 0;
}

/* ---- show --------------------------------------------------------------- */

static int jobs_show(const struct jobs_args *a, struct store *st)
{
    struct store_job j;
    struct mlc_err e;
    long long id;
    char t1[32], t2[32], t3[32], t4[32];
    int rc;

    if (a->npos != 1)
        return jobs_usage(a);
    if (cmdu_parse_ll(a->pos[0], &id) != MLC_OK || id <= 0) {
        fprintf(stderr, "mlc jobs: '%s' is not a job id\n", a->pos[0]);
        return 2;
    }
    memset(&j, 0, sizeof(j));
    rc = store_job_get(st, id, &j, &e);
    if (rc != MLC_OK) {
        fprintf(stderr, "mlc jobs: %s\n", e.msg);
        return 1;
    }
    if (a->json) {
        json_t *o = job_json(&j);

        rc = cmdu_print_json("mlc jobs", o);
        json_decref(o);
        store_job_clear(&j);
        return rc;
    }
    cmdu_fmt_time(j.created_at, t1, sizeof(t1));
    cmdu_fmt_time(j.updated_at, t2, sizeof(t2));
    cmdu_fmt_time(j.run_at, t3, sizeof(t3));
    cmdu_fmt_time(j.lease_until, t4, sizeof(t4));
    printf("id:          %" PRId64 "\nkind:        %s\nkey:         %s\n"
           "state:       %s\nattempts:    %d\npayload:     %s\nrun_at:      %s\n"
           "owner:       %s\nlease_until: %s\nlast_error:  %s\ncreated_at:  %s\n"
           "updated_at:  %s\n",
           j.id, j.kind, j.key, store_job_state_name(j.state), j.attempts,
           j.payload ? j.payload : "-", t3, j.owner ? j.owner : "-", t4,
           j.last_error ? j.last_error : "-", t1, t2);
    if (j.paused_on != NULL)
        printf("paused_on:   %s (waits for it to answer; resumes by itself)\n", j.paused_on);
    store_job_clear(&j);
    return 0;
}

int cmd_jobs(int argc, char **argv)
{
    struct jobs_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    const char *sub;
    size_t which = 0;
    int status;

    if ((status = cmdo_sub("jobs", cmd_jobs_specs, argc, argv, &which)) != 0 ||
        (status = parse_args(argc - 1, argv + 1, cmd_jobs_specs[which], &a)) != 0)
        return status < 0 ? 0 : status;
    sub = argv[1];
    if (cmdu_open("mlc jobs", a.config, &cfg, &st) != MLC_OK)
        return 1;
    if (strcmp(sub, "list") == 0)
        status = jobs_list(&a, st);
    else if (strcmp(sub, "enqueue") == 0)
        status = jobs_enqueue(&a, cfg, st);
    else
        status = jobs_show(&a, st);
    store_close(st);
    cfg_unref(cfg);
    return status;
}
