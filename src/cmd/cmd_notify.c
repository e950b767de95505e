/*
 * mlc notify: the alert channels from the operator's side.
 *   test [--channel NAME]  one test message to each channel, a line each;
 *                          exit 1 when any failed
 *   list [--limit N]       each channel's cursor and pending count, then the
 *                          latest alerts of the outbox
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "notify/notify_send.h"

#define PROG "mlc notify"
#define LIST_DEFAULT 20

struct notify_args {
    const char *config;
    const char *channel;
    long long   limit;
};

static const struct cmdo_opt test_opts[] = {
    CMDO_CONFIG(struct notify_args),
    { "channel", 'n', CMDO_STRING, offsetof(struct notify_args, channel), "NAME",
      "only this channel", 0, 0 },
    CMDO_END,
};
static const struct cmdo_opt list_opts[] = {
    CMDO_CONFIG(struct notify_args),
    { "limit", 'l', CMDO_INT, offsetof(struct notify_args, limit), "N",
      "the latest N alerts (default 20)", 1, 100000 },
    CMDO_END,
};
static const struct cmdo_spec test_spec = {
    "notify test", "", "send one test message to each alert channel", test_opts,
    "Each channel (alerts.webhooks, alerts.email) says whether it accepted\n"
    "the message; exit 1 if any failed.",
};
static const struct cmdo_spec list_spec = {
    "notify list", "", "what each channel has sent and what waits, then the latest alerts",
    list_opts, NULL,
};
const struct cmdo_spec *const cmd_notify_specs[] = { &test_spec, &list_spec, NULL };

/* 0 to go on, -1 done (help), else the exit status. */
static int parse_args(int argc, char **argv, const struct cmdo_spec *spec,
                      struct notify_args *a)
{
    int npos, rc;

    memset(a, 0, sizeof(*a));
    a->limit = LIST_DEFAULT;
    if ((rc = cmdo_parse(spec, argc, argv, a, &npos)) != CMDO_GO)
        return rc;
    if (npos != 0)
        return cmdo_fail(spec, "unexpected argument %s", argv[1]);
    a->config = cmdu_config(a->config);
    return 0;
}

static void print_result(const struct nsend_result *r, void *ctx)
{
    int *failed = ctx;

    if (r->rc == MLC_OK) {
        printf("ok    %-20s %-8s test message accepted\n", r->name, r->type);
        return;
    }
    *failed += 1;
    printf("FAIL  %-20s %-8s %s\n", r->name, r->type, r->err.msg);
}

static int test(int argc, char **argv)
{
    struct notify_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct mlc_err e;
    int status, failed = 0;

    if ((status = parse_args(argc, argv, &test_spec, &a)) != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, &cfg, &st) != 0)
        return 1;
    mlc_err_clear(&e);
    if (nsend_test(cfg, st, a.channel, print_result, &failed, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        status = 1;
    } else {
        status = failed > 0 ? 1 : 0;
    }
    store_close(st);
    cfg_unref(cfg);
    return status;
}

/* ---- list ----------------------------------------------------------------- */

struct count_ctx {
    int64_t n;
};

static int count_one(const struct store_alert *al, void *vctx)
{
    struct count_ctx *c = vctx;

    (void)al;
    c->n++;
    return 0;
}

struct ring {
    json_t   *items;  /* the last limit alerts, oldest first */
    long long limit;
};

static int keep_last(const struct store_alert *al, void *vctx)
{
    struct ring *r = vctx;
    json_t *body = cmdu_json_doc(al->body);
    const char *title = json_string_value(json_object_get(body, "title"));
    char at[32];

    cmdu_fmt_time(al->created_at, at, sizeof(at));
    json_array_append_new(r->items, json_pack("{s:I, s:s, s:s, s:s}", "id",
                                              (json_int_t)al->id, "at", at, "reason",
                                              al->reason, "title", title != NULL ? title : ""));
    if ((long long)json_array_size(r->items) > r->limit)
        json_array_remove(r->items, 0);
    json_decref(body);
    return 0;
}

static void list_channel(struct store *st, const char *name, const char *type)
{
    struct nsend_cursor cur;
    struct count_ctx c = { 0 };
    struct mlc_err e;
    char at[32];

    mlc_err_clear(&e);
    if (nsend_cursor_get(st, name, &cur, &e) != MLC_OK ||
        store_alert_list(st, cur.last_id, 0, count_one, &c, &e) != MLC_OK) {
        printf("%-20s %-8s %s\n", name, type, e.msg);
        return;
    }
    cmdu_fmt_time(cur.sent_ms, at, sizeof(at));
    printf("%-20s %-8s last sent %-20s up to alert %-8" PRId64 " pending %" PRId64 "\n", name,
           type, at, cur.last_id, c.n);
}

static int list(int argc, char **argv)
{
    struct notify_args a;
    struct mlc_config *cfg = NULL;
    struct store *st = NULL;
    struct ring r;
    struct mlc_err e;
    int status;

    if ((status = parse_args(argc, argv, &list_spec, &a)) != 0)
        return status < 0 ? 0 : status;
    if (cmdu_open(PROG, a.config, &cfg, &st) != 0)
        return 1;
    if (cfg->alerts.n_webhooks + cfg->alerts.n_email == 0)
        printf("no alert channel is configured (alerts.webhooks, alerts.email)\n");
    for (size_t i = 0; i < cfg->alerts.n_webhooks; i++)
        list_channel(st, cfg->alerts.webhooks[i].name, "webhook");
    for (size_t i = 0; i < cfg->alerts.n_email; i++)
        list_channel(st, cfg->alerts.email[i].name, "email");
    r = (struct ring){ json_array(), a.limit };
    mlc_err_clear(&e);
    if (r.items == NULL || store_alert_list(st, 0, 0, keep_last, &r, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", r.items == NULL ? "out of memory" : e.msg);
        status = 1;
    } else {
        printf("\nlatest alerts (%zu):\n", json_array_size(r.items));
        for (size_t i = 0; i < json_array_size(r.items); i++) {
            json_t *it = json_array_get(r.items, i);
            printf("%8" JSON_INTEGER_FORMAT "  %s  %-28s %s\n",
                   json_integer_value(json_object_get(it, "id")),
                   json_string_value(json_object_get(it, "at")),
                   json_string_value(json_object_get(it, "reason")),
                   json_string_value(json_object_get(it, "title")));
        }
    }
    json_decref(r.items);
    store_close(st);
    cfg_unref(cfg);
    return status;
}

int cmd_notify(int argc, char **argv)
{
    size_t which = 0;
    int rc = cmdo_sub("notify", cmd_notify_specs, argc, argv, &which);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    return which == 0 ? test(argc - 1, argv + 1) : list(argc - 1, argv + 1);
}
