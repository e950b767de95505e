/*
 * fuzz_bc_decode: every BigCommerce body decoder on one JSON document
 * (src/bc/bc_decode.c, bc_catalog.c, bc_customers.c): v2 orders (one or a
 * list, with embedded products, consignments and fees), order products and
 * fees, v3 transactions, refunds and product categories, v3 customers and
 * addresses, catalog products and variants. Each decoder sees the document,
 * its array elements and its "data" member, so list and envelope forms of
 * the recordings all reach the element decoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_catalog.h"
#include "bc/bc_customers.h"
#include "bc/bc_decode.h"
#include "core/order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decoders that read a list or envelope and need an order. */
static void with_order(const json_t *j, struct order *o)
{
    struct mlc_err e = {0};
    struct order_refund *refs = NULL;
    size_t nref = 0;

    (void)bcd_products(j, o, &e);
    (void)bcd_fees(j, o, &e);
    (void)bcd_transactions(j, o, &e);
    (void)bcd_product_categories(j, o, &e);
    if (bcd_refunds(j, o, &refs, &nref, &e) == 0)
        order_refunds_free(refs, nref);
}

/* The single-object decoders. */
static void one(const json_t *j, struct order *fallback)
{
    struct mlc_err e = {0};
    struct order o;
    struct order_refund ref;
    struct bc_customer c;
    struct bc_address a;
    struct bc_product p;
    struct bc_variant v;

    memset(&o, 0, sizeof(o));
    if (bcd_order(j, &o, &e) == 0) {
        with_order(json_object_get(j, "products"), &o);
        order_clear(&o);
    }
    memset(&ref, 0, sizeof(ref));
    if (bcd_refund(j, fallback, &ref, &e) == 0)
        order_refund_clear(&ref);
    memset(&c, 0, sizeof(c));
    if (bc_customer_decode(j, &c, &e) == 0)
        bc_customer_clear(&c);
    memset(&a, 0, sizeof(a));
    if (bc_address_decode(j, &a, &e) == 0)
        bc_address_clear(&a);
    memset(&p, 0, sizeof(p));
    if (bc_product_decode(j, &p, &e) == 0)
        bc_product_clear(&p);
    memset(&v, 0, sizeof(v));
    if (bc_variant_decode(j, &v, &e) == 0)
        bc_variant_clear(&v);
}

static void each(const json_t *j, struct order *fallback)
{
    size_t i;
    json_t *x;

    one(j, fallback);
    if (json_is_array(j))
        json_array_foreach(j, i, x)
            one(x, fallback);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlc_err e = {0};
    struct order o, *list = NULL;
    size_t n = 0;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *d;

    if (root == NULL)
        return 0;
    /* A plausible order for the decoders that extend one: id 105 in USD, or
     * the decoded document itself when it is an order. */
    memset(&o, 0, sizeof(o));
    if (bcd_order(root, &o, &e) != 0) {
        memset(&o, 0, sizeof(o));
        o.id = 105;
        memcpy(o.currency, "USD", 4);
        o.exponent = 2;
    }
    if (bcd_orders(root, &list, &n, &e) == 0)
        bcd_orders_free(list, n);
    with_order(root, &o);
    each(root, &o);
    d = json_object_get(root, "data");
    if (d != NULL)
        each(d, &o);
    order_clear(&o);
    json_decref(root);
    return 0;
}
