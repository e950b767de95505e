/*
 * bc_webhook: Standard Webhooks signature, custom header check, payload
 * envelope and dedupe key of BigCommerce callbacks.
 */
#include "bc/bc_webhook.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/jobkind.h"
#include "core/json.h"

#define MAC_LEN   crypto_auth_hmacsha256_BYTES
/* Base64 of a 32-byte MAC is 44 characters; longer entries cannot match. */
#define B64_MAX   64
#define TS_DIGITS_MAX 18
#define WHERE     "webhook payload"

/* ---- custom header ------------------------------------------------------ */

int bcwh_check_header(const struct mlc_secret *want, const char *got,
                      struct mlc_err *e)
{
    if (got == NULL)
        return mlc_err_set(e, MLC_EAUTH, "header %s missing", BCWH_SECRET_HEADER);
    if (want == NULL || !secret_equals(want, got, strlen(got)))
        return mlc_err_set(e, MLC_EAUTH, "header %s does not match the stored "
                           "webhook secret", BCWH_SECRET_HEADER);
    return MLC_OK;
}

/* ---- signature ---------------------------------------------------------- */

struct mac_job {
    const char          *id;
    const char          *ts;
    const unsigned char *body;
    size_t               len;
    unsigned char       *mac; /* MAC_LEN bytes */
};

/* secret_use callback: HMAC-SHA256(key, id "." ts "." body). */
static int mac_with_key(const char *key, size_t key_len, void *ctx)
{
    struct mac_job *j = ctx;
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)j->id, strlen(j->id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)j->ts, strlen(j->ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, j->body, j->len);
    crypto_auth_hmacsha256_final(&st, j->mac);
    sodium_memzero(&st, sizeof(st));
    return MLC_OK;
}

static int compute_mac(const struct mlc_secret *key, const char *id,
                       const char *ts, const void *body, size_t len,
                       unsigned char mac[MAC_LEN], struct mlc_err *e)
{
    struct mac_job j = { id, ts, body, len, mac };

    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialise");
    if (key == NULL || secret_len(key) == 0)
        return mlc_err_set(e, MLC_EINVAL, "webhook signing key is empty");
    return secret_use(key, mac_with_key, &j);
}

/* webhook-id: printable ASCII without spaces, 1..BCWH_ID_MAX characters. */
static bool id_ok(const char *id)
{
    size_t n = 0;

    for (const char *p = id; *p != '\0'; p++, n++)
        if (*p < 0x21 || *p > 0x7e || n >= BCWH_ID_MAX)
            return false;
    return n > 0;
}

/* webhook-timestamp: decimal Unix seconds. */
static bool parse_ts(const char *s, int64_t *out)
{
    char *end;
    long long v;
    size_t n = strlen(s);

    if (n == 0 || n > TS_DIGITS_MAX || strspn(s, "0123456789") != n)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

/* True when the base64 entry b64[0..n) decodes to exactly mac. */
static bool entry_matches(const char *b64, size_t n, const unsigned char *mac)
{
    unsigned char bin[MAC_LEN];
    size_t bin_len = 0;
    const char *end = NULL;
    bool ok;

    if (n == 0 || n > B64_MAX)
        return false;
    if (sodium_base642bin(bin, sizeof(bin), b64, n, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    ok = end == b64 + n && bin_len == MAC_LEN &&
         sodium_memcmp(bin, mac, MAC_LEN) == 0;
    sodium_memzero(bin, sizeof(bin));
    return ok;
}

/* Walks the space-separated "vN,<b64>" entries; any v1 match accepts. */
static bool any_entry_matches(const char *header, const unsigned char *mac)
{
    const char *p = header;
    bool match = false;

    while (*p != '\0') {
        size_t n;

        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n > 3 && strncmp(p, "v1,", 3) == 0 && entry_matches(p + 3, n - 3, mac))
            match = true; /* keep walking: same work whatever matched */
        p += n;
    }
    return match;
}

int bcwh_verify_signature(const struct mlc_secret *key, const char *id,
                          const char *timestamp, const char *signature,
                          const void *body, size_t len, int64_t now_s,
                          struct mlc_err *e)
{
    unsigned char mac[MAC_LEN];
    int64_t ts;
    int rc;

    if (id == NULL || timestamp == NULL || signature == NULL)
        return mlc_err_set(e, MLC_EAUTH, "header %s missing",
                           id == NULL ? BCWH_HDR_ID
                           : timestamp == NULL ? BCWH_HDR_TIMESTAMP
                           : BCWH_HDR_SIGNATURE);
    if (!id_ok(id))
        return mlc_err_set(e, MLC_EAUTH, "header %s is empty, too long or not "
                           "printable", BCWH_HDR_ID);
    if (!parse_ts(timestamp, &ts))
        return mlc_err_set(e, MLC_EAUTH, "header %s is not a Unix time in "
                           "seconds", BCWH_HDR_TIMESTAMP);
    if (ts < now_s - BCWH_TOLERANCE_S || ts > now_s + BCWH_TOLERANCE_S)
        return mlc_err_set(e, MLC_ETIMEOUT, "header %s %" PRId64 " is %" PRId64
                           " s away from now (%" PRId64 "), more than %d s",
                           BCWH_HDR_TIMESTAMP, ts, ts > now_s ? ts - now_s : now_s - ts,
                           now_s, BCWH_TOLERANCE_S);
    rc = compute_mac(key, id, timestamp, body, len, mac, e);
    if (rc != MLC_OK)
        return rc;
    rc = any_entry_matches(signature, mac) ? MLC_OK
         : mlc_err_set(e, MLC_ECRYPTO, "header %s: no v1 signature matches",
                       BCWH_HDR_SIGNATURE);
    sodium_memzero(mac, sizeof(mac));
    return rc;
}

int bcwh_sign(const struct mlc_secret *key, const char *id,
              const char *timestamp, const void *body, size_t len,
              char out[BCWH_SIG_MAX], struct mlc_err *e)
{
    unsigned char mac[MAC_LEN];
    char b64[sodium_base64_ENCODED_LEN(MAC_LEN, sodium_base64_VARIANT_ORIGINAL)];
    int rc;

    out[0] = '\0';
    if (id == NULL || timestamp == NULL)
        return mlc_err_set(e, MLC_EINVAL, "webhook id and timestamp required");
    rc = compute_mac(key, id, timestamp, body, len, mac, e);
    if (rc != MLC_OK)
        return rc;
    sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, BCWH_SIG_MAX, "v1,%s", b64);
    sodium_memzero(mac, sizeof(mac));
    return MLC_OK;
}

/* ---- payload ------------------------------------------------------------ */

/* Copies s into buf (cap bytes) or fails naming path. */
static int copy_field(struct jx_ctx *cx, const char *path, const char *s,
                      char *buf, size_t cap)
{
    size_t n = strlen(s);

    if (n >= cap)
        return cx->rc = mlc_err_set(cx->e, MLC_EINVAL, WHERE ": %s: longer than "
                                    "%zu characters", path, cap - 1);
    memcpy(buf, s, n + 1);
    return MLC_OK;
}

static int shape_err(struct jx_ctx *cx, const char *path, const char *what)
{
    return cx->rc = mlc_err_set(cx->e, MLC_EINVAL, WHERE ": %s: %s", path, what);
}

/* An identifier that is a JSON integer >= 0, or a string of [A-Za-z0-9_-]
 * (digits for store ids when digits_only), written as text into buf. */
static int get_ident(struct jx_ctx *cx, const json_t *root, const char *path,
                     bool digits_only, char *buf, size_t cap)
{
    static const char id_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    json_t *v;
    const char *s;
    size_t n;

    if (jx_get(cx, root, path, &v) != MLC_OK)
        return cx->rc;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return shape_err(cx, path, "negative");
        if ((size_t)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT,
                             json_integer_value(v)) >= cap)
            return shape_err(cx, path, "too long");
        return MLC_OK;
    }
    if (!json_is_string(v))
        return cx->rc = mlc_err_set(cx->e, MLC_EPROTO, WHERE ": %s: expected "
                                    "string or integer, got %s", path,
                                    jx_type_name(v));
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || strlen(s) != n ||
        strspn(s, digits_only ? "0123456789" : id_chars) != n)
        return shape_err(cx, path, digits_only ? "expected decimal digits"
                         : "expected letters, digits, '-' or '_'");
    return copy_field(cx, path, s, buf, cap);
}

/* A printable ASCII string without spaces into buf. */
static int get_token(struct jx_ctx *cx, const json_t *root, const char *path,
                     char *buf, size_t cap)
{
    const char *s;

    if (jx_get_str(cx, root, path, &s) != MLC_OK)
        return cx->rc;
    for (const char *p = s; *p != '\0'; p++)
        if (*p < 0x21 || *p > 0x7e)
            return shape_err(cx, path, "expected printable ASCII without spaces");
    if (*s == '\0')
        return shape_err(cx, path, "empty");
    return copy_field(cx, path, s, buf, cap);
}

/* ref, read at path, as the id of a resource a job re-reads. */
static int job_id_ok(struct jx_ctx *cx, const char *path, const char *ref)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = ref[0] >= '1' && ref[0] <= '9' ? strtoll(ref, &end, 10) : 0;
    if (v <= 0 || errno != 0 || *end != '\0' || v > BCWH_ID_MAX_VALUE)
        return shape_err(cx, path, "expected an id from 1 to 2147483647");
    return MLC_OK;
}

/* data -> type, id, resource and job kind (see the header's table). */
static int read_data(struct jx_ctx *cx, const json_t *root, struct bcwh_event *ev)
{
    char ref[sizeof(ev->id)];
    const char *rtype, *path = "data.id";
    json_t *cust, *sku;

    if (get_token(cx, root, "data.type", ev->type, sizeof(ev->type)) != MLC_OK)
        return cx->rc;
    if (strcmp(ev->type, "transaction") == 0) {
        /* The transaction's own id is not a resource we re-read: its order is. */
        path = "data.order_id";
        if (get_ident(cx, root, path, true, ev->id, sizeof(ev->id)) != MLC_OK)
            return cx->rc;
        rtype = "order";
        memcpy(ref, ev->id, sizeof(ref));
    } else {
        if (get_ident(cx, root, "data.id", false, ev->id, sizeof(ev->id)) != MLC_OK)
            return cx->rc;
        rtype = ev->type;
        memcpy(ref, ev->id, sizeof(ref));
        if (strcmp(ev->type, "customer") == 0 &&
            jx_opt_obj(cx, root, "data.address", &cust) == MLC_OK && cust != NULL &&
            get_ident(cx, root, path = "data.address.customer_id", true, ref,
                      sizeof(ref)) != MLC_OK)
            return cx->rc;
        /* A SKU's id is not a variant id: its product is what a job re-reads
         * (and a product edit with its SKU edits makes one job). */
        if (strcmp(ev->type, "sku") == 0 &&
            jx_opt_obj(cx, root, "data.sku", &sku) == MLC_OK && sku != NULL &&
            json_object_get(sku, "product_id") != NULL) {
            path = "data.sku.product_id";
            if (get_ident(cx, root, path, true, ref, sizeof(ref)) != MLC_OK)
                return cx->rc;
            rtype = "product";
        }
    }
    if (cx->rc != MLC_OK)
        return cx->rc;
    ev->job_kind = jobkind_of_resource(rtype);
    if (ev->job_kind != NULL && job_id_ok(cx, path, ref) != MLC_OK)
        return cx->rc;
    if ((size_t)snprintf(ev->resource, sizeof(ev->resource), "%s:%s", rtype, ref)
        >= sizeof(ev->resource))
        return shape_err(cx, "data", "resource key too long");
    return MLC_OK;
}

static int read_event(struct jx_ctx *cx, const json_t *root, struct bcwh_event *ev)
{
    json_t *data;

    if (!json_is_object(root))
        return cx->rc = mlc_err_set(cx->e, MLC_EPROTO, WHERE ": <root>: expected "
                                    "object, got %s", jx_type_name(root));
    if (get_token(cx, root, "scope", ev->scope, sizeof(ev->scope)) != MLC_OK)
        return cx->rc;
    if (strncmp(ev->scope, "store/", 6) != 0 || ev->scope[6] == '\0')
        return shape_err(cx, "scope", "expected store/...");
    if (get_ident(cx, root, "store_id", true, ev->store_id, sizeof(ev->store_id)) != MLC_OK ||
        get_token(cx, root, "hash", ev->hash, sizeof(ev->hash)) != MLC_OK ||
        jx_get_i64(cx, root, "created_at", &ev->created_at) != MLC_OK ||
        jx_get_obj(cx, root, "data", &data) != MLC_OK)
        return cx->rc;
    if (ev->created_at < 0)
        return shape_err(cx, "created_at", "negative");
    if (json_object_get(root, "producer") != NULL &&
        get_token(cx, root, "producer", ev->producer, sizeof(ev->producer)) != MLC_OK)
        return cx->rc;
    return read_data(cx, root, ev);
}

int bcwh_check_store(const struct bcwh_event *ev, const char *store_hash, int64_t store_id,
                     struct mlc_err *e)
{
    const char *p = ev->producer;

    if (p[0] != '\0' && store_hash != NULL &&
        (strncmp(p, "stores/", 7) != 0 || strcmp(p + 7, store_hash) != 0))
        return mlc_err_set(e, MLC_EAUTH, WHERE ": producer: another store's (%s), not "
                           "stores/%s", p, store_hash);
    if (store_id > 0 && strtoll(ev->store_id, NULL, 10) != store_id)
        return mlc_err_set(e, MLC_EAUTH, WHERE ": store_id: another store's (%s), not %lld",
                           ev->store_id, (long long)store_id);
    return MLC_OK;
}

int bcwh_parse(const char *body, size_t len, struct bcwh_event *out,
               struct mlc_err *e)
{
    struct jx_ctx cx;
    json_t *root = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (body == NULL || len == 0)
        return mlc_err_set(e, MLC_EPARSE, WHERE ": empty body");
    rc = jx_loads(body, len, 0, &root, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, WHERE);
        return rc;
    }
    jx_ctx_init(&cx, WHERE, e);
    rc = read_event(&cx, root, out);
    json_decref(root);
    if (rc != MLC_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- dedupe key --------------------------------------------------------- */

int bcwh_dedupe_key(const char *webhook_id, const struct bcwh_event *ev,
                    char *buf, size_t cap, struct mlc_err *e)
{
    int n;

    if (webhook_id != NULL) {
        if (!id_ok(webhook_id))
            return mlc_err_set(e, MLC_EINVAL, "header %s is empty, too long or "
                               "not printable", BCWH_HDR_ID);
        n = snprintf(buf, cap, "bc:id:%s", webhook_id);
    } else {
        n = snprintf(buf, cap, "bc:hash:%s:%" PRId64, ev->hash, ev->created_at);
    }
    if (n < 0 || (size_t)n >= cap)
        return mlc_err_set(e, MLC_ERANGE, "dedupe key longer than %zu bytes", cap);
    return MLC_OK;
}
