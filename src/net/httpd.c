#include "net/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "core/log.h"

/* A body over the cap is read and thrown away up to this many times the cap
 * (so a well-behaved client reads our 413), then the connection is dropped. */
#define DISCARD_FACTOR 4

/* MHD warns once per refused connection: at most this many of its lines per
 * window reach the log, the rest are counted and the count is logged with
 * the next line after the window (or at stop). */
#define MHD_LOG_BURST     5
#define MHD_LOG_WINDOW_MS 10000

/*
 * The read bound. MHD has no option for the total time of a request, and it
 * calls us nowhere while headers arrive, so each TCP connection gets a watch
 * (MHD's socket context, NOTIFY_CONNECTION) holding its socket and the start
 * of its current read. Two places cut a read that is over the bound:
 * - on_request, at every call (headers complete, each body chunk, the final
 *   call), answers MHD_NO: MHD closes the connection itself;
 * - the reaper thread, a few times per bound, shuts the socket down
 *   (shutdown(2), never close(2)): MHD then reads EOF on its own thread and
 *   closes and frees the connection, its slot and its per-IP count as for a
 *   client that went away. This is what catches headers dribbled line by line
 *   and a body that stalls between two chunks.
 * The reaper touches a socket only under h->lock, and a watch leaves the list
 * under the same lock in NOTIFY_CLOSED, which MHD calls before it closes the
 * socket: the descriptor shut down is always still this connection's, never
 * one reused by a newer connection.
 *
 * A read starts when the connection opens or when the previous answer has
 * gone out (NOTIFY_COMPLETED), and ends when the final call of the access
 * handler starts: the handler's own time is not bounded. Until the request
 * line has arrived (MHD's URI callback) the connection is idle: one closed
 * then is a kept-alive or preconnected connection nobody used (or a request
 * line dribbled byte by byte), counted apart and logged at debug only, so
 * that a monitoring client's kept-alive connections do not read as attacks.
 */
enum watch_phase {
    W_IDLE,      /* no request line yet */
    W_REQUEST,   /* request line in, headers and body being read */
    W_HANDLER    /* the handler runs, then its answer goes out: not bounded */
};

struct conn_watch {
    struct conn_watch *prev, *next;
    int      fd;          /* the connection's socket, open while linked */
    int64_t  since_ms;    /* start of the current read (monotonic clock) */
    enum watch_phase phase;
    bool     cut;         /* over the bound: counted */
    bool     shut;        /* and shut down by the reaper */
    char     client[INET6_ADDRSTRLEN];
};

struct httpd {
    struct MHD_Daemon  *mhd;
    struct httpd_route *routes;
    size_t              n_routes;
    size_t              max_body;
    int64_t             request_timeout_ms; /* 0 = no read bound */
    uint16_t            port;
    _Atomic uint64_t    requests;
    _Atomic uint64_t    cut;         /* requests cut (W_REQUEST) */
    _Atomic uint64_t    idle_cut;    /* idle connections closed (W_IDLE) */
    pthread_mutex_t     lock;        /* guards every field below */
    pthread_cond_t      wake;        /* the reaper's sleep (monotonic clock) */
    struct conn_watch  *watch;       /* open connections */
    bool                stopping;
    bool                reaper_on;
    pthread_t           reaper;
    char                last_cut[INET6_ADDRSTRLEN]; /* client, for the log */
    int64_t             log_window_ms;
    unsigned            log_lines;   /* MHD lines logged in this window */
    unsigned            log_dropped; /* and dropped */
};

/* Per-request state, hung on MHD's *req_cls and freed in on_completed. */
struct httpd_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char       *body;
    size_t      len;
    size_t      cap;
    size_t      discarded;
    bool        too_big;
    struct conn_watch *watch; /* its connection's, NULL when not watched */
    char        client[INET6_ADDRSTRLEN];
};

const char *httpd_req_method(const struct httpd_request *r) { return r->method; }
const char *httpd_req_path(const struct httpd_request *r) { return r->path; }
const char *httpd_req_client(const struct httpd_request *r) { return r->client; }

const char *httpd_req_header(const struct httpd_request *r, const char *name)
{
    /* MHD compares header names case-insensitively. */
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *httpd_req_query(const struct httpd_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *httpd_req_body(const struct httpd_request *r, size_t *len)
{
    if (len != NULL)
        *len = r->len;
    return r->body != NULL ? r->body : "";
}

/* ---- responses ---------------------------------------------------------- */

static void resp_drop_body(struct httpd_response *rs)
{
    if (rs->body_owned)
        free((char *)rs->body);
    rs->body = NULL;
    rs->body_len = 0;
    rs->body_owned = false;
}

void httpd_resp_static(struct httpd_response *rs, int status,
                       const char *content_type, const char *body)
{
    resp_drop_body(rs);
    rs->status = status;
    rs->content_type = content_type;
    rs->body = body;
    rs->body_len = body != NULL ? strlen(body) : 0;
}

void httpd_resp_take(struct httpd_response *rs, int status,
                     const char *content_type, char *body, size_t len)
{
    resp_drop_body(rs);
    rs->status = status;
    rs->content_type = content_type;
    rs->body = body;
    rs->body_len = len;
    rs->body_owned = body != NULL;
}

int httpd_resp_copy(struct httpd_response *rs, int status,
                    const char *content_type, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL) {
        httpd_resp_static(rs, 500, "application/json",
                          "{\"error\":\"out of memory\"}");
        return MLC_ENOMEM;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    httpd_resp_take(rs, status, content_type, copy, len);
    return MLC_OK;
}

int httpd_resp_header(struct httpd_response *rs, const char *name,
                      const char *value)
{
    char *n, *v;

    if (rs->n_headers >= HTTPD_MAX_HEADERS)
        return MLC_ERANGE;
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return MLC_ENOMEM;
    }
    rs->headers[rs->n_headers].name = n;
    rs->headers[rs->n_headers].value = v;
    rs->n_headers++;
    return MLC_OK;
}

static void resp_clear(struct httpd_response *rs)
{
    resp_drop_body(rs);
    for (size_t i = 0; i < rs->n_headers; i++) {
        free(rs->headers[i].name);
        free(rs->headers[i].value);
    }
    rs->n_headers = 0;
}

void httpd_resp_drop(struct httpd_response *rs)
{
    resp_clear(rs);
    rs->drop = true;
}

/* Hands rs to MHD (body ownership moves to MHD) and clears rs. */
static enum MHD_Result send_resp(struct httpd *h, struct MHD_Connection *c,
                                 struct httpd_response *rs)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (rs->drop) {
        /* MHD_NO from the access handler closes the connection unanswered. */
        atomic_fetch_add(&h->requests, 1);
        resp_clear(rs);
        return MHD_NO;
    }
    if (rs->body_owned) {
        r = MHD_create_response_from_buffer_with_free_callback(
            rs->body_len, (void *)rs->body, free);
        if (r != NULL)
            rs->body_owned = false; /* MHD frees it now */
    } else {
        r = MHD_create_response_from_buffer(rs->body_len,
                                            (void *)(rs->body != NULL ? rs->body : ""),
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        resp_clear(rs);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rs->content_type != NULL ? rs->content_type
                                                     : "application/json");
    for (size_t i = 0; i < rs->n_headers; i++)
        MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
    ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    atomic_fetch_add(&h->requests, 1);
    rs->body = NULL;
    resp_clear(rs);
    return ret;
}

static enum MHD_Result send_static(struct httpd *h, struct MHD_Connection *c,
                                   int status, const char *body)
{
    struct httpd_response rs = { 0 };

    httpd_resp_static(&rs, status, "application/json", body);
    return send_resp(h, c, &rs);
}

/* ---- request handling --------------------------------------------------- */

/* Appends an upload chunk under the cap; over it, counts discarded bytes.
 * Returns false when the client sent far too much and must be dropped. */
static bool absorb(struct httpd *h, struct httpd_request *rq,
                   const char *data, size_t n)
{
    if (!rq->too_big && n > h->max_body - rq->len)
        rq->too_big = true;
    if (rq->too_big) {
        rq->discarded += n;
        return rq->discarded / DISCARD_FACTOR <= h->max_body;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t ncap = rq->cap == 0 ? 1024 : rq->cap;
        char *nb;

        while (ncap < rq->len + n + 1)
            ncap *= 2;
        nb = realloc(rq->body, ncap);
        if (nb == NULL)
            return false;
        rq->body = nb;
        rq->cap = ncap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return true;
}

/* True when the declared Content-Length already exceeds the cap. */
static bool declared_too_big(const struct httpd *h, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long v;
    char *end;

    if (cl == NULL)
        return false;
    errno = 0;
    v = strtoull(cl, &end, 10);
    if (errno != 0 || end == cl)
        return false; /* MHD itself rejects a malformed length */
    return v > h->max_body;
}

/* The client's address as text into buf (INET6_ADDRSTRLEN), "" if unknown. */
static void client_text(struct MHD_Connection *c, char *buf)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    buf[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  buf, INET6_ADDRSTRLEN);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  buf, INET6_ADDRSTRLEN);
}

/* ---- the read bound ----------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* With h->lock held: true when w's read has outlasted the bound (or was cut
 * before). The first time, counts the cut by phase. */
static bool watch_over_locked(struct httpd *h, struct conn_watch *w, int64_t now)
{
    if (w->cut)
        return true;
    if (h->request_timeout_ms == 0 || w->phase == W_HANDLER ||
        now - w->since_ms < h->request_timeout_ms)
        return false;
    w->cut = true;
    if (w->phase == W_IDLE) {
        atomic_fetch_add(&h->idle_cut, 1);
    } else {
        atomic_fetch_add(&h->cut, 1);
        memcpy(h->last_cut, w->client, sizeof(h->last_cut));
    }
    return true;
}

/* The connection w (NULL when not watched) enters phase p. W_IDLE starts
 * its next read; W_REQUEST and W_HANDLER first check that the current read
 * is in time. False when it is over the bound: the caller answers MHD_NO. */
static bool watch_phase(struct httpd *h, struct conn_watch *w, enum watch_phase p)
{
    bool over = false;

    if (w == NULL)
        return true;
    pthread_mutex_lock(&h->lock);
    if (p == W_IDLE)
        w->since_ms = mono_ms(); /* the next read starts now */
    else
        over = watch_over_locked(h, w, mono_ms());
    if (!over)
        w->phase = p;
    pthread_mutex_unlock(&h->lock);
    return !over;
}

static struct conn_watch *watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* MHD's URI callback: the request line is in. Returns NULL, so the access
 * handler still sees *req_cls == NULL on its first call. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)uri;
    watch_phase(cls, watch_of(c), W_REQUEST);
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct httpd *h = cls;
    struct conn_watch *w = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (w == NULL)
            return;
        /* Unlinked before MHD closes the socket (see the top of the file). */
        pthread_mutex_lock(&h->lock);
        if (w->prev != NULL)
            w->prev->next = w->next;
        else
            h->watch = w->next;
        if (w->next != NULL)
            w->next->prev = w->prev;
        pthread_mutex_unlock(&h->lock);
        free(w);
        *socket_context = NULL;
        return;
    }
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL)
        return;
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        /* Fail closed: a connection we cannot bound is not served. */
        shutdown(ci->connect_fd, SHUT_RDWR);
        return;
    }
    w->fd = ci->connect_fd;
    w->since_ms = mono_ms();
    w->phase = W_IDLE;
    client_text(c, w->client);
    pthread_mutex_lock(&h->lock);
    w->next = h->watch;
    if (h->watch != NULL)
        h->watch->prev = w;
    h->watch = w;
    pthread_mutex_unlock(&h->lock);
    *socket_context = w;
}

/* With h->lock held: shuts down every connection whose read is over,
 * including those found over by a callback (which MHD may not close by
 * itself: the URI callback cannot refuse a request). */
static void reap_locked(struct httpd *h)
{
    int64_t now = mono_ms();

    for (struct conn_watch *w = h->watch; w != NULL; w = w->next) {
        if (w->shut || !watch_over_locked(h, w, now))
            continue;
        shutdown(w->fd, SHUT_RDWR);
        w->shut = true;
    }
}

/* Wakes a few times per bound; logs the cuts since its last line, once a
 * second at most. */
static void *reaper_main(void *arg)
{
    struct httpd *h = arg;
    int64_t tick = h->request_timeout_ms / 4, logged_ms = 0;
    uint64_t logged = 0, idle_logged = 0, n, idle;
    char client[INET6_ADDRSTRLEN];
    struct timespec ts;

    if (tick < 50)
        tick = 50;
    if (tick > 1000)
        tick = 1000;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(tick / 1000);
        ts.tv_nsec += (long)(tick % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->wake, &h->lock, &ts);
        if (h->stopping)
            break;
        reap_locked(h);
        n = atomic_load(&h->cut);
        idle = atomic_load(&h->idle_cut);
        if ((n == logged && idle == idle_logged) || mono_ms() - logged_ms < 1000)
            continue;
        logged_ms = mono_ms();
        memcpy(client, h->last_cut, sizeof(client));
        pthread_mutex_unlock(&h->lock);
        if (n != logged)
            log_warn("httpd", "requests cut: not read whole in time",
                     LF_UINT("count", n - logged), LF_UINT("total", n),
                     LF_STR("last_client", client),
                     LF_INT("request_timeout_ms", h->request_timeout_ms));
        if (idle != idle_logged)
            log_debug("httpd", "idle connections closed",
                      LF_UINT("count", idle - idle_logged), LF_UINT("total", idle));
        logged = n;
        idle_logged = idle;
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* A route path matches exactly, or, when it ends in '*', as a prefix
 * (the part before the asterisk must start the request path). */
static bool route_path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);

    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, path, n - 1) == 0;
    return strcmp(pattern, path) == 0;
}

/* Routing in table order: the first route whose path matches and whose
 * method is the request's (or "*") handles it; else 404/405. */
static enum MHD_Result dispatch(struct httpd *h, struct httpd_request *rq)
{
    struct httpd_response rs = { .status = 200 };
    char allow[128] = "";
    bool path_known = false;

    for (size_t i = 0; i < h->n_routes; i++) {
        const struct httpd_route *rt = &h->routes[i];

        if (!route_path_matches(rt->path, rq->path))
            continue;
        if (strcmp(rt->method, "*") == 0 || strcmp(rt->method, rq->method) == 0) {
            rs.content_type = "application/json";
            rt->fn(rq, &rs, rt->ctx);
            return send_resp(h, rq->conn, &rs);
        }
        path_known = true;
        snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                 allow[0] != '\0' ? ", " : "", rt->method);
    }
    if (!path_known)
        return send_static(h, rq->conn, 404, "{\"error\":\"not found\"}");
    httpd_resp_static(&rs, 405, "application/json",
                      "{\"error\":\"method not allowed\"}");
    httpd_resp_header(&rs, "Allow", allow);
    return send_resp(h, rq->conn, &rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct httpd *h = cls;
    struct httpd_request *rq = *req_cls;

    (void)version;
    if (rq == NULL) {
        /* First call: headers only. */
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        rq->conn = c;
        rq->method = method;
        rq->path = url;
        rq->watch = watch_of(c);
        client_text(c, rq->client);
        *req_cls = rq;
        if (!watch_phase(h, rq->watch, W_REQUEST))
            return MHD_NO;
        if (declared_too_big(h, c)) {
            /* Answer before reading the body (clean with Expect: 100-continue). */
            rq->too_big = true;
            return send_static(h, c, 413, "{\"error\":\"request body too large\"}");
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        bool ok = absorb(h, rq, upload_data, *upload_data_size);

        *upload_data_size = 0;
        return ok && watch_phase(h, rq->watch, W_REQUEST) ? MHD_YES : MHD_NO;
    }
    if (!watch_phase(h, rq->watch, W_HANDLER))
        return MHD_NO;
    if (rq->too_big)
        return send_static(h, c, 413, "{\"error\":\"request body too large\"}");
    return dispatch(h, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct httpd_request *rq = *req_cls;

    (void)c;
    (void)toe;
    if (rq == NULL)
        return;
    watch_phase(cls, rq->watch, W_IDLE);
    free(rq->body);
    free(rq);
    *req_cls = NULL;
}

/* With h->lock held: MHD lines dropped in a window that is over (0 when
 * none), and that window closed. */
static unsigned log_window_close_locked(struct httpd *h, int64_t now, bool force)
{
    unsigned dropped = h->log_dropped;

    if (!force && now - h->log_window_ms < MHD_LOG_WINDOW_MS)
        return 0;
    h->log_window_ms = now;
    h->log_lines = 0;
    h->log_dropped = 0;
    return dropped;
}

static void log_dropped(unsigned dropped)
{
    if (dropped > 0)
        log_warn("httpd", "mhd warnings suppressed", LF_UINT("count", dropped),
                 LF_INT("window_s", MHD_LOG_WINDOW_MS / 1000));
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct httpd *h = cls;
    char buf[512];
    size_t n;
    unsigned dropped;
    bool emit;

    pthread_mutex_lock(&h->lock);
    dropped = log_window_close_locked(h, mono_ms(), false);
    emit = h->log_lines < MHD_LOG_BURST;
    if (emit)
        h->log_lines++;
    else
        h->log_dropped++;
    pthread_mutex_unlock(&h->lock);
    log_dropped(dropped);
    if (!emit)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_warn("httpd", "mhd", LF_STR("detail", buf));
}

/* ---- lifecycle ---------------------------------------------------------- */

static int parse_port(const char *s, uint16_t *out)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return MLC_EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
        return MLC_EINVAL;
    *out = (uint16_t)v;
    return MLC_OK;
}

int httpd_parse_listen(const char *s, struct sockaddr_storage *ss,
                       socklen_t *len, struct mlc_err *e)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon, *port_s;
    uint16_t port;
    size_t hl;

    memset(ss, 0, sizeof(*ss));
    if (s == NULL || *s == '\0')
        return mlc_err_set(e, MLC_EINVAL, "listen address is empty");
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');

        if (rb == NULL || rb[1] != ':')
            return mlc_err_set(e, MLC_EINVAL,
                               "listen address '%s': expected [IPv6]:PORT", s);
        hl = (size_t)(rb - s - 1);
        if (hl >= sizeof(host))
            return mlc_err_set(e, MLC_EINVAL, "listen address '%s': bad host", s);
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        port_s = rb + 2;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (hl = (size_t)(colon - s)) >= sizeof(host))
            return mlc_err_set(e, MLC_EINVAL,
                               "listen address '%s': expected HOST:PORT", s);
        memcpy(host, s, hl);
        host[hl] = '\0';
        port_s = colon + 1;
    }
    if (parse_port(port_s, &port) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "listen address '%s': bad port", s);
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return mlc_err_set(e, MLC_EINVAL,
                               "listen address '%s': not an IPv6 literal", s);
        *len = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return mlc_err_set(e, MLC_EINVAL,
                               "listen address '%s': not an IPv4 literal", s);
        *len = sizeof(*a4);
    }
    return MLC_OK;
}

/* h zeroed: its lock and the reaper's condition variable (monotonic). */
static int sync_init(struct httpd *h)
{
    pthread_condattr_t ca;
    int rc;

    if (pthread_mutex_init(&h->lock, NULL) != 0)
        return MLC_ENOMEM;
    rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(&h->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        pthread_mutex_destroy(&h->lock);
        return MLC_ENOMEM;
    }
    return MLC_OK;
}

static void h_destroy(struct httpd *h)
{
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h->routes);
    free(h);
}

int httpd_start(const struct httpd_opts *o, const struct httpd_route *routes,
                size_t n_routes, struct httpd **out, struct mlc_err *e)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    /* A pool of epoll threads; or (threads 0) a thread per connection, so
     * a handler that blocks (a simulator withholding a reply) never stalls
     * the other connections a pool thread would also serve. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     (o->threads > 0 ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION |
                                                       MHD_USE_POLL);
    const union MHD_DaemonInfo *di;
    struct MHD_OptionItem extra[4];
    size_t n_extra = 0;
    struct httpd *h;
    int rc;

    *out = NULL;
    if (o->max_body_bytes == 0 || o->max_body_bytes > SIZE_MAX / (DISCARD_FACTOR + 1))
        return mlc_err_set(e, MLC_EINVAL, "httpd: bad max_body_bytes");
    if ((o->tls_cert_pem == NULL) != (o->tls_key_pem == NULL))
        return mlc_err_set(e, MLC_EINVAL, "httpd: TLS needs a certificate and its key");
    if (o->tls_cert_pem != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return mlc_err_set(e, MLC_ESTATE, "httpd: this libmicrohttpd has no TLS");
        flags |= MHD_USE_TLS;
        extra[n_extra++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
                                                    (void *)o->tls_key_pem };
        extra[n_extra++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
                                                    (void *)o->tls_cert_pem };
    }
    if (o->reuse_port)
        extra[n_extra++] = (struct MHD_OptionItem){ MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL };
    extra[n_extra] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    rc = httpd_parse_listen(o->listen, &ss, &sl, e);
    if (rc != MLC_OK)
        return rc;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "httpd: out of memory");
    if (sync_init(h) != MLC_OK) {
        free(h);
        return mlc_err_set(e, MLC_ENOMEM, "httpd: cannot create a lock");
    }
    h->routes = calloc(n_routes > 0 ? n_routes : 1, sizeof(*h->routes));
    if (h->routes == NULL) {
        h_destroy(h);
        return mlc_err_set(e, MLC_ENOMEM, "httpd: out of memory");
    }
    if (n_routes > 0)
        memcpy(h->routes, routes, n_routes * sizeof(*routes));
    h->n_routes = n_routes;
    h->max_body = o->max_body_bytes;
    h->request_timeout_ms = o->request_timeout_ms;
    h->log_window_ms = mono_ms();
    h->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(o->max_connections > 0 ? o->max_connections : 1000),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->per_ip_limit,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, h,
        MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (h->mhd == NULL) {
        h_destroy(h);
        if (o->tls_cert_pem != NULL)
            return mlc_err_set(e, MLC_EIO, "httpd: cannot listen on %s (address in use or "
                               "not available, or the TLS certificate or key was refused)",
                               o->listen);
        return mlc_err_set(e, MLC_EIO, "httpd: cannot listen on %s "
                           "(address in use or not available)", o->listen);
    }
    if (h->request_timeout_ms > 0) {
        if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
            MHD_stop_daemon(h->mhd);
            h_destroy(h);
            return mlc_err_set(e, MLC_ENOMEM, "httpd: cannot start the reaper thread");
        }
        h->reaper_on = true;
    }
    di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di != NULL ? di->port : 0;
    *out = h;
    return MLC_OK;
}

uint16_t httpd_port(const struct httpd *h) { return h->port; }

uint64_t httpd_requests_total(const struct httpd *h)
{
    return atomic_load(&h->requests);
}

uint64_t httpd_requests_cut(const struct httpd *h)
{
    return atomic_load(&h->cut);
}

uint64_t httpd_idle_cut(const struct httpd *h)
{
    return atomic_load(&h->idle_cut);
}

void httpd_stop(struct httpd *h)
{
    unsigned dropped;

    if (h == NULL || h->mhd == NULL)
        return;
    if (h->reaper_on) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->reaper, NULL);
        h->reaper_on = false;
    }
    /* MHD_stop_daemon joins its threads: no handler runs after this, and
     * every connection's NOTIFY_CLOSED has emptied the watch list. */
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
    pthread_mutex_lock(&h->lock);
    dropped = log_window_close_locked(h, mono_ms(), true);
    pthread_mutex_unlock(&h->lock);
    log_dropped(dropped);
}

void httpd_free(struct httpd *h)
{
    if (h == NULL)
        return;
    httpd_stop(h);
    h_destroy(h);
}
