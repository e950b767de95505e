/*
 * console: the web console, served by `mlc run` on a listener of its own
 * (console.listen), never on the public webhook listener.
 *
 * Pages (embedded, console_assets) call a small JSON API:
 *   POST /api/login {user, password}  -> session cookie + CSRF token
 *   POST /api/logout
 *   GET  /api/session                 -> {user, role, csrf, timezone}
 *   GET  /api/overview, /api/held, /api/order?q=..., /api/report?day=...
 *   GET  /api/report.csv?day=...      -> text/csv (as `mlc report show --format csv`)
 *   POST /api/replay {id, note}, /api/dismiss {id, note}   (operator only)
 * Every API call but login needs a live session (401 otherwise); every
 * POST but login needs the session's CSRF token in X-CSRF-Token (403
 * otherwise) and a JSON body. With console.proxy_user_header set, a request
 * from a loopback peer that carries the header is logged in as that user
 * (when console.users names it). Every replay and dismiss, and every one
 * refused to a viewer, is audited with actor "console:<user>".
 *
 * The sign-in half (cookie, proxy header, CSRF, login routes) lives in
 * console_login.c, behind the private header console_int.h.
 *
 * Threads: handlers run on the console's own httpd pool; the store
 * connection is used under one mutex, password hashes are verified outside
 * it (at most CONSOLE_VERIFY_MAX at once; beyond, 503 with Retry-After).
 * Lifetime: console_start .. console_free from the daemon's main thread;
 * console_set_config (a SIGHUP) from that thread too, at any time.
 */
#ifndef MLC_CONSOLE_CONSOLE_H
#define MLC_CONSOLE_CONSOLE_H

#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/health.h"

struct env;
struct console;

#define CONSOLE_VERIFY_MAX 2

/* What the console shows of the running daemon; both may be NULL. They
 * must outlive the console. */
struct console_deps {
    struct health *health;
    struct env    *env;
};

/* Starts serving cfg->console.listen (which must be set). *out: caller
 * frees with console_free. Takes a reference on cfg. */
int console_start(struct mlc_config *cfg, const struct console_deps *deps,
                  struct console **out, struct mlc_err *e);
/* Swaps in a reloaded configuration (users, roles, timeouts); sessions of
 * users removed or whose role changed end. Takes a reference on cfg. */
void console_set_config(struct console *c, struct mlc_config *cfg);
/* Stops listening and waits for the handlers; idempotent, NULL-safe. */
void console_stop(struct console *c);
void console_free(struct console *c); /* NULL-safe */

#endif
