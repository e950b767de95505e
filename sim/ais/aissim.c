/*
 * aissim: lifecycle, settings, faults, simulated clock, replies and the
 * routing under /jderest/ of the AIS simulator (the /__sim/ control API is
 * in aissim_ctl.c).
 */
#include "aissim.h"
#include "aissim_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/jdate.h"
#include "core/log.h"

#define AISSIM_MAX_BODY (4u * 1024u * 1024u)
#define AISSIM_HANG_MAX_S 600
#define AISSIM_LATENCY_MAX_MS 60000
#define AISSIM_MAX_COUNTERS 1000
/* Marks a string made by aissim_json_dec; never produced by JDE data. */
#define DEC_MARK "\x01"
#define DEC_MARK_JSON "\"\\u0001"

/* ---- clock ------------------------------------------------------------- */

int64_t aissim_now(const struct aissim *s)
{
    return s->clock_frozen ? s->clock_frozen_at : jdate_now_unix() + s->clock_offset;
}

void aissim_stamp(const struct aissim *s, int32_t *julian, int32_t *hhmmss)
{
    struct jdate_stamp st = { 0, 0 };

    jdate_stamp_from_unix(aissim_now(s), s->set.server_offset_min, &st, NULL);
    *julian = st.julian;
    *hhmmss = st.hhmmss;
}

void aissim_timestamp(const struct aissim *s, char *buf, size_t cap)
{
    struct jdate_civil d = { 0, 0, 0 };
    int32_t t = 0;
    int h = 0, m = 0, sec = 0;

    jdate_unix_to_civil(aissim_now(s), s->set.server_offset_min, &d, &t, NULL);
    jdate_hhmmss_split(t, &h, &m, &sec, NULL);
    snprintf(buf, cap, "%04d-%02d-%02d:%02d.%02d.%02d", d.year, d.month, d.day,
             h, m, sec);
}

int aissim_clock_set(struct aissim *s, const json_t *o, struct mlc_err *e)
{
    json_t *now = json_object_get(o, "now"), *adv = json_object_get(o, "advance_s");
    json_t *fr = json_object_get(o, "frozen");
    int64_t cur = aissim_now(s), t;

    if (now != NULL) {
        if (!json_is_string(now) ||
            jdate_iso8601_parse(json_string_value(now), &t, e) != MLC_OK)
            return mlc_err_set(e, MLC_EINVAL, "clock: now must be ISO 8601 with a zone");
        cur = t;
    }
    if (adv != NULL) {
        if (!json_is_integer(adv))
            return mlc_err_set(e, MLC_EINVAL, "clock: advance_s must be an integer");
        cur += json_integer_value(adv);
    }
    if (fr != NULL && !json_is_boolean(fr))
        return mlc_err_set(e, MLC_EINVAL, "clock: frozen must be a boolean");
    if (fr != NULL)
        s->clock_frozen = json_is_true(fr);
    if (s->clock_frozen)
        s->clock_frozen_at = cur;
    else
        s->clock_offset = cur - jdate_now_unix();
    return MLC_OK;
}

json_t *aissim_clock_json(const struct aissim *s)
{
    char iso[JDATE_ISO8601_SIZE] = "", ymd[JDATE_YYYYMMDD_SIZE] = "";
    struct jdate_civil d = { 0, 0, 0 };
    int32_t jul, hms;

    jdate_iso8601_format(aissim_now(s), iso, sizeof(iso), NULL);
    aissim_stamp(s, &jul, &hms);
    jdate_julian_to_civil(jul, &d, NULL);
    jdate_yyyymmdd_format(&d, ymd, sizeof(ymd), NULL);
    return json_pack("{s:s, s:b, s:s, s:i, s:i, s:i}", "now", iso, "frozen",
                     s->clock_frozen, "jde_date", ymd, "jde_julian", (int)jul,
                     "jde_time", (int)hms, "server_utc_offset_min",
                     s->set.server_offset_min);
}

/* ---- JSON output --------------------------------------------------------- */

json_t *aissim_json_dec(const char *dec)
{
    char buf[64];

    snprintf(buf, sizeof(buf), DEC_MARK "%s", dec);
    return json_string(buf);
}

static bool is_decimal(const char *p, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && p[i] == '-')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        digits++;
    if (i < n && p[i] == '.') {
        i++;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
    }
    return digits > 0 && i == n;
}

char *aissim_dump(const json_t *v, size_t *len)
{
    char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t ml = strlen(DEC_MARK_JSON);
    char *r, *w;

    if (txt == NULL)
        return NULL;
    /* Marked strings become bare numbers: "\u0001-105.00" -> -105.00. */
    for (r = w = txt; *r != '\0';) {
        if (strncmp(r, DEC_MARK_JSON, ml) == 0) {
            const char *q = strchr(r + ml, '"');

            if (q != NULL && is_decimal(r + ml, (size_t)(q - r - ml))) {
                size_t n = (size_t)(q - r - ml);

                memmove(w, r + ml, n);
                w += n;
                r = (char *)q + 1;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    if (len != NULL)
        *len = (size_t)(w - txt);
    return txt;
}

/* ---- replies --------------------------------------------------------------- */

void aissim_reply(struct httpd_response *rs, int status, json_t *body)
{
    size_t len = 0;
    char *txt = body != NULL ? aissim_dump(body, &len) : NULL;

    json_decref(body);
    if (txt == NULL) {
        httpd_resp_static(rs, 500, "application/json",
                          "{\"message\":\"simulator out of memory\",\"status\":\"ERROR\"}");
        return;
    }
    httpd_resp_take(rs, status, "application/json", txt, len);
}

void aissim_reply_error(const struct aissim *s, struct httpd_response *rs,
                        int status, const char *message, const char *exception)
{
    char ts[40];

    aissim_timestamp(s, ts, sizeof(ts));
    aissim_reply(rs, status,
                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "message", message,
                           "exception", exception, "timeStamp", ts, "status", "ERROR",
                           "type", "", "userDefinedErrorText", "", "errorText", message));
}

void aissim_reply_bad_token(const struct aissim *s, struct httpd_response *rs)
{
    aissim_reply_error(s, rs, s->set.invalid_token_status, "Invalid Token",
                       "java.lang.Exception");
}

json_t *aissim_body_json(const struct aissim *s, const struct httpd_request *rq,
                         struct httpd_response *rs)
{
    size_t len;
    const char *b = httpd_req_body(rq, &len);
    json_error_t je;
    json_t *v;

    if (len == 0)
        return json_object();
    v = json_loadb(b, len, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL || !json_is_object(v)) {
        json_decref(v);
        aissim_reply_error(s, rs, 400, "Invalid JSON input", "java.lang.Exception");
        return NULL;
    }
    return v;
}

void aissim_random_hex(char *hex, size_t n)
{
    unsigned char b[64];

    if (n > sizeof(b))
        n = sizeof(b);
    randombytes_buf(b, n);
    sodium_bin2hex(hex, 2 * n + 1, b, n);
}

/* ---- counters ------------------------------------------------------------- */

static void count(struct aissim *s, const char *key)
{
    for (size_t i = 0; i < s->n_counters; i++) {
        if (strcmp(s->counters[i].key, key) == 0) {
            s->counters[i].n++;
            return;
        }
    }
    if (s->n_counters >= AISSIM_MAX_COUNTERS)
        return; /* random paths must not grow the table without bound */
    if (s->n_counters == s->cap_counters) {
        size_t ncap = s->cap_counters == 0 ? 32 : s->cap_counters * 2;
        struct aissim_counter *nc = realloc(s->counters, ncap * sizeof(*nc));

        if (nc == NULL)
            return;
        s->counters = nc;
        s->cap_counters = ncap;
    }
    s->counters[s->n_counters].key = strdup(key);
    if (s->counters[s->n_counters].key == NULL)
        return;
    s->counters[s->n_counters++].n = 1;
}

void aissim_counters_clear(struct aissim *s)
{
    for (size_t i = 0; i < s->n_counters; i++)
        free(s->counters[i].key);
    s->n_counters = 0;
    s->inflight_peak = s->inflight;
}

json_t *aissim_load_json(const struct aissim *s)
{
    return json_pack("{s:I, s:I}", "inflight", (json_int_t)s->inflight, "peak",
                     (json_int_t)s->inflight_peak);
}

/* ---- settings and faults ----------------------------------------------------- */

static int set_i64(const json_t *o, const char *k, int64_t lo, int64_t hi,
                   int64_t *out, struct mlc_err *e)
{
    json_t *v = json_object_get(o, k);

    if (v == NULL)
        return MLC_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return mlc_err_set(e, MLC_EINVAL, "%s: expected an integer in %lld..%lld", k,
                           (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return MLC_OK;
}

static int set_int(const json_t *o, const char *k, int lo, int hi, int *out,
                   struct mlc_err *e)
{
    int64_t v = *out;
    int rc = set_i64(o, k, lo, hi, &v, e);

    *out = (int)v;
    return rc;
}

static int set_bool(const json_t *o, const char *k, bool *out, struct mlc_err *e)
{
    json_t *v = json_object_get(o, k);

    if (v == NULL)
        return MLC_OK;
    if (!json_is_boolean(v))
        return mlc_err_set(e, MLC_EINVAL, "%s: expected a boolean", k);
    *out = json_is_true(v);
    return MLC_OK;
}

static int set_text(const json_t *o, const char *k, char *out, size_t cap,
                    struct mlc_err *e)
{
    json_t *v = json_object_get(o, k);

    if (v == NULL)
        return MLC_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return mlc_err_set(e, MLC_EINVAL, "%s: expected a string of 1..%zu chars", k,
                           cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return MLC_OK;
}

static const char *const orch_keys[AISSIM_ORCH_COUNT] = {
    "journal_entry", "voucher", "add_customer", "update_customer"
};

int aissim_settings_apply(struct aissim *s, const json_t *o, struct mlc_err *e)
{
    struct aissim_settings *st = &s->set;
    json_t *orch = json_object_get(o, "orchestrations");
    json_t *es = json_object_get(o, "error_style");
    int rc = MLC_OK;

    if (!json_is_object(o))
        return mlc_err_set(e, MLC_EINVAL, "settings must be an object");
    if ((rc = set_i64(o, "session_timeout_s", 1, INT64_C(1) << 40, &st->session_timeout_s, e)) ||
        (rc = set_i64(o, "time_to_live_s", 1, INT64_C(1) << 40, &st->time_to_live_s, e)) ||
        (rc = set_i64(o, "result_set_timeout_s", 1, INT64_C(1) << 40,
                      &st->result_set_timeout_s, e)) ||
        (rc = set_int(o, "invalid_token_status", 400, 499, &st->invalid_token_status, e)) ||
        (rc = set_int(o, "page_default", 1, 100000, &st->page_default, e)) ||
        (rc = set_int(o, "page_cap", 1, 100000, &st->page_cap, e)) ||
        (rc = set_int(o, "server_utc_offset_min", -JDATE_OFFSET_MAX_MIN,
                      JDATE_OFFSET_MAX_MIN, &st->server_offset_min, e)) ||
        (rc = set_int(o, "threads", 0, 64, &st->threads, e)) ||
        (rc = set_bool(o, "strict_inputs", &st->strict_inputs, e)) ||
        (rc = set_bool(o, "unique_alky", &st->unique_alky, e)) ||
        (rc = set_text(o, "environment", st->environment, sizeof(st->environment), e)) ||
        (rc = set_text(o, "role", st->role, sizeof(st->role), e)) ||
        (rc = set_text(o, "jas_server", st->jas_server, sizeof(st->jas_server), e)) ||
        (rc = set_text(o, "aisVersion", st->aisversion, sizeof(st->aisversion), e)) ||
        (rc = set_text(o, "validate_mode", st->validate_mode, sizeof(st->validate_mode), e)))
        return rc;
    if (strcmp(st->validate_mode, "honour") != 0 && strcmp(st->validate_mode, "none") != 0 &&
        strcmp(st->validate_mode, "ignore") != 0)
        return mlc_err_set(e, MLC_EINVAL, "validate_mode: expected honour, none or ignore");
    if (orch != NULL) {
        if (!json_is_object(orch))
            return mlc_err_set(e, MLC_EINVAL, "orchestrations must be an object");
        for (int i = 0; i < AISSIM_ORCH_COUNT; i++) {
            rc = set_text(orch, orch_keys[i], st->orch_name[i], sizeof(st->orch_name[i]), e);
            if (rc != MLC_OK)
                return rc;
        }
    }
    if (es != NULL) {
        const char *k;
        json_t *v;

        if (!json_is_object(es))
            return mlc_err_set(e, MLC_EINVAL, "error_style must be an object");
        json_object_foreach(es, k, v) {
            const char *x = json_string_value(v);

            if (x == NULL || (strcmp(x, "500") != 0 && strcmp(x, "200") != 0))
                return mlc_err_set(e, MLC_EINVAL, "error_style.%s: \"500\" or \"200\"", k);
        }
        json_object_update(st->error_style, es);
    }
    return MLC_OK;
}

json_t *aissim_settings_json(const struct aissim *s)
{
    const struct aissim_settings *st = &s->set;
    json_t *o = json_pack("{s:I, s:I, s:I, s:i, s:i, s:i, s:i, s:i, s:b, s:b, s:s, s:s, "
                          "s:s, s:s, s:O, s:s}",
                          "session_timeout_s", (json_int_t)st->session_timeout_s,
                          "time_to_live_s", (json_int_t)st->time_to_live_s,
                          "result_set_timeout_s", (json_int_t)st->result_set_timeout_s,
                          "invalid_token_status", st->invalid_token_status,
                          "page_default", st->page_default, "page_cap", st->page_cap,
                          "server_utc_offset_min", st->server_offset_min,
                          "threads", st->threads, "strict_inputs", st->strict_inputs,
                          "unique_alky", st->unique_alky, "environment", st->environment,
                          "role", st->role, "jas_server", st->jas_server,
                          "aisVersion", st->aisversion, "error_style", st->error_style,
                          "validate_mode", st->validate_mode);
    json_t *orch = json_object();

    for (int i = 0; i < AISSIM_ORCH_COUNT; i++)
        json_object_set_new(orch, orch_keys[i], json_string(st->orch_name[i]));
    json_object_set_new(o, "orchestrations", orch);
    return o;
}

/* Sets *slot from a rule {"orchestration": NAME|"*", "count": N, secs: S}
 * (and, for the hang, an optional gateway "status" 502/503/504); null
 * clears it. */
static int fault_rule(json_t **slot, json_t *rule, const char *what, const char *secs,
                      bool status_ok, struct mlc_err *e)
{
    json_t *sv = json_object_get(rule, secs), *st = json_object_get(rule, "status");
    json_int_t code = json_integer_value(st);

    if (json_is_null(rule)) {
        json_decref(*slot);
        *slot = NULL;
        return MLC_OK;
    }
    if (!json_is_object(rule) || !json_is_string(json_object_get(rule, "orchestration")) ||
        !json_is_integer(json_object_get(rule, "count")) ||
        (sv != NULL && (!json_is_integer(sv) || json_integer_value(sv) < 0 ||
                        json_integer_value(sv) > AISSIM_HANG_MAX_S)) ||
        (st != NULL && (!status_ok || !json_is_integer(st) ||
                        (code != 502 && code != 503 && code != 504))))
        return mlc_err_set(e, MLC_EINVAL, "%s: {\"orchestration\":NAME|\"*\", \"count\":N, "
                           "\"%s\":0..%d%s}", what, secs, AISSIM_HANG_MAX_S,
                           status_ok ? ", \"status\":502|503|504" : "");
    json_decref(*slot);
    *slot = json_deep_copy(rule);
    return MLC_OK;
}

int aissim_faults_apply(struct aissim *s, const json_t *o, struct mlc_err *e)
{
    struct aissim_faults *f = &s->faults;
    json_t *hang = json_object_get(o, "hang"), *of = json_object_get(o, "orch_fail");
    json_t *dc = json_object_get(o, "delay_commit");
    int rc;

    if (!json_is_object(o))
        return mlc_err_set(e, MLC_EINVAL, "faults must be an object");
    if ((rc = set_i64(o, "latency_ms", 0, AISSIM_LATENCY_MAX_MS, &f->latency_ms, e)) ||
        (rc = set_i64(o, "orch_latency_ms", 0, AISSIM_LATENCY_MAX_MS, &f->orch_latency_ms, e)) ||
        (rc = set_int(o, "error_pct", 0, 100, &f->error_pct, e)) ||
        (rc = set_i64(o, "fail_next", 0, INT64_C(1) << 40, &f->fail_next, e)))
        return rc;
    if (hang != NULL && (rc = fault_rule(&f->hang, hang, "hang", "hang_s", true, e)) != MLC_OK)
        return rc;
    if (dc != NULL &&
        (rc = fault_rule(&f->delay_commit, dc, "delay_commit", "delay_s", false, e)) != MLC_OK)
        return rc;
    if (of != NULL) {
        if (!json_is_array(of))
            return mlc_err_set(e, MLC_EINVAL, "orch_fail must be an array");
        json_decref(f->orch_fail);
        f->orch_fail = json_deep_copy(of);
    }
    return MLC_OK;
}

json_t *aissim_faults_json(const struct aissim *s)
{
    const struct aissim_faults *f = &s->faults;

    return json_pack("{s:I, s:I, s:i, s:I, s:O?, s:O?, s:O?}", "latency_ms",
                     (json_int_t)f->latency_ms, "orch_latency_ms", (json_int_t)f->orch_latency_ms,
                     "error_pct", f->error_pct, "fail_next",
                     (json_int_t)f->fail_next, "hang", f->hang, "delay_commit",
                     f->delay_commit, "orch_fail", f->orch_fail);
}

static bool draw_pct(struct aissim *s, int pct)
{
    uint64_t x = s->rng;

    if (pct <= 0)
        return false;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return (int)(x % 100) < pct;
}

/* ---- /jderest/ routing -------------------------------------------------------- */

static bool header_has(const char *h, const char *what)
{
    return h != NULL && strcasestr(h, what) != NULL;
}

/* 415 / 406 checks of the fact sheet; true when a reply was sent. */
static bool check_media(struct aissim *s, const struct httpd_request *rq,
                        struct httpd_response *rs)
{
    const char *ct = httpd_req_header(rq, "Content-Type");
    const char *ac = httpd_req_header(rq, "Accept");
    size_t len;

    httpd_req_body(rq, &len);
    if (strcmp(httpd_req_method(rq), "POST") == 0 &&
        len > 0 && (ct == NULL || !header_has(ct, "application/json"))) {
        /* An empty body (next links) has no media type to get wrong. */
        aissim_reply_error(s, rs, 415, "Unsupported Media Type", "javax.ws.rs.NotSupportedException");
        return true;
    }
    if (ac != NULL && !header_has(ac, "application/json") && !header_has(ac, "*/*") &&
        !header_has(ac, "application/*")) {
        aissim_reply_error(s, rs, 406, "Not Acceptable", "javax.ws.rs.NotAcceptableException");
        return true;
    }
    return false;
}

static bool is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static bool method_ok(struct aissim *s, struct httpd_response *rs, const char *m,
                      const char *a, const char *b)
{
    if (is(m, a) || (b != NULL && is(m, b)))
        return true;
    aissim_reply_error(s, rs, 405, "Method Not Allowed", "javax.ws.rs.NotAllowedException");
    return false;
}

/* Name after prefix when path is prefix + one non-empty segment. */
static const char *tail(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
        return NULL;
    return path + n;
}

static void route_jderest(struct aissim *s, const struct httpd_request *rq,
                          struct httpd_response *rs, const char *p, const char *m,
                          struct aissim_after *after)
{
    char key[200];
    const char *name;
    int ver = 0;

    snprintf(key, sizeof(key), "%s /jderest%s", m, p);
    if ((name = tail(p, "/v3/orchestrator/")) != NULL)
        ver = 3;
    else if ((name = tail(p, "/v2/orchestrator/")) != NULL)
        ver = 2;
    else if ((name = tail(p, "/orchestrator/")) != NULL)
        ver = 1;
    else if ((name = tail(p, "/discover/")) != NULL)
        snprintf(key, sizeof(key), "%s /jderest/discover/{name}", m);
    count(s, key);
    if (s->faults.fail_next > 0 || draw_pct(s, s->faults.error_pct)) {
        if (s->faults.fail_next > 0)
            s->faults.fail_next--;
        aissim_reply_error(s, rs, 500, "Simulated server failure", "java.lang.RuntimeException");
        return;
    }
    if (check_media(s, rq, rs))
        return;
    if (ver > 0) {
        if (method_ok(s, rs, m, "POST", NULL))
            aissim_ep_orchestrate(s, rq, rs, name, ver, after);
    } else if (name != NULL) {
        if (method_ok(s, rs, m, "GET", NULL))
            aissim_ep_discover(s, rq, rs, name);
    } else if (is(p, "/defaultconfig") || is(p, "/v2/defaultconfig")) {
        if (method_ok(s, rs, m, "GET", "POST"))
            aissim_ep_defaultconfig(s, rq, rs);
    } else if (is(p, "/tokenrequest") || is(p, "/v2/tokenrequest")) {
        if (method_ok(s, rs, m, "POST", NULL))
            aissim_ep_tokenrequest(s, rq, rs);
    } else if (is(p, "/tokenrequest/validate") || is(p, "/v2/tokenrequest/validate")) {
        if (method_ok(s, rs, m, "POST", NULL))
            aissim_ep_validate(s, rq, rs);
    } else if (is(p, "/tokenrequest/logout") || is(p, "/v2/tokenrequest/logout")) {
        if (method_ok(s, rs, m, "POST", NULL))
            aissim_ep_logout(s, rq, rs);
    } else if (is(p, "/discover")) {
        if (method_ok(s, rs, m, "GET", NULL))
            aissim_ep_discover(s, rq, rs, NULL);
    } else if (is(p, "/dataservice") || is(p, "/v2/dataservice")) {
        if (method_ok(s, rs, m, "POST", NULL))
            aissim_ep_dataservice(s, rq, rs, p[1] == 'v');
    } else if (is(p, "/v2/dataservice/next")) {
        if (method_ok(s, rs, m, "POST", "GET"))
            aissim_ep_next(s, rq, rs);
    } else {
        aissim_reply_error(s, rs, 404, "Not Found", "javax.ws.rs.NotFoundException");
    }
}

/* Waits up to ms on the simulated server's condition variable, returning
 * early when the simulator stops. Called without the lock held. */
static void wait_ms(struct aissim *s, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->mu);
}

/* The orchestration a /jderest path names (NULL for other paths). */
static const char *orch_of(const char *p)
{
    const char *n = tail(p, "/v3/orchestrator/");

    if (n == NULL)
        n = tail(p, "/v2/orchestrator/");
    if (n == NULL)
        n = tail(p, "/orchestrator/");
    return n;
}

/* A gateway's answer in place of the committed reply (the hang fault's
 * "status"): what a proxy in front of AIS says when it gave up waiting. */
static void gateway_reply(struct httpd_response *rs, int status)
{
    const char *m = status == 502 ? "Bad Gateway"
                  : status == 503 ? "Service Unavailable" : "Gateway Timeout";

    aissim_reply(rs, status, json_pack("{s:s}", "message", m));
}

static void h_jderest(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct aissim *s = ctx;
    struct aissim_after after = { 0, 0 };
    const char *p = httpd_req_path(rq) + strlen("/jderest"), *orch = orch_of(p);
    int64_t latency, delay = 0;

    pthread_mutex_lock(&s->mu);
    if (++s->inflight > s->inflight_peak)
        s->inflight_peak = s->inflight;
    latency = s->faults.latency_ms;
    if (orch != NULL) {
        latency += s->faults.orch_latency_ms;
        delay = aissim_delay_commit_take(s, orch);
    }
    pthread_mutex_unlock(&s->mu);
    if (latency + delay > 0)
        wait_ms(s, latency + delay); /* a delayed commit runs after its caller gave up */
    pthread_mutex_lock(&s->mu);
    route_jderest(s, rq, rs, p, httpd_req_method(rq), &after);
    aissim_sessions_end_temporary(s);
    pthread_mutex_unlock(&s->mu);
    if (after.hang_ms > 0)
        wait_ms(s, after.hang_ms);    /* committed; the reply is withheld */
    if (after.status != 0)
        gateway_reply(rs, after.status);
    else if (after.hang_ms > 0)
        httpd_resp_drop(rs);          /* ...then the connection closes unanswered */
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_mutex_unlock(&s->mu);
}

/* ---- lifecycle -------------------------------------------------------------- */

static void defaults(struct aissim *s)
{
    static const char *const names[AISSIM_ORCH_COUNT] = {
        "MLC_AddJournalEntry", "MLC_AddVoucher", "MLC_AddCustomer", "MLC_UpdateCustomer"
    };
    struct aissim_settings *st = &s->set;

    st->session_timeout_s = 30 * 60;
    st->time_to_live_s = 720 * 60;
    st->result_set_timeout_s = 60;
    st->invalid_token_status = 444;
    st->page_default = 100;
    st->page_cap = 2000;
    st->threads = 0;   /* a thread per connection: a withheld reply blocks no other */
    st->strict_inputs = true;
    st->unique_alky = true;
    snprintf(st->validate_mode, sizeof(st->validate_mode), "honour");
    snprintf(st->environment, sizeof(st->environment), "JDV920");
    snprintf(st->role, sizeof(st->role), "*ALL");
    snprintf(st->jas_server, sizeof(st->jas_server), "http://jas.sim:8080");
    snprintf(st->aisversion, sizeof(st->aisversion), "EnterpriseOne 9.2.8.3 (simulated)");
    for (int i = 0; i < AISSIM_ORCH_COUNT; i++)
        snprintf(st->orch_name[i], sizeof(st->orch_name[i]), "%s", names[i]);
    s->nn[AISSIM_NN_JE] = 100000;
    s->nn[AISSIM_NN_PV] = 200000;
    s->nn[AISSIM_NN_BATCH] = 9000;
    s->nn[AISSIM_NN_AN8] = 100000;
    s->next_stack_id = 1;
}

static int load_seed(struct aissim *s, const json_t *seed, struct mlc_err *e)
{
    static const char *const nn_keys[AISSIM_NN_COUNT] = { "JE", "PV", "batch", "AN8" };
    json_t *v, *nn;
    int32_t jul, hms;
    int rc;

    if (seed == NULL)
        return MLC_OK;
    if (!json_is_object(seed))
        return mlc_err_set(e, MLC_EINVAL, "seed: the jde section must be an object");
    if ((v = json_object_get(seed, "settings")) != NULL &&
        (rc = aissim_settings_apply(s, v, e)) != MLC_OK) {
        mlc_err_wrap(e, "seed settings");
        return rc;
    }
    if ((v = json_object_get(seed, "clock")) != NULL && (rc = aissim_clock_set(s, v, e)) != MLC_OK) {
        mlc_err_wrap(e, "seed clock");
        return rc;
    }
    if ((v = json_object_get(seed, "faults")) != NULL && (rc = aissim_faults_apply(s, v, e)) != MLC_OK) {
        mlc_err_wrap(e, "seed faults");
        return rc;
    }
    if ((nn = json_object_get(seed, "next_numbers")) != NULL) {
        for (int i = 0; i < AISSIM_NN_COUNT; i++) {
            rc = set_i64(nn, nn_keys[i], 1, 99999999, &s->nn[i], e);
            if (rc != MLC_OK) {
                mlc_err_wrap(e, "seed next_numbers");
                return rc;
            }
        }
    }
    rc = aissim_users_load(s, json_object_get(seed, "users"), e);
    if (rc != MLC_OK)
        return rc;
    aissim_stamp(s, &jul, &hms);
    return aissim_db_load(s->db, json_object_get(seed, "tables"), jul, hms, e);
}

int aissim_start(const char *listen, const json_t *seed, struct aissim **out,
                 struct mlc_err *e)
{
    struct httpd_route routes[] = {
        { "*", "/jderest/*", h_jderest, NULL },
        { "*", "/__sim/*", aissim_h_control, NULL },
    };
    struct httpd_opts o = { 0 };
    struct aissim *s;
    int rc;

    *out = NULL;
    if (sodium_init() < 0)
        return mlc_err_set(e, MLC_ECRYPTO, "aissim: libsodium init failed");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    {   /* waits on the monotonic clock: a latency is a duration */
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    s->set.error_style = json_object();
    randombytes_buf(&s->rng, sizeof(s->rng));
    s->rng |= 1;
    defaults(s);
    rc = aissim_db_new(&s->db, e);
    if (rc == MLC_OK)
        rc = load_seed(s, seed, e);
    if (rc != MLC_OK)
        goto fail;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        routes[i].ctx = s;
    o.listen = listen;
    o.threads = (unsigned)s->set.threads;
    o.connection_timeout_s = 120;
    o.max_body_bytes = AISSIM_MAX_BODY;
    rc = httpd_start(&o, routes, sizeof(routes) / sizeof(routes[0]), &s->httpd, e);
    if (rc != MLC_OK)
        goto fail;
    log_info("aissim", "AIS simulator listening", LF_UINT("port", httpd_port(s->httpd)));
    *out = s;
    return MLC_OK;
fail:
    aissim_free(s);
    return rc;
}

uint16_t aissim_port(const struct aissim *s)
{
    return s->httpd != NULL ? httpd_port(s->httpd) : 0;
}

void aissim_free(struct aissim *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    httpd_free(s->httpd);
    aissim_sessions_clear(s);
    free(s->tokens);
    free(s->rsets);
    aissim_users_free(s);
    aissim_counters_clear(s);
    free(s->counters);
    aissim_db_free(s->db);
    json_decref(s->set.error_style);
    json_decref(s->faults.hang);
    json_decref(s->faults.delay_commit);
    json_decref(s->faults.orch_fail);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
