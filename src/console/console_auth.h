/*
 * console_auth: who may use the web console, and for how long.
 *
 *  - Passwords: Argon2id hashes (libsodium crypto_pwhash_str at the
 *    interactive limits), kept encrypted in the credential store under
 *    cauth_credential_name(user), never in the configuration file.
 *  - Sessions: in memory (one process), a random 256-bit id (the cookie)
 *    and a random CSRF token each; a session ends idle_s after its last
 *    use, max_s after its login, or at logout. At most CAUTH_MAX_SESSIONS
 *    live at once: a new login ends the least recently used one.
 *  - Login rate limit: failures are counted per client address and per
 *    user name over window_s; at max_failures, further attempts are
 *    refused (the caller answers 429 with Retry-After) until the oldest
 *    counted failure leaves the window. A success clears the user's count.
 *
 * Thread-safety: a struct cauth may be used by every console thread at
 * once (one mutex, held only for table work, never while hashing). Times
 * are Unix milliseconds given by the caller, so tests control the clock.
 * Ownership: cauth_new/cauth_free; sessions are copied out, never shared.
 */
#ifndef MLC_CONSOLE_CONSOLE_AUTH_H
#define MLC_CONSOLE_CONSOLE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CAUTH_MAX_SESSIONS 256
#define CAUTH_TOKEN_LEN    64   /* 32 random bytes as lowercase hex */
#define CAUTH_USER_MAX     32
#define CAUTH_HASH_MAX     128  /* crypto_pwhash_STRBYTES */
#define CAUTH_PASSWORD_MAX 1024

enum cauth_role { CAUTH_NONE = 0, CAUTH_VIEWER, CAUTH_OPERATOR };

/* "viewer" / "operator" and back (CAUTH_NONE for anything else). */
const char *cauth_role_name(enum cauth_role r);
enum cauth_role cauth_role_parse(const char *s);

struct cauth_opts {
    int64_t idle_ms;       /* session idle timeout */
    int64_t max_ms;        /* session absolute lifetime */
    int     max_failures;  /* failed logins allowed per window (per address, per user) */
    int64_t window_ms;     /* the failure window */
};

/* The defaults: 5 failures per 5 minutes. */
#define CAUTH_MAX_FAILURES 5
#define CAUTH_WINDOW_MS    (5 * 60 * 1000)

struct cauth;

int cauth_new(const struct cauth_opts *o, struct cauth **out, struct mlc_err *e);
void cauth_free(struct cauth *a); /* NULL-safe; wipes the tokens */
/* New timeouts (a configuration reload); live sessions keep running. */
void cauth_set_opts(struct cauth *a, const struct cauth_opts *o);

/* ---- passwords ------------------------------------------------------------- */

/* "console_user.NAME": the credential that holds NAME's password hash. */
void cauth_credential_name(const char *user, char *buf, size_t cap);
/* Argon2id hash of the password into out (NUL-terminated). Slow by design
 * (about 0.1 s, 64 MiB). MLC_EINVAL on an empty or overlong password. */
int cauth_hash(const char *password, size_t len, char out[CAUTH_HASH_MAX], struct mlc_err *e);
/* Whether password matches hash (a crypto_pwhash_str string). Slow. */
bool cauth_verify(const char *hash, const char *password, size_t len);

/* ---- sessions -------------------------------------------------------------- */

struct cauth_session {
    char            id[CAUTH_TOKEN_LEN + 1];
    char            csrf[CAUTH_TOKEN_LEN + 1];
    char            user[CAUTH_USER_MAX + 1];
    enum cauth_role role;
    int64_t         created_ms, last_ms;
};

/* Starts a session for user with role at now_ms; *out: a copy. */
int cauth_session_start(struct cauth *a, const char *user, enum cauth_role role,
                        int64_t now_ms, struct cauth_session *out, struct mlc_err *e);
/* The live session of id (a cookie value, any text), touched at now_ms, into
 * *out; false when there is none (unknown, idle too long, too old: an
 * expired one is removed). */
bool cauth_session_get(struct cauth *a, const char *id, int64_t now_ms,
                       struct cauth_session *out);
/* Ends session id (logout); unknown ids are ignored. */
void cauth_session_end(struct cauth *a, const char *id);
/* Ends every session of user (its role changed, it left the config). */
void cauth_session_end_user(struct cauth *a, const char *user);
/* Live sessions (for tests and the log). */
size_t cauth_session_count(struct cauth *a, int64_t now_ms);

/* Whether token (from a header or a form field, may be NULL) is the
 * session's CSRF token; constant time in the token's content. */
bool cauth_csrf_ok(const struct cauth_session *s, const char *token);

/* ---- login rate limit ------------------------------------------------------ */

/* Milliseconds before client (an address) or user may try again; 0: now. */
int64_t cauth_login_wait(struct cauth *a, const char *client, const char *user, int64_t now_ms);
/* Counts a failed login of user from client. */
void cauth_login_failed(struct cauth *a, const char *client, const char *user, int64_t now_ms);
/* A login of user went through: its failures are forgotten (the address's
 * stay: one address guessing many users is still limited). */
void cauth_login_ok(struct cauth *a, const char *user);

#endif
