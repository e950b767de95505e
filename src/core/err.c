#include "core/err.h"

#include <stdio.h>
#include <string.h>

void mlc_err_clear(struct mlc_err *e)
{
    if (e == NULL)
        return;
    e->code = MLC_OK;
    e->msg[0] = '\0';
}

int mlc_err_setv(struct mlc_err *e, int code, const char *fmt, va_list ap)
{
    if (e == NULL)
        return code;
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

int mlc_err_set(struct mlc_err *e, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mlc_err_setv(e, code, fmt, ap);
    va_end(ap);
    return code;
}

void mlc_err_wrap(struct mlc_err *e, const char *fmt, ...)
{
    char prefix[MLC_ERR_MSG_MAX];
    char old[MLC_ERR_MSG_MAX];
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
}

const char *mlc_strerror(int code)
{
    switch (code) {
    case MLC_OK:        return "ok";
    case MLC_EINVAL:    return "invalid argument";
    case MLC_ENOMEM:    return "out of memory";
    case MLC_EIO:       return "I/O error";
    case MLC_ENOTFOUND: return "not found";
    case MLC_ERANGE:    return "out of range";
    case MLC_EPARSE:    return "parse error";
    case MLC_EBUSY:     return "busy";
    case MLC_EEXIST:    return "already exists";
    case MLC_ETIMEOUT:  return "timed out";
    case MLC_EPROTO:    return "protocol error";
    case MLC_EAUTH:     return "authentication failed";
    case MLC_ESTATE:    return "invalid state";
    case MLC_ETOOBIG:   return "too big";
    case MLC_ECRYPTO:   return "cryptographic check failed";
    }
    return "unknown error";
}
