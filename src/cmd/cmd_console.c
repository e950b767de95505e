/*
 * mlc console passwd NAME [--config FILE]: sets the web console password of
 * user NAME (named in console.users). The password is read from the
 * terminal with echo off (twice, to catch a typo) or, when stdin is not a
 * terminal, as its first line; it is never taken from the command line,
 * echoed or logged. Only its Argon2id hash is kept, encrypted in the
 * credential store as console_user.NAME (console/console_auth.h); the
 * change is audited with the OS user. A running daemon uses it at the next
 * login (no reload needed).
 *
 * mlc console users [--config FILE]: the configured users, their role and
 * whether a password is set.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "console/console_auth.h"
#include "store/credentials.h"

#define PROG "mlc console"

struct console_args {
    const char *config;
};
static const struct cmdo_opt console_opts[] = { CMDO_CONFIG(struct console_args), CMDO_END };
static const struct cmdo_spec passwd_spec = {
    "console passwd", "NAME",
    "set a web console user's password (read without echo, stored hashed)", console_opts,
    "The password is read from the terminal without echo, or from stdin.",
};
static const struct cmdo_spec users_spec = {
    "console users", "", "the console users and whether each has a password", console_opts,
    NULL,
};
const struct cmdo_spec *const cmd_console_specs[] = { &passwd_spec, &users_spec, NULL };

/* One line from fd into buf (NUL-terminated, without the newline), echo off
 * on a terminal. MLC_EINVAL when empty, MLC_ETOOBIG when too long. */
static int read_line(int fd, bool tty, const char *prompt, char *buf, size_t cap)
{
    struct termios old_t, new_t;
    size_t n = 0;
    int rc = MLC_OK;

    if (tty) {
        if (tcgetattr(fd, &old_t) != 0)
            return MLC_EIO;
        new_t = old_t;
        new_t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
        new_t.c_lflag |= ECHONL | ICANON;
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (tcsetattr(fd, TCSAFLUSH, &new_t) != 0)
            return MLC_EIO;
    }
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = MLC_EIO;
            break;
        }
        if (r == 0 || ch == '\n')
            break;
        if (n + 1 >= cap) {
            rc = MLC_ETOOBIG;
            break;
        }
        buf[n++] = ch;
    }
    if (tty)
        tcsetattr(fd, TCSAFLUSH, &old_t);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (rc == MLC_OK && n == 0)
        rc = MLC_EINVAL;
    return rc;
}

/* The new password into pw (locked memory of CAUTH_PASSWORD_MAX + 2). */
static int read_password(const char *user, char *pw)
{
    bool tty = isatty(STDIN_FILENO) == 1;
    char prompt[96], *again = NULL;
    int rc;

    snprintf(prompt, sizeof(prompt), "New console password for %s: ", user);
    rc = read_line(STDIN_FILENO, tty, prompt, pw, CAUTH_PASSWORD_MAX + 2);
    if (rc == MLC_OK && tty) {
        if ((again = sodium_malloc(CAUTH_PASSWORD_MAX + 2)) == NULL)
            rc = MLC_ENOMEM;
        else if ((rc = read_line(STDIN_FILENO, tty, "Again: ", again,
                                 CAUTH_PASSWORD_MAX + 2)) == MLC_OK &&
                 strcmp(again, pw) != 0)
            rc = MLC_EAUTH;
        if (again != NULL)
            sodium_free(again);
    }
    if (rc == MLC_EINVAL)
        fprintf(stderr, PROG ": empty password, nothing stored\n");
    else if (rc == MLC_ETOOBIG)
        fprintf(stderr, PROG ": the password is longer than %d bytes, nothing stored\n",
                CAUTH_PASSWORD_MAX);
    else if (rc == MLC_EAUTH)
        fprintf(stderr, PROG ": the passwords differ, nothing stored\n");
    else if (rc != MLC_OK)
        fprintf(stderr, PROG ": cannot read the password, nothing stored\n");
    return rc;
}

static bool named(const struct mlc_config *cfg, const char *user, const char **role)
{
    for (size_t i = 0; i < cfg->console.n_users; i++)
        if (strcmp(cfg->console.users[i].match, user) == 0) {
            *role = cfg->console.users[i].value;
            return true;
        }
    return false;
}

/* Seals hash as credential name and audits it, in one transaction. */
static int store_hash(const struct mlc_config *cfg, struct store *st, const char *name,
                      const char *hash, struct mlc_err *e)
{
    struct vault *v = NULL;
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char actor[96], entity[128];
    int rc = credentials_open_vault(cfg, &v, e);

    if (rc == MLC_OK)
        rc = vault_seal(v, name, hash, strlen(hash), &blob, &blob_len, e);
    if (rc == MLC_OK && (rc = store_tx_begin(st, e)) == MLC_OK) {
        cmdu_actor(actor, sizeof(actor));
        snprintf(entity, sizeof(entity), "credential:%s", name);
        rc = store_secret_put(st, name, blob, blob_len, e);
        if (rc == MLC_OK)
            rc = store_audit_add(st, &(struct store_audit){
                .actor = actor, .entity = entity, .action = "set", .outcome = "ok",
                .detail = "{\"used_by\":[\"console.users\"]}" }, e);
        if (rc == MLC_OK)
            rc = store_tx_commit(st, e);
        if (rc != MLC_OK)
            store_tx_rollback(st);
    }
    free(blob);
    vault_free(v);
    return rc;
}

static int passwd(const char *config, const char *user)
{
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    const char *role = NULL;
    char *pw = NULL, hash[CAUTH_HASH_MAX], name[96];
    struct mlc_err e;
    int status = 1;

    mlc_err_clear(&e);
    if (cmdu_open(PROG, config, &cfg, &st) != MLC_OK)
        return 1;
    if (!named(cfg, user, &role)) {
        fprintf(stderr, PROG ": %s is not in console.users of %s: add it with its role "
                "first\n", user, config);
        goto out;
    }
    if (sodium_init() < 0 || (pw = sodium_malloc(CAUTH_PASSWORD_MAX + 2)) == NULL) {
        fprintf(stderr, PROG ": out of locked memory\n");
        goto out;
    }
    if (read_password(user, pw) != MLC_OK)
        goto out;
    cauth_credential_name(user, name, sizeof(name));
    if (cauth_hash(pw, strlen(pw), hash, &e) != MLC_OK ||
        store_hash(cfg, st, name, hash, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        goto out;
    }
    printf("console password of %s (%s) stored\n", user, role);
    status = 0;
out:
    if (pw != NULL)
        sodium_free(pw); /* wipes */
    sodium_memzero(hash, sizeof(hash));
    store_close(st);
    cfg_unref(cfg);
    return status;
}

static int users(const char *config)
{
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;

    if (cmdu_open(PROG, config, &cfg, &st) != MLC_OK)
        return 1;
    if (cfg->console.n_users == 0)
        printf("no console users (console.users)\n");
    for (size_t i = 0; i < cfg->console.n_users; i++) {
        char name[96];
        void *blob = NULL;
        size_t len = 0;
        struct mlc_err e;

        cauth_credential_name(cfg->console.users[i].match, name, sizeof(name));
        bool set = store_secret_get(st, name, &blob, &len, &e) == MLC_OK;

        free(blob);
        printf("%-24s %-9s %s\n", cfg->console.users[i].match, cfg->console.users[i].value,
               set ? "password set" : "no password (mlc console passwd NAME)");
    }
    store_close(st);
    cfg_unref(cfg);
    return 0;
}

int cmd_console(int argc, char **argv)
{
    struct console_args a = { NULL };
    const struct cmdo_spec *spec;
    size_t which = 0;
    int npos, rc;

    if ((rc = cmdo_sub("console", cmd_console_specs, argc, argv, &which)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    spec = cmd_console_specs[which];
    if ((rc = cmdo_parse(spec, argc - 1, argv + 1, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (which == 0) {
        if (npos != 1)
            return cmdo_fail(spec, "passwd needs one NAME");
        return passwd(cmdu_config(a.config), argv[2]);
    }
    if (npos != 0)
        return cmdo_fail(spec, "users takes no arguments");
    return users(cmdu_config(a.config));
}
