/*
 * mlc held --config FILE [--all] [--json]: the dead letters. Every job in
 * HELD (it waits for a fix: an unmapped SKU, a missing account, a closed
 * period) and every FAILED one (it gave up after workers.max_attempts),
 * grouped by the reason code the flow recorded when it held the job
 * (core/holdcode.h): how many, the money that waits per currency, the
 * oldest, and the configuration key (or JDE program) that fixes it. --all
 * lists every item, oldest first, with its resource key, since when,
 * attempts, the full reason and what the ledger already holds for that
 * resource, so that whoever reads it at 3 a.m. knows what to fix and how to
 * replay. --json gives both, each item with its code. Items an operator
 * dismissed (mlc dismiss) are counted, not listed. Jobs paused because a
 * system is down or refuses our credentials need no replay: they are summed
 * up first, per system, with the reason ("paused" in --json).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/json.h"
#include "sync/held_groups.h"
#include "core/holdcode.h"
#include "core/money.h"
#include "store/store.h"

#define PROG "mlc held"

struct held_args {
    const char *config;
    bool        all;
    bool        json;
};

static const struct cmdo_opt held_opts[] = {
    CMDO_CONFIG(struct held_args),
    { "all", 'a', CMDO_FLAG, offsetof(struct held_args, all), NULL, "list every item", 0, 0 },
    CMDO_JSON(struct held_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec held_spec = {
    "held", "", "held and failed jobs by reason code: count, amounts, oldest, what to fix",
    held_opts,
    "Sums up held jobs (waiting for a fix) and failed ones (retries used\n"
    "up) by reason code: count, amount per currency, oldest, what to fix.\n"
    "After the fix: mlc replay ID|KEY|--all; handled by hand:\n"
    "mlc dismiss KEY --note TEXT.",
};
const struct cmdo_spec *const cmd_held_specs[] = { &held_spec, NULL };

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, struct held_args *a)
{
    int npos, rc;

    memset(a, 0, sizeof(*a));
    if ((rc = cmdo_parse(&held_spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0)
        return cmdo_fail(&held_spec, "unexpected argument '%s'", argv[1]);
    a->config = cmdu_config(a->config);
    return 0;
}

/* ---- collecting ---------------------------------------------------------- */

struct collect {
    json_t       *items;
    int64_t       now;
    int64_t       dismissed;  /* held or failed, handled by hand */
    struct hg_set groups;
    bool          oom;
};

/* {"currency", "minor", "text": "123.45"}, or null without an amount. */
static json_t *amount_json(const char *currency, int64_t minor)
{
    char text[MONEY_FMT_MAX];

    if (currency == NULL || currency[0] == '\0')
        return json_null();
    if (money_format_cur(minor, currency, text, sizeof(text), NULL) != MLC_OK)
        snprintf(text, sizeof(text), "%lld (minor units)", (long long)minor);
    return json_pack("{s:s, s:I, s:s}", "currency", currency, "minor", (json_int_t)minor,
                     "text", text);
}

static int collect_cb(const struct store_job *j, void *ctx)
{
    struct collect *c = ctx;
    enum hold_code code = hold_code_of(j->hold_code);
    char since[32];
    json_t *o;

    if (j->dismissed_at > 0) {
        c->dismissed++;
        return 0;
    }
    cmdu_fmt_time(j->updated_at, since, sizeof(since));
    o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:s, s:o, s:o}",
                  "id", (json_int_t)j->id, "kind", j->kind, "key", j->key,
                  "state", store_job_state_name(j->state), "since", since,
                  "since_ms", (json_int_t)j->updated_at,
                  "age_s", (json_int_t)((c->now - j->updated_at) / 1000),
                  "attempts", j->attempts, "code", hold_code_name(code),
                  "fix", hold_code_fix(code), "amount",
                  amount_json(j->hold_currency, j->hold_amount),
                  "reason", jx_text(j->last_error));
    if (o == NULL || json_array_append_new(c->items, o) != 0 ||
        hg_add(&c->groups, code, j->state == STORE_JOB_FAILED, j->hold_currency,
               j->hold_amount, j->updated_at, j->id, NULL) != MLC_OK) {
        c->oom = true;
        return 1;
    }
    return 0;
}

/* The item of job id in items (NULL if absent). */
static const json_t *item_of(const json_t *items, int64_t id)
{
    size_t i;
    json_t *it;

    json_array_foreach(items, i, it)
        if (json_integer_value(json_object_get(it, "id")) == id)
            return it;
    return NULL;
}

/* One group as JSON: its counts, amounts, oldest item and what to fix. */
static json_t *group_json(const struct hg_group *g, enum hold_code code, const json_t *items,
                          int64_t now)
{
    const json_t *oldest = item_of(items, g->oldest_id);
    json_t *amounts = json_array(), *o;
    char since[32];

    for (size_t i = 0; amounts != NULL && i < g->n_sums; i++) {
        json_t *a = amount_json(g->sums[i].currency, g->sums[i].minor);

        if (g->sums[i].overflow)
            json_object_set_new(a, "overflow", json_true());
        json_array_append_new(amounts, a);
    }
    cmdu_fmt_time(g->oldest_ms, since, sizeof(since));
    o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o*, s:I, s:I, s:s, s:I, s:O?, s:O?}",
                  "code", hold_code_name(code), "fix", hold_code_fix(code),
                  "count", (json_int_t)g->count, "held", (json_int_t)(g->count - g->failed),
                  "failed", (json_int_t)g->failed, "amounts", amounts,
                  "no_amount", (json_int_t)g->no_amount,
                  "oldest_id", (json_int_t)g->oldest_id, "oldest_since", since,
                  "oldest_age_s", (json_int_t)((now - g->oldest_ms) / 1000),
                  "oldest_key", oldest != NULL ? json_object_get(oldest, "key") : NULL,
                  "example", oldest != NULL ? json_object_get(oldest, "reason") : NULL);
    return o;
}

/* "groups": the summary by code, most items first. */
static int add_groups(json_t *out, const struct collect *c)
{
    enum hold_code order[HOLD_CODE_COUNT];
    size_t n = hg_order(&c->groups, order);
    json_t *groups = json_array();

    if (groups == NULL || json_object_set_new(out, "groups", groups) != 0)
        return MLC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(groups, group_json(&c->groups.by_code[order[i]], order[i],
                                                     c->items, c->now)) != 0)
            return MLC_ENOMEM;
    return MLC_OK;
}

static int ledger_cb(const struct store_ledger *l, void *ctx)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:I, s:I}",
                          "key", l->key, "kind", l->kind,
                          "state", store_ledger_state_name(l->state),
                          "document_type", l->doc_type,
                          "document_company", l->doc_company,
                          "document_number", (json_int_t)l->doc_number,
                          "batch", (json_int_t)l->batch);

    return (o == NULL || json_array_append_new(ctx, o) != 0) ? 1 : 0;
}

/* Adds "ledger": what is already posted (or in doubt) for each item's
 * resource, read after the job walk (list callbacks must not nest). */
static int add_ledger(struct store *st, json_t *items, struct mlc_err *e)
{
    size_t i;
    json_t *it;

    json_array_foreach(items, i, it) {
        const char *key = json_string_value(json_object_get(it, "key"));
        json_t *rows = json_array();
        int rc;

        if (rows == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        rc = store_ledger_list(st, key, ledger_cb, rows, e);
        if (rc != MLC_OK) {
            json_decref(rows);
            return rc;
        }
        json_object_set_new(it, "ledger", rows);
    }
    return MLC_OK;
}

/* READY jobs paused on a system: {"<system>": {"jobs": n, "reason": the
 * newest job's reason}}. */
static int paused_cb(const struct store_job *j, void *ctx)
{
    json_t *by = ctx, *o;

    if (j->paused_on == NULL)
        return 0;
    o = json_object_get(by, j->paused_on);
    if (o == NULL) {
        o = json_pack("{s:I}", "jobs", (json_int_t)0);
        if (o == NULL || json_object_set_new(by, j->paused_on, o) != 0)
            return 1;
    }
    json_object_set_new(o, "jobs",
                        json_integer(json_integer_value(json_object_get(o, "jobs")) + 1));
    json_object_set_new(o, "reason", jx_text(j->last_error));
    return 0;
}

/* {"held": n, "failed": n, "items": [...]} or NULL (message printed). */
static json_t *collect_all(struct store *st)
{
    struct collect c = { .items = json_array(), .now = store_now_ms(st) };
    struct mlc_err e;
    json_t *out;
    size_t n_held;
    int rc;

    hg_init(&c.groups);
    mlc_err_clear(&e);
    if (c.items == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return NULL;
    }
    rc = store_job_list(st, STORE_JOB_HELD, 0, collect_cb, &c, &e);
    n_held = json_array_size(c.items);
    if (rc == MLC_OK && !c.oom)
        rc = store_job_list(st, STORE_JOB_FAILED, 0, collect_cb, &c, &e);
    if (rc == MLC_OK && c.oom)
        rc = mlc_err_set(&e, MLC_ENOMEM, "out of memory");
    if (rc == MLC_OK)
        rc = add_ledger(st, c.items, &e);
    if (rc != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        json_decref(c.items);
        hg_clear(&c.groups);
        return NULL;
    }
    out = json_pack("{s:I, s:I, s:I, s:o, s:{}}", "held", (json_int_t)n_held,
                    "failed", (json_int_t)(json_array_size(c.items) - n_held),
                    "dismissed", (json_int_t)c.dismissed, "items", c.items, "paused");
    if (out == NULL || add_groups(out, &c) != MLC_OK) {
        fprintf(stderr, PROG ": out of memory\n");
        json_decref(out);
        hg_clear(&c.groups);
        return NULL;
    }
    hg_clear(&c.groups);
    if (store_job_list(st, STORE_JOB_READY, 0, paused_cb, json_object_get(out, "paused"),
                       &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- text ---------------------------------------------------------------- */

/* Prints "  label  text" with every further line of text indented alike. */
static void print_block(const char *label, const char *text)
{
    const char *p = text;

    printf("  %-8s ", label);
    for (; *p != '\0'; p++) {
        putchar(*p);
        if (*p == '\n' && p[1] != '\0')
            printf("  %-8s ", "");
    }
    putchar('\n');
}

static void print_ledger(const json_t *rows)
{
    size_t i;
    json_t *r;

    json_array_foreach(rows, i, r) {
        const char *state = json_string_value(json_object_get(r, "state"));
        const char *dct = json_string_value(json_object_get(r, "document_type"));
        json_int_t doc = json_integer_value(json_object_get(r, "document_number"));
        char line[160];

        if (doc > 0)
            snprintf(line, sizeof(line), "%s %s %s: JDE %s %" JSON_INTEGER_FORMAT,
                     json_string_value(json_object_get(r, "key")),
                     json_string_value(json_object_get(r, "kind")), state,
                     dct != NULL ? dct : "", doc);
        else
            snprintf(line, sizeof(line), "%s %s %s%s",
                     json_string_value(json_object_get(r, "key")),
                     json_string_value(json_object_get(r, "kind")), state,
                     strcmp(state, "unknown") == 0
                         ? " (outcome unknown: the job looks it up in JDE first)" : "");
        print_block(i == 0 ? "ledger" : "", line);
    }
}

static void print_item(const json_t *it)
{
    const char *state = json_string_value(json_object_get(it, "state"));
    const char *reason = json_string_value(json_object_get(it, "reason"));
    json_int_t attempts = json_integer_value(json_object_get(it, "attempts"));
    char age[32], when[96];

    cmdu_fmt_age(json_integer_value(json_object_get(it, "age_s")) * 1000, age,
                 sizeof(age));
    printf("%-6s job %" JSON_INTEGER_FORMAT "  %s  (%s)\n",
           strcmp(state, "held") == 0 ? "HELD" : "FAILED",
           json_integer_value(json_object_get(it, "id")),
           json_string_value(json_object_get(it, "key")),
           json_string_value(json_object_get(it, "kind")));
    snprintf(when, sizeof(when), "%s (%s ago), %s%" JSON_INTEGER_FORMAT " attempt%s",
             json_string_value(json_object_get(it, "since")), age,
             strcmp(state, "failed") == 0 ? "gave up after " : "",
             attempts, attempts == 1 ? "" : "s");
    print_block("since", when);
    print_block("code", json_string_value(json_object_get(it, "code")));
    if (json_is_object(json_object_get(it, "amount"))) {
        char amt[64];

        snprintf(amt, sizeof(amt), "%s %s",
                 json_string_value(json_object_get(json_object_get(it, "amount"), "currency")),
                 json_string_value(json_object_get(json_object_get(it, "amount"), "text")));
        print_block("amount", amt);
    }
    print_block(strcmp(state, "held") == 0 ? "reason" : "error",
                reason != NULL && reason[0] != '\0' ? reason : "(none recorded)");
    print_ledger(json_object_get(it, "ledger"));
    putchar('\n');
}

/* "USD 43.20, EUR 10.00" (+ "and N without an amount") into buf. */
static void amounts_text(const json_t *g, char *buf, size_t cap)
{
    json_int_t none = json_integer_value(json_object_get(g, "no_amount"));
    size_t i, len = 0;
    json_t *a;

    buf[0] = '\0';
    json_array_foreach(json_object_get(g, "amounts"), i, a) {
        len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%s %s%s", i > 0 ? ", " : "",
                 json_string_value(json_object_get(a, "currency")),
                 json_string_value(json_object_get(a, "text")),
                 json_is_true(json_object_get(a, "overflow")) ? " (overflow)" : "");
    }
    len = strlen(buf);
    if (none > 0)
        snprintf(buf + len, cap - len, "%s%" JSON_INTEGER_FORMAT " without an amount",
                 len > 0 ? ", " : "", none);
}

static void print_group(const json_t *g)
{
    json_int_t count = json_integer_value(json_object_get(g, "count"));
    json_int_t failed = json_integer_value(json_object_get(g, "failed"));
    const char *key = json_string_value(json_object_get(g, "oldest_key"));
    const char *example = json_string_value(json_object_get(g, "example"));
    char amounts[256], age[32], line[320];

    printf("%s: %" JSON_INTEGER_FORMAT " item%s", json_string_value(json_object_get(g, "code")),
           count, count == 1 ? "" : "s");
    if (failed > 0)
        printf(" (%" JSON_INTEGER_FORMAT " failed)", failed);
    putchar('\n');
    amounts_text(g, amounts, sizeof(amounts));
    print_block("amount", amounts);
    cmdu_fmt_age(json_integer_value(json_object_get(g, "oldest_age_s")) * 1000, age,
                 sizeof(age));
    snprintf(line, sizeof(line), "job %" JSON_INTEGER_FORMAT " %s, since %s (%s ago)",
             json_integer_value(json_object_get(g, "oldest_id")), key != NULL ? key : "",
             json_string_value(json_object_get(g, "oldest_since")), age);
    print_block("oldest", line);
    print_block("fix", json_string_value(json_object_get(g, "fix")));
    print_block("e.g.", example != NULL && example[0] != '\0' ? example : "(none recorded)");
    putchar('\n');
}

static void print_text(const json_t *r, const char *config, bool all)
{
    json_int_t held = json_integer_value(json_object_get(r, "held"));
    json_int_t failed = json_integer_value(json_object_get(r, "failed"));
    json_int_t dismissed = json_integer_value(json_object_get(r, "dismissed"));
    const json_t *items = json_object_get(r, "items");
    const char *sys;
    size_t i;
    json_t *it, *p;

    json_object_foreach((json_t *)json_object_get(r, "paused"), sys, p) {
        printf("PAUSED %" JSON_INTEGER_FORMAT " job%s waiting for %s: they resume by "
               "themselves when it answers (nothing to replay)\n",
               json_integer_value(json_object_get(p, "jobs")),
               json_integer_value(json_object_get(p, "jobs")) == 1 ? "" : "s", sys);
        print_block("reason", json_string_value(json_object_get(p, "reason")) != NULL
                                  ? json_string_value(json_object_get(p, "reason"))
                                  : "(none recorded)");
        putchar('\n');
    }
    if (dismissed > 0)
        printf("%" JSON_INTEGER_FORMAT " dismissed item%s (handled by hand) not shown\n\n",
               dismissed, dismissed == 1 ? "" : "s");
    if (held == 0 && failed == 0) {
        printf("nothing held, nothing failed\n");
        return;
    }
    if (all) {
        printf("%" JSON_INTEGER_FORMAT " held, %" JSON_INTEGER_FORMAT " failed "
               "(oldest first)\n\n", held, failed);
        json_array_foreach(items, i, it)
            print_item(it);
    } else {
        printf("%" JSON_INTEGER_FORMAT " held, %" JSON_INTEGER_FORMAT " failed, by reason "
               "(every item: mlc held --all)\n\n", held, failed);
        json_array_foreach(json_object_get(r, "groups"), i, it)
            print_group(it);
    }
    printf("Held: fix what the reason names (a mapping or an account in the\n"
           "configuration: then reload the daemon with SIGHUP; a JDE period or\n"
           "account: in JDE). Failed: the last error says what kept failing.\n"
           "Then replay:   mlc replay ID|KEY|--all --config %s\n"
           "Done by hand:  mlc dismiss KEY|--reason CODE --note TEXT --config %s\n"
           "One item's trail: mlc audit --entity KEY --config %s\n",
           config, config, config);
}

int cmd_held(int argc, char **argv)
{
    struct held_args a;
    struct store *st = NULL;
    json_t *r;
    int status;

    status = parse_args(argc, argv, &a);
    if (status != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, NULL, &st) != MLC_OK)
        return 1;
    r = collect_all(st);
    store_close(st);
    if (r == NULL)
        return 1;
    if (a.json)
        status = cmdu_print_json(PROG, r);
    else
        print_text(r, a.config, a.all);
    json_decref(r);
    return status;
}
