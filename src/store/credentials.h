/*
 * credentials: stored credentials as the daemon, the clients and the
 * `mlc credentials` command see them — the glue between the configuration
 * (which names credentials), the vault (which decrypts) and the store
 * (which keeps only ciphertext).
 *
 * The master key comes from MLC_MASTER_KEY when set, else from the file
 * store.master_key_file; a relative path there is relative to the directory
 * of the configuration file (not the working directory), so that `mlc init`
 * can put mlc.yaml and mlc.key side by side and any command finds them.
 */
#ifndef MLC_STORE_CREDENTIALS_H
#define MLC_STORE_CREDENTIALS_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "core/vault.h"
#include "store/store.h"

/* The key file name `mlc init` creates next to the configuration: the
 * default of store.master_key_file. */
#define CREDENTIALS_DEFAULT_KEY_FILE "mlc.key"

/* One credential reference of the configuration. */
struct credentials_ref {
    const char *kind; /* short name for `mlc credentials set KIND` */
    const char *key;  /* configuration key, e.g. "jde.password_ref" */
    const char *name; /* the credential name it holds, NULL when unset */
};

#define CREDENTIALS_MAX_REFS 4

/* Fills out with every credential reference the configuration knows (set
 * or not), in a fixed order; returns the count. Strings belong to cfg and
 * to static storage. */
size_t credentials_refs(const struct mlc_config *cfg,
                        struct credentials_ref out[CREDENTIALS_MAX_REFS]);

/* The master key file of cfg resolved against the configuration file's
 * directory. *out: caller frees with free(). */
int credentials_key_path(const struct mlc_config *cfg, char **out,
                         struct mlc_err *e);

/* Opens the vault of cfg (MLC_MASTER_KEY or the key file). *out: caller
 * frees with vault_free. */
int credentials_open_vault(const struct mlc_config *cfg, struct vault **out,
                           struct mlc_err *e);

/* Reads credential name from the store and decrypts it. *out: caller frees
 * with secret_free. MLC_ENOTFOUND when it is not stored (the message says
 * how to store it), MLC_ECRYPTO when it does not decrypt. */
int credentials_load(const struct vault *v, struct store *st, const char *name,
                     struct mlc_secret **out, struct mlc_err *e);

#endif
