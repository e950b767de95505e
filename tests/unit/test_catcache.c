/* Unit tests: catcache (the catalog categories of products by product id,
 * shared by the order flow's workers; issue 9). Times are the caller's
 * milliseconds, so every case picks its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "sync/catcache.h"

#define TTL  600000   /* the default posting.category_cache_s, in ms */

static struct catcache *mk(void)
{
    struct catcache *c = NULL;

    assert_int_equal(catcache_new(&c, NULL), MLC_OK);
    assert_non_null(c);
    return c;
}

static void put(struct catcache *c, int64_t pid, const int64_t *ids, size_t n, int64_t now,
                int64_t ttl)
{
    assert_int_equal(catcache_put(c, pid, ids, n, now, ttl, catcache_generation(c), NULL),
                     MLC_OK);
}

/* True when pid is known and fresh at now (TTL), its categories into ids. */
static bool get(struct catcache *c, int64_t pid, int64_t now, int64_t *ids, size_t *n)
{
    return catcache_get(c, pid, now, TTL, ids, CATCACHE_CATS_MAX, n);
}

static bool has(struct catcache *c, int64_t pid, int64_t now)
{
    int64_t ids[CATCACHE_CATS_MAX];
    size_t n;

    return get(c, pid, now, ids, &n);
}

static size_t entries(struct catcache *c)
{
    struct catcache_stats s;

    catcache_stats(c, &s);
    return s.entries;
}

/* An answer is used while younger than the TTL, copied out whole; a later
 * answer replaces it; a product never stored is not known. */
static void test_get_put_ttl(void **state)
{
    const int64_t a[] = { 31, 32 }, b[] = { 40 };
    struct catcache *c = mk();
    int64_t ids[CATCACHE_CATS_MAX], small[1] = { -1 };
    size_t n = 99;

    (void)state;
    assert_false(get(c, 5, 1000, ids, &n));
    assert_int_equal(n, 99);                           /* untouched on a miss */
    put(c, 5, a, 2, 1000, TTL);
    assert_true(get(c, 5, 1000, ids, &n));
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 31);
    assert_int_equal(ids[1], 32);
    assert_true(get(c, 5, 1000 + TTL - 1, ids, &n));   /* still fresh */
    assert_false(get(c, 5, 1000 + TTL, ids, &n));      /* expired */
    assert_false(has(c, 6, 1000));
    /* More categories than the caller has room for: a miss, not a cut list. */
    assert_false(catcache_get(c, 5, 1000, TTL, small, 1, &n));
    assert_int_equal(small[0], -1);
    /* The TTL is the caller's (a reload may change it). */
    assert_false(catcache_get(c, 5, 2000, 1000, ids, CATCACHE_CATS_MAX, &n));
    assert_true(catcache_get(c, 5, 2000, 1001, ids, CATCACHE_CATS_MAX, &n));
    /* A newer answer replaces the entry and its age. */
    put(c, 5, b, 1, 500000, TTL);
    assert_true(get(c, 5, 1000 + TTL, ids, &n));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 40);
    assert_int_equal(entries(c), 1);
    catcache_free(c);
    catcache_free(NULL);
}

/* A TTL of 0 (posting.category_cache_s 0) turns the cache off both ways. */
static void test_ttl_zero_disables(void **state)
{
    const int64_t a[] = { 31 };
    struct catcache *c = mk();
    struct catcache_stats s;
    int64_t ids[CATCACHE_CATS_MAX];
    size_t n;

    (void)state;
    put(c, 5, a, 1, 1000, 0);
    put(c, 6, a, 1, 1000, -5);
    assert_int_equal(entries(c), 0);
    put(c, 5, a, 1, 1000, TTL);
    assert_false(catcache_get(c, 5, 1000, 0, ids, CATCACHE_CATS_MAX, &n));
    assert_false(catcache_get(c, 5, 1000, -1, ids, CATCACHE_CATS_MAX, &n));
    assert_true(catcache_get(c, 5, 1000, 1, ids, CATCACHE_CATS_MAX, &n));
    catcache_stats(c, &s);
    assert_int_equal(s.hits, 1);
    catcache_free(c);
}

/* One product's entry goes (the others stay); product_id <= 0 drops them
 * all; an unknown product is no error. */
static void test_invalidate(void **state)
{
    const int64_t a[] = { 31 };
    struct catcache *c = mk();

    (void)state;
    for (int64_t p = 1; p <= 3; p++)
        put(c, p, a, 1, 1000, TTL);
    catcache_invalidate(c, 2);
    assert_true(has(c, 1, 1000));
    assert_false(has(c, 2, 1000));
    assert_true(has(c, 3, 1000));
    assert_int_equal(entries(c), 2);
    catcache_invalidate(c, 777);
    assert_int_equal(entries(c), 2);
    catcache_invalidate(c, 0);
    assert_int_equal(entries(c), 0);
    assert_false(has(c, 1, 1000));
    for (int64_t p = 1; p <= 3; p++)
        put(c, p, a, 1, 1000, TTL);
    catcache_invalidate(c, -1);
    assert_int_equal(entries(c), 0);
    catcache_free(c);
}

/* An answer fetched before an invalidation (of any product) is not stored:
 * it may be older than the change the webhook announced. */
static void test_stale_generation_dropped(void **state)
{
    const int64_t old[] = { 31 }, fresh[] = { 32 };
    struct catcache *c = mk();
    int64_t ids[CATCACHE_CATS_MAX];
    uint64_t g0, g1;
    size_t n;

    (void)state;
    g0 = catcache_generation(c);
    catcache_invalidate(c, 5);            /* the webhook lands while a batch asks */
    g1 = catcache_generation(c);
    assert_true(g1 != g0);
    assert_int_equal(catcache_put(c, 5, old, 1, 1000, TTL, g0, NULL), MLC_OK);
    assert_false(has(c, 5, 1000));
    assert_int_equal(entries(c), 0);
    catcache_invalidate(c, 9);            /* another product: still newer than g0 */
    assert_int_equal(catcache_put(c, 5, old, 1, 1000, TTL, g1, NULL), MLC_OK);
    assert_int_equal(entries(c), 0);
    /* Asked after the last invalidation: kept. */
    assert_int_equal(catcache_put(c, 5, fresh, 1, 1000, TTL, catcache_generation(c), NULL),
                     MLC_OK);
    assert_true(get(c, 5, 1000, ids, &n));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 32);
    catcache_free(c);
}

/* A product in no category (or gone from the catalog) is remembered as
 * such, so it is not asked for again in every batch. */
static void test_zero_categories_cached(void **state)
{
    struct catcache *c = mk();
    int64_t ids[CATCACHE_CATS_MAX] = { -7 };
    size_t n = 99;

    (void)state;
    put(c, 8, NULL, 0, 1000, TTL);
    assert_true(get(c, 8, 1000, ids, &n));
    assert_int_equal(n, 0);
    assert_int_equal(ids[0], -7);
    assert_int_equal(entries(c), 1);
    catcache_free(c);
}

/* More than CATCACHE_CATS_MAX categories are not stored (the decoder
 * rejects such a product); exactly that many are. */
static void test_too_many_categories(void **state)
{
    static int64_t many[CATCACHE_CATS_MAX + 1], ids[CATCACHE_CATS_MAX];
    struct catcache *c = mk();
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i <= CATCACHE_CATS_MAX; i++)
        many[i] = (int64_t)i + 1;
    put(c, 9, many, CATCACHE_CATS_MAX + 1, 1000, TTL);
    assert_false(has(c, 9, 1000));
    assert_int_equal(entries(c), 0);
    put(c, 9, many, CATCACHE_CATS_MAX, 1000, TTL);
    assert_true(get(c, 9, 1000, ids, &n));
    assert_int_equal(n, CATCACHE_CATS_MAX);
    assert_memory_equal(ids, many, sizeof(ids));
    catcache_free(c);
}

/* Full: the expired entries go, and only they when that makes room. */
static void test_eviction_expired_first(void **state)
{
    const int64_t a[] = { 31 };
    const int64_t ttl = 1000;
    struct catcache *c = mk();
    int64_t ids[1];
    size_t n;

    (void)state;
    for (int64_t p = 1; p <= CATCACHE_MAX; p++)
        put(c, p, a, 1, p <= 100 ? 0 : 4500, ttl);    /* 1..100 fetched long ago */
    assert_int_equal(entries(c), CATCACHE_MAX);
    /* Replacing a known product needs no room. */
    put(c, 50, a, 1, 0, ttl);
    assert_int_equal(entries(c), CATCACHE_MAX);
    put(c, CATCACHE_MAX + 1000, a, 1, 5000, ttl);
    assert_int_equal(entries(c), CATCACHE_MAX - 100 + 1);
    for (int64_t p = 1; p <= CATCACHE_MAX; p++)
        assert_int_equal(catcache_get(c, p, 5000, INT64_MAX / 2, ids, 1, &n), p > 100);
    assert_true(catcache_get(c, CATCACHE_MAX + 1000, 5000, ttl, ids, 1, &n));
    catcache_free(c);
}

/* Full and nothing expired: the older half goes, the newer half and the
 * new entry stay; all of one age: everything goes but the new one. */
static void test_eviction_older_half(void **state)
{
    const int64_t a[] = { 31 };
    struct catcache *c = mk();
    int64_t ids[1];
    size_t n, kept = 0;

    (void)state;
    for (int64_t p = 1; p <= CATCACHE_MAX; p++)
        put(c, p, a, 1, p, TTL);                     /* product p fetched at p ms */
    put(c, CATCACHE_MAX + 1, a, 1, CATCACHE_MAX + 1, TTL);
    assert_true(entries(c) <= CATCACHE_MAX / 2 + 1);
    assert_true(entries(c) >= CATCACHE_MAX / 2 - 1);
    for (int64_t p = 1; p <= CATCACHE_MAX; p++) {
        bool in = catcache_get(c, p, CATCACHE_MAX + 1, TTL, ids, 1, &n);

        /* exactly a newest run survives */
        if (in)
            kept++;
        else
            assert_int_equal(kept, 0);
    }
    assert_true(has(c, CATCACHE_MAX, CATCACHE_MAX + 1));
    assert_false(has(c, 1, CATCACHE_MAX + 1));
    assert_false(has(c, CATCACHE_MAX / 2 - 1, CATCACHE_MAX + 1));
    assert_true(has(c, CATCACHE_MAX + 1, CATCACHE_MAX + 1));
    catcache_free(c);

    c = mk();
    for (int64_t p = 1; p <= CATCACHE_MAX; p++)
        put(c, p, a, 1, 7, TTL);
    put(c, CATCACHE_MAX + 1, a, 1, 7, TTL);
    assert_int_equal(entries(c), 1);
    assert_true(has(c, CATCACHE_MAX + 1, 7));
    catcache_free(c);
}

/* Hits, misses (an unknown, an expired and a too-small buffer all miss),
 * invalidations and entries. */
static void test_stats(void **state)
{
    const int64_t a[] = { 31, 32 };
    struct catcache *c = mk();
    struct catcache_stats s;
    int64_t ids[1];
    size_t n;

    (void)state;
    catcache_stats(c, &s);
    assert_int_equal(s.hits + s.misses + s.invalidations + s.entries, 0);
    put(c, 1, a, 2, 0, TTL);
    put(c, 2, a, 1, 0, TTL);
    assert_true(has(c, 1, 0));
    assert_true(has(c, 2, 10));
    assert_false(has(c, 3, 0));
    assert_false(has(c, 1, TTL));
    assert_false(catcache_get(c, 1, 0, TTL, ids, 1, &n));
    catcache_invalidate(c, 2);
    catcache_invalidate(c, 99);
    catcache_stats(c, &s);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 3);
    assert_int_equal(s.invalidations, 2);
    assert_int_equal(s.entries, 1);
    catcache_free(c);
}

/* ---- threads ------------------------------------------------------------ */

enum { THREADS = 4, ROUNDS = 20000, PRODUCTS = 300 };

struct worker {
    struct catcache *c;
    uint32_t         seed;     /* xorshift state, not 0 */
    uint64_t         gets, hits;
    bool             torn;     /* an answer that is not the product's own */
    bool             failed;   /* a put failed (no cmocka asserts off-thread) */
};

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Product p's categories: (p % 5) ids, each p * 10 + k, so a reader can
 * tell an answer that mixes two entries. */
static size_t cats_of(int64_t p, int64_t *ids)
{
    size_t n = (size_t)(p % 5);

    for (size_t k = 0; k < n; k++)
        ids[k] = p * 10 + (int64_t)k;
    return n;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int64_t ids[8], want[8];

    for (int i = 0; i < ROUNDS; i++) {
        uint32_t r = next_rand(&w->seed);
        int64_t p = (int64_t)(r % PRODUCTS) + 1, now = i;
        size_t n = 0, k;

        switch ((r >> 16) % 8) {
        case 0:
            catcache_invalidate(w->c, (r >> 20) % 50 == 0 ? 0 : p);
            break;
        case 1: case 2: case 3: {
            uint64_t gen = catcache_generation(w->c);

            k = cats_of(p, want);
            if (catcache_put(w->c, p, want, k, now, 5000, gen, NULL) != MLC_OK)
                w->failed = true;
            break;
        }
        default:
            w->gets++;
            if (catcache_get(w->c, p, now, 5000, ids, 8, &n)) {
                w->hits++;
                k = cats_of(p, want);
                if (n != k || (n > 0 && memcmp(ids, want, n * sizeof(*ids)) != 0))
                    w->torn = true;
            }
        }
    }
    return NULL;
}

/* Several workers put, get and invalidate at once: every answer is the
 * product's own, and the counters add up (clean under ASan and valgrind). */
static void test_threads(void **state)
{
    struct catcache *c = mk();
    struct worker w[THREADS];
    pthread_t t[THREADS];
    struct catcache_stats s;
    uint64_t gets = 0, hits = 0;

    (void)state;
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .c = c, .seed = 1234u + i };
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_false(w[i].torn);
        assert_false(w[i].failed);
        gets += w[i].gets;
        hits += w[i].hits;
    }
    catcache_stats(c, &s);
    assert_int_equal(s.hits, hits);
    assert_int_equal(s.hits + s.misses, gets);
    assert_true(hits > 0);
    assert_true(s.invalidations > 0);
    assert_true(s.entries <= PRODUCTS);
    catcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_ttl),
        cmocka_unit_test(test_ttl_zero_disables),
        cmocka_unit_test(test_invalidate),
        cmocka_unit_test(test_stale_generation_dropped),
        cmocka_unit_test(test_zero_categories_cached),
        cmocka_unit_test(test_too_many_categories),
        cmocka_unit_test(test_eviction_expired_first),
        cmocka_unit_test(test_eviction_older_half),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests_name("catcache", tests, NULL, NULL);
}
