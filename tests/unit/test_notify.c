/* Unit tests: notify (alerts into the outbox, the digest that groups them,
 * the pace of a channel, the e-mail message, the Slack body, systems down
 * and up, a failing channel that keeps its alerts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/config.h"
#include "core/health.h"
#include "core/log.h"
#include "helpers/testcfg.h"
#include "notify/digest.h"
#include "notify/notify.h"
#include "notify/notify_send.h"
#include "notify/notify_smtp.h"
#include "store/store.h"

#define POSTING \
    "  accounts:\n" \
    "    revenue: \"100.4010\"\n" \
    "    discounts: \"100.4020\"\n" \
    "    shipping: \"100.4030\"\n" \
    "    tax: \"1.2310\"\n" \
    "    clearing: \"1.1110\"\n" \
    "    rounding: \"100.7990\"\n"

/* ---- fixture: a SQLite store in a temporary directory ---- */

struct fx {
    char          dir[64];
    char          path[96];
    struct store *st;
    int64_t       now;
};

static int64_t fake_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-test-notify-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/mlc.db", f->dir);
    assert_int_equal(store_open(f->path, &f->st, NULL), MLC_OK);
    f->now = 1764900000000; /* 2025-12-05, any fixed instant */
    store_set_clock(f->st, fake_clock, &f->now);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[128];

    store_close(f->st);
    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

struct rows {
    size_t n;
    char   reason[16][64];
    char   body[16][512];
};

static int note_row(const struct store_alert *a, void *ctx)
{
    struct rows *r = ctx;

    if (r->n < 16) {
        snprintf(r->reason[r->n], sizeof(r->reason[0]), "%s", a->reason);
        snprintf(r->body[r->n], sizeof(r->body[0]), "%s", a->body);
    }
    r->n++;
    return 0;
}

static struct rows list_all(struct fx *f)
{
    struct rows r;

    memset(&r, 0, sizeof(r));
    assert_int_equal(store_alert_list(f->st, 0, 0, note_row, &r, NULL), MLC_OK);
    return r;
}

/* ---- the events ---- */

/* A held order is one alert however often a retry loop holds it again for
 * the same reason; another reason, or its failure, is another alert. The
 * title says order, reason and amount; the command and the page show it. */
static void test_job_events(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = { 0 };
    struct rows r;
    json_t *b;

    for (int i = 0; i < 3; i++)
        assert_int_equal(notify_job(f->st, 7, "order:105", false, "account_missing", 1250,
                                    "USD", "account 100.4999 does not exist in F0901", &e),
                         MLC_OK);
    assert_int_equal(notify_job(f->st, 7, "order:105", false, "period_closed", 1250, "USD",
                                "period closed", &e), MLC_OK);
    assert_int_equal(notify_job(f->st, 7, "order:105", true, NULL, 0, NULL, "AIS 500", &e),
                     MLC_OK);
    assert_int_equal(notify_job(f->st, 9, "customer:3", false, NULL, 0, NULL, "no AN8", &e),
                     MLC_OK);
    r = list_all(f);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.reason[0], "held.account_missing");
    assert_string_equal(r.reason[1], "held.period_closed");
    assert_string_equal(r.reason[2], "failed");
    assert_string_equal(r.reason[3], "held.other");
    b = json_loads(r.body[0], 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "title")),
                        "Order 105 held for account_missing (USD 12.50): account 100.4999 "
                        "does not exist in F0901");
    assert_string_equal(json_string_value(json_object_get(b, "command")), "mlc orders show 105");
    assert_string_equal(json_string_value(json_object_get(b, "path")), "/orders/105");
    json_decref(b);
    b = json_loads(r.body[3], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(b, "command")), "mlc jobs show 9");
    json_decref(b);
}

/* Reconcile differences, systems, hooks: each keyed once. */
static void test_other_events(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = { 0 };
    struct rows r;

    assert_int_equal(notify_reconcile(f->st, "2026-12-04", 0, 1, &e), MLC_OK);
    assert_int_equal(notify_reconcile(f->st, "2026-12-04", 2, 2, &e), MLC_OK);
    assert_int_equal(notify_reconcile(f->st, "2026-12-04", 2, 2, &e), MLC_OK);
    assert_int_equal(notify_hook(f->st, 31, "store/order/*", "2026-12-04", &e), MLC_OK);
    assert_int_equal(notify_hook(f->st, 31, "store/order/*", "2026-12-04", &e), MLC_OK);
    assert_int_equal(notify_hook(f->st, 31, "store/order/*", "2026-12-05", &e), MLC_OK);
    r = list_all(f);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.reason[0], "reconcile.differences");
    assert_non_null(strstr(r.body[0], "mlc report show --day 2026-12-04"));
    assert_non_null(strstr(r.body[0], "2 differences"));
    assert_string_equal(r.reason[1], "hook.deactivated");
    /* A title that long is cut, marked, and stays valid UTF-8. */
    {
        char long_title[2000], *body = NULL;
        json_t *b;
        for (size_t i = 0; i + 2 < sizeof(long_title); i += 2)
            memcpy(long_title + i, "\xc3\xa9", 2); /* é */
        long_title[sizeof(long_title) - 1 - (sizeof(long_title) - 1) % 2] = '\0';
        assert_int_equal(notify_body(long_title, "c", "/", &body, &e), MLC_OK);
        b = json_loads(body, 0, NULL);
        assert_non_null(b);
        assert_true(strlen(json_string_value(json_object_get(b, "title"))) <=
                    NOTIFY_TITLE_MAX + 3);
        json_decref(b);
        free(body);
    }
}

/* ---- the digest ---- */

static void add(struct digest *d, int64_t id, const char *reason, int64_t at, const char *title,
                const char *command, const char *path)
{
    struct digest_alert a = { .id = id, .reason = reason, .created_at = at, .title = title,
                              .command = command, .path = path };

    assert_int_equal(digest_add(d, &a, NULL), MLC_OK);
}

/* Grouped by reason in the order they came, counted, the first three of a
 * group listed, then "and N more", the command and the console link. */
static void test_digest_groups(void **state)
{
    struct digest d;
    char subject[256], *text = NULL, title[64];

    (void)state;
    digest_init(&d, 0);
    for (int i = 0; i < 5; i++) {
        snprintf(title, sizeof(title), "Order %d held for account_missing", 100 + i);
        add(&d, 10 + i, "held.account_missing", 1000, title, "mlc orders show 100",
            "/orders/100");
    }
    add(&d, 20, "failed", 1000, "Order 200 failed: AIS 500", "mlc orders show 200",
        "/orders/200");
    add(&d, 21, "held.account_missing", 1000, "Order 106 held", "x", "/y");
    add(&d, 22, "reconcile.differences", 1000, "Reconciliation of 2026-12-04: 2 differences",
        "mlc report show --day 2026-12-04", "/reports/2026-12-04");
    assert_int_equal(d.total, 8);
    assert_int_equal(d.first_id, 10);
    assert_int_equal(d.last_id, 22);
    assert_int_equal(d.n_groups, 3);
    digest_subject(&d, subject, sizeof(subject));
    assert_string_equal(subject, "[mlc] 8 alerts: held.account_missing 6, failed 1, "
                                 "reconcile.differences 1");
    assert_int_equal(digest_text(&d, "https://console.example.com/", &text, NULL), MLC_OK);
    assert_string_equal(text,
        "ml-connector: 8 alerts to look at\n"
        "\n"
        "held.account_missing: 6\n"
        "  - Order 100 held for account_missing\n"
        "  - Order 101 held for account_missing\n"
        "  - Order 102 held for account_missing\n"
        "  and 3 more\n"
        "  Details: mlc orders show 100\n"
        "  Console: https://console.example.com/orders/100\n"
        "\n"
        "failed: 1\n"
        "  - Order 200 failed: AIS 500\n"
        "  Details: mlc orders show 200\n"
        "  Console: https://console.example.com/orders/200\n"
        "\n"
        "reconcile.differences: 1\n"
        "  - Reconciliation of 2026-12-04: 2 differences\n"
        "  Details: mlc report show --day 2026-12-04\n"
        "  Console: https://console.example.com/reports/2026-12-04\n");
    free(text);
    /* No console URL: no link lines. */
    assert_int_equal(digest_text(&d, NULL, &text, NULL), MLC_OK);
    assert_null(strstr(text, "Console:"));
    free(text);
    digest_clear(&d);
    assert_int_equal(d.total, 0);
    assert_int_equal(d.n_groups, 0);
}

/* One alert of a group shows its own command and page; several show the
 * group's (mlc held --all, not the first order). */
static void test_digest_group_command(void **state)
{
    struct digest_alert a = { .id = 1, .reason = "held.account_missing", .created_at = 1,
                              .title = "Order 1 held", .command = "mlc orders show 1",
                              .path = "/orders/1", .group_command = "mlc held --all",
                              .group_path = "/held" };
    struct digest d;
    char *text = NULL;

    (void)state;
    digest_init(&d, 0);
    assert_int_equal(digest_add(&d, &a, NULL), MLC_OK);
    assert_int_equal(digest_text(&d, "https://c", &text, NULL), MLC_OK);
    assert_non_null(strstr(text, "  Details: mlc orders show 1\n  Console: https://c/orders/1\n"));
    free(text);
    a.id = 2;
    a.title = "Order 2 held";
    assert_int_equal(digest_add(&d, &a, NULL), MLC_OK);
    assert_int_equal(digest_text(&d, "https://c", &text, NULL), MLC_OK);
    assert_non_null(strstr(text, "  Details: mlc held --all\n  Console: https://c/held\n"));
    free(text);
    digest_clear(&d);
}

/* Alerts older than the cap (a channel that kept failing) are counted in
 * their group, not listed, and the digest says so: nothing is dropped. */
static void test_digest_old(void **state)
{
    struct digest d;
    char *text = NULL;

    (void)state;
    digest_init(&d, 5000);
    add(&d, 1, "held.other", 1000, "old one", "mlc held", "/held");
    add(&d, 2, "held.other", 2000, "old two", "mlc held", "/held");
    add(&d, 3, "held.other", 6000, "new one", "mlc held", "/held");
    assert_int_equal(d.total, 3);
    assert_int_equal(d.old, 2);
    assert_int_equal(digest_text(&d, NULL, &text, NULL), MLC_OK);
    assert_non_null(strstr(text, "held.other: 3\n  - new one\n  and 2 older, not listed\n"));
    assert_null(strstr(text, "old one"));
    assert_non_null(strstr(text, "2 alerts waited longer than the age cap"));
    free(text);
    digest_clear(&d);
}

/* More reasons than groups fold into "other"; a body that is not JSON still
 * counts, shown by its reason. */
static void test_digest_limits(void **state)
{
    struct digest d;
    char reason[32];

    (void)state;
    digest_init(&d, 0);
    for (int i = 0; i < DIGEST_MAX_GROUPS + 5; i++) {
        snprintf(reason, sizeof(reason), "r%d", i);
        add(&d, i + 1, reason, 1, "t", "c", "/");
    }
    assert_int_equal(d.n_groups, DIGEST_MAX_GROUPS);
    assert_string_equal(d.groups[DIGEST_MAX_GROUPS - 1].reason, "other");
    assert_int_equal(d.groups[DIGEST_MAX_GROUPS - 1].count, 6);
    assert_int_equal(digest_add_row(&d, 99, "r0", 1, "not json", NULL), MLC_OK);
    assert_int_equal(d.groups[0].count, 2);
    assert_string_equal(d.groups[0].shown[1], "r0");
    digest_clear(&d);
}

/* Slack's incoming webhooks take {"text": ...}: valid JSON, quotes and new
 * lines escaped, the subject first. */
static void test_slack_json(void **state)
{
    struct digest d;
    char *body = NULL;
    json_t *o;
    const char *t;

    (void)state;
    digest_init(&d, 0);
    add(&d, 1, "failed", 1, "Order 7 failed: \"quoted\"\nsecond line", "mlc orders show 7",
        "/orders/7");
    assert_int_equal(digest_slack_json(&d, "https://c.example.com", &body, NULL), MLC_OK);
    o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 1);
    t = json_string_value(json_object_get(o, "text"));
    assert_non_null(t);
    assert_int_equal(strncmp(t, "[mlc] 1 alert: failed 1\n\nml-connector: 1 alert", 46), 0);
    assert_non_null(strstr(t, "Order 7 failed: \"quoted\"\nsecond line"));
    assert_non_null(strstr(t, "Console: https://c.example.com/orders/7"));
    json_decref(o);
    free(body);
    digest_clear(&d);
}

/* The first digest after a quiet spell goes at once, then one an
 * interval; a failing channel waits 5 s, 10 s, 20 s ... up to the cap. */
static void test_rate_limit(void **state)
{
    (void)state;
    assert_true(digest_due(1000, 0, 300000));         /* never sent */
    assert_false(digest_due(100000, 1000, 300000));   /* inside the interval */
    assert_true(digest_due(301000, 1000, 300000));    /* the interval passed */
    assert_true(digest_due(9999999, 1000, 300000));   /* quiet for long */
    assert_int_equal(digest_backoff_ms(1, 60000), 5000);
    assert_int_equal(digest_backoff_ms(2, 60000), 10000);
    assert_int_equal(digest_backoff_ms(3, 60000), 20000);
    assert_int_equal(digest_backoff_ms(4, 60000), 40000);
    assert_int_equal(digest_backoff_ms(5, 60000), 60000);
    assert_int_equal(digest_backoff_ms(500, 60000), 60000);
}

/* ---- e-mail ---- */

/* RFC 5322: Date, Message-ID on the sender's domain, From, To, Subject,
 * MIME headers, a blank line, the text; every line ends in CRLF. */
static void test_smtp_message(void **state)
{
    char to1[] = "controller@example.com", to2[] = "ops@example.com";
    char *to[] = { to1, to2 };
    struct cfg_alert_email ch = {
        .name = (char *)"finance", .smtp_url = (char *)"smtp://127.0.0.1:2525",
        .from = (char *)"mlc@shop.example.com", .to = to, .n_to = 2,
    };
    char *msg = NULL;

    (void)state;
    assert_int_equal(nsmtp_message(&ch, "[mlc] 1 alert: failed 1", "line one\nline two\n",
                                   1764950400123, 0xabcdef01u, &msg, NULL), MLC_OK);
    assert_string_equal(msg,
        "Date: Fri, 05 Dec 2025 16:00:00 +0000\r\n"
        "Message-ID: <1764950400123.abcdef01@shop.example.com>\r\n"
        "From: ml-connector <mlc@shop.example.com>\r\n"
        "To: controller@example.com,\r\n ops@example.com\r\n"
        "Subject: [mlc] 1 alert: failed 1\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "\r\n"
        "line one\r\n"
        "line two\r\n");
    free(msg);
    /* A subject that is not ASCII is an encoded word; a text without a
     * final new line gets one. */
    assert_int_equal(nsmtp_message(&ch, "caf\xc3\xa9", "x", 0, 1, &msg, NULL), MLC_OK);
    assert_non_null(strstr(msg, "Subject: =?UTF-8?B?Y2Fmw6k=?=\r\n"));
    assert_non_null(strstr(msg, "\r\n\r\nx\r\n"));
    for (const char *p = msg; (p = strchr(p, '\n')) != NULL; p++)
        assert_true(p > msg && p[-1] == '\r');
    free(msg);
}

/* ---- the sender ---- */

/* A condition of BigCommerce, JDE or the store past down_after_s is one
 * "down" alert (not one a pass); its end is one "up"; younger conditions
 * and other systems are not alerts. */
static void test_health_alerts(void **state)
{
    struct fx *f = *state;
    struct mlc_config *cfg = testcfg_posting(POSTING "alerts:\n  down_after_s: 300\n");
    struct nsend *s = NULL;
    struct health_cond c[3];
    struct rows r;

    memset(c, 0, sizeof(c));
    snprintf(c[0].name, sizeof(c[0].name), "jde.unreachable");
    snprintf(c[0].reason, sizeof(c[0].reason), "AIS did not answer");
    c[0].since_ms = f->now - 301000;
    snprintf(c[1].name, sizeof(c[1].name), "bigcommerce.auth");
    c[1].since_ms = f->now - 10000;                  /* too young */
    snprintf(c[2].name, sizeof(c[2].name), "flows.disabled");
    c[2].since_ms = f->now - 9999999;                /* not a system */
    assert_int_equal(nsend_new(&s, NULL), MLC_OK);
    assert_int_equal(nsend_health(s, cfg, f->st, c, 3, f->now, NULL), MLC_OK);
    assert_int_equal(nsend_health(s, cfg, f->st, c, 3, f->now + 2000, NULL), MLC_OK);
    r = list_all(f);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.reason[0], "system.down");
    assert_non_null(strstr(r.body[0], "jde.unreachable: AIS did not answer"));
    /* JDE answers again: one "recovered"; BigCommerce's cleared before its
     * time: nothing. */
    assert_int_equal(nsend_health(s, cfg, f->st, &c[2], 1, f->now + 4000, NULL), MLC_OK);
    assert_int_equal(nsend_health(s, cfg, f->st, &c[2], 1, f->now + 6000, NULL), MLC_OK);
    r = list_all(f);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.reason[1], "system.up");
    assert_non_null(strstr(r.body[1], "jde.unreachable: recovered"));
    nsend_free(s);
    cfg_unref(cfg);
}

/* A channel that cannot send (here: its credential is not stored) keeps
 * every alert: its cursor does not move, the pass itself succeeds, and the
 * next try waits for the backoff. */
static void test_failing_channel_keeps_alerts(void **state)
{
    struct fx *f = *state;
    struct mlc_config *cfg = testcfg_posting(POSTING
        "alerts:\n"
        "  webhooks:\n"
        "    - name: ops\n"
        "      url_ref: ops_url\n");
    struct nsend *s = NULL;
    struct nsend_cursor cur;
    struct mlc_err e = { 0 };

    log_set_level(LOG_LVL_ERROR); /* the channel's warning is expected */
    setenv("MLC_MASTER_KEY", "0000000000000000000000000000000000000000000000000000000000000000",
           1);
    assert_int_equal(notify_job(f->st, 1, "order:1", true, NULL, 0, NULL, "x", &e), MLC_OK);
    assert_int_equal(nsend_new(&s, NULL), MLC_OK);
    assert_int_equal(nsend_run(s, cfg, f->st, f->now, &e), MLC_OK);
    assert_int_equal(nsend_cursor_get(f->st, "ops", &cur, &e), MLC_OK);
    assert_int_equal(cur.last_id, 0);
    assert_int_equal(cur.sent_ms, 0);
    assert_int_equal(list_all(f).n, 1);
    /* Cursors read back as written. */
    assert_int_equal(store_watermark_set(f->st, "alerts.sent.ops", "5 1234", &e), MLC_OK);
    assert_int_equal(nsend_cursor_get(f->st, "ops", &cur, &e), MLC_OK);
    assert_int_equal(cur.last_id, 5);
    assert_int_equal(cur.sent_ms, 1234);
    assert_int_equal(store_watermark_set(f->st, "alerts.sent.ops", "x", &e), MLC_OK);
    assert_int_equal(nsend_cursor_get(f->st, "ops", &cur, &e), MLC_EPARSE);
    unsetenv("MLC_MASTER_KEY");
    nsend_free(s);
    cfg_unref(cfg);
}

/* With no channel, a pass only prunes what is older than a week. */
static void test_prune_without_channels(void **state)
{
    struct fx *f = *state;
    struct mlc_config *cfg = testcfg_posting(POSTING);
    struct nsend *s = NULL;

    assert_int_equal(notify_job(f->st, 1, "order:1", true, NULL, 0, NULL, "x", NULL), MLC_OK);
    f->now += NSEND_KEEP_MS + 1;
    assert_int_equal(notify_job(f->st, 2, "order:2", true, NULL, 0, NULL, "x", NULL), MLC_OK);
    assert_int_equal(nsend_new(&s, NULL), MLC_OK);
    assert_int_equal(nsend_run(s, cfg, f->st, f->now, NULL), MLC_OK);
    assert_int_equal(list_all(f).n, 1);
    nsend_free(s);
    cfg_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_job_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_events, setup, teardown),
        cmocka_unit_test(test_digest_groups),
        cmocka_unit_test(test_digest_group_command),
        cmocka_unit_test(test_digest_old),
        cmocka_unit_test(test_digest_limits),
        cmocka_unit_test(test_slack_json),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_smtp_message),
        cmocka_unit_test_setup_teardown(test_health_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_channel_keeps_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_without_channels, setup, teardown),
    };

    return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
