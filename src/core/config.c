/*
 * config: the public face of core/config: a loaded configuration's
 * lifecycle (reference count, freeing driven by the field table), loading
 * a file (reading it, then making its relative paths absolute), and the
 * settle time derived from it. The field table, the validators, the YAML
 * loader and the example writer live in config_fields.c, config_check.c,
 * config_load.c and config_example.c (config_int.h).
 */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_int.h"

/* ---- the config object ---------------------------------------------------- */

/* The refcount lives beside the public struct so that its layout stays plain. */
struct cfg_box {
    atomic_int         refs;
    struct mlc_config  cfg;
};

static struct cfg_box *box_of(struct mlc_config *c)
{
    return (struct cfg_box *)(void *)((char *)c - offsetof(struct cfg_box, cfg));
}

/* Frees the strings of n records of table t at arr, and arr. */
static void records_free(const struct cfg_rtable *t, void *arr, size_t n)
{
    for (size_t i = 0; arr != NULL && i < n; i++) {
        char *rec = (char *)arr + i * t->size;
        for (const struct cfg_rfield *r = t->f; r->key != NULL; r++) {
            if (r->type == RT_STR_LIST) {
                char **list = *(char ***)(void *)(rec + r->off);
                size_t k = *(size_t *)(void *)(rec + r->off_n);
                for (size_t j = 0; list != NULL && j < k; j++)
                    free(list[j]);
            }
            free(*(void **)(void *)(rec + r->off));
        }
    }
    free(arr);
}

void cfg_free_value(struct mlc_config *c, const struct cfg_field *f)
{
    size_t *n = f->off_n ? cfg_at(c, f->off_n) : NULL;
    size_t count = n != NULL ? *n : 0;

    switch (f->type) {
    case FT_STR:
    case FT_INT_LIST:
        free(*(void **)cfg_at(c, f->off));
        break;
    case FT_ACCOUNT_MAP: {
        struct cfg_account_map *m = *(struct cfg_account_map **)cfg_at(c, f->off);
        for (size_t i = 0; m != NULL && i < count; i++)
            free(m[i].match);
        free(m);
        break;
    }
    case FT_STR_MAP: {
        struct cfg_str_map *m = *(struct cfg_str_map **)cfg_at(c, f->off);
        for (size_t i = 0; m != NULL && i < count; i++) {
            free(m[i].match);
            free(m[i].value);
        }
        free(m);
        break;
    }
    case FT_RECORDS:
        records_free(f->rec, *(void **)cfg_at(c, f->off), count);
        break;
    default:
        return;
    }
    *(void **)cfg_at(c, f->off) = NULL;
    if (n != NULL)
        *n = 0;
}

static void cfg_free(struct mlc_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < cfg_n_fields; i++)
        cfg_free_value(c, &cfg_fields[i]);
    free(c->path);
    free(box_of(c));
}

struct mlc_config *cfg_new(const char *path)
{
    struct cfg_box *box = calloc(1, sizeof(*box));

    if (box == NULL)
        return NULL;
    if ((box->cfg.path = strdup(path)) == NULL) {
        free(box);
        return NULL;
    }
    atomic_init(&box->refs, 1);
    return &box->cfg;
}

struct mlc_config *cfg_ref(struct mlc_config *c)
{
    if (c != NULL)
        atomic_fetch_add_explicit(&box_of(c)->refs, 1, memory_order_relaxed);
    return c;
}

void cfg_unref(struct mlc_config *c)
{
    if (c != NULL &&
        atomic_fetch_sub_explicit(&box_of(c)->refs, 1, memory_order_acq_rel) == 1)
        cfg_free(c);
}

int64_t cfg_settle_ms(const struct mlc_config *c)
{
    int64_t client = c->jde.timeout_ms;
    int64_t server = (int64_t)c->jde.server_timeout_s * 1000;

    if (c->jde.settle_s > 0)
        return (int64_t)c->jde.settle_s * 1000;
    /* AIS may receive the request as late as our timeout after the send,
     * then run it for its own timeout (ours again when unknown). */
    return client + (server > client ? server : client);
}

/* ---- loading a file ------------------------------------------------------- */

static int read_file(const char *path, char **buf, size_t *len, struct mlc_err *e)
{
    char ebuf[128];
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0;
    int rc = MLC_OK;

    *buf = NULL;
    if (f == NULL)
        return mlc_err_set(e, MLC_EIO, "%s: cannot open: %s", path,
                           strerror_r(errno, ebuf, sizeof(ebuf)));
    if ((b = malloc(CFG_MAX_FILE + 1)) == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    n = fread(b, 1, CFG_MAX_FILE + 1, f);
    if (ferror(f)) {
        rc = mlc_err_set(e, MLC_EIO, "%s: cannot read: %s", path,
                         strerror_r(errno, ebuf, sizeof(ebuf)));
        goto out;
    }
    if (n > CFG_MAX_FILE) {
        rc = mlc_err_set(e, MLC_ETOOBIG, "%s: larger than %d bytes", path, CFG_MAX_FILE);
        goto out;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
out:
    free(b);
    fclose(f);
    return rc;
}

/* Makes *field absolute against dir when it is a relative file path, so the
 * daemon and the CLI find the same files whatever their working directory.
 * A "sqlite:" prefix is kept; URLs and ":memory:" are left alone. */
static int resolve_path(char **field, const char *dir)
{
    const char *v = *field, *prefix = "";
    size_t len;
    char *abs;

    if (v == NULL || strstr(v, "://") != NULL || strcmp(v, ":memory:") == 0)
        return MLC_OK;
    if (strncmp(v, "sqlite:", 7) == 0) {
        prefix = "sqlite:";
        v += 7;
    }
    if (v[0] == '/' || v[0] == '\0')
        return MLC_OK;
    len = strlen(prefix) + strlen(dir) + 1 + strlen(v) + 1;
    if ((abs = malloc(len)) == NULL)
        return MLC_ENOMEM;
    snprintf(abs, len, "%s%s/%s", prefix, dir, v);
    free(*field);
    *field = abs;
    return MLC_OK;
}

/* Makes the path after prefix absolute against dir; a value without the
 * prefix is left alone. */
static int resolve_prefixed(char **field, const char *prefix, const char *dir)
{
    size_t plen = strlen(prefix), len;
    const char *v = *field;
    char *abs;

    if (v == NULL || strncmp(v, prefix, plen) != 0 || v[plen] == '/' ||
        v[plen] == '\0')
        return MLC_OK;
    len = plen + strlen(dir) + 1 + strlen(v + plen) + 1;
    if ((abs = malloc(len)) == NULL)
        return MLC_ENOMEM;
    snprintf(abs, len, "%s%s/%s", prefix, dir, v + plen);
    free(*field);
    *field = abs;
    return MLC_OK;
}

/* The directory of path, absolute ("." resolved by realpath). */
static int config_dir(const char *path, char **out)
{
    char *copy = strdup(path), *slash;
    char *dir;

    if (copy == NULL)
        return MLC_ENOMEM;
    slash = strrchr(copy, '/');
    if (slash == copy)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    dir = realpath(slash != NULL ? copy : ".", NULL);
    free(copy);
    if (dir == NULL)
        return MLC_EIO;
    *out = dir;
    return MLC_OK;
}

/* The path keys of every record of field f. */
static int resolve_record_paths(struct mlc_config *c, const struct cfg_field *f, const char *dir)
{
    char *arr = *(char **)cfg_at(c, f->off);
    size_t n = *(size_t *)cfg_at(c, f->off_n);
    int rc = MLC_OK;

    for (size_t i = 0; rc == MLC_OK && arr != NULL && i < n; i++)
        for (const struct cfg_rfield *r = f->rec->f; rc == MLC_OK && r->key != NULL; r++)
            if (r->path && r->type == RT_STR)
                rc = resolve_path((char **)(void *)(arr + i * f->rec->size + r->off), dir);
    return rc;
}

static int resolve_paths(struct mlc_config *c, struct mlc_err *e)
{
    char *dir = NULL;
    int rc = config_dir(c->path, &dir);

    if (rc == MLC_OK)
        rc = resolve_path(&c->store.url, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->store.master_key_file, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->server.tls_cert_file, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->server.tls_key_file, dir);
    if (rc == MLC_OK)
        rc = resolve_prefixed(&c->store.password_ref, "file:", dir);
    for (size_t i = 0; rc == MLC_OK && i < cfg_n_fields; i++)
        if (cfg_fields[i].type == FT_RECORDS)
            rc = resolve_record_paths(c, &cfg_fields[i], dir);
    free(dir);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "%s: cannot resolve the directory of the file", c->path);
    return MLC_OK;
}

int cfg_load_report(const char *path, cfg_report_fn report, void *ctx,
                    struct mlc_config **out, struct mlc_err *e)
{
    struct mlc_err local;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (e == NULL)
        e = &local; /* the report callback still gets open/read errors */
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "cfg_load: no path");
    if ((rc = read_file(path, &text, &len, e)) != MLC_OK) {
        if (report != NULL)
            report(e->msg, ctx);
        return rc;
    }
    rc = cfg_load_buffer_report(path, text, len, report, ctx, out, e);
    free(text);
    if (rc == MLC_OK && (rc = resolve_paths(*out, e)) != MLC_OK) {
        if (report != NULL)
            report(e->msg, ctx);
        cfg_unref(*out);
        *out = NULL;
    }
    return rc;
}

int cfg_load(const char *path, struct mlc_config **out, struct mlc_err *e)
{
    return cfg_load_report(path, NULL, NULL, out, e);
}
