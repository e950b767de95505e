#include "console/console_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define RL_ENTRIES  512 /* addresses and users tracked at once */
#define RL_MAX_FAIL 32  /* failures remembered per entry */
#define RL_NAME_MAX 64

/* The failures of one client address or one user name. */
struct rl_entry {
    bool    used;
    bool    is_user;
    char    name[RL_NAME_MAX + 1];
    int64_t at[RL_MAX_FAIL];   /* times of the latest failures, ring */
    int     n;                 /* stored in at (<= RL_MAX_FAIL) */
    int     next;              /* ring position of the next write */
    int64_t last_ms;
};

struct cauth {
    pthread_mutex_t      mu;
    struct cauth_opts    o;
    struct cauth_session s[CAUTH_MAX_SESSIONS];
    bool                 live[CAUTH_MAX_SESSIONS];
    struct rl_entry      rl[RL_ENTRIES];
};

const char *cauth_role_name(enum cauth_role r)
{
    return r == CAUTH_OPERATOR ? "operator" : r == CAUTH_VIEWER ? "viewer" : "none";
}

enum cauth_role cauth_role_parse(const char *s)
{
    if (s != NULL && strcmp(s, "operator") == 0)
        return CAUTH_OPERATOR;
    if (s != NULL && strcmp(s, "viewer") == 0)
        return CAUTH_VIEWER;
    return CAUTH_NONE;
}

static void clamp_opts(struct cauth_opts *o)
{
    if (o->max_failures <= 0)
        o->max_failures = CAUTH_MAX_FAILURES;
    if (o->max_failures > RL_MAX_FAIL)
        o->max_failures = RL_MAX_FAIL;
    if (o->window_ms <= 0)
        o->window_ms = CAUTH_WINDOW_MS;
}

int cauth_new(const struct cauth_opts *o, struct cauth **out, struct mlc_err *e)
{
    struct cauth *a;

    *out = NULL;
    if (sodium_init() < 0)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium does not initialise");
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    a->o = *o;
    clamp_opts(&a->o);
    *out = a;
    return MLC_OK;
}

void cauth_free(struct cauth *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    sodium_memzero(a, sizeof(*a));
    free(a);
}

void cauth_set_opts(struct cauth *a, const struct cauth_opts *o)
{
    pthread_mutex_lock(&a->mu);
    a->o = *o;
    clamp_opts(&a->o);
    pthread_mutex_unlock(&a->mu);
}

/* ---- passwords ------------------------------------------------------------- */

void cauth_credential_name(const char *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "console_user.%s", user);
}

int cauth_hash(const char *password, size_t len, char out[CAUTH_HASH_MAX], struct mlc_err *e)
{
    if (len == 0 || len > CAUTH_PASSWORD_MAX)
        return mlc_err_set(e, MLC_EINVAL, "a password of 1-%d bytes", CAUTH_PASSWORD_MAX);
    if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "not enough memory to hash the password");
    return MLC_OK;
}

bool cauth_verify(const char *hash, const char *password, size_t len)
{
    if (hash == NULL || password == NULL || len == 0 || len > CAUTH_PASSWORD_MAX ||
        memchr(hash, '\0', CAUTH_HASH_MAX) == NULL)
        return false;
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

/* ---- sessions -------------------------------------------------------------- */

static void random_token(char out[CAUTH_TOKEN_LEN + 1])
{
    unsigned char raw[CAUTH_TOKEN_LEN / 2];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, CAUTH_TOKEN_LEN + 1, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
}

static bool expired(const struct cauth *a, const struct cauth_session *s, int64_t now)
{
    return now - s->last_ms >= a->o.idle_ms || now - s->created_ms >= a->o.max_ms;
}

static void drop(struct cauth *a, size_t i)
{
    a->live[i] = false;
    sodium_memzero(&a->s[i], sizeof(a->s[i]));
}

int cauth_session_start(struct cauth *a, const char *user, enum cauth_role role,
                        int64_t now_ms, struct cauth_session *out, struct mlc_err *e)
{
    size_t slot = CAUTH_MAX_SESSIONS;

    if (user == NULL || user[0] == '\0' || strlen(user) > CAUTH_USER_MAX || role == CAUTH_NONE)
        return mlc_err_set(e, MLC_EINVAL, "no such console user");
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CAUTH_MAX_SESSIONS; i++) {
        if (a->live[i] && expired(a, &a->s[i], now_ms))
            drop(a, i);
        if (!a->live[i] && slot == CAUTH_MAX_SESSIONS)
            slot = i;
    }
    if (slot == CAUTH_MAX_SESSIONS) { /* full: the least recently used goes */
        slot = 0;
        for (size_t i = 1; i < CAUTH_MAX_SESSIONS; i++)
            if (a->s[i].last_ms < a->s[slot].last_ms)
                slot = i;
        drop(a, slot);
    }
    random_token(a->s[slot].id);
    random_token(a->s[slot].csrf);
    snprintf(a->s[slot].user, sizeof(a->s[slot].user), "%s", user);
    a->s[slot].role = role;
    a->s[slot].created_ms = a->s[slot].last_ms = now_ms;
    a->live[slot] = true;
    *out = a->s[slot];
    pthread_mutex_unlock(&a->mu);
    return MLC_OK;
}

/* The slot of id; every live slot is compared in constant time, so the
 * time taken tells nothing about how much of an id matched. */
static size_t find(const struct cauth *a, const char *id)
{
    size_t found = CAUTH_MAX_SESSIONS;

    if (id == NULL || strlen(id) != CAUTH_TOKEN_LEN)
        return found;
    for (size_t i = 0; i < CAUTH_MAX_SESSIONS; i++)
        if (a->live[i] && sodium_memcmp(a->s[i].id, id, CAUTH_TOKEN_LEN) == 0)
            found = i;
    return found;
}

bool cauth_session_get(struct cauth *a, const char *id, int64_t now_ms,
                       struct cauth_session *out)
{
    bool ok = false;
    size_t i;

    pthread_mutex_lock(&a->mu);
    i = find(a, id);
    if (i < CAUTH_MAX_SESSIONS) {
        if (expired(a, &a->s[i], now_ms)) {
            drop(a, i);
        } else {
            a->s[i].last_ms = now_ms;
            *out = a->s[i];
            ok = true;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void cauth_session_end(struct cauth *a, const char *id)
{
    size_t i;

    pthread_mutex_lock(&a->mu);
    if ((i = find(a, id)) < CAUTH_MAX_SESSIONS)
        drop(a, i);
    pthread_mutex_unlock(&a->mu);
}

void cauth_session_end_user(struct cauth *a, const char *user)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CAUTH_MAX_SESSIONS; i++)
        if (a->live[i] && strcmp(a->s[i].user, user) == 0)
            drop(a, i);
    pthread_mutex_unlock(&a->mu);
}

size_t cauth_session_count(struct cauth *a, int64_t now_ms)
{
    size_t n = 0;

    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CAUTH_MAX_SESSIONS; i++)
        if (a->live[i] && !expired(a, &a->s[i], now_ms))
            n++;
    pthread_mutex_unlock(&a->mu);
    return n;
}

bool cauth_csrf_ok(const struct cauth_session *s, const char *token)
{
    if (s == NULL || token == NULL || strlen(token) != CAUTH_TOKEN_LEN ||
        strlen(s->csrf) != CAUTH_TOKEN_LEN)
        return false;
    return sodium_memcmp(s->csrf, token, CAUTH_TOKEN_LEN) == 0;
}

/* ---- login rate limit ------------------------------------------------------ */

static struct rl_entry *rl_find(struct cauth *a, bool is_user, const char *name)
{
    for (size_t i = 0; i < RL_ENTRIES; i++)
        if (a->rl[i].used && a->rl[i].is_user == is_user &&
            strncmp(a->rl[i].name, name, RL_NAME_MAX) == 0)
            return &a->rl[i];
    return NULL;
}

/* Failures of r inside the window ending at now, and the oldest of them. */
static int rl_count(const struct cauth *a, const struct rl_entry *r, int64_t now,
                    int64_t *oldest)
{
    int n = 0;

    *oldest = now;
    for (int i = 0; i < r->n; i++)
        if (now - r->at[i] < a->o.window_ms) {
            n++;
            if (r->at[i] < *oldest)
                *oldest = r->at[i];
        }
    return n;
}

static int64_t rl_wait(const struct cauth *a, const struct rl_entry *r, int64_t now)
{
    int64_t oldest, wait;
    int n;

    if (r == NULL)
        return 0;
    n = rl_count(a, r, now, &oldest);
    if (n < a->o.max_failures)
        return 0;
    /* The window must lose enough failures to fall below the limit; the
     * ring keeps the latest, so waiting for the oldest one is enough when
     * n == max_failures, and a safe upper bound above it. */
    wait = oldest + a->o.window_ms - now;
    return wait > 0 ? wait : 1;
}

int64_t cauth_login_wait(struct cauth *a, const char *client, const char *user, int64_t now_ms)
{
    int64_t w1, w2;

    pthread_mutex_lock(&a->mu);
    w1 = rl_wait(a, client != NULL ? rl_find(a, false, client) : NULL, now_ms);
    w2 = rl_wait(a, user != NULL ? rl_find(a, true, user) : NULL, now_ms);
    pthread_mutex_unlock(&a->mu);
    return w1 > w2 ? w1 : w2;
}

static void rl_add(struct cauth *a, bool is_user, const char *name, int64_t now)
{
    struct rl_entry *r = rl_find(a, is_user, name);

    if (r == NULL) {
        r = &a->rl[0];
        for (size_t i = 0; i < RL_ENTRIES; i++) {
            if (!a->rl[i].used) {
                r = &a->rl[i];
                break;
            }
            if (a->rl[i].last_ms < r->last_ms) /* full: the quietest goes */
                r = &a->rl[i];
        }
        memset(r, 0, sizeof(*r));
        r->used = true;
        r->is_user = is_user;
        snprintf(r->name, sizeof(r->name), "%s", name);
    }
    /* Keep only the latest max_failures times: enough to decide. */
    r->at[r->next] = now;
    r->next = (r->next + 1) % a->o.max_failures;
    if (r->n < a->o.max_failures)
        r->n++;
    r->last_ms = now;
}

void cauth_login_failed(struct cauth *a, const char *client, const char *user, int64_t now_ms)
{
    pthread_mutex_lock(&a->mu);
    if (client != NULL && client[0] != '\0')
        rl_add(a, false, client, now_ms);
    if (user != NULL && user[0] != '\0')
        rl_add(a, true, user, now_ms);
    pthread_mutex_unlock(&a->mu);
}

void cauth_login_ok(struct cauth *a, const char *user)
{
    struct rl_entry *r;

    pthread_mutex_lock(&a->mu);
    if (user != NULL && (r = rl_find(a, true, user)) != NULL)
        memset(r, 0, sizeof(*r));
    pthread_mutex_unlock(&a->mu);
}
