/*
 * mlc audit --order ID | --entity KEY [--limit N] --config FILE [--json]:
 * the full trail of one resource. Its audit rows oldest first (time, actor,
 * action, outcome, detail), its posting ledger rows (idempotency keys,
 * state, JDE document numbers, the lines sent) and its jobs not yet done.
 * Without --order or --entity: the most recent rows of every entity
 * (--limit, default 50). --limit keeps the most recent N rows, still
 * printed oldest first.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/json.h"
#include "store/store.h"

#define PROG "mlc audit"
#define AUDIT_DEFAULT_ALL_LIMIT 50
#define ENTITY_MAX 256

struct audit_args {
    const char *config;
    const char *order;
    const char *entity;
    long long   limit;      /* 0: all */
    bool        json;
    char        key[ENTITY_MAX];
};

static const struct cmdo_opt audit_opts[] = {
    CMDO_CONFIG(struct audit_args),
    { "order", 'o', CMDO_STRING, offsetof(struct audit_args, order), "ID",
      "one BigCommerce order", 0, 0 },
    { "entity", 'e', CMDO_STRING, offsetof(struct audit_args, entity), "KEY",
      "one resource key such as order:104, customer:7, hook:12", 0, 0 },
    { "limit", 'n', CMDO_INT, offsetof(struct audit_args, limit), "N",
      "at most the N latest rows (0: all; without --order or --entity: 50)", 0, LLONG_MAX },
    CMDO_JSON(struct audit_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec audit_spec = {
    "audit", "", "the audit trail and JDE documents of one order", audit_opts,
    "Without --order or --entity: every entity, the latest 50 rows unless --limit.",
};
const struct cmdo_spec *const cmd_audit_specs[] = { &audit_spec, NULL };

static int check_entity(struct audit_args *a)
{
    long long id;

    if (a->order != NULL && a->entity != NULL) {
        fprintf(stderr, PROG ": --order and --entity exclude each other\n");
        return 2;
    }
    if (a->order != NULL) {
        if (cmdu_parse_ll(a->order, &id) != MLC_OK || id <= 0) {
            fprintf(stderr, PROG ": --order needs a BigCommerce order id (a "
                    "positive number), got '%s'\n", a->order);
            return 2;
        }
        snprintf(a->key, sizeof(a->key), "order:%lld", id);
    } else if (a->entity != NULL) {
        if (a->entity[0] == '\0' || strlen(a->entity) >= sizeof(a->key)) {
            fprintf(stderr, PROG ": --entity needs a key such as order:104\n");
            return 2;
        }
        snprintf(a->key, sizeof(a->key), "%s", a->entity);
    }
    return 0;
}

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, struct audit_args *a)
{
    int npos, rc;

    memset(a, 0, sizeof(*a));
    a->limit = -1;  /* not given */
    if ((rc = cmdo_parse(&audit_spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0)
        return cmdo_fail(&audit_spec, "unexpected argument '%s'", argv[1]);
    a->config = cmdu_config(a->config);
    if (a->limit < 0)
        a->limit = a->order == NULL && a->entity == NULL ? AUDIT_DEFAULT_ALL_LIMIT : 0;
    return check_entity(a);
}

/* ---- collecting ---------------------------------------------------------- */

struct audit_walk {
    json_t *rows;
    size_t  seen;
    size_t  skip;   /* rows before the most recent `limit` */
    bool    oom;
};

static int count_cb(const struct store_audit *r, void *ctx)
{
    (void)r;
    ((struct audit_walk *)ctx)->seen++;
    return 0;
}

static int audit_cb(const struct store_audit *r, void *ctx)
{
    struct audit_walk *w = ctx;
    char when[32];
    json_t *o;

    if (w->seen++ < w->skip)
        return 0;
    cmdu_fmt_time(r->at, when, sizeof(when));
    o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o}",
                  "id", (json_int_t)r->id, "at", (json_int_t)r->at, "time", when,
                  "actor", jx_text(r->actor), "entity", jx_text(r->entity),
                  "action", jx_text(r->action),
                  "outcome", jx_text(r->outcome),
                  "detail", cmdu_json_doc(r->detail));
    if (o == NULL || json_array_append_new(w->rows, o) != 0) {
        w->oom = true;
        return 1;
    }
    return 0;
}

/* The audit rows; *omitted: older rows left out by the limit. */
static int collect_audit(struct store *st, const char *entity, size_t limit,
                         json_t *rows, size_t *omitted, struct mlc_err *e)
{
    struct audit_walk w = { .rows = rows };
    int rc = MLC_OK;

    *omitted = 0;
    if (limit > 0) {
        /* Oldest first is the store's order: count, then keep the tail. */
        rc = store_audit_list(st, entity, 0, count_cb, &w, e);
        if (rc != MLC_OK)
            return rc;
        w.skip = w.seen > limit ? w.seen - limit : 0;
        w.seen = 0;
    }
    rc = store_audit_list(st, entity, 0, audit_cb, &w, e);
    if (rc == MLC_OK && w.oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    *omitted = w.skip;
    return rc;
}

static int ledger_cb(const struct store_ledger *l, void *ctx)
{
    char created[32], updated[32];
    json_t *o;

    cmdu_fmt_time(l->created_at, created, sizeof(created));
    cmdu_fmt_time(l->updated_at, updated, sizeof(updated));
    o = json_pack("{s:s, s:s, s:s, s:s, s:s*, s:s*, s:I, s:I, s:s, s:s, s:o}",
                  "key", l->key, "kind", l->kind, "entity", l->entity,
                  "state", store_ledger_state_name(l->state),
                  "document_type", l->doc_type, "document_company", l->doc_company,
                  "document_number", (json_int_t)l->doc_number,
                  "batch", (json_int_t)l->batch, "created", created,
                  "updated", updated, "request", cmdu_json_doc(l->request));
    return (o == NULL || json_array_append_new(ctx, o) != 0) ? 1 : 0;
}

struct job_walk {
    json_t     *jobs;
    const char *key;
    bool        oom;
};

static int job_cb(const struct store_job *j, void *ctx)
{
    struct job_walk *w = ctx;
    char updated[32];
    json_t *o;

    if (strcmp(j->key, w->key) != 0)
        return 0;
    cmdu_fmt_time(j->updated_at, updated, sizeof(updated));
    o = json_pack("{s:I, s:s, s:s, s:i, s:s, s:o}", "id", (json_int_t)j->id,
                  "kind", j->kind, "state", store_job_state_name(j->state),
                  "attempts", j->attempts, "updated", updated,
                  "last_error", jx_text(j->last_error));
    if (o == NULL || json_array_append_new(w->jobs, o) != 0) {
        w->oom = true;
        return 1;
    }
    return 0;
}

/* Jobs of key that are not done: queued, running, held or failed. */
static int collect_jobs(struct store *st, const char *key, json_t *jobs,
                        struct mlc_err *e)
{
    static const enum store_job_state states[] = {
        STORE_JOB_READY, STORE_JOB_RUNNING, STORE_JOB_HELD, STORE_JOB_FAILED,
    };
    struct job_walk w = { .jobs = jobs, .key = key };
    int rc = MLC_OK;

    for (size_t i = 0; rc == MLC_OK && !w.oom && i < sizeof(states) / sizeof(states[0]); i++)
        rc = store_job_list(st, (int)states[i], 0, job_cb, &w, e);
    if (rc == MLC_OK && w.oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return rc;
}

/* The whole report as JSON, or NULL (message printed). */
static json_t *collect(struct store *st, const struct audit_args *a)
{
    const char *entity = a->key[0] != '\0' ? a->key : NULL;
    json_t *r = json_pack("{s:o, s:[], s:I}", "entity", jx_text(entity),
                          "audit", "limit", (json_int_t)a->limit);
    struct mlc_err e;
    size_t omitted = 0;
    int rc;

    mlc_err_clear(&e);
    if (r == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return NULL;
    }
    rc = collect_audit(st, entity, (size_t)a->limit, json_object_get(r, "audit"),
                       &omitted, &e);
    json_object_set_new(r, "omitted", json_integer((json_int_t)omitted));
    if (rc == MLC_OK && entity != NULL) {
        json_t *ledger = json_array(), *jobs = json_array();

        json_object_set_new(r, "ledger", ledger);
        json_object_set_new(r, "jobs", jobs);
        if (ledger == NULL || jobs == NULL)
            rc = mlc_err_set(&e, MLC_ENOMEM, "out of memory");
        if (rc == MLC_OK)
            rc = store_ledger_list(st, entity, ledger_cb, ledger, &e);
        if (rc == MLC_OK)
            rc = collect_jobs(st, entity, jobs, &e);
    }
    if (rc != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        json_decref(r);
        return NULL;
    }
    return r;
}

/* ---- text ---------------------------------------------------------------- */

/* A string printed bare when it has no blank or quote, else quoted JSON. */
static void print_scalar(const json_t *v)
{
    char *s;

    if (json_is_string(v)) {
        const char *str = json_string_value(v);

        if (str[0] != '\0' && strpbrk(str, " \t\n\"=") == NULL) {
            fputs(str, stdout);
            return;
        }
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL)
        fputs(s, stdout);
    free(s);
}

/* An audit detail: an object as k=v pairs, anything else as JSON. */
static void print_detail(const json_t *d)
{
    const char *k;
    json_t *v;
    bool first = true;

    if (json_is_null(d))
        return;
    if (!json_is_object(d)) {
        print_scalar(d);
        return;
    }
    json_object_foreach((json_t *)d, k, v) {
        printf("%s%s=", first ? "" : " ", k);
        print_scalar(v);
        first = false;
    }
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

static void print_audit(const json_t *r, bool all_entities)
{
    const json_t *rows = json_object_get(r, "audit");
    json_int_t omitted = json_integer_value(json_object_get(r, "omitted"));
    size_t i;
    json_t *row;

    if (json_array_size(rows) == 0) {
        printf("  (no audit entries)\n");
        return;
    }
    if (omitted > 0)
        printf("  ... %" JSON_INTEGER_FORMAT " older entr%s left out (--limit 0 "
               "shows all)\n", omitted, omitted == 1 ? "y" : "ies");
    json_array_foreach(rows, i, row) {
        printf("  %-20s  %-10s  ", jstr(row, "time"), jstr(row, "actor"));
        if (all_entities)
            printf("%-18s  ", jstr(row, "entity"));
        printf("%-14s  %-8s  ", jstr(row, "action"), jstr(row, "outcome"));
        print_detail(json_object_get(row, "detail"));
        putchar('\n');
    }
}

/* The lines of a ledger request as posting renders them, when it does. */
static void print_request(const json_t *req)
{
    const json_t *lines = json_object_get(req, "lines");
    size_t i;
    json_t *l;

    if (!json_is_array(lines))
        return;
    printf("      %s %s, GL date %s, %zu line%s\n", jstr(req, "document_type"),
           jstr(req, "currency"), jstr(req, "gl_date"), json_array_size(lines),
           json_array_size(lines) == 1 ? "" : "s");
    json_array_foreach(lines, i, l) {
        printf("        %-20s %14s  %-10s %s\n", jstr(l, "account"),
               jstr(l, "amount"), jstr(l, "role"), jstr(l, "remark"));
    }
}

static void print_ledger(const json_t *rows)
{
    size_t i;
    json_t *l;

    if (json_array_size(rows) == 0) {
        printf("  (nothing posted or being posted)\n");
        return;
    }
    json_array_foreach(rows, i, l) {
        json_int_t doc = json_integer_value(json_object_get(l, "document_number"));

        printf("  %-14s %-9s %-8s", jstr(l, "key"), jstr(l, "kind"), jstr(l, "state"));
        if (doc > 0)
            printf(" JDE %s %" JSON_INTEGER_FORMAT " company %s batch %"
                   JSON_INTEGER_FORMAT, jstr(l, "document_type"), doc,
                   jstr(l, "document_company"),
                   json_integer_value(json_object_get(l, "batch")));
        else if (strcmp(jstr(l, "state"), "unknown") == 0)
            printf(" outcome unknown: looked up in JDE before any re-send");
        printf("  (%s)\n", jstr(l, "updated"));
        print_request(json_object_get(l, "request"));
    }
}

static void print_jobs(const json_t *jobs)
{
    size_t i;
    json_t *j;

    if (json_array_size(jobs) == 0) {
        printf("  (none: nothing queued, running or held)\n");
        return;
    }
    json_array_foreach(jobs, i, j) {
        const char *err = jstr(j, "last_error");

        printf("  job %" JSON_INTEGER_FORMAT "  %-12s %-8s attempts %" JSON_INTEGER_FORMAT
               "  since %s\n", json_integer_value(json_object_get(j, "id")),
               jstr(j, "kind"), jstr(j, "state"),
               json_integer_value(json_object_get(j, "attempts")), jstr(j, "updated"));
        if (err[0] != '\0')
            printf("      %s\n", err);
    }
}

static void print_text(const json_t *r)
{
    const char *entity = json_string_value(json_object_get(r, "entity"));

    if (entity == NULL) {
        printf("Audit trail, every entity (most recent %" JSON_INTEGER_FORMAT
               ", oldest first, times UTC)\n",
               json_integer_value(json_object_get(r, "limit")));
        print_audit(r, true);
        return;
    }
    printf("Audit trail of %s (oldest first, times UTC)\n", entity);
    print_audit(r, false);
    printf("\nJDE documents (posting ledger)\n");
    print_ledger(json_object_get(r, "ledger"));
    printf("\nOpen jobs\n");
    print_jobs(json_object_get(r, "jobs"));
}

int cmd_audit(int argc, char **argv)
{
    struct audit_args a;
    struct store *st = NULL;
    json_t *r;
    int status;

    status = parse_args(argc, argv, &a);
    if (status != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, NULL, &st) != MLC_OK)
        return 1;
    r = collect(st, &a);
    store_close(st);
    if (r == NULL)
        return 1;
    if (a.json)
        status = cmdu_print_json(PROG, r);
    else
        print_text(r);
    json_decref(r);
    return status;
}
