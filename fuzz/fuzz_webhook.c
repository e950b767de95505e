/*
 * fuzz_webhook: one BigCommerce webhook delivery as the intake sees it.
 * Input: header lines "name: value\n" up to an empty line, then the raw
 * body. Runs the custom-header check, the Standard Webhooks signature check
 * (as sent, and re-signed so the accepting path is reached too), the
 * payload parser and the dedupe key (src/bc/bc_webhook.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bc/bc_webhook.h"
#include "core/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_S 1767225600 /* fixed: the target must not depend on the clock */

struct hdrs {
    char *secret, *id, *ts, *sig;
};

/* Splits buf (NUL-terminated copy of the input) into headers; returns the
 * offset of the body. Values point into buf. */
static size_t split_headers(char *buf, size_t size, struct hdrs *h)
{
    size_t off = 0;

    while (off < size) {
        char *line = buf + off, *nl = memchr(line, '\n', size - off), *colon, *v;
        size_t n = nl != NULL ? (size_t)(nl - line) : size - off;

        off += n + (nl != NULL);
        if (n == 0)
            break;
        line[n] = '\0';
        colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        for (v = colon + 1; *v == ' '; v++)
            ;
        if (strcasecmp(line, BCWH_SECRET_HEADER) == 0)
            h->secret = v;
        else if (strcasecmp(line, BCWH_HDR_ID) == 0)
            h->id = v;
        else if (strcasecmp(line, BCWH_HDR_TIMESTAMP) == 0)
            h->ts = v;
        else if (strcasecmp(line, BCWH_HDR_SIGNATURE) == 0)
            h->sig = v;
    }
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char key_bytes[] = "fuzz-client-secret";
    struct mlc_secret *key = NULL;
    struct mlc_err e = {0};
    struct hdrs h = {0};
    struct bcwh_event ev;
    char *buf = malloc(size + 1), *body = NULL, sig[BCWH_SIG_MAX], dkey[BCWH_KEY_MAX];
    size_t off, blen;

    if (buf == NULL || secret_new(key_bytes, sizeof(key_bytes) - 1, &key, &e) != 0)
        goto cleanup;
    memcpy(buf, data, size);
    buf[size] = '\0';
    off = split_headers(buf, size, &h);
    /* The body is an exact-size copy: a read past len is caught. */
    blen = size - off;
    body = malloc(blen > 0 ? blen : 1);
    if (body == NULL)
        goto cleanup;
    memcpy(body, data + off, blen);

    (void)bcwh_check_header(key, h.secret, &e);
    (void)bcwh_verify_signature(key, h.id, h.ts, h.sig, body, blen, NOW_S, &e);
    if (h.id != NULL && h.ts != NULL &&
        bcwh_sign(key, h.id, h.ts, body, blen, sig, &e) == 0)
        (void)bcwh_verify_signature(key, h.id, h.ts, sig, body, blen, NOW_S, &e);
    if (bcwh_parse(body, blen, &ev, &e) == 0) {
        (void)bcwh_dedupe_key(h.id, &ev, dkey, sizeof(dkey), &e);
        (void)bcwh_dedupe_key(NULL, &ev, dkey, sizeof(dkey), &e);
    }
cleanup:
    secret_free(key);
    free(body);
    free(buf);
    return 0;
}
