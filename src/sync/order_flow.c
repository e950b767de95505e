/*
 * order_flow: the run of one order or a batch of orders: its context, the
 * decision and the sale / refunds / reversal, the batch driver and the
 * public entry points. What a run does: order_flow.h; how the flow is split
 * across files: order_flow_int.h.
 */
#include "sync/order_flow_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jdate.h"
#include "core/log.h"
#include "core/tz.h"
#include "sync/cutover.h"

/* ---- the run's shared helpers -------------------------------------------- */

void fx_audit(struct fx *x, const char *action, const char *outcome, json_t *detail)
{
    flow_audit(x->r, x->entity, action, outcome, detail);
}

/* A new report entry for a document (borrowed: owned by the report). */
json_t *fx_report_doc(struct fx *x, const char *key, const char *kind, const char *action,
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
        .paid_at = paid_at(&x->bc.o),
        .strict_sku = x->pc->strict_sku_mapping,
    };

    return o;
}

static int64_t sale_time(const struct fx *x)
{
    switch (x->pc->gl_date) {
    case CFG_GLDATE_PAID:    return paid_at(&x->bc.o);
    case CFG_GLDATE_POSTING: return x->now;
    default:                 return x->bc.o.date_created;
    }
}

void fx_key_of(const struct fx *x, enum post_kind k, int64_t refund_id, char *buf, size_t cap)
{
    if (post_key(x->pc->key_prefix, x->order_id, k, refund_id, buf, cap) != MLC_OK)
        snprintf(buf, cap, "order %" PRId64 " %s", x->order_id, post_kind_name(k));
}

/* Ends the run of x with rc (a hold reason or an error already in x->err). */
void fx_stop(struct fx *x, int rc)
{
    if (x->rc == MLC_OK)
        x->rc = rc;
}

bool fx_alive(const struct fx *x)
{
    return x->rc == MLC_OK;
}

int fx_settled(struct fx *x, const char *key, int64_t sent_ms, int64_t asked_ms, json_t *rd,
               struct mlc_err *e)
{
    int64_t until = 0;
    int rc = flow_settle(x->r, key, sent_ms, asked_ms, &until, e);

    if (rc == MLC_OK)
        return MLC_OK;
    x->defer_until = until;
    fx_audit(x, "settle", "waiting",
             json_pack("{s:s, s:I, s:I, s:I}", "key", key, "sent_at_ms", (json_int_t)sent_ms,
                       "again_at_ms", (json_int_t)until,
                       "settle_s",
                       (json_int_t)((FLOW_SEND_WINDOW_MS + cfg_settle_ms(x->r->cfg)) / 1000)));
    if (rd != NULL) {
        json_object_set_new(rd, "action", json_string("waiting"));
        json_object_set_new(rd, "why", json_string(e->msg));
    }
    return rc;
}

int fx_push_ref_doc(struct fx *x, struct post_doc *d, struct mlc_err *e)
{
    struct post_doc *nv = realloc(x->posted.ref_docs, (x->posted.n_ref_docs + 1) * sizeof(*nv));

    if (nv == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    x->posted.ref_docs = nv;
    x->posted.ref_docs[x->posted.n_ref_docs++] = *d;   /* moved */
    memset(d, 0, sizeof(*d));
    return MLC_OK;
}

static bool refund_posted(const struct fx *x, const char *key)
{
    for (size_t i = 0; i < x->posted.n_ref_docs; i++)
        if (strcmp(x->posted.ref_docs[i].key, key) == 0)
            return true;
    return false;
}

/* ---- the go-live cutover ------------------------------------------------- */

void fx_cutover(struct fx *x)
{
    const struct cfg_orders *c = &x->r->cfg->orders;
    int64_t created = x->bc.found ? x->bc.o.date_created : 0;
    struct mlc_err ae;
    bool audited = false;
    char why[256];

    if (!fx_alive(x) || x->ledger.n_rows > 0 || !cutover_before(c, x->order_id, created))
        return;
    cutover_reason(c, x->order_id, created, why, sizeof(why));
    json_object_set_new(x->report, "decision",
                        json_pack("{s:s, s:s}", "action", CUTOVER_ACTION, "why", why));
    json_object_set_new(x->report, "cutover",
                        json_pack("{s:s, s:i}", "start", c->start != NULL ? c->start : "",
                                  "start_id", c->start_id));
    mlc_err_clear(&ae);
    if (!x->r->dry_run && cutover_skip_audited(x->r->st, x->entity, &audited, &ae) != MLC_OK)
        log_warn("order_flow", "cannot read the audit trail: the skip is audited again",
                 LF_INT("order", x->order_id), LF_ERR(&ae));
    if (!audited) { /* once per order, however often it is asked for */
        char when[JDATE_ISO8601_SIZE] = "";

        if (created > 0)
            jdate_iso8601_format(created, when, sizeof(when), NULL);
        fx_audit(x, CUTOVER_ACTION, CUTOVER_OUTCOME,
                 json_pack("{s:s, s:s, s:s, s:i}", "why", why, "date_created", when,
                           "start", c->start != NULL ? c->start : "", "start_id", c->start_id));
    }
    fx_stop(x, FX_SKIPPED);
}

/* ---- documents: sale, refunds, reversal ---------------------------------- */

/* The engine said hold: audited and reported, the run holds. */
static int engine_hold(struct fx *x, const char *key, const char *kind, enum hold_code code,
                       const char *reason, struct mlc_err *e)
{
    fx_report_doc(x, key, kind, "held", reason);
    return flow_hold(e, &x->hold_code, code, "%s: %s", key, reason); /* audited by the run */
}

/* rc of the engine into the run's result; d is cleared unless MLC_OK. */
static int engine_result(struct fx *x, int rc, const char *key, const char *kind,
                         const struct post_hold *h, struct mlc_err *e)
{
    if (rc == POST_HELD)
        return engine_hold(x, key, kind, h->code, h->reason, e);
    if (rc == POST_EMPTY) {
        fx_report_doc(x, key, kind, "nothing", "every line is zero: nothing to post");
        fx_audit(x, "decide", "skipped", json_pack("{s:s, s:s}", "key", key,
                                                   "why", "every line is zero"));
        return POST_EMPTY;
    }
    if (rc < 0) /* a broken invariant: never posted, never retried blindly */
        return engine_hold(x, key, kind, HOLD_OTHER, e->msg, e);
    return MLC_OK;
}

static int do_sale(struct fx *x, struct mlc_err *e)
{
    struct post_opts opts;
    struct post_hold h = { .code = HOLD_OTHER };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    fx_key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
    if ((rc = order_fetch_txns(x, e)) != MLC_OK)
        return rc;
    opts = opts_at(x, sale_time(x)); /* paid_at needs the transactions */
    rc = post_sale(&x->bc.o, x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "sale", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = order_post_emit(x, &d, e);
    if (rc != MLC_OK) {
        post_doc_clear(&d);
        return rc;
    }
    post_doc_clear(&x->posted.sale);
    x->posted.sale = d;
    x->posted.sale_posted = x->posted.sale_doc_ok = true;
    return MLC_OK;
}

static int do_refund(struct fx *x, const struct order_refund *r, struct mlc_err *e)
{
    struct post_facts f = { .sale_posted = x->posted.sale_posted,
                            .reversal_posted = x->posted.reversal_posted };
    struct post_decision dec;
    struct post_opts opts = opts_at(x, r->created);
    struct post_hold h = { .code = HOLD_OTHER };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    fx_key_of(x, POST_KIND_REFUND, r->id, key, sizeof(key));
    if (refund_posted(x, key)) {
        fx_report_doc(x, key, "refund", "already posted", NULL);
        return MLC_OK;
    }
    dec = post_decide_refund(&f);
    if (dec.action == POST_ACT_HOLD)
        return engine_hold(x, key, "refund", HOLD_OTHER, dec.why, e);
    if (dec.action != POST_ACT_REFUND) {
        fx_report_doc(x, key, "refund", "nothing", dec.why);
        fx_audit(x, "decide", "skipped", json_pack("{s:s, s:s}", "key", key, "why", dec.why));
        return MLC_OK;
    }
    rc = post_refund(&x->bc.o, r, x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "refund", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = order_post_emit(x, &d, e);
    if (rc == MLC_OK)
        rc = fx_push_ref_doc(x, &d, e);
    post_doc_clear(&d);
    return rc;
}

static int do_reversal(struct fx *x, struct mlc_err *e)
{
    struct post_opts opts = opts_at(x, x->bc.o.date_modified);
    struct post_hold h = { .code = HOLD_OTHER };
    struct post_doc d = { 0 };
    char key[64];
    int rc;

    fx_key_of(x, POST_KIND_REVERSAL, 0, key, sizeof(key));
    if (!x->posted.sale_doc_ok)
        return engine_hold(x, key, "reversal", HOLD_OTHER, "the posted sale's document in the ledger "
                           "cannot be read: reverse it by hand", e);
    for (size_t i = 0; i < x->posted.n_ref_docs; i++)
        if (x->posted.ref_docs[i].n_lines == 0)
            return engine_hold(x, key, "reversal", HOLD_OTHER, "a posted refund's document in the "
                               "ledger cannot be read: reverse it by hand", e);
    rc = post_reversal(&x->bc.o, &x->posted.sale, x->posted.ref_docs, x->posted.n_ref_docs,
                       x->pc, &opts, &d, &h, e);
    rc = engine_result(x, rc, key, "reversal", &h, e);
    if (rc != MLC_OK)
        return rc == POST_EMPTY ? MLC_OK : rc;
    rc = order_post_emit(x, &d, e);
    if (rc == MLC_OK)
        x->posted.reversal_posted = true;
    post_doc_clear(&d);
    return rc;
}

static int decide_and_post(struct fx *x, struct mlc_err *e)
{
    struct post_facts f = { .sale_posted = x->posted.sale_posted,
                            .reversal_posted = x->posted.reversal_posted };
    struct post_decision dec = post_decide(x->bc.o.status_id, &f, x->pc);
    static const char *const act[] = { "nothing", "sale", "reversal", "refund", "hold" };
    int rc = MLC_OK;

    json_object_set_new(x->report, "decision",
                        json_pack("{s:s, s:s}", "action", act[dec.action], "why", dec.why));
    fx_audit(x, "decide", dec.action == POST_ACT_HOLD ? "held" : "ok",
             json_pack("{s:I, s:s, s:s, s:b, s:b}", "status_id", (json_int_t)x->bc.o.status_id,
                       "action", act[dec.action], "why", dec.why,
                       "sale_posted", x->posted.sale_posted,
                       "reversal_posted", x->posted.reversal_posted));
    if (dec.action == POST_ACT_HOLD)
        return flow_hold(e, &x->hold_code, HOLD_OTHER, "order %" PRId64 ": %s", x->order_id,
                         dec.why);
    if (dec.action == POST_ACT_SALE)
        rc = do_sale(x, e);
    else if (x->posted.sale_posted) {
        char key[64];

        fx_key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
        fx_report_doc(x, key, "sale", "already posted", NULL);
    }
    /* Refunds after the sale; each its own document (posting rules §5). */
    for (size_t i = 0; i < x->bc.n_refunds && rc == MLC_OK; i++) {
        if ((rc = flow_run_checkpoint(x->r, e)) == MLC_OK)
            rc = do_refund(x, &x->bc.refunds[i], e);
    }
    if (rc == MLC_OK && dec.action == POST_ACT_REVERSAL)
        rc = do_reversal(x, e);
    return rc;
}

/* ---- the run ------------------------------------------------------------- */

static void fx_clear(struct fx *x)
{
    order_clear(&x->bc.o);
    order_refunds_free(x->bc.refunds, x->bc.n_refunds);
    order_ledger_rows_free(x->ledger.rows, x->ledger.n_rows);
    post_doc_clear(&x->posted.sale);
    for (size_t i = 0; i < x->posted.n_ref_docs; i++)
        post_doc_clear(&x->posted.ref_docs[i]);
    free(x->posted.ref_docs);
    json_decref(x->report);
    json_decref(x->bc.refund_objs);
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

    for (size_t i = 0; i < x->ledger.n_rows; i++) {
        if (x->ledger.rows[i].state != STORE_LEDGER_POSTED)
            continue;
        if (strcmp(x->ledger.rows[i].kind, "sale") == 0)
            f.sale_posted = true;
        else if (strcmp(x->ledger.rows[i].kind, "reversal") == 0)
            f.reversal_posted = true;
    }
    return post_decide(x->bc.o.status_id, &f, x->pc).action == POST_ACT_SALE;
}

/* The JDE side of one order: rows in doubt settled, then the decision and
 * its documents. */
static int post_steps(struct fx *x, struct mlc_err *e)
{
    int rc;

    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        return rc;
    if ((rc = order_ledger_resolve(x, e)) != MLC_OK)
        return rc;
    if ((rc = order_ledger_facts(x, e)) != MLC_OK)
        return rc;
    return decide_and_post(x, e);
}

/* Ends x's run: the result, the hold audit and the report. */
static enum flow_result fx_result(struct fx *x)
{
    enum flow_result res = x->rc == FX_SKIPPED ? FLOW_DONE : flow_result_of(x->r, x->rc);

    if (res == FLOW_DEFER) {
        char at[32];

        jdate_iso8601_format(x->defer_until / 1000, at, sizeof(at), NULL);
        json_object_set_new(x->report, "again_at", json_string(at));
    }
    if (res == FLOW_HOLD)
        fx_audit(x, "hold", "held", json_pack("{s:s}", "reason", x->err.msg));
    if (res == FLOW_DONE)
        mlc_err_clear(&x->err);
    json_object_set_new(x->report, "result", json_string(flow_result_name(res)));
    if (res != FLOW_DONE)
        json_object_set_new(x->report, "reason", json_string(x->err.msg));
    return res;
}

/*
 * The run of a batch (one order is a batch of one). Orders stay independent:
 * each carries its own result and reason, and a call made for the whole
 * batch that fails stops only the orders it concerned.
 *   1. ledger rows of every order;
 *   2. BigCommerce, for the whole batch: the orders (ranged list calls),
 *      their refunds (one cross-order list), per order what the list did
 *      not embed, and the catalog categories of their products; an order
 *      before the go-live cutover stops (DONE) as soon as its id or its
 *      creation time says so, before anything else is asked for it;
 *   3. JDE, for the whole batch: every key that may be looked up, in one
 *      query per company and type (prefetch): the keys are known once the
 *      orders and refunds are;
 *   4. then a pipeline, order by order: its transactions (when its sale is
 *      due), resolve, decide, post. An order posts as soon as its own data
 *      is in, not after the whole batch's transactions (one call each, the
 *      API's floor), so the first document comes within seconds and the
 *      rest follow at the pace of the quota. The prefetched answers are
 *      asked again for the orders still to come when they near
 *      LOOKUP_FRESH_MS, so the creates still find fresh ones.
 */
static void run_batch(const struct flow_run *r, struct fx *xs, size_t n)
{
    struct lk_cache lk = { 0 };

    for (size_t i = 0; i < n; i++) {
        fx_stop(&xs[i], order_ledger_read(&xs[i], &xs[i].err));
        fx_cutover(&xs[i]);   /* by id: no call for such an order */
    }
    order_fetch_batch(r, xs, n);
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (fx_alive(x))
            x->pre_sale = sale_due_before_resolve(x);
    }
    order_ledger_prefetch(r, xs, n, &lk);
    for (size_t i = 0; i < n; i++) {
        struct fx *x = &xs[i];

        if (!fx_alive(x))
            continue;
        if (order_ledger_aging(&lk))   /* the rest asked again, in one go */
            order_ledger_prefetch(r, xs + i, n - i, &lk);
        x->ledger.lk = &lk;
        fx_stop(x, flow_run_checkpoint(x->r, &x->err));
        if (fx_alive(x) && x->pre_sale)
            fx_stop(x, order_fetch_txns(x, &x->err));
        if (fx_alive(x))
            fx_stop(x, post_steps(x, &x->err));
        x->ledger.lk = NULL;
    }
    free(lk.v);
}

/* ---- entry points -------------------------------------------------------- */

/* A held run's code, and the money that waits: the order's total as
 * BigCommerce states it (nothing when the order was never read). */
static void fx_hold_info(const struct fx *x, struct flow_hold_info *out)
{
    *out = (struct flow_hold_info){ .code = x->hold_code };
    if (x->bc.found && x->bc.o.currency[0] != '\0' && x->bc.o.exponent != ORDER_EXP_UNKNOWN) {
        snprintf(out->currency, sizeof(out->currency), "%s", x->bc.o.currency);
        out->amount = x->bc.o.total_inc_tax;
    }
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
    if (*res == FLOW_DEFER && r->defer_until != NULL)
        r->defer_until[0] = x.defer_until;
    if (*res == FLOW_HOLD && r->hold != NULL)
        fx_hold_info(&x, &r->hold[0]);
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
            if (res[i] == FLOW_DEFER && r->defer_until != NULL)
                r->defer_until[i] = xs[i].defer_until;
            if (res[i] == FLOW_HOLD && r->hold != NULL)
                fx_hold_info(&xs[i], &r->hold[i]);
            if (errs != NULL)
                errs[i] = xs[i].err;
        }
    }
    for (size_t i = 0; i < n; i++)
        fx_clear(&xs[i]);
    free(xs);
    return rc;
}

int flow_order_key_parse(const char *key, int64_t *order_id, struct mlc_err *e)
{
    return flow_key_parse(key, FLOW_ORDER_KEY, order_id, e);
}
