/* Unit tests: the AIS client (session, data service, orchestrations) against
 * the AIS simulator (sim/ais) and a small fake AIS built on httpd.
 * Run from the repository root (the seed is sim/seed/jde.json). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ais/aissim.h"
#include "core/config.h"
#include "core/err.h"
#include "core/health.h"
#include "core/jdate.h"
#include "core/log.h"
#include "core/secret.h"
#include "jde/ais_data.h"
#include "jde/ais_orch.h"
#include "jde/ais_session.h"
#include "net/httpc.h"
#include "net/httpd.h"

#define SEED "sim/seed/jde.json"
#define LOGINS "POST /jderest/v2/tokenrequest"
#define JE_CALLS "POST /jderest/v3/orchestrator/MLC_AddJournalEntry"

struct fx {
    struct aissim *sim;
    char           base[64];
    struct httpc  *ctl;
};

/* ---- fixture and helpers ------------------------------------------------------ */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_error_t je;
    json_t *seed = json_load_file(SEED, 0, &je);
    struct mlc_err e = { 0 };

    assert_non_null(f);
    assert_non_null(seed);
    assert_int_equal(aissim_start("127.0.0.1:0", json_object_get(seed, "jde"), &f->sim, &e),
                     MLC_OK);
    json_decref(seed);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)aissim_port(f->sim));
    assert_int_equal(httpc_new(NULL, &f->ctl, NULL), MLC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    httpc_free(f->ctl);
    aissim_free(f->sim);
    free(f);
    return 0;
}

/* A control call on the simulator; returns the parsed answer (decref). */
static json_t *ctl(struct fx *f, const char *method, const char *path, const char *body)
{
    struct httpc_header h[] = { { "Content-Type", "application/json" } };
    struct httpc_request rq = { 0 };
    struct httpc_response r = { 0 };
    char url[256];
    json_t *j;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    rq.method = method;
    rq.url = url;
    rq.headers = h;
    rq.n_headers = 1;
    rq.body = body;
    rq.body_len = body != NULL ? strlen(body) : 0;
    assert_int_equal(httpc_do(f->ctl, &rq, &r, NULL), MLC_OK);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    httpc_response_clear(&r);
    assert_non_null(j);
    return j;
}

static long long counter(struct fx *f, const char *key)
{
    json_t *c = ctl(f, "GET", "/__sim/counters", NULL);
    long long n = json_integer_value(json_object_get(c, key));

    json_decref(c);
    return n;
}

static void ctl_post(struct fx *f, const char *path, const char *body)
{
    json_decref(ctl(f, "POST", path, body));
}

static struct ais_session *session_for(const char *base, const char *user, const char *pwd,
                                       long timeout_ms)
{
    struct cfg_jde c = { 0 };
    struct ais_session_opts o = { 0 };
    struct mlc_secret *p = NULL;
    struct ais_session *s = NULL;

    c.ais_base_url = (char *)base;
    c.environment = "JDV920";
    c.role = "*ALL";
    c.device_name = "mlc-test-device";
    c.user = (char *)user;
    c.timeout_ms = 5000;
    o.timeout_ms = timeout_ms;
    o.read_attempts = 2;
    o.retry_base_ms = 10;
    assert_int_equal(secret_new(pwd, strlen(pwd), &p, NULL), MLC_OK);
    assert_int_equal(ais_session_new(&c, p, &o, &s, NULL), MLC_OK);
    secret_free(p); /* the session keeps its own copy */
    return s;
}

static struct ais_session *session(struct fx *f)
{
    return session_for(f->base, "MLCINT", "mlcint-pass", 0);
}

static const struct jdate_civil NOV28 = { 2026, 11, 28 };

/* A balanced two-line journal entry with reference ref (unbalanced when
 * skew != 0; bad account when acct is given). */
static struct ais_orch_in *je_input(const char *ref, int64_t skew, const char *acct)
{
    struct ais_orch_in *in = NULL;

    assert_int_equal(ais_orch_in_new(&in, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "Company", "00001", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "DocumentType", "JE", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_date(in, "GLDate", &NOV28, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "Explanation", "BigCommerce order", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "Reference", ref, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "Currency", "USD", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_row(in, "Lines", NULL), MLC_OK);
    assert_int_equal(ais_orch_row_str(in, "Account", acct != NULL ? acct : "1.1110", NULL),
                     MLC_OK);
    assert_int_equal(ais_orch_row_amount(in, "Amount", 10500 + skew, 2, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_row(in, "Lines", NULL), MLC_OK);
    assert_int_equal(ais_orch_row_str(in, "Account", "100.4010", NULL), MLC_OK);
    assert_int_equal(ais_orch_row_amount(in, "Amount", -10500, 2, NULL), MLC_OK);
    assert_int_equal(ais_orch_row_str(in, "Remark", "revenue", NULL), MLC_OK);
    return in;
}

/* ---- session ------------------------------------------------------------------- */

static void test_login_and_reuse(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_login_info info;
    struct mlc_err e = { 0 };
    bool found;
    int64_t an8;
    json_t *dc = NULL;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_OK);
        assert_true(found);
        assert_int_equal(an8, 4001);
    }
    assert_int_equal(ais_session_login_count(s), 1);
    assert_int_equal(counter(f, LOGINS), 1);
    ais_session_info(s, &info);
    assert_string_equal(info.sdf, "MM/dd/yyyy");
    assert_string_equal(info.environment, "JDV920");
    assert_int_equal(info.address_number, 2111);
    assert_int_equal(info.generation, 1);
    assert_true(ais_session_up(s));

    assert_int_equal(ais_session_touch(s, &e), MLC_OK);
    assert_int_equal(ais_session_login_count(s), 1);
    assert_int_equal(ais_defaultconfig(s, &dc, &e), MLC_OK);
    assert_non_null(json_object_get(dc, "aisVersion"));
    json_decref(dc);

    /* touch after a restart logs in again (the token died). */
    ctl_post(f, "/__sim/restart", NULL);
    assert_int_equal(ais_session_touch(s, &e), MLC_OK);
    assert_int_equal(ais_session_login_count(s), 2);

    assert_int_equal(ais_session_logout(s, &e), MLC_OK);
    assert_int_equal(counter(f, "POST /jderest/v2/tokenrequest/logout"), 1);
    assert_false(ais_session_up(s));
    assert_int_equal(ais_session_logout(s, &e), MLC_OK); /* nothing to end */
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_OK);
    assert_int_equal(ais_session_login_count(s), 3);
    ais_session_free(s);
}

static void test_wrong_password(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session_for(f->base, "MLCINT", "wrong-pass-XYZ", 0);
    struct mlc_err e = { 0 };
    bool found;
    int64_t an8;

    assert_false(ais_session_up(s));
    assert_int_equal(ais_session_login(s, &e), MLC_EAUTH);
    assert_false(ais_session_up(s));
    assert_non_null(strstr(e.msg, "AIS login failed for user MLCINT: 403"));
    assert_null(strstr(e.msg, "wrong-pass-XYZ"));
    /* Within the cool-down the failure is returned without a new login. */
    mlc_err_clear(&e);
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "AIS login failed for user MLCINT"));
    assert_null(strstr(e.msg, "wrong-pass-XYZ"));
    assert_int_equal(counter(f, LOGINS), 1);
    ais_session_free(s);
}

/* ---- login back-off ----------------------------------------------------------- */

static int64_t fake_mono(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* A session with a fake monotonic clock and a health registry; the
 * back-off is the default one (a minute). */
static struct ais_session *session_clocked(const char *base, const char *pwd, int64_t *clock,
                                           struct health *h)
{
    struct cfg_jde c = { 0 };
    struct ais_session_opts o = { 0 };
    struct mlc_secret *p = NULL;
    struct ais_session *s = NULL;

    c.ais_base_url = (char *)base;
    c.environment = "JDV920";
    c.role = "*ALL";
    c.device_name = "mlc-test-device";
    c.user = "MLCINT";
    o.timeout_ms = 2000;
    o.connect_timeout_ms = 2000;
    o.read_attempts = 1;
    o.retry_base_ms = 10;
    o.health = h;
    o.clock_ms = fake_mono;
    o.clock_ctx = clock;
    assert_int_equal(secret_new(pwd, strlen(pwd), &p, NULL), MLC_OK);
    assert_int_equal(ais_session_new(&c, p, &o, &s, NULL), MLC_OK);
    secret_free(p);
    return s;
}

struct hammer {
    struct ais_session *s;
    atomic_int          refused;  /* EAUTH answers that name the next attempt */
};

static void *hammer_thread(void *arg)
{
    struct hammer *hm = arg;
    struct mlc_err e;
    bool found;
    int64_t an8;

    for (int i = 0; i < 10; i++) {
        mlc_err_clear(&e);
        if (ais_customer_exists(hm->s, "BC9001", &found, &an8, &e) == MLC_EAUTH &&
            strstr(e.msg, "next attempt after") != NULL)
            atomic_fetch_add(&hm->refused, 1);
    }
    return NULL;
}

/* A wrong password: exactly one login per back-off window, whoever calls
 * and however often; callers learn at once when the next attempt goes; the
 * health condition is set, re-reported to each caller's watch, and cleared
 * by the first login that works. */
static void test_login_backoff(void **state)
{
    struct fx *f = *state;
    struct health *h = NULL;
    int64_t clock = 1000000;
    struct ais_session *s;
    struct ais_login_state ls;
    struct health_watch w;
    struct hammer hm = { 0 };
    pthread_t t[4];
    struct mlc_err e = { 0 };
    bool found;
    int64_t an8;

    assert_int_equal(health_new(&h, NULL), MLC_OK);
    s = session_clocked(f->base, "wrong-pass-XYZ", &clock, h);
    hm.s = s;
    assert_int_equal(ais_session_login(s, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "AIS login failed for user MLCINT: 403"));
    assert_non_null(strstr(e.msg, "next attempt after"));
    assert_non_null(strstr(e.msg, "(in 60 s)"));
    assert_null(strstr(e.msg, "wrong-pass-XYZ"));
    assert_int_equal(counter(f, LOGINS), 1);
    assert_true(health_is_set(h, HEALTH_JDE_LOGIN));
    assert_false(health_is_set(h, HEALTH_JDE_DOWN)); /* AIS answered */

    /* 4 threads x 10 calls in the window: no login, an immediate error. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &hm), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&hm.refused), 40);
    clock += 59000;
    health_watch_begin(h, &w);
    mlc_err_clear(&e);
    assert_int_equal(ais_session_touch(s, &e), MLC_EAUTH);
    assert_non_null(strstr(e.msg, "(in 1 s)"));
    health_watch_end(&w);
    assert_int_equal(w.seen, 1);  /* turned away: reported to this caller */
    assert_string_equal(w.last, HEALTH_JDE_LOGIN);
    assert_int_equal(counter(f, LOGINS), 1);
    assert_int_equal(ais_session_login_count(s), 1);
    ais_session_login_state(s, &ls);
    assert_true(ls.failed);
    assert_true(ls.refused);
    assert_int_equal(ls.retry_in_ms, 1000);
    assert_int_equal(ls.backoff_ms, AIS_LOGIN_BACKOFF_MS);
    assert_true(ls.retry_at_ms > 0);

    /* The window passes: one more login, refused again, a new window. */
    clock += 1000;
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_EAUTH);
    assert_int_equal(counter(f, LOGINS), 2);
    clock += 30000;
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_EAUTH);
    assert_int_equal(counter(f, LOGINS), 2);

    /* The JDE administrator sets the password we hold: after the window,
     * the next call logs in and the condition clears by itself. */
    ctl_post(f, "/__sim/users", "{\"username\":\"MLCINT\",\"password\":\"wrong-pass-XYZ\"}");
    clock += 30000;
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_OK);
    assert_true(found);
    assert_int_equal(counter(f, LOGINS), 3);
    assert_false(health_is_set(h, HEALTH_JDE_LOGIN));
    ais_session_login_state(s, &ls);
    assert_false(ls.failed);
    assert_int_equal(ls.retry_in_ms, 0);
    ais_session_free(s);
    health_free(h);
}

/* AIS not answering is no refusal: the short pause, and "jde.unreachable"
 * beside "jde.login". */
static void test_login_unreachable_short_pause(void **state)
{
    struct health *h = NULL;
    int64_t clock = 5000;
    struct ais_session *s;
    struct ais_login_state ls;
    struct mlc_err e = { 0 };

    (void)state;
    assert_int_equal(health_new(&h, NULL), MLC_OK);
    /* Port 9 (discard) on loopback: nothing listens in the test sandbox. */
    s = session_clocked("http://127.0.0.1:9", "x", &clock, h);
    assert_int_not_equal(ais_session_login(s, &e), MLC_OK);
    assert_int_not_equal(e.code, MLC_EAUTH);
    assert_true(health_is_set(h, HEALTH_JDE_LOGIN));
    assert_true(health_is_set(h, HEALTH_JDE_DOWN));
    ais_session_login_state(s, &ls);
    assert_true(ls.failed);
    assert_false(ls.refused);
    assert_int_equal(ls.backoff_ms, AIS_LOGIN_COOLDOWN_MS);
    clock += AIS_LOGIN_COOLDOWN_MS;
    ais_session_login_state(s, &ls);
    assert_int_equal(ls.retry_in_ms, 0);
    assert_int_equal(ais_session_login_count(s), 1);
    ais_session_free(s);
    health_free(h);
}

/* 16 threads: 3 calls each, all wait at a gate, the simulator restarts
 * (every token dies), then 9 more calls each: exactly one re-login. */
struct herd {
    struct ais_session *s;
    pthread_mutex_t     mu;
    pthread_cond_t      cv;
    int                 arrived;
    bool                open;
    atomic_int          failures;
};

static void *herd_thread(void *arg)
{
    struct herd *h = arg;
    bool found;
    int64_t an8;

    for (int i = 0; i < 12; i++) {
        if (i == 3) {
            pthread_mutex_lock(&h->mu);
            h->arrived++;
            pthread_cond_broadcast(&h->cv);
            while (!h->open)
                pthread_cond_wait(&h->cv, &h->mu);
            pthread_mutex_unlock(&h->mu);
        }
        if (ais_customer_exists(h->s, "BC9001", &found, &an8, NULL) != MLC_OK || !found ||
            an8 != 4001)
            atomic_fetch_add(&h->failures, 1);
    }
    return NULL;
}

static void test_restart_concurrent_one_login(void **state)
{
    struct fx *f = *state;
    struct herd h = { .s = session(f) };
    pthread_t th[16];

    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    atomic_init(&h.failures, 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(pthread_create(&th[i], NULL, herd_thread, &h), 0);
    pthread_mutex_lock(&h.mu);
    while (h.arrived < 16)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(counter(f, LOGINS), 1);
    ctl_post(f, "/__sim/restart", NULL);
    pthread_mutex_lock(&h.mu);
    h.open = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&h.failures), 0);
    assert_int_equal(counter(f, LOGINS), 2);
    assert_int_equal(ais_session_login_count(h.s), 2);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
    ais_session_free(h.s);
}

/* ---- data service ---------------------------------------------------------------- */

struct collect {
    struct fx *f;
    json_t    *seen;     /* AID -> count */
    size_t     rows;
    int        restart_at;   /* row number that restarts the simulator */
    int        expire_at;    /* row number that advances the clock past expiry */
    bool       expire_every; /* every row advances the clock */
};

static int collect_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct collect *c = ctx;
    char aid[16];
    json_t *n;

    assert_int_equal(ais_row_str(row, "F0901.AID", aid, sizeof(aid), e), MLC_OK);
    n = json_object_get(c->seen, aid);
    json_object_set_new(c->seen, aid, json_integer(n != NULL ? json_integer_value(n) + 1 : 1));
    c->rows++;
    if ((int)c->rows == c->restart_at)
        ctl_post(c->f, "/__sim/restart", NULL);
    if ((int)c->rows == c->expire_at || c->expire_every)
        ctl_post(c->f, "/__sim/clock", "{\"advance_s\":120}");
    return MLC_OK;
}

static struct ais_query *f0901_query(bool keyed)
{
    struct ais_query *q = NULL;

    assert_int_equal(ais_query_new("F0901", &q, NULL), MLC_OK);
    assert_int_equal(ais_query_columns(q, "AID|MCU|OBJ|SUB|PEC", NULL), MLC_OK);
    ais_query_page_size(q, 3);
    if (keyed)
        assert_int_equal(ais_query_key(q, "AID", NULL), MLC_OK);
    return q;
}

static void check_all_once(const struct collect *c)
{
    const char *k;
    json_t *v;

    assert_int_equal(json_object_size(c->seen), 20);
    json_object_foreach(c->seen, k, v)
        assert_int_equal(json_integer_value(v), 1);
}

static void test_paging_plain(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_query *q = f0901_query(true);
    struct collect c = { .f = f, .seen = json_object() };
    struct ais_query_stats st;
    struct mlc_err e = { 0 };

    assert_int_equal(ais_query_run(s, q, collect_row, &c, &st, &e), MLC_OK);
    check_all_once(&c);
    assert_int_equal(st.pages, 7);
    assert_int_equal(st.reruns, 0);
    json_decref(c.seen);
    ais_query_free(q);
    ais_session_free(s);
}

static void test_paging_444_relogin_rerun(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_query *q = f0901_query(true);
    struct collect c = { .f = f, .seen = json_object(), .restart_at = 4 };
    struct ais_query_stats st;
    struct mlc_err e = { 0 };

    assert_int_equal(ais_query_run(s, q, collect_row, &c, &st, &e), MLC_OK);
    check_all_once(&c);
    assert_int_equal(st.rows, 20);
    assert_int_equal(st.reruns, 1);
    assert_int_equal(st.duplicates, 6); /* pages 1 and 2 came again */
    assert_int_equal(ais_session_login_count(s), 2);
    assert_int_equal(counter(f, LOGINS), 2);
    json_decref(c.seen);
    ais_query_free(q);
    ais_session_free(s);
}

static void test_paging_expiry_rerun(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_query *q = f0901_query(true);
    struct collect c = { .f = f, .seen = json_object(), .expire_at = 7 };
    struct ais_query_stats st;
    struct mlc_err e = { 0 };

    assert_int_equal(ais_query_run(s, q, collect_row, &c, &st, &e), MLC_OK);
    check_all_once(&c);
    assert_int_equal(st.reruns, 1);
    assert_int_equal(st.duplicates, 9);
    assert_int_equal(ais_session_login_count(s), 1);
    json_decref(c.seen);
    ais_query_free(q);
    ais_session_free(s);
}

static void test_paging_expiry_bounded(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_query *q = f0901_query(false);
    struct collect c = { .f = f, .seen = json_object(), .expire_every = true };
    struct ais_query_stats st;
    struct mlc_err e = { 0 };

    ais_query_max_reruns(q, 2);
    assert_int_equal(ais_query_run(s, q, collect_row, &c, &st, &e), MLC_EIO);
    assert_non_null(strstr(e.msg, "F0901"));
    assert_non_null(strstr(e.msg, "giving up"));
    assert_int_equal(st.reruns, 2);
    assert_int_equal(c.rows, 9); /* without a key, each pass repeats page 1 */
    json_decref(c.seen);
    ais_query_free(q);
    ais_session_free(s);
}

static int count_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    (void)row;
    (void)e;
    (*(int *)ctx)++;
    return MLC_OK;
}

static void test_watermark_query(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_query *q = NULL;
    struct jdate_stamp w = { 126319, 141500 }; /* 2026-11-15 14:15:00 */
    struct mlc_err e = { 0 };
    json_t *body = NULL, *cx;
    int n = 0;

    assert_int_equal(ais_query_new("F4101", &q, NULL), MLC_OK);
    assert_int_equal(ais_query_columns(q, "ITM|LITM|UPMJ|TDAY", NULL), MLC_OK);
    assert_int_equal(ais_query_watermark(q, "UPMJ", "TDAY", &w, &e), MLC_OK);
    assert_int_equal(ais_query_order(q, "UPMJ", false, &e), MLC_OK);
    /* Date literals follow the user's format. */
    assert_int_equal(ais_query_json(q, "dd/MM/yyyy", &body, &e), MLC_OK);
    cx = json_object_get(json_object_get(body, "query"), "complexQuery");
    assert_int_equal(json_array_size(cx), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cx, 0), "andOr")), "AND");
    cx = json_object_get(json_object_get(json_array_get(cx, 0), "query"), "complexQuery");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cx, 1), "andOr")), "OR");
    {
        json_t *c0 = json_array_get(json_object_get(json_object_get(json_array_get(cx, 0),
                                                                    "query"), "condition"), 0);

        assert_string_equal(json_string_value(json_object_get(c0, "controlId")), "F4101.UPMJ");
        assert_string_equal(json_string_value(json_object_get(c0, "operator")), "GREATER");
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(c0, "value"), 0), "content")),
                            "15/11/2026");
    }
    json_decref(body);
    /* Seed: SKU-1001 (11-01), SKU-1002 (11-15 14:15:00), SKU-1003 (11-27). */
    assert_int_equal(ais_query_run(s, q, count_row, &n, NULL, &e), MLC_OK);
    assert_int_equal(n, 2);
    ais_query_free(q);
    w.hhmmss = 141501;
    assert_int_equal(ais_query_new("F4101", &q, NULL), MLC_OK);
    assert_int_equal(ais_query_watermark(q, "F4101.UPMJ", "F4101.TDAY", &w, &e), MLC_OK);
    n = 0;
    assert_int_equal(ais_query_run(s, q, count_row, &n, NULL, &e), MLC_OK);
    assert_int_equal(n, 1);
    ais_query_free(q);
    ais_session_free(s);
}

static void test_row_helpers(void **state)
{
    json_t *row = json_loads("{\"F0006_MCU\":\"         100\",\"F0911_AA\":-105.00,"
                             "\"F4106_UPRC\":19.99,\"F0911_DGJ\":\"20261128\",\"F0911_EXDJ\":null,"
                             "\"F0911_DOC\":100000,\"F0411_DOCS\":\"  42 \"}", 0, NULL);
    struct jdate_civil d;
    char buf[16];
    int64_t v;
    int32_t j;

    (void)state;
    assert_non_null(row);
    assert_int_equal(ais_row_str(row, "F0006.MCU", buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "100");
    assert_int_equal(ais_row_amount(row, "F0911_AA", 2, MONEY_ROUND_EXACT, &v, NULL), MLC_OK);
    assert_int_equal(v, -10500);
    assert_int_equal(ais_row_amount(row, "F4106_UPRC", 4, MONEY_ROUND_EXACT, &v, NULL), MLC_OK);
    assert_int_equal(v, 199900);
    assert_int_equal(ais_row_julian(row, "F0911_DGJ", &j, NULL), MLC_OK);
    assert_int_equal(j, 126332);
    assert_int_equal(ais_row_civil(row, "F0911_EXDJ", &d, NULL), JDATE_BLANK);
    assert_int_equal(ais_row_i64(row, "F0911_DOC", &v, NULL), MLC_OK);
    assert_int_equal(v, 100000);
    assert_int_equal(ais_row_i64(row, "F0411_DOCS", &v, NULL), MLC_OK);
    assert_int_equal(v, 42);
    assert_int_equal(ais_row_str(row, "F0911_NOPE", buf, sizeof(buf), NULL), MLC_ENOTFOUND);
    json_decref(row);
}

static void test_lookups(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_account a;
    struct mlc_err e = { 0 };
    bool found;
    int64_t an8;

    assert_int_equal(ais_account_lookup(s, "1", "1110", "STRIPE", &a, &e), MLC_OK);
    assert_true(a.exists && a.postable);
    assert_string_equal(a.aid, "00001111");
    assert_int_equal(ais_account_lookup(s, "1", "1110", NULL, &a, &e), MLC_OK);
    assert_true(a.exists && a.postable);
    assert_string_equal(a.aid, "00001110");
    assert_int_equal(ais_account_lookup(s, "1", "1000", "", &a, &e), MLC_OK);
    assert_true(a.exists);
    assert_false(a.postable);
    assert_int_equal(ais_account_lookup(s, "999", "4010", NULL, &a, &e), MLC_OK);
    assert_false(a.exists);
    assert_int_equal(ais_bu_exists(s, "110", &found, &e), MLC_OK);
    assert_true(found);
    assert_int_equal(ais_bu_exists(s, "111", &found, &e), MLC_OK);
    assert_false(found);
    assert_int_equal(ais_customer_exists(s, "BC9001", &found, &an8, &e), MLC_OK);
    assert_true(found);
    assert_int_equal(an8, 4001);
    assert_int_equal(ais_customer_exists(s, "BC-NOPE", &found, &an8, &e), MLC_OK);
    assert_false(found);
    assert_int_equal(an8, 0);
    ais_session_free(s);
}

#define DATASERVICE "POST /jderest/v2/dataservice"

static struct cfg_account parse_acct(const char *s)
{
    struct cfg_account a;

    assert_int_equal(cfg_account_parse(s, &a), MLC_OK);
    return a;
}

/* Many accounts and business units in one query each: exact matches (a
 * blank subsidiary is not STRIPE), duplicates, the posting edit code. */
static void test_lookups_many(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    const struct cfg_account a[] = {
        parse_acct("1.1110.STRIPE"), parse_acct("1.1110"), parse_acct("1.1000"), parse_acct("999.4010"),
        parse_acct("100.4010"), parse_acct("1.1110.STRIPE"), parse_acct("110.4010"), parse_acct("100.4010.NOPE"),
    };
    const char *const bus[] = { "1", "110", "111", "200", "1" };
    struct ais_account out[8], *many;
    struct cfg_account *lots;
    struct cfg_account blank = { .bu = "1" };
    bool exists[5];
    struct mlc_err e = { 0 };
    long long before;

    assert_int_equal(ais_session_login(s, &e), MLC_OK);
    before = counter(f, DATASERVICE);
    assert_int_equal(ais_account_lookup_many(s, a, 8, out, &e), MLC_OK);
    assert_int_equal(counter(f, DATASERVICE) - before, 1);
    assert_true(out[0].exists && out[0].postable);
    assert_string_equal(out[0].aid, "00001111");
    assert_true(out[1].exists && out[1].postable);
    assert_string_equal(out[1].aid, "00001110");
    assert_true(out[2].exists);
    assert_false(out[2].postable);
    assert_string_equal(out[2].pec, "N");
    assert_false(out[3].exists);
    assert_string_equal(out[4].aid, "00004010");
    assert_string_equal(out[5].aid, "00001111");
    assert_string_equal(out[6].aid, "00014010");
    assert_false(out[7].exists);

    before = counter(f, DATASERVICE);
    assert_int_equal(ais_bu_exists_many(s, bus, 5, exists, &e), MLC_OK);
    assert_int_equal(counter(f, DATASERVICE) - before, 1);
    assert_true(exists[0] && exists[1] && !exists[2] && exists[3] && exists[4]);

    /* One query per AIS_ACCOUNTS_CHUNK accounts. */
    lots = calloc(2 * AIS_ACCOUNTS_CHUNK + 1, sizeof(*lots));
    many = calloc(2 * AIS_ACCOUNTS_CHUNK + 1, sizeof(*many));
    assert_non_null(lots);
    assert_non_null(many);
    for (size_t i = 0; i < 2 * AIS_ACCOUNTS_CHUNK + 1; i++)
        lots[i] = a[i % 8];
    before = counter(f, DATASERVICE);
    assert_int_equal(ais_account_lookup_many(s, lots, 2 * AIS_ACCOUNTS_CHUNK + 1, many, &e),
                     MLC_OK);
    assert_int_equal(counter(f, DATASERVICE) - before, 3);
    for (size_t i = 0; i < 2 * AIS_ACCOUNTS_CHUNK + 1; i++)
        assert_int_equal(many[i].exists, out[i % 8].exists);
    free(lots);
    free(many);

    /* Nothing to ask: no query. A blank object account is refused. */
    before = counter(f, DATASERVICE);
    assert_int_equal(ais_account_lookup_many(s, NULL, 0, NULL, &e), MLC_OK);
    assert_int_equal(ais_bu_exists_many(s, NULL, 0, NULL, &e), MLC_OK);
    assert_int_equal(counter(f, DATASERVICE) - before, 0);
    assert_int_equal(ais_account_lookup_many(s, &blank, 1, out, &e), MLC_EINVAL);
    ais_session_free(s);
}

/* ---- orchestrations --------------------------------------------------------------- */

/* A create past its send window is not sent at all (posting rules §3: the
 * row's begin bounds when its create can have left); one within it is. */
static void test_create_send_window(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC106S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct timespec ts;
    struct mlc_err e = { 0 };
    long long before;
    int64_t now;

    assert_int_equal(ais_session_login(s, &e), MLC_OK);
    before = counter(f, "POST /jderest/v3/orchestrator/MLC_AddJournalEntry");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_int_equal(ais_orch_call_by(s, "MLC_AddJournalEntry", in, now - 1, &res, &e),
                     MLC_ETIMEOUT);
    assert_true(res.not_sent);
    assert_false(res.outcome_unknown);
    assert_non_null(strstr(e.msg, "not sent"));
    assert_int_equal(counter(f, "POST /jderest/v3/orchestrator/MLC_AddJournalEntry"), before);
    ais_orch_result_clear(&res);
    assert_int_equal(ais_orch_call_by(s, "MLC_AddJournalEntry", in, now + 60000, &res, &e),
                     MLC_OK);
    assert_false(res.not_sent);
    assert_int_equal(counter(f, "POST /jderest/v3/orchestrator/MLC_AddJournalEntry"),
                     before + 1);
    ais_orch_result_clear(&res);
    ais_orch_in_free(in);
    ais_session_free(s);
}

static void test_journal_create_and_exists(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC105S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };
    int64_t doc = 0;
    char batch[16];

    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC105S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(ais_orch_call(s, ais_orch_name(s, AIS_ORCH_JOURNAL), in, &res, &e), MLC_OK);
    assert_int_equal(ais_orch_out_i64(&res, "DocumentNumber", &doc, &e), MLC_OK);
    assert_true(doc >= 100000);
    assert_int_equal(ais_orch_out_str(&res, "BatchNumber", batch, sizeof(batch), &e), MLC_OK);
    assert_int_equal(ais_orch_out_str(&res, "Nope", batch, sizeof(batch), NULL), MLC_ENOTFOUND);
    ais_orch_result_clear(&res);
    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC105S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 1); /* two F0911 lines, one document */
    assert_int_equal(d.doc[0], doc);
    assert_string_equal(d.dct[0], "JE");
    assert_string_equal(d.kco[0], "00001");
    assert_int_equal(ais_journal_exists(s, "00002", "JE", "BC105S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 0);
    ais_orch_in_free(in);
    ais_session_free(s);
}

struct grab {
    int32_t dgj;
};

static int grab_dgj(void *ctx, const json_t *row, struct mlc_err *e)
{
    return ais_row_julian(row, "F0911_DGJ", &((struct grab *)ctx)->dgj, e);
}

static int32_t dgj_of(struct ais_session *s, int64_t doc)
{
    struct ais_query *q = NULL;
    struct grab g = { 0 };
    char d[16];

    snprintf(d, sizeof(d), "%lld", (long long)doc);
    assert_int_equal(ais_query_new("F0911", &q, NULL), MLC_OK);
    assert_int_equal(ais_query_eq(q, "DOC", d, NULL), MLC_OK);
    assert_int_equal(ais_query_run(s, q, grab_dgj, &g, NULL, NULL), MLC_OK);
    ais_query_free(q);
    return g.dgj;
}

static void test_dates_in_user_format(void **state)
{
    struct fx *f = *state;
    struct ais_session *us = session(f);
    struct ais_session *eu = session_for(f->base, "MLCEU", "mlceu-pass", 0);
    struct ais_orch_in *in = je_input("BC106S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct mlc_err e = { 0 };
    json_t *body = NULL;
    int64_t doc;

    assert_int_equal(ais_orch_in_json(in, NULL, "MM/dd/yyyy", &body, &e), MLC_OK);
    {
        char *t = json_dumps(body, JSON_COMPACT);

        assert_non_null(strstr(t, "{\"name\":\"GLDate\",\"value\":\"11/28/2026\"}"));
        free(t);
    }
    json_decref(body);
    assert_int_equal(ais_orch_in_json(in, NULL, "dd/MM/yyyy", &body, &e), MLC_OK);
    {
        char *t = json_dumps(body, JSON_COMPACT);

        assert_non_null(strstr(t, "{\"name\":\"GLDate\",\"value\":\"28/11/2026\"}"));
        assert_non_null(strstr(t, "\"detailInputs\":[{\"name\":\"Lines\",\"repeatingInputs\":"
                                  "[{\"inputs\":[{\"name\":\"Account\",\"value\":\"1.1110\"},"
                                  "{\"name\":\"Amount\",\"value\":\"105.00\"}]}"));
        free(t);
    }
    json_decref(body);

    /* Both users post the same date; the simulator parses it in each
     * user's format (28/11 read as MM/dd would be refused). */
    assert_int_equal(ais_orch_call(us, "MLC_AddJournalEntry", in, &res, &e), MLC_OK);
    assert_int_equal(ais_orch_out_i64(&res, "DocumentNumber", &doc, &e), MLC_OK);
    assert_int_equal(dgj_of(us, doc), 126332);
    ais_orch_result_clear(&res);
    assert_int_equal(ais_orch_call(eu, "MLC_AddJournalEntry", in, &res, &e), MLC_OK);
    assert_int_equal(ais_orch_out_i64(&res, "DocumentNumber", &doc, &e), MLC_OK);
    assert_int_equal(dgj_of(eu, doc), 126332);
    ais_orch_result_clear(&res);
    ais_orch_in_free(in);
    ais_session_free(us);
    ais_session_free(eu);
}

static void test_renamed_inputs(void **state)
{
    struct cfg_str_map m[] = { { "GLDate", "GL_Date" }, { "Lines", "GridLines" },
                               { "Reference", "Ref" } };
    struct cfg_jde c = { .inputs = m, .n_inputs = 3 };
    struct ais_orch_in *in = je_input("BC1S", 0, NULL);
    json_t *body = NULL;
    char *t;

    (void)state;
    assert_int_equal(ais_orch_in_json(in, &c, "MM/dd/yyyy", &body, NULL), MLC_OK);
    t = json_dumps(body, JSON_COMPACT);
    assert_non_null(strstr(t, "{\"name\":\"GL_Date\",\"value\":\"11/28/2026\"}"));
    assert_non_null(strstr(t, "{\"name\":\"Ref\",\"value\":\"BC1S\"}"));
    assert_non_null(strstr(t, "{\"name\":\"GridLines\""));
    assert_null(strstr(t, "\"Reference\""));
    free(t);
    json_decref(body);
    ais_orch_in_free(in);
}

static void test_orch_200_error(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC107S", 1, NULL); /* out of balance by 0.01 */
    struct ais_orch_result res = { 0 };
    struct mlc_err e = { 0 };

    assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EPROTO);
    assert_int_equal(res.status, 200);
    assert_true(res.rejected);
    assert_false(res.outcome_unknown);
    assert_non_null(strstr(e.msg, "orchestration MLC_AddJournalEntry failed"));
    assert_non_null(strstr(e.msg, "out of balance by 0.01"));
    ais_orch_result_clear(&res);
    ais_orch_in_free(in);
    ais_session_free(s);
}

static void test_orch_500_error(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC108S", 0, "999.9999");
    struct ais_orch_result res = { 0 };
    struct mlc_err e = { 0 };

    assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EPROTO);
    assert_int_equal(res.status, 500);
    assert_true(res.rejected);
    assert_non_null(strstr(e.msg, "Account 999.9999 is invalid"));
    ais_orch_result_clear(&res);
    /* An unknown orchestration is a clear not-found. */
    assert_int_equal(ais_orch_call(s, "MLC_Nope", in, &res, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "MLC_Nope"));
    ais_orch_result_clear(&res);
    ais_orch_in_free(in);
    ais_session_free(s);
}

static void test_orch_timeout_unknown(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session_for(f->base, "MLCINT", "mlcint-pass", 800);
    struct ais_orch_in *in = je_input("BC109S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };
    int rc;

    ctl_post(f, "/__sim/faults",
             "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\",\"count\":1,\"hang_s\":3}}");
    rc = ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e);
    assert_true(rc == MLC_ETIMEOUT || rc == MLC_EIO);
    assert_int_equal(rc, MLC_ETIMEOUT);
    assert_true(res.outcome_unknown);
    assert_false(res.rejected);
    assert_non_null(strstr(e.msg, "outcome unknown"));
    ais_orch_result_clear(&res);
    /* The write did commit: the idempotency check finds it. */
    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC109S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 1);
    ais_orch_in_free(in);
    ais_session_free(s);
}

/* A gateway in front of AIS answers 502/503/504, with a JSON message, after
 * the orchestration committed: that proves nothing about the write. The
 * call is an unknown outcome (looked up before anything is sent again),
 * never a refusal. AIS's own 500 ServiceErrorResponse stays a refusal. */
static void test_orch_gateway_status_is_unknown(void **state)
{
    static const int codes[] = { 504, 502, 503 };
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char key[16], fault[160];
        struct ais_orch_in *in;

        snprintf(key, sizeof(key), "BC12%zuS", i);
        in = je_input(key, 0, NULL);
        snprintf(fault, sizeof(fault), "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\","
                 "\"count\":1,\"hang_s\":0,\"status\":%d}}", codes[i]);
        ctl_post(f, "/__sim/faults", fault);
        assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EIO);
        assert_int_equal(res.status, codes[i]);
        assert_true(res.outcome_unknown);
        assert_false(res.rejected);
        assert_non_null(strstr(e.msg, "outcome unknown"));
        ais_orch_result_clear(&res);
        assert_int_equal(ais_journal_exists(s, "00001", "JE", key, &d, &e), MLC_OK);
        assert_int_equal(d.n, 1); /* it did commit */
        ais_orch_in_free(in);
    }
    /* AIS's own failure (500 with a ServiceErrorResponse): refused. */
    {
        struct ais_orch_in *in = je_input("BC129S", 0, NULL);

        ctl_post(f, "/__sim/faults", "{\"fail_next\":1}");
        assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EPROTO);
        assert_true(res.rejected);
        assert_false(res.outcome_unknown);
        ais_orch_result_clear(&res);
        ais_orch_in_free(in);
    }
    ais_session_free(s);
}

/* The orchestration commits and its reply is lost on a connection that
 * already served the session's reads: the create reached AIS once (no
 * resend below us), and the caller learns the outcome is unknown. */
static void test_orch_lost_reply_not_resent(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC130S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };
    long before;

    /* Reads first: the client keeps that connection alive. */
    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC130S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 0);
    before = counter(f, JE_CALLS);
    ctl_post(f, "/__sim/faults",
             "{\"hang\":{\"orchestration\":\"MLC_AddJournalEntry\",\"count\":1,\"hang_s\":1}}");
    assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EIO);
    assert_true(res.outcome_unknown);
    ais_orch_result_clear(&res);
    assert_int_equal(counter(f, JE_CALLS) - before, 1);
    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC130S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 1);
    ais_orch_in_free(in);
    ais_session_free(s);
}

static void test_write_not_replayed(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = je_input("BC110S", 0, NULL);
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };

    assert_int_equal(ais_session_login(s, &e), MLC_OK);
    ctl_post(f, "/__sim/restart", NULL);
    assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_EAUTH);
    assert_true(res.reauth);
    assert_int_equal(res.status, 444);
    assert_non_null(strstr(e.msg, "not replayed"));
    ais_orch_result_clear(&res);
    assert_int_equal(counter(f, JE_CALLS), 1);
    assert_int_equal(ais_session_login_count(s), 2);
    /* The caller's idempotency check, then the call again. */
    assert_int_equal(ais_journal_exists(s, "00001", "JE", "BC110S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(ais_orch_call(s, "MLC_AddJournalEntry", in, &res, &e), MLC_OK);
    ais_orch_result_clear(&res);
    assert_int_equal(counter(f, JE_CALLS), 2);
    assert_int_equal(ais_session_login_count(s), 2);
    ais_orch_in_free(in);
    ais_session_free(s);
}

static void test_voucher_and_discover(void **state)
{
    struct fx *f = *state;
    struct ais_session *s = session(f);
    struct ais_orch_in *in = NULL;
    struct ais_orch_result res = { 0 };
    struct ais_docs d;
    struct mlc_err e = { 0 };
    json_t *disc = NULL;
    int64_t doc;

    assert_int_equal(ais_orch_in_new(&in, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "Company", "00001", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_i64(in, "SupplierNumber", 5001, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_str(in, "InvoiceNumber", "BC200S", NULL), MLC_OK);
    assert_int_equal(ais_orch_in_date(in, "InvoiceDate", &NOV28, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_date(in, "GLDate", &NOV28, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_amount(in, "GrossAmount", 1000, 2, NULL), MLC_OK);
    assert_int_equal(ais_orch_in_row(in, "GLDistribution", NULL), MLC_OK);
    assert_int_equal(ais_orch_row_str(in, "Account", "100.4010", NULL), MLC_OK);
    assert_int_equal(ais_orch_row_amount(in, "Amount", 1000, 2, NULL), MLC_OK);
    assert_int_equal(ais_voucher_exists(s, "00001", "BC200S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(ais_orch_call(s, ais_orch_name(s, AIS_ORCH_VOUCHER), in, &res, &e), MLC_OK);
    assert_int_equal(ais_orch_out_i64(&res, "DocumentNumber", &doc, &e), MLC_OK);
    ais_orch_result_clear(&res);
    assert_int_equal(ais_voucher_exists(s, "00001", "BC200S", &d, &e), MLC_OK);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.doc[0], doc);
    assert_string_equal(d.dct[0], "PV");

    assert_int_equal(ais_discover(s, "MLC_AddVoucher", &disc, &e), MLC_OK);
    assert_string_equal(json_string_value(json_object_get(disc, "inputFormat")), "JDE Standard");
    json_decref(disc);
    assert_int_equal(ais_discover(s, NULL, &disc, &e), MLC_OK);
    assert_int_equal(json_array_size(json_object_get(disc, "orchestrations")), 4);
    json_decref(disc);
    assert_int_equal(ais_discover(s, "MLC_Missing", &disc, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "MLC_Missing"));
    ais_orch_in_free(in);
    ais_session_free(s);
}

/* ---- a fake AIS: known token, token-refusal variants ------------------------------- */

#define FAKE_PWD "fake-Pa55word-QQ"

struct fake {
    struct httpd   *h;
    pthread_mutex_t mu;
    int             logins;
    int             gen;            /* token generation */
    int             refuse_status;  /* next data call refused with this status */
    int             slow_left;      /* discover/slow calls answered after 1 s */
    const char     *refuse_body;
    uint16_t        port;
};

static void fake_token(const struct fake *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "TOKSECRET%d+/=ZZ", k->gen);
}

static void h_fake(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct fake *k = ctx;
    const char *p = httpd_req_path(rq), *auth = httpd_req_header(rq, "jde-AIS-Auth");
    char tok[64], body[1024];
    size_t len;

    if (strcmp(p, "/jderest/discover/slow") == 0) {
        pthread_mutex_lock(&k->mu);
        bool slow = k->slow_left > 0 && k->slow_left-- > 0;
        pthread_mutex_unlock(&k->mu);
        if (slow)
            usleep(1000 * 1000); /* a stale-token call still in flight */
    }
    pthread_mutex_lock(&k->mu);
    fake_token(k, tok, sizeof(tok));
    if (strcmp(p, "/jderest/v2/tokenrequest") == 0) {
        const char *b = httpd_req_body(rq, &len);

        if (strstr(b, "\"password\":\"" FAKE_PWD "\"") == NULL) {
            httpd_resp_static(rs, 403, "application/json", "{\"message\":\"Authorization Failure\"}");
        } else {
            k->logins++;
            k->gen++;
            fake_token(k, tok, sizeof(tok));
            snprintf(body, sizeof(body), "{\"username\":\"U\",\"environment\":\"JDV920\","
                     "\"userInfo\":{\"token\":\"%s\",\"simpleDateFormat\":\"dd/MM/yyyy\"}}", tok);
            httpd_resp_copy(rs, 200, "application/json", body, strlen(body));
        }
    } else if (auth == NULL || strcmp(auth, tok) != 0 || k->logins == 0) {
        httpd_resp_static(rs, 444, "application/json", "{\"message\":\"Invalid Token\"}");
    } else if (k->refuse_status != 0) {
        httpd_resp_static(rs, k->refuse_status, "application/json", k->refuse_body);
        k->refuse_status = 0;
        k->gen++; /* the token dies */
    } else if (strcmp(p, "/jderest/discover/slow") == 0) {
        httpd_resp_static(rs, 200, "application/json", "{\"name\":\"slow\"}");
    } else if (strcmp(p, "/jderest/v2/tokenrequest/validate") == 0) {
        httpd_resp_static(rs, 200, "application/json", "{\"isValidSession\":true}");
    } else if (strcmp(p, "/jderest/v2/tokenrequest/logout") == 0) {
        httpd_resp_static(rs, 200, "application/json", "{\"message\":\"Logout successful\"}");
    } else if (strcmp(p, "/jderest/v2/dataservice") == 0) {
        snprintf(body, sizeof(body),
                 "{\"fs_DATABROWSE_F0101\":{\"data\":{\"gridData\":{\"rowset\":[{\"F0101_AN8\":1},"
                 "{\"F0101_AN8\":2}],\"summary\":{\"records\":2,\"moreRecords\":true}}}},"
                 "\"links\":[{\"rel\":\"next\",\"href\":\"http://elsewhere.invalid:1/jderest/v2/"
                 "dataservice/next?rid=1&token=%s\"}]}", tok);
        httpd_resp_copy(rs, 200, "application/json", body, strlen(body));
    } else if (strcmp(p, "/jderest/v2/dataservice/next") == 0) {
        httpd_resp_static(rs, 200, "application/json",
                          "{\"fs_DATABROWSE_F0101\":{\"data\":{\"gridData\":{\"rowset\":"
                          "[{\"F0101_AN8\":3}],\"summary\":{\"records\":1,\"moreRecords\":false}}}}}");
    } else {
        httpd_resp_static(rs, 404, "application/json", "{\"message\":\"Not Found\"}");
    }
    pthread_mutex_unlock(&k->mu);
}

static struct fake *fake_start(void)
{
    struct fake *k = calloc(1, sizeof(*k));
    struct httpd_route r[] = { { "*", "/jderest/*", h_fake, NULL } };
    struct httpd_opts o = { .listen = "127.0.0.1:0", .threads = 2, .connection_timeout_s = 30,
                            .max_body_bytes = 65536 };

    assert_non_null(k);
    pthread_mutex_init(&k->mu, NULL);
    r[0].ctx = k;
    assert_int_equal(httpd_start(&o, r, 1, &k->h, NULL), MLC_OK);
    k->port = httpd_port(k->h);
    return k;
}

static void fake_free(struct fake *k)
{
    httpd_free(k->h);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static int an8_sum(void *ctx, const json_t *row, struct mlc_err *e)
{
    int64_t v;
    int rc = ais_row_i64(row, "F0101_AN8", &v, e);

    *(int64_t *)ctx += v;
    return rc;
}

static void run_fake_query(struct ais_session *s, int64_t *sum)
{
    struct ais_query *q = NULL;
    struct mlc_err e = { 0 };

    *sum = 0;
    assert_int_equal(ais_query_new("F0101", &q, NULL), MLC_OK);
    assert_int_equal(ais_query_run(s, q, an8_sum, sum, NULL, &e), MLC_OK);
    ais_query_free(q);
}

static void test_token_refusal_variants(void **state)
{
    static const struct { int status; const char *body; } v[] = {
        { 403, "{\"message\":\"Token is Invalid\",\"exception\":\"java.lang.Exception\"}" },
        { 500, "{\"message\":\"The token is invalid or expired: Invalid Token\"}" },
    };
    struct fake *k = fake_start();
    char base[64];
    struct ais_session *s;
    int64_t sum;

    (void)state;
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)k->port);
    s = session_for(base, "U", FAKE_PWD, 0);
    run_fake_query(s, &sum);
    assert_int_equal(sum, 6);
    for (size_t i = 0; i < 2; i++) {
        pthread_mutex_lock(&k->mu);
        k->refuse_status = v[i].status;
        k->refuse_body = v[i].body;
        pthread_mutex_unlock(&k->mu);
        run_fake_query(s, &sum);
        assert_int_equal(sum, 6);
        assert_int_equal(ais_session_login_count(s), 2 + i);
    }
    /* A 403 that is not about the token is not a re-login. */
    ais_session_free(s);
    fake_free(k);
}

struct slow_call {
    struct ais_session *s;
    int                 rc;
};

static void *slow_thread(void *arg)
{
    struct slow_call *c = arg;
    json_t *out = NULL;

    c->rc = ais_discover(c->s, "slow", &out, NULL);
    json_decref(out);
    return NULL;
}

/* A call that used token generation G and is refused after another thread
 * already renewed the token must not log in again: it replays with the
 * newer token. */
static void test_stale_generation_no_second_login(void **state)
{
    struct fake *k = fake_start();
    struct slow_call c = { 0 };
    char base[64];
    pthread_t th;
    int64_t sum;

    (void)state;
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)k->port);
    c.s = session_for(base, "U", FAKE_PWD, 0);
    run_fake_query(c.s, &sum);
    pthread_mutex_lock(&k->mu);
    k->gen++;          /* AIS restart: token 1 dies */
    k->slow_left = 1;
    pthread_mutex_unlock(&k->mu);
    assert_int_equal(pthread_create(&th, NULL, slow_thread, &c), 0);
    usleep(100 * 1000); /* the slow call is in flight with token 1 */
    run_fake_query(c.s, &sum); /* refused, re-login (token 2), rows */
    assert_int_equal(sum, 6);
    pthread_join(th, NULL);
    assert_int_equal(c.rc, MLC_OK);
    assert_int_equal(ais_session_login_count(c.s), 2);
    pthread_mutex_lock(&k->mu);
    sum = k->logins;
    pthread_mutex_unlock(&k->mu);
    assert_int_equal(sum, 2);
    ais_session_free(c.s);
    fake_free(k);
}

static void test_secrets_not_logged(void **state)
{
    struct fake *k = fake_start();
    FILE *tf = tmpfile();
    char base[64], *buf;
    struct ais_session *s, *bad;
    struct mlc_err e = { 0 };
    int64_t sum;
    long n;

    (void)state;
    assert_non_null(tf);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)k->port);
    log_set_fd(fileno(tf));
    log_set_level(LOG_LVL_DEBUG);
    s = session_for(base, "U", FAKE_PWD, 0);
    run_fake_query(s, &sum); /* login, first page, next link with the token */
    assert_int_equal(sum, 6);
    assert_int_equal(ais_session_touch(s, &e), MLC_OK);
    assert_int_equal(ais_session_logout(s, &e), MLC_OK);
    ais_session_free(s);
    bad = session_for(base, "U", "another-secret-pw", 0);
    assert_int_equal(ais_session_login(bad, &e), MLC_EAUTH);
    assert_null(strstr(e.msg, "another-secret-pw"));
    ais_session_free(bad);
    log_set_level(LOG_LVL_WARN);
    log_set_fd(2);

    fflush(tf);
    n = ftell(tf);
    assert_true(n > 0);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    rewind(tf);
    assert_int_equal(fread(buf, 1, (size_t)n, tf), (size_t)n);
    assert_non_null(strstr(buf, "mod=httpc"));         /* debug lines were written */
    assert_non_null(strstr(buf, "dataservice/next"));  /* ...the next link too */
    assert_null(strstr(buf, "TOKSECRET"));
    assert_null(strstr(buf, FAKE_PWD));
    assert_null(strstr(buf, "another-secret-pw"));
    assert_null(strstr(buf, "elsewhere.invalid"));     /* re-based onto the base URL */
    free(buf);
    fclose(tf);
    fake_free(k);
}

/* ---- the decoders apart from the transport (fuzz/fuzz_ais.c drives them) ------ */

static int collect_obj(void *ctx, const json_t *row, struct mlc_err *e)
{
    char obj[16], *seen = ctx;
    size_t n = strlen(seen);

    (void)e;
    assert_int_equal(ais_row_str(row, "F0901.OBJ", obj, sizeof(obj), NULL), MLC_OK);
    snprintf(seen + n, 128 - n, "%s;", obj);
    return MLC_OK;
}

static void test_pager_without_server(void **state)
{
    const char *page =
        "{\"fs_DATABROWSE_F0901\":{\"data\":{\"gridData\":{\"rowset\":["
        "{\"F0901_MCU\":\"  1000\",\"F0901_OBJ\":\"1110\"},"
        "{\"F0901_MCU\":\"  1000\",\"F0901_OBJ\":\"1110\"},"
        "{\"F0901_MCU\":\"  1000\",\"F0901_OBJ\":\"4010\"}],"
        "\"summary\":{\"moreRecords\":true}}}},"
        "\"links\":[{\"rel\":\"next\",\"href\":\"http://127.0.0.1:1/jderest/v2/next/1\"}]}";
    struct ais_query *q = NULL;
    struct ais_pager *p = NULL;
    struct mlc_err e = { 0 };
    json_t *body = json_loads(page, 0, NULL), *nolink;
    char seen[128] = "", *next = NULL;
    bool more = false;

    (void)state;
    assert_non_null(body);
    assert_int_equal(ais_query_new("F0901", &q, &e), MLC_OK);
    assert_int_equal(ais_query_key(q, "MCU|OBJ", &e), MLC_OK);
    assert_int_equal(ais_pager_new(q, collect_obj, seen, &p, &e), MLC_OK);
    assert_int_equal(ais_pager_page(p, 200, body, &next, &more, &e), MLC_OK);
    assert_true(more);
    assert_string_equal(next, "/jderest/v2/next/1");
    assert_string_equal(seen, "1110;4010;"); /* the duplicate key skipped */
    free(next);
    /* The same rows again (a re-run) deliver nothing; more records without
     * a next link is a protocol error. */
    nolink = json_deep_copy(body);
    json_object_del(nolink, "links");
    assert_int_equal(ais_pager_page(p, 200, nolink, &next, &more, &e), MLC_EPROTO);
    assert_null(next);
    assert_string_equal(seen, "1110;4010;");
    assert_int_equal(ais_pager_page(p, 404, nolink, &next, &more, &e), MLC_ENOTFOUND);
    assert_false(more);
    json_decref(nolink);
    json_decref(body);
    ais_pager_free(p);
    ais_query_free(q);
}

static void test_login_decode_without_server(void **state)
{
    json_t *ok = json_loads("{\"username\":\"MLCSVC\",\"environment\":\"JPS920\","
                            "\"userInfo\":{\"token\":\"tok-123\",\"addressNumber\":4242}}",
                            0, NULL);
    json_t *none = json_loads("{\"userInfo\":{\"token\":\"\"}}", 0, NULL);
    struct ais_login_info info;
    struct mlc_secret *tok = NULL;

    (void)state;
    log_set_level(LOG_LVL_ERROR);
    assert_int_equal(ais_login_decode(ok, "MLCSVC", &tok, &info), MLC_OK);
    assert_non_null(tok);
    assert_string_equal(info.username, "MLCSVC");
    assert_string_equal(info.sdf, "MM/dd/yyyy"); /* AIS's default when absent */
    assert_int_equal(info.address_number, 4242);
    /* jansson's copy of the token is wiped. */
    assert_int_not_equal(strcmp(json_string_value(json_object_get(json_object_get(ok, "userInfo"),
                                                                  "token")), "tok-123"), 0);
    secret_free(tok);
    assert_int_equal(ais_login_decode(none, "MLCSVC", &tok, &info), MLC_EPROTO);
    assert_null(tok);
    json_decref(ok);
    json_decref(none);
}

static void test_orch_judge_without_server(void **state)
{
    struct ais_orch_result res = { 0 };
    struct mlc_err e = { 0 };

    (void)state;
    res.out = json_loads("{\"ServiceRequest1\":{\"fs_P0911B\":{\"errors\":[{\"TITLE\":\"Out of balance\"}]}}}",
                         0, NULL);
    res.status = 200;
    assert_int_equal(ais_orch_judge("J", &res, &e), MLC_EPROTO);
    assert_true(res.rejected);
    assert_non_null(strstr(e.msg, "Out of balance"));
    res.rejected = false;
    res.status = 502;
    assert_int_equal(ais_orch_judge("J", &res, &e), MLC_EIO);
    assert_true(res.outcome_unknown);
    ais_orch_result_clear(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_backoff, setup, teardown),
        cmocka_unit_test(test_login_unreachable_short_pause),
        cmocka_unit_test_setup_teardown(test_restart_concurrent_one_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_444_relogin_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_expiry_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_expiry_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watermark_query, setup, teardown),
        cmocka_unit_test(test_row_helpers),
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookups_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_send_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_create_and_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates_in_user_format, setup, teardown),
        cmocka_unit_test(test_renamed_inputs),
        cmocka_unit_test_setup_teardown(test_orch_200_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orch_500_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orch_timeout_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orch_gateway_status_is_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orch_lost_reply_not_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_not_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_voucher_and_discover, setup, teardown),
        cmocka_unit_test(test_token_refusal_variants),
        cmocka_unit_test(test_stale_generation_no_second_login),
        cmocka_unit_test(test_secrets_not_logged),
        cmocka_unit_test(test_pager_without_server),
        cmocka_unit_test(test_login_decode_without_server),
        cmocka_unit_test(test_orch_judge_without_server),
    };

    log_set_level(LOG_LVL_WARN);
    secret_lib_init();
    httpc_global_init(NULL);
    return cmocka_run_group_tests_name("ais_client", tests, NULL, NULL);
}
