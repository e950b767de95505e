/* Unit tests: console/console_api (the console's JSON documents) over a
 * real SQLite store, and sync/heldops as the console calls it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console_api.h"
#include "helpers/tmpstore.h"
#include "store/store.h"
#include "sync/heldops.h"

struct fx {
    struct tmpstore t;
    struct store   *st;  /* t.st */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || tmpstore_open(&f->t, "capi") != 0) {
        free(f);
        return -1;
    }
    f->st = f->t.st;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    tmpstore_close(&f->t);
    free(f);
    return 0;
}

/* A job of key held with code and an amount; its id. */
static int64_t held(struct fx *f, const char *key, const char *code, const char *cur,
                    int64_t minor)
{
    struct store_job j;
    struct mlc_err e;
    int64_t id = 0;

    memset(&j, 0, sizeof(j));
    assert_int_equal(store_job_enqueue(f->st, "order.sync", key, NULL, 0, &id, NULL, &e), MLC_OK);
    assert_int_equal(store_job_claim(f->st, "w1", NULL, 60000, &j, &e), MLC_OK);
    assert_int_equal(j.id, id);
    assert_int_equal(store_job_hold_as(f->st, id, "w1", "account 100.4999 is not in F0901",
                                       &(struct store_hold){ .code = code, .currency = cur,
                                                             .amount = minor }, &e), MLC_OK);
    store_job_clear(&j);
    return id;
}

static const json_t *item_of(const json_t *held_doc, const char *key)
{
    size_t i;
    json_t *x;

    json_array_foreach(json_object_get(held_doc, "items"), i, x)
        if (strcmp(json_string_value(json_object_get(x, "key")), key) == 0)
            return x;
    return NULL;
}

static void test_held_items_and_groups(void **state)
{
    struct fx *f = *state;
    struct mlc_err e;
    json_t *h = NULL;
    const json_t *it, *g, *amt;

    held(f, "order:400", "account_missing", "USD", 1620);
    held(f, "order:401", "account_missing", "USD", 5);
    held(f, "order:402", "unmapped_sku", NULL, 0);
    assert_int_equal(capi_held(f->st, &h, &e), MLC_OK);
    assert_int_equal(json_array_size(json_object_get(h, "items")), 3);
    it = item_of(h, "order:400");
    assert_non_null(it);
    assert_string_equal(json_string_value(json_object_get(it, "code")), "account_missing");
    amt = json_object_get(it, "amount");
    assert_int_equal(json_integer_value(json_object_get(amt, "minor")), 1620);
    assert_string_equal(json_string_value(json_object_get(amt, "text")), "16.20");
    assert_true(json_is_null(json_object_get(item_of(h, "order:402"), "amount")));
    g = json_array_get(json_object_get(h, "groups"), 0); /* most items first */
    assert_string_equal(json_string_value(json_object_get(g, "code")), "account_missing");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
    amt = json_array_get(json_object_get(g, "amounts"), 0);
    assert_string_equal(json_string_value(json_object_get(amt, "text")), "16.25");
    assert_int_equal(json_integer_value(json_object_get(amt, "minor")), 1625);
    json_decref(h);
}

/* What the console's replay and dismiss do: the same store changes as the
 * CLI, audited with the console user and the note. */
static void test_console_replay_and_dismiss_audited(void **state)
{
    struct fx *f = *state;
    int64_t a = held(f, "order:500", "account_missing", "USD", 100);
    int64_t b = held(f, "order:501", "period_closed", "USD", 200);
    struct store_job was, j;
    struct mlc_err e;
    json_t *o = NULL, *row;

    memset(&was, 0, sizeof(was));
    memset(&j, 0, sizeof(j));
    assert_int_equal(heldops_replay(f->st, a, "console:olga", "mapping fixed", false, &was, &e),
                     MLC_OK);
    assert_int_equal(was.state, STORE_JOB_HELD);
    store_job_clear(&was);
    assert_int_equal(store_job_get(f->st, a, &j, &e), MLC_OK);
    assert_int_equal(j.state, STORE_JOB_READY);
    store_job_clear(&j);
    /* replaying it again: not held any more */
    assert_int_equal(heldops_replay(f->st, a, "console:olga", "again", false, &was, &e),
                     MLC_ESTATE);
    store_job_clear(&was);

    assert_int_equal(heldops_dismiss(f->st, b, "console:olga", "  ", &was, &e), MLC_EINVAL);
    assert_int_equal(heldops_dismiss(f->st, b, "console:olga", "keyed by hand", &was, &e),
                     MLC_OK);
    store_job_clear(&was);
    /* a dismissed job is not replayed without undismiss */
    assert_int_equal(heldops_replay(f->st, b, "console:olga", "x", false, &was, &e), MLC_ESTATE);
    store_job_clear(&was);

    assert_int_equal(capi_order(f->st, "order:500", &o, &e), MLC_OK);
    row = json_array_get(json_object_get(o, "audit"), json_array_size(json_object_get(o, "audit")) - 1);
    assert_string_equal(json_string_value(json_object_get(row, "actor")), "console:olga");
    assert_string_equal(json_string_value(json_object_get(row, "action")), "replay");
    assert_string_equal(json_string_value(json_object_get(json_object_get(row, "detail"), "note")),
                        "mapping fixed");
    json_decref(o);
    assert_int_equal(capi_order(f->st, "order:501", &o, &e), MLC_OK);
    row = json_array_get(json_object_get(o, "audit"), json_array_size(json_object_get(o, "audit")) - 1);
    assert_string_equal(json_string_value(json_object_get(row, "actor")), "console:olga");
    assert_string_equal(json_string_value(json_object_get(row, "action")), "dismiss");
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(o, "jobs"), 0),
                                             "dismissed")));
    json_decref(o);
    assert_int_equal(capi_held(f->st, &o, &e), MLC_OK);
    assert_int_equal(json_integer_value(json_object_get(o, "dismissed")), 1);
    json_decref(o);
}

static void test_order_key(void **state)
{
    char key[64];
    struct mlc_err e;

    (void)state;
    assert_int_equal(capi_order_key("105", "BC", key, sizeof(key), &e), MLC_OK);
    assert_string_equal(key, "order:105");
    assert_int_equal(capi_order_key(" order:7 ", "BC", key, sizeof(key), &e), MLC_OK);
    assert_string_equal(key, "order:7");
    assert_int_equal(capi_order_key("customer:12", "BC", key, sizeof(key), &e), MLC_OK);
    assert_string_equal(key, "customer:12");
    assert_int_equal(capi_order_key("BC105S", "BC", key, sizeof(key), &e), MLC_OK);
    assert_string_equal(key, "order:105");
    assert_int_equal(capi_order_key("bc105r3", "BC", key, sizeof(key), &e), MLC_OK);
    assert_string_equal(key, "order:105");
    assert_int_equal(capi_order_key("", "BC", key, sizeof(key), &e), MLC_EINVAL);
    assert_int_equal(capi_order_key("drop table", "BC", key, sizeof(key), &e), MLC_EINVAL);
    assert_int_equal(capi_order_key("Order:1", "BC", key, sizeof(key), &e), MLC_EINVAL);
    assert_int_equal(capi_order_key("BCx", "BC", key, sizeof(key), &e), MLC_EINVAL);
}

static void test_report_and_csv(void **state)
{
    struct fx *f = *state;
    const char *body = "{\"day\":\"2026-11-28\",\"timezone\":\"UTC\",\"mode\":\"journal\","
                       "\"agree\":true,\"difference_count\":0,\"bigcommerce\":[],"
                       "\"accounts\":[{\"currency\":\"USD\",\"account\":\"100.4010\","
                       "\"description\":\"Sales, web\",\"ledger\":\"15.00\",\"jde\":\"15.00\","
                       "\"difference\":\"0.00\"}],\"differences\":[],\"information\":[]}";
    struct mlc_err e;
    json_t *d = NULL;
    char *csv = NULL;
    size_t len = 0;

    assert_int_equal(capi_report(f->st, NULL, &d, &e), MLC_ENOTFOUND);
    assert_int_equal(store_report_add(f->st, "reconcile", "2026-11-28", body, 0, NULL, &e), MLC_OK);
    assert_int_equal(capi_report(f->st, "2026-11-28", &d, &e), MLC_OK);
    assert_true(json_is_true(json_object_get(d, "agree")));
    json_decref(d);
    assert_int_equal(capi_report(f->st, "2026-11-27", &d, &e), MLC_ENOTFOUND);
    assert_int_equal(capi_report(f->st, "28.11.2026", &d, &e), MLC_EINVAL);
    assert_int_equal(capi_report_csv(f->st, NULL, &csv, &len, &e), MLC_OK);
    assert_int_equal(strlen(csv), len);
    assert_non_null(strstr(csv, "day,section,currency,key,reason,account,description,"
                                "bigcommerce,ledger,jde,detail\r\n"));
    assert_non_null(strstr(csv, "2026-11-28,account,USD,,,100.4010,\"Sales, web\",,15.00,15.00,\r\n"));
    free(csv);
}

static void test_overview(void **state)
{
    struct fx *f = *state;
    struct capi_runtime rt = { .now_ms = 1764324000000LL, .timezone = "America/Chicago",
                               .tz_offset_min = -360, .quota_left = 87, .quota_limit = -1,
                               .ais_up = 1 };
    struct mlc_err e;
    json_t *o = NULL, *jobs;

    held(f, "order:600", "account_missing", "EUR", 999);
    assert_int_equal(capi_overview(f->st, &rt, &o, &e), MLC_OK);
    jobs = json_object_get(o, "jobs");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(jobs, "held"), "count")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "timezone"), "name")),
                        "America/Chicago");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "bigcommerce_quota"),
                                                        "left")), 87);
    assert_true(json_is_true(json_object_get(o, "ais_session")));
    assert_true(json_is_null(json_object_get(o, "reconcile")));
    /* midnight in Chicago (UTC-6) of 2025-11-28 10:00 UTC is 06:00 UTC */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "today"), "since_ms")),
                     1764309600000LL);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_held_items_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_replay_and_dismiss_audited, setup, teardown),
        cmocka_unit_test(test_order_key),
        cmocka_unit_test_setup_teardown(test_report_and_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overview, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
