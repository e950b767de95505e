/* Unit tests: cmd_opt (the option tables of the commands: every kind of
 * option, both value spellings, "--", the errors and their exit status 2,
 * --help, the usage generated from the table, subcommands). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_opt.h"

struct targs {
    const char      *config;
    bool             json, all;
    long long        limit;
    struct cmdo_list tags;
};

static const struct cmdo_opt topts[] = {
    CMDO_CONFIG(struct targs),
    CMDO_JSON(struct targs, "JSON output"),
    { "all", 'a', CMDO_FLAG, offsetof(struct targs, all), NULL, "every item", 0, 0 },
    { "limit", 'n', CMDO_INT, offsetof(struct targs, limit), "N", "at most N", 1, 100 },
    { "tag", 0, CMDO_LIST, offsetof(struct targs, tags), "TAG", "a tag", 0, 0 },
    { "all-items", 0, CMDO_FLAG, offsetof(struct targs, all), NULL, "same as --all", 0, 0 },
    CMDO_END,
};
static const struct cmdo_spec tspec = {
    "thing list", "[NAME...]", "list the things", topts, "A note at the end.",
};

/* One parse with captured streams. */
struct run {
    struct targs a;
    int          rc, npos;
    char        *out, *err;
    size_t       out_len, err_len;
    char        *argv[16];
};

static void parse(struct run *r, int argc, ...)
{
    FILE *out, *err;
    va_list ap;

    memset(r, 0, sizeof(*r));
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        r->argv[i] = va_arg(ap, char *);
    va_end(ap);
    out = open_memstream(&r->out, &r->out_len);
    err = open_memstream(&r->err, &r->err_len);
    assert_non_null(out);
    assert_non_null(err);
    r->rc = cmdo_parse_to(&tspec, argc, r->argv, &r->a, &r->npos, out, err);
    fclose(out);
    fclose(err);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* Flags, strings and integers, long and short, both value spellings. */
static void test_kinds(void **state)
{
    struct run r;

    (void)state;
    parse(&r, 6, "list", "--config=/etc/a.yaml", "--json", "-a", "--limit", "7");
    assert_int_equal(r.rc, CMDO_GO);
    assert_string_equal(r.a.config, "/etc/a.yaml");
    assert_true(r.a.json);
    assert_true(r.a.all);
    assert_int_equal(r.a.limit, 7);
    assert_int_equal(r.npos, 0);
    assert_int_equal(r.err_len, 0);
    run_free(&r);

    parse(&r, 5, "list", "-c", "b.yaml", "-n9", "-ja");
    assert_int_equal(r.rc, CMDO_GO);
    assert_string_equal(r.a.config, "b.yaml");
    assert_int_equal(r.a.limit, 9);
    assert_true(r.a.json && r.a.all);
    run_free(&r);

    /* The last string given wins; an abbreviation that is unique counts. */
    parse(&r, 5, "list", "--config", "a", "--conf=b", "--lim=3");
    assert_int_equal(r.rc, CMDO_GO);
    assert_string_equal(r.a.config, "b");
    assert_int_equal(r.a.limit, 3);
    run_free(&r);
}

/* A repeated flag stays set; a repeatable option keeps every value. */
static void test_repeat(void **state)
{
    struct run r;

    (void)state;
    parse(&r, 6, "list", "--json", "--json", "--tag", "x", "--tag=y");
    assert_int_equal(r.rc, CMDO_GO);
    assert_true(r.a.json);
    assert_int_equal(r.a.tags.n, 2);
    assert_string_equal(r.a.tags.v[0], "x");
    assert_string_equal(r.a.tags.v[1], "y");
    run_free(&r);
}

/* Positional arguments mix with options and come out in order; "--" ends
 * the options, and a lone "-" is an argument. */
static void test_positionals(void **state)
{
    struct run r;

    (void)state;
    parse(&r, 8, "list", "one", "--json", "two", "-", "--", "--all", "-n");
    assert_int_equal(r.rc, CMDO_GO);
    assert_true(r.a.json);
    assert_false(r.a.all);
    assert_int_equal(r.npos, 5);
    assert_string_equal(r.argv[1], "one");
    assert_string_equal(r.argv[2], "two");
    assert_string_equal(r.argv[3], "-");
    assert_string_equal(r.argv[4], "--all");
    assert_string_equal(r.argv[5], "-n");
    run_free(&r);
}

static void assert_usage_error(struct run *r, const char *msg)
{
    assert_int_equal(r->rc, 2);
    assert_int_equal(r->out_len, 0);
    assert_non_null(strstr(r->err, "mlc thing: "));
    assert_non_null(strstr(r->err, msg));
    assert_non_null(strstr(r->err, "usage: mlc thing list"));
}

/* Every mistake is exit 2 with "mlc CMD: problem" and the synopsis. */
static void test_errors(void **state)
{
    struct run r;

    (void)state;
    parse(&r, 2, "list", "--bogus");
    assert_usage_error(&r, "unknown option '--bogus'");
    run_free(&r);
    parse(&r, 2, "list", "--=x");
    assert_usage_error(&r, "unknown option '--'");
    run_free(&r);
    parse(&r, 2, "list", "-x");
    assert_usage_error(&r, "unknown option '-x'");
    run_free(&r);
    parse(&r, 2, "list", "--al");   /* --all or --all-items */
    assert_usage_error(&r, "ambiguous option '--al'");
    run_free(&r);
    parse(&r, 2, "list", "--config");
    assert_usage_error(&r, "--config needs a value (FILE)");
    run_free(&r);
    parse(&r, 2, "list", "-n");
    assert_usage_error(&r, "-n needs a value (N)");
    run_free(&r);
    parse(&r, 2, "list", "--json=yes");
    assert_usage_error(&r, "--json takes no value");
    run_free(&r);
    parse(&r, 3, "list", "--limit", "ten");
    assert_usage_error(&r, "--limit 'ten': expected a whole number from 1 to 100");
    run_free(&r);
    parse(&r, 2, "list", "--limit=12x");
    assert_usage_error(&r, "--limit '12x'");
    run_free(&r);
    parse(&r, 2, "list", "--limit=101");
    assert_usage_error(&r, "from 1 to 100");
    run_free(&r);
    parse(&r, 2, "list", "--limit=0");
    assert_usage_error(&r, "from 1 to 100");
    run_free(&r);
}

/* A repeatable option holds CMDO_LIST_MAX values; one more is an error. */
static void test_list_full(void **state)
{
    char *argv[2 * (CMDO_LIST_MAX + 1) + 1];
    struct targs a;
    char *o = NULL, *e = NULL;
    size_t ol, el;
    int npos;
    FILE *out = open_memstream(&o, &ol), *err = open_memstream(&e, &el);

    (void)state;
    memset(&a, 0, sizeof(a));
    argv[0] = "list";
    for (int i = 0; i <= CMDO_LIST_MAX; i++) {
        argv[1 + 2 * i] = "--tag";
        argv[2 + 2 * i] = "t";
    }
    assert_int_equal(cmdo_parse_to(&tspec, 2 * CMDO_LIST_MAX + 1, argv, &a, &npos, out, err),
                     CMDO_GO);
    assert_int_equal(a.tags.n, CMDO_LIST_MAX);
    memset(&a, 0, sizeof(a));
    assert_int_equal(cmdo_parse_to(&tspec, 2 * (CMDO_LIST_MAX + 1) + 1, argv, &a, &npos,
                                   out, err), 2);
    fclose(out);
    fclose(err);
    assert_non_null(strstr(e, "--tag given more than 16 times"));
    free(o);
    free(e);
}

/* --help and -h: the usage on stdout, nothing else parsed matters. */
static void test_help(void **state)
{
    struct run r;

    (void)state;
    parse(&r, 3, "list", "x", "--help");
    assert_int_equal(r.rc, CMDO_HELP);
    assert_int_equal(r.err_len, 0);
    assert_non_null(strstr(r.out, "usage: mlc thing list"));
    run_free(&r);
    parse(&r, 2, "list", "-h");
    assert_int_equal(r.rc, CMDO_HELP);
    run_free(&r);
}

/* The usage comes from the table: synopsis, summary, each option with its
 * short name, value and range, --help, the notes. */
static void test_usage(void **state)
{
    char syn[512];
    struct run r;

    (void)state;
    cmdo_synopsis(&tspec, syn, sizeof(syn));
    assert_string_equal(syn, "mlc thing list [NAME...] [--config FILE] [--json] [--all] "
                        "[--limit N] [--tag TAG]... [--all-items]");
    parse(&r, 2, "list", "--help");
    assert_non_null(strstr(r.out, "usage: mlc thing list [NAME...] [--config FILE]"));
    assert_non_null(strstr(r.out, "\nlist the things\n"));
    assert_non_null(strstr(r.out, "-c, --config FILE"));
    assert_non_null(strstr(r.out, "-n, --limit N"));
    assert_non_null(strstr(r.out, "at most N (1 to 100)"));
    assert_non_null(strstr(r.out, "--tag TAG"));
    assert_non_null(strstr(r.out, "(repeatable"));
    assert_non_null(strstr(r.out, "-h, --help"));
    assert_non_null(strstr(r.out, "A note at the end."));
    run_free(&r);
    cmdo_option_names(&tspec, syn, sizeof(syn));
    assert_string_equal(syn, "--config --json --all --limit --tag --all-items --help");
}

/* Subcommands: found, --help on the group, missing and unknown ones. */
static void test_sub(void **state)
{
    static const struct cmdo_spec other = { "thing show", "ID", "one thing", topts, NULL };
    static const struct cmdo_spec *const specs[] = { &tspec, &other, NULL };
    char *argv[3] = { "thing", NULL, NULL };
    char *o = NULL, *e = NULL;
    size_t ol, el, which = 9;
    FILE *out = open_memstream(&o, &ol), *err = open_memstream(&e, &el);

    (void)state;
    argv[1] = "show";
    assert_int_equal(cmdo_sub_to("thing", specs, 2, argv, &which, out, err), CMDO_GO);
    assert_int_equal(which, 1);
    argv[1] = "--help";
    assert_int_equal(cmdo_sub_to("thing", specs, 2, argv, &which, out, err), CMDO_HELP);
    argv[1] = "nope";
    assert_int_equal(cmdo_sub_to("thing", specs, 2, argv, &which, out, err), 2);
    assert_int_equal(cmdo_sub_to("thing", specs, 1, argv, &which, out, err), 2);
    fclose(out);
    fclose(err);
    assert_non_null(strstr(o, "usage: mlc thing list"));
    assert_non_null(strstr(o, "       mlc thing show ID"));
    assert_non_null(strstr(o, "  show       one thing"));
    assert_non_null(strstr(e, "mlc thing: unknown subcommand 'nope'"));
    assert_non_null(strstr(e, "mlc thing: missing subcommand"));
    free(o);
    free(e);
}

/* Every command of the binary has a table whose options are well formed:
 * a value name for each non-flag, sane ranges, no duplicate names. */
static void test_command_tables(void **state)
{
    (void)state;
    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++) {
        assert_non_null(c->specs);
        assert_non_null(c->specs[0]);
        for (size_t i = 0; c->specs[i] != NULL; i++) {
            const struct cmdo_spec *s = c->specs[i];

            assert_int_equal(strncmp(s->name, c->name, strlen(c->name)), 0);
            assert_true(s->summary != NULL && s->summary[0] != '\0');
            for (const struct cmdo_opt *o = s->opts; o->name != NULL; o++) {
                assert_true((o->arg == NULL) == (o->kind == CMDO_FLAG));
                assert_non_null(o->help);
                assert_true(o->short_name != 'h');
                assert_true(strcmp(o->name, "help") != 0);
                if (o->kind == CMDO_INT)
                    assert_true(o->min <= o->max);
                for (const struct cmdo_opt *p = s->opts; p < o; p++) {
                    assert_true(strcmp(p->name, o->name) != 0);
                    assert_true(o->short_name == 0 || p->short_name != o->short_name);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_positionals),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_list_full),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_command_tables),
    };

    return cmocka_run_group_tests_name("cmd_opt", tests, NULL, NULL);
}
