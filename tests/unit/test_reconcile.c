/*
 * Unit tests: sync/reconcile (recon_sweep) against the BigCommerce simulator
 * in-process (seeded from sim/seed/bigcommerce.json; run from the repository
 * root) and a temporary SQLite store.
 *
 * The seed: orders 100 (11), 101 (10, one refund), 102 (2), 103 (7,
 * unpaid), 104 (11), 105 (9); the simulator's clock is frozen at
 * 2026-11-28T10:00:00Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/bcsim.h"
#include "bc/pacer.h"
#include "core/config.h"
#include "core/jdate.h"
#include "core/log.h"
#include "core/secret.h"
#include "store/store.h"
#include "sync/posting.h"
#include "sync/reconcile.h"

#define SEED_FILE "sim/seed/bigcommerce.json"
#define TOKEN     "tok-recon-test"
#define SIM_NOW   "2026-11-28T10:00:00Z"

#define CFG_TEXT \
    "bigcommerce:\n" \
    "  store_hash: nwhg42\n" \
    "  token_ref: bc_token\n" \
    "  api_base_url: \"http://127.0.0.1:%u/stores/{store_hash}\"\n" \
    "jde:\n" \
    "  ais_base_url: https://ais.example.com\n" \
    "  user: MLC\n" \
    "  password_ref: jde_pw\n" \
    "posting:\n" \
    "  company: \"00001\"\n" \
    "  accounts:\n" \
    "    revenue: \"100.4010\"\n" \
    "    discounts: \"100.4090\"\n" \
    "    shipping: \"100.4020\"\n" \
    "    tax: \"1.2310\"\n" \
    "    clearing: \"1.1150\"\n" \
    "    rounding: \"100.8990\"\n" \
    "orders:\n" \
    "  start: \"%s\"\n" \
    "schedule:\n" \
    "  reconcile_overlap: 600\n" \
    "store:\n" \
    "  url: \"%s\"\n"

/* The go-live cutover of the cases but the cutover's own: before every
 * order of the seed. */
#define CUTOVER_PAST "2020-01-01T00:00:00Z"

struct fx {
    struct bcsim      *sim;
    uint16_t           port;
    char               dir[64];
    char               db[96];
    struct store      *st;
    struct mlc_config *cfg;
    struct mlc_config *cfg0;   /* the first config, kept for the client */
    struct mlc_secret *token;
    struct pacer      *pacer;
    struct bc_client  *bc;
    int64_t            now_ms;
};

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_error_t je;
    json_t *doc = json_load_file(SEED_FILE, 0, &je);
    json_t *seed = json_object_get(doc, "bigcommerce"), *set;
    struct bc_client_tuning t = { .max_attempts = 2, .max_transient = 1, .base_delay_ms = 1,
                                  .max_delay_ms = 5, .max_pacer_wait_ms = 5000 };
    struct mlc_err e;
    char text[4096];
    int64_t now_s;

    mlc_err_clear(&e);
    assert_non_null(f);
    assert_non_null(seed);
    set = json_object_get(seed, "settings");
    json_object_set_new(set, "access_token", json_string(TOKEN));
    json_object_set_new(set, "rate_quota", json_integer(0));
    json_object_set_new(set, "clock", json_string(SIM_NOW));
    json_object_set_new(set, "clock_frozen", json_true());
    if (bcsim_start("127.0.0.1:0", seed, &f->sim, &e) != MLC_OK)
        fail_msg("bcsim_start: %s", e.msg);
    json_decref(doc);
    f->port = bcsim_port(f->sim);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-test-recon.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/mlc.db", f->dir);
    if (store_open(f->db, &f->st, &e) != MLC_OK)
        fail_msg("store_open: %s", e.msg);
    snprintf(text, sizeof(text), CFG_TEXT, (unsigned)f->port, CUTOVER_PAST, f->db);
    if (cfg_load_buffer("recon.yaml", text, strlen(text), &f->cfg, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
    assert_int_equal(secret_new(TOKEN, strlen(TOKEN), &f->token, &e), MLC_OK);
    assert_int_equal(pacer_new(NULL, &f->pacer, &e), MLC_OK);
    if (bc_client_new(&f->cfg->bigcommerce, f->token, f->pacer, &f->bc, &e) != MLC_OK)
        fail_msg("bc_client_new: %s", e.msg);
    bc_client_tune(f->bc, &t);
    assert_int_equal(jdate_iso8601_parse(SIM_NOW, &now_s, &e), MLC_OK);
    f->now_ms = now_s * 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char path[128];

    bc_client_free(f->bc);
    pacer_free(f->pacer);
    secret_free(f->token);
    cfg_unref(f->cfg);
    cfg_unref(f->cfg0);
    store_close(f->st);
    bcsim_free(f->sim);
    snprintf(path, sizeof(path), "%s/mlc.db", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mlc.db-shm", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

/* The sweeps from here on run with the go-live cutover at start. */
static void set_cutover(struct fx *f, const char *start)
{
    char text[4096];
    struct mlc_err e;

    mlc_err_clear(&e);
    if (f->cfg0 == NULL)
        f->cfg0 = f->cfg;
    else
        cfg_unref(f->cfg);
    f->cfg = NULL;
    snprintf(text, sizeof(text), CFG_TEXT, (unsigned)f->port, start, f->db);
    if (cfg_load_buffer("recon.yaml", text, strlen(text), &f->cfg, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
}

static void sweep(struct fx *f, struct recon_stats *s)
{
    struct mlc_err e;

    mlc_err_clear(&e);
    if (recon_sweep(f->bc, f->st, f->cfg, f->now_ms, s, &e) != MLC_OK)
        fail_msg("recon_sweep: %s", e.msg);
}

static void set_wm(struct fx *f, const char *name, const char *v)
{
    struct mlc_err e;

    mlc_err_clear(&e);
    assert_int_equal(store_watermark_set(f->st, name, v, &e), MLC_OK);
}

static void wm_is(struct fx *f, const char *name, const char *want)
{
    char buf[64];
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = store_watermark_get(f->st, name, buf, sizeof(buf), &e);
    if (want == NULL) {
        assert_int_equal(rc, MLC_ENOTFOUND);
        return;
    }
    assert_int_equal(rc, MLC_OK);
    assert_string_equal(buf, want);
}

static void post(struct fx *f, int64_t order, enum post_kind kind, int64_t refund)
{
    char key[POST_KEY_MAX + 1], entity[32];
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    assert_int_equal(post_key(f->cfg->posting.key_prefix, order, kind, refund, key,
                              sizeof(key)), MLC_OK);
    snprintf(entity, sizeof(entity), "order:%" PRId64, order);
    rc = store_ledger_begin(f->st, key, post_kind_name(kind), entity, "{}", &e);
    if (rc == MLC_EEXIST)
        return; /* posted earlier in the test */
    assert_int_equal(rc, MLC_OK);
    assert_int_equal(store_ledger_mark_posted(f->st, key, "JE", "00001", 1000 + order, 7, &e),
                     MLC_OK);
}

/* The keys of the READY order.sync jobs, as "order:101,order:104". */
struct keys {
    char   s[512];
    int    n;
};

static int keys_cb(const struct store_job *j, void *ctx)
{
    struct keys *k = ctx;
    size_t len = strlen(k->s);

    if (strcmp(j->kind, RECON_JOB_KIND) != 0)
        return 0;
    snprintf(k->s + len, sizeof(k->s) - len, "%s%s", k->n > 0 ? "," : "", j->key);
    k->n++;
    return 0;
}

static void jobs_are(struct fx *f, const char *want)
{
    struct keys k = { "", 0 };
    struct mlc_err e;

    mlc_err_clear(&e);
    assert_int_equal(store_job_list(f->st, STORE_JOB_READY, 0, keys_cb, &k, &e), MLC_OK);
    assert_string_equal(k.s, want);
}

static int count_cb(const struct store_audit *a, void *ctx)
{
    (void)a;
    (*(int *)ctx)++;
    return 0;
}

static int sweep_audits(struct fx *f)
{
    int n = 0;
    struct mlc_err e;

    mlc_err_clear(&e);
    assert_int_equal(store_audit_list(f->st, "reconcile", 0, count_cb, &n, &e), MLC_OK);
    return n;
}

/* A control API call; status returned. */
static long ctl(struct fx *f, const char *method, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char url[160];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");

    assert_non_null(c);
    assert_non_null(sink);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/__sim%s", (unsigned)f->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(sink);
    return status;
}

/* The id of order's first refund (from the API). */
static int64_t first_refund(struct fx *f, int64_t order)
{
    json_t *arr = NULL;
    struct mlc_err e;
    int64_t id;

    mlc_err_clear(&e);
    assert_int_equal(bc_order_refunds(f->bc, order, &arr, &e), MLC_OK);
    assert_true(json_array_size(arr) >= 1);
    id = json_integer_value(json_object_get(json_array_get(arr, 0), "id"));
    json_decref(arr);
    return id;
}

static void post_everything(struct fx *f)
{
    static const int64_t paid[] = { 100, 101, 102, 104, 105 };

    for (size_t i = 0; i < sizeof(paid) / sizeof(paid[0]); i++)
        post(f, paid[i], POST_KIND_SALE, 0);
    post(f, 101, POST_KIND_REFUND, first_refund(f, 101));
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_needs_sync(void **state)
{
    struct fx *f = *state;
    const struct cfg_posting *p = &f->cfg->posting;

    assert_true(recon_order_needs_sync(11, false, false, p));   /* paid, not posted */
    assert_false(recon_order_needs_sync(11, true, false, p));   /* paid, posted */
    assert_true(recon_order_needs_sync(4, false, false, p));    /* refunded: was paid */
    assert_false(recon_order_needs_sync(7, false, false, p));   /* awaiting payment */
    assert_false(recon_order_needs_sync(5, false, false, p));   /* cancelled, never posted */
    assert_true(recon_order_needs_sync(5, true, false, p));     /* cancelled after posting */
    assert_false(recon_order_needs_sync(5, true, true, p));     /* reversed already */
    assert_true(recon_order_needs_sync(11, true, true, p));     /* paid again: held by the flow */
}

static void test_enqueues_only_unposted(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    set_wm(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-01T00:00:00Z");
    post(f, 100, POST_KIND_SALE, 0);
    post(f, 102, POST_KIND_SALE, 0);
    sweep(f, &s);
    assert_int_equal(s.orders_seen, 6);
    assert_int_equal(s.refunds_seen, 1);
    assert_int_equal(s.enqueued, 3);     /* 101 (order and refund: one job), 104, 105 */
    assert_int_equal(s.coalesced, 0);
    assert_string_equal(s.orders_since, "2026-10-31T23:50:00Z");
    jobs_are(f, "order:101,order:104,order:105");
    wm_is(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");
    wm_is(f, RECON_WM_REFUNDS, "2026-11-27T17:40:00Z");
    assert_int_equal(sweep_audits(f), 1);

    /* Nothing new: the window still holds 105 and the refund, but their
     * jobs are waiting, enqueued after the change: they will read the
     * order as changed (even if they run before this sweep commits), so
     * nothing is added, not even a coalesced job. */
    sweep(f, &s);
    assert_int_equal(s.enqueued, 0);
    assert_string_equal(s.orders_since, "2026-11-28T08:10:00Z");
    assert_string_equal(s.refunds_since, "2026-11-27T17:30:00Z");
    assert_int_equal(s.orders_seen, 1);
    assert_int_equal(s.refunds_seen, 1);
    assert_int_equal(s.coalesced, 0);
    assert_int_equal(s.in_flight, 2);
    jobs_are(f, "order:101,order:104,order:105");
    wm_is(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");

    /* Once the ledger reflects everything, a sweep enqueues nothing at all. */
    post_everything(f);
    sweep(f, &s);
    assert_int_equal(s.enqueued + s.coalesced, 0);
    assert_int_equal(s.reflected, 2);
    assert_int_equal(sweep_audits(f), 3);
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* Makes a job for order RUNNING, as if enqueued and claimed at iso. */
static void running_job(struct fx *f, int64_t order, const char *iso)
{
    static const char *const kinds[] = { RECON_JOB_KIND, NULL };
    struct store_job j;
    char key[32];
    struct mlc_err e;
    int64_t at_s, at_ms;

    mlc_err_clear(&e);
    assert_int_equal(jdate_iso8601_parse(iso, &at_s, &e), MLC_OK);
    at_ms = at_s * 1000;
    snprintf(key, sizeof(key), "order:%" PRId64, order);
    store_set_clock(f->st, fixed_clock, &at_ms);
    assert_int_equal(store_job_enqueue(f->st, RECON_JOB_KIND, key, NULL, 0, NULL, NULL, &e),
                     MLC_OK);
    memset(&j, 0, sizeof(j));
    assert_int_equal(store_job_claim(f->st, "w-test", kinds, 30LL * 86400 * 1000, &j, &e),
                     MLC_OK);
    assert_string_equal(j.key, key);
    store_job_clear(&j);
    store_set_clock(f->st, NULL, NULL);
}

/* A job running for an order was enqueued more than the overlap (600 s)
 * after the order's last change: it fetches the order after that change,
 * so the sweep adds no second job. Enqueued within the overlap, it might
 * have read an older version: the sweep queues the order again. */
static void test_running_job_covers_change(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    set_wm(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-01T00:00:00Z");
    post(f, 100, POST_KIND_SALE, 0);
    post(f, 102, POST_KIND_SALE, 0);
    running_job(f, 104, "2026-11-27T20:57:01Z");   /* changed 20:47:00 */
    running_job(f, 105, "2026-11-28T08:29:59Z");   /* changed 08:20:00 */
    sweep(f, &s);
    assert_int_equal(s.in_flight, 1);              /* 104 */
    assert_int_equal(s.enqueued, 2);               /* 101, 105 */
    jobs_are(f, "order:101,order:105");
}

static void test_first_sweep_window(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    /* No watermark: the window starts at the go-live cutover, no look-back
     * and no overlap before it. */
    sweep(f, &s);
    assert_string_equal(s.orders_since, CUTOVER_PAST);
    assert_string_equal(s.refunds_since, CUTOVER_PAST);
    assert_int_equal(s.orders_seen, 6);
    jobs_are(f, "order:100,order:101,order:102,order:104,order:105");
    wm_is(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");
    wm_is(f, RECON_WM_REFUNDS, "2026-11-27T17:40:00Z");
}

static int done_all(struct fx *f)
{
    struct store_job j;
    struct mlc_err e;
    int n = 0;

    mlc_err_clear(&e);
    memset(&j, 0, sizeof(j));
    while (store_job_claim(f->st, "t", NULL, 60000, &j, &e) == MLC_OK) {
        assert_int_equal(store_job_done(f->st, j.id, "t", &e), MLC_OK);
        store_job_clear(&j);
        n++;
    }
    return n;
}

/* The first sweep after go-live starts at the cutover, not a day before
 * now. Order 101 was created before the cutover (11-26 09:12) but changed
 * after it (its refund, 11-27): it is enqueued once, so that the order flow
 * audits its skip; once that skip is audited, neither the order nor its
 * refund is enqueued again. */
static void test_first_sweep_starts_at_cutover(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;
    struct mlc_err e;

    mlc_err_clear(&e);
    set_cutover(f, "2026-11-26T12:00:00Z");
    sweep(f, &s);
    assert_string_equal(s.orders_since, "2026-11-26T12:00:00Z");
    assert_string_equal(s.refunds_since, "2026-11-26T12:00:00Z");
    assert_int_equal(s.orders_seen, 5);       /* 100 last changed on 11-25 */
    assert_int_equal(s.refunds_seen, 1);
    assert_int_equal(s.before_cutover, 0);
    jobs_are(f, "order:101,order:102,order:104,order:105");
    assert_int_equal(done_all(f), 4);

    /* The flow ran for 101 and audited its skip. */
    assert_int_equal(store_audit_add(f->st, &(struct store_audit){ .actor = "worker:1",
                         .entity = "order:101", .action = "skip",
                         .outcome = "before_cutover" }, &e), MLC_OK);
    /* A watermark older than the cutover (set before it was moved) does not
     * reach back before it either. */
    set_wm(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-01T00:00:00Z");
    sweep(f, &s);
    assert_string_equal(s.orders_since, "2026-11-26T12:00:00Z");
    assert_string_equal(s.refunds_since, "2026-11-26T12:00:00Z");
    assert_int_equal(s.before_cutover, 2);    /* the order and its refund */
    jobs_are(f, "order:102,order:104,order:105");
}

/* Before go-live (the cutover ahead of now) a sweep asks BigCommerce
 * nothing and leaves the watermarks at the cutover. */
static void test_cutover_ahead(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    set_cutover(f, "2026-12-01T00:00:00+01:00");
    assert_int_equal(ctl(f, "POST", "/faults", "{\"error_next\":20,\"error_status\":500}"),
                     200);
    sweep(f, &s);
    assert_int_equal(s.orders_seen + s.refunds_seen, 0);
    assert_string_equal(s.orders_since, "2026-11-30T23:00:00Z");
    jobs_are(f, "");
    wm_is(f, RECON_WM_ORDERS, "2026-11-30T23:00:00Z");
    wm_is(f, RECON_WM_REFUNDS, "2026-11-30T23:00:00Z");
    assert_int_equal(ctl(f, "POST", "/faults", "{\"reset\":true}"), 200);
}

static void test_catches_refund(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    post_everything(f);
    set_wm(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-27T17:40:00Z");
    sweep(f, &s);
    assert_int_equal(s.enqueued, 0);

    /* A refund whose webhook never came. */
    assert_int_equal(ctl(f, "POST", "/refunds",
                         "{\"order_id\":104,\"created\":\"2026-11-28T09:30:00Z\","
                         "\"reason\":\"missed webhook\",\"items\":[{\"item_type\":\"ORDER\","
                         "\"item_id\":104,\"amount\":\"2.00\"}]}"),
                     201);
    sweep(f, &s);
    assert_int_equal(s.enqueued, 1);
    jobs_are(f, "order:104");
    wm_is(f, RECON_WM_REFUNDS, "2026-11-28T09:30:00Z");
    wm_is(f, RECON_WM_ORDERS, "2026-11-28T09:30:00Z"); /* the refund modified the order */
}

static void test_cancelled_after_posting(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;

    post_everything(f);
    set_wm(f, RECON_WM_ORDERS, "2026-11-28T09:00:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-28T09:00:00Z");
    assert_int_equal(ctl(f, "PUT", "/orders/104", "{\"status_id\":5}"), 200);
    sweep(f, &s);
    assert_int_equal(s.orders_seen, 1);
    assert_int_equal(s.enqueued, 1);
    jobs_are(f, "order:104");

    /* Reversed: nothing more to do. */
    {
        struct store_job j;
        struct mlc_err e;

        mlc_err_clear(&e);
        memset(&j, 0, sizeof(j));
        assert_int_equal(store_job_claim(f->st, "t", NULL, 60000, &j, &e), MLC_OK);
        assert_int_equal(store_job_done(f->st, j.id, "t", &e), MLC_OK);
        store_job_clear(&j);
    }
    post(f, 104, POST_KIND_REVERSAL, 0);
    sweep(f, &s);
    assert_int_equal(s.enqueued + s.coalesced, 0);
    jobs_are(f, "");
}

static void test_held_job_skipped(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;
    struct store_job j;
    struct mlc_err e;

    mlc_err_clear(&e);
    memset(&j, 0, sizeof(j));
    set_wm(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");
    set_wm(f, RECON_WM_REFUNDS, "2026-11-28T08:20:00Z");
    assert_int_equal(store_job_enqueue(f->st, RECON_JOB_KIND, "order:105", NULL, 0, NULL, NULL,
                                       &e), MLC_OK);
    assert_int_equal(store_job_claim(f->st, "t", NULL, 60000, &j, &e), MLC_OK);
    assert_int_equal(store_job_hold(f->st, j.id, "t", "SKU X not mapped", &e), MLC_OK);
    store_job_clear(&j);
    sweep(f, &s);
    assert_int_equal(s.orders_seen, 1);
    assert_int_equal(s.held_skipped, 1);
    assert_int_equal(s.enqueued, 0);
    jobs_are(f, "");
}

static void test_watermark_moves_with_jobs(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;
    struct mlc_err e;
    int64_t n = -1;

    mlc_err_clear(&e);
    set_wm(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    /* The caller's transaction is rolled back: the sweep's jobs, its
     * watermarks and its audit row go with it, all or nothing. */
    assert_int_equal(store_tx_begin(f->st, &e), MLC_OK);
    sweep(f, &s);
    assert_int_equal(s.enqueued, 5);
    jobs_are(f, "order:100,order:101,order:102,order:104,order:105");
    store_tx_rollback(f->st);
    assert_int_equal(store_job_count(f->st, STORE_JOB_READY, &n, &e), MLC_OK);
    assert_int_equal(n, 0);
    wm_is(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    wm_is(f, RECON_WM_REFUNDS, NULL);
    assert_int_equal(sweep_audits(f), 0);

    /* BigCommerce failing mid-sweep: nothing is written either. */
    assert_int_equal(ctl(f, "POST", "/faults", "{\"error_next\":20,\"error_status\":500}"),
                     200);
    assert_int_not_equal(recon_sweep(f->bc, f->st, f->cfg, f->now_ms, &s, &e), MLC_OK);
    assert_non_null(strstr(e.msg, "500"));
    assert_int_equal(store_job_count(f->st, STORE_JOB_READY, &n, &e), MLC_OK);
    assert_int_equal(n, 0);
    wm_is(f, RECON_WM_ORDERS, "2026-11-01T00:00:00Z");
    assert_int_equal(sweep_audits(f), 0);
    assert_int_equal(ctl(f, "POST", "/faults", "{\"reset\":true}"), 200);

    /* And for real. */
    sweep(f, &s);
    assert_int_equal(s.enqueued, 5);
    wm_is(f, RECON_WM_ORDERS, "2026-11-28T08:20:00Z");
}

static void test_bad_watermark(void **state)
{
    struct fx *f = *state;
    struct recon_stats s;
    struct mlc_err e;

    mlc_err_clear(&e);
    set_wm(f, RECON_WM_ORDERS, "yesterday");
    assert_int_equal(recon_sweep(f->bc, f->st, f->cfg, f->now_ms, &s, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, RECON_WM_ORDERS));
    assert_int_equal(recon_sweep(NULL, f->st, f->cfg, f->now_ms, &s, &e), MLC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_needs_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enqueues_only_unposted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_running_job_covers_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_sweep_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_sweep_starts_at_cutover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cutover_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catches_refund, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_after_posting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_job_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watermark_moves_with_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_watermark, setup, teardown),
    };
    int rc;

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    secret_lib_init();
    rc = cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
