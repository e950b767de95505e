/*
 * json: jansson loading, path walking, typed getters, and the one place
 * where a JSON real becomes a decimal string for money.
 */
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

/* How much of a path an error message shows. */
#define PATH_SHOW_MAX 200

/* Longest "%.17g" of a double: sign, 17 digits, point, "e-308", NUL. */
#define SHORTEST_MAX 32

void jx_ctx_init(struct jx_ctx *cx, const char *where, struct mlc_err *e)
{
    if (cx == NULL)
        return;
    cx->where = where;
    cx->e = e;
    cx->rc = MLC_OK;
}

/* Records a failure at path[0..plen) in cx unless one is already there, and
 * returns code. Message: "<where>: <path>: <what>". */
__attribute__((format(printf, 5, 6)))
static int jx_fail(struct jx_ctx *cx, int code, const char *path, size_t plen,
                   const char *fmt, ...)
{
    char what[MLC_ERR_MSG_MAX];
    const char *where;
    va_list ap;

    if (cx == NULL || cx->rc != MLC_OK)
        return code;
    cx->rc = code;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    where = cx->where != NULL ? cx->where : "";
    if (path == NULL || plen == 0) {
        path = "<root>";
        plen = strlen(path);
    }
    if (plen > PATH_SHOW_MAX)
        plen = PATH_SHOW_MAX;
    mlc_err_set(cx->e, code, "%s%s%.*s: %s", where, *where != '\0' ? ": " : "", (int)plen,
                path, what);
    return code;
}

static int fail_at(struct jx_ctx *cx, int code, const char *path, const char *what)
{
    return jx_fail(cx, code, path, path != NULL ? strlen(path) : 0, "%s", what);
}

static int type_err(struct jx_ctx *cx, const char *path, const char *want, const json_t *v)
{
    return jx_fail(cx, MLC_EPROTO, path, strlen(path), "expected %s, got %s", want,
                   jx_type_name(v));
}

const char *jx_type_name(const json_t *v)
{
    if (v == NULL)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "object";
    case JSON_ARRAY:   return "array";
    case JSON_STRING:  return "string";
    case JSON_INTEGER: return "number";
    case JSON_REAL:    return "number";
    case JSON_TRUE:    return "boolean";
    case JSON_FALSE:   return "boolean";
    case JSON_NULL:    return "null";
    }
    return "unknown";
}

int jx_loads(const char *text, size_t len, size_t flags, json_t **out, struct mlc_err *e)
{
    json_error_t je;
    json_t *root;

    if (out == NULL || text == NULL)
        return mlc_err_set(e, MLC_EINVAL, "jx_loads: NULL argument");
    *out = NULL;
    root = json_loadb(text, len, flags | JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return mlc_err_set(e, MLC_EPARSE, "JSON error at line %d, column %d: %s", je.line,
                           je.column, je.text);
    *out = root;
    return MLC_OK;
}

/* ---- path walking ---- */

static int bad_path(struct jx_ctx *cx, const char *path)
{
    return fail_at(cx, MLC_EINVAL, path, "malformed path");
}

/* Steps from *cur into the key at *pp (ending at '.', '[', ']' or NUL).
 * *cur becomes NULL once the value is absent (missing key, index past the
 * end, null container); later steps still check the path's syntax. */
static int step_key(struct jx_ctx *cx, const char *path, const char **pp, json_t **cur)
{
    const char *key = *pp;
    size_t klen = strcspn(key, ".[]");
    size_t at = (size_t)(key - path);   /* prefix naming the container */

    if (klen == 0 || key[klen] == ']')
        return bad_path(cx, path);
    *pp = key + klen;
    if (at > 0 && path[at - 1] == '.')
        at--;
    if (*cur == NULL || json_is_null(*cur)) {
        *cur = NULL;   /* absent: keep checking the path's syntax */
        return MLC_OK;
    }
    if (!json_is_object(*cur))
        return jx_fail(cx, MLC_EPROTO, path, at, "expected object, got %s",
                       jx_type_name(*cur));
    *cur = json_object_getn(*cur, key, klen);
    return MLC_OK;
}

/* Steps from *cur into the element "[N]" at *pp. */
static int step_index(struct jx_ctx *cx, const char *path, const char **pp, json_t **cur)
{
    const char *p = *pp + 1;
    size_t at = (size_t)(*pp - path), idx = 0, nd = 0;

    for (; *p >= '0' && *p <= '9'; p++, nd++)
        idx = idx * 10 + (size_t)(*p - '0');
    if (nd == 0 || nd > 9 || *p != ']')
        return bad_path(cx, path);
    *pp = p + 1;
    if (*cur == NULL || json_is_null(*cur)) {
        *cur = NULL;
        return MLC_OK;
    }
    if (!json_is_array(*cur))
        return jx_fail(cx, MLC_EPROTO, path, at, "expected array, got %s",
                       jx_type_name(*cur));
    *cur = json_array_get(*cur, idx);
    return MLC_OK;
}

/* Finds the value at path: MLC_OK with *out (possibly JSON null),
 * MLC_ENOTFOUND when absent (not reported), other codes reported in cx. */
static int walk(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    json_t *cur = (json_t *)root;   /* jansson's getters hand out non-const */
    const char *p = path;
    int rc = MLC_OK;

    *out = NULL;
    if (path == NULL)
        return fail_at(cx, MLC_EINVAL, NULL, "NULL path");
    while (*p != '\0' && rc == MLC_OK) {
        if (*p == '[') {
            rc = step_index(cx, path, &p, &cur);
        } else if ((p == path) == (*p == '.')) {
            return bad_path(cx, path);   /* a key starts the path or follows '.' */
        } else {
            p += *p == '.';
            rc = step_key(cx, path, &p, &cur);
        }
    }
    if (rc != MLC_OK)
        return rc;
    *out = cur;
    return cur != NULL ? MLC_OK : MLC_ENOTFOUND;
}

/* A required value: absent is reported as missing. */
static int need(struct jx_ctx *cx, const json_t *root, const char *path, json_t **v)
{
    int rc = walk(cx, root, path, v);

    if (rc == MLC_ENOTFOUND)
        return fail_at(cx, rc, path, "missing");
    return rc;
}

/* An optional value: *v is NULL when absent or JSON null. */
static int want(struct jx_ctx *cx, const json_t *root, const char *path, json_t **v)
{
    int rc = walk(cx, root, path, v);

    if (rc == MLC_ENOTFOUND || (rc == MLC_OK && json_is_null(*v))) {
        *v = NULL;
        return MLC_OK;
    }
    return rc;
}

static int null_out(struct jx_ctx *cx, const char *path)
{
    return fail_at(cx, MLC_EINVAL, path, "NULL output argument");
}

/* ---- typed conversions of a found value ---- */

static int as_str(struct jx_ctx *cx, const char *path, const json_t *v, const char **out)
{
    if (!json_is_string(v))
        return type_err(cx, path, "string", v);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail_at(cx, MLC_EPROTO, path, "string contains a NUL character");
    *out = json_string_value(v);
    return MLC_OK;
}

/* The shortest "%.Ng" that reads back as d; 17 digits always do. */
static void shortest(double d, char *buf, size_t cap)
{
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static int as_i64(struct jx_ctx *cx, const char *path, const json_t *v, int64_t *out)
{
    char g[SHORTEST_MAX];
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return MLC_OK;
    }
    if (!json_is_real(v))
        return type_err(cx, path, "integer", v);
    d = json_real_value(v);
    /* 2^63 is exact in a double; the negated test also catches NaN. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        shortest(d, g, sizeof(g));
        return jx_fail(cx, MLC_ERANGE, path, strlen(path), "%s is out of range for an integer",
                       g);
    }
    if ((double)(int64_t)d != d) {
        shortest(d, g, sizeof(g));
        return jx_fail(cx, MLC_EPROTO, path, strlen(path), "expected integer, got %s", g);
    }
    *out = (int64_t)d;
    return MLC_OK;
}

static int as_bool(struct jx_ctx *cx, const char *path, const json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return type_err(cx, path, "boolean", v);
    *out = json_is_true(v);
    return MLC_OK;
}

static int as_type(struct jx_ctx *cx, const char *path, json_t *v, json_type t, json_t **out)
{
    if (json_typeof(v) != t)
        return type_err(cx, path, t == JSON_OBJECT ? "object" : "array", v);
    *out = v;
    return MLC_OK;
}

static int as_money(struct jx_ctx *cx, const char *path, const json_t *v, int scale,
                    enum money_round mode, int64_t *out)
{
    struct mlc_err me;
    int rc;

    mlc_err_clear(&me);
    rc = jx_money_value(v, scale, mode, out, &me);
    if (rc != MLC_OK)
        return fail_at(cx, rc, path, me.msg);
    return MLC_OK;
}

/* ---- public getters ---- */

int jx_get(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    if (out == NULL)
        return null_out(cx, path);
    return need(cx, root, path, out);
}

int jx_get_str(struct jx_ctx *cx, const json_t *root, const char *path, const char **out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = NULL;
    if ((rc = need(cx, root, path, &v)) != MLC_OK)
        return rc;
    return as_str(cx, path, v, out);
}

int jx_opt_str(struct jx_ctx *cx, const json_t *root, const char *path, const char *def,
               const char **out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = NULL;
    if ((rc = want(cx, root, path, &v)) != MLC_OK)
        return rc;
    if (v == NULL) {
        *out = def;
        return MLC_OK;
    }
    return as_str(cx, path, v, out);
}

int jx_opt_strdup(struct jx_ctx *cx, const json_t *root, const char *path,
                  char **out)
{
    const char *s = NULL;
    int rc = jx_opt_str(cx, root, path, "", &s);

    *out = strdup(s != NULL ? s : "");
    if (*out == NULL) {
        rc = MLC_ENOMEM;
        if (cx->rc == MLC_OK) {
            cx->rc = rc;
            mlc_err_set(cx->e, rc, "%s%s%s: out of memory", cx->where ? cx->where : "",
                        cx->where ? ": " : "", path);
        }
    }
    return rc;
}

int jx_get_i64(struct jx_ctx *cx, const json_t *root, const char *path, int64_t *out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = 0;
    if ((rc = need(cx, root, path, &v)) != MLC_OK)
        return rc;
    return as_i64(cx, path, v, out);
}

int jx_opt_i64(struct jx_ctx *cx, const json_t *root, const char *path, int64_t def,
               int64_t *out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = 0;
    if ((rc = want(cx, root, path, &v)) != MLC_OK)
        return rc;
    if (v == NULL) {
        *out = def;
        return MLC_OK;
    }
    return as_i64(cx, path, v, out);
}

int jx_get_bool(struct jx_ctx *cx, const json_t *root, const char *path, bool *out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = false;
    if ((rc = need(cx, root, path, &v)) != MLC_OK)
        return rc;
    return as_bool(cx, path, v, out);
}

int jx_opt_bool(struct jx_ctx *cx, const json_t *root, const char *path, bool def, bool *out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = false;
    if ((rc = want(cx, root, path, &v)) != MLC_OK)
        return rc;
    if (v == NULL) {
        *out = def;
        return MLC_OK;
    }
    return as_bool(cx, path, v, out);
}

static int get_container(struct jx_ctx *cx, const json_t *root, const char *path,
                         json_type t, bool optional, json_t **out)
{
    json_t *v;
    int rc;

    if (out == NULL)
        return null_out(cx, path);
    *out = NULL;
    rc = optional ? want(cx, root, path, &v) : need(cx, root, path, &v);
    if (rc != MLC_OK || v == NULL)
        return rc;
    return as_type(cx, path, v, t, out);
}

int jx_get_obj(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    return get_container(cx, root, path, JSON_OBJECT, false, out);
}

int jx_opt_obj(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    return get_container(cx, root, path, JSON_OBJECT, true, out);
}

int jx_get_arr(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    return get_container(cx, root, path, JSON_ARRAY, false, out);
}

int jx_opt_arr(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out)
{
    return get_container(cx, root, path, JSON_ARRAY, true, out);
}

int jx_get_money(struct jx_ctx *cx, const json_t *root, const char *path, int scale,
                 enum money_round mode, int64_t *minor)
{
    json_t *v;
    int rc;

    if (minor == NULL)
        return null_out(cx, path);
    *minor = 0;
    if ((rc = need(cx, root, path, &v)) != MLC_OK)
        return rc;
    return as_money(cx, path, v, scale, mode, minor);
}

int jx_opt_money(struct jx_ctx *cx, const json_t *root, const char *path, int scale,
                 enum money_round mode, int64_t def, int64_t *minor)
{
    json_t *v;
    int rc;

    if (minor == NULL)
        return null_out(cx, path);
    *minor = 0;
    if ((rc = want(cx, root, path, &v)) != MLC_OK)
        return rc;
    if (v == NULL) {
        *minor = def;
        return MLC_OK;
    }
    return as_money(cx, path, v, scale, mode, minor);
}

int jx_get_money_cur(struct jx_ctx *cx, const json_t *root, const char *path,
                     const char *currency, enum money_round mode, int64_t *minor)
{
    struct mlc_err me;
    int exponent, rc;

    if (minor != NULL)
        *minor = 0;
    mlc_err_clear(&me);
    if ((rc = money_exponent(currency, &exponent, &me)) != MLC_OK)
        return fail_at(cx, rc, path, me.msg);
    return jx_get_money(cx, root, path, exponent, mode, minor);
}

/* ---- money from JSON values ---- */

int jx_money_value(const json_t *v, int scale, enum money_round mode, int64_t *minor,
                   struct mlc_err *e)
{
    char dec[JX_DEC_MAX];
    const char *s;
    int rc;

    if (minor == NULL)
        return mlc_err_set(e, MLC_EINVAL, "jx_money_value: NULL output");
    *minor = 0;
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
            return mlc_err_set(e, MLC_EINVAL, "amount string contains a NUL character");
        return money_parse_at(s, scale, mode, minor, e);
    case JSON_INTEGER:
        /* scaling up never rounds; only overflow can fail */
        return money_round_scale(json_integer_value(v), 0, scale, MONEY_ROUND_EXACT, minor, e);
    case JSON_REAL:
        if ((rc = jx_real_decimal(json_real_value(v), dec, sizeof(dec), e)) != MLC_OK)
            return rc;
        return money_parse_at(dec, scale, mode, minor, e);
    default:
        return mlc_err_set(e, MLC_EPROTO, "expected decimal string or number, got %s",
                           jx_type_name(v));
    }
}

/* Scientific or plain "%g" text split into significant digits and the
 * position of the decimal point relative to the first one. */
struct gnum {
    bool neg;
    char digs[SHORTEST_MAX];
    int  nd;      /* significant digits in digs, no leading/trailing zeros */
    int  point;   /* digits before the decimal point (may be <= 0 or > nd) */
};

/* Reads the optional "e[+-]NNN" tail of a "%g" string. */
static bool g_exponent(const char *p, int *exp)
{
    bool neg = false;
    int n = 0, nd = 0;

    if (*p == '\0')
        return true;
    if (*p++ != 'e')
        return false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    for (; *p >= '0' && *p <= '9' && nd < 4; p++, nd++)
        n = n * 10 + (*p - '0');
    if (nd == 0 || *p != '\0')
        return false;
    *exp = neg ? -n : n;
    return true;
}

static bool g_parse(const char *g, struct gnum *n)
{
    const char *p = g;
    bool seen_point = false;
    int zeros = 0, exp = 0;

    n->neg = *p == '-';
    p += n->neg;
    n->nd = n->point = 0;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !seen_point); p++) {
        if (*p == '.') {
            seen_point = true;
        } else if (n->nd == 0 && *p == '0') {
            zeros++;   /* a leading zero: after the point it moves the point */
            n->point -= seen_point;
        } else if (n->nd < (int)sizeof(n->digs)) {
            n->digs[n->nd++] = *p;
            n->point += !seen_point;
        } else {
            return false;
        }
    }
    if (zeros + n->nd == 0 || !g_exponent(p, &exp))
        return false;
    while (n->nd > 0 && n->digs[n->nd - 1] == '0')
        n->nd--;   /* the point stays: output pads zeros back up to it */
    n->point += exp;
    return true;
}

int jx_real_decimal(double d, char *buf, size_t cap, struct mlc_err *e)
{
    char g[SHORTEST_MAX];
    struct gnum n;
    struct strbuf sb = STRBUF_INIT;
    int rc = MLC_OK;

    if (buf == NULL)
        return mlc_err_set(e, MLC_EINVAL, "jx_real_decimal: NULL buffer");
    if (cap > 0)
        buf[0] = '\0';
    if (!isfinite(d))
        return mlc_err_set(e, MLC_EINVAL, "number is not finite");
    shortest(d, g, sizeof(g));
    if (!g_parse(g, &n))
        return mlc_err_set(e, MLC_EINVAL, "unexpected number format '%s' (locale?)", g);
    if (n.nd == 0) {
        strbuf_addchars(&sb, '0', 1);
    } else {
        strbuf_addchars(&sb, '-', n.neg);
        if (n.point <= 0) {
            strbuf_add(&sb, "0.", 2);
            strbuf_addchars(&sb, '0', (size_t)-n.point);
            strbuf_add(&sb, n.digs, (size_t)n.nd);
        } else if (n.point >= n.nd) {
            strbuf_add(&sb, n.digs, (size_t)n.nd);
            strbuf_addchars(&sb, '0', (size_t)(n.point - n.nd));
        } else {
            strbuf_add(&sb, n.digs, (size_t)n.point);
            strbuf_addchars(&sb, '.', 1);
            strbuf_add(&sb, n.digs + n.point, (size_t)(n.nd - n.point));
        }
    }
    if (strbuf_failed(&sb))
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    else if (sb.len + 1 > cap)
        rc = mlc_err_set(e, MLC_ETOOBIG, "decimal form of %s needs %zu bytes", g, sb.len + 1);
    else
        memcpy(buf, strbuf_str(&sb), sb.len + 1);
    strbuf_release(&sb);
    return rc;
}

json_t *jx_text(const char *s)
{
    json_t *j;
    char *copy;

    if (s == NULL)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    if ((copy = strdup(s)) == NULL)
        return NULL;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}
