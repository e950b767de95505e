/*
 * mlc credentials set|list|delete: encrypted credentials in the state store.
 *
 *   set KIND|--name NAME --config FILE   KIND is bigcommerce, jde, webhook or
 *       client-secret (the name the configuration's reference holds). The
 *       secret is read from the terminal without echo, or from stdin when it
 *       is not a terminal (one trailing newline stripped). Never from argv.
 *   list --config FILE [--json]          names, update dates, whether each
 *       decrypts with the current master key, which reference uses it.
 *       Exit 1 when a stored credential does not decrypt.
 *   delete NAME --config FILE
 *
 * Secret bytes live only in sodium_malloc memory and are wiped after
 * sealing; nothing here prints, logs or audits them.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "console/console_auth.h"
#include "core/config.h"
#include "core/vault.h"
#include "store/credentials.h"
#include "store/store.h"

#define PROG "mlc credentials"
/* Room for the largest secret plus a "\r\n" to strip. */
#define INPUT_CAP (VAULT_MAX_SECRET + 2)

struct cred_args {
    const struct cmdo_spec *spec;
    const char *config;
    const char *name;
    bool        json;
    int         npos;
    char      **pos;
};

#define CRED_OPTS_CONFIG CMDO_CONFIG(struct cred_args)
static const struct cmdo_opt set_opts[] = {
    CRED_OPTS_CONFIG,
    { "name", 'n', CMDO_STRING, offsetof(struct cred_args, name), "NAME",
      "the credential's name, instead of a KIND", 0, 0 },
    CMDO_END,
};
static const struct cmdo_opt list_opts[] = {
    CRED_OPTS_CONFIG,
    CMDO_JSON(struct cred_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_opt delete_opts[] = { CRED_OPTS_CONFIG, CMDO_END };
static const struct cmdo_spec set_spec = {
    "credentials set", "bigcommerce|jde|webhook|client-secret|--name NAME",
    "store one secret, encrypted with the master key", set_opts,
    "The secret is read from the terminal without echo, or from stdin.\n"
    "KIND names the credential the configuration refers to for it.\n"
    "Master key: MLC_MASTER_KEY, else store.master_key_file (relative to\n"
    "the configuration file's directory).",
};
static const struct cmdo_spec list_spec = {
    "credentials list", "", "the stored credentials, who uses them, whether they decrypt",
    list_opts, NULL,
};
static const struct cmdo_spec delete_spec = {
    "credentials delete", "NAME", "delete a stored credential", delete_opts, NULL,
};
const struct cmdo_spec *const cmd_credentials_specs[] = {
    &set_spec, &list_spec, &delete_spec, NULL,
};

static int cred_usage(const struct cred_args *a, const char *what)
{
    return cmdo_fail(a->spec, "%s", what);
}

/* argv[0] is the subcommand: 0 to go on, -1 after --help, else the exit
 * status. */
static int parse_args(int argc, char **argv, const struct cmdo_spec *spec,
                      struct cred_args *a)
{
    int rc;

    memset(a, 0, sizeof(*a));
    a->spec = spec;
    if ((rc = cmdo_parse(spec, argc, argv, a, &a->npos)) != CMDO_GO)
        return rc;
    a->config = cmdu_config(a->config);
    a->pos = argv + 1;
    return 0;
}

/* ---- shared helpers ------------------------------------------------------- */

static int fail(const struct mlc_err *e)
{
    fprintf(stderr, PROG ": %s\n", e->msg);
    return 1;
}

/* Configuration keys that name credential name, as a JSON array. */
static json_t *used_by(const struct mlc_config *cfg, const char *name)
{
    struct credentials_ref refs[CREDENTIALS_MAX_REFS];
    size_t n = credentials_refs(cfg, refs);
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n; i++)
        if (refs[i].name != NULL && strcmp(refs[i].name, name) == 0)
            json_array_append_new(arr, json_string(refs[i].key));
    /* A console password hash (mlc console passwd) is named after its user. */
    for (size_t i = 0; arr != NULL && i < cfg->console.n_users; i++) {
        char cred[96], key[128];

        cauth_credential_name(cfg->console.users[i].match, cred, sizeof(cred));
        if (strcmp(cred, name) != 0)
            continue;
        snprintf(key, sizeof(key), "console.users.%s", cfg->console.users[i].match);
        json_array_append_new(arr, json_string(key));
    }
    return arr;
}

/* Records a change in the audit trail; the detail never holds the value. */
static int audit(struct store *st, const struct mlc_config *cfg,
                 const char *name, const char *action, struct mlc_err *e)
{
    char entity[sizeof("credential:") + VAULT_NAME_MAX], actor[96];
    json_t *d = json_object();
    char *detail = NULL;
    int rc;

    snprintf(entity, sizeof(entity), "credential:%s", name);
    if (d != NULL) {
        json_object_set_new(d, "used_by", used_by(cfg, name));
        detail = json_dumps(d, JSON_COMPACT);
        json_decref(d);
    }
    cmdu_actor(actor, sizeof(actor));
    rc = store_audit_add(st, &(struct store_audit){
        .actor = actor, .entity = entity, .action = action, .outcome = "ok",
        .detail = detail }, e);
    free(detail);
    return rc;
}

/* ---- stored names ------------------------------------------------------------ */

struct stored {
    char   *name;
    int64_t updated_at;
};

struct stored_list {
    struct stored *v;
    size_t         n, cap;
    bool           oom;
};

static void stored_clear(struct stored_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int stored_cb(const char *name, int64_t updated_at, void *ctx)
{
    struct stored_list *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct stored *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->oom = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].name = strdup(name);
    if (l->v[l->n].name == NULL) {
        l->oom = true;
        return 1;
    }
    l->v[l->n++].updated_at = updated_at;
    return 0;
}

/* Collects names first: list callbacks must not call back into the store. */
static int stored_load(struct store *st, struct stored_list *l,
                       struct mlc_err *e)
{
    int rc;

    memset(l, 0, sizeof(*l));
    rc = store_secret_list(st, stored_cb, l, e);
    if (rc == MLC_OK && l->oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (rc != MLC_OK)
        stored_clear(l);
    return rc;
}

/* MLC_OK when name decrypts, MLC_ECRYPTO when it does not, another code when
 * the store failed. */
static int probe(const struct vault *v, struct store *st, const char *name,
                 struct mlc_err *e)
{
    struct mlc_secret *s = NULL;
    int rc = credentials_load(v, st, name, &s, e);

    secret_free(s);
    return rc;
}

/* ---- set ---------------------------------------------------------------------- */

/* The terminal handling below needs to know a signal arrived during the
 * prompt, to restore echo before the process goes away; a handler can only
 * tell through a flag, so this is the one piece of static state here. */
static volatile sig_atomic_t cred_signal_g;

static void on_signal(int sig)
{
    cred_signal_g = sig;
}

static const int prompt_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
#define N_PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

/* Reads from fd into buf (cap bytes) until EOF, or until a newline when
 * line is true. MLC_ETOOBIG past cap, MLC_EBUSY on a signal. */
static int read_input(int fd, char *buf, size_t cap, bool line, size_t *len)
{
    size_t n = 0;

    for (;;) {
        ssize_t r;
        if (n == cap)
            return MLC_ETOOBIG;
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR && cred_signal_g != 0)
            return MLC_EBUSY;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return MLC_EIO;
        if (r == 0)
            break;
        n += (size_t)r;
        if (line && buf[n - 1] == '\n')
            break;
    }
    *len = n;
    return MLC_OK;
}

/* Prompts on stderr and reads a line from the terminal on fd with echo off.
 * Echo comes back on every path, including a signal (which cancels). */
static int read_tty(int fd, const char *name, char *buf, size_t cap,
                    size_t *len)
{
    struct sigaction sa, old_sa[N_PROMPT_SIGNALS];
    struct termios old_t, new_t;
    int rc;

    if (tcgetattr(fd, &old_t) != 0)
        return MLC_EIO;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: read must return EINTR */
    sigemptyset(&sa.sa_mask);
    cred_signal_g = 0;
    for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
        sigaction(prompt_signals[i], &sa, &old_sa[i]);
    new_t = old_t;
    new_t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    new_t.c_lflag |= ECHONL | ICANON;
    fprintf(stderr, "Enter secret for %s: ", name);
    fflush(stderr);
    if (tcsetattr(fd, TCSAFLUSH, &new_t) != 0)
        rc = MLC_EIO;
    else
        rc = read_input(fd, buf, cap, true, len);
    tcsetattr(fd, TCSAFLUSH, &old_t);
    for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
        sigaction(prompt_signals[i], &old_sa[i], NULL);
    if (rc == MLC_EBUSY)
        fputc('\n', stderr);
    return rc;
}

static void report_input_error(int rc)
{
    char buf[128];

    switch (rc) {
    case MLC_EBUSY:
        fprintf(stderr, PROG ": cancelled, nothing stored\n");
        break;
    case MLC_ETOOBIG:
        fprintf(stderr, PROG ": the secret is longer than %d bytes, nothing "
                "stored\n", VAULT_MAX_SECRET);
        break;
    case MLC_EINVAL:
        fprintf(stderr, PROG ": empty secret, nothing stored\n");
        break;
    case MLC_EPARSE:
        fprintf(stderr, PROG ": the secret contains a NUL byte, nothing "
                "stored\n");
        break;
    default:
        fprintf(stderr, PROG ": cannot read the secret: %s\n",
                strerror_r(errno, buf, sizeof(buf)));
        break;
    }
}

/* Reads the secret for name into *out (sodium_malloc, NUL-terminated; the
 * caller frees with sodium_free). Prints its own errors. */
static int read_secret(const char *name, char **out, size_t *out_len)
{
    char *buf = sodium_malloc(INPUT_CAP + 1);
    bool tty = isatty(STDIN_FILENO) == 1;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (buf == NULL) {
        fprintf(stderr, PROG ": out of locked memory for the secret\n");
        return MLC_ENOMEM;
    }
    rc = tty ? read_tty(STDIN_FILENO, name, buf, INPUT_CAP, &len)
             : read_input(STDIN_FILENO, buf, INPUT_CAP, false, &len);
    if (rc == MLC_OK && len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
    }
    buf[len] = '\0';
    if (rc == MLC_OK && len > VAULT_MAX_SECRET)
        rc = MLC_ETOOBIG;
    if (rc == MLC_OK && len == 0)
        rc = MLC_EINVAL;
    if (rc == MLC_OK && memchr(buf, '\0', len) != NULL)
        rc = MLC_EPARSE;
    if (rc != MLC_OK) {
        report_input_error(rc);
        sodium_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return MLC_OK;
}

/* The credential name `set` targets: --name, or the reference of KIND. */
static int target_name(const struct cred_args *a, const struct mlc_config *cfg,
                       const char **name)
{
    struct credentials_ref refs[CREDENTIALS_MAX_REFS];
    size_t n = credentials_refs(cfg, refs);

    if ((a->name != NULL) == (a->npos == 1) || a->npos > 1)
        return cred_usage(a, "give one KIND or --name NAME");
    if (a->name != NULL) {
        if (!vault_name_ok(a->name)) {
            fprintf(stderr, PROG ": invalid credential name: expected 1-64 "
                    "characters a-z 0-9 _ . -\n");
            return 2;
        }
        *name = a->name;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a->pos[0], refs[i].kind) != 0)
            continue;
        if (refs[i].name == NULL) {
            fprintf(stderr, PROG ": %s is not set in %s: set it, or use "
                    "--name NAME\n", refs[i].key, a->config);
            return 1;
        }
        *name = refs[i].name;
        return 0;
    }
    fprintf(stderr, PROG ": unknown kind '%s' (bigcommerce, jde, webhook, "
            "client-secret, or --name NAME)\n", a->pos[0]);
    return 2;
}

/* Refuses to seal with a key that opens none of the other stored
 * credentials: that is a wrong MLC_MASTER_KEY or key file, and mixing keys
 * would leave some credentials unreadable whichever key is used later. */
static int check_same_key(const struct vault *v, struct store *st,
                          const char *name, struct mlc_err *e)
{
    struct stored_list l;
    size_t others = 0, ok = 0;
    int rc = stored_load(st, &l, e);

    for (size_t i = 0; rc == MLC_OK && i < l.n; i++) {
        if (strcmp(l.v[i].name, name) == 0)
            continue;
        others++;
        rc = probe(v, st, l.v[i].name, e);
        if (rc == MLC_OK)
            ok++;
        if (rc == MLC_ECRYPTO)
            rc = MLC_OK;
    }
    stored_clear(&l);
    if (rc == MLC_OK && others > 0 && ok == 0)
        rc = mlc_err_set(e, MLC_ECRYPTO, "the current master key decrypts "
                         "none of the %zu stored credentials: wrong key? "
                         "Nothing stored (see: mlc credentials list)", others);
    return rc;
}

static int seal_and_store(const struct vault *v, struct store *st,
                          const struct mlc_config *cfg, const char *name,
                          const char *secret, size_t len, struct mlc_err *e)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    int rc = vault_seal(v, name, secret, len, &blob, &blob_len, e);

    if (rc != MLC_OK)
        return rc;
    rc = store_tx_begin(st, e);
    if (rc == MLC_OK) {
        rc = store_secret_put(st, name, blob, blob_len, e);
        if (rc == MLC_OK)
            rc = audit(st, cfg, name, "set", e);
        if (rc == MLC_OK)
            rc = store_tx_commit(st, e);
        if (rc != MLC_OK)
            store_tx_rollback(st);
    }
    free(blob);
    return rc;
}

static int cred_set(const struct cred_args *a, const struct mlc_config *cfg,
                    const struct vault *v, struct store *st)
{
    const char *name = NULL;
    char *secret = NULL;
    size_t len = 0;
    struct mlc_err e;
    int status;

    mlc_err_clear(&e);
    status = target_name(a, cfg, &name);
    if (status != 0)
        return status;
    if (check_same_key(v, st, name, &e) != MLC_OK)
        return fail(&e);
    if (read_secret(name, &secret, &len) != MLC_OK)
        return 1;
    status = seal_and_store(v, st, cfg, name, secret, len, &e);
    sodium_free(secret); /* wipes */
    if (status != MLC_OK)
        return fail(&e);
    printf("credential %s stored\n", name);
    return 0;
}

/* ---- list ---------------------------------------------------------------------- */

/* One row per stored credential, then one per reference naming a credential
 * that is not stored ("missing"). */
static int list_rows(const struct mlc_config *cfg, const struct vault *v,
                     struct store *st, json_t *rows, bool *all_ok,
                     struct mlc_err *e)
{
    struct credentials_ref refs[CREDENTIALS_MAX_REFS];
    size_t nrefs = credentials_refs(cfg, refs);
    struct stored_list l;
    char when[32];
    int rc = stored_load(st, &l, e);

    for (size_t i = 0; rc == MLC_OK && i < l.n; i++) {
        const char *status = "ok";
        if (v != NULL)
            rc = probe(v, st, l.v[i].name, e);
        if (rc == MLC_ENOTFOUND) { /* deleted meanwhile */
            rc = MLC_OK;
            continue;
        }
        if (v == NULL || rc == MLC_ECRYPTO || rc == MLC_EINVAL) {
            status = "cannot decrypt";
            rc = MLC_OK;
        }
        if (rc != MLC_OK)
            break;
        if (strcmp(status, "ok") != 0)
            *all_ok = false;
        cmdu_fmt_time(l.v[i].updated_at, when, sizeof(when));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:o}",
            "name", l.v[i].name, "updated_at", when, "status", status,
            "used_by", used_by(cfg, l.v[i].name)));
    }
    for (size_t r = 0; rc == MLC_OK && r < nrefs; r++) {
        bool found = false;
        if (refs[r].name == NULL)
            continue;
        for (size_t i = 0; i < l.n && !found; i++)
            found = strcmp(l.v[i].name, refs[r].name) == 0;
        for (size_t p = 0; p < r && !found; p++) /* two keys, one name */
            found = refs[p].name != NULL && strcmp(refs[p].name, refs[r].name) == 0;
        if (!found)
            json_array_append_new(rows, json_pack("{s:s, s:n, s:s, s:o}",
                "name", refs[r].name, "updated_at", "status", "missing",
                "used_by", used_by(cfg, refs[r].name)));
    }
    stored_clear(&l);
    return rc;
}

static void print_text(json_t *rows)
{
    size_t i;
    json_t *row;

    printf("%-32s %-20s %-14s %s\n", "NAME", "UPDATED", "STATUS", "USED BY");
    json_array_foreach(rows, i, row) {
        json_t *by = json_object_get(row, "used_by"), *k;
        const char *when = json_string_value(json_object_get(row, "updated_at"));
        size_t j;

        printf("%-32s %-20s %-14s ",
               json_string_value(json_object_get(row, "name")),
               when != NULL ? when : "-",
               json_string_value(json_object_get(row, "status")));
        if (json_array_size(by) == 0)
            printf("-");
        json_array_foreach(by, j, k)
            printf("%s%s", j > 0 ? "," : "", json_string_value(k));
        printf("\n");
    }
}

static int cred_list(const struct cred_args *a, const struct mlc_config *cfg,
                     const struct vault *v, struct store *st)
{
    json_t *rows = json_array();
    bool all_ok = true;
    struct mlc_err e;
    char *s;
    int rc;

    mlc_err_clear(&e);
    if (a->npos != 0 || a->name != NULL) {
        json_decref(rows);
        return cred_usage(a, "list takes no arguments");
    }
    if (rows == NULL)
        return 1;
    rc = list_rows(cfg, v, st, rows, &all_ok, &e);
    if (rc != MLC_OK) {
        json_decref(rows);
        return fail(&e);
    }
    if (a->json) {
        s = json_dumps(rows, JSON_INDENT(2));
        if (s != NULL)
            printf("%s\n", s);
        free(s);
    } else {
        print_text(rows);
    }
    json_decref(rows);
    if (!all_ok)
        fprintf(stderr, PROG ": some credentials do not decrypt with the "
                "current master key\n");
    return all_ok ? 0 : 1;
}

/* ---- delete -------------------------------------------------------------------- */

static int cred_delete(const struct cred_args *a, const struct mlc_config *cfg,
                       struct store *st)
{
    const char *name;
    struct mlc_err e;
    json_t *by;
    size_t i;
    json_t *k;
    int rc;

    mlc_err_clear(&e);
    if (a->npos != 1 || a->name != NULL)
        return cred_usage(a, "delete needs one NAME");
    name = a->pos[0];
    if (!vault_name_ok(name)) {
        fprintf(stderr, PROG ": invalid credential name: expected 1-64 "
                "characters a-z 0-9 _ . -\n");
        return 2;
    }
    rc = store_tx_begin(st, &e);
    if (rc == MLC_OK) {
        rc = store_secret_delete(st, name, &e);
        if (rc == MLC_OK)
            rc = audit(st, cfg, name, "delete", &e);
        if (rc == MLC_OK)
            rc = store_tx_commit(st, &e);
        if (rc != MLC_OK)
            store_tx_rollback(st);
    }
    if (rc == MLC_ENOTFOUND) {
        fprintf(stderr, PROG ": no credential named '%s'\n", name);
        return 1;
    }
    if (rc != MLC_OK)
        return fail(&e);
    printf("credential %s deleted\n", name);
    by = used_by(cfg, name);
    json_array_foreach(by, i, k)
        fprintf(stderr, PROG ": note: %s still names it\n", json_string_value(k));
    json_decref(by);
    return 0;
}

/* ---- entry ------------------------------------------------------------------------ */

int cmd_credentials(int argc, char **argv)
{
    struct mlc_config *cfg = NULL;
    struct vault *v = NULL;
    struct store *st = NULL;
    struct cred_args a;
    struct mlc_err e, ve;
    const char *sub;
    size_t which = 0;
    int status;

    mlc_err_clear(&e);
    mlc_err_clear(&ve);
    if ((status = cmdo_sub("credentials", cmd_credentials_specs, argc, argv, &which)) != 0 ||
        (status = parse_args(argc - 1, argv + 1, cmd_credentials_specs[which], &a)) != 0)
        return status < 0 ? 0 : status;
    sub = argv[1];
    status = 1;
    if (cfg_load(a.config, &cfg, &e) != MLC_OK)
        return fail(&e);
    /* set needs the key before prompting; list reports a missing key on
     * each row; delete does not need it at all. */
    if (strcmp(sub, "delete") != 0 &&
        credentials_open_vault(cfg, &v, &ve) != MLC_OK) {
        fail(&ve);
        if (strcmp(sub, "set") == 0)
            goto out;
    }
    if (store_open_with(cfg->store.url, cfg->store.password_ref, &st, &e) != MLC_OK) {
        status = fail(&e);
        goto out;
    }
    if (strcmp(sub, "set") == 0)
        status = cred_set(&a, cfg, v, st);
    else if (strcmp(sub, "list") == 0)
        status = cred_list(&a, cfg, v, st);
    else
        status = cred_delete(&a, cfg, st);
out:
    store_close(st);
    vault_free(v);
    cfg_unref(cfg);
    return status;
}
