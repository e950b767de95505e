#include "store/credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t credentials_refs(const struct mlc_config *cfg,
                        struct credentials_ref out[CREDENTIALS_MAX_REFS])
{
    const struct credentials_ref refs[CREDENTIALS_MAX_REFS] = {
        { "bigcommerce", "bigcommerce.token_ref", cfg->bigcommerce.token_ref },
        { "jde", "jde.password_ref", cfg->jde.password_ref },
        { "webhook", "bigcommerce.webhook_secret_ref",
          cfg->bigcommerce.webhook_secret_ref },
        { "client-secret", "bigcommerce.client_secret_ref",
          cfg->bigcommerce.client_secret_ref },
    };

    memcpy(out, refs, sizeof(refs));
    return CREDENTIALS_MAX_REFS;
}

int credentials_key_path(const struct mlc_config *cfg, char **out,
                         struct mlc_err *e)
{
    const char *file = cfg->store.master_key_file;
    const char *slash = cfg->path != NULL ? strrchr(cfg->path, '/') : NULL;
    size_t dir_len, n;
    char *p;

    *out = NULL;
    if (file == NULL || file[0] == '\0')
        file = CREDENTIALS_DEFAULT_KEY_FILE;
    /* Absolute, or a config in the working directory: the path as written. */
    dir_len = (file[0] == '/' || slash == NULL) ? 0 : (size_t)(slash - cfg->path) + 1;
    n = dir_len + strlen(file) + 1;
    p = malloc(n);
    if (p == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(p, n, "%.*s%s", (int)dir_len, dir_len > 0 ? cfg->path : "", file);
    *out = p;
    return MLC_OK;
}

int credentials_open_vault(const struct mlc_config *cfg, struct vault **out,
                           struct mlc_err *e)
{
    char *path = NULL;
    int rc;

    *out = NULL;
    rc = credentials_key_path(cfg, &path, e);
    if (rc == MLC_OK)
        rc = vault_open_env_or_file(path, out, e);
    free(path);
    return rc;
}

int credentials_load(const struct vault *v, struct store *st, const char *name,
                     struct mlc_secret **out, struct mlc_err *e)
{
    void *blob = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (!vault_name_ok(name))
        return mlc_err_set(e, MLC_EINVAL, "invalid credential name");
    rc = store_secret_get(st, name, &blob, &len, e);
    if (rc == MLC_ENOTFOUND)
        return mlc_err_set(e, MLC_ENOTFOUND, "credential '%s' is not stored "
                           "(store it with: mlc credentials set --name %s "
                           "--config FILE)", name, name);
    if (rc != MLC_OK)
        return rc;
    rc = vault_open_secret(v, name, blob, len, out, e);
    free(blob);
    return rc;
}
