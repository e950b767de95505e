/*
 * mlc orders show ID --config FILE [--json]: the dry run of one order.
 *
 * Fetches the order from BigCommerce, reads the ledger, decides, builds the
 * document(s) with the posting engine and validates every account and
 * business unit against JD Edwards (F0901 / F0006), exactly as the
 * order.sync job would, then prints what would be posted: key, GL date,
 * every line with its account, the account's description from F0901 and
 * the amount in a debit or a credit column, the totals, and the validation
 * result or the hold reason. The order's status is named ("Completed (10)"). Nothing is written: no ledger row,
 * no job, no audit row, no orchestration call. An order before the go-live
 * cutover (orders.start) is said to be so: it is never posted.
 *
 * Exit status: 0 when the order would post (or has nothing to post, or is
 * before the cutover), 1 when
 * it would be held or could not be checked (the reason is printed), 2 on a
 * usage error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/finfmt.h"
#include "core/tz.h"
#include "jde/ais_data.h"
#include "store/store.h"
#include "sync/env.h"
#include "sync/order_flow.h"

#define PROG "mlc orders"

struct orders_args {
    const char *config;
    bool        json;
};
static const struct cmdo_opt show_opts[] = {
    CMDO_CONFIG(struct orders_args),
    CMDO_JSON(struct orders_args, "JSON output"),
    CMDO_END,
};
static const struct cmdo_spec show_spec = {
    "orders show", "ID",
    "dry run: the documents an order would post, validated, nothing written", show_opts,
    "The document(s) order ID would post into JD Edwards, their lines and\n"
    "accounts, and the validation result. Writes nothing.",
};
const struct cmdo_spec *const cmd_orders_specs[] = { &show_spec, NULL };

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

/* Every line with its description and the amount as a debit or a credit,
 * then the two totals (equal in a balanced journal entry). */
static void print_lines(const json_t *doc)
{
    const json_t *lines = json_object_get(doc, "lines"), *l;
    struct finfmt_dc t;
    char debit[40], credit[40];
    size_t i;

    finfmt_dc_init(&t);
    printf("    %-18s %-30s %14s %14s  %-10s %s\n", "account", "description", "debit", "credit",
           "role", "remark");
    json_array_foreach(lines, i, l) {
        finfmt_debit_credit(jstr(l, "amount"), debit, sizeof(debit), credit, sizeof(credit), &t);
        printf("    %-18s %-30s %14s %14s  %-10s %s\n", jstr(l, "account"),
               jstr(l, "description"), debit, credit, jstr(l, "role"), jstr(l, "remark"));
    }
    finfmt_dc_totals(&t, debit, sizeof(debit), credit, sizeof(credit));
    printf("    %-18s %-30s %14s %14s\n", "", "totals", debit, credit);
}

static void print_doc(const json_t *d)
{
    const json_t *doc = json_object_get(d, "document");
    const json_t *val = json_object_get(d, "validation");
    const json_t *num = json_object_get(d, "doc_number");

    printf("  %-18s %-9s %s", jstr(d, "key"), jstr(d, "kind"), jstr(d, "action"));
    if (json_is_integer(num))
        printf(" (JDE document %" JSON_INTEGER_FORMAT ")", json_integer_value(num));
    printf("\n");
    if (jstr(d, "why")[0] != '\0')
        printf("    %s\n", jstr(d, "why"));
    if (doc != NULL) {
        bool voucher = strcmp(jstr(doc, "mode"), "voucher") == 0;

        printf("    %s, company %s, type %s, GL date %s, %s, \"%s\"\n",
               voucher ? "voucher" : "journal", jstr(doc, "company"),
               jstr(doc, "document_type"), jstr(doc, "gl_date"), jstr(doc, "currency"),
               jstr(doc, "explanation"));
        if (voucher)
            printf("    supplier %s, gross %s\n", jstr(doc, "supplier"), jstr(doc, "gross"));
        print_lines(doc);
        printf("    total %s (%s)\n", jstr(doc, "total"),
               voucher ? "distribution = gross" : "balanced: lines sum to zero");
    }
    if (val != NULL) {
        if (json_is_true(json_object_get(val, "ok")))
            printf("    validation: ok (%" JSON_INTEGER_FORMAT " accounts, %"
                   JSON_INTEGER_FORMAT " business units in JDE)\n",
                   json_integer_value(json_object_get(val, "accounts")),
                   json_integer_value(json_object_get(val, "business_units")));
        else
            printf("    validation: FAILED: %s\n", jstr(val, "problem"));
    }
}

static void print_report(const json_t *rep)
{
    const json_t *dec = json_object_get(rep, "decision");
    const json_t *docs = json_object_get(rep, "documents"), *d;
    size_t i;

    printf("order %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(rep, "order_id")));
    if (json_object_get(rep, "status_id") != NULL) {
        char status[64];

        finfmt_status_text(json_integer_value(json_object_get(rep, "status_id")), status,
                           sizeof(status));
        printf(": %s, %s, %" JSON_INTEGER_FORMAT " refund(s)", status, jstr(rep, "currency"),
               json_integer_value(json_object_get(rep, "refunds")));
    }
    printf(" (dry run: nothing written)\n");
    if (dec != NULL)
        printf("decision: %s: %s\n", jstr(dec, "action"), jstr(dec, "why"));
    json_array_foreach(docs, i, d)
        print_doc(d);
    if (json_array_size(docs) == 0)
        printf("  no document\n");
    if (json_object_get(rep, "cutover") != NULL)
        printf("result: never posted (before the go-live cutover)\n");
    else if (strcmp(jstr(rep, "result"), "done") == 0)
        printf("result: ok\n");
    else if (strcmp(jstr(rep, "result"), "hold") == 0)
        printf("result: would be HELD: %s\n", jstr(rep, "reason"));
    else
        printf("result: could not be checked: %s\n", jstr(rep, "reason"));
}

/* Every document line's account, parsed; NULL lines for one that does not
 * parse. *n: how many lines in all. Caller frees both arrays. */
static int collect_lines(json_t *rep, json_t ***lines, struct cfg_account **accts, size_t *n)
{
    json_t *docs = json_object_get(rep, "documents"), *d, *l;
    size_t i, j, total = 0, k = 0;

    json_array_foreach(docs, i, d)
        total += json_array_size(json_object_get(json_object_get(d, "document"), "lines"));
    *n = 0;
    *lines = calloc(total + 1, sizeof(**lines));
    *accts = calloc(total + 1, sizeof(**accts));
    if (*lines == NULL || *accts == NULL)
        return MLC_ENOMEM;
    json_array_foreach(docs, i, d) {
        json_array_foreach(json_object_get(json_object_get(d, "document"), "lines"), j, l) {
            if (k < total && cfg_account_parse(jstr(l, "account"), &(*accts)[k]) == MLC_OK)
                (*lines)[k++] = l;
        }
    }
    *n = k;
    return MLC_OK;
}

/* Finance reads names, not codes: the status's name, and each line's
 * account description from F0901 (one AIS query for all of them; the
 * lines keep no description when AIS cannot be asked). */
static void describe(struct env *env, json_t *rep)
{
    json_t *st = json_object_get(rep, "status_id"), **lines = NULL;
    struct cfg_account *accts = NULL;
    struct ais_account *found = NULL;
    struct mlc_err e;
    size_t n = 0;

    if (json_is_integer(st) && finfmt_bc_status(json_integer_value(st)) != NULL)
        json_object_set_new(rep, "status_name",
                            json_string(finfmt_bc_status(json_integer_value(st))));
    if (collect_lines(rep, &lines, &accts, &n) != MLC_OK || n == 0)
        goto out;
    if ((found = calloc(n, sizeof(*found))) == NULL)
        goto out;
    mlc_err_clear(&e);
    if (ais_account_lookup_many(env_ais(env), accts, n, found, &e) != MLC_OK) {
        fprintf(stderr, PROG ": account descriptions not read: %s\n", e.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (found[i].exists)
            json_object_set_new(lines[i], "description", json_string(found[i].desc));
out:
    free(found);
    free(accts);
    free(lines);
}

static int show(const char *config, int64_t id, bool json)
{
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct env *env = NULL;
    enum flow_result res = FLOW_RETRY;
    json_t *rep = NULL;
    struct mlc_err e;
    int status = 1;

    if (cmdu_open(PROG, config, &cfg, &st) != 0)
        return 1;
    mlc_err_clear(&e);
    if (tz_init(cfg->posting.timezone != NULL ? cfg->posting.timezone : "UTC", &e) != MLC_OK ||
        env_new(cfg, st, &env, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        goto out;
    }
    {
        char actor[96];
        struct flow_run r = { .env = env, .st = st, .cfg = cfg, .actor = actor,
                              .dry_run = true };

        cmdu_actor(actor, sizeof(actor));

        if (flow_order_sync(&r, id, &res, &rep, &e) != MLC_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            goto out;
        }
    }
    describe(env, rep);
    if (json)
        status = cmdu_print_json(PROG, rep);
    else
        print_report(rep);
    if (status == 0 || !json)
        status = res == FLOW_DONE ? 0 : 1;
out:
    json_decref(rep);
    env_free(env);
    store_close(st);
    cfg_unref(cfg);
    return status;
}

int cmd_orders(int argc, char **argv)
{
    struct orders_args a = { NULL, false };
    long long id = 0;
    size_t which = 0;
    int npos, rc;

    if ((rc = cmdo_sub("orders", cmd_orders_specs, argc, argv, &which)) != CMDO_GO ||
        (rc = cmdo_parse(&show_spec, argc - 1, argv + 1, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos != 1 || cmdu_parse_ll(argv[2], &id) != MLC_OK || id <= 0)
        return cmdo_fail(&show_spec, "show needs one order id (a positive number)");
    return show(cmdu_config(a.config), (int64_t)id, a.json);
}
