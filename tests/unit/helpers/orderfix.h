/*
 * orderfix: the order fixtures of tests/unit/data/orders/ (real BigCommerce
 * bodies: the v2 order, then optional products, catalog categories,
 * transactions and refunds) decoded into core/order. A fixture that does
 * not decode fails the running test.
 */
#ifndef MLC_TEST_ORDERFIX_H
#define MLC_TEST_ORDERFIX_H

#include <stddef.h>

#include "core/order.h"

#define ORDERFIX_DIR "tests/unit/data/orders/"

struct orderfix {
    struct order         o;
    struct order_refund *refunds;
    size_t               n_refunds;
};

/* Decodes ORDERFIX_DIR name into *f (caller frees with orderfix_free). */
void orderfix_load(const char *name, struct orderfix *f);
void orderfix_free(struct orderfix *f);

#endif
