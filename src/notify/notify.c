/*
 * notify: events into the alerts outbox (notify.h).
 */
#include "notify/notify.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobkind.h"
#include "core/money.h"

int notify_body(const char *title, const char *command, const char *path, char **out,
                struct mlc_err *e)
{
    return notify_body_group(title, command, path, NULL, NULL, out, e);
}

int notify_body_group(const char *title, const char *command, const char *path,
                      const char *group_command, const char *group_path, char **out,
                      struct mlc_err *e)
{
    char cut[NOTIFY_TITLE_MAX + 4];
    json_t *o;

    *out = NULL;
    if (strlen(title) > NOTIFY_TITLE_MAX) {
        /* Cut on a UTF-8 boundary, marked. */
        size_t n = NOTIFY_TITLE_MAX;
        while (n > 0 && ((unsigned char)title[n] & 0xc0) == 0x80)
            n--;
        snprintf(cut, sizeof(cut), "%.*s...", (int)n, title);
        title = cut;
    }
    o = json_pack("{s:s, s:s, s:s}", "title", title, "command", command != NULL ? command : "",
                  "path", path != NULL ? path : "");
    if (o != NULL && group_command != NULL)
        json_object_set_new(o, "group_command", json_string(group_command));
    if (o != NULL && group_path != NULL)
        json_object_set_new(o, "group_path", json_string(group_path));
    if (o != NULL)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "notify: out of memory (or text not UTF-8)");
    return MLC_OK;
}

static int append_group(struct store *st, const char *key, const char *reason,
                        const char *title, const char *command, const char *path,
                        const char *group_command, const char *group_path, struct mlc_err *e)
{
    char *body = NULL;
    int rc = notify_body_group(title, command, path, group_command, group_path, &body, e);

    if (rc == MLC_OK)
        rc = store_alert_add(st, key, reason, body, NULL, e);
    free(body);
    return rc;
}

static int append(struct store *st, const char *key, const char *reason, const char *title,
                  const char *command, const char *path, struct mlc_err *e)
{
    return append_group(st, key, reason, title, command, path, NULL, NULL, e);
}

int notify_job(struct store *st, int64_t job_id, const char *job_key, bool failed,
               const char *code, int64_t amount, const char *currency, const char *why,
               struct mlc_err *e)
{
    char key[160], reason[64], title[NOTIFY_TITLE_MAX + 200], money[48] = "";
    char command[128], path[128];
    const char *name = code != NULL && code[0] != '\0' ? code : "other";
    const char *what = job_key != NULL ? job_key : "?";
    size_t ol = strlen(JOB_KEY_ORDER);

    if (failed)
        snprintf(reason, sizeof(reason), "%s", NOTIFY_R_FAILED);
    else
        snprintf(reason, sizeof(reason), "%s%s", NOTIFY_R_HELD, name);
    snprintf(key, sizeof(key), "job:%" PRId64 ":%s", job_id, reason);
    if (currency != NULL && currency[0] != '\0') {
        char v[MONEY_FMT_MAX];
        if (money_format_cur(amount, currency, v, sizeof(v), NULL) == MLC_OK)
            snprintf(money, sizeof(money), " (%s %s)", currency, v);
    }
    if (job_key != NULL && strncmp(job_key, JOB_KEY_ORDER, ol) == 0) {
        snprintf(title, sizeof(title), "Order %s %s%s%s: %s", job_key + ol,
                 failed ? "failed" : "held", failed ? "" : " for ", failed ? "" : name,
                 why != NULL ? why : "");
        snprintf(command, sizeof(command), "mlc orders show %s", job_key + ol);
        snprintf(path, sizeof(path), "/orders/%s", job_key + ol);
    } else {
        snprintf(title, sizeof(title), "Job %" PRId64 " (%s) %s%s%s: %s", job_id, what,
                 failed ? "failed" : "held", failed ? "" : " for ", failed ? "" : name,
                 why != NULL ? why : "");
        snprintf(command, sizeof(command), "mlc jobs show %" PRId64, job_id);
        snprintf(path, sizeof(path), "/held");
    }
    /* The amount right after the verb reads best: insert it there. */
    if (money[0] != '\0') {
        char *colon = strstr(title, ": ");
        if (colon != NULL) {
            char rest[sizeof(title)];
            snprintf(rest, sizeof(rest), "%s", colon);
            snprintf(colon, sizeof(title) - (size_t)(colon - title), "%s%s", money, rest);
        }
    }
    /* Several held or failed items: mlc held lists them all by reason. */
    return append_group(st, key, reason, title, command, path, "mlc held --all", "/held", e);
}

int notify_reconcile(struct store *st, const char *day, int64_t differences,
                     int64_t report_id, struct mlc_err *e)
{
    char key[96], title[160], command[96], path[64];

    if (differences <= 0)
        return MLC_OK;
    snprintf(key, sizeof(key), "reconcile:%s:%" PRId64, day, report_id);
    snprintf(title, sizeof(title), "Reconciliation of %s: %" PRId64 " difference%s between "
             "BigCommerce, the ledger and JDE", day, differences, differences == 1 ? "" : "s");
    snprintf(command, sizeof(command), "mlc report show --day %s", day);
    snprintf(path, sizeof(path), "/reports/%s", day);
    return append_group(st, key, NOTIFY_R_RECONCILE, title, command, path, "mlc report show",
                        "/reports", e);
}

int notify_system(struct store *st, const char *condition, bool down, int64_t since_ms,
                  const char *reason, struct mlc_err *e)
{
    char key[128], title[NOTIFY_TITLE_MAX + 100];

    snprintf(key, sizeof(key), "%s:%s:%" PRId64, down ? "down" : "up", condition, since_ms);
    if (down)
        snprintf(title, sizeof(title), "%s: %s", condition,
                 reason != NULL && reason[0] != '\0' ? reason : "down");
    else
        snprintf(title, sizeof(title), "%s: recovered", condition);
    return append(st, key, down ? NOTIFY_R_DOWN : NOTIFY_R_UP, title, "mlc ping", "/", e);
}

int notify_hook(struct store *st, int64_t hook_id, const char *scope, const char *day,
                struct mlc_err *e)
{
    char key[96], title[256];

    snprintf(key, sizeof(key), "hook:%" PRId64 ":%s", hook_id, day);
    snprintf(title, sizeof(title), "BigCommerce deactivated webhook %" PRId64 " (%s) after "
             "failed deliveries; the hook check reactivates it, and the reconcile sweep "
             "catches the orders it missed", hook_id, scope != NULL ? scope : "?");
    return append(st, key, NOTIFY_R_HOOK, title, "mlc ping", "/", e);
}
