/*
 * vault: encryption of stored credentials under one master key.
 *
 * Crypto only: the vault reads its key (from MLC_MASTER_KEY or a key file)
 * and turns a secret into a blob and back. Storing blobs is the store's job
 * (store_secret_put/get); the glue lives in daemon/credentials.
 *
 * Master key: 32 random bytes written as ONE LINE OF STANDARD BASE64 with
 * padding (44 characters, e.g. the output of `openssl rand -base64 32`);
 * trailing whitespace and the final newline are ignored, nothing else is.
 * The key file must be a regular file with no permission bits for group or
 * others (0600 or 0400); anything else is refused, naming the path and the
 * fix. MLC_MASTER_KEY, in the same encoding, wins over the file when set.
 * Lose the key and every stored credential is unreadable: back it up.
 *
 * Blob format (version 1):
 *   version (1 byte, 0x01) || nonce (24 bytes) || ciphertext || tag (16)
 * sealed with XChaCha20-Poly1305 (IETF) and a random nonce. The associated
 * data is the version byte, the tag "mlc-credential:" and the credential's
 * name, so a blob copied under another name, sealed under another key or
 * altered in any byte fails to open (MLC_ECRYPTO), never yields garbage.
 *
 * Threads: a vault is read-only after it is opened; any number of threads
 * may seal and open with it at once.
 */
#ifndef MLC_CORE_VAULT_H
#define MLC_CORE_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/secret.h"

#define VAULT_KEY_BYTES   32
#define VAULT_ENV         "MLC_MASTER_KEY"
#define VAULT_VERSION     1
/* Largest plaintext sealed: credentials are tokens and passwords. */
#define VAULT_MAX_SECRET  (64 * 1024)
/* Credential names: 1-64 characters a-z 0-9 _ . - (as config references). */
#define VAULT_NAME_MAX    64

struct vault;

/* Reads the key file at path (checked as described above). *out: caller
 * frees with vault_free. MLC_ENOTFOUND when the file does not exist,
 * MLC_EAUTH when its mode is too open, MLC_EINVAL for a bad encoding,
 * MLC_EIO otherwise. Messages name the path, never the key. */
int vault_open_keyfile(const char *path, struct vault **out, struct mlc_err *e);

/* Takes MLC_MASTER_KEY out of the environment into guarded memory, where
 * vault_open_env_or_file reads it from then on, and wipes the variable (so
 * that /proc/PID/environ and child processes do not show it). Call once at
 * start, before any thread (it changes the environment). MLC_OK, or
 * MLC_ENOMEM / MLC_ECRYPTO. */
int vault_take_env(void);
/* True when MLC_MASTER_KEY was (or is) set. */
bool vault_env_set(void);

/* The key from MLC_MASTER_KEY when that variable is set (even when path
 * exists), else vault_open_keyfile(path). path may be NULL when only the
 * environment is acceptable. */
int vault_open_env_or_file(const char *path, struct vault **out,
                           struct mlc_err *e);

/* Wipes the key and frees; NULL-safe. */
void vault_free(struct vault *v);

/* Creates path with a fresh random key: O_EXCL (never overwrites: an
 * existing file gives MLC_EEXIST), mode 0600, file and directory synced. */
int vault_create_keyfile(const char *path, struct mlc_err *e);

/* True when name is a valid credential name. */
bool vault_name_ok(const char *name);

/* Encrypts len bytes (1..VAULT_MAX_SECRET) for credential name. *blob:
 * caller frees with free() (ciphertext, not secret). */
int vault_seal(const struct vault *v, const char *name, const void *plaintext,
               size_t len, uint8_t **blob, size_t *blob_len,
               struct mlc_err *e);

/* Decrypts a blob stored under name into a new secret (*out: caller frees
 * with secret_free). MLC_ECRYPTO for a wrong key, a blob of another name,
 * or damaged data: "cannot decrypt credential 'NAME': wrong master key or
 * damaged data". */
int vault_open_secret(const struct vault *v, const char *name,
                      const void *blob, size_t len, struct mlc_secret **out,
                      struct mlc_err *e);

#endif
