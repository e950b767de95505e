/*
 * notify_hook: the HTTPS webhook channel (notify_hook.h).
 */
#include "notify/notify_hook.h"

#include <stdio.h>
#include <string.h>

#include "net/httpc.h"

#define HOOK_CONNECT_MS  5000
#define HOOK_TIMEOUT_MS  15000
#define HOOK_MAX_RESPONSE (64u * 1024u)

struct post {
    const struct cfg_alert_webhook *ch;
    const char     *json;
    char            host[NHOOK_HOST_MAX];
    struct mlc_err *e;
};

/* The host of an https:// URL (no user info: the config's URLs have none,
 * and a stored one is cut at '@' so that it never shows). */
static void host_of(const char *url, char *buf, size_t cap)
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h != NULL ? h + 3 : url;
    n = strcspn(h, "/?#");
    if (memchr(h, '@', n) != NULL) {
        const char *at = memchr(h, '@', n);
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    snprintf(buf, cap, "%.*s", (int)n, h);
}

static int post_with(const char *url, size_t len, void *vctx)
{
    struct post *p = vctx;
    struct httpc_opts o = {
        .connect_timeout_ms = HOOK_CONNECT_MS, .timeout_ms = HOOK_TIMEOUT_MS,
        .max_response_bytes = HOOK_MAX_RESPONSE, .ca_file = p->ch->ca_file,
    };
    const struct httpc_header hdr[] = { { "Content-Type", "application/json" } };
    struct httpc_request rq = {
        .method = "POST", .url = url, .headers = hdr, .n_headers = 1, .body = p->json,
        .body_len = strlen(p->json), .secret_url = true,
    };
    struct httpc_response resp = { 0 };
    struct httpc *c = NULL;
    struct mlc_err he;
    int rc;

    (void)len;
    host_of(url, p->host, sizeof(p->host));
    if (strncmp(url, "https://", 8) != 0)
        return mlc_err_set(p->e, MLC_EINVAL, "webhook %s: the stored URL must start with "
                           "https://", p->ch->name);
    mlc_err_clear(&he);
    rc = httpc_new(&o, &c, &he);
    if (rc == MLC_OK)
        rc = httpc_do(c, &rq, &resp, &he);
    if (rc != MLC_OK)
        mlc_err_set(p->e, rc, "webhook %s (%s): %s", p->ch->name, p->host, he.msg);
    else if (resp.status < 200 || resp.status > 299)
        rc = mlc_err_set(p->e, MLC_EPROTO, "webhook %s (%s): answered HTTP %d", p->ch->name,
                         p->host, resp.status);
    httpc_response_clear(&resp);
    httpc_free(c);
    return rc;
}

int nhook_post(const struct cfg_alert_webhook *ch, const struct mlc_secret *url,
               const char *json, char *host, struct mlc_err *e)
{
    struct post p = { .ch = ch, .json = json, .e = e };
    int rc = secret_use(url, post_with, &p);

    if (host != NULL)
        snprintf(host, NHOOK_HOST_MAX, "%s", p.host);
    return rc;
}
