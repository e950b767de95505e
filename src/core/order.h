/*
 * order: a BigCommerce sale as the connector sees it, in plain C.
 *
 * This is the data model between the BigCommerce decoders (bc/bc_decode) and
 * the posting engine (sync/posting): an order header, its products and fees,
 * its v3 transactions, and v3 refunds. Nothing here talks to the network.
 *
 * Money: every amount is an int64_t in minor units of the order's
 * transactional currency (default_currency_code) at that currency's ISO 4217
 * exponent, already rounded from the source value (4 dp string in v2, a number
 * in v3) half away from zero. When the currency is unknown, exponent is
 * ORDER_EXP_UNKNOWN and every amount is 0: the posting engine holds such an
 * order instead of guessing its decimals.
 *
 * Strings are owned (malloc'd, never NULL once decoded: absent is ""), and
 * freed by order_clear / order_refund_clear. Arrays are owned likewise.
 *
 * Ownership: a struct order lives wherever the caller puts it (stack or
 * heap). order_clear frees what it owns and zeroes it; order_free also frees
 * a heap struct. Both are NULL-safe. The same for refunds.
 */
#ifndef MLC_CORE_ORDER_H
#define MLC_CORE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Exponent of an order whose currency code is not in the ISO 4217 table. */
#define ORDER_EXP_UNKNOWN (-1)

/* Longest currency code kept (ISO codes are 3 letters; more is truncated). */
#define ORDER_CUR_SIZE 8

/* BigCommerce order status ids used by the posting rules. */
#define ORDER_STATUS_REFUNDED           4
#define ORDER_STATUS_CANCELLED          5
#define ORDER_STATUS_PARTIALLY_REFUNDED 14

/* One order product (v2 /orders/{id}/products, or a consignment line item). */
struct order_product {
    int64_t  id;             /* order-product id: a refund item's item_id */
    int64_t  product_id;     /* catalog product id (0 for a custom product) */
    int64_t  variant_id;
    char    *sku;            /* may be "" */
    char    *name;
    char    *type;           /* physical | digital | giftcertificate | ... */
    int64_t  quantity;
    int64_t  price_ex_tax;   /* per unit */
    int64_t  price_inc_tax;
    int64_t  total_ex_tax;   /* line total before order-level discounts */
    int64_t  total_inc_tax;
    int64_t  total_tax;
    int64_t  parent_order_product_id; /* 0 when none (bundles) */
    int64_t *category_ids;   /* catalog categories, when the caller loaded them */
    size_t   n_category_ids;
};

/* One order fee (v2 /orders/{id}/fees or include=fees). */
struct order_fee {
    int64_t id;
    char   *type;
    char   *display_name;
    int64_t cost_ex_tax;
    int64_t cost_inc_tax;
    int64_t cost_tax;
};

enum order_txn_event {
    ORDER_TXN_EV_OTHER = 0,  /* a value this build does not know */
    ORDER_TXN_EV_PURCHASE,
    ORDER_TXN_EV_AUTHORIZATION,
    ORDER_TXN_EV_CAPTURE,
    ORDER_TXN_EV_REFUND,
    ORDER_TXN_EV_VOID,
    ORDER_TXN_EV_PENDING,
    ORDER_TXN_EV_SETTLED
};

enum order_txn_status {
    ORDER_TXN_ST_OTHER = 0,  /* absent or unknown: not counted as money moved */
    ORDER_TXN_ST_OK,
    ORDER_TXN_ST_ERROR
};

/* What kind of tender a transaction or refund payment is. */
enum order_tender {
    ORDER_TENDER_GATEWAY = 0, /* card, wallet, offline, custom: a clearing account */
    ORDER_TENDER_GIFT_CERTIFICATE,
    ORDER_TENDER_STORE_CREDIT
};

/* One v3 transaction (GET /v3/orders/{id}/transactions, data[]). */
struct order_txn {
    int64_t               id;
    enum order_txn_event  event;
    enum order_txn_status status;
    char                 *method;   /* credit_card, gift_certificate, store_credit, custom, ... */
    char                 *gateway;  /* stripe, braintree, giftcertificate, storecredit, custom, ... */
    char                 *currency; /* as sent, "" when absent */
    int64_t               amount;
    bool                  offline;  /* an "offline" object was present */
    bool                  test;
    int64_t               date_created; /* Unix seconds, 0 when absent */
    enum order_tender     tender;
};

enum order_refund_item_type {
    ORDER_RITEM_OTHER = 0,   /* unknown type: the engine holds the refund */
    ORDER_RITEM_PRODUCT,
    ORDER_RITEM_SHIPPING,
    ORDER_RITEM_HANDLING,
    ORDER_RITEM_GIFT_WRAPPING,
    ORDER_RITEM_ORDER,
    ORDER_RITEM_FEE
};

struct order_refund_item {
    enum order_refund_item_type type;
    char    *type_name;         /* as sent, for messages */
    int64_t  item_id;           /* order product, address or order id by type */
    int64_t  quantity;          /* PRODUCT only, else 0 */
    bool     has_requested;     /* requested_amount was present and not null */
    int64_t  requested_amount;
};

struct order_refund_payment {
    int64_t           id;
    char             *provider_id;  /* gateway id: stripe, storecredit, custom, ... */
    int64_t           amount;
    bool              offline;
    bool              declined;
    enum order_tender tender;
};

/* One v3 refund (payment_actions/refunds data[]). Amounts at the exponent of
 * the order it belongs to (the caller passes it to the decoder). */
struct order_refund {
    int64_t  id;
    int64_t  order_id;
    int64_t  created;           /* Unix seconds, 0 when blank */
    int64_t  total_amount;
    int64_t  total_tax;         /* may be negative */
    struct order_refund_item    *items;
    size_t                       n_items;
    struct order_refund_payment *payments;
    size_t                       n_payments;
};

struct order {
    int64_t id;
    int64_t status_id;
    int64_t customer_id;        /* 0 = guest */
    int64_t channel_id;         /* default 1 */
    char    currency[ORDER_CUR_SIZE]; /* default_currency_code: transactional */
    int     exponent;           /* of currency, or ORDER_EXP_UNKNOWN */
    char   *payment_method;     /* display name, "" when none */
    char   *payment_provider_id;
    int64_t date_created;       /* Unix seconds */
    int64_t date_modified;
    bool    is_tax_inclusive;   /* is_tax_inclusive_pricing: *_inc_tax are the actual values */

    int64_t subtotal_ex_tax, subtotal_inc_tax, subtotal_tax;
    int64_t shipping_cost_ex_tax, shipping_cost_inc_tax, shipping_cost_tax;
    int64_t handling_cost_ex_tax, handling_cost_inc_tax, handling_cost_tax;
    int64_t wrapping_cost_ex_tax, wrapping_cost_inc_tax, wrapping_cost_tax;
    int64_t total_ex_tax, total_inc_tax, total_tax;
    int64_t discount_amount;    /* manual discount */
    int64_t coupon_discount;
    int64_t store_credit_amount;
    int64_t gift_certificate_amount;

    /* Sub-resources: the have_ flags say they were loaded (possibly empty),
     * so a sale is never built from an order whose products were a link. */
    bool                  have_products;
    struct order_product *products;
    size_t                n_products;
    bool                  have_fees;
    struct order_fee     *fees;
    size_t                n_fees;
    bool                  have_txns;
    struct order_txn     *txns;
    size_t                n_txns;
};

/* Frees what o owns and zeroes it (NULL-safe). */
void order_clear(struct order *o);
/* order_clear, then free(o) (NULL-safe). */
void order_free(struct order *o);
void order_products_clear(struct order *o);
/* Frees one product's strings and categories and zeroes it (NULL-safe). */
void order_product_clear(struct order_product *p);
void order_fees_clear(struct order *o);
void order_txns_clear(struct order *o);

void order_refund_clear(struct order_refund *r);
/* Clears and frees an array of n refunds (NULL-safe). */
void order_refunds_free(struct order_refund *r, size_t n);

/* The order product with order-product id `id`, or NULL. */
const struct order_product *order_product_by_id(const struct order *o, int64_t id);

/* Tender of a transaction or refund payment from its gateway/provider id
 * and method (method may be NULL): gift certificate and store credit are
 * liabilities of the store, everything else goes through a clearing account. */
enum order_tender order_tender_of(const char *gateway, const char *method);

/* True for a transaction that moved money into the store: a successful
 * (status ok) purchase or capture (§4 payments). */
bool order_txn_is_settled(const struct order_txn *t);

#endif
