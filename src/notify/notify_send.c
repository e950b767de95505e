/*
 * notify_send: the sender of alerts (notify_send.h).
 */
#include "notify/notify_send.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/vault.h"
#include "notify/digest.h"
#include "notify/notify.h"
#include "notify/notify_hook.h"
#include "notify/notify_smtp.h"
#include "store/credentials.h"

#define MOD          "notify"
#define MAX_CHANNELS 32
#define MAX_WATCH    HEALTH_MAX
#define SCAN_MAX     10000   /* alerts read into one digest; the rest go next time */
#define BACKOFF_MIN_CAP_MS 60000
#define BACKOFF_MAX_CAP_MS 900000
#define PRUNE_EVERY_MS     3600000 /* a write a tick would contend with the workers */

/* A channel's backoff while it fails. */
struct chan_state {
    char     name[72];
    unsigned fails;
    int64_t  next_try_ms;
};

/* A health condition being watched for "down" (and then "recovered"). */
struct watched {
    char    name[HEALTH_NAME_MAX];
    int64_t since_ms;
    bool    alerted;
};

struct nsend {
    struct chan_state ch[MAX_CHANNELS];
    size_t            n_ch;
    struct watched    w[MAX_WATCH];
    size_t            n_w;
    int64_t           pruned_ms;  /* last prune; 0: not yet */
};

/* A configured channel of either type. */
struct chan {
    const char                     *name;
    const char                     *type;
    const struct cfg_alert_webhook *hook;
    const struct cfg_alert_email   *mail;
};

int nsend_new(struct nsend **out, struct mlc_err *e)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "notify: out of memory");
    return MLC_OK;
}

void nsend_free(struct nsend *s)
{
    free(s);
}

static size_t channels(const struct mlc_config *cfg, struct chan *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < cfg->alerts.n_webhooks && n < max; i++)
        out[n++] = (struct chan){ cfg->alerts.webhooks[i].name, "webhook",
                                  &cfg->alerts.webhooks[i], NULL };
    for (size_t i = 0; i < cfg->alerts.n_email && n < max; i++)
        out[n++] = (struct chan){ cfg->alerts.email[i].name, "email", NULL,
                                  &cfg->alerts.email[i] };
    return n;
}

static struct chan_state *state_of(struct nsend *s, const char *name)
{
    for (size_t i = 0; i < s->n_ch; i++)
        if (strcmp(s->ch[i].name, name) == 0)
            return &s->ch[i];
    if (s->n_ch == MAX_CHANNELS)
        return &s->ch[MAX_CHANNELS - 1];
    snprintf(s->ch[s->n_ch].name, sizeof(s->ch[0].name), "%s", name);
    return &s->ch[s->n_ch++];
}

static int load_secret(const struct mlc_config *cfg, struct store *st, const char *name,
                       struct mlc_secret **out, struct mlc_err *e)
{
    struct vault *v = NULL;
    int rc = credentials_open_vault(cfg, &v, e);

    if (rc == MLC_OK)
        rc = credentials_load(v, st, name, out, e);
    vault_free(v);
    return rc;
}

/* Sends digest d on channel c; host receives where it went (for logs). */
static int deliver(const struct mlc_config *cfg, struct store *st, const struct chan *c,
                   const struct digest *d, int64_t now_ms, char *host, size_t host_cap,
                   struct mlc_err *e)
{
    struct mlc_secret *secret = NULL;
    char *body = NULL, *text = NULL, subject[256], hbuf[NHOOK_HOST_MAX] = "";
    int rc;

    if (c->hook != NULL) {
        rc = digest_slack_json(d, cfg->alerts.console_url, &body, e);
        if (rc == MLC_OK && (rc = load_secret(cfg, st, c->hook->url_ref, &secret, e)) != MLC_OK)
            mlc_err_wrap(e, "webhook %s", c->name);
        if (rc == MLC_OK)
            rc = nhook_post(c->hook, secret, body, hbuf, e);
        snprintf(host, host_cap, "%s", hbuf);
    } else {
        const char *h = strstr(c->mail->smtp_url, "://");
        h = h != NULL ? h + 3 : c->mail->smtp_url;
        snprintf(host, host_cap, "%.*s", (int)strcspn(h, "/"), h);
        digest_subject(d, subject, sizeof(subject));
        rc = digest_text(d, cfg->alerts.console_url, &text, e);
        if (rc == MLC_OK)
            rc = nsmtp_message(c->mail, subject, text, now_ms, randombytes_random(), &body, e);
        if (rc == MLC_OK && c->mail->password_ref != NULL &&
            (rc = load_secret(cfg, st, c->mail->password_ref, &secret, e)) != MLC_OK)
            mlc_err_wrap(e, "e-mail %s", c->name);
        if (rc == MLC_OK)
            rc = nsmtp_send(c->mail, secret, body, e);
    }
    secret_free(secret);
    free(body);
    free(text);
    return rc;
}

int nsend_cursor_get(struct store *st, const char *channel, struct nsend_cursor *c,
                     struct mlc_err *e)
{
    char name[128], v[64], *end;
    int rc;

    *c = (struct nsend_cursor){ 0, 0 };
    snprintf(name, sizeof(name), NSEND_WM_PREFIX "%s", channel);
    rc = store_watermark_get(st, name, v, sizeof(v), e);
    if (rc == MLC_ENOTFOUND)
        return MLC_OK;
    if (rc != MLC_OK)
        return rc;
    errno = 0;
    c->last_id = strtoll(v, &end, 10);
    if (*end == ' ')
        c->sent_ms = strtoll(end + 1, &end, 10);
    if (errno != 0 || *end != '\0' || c->last_id < 0)
        return mlc_err_set(e, MLC_EPARSE, "notify: watermark %s is not \"<id> <ms>\": %s",
                           name, v);
    return MLC_OK;
}

static int cursor_set(struct store *st, const char *channel, int64_t last_id, int64_t sent_ms,
                      struct mlc_err *e)
{
    char name[128], v[64];

    snprintf(name, sizeof(name), NSEND_WM_PREFIX "%s", channel);
    snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, last_id, sent_ms);
    return store_watermark_set(st, name, v, e);
}

static int add_row(const struct store_alert *a, void *ctx)
{
    struct digest *d = ctx;
    struct mlc_err e;

    /* Out of memory drops only the alert's title, never its count. */
    digest_add_row(d, a->id, a->reason, a->created_at, a->body, &e);
    return 0;
}

static int64_t backoff_cap_ms(const struct mlc_config *cfg)
{
    int64_t cap = (int64_t)cfg->alerts.digest_interval_s * 1000;

    return cap < BACKOFF_MIN_CAP_MS ? BACKOFF_MIN_CAP_MS
         : cap > BACKOFF_MAX_CAP_MS ? BACKOFF_MAX_CAP_MS : cap;
}

/* One channel's turn; store errors are returned, a channel's are kept. */
static int run_channel(struct nsend *s, const struct mlc_config *cfg, struct store *st,
                       const struct chan *c, int64_t now_ms, int64_t *cursor_id,
                       struct mlc_err *e)
{
    struct chan_state *cs = state_of(s, c->name);
    struct nsend_cursor cur;
    struct digest d;
    struct mlc_err ce;
    char host[NHOOK_HOST_MAX];
    int rc = nsend_cursor_get(st, c->name, &cur, e);

    if (rc != MLC_OK)
        return rc;
    *cursor_id = cur.last_id;
    if ((cs->fails > 0 && now_ms < cs->next_try_ms) ||
        !digest_due(now_ms, cur.sent_ms, (int64_t)cfg->alerts.digest_interval_s * 1000))
        return MLC_OK;
    digest_init(&d, now_ms - (int64_t)cfg->alerts.max_age_s * 1000);
    rc = store_alert_list(st, cur.last_id, SCAN_MAX, add_row, &d, e);
    if (rc != MLC_OK || d.total == 0)
        goto out;
    mlc_err_clear(&ce);
    if (deliver(cfg, st, c, &d, now_ms, host, sizeof(host), &ce) != MLC_OK) {
        int64_t wait = digest_backoff_ms(++cs->fails, backoff_cap_ms(cfg));
        cs->next_try_ms = now_ms + wait;
        log_warn(MOD, "alert channel failed; it is retried later, nothing is lost",
                 LF_STR("channel", c->name), LF_STR("type", c->type), LF_STR("host", host),
                 LF_UINT("alerts", d.total), LF_UINT("failures", cs->fails),
                 LF_INT("retry_in_ms", wait), LF_ERR(&ce));
        goto out;
    }
    cs->fails = 0;
    /* Sent: a failure to record it means the digest comes again (at least
     * once), never that alerts are skipped. */
    if ((rc = cursor_set(st, c->name, d.last_id, now_ms, e)) == MLC_OK)
        *cursor_id = d.last_id;
    log_info(MOD, "alert digest sent", LF_STR("channel", c->name), LF_STR("type", c->type),
             LF_STR("host", host), LF_UINT("alerts", d.total), LF_INT("last_id", d.last_id));
out:
    digest_clear(&d);
    return rc;
}

int nsend_run(struct nsend *s, const struct mlc_config *cfg, struct store *st, int64_t now_ms,
              struct mlc_err *e)
{
    struct chan ch[MAX_CHANNELS];
    size_t n = channels(cfg, ch, MAX_CHANNELS);
    int64_t min_id = INT64_MAX;
    int rc = MLC_OK;

    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        int64_t id = 0;
        rc = run_channel(s, cfg, st, &ch[i], now_ms, &id, e);
        if (id < min_id)
            min_id = id;
    }
    /* Alerts every channel has are kept a week (mlc notify list), then go. */
    if (rc == MLC_OK && (s->pruned_ms == 0 || now_ms - s->pruned_ms >= PRUNE_EVERY_MS) &&
        (rc = store_alert_prune(st, min_id, now_ms - NSEND_KEEP_MS, NULL, e)) == MLC_OK)
        s->pruned_ms = now_ms;
    return rc;
}

/* ---- systems down ---------------------------------------------------------- */

static bool watched_system(const char *cond)
{
    char sys[HEALTH_NAME_MAX];

    health_system_of(cond, sys, sizeof(sys));
    return strcmp(sys, "bigcommerce") == 0 || strcmp(sys, "jde") == 0 ||
           strcmp(sys, "store") == 0;
}

static struct watched *watch_of(struct nsend *s, const char *name, int64_t since_ms)
{
    for (size_t i = 0; i < s->n_w; i++)
        if (strcmp(s->w[i].name, name) == 0 && s->w[i].since_ms == since_ms)
            return &s->w[i];
    if (s->n_w == MAX_WATCH)
        return NULL;
    s->w[s->n_w] = (struct watched){ .since_ms = since_ms };
    snprintf(s->w[s->n_w].name, sizeof(s->w[0].name), "%s", name);
    return &s->w[s->n_w++];
}

static bool still_set(const struct watched *w, const struct health_cond *conds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(conds[i].name, w->name) == 0 && conds[i].since_ms == w->since_ms)
            return true;
    return false;
}

int nsend_health(struct nsend *s, const struct mlc_config *cfg, struct store *st,
                 const struct health_cond *conds, size_t n, int64_t now_ms, struct mlc_err *e)
{
    int64_t after = (int64_t)cfg->alerts.down_after_s * 1000;
    int rc = MLC_OK;

    for (size_t i = 0; i < n && rc == MLC_OK; i++) {
        struct watched *w;
        if (!watched_system(conds[i].name) || now_ms - conds[i].since_ms < after)
            continue;
        if ((w = watch_of(s, conds[i].name, conds[i].since_ms)) == NULL || w->alerted)
            continue;
        rc = notify_system(st, conds[i].name, true, conds[i].since_ms, conds[i].reason, e);
        w->alerted = rc == MLC_OK;
    }
    /* Ended: "recovered" for those that were alerted; a failed append
     * keeps the watch for the next pass. */
    for (size_t i = 0; i < s->n_w && rc == MLC_OK;) {
        struct watched *w = &s->w[i];
        if (still_set(w, conds, n)) {
            i++;
            continue;
        }
        if (w->alerted && (rc = notify_system(st, w->name, false, w->since_ms, NULL, e)) != MLC_OK)
            break;
        s->w[i] = s->w[--s->n_w];
    }
    return rc;
}

/* ---- mlc notify test --------------------------------------------------------- */

int nsend_test(const struct mlc_config *cfg, struct store *st, const char *only,
               void (*fn)(const struct nsend_result *r, void *ctx), void *ctx,
               struct mlc_err *e)
{
    struct chan ch[MAX_CHANNELS];
    size_t n = channels(cfg, ch, MAX_CHANNELS), hits = 0;
    char host[256] = "localhost", title[400];
    int64_t now_ms = store_now_ms(st);

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(title, sizeof(title), "Test message from ml-connector on %s (mlc notify test): "
             "this channel works", host);
    for (size_t i = 0; i < n; i++) {
        struct digest_alert a = { .id = 1, .reason = NOTIFY_R_TEST, .created_at = now_ms,
                                  .title = title, .command = "mlc notify list", .path = "/" };
        struct nsend_result r = { .name = ch[i].name, .type = ch[i].type };
        struct digest d;
        char where[NHOOK_HOST_MAX];

        if (only != NULL && strcmp(only, ch[i].name) != 0)
            continue;
        hits++;
        mlc_err_clear(&r.err);
        digest_init(&d, 0);
        r.rc = digest_add(&d, &a, &r.err);
        if (r.rc == MLC_OK)
            r.rc = deliver(cfg, st, &ch[i], &d, now_ms, where, sizeof(where), &r.err);
        digest_clear(&d);
        fn(&r, ctx);
    }
    if (only != NULL && hits == 0)
        return mlc_err_set(e, MLC_ENOTFOUND, "no alert channel named '%s' (alerts.webhooks, "
                           "alerts.email)", only);
    if (n == 0)
        return mlc_err_set(e, MLC_ENOTFOUND, "no alert channel is configured (alerts.webhooks, "
                           "alerts.email)");
    return MLC_OK;
}
