#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "bc/bc_decode.h"
#include "orderfix.h"

static void ok_or_fail(int rc, const struct mlc_err *e, const char *name, const char *what)
{
    if (rc != MLC_OK)
        fail_msg("%s: %s: %s", name, what, e->msg);
}

void orderfix_load(const char *name, struct orderfix *f)
{
    char path[256];
    json_error_t je;
    struct mlc_err e = { 0 };
    json_t *root, *v;

    memset(f, 0, sizeof(*f));
    snprintf(path, sizeof(path), ORDERFIX_DIR "%s", name);
    if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    ok_or_fail(bcd_order(json_object_get(root, "order"), &f->o, &e), &e, name, "order");
    if ((v = json_object_get(root, "products")) != NULL)
        ok_or_fail(bcd_products(v, &f->o, &e), &e, name, "products");
    if ((v = json_object_get(root, "catalog")) != NULL)
        ok_or_fail(bcd_product_categories(v, &f->o, &e), &e, name, "catalog");
    if ((v = json_object_get(root, "transactions")) != NULL)
        ok_or_fail(bcd_transactions(json_is_null(v) ? NULL : v, &f->o, &e), &e, name,
                   "transactions");
    if ((v = json_object_get(root, "refunds")) != NULL)
        ok_or_fail(bcd_refunds(v, &f->o, &f->refunds, &f->n_refunds, &e), &e, name,
                   "refunds");
    json_decref(root);
}

void orderfix_free(struct orderfix *f)
{
    order_clear(&f->o);
    order_refunds_free(f->refunds, f->n_refunds);
    memset(f, 0, sizeof(*f));
}
