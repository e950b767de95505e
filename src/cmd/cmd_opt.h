/*
 * cmd_opt: the option tables of the operator's commands, in the spirit of
 * git's parse-options. A command (or subcommand) describes itself once in a
 * struct cmdo_spec: its name, its positional arguments, a summary and its
 * options. The same table parses argv, writes the usage (--help, `mlc help
 * CMD`), the man page and the bash completion, so they cannot drift.
 *
 * The tables are static and const: an option names where its value goes
 * as an offset into the command's own argument struct (offsetof), which the
 * caller passes to cmdo_parse.
 *
 * Exit statuses follow cmd.h: a usage error prints "mlc CMD: problem" and
 * the synopsis on stderr and is 2; --help prints the usage on stdout and
 * the command exits 0.
 */
#ifndef MLC_CMD_CMD_OPT_H
#define MLC_CMD_CMD_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cmdo_kind {
    CMDO_FLAG,   /* bool: true when given (given twice: still true) */
    CMDO_STRING, /* const char *: points into argv; the last one given wins */
    CMDO_INT,    /* long long, checked against [min, max] */
    CMDO_LIST,   /* struct cmdo_list: every value given, in order */
};

/* The values of a repeatable option; the strings point into argv. */
#define CMDO_LIST_MAX 16
struct cmdo_list {
    const char *v[CMDO_LIST_MAX];
    int         n;
};

struct cmdo_opt {
    const char    *name;  /* long name without "--"; NULL ends a table */
    char           short_name; /* 0: none */
    enum cmdo_kind kind;
    size_t         off;   /* offsetof(the command's args struct, field) */
    const char    *arg;   /* the value's name in the usage ("FILE"); NULL for a flag */
    const char    *help;  /* one line */
    long long      min, max; /* CMDO_INT */
};

struct cmdo_spec {
    const char            *name;    /* "held", or "jobs list" for a subcommand */
    const char            *args;    /* positional arguments ("ID|KEY..."), "" for none */
    const char            *summary; /* one line: what it does */
    const struct cmdo_opt *opts;    /* ended by a NULL name */
    const char            *notes;   /* more text for --help, or NULL */
};

/* The option every command that reads a configuration takes. */
#define CMDO_CONFIG(type) \
    { "config", 'c', CMDO_STRING, offsetof(type, config), "FILE", \
      "the configuration (default: $MLC_CONFIG, else /etc/mlc/mlc.yaml)", 0, 0 }
#define CMDO_JSON(type, what) \
    { "json", 'j', CMDO_FLAG, offsetof(type, json), NULL, what, 0, 0 }
#define CMDO_END { NULL, 0, CMDO_FLAG, 0, NULL, NULL, 0, 0 }

/* What cmdo_parse returns besides an exit status. */
#define CMDO_GO   0  /* parsed: go on */
#define CMDO_HELP -1 /* --help printed the usage: exit 0 */

/* Parses argv[1..argc-1] (argv[0] is the command or subcommand word) into
 * args as s->opts say. Options and positional arguments may mix; "--" ends
 * the options. A long option may be abbreviated while unambiguous, and
 * takes its value as "--name=V" or "--name V"; short ones as "-c V" or
 * "-cV", and flags group ("-aj"). On CMDO_GO the positional arguments are
 * moved, in order, to argv[1..*npos] (argv is reordered in place). Returns
 * CMDO_GO, CMDO_HELP, or 2 after printing the error. Fields of args that
 * no option names are left alone: set the defaults before. */
int cmdo_parse(const struct cmdo_spec *s, int argc, char **argv, void *args, int *npos);
/* The same with the streams given (the tests). */
int cmdo_parse_to(const struct cmdo_spec *s, int argc, char **argv, void *args,
                  int *npos, FILE *out, FILE *err);

/* "mlc NAME ARGS [--opt V]...": the synopsis of s, in buf. */
void cmdo_synopsis(const struct cmdo_spec *s, char *buf, size_t cap);
/* The whole usage: synopsis, summary, options, notes. */
void cmdo_usage(const struct cmdo_spec *s, FILE *out);
/* "mlc CMD: " + the message, then the synopsis, on stderr; returns 2. For
 * a command's own checks (two options that exclude each other, ...). */
int cmdo_fail(const struct cmdo_spec *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A command with subcommands (specs named "CMD SUB", NULL-terminated):
 * finds argv[1] among them. Returns CMDO_GO with *which set, CMDO_HELP
 * after printing the usage of every subcommand for --help or -h, or 2 on
 * a missing or unknown subcommand. */
int cmdo_sub(const char *cmd, const struct cmdo_spec *const *specs, int argc, char **argv,
             size_t *which);
int cmdo_sub_to(const char *cmd, const struct cmdo_spec *const *specs, int argc,
                char **argv, size_t *which, FILE *out, FILE *err);
/* The usage of every subcommand, with their summaries. */
void cmdo_sub_usage(const char *cmd, const struct cmdo_spec *const *specs, FILE *out);

/* The long names of s's options ("--config --json ... --help"), for the
 * completion. */
void cmdo_option_names(const struct cmdo_spec *s, char *buf, size_t cap);

#endif
