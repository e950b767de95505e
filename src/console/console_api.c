#include "console/console_api.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/held_groups.h"
#include "core/holdcode.h"
#include "core/json.h"
#include "core/money.h"
#include "report/reconcile.h"
#include "report/report_store.h"
#include "sync/heldops.h"

#define DAY_MS (24 * 60 * 60 * 1000LL)

/* {currency, minor, text}: an amount as integer and as its decimal text. */
static json_t *amount_json(const char *currency, int64_t minor)
{
    char text[MONEY_FMT_MAX];

    if (money_format_cur(minor, currency, text, sizeof(text), NULL) != MLC_OK)
        snprintf(text, sizeof(text), "%" PRId64 " minor units", minor);
    return json_pack("{s:s, s:I, s:s}", "currency", currency, "minor", (json_int_t)minor,
                     "text", text);
}

static int oom(struct mlc_err *e)
{
    return mlc_err_set(e, MLC_ENOMEM, "out of memory");
}

/* ---- held items ------------------------------------------------------------- */

struct held_walk {
    json_t       *items;
    struct hg_set groups;
    size_t        dismissed;
    bool          oom;
};

static int held_cb(const struct store_job *j, void *ctx)
{
    struct held_walk *w = ctx;
    enum hold_code code = hold_code_of(j->hold_code);
    bool has_amount = j->hold_currency != NULL && j->hold_currency[0] != '\0';
    json_t *o;

    if (j->dismissed_at > 0) {
        w->dismissed++;
    } else if (hg_add(&w->groups, code, j->state == STORE_JOB_FAILED, j->hold_currency,
                      j->hold_amount, j->updated_at, j->id, NULL) != MLC_OK) {
        w->oom = true;
        return 1;
    }
    o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:i, s:o}",
                  "id", (json_int_t)j->id, "kind", j->kind, "key", j->key,
                  "state", store_job_state_name(j->state), "code", hold_code_name(code),
                  "reason", jx_text(j->last_error), "fix", hold_code_fix(code),
                  "since_ms", (json_int_t)j->updated_at, "attempts", j->attempts,
                  "amount", has_amount ? amount_json(j->hold_currency, j->hold_amount)
                                       : json_null());
    if (o != NULL && j->dismissed_at > 0)
        json_object_set_new(o, "dismissed",
                            json_pack("{s:I, s:o, s:o}", "at_ms", (json_int_t)j->dismissed_at,
                                      "by", jx_text(j->dismissed_by),
                                      "note", jx_text(j->dismiss_note)));
    if (o == NULL || json_array_append_new(w->items, o) != 0) {
        w->oom = true;
        return 1;
    }
    return 0;
}

static json_t *groups_json(const struct hg_set *s)
{
    enum hold_code order[HOLD_CODE_COUNT];
    size_t n = hg_order(s, order);
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n; i++) {
        const struct hg_group *g = &s->by_code[order[i]];
        json_t *sums = json_array(), *o;

        for (size_t k = 0; sums != NULL && k < g->n_sums; k++)
            if (!g->sums[k].overflow)
                json_array_append_new(sums, amount_json(g->sums[k].currency,
                                                        g->sums[k].minor));
        o = json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:s}", "code", hold_code_name(order[i]),
                      "count", (json_int_t)g->count, "failed", (json_int_t)g->failed,
                      "amounts", sums != NULL ? sums : json_null(),
                      "oldest_ms", (json_int_t)g->oldest_ms, "oldest_id",
                      (json_int_t)g->oldest_id, "fix", hold_code_fix(order[i]));
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Walks the held and failed items into w (items and groups). */
static int held_collect(struct store *st, struct held_walk *w, struct mlc_err *e)
{
    int rc;

    hg_init(&w->groups);
    if ((w->items = json_array()) == NULL)
        return oom(e);
    rc = heldops_walk(st, held_cb, w, e);
    if (rc == MLC_OK && w->oom)
        rc = oom(e);
    return rc;
}

int capi_held(struct store *st, json_t **out, struct mlc_err *e)
{
    struct held_walk w = { 0 };
    json_t *groups;
    int rc = held_collect(st, &w, e);

    *out = NULL;
    if (rc == MLC_OK) {
        groups = groups_json(&w.groups);
        *out = json_pack("{s:O, s:o, s:I}", "items", w.items,
                         "groups", groups != NULL ? groups : json_null(),
                         "dismissed", (json_int_t)w.dismissed);
        if (*out == NULL || groups == NULL)
            rc = oom(e);
    }
    json_decref(w.items);
    hg_clear(&w.groups);
    return rc;
}

/* ---- today's postings --------------------------------------------------------- */

struct cur_total {
    char    currency[8];
    int64_t documents;
    int64_t debit;   /* minor units: the sum of the debit lines */
};

#define MAX_CURRENCIES 16

struct today_walk {
    int64_t          from_ms;
    int64_t          last_order_ms;    /* newest posted order document */
    int64_t          last_customer_ms; /* newest customer written to JDE */
    json_t          *docs;
    struct cur_total t[MAX_CURRENCIES];
    size_t           n;
    bool             oom;
};

/* Adds a posted document's debit lines (its positive amounts) to the total
 * of its currency. A line that does not parse is left out of the sum. */
static void add_total(struct today_walk *w, const json_t *req)
{
    const char *cur = json_string_value(json_object_get(req, "currency"));
    struct cur_total *t = NULL;
    const json_t *l;
    size_t i;
    int exp;

    if (cur == NULL || strlen(cur) >= sizeof(t->currency) ||
        money_exponent(cur, &exp, NULL) != MLC_OK)
        return;
    for (i = 0; i < w->n && t == NULL; i++)
        if (strcmp(w->t[i].currency, cur) == 0)
            t = &w->t[i];
    if (t == NULL) {
        if (w->n == MAX_CURRENCIES)
            return;
        t = &w->t[w->n++];
        snprintf(t->currency, sizeof(t->currency), "%s", cur);
    }
    t->documents++;
    json_array_foreach(json_object_get(req, "lines"), i, l) {
        const char *a = json_string_value(json_object_get(l, "amount"));
        int64_t v;

        if (a != NULL && money_parse_scaled(a, exp, &v, NULL) == MLC_OK && v > 0)
            money_add(t->debit, v, &t->debit, NULL);
    }
}

static int today_cb(const struct store_ledger *l, void *ctx)
{
    struct today_walk *w = ctx;
    json_t *req, *o;

    if (l->state != STORE_LEDGER_POSTED)
        return 0;
    if (strcmp(l->kind, "customer") == 0) {
        if (l->updated_at > w->last_customer_ms)
            w->last_customer_ms = l->updated_at;
        return 0;
    }
    if (l->updated_at > w->last_order_ms)
        w->last_order_ms = l->updated_at;
    if (l->updated_at < w->from_ms)
        return 0;
    req = l->request != NULL ? json_loads(l->request, 0, NULL) : NULL;
    if (req != NULL)
        add_total(w, req);
    o = json_pack("{s:s, s:s, s:s, s:s*, s:I, s:I, s:o}", "key", l->key, "kind", l->kind,
                  "entity", l->entity, "document_type", l->doc_type,
                  "document_number", (json_int_t)l->doc_number,
                  "posted_ms", (json_int_t)l->updated_at,
                  "currency", jx_text(req != NULL ? json_string_value(
                                            json_object_get(req, "currency")) : NULL));
    json_decref(req);
    if (o == NULL || json_array_append_new(w->docs, o) != 0) {
        w->oom = true;
        return 1;
    }
    return 0;
}

/* Midnight of today in the server's time zone, as Unix ms. */
static int64_t local_midnight(int64_t now_ms, int offset_min)
{
    int64_t off = (int64_t)offset_min * 60000, local = now_ms + off;
    int64_t day = local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS;

    return day * DAY_MS - off;
}

static int today_json(struct store *st, const struct capi_runtime *rt, json_t **out,
                      struct mlc_err *e)
{
    struct today_walk w = { .from_ms = local_midnight(rt->now_ms, rt->tz_offset_min) };
    json_t *totals = NULL;
    int rc;

    *out = NULL;
    if ((w.docs = json_array()) == NULL || (totals = json_array()) == NULL) {
        json_decref(w.docs);
        return oom(e);
    }
    rc = store_ledger_list(st, NULL, today_cb, &w, e);
    if (rc == MLC_OK && w.oom)
        rc = oom(e);
    for (size_t i = 0; rc == MLC_OK && i < w.n; i++) {
        json_t *a = amount_json(w.t[i].currency, w.t[i].debit);

        if (a == NULL)
            rc = oom(e);
        else {
            json_object_set_new(a, "documents", json_integer((json_int_t)w.t[i].documents));
            json_array_append_new(totals, a);
        }
    }
    if (rc == MLC_OK &&
        (*out = json_pack("{s:I, s:O, s:O, s:I, s:I}", "since_ms", (json_int_t)w.from_ms,
                          "documents", w.docs, "totals", totals,
                          "last_order_ms", (json_int_t)w.last_order_ms,
                          "last_customer_ms", (json_int_t)w.last_customer_ms)) == NULL)
        rc = oom(e);
    json_decref(w.docs);
    json_decref(totals);
    return rc;
}

/* ---- overview ------------------------------------------------------------------ */

static json_t *jobs_json(const struct store_gauges *g)
{
    static const char *const names[STORE_GAUGE_JOBS] = {
        [STORE_GAUGE_QUEUED] = "queued", [STORE_GAUGE_RUNNING] = "running",
        [STORE_GAUGE_PAUSED] = "paused", [STORE_GAUGE_HELD] = "held",
        [STORE_GAUGE_FAILED] = "failed",
    };
    json_t *o = json_object();

    for (int i = 0; o != NULL && i < STORE_GAUGE_JOBS; i++)
        json_object_set_new(o, names[i],
                            json_pack("{s:I, s:I}", "count", (json_int_t)g->jobs[i],
                                      "oldest_ms", (json_int_t)(g->jobs[i] > 0
                                                                ? g->oldest_ms[i] : 0)));
    return o;
}

/* The last success of each flow: documents and customers from the ledger
 * (today's walk found them), the sweep, the catalog poll and the daily
 * report by their watermarks (shown as stored: each flow's own format). */
static json_t *flows_json(struct store *st, const json_t *today)
{
    static const struct { const char *name, *wm; } wms[] = {
        { "reconcile_sweep", "recon.orders" },
        { "catalog_poll", "catalog.f4101" },
        { "daily_report", "reconcile.daily" },
    };
    json_t *o = json_pack("{s:O, s:O}", "orders", json_object_get(today, "last_order_ms"),
                          "customers", json_object_get(today, "last_customer_ms"));

    for (size_t i = 0; o != NULL && i < sizeof(wms) / sizeof(wms[0]); i++) {
        char buf[128];
        struct mlc_err e;

        if (store_watermark_get(st, wms[i].wm, buf, sizeof(buf), &e) == MLC_OK)
            json_object_set_new(o, wms[i].name, jx_text(buf));
        else
            json_object_set_new(o, wms[i].name, json_null());
    }
    return o;
}

/* The latest reconciliation in short: day, when, differences. */
static json_t *latest_report_json(struct store *st)
{
    struct store_report r = { 0 };
    struct mlc_err e;
    json_t *o;

    if (store_report_latest(st, RPT_KIND_RECONCILE, NULL, &r, &e) != MLC_OK)
        return json_null();
    o = json_pack("{s:s, s:I, s:I}", "day", r.day, "created_ms", (json_int_t)r.created_at,
                  "differences", (json_int_t)r.differences);
    store_report_clear(&r);
    return o;
}

int capi_overview(struct store *st, const struct capi_runtime *rt, json_t **out,
                  struct mlc_err *e)
{
    struct store_gauges g;
    struct held_walk w = { 0 };
    json_t *today = NULL, *groups = NULL, *o;
    int rc;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if ((rc = store_gauges_read(st, &g, e)) != MLC_OK)
        return rc;
    rc = held_collect(st, &w, e);
    if (rc == MLC_OK && (groups = groups_json(&w.groups)) == NULL)
        rc = oom(e);
    if (rc == MLC_OK)
        rc = today_json(st, rt, &today, e);
    if (rc == MLC_OK) {
        o = json_pack("{s:I, s:{s:s, s:i}, s:o, s:O, s:I, s:O, s:o, s:I, s:I, s:{s:I, s:I}, "
                      "s:o, s:O, s:o}",
                      "now_ms", (json_int_t)rt->now_ms,
                      "timezone", "name", rt->timezone, "offset_min", rt->tz_offset_min,
                      "jobs", jobs_json(&g), "held_groups", groups,
                      "dismissed", (json_int_t)w.dismissed, "today", today,
                      "reconcile", latest_report_json(st),
                      "reconcile_differences", (json_int_t)g.reconcile_differences,
                      "last_document_ms", (json_int_t)g.last_posted_ms,
                      "bigcommerce_quota", "left", (json_int_t)rt->quota_left,
                      "limit", (json_int_t)rt->quota_limit,
                      "ais_session", rt->ais_up < 0 ? json_null() : json_boolean(rt->ais_up),
                      "conditions", rt->conditions != NULL ? rt->conditions : json_null(),
                      "flows", flows_json(st, today));
        if (o == NULL)
            rc = oom(e);
        *out = o;
    }
    json_decref(groups);
    json_decref(today);
    json_decref(w.items);
    hg_clear(&w.groups);
    return rc;
}

/* ---- one order ------------------------------------------------------------------ */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int capi_order_key(const char *q, const char *prefix, char *key, size_t cap,
                   struct mlc_err *e)
{
    size_t n, pl = prefix != NULL ? strlen(prefix) : 0;
    const char *colon;

    while (q != NULL && isspace((unsigned char)*q))
        q++;
    if (q == NULL || (n = strcspn(q, " \t\r\n")) == 0)
        return mlc_err_set(e, MLC_EINVAL, "give an order id, a key like order:104 or a "
                           "document key like BC104S");
    if (all_digits(q, n)) {
        snprintf(key, cap, "order:%.*s", (int)n, q);
        return MLC_OK;
    }
    colon = memchr(q, ':', n);
    if (colon != NULL && colon > q && all_digits(colon + 1, n - (size_t)(colon + 1 - q))) {
        for (const char *p = q; p < colon; p++)
            if (!islower((unsigned char)*p))
                goto bad;
        snprintf(key, cap, "%.*s", (int)n, q);
        return MLC_OK;
    }
    if (pl > 0 && n > pl && strncasecmp(q, prefix, pl) == 0) {
        size_t d = 0;

        while (pl + d < n && isdigit((unsigned char)q[pl + d]))
            d++;
        if (d > 0 && all_digits(q + pl, d)) {
            snprintf(key, cap, "order:%.*s", (int)d, q + pl);
            return MLC_OK;
        }
    }
bad:
    return mlc_err_set(e, MLC_EINVAL, "'%.*s' is neither an order id, a key like order:104 "
                       "nor a document key like %s104S", (int)(n > 64 ? 64 : n), q,
                       prefix != NULL ? prefix : "BC");
}

static int audit_cb(const struct store_audit *a, void *ctx)
{
    json_t *d = a->detail != NULL ? json_loads(a->detail, JSON_DECODE_ANY, NULL) : NULL;
    json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id,
                          "at_ms", (json_int_t)a->at, "actor", jx_text(a->actor),
                          "action", jx_text(a->action), "outcome", jx_text(a->outcome),
                          "detail", d != NULL ? d : jx_text(a->detail));

    return (o == NULL || json_array_append_new(ctx, o) != 0) ? 1 : 0;
}

static int ledger_cb(const struct store_ledger *l, void *ctx)
{
    json_t *req = l->request != NULL ? json_loads(l->request, 0, NULL) : NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:I, s:I, s:I, s:I, s:o}",
                          "key", l->key, "kind", l->kind,
                          "state", store_ledger_state_name(l->state),
                          "document_type", l->doc_type, "document_company", l->doc_company,
                          "document_number", (json_int_t)l->doc_number,
                          "batch", (json_int_t)l->batch,
                          "created_ms", (json_int_t)l->created_at,
                          "updated_ms", (json_int_t)l->updated_at,
                          "request", req != NULL ? req : json_null());

    return (o == NULL || json_array_append_new(ctx, o) != 0) ? 1 : 0;
}

struct jobs_walk {
    const char *key;
    json_t     *jobs;
};

static int jobs_cb(const struct store_job *j, void *ctx)
{
    struct jobs_walk *w = ctx;
    json_t *o;

    if (strcmp(j->key, w->key) != 0)
        return 0;
    o = json_pack("{s:I, s:s, s:s, s:i, s:I, s:o, s:s, s:b}", "id", (json_int_t)j->id,
                  "kind", j->kind, "state", store_job_state_name(j->state),
                  "attempts", j->attempts, "updated_ms", (json_int_t)j->updated_at,
                  "reason", jx_text(j->last_error),
                  "code", hold_code_name(hold_code_of(j->hold_code)),
                  "dismissed", j->dismissed_at > 0);
    return (o == NULL || json_array_append_new(w->jobs, o) != 0) ? 1 : 0;
}

int capi_order(struct store *st, const char *key, json_t **out, struct mlc_err *e)
{
    static const enum store_job_state live[] = {
        STORE_JOB_READY, STORE_JOB_RUNNING, STORE_JOB_HELD, STORE_JOB_FAILED,
    };
    json_t *o = json_pack("{s:s, s:[], s:[], s:[]}", "key", key, "audit", "documents", "jobs");
    struct jobs_walk w = { .key = key };
    int rc;

    *out = NULL;
    if (o == NULL)
        return oom(e);
    w.jobs = json_object_get(o, "jobs");
    rc = store_audit_list(st, key, 0, audit_cb, json_object_get(o, "audit"), e);
    if (rc == MLC_OK)
        rc = store_ledger_list(st, key, ledger_cb, json_object_get(o, "documents"), e);
    for (size_t i = 0; rc == MLC_OK && i < sizeof(live) / sizeof(live[0]); i++)
        rc = store_job_list(st, (int)live[i], 0, jobs_cb, &w, e);
    if (rc != MLC_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return MLC_OK;
}

/* ---- reports --------------------------------------------------------------------- */

static bool day_ok(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)d[i]))
            return false;
    return true;
}

int capi_report(struct store *st, const char *day, json_t **out, struct mlc_err *e)
{
    struct store_report r = { 0 };
    json_error_t je;
    int rc;

    *out = NULL;
    if (day != NULL && !day_ok(day))
        return mlc_err_set(e, MLC_EINVAL, "a day is YYYY-MM-DD");
    if ((rc = store_report_latest(st, RPT_KIND_RECONCILE, day, &r, e)) != MLC_OK)
        return rc;
    *out = json_loads(r.body, 0, &je);
    if (*out == NULL)
        rc = mlc_err_set(e, MLC_EPARSE, "stored report %" PRId64 ": %s", r.id, je.text);
    store_report_clear(&r);
    return rc;
}

int capi_report_csv(struct store *st, const char *day, char **out, size_t *len,
                    struct mlc_err *e)
{
    json_t *d = NULL;
    FILE *f;
    int rc;

    *out = NULL;
    *len = 0;
    if ((rc = capi_report(st, day, &d, e)) != MLC_OK)
        return rc;
    if ((f = open_memstream(out, len)) == NULL) {
        json_decref(d);
        return oom(e);
    }
    rcn_render_csv_header(f);
    rc = rcn_render_csv(d, f, e);
    if (fclose(f) != 0 && rc == MLC_OK)
        rc = oom(e);
    json_decref(d);
    if (rc != MLC_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}
