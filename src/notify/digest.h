/*
 * digest: pending alerts grouped by reason into one message, and when a
 * channel may send the next one. Pure: no I/O, no clock (times are given).
 *
 * A digest counts every pending alert in its reason's group (groups in the
 * order their first alert came) and lists the first DIGEST_SHOWN of each
 * group with its title, then "and N more". Alerts older than the age cap
 * are counted but not listed (said once: "N older than ..."), so a channel
 * that was down for a week gets one readable message, and nothing is
 * dropped silently. Each group ends with the command (and, with a console
 * URL, the link) that shows its details: the alert's own when it is alone,
 * else the group's (mlc held --all rather than one order).
 *
 * Ownership: a digest owns copies of what it shows; digest_clear frees
 * them. Not thread-safe (one digest per sender).
 */
#ifndef MLC_NOTIFY_DIGEST_H
#define MLC_NOTIFY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DIGEST_SHOWN      3   /* alerts listed per group */
#define DIGEST_MAX_GROUPS 24  /* more reasons fold into "other" */
#define DIGEST_REASON_MAX 64

/* One pending alert as the store gives it (strings borrowed for the call). */
struct digest_alert {
    int64_t     id;
    const char *reason;
    int64_t     created_at;  /* Unix ms */
    const char *title;
    const char *command;
    const char *path;        /* console page, "" or NULL: none */
    /* What shows a group of several ("mlc held --all"); NULL: command. */
    const char *group_command;
    const char *group_path;
};

struct digest_group {
    char    reason[DIGEST_REASON_MAX];
    size_t  count;
    size_t  old;             /* counted, older than the cap, not listed */
    size_t  n_shown;
    char   *shown[DIGEST_SHOWN];
    char   *command;         /* of the group's first alert */
    char   *path;
    char   *group_command;   /* of the group's first alert, NULL: none */
    char   *group_path;
};

struct digest {
    int64_t  old_before_ms;  /* alerts created before this are not listed */
    size_t   total;
    size_t   old;
    int64_t  first_id, last_id;
    size_t   n_groups;
    struct digest_group groups[DIGEST_MAX_GROUPS];
};

/* An empty digest; alerts created before old_before_ms are only counted. */
void digest_init(struct digest *d, int64_t old_before_ms);
void digest_clear(struct digest *d); /* frees copies; the digest is empty again */

/* Adds one alert (in id order). MLC_ENOMEM leaves d usable. */
int digest_add(struct digest *d, const struct digest_alert *a, struct mlc_err *e);
/* The same from a store row's reason and JSON body (notify.h); a body that
 * does not parse is shown as its reason. */
int digest_add_row(struct digest *d, int64_t id, const char *reason, int64_t created_at,
                   const char *body, struct mlc_err *e);

/* "[mlc] 3 alerts: held.account_missing 2, failed 1" into buf (cut to cap). */
void digest_subject(const struct digest *d, char *buf, size_t cap);
/* The plain text: a heading, each group with its count, listed titles,
 * "and N more", command and link (console_url NULL or "": none). Lines end
 * in "\n". *out: malloc'd, caller frees. */
int digest_text(const struct digest *d, const char *console_url, char **out,
                struct mlc_err *e);
/* A Slack-compatible webhook body: {"text": the subject and the text}.
 * *out: malloc'd JSON, caller frees. */
int digest_slack_json(const struct digest *d, const char *console_url, char **out,
                      struct mlc_err *e);

/* Rate limit: whether a channel that last sent at last_sent_ms (0: never)
 * may send now. The first digest after a quiet period goes out at once;
 * after that at most one per interval. */
bool digest_due(int64_t now_ms, int64_t last_sent_ms, int64_t interval_ms);

/* Backoff of a failing channel before attempt fails+1 (fails >= 1): 5 s
 * doubling, at most cap_ms. */
int64_t digest_backoff_ms(unsigned fails, int64_t cap_ms);

#endif
