/* Unit tests: bc/bc_decode (v2 orders, products, consignments, fees; v3
 * transactions, refunds; catalog categories) into core/order.h.
 * Fixtures in tests/unit/data/orders/; run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_decode.h"
#include "core/json.h"
#include "core/order.h"

#define DATA "tests/unit/data/orders/"

static json_t *load(const char *name)
{
    char path[256];
    json_error_t je;
    json_t *root;

    snprintf(path, sizeof(path), DATA "%s", name);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    return root;
}

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);

    if (j == NULL)
        fail_msg("test JSON: %s (line %d)", je.text, je.line);
    return j;
}

static void ok(int rc, const struct mlc_err *e)
{
    if (rc != MLC_OK)
        fail_msg("%s", e->msg);
}

/* A minimal v2 order; %s is spliced in before the closing brace. */
static json_t *mini_order(const char *currency, const char *extra)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"id\": 7, \"status_id\": 11, \"default_currency_code\": \"%s\","
             " \"date_created\": \"Tue, 05 Mar 2024 23:30:00 +0000\","
             " \"date_modified\": \"2024-03-06T10:00:00Z\","
             " \"shipping_cost_ex_tax\": \"0.0000\", \"handling_cost_ex_tax\": \"0.0000\","
             " \"wrapping_cost_ex_tax\": \"0.0000\", \"total_ex_tax\": \"10.0000\","
             " \"total_inc_tax\": \"10.5050\", \"total_tax\": \"0.5050\","
             " \"discount_amount\": \"0.0000\", \"coupon_discount\": \"0.0000\"%s}",
             currency, extra);
    return parse(text);
}

static const char PRODUCT[] =
    "{\"id\": %d, \"product_id\": 77, \"sku\": \"SKU-A\", \"quantity\": 1,"
    " \"price_ex_tax\": \"10.0000\", \"total_ex_tax\": \"%s\", \"total_inc_tax\": \"10.5050\"}";

static void test_order_header_and_products_link(void **state)
{
    json_t *root = load("o101_every_line.json");
    struct order o;
    struct mlc_err e;

    (void)state;
    ok(bcd_order(json_object_get(root, "order"), &o, &e), &e);
    assert_int_equal(o.id, 101);
    assert_int_equal(o.status_id, 11);
    assert_int_equal(o.customer_id, 11);
    assert_int_equal(o.channel_id, 1);
    assert_string_equal(o.currency, "USD");
    assert_int_equal(o.exponent, 2);
    assert_string_equal(o.payment_method, "Credit Card");
    assert_int_equal(o.date_created, 1709681400);
    assert_int_equal(o.date_modified, 1709719200);
    assert_false(o.is_tax_inclusive);
    assert_int_equal(o.total_inc_tax, 10770);   /* 107.7034 */
    assert_int_equal(o.total_ex_tax, 9950);     /* 99.4950: half away */
    assert_int_equal(o.total_tax, 821);         /* 8.2084 */
    assert_int_equal(o.subtotal_ex_tax, 10000); /* 99.9950 */
    assert_int_equal(o.shipping_cost_ex_tax, 800);
    assert_int_equal(o.handling_cost_ex_tax, 200);
    assert_int_equal(o.wrapping_cost_ex_tax, 150);
    assert_int_equal(o.discount_amount, 500);
    assert_int_equal(o.coupon_discount, 1000);
    /* products are a {url, resource} link: not loaded */
    assert_false(o.have_products);
    assert_int_equal(o.n_products, 0);
    /* fees embedded (include=fees) */
    assert_true(o.have_fees);
    assert_int_equal(o.n_fees, 1);
    assert_int_equal(o.fees[0].cost_ex_tax, 300);
    assert_string_equal(o.fees[0].display_name, "Small order fee");
    assert_false(o.have_txns);

    ok(bcd_products(json_object_get(root, "products"), &o, &e), &e);
    assert_true(o.have_products);
    assert_int_equal(o.n_products, 3);
    assert_int_equal(o.products[0].id, 1);
    assert_int_equal(o.products[0].product_id, 77);
    assert_int_equal(o.products[0].variant_id, 770);
    assert_string_equal(o.products[0].sku, "SKU-A");
    assert_string_equal(o.products[0].name, "Blue mug");
    assert_int_equal(o.products[0].quantity, 2);
    assert_int_equal(o.products[0].price_ex_tax, 2500);
    assert_int_equal(o.products[0].total_inc_tax, 5413);  /* 54.1250 */
    assert_int_equal(o.products[2].total_ex_tax, 2000);   /* 19.9950 */
    assert_int_equal(o.products[2].parent_order_product_id, 0);
    assert_ptr_equal(order_product_by_id(&o, 2), &o.products[1]);
    assert_null(order_product_by_id(&o, 99));

    /* catalog categories by product_id */
    ok(bcd_product_categories(json_object_get(root, "catalog"), &o, &e), &e);
    assert_int_equal(o.products[1].n_category_ids, 2);
    assert_int_equal(o.products[1].category_ids[0], 40);
    assert_int_equal(o.products[1].category_ids[1], 23);
    assert_int_equal(o.products[0].category_ids[0], 18);

    /* a 204 (no body) is no products */
    ok(bcd_products(NULL, &o, &e), &e);
    assert_true(o.have_products);
    assert_int_equal(o.n_products, 0);
    order_clear(&o);
    order_clear(&o);   /* idempotent */
    json_decref(root);
}

/* include=consignments.line_items with consignment_structure=object. */
static void test_consignments_object(void **state)
{
    json_t *root = load("o102_tax_inclusive_gift_certificate.json");
    struct order o;
    struct mlc_err e;

    (void)state;
    ok(bcd_order(json_object_get(root, "order"), &o, &e), &e);
    assert_true(o.is_tax_inclusive);
    assert_int_equal(o.channel_id, 2);
    assert_true(o.have_products);
    assert_int_equal(o.n_products, 3);
    assert_int_equal(o.products[0].id, 21);   /* shipping consignment */
    assert_int_equal(o.products[1].id, 22);
    assert_int_equal(o.products[2].id, 23);   /* download consignment */
    assert_int_equal(o.products[2].total_ex_tax, 908);
    assert_int_equal(o.gift_certificate_amount, 2000);
    assert_true(o.have_fees);
    assert_int_equal(o.n_fees, 0);
    order_clear(&o);
    json_decref(root);
}

/* The array form, a product listed twice (kept once), links, conflicts. */
static void test_consignments_forms(void **state)
{
    char p1[512], p1b[512], extra[2048];
    struct order o;
    struct mlc_err e;
    json_t *j;

    (void)state;
    snprintf(p1, sizeof(p1), PRODUCT, 5, "10.0000");
    snprintf(p1b, sizeof(p1b), PRODUCT, 5, "11.0000");
    snprintf(extra, sizeof(extra), ", \"consignments\": [{\"shipping\": [{\"line_items\": [%s]}],"
             " \"pickups\": [{\"line_items\": [%s]}], \"downloads\": [],"
             " \"email\": {\"gift_certificates\": []}}]", p1, p1);
    j = mini_order("USD", extra);
    ok(bcd_order(j, &o, &e), &e);
    assert_true(o.have_products);
    assert_int_equal(o.n_products, 1);
    assert_int_equal(o.total_inc_tax, 1051);   /* 10.5050 half away */
    assert_false(o.have_fees);                 /* not included */
    order_clear(&o);
    json_decref(j);

    /* include=consignments without line items: links, so not loaded */
    j = mini_order("USD", ", \"consignments\": {\"shipping\": [{\"line_items\": [{\"url\": "
                   "\"https://x/v2/orders/7/products/5\", \"resource\": \"/orders/7/products/5\"}]}],"
                   " \"downloads\": [{\"line_items\": {\"url\": \"u\", \"resource\": \"r\"}}]}");
    ok(bcd_order(j, &o, &e), &e);
    assert_false(o.have_products);
    order_clear(&o);
    json_decref(j);

    /* the same order product with two different amounts */
    snprintf(extra, sizeof(extra), ", \"consignments\": {\"shipping\": [{\"line_items\": [%s]},"
             " {\"line_items\": [%s]}]}", p1, p1b);
    j = mini_order("USD", extra);
    assert_int_equal(bcd_order(j, &o, &e), MLC_EPROTO);
    assert_string_equal(e.msg, "order 7: consignments.shipping[1].line_items[0].id: order "
                        "product 5 listed twice with different amounts");
    assert_int_equal(o.n_products, 0);
    json_decref(j);

    /* a consignment group that is not an array */
    j = mini_order("USD", ", \"consignments\": {\"shipping\": 3}");
    assert_int_equal(bcd_order(j, &o, &e), MLC_EPROTO);
    assert_string_equal(e.msg, "order 7: consignments.shipping: expected array, got number");
    json_decref(j);
}

static void test_currencies(void **state)
{
    json_t *root;
    struct order o;
    struct mlc_err e;

    (void)state;
    root = load("o106_jpy.json");
    ok(bcd_order(json_object_get(root, "order"), &o, &e), &e);
    ok(bcd_products(json_object_get(root, "products"), &o, &e), &e);
    assert_int_equal(o.exponent, 0);
    assert_int_equal(o.shipping_cost_ex_tax, 500);   /* 499.5000 half away */
    assert_int_equal(o.total_inc_tax, 3800);
    assert_int_equal(o.products[0].total_ex_tax, 3000);
    order_clear(&o);
    json_decref(root);

    root = load("o107_kwd.json");
    ok(bcd_order(json_object_get(root, "order"), &o, &e), &e);
    ok(bcd_products(json_object_get(root, "products"), &o, &e), &e);
    ok(bcd_transactions(json_object_get(root, "transactions"), &o, &e), &e);
    assert_int_equal(o.exponent, 3);
    assert_int_equal(o.products[0].total_ex_tax, 12346);  /* 12.3455 */
    assert_int_equal(o.total_tax, 617);                   /* 0.6173 */
    assert_int_equal(o.txns[0].amount, 12963);            /* 12.963 */
    order_clear(&o);
    json_decref(root);

    /* an unknown currency decodes with no amounts: the engine holds it */
    root = mini_order("XBT", "");
    ok(bcd_order(root, &o, &e), &e);
    assert_string_equal(o.currency, "XBT");
    assert_int_equal(o.exponent, ORDER_EXP_UNKNOWN);
    assert_int_equal(o.total_inc_tax, 0);
    order_clear(&o);
    json_decref(root);
}

static void test_order_errors(void **state)
{
    char prods[1024], p1[512], p2[512];
    struct order o;
    struct mlc_err e;
    json_t *j, *arr;

    (void)state;
    j = parse("{\"id\": 7, \"status_id\": 11}");
    assert_int_equal(bcd_order(j, &o, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "order 7: default_currency_code"));
    json_decref(j);

    j = parse("{\"status_id\": 11}");
    assert_int_equal(bcd_order(j, &o, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "order: id"));
    json_decref(j);

    j = mini_order("USD", "");
    json_object_set_new(j, "date_created", json_string("yesterday"));
    assert_int_equal(bcd_order(j, &o, &e), MLC_EINVAL);
    assert_string_equal(e.msg, "order 7: date_created: not an RFC 2822 or ISO 8601 date: "
                        "yesterday");
    json_object_set_new(j, "date_created", json_string("Tue, 05 Mar 2024 23:30:00 +0000"));
    json_object_set_new(j, "total_tax", json_string("1,00"));
    assert_int_equal(bcd_order(j, &o, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "order 7: total_tax"));
    json_object_del(j, "handling_cost_ex_tax");
    json_object_set_new(j, "total_tax", json_string("1.00"));
    assert_int_equal(bcd_order(j, &o, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "order 7: handling_cost_ex_tax"));
    json_decref(j);

    /* a bad product names the order, the list and the element path */
    j = mini_order("USD", "");
    ok(bcd_order(j, &o, &e), &e);
    snprintf(p1, sizeof(p1), PRODUCT, 1, "10.0000");
    snprintf(p2, sizeof(p2), "{\"id\": 2, \"quantity\": 1, \"total_ex_tax\": {},"
             " \"total_inc_tax\": \"1.0000\"}");
    snprintf(prods, sizeof(prods), "[%s, %s]", p1, p2);
    arr = parse(prods);
    assert_int_equal(bcd_products(arr, &o, &e), MLC_EPROTO);
    assert_non_null(strstr(e.msg, "order 7 products: [1].total_ex_tax: "));
    assert_false(o.have_products);
    assert_int_equal(bcd_products(j, &o, &e), MLC_EPROTO);   /* not an array */
    order_clear(&o);
    json_decref(arr);
    json_decref(j);
}

static void test_orders_list_and_fees(void **state)
{
    struct order *v = NULL, o;
    struct mlc_err e;
    json_t *one = mini_order("USD", ""), *arr, *fees;
    size_t n = 9;

    (void)state;
    arr = json_array();
    json_array_append(arr, one);
    json_array_append_new(arr, json_deep_copy(one));
    json_object_set_new(json_array_get(arr, 1), "id", json_integer(8));
    ok(bcd_orders(arr, &v, &n, &e), &e);
    assert_int_equal(n, 2);
    assert_int_equal(v[1].id, 8);
    bcd_orders_free(v, n);
    json_object_del(json_array_get(arr, 1), "total_inc_tax");
    assert_int_equal(bcd_orders(arr, &v, &n, &e), MLC_ENOTFOUND);
    assert_null(v);
    assert_non_null(strstr(e.msg, "orders[1]: order 8: total_inc_tax"));
    ok(bcd_orders(NULL, &v, &n, &e), &e);    /* 204 */
    assert_int_equal(n, 0);

    /* /fees: money as strings or numbers */
    ok(bcd_order(one, &o, &e), &e);
    fees = parse("[{\"id\": 1, \"type\": \"custom_fee\", \"display_name_customer\": \"A Fee\","
                 " \"cost_ex_tax\": 12.3, \"cost_inc_tax\": \"13.5300\", \"cost_tax\": 1.23}]");
    ok(bcd_fees(fees, &o, &e), &e);
    assert_true(o.have_fees);
    assert_int_equal(o.n_fees, 1);
    assert_int_equal(o.fees[0].cost_ex_tax, 1230);
    assert_int_equal(o.fees[0].cost_inc_tax, 1353);
    assert_string_equal(o.fees[0].display_name, "A Fee");
    order_clear(&o);
    json_decref(fees);
    json_decref(arr);
    json_decref(one);
}

static void test_transactions(void **state)
{
    json_t *r1 = load("o101_every_line.json"), *r2 = load("o102_tax_inclusive_gift_certificate.json");
    json_t *r3 = load("o103_store_credit.json");
    struct order o;
    struct mlc_err e;

    (void)state;
    ok(bcd_order(json_object_get(r1, "order"), &o, &e), &e);
    ok(bcd_transactions(json_object_get(r1, "transactions"), &o, &e), &e);
    assert_true(o.have_txns);
    assert_int_equal(o.n_txns, 3);
    assert_int_equal(o.txns[0].event, ORDER_TXN_EV_AUTHORIZATION);
    assert_int_equal(o.txns[1].event, ORDER_TXN_EV_PURCHASE);
    assert_int_equal(o.txns[1].status, ORDER_TXN_ST_ERROR);
    assert_int_equal(o.txns[2].event, ORDER_TXN_EV_CAPTURE);
    assert_int_equal(o.txns[2].status, ORDER_TXN_ST_OK);
    assert_int_equal(o.txns[2].amount, 10770);
    assert_int_equal(o.txns[2].id, 9003);
    assert_string_equal(o.txns[2].gateway, "stripe");
    assert_string_equal(o.txns[2].currency, "USD");
    assert_int_equal(o.txns[2].tender, ORDER_TENDER_GATEWAY);
    assert_false(order_txn_is_settled(&o.txns[0]));
    assert_false(order_txn_is_settled(&o.txns[1]));
    assert_true(order_txn_is_settled(&o.txns[2]));
    /* a 204: loaded, none */
    ok(bcd_transactions(NULL, &o, &e), &e);
    assert_true(o.have_txns);
    assert_int_equal(o.n_txns, 0);
    order_clear(&o);

    ok(bcd_order(json_object_get(r2, "order"), &o, &e), &e);
    ok(bcd_transactions(json_object_get(r2, "transactions"), &o, &e), &e);
    assert_int_equal(o.txns[0].tender, ORDER_TENDER_GIFT_CERTIFICATE);
    assert_int_equal(o.txns[1].amount, 8899);
    order_clear(&o);

    ok(bcd_order(json_object_get(r3, "order"), &o, &e), &e);
    ok(bcd_transactions(json_object_get(r3, "transactions"), &o, &e), &e);
    assert_int_equal(o.txns[0].tender, ORDER_TENDER_STORE_CREDIT);
    order_clear(&o);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
}

static void test_transaction_shapes(void **state)
{
    json_t *j = mini_order("USD", ""), *t;
    struct order o;
    struct mlc_err e;

    (void)state;
    ok(bcd_order(j, &o, &e), &e);
    t = parse("{\"data\": [{\"id\": 1, \"event\": \"purchase\", \"method\": \"offline\","
              " \"amount\": 10.51, \"currency\": \"USD\", \"gateway\": \"custom\","
              " \"status\": \"ok\", \"offline\": {\"display_name\": \"Cheque\"}},"
              " {\"id\": 2, \"event\": \"teleport\", \"method\": \"x\", \"amount\": 1,"
              " \"gateway\": \"g\"}], \"meta\": {}}");
    ok(bcd_transactions(t, &o, &e), &e);
    assert_true(o.txns[0].offline);
    assert_int_equal(o.txns[0].amount, 1051);
    assert_int_equal(o.txns[1].event, ORDER_TXN_EV_OTHER);
    assert_int_equal(o.txns[1].status, ORDER_TXN_ST_OTHER);
    assert_string_equal(o.txns[1].currency, "");
    json_decref(t);
    t = parse("{\"data\": [{\"id\": 1, \"event\": \"purchase\", \"amount\": \"ten\"}]}");
    assert_int_equal(bcd_transactions(t, &o, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "order 7 transactions: data[0].amount"));
    assert_false(o.have_txns);
    order_clear(&o);
    json_decref(t);
    json_decref(j);
}

static void test_refunds(void **state)
{
    json_t *r1 = load("o101_every_line.json"), *r3 = load("o103_store_credit.json");
    json_t *r4 = load("o104_offline.json");
    struct order_refund *v = NULL;
    struct order o;
    struct mlc_err e;
    size_t n = 0;

    (void)state;
    ok(bcd_order(json_object_get(r1, "order"), &o, &e), &e);
    ok(bcd_refunds(json_object_get(r1, "refunds"), &o, &v, &n, &e), &e);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, 1);
    assert_int_equal(v[0].order_id, 101);
    assert_int_equal(v[0].created, 1710079200);
    assert_int_equal(v[0].total_amount, 1000);
    assert_int_equal(v[0].total_tax, 77);
    assert_int_equal(v[0].n_items, 3);
    assert_int_equal(v[0].items[0].type, ORDER_RITEM_PRODUCT);
    assert_string_equal(v[0].items[0].type_name, "PRODUCT");
    assert_int_equal(v[0].items[0].item_id, 1);
    assert_int_equal(v[0].items[0].quantity, 1);
    assert_true(v[0].items[0].has_requested);
    assert_int_equal(v[0].items[0].requested_amount, 100);
    assert_int_equal(v[0].n_payments, 1);
    assert_string_equal(v[0].payments[0].provider_id, "stripe");
    assert_int_equal(v[0].payments[0].amount, 1000);
    assert_int_equal(v[1].items[0].type, ORDER_RITEM_SHIPPING);
    order_refunds_free(v, n);

    /* a single refund: {"data": {...}} */
    {
        json_t *one = json_pack("{s:O}", "data",
                                json_array_get(json_object_get(json_object_get(r1, "refunds"),
                                                               "data"), 1));
        ok(bcd_refunds(one, &o, &v, &n, &e), &e);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].id, 2);
        order_refunds_free(v, n);
        /* a refund of another order */
        struct order other = { .id = 5, .exponent = 2 };
        struct order_refund rf;
        assert_int_equal(bcd_refund(json_object_get(one, "data"), &other, &rf, &e), MLC_EPROTO);
        assert_int_equal(rf.n_items, 0);
        json_decref(one);
    }
    ok(bcd_refunds(NULL, &o, &v, &n, &e), &e);
    assert_int_equal(n, 0);
    order_clear(&o);

    ok(bcd_order(json_object_get(r3, "order"), &o, &e), &e);
    ok(bcd_refunds(json_object_get(r3, "refunds"), &o, &v, &n, &e), &e);
    assert_true(v[0].payments[0].declined);
    assert_false(v[0].payments[0].offline);
    assert_true(v[0].payments[1].offline);
    assert_int_equal(v[0].payments[1].tender, ORDER_TENDER_STORE_CREDIT);
    order_refunds_free(v, n);
    order_clear(&o);

    ok(bcd_order(json_object_get(r4, "order"), &o, &e), &e);
    ok(bcd_refunds(json_object_get(r4, "refunds"), &o, &v, &n, &e), &e);
    assert_false(v[0].items[0].has_requested);    /* requested_amount: null */
    assert_int_equal(v[0].n_payments, 0);
    order_refunds_free(v, n);
    order_clear(&o);
    json_decref(r1);
    json_decref(r3);
    json_decref(r4);
}

static void test_refund_errors(void **state)
{
    json_t *j = mini_order("USD", ""), *r;
    struct order_refund rf, *v = NULL;
    struct order o;
    struct mlc_err e;
    size_t n = 0;

    (void)state;
    ok(bcd_order(j, &o, &e), &e);
    r = parse("{\"id\": 3, \"order_id\": 8, \"total_amount\": 1}");
    assert_int_equal(bcd_refund(r, &o, &rf, &e), MLC_EPROTO);
    assert_string_equal(e.msg, "order 7 refund: order_id: refund 3 belongs to order 8, not 7");
    json_decref(r);
    r = parse("{\"data\": [{\"id\": 3, \"order_id\": 7, \"total_amount\": 1,"
              " \"items\": [{\"item_type\": \"PRODUCT\", \"item_id\": 1,"
              " \"requested_amount\": \"1.00\"}], \"payments\": [{\"amount\": 1}]}]}");
    assert_int_equal(bcd_refunds(r, &o, &v, &n, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "order 7 refunds: data[0].payments[0].provider_id"));
    assert_null(v);
    assert_int_equal(n, 0);
    json_decref(r);
    order_clear(&o);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_header_and_products_link),
        cmocka_unit_test(test_consignments_object),
        cmocka_unit_test(test_consignments_forms),
        cmocka_unit_test(test_currencies),
        cmocka_unit_test(test_order_errors),
        cmocka_unit_test(test_orders_list_and_fees),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_transaction_shapes),
        cmocka_unit_test(test_refunds),
        cmocka_unit_test(test_refund_errors),
    };

    return cmocka_run_group_tests_name("bc_decode", tests, NULL, NULL);
}
