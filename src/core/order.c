/*
 * order: ownership helpers of the BigCommerce sale model (see order.h).
 */
#include "core/order.h"

#include <stdlib.h>
#include <string.h>

void order_product_clear(struct order_product *p)
{
    if (p == NULL)
        return;
    free(p->sku);
    free(p->name);
    free(p->type);
    free(p->category_ids);
    memset(p, 0, sizeof(*p));
}

static void fee_clear(struct order_fee *f)
{
    free(f->type);
    free(f->display_name);
}

static void txn_clear(struct order_txn *t)
{
    free(t->method);
    free(t->gateway);
    free(t->currency);
}

void order_products_clear(struct order *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_products; i++)
        order_product_clear(&o->products[i]);
    free(o->products);
    o->products = NULL;
    o->n_products = 0;
    o->have_products = false;
}

void order_fees_clear(struct order *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_fees; i++)
        fee_clear(&o->fees[i]);
    free(o->fees);
    o->fees = NULL;
    o->n_fees = 0;
    o->have_fees = false;
}

void order_txns_clear(struct order *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_txns; i++)
        txn_clear(&o->txns[i]);
    free(o->txns);
    o->txns = NULL;
    o->n_txns = 0;
    o->have_txns = false;
}

void order_clear(struct order *o)
{
    if (o == NULL)
        return;
    order_products_clear(o);
    order_fees_clear(o);
    order_txns_clear(o);
    free(o->payment_method);
    free(o->payment_provider_id);
    memset(o, 0, sizeof(*o));
}

void order_free(struct order *o)
{
    order_clear(o);
    free(o);
}

void order_refund_clear(struct order_refund *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_items; i++)
        free(r->items[i].type_name);
    for (size_t i = 0; i < r->n_payments; i++)
        free(r->payments[i].provider_id);
    free(r->items);
    free(r->payments);
    memset(r, 0, sizeof(*r));
}

void order_refunds_free(struct order_refund *r, size_t n)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        order_refund_clear(&r[i]);
    free(r);
}

const struct order_product *order_product_by_id(const struct order *o, int64_t id)
{
    for (size_t i = 0; o != NULL && i < o->n_products; i++)
        if (o->products[i].id == id)
            return &o->products[i];
    return NULL;
}

enum order_tender order_tender_of(const char *gateway, const char *method)
{
    if ((method != NULL && strcmp(method, "gift_certificate") == 0) ||
        (gateway != NULL && strcmp(gateway, "giftcertificate") == 0))
        return ORDER_TENDER_GIFT_CERTIFICATE;
    if ((method != NULL && strcmp(method, "store_credit") == 0) ||
        (gateway != NULL && strcmp(gateway, "storecredit") == 0))
        return ORDER_TENDER_STORE_CREDIT;
    return ORDER_TENDER_GATEWAY;
}

bool order_txn_is_settled(const struct order_txn *t)
{
    return t != NULL && t->status == ORDER_TXN_ST_OK &&
           (t->event == ORDER_TXN_EV_PURCHASE || t->event == ORDER_TXN_EV_CAPTURE);
}
