/*
 * aissim_session: users, tokens (login, validate, logout) and defaultconfig.
 *
 * A token is bound to the deviceName it was requested with, or to the
 * caller's IP address when none was sent. It dies after session_timeout_s
 * of inactivity or time_to_live_s after login, both on the simulated clock;
 * a restart drops every token.
 */
#include "aissim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/jdate.h"

/* ---- users --------------------------------------------------------------- */

static char *dup_str(const json_t *o, const char *k, const char *def)
{
    const char *v = json_string_value(json_object_get(o, k));

    return strdup(v != NULL ? v : def);
}

static json_t *str_list(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_array(v) ? json_incref(v) : json_array();
}

int aissim_users_load(struct aissim *s, const json_t *users, struct mlc_err *e)
{
    size_t i;
    json_t *u;
    int rc;

    if (users == NULL)
        return MLC_OK;
    if (!json_is_array(users))
        return mlc_err_set(e, MLC_EINVAL, "seed: users must be an array");
    s->users = calloc(json_array_size(users) + 1, sizeof(*s->users));
    if (s->users == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
    json_array_foreach(users, i, u) {
        struct aissim_user *x = &s->users[s->n_users];
        json_t *an8 = json_object_get(u, "addressNumber");

        if (!json_is_string(json_object_get(u, "username")) ||
            !json_is_string(json_object_get(u, "password")))
            return mlc_err_set(e, MLC_EINVAL, "seed: user %zu needs username and password", i);
        x->username = dup_str(u, "username", "");
        x->password = dup_str(u, "password", "");
        x->sdf = dup_str(u, "simpleDateFormat", "MM/dd/yyyy");
        x->tz_offset = dup_str(u, "timeZoneOffset", "UTC+00:00");
        x->environments = str_list(u, "environments");
        x->roles = str_list(u, "roles");
        x->an8 = json_is_integer(an8) ? json_integer_value(an8) : 0;
        s->n_users++;
        if (x->username == NULL || x->password == NULL || x->sdf == NULL ||
            x->tz_offset == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
        if ((rc = jdate_sdf_check(x->sdf, e)) != MLC_OK) {
            mlc_err_wrap(e, "seed: user %s simpleDateFormat", x->username);
            return rc;
        }
    }
    return MLC_OK;
}

void aissim_users_free(struct aissim *s)
{
    for (size_t i = 0; i < s->n_users; i++) {
        struct aissim_user *u = &s->users[i];

        if (u->password != NULL)
            sodium_memzero(u->password, strlen(u->password));
        free(u->username);
        free(u->password);
        free(u->sdf);
        free(u->tz_offset);
        json_decref(u->environments);
        json_decref(u->roles);
    }
    free(s->users);
    s->users = NULL;
    s->n_users = 0;
}

int aissim_user_set_password(struct aissim *s, const json_t *body, struct mlc_err *e)
{
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *pwd = json_string_value(json_object_get(body, "password"));
    char *copy;

    if (user == NULL || pwd == NULL)
        return mlc_err_set(e, MLC_EINVAL, "expected {\"username\", \"password\"}");
    for (size_t i = 0; i < s->n_users; i++) {
        struct aissim_user *u = &s->users[i];

        if (strcmp(u->username, user) != 0)
            continue;
        if ((copy = strdup(pwd)) == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
        sodium_memzero(u->password, strlen(u->password));
        free(u->password);
        u->password = copy;
        return MLC_OK;
    }
    return mlc_err_set(e, MLC_ENOTFOUND, "no user %s", user);
}

/* ---- tokens ---------------------------------------------------------------- */

static void token_free(struct aissim_token *t)
{
    free(t->token);
    free(t->device);
    free(t->environment);
    free(t->role);
}

static void token_drop(struct aissim *s, size_t i)
{
    aissim_rsets_drop(s, s->tokens[i].token);
    token_free(&s->tokens[i]);
    s->tokens[i] = s->tokens[--s->n_tokens];
}

void aissim_sessions_clear(struct aissim *s)
{
    aissim_rsets_drop(s, NULL);
    for (size_t i = 0; i < s->n_tokens; i++)
        token_free(&s->tokens[i]);
    s->n_tokens = 0;
}

static bool expired(const struct aissim *s, const struct aissim_token *t)
{
    int64_t now = aissim_now(s);

    return now - t->last_used > s->set.session_timeout_s ||
           now - t->created > s->set.time_to_live_s;
}

static int credentials(const struct httpd_request *rq, const json_t *body, char *user,
                       size_t ucap, char *pwd, size_t pcap);
static int token_add(struct aissim *s, size_t user, const char *device, const char *env,
                     const char *role, struct aissim_token **out);
static bool listed(const json_t *list, const char *v);

void aissim_sessions_end_temporary(struct aissim *s)
{
    for (size_t i = s->n_tokens; i-- > 0;)
        if (s->tokens[i].temporary)
            token_drop(s, i);
}

/* Index of the user whose credentials, environment and role match; -1. */
static long check_user(struct aissim *s, const char *user, const char *pwd, const char *env,
                       const char *role)
{
    for (size_t i = 0; i < s->n_users; i++) {
        const struct aissim_user *u = &s->users[i];

        if (strcmp(u->username, user) == 0)
            return strcmp(u->password, pwd) == 0 && listed(u->environments, env) &&
                           listed(u->roles, role)
                       ? (long)i
                       : -1;
    }
    return -1;
}

static const char *pick(const json_t *body, const char *key, const struct httpd_request *rq,
                        const char *header, const char *def)
{
    const char *v = json_string_value(json_object_get(body, key));

    if (v == NULL)
        v = httpd_req_header(rq, header);
    return v != NULL && v[0] != '\0' ? v : def;
}

/* A stateless call: a temporary session for this request only. */
static struct aissim_token *temp_session(struct aissim *s, const struct httpd_request *rq,
                                         const json_t *body)
{
    const char *env = pick(body, "environment", rq, "jde-AIS-Auth-Environment", s->set.environment);
    const char *role = pick(body, "role", rq, "jde-AIS-Auth-Role", s->set.role);
    struct aissim_token *t = NULL;
    char user[128], pwd[256];
    long ui;

    if (credentials(rq, body, user, sizeof(user), pwd, sizeof(pwd)) != MLC_OK)
        return NULL;
    ui = check_user(s, user, pwd, env, role);
    sodium_memzero(pwd, sizeof(pwd));
    if (ui < 0 || token_add(s, (size_t)ui, "temporary", env, role, &t) != MLC_OK)
        return NULL;
    t->temporary = true;
    return t;
}

static const char *req_device(const struct httpd_request *rq, const json_t *body)
{
    const char *d = httpd_req_header(rq, "jde-AIS-Auth-Device");

    if (d == NULL)
        d = json_string_value(json_object_get(body, "deviceName"));
    return d;
}

struct aissim_token *aissim_auth(struct aissim *s, const struct httpd_request *rq,
                                 const json_t *body, bool touch, bool link)
{
    const char *tok = httpd_req_header(rq, "jde-AIS-Auth");
    const char *dev = req_device(rq, body);

    if (tok == NULL)
        tok = json_string_value(json_object_get(body, "token"));
    if (tok == NULL)
        tok = httpd_req_query(rq, "token");
    if (tok == NULL)
        return link ? NULL : temp_session(s, rq, body);
    for (size_t i = 0; i < s->n_tokens; i++) {
        struct aissim_token *t = &s->tokens[i];

        if (strcmp(t->token, tok) != 0)
            continue;
        if (expired(s, t)) {
            token_drop(s, i);
            return NULL;
        }
        if (strncmp(t->device, "ip:", 3) == 0) {
            if (strcmp(t->device + 3, httpd_req_client(rq)) != 0)
                return NULL;
        } else if (dev != NULL ? strcmp(dev, t->device) != 0 : !link) {
            return NULL;
        }
        if (touch)
            t->last_used = aissim_now(s);
        return t;
    }
    return NULL;
}

/* "MDE" / "DME" / "EMD" and the separator from a simpleDateFormat. */
static void date_format_of(const char *sdf, char fmt[4], char sep[2])
{
    size_t n = 0;

    sep[0] = '\0';
    sep[1] = '\0';
    for (const char *p = sdf; *p != '\0' && n < 3; p++) {
        char c = *p == 'M' ? 'M' : *p == 'd' ? 'D' : *p == 'y' ? 'E' : 0;

        if (c == 0) {
            if (sep[0] == '\0')
                sep[0] = *p;
            continue;
        }
        if (n == 0 || fmt[n - 1] != c)
            fmt[n++] = c;
    }
    fmt[n] = '\0';
}

static bool listed(const json_t *list, const char *v)
{
    size_t i;
    json_t *x;

    if (json_array_size(list) == 0)
        return true;
    json_array_foreach(list, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
            return true;
    return false;
}

/* username/password from the body, else from Basic authorization. */
static int credentials(const struct httpd_request *rq, const json_t *body, char *user,
                       size_t ucap, char *pwd, size_t pcap)
{
    const char *u = json_string_value(json_object_get(body, "username"));
    const char *p = json_string_value(json_object_get(body, "password"));
    const char *auth = httpd_req_header(rq, "Authorization");
    unsigned char dec[512];
    size_t dl = 0;
    char *colon;

    if (u != NULL && p != NULL) {
        snprintf(user, ucap, "%s", u);
        snprintf(pwd, pcap, "%s", p);
        return MLC_OK;
    }
    if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
        return MLC_EAUTH;
    if (sodium_base642bin(dec, sizeof(dec) - 1, auth + 6, strlen(auth + 6), NULL, &dl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return MLC_EAUTH;
    dec[dl] = '\0';
    colon = strchr((char *)dec, ':');
    if (colon == NULL)
        return MLC_EAUTH;
    *colon = '\0';
    snprintf(user, ucap, "%s", (char *)dec);
    snprintf(pwd, pcap, "%s", colon + 1);
    sodium_memzero(dec, sizeof(dec));
    return MLC_OK;
}

static int token_add(struct aissim *s, size_t user, const char *device, const char *env,
                     const char *role, struct aissim_token **out)
{
    unsigned char raw[32];
    char b64[64], tok[80];
    struct aissim_token *t;

    if (s->n_tokens == s->cap_tokens) {
        size_t ncap = s->cap_tokens == 0 ? 16 : s->cap_tokens * 2;
        struct aissim_token *nt = realloc(s->tokens, ncap * sizeof(*nt));

        if (nt == NULL)
            return MLC_ENOMEM;
        s->tokens = nt;
        s->cap_tokens = ncap;
    }
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    /* AIS tokens start with a short digit prefix and carry '+', '/', '='. */
    snprintf(tok, sizeof(tok), "044%s", b64);
    t = &s->tokens[s->n_tokens];
    memset(t, 0, sizeof(*t));
    t->token = strdup(tok);
    t->device = strdup(device);
    t->environment = strdup(env);
    t->role = strdup(role);
    t->user = user;
    t->created = t->last_used = aissim_now(s);
    if (t->token == NULL || t->device == NULL || t->environment == NULL || t->role == NULL) {
        token_free(t);
        return MLC_ENOMEM;
    }
    s->n_tokens++;
    *out = t;
    return MLC_OK;
}

static json_t *login_json(const struct aissim *s, const struct aissim_token *t)
{
    const struct aissim_user *u = &s->users[t->user];
    char fmt[4], sep[2], cookie[48];

    date_format_of(u->sdf, fmt, sep);
    aissim_random_hex(cookie, 16);
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s},"
                     " s:b, s:b, s:s}",
                     "username", u->username, "environment", t->environment, "role", t->role,
                     "jasserver", s->set.jas_server, "userInfo", "token", t->token,
                     "dateFormat", fmt, "dateSeperator", sep, "simpleDateFormat", u->sdf,
                     "timeFormat", "24", "decimalFormat", ".", "addressNumber",
                     (json_int_t)u->an8, "timeZoneOffset", u->tz_offset, "dstRuleKey", "",
                     "userAuthorized", 0, "adminAuthorized", 0, "aisSessionCookie", cookie);
}

void aissim_ep_tokenrequest(struct aissim *s, const struct httpd_request *rq,
                            struct httpd_response *rs)
{
    json_t *body = aissim_body_json(s, rq, rs);
    char user[128], pwd[256], devbuf[64];
    const char *dev, *env, *role;
    struct aissim_token *t = NULL;
    long ui;

    pwd[0] = '\0';
    if (body == NULL)
        return;
    dev = req_device(rq, body);
    env = pick(body, "environment", rq, "jde-AIS-Auth-Environment", s->set.environment);
    role = pick(body, "role", rq, "jde-AIS-Auth-Role", s->set.role);
    if (credentials(rq, body, user, sizeof(user), pwd, sizeof(pwd)) != MLC_OK)
        goto denied;
    ui = check_user(s, user, pwd, env, role);
    if (ui < 0)
        goto denied;
    if (dev == NULL || dev[0] == '\0') {
        snprintf(devbuf, sizeof(devbuf), "ip:%s", httpd_req_client(rq));
        dev = devbuf;
    }
    if (token_add(s, (size_t)ui, dev, env, role, &t) != MLC_OK)
        aissim_reply_error(s, rs, 500, "out of memory", "java.lang.OutOfMemoryError");
    else
        aissim_reply(rs, 200, login_json(s, t));
    goto out;
denied:
    aissim_reply_error(s, rs, 403, "Authorization Failure", "java.lang.Exception");
out:
    sodium_memzero(pwd, sizeof(pwd));
    json_decref(body);
}

void aissim_ep_validate(struct aissim *s, const struct httpd_request *rq,
                        struct httpd_response *rs)
{
    json_t *body = aissim_body_json(s, rq, rs);
    struct aissim_token *t;

    if (body == NULL)
        return;
    t = aissim_auth(s, rq, body, json_is_true(json_object_get(body, "touch")), false);
    if (t == NULL || t->temporary)
        aissim_reply_bad_token(s, rs);
    else
        aissim_reply(rs, 200, json_pack("{s:b}", "isValidSession", 1));
    json_decref(body);
}

void aissim_ep_logout(struct aissim *s, const struct httpd_request *rq,
                      struct httpd_response *rs)
{
    json_t *body = aissim_body_json(s, rq, rs);
    struct aissim_token *t;

    if (body == NULL)
        return;
    t = aissim_auth(s, rq, body, false, false);
    if (t == NULL || t->temporary) {
        aissim_reply_bad_token(s, rs);
    } else {
        token_drop(s, (size_t)(t - s->tokens));
        aissim_reply(rs, 200, json_pack("{s:s}", "message", "Logout successful"));
    }
    json_decref(body);
}

static const char *const capabilities[][2] = {
    { "grid", "Grid actions on forms" },
    { "processingOption", "Processing option values" },
    { "dataservice", "Data service: table and view browse" },
    { "dataServiceAggregation", "Data service aggregation and ordering" },
    { "complexQuery", "Nested AND/OR queries in data requests" },
    { "outputType", "GRID_DATA output type" },
    { "orchestrator", "Orchestration calls" },
    { "validate", "Token validation with touch" },
};

void aissim_ep_defaultconfig(struct aissim *s, const struct httpd_request *rq,
                             struct httpd_response *rs)
{
    const char *req = httpd_req_query(rq, "requiredCapabilities");
    json_t *list = json_array();
    char missing[256] = "", item[64], st[24], ttl[24];
    size_t n = sizeof(capabilities) / sizeof(capabilities[0]);

    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name",
                                              capabilities[i][0], "shortDescription",
                                              capabilities[i][1], "longDescription",
                                              capabilities[i][1], "asOfRelease", "9.2.1.2"));
    /* Each required capability the simulator lacks is listed back. */
    for (const char *p = req; p != NULL && *p != '\0';) {
        const char *c = strchr(p, ',');
        size_t l = c != NULL ? (size_t)(c - p) : strlen(p);
        bool have = false;

        snprintf(item, sizeof(item), "%.*s", (int)(l < 63 ? l : 63), p);
        for (size_t i = 0; i < n; i++)
            have = have || strcmp(capabilities[i][0], item) == 0;
        if (!have && item[0] != '\0')
            snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] != '\0' ? "," : "", item);
        p = c != NULL ? c + 1 : NULL;
    }
    snprintf(st, sizeof(st), "%lld", (long long)(s->set.session_timeout_s / 60));
    snprintf(ttl, sizeof(ttl), "%lld", (long long)(s->set.time_to_live_s / 60));
    /* sessionTimeout / timeToLive are minutes, as rest.ini gives them. */
    aissim_reply(rs, 200,
                 json_pack("{s:s, s:o, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                           " s:b, s:b, s:b, s:b}",
                           "aisVersion", s->set.aisversion, "capabilityList", list,
                           "requiredCapabilityMissing", missing[0] != '\0', "defaultCachingOn", 0,
                           "defaultEnvironment", s->set.environment, "defaultRole", s->set.role,
                           "defaultJasServer", s->set.jas_server, "jasHost", "jas.sim",
                           "jasPort", "8080", "jasProtocol", "http", "sessionTimeout",
                           st, "timeToLive", ttl, "keepJasSessionOpen", 1,
                           "allowBasicAuth", 1, "allowUserPassword", 1, "ssoAllowed", 0));
}
