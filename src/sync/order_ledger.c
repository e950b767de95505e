/* order_ledger: an order's ledger rows and the JDE existence lookups (see
 * order_flow_int.h). */
#include "sync/order_flow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "sync/env.h"

/* ---- the order's ledger rows --------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void order_ledger_rows_free(struct lrow *v, size_t n)
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
    r->sent_ms = l->created_at;
    c->n++;
    if (r->key == NULL || r->kind == NULL || (l->request != NULL && r->request == NULL)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

int order_ledger_read(struct fx *x, struct mlc_err *e)
{
    struct rows_ctx c = { 0 };
    int rc = store_ledger_list(x->r->st, x->entity, collect_row, &c, e);

    x->ledger.rows = c.v;
    x->ledger.n_rows = c.n;
    if (c.oom)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return rc;
}

void order_ledger_docid(const struct fx *x, const char *request, struct docid *out)
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

/* The idempotency lookup (posting rules §3): documents in JDE with this key. */
int order_ledger_lookup(struct fx *x, const struct docid *id, const char *key,
                        int64_t not_before, struct ais_docs *docs, int64_t *asked,
                        struct mlc_err *e)
{
    struct ais_session *s = env_ais(x->r->env);
    const struct lk_entry *en = lk_find(x->ledger.lk, id, key);
    int rc;

    /* A row in doubt needs an answer asked after its settle time: the
     * batch's may be older than that, however fresh. */
    if (en != NULL && x->ledger.lk->asked_ms < not_before)
        en = NULL;
    *asked = en != NULL ? x->ledger.lk->asked_ms : store_now_ms(x->r->st);
    if (en != NULL) {
        *docs = en->docs;
        rc = MLC_OK;
    } else if (id->voucher)
        rc = ais_voucher_exists(s, id->company, key, docs, e);
    else
        rc = ais_journal_exists(s, id->company, id->dct, key, docs, e);
    if (rc != MLC_OK) {
        fx_audit(x, "lookup", "error", json_pack("{s:s, s:s}", "key", key, "error", e->msg));
        return rc;
    }
    fx_audit(x, "lookup", docs->n > 0 ? "found" : "absent",
             json_pack("{s:s, s:s, s:I, s:b}", "key", key, "table", id->voucher ? "F0411" : "F0911",
                       "documents", (json_int_t)docs->n, "batched", en != NULL));
    if (docs->n > 1)
        log_warn("flow", "several JDE documents carry one key", LF_STR("key", key),
                 LF_UINT("documents", docs->n));
    return MLC_OK;
}

/* Records a document found in JDE as ours (adopted). */
int order_ledger_adopt(struct fx *x, const char *key, const struct ais_docs *docs,
                       const char *why, struct mlc_err *e)
{
    int rc = MLC_OK;

    if (!x->r->dry_run)
        rc = store_ledger_mark_posted(x->r->st, key, docs->dct[0], docs->kco[0],
                                      docs->doc[0], 0, e);
    if (rc != MLC_OK)
        return rc;
    fx_audit(x, "adopt", "ok",
             json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "key", key,
                       "doc_number", (json_int_t)docs->doc[0], "doc_type", docs->dct[0],
                       "company", docs->kco[0], "documents", (json_int_t)docs->n, "why", why));
    return MLC_OK;
}

/* Rows an earlier attempt left PENDING or UNKNOWN: the create may have
 * committed. JDE decides: found -> adopted; absent -> forgotten, but only
 * once the create can no longer land (posting rules §3: its settle time after
 * the send); before that the run waits (FLOW_DEFERRED). */
int order_ledger_resolve(struct fx *x, struct mlc_err *e)
{
    for (size_t i = 0; i < x->ledger.n_rows; i++) {
        struct lrow *r = &x->ledger.rows[i];
        struct ais_docs docs;
        struct docid id;
        int64_t asked;
        json_t *rd;
        int rc;

        if (r->state == STORE_LEDGER_POSTED)
            continue;
        if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
            return rc;
        order_ledger_docid(x, r->request, &id);
        if ((rc = order_ledger_lookup(x, &id, r->key, flow_settle_deadline(x->r, r->sent_ms),
                                      &docs, &asked, e)) != MLC_OK)
            return rc;
        rd = fx_report_doc(x, r->key, r->kind, docs.n > 0 ? "adopted" : "forgotten",
                           docs.n > 0 ? "left in doubt by an earlier attempt; found in JDE"
                                      : "left in doubt by an earlier attempt; not in JDE");
        if (docs.n == 0 && (rc = fx_settled(x, r->key, r->sent_ms, asked, rd, e)) != MLC_OK)
            return rc;
        if (docs.n > 0) {
            if ((rc = order_ledger_adopt(x, r->key, &docs, "in doubt, found in JDE", e)) != MLC_OK)
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

/* ---- what is posted, from the rows --------------------------------------- */

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
int order_ledger_facts(struct fx *x, struct mlc_err *e)
{
    for (size_t i = 0; i < x->ledger.n_rows; i++) {
        struct lrow *r = &x->ledger.rows[i];
        struct mlc_err de;
        struct post_doc d;
        int rc;

        if (r->gone || r->state != STORE_LEDGER_POSTED)
            continue;
        if (strcmp(r->kind, "reversal") == 0) {
            x->posted.reversal_posted = true;
            continue;
        }
        if (strcmp(r->kind, "sale") != 0 && strcmp(r->kind, "refund") != 0)
            continue;
        memset(&d, 0, sizeof(d));
        rc = doc_from_request(r->request, &d, &de);
        if (strcmp(r->kind, "sale") == 0) {
            x->posted.sale_posted = true;
            x->posted.sale_doc_ok = rc == MLC_OK;
            if (rc == MLC_OK) {
                post_doc_clear(&x->posted.sale);
                x->posted.sale = d;
            }
        } else if (rc == MLC_OK) {
            if ((rc = fx_push_ref_doc(x, &d, e)) != MLC_OK) {
                post_doc_clear(&d);
                return rc;
            }
        } else {
            /* Still counts as posted (skipped), but the reversal cannot
             * include it: the reversal holds (see do_reversal). */
            struct post_doc stub = { .kind = POST_KIND_REFUND };

            snprintf(stub.key, sizeof(stub.key), "%s", r->key);
            if ((rc = fx_push_ref_doc(x, &stub, e)) != MLC_OK)
                return rc;
        }
    }
    return MLC_OK;
}

/* ---- the batch's lookups, asked at once ---------------------------------- */

static const struct lrow *row_of(const struct fx *x, const char *key)
{
    for (size_t i = 0; i < x->ledger.n_rows; i++)
        if (strcmp(x->ledger.rows[i].key, key) == 0)
            return &x->ledger.rows[i];
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

    for (size_t i = 0; i < x->ledger.n_rows && rc == MLC_OK; i++) {
        if (x->ledger.rows[i].state == STORE_LEDGER_POSTED)
            continue;
        order_ledger_docid(x, x->ledger.rows[i].request, &id);
        rc = lk_push(lk, cap, x->ledger.rows[i].key, &id, e);
    }
    order_ledger_docid(x, NULL, &id);
    fx_key_of(x, POST_KIND_SALE, 0, key, sizeof(key));
    sale_row = row_of(x, key);
    if (rc == MLC_OK && x->pre_sale && sale_row == NULL)
        rc = lk_push(lk, cap, key, &id, e);
    for (size_t i = 0; i < x->bc.n_refunds && rc == MLC_OK && (x->pre_sale || sale_row); i++) {
        fx_key_of(x, POST_KIND_REFUND, x->bc.refunds[i].id, key, sizeof(key));
        if (row_of(x, key) == NULL)
            rc = lk_push(lk, cap, key, &id, e);
    }
    fx_key_of(x, POST_KIND_REVERSAL, 0, key, sizeof(key));
    if (rc == MLC_OK && sale_row != NULL && x->bc.o.status_id == ORDER_STATUS_CANCELLED &&
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
 * LIST condition. The answers serve order_ledger_lookup() for LOOKUP_FRESH_MS. */
void order_ledger_prefetch(const struct flow_run *r, struct fx *xs, size_t n, struct lk_cache *lk)
{
    struct mlc_err e;
    size_t cap = 0, from = 0;

    free(lk->v);
    memset(lk, 0, sizeof(*lk));

    for (size_t i = 0; i < n; i++) {
        if (fx_alive(&xs[i]) && lk_keys(&xs[i], lk, &cap, &e) != MLC_OK) {
            lk->n = 0; /* out of memory: every lookup goes live */
            return;
        }
    }
    if (lk->n == 0)
        return;
    qsort(lk->v, lk->n, sizeof(*lk->v), cmp_lk);
    lk->at_ms = mono_ms();
    lk->asked_ms = store_now_ms(r->st);
    for (size_t i = 1; i <= lk->n; i++) {
        if (i == lk->n || cmp_lk(&lk->v[from], &lk->v[i]) != 0) {
            lk_query(r, lk, from, i);
            from = i;
        }
    }
}

bool order_ledger_aging(const struct lk_cache *lk)
{
    return lk->n > 0 && mono_ms() - lk->at_ms > LOOKUP_REFRESH_MS;
}
