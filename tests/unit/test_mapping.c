/* Unit tests: sync/mapping, every account and business unit the posting
 * configuration names, with its key, as the posting engine posts it.
 * Each test writes the expected entries out as text; the last one posts
 * the order fixtures and checks that every line lands on a listed account
 * in a listed business unit. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "helpers/testcfg.h"
#include "helpers/orderfix.h"
#include "sync/mapping.h"
#include "sync/posting.h"

/* ---- helpers ------------------------------------------------------------ */


/* One entry as text:
 *   bu KEY BU [of ACCOUNT]                 (of: an account's own business unit)
 *   account KEY POSTED [via BU_KEY] [from CONFIGURED] */
static void render(const struct mapping_ref *r, char *buf, size_t cap)
{
    char key[MAPPING_KEY_MAX], bu_key[MAPPING_KEY_MAX], acct[40], conf[40];
    size_t len;

    mapping_key(r, key, sizeof(key));
    cfg_account_format(&r->configured, conf, sizeof(conf));
    if (r->kind == MAPPING_BU) {
        snprintf(buf, cap, "bu %s %s%s%s", key, r->bu, r->configured.obj[0] ? " of " : "",
                 r->configured.obj[0] ? conf : "");
        return;
    }
    assert_string_equal(r->bu, r->account.bu);
    cfg_account_format(&r->account, acct, sizeof(acct));
    mapping_bu_key(r, bu_key, sizeof(bu_key));
    snprintf(buf, cap, "account %s %s", key, acct);
    len = strlen(buf);
    if (bu_key[0] != '\0')
        len += (size_t)snprintf(buf + len, cap - len, " via %s", bu_key);
    if (strcmp(acct, conf) != 0)
        snprintf(buf + len, cap - len, " from %s", conf);
}

static void print_mapping(const struct mapping *m)
{
    char line[512];

    for (size_t i = 0; i < m->n; i++) {
        render(&m->refs[i], line, sizeof(line));
        print_message("  \"%s\",\n", line);
    }
}

/* m holds exactly the entries x[0..n), in that order. */
static void assert_mapping(const struct mapping *m, const char *const *x, size_t n)
{
    char line[512];

    for (size_t i = 0; i < n && i < m->n; i++) {
        render(&m->refs[i], line, sizeof(line));
        if (strcmp(line, x[i]) != 0) {
            print_mapping(m);
            fail_msg("entry %zu: expected \"%s\", got \"%s\"", i, x[i], line);
        }
    }
    if (m->n != n)
        print_mapping(m);
    assert_int_equal(m->n, n);
}

static void build(const struct mlc_config *c, struct mapping *m)
{
    struct mlc_err e = { 0 };

    if (mapping_build(&c->posting, m, &e) != MLC_OK)
        fail_msg("mapping_build: %s", e.msg);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tests -------------------------------------------------------------- */

/* No business unit setting: every account in its own business unit, which
 * is listed under the account's key. Unset optional accounts and the
 * suppliers (not accounts) are left out. */
static void test_own_business_units(void **state)
{
    static const char *const want[] = {
        "bu posting.accounts.revenue 100 of 100.4010",
        "account posting.accounts.revenue 100.4010",
        "bu posting.accounts.discounts 100 of 100.4090",
        "account posting.accounts.discounts 100.4090",
        "bu posting.accounts.shipping 100 of 100.4020",
        "account posting.accounts.shipping 100.4020",
        "bu posting.accounts.tax 1 of 1.2310",
        "account posting.accounts.tax 1.2310",
        "bu posting.accounts.clearing 1 of 1.1150",
        "account posting.accounts.clearing 1.1150",
        "bu posting.accounts.gift_certificate 1 of 1.2410",
        "account posting.accounts.gift_certificate 1.2410",
        "bu posting.accounts.rounding 100 of 100.8990",
        "account posting.accounts.rounding 100.8990",
        "bu posting.revenue_by_sku.SKU-1 110 of 110.4011",
        "account posting.revenue_by_sku.SKU-1 110.4011",
        "bu posting.clearing_by_gateway.stripe 1 of 1.1151.STRIPE",
        "account posting.clearing_by_gateway.stripe 1.1151.STRIPE",
    };
    struct mlc_config *c = testcfg_posting(
        "  mode: voucher\n"
        "  default_supplier: \"4242\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4090\"\n"
        "    shipping: \"100.4020\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1150\"\n"
        "    gift_certificate: \"1.2410\"\n"
        "    rounding: \"100.8990\"\n"
        "  revenue_by_sku:\n"
        "    \"SKU-1\": \"110.4011\"\n"
        "  clearing_by_gateway:\n"
        "    stripe: \"1.1151.STRIPE\"\n"
        "  supplier_by_gateway:\n"
        "    stripe: \"4243\"\n");
    struct mapping m;

    (void)state;
    build(c, &m);
    assert_mapping(&m, want, N(want));
    mapping_clear(&m);
    mapping_clear(&m); /* cleared twice: harmless */
    assert_null(m.refs);
    cfg_unref(c);
}

/* §4 as posted: revenue-type accounts (revenue, discounts, shipping,
 * rounding and the revenue maps) in default_bu and in each channel's
 * business unit, balance-sheet ones (tax, clearing and the clearing maps)
 * in balance_sheet_bu; an account's own business unit is then neither
 * posted nor listed. A channel whose business unit is default_bu gives no
 * second account. */
static void test_business_units_as_posted(void **state)
{
    static const char *const want[] = {
        "bu posting.balance_sheet_bu 1",
        "bu posting.default_bu 100",
        "bu posting.bu_by_channel.2 200",
        "bu posting.bu_by_channel.3 100",
        "account posting.accounts.revenue 100.4010 via posting.default_bu",
        "account posting.accounts.revenue 200.4010 via posting.bu_by_channel.2 from 100.4010",
        "account posting.accounts.discounts 100.4090 via posting.default_bu",
        "account posting.accounts.discounts 200.4090 via posting.bu_by_channel.2 from 100.4090",
        "account posting.accounts.shipping 100.4020 via posting.default_bu",
        "account posting.accounts.shipping 200.4020 via posting.bu_by_channel.2 from 100.4020",
        "account posting.accounts.tax 1.2310 via posting.balance_sheet_bu from 9.2310",
        "account posting.accounts.clearing 1.1150 via posting.balance_sheet_bu",
        "account posting.accounts.rounding 100.8990 via posting.default_bu",
        "account posting.accounts.rounding 200.8990 via posting.bu_by_channel.2 from 100.8990",
        "account posting.revenue_by_sku.SKU-1 100.4011 via posting.default_bu from 110.4011",
        "account posting.revenue_by_sku.SKU-1 200.4011 via posting.bu_by_channel.2 from 110.4011",
        "account posting.revenue_by_category.23 100.4013 via posting.default_bu",
        "account posting.revenue_by_category.23 200.4013 via posting.bu_by_channel.2 from 100.4013",
        "account posting.clearing_by_method.Cash on Delivery 1.1152 via posting.balance_sheet_bu",
    };
    struct mlc_config *c = testcfg_posting(
        "  balance_sheet_bu: \"1\"\n"
        "  default_bu: \"100\"\n"
        "  bu_by_channel:\n"
        "    \"3\": \"100\"\n"
        "    \"2\": \"200\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4090\"\n"
        "    shipping: \"100.4020\"\n"
        "    tax: \"9.2310\"\n"
        "    clearing: \"1.1150\"\n"
        "    rounding: \"100.8990\"\n"
        "  revenue_by_sku:\n"
        "    \"SKU-1\": \"110.4011\"\n"
        "  revenue_by_category:\n"
        "    \"23\": \"100.4013\"\n"
        "  clearing_by_method:\n"
        "    \"Cash on Delivery\": \"1.1152\"\n");
    struct mapping m;

    (void)state;
    build(c, &m);
    assert_mapping(&m, want, N(want));
    mapping_clear(&m);
    cfg_unref(c);
}

/* Channels but no default_bu: an order from any other channel keeps the
 * account's own business unit, so both are listed. */
static void test_channels_without_default(void **state)
{
    static const char *const want[] = {
        "bu posting.bu_by_channel.2 200",
        "bu posting.accounts.revenue 100 of 100.4010",
        "account posting.accounts.revenue 100.4010",
        "account posting.accounts.revenue 200.4010 via posting.bu_by_channel.2 from 100.4010",
        "bu posting.accounts.discounts 100 of 100.4090",
        "account posting.accounts.discounts 100.4090",
        "account posting.accounts.discounts 200.4090 via posting.bu_by_channel.2 from 100.4090",
        "bu posting.accounts.shipping 200 of 200.4020",
        "account posting.accounts.shipping 200.4020",
        "bu posting.accounts.tax 1 of 1.2310",
        "account posting.accounts.tax 1.2310",
        "bu posting.accounts.clearing 1 of 1.1150",
        "account posting.accounts.clearing 1.1150",
        "bu posting.accounts.rounding 100 of 100.8990",
        "account posting.accounts.rounding 100.8990",
        "account posting.accounts.rounding 200.8990 via posting.bu_by_channel.2 from 100.8990",
    };
    struct mlc_config *c = testcfg_posting(
        "  bu_by_channel:\n"
        "    \"2\": \"200\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4090\"\n"
        "    shipping: \"200.4020\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1150\"\n"
        "    rounding: \"100.8990\"\n");
    struct mapping m;

    (void)state;
    build(c, &m);
    assert_mapping(&m, want, N(want));
    mapping_clear(&m);
    cfg_unref(c);
}

/* Keys read as the configuration's own errors name them. */
static void test_keys(void **state)
{
    struct mlc_config *c = testcfg_posting(
        "  balance_sheet_bu: \"1\"\n"
        "  accounts:\n"
        "    revenue: \"100.4010\"\n"
        "    discounts: \"100.4090\"\n"
        "    shipping: \"100.4020\"\n"
        "    tax: \"1.2310\"\n"
        "    clearing: \"1.1150\"\n"
        "    rounding: \"100.8990\"\n"
        "  clearing_by_method:\n"
        "    \"Pay.by Bank\": \"1.1152\"\n");
    char key[MAPPING_KEY_MAX], bu_key[MAPPING_KEY_MAX];
    const struct mapping_ref *r;
    struct mapping m;

    (void)state;
    build(c, &m);
    assert_true(m.n > 0);
    r = &m.refs[m.n - 1];
    mapping_key(r, key, sizeof(key));
    mapping_bu_key(r, bu_key, sizeof(bu_key));
    assert_string_equal(key, "posting.clearing_by_method.Pay.by Bank");
    assert_string_equal(bu_key, "posting.balance_sheet_bu");
    r = &m.refs[0];
    mapping_key(r, key, sizeof(key));
    mapping_bu_key(r, bu_key, sizeof(bu_key));
    assert_int_equal(r->kind, MAPPING_BU);
    assert_string_equal(key, "posting.balance_sheet_bu");
    assert_string_equal(bu_key, "");
    mapping_key(r, key, 4); /* truncated, still terminated */
    assert_string_equal(key, "pos");
    mapping_clear(&m);
    cfg_unref(c);
}

/* ---- the posting engine agrees --------------------------------------------- */

static bool has_account(const struct mapping *m, const struct cfg_account *a)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct cfg_account *x = &m->refs[i].account;

        if (m->refs[i].kind == MAPPING_ACCOUNT && strcmp(x->bu, a->bu) == 0 &&
            strcmp(x->obj, a->obj) == 0 && strcmp(x->sub, a->sub) == 0)
            return true;
    }
    return false;
}

static bool has_bu(const struct mapping *m, const char *bu)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->refs[i].kind == MAPPING_BU && strcmp(m->refs[i].bu, bu) == 0)
            return true;
    return false;
}

/* Every line of d is on an account of m, in a business unit of m. */
static void assert_covered(const struct mapping *m, const struct post_doc *d)
{
    char acct[40];

    for (size_t i = 0; i < d->n_lines; i++) {
        cfg_account_format(&d->lines[i].account, acct, sizeof(acct));
        if (!has_account(m, &d->lines[i].account) || !has_bu(m, d->lines[i].account.bu)) {
            print_mapping(m);
            fail_msg("%s: line %zu (%s, %s) is on %s, which the mapping does not list",
                     d->key, i, post_role_name(d->lines[i].role), d->lines[i].remark, acct);
        }
    }
}

/* Posts every sale and refund of the fixtures; returns the documents
 * checked. */
static size_t post_fixtures(const struct mlc_config *c, const struct mapping *m)
{
    static const char *const files[] = {
        "o101_every_line.json", "o102_tax_inclusive_gift_certificate.json",
        "o103_store_credit.json", "o104_offline.json", "o105_eur.json", "o106_jpy.json",
        "o107_kwd.json", "o108_rounding_beyond.json",
    };
    size_t docs = 0;

    for (size_t i = 0; i < N(files); i++) {
        struct orderfix f;
        struct post_doc d = { 0 };
        struct post_hold h;

        orderfix_load(files[i], &f);
        if (post_sale(&f.o, &c->posting, NULL, &d, &h, NULL) == MLC_OK) {
            assert_covered(m, &d);
            docs++;
        }
        post_doc_clear(&d);
        for (size_t k = 0; k < f.n_refunds; k++) {
            if (post_refund(&f.o, &f.refunds[k], &c->posting, NULL, &d, &h, NULL) == MLC_OK) {
                assert_covered(m, &d);
                docs++;
            }
            post_doc_clear(&d);
        }
        orderfix_free(&f);
    }
    return docs;
}

static const char every_account[] =
    "  accounts:\n"
    "    revenue: \"100.4010\"\n"
    "    discounts: \"100.4090\"\n"
    "    shipping: \"100.4020\"\n"
    "    handling: \"100.4030\"\n"
    "    wrapping: \"100.4040\"\n"
    "    fees: \"100.4050\"\n"
    "    tax: \"9.2310\"\n"
    "    clearing: \"1.1150\"\n"
    "    gift_certificate: \"1.2410\"\n"
    "    store_credit: \"1.2420\"\n"
    "    rounding: \"100.8990\"\n"
    "  revenue_by_sku:\n"
    "    \"SKU-A\": \"110.4011\"\n"
    "    \"SKU-B\": \"100.4012\"\n"
    "  revenue_by_category:\n"
    "    \"23\": \"100.4013\"\n"
    "    \"40\": \"120.4014\"\n"
    "  clearing_by_gateway:\n"
    "    stripe: \"1.1151\"\n"
    "    braintree: \"1.1153\"\n"
    "  clearing_by_method:\n"
    "    \"Cash on Delivery\": \"1.1152\"\n";

/* The fixtures' orders come from channels 1 and 2: with each business
 * unit setting in turn (none, defaults, channels) every posted line is on
 * a listed account in a listed business unit. */
static void test_agrees_with_engine(void **state)
{
    static const char *const bus[] = {
        "",
        "  balance_sheet_bu: \"1\"\n  default_bu: \"100\"\n",
        "  balance_sheet_bu: \"2\"\n  bu_by_channel:\n    \"1\": \"110\"\n",
        "  default_bu: \"100\"\n  bu_by_channel:\n    \"2\": \"200\"\n    \"1\": \"110\"\n",
    };
    char text[2048];

    (void)state;
    for (size_t i = 0; i < N(bus); i++) {
        struct mlc_config *c;
        struct mapping m;

        snprintf(text, sizeof(text), "%s%s", bus[i], every_account);
        c = testcfg_posting(text);
        build(c, &m);
        /* Most fixtures post; one is held beyond the rounding tolerance. */
        assert_true(post_fixtures(c, &m) >= 8);
        mapping_clear(&m);
        cfg_unref(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_business_units),
        cmocka_unit_test(test_business_units_as_posted),
        cmocka_unit_test(test_channels_without_default),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_agrees_with_engine),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
