/*
 * Unit tests: bc/bc_webhook (signature, custom header, payload, dedupe key)
 * and daemon/webhook (the handler behind a real httpd on 127.0.0.1:0, a
 * temporary SQLite store, libcurl as BigCommerce).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "bc/bc_webhook.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "daemon/webhook.h"
#include "net/httpd.h"
#include "store/store.h"

#define KEY    "cs_test_9f8e7d"
#define HDRSEC "hdr-secret-5b1c0e"
#define ID     "msg_2Lh9KqQ"
#define TS     "1700000000"
#define NOW    INT64_C(1700000000)
#define BODY   "{\"scope\":\"store/order/created\"}"
/* openssl: printf 'ID.TS.BODY' | openssl dgst -sha256 -hmac KEY -binary | base64 */
#define SIG_OPENSSL "v1,sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sfY="
/* The same HMAC keyed by base64(KEY) instead of KEY's raw bytes. */
#define SIG_B64KEY  "v1,YfBq7eDAr6noYSDyN4MzPeq+JuoBAzSOmHSJH2LLUM4="

/* webhook_metrics copied into buf; the text's length. */
static size_t metrics_into(const struct webhook *w, char *buf, size_t cap)
{
    struct metrics m;
    size_t len = 0;
    char *text;

    metrics_init(&m);
    webhook_metrics(w, &m);
    text = metrics_take(&m, &len);
    assert_non_null(text);
    snprintf(buf, cap, "%s", text);
    free(text);
    return len;
}

static struct mlc_secret *mk_secret(const char *s)
{
    struct mlc_secret *sec = NULL;

    assert_int_equal(secret_new(s, strlen(s), &sec, NULL), MLC_OK);
    return sec;
}

static int verify(const char *key, const char *id, const char *ts,
                  const char *sig, const char *body, int64_t now,
                  struct mlc_err *e)
{
    struct mlc_secret *k = mk_secret(key);
    int rc;

    mlc_err_clear(e);
    rc = bcwh_verify_signature(k, id, ts, sig, body, body != NULL ? strlen(body) : 0,
                               now, e);
    secret_free(k);
    return rc;
}

static void sign(const char *key, const char *id, const char *ts,
                 const char *body, char out[BCWH_SIG_MAX])
{
    struct mlc_secret *k = mk_secret(key);

    assert_int_equal(bcwh_sign(k, id, ts, body, strlen(body), out, NULL), MLC_OK);
    secret_free(k);
}

/* No message may carry the key, the header secret or a signature. */
static void assert_clean(const struct mlc_err *e)
{
    assert_null(strstr(e->msg, KEY));
    assert_null(strstr(e->msg, HDRSEC));
    assert_null(strstr(e->msg, "sLImQWzQ"));
    assert_null(strstr(e->msg, "YfBq7eDA"));
}

/* ---- signature ---------------------------------------------------------- */

static void t_sig_known_vector(void **state)
{
    struct mlc_err e;
    char sig[BCWH_SIG_MAX];

    (void)state;
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW, &e), MLC_OK);
    sign(KEY, ID, TS, BODY, sig);
    assert_string_equal(sig, SIG_OPENSSL);
}

/* The key is the client secret's raw bytes, not its base64 form. */
static void t_sig_key_is_raw_bytes(void **state)
{
    struct mlc_err e;

    (void)state;
    assert_int_equal(verify(KEY, ID, TS, SIG_B64KEY, BODY, NOW, &e), MLC_ECRYPTO);
    assert_clean(&e);
}

static void t_sig_several_one_matches(void **state)
{
    struct mlc_err e;
    char hdr[512];

    (void)state;
    snprintf(hdr, sizeof(hdr), "v1,AAAA v1a,xyz %s v2,%s garbage", SIG_B64KEY,
             SIG_OPENSSL + 3);
    assert_int_equal(verify(KEY, ID, TS, hdr, BODY, NOW, &e), MLC_ECRYPTO);
    snprintf(hdr, sizeof(hdr), "v1,AAAA  v1a,xyz %s %s v2,zz", SIG_B64KEY, SIG_OPENSSL);
    assert_int_equal(verify(KEY, ID, TS, hdr, BODY, NOW, &e), MLC_OK);
    snprintf(hdr, sizeof(hdr), "%s v1,AAAA", SIG_OPENSSL);
    assert_int_equal(verify(KEY, ID, TS, hdr, BODY, NOW, &e), MLC_OK);
}

static void t_sig_wrong_secret(void **state)
{
    struct mlc_err e;

    (void)state;
    assert_int_equal(verify("cs_test_9f8e7e", ID, TS, SIG_OPENSSL, BODY, NOW, &e),
                     MLC_ECRYPTO);
    assert_non_null(strstr(e.msg, "webhook-signature: no v1 signature matches"));
    assert_clean(&e);
}

static void t_sig_body_altered(void **state)
{
    char body[] = BODY;
    struct mlc_err e;

    (void)state;
    for (size_t i = 0; i < sizeof(body) - 1; i++) {
        body[i] ^= 0x01;
        assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, body, NOW, &e), MLC_ECRYPTO);
        body[i] ^= 0x01;
    }
    /* id and timestamp are signed too */
    assert_int_equal(verify(KEY, "msg_2Lh9KqR", TS, SIG_OPENSSL, BODY, NOW, &e),
                     MLC_ECRYPTO);
    assert_int_equal(verify(KEY, ID, "1700000001", SIG_OPENSSL, BODY, NOW, &e),
                     MLC_ECRYPTO);
    /* a truncated body */
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, "{\"scope\":\"store/order/created\"",
                            NOW, &e), MLC_ECRYPTO);
}

static void t_sig_timestamp_window(void **state)
{
    struct mlc_err e;

    (void)state;
    /* the signed timestamp is fixed; move "now" around it */
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW + 300, &e), MLC_OK);
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW - 300, &e), MLC_OK);
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW + 301, &e), MLC_ETIMEOUT);
    assert_non_null(strstr(e.msg, "301 s away"));
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW - 301, &e), MLC_ETIMEOUT);
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, NOW + 86400, &e), MLC_ETIMEOUT);
    assert_int_equal(verify(KEY, ID, TS, SIG_OPENSSL, BODY, 0, &e), MLC_ETIMEOUT);
    assert_clean(&e);
}

static void t_sig_missing_headers(void **state)
{
    struct mlc_err e;

    (void)state;
    assert_int_equal(verify(KEY, NULL, TS, SIG_OPENSSL, BODY, NOW, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "header webhook-id missing");
    assert_int_equal(verify(KEY, ID, NULL, SIG_OPENSSL, BODY, NOW, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "header webhook-timestamp missing");
    assert_int_equal(verify(KEY, ID, TS, NULL, BODY, NOW, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "header webhook-signature missing");
}

static void t_sig_malformed_headers(void **state)
{
    static const char *const bad_ts[] = {
        "", "17e8", "-1700000000", " 1700000000", "1700000000 ", "0x10",
        "1700000000.5", "9999999999999999999999",
    };
    static const char *const bad_sig[] = {
        "", " ", "v1,", "v1", "v1,!!!!", "V1,sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sfY=",
        "v1,sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sfY", /* no padding */
        "v1,sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sQ==", /* 31 bytes */
        "v1,sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sfY=AAAA",
        "v1:sLImQWzQtlIl+rbneXlGNd8RjGW+9Qag/fSSgEe7sfY=",
    };
    struct mlc_err e;
    char long_id[BCWH_ID_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
        assert_int_equal(verify(KEY, ID, bad_ts[i], SIG_OPENSSL, BODY, NOW, &e),
                         MLC_EAUTH);
        assert_string_equal(e.msg, "header webhook-timestamp is not a Unix time in seconds");
    }
    for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
        assert_int_equal(verify(KEY, ID, TS, bad_sig[i], BODY, NOW, &e), MLC_ECRYPTO);
    assert_int_equal(verify(KEY, "", TS, SIG_OPENSSL, BODY, NOW, &e), MLC_EAUTH);
    assert_int_equal(verify(KEY, "msg 1", TS, SIG_OPENSSL, BODY, NOW, &e), MLC_EAUTH);
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(verify(KEY, long_id, TS, SIG_OPENSSL, BODY, NOW, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "webhook-id"));
}

static void t_sig_roundtrip(void **state)
{
    const char *body = "{\"scope\":\"store/customer/updated\",\"data\":{\"id\":7}}";
    char sig[BCWH_SIG_MAX];
    struct mlc_err e;

    (void)state;
    sign("another secret with spaces", "msg_99", "1800000000", body, sig);
    assert_int_equal(strncmp(sig, "v1,", 3), 0);
    assert_int_equal(strlen(sig), 3 + 44);
    assert_int_equal(verify("another secret with spaces", "msg_99", "1800000000",
                            sig, body, 1800000123, &e), MLC_OK);
}

/* ---- custom header ------------------------------------------------------ */

static void t_header_check(void **state)
{
    struct mlc_secret *s = mk_secret(HDRSEC);
    struct mlc_err e;

    (void)state;
    assert_int_equal(bcwh_check_header(s, HDRSEC, &e), MLC_OK);
    assert_int_equal(bcwh_check_header(s, NULL, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "header X-MLC-Webhook-Secret missing");
    assert_int_equal(bcwh_check_header(s, "", &e), MLC_EAUTH);
    assert_int_equal(bcwh_check_header(s, "hdr-secret-5b1c0", &e), MLC_EAUTH);
    assert_int_equal(bcwh_check_header(s, HDRSEC "x", &e), MLC_EAUTH);
    assert_int_equal(bcwh_check_header(s, "HDR-SECRET-5B1C0E", &e), MLC_EAUTH);
    assert_string_equal(e.msg, "header X-MLC-Webhook-Secret does not match the "
                        "stored webhook secret");
    assert_clean(&e);
    secret_free(s);
}

/* ---- payload ------------------------------------------------------------ */

static int parse(const char *body, struct bcwh_event *ev, struct mlc_err *e)
{
    mlc_err_clear(e);
    return bcwh_parse(body, strlen(body), ev, e);
}

static void t_parse_order(void **state)
{
    const char *body =
        "{\"scope\":\"store/order/statusUpdated\",\"store_id\":\"1025646\","
        "\"data\":{\"type\":\"order\",\"id\":105,\"status\":{\"previous_status_id\":0,"
        "\"new_status_id\":11}},\"hash\":\"7ee67cd1cf2ca60bc1aa9e5fe957d2de373be4ca\","
        "\"created_at\":1561479335,\"producer\":\"stores/abc123\"}";
    struct bcwh_event ev;
    struct mlc_err e;

    (void)state;
    assert_int_equal(parse(body, &ev, &e), MLC_OK);
    assert_string_equal(ev.scope, "store/order/statusUpdated");
    assert_string_equal(ev.store_id, "1025646");
    assert_string_equal(ev.type, "order");
    assert_string_equal(ev.id, "105");
    assert_string_equal(ev.resource, "order:105");
    assert_string_equal(ev.hash, "7ee67cd1cf2ca60bc1aa9e5fe957d2de373be4ca");
    assert_int_equal(ev.created_at, 1561479335);
    assert_string_equal(ev.job_kind, "order.sync");
}

static void t_parse_kinds(void **state)
{
    static const struct {
        const char *data;
        const char *resource;
        const char *job; /* NULL: no job */
    } cases[] = {
        { "{\"type\":\"customer\",\"id\":7}", "customer:7", "customer.sync" },
        { "{\"type\":\"customer\",\"id\":60,\"address\":{\"customer_id\":7}}",
          "customer:7", "customer.sync" },
        { "{\"type\":\"product\",\"id\":12}", "product:12", "catalog.sync" },
        { "{\"type\":\"product\",\"id\":12,\"inventory\":{\"product_id\":12,"
          "\"method\":\"relative\",\"value\":-2}}", "product:12", "catalog.sync" },
        /* a SKU names its product: the job re-reads the product */
        { "{\"type\":\"sku\",\"id\":34,\"sku\":{\"product_id\":12,\"variant_id\":5}}",
          "product:12", "catalog.sync" },
        { "{\"type\":\"sku\",\"id\":34}", "sku:34", "catalog.sync" },
        { "{\"type\":\"order\",\"id\":250,\"refund\":{\"refund_id\":3}}",
          "order:250", "order.sync" },
        { "{\"type\":\"transaction\",\"order_id\":\"250\",\"transaction_id\":\"x\"}",
          "order:250", "order.sync" },
        { "{\"type\":\"transaction\",\"order_id\":251}", "order:251", "order.sync" },
        { "{\"type\":\"cart\",\"id\":\"09346904-4175-44fd-be53-f7e598531b6c\"}",
          "cart:09346904-4175-44fd-be53-f7e598531b6c", NULL },
        { "{\"type\":\"app\",\"id\":0}", "app:0", NULL },
    };
    char body[512];
    struct bcwh_event ev;
    struct mlc_err e;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "{\"scope\":\"store/x/y\",\"store_id\":1025646,"
                 "\"data\":%s,\"hash\":\"h1\",\"created_at\":1}", cases[i].data);
        assert_int_equal(parse(body, &ev, &e), MLC_OK);
        assert_string_equal(ev.resource, cases[i].resource);
        assert_string_equal(ev.store_id, "1025646"); /* a number, normalised */
        if (cases[i].job == NULL)
            assert_null(ev.job_kind);
        else
            assert_string_equal(ev.job_kind, cases[i].job);
    }
}

/* Ids a job would re-read must be BigCommerce's: 1 to 2^31 - 1, digits
 * only; a job made for order 0 or "-5" would only be held. */
static void t_parse_job_ids(void **state)
{
    static const char *const bad[] = {
        "{\"type\":\"order\",\"id\":0}",
        "{\"type\":\"order\",\"id\":\"0\"}",
        "{\"type\":\"order\",\"id\":\"-5\"}",
        "{\"type\":\"order\",\"id\":\"007\"}",
        "{\"type\":\"order\",\"id\":2147483648}",
        "{\"type\":\"order\",\"id\":\"99999999999999999999999\"}",
        "{\"type\":\"customer\",\"id\":\"abc\"}",
        "{\"type\":\"product\",\"id\":\"12-a\"}",
        "{\"type\":\"transaction\",\"order_id\":0}",
        "{\"type\":\"sku\",\"id\":3,\"sku\":{\"product_id\":0}}",
    };
    char body[512];
    struct bcwh_event ev;
    struct mlc_err e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"scope\":\"store/x/y\",\"store_id\":\"1\","
                 "\"data\":%s,\"hash\":\"h1\",\"created_at\":1}", bad[i]);
        assert_int_equal(parse(body, &ev, &e), MLC_EINVAL);
        assert_non_null(strstr(e.msg, "expected an id from 1 to 2147483647"));
    }
    snprintf(body, sizeof(body), "{\"scope\":\"store/x/y\",\"store_id\":\"1\","
             "\"data\":{\"type\":\"order\",\"id\":2147483647},\"hash\":\"h1\","
             "\"created_at\":1}");
    assert_int_equal(parse(body, &ev, &e), MLC_OK);
}

#define STORE_FMT "{\"scope\":\"store/order/updated\",\"store_id\":\"%s\"," \
    "\"data\":{\"type\":\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1%s}"

/* Another store's delivery: its producer always, its store_id when the
 * configuration names ours. */
static void t_check_store(void **state)
{
    char body[512];
    struct bcwh_event ev;
    struct mlc_err e;

    (void)state;
    snprintf(body, sizeof(body), STORE_FMT, "1025646", ",\"producer\":\"stores/abc123\"");
    assert_int_equal(parse(body, &ev, &e), MLC_OK);
    assert_string_equal(ev.producer, "stores/abc123");
    assert_int_equal(bcwh_check_store(&ev, "abc123", 0, &e), MLC_OK);
    assert_int_equal(bcwh_check_store(&ev, "abc123", 1025646, &e), MLC_OK);
    assert_int_equal(bcwh_check_store(&ev, "zzz999", 0, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "webhook payload: producer: another store's (stores/abc123), "
                        "not stores/zzz999");
    assert_int_equal(bcwh_check_store(&ev, "abc123", 77, &e), MLC_EAUTH);
    assert_string_equal(e.msg, "webhook payload: store_id: another store's (1025646), not 77");
    snprintf(body, sizeof(body), STORE_FMT, "1025646", ",\"producer\":\"stores/abc1234\"");
    assert_int_equal(parse(body, &ev, &e), MLC_OK);
    assert_int_equal(bcwh_check_store(&ev, "abc123", 0, &e), MLC_EAUTH);
    /* no producer: only the store_id can tell */
    snprintf(body, sizeof(body), STORE_FMT, "1025646", "");
    assert_int_equal(parse(body, &ev, &e), MLC_OK);
    assert_int_equal(bcwh_check_store(&ev, "abc123", 0, &e), MLC_OK);
    assert_int_equal(bcwh_check_store(&ev, "abc123", 5, &e), MLC_EAUTH);
}

static void t_parse_errors(void **state)
{
    static const struct {
        const char *body;
        int         rc;
        const char *msg;
    } cases[] = {
        { "", MLC_EPARSE, "webhook payload: empty body" },
        { "{\"scope\":", MLC_EPARSE, "webhook payload: JSON error" },
        { "[1]", MLC_EPROTO, "webhook payload: <root>: expected object, got array" },
        { "{\"store_id\":\"1\",\"data\":{\"type\":\"order\",\"id\":1},\"hash\":\"h\","
          "\"created_at\":1}", MLC_ENOTFOUND, "webhook payload: scope: missing" },
        { "{\"scope\":\"order/updated\",\"store_id\":\"1\",\"data\":{\"type\":\"order\","
          "\"id\":1},\"hash\":\"h\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: scope: expected store/..." },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"abc\",\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: store_id: expected decimal digits" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":-4,\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: store_id: negative" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":1.5,\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1}", MLC_EPROTO,
          "webhook payload: store_id: expected string or integer, got number" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"hash\":\"h\","
          "\"created_at\":1}", MLC_ENOTFOUND, "webhook payload: data: missing" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":[],"
          "\"hash\":\"h\",\"created_at\":1}", MLC_EPROTO,
          "webhook payload: data: expected object, got array" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":3,"
          "\"id\":1},\"hash\":\"h\",\"created_at\":1}", MLC_EPROTO,
          "webhook payload: data.type: expected string, got number" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\"},\"hash\":\"h\",\"created_at\":1}", MLC_ENOTFOUND,
          "webhook payload: data.id: missing" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":\"1 OR 1\"},\"hash\":\"h\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: data.id: expected letters, digits" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":-1},\"hash\":\"h\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: data.id: negative" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":null},\"hash\":\"h\",\"created_at\":1}", MLC_EPROTO,
          "webhook payload: data.id: expected string or integer, got null" },
        { "{\"scope\":\"store/order/transaction/created\",\"store_id\":\"1\",\"data\":"
          "{\"type\":\"transaction\",\"id\":9},\"hash\":\"h\",\"created_at\":1}",
          MLC_ENOTFOUND, "webhook payload: data.order_id: missing" },
        { "{\"scope\":\"store/customer/address/created\",\"store_id\":\"1\",\"data\":"
          "{\"type\":\"customer\",\"id\":9,\"address\":{}},\"hash\":\"h\","
          "\"created_at\":1}", MLC_ENOTFOUND,
          "webhook payload: data.address.customer_id: missing" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":1},\"created_at\":1}", MLC_ENOTFOUND,
          "webhook payload: hash: missing" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"\",\"created_at\":1}", MLC_EINVAL,
          "webhook payload: hash: empty" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":\"1561479335\"}", MLC_EPROTO,
          "webhook payload: created_at: expected integer" },
        { "{\"scope\":\"store/order/updated\",\"store_id\":\"1\",\"data\":{\"type\":"
          "\"order\",\"id\":1},\"hash\":\"h\"}", MLC_ENOTFOUND,
          "webhook payload: created_at: missing" },
        { "{\"scope\":\"store/order/updated\",\"scope\":\"store/x\",\"store_id\":\"1\","
          "\"data\":{\"type\":\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1}",
          MLC_EPARSE, "webhook payload: JSON error" },
    };
    struct bcwh_event ev;
    struct mlc_err e;
    char body[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].body, &ev, &e);

        if (rc != cases[i].rc || strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: rc %d msg '%s'", i, rc, e.msg);
        assert_string_equal(ev.resource, ""); /* cleared on failure */
        assert_null(ev.job_kind);
    }
    /* a scope longer than the buffer */
    snprintf(body, sizeof(body), "{\"scope\":\"store/%0200d\",\"store_id\":\"1\","
             "\"data\":{\"type\":\"order\",\"id\":1},\"hash\":\"h\",\"created_at\":1}", 0);
    assert_int_equal(parse(body, &ev, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "webhook payload: scope: longer than 127 characters");
}

/* ---- dedupe key --------------------------------------------------------- */

static void t_dedupe_key(void **state)
{
    struct bcwh_event a = { .hash = "7ee67cd1", .created_at = 1561479335 };
    struct bcwh_event b = { .hash = "7ee67cd1", .created_at = 1561479399 };
    char k1[BCWH_KEY_MAX], k2[BCWH_KEY_MAX], small[12];
    struct mlc_err e;

    (void)state;
    assert_int_equal(bcwh_dedupe_key("msg_1", &a, k1, sizeof(k1), &e), MLC_OK);
    assert_string_equal(k1, "bc:id:msg_1");
    /* the webhook-id wins: a retry with another timestamp is the same key */
    assert_int_equal(bcwh_dedupe_key("msg_1", &b, k2, sizeof(k2), &e), MLC_OK);
    assert_string_equal(k1, k2);
    /* without it: hash + created_at; two updates sharing a hash differ */
    assert_int_equal(bcwh_dedupe_key(NULL, &a, k1, sizeof(k1), &e), MLC_OK);
    assert_string_equal(k1, "bc:hash:7ee67cd1:1561479335");
    assert_int_equal(bcwh_dedupe_key(NULL, &b, k2, sizeof(k2), &e), MLC_OK);
    assert_string_not_equal(k1, k2);
    assert_int_equal(bcwh_dedupe_key("", &a, k1, sizeof(k1), &e), MLC_EINVAL);
    assert_int_equal(bcwh_dedupe_key("a\tb", &a, k1, sizeof(k1), &e), MLC_EINVAL);
    assert_int_equal(bcwh_dedupe_key("msg_123456", &a, small, sizeof(small), &e),
                     MLC_ERANGE);
}

/* ---- the handler over HTTP ---------------------------------------------- */

struct hfix {
    char            dir[64];
    char            db[128];
    struct webhook *w;
    struct httpd   *h;
    struct store   *st;   /* a reader of our own */
    int64_t         now;
};

static int64_t fix_clock(void *ctx)
{
    return ((struct hfix *)ctx)->now;
}

/* header_secret / sign_key: which checks the endpoint runs. */
static struct hfix *hfix_new(bool header_secret, bool sign_key)
{
    struct hfix *f = calloc(1, sizeof(*f));
    struct httpd_route route = { "POST", WEBHOOK_PATH, webhook_handle, NULL };
    struct httpd_opts o = {
        .listen = "127.0.0.1:0", .threads = 2, .connection_timeout_s = 10,
        .max_body_bytes = 2048,
    };
    struct mlc_err e;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-webhook-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/mlc.db", f->dir);
    if (webhook_new(f->db, NULL, header_secret ? mk_secret(HDRSEC) : NULL,
                    sign_key ? mk_secret(KEY) : NULL, &f->w, &e) != MLC_OK)
        fail_msg("webhook_new: %s", e.msg);
    f->now = NOW;
    webhook_set_clock(f->w, fix_clock, f);
    route.ctx = f->w;
    if (httpd_start(&o, &route, 1, &f->h, &e) != MLC_OK)
        fail_msg("httpd_start: %s", e.msg);
    assert_int_equal(store_open(f->db, &f->st, NULL), MLC_OK);
    return f;
}

static void hfix_free(struct hfix *f)
{
    char p[192];

    httpd_free(f->h);
    webhook_free(f->w);
    store_close(f->st);
    snprintf(p, sizeof(p), "%s/mlc.db-wal", f->dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/mlc.db-shm", f->dir);
    unlink(p);
    unlink(f->db);
    rmdir(f->dir);
    free(f);
}

struct reply {
    long   status;
    char   body[1024];
    size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n, room = sizeof(r->body) - 1 - r->len;

    if (k > room)
        k = room;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return sz * n;
}

/* POSTs body with the given headers (NULL-terminated) to the endpoint. */
static long post(struct hfix *f, const char *body, const char *const *hdrs,
                 struct reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *sl = curl_slist_append(NULL, "Content-Type: application/json");
    char url[128];

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)httpd_port(f->h),
             WEBHOOK_PATH);
    for (; hdrs != NULL && *hdrs != NULL; hdrs++)
        sl = curl_slist_append(sl, *hdrs);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    return r->status;
}

#define ORDER_BODY(id, created) \
    "{\"scope\":\"store/order/updated\",\"store_id\":\"1025646\",\"data\":" \
    "{\"type\":\"order\",\"id\":" #id "},\"hash\":\"3f1c\",\"created_at\":" #created "}"

/* A signed delivery: fills hdr storage and returns the header list. */
struct delivery {
    char        id[64], ts[32], sig[BCWH_SIG_MAX + 32], sec[64], idh[80], tsh[64];
    const char *list[5];
};

static const char *const *signed_hdrs(struct delivery *d, const char *id,
                                      int64_t ts, const char *body, const char *key,
                                      bool with_header)
{
    char s[BCWH_SIG_MAX], tsv[24];
    size_t n = 0;

    snprintf(tsv, sizeof(tsv), "%lld", (long long)ts);
    sign(key, id, tsv, body, s);
    snprintf(d->idh, sizeof(d->idh), "webhook-id: %s", id);
    snprintf(d->tsh, sizeof(d->tsh), "webhook-timestamp: %s", tsv);
    snprintf(d->sig, sizeof(d->sig), "webhook-signature: %s", s);
    snprintf(d->sec, sizeof(d->sec), "X-MLC-Webhook-Secret: %s", HDRSEC);
    d->list[n++] = d->idh;
    d->list[n++] = d->tsh;
    d->list[n++] = d->sig;
    if (with_header)
        d->list[n++] = d->sec;
    d->list[n] = NULL;
    return d->list;
}

static int64_t count_jobs(struct hfix *f, enum store_job_state s)
{
    int64_t n = -1;

    assert_int_equal(store_job_count(f->st, s, &n, NULL), MLC_OK);
    return n;
}

struct jobs_seen { int n; char key[64]; char kind[32]; };

static int on_job(const struct store_job *j, void *ctx)
{
    struct jobs_seen *s = ctx;

    s->n++;
    snprintf(s->key, sizeof(s->key), "%s", j->key);
    snprintf(s->kind, sizeof(s->kind), "%s", j->kind);
    return 0;
}

static void t_handler_flow(void **state)
{
    struct hfix *f = hfix_new(true, true);
    struct delivery d;
    struct reply r;
    struct jobs_seen seen = { 0 };
    struct webhook_stats s;
    const char *b1 = ORDER_BODY(105, 1700000000);
    const char *b2 = ORDER_BODY(105, 1700000050);
    char metrics[2048];
    size_t mlen;

    (void)state;
    /* valid -> 200 stored, one READY order.sync job for order:105 */
    assert_int_equal(post(f, b1, signed_hdrs(&d, "msg_1", NOW, b1, KEY, true), &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(store_job_list(f->st, STORE_JOB_READY, 0, on_job, &seen, NULL), MLC_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.key, "order:105");
    assert_string_equal(seen.kind, "order.sync");
    /* the same delivery retried later (new timestamp, same id) -> duplicate */
    f->now += 60;
    assert_int_equal(post(f, b1, signed_hdrs(&d, "msg_1", f->now, b1, KEY, true), &r), 200);
    assert_string_equal(r.body, "{\"status\":\"duplicate\"}");
    /* another update of the order while its job waits -> coalesced */
    assert_int_equal(post(f, b2, signed_hdrs(&d, "msg_2", f->now, b2, KEY, true), &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 1);
    /* wrong key, missing custom header, stale timestamp -> 401 */
    assert_int_equal(post(f, b2, signed_hdrs(&d, "msg_3", f->now, b2, "nope", true), &r), 401);
    assert_string_equal(r.body, "{\"error\":\"unauthorized\"}");
    assert_int_equal(post(f, b2, signed_hdrs(&d, "msg_4", f->now, b2, KEY, false), &r), 401);
    assert_int_equal(post(f, b2, signed_hdrs(&d, "msg_5", f->now - 400, b2, KEY, true), &r), 401);
    /* malformed -> 400 with the path */
    assert_int_equal(post(f, "{\"scope\":\"store/order/updated\"}",
                          signed_hdrs(&d, "msg_6", f->now, "{\"scope\":\"store/order/updated\"}",
                                      KEY, true), &r), 400);
    assert_non_null(strstr(r.body, "\"error\":\"malformed payload\""));
    assert_non_null(strstr(r.body, "store_id: missing"));
    /* a job for another order */
    assert_int_equal(post(f, ORDER_BODY(106, 1), signed_hdrs(&d, "msg_7", f->now,
                          ORDER_BODY(106, 1), KEY, true), &r), 200);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 2);

    webhook_stats(f->w, &s);
    assert_int_equal(s.stored, 3);
    assert_int_equal(s.duplicate, 1);
    assert_int_equal(s.unauthorized, 3);
    assert_int_equal(s.malformed, 1);
    assert_int_equal(s.error, 0);
    mlen = metrics_into(f->w, metrics, sizeof(metrics));
    assert_true(mlen < sizeof(metrics));
    assert_non_null(strstr(metrics, "# TYPE mlc_webhooks_total counter\n"));
    assert_non_null(strstr(metrics, "mlc_webhooks_total{outcome=\"stored\"} 3\n"));
    assert_non_null(strstr(metrics, "mlc_webhooks_total{outcome=\"unauthorized\"} 3\n"));
    assert_non_null(strstr(metrics, "mlc_webhooks_total{outcome=\"error\"} 0\n"));
    hfix_free(f);
}

/* A job that is RUNNING does not absorb a new stub: the change is fetched again. */
/* ---- group commit: concurrent deliveries ---------------------------------- */

#define GC_THREADS 8
#define GC_EACH    30   /* per thread: 20 of its own, 10 shared by all */

struct gc_thread {
    struct hfix *f;
    int          n;
    int          stored, duplicate, other;
    bool         stored_shared[GC_EACH];
};

/* Posts one delivery without cmocka asserts (not thread-safe): 200 stored
 * -> 1, 200 duplicate -> 0, anything else -> -1. */
static int gc_post(struct hfix *f, const char *id, int64_t order)
{
    char body[256];
    struct delivery d;
    struct reply r;
    const char *const *h;
    CURL *c = curl_easy_init();
    struct curl_slist *sl = curl_slist_append(NULL, "Content-Type: application/json");
    char url[128];
    int rc = -1;

    snprintf(body, sizeof(body), "{\"scope\":\"store/order/updated\",\"store_id\":\"1025646\","
             "\"data\":{\"type\":\"order\",\"id\":%lld},\"hash\":\"3f1c\","
             "\"created_at\":1700000000}", (long long)order);
    h = signed_hdrs(&d, id, NOW, body, KEY, false);
    memset(&r, 0, sizeof(r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)httpd_port(f->h),
             WEBHOOK_PATH);
    for (; *h != NULL; h++)
        sl = curl_slist_append(sl, *h);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        if (r.status == 200 && strcmp(r.body, "{\"status\":\"stored\"}") == 0)
            rc = 1;
        else if (r.status == 200 && strcmp(r.body, "{\"status\":\"duplicate\"}") == 0)
            rc = 0;
    }
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    return rc;
}

static void *gc_main(void *arg)
{
    struct gc_thread *t = arg;
    char id[64];

    for (int i = 0; i < GC_EACH; i++) {
        bool shared = i % 3 == 2;
        int k = shared ? i / 3 : i;
        int rc;

        if (shared)
            snprintf(id, sizeof(id), "shared-%d", k);
        else
            snprintf(id, sizeof(id), "own-%d-%d", t->n, i);
        rc = gc_post(t->f, id, shared ? 900000 + k : 1000 * (t->n + 1) + i);
        if (rc == 1 && shared)
            t->stored_shared[k] = true;
        if (rc == 1)
            t->stored++;
        else if (rc == 0)
            t->duplicate++;
        else
            t->other++;
    }
    return NULL;
}

/* Deliveries arriving together are stored in shared transactions (group
 * commit): each is still answered for itself, a delivery sent by several
 * threads at once is stored once and answered "duplicate" everywhere else,
 * and every delivery answered "stored" is in the store with its job. */
static void t_group_commit(void **state)
{
    struct hfix *f = hfix_new(false, true);
    struct gc_thread t[GC_THREADS];
    pthread_t th[GC_THREADS];
    int stored = 0, duplicate = 0, other = 0, own = GC_EACH - GC_EACH / 3;
    int64_t events = -1;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;

    (void)state;
    memset(t, 0, sizeof(t));
    for (int i = 0; i < GC_THREADS; i++) {
        t[i].f = f;
        t[i].n = i;
        assert_int_equal(pthread_create(&th[i], NULL, gc_main, &t[i]), 0);
    }
    for (int i = 0; i < GC_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < GC_THREADS; i++) {
        stored += t[i].stored;
        duplicate += t[i].duplicate;
        other += t[i].other;
    }
    for (int k = 0; k < GC_EACH / 3; k++) {
        int owners = 0;

        for (int i = 0; i < GC_THREADS; i++)
            owners += t[i].stored_shared[k];
        assert_int_equal(owners, 1);   /* exactly one thread was told "stored" */
    }
    assert_int_equal(other, 0);
    assert_int_equal(stored, GC_THREADS * own + GC_EACH / 3);
    assert_int_equal(duplicate, (GC_THREADS - 1) * (GC_EACH / 3));
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    events = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_int_equal(events, stored);
    /* one job per order: the own deliveries' orders and the shared ones */
    assert_int_equal(count_jobs(f, STORE_JOB_READY), GC_THREADS * own + GC_EACH / 3);
    hfix_free(f);
}

static void t_handler_running_job_enqueues_again(void **state)
{
    struct hfix *f = hfix_new(false, true);
    const char *b1 = ORDER_BODY(7, 1700000000), *b2 = ORDER_BODY(7, 1700000001);
    struct store_job j;
    struct delivery d;
    struct reply r;

    (void)state;
    assert_int_equal(post(f, b1, signed_hdrs(&d, "m1", NOW, b1, KEY, false), &r), 200);
    memset(&j, 0, sizeof(j));
    assert_int_equal(store_job_claim(f->st, "test:w1", NULL, 60000, &j, NULL), MLC_OK);
    assert_string_equal(j.key, "order:7");
    store_job_clear(&j);
    assert_int_equal(post(f, b2, signed_hdrs(&d, "m2", NOW, b2, KEY, false), &r), 200);
    assert_int_equal(count_jobs(f, STORE_JOB_RUNNING), 1);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 1);
    hfix_free(f);
}

/* Only the custom header configured: no signature needed, and the dedupe
 * key falls back to hash + created_at. */
static void t_handler_header_only(void **state)
{
    struct hfix *f = hfix_new(true, false);
    const char *ok[] = { "X-MLC-Webhook-Secret: " HDRSEC, NULL };
    const char *bad[] = { "X-MLC-Webhook-Secret: wrong", NULL };
    struct reply r;

    (void)state;
    assert_int_equal(post(f, ORDER_BODY(9, 100), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(post(f, ORDER_BODY(9, 100), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"duplicate\"}");
    /* same hash, later created_at: a new event, coalesced into the job */
    assert_int_equal(post(f, ORDER_BODY(9, 101), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(post(f, ORDER_BODY(9, 102), bad, &r), 401);
    assert_int_equal(post(f, ORDER_BODY(9, 102), NULL, &r), 401);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 1);
    hfix_free(f);
}

#define PRODUCT_BODY(type, extra, created) \
    "{\"scope\":\"store/" type "/updated\",\"store_id\":\"1025646\",\"data\":" \
    "{\"type\":\"" type "\",\"id\":12" extra "},\"hash\":\"9a0b\",\"created_at\":" \
    #created "}"

/* A kind without a handler in the configuration (catalog.enabled false):
 * acknowledged and stored, but no job; with the handler: a job, and a SKU
 * event names its product. */
static void t_handler_unhandled_kind(void **state)
{
    struct hfix *f = hfix_new(true, false);
    const char *ok[] = { "X-MLC-Webhook-Secret: " HDRSEC, NULL };
    struct mlc_config cat;
    struct jobs_seen seen = { 0 };
    struct webhook_stats s;
    struct reply r;
    char metrics[2048];

    (void)state;
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 200), ok, &r), 200);
    assert_non_null(strstr(r.body, "\"status\":\"stored\""));
    assert_non_null(strstr(r.body, "no handler"));
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 0);
    webhook_stats(f->w, &s);
    assert_int_equal(s.unhandled, 1);
    assert_int_equal(s.stored, 0);
    /* a retry of it is a duplicate: the event was stored */
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 200), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"duplicate\"}");
    assert_true(metrics_into(f->w, metrics, sizeof(metrics)) < sizeof(metrics));
    assert_non_null(strstr(metrics, "mlc_webhooks_total{outcome=\"unhandled\"} 1\n"));
    /* orders always have a handler */
    assert_int_equal(post(f, ORDER_BODY(9, 100), ok, &r), 200);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 1);

    memset(&cat, 0, sizeof(cat));
    cat.catalog.enabled = true;
    webhook_set_jobs(f->w, &cat);
    assert_int_equal(post(f, PRODUCT_BODY("sku", ",\"sku\":{\"product_id\":12,"
                                         "\"variant_id\":5}", 300), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 301), ok, &r), 200);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 2);   /* order:9 and product:12 */
    assert_int_equal(store_job_list(f->st, STORE_JOB_READY, 0, on_job, &seen, NULL), MLC_OK);
    assert_string_equal(seen.kind, "catalog.sync");
    assert_string_equal(seen.key, "product:12");
    webhook_stats(f->w, &s);
    assert_int_equal(s.unhandled, 1);
    assert_int_equal(s.stored, 3);
    hfix_free(f);
}

/* A store that fails answers 503, never 200. */
static void t_handler_store_failure(void **state)
{
    struct hfix *f = hfix_new(true, false);
    const char *ok[] = { "X-MLC-Webhook-Secret: " HDRSEC, NULL };
    struct webhook_stats s;
    struct reply r;
    sqlite3 *db = NULL;

    (void)state;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE events", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(post(f, ORDER_BODY(5, 1), ok, &r), 503);
    webhook_stats(f->w, &s);
    assert_int_equal(s.error, 1);
    assert_int_equal(s.stored, 0);
    hfix_free(f);
}

static void t_handler_new_needs_a_secret(void **state)
{
    struct webhook *w = (struct webhook *)&w;
    struct mlc_err e;

    (void)state;
    assert_int_equal(webhook_new("/nonexistent/x.db", NULL, NULL, NULL, &w, &e), MLC_EINVAL);
    assert_null(w);
    /* a secret given to a failing webhook_new is freed (valgrind checks) */
    assert_int_not_equal(webhook_new("/nonexistent/dir/x.db", NULL, mk_secret("x"), NULL, &w, &e),
                         MLC_OK);
    assert_null(w);
}

/* ---- the gather window and the observer (issue 9) ------------------------ */

/* The store clock of the gather cases: a multiple of 2000 ms, plus the
 * case's own offset. */
#define BASE_MS (NOW * 1000)

struct clockfix {
    int64_t ms;
};

static int64_t fixed_store_clock(void *ctx)
{
    return ((struct clockfix *)ctx)->ms;
}

struct due_find {
    const char *key;
    int64_t     run_at;
    int         n;
};

static int on_due(const struct store_job *j, void *ctx)
{
    struct due_find *d = ctx;

    if (strcmp(j->key, d->key) == 0) {
        d->run_at = j->run_at;
        d->n++;
    }
    return 0;
}

/* The run_at of the one job of key, relative to BASE_MS. */
static int64_t due_of(struct hfix *f, const char *key)
{
    struct due_find d = { key, 0, 0 };

    assert_int_equal(store_job_list(f->st, -1, 0, on_due, &d, NULL), MLC_OK);
    if (d.n != 1)
        fprintf(stderr, "%s: %d jobs\n", key, d.n);
    assert_int_equal(d.n, 1);
    return d.run_at - BASE_MS;
}

#define CUSTOMER_BODY(id, created) \
    "{\"scope\":\"store/customer/updated\",\"store_id\":\"1025646\",\"data\":" \
    "{\"type\":\"customer\",\"id\":" #id "},\"hash\":\"c5d6\",\"created_at\":" #created "}"
#define TXN_BODY(order, created) \
    "{\"scope\":\"store/order/transaction/created\",\"store_id\":\"1025646\",\"data\":" \
    "{\"type\":\"transaction\",\"id\":77,\"order_id\":" #order "},\"hash\":\"7a7b\"," \
    "\"created_at\":" #created "}"

/* (The header-only endpoint dedupes by hash + created_at: each delivery
 * here has its own created_at unless it is meant as a duplicate.)
 * An order job from a webhook is due at the end of the gather window its
 * delivery falls in (the next multiple of workers.gather_ms on the store
 * clock), so that orders arriving together share one batch; a product or
 * customer job is due at once; a duplicate or a later update never moves
 * the due time later; gather 0 means at once. */
static void t_gather_window(void **state)
{
    struct hfix *f = hfix_new(true, false);
    const char *ok[] = { "X-MLC-Webhook-Secret: " HDRSEC, NULL };
    struct clockfix clk = { BASE_MS + 4100 };
    struct mlc_config cfg;
    struct reply r;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.catalog.enabled = true;
    cfg.customers.enabled = true;
    webhook_set_jobs(f->w, &cfg);
    webhook_set_store_clock(f->w, fixed_store_clock, &clk);
    webhook_set_gather(f->w, 2000);

    assert_int_equal(post(f, ORDER_BODY(11, 1), ok, &r), 200);
    assert_int_equal(due_of(f, "order:11"), 6000);
    /* Another order in the same window: the same due time (one batch). */
    clk.ms = BASE_MS + 5999;
    assert_int_equal(post(f, ORDER_BODY(12, 2), ok, &r), 200);
    assert_int_equal(due_of(f, "order:12"), 6000);
    /* A transaction event is its order's job: gathered too. */
    assert_int_equal(post(f, TXN_BODY(15, 3), ok, &r), 200);
    assert_int_equal(due_of(f, "order:15"), 6000);
    /* On a window's edge: the next one. */
    clk.ms = BASE_MS + 6000;
    assert_int_equal(post(f, ORDER_BODY(13, 4), ok, &r), 200);
    assert_int_equal(due_of(f, "order:13"), 8000);
    /* Products and customers: at once. */
    clk.ms = BASE_MS + 6500;
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 1), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(due_of(f, "product:12"), 6500);
    assert_int_equal(post(f, CUSTOMER_BODY(5, 1), ok, &r), 200);
    assert_int_equal(due_of(f, "customer:5"), 6500);
    /* A duplicate of order 11's delivery, then a new update of order 11 in
     * a later window: its job keeps its due time. */
    clk.ms = BASE_MS + 9100;
    assert_int_equal(post(f, ORDER_BODY(11, 1), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"duplicate\"}");
    assert_int_equal(due_of(f, "order:11"), 6000);
    assert_int_equal(post(f, ORDER_BODY(11, 6), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(due_of(f, "order:11"), 6000);
    /* Gather 0 (or below): at once. */
    webhook_set_gather(f->w, 0);
    assert_int_equal(post(f, ORDER_BODY(14, 7), ok, &r), 200);
    assert_int_equal(due_of(f, "order:14"), 9100);
    webhook_set_gather(f->w, -5);
    assert_int_equal(post(f, ORDER_BODY(16, 8), ok, &r), 200);
    assert_int_equal(due_of(f, "order:16"), 9100);
    assert_int_equal(count_jobs(f, STORE_JOB_READY), 8);
    hfix_free(f);
}

struct seen_res {
    int  n;
    char last[64];
    char all[512];
};

static void observe(void *ctx, const char *resource)
{
    struct seen_res *s = ctx;
    size_t len = strlen(s->all);

    s->n++;
    snprintf(s->last, sizeof(s->last), "%s", resource);
    snprintf(s->all + len, sizeof(s->all) - len, "%s%s", len > 0 ? " " : "", resource);
}

/* The observer (the daemon's env_resource_changed, which drops a product's
 * cached categories) hears the resource of every delivery stored or seen
 * before, with or without a job: a product ("product:12"), a SKU event as
 * its product, and an order too ("order:9"; the env ignores anything but a
 * product). It hears nothing of a delivery refused (401, 400) or not
 * stored (503). */
static void t_observer(void **state)
{
    struct hfix *f = hfix_new(true, false);
    const char *ok[] = { "X-MLC-Webhook-Secret: " HDRSEC, NULL };
    const char *bad[] = { "X-MLC-Webhook-Secret: wrong", NULL };
    struct seen_res seen;
    struct mlc_config cat;
    struct reply r;
    sqlite3 *db = NULL;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    webhook_set_observer(f->w, observe, &seen);
    /* catalog.enabled false: stored without a job, still heard */
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 400), ok, &r), 200);
    assert_non_null(strstr(r.body, "no handler"));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.last, "product:12");
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 400), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"duplicate\"}");
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.last, "product:12");
    memset(&cat, 0, sizeof(cat));
    cat.catalog.enabled = true;
    webhook_set_jobs(f->w, &cat);
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 401), ok, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"stored\"}");
    assert_int_equal(post(f, PRODUCT_BODY("sku", ",\"sku\":{\"product_id\":44,"
                                         "\"variant_id\":5}", 402), ok, &r), 200);
    assert_string_equal(seen.last, "product:44");
    assert_int_equal(post(f, ORDER_BODY(9, 100), ok, &r), 200);
    assert_string_equal(seen.last, "order:9");
    assert_int_equal(post(f, ORDER_BODY(9, 100), ok, &r), 200);   /* duplicate */
    assert_int_equal(seen.n, 6);
    assert_string_equal(seen.all, "product:12 product:12 product:12 product:44 order:9 order:9");
    /* Refused or not stored: not heard. */
    assert_int_equal(post(f, ORDER_BODY(10, 100), bad, &r), 401);
    assert_int_equal(post(f, "{\"scope\":\"store/order/updated\"}", ok, &r), 400);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE events", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 403), ok, &r), 503);
    assert_int_equal(seen.n, 6);
    /* No observer: nothing called. */
    webhook_set_observer(f->w, NULL, NULL);
    assert_int_equal(post(f, PRODUCT_BODY("product", "", 400), ok, &r), 503);
    assert_int_equal(seen.n, 6);
    hfix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_sig_known_vector),
        cmocka_unit_test(t_sig_key_is_raw_bytes),
        cmocka_unit_test(t_sig_several_one_matches),
        cmocka_unit_test(t_sig_wrong_secret),
        cmocka_unit_test(t_sig_body_altered),
        cmocka_unit_test(t_sig_timestamp_window),
        cmocka_unit_test(t_sig_missing_headers),
        cmocka_unit_test(t_sig_malformed_headers),
        cmocka_unit_test(t_sig_roundtrip),
        cmocka_unit_test(t_header_check),
        cmocka_unit_test(t_parse_order),
        cmocka_unit_test(t_parse_job_ids),
        cmocka_unit_test(t_check_store),
        cmocka_unit_test(t_parse_kinds),
        cmocka_unit_test(t_parse_errors),
        cmocka_unit_test(t_dedupe_key),
        cmocka_unit_test(t_handler_flow),
        cmocka_unit_test(t_group_commit),
        cmocka_unit_test(t_handler_running_job_enqueues_again),
        cmocka_unit_test(t_handler_header_only),
        cmocka_unit_test(t_handler_unhandled_kind),
        cmocka_unit_test(t_handler_store_failure),
        cmocka_unit_test(t_handler_new_needs_a_secret),
        cmocka_unit_test(t_gather_window),
        cmocka_unit_test(t_observer),
    };

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests_name("bc_webhook", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
