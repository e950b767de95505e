/*
 * mlc report reconcile --day D [--to D2] [--format text|json|csv] --config FILE
 * mlc report show [--day D] [--format text|json|csv] --config FILE
 *
 * reconcile sets BigCommerce, the ledger and JDE against each other for
 * each day D..D2 (posting.timezone) and prints the result (report/
 * reconcile.h); exit 0 only when every day agrees, 1 on differences or an
 * error, 2 on a usage error. show prints a stored report (the daemon's
 * daily run, or an earlier reconcile) without asking anyone anything, with
 * the same exit status as the run it shows (1 also when there is none).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/jdate.h"
#include "core/tz.h"
#include "report/gather.h"
#include "report/reconcile.h"
#include "report/report_store.h"
#include "sync/env.h"

#define PROG "mlc report"
/* A longer range is a job for several runs (each day reads both APIs). */
#define MAX_DAYS 92

enum fmt { FMT_TEXT = 0, FMT_JSON, FMT_CSV };

struct report_args {
    const char        *config;
    const char        *day_s, *to_s;
    struct jdate_civil day, to;
    enum fmt           fmt;
};

static int report_usage(FILE *out)
{
    fprintf(out,
            "usage: mlc report reconcile --day YYYY-MM-DD [--to YYYY-MM-DD]\n"
            "                            [--format text|json|csv] [--config FILE]\n"
            "       mlc report show [--day YYYY-MM-DD] [--format text|json|csv] [--config FILE]\n"
            "reconcile: BigCommerce, the ledger and JDE set against each other per day\n"
            "(posting.timezone); exit 0 when they agree, 1 on differences, 2 on usage.\n"
            "show: the latest stored report, or that day's.\n");
    return out == stdout ? 0 : 2;
}

/* 0 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "day", required_argument, NULL, 'd' },
        { "to", required_argument, NULL, 't' },
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(a, 0, sizeof(*a));
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:d:t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'd': a->day_s = optarg; break;
        case 't': a->to_s = optarg; break;
        case 'f':
            if (strcmp(optarg, "text") == 0) {
                a->fmt = FMT_TEXT;
            } else if (strcmp(optarg, "json") == 0) {
                a->fmt = FMT_JSON;
            } else if (strcmp(optarg, "csv") == 0) {
                a->fmt = FMT_CSV;
            } else {
                fprintf(stderr, PROG ": --format %s: expected text, json or csv\n", optarg);
                return 2;
            }
            break;
        case 'h': return report_usage(stdout) == 0 ? -1 : 2;
        default: return report_usage(stderr);
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument %s\n", argv[optind]);
        return 2;
    }
    a->config = cmdu_config(a->config);
    if (a->day_s != NULL && jdate_iso_date_parse(a->day_s, &a->day, NULL) != MLC_OK) {
        fprintf(stderr, PROG ": --day %s: expected a date YYYY-MM-DD\n", a->day_s);
        return 2;
    }
    a->to = a->day;
    if (a->to_s != NULL && jdate_iso_date_parse(a->to_s, &a->to, NULL) != MLC_OK) {
        fprintf(stderr, PROG ": --to %s: expected a date YYYY-MM-DD\n", a->to_s);
        return 2;
    }
    return 0;
}

/* ---- output ------------------------------------------------------------------------ */

/* days: an array of day objects. JSON is one object {agree, difference_count, days}. */
static int print_days(const json_t *days, enum fmt fmt)
{
    struct mlc_err e;
    const json_t *d;
    int64_t total = 0;
    size_t i;

    json_array_foreach(days, i, d)
        total += rcn_json_differences(d);
    if (fmt == FMT_JSON) {
        json_t *o = json_pack("{s:b, s:I, s:O}", "agree", total == 0, "difference_count",
                              (json_int_t)total, "days", days);
        int rc = cmdu_print_json(PROG, o);

        json_decref(o);
        return rc;
    }
    if (fmt == FMT_CSV)
        rcn_render_csv_header(stdout);
    json_array_foreach(days, i, d) {
        int rc = fmt == FMT_CSV ? rcn_render_csv(d, stdout, &e) : rcn_render_text(d, stdout, &e);

        if (rc != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            return 1;
        }
        if (fmt == FMT_TEXT && i + 1 < json_array_size(days))
            fputs("\n", stdout);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- reconcile ---------------------------------------------------------------------- */

struct tty_progress {
    char day[16];
};

static void on_progress(void *ctx, const char *stage, size_t n)
{
    struct tty_progress *p = ctx;

    fprintf(stderr, "\r%s: %s %zu        ", p->day, stage, n);
    fflush(stderr);
}

static int reconcile(int argc, char **argv)
{
    struct report_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct env *env = NULL;
    struct tty_progress tp;
    struct rcn_gather_opts o = { .progress_ctx = &tp };
    json_t *days = json_array();
    struct jdate_civil day;
    int64_t n_days = 0, from_days = 0, to_days = 0, total = 0;
    struct mlc_err e;
    int status;

    if ((status = parse_args(argc, argv, &a)) != 0)
        goto done;
    status = 2;
    if (a.day_s == NULL) {
        fprintf(stderr, PROG ": --day YYYY-MM-DD is required\n");
        goto done;
    }
    jdate_civil_to_days(&a.day, &from_days, NULL);
    jdate_civil_to_days(&a.to, &to_days, NULL);
    if (to_days < from_days || to_days - from_days >= MAX_DAYS) {
        fprintf(stderr, PROG ": --to must be on or after --day, at most %d days\n", MAX_DAYS);
        goto done;
    }
    status = 1;
    mlc_err_clear(&e);
    if (cmdu_open(PROG, a.config, &cfg, &st) != 0)
        goto done;
    if (tz_init(cfg->posting.timezone != NULL ? cfg->posting.timezone : "UTC", &e) != MLC_OK ||
        env_new(cfg, st, &env, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        goto done;
    }
    if (isatty(STDERR_FILENO) == 1)
        o.progress = on_progress;
    for (n_days = 0; from_days + n_days <= to_days; n_days++) {
        struct rcn_day d;
        json_t *j = NULL;
        int rc;

        jdate_civil_from_days(from_days + n_days, &day, NULL);
        jdate_iso_date_format(&day, tp.day, sizeof(tp.day), NULL);
        rc = rcn_gather_day(env, st, cfg, &day, &o, &d, &e);
        if (o.progress != NULL)
            fputs("\r\033[K", stderr);
        if (rc == MLC_OK)
            rc = rcn_day_json(&d, &j, &e);
        if (rc == MLC_OK)
            rc = rpt_store_day(st, j, &e);
        rcn_day_clear(&d);
        if (rc != MLC_OK) {
            json_decref(j);
            fprintf(stderr, PROG ": reconcile of %s failed: %s\n", tp.day, e.msg);
            goto done;
        }
        total += rcn_json_differences(j);
        json_array_append_new(days, j);
    }
    status = print_days(days, a.fmt);
    if (status == 0 && total > 0)
        status = 1;
done:
    json_decref(days);
    env_free(env);
    store_close(st);
    cfg_unref(cfg);
    return status < 0 ? 0 : status;
}

/* ---- show --------------------------------------------------------------------------- */

static int show(int argc, char **argv)
{
    struct report_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    json_t *day = NULL, *days = NULL;
    struct mlc_err e;
    int status, rc;

    if ((status = parse_args(argc, argv, &a)) != 0)
        return status < 0 ? 0 : status;
    if (a.to_s != NULL) {
        fprintf(stderr, PROG ": show takes one --day\n");
        return 2;
    }
    if (cmdu_open(PROG, a.config, &cfg, &st) != 0)
        return 1;
    mlc_err_clear(&e);
    rc = rpt_load(st, RPT_KIND_RECONCILE, a.day_s != NULL ? &a.day : NULL, &day, &e);
    status = 1;
    if (rc == MLC_ENOTFOUND) {
        fprintf(stderr, PROG ": no stored reconcile report%s%s: run mlc report reconcile --day D\n",
                a.day_s != NULL ? " for " : "", a.day_s != NULL ? a.day_s : "");
    } else if (rc != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
    } else {
        days = json_array();
        json_array_append(days, day);
        status = print_days(days, a.fmt);
        if (status == 0 && rcn_json_differences(day) > 0)
            status = 1;   /* as reconcile: 0 only when the sides agreed */
    }
    json_decref(days);
    json_decref(day);
    store_close(st);
    cfg_unref(cfg);
    return status;
}

int cmd_report(int argc, char **argv)
{
    if (argc < 2)
        return report_usage(stderr);
    if (strcmp(argv[1], "reconcile") == 0)
        return reconcile(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return show(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return report_usage(stdout);
    fprintf(stderr, PROG ": unknown subcommand %s\n", argv[1]);
    return report_usage(stderr);
}
