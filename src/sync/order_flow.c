#include "sync/order_flow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bc/bc_catalog.h"
#include "bc/bc_client.h"
#include "bc/bc_decode.h"
#include "core/log.h"
#include "core/order.h"
#include "core/tz.h"
#include "jde/ais_data.h"
#include "jde/ais_orch.h"
#include "jde/ais_session.h"
#include "sync/accounts.h"
#include "sync/posting.h"

/* A batched existence answer is trusted this long; older, the key is
 * looked up again right before its create (contract §3 wants the lookup
 * close to the create). */
#define LOOKUP_FRESH_MS 30000

/* The JDE header facts of a document as stored in its ledger request. */
struct docid {
    bool voucher;
    char company[6];
    char dct[3];
};

/* One key's answer from a batched existence lookup. */
struct lk_entry {
    char            key[64];
    struct docid    id;
    bool            ok;      /* answered (false: its query failed) */
    struct ais_docs docs;
};

/* The batch's existence answers (see prefetch). */
struct lk_cache {
    struct lk_entry *v;
    size_t           n;
    int64_t          at_ms;  /* monotonic time of the queries */
};

/* A ledger row of the order, copied out of the store's callback. */
struct lrow {
    char                   *key;
    char                   *kind;
    char                   *request;
    enum store_ledger_state state;
    int64_t                 doc_number;
    bool                    gone;     /* forgotten (or would be, dry run) */
};

struct fx {
    const struct flow_run    *r;
    const struct cfg_posting *pc;
    int64_t                   order_id;
    int64_t                   now;
    char                      entity[40];
    struct order              o;
    struct order_refund      *refunds;
    size_t                    n_refunds;
    struct lrow              *rows;
    size_t                    n_rows;
    /* What is posted: from the ledger, by this run, or (dry run) would be. */
    bool                      sale_posted, sale_doc_ok, reversal_posted;
    struct post_doc           sale;
    struct post_doc          *ref_docs;
    size_t                    n_ref_docs;
    json_t                   *report;  /* owned */
    json_t                   *docs;    /* borrowed from report */
    /* Batch mode. */
    struct lk_cache          *lk;      /* borrowed; NULL: every lookup live */
    json_t                   *refund_objs; /* this order's refunds, raw (owned) */
    bool                      found;   /* the list call returned the order */
    bool                      pre_sale;/* the decision before resolve is a sale */
    int                       rc;      /* MLC_OK while the run goes on */
    struct mlc_err            err;     /* the reason of a hold or retry */
};

int flow_order_key_parse(const char *key, int64_t *order_id, struct mlc_err *e)
{
    return flow_key_parse(key, FLOW_ORDER_KEY, order_id, e);
}

/* ---- audit and report ---------------------------------------------------- */

static void audit(struct fx *x, const char *action, const char *outcome, json_t *detail)
{
    flow_audit(x->r, x->entity, action, outcome, detail);
}

/* A new report entry for a document (borrowed: owned by the report). */
static json_t *report_doc(struct fx *x, const char *key, const char *kind, const char *action,
                          const char *why)
{
    json_t *d = json_pack("{s:s, s:s, s:s}", "key", key, "kind", kind, "action", action);

    if (d == NULL)
        return NULL;
    if (why != NULL)
        json_object_set_new(d, "why", json_string(why));
    json_array_append_new(x->docs, d);
    return d;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (o != NULL && v != NULL)
        json_object_set_new(o, k, json_string(v));
}

/* ---- helpers -------------------------------------------------------------- */

/* When the order became paid: its first settled transaction (0: unknown). */
static int64_t paid_at(const struct order *o)
{
    int64_t t = 0;

    for (size_t i = 0; i < o->n_txns; i++)
        if (order_txn_is_settled(&o->txns[i]) && o->txns[i].date_created > 0 &&
            (t == 0 || o->txns[i].date_created < t))
            t = o->txns[i].date_created;
    return t;
}

/* Engine inputs for a document dated from unix time t (the zone's offset
 * at that instant). */
static struct post_opts opts_at(const struct fx *x, int64_t t)
{
    struct post_opts o = {
        .utc_offset_min = tz_offset_min(t > 0 ? t : x->now),
        .now = x->now,
        .paid_at = paid_at(&x->o),
        .strict_sku = x->pc->strict_sku_mapping,
    };

    return o;
}

static int64_t sale_time(const struct fx *x)
{
    switch (x->pc->gl_date) {
    case CFG_GLDATE_PAID:    return paid_at(&x->o);
    case CFG_GLDATE_POSTING: return x->now;
    default:                 return x->o.date_created;
    }
}

static void key_of(const struct fx *x, enum post_kind k, int64_t refund_id, char *buf,
                   size_t cap)
{
    if (post_key(x->pc->key_prefix, x->order_id, k, refund_id, buf, cap) != MLC_OK)
        snprintf(buf, cap, "order %" PRId64 " %s", x->order_id, post_kind_name(k));
}

/* ---- fetch ------------------------------------------------------------------ */

static int load_products(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    json_t *arr = NULL;
    int rc = bc_order_products(c, o->id, &arr, e);

    if (rc == MLC_OK)
        rc = bcd_products(arr, o, e);
    json_decref(arr);
    return rc;
}

/* GET /v2/orders/{id}/fees, for a store that did not embed them. */
static int load_fees(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    struct bc_resp resp = { 0 };
    struct bc_url u;
    const json_t *arr;
    char path[64];
    int rc;

    snprintf(path, sizeof(path), "/v2/orders/%" PRId64 "/fees", o->id);
    bc_url_init(&u, path);
    rc = bc_call(c, "GET", &u, NULL, true, &resp, e);
    if (rc == MLC_OK) {
        arr = json_is_object(resp.body) ? json_object_get(resp.body, "fees") : resp.body;
        rc = bcd_fees(arr, o, e);
    }
    bc_resp_clear(&resp);
    bc_url_free(&u);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Catalog categories of the order's products (one call for up to 250). */
static int load_categories(struct bc_client *c, struct order *o, struct mlc_err *e)
{
    struct bc_product *prods = NULL;
    size_t n = 0, np = 0;
    int64_t *ids = calloc(o->n_products + 1, sizeof(*ids));
    json_t *root = NULL, *data;
    int rc = MLC_OK;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_products; i++)
        if (o->products[i].product_id > 0)
            ids[n++] = o->products[i].product_id;
    qsort(ids, n, sizeof(*ids), cmp_i64);
    if (n > 0)
        rc = bc_products_by_ids(c, ids, n, false, &prods, &np, e);
    if (rc == MLC_OK && np > 0) {
        root = json_object();
        data = json_array();
        if (root == NULL || data == NULL || json_object_set_new(root, "data", data) != 0) {
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < np; i++)
            if (prods[i].raw != NULL)
                json_array_append(data, prods[i].raw);
        rc = bcd_product_categories(root, o, e);
    }
out:
    json_decref(root);
    bc_products_free(prods, np);
    free(ids);
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends the run of x with rc (a hold reason or an error already in x->err). */
static void fx_stop(struct fx *x, int rc)
{
    if (x->rc == MLC_OK)
        x->rc = rc;
}

static bool alive(const struct fx *x)
{
    return x->rc == MLC_OK;
}

/* An error of a call made for the whole batch, into every order it
 * concerned (want: those found by the list call only). */
static void batch_error(struct fx *xs, size_t n, bool want_found, int rc,
                        const struct mlc_err *be)
{
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (!alive(x) || (want_found && !x->found))
            continue;
        x->err = *be;
        mlc_err_wrap(&x->err, "order %" PRId64 ": fetch", x->order_id);
        audit(x, "fetch", "error", json_pack("{s:s}", "error", x->err.msg));
        fx_stop(x, rc);
    }
}

static struct fx *fx_find(struct fx *xs, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (xs[i].order_id == id)
            return &xs[i];
    return NULL;
}

/* The orders of the batch with products and fees embedded: ranged list
 * calls (one per 250 ids close together). */
static int fetch_orders(struct bc_client *c, struct fx *xs, size_t n, struct mlc_err *e)
{
    int64_t *ids = calloc(n + 1, sizeof(*ids));
    json_t *arr = NULL, *o;
    size_t k = 0, i;
    int rc;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        if (alive(&xs[i]))
            ids[k++] = xs[i].order_id;
    rc = k > 0 ? bc_orders_by_ids(c, ids, k, true, &arr, e) : MLC_OK;
    free(ids);
    if (rc != MLC_OK)
        return rc;
    json_array_foreach(arr, i, o) {
        struct fx *x = fx_find(xs, n, (int64_t)json_integer_value(json_object_get(o, "id")));

        if (x == NULL || !alive(x) || x->found)
            continue;
        x->found = true;
        if (bcd_order(o, &x->o, &x->err) != MLC_OK)
            fx_stop(x, flow_hold(&x->err, "order %" PRId64 " cannot be read: %s",
                                 x->order_id, x->err.msg));
    }
    json_decref(arr);
    for (i = 0; i < n; i++)
        if (alive(&xs[i]) && !xs[i].found)
            fx_stop(&xs[i], flow_hold(&xs[i].err, "order %" PRId64
                                      " not found in BigCommerce", xs[i].order_id));
    return MLC_OK;
}

/* Gives one refund object to its order's list. */
static int refund_to_order(struct fx *xs, size_t n, json_t *obj, struct mlc_err *e)
{
    struct fx *x = fx_find(xs, n, (int64_t)json_integer_value(json_object_get(obj, "order_id")));

    if (x == NULL || !alive(x) || !x->found)
        return MLC_OK; /* not asked for (or already stopped) */
    if (x->refund_objs == NULL && (x->refund_objs = json_array()) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (json_array_append(x->refund_objs, obj) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

/* Every refund of the orders found: one cross-order list (order_id:in,
 * paged) per 250 orders instead of one call per order. */
static int fetch_refunds(struct bc_client *c, struct fx *xs, size_t n, struct mlc_err *e)
{
    int64_t *ids = calloc(n + 1, sizeof(*ids));
    size_t k = 0;
    int rc = MLC_OK;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (alive(&xs[i]) && xs[i].found)
            ids[k++] = xs[i].order_id;
    for (size_t at = 0; at < k && rc == MLC_OK; at += BC_V3_LIMIT_MAX) {
        struct bc_refund_filter f = { .order_ids = ids + at,
                                      .n_order_ids = k - at < BC_V3_LIMIT_MAX ? k - at
                                                                            : BC_V3_LIMIT_MAX };
        struct bc_pager pg;
        json_t *items = NULL, *obj;
        size_t i;

        if ((rc = bc_refunds_pager(c, &f, BC_V3_LIMIT_MAX, &pg, e)) != MLC_OK)
            break;
        rc = bc_pager_collect(&pg, 100000, &items, e);
        bc_pager_free(&pg);
        json_array_foreach(items, i, obj) {
            if (rc == MLC_OK)
                rc = refund_to_order(xs, n, obj, e);
        }
        json_decref(items);
    }
    free(ids);
    return rc;
}

/* What the list did not embed, the refunds decoded, and the categories:
 * per order, for one order found by the list. */
static int fetch_rest(struct bc_client *c, struct fx *x, struct mlc_err *e)
{
    json_t *root;
    int rc = MLC_OK;

    if (!x->o.have_products)
        rc = load_products(c, &x->o, e);
    if (rc == MLC_OK && !x->o.have_fees)
        rc = load_fees(c, &x->o, e);
    if (rc == MLC_OK) {
        json_t *arr = x->refund_objs != NULL ? json_incref(x->refund_objs) : json_array();

        root = arr != NULL ? json_pack("{s:o}", "data", arr) : NULL; /* o: stolen */
        rc = root == NULL ? mlc_err_set(e, MLC_ENOMEM, "out of memory")
                          : bcd_refunds(root, &x->o, &x->refunds, &x->n_refunds, e);
        json_decref(root);
    }
    if (rc == MLC_OK && x->pc->n_revenue_by_category > 0)
        rc = load_categories(c, &x->o, e);
    return rc;
}

/* The BigCommerce side of the batch: its orders, then its refunds, then
 * what each order still lacks. Transactions come later, for the orders
 * whose sale is due (fetch_txns). */
static void fetch_all(const struct flow_run *r, struct fx *xs, size_t n)
{
    struct bc_client *c = NULL;
    struct mlc_err be;
    uint64_t before;
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        k += alive(&xs[i]);
    if (k == 0)
        return;
    mlc_err_clear(&be);
    if ((rc = env_bc(r->env, &c, &be)) != MLC_OK) {
        batch_error(xs, n, false, rc, &be);
        return;
    }
    before = bc_client_requests(c);
    if ((rc = fetch_orders(c, xs, n, &be)) != MLC_OK) {
        batch_error(xs, n, false, rc, &be);
        return;
    }
    if ((rc = fetch_refunds(c, xs, n, &be)) != MLC_OK) {
        batch_error(xs, n, true, rc, &be);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];
        uint64_t own = bc_client_requests(c);

        if (!alive(x))
            continue;
        if ((rc = fetch_rest(c, x, &x->err)) != MLC_OK) {
            batch_error(x, 1, false, rc, &x->err);
            continue;
        }
        audit(x, "fetch", "ok",
              json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "status_id",
                        (json_int_t)x->o.status_id, "currency", x->o.currency,
                        "products", (json_int_t)x->o.n_products,
                        "refunds", (json_int_t)x->n_refunds,
                        "bc_calls", (json_int_t)(bc_client_requests(c) - own),
                        "batch_orders", (json_int_t)k,
                        "batch_bc_calls", (json_int_t)(own - before)));
        json_object_set_new(x->report, "status_id", json_integer(x->o.status_id));
        json_object_set_new(x->report, "currency", json_string(x->o.currency));
        json_object_set_new(x->report, "refunds", json_integer((json_int_t)x->n_refunds));
    }
}

/* The order's transactions (v3 has no cross-order list: one call). An
 * order with nothing to pay has nothing to fetch, unless its GL date is
 * the time it became paid. */
static int fetch_txns(struct fx *x, struct mlc_err *e)
{
    struct bc_client *c = NULL;
    int rc;

    if (x->o.have_txns)
        return MLC_OK;
    if (x->o.total_inc_tax == 0 && x->pc->gl_date != CFG_GLDATE_PAID) {
        x->o.have_txns = true;
        return MLC_OK;
    }
    if ((rc = env_bc(x->r->env, &c, e)) == MLC_OK)
        rc = bc_order_load_transactions(c, &x->o, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "order %" PRId64 ": fetch transactions", x->order_id);
        audit(x, "fetch", "error", json_pack("{s:s}", "error", e->msg));
        return rc;
    }
    audit(x, "fetch", "ok", json_pack("{s:s, s:I, s:I}", "what", "transactions",
                                      "transactions", (json_int_t)x->o.n_txns,
                                      "bc_calls", (json_int_t)1));
    return MLC_OK;
}

/* ---- ledger rows ------------------------------------------------------------ */

static void rows_free(struct lrow *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].kind);
        free(v[i].request);
    }
    free(v);
}

struct rows_ctx {
    struct lrow *v;
    size_t       n, cap;
    bool         oom;
};

static int collect_row(const struct store_ledger *l, void *ctx)
{
    struct rows_ctx *c = ctx;
    struct lrow *r;

    if (c->n == c->cap) {
        size_t ncap = c->cap > 0 ? c->cap * 2 : 8;
        struct lrow *nv = realloc(c->v, ncap * sizeof(*nv));

        if (nv == NULL) {
            c->oom = true;
            return 1;
        }
        c->v = nv;
        c->cap = ncap;
    }
    r = &c->v[c->n];
    memset(r, 0, sizeof(*r));
    r->key = strdup(l->key);
    r->kind = strdup(l->kind != NULL ? l->kind : "");
    r->request = l->request != NULL ? strdup(l->request) : NULL;
    r->state = l->state;
    r->doc_number = l->doc_number;
    c->n++;
    if (r->key == NULL || r->kind == NULL || (l->request != NULL && r->request == NULL)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

static int read_rows(struct fx *x, struct mlc_err *e)
{
    struct rows_ctx c = { 0 };
    int rc = store_ledger_list(x->r->st, x->entity, collect_row, &c, e);

    x->rows = c.v;
    x->n_rows = c.n;
    if (c.oom)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return rc;
}

static void docid_of(const struct fx *x, const char *request, struct docid *out)
{
    json_t *j = request != NULL ? json_loads(request, 0, NULL) : NULL;
    const char *mode = json_string_value(json_object_get(j, "mode"));
    const char *co = json_string_value(json_object_get(j, "company"));
    const char *dct = json_string_value(json_object_get(j, "document_type"));

    out->voucher = mode != NULL ? strcmp(mode, "voucher") == 0
                                : x->pc->mode == CFG_POST_VOUCHER;
    flow_kco_pad(co != NULL ? co : x->pc->company, out->company);
    snprintf(out->dct, sizeof(out->dct), "%s",
             dct != NULL ? dct : out->voucher ? "PV"
             : x->pc->document_type != NULL ? x->pc->document_type : "JE");
    json_decref(j);
}

/* The idempotency lookup (contract §3): documents in JDE with this key. */
/* The batch's answer for key with the same header facts, if fresh. */
static const struct lk_entry *lk_find(const struct lk_cache *lk, const struct docid *id,
                                      const char *key)
{
    if (lk == NULL || mono_ms() - lk->at_ms > LOOKUP_FRESH_MS)
        return NULL;
    for (size_t i = 0; i < lk->n; i++) {
        const struct lk_entry *en = &lk->v[i];

        if (en->ok && en->id.voucher == id->voucher && strcmp(en->key, key) == 0 &&
            strcmp(en->id.company, id->company) == 0 &&
            (id->voucher || strcmp(en->id.dct, id->dct) == 0))
            return en;
    }
    return NULL;
}

static int lookup(struct fx *x, const struct docid *id, const char *key, struct ais_docs *docs,
                  struct mlc_err *e)
{
    struct ais_session *s = env_ais(x->r->env);
    const struct lk_entry *en = lk_find(x->lk, id, key);
    int rc;

    if (en != NULL) {
        *docs = en->docs;
        rc = MLC_OK;
    } else if (id->voucher)
        rc = ais_voucher_exists(s, id->company, key, docs, e);
    else
        rc = ais_journal_exists(s, id->company, id->dct, key, docs, e);
    if (rc != MLC_OK) {
        audit(x, "lookup", "error", json_pack("{s:s, s:s}", "key", key, "error", e->msg));
        return rc;
    }
    audit(x, "lookup", docs->n > 0 ? "found" : "absent",
          json_pack("{s:s, s:s, s:I, s:b}", "key", key, "table", id->voucher ? "F0411" : "F0911",
                    "documents", (json_int_t)docs->n, "batched", en != NULL));
    if (docs->n > 1)
        log_warn("flow", "several JDE documents carry one key", LF_STR("key", key),
                 LF_UINT("documents", docs->n));
    return MLC_OK;
}

/* Records a document found in JDE as ours (adopted). */
static int adopt(struct fx *x, const char *key, const struct ais_docs *docs, const char *why,
                 struct mlc_err *e)
{
    int rc = MLC_OK;

    if (!x->r->dry_run)
        rc = store_ledger_mark_posted(x->r->st, key, docs->dct[0], docs->kco[0],
                                      docs->doc[0], 0, e);
    if (rc != MLC_OK)
        return rc;
    audit(x, "adopt", "ok",
          json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "key", key,
                    "doc_number", (json_int_t)docs->doc[0], "doc_type", docs->dct[0],
                    "company", docs->kco[0], "documents", (json_int_t)docs->n, "why", why));
    return MLC_OK;
}

/* Rows an earlier attempt left PENDING or UNKNOWN: the create may have
 * committed. JDE decides: found -> adopted, absent -> forgotten. */
static int resolve(struct fx *x, struct mlc_err *e)
{
    for (size_t i = 0; i < x->n_rows; i++) {
        struct lrow *r = &x->rows[i];
        struct ais_docs docs;
        struct docid id;
        json_t *rd;
        int rc;

        if (r->state == STORE_LEDGER_POSTED)
            continue;
        if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
            return rc;
        docid_of(x, r->request, &id);
        if ((rc = lookup(x, &id, r->key, &docs, e)) != MLC_OK)
            return rc;
        rd = report_doc(x, r->key, r->kind, docs.n > 0 ? "adopted" : "forgotten",
                        docs.n > 0 ? "left in doubt by an earlier attempt; found in JDE"
                                   : "left in doubt by an earlier attempt; not in JDE");
        if (docs.n > 0) {
            if ((rc = adopt(x, r->key, &docs, "in doubt, found in JDE", e)) != MLC_OK)
                return rc;
            r->state = STORE_LEDGER_POSTED;
            r->doc_number = docs.doc[0];
            json_object_set_new(rd, "doc_number", json_integer(docs.doc[0]));
        } else {
            if (!x->r->dry_run && (rc = store_ledger_forget(x->r->st, r->key, e)) != MLC_OK)
                return rc;
            r->gone = true;
        }
    }
    return MLC_OK;
}

static int push_ref_doc(struct fx *x, struct post_doc *d, struct mlc_err *e)
{
    struct post_doc *nv = realloc(x->ref_docs, (x->n_ref_docs + 1) * sizeof(*nv));

    if (nv == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    x->ref_docs = nv;
    x->ref_docs[x->n_ref_docs++] = *d;   /* moved */
    memset(d, 0, sizeof(*d));
    return MLC_OK;
}

static int doc_from_request(const char *request, struct post_doc *out, struct mlc_err *e)
{
    json_t *j = request != NULL ? json_loads(request, 0, NULL) : NULL;
    int rc;

    if (j == NULL)
        return mlc_err_set(e, MLC_EPROTO, "no readable document");
    rc = post_doc_from_json(j, out, e);
    json_decref(j);
    return rc;
}

/* The facts of the posted rows (and their documents, for a reversal). */
static int facts_from_rows(struct fx *x, struct mlc_err *e)
{
    for (size_t i = 0; i < x->n_rows; i++) {
        struct lrow *r = &x->rows[i];
        struct mlc_err de;
        struct post_doc d;
        int rc;

        if (r->gone || r->state != STORE_LEDGER_POSTED)
            continue;
        if (strcmp(r->kind, "reversal") == 0) {
            x->reversal_posted = true;
            continue;
        }
        if (strcmp(r->kind, "sale") != 0 && strcmp(r->kind, "refund") != 0)
            continue;
        memset(&d, 0, sizeof(d));
        rc = doc_from_request(r->request, &d, &de);
        if (strcmp(r->kind, "sale") == 0) {
            x->sale_posted = true;
            x->sale_doc_ok = rc == MLC_OK;
            if (rc == MLC_OK) {
                post_doc_clear(&x->sale);
                x->sale = d;
            }
        } else if (rc == MLC_OK) {
            if ((rc = push_ref_doc(x, &d, e)) != MLC_OK) {
                post_doc_clear(&d);
                return rc;
            }
        } else {
            /* Still counts as posted (skipped), but the reversal cannot
             * include it: the reversal holds (see do_reversal). */
            struct post_doc stub = { .kind = POST_KIND_REFUND };

            snprintf(stub.key, sizeof(stub.key), "%s", r->key);
            if ((rc = push_ref_doc(x, &stub, e)) != MLC_OK)
                return rc;
        }
    }
    return MLC_OK;
}

static bool refund_posted(const struct fx *x, const char *key)
{
    for (size_t i = 0; i < x->n_ref_docs; i++)
        if (strcmp(x->ref_docs[i].key, key) == 0)
            return true;
    return false;
}

/* ---- orchestration ---------------------------------------------------------- */

static int orch_lines(struct ais_orch_in *in, const struct post_doc *d, const char *grid,
                      struct mlc_err *e)
{
    int rc = MLC_OK;

    for (size_t i = 0; i < d->n_lines && rc == MLC_OK; i++) {
        const struct post_line *l = &d->lines[i];
        char acct[40];

        cfg_account_format(&l->account, acct, sizeof(acct));
        if ((rc = ais_orch_in_row(in, grid, e)) == MLC_OK &&
            (rc = ais_orch_row_str(in, "Account", acct, e)) == MLC_OK &&
            (rc = ais_orch_row_amount(in, "Amount", l->amount, d->exponent, e)) == MLC_OK &&
            l->remark[0] != '\0')
            rc = ais_orch_row_str(in, "Remark", l->remark, e);
    }
    return rc;
}

/* The inputs of MLC_AddJournalEntry / MLC_AddVoucher (contract §1). */
static int orch_inputs(const struct post_doc *d, struct ais_orch_in **out, struct mlc_err *e)
{
    struct ais_orch_in *in = NULL;
    char kco[6];
    int rc;

    *out = NULL;
    if ((rc = ais_orch_in_new(&in, e)) != MLC_OK)
        return rc;
    flow_kco_pad(d->company, kco);
    rc = ais_orch_in_str(in, "Company", kco, e);
    if (d->mode == CFG_POST_VOUCHER) {
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "SupplierNumber", d->supplier, e);
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "InvoiceNumber", d->key, e);
        if (rc == MLC_OK) rc = ais_orch_in_date(in, "InvoiceDate", &d->gl_date, e);
        if (rc == MLC_OK) rc = ais_orch_in_date(in, "GLDate", &d->gl_date, e);
        if (rc == MLC_OK) rc = ais_orch_in_amount(in, "GrossAmount", d->gross, d->exponent, e);
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "Currency", d->currency, e);
        if (rc == MLC_OK && d->explanation[0] != '\0')
            rc = ais_orch_in_str(in, "Remark", d->explanation, e);
        if (rc == MLC_OK) rc = orch_lines(in, d, "GLDistribution", e);
    } else {
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "DocumentType", d->doc_type, e);
        if (rc == MLC_OK) rc = ais_orch_in_date(in, "GLDate", &d->gl_date, e);
        if (rc == MLC_OK && d->explanation[0] != '\0')
            rc = ais_orch_in_str(in, "Explanation", d->explanation, e);
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "Reference", d->key, e);
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "Currency", d->currency, e);
        if (rc == MLC_OK) rc = ais_orch_in_str(in, "LedgerType", d->ledger_type, e);
        if (rc == MLC_OK) rc = orch_lines(in, d, "Lines", e);
    }
    if (rc != MLC_OK) {
        ais_orch_in_free(in);
        return rc;
    }
    *out = in;
    return MLC_OK;
}

/* Outputs of a successful create; MLC_ENOTFOUND without a document number. */
struct created {
    int64_t doc, batch;
    char    dct[4], kco[8];
};

static int created_of(const struct ais_orch_result *res, const struct post_doc *d,
                      struct created *out, struct mlc_err *e)
{
    struct mlc_err ie;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ais_orch_out_i64(res, "DocumentNumber", &out->doc, e)) != MLC_OK)
        return rc;
    if (ais_orch_out_i64(res, "BatchNumber", &out->batch, &ie) != MLC_OK)
        out->batch = 0;
    if (ais_orch_out_str(res, "DocumentType", out->dct, sizeof(out->dct), &ie) != MLC_OK)
        snprintf(out->dct, sizeof(out->dct), "%s", d->doc_type);
    if (ais_orch_out_str(res, "DocumentCompany", out->kco, sizeof(out->kco), &ie) != MLC_OK)
        flow_kco_pad(d->company, out->kco);
    return MLC_OK;
}

/* Sends the create for d, whose PENDING ledger row exists. */
static int create(struct fx *x, const struct post_doc *d, json_t *rd, struct mlc_err *e)
{
    struct ais_session *s = env_ais(x->r->env);
    enum ais_orch_kind k = d->mode == CFG_POST_VOUCHER ? AIS_ORCH_VOUCHER : AIS_ORCH_JOURNAL;
    struct ais_orch_result res = { 0 };
    struct ais_orch_in *in = NULL;
    struct created c;
    struct mlc_err le;
    int64_t total = 0;
    bool no_number = false;
    int rc;

    if ((rc = orch_inputs(d, &in, e)) != MLC_OK) {
        store_ledger_forget(x->r->st, d->key, &le); /* nothing was sent */
        return flow_hold(e, "%s: cannot build the orchestration inputs: %s", d->key, e->msg);
    }
    rc = ais_orch_call(s, ais_orch_name(s, k), in, &res, e);
    ais_orch_in_free(in);
    post_doc_total(d, &total, NULL);
    if (rc == MLC_OK && created_of(&res, d, &c, e) != MLC_OK) {
        /* It answered OK without a number: JDE is asked on the retry. */
        no_number = true;
        rc = MLC_EPROTO;
        mlc_err_wrap(e, "%s: JDE answered without a document number", d->key);
    }
    if (rc == MLC_OK) {
        rc = store_ledger_mark_posted(x->r->st, d->key, c.dct, c.kco, c.doc, c.batch, e);
        audit(x, "post", rc == MLC_OK ? "ok" : "error",
              json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:I}", "key", d->key,
                        "kind", post_kind_name(d->kind), "orchestration", ais_orch_name(s, k),
                        "doc_number", (json_int_t)c.doc, "doc_type", c.dct, "company", c.kco,
                        "batch", (json_int_t)c.batch, "lines", (json_int_t)d->n_lines,
                        "currency", d->currency, "total_minor",
                        (json_int_t)(d->mode == CFG_POST_VOUCHER ? d->gross : total)));
        set_str(rd, "action", "posted");
        json_object_set_new(rd, "doc_number", json_integer(c.doc));
        json_object_set_new(rd, "batch", json_integer(c.batch));
        /* A failed mark leaves the row PENDING: the next attempt adopts. */
        goto out;
    }
    if (!no_number && (res.rejected || rc == MLC_ENOTFOUND)) {
        /* JDE answered and wrote nothing: the row goes, the order holds. */
        char msg[MLC_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", e->msg);
        store_ledger_forget(x->r->st, d->key, &le);
        audit(x, "post", "rejected", json_pack("{s:s, s:s}", "key", d->key, "error", msg));
        set_str(rd, "action", "rejected");
        rc = flow_hold(e, "%s: JD Edwards refused the %s: %s", d->key, post_kind_name(d->kind),
                       msg);
        goto out;
    }
    /* No answer, a re-login, or a transport error: it may have committed. */
    if (store_ledger_mark_unknown(x->r->st, d->key, &le) != MLC_OK)
        log_warn("flow", "cannot mark the ledger row unknown", LF_STR("key", d->key),
                 LF_ERR(&le));
    audit(x, "post", "unknown",
          json_pack("{s:s, s:s, s:b, s:b}", "key", d->key, "error", e->msg,
                    "outcome_unknown", res.outcome_unknown, "reauth", res.reauth));
    set_str(rd, "action", "unknown");
    mlc_err_wrap(e, "%s: outcome unknown, JDE is looked up before any new attempt", d->key);
    if (rc >= 0)
        rc = MLC_EIO;
out:
    ais_orch_result_clear(&res);
    return rc;
}

/* The idempotent create of contract §3 for one validated document. */
static int post_idempotent(struct fx *x, const struct post_doc *d, json_t *rd,
                           struct mlc_err *e)
{
    struct store_ledger row = { 0 };
    struct ais_docs docs;
    struct docid id;
    bool have_row = false;
    json_t *dj = NULL;
    char *req = NULL;
    int rc;

    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        return rc;
    rc = store_ledger_get(x->r->st, d->key, &row, e);
    if (rc == MLC_OK && row.state == STORE_LEDGER_POSTED) {
        set_str(rd, "action", "already posted");
        json_object_set_new(rd, "doc_number", json_integer(row.doc_number));
        goto out;
    }
    if (rc != MLC_OK && rc != MLC_ENOTFOUND)
        goto out;
    have_row = rc == MLC_OK;
    /* No row, or one in doubt: JDE may have it (a restored store, another
     * connector, a crash after the create). */
    docid_of(x, NULL, &id);
    id.voucher = d->mode == CFG_POST_VOUCHER;
    flow_kco_pad(d->company, id.company);
    snprintf(id.dct, sizeof(id.dct), "%s", d->doc_type);
    if ((rc = lookup(x, &id, d->key, &docs, e)) != MLC_OK)
        goto out;
    if ((rc = post_doc_to_json(d, &dj, e)) != MLC_OK)
        goto out;
    req = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS);
    if (req == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    if (docs.n > 0) {
        if (!have_row &&
            (rc = store_ledger_begin(x->r->st, d->key, post_kind_name(d->kind), x->entity,
                                     req, e)) != MLC_OK)
            goto out;
        rc = adopt(x, d->key, &docs, have_row ? "in doubt, found in JDE"
                                              : "no ledger row, found in JDE", e);
        set_str(rd, "action", "adopted");
        json_object_set_new(rd, "doc_number", json_integer(docs.doc[0]));
        goto out;
    }
    /* A row in doubt that JDE does not have: start again with this document. */
    if (have_row && (rc = store_ledger_forget(x->r->st, d->key, e)) != MLC_OK)
        goto out;
    rc = store_ledger_begin(x->r->st, d->key, post_kind_name(d->kind), x->entity, req, e);
    if (rc == MLC_OK)
        rc = create(x, d, rd, e);
out:
    free(req);
    json_decref(dj);
    store_ledger_clear(&row);
    return rc;
}

/* ---- documents ------------------------------------------------------------------- */

/* Validates d's accounts and business units, then posts it (or, dry, says
 * it would). MLC_OK once posted. */
static int emit(struct fx *x, const struct post_doc *d, struct mlc_err *e)
{
    struct post_refs refs = { 0 };
    char problem[POST_HOLD_MAX];
    json_t *rd, *dj = NULL, *val;
    int64_t total = 0;
    bool ok = false;
    int rc;

    rd = report_doc(x, d->key, post_kind_name(d->kind), "build", NULL);
    if (post_doc_to_json(d, &dj, e) == MLC_OK && rd != NULL)
        json_object_set_new(rd, "document", dj);
    else
        json_decref(dj);
    post_doc_total(d, &total, NULL);
    if ((rc = post_doc_refs(d, &refs, e)) != MLC_OK)
        return rc;
    rc = acct_check(env_accounts(x->r->env), env_ais(x->r->env), &refs, &ok, problem,
                    sizeof(problem), e);
    val = json_pack("{s:b, s:I, s:I}", "ok", ok, "accounts", (json_int_t)refs.n_accounts,
                    "business_units", (json_int_t)refs.n_bus);
    post_refs_clear(&refs);
    if (rc != MLC_OK) {
        json_decref(val);
        mlc_err_wrap(e, "%s: account validation", d->key);
        audit(x, "validate", "error", json_pack("{s:s, s:s}", "key", d->key, "error", e->msg));
        return rc;
    }
    if (!ok && val != NULL)
        json_object_set_new(val, "problem", json_string(problem));
    if (rd != NULL && val != NULL)
        json_object_set(rd, "validation", val);
    if (val != NULL)
        json_object_set_new(val, "key", json_string(d->key));
    audit(x, "validate", ok ? "ok" : "held", val);
    if (!ok) {
        set_str(rd, "action", "held");
        return flow_hold(e, "%s: %s", d->key, problem);
    }
    if (x->r->dry_run) {
        set_str(rd, "action", "would post");
        return MLC_OK;
    }
    set_str(rd, "action", "post");
    return post_idempotent(x, d, rd, e);
}

/* The engine said hold: audited and reported, the run holds. */
static int engine_hold(struct fx *x, const char *key, const char *kind, const char *reason,
                       struct mlc_err *e)
{
    report_doc(x, key, kind, "held", reason);
    return flow_hold(e, "%s: %s", key, reason);   /* audited once, by the run */
}

/* rc of the engine into the run's result; d is cleared unless MLC_OK. */
static int engine_result(struct fx *x, int rc, const char *key, const char *kind,
                         const struct post_hold *h, struct mlc_err *e)
{
    if (rc == POST_HELD)
        return engine_hold(x, key, kind, h->reason, e);
    if (rc == POST_EMPTY) {
        report_doc(x, key, kind, "nothing", "every line is zero: nothing to post");
        audit(x, "decide", "skipped", json_pack("{s:s, s:s}", "key", key,
                                                "why", "every line is zero"));
        return POST_EMPTY;
    }
    if (rc < 0) /* a broken invariant: never posted, never retried blindly */
        return engine_hold(x, key, kind, e->msg, e);
    return MLC_OK;
}

static int do_sale(struct fx *x, struct mlc_err *e)
{
    struct post_opts opts;
    struct post_hold h = { { 0 } };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
    if ((rc = fetch_txns(x, e)) != MLC_OK)
        return rc;
    opts = opts_at(x, sale_time(x)); /* paid_at needs the transactions */
    rc = post_sale(&x->o, x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "sale", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = emit(x, &d, e);
    if (rc != MLC_OK) {
        post_doc_clear(&d);
        return rc;
    }
    post_doc_clear(&x->sale);
    x->sale = d;
    x->sale_posted = x->sale_doc_ok = true;
    return MLC_OK;
}

static int do_refund(struct fx *x, const struct order_refund *r, struct mlc_err *e)
{
    struct post_facts f = { .sale_posted = x->sale_posted,
                            .reversal_posted = x->reversal_posted };
    struct post_decision dec;
    struct post_opts opts = opts_at(x, r->created);
    struct post_hold h = { { 0 } };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    key_of(x, POST_KIND_REFUND, r->id, key, sizeof(key));
    if (refund_posted(x, key)) {
        report_doc(x, key, "refund", "already posted", NULL);
        return MLC_OK;
    }
    dec = post_decide_refund(&f);
    if (dec.action == POST_ACT_HOLD)
        return engine_hold(x, key, "refund", dec.why, e);
    if (dec.action != POST_ACT_REFUND) {
        report_doc(x, key, "refund", "nothing", dec.why);
        audit(x, "decide", "skipped", json_pack("{s:s, s:s}", "key", key, "why", dec.why));
        return MLC_OK;
    }
    rc = post_refund(&x->o, r, x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "refund", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = emit(x, &d, e);
    if (rc == MLC_OK)
        rc = push_ref_doc(x, &d, e);
    post_doc_clear(&d);
    return rc;
}

static int do_reversal(struct fx *x, struct mlc_err *e)
{
    struct post_opts opts = opts_at(x, x->o.date_modified);
    struct post_hold h = { { 0 } };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    key_of(x, POST_KIND_REVERSAL, 0, key, sizeof(key));
    if (!x->sale_doc_ok)
        return engine_hold(x, key, "reversal", "the posted sale's document in the ledger "
                           "cannot be read: reverse it by hand", e);
    for (size_t i = 0; i < x->n_ref_docs; i++)
        if (x->ref_docs[i].n_lines == 0)
            return engine_hold(x, key, "reversal", "a posted refund's document in the "
                               "ledger cannot be read: reverse it by hand", e);
    rc = post_reversal(&x->o, &x->sale, x->ref_docs, x->n_ref_docs, x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "reversal", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = emit(x, &d, e);
    if (rc == MLC_OK)
        x->reversal_posted = true;
    post_doc_clear(&d);
    return rc;
}

static int decide_and_post(struct fx *x, struct mlc_err *e)
{
    struct post_facts f = { .sale_posted = x->sale_posted,
                            .reversal_posted = x->reversal_posted };
    struct post_decision dec = post_decide(x->o.status_id, &f, x->pc);
    static const char *const act[] = { "nothing", "sale", "reversal", "refund", "hold" };
    int rc = MLC_OK;

    json_object_set_new(x->report, "decision",
                        json_pack("{s:s, s:s}", "action", act[dec.action], "why", dec.why));
    audit(x, "decide", dec.action == POST_ACT_HOLD ? "held" : "ok",
          json_pack("{s:I, s:s, s:s, s:b, s:b}", "status_id", (json_int_t)x->o.status_id,
                    "action", act[dec.action], "why", dec.why, "sale_posted", x->sale_posted,
                    "reversal_posted", x->reversal_posted));
    if (dec.action == POST_ACT_HOLD)
        return flow_hold(e, "order %" PRId64 ": %s", x->order_id, dec.why);
    if (dec.action == POST_ACT_SALE)
        rc = do_sale(x, e);
    else if (x->sale_posted) {
        char key[64];

        key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
        report_doc(x, key, "sale", "already posted", NULL);
    }
    /* Refunds after the sale; each its own document (contract §5). */
    for (size_t i = 0; i < x->n_refunds && rc == MLC_OK; i++) {
        if ((rc = flow_run_checkpoint(x->r, e)) == MLC_OK)
            rc = do_refund(x, &x->refunds[i], e);
    }
    if (rc == MLC_OK && dec.action == POST_ACT_REVERSAL)
        rc = do_reversal(x, e);
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

static void fx_clear(struct fx *x)
{
    order_clear(&x->o);
    order_refunds_free(x->refunds, x->n_refunds);
    rows_free(x->rows, x->n_rows);
    post_doc_clear(&x->sale);
    for (size_t i = 0; i < x->n_ref_docs; i++)
        post_doc_clear(&x->ref_docs[i]);
    free(x->ref_docs);
    json_decref(x->report);
    json_decref(x->refund_objs);
}

static int fx_init(struct fx *x, const struct flow_run *r, int64_t order_id, int64_t now,
                   struct mlc_err *e)
{
    memset(x, 0, sizeof(*x));
    x->r = r;
    x->pc = &r->cfg->posting;
    x->order_id = order_id;
    x->now = now;
    snprintf(x->entity, sizeof(x->entity), FLOW_ORDER_KEY "%" PRId64, order_id);
    x->report = json_pack("{s:I, s:b, s:[]}", "order_id", (json_int_t)order_id,
                          "dry_run", r->dry_run, "documents");
    if (x->report == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    x->docs = json_object_get(x->report, "documents");
    mlc_err_clear(&x->err);
    return MLC_OK;
}

/* post_decide on the ledger as read, rows in doubt counting as not posted:
 * a sale then is due exactly when it may be due after resolve. */
static bool sale_due_before_resolve(const struct fx *x)
{
    struct post_facts f = { 0 };

    for (size_t i = 0; i < x->n_rows; i++) {
        if (x->rows[i].state != STORE_LEDGER_POSTED)
            continue;
        if (strcmp(x->rows[i].kind, "sale") == 0)
            f.sale_posted = true;
        else if (strcmp(x->rows[i].kind, "reversal") == 0)
            f.reversal_posted = true;
    }
    return post_decide(x->o.status_id, &f, x->pc).action == POST_ACT_SALE;
}

static const struct lrow *row_of(const struct fx *x, const char *key)
{
    for (size_t i = 0; i < x->n_rows; i++)
        if (strcmp(x->rows[i].key, key) == 0)
            return &x->rows[i];
    return NULL;
}

/* Appends (key, id) to the batch's list of keys to look up. */
static int lk_push(struct lk_cache *lk, size_t *cap, const char *key, const struct docid *id,
                   struct mlc_err *e)
{
    if (lk->n == *cap) {
        size_t ncap = *cap > 0 ? *cap * 2 : 64;
        struct lk_entry *nv = realloc(lk->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        lk->v = nv;
        *cap = ncap;
    }
    memset(&lk->v[lk->n], 0, sizeof(lk->v[0]));
    snprintf(lk->v[lk->n].key, sizeof(lk->v[0].key), "%s", key);
    lk->v[lk->n].id = *id;
    lk->n++;
    return MLC_OK;
}

/* The keys of x JDE may be asked about in this run: rows left in doubt,
 * and the documents that may be created (sale, refunds, reversal) without
 * a ledger row yet. */
static int lk_keys(struct fx *x, struct lk_cache *lk, size_t *cap, struct mlc_err *e)
{
    const struct lrow *sale_row;
    struct docid id;
    char key[64];
    int rc = MLC_OK;

    for (size_t i = 0; i < x->n_rows && rc == MLC_OK; i++) {
        if (x->rows[i].state == STORE_LEDGER_POSTED)
            continue;
        docid_of(x, x->rows[i].request, &id);
        rc = lk_push(lk, cap, x->rows[i].key, &id, e);
    }
    docid_of(x, NULL, &id);
    key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
    sale_row = row_of(x, key);
    if (rc == MLC_OK && x->pre_sale && sale_row == NULL)
        rc = lk_push(lk, cap, key, &id, e);
    for (size_t i = 0; i < x->n_refunds && rc == MLC_OK && (x->pre_sale || sale_row); i++) {
        key_of(x, POST_KIND_REFUND, x->refunds[i].id, key, sizeof(key));
        if (row_of(x, key) == NULL)
            rc = lk_push(lk, cap, key, &id, e);
    }
    key_of(x, POST_KIND_REVERSAL, 0, key, sizeof(key));
    if (rc == MLC_OK && sale_row != NULL && x->o.status_id == ORDER_STATUS_CANCELLED &&
        row_of(x, key) == NULL)
        rc = lk_push(lk, cap, key, &id, e);
    return rc;
}

static int cmp_lk(const void *a, const void *b)
{
    const struct lk_entry *x = a, *y = b;
    int c = (int)x->id.voucher - (int)y->id.voucher;

    if (c == 0)
        c = strcmp(x->id.company, y->id.company);
    if (c == 0 && !x->id.voucher)
        c = strcmp(x->id.dct, y->id.dct);
    return c;
}

/* One query for lk->v[from..to) (same table, company and type). A failed
 * query is logged and leaves its keys to the live lookup. */
static void lk_query(const struct flow_run *r, struct lk_cache *lk, size_t from, size_t to)
{
    size_t k = to - from;
    const char **refs = calloc(k, sizeof(*refs));
    struct ais_docs *docs = calloc(k, sizeof(*docs));
    const struct docid *id = &lk->v[from].id;
    struct mlc_err e;
    int rc;

    if (refs == NULL || docs == NULL) {
        free(refs);
        free(docs);
        return;
    }
    for (size_t i = 0; i < k; i++)
        refs[i] = lk->v[from + i].key;
    if (id->voucher)
        rc = ais_voucher_exists_many(env_ais(r->env), id->company, refs, k, docs, &e);
    else
        rc = ais_journal_exists_many(env_ais(r->env), id->company, id->dct, refs, k, docs, &e);
    if (rc == MLC_OK) {
        for (size_t i = 0; i < k; i++) {
            lk->v[from + i].docs = docs[i];
            lk->v[from + i].ok = true;
        }
    } else {
        log_warn("flow", "batched JDE lookup failed: keys are looked up one by one",
                 LF_UINT("keys", k), LF_ERR(&e));
    }
    free(refs);
    free(docs);
}

/* Contract §3's existence checks for the whole batch, asked at once: one
 * F0911 / F0411 query per company and document type with every key in a
 * LIST condition. The answers serve lookup() for LOOKUP_FRESH_MS. */
static void prefetch(const struct flow_run *r, struct fx *xs, size_t n, struct lk_cache *lk)
{
    struct mlc_err e;
    size_t cap = 0, from = 0;

    for (size_t i = 0; i < n; i++) {
        if (alive(&xs[i]) && lk_keys(&xs[i], lk, &cap, &e) != MLC_OK) {
            lk->n = 0; /* out of memory: every lookup goes live */
            return;
        }
    }
    if (lk->n == 0)
        return;
    qsort(lk->v, lk->n, sizeof(*lk->v), cmp_lk);
    lk->at_ms = mono_ms();
    for (size_t i = 1; i <= lk->n; i++) {
        if (i == lk->n || cmp_lk(&lk->v[from], &lk->v[i]) != 0) {
            lk_query(r, lk, from, i);
            from = i;
        }
    }
}

/* The JDE side of one order: rows in doubt settled, then the decision and
 * its documents. */
static int post_steps(struct fx *x, struct mlc_err *e)
{
    int rc;

    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        return rc;
    if ((rc = resolve(x, e)) != MLC_OK)
        return rc;
    if ((rc = facts_from_rows(x, e)) != MLC_OK)
        return rc;
    return decide_and_post(x, e);
}

/* Ends x's run: the result, the hold audit and the report. */
static enum flow_result fx_result(struct fx *x)
{
    static const char *const names[] = { "done", "retry", "hold" };
    enum flow_result res = x->rc == MLC_OK ? FLOW_DONE
                         : x->rc == FLOW_HELD ? FLOW_HOLD : FLOW_RETRY;

    if (res == FLOW_HOLD)
        audit(x, "hold", "held", json_pack("{s:s}", "reason", x->err.msg));
    if (res == FLOW_DONE)
        mlc_err_clear(&x->err);
    json_object_set_new(x->report, "result", json_string(names[res]));
    if (res != FLOW_DONE)
        json_object_set_new(x->report, "reason", json_string(x->err.msg));
    return res;
}

/*
 * The run of a batch (one order is a batch of one). Orders stay independent:
 * each carries its own result and reason, and a call made for the whole
 * batch that fails stops only the orders it concerned.
 *   1. ledger rows of every order;
 *   2. BigCommerce: the orders (ranged list calls), their refunds (one
 *      cross-order list), then per order what the list did not embed;
 *   3. transactions of the orders whose sale is due;
 *   4. JDE: every key that may be looked up, in one query per company and
 *      type (prefetch), then per order: resolve, decide, post.
 * The JDE phase comes last so the existence answers are fresh when the
 * creates go out.
 */
static void run_batch(const struct flow_run *r, struct fx *xs, size_t n)
{
    struct lk_cache lk = { 0 };

    for (size_t i = 0; i < n; i++)
        fx_stop(&xs[i], read_rows(&xs[i], &xs[i].err));
    fetch_all(r, xs, n);
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (!alive(x))
            continue;
        fx_stop(x, flow_run_checkpoint(x->r, &x->err));
        x->pre_sale = alive(x) && sale_due_before_resolve(x);
        if (x->pre_sale)
            fx_stop(x, fetch_txns(x, &x->err));
    }
    prefetch(r, xs, n, &lk);
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        x->lk = &lk;
        if (alive(x))
            fx_stop(x, post_steps(x, &x->err));
        x->lk = NULL;
    }
    free(lk.v);
}

static bool run_ok(const struct flow_run *r)
{
    return r != NULL && r->env != NULL && r->st != NULL && r->cfg != NULL;
}

int flow_order_sync(const struct flow_run *r, int64_t order_id, enum flow_result *res,
                    json_t **report, struct mlc_err *e)
{
    struct fx x;
    int rc;

    if (report != NULL)
        *report = NULL;
    if (!run_ok(r) || res == NULL || order_id <= 0)
        return mlc_err_set(e, MLC_EINVAL, "flow_order_sync: bad arguments");
    if ((rc = fx_init(&x, r, order_id, r->now > 0 ? r->now : (int64_t)time(NULL), e)) != MLC_OK)
        return rc;
    run_batch(r, &x, 1);
    *res = fx_result(&x);
    if (e != NULL)
        *e = x.err;
    if (report != NULL) {
        *report = x.report;
        x.report = NULL;
    }
    fx_clear(&x);
    return MLC_OK;
}

int flow_orders_sync_batch(const struct flow_run *r, const int64_t *ids, size_t n,
                           enum flow_result *res, struct mlc_err *errs, struct mlc_err *e)
{
    int64_t now;
    struct fx *xs;
    int rc = MLC_OK;

    if (!run_ok(r) || ids == NULL || res == NULL || n == 0 || n > FLOW_BATCH_MAX)
        return mlc_err_set(e, MLC_EINVAL, "flow_orders_sync_batch: bad arguments");
    for (size_t i = 0; i < n; i++) {
        if (ids[i] <= 0)
            return mlc_err_set(e, MLC_EINVAL, "flow_orders_sync_batch: bad order id");
        for (size_t j = 0; j < i; j++)
            if (ids[j] == ids[i])
                return mlc_err_set(e, MLC_EINVAL, "flow_orders_sync_batch: order %" PRId64
                                   " is twice in the batch", ids[i]);
    }
    if ((xs = calloc(n, sizeof(*xs))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    now = r->now > 0 ? r->now : (int64_t)time(NULL);
    for (size_t i = 0; i < n && rc == MLC_OK; i++)
        rc = fx_init(&xs[i], r, ids[i], now, e);
    if (rc == MLC_OK) {
        run_batch(r, xs, n);
        for (size_t i = 0; i < n; i++) {
            res[i] = fx_result(&xs[i]);
            if (errs != NULL)
                errs[i] = xs[i].err;
        }
    }
    for (size_t i = 0; i < n; i++)
        fx_clear(&xs[i]);
    free(xs);
    return rc;
}
