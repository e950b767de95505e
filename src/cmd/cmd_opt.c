#include "cmd/cmd_opt.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "cmd/cmd_util.h"
#include "core/err.h"

/* The implicit --help of every command. */
static const struct cmdo_opt help_opt = {
    "help", 'h', CMDO_FLAG, 0, NULL, "show this help", 0, 0
};

/* Parsing state: one call's streams and spec. */
struct cmdo_run {
    const struct cmdo_spec *s;
    void                   *args;
    FILE                   *out, *err;
    bool                    help;
};

/* "mlc jobs" for "jobs list": errors name the command, as PROG does. */
static void prog_prefix(const struct cmdo_spec *s, FILE *f)
{
    fprintf(f, "mlc %.*s: ", (int)strcspn(s->name, " "), s->name);
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

/* Whether the positional synopsis already names --name ("ID|--all"). */
static bool args_name(const struct cmdo_spec *s, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strstr(s->args, "--"); p != NULL; p = strstr(p + 2, "--"))
        /* p[2 + n] may be the terminator: strchr finds it too. */
        if (strncmp(p + 2, name, n) == 0 && strchr(" |]", p[2 + n]) != NULL)
            return true;
    return false;
}

void cmdo_synopsis(const struct cmdo_spec *s, char *buf, size_t cap)
{
    size_t len = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    append(buf, cap, &len, "mlc %s%s%s", s->name, s->args[0] ? " " : "", s->args);
    for (const struct cmdo_opt *o = s->opts; o != NULL && o->name != NULL; o++)
        if (!args_name(s, o->name))
            append(buf, cap, &len, " [--%s%s%s]%s", o->name, o->arg ? " " : "",
               o->arg ? o->arg : "", o->kind == CMDO_LIST ? "..." : "");
}

static void synopsis_line(const struct cmdo_spec *s, const char *lead, FILE *out)
{
    char syn[1024];

    cmdo_synopsis(s, syn, sizeof(syn));
    fprintf(out, "%s%s\n", lead, syn);
}

static void option_line(const struct cmdo_opt *o, FILE *out)
{
    char head[96];

    snprintf(head, sizeof(head), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
             o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
             o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(out, "  %-26s  %s", head, o->help);  /* two spaces at least: gen-man splits there */
    if (o->kind == CMDO_INT && o->max == LLONG_MAX)
        fprintf(out, " (%lld or more)", o->min);
    else if (o->kind == CMDO_INT)
        fprintf(out, " (%lld to %lld)", o->min, o->max);
    else if (o->kind == CMDO_LIST)
        fprintf(out, " (repeatable, up to %d)", CMDO_LIST_MAX);
    fputc('\n', out);
}

void cmdo_usage(const struct cmdo_spec *s, FILE *out)
{
    synopsis_line(s, "usage: ", out);
    fprintf(out, "%s\n\noptions:\n", s->summary);
    for (const struct cmdo_opt *o = s->opts; o != NULL && o->name != NULL; o++)
        option_line(o, out);
    option_line(&help_opt, out);
    if (s->notes != NULL)
        fprintf(out, "\n%s\n", s->notes);
}

static int vfail(const struct cmdo_spec *s, FILE *err, const char *fmt, va_list ap)
{
    prog_prefix(s, err);
    vfprintf(err, fmt, ap);
    fputc('\n', err);
    synopsis_line(s, "usage: ", err);
    fprintf(err, "(mlc %s --help for the options)\n", s->name);
    return 2;
}

static int fail_to(const struct cmdo_spec *s, FILE *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_to(const struct cmdo_spec *s, FILE *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail(s, err, fmt, ap);
    va_end(ap);
    return rc;
}

int cmdo_fail(const struct cmdo_spec *s, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail(s, stderr, fmt, ap);
    va_end(ap);
    return rc;
}

/* The option named name (len bytes): exact, else the one it abbreviates.
 * NULL when none; *ambiguous when it abbreviates several. */
static const struct cmdo_opt *find_long(const struct cmdo_spec *s, const char *name,
                                        size_t len, bool *ambiguous)
{
    const struct cmdo_opt *found = NULL;
    int n = 0;

    *ambiguous = false;
    if (len == 0)
        return NULL;  /* "--=V" */
    if (len == strlen(help_opt.name) && strncmp(name, help_opt.name, len) == 0)
        return &help_opt;
    for (const struct cmdo_opt *o = s->opts; o != NULL && o->name != NULL; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (o->name[len] == '\0')
            return o;
        found = o;
        n++;
    }
    if (strncmp(help_opt.name, name, len) == 0) {
        found = &help_opt;
        n++;
    }
    *ambiguous = n > 1;
    return n == 1 ? found : NULL;
}

static const struct cmdo_opt *find_short(const struct cmdo_spec *s, char c)
{
    if (c == help_opt.short_name)
        return &help_opt;
    for (const struct cmdo_opt *o = s->opts; o != NULL && o->name != NULL; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

/* Stores one option's value (NULL for a flag). */
static int store_value(struct cmdo_run *r, const struct cmdo_opt *o, const char *val)
{
    char *field = (char *)r->args + o->off;
    long long n;

    if (o == &help_opt) {
        r->help = true;
        return CMDO_GO;
    }
    switch (o->kind) {
    case CMDO_FLAG:
        *(bool *)(void *)field = true;
        break;
    case CMDO_STRING:
        *(const char **)(void *)field = val;
        break;
    case CMDO_INT:
        if (cmdu_parse_ll(val, &n) != MLC_OK || n < o->min || n > o->max)
            return o->max == LLONG_MAX
                ? fail_to(r->s, r->err, "--%s '%s': expected a whole number from %lld",
                          o->name, val, o->min)
                : fail_to(r->s, r->err, "--%s '%s': expected a whole number from %lld "
                          "to %lld", o->name, val, o->min, o->max);
        *(long long *)(void *)field = n;
        break;
    case CMDO_LIST: {
        struct cmdo_list *l = (struct cmdo_list *)(void *)field;

        if (l->n >= CMDO_LIST_MAX)
            return fail_to(r->s, r->err, "--%s given more than %d times", o->name,
                           CMDO_LIST_MAX);
        l->v[l->n++] = val;
        break;
    }
    }
    return CMDO_GO;
}

/* "--name", "--name=V" or "--name V" at argv[*i]. */
static int parse_long(struct cmdo_run *r, int argc, char **argv, int *i)
{
    const char *a = argv[*i] + 2, *eq = strchr(a, '=');
    size_t len = eq != NULL ? (size_t)(eq - a) : strlen(a);
    bool ambiguous;
    const struct cmdo_opt *o = find_long(r->s, a, len, &ambiguous);

    if (o == NULL)
        return fail_to(r->s, r->err, "%s option '--%.*s'",
                       ambiguous ? "ambiguous" : "unknown", (int)len, a);
    if (o->kind == CMDO_FLAG) {
        if (eq != NULL)
            return fail_to(r->s, r->err, "--%s takes no value", o->name);
        return store_value(r, o, NULL);
    }
    if (eq != NULL)
        return store_value(r, o, eq + 1);
    if (*i + 1 >= argc)
        return fail_to(r->s, r->err, "--%s needs a value (%s)", o->name, o->arg);
    return store_value(r, o, argv[++*i]);
}

/* "-c V", "-cV" or grouped flags "-aj" at argv[*i]. */
static int parse_short(struct cmdo_run *r, int argc, char **argv, int *i)
{
    for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
        const struct cmdo_opt *o = find_short(r->s, *p);
        int rc;

        if (o == NULL)
            return fail_to(r->s, r->err, "unknown option '-%c'", *p);
        if (o->kind == CMDO_FLAG) {
            if ((rc = store_value(r, o, NULL)) != CMDO_GO)
                return rc;
            continue;
        }
        if (p[1] != '\0')
            return store_value(r, o, p + 1);
        if (*i + 1 >= argc)
            return fail_to(r->s, r->err, "-%c needs a value (%s)", *p, o->arg);
        return store_value(r, o, argv[++*i]);
    }
    return CMDO_GO;
}

int cmdo_parse_to(const struct cmdo_spec *s, int argc, char **argv, void *args,
                  int *npos, FILE *out, FILE *err)
{
    struct cmdo_run r = { s, args, out, err, false };
    bool opts = true;
    int w = 1, rc;

    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (opts && strcmp(a, "--") == 0) {
            opts = false;
            continue;
        }
        if (!opts || a[0] != '-' || a[1] == '\0') {
            argv[w++] = argv[i];  /* w <= i: compacting never overtakes */
            continue;
        }
        rc = a[1] == '-' ? parse_long(&r, argc, argv, &i) : parse_short(&r, argc, argv, &i);
        if (rc != CMDO_GO)
            return rc;
    }
    if (r.help) {
        cmdo_usage(s, out);
        return CMDO_HELP;
    }
    *npos = w - 1;
    return CMDO_GO;
}

int cmdo_parse(const struct cmdo_spec *s, int argc, char **argv, void *args, int *npos)
{
    return cmdo_parse_to(s, argc, argv, args, npos, stdout, stderr);
}

/* The subcommand word of "jobs list". */
static const char *sub_word(const struct cmdo_spec *s)
{
    const char *sp = strchr(s->name, ' ');

    return sp != NULL ? sp + 1 : s->name;
}

void cmdo_sub_usage(const char *cmd, const struct cmdo_spec *const *specs, FILE *out)
{
    for (size_t i = 0; specs[i] != NULL; i++)
        synopsis_line(specs[i], i == 0 ? "usage: " : "       ", out);
    fputc('\n', out);
    for (size_t i = 0; specs[i] != NULL; i++)
        fprintf(out, "  %-10s %s\n", sub_word(specs[i]), specs[i]->summary);
    fprintf(out, "\nmlc %s SUBCOMMAND --help: its options.\n", cmd);
}

int cmdo_sub_to(const char *cmd, const struct cmdo_spec *const *specs, int argc,
                char **argv, size_t *which, FILE *out, FILE *err)
{
    const char *a = argc >= 2 ? argv[1] : NULL;

    if (a != NULL && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
        cmdo_sub_usage(cmd, specs, out);
        return CMDO_HELP;
    }
    for (size_t i = 0; a != NULL && specs[i] != NULL; i++) {
        if (strcmp(a, sub_word(specs[i])) == 0) {
            *which = i;
            return CMDO_GO;
        }
    }
    if (a == NULL)
        fprintf(err, "mlc %s: missing subcommand\n", cmd);
    else
        fprintf(err, "mlc %s: unknown subcommand '%s'\n", cmd, a);
    cmdo_sub_usage(cmd, specs, err);
    return 2;
}

int cmdo_sub(const char *cmd, const struct cmdo_spec *const *specs, int argc, char **argv,
             size_t *which)
{
    return cmdo_sub_to(cmd, specs, argc, argv, which, stdout, stderr);
}

void cmdo_option_names(const struct cmdo_spec *s, char *buf, size_t cap)
{
    size_t len = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    for (const struct cmdo_opt *o = s->opts; o != NULL && o->name != NULL; o++)
        append(buf, cap, &len, "--%s ", o->name);
    append(buf, cap, &len, "--%s", help_opt.name);
}
