/*
 * bc_customers: v3 customers with their addresses, decoded.
 *
 * Lists are read with id:in / email:in / date_modified:min filters and
 * include=addresses, page after page. BigCommerce embeds at most 10
 * addresses per customer; when address_count says there are more, the rest
 * is read from /v3/customers/addresses so that a decoded customer is whole.
 */
#ifndef MLC_BC_BC_CUSTOMERS_H
#define MLC_BC_BC_CUSTOMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bc_client;

/* Strings are owned, never NULL ("" when absent). */
struct bc_address {
    int64_t id;
    int64_t customer_id;
    char   *first_name, *last_name, *company;
    char   *address1, *address2, *city, *state_or_province, *postal_code;
    char   *country_code, *country, *phone;
    char   *address_type;   /* residential | commercial */
};

struct bc_customer {
    int64_t            id;
    char              *email, *first_name, *last_name, *company, *phone, *notes;
    char              *tax_exempt_category;
    int64_t            customer_group_id;
    char              *date_created, *date_modified; /* ISO 8601 as sent */
    int64_t            address_count;  /* as BigCommerce counts them */
    struct bc_address *addresses;
    size_t             n_addresses;
};

/* Decodes one customer object (addresses embedded, if any). out is cleared
 * on failure; release with bc_customer_clear. */
int bc_customer_decode(const json_t *j, struct bc_customer *out, struct mlc_err *e);
int bc_address_decode(const json_t *j, struct bc_address *out, struct mlc_err *e);
void bc_customer_clear(struct bc_customer *c);
void bc_address_clear(struct bc_address *a);
/* Clears every customer and frees the array; NULL-safe. */
void bc_customers_free(struct bc_customer *v, size_t n);

/* Filters; unset fields are not sent. Long id/e-mail lists are split over
 * several calls; with both ids and e-mails, only the ids are used. */
struct bc_customer_filter {
    const int64_t     *ids;            /* id:in */
    size_t             n_ids;
    const char *const *emails;         /* email:in */
    size_t             n_emails;
    const char        *date_modified_min; /* "2024-05-14T09:34:00Z" */
    bool               addresses;      /* include=addresses (+ the rest) */
};

/* Every matching customer (*out: caller frees with bc_customers_free). */
int bc_customers_list(struct bc_client *c, const struct bc_customer_filter *f,
                      struct bc_customer **out, size_t *n, struct mlc_err *e);
/* All addresses of one customer (*out: caller frees each with
 * bc_address_clear, then the array with free). */
int bc_customer_addresses(struct bc_client *c, int64_t customer_id,
                          struct bc_address **out, size_t *n, struct mlc_err *e);

#endif
