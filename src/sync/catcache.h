/*
 * catcache: the catalog categories of products, by product id, for the
 * order flow's revenue_by_category (issue 9).
 *
 * Without it every batch of orders asks BigCommerce for the categories of
 * its products; with it a product's categories are asked once per TTL
 * (posting.category_cache_s) across batches and workers. A product the
 * catalog no longer has is remembered with no categories, like one in no
 * category, so that it is not asked again in every batch.
 *
 * Freshness: an entry is used while younger than the TTL the caller
 * passes (the configuration may change at a reload). A product webhook
 * drops the product's entry at once (catcache_invalidate, wired by the
 * daemon through env_resource_changed). Every invalidation moves a
 * generation counter: answers fetched before an invalidation are not
 * stored (catcache_put with the generation read before the fetch), so a
 * change that lands while a batch asks cannot be overwritten by the older
 * answer.
 *
 * Bounded: at most CATCACHE_MAX products. When full, expired entries go
 * first, then the older half.
 *
 * Times are the caller's milliseconds (the order flow uses its store's
 * clock, which tests can move). Thread-safe: one cache per env, shared by
 * every worker; nothing blocks while holding its lock.
 */
#ifndef MLC_SYNC_CATCACHE_H
#define MLC_SYNC_CATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CATCACHE_MAX 8192
/* The most categories remembered for one product (the decoder's bound). */
#define CATCACHE_CATS_MAX 256

struct catcache;

/* *out: caller frees with catcache_free. */
int catcache_new(struct catcache **out, struct mlc_err *e);
void catcache_free(struct catcache *c); /* NULL-safe */

/* The generation to pass to catcache_put for answers fetched from now. */
uint64_t catcache_generation(struct catcache *c);

/* The categories of product_id when known and younger than ttl_ms at
 * now_ms: copied into ids (cap entries; *n their count) and true. False
 * otherwise (ids untouched), and always when ttl_ms <= 0. */
bool catcache_get(struct catcache *c, int64_t product_id, int64_t now_ms, int64_t ttl_ms,
                  int64_t *ids, size_t cap, size_t *n);

/* Remembers product_id's categories ids[0..n) (n may be 0) as of now_ms,
 * unless an invalidation happened since generation gen (then nothing is
 * stored) or n > CATCACHE_CATS_MAX. ttl_ms decides which entries have
 * expired when room must be made. MLC_ENOMEM only when out of memory. */
int catcache_put(struct catcache *c, int64_t product_id, const int64_t *ids, size_t n,
                 int64_t now_ms, int64_t ttl_ms, uint64_t gen, struct mlc_err *e);

/* Drops product_id's entry (every entry when product_id <= 0). */
void catcache_invalidate(struct catcache *c, int64_t product_id);

/* Statistics for tests and benchmarks. */
struct catcache_stats {
    uint64_t hits, misses, invalidations;
    size_t   entries;
};
void catcache_stats(struct catcache *c, struct catcache_stats *out);

#endif
