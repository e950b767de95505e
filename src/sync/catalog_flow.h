/*
 * catalog_flow: JDE items and prices -> BigCommerce catalog (posting rules §7).
 *
 * JDE has no webhooks, so cat_poll polls. One poll:
 *   1. reads the F4101 rows and the F4106 rows (catalog currency, and UOM
 *      when configured) changed at or after their watermarks, plus the
 *      F4106 rows whose window opens today (EFTJ = TODAY) or closed
 *      yesterday (EXDJ = TODAY_MINUS_DAY), in JDE's own "today" (the data
 *      service's special values, never the host clock);
 *   2. for every affected item reads its F4101 row and its effective F4106
 *      rows: EFTJ <= TODAY AND (EXDJ >= TODAY OR EXDJ blank), again with
 *      the special values, so the window is decided by JDE's date. Of
 *      those, a row of the configured branch beats an item-level (blank
 *      MCU) one, then the latest EFTJ, then the latest (UPMJ, TDAY). Without
 *      price_uom the row's UOM must be the item's primary UOM (UOM1). UPRC
 *      is rounded half away from zero to the currency's exponent;
 *   3. resolves the SKUs (LITM or AITM, through catalog.sku_map) to
 *      products and variants, reads their current price and name, and
 *      writes only what differs: variant prices in PUTs of <= 50, product
 *      names (only where the SKU is the product's own SKU, not one variant
 *      of several) in PUTs of <= 10. A SKU BigCommerce does not have is
 *      created as a hidden physical product of weight 0 at the effective
 *      price when create_missing, else audited as "missing SKU";
 *   4. when every push got an answer, moves both watermarks to the newest
 *      (UPMJ, TDAY) read, with an audit summary, in one store transaction.
 *
 * Failures: an item BigCommerce refused (207/409/422, a duplicate name on
 * create) is audited (entity "sku:<SKU>") and counted; it does not hold the
 * watermarks back, since polling again would not change the answer. A push
 * without an answer (5xx after the client's retries, timeout, connection)
 * or any JDE read failure fails the poll and keeps the watermarks, so the
 * next poll reads the same rows again. Re-reading is harmless: unchanged
 * values cause no write.
 *
 * Watermarks are stored as "CYYDDD/HHMMSS" (Julian date and time of day).
 *
 * Product jobs (catalog.sync, keys "product:<id>" and "sku:<id>", from the
 * product and SKU webhooks): JDE is the master of names and prices, so a
 * product edited in BigCommerce gets JDE's values back. cat_sync_products
 * runs several jobs together:
 *   1. the products, with their variants, in one list call per 100 ids (a
 *      "sku:<id>" key first finds its variant's product, one call each);
 *   2. every SKU of those products read back to JDE item numbers through
 *      catalog.sku_map (an item's SKU is its mapped value, else the item
 *      number itself; sku_source says LITM or AITM), looked up in F4101;
 *   3. those items' F4101 rows and effective F4106 prices, with the very
 *      rules and JDE "today" of the poll (steps 2 and 3 above);
 *   4. only what differs written, audited per SKU, exactly as the poll.
 * The connector's own catalog writes fire these webhooks too: the job then
 * finds nothing different and writes nothing, so the two never loop.
 * Outcomes per job: done; done with an audit row when the product is gone
 * from BigCommerce or none of its SKUs is a JDE item; held with
 * BigCommerce's message when it refused the product's update; retry for
 * anything transient (a JDE read, a BigCommerce call without an answer),
 * which re-reads and writes only what still differs. No watermark moves.
 */
#ifndef MLC_SYNC_CATALOG_FLOW_H
#define MLC_SYNC_CATALOG_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"
#include "store/store.h"

struct env;

#define CAT_WM_ITEMS  "catalog.f4101"
#define CAT_WM_PRICES "catalog.f4106"
#define CAT_WM_SIZE   16

struct cat_stats {
    size_t item_rows;       /* changed F4101 rows read */
    size_t price_rows;      /* changed or opening/closing F4106 rows read */
    size_t items;           /* distinct affected items */
    size_t no_price;        /* items without an effective price */
    size_t price_updates;   /* variant prices written */
    size_t name_updates;    /* product names written */
    size_t unchanged;       /* items already current in BigCommerce */
    size_t created;         /* hidden products created */
    size_t missing;         /* SKUs BigCommerce does not have (not created) */
    size_t failed;          /* items BigCommerce refused (audited) */
    char   items_wm[CAT_WM_SIZE];   /* watermarks after the poll */
    char   prices_wm[CAT_WM_SIZE];
};

/* One poll (see above). The BigCommerce client is env's for this thread;
 * st is the caller's store connection; now_ms is recorded in the audit
 * summary only. out is always filled. */
int cat_poll(struct env *env, struct store *st, const struct mlc_config *cfg,
             int64_t now_ms, struct cat_stats *out, struct mlc_err *e);

/* The outcome of one product job. */
enum cat_outcome {
    CAT_DONE = 0,
    CAT_RETRY,
    CAT_HOLD
};

/* One run of product jobs. */
struct cat_run {
    struct env              *env;
    struct store            *st;      /* audit rows */
    const struct mlc_config *cfg;     /* the job's current config */
    const char              *actor;   /* audit actor ("worker:3"); NULL: "scheduler" */
    /* Called before the JDE reads and before the writes; non-zero stops the
     * run there (every open job retries). May be NULL. */
    int                    (*checkpoint)(void *ctx, struct mlc_err *e);
    void                    *checkpoint_ctx;
};

/* Runs the jobs keys[0..n) together (see above): res[i] and errs[i] (the
 * reason of a HOLD or RETRY) belong to keys[i]. out counts like a poll's
 * (items, price_updates, name_updates, unchanged, failed). MLC_OK, or
 * MLC_EINVAL for missing arguments. */
int cat_sync_products(const struct cat_run *r, const char *const *keys, size_t n,
                      enum cat_outcome *res, struct mlc_err *errs, struct cat_stats *out,
                      struct mlc_err *e);

/* Watermark text <-> stamp ("126332/141500"). */
int cat_wm_format(const struct jdate_stamp *w, char *buf, size_t cap, struct mlc_err *e);
int cat_wm_parse(const char *s, struct jdate_stamp *out, struct mlc_err *e);

/* The BigCommerce SKU of a JDE item number: the sku_map value when the item
 * is mapped, else the item number itself (borrowed from cfg or item). */
const char *cat_sku_for(const struct cfg_catalog *cfg, const char *item);

#endif
