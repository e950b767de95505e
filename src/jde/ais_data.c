/*
 * ais_data: the AIS data service, its query builder, paging with re-runs,
 * row helpers and the typed lookups.
 */
#include "jde/ais_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/strbuf.h"
#include "jde/ais_session.h"

#define AQ_TABLE_MAX 16
#define AQ_COL_MAX 48
#define AQ_MAX_VALUES 1000
#define AQ_MAX_ORDER 8
#define AQ_MAX_PAGE 100000u

struct aq_val {
    enum ais_special   sp;
    char              *text;
    struct jdate_civil date;
};

struct aq_cond {
    char          *col;   /* "F0901.MCU" */
    enum ais_op    op;
    struct aq_val *v;
    size_t         nv;
};

struct ais_query {
    char            table[AQ_TABLE_MAX];
    char           *ids;        /* returnControlIDs, NULL = all */
    struct aq_cond *conds;
    size_t          nconds, cap;
    bool            has_wm;
    char           *wm_date, *wm_time;
    struct jdate_stamp wm;
    char           *order[AQ_MAX_ORDER];
    bool            desc[AQ_MAX_ORDER];
    size_t          norder;
    unsigned        page;
    char          **key;        /* row keys "F0911_DOC" */
    size_t          nkey;
    unsigned        max_reruns;
};

static const char *const op_names[] = {
    "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "BETWEEN",
    "LIST", "STR_START_WITH", "STR_END_WITH", "STR_CONTAIN", "STR_BLANK", "STR_NOT_BLANK"
};

static const char *const sv_names[] = {
    "LITERAL", "LOGIN_USER", "TODAY", "TODAY_PLUS_DAY", "TODAY_MINUS_DAY",
    "TODAY_PLUS_MONTH", "TODAY_MINUS_MONTH", "TODAY_PLUS_YEAR", "TODAY_MINUS_YEAR"
};

/* ---- builder ------------------------------------------------------------------ */

static bool valid_name(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    return true;
}

/* "MCU" / "F0901.MCU" / "F0901_MCU" -> "F0901<sep>MCU". */
static int norm_col(const struct ais_query *q, const char *col, char sep, char *out,
                    size_t cap, struct mlc_err *e)
{
    size_t tl = strlen(q->table);
    const char *alias = col;

    if (col != NULL && strncmp(col, q->table, tl) == 0 && (col[tl] == '.' || col[tl] == '_'))
        alias = col + tl + 1;
    if (!valid_name(alias, 20) || strchr(alias, '_') != NULL)
        return mlc_err_set(e, MLC_EINVAL, "AIS query %s: bad column '%s'", q->table,
                           col != NULL ? col : "");
    snprintf(out, cap, "%s%c%s", q->table, sep, alias);
    return MLC_OK;
}

int ais_query_new(const char *table, struct ais_query **out, struct mlc_err *e)
{
    struct ais_query *q;

    *out = NULL;
    if (!valid_name(table, AQ_TABLE_MAX - 1))
        return mlc_err_set(e, MLC_EINVAL, "AIS query: bad table name '%s'",
                           table != NULL ? table : "");
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(q->table, sizeof(q->table), "%s", table);
    q->max_reruns = AIS_RERUNS_DEFAULT;
    *out = q;
    return MLC_OK;
}

static void cond_clear(struct aq_cond *c)
{
    for (size_t i = 0; i < c->nv; i++)
        free(c->v[i].text);
    free(c->v);
    free(c->col);
}

void ais_query_free(struct ais_query *q)
{
    if (q == NULL)
        return;
    free(q->ids);
    for (size_t i = 0; i < q->nconds; i++)
        cond_clear(&q->conds[i]);
    free(q->conds);
    free(q->wm_date);
    free(q->wm_time);
    for (size_t i = 0; i < q->norder; i++)
        free(q->order[i]);
    for (size_t i = 0; i < q->nkey; i++)
        free(q->key[i]);
    free(q->key);
    free(q);
}

/* Splits a '|' list, normalizing each column with sep; calls add for each. */
static int each_col(const struct ais_query *q, const char *cols, char sep,
                    int (*add)(void *ctx, const char *c), void *ctx, struct mlc_err *e)
{
    char one[AQ_COL_MAX], norm[AQ_COL_MAX];
    int rc;

    if (cols == NULL || cols[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "AIS query %s: empty column list", q->table);
    for (const char *p = cols; p != NULL;) {
        const char *bar = strchr(p, '|');
        size_t l = bar != NULL ? (size_t)(bar - p) : strlen(p);

        if (l >= sizeof(one))
            return mlc_err_set(e, MLC_EINVAL, "AIS query %s: column name too long", q->table);
        memcpy(one, p, l);
        one[l] = '\0';
        if ((rc = norm_col(q, one, sep, norm, sizeof(norm), e)) != MLC_OK)
            return rc;
        if ((rc = add(ctx, norm)) != MLC_OK)
            return mlc_err_set(e, rc, "out of memory");
        p = bar != NULL ? bar + 1 : NULL;
    }
    return MLC_OK;
}

/* Appends column c to the '|' list being built in ctx (a struct strbuf). */
static int ids_add(void *ctx, const char *c)
{
    struct strbuf *b = ctx;

    if (b->len > 0)
        strbuf_addchars(b, '|', 1);
    strbuf_adds(b, c);
    return MLC_OK; /* memory is checked once, at the end */
}

int ais_query_columns(struct ais_query *q, const char *cols, struct mlc_err *e)
{
    struct strbuf b = STRBUF_INIT;
    int rc = each_col(q, cols, '.', ids_add, &b, e);
    char *ids;

    if (rc != MLC_OK) {
        strbuf_release(&b);
        return rc;
    }
    if ((ids = strbuf_take(&b)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    free(q->ids);
    q->ids = ids;
    return MLC_OK;
}

static int key_add(void *ctx, const char *c)
{
    struct ais_query *q = ctx;
    char **nk = realloc(q->key, (q->nkey + 1) * sizeof(*nk));

    if (nk == NULL)
        return MLC_ENOMEM;
    q->key = nk;
    if ((q->key[q->nkey] = strdup(c)) == NULL)
        return MLC_ENOMEM;
    q->nkey++;
    return MLC_OK;
}

int ais_query_key(struct ais_query *q, const char *cols, struct mlc_err *e)
{
    return each_col(q, cols, '_', key_add, q, e);
}

static int vals_needed(enum ais_op op, size_t n)
{
    switch (op) {
    case AIS_OP_STR_BLANK:
    case AIS_OP_STR_NOT_BLANK:
        return n == 0;
    case AIS_OP_BETWEEN:
        return n == 2;
    case AIS_OP_LIST:
        return n >= 1 && n <= AQ_MAX_VALUES;
    default:
        return n == 1;
    }
}

static int val_copy(const struct ais_value *in, struct aq_val *out, struct mlc_err *e)
{
    int rc;
    out->sp = in->special;
    out->date = in->date;
    out->text = NULL;
    if ((unsigned)in->special >= sizeof(sv_names) / sizeof(sv_names[0]))
        return mlc_err_set(e, MLC_EINVAL, "AIS query: unknown special value %d", in->special);
    if (in->special == AIS_SV_LITERAL && in->text == NULL &&
        (rc = jdate_civil_check(&in->date, e)) != MLC_OK) {
        mlc_err_wrap(e, "AIS query: literal without text or a valid date");
        return rc;
    }
    if (in->text != NULL && (out->text = strdup(in->text)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

int ais_query_where(struct ais_query *q, const char *col, enum ais_op op,
                    const struct ais_value *vals, size_t n, struct mlc_err *e)
{
    char norm[AQ_COL_MAX];
    struct aq_cond c = { 0 };
    int rc;

    if ((unsigned)op >= sizeof(op_names) / sizeof(op_names[0]))
        return mlc_err_set(e, MLC_EINVAL, "AIS query %s: unknown operator", q->table);
    if ((rc = norm_col(q, col, '.', norm, sizeof(norm), e)) != MLC_OK)
        return rc;
    if (!vals_needed(op, n))
        return mlc_err_set(e, MLC_EINVAL, "AIS query %s: %s %s: wrong number of values (%zu)",
                           q->table, norm, op_names[op], n);
    if (q->nconds == q->cap) {
        size_t ncap = q->cap == 0 ? 4 : q->cap * 2;
        struct aq_cond *nc = realloc(q->conds, ncap * sizeof(*nc));

        if (nc == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        q->conds = nc;
        q->cap = ncap;
    }
    c.op = op;
    c.col = strdup(norm);
    c.v = n > 0 ? calloc(n, sizeof(*c.v)) : NULL;
    if (c.col == NULL || (n > 0 && c.v == NULL)) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        c.nv++;
        if ((rc = val_copy(&vals[i], &c.v[i], e)) != MLC_OK)
            goto fail;
    }
    q->conds[q->nconds++] = c;
    return MLC_OK;
fail:
    cond_clear(&c);
    return rc;
}

int ais_query_eq(struct ais_query *q, const char *col, const char *literal,
                 struct mlc_err *e)
{
    struct ais_value v = AIS_LIT(literal != NULL ? literal : "");

    return ais_query_where(q, col, AIS_OP_EQUAL, &v, 1, e);
}

int ais_query_watermark(struct ais_query *q, const char *date_col, const char *time_col,
                        const struct jdate_stamp *w, struct mlc_err *e)
{
    char d[AQ_COL_MAX], t[AQ_COL_MAX];
    int rc;

    if ((rc = norm_col(q, date_col, '.', d, sizeof(d), e)) != MLC_OK ||
        (rc = norm_col(q, time_col, '.', t, sizeof(t), e)) != MLC_OK)
        return rc;
    if ((rc = jdate_stamp_check(w, e)) != MLC_OK) {
        mlc_err_wrap(e, "AIS query %s: watermark", q->table);
        return rc;
    }
    free(q->wm_date);
    free(q->wm_time);
    q->wm_date = strdup(d);
    q->wm_time = strdup(t);
    if (q->wm_date == NULL || q->wm_time == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    q->wm = *w;
    q->has_wm = true;
    return MLC_OK;
}

int ais_query_order(struct ais_query *q, const char *col, bool desc, struct mlc_err *e)
{
    char norm[AQ_COL_MAX];
    int rc;

    if (q->norder >= AQ_MAX_ORDER)
        return mlc_err_set(e, MLC_EINVAL, "AIS query %s: at most %d sort columns", q->table,
                           AQ_MAX_ORDER);
    if ((rc = norm_col(q, col, '.', norm, sizeof(norm), e)) != MLC_OK)
        return rc;
    if ((q->order[q->norder] = strdup(norm)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    q->desc[q->norder++] = desc;
    return MLC_OK;
}

void ais_query_page_size(struct ais_query *q, unsigned n)
{
    q->page = n > AQ_MAX_PAGE ? AQ_MAX_PAGE : n;
}

void ais_query_max_reruns(struct ais_query *q, unsigned n)
{
    q->max_reruns = n;
}

/* ---- request JSON -------------------------------------------------------------- */

static json_t *val_json(const struct aq_val *v, const char *sdf, struct mlc_err *e)
{
    char buf[JDATE_SDF_SIZE];
    const char *content = v->text;

    if (v->sp == AIS_SV_LITERAL && content == NULL) {
        if (jdate_sdf_format(sdf, &v->date, buf, sizeof(buf), e) != MLC_OK)
            return NULL;
        content = buf;
    }
    if (content == NULL)
        return json_pack("{s:s}", "specialValueId", sv_names[v->sp]);
    return json_pack("{s:s, s:s}", "content", content, "specialValueId", sv_names[v->sp]);
}

static json_t *cond_json(const struct aq_cond *c, const char *sdf, struct mlc_err *e)
{
    json_t *vals = json_array(), *o;

    if (vals == NULL)
        return NULL;
    for (size_t i = 0; i < c->nv; i++) {
        json_t *v = val_json(&c->v[i], sdf, e);

        if (v == NULL || json_array_append_new(vals, v) != 0) {
            json_decref(vals);
            return NULL;
        }
    }
    o = json_pack("{s:s, s:s, s:o}", "controlId", c->col, "operator", op_names[c->op],
                  "value", vals);
    return o;
}

static json_t *lit_cond(const char *col, const char *op, const char *content)
{
    return json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "controlId", col, "operator", op, "value",
                     "content", content, "specialValueId", "LITERAL");
}

/* (DATE > d) OR (DATE = d AND TIME >= t), as one complexQuery entry. */
static json_t *watermark_json(const struct ais_query *q, const char *sdf, struct mlc_err *e)
{
    struct jdate_civil d;
    char date[JDATE_SDF_SIZE], tm[16];

    if (jdate_julian_to_civil(q->wm.julian, &d, e) != MLC_OK ||
        jdate_sdf_format(sdf, &d, date, sizeof(date), e) != MLC_OK)
        return NULL;
    snprintf(tm, sizeof(tm), "%ld", (long)q->wm.hhmmss);
    return json_pack("{s:s, s:{s:[{s:s, s:{s:s, s:[o]}}, {s:s, s:{s:s, s:[o, o]}}]}}",
                     "andOr", "AND", "query", "complexQuery",
                     "andOr", "AND", "query", "matchType", "MATCH_ALL", "condition",
                     lit_cond(q->wm_date, "GREATER", date),
                     "andOr", "OR", "query", "matchType", "MATCH_ALL", "condition",
                     lit_cond(q->wm_date, "EQUAL", date),
                     lit_cond(q->wm_time, "GREATER_EQUAL", tm));
}

static int part_fail(const struct mlc_err *le, struct mlc_err *e)
{
    if (le->code != MLC_OK)
        return mlc_err_set(e, le->code, "%s", le->msg);
    return mlc_err_set(e, MLC_ENOMEM, "out of memory");
}

static int query_part(const struct ais_query *q, const char *sdf, json_t *root,
                      struct mlc_err *e)
{
    json_t *query, *conds = json_array(), *cx = json_array();
    struct mlc_err le = { 0 };

    query = json_pack("{s:b, s:s, s:o, s:o}", "autoFind", 1, "matchType",
                      "MATCH_ALL", "condition", conds, "complexQuery", cx);
    if (query == NULL || json_object_set_new(root, "query", query) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < q->nconds; i++) {
        json_t *c = cond_json(&q->conds[i], sdf, &le);

        if (c == NULL || json_array_append_new(conds, c) != 0)
            return part_fail(&le, e);
    }
    if (q->has_wm && q->wm.julian != 0) {
        json_t *w = watermark_json(q, sdf, &le);

        if (w == NULL || json_array_append_new(cx, w) != 0)
            return part_fail(&le, e);
    }
    if (json_array_size(cx) == 0)
        json_object_del(query, "complexQuery");
    return MLC_OK;
}

int ais_query_json(const struct ais_query *q, const char *sdf, json_t **out,
                   struct mlc_err *e)
{
    char page[16];
    json_t *root;
    int rc;

    *out = NULL;
    snprintf(page, sizeof(page), "%u", q->page > 0 ? q->page : AIS_PAGE_DEFAULT);
    root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "targetName", q->table,
                     "targetType", "table", "dataServiceType", "BROWSE", "findOnEntry", "TRUE",
                     "outputType", "GRID_DATA", "aliasNaming", 1, "maxPageSize", page,
                     "enableNextPageProcessing", 1);
    if (root == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (q->ids != NULL && json_object_set_new(root, "returnControlIDs", json_string(q->ids)) != 0) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = query_part(q, sdf, root, e)) != MLC_OK)
        goto fail;
    if (q->norder > 0) {
        json_t *ob = json_array();

        for (size_t i = 0; ob != NULL && i < q->norder; i++)
            json_array_append_new(ob, json_pack("{s:s, s:s}", "column", q->order[i],
                                                "direction", q->desc[i] ? "DESC" : "ASC"));
        if (ob == NULL ||
            json_object_set_new(root, "aggregation", json_pack("{s:o}", "orderBy", ob)) != 0) {
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
            goto fail;
        }
    }
    *out = root;
    return MLC_OK;
fail:
    json_decref(root);
    return rc;
}

/* ---- de-duplication set ------------------------------------------------------------- */

struct keyset {
    char  **slot;
    size_t  cap, n;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void keyset_free(struct keyset *k)
{
    for (size_t i = 0; i < k->cap; i++)
        free(k->slot[i]);
    free(k->slot);
    memset(k, 0, sizeof(*k));
}

/* Inserts key (taking ownership); *added false when already present. */
static int keyset_add(struct keyset *k, char *key, bool *added)
{
    size_t i;

    if (2 * (k->n + 1) > k->cap) {
        size_t ncap = k->cap == 0 ? 64 : k->cap * 2;
        char **ns = calloc(ncap, sizeof(*ns));

        if (ns == NULL) {
            free(key);
            return MLC_ENOMEM;
        }
        for (size_t j = 0; j < k->cap; j++) {
            if (k->slot[j] == NULL)
                continue;
            for (i = fnv1a(k->slot[j]) & (ncap - 1); ns[i] != NULL; i = (i + 1) & (ncap - 1))
                ;
            ns[i] = k->slot[j];
        }
        free(k->slot);
        k->slot = ns;
        k->cap = ncap;
    }
    for (i = fnv1a(key) & (k->cap - 1); k->slot[i] != NULL; i = (i + 1) & (k->cap - 1)) {
        if (strcmp(k->slot[i], key) == 0) {
            free(key);
            *added = false;
            return MLC_OK;
        }
    }
    k->slot[i] = key;
    k->n++;
    *added = true;
    return MLC_OK;
}

/* The row's key text: the key values separated by 0x1f. */
static int row_key(const struct ais_query *q, const json_t *row, char **out, struct mlc_err *e)
{
    struct strbuf b = STRBUF_INIT;
    char val[512];
    int rc;

    *out = NULL;
    for (size_t i = 0; i < q->nkey; i++) {
        if ((rc = ais_row_str(row, q->key[i], val, sizeof(val), e)) != MLC_OK) {
            strbuf_release(&b);
            mlc_err_wrap(e, "AIS query %s: key column", q->table);
            return rc;
        }
        strbuf_adds(&b, val);
        strbuf_addchars(&b, '\x1f', 1);
    }
    if ((*out = strbuf_take(&b)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

/* ---- running -------------------------------------------------------------------------- */

struct run {
    struct ais_session     *s;
    const struct ais_query *q;
    ais_row_fn              fn;
    void                   *ctx;
    struct ais_query_stats  st;
    struct keyset           seen;
};

enum page_next { PAGE_DONE, PAGE_MORE, PAGE_RERUN };

/* The grid of a data-service answer: fs_DATABROWSE_<T>.data.gridData. */
static json_t *grid_of(const json_t *body)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)body, k, v) {
        if (strncmp(k, "fs_DATABROWSE_", 14) == 0)
            return json_object_get(json_object_get(v, "data"), "gridData");
    }
    return NULL;
}

/* The next link's path and query re-based onto the AIS base URL; the href
 * held by the JSON document is wiped (it carries the token). *out: caller
 * wipes and frees. */
static int next_path(json_t *body, char **out)
{
    json_t *links = json_object_get(body, "links"), *l, *h;
    size_t i;

    *out = NULL;
    json_array_foreach(links, i, l) {
        const char *rel = json_string_value(json_object_get(l, "rel"));
        const char *href, *p;

        h = json_object_get(l, "href");
        href = json_string_value(h);
        if (rel == NULL || strcmp(rel, "next") != 0 || href == NULL)
            continue;
        p = strstr(href, "/jderest/");
        if (p != NULL)
            *out = strdup(p);
        secret_wipe((char *)href, json_string_length(h));
        return p == NULL ? MLC_EPROTO : *out != NULL ? MLC_OK : MLC_ENOMEM;
    }
    return MLC_ENOTFOUND;
}

static void free_path(char *p)
{
    if (p != NULL) {
        secret_wipe(p, strlen(p));
        free(p);
    }
}

/* Delivers the rows of one page. */
static int deliver(struct run *r, const json_t *grid, struct mlc_err *e)
{
    json_t *rows = json_object_get(grid, "rowset"), *row;
    size_t i;
    int rc;

    if (!json_is_array(rows))
        return mlc_err_set(e, MLC_EPROTO, "AIS data service %s: answer without gridData.rowset",
                           r->q->table);
    json_array_foreach(rows, i, row) {
        if (r->q->nkey > 0) {
            char *key;
            bool added;

            if ((rc = row_key(r->q, row, &key, e)) != MLC_OK)
                return rc;
            if ((rc = keyset_add(&r->seen, key, &added)) != MLC_OK)
                return mlc_err_set(e, rc, "out of memory");
            if (!added) {
                r->st.duplicates++;
                continue;
            }
        }
        if ((rc = r->fn(r->ctx, row, e)) != MLC_OK)
            return rc;
        r->st.rows++;
    }
    return MLC_OK;
}

static bool is_expired(const struct ais_response *resp)
{
    json_t *se = json_object_get(resp->json, "sysErrors"), *x;
    size_t i;

    if (resp->status != 500)
        return false;
    json_array_foreach(se, i, x) {
        const char *t = json_string_value(json_object_get(x, "TITLE"));

        if (t != NULL && strstr(t, "JAS_MSG347") != NULL)
            return true;
    }
    return false;
}

/* Handles one answer: delivers its rows and finds the next page. */
static int handle_page(struct run *r, struct ais_response *resp, char **next,
                       enum page_next *what, struct mlc_err *e)
{
    json_t *grid;
    int rc;

    *next = NULL;
    if (resp->status != 200) {
        const char *m = ais_error_text(resp->json);

        return mlc_err_set(e, resp->status == 404 ? MLC_ENOTFOUND : MLC_EPROTO,
                           "AIS data service %s: HTTP %d %s", r->q->table, resp->status,
                           m != NULL ? m : "");
    }
    grid = grid_of(resp->json);
    if (grid == NULL)
        return mlc_err_set(e, MLC_EPROTO, "AIS data service %s: answer without "
                           "fs_DATABROWSE_%s.data.gridData", r->q->table, r->q->table);
    r->st.pages++;
    if ((rc = deliver(r, grid, e)) != MLC_OK)
        return rc;
    if (!json_is_true(json_object_get(json_object_get(grid, "summary"), "moreRecords"))) {
        *what = PAGE_DONE;
        return MLC_OK;
    }
    rc = next_path(resp->json, next);
    if (rc != MLC_OK)
        return mlc_err_set(e, MLC_EPROTO, "AIS data service %s: more records but %s",
                           r->q->table, rc == MLC_ENOTFOUND ? "no next link"
                                                            : "an unusable next link");
    *what = PAGE_MORE;
    return MLC_OK;
}

/* The pager: the page decoding of a run without its session. */
struct ais_pager {
    struct run r;
};

int ais_pager_new(const struct ais_query *q, ais_row_fn fn, void *ctx,
                  struct ais_pager **out, struct mlc_err *e)
{
    struct ais_pager *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    p->r.q = q;
    p->r.fn = fn;
    p->r.ctx = ctx;
    *out = p;
    return MLC_OK;
}

int ais_pager_page(struct ais_pager *p, int status, json_t *body, char **next, bool *more,
                   struct mlc_err *e)
{
    struct ais_response resp = { .status = status, .json = body };
    enum page_next what = PAGE_DONE;
    int rc = handle_page(&p->r, &resp, next, &what, e);

    *more = rc == MLC_OK && what == PAGE_MORE;
    return rc;
}

void ais_pager_free(struct ais_pager *p)
{
    if (p == NULL)
        return;
    keyset_free(&p->r.seen);
    free(p);
}

/* One pass: the first call and its pages. PAGE_RERUN asks for a re-run. */
static int run_pass(struct run *r, const char *body, size_t len, enum page_next *what,
                    struct mlc_err *e)
{
    struct ais_request rq = { "POST", "/jderest/v2/dataservice", body, len, AIS_CALL_READ, 0, 0 };
    struct ais_response resp = { 0 };
    char *next = NULL;
    int rc;

    rc = ais_call(r->s, &rq, &resp, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "AIS data service %s", r->q->table);
        goto out;
    }
    for (;;) {
        rc = handle_page(r, &resp, &next, what, e);
        ais_response_clear(&resp);
        if (rc != MLC_OK || *what == PAGE_DONE)
            goto out;
        rq = (struct ais_request){ "POST", next, NULL, 0, AIS_CALL_NEXT, 0, 0 };
        rc = ais_call(r->s, &rq, &resp, e);
        free_path(next);
        next = NULL;
        if (rc == MLC_OK && !is_expired(&resp))
            continue;
        if (rc != MLC_OK && !resp.reauth && rc != MLC_ETIMEOUT && rc != MLC_EIO) {
            mlc_err_wrap(e, "AIS data service %s: next page", r->q->table);
            goto out;
        }
        /* Expired result set, refused token or no answer: start again. */
        log_info("ais", "data service result set lost, re-running the query",
                 LF_STR("table", r->q->table), LF_INT("status", resp.status),
                 LF_ERR(rc != MLC_OK ? e : NULL));
        mlc_err_clear(e);
        *what = PAGE_RERUN;
        rc = MLC_OK;
        goto out;
    }
out:
    free_path(next);
    ais_response_clear(&resp);
    return rc;
}

int ais_query_run(struct ais_session *s, const struct ais_query *q, ais_row_fn fn,
                  void *ctx, struct ais_query_stats *st, struct mlc_err *e)
{
    struct run r = { .s = s, .q = q, .fn = fn, .ctx = ctx };
    struct ais_login_info info;
    enum page_next what = PAGE_DONE;
    json_t *body = NULL;
    char *text = NULL;
    int rc;

    if (st != NULL)
        memset(st, 0, sizeof(*st));
    /* Date literals need the login's simpleDateFormat. */
    if ((rc = ais_session_login(s, e)) != MLC_OK) {
        mlc_err_wrap(e, "AIS data service %s", q->table);
        return rc;
    }
    ais_session_info(s, &info);
    if ((rc = ais_query_json(q, info.sdf, &body, e)) != MLC_OK)
        goto out;
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        rc = run_pass(&r, text, strlen(text), &what, e);
        if (rc != MLC_OK || what != PAGE_RERUN)
            break;
        if (r.st.reruns >= q->max_reruns) {
            rc = mlc_err_set(e, MLC_EIO, "AIS data service %s: the result set was lost %zu "
                             "times while paging; giving up", q->table, r.st.reruns + 1);
            break;
        }
        r.st.reruns++;
    }
out:
    if (st != NULL)
        *st = r.st;
    keyset_free(&r.seen);
    free(text);
    json_decref(body);
    return rc;
}

/* ---- row helpers ---------------------------------------------------------------------------- */

static const json_t *cell(const json_t *row, const char *col, struct mlc_err *e)
{
    char key[AQ_COL_MAX];
    const json_t *v;

    snprintf(key, sizeof(key), "%s", col);
    for (char *p = key; *p != '\0'; p++)
        if (*p == '.')
            *p = '_';
    v = json_object_get(row, key);
    if (v == NULL)
        mlc_err_set(e, MLC_ENOTFOUND, "AIS row: no column %s", key);
    return v;
}

int ais_row_str(const json_t *row, const char *col, char *buf, size_t cap,
                struct mlc_err *e)
{
    const json_t *v = cell(row, col, e);
    const char *s;
    char num[JX_DEC_MAX];
    size_t n;

    if (cap > 0)
        buf[0] = '\0';
    if (v == NULL)
        return MLC_ENOTFOUND;
    if (json_is_null(v))
        return MLC_OK;
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_real(v)) {
        if (jx_real_decimal(json_real_value(v), num, sizeof(num), e) != MLC_OK)
            return MLC_EINVAL;
        s = num;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
    } else {
        return mlc_err_set(e, MLC_EPROTO, "AIS row: %s is a %s", col, jx_type_name(v));
    }
    while (*s == ' ')
        s++;
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n >= cap)
        return mlc_err_set(e, MLC_ETOOBIG, "AIS row: %s longer than %zu", col, cap - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return MLC_OK;
}

int ais_row_i64(const json_t *row, const char *col, int64_t *out, struct mlc_err *e)
{
    const json_t *v = cell(row, col, e);
    char txt[32], *end;
    long long x;

    *out = 0;
    if (v == NULL)
        return MLC_ENOTFOUND;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return MLC_OK;
    }
    if (json_is_string(v) && ais_row_str(row, col, txt, sizeof(txt), NULL) == MLC_OK &&
        txt[0] != '\0') {
        errno = 0;
        x = strtoll(txt, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = x;
            return MLC_OK;
        }
    }
    return mlc_err_set(e, MLC_EPROTO, "AIS row: %s is not an integer", col);
}

int ais_row_civil(const json_t *row, const char *col, struct jdate_civil *out,
                  struct mlc_err *e)
{
    const json_t *v = cell(row, col, e);
    int rc;

    memset(out, 0, sizeof(*out));
    if (v == NULL)
        return MLC_ENOTFOUND;
    if (json_is_null(v))
        return JDATE_BLANK;
    if (!json_is_string(v))
        return mlc_err_set(e, MLC_EPROTO, "AIS row: %s: expected a YYYYMMDD string", col);
    rc = jdate_yyyymmdd_parse(json_string_value(v), out, e);
    if (rc < 0)
        mlc_err_wrap(e, "AIS row: %s", col);
    return rc;
}

int ais_row_julian(const json_t *row, const char *col, int32_t *out, struct mlc_err *e)
{
    struct jdate_civil d;
    int rc = ais_row_civil(row, col, &d, e);

    *out = 0;
    if (rc != MLC_OK)
        return rc;
    return jdate_julian_from_civil(&d, out, e);
}

int ais_row_amount(const json_t *row, const char *col, int scale, enum money_round mode,
                   int64_t *out, struct mlc_err *e)
{
    const json_t *v = cell(row, col, e);
    int rc;

    *out = 0;
    if (v == NULL)
        return MLC_ENOTFOUND;
    if (json_is_null(v))
        return MLC_OK;
    if ((rc = jx_money_value(v, scale, mode, out, e)) != MLC_OK) {
        mlc_err_wrap(e, "AIS row: %s", col);
        return rc;
    }
    return MLC_OK;
}

/* ---- lookups ----------------------------------------------------------------------------------- */

/* Runs a small query and keeps the rows in an array (*out, caller decrefs). */
static int collect_fn(void *ctx, const json_t *row, struct mlc_err *e)
{
    if (json_array_append((json_t *)ctx, (json_t *)row) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

static int collect(struct ais_session *s, struct ais_query *q, json_t **out, struct mlc_err *e)
{
    json_t *rows = json_array();
    int rc;

    *out = NULL;
    if (rows == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    rc = ais_query_run(s, q, collect_fn, rows, NULL, e);
    if (rc != MLC_OK) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return MLC_OK;
}

/* JDE stores business units right-justified in 12 characters. */
static int mcu_pad(const char *bu, char out[13], struct mlc_err *e)
{
    size_t b = 0, n = bu != NULL ? strlen(bu) : 0;

    while (b < n && bu[b] == ' ')
        b++;
    while (n > b && bu[n - 1] == ' ')
        n--;
    if (n == b || n - b > 12)
        return mlc_err_set(e, MLC_EINVAL, "business unit '%s' is blank or longer than 12",
                           bu != NULL ? bu : "");
    memset(out, ' ', 12);
    memcpy(out + 12 - (n - b), bu + b, n - b);
    out[12] = '\0';
    return MLC_OK;
}

/* An F0901 row (AID, CO, PEC, DL01) as a found account. */
static int account_of_row(const json_t *r, struct ais_account *out, struct mlc_err *e)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ais_row_str(r, "F0901_AID", out->aid, sizeof(out->aid), e)) ||
        (rc = ais_row_str(r, "F0901_CO", out->co, sizeof(out->co), e)) ||
        (rc = ais_row_str(r, "F0901_PEC", out->pec, sizeof(out->pec), e)) ||
        (rc = ais_row_str(r, "F0901_DL01", out->desc, sizeof(out->desc), e)))
        return rc;
    out->exists = true;
    out->postable = out->pec[0] == '\0';
    return MLC_OK;
}

int ais_account_lookup(struct ais_session *s, const char *bu, const char *obj,
                       const char *sub, struct ais_account *out, struct mlc_err *e)
{
    struct ais_query *q = NULL;
    json_t *rows = NULL, *r;
    char mcu[13];
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = mcu_pad(bu, mcu, e)) != MLC_OK)
        return rc;
    if (obj == NULL || obj[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "account %s: object account is blank", bu);
    if ((rc = ais_query_new("F0901", &q, e)) != MLC_OK)
        return rc;
    if ((rc = ais_query_columns(q, "AID|CO|MCU|OBJ|SUB|PEC|DL01", e)) ||
        (rc = ais_query_eq(q, "MCU", mcu, e)) || (rc = ais_query_eq(q, "OBJ", obj, e)))
        goto out;
    if (sub == NULL || sub[0] == '\0')
        rc = ais_query_where(q, "SUB", AIS_OP_STR_BLANK, NULL, 0, e);
    else
        rc = ais_query_eq(q, "SUB", sub, e);
    if (rc != MLC_OK || (rc = collect(s, q, &rows, e)) != MLC_OK)
        goto out;
    r = json_array_get(rows, 0);
    if (r != NULL)
        rc = account_of_row(r, out, e);
out:
    json_decref(rows);
    ais_query_free(q);
    if (rc != MLC_OK)
        mlc_err_wrap(e, "account %s.%s%s%s", bu, obj, sub != NULL && sub[0] ? "." : "",
                     sub ? sub : "");
    return rc;
}

int ais_bu_exists(struct ais_session *s, const char *bu, bool *exists, struct mlc_err *e)
{
    struct ais_query *q = NULL;
    json_t *rows = NULL;
    char mcu[13];
    int rc;

    *exists = false;
    if ((rc = mcu_pad(bu, mcu, e)) != MLC_OK)
        return rc;
    if ((rc = ais_query_new("F0006", &q, e)) != MLC_OK)
        return rc;
    if ((rc = ais_query_columns(q, "MCU|CO|DL01", e)) == MLC_OK &&
        (rc = ais_query_eq(q, "MCU", mcu, e)) == MLC_OK &&
        (rc = collect(s, q, &rows, e)) == MLC_OK)
        *exists = json_array_size(rows) > 0;
    json_decref(rows);
    ais_query_free(q);
    return rc;
}

/* ---- many accounts and business units at once --------------------------------------- */

/* Adds v to the distinct values vals[0..*n) (the caller sized vals). */
static void distinct_add(const char **vals, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(vals[i], v) == 0)
            return;
    vals[(*n)++] = v;
}

/* A LIST condition on col over vals[0..n) (1..1000 values). */
static int where_list(struct ais_query *q, const char *col, const char *const *vals, size_t n,
                      struct mlc_err *e)
{
    struct ais_value *v = calloc(n, sizeof(*v));
    int rc;

    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = AIS_LIT(vals[i]);
    rc = ais_query_where(q, col, AIS_OP_LIST, v, n, e);
    free(v);
    return rc;
}

/* Rows of a many-account lookup, matched to the accounts asked for. */
struct accts_ctx {
    const struct cfg_account *a;
    size_t                    n;
    struct ais_account       *out;
};

static int accts_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct accts_ctx *m = ctx;
    char mcu[16], obj[10], sub[12];
    int rc;

    if ((rc = ais_row_str(row, "F0901_MCU", mcu, sizeof(mcu), e)) != MLC_OK ||
        (rc = ais_row_str(row, "F0901_OBJ", obj, sizeof(obj), e)) != MLC_OK ||
        (rc = ais_row_str(row, "F0901_SUB", sub, sizeof(sub), e)) != MLC_OK)
        return rc;
    /* The query is a superset (every MCU with every OBJ asked for): keep
     * the exact matches. Linear: a chunk is small. */
    for (size_t i = 0; i < m->n; i++)
        if (!m->out[i].exists && strcmp(m->a[i].bu, mcu) == 0 &&
            strcmp(m->a[i].obj, obj) == 0 && strcmp(m->a[i].sub, sub) == 0 &&
            (rc = account_of_row(row, &m->out[i], e)) != MLC_OK)
            return rc;
    return MLC_OK;
}

/* One F0901 query for a[0..n) (n <= AIS_ACCOUNTS_CHUNK). */
static int accts_chunk(struct ais_session *s, const struct cfg_account *a, size_t n,
                       struct ais_account *out, struct mlc_err *e)
{
    struct accts_ctx m = { .a = a, .n = n, .out = out };
    char (*mcus)[13] = calloc(n, sizeof(*mcus));
    const char **bus = calloc(n, sizeof(*bus)), **objs = calloc(n, sizeof(*objs));
    struct ais_query *q = NULL;
    size_t nb = 0, no = 0;
    int rc = MLC_OK;

    if (mcus == NULL || bus == NULL || objs == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        if ((rc = mcu_pad(a[i].bu, mcus[i], e)) != MLC_OK)
            break;
        if (a[i].obj[0] == '\0') {
            rc = mlc_err_set(e, MLC_EINVAL, "account %s: object account is blank", a[i].bu);
            break;
        }
        distinct_add(bus, &nb, mcus[i]);
        distinct_add(objs, &no, a[i].obj);
    }
    if (rc == MLC_OK && (rc = ais_query_new("F0901", &q, e)) == MLC_OK &&
        (rc = ais_query_columns(q, "AID|CO|MCU|OBJ|SUB|PEC|DL01", e)) == MLC_OK &&
        (rc = where_list(q, "MCU", bus, nb, e)) == MLC_OK &&
        (rc = where_list(q, "OBJ", objs, no, e)) == MLC_OK)
        rc = ais_query_run(s, q, accts_row, &m, NULL, e);
out:
    ais_query_free(q);
    free(mcus);
    free(bus);
    free(objs);
    return rc;
}

int ais_account_lookup_many(struct ais_session *s, const struct cfg_account *accts, size_t n,
                            struct ais_account *out, struct mlc_err *e)
{
    int rc = MLC_OK;

    if (n > 0 && (accts == NULL || out == NULL))
        return mlc_err_set(e, MLC_EINVAL, "F0901 lookup: no accounts");
    if (n == 0)
        return MLC_OK;
    memset(out, 0, n * sizeof(*out));
    for (size_t at = 0; at < n && rc == MLC_OK; at += AIS_ACCOUNTS_CHUNK) {
        size_t k = n - at < AIS_ACCOUNTS_CHUNK ? n - at : AIS_ACCOUNTS_CHUNK;

        rc = accts_chunk(s, accts + at, k, out + at, e);
    }
    if (rc != MLC_OK) {
        memset(out, 0, n * sizeof(*out));
        mlc_err_wrap(e, "F0901 lookup of %zu accounts", n);
    }
    return rc;
}

/* Rows of a many-business-unit lookup. */
struct bus_ctx {
    const char *const *bus;
    size_t             n;
    bool              *exists;
};

static int bus_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct bus_ctx *m = ctx;
    char mcu[16];
    int rc;

    if ((rc = ais_row_str(row, "F0006_MCU", mcu, sizeof(mcu), e)) != MLC_OK)
        return rc;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->bus[i], mcu) == 0)
            m->exists[i] = true;
    return MLC_OK;
}

/* One F0006 query for bus[0..n) (n <= AIS_EXISTS_CHUNK). */
static int bus_chunk(struct ais_session *s, const char *const *bus, size_t n, bool *exists,
                     struct mlc_err *e)
{
    struct bus_ctx m = { .bus = bus, .n = n, .exists = exists };
    char (*mcus)[13] = calloc(n, sizeof(*mcus));
    const char **vals = calloc(n, sizeof(*vals));
    struct ais_query *q = NULL;
    size_t nv = 0;
    int rc = MLC_OK;

    if (mcus == NULL || vals == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == MLC_OK; i++)
        if ((rc = mcu_pad(bus[i], mcus[i], e)) == MLC_OK)
            distinct_add(vals, &nv, mcus[i]);
    if (rc == MLC_OK && (rc = ais_query_new("F0006", &q, e)) == MLC_OK &&
        (rc = ais_query_columns(q, "MCU", e)) == MLC_OK &&
        (rc = where_list(q, "MCU", vals, nv, e)) == MLC_OK)
        rc = ais_query_run(s, q, bus_row, &m, NULL, e);
out:
    ais_query_free(q);
    free(mcus);
    free(vals);
    return rc;
}

int ais_bu_exists_many(struct ais_session *s, const char *const *bus, size_t n, bool *exists,
                       struct mlc_err *e)
{
    int rc = MLC_OK;

    if (n > 0 && (bus == NULL || exists == NULL))
        return mlc_err_set(e, MLC_EINVAL, "F0006 lookup: no business units");
    if (n == 0)
        return MLC_OK;
    memset(exists, 0, n * sizeof(*exists));
    for (size_t at = 0; at < n && rc == MLC_OK; at += AIS_EXISTS_CHUNK) {
        size_t k = n - at < AIS_EXISTS_CHUNK ? n - at : AIS_EXISTS_CHUNK;

        rc = bus_chunk(s, bus + at, k, exists + at, e);
    }
    if (rc != MLC_OK) {
        memset(exists, 0, n * sizeof(*exists));
        mlc_err_wrap(e, "F0006 lookup of %zu business units", n);
    }
    return rc;
}

/* The document of one F0911 / F0411 row (t: the table). */
static int row_doc(const json_t *r, const char *t, int64_t *doc, char dct[3], char kco[6],
                   struct mlc_err *e)
{
    char kd[24], kt[24], kk[24];
    int rc;

    snprintf(kd, sizeof(kd), "%s_DOC", t);
    snprintf(kt, sizeof(kt), "%s_DCT", t);
    snprintf(kk, sizeof(kk), "%s_KCO", t);
    if ((rc = ais_row_i64(r, kd, doc, e)) || (rc = ais_row_str(r, kt, dct, 3, e)) ||
        (rc = ais_row_str(r, kk, kco, 6, e)))
        return rc;
    return MLC_OK;
}

/* Adds a document to out unless it is there already. */
static void docs_add(struct ais_docs *out, int64_t doc, const char *dct, const char *kco)
{
    for (size_t j = 0; j < out->n; j++)
        if (out->doc[j] == doc && strcmp(out->dct[j], dct) == 0 &&
            strcmp(out->kco[j], kco) == 0)
            return;
    if (out->n == AIS_DOCS_MAX) {
        out->truncated = true;
        return;
    }
    out->doc[out->n] = doc;
    snprintf(out->dct[out->n], sizeof(out->dct[0]), "%s", dct);
    snprintf(out->kco[out->n], sizeof(out->kco[0]), "%s", kco);
    out->n++;
}

/* Distinct documents of rows into out. */
static int docs_of(const json_t *rows, const char *t, struct ais_docs *out, struct mlc_err *e)
{
    size_t i;
    json_t *r;
    int rc;

    json_array_foreach(rows, i, r) {
        int64_t doc;
        char dct[3], kco[6];

        if ((rc = row_doc(r, t, &doc, dct, kco, e)) != MLC_OK)
            return rc;
        docs_add(out, doc, dct, kco);
    }
    return MLC_OK;
}

static int doc_lookup(struct ais_session *s, const char *table, const char *company,
                      const char *dct, const char *ref, struct ais_docs *out,
                      struct mlc_err *e)
{
    struct ais_query *q = NULL;
    json_t *rows = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (company == NULL || company[0] == '\0' || ref == NULL || ref[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "%s lookup: company and reference are required",
                           table);
    if ((rc = ais_query_new(table, &q, e)) != MLC_OK)
        return rc;
    if ((rc = ais_query_columns(q, "KCO|DCT|DOC|VINV", e)) ||
        (rc = ais_query_eq(q, "KCO", company, e)) || (rc = ais_query_eq(q, "VINV", ref, e)) ||
        (dct != NULL && dct[0] != '\0' && (rc = ais_query_eq(q, "DCT", dct, e))) ||
        (rc = collect(s, q, &rows, e)) || (rc = docs_of(rows, table, out, e)))
        mlc_err_wrap(e, "%s lookup of %s", table, ref);
    json_decref(rows);
    ais_query_free(q);
    return rc;
}

int ais_journal_exists(struct ais_session *s, const char *company, const char *dct,
                       const char *reference, struct ais_docs *out, struct mlc_err *e)
{
    return doc_lookup(s, "F0911", company, dct, reference, out, e);
}

int ais_voucher_exists(struct ais_session *s, const char *company, const char *invoice,
                       struct ais_docs *out, struct mlc_err *e)
{
    return doc_lookup(s, "F0411", company, NULL, invoice, out, e);
}

/* Rows of a many-reference lookup, spread over the references they carry. */
struct many_ctx {
    const char        *table;
    char               vinv_col[24];
    const char *const *refs;
    size_t             n;
    struct ais_docs   *out;
};

static int many_row(void *ctx, const json_t *row, struct mlc_err *e)
{
    struct many_ctx *m = ctx;
    char vinv[64], dct[3], kco[6];
    int64_t doc;
    int rc;

    if ((rc = ais_row_str(row, m->vinv_col, vinv, sizeof(vinv), e)) != MLC_OK ||
        (rc = row_doc(row, m->table, &doc, dct, kco, e)) != MLC_OK)
        return rc;
    /* Linear: a batch holds a few hundred references at most. */
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->refs[i], vinv) == 0)
            docs_add(&m->out[i], doc, dct, kco);
    return MLC_OK;
}

/* One query for refs[0..n) (n <= AIS_EXISTS_CHUNK). */
static int many_chunk(struct ais_session *s, const char *table, const char *company,
                      const char *dct, const char *const *refs, size_t n,
                      struct ais_docs *out, struct mlc_err *e)
{
    struct many_ctx m = { .table = table, .refs = refs, .n = n, .out = out };
    struct ais_value *vals = calloc(n, sizeof(*vals));
    struct ais_query *q = NULL;
    int rc;

    if (vals == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(m.vinv_col, sizeof(m.vinv_col), "%s_VINV", table);
    for (size_t i = 0; i < n; i++)
        vals[i] = AIS_LIT(refs[i]);
    if ((rc = ais_query_new(table, &q, e)) == MLC_OK &&
        (rc = ais_query_columns(q, "KCO|DCT|DOC|VINV", e)) == MLC_OK &&
        (rc = ais_query_eq(q, "KCO", company, e)) == MLC_OK &&
        (dct == NULL || dct[0] == '\0' || (rc = ais_query_eq(q, "DCT", dct, e)) == MLC_OK) &&
        (rc = ais_query_where(q, "VINV", AIS_OP_LIST, vals, n, e)) == MLC_OK)
        rc = ais_query_run(s, q, many_row, &m, NULL, e);
    ais_query_free(q);
    free(vals);
    return rc;
}

static int doc_lookup_many(struct ais_session *s, const char *table, const char *company,
                           const char *dct, const char *const *refs, size_t n,
                           struct ais_docs *out, struct mlc_err *e)
{
    int rc = MLC_OK;

    if (out == NULL || (n > 0 && refs == NULL))
        return mlc_err_set(e, MLC_EINVAL, "%s lookup: no references", table);
    memset(out, 0, n * sizeof(*out));
    if (company == NULL || company[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "%s lookup: company is required", table);
    for (size_t i = 0; i < n; i++)
        if (refs[i] == NULL || refs[i][0] == '\0')
            return mlc_err_set(e, MLC_EINVAL, "%s lookup: reference %zu is blank", table, i);
    for (size_t at = 0; at < n && rc == MLC_OK; at += AIS_EXISTS_CHUNK) {
        size_t k = n - at < AIS_EXISTS_CHUNK ? n - at : AIS_EXISTS_CHUNK;

        rc = many_chunk(s, table, company, dct, refs + at, k, out + at, e);
    }
    if (rc != MLC_OK) {
        memset(out, 0, n * sizeof(*out));
        mlc_err_wrap(e, "%s lookup of %zu references", table, n);
    }
    return rc;
}

int ais_journal_exists_many(struct ais_session *s, const char *company, const char *dct,
                            const char *const *refs, size_t n, struct ais_docs *out,
                            struct mlc_err *e)
{
    return doc_lookup_many(s, "F0911", company, dct, refs, n, out, e);
}

int ais_voucher_exists_many(struct ais_session *s, const char *company,
                            const char *const *refs, size_t n, struct ais_docs *out,
                            struct mlc_err *e)
{
    return doc_lookup_many(s, "F0411", company, NULL, refs, n, out, e);
}

int ais_customer_exists(struct ais_session *s, const char *alky, bool *found, int64_t *an8,
                        struct mlc_err *e)
{
    struct ais_query *q = NULL;
    json_t *rows = NULL;
    int rc;

    *found = false;
    *an8 = 0;
    if (alky == NULL || alky[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "customer lookup: the key is blank");
    if ((rc = ais_query_new("F0101", &q, e)) != MLC_OK)
        return rc;
    if ((rc = ais_query_columns(q, "AN8|ALKY|ALPH", e)) == MLC_OK &&
        (rc = ais_query_eq(q, "ALKY", alky, e)) == MLC_OK &&
        (rc = collect(s, q, &rows, e)) == MLC_OK && json_array_size(rows) > 0) {
        if (json_array_size(rows) > 1)
            log_warn("ais", "several address book records share one long address number",
                     LF_STR("alky", alky), LF_UINT("count", json_array_size(rows)));
        rc = ais_row_i64(json_array_get(rows, 0), "F0101_AN8", an8, e);
        *found = rc == MLC_OK;
    }
    if (rc != MLC_OK)
        mlc_err_wrap(e, "customer lookup of %s", alky);
    json_decref(rows);
    ais_query_free(q);
    return rc;
}
