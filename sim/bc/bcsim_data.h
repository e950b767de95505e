/*
 * bcsim_data: the simulated store's model: orders (with products, shipping
 * addresses, coupons, fees, transactions), refunds, customers with
 * addresses, catalog products with variants, and webhook registrations.
 *
 * Each record keeps its API representation as a jansson object, built once
 * from the seed (or a control call) with all money computed in int64_t
 * minor units at scale 4 and formatted only at the edge; the few fields the
 * API filters and sorts on are cached as C fields and kept in sync. Records
 * live in id-ordered vectors (ids only grow), so lookups are binary searches.
 *
 * Not thread-safe: callers hold the simulator's lock. Functions taking a
 * struct bcsim may fire webhooks (bcsim_hooks_emit).
 */
#ifndef MLC_SIM_BCSIM_DATA_H
#define MLC_SIM_BCSIM_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bcsim;

/* A growable array of owned record pointers, ascending by id. Every record
 * type starts with its int64_t id, which the binary search reads. */
struct bcsim_vec {
    void  **v;
    size_t  n, cap;
};

struct bcsim_order {
    int64_t id;
    int64_t customer_id;
    int64_t created, modified;   /* Unix s */
    int     status_id;
    int     exponent;            /* of the transactional currency */
    char    currency[4];
    json_t *v2;                  /* the v2 order (no includes) */
    json_t *products;            /* v2 order products */
    json_t *shipping;            /* v2 shipping addresses */
    json_t *coupons;
    json_t *fees;
    json_t *transactions;        /* v3 transactions */
};

struct bcsim_refund {
    int64_t id, order_id, created;
    json_t *v3;
};

struct bcsim_customer {
    int64_t id, created, modified;
    json_t *v3;          /* without "addresses" */
    json_t *addresses;   /* v3 customer addresses */
};

struct bcsim_product {
    int64_t id, created, modified;
    json_t *v3;          /* without "variants" */
    json_t *variants;
};

struct bcsim_hook {
    int64_t id;
    json_t *v3;          /* id, client_id, store_hash, scope, destination, headers, is_active, created_at, updated_at */
    bool    deactivated; /* turned off by failed deliveries */
};

struct bcsim_data {
    struct bcsim_vec orders, refunds, customers, products, hooks;
    json_t *admin_emails;
    int64_t next_order, next_refund, next_customer, next_address;
    int64_t next_product, next_variant, next_hook, next_item, next_txn;
};

void bcsim_data_init(struct bcsim_data *d);
void bcsim_data_free(struct bcsim_data *d);
/* Loads customers, products, orders, refunds and hooks from seed (the
 * simulator's section; NULL = nothing). Fires no webhooks. */
int bcsim_data_load(struct bcsim *s, const json_t *seed, struct mlc_err *e);

/* Lookups by id; NULL when absent. */
struct bcsim_order *bcsim_order_find(struct bcsim_data *d, int64_t id);
struct bcsim_customer *bcsim_customer_find(struct bcsim_data *d, int64_t id);
struct bcsim_product *bcsim_product_find(struct bcsim_data *d, int64_t id);
struct bcsim_refund *bcsim_refund_find(struct bcsim_data *d, int64_t id);
struct bcsim_hook *bcsim_hook_find(struct bcsim_data *d, int64_t id);
/* The variant with this id across all products; *owner receives its product. */
json_t *bcsim_variant_find(struct bcsim_data *d, int64_t id,
                           struct bcsim_product **owner);

/* Status names: "Awaiting Fulfillment" for 11; NULL outside 0..14. */
const char *bcsim_status_name(int id);
const char *bcsim_status_desc(int id);

/* Creates an order from the simulator's compact order form (see
 * docs/simulators-bigcommerce.md), computing every total. fire: emit
 * store/order/created. *out is owned by the store. */
int bcsim_order_create(struct bcsim *s, const json_t *in, bool fire,
                       struct bcsim_order **out, struct mlc_err *e);
/* Applies a change {"status_id", "payment_status", "customer_message",
 * "staff_notes", "billing_address": {...}}: touches date_modified, fires
 * store/order/updated and, on a status change, store/order/statusUpdated. */
int bcsim_order_change(struct bcsim *s, struct bcsim_order *o,
                       const json_t *in, struct mlc_err *e);
/* Records a refund {"order_id", "items": [...], "payments": [...], ...};
 * fires store/order/refund/created. */
int bcsim_refund_create(struct bcsim *s, const json_t *in, bool fire,
                        struct bcsim_refund **out, struct mlc_err *e);
/* Customers: create from a v3-like object (addresses inside), or change. */
int bcsim_customer_create(struct bcsim *s, const json_t *in, bool fire,
                          struct bcsim_customer **out, struct mlc_err *e);
int bcsim_customer_change(struct bcsim *s, struct bcsim_customer *c,
                          const json_t *in, struct mlc_err *e);

/* Catalog. Creating checks the POST rules (name, type, weight, price;
 * unique name and SKU): MLC_EINVAL -> 422, MLC_EEXIST -> 409. api: the
 * body came from the API (JSON types are strict, webhooks fire); the seed
 * may write amounts as decimal strings. */
int bcsim_product_create(struct bcsim *s, const json_t *in, bool api,
                         struct bcsim_product **out, struct mlc_err *e);
/* Applies a PUT body to p, all or nothing, with the same codes. */
int bcsim_product_update(struct bcsim *s, struct bcsim_product *p,
                         const json_t *in, bool api, struct mlc_err *e);
/* Applies a variant PUT item (by its "id"), all or nothing. */
int bcsim_variant_update(struct bcsim *s, const json_t *in,
                         struct mlc_err *e);
/* Registers a hook from {"scope", "destination", "is_active", "headers"}:
 * MLC_EINVAL (422) when a field is missing or malformed, MLC_EEXIST when
 * the scope and destination are already registered. */
int bcsim_hook_create(struct bcsim *s, const json_t *in,
                      struct bcsim_hook **out, struct mlc_err *e);
/* Removes and frees a hook. */
void bcsim_hook_delete(struct bcsim_data *d, int64_t id);

/* A product's API object, with variants when asked (new reference). */
json_t *bcsim_product_render(const struct bcsim_product *p, bool variants);

#endif
