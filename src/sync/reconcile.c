#include "sync/reconcile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "core/log.h"
#include "core/order.h"
#include "sync/cutover.h"
#include "sync/posting.h"

#define MOD   "reconcile"
#define ACTOR "scheduler"

bool recon_order_needs_sync(int64_t status_id, bool sale_posted, bool reversal_posted,
                            const struct cfg_posting *cfg)
{
    struct post_facts f = { .sale_posted = sale_posted, .reversal_posted = reversal_posted };

    return post_decide(status_id, &f, cfg).action != POST_ACT_NOTHING;
}

/* ---- small collections ------------------------------------------------------ */

struct ids {
    int64_t *v;
    size_t   n, cap;
};

static int ids_push(struct ids *s, int64_t id, struct mlc_err *e)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        int64_t *v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu order ids", cap);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
    return MLC_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void ids_sort_unique(struct ids *s)
{
    size_t k = 0;

    if (s->n == 0)
        return;
    qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i] != s->v[k])
            s->v[++k] = s->v[i];
    s->n = k + 1;
}

/* The order.sync jobs in one state, sorted by key, each with when it was
 * enqueued (store clock, Unix ms). */
struct jent {
    char   *key;
    int64_t created_ms;
};

struct jobset {
    struct jent *v;
    size_t       n, cap;
    bool         oom;
};

static int jobset_cb(const struct store_job *j, void *ctx)
{
    struct jobset *h = ctx;

    if (strcmp(j->kind, RECON_JOB_KIND) != 0 || j->key == NULL)
        return 0;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct jent *v = realloc(h->v, cap * sizeof(*v));

        if (v == NULL) {
            h->oom = true;
            return 1;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n].created_ms = j->created_at;
    if ((h->v[h->n].key = strdup(j->key)) == NULL) {
        h->oom = true;
        return 1;
    }
    h->n++;
    return 0;
}

static int cmp_jent(const void *a, const void *b)
{
    return strcmp(((const struct jent *)a)->key, ((const struct jent *)b)->key);
}

static void jobset_free(struct jobset *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].key);
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* The jobs in state a or b (b < 0: a only), sorted by key. */
static int jobset_load(struct store *st, int a, int b, struct jobset *h, struct mlc_err *e)
{
    int rc = store_job_list(st, a, 0, jobset_cb, h, e);

    if (rc == MLC_OK && b >= 0)
        rc = store_job_list(st, b, 0, jobset_cb, h, e);
    if (rc == MLC_OK && h->oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for the job list");
    if (rc == MLC_OK && h->n > 1)
        qsort(h->v, h->n, sizeof(*h->v), cmp_jent);
    return rc;
}

/* order_id's entry in h, or NULL. */
static const struct jent *jobset_find(const struct jobset *h, int64_t order_id)
{
    char key[32];
    struct jent k = { .key = key };

    snprintf(key, sizeof(key), "order:%" PRId64, order_id);
    return h->n > 0 ? bsearch(&k, h->v, h->n, sizeof(*h->v), cmp_jent) : NULL;
}

struct sweep {
    struct store             *st;
    const struct mlc_config  *cfg;
    struct recon_stats       *out;
    struct jobset             held;
    struct jobset             live;      /* ready or running when the sweep began */
    struct ids                todo;      /* order ids to enqueue */
    int64_t                   orders_max, refunds_max;  /* newest seen, Unix s; -1 none */
};

/* Whether the ledger has a POSTED row for key. */
static int ledger_posted(struct store *st, const char *key, bool *posted, struct mlc_err *e)
{
    struct store_ledger l;
    int rc;

    memset(&l, 0, sizeof(l));
    *posted = false;
    rc = store_ledger_get(st, key, &l, e);
    if (rc == MLC_ENOTFOUND) {
        mlc_err_clear(e);
        return MLC_OK;
    }
    if (rc == MLC_OK)
        *posted = l.state == STORE_LEDGER_POSTED;
    store_ledger_clear(&l);
    return rc;
}

static int key_posted(struct sweep *s, int64_t order_id, enum post_kind kind, int64_t refund_id,
                      bool *posted, struct mlc_err *e)
{
    char key[POST_KEY_MAX + 1];

    if (post_key(s->cfg->posting.key_prefix, order_id, kind, refund_id, key, sizeof(key)) !=
        MLC_OK)
        return mlc_err_set(e, MLC_ETOOBIG, "order %" PRId64 ": idempotency key too long",
                           order_id);
    return ledger_posted(s->st, key, posted, e);
}

/* Whether order_id is before the go-live cutover (by its id, or by created
 * when known) with its skip already audited by the order flow: nothing to
 * do, ever. Before the cutover but not audited yet: one job, whose run
 * audits the skip. created < 0 (a refund: its order's date is not listed):
 * the audited skip alone decides. */
static int skipped_before(struct sweep *s, int64_t order_id, int64_t created, bool *yes,
                          struct mlc_err *e)
{
    char entity[40];

    *yes = false;
    if (created >= 0 && !cutover_before(&s->cfg->orders, order_id, created))
        return MLC_OK;
    snprintf(entity, sizeof(entity), "order:%" PRId64, order_id);
    return cutover_skip_audited(s->st, entity, yes, e);
}

/* Queues order_id unless its job is held, or unless a job that was ready
 * or running when the sweep began will see the change at changed_s (Unix
 * s; < 0 unknown): that job was enqueued more than the overlap (the clock
 * skew allowance) after the change, and a job fetches its order after it
 * was enqueued, so it reads the order as changed, whether it is still
 * waiting, runs, or was done while the sweep read. A second job would
 * only fetch the order again (with a backlog being drained, most of it). */
static int want(struct sweep *s, int64_t order_id, int64_t changed_s, struct mlc_err *e)
{
    const struct jent *run;

    if (jobset_find(&s->held, order_id) != NULL) {
        s->out->held_skipped++;
        return MLC_OK;
    }
    run = changed_s >= 0 ? jobset_find(&s->live, order_id) : NULL;
    if (run != NULL &&
        run->created_ms > (changed_s + (int64_t)s->cfg->schedule.reconcile_overlap) * 1000) {
        s->out->in_flight++;
        return MLC_OK;
    }
    return ids_push(&s->todo, order_id, e);
}

static int on_order(struct sweep *s, const json_t *o, struct mlc_err *e)
{
    json_t *jid = json_object_get(o, "id"), *jst = json_object_get(o, "status_id");
    const char *mod = json_string_value(json_object_get(o, "date_modified"));
    const char *made = json_string_value(json_object_get(o, "date_created"));
    int64_t id, status, t, created = 0, changed = -1;
    bool sale = false, rev = false, skipped = false;
    struct mlc_err pe;
    int rc;

    if (!json_is_integer(jid) || json_integer_value(jid) <= 0 || !json_is_integer(jst))
        return mlc_err_set(e, MLC_EPROTO, "orders list: an order without a valid id or "
                           "status_id");
    id = json_integer_value(jid);
    status = json_integer_value(jst);
    s->out->orders_seen++;
    mlc_err_clear(&pe);
    if (jdate_rfc2822_parse(mod, &t, &pe) == MLC_OK) {
        changed = t;
        if (t > s->orders_max)
            s->orders_max = t;
    } else {
        log_warn(MOD, "order date_modified unreadable: not used for the watermark",
                 LF_INT("order", id), LF_ERR(&pe));
    }
    mlc_err_clear(&pe);
    if (jdate_rfc2822_parse(made, &created, &pe) != MLC_OK)
        created = 0;   /* unknown: the flow decides after its own fetch */
    if ((rc = skipped_before(s, id, created, &skipped, e)) != MLC_OK)
        return rc;
    if (skipped) {
        s->out->before_cutover++;
        return MLC_OK;
    }
    if (status == ORDER_STATUS_CANCELLED || post_is_paid(status, &s->cfg->posting)) {
        rc = key_posted(s, id, POST_KIND_SALE, 0, &sale, e);
        if (rc == MLC_OK)
            rc = key_posted(s, id, POST_KIND_REVERSAL, 0, &rev, e);
        if (rc != MLC_OK)
            return rc;
    }
    if (!recon_order_needs_sync(status, sale, rev, &s->cfg->posting)) {
        s->out->reflected++;
        return MLC_OK;
    }
    return want(s, id, changed, e);
}

static int on_refund(struct sweep *s, const json_t *r, struct mlc_err *e)
{
    json_t *jid = json_object_get(r, "id"), *joid = json_object_get(r, "order_id");
    const char *created = json_string_value(json_object_get(r, "created"));
    int64_t id, oid, t, changed = -1;
    bool posted = false, rev = false, skipped = false;
    struct mlc_err pe;
    int rc;

    if (!json_is_integer(jid) || !json_is_integer(joid) || json_integer_value(joid) <= 0)
        return mlc_err_set(e, MLC_EPROTO, "refunds list: a refund without a valid id or "
                           "order_id");
    id = json_integer_value(jid);
    oid = json_integer_value(joid);
    s->out->refunds_seen++;
    mlc_err_clear(&pe);
    if (jdate_iso8601_parse(created, &t, &pe) == MLC_OK) {
        changed = t;
        if (t > s->refunds_max)
            s->refunds_max = t;
    } else {
        log_warn(MOD, "refund created date unreadable: not used for the watermark",
                 LF_INT("refund", id), LF_INT("order", oid), LF_ERR(&pe));
    }
    rc = key_posted(s, oid, POST_KIND_REFUND, id, &posted, e);
    if (rc == MLC_OK && !posted)
        rc = key_posted(s, oid, POST_KIND_REVERSAL, 0, &rev, e);
    if (rc != MLC_OK)
        return rc;
    /* After a reversal the order nets to zero: the flow holds such a refund
     * when it runs for another reason, the sweep does not chase it. */
    if (posted || rev) {
        s->out->reflected++;
        return MLC_OK;
    }
    if ((rc = skipped_before(s, oid, -1, &skipped, e)) != MLC_OK)
        return rc;
    if (skipped) {
        s->out->before_cutover++;
        return MLC_OK;
    }
    return want(s, oid, changed, e);
}

/* Reads every page of p through fn. */
static int walk(struct sweep *s, struct bc_pager *p, size_t *seen,
                int (*fn)(struct sweep *, const json_t *, struct mlc_err *),
                struct mlc_err *e)
{
    json_t *items = NULL;
    int rc;

    for (;;) {
        size_t i;
        json_t *it;

        rc = bc_pager_next(p, &items, e);
        if (rc != MLC_OK || items == NULL)
            return rc;
        json_array_foreach(items, i, it) {
            rc = fn(s, it, e);
            if (rc != MLC_OK)
                break;
        }
        json_decref(items);
        if (rc != MLC_OK)
            return rc;
        if (*seen > RECON_MAX_ITEMS)
            return mlc_err_set(e, MLC_ETOOBIG, "more than %d items in one sweep window: "
                               "enqueue the backlog with `mlc sync orders --since`",
                               RECON_MAX_ITEMS);
    }
}

/* The watermark name's value in Unix seconds, or *found false. */
static int wm_get(struct store *st, const char *name, int64_t *out, bool *found,
                  struct mlc_err *e)
{
    char buf[64];
    int rc = store_watermark_get(st, name, buf, sizeof(buf), e);

    *found = false;
    if (rc == MLC_ENOTFOUND) {
        mlc_err_clear(e);
        return MLC_OK;
    }
    if (rc != MLC_OK)
        return rc;
    if ((rc = jdate_iso8601_parse(buf, out, e)) != MLC_OK) {
        mlc_err_wrap(e, "watermark %s", name);
        return rc;
    }
    *found = true;
    return MLC_OK;
}

/* The window start of one list and the watermark it ends with. */
struct window {
    const char *name;
    bool        found;
    int64_t     wm;     /* current watermark (or the first window's base) */
    int64_t     since;
};

/* The window starts at the watermark minus the overlap, never before the
 * cutover; the first one (no watermark) at the cutover itself. */
static int window_open(struct store *st, const char *name, int64_t cutover, int overlap,
                       struct window *w, char since_iso[JDATE_ISO8601_SIZE],
                       struct mlc_err *e)
{
    int rc;

    memset(w, 0, sizeof(*w));
    w->name = name;
    rc = wm_get(st, name, &w->wm, &w->found, e);
    if (rc != MLC_OK)
        return rc;
    if (!w->found)
        w->wm = cutover;
    w->since = w->wm - overlap > cutover ? w->wm - overlap : cutover;
    return jdate_iso8601_format(w->since, since_iso, JDATE_ISO8601_SIZE, e);
}

static int read_orders(struct sweep *s, struct bc_client *bc, struct mlc_err *e)
{
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    struct bc_pager p;
    int rc;

    f.line_items = false;
    f.min_date_modified = s->out->orders_since;
    rc = bc_orders_pager(bc, &f, BC_V2_LIMIT_MAX, &p, e);
    if (rc != MLC_OK)
        return rc;
    rc = walk(s, &p, &s->out->orders_seen, on_order, e);
    bc_pager_free(&p);
    return rc;
}

static int read_refunds(struct sweep *s, struct bc_client *bc, struct mlc_err *e)
{
    struct bc_refund_filter f = { .created_min = s->out->refunds_since };
    struct bc_pager p;
    int rc;

    rc = bc_refunds_pager(bc, &f, BC_V3_LIMIT_MAX, &p, e);
    if (rc != MLC_OK)
        return rc;
    rc = walk(s, &p, &s->out->refunds_seen, on_refund, e);
    bc_pager_free(&p);
    return rc;
}

static int audit_sweep(struct sweep *s, struct mlc_err *e)
{
    const struct recon_stats *o = s->out;
    json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s}",
                          "orders_seen", (json_int_t)o->orders_seen,
                          "refunds_seen", (json_int_t)o->refunds_seen,
                          "reflected", (json_int_t)o->reflected,
                          "held_skipped", (json_int_t)o->held_skipped,
                          "in_flight", (json_int_t)o->in_flight,
                          "before_cutover", (json_int_t)o->before_cutover,
                          "enqueued", (json_int_t)o->enqueued,
                          "coalesced", (json_int_t)o->coalesced,
                          "orders_since", o->orders_since,
                          "refunds_since", o->refunds_since,
                          "orders_watermark", o->orders_watermark,
                          "refunds_watermark", o->refunds_watermark);
    char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    int rc;

    json_decref(d);
    if (text == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for the sweep audit");
    rc = store_audit_add(s->st, &(struct store_audit){
        .actor = ACTOR, .entity = "reconcile", .action = "sweep", .outcome = "ok",
        .detail = text }, e);
    free(text);
    return rc;
}

/* Jobs, watermarks and the audit row in one transaction. */
static int commit(struct sweep *s, const struct window *wo, const struct window *wr,
                  struct mlc_err *e)
{
    int64_t om = s->orders_max > wo->wm ? s->orders_max : wo->wm;
    int64_t rm = s->refunds_max > wr->wm ? s->refunds_max : wr->wm;
    int rc;

    rc = jdate_iso8601_format(om, s->out->orders_watermark, JDATE_ISO8601_SIZE, e);
    if (rc == MLC_OK)
        rc = jdate_iso8601_format(rm, s->out->refunds_watermark, JDATE_ISO8601_SIZE, e);
    if (rc != MLC_OK)
        return rc;
    rc = store_tx_begin(s->st, e);
    if (rc != MLC_OK)
        return rc;
    for (size_t i = 0; rc == MLC_OK && i < s->todo.n; i++) {
        char key[32];
        bool coalesced = false;

        snprintf(key, sizeof(key), JOB_KEY_ORDER "%" PRId64, s->todo.v[i]);
        rc = store_job_enqueue(s->st, RECON_JOB_KIND, key, NULL, 0, NULL, &coalesced, e);
        if (rc == MLC_OK && coalesced)
            s->out->coalesced++;
        else if (rc == MLC_OK)
            s->out->enqueued++;
    }
    if (rc == MLC_OK)
        rc = store_watermark_set(s->st, RECON_WM_ORDERS, s->out->orders_watermark, e);
    if (rc == MLC_OK)
        rc = store_watermark_set(s->st, RECON_WM_REFUNDS, s->out->refunds_watermark, e);
    if (rc == MLC_OK)
        rc = audit_sweep(s, e);
    if (rc == MLC_OK)
        rc = store_tx_commit(s->st, e);
    if (rc != MLC_OK) {
        store_tx_rollback(s->st);
        s->out->enqueued = s->out->coalesced = 0;
    }
    return rc;
}

int recon_sweep(struct bc_client *bc, struct store *st, const struct mlc_config *cfg,
                int64_t now_ms, struct recon_stats *out, struct mlc_err *e)
{
    struct sweep s;
    struct window wo, wr;
    int64_t now_s = now_ms / 1000, cutover = cfg != NULL ? cfg->orders.start_s : 0;
    bool ahead;   /* before go-live: nothing can have changed since the cutover */
    int overlap;
    int rc;

    if (bc == NULL || st == NULL || cfg == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "recon_sweep: missing argument");
    memset(out, 0, sizeof(*out));
    /* Its jobs must have a handler (core/jobkind.h), like every enqueuer's. */
    if ((rc = jobkind_check(cfg, RECON_JOB_KIND, e)) != MLC_OK)
        return rc;
    memset(&s, 0, sizeof(s));
    s.st = st;
    s.cfg = cfg;
    s.out = out;
    s.orders_max = s.refunds_max = -1;
    overlap = cfg->schedule.reconcile_overlap > 0 ? cfg->schedule.reconcile_overlap : 0;

    rc = window_open(st, RECON_WM_ORDERS, cutover, overlap, &wo, out->orders_since, e);
    if (rc == MLC_OK)
        rc = window_open(st, RECON_WM_REFUNDS, cutover, overlap, &wr, out->refunds_since, e);
    ahead = rc == MLC_OK && wo.since > now_s && wr.since > now_s;
    if (rc == MLC_OK)
        rc = jobset_load(st, STORE_JOB_HELD, -1, &s.held, e);
    if (rc == MLC_OK)
        rc = jobset_load(st, STORE_JOB_READY, STORE_JOB_RUNNING, &s.live, e);
    if (rc == MLC_OK && !ahead && (rc = read_orders(&s, bc, e)) != MLC_OK)
        mlc_err_wrap(e, "reconcile: orders modified since %s", out->orders_since);
    if (rc == MLC_OK && !ahead && (rc = read_refunds(&s, bc, e)) != MLC_OK)
        mlc_err_wrap(e, "reconcile: refunds created since %s", out->refunds_since);
    if (rc == MLC_OK) {
        ids_sort_unique(&s.todo);
        rc = commit(&s, &wo, &wr, e);
    }
    if (rc == MLC_OK)
        log_debug(MOD, "sweep done", LF_UINT("enqueued", out->enqueued),
                  LF_UINT("coalesced", out->coalesced), LF_UINT("orders", out->orders_seen),
                  LF_UINT("refunds", out->refunds_seen), LF_STR("since", out->orders_since));
    jobset_free(&s.held);
    jobset_free(&s.live);
    free(s.todo.v);
    return rc;
}
