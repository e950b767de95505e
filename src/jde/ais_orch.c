/*
 * ais_orch: JDE Standard orchestration inputs, calls and their outcomes.
 */
#include "jde/ais_orch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/money.h"
#include "jde/ais_session.h"

#define ORCH_NAME_MAX 64
#define ORCH_MAX_DEPTH 8

static const char *const default_names[] = {
    "MLC_AddJournalEntry", "MLC_AddVoucher", "MLC_AddCustomer", "MLC_UpdateCustomer"
};

const char *ais_orch_name(const struct ais_session *s, enum ais_orch_kind k)
{
    const struct cfg_jde *c = ais_session_cfg(s);
    const char *n = NULL;

    switch (k) {
    case AIS_ORCH_JOURNAL:         n = c->orch.add_journal_entry; break;
    case AIS_ORCH_VOUCHER:         n = c->orch.add_voucher; break;
    case AIS_ORCH_ADD_CUSTOMER:    n = c->orch.add_customer; break;
    case AIS_ORCH_UPDATE_CUSTOMER: n = c->orch.update_customer; break;
    }
    if (n == NULL || n[0] == '\0')
        n = (unsigned)k < 4 ? default_names[k] : "";
    return n;
}

/* ---- input set ------------------------------------------------------------------ */

struct oi_ent {
    long               grid;   /* -1: header input */
    size_t             row;
    char              *name;
    char              *value;  /* NULL: date */
    struct jdate_civil date;
};

struct ais_orch_in {
    struct oi_ent *ents;
    size_t         n, cap;
    char         **grids;      /* grid names in first-use order */
    size_t        *rows;       /* rows per grid */
    size_t         ngrids;
    long           cur;        /* grid of the latest row, -1 none */
};

int ais_orch_in_new(struct ais_orch_in **out, struct mlc_err *e)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    (*out)->cur = -1;
    return MLC_OK;
}

void ais_orch_in_free(struct ais_orch_in *in)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->n; i++) {
        free(in->ents[i].name);
        free(in->ents[i].value);
    }
    free(in->ents);
    for (size_t i = 0; i < in->ngrids; i++)
        free(in->grids[i]);
    free(in->grids);
    free(in->rows);
    free(in);
}

static int add_ent(struct ais_orch_in *in, long grid, const char *name, const char *value,
                   const struct jdate_civil *d, struct mlc_err *e)
{
    struct oi_ent x = { .grid = grid };
    int rc;

    if (name == NULL || name[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "orchestration input without a name");
    if (value == NULL && d == NULL)
        return mlc_err_set(e, MLC_EINVAL, "orchestration input %s without a value", name);
    if (d != NULL && !jdate_civil_is_blank(d) && (rc = jdate_civil_check(d, e)) != MLC_OK) {
        mlc_err_wrap(e, "orchestration input %s", name);
        return rc;
    }
    if (in->n == in->cap) {
        size_t ncap = in->cap == 0 ? 16 : in->cap * 2;
        struct oi_ent *ne = realloc(in->ents, ncap * sizeof(*ne));

        if (ne == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        in->ents = ne;
        in->cap = ncap;
    }
    x.row = grid >= 0 ? in->rows[grid] - 1 : 0;
    x.name = strdup(name);
    x.value = value != NULL ? strdup(value) : NULL;
    if (d != NULL)
        x.date = *d;
    if (x.name == NULL || (value != NULL && x.value == NULL)) {
        free(x.name);
        free(x.value);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    }
    in->ents[in->n++] = x;
    return MLC_OK;
}

int ais_orch_in_str(struct ais_orch_in *in, const char *name, const char *value,
                    struct mlc_err *e)
{
    return add_ent(in, -1, name, value != NULL ? value : "", NULL, e);
}

int ais_orch_in_i64(struct ais_orch_in *in, const char *name, int64_t v, struct mlc_err *e)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return add_ent(in, -1, name, buf, NULL, e);
}

int ais_orch_in_date(struct ais_orch_in *in, const char *name, const struct jdate_civil *d,
                     struct mlc_err *e)
{
    return add_ent(in, -1, name, NULL, d, e);
}

static int amount_text(int64_t minor, int exponent, char *buf, size_t cap, struct mlc_err *e)
{
    if (money_format(minor, exponent, buf, cap) != MLC_OK)
        return mlc_err_set(e, MLC_EINVAL, "amount with exponent %d cannot be formatted",
                           exponent);
    return MLC_OK;
}

int ais_orch_in_amount(struct ais_orch_in *in, const char *name, int64_t minor,
                       int exponent, struct mlc_err *e)
{
    char buf[MONEY_FMT_MAX];
    int rc = amount_text(minor, exponent, buf, sizeof(buf), e);

    return rc != MLC_OK ? rc : add_ent(in, -1, name, buf, NULL, e);
}

int ais_orch_in_row(struct ais_orch_in *in, const char *grid, struct mlc_err *e)
{
    size_t i;

    if (grid == NULL || grid[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "orchestration grid without a name");
    for (i = 0; i < in->ngrids; i++)
        if (strcmp(in->grids[i], grid) == 0)
            break;
    if (i == in->ngrids) {
        char **ng = realloc(in->grids, (in->ngrids + 1) * sizeof(*ng));
        size_t *nr;

        if (ng == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        in->grids = ng;
        nr = realloc(in->rows, (in->ngrids + 1) * sizeof(*nr));
        if (nr == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        in->rows = nr;
        if ((in->grids[i] = strdup(grid)) == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        in->rows[i] = 0;
        in->ngrids++;
    }
    in->rows[i]++;
    in->cur = (long)i;
    return MLC_OK;
}

static int row_add(struct ais_orch_in *in, const char *name, const char *value,
                   const struct jdate_civil *d, struct mlc_err *e)
{
    if (in->cur < 0)
        return mlc_err_set(e, MLC_ESTATE, "orchestration input %s: no row started",
                           name != NULL ? name : "");
    return add_ent(in, in->cur, name, value, d, e);
}

int ais_orch_row_str(struct ais_orch_in *in, const char *name, const char *value,
                     struct mlc_err *e)
{
    return row_add(in, name, value != NULL ? value : "", NULL, e);
}

int ais_orch_row_amount(struct ais_orch_in *in, const char *name, int64_t minor,
                        int exponent, struct mlc_err *e)
{
    char buf[MONEY_FMT_MAX];
    int rc = amount_text(minor, exponent, buf, sizeof(buf), e);

    return rc != MLC_OK ? rc : row_add(in, name, buf, NULL, e);
}

/* ---- request JSON ------------------------------------------------------------------- */

static int map_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct cfg_str_map *)elem)->match);
}

const char *ais_orch_rename(const struct cfg_jde *cfg, const char *name)
{
    const struct cfg_str_map *m;

    if (cfg == NULL || cfg->n_inputs == 0)
        return name;
    m = bsearch(name, cfg->inputs, cfg->n_inputs, sizeof(*cfg->inputs), map_cmp);
    return m != NULL && m->value != NULL && m->value[0] != '\0' ? m->value : name;
}

static json_t *ent_json(const struct oi_ent *x, const struct cfg_jde *cfg, const char *sdf,
                        struct mlc_err *e)
{
    char buf[JDATE_SDF_SIZE] = "";
    const char *v = x->value;

    if (v == NULL) {
        if (jdate_sdf_format(sdf, &x->date, buf, sizeof(buf), e) < 0) {
            mlc_err_wrap(e, "orchestration input %s", x->name);
            return NULL;
        }
        v = buf;
    }
    return json_pack("{s:s, s:s}", "name", ais_orch_rename(cfg, x->name), "value", v);
}

static int append(json_t *arr, json_t *v, struct mlc_err *e)
{
    if (v == NULL)
        return e != NULL && e->code != MLC_OK ? e->code : MLC_ENOMEM;
    if (json_array_append_new(arr, v) != 0)
        return MLC_ENOMEM;
    return MLC_OK;
}

static json_t *grid_json(const struct ais_orch_in *in, size_t g, const struct cfg_jde *cfg,
                         const char *sdf, struct mlc_err *e)
{
    json_t *rows = json_array(), *out;

    if (rows == NULL)
        return NULL;
    for (size_t r = 0; r < in->rows[g]; r++) {
        json_t *ins = json_array();

        if (append(rows, json_pack("{s:o}", "inputs", ins), e) != MLC_OK)
            goto fail;
        for (size_t i = 0; i < in->n; i++) {
            if (in->ents[i].grid != (long)g || in->ents[i].row != r)
                continue;
            if (append(ins, ent_json(&in->ents[i], cfg, sdf, e), e) != MLC_OK)
                goto fail;
        }
    }
    out = json_pack("{s:s, s:o}", "name", ais_orch_rename(cfg, in->grids[g]), "repeatingInputs", rows);
    return out;
fail:
    json_decref(rows);
    return NULL;
}

int ais_orch_in_json(const struct ais_orch_in *in, const struct cfg_jde *cfg,
                     const char *sdf, json_t **out, struct mlc_err *e)
{
    json_t *ins = json_array(), *det = json_array(), *root;
    struct mlc_err le = { 0 };
    int rc = MLC_OK;

    *out = NULL;
    root = json_pack("{s:o, s:o}", "inputs", ins, "detailInputs", det);
    if (root == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MLC_OK && i < in->n; i++)
        if (in->ents[i].grid < 0)
            rc = append(ins, ent_json(&in->ents[i], cfg, sdf, &le), &le);
    for (size_t g = 0; rc == MLC_OK && g < in->ngrids; g++)
        rc = append(det, grid_json(in, g, cfg, sdf, &le), &le);
    if (rc != MLC_OK) {
        json_decref(root);
        return mlc_err_set(e, rc, "%s", le.code != MLC_OK ? le.msg : "out of memory");
    }
    if (in->ngrids == 0)
        json_object_del(root, "detailInputs");
    *out = root;
    return MLC_OK;
}

/* ---- outcome ------------------------------------------------------------------------- */

static const char *entry_text(const json_t *x)
{
    static const char *const keys[] = { "TITLE", "DESC", "message", "MESSAGE", "title" };

    if (json_is_string(x))
        return json_string_value(x);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = json_string_value(json_object_get(x, keys[i]));

        if (v != NULL && v[0] != '\0')
            return v;
    }
    return "(no message)";
}

/* The first error reported anywhere in a 200 body, NULL when none:
 * "Errors/Warnings"[].Errors, continuedOnError, form errors[], sysErrors. */
static const char *find_error(const json_t *v, int depth)
{
    const char *k, *m;
    json_t *x;
    size_t i;

    if (depth > ORCH_MAX_DEPTH)
        return NULL;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
            if ((m = find_error(x, depth + 1)) != NULL)
                return m;
        return NULL;
    }
    if (!json_is_object(v))
        return NULL;
    json_object_foreach((json_t *)v, k, x) {
        if (json_is_array(x) && json_array_size(x) > 0 &&
            (strcmp(k, "Errors") == 0 || strcmp(k, "errors") == 0 ||
             strcmp(k, "continuedOnError") == 0 || strcmp(k, "sysErrors") == 0))
            return entry_text(json_array_get(x, 0));
        if ((json_is_object(x) || json_is_array(x)) && (m = find_error(x, depth + 1)) != NULL)
            return m;
    }
    return NULL;
}

/* A status that says nothing about whether the orchestration ran. AIS
 * reports an orchestration's own failure as a 500 ServiceErrorResponse (or
 * a 200 with jde__status ERROR). A 502/503/504, whatever its body, comes
 * from whatever stands in front of AIS (proxy, load balancer) and may
 * follow a commit; so may a 500 that is not AIS's, a 408 and a 429. */
static bool status_proves_nothing(int status, const char *ais_msg)
{
    if (status == 500)
        return ais_msg == NULL;
    return status > 500 || status == 408 || status == 429;
}

int ais_orch_judge(const char *name, struct ais_orch_result *res, struct mlc_err *e)
{
    const json_t *b = res->out;
    const char *st = json_string_value(json_object_get(b, "jde__status"));
    const char *msg;

    if (res->status == 200) {
        msg = find_error(b, 0);
        if (st != NULL && strcmp(st, "ERROR") == 0 && msg == NULL) {
            msg = json_string_value(json_object_get(b, "jde__simpleMessage"));
            if (msg == NULL || msg[0] == '\0')
                msg = "jde__status ERROR without a message";
        }
        if (msg == NULL)
            return MLC_OK;
        res->rejected = true;
        return mlc_err_set(e, MLC_EPROTO, "orchestration %s failed: %s", name, msg);
    }
    msg = ais_error_text(b);
    if (res->status == 404)
        return mlc_err_set(e, MLC_ENOTFOUND, "orchestration %s not found on AIS (HTTP 404)",
                           name);
    if (status_proves_nothing(res->status, msg)) {
        res->outcome_unknown = true;
        return mlc_err_set(e, MLC_EIO, "orchestration %s: HTTP %d%s%s%s; outcome unknown",
                           name, res->status, msg != NULL ? " (" : " without an AIS error body",
                           msg != NULL ? msg : "", msg != NULL ? ")" : "");
    }
    res->rejected = true;
    return mlc_err_set(e, res->status == 403 ? MLC_EAUTH : MLC_EPROTO,
                       "orchestration %s failed: HTTP %d %s", name, res->status,
                       msg != NULL ? msg : "(no message)");
}

static bool valid_orch_name(const char *n)
{
    size_t l = n != NULL ? strlen(n) : 0;

    if (l == 0 || l > ORCH_NAME_MAX)
        return false;
    return strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == l &&
           strstr(n, "..") == NULL;
}

int ais_orch_call(struct ais_session *s, const char *name, const struct ais_orch_in *in,
                  struct ais_orch_result *res, struct mlc_err *e)
{
    return ais_orch_call_by(s, name, in, 0, res, e);
}

int ais_orch_call_by(struct ais_session *s, const char *name, const struct ais_orch_in *in,
                     int64_t send_by_ms, struct ais_orch_result *res, struct mlc_err *e)
{
    struct ais_request rq = { "POST", NULL, NULL, 0, AIS_CALL_WRITE, 0, send_by_ms };
    struct ais_response r = { 0 };
    struct ais_login_info info;
    json_t *body = NULL;
    char path[128], *text = NULL;
    int rc;

    ais_orch_result_clear(res);
    res->cfg = ais_session_cfg(s);
    if (!valid_orch_name(name))
        return mlc_err_set(e, MLC_EINVAL, "bad orchestration name '%s'", name ? name : "");
    if ((rc = ais_session_login(s, e)) != MLC_OK) {
        mlc_err_wrap(e, "orchestration %s", name);
        return rc;
    }
    ais_session_info(s, &info);
    if ((rc = ais_orch_in_json(in, res->cfg, info.sdf, &body, e)) != MLC_OK) {
        mlc_err_wrap(e, "orchestration %s", name);
        return rc;
    }
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(path, sizeof(path), "/jderest/v3/orchestrator/%s", name);
    rq.path = path;
    rq.body = text;
    rq.body_len = strlen(text);
    rc = ais_call(s, &rq, &r, e);
    free(text);
    res->status = r.status;
    res->reauth = r.reauth;
    res->outcome_unknown = r.outcome_unknown;
    res->not_sent = r.not_sent;
    res->out = r.json;
    r.json = NULL;
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "orchestration %s", name);
        if (res->outcome_unknown)
            log_warn("ais", "orchestration outcome unknown", LF_STR("orchestration", name),
                     LF_ERR(e));
        return rc;
    }
    return ais_orch_judge(name, res, e);
}

void ais_orch_result_clear(struct ais_orch_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->out);
    memset(res, 0, sizeof(*res));
}

int ais_orch_out_str(const struct ais_orch_result *res, const char *name, char *buf,
                     size_t cap, struct mlc_err *e)
{
    const json_t *v = json_object_get(res->out, ais_orch_rename(res->cfg, name));
    const char *s;
    char num[JX_DEC_MAX];

    if (cap > 0)
        buf[0] = '\0';
    if (v == NULL || json_is_null(v))
        return mlc_err_set(e, MLC_ENOTFOUND, "orchestration output %s is missing", name);
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_real(v) && jx_real_decimal(json_real_value(v), num, sizeof(num), e) == MLC_OK) {
        s = num;
    } else {
        return mlc_err_set(e, MLC_EPROTO, "orchestration output %s is a %s", name,
                           jx_type_name(v));
    }
    if (strlen(s) >= cap)
        return mlc_err_set(e, MLC_ETOOBIG, "orchestration output %s too long", name);
    snprintf(buf, cap, "%s", s);
    return MLC_OK;
}

int ais_orch_out_i64(const struct ais_orch_result *res, const char *name, int64_t *out,
                     struct mlc_err *e)
{
    char buf[32], *end;
    long long x;
    int rc;

    *out = 0;
    if ((rc = ais_orch_out_str(res, name, buf, sizeof(buf), e)) != MLC_OK)
        return rc;
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0')
        return mlc_err_set(e, MLC_EPROTO, "orchestration output %s '%s' is not an integer",
                           name, buf);
    *out = x;
    return MLC_OK;
}

/* ---- discover ------------------------------------------------------------------------- */

int ais_discover(struct ais_session *s, const char *name, json_t **out, struct mlc_err *e)
{
    struct ais_request rq = { "GET", NULL, NULL, 0, AIS_CALL_READ, 0, 0 };
    struct ais_response r = { 0 };
    char path[128];
    int rc;

    *out = NULL;
    if (name != NULL && !valid_orch_name(name))
        return mlc_err_set(e, MLC_EINVAL, "bad orchestration name '%s'", name);
    snprintf(path, sizeof(path), "/jderest/discover%s%s", name != NULL ? "/" : "",
             name != NULL ? name : "");
    rq.path = path;
    rc = ais_call(s, &rq, &r, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "AIS discover");
        return rc;
    }
    if (r.status == 404 && name != NULL)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "orchestration %s is not available to the AIS user "
                         "(discover: HTTP 404)", name);
    else if (r.status != 200 || r.json == NULL)
        rc = mlc_err_set(e, MLC_EPROTO, "AIS discover: HTTP %d %s", r.status,
                         ais_error_text(r.json) ? ais_error_text(r.json) : "");
    if (rc == MLC_OK) {
        *out = r.json;
        r.json = NULL;
    }
    ais_response_clear(&r);
    return rc;
}
