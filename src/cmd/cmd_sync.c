/*
 * mlc sync orders: the backfill. Enqueues one order.sync job per BigCommerce
 * order in a range, for the daemon to post; this command posts nothing and
 * talks to no daemon (the store is the only shared state).
 *
 *   mlc sync orders --config FILE (--since DATE | --from-id N) [--to-id M]
 *                   [--page-size N] [--restart]
 *
 * DATE is ISO 8601 ("2026-11-01", midnight UTC, or "2026-11-01T08:00:00Z"):
 * orders created at or after it. Orders are read oldest id first without
 * line items, page by page as a keyset walk (min_id = last id done + 1), so
 * orders created meanwhile neither shift nor hide a page.
 *
 * Resumable: the checkpoint is the watermark "backfill:orders:<args>"
 * holding the last order id done, written in the same transaction as that
 * page's jobs. Interrupted (Ctrl-C, SIGTERM, a crash, a kill) and run again
 * with the same arguments, it continues after the last committed page;
 * --restart starts over (jobs already waiting coalesce, nothing doubles).
 * A second Ctrl-C stops at once; the committed pages still count.
 *
 * Progress on stderr: a bar on a terminal, one line per page otherwise.
 * Exit status: 0 done, 1 failure, 2 usage, 130 interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/config.h"
#include "core/jdate.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/vault.h"
#include "store/credentials.h"
#include "store/store.h"

#define PROG      "mlc sync"
#define JOB_KIND  "order.sync"
#define BAR_WIDTH 30
#define EXIT_INTERRUPTED 130

/* Set by SIGINT/SIGTERM, read between pages: the one way a signal handler
 * can talk to the loop. */
static volatile sig_atomic_t sync_stop;

static void on_signal(int sig)
{
    (void)sig;
    sync_stop = 1;
}

struct sync_args {
    const char *config;
    const char *since;       /* as given */
    long long   from_id, to_id, page_size;
    bool        restart;
};

static int sync_usage(void)
{
    fprintf(stderr,
            "usage: mlc sync orders --config FILE (--since DATE | --from-id N) [--to-id M]\n"
            "                       [--page-size N] [--restart]\n"
            "Enqueues an order.sync job for every BigCommerce order created since DATE\n"
            "(ISO 8601, e.g. 2026-11-01) or with an id from N (to M); the daemon posts\n"
            "them. Interrupted, the same command resumes; --restart starts over.\n");
    return 2;
}

static int parse_num(const char *opt, const char *s, long long min, long long max,
                     long long *out)
{
    if (cmdu_parse_ll(s, out) != MLC_OK || *out < min || *out > max) {
        fprintf(stderr, PROG ": %s needs a whole number from %lld to %lld\n", opt, min, max);
        return MLC_EINVAL;
    }
    return MLC_OK;
}

/* argv[0] is "orders". */
static int parse_args(int argc, char **argv, struct sync_args *a)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "since", required_argument, NULL, 's' },
        { "from-id", required_argument, NULL, 'f' },
        { "to-id", required_argument, NULL, 't' },
        { "page-size", required_argument, NULL, 'p' },
        { "restart", no_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc = MLC_OK;

    memset(a, 0, sizeof(*a));
    a->page_size = BC_V2_LIMIT_MAX;
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:s:f:t:p:r", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 's': a->since = optarg; break;
        case 'f': rc = parse_num("--from-id", optarg, 1, INT64_MAX, &a->from_id); break;
        case 't': rc = parse_num("--to-id", optarg, 1, INT64_MAX, &a->to_id); break;
        case 'p': rc = parse_num("--page-size", optarg, 1, BC_V2_LIMIT_MAX, &a->page_size); break;
        case 'r': a->restart = true; break;
        default: return MLC_EINVAL;
        }
        if (rc != MLC_OK)
            return rc;
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return MLC_EINVAL;
    }
    if (a->config == NULL) {
        fprintf(stderr, PROG ": --config FILE is required\n");
        return MLC_EINVAL;
    }
    if ((a->since == NULL) == (a->from_id == 0)) {
        fprintf(stderr, PROG ": give exactly one of --since DATE and --from-id N\n");
        return MLC_EINVAL;
    }
    if (a->to_id != 0 && a->from_id != 0 && a->to_id < a->from_id) {
        fprintf(stderr, PROG ": --to-id must not be below --from-id\n");
        return MLC_EINVAL;
    }
    return MLC_OK;
}

/* ---- the run ------------------------------------------------------------------- */

struct backfill {
    struct bc_client        *bc;
    struct store            *st;
    const struct sync_args  *a;
    char                     since[JDATE_ISO8601_SIZE]; /* normalised, "" when by id */
    char                     name[128];                 /* checkpoint watermark */
    int64_t                  resumed_after;             /* checkpoint at start */
    int64_t                  cursor;                    /* last id done */
    int64_t                  total;                     /* orders left at start, -1 unknown */
    int64_t                  seen;                      /* orders read this run */
    int64_t                  enqueued, coalesced, pages;
    bool                     tty;
};

static void progress(struct backfill *b, bool last)
{
    if (b->tty) {
        if (b->total > 0) {
            int64_t filled = b->seen >= b->total ? BAR_WIDTH : b->seen * BAR_WIDTH / b->total;
            char bar[BAR_WIDTH + 1];

            memset(bar, ' ', BAR_WIDTH);
            memset(bar, '#', (size_t)filled);
            bar[BAR_WIDTH] = '\0';
            fprintf(stderr, "\r[%s] %" PRId64 "/%" PRId64 " orders", bar, b->seen, b->total);
        } else {
            fprintf(stderr, "\r%" PRId64 " orders", b->seen);
        }
        if (last)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    if (b->total >= 0)
        fprintf(stderr, PROG ": %" PRId64 "/%" PRId64 " orders (after order %" PRId64 ")\n",
                b->seen, b->total, b->cursor);
    else
        fprintf(stderr, PROG ": %" PRId64 " orders (after order %" PRId64 ")\n", b->seen,
                b->cursor);
}

static void filter_of(const struct backfill *b, struct bc_order_filter *f)
{
    int64_t from = b->a->from_id > 0 ? b->a->from_id : 1;

    *f = (struct bc_order_filter)BC_ORDER_FILTER_INIT;
    f->line_items = false;
    f->sort = "id:asc";
    f->min_id = b->cursor + 1 > from ? b->cursor + 1 : from;
    f->max_id = b->a->to_id;
    f->min_date_created = b->since[0] != '\0' ? b->since : NULL;
}

static int load_checkpoint(struct backfill *b, struct mlc_err *e)
{
    char buf[32];
    long long v;
    int rc;

    if (b->a->restart) {
        rc = store_watermark_set(b->st, b->name, "0", e);
        b->cursor = 0;
        return rc;
    }
    rc = store_watermark_get(b->st, b->name, buf, sizeof(buf), e);
    if (rc == MLC_ENOTFOUND) {
        mlc_err_clear(e);
        b->cursor = 0;
        return MLC_OK;
    }
    if (rc != MLC_OK)
        return rc;
    if (cmdu_parse_ll(buf, &v) != MLC_OK || v < 0)
        return mlc_err_set(e, MLC_EINVAL, "checkpoint %s holds '%s', not an order id: "
                           "use --restart", b->name, buf);
    b->cursor = v;
    return MLC_OK;
}

/* One page's jobs and the checkpoint, in one transaction. */
static int commit_page(struct backfill *b, const json_t *orders, struct mlc_err *e)
{
    int64_t last = b->cursor, n_enq = 0, n_coal = 0;
    char val[32];
    size_t i;
    json_t *o;
    int rc;

    rc = store_tx_begin(b->st, e);
    if (rc != MLC_OK)
        return rc;
    json_array_foreach(orders, i, o) {
        json_t *jid = json_object_get(o, "id");
        char key[32];
        bool coalesced = false;

        if (!json_is_integer(jid) || json_integer_value(jid) <= b->cursor) {
            rc = mlc_err_set(e, MLC_EPROTO, "orders list: an order without a valid id "
                             "(after order %" PRId64 ")", b->cursor);
            break;
        }
        snprintf(key, sizeof(key), "order:%" PRId64, (int64_t)json_integer_value(jid));
        rc = store_job_enqueue(b->st, JOB_KIND, key, NULL, 0, NULL, &coalesced, e);
        if (rc != MLC_OK)
            break;
        if (coalesced)
            n_coal++;
        else
            n_enq++;
        if (json_integer_value(jid) > last)
            last = json_integer_value(jid);
    }
    if (rc == MLC_OK) {
        snprintf(val, sizeof(val), "%" PRId64, last);
        rc = store_watermark_set(b->st, b->name, val, e);
    }
    if (rc == MLC_OK)
        rc = store_tx_commit(b->st, e);
    if (rc != MLC_OK) {
        store_tx_rollback(b->st);
        return rc;
    }
    b->cursor = last;
    b->enqueued += n_enq;
    b->coalesced += n_coal;
    b->seen += (int64_t)json_array_size(orders);
    b->pages++;
    return MLC_OK;
}

static int walk(struct backfill *b, bool *interrupted, struct mlc_err *e)
{
    int64_t limit = b->a->page_size;

    *interrupted = false;
    for (;;) {
        struct bc_order_filter f;
        json_t *page = NULL;
        size_t n;
        int rc;

        if (sync_stop) {
            *interrupted = true;
            return MLC_OK;
        }
        filter_of(b, &f);
        if (f.max_id > 0 && f.min_id > f.max_id)
            return MLC_OK;
        rc = bc_orders_page(b->bc, &f, 1, limit, &page, e);
        if (rc != MLC_OK)
            return mlc_err_wrap(e, "orders after %" PRId64, b->cursor);
        n = json_array_size(page);
        rc = n > 0 ? commit_page(b, page, e) : MLC_OK;
        json_decref(page);
        if (rc != MLC_OK)
            return rc;
        if (n > 0)
            progress(b, false);
        if ((int64_t)n < limit)
            return MLC_OK;
    }
}

static void audit_run(struct backfill *b, const char *outcome)
{
    json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "enqueued", (json_int_t)b->enqueued,
                          "coalesced", (json_int_t)b->coalesced, "pages",
                          (json_int_t)b->pages, "last_id", (json_int_t)b->cursor,
                          "resumed_after", (json_int_t)b->resumed_after,
                          "restart", b->a->restart);
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    struct mlc_err e;

    json_decref(d);
    mlc_err_clear(&e);
    if (store_audit_add(b->st, &(struct store_audit){
            .actor = "cli", .entity = b->name, .action = "backfill", .outcome = outcome,
            .detail = text }, &e) != MLC_OK)
        fprintf(stderr, PROG ": audit: %s\n", e.msg);
    free(text);
}

static int run(struct backfill *b, struct mlc_err *e)
{
    struct bc_order_filter f;
    bool interrupted = false;
    int rc;

    rc = load_checkpoint(b, e);
    if (rc != MLC_OK)
        return rc;
    b->resumed_after = b->cursor;
    if (b->cursor > 0)
        fprintf(stderr, PROG ": resuming %s after order %" PRId64 " (--restart starts over)\n",
                b->name, b->cursor);
    filter_of(b, &f);
    b->total = -1;
    if (f.max_id == 0 || f.min_id <= f.max_id) {
        struct mlc_err ce;

        mlc_err_clear(&ce);
        if (bc_orders_count(b->bc, &f, &b->total, &ce) != MLC_OK) {
            fprintf(stderr, PROG ": cannot count the orders (%s): going on without a total\n",
                    ce.msg);
            b->total = -1;
        }
    } else {
        b->total = 0;
    }
    rc = walk(b, &interrupted, e);
    if (b->tty && b->seen > 0)
        fputc('\n', stderr);
    if (rc != MLC_OK) {
        audit_run(b, "error");
        return rc;
    }
    if (interrupted) {
        audit_run(b, "interrupted");
        fprintf(stderr, PROG ": interrupted after order %" PRId64 " (%" PRId64
                " enqueued): run the same command again to resume\n", b->cursor, b->enqueued);
        return MLC_ESTATE;
    }
    audit_run(b, "ok");
    printf("enqueued %" PRId64 " order.sync jobs (%" PRId64 " already waiting) from %" PRId64
           " orders; checkpoint %s at order %" PRId64 "\n",
           b->enqueued, b->coalesced, b->seen, b->name, b->cursor);
    return MLC_OK;
}

/* ---- setup ------------------------------------------------------------------------ */

static int checkpoint_name(struct backfill *b, struct mlc_err *e)
{
    const struct sync_args *a = b->a;
    char to[32] = "";
    int64_t t;

    if (a->to_id > 0)
        snprintf(to, sizeof(to), ":to=%lld", a->to_id);
    if (a->since != NULL) {
        if (jdate_iso8601_parse(a->since, &t, e) != MLC_OK)
            return mlc_err_wrap(e, "--since");
        if (jdate_iso8601_format(t, b->since, sizeof(b->since), e) != MLC_OK)
            return mlc_err_wrap(e, "--since");
        snprintf(b->name, sizeof(b->name), "backfill:orders:since=%s%s", b->since, to);
    } else {
        snprintf(b->name, sizeof(b->name), "backfill:orders:from=%lld%s", a->from_id, to);
    }
    return MLC_OK;
}

struct clients {
    struct vault      *vault;
    struct mlc_secret *token;
    struct pacer      *pacer;
    struct bc_client  *bc;
};

static void clients_free(struct clients *c)
{
    bc_client_free(c->bc);
    pacer_free(c->pacer);
    secret_free(c->token);
    vault_free(c->vault);
    memset(c, 0, sizeof(*c));
}

/* The BigCommerce token from the credential store, a pacer and a client. */
static int clients_open(const struct mlc_config *cfg, struct store *st, struct clients *c,
                        struct mlc_err *e)
{
    struct pacer_opts po = { .reserve = cfg->bigcommerce.rate_reserve };
    int rc;

    memset(c, 0, sizeof(*c));
    rc = credentials_open_vault(cfg, &c->vault, e);
    if (rc == MLC_OK)
        rc = credentials_load(c->vault, st, cfg->bigcommerce.token_ref, &c->token, e);
    if (rc == MLC_OK)
        rc = pacer_new(&po, &c->pacer, e);
    if (rc == MLC_OK)
        rc = bc_client_new(&cfg->bigcommerce, c->token, c->pacer, &c->bc, e);
    if (rc != MLC_OK)
        clients_free(c);
    return rc;
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second signal stops at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cmd_sync(int argc, char **argv)
{
    struct sync_args a;
    struct backfill b;
    struct clients c = { 0 };
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct mlc_err e;
    int rc, status = 1;

    if (argc < 2 || strcmp(argv[1], "orders") != 0) {
        if (argc >= 2)
            fprintf(stderr, PROG ": unknown subcommand '%s'\n", argv[1]);
        return sync_usage();
    }
    if (parse_args(argc - 1, argv + 1, &a) != MLC_OK)
        return sync_usage();
    mlc_err_clear(&e);
    memset(&b, 0, sizeof(b));
    b.a = &a;
    b.tty = isatty(STDERR_FILENO) == 1;
    if (checkpoint_name(&b, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 2;
    }
    if (cmdu_open(PROG, a.config, &cfg, &st) != MLC_OK)
        return 1;
    rc = clients_open(cfg, st, &c, &e);
    if (rc == MLC_OK) {
        b.bc = c.bc;
        b.st = st;
        sync_stop = 0;
        catch_signals();
        rc = run(&b, &e);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    if (rc == MLC_OK)
        status = 0;
    else if (rc == MLC_ESTATE && sync_stop)
        status = EXIT_INTERRUPTED;
    else
        fprintf(stderr, PROG ": %s\n", e.msg);
    clients_free(&c);
    store_close(st);
    cfg_unref(cfg);
    return status;
}
