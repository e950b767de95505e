/*
 * bc_client: transport (pacing, retries, errors), URL builder, pagers, store
 * information, order reads, id coalescing and the probe of mlc ping.
 */
#include "bc/bc_client.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_decode.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/health.h"
#include "core/json.h"
#include "core/log.h"
#include "core/order.h"
#include "core/secret.h"
#include "core/strbuf.h"
#include "net/httpc.h"

#ifndef MLC_VERSION
#define MLC_VERSION "0.0.0"
#endif

/* Longest absolute URL we build (base + path + query). */
#define BC_URL_MAX (64u * 1024u)
/* Order ids per ranged call and per id:in filter. */
#define BC_IDS_PER_FILTER 100
/* Guard on lists collected in memory. */
#define BC_COLLECT_MAX 100000

struct bc_client {
    struct httpc              *h;
    struct pacer              *pacer;   /* borrowed, shared */
    struct pacer_grant         grant;   /* the attempt under way */
    char                      *base;    /* api_base_url, no trailing '/' */
    struct httpc_secret_header tok;     /* X-Auth-Token, value borrowed */
    struct bc_client_tuning    t;
    /* Per-call state, reset before the first attempt of each call. */
    unsigned                   transient;
    uint64_t                   requests;
    struct health             *health;  /* borrowed, may be NULL */
};

static const struct bc_client_tuning tuning_defaults = {
    .max_attempts = 8,
    .max_transient = 3,
    .base_delay_ms = 1000,
    .max_delay_ms = 30000,
    .max_total_ms = 300000,
    .max_pacer_wait_ms = 120000,
};

/* ---- client ------------------------------------------------------------- */

void bc_client_tune(struct bc_client *c, const struct bc_client_tuning *t)
{
    struct bc_client_tuning d = tuning_defaults;

    if (t != NULL) {
        if (t->max_attempts)
            d.max_attempts = t->max_attempts;
        if (t->max_transient)
            d.max_transient = t->max_transient;
        if (t->base_delay_ms > 0)
            d.base_delay_ms = t->base_delay_ms;
        if (t->max_delay_ms > 0)
            d.max_delay_ms = t->max_delay_ms;
        if (t->max_total_ms > 0)
            d.max_total_ms = t->max_total_ms;
        if (t->max_pacer_wait_ms > 0)
            d.max_pacer_wait_ms = t->max_pacer_wait_ms;
    }
    c->t = d;
}

int bc_client_new(const struct cfg_bigcommerce *cfg, struct mlc_secret *token,
                  struct pacer *pacer, struct bc_client **out,
                  struct mlc_err *e)
{
    struct httpc_opts ho = { 0 };
    struct bc_client *c;
    char ua[64];
    size_t n;
    int rc;

    *out = NULL;
    if (cfg == NULL || token == NULL || pacer == NULL || cfg->api_base_url == NULL ||
        cfg->api_base_url[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL,
                           "BigCommerce client: base URL, token and pacer are required");
    if (secret_len(token) == 0)
        return mlc_err_set(e, MLC_EINVAL, "BigCommerce client: the API token is empty");
    if (cfg->timeout_ms < 0)
        return mlc_err_set(e, MLC_EINVAL, "BigCommerce client: negative timeout");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a BigCommerce client");
    c->base = strdup(cfg->api_base_url);
    if (c->base == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for a BigCommerce client");
        goto fail;
    }
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    snprintf(ua, sizeof(ua), "ml-connector/%s (BigCommerce client)", MLC_VERSION);
    ho.user_agent = ua;
    ho.timeout_ms = cfg->timeout_ms;
    ho.ca_file = cfg->ca_file;
    rc = httpc_new(&ho, &c->h, e);
    if (rc != MLC_OK)
        goto fail;
    c->pacer = pacer;
    c->tok.name = "X-Auth-Token";
    c->tok.value = token;
    bc_client_tune(c, NULL);
    *out = c;
    return MLC_OK;
fail:
    bc_client_free(c);
    return rc;
}

void bc_client_free(struct bc_client *c)
{
    if (c == NULL)
        return;
    httpc_free(c->h);
    free(c->base);
    free(c);
}

void bc_client_set_health(struct bc_client *c, struct health *h)
{
    c->health = h;
}

uint64_t bc_client_requests(const struct bc_client *c)
{
    return c->requests;
}

/* ---- URL builder -------------------------------------------------------- */

static void url_put(struct bc_url *u, const char *s, size_t n)
{
    if (u->rc != MLC_OK)
        return;
    if (u->len + n + 1 > BC_URL_MAX) {
        u->rc = MLC_ETOOBIG;
        return;
    }
    if (u->len + n + 1 > u->cap) {
        size_t cap = u->cap ? u->cap : 128;
        char *p;

        while (cap < u->len + n + 1)
            cap *= 2;
        p = realloc(u->s, cap);
        if (p == NULL) {
            u->rc = MLC_ENOMEM;
            return;
        }
        u->s = p;
        u->cap = cap;
    }
    memcpy(u->s + u->len, s, n);
    u->len += n;
    u->s[u->len] = '\0';
}

void bc_url_init(struct bc_url *u, const char *path)
{
    memset(u, 0, sizeof(*u));
    url_put(u, path, strlen(path));
    u->has_query = strchr(path, '?') != NULL;
}

static void url_sep(struct bc_url *u, const char *name)
{
    url_put(u, u->has_query ? "&" : "?", 1);
    u->has_query = true;
    url_put(u, name, strlen(name));
    url_put(u, "=", 1);
}

/* Unreserved characters, plus ',' and ':' which BigCommerce lists and
 * filter names use literally and which decode to themselves. */
static bool keep_char(unsigned char ch)
{
    return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == ',' ||
           ch == ':';
}

void bc_url_add(struct bc_url *u, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";

    url_sep(u, name);
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

        if (keep_char(*p))
            url_put(u, (const char *)p, 1);
        else
            url_put(u, enc, 3);
    }
}

void bc_url_addi(struct bc_url *u, const char *name, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRId64, v);

    url_sep(u, name);
    url_put(u, b, (size_t)n);
}

void bc_url_add_ids(struct bc_url *u, const char *name, const int64_t *ids,
                    size_t n)
{
    url_sep(u, name);
    for (size_t i = 0; i < n; i++) {
        char b[24];
        int k = snprintf(b, sizeof(b), "%s%" PRId64, i ? "," : "", ids[i]);

        url_put(u, b, (size_t)k);
    }
}

void bc_url_copy(struct bc_url *dst, const struct bc_url *u)
{
    memset(dst, 0, sizeof(*dst));
    dst->rc = u->rc;
    if (u->s != NULL)
        url_put(dst, u->s, u->len);
    dst->has_query = u->has_query;
}

void bc_url_free(struct bc_url *u)
{
    if (u == NULL)
        return;
    free(u->s);
    memset(u, 0, sizeof(*u));
}

/* ---- errors ------------------------------------------------------------- */

int bc_status_code(int status)
{
    switch (status) {
    case 400: case 422: return MLC_EINVAL;
    case 401: case 403: return MLC_EAUTH;
    case 404:           return MLC_ENOTFOUND;
    case 409:           return MLC_EEXIST;
    case 413:           return MLC_ETOOBIG;
    case 423: case 429: case 503: return MLC_EBUSY;
    default:
        return status >= 500 && status <= 599 ? MLC_EIO : MLC_EPROTO;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default:  return "unexpected status";
    }
}

/* Printable ASCII only, at most max bytes: the text comes from outside. */
static void sb_clean(struct strbuf *s, const char *t, size_t n, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < max; i++, k++) {
        char ch = t[i];

        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        if ((unsigned char)ch < 0x20 || (unsigned char)ch > 0x7e)
            ch = '?';
        strbuf_add(s, &ch, 1);
    }
    if (n > max)
        strbuf_adds(s, "...");
}

static void sb_json_value(struct strbuf *s, const json_t *v)
{
    if (json_is_string(v)) {
        sb_clean(s, json_string_value(v), json_string_length(v), 200);
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        if (t != NULL)
            sb_clean(s, t, strlen(t), 200);
        free(t);
    }
}

/* v3 error object: title (or message/detail), then errors{k: v}. */
static bool sb_v3(struct strbuf *s, const json_t *o)
{
    static const char *const heads[] = { "title", "message", "detail" };
    const json_t *errs = json_object_get(o, "errors");
    bool any = false;

    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]) && !any; i++) {
        const json_t *t = json_object_get(o, heads[i]);

        if (json_is_string(t) && json_string_length(t) > 0) {
            sb_json_value(s, t);
            any = true;
        }
    }
    if (json_is_object(errs) && json_object_size(errs) > 0) {
        const char *k;
        const json_t *v;
        bool first = true;

        strbuf_adds(s, any ? " (" : "(");
        json_object_foreach((json_t *)errs, k, v) {
            if (!first)
                strbuf_adds(s, ", ");
            first = false;
            sb_clean(s, k, strlen(k), 80);
            strbuf_adds(s, ": ");
            sb_json_value(s, v);
        }
        strbuf_adds(s, ")");
        any = true;
    } else if (json_is_string(errs)) {
        strbuf_adds(s, any ? ": " : "");
        sb_json_value(s, errs);
        any = true;
    }
    return any;
}

/* Appends what the body says; false when it said nothing usable. */
static bool sb_body(struct strbuf *s, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    bool any = false;

    if (json_is_array(j)) {
        size_t i;
        json_t *it;

        json_array_foreach(j, i, it) {
            const json_t *m = json_object_get(it, "message");

            if (!json_is_string(m))
                continue;
            if (any)
                strbuf_adds(s, "; ");
            sb_json_value(s, m);
            any = true;
        }
    } else if (json_is_object(j)) {
        const json_t *be = json_object_get(j, "batch_errors");

        if (json_is_array(be)) {
            size_t i;
            json_t *it;

            json_array_foreach(be, i, it) {
                if (any)
                    strbuf_adds(s, "; ");
                any = sb_v3(s, it) || any;
            }
        } else {
            any = sb_v3(s, j);
        }
    } else if (j == NULL) {
        size_t a = 0;

        while (a < len && isspace((unsigned char)body[a]))
            a++;
        if (a < len) {
            sb_clean(s, body + a, len - a, 120);
            any = true;
        }
    }
    json_decref(j);
    return any;
}

void bc_error_message(const char *method, const char *path, int status,
                      const char *body, size_t body_len, char *buf, size_t cap)
{
    struct strbuf s;
    char st[16];

    if (cap == 0)
        return;
    strbuf_init_bounded(&s, cap - 1); /* cut silently: a log excerpt */
    strbuf_adds(&s, method);
    strbuf_adds(&s, " ");
    strbuf_add(&s, path, strcspn(path, "?"));
    snprintf(st, sizeof(st), ": %d ", status);
    strbuf_adds(&s, st);
    if (body == NULL || body_len == 0 || !sb_body(&s, body, body_len))
        strbuf_adds(&s, reason(status));
    snprintf(buf, cap, "%s", strbuf_str(&s)); /* out of memory: what was made */
    strbuf_release(&s);
}

/* ---- generic call ------------------------------------------------------- */

static int64_t header_or_none(const struct httpc_response *r, const char *name)
{
    long long v;

    if (httpc_response_header_int(r, name, &v) != MLC_OK || v < 0)
        return -1;
    return (int64_t)v;
}

static bool transient(int rc, int status)
{
    if (rc == MLC_ETIMEOUT || rc == MLC_EIO)
        return true;
    return rc == MLC_OK &&
           (status == 500 || status == 502 || status == 503 || status == 504);
}

/* Drives the pacer around every attempt and decides 429 retries. */
static enum httpc_hook_action pace_hook(void *ctx, const struct httpc_hook_info *in,
                                        long *delay_ms)
{
    struct bc_client *c = ctx;
    struct pacer_obs obs;
    const struct httpc_response *r = in->resp;

    if (in->event == HTTPC_HOOK_BEFORE_ATTEMPT) {
        if (in->attempt == 1)
            c->transient = 0;
        if (pacer_acquire_grant(c->pacer, c->t.max_pacer_wait_ms, &c->grant,
                                in->err) != MLC_OK)
            return HTTPC_HOOK_STOP;
        c->requests++;
        return HTTPC_HOOK_DEFAULT;
    }
    obs = PACER_OBS_NONE(in->rc == MLC_OK && r != NULL ? r->status : 0);
    if (obs.status != 0) {
        obs.left = header_or_none(r, "X-Rate-Limit-Requests-Left");
        obs.reset_ms = header_or_none(r, "X-Rate-Limit-Time-Reset-Ms");
        obs.window_ms = header_or_none(r, "X-Rate-Limit-Time-Window-Ms");
        obs.quota = header_or_none(r, "X-Rate-Limit-Requests-Quota");
    }
    pacer_on_grant_response(c->pacer, &c->grant, &obs);
    if (obs.status == 429) {
        /* Not processed: resend whatever the method once the pacer, which
         * now blocks until the reset (or a backoff without headers), lets
         * the next attempt go. */
        log_warn("bc", "rate limited", LF_STR("method", in->req->method),
                 LF_INT("attempt", in->attempt), LF_INT("reset_ms", obs.reset_ms));
        *delay_ms = 0;
        return HTTPC_HOOK_RETRY_UNPROCESSED;
    }
    if (transient(in->rc, obs.status) && ++c->transient > c->t.max_transient)
        return HTTPC_HOOK_STOP;
    return HTTPC_HOOK_DEFAULT;
}

/* What one call says about BigCommerce (only when a request went out): a
 * 2xx clears both conditions; 401/403 sets "bigcommerce.auth"; a 5xx after
 * the retries, or no answer at all, sets "bigcommerce.unreachable"; any
 * other answer clears that one. */
static void note_health(struct bc_client *c, int rc, int status, bool sent,
                        const struct mlc_err *e)
{
    const char *msg = e != NULL && e->msg[0] != '\0' ? e->msg : mlc_strerror(rc);

    if (c->health == NULL || !sent)
        return;
    if (status >= 200 && status <= 299) {
        health_clear(c->health, HEALTH_BC_DOWN);
        health_clear(c->health, HEALTH_BC_AUTH);
        return;
    }
    if (status == 401 || status == 403)
        health_set(c->health, HEALTH_BC_AUTH, "BigCommerce refused the API token: %s", msg);
    if (status >= 500 && status <= 599)
        health_set(c->health, HEALTH_BC_DOWN, "BigCommerce is failing: %s", msg);
    else if (status == 0 && (rc == MLC_EIO || rc == MLC_ETIMEOUT))
        health_set(c->health, HEALTH_BC_DOWN, "BigCommerce did not answer: %s", msg);
    else if (status != 0)
        health_clear(c->health, HEALTH_BC_DOWN);
}

void bc_resp_clear(struct bc_resp *r)
{
    if (r == NULL)
        return;
    json_decref(r->body);
    r->body = NULL;
    r->status = 0;
}

/* The request body, compact; the caller wipes and frees it (a hook
 * registration carries a secret header value). */
static int dump_body(const json_t *body, const char *method, const struct bc_url *url,
                     char **out, size_t *len, struct mlc_err *e)
{
    *out = NULL;
    *len = 0;
    if (body == NULL)
        return MLC_OK;
    /* 15 significant digits: a price built from exact decimal text ("19.99")
     * goes out as written, not as the double's 17-digit expansion. */
    *out = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "%s %.*s: cannot encode the request body", method,
                           (int)strcspn(url->s, "?"), url->s);
    *len = strlen(*out);
    return MLC_OK;
}

int bc_call(struct bc_client *c, const char *method, const struct bc_url *url,
            const json_t *body, bool idempotent, struct bc_resp *out,
            struct mlc_err *e)
{
    struct httpc_header hdrs[2] = { { "Accept", "application/json" },
                                    { "Content-Type", "application/json" } };
    struct httpc_response resp = { 0 };
    struct httpc_request rq = { 0 };
    struct httpc_retry pol = { 0 };
    char *full = NULL, *text = NULL;
    size_t text_len = 0, flen;
    uint64_t sent_before = c->requests;
    int rc;

    memset(out, 0, sizeof(*out));
    if (url->rc != MLC_OK || url->s == NULL)
        return mlc_err_set(e, url->rc != MLC_OK ? url->rc : MLC_EINVAL,
                           "%s: cannot build the request URL (%s)", method,
                           mlc_strerror(url->rc != MLC_OK ? url->rc : MLC_EINVAL));
    flen = strlen(c->base) + url->len + 1;
    full = malloc(flen);
    if (full == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a request URL");
    snprintf(full, flen, "%s%s", c->base, url->s);
    rc = dump_body(body, method, url, &text, &text_len, e);
    if (rc != MLC_OK)
        goto out;
    rq.method = method;
    rq.url = full;
    rq.headers = hdrs;
    rq.n_headers = body != NULL ? 2 : 1;
    rq.secret_headers = &c->tok;
    rq.n_secret_headers = 1;
    rq.body = text;
    rq.body_len = text_len;
    rq.idempotent = idempotent;
    pol.max_attempts = c->t.max_attempts;
    pol.base_delay_ms = c->t.base_delay_ms;
    pol.max_delay_ms = c->t.max_delay_ms;
    pol.max_total_ms = c->t.max_total_ms;
    pol.jitter = HTTPC_JITTER_EQUAL;
    pol.hook = pace_hook;
    pol.hook_ctx = c;
    rc = httpc_do_retry(c->h, &rq, &pol, &resp, e);
    if (rc != MLC_OK)
        goto out;
    out->status = resp.status;
    if (resp.body_len > 0 && resp.status != 204) {
        struct mlc_err pe;
        int prc = jx_loads(resp.body, resp.body_len, 0, &out->body, &pe);

        if (prc != MLC_OK && resp.status >= 200 && resp.status <= 299) {
            rc = mlc_err_set(e, MLC_EPROTO, "%s %.*s: %d with a body that is not JSON: %s",
                             method, (int)strcspn(url->s, "?"), url->s, resp.status,
                             pe.msg);
            goto out;
        }
    }
    if (resp.status < 200 || resp.status > 299) {
        char msg[MLC_ERR_MSG_MAX];

        bc_error_message(method, url->s, resp.status, resp.body, resp.body_len, msg,
                         sizeof(msg));
        rc = mlc_err_set(e, bc_status_code(resp.status), "%s", msg);
    }
out:
    note_health(c, rc, resp.status, c->requests != sent_before, e);
    if (text != NULL) {
        secret_wipe(text, text_len);
        free(text);
    }
    httpc_response_clear(&resp);
    free(full);
    return rc;
}

/* GET returning the parsed body (NULL on 204). */
static int get_json(struct bc_client *c, const struct bc_url *u, json_t **out,
                    struct mlc_err *e)
{
    struct bc_resp r;
    int rc = bc_call(c, "GET", u, NULL, true, &r, e);

    *out = NULL;
    if (rc == MLC_OK) {
        *out = r.body;
        r.body = NULL;
    }
    bc_resp_clear(&r);
    return rc;
}

static int proto_err(struct mlc_err *e, const struct bc_url *u, const char *what)
{
    return mlc_err_set(e, MLC_EPROTO, "GET %.*s: %s", (int)strcspn(u->s, "?"), u->s, what);
}

/* ---- pagers ------------------------------------------------------------- */

int bc_pager_init(struct bc_pager *p, struct bc_client *c,
                  enum bc_pager_kind kind, const struct bc_url *url,
                  int64_t limit, struct mlc_err *e)
{
    memset(p, 0, sizeof(*p));
    if (limit < 1 || limit > BC_V2_LIMIT_MAX)
        return mlc_err_set(e, MLC_EINVAL, "page size %lld is not within 1..%d",
                           (long long)limit, BC_V2_LIMIT_MAX);
    p->c = c;
    p->kind = kind;
    p->page = 1;
    p->limit = limit;
    bc_url_copy(&p->url, url);
    if (p->url.rc != MLC_OK)
        return mlc_err_set(e, p->url.rc, "cannot build a list URL");
    return MLC_OK;
}

void bc_pager_free(struct bc_pager *p)
{
    if (p == NULL)
        return;
    bc_url_free(&p->url);
    p->done = true;
}

/* The items of a v3 page and whether it is the last one. */
static int v3_page(const struct bc_pager *p, const struct bc_url *u, json_t *body,
                   json_t **items, bool *last, struct mlc_err *e)
{
    json_t *data = json_object_get(body, "data");
    json_t *pg = json_object_get(json_object_get(body, "meta"), "pagination");

    if (!json_is_array(data))
        return proto_err(e, u, "expected {\"data\": [...]}");
    *items = json_incref(data);
    if (json_is_object(pg) && json_is_integer(json_object_get(pg, "total_pages"))) {
        json_int_t cur = json_integer_value(json_object_get(pg, "current_page"));
        json_int_t tot = json_integer_value(json_object_get(pg, "total_pages"));

        if (cur <= 0)
            cur = p->page;
        *last = cur >= tot || json_array_size(data) == 0;
    } else {
        *last = json_array_size(data) < (size_t)p->limit;
    }
    return MLC_OK;
}

int bc_pager_next(struct bc_pager *p, json_t **items, struct mlc_err *e)
{
    struct bc_url u;
    json_t *body = NULL;
    bool last = false;
    int rc;

    *items = NULL;
    if (p->done)
        return MLC_OK;
    bc_url_copy(&u, &p->url);
    bc_url_addi(&u, "page", p->page);
    bc_url_addi(&u, "limit", p->limit);
    rc = get_json(p->c, &u, &body, e);
    if (rc != MLC_OK)
        goto out;
    if (body == NULL) {          /* 204: past the end */
        p->done = true;
        goto out;
    }
    if (p->kind == BC_PAGER_V2) {
        if (!json_is_array(body)) {
            rc = proto_err(e, &u, "expected a JSON array");
            goto out;
        }
        *items = json_incref(body);
        last = json_array_size(body) < (size_t)p->limit;
    } else {
        rc = v3_page(p, &u, body, items, &last, e);
        if (rc != MLC_OK)
            goto out;
    }
    p->page++;
    if (last)
        p->done = true;
    if (json_array_size(*items) == 0) {
        json_decref(*items);
        *items = NULL;
        p->done = true;
    }
out:
    json_decref(body);
    bc_url_free(&u);
    return rc;
}

int bc_pager_collect(struct bc_pager *p, size_t max_items, json_t **out,
                     struct mlc_err *e)
{
    json_t *all = json_array();
    int rc = MLC_OK;

    *out = NULL;
    if (all == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a list");
    for (;;) {
        json_t *items;

        rc = bc_pager_next(p, &items, e);
        if (rc != MLC_OK || items == NULL)
            break;
        if (json_array_size(all) + json_array_size(items) > max_items) {
            json_decref(items);
            rc = mlc_err_set(e, MLC_ETOOBIG, "GET %.*s: more than %zu items",
                             (int)strcspn(p->url.s, "?"), p->url.s, max_items);
            break;
        }
        json_array_extend(all, items);
        json_decref(items);
    }
    if (rc != MLC_OK) {
        json_decref(all);
        return rc;
    }
    *out = all;
    return MLC_OK;
}

/* ---- store -------------------------------------------------------------- */

static int dup_field(struct jx_ctx *cx, const json_t *o, const char *path, char **out)
{
    const char *s;

    *out = NULL;
    if (jx_opt_str(cx, o, path, "", &s) != MLC_OK)
        return cx->rc;
    *out = strdup(s);
    if (*out == NULL && cx->rc == MLC_OK) {
        cx->rc = MLC_ENOMEM;
        mlc_err_set(cx->e, MLC_ENOMEM, "out of memory");
    }
    return cx->rc;
}

void bc_store_info_clear(struct bc_store_info *s)
{
    if (s == NULL)
        return;
    free(s->id);
    free(s->name);
    free(s->domain);
    free(s->currency);
    free(s->timezone);
    memset(s, 0, sizeof(*s));
}

int bc_store_info(struct bc_client *c, struct bc_store_info *out,
                  struct mlc_err *e)
{
    struct bc_url u;
    struct jx_ctx cx;
    json_t *j = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    bc_url_init(&u, "/v2/store");
    rc = get_json(c, &u, &j, e);
    if (rc == MLC_OK && !json_is_object(j))
        rc = proto_err(e, &u, "expected the store object");
    if (rc == MLC_OK) {
        jx_ctx_init(&cx, "store information", e);
        dup_field(&cx, j, "id", &out->id);
        dup_field(&cx, j, "name", &out->name);
        dup_field(&cx, j, "domain", &out->domain);
        dup_field(&cx, j, "currency", &out->currency);
        dup_field(&cx, j, "timezone.name", &out->timezone);
        rc = cx.rc;
    }
    if (rc != MLC_OK)
        bc_store_info_clear(out);
    json_decref(j);
    bc_url_free(&u);
    return rc;
}

/* ---- v2 orders ---------------------------------------------------------- */

static void order_filter_url(struct bc_url *u, const char *path,
                             const struct bc_order_filter *f, bool for_list)
{
    bc_url_init(u, path);
    if (f == NULL)
        return;
    if (f->min_id > 0)
        bc_url_addi(u, "min_id", f->min_id);
    if (f->max_id > 0)
        bc_url_addi(u, "max_id", f->max_id);
    if (f->status_id >= 0)
        bc_url_addi(u, "status_id", f->status_id);
    if (f->min_date_modified != NULL)
        bc_url_add(u, "min_date_modified", f->min_date_modified);
    if (f->max_date_modified != NULL)
        bc_url_add(u, "max_date_modified", f->max_date_modified);
    if (f->min_date_created != NULL)
        bc_url_add(u, "min_date_created", f->min_date_created);
    if (f->max_date_created != NULL)
        bc_url_add(u, "max_date_created", f->max_date_created);
    if (f->email != NULL)
        bc_url_add(u, "email", f->email);
    if (!for_list)
        return;
    if (f->sort != NULL)
        bc_url_add(u, "sort", f->sort);
    if (f->line_items)
        bc_url_add(u, "include", "consignments.line_items,fees");
}

int bc_orders_pager(struct bc_client *c, const struct bc_order_filter *f,
                    int64_t limit, struct bc_pager *p, struct mlc_err *e)
{
    struct bc_url u;
    int rc;

    order_filter_url(&u, "/v2/orders", f, true);
    rc = bc_pager_init(p, c, BC_PAGER_V2, &u, limit, e);
    bc_url_free(&u);
    return rc;
}

int bc_orders_page(struct bc_client *c, const struct bc_order_filter *f,
                   int64_t page, int64_t limit, json_t **out,
                   struct mlc_err *e)
{
    struct bc_pager p;
    int rc;

    *out = NULL;
    if (page < 1)
        return mlc_err_set(e, MLC_EINVAL, "page %lld: pages start at 1", (long long)page);
    rc = bc_orders_pager(c, f, limit, &p, e);
    if (rc == MLC_OK) {
        p.page = page;
        rc = bc_pager_next(&p, out, e);
    }
    bc_pager_free(&p);
    if (rc == MLC_OK && *out == NULL) {
        *out = json_array();
        if (*out == NULL)
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    }
    return rc;
}

int bc_order_get(struct bc_client *c, int64_t id, json_t **out,
                 struct mlc_err *e)
{
    struct bc_url u;
    char path[64];
    int rc;

    snprintf(path, sizeof(path), "/v2/orders/%" PRId64, id);
    bc_url_init(&u, path);
    rc = get_json(c, &u, out, e);
    if (rc == MLC_OK && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = proto_err(e, &u, "expected an order object");
    }
    bc_url_free(&u);
    return rc;
}

int bc_order_products(struct bc_client *c, int64_t id, json_t **out,
                      struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    char path[64];
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "/v2/orders/%" PRId64 "/products", id);
    bc_url_init(&u, path);
    rc = bc_pager_init(&p, c, BC_PAGER_V2, &u, BC_V2_LIMIT_MAX, e);
    if (rc == MLC_OK)
        rc = bc_pager_collect(&p, BC_COLLECT_MAX, out, e);
    bc_pager_free(&p);
    bc_url_free(&u);
    return rc;
}

int bc_orders_count(struct bc_client *c, const struct bc_order_filter *f,
                    int64_t *count, struct mlc_err *e)
{
    struct bc_url u;
    struct jx_ctx cx;
    json_t *j = NULL;
    int rc;

    *count = 0;
    order_filter_url(&u, "/v2/orders/count", f, false);
    rc = get_json(c, &u, &j, e);
    if (rc == MLC_OK && j != NULL) {
        jx_ctx_init(&cx, "order count", e);
        rc = jx_get_i64(&cx, j, "count", count);
    }
    json_decref(j);
    bc_url_free(&u);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Sorted copy of ids without duplicates (*out: caller frees). */
static int sorted_unique(const int64_t *ids, size_t n, int64_t **out, size_t *n_out,
                         struct mlc_err *e)
{
    int64_t *v;
    size_t k = 0;

    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return MLC_OK;
    v = malloc(n * sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu ids", n);
    memcpy(v, ids, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_i64);
    for (size_t i = 0; i < n; i++) {
        if (v[i] <= 0) {
            int64_t bad = v[i];

            free(v);
            return mlc_err_set(e, MLC_EINVAL, "order id %" PRId64 " is not positive", bad);
        }
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    }
    *out = v;
    *n_out = k;
    return MLC_OK;
}

int bc_coalesce_ids(const int64_t *ids, size_t n, int64_t per_call,
                    struct bc_id_range **out, size_t *n_out,
                    struct mlc_err *e)
{
    struct bc_id_range *r = NULL;
    int64_t *v;
    size_t nv, k = 0;
    int rc;

    *out = NULL;
    *n_out = 0;
    if (per_call < 1 || per_call > BC_V2_LIMIT_MAX)
        return mlc_err_set(e, MLC_EINVAL, "ids per call %lld is not within 1..%d",
                           (long long)per_call, BC_V2_LIMIT_MAX);
    rc = sorted_unique(ids, n, &v, &nv, e);
    if (rc != MLC_OK || nv == 0)
        return rc;
    r = malloc(nv * sizeof(*r)); /* at most one range per id */
    if (r == NULL) {
        free(v);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for id ranges");
    }
    /* Greedy from the smallest id: a range reaches as far as one page can
     * hold even if every id in it exists; this is the fewest calls. */
    for (size_t i = 0; i < nv;) {
        int64_t lo = v[i], hi = lo;
        size_t cnt = 0;

        while (i < nv && v[i] - lo < per_call) {
            hi = v[i++];
            cnt++;
        }
        r[k++] = (struct bc_id_range){ .min_id = lo, .max_id = hi, .n_ids = cnt };
    }
    free(v);
    *out = r;
    *n_out = k;
    return MLC_OK;
}

int bc_orders_by_ids(struct bc_client *c, const int64_t *ids, size_t n,
                     bool line_items, json_t **out, struct mlc_err *e)
{
    struct bc_id_range *r = NULL;
    int64_t *want = NULL;
    size_t nr = 0, nw = 0;
    json_t *all = NULL;
    int rc;

    *out = NULL;
    rc = sorted_unique(ids, n, &want, &nw, e);
    if (rc == MLC_OK)
        rc = bc_coalesce_ids(want, nw, BC_V2_LIMIT_MAX, &r, &nr, e);
    if (rc != MLC_OK)
        goto out;
    all = json_array();
    if (all == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nr && rc == MLC_OK; i++) {
        struct bc_order_filter f = BC_ORDER_FILTER_INIT;
        json_t *page = NULL, *o;
        size_t k;

        f.min_id = r[i].min_id;
        f.max_id = r[i].max_id;
        f.line_items = line_items;
        f.sort = "id:asc";
        rc = bc_orders_page(c, &f, 1, BC_V2_LIMIT_MAX, &page, e);
        json_array_foreach(page, k, o) {
            json_int_t id = json_integer_value(json_object_get(o, "id"));

            if (bsearch(&(int64_t){ id }, want, nw, sizeof(*want), cmp_i64) != NULL)
                json_array_append(all, o);
        }
        json_decref(page);
    }
out:
    if (rc == MLC_OK)
        *out = all;
    else
        json_decref(all);
    free(r);
    free(want);
    return rc;
}

/* ---- v3 transactions and refunds ---------------------------------------- */

int bc_order_transactions(struct bc_client *c, int64_t order_id, json_t **out,
                          struct mlc_err *e)
{
    struct bc_url u;
    char path[80];
    json_t *j = NULL, *data;
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "/v3/orders/%" PRId64 "/transactions", order_id);
    bc_url_init(&u, path);
    rc = get_json(c, &u, &j, e);
    if (rc != MLC_OK)
        goto out;
    if (j == NULL) {            /* 204: no transactions */
        *out = json_array();
        if (*out == NULL)
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    data = json_object_get(j, "data");
    if (!json_is_array(data)) {
        rc = proto_err(e, &u, "expected {\"data\": [...]}");
        goto out;
    }
    *out = json_incref(data);
out:
    json_decref(j);
    bc_url_free(&u);
    return rc;
}

int bc_order_refunds(struct bc_client *c, int64_t order_id, json_t **out,
                     struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    char path[96];
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "/v3/orders/%" PRId64 "/payment_actions/refunds", order_id);
    bc_url_init(&u, path);
    rc = bc_pager_init(&p, c, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    if (rc == MLC_OK)
        rc = bc_pager_collect(&p, BC_COLLECT_MAX, out, e);
    bc_pager_free(&p);
    bc_url_free(&u);
    return rc;
}

int bc_refunds_pager(struct bc_client *c, const struct bc_refund_filter *f,
                     int64_t limit, struct bc_pager *p, struct mlc_err *e)
{
    struct bc_url u;
    int rc;

    bc_url_init(&u, "/v3/orders/payment_actions/refunds");
    if (f != NULL && f->n_order_ids > 0)
        bc_url_add_ids(&u, "order_id:in", f->order_ids, f->n_order_ids);
    if (f != NULL && f->created_min != NULL)
        bc_url_add(&u, "created:min", f->created_min);
    if (f != NULL && f->created_max != NULL)
        bc_url_add(&u, "created:max", f->created_max);
    rc = bc_pager_init(p, c, BC_PAGER_V3, &u, limit, e);
    bc_url_free(&u);
    return rc;
}

/* ---- decoded orders ----------------------------------------------------- */

/* bc_decode reads v3 lists in their {"data": [...]} envelope. */
static json_t *wrap_data(json_t *arr)
{
    return json_pack("{s:O}", "data", arr);
}

int bc_order_load_transactions(struct bc_client *c, struct order *o,
                               struct mlc_err *e)
{
    json_t *arr = NULL, *root;
    int rc = bc_order_transactions(c, o->id, &arr, e);

    if (rc != MLC_OK)
        return rc;
    root = wrap_data(arr);
    rc = root == NULL ? mlc_err_set(e, MLC_ENOMEM, "out of memory")
                      : bcd_transactions(root, o, e);
    json_decref(root);
    json_decref(arr);
    return rc;
}

int bc_order_load_refunds(struct bc_client *c, const struct order *o,
                          struct order_refund **out, size_t *n,
                          struct mlc_err *e)
{
    json_t *arr = NULL, *root;
    int rc;

    *out = NULL;
    *n = 0;
    rc = bc_order_refunds(c, o->id, &arr, e);
    if (rc != MLC_OK)
        return rc;
    root = wrap_data(arr);
    rc = root == NULL ? mlc_err_set(e, MLC_ENOMEM, "out of memory")
                      : bcd_refunds(root, o, out, n, e);
    json_decref(root);
    json_decref(arr);
    return rc;
}

int bc_order_load(struct bc_client *c, int64_t id, struct order *out,
                  struct mlc_err *e)
{
    json_t *oj = NULL, *prods = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bc_order_get(c, id, &oj, e);
    if (rc == MLC_OK)
        rc = bcd_order(oj, out, e);
    json_decref(oj);
    if (rc != MLC_OK)
        return rc;
    if (!out->have_products) {
        rc = bc_order_products(c, id, &prods, e);
        if (rc == MLC_OK)
            rc = bcd_products(prods, out, e);
        json_decref(prods);
    }
    if (rc == MLC_OK)
        rc = bc_order_load_transactions(c, out, e);
    if (rc != MLC_OK)
        order_clear(out);
    return rc;
}

/* ---- probe -------------------------------------------------------------- */

const char *bc_verdict_name(enum bc_verdict v)
{
    switch (v) {
    case BC_PROBE_OK:           return "ok";
    case BC_PROBE_SKIPPED:      return "skipped";
    case BC_PROBE_UNAUTHORIZED: return "unauthorized";
    case BC_PROBE_FORBIDDEN:    return "forbidden";
    default:                    return "error";
    }
}

struct probe_step {
    const char *resource;
    const char *scope;
    const char *path;  /* NULL: transactions of the newest order */
};

static const struct probe_step probe_steps[] = {
    { "store", "store_v2_information_read_only", "/v2/store" },
    { "orders", "store_v2_orders_read_only", "/v2/orders?limit=1&sort=id:desc" },
    { "transactions", "store_v2_transactions_read_only", NULL },
    { "refunds", "store_v2_transactions_read_only", "/v3/orders/payment_actions/refunds?limit=1" },
    { "customers", "store_v2_customers_read_only", "/v3/customers?limit=1" },
    { "products", "store_v2_products_read_only", "/v3/catalog/products?limit=1" },
    { "variants", "store_v2_products_read_only", "/v3/catalog/variants?limit=1" },
    { "hooks", "none (hooks of this API account)", "/v3/hooks?limit=1" },
};

static void probe_one(struct bc_client *c, const struct probe_step *st, const char *path,
                      struct bc_probe_result *res, json_t **body)
{
    struct mlc_err le;
    struct bc_url u;
    struct bc_resp r;
    int rc;

    bc_url_init(&u, path);
    rc = bc_call(c, "GET", &u, NULL, true, &r, &le);
    res->status = r.status;
    if (rc == MLC_OK) {
        res->verdict = BC_PROBE_OK;
        snprintf(res->msg, sizeof(res->msg), "readable");
        if (body != NULL) {
            *body = r.body;
            r.body = NULL;
        }
    } else if (r.status == 401) {
        res->verdict = BC_PROBE_UNAUTHORIZED;
        snprintf(res->msg, sizeof(res->msg), "the API token was refused (%s)", le.msg);
    } else if (r.status == 403) {
        res->verdict = BC_PROBE_FORBIDDEN;
        snprintf(res->msg, sizeof(res->msg), "the API token lacks the scope %s for %s (%s)",
                 st->scope, st->resource, le.msg);
    } else {
        res->verdict = BC_PROBE_ERROR;
        snprintf(res->msg, sizeof(res->msg), "%s", le.msg);
    }
    bc_resp_clear(&r);
    bc_url_free(&u);
}

int bc_probe(struct bc_client *c, struct bc_probe_result out[BC_PROBE_MAX],
             size_t *n, struct mlc_err *e)
{
    char failed[256] = "";
    size_t nf = 0;
    int64_t newest = 0;
    int rc = MLC_OK;

    *n = 0;
    for (size_t i = 0; i < sizeof(probe_steps) / sizeof(probe_steps[0]); i++) {
        const struct probe_step *st = &probe_steps[i];
        struct bc_probe_result *res = &out[(*n)++];
        json_t *body = NULL;
        char path[96];

        memset(res, 0, sizeof(*res));
        res->resource = st->resource;
        res->scope = st->scope;
        if (st->path == NULL && newest <= 0) {
            res->verdict = BC_PROBE_SKIPPED;
            snprintf(res->msg, sizeof(res->msg), "no order to read transactions of");
            continue;
        }
        if (st->path == NULL)
            snprintf(path, sizeof(path), "/v3/orders/%" PRId64 "/transactions", newest);
        probe_one(c, st, st->path != NULL ? st->path : path, res,
                  strcmp(st->resource, "orders") == 0 ? &body : NULL);
        if (json_is_array(body) && json_array_size(body) > 0)
            newest = json_integer_value(json_object_get(json_array_get(body, 0), "id"));
        json_decref(body);
        if (res->verdict == BC_PROBE_OK)
            continue;
        if (rc == MLC_OK)
            rc = res->verdict == BC_PROBE_ERROR ? bc_status_code(res->status) : MLC_EAUTH;
        if (rc == MLC_EPROTO && res->status == 0)
            rc = MLC_EIO;
        snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s (%s)",
                 nf++ ? ", " : "", st->resource, bc_verdict_name(res->verdict));
    }
    if (rc != MLC_OK)
        mlc_err_set(e, rc, "BigCommerce: %zu resource(s) not readable: %s", nf, failed);
    return rc;
}
