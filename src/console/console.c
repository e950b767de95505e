#include "console/console_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "console/console_api.h"
#include "console/console_assets.h"
#include "console/console_auth.h"
#include "core/jobkind.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/tz.h"
#include "jde/ais_session.h"
#include "net/httpd.h"
#include "store/credentials.h"
#include "store/store.h"
#include "sync/env.h"
#include "sync/heldops.h"

#define NOTE_MAX      1000
#define MAX_CONDS     16

int64_t console_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cauth_opts opts_of(const struct mlc_config *cfg)
{
    return (struct cauth_opts){
        .idle_ms = (int64_t)cfg->console.session_idle_s * 1000,
        .max_ms = (int64_t)cfg->console.session_max_s * 1000,
        .max_failures = CAUTH_MAX_FAILURES, .window_ms = CAUTH_WINDOW_MS,
    };
}

bool console_loopback(const char *client)
{
    return strncmp(client, "127.", 4) == 0 || strcmp(client, "::1") == 0 ||
           strncmp(client, "::ffff:127.", 11) == 0;
}

/* ---- responses ----------------------------------------------------------------- */

static void common_headers(struct httpd_response *rs)
{
    httpd_resp_header(rs, "X-Content-Type-Options", "nosniff");
    httpd_resp_header(rs, "X-Frame-Options", "DENY");
    httpd_resp_header(rs, "Referrer-Policy", "no-referrer");
    httpd_resp_header(rs, "Content-Security-Policy",
                      "default-src 'self'; base-uri 'none'; form-action 'self'; "
                      "frame-ancestors 'none'");
}

void console_send_json(struct httpd_response *rs, int status, json_t *o)
{
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    common_headers(rs);
    httpd_resp_header(rs, "Cache-Control", "no-store");
    if (text == NULL) {
        httpd_resp_static(rs, 500, "application/json", "{\"error\":\"out of memory\"}");
        return;
    }
    httpd_resp_take(rs, status, "application/json", text, strlen(text));
}

void console_send_error(struct httpd_response *rs, int status, const char *msg)
{
    console_send_json(rs, status, json_pack("{s:s}", "error", msg));
}


json_t *console_json_body(const struct httpd_request *rq, struct httpd_response *rs)
{
    const char *ct = httpd_req_header(rq, "Content-Type");
    size_t len = 0;
    const char *b = httpd_req_body(rq, &len);
    json_t *o;

    if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
        console_send_error(rs, 415, "send application/json");
        return NULL;
    }
    o = b != NULL ? json_loadb(b, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        console_send_error(rs, 400, "the body is not a JSON object");
        return NULL;
    }
    return o;
}

static void actor_of(const struct who *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "console:%s", w->s.user);
}

/* ---- pages' data --------------------------------------------------------------------- */

static void send_result(struct httpd_response *rs, int rc, json_t *o, const struct mlc_err *e)
{
    if (rc == MLC_OK)
        console_send_json(rs, 200, o);
    else
        console_send_error(rs, rc == MLC_ENOTFOUND ? 404 : rc == MLC_EINVAL ? 400 : 500, e->msg);
}

static json_t *conditions_json(const struct console *c)
{
    struct health_cond hc[MAX_CONDS];
    size_t n = c->deps.health != NULL ? health_list(c->deps.health, hc, MAX_CONDS) : 0;
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n && i < MAX_CONDS; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "condition", hc[i].name,
                                             "reason", hc[i].reason,
                                             "since_ms", (json_int_t)hc[i].since_ms));
    return arr;
}

static void h_overview(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    struct capi_runtime rt = { .quota_left = -1, .quota_limit = -1, .ais_up = -1 };
    struct mlc_err e;
    struct who w;
    json_t *o = NULL;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    mlc_err_clear(&e);
    rt.now_ms = console_now_ms();
    rt.tz_offset_min = tz_offset_min((int64_t)(rt.now_ms / 1000));
    rt.conditions = conditions_json(c);
    if (c->deps.env != NULL) {
        struct pacer_stats ps;

        pacer_get_stats(env_pacer(c->deps.env), &ps);
        rt.quota_left = ps.last_left;
        rt.ais_up = ais_session_up(env_ais(c->deps.env)) ? 1 : 0;
    }
    pthread_mutex_lock(&c->mu);
    rt.timezone = c->cfg->posting.timezone;
    rc = capi_overview(c->st, &rt, &o, &e);
    if (rc == MLC_OK)
        json_object_set_new(o, "user", json_string(w.s.user));
    pthread_mutex_unlock(&c->mu);
    json_decref(rt.conditions);
    send_result(rs, rc, o, &e);
}

static void h_held(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    struct mlc_err e;
    struct who w;
    json_t *o = NULL;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    mlc_err_clear(&e);
    pthread_mutex_lock(&c->mu);
    rc = capi_held(c->st, &o, &e);
    pthread_mutex_unlock(&c->mu);
    send_result(rs, rc, o, &e);
}

#define EMAIL_MAX_ORDERS 50

/* The orders of one customer e-mail, asked of BigCommerce (through the
 * store's rate pacer, with a client of this call's own): id, date, status,
 * total. The console is a reader of the store otherwise; this is its one
 * remote call. */
static int orders_by_email(struct console *c, const char *email, json_t **out,
                           struct mlc_err *e)
{
    struct bc_order_filter f = BC_ORDER_FILTER_INIT;
    struct bc_client *bc = NULL;
    json_t *page = NULL, *list, *o;
    size_t i;
    int rc;

    *out = NULL;
    if (c->deps.env == NULL)
        return mlc_err_set(e, MLC_ESTATE, "searching by e-mail needs BigCommerce: the flows "
                           "are not running (see /readyz)");
    f.email = email;
    f.line_items = false;
    f.sort = "id:desc";
    if ((rc = env_bc_client_new(c->deps.env, &bc, e)) != MLC_OK)
        return rc;
    rc = bc_orders_page(bc, &f, 1, EMAIL_MAX_ORDERS, &page, e);
    bc_client_free(bc);
    if (rc != MLC_OK)
        return rc;
    if ((list = json_array()) == NULL) {
        json_decref(page);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    }
    json_array_foreach(page, i, o) {
        json_t *id = json_object_get(o, "id");

        if (!json_is_integer(id))
            continue;
        /* amounts stay BigCommerce's decimal strings: shown, never computed */
        json_array_append_new(list, json_pack(
            "{s:O, s:O?, s:O?, s:O?, s:O?}", "id", id,
            "date_created", json_object_get(o, "date_created"),
            "status", json_object_get(o, "status"),
            "total_inc_tax", json_object_get(o, "total_inc_tax"),
            "currency", json_object_get(o, "currency_code")));
    }
    json_decref(page);
    *out = json_pack("{s:s, s:o}", "email", email, "orders", list);
    return *out != NULL ? MLC_OK : mlc_err_set(e, MLC_ENOMEM, "out of memory");
}

static void h_order(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    const char *q;
    struct mlc_err e;
    struct who w;
    char key[96];
    json_t *o = NULL;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    mlc_err_clear(&e);
    q = httpd_req_query(rq, "q");
    if (q != NULL && strchr(q, '@') != NULL && strlen(q) < 255) {
        rc = orders_by_email(c, q, &o, &e);
        send_result(rs, rc == MLC_ESTATE ? MLC_EINVAL : rc, o, &e);
        return;
    }
    pthread_mutex_lock(&c->mu);
    rc = capi_order_key(q, c->cfg->posting.key_prefix, key,
                        sizeof(key), &e);
    if (rc == MLC_OK)
        rc = capi_order(c->st, key, &o, &e);
    pthread_mutex_unlock(&c->mu);
    send_result(rs, rc, o, &e);
}

static void h_report(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    const char *day = httpd_req_query(rq, "day");
    struct mlc_err e;
    struct who w;
    json_t *o = NULL;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    mlc_err_clear(&e);
    pthread_mutex_lock(&c->mu);
    rc = capi_report(c->st, day != NULL && day[0] != '\0' ? day : NULL, &o, &e);
    pthread_mutex_unlock(&c->mu);
    if (rc == MLC_ENOTFOUND)
        snprintf(e.msg, sizeof(e.msg), "no stored reconciliation%s%s", day != NULL ? " of " : "",
                 day != NULL ? day : "");
    send_result(rs, rc, o, &e);
}

static void h_report_csv(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct console *c = ctx;
    const char *day = httpd_req_query(rq, "day");
    char *csv = NULL, disp[96];
    struct mlc_err e;
    struct who w;
    size_t len = 0;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w))
        return;
    mlc_err_clear(&e);
    if (day != NULL && day[0] == '\0')
        day = NULL;
    pthread_mutex_lock(&c->mu);
    rc = capi_report_csv(c->st, day, &csv, &len, &e);
    pthread_mutex_unlock(&c->mu);
    if (rc != MLC_OK) {
        send_result(rs, rc, NULL, &e);
        return;
    }
    common_headers(rs);
    httpd_resp_header(rs, "Cache-Control", "no-store");
    snprintf(disp, sizeof(disp), "attachment; filename=\"reconcile-%s.csv\"",
             day != NULL ? day : "latest");
    httpd_resp_header(rs, "Content-Disposition", disp);
    httpd_resp_take(rs, 200, "text/csv; charset=utf-8", csv, len);
}

/* ---- replay and dismiss ---------------------------------------------------------------- */

/* Audits an operator action refused to a viewer. Under mu. */
static void audit_refused(struct console *c, const struct who *w, const char *action,
                          int64_t id, const char *entity)
{
    char actor[64], detail[128];
    struct mlc_err e;

    actor_of(w, actor, sizeof(actor));
    snprintf(detail, sizeof(detail), "{\"job_id\":%" PRId64 ",\"role\":\"%s\"}", id,
             cauth_role_name(w->s.role));
    if (store_audit_add(c->st, &(struct store_audit){
            .actor = actor, .entity = entity, .action = action, .outcome = "refused",
            .detail = detail }, &e) != MLC_OK)
        log_warn("console", "refusal not audited", LF_ERR(&e));
}

static int status_of(int rc)
{
    switch (rc) {
    case MLC_ENOTFOUND: return 404;
    case MLC_ESTATE:    return 409;
    case MLC_EINVAL:    return 400;
    default:            return 500;
    }
}

/* POST /api/replay and /api/dismiss: {id, note}. */
static void act(struct console *c, const struct httpd_request *rq, struct httpd_response *rs,
                bool replay)
{
    const char *action = replay ? "replay" : "dismiss", *note;
    struct store_job was, j;
    char actor[64], entity[96];
    struct mlc_err e;
    struct who w;
    json_t *b;
    int64_t id;
    int rc;

    if (!clogin_authorize(c, rq, rs, &w) || (b = console_json_body(rq, rs)) == NULL)
        return;
    mlc_err_clear(&e);
    memset(&was, 0, sizeof(was));
    memset(&j, 0, sizeof(j));
    id = json_integer_value(json_object_get(b, "id"));
    note = json_string_value(json_object_get(b, "note"));
    actor_of(&w, actor, sizeof(actor));
    pthread_mutex_lock(&c->mu);
    snprintf(entity, sizeof(entity), "job:%" PRId64, id);
    if (id > 0 && store_job_get(c->st, id, &j, &e) == MLC_OK)
        snprintf(entity, sizeof(entity), "%s", j.key);
    if (w.s.role != CAUTH_OPERATOR) {
        audit_refused(c, &w, action, id, entity);
        pthread_mutex_unlock(&c->mu);
        log_warn("console", "action refused: viewer", LF_STR("user", w.s.user),
                 LF_STR("action", action), LF_INT("job", id));
        console_send_error(rs, 403, "only an operator may replay or dismiss");
        goto out;
    }
    if (id <= 0 || j.id == 0)
        rc = mlc_err_set(&e, MLC_ENOTFOUND, "no job %" PRId64, id);
    else if (note == NULL || note[strspn(note, " \t\r\n")] == '\0' || strlen(note) > NOTE_MAX)
        rc = mlc_err_set(&e, MLC_EINVAL, "a note of 1-%d characters is required: say why",
                         NOTE_MAX);
    else if (replay && !jobkind_handled(c->cfg, j.kind))
        rc = jobkind_check(c->cfg, j.kind, &e) == MLC_OK
             ? mlc_err_set(&e, MLC_ESTATE, "no handler for %s", j.kind) : MLC_ESTATE;
    else if (replay)
        rc = heldops_replay(c->st, id, actor, note, false, &was, &e);
    else
        rc = heldops_dismiss(c->st, id, actor, note, &was, &e);
    pthread_mutex_unlock(&c->mu);
    if (rc != MLC_OK) {
        console_send_error(rs, status_of(rc), e.msg);
        goto out;
    }
    log_info("console", replay ? "replayed" : "dismissed", LF_STR("actor", actor),
             LF_INT("job", id), LF_STR("key", was.key));
    console_send_json(rs, 200, json_pack("{s:s, s:I, s:s, s:s}", "done", action, "id", (json_int_t)id,
                                 "key", was.key, "previous_state",
                                 store_job_state_name(was.state)));
out:
    store_job_clear(&was);
    store_job_clear(&j);
    json_decref(b);
}

static void h_replay(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    act(ctx, rq, rs, true);
}

static void h_dismiss(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    act(ctx, rq, rs, false);
}

/* ---- static files ------------------------------------------------------------------------ */

static void h_asset(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    const char *path = httpd_req_path(rq);
    const struct console_asset *a;

    (void)ctx;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    if ((a = console_asset_find(path)) == NULL) {
        console_send_error(rs, 404, "not found");
        return;
    }
    common_headers(rs);
    httpd_resp_header(rs, "Cache-Control", "no-cache");
    httpd_resp_static(rs, 200, a->content_type, (const char *)a->data);
    rs->body_len = a->len;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

int console_start(struct mlc_config *cfg, const struct console_deps *deps,
                  struct console **out, struct mlc_err *e)
{
    struct console *c;
    struct cauth_opts ao = opts_of(cfg);
    struct mlc_err ve;
    int rc;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    c->cfg = cfg_ref(cfg);
    c->deps = *deps;
    rc = cauth_new(&ao, &c->auth, e);
    if (rc == MLC_OK) {
        unsigned char raw[32];
        char pw[65];

        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
        rc = cauth_hash(pw, strlen(pw), c->dummy_hash, e);
        sodium_memzero(pw, sizeof(pw));
    }
    if (rc == MLC_OK && (rc = store_open_with(cfg->store.url, cfg->store.password_ref,
                                              &c->st, e)) != MLC_OK)
        mlc_err_wrap(e, "console store");
    if (rc == MLC_OK && credentials_open_vault(cfg, &c->vault, &ve) != MLC_OK) {
        c->vault = NULL;
        log_warn("console", "no master key: password logins are refused", LF_ERR(&ve));
    }
    if (rc == MLC_OK) {
        const struct httpd_route routes[] = {
            { "POST", "/api/login", clogin_h_login, c },
            { "POST", "/api/logout", clogin_h_logout, c },
            { "GET", "/api/session", clogin_h_session, c },
            { "GET", "/api/overview", h_overview, c },
            { "GET", "/api/held", h_held, c },
            { "GET", "/api/order", h_order, c },
            { "GET", "/api/report", h_report, c },
            { "GET", "/api/report.csv", h_report_csv, c },
            { "POST", "/api/replay", h_replay, c },
            { "POST", "/api/dismiss", h_dismiss, c },
            { "GET", "/*", h_asset, c },
        };
        struct httpd_opts ho = {
            .listen = cfg->console.listen, .threads = 4, .max_connections = 64,
            .per_ip_limit = 32, .connection_timeout_s = 60, .request_timeout_ms = 10000,
            .max_body_bytes = 64 * 1024,
        };

        rc = httpd_start(&ho, routes, sizeof(routes) / sizeof(routes[0]), &c->h, e);
        if (rc != MLC_OK)
            mlc_err_wrap(e, "console.listen %s", ho.listen);
    }
    if (rc != MLC_OK) {
        console_free(c);
        return rc;
    }
    if (!console_loopback(cfg->console.listen) && strncmp(cfg->console.listen, "[::1]:", 6) != 0)
        log_warn("console", "the console listener is not on loopback: put it behind a TLS "
                 "proxy and keep its address private", LF_STR("listen", cfg->console.listen));
    log_info("console", "console listener ready", LF_STR("listen", cfg->console.listen),
             LF_UINT("port", httpd_port(c->h)), LF_UINT("users", cfg->console.n_users),
             LF_BOOL("proxy_header", cfg->console.proxy_user_header != NULL));
    *out = c;
    return MLC_OK;
}

void console_set_config(struct console *c, struct mlc_config *cfg)
{
    struct cauth_opts ao = opts_of(cfg);
    struct mlc_config *old;

    if (c == NULL)
        return;
    cauth_set_opts(c->auth, &ao);
    pthread_mutex_lock(&c->mu);
    old = c->cfg;
    c->cfg = cfg_ref(cfg);
    pthread_mutex_unlock(&c->mu);
    cfg_unref(old);
}

void console_stop(struct console *c)
{
    if (c != NULL)
        httpd_stop(c->h);
}

void console_free(struct console *c)
{
    if (c == NULL)
        return;
    httpd_free(c->h); /* first: no handler runs after it */
    cauth_free(c->auth);
    vault_free(c->vault);
    store_close(c->st);
    cfg_unref(c->cfg);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
