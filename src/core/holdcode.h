/*
 * holdcode: the stable reason codes of held items. The flow that holds a
 * job decides its code where it knows why (an account check, the posting
 * engine, JDE's refusal) and the store keeps it with the job; `mlc held`
 * groups by it and tells which setting fixes each. The names are an
 * interface (`mlc held --json`, `mlc dismiss --reason`): never rename one.
 * Pure and stateless.
 */
#ifndef MLC_CORE_HOLDCODE_H
#define MLC_CORE_HOLDCODE_H

#include <stdbool.h>

enum hold_code {
    HOLD_OTHER = 0,           /* none of the below, or recorded before codes */
    HOLD_ACCOUNT_MISSING,     /* an account or business unit is not in JDE or not set */
    HOLD_ACCOUNT_NOT_POSTABLE,/* an account has a posting edit code in F0901 */
    HOLD_UNMAPPED_SKU,        /* a product is in no revenue map (strict SKU mapping) */
    HOLD_PERIOD_CLOSED,       /* JDE refused the G/L date: its period is closed */
    HOLD_VOUCHER_SUPPLIER,    /* voucher mode: no supplier, or JDE does not know it */
    HOLD_AUTH,                /* a system refused what we are allowed to do */
    HOLD_JDE_ERROR,           /* JDE refused the document for another reason */
    HOLD_CODE_COUNT
};

/* "account_missing", ...; "other" for anything out of range. */
const char *hold_code_name(enum hold_code c);
/* Name to code; false (and *out HOLD_OTHER) for an unknown name. */
bool hold_code_parse(const char *name, enum hold_code *out);
/* A stored name to its code: NULL, "" or an unknown name (a row written
 * before codes, or by a newer version) reads as HOLD_OTHER. */
enum hold_code hold_code_of(const char *stored);
/* Where the fix lives: the configuration keys, or the JDE program. */
const char *hold_code_fix(enum hold_code c);
/* JDE's refusal of a document, by its message: closed period, unknown
 * supplier (voucher mode only), else HOLD_JDE_ERROR. msg may be NULL. */
enum hold_code hold_code_of_jde_refusal(const char *msg, bool voucher);

#endif
