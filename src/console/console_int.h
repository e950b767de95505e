/*
 * console_int.h: private to src/console/console.c and console_login.c (the
 * web console's server and its sign-in half). Not for other modules.
 */
#ifndef MLC_CONSOLE_CONSOLE_INT_H
#define MLC_CONSOLE_CONSOLE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "console/console.h"
#include "console/console_auth.h"
#include "net/httpd.h"
#include "store/credentials.h"
#include "store/store.h"

#define CSRF_HEADER "X-CSRF-Token"

struct console {
    pthread_mutex_t     mu;     /* cfg, st */
    struct mlc_config  *cfg;
    struct store       *st;
    struct vault       *vault;  /* NULL: no master key, password logins refused */
    struct cauth       *auth;
    struct httpd       *h;
    struct console_deps deps;
    atomic_int          verifying; /* password checks running */
    /* A hash of a random password: an unknown user's login is checked
     * against it, so that it takes as long as a known user's. */
    char                dummy_hash[CAUTH_HASH_MAX];
};

/* The signed-in user of one request. */
struct who {
    struct cauth_session s;
    bool                 new_session; /* made by the proxy header: set the cookie */
};


/* ---- console.c ---------------------------------------------------------------- */

int64_t console_now_ms(void);
/* Whether client (httpd_req_client) is a loopback address. */
bool console_loopback(const char *client);
/* A JSON answer (takes o; NULL answers 500) with the console's headers. */
void console_send_json(struct httpd_response *rs, int status, json_t *o);
void console_send_error(struct httpd_response *rs, int status, const char *msg);
/* The JSON object body of a POST; answers 415/400 and returns NULL when
 * there is none. Caller decrefs. */
json_t *console_json_body(const struct httpd_request *rq, struct httpd_response *rs);

/* ---- console_login.c: who is asking --------------------------------------------- */

/* Answers 401 (no session) or 403 (a POST without the CSRF token) and
 * returns false; true when the request may go on, *w filled. */
bool clogin_authorize(struct console *c, const struct httpd_request *rq,
                      struct httpd_response *rs, struct who *w);
/* POST /api/login, POST /api/logout, GET /api/session (ctx: the console). */
void clogin_h_login(const struct httpd_request *rq, struct httpd_response *rs, void *ctx);
void clogin_h_logout(const struct httpd_request *rq, struct httpd_response *rs, void *ctx);
void clogin_h_session(const struct httpd_request *rq, struct httpd_response *rs, void *ctx);

#endif
