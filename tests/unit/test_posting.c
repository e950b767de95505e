/* Unit tests: sync/posting, the pure posting engine (posting rules §3-§6).
 *
 * Fixture orders are real BigCommerce response bodies in
 * tests/unit/data/orders/ (decoded with bc_decode, then posted); each test
 * writes out the exact lines expected. Run from the repository root.
 * Ends with a property test over 20 000 generated orders. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_decode.h"
#include "core/config.h"
#include "core/json.h"
#include "core/money.h"
#include "core/order.h"
#include "sync/posting.h"

#define DATA "tests/unit/data/orders/"

/* ---- configuration ------------------------------------------------------ */

/* posting.* keys vary per test: mode, on_cancel, gl_date, extra lines and the
 * optional accounts. */
static struct mlc_config *load_cfg(const char *mode, const char *on_cancel,
                                   const char *gl_date, const char *extra,
                                   bool optional_accounts)
{
    static const char tmpl[] =
        "bigcommerce:\n"
        "  store_hash: abc123\n"
        "  token_ref: bc_token\n"
        "jde:\n"
        "  ais_base_url: \"https://ais.example.com\"\n"
        "  user: MLCSVC\n"
        "  password_ref: jde_password\n"
        "posting:\n"
        "  mode: %s\n"
        "  on_cancel: %s\n"
        "  gl_date: %s\n"
        "  company: \"00001\"\n"
        "  balance_sheet_bu: \"1\"\n"
        "  default_bu: \"100\"\n"
        "  default_supplier: \"4242\"\n"
        "%s"
        "  bu_by_channel:\n"
        "    \"2\": \"200\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4090\"\n"
        "    shipping: \"100.4020\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1150\"\n"
        "    rounding: \"100.8990\"\n"
        "%s"
        "  revenue_by_sku:\n"
        "    \"SKU-A\": \"100.4011\"\n"
        "    \"SKU-B\": \"100.4012\"\n"
        "  revenue_by_category:\n"
        "    \"23\": \"100.4013\"\n"
        "    \"40\": \"100.4014\"\n"
        "  clearing_by_gateway:\n"
        "    stripe: \"1.1151\"\n"
        "    braintree: \"1.1153\"\n"
        "  clearing_by_method:\n"
        "    \"Cash on Delivery\": \"1.1152\"\n"
        "  supplier_by_gateway:\n"
        "    stripe: \"4243\"\n"
        "orders:\n"
        "  start: \"2020-01-01T00:00:00Z\"\n";
    static const char optional[] =
        "    handling: \"100.4030\"\n"
        "    wrapping: \"100.4040\"\n"
        "    fees: \"100.4050\"\n"
        "    gift_certificate: \"1.2410\"\n"
        "    store_credit: \"1.2420\"\n";
    char text[4096];
    struct mlc_config *c = NULL;
    struct mlc_err e;
    int n = snprintf(text, sizeof(text), tmpl, mode, on_cancel, gl_date, extra,
                     optional_accounts ? optional : "");

    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (cfg_load_buffer("test.yaml", text, (size_t)n, &c, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
    return c;
}

static struct mlc_config *journal_cfg(void)
{
    return load_cfg("journal", "reverse", "created", "", true);
}

static struct mlc_config *voucher_cfg(void)
{
    return load_cfg("voucher", "reverse", "created", "", true);
}

/* ---- fixtures ----------------------------------------------------------- */

struct fixture {
    struct order         o;
    struct order_refund *refunds;
    size_t               n_refunds;
};

static void fixture_free(struct fixture *f)
{
    order_clear(&f->o);
    order_refunds_free(f->refunds, f->n_refunds);
    memset(f, 0, sizeof(*f));
}

static void check(int rc, const struct mlc_err *e, const char *what)
{
    if (rc != MLC_OK)
        fail_msg("%s: %s", what, e->msg);
}

/* Decodes one fixture file: the v2 order, then each sub-resource body that
 * the file holds (products, catalog categories, transactions, refunds). */
static void load_fixture(const char *name, struct fixture *f)
{
    char path[256];
    json_error_t je;
    struct mlc_err e;
    json_t *root, *v;

    memset(f, 0, sizeof(*f));
    snprintf(path, sizeof(path), DATA "%s", name);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    check(bcd_order(json_object_get(root, "order"), &f->o, &e), &e, "order");
    if ((v = json_object_get(root, "products")) != NULL)
        check(bcd_products(v, &f->o, &e), &e, "products");
    if ((v = json_object_get(root, "catalog")) != NULL)
        check(bcd_product_categories(v, &f->o, &e), &e, "catalog");
    if (json_object_get(root, "transactions") != NULL)
        check(bcd_transactions(json_null() == json_object_get(root, "transactions") ? NULL
                               : json_object_get(root, "transactions"), &f->o, &e),
              &e, "transactions");
    if ((v = json_object_get(root, "refunds")) != NULL)
        check(bcd_refunds(v, &f->o, &f->refunds, &f->n_refunds, &e), &e, "refunds");
    json_decref(root);
}

/* ---- expectations ------------------------------------------------------- */

struct xl {
    const char *account;
    int64_t     amount;
};

static void print_doc(const struct post_doc *d)
{
    char acct[40];

    print_message("%s %s gross=%lld supplier=%s\n", d->key, post_kind_name(d->kind),
                  (long long)d->gross, d->supplier);
    for (size_t i = 0; i < d->n_lines; i++) {
        cfg_account_format(&d->lines[i].account, acct, sizeof(acct));
        print_message("  %-16s %12lld  %s\n", acct, (long long)d->lines[i].amount,
                      d->lines[i].remark);
    }
}

static const struct post_line *find_line(const struct post_doc *d, const char *account)
{
    char acct[40];

    for (size_t i = 0; i < d->n_lines; i++) {
        cfg_account_format(&d->lines[i].account, acct, sizeof(acct));
        if (strcmp(acct, account) == 0)
            return &d->lines[i];
    }
    return NULL;
}

/* The document has exactly these lines (any order) and balances. */
static void assert_lines(const struct post_doc *d, const struct xl *x, size_t n)
{
    struct mlc_err e;

    if (d->n_lines != n)
        print_doc(d);
    assert_int_equal(d->n_lines, n);
    for (size_t i = 0; i < n; i++) {
        const struct post_line *l = find_line(d, x[i].account);
        if (l == NULL || l->amount != x[i].amount) {
            print_doc(d);
            fail_msg("line %s: expected %lld, got %s%lld", x[i].account,
                     (long long)x[i].amount, l == NULL ? "no line " : "",
                     l != NULL ? (long long)l->amount : 0LL);
        }
        assert_true(strlen(l->remark) <= POST_TEXT_MAX);
    }
    assert_int_equal(post_doc_check(d, &e), MLC_OK);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void sale_ok(const struct order *o, const struct mlc_config *c,
                    const struct post_opts *opts, struct post_doc *d)
{
    struct post_hold h = { .code = HOLD_OTHER };
    struct mlc_err e = { 0, "" };
    int rc = post_sale(o, &c->posting, opts, d, &h, &e);

    if (rc != MLC_OK)
        fail_msg("sale of order %lld: rc %d: %s%s", (long long)o->id, rc, h.reason, e.msg);
}

static void refund_ok(const struct fixture *f, size_t i, const struct mlc_config *c,
                      struct post_doc *d)
{
    struct post_hold h = { .code = HOLD_OTHER };
    struct mlc_err e = { 0, "" };
    int rc = post_refund(&f->o, &f->refunds[i], &c->posting, NULL, d, &h, &e);

    if (rc != MLC_OK)
        fail_msg("refund %lld: rc %d: %s%s", (long long)f->refunds[i].id, rc, h.reason, e.msg);
}

/* ---- §4 sales ------------------------------------------------------------ */

/* Every line type: revenue by SKU, by category (lowest mapped id of 23/40),
 * default; discount + coupon; shipping; handling; wrapping; fees; tax; the
 * capture counted (not the authorization, not the failed purchase); 4 dp
 * source amounts rounded first; a one-cent rounding line. */
static void test_sale_every_line(void **state)
{
    static const struct xl x[] = {
        { "100.4011", -5000 }, { "100.4013", -3000 }, { "100.4010", -2000 },
        { "100.4090", 1500 },  { "100.4020", -800 },  { "100.4030", -200 },
        { "100.4040", -150 },  { "100.4050", -300 },  { "1.2310", -821 },
        { "1.1151", 10770 },   { "100.8990", 1 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;
    const struct post_line *l;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, x, N(x));
    assert_string_equal(d.key, "BC101S");
    assert_int_equal(d.kind, POST_KIND_SALE);
    assert_int_equal(d.mode, CFG_POST_JOURNAL);
    assert_string_equal(d.company, "00001");
    assert_string_equal(d.doc_type, "JE");
    assert_string_equal(d.ledger_type, "AA");
    assert_string_equal(d.currency, "USD");
    assert_int_equal(d.exponent, 2);
    assert_string_equal(d.explanation, "Order 101");
    /* date_created Tue, 05 Mar 2024 23:30:00 +0000, store in UTC */
    assert_int_equal(d.gl_date.year, 2024);
    assert_int_equal(d.gl_date.month, 3);
    assert_int_equal(d.gl_date.day, 5);
    l = find_line(&d, "100.8990");
    assert_int_equal(l->role, POST_ROLE_ROUNDING);
    assert_string_equal(l->remark, "Rounding");
    assert_string_equal(find_line(&d, "1.1151")->remark, "Payment stripe");
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* Tax-inclusive store, channel 2 (revenue BU 200), products from
 * consignments, gift certificate + card. */
static void test_sale_tax_inclusive_gift_certificate(void **state)
{
    static const struct xl x[] = {
        { "200.4012", -5000 }, { "200.4011", -3000 }, { "200.4010", -908 },
        { "200.4020", -1000 }, { "1.2310", -991 },    { "1.2410", 2000 },
        { "1.1153", 8899 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    assert_true(f.o.is_tax_inclusive);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, x, N(x));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_sale_store_credit_and_card(void **state)
{
    static const struct xl x[] = {
        { "100.4011", -4000 }, { "100.4020", -500 }, { "1.2420", 1500 }, { "1.1151", 3000 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o103_store_credit.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, x, N(x));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* No transactions: the whole total is unmatched, by the payment_method map
 * ("Cash on Delivery"), else the default clearing account. */
static void test_sale_offline(void **state)
{
    static const struct xl x[] = {
        { "100.4012", -2500 }, { "1.2310", -200 }, { "1.1152", 2700 },
    };
    static const struct xl x2[] = {
        { "100.4012", -2500 }, { "1.2310", -200 }, { "1.1150", 2700 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o104_offline.json", &f);
    assert_true(f.o.have_txns);
    assert_int_equal(f.o.n_txns, 0);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, x, N(x));
    assert_string_equal(find_line(&d, "1.1152")->remark, "Unmatched payment");
    post_doc_clear(&d);
    free(f.o.payment_method);
    f.o.payment_method = strdup("Bank Deposit");
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, x2, N(x2));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_sale_currencies(void **state)
{
    static const struct xl eur[] = {
        { "100.4011", -1999 }, { "1.2310", -380 }, { "1.1151", 2379 },
    };
    static const struct xl jpy[] = {  /* 499.5 shipping rounds half away to 500 */
        { "100.4011", -3000 }, { "100.4020", -500 }, { "1.2310", -300 }, { "1.1151", 3800 },
    };
    static const struct xl kwd[] = {  /* 12.3455 -> 12.346, 0.6173 -> 0.617 */
        { "100.4012", -12346 }, { "1.2310", -617 }, { "1.1151", 12963 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o105_eur.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, eur, N(eur));
    assert_string_equal(d.currency, "EUR");
    post_doc_clear(&d);
    fixture_free(&f);

    load_fixture("o106_jpy.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, jpy, N(jpy));
    assert_int_equal(d.exponent, 0);
    post_doc_clear(&d);
    fixture_free(&f);

    load_fixture("o107_kwd.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_lines(&d, kwd, N(kwd));
    assert_int_equal(d.exponent, 3);
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_sale_rounding_beyond_tolerance(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o108_rounding_beyond.json", &f);
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 108: the lines miss balance by 0.05 (debits exceed "
                        "credits by that much; total_inc_tax 10.05), beyond the rounding "
                        "tolerance 0.02");
    assert_int_equal(d.n_lines, 0);
    assert_null(d.lines);
    /* Within a looser tolerance the same order posts with a rounding line. */
    f.o.total_inc_tax = 1002;
    f.o.txns[0].amount = 1002;
    sale_ok(&f.o, c, NULL, &d);
    assert_int_equal(find_line(&d, "100.8990")->amount, -2);
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* Payments that make no sense are held, never posted with an "unmatched"
 * line: a negative purchase or capture, and one transaction listed twice. */
static void test_sale_suspect_payments(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;
    struct order_txn *t;

    (void)state;
    load_fixture("o103_store_credit.json", &f);
    assert_true(f.o.n_txns >= 2);
    f.o.txns[1].amount = -f.o.txns[1].amount;
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_non_null(strstr(h.reason, "negative amount (-30.00)"));
    assert_int_equal(d.n_lines, 0);
    f.o.txns[1].amount = -f.o.txns[1].amount;
    f.o.txns[1].event = ORDER_TXN_EV_CAPTURE;
    f.o.txns[1].amount = -1;
    h.reason[0] = '\0';
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_non_null(strstr(h.reason, "is a capture of a negative amount (-0.01)"));
    fixture_free(&f);

    /* The same transaction twice. */
    load_fixture("o103_store_credit.json", &f);
    t = realloc(f.o.txns, (f.o.n_txns + 1) * sizeof(*t));
    assert_non_null(t);
    f.o.txns = t;
    t[f.o.n_txns] = t[1];
    t[f.o.n_txns].method = strdup(t[1].method);
    t[f.o.n_txns].gateway = strdup(t[1].gateway);
    t[f.o.n_txns].currency = strdup(t[1].currency);
    f.o.n_txns++;
    h.reason[0] = '\0';
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_non_null(strstr(h.reason, "is listed twice"));
    /* A failed attempt listed beside the settled one is not a duplicate. */
    t[f.o.n_txns - 1].status = ORDER_TXN_ST_ERROR;
    sale_ok(&f.o, c, NULL, &d);
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* The contract maps every SKU (SKU map, category map, default revenue), so
 * an unmapped SKU posts to default revenue; holding it needs strict mode. */
static void test_sale_unmapped_sku(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_opts strict = { .strict_sku = true };
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_int_equal(find_line(&d, "100.4010")->amount, -2000); /* SKU-Z: default */
    post_doc_clear(&d);
    assert_int_equal(h.code, HOLD_OTHER);
    assert_int_equal(post_sale(&f.o, &c->posting, &strict, &d, &h, NULL), POST_HELD);
    assert_int_equal(h.code, HOLD_UNMAPPED_SKU);
    assert_string_equal(h.reason, "order 101: product 3 (SKU \"SKU-Z\") is in neither "
                        "posting.revenue_by_sku nor, by category, posting.revenue_by_category "
                        "(strict SKU mapping)");
    /* Mapped by category, SKU-X passes strict mode: only SKU-Z is named. */
    assert_null(strstr(h.reason, "SKU-X"));
    fixture_free(&f);
    cfg_unref(c);
}

/* An optional account that is not configured holds every order that needs
 * it, naming each setting. */
static void test_sale_missing_optional_accounts(void **state)
{
    struct mlc_config *c = load_cfg("journal", "reverse", "created", "", false);
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 101: posting.accounts.handling is not set (needed "
                        "for handling -2.00); posting.accounts.wrapping is not set (needed for "
                        "wrapping -1.50); posting.accounts.fees is not set (needed for fees "
                        "-3.00)");
    fixture_free(&f);
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 102: posting.accounts.gift_certificate is not set "
                        "(needed for payment 20.00)");
    fixture_free(&f);
    /* An order that needs none of them posts. */
    load_fixture("o105_eur.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_sale_holds_currency_and_overflow(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o105_eur.json", &f);
    f.o.exponent = ORDER_EXP_UNKNOWN;
    snprintf(f.o.currency, sizeof(f.o.currency), "XBT");
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 105: currency \"XBT\" is not a known ISO 4217 currency");
    fixture_free(&f);

    load_fixture("o105_eur.json", &f);
    f.o.products[0].total_ex_tax = INT64_MAX;
    f.o.total_tax = INT64_MAX;
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_non_null(strstr(h.reason, "overflow"));
    fixture_free(&f);

    /* A transaction in another currency cannot be added to the sale. */
    load_fixture("o105_eur.json", &f);
    free(f.o.txns[0].currency);
    f.o.txns[0].currency = strdup("USD");
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 105: transaction 9401 is in USD, the order in EUR");
    fixture_free(&f);
    cfg_unref(c);
}

static void test_sale_caller_errors_and_empty(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_hold h = { .code = HOLD_OTHER };
    struct mlc_err e;
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o105_eur.json", &f);
    f.o.have_txns = false;
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "order 105: transactions not loaded");
    fixture_free(&f);

    /* A zero-value order: nothing to post. */
    load_fixture("o105_eur.json", &f);
    f.o.products[0].total_ex_tax = 0;
    f.o.total_tax = 0;
    f.o.total_inc_tax = 0;
    f.o.txns[0].amount = 0;
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, &e), POST_EMPTY);
    assert_int_equal(d.n_lines, 0);
    fixture_free(&f);
    cfg_unref(c);
}

/* GL date: created (default), paid, posting; in the store's fixed offset. */
static void test_sale_gl_dates(void **state)
{
    struct mlc_config *paid = load_cfg("journal", "reverse", "paid", "", true);
    struct mlc_config *posting = load_cfg("journal", "reverse", "posting", "", true);
    struct mlc_config *created = journal_cfg();
    struct post_opts cet = { .utc_offset_min = 60 };
    struct post_opts o2 = { .paid_at = 1710288000 /* 2024-03-13T00:00Z */,
                            .now = 1711929600 /* 2024-04-01T00:00Z */,
                            .utc_offset_min = -300 };
    struct post_hold h;
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o105_eur.json", &f);
    sale_ok(&f.o, created, &cet, &d);   /* 23:30 UTC is the next day in CET */
    assert_int_equal(d.gl_date.day, 6);
    post_doc_clear(&d);
    sale_ok(&f.o, paid, &o2, &d);       /* 2024-03-12 19:00 at -05:00 */
    assert_int_equal(d.gl_date.month, 3);
    assert_int_equal(d.gl_date.day, 12);
    post_doc_clear(&d);
    sale_ok(&f.o, posting, &o2, &d);    /* 2024-03-31 19:00 at -05:00 */
    assert_int_equal(d.gl_date.month, 3);
    assert_int_equal(d.gl_date.day, 31);
    post_doc_clear(&d);
    assert_int_equal(post_sale(&f.o, &paid->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_string_equal(h.reason, "order 105: no time the order became paid "
                        "(posting.gl_date: paid) for the GL date");
    fixture_free(&f);
    cfg_unref(paid);
    cfg_unref(posting);
    cfg_unref(created);
}

/* §3 keys, and a key too long for VINV is a hold. */
static void test_keys(void **state)
{
    struct mlc_config *c = load_cfg("journal", "reverse", "created", "  key_prefix: WEB1\n",
                                    true);
    char buf[POST_KEY_MAX + 1];
    struct post_hold h;
    struct fixture f;
    struct post_doc d;

    (void)state;
    assert_int_equal(post_key("BC", 101, POST_KIND_SALE, 0, buf, sizeof(buf)), MLC_OK);
    assert_string_equal(buf, "BC101S");
    assert_int_equal(post_key("BC", 101, POST_KIND_REFUND, 7, buf, sizeof(buf)), MLC_OK);
    assert_string_equal(buf, "BC101R7");
    assert_int_equal(post_key("BC", 101, POST_KIND_REVERSAL, 0, buf, sizeof(buf)), MLC_OK);
    assert_string_equal(buf, "BC101C");
    assert_int_equal(post_key("WEB1", INT64_MAX, POST_KIND_REFUND, INT64_MAX, buf, sizeof(buf)),
                     MLC_ETOOBIG);
    load_fixture("o105_eur.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_string_equal(d.key, "WEB1105S");
    post_doc_clear(&d);
    f.o.id = INT64_MAX;      /* the longest sale key fits: WEB1 + 19 digits + S */
    sale_ok(&f.o, c, NULL, &d);
    assert_string_equal(d.key, "WEB19223372036854775807S");
    post_doc_clear(&d);
    fixture_free(&f);
    load_fixture("o101_every_line.json", &f);
    f.refunds[1].id = INT64_MAX;
    assert_int_equal(post_refund(&f.o, &f.refunds[1], &c->posting, NULL, &d, &h, NULL),
                     POST_HELD);
    assert_string_equal(h.reason, "order 101 refund 9223372036854775807: idempotency key of the "
                        "refund is longer than 25 characters");
    fixture_free(&f);
    cfg_unref(c);
}

/* ---- §5 refunds ----------------------------------------------------------- */

/* 10.00 with 0.77 tax: 9.23 over three items of 1.00 each, largest
 * remainder: 3.08 + 3.08 + 3.07. */
static void test_refund_partial_split(void **state)
{
    static const struct xl x[] = {
        { "1.1151", -1000 }, { "1.2310", 77 },
        { "100.4011", 308 }, { "100.4013", 308 }, { "100.4010", 307 },
    };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    refund_ok(&f, 0, c, &d);
    assert_lines(&d, x, N(x));
    assert_string_equal(d.key, "BC101R1");
    assert_int_equal(d.refund_id, 1);
    assert_string_equal(d.explanation, "Order 101 refund 1");
    assert_int_equal(d.gl_date.day, 10);
    assert_string_equal(find_line(&d, "1.1151")->remark, "Refund stripe");
    assert_string_equal(find_line(&d, "100.4011")->remark, "Sales refund");
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_refund_shipping_only(void **state)
{
    static const struct xl x[] = { { "1.1151", -800 }, { "100.4020", 800 } };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    refund_ok(&f, 1, c, &d);
    assert_lines(&d, x, N(x));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* The declined card payment moved no money; the store credit did. */
static void test_refund_declined_payment(void **state)
{
    static const struct xl x[] = { { "1.2420", -2000 }, { "100.4011", 2000 } };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o103_store_credit.json", &f);
    refund_ok(&f, 0, c, &d);
    assert_lines(&d, x, N(x));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* No payments: the total goes to the unmatched account (COD map); the
 * PRODUCT item has no requested_amount, so it weighs quantity × price. */
static void test_refund_no_payments(void **state)
{
    static const struct xl x[] = { { "1.1152", -500 }, { "1.2310", 40 }, { "100.4012", 460 } };
    struct mlc_config *c = journal_cfg();
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o104_offline.json", &f);
    refund_ok(&f, 0, c, &d);
    assert_lines(&d, x, N(x));
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

static void test_refund_holds(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_hold h;
    struct mlc_err e;
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    f.refunds[0].items[1].type = ORDER_RITEM_OTHER;   /* a type this build does not know */
    free(f.refunds[0].items[1].type_name);
    f.refunds[0].items[1].type_name = strdup("SURCHARGE");
    assert_int_equal(post_refund(&f.o, &f.refunds[0], &c->posting, NULL, &d, &h, NULL),
                     POST_HELD);
    assert_string_equal(h.reason, "order 101 refund 1: refund item type \"SURCHARGE\" is not known");
    f.refunds[1].items[0].has_requested = false;      /* nothing to split by */
    assert_int_equal(post_refund(&f.o, &f.refunds[1], &c->posting, NULL, &d, &h, NULL),
                     POST_HELD);
    assert_string_equal(h.reason, "order 101 refund 2: cannot split 8.00 over the refunded "
                        "items: no item has a requested_amount");
    f.refunds[1].order_id = 999;
    assert_int_equal(post_refund(&f.o, &f.refunds[1], &c->posting, NULL, &d, &h, &e),
                     MLC_EINVAL);
    fixture_free(&f);
    cfg_unref(c);
}

/* ---- §4 cancellation ------------------------------------------------------ */

/* Σ by account over every document of the order is zero. */
static void assert_nets_to_zero(const struct post_doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < docs[i].n_lines; k++) {
            int64_t s = 0;
            for (size_t j = 0; j < n; j++)
                for (size_t m = 0; m < docs[j].n_lines; m++)
                    if (memcmp(&docs[j].lines[m].account, &docs[i].lines[k].account,
                               sizeof(struct cfg_account)) == 0)
                        s += docs[j].lines[m].amount;
            assert_int_equal(s, 0);
        }
    }
}

static void test_reversal_after_refunds(void **state)
{
    static const struct xl x[] = {
        { "100.4011", 4692 }, { "100.4013", 2692 }, { "100.4010", 1693 },
        { "100.4090", -1500 }, { "100.4030", 200 }, { "100.4040", 150 },
        { "100.4050", 300 },  { "1.2310", 744 },    { "1.1151", -8970 },
        { "100.8990", -1 },
    };
    struct mlc_config *c = journal_cfg();
    struct post_doc docs[4];
    struct post_hold h;
    struct fixture f;
    struct mlc_err e;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    sale_ok(&f.o, c, NULL, &docs[0]);
    refund_ok(&f, 0, c, &docs[1]);
    refund_ok(&f, 1, c, &docs[2]);
    f.o.status_id = ORDER_STATUS_CANCELLED;
    assert_int_equal(post_reversal(&f.o, &docs[0], &docs[1], 2, &c->posting, NULL, &docs[3],
                                   &h, &e), MLC_OK);
    assert_lines(&docs[3], x, N(x));
    assert_string_equal(docs[3].key, "BC101C");
    assert_string_equal(docs[3].explanation, "Order 101 cancelled");
    assert_int_equal(docs[3].gl_date.day, 6);   /* date_modified */
    assert_nets_to_zero(docs, 4);
    /* The reversal of the sale alone nets the sale. */
    post_doc_clear(&docs[3]);
    assert_int_equal(post_reversal(&f.o, &docs[0], NULL, 0, &c->posting, NULL, &docs[3],
                                   &h, &e), MLC_OK);
    assert_nets_to_zero((struct post_doc[]){ docs[0], docs[3] }, 2);
    /* Documents of another order are refused. */
    post_doc_clear(&docs[3]);
    docs[1].order_id = 5;
    assert_int_equal(post_reversal(&f.o, &docs[0], &docs[1], 1, &c->posting, NULL, &docs[3],
                                   &h, &e), MLC_EINVAL);
    for (size_t i = 0; i < 4; i++)
        post_doc_clear(&docs[i]);
    fixture_free(&f);
    cfg_unref(c);
}

/* A fully refunded order already nets to zero: nothing to reverse. */
static void test_reversal_empty(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct post_doc sale, refund, rev;
    struct post_hold h;
    struct fixture f;

    (void)state;
    load_fixture("o103_store_credit.json", &f);
    sale_ok(&f.o, c, NULL, &sale);
    /* Refund everything the sale took. */
    f.refunds[0].total_amount = 4500;
    f.refunds[0].items[0].requested_amount = 4000;
    f.refunds[0].payments[0].declined = false;
    f.refunds[0].payments[0].amount = 3000;
    f.refunds[0].payments[1].amount = 1500;
    {
        struct order_refund_item items[2] = { f.refunds[0].items[0], { 0 } };
        struct order_refund r = f.refunds[0];
        items[1].type = ORDER_RITEM_SHIPPING;
        items[1].type_name = (char *)"SHIPPING";
        items[1].has_requested = true;
        items[1].requested_amount = 500;
        r.items = items;
        r.n_items = 2;
        assert_int_equal(post_refund(&f.o, &r, &c->posting, NULL, &refund, &h, NULL), MLC_OK);
    }
    assert_int_equal(post_reversal(&f.o, &sale, &refund, 1, &c->posting, NULL, &rev, &h, NULL),
                     POST_EMPTY);
    post_doc_clear(&sale);
    post_doc_clear(&refund);
    fixture_free(&f);
    cfg_unref(c);
}

/* ---- §4 status rules ------------------------------------------------------ */

static void test_decide(void **state)
{
    struct mlc_config *c = journal_cfg();
    struct mlc_config *hold = load_cfg("journal", "hold", "created", "", true);
    struct post_facts none = { 0 }, posted = { .sale_posted = true };
    struct post_facts reversed = { .sale_posted = true, .reversal_posted = true };
    struct post_facts held = { .sale_held = true };

    (void)state;
    assert_int_equal(post_decide(11, &none, &c->posting).action, POST_ACT_SALE);
    assert_int_equal(post_decide(2, &none, &c->posting).action, POST_ACT_SALE);
    assert_int_equal(post_decide(4, &none, &c->posting).action, POST_ACT_SALE);
    assert_int_equal(post_decide(14, &none, &c->posting).action, POST_ACT_SALE);
    assert_int_equal(post_decide(11, &posted, &c->posting).action, POST_ACT_NOTHING);
    /* unpaid: nothing */
    assert_int_equal(post_decide(1, &none, &c->posting).action, POST_ACT_NOTHING);
    assert_int_equal(post_decide(7, &none, &c->posting).action, POST_ACT_NOTHING);
    assert_string_equal(post_decide(7, &none, &c->posting).why, "not paid: nothing to post");
    /* other change after posting: audited only */
    assert_int_equal(post_decide(6, &posted, &c->posting).action, POST_ACT_NOTHING);
    /* cancellation */
    assert_int_equal(post_decide(5, &none, &c->posting).action, POST_ACT_NOTHING);
    assert_int_equal(post_decide(5, &posted, &c->posting).action, POST_ACT_REVERSAL);
    assert_int_equal(post_decide(5, &reversed, &c->posting).action, POST_ACT_NOTHING);
    assert_int_equal(post_decide(5, &posted, &hold->posting).action, POST_ACT_HOLD);
    assert_int_equal(post_decide(11, &reversed, &c->posting).action, POST_ACT_HOLD);
    /* refunds */
    assert_int_equal(post_decide_refund(&posted).action, POST_ACT_REFUND);
    assert_int_equal(post_decide_refund(&held).action, POST_ACT_HOLD);
    assert_int_equal(post_decide_refund(&none).action, POST_ACT_NOTHING);
    assert_int_equal(post_decide_refund(&reversed).action, POST_ACT_HOLD);
    assert_false(post_is_paid(1, &c->posting));
    cfg_unref(c);
    cfg_unref(hold);
}

/* ---- §6 voucher mode ------------------------------------------------------ */

static void test_voucher_sale_and_refund(void **state)
{
    static const struct xl sale[] = {
        { "100.4011", 5000 }, { "100.4013", 3000 }, { "100.4010", 2000 },
        { "100.4090", -1500 }, { "100.4020", 800 }, { "100.4030", 200 },
        { "100.4040", 150 },  { "100.4050", 300 },  { "1.2310", 821 },
        { "100.8990", -1 },
    };
    static const struct xl refund[] = {
        { "1.2310", -77 }, { "100.4011", -308 }, { "100.4013", -308 }, { "100.4010", -307 },
    };
    struct mlc_config *c = voucher_cfg();
    struct post_doc d[3];
    struct post_hold h;
    struct fixture f;

    (void)state;
    load_fixture("o101_every_line.json", &f);
    sale_ok(&f.o, c, NULL, &d[0]);
    assert_int_equal(d[0].mode, CFG_POST_VOUCHER);
    assert_int_equal(d[0].gross, 10770);
    assert_string_equal(d[0].supplier, "4243");   /* stripe */
    assert_string_equal(d[0].doc_type, "PV");
    assert_lines(&d[0], sale, N(sale));
    refund_ok(&f, 0, c, &d[1]);
    assert_int_equal(d[1].gross, -1000);
    assert_string_equal(d[1].supplier, "4243");
    assert_lines(&d[1], refund, N(refund));
    /* The reversal of a voucher is a voucher that nets both. */
    assert_int_equal(post_reversal(&f.o, &d[0], &d[1], 1, &c->posting, NULL, &d[2], &h, NULL),
                     MLC_OK);
    assert_int_equal(d[2].gross, -9770);
    assert_string_equal(d[2].supplier, "4243");
    assert_nets_to_zero(d, 3);
    for (size_t i = 0; i < 3; i++)
        post_doc_clear(&d[i]);
    fixture_free(&f);

    /* First settled transaction is the gift certificate: default supplier. */
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    sale_ok(&f.o, c, NULL, &d[0]);
    assert_string_equal(d[0].supplier, "4242");
    assert_int_equal(d[0].gross, 10899);
    post_doc_clear(&d[0]);
    fixture_free(&f);
    cfg_unref(c);
}

/* Voucher mode without a supplier for the order's gateway holds with the
 * voucher_supplier code; a missing role account with account_missing. */
static void test_hold_codes(void **state)
{
    struct mlc_config *c = voucher_cfg();
    struct post_hold h = { .code = HOLD_OTHER };
    struct fixture f;
    struct post_doc d;

    (void)state;
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    c->posting.default_supplier[0] = '\0'; /* and o102's gateway has no supplier */
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_int_equal(h.code, HOLD_VOUCHER_SUPPLIER);
    assert_non_null(strstr(h.reason, "posting.default_supplier is not set"));
    fixture_free(&f);
    cfg_unref(c);

    c = load_cfg("journal", "reverse", "created", "", false); /* no gift_certificate */
    h = (struct post_hold){ .code = HOLD_OTHER };
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    assert_int_equal(post_sale(&f.o, &c->posting, NULL, &d, &h, NULL), POST_HELD);
    assert_int_equal(h.code, HOLD_ACCOUNT_MISSING);
    assert_non_null(strstr(h.reason, "is not set"));
    fixture_free(&f);
    cfg_unref(c);
}

/* ---- accounts, JSON -------------------------------------------------------- */

static void test_refs_and_json(void **state)
{
    struct mlc_config *c = voucher_cfg();
    struct post_refs r;
    struct post_doc d, back;
    struct fixture f;
    struct mlc_err e;
    json_t *j;
    char *text;

    (void)state;
    load_fixture("o102_tax_inclusive_gift_certificate.json", &f);
    sale_ok(&f.o, c, NULL, &d);
    assert_int_equal(post_doc_refs(&d, &r, &e), MLC_OK);
    /* voucher: the payment accounts are JDE's AP offset, not in the document */
    assert_int_equal(r.n_accounts, 5);
    assert_string_equal(r.accounts[0].bu, "1");
    assert_string_equal(r.accounts[0].obj, "2310");
    assert_string_equal(r.accounts[1].bu, "200");
    assert_string_equal(r.accounts[1].obj, "4010");
    assert_int_equal(r.n_bus, 2);
    assert_string_equal(r.bus[0], "1");
    assert_string_equal(r.bus[1], "200");
    post_refs_clear(&r);

    assert_int_equal(post_doc_to_json(&d, &j, &e), MLC_OK);
    text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(strstr(text, "\"gross\":\"108.99\""));
    assert_non_null(strstr(text, "\"total\":\"108.99\""));
    assert_non_null(strstr(text, "\"gl_date\":\"2024-03-05\""));
    assert_non_null(strstr(text, "{\"account\":\"200.4012\",\"amount\":\"50.00\","
                                 "\"remark\":\"Sales\",\"role\":\"revenue\"}"));
    free(text);
    assert_int_equal(post_doc_from_json(j, &back, &e), MLC_OK);
    assert_int_equal(back.n_lines, d.n_lines);
    assert_int_equal(back.gross, d.gross);
    assert_string_equal(back.key, d.key);
    assert_string_equal(back.supplier, d.supplier);
    assert_int_equal(back.gl_date.day, d.gl_date.day);
    for (size_t i = 0; i < d.n_lines; i++) {
        assert_memory_equal(&back.lines[i].account, &d.lines[i].account,
                            sizeof(struct cfg_account));
        assert_int_equal(back.lines[i].amount, d.lines[i].amount);
        assert_int_equal(back.lines[i].role, d.lines[i].role);
        assert_string_equal(back.lines[i].remark, d.lines[i].remark);
    }
    post_doc_clear(&back);
    /* An unbalanced document read back is refused. */
    json_object_set_new(json_array_get(json_object_get(j, "lines"), 0), "amount",
                        json_string("50.01"));
    assert_int_equal(post_doc_from_json(j, &back, &e), MLC_EPROTO);
    assert_non_null(strstr(e.msg, "distribution sums to"));
    json_decref(j);
    post_doc_clear(&d);
    fixture_free(&f);
    cfg_unref(c);
}

/* ---- property test ------------------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t xorshift(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static int64_t rnd(struct rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(xorshift(r) % (uint64_t)(hi - lo + 1));
}

static char *xstrdup(const char *s)
{
    char *c = strdup(s);

    assert_non_null(c);
    return c;
}

static const char *const skus[] = { "SKU-A", "SKU-B", "SKU-X", "SKU-Z", "" };
static const char *const gateways[] = { "stripe", "braintree", "square", "giftcertificate",
                                        "storecredit" };
static const char *const methods[] = { "Credit Card", "Cash on Delivery", "Bank Deposit", "" };
static const struct { const char *code; int exp; } currencies[] = {
    { "USD", 2 }, { "JPY", 0 }, { "KWD", 3 }, { "EUR", 2 }, { "XBT", ORDER_EXP_UNKNOWN },
};

/* An amount of a random size; rarely one near the int64 edge. */
static int64_t rnd_amount(struct rng *r)
{
    int64_t k = rnd(r, 0, 999);

    if (k == 0)
        return INT64_MAX - rnd(r, 0, 1000);
    if (k < 20)
        return 0;
    return rnd(r, 1, k < 900 ? 50000 : 5000000);
}

static void gen_products(struct rng *r, struct order *o)
{
    o->n_products = (size_t)rnd(r, 0, 6);
    o->products = calloc(o->n_products + 1, sizeof(*o->products));
    assert_non_null(o->products);
    for (size_t i = 0; i < o->n_products; i++) {
        struct order_product *p = &o->products[i];
        p->id = (int64_t)i + 1;
        p->sku = xstrdup(skus[rnd(r, 0, 4)]);
        p->name = xstrdup("x");
        p->type = xstrdup("physical");
        p->quantity = rnd(r, 1, 5);
        p->total_ex_tax = rnd_amount(r);
        p->price_ex_tax = p->total_ex_tax / p->quantity;
        if (rnd(r, 0, 3) == 0) {
            p->n_category_ids = 1;
            p->category_ids = malloc(sizeof(int64_t));
            assert_non_null(p->category_ids);
            p->category_ids[0] = rnd(r, 0, 1) ? 23 : 40;
        }
    }
    o->have_products = true;
}

/* Transactions paying the total, split over up to three tenders, with
 * failed and authorization noise. */
static void gen_txns(struct rng *r, struct order *o, int64_t total)
{
    size_t n = (size_t)rnd(r, 0, 3);

    o->txns = calloc(n + 1, sizeof(*o->txns));
    assert_non_null(o->txns);
    for (size_t i = 0; i < n; i++) {
        struct order_txn *t = &o->txns[i];
        t->id = (int64_t)i + 1;
        t->gateway = xstrdup(gateways[rnd(r, 0, 4)]);
        t->method = xstrdup("credit_card");
        t->currency = xstrdup(rnd(r, 0, 50) == 0 ? "GBP" : o->currency);
        t->tender = order_tender_of(t->gateway, NULL);
        t->event = rnd(r, 0, 5) == 0 ? ORDER_TXN_EV_AUTHORIZATION : ORDER_TXN_EV_PURCHASE;
        t->status = rnd(r, 0, 8) == 0 ? ORDER_TXN_ST_ERROR : ORDER_TXN_ST_OK;
        t->amount = i + 1 == n ? total : total / 2;
        total -= t->amount;
    }
    o->n_txns = n;
    o->have_txns = true;
}

static void zero_amounts(struct order *o, int64_t *sum)
{
    for (size_t i = 0; i < o->n_products; i++)
        o->products[i].total_ex_tax = 0;
    o->shipping_cost_ex_tax = o->handling_cost_ex_tax = o->wrapping_cost_ex_tax = 0;
    o->discount_amount = o->coupon_discount = o->total_tax = 0;
    *sum = 0;
}

static void gen_order(struct rng *r, struct order *o, int64_t id)
{
    int64_t sum = 0, noise;
    int ci = (int)rnd(r, 0, 4);

    memset(o, 0, sizeof(*o));
    o->id = id;
    o->status_id = 11;
    o->channel_id = rnd(r, 1, 2);
    snprintf(o->currency, sizeof(o->currency), "%s", currencies[ci].code);
    o->exponent = currencies[ci].exp;
    o->payment_method = xstrdup(methods[rnd(r, 0, 3)]);
    o->payment_provider_id = xstrdup("");
    o->date_created = 1709681400 + rnd(r, 0, 86400 * 365);
    o->date_modified = o->date_created + rnd(r, 0, 86400);
    gen_products(r, o);
    for (size_t i = 0; i < o->n_products; i++)
        sum = (int64_t)((uint64_t)sum + (uint64_t)o->products[i].total_ex_tax);
    o->shipping_cost_ex_tax = rnd(r, 0, 3) ? rnd(r, 0, 2000) : 0;
    o->handling_cost_ex_tax = rnd(r, 0, 5) ? 0 : rnd(r, 1, 500);
    o->wrapping_cost_ex_tax = rnd(r, 0, 5) ? 0 : rnd(r, 1, 500);
    o->discount_amount = rnd(r, 0, 4) ? 0 : rnd(r, 1, 1000);
    o->coupon_discount = rnd(r, 0, 4) ? 0 : rnd(r, 1, 1000);
    o->total_tax = rnd(r, 0, 5000);
    o->have_fees = true;
    if (rnd(r, 0, 39) == 0)     /* a zero-value order (free sample) */
        zero_amounts(o, &sum);
    noise = o->total_tax == 0 && sum == 0 ? 0 : rnd(r, 0, 9) < 8 ? rnd(r, -3, 3)
                                                                : rnd(r, -100000, 100000);
    /* total_inc_tax as the lines would sum, off by a little (rounding) or a
     * lot (held) now and then; wrapping arithmetic is fine: the engine must
     * cope with anything. */
    o->total_inc_tax = (int64_t)((uint64_t)sum + (uint64_t)o->shipping_cost_ex_tax +
                                 (uint64_t)o->handling_cost_ex_tax +
                                 (uint64_t)o->wrapping_cost_ex_tax + (uint64_t)o->total_tax -
                                 (uint64_t)o->discount_amount - (uint64_t)o->coupon_discount +
                                 (uint64_t)noise);
    gen_txns(r, o, rnd(r, 0, 5) == 0 ? o->total_inc_tax / 2 : o->total_inc_tax);
}

static void gen_refund(struct rng *r, const struct order *o, struct order_refund *rf, int64_t id)
{
    static const enum order_refund_item_type types[] = {
        ORDER_RITEM_PRODUCT, ORDER_RITEM_SHIPPING, ORDER_RITEM_HANDLING,
        ORDER_RITEM_GIFT_WRAPPING, ORDER_RITEM_ORDER, ORDER_RITEM_FEE,
    };
    int64_t paid = 0;

    memset(rf, 0, sizeof(*rf));
    rf->id = id;
    rf->order_id = o->id;
    rf->created = o->date_created + 86400;
    rf->total_amount = rnd(r, 0, 20000);
    rf->total_tax = rnd(r, -50, 500);
    rf->n_items = (size_t)rnd(r, 0, 4);
    rf->items = calloc(rf->n_items + 1, sizeof(*rf->items));
    assert_non_null(rf->items);
    for (size_t i = 0; i < rf->n_items; i++) {
        struct order_refund_item *it = &rf->items[i];
        it->type = types[rnd(r, 0, 5)];
        it->type_name = xstrdup("T");
        it->item_id = rnd(r, 1, 7);
        it->quantity = rnd(r, 1, 3);
        it->has_requested = rnd(r, 0, 5) != 0;
        it->requested_amount = it->has_requested ? rnd(r, 0, 10000) : 0;
    }
    rf->n_payments = (size_t)rnd(r, 0, 2);
    rf->payments = calloc(rf->n_payments + 1, sizeof(*rf->payments));
    assert_non_null(rf->payments);
    for (size_t i = 0; i < rf->n_payments; i++) {
        struct order_refund_payment *p = &rf->payments[i];
        p->provider_id = xstrdup(gateways[rnd(r, 0, 4)]);
        p->tender = order_tender_of(p->provider_id, NULL);
        p->declined = rnd(r, 0, 6) == 0;
        p->amount = i + 1 == rf->n_payments ? rf->total_amount - paid : rf->total_amount / 3;
        paid += p->amount;
    }
}

/* Independent of the engine: lines non-zero, accounts distinct, journal
 * sums to 0, voucher to its gross. */
static void assert_balanced(const struct post_doc *d)
{
    int64_t s = 0;

    for (size_t i = 0; i < d->n_lines; i++) {
        assert_int_not_equal(d->lines[i].amount, 0);
        assert_false(__builtin_add_overflow(s, d->lines[i].amount, &s));
        for (size_t k = 0; k < i; k++)
            assert_memory_not_equal(&d->lines[k].account, &d->lines[i].account,
                                    sizeof(struct cfg_account));
    }
    if (d->mode == CFG_POST_VOUCHER)
        assert_int_equal(s, d->gross);
    else
        assert_int_equal(s, 0);
}

/* OK (balanced), held with a reason, or empty: nothing else. */
static void assert_outcome(int rc, const struct post_doc *d, const struct post_hold *h)
{
    if (rc == MLC_OK) {
        assert_balanced(d);
        return;
    }
    if (rc == POST_HELD) {
        assert_true(strlen(h->reason) > 10);
        assert_int_equal(d->n_lines, 0);
        return;
    }
    assert_int_equal(rc, POST_EMPTY);
}

struct prop_stats {
    size_t ok, held, empty, refunds_ok, reversals_ok;
};

static void prop_one(struct rng *r, const struct mlc_config *c, int64_t id,
                     struct prop_stats *st)
{
    struct post_opts opts = { .strict_sku = rnd(r, 0, 9) == 0, .now = 1712000000 };
    struct order o;
    struct order_refund rf[2];
    struct post_doc sale, refs[2], rev;
    struct post_hold h = { .code = HOLD_OTHER };
    size_t n_ok = 0;
    int rc;

    gen_order(r, &o, id);
    rc = post_sale(&o, &c->posting, &opts, &sale, &h, NULL);
    assert_outcome(rc, &sale, &h);
    st->ok += rc == MLC_OK;
    st->held += rc == POST_HELD;
    st->empty += rc == POST_EMPTY;
    for (int i = 0; i < 2; i++) {
        struct post_doc d;
        gen_refund(r, &o, &rf[i], i + 1);
        int rrc = post_refund(&o, &rf[i], &c->posting, &opts, &d, &h, NULL);
        assert_outcome(rrc, &d, &h);
        if (rrc == MLC_OK)
            refs[n_ok++] = d;
    }
    st->refunds_ok += n_ok;
    if (rc == MLC_OK) {
        int vrc = post_reversal(&o, &sale, refs, n_ok, &c->posting, &opts, &rev, &h, NULL);
        assert_outcome(vrc, &rev, &h);
        if (vrc == MLC_OK) {
            st->reversals_ok++;
            post_doc_clear(&rev);
        }
        post_doc_clear(&sale);
    }
    for (size_t i = 0; i < n_ok; i++)
        post_doc_clear(&refs[i]);
    for (int i = 0; i < 2; i++)
        order_refund_clear(&rf[i]);
    order_clear(&o);
}

static void test_property_20k(void **state)
{
    struct mlc_config *cfgs[3] = { journal_cfg(), voucher_cfg(),
                                   load_cfg("journal", "reverse", "created", "", false) };
    struct rng r = { 0x9E3779B97F4A7C15ull };
    struct prop_stats st = { 0 };

    (void)state;
    for (int64_t i = 0; i < 20000; i++)
        prop_one(&r, cfgs[i % 3], 1000 + i, &st);
    print_message("property: %zu posted, %zu held, %zu empty; %zu refunds, %zu reversals\n",
                  st.ok, st.held, st.empty, st.refunds_ok, st.reversals_ok);
    /* The generator must exercise every outcome. */
    assert_true(st.ok > 5000);
    assert_true(st.held > 1000);
    assert_true(st.empty > 0);
    assert_true(st.refunds_ok > 5000);
    assert_true(st.reversals_ok > 1000);
    for (int i = 0; i < 3; i++)
        cfg_unref(cfgs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sale_every_line),
        cmocka_unit_test(test_sale_tax_inclusive_gift_certificate),
        cmocka_unit_test(test_sale_store_credit_and_card),
        cmocka_unit_test(test_sale_offline),
        cmocka_unit_test(test_sale_currencies),
        cmocka_unit_test(test_sale_rounding_beyond_tolerance),
        cmocka_unit_test(test_sale_suspect_payments),
        cmocka_unit_test(test_sale_unmapped_sku),
        cmocka_unit_test(test_hold_codes),
        cmocka_unit_test(test_sale_missing_optional_accounts),
        cmocka_unit_test(test_sale_holds_currency_and_overflow),
        cmocka_unit_test(test_sale_caller_errors_and_empty),
        cmocka_unit_test(test_sale_gl_dates),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_refund_partial_split),
        cmocka_unit_test(test_refund_shipping_only),
        cmocka_unit_test(test_refund_declined_payment),
        cmocka_unit_test(test_refund_no_payments),
        cmocka_unit_test(test_refund_holds),
        cmocka_unit_test(test_reversal_after_refunds),
        cmocka_unit_test(test_reversal_empty),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_voucher_sale_and_refund),
        cmocka_unit_test(test_refs_and_json),
        cmocka_unit_test(test_property_20k),
    };

    return cmocka_run_group_tests_name("posting", tests, NULL, NULL);
}
