/*
 * secret: a value that must never be printed.
 *
 * A struct mlc_secret holds its bytes in libsodium guarded memory (locked, not
 * in core dumps, wiped on free). The type is opaque and there is no accessor
 * that returns a pointer to keep: code borrows the bytes for the length of a
 * callback (secret_use). The log API accepts a secret only as a field that it
 * prints as "[redacted]", so a secret cannot reach a log line by accident.
 */
#ifndef MLC_CORE_SECRET_H
#define MLC_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct mlc_secret;

/* Initializes libsodium; safe to call many times and from several threads.
 * Returns MLC_OK or MLC_ECRYPTO. */
int secret_lib_init(void);

/* Copies len bytes into a new secret (*out, caller frees with secret_free).
 * A NUL is kept after the bytes so that text secrets can be used as C strings
 * inside secret_use. */
int secret_new(const void *bytes, size_t len, struct mlc_secret **out,
               struct mlc_err *e);

/* Wipes and frees; NULL-safe. */
void secret_free(struct mlc_secret *s);

size_t secret_len(const struct mlc_secret *s);

/* Calls fn with the secret's bytes (NUL-terminated, len excludes the NUL) and
 * returns fn's result. The pointer is valid only during the call. */
int secret_use(const struct mlc_secret *s,
               int (*fn)(const char *bytes, size_t len, void *ctx), void *ctx);

/* Constant-time comparison with a candidate (e.g. a webhook header). */
bool secret_equals(const struct mlc_secret *s, const void *cand, size_t len);

/* Wipes a caller buffer that held secret material. */
void secret_wipe(void *p, size_t len);

#endif
