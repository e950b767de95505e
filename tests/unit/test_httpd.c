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
#include <netinet/in.h>

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

static const struct httpd_route routes[] = {
    { "GET", "/hello", h_hello, NULL },
    { "GET", "/headers", h_headers, NULL },
    { "POST", "/echo", h_echo, &echo_calls },
    { "PUT", "/echo", h_echo, &echo_calls },
    { "GET", "/count", h_count, NULL },
    { "*", "/any/*", h_path, NULL },
    { "GET", "/drop", h_drop, NULL },
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
    };
    int rc;

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
