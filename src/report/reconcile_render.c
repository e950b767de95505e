/*
 * reconcile_render: a day of the reconciliation as JSON, and that JSON as
 * text or CSV. The renderers read only the JSON, so that a report stored
 * months ago prints like a fresh one.
 */
#include "report/reconcile.h"

#include <inttypes.h>
#include <string.h>

#include "core/money.h"

static json_t *amt(int64_t v, int exp)
{
    char buf[MONEY_FMT_MAX];

    if (money_format(v, exp < 0 ? 0 : exp, buf, sizeof(buf)) != MLC_OK)
        snprintf(buf, sizeof(buf), "%" PRId64, v);
    return json_string(buf);
}

static json_t *bc_json(const struct rcn_bc_total *t)
{
    json_t *o = json_object(), *pays = json_array();
    int x = t->exponent;

    json_object_set_new(o, "currency", json_string(t->currency));
    json_object_set_new(o, "orders", json_integer((json_int_t)t->orders));
    json_object_set_new(o, "net_sales", amt(t->net_sales, x));
    json_object_set_new(o, "tax", amt(t->tax, x));
    json_object_set_new(o, "shipping", amt(t->shipping, x));
    json_object_set_new(o, "handling", amt(t->handling, x));
    json_object_set_new(o, "wrapping", amt(t->wrapping, x));
    json_object_set_new(o, "fees", amt(t->fees, x));
    json_object_set_new(o, "discounts", amt(t->discounts, x));
    json_object_set_new(o, "total", amt(t->total, x));
    json_object_set_new(o, "refunds", json_integer((json_int_t)t->refunds));
    json_object_set_new(o, "refunded", amt(t->refunded, x));
    json_object_set_new(o, "refunded_tax", amt(t->refunded_tax, x));
    for (size_t i = 0; i < t->n_payments; i++)
        json_array_append_new(pays, json_pack("{s:s, s:s, s:I, s:o}", "gateway",
                                              t->payments[i].gateway, "method",
                                              t->payments[i].method, "count",
                                              (json_int_t)t->payments[i].count, "amount",
                                              amt(t->payments[i].amount, x)));
    json_object_set_new(o, "payments", pays);
    return o;
}

static json_t *account_json(const struct rcn_account_total *a)
{
    char acct[RCN_ACCT_SIZE];
    json_t *o;

    cfg_account_format(&a->account, acct, sizeof(acct));
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "currency", a->currency, "account", acct,
                  "business_unit", a->account.bu, "object", a->account.obj, "subsidiary",
                  a->account.sub, "description", a->description);
    json_object_set_new(o, "ledger", amt(a->ledger, a->exponent));
    json_object_set_new(o, "jde", amt(a->jde, a->exponent));
    json_object_set_new(o, "difference", amt(a->jde - a->ledger, a->exponent));
    return o;
}

/* The three sides' amounts of an item, as far as each side knows one. */
static void item_sides(json_t *o, const struct rcn_item *it)
{
    json_object_set_new(o, "key", json_string(it->key));
    json_object_set_new(o, "kind", json_string(rcn_kind_name(it->kind)));
    json_object_set_new(o, "order_id", json_integer(it->order_id));
    json_object_set_new(o, "currency", json_string(it->currency));
    json_object_set_new(o, "bigcommerce", it->bc_seen && it->kind != RCN_KIND_REVERSAL
                                              ? amt(it->bc_amount, it->exponent) : json_null());
    json_object_set_new(o, "ledger", it->ledger == RCN_LEDGER_POSTED && it->ledger_has_doc
                                         ? amt(it->ledger_amount, it->exponent) : json_null());
    json_object_set_new(o, "ledger_document", it->ledger == RCN_LEDGER_POSTED
                                                  ? json_integer(it->ledger_doc) : json_null());
    {
        json_t *docs = json_array();

        for (size_t i = 0; i < it->n_jde; i++)
            json_array_append_new(docs, json_integer(it->jde[i].doc));
        json_object_set_new(o, "jde_documents", docs);
    }
}

int rcn_day_json(const struct rcn_day *d, json_t **out, struct mlc_err *e)
{
    json_t *o = json_object(), *bc = json_array(), *accts = json_array(), *bal = json_array(),
           *diffs = json_array(), *infos = json_array();
    char day[16];
    size_t posted = 0, in_jde = 0;

    *out = NULL;
    if (o == NULL || bc == NULL || accts == NULL || bal == NULL || diffs == NULL ||
        infos == NULL) {
        json_decref(o); json_decref(bc); json_decref(accts);
        json_decref(bal); json_decref(diffs); json_decref(infos);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    }
    jdate_iso_date_format(&d->day, day, sizeof(day), NULL);
    for (size_t i = 0; i < d->n_items; i++) {
        posted += d->items[i].ledger == RCN_LEDGER_POSTED;
        in_jde += d->items[i].n_jde > 0;
    }
    json_object_set_new(o, "kind", json_string("reconcile"));
    json_object_set_new(o, "day", json_string(day));
    json_object_set_new(o, "timezone", json_string(d->timezone));
    json_object_set_new(o, "mode", json_string(d->voucher ? "voucher" : "journal"));
    json_object_set_new(o, "agree", json_boolean(d->n_diffs == 0));
    json_object_set_new(o, "difference_count", json_integer((json_int_t)d->n_diffs));
    json_object_set_new(o, "documents", json_pack("{s:I, s:I, s:I}", "keys",
                                                  (json_int_t)d->n_items, "posted",
                                                  (json_int_t)posted, "in_jde",
                                                  (json_int_t)in_jde));
    for (size_t i = 0; i < d->n_bc; i++)
        json_array_append_new(bc, bc_json(&d->bc[i]));
    for (size_t i = 0; i < d->n_accounts; i++)
        json_array_append_new(accts, account_json(&d->accounts[i]));
    for (size_t i = 0; i < d->n_balances; i++) {
        const struct rcn_balance *b = &d->balances[i];
        json_t *x = json_pack("{s:s}", "currency", b->currency);

        json_object_set_new(x, "ledger", amt(b->ledger_sum, b->exponent));
        json_object_set_new(x, "jde", amt(b->jde_sum, b->exponent));
        json_object_set_new(x, "balanced", json_boolean(d->voucher ||
                                                        (b->ledger_sum == 0 && b->jde_sum == 0)));
        json_array_append_new(bal, x);
    }
    for (size_t i = 0; i < d->n_diffs; i++) {
        const struct rcn_diff *df = &d->diffs[i];
        json_t *x = json_pack("{s:s}", "reason", rcn_reason_name(df->reason));

        if (df->missing != RCN_MISS_NONE)
            json_object_set_new(x, "why", json_string(rcn_missing_name(df->missing)));
        item_sides(x, &d->items[df->item]);
        json_object_set_new(x, "detail", json_string(df->detail));
        json_object_set_new(x, "action", json_string(df->action));
        json_array_append_new(diffs, x);
    }
    for (size_t i = 0; i < d->n_infos; i++) {
        const struct rcn_info *in = &d->infos[i];
        json_t *x = json_pack("{s:s}", "reason", rcn_info_name(in->kind));

        item_sides(x, &d->items[in->item]);
        json_object_set_new(x, "detail", json_string(in->detail));
        json_array_append_new(infos, x);
    }
    json_object_set_new(o, "bigcommerce", bc);
    json_object_set_new(o, "accounts", accts);
    json_object_set_new(o, "balance", bal);
    json_object_set_new(o, "differences", diffs);
    json_object_set_new(o, "information", infos);
    *out = o;
    return MLC_OK;
}

int64_t rcn_json_differences(const json_t *day)
{
    return json_integer_value(json_object_get(day, "difference_count"));
}

/* ---- text ---------------------------------------------------------------------- */

static const char *s_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

static const char *amt_or_dash(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "-";
}

int rcn_render_text(const json_t *day, FILE *out, struct mlc_err *e)
{
    const json_t *arr, *x, *p;
    size_t i, k;

    if (!json_is_object(day))
        return mlc_err_set(e, MLC_EINVAL, "report: not a reconcile day");
    fprintf(out, "Reconciliation of %s (%s, %s mode): %s\n", s_of(day, "day"),
            s_of(day, "timezone"), s_of(day, "mode"),
            json_is_true(json_object_get(day, "agree")) ? "the sides agree"
                                                        : "the sides DIFFER");
    fprintf(out, "\nBigCommerce\n");
    arr = json_object_get(day, "bigcommerce");
    if (json_array_size(arr) == 0)
        fprintf(out, "  no paid orders or refunds\n");
    json_array_foreach(arr, i, x) {
        fprintf(out, "  %s  orders %" JSON_INTEGER_FORMAT "  net sales %s  tax %s  shipping %s"
                "  handling %s  wrapping %s  fees %s  discounts %s  total %s\n",
                s_of(x, "currency"), json_integer_value(json_object_get(x, "orders")),
                s_of(x, "net_sales"), s_of(x, "tax"), s_of(x, "shipping"), s_of(x, "handling"),
                s_of(x, "wrapping"), s_of(x, "fees"), s_of(x, "discounts"), s_of(x, "total"));
        fprintf(out, "  %s  refunds %" JSON_INTEGER_FORMAT "  refunded %s (tax %s)\n",
                s_of(x, "currency"), json_integer_value(json_object_get(x, "refunds")),
                s_of(x, "refunded"), s_of(x, "refunded_tax"));
        json_array_foreach(json_object_get(x, "payments"), k, p)
            fprintf(out, "    payments %-14s %-18s %4" JSON_INTEGER_FORMAT "  %s\n",
                    s_of(p, "gateway"), s_of(p, "method"),
                    json_integer_value(json_object_get(p, "count")), s_of(p, "amount"));
    }
    fprintf(out, "\nJDE accounts (ledger = what mlc posted, jde = read back from JDE)\n");
    arr = json_object_get(day, "accounts");
    if (json_array_size(arr) == 0)
        fprintf(out, "  none\n");
    else
        fprintf(out, "  %-4s %-22s %-30s %14s %14s %14s\n", "cur", "account", "description",
                "ledger", "jde", "difference");
    json_array_foreach(arr, i, x)
        fprintf(out, "  %-4s %-22s %-30s %14s %14s %14s\n", s_of(x, "currency"),
                s_of(x, "account"), s_of(x, "description"), s_of(x, "ledger"), s_of(x, "jde"),
                s_of(x, "difference"));
    json_array_foreach(json_object_get(day, "balance"), i, x)
        fprintf(out, "  %s balance: ledger %s, jde %s%s\n", s_of(x, "currency"),
                s_of(x, "ledger"), s_of(x, "jde"),
                json_is_true(json_object_get(x, "balanced")) ? "" : "  NOT BALANCED");
    arr = json_object_get(day, "differences");
    fprintf(out, "\nDifferences: %zu\n", json_array_size(arr));
    json_array_foreach(arr, i, x) {
        const char *why = s_of(x, "why");

        fprintf(out, "  %s  %s%s%s  order %" JSON_INTEGER_FORMAT "  bigcommerce %s  ledger %s\n",
                s_of(x, "key"), s_of(x, "reason"), why[0] ? "/" : "", why,
                json_integer_value(json_object_get(x, "order_id")), amt_or_dash(x, "bigcommerce"),
                amt_or_dash(x, "ledger"));
        fprintf(out, "      %s\n      to do: %s\n", s_of(x, "detail"), s_of(x, "action"));
    }
    arr = json_object_get(day, "information");
    fprintf(out, "\nFor information (not differences): %zu\n", json_array_size(arr));
    json_array_foreach(arr, i, x)
        fprintf(out, "  %s  %s  order %" JSON_INTEGER_FORMAT ": %s\n", s_of(x, "key"),
                s_of(x, "reason"), json_integer_value(json_object_get(x, "order_id")),
                s_of(x, "detail"));
    return MLC_OK;
}

/* ---- CSV ------------------------------------------------------------------------ */

static void csv_field(FILE *out, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;

    if (quote) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

#define CSV_COLS 11

static void csv_row(FILE *out, const char *const f[CSV_COLS])
{
    for (size_t i = 0; i < CSV_COLS; i++)
        csv_field(out, f[i] != NULL ? f[i] : "", i + 1 == CSV_COLS);
}

void rcn_render_csv_header(FILE *out)
{
    static const char *const h[CSV_COLS] = { "day", "section", "currency", "key", "reason",
                                             "account", "description", "bigcommerce",
                                             "ledger", "jde", "detail" };
    csv_row(out, h);
}

int rcn_render_csv(const json_t *day, FILE *out, struct mlc_err *e)
{
    const char *d = s_of(day, "day");
    const json_t *x, *p;
    size_t i, k;
    char n[32];

    if (!json_is_object(day))
        return mlc_err_set(e, MLC_EINVAL, "report: not a reconcile day");
    json_array_foreach(json_object_get(day, "bigcommerce"), i, x) {
        static const char *const f[] = { "net_sales", "tax", "shipping", "handling", "wrapping",
                                         "fees", "discounts", "total", "refunded",
                                         "refunded_tax" };
        snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(x, "orders")));
        csv_row(out, (const char *[]){ d, "bigcommerce", s_of(x, "currency"), "", "orders",
                                       "", "", n, "", "", "" });
        snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(x, "refunds")));
        csv_row(out, (const char *[]){ d, "bigcommerce", s_of(x, "currency"), "", "refunds",
                                       "", "", n, "", "", "" });
        for (k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            csv_row(out, (const char *[]){ d, "bigcommerce", s_of(x, "currency"), "", f[k], "",
                                           "", s_of(x, f[k]), "", "", "" });
        json_array_foreach(json_object_get(x, "payments"), k, p) {
            char what[80];

            snprintf(what, sizeof(what), "payments %s/%s", s_of(p, "gateway"),
                     s_of(p, "method"));
            csv_row(out, (const char *[]){ d, "bigcommerce", s_of(x, "currency"), "", what, "",
                                           "", s_of(p, "amount"), "", "", "" });
        }
    }
    json_array_foreach(json_object_get(day, "accounts"), i, x)
        csv_row(out, (const char *[]){ d, "account", s_of(x, "currency"), "", "",
                                       s_of(x, "account"), s_of(x, "description"), "",
                                       s_of(x, "ledger"), s_of(x, "jde"), "" });
    json_array_foreach(json_object_get(day, "differences"), i, x) {
        char reason[64], detail[RCN_TEXT_SIZE * 4];
        const char *why = s_of(x, "why");

        snprintf(reason, sizeof(reason), "%s%s%s", s_of(x, "reason"), why[0] ? "/" : "", why);
        snprintf(detail, sizeof(detail), "%s. To do: %s", s_of(x, "detail"), s_of(x, "action"));
        csv_row(out, (const char *[]){ d, "difference", s_of(x, "currency"), s_of(x, "key"),
                                       reason, "", "", s_of(x, "bigcommerce"),
                                       s_of(x, "ledger"), "", detail });
    }
    json_array_foreach(json_object_get(day, "information"), i, x)
        csv_row(out, (const char *[]){ d, "information", s_of(x, "currency"), s_of(x, "key"),
                                       s_of(x, "reason"), "", "", s_of(x, "bigcommerce"), "",
                                       "", s_of(x, "detail") });
    return MLC_OK;
}
