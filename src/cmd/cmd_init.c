/*
 * mlc init [--force] [FILE]: writes the commented example configuration
 * (cfg_example_yaml) to FILE (default mlc.yaml) with mode 0600. An existing
 * file is kept unless --force, which replaces it atomically (temp + rename).
 * It also creates the master key file (mlc.key, the default of
 * store.master_key_file, which is relative to the configuration's
 * directory) next to FILE, mode 0600, unless one exists: a key is never
 * replaced, not even with --force, because credentials sealed with it would
 * become unreadable.
 *
 * The go-live cutover (orders.start) is filled in with the current time in
 * the example's time zone (posting.timezone), with its UTC offset: a new
 * installation never posts an order created before it was set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/jdate.h"
#include "core/tz.h"
#include "core/vault.h"
#include "store/credentials.h"

#define INIT_DEFAULT_FILE "mlc.yaml"

struct init_args {
    bool force;
};
static const struct cmdo_opt init_opts[] = {
    { "force", 0, CMDO_FLAG, offsetof(struct init_args, force), NULL,
      "overwrite FILE when it exists", 0, 0 },
    CMDO_END,
};
static const struct cmdo_spec init_spec = {
    "init", "[FILE]",
    "write a commented example configuration (default mlc.yaml) and a master key", init_opts,
    "FILE is written with mode 0600; the master key next to it, when\n"
    "store.master_key_file names none yet.",
};
const struct cmdo_spec *const cmd_init_specs[] = { &init_spec, NULL };

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Fills fd (already open on a new file) with text, mode 0600, synced. */
static int fill(int fd, const char *text)
{
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
        fsync(fd) != 0)
        return -1;
    return 0;
}

/* New file only: O_EXCL refuses an existing file (or a symlink) atomically. */
static int write_new(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int saved;

    if (fd < 0)
        return -1;
    if (fill(fd, text) != 0) {
        saved = errno;
        close(fd);
        unlink(path);
        errno = saved;
        return -1;
    }
    return close(fd);
}

/* Replaces path atomically: a reader sees the old file or the new one. */
static int write_replace(const char *path, const char *text)
{
    size_t n = strlen(path) + sizeof(".tmp.XXXXXX");
    char *tmp = malloc(n);
    int fd, saved, rc = -1;

    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0)
        goto out;
    if (fill(fd, text) != 0) {
        saved = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        saved = errno;
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    unlink(tmp);
    errno = saved;
out:
    free(tmp);
    return rc;
}

/* The example with orders.start set to now (also into start), in the
 * example's posting.timezone. *out: caller frees. */
static int example_now(char **out, char start[JDATE_ISO8601_SIZE], struct mlc_err *e)
{
    const char *ex = cfg_example_yaml();
    struct mlc_config *c = NULL;
    int64_t now = jdate_now_unix();
    int rc = cfg_load_buffer("the example", ex, strlen(ex), &c, e);

    if (rc == MLC_OK)
        rc = tz_init(c->posting.timezone, e);
    if (rc == MLC_OK)
        rc = jdate_iso8601_format_offset(now, tz_offset_min(now), start, JDATE_ISO8601_SIZE,
                                         e);
    if (rc == MLC_OK)
        rc = cfg_example_with_start(start, out, e);
    cfg_unref(c);
    return rc;
}

/* Creates the master key next to the configuration at cfg_path, or keeps
 * the one there. Prints what it did; returns 0 or 1. */
static int init_master_key(const char *cfg_path)
{
    const char *slash = strrchr(cfg_path, '/');
    int dir_len = slash == NULL ? 0 : (int)(slash - cfg_path) + 1;
    size_t n = (size_t)dir_len + sizeof(CREDENTIALS_DEFAULT_KEY_FILE);
    char *key_path = malloc(n);
    struct mlc_err e;
    int rc;

    if (key_path == NULL) {
        fprintf(stderr, "mlc init: out of memory\n");
        return 1;
    }
    snprintf(key_path, n, "%.*s%s", dir_len, cfg_path, CREDENTIALS_DEFAULT_KEY_FILE);
    mlc_err_clear(&e);
    rc = vault_create_keyfile(key_path, &e);
    if (rc == MLC_OK)
        printf("created master key %s (mode 0600): back it up, credentials "
               "stored with it cannot be read without it\n", key_path);
    else if (rc == MLC_EEXIST)
        printf("kept the existing master key %s\n", key_path);
    else
        fprintf(stderr, "mlc init: %s\n", e.msg);
    if (rc == MLC_OK && vault_env_set())
        printf("note: %s is set and takes precedence over %s\n", VAULT_ENV,
               key_path);
    free(key_path);
    return (rc == MLC_OK || rc == MLC_EEXIST) ? 0 : 1;
}

int cmd_init(int argc, char **argv)
{
    const char *path = NULL;
    struct init_args a = { false };
    bool force;
    char ebuf[128], start[JDATE_ISO8601_SIZE], *text = NULL;
    struct mlc_err e;
    int npos, rc;

    if ((rc = cmdo_parse(&init_spec, argc, argv, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos > 1)
        return cmdo_fail(&init_spec, "one FILE at most");
    path = npos == 1 ? argv[1] : INIT_DEFAULT_FILE;
    force = a.force;

    mlc_err_clear(&e);
    if (example_now(&text, start, &e) != MLC_OK) {
        fprintf(stderr, "mlc init: %s\n", e.msg);
        return 1;
    }
    rc = force ? write_replace(path, text) : write_new(path, text);
    free(text);
    if (rc != 0) {
        if (!force && errno == EEXIST)
            fprintf(stderr, "mlc init: %s already exists (use --force to overwrite)\n", path);
        else
            fprintf(stderr, "mlc init: cannot write %s: %s\n", path,
                    strerror_r(errno, ebuf, sizeof(ebuf)));
        return 1;
    }

    printf("wrote %s (mode 0600)\n", path);
    printf("orders.start (the go-live cutover) is %s, now: orders created before it are "
           "never posted; set your go-live instant there before the first start\n", start);
    if (init_master_key(path) != 0)
        return 1;
    printf("next: fill in the Required keys, then store each credential it names with\n"
           "  mlc credentials set bigcommerce|jde|webhook|client-secret --config %s\n"
           "then run: mlc config check %s\n", path, path);
    return 0;
}
