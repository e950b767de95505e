#include "net/httpc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/log.h"
#include "core/secret.h"

#ifndef MLC_VERSION
#define MLC_VERSION "0.0.0"
#endif

#define URL_LOG_MAX 512

struct httpc {
    CURL  *curl;
    char  *user_agent;
    char  *ca_file;              /* NULL: system bundle */
    long   connect_timeout_ms;
    long   timeout_ms;
    size_t max_response;
    char   errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, shared by the write and header callbacks. */
struct xfer {
    struct httpc_response *r;
    size_t                 max;       /* cap on body + header bytes */
    size_t                 used;      /* body + header bytes so far */
    size_t                 body_cap;  /* allocated, NUL included */
    size_t                 hdr_cap;   /* slots in r->headers */
    bool                   too_big;
    bool                   oom;
};

/* ---- global init -------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = MLC_OK; /* written once under global_once */

static void global_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        global_rc = MLC_EIO;
    else if (sodium_init() < 0)
        global_rc = MLC_ECRYPTO;
}

int httpc_global_init(struct mlc_err *e)
{
    pthread_once(&global_once, global_init_once);
    if (global_rc != MLC_OK)
        return mlc_err_set(e, global_rc, "HTTP client library failed to initialize");
    return MLC_OK;
}

/* ---- client ------------------------------------------------------------- */

int httpc_new(const struct httpc_opts *o, struct httpc **out,
              struct mlc_err *e)
{
    static const struct httpc_opts none;
    struct httpc *c;
    char ua[128];
    int rc;

    *out = NULL;
    if (o == NULL)
        o = &none;
    rc = httpc_global_init(e);
    if (rc != MLC_OK)
        return rc;
    if (o->connect_timeout_ms < 0 || o->timeout_ms < 0)
        return mlc_err_set(e, MLC_EINVAL, "HTTP client timeouts must not be negative");
    if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
        char buf[128];

        return mlc_err_set(e, MLC_EIO, "CA file %s cannot be read: %s", o->ca_file,
                           strerror_r(errno, buf, sizeof(buf)));
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for an HTTP client");
    snprintf(ua, sizeof(ua), "ml-connector/%s", MLC_VERSION);
    c->user_agent = strdup(o->user_agent ? o->user_agent : ua);
    c->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
    c->curl = curl_easy_init();
    if (c->user_agent == NULL || (o->ca_file && c->ca_file == NULL) ||
        c->curl == NULL) {
        httpc_free(c);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for an HTTP client");
    }
    c->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
                                                  : HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
    c->max_response = o->max_response_bytes ? o->max_response_bytes
                                            : HTTPC_DEFAULT_MAX_RESPONSE;
    *out = c;
    return MLC_OK;
}

void httpc_free(struct httpc *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
}

/* ---- response ----------------------------------------------------------- */

static void free_headers(struct httpc_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

void httpc_response_clear(struct httpc_response *r)
{
    if (r == NULL)
        return;
    free_headers(r);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

const char *httpc_response_header(const struct httpc_response *r,
                                  const char *name)
{
    if (r == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

int httpc_response_header_int(const struct httpc_response *r,
                              const char *name, long long *out)
{
    const char *v = httpc_response_header(r, name);
    char *end;
    long long n;

    if (v == NULL)
        return MLC_ENOTFOUND;
    if (*v == '\0' || isspace((unsigned char)*v))
        return MLC_EPARSE;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return MLC_EPARSE;
    *out = n;
    return MLC_OK;
}

/* ---- URL redaction ------------------------------------------------------ */

/* Appends n bytes of s to buf (cap, *len), cutting when full. */
static void put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static bool name_ends_in_token(const char *name, size_t n)
{
    static const char tok[] = "token";
    const size_t k = sizeof(tok) - 1;

    return n >= k && strncasecmp(name + n - k, tok, k) == 0;
}

/* Copies the query (after '?') redacting values of *token parameters. */
static void redact_query(const char *q, char *buf, size_t cap, size_t *len)
{
    while (*q != '\0' && *q != '#') {
        size_t plen = strcspn(q, "&#");
        const char *eq = memchr(q, '=', plen);

        if (eq != NULL && name_ends_in_token(q, (size_t)(eq - q))) {
            put(buf, cap, len, q, (size_t)(eq - q) + 1);
            put(buf, cap, len, "[redacted]", 10);
        } else {
            put(buf, cap, len, q, plen);
        }
        q += plen;
        if (*q == '&') {
            put(buf, cap, len, "&", 1);
            q++;
        }
    }
    put(buf, cap, len, q, strlen(q)); /* fragment, if any */
}

void httpc_redact_url(const char *url, char *buf, size_t cap)
{
    const char *p, *auth, *at, *qm;
    size_t len = 0, alen;

    if (buf == NULL || cap == 0)
        return;
    buf[0] = '\0';
    if (url == NULL)
        return;
    p = strstr(url, "://");
    auth = p ? p + 3 : url;
    put(buf, cap, &len, url, (size_t)(auth - url));
    alen = strcspn(auth, "/?#");
    at = memchr(auth, '@', alen);
    if (at != NULL) {
        put(buf, cap, &len, "[redacted]", 10);
        auth = at;
        alen = strcspn(auth, "/?#");
    }
    put(buf, cap, &len, auth, alen);
    p = auth + alen;
    qm = strchr(p, '?');
    if (qm == NULL || (strchr(p, '#') != NULL && strchr(p, '#') < qm)) {
        put(buf, cap, &len, p, strlen(p));
        return;
    }
    put(buf, cap, &len, p, (size_t)(qm - p) + 1);
    redact_query(qm + 1, buf, cap, &len);
}

/* "scheme://host:port" of url (for TLS messages), credentials redacted. */
static void url_origin(const char *url, char *buf, size_t cap)
{
    const char *p;
    size_t n;

    httpc_redact_url(url, buf, cap);
    p = strstr(buf, "://");
    p = p ? p + 3 : buf;
    n = strcspn(p, "/?#");
    buf[(size_t)(p - buf) + n] = '\0';
}

/* ---- callbacks ---------------------------------------------------------- */

static bool charge(struct xfer *x, size_t n)
{
    if (n > x->max - x->used) {
        x->too_big = true;
        return false;
    }
    x->used += n;
    return true;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct xfer *x = ud;
    struct httpc_response *r = x->r;
    size_t n = sz * nm;

    if (!charge(x, n))
        return 0;
    if (r->body_len + n + 1 > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 4096;
        char *nb;

        while (cap < r->body_len + n + 1)
            cap *= 2;
        if (cap > x->max + 1)
            cap = x->max + 1;
        nb = realloc(r->body, cap);
        if (nb == NULL) {
            x->oom = true;
            return 0;
        }
        r->body = nb;
        x->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

static char *dup_trimmed(const char *s, size_t n)
{
    char *d;

    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int add_header(struct xfer *x, const char *line, size_t n)
{
    struct httpc_response *r = x->r;
    const char *colon = memchr(line, ':', n);
    char *name, *value;

    if (colon == NULL || colon == line)
        return 0; /* not a field line: ignore */
    if (r->n_headers == HTTPC_MAX_RESP_HEADERS) {
        x->too_big = true;
        return -1;
    }
    if (r->n_headers == x->hdr_cap) {
        size_t cap = x->hdr_cap ? x->hdr_cap * 2 : 16;
        void *nh = realloc(r->headers, cap * sizeof(*r->headers));

        if (nh == NULL) {
            x->oom = true;
            return -1;
        }
        r->headers = nh;
        x->hdr_cap = cap;
    }
    name = dup_trimmed(line, (size_t)(colon - line));
    value = dup_trimmed(colon + 1, n - (size_t)(colon - line) - 1);
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        x->oom = true;
        return -1;
    }
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = value;
    r->n_headers++;
    return 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct xfer *x = ud;
    size_t n = sz * nm;

    if (!charge(x, n))
        return 0;
    /* A status line starts a new header block (after a 100 Continue, say):
     * keep only the final response's fields. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        free_headers(x->r);
        return n;
    }
    if (add_header(x, p, n) != 0)
        return 0;
    return n;
}

/* ---- request building --------------------------------------------------- */

static bool valid_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?={}", ch) != NULL)
            return false;
    }
    return true;
}

static bool valid_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return false;
    return true;
}

static int append_header(struct curl_slist **sl, const char *name,
                         const char *value)
{
    char line[8192];
    struct curl_slist *n;
    int len = snprintf(line, sizeof(line), "%s: %s", name, value);

    if (len < 0 || (size_t)len >= sizeof(line))
        return MLC_ETOOBIG;
    n = curl_slist_append(*sl, line);
    if (n == NULL)
        return MLC_ENOMEM;
    *sl = n;
    return MLC_OK;
}

struct secret_hdr_ctx {
    const char         *name;
    struct curl_slist **sl;
};

/* Runs inside secret_use: formats "Name: value" in a local buffer, hands a
 * copy to the list, wipes the local buffer. */
static int secret_header_fn(const char *bytes, size_t len, void *ud)
{
    struct secret_hdr_ctx *sc = ud;
    size_t nlen = strlen(sc->name), total = nlen + 2 + len + 1;
    struct curl_slist *n;
    char *line;

    if (!valid_value(bytes, len))
        return MLC_EINVAL;
    line = malloc(total);
    if (line == NULL)
        return MLC_ENOMEM;
    memcpy(line, sc->name, nlen);
    memcpy(line + nlen, ": ", 2);
    memcpy(line + nlen + 2, bytes, len);
    line[total - 1] = '\0';
    n = curl_slist_append(*sc->sl, line);
    secret_wipe(line, total);
    free(line);
    if (n == NULL)
        return MLC_ENOMEM;
    *sc->sl = n;
    return MLC_OK;
}

/* Frees the list after wiping every entry (the secret ones matter; the
 * others cost nothing to wipe). */
static void wipe_free_slist(struct curl_slist *sl)
{
    for (struct curl_slist *n = sl; n != NULL; n = n->next)
        secret_wipe(n->data, strlen(n->data));
    curl_slist_free_all(sl);
}

static int build_headers(const struct httpc_request *rq,
                         struct curl_slist **sl, struct mlc_err *e)
{
    struct curl_slist *n;
    int rc;

    for (size_t i = 0; i < rq->n_headers; i++) {
        const struct httpc_header *h = &rq->headers[i];

        if (!valid_token(h->name) || h->value == NULL ||
            !valid_value(h->value, strlen(h->value)))
            return mlc_err_set(e, MLC_EINVAL, "invalid request header %s",
                               valid_token(h->name) ? h->name : "(bad name)");
        rc = append_header(sl, h->name, h->value);
        if (rc != MLC_OK)
            return mlc_err_set(e, rc, "request header %s too long or out of memory",
                               h->name);
    }
    /* No "Expect: 100-continue" round trip before larger bodies. */
    n = curl_slist_append(*sl, "Expect:");
    if (n == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for request headers");
    *sl = n;
    for (size_t i = 0; i < rq->n_secret_headers; i++) {
        const struct httpc_secret_header *h = &rq->secret_headers[i];
        struct secret_hdr_ctx sc = { h->name, sl };

        if (!valid_token(h->name) || h->value == NULL)
            return mlc_err_set(e, MLC_EINVAL, "invalid secret header %s",
                               valid_token(h->name) ? h->name : "(bad name)");
        rc = secret_use(h->value, secret_header_fn, &sc);
        if (rc != MLC_OK)
            return mlc_err_set(e, rc, "secret header %s: %s", h->name,
                               rc == MLC_EINVAL ? "value contains a line break"
                                                : "out of memory");
    }
    return MLC_OK;
}

static bool valid_method(const char *m)
{
    if (m == NULL || *m == '\0' || strlen(m) > 16)
        return false;
    for (; *m != '\0'; m++)
        if (!isupper((unsigned char)*m))
            return false;
    return true;
}

/* A request that is not safe twice, and every PUT/PATCH/DELETE: whether to
 * repeat those is the caller's decision (httpc_do_retry), never libcurl's. */
static bool needs_fresh_connection(const struct httpc_request *rq)
{
    return !rq->idempotent || strcmp(rq->method, "PUT") == 0 ||
           strcmp(rq->method, "PATCH") == 0 || strcmp(rq->method, "DELETE") == 0;
}

/* Sets every option for one request on a freshly reset handle. */
static int setup_handle(struct httpc *c, const struct httpc_request *rq,
                        struct curl_slist *sl, struct xfer *x)
{
    CURL *h = c->curl;
    long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : c->timeout_ms;
    CURLcode cc = CURLE_OK;

#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val); } while (0)
    curl_easy_reset(h); /* keeps connections, DNS and TLS session caches */
    c->errbuf[0] = '\0';
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_URL, rq->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, timeout);
    SET(CURLOPT_USERAGENT, c->user_agent);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* libcurl resends a request by itself when a reused connection dies
     * before the first response byte, POST included: the server may have
     * committed it and only the reply was lost. On a fresh connection it
     * never does, so every write gets one of its own (see httpc.h). */
    if (needs_fresh_connection(rq))
        SET(CURLOPT_FRESH_CONNECT, 1L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_HTTPHEADER, sl);
    if (strcmp(rq->method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (rq->body != NULL || strcmp(rq->method, "POST") == 0) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
        SET(CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        if (strcmp(rq->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (strcmp(rq->method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_CUSTOMREQUEST, rq->method);
    }
#undef SET
    return cc == CURLE_OK ? MLC_OK : MLC_EINVAL;
}

/* The request's URL as messages and logs may show it. */
static void req_url(const struct httpc_request *rq, char *buf, size_t cap)
{
    if (rq->secret_url) {
        url_origin(rq->url, buf, cap);
        if (strlen(buf) + 12 < cap)
            memcpy(buf + strlen(buf), "/[redacted]", 12);
        return;
    }
    httpc_redact_url(rq->url, buf, cap);
}

/* Maps a failed transfer to a status and a message without secrets. */
static int map_error(struct httpc *c, const struct httpc_request *rq,
                     CURLcode cc, const struct xfer *x, long timeout_ms,
                     struct mlc_err *e)
{
    char url[URL_LOG_MAX], origin[URL_LOG_MAX];
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);

    req_url(rq, url, sizeof(url));
    if (x->oom)
        return mlc_err_set(e, MLC_ENOMEM, "%s %s: out of memory for the response",
                           rq->method, url);
    if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
        return mlc_err_set(e, MLC_ETOOBIG,
                           "%s %s: response larger than %zu bytes (or over %d headers)",
                           rq->method, url, c->max_response, HTTPC_MAX_RESP_HEADERS);
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return mlc_err_set(e, MLC_ETIMEOUT, "%s %s: timed out (limit %ld ms): %s",
                           rq->method, url, timeout_ms, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        url_origin(rq->url, origin, sizeof(origin));
        return mlc_err_set(e, MLC_ECRYPTO, "TLS certificate of %s not trusted: %s",
                           origin, why);
    case CURLE_SSL_CACERT_BADFILE:
        return mlc_err_set(e, MLC_ECRYPTO, "CA file %s cannot be used: %s",
                           c->ca_file ? c->ca_file : "(system)", why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        url_origin(rq->url, origin, sizeof(origin));
        return mlc_err_set(e, MLC_ECRYPTO, "TLS handshake with %s failed: %s",
                           origin, why);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return mlc_err_set(e, MLC_EINVAL, "%s %s: bad URL (only http and https): %s",
                           rq->method, url, why);
    default:
        return mlc_err_set(e, MLC_EIO, "%s %s: %s", rq->method, url, why);
    }
}

static void log_attempt(const struct httpc_request *rq, int rc, int status,
                        int64_t total_us, const struct mlc_err *e)
{
    char url[URL_LOG_MAX];

    if (!log_enabled(LOG_LVL_DEBUG))
        return;
    req_url(rq, url, sizeof(url));
    log_debug("httpc", "request", LF_STR("method", rq->method),
              LF_STR("url", url), LF_INT("status", status),
              LF_INT("ms", total_us / 1000), LF_ERR(rc != MLC_OK ? e : NULL));
}

int httpc_do(struct httpc *c, const struct httpc_request *rq,
             struct httpc_response *out, struct mlc_err *e)
{
    struct curl_slist *sl = NULL;
    struct xfer x;
    CURLcode cc;
    curl_off_t us = 0;
    long status = 0;
    int rc;

    httpc_response_clear(out);
    if (c == NULL || rq == NULL || rq->url == NULL)
        return mlc_err_set(e, MLC_EINVAL, "HTTP request without client or URL");
    if (!valid_method(rq->method))
        return mlc_err_set(e, MLC_EINVAL, "invalid HTTP method");
    memset(&x, 0, sizeof(x));
    x.r = out;
    x.max = c->max_response;
    rc = build_headers(rq, &sl, e);
    if (rc != MLC_OK)
        goto out;
    if (setup_handle(c, rq, sl, &x) != MLC_OK) {
        rc = mlc_err_set(e, MLC_EINVAL, "%s: libcurl rejected an option", rq->method);
        goto out;
    }
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &us);
    out->total_us = (int64_t)us;
    if (cc != CURLE_OK) {
        rc = map_error(c, rq, cc, &x,
                       rq->timeout_ms > 0 ? rq->timeout_ms : c->timeout_ms, e);
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    out->status = (int)status;
    if (out->body == NULL) {
        out->body = calloc(1, 1);
        if (out->body == NULL) {
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for a response");
            goto out;
        }
    }
    rc = MLC_OK;
out:
    /* Drop our pointer to the list before freeing it: the handle is reused. */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    wipe_free_slist(sl);
    log_attempt(rq, rc, out->status, out->total_us, e);
    return rc;
}

/* ---- connection probe ---------------------------------------------------- */

static int64_t us_to_ms(curl_off_t us)
{
    return us > 0 ? (int64_t)(us / 1000) : 0;
}

static void probe_target(const char *url, struct httpc_probe *p)
{
    CURLU *u = curl_url();
    char *h = NULL, *pt = NULL, *sch = NULL;

    snprintf(p->host, sizeof(p->host), "?");
    p->tls = strncmp(url, "https://", 8) == 0;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
            snprintf(p->host, sizeof(p->host), "%s", h);
        if (curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) == CURLUE_OK)
            p->port = strtol(pt, NULL, 10);
        if (curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK)
            p->tls = strcmp(sch, "https") == 0;
    }
    curl_free(h);
    curl_free(pt);
    curl_free(sch);
    curl_url_cleanup(u);
}

static enum httpc_probe_fail probe_class(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK: return HTTPC_PROBE_OK;
    case CURLE_COULDNT_RESOLVE_HOST: return HTTPC_PROBE_DNS;
    case CURLE_COULDNT_RESOLVE_PROXY: return HTTPC_PROBE_PROXY_DNS;
    case CURLE_COULDNT_CONNECT: return HTTPC_PROBE_TCP;
    case CURLE_OPERATION_TIMEDOUT: return HTTPC_PROBE_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return HTTPC_PROBE_TLS_UNTRUSTED;
    case CURLE_SSL_CACERT_BADFILE: return HTTPC_PROBE_TLS_CAFILE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED: return HTTPC_PROBE_TLS_HANDSHAKE;
    default: return HTTPC_PROBE_OTHER;
    }
}

int httpc_probe(struct httpc *c, const char *url, struct httpc_probe *out)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_off_t dns = 0, tcp = 0, tls = 0;
    long os_err = 0;
    CURLcode cc;
    CURL *h;

    memset(out, 0, sizeof(*out));
    probe_target(url, out);
    /* Its own handle: a connect-only connection must not join the client's
     * pool of connections that requests reuse. */
    if ((h = curl_easy_init()) == NULL) {
        out->fail = HTTPC_PROBE_OTHER;
        snprintf(out->msg, sizeof(out->msg), "out of memory");
        return MLC_EIO;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &tcp);
    curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_err);
    curl_easy_cleanup(h);
    out->dns_ms = us_to_ms(dns);
    out->tcp_ms = us_to_ms(tcp);
    out->tls_ms = us_to_ms(tls);
    out->fail = probe_class(cc);
    if (out->fail == HTTPC_PROBE_TCP)
        out->os_errno = (int)os_err;
    if (cc != CURLE_OK)
        snprintf(out->msg, sizeof(out->msg), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return cc == CURLE_OK ? MLC_OK : MLC_EIO;
}

/* ---- retries ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int default_sleep(void *ctx, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    (void)ctx;
    if (ms <= 0)
        return 0;
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
        ;
    return 0;
}

/* The policy with defaults filled in. */
static struct httpc_retry effective(const struct httpc_retry *p)
{
    struct httpc_retry r = { 0 };

    if (p != NULL)
        r = *p;
    if (r.max_attempts == 0)
        r.max_attempts = 4;
    if (r.base_delay_ms <= 0)
        r.base_delay_ms = 500;
    if (r.max_delay_ms <= 0)
        r.max_delay_ms = 30000;
    if (r.max_total_ms <= 0)
        r.max_total_ms = 120000;
    if (r.sleep_fn == NULL)
        r.sleep_fn = default_sleep;
    return r;
}

long httpc_backoff_ms(const struct httpc_retry *p, unsigned n)
{
    struct httpc_retry r = effective(p);
    long d = r.base_delay_ms;
    uint32_t span;

    for (unsigned i = 1; i < n && d < r.max_delay_ms; i++)
        d = d > LONG_MAX / 2 ? LONG_MAX : d * 2;
    if (d > r.max_delay_ms)
        d = r.max_delay_ms;
    if (d > (long)(UINT32_MAX / 2))
        d = (long)(UINT32_MAX / 2);
    if (r.jitter == HTTPC_JITTER_EQUAL) {
        span = (uint32_t)(d - d / 2);
        return d / 2 + (long)randombytes_uniform(span + 1);
    }
    return (long)randombytes_uniform((uint32_t)d + 1);
}

static bool retryable(int rc, int status)
{
    if (rc == MLC_ETIMEOUT || rc == MLC_EIO)
        return true;
    if (rc != MLC_OK)
        return false;
    return status == 500 || status == 502 || status == 503 || status == 504;
}

static enum httpc_hook_action call_hook(const struct httpc_retry *r,
                                        struct httpc_hook_info *in,
                                        long *delay_ms)
{
    *delay_ms = 0;
    return r->hook ? r->hook(r->hook_ctx, in, delay_ms) : HTTPC_HOOK_DEFAULT;
}

/* Decides whether to retry after an attempt; *delay_ms is the sleep. */
static bool want_retry(const struct httpc_retry *r,
                       const struct httpc_request *rq, unsigned attempt,
                       enum httpc_hook_action act, long hook_delay, int rc,
                       int status, long *delay_ms)
{
    bool retry;

    switch (act) {
    case HTTPC_HOOK_STOP:
        return false;
    case HTTPC_HOOK_RETRY_UNPROCESSED:
        retry = true;
        *delay_ms = hook_delay;
        break;
    case HTTPC_HOOK_RETRY:
        retry = rq->idempotent;
        *delay_ms = hook_delay;
        break;
    default:
        retry = rq->idempotent && retryable(rc, status);
        *delay_ms = httpc_backoff_ms(r, attempt);
        break;
    }
    if (*delay_ms < 0)
        *delay_ms = 0;
    return retry && attempt < r->max_attempts;
}

int httpc_do_retry(struct httpc *c, const struct httpc_request *rq,
                   const struct httpc_retry *policy,
                   struct httpc_response *out, struct mlc_err *e)
{
    struct httpc_retry r = effective(policy);
    struct mlc_err le;
    int64_t start = mono_ms();
    int rc = MLC_OK;

    mlc_err_clear(&le);
    for (unsigned attempt = 1;; attempt++) {
        struct httpc_hook_info in = { .event = HTTPC_HOOK_BEFORE_ATTEMPT,
                                      .attempt = attempt, .req = rq, .err = &le };
        enum httpc_hook_action act;
        long hook_delay, delay = 0;

        mlc_err_clear(&le);
        if (call_hook(&r, &in, &hook_delay) == HTTPC_HOOK_STOP) {
            httpc_response_clear(out);
            rc = le.code != MLC_OK ? le.code
                 : mlc_err_set(&le, MLC_ESTATE, "request stopped before attempt %u",
                               attempt);
            break;
        }
        rc = httpc_do(c, rq, out, &le);
        in.event = HTTPC_HOOK_AFTER_ATTEMPT;
        in.resp = out;
        in.rc = rc;
        act = call_hook(&r, &in, &hook_delay);
        if (!want_retry(&r, rq, attempt, act, hook_delay, rc, out->status, &delay))
            break;
        if (mono_ms() - start + delay > r.max_total_ms)
            break;
        log_debug("httpc", "retrying", LF_STR("method", rq->method),
                  LF_INT("attempt", attempt + 1), LF_INT("delay_ms", delay),
                  LF_INT("status", out->status));
        if (r.sleep_fn(r.sleep_ctx, delay) != 0)
            break;
    }
    if (e != NULL)
        *e = le;
    return rc;
}
