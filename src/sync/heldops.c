#include "sync/heldops.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/holdcode.h"
#include "core/json.h"

bool heldops_open_state(enum store_job_state s)
{
    return s == STORE_JOB_HELD || s == STORE_JOB_FAILED;
}

int heldops_walk(struct store *st, int (*fn)(const struct store_job *j, void *ctx),
                 void *ctx, struct mlc_err *e)
{
    int rc = store_job_list(st, STORE_JOB_HELD, 0, fn, ctx, e);

    if (rc == MLC_OK)
        rc = store_job_list(st, STORE_JOB_FAILED, 0, fn, ctx, e);
    return rc;
}

/* Adds the audit row of one operation; takes detail (may be NULL: out of
 * memory). */
static int audit(struct store *st, const char *actor, const char *entity,
                 const char *action, json_t *detail, struct mlc_err *e)
{
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    int rc;

    json_decref(detail);
    if (text == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    rc = store_audit_add(st, &(struct store_audit){
        .actor = actor, .entity = entity, .action = action, .outcome = "ok",
        .detail = text }, e);
    free(text);
    return rc;
}

/* Reads job id into *was inside the caller's transaction; MLC_ESTATE when
 * it is neither held nor failed (any more). */
static int load_open(struct store *st, int64_t id, struct store_job *was, struct mlc_err *e)
{
    int rc = store_job_get(st, id, was, e);

    if (rc == MLC_OK && !heldops_open_state(was->state))
        rc = mlc_err_set(e, MLC_ESTATE, "job %" PRId64 " is %s now, not held or failed",
                         id, store_job_state_name(was->state));
    return rc;
}

int heldops_replay(struct store *st, int64_t id, const char *actor, const char *note,
                   bool undismiss, struct store_job *was, struct mlc_err *e)
{
    json_t *d;
    int rc = store_tx_begin(st, e);

    if (rc != MLC_OK)
        return rc;
    rc = load_open(st, id, was, e);
    if (rc == MLC_OK && was->dismissed_at > 0 && !undismiss)
        rc = mlc_err_set(e, MLC_ESTATE, "job %" PRId64 " is dismissed by %s: %s", id,
                         was->dismissed_by != NULL ? was->dismissed_by : "?",
                         was->dismiss_note != NULL ? was->dismiss_note : "");
    if (rc == MLC_OK && was->dismissed_at > 0)
        rc = store_job_undismiss(st, id, e);
    if (rc == MLC_OK)
        rc = store_job_replay(st, id, e);
    if (rc == MLC_OK) {
        d = json_pack("{s:I, s:s, s:s, s:i, s:o}", "job_id", (json_int_t)id,
                      "kind", was->kind, "previous_state", store_job_state_name(was->state),
                      "attempts", was->attempts, "reason", jx_text(was->last_error));
        if (d != NULL && note != NULL)
            json_object_set_new(d, "note", jx_text(note));
        if (d != NULL && was->dismissed_at > 0) /* the dismissal this replay undid */
            json_object_set_new(d, "undismissed",
                                json_pack("{s:o, s:o}", "by", jx_text(was->dismissed_by),
                                          "note", jx_text(was->dismiss_note)));
        rc = audit(st, actor, was->key, "replay", d, e);
    }
    if (rc == MLC_OK)
        rc = store_tx_commit(st, e);
    if (rc != MLC_OK)
        store_tx_rollback(st);
    return rc;
}

int heldops_dismiss(struct store *st, int64_t id, const char *actor, const char *note,
                    struct store_job *was, struct mlc_err *e)
{
    json_t *d;
    int rc;

    if (note == NULL || note[strspn(note, " \t\r\n")] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "a note is required: say what was done by hand");
    if ((rc = store_tx_begin(st, e)) != MLC_OK)
        return rc;
    rc = load_open(st, id, was, e);
    if (rc == MLC_OK)
        rc = store_job_dismiss(st, id, actor, note, e);
    if (rc == MLC_OK) {
        d = json_pack("{s:I, s:s, s:s, s:s, s:i, s:o, s:o}", "job_id", (json_int_t)id,
                      "kind", was->kind, "code", hold_code_name(hold_code_of(was->hold_code)),
                      "previous_state", store_job_state_name(was->state),
                      "attempts", was->attempts, "reason", jx_text(was->last_error),
                      "note", jx_text(note));
        rc = audit(st, actor, was->key, "dismiss", d, e);
    }
    if (rc == MLC_OK)
        rc = store_tx_commit(st, e);
    if (rc != MLC_OK)
        store_tx_rollback(st);
    return rc;
}
