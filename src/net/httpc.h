/*
 * httpc: a blocking HTTP client over one libcurl easy handle.
 *
 * One struct httpc per thread: the handle keeps connections, DNS and TLS
 * sessions alive between requests, and it must never be used by two threads
 * at once. Every request has a connect and a total timeout and a cap on the
 * response size. TLS peer and host verification are always on; ca_file only
 * changes which CAs are trusted. Only http and https URLs are accepted and
 * redirects are never followed.
 *
 * Status convention: httpc_do returns MLC_OK whenever an HTTP response
 * arrived, whatever its status (the caller judges 4xx/5xx); a negative code
 * means no complete response:
 *   MLC_ETIMEOUT  connect or total timeout
 *   MLC_EIO       DNS, refused, reset, truncated
 *   MLC_ECRYPTO   TLS handshake or certificate not trusted
 *   MLC_ETOOBIG   response over max_response_bytes (the transfer is aborted)
 *   MLC_EINVAL    bad request (URL, method, protocol)
 * Error messages name the method and the URL with credentials redacted, and
 * never a header value.
 *
 * Secret headers (X-Auth-Token, jde-AIS-Auth) are given as struct mlc_secret,
 * formatted only while the request is built, and their bytes in our header
 * list are wiped after the transfer. (libcurl's own transient send buffer is
 * outside our reach.) With log level debug, one line per attempt gives
 * method, URL (query parameters named *token redacted), status and time;
 * headers and bodies are never logged.
 *
 * httpc_global_init must run once in main before threads start (httpc_new
 * calls it too, which is enough for single-threaded programs and tests).
 */
#ifndef MLC_NET_HTTPC_H
#define MLC_NET_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct mlc_secret;
struct httpc;

/* Defaults applied when an option is 0 / NULL. */
#define HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define HTTPC_DEFAULT_TIMEOUT_MS         60000L
#define HTTPC_DEFAULT_MAX_RESPONSE       (16u * 1024u * 1024u)
/* Response headers kept per response; more is MLC_ETOOBIG. */
#define HTTPC_MAX_RESP_HEADERS 128

struct httpc_opts {
    const char *user_agent;     /* NULL: "ml-connector/<MLC_VERSION>" */
    long        connect_timeout_ms; /* 0: HTTPC_DEFAULT_CONNECT_TIMEOUT_MS */
    long        timeout_ms;     /* whole transfer; 0: HTTPC_DEFAULT_TIMEOUT_MS */
    size_t      max_response_bytes; /* body + headers; 0: HTTPC_DEFAULT_MAX_RESPONSE */
    /* PEM bundle trusted instead of the system bundle file; the system CA
     * directory (/etc/ssl/certs on Debian) stays trusted. NULL: system only.
     * httpc_new fails (MLC_EIO) when it cannot be read. */
    const char *ca_file;
};

struct httpc_header {
    const char *name;
    const char *value;
};

struct httpc_secret_header {
    const char              *name;   /* "X-Auth-Token" */
    const struct mlc_secret *value;  /* borrowed for the call */
};

/* A request: everything is borrowed for the duration of the call. */
struct httpc_request {
    const char                       *method;  /* "GET", "POST", ... */
    const char                       *url;     /* absolute http(s) URL */
    const struct httpc_header        *headers;
    size_t                            n_headers;
    const struct httpc_secret_header *secret_headers;
    size_t                            n_secret_headers;
    const void                       *body;    /* NULL: no body */
    size_t                            body_len;
    long                              timeout_ms; /* 0: the client's */
    /* Safe to send twice (GET, PUT of a full state, DELETE, or a write the
     * server deduplicates). Only idempotent requests are retried on 5xx,
     * timeouts and connection errors (by httpc_do_retry, after a backoff).
     * libcurl itself silently resends a request whose reused keep-alive
     * connection dies before any response byte; so a request that is not
     * idempotent, and every PUT, PATCH and DELETE, opens a fresh connection
     * and reaches the server at most once per httpc_do. Idempotent GETs and
     * POSTs (AIS reads are POSTs) reuse connections. */
    bool                              idempotent;
    /* The URL itself is a credential (a chat webhook's token sits in its
     * path): messages and debug lines show its origin only. */
    bool                              secret_url;
};

/* A response. The caller provides a zeroed struct; httpc fills it and the
 * caller releases what it owns with httpc_response_clear (also after an
 * error: partial data may have been kept). */
struct httpc_response {
    int          status;     /* HTTP status, 0 when no response arrived */
    char        *body;       /* NUL-terminated, never NULL after MLC_OK */
    size_t       body_len;   /* excluding the NUL */
    struct httpc_resp_header {
        char *name;
        char *value;         /* trimmed */
    }           *headers;
    size_t       n_headers;
    int64_t      total_us;   /* time of the transfer as measured by libcurl */
};

/* curl_global_init, once per process; MLC_EIO on failure. */
int httpc_global_init(struct mlc_err *e);

/* New client (*out, caller frees with httpc_free). o may be NULL. */
int httpc_new(const struct httpc_opts *o, struct httpc **out,
              struct mlc_err *e);
void httpc_free(struct httpc *c);

/* One attempt, no retry. See the status convention above. */
int httpc_do(struct httpc *c, const struct httpc_request *rq,
             struct httpc_response *out, struct mlc_err *e);

/* Frees what r owns and zeroes it; NULL-safe, idempotent. */
void httpc_response_clear(struct httpc_response *r);

/* First header named name (case-insensitive), NULL when absent. */
const char *httpc_response_header(const struct httpc_response *r,
                                  const char *name);
/* The header as a decimal integer: MLC_OK, MLC_ENOTFOUND when absent,
 * MLC_EPARSE when not an integer. */
int httpc_response_header_int(const struct httpc_response *r,
                              const char *name, long long *out);

/* Copies url into buf with the value of every query parameter whose name
 * ends in "token" (any case) and any user:password@ replaced by
 * "[redacted]". Always NUL-terminates; a long URL is cut. */
void httpc_redact_url(const char *url, char *buf, size_t cap);

/* ---- connection probe ---------------------------------------------------- */

/* Which layer a probe stopped at. */
enum httpc_probe_fail {
    HTTPC_PROBE_OK = 0,
    HTTPC_PROBE_DNS,            /* the host name does not resolve */
    HTTPC_PROBE_PROXY_DNS,      /* the proxy's name does not resolve */
    HTTPC_PROBE_TCP,            /* refused, unreachable (os_errno says why) */
    HTTPC_PROBE_TIMEOUT,        /* no answer within the connect timeout */
    HTTPC_PROBE_TLS_UNTRUSTED,  /* the server's certificate is not trusted */
    HTTPC_PROBE_TLS_CAFILE,     /* the configured CA file cannot be used */
    HTTPC_PROBE_TLS_HANDSHAKE,  /* any other TLS failure */
    HTTPC_PROBE_OTHER
};

/* What a probe found. Phase times are milliseconds since the start and 0
 * when the phase was not reached (or, for dns_ms, had nothing to do). */
struct httpc_probe {
    char                  host[256];
    long                  port;      /* defaulted from the scheme */
    bool                  tls;       /* https */
    int64_t               dns_ms, tcp_ms, tls_ms;
    int                   os_errno;  /* of a TCP failure, else 0 */
    enum httpc_probe_fail fail;
    char                  msg[256];  /* libcurl's words when fail != OK */
};

/* Sets up a connection to url, DNS, TCP and then TLS for https, with the
 * client's TLS settings and connect timeout, and sends no request. Fills
 * *out; MLC_OK when the connection was made, else MLC_EIO with out->fail
 * saying where it stopped. The connection is closed again. */
int httpc_probe(struct httpc *c, const char *url, struct httpc_probe *out);

/* ---- retries ------------------------------------------------------------ */

enum httpc_hook_event {
    HTTPC_HOOK_BEFORE_ATTEMPT, /* before each attempt (e.g. pacer acquire) */
    HTTPC_HOOK_AFTER_ATTEMPT   /* after each attempt, whatever happened */
};

enum httpc_hook_action {
    HTTPC_HOOK_DEFAULT = 0, /* let the policy decide */
    /* Retry after *delay_ms (instead of the backoff), idempotent requests
     * only; for others it is the same as DEFAULT. */
    HTTPC_HOOK_RETRY,
    /* Retry after *delay_ms even when the request is not idempotent: return
     * it only when the server guarantees that it did not process the request
     * (a 429 from a rate limiter). */
    HTTPC_HOOK_RETRY_UNPROCESSED,
    /* Stop now. Before an attempt: httpc_do_retry returns MLC_ESTATE (or
     * the code the hook put in info->err). After: the attempt's result is
     * returned as is. */
    HTTPC_HOOK_STOP
};

struct httpc_hook_info {
    enum httpc_hook_event        event;
    unsigned                     attempt; /* 1-based */
    const struct httpc_request  *req;
    const struct httpc_response *resp;    /* AFTER only, status 0 if none */
    int                          rc;      /* AFTER: httpc_do's result */
    struct mlc_err              *err;     /* AFTER: its error; BEFORE: for STOP */
};

/* The hook is called BEFORE every attempt and, when BEFORE did not answer
 * STOP, exactly once AFTER it (so acquire/release pairs always balance).
 * *delay_ms starts at 0 and matters for the RETRY actions. */
typedef enum httpc_hook_action (*httpc_hook_fn)(void *ctx,
                                                const struct httpc_hook_info *in,
                                                long *delay_ms);

enum httpc_jitter {
    HTTPC_JITTER_FULL = 0,  /* sleep uniform in [0, d] */
    HTTPC_JITTER_EQUAL      /* sleep d/2 + uniform in [0, d/2] */
};

/* Exponential backoff: before retry n (n >= 1) the base delay is
 * min(max_delay_ms, base_delay_ms * 2^(n-1)), then jittered. No retry is
 * started whose sleep would end past max_total_ms after the first attempt
 * began. 0 fields take the defaults in brackets. */
struct httpc_retry {
    unsigned          max_attempts;  /* including the first [4] */
    long              base_delay_ms; /* [500] */
    long              max_delay_ms;  /* [30000] */
    long              max_total_ms;  /* [120000] */
    enum httpc_jitter jitter;
    httpc_hook_fn     hook;          /* optional */
    void             *hook_ctx;
    /* Optional sleep before every retry, even of 0 ms (default:
     * clock_nanosleep on CLOCK_MONOTONIC); return non-zero to cancel:
     * httpc_do_retry then returns the last attempt's result. */
    int             (*sleep_fn)(void *ctx, long ms);
    void             *sleep_ctx;
};

/* httpc_do with the policy (NULL: defaults). Retries, for idempotent
 * requests only, 500/502/503/504, MLC_ETIMEOUT and MLC_EIO; never other
 * 4xx/5xx or TLS, size or argument errors. Returns the last attempt's
 * result and response (see httpc_do). */
int httpc_do_retry(struct httpc *c, const struct httpc_request *rq,
                   const struct httpc_retry *policy,
                   struct httpc_response *out, struct mlc_err *e);

/* The sleep before retry n (>= 1) under p, jitter included (exposed for
 * tests). */
long httpc_backoff_ms(const struct httpc_retry *p, unsigned n);

#endif
