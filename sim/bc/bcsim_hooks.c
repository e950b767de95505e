/*
 * bcsim_hooks: webhook fan-out and the delivery thread.
 *
 * The payload's "hash" is a 160-bit BLAKE2b digest of the compact "data"
 * member, written as 40 hex digits like BigCommerce's SHA-1: libsodium has
 * no SHA-1, and the documented contract is only that the hash is a digest
 * of data, shared by duplicates (it is not a signature).
 */
#include "bc/bcsim_hooks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "bc/bcsim_int.h"
#include "core/jdate.h"
#include "core/log.h"

const int64_t bcsim_hook_retry_s[BCSIM_HOOK_RETRIES] = {
    60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400,
};

struct bcsim_delivery {
    struct bcsim_delivery *next;
    int64_t hook_id;
    char   *scope;
    char   *body;
    char    msg_id[48];
    int     attempt;    /* failed attempts so far */
    int64_t due_ms;     /* monotonic */
};

static void delivery_free(struct bcsim_delivery *d)
{
    if (d == NULL)
        return;
    free(d->scope);
    free(d->body);
    free(d);
}

bool bcsim_hooks_scope_match(const char *hook_scope, const char *event)
{
    size_t n = strlen(hook_scope);

    if (n >= 2 && hook_scope[n - 1] == '*' && hook_scope[n - 2] == '/')
        return strncmp(hook_scope, event, n - 1) == 0;
    return strcmp(hook_scope, event) == 0;
}

/* ---- fan-out ------------------------------------------------------------ */

static void hash_hex(const char *text, char out[41])
{
    unsigned char h[20];

    crypto_generichash(h, sizeof(h), (const unsigned char *)text, strlen(text),
                       NULL, 0);
    sodium_bin2hex(out, 41, h, sizeof(h));
}

/* Queues d (owned) under the queue lock and wakes the thread. */
static void enqueue(struct bcsim_hookq *q, struct bcsim_delivery *d)
{
    pthread_mutex_lock(&q->mu);
    d->next = q->head;
    q->head = d;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static struct bcsim_delivery *delivery_new(int64_t hook_id, const char *scope,
                                           const char *body, const char *msg_id)
{
    struct bcsim_delivery *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->hook_id = hook_id;
    d->scope = strdup(scope);
    d->body = strdup(body);
    snprintf(d->msg_id, sizeof(d->msg_id), "%s", msg_id);
    d->due_ms = bcsim_mono_ms();
    if (d->scope == NULL || d->body == NULL) {
        delivery_free(d);
        return NULL;
    }
    return d;
}

void bcsim_hooks_emit(struct bcsim *s, const char *scope, json_t *data)
{
    struct bcsim_hookq *q = &s->hooks;
    char hash[41], producer[96], msg_id[48];
    char *data_txt, *body = NULL;
    json_t *payload = NULL;

    if (data == NULL)
        return;
    data_txt = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    if (data_txt == NULL)
        goto out;
    hash_hex(data_txt, hash);
    snprintf(producer, sizeof(producer), "stores/%s", s->set.store_hash);
    payload = json_pack("{s:s, s:s, s:O, s:s, s:I, s:s}", "scope", scope,
                        "store_id", s->set.store_id, "data", data, "hash", hash,
                        "created_at", (json_int_t)bcsim_now(s), "producer", producer);
    body = payload != NULL ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (body == NULL)
        goto out;
    for (size_t i = 0; i < s->data.hooks.n; i++) {
        struct bcsim_hook *h = s->data.hooks.v[i];
        const char *hs = json_string_value(json_object_get(h->v3, "scope"));
        struct bcsim_delivery *d;
        bool dup;

        if (!json_is_true(json_object_get(h->v3, "is_active")) || hs == NULL ||
            !bcsim_hooks_scope_match(hs, scope))
            continue;
        pthread_mutex_lock(&q->mu);
        q->emitted++;
        snprintf(msg_id, sizeof(msg_id), "msg_%s_%llu", s->set.store_hash,
                 (unsigned long long)++q->seq);
        pthread_mutex_unlock(&q->mu);
        if (bcsim_fault_draw(&s->faults.webhook_drop_next, s->faults.webhook_drop_rate)) {
            pthread_mutex_lock(&q->mu);
            q->dropped++;
            pthread_mutex_unlock(&q->mu);
            continue;
        }
        dup = bcsim_fault_draw(&s->faults.webhook_duplicate_next,
                               s->faults.webhook_duplicate_rate);
        d = delivery_new(h->id, scope, body, msg_id);
        if (d != NULL)
            enqueue(q, d);
        if (dup && (d = delivery_new(h->id, scope, body, msg_id)) != NULL) {
            pthread_mutex_lock(&q->mu);
            q->duplicated++;
            pthread_mutex_unlock(&q->mu);
            enqueue(q, d);
        }
    }
out:
    free(data_txt);
    free(body);
    json_decref(payload);
    json_decref(data);
}

/* ---- delivery ----------------------------------------------------------- */

/* What the thread needs of a hook, copied under s->mu. */
struct target {
    char              *url;
    struct curl_slist *headers;
    char              *secret;
    int64_t            timeout_ms;
    double             scale;
};

static void target_clear(struct target *t)
{
    free(t->url);
    curl_slist_free_all(t->headers);
    if (t->secret != NULL)
        sodium_memzero(t->secret, strlen(t->secret));
    free(t->secret);
    memset(t, 0, sizeof(*t));
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name,
                                     const char *value)
{
    char line[1024];

    snprintf(line, sizeof(line), "%s: %s", name, value);
    return curl_slist_append(l, line);
}

/* false when the hook is gone or inactive (the delivery is dropped). */
static bool target_get(struct bcsim *s, int64_t hook_id, struct target *t)
{
    struct bcsim_hook *h;
    const char *k;
    json_t *v;
    bool ok = false;

    memset(t, 0, sizeof(*t));
    pthread_mutex_lock(&s->mu);
    h = bcsim_hook_find(&s->data, hook_id);
    if (h == NULL || !json_is_true(json_object_get(h->v3, "is_active")))
        goto out;
    t->url = strdup(json_string_value(json_object_get(h->v3, "destination")));
    t->secret = strdup(s->set.client_secret);
    t->timeout_ms = s->set.webhook_timeout_ms;
    t->scale = s->set.retry_scale;
    t->headers = add_header(NULL, "Content-Type", "application/json");
    json_object_foreach(json_object_get(h->v3, "headers"), k, v)
        if (json_is_string(v))
            t->headers = add_header(t->headers, k, json_string_value(v));
    ok = t->url != NULL && t->secret != NULL;
out:
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        target_clear(t);
    return ok;
}

/* Standard Webhooks: v1,base64(HMAC-SHA256(secret, id.ts.body)). */
static void sign(const char *secret, const char *id, const char *ts,
                 const char *body, char *out, size_t cap)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                       sodium_base64_VARIANT_ORIGINAL)];

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "v1,%s", b64);
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

/* One POST; true on a 2xx answer. */
static bool post(struct target *t, const struct bcsim_delivery *d)
{
    char ts[24], sig[128];
    struct curl_slist *h;
    CURL *c = curl_easy_init();
    long code = 0;
    CURLcode cc;

    if (c == NULL)
        return false;
    /* The timestamp is real time: receivers compare it with their clock. */
    snprintf(ts, sizeof(ts), "%lld", (long long)jdate_now_unix());
    sign(t->secret, d->msg_id, ts, d->body, sig, sizeof(sig));
    h = add_header(NULL, "webhook-id", d->msg_id);
    h = add_header(h, "webhook-timestamp", ts);
    h = add_header(h, "webhook-signature", sig);
    for (struct curl_slist *x = t->headers; x != NULL; x = x->next)
        h = curl_slist_append(h, x->data);
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bcsim-webhooks");
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return cc == CURLE_OK && code >= 200 && code < 300;
}

static void deactivate(struct bcsim *s, int64_t hook_id)
{
    struct bcsim_hook *h;

    pthread_mutex_lock(&s->mu);
    h = bcsim_hook_find(&s->data, hook_id);
    if (h != NULL) {
        json_object_set_new(h->v3, "is_active", json_false());
        json_object_set_new(h->v3, "updated_at", json_integer((json_int_t)bcsim_now(s)));
        h->deactivated = true;
    }
    pthread_mutex_unlock(&s->mu);
    log_info("bcsim", "webhook deactivated after failed retries",
             LF_INT("hook_id", hook_id));
}

/* Takes the earliest due delivery, waiting for one; NULL when stopping. */
static struct bcsim_delivery *next_due(struct bcsim_hookq *q)
{
    pthread_mutex_lock(&q->mu);
    for (;;) {
        struct bcsim_delivery **best = NULL;
        int64_t now = bcsim_mono_ms();

        if (q->stop) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        for (struct bcsim_delivery **pp = &q->head; *pp != NULL; pp = &(*pp)->next)
            if (best == NULL || (*pp)->due_ms < (*best)->due_ms)
                best = pp;
        if (best != NULL && (*best)->due_ms <= now) {
            struct bcsim_delivery *d = *best;

            *best = d->next;
            d->next = NULL;
            pthread_mutex_unlock(&q->mu);
            return d;
        }
        if (best == NULL) {
            pthread_cond_wait(&q->cv, &q->mu);
        } else {
            struct timespec ts;
            int64_t wait = (*best)->due_ms - now;

            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&q->cv, &q->mu, &ts);
        }
    }
}

static void *run(void *arg)
{
    struct bcsim *s = arg;
    struct bcsim_hookq *q = &s->hooks;
    struct bcsim_delivery *d;

    while ((d = next_due(q)) != NULL) {
        struct target t;
        bool ok;

        if (!target_get(s, d->hook_id, &t)) {
            delivery_free(d);
            continue;
        }
        ok = post(&t, d);
        pthread_mutex_lock(&q->mu);
        q->attempts++;
        if (ok)
            q->delivered++;
        else
            q->failed_attempts++;
        pthread_mutex_unlock(&q->mu);
        if (ok) {
            bcsim_record(s, json_pack("{s:s, s:s, s:s}", "kind", "webhook",
                                      "scope", d->scope, "body_text", d->body));
            delivery_free(d);
        } else if (d->attempt >= BCSIM_HOOK_RETRIES) {
            deactivate(s, d->hook_id);
            pthread_mutex_lock(&q->mu);
            q->deactivated++;
            pthread_mutex_unlock(&q->mu);
            delivery_free(d);
        } else {
            double delay = (double)bcsim_hook_retry_s[d->attempt] * 1000.0 * t.scale;

            d->attempt++;
            d->due_ms = bcsim_mono_ms() + (int64_t)delay;
            enqueue(q, d);
        }
        target_clear(&t);
    }
    return NULL;
}

int bcsim_hooks_start(struct bcsim *s, struct mlc_err *e)
{
    struct bcsim_hookq *q = &s->hooks;

    q->stop = false;
    if (pthread_create(&q->thread, NULL, run, s) != 0)
        return mlc_err_set(e, MLC_EIO, "cannot start the webhook thread");
    q->running = true;
    return MLC_OK;
}

void bcsim_hooks_stop(struct bcsim *s)
{
    struct bcsim_hookq *q = &s->hooks;
    struct bcsim_delivery *d;

    if (q->running) {
        pthread_mutex_lock(&q->mu);
        q->stop = true;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
        q->running = false;
    }
    while ((d = q->head) != NULL) {
        q->head = d->next;
        delivery_free(d);
    }
}

json_t *bcsim_hooks_stats(struct bcsim *s)
{
    struct bcsim_hookq *q = &s->hooks;
    size_t pending = 0;
    json_t *o;

    pthread_mutex_lock(&q->mu);
    for (struct bcsim_delivery *d = q->head; d != NULL; d = d->next)
        pending++;
    o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                  "emitted", (json_int_t)q->emitted, "attempts", (json_int_t)q->attempts,
                  "delivered", (json_int_t)q->delivered,
                  "failed_attempts", (json_int_t)q->failed_attempts,
                  "dropped", (json_int_t)q->dropped, "duplicated", (json_int_t)q->duplicated,
                  "deactivated", (json_int_t)q->deactivated, "pending", (json_int_t)pending);
    pthread_mutex_unlock(&q->mu);
    return o;
}
