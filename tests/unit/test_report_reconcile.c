/* Unit tests: the daily reconciliation's comparison (report/reconcile):
 * given the three sides of each document key, the differences with their
 * reasons, the items listed apart, the totals per account to the cent, and
 * the JSON, text and CSV renderings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "report/daily.h"
#include "report/reconcile.h"
#include "report/report_store.h"
#include "store/store.h"
#include "sync/posting.h"

#define P "BC"

static const struct jdate_civil DAY = { 2026, 3, 14 };

static struct cfg_account acct_of(const char *s)
{
    struct cfg_account a;

    assert_int_equal(cfg_account_parse(s, &a), MLC_OK);
    return a;
}

/* A posted sale of 33.28 USD: revenue, shipping, tax, card clearing. */
static const struct rcn_line SALE[] = {
    { { "10", "4010", "" }, -2340 },
    { { "10", "4300", "" }, -795 },
    { { "1", "2300", "" }, -193 },
    { { "1", "1110", "" }, 3328 },
};
#define N_SALE (sizeof(SALE) / sizeof(SALE[0]))

static struct rcn_item *item(struct rcn_day *d, const char *key)
{
    struct rcn_item *it = NULL;

    assert_int_equal(rcn_item_get(d, P, key, &it, NULL), MLC_OK);
    if (it->currency[0] == '\0') {
        snprintf(it->currency, sizeof(it->currency), "USD");
        it->exponent = 2;
    }
    return it;
}

/* BigCommerce says paid 33.28; the ledger posted doc; JDE has doc (lines). */
static struct rcn_item *agreeing(struct rcn_day *d, const char *key, int64_t doc)
{
    struct rcn_item *it = item(d, key);
    struct rcn_jdoc *j = NULL;

    it->bc_seen = true;
    it->bc_paid = true;
    it->bc_status = 11;
    it->bc_amount = 3328;
    it->ledger = RCN_LEDGER_POSTED;
    it->ledger_doc = doc;
    it->ledger_amount = 3328;
    it->job = RCN_JOB_DONE;
    assert_int_equal(rcn_item_set_ledger_lines(it, SALE, N_SALE, NULL), MLC_OK);
    assert_int_equal(rcn_item_add_jdoc(it, doc, "JE", "00001", &j, NULL), MLC_OK);
    for (size_t i = 0; i < N_SALE; i++)
        assert_int_equal(rcn_jdoc_add(j, &SALE[i].account, SALE[i].amount, NULL), MLC_OK);
    return it;
}

static const struct rcn_diff *diff_of(const struct rcn_day *d, const char *key)
{
    for (size_t i = 0; i < d->n_diffs; i++)
        if (strcmp(d->items[d->diffs[i].item].key, key) == 0)
            return &d->diffs[i];
    return NULL;
}

static const struct rcn_info *info_of(const struct rcn_day *d, const char *key)
{
    for (size_t i = 0; i < d->n_infos; i++)
        if (strcmp(d->items[d->infos[i].item].key, key) == 0)
            return &d->infos[i];
    return NULL;
}

static void test_key_parse(void **state)
{
    enum rcn_kind k;
    int64_t o, r;

    (void)state;
    assert_int_equal(rcn_key_parse(P, "BC105S", &k, &o, &r), MLC_OK);
    assert_int_equal(k, RCN_KIND_SALE);
    assert_int_equal(o, 105);
    assert_int_equal(rcn_key_parse(P, "BC105R77", &k, &o, &r), MLC_OK);
    assert_int_equal(k, RCN_KIND_REFUND);
    assert_int_equal(r, 77);
    assert_int_equal(rcn_key_parse(P, "BC105C", &k, &o, &r), MLC_OK);
    assert_int_equal(k, RCN_KIND_REVERSAL);
    assert_int_not_equal(rcn_key_parse(P, "XY105S", &k, &o, &r), MLC_OK);
    assert_int_not_equal(rcn_key_parse(P, "BC105", &k, &o, &r), MLC_OK);
    assert_int_not_equal(rcn_key_parse(P, "BC105SX", &k, &o, &r), MLC_OK);
    assert_int_not_equal(rcn_key_parse(P, "BC105R", &k, &o, &r), MLC_OK);
    assert_int_not_equal(rcn_key_parse(P, "BCS", &k, &o, &r), MLC_OK);
}

static void test_agree(void **state)
{
    struct rcn_day d;

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    agreeing(&d, "BC101S", 5001);
    agreeing(&d, "BC102S", 5002);
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 0);
    assert_int_equal(d.n_infos, 0);
    /* Per account, both sides, to the cent; each currency balances. */
    assert_int_equal(d.n_accounts, 4);
    assert_string_equal(d.accounts[0].account.bu, "1");
    assert_string_equal(d.accounts[0].account.obj, "1110");
    assert_int_equal(d.accounts[0].ledger, 6656);
    assert_int_equal(d.accounts[0].jde, 6656);
    assert_int_equal(d.n_balances, 1);
    assert_int_equal(d.balances[0].ledger_sum, 0);
    assert_int_equal(d.balances[0].jde_sum, 0);
    rcn_day_clear(&d);
}

static void test_missing_reasons(void **state)
{
    struct rcn_day d;
    struct rcn_item *it;
    const struct rcn_diff *df;

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    it = item(&d, "BC201S");                  /* held */
    it->bc_seen = it->bc_paid = true;
    it->bc_amount = 1000;
    it->job = RCN_JOB_HELD;
    snprintf(it->job_reason, sizeof(it->job_reason), "unmapped SKU X-1");
    it = item(&d, "BC202S");                  /* failed */
    it->bc_seen = it->bc_paid = true;
    it->job = RCN_JOB_FAILED;
    snprintf(it->job_reason, sizeof(it->job_reason), "AIS 500");
    it = item(&d, "BC203S");                  /* queued */
    it->bc_seen = it->bc_paid = true;
    it->job = RCN_JOB_WAITING;
    it = item(&d, "BC204S");                  /* no job at all */
    it->bc_seen = it->bc_paid = true;
    it = item(&d, "BC205S");                  /* create in doubt */
    it->bc_seen = it->bc_paid = true;
    it->ledger = RCN_LEDGER_UNKNOWN;
    it = agreeing(&d, "BC206S", 6006);        /* posted, then deleted in JDE */
    free(it->jde[0].lines);
    free(it->jde);
    it->jde = NULL;
    it->n_jde = 0;
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 6);
    df = diff_of(&d, "BC201S");
    assert_int_equal(df->reason, RCN_MISSING_IN_JDE);
    assert_int_equal(df->missing, RCN_MISS_HELD);
    assert_non_null(strstr(df->detail, "unmapped SKU X-1"));
    assert_non_null(strstr(df->action, "mlc replay order:201"));
    assert_int_equal(diff_of(&d, "BC202S")->missing, RCN_MISS_FAILED);
    assert_int_equal(diff_of(&d, "BC203S")->missing, RCN_MISS_NOT_YET);
    df = diff_of(&d, "BC204S");
    assert_int_equal(df->missing, RCN_MISS_NOT_YET);
    assert_non_null(strstr(df->action, "mlc sync orders --from-id 204 --to-id 204"));
    assert_int_equal(diff_of(&d, "BC205S")->missing, RCN_MISS_IN_DOUBT);
    df = diff_of(&d, "BC206S");
    assert_int_equal(df->missing, RCN_MISS_LOST);
    assert_non_null(strstr(df->detail, "6006"));
    /* The ledger's lines still count on its side; JDE has none: unbalanced
     * only by what is missing, never mixed. */
    assert_int_equal(d.balances[0].ledger_sum, 0);
    assert_int_equal(d.balances[0].jde_sum, 0);
    rcn_day_clear(&d);
}

static void test_unknown_twice_amount(void **state)
{
    struct rcn_day d;
    struct rcn_item *it;
    struct rcn_jdoc *j;
    const struct rcn_diff *df;
    struct cfg_account rev = acct_of("10.4010"), clr = acct_of("1.1110");

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    /* A document keyed by hand: no ledger row. */
    it = item(&d, "BC301S");
    assert_int_equal(rcn_item_add_jdoc(it, 7001, "JE", "00001", &j, NULL), MLC_OK);
    assert_int_equal(rcn_jdoc_add(j, &rev, -500, NULL), MLC_OK);
    assert_int_equal(rcn_jdoc_add(j, &clr, 500, NULL), MLC_OK);
    /* Posted twice. */
    it = agreeing(&d, "BC302S", 7002);
    assert_int_equal(rcn_item_add_jdoc(it, 7003, "JE", "00001", &j, NULL), MLC_OK);
    /* One cent changed on one JDE line. */
    it = agreeing(&d, "BC303S", 7004);
    it->jde[0].lines[0].amount -= 1;
    /* BigCommerce's total changed after posting. */
    it = agreeing(&d, "BC304S", 7005);
    it->bc_amount = 3329;
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 4);
    df = diff_of(&d, "BC301S");
    assert_int_equal(df->reason, RCN_UNKNOWN_TO_LEDGER);
    assert_non_null(strstr(df->detail, "7001"));
    df = diff_of(&d, "BC302S");
    assert_int_equal(df->reason, RCN_POSTED_TWICE);
    assert_non_null(strstr(df->detail, "7002"));
    assert_non_null(strstr(df->detail, "7003"));
    assert_non_null(strstr(df->action, "but 7002"));
    df = diff_of(&d, "BC303S");
    assert_int_equal(df->reason, RCN_AMOUNT_DIFFERS);
    assert_string_equal(df->detail, "10.4010 ledger -23.40, JDE -23.41");
    df = diff_of(&d, "BC304S");
    assert_int_equal(df->reason, RCN_AMOUNT_DIFFERS);
    assert_string_equal(df->detail, "BigCommerce order total 33.29, posted 33.28");
    /* The changed cent shows in the account totals and the balance. */
    for (size_t i = 0; i < d.n_accounts; i++)
        if (strcmp(d.accounts[i].account.obj, "4010") == 0)
            assert_int_equal(d.accounts[i].jde - d.accounts[i].ledger, -1 - 500);
    assert_int_equal(d.balances[0].jde_sum, -1);
    rcn_day_clear(&d);
}

static void test_apart(void **state)
{
    struct rcn_day d;
    struct rcn_item *it;

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    it = item(&d, "BC401S");
    it->bc_seen = true;
    it->bc_status = 1;                        /* pending: unpaid */
    it = item(&d, "BC402S");
    it->bc_seen = it->bc_paid = it->bc_before_golive = true;
    it = item(&d, "BC403S");
    it->bc_seen = it->bc_paid = true;
    it->job = RCN_JOB_HELD;
    it->dismissed = true;
    snprintf(it->dismissed_by, sizeof(it->dismissed_by), "ann");
    snprintf(it->dismissed_note, sizeof(it->dismissed_note), "keyed by hand");
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 0);
    assert_int_equal(d.n_infos, 3);
    assert_int_equal(info_of(&d, "BC401S")->kind, RCN_INFO_UNPAID);
    assert_int_equal(info_of(&d, "BC402S")->kind, RCN_INFO_BEFORE_GOLIVE);
    assert_int_equal(info_of(&d, "BC403S")->kind, RCN_INFO_DISMISSED);
    assert_string_equal(info_of(&d, "BC403S")->detail, "dismissed by ann: keyed by hand");
    rcn_day_clear(&d);
}

static void test_voucher_gross(void **state)
{
    struct rcn_day d;
    struct rcn_item *it;
    struct rcn_jdoc *j = NULL;

    (void)state;
    rcn_day_init(&d, &DAY, true, "UTC");
    it = item(&d, "BC501S");
    it->bc_seen = it->bc_paid = true;
    it->bc_amount = it->ledger_amount = it->ledger_gross = 3328;
    it->ledger = RCN_LEDGER_POSTED;
    it->ledger_doc = 9;
    assert_int_equal(rcn_item_set_ledger_lines(it, SALE, N_SALE - 1, NULL), MLC_OK);
    assert_int_equal(rcn_item_add_jdoc(it, 9, "PV", "00001", &j, NULL), MLC_OK);
    j->has_gross = true;
    j->gross = 3328;
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 0);
    d.items[0].jde[0].gross = 3300;
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    assert_int_equal(d.n_diffs, 1);
    assert_string_equal(d.diffs[0].detail, "voucher gross: ledger 33.28, JDE 33.00");
    rcn_day_clear(&d);
}

/* The ledger's amount from a posted document: the payment side. */
static void test_ledger_doc(void **state)
{
    struct post_line sl[] = {
        { .account = { "10", "4010", "" }, .amount = -2340, .role = POST_ROLE_REVENUE },
        { .account = { "1", "2300", "" }, .amount = -193, .role = POST_ROLE_TAX },
        { .account = { "1", "1110", "" }, .amount = 2000, .role = POST_ROLE_PAYMENT },
        { .account = { "1", "1100", "" }, .amount = 533, .role = POST_ROLE_UNMATCHED },
    };
    struct post_doc doc = { .kind = POST_KIND_SALE, .currency = "USD", .exponent = 2,
                            .lines = sl, .n_lines = 4 };
    struct rcn_day d;
    struct rcn_item *it = NULL;

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    assert_int_equal(rcn_item_get(&d, P, "BC601S", &it, NULL), MLC_OK);
    assert_int_equal(rcn_item_set_ledger_doc(it, &doc, NULL), MLC_OK);
    assert_int_equal(it->ledger_amount, 2533);
    assert_string_equal(it->currency, "USD");
    assert_int_equal(it->n_ledger_lines, 4);
    doc.kind = POST_KIND_REFUND;
    for (size_t i = 0; i < 4; i++)
        sl[i].amount = -sl[i].amount;
    assert_int_equal(rcn_item_set_ledger_doc(it, &doc, NULL), MLC_OK);
    assert_int_equal(it->ledger_amount, 2533);
    rcn_day_clear(&d);
}

static char *render(const json_t *j, bool csv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    if (csv) {
        rcn_render_csv_header(f);
        assert_int_equal(rcn_render_csv(j, f, NULL), MLC_OK);
    } else {
        assert_int_equal(rcn_render_text(j, f, NULL), MLC_OK);
    }
    fclose(f);
    return buf;
}

static void test_json_and_renderers(void **state)
{
    struct rcn_day d;
    struct rcn_bc_total *t = NULL;
    struct rcn_item *it;
    json_t *j = NULL;
    char *text, *csv;

    (void)state;
    rcn_day_init(&d, &DAY, false, "America/Chicago");
    agreeing(&d, "BC701S", 8001);
    it = item(&d, "BC702S");
    it->bc_seen = it->bc_paid = true;
    it->bc_amount = 1050;
    it->job = RCN_JOB_HELD;
    snprintf(it->job_reason, sizeof(it->job_reason), "account \"9.9999\", missing");
    assert_int_equal(rcn_bc_total_get(&d, "USD", 2, &t, NULL), MLC_OK);
    t->orders = 2;
    t->total = 4378;
    assert_int_equal(rcn_bc_add_payment(t, "stripe", "credit_card", 3328, NULL), MLC_OK);
    assert_int_equal(rcn_bc_add_payment(t, "stripe", "credit_card", 1050, NULL), MLC_OK);
    assert_int_equal(rcn_compare(&d, NULL), MLC_OK);
    rcn_set_description(&d, &SALE[3].account, "Card clearing");
    assert_int_equal(rcn_day_json(&d, &j, NULL), MLC_OK);
    assert_string_equal(json_string_value(json_object_get(j, "day")), "2026-03-14");
    assert_false(json_is_true(json_object_get(j, "agree")));
    assert_int_equal(rcn_json_differences(j), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "differences"), 0), "why")),
                        "held");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(
                                json_array_get(json_object_get(j, "bigcommerce"), 0),
                                "payments"), 0), "amount")),
                        "43.78");
    text = render(j, false);
    assert_non_null(strstr(text, "the sides DIFFER"));
    assert_non_null(strstr(text, "Card clearing"));
    assert_non_null(strstr(text, "BC702S  missing_in_jde/held"));
    csv = render(j, true);
    assert_non_null(strstr(csv, "day,section,currency,key,reason,"));
    /* A quote inside a field is doubled, the field quoted. */
    assert_non_null(strstr(csv, "\"held: account \"\"9.9999\"\", missing. To do:"));
    assert_non_null(strstr(csv, "2026-03-14,account,USD,,,1.1110,Card clearing,,33.28,33.28,"));
    free(text);
    free(csv);
    json_decref(j);
    rcn_day_clear(&d);
}

/* Many keys: lookups stay right across the sorted part and the tail. */
static void test_many_items(void **state)
{
    struct rcn_day d;
    char key[RCN_KEY_SIZE];

    (void)state;
    rcn_day_init(&d, &DAY, false, "UTC");
    for (int i = 1000; i > 0; i--) {
        snprintf(key, sizeof(key), "BC%dS", i);
        item(&d, key)->bc_amount = i;
    }
    for (int i = 1; i <= 1000; i++) {
        snprintf(key, sizeof(key), "BC%dS", i);
        assert_non_null(rcn_item_find(&d, key));
        assert_int_equal(rcn_item_find(&d, key)->bc_amount, i);
        assert_int_equal(item(&d, key)->bc_amount, i);
    }
    assert_int_equal(d.n_items, 1000);
    assert_null(rcn_item_find(&d, "BC1001S"));
    rcn_day_clear(&d);
}

static int note_reason(const struct store_alert *a, void *ctx)
{
    char *buf = ctx;
    size_t n = strlen(buf);

    snprintf(buf + n, 512 - n, "%s;", a->reason);
    return 0;
}

/* Stored days: show finds the latest day's (or a given day's) report, and
 * the watermark follows the latest day, not the latest run. */
static void test_stored(void **state)
{
    char dir[] = "/tmp/mlc-test-report-XXXXXX", path[96], wm[32];
    struct store *st = NULL;
    json_t *d1 = json_pack("{s:s, s:I, s:b}", "day", "2026-03-14", "difference_count",
                           (json_int_t)2, "agree", 0);
    json_t *d2 = json_pack("{s:s, s:I, s:b}", "day", "2026-03-15", "difference_count",
                           (json_int_t)0, "agree", 1);
    json_t *got = NULL;
    struct jdate_civil day = { 2026, 3, 14 };

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mlc.db", dir);
    assert_int_equal(store_open(path, &st, NULL), MLC_OK);
    assert_int_equal(rpt_load(st, RPT_KIND_RECONCILE, NULL, &got, NULL), MLC_ENOTFOUND);
    assert_int_equal(rpt_store_day(st, d2, NULL), MLC_OK);
    assert_int_equal(store_watermark_get(st, RPT_WM_DIFFERENCES, wm, sizeof(wm), NULL), MLC_OK);
    assert_string_equal(wm, "0");
    /* An older day re-run later: the gauge keeps the latest day's count. */
    assert_int_equal(rpt_store_day(st, d1, NULL), MLC_OK);
    assert_int_equal(store_watermark_get(st, RPT_WM_DIFFERENCES, wm, sizeof(wm), NULL), MLC_OK);
    assert_string_equal(wm, "0");
    assert_int_equal(rpt_load(st, RPT_KIND_RECONCILE, NULL, &got, NULL), MLC_OK);
    assert_string_equal(json_string_value(json_object_get(got, "day")), "2026-03-15");
    json_decref(got);
    assert_int_equal(rpt_load(st, RPT_KIND_RECONCILE, &day, &got, NULL), MLC_OK);
    assert_int_equal(rcn_json_differences(got), 2);
    json_decref(got);
    /* The latest day reconciled again, with differences now. */
    json_object_set_new(d2, "difference_count", json_integer(5));
    assert_int_equal(rpt_store_day(st, d2, NULL), MLC_OK);
    assert_int_equal(store_watermark_get(st, RPT_WM_DIFFERENCES, wm, sizeof(wm), NULL), MLC_OK);
    assert_string_equal(wm, "5");
    /* Each stored report with differences is an alert; one that agrees is
     * not. */
    {
        char reasons[512] = "";
        assert_int_equal(store_alert_list(st, 0, 0, note_reason, reasons, NULL), MLC_OK);
        assert_string_equal(reasons, "reconcile.differences;reconcile.differences;");
    }
    store_close(st);
    json_decref(d1);
    json_decref(d2);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-shm", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static void test_daily_due(void **state)
{
    /* 2026-03-15 05:59:00 UTC */
    const int64_t t = 1773554340;
    char day[11];
    int m = -1;

    (void)state;
    assert_int_equal(rpt_parse_hhmm("06:00", &m), MLC_OK);
    assert_int_equal(m, 360);
    assert_int_equal(rpt_parse_hhmm("23:59", &m), MLC_OK);
    assert_int_equal(m, 1439);
    assert_int_not_equal(rpt_parse_hhmm("24:00", &m), MLC_OK);
    assert_int_not_equal(rpt_parse_hhmm("6:00", &m), MLC_OK);
    assert_int_not_equal(rpt_parse_hhmm("06:60", &m), MLC_OK);
    assert_int_not_equal(rpt_parse_hhmm(NULL, &m), MLC_OK);
    /* Before the hour: not due; at it: the day before, once. */
    assert_false(rpt_daily_due(t, 0, 360, NULL, day));
    assert_true(rpt_daily_due(t + 60, 0, 360, NULL, day));
    assert_string_equal(day, "2026-03-14");
    assert_true(rpt_daily_due(t + 60, 0, 360, "2026-03-13", day));
    assert_false(rpt_daily_due(t + 60, 0, 360, "2026-03-14", day));
    /* Local time decides: at UTC-05:00 05:59 UTC is 00:59 on the 15th. */
    assert_true(rpt_daily_due(t, -300, 30, NULL, day));
    assert_string_equal(day, "2026-03-14");
    assert_false(rpt_daily_due(t, -300, 60, NULL, day));
    /* At UTC+10:00 it is 15:59 on the 15th: the 14th is due. */
    assert_true(rpt_daily_due(t, 600, 360, "2026-03-13", day));
    assert_string_equal(day, "2026-03-14");
    /* Just after local midnight the day before is the one that ended. */
    assert_true(rpt_daily_due(t + 18 * 3600 + 60, 0, 0, "2026-03-14", day));
    assert_string_equal(day, "2026-03-15");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_agree),
        cmocka_unit_test(test_missing_reasons),
        cmocka_unit_test(test_unknown_twice_amount),
        cmocka_unit_test(test_apart),
        cmocka_unit_test(test_voucher_gross),
        cmocka_unit_test(test_ledger_doc),
        cmocka_unit_test(test_json_and_renderers),
        cmocka_unit_test(test_many_items),
        cmocka_unit_test(test_stored),
        cmocka_unit_test(test_daily_due),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
