/*
 * notify: the events the operator is told about, appended to the store's
 * alerts outbox by the code that sees them (store.h, "the alerts outbox").
 *
 * Each event has a dedupe key (the same fact appended twice is one row), a
 * reason (the group of the digest: "held.account_missing", "failed",
 * "reconcile.differences", "system.down", "system.up", "hook.deactivated")
 * and a JSON body:
 *   {"title": one line, "command": the command that shows the details,
 *    "path": the console page of the details (appended to the console URL),
 *    optional "group_command", "group_path": what shows several at once}
 * Sending is someone else's job (notify_send.h): appending never waits for
 * a channel. An append inside the caller's transaction commits with it (a
 * job's hold and its alert are one write).
 *
 * Nothing here holds state; every call is thread-safe on its own store
 * connection.
 */
#ifndef MLC_NOTIFY_NOTIFY_H
#define MLC_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define NOTIFY_R_HELD      "held."   /* + the hold code */
#define NOTIFY_R_FAILED    "failed"
#define NOTIFY_R_RECONCILE "reconcile.differences"
#define NOTIFY_R_DOWN      "system.down"
#define NOTIFY_R_UP        "system.up"
#define NOTIFY_R_HOOK      "hook.deactivated"
#define NOTIFY_R_TEST      "test"

#define NOTIFY_TITLE_MAX 300 /* longer titles are cut (a mail line stays short) */

/* A job held (code: core/holdcode.h name, NULL: "other") or failed after
 * its attempts. currency NULL: no amount known. why: the hold reason or
 * last error (never a secret: the flows write them for the audit). Keyed
 * by job, outcome and code: a retry loop that holds the job again for the
 * same reason adds nothing. */
int notify_job(struct store *st, int64_t job_id, const char *job_key, bool failed,
               const char *code, int64_t amount, const char *currency, const char *why,
               struct mlc_err *e);

/* A stored reconciliation of day ("2026-12-04") with differences (> 0;
 * 0 appends nothing). One event per stored report (report_id). */
int notify_reconcile(struct store *st, const char *day, int64_t differences,
                     int64_t report_id, struct mlc_err *e);

/* A health condition ("jde.unreachable") set since since_ms has lasted
 * past alerts.down_after_s (down), or has cleared (up). Keyed by the
 * condition and since_ms. */
int notify_system(struct store *st, const char *condition, bool down, int64_t since_ms,
                  const char *reason, struct mlc_err *e);

/* BigCommerce deactivated our hook id (scope "store/order/...") after failed
 * deliveries; day ("2026-12-04", UTC) keys it: at most one a hook a day. */
int notify_hook(struct store *st, int64_t hook_id, const char *scope, const char *day,
                struct mlc_err *e);

/* The body of an event as appended (exposed for tests and `mlc notify
 * test`): *out is malloc'd JSON, caller frees. */
int notify_body(const char *title, const char *command, const char *path, char **out,
                struct mlc_err *e);
/* The same with what shows a group of several such alerts (digest.h). */
int notify_body_group(const char *title, const char *command, const char *path,
                      const char *group_command, const char *group_path, char **out,
                      struct mlc_err *e);

#endif
