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
    const char        *format;
    struct jdate_civil day, to;
    enum fmt           fmt;
};

#define REPORT_FORMAT_OPT \
    { "format", 'f', CMDO_STRING, offsetof(struct report_args, format), "text|json|csv", \
      "the output (default text)", 0, 0 }
static const struct cmdo_opt reconcile_opts[] = {
    CMDO_CONFIG(struct report_args),
    { "day", 'd', CMDO_STRING, offsetof(struct report_args, day_s), "YYYY-MM-DD",
      "the (first) day, in posting.timezone (required)", 0, 0 },
    { "to", 't', CMDO_STRING, offsetof(struct report_args, to_s), "YYYY-MM-DD",
      "the last day of a range", 0, 0 },
    REPORT_FORMAT_OPT,
    CMDO_END,
};
static const struct cmdo_opt show_opts[] = {
    CMDO_CONFIG(struct report_args),
    { "day", 'd', CMDO_STRING, offsetof(struct report_args, day_s), "YYYY-MM-DD",
      "that day's report (default: the latest)", 0, 0 },
    REPORT_FORMAT_OPT,
    CMDO_END,
};
static const struct cmdo_spec reconcile_spec = {
    "report reconcile", "",
    "BigCommerce, the ledger and JDE set against each other per day", reconcile_opts,
    "Exit 0 when they agree, 1 on differences, 2 on a usage error.",
};
static const struct cmdo_spec show_spec = {
    "report show", "", "the latest stored reconcile report, or that day's", show_opts,
    "Exit 0 when the report agreed, 1 when it had differences.",
};
const struct cmdo_spec *const cmd_report_specs[] = { &reconcile_spec, &show_spec, NULL };

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, const struct cmdo_spec *spec,
                      struct report_args *a)
{
    int npos, rc;

    memset(a, 0, sizeof(*a));
    if ((rc = cmdo_parse(spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0) {
        fprintf(stderr, PROG ": unexpected argument %s\n", argv[1]);
        return 2;
    }
    if (a->format == NULL || strcmp(a->format, "text") == 0) {
        a->fmt = FMT_TEXT;
    } else if (strcmp(a->format, "json") == 0) {
        a->fmt = FMT_JSON;
    } else if (strcmp(a->format, "csv") == 0) {
        a->fmt = FMT_CSV;
    } else {
        fprintf(stderr, PROG ": --format %s: expected text, json or csv\n", a->format);
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

    if ((status = parse_args(argc, argv, &reconcile_spec, &a)) != 0)
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

    if ((status = parse_args(argc, argv, &show_spec, &a)) != 0)
        return status < 0 ? 0 : status;
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
    size_t which = 0;
    int rc = cmdo_sub("report", cmd_report_specs, argc, argv, &which);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    return which == 0 ? reconcile(argc - 1, argv + 1) : show(argc - 1, argv + 1);
}
