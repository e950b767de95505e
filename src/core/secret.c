#include "core/secret.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct mlc_secret {
    size_t len;
    char  *bytes; /* sodium_malloc: guard pages, mlock, MADV_DONTDUMP */
};

int secret_lib_init(void)
{
    return sodium_init() < 0 ? MLC_ECRYPTO : MLC_OK;
}

int secret_new(const void *bytes, size_t len, struct mlc_secret **out,
               struct mlc_err *e)
{
    struct mlc_secret *s;

    *out = NULL;
    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialize");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a secret");
    s->bytes = sodium_malloc(len + 1);
    if (s->bytes == NULL) {
        free(s);
        return mlc_err_set(e, MLC_ENOMEM, "out of locked memory for a secret");
    }
    if (len > 0)
        memcpy(s->bytes, bytes, len);
    s->bytes[len] = '\0';
    s->len = len;
    *out = s;
    return MLC_OK;
}

void secret_free(struct mlc_secret *s)
{
    if (s == NULL)
        return;
    sodium_free(s->bytes); /* wipes before unmapping */
    free(s);
}

size_t secret_len(const struct mlc_secret *s)
{
    return s ? s->len : 0;
}

int secret_use(const struct mlc_secret *s,
               int (*fn)(const char *bytes, size_t len, void *ctx), void *ctx)
{
    if (s == NULL)
        return MLC_EINVAL;
    return fn(s->bytes, s->len, ctx);
}

bool secret_equals(const struct mlc_secret *s, const void *cand, size_t len)
{
    if (s == NULL || cand == NULL || len != s->len)
        return false;
    return sodium_memcmp(s->bytes, cand, len) == 0;
}

void secret_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        sodium_memzero(p, len);
}
