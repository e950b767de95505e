/*
 * digest: pending alerts grouped by reason (digest.h).
 */
#include "notify/digest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define BACKOFF_BASE_MS 5000

void digest_init(struct digest *d, int64_t old_before_ms)
{
    memset(d, 0, sizeof(*d));
    d->old_before_ms = old_before_ms;
}

void digest_clear(struct digest *d)
{
    int64_t before = d->old_before_ms;

    for (size_t i = 0; i < d->n_groups; i++) {
        struct digest_group *g = &d->groups[i];
        for (size_t k = 0; k < g->n_shown; k++)
            free(g->shown[k]);
        free(g->command);
        free(g->path);
        free(g->group_command);
        free(g->group_path);
    }
    digest_init(d, before);
}

/* The group of reason, opened when new; the last slot takes the rest. */
static struct digest_group *group_of(struct digest *d, const char *reason)
{
    struct digest_group *g;

    for (size_t i = 0; i < d->n_groups; i++)
        if (strcmp(d->groups[i].reason, reason) == 0)
            return &d->groups[i];
    if (d->n_groups == DIGEST_MAX_GROUPS) {
        g = &d->groups[DIGEST_MAX_GROUPS - 1];
        snprintf(g->reason, sizeof(g->reason), "other");
        return g;
    }
    g = &d->groups[d->n_groups++];
    snprintf(g->reason, sizeof(g->reason), "%s", reason);
    return g;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *c;

    if (s == NULL || s[0] == '\0')
        return NULL;
    c = strdup(s);
    *oom = *oom || c == NULL;
    return c;
}

int digest_add(struct digest *d, const struct digest_alert *a, struct mlc_err *e)
{
    struct digest_group *g = group_of(d, a->reason != NULL ? a->reason : "other");
    bool oom = false;

    if (d->total == 0)
        d->first_id = a->id;
    d->last_id = a->id;
    d->total++;
    g->count++;
    if (g->command == NULL && g->count == 1) {
        g->command = dup_or_null(a->command, &oom);
        g->path = dup_or_null(a->path, &oom);
        g->group_command = dup_or_null(a->group_command, &oom);
        g->group_path = dup_or_null(a->group_path, &oom);
    }
    if (a->created_at < d->old_before_ms) {
        d->old++;
        g->old++;
    } else if (g->n_shown < DIGEST_SHOWN) {
        char *t = dup_or_null(a->title != NULL ? a->title : g->reason, &oom);
        if (t != NULL)
            g->shown[g->n_shown++] = t;
    }
    return oom ? mlc_err_set(e, MLC_ENOMEM, "digest: out of memory") : MLC_OK;
}

int digest_add_row(struct digest *d, int64_t id, const char *reason, int64_t created_at,
                   const char *body, struct mlc_err *e)
{
    json_t *o = body != NULL ? json_loads(body, 0, NULL) : NULL;
    struct digest_alert a = {
        .id = id, .reason = reason, .created_at = created_at,
        .title = json_string_value(json_object_get(o, "title")),
        .command = json_string_value(json_object_get(o, "command")),
        .path = json_string_value(json_object_get(o, "path")),
        .group_command = json_string_value(json_object_get(o, "group_command")),
        .group_path = json_string_value(json_object_get(o, "group_path")),
    };
    int rc = digest_add(d, &a, e);

    json_decref(o);
    return rc;
}

void digest_subject(const struct digest *d, char *buf, size_t cap)
{
    size_t len;

    if (cap == 0)
        return;
    snprintf(buf, cap, "[mlc] %zu alert%s:", d->total, d->total == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_groups; i++) {
        len = strlen(buf);
        if (len + 1 >= cap)
            break;
        snprintf(buf + len, cap - len, "%s %s %zu", i > 0 ? "," : "", d->groups[i].reason,
                 d->groups[i].count);
    }
}

/* "https://console" + "/held" without a doubled slash. */
static void put_link(struct strbuf *f, const char *base, const char *path)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    strbuf_addf(f, "  Console: %.*s%s\n", (int)n, base, path[0] == '/' ? path : "/");
}

static void put_group(struct strbuf *f, const struct digest_group *g, const char *console_url)
{
    size_t more = g->count - g->old - g->n_shown;
    bool many = g->count > 1 && g->group_command != NULL;
    const char *command = many ? g->group_command : g->command;
    const char *path = many && g->group_path != NULL ? g->group_path : g->path;

    strbuf_addf(f, "\n%s: %zu\n", g->reason, g->count);
    for (size_t k = 0; k < g->n_shown; k++)
        strbuf_addf(f, "  - %s\n", g->shown[k]);
    if (more > 0)
        strbuf_addf(f, "  and %zu more\n", more);
    if (g->old > 0)
        strbuf_addf(f, "  and %zu older, not listed\n", g->old);
    if (command != NULL)
        strbuf_addf(f, "  Details: %s\n", command);
    if (console_url != NULL && console_url[0] != '\0')
        put_link(f, console_url, path != NULL ? path : "/");
}

int digest_text(const struct digest *d, const char *console_url, char **out,
                struct mlc_err *e)
{
    struct strbuf sb = STRBUF_INIT, *f = &sb;

    strbuf_addf(f, "ml-connector: %zu alert%s to look at\n", d->total, d->total == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_groups; i++)
        put_group(f, &d->groups[i], console_url);
    if (d->old > 0)
        strbuf_addf(f, "\n%zu alert%s waited longer than the age cap (the channel was failing); "
                "they are counted above, not listed: see mlc held and mlc audit.\n", d->old,
                d->old == 1 ? "" : "s");
    if ((*out = strbuf_take(f)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "digest: out of memory");
    return MLC_OK;
}

int digest_slack_json(const struct digest *d, const char *console_url, char **out,
                      struct mlc_err *e)
{
    char subject[256], *text = NULL, *all = NULL;
    size_t n;
    json_t *o = NULL;
    int rc;

    *out = NULL;
    if ((rc = digest_text(d, console_url, &text, e)) != MLC_OK)
        return rc;
    digest_subject(d, subject, sizeof(subject));
    n = strlen(subject) + strlen(text) + 3;
    if ((all = malloc(n)) != NULL) {
        snprintf(all, n, "%s\n\n%s", subject, text);
        o = json_pack("{s:s}", "text", all);
    }
    if (o != NULL)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    free(all);
    free(text);
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "digest: out of memory (or text not UTF-8)");
    return MLC_OK;
}

bool digest_due(int64_t now_ms, int64_t last_sent_ms, int64_t interval_ms)
{
    return last_sent_ms <= 0 || now_ms - last_sent_ms >= interval_ms;
}

int64_t digest_backoff_ms(unsigned fails, int64_t cap_ms)
{
    int64_t d = BACKOFF_BASE_MS;

    for (unsigned i = 1; i < fails && d < cap_ms; i++)
        d *= 2;
    return d < cap_ms ? d : cap_ms;
}
