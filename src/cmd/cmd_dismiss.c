/*
 * mlc dismiss ID|KEY... | --reason CODE  --note TEXT --config FILE [--json]:
 * closes held or failed items that someone handled by hand (keyed into JDE,
 * refunded in the store, or never to be posted). A target is a job id, a
 * resource key ("order:104": its held and failed jobs), or every held and
 * failed job of one reason code (core/holdcode.h; "other" takes those
 * recorded without a code). The note is required: it says what was done.
 *
 * Each dismissal is one transaction with its audit row (actor "cli:<OS
 * user>", action "dismiss", the note in the detail). A dismissed item is
 * never posted: `mlc replay` refuses it, and workers settle any later job
 * of its key as done without running it (daemon/workers.h), whether a
 * webhook, the reconcile sweep or a backfill enqueued it. To post it after
 * all: mlc replay --undismiss KEY.
 *
 * Every target is resolved before anything changes: one unknown id, or a
 * target with nothing to dismiss, stops the command with nothing dismissed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/holdcode.h"
#include "store/store.h"
#include "sync/heldops.h"

#define PROG "mlc dismiss"

struct dismiss_args {
    const char *config;
    const char *note;
    const char *reason;   /* --reason CODE */
    bool        json;
    int         npos;
    char      **pos;
};

static const struct cmdo_opt dismiss_opts[] = {
    CMDO_CONFIG(struct dismiss_args),
    { "reason", 'r', CMDO_STRING, offsetof(struct dismiss_args, reason), "CODE",
      "every held or failed job with this reason code (mlc held)", 0, 0 },
    { "note", 'n', CMDO_STRING, offsetof(struct dismiss_args, note), "TEXT",
      "what was done by hand (required)", 0, 0 },
    CMDO_JSON(struct dismiss_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec dismiss_spec = {
    "dismiss", "ID|KEY...|--reason CODE", "close held or failed jobs handled by hand: never posted",
    dismiss_opts,
    "Closes held or failed jobs handled by hand: they are never posted.\n"
    "ID is a job id, KEY a resource key such as order:104, CODE a reason\n"
    "code of mlc held. --note is required. Undo: mlc replay --undismiss KEY.",
};
const struct cmdo_spec *const cmd_dismiss_specs[] = { &dismiss_spec, NULL };

static void list_codes(void)
{
    fprintf(stderr, PROG ": reason codes:");
    for (int i = 0; i < HOLD_CODE_COUNT; i++)
        fprintf(stderr, " %s", hold_code_name((enum hold_code)i));
    fputc('\n', stderr);
}

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, struct dismiss_args *a)
{
    enum hold_code code;
    int rc;

    memset(a, 0, sizeof(*a));
    if ((rc = cmdo_parse(&dismiss_spec, argc, argv, a, &a->npos)) != CMDO_GO)
        return rc;
    a->pos = argv + 1;
    a->config = cmdu_config(a->config);
    if (a->note == NULL || a->note[strspn(a->note, " \t\r\n")] == '\0')
        return cmdo_fail(&dismiss_spec, "--note TEXT is required: say what was done by hand");
    if ((a->reason != NULL) == (a->npos > 0))
        return cmdo_fail(&dismiss_spec, "give job ids or keys, or --reason CODE (not both)");
    if (a->reason != NULL && !hold_code_parse(a->reason, &code)) {
        fprintf(stderr, PROG ": unknown reason code '%s'\n", a->reason);
        list_codes();
        return 2;
    }
    return 0;
}

/* ---- resolving targets to job ids ------------------------------------------ */

struct walk {
    struct cmdu_ids    *ids;
    const char    *key;   /* NULL: any key */
    bool           by_code;
    enum hold_code code;
    size_t         dismissed; /* matching, dismissed already */
};

static int walk_cb(const struct store_job *j, void *ctx)
{
    struct walk *w = ctx;

    if (w->key != NULL && strcmp(j->key, w->key) != 0)
        return 0;
    if (w->by_code && hold_code_of(j->hold_code) != w->code)
        return 0;
    if (j->dismissed_at > 0) {
        w->dismissed++;
        return 0;
    }
    cmdu_ids_add(w->ids, j->id);
    return w->ids->oom ? 1 : 0;
}

static int walk_open(struct store *st, struct walk *w, struct mlc_err *e)
{
    int rc = heldops_walk(st, walk_cb, w, e);

    if (rc == MLC_OK && w->ids->oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return rc;
}

/* One id or key into ids; prints why it cannot be dismissed. 0 or exit status. */
static int resolve_one(struct store *st, const char *t, struct cmdu_ids *ids)
{
    struct walk w = { .ids = ids, .key = t };
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
        if (rc != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", rc == MLC_ENOTFOUND ? "no such job (see: mlc held)"
                                                                : e.msg);
            return 1;
        }
        rc = 1;
        if (!heldops_open_state(j.state))
            fprintf(stderr, PROG ": job %lld (%s) is %s, not held or failed: nothing to "
                    "dismiss\n", id, j.key, store_job_state_name(j.state));
        else if (j.dismissed_at > 0)
            fprintf(stderr, PROG ": job %lld (%s) is dismissed already, by %s: %s\n", id,
                    j.key, j.dismissed_by != NULL ? j.dismissed_by : "?",
                    j.dismiss_note != NULL ? j.dismiss_note : "");
        else {
            cmdu_ids_add(ids, j.id);
            rc = ids->oom ? 1 : 0;
        }
        store_job_clear(&j);
        return rc;
    }
    if (strchr(t, ':') == NULL || t[0] == ':') {
        fprintf(stderr, PROG ": '%s' is neither a job id nor a key like order:104\n", t);
        return 2;
    }
    if (walk_open(st, &w, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 1;
    }
    return 0; /* a key that added nothing: resolve says so */
}

/* ---- dismissing ------------------------------------------------------------- */

static int dismiss_ids(struct store *st, const struct cmdu_ids *ids, const char *note, bool json,
                       json_t *out)
{
    char actor[96];
    int status = 0;

    cmdu_actor(actor, sizeof(actor));
    for (size_t i = 0; i < ids->n; i++) {
        struct store_job was;
        struct mlc_err e;
        enum hold_code code;

        memset(&was, 0, sizeof(was));
        mlc_err_clear(&e);
        if (heldops_dismiss(st, ids->v[i], actor, note, &was, &e) != MLC_OK) {
            fprintf(stderr, PROG ": job %" PRId64 ": %s\n", ids->v[i], e.msg);
            if (json)
                json_array_append_new(json_object_get(out, "errors"),
                                      json_pack("{s:I, s:s}", "id", (json_int_t)ids->v[i],
                                                "error", e.msg));
            status = 1;
            store_job_clear(&was);
            continue;
        }
        code = hold_code_of(was.hold_code);
        if (json)
            json_array_append_new(json_object_get(out, "dismissed"),
                                  json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
                                            (json_int_t)was.id, "kind", was.kind, "key",
                                            was.key, "code", hold_code_name(code),
                                            "previous_state",
                                            store_job_state_name(was.state)));
        else
            printf("dismissed job %" PRId64 "  %s  (%s, %s, %s)\n", was.id, was.key, was.kind,
                   store_job_state_name(was.state), hold_code_name(code));
        store_job_clear(&was);
    }
    if (json) {
        json_object_set_new(out, "by", json_string(actor));
        json_object_set_new(out, "note", json_string(note));
    }
    return status;
}

static int resolve(struct store *st, const struct dismiss_args *a, struct cmdu_ids *ids)
{
    struct mlc_err e;
    int status = 0;

    mlc_err_clear(&e);
    if (a->reason != NULL) {
        struct walk w = { .ids = ids, .by_code = true };

        hold_code_parse(a->reason, &w.code);
        if (walk_open(st, &w, &e) != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            return 1;
        }
        if (ids->n == 0) {
            fprintf(stderr, PROG ": nothing held or failed with reason %s%s\n", a->reason,
                    w.dismissed > 0 ? " (all dismissed already)" : " (see: mlc held)");
            return 1;
        }
        return 0;
    }
    for (int i = 0; i < a->npos; i++) {
        size_t before = ids->n;
        int s = resolve_one(st, a->pos[i], ids);

        if (s == 0 && ids->n == before && strchr(a->pos[i], ':') != NULL) {
            fprintf(stderr, PROG ": %s has no held or failed job to dismiss "
                    "(see: mlc held --all)\n", a->pos[i]);
            s = 1;
        }
        if (s > status)
            status = s;
    }
    if (ids->oom) {
        fprintf(stderr, PROG ": out of memory\n");
        status = 1;
    }
    return status;
}

int cmd_dismiss(int argc, char **argv)
{
    struct dismiss_args a;
    struct store *st = NULL;
    struct cmdu_ids ids = { 0 };
    json_t *out = NULL;
    int status;

    status = parse_args(argc, argv, &a);
    if (status != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, NULL, &st) != MLC_OK)
        return 1;
    status = resolve(st, &a, &ids);
    if (status != 0) {
        fprintf(stderr, PROG ": nothing dismissed\n");
        goto out;
    }
    if (a.json && (out = json_pack("{s:[], s:[]}", "dismissed", "errors")) == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        status = 1;
        goto out;
    }
    status = dismiss_ids(st, &ids, a.note, a.json, out);
    if (a.json) {
        json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(
                                              json_object_get(out, "dismissed"))));
        if (cmdu_print_json(PROG, out) != 0)
            status = 1;
    } else if (status == 0) {
        printf("%zu job%s dismissed: never posted (undo: mlc replay --undismiss KEY)\n",
               ids.n, ids.n == 1 ? "" : "s");
    }
out:
    json_decref(out);
    free(ids.v);
    store_close(st);
    return status;
}
