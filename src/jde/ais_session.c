/*
 * ais_session: AIS login, token cache with single-flight re-login, and the
 * authenticated call every other AIS module goes through.
 */
#include "jde/ais_session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/health.h"
#include "core/jdate.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "net/httpc.h"

#define AIS_TIMEOUT_DEFAULT_MS 120000L
#define AIS_POOL_DEFAULT 16u
#define AIS_URL_MAX 8192

/* A token and its generation; refs counts the session's hold (while it is
 * current) and every call in flight that uses it. */
struct ais_token {
    struct mlc_secret *sec;
    uint64_t           gen;
    unsigned           refs;
};

struct ais_session {
    pthread_mutex_t    mu;      /* guards everything below but the pool */
    pthread_cond_t     cv;      /* signalled when a login ends */
    struct cfg_jde     cfg;     /* deep copy */
    struct mlc_secret *password;
    struct ais_session_opts o;

    struct ais_token  *tok;     /* current token, NULL when none */
    uint64_t           gen;     /* generation of the newest token */
    bool               logging_in;
    uint64_t           login_seq;     /* logins finished */
    uint64_t           logins;        /* logins started */
    int                login_rc;      /* result of the last login */
    char               login_msg[MLC_ERR_MSG_MAX];
    int64_t            login_failed_ms;
    int64_t            login_retry_wall; /* Unix ms of the next login allowed */
    bool               login_refused; /* AIS refused it: the long back-off */
    struct ais_login_info info;

    pthread_mutex_t    pool_mu;
    struct httpc     **pool;
    size_t             n_pool;
};

/* ---- small helpers -------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The back-off's clock: the session's (tests) or the monotonic one. */
static int64_t now_ms(const struct ais_session *s)
{
    return s->o.clock_ms != NULL ? s->o.clock_ms(s->o.clock_ctx) : mono_ms();
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dup_opt(const char *in, char **out)
{
    *out = NULL;
    if (in == NULL)
        return MLC_OK;
    *out = strdup(in);
    return *out != NULL ? MLC_OK : MLC_ENOMEM;
}

static void cfg_copy_free(struct cfg_jde *c)
{
    free(c->ais_base_url);
    free(c->environment);
    free(c->role);
    free(c->device_name);
    free(c->user);
    free(c->password_ref);
    free(c->ca_file);
    free(c->orch.add_journal_entry);
    free(c->orch.add_voucher);
    free(c->orch.add_customer);
    free(c->orch.update_customer);
    for (size_t i = 0; i < c->n_inputs; i++) {
        free(c->inputs[i].match);
        free(c->inputs[i].value);
    }
    free(c->inputs);
    memset(c, 0, sizeof(*c));
}

static int cfg_copy(const struct cfg_jde *in, struct cfg_jde *out)
{
    int rc = MLC_OK;

    memset(out, 0, sizeof(*out));
    out->timeout_ms = in->timeout_ms;
    out->login_backoff_s = in->login_backoff_s;
    if (dup_opt(in->ais_base_url, &out->ais_base_url) || dup_opt(in->environment, &out->environment) ||
        dup_opt(in->role, &out->role) ||
        dup_opt(in->device_name != NULL ? in->device_name : AIS_DEVICE_DEFAULT, &out->device_name) ||
        dup_opt(in->user, &out->user) || dup_opt(in->password_ref, &out->password_ref) ||
        dup_opt(in->ca_file, &out->ca_file) ||
        dup_opt(in->orch.add_journal_entry, &out->orch.add_journal_entry) ||
        dup_opt(in->orch.add_voucher, &out->orch.add_voucher) ||
        dup_opt(in->orch.add_customer, &out->orch.add_customer) ||
        dup_opt(in->orch.update_customer, &out->orch.update_customer))
        rc = MLC_ENOMEM;
    if (rc == MLC_OK && in->n_inputs > 0) {
        out->inputs = calloc(in->n_inputs, sizeof(*out->inputs));
        if (out->inputs == NULL)
            rc = MLC_ENOMEM;
        for (size_t i = 0; rc == MLC_OK && i < in->n_inputs; i++) {
            out->n_inputs++;
            if (dup_opt(in->inputs[i].match, &out->inputs[i].match) ||
                dup_opt(in->inputs[i].value, &out->inputs[i].value))
                rc = MLC_ENOMEM;
        }
    }
    if (rc != MLC_OK)
        cfg_copy_free(out);
    return rc;
}

static int copy_secret_fn(const char *bytes, size_t len, void *ctx)
{
    return secret_new(bytes, len, (struct mlc_secret **)ctx, NULL);
}

/* ---- JSON text holding secrets --------------------------------------------- */

/* Appends s as a JSON string; buf has room for 6 bytes per input byte + 2. */
static size_t put_json_str(char *buf, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;

    buf[w++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            buf[w++] = '\\';
            buf[w++] = (char)c;
        } else if (c < 0x20) {
            memcpy(buf + w, "\\u00", 4);
            buf[w + 4] = hex[c >> 4];
            buf[w + 5] = hex[c & 15];
            w += 6;
        } else {
            buf[w++] = (char)c;
        }
    }
    buf[w++] = '"';
    return w;
}

/* A JSON object text built inside secret_use: {"<key>":"<secret>"<tail>}
 * where tail is literal JSON (",\"touch\":true" or the login fields). The
 * buffer is wiped and freed by the caller (body_free). */
struct secret_body {
    const char *key;
    const char *tail;
    char       *text;
    size_t      len;
};

static int secret_body_fn(const char *bytes, size_t len, void *ctx)
{
    struct secret_body *b = ctx;
    size_t cap = strlen(b->key) + strlen(b->tail) + 6 * len + 16, w = 0;

    b->text = malloc(cap);
    if (b->text == NULL)
        return MLC_ENOMEM;
    b->text[w++] = '{';
    w += put_json_str(b->text + w, b->key, strlen(b->key));
    b->text[w++] = ':';
    w += put_json_str(b->text + w, bytes, len);
    memcpy(b->text + w, b->tail, strlen(b->tail));
    w += strlen(b->tail);
    b->text[w++] = '}';
    b->text[w] = '\0';
    b->len = w;
    return MLC_OK;
}

static void body_free(struct secret_body *b)
{
    if (b->text != NULL) {
        secret_wipe(b->text, b->len);
        free(b->text);
    }
    b->text = NULL;
}

/* ,"k":"v" appended to buf at *w (buf sized by the caller). */
static void put_field(char *buf, size_t *w, const char *k, const char *v)
{
    buf[(*w)++] = ',';
    *w += put_json_str(buf + *w, k, strlen(k));
    buf[(*w)++] = ':';
    *w += put_json_str(buf + *w, v, strlen(v));
}

/* ---- HTTP handle pool ----------------------------------------------------------- */

static int pool_get(struct ais_session *s, struct httpc **out, struct mlc_err *e)
{
    struct httpc_opts ho = { 0 };

    pthread_mutex_lock(&s->pool_mu);
    if (s->n_pool > 0) {
        *out = s->pool[--s->n_pool];
        pthread_mutex_unlock(&s->pool_mu);
        return MLC_OK;
    }
    pthread_mutex_unlock(&s->pool_mu);
    ho.timeout_ms = s->o.timeout_ms;
    ho.connect_timeout_ms = s->o.connect_timeout_ms;
    ho.ca_file = s->cfg.ca_file;
    return httpc_new(&ho, out, e);
}

static void pool_put(struct ais_session *s, struct httpc *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&s->pool_mu);
    if (s->n_pool < s->o.pool_max) {
        s->pool[s->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    httpc_free(h);
}

/* ---- one HTTP exchange ------------------------------------------------------------ */

/* True when an answer says the session token is no longer valid. */
static bool token_refused(int status, const char *body)
{
    if (status == 444)
        return true;
    if ((status != 403 && status != 500) || body == NULL)
        return false;
    return strcasestr(body, "invalid token") != NULL ||
           strcasestr(body, "token is invalid") != NULL ||
           strcasestr(body, "token invalid") != NULL ||
           strcasestr(body, "token has expired") != NULL;
}

/* Reads stop retrying on answers a retry cannot fix. */
static enum httpc_hook_action read_hook(void *ctx, const struct httpc_hook_info *in,
                                        long *delay_ms)
{
    (void)ctx;
    (void)delay_ms;
    if (in->event != HTTPC_HOOK_AFTER_ATTEMPT || in->resp == NULL || in->resp->status != 500)
        return HTTPC_HOOK_DEFAULT;
    if (token_refused(500, in->resp->body) ||
        (in->resp->body != NULL && strstr(in->resp->body, "JAS_MSG347") != NULL))
        return HTTPC_HOOK_STOP;
    return HTTPC_HOOK_DEFAULT;
}

struct attempt_out {
    bool token_bad;
};

/* "jde.unreachable": no answer at all, or a gateway's 502/503/504 (the AIS
 * server behind it does not answer); any other answer clears it. */
static void note_reach(struct ais_session *s, int rc, int status, const struct mlc_err *e)
{
    if (s->o.health == NULL)
        return;
    if (rc == MLC_ETIMEOUT || rc == MLC_EIO)
        health_set(s->o.health, HEALTH_JDE_DOWN, "AIS did not answer: %s",
                   e != NULL && e->msg[0] != '\0' ? e->msg : mlc_strerror(rc));
    else if (rc == MLC_OK && (status == 502 || status == 503 || status == 504))
        health_set(s->o.health, HEALTH_JDE_DOWN, "AIS behind a gateway did not answer "
                   "(HTTP %d)", status);
    else if (rc == MLC_OK)
        health_clear(s->o.health, HEALTH_JDE_DOWN);
}

static int attempt(struct ais_session *s, const struct ais_token *tok,
                   const struct ais_request *rq, struct ais_response *out,
                   struct attempt_out *ao, struct mlc_err *e)
{
    struct httpc_header hdrs[3];
    struct httpc_secret_header sh = { "jde-AIS-Auth", tok != NULL ? tok->sec : NULL };
    struct httpc_request hr = { 0 };
    struct httpc_response resp = { 0 };
    struct httpc_retry pol = { 0 };
    struct httpc *h = NULL;
    size_t nh = 0;
    char *url;
    int rc;

    ao->token_bad = false;
    url = malloc(AIS_URL_MAX);
    if (url == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(url, AIS_URL_MAX, "%s%s", s->cfg.ais_base_url, rq->path);
    hdrs[nh++] = (struct httpc_header){ "Accept", "application/json" };
    if (rq->body != NULL)
        hdrs[nh++] = (struct httpc_header){ "Content-Type", "application/json" };
    if (tok != NULL)
        hdrs[nh++] = (struct httpc_header){ "jde-AIS-Auth-Device", s->cfg.device_name };
    hr.method = rq->method;
    hr.url = url;
    hr.headers = hdrs;
    hr.n_headers = nh;
    hr.secret_headers = tok != NULL ? &sh : NULL;
    hr.n_secret_headers = tok != NULL ? 1 : 0;
    hr.body = rq->body;
    hr.body_len = rq->body_len;
    hr.timeout_ms = rq->timeout_ms;
    hr.idempotent = rq->kind == AIS_CALL_READ || rq->kind == AIS_CALL_NOAUTH;
    rc = pool_get(s, &h, e);
    if (rc != MLC_OK)
        goto out;
    if (hr.idempotent) {
        pol.max_attempts = s->o.read_attempts;
        pol.base_delay_ms = s->o.retry_base_ms;
        pol.max_total_ms = s->o.timeout_ms * 2;
        pol.hook = read_hook;
        rc = httpc_do_retry(h, &hr, &pol, &resp, e);
    } else if (rq->send_by_ms > 0 && mono_ms() > rq->send_by_ms) {
        /* Too late: the row's settle deadline assumes the send came
         * sooner (posting rules §3). Nothing leaves; the caller starts over. */
        out->not_sent = true;
        rc = mlc_err_set(e, MLC_ETIMEOUT, "%s %s not sent: %lld ms past its send window",
                         rq->method, rq->path, (long long)(mono_ms() - rq->send_by_ms));
    } else {
        rc = httpc_do(h, &hr, &resp, e);
    }
    pool_put(s, h);
    note_reach(s, rc, resp.status, e);
    if (rc != MLC_OK) {
        if (rq->kind == AIS_CALL_WRITE && resp.status == 0 && !out->not_sent) {
            out->outcome_unknown = true;
            mlc_err_wrap(e, "outcome unknown, the write may have been committed");
        }
        goto out;
    }
    out->status = resp.status;
    ao->token_bad = tok != NULL && token_refused(resp.status, resp.body);
    if (resp.body_len > 0)
        jx_loads(resp.body, resp.body_len, 0, &out->json, NULL);
out:
    /* Bodies may carry tokens (next links, login): wipe before freeing. */
    if (resp.body != NULL)
        secret_wipe(resp.body, resp.body_len);
    httpc_response_clear(&resp);
    free(url);
    return rc;
}

/* ---- tokens ------------------------------------------------------------------------ */

static void token_unref_locked(struct ais_token *t)
{
    if (t != NULL && --t->refs == 0) {
        secret_free(t->sec);
        free(t);
    }
}

static void token_put(struct ais_session *s, struct ais_token *t)
{
    pthread_mutex_lock(&s->mu);
    token_unref_locked(t);
    pthread_mutex_unlock(&s->mu);
}

/* Drops the current token when it is still generation gen. */
static void token_drop_gen(struct ais_session *s, uint64_t gen)
{
    pthread_mutex_lock(&s->mu);
    if (s->tok != NULL && s->tok->gen == gen) {
        token_unref_locked(s->tok);
        s->tok = NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

const char *ais_error_text(const json_t *body)
{
    static const char *const keys[] = { "message", "jde__simpleMessage", "errorText" };
    const char *v;
    json_t *a, *x;

    if (!json_is_object(body))
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        v = json_string_value(json_object_get(body, keys[i]));
        if (v != NULL && v[0] != '\0')
            return v;
    }
    a = json_object_get(body, "sysErrors");
    if (!json_is_array(a) || json_array_size(a) == 0)
        a = json_object_get(body, "errors");
    x = json_array_get(a, 0);
    if (json_is_object(x)) {
        v = json_string_value(json_object_get(x, "TITLE"));
        if (v == NULL || v[0] == '\0')
            v = json_string_value(json_object_get(x, "DESC"));
        if (v == NULL || v[0] == '\0')
            v = json_string_value(json_object_get(x, "message"));
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

static void copy_str(char *dst, size_t cap, const json_t *o, const char *path)
{
    struct jx_ctx cx;
    const char *v = NULL;

    jx_ctx_init(&cx, NULL, NULL);
    jx_opt_str(&cx, o, path, "", &v);
    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

/* Takes userInfo.token out of a login answer into a secret, wiping the
 * copy jansson holds. */
static int take_token(json_t *body, struct mlc_secret **out)
{
    json_t *t = json_object_get(json_object_get(body, "userInfo"), "token");
    const char *v = json_string_value(t);
    size_t n = json_string_length(t);
    int rc;

    if (v == NULL || n == 0)
        return MLC_EPROTO;
    rc = secret_new(v, n, out, NULL);
    secret_wipe((char *)v, n);
    return rc;
}

int ais_login_decode(json_t *body, const char *user, struct mlc_secret **tok,
                     struct ais_login_info *info)
{
    struct jx_ctx cx;

    *tok = NULL;
    if (take_token(body, tok) != MLC_OK)
        return MLC_EPROTO;
    memset(info, 0, sizeof(*info));
    copy_str(info->username, sizeof(info->username), body, "username");
    copy_str(info->environment, sizeof(info->environment), body, "environment");
    copy_str(info->role, sizeof(info->role), body, "role");
    copy_str(info->jasserver, sizeof(info->jasserver), body, "jasserver");
    copy_str(info->sdf, sizeof(info->sdf), body, "userInfo.simpleDateFormat");
    copy_str(info->tz_offset, sizeof(info->tz_offset), body, "userInfo.timeZoneOffset");
    jx_ctx_init(&cx, NULL, NULL);
    jx_opt_i64(&cx, body, "userInfo.addressNumber", 0, &info->address_number);
    if (info->sdf[0] == '\0') {
        /* Forms take dates in this format: AIS's documented default. */
        snprintf(info->sdf, sizeof(info->sdf), "MM/dd/yyyy");
        log_warn("ais", "login answer has no simpleDateFormat, assuming MM/dd/yyyy",
                 LF_STR("user", user));
    }
    return MLC_OK;
}

/* The login exchange itself; no lock held. */
static int login_http(struct ais_session *s, struct mlc_secret **tok,
                      struct ais_login_info *info, struct mlc_err *e)
{
    const char *user = s->cfg.user;
    size_t cap = 6 * (strlen(user) + strlen(s->cfg.device_name) +
                      (s->cfg.environment ? strlen(s->cfg.environment) : 0) +
                      (s->cfg.role ? strlen(s->cfg.role) : 0)) + 128;
    struct secret_body sb = { "password", NULL, NULL, 0 };
    struct ais_request rq = { "POST", "/jderest/v2/tokenrequest", NULL, 0, AIS_CALL_NOAUTH, 0, 0 };
    struct ais_response resp = { 0 };
    struct attempt_out ao;
    char *tail;
    size_t w = 0;
    int rc;

    tail = malloc(cap);
    if (tail == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    put_field(tail, &w, "username", user);
    put_field(tail, &w, "deviceName", s->cfg.device_name);
    if (s->cfg.environment != NULL && s->cfg.environment[0] != '\0')
        put_field(tail, &w, "environment", s->cfg.environment);
    if (s->cfg.role != NULL && s->cfg.role[0] != '\0')
        put_field(tail, &w, "role", s->cfg.role);
    tail[w] = '\0';
    sb.tail = tail;
    rc = secret_use(s->password, secret_body_fn, &sb);
    free(tail);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "AIS login for user %s: out of memory", user);
    rq.body = sb.text;
    rq.body_len = sb.len;
    rc = attempt(s, NULL, &rq, &resp, &ao, e);
    body_free(&sb);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "AIS login failed for user %s", user);
        goto out;
    }
    if (resp.status != 200) {
        const char *msg = ais_error_text(resp.json);
        /* A 4xx refuses what we sent; the same request cannot succeed. */
        bool refused = resp.status >= 400 && resp.status <= 499 && resp.status != 408 &&
                       resp.status != 429;

        rc = mlc_err_set(e, refused ? MLC_EAUTH : MLC_EIO, "AIS login failed for user %s: "
                         "%d %s", user, resp.status, msg != NULL ? msg : "(no message)");
        goto out;
    }
    if (ais_login_decode(resp.json, user, tok, info) != MLC_OK) {
        rc = mlc_err_set(e, MLC_EPROTO, "AIS login for user %s: the answer has no "
                         "userInfo.token", user);
        goto out;
    }
out:
    ais_response_clear(&resp);
    return rc;
}

/* How long logins wait after the last failure; mu held. */
static long backoff_locked(const struct ais_session *s)
{
    long w = s->login_refused ? s->o.login_backoff_ms : s->o.login_cooldown_ms;

    return w > 0 ? w : 0;
}

/* Milliseconds before the next login may start (0: now); mu held. */
static int64_t retry_in_locked(const struct ais_session *s)
{
    int64_t left;

    if (s->login_rc == MLC_OK || s->login_seq == 0)
        return 0;
    left = s->login_failed_ms + backoff_locked(s) - now_ms(s);
    return left > 0 ? left : 0;
}

/* The last failure, with when the next login may go, into e (and
 * re-reported as "jde.login": this caller is turned away because of it). */
static int cached_failure_locked(struct ais_session *s, struct mlc_err *e)
{
    int64_t left = retry_in_locked(s);
    char at[JDATE_ISO8601_SIZE], why[MLC_ERR_MSG_MAX];

    /* The reason names the next attempt by its time only, so that every
     * caller turned away in one window reports the same reason. */
    if (jdate_iso8601_format(s->login_retry_wall / 1000, at, sizeof(at), NULL) != MLC_OK)
        snprintf(at, sizeof(at), "?");
    if (left <= 0 || backoff_locked(s) == 0)
        snprintf(why, sizeof(why), "%s", s->login_msg);
    else
        snprintf(why, sizeof(why), "%s; logins %s: next attempt after %s", s->login_msg,
                 s->login_refused ? "back off after a refusal" : "pause", at);
    if (left > 0)
        mlc_err_set(e, s->login_rc, "%s (in %lld s)", why, (long long)((left + 999) / 1000));
    else
        mlc_err_set(e, s->login_rc, "%s", why);
    health_set(s->o.health, HEALTH_JDE_LOGIN, "%s", why);
    return s->login_rc;
}

/* Runs one login as the leader. Called and returns with s->mu held. */
static int lead_login_locked(struct ais_session *s, struct mlc_err *e)
{
    struct ais_login_info info;
    struct mlc_secret *sec = NULL;
    struct ais_token *t = NULL;
    struct mlc_err le = { 0 };
    int rc;

    s->logging_in = true;
    s->logins++;
    pthread_mutex_unlock(&s->mu);
    rc = login_http(s, &sec, &info, &le);
    if (rc == MLC_OK) {
        t = calloc(1, sizeof(*t));
        if (t == NULL) {
            secret_free(sec);
            rc = mlc_err_set(&le, MLC_ENOMEM, "out of memory");
        }
    }
    pthread_mutex_lock(&s->mu);
    s->logging_in = false;
    s->login_seq++;
    s->login_rc = rc;
    snprintf(s->login_msg, sizeof(s->login_msg), "%s", le.msg);
    if (rc == MLC_OK) {
        t->sec = sec;
        t->gen = ++s->gen;
        t->refs = 1;
        s->tok = t;
        info.generation = t->gen;
        s->info = info;
        log_info("ais", "logged in", LF_STR("user", s->cfg.user), LF_STR("env", info.environment),
                 LF_UINT("generation", t->gen));
        health_clear(s->o.health, HEALTH_JDE_LOGIN);
    } else {
        char at[JDATE_ISO8601_SIZE];
        long wait;

        s->login_failed_ms = now_ms(s);
        s->login_refused = rc == MLC_EAUTH;
        wait = backoff_locked(s);
        s->login_retry_wall = wall_ms() + wait;
        if (jdate_iso8601_format(s->login_retry_wall / 1000, at, sizeof(at), NULL) != MLC_OK)
            snprintf(at, sizeof(at), "?");
        if (s->login_refused)
            log_warn("ais", "login refused: logins back off", LF_ERR(&le),
                     LF_INT("next_attempt_in_s", (wait + 999) / 1000),
                     LF_STR("next_attempt_at", at), LF_STR("setting", "jde.login_backoff_s"));
        else
            log_warn("ais", "login failed: logins pause", LF_ERR(&le),
                     LF_INT("next_attempt_in_s", (wait + 999) / 1000),
                     LF_STR("next_attempt_at", at));
        cached_failure_locked(s, e);
    }
    pthread_cond_broadcast(&s->cv);
    return rc;
}

/* A reference to a current token, logging in (single-flight) when none. */
static int token_get(struct ais_session *s, struct ais_token **out, struct mlc_err *e)
{
    int rc = MLC_OK;

    *out = NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->tok != NULL) {
            s->tok->refs++;
            *out = s->tok;
            break;
        }
        if (s->logging_in) {
            uint64_t seq = s->login_seq;

            while (s->logging_in)
                pthread_cond_wait(&s->cv, &s->mu);
            if (s->tok == NULL && s->login_seq != seq && s->login_rc != MLC_OK) {
                rc = cached_failure_locked(s, e);
                break;
            }
            continue;
        }
        if (retry_in_locked(s) > 0) {
            log_debug("ais", "login not tried: backing off", LF_STR("user", s->cfg.user));
            rc = cached_failure_locked(s, e);
            break;
        }
        rc = lead_login_locked(s, e);
        if (rc != MLC_OK)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- public API ---------------------------------------------------------------------- */

int ais_session_new(const struct cfg_jde *cfg, const struct mlc_secret *password,
                    const struct ais_session_opts *o, struct ais_session **out,
                    struct mlc_err *e)
{
    struct ais_session *s;
    int rc;

    *out = NULL;
    if (cfg == NULL || cfg->ais_base_url == NULL || cfg->user == NULL || password == NULL)
        return mlc_err_set(e, MLC_EINVAL, "AIS session: base URL, user and password are required");
    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "AIS session: libsodium init failed");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    if (o != NULL)
        s->o = *o;
    if (s->o.timeout_ms <= 0)
        s->o.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : AIS_TIMEOUT_DEFAULT_MS;
    if (s->o.read_attempts == 0)
        s->o.read_attempts = 3;
    if (s->o.retry_base_ms <= 0)
        s->o.retry_base_ms = 500;
    if (s->o.login_cooldown_ms == 0)
        s->o.login_cooldown_ms = AIS_LOGIN_COOLDOWN_MS;
    if (s->o.login_backoff_ms == 0)
        s->o.login_backoff_ms = AIS_LOGIN_BACKOFF_MS;
    if (s->o.pool_max == 0)
        s->o.pool_max = AIS_POOL_DEFAULT;
    s->pool = calloc(s->o.pool_max, sizeof(*s->pool));
    if (s->pool == NULL || cfg_copy(cfg, &s->cfg) != MLC_OK) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto fail;
    }
    rc = secret_use(password, copy_secret_fn, &s->password);
    if (rc != MLC_OK) {
        rc = mlc_err_set(e, rc, "AIS session: cannot copy the password");
        goto fail;
    }
    *out = s;
    return MLC_OK;
fail:
    ais_session_free(s);
    return rc;
}

void ais_session_free(struct ais_session *s)
{
    if (s == NULL)
        return;
    if (s->tok != NULL)
        token_unref_locked(s->tok);
    for (size_t i = 0; i < s->n_pool; i++)
        httpc_free(s->pool[i]);
    free(s->pool);
    secret_free(s->password);
    cfg_copy_free(&s->cfg);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int ais_session_login(struct ais_session *s, struct mlc_err *e)
{
    struct ais_token *t;
    int rc = token_get(s, &t, e);

    if (rc == MLC_OK)
        token_put(s, t);
    return rc;
}

bool ais_session_up(struct ais_session *s)
{
    bool up;

    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->mu);
    up = s->tok != NULL;
    pthread_mutex_unlock(&s->mu);
    return up;
}

void ais_session_info(struct ais_session *s, struct ais_login_info *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->info;
    pthread_mutex_unlock(&s->mu);
}

uint64_t ais_session_login_count(struct ais_session *s)
{
    uint64_t n;

    pthread_mutex_lock(&s->mu);
    n = s->logins;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void ais_session_login_state(struct ais_session *s, struct ais_login_state *out)
{
    int64_t left;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->mu);
    out->failed = s->login_seq > 0 && s->login_rc != MLC_OK;
    out->refused = out->failed && s->login_refused;
    out->logins = s->logins;
    if (out->failed) {
        left = retry_in_locked(s);
        out->retry_in_ms = left;
        out->retry_at_ms = left > 0 ? s->login_retry_wall : 0;
        out->backoff_ms = backoff_locked(s);
        snprintf(out->msg, sizeof(out->msg), "%s", s->login_msg);
    }
    pthread_mutex_unlock(&s->mu);
}

void ais_session_set_health(struct ais_session *s, struct health *h)
{
    s->o.health = h;
}

const struct cfg_jde *ais_session_cfg(const struct ais_session *s)
{
    return &s->cfg;
}

void ais_response_clear(struct ais_response *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

int ais_call(struct ais_session *s, const struct ais_request *rq,
             struct ais_response *out, struct mlc_err *e)
{
    struct attempt_out ao;
    struct ais_token *t;
    uint64_t gen;
    int rc;

    ais_response_clear(out);
    if (rq->kind == AIS_CALL_NOAUTH)
        return attempt(s, NULL, rq, out, &ao, e);
    for (int round = 0;; round++) {
        rc = token_get(s, &t, e);
        if (rc != MLC_OK)
            return rc;
        gen = t->gen;
        rc = attempt(s, t, rq, out, &ao, e);
        token_put(s, t);
        if (rc != MLC_OK || !ao.token_bad)
            return rc;
        log_info("ais", "session token refused, logging in again",
                 LF_INT("status", out->status), LF_UINT("generation", gen));
        token_drop_gen(s, gen);
        if (rq->kind == AIS_CALL_READ && round == 0) {
            ais_response_clear(out);
            continue;
        }
        {
            int st = out->status;

            ais_response_clear(out);
            out->status = st;
            if (round > 0)
                return mlc_err_set(e, MLC_EAUTH, "AIS refused a fresh session token "
                                   "(HTTP %d) for %s", st, rq->method);
            /* Renew now so that the caller's idempotency check and retry use
             * a good token; the call itself is not replayed. */
            rc = ais_session_login(s, e);
            if (rc != MLC_OK)
                return rc;
            out->reauth = true;
            return mlc_err_set(e, MLC_EAUTH, "AIS refused the session token (HTTP %d); "
                               "logged in again, the %s was not replayed", st,
                               rq->kind == AIS_CALL_WRITE ? "write" : "next page");
        }
    }
}

/* POSTs {"token":...<tail>} to path with the current token. */
static int token_body_call(struct ais_session *s, struct ais_token *t, const char *path,
                           const char *tail, struct ais_response *out, bool *bad,
                           struct mlc_err *e)
{
    struct secret_body sb = { "token", tail, NULL, 0 };
    struct ais_request rq = { "POST", path, NULL, 0, AIS_CALL_READ, 0, 0 };
    struct attempt_out ao = { false };
    int rc;

    rc = secret_use(t->sec, secret_body_fn, &sb);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "out of memory");
    rq.body = sb.text;
    rq.body_len = sb.len;
    rc = attempt(s, t, &rq, out, &ao, e);
    body_free(&sb);
    *bad = ao.token_bad;
    return rc;
}

int ais_session_touch(struct ais_session *s, struct mlc_err *e)
{
    struct ais_response r = { 0 };
    struct ais_token *t;
    bool bad = false, valid;
    uint64_t gen;
    int rc;

    rc = token_get(s, &t, e);
    if (rc != MLC_OK)
        return rc;
    gen = t->gen;
    rc = token_body_call(s, t, "/jderest/v2/tokenrequest/validate", ",\"touch\":true", &r, &bad, e);
    token_put(s, t);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "AIS validate");
        goto out;
    }
    /* "Anything other than a 200 status is an invalid token." */
    valid = r.status == 200 && json_is_true(json_object_get(r.json, "isValidSession"));
    if (!valid) {
        log_info("ais", "session no longer valid, logging in again", LF_INT("status", r.status));
        token_drop_gen(s, gen);
        rc = ais_session_login(s, e);
    }
out:
    ais_response_clear(&r);
    return rc;
}

int ais_session_logout(struct ais_session *s, struct mlc_err *e)
{
    struct ais_response r = { 0 };
    struct ais_token *t;
    bool bad = false;
    int rc;

    pthread_mutex_lock(&s->mu);
    while (s->logging_in)
        pthread_cond_wait(&s->cv, &s->mu);
    t = s->tok; /* the session's reference moves to us */
    s->tok = NULL;
    pthread_mutex_unlock(&s->mu);
    if (t == NULL)
        return MLC_OK;
    rc = token_body_call(s, t, "/jderest/v2/tokenrequest/logout", "", &r, &bad, e);
    token_put(s, t);
    if (rc == MLC_OK && r.status != 200 && !bad)
        rc = mlc_err_set(e, MLC_EPROTO, "AIS logout: HTTP %d %s", r.status,
                         ais_error_text(r.json) ? ais_error_text(r.json) : "");
    else if (rc == MLC_OK)
        log_info("ais", "logged out", LF_STR("user", s->cfg.user));
    ais_response_clear(&r);
    return rc;
}

int ais_defaultconfig(struct ais_session *s, json_t **out, struct mlc_err *e)
{
    struct ais_request rq = { "GET", "/jderest/v2/defaultconfig", NULL, 0, AIS_CALL_NOAUTH, 0, 0 };
    struct ais_response r = { 0 };
    int rc;

    *out = NULL;
    rc = ais_call(s, &rq, &r, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "AIS defaultconfig");
        return rc;
    }
    if (r.status != 200 || !json_is_object(r.json)) {
        rc = mlc_err_set(e, MLC_EPROTO, "AIS defaultconfig: HTTP %d %s", r.status,
                         ais_error_text(r.json) ? ais_error_text(r.json) : "");
        ais_response_clear(&r);
        return rc;
    }
    *out = r.json;
    r.json = NULL;
    return MLC_OK;
}
