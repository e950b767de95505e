/* Unit tests: the AIS simulator over loopback with libcurl.
 * Run from the repository root (the seed is sim/seed/jde.json). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/err.h"
#include "core/log.h"
#include "ais/aissim.h"
#include "ais/aissim_int.h"

#define SEED "sim/seed/jde.json"
#define DEV "mlc-test-device"

struct fx {
    struct aissim *sim;
    char           base[64];
    char           token[128];
};

struct resp {
    long     status;
    CURLcode cc;
    char    *body;
    size_t   len;
    json_t  *json;
};

static void resp_free(struct resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    char *nb = realloc(r->body, r->len + sz * n + 1);

    if (nb == NULL)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, sz * n);
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

/* One request. url: a path (joined to the base) or a full URL. hdrs:
 * NULL-terminated extra header lines. */
static void call(struct fx *f, const char *method, const char *url, const char *body,
                 const char *const *hdrs, long timeout_ms, struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char full[4096];

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(full, sizeof(full), "%s%s", strncmp(url, "http", 4) == 0 ? "" : f->base, url);
    for (; hdrs != NULL && *hdrs != NULL; hdrs++)
        hl = curl_slist_append(hl, *hdrs);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 20000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body != NULL)
        r->json = json_loads(r->body, 0, NULL);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

/* An AIS call with JSON headers and the fixture's token and device. */
static void ais(struct fx *f, const char *method, const char *path, json_t *body,
                struct resp *r)
{
    char auth[256];
    const char *h[] = { "Content-Type: application/json", "Accept: application/json",
                        "jde-AIS-Auth-Device: " DEV, auth, NULL };
    char *txt = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

    snprintf(auth, sizeof(auth), "jde-AIS-Auth: %s", f->token);
    call(f, method, path, txt, h, 0, r);
    free(txt);
    json_decref(body);
}

/* Control call. */
static void ctl(struct fx *f, const char *method, const char *path, json_t *body,
                struct resp *r)
{
    const char *h[] = { "Content-Type: application/json", NULL };
    char *txt = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

    call(f, method, path, txt, h, 0, r);
    free(txt);
    json_decref(body);
    assert_int_equal(r->status, 200);
}

static void ctl_ok(struct fx *f, const char *method, const char *path, json_t *body)
{
    struct resp r;

    ctl(f, method, path, body, &r);
    resp_free(&r);
}

static void login_as(struct fx *f, const char *user, const char *pwd, const char *dev,
                     char *tok, size_t cap)
{
    struct resp r;
    char devh[128];
    const char *h[] = { "Content-Type: application/json", "Accept: application/json",
                        devh, NULL };
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "username", user, "password", pwd,
                          "environment", "JDV920", "deviceName", dev);
    char *txt = json_dumps(b, JSON_COMPACT);

    snprintf(devh, sizeof(devh), "X-Unused: %s", dev);
    call(f, "POST", "/jderest/v2/tokenrequest", txt, h, 0, &r);
    assert_int_equal(r.status, 200);
    snprintf(tok, cap, "%s", json_string_value(json_object_get(json_object_get(r.json,
                                                 "userInfo"), "token")));
    assert_true(strlen(tok) > 10);
    free(txt);
    json_decref(b);
    resp_free(&r);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_t *root = json_load_file(SEED, 0, NULL), *jde;
    struct mlc_err e = { 0 };

    assert_non_null(f);
    assert_non_null(root);
    jde = json_object_get(root, "jde");
    json_object_set_new(jde, "clock", json_pack("{s:s, s:b}", "now", "2026-11-28T10:00:00Z",
                                                "frozen", 1));
    assert_int_equal(aissim_start("127.0.0.1:0", jde, &f->sim, &e), MLC_OK);
    json_decref(root);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)aissim_port(f->sim));
    login_as(f, "MLCINT", "mlcint-pass", DEV, f->token, sizeof(f->token));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    aissim_free(f->sim);
    free(f);
    return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v != NULL ? v : "";
}

/* ---- sessions ------------------------------------------------------------ */

static void t_defaultconfig(void **state)
{
    struct fx *f = *state;
    struct resp r;

    call(f, "GET", "/jderest/v2/defaultconfig?requiredCapabilities=dataservice,orchestrator",
         NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_true(strstr(jstr(r.json, "aisVersion"), "9.2") != NULL);
    assert_true(json_is_false(json_object_get(r.json, "requiredCapabilityMissing")));
    assert_true(json_array_size(json_object_get(r.json, "capabilityList")) > 3);
    resp_free(&r);
    call(f, "GET", "/jderest/defaultconfig?requiredCapabilities=teleport", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "requiredCapabilityMissing")));
    resp_free(&r);
}

static void t_login_shape_and_errors(void **state)
{
    struct fx *f = *state;
    struct resp r;
    const char *json_h[] = { "Content-Type: application/json", NULL };
    const char *text_h[] = { "Content-Type: text/plain", NULL };
    const char *acc_h[] = { "Content-Type: application/json", "Accept: text/html", NULL };
    json_t *ui;

    call(f, "POST", "/jderest/v2/tokenrequest",
         "{\"username\":\"MLCEU\",\"password\":\"mlceu-pass\",\"deviceName\":\"d1\"}", json_h,
         0, &r);
    assert_int_equal(r.status, 200);
    ui = json_object_get(r.json, "userInfo");
    assert_string_equal(jstr(ui, "simpleDateFormat"), "dd/MM/yyyy");
    assert_string_equal(jstr(ui, "dateFormat"), "DME");
    assert_string_equal(jstr(ui, "dateSeperator"), "/");
    assert_string_equal(jstr(r.json, "environment"), "JDV920");
    assert_string_equal(jstr(r.json, "role"), "*ALL");
    assert_true(strlen(jstr(ui, "token")) > 20);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest",
         "{\"username\":\"MLCEU\",\"password\":\"wrong\",\"deviceName\":\"d1\"}", json_h, 0, &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest",
         "{\"username\":\"MLCEU\",\"password\":\"mlceu-pass\",\"environment\":\"JPD920\"}",
         json_h, 0, &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest", "{\"username\":\"MLCEU\"}", text_h, 0, &r);
    assert_int_equal(r.status, 415);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest", "{\"username\":\"MLCEU\"}", acc_h, 0, &r);
    assert_int_equal(r.status, 406);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest", "{not json", json_h, 0, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    /* MM/dd/yyyy user */
    call(f, "POST", "/jderest/tokenrequest",
         "{\"username\":\"MLCINT\",\"password\":\"mlcint-pass\",\"deviceName\":\"d2\"}", json_h,
         0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(json_object_get(r.json, "userInfo"), "simpleDateFormat"),
                        "MM/dd/yyyy");
    resp_free(&r);
}

static void validate(struct fx *f, bool touch, long want)
{
    struct resp r;

    ais(f, "POST", "/jderest/v2/tokenrequest/validate",
        json_pack("{s:s, s:b}", "token", f->token, "touch", touch), &r);
    assert_int_equal(r.status, want);
    if (want == 200)
        assert_true(json_is_true(json_object_get(r.json, "isValidSession")));
    else
        assert_string_equal(jstr(r.json, "message"), "Invalid Token");
    resp_free(&r);
}

static void t_validate_logout(void **state)
{
    struct fx *f = *state;
    struct resp r;

    validate(f, true, 200);
    ais(f, "POST", "/jderest/v2/tokenrequest/logout", json_pack("{s:s}", "token", f->token), &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    validate(f, false, 444);
    ais(f, "POST", "/jderest/v2/tokenrequest/logout", json_pack("{s:s}", "token", f->token), &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
}

static void t_device_binding(void **state)
{
    struct fx *f = *state;
    struct resp r;
    char auth[256];
    const char *other[] = { "Content-Type: application/json", "jde-AIS-Auth-Device: other",
                            auth, NULL };
    const char *none[] = { "Content-Type: application/json", auth, NULL };

    snprintf(auth, sizeof(auth), "jde-AIS-Auth: %s", f->token);
    call(f, "POST", "/jderest/v2/tokenrequest/validate", "{}", other, 0, &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest/validate", "{}", none, 0, &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
    validate(f, false, 200);
}

static void t_inactivity_expiry(void **state)
{
    struct fx *f = *state;

    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 1000));
    validate(f, false, 200);      /* no touch: still counts from login */
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 700));
    validate(f, true, 200);       /* 1700 s idle, then touched */
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 1700));
    validate(f, false, 200);
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 101));
    validate(f, false, 444);      /* 1801 s since the touch */
}

static void t_restart(void **state)
{
    struct fx *f = *state;
    struct resp r;

    ctl_ok(f, "POST", "/__sim/restart", NULL);
    validate(f, false, 444);
    ais(f, "POST", "/jderest/v2/dataservice",
        json_pack("{s:s, s:s}", "targetName", "F4101", "targetType", "table"), &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/settings", json_pack("{s:i}", "invalid_token_status", 403));
    validate(f, false, 403);
    login_as(f, "MLCINT", "mlcint-pass", DEV, f->token, sizeof(f->token));
    validate(f, false, 200);
}

static void t_discover(void **state)
{
    struct fx *f = *state;
    struct resp r;
    json_t *list;

    ais(f, "GET", "/jderest/discover", NULL, &r);
    assert_int_equal(r.status, 200);
    list = json_object_get(r.json, "orchestrations");
    assert_int_equal(json_array_size(list), 4);
    assert_string_equal(jstr(json_array_get(list, 0), "name"), "MLC_AddJournalEntry");
    assert_string_equal(jstr(json_array_get(list, 0), "inputFormat"), "JDE Standard");
    assert_true(json_array_size(json_object_get(json_array_get(list, 1), "outputs")) == 4);
    resp_free(&r);
    ais(f, "GET", "/jderest/discover/MLC_AddCustomer", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "name"), "MLC_AddCustomer");
    resp_free(&r);
    ais(f, "GET", "/jderest/discover/NoSuch", NULL, &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
}

/* ---- data service ---------------------------------------------------------- */

static json_t *lit(const char *v)
{
    return json_pack("{s:s, s:s}", "content", v, "specialValueId", "LITERAL");
}

static json_t *spec(const char *id, const char *content)
{
    return json_pack("{s:s, s:s}", "content", content, "specialValueId", id);
}

static json_t *cnd(const char *id, const char *op, json_t *vals)
{
    return json_pack("{s:s, s:s, s:o}", "controlId", id, "operator", op, "value", vals);
}

static json_t *rowset(const struct resp *r, const char *table)
{
    char k[40];

    snprintf(k, sizeof(k), "fs_DATABROWSE_%s", table);
    return json_object_get(json_object_get(json_object_get(json_object_get(r->json, k),
                                                           "data"), "gridData"), "rowset");
}

/* BROWSE table with query (stolen, may be NULL); returns the rowset size. */
static long browse(struct fx *f, const char *table, json_t *query, const char *ids,
                   int page, bool next, struct resp *r)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "targetName", table, "targetType",
                          "table", "dataServiceType", "BROWSE", "outputType", "GRID_DATA",
                          "enableNextPageProcessing", next, "aliasNaming", 1);
    char ps[16];

    if (query != NULL)
        json_object_set_new(b, "query", query);
    if (ids != NULL)
        json_object_set_new(b, "returnControlIDs", json_string(ids));
    if (page > 0) {
        snprintf(ps, sizeof(ps), "%d", page);
        json_object_set_new(b, "maxPageSize", json_string(ps));
    }
    ais(f, "POST", "/jderest/v2/dataservice", b, r);
    assert_int_equal(r->status, 200);
    return (long)json_array_size(rowset(r, table));
}

static long count1(struct fx *f, const char *table, json_t *c)
{
    struct resp r;
    long n = browse(f, table, json_pack("{s:s, s:[o]}", "matchType", "MATCH_ALL", "condition", c),
                    NULL, 0, false, &r);

    resp_free(&r);
    return n;
}

static void t_browse_operators(void **state)
{
    struct fx *f = *state;
    struct resp r;
    json_t *row;

    assert_int_equal(count1(f, "F4101", cnd("F4101.LITM", "EQUAL", json_pack("[o]", lit("SKU-1002")))), 1);
    assert_int_equal(count1(f, "F4101", cnd("F4101.LITM", "NOT_EQUAL", json_pack("[o]", lit("SKU-1002")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.ITM", "LESS", json_pack("[o]", lit("60002")))), 1);
    assert_int_equal(count1(f, "F4101", cnd("F4101.ITM", "LESS_EQUAL", json_pack("[o]", lit("60002")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.ITM", "GREATER", json_pack("[o]", lit("60002")))), 1);
    assert_int_equal(count1(f, "F4101", cnd("F4101.ITM", "GREATER_EQUAL", json_pack("[o]", lit("60002")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.ITM", "BETWEEN", json_pack("[o,o]", lit("60001"), lit("60002")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.LITM", "LIST", json_pack("[o,o,o]", lit("SKU-1001"), lit("SKU-1003"), lit("NOPE")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.DSC1", "STR_START_WITH", json_pack("[o]", lit("Widget")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.DSC1", "STR_END_WITH", json_pack("[o]", lit("deluxe")))), 1);
    assert_int_equal(count1(f, "F4101", cnd("F4101.DSC1", "STR_CONTAIN", json_pack("[o]", lit("small")))), 1);
    assert_int_equal(count1(f, "F4101", cnd("F4101.DSC2", "STR_BLANK", json_array())), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.DSC2", "STR_NOT_BLANK", json_array())), 1);
    /* dates in the user's format or YYYYMMDD */
    assert_int_equal(count1(f, "F4101", cnd("F4101.UPMJ", "GREATER_EQUAL", json_pack("[o]", lit("11/15/2026")))), 2);
    assert_int_equal(count1(f, "F4101", cnd("F4101.UPMJ", "GREATER_EQUAL", json_pack("[o]", lit("20261115")))), 2);
    /* business units are right-justified like JDE stores them */
    assert_int_equal(count1(f, "F4106", cnd("F4106.MCU", "EQUAL", json_pack("[o]", lit("110")))), 1);
    assert_int_equal(count1(f, "F4106", cnd("F4106.MCU", "STR_BLANK", json_array())), 3);
    /* MATCH_ANY */
    {
        long n = browse(f, "F4101",
                        json_pack("{s:s, s:[o,o]}", "matchType", "MATCH_ANY", "condition",
                                  cnd("F4101.ITM", "EQUAL", json_pack("[o]", lit("60001"))),
                                  cnd("F4101.ITM", "EQUAL", json_pack("[o]", lit("60003")))),
                        "F4101.ITM|F4101.LITM|F4101.UPMJ|F4101.TDAY", 0, false, &r);

        assert_int_equal(n, 2);
    }
    row = json_array_get(rowset(&r, "F4101"), 0);
    assert_int_equal(json_object_size(row), 4);
    assert_string_equal(jstr(row, "F4101_LITM"), "SKU-1001");
    assert_string_equal(jstr(row, "F4101_UPMJ"), "20261101");
    assert_int_equal(json_integer_value(json_object_get(row, "F4101_TDAY")), 93015);
    assert_false(json_is_true(json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(r.json, "fs_DATABROWSE_F4101"), "data"), "gridData"), "summary"),
        "moreRecords")));
    resp_free(&r);
    /* amounts decimal-shifted, exact; business units keep leading blanks */
    browse(f, "F4106", json_pack("{s:[o]}", "condition",
                                 cnd("F4106.MCU", "EQUAL", json_pack("[o]", lit("110")))),
           "F4106.MCU|F4106.UPRC", 0, false, &r);
    assert_non_null(strstr(r.body, "\"F4106_UPRC\":18.5000"));
    assert_non_null(strstr(r.body, "\"F4106_MCU\":\"         110\""));
    resp_free(&r);
    /* unknown column and operator */
    ais(f, "POST", "/jderest/v2/dataservice",
        json_pack("{s:s, s:s, s:{s:[o]}}", "targetName", "F4101", "targetType", "table", "query",
                  "condition", cnd("F4101.NOPE", "EQUAL", json_pack("[o]", lit("1")))), &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
}

static json_t *q_all(json_t *a, json_t *b)
{
    return json_pack("{s:s, s:[o,o]}", "matchType", "MATCH_ALL", "condition", a, b);
}

static void t_browse_watermark(void **state)
{
    struct fx *f = *state;
    struct resp r;
    long n;

    /* UPMJ > d OR (UPMJ = d AND TDAY >= t) */
    n = browse(f, "F4101",
               json_pack("{s:[{s:s, s:{s:[o]}}, {s:s, s:o}]}", "complexQuery", "andOr", "AND",
                         "query", "condition",
                         cnd("F4101.UPMJ", "GREATER", json_pack("[o]", lit("20261115"))),
                         "andOr", "OR", "query",
                         q_all(cnd("F4101.UPMJ", "EQUAL", json_pack("[o]", lit("20261115"))),
                               cnd("F4101.TDAY", "GREATER_EQUAL", json_pack("[o]", lit("141500"))))),
               NULL, 0, false, &r);
    assert_int_equal(n, 2);
    resp_free(&r);
    n = browse(f, "F4101",
               json_pack("{s:[{s:s, s:{s:[o]}}, {s:s, s:o}]}", "complexQuery", "andOr", "AND",
                         "query", "condition",
                         cnd("F4101.UPMJ", "GREATER", json_pack("[o]", lit("20261115"))),
                         "andOr", "OR", "query",
                         q_all(cnd("F4101.UPMJ", "EQUAL", json_pack("[o]", lit("20261115"))),
                               cnd("F4101.TDAY", "GREATER_EQUAL", json_pack("[o]", lit("141501"))))),
               NULL, 0, false, &r);
    assert_int_equal(n, 1);
    assert_string_equal(jstr(json_array_get(rowset(&r, "F4101"), 0), "F4101_LITM"), "SKU-1003");
    resp_free(&r);
}

static void t_browse_today(void **state)
{
    struct fx *f = *state;

    /* clock 2026-11-28: prices in effect today */
    assert_int_equal(count1(f, "F4106", cnd("F4106.EFTJ", "LESS_EQUAL",
                                            json_pack("[o]", spec("TODAY", "")))), 3);
    assert_int_equal(count1(f, "F4101", cnd("F4101.UPMJ", "GREATER_EQUAL",
                                            json_pack("[o]", spec("TODAY_MINUS_DAY", "3")))), 1);
    assert_int_equal(count1(f, "F4106", cnd("F4106.EXDJ", "LESS",
                                            json_pack("[o]", spec("TODAY_PLUS_MONTH", "1")))), 0);
    assert_int_equal(count1(f, "F4106", cnd("F4106.EXDJ", "LESS",
                                            json_pack("[o]", spec("TODAY_PLUS_MONTH", "2")))), 2);
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:s}", "now", "2026-12-01T00:00:01Z"));
    validate(f, false, 444);   /* three idle days killed the session */
    login_as(f, "MLCINT", "mlcint-pass", DEV, f->token, sizeof(f->token));
    assert_int_equal(count1(f, "F4106", cnd("F4106.EFTJ", "LESS_EQUAL",
                                            json_pack("[o]", spec("TODAY", "")))), 4);
    assert_int_equal(count1(f, "F4106", cnd("F4106.EFTJ", "EQUAL",
                                            json_pack("[o]", spec("TODAY", "")))), 1);
    assert_int_equal(count1(f, "F4106", cnd("F4106.EXDJ", "GREATER_EQUAL",
                                            json_pack("[o]", spec("TODAY_PLUS_YEAR", "10")))), 2);
}

static void add_items(struct fx *f, int n)
{
    json_t *rows = json_array();
    char litm[32];

    for (int i = 0; i < n; i++) {
        snprintf(litm, sizeof(litm), "BULK-%04d", i);
        json_array_append_new(rows, json_pack("{s:i, s:s, s:s, s:s}", "ITM", 70000 + i, "LITM",
                                              litm, "DSC1", "Bulk item", "UOM1", "EA"));
    }
    ctl_ok(f, "POST", "/__sim/table/F4101", json_pack("{s:o}", "rows", rows));
}

static const char *next_href(const struct resp *r)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(r->json, "links"), 0),
                                             "href"));
}

static void t_paging(void **state)
{
    struct fx *f = *state;
    struct resp r, p;
    char auth[256];
    const char *h[] = { "jde-AIS-Auth-Device: " DEV, auth, NULL };
    long total, pages = 1;
    char href[2048];

    add_items(f, 250);
    total = browse(f, "F4101", NULL, "F4101.ITM|F4101.LITM|F4101.UPMJ|F4101.TDAY", 100, true, &r);
    assert_int_equal(total, 100);
    assert_non_null(next_href(&r));
    assert_non_null(strstr(next_href(&r), "/jderest/v2/dataservice/next?"));
    /* the new rows got UPMJ/TDAY from the simulated clock */
    snprintf(auth, sizeof(auth), "jde-AIS-Auth: %s", f->token);
    while (next_href(&r) != NULL && pages < 10) {
        snprintf(href, sizeof(href), "%s", next_href(&r));
        /* POST with an empty body first, then GET */
        call(f, pages % 2 == 1 ? "POST" : "GET", href, NULL, h, 0, &p);
        assert_int_equal(p.status, 200);
        total += (long)json_array_size(rowset(&p, "F4101"));
        resp_free(&r);
        r = p;
        pages++;
    }
    assert_int_equal(total, 253);
    assert_int_equal(pages, 3);
    assert_string_equal(jstr(json_array_get(rowset(&r, "F4101"), 52), "F4101_UPMJ"), "20261128");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rowset(&r, "F4101"), 52),
                                                        "F4101_TDAY")), 100000);
    resp_free(&r);
    /* without next processing: first page only, moreRecords still true */
    assert_int_equal(browse(f, "F4101", NULL, NULL, 0, false, &r), 100);
    assert_null(json_object_get(r.json, "links"));
    resp_free(&r);
    /* cap 2000 and "No Max" */
    assert_int_equal(browse(f, "F4101", NULL, NULL, 5000, false, &r), 253);
    resp_free(&r);
}

static void t_result_set_expiry(void **state)
{
    struct fx *f = *state;
    struct resp r, p;
    char href[2048];
    const char *h[] = { "jde-AIS-Auth-Device: " DEV, NULL };

    add_items(f, 20);
    assert_int_equal(browse(f, "F4101", NULL, NULL, 10, true, &r), 10);
    snprintf(href, sizeof(href), "%s", next_href(&r));
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 61));
    call(f, "POST", href, NULL, h, 0, &p);   /* token from the link */
    assert_int_equal(p.status, 500);
    assert_non_null(strstr(jstr(json_array_get(json_object_get(p.json, "sysErrors"), 0), "TITLE"),
                           "JAS_MSG347"));
    resp_free(&p);
    /* still valid within the timeout */
    assert_int_equal(browse(f, "F4101", NULL, NULL, 10, true, &r), 10);
    snprintf(href, sizeof(href), "%s", next_href(&r));
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/clock", json_pack("{s:i}", "advance_s", 59));
    call(f, "POST", href, NULL, h, 0, &p);
    assert_int_equal(p.status, 200);
    resp_free(&p);
}

/* ---- orchestrations ----------------------------------------------------------- */

static json_t *in(const char *n, const char *v)
{
    return json_pack("{s:s, s:s}", "name", n, "value", v);
}

static json_t *line(const char *acct, const char *amt, const char *rmk)
{
    return json_pack("{s:[o,o,o]}", "inputs", in("Account", acct), in("Amount", amt),
                     in("Remark", rmk));
}

/* A journal entry of n lines (accts[i], amts[i]). */
static void je(struct fx *f, int ver, const char *date, const char *ref, size_t n,
               const char *const *accts, const char *const *amts, struct resp *r)
{
    json_t *rows = json_array();
    char path[128];

    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, line(accts[i], amts[i], "test line"));
    snprintf(path, sizeof(path), "/jderest/v%d/orchestrator/MLC_AddJournalEntry", ver);
    ais(f, "POST", path,
        json_pack("{s:[o,o,o,o,o], s:[{s:s, s:o}]}", "inputs", in("Company", "1"),
                  in("GLDate", date), in("Explanation", "BigCommerce order 1001"),
                  in("Reference", ref), in("Currency", "USD"), "detailInputs", "name", "Lines",
                  "repeatingInputs", rows), r);
}

static const char *const ok_accts[] = { "100.4010", "1.2310", "1.1110.STRIPE" };
static const char *const ok_amts[] = { "-100.00", "-5.00", "105.00" };

static long gl_rows_by_ref(struct fx *f, const char *ref, struct resp *r)
{
    return browse(f, "F0911",
                  json_pack("{s:s, s:[o,o,o]}", "matchType", "MATCH_ALL", "condition",
                            cnd("F0911.VINV", "EQUAL", json_pack("[o]", lit(ref))),
                            cnd("F0911.DCT", "EQUAL", json_pack("[o]", lit("JE"))),
                            cnd("F0911.KCO", "EQUAL", json_pack("[o]", lit("00001")))),
                  "F0911.DOC|F0911.DCT|F0911.KCO|F0911.VINV|F0911.AA|F0911.DGJ|F0911.ICU", 0,
                  false, r);
}

static void t_je_success(void **state)
{
    struct fx *f = *state;
    struct resp r, q;
    json_t *rows;

    je(f, 3, "11/28/2026", "BC1001S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "jde__status"), "SUCCESS");
    assert_true(json_is_integer(json_object_get(r.json, "DocumentNumber")));
    assert_string_equal(jstr(r.json, "DocumentType"), "JE");
    assert_string_equal(jstr(r.json, "DocumentCompany"), "00001");
    assert_true(json_is_integer(json_object_get(r.json, "BatchNumber")));
    assert_int_equal(gl_rows_by_ref(f, "BC1001S", &q), 3);
    rows = rowset(&q, "F0911");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "F0911_DOC")),
                     json_integer_value(json_object_get(r.json, "DocumentNumber")));
    assert_string_equal(jstr(json_array_get(rows, 0), "F0911_DGJ"), "20261128");
    assert_non_null(strstr(q.body, "\"F0911_AA\":-100.00"));
    assert_non_null(strstr(q.body, "\"F0911_AA\":105.00"));
    resp_free(&q);
    resp_free(&r);
    /* v2: outputs are strings */
    je(f, 2, "11/28/2026", "BC1002S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_string(json_object_get(r.json, "DocumentNumber")));
    resp_free(&r);
}

static void t_je_unbalanced(void **state)
{
    struct fx *f = *state;
    static const char *const amts[] = { "-100.00", "-5.00", "105.01" };
    struct resp r;

    /* seed: balance errors answer HTTP 200 with jde__status ERROR */
    je(f, 3, "11/28/2026", "BC1003S", 3, ok_accts, amts, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "jde__status"), "ERROR");
    assert_non_null(strstr(jstr(r.json, "jde__simpleMessage"), "out of balance by 0.01"));
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/settings",
           json_pack("{s:{s:s}}", "error_style", "balance", "500"));
    je(f, 3, "11/28/2026", "BC1003S", 3, ok_accts, amts, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(jstr(r.json, "status"), "ERROR");
    assert_non_null(strstr(jstr(r.json, "message"), "out of balance"));
    assert_true(strlen(jstr(r.json, "timeStamp")) > 0);
    resp_free(&r);
    assert_int_equal(gl_rows_by_ref(f, "BC1003S", &r), 0);
    resp_free(&r);
}

static void t_je_bad_accounts(void **state)
{
    struct fx *f = *state;
    static const char *const unknown[] = { "100.4010", "1.2310", "1.1110.NOPE" };
    static const char *const header[] = { "100.4010", "1.2310", "1.1000" };
    static const char *const amounts[] = { "-100", "-5.00", "1,05.00" };
    struct resp r;

    je(f, 3, "11/28/2026", "BC1004S", 3, unknown, ok_amts, &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "1.1110.NOPE is invalid"));
    resp_free(&r);
    je(f, 3, "11/28/2026", "BC1004S", 3, header, ok_amts, &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "not postable"));
    resp_free(&r);
    je(f, 3, "11/28/2026", "BC1004S", 3, ok_accts, amounts, &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "1,05.00"));
    resp_free(&r);
    assert_int_equal(gl_rows_by_ref(f, "BC1004S", &r), 0);
    resp_free(&r);
}

static void t_je_dates_and_lengths(void **state)
{
    struct fx *f = *state;
    struct resp r;
    char eu[128];

    je(f, 3, "28/11/2026", "BC1005S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "MM/dd/yyyy"));
    resp_free(&r);
    je(f, 3, "11/28/2026", "BC-THIS-REFERENCE-IS-TOO-LONG", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "Reference"));
    resp_free(&r);
    /* the dd/MM/yyyy user posts the same date in its own format */
    login_as(f, "MLCEU", "mlceu-pass", DEV, eu, sizeof(eu));
    snprintf(f->token, sizeof(f->token), "%s", eu);
    je(f, 3, "28/11/2026", "BC1005S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void t_duplicate_reference(void **state)
{
    struct fx *f = *state;
    struct resp a, b, q;

    je(f, 3, "11/28/2026", "BC2000S", 3, ok_accts, ok_amts, &a);
    je(f, 3, "11/28/2026", "BC2000S", 3, ok_accts, ok_amts, &b);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_int_not_equal(json_integer_value(json_object_get(a.json, "DocumentNumber")),
                         json_integer_value(json_object_get(b.json, "DocumentNumber")));
    assert_int_equal(gl_rows_by_ref(f, "BC2000S", &q), 6);
    resp_free(&a);
    resp_free(&b);
    resp_free(&q);
}

static void voucher(struct fx *f, const char *gross, const char *a1, const char *a2,
                    struct resp *r)
{
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_AddVoucher",
        json_pack("{s:[o,o,o,o,o,o,o,o], s:[{s:s, s:[o,o]}]}", "inputs", in("Company", "00001"),
                  in("SupplierNumber", "5001"), in("InvoiceNumber", "BC3000S"),
                  in("InvoiceDate", "11/27/2026"), in("GLDate", "11/28/2026"),
                  in("GrossAmount", gross), in("Currency", "USD"), in("Remark", "order 3000"),
                  "detailInputs", "name", "GLDistribution", "repeatingInputs",
                  line("100.4010", a1, "revenue"), line("1.2310", a2, "tax")), r);
}

static void t_voucher(void **state)
{
    struct fx *f = *state;
    struct resp r;
    json_t *row;

    voucher(f, "105.00", "100.00", "5.01", &r);
    assert_int_equal(r.status, 200);   /* seed: balance errors as HTTP 200 */
    assert_string_equal(jstr(r.json, "jde__status"), "ERROR");
    assert_non_null(strstr(jstr(r.json, "jde__simpleMessage"),
                           "does not equal the gross amount 105.00"));
    resp_free(&r);
    voucher(f, "105.00", "100.00", "5.00", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "DocumentType"), "PV");
    resp_free(&r);
    browse(f, "F0411", json_pack("{s:[o,o]}", "condition",
                                 cnd("F0411.VINV", "EQUAL", json_pack("[o]", lit("BC3000S"))),
                                 cnd("F0411.KCO", "EQUAL", json_pack("[o]", lit("00001")))),
           "F0411.DOC|F0411.DCT|F0411.KCO|F0411.VINV|F0411.AN8|F0411.AG|F0411.DIVJ", 0, false, &r);
    assert_int_equal(json_array_size(rowset(&r, "F0411")), 1);
    row = json_array_get(rowset(&r, "F0411"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "F0411_AN8")), 5001);
    assert_string_equal(jstr(row, "F0411_DIVJ"), "20261127");
    assert_non_null(strstr(r.body, "\"F0411_AG\":105.00"));
    resp_free(&r);
}

static void t_customer(void **state)
{
    struct fx *f = *state;
    struct resp r;
    json_t *row;
    json_int_t an8;
    char an8s[16];

    ais(f, "POST", "/jderest/v3/orchestrator/MLC_AddCustomer",
        json_pack("{s:[o,o,o,o,o,o,o,o]}", "inputs", in("LongAddressNumber", "BC77"),
                  in("AlphaName", "Doe, Jane"), in("MailingName", "Jane Doe"),
                  in("SearchType", "C"), in("City", "Austin"), in("Email", "jane@example.com"),
                  in("Company", "1"), in("Currency", "USD")), &r);
    assert_int_equal(r.status, 200);
    an8 = json_integer_value(json_object_get(r.json, "AddressNumber"));
    assert_true(an8 >= 100000);
    resp_free(&r);
    browse(f, "F0101", json_pack("{s:[o]}", "condition",
                                 cnd("F0101.ALKY", "EQUAL", json_pack("[o]", lit("BC77")))),
           "F0101.AN8|F0101.ALKY|F0101.ALPH", 0, false, &r);
    row = json_array_get(rowset(&r, "F0101"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "F0101_AN8")), an8);
    assert_string_equal(jstr(row, "F0101_ALPH"), "Doe, Jane");
    resp_free(&r);
    snprintf(an8s, sizeof(an8s), "%lld", (long long)an8);
    browse(f, "F01151", json_pack("{s:[o]}", "condition",
                                  cnd("F01151.AN8", "EQUAL", json_pack("[o]", lit(an8s)))),
           NULL, 0, false, &r);
    assert_string_equal(jstr(json_array_get(rowset(&r, "F01151"), 0), "F01151_EMAL"),
                        "jane@example.com");
    resp_free(&r);
    /* duplicate key refused; too long alpha name refused */
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_AddCustomer",
        json_pack("{s:[o,o]}", "inputs", in("LongAddressNumber", "BC77"),
                  in("AlphaName", "Someone")), &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_AddCustomer",
        json_pack("{s:[o,o]}", "inputs", in("LongAddressNumber", "BC78"),
                  in("AlphaName", "A name that is much longer than forty characters")), &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "AlphaName"));
    resp_free(&r);
    /* update */
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_UpdateCustomer",
        json_pack("{s:[o,o]}", "inputs", in("AddressNumber", an8s), in("AlphaName", "Doe, J.")),
        &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    browse(f, "F0101", json_pack("{s:[o]}", "condition",
                                 cnd("F0101.AN8", "EQUAL", json_pack("[o]", lit(an8s)))),
           NULL, 0, false, &r);
    assert_string_equal(jstr(json_array_get(rowset(&r, "F0101"), 0), "F0101_ALPH"), "Doe, J.");
    resp_free(&r);
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_UpdateCustomer",
        json_pack("{s:[o]}", "inputs", in("AddressNumber", "99999999")), &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
}

static void t_commit_no_answer(void **state)
{
    struct fx *f = *state;
    struct resp r, t;
    char auth[256], *txt;
    const char *h[] = { "Content-Type: application/json", "jde-AIS-Auth-Device: " DEV, auth,
                        NULL };
    json_t *rows = json_array(), *b;

    ctl_ok(f, "POST", "/__sim/faults",
           json_pack("{s:{s:s, s:i, s:i}}", "hang", "orchestration", "MLC_AddJournalEntry",
                     "count", 1, "hang_s", 1));
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(rows, line(ok_accts[i], ok_amts[i], "x"));
    b = json_pack("{s:[o,o,o], s:[{s:s, s:o}]}", "inputs", in("Company", "1"),
                  in("GLDate", "11/28/2026"), in("Reference", "BC4000S"), "detailInputs",
                  "name", "Lines", "repeatingInputs", rows);
    txt = json_dumps(b, JSON_COMPACT);
    snprintf(auth, sizeof(auth), "jde-AIS-Auth: %s", f->token);
    call(f, "POST", "/jderest/v3/orchestrator/MLC_AddJournalEntry", txt, h, 10000, &r);
    assert_int_not_equal(r.cc, CURLE_OK);   /* no reply, connection dropped */
    assert_int_equal(r.len, 0);
    resp_free(&r);
    free(txt);
    json_decref(b);
    /* the write happened */
    assert_int_equal(gl_rows_by_ref(f, "BC4000S", &t), 3);
    resp_free(&t);
    /* the fault was for one call only */
    je(f, 3, "11/28/2026", "BC4001S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* Dates relative to the simulated clock keep seeds and tests from expiring:
 * the seed's windows resolve against the clock at start (2026-11-28 here),
 * and a control upsert resolves against the clock of the moment. */
static void t_relative_dates(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = { 0 };
    struct resp r = { 0 };
    int32_t j = 0;

    assert_int_equal(aissim_date_relative("today", 126332, &j, &e), MLC_OK);
    assert_int_equal(j, 126332);
    assert_int_equal(aissim_date_relative("today+3", 126332, &j, &e), MLC_OK);
    assert_int_equal(j, 126335);                      /* 2026-12-01 */
    assert_int_equal(aissim_date_relative("today-331", 126332, &j, &e), MLC_OK);
    assert_int_equal(j, 126001);                      /* 2026-01-01 */
    assert_int_equal(aissim_date_relative("today+34", 126332, &j, &e), MLC_OK);
    assert_int_equal(j, 127001);                      /* across the year */
    assert_int_equal(aissim_date_relative("20261201", 126332, &j, &e), MLC_ENOTFOUND);
    assert_int_equal(aissim_date_relative("today+", 126332, &j, &e), MLC_EINVAL);
    assert_int_equal(aissim_date_relative("today*2", 126332, &j, &e), MLC_EINVAL);
    assert_int_equal(aissim_date_relative("today+1x", 126332, &j, &e), MLC_EINVAL);
    assert_int_equal(aissim_date_relative("today+1", 0, &j, &e), MLC_EINVAL);

    /* The seed's price windows, resolved at start. */
    ctl(f, "GET", "/__sim/table/F4106", NULL, &r);
    assert_non_null(strstr(r.body, "\"F4106_EFTJ\":\"20261201\""));  /* SKU-1003: today+3 */
    assert_non_null(strstr(r.body, "\"F4106_EXDJ\":\"20261231\""));  /* SKU-1001: today+33 */
    resp_free(&r);
    /* An upsert keyed on a relative EFTJ finds the seeded row (no new row). */
    ctl_ok(f, "POST", "/__sim/table/F4106",
           json_pack("{s:[{s:i, s:s, s:s, s:s, s:s, s:s}]}", "rows", "ITM", 60002, "MCU", "",
                     "CRCD", "USD", "UOM", "EA", "EFTJ", "today-331", "UPRC", "6.5000"));
    ctl(f, "GET", "/__sim/table/F4106", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 4);
    assert_non_null(strstr(r.body, "\"F4106_UPRC\":6.5000"));
    resp_free(&r);
    /* A bad relative date is refused with the column named. */
    {
        const char *h[] = { "Content-Type: application/json", NULL };

        call(f, "POST", "/__sim/table/F4106",
             "{\"rows\":[{\"ITM\":60002,\"MCU\":\"\",\"CRCD\":\"USD\",\"UOM\":\"EA\","
             "\"EFTJ\":\"today+soon\",\"UPRC\":\"1.0000\"}]}", h, 0, &r);
    }
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "EFTJ"));
    resp_free(&r);
}

static void t_control(void **state)
{
    struct fx *f = *state;
    struct resp r;

    /* forced closed-period failure for a GL date range */
    ctl_ok(f, "POST", "/__sim/faults",
           json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "orch_fail", "orchestration",
                     "MLC_AddJournalEntry", "from", "20261101", "to", "20261130", "message",
                     "Period is closed for 11/2026"));
    je(f, 3, "11/28/2026", "BC5000S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(jstr(r.json, "message"), "Period is closed for 11/2026");
    resp_free(&r);
    je(f, 3, "12/01/2026", "BC5000S", 3, ok_accts, ok_amts, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* 5xx for the next call */
    ctl_ok(f, "POST", "/__sim/faults", json_pack("{s:i, s:[]}", "fail_next", 1, "orch_fail"));
    ais(f, "POST", "/jderest/v2/tokenrequest/validate", json_pack("{s:s}", "token", f->token),
        &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
    validate(f, false, 200);
    /* counters and table read */
    ctl(f, "GET", "/__sim/counters", NULL, &r);
    assert_true(json_integer_value(json_object_get(r.json, "POST /jderest/v2/tokenrequest")) >= 1);
    assert_true(json_integer_value(json_object_get(
        r.json, "POST /jderest/v3/orchestrator/MLC_AddJournalEntry")) == 2);
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/counters/reset", NULL);
    ctl(f, "GET", "/__sim/counters", NULL, &r);
    assert_int_equal(json_object_size(r.json), 0);
    resp_free(&r);
    ctl(f, "GET", "/__sim/table/F0911", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 3);
    resp_free(&r);
    /* change a price: UPMJ/TDAY from the clock */
    ctl_ok(f, "POST", "/__sim/table/F4106",
           json_pack("{s:[{s:i, s:s, s:s, s:s, s:s, s:s}]}", "rows", "ITM", 60002, "MCU", "",
                     "CRCD", "USD", "UOM", "EA", "EFTJ", "20260101", "UPRC", "6.0000"));
    assert_int_equal(count1(f, "F4106", cnd("F4106.UPMJ", "EQUAL",
                                            json_pack("[o]", spec("TODAY", "")))), 1);
    ctl(f, "GET", "/__sim/table/F4106", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 4);
    assert_non_null(strstr(r.body, "\"F4106_UPRC\":6.0000"));
    resp_free(&r);
}

static void t_stateless_and_misc(void **state)
{
    struct fx *f = *state;
    struct resp r;
    /* MLCINT:mlcint-pass */
    const char *basic[] = { "Content-Type: application/json",
                            "Authorization: Basic TUxDSU5UOm1sY2ludC1wYXNz", NULL };
    const char *badpw[] = { "Content-Type: application/json",
                            "Authorization: Basic TUxDSU5UOm5vcGU=", NULL };
    static const char body[] =
        "{\"inputs\":[{\"name\":\"Company\",\"value\":\"1\"},{\"name\":\"GLDate\",\"value\":"
        "\"11/28/2026\"},{\"name\":\"Reference\",\"value\":\"BC6000S\"}],\"detailInputs\":[{"
        "\"name\":\"Lines\",\"repeatingInputs\":[{\"inputs\":[{\"name\":\"Account\",\"value\":"
        "\"100.4010\"},{\"name\":\"Amount\",\"value\":\"-1.00\"}]},{\"inputs\":[{\"name\":"
        "\"Account\",\"value\":\"1.1110\"},{\"name\":\"Amount\",\"value\":\"1.00\"}]}]}]}";
    json_t *rows;

    /* v3 with Basic: a temporary session, no token left behind */
    call(f, "POST", "/jderest/v3/orchestrator/MLC_AddJournalEntry", body, basic, 0, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    call(f, "POST", "/jderest/v3/orchestrator/MLC_AddJournalEntry", body, badpw, 0, &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
    call(f, "POST", "/jderest/v2/tokenrequest/validate", "{}", basic, 0, &r);
    assert_int_equal(r.status, 444);
    resp_free(&r);
    /* LOGIN_USER and orderBy DESC on the rows just written */
    ais(f, "POST", "/jderest/v2/dataservice",
        json_pack("{s:s, s:s, s:s, s:{s:[o]}, s:{s:[{s:s, s:s}]}}", "targetName", "F0911",
                  "targetType", "table", "returnControlIDs", "F0911.JELN|F0911.USER", "query",
                  "condition", cnd("F0911.USER", "EQUAL",
                                   json_pack("[o]", spec("LOGIN_USER", ""))),
                  "aggregation", "orderBy", "column", "F0911.JELN", "direction", "DESC"), &r);
    assert_int_equal(r.status, 200);
    rows = rowset(&r, "F0911");
    assert_int_equal(json_array_size(rows), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "F0911_JELN")), 2);
    resp_free(&r);
    /* v1 dataservice: no next links */
    add_items(f, 120);
    ais(f, "POST", "/jderest/dataservice",
        json_pack("{s:s, s:s, s:b}", "targetName", "F4101", "targetType", "table",
                  "enableNextPageProcessing", 1), &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(rowset(&r, "F4101")), 100);
    assert_null(json_object_get(r.json, "links"));
    resp_free(&r);
    /* strict inputs, wrong method, unknown path, unknown table */
    ais(f, "POST", "/jderest/v3/orchestrator/MLC_AddCustomer",
        json_pack("{s:[o,o]}", "inputs", in("AlphaName", "X"), in("Nickname", "Y")), &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(jstr(r.json, "message"), "Nickname"));
    resp_free(&r);
    ais(f, "GET", "/jderest/v2/tokenrequest", NULL, &r);
    assert_int_equal(r.status, 405);
    resp_free(&r);
    ais(f, "GET", "/jderest/v2/nothing", NULL, &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    ais(f, "POST", "/jderest/v2/dataservice",
        json_pack("{s:s, s:s}", "targetName", "F9999", "targetType", "table"), &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
    /* a next link of a finished result set has expired */
    assert_int_equal(browse(f, "F4101", NULL, NULL, 100, true, &r), 100);
    {
        char href[2048];
        struct resp p;
        const char *h[] = { "jde-AIS-Auth-Device: " DEV, NULL };

        snprintf(href, sizeof(href), "%s", next_href(&r));
        call(f, "GET", href, NULL, h, 0, &p);
        assert_int_equal(p.status, 200);
        assert_int_equal(json_array_size(rowset(&p, "F4101")), 23);
        resp_free(&p);
        call(f, "GET", href, NULL, h, 0, &p);
        assert_int_equal(p.status, 500);
        resp_free(&p);
    }
    resp_free(&r);
}

#define N_THREADS 4
#define N_ROUNDS 15

struct worker {
    struct fx *f;
    int        id;
    int        ok;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct fx local = *w->f;
    char ref[32];

    for (int i = 0; i < N_ROUNDS; i++) {
        struct resp r;

        snprintf(ref, sizeof(ref), "BCT%d-%dS", w->id, i);
        je(&local, 3, "11/28/2026", ref, 3, ok_accts, ok_amts, &r);
        w->ok += r.status == 200;
        resp_free(&r);
        if (gl_rows_by_ref(&local, ref, &r) == 3)
            w->ok++;
        resp_free(&r);
    }
    return NULL;
}

static void t_concurrent(void **state)
{
    struct fx *f = *state;
    struct worker w[N_THREADS];
    pthread_t th[N_THREADS];
    struct resp r;

    ctl_ok(f, "POST", "/__sim/faults", json_pack("{s:i}", "latency_ms", 1));
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){ f, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 2 * N_ROUNDS);
    }
    ctl(f, "GET", "/__sim/table/F0911", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 3 * N_THREADS * N_ROUNDS);
    resp_free(&r);
}

/* ---- orchestration latency and the in-flight gauge ------------------------- */

struct slow_je {
    struct fx fx;
    long      status;
    int64_t   elapsed_ms;
    volatile int done;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *slow_je_run(void *arg)
{
    struct slow_je *j = arg;
    struct resp r;
    int64_t t0 = mono_ms();

    je(&j->fx, 3, "11/28/2026", "BCSLOW1S", 3, ok_accts, ok_amts, &r);
    j->elapsed_ms = mono_ms() - t0;
    j->status = r.status;
    resp_free(&r);
    j->done = 1;
    return NULL;
}

static json_int_t load_of(struct fx *f, const char *member)
{
    struct resp r;
    json_int_t v;

    ctl(f, "GET", "/__sim/load", NULL, &r);
    v = json_integer_value(json_object_get(r.json, member));
    resp_free(&r);
    return v;
}

/* orch_latency_ms slows orchestrations only; /__sim/load counts the
 * /jderest/ calls in flight and their peak since the counters' reset. */
static void t_orch_latency_and_load(void **state)
{
    struct fx *f = *state;
    struct slow_je j = { .fx = *f };
    struct timespec pause = { 0, 5 * 1000000L };
    pthread_t th;
    struct resp r;
    bool seen = false;

    ctl(f, "POST", "/__sim/faults", json_pack("{s:i}", "orch_latency_ms", 1500), &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "orch_latency_ms")), 1500);
    assert_int_equal(json_integer_value(json_object_get(r.json, "latency_ms")), 0);
    resp_free(&r);
    ctl_ok(f, "POST", "/__sim/counters/reset", NULL);
    assert_int_equal(load_of(f, "inflight"), 0);
    assert_int_equal(load_of(f, "peak"), 0);

    assert_int_equal(pthread_create(&th, NULL, slow_je_run, &j), 0);
    while (!j.done && !(seen = load_of(f, "inflight") == 1))
        nanosleep(&pause, NULL);
    assert_true(seen);
    /* A data service call passes the waiting orchestration. */
    assert_int_equal(browse(f, "F0010", NULL, NULL, 0, false, &r), 2);
    resp_free(&r);
    assert_int_equal(load_of(f, "inflight"), 1);
    assert_int_equal(load_of(f, "peak"), 2);
    pthread_join(th, NULL);
    assert_int_equal(j.status, 200);
    assert_true(j.elapsed_ms >= 1500);
    assert_int_equal(load_of(f, "inflight"), 0);
    assert_int_equal(load_of(f, "peak"), 2);
    ctl_ok(f, "POST", "/__sim/counters/reset", NULL);
    assert_int_equal(load_of(f, "peak"), 0);

    call(f, "POST", "/__sim/faults", "{\"orch_latency_ms\": -1}",
         (const char *const[]){ "Content-Type: application/json", NULL }, 0, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_defaultconfig, setup, teardown),
        cmocka_unit_test_setup_teardown(t_login_shape_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(t_validate_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(t_device_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(t_inactivity_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(t_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(t_discover, setup, teardown),
        cmocka_unit_test_setup_teardown(t_browse_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(t_browse_watermark, setup, teardown),
        cmocka_unit_test_setup_teardown(t_browse_today, setup, teardown),
        cmocka_unit_test_setup_teardown(t_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(t_result_set_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(t_je_success, setup, teardown),
        cmocka_unit_test_setup_teardown(t_je_unbalanced, setup, teardown),
        cmocka_unit_test_setup_teardown(t_je_bad_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(t_je_dates_and_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(t_duplicate_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(t_voucher, setup, teardown),
        cmocka_unit_test_setup_teardown(t_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(t_commit_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(t_relative_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(t_control, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stateless_and_misc, setup, teardown),
        cmocka_unit_test_setup_teardown(t_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(t_orch_latency_and_load, setup, teardown),
    };
    int rc;

    log_set_level(LOG_LVL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("aissim", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
