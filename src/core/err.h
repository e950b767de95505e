/*
 * err: the one error convention of ml-connector.
 *
 * Every fallible function returns an int status: MLC_OK (0) on success or a
 * negative MLC_E* code, and fills an optional caller-owned struct mlc_err with
 * a human message. Callers that do not care pass NULL. Messages never carry
 * secrets: code that handles a secret formats its own message without it.
 */
#ifndef MLC_CORE_ERR_H
#define MLC_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum mlc_status {
    MLC_OK        = 0,
    MLC_EINVAL    = -1,  /* bad argument or malformed input */
    MLC_ENOMEM    = -2,  /* allocation failed */
    MLC_EIO       = -3,  /* file, socket or database I/O failed */
    MLC_ENOTFOUND = -4,  /* the thing asked for does not exist */
    MLC_ERANGE    = -5,  /* value out of range, arithmetic overflow */
    MLC_EPARSE    = -6,  /* syntax error in a document */
    MLC_EBUSY     = -7,  /* resource locked or temporarily unavailable */
    MLC_EEXIST    = -8,  /* already exists (duplicate) */
    MLC_ETIMEOUT  = -9,  /* deadline passed */
    MLC_EPROTO    = -10, /* the remote side answered something unexpected */
    MLC_EAUTH     = -11, /* authentication or authorization failed */
    MLC_ESTATE    = -12, /* operation not valid in the current state */
    MLC_ETOOBIG   = -13, /* size limit exceeded */
    MLC_ECRYPTO   = -14  /* decryption or signature check failed */
};

#define MLC_ERR_MSG_MAX 512

struct mlc_err {
    int  code;                  /* last MLC_E* code set, MLC_OK when clear */
    char msg[MLC_ERR_MSG_MAX];  /* human message, NUL-terminated */
};

/* Clears e (NULL-safe). */
void mlc_err_clear(struct mlc_err *e);

/* Sets code and a printf-formatted message on e (NULL-safe) and returns code,
 * so that callers can write: return mlc_err_set(e, MLC_EINVAL, "...", ...); */
int mlc_err_set(struct mlc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mlc_err_setv(struct mlc_err *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to e's message, keeping its code (NULL-safe). Used to
 * add context on the way up; the caller returns its own status. */
void mlc_err_wrap(struct mlc_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Static, short name of a status code ("invalid argument", ...). */
const char *mlc_strerror(int code);

#endif
