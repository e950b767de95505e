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

/* A missing account or business unit outranks one that is not postable:
 * *why says the problem to fix first. */
static void note_why(enum acct_reason *why, enum acct_reason r)
{
    if (why != NULL && (*why == 0 || r == ACCT_MISSING))
        *why = r;
}

static int check_account(struct acct_cache *c, struct ais_session *s,
                         const struct cfg_account *a, bool *ok, enum acct_reason *why,
                         char *problem, size_t cap, struct mlc_err *e)
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
        note_why(why, ACCT_MISSING);
    } else if (!info.postable) {
        snprintf(text, sizeof(text), "account %s is not postable in F0901 "
                 "(posting edit code %s)", name, info.pec);
        note_why(why, ACCT_NOT_POSTABLE);
    } else {
        return MLC_OK;
    }
    *ok = false;
    add_problem(problem, cap, text);
    return MLC_OK;
}

static int check_bu(struct acct_cache *c, struct ais_session *s, const char *bu,
                    bool *ok, enum acct_reason *why, char *problem, size_t cap,
                    struct mlc_err *e)
{
    char name[ACCT_NAME_MAX], text[96];
    bool exists = false;
    int rc;

    snprintf(name, sizeof(name), "bu:%s", bu);
    if (cached_good(c, name))
        return MLC_OK;
    rc = ais_bu_exists(s, bu, &exists, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "business unit %s", bu);
        return rc;
    }
    remember(c, name, exists);
    if (exists)
        return MLC_OK;
    snprintf(text, sizeof(text), "business unit %s does not exist in F0006", bu);
    note_why(why, ACCT_MISSING);
    *ok = false;
    add_problem(problem, cap, text);
    return MLC_OK;
}

int acct_check(struct acct_cache *c, struct ais_session *s, const struct post_refs *refs,
               bool *ok, enum acct_reason *why, char *problem, size_t cap,
               struct mlc_err *e)
{
    int rc = MLC_OK;

    *ok = true;
    if (why != NULL)
        *why = 0;
    if (cap > 0)
        problem[0] = '\0';
    /* Business units first: an account under a missing one is missing too. */
    for (size_t i = 0; i < refs->n_bus && rc == MLC_OK; i++)
        rc = check_bu(c, s, refs->bus[i], ok, why, problem, cap, e);
    for (size_t i = 0; i < refs->n_accounts && rc == MLC_OK; i++)
        rc = check_account(c, s, &refs->accounts[i], ok, why, problem, cap, e);
    if (rc != MLC_OK)
        *ok = false;
    return rc;
}

/* ---- the whole posting configuration -------------------------------------- */

/* One distinct account or business unit of a mapping, and JDE's answer. */
struct seen {
    char               name[ACCT_NAME_MAX];  /* the cache's name */
    struct cfg_account account;              /* an account */
    const char        *bu;                   /* a business unit (borrowed from the mapping) */
    bool               exists, postable;
    char               pec[2];
};

struct seen_set {
    struct seen *v;
    size_t       n;
};

static int seen_cmp(const void *a, const void *b)
{
    return strcmp(((const struct seen *)a)->name, ((const struct seen *)b)->name);
}

static const struct seen *seen_find(const struct seen_set *set, const char *name)
{
    struct seen key;

    snprintf(key.name, sizeof(key.name), "%s", name);
    return bsearch(&key, set->v, set->n, sizeof(*set->v), seen_cmp);
}

/* Sorts set and drops duplicate names. */
static void seen_uniq(struct seen_set *set)
{
    size_t k = 0;

    if (set->n == 0)
        return;
    qsort(set->v, set->n, sizeof(*set->v), seen_cmp);
    for (size_t i = 1; i < set->n; i++)
        if (strcmp(set->v[k].name, set->v[i].name) != 0)
            set->v[++k] = set->v[i];
    set->n = k + 1;
}

static void bu_name(const char *bu, char *buf, size_t cap)
{
    snprintf(buf, cap, "bu:%s", bu);
}

/* The distinct business units of m: every business unit entry and the one
 * every account is posted in. */
static int collect_bus(const struct mapping *m, struct seen_set *out, struct mlc_err *e)
{
    out->n = 0;
    if (m->n == 0)
        return MLC_OK;
    if ((out->v = calloc(m->n, sizeof(*out->v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
    for (size_t i = 0; i < m->n; i++) {
        struct seen *x = &out->v[out->n++];

        x->bu = m->refs[i].bu;
        bu_name(x->bu, x->name, sizeof(x->name));
    }
    seen_uniq(out);
    return MLC_OK;
}

/* The distinct accounts of m whose business unit exists. */
static int collect_accounts(const struct mapping *m, const struct seen_set *bus,
                            struct seen_set *out, struct mlc_err *e)
{
    char name[ACCT_NAME_MAX];

    out->n = 0;
    if (m->n == 0)
        return MLC_OK;
    if ((out->v = calloc(m->n, sizeof(*out->v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
    for (size_t i = 0; i < m->n; i++) {
        const struct mapping_ref *r = &m->refs[i];
        const struct seen *bu;
        struct seen *x;

        bu_name(r->bu, name, sizeof(name));
        if (r->kind != MAPPING_ACCOUNT || (bu = seen_find(bus, name)) == NULL || !bu->exists)
            continue;
        x = &out->v[out->n++];
        x->account = r->account;
        cfg_account_format(&x->account, x->name, sizeof(x->name));
    }
    seen_uniq(out);
    return MLC_OK;
}

/* Answers every business unit of set: the cache's good ones, the rest in
 * one batch. */
static int resolve_bus(struct acct_cache *c, struct ais_session *s, struct seen_set *set,
                       struct mlc_err *e)
{
    const char **ask = calloc(set->n + 1, sizeof(*ask));
    bool *found = calloc(set->n + 1, sizeof(*found));
    size_t *at = calloc(set->n + 1, sizeof(*at));
    size_t n = 0;
    int rc = MLC_OK;

    if (ask == NULL || found == NULL || at == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
        goto out;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (cached_good(c, set->v[i].name)) {
            set->v[i].exists = true;
        } else {
            at[n] = i;
            ask[n++] = set->v[i].bu;
        }
    }
    if (n > 0 && (rc = ais_bu_exists_many(s, ask, n, found, e)) != MLC_OK)
        goto out;
    for (size_t j = 0; j < n; j++) {
        set->v[at[j]].exists = found[j];
        remember(c, set->v[at[j]].name, found[j]);
    }
out:
    free(ask);
    free(found);
    free(at);
    return rc;
}

/* Answers every account of set the same way. */
static int resolve_accounts(struct acct_cache *c, struct ais_session *s, struct seen_set *set,
                            struct mlc_err *e)
{
    struct cfg_account *ask = calloc(set->n + 1, sizeof(*ask));
    struct ais_account *info = calloc(set->n + 1, sizeof(*info));
    size_t *at = calloc(set->n + 1, sizeof(*at));
    size_t n = 0;
    int rc = MLC_OK;

    if (ask == NULL || info == NULL || at == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
        goto out;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (cached_good(c, set->v[i].name)) {
            set->v[i].exists = set->v[i].postable = true;
        } else {
            at[n] = i;
            ask[n++] = set->v[i].account;
        }
    }
    if (n > 0 && (rc = ais_account_lookup_many(s, ask, n, info, e)) != MLC_OK)
        goto out;
    for (size_t j = 0; j < n; j++) {
        struct seen *x = &set->v[at[j]];

        x->exists = info[j].exists;
        x->postable = info[j].exists && info[j].postable;
        snprintf(x->pec, sizeof(x->pec), "%s", info[j].pec);
        remember(c, x->name, x->postable);
    }
out:
    free(ask);
    free(info);
    free(at);
    return rc;
}

static int add_mapping_problem(struct acct_report *r, const struct mapping_ref *ref,
                               enum acct_reason why, const char *pec, struct mlc_err *e)
{
    struct acct_problem *nv = realloc(r->problems, (r->n_problems + 1) * sizeof(*nv));

    if (nv == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "accounts: out of memory");
    r->problems = nv;
    nv = &r->problems[r->n_problems++];
    memset(nv, 0, sizeof(*nv));
    nv->ref = ref;
    nv->reason = why;
    snprintf(nv->pec, sizeof(nv->pec), "%s", pec != NULL ? pec : "");
    return MLC_OK;
}

/* The problems of m's entries, in m's order. */
static int mapping_problems(const struct mapping *m, const struct seen_set *bus,
                            const struct seen_set *accts, struct acct_report *out,
                            struct mlc_err *e)
{
    char name[ACCT_NAME_MAX];
    int rc = MLC_OK;

    for (size_t i = 0; i < m->n && rc == MLC_OK; i++) {
        const struct mapping_ref *r = &m->refs[i];
        const struct seen *bu, *a;

        bu_name(r->bu, name, sizeof(name));
        bu = seen_find(bus, name);
        if (bu == NULL || !bu->exists) {
            /* An account in a missing business unit: said once, for the unit. */
            if (r->kind == MAPPING_BU)
                rc = add_mapping_problem(out, r, ACCT_MISSING, NULL, e);
            continue;
        }
        if (r->kind != MAPPING_ACCOUNT)
            continue;
        cfg_account_format(&r->account, name, sizeof(name));
        if ((a = seen_find(accts, name)) == NULL || !a->exists)
            rc = add_mapping_problem(out, r, ACCT_MISSING, NULL, e);
        else if (!a->postable)
            rc = add_mapping_problem(out, r, ACCT_NOT_POSTABLE, a->pec, e);
    }
    return rc;
}

int acct_check_mapping(struct acct_cache *c, struct ais_session *s, const struct mapping *m,
                       struct acct_report *out, struct mlc_err *e)
{
    struct seen_set bus = { 0 }, accts = { 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    /* Business units first: an account in a missing one is missing too. */
    if ((rc = collect_bus(m, &bus, e)) != MLC_OK ||
        (rc = resolve_bus(c, s, &bus, e)) != MLC_OK ||
        (rc = collect_accounts(m, &bus, &accts, e)) != MLC_OK ||
        (rc = resolve_accounts(c, s, &accts, e)) != MLC_OK ||
        (rc = mapping_problems(m, &bus, &accts, out, e)) != MLC_OK)
        goto out;
    out->n_bus = bus.n;
    out->n_accounts = accts.n;
out:
    if (rc != MLC_OK)
        acct_report_clear(out);
    free(bus.v);
    free(accts.v);
    return rc;
}

void acct_report_clear(struct acct_report *r)
{
    if (r == NULL)
        return;
    free(r->problems);
    memset(r, 0, sizeof(*r));
}

const char *acct_reason_name(enum acct_reason r)
{
    return r == ACCT_NOT_POSTABLE ? "not_postable" : "missing";
}

void acct_problem_text(const struct acct_problem *p, char *buf, size_t cap)
{
    const struct mapping_ref *r = p->ref;
    char key[MAPPING_KEY_MAX], bu_key[MAPPING_KEY_MAX], acct[ACCT_NAME_MAX],
         conf[ACCT_NAME_MAX], moved[MAPPING_KEY_MAX + 96] = "";

    if (cap == 0)
        return;
    mapping_key(r, key, sizeof(key));
    cfg_account_format(&r->configured, conf, sizeof(conf));
    if (r->kind == MAPPING_BU) {
        if (r->configured.obj[0] != '\0') /* an account's own business unit */
            snprintf(buf, cap, "%s: business unit %s of account %s does not exist in F0006",
                     key, r->bu, conf);
        else
            snprintf(buf, cap, "%s: business unit %s does not exist in F0006", key, r->bu);
        return;
    }
    cfg_account_format(&r->account, acct, sizeof(acct));
    if (r->bu_key != NULL && strcmp(r->configured.bu, r->account.bu) != 0) {
        mapping_bu_key(r, bu_key, sizeof(bu_key));
        snprintf(moved, sizeof(moved), " (configured as %s; %s posts it in business unit %s)",
                 conf, bu_key, r->account.bu);
    }
    if (p->reason == ACCT_NOT_POSTABLE)
        snprintf(buf, cap, "%s: account %s is not postable in F0901 (posting edit code %s)%s",
                 key, acct, p->pec, moved);
    else
        snprintf(buf, cap, "%s: account %s does not exist in F0901%s", key, acct, moved);
}
