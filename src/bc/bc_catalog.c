#include "bc/bc_catalog.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_client.h"
#include "core/json.h"
#include "core/log.h"

/* SKUs / ids per list call (keeps URLs well under server limits). */
#define SKUS_PER_CALL 50
#define IDS_PER_CALL  100
#define LIST_MAX      100000
/* POSTs of one product create at most (the first and two re-sends). */
#define CREATE_TRIES  3

/* ---- decoding ----------------------------------------------------------- */

void bc_variant_clear(struct bc_variant *v)
{
    if (v == NULL)
        return;
    free(v->sku);
    json_decref(v->raw);
    memset(v, 0, sizeof(*v));
}

void bc_product_clear(struct bc_product *p)
{
    if (p == NULL)
        return;
    free(p->name);
    free(p->sku);
    free(p->type);
    free(p->inventory_tracking);
    bc_variants_free(p->variants, p->n_variants);
    json_decref(p->raw);
    memset(p, 0, sizeof(*p));
}

void bc_variants_free(struct bc_variant *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        bc_variant_clear(&v[i]);
    free(v);
}

void bc_products_free(struct bc_product *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        bc_product_clear(&v[i]);
    free(v);
}

int bc_variant_decode(const json_t *j, struct bc_variant *out, struct mlc_err *e)
{
    struct jx_ctx cx;
    char where[48];

    memset(out, 0, sizeof(*out));
    snprintf(where, sizeof(where), "variant %" PRId64,
             (int64_t)json_integer_value(json_object_get(j, "id")));
    jx_ctx_init(&cx, where, e);
    jx_get_i64(&cx, j, "id", &out->id);
    jx_get_i64(&cx, j, "product_id", &out->product_id);
    jx_opt_strdup(&cx, j, "sku", &out->sku);
    jx_opt_i64(&cx, j, "inventory_level", 0, &out->inventory_level);
    jx_opt_bool(&cx, j, "purchasing_disabled", false, &out->purchasing_disabled);
    if (cx.rc != MLC_OK) {
        bc_variant_clear(out);
        return cx.rc;
    }
    out->raw = json_incref((json_t *)j);
    return MLC_OK;
}

static int decode_variants(const json_t *arr, struct bc_variant **out, size_t *n,
                           struct mlc_err *e)
{
    size_t cnt = json_array_size(arr);
    struct bc_variant *v;

    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return MLC_OK;
    v = calloc(cnt, sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu variants", cnt);
    for (size_t i = 0; i < cnt; i++) {
        int rc = bc_variant_decode(json_array_get(arr, i), &v[i], e);

        if (rc != MLC_OK) {
            bc_variants_free(v, i);
            return rc;
        }
    }
    *out = v;
    *n = cnt;
    return MLC_OK;
}

int bc_product_decode(const json_t *j, struct bc_product *out, struct mlc_err *e)
{
    struct jx_ctx cx;
    json_t *vars = NULL;
    char where[48];

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return mlc_err_set(e, MLC_EPROTO, "product: expected object, got %s", jx_type_name(j));
    snprintf(where, sizeof(where), "product %" PRId64,
             (int64_t)json_integer_value(json_object_get(j, "id")));
    jx_ctx_init(&cx, where, e);
    jx_get_i64(&cx, j, "id", &out->id);
    jx_opt_strdup(&cx, j, "name", &out->name);
    jx_opt_strdup(&cx, j, "sku", &out->sku);
    jx_opt_strdup(&cx, j, "type", &out->type);
    jx_opt_strdup(&cx, j, "inventory_tracking", &out->inventory_tracking);
    /* null for products with several variants */
    jx_opt_i64(&cx, j, "base_variant_id", 0, &out->base_variant_id);
    jx_opt_i64(&cx, j, "inventory_level", 0, &out->inventory_level);
    jx_opt_arr(&cx, j, "variants", &vars);
    if (cx.rc == MLC_OK && vars != NULL)
        cx.rc = decode_variants(vars, &out->variants, &out->n_variants, e);
    if (cx.rc != MLC_OK) {
        bc_product_clear(out);
        return cx.rc;
    }
    out->raw = json_incref((json_t *)j);
    return MLC_OK;
}

/* ---- reads -------------------------------------------------------------- */

/* Growable array of products or variants. */
struct vec {
    void  *v;
    size_t n, cap, elem;
};

static void *vec_slot(struct vec *a, struct mlc_err *e)
{
    if (a->n >= LIST_MAX) {
        mlc_err_set(e, MLC_ETOOBIG, "more than %d catalog items", LIST_MAX);
        return NULL;
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        void *p = realloc(a->v, nc * a->elem);

        if (p == NULL) {
            mlc_err_set(e, MLC_ENOMEM, "out of memory for catalog items");
            return NULL;
        }
        a->v = p;
        a->cap = nc;
    }
    return (char *)a->v + a->n * a->elem;
}

/* Pages through u, decoding every item into a (products or variants). */
static int list_into(struct bc_client *c, const struct bc_url *u, bool products,
                     struct vec *a, struct mlc_err *e)
{
    struct bc_pager p;
    int rc = bc_pager_init(&p, c, BC_PAGER_V3, u, BC_V3_LIMIT_MAX, e);

    while (rc == MLC_OK) {
        json_t *items, *it;
        size_t k;

        rc = bc_pager_next(&p, &items, e);
        if (rc != MLC_OK || items == NULL)
            break;
        json_array_foreach(items, k, it) {
            void *slot = vec_slot(a, e);

            if (slot == NULL) {
                rc = e != NULL && e->code != MLC_OK ? e->code : MLC_ENOMEM;
                break;
            }
            rc = products ? bc_product_decode(it, slot, e) : bc_variant_decode(it, slot, e);
            if (rc != MLC_OK)
                break;
            a->n++;
        }
        json_decref(items);
    }
    bc_pager_free(&p);
    return rc;
}

static char *join_skus(const char *const *skus, size_t n)
{
    size_t len = 1;
    char *s, *w;

    for (size_t i = 0; i < n; i++)
        len += strlen(skus[i]) + 1;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    w = s;
    *w = '\0';
    for (size_t i = 0; i < n; i++)
        w += snprintf(w, len - (size_t)(w - s), "%s%s", i ? "," : "", skus[i]);
    return s;
}

int bc_products_by_skus(struct bc_client *c, const char *const *skus, size_t n,
                        bool with_variants, struct bc_product **out, size_t *n_out,
                        struct mlc_err *e)
{
    struct vec a = { .elem = sizeof(struct bc_product) };
    int rc = MLC_OK;

    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n && rc == MLC_OK; i += SKUS_PER_CALL) {
        size_t k = n - i < SKUS_PER_CALL ? n - i : SKUS_PER_CALL;
        char *joined = join_skus(skus + i, k);
        struct bc_url u;

        if (joined == NULL) {
            rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
            break;
        }
        bc_url_init(&u, "/v3/catalog/products");
        bc_url_add(&u, "sku:in", joined);
        if (with_variants)
            bc_url_add(&u, "include", "variants");
        free(joined);
        rc = list_into(c, &u, true, &a, e);
        bc_url_free(&u);
    }
    if (rc != MLC_OK) {
        bc_products_free(a.v, a.n);
        return rc;
    }
    *out = a.v;
    *n_out = a.n;
    return MLC_OK;
}

int bc_products_by_ids(struct bc_client *c, const int64_t *ids, size_t n,
                       bool with_variants, struct bc_product **out, size_t *n_out,
                       struct mlc_err *e)
{
    struct vec a = { .elem = sizeof(struct bc_product) };
    int rc = MLC_OK;

    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n && rc == MLC_OK; i += IDS_PER_CALL) {
        size_t k = n - i < IDS_PER_CALL ? n - i : IDS_PER_CALL;
        struct bc_url u;

        bc_url_init(&u, "/v3/catalog/products");
        bc_url_add_ids(&u, "id:in", ids + i, k);
        if (with_variants)
            bc_url_add(&u, "include", "variants");
        rc = list_into(c, &u, true, &a, e);
        bc_url_free(&u);
    }
    if (rc != MLC_OK) {
        bc_products_free(a.v, a.n);
        return rc;
    }
    *out = a.v;
    *n_out = a.n;
    return MLC_OK;
}

int bc_variants_by_sku(struct bc_client *c, const char *sku, struct bc_variant **out,
                       size_t *n_out, struct mlc_err *e)
{
    struct vec a = { .elem = sizeof(struct bc_variant) };
    struct bc_url u;
    int rc;

    *out = NULL;
    *n_out = 0;
    bc_url_init(&u, "/v3/catalog/variants");
    bc_url_add(&u, "sku", sku);
    rc = list_into(c, &u, false, &a, e);
    bc_url_free(&u);
    if (rc != MLC_OK) {
        bc_variants_free(a.v, a.n);
        return rc;
    }
    *out = a.v;
    *n_out = a.n;
    return MLC_OK;
}

int bc_variant_by_id(struct bc_client *c, int64_t id, struct bc_variant *out, bool *found,
                     struct mlc_err *e)
{
    struct vec a = { .elem = sizeof(struct bc_variant) };
    struct bc_url u;
    int rc;

    *found = false;
    memset(out, 0, sizeof(*out));
    bc_url_init(&u, "/v3/catalog/variants");
    bc_url_addi(&u, "id", id);
    rc = list_into(c, &u, false, &a, e);
    bc_url_free(&u);
    for (size_t i = 0; rc == MLC_OK && i < a.n; i++) {
        struct bc_variant *v = (struct bc_variant *)a.v + i;

        if (v->id == id && !*found) {   /* only the one asked for */
            *out = *v;
            memset(v, 0, sizeof(*v));
            *found = true;
        }
    }
    bc_variants_free(a.v, a.n);
    return rc;
}

int bc_variants_by_product_ids(struct bc_client *c, const int64_t *ids, size_t n,
                               struct bc_variant **out, size_t *n_out,
                               struct mlc_err *e)
{
    struct vec a = { .elem = sizeof(struct bc_variant) };
    int rc = MLC_OK;

    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n && rc == MLC_OK; i += IDS_PER_CALL) {
        size_t k = n - i < IDS_PER_CALL ? n - i : IDS_PER_CALL;
        struct bc_url u;

        bc_url_init(&u, "/v3/catalog/variants");
        bc_url_add_ids(&u, "product_id:in", ids + i, k);
        rc = list_into(c, &u, false, &a, e);
        bc_url_free(&u);
    }
    if (rc != MLC_OK) {
        bc_variants_free(a.v, a.n);
        return rc;
    }
    *out = a.v;
    *n_out = a.n;
    return MLC_OK;
}

/* ---- batch updates ------------------------------------------------------ */

static void set_result(struct bc_item_result *r, int status, int code, const char *msg)
{
    r->status = status;
    r->code = code;
    snprintf(r->msg, sizeof(r->msg), "%s", msg != NULL ? msg : "");
}

/* The message a 207's errors object has for item i (by index or id key),
 * or NULL. */
static const json_t *item_error(const json_t *errs, size_t i, int64_t id)
{
    char k[24];
    const json_t *v;

    snprintf(k, sizeof(k), "%zu", i);
    v = json_object_get(errs, k);
    if (v == NULL) {
        snprintf(k, sizeof(k), "%" PRId64, id);
        v = json_object_get(errs, k);
    }
    return v;
}

static bool data_has_id(const json_t *data, int64_t id)
{
    size_t k;
    json_t *it;

    json_array_foreach(data, k, it)
        if (json_integer_value(json_object_get(it, "id")) == id)
            return true;
    return false;
}

/* Results of a 207: saved items are those in data. */
static void results_207(const json_t *body, struct bc_item_result *r, size_t n)
{
    const json_t *data = json_object_get(body, "data");
    const json_t *err = json_object_get(body, "errors");
    const json_t *details = json_object_get(err, "errors");
    const char *title = json_string_value(json_object_get(err, "title"));
    json_int_t st = json_integer_value(json_object_get(err, "status"));

    if (title == NULL)
        title = "partially saved";
    for (size_t i = 0; i < n; i++) {
        const json_t *m = item_error(details, i, r[i].id);
        const char *msg = json_is_string(m) ? json_string_value(m) : title;

        if (data_has_id(data, r[i].id))
            set_result(&r[i], m != NULL ? 207 : 200, MLC_OK, m != NULL ? msg : "");
        else
            set_result(&r[i], st >= 400 ? (int)st : 422,
                       bc_status_code(st >= 400 ? (int)st : 422), msg);
    }
}

/* PUTs one batch and fills its results. */
static void put_batch(struct bc_client *c, const char *path, const json_t *items,
                      size_t from, size_t cnt, struct bc_item_result *r)
{
    json_t *batch = json_array();
    struct bc_resp resp = { 0 };
    struct mlc_err le;
    struct bc_url u;
    int rc;

    for (size_t i = 0; i < cnt; i++)
        json_array_append(batch, json_array_get(items, from + i));
    bc_url_init(&u, path);
    rc = batch == NULL ? mlc_err_set(&le, MLC_ENOMEM, "out of memory for a batch")
                       : bc_call(c, "PUT", &u, batch, true, &resp, &le);
    if (rc == MLC_OK && resp.status == 207) {
        results_207(resp.body, r, cnt);
    } else if (rc == MLC_OK) {
        for (size_t i = 0; i < cnt; i++)
            set_result(&r[i], 200, MLC_OK, "");
    } else {
        for (size_t i = 0; i < cnt; i++)
            set_result(&r[i], resp.status, rc, le.msg);
    }
    bc_resp_clear(&resp);
    json_decref(batch);
    bc_url_free(&u);
}

static int batch_update(struct bc_client *c, const char *path, const char *what,
                        size_t max, const json_t *items, struct bc_item_result **res,
                        size_t *n_res, struct mlc_err *e)
{
    size_t n = json_array_size(items), failed = 0, first = 0;
    struct bc_item_result *r;

    *res = NULL;
    *n_res = 0;
    if (!json_is_array(items))
        return mlc_err_set(e, MLC_EINVAL, "%s update: expected an array of items", what);
    for (size_t i = 0; i < n; i++)
        if (!json_is_integer(json_object_get(json_array_get(items, i), "id")))
            return mlc_err_set(e, MLC_EINVAL, "%s update: item %zu has no integer id", what,
                               i);
    if (n == 0)
        return MLC_OK;
    r = calloc(n, sizeof(*r));
    if (r == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu results", n);
    for (size_t i = 0; i < n; i++)
        r[i].id = json_integer_value(json_object_get(json_array_get(items, i), "id"));
    for (size_t i = 0; i < n; i += max)
        put_batch(c, path, items, i, n - i < max ? n - i : max, r + i);
    for (size_t i = 0; i < n; i++)
        if (r[i].code != MLC_OK && failed++ == 0)
            first = i;
    *res = r;
    *n_res = n;
    if (failed == 0)
        return MLC_OK;
    return mlc_err_set(e, r[first].code, "%zu of %zu %ss not saved; first, id %" PRId64 ": %s",
                       failed, n, what, r[first].id, r[first].msg);
}

int bc_variants_update(struct bc_client *c, const json_t *items,
                       struct bc_item_result **res, size_t *n_res, struct mlc_err *e)
{
    return batch_update(c, "/v3/catalog/variants", "variant", BC_VARIANT_BATCH_MAX, items,
                        res, n_res, e);
}

int bc_products_update(struct bc_client *c, const json_t *items,
                       struct bc_item_result **res, size_t *n_res, struct mlc_err *e)
{
    return batch_update(c, "/v3/catalog/products", "product", BC_PRODUCT_BATCH_MAX, items,
                        res, n_res, e);
}

/* ---- create ------------------------------------------------------------- */

/* Whether an unknown outcome may have created the product. */
static bool outcome_unknown(int rc, int status)
{
    if (status == 0)
        return rc == MLC_ETIMEOUT || rc == MLC_EIO;
    return status >= 500;
}

/* Looks for the product by SKU: MLC_OK with *found when it exists. */
static int find_created(struct bc_client *c, const char *sku, struct bc_product *out,
                        bool *found, struct mlc_err *e)
{
    struct bc_product *v = NULL;
    size_t n = 0;
    int rc = bc_products_by_skus(c, &sku, 1, true, &v, &n, e);

    *found = false;
    if (rc == MLC_OK && n > 0) {
        *out = v[0];
        memset(&v[0], 0, sizeof(v[0]));
        *found = true;
    }
    bc_products_free(v, n);
    return rc;
}

int bc_product_create(struct bc_client *c, const json_t *product,
                      struct bc_product *out, struct mlc_err *e)
{
    const char *sku = json_string_value(json_object_get(product, "sku"));
    struct bc_url u;
    int rc = MLC_OK;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(product) || sku == NULL || sku[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "product create: a product object with a sku is "
                                          "required (it is how a lost reply is recovered)");
    bc_url_init(&u, "/v3/catalog/products");
    for (int attempt = 1; attempt <= CREATE_TRIES; attempt++) {
        struct bc_resp r;
        bool found = false;

        rc = bc_call(c, "POST", &u, product, false, &r, e);
        if (rc == MLC_OK) {
            const json_t *d = json_object_get(r.body, "data");

            rc = bc_product_decode(d, out, e);
            bc_resp_clear(&r);
            break;
        }
        if (!outcome_unknown(rc, r.status) || attempt == CREATE_TRIES) {
            bc_resp_clear(&r);
            break;
        }
        bc_resp_clear(&r);
        log_warn("bc", "product create outcome unknown, looking it up", LF_STR("sku", sku),
                 LF_INT("attempt", attempt), LF_ERR(e));
        rc = find_created(c, sku, out, &found, e);
        if (rc != MLC_OK || found)
            break;
    }
    bc_url_free(&u);
    return rc;
}

/* ---- SKU index ---------------------------------------------------------- */

struct ix_entry {
    struct ix_entry *next;
    int64_t          product_id, variant_id;
    char             sku[];
};

struct bc_catalog_index {
    pthread_mutex_t   mu;
    struct ix_entry **b;
    size_t            nb;   /* power of two */
    size_t            n;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

int bc_catalog_index_new(struct bc_catalog_index **out, struct mlc_err *e)
{
    struct bc_catalog_index *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (x == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a SKU index");
    x->nb = 64;
    x->b = calloc(x->nb, sizeof(*x->b));
    if (x->b == NULL) {
        free(x);
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for a SKU index");
    }
    pthread_mutex_init(&x->mu, NULL);
    *out = x;
    return MLC_OK;
}

static void ix_clear_locked(struct bc_catalog_index *x)
{
    for (size_t i = 0; i < x->nb; i++) {
        struct ix_entry *p = x->b[i];

        while (p != NULL) {
            struct ix_entry *nx = p->next;

            free(p);
            p = nx;
        }
        x->b[i] = NULL;
    }
    x->n = 0;
}

void bc_catalog_index_free(struct bc_catalog_index *x)
{
    if (x == NULL)
        return;
    ix_clear_locked(x);
    free(x->b);
    pthread_mutex_destroy(&x->mu);
    free(x);
}

static struct ix_entry **ix_find(struct bc_catalog_index *x, const char *sku)
{
    struct ix_entry **pp = &x->b[fnv1a(sku) & (x->nb - 1)];

    while (*pp != NULL && strcmp((*pp)->sku, sku) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Doubles the bucket table when it is full; failure only keeps chains long. */
static void ix_grow(struct bc_catalog_index *x)
{
    size_t nb = x->nb * 2;
    struct ix_entry **b;

    if (x->n < x->nb || nb > (SIZE_MAX / sizeof(*b)))
        return;
    b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < x->nb; i++) {
        struct ix_entry *p = x->b[i];

        while (p != NULL) {
            struct ix_entry *nx = p->next;
            size_t k = fnv1a(p->sku) & (nb - 1);

            p->next = b[k];
            b[k] = p;
            p = nx;
        }
    }
    free(x->b);
    x->b = b;
    x->nb = nb;
}

int bc_catalog_index_put(struct bc_catalog_index *x, const char *sku, int64_t product_id,
                         int64_t variant_id, struct mlc_err *e)
{
    struct ix_entry **pp, *p;
    size_t len;
    int rc = MLC_OK;

    if (sku == NULL || sku[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "SKU index: empty SKU");
    len = strlen(sku);
    pthread_mutex_lock(&x->mu);
    pp = ix_find(x, sku);
    if (*pp != NULL) {
        (*pp)->product_id = product_id;
        (*pp)->variant_id = variant_id;
        goto out;
    }
    p = malloc(sizeof(*p) + len + 1);
    if (p == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory for the SKU index");
        goto out;
    }
    memcpy(p->sku, sku, len + 1);
    p->product_id = product_id;
    p->variant_id = variant_id;
    p->next = NULL;
    *pp = p;
    x->n++;
    ix_grow(x);
out:
    pthread_mutex_unlock(&x->mu);
    return rc;
}

bool bc_catalog_index_get(struct bc_catalog_index *x, const char *sku,
                          int64_t *product_id, int64_t *variant_id)
{
    struct ix_entry *p;

    if (sku == NULL)
        return false;
    pthread_mutex_lock(&x->mu);
    p = *ix_find(x, sku);
    if (p != NULL) {
        if (product_id != NULL)
            *product_id = p->product_id;
        if (variant_id != NULL)
            *variant_id = p->variant_id;
    }
    pthread_mutex_unlock(&x->mu);
    return p != NULL;
}

void bc_catalog_index_invalidate(struct bc_catalog_index *x, const char *sku)
{
    struct ix_entry **pp, *p;

    pthread_mutex_lock(&x->mu);
    if (sku == NULL) {
        ix_clear_locked(x);
    } else if ((p = *(pp = ix_find(x, sku))) != NULL) {
        *pp = p->next;
        free(p);
        x->n--;
    }
    pthread_mutex_unlock(&x->mu);
}

size_t bc_catalog_index_size(struct bc_catalog_index *x)
{
    size_t n;

    pthread_mutex_lock(&x->mu);
    n = x->n;
    pthread_mutex_unlock(&x->mu);
    return n;
}

/* Records every variant SKU. */
static int bc_catalog_index_add_variants(struct bc_catalog_index *x, const struct bc_variant *v,
                                  size_t n, struct mlc_err *e)
{
    for (size_t i = 0; i < n; i++) {
        int rc;

        if (v[i].sku[0] == '\0')
            continue;
        rc = bc_catalog_index_put(x, v[i].sku, v[i].product_id, v[i].id, e);
        if (rc != MLC_OK)
            return rc;
    }
    return MLC_OK;
}

int bc_catalog_index_add_products(struct bc_catalog_index *x, const struct bc_product *v,
                                  size_t n, struct mlc_err *e)
{
    for (size_t i = 0; i < n; i++) {
        int rc = bc_catalog_index_add_variants(x, v[i].variants, v[i].n_variants, e);

        if (rc != MLC_OK)
            return rc;
        /* A product SKU that is not also a variant SKU points at the base
         * variant (0 when the product has several). */
        if (v[i].sku[0] != '\0' && !bc_catalog_index_get(x, v[i].sku, NULL, NULL)) {
            rc = bc_catalog_index_put(x, v[i].sku, v[i].id, v[i].base_variant_id, e);
            if (rc != MLC_OK)
                return rc;
        }
    }
    return MLC_OK;
}

int bc_catalog_resolve(struct bc_client *c, struct bc_catalog_index *x,
                       const char *const *skus, size_t n, size_t *n_missing,
                       struct mlc_err *e)
{
    const char **miss;
    struct bc_product *pv = NULL;
    size_t nm = 0, np = 0, still = 0;
    int rc;

    *n_missing = 0;
    if (n == 0)
        return MLC_OK;
    miss = malloc(n * sizeof(*miss));
    if (miss == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for %zu SKUs", n);
    for (size_t i = 0; i < n; i++)
        if (!bc_catalog_index_get(x, skus[i], NULL, NULL))
            miss[nm++] = skus[i];
    rc = bc_products_by_skus(c, miss, nm, true, &pv, &np, e);
    if (rc == MLC_OK)
        rc = bc_catalog_index_add_products(x, pv, np, e);
    bc_products_free(pv, np);
    for (size_t i = 0; i < nm && rc == MLC_OK; i++) {
        struct bc_variant *vv = NULL;
        size_t nv = 0;

        if (bc_catalog_index_get(x, miss[i], NULL, NULL))
            continue;
        rc = bc_variants_by_sku(c, miss[i], &vv, &nv, e);
        if (rc == MLC_OK)
            rc = bc_catalog_index_add_variants(x, vv, nv, e);
        bc_variants_free(vv, nv);
        if (rc == MLC_OK && !bc_catalog_index_get(x, miss[i], NULL, NULL))
            still++;
    }
    free(miss);
    *n_missing = still;
    return rc;
}
