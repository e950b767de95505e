/* order_post: validation and the idempotent create of one document (see
 * order_flow_int.h). */
#include "sync/order_flow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "jde/ais_orch.h"
#include "sync/accounts.h"
#include "sync/env.h"

/* ---- orchestration inputs ------------------------------------------------ */

static void set_str(json_t *o, const char *k, const char *v)
{
    if (o != NULL && v != NULL)
        json_object_set_new(o, k, json_string(v));
}

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

int order_orch_inputs(const struct post_doc *d, struct ais_orch_in **out, struct mlc_err *e)
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

/* ---- the idempotent create ----------------------------------------------- */

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

/* The POSTED mark and its audit row in one transaction (one flush of the
 * store's log, not two). detail: taken. A failure leaves the row PENDING,
 * audited as an error; the next attempt finds the document and adopts. */
static int mark_posted(struct fx *x, const char *key, const struct created *c, json_t *detail,
                       struct mlc_err *e)
{
    struct store *st = x->r->st;
    int rc = store_tx_begin(st, e);

    if (rc != MLC_OK)
        goto out;
    /* A refused mark (the lease was lost) must end the transaction too: left
     * open, it would hold every later write of this connection uncommitted. */
    if ((rc = store_ledger_mark_posted(st, key, c->dct, c->kco, c->doc, c->batch, e)) != MLC_OK) {
        store_tx_rollback(st);
        goto out;
    }
    fx_audit(x, "post", "ok", json_incref(detail));
    rc = store_tx_commit(st, e);
out:
    if (rc != MLC_OK)
        fx_audit(x, "post", "error", json_incref(detail));
    json_decref(detail);
    return rc;
}

/* Sends the create for d, whose PENDING ledger row exists, if still before
 * send_by (flow_send_by, taken before the row's begin). */
static int create(struct fx *x, const struct post_doc *d, int64_t send_by, json_t *rd,
                  struct mlc_err *e)
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

    if ((rc = order_orch_inputs(d, &in, e)) != MLC_OK) {
        store_ledger_forget(x->r->st, d->key, &le); /* nothing was sent */
        return flow_hold(e, &x->hold_code, HOLD_OTHER, "%s: cannot build the orchestration inputs: %s", d->key, e->msg);
    }
    rc = ais_orch_call_by(s, ais_orch_name(s, k), in, send_by, &res, e);
    ais_orch_in_free(in);
    post_doc_total(d, &total, NULL);
    if (rc == MLC_OK && created_of(&res, d, &c, e) != MLC_OK) {
        /* It answered OK without a number: JDE is asked on the retry. */
        no_number = true;
        rc = MLC_EPROTO;
        mlc_err_wrap(e, "%s: JDE answered without a document number", d->key);
    }
    if (rc == MLC_OK) {
        json_t *detail = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:I}",
                                   "key", d->key, "kind", post_kind_name(d->kind),
                                   "orchestration", ais_orch_name(s, k),
                                   "doc_number", (json_int_t)c.doc, "doc_type", c.dct,
                                   "company", c.kco, "batch", (json_int_t)c.batch,
                                   "lines", (json_int_t)d->n_lines, "currency", d->currency,
                                   "total_minor", (json_int_t)(d->mode == CFG_POST_VOUCHER
                                                               ? d->gross : total));

        rc = mark_posted(x, d->key, &c, detail, e);
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
        fx_audit(x, "post", "rejected", json_pack("{s:s, s:s}", "key", d->key, "error", msg));
        set_str(rd, "action", "rejected");
        rc = flow_hold(e, &x->hold_code,
                       hold_code_of_jde_refusal(msg, d->mode == CFG_POST_VOUCHER),
                       "%s: JD Edwards refused the %s: %s", d->key, post_kind_name(d->kind),
                       msg);
        goto out;
    }
    if (res.reauth || res.not_sent) {
        /* AIS refused the token before running anything (444), or the send
         * window had passed: nothing was written, the row goes and the next
         * attempt starts over. */
        store_ledger_forget(x->r->st, d->key, &le);
        fx_audit(x, "post", "not_sent",
                 json_pack("{s:s, s:s}", "key", d->key, "error", e->msg));
        set_str(rd, "action", "not sent");
        if (rc >= 0)
            rc = MLC_EAUTH;
        goto out;
    }
    /* No answer, a gateway's status or a transport error: it may have
     * committed, or may still. The row stays in doubt; JDE is asked again
     * shortly (found: adopted), and "absent" counts only after the settle
     * time (order_ledger_resolve). */
    if (store_ledger_mark_unknown(x->r->st, d->key, &le) != MLC_OK)
        log_warn("flow", "cannot mark the ledger row unknown", LF_STR("key", d->key),
                 LF_ERR(&le));
    fx_audit(x, "post", "unknown",
             json_pack("{s:s, s:s, s:b, s:I}", "key", d->key, "error", e->msg,
                       "outcome_unknown", res.outcome_unknown, "status", (json_int_t)res.status));
    set_str(rd, "action", "unknown");
    mlc_err_wrap(e, "%s: outcome unknown, JDE is looked up before any new attempt", d->key);
    x->defer_until = store_now_ms(x->r->st) + FLOW_RECHECK_MS;
    rc = FLOW_DEFERRED;
out:
    ais_orch_result_clear(&res);
    return rc;
}

/* The idempotent create of posting rules §3 for one validated document. */
static int post_idempotent(struct fx *x, const struct post_doc *d, json_t *rd,
                           struct mlc_err *e)
{
    struct store_ledger row = { 0 };
    struct ais_docs docs;
    struct docid id;
    int64_t asked = 0, send_by;
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
    order_ledger_docid(x, NULL, &id);
    id.voucher = d->mode == CFG_POST_VOUCHER;
    flow_kco_pad(d->company, id.company);
    snprintf(id.dct, sizeof(id.dct), "%s", d->doc_type);
    if ((rc = order_ledger_lookup(x, &id, d->key,
                                  have_row ? flow_settle_deadline(x->r, row.created_at) : 0,
                                  &docs, &asked, e)) != MLC_OK)
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
        rc = order_ledger_adopt(x, d->key, &docs, have_row ? "in doubt, found in JDE"
                                                           : "no ledger row, found in JDE", e);
        set_str(rd, "action", "adopted");
        json_object_set_new(rd, "doc_number", json_integer(docs.doc[0]));
        goto out;
    }
    /* A row in doubt that JDE does not have: once it can no longer land,
     * start again with this document. */
    if (have_row && (rc = fx_settled(x, d->key, row.created_at, asked, rd, e)) != MLC_OK)
        goto out;
    if (have_row && (rc = store_ledger_forget(x->r->st, d->key, e)) != MLC_OK)
        goto out;
    send_by = flow_send_by();
    rc = store_ledger_begin(x->r->st, d->key, post_kind_name(d->kind), x->entity, req, e);
    if (rc == MLC_OK)
        rc = create(x, d, send_by, rd, e);
out:
    free(req);
    json_decref(dj);
    store_ledger_clear(&row);
    return rc;
}

/* ---- validation, then the create ----------------------------------------- */

/* Validates d's accounts and business units, then posts it (or, dry, says
 * it would). MLC_OK once posted. */
int order_post_emit(struct fx *x, const struct post_doc *d, struct mlc_err *e)
{
    struct post_refs refs = { 0 };
    enum acct_reason why = 0;
    char problem[POST_HOLD_MAX];
    json_t *rd, *dj = NULL, *val;
    int64_t total = 0;
    bool ok = false;
    int rc;

    rd = fx_report_doc(x, d->key, post_kind_name(d->kind), "build", NULL);
    if (post_doc_to_json(d, &dj, e) == MLC_OK && rd != NULL)
        json_object_set_new(rd, "document", dj);
    else
        json_decref(dj);
    post_doc_total(d, &total, NULL);
    if ((rc = post_doc_refs(d, &refs, e)) != MLC_OK)
        return rc;
    rc = acct_check(env_accounts(x->r->env), env_ais(x->r->env), &refs, &ok, &why, problem,
                    sizeof(problem), e);
    val = json_pack("{s:b, s:I, s:I}", "ok", ok, "accounts", (json_int_t)refs.n_accounts,
                    "business_units", (json_int_t)refs.n_bus);
    post_refs_clear(&refs);
    if (rc != MLC_OK) {
        json_decref(val);
        mlc_err_wrap(e, "%s: account validation", d->key);
        fx_audit(x, "validate", "error", json_pack("{s:s, s:s}", "key", d->key, "error", e->msg));
        return rc;
    }
    if (!ok && val != NULL)
        json_object_set_new(val, "problem", json_string(problem));
    if (rd != NULL && val != NULL)
        json_object_set(rd, "validation", val);
    if (val != NULL)
        json_object_set_new(val, "key", json_string(d->key));
    fx_audit(x, "validate", ok ? "ok" : "held", val);
    if (!ok) {
        set_str(rd, "action", "held");
        return flow_hold(e, &x->hold_code, why == ACCT_NOT_POSTABLE ? HOLD_ACCOUNT_NOT_POSTABLE
                                                                    : HOLD_ACCOUNT_MISSING,
                         "%s: %s", d->key, problem);
    }
    if (x->r->dry_run) {
        set_str(rd, "action", "would post");
        return MLC_OK;
    }
    set_str(rd, "action", "post");
    return post_idempotent(x, d, rd, e);
}
