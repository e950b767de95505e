/*
 * config_load: mlc.yaml text -> struct mlc_config, typed by the field table.
 *
 * The YAML is loaded with libyaml's document API (nodes carry line numbers),
 * after a lazy event pass that refuses deep nesting before libyaml builds
 * the document. Scalars are read as text and typed by the table, never by
 * YAML 1.1's implicit rules: `NO` stays a string, `yes` is not a boolean,
 * `00001` keeps its zeros. Errors read "FILE:LINE: KEY: problem" and are
 * collected (up to CFG_MAX_ERRORS) rather than stopping at the first.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/config_int.h"
#include "core/jdate.h"

/* Levenshtein distance of two short strings (longer ones count as far). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CFG_KEY_MAX + 1];

    if (la > CFG_KEY_MAX || lb > CFG_KEY_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

struct loader {
    const char        *name;      /* file name used in messages */
    struct mlc_config *cfg;
    yaml_document_t   *doc;
    struct {
        char path[CFG_KEY_MAX];
        int  line;
    } sect[CFG_MAX_SECT];
    size_t             n_sect;
    bool               walked;    /* the document was a mapping and was read */
    int                n_err;
    int                code;      /* of the first error */
    struct mlc_err    *e;
    cfg_report_fn      report;
    void              *ctx;
    int                line[];    /* per field: where it was set; 0 = not */
};

static void ld_err(struct loader *L, int code, int line, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void ld_err(struct loader *L, int code, int line, const char *key,
                   const char *fmt, ...)
{
    char what[MLC_ERR_MSG_MAX], msg[MLC_ERR_MSG_MAX + CFG_KEY_MAX + 64];
    va_list ap;

    if (++L->n_err > CFG_MAX_ERRORS) {
        if (L->n_err == CFG_MAX_ERRORS + 1 && L->report != NULL) {
            snprintf(msg, sizeof(msg), "%s: too many errors, stopped after %d",
                     L->name, CFG_MAX_ERRORS);
            L->report(msg, L->ctx);
        }
        return;
    }
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (line > 0 && key != NULL)
        snprintf(msg, sizeof(msg), "%s:%d: %s: %s", L->name, line, key, what);
    else if (line > 0)
        snprintf(msg, sizeof(msg), "%s:%d: %s", L->name, line, what);
    else if (key != NULL)
        snprintf(msg, sizeof(msg), "%s: %s: %s", L->name, key, what);
    else
        snprintf(msg, sizeof(msg), "%s: %s", L->name, what);
    if (L->n_err == 1) {
        L->code = code;
        mlc_err_set(L->e, code, "%s", msg);
    }
    if (L->report != NULL)
        L->report(msg, L->ctx);
}

static void ld_oom(struct loader *L)
{
    ld_err(L, MLC_ENOMEM, 0, NULL, "out of memory");
}

static int node_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    const char *s;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    s = sval(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:  return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default:                 return "a value";
    }
}

/* Printable text only: no NUL (libyaml allows "\0"), no control characters. */
static bool text_ok(const yaml_node_t *n)
{
    const unsigned char *s = n->data.scalar.value;

    for (size_t i = 0; i < n->data.scalar.length; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int field_find(const char *key)
{
    for (size_t i = 0; i < cfg_n_fields; i++)
        if (strcmp(cfg_fields[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* True when key is a section: some field lives below it. */
static bool is_section(const char *key)
{
    size_t n = strlen(key);

    for (size_t i = 0; i < cfg_n_fields; i++)
        if (strncmp(cfg_fields[i].key, key, n) == 0 && cfg_fields[i].key[n] == '.')
            return true;
    return false;
}

/* What a value of field f must look like, for "wrong type" messages. */
static void expected(const struct cfg_field *f, char *buf, size_t cap)
{
    char names[256];

    switch (f->type) {
    case FT_STR:
        if (f->names != NULL) {
            cfg_join_names(f->names, names, sizeof(names));
            snprintf(buf, cap, "expected one of: %s", names);
        } else {
            snprintf(buf, cap, "expected a string");
        }
        break;
    case FT_INT:
    case FT_SIZE:
        snprintf(buf, cap, "expected an integer from %lld to %lld", f->min, f->max);
        break;
    case FT_BOOL:
        snprintf(buf, cap, "expected true or false");
        break;
    case FT_ENUM:
        cfg_join_names(f->names, names, sizeof(names));
        snprintf(buf, cap, "expected one of: %s", names);
        break;
    case FT_ACCOUNT:
        snprintf(buf, cap, "%s", CFG_ACCOUNT_EXPECT);
        break;
    case FT_MINOR2:
        snprintf(buf, cap, "expected a decimal amount from %lld.%02lld to %lld.%02lld "
                 "with at most 2 decimals, like \"0.02\"",
                 f->min / 100, f->min % 100, f->max / 100, f->max % 100);
        break;
    case FT_INT_LIST:
        snprintf(buf, cap, "expected a list of integers from %lld to %lld, like [2, 3]",
                 f->min, f->max);
        break;
    case FT_ACCOUNT_MAP:
        snprintf(buf, cap, "expected a mapping of names to accounts, like "
                 "\"SKU-1\": \"100.4010\"");
        break;
    case FT_STR_MAP:
        snprintf(buf, cap, "expected a mapping of names to values");
        break;
    case FT_RECORDS:
        snprintf(buf, cap, "expected a list of mappings (\"- name: ...\")");
        break;
    }
}

/* Converts the text s (from the file or a default) into field f. */
static int set_scalar(struct loader *L, const struct cfg_field *f, const char *key,
                      const char *s, int line)
{
    void *dst = cfg_at(L->cfg, f->off);
    char exp[320];
    const char *why = NULL;
    long long v;
    int idx;

    expected(f, exp, sizeof(exp));
    switch (f->type) {
    case FT_STR: {
        char *copy;
        if (f->names != NULL && cfg_name_index(f->names, s) < 0)
            why = exp;
        else if (f->check != NULL)
            why = cfg_check_run(f->check, s);
        if (why != NULL)
            break;
        if ((copy = strdup(s)) == NULL) {
            ld_oom(L);
            return MLC_ENOMEM;
        }
        free(*(char **)dst);
        *(char **)dst = copy;
        return MLC_OK;
    }
    case FT_INT:
    case FT_SIZE:
        if (cfg_parse_ll(s, &v) != 0 || v < f->min || v > f->max) {
            why = exp;
            break;
        }
        if (f->type == FT_INT)
            *(int *)dst = (int)v;
        else
            *(size_t *)dst = (size_t)v;
        return MLC_OK;
    case FT_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)dst = s[0] == 't';
            return MLC_OK;
        }
        if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "no") == 0 ||
            strcasecmp(s, "on") == 0 || strcasecmp(s, "off") == 0 ||
            strcasecmp(s, "y") == 0 || strcasecmp(s, "n") == 0)
            why = "expected true or false (YAML 1.1 yes/no/on/off are not accepted)";
        else
            why = exp;
        break;
    case FT_ENUM:
        if ((idx = cfg_name_index(f->names, s)) < 0) {
            why = exp;
            break;
        }
        *(int *)dst = idx;
        return MLC_OK;
    case FT_ACCOUNT:
        if (cfg_account_parse(s, dst) != MLC_OK) {
            why = exp;
            break;
        }
        return MLC_OK;
    case FT_MINOR2: {
        int64_t m;
        if (cfg_parse_minor2(s, &m) != 0 || m < f->min || m > f->max) {
            why = exp;
            break;
        }
        *(int64_t *)dst = m;
        return MLC_OK;
    }
    default:
        why = exp;
        break;
    }
    ld_err(L, MLC_EINVAL, line, key, "%s", why);
    return MLC_EINVAL;
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Stores a validated list; rejects duplicates. */
static void set_int_list(struct loader *L, const struct cfg_field *f, const char *key,
                         int *items, size_t n, int line)
{
    int *sorted = malloc(n * sizeof(*sorted));

    if (sorted == NULL) {
        free(items);
        ld_oom(L);
        return;
    }
    memcpy(sorted, items, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), int_cmp);
    for (size_t i = 1; i < n; i++) {
        if (sorted[i] == sorted[i - 1]) {
            ld_err(L, MLC_EINVAL, line, key, "%d is listed twice", sorted[i]);
            free(sorted);
            free(items);
            return;
        }
    }
    free(sorted);
    cfg_free_value(L->cfg, f);
    *(int **)cfg_at(L->cfg, f->off) = items;
    *(size_t *)cfg_at(L->cfg, f->off_n) = n;
}

static void parse_int_list(struct loader *L, const struct cfg_field *f, const char *key,
                           const yaml_node_t *v)
{
    char exp[320];
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    int *items;
    bool bad = false;

    expected(f, exp, sizeof(exp));
    if (n == 0) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "must not be empty");
        return;
    }
    if (n > CFG_MAX_LIST) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "more than %d items", CFG_MAX_LIST);
        return;
    }
    if ((items = calloc(n, sizeof(*items))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        long long x;
        if (it->type != YAML_SCALAR_NODE || cfg_parse_ll(sval(it), &x) != 0 ||
            x < f->min || x > f->max) {
            ld_err(L, MLC_EINVAL, node_line(it), key, "%s", exp);
            bad = true;
            continue;
        }
        items[i] = (int)x;
    }
    if (bad) {
        free(items);
        return;
    }
    set_int_list(L, f, key, items, n, node_line(v));
}

/* A default list "2, 3, 8" (table text, trusted to be well formed). */
static void default_int_list(struct loader *L, const struct cfg_field *f)
{
    size_t n = 1;
    int *items;
    const char *p = f->def;

    for (const char *q = p; *q != '\0'; q++)
        n += *q == ',';
    if ((items = calloc(n, sizeof(*items))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *end;
        items[i] = (int)strtol(p, &end, 10);
        p = end + strspn(end, ", ");
    }
    set_int_list(L, f, f->key, items, n, 0);
}

/* One map entry while a map is parsed. */
struct mentry {
    char              *match;
    char              *value;
    struct cfg_account account;
    int                line;
};

static int mentry_cmp(const void *a, const void *b)
{
    const struct mentry *x = a, *y = b;
    int c = strcmp(x->match, y->match);

    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static void mentries_free(struct mentry *m, size_t n)
{
    for (size_t i = 0; m != NULL && i < n; i++) {
        free(m[i].match);
        free(m[i].value);
    }
    free(m);
}

/* Reads one entry into *me; returns false (error reported) when bad. */
static bool parse_map_entry(struct loader *L, const struct cfg_field *f, const char *key,
                            const yaml_node_t *k, const yaml_node_t *v,
                            struct mentry *me)
{
    char ekey[CFG_KEY_MAX];
    const char *why;

    me->line = node_line(k);
    if (k->type != YAML_SCALAR_NODE || !text_ok(k) || sval(k)[0] == '\0') {
        ld_err(L, MLC_EINVAL, node_line(k), key, "expected a name as the key");
        return false;
    }
    snprintf(ekey, sizeof(ekey), "%s.%s", key, sval(k));
    if (f->check_key != NULL && (why = cfg_check_run(f->check_key, sval(k))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(k), ekey, "%s", why);
        return false;
    }
    if (v->type != YAML_SCALAR_NODE || !text_ok(v) || is_null(v)) {
        ld_err(L, MLC_EINVAL, node_line(k), ekey, "%s",
               f->type == FT_ACCOUNT_MAP ? CFG_ACCOUNT_EXPECT : "expected a value");
        return false;
    }
    if (f->type == FT_ACCOUNT_MAP) {
        if (cfg_account_parse(sval(v), &me->account) != MLC_OK) {
            ld_err(L, MLC_EINVAL, node_line(v), ekey, "%s", CFG_ACCOUNT_EXPECT);
            return false;
        }
    } else if (f->check != NULL && (why = cfg_check_run(f->check, sval(v))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(v), ekey, "%s", why);
        return false;
    } else if ((me->value = strdup(sval(v))) == NULL) {
        ld_oom(L);
        return false;
    }
    if ((me->match = strdup(sval(k))) == NULL) {
        ld_oom(L);
        return false;
    }
    return true;
}

/* Moves the sorted entries into the field's typed array. */
static int map_store(struct loader *L, const struct cfg_field *f, struct mentry *m, size_t n)
{
    void *arr;

    if (n == 0)
        return MLC_OK;
    if (f->type == FT_ACCOUNT_MAP) {
        struct cfg_account_map *a = calloc(n, sizeof(*a));
        if (a == NULL)
            return MLC_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            a[i].match = m[i].match;
            a[i].account = m[i].account;
            m[i].match = NULL;
        }
        arr = a;
    } else {
        struct cfg_str_map *s = calloc(n, sizeof(*s));
        if (s == NULL)
            return MLC_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            s[i].match = m[i].match;
            s[i].value = m[i].value;
            m[i].match = m[i].value = NULL;
        }
        arr = s;
    }
    cfg_free_value(L->cfg, f);
    *(void **)cfg_at(L->cfg, f->off) = arr;
    *(size_t *)cfg_at(L->cfg, f->off_n) = n;
    return MLC_OK;
}

static void parse_map(struct loader *L, const struct cfg_field *f, const char *key,
                      const yaml_node_t *v)
{
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    struct mentry *m;
    bool bad = false;

    if (n == 0)
        return;
    if ((m = calloc(n, sizeof(*m))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
        if (!parse_map_entry(L, f, key, yaml_document_get_node(L->doc, p->key),
                             yaml_document_get_node(L->doc, p->value), &m[i]))
            bad = true;
    }
    if (bad)
        goto out;
    qsort(m, n, sizeof(*m), mentry_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(m[i].match, m[i - 1].match) == 0) {
            char ekey[CFG_KEY_MAX];
            snprintf(ekey, sizeof(ekey), "%s.%s", key, m[i].match);
            ld_err(L, MLC_EINVAL, m[i].line, ekey, "duplicate key (first on line %d)",
                   m[i - 1].line);
            bad = true;
        }
    }
    if (!bad && map_store(L, f, m, n) != MLC_OK)
        ld_oom(L);
out:
    mentries_free(m, n);
}

static bool looks_secret(const char *name);
static int dup_line(struct loader *L, const yaml_node_t *map, size_t i);

/* A scalar of a record: printable text that check accepts. */
static char *record_scalar(struct loader *L, const struct cfg_rfield *r, const char *key,
                           const yaml_node_t *v)
{
    const char *why;
    char *copy;

    if (v->type != YAML_SCALAR_NODE || is_null(v) || !text_ok(v)) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected a value");
        return NULL;
    }
    if (r->check != NULL && (why = cfg_check_run(r->check, sval(v))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "%s", why);
        return NULL;
    }
    if ((copy = strdup(sval(v))) == NULL)
        ld_oom(L);
    return copy;
}

/* A list of scalars into a record's char ** and count. */
static void record_list(struct loader *L, const struct cfg_rfield *r, const char *key,
                        const yaml_node_t *v, char *rec)
{
    size_t n, k = 0;
    char **list;

    if (v->type != YAML_SEQUENCE_NODE) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected a list, like [\"a@example.com\"]");
        return;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0 || n > CFG_MAX_LIST) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected 1 to %d items", CFG_MAX_LIST);
        return;
    }
    if ((list = calloc(n, sizeof(*list))) == NULL) {
        ld_oom(L);
        return;
    }
    *(char ***)(void *)(rec + r->off) = list;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        char *s = record_scalar(L, r, key, it);
        if (s != NULL)
            list[k++] = s;
    }
    *(size_t *)(void *)(rec + r->off_n) = k;
}

/* One record (a mapping) of an FT_RECORDS field into rec. */
static void parse_record(struct loader *L, const struct cfg_rtable *t, const char *key,
                         const yaml_node_t *item, char *rec)
{
    size_t n = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
    char rkey[CFG_KEY_MAX];

    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &item->data.mapping.pairs.start[i];
        const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const struct cfg_rfield *r = t->f;
        int first;

        if (k->type != YAML_SCALAR_NODE || !text_ok(k)) {
            ld_err(L, MLC_EINVAL, node_line(k), key, "expected a key name");
            continue;
        }
        snprintf(rkey, sizeof(rkey), "%s.%s", key, sval(k));
        while (r->key != NULL && strcmp(r->key, sval(k)) != 0)
            r++;
        if (r->key == NULL && (looks_secret(sval(k)) || strcmp(sval(k), "url") == 0)) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "secrets (and a webhook URL, which "
                   "carries a token) must not be written in the configuration file; store "
                   "the value with \"mlc credentials set NAME\" and refer to it by NAME in "
                   "a *_ref key");
            continue;
        }
        if (r->key == NULL) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "unknown key");
            continue;
        }
        if ((first = dup_line(L, item, i)) != 0) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "duplicate key (first on line %d)", first);
            continue;
        }
        if (r->type == RT_STR_LIST) {
            record_list(L, r, rkey, v, rec);
        } else {
            char *s = record_scalar(L, r, rkey, v);
            if (s != NULL)
                *(char **)(void *)(rec + r->off) = s;
        }
    }
    for (const struct cfg_rfield *r = t->f; r->key != NULL; r++)
        if (r->required && *(void **)(void *)(rec + r->off) == NULL) {
            snprintf(rkey, sizeof(rkey), "%s.%s", key, r->key);
            ld_err(L, MLC_EINVAL, node_line(item), rkey, "required key is missing");
        }
}

/* A list of records; their first key ("name") must be unique. */
static void parse_records(struct loader *L, const struct cfg_field *f, const char *key,
                          const yaml_node_t *v)
{
    const struct cfg_rtable *t = f->rec;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    char ikey[CFG_KEY_MAX];
    char *arr;

    if (n == 0)
        return;
    if ((arr = calloc(n, t->size)) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        snprintf(ikey, sizeof(ikey), "%s[%zu]", key, i);
        if (item->type != YAML_MAPPING_NODE) {
            ld_err(L, MLC_EINVAL, node_line(item), ikey, "expected a mapping, not %s",
                   kind_name(item));
            continue;
        }
        parse_record(L, t, ikey, item, arr + i * t->size);
        for (size_t j = 0; j < i; j++) {
            const char *a = *(char **)(void *)(arr + i * t->size + t->f[0].off);
            const char *b = *(char **)(void *)(arr + j * t->size + t->f[0].off);
            if (a != NULL && b != NULL && strcmp(a, b) == 0)
                ld_err(L, MLC_EINVAL, node_line(item), ikey, "duplicate %s '%s'",
                       t->f[0].key, a);
        }
    }
    cfg_free_value(L->cfg, f);
    *(void **)cfg_at(L->cfg, f->off) = arr;
    *(size_t *)cfg_at(L->cfg, f->off_n) = n;
}

static void parse_field(struct loader *L, size_t fi, const char *key,
                        const yaml_node_t *k, const yaml_node_t *v)
{
    const struct cfg_field *f = &cfg_fields[fi];
    char exp[320];

    L->line[fi] = node_line(k);
    if (is_null(v)) {
        if (f->flags & F_REQUIRED)
            ld_err(L, MLC_EINVAL, node_line(k), key, "a value is required");
        else
            L->line[fi] = 0; /* the default applies */
        return;
    }
    expected(f, exp, sizeof(exp));
    switch (f->type) {
    case FT_INT_LIST:
        if (v->type != YAML_SEQUENCE_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_int_list(L, f, key, v);
        return;
    case FT_ACCOUNT_MAP:
    case FT_STR_MAP:
        if (v->type != YAML_MAPPING_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_map(L, f, key, v);
        return;
    case FT_RECORDS:
        if (v->type != YAML_SEQUENCE_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_records(L, f, key, v);
        return;
    default:
        break;
    }
    if (v->type != YAML_SCALAR_NODE) {
        ld_err(L, MLC_EINVAL, node_line(k), key, "%s, not %s", exp, kind_name(v));
        return;
    }
    if (!text_ok(v)) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "must not contain control characters");
        return;
    }
    set_scalar(L, f, key, sval(v), node_line(v));
}

/* Names that hold a secret value; the file may only name a credential. */
static bool looks_secret(const char *name)
{
    static const char *const words[] = {
        "token", "password", "passwd", "secret", "passphrase", "api_key",
        "apikey", "private_key", "credential", "credentials", NULL,
    };
    char low[CFG_KEY_MAX];
    size_t n = strlen(name);

    if (n >= sizeof(low))
        return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    for (int i = 0; words[i] != NULL; i++) {
        size_t w = strlen(words[i]);
        if (strcmp(low, words[i]) == 0 ||
            (n > w && low[n - w - 1] == '_' && strcmp(low + n - w, words[i]) == 0))
            return true;
    }
    return false;
}

static void secret_err(struct loader *L, const char *path, const char *name,
                       const char *full, int line)
{
    char ref[CFG_KEY_MAX];

    snprintf(ref, sizeof(ref), "%s%s%s_ref", path, *path ? "." : "", name);
    if (field_find(ref) >= 0)
        ld_err(L, MLC_EINVAL, line, full,
               "secrets must not be written in the configuration file; store the value "
               "with \"mlc credentials set NAME\" and set %s_ref: NAME", name);
    else
        ld_err(L, MLC_EINVAL, line, full,
               "secrets must not be written in the configuration file; store the value "
               "with \"mlc credentials set NAME\" and refer to it by NAME in a *_ref key");
}

/* "unknown key", with the closest sibling name when it is close enough. */
static void unknown_err(struct loader *L, const char *path, const char *name,
                        const char *full, int line)
{
    size_t plen = strlen(path), best = SIZE_MAX, nlen = strlen(name);
    char cand[CFG_KEY_MAX], best_name[CFG_KEY_MAX] = "";
    size_t limit = nlen <= 4 ? 1 : nlen <= 9 ? 2 : 3;

    for (size_t i = 0; i < cfg_n_fields; i++) {
        const char *rest = cfg_fields[i].key;
        size_t d;
        if (plen > 0) {
            if (strncmp(rest, path, plen) != 0 || rest[plen] != '.')
                continue;
            rest += plen + 1;
        }
        snprintf(cand, sizeof(cand), "%.*s", (int)strcspn(rest, "."), rest);
        d = edit_distance(name, cand);
        if (d < best) {
            best = d;
            snprintf(best_name, sizeof(best_name), "%s", cand);
        }
    }
    if (best <= limit)
        ld_err(L, MLC_EINVAL, line, full, "unknown key (did you mean %s?)", best_name);
    else
        ld_err(L, MLC_EINVAL, line, full, "unknown key");
}

/* Line of an earlier pair of map with the same scalar key as pair i, or 0. */
static int dup_line(struct loader *L, const yaml_node_t *map, size_t i)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    const yaml_node_t *k = yaml_document_get_node(L->doc, pairs[i].key);

    for (size_t j = 0; j < i; j++) {
        const yaml_node_t *o = yaml_document_get_node(L->doc, pairs[j].key);
        if (o->type == YAML_SCALAR_NODE && strcmp(sval(o), sval(k)) == 0)
            return node_line(o);
    }
    return 0;
}

static void walk_section(struct loader *L, const yaml_node_t *map, const char *path)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);

    /* Stops after too many errors, which also bounds the duplicate scan. */
    for (size_t i = 0; i < n && L->n_err <= CFG_MAX_ERRORS; i++) {
        yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        char full[CFG_KEY_MAX];
        int fi, first;

        if (k->type != YAML_SCALAR_NODE || !text_ok(k)) {
            ld_err(L, MLC_EINVAL, node_line(k), *path ? path : NULL,
                   "expected a key name, found %s", kind_name(k));
            continue;
        }
        if ((size_t)snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "",
                             sval(k)) >= sizeof(full)) {
            ld_err(L, MLC_EINVAL, node_line(k), path, "unknown key (name too long)");
            continue;
        }
        if ((first = dup_line(L, map, i)) != 0) {
            ld_err(L, MLC_EINVAL, node_line(k), full, "duplicate key (first on line %d)",
                   first);
            continue;
        }
        if ((fi = field_find(full)) >= 0) {
            parse_field(L, (size_t)fi, full, k, v);
        } else if (is_section(full)) {
            if (L->n_sect < CFG_MAX_SECT) {
                snprintf(L->sect[L->n_sect].path, CFG_KEY_MAX, "%s", full);
                L->sect[L->n_sect++].line = node_line(k);
            }
            if (v->type == YAML_MAPPING_NODE)
                walk_section(L, v, full);
            else if (!is_null(v))
                ld_err(L, MLC_EINVAL, node_line(k), full,
                       "expected a mapping of settings, not %s", kind_name(v));
        } else if (looks_secret(sval(k))) {
            secret_err(L, path, sval(k), full, node_line(k));
        } else {
            unknown_err(L, path, sval(k), full, node_line(k));
        }
    }
}

/* Line of the innermost section of key present in the file, or 0. */
static int section_line(const struct loader *L, const char *key)
{
    int line = 0;
    size_t best = 0;

    for (size_t i = 0; i < L->n_sect; i++) {
        size_t n = strlen(L->sect[i].path);
        if (n > best && strncmp(key, L->sect[i].path, n) == 0 && key[n] == '.') {
            best = n;
            line = L->sect[i].line;
        }
    }
    return line;
}

static void apply_defaults(struct loader *L)
{
    for (size_t i = 0; i < cfg_n_fields; i++) {
        const struct cfg_field *f = &cfg_fields[i];

        if (L->line[i] != 0)
            continue;
        if (f->flags & F_REQUIRED)
            ld_err(L, MLC_EINVAL, section_line(L, f->key), f->key,
                   "required key is missing%s%s", f->missing != NULL ? ": " : "",
                   f->missing != NULL ? f->missing : "");
        else if (f->def != NULL && f->type == FT_INT_LIST)
            default_int_list(L, f);
        else if (f->def != NULL)
            set_scalar(L, f, f->key, f->def, 0);
    }
}

/* Line where key was set, else its section's line. */
static int line_of(const struct loader *L, const char *key)
{
    int fi = field_find(key);

    return (fi >= 0 && L->line[fi] != 0) ? L->line[fi] : section_line(L, key);
}

/* Whether the file set key (rather than its default). */
static bool key_set(const struct loader *L, const char *key)
{
    int fi = field_find(key);

    return fi >= 0 && L->line[fi] != 0;
}

/* Rules between several keys. */
static void cross_check(struct loader *L)
{
    struct mlc_config *c = L->cfg;

    if (c->posting.mode == CFG_POST_VOUCHER && c->posting.default_supplier == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "posting.mode"), "posting.default_supplier",
               "required when posting.mode is voucher");
    if (c->bigcommerce.webhook_public_url != NULL &&
        c->bigcommerce.webhook_secret_ref == NULL &&
        c->bigcommerce.client_secret_ref == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "bigcommerce.webhook_public_url"),
               "bigcommerce.webhook_public_url",
               "needs bigcommerce.client_secret_ref or webhook_secret_ref to verify deliveries");
    /* A create must end well inside its job's lease even if a heartbeat
     * is late: another worker never sees its ledger row mid-call. */
    if ((int64_t)c->jde.timeout_ms * 2 > (int64_t)c->workers.lease_s * 1000) {
        if (key_set(L, "workers.lease_s"))
            ld_err(L, MLC_EINVAL, line_of(L, "workers.lease_s"), "workers.lease_s",
                   "must be at least twice jde.timeout_ms (%d ms): a call to JD Edwards "
                   "must end well inside the lease of its job", c->jde.timeout_ms);
        else
            ld_err(L, MLC_EINVAL, line_of(L, "jde.timeout_ms"), "jde.timeout_ms",
                   "must be at most half of workers.lease_s (%d s): a call to JD Edwards "
                   "must end well inside the lease of its job", c->workers.lease_s);
    }
    if (c->jde.settle_s != 0) {
        int64_t client = c->jde.timeout_ms, server = (int64_t)c->jde.server_timeout_s * 1000;
        int64_t least = client + (server > client ? server : client);

        if ((int64_t)c->jde.settle_s * 1000 < least)
            ld_err(L, MLC_EINVAL, line_of(L, "jde.settle_s"), "jde.settle_s",
                   "must be at least jde.timeout_ms plus the larger of jde.timeout_ms and "
                   "jde.server_timeout_s (%lld s here), or 0 for that automatically: a "
                   "create whose answer was lost may still land until then",
                   (long long)((least + 999) / 1000));
    }
    if (c->server.max_connections_per_ip >= c->server.max_connections)
        ld_err(L, MLC_EINVAL, line_of(L, "server.max_connections_per_ip"),
               "server.max_connections_per_ip",
               "must be below server.max_connections (%d), so that one address "
               "cannot take every connection", c->server.max_connections);
    if (c->server.admin_listen != NULL && strcmp(c->server.admin_listen, c->server.listen) == 0)
        ld_err(L, MLC_EINVAL, line_of(L, "server.admin_listen"), "server.admin_listen",
               "must differ from server.listen: the admin listener never serves webhooks");
    if ((c->server.tls_cert_file == NULL) != (c->server.tls_key_file == NULL))
        ld_err(L, MLC_EINVAL, line_of(L, c->server.tls_cert_file != NULL ? "server.tls_cert_file"
                                                                     : "server.tls_key_file"),
               c->server.tls_cert_file != NULL ? "server.tls_cert_file" : "server.tls_key_file",
               "needs %s too", c->server.tls_cert_file != NULL ? "server.tls_key_file"
                                                              : "server.tls_cert_file");
    if (c->console.listen != NULL &&
        (strcmp(c->console.listen, c->server.listen) == 0 ||
         (c->server.admin_listen != NULL && strcmp(c->console.listen, c->server.admin_listen) == 0)))
        ld_err(L, MLC_EINVAL, line_of(L, "console.listen"), "console.listen",
               "must differ from server.listen and server.admin_listen: the console has a listener of its own");
    if (c->console.proxy_user_header != NULL && c->console.n_users == 0)
        ld_err(L, MLC_EINVAL, line_of(L, "console.proxy_user_header"), "console.proxy_user_header",
               "needs console.users: the role of each user the proxy names");
    if (!c->server.public_metrics && c->server.admin_listen == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "server.public_metrics"), "server.public_metrics",
               "false needs server.admin_listen, else /metrics is served nowhere");
    for (size_t i = 0; i < c->alerts.n_webhooks; i++)
        for (size_t j = 0; j < c->alerts.n_email; j++)
            if (c->alerts.webhooks[i].name != NULL && c->alerts.email[j].name != NULL &&
                strcmp(c->alerts.webhooks[i].name, c->alerts.email[j].name) == 0)
                ld_err(L, MLC_EINVAL, line_of(L, "alerts.email"), "alerts.email",
                       "channel name '%s' is also a webhook's: names must be unique",
                       c->alerts.email[j].name);
    if (c->workers.retry_base_ms > c->workers.retry_cap_ms)
        ld_err(L, MLC_EINVAL, line_of(L, "workers.retry_base_ms"), "workers.retry_base_ms",
               "must not exceed workers.retry_cap_ms (%d)", c->workers.retry_cap_ms);
}

/* Trailing '/' off a base URL; {store_hash} substituted. */
static int finish_urls(struct loader *L)
{
    struct mlc_config *c = L->cfg;
    char *urls[2] = { c->bigcommerce.api_base_url, c->jde.ais_base_url };
    const char *ph = "{store_hash}";
    char *u = c->bigcommerce.api_base_url, *p;

    for (size_t i = 0; i < 2; i++) {
        size_t n = urls[i] != NULL ? strlen(urls[i]) : 0;
        while (n > 0 && urls[i][n - 1] == '/')
            urls[i][--n] = '\0';
    }
    while (u != NULL && c->bigcommerce.store_hash != NULL && (p = strstr(u, ph)) != NULL) {
        size_t pre = (size_t)(p - u), hl = strlen(c->bigcommerce.store_hash);
        size_t len = pre + hl + strlen(p + strlen(ph)) + 1;
        char *nu = malloc(len);
        if (nu == NULL) {
            ld_oom(L);
            return MLC_ENOMEM;
        }
        snprintf(nu, len, "%.*s%s%s", (int)pre, u, c->bigcommerce.store_hash, p + strlen(ph));
        free(u);
        u = c->bigcommerce.api_base_url = nu;
    }
    return MLC_OK;
}

/* orders.start as an instant (its text was checked by chk_cutover). */
static void finish_cutover(struct loader *L)
{
    struct mlc_config *c = L->cfg;

    if (c->orders.start != NULL &&
        jdate_iso8601_parse(c->orders.start, &c->orders.start_s, NULL) != MLC_OK)
        ld_err(L, MLC_EINVAL, line_of(L, "orders.start"), "orders.start", "%s",
               cfg_check_run(&cfg_chk_cutover, c->orders.start));
}

static void syntax_err(struct loader *L, const yaml_parser_t *p,
                       const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        ld_oom(L);
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Encoding errors carry a byte offset, not a mark. */
        size_t end = p->problem_offset < len ? p->problem_offset : len;
        int line = 1;
        for (size_t i = 0; i < end; i++)
            line += text[i] == '\n';
        if (p->problem_value >= 0)
            ld_err(L, MLC_EPARSE, line, NULL, "invalid text: %s (byte 0x%02x)",
                   p->problem ? p->problem : "malformed", (unsigned)p->problem_value & 0xffu);
        else
            ld_err(L, MLC_EPARSE, line, NULL, "invalid text: %s",
                   p->problem ? p->problem : "malformed");
        return;
    }
    if (p->context != NULL)
        ld_err(L, MLC_EPARSE, (int)p->problem_mark.line + 1, NULL,
               "YAML syntax error: %s (%s on line %d)",
               p->problem ? p->problem : "malformed", p->context,
               (int)p->context_mark.line + 1);
    else
        ld_err(L, MLC_EPARSE, (int)p->problem_mark.line + 1, NULL, "YAML syntax error: %s",
               p->problem ? p->problem : "malformed");
}

/* False (an error in L) when collections nest deeper than CFG_MAX_DEPTH.
 * libyaml takes time quadratic in the depth to build a document (100,000
 * levels: 28 s, at start and on every SIGHUP); its event parser reads
 * lazily, so this pass stops at the first level too many. A syntax error
 * is left to the load, which reports it. */
static bool depth_ok(struct loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0;
    bool ok = true, end = false;

    if (!yaml_parser_initialize(&parser)) {
        ld_oom(L);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (ok && !end && yaml_parser_parse(&parser, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        if (depth > CFG_MAX_DEPTH) {
            ld_err(L, MLC_EPARSE, (int)ev.start_mark.line + 1, NULL,
                   "lists and mappings nest more than %d levels deep", CFG_MAX_DEPTH);
            ok = false;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return ok;
}

/* Parses text into L->cfg (errors counted in L). */
static void load_yaml(struct loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    const yaml_node_t *root;

    if (!depth_ok(L, text, len))
        return;
    if (!yaml_parser_initialize(&parser)) {
        ld_oom(L);
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_err(L, &parser, text, len);
        yaml_parser_delete(&parser);
        return;
    }
    L->doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL || is_null(root)) {
        ld_err(L, MLC_EPARSE, 0, NULL,
               "the file is empty (\"mlc init\" writes a commented example)");
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_err(L, &parser, text, len);
        goto out;
    }
    if (yaml_document_get_root_node(&extra) != NULL)
        ld_err(L, MLC_EPARSE, (int)extra.start_mark.line + 1, NULL,
               "only one YAML document is allowed");
    yaml_document_delete(&extra);
    if (root->type != YAML_MAPPING_NODE) {
        ld_err(L, MLC_EPARSE, node_line(root), NULL,
               "expected a mapping of sections (log, bigcommerce, jde, posting, ...)");
        goto out;
    }
    walk_section(L, root, "");
    L->walked = true;
out:
    L->doc = NULL;
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

int cfg_load_buffer_report(const char *name, const char *text, size_t len,
                           cfg_report_fn report, void *ctx,
                           struct mlc_config **out, struct mlc_err *e)
{
    struct loader *L;
    struct mlc_config *cfg;
    int rc;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "cfg_load: out is NULL");
    *out = NULL;
    if (name == NULL)
        name = "config";
    if (text == NULL)
        return mlc_err_set(e, MLC_EINVAL, "%s: no text", name);
    L = calloc(1, sizeof(*L) + cfg_n_fields * sizeof(L->line[0]));
    cfg = cfg_new(name);
    if (L == NULL || cfg == NULL) {
        free(L);
        cfg_unref(cfg);
        return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", name);
    }
    L->name = name;
    L->cfg = cfg;
    L->e = e;
    L->report = report;
    L->ctx = ctx;

    load_yaml(L, text, len);
    if (L->walked)
        apply_defaults(L); /* also reports missing keys next to other errors */
    if (L->n_err == 0 && finish_urls(L) == MLC_OK) {
        finish_cutover(L);
        cross_check(L);
    }
    rc = L->n_err == 0 ? MLC_OK : L->code;
    if (rc == MLC_OK)
        *out = cfg;
    else
        cfg_unref(cfg);
    free(L);
    return rc;
}

int cfg_load_buffer(const char *name, const char *text, size_t len,
                    struct mlc_config **out, struct mlc_err *e)
{
    return cfg_load_buffer_report(name, text, len, NULL, NULL, out, e);
}
