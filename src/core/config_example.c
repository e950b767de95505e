/*
 * config_example: the commented example configuration, written from the
 * field table: what `mlc init` writes, etc/mlc.example.yaml holds and
 * scripts/gen-man turns into mlc.yaml(5). Every key appears with what it
 * does, what it accepts and its default; the output grows as the table
 * does and is never cut short.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_int.h"
#include "core/strbuf.h"

/* The text being written, and the sections' comments. */
struct writer {
    struct strbuf             sb;
    const struct cfg_section *sections;
    size_t                    n_sections;
};

static void w_printf(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void w_printf(struct writer *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_vaddf(&w->sb, fmt, ap);
    va_end(ap);
}

static size_t depth_of(const char *key)
{
    size_t d = 0;

    for (; *key != '\0'; key++)
        d += *key == '.';
    return d;
}

/* The parent path of key: "posting.accounts.tax" -> "posting.accounts". */
static size_t parent_len(const char *key)
{
    const char *dot = strrchr(key, '.');

    return dot != NULL ? (size_t)(dot - key) : 0;
}

static const char *section_comment(const struct writer *w, const char *path, size_t n)
{
    for (size_t i = 0; i < w->n_sections; i++)
        if (strlen(w->sections[i].path) == n && strncmp(w->sections[i].path, path, n) == 0)
            return w->sections[i].comment;
    return "Settings.";
}

/* Opens the sections of key's parent that the previous key's parent did
 * not have ("posting" then "posting.accounts"). */
static void ex_sections(struct writer *w, const char *prev, const char *key)
{
    size_t klen = parent_len(key), plen = prev != NULL ? parent_len(prev) : 0;
    size_t level = 0;

    for (size_t start = 0; start < klen; level++) {
        size_t end = start + strcspn(key + start, ".");
        bool open = prev != NULL && end <= plen && strncmp(prev, key, end) == 0 &&
                    (end == plen || prev[end] == '.');
        if (!open) {
            if (level == 0)
                w_printf(w, "\n");
            w_printf(w, "%*s# %s\n", (int)level * 2, "", section_comment(w, key, end));
            w_printf(w, "%*s%.*s:\n", (int)level * 2, "", (int)(end - start), key + start);
        }
        start = end + 1;
    }
}

/* A value as YAML: strings and accounts quoted, lists in flow style. */
static void ex_value(struct writer *w, const struct cfg_field *f, const char *text)
{
    switch (f->type) {
    case FT_STR:
        if (f->names != NULL) {
            w_printf(w, "%s", text);
            break;
        }
        /* fall through */
    case FT_ACCOUNT:
    case FT_MINOR2:
        w_printf(w, "\"%s\"", text); /* table text: no quotes or backslashes */
        break;
    case FT_INT_LIST:
        w_printf(w, "[%s]", text);
        break;
    default:
        w_printf(w, "%s", text);
        break;
    }
}

/* The comment's tail: what is allowed and the default, from the table. */
static void ex_tail(struct writer *w, const struct cfg_field *f)
{
    char names[256];

    if (f->names != NULL) {
        cfg_join_names(f->names, names, sizeof(names));
        w_printf(w, " One of: %s.", names);
    } else if (f->type == FT_INT || f->type == FT_SIZE) {
        w_printf(w, " Range: %lld-%lld.", f->min, f->max);
    } else if (f->type == FT_BOOL) {
        w_printf(w, " true or false.");
    }
    if (f->flags & F_REQUIRED)
        w_printf(w, " Required.");
    else if (f->def != NULL)
        w_printf(w, " Default: %s.", f->def);
    else if (f->type == FT_ACCOUNT_MAP || f->type == FT_STR_MAP || f->type == FT_RECORDS)
        w_printf(w, " Default: empty.");
    else
        w_printf(w, " Optional.");
}

static void ex_field(struct writer *w, const struct cfg_field *f)
{
    int ind = (int)depth_of(f->key) * 2;
    const char *leaf = f->key + parent_len(f->key) + 1;

    w_printf(w, "%*s# %s", ind, "", f->comment);
    ex_tail(w, f);
    w_printf(w, "\n");
    if (f->type == FT_RECORDS) {
        w_printf(w, "%*s%s:\n", ind, "", leaf);
        for (const struct cfg_rfield *r = f->rec->f; r->key != NULL; r++) {
            if (r->example == NULL)
                continue;
            w_printf(w, "%*s  # %s%s: ", ind, "", r == f->rec->f ? "- " : "  ", r->key);
            if (r->type == RT_STR_LIST)
                w_printf(w, "%s\n", r->example);  /* a flow list, as written */
            else
                w_printf(w, "\"%s\"\n", r->example);
        }
        return;
    }
    if (f->type == FT_ACCOUNT_MAP || f->type == FT_STR_MAP) {
        w_printf(w, "%*s%s:\n", ind, "", leaf);
        if (f->example != NULL)
            w_printf(w, "%*s  # %s\n", ind, "", f->example);
        return;
    }
    if (f->def != NULL || (f->flags & F_REQUIRED)) {
        w_printf(w, "%*s%s: ", ind, "", leaf);
        ex_value(w, f, f->def != NULL ? f->def : f->example);
    } else {
        w_printf(w, "%*s# %s: ", ind, "", leaf);
        ex_value(w, f, f->example != NULL ? f->example : "");
    }
    w_printf(w, "\n");
}

static const char preamble[] =
    "# ml-connector configuration.\n"
    "#\n"
    "# Written by \"mlc init\"; check it with \"mlc config check FILE\".\n"
    "# Every key is listed with what it does, what it accepts and its default.\n"
    "# Keys marked Required must be set; lines starting with \"# key:\" show an\n"
    "# optional key with an example value. Quote strings (\"00001\", \"NO\").\n"
    "#\n"
    "# Secrets are never written here: store each one with\n"
    "#   mlc credentials set NAME\n"
    "# and refer to it by NAME in a *_ref key.\n";

int cfg_example_render(const struct cfg_field *fields, size_t n,
                       const struct cfg_section *sections, size_t n_sections,
                       char **out)
{
    struct writer w = { STRBUF_INIT, sections, n_sections };

    w_printf(&w, "%s", preamble);
    for (size_t i = 0; i < n; i++) {
        ex_sections(&w, i > 0 ? fields[i - 1].key : NULL, fields[i].key);
        ex_field(&w, &fields[i]);
    }
    *out = strbuf_take(&w.sb);
    return *out != NULL ? MLC_OK : MLC_ENOMEM;
}

/* Built once from the table; read-only afterwards (static storage of
 * cfg_example_yaml, guarded by pthread_once). */
static char *example_text;
static pthread_once_t example_once = PTHREAD_ONCE_INIT;

static void example_build(void)
{
    if (cfg_example_render(cfg_fields, cfg_n_fields, cfg_sections, cfg_n_sections,
                           &example_text) != MLC_OK)
        example_text = NULL; /* out of memory: an empty example, which fails to load */
}

const char *cfg_example_yaml(void)
{
    pthread_once(&example_once, example_build);
    return example_text != NULL ? example_text : "";
}

int cfg_example_with_start(const char *start, char **out, struct mlc_err *e)
{
    static const char line[] = "\n  start: \"" CFG_START_EXAMPLE "\"\n";
    const char *ex = cfg_example_yaml(), *at;
    size_t pre, len;

    *out = NULL;
    if (start == NULL || strlen(start) > 64 || cfg_check_run(&cfg_chk_cutover, start) != NULL)
        return mlc_err_set(e, MLC_EINVAL, "orders.start: '%s' is not a date-time with its "
                           "UTC offset", start != NULL ? start : "");
    if ((at = strstr(ex, line)) == NULL)
        return mlc_err_set(e, MLC_ESTATE, "the example has no orders.start line");
    pre = (size_t)(at - ex);
    len = strlen(ex) - strlen(CFG_START_EXAMPLE) + strlen(start) + 1;
    if ((*out = malloc(len)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(*out, len, "%.*s\n  start: \"%s\"\n%s", (int)pre, ex, start,
             at + strlen(line));
    return MLC_OK;
}
