#include "bc/bc_hooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_client.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"

#define LIST_MAX     10000
#define CREATE_TRIES 3

void bc_hook_clear(struct bc_hook *h)
{
    if (h == NULL)
        return;
    free(h->scope);
    free(h->destination);
    free(h->status);
    memset(h, 0, sizeof(*h));
}

void bc_hooks_free(struct bc_hook *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        bc_hook_clear(&v[i]);
    free(v);
}

int bc_hook_decode(const json_t *j, struct bc_hook *out, struct mlc_err *e)
{
    struct jx_ctx cx;
    char where[48];

    memset(out, 0, sizeof(*out));
    snprintf(where, sizeof(where), "hook %" PRId64,
             (int64_t)json_integer_value(json_object_get(j, "id")));
    jx_ctx_init(&cx, where, e);
    jx_get_i64(&cx, j, "id", &out->id);
    jx_opt_strdup(&cx, j, "scope", &out->scope);
    jx_opt_strdup(&cx, j, "destination", &out->destination);
    jx_opt_bool(&cx, j, "is_active", false, &out->is_active);
    jx_opt_strdup(&cx, j, "status", &out->status);
    jx_opt_i64(&cx, j, "created_at", 0, &out->created_at);
    jx_opt_i64(&cx, j, "updated_at", 0, &out->updated_at);
    if (cx.rc != MLC_OK)
        bc_hook_clear(out);
    return cx.rc;
}

static int decode_hooks(const json_t *arr, struct bc_hook **out, size_t *n,
                        struct mlc_err *e)
{
    size_t cnt = json_array_size(arr);
    struct bc_hook *v;

    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return MLC_OK;
    v = calloc(cnt, sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu hooks", cnt);
    for (size_t i = 0; i < cnt; i++) {
        int rc = bc_hook_decode(json_array_get(arr, i), &v[i], e);

        if (rc != MLC_OK) {
            bc_hooks_free(v, i);
            return rc;
        }
    }
    *out = v;
    *n = cnt;
    return MLC_OK;
}

int bc_hooks_list(struct bc_client *c, struct bc_hook **out, size_t *n,
                  struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    json_t *all = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    bc_url_init(&u, "/v3/hooks");
    rc = bc_pager_init(&p, c, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    if (rc == MLC_OK)
        rc = bc_pager_collect(&p, LIST_MAX, &all, e);
    if (rc == MLC_OK)
        rc = decode_hooks(all, out, n, e);
    json_decref(all);
    bc_pager_free(&p);
    bc_url_free(&u);
    return rc;
}

/* Decodes {"data": hook} into out (when out is not NULL). */
static int hook_from_body(const json_t *body, struct bc_hook *out, struct mlc_err *e)
{
    const json_t *d = json_object_get(body, "data");

    if (out == NULL)
        return MLC_OK;
    if (!json_is_object(d))
        return mlc_err_set(e, MLC_EPROTO, "hook reply: expected {\"data\": {...}}");
    return bc_hook_decode(d, out, e);
}

struct put_secret_ctx {
    json_t     *headers;
    const char *name;
};

static int put_secret(const char *bytes, size_t len, void *ctx)
{
    struct put_secret_ctx *p = ctx;

    return json_object_set_new(p->headers, p->name, json_stringn(bytes, len)) == 0
               ? MLC_OK
               : MLC_ENOMEM;
}

/* Overwrites the secret header's value inside the body before it is freed. */
static void wipe_body(json_t *body, const char *name)
{
    json_t *v = json_object_get(json_object_get(body, "headers"), name);

    if (json_is_string(v))
        secret_wipe((char *)json_string_value(v), json_string_length(v));
}

static int create_body(const struct bc_hook_spec *s, json_t **out, struct mlc_err *e)
{
    json_t *b = json_pack("{s:s, s:s, s:b}", "scope", s->scope, "destination",
                          s->destination, "is_active", s->is_active);
    int rc = MLC_OK;

    *out = NULL;
    if (b == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a hook");
    if (s->header_name != NULL) {
        struct put_secret_ctx pc = { json_object(), s->header_name };

        if (pc.headers == NULL || json_object_set_new(b, "headers", pc.headers) != 0)
            rc = MLC_ENOMEM;
        else if (s->header_value != NULL)
            rc = secret_use(s->header_value, put_secret, &pc);
        if (rc != MLC_OK) {
            wipe_body(b, s->header_name);
            json_decref(b);
            return mlc_err_set(e, rc, "out of memory for a hook");
        }
    }
    *out = b;
    return MLC_OK;
}

/* Looks for an existing hook with the spec's scope and destination. */
static int find_hook(struct bc_client *c, const struct bc_hook_spec *s, struct bc_hook *out,
                     bool *found, struct mlc_err *e)
{
    struct bc_hook *v = NULL;
    size_t n = 0;
    int rc = bc_hooks_list(c, &v, &n, e);

    *found = false;
    for (size_t i = 0; rc == MLC_OK && i < n && !*found; i++) {
        if (strcmp(v[i].scope, s->scope) == 0 && strcmp(v[i].destination, s->destination) == 0) {
            *out = v[i];
            memset(&v[i], 0, sizeof(v[i]));
            *found = true;
        }
    }
    bc_hooks_free(v, n);
    return rc;
}

int bc_hook_create(struct bc_client *c, const struct bc_hook_spec *spec,
                   struct bc_hook *out, struct mlc_err *e)
{
    json_t *body = NULL;
    struct bc_url u;
    int rc;

    memset(out, 0, sizeof(*out));
    if (spec == NULL || spec->scope == NULL || spec->destination == NULL)
        return mlc_err_set(e, MLC_EINVAL, "hook create: scope and destination are required");
    rc = create_body(spec, &body, e);
    if (rc != MLC_OK)
        return rc;
    bc_url_init(&u, "/v3/hooks");
    for (int attempt = 1; attempt <= CREATE_TRIES; attempt++) {
        struct bc_resp r;
        bool found = false, unknown;

        rc = bc_call(c, "POST", &u, body, false, &r, e);
        if (rc == MLC_OK)
            rc = hook_from_body(r.body, out, e);
        unknown = rc != MLC_OK && (r.status >= 500 || (r.status == 0 && (rc == MLC_ETIMEOUT ||
                                                                          rc == MLC_EIO)));
        bc_resp_clear(&r);
        if (!unknown || attempt == CREATE_TRIES)
            break;
        log_warn("bc", "hook create outcome unknown, looking it up",
                 LF_STR("scope", spec->scope), LF_INT("attempt", attempt), LF_ERR(e));
        rc = find_hook(c, spec, out, &found, e);
        if (rc != MLC_OK || found)
            break;
    }
    if (spec->header_name != NULL)
        wipe_body(body, spec->header_name);
    json_decref(body);
    bc_url_free(&u);
    return rc;
}

int bc_hook_set_active(struct bc_client *c, int64_t id, bool active,
                       struct bc_hook *out, struct mlc_err *e)
{
    json_t *body = json_pack("{s:b}", "is_active", active);
    struct bc_resp r;
    struct bc_url u;
    char path[48];
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (body == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(path, sizeof(path), "/v3/hooks/%" PRId64, id);
    bc_url_init(&u, path);
    rc = bc_call(c, "PUT", &u, body, true, &r, e);
    if (rc == MLC_OK)
        rc = hook_from_body(r.body, out, e);
    bc_resp_clear(&r);
    bc_url_free(&u);
    json_decref(body);
    return rc;
}

int bc_hook_delete(struct bc_client *c, int64_t id, struct mlc_err *e)
{
    struct bc_resp r;
    struct bc_url u;
    char path[48];
    int rc;

    snprintf(path, sizeof(path), "/v3/hooks/%" PRId64, id);
    bc_url_init(&u, path);
    rc = bc_call(c, "DELETE", &u, NULL, true, &r, e);
    bc_resp_clear(&r);
    bc_url_free(&u);
    return rc;
}

/* ---- admin -------------------------------------------------------------- */

void bc_hooks_admin_clear(struct bc_hooks_admin *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_emails; i++)
        free(a->emails[i]);
    free(a->emails);
    bc_hooks_free(a->hooks, a->n_hooks);
    for (size_t i = 0; i < a->n_blocked; i++) {
        free(a->blocked[i].destination);
        free(a->blocked[i].reason);
    }
    free(a->blocked);
    memset(a, 0, sizeof(*a));
}

static int decode_blocked(const json_t *arr, struct bc_hooks_admin *a, struct mlc_err *e)
{
    size_t cnt = json_array_size(arr);

    if (cnt == 0)
        return MLC_OK;
    a->blocked = calloc(cnt, sizeof(*a->blocked));
    if (a->blocked == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        const json_t *it = json_array_get(arr, i);
        struct bc_blocked_domain *b = &a->blocked[i];
        struct jx_ctx cx;

        jx_ctx_init(&cx, "blocked domain", e);
        a->n_blocked++;
        jx_opt_strdup(&cx, it, "destination", &b->destination);
        jx_opt_i64(&cx, it, "time_left", 0, &b->time_left_s);
        jx_opt_strdup(&cx, it, "reasons[0].failure_description", &b->reason);
        if (cx.rc != MLC_OK)
            return cx.rc;
    }
    return MLC_OK;
}

static int decode_emails(const json_t *arr, struct bc_hooks_admin *a, struct mlc_err *e)
{
    size_t cnt = json_array_size(arr);

    if (cnt == 0)
        return MLC_OK;
    a->emails = calloc(cnt, sizeof(*a->emails));
    if (a->emails == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        const char *s = json_string_value(json_array_get(arr, i));

        if (s == NULL)
            return mlc_err_set(e, MLC_EPROTO, "hooks admin: emails[%zu] is not a string", i);
        a->emails[i] = strdup(s);
        if (a->emails[i] == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        a->n_emails++;
    }
    return MLC_OK;
}

int bc_hooks_admin(struct bc_client *c, struct bc_hooks_admin *out,
                   struct mlc_err *e)
{
    struct bc_resp r;
    struct bc_url u;
    const json_t *d;
    int rc;

    memset(out, 0, sizeof(*out));
    bc_url_init(&u, "/v3/hooks/admin");
    rc = bc_call(c, "GET", &u, NULL, true, &r, e);
    d = json_object_get(r.body, "data");
    if (rc == MLC_OK && !json_is_object(d))
        rc = mlc_err_set(e, MLC_EPROTO, "GET /v3/hooks/admin: expected {\"data\": {...}}");
    if (rc == MLC_OK)
        rc = decode_emails(json_object_get(d, "emails"), out, e);
    if (rc == MLC_OK)
        rc = decode_hooks(json_object_get(d, "hooks_list"), &out->hooks, &out->n_hooks, e);
    if (rc == MLC_OK)
        rc = decode_blocked(json_object_get(d, "blocked_domains"), out, e);
    if (rc != MLC_OK)
        bc_hooks_admin_clear(out);
    bc_resp_clear(&r);
    bc_url_free(&u);
    return rc;
}
