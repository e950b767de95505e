#include "sync/accounts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jde/ais_data.h"
#include "sync/posting.h"

#define ACCT_NAME_MAX 32   /* "BU.OBJ.SUB" (12 + 6 + 8 + 2) or "bu:BU" */

struct acct_entry {
    char     name[ACCT_NAME_MAX];  /* "1.1110.STRIPE", or "bu:110" */
    bool     good;                 /* exists (and postable, for an account) */
    uint64_t gen;                  /* cache generation it was read in */
};

struct acct_cache {
    pthread_mutex_t    mu;
    struct acct_entry *v;
    size_t             n, cap;
    uint64_t           gen;
    uint64_t           hits, lookups;
};

int acct_cache_new(struct acct_cache **out, struct mlc_err *e)
{
    struct acct_cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
    pthread_mutex_init(&c->mu, NULL);
    c->gen = 1;
    *out = c;
    return MLC_OK;
}

void acct_cache_free(struct acct_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->v);
    free(c);
}

void acct_invalidate(struct acct_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->gen++;
    pthread_mutex_unlock(&c->mu);
}

void acct_stats(struct acct_cache *c, struct acct_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->lookups = c->lookups;
    out->entries = c->n;
    pthread_mutex_unlock(&c->mu);
}

static struct acct_entry *find(struct acct_cache *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    return NULL;
}

/* True when name is known good in the current generation. */
static bool cached_good(struct acct_cache *c, const char *name)
{
    struct acct_entry *x;
    bool good;

    pthread_mutex_lock(&c->mu);
    x = find(c, name);
    good = x != NULL && x->good && x->gen == c->gen;
    if (good)
        c->hits++;
    else
        c->lookups++;
    pthread_mutex_unlock(&c->mu);
    return good;
}

/* Records an AIS answer (an allocation failure only costs a re-read). */
static void remember(struct acct_cache *c, const char *name, bool good)
{
    struct acct_entry *x;

    pthread_mutex_lock(&c->mu);
    x = find(c, name);
    if (x == NULL && c->n == c->cap) {
        size_t ncap = c->cap > 0 ? c->cap * 2 : 32;
        struct acct_entry *nv = realloc(c->v, ncap * sizeof(*nv));

        if (nv != NULL) {
            c->v = nv;
            c->cap = ncap;
        }
    }
    if (x == NULL && c->n < c->cap) {
        x = &c->v[c->n++];
        snprintf(x->name, sizeof(x->name), "%s", name);
    }
    if (x != NULL) {
        x->good = good;
        x->gen = c->gen;
    }
    pthread_mutex_unlock(&c->mu);
}

/* Appends "; "-separated text to problem. */
static void add_problem(char *problem, size_t cap, const char *text)
{
    size_t len = strlen(problem);

    if (len + 1 >= cap)
        return;
    snprintf(problem + len, cap - len, "%s%s", len > 0 ? "; " : "", text);
}

static int check_account(struct acct_cache *c, struct ais_session *s,
                         const struct cfg_account *a, bool *ok, char *problem,
                         size_t cap, struct mlc_err *e)
{
    struct ais_account info;
    char name[ACCT_NAME_MAX], text[160];
    int rc;

    cfg_account_format(a, name, sizeof(name));
    if (cached_good(c, name))
        return MLC_OK;
    rc = ais_account_lookup(s, a->bu, a->obj, a->sub, &info, e);
    if (rc != MLC_OK)
        return rc;
    remember(c, name, info.exists && info.postable);
    if (!info.exists) {
        snprintf(text, sizeof(text), "account %s does not exist in F0901", name);
    } else if (!info.postable) {
        snprintf(text, sizeof(text), "account %s is not postable in F0901 "
                 "(posting edit code %s)", name, info.pec);
    } else {
        return MLC_OK;
    }
    *ok = false;
    add_problem(problem, cap, text);
    return MLC_OK;
}

static int check_bu(struct acct_cache *c, struct ais_session *s, const char *bu,
                    bool *ok, char *problem, size_t cap, struct mlc_err *e)
{
    char name[ACCT_NAME_MAX], text[96];
    bool exists = false;
    int rc;

    snprintf(name, sizeof(name), "bu:%s", bu);
    if (cached_good(c, name))
        return MLC_OK;
    rc = ais_bu_exists(s, bu, &exists, e);
    if (rc != MLC_OK)
        return mlc_err_wrap(e, "business unit %s", bu);
    remember(c, name, exists);
    if (exists)
        return MLC_OK;
    snprintf(text, sizeof(text), "business unit %s does not exist in F0006", bu);
    *ok = false;
    add_problem(problem, cap, text);
    return MLC_OK;
}

int acct_check(struct acct_cache *c, struct ais_session *s, const struct post_refs *refs,
               bool *ok, char *problem, size_t cap, struct mlc_err *e)
{
    int rc = MLC_OK;

    *ok = true;
    if (cap > 0)
        problem[0] = '\0';
    /* Business units first: an account under a missing one is missing too. */
    for (size_t i = 0; i < refs->n_bus && rc == MLC_OK; i++)
        rc = check_bu(c, s, refs->bus[i], ok, problem, cap, e);
    for (size_t i = 0; i < refs->n_accounts && rc == MLC_OK; i++)
        rc = check_account(c, s, &refs->accounts[i], ok, problem, cap, e);
    if (rc != MLC_OK)
        *ok = false;
    return rc;
}
