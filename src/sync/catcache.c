#include "sync/catcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t  product_id;
    int64_t  at_ms;   /* when the answer was fetched */
    int64_t *ids;     /* owned; NULL when n == 0 */
    size_t   n;
};

struct catcache {
    pthread_mutex_t mu;
    struct entry   *v;     /* sorted by product_id */
    size_t          n, cap;
    uint64_t        gen;   /* moved by every invalidation */
    uint64_t        hits, misses, invalidations;
};

int catcache_new(struct catcache **out, struct mlc_err *e)
{
    struct catcache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "catcache: out of memory");
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return MLC_OK;
}

void catcache_free(struct catcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].ids);
    free(c->v);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t catcache_generation(struct catcache *c)
{
    uint64_t g;

    pthread_mutex_lock(&c->mu);
    g = c->gen;
    pthread_mutex_unlock(&c->mu);
    return g;
}

/* The index of product_id, or where it would go (*found false). */
static size_t find(const struct catcache *c, int64_t product_id, bool *found)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->v[mid].product_id < product_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < c->n && c->v[lo].product_id == product_id;
    return lo;
}

bool catcache_get(struct catcache *c, int64_t product_id, int64_t now_ms, int64_t ttl_ms,
                  int64_t *ids, size_t cap, size_t *n)
{
    bool found = false, fresh = false;
    size_t i;

    if (ttl_ms <= 0)
        return false;
    pthread_mutex_lock(&c->mu);
    i = find(c, product_id, &found);
    if (found && now_ms - c->v[i].at_ms < ttl_ms && c->v[i].n <= cap) {
        if (c->v[i].n > 0)
            memcpy(ids, c->v[i].ids, c->v[i].n * sizeof(*ids));
        *n = c->v[i].n;
        fresh = true;
    }
    if (fresh)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    return fresh;
}

/* Drops the entries fetched at or before cutoff_ms. */
static void drop_older(struct catcache *c, int64_t cutoff_ms)
{
    size_t k = 0;

    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].at_ms > cutoff_ms)
            c->v[k++] = c->v[i];
        else
            free(c->v[i].ids);
    }
    c->n = k;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Room for one more entry: expired ones go, then the older half (by the
 * median fetch time; everything when that cannot be had). */
static void make_room(struct catcache *c, int64_t now_ms, int64_t ttl_ms)
{
    int64_t *ats;

    drop_older(c, now_ms - ttl_ms);
    if (c->n < CATCACHE_MAX)
        return;
    if ((ats = malloc(c->n * sizeof(*ats))) == NULL) {
        drop_older(c, INT64_MAX);
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        ats[i] = c->v[i].at_ms;
    qsort(ats, c->n, sizeof(*ats), cmp_i64);
    drop_older(c, ats[c->n / 2]);
    free(ats);
}

/* Inserts en at index i (room made by the caller). */
static int insert_at(struct catcache *c, size_t i, const struct entry *en)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap > 0 ? c->cap * 2 : 64;
        struct entry *nv;

        if (ncap > CATCACHE_MAX)
            ncap = CATCACHE_MAX;
        if ((nv = realloc(c->v, ncap * sizeof(*nv))) == NULL)
            return MLC_ENOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
    c->v[i] = *en;
    c->n++;
    return MLC_OK;
}

int catcache_put(struct catcache *c, int64_t product_id, const int64_t *ids, size_t n,
                 int64_t now_ms, int64_t ttl_ms, uint64_t gen, struct mlc_err *e)
{
    struct entry en = { .product_id = product_id, .at_ms = now_ms, .n = n };
    bool found = false;
    size_t i;
    int rc = MLC_OK;

    if (n > CATCACHE_CATS_MAX || ttl_ms <= 0)
        return MLC_OK;
    if (n > 0 && (en.ids = malloc(n * sizeof(*ids))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "catcache: out of memory");
    if (n > 0)
        memcpy(en.ids, ids, n * sizeof(*ids));
    pthread_mutex_lock(&c->mu);
    if (gen != c->gen)  /* invalidated while it was fetched: not kept */
        goto out;
    i = find(c, product_id, &found);
    if (found) {
        free(c->v[i].ids);
        c->v[i] = en;
        en.ids = NULL;
        goto out;
    }
    if (c->n >= CATCACHE_MAX) {
        make_room(c, now_ms, ttl_ms);
        i = find(c, product_id, &found);
    }
    if (insert_at(c, i, &en) == MLC_OK)
        en.ids = NULL;
    else
        rc = mlc_err_set(e, MLC_ENOMEM, "catcache: out of memory");
out:
    pthread_mutex_unlock(&c->mu);
    free(en.ids);
    return rc;
}

void catcache_invalidate(struct catcache *c, int64_t product_id)
{
    bool found = false;
    size_t i;

    pthread_mutex_lock(&c->mu);
    c->gen++;
    c->invalidations++;
    if (product_id <= 0) {
        drop_older(c, INT64_MAX);
    } else {
        i = find(c, product_id, &found);
        if (found) {
            free(c->v[i].ids);
            memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(*c->v));
            c->n--;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

void catcache_stats(struct catcache *c, struct catcache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->invalidations = c->invalidations;
    out->entries = c->n;
    pthread_mutex_unlock(&c->mu);
}
