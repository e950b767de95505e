/* Unit tests: net/httpc against net/httpd servers on 127.0.0.1:0, and a
 * libmicrohttpd HTTPS server with a self-signed certificate made by the
 * openssl command at test time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/secret.h"
#include "net/httpc.h"
#include "net/httpd.h"

extern char **environ;

/* ---- server ------------------------------------------------------------- */

struct srv {
    struct httpd *h;
    uint16_t      port;
    _Atomic int   flaky_calls;   /* /flaky */
    _Atomic int   flaky_fail;    /* /flaky answers 503 this many times */
    _Atomic int   always_calls;  /* /always503 */
    _Atomic int   missing_calls; /* /missing */
    _Atomic int   limited_calls; /* /limited */
    pthread_mutex_t mu;
    char          got_token[128]; /* X-Auth-Token seen by /secret */
};

static void h_hello(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx)
{
    (void)rq;
    (void)ctx;
    httpd_resp_static(rs, 200, "text/plain", "hello");
    httpd_resp_header(rs, "X-Rate-Limit-Requests-Left", "42");
}

/* Echoes the body and reports method, X-Test and Content-Type in headers. */
static void h_echo(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    const char *x = httpd_req_header(rq, "x-test");
    const char *ct = httpd_req_header(rq, "content-type");
    size_t len;
    const char *b = httpd_req_body(rq, &len);

    (void)ctx;
    httpd_resp_copy(rs, 200, "application/octet-stream", b, len);
    httpd_resp_header(rs, "X-Got-Method", httpd_req_method(rq));
    httpd_resp_header(rs, "X-Got-Test", x ? x : "-");
    httpd_resp_header(rs, "X-Got-CT", ct ? ct : "-");
}

static void h_big(const struct httpd_request *rq, struct httpd_response *rs,
                  void *ctx)
{
    size_t n = 64 * 1024;
    char *b = malloc(n);

    (void)rq;
    (void)ctx;
    if (b == NULL) {
        httpd_resp_static(rs, 500, "text/plain", "oom");
        return;
    }
    memset(b, 'x', n);
    httpd_resp_take(rs, 200, "text/plain", b, n);
}

static void h_slow(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    struct timespec ts = { 0, 700 * 1000000L }; /* bounded: 0.7 s */

    (void)rq;
    (void)ctx;
    nanosleep(&ts, NULL);
    httpd_resp_static(rs, 200, "text/plain", "late");
}

static void h_flaky(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx)
{
    struct srv *s = ctx;
    int n = atomic_fetch_add(&s->flaky_calls, 1);

    (void)rq;
    if (n < atomic_load(&s->flaky_fail))
        httpd_resp_static(rs, 503, "application/json", "{\"busy\":true}");
    else
        httpd_resp_static(rs, 200, "application/json", "{\"ok\":true}");
}

static void h_always503(const struct httpd_request *rq,
                        struct httpd_response *rs, void *ctx)
{
    struct srv *s = ctx;

    (void)rq;
    atomic_fetch_add(&s->always_calls, 1);
    httpd_resp_static(rs, 503, "application/json", "{\"busy\":true}");
}

static void h_missing(const struct httpd_request *rq,
                      struct httpd_response *rs, void *ctx)
{
    struct srv *s = ctx;

    (void)rq;
    atomic_fetch_add(&s->missing_calls, 1);
    httpd_resp_static(rs, 404, "application/json", "{\"status\":404}");
}

/* 429 on the first call, 201 afterwards. */
static void h_limited(const struct httpd_request *rq,
                      struct httpd_response *rs, void *ctx)
{
    struct srv *s = ctx;

    (void)rq;
    if (atomic_fetch_add(&s->limited_calls, 1) == 0) {
        httpd_resp_static(rs, 429, "application/json", "{\"status\":429}");
        httpd_resp_header(rs, "X-Rate-Limit-Time-Reset-Ms", "5");
    } else {
        httpd_resp_static(rs, 201, "application/json", "{\"id\":1}");
    }
}

static void h_secret(const struct httpd_request *rq, struct httpd_response *rs,
                     void *ctx)
{
    struct srv *s = ctx;
    const char *t = httpd_req_header(rq, "x-auth-token");

    pthread_mutex_lock(&s->mu);
    snprintf(s->got_token, sizeof(s->got_token), "%s", t ? t : "");
    pthread_mutex_unlock(&s->mu);
    httpd_resp_static(rs, 200, "application/json", "{}");
}

static int setup(void **state)
{
    static struct srv s;
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 2, .max_connections = 64,
        .per_ip_limit = 0, .connection_timeout_s = 10, .max_body_bytes = 16384,
    };
    const struct httpd_route routes[] = {
        { "GET", "/hello", h_hello, NULL },
        { "*", "/echo", h_echo, NULL },
        { "GET", "/big", h_big, NULL },
        { "GET", "/slow", h_slow, NULL },
        { "GET", "/flaky", h_flaky, &s },
        { "*", "/always503", h_always503, &s },
        { "GET", "/missing", h_missing, &s },
        { "POST", "/limited", h_limited, &s },
        { "GET", "/secret", h_secret, &s },
    };
    struct mlc_err e;

    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    if (httpc_global_init(&e) != MLC_OK ||
        httpd_start(&o, routes, sizeof(routes) / sizeof(routes[0]), &s.h, &e) != MLC_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    s.port = httpd_port(s.h);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    struct srv *s = *state;

    httpd_free(s->h);
    pthread_mutex_destroy(&s->mu);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void url_of(char *buf, size_t cap, uint16_t port, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%u%s", (unsigned)port, path);
}

static struct httpc *client(size_t max_response, long timeout_ms)
{
    struct httpc_opts o = { .max_response_bytes = max_response,
                            .timeout_ms = timeout_ms,
                            .connect_timeout_ms = 2000 };
    struct httpc *c;
    struct mlc_err e;

    assert_int_equal(httpc_new(&o, &c, &e), MLC_OK);
    return c;
}

/* A port with nothing listening: bind one, note it, close it. */
static uint16_t dead_port(void)
{
    struct httpd_opts o = { .listen = "127.0.0.1:0", .threads = 2,
                            .connection_timeout_s = 1, .max_body_bytes = 16 };
    struct httpd *h;
    uint16_t port;

    assert_int_equal(httpd_start(&o, NULL, 0, &h, NULL), MLC_OK);
    port = httpd_port(h);
    httpd_free(h);
    return port;
}

static int no_sleep(void *ctx, long ms)
{
    (void)ms;
    if (ctx != NULL)
        (*(int *)ctx)++;
    return 0;
}

/* Fast retries: 1 ms base delay. */
static struct httpc_retry fast_policy(unsigned attempts)
{
    return (struct httpc_retry){ .max_attempts = attempts, .base_delay_ms = 1,
                                 .max_delay_ms = 4, .max_total_ms = 10000 };
}

/* ---- basic requests ------------------------------------------------------ */

static void test_get_and_header_lookup(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET" };
    struct httpc_response r = { 0 };
    struct mlc_err e;
    long long n = 0;
    char url[128];

    url_of(url, sizeof(url), s->port, "/hello");
    rq.url = url;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_int_equal(r.body_len, 5);
    assert_string_equal(httpc_response_header(&r, "x-rate-limit-requests-left"), "42");
    assert_string_equal(httpc_response_header(&r, "X-RATE-LIMIT-REQUESTS-LEFT"), "42");
    assert_string_equal(httpc_response_header(&r, "content-type"), "text/plain");
    assert_null(httpc_response_header(&r, "x-absent"));
    assert_int_equal(httpc_response_header_int(&r, "X-Rate-Limit-Requests-Left", &n), MLC_OK);
    assert_int_equal(n, 42);
    assert_int_equal(httpc_response_header_int(&r, "x-absent", &n), MLC_ENOTFOUND);
    assert_int_equal(httpc_response_header_int(&r, "content-type", &n), MLC_EPARSE);
    assert_true(r.total_us > 0);
    /* The handle is reused: a second request on the same client. */
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    httpc_response_clear(&r);
    httpc_response_clear(&r); /* idempotent */
    httpc_free(c);
}

/* Integer parsing of header values, on a hand-built response. */
static void test_header_int_parsing(void **state)
{
    struct httpc_resp_header h[] = {
        { "A", "" }, { "B", " 5" }, { "C", "5x" }, { "D", "-7" },
        { "E", "99999999999999999999" }, { "F", "0" },
    };
    struct httpc_response r = { .headers = h, .n_headers = 6 };
    long long n = 1;

    (void)state;
    assert_int_equal(httpc_response_header_int(&r, "a", &n), MLC_EPARSE);
    assert_int_equal(httpc_response_header_int(&r, "b", &n), MLC_EPARSE);
    assert_int_equal(httpc_response_header_int(&r, "c", &n), MLC_EPARSE);
    assert_int_equal(httpc_response_header_int(&r, "d", &n), MLC_OK);
    assert_int_equal(n, -7);
    assert_int_equal(httpc_response_header_int(&r, "e", &n), MLC_EPARSE);
    assert_int_equal(httpc_response_header_int(&r, "f", &n), MLC_OK);
    assert_int_equal(n, 0);
}

static void test_post_put_with_headers_and_body(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    const struct httpc_header h[] = {
        { "Content-Type", "application/json" }, { "X-Test", "hi there" },
    };
    struct httpc_request rq = { .method = "POST", .headers = h, .n_headers = 2 };
    struct httpc_response r = { 0 };
    static char big[5000];
    struct mlc_err e;
    char url[128];

    url_of(url, sizeof(url), s->port, "/echo");
    rq.url = url;
    rq.body = "{\"a\":1}";
    rq.body_len = 7;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"a\":1}");
    assert_string_equal(httpc_response_header(&r, "x-got-method"), "POST");
    assert_string_equal(httpc_response_header(&r, "x-got-test"), "hi there");
    assert_string_equal(httpc_response_header(&r, "x-got-ct"), "application/json");

    /* PUT with a body larger than curl's Expect: 100-continue threshold. */
    memset(big, 'b', sizeof(big));
    rq.method = "PUT";
    rq.body = big;
    rq.body_len = sizeof(big);
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, sizeof(big));
    assert_memory_equal(r.body, big, sizeof(big));
    assert_string_equal(httpc_response_header(&r, "x-got-method"), "PUT");

    /* DELETE without a body, then a GET after it (options were reset). */
    rq.method = "DELETE";
    rq.body = NULL;
    rq.body_len = 0;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_string_equal(httpc_response_header(&r, "x-got-method"), "DELETE");
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.body, "");
    rq.method = "GET";
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_string_equal(httpc_response_header(&r, "x-got-method"), "GET");
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_bad_requests_rejected(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    const struct httpc_header inj[] = { { "X-Test", "a\r\nX-Evil: 1" } };
    struct httpc_request rq = { .method = "GET" };
    struct httpc_response r = { 0 };
    struct mlc_err e;
    char url[128];

    url_of(url, sizeof(url), s->port, "/hello");
    rq.url = url;
    rq.headers = inj;
    rq.n_headers = 1;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EINVAL);
    rq.n_headers = 0;
    rq.method = "get x";
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EINVAL);
    rq.method = "GET";
    rq.url = "file:///etc/passwd";
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EINVAL);
    rq.url = "ftp://127.0.0.1/x";
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EINVAL);
    httpc_response_clear(&r);
    httpc_free(c);
}

/* ---- limits and transport errors ------------------------------------------ */

static void test_response_cap_is_etoobig(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(16 * 1024, 5000);
    struct httpc_request rq = { .method = "GET" };
    struct httpc_response r = { 0 };
    struct mlc_err e;
    char url[128];

    url_of(url, sizeof(url), s->port, "/big");
    rq.url = url;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_ETOOBIG);
    assert_int_equal(e.code, MLC_ETOOBIG);
    assert_non_null(strstr(e.msg, "/big"));
    httpc_response_clear(&r);
    /* Not retried: a size limit is not transient. */
    rq.idempotent = true;
    struct httpc_retry p = fast_policy(3);
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_ETOOBIG);
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_timeout_is_etimeout(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET", .timeout_ms = 150 };
    struct httpc_response r = { 0 };
    struct mlc_err e;
    char url[128];

    url_of(url, sizeof(url), s->port, "/slow");
    rq.url = url;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_ETIMEOUT);
    printf("# %s\n", e.msg);
    assert_non_null(strstr(e.msg, "timed out"));
    assert_int_equal(r.status, 0);
    httpc_response_clear(&r);
    httpc_free(c);
}

struct hook_log {
    int before, after;
    int last_status;
    bool stop_before;
};

/* Retries a 429 (even for a POST: the server refused it unprocessed). */
static enum httpc_hook_action hook_429(void *ctx, const struct httpc_hook_info *in,
                                       long *delay_ms)
{
    struct hook_log *l = ctx;

    if (in->event == HTTPC_HOOK_BEFORE_ATTEMPT) {
        l->before++;
        if (l->stop_before) {
            mlc_err_set(in->err, MLC_EBUSY, "shutting down");
            return HTTPC_HOOK_STOP;
        }
        return HTTPC_HOOK_DEFAULT;
    }
    l->after++;
    l->last_status = in->resp->status;
    if (in->rc == MLC_OK && in->resp->status == 429) {
        long long ms = 0;

        httpc_response_header_int(in->resp, "x-rate-limit-time-reset-ms", &ms);
        *delay_ms = (long)ms;
        return HTTPC_HOOK_RETRY_UNPROCESSED;
    }
    return HTTPC_HOOK_DEFAULT;
}

static void test_refused_is_eio_and_retried_when_idempotent(void **state)
{
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET", .idempotent = true };
    struct httpc_response r = { 0 };
    struct httpc_retry p = fast_policy(3);
    struct hook_log l = { 0 };
    struct mlc_err e;
    int sleeps = 0;
    char url[128];

    (void)state;
    url_of(url, sizeof(url), dead_port(), "/x");
    rq.url = url;
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EIO);
    p.sleep_fn = no_sleep;
    p.sleep_ctx = &sleeps;
    p.hook = hook_429;
    p.hook_ctx = &l;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_EIO);
    assert_int_equal(sleeps, 2);
    /* The hook saw every attempt before and after (acquire/release pairs). */
    assert_int_equal(l.before, 3);
    assert_int_equal(l.after, 3);
    assert_int_equal(l.last_status, 0);
    /* Not idempotent: no retry. */
    sleeps = 0;
    rq.method = "POST";
    rq.idempotent = false;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_EIO);
    assert_int_equal(sleeps, 0);
    httpc_response_clear(&r);
    httpc_free(c);
}

/* ---- retry policy ---------------------------------------------------------- */

static void test_retry_503_idempotent_only(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET", .idempotent = true };
    struct httpc_response r = { 0 };
    struct httpc_retry p = fast_policy(4);
    struct mlc_err e;
    char url[128];

    /* GET: two 503s then 200 -> three calls, success. */
    atomic_store(&s->flaky_calls, 0);
    atomic_store(&s->flaky_fail, 2);
    url_of(url, sizeof(url), s->port, "/flaky");
    rq.url = url;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(atomic_load(&s->flaky_calls), 3);

    /* Idempotent, always 503: max_attempts calls, the 503 returned. */
    atomic_store(&s->always_calls, 0);
    url_of(url, sizeof(url), s->port, "/always503");
    rq.method = "PUT";
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 503);
    assert_int_equal(atomic_load(&s->always_calls), 4);

    /* Not idempotent: exactly one call. */
    atomic_store(&s->always_calls, 0);
    rq.method = "POST";
    rq.idempotent = false;
    rq.body = "{}";
    rq.body_len = 2;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 503);
    assert_int_equal(atomic_load(&s->always_calls), 1);
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_no_retry_on_404(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET", .idempotent = true };
    struct httpc_response r = { 0 };
    struct httpc_retry p = fast_policy(4);
    struct mlc_err e;
    char url[128];

    atomic_store(&s->missing_calls, 0);
    url_of(url, sizeof(url), s->port, "/missing");
    rq.url = url;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 404);
    assert_int_equal(atomic_load(&s->missing_calls), 1);
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_max_total_time_stops_retries(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "GET", .idempotent = true };
    struct httpc_response r = { 0 };
    struct httpc_retry p = { .max_attempts = 10, .base_delay_ms = 60000,
                             .max_delay_ms = 60000, .max_total_ms = 1000,
                             .jitter = HTTPC_JITTER_EQUAL, .sleep_fn = no_sleep };
    struct mlc_err e;
    char url[128];

    /* Every backoff (>= 30 s) would end past max_total_ms: one call. */
    atomic_store(&s->always_calls, 0);
    url_of(url, sizeof(url), s->port, "/always503");
    rq.url = url;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 503);
    assert_int_equal(atomic_load(&s->always_calls), 1);
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_hook_retries_429_and_stops(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct httpc_request rq = { .method = "POST", .body = "{}", .body_len = 2 };
    struct httpc_response r = { 0 };
    struct hook_log l = { 0 };
    struct httpc_retry p = fast_policy(4);
    struct mlc_err e;
    char url[128];

    p.hook = hook_429;
    p.hook_ctx = &l;
    atomic_store(&s->limited_calls, 0);
    url_of(url, sizeof(url), s->port, "/limited");
    rq.url = url;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_OK);
    assert_int_equal(r.status, 201);
    assert_int_equal(atomic_load(&s->limited_calls), 2);
    assert_int_equal(l.before, 2);
    assert_int_equal(l.after, 2);

    /* STOP before the first attempt: nothing is sent. */
    memset(&l, 0, sizeof(l));
    l.stop_before = true;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_EBUSY);
    assert_string_equal(e.msg, "shutting down");
    assert_int_equal(atomic_load(&s->limited_calls), 2);
    assert_int_equal(l.after, 0);
    httpc_response_clear(&r);
    httpc_free(c);
}

static void test_backoff_bounds(void **state)
{
    struct httpc_retry p = { .base_delay_ms = 100, .max_delay_ms = 1000 };

    (void)state;
    for (unsigned n = 1; n <= 12; n++) {
        long cap = 100L << (n - 1 < 4 ? n - 1 : 4);

        if (cap > 1000)
            cap = 1000;
        for (int i = 0; i < 50; i++) {
            long d;

            p.jitter = HTTPC_JITTER_FULL;
            d = httpc_backoff_ms(&p, n);
            assert_true(d >= 0 && d <= cap);
            p.jitter = HTTPC_JITTER_EQUAL;
            d = httpc_backoff_ms(&p, n);
            assert_true(d >= cap / 2 && d <= cap);
        }
    }
}

/* ---- secrets and logging ---------------------------------------------------- */

static void test_redact_url(void **state)
{
    char b[256];

    (void)state;
    httpc_redact_url("https://u:pw@h:1/x?a=1&token=abc&Access_Token=zz&b=2#f", b, sizeof(b));
    assert_string_equal(b, "https://[redacted]@h:1/x?a=1&token=[redacted]"
                           "&Access_Token=[redacted]&b=2#f");
    httpc_redact_url("http://h/p?tokens=1&x", b, sizeof(b));
    assert_string_equal(b, "http://h/p?tokens=1&x");
    httpc_redact_url("http://h/p#?token=1", b, sizeof(b));
    assert_string_equal(b, "http://h/p#?token=1");
    httpc_redact_url("http://h/p?token=secret", b, 24);
    assert_string_equal(b, "http://h/p?token=[redac");
}

static void test_secret_header_sent_never_logged(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 5000);
    struct mlc_secret *sec;
    struct httpc_secret_header sh[1];
    struct httpc_request rq = { .method = "GET" };
    struct httpc_response r = { 0 };
    enum log_level saved = log_get_level();
    struct mlc_err e;
    char url[160], logbuf[8192];
    int fds[2];
    ssize_t n;

    assert_int_equal(secret_new("S3CR3T-VALUE", 12, &sec, NULL), MLC_OK);
    sh[0] = (struct httpc_secret_header){ "X-Auth-Token", sec };
    rq.secret_headers = sh;
    rq.n_secret_headers = 1;
    url_of(url, sizeof(url), s->port, "/secret?token=URLSECRET&page=2");
    rq.url = url;

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    log_set_fd(fds[1]);
    log_set_level(LOG_LVL_DEBUG);
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    /* The same header toward a dead port: the error is logged too. */
    url_of(url, sizeof(url), dead_port(), "/x?token=URLSECRET");
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_EIO);
    log_set_level(saved);
    log_set_fd(2);

    n = read(fds[0], logbuf, sizeof(logbuf) - 1);
    close(fds[0]);
    close(fds[1]);
    assert_true(n > 0);
    logbuf[n] = '\0';
    pthread_mutex_lock(&s->mu);
    assert_string_equal(s->got_token, "S3CR3T-VALUE");
    pthread_mutex_unlock(&s->mu);
    assert_non_null(strstr(logbuf, "status=200"));
    assert_non_null(strstr(logbuf, "page=2"));
    assert_null(strstr(logbuf, "S3CR3T"));
    assert_null(strstr(logbuf, "URLSECRET"));
    assert_null(strstr(e.msg, "S3CR3T"));
    assert_null(strstr(e.msg, "URLSECRET"));
    httpc_response_clear(&r);
    secret_free(sec);
    httpc_free(c);
}

/* ---- TLS -------------------------------------------------------------------- */

struct tls_dir {
    char dir[64];
    char key[96];
    char cert[96];
};

/* Runs argv with stdout/stderr to /dev/null; true when it exits 0. */
static bool run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return false;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool make_cert(struct tls_dir *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/mlc-httpc-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return false;
    snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
    snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
    char *argv[] = {
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", t->key, "-out", t->cert, "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        NULL,
    };
    return run_quiet(argv);
}

static void drop_cert(struct tls_dir *t)
{
    unlink(t->key);
    unlink(t->cert);
    rmdir(t->dir);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = calloc(1, (size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static enum MHD_Result tls_handler(void *cls, struct MHD_Connection *conn,
                                   const char *url, const char *method,
                                   const char *version, const char *upload,
                                   size_t *upload_size, void **req_cls)
{
    static const char body[] = "tls ok";
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)cls; (void)url; (void)method; (void)version; (void)upload;
    (void)upload_size; (void)req_cls;
    r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
                                        MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_tls_self_signed_refused_then_trusted(void **state)
{
    struct tls_dir t;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *di;
    struct sockaddr_in sa;
    struct httpc_request rq = { .method = "GET" };
    struct httpc_response r = { 0 };
    struct httpc_opts o = { .timeout_ms = 5000 };
    struct httpc *c;
    struct mlc_err e;
    char *key, *cert, url[128], want[64];
    uint16_t port;

    (void)state;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        skip(); /* libmicrohttpd built without TLS */
    }
    if (!make_cert(&t)) {
        drop_cert(&t);
        fprintf(stderr, "# the openssl command is needed to make a test certificate\n");
        skip();
    }
    key = slurp(t.key);
    cert = slurp(t.cert);
    assert_non_null(key);
    assert_non_null(cert);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                         NULL, NULL, tls_handler, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_HTTPS_MEM_KEY, key,
                         MHD_OPTION_HTTPS_MEM_CERT, cert,
                         MHD_OPTION_CONNECTION_TIMEOUT, 5u,
                         MHD_OPTION_END);
    assert_non_null(d);
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    port = di->port;
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/x", (unsigned)port);
    snprintf(want, sizeof(want), "https://127.0.0.1:%u not trusted", (unsigned)port);
    rq.url = url;

    /* The system CAs do not know it. */
    assert_int_equal(httpc_new(&o, &c, &e), MLC_OK);
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_ECRYPTO);
    printf("# %s\n", e.msg);
    assert_non_null(strstr(e.msg, want));
    /* The probe stops at the same layer, after TCP worked. */
    struct httpc_probe pr;
    assert_int_equal(httpc_probe(c, url, &pr), MLC_EIO);
    assert_int_equal(pr.fail, HTTPC_PROBE_TLS_UNTRUSTED);
    assert_true(pr.tls);
    assert_int_equal(pr.port, port);
    assert_true(pr.msg[0] != '\0');
    /* And a TLS failure is never retried. */
    rq.idempotent = true;
    struct httpc_retry p = fast_policy(3);
    int sleeps = 0;
    p.sleep_fn = no_sleep;
    p.sleep_ctx = &sleeps;
    assert_int_equal(httpc_do_retry(c, &rq, &p, &r, &e), MLC_ECRYPTO);
    assert_int_equal(sleeps, 0);
    httpc_free(c);

    /* Trusted once its certificate is the configured CA file. */
    o.ca_file = t.cert;
    assert_int_equal(httpc_new(&o, &c, &e), MLC_OK);
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "tls ok");
    assert_int_equal(httpc_probe(c, url, &pr), MLC_OK);
    assert_int_equal(pr.fail, HTTPC_PROBE_OK);
    assert_true(pr.tls_ms >= pr.tcp_ms);
    httpc_free(c);

    /* A CA file that does not exist, or holds no certificate: clear errors. */
    o.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(httpc_new(&o, &c, &e), MLC_EIO);
    printf("# %s\n", e.msg);
    assert_non_null(strstr(e.msg, "/nonexistent/ca.pem"));
    o.ca_file = t.key; /* a PEM file, but not a certificate */
    assert_int_equal(httpc_new(&o, &c, &e), MLC_OK);
    assert_int_equal(httpc_do(c, &rq, &r, &e), MLC_ECRYPTO);
    printf("# %s\n", e.msg);
    assert_non_null(strstr(e.msg, t.key));
    assert_int_equal(httpc_probe(c, url, &pr), MLC_EIO);
    assert_true(pr.fail == HTTPC_PROBE_TLS_CAFILE || pr.fail == HTTPC_PROBE_TLS_UNTRUSTED);
    httpc_free(c);

    httpc_response_clear(&r);
    MHD_stop_daemon(d);
    free(key);
    free(cert);
    drop_cert(&t);
}

/* ---- the connection probe ------------------------------------------------- */

/* A listening server connects and gets no request; a closed port is a TCP
 * failure with the socket's reason; a name that cannot resolve is DNS. */
static void test_probe_layers(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(0, 2000);
    struct httpc_probe pr;
    char url[64];
    int before = s->always_calls;

    url_of(url, sizeof(url), s->port, "/always503");
    assert_int_equal(httpc_probe(c, url, &pr), MLC_OK);
    assert_int_equal(pr.fail, HTTPC_PROBE_OK);
    assert_string_equal(pr.host, "127.0.0.1");
    assert_int_equal(pr.port, s->port);
    assert_false(pr.tls);
    assert_int_equal(s->always_calls, before); /* nothing was requested */

    url_of(url, sizeof(url), dead_port(), "/");
    assert_int_equal(httpc_probe(c, url, &pr), MLC_EIO);
    assert_int_equal(pr.fail, HTTPC_PROBE_TCP);
    assert_int_equal(pr.os_errno, ECONNREFUSED);

    assert_int_equal(httpc_probe(c, "http://no-such-host.invalid/", &pr), MLC_EIO);
    assert_true(pr.fail == HTTPC_PROBE_DNS || pr.fail == HTTPC_PROBE_TIMEOUT);
    assert_string_equal(pr.host, "no-such-host.invalid");
    assert_int_equal(pr.port, 80);
    httpc_free(c);
}

/* ---- a write is never resent below the caller ----------------------------
 * A raw keep-alive server that answers GETs and takes every write in (it
 * "commits"); while drop_writes is set it then closes the connection
 * without a byte: the reply was lost. libcurl silently resends a request
 * whose reused connection died before any response byte; a write must
 * reach the server exactly once. One thread per connection. */

struct lossy {
    int         fd;          /* listening socket */
    uint16_t    port;
    pthread_t   th;
    atomic_bool stop;
    atomic_bool drop_writes;
    _Atomic int writes;      /* POST/PUT received (committed) */
    _Atomic int conns;       /* connections accepted */
    _Atomic int live;        /* connection threads running */
};

struct lossy_conn {
    struct lossy *L;
    int           fd;
};

/* Reads one request head and its Content-Length body; the method into m. */
static bool lossy_read(int c, char m[16])
{
    char buf[8192];
    size_t n = 0;
    char *end = NULL, *cl;
    long body = 0;

    while (end == NULL) {
        ssize_t k = read(c, buf + n, sizeof(buf) - 1 - n);

        if (k <= 0)
            return false;
        n += (size_t)k;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL && n >= sizeof(buf) - 1)
            return false;
    }
    if (sscanf(buf, "%15s", m) != 1)
        return false;
    if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL)
        body = strtol(cl + 17, NULL, 10);
    body -= (long)(n - (size_t)(end + 4 - buf));
    while (body > 0) {
        ssize_t k = read(c, buf, sizeof(buf));

        if (k <= 0)
            return false;
        body -= k;
    }
    return true;
}

static void *lossy_conn_main(void *arg)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct lossy_conn *cn = arg;
    struct lossy *L = cn->L;
    char m[16];

    while (!atomic_load(&L->stop) && lossy_read(cn->fd, m)) {
        if (strcmp(m, "GET") != 0) {
            atomic_fetch_add(&L->writes, 1);
            if (atomic_load(&L->drop_writes))
                break;              /* committed; the reply is lost */
        }
        if (write(cn->fd, ok, sizeof(ok) - 1) < 0)
            break;
    }
    close(cn->fd);
    free(cn);
    atomic_fetch_sub(&L->live, 1);
    return NULL;
}

static void *lossy_main(void *arg)
{
    struct lossy *L = arg;

    while (!atomic_load(&L->stop)) {
        struct pollfd p = { .fd = L->fd, .events = POLLIN };
        struct lossy_conn *cn;
        pthread_t th;
        int c;

        if (poll(&p, 1, 50) <= 0 || (c = accept(L->fd, NULL, NULL)) < 0)
            continue;
        atomic_fetch_add(&L->conns, 1);
        cn = malloc(sizeof(*cn));
        assert_non_null(cn);
        cn->L = L;
        cn->fd = c;
        atomic_fetch_add(&L->live, 1);
        assert_int_equal(pthread_create(&th, NULL, lossy_conn_main, cn), 0);
        pthread_detach(th);
    }
    return NULL;
}

static void lossy_start(struct lossy *L)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    memset(L, 0, sizeof(*L));
    L->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(L->fd >= 0);
    assert_int_equal(bind(L->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(L->fd, 16), 0);
    assert_int_equal(getsockname(L->fd, (struct sockaddr *)&a, &len), 0);
    L->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&L->th, NULL, lossy_main, L), 0);
}

/* Stops accepting; the client must have been freed (its connections closed)
 * so the connection threads end. */
static void lossy_stop(struct lossy *L)
{
    atomic_store(&L->stop, true);
    pthread_join(L->th, NULL);
    close(L->fd);
    for (int i = 0; i < 200 && atomic_load(&L->live) > 0; i++)
        usleep(10000);
}

static int lossy_call(struct httpc *c, uint16_t port, const char *method, bool idem)
{
    struct httpc_request rq = { .method = method, .idempotent = idem };
    struct httpc_response r = { 0 };
    struct mlc_err e;
    char url[128];
    int rc;

    url_of(url, sizeof(url), port, "/x");
    rq.url = url;
    if (strcmp(method, "GET") != 0) {
        rq.body = "{}";
        rq.body_len = 2;
    }
    rc = httpc_do(c, &rq, &r, &e);
    httpc_response_clear(&r);
    return rc;
}

static void test_write_never_resent_on_reused_connection(void **state)
{
    struct httpc *c = client(0, 5000);
    struct lossy L;

    (void)state;
    lossy_start(&L);
    /* A GET leaves a keep-alive connection behind; the POST after it
     * commits and loses its reply. It reached the server once: the caller
     * gets the lost reply (and looks the write up), libcurl resent nothing. */
    assert_int_equal(lossy_call(c, L.port, "GET", true), MLC_OK);
    atomic_store(&L.drop_writes, true);
    assert_int_equal(lossy_call(c, L.port, "POST", false), MLC_EIO);
    assert_int_equal(atomic_load(&L.writes), 1);
    /* A PUT, even one the caller may retry itself (a catalog price, a
     * hook): repeating it is the caller's decision, never libcurl's. */
    atomic_store(&L.drop_writes, false);
    assert_int_equal(lossy_call(c, L.port, "GET", true), MLC_OK);
    atomic_store(&L.drop_writes, true);
    assert_int_equal(lossy_call(c, L.port, "PUT", true), MLC_EIO);
    assert_int_equal(atomic_load(&L.writes), 2);
    /* Answered writes work as before, and reads keep reusing connections. */
    atomic_store(&L.drop_writes, false);
    assert_int_equal(lossy_call(c, L.port, "POST", false), MLC_OK);
    assert_int_equal(atomic_load(&L.writes), 3);
    {
        int before = atomic_load(&L.conns);

        assert_int_equal(lossy_call(c, L.port, "GET", true), MLC_OK);
        assert_int_equal(lossy_call(c, L.port, "GET", true), MLC_OK);
        assert_true(atomic_load(&L.conns) - before <= 1);
    }
    httpc_free(c);
    lossy_stop(&L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_header_lookup),
        cmocka_unit_test(test_header_int_parsing),
        cmocka_unit_test(test_post_put_with_headers_and_body),
        cmocka_unit_test(test_bad_requests_rejected),
        cmocka_unit_test(test_response_cap_is_etoobig),
        cmocka_unit_test(test_timeout_is_etimeout),
        cmocka_unit_test(test_refused_is_eio_and_retried_when_idempotent),
        cmocka_unit_test(test_retry_503_idempotent_only),
        cmocka_unit_test(test_no_retry_on_404),
        cmocka_unit_test(test_max_total_time_stops_retries),
        cmocka_unit_test(test_hook_retries_429_and_stops),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_redact_url),
        cmocka_unit_test(test_secret_header_sent_never_logged),
        cmocka_unit_test(test_tls_self_signed_refused_then_trusted),
        cmocka_unit_test(test_probe_layers),
        cmocka_unit_test(test_write_never_resent_on_reused_connection),
    };

    return cmocka_run_group_tests_name("httpc", tests, setup, teardown);
}
