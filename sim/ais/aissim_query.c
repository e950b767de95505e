/*
 * aissim_query: the data service (BROWSE over tables), paging through next
 * links and result-set expiry.
 *
 * Query semantics (AIS leaves combination order undocumented): a query's own
 * conditions are combined by its matchType into the first term; then each
 * complexQuery entry is folded in, left to right, with its andOr. When the
 * query has no conditions the first complexQuery entry starts the fold. An
 * empty query matches every row.
 *
 * Date literals in conditions may be written in the caller's
 * simpleDateFormat (as forms take them) or as YYYYMMDD; TODAY specials use
 * the simulated clock at the JDE server's UTC offset.
 */
#include "aissim.h"
#include "aissim_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"
#include "core/money.h"

#define MAX_RSETS 1000
#define MAX_VALUES 1000
#define MAX_DEPTH 8

enum op {
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_BETWEEN, OP_LIST,
    OP_START, OP_END, OP_CONTAIN, OP_BLANK, OP_NOT_BLANK
};

static const struct { const char *name; enum op op; } ops[] = {
    { "EQUAL", OP_EQ }, { "NOT_EQUAL", OP_NE }, { "LESS", OP_LT },
    { "LESS_EQUAL", OP_LE }, { "GREATER", OP_GT }, { "GREATER_EQUAL", OP_GE },
    { "BETWEEN", OP_BETWEEN }, { "LIST", OP_LIST }, { "STR_START_WITH", OP_START },
    { "STR_END_WITH", OP_END }, { "STR_CONTAIN", OP_CONTAIN }, { "STR_BLANK", OP_BLANK },
    { "STR_NOT_BLANK", OP_NOT_BLANK },
};

struct cond {
    int                 col;
    enum op             op;
    struct aissim_cell *vals;   /* strings owned */
    size_t              nvals;
};

struct query {
    bool          any;          /* MATCH_ANY */
    struct cond  *conds;
    size_t        nconds;
    struct query *subs;
    bool         *sub_or;
    size_t        nsubs;
};

struct qctx {
    struct aissim            *s;
    const struct aissim_tdef *d;
    const struct aissim_user *user;
    struct mlc_err           *e;
};

static void query_clear(const struct aissim_tdef *d, struct query *q)
{
    for (size_t i = 0; i < q->nconds; i++) {
        for (size_t j = 0; j < q->conds[i].nvals; j++)
            free(q->conds[i].vals[j].s);
        free(q->conds[i].vals);
    }
    free(q->conds);
    for (size_t i = 0; i < q->nsubs; i++)
        query_clear(d, &q->subs[i]);
    free(q->subs);
    free(q->sub_or);
    memset(q, 0, sizeof(*q));
}

/* ---- literal values ------------------------------------------------------- */

static int add_months(const struct jdate_civil *d, int64_t n, struct jdate_civil *out)
{
    int64_t m = (int64_t)d->year * 12 + (d->month - 1) + n;
    int dim;

    if (m < 12 || m > 9999 * 12 + 11)
        return MLC_ERANGE;
    out->year = (int)(m / 12);
    out->month = (int)(m % 12) + 1;
    dim = jdate_days_in_month(out->year, out->month);
    out->day = d->day < dim ? d->day : dim;
    return MLC_OK;
}

/* Julian date of a TODAY* special value with count n. */
static int special_date(struct qctx *c, const char *id, const char *content, int32_t *out)
{
    struct jdate_civil d, r;
    int32_t jul, hms;
    int64_t n = 0;
    int sign = 1, rc;
    char *end;

    aissim_stamp(c->s, &jul, &hms);
    if (jdate_julian_to_civil(jul, &d, c->e) != MLC_OK)
        return MLC_EINVAL;
    if (strcmp(id, "TODAY") == 0) {
        *out = jul;
        return MLC_OK;
    }
    if (strncmp(id, "TODAY_PLUS_", 11) == 0)
        id += 11;
    else if (strncmp(id, "TODAY_MINUS_", 12) == 0)
        id += 12, sign = -1;
    else
        return mlc_err_set(c->e, MLC_EINVAL, "unknown specialValueId");
    errno = 0;
    n = content != NULL && content[0] != '\0' ? strtoll(content, &end, 10) : 1;
    if (errno != 0 || (content != NULL && content[0] != '\0' && *end != '\0') || n < 0 ||
        n > 100000)
        return mlc_err_set(c->e, MLC_EINVAL, "special value count '%s' is not a count",
                           content != NULL ? content : "");
    n *= sign;
    if (strcmp(id, "DAY") == 0)
        rc = jdate_civil_add_days(&d, n, &r, c->e);
    else if (strcmp(id, "MONTH") == 0)
        rc = add_months(&d, n, &r);
    else if (strcmp(id, "YEAR") == 0)
        rc = add_months(&d, n * 12, &r);
    else
        return mlc_err_set(c->e, MLC_EINVAL, "unknown specialValueId");
    if (rc != MLC_OK || jdate_julian_from_civil(&r, out, c->e) != MLC_OK)
        return mlc_err_set(c->e, MLC_ERANGE, "special date out of range");
    return MLC_OK;
}

/* Parses one value[] entry for column col into cell. */
static int parse_value(struct qctx *c, int col, const json_t *v, struct aissim_cell *cell)
{
    const struct aissim_col *cd = &c->d->cols[col];
    const char *id = json_string_value(json_object_get(v, "specialValueId"));
    json_t *cj = json_object_get(v, "content");
    const char *content = json_string_value(cj);
    char num[32], mcu[13];
    struct jdate_civil dt;
    int32_t jul;

    if (json_is_integer(cj)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(cj));
        content = num;
    }
    if (id == NULL)
        id = "LITERAL";
    if (strncmp(id, "TODAY", 5) == 0) {
        if (cd->type != AISSIM_C_DATE)
            return mlc_err_set(c->e, MLC_EINVAL, "%s is not a date column", cd->alias);
        if (special_date(c, id, content, &jul) != MLC_OK)
            return MLC_EINVAL;
        cell->n = jul;
        return MLC_OK;
    }
    if (strcmp(id, "LOGIN_USER") == 0)
        content = c->user->username;
    else if (strcmp(id, "LITERAL") != 0)
        return mlc_err_set(c->e, MLC_EINVAL, "unknown specialValueId %s", id);
    if (content == NULL)
        return mlc_err_set(c->e, MLC_EINVAL, "%s: value without content", cd->alias);
    switch (cd->type) {
    case AISSIM_C_STR:
        cell->s = strdup(content);
        return cell->s != NULL ? MLC_OK : MLC_ENOMEM;
    case AISSIM_C_MCU:
        if (aissim_mcu_format(content, mcu, c->e) != MLC_OK)
            return MLC_EINVAL;
        cell->s = strdup(mcu);
        return cell->s != NULL ? MLC_OK : MLC_ENOMEM;
    case AISSIM_C_DATE:
        if (jdate_sdf_parse(c->user->sdf, content, JDATE_YY_BASE_DEFAULT, &dt, NULL) == MLC_OK ||
            jdate_yyyymmdd_parse(content, &dt, NULL) == MLC_OK) {
            if (jdate_julian_from_civil(&dt, &jul, c->e) != MLC_OK)
                return MLC_EINVAL;
            cell->n = jul;
            return MLC_OK;
        }
        return mlc_err_set(c->e, MLC_EINVAL, "%s: '%s' is not a date in %s or YYYYMMDD",
                           cd->alias, content, c->user->sdf);
    case AISSIM_C_NUM:
    case AISSIM_C_AMT:
        return aissim_cell_set_str(cd, cell, content, c->e);
    }
    return MLC_EINVAL;
}

/* ---- compiling a query ------------------------------------------------------ */

static int compile_cond(struct qctx *c, const json_t *j, struct cond *out)
{
    const char *cid = json_string_value(json_object_get(j, "controlId"));
    const char *op = json_string_value(json_object_get(j, "operator"));
    json_t *vals = json_object_get(j, "value");
    size_t i, need_min = 1, need_max = 1;
    json_t *v;
    bool found = false;

    if (cid == NULL || op == NULL)
        return mlc_err_set(c->e, MLC_EINVAL, "condition needs controlId and operator");
    out->col = aissim_col_find(c->d, cid);
    if (out->col < 0 || strchr(cid, '.') == NULL)
        return mlc_err_set(c->e, MLC_EINVAL, "unknown controlId %s", cid);
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, op) == 0)
            out->op = ops[i].op, found = true;
    if (!found)
        return mlc_err_set(c->e, MLC_EINVAL, "unknown operator %s", op);
    if (out->op == OP_BLANK || out->op == OP_NOT_BLANK)
        need_min = need_max = 0;
    else if (out->op == OP_BETWEEN)
        need_min = need_max = 2;
    else if (out->op == OP_LIST)
        need_max = MAX_VALUES;
    if (json_array_size(vals) < need_min || json_array_size(vals) > need_max)
        return mlc_err_set(c->e, MLC_EINVAL, "%s %s: wrong number of values", cid, op);
    if (need_max == 0)
        return MLC_OK;
    out->vals = calloc(json_array_size(vals), sizeof(*out->vals));
    if (out->vals == NULL)
        return mlc_err_set(c->e, MLC_ENOMEM, "out of memory");
    json_array_foreach(vals, i, v) {
        out->nvals++;
        int rc = parse_value(c, out->col, v, &out->vals[i]);

        if (rc != MLC_OK) {
            mlc_err_wrap(c->e, "%s", cid);
            return rc;
        }
    }
    return MLC_OK;
}

static int compile(struct qctx *c, const json_t *j, struct query *q, int depth)
{
    const char *mt = json_string_value(json_object_get(j, "matchType"));
    json_t *conds = json_object_get(j, "condition"), *cx = json_object_get(j, "complexQuery");
    size_t i;
    json_t *v;
    int rc;

    if (depth > MAX_DEPTH)
        return mlc_err_set(c->e, MLC_EINVAL, "query nested too deep");
    if (j == NULL || json_is_null(j))
        return MLC_OK;
    if (!json_is_object(j))
        return mlc_err_set(c->e, MLC_EINVAL, "query must be an object");
    if (mt != NULL && strcmp(mt, "MATCH_ANY") != 0 && strcmp(mt, "MATCH_ALL") != 0)
        return mlc_err_set(c->e, MLC_EINVAL, "unknown matchType %s", mt);
    q->any = mt != NULL && strcmp(mt, "MATCH_ANY") == 0;
    if (conds != NULL) {
        if (!json_is_array(conds))
            return mlc_err_set(c->e, MLC_EINVAL, "condition must be an array");
        q->conds = calloc(json_array_size(conds) + 1, sizeof(*q->conds));
        if (q->conds == NULL)
            return mlc_err_set(c->e, MLC_ENOMEM, "out of memory");
        json_array_foreach(conds, i, v) {
            q->nconds++;
            if ((rc = compile_cond(c, v, &q->conds[i])) != MLC_OK)
                return rc;
        }
    }
    if (cx != NULL) {
        if (!json_is_array(cx))
            return mlc_err_set(c->e, MLC_EINVAL, "complexQuery must be an array");
        q->subs = calloc(json_array_size(cx) + 1, sizeof(*q->subs));
        q->sub_or = calloc(json_array_size(cx) + 1, sizeof(*q->sub_or));
        if (q->subs == NULL || q->sub_or == NULL)
            return mlc_err_set(c->e, MLC_ENOMEM, "out of memory");
        json_array_foreach(cx, i, v) {
            const char *ao = json_string_value(json_object_get(v, "andOr"));

            if (ao != NULL && strcmp(ao, "AND") != 0 && strcmp(ao, "OR") != 0)
                return mlc_err_set(c->e, MLC_EINVAL, "andOr must be AND or OR");
            q->sub_or[i] = ao != NULL && strcmp(ao, "OR") == 0;
            q->nsubs++;
            if ((rc = compile(c, json_object_get(v, "query"), &q->subs[i], depth + 1)) != MLC_OK)
                return rc;
        }
    }
    return MLC_OK;
}

/* ---- evaluating -------------------------------------------------------------- */

static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);

    while (n > 0 && s[n - 1] == ' ')
        n--;
    return n;
}

static const char *skip_lead(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

/* Compares ignoring trailing blanks, as JDE's padded CHAR columns do. */
static int cmp_str(const char *a, const char *b)
{
    size_t la = trimmed_len(a), lb = trimmed_len(b);
    int r = memcmp(a, b, la < lb ? la : lb);

    return r != 0 ? r : (la > lb) - (la < lb);
}

static int cmp_cell(const struct aissim_col *cd, const struct aissim_cell *a,
                    const struct aissim_cell *b)
{
    if (cd->type == AISSIM_C_STR || cd->type == AISSIM_C_MCU)
        return cmp_str(a->s, b->s);
    return (a->n > b->n) - (a->n < b->n);
}

static bool str_op(enum op op, const char *cell, const char *val)
{
    const char *c = skip_lead(cell), *v = skip_lead(val);
    size_t lc = trimmed_len(c), lv = trimmed_len(v);

    switch (op) {
    case OP_START:
        return lv <= lc && memcmp(c, v, lv) == 0;
    case OP_END:
        return lv <= lc && memcmp(c + lc - lv, v, lv) == 0;
    default:
        return lv == 0 || memmem(c, lc, v, lv) != NULL;
    }
}

static bool eval_cond(const struct aissim_tdef *d, const struct cond *k,
                      const struct aissim_cell *row)
{
    const struct aissim_col *cd = &d->cols[k->col];
    const struct aissim_cell *c = &row[k->col];
    bool is_str = cd->type == AISSIM_C_STR || cd->type == AISSIM_C_MCU;
    char num[32];

    switch (k->op) {
    case OP_EQ: return cmp_cell(cd, c, &k->vals[0]) == 0;
    case OP_NE: return cmp_cell(cd, c, &k->vals[0]) != 0;
    case OP_LT: return cmp_cell(cd, c, &k->vals[0]) < 0;
    case OP_LE: return cmp_cell(cd, c, &k->vals[0]) <= 0;
    case OP_GT: return cmp_cell(cd, c, &k->vals[0]) > 0;
    case OP_GE: return cmp_cell(cd, c, &k->vals[0]) >= 0;
    case OP_BETWEEN:
        return cmp_cell(cd, c, &k->vals[0]) >= 0 && cmp_cell(cd, c, &k->vals[1]) <= 0;
    case OP_LIST:
        for (size_t i = 0; i < k->nvals; i++)
            if (cmp_cell(cd, c, &k->vals[i]) == 0)
                return true;
        return false;
    case OP_BLANK:
        return is_str ? trimmed_len(skip_lead(c->s)) == 0 : c->n == 0;
    case OP_NOT_BLANK:
        return is_str ? trimmed_len(skip_lead(c->s)) != 0 : c->n != 0;
    default:
        if (is_str)
            return str_op(k->op, c->s, k->vals[0].s);
        /* Numbers compared as their decimal text (AIS allows it on any). */
        snprintf(num, sizeof(num), "%lld", (long long)c->n);
        {
            char vb[32];

            snprintf(vb, sizeof(vb), "%lld", (long long)k->vals[0].n);
            return str_op(k->op, num, vb);
        }
    }
}

static bool eval(const struct aissim_tdef *d, const struct query *q,
                 const struct aissim_cell *row)
{
    bool acc = !q->any, have = q->nconds > 0;

    for (size_t i = 0; i < q->nconds; i++) {
        bool r = eval_cond(d, &q->conds[i], row);

        acc = q->any ? (acc || r) : (acc && r);
    }
    for (size_t i = 0; i < q->nsubs; i++) {
        bool r = eval(d, &q->subs[i], row);

        acc = !have ? r : q->sub_or[i] ? (acc || r) : (acc && r);
        have = true;
    }
    return have ? acc : true;
}

/* ---- ordering ------------------------------------------------------------------ */

struct order {
    const struct aissim_table *t;
    int   cols[8];
    bool  desc[8];
    size_t n;
};

static int cmp_rows(const void *a, const void *b, void *arg)
{
    const struct order *o = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

    for (size_t k = 0; k < o->n; k++) {
        int r = cmp_cell(&o->t->def->cols[o->cols[k]], &o->t->rows[ia][o->cols[k]],
                         &o->t->rows[ib][o->cols[k]]);

        if (r != 0)
            return o->desc[k] ? -r : r;
    }
    return (ia > ib) - (ia < ib);
}

static int parse_order(const struct aissim_table *t, const json_t *req, struct order *o,
                       struct mlc_err *e)
{
    json_t *ob = json_object_get(json_object_get(req, "aggregation"), "orderBy");
    size_t i;
    json_t *v;

    o->t = t;
    o->n = 0;
    if (ob == NULL)
        return MLC_OK;
    if (!json_is_array(ob) || json_array_size(ob) > 8)
        return mlc_err_set(e, MLC_EINVAL, "orderBy must be an array of up to 8 columns");
    json_array_foreach(ob, i, v) {
        const char *col = json_string_value(json_object_get(v, "column"));
        const char *dir = json_string_value(json_object_get(v, "direction"));
        int c = col != NULL ? aissim_col_find(t->def, col) : -1;

        if (c < 0)
            return mlc_err_set(e, MLC_EINVAL, "orderBy: unknown column %s", col ? col : "");
        o->cols[o->n] = c;
        o->desc[o->n++] = dir != NULL && strcmp(dir, "DESC") == 0;
    }
    return MLC_OK;
}

/* ---- result sets ----------------------------------------------------------------- */

static void rset_free(struct aissim_rset *r)
{
    free(r->token);
    free(r->table);
    free(r->ret_ids);
    free(r->idx);
    free(r->cols);
}

static void rset_remove(struct aissim *s, size_t i)
{
    rset_free(&s->rsets[i]);
    memmove(&s->rsets[i], &s->rsets[i + 1], (s->n_rsets - i - 1) * sizeof(*s->rsets));
    s->n_rsets--;
}

void aissim_rsets_drop(struct aissim *s, const char *token)
{
    for (size_t i = s->n_rsets; i-- > 0;)
        if (token == NULL || strcmp(s->rsets[i].token, token) == 0)
            rset_remove(s, i);
}

static struct aissim_rset *rset_add(struct aissim *s)
{
    if (s->n_rsets >= MAX_RSETS)
        rset_remove(s, 0); /* the oldest goes, like a JAS cache eviction */
    if (s->n_rsets == s->cap_rsets) {
        size_t ncap = s->cap_rsets == 0 ? 16 : s->cap_rsets * 2;
        struct aissim_rset *nr = realloc(s->rsets, ncap * sizeof(*nr));

        if (nr == NULL)
            return NULL;
        s->rsets = nr;
        s->cap_rsets = ncap;
    }
    memset(&s->rsets[s->n_rsets], 0, sizeof(*s->rsets));
    return &s->rsets[s->n_rsets++];
}

/* ---- responses ---------------------------------------------------------------------- */

static void url_escape(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && w + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[w++] = (char)*p;
        } else {
            out[w++] = '%';
            out[w++] = hex[*p >> 4];
            out[w++] = hex[*p & 15];
        }
    }
    out[w] = '\0';
}

static json_t *columns_json(const struct aissim_tdef *d, const int *cols, size_t n)
{
    json_t *o = json_object();
    char key[48];

    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s_%s", d->name, d->cols[cols[i]].alias);
        json_object_set_new(o, key, json_string(d->cols[cols[i]].title));
    }
    return o;
}

/* One page of r as the AIS envelope; advances r->pos. */
static json_t *page_json(struct aissim *s, const struct httpd_request *rq,
                         const struct aissim_table *t, struct aissim_rset *r, bool links)
{
    const struct aissim_tdef *d = t->def;
    json_t *rowset = json_array(), *body;
    size_t end = r->pos + r->page < r->n_idx ? r->pos + r->page : r->n_idx;
    bool more = end < r->n_idx;
    char title[64], key[48], app[32], ts[40];

    for (size_t i = r->pos; i < end; i++) {
        json_t *row = json_object();

        for (size_t c = 0; c < r->n_cols; c++) {
            snprintf(key, sizeof(key), "%s_%s", d->name, d->cols[r->cols[c]].alias);
            json_object_set_new(row, key, aissim_cell_json(&d->cols[r->cols[c]],
                                                           &t->rows[r->idx[i]][r->cols[c]]));
        }
        json_array_append_new(rowset, row);
    }
    snprintf(title, sizeof(title), "Data Browser - %s", d->name);
    snprintf(app, sizeof(app), "DATABROWSE_%s", d->name);
    snprintf(key, sizeof(key), "fs_DATABROWSE_%s", d->name);
    aissim_timestamp(s, ts, sizeof(ts));
    r->state_id++;
    body = json_pack("{s:{s:s, s:{s:{s:i, s:s, s:o, s:o, s:{s:I, s:b}}}, s:[], s:[]},"
                     " s:i, s:i, s:s, s:s, s:s, s:[]}",
                     key, "title", title, "data", "gridData", "id", 1, "fullGridId", "1",
                     "columns", columns_json(d, r->cols, r->n_cols), "rowset", rowset,
                     "summary", "records", (json_int_t)(end - r->pos), "moreRecords", more,
                     "errors", "warnings", "stackId", r->stack_id, "stateId", r->state_id,
                     "rid", r->rid, "currentApp", app, "timeStamp", ts, "sysErrors");
    r->pos = end;
    if (more && links) {
        const char *host = httpd_req_header(rq, "Host");
        char tok[256], ids[1024], href[2048], hostbuf[64];

        if (host == NULL) {
            snprintf(hostbuf, sizeof(hostbuf), "127.0.0.1:%u", (unsigned)aissim_port(s));
            host = hostbuf;
        }
        url_escape(r->token, tok, sizeof(tok));
        url_escape(r->ret_ids, ids, sizeof(ids));
        snprintf(href, sizeof(href),
                 "http://%s/jderest/v2/dataservice/next?stackId=%d&stateId=%d&rid=%s"
                 "&fullGridId=1&formOID=%s&token=%s&outputType=GRID_DATA&returnControlIDs=%s",
                 host, r->stack_id, r->state_id, r->rid, d->name, tok, ids);
        json_object_set_new(body, "links", json_pack("[{s:s, s:s}]", "rel", "next", "href", href));
    }
    return body;
}

static void reply_expired(struct aissim *s, struct httpd_response *rs)
{
    (void)s;
    aissim_reply(rs, 500, json_pack("{s:[{s:s, s:s}]}", "sysErrors", "TITLE",
                                    "JAS_MSG347: The query results expired.  Refresh them by "
                                    "clicking Find again.",
                                    "DESC", "The result set of this data request is no longer "
                                    "held by the server; run the query again."));
}

/* ---- endpoints ------------------------------------------------------------------------ */

static int page_size(const struct aissim *s, const json_t *req, size_t *out,
                     struct mlc_err *e)
{
    json_t *v = json_object_get(req, "maxPageSize");
    long long n = s->set.page_default;
    char *end;

    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *t = json_string_value(v);

        if (strcasecmp(t, "No Max") == 0) {
            n = s->set.page_cap;
        } else {
            errno = 0;
            n = strtoll(t, &end, 10);
            if (errno != 0 || end == t || *end != '\0')
                return mlc_err_set(e, MLC_EINVAL, "maxPageSize '%s' is not a number", t);
        }
    } else if (v != NULL) {
        return mlc_err_set(e, MLC_EINVAL, "maxPageSize must be a string");
    }
    if (n <= 0)
        return mlc_err_set(e, MLC_EINVAL, "maxPageSize must be positive");
    *out = (size_t)(n < s->set.page_cap ? n : s->set.page_cap);
    return MLC_OK;
}

static int projection(const struct aissim_tdef *d, const char *ids, int **cols, size_t *n,
                      struct mlc_err *e)
{
    size_t cap = d->ncols;
    char buf[64];

    *cols = calloc(cap + 1, sizeof(**cols));
    *n = 0;
    if (*cols == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (ids == NULL || ids[0] == '\0') {
        for (size_t i = 0; i < d->ncols; i++)
            (*cols)[(*n)++] = (int)i;
        return MLC_OK;
    }
    for (const char *p = ids; p != NULL;) {
        const char *bar = strchr(p, '|');
        size_t l = bar != NULL ? (size_t)(bar - p) : strlen(p);
        int c;

        snprintf(buf, sizeof(buf), "%.*s", (int)(l < 63 ? l : 63), p);
        c = aissim_col_find(d, buf);
        if (c < 0 || strchr(buf, '.') == NULL)
            return mlc_err_set(e, MLC_EINVAL, "returnControlIDs: unknown column '%s'", buf);
        if (*n < cap)
            (*cols)[(*n)++] = c;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return MLC_OK;
}

/* Runs the query of req over t into r (idx, cols). */
static int run_query(struct aissim *s, const struct aissim_token *tok, const json_t *req,
                     struct aissim_table *t, struct aissim_rset *r, struct mlc_err *e)
{
    struct qctx c = { s, t->def, &s->users[tok->user], e };
    struct query q = { 0 };
    struct order o;
    int rc;

    rc = projection(t->def, json_string_value(json_object_get(req, "returnControlIDs")),
                    &r->cols, &r->n_cols, e);
    if (rc == MLC_OK)
        rc = compile(&c, json_object_get(req, "query"), &q, 0);
    if (rc == MLC_OK)
        rc = parse_order(t, req, &o, e);
    if (rc != MLC_OK)
        goto out;
    r->idx = calloc(t->n + 1, sizeof(*r->idx));
    if (r->idx == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->n; i++)
        if (eval(t->def, &q, t->rows[i]))
            r->idx[r->n_idx++] = i;
    if (o.n > 0)
        qsort_r(r->idx, r->n_idx, sizeof(*r->idx), cmp_rows, &o);
out:
    query_clear(t->def, &q);
    return rc;
}

void aissim_ep_dataservice(struct aissim *s, const struct httpd_request *rq,
                           struct httpd_response *rs, bool v2)
{
    json_t *req = aissim_body_json(s, rq, rs);
    struct aissim_rset tmp = { 0 }, *keep;
    struct mlc_err e = { 0 };
    struct aissim_token *tok;
    struct aissim_table *t;
    const char *tn, *tt, *dst, *ids;
    bool next;

    if (req == NULL)
        return;
    tok = aissim_auth(s, rq, req, true, false);
    if (tok == NULL) {
        aissim_reply_bad_token(s, rs);
        goto out;
    }
    tn = json_string_value(json_object_get(req, "targetName"));
    tt = json_string_value(json_object_get(req, "targetType"));
    dst = json_string_value(json_object_get(req, "dataServiceType"));
    ids = json_string_value(json_object_get(req, "returnControlIDs"));
    t = tn != NULL ? aissim_db_table(s->db, tn) : NULL;
    if (t == NULL || (tt != NULL && strcmp(tt, "table") != 0)) {
        aissim_reply_error(s, rs, 500, "targetName is not a simulated table",
                           "com.oracle.e1.jdemf.DataServiceException");
        goto out;
    }
    if (dst != NULL && strcmp(dst, "BROWSE") != 0) {
        aissim_reply_error(s, rs, 500, "only BROWSE is simulated",
                           "com.oracle.e1.jdemf.DataServiceException");
        goto out;
    }
    if (page_size(s, req, &tmp.page, &e) != MLC_OK ||
        run_query(s, tok, req, t, &tmp, &e) != MLC_OK) {
        aissim_reply_error(s, rs, 500, e.msg, "com.oracle.e1.jdemf.DataServiceException");
        goto out;
    }
    tmp.stack_id = s->next_stack_id++;
    aissim_random_hex(tmp.rid, 16);
    tmp.token = strdup(tok->token);
    tmp.table = strdup(t->def->name);
    tmp.ret_ids = strdup(ids != NULL ? ids : "");
    tmp.last_access = aissim_now(s);
    if (tmp.token == NULL || tmp.table == NULL || tmp.ret_ids == NULL) {
        aissim_reply_error(s, rs, 500, "out of memory", "java.lang.OutOfMemoryError");
        goto out;
    }
    next = v2 && json_is_true(json_object_get(req, "enableNextPageProcessing"));
    aissim_reply(rs, 200, page_json(s, rq, t, &tmp, next));
    if (next && tmp.pos < tmp.n_idx && (keep = rset_add(s)) != NULL) {
        *keep = tmp;
        memset(&tmp, 0, sizeof(tmp));
    }
out:
    rset_free(&tmp);
    json_decref(req);
}

void aissim_ep_next(struct aissim *s, const struct httpd_request *rq,
                    struct httpd_response *rs)
{
    json_t *body = aissim_body_json(s, rq, rs);
    const char *rid = httpd_req_query(rq, "rid");
    struct aissim_token *tok;
    struct aissim_table *t;
    size_t i;

    if (body == NULL)
        return;
    tok = aissim_auth(s, rq, body, true, true);
    if (tok == NULL) {
        aissim_reply_bad_token(s, rs);
        goto out;
    }
    for (i = 0; rid != NULL && i < s->n_rsets; i++)
        if (strcmp(s->rsets[i].rid, rid) == 0 && strcmp(s->rsets[i].token, tok->token) == 0)
            break;
    if (rid == NULL || i == s->n_rsets ||
        aissim_now(s) - s->rsets[i].last_access > s->set.result_set_timeout_s) {
        if (rid != NULL && i < s->n_rsets)
            rset_remove(s, i);
        reply_expired(s, rs);
        goto out;
    }
    t = aissim_db_table(s->db, s->rsets[i].table);
    s->rsets[i].last_access = aissim_now(s);
    aissim_reply(rs, 200, page_json(s, rq, t, &s->rsets[i], true));
    if (s->rsets[i].pos >= s->rsets[i].n_idx)
        rset_remove(s, i);
out:
    json_decref(body);
}
