/* Unit tests: net/httpd against a real server on 127.0.0.1:0 with libcurl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "net/httpd.h"

#define CAP 1024

/* ---- handlers ----------------------------------------------------------- */

static void h_hello(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx)
{
    (void)rq;
    (void)ctx;
    httpd_resp_static(rs, 200, "text/plain", "hello");
}

/* Echoes the X-Test header (looked up in lower case) and query arg q. */
static void h_headers(const struct httpd_request *rq, struct httpd_response *rs,
                      void *ctx)
{
    char buf[256];
    const char *x = httpd_req_header(rq, "x-test");
    const char *q = httpd_req_query(rq, "q");
    int n;

    (void)ctx;
    n = snprintf(buf, sizeof(buf), "%s|%s|%s", x ? x : "-", q ? q : "-",
                 httpd_req_client(rq));
    httpd_resp_copy(rs, 201, "text/plain", buf, (size_t)n);
    httpd_resp_header(rs, "X-Reply", "yes");
}

static void h_echo(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    size_t len;
    const char *b = httpd_req_body(rq, &len);

    atomic_fetch_add((_Atomic int *)ctx, 1);
    httpd_resp_copy(rs, 200, "application/octet-stream", b, len);
}

static _Atomic int echo_calls;
static _Atomic int count_calls;

static void h_count(const struct httpd_request *rq, struct httpd_response *rs,
                    void *ctx)
{
    (void)rq;
    (void)ctx;
    atomic_fetch_add(&count_calls, 1);
    httpd_resp_static(rs, 200, "application/json", "{\"ok\":true}");
}

/* Answers with the request's method and path (prefix routes). */
static void h_path(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    char buf[256];

    (void)ctx;
    snprintf(buf, sizeof(buf), "%s %s", httpd_req_method(rq), httpd_req_path(rq));
    httpd_resp_copy(rs, 200, "text/plain", buf, strlen(buf));
}

static void h_drop(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    (void)rq;
    (void)ctx;
    httpd_resp_static(rs, 200, "text/plain", "never sent");
    httpd_resp_drop(rs);
}

/* A handler slower than the read bound of the slow-client fixture. */
static void h_slow(const struct httpd_request *rq, struct httpd_response *rs,
                   void *ctx)
{
    struct timespec ts = { .tv_sec = 1, .tv_nsec = 500 * 1000000L };

    (void)rq;
    (void)ctx;
    nanosleep(&ts, NULL);
    httpd_resp_static(rs, 200, "text/plain", "slow");
}

static const struct httpd_route routes[] = {
    { "GET", "/hello", h_hello, NULL },
    { "GET", "/headers", h_headers, NULL },
    { "POST", "/echo", h_echo, &echo_calls },
    { "PUT", "/echo", h_echo, &echo_calls },
    { "GET", "/count", h_count, NULL },
    { "*", "/any/*", h_path, NULL },
    { "GET", "/drop", h_drop, NULL },
    { "GET", "/slow", h_slow, NULL },
};

/* ---- client ------------------------------------------------------------- */

struct reply {
    long   status;
    char   body[4096];
    size_t len;
    char   headers[4096];
    size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n, room = sizeof(r->body) - 1 - r->len;

    if (k < room)
        room = k;
    memcpy(r->body + r->len, p, room);
    r->len += room;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n, room = sizeof(r->headers) - 1 - r->hlen;

    if (k < room)
        room = k;
    memcpy(r->headers + r->hlen, p, room);
    r->hlen += room;
    r->headers[r->hlen] = '\0';
    return sz * n;
}

struct upload {
    const char *data;
    size_t      len;
    size_t      off;
};

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t k = sz * n;

    if (k > u->len - u->off)
        k = u->len - u->off;
    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

/* One request; chunked uploads the body without a Content-Length.
 * Returns the curl result code. */
static CURLcode req(uint16_t port, const char *method, const char *path,
                    const char *body, size_t len, bool chunked,
                    const char *const *hdrs, struct reply *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *sl = NULL;
    struct upload up = { body, len, 0 };
    char url[256];
    CURLcode rc;

    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    for (; hdrs != NULL && *hdrs != NULL; hdrs++)
        sl = curl_slist_append(sl, *hdrs);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        if (chunked)
            sl = curl_slist_append(sl, "Transfer-Encoding: chunked");
        else
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- fixtures ----------------------------------------------------------- */

static int setup(void **state)
{
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 2, .max_connections = 64,
        .per_ip_limit = 0, .connection_timeout_s = 10, .max_body_bytes = CAP,
    };
    struct httpd *h;
    struct mlc_err e;

    if (httpd_start(&o, routes, sizeof(routes) / sizeof(routes[0]), &h, &e) != MLC_OK) {
        fprintf(stderr, "httpd_start: %s\n", e.msg);
        return -1;
    }
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    httpd_free(*state);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_parse_listen(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct mlc_err e;

    (void)state;
    assert_int_equal(httpd_parse_listen("127.0.0.1:8080", &ss, &len, &e), MLC_OK);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
    assert_int_equal(httpd_parse_listen("[::1]:0", &ss, &len, &e), MLC_OK);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_int_equal(httpd_parse_listen("0.0.0.0:65535", &ss, &len, &e), MLC_OK);
    assert_int_equal(httpd_parse_listen("127.0.0.1:65536", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("127.0.0.1:", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("127.0.0.1:-1", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("localhost:80", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("::1:80", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("[::1]80", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("8080", &ss, &len, &e), MLC_EINVAL);
    assert_int_equal(httpd_parse_listen("", &ss, &len, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "empty"));
}

static void test_route_ok(void **state)
{
    struct httpd *h = *state;
    struct reply r;

    assert_true(httpd_port(h) != 0);
    assert_int_equal(req(httpd_port(h), "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_non_null(strstr(r.headers, "Content-Type: text/plain"));
}

static void test_404_405(void **state)
{
    struct httpd *h = *state;
    struct reply r;

    assert_int_equal(req(httpd_port(h), "GET", "/nope", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"error\""));
    assert_non_null(strstr(r.headers, "application/json"));
    /* Exact match only: a prefix or a trailing slash is another path. */
    assert_int_equal(req(httpd_port(h), "GET", "/hello/", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
    assert_int_equal(req(httpd_port(h), "DELETE", "/echo", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: POST, PUT"));
    assert_int_equal(req(httpd_port(h), "POST", "/hello", "x", 1, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 405);
}

static void test_prefix_route(void **state)
{
    struct httpd *h = *state;
    struct reply r;

    assert_int_equal(req(httpd_port(h), "GET", "/any/stores/abc/v2/orders", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET /any/stores/abc/v2/orders");
    assert_int_equal(req(httpd_port(h), "DELETE", "/any/x", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "DELETE /any/x");
    /* The prefix includes its slash: "/any" alone and "/anything" are other paths. */
    assert_int_equal(req(httpd_port(h), "GET", "/anything", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
    assert_int_equal(req(httpd_port(h), "GET", "/any", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
}

/* A dropped reply closes the connection with nothing sent. */
static void test_drop(void **state)
{
    struct httpd *h = *state;
    struct reply r;

    assert_int_equal(req(httpd_port(h), "GET", "/drop", NULL, 0, false, NULL, &r), CURLE_GOT_NOTHING);
    /* The server goes on serving. */
    assert_int_equal(req(httpd_port(h), "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
}

static void test_headers_query(void **state)
{
    struct httpd *h = *state;
    const char *hdrs[] = { "X-TEST: Mixed Value", NULL };
    struct reply r;

    assert_int_equal(req(httpd_port(h), "GET", "/headers?q=a%20b&z=1", NULL, 0,
                         false, hdrs, &r), CURLE_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "Mixed Value|a b|127.0.0.1");
    assert_non_null(strstr(r.headers, "X-Reply: yes"));
    assert_int_equal(req(httpd_port(h), "GET", "/headers", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_string_equal(r.body, "-|-|127.0.0.1");
}

static void test_body_echo(void **state)
{
    struct httpd *h = *state;
    char body[CAP];
    struct reply r;

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)('a' + i % 26);
    /* Exactly at the cap, both with a length and chunked. */
    assert_int_equal(req(httpd_port(h), "POST", "/echo", body, CAP, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, CAP);
    assert_memory_equal(r.body, body, CAP);
    assert_int_equal(req(httpd_port(h), "PUT", "/echo", body, CAP, true, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, CAP);
    assert_memory_equal(r.body, body, CAP);
    /* Empty body. */
    assert_int_equal(req(httpd_port(h), "POST", "/echo", "", 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
}

static void test_413(void **state)
{
    struct httpd *h = *state;
    static char big[CAP * 3];
    const char *expect[] = { "Expect: 100-continue", NULL };
    struct reply r;
    int before = atomic_load(&echo_calls);

    memset(big, 'x', sizeof(big));
    /* Declared length over the cap: answered before the body is read. */
    assert_int_equal(req(httpd_port(h), "POST", "/echo", big, CAP + 1, false,
                         expect, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "too large"));
    /* Chunked, no length: the body is cut at the cap and answered 413. */
    assert_int_equal(req(httpd_port(h), "POST", "/echo", big, sizeof(big), true,
                         NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    /* The handler never ran for either. */
    assert_int_equal(atomic_load(&echo_calls), before);
}

struct client_arg {
    uint16_t port;
    int      ok;
};

static void *client_thread(void *arg)
{
    struct client_arg *a = arg;
    struct reply r;

    for (int i = 0; i < 20; i++)
        if (req(a->port, "GET", "/count", NULL, 0, false, NULL, &r) == CURLE_OK &&
            r.status == 200 && strcmp(r.body, "{\"ok\":true}") == 0)
            a->ok++;
    return NULL;
}

static void test_concurrent(void **state)
{
    struct httpd *h = *state;
    pthread_t t[8];
    struct client_arg a[8];
    uint64_t before = httpd_requests_total(h);

    atomic_store(&count_calls, 0);
    for (int i = 0; i < 8; i++) {
        a[i].port = httpd_port(h);
        a[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, client_thread, &a[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].ok, 20);
    }
    assert_int_equal(atomic_load(&count_calls), 160);
    assert_int_equal(httpd_requests_total(h) - before, 160);
}

static void test_stop_start(void **state)
{
    struct httpd *h = *state;
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 1, .connection_timeout_s = 5,
        .max_body_bytes = CAP,
    };
    struct httpd *h2 = NULL, *busy = NULL;
    struct reply r;
    uint16_t port = httpd_port(h);
    char addr[64];
    struct mlc_err e;

    httpd_stop(h);
    httpd_stop(h); /* idempotent */
    assert_int_not_equal(req(port, "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    /* The port is free again: a new server can take it. */
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    o.listen = addr;
    assert_int_equal(httpd_start(&o, routes, 1, &h2, &e), MLC_OK);
    assert_int_equal(httpd_port(h2), port);
    assert_int_equal(req(port, "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    /* Only one route was given: the others are unknown. */
    assert_int_equal(req(port, "GET", "/count", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
    /* A second bind on the same port fails with a message. */
    assert_int_equal(httpd_start(&o, routes, 1, &busy, &e), MLC_EIO);
    assert_null(busy);
    assert_non_null(strstr(e.msg, addr));
    httpd_free(h2);
}

static void test_bad_opts(void **state)
{
    struct httpd_opts o = { .listen = "nohost", .threads = 1, .max_body_bytes = CAP };
    struct httpd *h = NULL;
    struct mlc_err e;

    (void)state;
    assert_int_equal(httpd_start(&o, routes, 1, &h, &e), MLC_EINVAL);
    assert_null(h);
    o.listen = "127.0.0.1:0";
    o.max_body_bytes = 0;
    assert_int_equal(httpd_start(&o, routes, 1, &h, &e), MLC_EINVAL);
    httpd_free(NULL);
}

static void test_ipv6_loopback(void **state)
{
    struct httpd_opts o = { .listen = "[::1]:0", .threads = 1,
                            .connection_timeout_s = 5, .max_body_bytes = CAP };
    struct httpd *h = NULL;
    struct mlc_err e;
    CURL *c;
    char url[64];
    long status = 0;
    struct reply r;

    (void)state;
    if (httpd_start(&o, routes, 1, &h, &e) != MLC_OK) {
        /* No IPv6 loopback in this environment. */
        skip();
    }
    assert_true(httpd_port(h) != 0);
    c = curl_easy_init();
    snprintf(url, sizeof(url), "http://[::1]:%u/hello", (unsigned)httpd_port(h));
    memset(&r, 0, sizeof(r));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_string_equal(r.body, "hello");
    curl_easy_cleanup(c);
    httpd_free(h);
}

/* ---- slow and hostile clients ------------------------------------------ */

/* The fixture's bounds: a request must be read whole within READ_MS. */
#define READ_MS    1000
#define PER_IP     4
#define MAX_CONNS  16

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int limits_start(void **state, unsigned read_ms)
{
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 2, .max_connections = MAX_CONNS,
        .per_ip_limit = PER_IP, .connection_timeout_s = 10,
        .request_timeout_ms = read_ms, .max_body_bytes = CAP,
    };
    struct httpd *h;
    struct mlc_err e;

    if (httpd_start(&o, routes, sizeof(routes) / sizeof(routes[0]), &h, &e) != MLC_OK) {
        fprintf(stderr, "httpd_start: %s\n", e.msg);
        return -1;
    }
    *state = h;
    return 0;
}

/* Bounds short enough for the tests to see a cut. */
static int slow_setup(void **state) { return limits_start(state, READ_MS); }
/* The same per-IP limit with a read bound far off: whatever closes a
 * connection here is not the bound. */
static int ip_setup(void **state) { return limits_start(state, 30000); }

/* A TCP connection to the server from src, a loopback address (all of
 * 127/8 is local on Linux); -1 on failure. */
static int raw_connect(uint16_t port, const char *src)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto fail;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

static bool raw_send(int fd, const char *s)
{
    size_t n = strlen(s);

    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Waits up to wait_ms for the server to close fd (EOF or reset). Bytes it
 * sends meanwhile are appended to got (cap bytes, NUL-terminated) when
 * given. */
static bool raw_closed(int fd, int wait_ms, char *got, size_t cap)
{
    int64_t end = now_ms() + wait_ms;
    size_t len = got != NULL ? strlen(got) : 0;
    char buf[1024];

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = end - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return false;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            continue;
        if (got != NULL && len + 1 < cap) {
            size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;

            memcpy(got + len, buf, k);
            len += k;
            got[len] = '\0';
        }
    }
}

/* Sends head, then one byte of tail every every_ms: true once the server
 * has closed the connection, false if it still stood after max_ms. */
static bool dribble(int fd, const char *head, const char *tail, int every_ms,
                    int max_ms, char *got, size_t cap)
{
    int64_t end = now_ms() + max_ms;
    char one[2] = "";

    if (!raw_send(fd, head))
        return true;
    for (size_t i = 0; now_ms() < end; i = tail[i + 1] != '\0' ? i + 1 : 0) {
        if (raw_closed(fd, every_ms, got, cap))
            return true;
        one[0] = tail[i];
        if (!raw_send(fd, one))
            return true;
    }
    return false;
}

/* Sends a whole request on fd and waits (5 s) until the reply holds want. */
static bool raw_request(int fd, const char *request, const char *want)
{
    char got[2048] = "";
    int64_t end = now_ms() + 5000;

    if (!raw_send(fd, request))
        return false;
    while (strstr(got, want) == NULL && now_ms() < end)
        if (raw_closed(fd, 100, got, sizeof(got)))
            break;
    return strstr(got, want) != NULL;
}

#define HEAD_LINE "GET /hello HTTP/1.1\r\nHost: t\r\n"

/* Header lines dribbled, each well inside the idle timeout: cut once the
 * read bound has passed, with nothing answered; the server goes on. */
static void test_slow_headers_cut(void **state)
{
    struct httpd *h = *state;
    char got[256] = "";
    int64_t t0 = now_ms();
    int fd = raw_connect(httpd_port(h), "127.0.0.1");
    struct reply r;

    assert_true(fd >= 0);
    assert_true(dribble(fd, HEAD_LINE, "X-Slow: 1\r\n", 100, 8000, got, sizeof(got)));
    assert_true(now_ms() - t0 >= READ_MS); /* never before the bound */
    assert_string_equal(got, "");
    close(fd);
    assert_int_equal(httpd_requests_cut(h), 1);
    assert_int_equal(req(httpd_port(h), "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
}

/* A body dribbled one byte at a time: cut, and the handler never runs. */
static void test_slow_body_cut(void **state)
{
    struct httpd *h = *state;
    char got[256] = "";
    int before = atomic_load(&echo_calls);
    int fd = raw_connect(httpd_port(h), "127.0.0.1");

    assert_true(fd >= 0);
    assert_true(dribble(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n",
                        "x", 100, 8000, got, sizeof(got)));
    assert_string_equal(got, "");
    close(fd);
    assert_int_equal(httpd_requests_cut(h), 1);
    assert_int_equal(atomic_load(&echo_calls), before);
}

/* A body that stalls after its first bytes, with no byte to wake the
 * server: the reaper cuts it (on_request alone would wait for the idle
 * timeout). */
static void test_stalled_body_cut(void **state)
{
    struct httpd *h = *state;
    int fd = raw_connect(httpd_port(h), "127.0.0.1");

    assert_true(fd >= 0);
    assert_true(raw_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));
    assert_true(raw_closed(fd, 6000, NULL, 0));
    close(fd);
    assert_int_equal(httpd_requests_cut(h), 1);
}

/* A connection that never sends a request line, and a kept-alive one left
 * unused after its answer, are closed at the bound too, counted as idle
 * (not as requests cut). */
static void test_idle_closed(void **state)
{
    struct httpd *h = *state;
    int mute = raw_connect(httpd_port(h), "127.0.0.1");
    int kept = raw_connect(httpd_port(h), "127.0.0.1");

    assert_true(mute >= 0 && kept >= 0);
    assert_true(raw_request(kept, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\nhello"));
    assert_true(raw_closed(mute, 6000, NULL, 0));
    assert_true(raw_closed(kept, 6000, NULL, 0));
    close(mute);
    close(kept);
    assert_int_equal(httpd_idle_cut(h), 2);
    assert_int_equal(httpd_requests_cut(h), 0);
}

/* Neither a handler slower than the bound nor a kept-alive connection that
 * sends its next request in time is cut: the bound counts reading only, and
 * restarts after each answer. */
static void test_handler_and_keepalive_not_cut(void **state)
{
    struct httpd *h = *state;
    int fd = raw_connect(httpd_port(h), "127.0.0.1");

    assert_true(fd >= 0);
    assert_true(raw_request(fd, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\nslow"));
    sleep_ms(READ_MS * 4 / 10);
    assert_true(raw_request(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\nhello"));
    sleep_ms(READ_MS * 4 / 10);
    assert_true(raw_request(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\nhello"));
    close(fd);
    assert_int_equal(httpd_requests_cut(h), 0);
    assert_int_equal(httpd_idle_cut(h), 0);
}

/* One address holds at most PER_IP connections; another address still
 * gets in, and a slot freed is usable again. */
static void test_per_ip_limit(void **state)
{
    struct httpd *h = *state;
    int fds[PER_IP], extra, again;
    struct reply r;

    for (int i = 0; i < PER_IP; i++) {
        fds[i] = raw_connect(httpd_port(h), "127.0.0.2");
        assert_true(fds[i] >= 0);
    }
    /* The connections are accepted in order: the last one is refused. */
    sleep_ms(200);
    extra = raw_connect(httpd_port(h), "127.0.0.2");
    assert_true(extra >= 0);
    assert_true(raw_closed(extra, 3000, NULL, 0));
    close(extra);
    assert_int_equal(httpd_requests_cut(h), 0);
    assert_int_equal(req(httpd_port(h), "GET", "/hello", NULL, 0, false, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    close(fds[0]);
    sleep_ms(200);
    again = raw_connect(httpd_port(h), "127.0.0.2");
    assert_true(again >= 0);
    assert_true(raw_request(again, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\nhello"));
    close(again);
    for (int i = 1; i < PER_IP; i++)
        close(fds[i]);
}

struct attacker {
    uint16_t port;
    int      started;
    int      cut;      /* connections the server closed on it */
    int64_t  until;
};

/* Keeps up to 3 * PER_IP dribbling connections from 127.0.0.2 until the
 * deadline, reopening every one the server closes or refuses. */
static void *attack_main(void *arg)
{
    struct attacker *a = arg;
    int fds[3 * PER_IP];
    const size_t nf = sizeof(fds) / sizeof(fds[0]);

    for (size_t i = 0; i < nf; i++)
        fds[i] = -1;
    while (now_ms() < a->until) {
        for (size_t i = 0; i < nf; i++) {
            if (fds[i] < 0) {
                fds[i] = raw_connect(a->port, "127.0.0.2");
                if (fds[i] >= 0 && raw_send(fds[i], HEAD_LINE))
                    a->started++;
                continue;
            }
            if (raw_closed(fds[i], 0, NULL, 0) || !raw_send(fds[i], "X: 1\r\n")) {
                close(fds[i]);
                fds[i] = -1;
                a->cut++;
            }
        }
        sleep_ms(100);
    }
    for (size_t i = 0; i < nf; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

/* The slow-client attack from one address: a client from another one is
 * answered all along, and the attacker's accepted connections are cut. */
static void test_attack_from_one_address(void **state)
{
    struct httpd *h = *state;
    struct attacker a = { .port = httpd_port(h), .until = now_ms() + 3 * READ_MS };
    pthread_t t;
    struct reply r;
    int answered = 0, tries = 0;

    assert_int_equal(pthread_create(&t, NULL, attack_main, &a), 0);
    sleep_ms(300);
    while (now_ms() < a.until - 200) {
        tries++;
        if (req(httpd_port(h), "GET", "/hello", NULL, 0, false, NULL, &r) == CURLE_OK &&
            r.status == 200)
            answered++;
        sleep_ms(200);
    }
    pthread_join(t, NULL);
    assert_true(tries > 0);
    assert_int_equal(answered, tries);
    assert_true(a.started > PER_IP);
    /* Every accepted attack connection was cut at least once. */
    assert_true(httpd_requests_cut(h) >= PER_IP);
}

/* MHD warns once per refused connection; a flood of refusals reaches the
 * log as a few lines and one count, not a line each. */
static void test_refusals_log_rate_limited(void **state)
{
    struct httpd *h = *state;
    char path[] = "/tmp/mlc-test-httpd-log.XXXXXX";
    int lfd = mkstemp(path), hold[PER_IP], mhd_lines = 0;
    char line[1024];
    bool summary = false;
    FILE *f;

    assert_true(lfd >= 0);
    unlink(path);
    log_set_fd(lfd);
    log_set_level(LOG_LVL_WARN);
    for (int i = 0; i < PER_IP; i++)
        hold[i] = raw_connect(httpd_port(h), "127.0.0.2");
    sleep_ms(200);
    for (int i = 0; i < 30; i++) {
        int fd = raw_connect(httpd_port(h), "127.0.0.2");

        if (fd >= 0) {
            raw_closed(fd, 1000, NULL, 0);
            close(fd);
        }
    }
    for (int i = 0; i < PER_IP; i++)
        close(hold[i]);
    httpd_free(h); /* reports the count of the window still open */
    *state = NULL;
    log_set_level(LOG_LVL_ERROR);
    log_set_fd(2);
    lseek(lfd, 0, SEEK_SET);
    f = fdopen(lfd, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, "msg=mhd ") != NULL)
            mhd_lines++;
        if (strstr(line, "msg=\"mhd warnings suppressed\" count=") != NULL)
            summary = true;
    }
    fclose(f);
    assert_true(mhd_lines >= 1);
    assert_true(mhd_lines <= 5);
    assert_true(summary);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test_setup_teardown(test_route_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_start, setup, teardown),
        cmocka_unit_test(test_bad_opts),
        cmocka_unit_test(test_ipv6_loopback),
        cmocka_unit_test_setup_teardown(test_slow_headers_cut, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_body_cut, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_body_cut, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_closed, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_and_keepalive_not_cut, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_ip_limit, ip_setup, teardown),
        cmocka_unit_test_setup_teardown(test_attack_from_one_address, slow_setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_log_rate_limited, ip_setup, teardown),
    };
    int rc;

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
