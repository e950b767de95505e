#include "bc/bc_customers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_client.h"
#include "core/json.h"

/* ids / e-mails per list call: keeps URLs short (e-mails are long). */
#define IDS_PER_CALL    100
#define EMAILS_PER_CALL 25
#define LIST_MAX        100000

void bc_address_clear(struct bc_address *a)
{
    if (a == NULL)
        return;
    free(a->first_name);
    free(a->last_name);
    free(a->company);
    free(a->address1);
    free(a->address2);
    free(a->city);
    free(a->state_or_province);
    free(a->postal_code);
    free(a->country_code);
    free(a->country);
    free(a->phone);
    free(a->address_type);
    memset(a, 0, sizeof(*a));
}

int bc_address_decode(const json_t *j, struct bc_address *out, struct mlc_err *e)
{
    struct jx_ctx cx;
    char where[64];

    memset(out, 0, sizeof(*out));
    snprintf(where, sizeof(where), "customer address %" PRId64,
             (int64_t)json_integer_value(json_object_get(j, "id")));
    jx_ctx_init(&cx, where, e);
    jx_get_i64(&cx, j, "id", &out->id);
    jx_opt_i64(&cx, j, "customer_id", 0, &out->customer_id);
    jx_opt_strdup(&cx, j, "first_name", &out->first_name);
    jx_opt_strdup(&cx, j, "last_name", &out->last_name);
    jx_opt_strdup(&cx, j, "company", &out->company);
    jx_opt_strdup(&cx, j, "address1", &out->address1);
    jx_opt_strdup(&cx, j, "address2", &out->address2);
    jx_opt_strdup(&cx, j, "city", &out->city);
    jx_opt_strdup(&cx, j, "state_or_province", &out->state_or_province);
    jx_opt_strdup(&cx, j, "postal_code", &out->postal_code);
    jx_opt_strdup(&cx, j, "country_code", &out->country_code);
    jx_opt_strdup(&cx, j, "country", &out->country);
    jx_opt_strdup(&cx, j, "phone", &out->phone);
    jx_opt_strdup(&cx, j, "address_type", &out->address_type);
    if (cx.rc != MLC_OK)
        bc_address_clear(out);
    return cx.rc;
}

void bc_customer_clear(struct bc_customer *c)
{
    if (c == NULL)
        return;
    free(c->email);
    free(c->first_name);
    free(c->last_name);
    free(c->company);
    free(c->phone);
    free(c->notes);
    free(c->tax_exempt_category);
    free(c->date_created);
    free(c->date_modified);
    for (size_t i = 0; i < c->n_addresses; i++)
        bc_address_clear(&c->addresses[i]);
    free(c->addresses);
    memset(c, 0, sizeof(*c));
}

void bc_customers_free(struct bc_customer *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        bc_customer_clear(&v[i]);
    free(v);
}

/* Decodes an array of address objects into *out (n entries). */
static int decode_addresses(const json_t *arr, struct bc_address **out, size_t *n,
                            struct mlc_err *e)
{
    size_t cnt = json_array_size(arr);
    struct bc_address *v;

    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return MLC_OK;
    v = calloc(cnt, sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu addresses", cnt);
    for (size_t i = 0; i < cnt; i++) {
        int rc = bc_address_decode(json_array_get(arr, i), &v[i], e);

        if (rc != MLC_OK) {
            for (size_t k = 0; k < i; k++)
                bc_address_clear(&v[k]);
            free(v);
            return rc;
        }
    }
    *out = v;
    *n = cnt;
    return MLC_OK;
}

int bc_customer_decode(const json_t *j, struct bc_customer *out, struct mlc_err *e)
{
    struct jx_ctx cx;
    json_t *addrs = NULL;
    char where[64];

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return mlc_err_set(e, MLC_EPROTO, "customer: expected object, got %s",
                           jx_type_name(j));
    snprintf(where, sizeof(where), "customer %" PRId64,
             (int64_t)json_integer_value(json_object_get(j, "id")));
    jx_ctx_init(&cx, where, e);
    jx_get_i64(&cx, j, "id", &out->id);
    jx_opt_strdup(&cx, j, "email", &out->email);
    jx_opt_strdup(&cx, j, "first_name", &out->first_name);
    jx_opt_strdup(&cx, j, "last_name", &out->last_name);
    jx_opt_strdup(&cx, j, "company", &out->company);
    jx_opt_strdup(&cx, j, "phone", &out->phone);
    jx_opt_strdup(&cx, j, "notes", &out->notes);
    jx_opt_strdup(&cx, j, "tax_exempt_category", &out->tax_exempt_category);
    jx_opt_i64(&cx, j, "customer_group_id", 0, &out->customer_group_id);
    jx_opt_strdup(&cx, j, "date_created", &out->date_created);
    jx_opt_strdup(&cx, j, "date_modified", &out->date_modified);
    jx_opt_i64(&cx, j, "address_count", 0, &out->address_count);
    jx_opt_arr(&cx, j, "addresses", &addrs);
    if (cx.rc == MLC_OK && addrs != NULL)
        cx.rc = decode_addresses(addrs, &out->addresses, &out->n_addresses, e);
    if (cx.rc != MLC_OK)
        bc_customer_clear(out);
    return cx.rc;
}

/* Decodes the items of a page and appends them to (*v, *n, *cap). */
static int append_customers(const json_t *items, struct bc_customer **v, size_t *n,
                            size_t *cap, struct mlc_err *e)
{
    size_t k;
    json_t *it;

    json_array_foreach(items, k, it) {
        int rc;

        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            struct bc_customer *p = realloc(*v, nc * sizeof(*p));

            if (p == NULL)
                return mlc_err_set(e, MLC_ENOMEM, "out of memory for customers");
            *v = p;
            *cap = nc;
        }
        if (*n >= LIST_MAX)
            return mlc_err_set(e, MLC_ETOOBIG, "more than %d customers", LIST_MAX);
        rc = bc_customer_decode(it, &(*v)[*n], e);
        if (rc != MLC_OK)
            return rc;
        (*n)++;
    }
    return MLC_OK;
}

int bc_customer_addresses(struct bc_client *c, int64_t customer_id,
                          struct bc_address **out, size_t *n, struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    json_t *all = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    bc_url_init(&u, "/v3/customers/addresses");
    bc_url_add_ids(&u, "customer_id:in", &customer_id, 1);
    rc = bc_pager_init(&p, c, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    if (rc == MLC_OK)
        rc = bc_pager_collect(&p, LIST_MAX, &all, e);
    if (rc == MLC_OK)
        rc = decode_addresses(all, out, n, e);
    json_decref(all);
    bc_pager_free(&p);
    bc_url_free(&u);
    return rc;
}

/* Reads the addresses BigCommerce did not embed (more than 10). */
static int complete_addresses(struct bc_client *c, struct bc_customer *cu,
                              struct mlc_err *e)
{
    struct bc_address *v;
    size_t n;
    int rc;

    if (cu->address_count <= (int64_t)cu->n_addresses)
        return MLC_OK;
    rc = bc_customer_addresses(c, cu->id, &v, &n, e);
    if (rc != MLC_OK)
        return rc;
    for (size_t i = 0; i < cu->n_addresses; i++)
        bc_address_clear(&cu->addresses[i]);
    free(cu->addresses);
    cu->addresses = v;
    cu->n_addresses = n;
    return MLC_OK;
}

/* One filtered list (one chunk of ids or e-mails), all pages. */
static int list_chunk(struct bc_client *c, const struct bc_customer_filter *f,
                      const int64_t *ids, size_t n_ids, const char *const *emails,
                      size_t n_emails, struct bc_customer **v, size_t *n, size_t *cap,
                      struct mlc_err *e)
{
    struct bc_url u;
    struct bc_pager p;
    int rc;

    bc_url_init(&u, "/v3/customers");
    if (n_ids > 0)
        bc_url_add_ids(&u, "id:in", ids, n_ids);
    if (n_emails > 0) {
        size_t len = 1;
        char *joined, *w;

        for (size_t i = 0; i < n_emails; i++)
            len += strlen(emails[i]) + 1;
        joined = malloc(len);
        if (joined == NULL) {
            bc_url_free(&u);
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        }
        w = joined;
        for (size_t i = 0; i < n_emails; i++)
            w += snprintf(w, len - (size_t)(w - joined), "%s%s", i ? "," : "", emails[i]);
        bc_url_add(&u, "email:in", joined);
        free(joined);
    }
    if (f->date_modified_min != NULL)
        bc_url_add(&u, "date_modified:min", f->date_modified_min);
    if (f->addresses)
        bc_url_add(&u, "include", "addresses");
    rc = bc_pager_init(&p, c, BC_PAGER_V3, &u, BC_V3_LIMIT_MAX, e);
    while (rc == MLC_OK) {
        json_t *items;

        rc = bc_pager_next(&p, &items, e);
        if (rc != MLC_OK || items == NULL)
            break;
        rc = append_customers(items, v, n, cap, e);
        json_decref(items);
    }
    bc_pager_free(&p);
    bc_url_free(&u);
    return rc;
}

int bc_customers_list(struct bc_client *c, const struct bc_customer_filter *f,
                      struct bc_customer **out, size_t *n, struct mlc_err *e)
{
    static const struct bc_customer_filter none;
    struct bc_customer *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = MLC_OK;

    *out = NULL;
    *n = 0;
    if (f == NULL)
        f = &none;
    if (f->n_ids > 0) {
        for (size_t i = 0; i < f->n_ids && rc == MLC_OK; i += IDS_PER_CALL) {
            size_t k = f->n_ids - i < IDS_PER_CALL ? f->n_ids - i : IDS_PER_CALL;

            rc = list_chunk(c, f, f->ids + i, k, NULL, 0, &v, &nv, &cap, e);
        }
    } else if (f->n_emails > 0) {
        for (size_t i = 0; i < f->n_emails && rc == MLC_OK; i += EMAILS_PER_CALL) {
            size_t k = f->n_emails - i < EMAILS_PER_CALL ? f->n_emails - i : EMAILS_PER_CALL;

            rc = list_chunk(c, f, NULL, 0, f->emails + i, k, &v, &nv, &cap, e);
        }
    } else {
        rc = list_chunk(c, f, NULL, 0, NULL, 0, &v, &nv, &cap, e);
    }
    for (size_t i = 0; i < nv && rc == MLC_OK && f->addresses; i++)
        rc = complete_addresses(c, &v[i], e);
    if (rc != MLC_OK) {
        bc_customers_free(v, nv);
        return rc;
    }
    *out = v;
    *n = nv;
    return MLC_OK;
}
