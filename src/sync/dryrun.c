/* dryrun: sample calls in the orchestrations' validation mode (dryrun.h). */
#include "sync/dryrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"
#include "core/money.h"
#include "core/tz.h"
#include "bc/bc_customers.h"
#include "sync/customer_flow.h"
#include "sync/order_flow.h"
#include "sync/posting.h"

bool dryrun_supported(const json_t *d, const struct cfg_jde *cfg)
{
    const char *want = ais_orch_rename(cfg, DRYRUN_INPUT);
    const json_t *x;
    size_t i;

    json_array_foreach(json_object_get(d, "inputs"), i, x) {
        const char *n = json_string_value(json_object_get(x, "name"));

        if (n != NULL && strcmp(n, want) == 0)
            return true;
    }
    return false;
}

/* The GL date of a sample: today in the posting time zone. */
static int today(int64_t now, struct jdate_civil *out, struct mlc_err *e)
{
    int64_t local = now + (int64_t)tz_offset_min(now) * 60;
    int64_t days = local / 86400 - (local % 86400 < 0);

    return jdate_civil_from_days(days, out, e);
}

/* One line on account a, in the business unit its role posts in (§4). */
static void sample_line(const struct cfg_posting *p, enum post_role role,
                        const struct cfg_account *a, int64_t amount, struct post_line *out)
{
    const char *bu = post_line_bu(p, role, NULL, NULL);

    memset(out, 0, sizeof(*out));
    out->account = *a;
    if (bu != NULL)
        snprintf(out->account.bu, sizeof(out->account.bu), "%s", bu);
    out->amount = amount;
    out->role = role;
    snprintf(out->remark, sizeof(out->remark), "mlc ping dry run");
}

/* A journal entry of one unit, revenue against clearing, or the voucher
 * of the same sale (§6: the clearing side is JDE's AP offset). */
static int sample_doc(const struct mlc_config *cfg, enum ais_orch_kind k, const char *currency,
                      int64_t now, const char *key, struct post_doc *d, struct mlc_err *e)
{
    const struct cfg_posting *p = &cfg->posting;
    int64_t unit = 1;
    int rc;

    memset(d, 0, sizeof(*d));
    if (currency == NULL || currency[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "the store's currency is not known (the BigCommerce "
                           "store step did not answer)");
    if ((rc = money_exponent(currency, &d->exponent, e)) != MLC_OK)
        return rc;
    for (int i = 0; i < d->exponent; i++)
        unit *= 10;
    if (k == AIS_ORCH_VOUCHER && (p->default_supplier == NULL || p->default_supplier[0] == '\0'))
        return mlc_err_set(e, MLC_EINVAL, "posting.default_supplier is not set: the sample "
                           "voucher needs a supplier");
    d->kind = POST_KIND_SALE;
    d->mode = k == AIS_ORCH_VOUCHER ? CFG_POST_VOUCHER : CFG_POST_JOURNAL;
    snprintf(d->key, sizeof(d->key), "%s", key);
    snprintf(d->company, sizeof(d->company), "%s", p->company != NULL ? p->company : "");
    snprintf(d->doc_type, sizeof(d->doc_type), "%s",
             d->mode == CFG_POST_VOUCHER ? "PV" : p->document_type);
    snprintf(d->ledger_type, sizeof(d->ledger_type), "%s", p->ledger_type);
    snprintf(d->explanation, sizeof(d->explanation), "mlc ping dry run");
    snprintf(d->currency, sizeof(d->currency), "%s", currency);
    if ((rc = today(now, &d->gl_date, e)) != MLC_OK)
        return rc;
    d->lines = calloc(2, sizeof(*d->lines));
    if (d->lines == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (d->mode == CFG_POST_VOUCHER) {
        snprintf(d->supplier, sizeof(d->supplier), "%s", p->default_supplier);
        d->gross = unit;
        sample_line(p, POST_ROLE_REVENUE, &p->accounts.revenue, unit, &d->lines[0]);
        d->n_lines = 1;
    } else {
        sample_line(p, POST_ROLE_PAYMENT, &p->accounts.clearing, unit, &d->lines[0]);
        sample_line(p, POST_ROLE_REVENUE, &p->accounts.revenue, -unit, &d->lines[1]);
        d->n_lines = 2;
    }
    return post_doc_check(d, e);
}

static int sample_customer(const struct mlc_config *cfg, int64_t now, char *key, size_t cap,
                           struct ais_orch_in **in, struct mlc_err *e)
{
    struct cust_opts o = cust_opts_of(cfg);
    struct bc_customer c = { .id = now, .first_name = "MLC PING", .last_name = "TEST",
                             .email = "mlc-ping@example.invalid" };
    struct cust_map m = { 0 };
    int rc;

    o.key_prefix = DRYRUN_KEY_PREFIX;
    if ((rc = cust_map_build(&c, &o, &m, e)) == MLC_OK) {
        snprintf(key, cap, "%s", m.v[CUST_F_LONG_ADDRESS]);
        rc = cust_orch_inputs(&m, 0, in, e);
    }
    cust_map_clear(&m);
    return rc;
}

int dryrun_sample(const struct mlc_config *cfg, enum ais_orch_kind k, const char *currency,
                  int64_t now, struct dryrun_sample *out, struct mlc_err *e)
{
    struct post_doc d;
    int rc;

    memset(out, 0, sizeof(*out));
    switch (k) {
    case AIS_ORCH_JOURNAL:
    case AIS_ORCH_VOUCHER:
        snprintf(out->key, sizeof(out->key), DRYRUN_KEY_PREFIX "%lld", (long long)now);
        rc = sample_doc(cfg, k, currency, now, out->key, &d, e);
        if (rc == MLC_OK)
            rc = order_orch_inputs(&d, &out->in, e);
        post_doc_clear(&d);
        break;
    case AIS_ORCH_ADD_CUSTOMER:
        rc = sample_customer(cfg, now, out->key, sizeof(out->key), &out->in, e);
        break;
    default:
        return mlc_err_set(e, MLC_ESTATE, "no sample: an update needs a real customer");
    }
    if (rc == MLC_OK)
        rc = ais_orch_in_str(out->in, DRYRUN_INPUT, "1", e);
    if (rc != MLC_OK)
        dryrun_sample_clear(out);
    return rc;
}

void dryrun_sample_clear(struct dryrun_sample *s)
{
    ais_orch_in_free(s->in);
    memset(s, 0, sizeof(*s));
}

enum dryrun_outcome dryrun_judge(int rc, const struct ais_orch_result *res, int64_t *doc)
{
    char v[8];
    struct mlc_err ie;

    *doc = 0;
    if (rc != MLC_OK)
        return res->rejected ? DRYRUN_REFUSED : DRYRUN_NO_ANSWER;
    if (ais_orch_out_i64(res, "DocumentNumber", doc, &ie) == MLC_OK ||
        ais_orch_out_i64(res, "AddressNumber", doc, &ie) == MLC_OK)
        return DRYRUN_WROTE;
    *doc = 0;
    if (ais_orch_out_str(res, DRYRUN_OUTPUT, v, sizeof(v), &ie) == MLC_OK &&
        (strcmp(v, "1") == 0 || strcmp(v, "true") == 0))
        return DRYRUN_VALIDATED;
    return DRYRUN_UNCLEAR;
}
