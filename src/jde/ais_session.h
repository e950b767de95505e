/*
 * ais_session: one logged-in JD Edwards AIS session shared by every thread.
 *
 * The session logs in with POST /jderest/v2/tokenrequest (username,
 * password, environment, role and the configured fixed deviceName) and keeps
 * the token in a struct mlc_secret. Every call sends it as jde-AIS-Auth
 * (a secret header: never logged) with jde-AIS-Auth-Device. HTTP handles
 * come from a small pool (one struct httpc is used by one thread at a time).
 *
 * Single-flight re-login: each token carries a generation number. A call
 * that fails with 444, a 403 saying the token is invalid, or a 500 whose
 * body says so, re-logs in only when the token generation it used is still
 * the current one and no login is running; otherwise it waits for the
 * running login or just uses the newer token. So N threads that hit one
 * expired token cause one login.
 *
 * Login back-off: a login AIS refuses (a 4xx answer: wrong password,
 * unknown user, environment or role not allowed) is not tried again for
 * login_backoff_ms (jde.login_backoff_s, default a minute): most JDE shops
 * lock an account after a few failed sign-ins, and retrying the same
 * password cannot help. A login that fails for another reason (AIS does not
 * answer, 5xx) waits only login_cooldown_ms. Meanwhile every caller gets the
 * last failure at once, without a network call, with the time of the next
 * attempt in the message ("...; logins back off: next attempt after
 * 2026-11-28T10:01:00Z (in 42 s)"). The failure is logged once, by the
 * login that failed.
 *
 * Health (opts.health, may be NULL): a failed login sets "jde.login" (and
 * every caller turned away by the back-off reports it again), a successful
 * one clears it; a call AIS does not answer (transport error) or that a
 * gateway answers 502/503/504 sets "jde.unreachable", any other answer
 * clears it. Business errors (a refused orchestration, a 500 from AIS
 * itself) say nothing about AIS being up or down.
 *
 * Replay after a re-login: a read (AIS_CALL_READ) is replayed once with the
 * new token. A write (AIS_CALL_WRITE) is not: ais_call returns MLC_EAUTH
 * with resp->reauth set, and the caller runs its idempotency check (the
 * existence lookups of ais_data.h) before calling again. A data-service
 * next page (AIS_CALL_NEXT) is not replayed either: its result set belonged
 * to the old token, the data layer re-runs the query.
 *
 * Status codes of ais_call: MLC_OK whenever AIS answered (the caller judges
 * the status), else MLC_EAUTH (AIS refused the login, or reauth as above),
 * or the code of a login that could not be done (MLC_EIO for a 5xx), or the
 * transport code of httpc (MLC_ETIMEOUT, MLC_EIO, ...). For a write without
 * an answer resp->outcome_unknown is set: the write may have committed.
 *
 * Messages never hold the password or the token.
 */
#ifndef MLC_JDE_AIS_SESSION_H
#define MLC_JDE_AIS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"

struct mlc_secret;
struct ais_session;
struct health;

#define AIS_LOGIN_COOLDOWN_MS 5000L
#define AIS_LOGIN_BACKOFF_MS  60000L
#define AIS_DEVICE_DEFAULT "ml-connector"
#define AIS_SDF_MAX 33

/* Tunables; zero fields take the defaults. */
struct ais_session_opts {
    long     timeout_ms;          /* per call; 0: cfg timeout_ms, else 120000 */
    long     connect_timeout_ms;  /* 0: 10000 */
    unsigned read_attempts;       /* reads retried on 5xx/timeouts [3] */
    long     retry_base_ms;       /* [500] */
    long     login_cooldown_ms;   /* after a login that failed without a
                                     refusal [AIS_LOGIN_COOLDOWN_MS]; < 0: none */
    unsigned pool_max;            /* idle HTTP handles kept [16] */
    long     login_backoff_ms;    /* after a refused login [AIS_LOGIN_BACKOFF_MS];
                                     < 0: none */
    struct health *health;        /* conditions reported to; borrowed, may be NULL */
    /* Monotonic milliseconds for the back-off (tests); NULL: CLOCK_MONOTONIC. */
    int64_t (*clock_ms)(void *ctx);
    void    *clock_ctx;
};

/* Where the logins stand (copied out). */
struct ais_login_state {
    bool    failed;            /* the last login failed */
    bool    refused;           /* ... because AIS refused it (4xx) */
    int64_t retry_in_ms;       /* > 0: no login before this many ms */
    int64_t retry_at_ms;       /* Unix ms of the next attempt allowed (0: now) */
    int64_t backoff_ms;        /* the wait that applies after this failure */
    uint64_t logins;           /* logins started so far */
    char    msg[MLC_ERR_MSG_MAX]; /* the last failure, "" when none */
};

/* Facts from the last login (copied out). */
struct ais_login_info {
    char    username[64];
    char    environment[32];
    char    role[32];
    char    jasserver[128];
    char    sdf[AIS_SDF_MAX];     /* simpleDateFormat, "MM/dd/yyyy" */
    char    tz_offset[16];        /* "UTC-05:00" */
    int64_t address_number;
    uint64_t generation;          /* 0 before the first login */
};

/* New session (*out; caller frees with ais_session_free). cfg is copied;
 * the password is copied into the session's own guarded memory, the
 * caller keeps and frees its secret. Does not log in yet. o may be NULL. */
int ais_session_new(const struct cfg_jde *cfg, const struct mlc_secret *password,
                    const struct ais_session_opts *o, struct ais_session **out,
                    struct mlc_err *e);
/* Frees without logging out (see ais_session_logout); NULL-safe. */
void ais_session_free(struct ais_session *s);

/* Logs in now unless a valid token is held. */
int ais_session_login(struct ais_session *s, struct mlc_err *e);
/* Keep-alive: validate with touch:true; an invalid token is replaced by a
 * fresh login (single-flight). */
int ais_session_touch(struct ais_session *s, struct mlc_err *e);
/* Ends the AIS session (logout) and drops the token; MLC_OK when none. */
int ais_session_logout(struct ais_session *s, struct mlc_err *e);

/* Copies the facts of the last login (zeroed when none). */
void ais_session_info(struct ais_session *s, struct ais_login_info *out);
/* True while a session token is held (logged in and not dropped since):
 * the AIS session is up. False before the first login. */
bool ais_session_up(struct ais_session *s);
/* Logins performed so far (successful or not): for tests and benchmarks. */
uint64_t ais_session_login_count(struct ais_session *s);
/* The last login's outcome and the back-off in force. */
void ais_session_login_state(struct ais_session *s, struct ais_login_state *out);
/* Reports to h from now on (borrowed; call before other threads use s). */
void ais_session_set_health(struct ais_session *s, struct health *h);
/* The copied configuration (valid while s lives). */
const struct cfg_jde *ais_session_cfg(const struct ais_session *s);

enum ais_call_kind {
    AIS_CALL_READ = 0, /* replayed after a re-login; retried on 5xx */
    AIS_CALL_WRITE,    /* never replayed nor retried */
    AIS_CALL_NEXT,     /* a data-service next page: not replayed */
    AIS_CALL_NOAUTH    /* no token (defaultconfig) */
};

/* One call. path is relative to ais_base_url ("/jderest/v2/dataservice")
 * and may carry a query string. Everything is borrowed. */
struct ais_request {
    const char        *method;   /* "GET", "POST" */
    const char        *path;
    const char        *body;     /* JSON text or NULL */
    size_t             body_len;
    enum ais_call_kind kind;
    long               timeout_ms; /* 0: the session's */
    /* A write is not sent after this CLOCK_MONOTONIC time in ms (0: no
     * limit): MLC_ETIMEOUT with ais_response.not_sent. Checked right before
     * the request goes out, after any login. */
    int64_t            send_by_ms;
};

/* The answer; zero it before the call, release with ais_response_clear. */
struct ais_response {
    int     status;          /* HTTP status, 0 when none */
    json_t *json;            /* parsed body when it is JSON, else NULL */
    bool    reauth;          /* MLC_EAUTH: re-logged in, call not replayed */
    bool    outcome_unknown; /* write sent without a complete answer */
    bool    not_sent;        /* write not sent: its send_by had passed */
};

int ais_call(struct ais_session *s, const struct ais_request *rq,
             struct ais_response *out, struct mlc_err *e);
void ais_response_clear(struct ais_response *r);

/* The message AIS put in an error body: message, jde__simpleMessage,
 * sysErrors[0].TITLE, errors[0].TITLE/DESC; NULL when none (borrowed). */
const char *ais_error_text(const json_t *body);

/* Reads a login answer (POST tokenrequest, HTTP 200): userInfo.token into
 * *tok (the copy in body is wiped; caller frees with secret_free) and the
 * rest into *info (simpleDateFormat defaults to MM/dd/yyyy, with a warn line
 * naming user). MLC_EPROTO without a token. Apart from the transport so
 * that fuzz/fuzz_ais.c reaches it without a server. */
int ais_login_decode(json_t *body, const char *user, struct mlc_secret **tok,
                     struct ais_login_info *info);

/* GET /jderest/v2/defaultconfig (no authentication). *out: caller
 * decrefs. */
int ais_defaultconfig(struct ais_session *s, json_t **out, struct mlc_err *e);

#endif
