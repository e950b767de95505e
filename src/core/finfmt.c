/* finfmt: see finfmt.h. */
#include "core/finfmt.h"

#include <stdio.h>
#include <string.h>

#include "core/money.h"

/* BigCommerce v2 order statuses, by id (docs/bigcommerce-api.md). */
static const char *const bc_status[] = {
    "Incomplete", "Pending", "Shipped", "Partially Shipped", "Refunded",
    "Cancelled", "Declined", "Awaiting Payment", "Awaiting Pickup",
    "Awaiting Shipment", "Completed", "Awaiting Fulfillment",
    "Manual Verification Required", "Disputed", "Partially Refunded",
};

const char *finfmt_bc_status(long long id)
{
    if (id < 0 || id >= (long long)(sizeof(bc_status) / sizeof(bc_status[0])))
        return NULL;
    return bc_status[id];
}

void finfmt_status_text(long long id, char *buf, size_t cap)
{
    const char *name = finfmt_bc_status(id);

    if (name != NULL)
        snprintf(buf, cap, "%s (%lld)", name, id);
    else
        snprintf(buf, cap, "status %lld", id);
}

void finfmt_dc_init(struct finfmt_dc *t)
{
    memset(t, 0, sizeof(*t));
    t->scale = -1;
}

/* "-1234.50" -> -123450, scale 2. Digits, at most one point, an optional
 * leading minus; false for anything else or an overflow. */
static bool parse_amount(const char *s, int64_t *v, int *scale, bool *neg)
{
    const char *p = s, *dot = NULL;
    int64_t x = 0;
    int digits = 0;

    *neg = *p == '-';
    if (*neg)
        p++;
    for (; *p != '\0'; p++) {
        if (*p == '.' && dot == NULL) {
            dot = p;
            continue;
        }
        if (*p < '0' || *p > '9' || x > (INT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (*p - '0');
        digits++;
    }
    if (digits == 0)
        return false;
    *scale = dot != NULL ? (int)(p - dot - 1) : 0;
    *v = *neg ? -x : x;
    return true;
}

void finfmt_debit_credit(const char *amount, char *debit, size_t dcap, char *credit,
                         size_t ccap, struct finfmt_dc *t)
{
    int64_t v = 0;
    int scale = 0;
    bool neg = false;

    if (amount == NULL || !parse_amount(amount, &v, &scale, &neg)) {
        snprintf(debit, dcap, "%s", amount != NULL ? amount : "");
        snprintf(credit, ccap, "%s", "");
        if (t != NULL)
            t->bad = true;
        return;
    }
    snprintf(debit, dcap, "%s", neg ? "" : amount);
    snprintf(credit, ccap, "%s", neg ? amount + 1 : "");
    if (t == NULL)
        return;
    if (t->scale >= 0 && t->scale != scale)
        t->bad = true;
    t->scale = scale;
    if (neg ? money_sub(t->credit, v, &t->credit, NULL) != 0
            : money_add(t->debit, v, &t->debit, NULL) != 0)
        t->bad = true;
}

void finfmt_dc_totals(const struct finfmt_dc *t, char *debit, size_t dcap, char *credit,
                      size_t ccap)
{
    if (t->bad) {
        snprintf(debit, dcap, "?");
        snprintf(credit, ccap, "?");
        return;
    }
    if (t->scale < 0) {
        snprintf(debit, dcap, "%s", "");
        snprintf(credit, ccap, "%s", "");
        return;
    }
    if (money_format(t->debit, t->scale, debit, dcap) != MLC_OK)
        snprintf(debit, dcap, "?");
    if (money_format(t->credit, t->scale, credit, ccap) != MLC_OK)
        snprintf(credit, ccap, "?");
}
