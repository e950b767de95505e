/*
 * bc_catalog: v3 catalog products and variants, batch updates, the product
 * create that is never sent twice, and the SKU index.
 *
 * Batch updates are split into the largest batches BigCommerce accepts (50
 * variants, 10 products per PUT; more is a 413) and every input item gets
 * its own result. A PUT by id is a full-state write, so it is idempotent
 * and retried on 5xx/timeouts. A 207 names the items that were saved in
 * "data": those succeed (with the batch's message when it names them), the
 * others fail with it. A 409/422 fails the items of its batch with
 * BigCommerce's message; a variant 422 (batch_errors) may have saved some
 * of them, which only a re-read can tell.
 *
 * SKUs: products are found by product-level SKU (sku:in), variants by
 * variant SKU (sku, one per call). The index maps a SKU to its product and
 * variant ids so that the catalog flow spends calls only on SKUs it has not
 * seen; it is thread-safe and can be shared by the clients of one store.
 */
#ifndef MLC_BC_BC_CATALOG_H
#define MLC_BC_BC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bc_client;

#define BC_VARIANT_BATCH_MAX 50
#define BC_PRODUCT_BATCH_MAX 10

/* Strings owned, never NULL; raw is the object as received (owned
 * reference: fields this struct does not carry, e.g. prices as sent). */
struct bc_variant {
    int64_t id;
    int64_t product_id;
    char   *sku;
    int64_t inventory_level;
    bool    purchasing_disabled;
    json_t *raw;
};

struct bc_product {
    int64_t            id;
    char              *name, *sku, *type, *inventory_tracking;
    int64_t            base_variant_id; /* 0 when null (several variants) */
    int64_t            inventory_level;
    struct bc_variant *variants;         /* with include=variants */
    size_t             n_variants;
    json_t            *raw;
};

int bc_variant_decode(const json_t *j, struct bc_variant *out, struct mlc_err *e);
int bc_product_decode(const json_t *j, struct bc_product *out, struct mlc_err *e);
void bc_variant_clear(struct bc_variant *v);
void bc_product_clear(struct bc_product *p);
/* Clear every element and free the array; NULL-safe. */
void bc_variants_free(struct bc_variant *v, size_t n);
void bc_products_free(struct bc_product *v, size_t n);

/* Products by product-level SKU / by id (long lists split over calls; all
 * pages). *out: caller frees with bc_products_free. */
int bc_products_by_skus(struct bc_client *c, const char *const *skus, size_t n,
                        bool with_variants, struct bc_product **out, size_t *n_out,
                        struct mlc_err *e);
int bc_products_by_ids(struct bc_client *c, const int64_t *ids, size_t n,
                       bool with_variants, struct bc_product **out, size_t *n_out,
                       struct mlc_err *e);
/* Variants by variant SKU / by product ids. *out: caller frees with
 * bc_variants_free. */
int bc_variants_by_sku(struct bc_client *c, const char *sku, struct bc_variant **out,
                       size_t *n_out, struct mlc_err *e);
/* The variant with id (GET /v3/catalog/variants?id=N): *found false when
 * the catalog has none. out: release with bc_variant_clear. */
int bc_variant_by_id(struct bc_client *c, int64_t id, struct bc_variant *out, bool *found,
                     struct mlc_err *e);
int bc_variants_by_product_ids(struct bc_client *c, const int64_t *ids, size_t n,
                               struct bc_variant **out, size_t *n_out,
                               struct mlc_err *e);

/* The outcome of one item of a batch update, in input order. */
struct bc_item_result {
    int64_t id;        /* the item's id */
    int     status;    /* 200 saved; 207 saved with a warning; else the HTTP
                          status of its failure, 0 when no response came */
    int     code;      /* MLC_OK, or the MLC_E* code of the failure */
    char    msg[256];  /* BigCommerce's message, "" when saved cleanly */
};

/* PUT /v3/catalog/variants and /v3/catalog/products in batches. items is an
 * array of objects each with an integer "id" (MLC_EINVAL before any call
 * otherwise). *res (caller frees) gets one result per item whenever the
 * call got as far as sending. Returns MLC_OK when every item was saved
 * (200 or 207), else the first failure's code with a summary in e. */
int bc_variants_update(struct bc_client *c, const json_t *items,
                       struct bc_item_result **res, size_t *n_res, struct mlc_err *e);
int bc_products_update(struct bc_client *c, const json_t *items,
                       struct bc_item_result **res, size_t *n_res, struct mlc_err *e);

/* POST /v3/catalog/products. The product must carry a "sku": when the
 * outcome is unknown (timeout, connection lost, 5xx) the SKU is looked up
 * before anything is sent again, so a product is never created twice; at
 * most 3 POSTs. MLC_EEXIST on 409. out: release with bc_product_clear. */
int bc_product_create(struct bc_client *c, const json_t *product,
                      struct bc_product *out, struct mlc_err *e);

/* ---- SKU index ---------------------------------------------------------- */

struct bc_catalog_index;

int bc_catalog_index_new(struct bc_catalog_index **out, struct mlc_err *e);
void bc_catalog_index_free(struct bc_catalog_index *x);
/* Adds or replaces sku -> (product_id, variant_id). */
int bc_catalog_index_put(struct bc_catalog_index *x, const char *sku, int64_t product_id,
                         int64_t variant_id, struct mlc_err *e);
/* true when known; outputs may be NULL. */
bool bc_catalog_index_get(struct bc_catalog_index *x, const char *sku,
                          int64_t *product_id, int64_t *variant_id);
/* Forgets one SKU, or everything when sku is NULL. */
void bc_catalog_index_invalidate(struct bc_catalog_index *x, const char *sku);
size_t bc_catalog_index_size(struct bc_catalog_index *x);
/* Records every variant SKU of the products (and a product SKU with its
 * base variant). */
int bc_catalog_index_add_products(struct bc_catalog_index *x, const struct bc_product *v,
                                  size_t n, struct mlc_err *e);
/* Makes sure every SKU is in the index: SKUs not known yet are looked up as
 * product SKUs (sku:in with variants, batched), then the rest one by one as
 * variant SKUs. *n_missing: SKUs that exist nowhere in the catalog. */
int bc_catalog_resolve(struct bc_client *c, struct bc_catalog_index *x,
                       const char *const *skus, size_t n, size_t *n_missing,
                       struct mlc_err *e);

#endif
