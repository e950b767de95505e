/*
 * mlc store migrate: moves an installation (events, jobs, ledger, audit,
 * watermarks, credentials) from one state store to another, then proves
 * the copy by counts and checksums of both sides (store/migrate.h).
 *
 *   migrate --from URL --to URL [--config FILE] [--batch N] [--verify-only]
 *           [--from-password-ref REF] [--to-password-ref REF]
 *
 * URLs are store URLs: a path, sqlite:PATH, postgresql://... Only the
 * public store API is used, so any target backend works. The command
 * holds the daemon lock of both stores for the whole run (a daemon on
 * either refuses to start, and a running one makes the command refuse;
 * a PostgreSQL store has no such lock), and keeps the source in one
 * write transaction that it never commits: the source cannot change under
 * the copy and is left exactly as it was.
 * A target that already holds rows is refused. --config FILE: --from
 * defaults to its store.url, and the copied credentials are checked
 * against its master key; when --from is its store.url, its
 * store.password_ref is the source's. --*-password-ref: a PostgreSQL
 * password from file:PATH or systemd:NAME (as store.password_ref), for a
 * server that does not trust the connection and has no PGPASSFILE entry.
 * --verify-only compares without copying.
 *
 * Exit status: 0 when every table matches, 1 otherwise (with what
 * differs), 2 for a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/config.h"
#include "store/credentials.h"
#include "store/migrate.h"
#include "store/store.h"

#define PROG "mlc store migrate"
#define BAR_WIDTH 30

struct migrate_args {
    const char *config;
    const char *from;
    const char *to;
    const char *from_ref;   /* password_ref of each side, may be NULL */
    const char *to_ref;
    long long   batch;
    bool        verify_only;
};

/* One run: both stores, their locks and the figures of each table. */
struct migration {
    const struct migrate_args *a;
    struct mlc_config         *cfg;  /* NULL without --config */
    struct store_lock         *src_lock, *dst_lock;
    struct store              *src, *dst;
    bool                       src_frozen;
    struct migrate_sum         src_sum[STORE_TABLE_COUNT];
    struct migrate_sum         dst_sum[STORE_TABLE_COUNT];
    int64_t                    total; /* rows of the table being copied */
    bool                       tty;
};

static const struct cmdo_opt migrate_opts[] = {
    { "config", 'c', CMDO_STRING, offsetof(struct migrate_args, config), "FILE",
      "the configuration: --from defaults to its store.url", 0, 0 },
    { "from", 'f', CMDO_STRING, offsetof(struct migrate_args, from), "URL",
      "the store to copy from", 0, 0 },
    { "to", 't', CMDO_STRING, offsetof(struct migrate_args, to), "URL",
      "the store to copy to: empty (required)", 0, 0 },
    { "batch", 'b', CMDO_INT, offsetof(struct migrate_args, batch), "N",
      "rows per transaction", 1, 1000000 },
    { "verify-only", 'v', CMDO_FLAG, offsetof(struct migrate_args, verify_only), NULL,
      "copy nothing: compare the counts and checksums of both", 0, 0 },
    { "from-password-ref", 0, CMDO_STRING, offsetof(struct migrate_args, from_ref), "REF",
      "the PostgreSQL password of --from (file:PATH or systemd:NAME)", 0, 0 },
    { "to-password-ref", 0, CMDO_STRING, offsetof(struct migrate_args, to_ref), "REF",
      "the PostgreSQL password of --to (file:PATH or systemd:NAME)", 0, 0 },
    CMDO_END,
};
static const struct cmdo_spec migrate_spec = {
    "store migrate", "",
    "move an installation to another store (e.g. SQLite to PostgreSQL), verified by "
    "counts and checksums", migrate_opts,
    "URL: a SQLite path, sqlite:PATH or postgresql://... Stop the daemon\n"
    "first; the target must be empty. Credentials are copied encrypted:\n"
    "the target needs the same master key.",
};
const struct cmdo_spec *const cmd_store_specs[] = { &migrate_spec, NULL };

/* argv[0] is the subcommand: 0 to go on, -1 after --help, else the exit
 * status. */
static int parse_args(int argc, char **argv, struct migrate_args *a)
{
    int npos, rc;

    memset(a, 0, sizeof(*a));
    a->batch = MIGRATE_BATCH_DEFAULT;
    if ((rc = cmdo_parse(&migrate_spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0)
        return cmdo_fail(&migrate_spec, "unexpected argument '%s'", argv[1]);
    if (a->to == NULL)
        return cmdo_fail(&migrate_spec, "--to URL is required");
    if (a->from == NULL)
        a->config = cmdu_config(a->config);
    return 0;
}

/* The file of a SQLite store URL (a path, sqlite:PATH, sqlite://PATH;
 * borrowed from url), NULL for another scheme or a private ":memory:". */
static const char *sqlite_file(const char *url)
{
    const char *path = url;

    if (strncmp(path, "sqlite://", 9) == 0)
        path += 9;
    else if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    if (strstr(path, "://") != NULL || strcmp(path, ":memory:") == 0)
        return NULL;
    return path;
}

/* A SQLite file that does not exist would be created empty by opening it:
 * say so instead. Other schemes are the backend's to check. */
static int file_exists(const char *what, const char *url)
{
    const char *path = sqlite_file(url);
    struct stat sb;

    if (path == NULL || stat(path, &sb) == 0)
        return MLC_OK;
    fprintf(stderr, PROG ": the %s %s does not exist: %s\n", what, path,
            strerror(errno));
    return MLC_ENOTFOUND;
}

/* Two spellings of one SQLite file (or one URL twice). */
static bool same_store(const char *a, const char *b)
{
    const char *pa = sqlite_file(a), *pb = sqlite_file(b);
    struct stat sa, sb;

    if (strcmp(a, b) == 0)
        return true;
    return pa != NULL && pb != NULL && stat(pa, &sa) == 0 && stat(pb, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- opening both sides ------------------------------------------------ */

/* Locks, then opens (which runs the store's schema steps). */
static int open_side(const char *what, const char *url, const char *password_ref,
                     struct store_lock **l,
                     struct store **st)
{
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = store_lock(url, l, &e);
    if (rc == MLC_EBUSY) {
        fprintf(stderr, PROG ": the %s is in use, nothing was copied: %s\n", what, e.msg);
        return 1;
    }
    if (rc != MLC_OK) {
        fprintf(stderr, PROG ": cannot lock the %s: %s\n", what, e.msg);
        return 1;
    }
    if (store_open_with(url, password_ref, st, &e) != MLC_OK) {
        fprintf(stderr, PROG ": cannot open the %s: %s\n", what, e.msg);
        return 1;
    }
    return 0;
}

static int open_both(struct migration *m)
{
    struct mlc_err e;

    mlc_err_clear(&e);
    if (same_store(m->a->from, m->a->to)) {
        fprintf(stderr, PROG ": the source and the target are the same store (%s)\n",
                m->a->from);
        return 1;
    }
    if (file_exists("source", m->a->from) != MLC_OK ||
        (m->a->verify_only && file_exists("target", m->a->to) != MLC_OK))
        return 1;
    if (open_side("source", m->a->from, m->a->from_ref, &m->src_lock, &m->src) != 0 ||
        open_side("target", m->a->to, m->a->to_ref, &m->dst_lock, &m->dst) != 0)
        return 1;
    /* Never committed: nobody writes the source meanwhile (other writers
     * wait, then fail), every table is read from the same state, and the
     * source is left as it was. */
    if (store_tx_begin(m->src, &e) != MLC_OK) {
        fprintf(stderr, PROG ": cannot hold the source still: %s\n", e.msg);
        return 1;
    }
    m->src_frozen = true;
    return 0;
}

static void close_both(struct migration *m)
{
    if (m->src_frozen)
        store_tx_rollback(m->src);
    store_close(m->dst);
    store_close(m->src);
    store_unlock(m->dst_lock);
    store_unlock(m->src_lock);
}

/* ---- copy -------------------------------------------------------------- */

static void progress(enum store_table t, int64_t copied, void *ctx)
{
    struct migration *m = ctx;
    char bar[BAR_WIDTH + 1];
    int64_t filled;

    /* Only on a terminal, and only for tables worth watching. */
    if (!m->tty || m->total <= m->a->batch)
        return;
    filled = copied >= m->total ? BAR_WIDTH : copied * BAR_WIDTH / m->total;
    memset(bar, ' ', BAR_WIDTH);
    memset(bar, '#', (size_t)filled);
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r%-10s [%s] %" PRId64 "/%" PRId64, store_table_name(t), bar,
            copied, m->total);
    if (copied >= m->total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int refuse_nonempty_target(struct migration *m)
{
    enum store_table t;
    struct mlc_err e;

    mlc_err_clear(&e);
    if (migrate_first_nonempty(m->dst, &t, &e) != MLC_OK) {
        fprintf(stderr, PROG ": cannot read the target: %s\n", e.msg);
        return 1;
    }
    if (t == STORE_TABLE_COUNT)
        return 0;
    fprintf(stderr, PROG ": the target %s already holds rows (table %s): migrate only "
            "into a new, empty store; nothing was copied\n", m->a->to,
            store_table_name(t));
    return 1;
}

static int sum_side(struct store *st, const char *what,
                    struct migrate_sum sums[STORE_TABLE_COUNT])
{
    struct mlc_err e;

    mlc_err_clear(&e);
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        if (migrate_sum_table(st, (enum store_table)t, &sums[t], &e) != MLC_OK) {
            fprintf(stderr, PROG ": cannot read the %s: %s\n", what, e.msg);
            return 1;
        }
    }
    return 0;
}

static int copy_all(struct migration *m)
{
    struct mlc_err e;
    int64_t copied, all = 0;

    mlc_err_clear(&e);
    for (int t = 0; t < STORE_TABLE_COUNT; t++)
        all += m->src_sum[t].rows;
    if (all == 0) {
        fprintf(stderr, PROG ": the source %s holds no rows: nothing to migrate "
                "(is --from right?)\n", m->a->from);
        return 1;
    }
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        m->total = m->src_sum[t].rows;
        if (migrate_copy_table(m->src, m->dst, (enum store_table)t, (size_t)m->a->batch,
                               progress, m, &copied, &e) != MLC_OK) {
            if (m->tty)
                fputc('\n', stderr);
            fprintf(stderr, PROG ": copy failed: %s\n" PROG ": the target now holds a "
                    "partial copy: empty it (a new file, or drop and create the "
                    "database) before running again\n", e.msg);
            return 1;
        }
        printf("copied %-10s %10" PRId64 " rows\n", store_table_name((enum store_table)t),
               copied);
    }
    if (store_import_finish(m->dst, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 1;
    }
    return 0;
}

/* ---- verify ------------------------------------------------------------ */

/* The table of figures; returns how many tables differ. */
static int print_verdict(const struct migration *m)
{
    char hs[MIGRATE_SHA256_HEX], ht[MIGRATE_SHA256_HEX];
    int bad = 0;

    printf("%-10s %10s  %-64s  %s\n", "TABLE", "ROWS", "SHA-256", "OK");
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        const struct migrate_sum *s = &m->src_sum[t], *d = &m->dst_sum[t];
        bool same = migrate_sum_equal(s, d);

        migrate_sum_hex(s, hs);
        printf("%-10s %10" PRId64 "  %s  %s\n", store_table_name((enum store_table)t),
               s->rows, hs, same ? "ok" : "DIFFERS");
        if (!same) {
            migrate_sum_hex(d, ht);
            printf("%-10s %10" PRId64 "  %s  (target)\n", "", d->rows, ht);
            bad++;
        }
    }
    return bad;
}

static void report_differences(const struct migration *m)
{
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        const struct migrate_sum *s = &m->src_sum[t], *d = &m->dst_sum[t];

        if (migrate_sum_equal(s, d))
            continue;
        if (s->rows != d->rows)
            fprintf(stderr, PROG ": %s differs: the source has %" PRId64 " rows, the "
                    "target %" PRId64 "\n", store_table_name((enum store_table)t),
                    s->rows, d->rows);
        else
            fprintf(stderr, PROG ": %s differs: %" PRId64 " rows on both sides, but "
                    "their contents do not match (checksums differ)\n",
                    store_table_name((enum store_table)t), s->rows);
    }
    fprintf(stderr, PROG ": verification failed: the target is not a faithful copy of "
            "the source; do not use it\n");
}

/* ---- credentials ------------------------------------------------------- */

struct cred_check {
    struct store       *st;
    const struct vault *v;
    int                 n, bad;
    char                first_bad[VAULT_NAME_MAX + 1];
};

static int check_one(const char *name, int64_t updated_at, void *ctx)
{
    struct cred_check *c = ctx;
    struct mlc_secret *s = NULL;

    (void)updated_at;
    c->n++;
    if (credentials_load(c->v, c->st, name, &s, NULL) != MLC_OK) {
        if (c->bad++ == 0)
            snprintf(c->first_bad, sizeof(c->first_bad), "%s", name);
    }
    secret_free(s);
    return 0;
}

/* What the operator must know about the master key; with --config, whether
 * the copied credentials open with that configuration's key. Never fails
 * the run: the copy is exact either way. */
static void credentials_note(const struct migration *m)
{
    struct cred_check c = { .st = m->dst };
    struct vault *v = NULL;
    struct mlc_err e;

    mlc_err_clear(&e);
    if (m->dst_sum[STORE_TABLE_SECRETS].rows == 0)
        return;
    printf("credentials: %" PRId64 " copied encrypted; the target needs the same master "
           "key (store.master_key_file or MLC_MASTER_KEY)\n",
           m->dst_sum[STORE_TABLE_SECRETS].rows);
    if (m->cfg == NULL)
        return;
    if (credentials_open_vault(m->cfg, &v, &e) != MLC_OK) {
        printf("credentials: not checked: %s\n", e.msg);
        return;
    }
    c.v = v;
    if (store_secret_list(m->dst, check_one, &c, &e) != MLC_OK)
        printf("credentials: not checked: %s\n", e.msg);
    else if (c.bad == 0)
        printf("credentials: all %d decrypt with the master key of %s\n", c.n, m->a->config);
    else
        printf("credentials: WARNING: %d of %d (%s%s) do not decrypt with the master key "
               "of %s: use the key they were stored under\n", c.bad, c.n, c.first_bad,
               c.bad > 1 ? ", ..." : "", m->a->config);
    vault_free(v);
}

/* ---- the command ------------------------------------------------------- */

static int migrate_run(struct migration *m)
{
    int bad;

    if (open_both(m) != 0)
        return 1;
    printf("source: %s\ntarget: %s\n", m->a->from, m->a->to);
    if (!m->a->verify_only && refuse_nonempty_target(m) != 0)
        return 1;
    if (sum_side(m->src, "source", m->src_sum) != 0)
        return 1;
    if (!m->a->verify_only && copy_all(m) != 0)
        return 1;
    if (sum_side(m->dst, "target", m->dst_sum) != 0)
        return 1;
    bad = print_verdict(m);
    if (bad > 0) {
        report_differences(m);
        return 1;
    }
    printf("verified: every table of the target matches the source\n");
    credentials_note(m);
    if (!m->a->verify_only)
        printf("not copied: leases and shared records (run-time state the daemons rebuild)\n"
               "next: point store.url at %s and start the daemon there;\n"
               "      keep the source as a backup and run no daemon on it again\n",
               m->a->to);
    return 0;
}

static int store_migrate(int argc, char **argv)
{
    struct migrate_args a;
    struct migration m;
    struct mlc_err e;
    int status;

    if ((status = parse_args(argc, argv, &a)) != 0)
        return status < 0 ? 0 : status;
    memset(&m, 0, sizeof(m));
    m.a = &a;
    m.tty = isatty(STDERR_FILENO) == 1;
    mlc_err_clear(&e);
    if (a.config != NULL && cfg_load(a.config, &m.cfg, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 1;
    }
    if (a.from == NULL)
        a.from = m.cfg->store.url;
    if (a.from_ref == NULL && m.cfg != NULL && strcmp(a.from, m.cfg->store.url) == 0)
        a.from_ref = m.cfg->store.password_ref;
    status = migrate_run(&m);
    close_both(&m);
    cfg_unref(m.cfg);
    return status;
}

int cmd_store(int argc, char **argv)
{
    size_t which = 0;
    int rc = cmdo_sub("store", cmd_store_specs, argc, argv, &which);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    return store_migrate(argc - 1, argv + 1);
}
