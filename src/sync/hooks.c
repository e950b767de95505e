#include "sync/hooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/bc_hooks.h"
#include "bc/bc_webhook.h"
#include "core/jobkind.h"
#include "core/jdate.h"
#include "core/log.h"
#include "notify/notify.h"

#define MOD       "hooks"
#define ACTOR     "scheduler"
#define LIST_MAX  10000

/* ---- the wanted scopes --------------------------------------------------- */

/* Each scope with the job kind its deliveries enqueue: a scope is wanted
 * exactly when that kind has a handler (the daemon registers by the same
 * function), so no hook feeds a queue nobody takes from. */
static const struct {
    const char *scope;
    const char *kind;
} scopes[] = {
    { "store/order/*",          JOB_ORDER_SYNC },
    { "store/customer/*",       JOB_CUSTOMER_SYNC },
    { "store/product/created",  JOB_CATALOG_SYNC },
    { "store/product/updated",  JOB_CATALOG_SYNC },
    { "store/product/deleted",  JOB_CATALOG_SYNC },
    { "store/sku/created",      JOB_CATALOG_SYNC },
    { "store/sku/updated",      JOB_CATALOG_SYNC },
    { "store/sku/deleted",      JOB_CATALOG_SYNC },
};

_Static_assert(sizeof(scopes) / sizeof(scopes[0]) <= HOOKS_SCOPES_MAX,
               "HOOKS_SCOPES_MAX too small");

size_t hooks_wanted(const struct mlc_config *cfg,
                    const char *out[HOOKS_SCOPES_MAX])
{
    size_t n = 0;

    for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
        if (jobkind_handled(cfg, scopes[i].kind))
            out[n++] = scopes[i].scope;
    return n;
}

bool hooks_enabled(const struct mlc_config *cfg)
{
    return cfg != NULL && cfg->bigcommerce.webhook_public_url != NULL &&
           cfg->bigcommerce.webhook_public_url[0] != '\0';
}

/* ---- the registered hooks, as read ---------------------------------------- */

/* What the custom header of a registered hook says. */
enum hdr_state {
    HDR_UNKNOWN = 0, /* BigCommerce did not echo "headers": cannot judge */
    HDR_NONE,        /* no secret header */
    HDR_WRONG,       /* our header name with another value */
    HDR_OK           /* our header with our secret */
};

struct hk {
    struct bc_hook h;
    enum hdr_state hdr;
    bool           ours;
    bool           used;  /* claimed by a wanted scope */
};

struct run {
    struct bc_client          *bc;
    const char                *url;
    const struct mlc_secret   *secret;
    struct store              *st;
    struct hooks_report       *out;
    struct hk                 *v;
    size_t                     n;
    int                        rc;      /* first failure */
    struct mlc_err            *e;       /* receives the first failure */
};

static enum hdr_state header_state(const json_t *item, const struct mlc_secret *secret)
{
    const json_t *hs = json_object_get(item, "headers");
    const char *k;
    json_t *v;

    if (hs == NULL)
        return HDR_UNKNOWN;
    if (!json_is_object(hs))
        return HDR_NONE;
    json_object_foreach((json_t *)hs, k, v) {
        if (strcasecmp(k, BCWH_SECRET_HEADER) != 0)
            continue;
        if (secret != NULL && json_is_string(v) &&
            secret_equals(secret, json_string_value(v), json_string_length(v)))
            return HDR_OK;
        return HDR_WRONG;
    }
    return HDR_NONE;
}

/* Overwrites every secret header value in a hook reply (ours or not: it is
 * somebody's secret) before the document is freed. */
static void wipe_headers(json_t *item)
{
    json_t *hs = json_object_get(item, "headers"), *v;
    const char *k;

    if (!json_is_object(hs))
        return;
    json_object_foreach(hs, k, v)
        if (json_is_string(v))
            secret_wipe((char *)json_string_value(v), json_string_length(v));
}

static void run_free_hooks(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        bc_hook_clear(&r->v[i].h);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* GET /v3/hooks (every page) with the headers, which bc_hooks_list drops. */
static int load_hooks(struct run *r, struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    json_t *all = NULL;
    size_t cnt;
    int rc;

    bc_url_init(&u, "/v3/hooks");
    rc = bc_pager_init(&p, r->bc, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    if (rc == MLC_OK)
        rc = bc_pager_collect(&p, LIST_MAX, &all, e);
    bc_pager_free(&p);
    bc_url_free(&u);
    if (rc != MLC_OK)
        goto out;
    cnt = json_array_size(all);
    r->v = cnt > 0 ? calloc(cnt, sizeof(*r->v)) : NULL;
    if (cnt > 0 && r->v == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu hooks", cnt);
        goto out;
    }
    for (size_t i = 0; i < cnt; i++) {
        const json_t *it = json_array_get(all, i);
        struct hk *h = &r->v[i];

        rc = bc_hook_decode(it, &h->h, e);
        if (rc != MLC_OK)
            goto out;
        r->n++;
        h->hdr = header_state(it, r->secret);
        h->ours = strcmp(h->h.destination, r->url) == 0 ||
                  (r->secret != NULL && h->hdr == HDR_OK);
    }
out:
    for (size_t i = 0; i < json_array_size(all); i++)
        wipe_headers(json_array_get(all, i));
    json_decref(all);
    return rc;
}

/* ---- failures and the audit trail ---------------------------------------- */

static void note_failure(struct run *r, int rc, const struct mlc_err *e)
{
    if (r->rc == MLC_OK) {
        r->rc = rc;
        if (r->e != NULL && e != r->e)
            *r->e = *e;
    }
}

/* One audit row; detail is stolen. */
static void audit(struct run *r, int64_t id, const char *action, const char *outcome,
                  json_t *detail)
{
    char entity[48], *text = NULL;
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    if (id > 0)
        snprintf(entity, sizeof(entity), "hook:%" PRId64, id);
    else
        snprintf(entity, sizeof(entity), "hooks");
    if (detail != NULL)
        text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    rc = store_audit_add(r->st, &(struct store_audit){
        .actor = ACTOR, .entity = entity, .action = action, .outcome = outcome,
        .detail = text }, &e);
    free(text);
    if (rc != MLC_OK) {
        log_warn(MOD, "audit failed", LF_STR("entity", entity), LF_STR("action", action),
                 LF_ERR(&e));
        note_failure(r, rc, &e);
    }
}

static json_t *detail_of(const char *scope, const char *destination)
{
    return json_pack("{s:s, s:s}", "scope", scope, "destination", destination);
}

/* Audits a refused change with BigCommerce's message. */
static void failed(struct run *r, int64_t id, const char *action, const char *scope,
                   const char *destination, int rc, const struct mlc_err *e)
{
    json_t *d = detail_of(scope, destination);

    log_warn(MOD, "hook change failed", LF_STR("action", action), LF_STR("scope", scope),
             LF_INT("id", id), LF_ERR(e));
    if (d != NULL)
        json_object_set_new(d, "error", json_string(e->msg));
    audit(r, id, action, "error", d);
    r->out->failed++;
    note_failure(r, rc, e);
}

/* ---- changes --------------------------------------------------------------- */

struct put_secret_ctx {
    json_t *headers;
};

static int put_secret(const char *bytes, size_t len, void *ctx)
{
    struct put_secret_ctx *p = ctx;

    return json_object_set_new(p->headers, BCWH_SECRET_HEADER, json_stringn(bytes, len)) == 0
               ? MLC_OK
               : MLC_ENOMEM;
}

/* PUT /v3/hooks/{id}: destination, is_active true and the secret header. */
static int put_hook(struct run *r, int64_t id, struct mlc_err *e)
{
    json_t *body = json_pack("{s:s, s:b}", "destination", r->url, "is_active", 1);
    struct bc_resp resp = { 0 };
    struct bc_url u;
    char path[48];
    int rc = MLC_OK;

    if (body == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (r->secret != NULL) {
        struct put_secret_ctx pc = { json_object() };

        if (pc.headers == NULL || json_object_set_new(body, "headers", pc.headers) != 0)
            rc = MLC_ENOMEM;
        else
            rc = secret_use(r->secret, put_secret, &pc);
        if (rc != MLC_OK) {
            wipe_headers(body);
            json_decref(body);
            return mlc_err_set(e, rc, "out of memory");
        }
    }
    snprintf(path, sizeof(path), "/v3/hooks/%" PRId64, id);
    bc_url_init(&u, path);
    rc = bc_call(r->bc, "PUT", &u, body, true, &resp, e);
    wipe_headers(body);
    json_decref(body);
    wipe_headers(json_object_get(resp.body, "data"));
    bc_resp_clear(&resp);
    bc_url_free(&u);
    return rc;
}

static void do_create(struct run *r, const char *scope)
{
    struct bc_hook_spec spec = {
        .scope = scope, .destination = r->url, .is_active = true,
        .header_name = r->secret != NULL ? BCWH_SECRET_HEADER : NULL,
        .header_value = r->secret,
    };
    struct bc_hook h;
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = bc_hook_create(r->bc, &spec, &h, &e);
    if (rc != MLC_OK) {
        failed(r, 0, "create", scope, r->url, rc, &e);
        return;
    }
    log_info(MOD, "hook created", LF_INT("id", h.id), LF_STR("scope", scope),
             LF_STR("destination", r->url));
    audit(r, h.id, "create", "ok", detail_of(scope, r->url));
    r->out->created++;
    bc_hook_clear(&h);
}

/* Our hook at the right destination, possibly inactive or with a wrong or
 * missing secret header. */
static void do_repair(struct run *r, struct hk *h)
{
    bool hdr_bad = r->secret != NULL && (h->hdr == HDR_NONE || h->hdr == HDR_WRONG);
    const char *action = hdr_bad ? "update" : "reactivate";
    struct mlc_err e;
    json_t *d;
    int rc;

    if (!hdr_bad && h->h.is_active) {
        r->out->ok++;
        return;
    }
    mlc_err_clear(&e);
    rc = hdr_bad ? put_hook(r, h->h.id, &e) : bc_hook_set_active(r->bc, h->h.id, true, NULL, &e);
    if (rc != MLC_OK) {
        failed(r, h->h.id, action, h->h.scope, h->h.destination, rc, &e);
        return;
    }
    log_info(MOD, hdr_bad ? "hook secret header rewritten" : "hook re-activated",
             LF_INT("id", h->h.id), LF_STR("scope", h->h.scope));
    d = detail_of(h->h.scope, h->h.destination);
    if (d != NULL && hdr_bad)
        json_object_set_new(d, "reason", json_string(h->hdr == HDR_NONE
                                                         ? "secret header missing"
                                                         : "secret header differs"));
    if (d != NULL && !h->h.is_active)
        json_object_set_new(d, "reactivated", json_true());
    audit(r, h->h.id, action, "ok", d);
    if (hdr_bad)
        r->out->updated++;
    else
        r->out->reactivated++;
}

/* Our hook registered under an earlier public URL: moved to the current one. */
static void do_move(struct run *r, struct hk *h)
{
    struct mlc_err e;
    json_t *d;
    int rc;

    mlc_err_clear(&e);
    rc = put_hook(r, h->h.id, &e);
    if (rc != MLC_OK) {
        failed(r, h->h.id, "update", h->h.scope, r->url, rc, &e);
        return;
    }
    log_info(MOD, "hook destination moved", LF_INT("id", h->h.id), LF_STR("scope", h->h.scope),
             LF_STR("from", h->h.destination), LF_STR("to", r->url));
    d = detail_of(h->h.scope, r->url);
    if (d != NULL)
        json_object_set_new(d, "previous_destination", json_string(h->h.destination));
    audit(r, h->h.id, "update", "ok", d);
    r->out->updated++;
}

static void do_delete(struct run *r, struct hk *h)
{
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = bc_hook_delete(r->bc, h->h.id, &e);
    if (rc == MLC_ENOTFOUND)
        rc = MLC_OK; /* gone already: the goal */
    if (rc != MLC_OK) {
        failed(r, h->h.id, "delete", h->h.scope, h->h.destination, rc, &e);
        return;
    }
    log_info(MOD, "hook deleted (scope not wanted)", LF_INT("id", h->h.id),
             LF_STR("scope", h->h.scope), LF_STR("destination", h->h.destination));
    audit(r, h->h.id, "delete", "ok", detail_of(h->h.scope, h->h.destination));
    r->out->deleted++;
}

static struct hk *find(struct run *r, const char *scope, bool at_url)
{
    for (size_t i = 0; i < r->n; i++) {
        struct hk *h = &r->v[i];

        if (h->used || !h->ours || strcmp(h->h.scope, scope) != 0)
            continue;
        if ((strcmp(h->h.destination, r->url) == 0) == at_url)
            return h;
    }
    return NULL;
}

static void ensure_scope(struct run *r, const char *scope)
{
    struct hk *h = find(r, scope, true);

    if (h != NULL) {
        h->used = true;
        do_repair(r, h);
        return;
    }
    h = find(r, scope, false);
    if (h != NULL) {
        h->used = true;
        do_move(r, h);
        return;
    }
    do_create(r, scope);
}

/* ---- the admin view ------------------------------------------------------- */

/* The host of a URL, or of a bare domain: [start, start + len). */
static const char *host_of(const char *s, size_t *len)
{
    const char *p = strstr(s, "://");
    const char *h = p != NULL ? p + 3 : s;
    const char *at = NULL;

    for (const char *q = h; *q != '\0' && strchr("/?#", *q) == NULL; q++)
        if (*q == '@')
            at = q;
    if (at != NULL)
        h = at + 1;
    *len = strcspn(h, ":/?#");
    return h;
}

static bool same_host(const char *a, const char *b)
{
    size_t la, lb;
    const char *ha = host_of(a, &la), *hb = host_of(b, &lb);

    return la > 0 && la == lb && strncasecmp(ha, hb, la) == 0;
}

static bool is_ours_id(const struct run *r, int64_t id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].h.id == id)
            return r->v[i].ours;
    return false;
}

/* The operator's alert of a deactivated hook, at most one a hook a day
 * (UTC). An alert that cannot be written is logged: the audit row stays. */
static void alert_deactivated(struct run *r, const struct bc_hook *h)
{
    struct jdate_civil civ;
    struct mlc_err e;
    char day[16];
    int32_t hms;

    if (r->st == NULL)
        return;
    mlc_err_clear(&e);
    if (jdate_unix_to_civil(store_now_ms(r->st) / 1000, 0, &civ, &hms, &e) != MLC_OK ||
        jdate_iso_date_format(&civ, day, sizeof(day), &e) != MLC_OK ||
        notify_hook(r->st, h->id, h->scope, day, &e) != MLC_OK)
        log_warn(MOD, "cannot record the alert of a deactivated hook", LF_INT("id", h->id),
                 LF_ERR(&e));
}

/* Notices what BigCommerce did to our hooks: deactivation after failed
 * deliveries, a denylisted destination domain. Repairs come after. */
static void check_admin(struct run *r)
{
    struct bc_hooks_admin a;
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    rc = bc_hooks_admin(r->bc, &a, &e);
    if (rc != MLC_OK) {
        log_warn(MOD, "cannot read the hooks admin view", LF_ERR(&e));
        note_failure(r, rc, &e);
        return;
    }
    for (size_t i = 0; i < a.n_hooks; i++) {
        const struct bc_hook *h = &a.hooks[i];

        if (strcmp(h->status, "deactivated") != 0 ||
            (strcmp(h->destination, r->url) != 0 && !is_ours_id(r, h->id)))
            continue;
        log_warn(MOD, "hook deactivated by BigCommerce after failed deliveries",
                 LF_INT("id", h->id), LF_STR("scope", h->scope),
                 LF_STR("destination", h->destination));
        audit(r, h->id, "deactivated", "error", detail_of(h->scope, h->destination));
        alert_deactivated(r, h);
        r->out->deactivated++;
    }
    for (size_t i = 0; i < a.n_blocked; i++) {
        const struct bc_blocked_domain *b = &a.blocked[i];
        json_t *d;

        if (!same_host(b->destination, r->url))
            continue;
        log_warn(MOD, "webhook destination domain blocked by BigCommerce",
                 LF_STR("destination", b->destination), LF_INT("time_left_s", b->time_left_s),
                 LF_STR("reason", b->reason));
        d = json_pack("{s:s, s:I, s:s}", "destination", b->destination, "time_left_s",
                      (json_int_t)b->time_left_s, "reason", b->reason);
        audit(r, 0, "blocked", "error", d);
        r->out->blocked++;
    }
    bc_hooks_admin_clear(&a);
}

/* ---- hooks_ensure ------------------------------------------------------------ */

int hooks_ensure(struct bc_client *bc, const struct mlc_config *cfg,
                 const struct mlc_secret *header_secret, struct store *st,
                 struct hooks_report *out, struct mlc_err *e)
{
    const char *want[HOOKS_SCOPES_MAX];
    struct run r;
    int rc;

    if (out == NULL || bc == NULL || cfg == NULL || st == NULL)
        return mlc_err_set(e, MLC_EINVAL, "hooks_ensure: missing argument");
    memset(out, 0, sizeof(*out));
    if (!hooks_enabled(cfg)) {
        out->skipped = true;
        log_info(MOD, "bigcommerce.webhook_public_url is not set: no webhooks registered, "
                      "the reconcile sweep finds changes");
        return MLC_OK;
    }
    memset(&r, 0, sizeof(r));
    r.bc = bc;
    r.url = cfg->bigcommerce.webhook_public_url;
    r.secret = header_secret;
    r.st = st;
    r.out = out;
    r.e = e;
    out->wanted = hooks_wanted(cfg, want);

    rc = load_hooks(&r, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "hooks: listing the registered hooks");
        run_free_hooks(&r);
        return rc;
    }
    check_admin(&r);
    for (size_t i = 0; i < out->wanted; i++)
        ensure_scope(&r, want[i]);
    for (size_t i = 0; i < r.n; i++) {
        if (!r.v[i].ours)
            out->foreign++;
        else if (!r.v[i].used)
            do_delete(&r, &r.v[i]);
    }
    run_free_hooks(&r);
    log_debug(MOD, "hooks checked", LF_UINT("wanted", out->wanted), LF_UINT("ok", out->ok),
              LF_UINT("created", out->created), LF_UINT("reactivated", out->reactivated),
              LF_UINT("updated", out->updated), LF_UINT("deleted", out->deleted),
              LF_UINT("failed", out->failed));
    return r.rc;
}
