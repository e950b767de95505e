/*
 * finfmt: output for finance readers: BigCommerce order status names
 * instead of numbers, and signed amounts split into debit and credit
 * columns with their totals (JDE's sign convention: debit positive,
 * credit negative).
 *
 * Pure and thread-safe; amounts are the decimal strings the posting engine
 * writes ("-21.98"), never floating point.
 */
#ifndef MLC_CORE_FINFMT_H
#define MLC_CORE_FINFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The name of a BigCommerce v2 order status id (0 "Incomplete" .. 14
 * "Partially Refunded"), NULL when the id is not one of them. A store may
 * rename its labels; the id is what the connector keys on. */
const char *finfmt_bc_status(long long id);
/* "Completed (10)", or "status 99" for an id without a name. */
void finfmt_status_text(long long id, char *buf, size_t cap);

/* Running debit and credit totals of one document, in minor units. */
struct finfmt_dc {
    int64_t debit;
    int64_t credit; /* positive */
    int     scale;  /* decimals of the amounts; -1 before the first */
    bool    bad;    /* an amount did not parse or the scales differ */
};
void finfmt_dc_init(struct finfmt_dc *t);

/* amount "-21.98" -> debit "", credit "21.98"; "21.98" (or "0.00") ->
 * debit "21.98", credit "". An amount that does not parse goes to debit
 * as written and marks t bad. Adds it to t (t may be NULL). */
void finfmt_debit_credit(const char *amount, char *debit, size_t dcap, char *credit,
                         size_t ccap, struct finfmt_dc *t);
/* The two totals as decimals ("?" when t is bad, "" before any amount). */
void finfmt_dc_totals(const struct finfmt_dc *t, char *debit, size_t dcap, char *credit,
                      size_t ccap);

#endif
