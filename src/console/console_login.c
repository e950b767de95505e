/*
 * console_login: the sign-in half of the web console (console_int.h): the
 * session cookie, the trusted proxy header, the CSRF check of every POST,
 * and the login, logout and session routes with their rate limit and the
 * bounded number of password checks at once.
 */
#include "console/console_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/secret.h"

#define COOKIE_NAME "mlc_session"

/* ---- who is asking -------------------------------------------------------------- */

/* The role console.users gives user under cfg; CAUTH_NONE when unnamed. */
static enum cauth_role role_of(const struct mlc_config *cfg, const char *user)
{
    for (size_t i = 0; i < cfg->console.n_users; i++)
        if (strcmp(cfg->console.users[i].match, user) == 0)
            return cauth_role_parse(cfg->console.users[i].value);
    return CAUTH_NONE;
}

/* set_cookie and session_json read c->cfg: call them under c->mu. */
static void set_cookie(const struct console *c, struct httpd_response *rs, const char *id,
                       int max_age_s)
{
    char v[256];

    snprintf(v, sizeof(v), COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             id, max_age_s, c->cfg->console.secure_cookie ? "; Secure" : "");
    httpd_resp_header(rs, "Set-Cookie", v);
}

/* The value of cookie name in a Cookie header into buf; false when absent. */
static bool cookie_value(const char *header, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = header;

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t n = strcspn(p + nl + 1, ";");

            if (n >= cap)
                return false;
            memcpy(buf, p + nl + 1, n);
            buf[n] = '\0';
            return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

/* The session of the request, or one started for the proxy's user. Under
 * the console mutex (reads cfg). */
static bool find_session(struct console *c, const struct httpd_request *rq, struct who *w)
{
    const char *hdr = httpd_req_header(rq, "Cookie"), *pu;
    char id[CAUTH_TOKEN_LEN + 8];
    const char *proxy = c->cfg->console.proxy_user_header;
    enum cauth_role role;
    int64_t now = console_now_ms();

    memset(w, 0, sizeof(*w));
    pu = proxy != NULL && console_loopback(httpd_req_client(rq)) ? httpd_req_header(rq, proxy) : NULL;
    if (hdr != NULL && cookie_value(hdr, COOKIE_NAME, id, sizeof(id)) &&
        cauth_session_get(c->auth, id, now, &w->s)) {
        /* The configuration decides the role now, not at login; and the
         * proxy, when it names someone else, the user. */
        role = role_of(c->cfg, w->s.user);
        if (role == w->s.role && (pu == NULL || strcmp(pu, w->s.user) == 0))
            return true;
        if (role != w->s.role)
            cauth_session_end_user(c->auth, w->s.user);
        else
            cauth_session_end(c->auth, w->s.id);
        memset(w, 0, sizeof(*w));
    }
    if (pu == NULL)
        return false;
    if ((role = role_of(c->cfg, pu)) == CAUTH_NONE) {
        log_warn("console", "proxy user not in console.users", LF_STR("user", pu));
        return false;
    }
    if (cauth_session_start(c->auth, pu, role, now, &w->s, NULL) != MLC_OK)
        return false;
    w->new_session = true;
    log_info("console", "proxy login", LF_STR("user", pu), LF_STR("role", cauth_role_name(role)));
    return true;
}

bool clogin_authorize(struct console *c, const struct httpd_request *rq,
                      struct httpd_response *rs, struct who *w)
{
    bool post = strcmp(httpd_req_method(rq), "POST") == 0, ok;

    pthread_mutex_lock(&c->mu);
    ok = find_session(c, rq, w);
    if (ok && w->new_session)
        set_cookie(c, rs, w->s.id, c->cfg->console.session_max_s);
    pthread_mutex_unlock(&c->mu);
    if (!ok) {
        console_send_error(rs, 401, "not signed in");
        return false;
    }
    if (post && !cauth_csrf_ok(&w->s, httpd_req_header(rq, CSRF_HEADER))) {
        log_warn("console", "request refused: missing or wrong CSRF token",
                 LF_STR("user", w->s.user), LF_STR("path", httpd_req_path(rq)),
                 LF_STR("client", httpd_req_client(rq)));
        console_send_error(rs, 403, "missing or wrong CSRF token: reload the page");
        return false;
    }
    return true;
}
/* ---- login and session ------------------------------------------------------------ */

static int copy_hash(const char *bytes, size_t len, void *ctx)
{
    if (len >= CAUTH_HASH_MAX)
        return MLC_ETOOBIG;
    memcpy(ctx, bytes, len);
    ((char *)ctx)[len] = '\0';
    return MLC_OK;
}

/* The stored hash of user into hash; false when there is none. Under mu. */
static bool load_hash(struct console *c, const char *user, char hash[CAUTH_HASH_MAX])
{
    struct mlc_secret *s = NULL;
    char name[96];
    struct mlc_err e;
    bool ok;

    if (c->vault == NULL)
        return false;
    mlc_err_clear(&e);
    cauth_credential_name(user, name, sizeof(name));
    ok = credentials_load(c->vault, c->st, name, &s, &e) == MLC_OK &&
         secret_use(s, copy_hash, hash) == MLC_OK;
    if (!ok && e.code != MLC_ENOTFOUND && e.code != MLC_OK)
        log_warn("console", "password hash not readable", LF_STR("user", user), LF_ERR(&e));
    secret_free(s);
    return ok;
}

static void audit_login(struct console *c, const char *user, const char *client,
                        const char *outcome)
{
    char actor[64], detail[160];
    json_t *d = json_pack("{s:s}", "client", client);
    char *dt = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    struct mlc_err e;

    json_decref(d);
    snprintf(actor, sizeof(actor), "console:%s", user);
    snprintf(detail, sizeof(detail), "%s", dt != NULL ? dt : "{}");
    free(dt);
    pthread_mutex_lock(&c->mu);
    if (store_audit_add(c->st, &(struct store_audit){
            .actor = actor, .entity = "console", .action = "login", .outcome = outcome,
            .detail = detail }, &e) != MLC_OK)
        log_warn("console", "login not audited", LF_ERR(&e));
    pthread_mutex_unlock(&c->mu);
}

/* Checks user's password, at most CONSOLE_VERIFY_MAX at once: crypto_pwhash
 * takes time and memory on purpose. -1: too busy, 0: wrong, 1: right. */
static int check_password(struct console *c, const char *user, const char *pw, size_t len,
                          enum cauth_role *role)
{
    char hash[CAUTH_HASH_MAX];
    bool have;
    int ok;

    pthread_mutex_lock(&c->mu);
    *role = role_of(c->cfg, user);
    have = *role != CAUTH_NONE && load_hash(c, user, hash);
    pthread_mutex_unlock(&c->mu);
    if (!have) /* the same work, bound to fail: no timing tells users apart */
        memcpy(hash, c->dummy_hash, sizeof(hash));
    if (atomic_fetch_add(&c->verifying, 1) >= CONSOLE_VERIFY_MAX) {
        atomic_fetch_sub(&c->verifying, 1);
        return -1;
    }
    ok = cauth_verify(hash, pw, len) && have ? 1 : 0;
    atomic_fetch_sub(&c->verifying, 1);
    secret_wipe(hash, sizeof(hash));
    return ok;
}

static json_t *session_json(const struct console *c, const struct cauth_session *s)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "user", s->user, "role",
                     cauth_role_name(s->role), "csrf", s->csrf, "timezone",
                     c->cfg->posting.timezone);
}

void clogin_h_login(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    const char *client = httpd_req_client(rq), *user, *pw;
    json_t *b = console_json_body(rq, rs);
    struct cauth_session s;
    enum cauth_role role = CAUTH_NONE;
    int64_t wait, now = console_now_ms();
    char retry[32];
    int ok;

    if (b == NULL)
        return;
    user = json_string_value(json_object_get(b, "user"));
    pw = json_string_value(json_object_get(b, "password"));
    if (user == NULL || pw == NULL || user[0] == '\0' || strlen(user) > CAUTH_USER_MAX) {
        json_decref(b);
        console_send_error(rs, 400, "give user and password");
        return;
    }
    if ((wait = cauth_login_wait(c->auth, client, user, now)) > 0) {
        snprintf(retry, sizeof(retry), "%" PRId64, (wait + 999) / 1000);
        log_warn("console", "login refused: too many failures", LF_STR("user", user),
                 LF_STR("client", client), LF_STR("retry_after_s", retry));
        httpd_resp_header(rs, "Retry-After", retry);
        json_decref(b);
        console_send_error(rs, 429, "too many failed logins: try again later");
        return;
    }
    ok = check_password(c, user, pw, strlen(pw), &role);
    secret_wipe((char *)pw, strlen(pw)); /* jansson's copy of the password */
    if (ok < 0) {
        json_decref(b);
        httpd_resp_header(rs, "Retry-After", "1");
        console_send_error(rs, 503, "busy checking other logins: try again");
        return;
    }
    if (ok == 0) {
        cauth_login_failed(c->auth, client, user, now);
        log_warn("console", "login failed", LF_STR("user", user), LF_STR("client", client));
        audit_login(c, user, client, "refused");
        json_decref(b);
        console_send_error(rs, 401, "wrong user or password");
        return;
    }
    cauth_login_ok(c->auth, user);
    if (cauth_session_start(c->auth, user, role, now, &s, NULL) != MLC_OK) {
        json_decref(b);
        console_send_error(rs, 500, "no session");
        return;
    }
    log_info("console", "login", LF_STR("user", user), LF_STR("role", cauth_role_name(role)),
             LF_STR("client", client));
    audit_login(c, user, client, "ok");
    json_decref(b); /* user and pw point into it */
    pthread_mutex_lock(&c->mu);
    set_cookie(c, rs, s.id, c->cfg->console.session_max_s);
    console_send_json(rs, 200, session_json(c, &s));
    pthread_mutex_unlock(&c->mu);
}

void clogin_h_logout(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    struct who w;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    cauth_session_end(c->auth, w.s.id);
    log_info("console", "logout", LF_STR("user", w.s.user));
    pthread_mutex_lock(&c->mu);
    set_cookie(c, rs, "", 0);
    pthread_mutex_unlock(&c->mu);
    console_send_json(rs, 200, json_pack("{s:b}", "ok", 1));
}

void clogin_h_session(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    struct who w;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    pthread_mutex_lock(&c->mu);
    console_send_json(rs, 200, session_json(c, &w.s));
    pthread_mutex_unlock(&c->mu);
}
