/*
 * httpd: a small HTTP server over libmicrohttpd (MHD).
 *
 * MHD runs its own epoll thread pool; handlers run concurrently on those
 * threads, so everything a handler touches must be thread-safe. Routing matches
 * the path exactly or by prefix (no query string): an unknown path answers 404, a
 * known path with another method 405 (with Allow), both as small JSON bodies.
 * The request body is collected under max_body_bytes before the handler is
 * called; a body over the cap is answered 413 and the handler never runs.
 *
 * Slow and hostile clients. MHD's own timeout (connection_timeout_s) counts
 * idle time only, so a client that sends one byte every few seconds would hold
 * its connection for ever. request_timeout_ms bounds the whole read of a
 * request instead: from the connection's opening, or from the end of the
 * previous answer on a kept-alive connection, to the last byte of the body.
 * A request still incomplete then is cut (the connection is closed unanswered)
 * and its slot is free again; the time a handler runs does not count. A
 * connection that has not sent a request line by then is closed as idle.
 * per_ip_limit caps the connections one client address holds, so a single
 * address cannot take every slot of max_connections. Both are counted (see
 * httpd_requests_cut); MHD's own warnings are rate-limited so a flood of
 * refused connections cannot flood the log.
 *
 * Lifetime: httpd_start copies the route table; the handlers' ctx pointers
 * must stay valid until httpd_stop returns. After httpd_stop no handler runs
 * any more, so the caller may then free what the handlers use.
 */
#ifndef MLC_NET_HTTPD_H
#define MLC_NET_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

struct httpd;
struct httpd_request;

/* Read-only view of one request, valid during the handler call only. */
const char *httpd_req_method(const struct httpd_request *r);
const char *httpd_req_path(const struct httpd_request *r);
/* Header value by name, case-insensitive; NULL when absent. */
const char *httpd_req_header(const struct httpd_request *r, const char *name);
/* Query argument by name (URL-decoded); NULL when absent. */
const char *httpd_req_query(const struct httpd_request *r, const char *name);
/* The body (NUL-terminated for convenience; len excludes the NUL). */
const char *httpd_req_body(const struct httpd_request *r, size_t *len);
/* Client address as text ("127.0.0.1", "::1"), "" when unknown. */
const char *httpd_req_client(const struct httpd_request *r);

#define HTTPD_MAX_HEADERS 8

/* What a handler fills. status defaults to 200, content type to
 * application/json. Use the setters below: they manage body ownership. */
struct httpd_response {
    int         status;
    const char *content_type;  /* static string */
    const char *body;          /* owned when body_owned, else static */
    size_t      body_len;
    bool        body_owned;
    bool        drop;          /* close the connection without an answer */
    size_t      n_headers;
    struct { char *name; char *value; } headers[HTTPD_MAX_HEADERS];
};

/* Static body (not copied, not freed). */
void httpd_resp_static(struct httpd_response *rs, int status,
                       const char *content_type, const char *body);
/* Takes ownership of body (malloc'd), freed after sending. */
void httpd_resp_take(struct httpd_response *rs, int status,
                     const char *content_type, char *body, size_t len);
/* Copies body. MLC_ENOMEM on failure (the response becomes a 500). */
int httpd_resp_copy(struct httpd_response *rs, int status,
                    const char *content_type, const char *body, size_t len);
/* Closes the connection without sending any answer (a simulator's "reply
 * lost" fault). */
void httpd_resp_drop(struct httpd_response *rs);
/* Adds a header (copied). MLC_ERANGE when HTTPD_MAX_HEADERS are set. */
int httpd_resp_header(struct httpd_response *rs, const char *name,
                      const char *value);

typedef void (*httpd_handler_fn)(const struct httpd_request *req,
                                 struct httpd_response *resp, void *ctx);

/* Routes are tried in table order. A path ending in an asterisk matches as
 * a prefix (path "/stores/" followed by '*' takes every path under
 * /stores/); method "*" matches any method. */
struct httpd_route {
    const char      *method;   /* "GET", "POST", ..., or "*" (static) */
    const char      *path;     /* "/healthz", or a prefix ending in '*' (static) */
    httpd_handler_fn fn;
    void            *ctx;
};

struct httpd_opts {
    const char *listen;           /* "127.0.0.1:8080", "[::1]:0" (0 = any free port) */
    unsigned    threads;          /* MHD pool size; 0: a thread per connection */
    unsigned    max_connections;  /* 0 = MHD default */
    unsigned    per_ip_limit;     /* connections from one address, 0 = no limit */
    unsigned    connection_timeout_s; /* idle timeout, 0 = never (avoid) */
    unsigned    request_timeout_ms;   /* whole-request read bound, 0 = none */
    size_t      max_body_bytes;   /* request body cap */
    /* HTTPS (libmicrohttpd's GnuTLS): the certificate chain and its key as
     * PEM text, read during httpd_start only (the caller wipes the key).
     * Both NULL: plain HTTP. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    /* SO_REUSEPORT: a new server may bind the port of a running one (a
     * certificate reload: the new one starts before the old one stops). */
    bool        reuse_port;
};

/* Parses "HOST:PORT" where HOST is an IPv4 literal or a bracketed IPv6
 * literal into *ss and *len. No name resolution. */
int httpd_parse_listen(const char *s, struct sockaddr_storage *ss,
                       socklen_t *len, struct mlc_err *e);

/* Binds and starts serving; *out: caller stops and frees with httpd_free. */
int httpd_start(const struct httpd_opts *o, const struct httpd_route *routes,
                size_t n_routes, struct httpd **out, struct mlc_err *e);
/* The port actually bound (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);
/* Requests answered so far (all routes and errors). */
uint64_t httpd_requests_total(const struct httpd *h);
/* Requests cut because they were not read whole within request_timeout_ms. */
uint64_t httpd_requests_cut(const struct httpd *h);
/* Connections closed because no request line came within request_timeout_ms. */
uint64_t httpd_idle_cut(const struct httpd *h);
/* Stops listening and waits for handlers to return; idempotent. */
void httpd_stop(struct httpd *h);
/* Stops if needed and frees; NULL-safe. */
void httpd_free(struct httpd *h);

#endif
