/*
 * bc_decode: BigCommerce JSON (v2 orders, v3 transactions and refunds) into
 * the plain model of core/order.h.
 *
 * Money is read with jx_get_money at the exponent of the order's
 * transactional currency (default_currency_code), rounded half away from
 * zero (posting rules §4): v2 money is a 4 dp string, v3 money a number. An
 * unknown currency is not a decode error: the order decodes with exponent
 * ORDER_EXP_UNKNOWN and zero amounts, and the posting engine holds it.
 *
 * Errors name the record and the JSON path, e.g.
 *   "order 105: products[2].total_ex_tax: expected string, got object"
 * and use json.h's codes (MLC_EPROTO wrong type, MLC_ENOTFOUND missing
 * field, MLC_EINVAL malformed decimal or date, MLC_ENOMEM).
 *
 * On failure the output is left cleared (nothing to free); on success the
 * caller owns it (order_clear / order_refunds_free).
 */
#ifndef MLC_BC_BC_DECODE_H
#define MLC_BC_BC_DECODE_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "core/order.h"

/* One v2 order object (GET /v2/orders/{id} or an element of the list) into
 * *out (overwritten, not freed first). Products are filled when the object
 * embeds them: "products" as an array, or "consignments" (object or array
 * form, include=consignments.line_items) whose line_items are product
 * objects; a {url, resource} link leaves have_products false. "fees" as an
 * array (include=fees) fills fees; a link leaves have_fees false. */
int bcd_order(const json_t *obj, struct order *out, struct mlc_err *e);

/* A v2 order list (bare array; NULL for a 204) into a caller-owned array of
 * *n orders (free each with order_clear, then free the array, or use
 * bcd_orders_free). */
int bcd_orders(const json_t *arr, struct order **out, size_t *n, struct mlc_err *e);
void bcd_orders_free(struct order *orders, size_t n);

/* v2 GET /orders/{id}/products (bare array; NULL for a 204 = no products)
 * into o->products, replacing any; sets have_products. */
int bcd_products(const json_t *arr, struct order *o, struct mlc_err *e);

/* v2 GET /orders/{id}/fees (bare array; NULL for none) into o->fees. */
int bcd_fees(const json_t *arr, struct order *o, struct mlc_err *e);

/* v3 GET /orders/{id}/transactions ({"data": [...]}; NULL for a 204) into
 * o->txns, replacing any; sets have_txns. A transaction's currency is kept
 * as sent: the posting engine holds an order paid in another currency. */
int bcd_transactions(const json_t *root, struct order *o, struct mlc_err *e);

/* v3 catalog products ({"data": [{"id": P, "categories": [..]}, ...]}) onto
 * the order products with product_id P (category ids replaced). */
int bcd_product_categories(const json_t *root, struct order *o, struct mlc_err *e);

/* One v3 refund object of order o (amounts at o's exponent) into *out. Its
 * order_id must be o->id (MLC_EPROTO otherwise). */
int bcd_refund(const json_t *obj, const struct order *o, struct order_refund *out,
               struct mlc_err *e);

/* v3 refunds list ({"data": [...]}, or {"data": {...}} for one refund; NULL
 * for none) of order o into a caller-owned array (order_refunds_free). */
int bcd_refunds(const json_t *root, const struct order *o, struct order_refund **out,
                size_t *n, struct mlc_err *e);

#endif
