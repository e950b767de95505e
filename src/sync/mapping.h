/*
 * mapping: every JD Edwards account and business unit that the posting
 * configuration names, each with the configuration key that names it, as
 * the posting engine would post it.
 *
 * The accounts are the posting.accounts.* defaults and every entry of the
 * account maps (revenue_by_sku, revenue_by_category, clearing_by_gateway,
 * clearing_by_method); an optional account that is not set is left out
 * (an order that needs it is held with that reason). Suppliers are not
 * accounts and are left out too.
 *
 * "As posted" follows the engine's §4 rule (post_line_bu): a revenue-type
 * account is posted in posting.default_bu and in every business unit of
 * posting.bu_by_channel, a balance-sheet account in
 * posting.balance_sheet_bu; where such a setting is not set, in its own
 * business unit. So one account key can give several accounts (one per
 * business unit it can land in), and an account's own business unit
 * counts only where no setting replaces it.
 *
 * The business units are those settings' values, plus the own business
 * unit of every account posted in it (with the account's key). Every
 * business unit an account is posted in is therefore also listed as a
 * business unit, under the key that chose it.
 *
 * Pure: no I/O. Used by `mlc ping` (acct_check_mapping checks the list
 * against F0901 and F0006); meant for `mlc config check` and the daemon.
 *
 * Ownership: mapping_build fills *out, which the caller frees with
 * mapping_clear. The entries borrow strings from the configuration: keep
 * a reference to it while the mapping is used.
 */
#ifndef MLC_SYNC_MAPPING_H
#define MLC_SYNC_MAPPING_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"

enum mapping_kind { MAPPING_BU = 0, MAPPING_ACCOUNT };

/* Longest key mapping_key writes: the longest map name, '.', a 255-byte
 * map entry, NUL. */
#define MAPPING_KEY_MAX 320

struct mapping_ref {
    enum mapping_kind  kind;
    const char        *key;        /* "posting.accounts.tax", "posting.revenue_by_sku" (static) */
    const char        *match;      /* the map entry under key ("SKU-1"), NULL for a plain key */
    const char        *bu_key;     /* ACCOUNT: the setting that chose the business unit it is
                                      posted in ("posting.default_bu", "posting.bu_by_channel",
                                      "posting.balance_sheet_bu"); NULL: its own */
    const char        *bu_match;   /* the channel, when bu_key is posting.bu_by_channel */
    struct cfg_account configured; /* ACCOUNT, and a BU that is an account's own: the account
                                      as the key writes it; zeroed otherwise */
    struct cfg_account account;    /* ACCOUNT: as posted (business unit chosen) */
    char               bu[13];     /* the business unit (ACCOUNT: the one it is posted in) */
};

struct mapping {
    struct mapping_ref *refs;      /* in the configuration's order; a business unit comes
                                      before the accounts posted in it */
    size_t              n;
};

/* Enumerates p into *out (emptied first). MLC_ENOMEM is the only failure. */
int mapping_build(const struct cfg_posting *p, struct mapping *out, struct mlc_err *e);
/* Frees the entries and zeroes m (NULL-safe). */
void mapping_clear(struct mapping *m);

/* The configuration key of r as the configuration's own errors name it:
 * "posting.accounts.tax", "posting.revenue_by_sku.SKU-1". */
void mapping_key(const struct mapping_ref *r, char *buf, size_t cap);
/* The same for the setting that chose r's business unit
 * ("posting.bu_by_channel.2"); "" when it is the account's own. */
void mapping_bu_key(const struct mapping_ref *r, char *buf, size_t cap);

#endif
