/*
 * holdcode: names, fixes and the classification of JDE's refusals.
 */
#include "core/holdcode.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct hold_info {
    const char *name;
    const char *fix;
};

static const struct hold_info infos[HOLD_CODE_COUNT] = {
    [HOLD_OTHER]                = { "other", "the reason names it" },
    [HOLD_ACCOUNT_MISSING]      = { "account_missing",
        "posting.accounts / posting.*_by_* (or create the account in JDE F0901, "
        "the business unit in F0006)" },
    [HOLD_ACCOUNT_NOT_POSTABLE] = { "account_not_postable",
        "posting.accounts / posting.*_by_* (or clear the posting edit code in JDE F0901)" },
    [HOLD_UNMAPPED_SKU]         = { "unmapped_sku",
        "posting.revenue_by_sku / posting.revenue_by_category" },
    [HOLD_PERIOD_CLOSED]        = { "period_closed",
        "JDE: open the period for the G/L date (or posting.gl_date)" },
    [HOLD_VOUCHER_SUPPLIER]     = { "voucher_supplier",
        "posting.default_supplier / posting.supplier_by_gateway (or add the "
        "supplier to JDE's address book)" },
    [HOLD_AUTH]                 = { "auth",
        "jde.user / jde.password_ref / bigcommerce.token_ref (and their rights)" },
    [HOLD_JDE_ERROR]            = { "jde_error", "JDE: the message says what it refused" },
};

const char *hold_code_name(enum hold_code c)
{
    return (unsigned)c < HOLD_CODE_COUNT ? infos[c].name : infos[HOLD_OTHER].name;
}

bool hold_code_parse(const char *name, enum hold_code *out)
{
    *out = HOLD_OTHER;
    for (int i = 0; name != NULL && i < HOLD_CODE_COUNT; i++)
        if (strcmp(name, infos[i].name) == 0) {
            *out = (enum hold_code)i;
            return true;
        }
    return false;
}

enum hold_code hold_code_of(const char *stored)
{
    enum hold_code c;

    hold_code_parse(stored, &c);
    return c;
}

const char *hold_code_fix(enum hold_code c)
{
    return (unsigned)c < HOLD_CODE_COUNT ? infos[c].fix : infos[HOLD_OTHER].fix;
}

/* Case-insensitive substring. */
static bool has(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; *s != '\0'; s++)
        if (strncasecmp(s, word, n) == 0)
            return true;
    return false;
}

enum hold_code hold_code_of_jde_refusal(const char *msg, bool voucher)
{
    if (msg == NULL)
        return HOLD_JDE_ERROR;
    /* JDE's own texts: "G/L date is in a closed period", "period ... not open"
     * (error 0015 / PBCO checks). */
    if (has(msg, "period") && (has(msg, "closed") || has(msg, "not open")))
        return HOLD_PERIOD_CLOSED;
    if (voucher && has(msg, "supplier"))
        return HOLD_VOUCHER_SUPPLIER;
    return HOLD_JDE_ERROR;
}
