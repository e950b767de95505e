/*
 * mlc sync: backfills and the catalog poll on demand.
 *
 * mlc sync orders: the backfill. Enqueues one order.sync job per BigCommerce
 * order in a range, for the daemon to post; this command posts nothing and
 * talks to no daemon (the store is the only shared state).
 *
 *   mlc sync orders --config FILE (--since DATE | --from-id N) [--to-id M]
 *                   [--page-size N] [--restart]
 *
 * DATE is ISO 8601 ("2026-11-01", midnight UTC, or "2026-11-01T08:00:00Z"):
 * orders created at or after it. The go-live cutover bounds every range: a
 * DATE before orders.start, or an N below orders.start_id, is refused (the
 * orders before it were keyed by hand and are never posted: to backfill
 * them deliberately, move the cutover first), and a range by id only takes
 * the orders created at or after orders.start. Orders are read oldest id first without
 * line items, page by page as a keyset walk (min_id = last id done + 1), so
 * orders created meanwhile neither shift nor hide a page.
 *
 * Resumable: the checkpoint is the watermark "backfill:orders:<args>"
 * holding the last order id done, written in the same transaction as that
 * page's jobs. Interrupted (Ctrl-C, SIGTERM, a crash, a kill) and run again
 * with the same arguments, it continues after the last committed page;
 * --restart starts over (jobs already waiting coalesce, nothing doubles).
 * An id whose job is HELD is left alone (it waits for a fix and `mlc
 * replay`; another job would only be held again), as the sweep does.
 * A second Ctrl-C stops at once; the committed pages still count.
 *
 * Progress on stderr: a bar on a terminal, one line per page otherwise.
 * Exit status: 0 done, 1 failure, 2 usage, 130 interrupted.
 *
 *   mlc sync customers --config FILE (--since DATE | --from-id N) [--to-id M]
 *                      [--page-size N] [--restart]
 *
 * The same for customers: one customer.sync job (key "customer:<id>") per
 * customer modified at or after DATE (date_modified:min), or with an id
 * from N. The v3 customers list has no id filter nor an id order, so the
 * ids are read first (all pages, ids only kept), sorted, and then enqueued
 * in pages of --page-size with the checkpoint "backfill:customers:<args>"
 * (last id done) in the page's transaction, exactly like the orders.
 * Refused (exit 1, nothing queued) when customers.enabled is false: the
 * daemon would have no handler for those jobs (core/jobkind.h).
 *
 *   mlc sync catalog --config FILE [--json]
 *
 * One catalog poll (sync/catalog_flow.h) now, in the foreground, with the
 * daemon's env; prints its counts and watermarks. Exit status 1 when the
 * poll failed (the watermarks did not move) or catalog.enabled is false.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/bc_customers.h"
#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/json.h"
#include "core/config.h"
#include "core/jdate.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/tz.h"
#include "core/vault.h"
#include "store/credentials.h"
#include "store/store.h"
#include "sync/budget.h"
#include "sync/catalog_flow.h"
#include "sync/env.h"

#define PROG      "mlc sync"
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

/* What a backfill walks: orders or customers. */
struct bf_kind {
    const char *noun;        /* "orders" */
    const char *one;         /* "order" */
    const char *job;         /* job kind */
    const char *key_prefix;  /* job key before the id */
};

static const struct bf_kind BF_ORDERS = { "orders", "order", JOB_ORDER_SYNC, JOB_KEY_ORDER };
static const struct bf_kind BF_CUSTOMERS = { "customers", "customer", JOB_CUSTOMER_SYNC,
                                                JOB_KEY_CUSTOMER };

struct catalog_args {
    const char *config;
    bool        json;
};

struct sync_args {
    const struct bf_kind *kind;
    const char *config;
    const char *since;       /* as given */
    long long   from_id, to_id, page_size;
    bool        restart;
};

#define SYNC_BACKFILL_OPTS(noun) \
    CMDO_CONFIG(struct sync_args), \
    { "since", 's', CMDO_STRING, offsetof(struct sync_args, since), "DATE", \
      noun " since DATE (ISO 8601, e.g. 2026-11-01)", 0, 0 }, \
    { "from-id", 'f', CMDO_INT, offsetof(struct sync_args, from_id), "N", \
      noun " with an id from N", 1, INT64_MAX }, \
    { "to-id", 't', CMDO_INT, offsetof(struct sync_args, to_id), "M", \
      "up to id M", 1, INT64_MAX }, \
    { "page-size", 'p', CMDO_INT, offsetof(struct sync_args, page_size), "N", \
      "BigCommerce page size", 1, BC_V2_LIMIT_MAX }, \
    { "restart", 'r', CMDO_FLAG, offsetof(struct sync_args, restart), NULL, \
      "start over instead of resuming an interrupted run", 0, 0 }, \
    CMDO_END
static const struct cmdo_opt orders_opts[] = { SYNC_BACKFILL_OPTS("orders created") };
static const struct cmdo_opt customers_opts[] = { SYNC_BACKFILL_OPTS("customers modified") };
static const struct cmdo_opt catalog_opts[] = {
    CMDO_CONFIG(struct catalog_args),
    CMDO_JSON(struct catalog_args, "JSON output: the poll's counts"),
    CMDO_END,
};
static const struct cmdo_spec orders_spec = {
    "sync orders", "--since DATE|--from-id N",
    "enqueue an order.sync job for every BigCommerce order in a range", orders_opts,
    "Give exactly one of --since and --from-id. The daemon posts the jobs;\n"
    "never before the go-live cutover (orders.start, orders.start_id).\n"
    "Interrupted, the same command resumes; --restart starts over.",
};
static const struct cmdo_spec customers_spec = {
    "sync customers", "--since DATE|--from-id N",
    "enqueue a customer.sync job for every customer in a range", customers_opts,
    "Give exactly one of --since and --from-id. Interrupted, the same\n"
    "command resumes; --restart starts over.",
};
static const struct cmdo_spec catalog_spec = {
    "sync catalog", "", "one JDE -> BigCommerce catalog poll now, with its counts",
    catalog_opts, NULL,
};
const struct cmdo_spec *const cmd_sync_specs[] = {
    &orders_spec, &customers_spec, &catalog_spec, NULL,
};

/* argv[0] is "orders" or "customers": 0 to go on, -1 after --help, else
 * the exit status. */
static int parse_args(int argc, char **argv, const struct bf_kind *kind, struct sync_args *a)
{
    const struct cmdo_spec *spec = kind == &BF_ORDERS ? &orders_spec : &customers_spec;
    int npos, rc;

    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->page_size = BC_V2_LIMIT_MAX;
    if ((rc = cmdo_parse(spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0)
        return cmdo_fail(spec, "unexpected argument '%s'", argv[1]);
    a->config = cmdu_config(a->config);
    if ((a->since == NULL) == (a->from_id == 0))
        return cmdo_fail(spec, "give exactly one of --since DATE and --from-id N");
    if (a->to_id != 0 && a->from_id != 0 && a->to_id < a->from_id)
        return cmdo_fail(spec, "--to-id must not be below --from-id");
    return 0;
}

/* ---- the run ------------------------------------------------------------------- */

/* A growable list of ids. */
struct idv {
    int64_t *v;
    size_t   n, cap;
};

static int idv_push(struct idv *l, int64_t id, struct mlc_err *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? l->cap * 2 : 256;
        int64_t *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = id;
    return MLC_OK;
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}


struct backfill {
    struct bc_client        *bc;
    struct store            *st;
    const struct sync_args  *a;
    char                     since[JDATE_ISO8601_SIZE]; /* normalised, "" when by id */
    char                     cutover[JDATE_ISO8601_SIZE]; /* orders.start, UTC; orders */
    char                     name[128];                 /* checkpoint watermark */
    int64_t                  resumed_after;             /* checkpoint at start */
    int64_t                  cursor;                    /* last id done */
    int64_t                  total;                     /* orders left at start, -1 unknown */
    int64_t                  seen;                      /* orders read this run */
    int64_t                  enqueued, coalesced, pages;
    int64_t                  held_left;                 /* ids skipped: job held */
    struct idv               held;                      /* ids whose job is held, sorted */
    bool                     held_oom;
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
            fprintf(stderr, "\r[%s] %" PRId64 "/%" PRId64 " %s", bar, b->seen, b->total,
                    b->a->kind->noun);
        } else {
            fprintf(stderr, "\r%" PRId64 " %s", b->seen, b->a->kind->noun);
        }
        if (last)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    if (b->total >= 0)
        fprintf(stderr, PROG ": %" PRId64 "/%" PRId64 " %s (after %s %" PRId64 ")\n",
                b->seen, b->total, b->a->kind->noun, b->a->kind->one, b->cursor);
    else
        fprintf(stderr, PROG ": %" PRId64 " %s (after %s %" PRId64 ")\n", b->seen,
                b->a->kind->noun, b->a->kind->one, b->cursor);
}

static void filter_of(const struct backfill *b, struct bc_order_filter *f)
{
    int64_t from = b->a->from_id > 0 ? b->a->from_id : 1;

    *f = (struct bc_order_filter)BC_ORDER_FILTER_INIT;
    f->line_items = false;
    f->sort = "id:asc";
    f->min_id = b->cursor + 1 > from ? b->cursor + 1 : from;
    f->max_id = b->a->to_id;
    f->min_date_created = b->since[0] != '\0' ? b->since
                        : b->cutover[0] != '\0' ? b->cutover : NULL;
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
        return mlc_err_set(e, MLC_EINVAL, "checkpoint %s holds '%s', not an id: "
                           "use --restart", b->name, buf);
    b->cursor = v;
    return MLC_OK;
}

/* Collects the ids whose job of the backfill's kind is HELD. */
static int held_cb(const struct store_job *j, void *ctx)
{
    struct backfill *b = ctx;
    const struct bf_kind *k = b->a->kind;
    size_t pl = strlen(k->key_prefix);
    long long id;

    if (strcmp(j->kind, k->job) != 0 || j->key == NULL ||
        strncmp(j->key, k->key_prefix, pl) != 0 || cmdu_parse_ll(j->key + pl, &id) != MLC_OK)
        return 0;
    if (idv_push(&b->held, id, NULL) != MLC_OK) {
        b->held_oom = true;
        return 1;
    }
    return 0;
}

/* A held job waits for a fix and a replay: a backfill leaves its id alone
 * (another job would only be held again), as the reconcile sweep does. */
static int load_held(struct backfill *b, struct mlc_err *e)
{
    int rc = store_job_list(b->st, STORE_JOB_HELD, 0, held_cb, b, e);

    if (rc == MLC_OK && b->held_oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for the held jobs");
    if (rc == MLC_OK && b->held.n > 1)
        qsort(b->held.v, b->held.n, sizeof(*b->held.v), cmp_id);
    return rc;
}

static bool is_held(const struct backfill *b, int64_t id)
{
    return b->held.n > 0 &&
           bsearch(&id, b->held.v, b->held.n, sizeof(*b->held.v), cmp_id) != NULL;
}

/* One page's jobs (ids ascending, all above the cursor) and the
 * checkpoint, in one transaction; an id whose job is held is passed. */
static int commit_ids(struct backfill *b, const int64_t *ids, size_t n, struct mlc_err *e)
{
    const struct bf_kind *k = b->a->kind;
    int64_t last = b->cursor, n_enq = 0, n_coal = 0, n_held = 0;
    char val[32];
    int rc;

    rc = store_tx_begin(b->st, e);
    if (rc != MLC_OK)
        return rc;
    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        char key[64];
        bool coalesced = false;

        if (ids[i] > last)
            last = ids[i];
        if (is_held(b, ids[i])) {
            n_held++;
            continue;
        }
        snprintf(key, sizeof(key), "%s%" PRId64, k->key_prefix, ids[i]);
        rc = store_job_enqueue(b->st, k->job, key, NULL, 0, NULL, &coalesced, e);
        if (rc != MLC_OK)
            break;
        if (coalesced)
            n_coal++;
        else
            n_enq++;
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
    b->held_left += n_held;
    b->seen += (int64_t)n;
    b->pages++;
    return MLC_OK;
}

/* The order ids of one page, each above the cursor. *ids: caller frees. */
static int order_ids(const struct backfill *b, const json_t *orders, int64_t **ids,
                     struct mlc_err *e)
{
    size_t i, n = json_array_size(orders);
    json_t *o;

    *ids = calloc(n > 0 ? n : 1, sizeof(**ids));
    if (*ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    json_array_foreach(orders, i, o) {
        json_t *jid = json_object_get(o, "id");

        if (!json_is_integer(jid) || json_integer_value(jid) <= b->cursor) {
            free(*ids);
            *ids = NULL;
            return mlc_err_set(e, MLC_EPROTO, "orders list: an order without a valid id "
                               "(after order %" PRId64 ")", b->cursor);
        }
        (*ids)[i] = (int64_t)json_integer_value(jid);
    }
    return MLC_OK;
}

static int commit_page(struct backfill *b, const json_t *orders, struct mlc_err *e)
{
    int64_t *ids = NULL;
    int rc = order_ids(b, orders, &ids, e);

    if (rc == MLC_OK)
        rc = commit_ids(b, ids, json_array_size(orders), e);
    free(ids);
    return rc;
}

static int walk_orders(struct backfill *b, bool *interrupted, struct mlc_err *e)
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
        if (rc != MLC_OK) {
            mlc_err_wrap(e, "orders after %" PRId64, b->cursor);
            return rc;
        }
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

static void count_orders(struct backfill *b)
{
    struct bc_order_filter f;
    struct mlc_err ce;

    filter_of(b, &f);
    b->total = 0;
    if (f.max_id != 0 && f.min_id > f.max_id)
        return;
    mlc_err_clear(&ce);
    if (bc_orders_count(b->bc, &f, &b->total, &ce) != MLC_OK) {
        fprintf(stderr, PROG ": cannot count the orders (%s): going on without a total\n",
                ce.msg);
        b->total = -1;
    }
}

/* ---- customers ----------------------------------------------------------------- */

/* Whether a customer id is still to do: in the range and after the cursor. */
static bool customer_wanted(const struct backfill *b, int64_t id)
{
    return id > b->cursor && id >= b->a->from_id &&
           (b->a->to_id == 0 || id <= b->a->to_id);
}

/* The ids of one page of the customers list, the wanted ones kept. */
static int customer_page_ids(const struct backfill *b, const json_t *page, struct idv *out,
                             struct mlc_err *e)
{
    size_t i;
    json_t *c;

    json_array_foreach(page, i, c) {
        json_t *jid = json_object_get(c, "id");

        if (!json_is_integer(jid) || json_integer_value(jid) <= 0)
            return mlc_err_set(e, MLC_EPROTO, "customers list: a customer without a valid id");
        if (customer_wanted(b, (int64_t)json_integer_value(jid)) &&
            idv_push(out, (int64_t)json_integer_value(jid), e) != MLC_OK)
            return MLC_ENOMEM;
    }
    return MLC_OK;
}

/* Every wanted customer id, ascending and distinct. Only the ids are kept,
 * page by page: the list has neither an id filter nor an id order. */
static int customer_ids(struct backfill *b, struct idv *out, bool *interrupted,
                        struct mlc_err *e)
{
    struct bc_pager p;
    struct bc_url u;
    size_t i, w = 0;
    int rc;

    *interrupted = false;
    bc_url_init(&u, "/v3/customers");
    if (b->since[0] != '\0')
        bc_url_add(&u, "date_modified:min", b->since);
    rc = bc_pager_init(&p, b->bc, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    bc_url_free(&u);
    if (rc != MLC_OK)
        return rc;
    for (;;) {
        json_t *page = NULL;

        if (sync_stop) {
            *interrupted = true;
            break;
        }
        rc = bc_pager_next(&p, &page, e);
        if (rc != MLC_OK || page == NULL)
            break;
        rc = customer_page_ids(b, page, out, e);
        json_decref(page);
        if (rc != MLC_OK)
            break;
    }
    bc_pager_free(&p);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "customers list");
        return rc;
    }
    if (out->n > 0)
        qsort(out->v, out->n, sizeof(*out->v), cmp_id);
    for (i = 0; i < out->n; i++)
        if (w == 0 || out->v[i] != out->v[w - 1])
            out->v[w++] = out->v[i];
    out->n = w;
    return MLC_OK;
}

static int walk_customers(struct backfill *b, bool *interrupted, struct mlc_err *e)
{
    struct idv ids = { 0 };
    size_t at = 0, step = (size_t)b->a->page_size;
    int rc;

    rc = customer_ids(b, &ids, interrupted, e);
    b->total = (int64_t)ids.n;
    while (rc == MLC_OK && !*interrupted && at < ids.n) {
        size_t n = ids.n - at < step ? ids.n - at : step;

        if (sync_stop) {
            *interrupted = true;
            break;
        }
        rc = commit_ids(b, ids.v + at, n, e);
        if (rc == MLC_OK)
            progress(b, false);
        at += n;
    }
    free(ids.v);
    return rc;
}

static void audit_run(struct backfill *b, const char *outcome)
{
    json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "enqueued",
                          (json_int_t)b->enqueued, "coalesced", (json_int_t)b->coalesced,
                          "held", (json_int_t)b->held_left, "pages",
                          (json_int_t)b->pages, "last_id", (json_int_t)b->cursor,
                          "resumed_after", (json_int_t)b->resumed_after,
                          "restart", b->a->restart);
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    struct mlc_err e;
    char actor[96];

    json_decref(d);
    mlc_err_clear(&e);
    cmdu_actor(actor, sizeof(actor));
    if (store_audit_add(b->st, &(struct store_audit){
            .actor = actor, .entity = b->name, .action = "backfill", .outcome = outcome,
            .detail = text }, &e) != MLC_OK)
        fprintf(stderr, PROG ": audit: %s\n", e.msg);
    free(text);
}

static int run(struct backfill *b, struct mlc_err *e)
{
    const struct bf_kind *k = b->a->kind;
    bool interrupted = false;
    int rc;

    rc = load_checkpoint(b, e);
    if (rc == MLC_OK)
        rc = load_held(b, e);
    if (rc != MLC_OK)
        return rc;
    b->resumed_after = b->cursor;
    if (b->cursor > 0)
        fprintf(stderr, PROG ": resuming %s after %s %" PRId64 " (--restart starts over)\n",
                b->name, k->one, b->cursor);
    b->total = -1;
    if (k == &BF_ORDERS) {
        count_orders(b);
        rc = walk_orders(b, &interrupted, e);
    } else {
        rc = walk_customers(b, &interrupted, e);
    }
    if (b->tty && b->seen > 0)
        fputc('\n', stderr);
    if (rc != MLC_OK) {
        audit_run(b, "error");
        return rc;
    }
    if (interrupted) {
        audit_run(b, "interrupted");
        fprintf(stderr, PROG ": interrupted after %s %" PRId64 " (%" PRId64
                " enqueued): run the same command again to resume\n", k->one, b->cursor,
                b->enqueued);
        return MLC_ESTATE;
    }
    audit_run(b, "ok");
    printf("enqueued %" PRId64 " %s jobs (%" PRId64 " already waiting) from %" PRId64
           " %s; checkpoint %s at %s %" PRId64 "\n",
           b->enqueued, k->job, b->coalesced, b->seen, k->noun, b->name, k->one, b->cursor);
    if (b->held_left > 0)
        printf("left alone %" PRId64 " %s whose job is held: fix the cause (mlc held), then "
               "mlc replay\n", b->held_left, k->noun);
    return MLC_OK;
}

/* ---- setup ------------------------------------------------------------------------ */

static int checkpoint_name(struct backfill *b, struct mlc_err *e)
{
    const struct sync_args *a = b->a;
    char to[32] = "";
    int64_t t;
    int rc;

    if (a->to_id > 0)
        snprintf(to, sizeof(to), ":to=%lld", a->to_id);
    if (a->since != NULL) {
        if ((rc = jdate_iso8601_parse(a->since, &t, e)) != MLC_OK) {
            mlc_err_wrap(e, "--since");
            return rc;
        }
        if ((rc = jdate_iso8601_format(t, b->since, sizeof(b->since), e)) != MLC_OK) {
            mlc_err_wrap(e, "--since");
            return rc;
        }
        snprintf(b->name, sizeof(b->name), "backfill:%s:since=%s%s", a->kind->noun, b->since,
                 to);
    } else {
        snprintf(b->name, sizeof(b->name), "backfill:%s:from=%lld%s", a->kind->noun,
                 a->from_id, to);
    }
    return MLC_OK;
}

/* The go-live cutover against an orders range (see the top). */
static int check_cutover(struct backfill *b, const struct mlc_config *cfg, struct mlc_err *e)
{
    const struct cfg_orders *c = &cfg->orders;
    const struct sync_args *a = b->a;
    int64_t since = 0;

    if (a->kind != &BF_ORDERS)
        return MLC_OK;
    if (a->since != NULL && (jdate_iso8601_parse(b->since, &since, e) != MLC_OK ||
                             since < c->start_s))
        return mlc_err_set(e, MLC_EINVAL, "--since %s is before the go-live cutover "
                           "(orders.start %s in %s): orders created before it were keyed by "
                           "hand and are never posted. Give --since %s or later; to post "
                           "older orders deliberately, move orders.start back first",
                           a->since, c->start, cfg->path, c->start);
    if (a->from_id > 0 && a->from_id < c->start_id)
        return mlc_err_set(e, MLC_EINVAL, "--from-id %lld is below the go-live cutover "
                           "(orders.start_id %d in %s): those orders are never posted. Give "
                           "--from-id %d or more; to post older orders deliberately, move "
                           "orders.start_id first", a->from_id, c->start_id, cfg->path,
                           c->start_id);
    if (jdate_iso8601_format(c->start_s, b->cutover, sizeof(b->cutover), e) != MLC_OK)
        return MLC_EINVAL;
    if (a->since == NULL)
        fprintf(stderr, PROG ": only orders created at or after the go-live cutover "
                "(orders.start %s) are enqueued\n", c->start);
    return MLC_OK;
}

struct clients {
    struct vault      *vault;
    struct mlc_secret *token;
    struct budget     *budget;
    struct bc_client  *bc;
};

static void clients_free(struct clients *c)
{
    bc_client_free(c->bc);
    budget_free(c->budget);
    secret_free(c->token);
    vault_free(c->vault);
    memset(c, 0, sizeof(*c));
}

/* The BigCommerce token from the credential store, the request budget (the
 * daemons' own when it is shared) and a client. */
static int clients_open(const struct mlc_config *cfg, struct store *st, struct clients *c,
                        struct mlc_err *e)
{
    int rc;

    memset(c, 0, sizeof(*c));
    rc = credentials_open_vault(cfg, &c->vault, e);
    if (rc == MLC_OK)
        rc = credentials_load(c->vault, st, cfg->bigcommerce.token_ref, &c->token, e);
    if (rc == MLC_OK)
        rc = budget_new(cfg, &c->budget, e);
    if (rc == MLC_OK)
        rc = bc_client_new(&cfg->bigcommerce, c->token, budget_pacer(c->budget), &c->bc, e);
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

/* ---- catalog ---------------------------------------------------------------------- */

static json_t *cat_stats_json(const struct cat_stats *s, bool ok, const char *error)
{
    json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:s, s:s}}",
                          "ok", ok,
                          "item_rows", (json_int_t)s->item_rows,
                          "price_rows", (json_int_t)s->price_rows,
                          "items", (json_int_t)s->items,
                          "no_price", (json_int_t)s->no_price,
                          "price_updates", (json_int_t)s->price_updates,
                          "name_updates", (json_int_t)s->name_updates,
                          "unchanged", (json_int_t)s->unchanged,
                          "created", (json_int_t)s->created,
                          "missing", (json_int_t)s->missing,
                          "failed", (json_int_t)s->failed,
                          "watermarks", CAT_WM_ITEMS, s->items_wm,
                          CAT_WM_PRICES, s->prices_wm);

    if (o != NULL && error != NULL)
        json_object_set_new(o, "error", jx_text(error));
    return o;
}

static void cat_stats_print(const struct cat_stats *s, bool ok)
{
    printf("catalog poll %s\n", ok ? "done" : "FAILED (watermarks unchanged)");
    printf("  rows read      %zu F4101, %zu F4106\n", s->item_rows, s->price_rows);
    printf("  items          %zu (%zu without an effective price)\n", s->items, s->no_price);
    printf("  price updates  %zu\n", s->price_updates);
    printf("  name updates   %zu\n", s->name_updates);
    printf("  unchanged      %zu\n", s->unchanged);
    printf("  created        %zu\n", s->created);
    printf("  missing        %zu\n", s->missing);
    printf("  failed         %zu\n", s->failed);
    printf("  watermarks     %s=%s %s=%s\n", CAT_WM_ITEMS, s->items_wm[0] ? s->items_wm : "-",
           CAT_WM_PRICES, s->prices_wm[0] ? s->prices_wm : "-");
}

/* Who asked for the poll: one audit row (entity "catalog", action "sync",
 * the OS user) beside the poll's own row (actor "scheduler"). A failed
 * write is only reported. */
static void audit_poll(struct store *st, const char *error)
{
    json_t *d = error != NULL ? json_pack("{s:s}", "error", error) : NULL;
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    char actor[96];
    struct mlc_err e;

    json_decref(d);
    mlc_err_clear(&e);
    cmdu_actor(actor, sizeof(actor));
    if (store_audit_add(st, &(struct store_audit){
            .actor = actor, .entity = "catalog", .action = "sync",
            .outcome = error == NULL ? "ok" : "error", .detail = text }, &e) != MLC_OK)
        fprintf(stderr, PROG ": audit: %s\n", e.msg);
    free(text);
}

/* The poll with an env built like the daemon's. 0 ok, 1 failed. */
static int catalog_poll_now(const char *config, bool json)
{
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct env *env = NULL;
    struct cat_stats stats;
    struct mlc_err e;
    int rc, status = 1;

    memset(&stats, 0, sizeof(stats));
    if (cmdu_open(PROG, config, &cfg, &st) != 0)
        return 1;
    mlc_err_clear(&e);
    if (!cfg->catalog.enabled) {
        fprintf(stderr, PROG ": catalog.enabled is false in %s: set it to true to sync the "
                "catalog\n", config);
        goto out;
    }
    if (tz_init(cfg->posting.timezone != NULL ? cfg->posting.timezone : "UTC", &e) != MLC_OK ||
        env_new(cfg, st, &env, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        goto out;
    }
    rc = cat_poll(env, st, cfg, store_now_ms(st), &stats, &e);
    if (rc != MLC_OK)
        fprintf(stderr, PROG ": catalog poll failed: %s\n", e.msg);
    audit_poll(st, rc == MLC_OK ? NULL : e.msg);
    if (json) {
        json_t *o = cat_stats_json(&stats, rc == MLC_OK, rc == MLC_OK ? NULL : e.msg);

        status = cmdu_print_json(PROG, o);
        json_decref(o);
    } else {
        cat_stats_print(&stats, rc == MLC_OK);
        status = 0;
    }
    if (rc != MLC_OK)
        status = 1;
out:
    env_free(env);
    store_close(st);
    cfg_unref(cfg);
    return status;
}

/* argv[0] is "catalog". */
static int sync_catalog(int argc, char **argv)
{
    struct catalog_args a = { NULL, false };
    int npos, rc;

    if ((rc = cmdo_parse(&catalog_spec, argc, argv, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos != 0)
        return cmdo_fail(&catalog_spec, "unexpected argument %s", argv[1]);
    return catalog_poll_now(cmdu_config(a.config), a.json);
}

/* ---- backfills -------------------------------------------------------------------- */

static int sync_backfill(int argc, char **argv, const struct bf_kind *kind)
{
    struct sync_args a;
    struct backfill b;
    struct clients c = { 0 };
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct mlc_err e;
    int rc, status = 1;

    if ((status = parse_args(argc, argv, kind, &a)) != 0)
        return status < 0 ? 0 : status;
    status = 1;
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
    /* Jobs nobody would run are not queued (the daemon asks the same). */
    if (jobkind_check(cfg, kind->job, &e) != MLC_OK) {
        const struct jobkind *jk = jobkind_find(kind->job);

        fprintf(stderr, PROG ": %s is false in %s: %s jobs would never run; set it to "
                "true (and restart the daemon) to sync %s\n",
                jk != NULL && jk->enabled_by != NULL ? jk->enabled_by : kind->job, a.config,
                kind->job, kind->noun);
        store_close(st);
        cfg_unref(cfg);
        return 1;
    }
    rc = check_cutover(&b, cfg, &e);
    if (rc == MLC_OK)
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
    free(b.held.v);
    store_close(st);
    cfg_unref(cfg);
    return status;
}

int cmd_sync(int argc, char **argv)
{
    size_t which = 0;
    int rc = cmdo_sub("sync", cmd_sync_specs, argc, argv, &which);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (which == 0)
        return sync_backfill(argc - 1, argv + 1, &BF_ORDERS);
    if (which == 1)
        return sync_backfill(argc - 1, argv + 1, &BF_CUSTOMERS);
    return sync_catalog(argc - 1, argv + 1);
}
