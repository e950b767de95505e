/*
 * accounts: the chart-of-accounts cache that validates a document's
 * accounts (F0901: exists, posting edit code blank) and business units
 * (F0006: exists) before anything is posted (posting rules §4).
 *
 * Entries are filled from AIS on a miss. A good entry (exists, postable) is
 * trusted until the cache is invalidated (the scheduler does it every
 * schedule.accounts_refresh_interval); then each entry is read again the
 * next time a document uses it. A bad entry (missing, not postable) is
 * never trusted: it is read again on every use, so that an operator who
 * fixes the account in JDE and replays the held order is not stopped by a
 * stale answer.
 *
 * acct_check checks one document before it is posted; acct_check_mapping
 * checks everything the posting configuration names (`mlc ping`).
 *
 * Thread-safe: one cache is shared by every worker; the lock is never held
 * during an AIS call (two threads may look the same account up at once,
 * the later answer wins).
 */
#ifndef MLC_SYNC_ACCOUNTS_H
#define MLC_SYNC_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "sync/mapping.h"

struct ais_session;
struct post_refs;
struct acct_cache;

/* *out: caller frees with acct_cache_free. */
int acct_cache_new(struct acct_cache **out, struct mlc_err *e);
void acct_cache_free(struct acct_cache *c); /* NULL-safe */

/* Makes every entry stale: it is read from AIS again on its next use. */
void acct_invalidate(struct acct_cache *c);

/* Statistics for tests and benchmarks. */
struct acct_stats {
    uint64_t hits;     /* answered from the cache */
    uint64_t lookups;  /* AIS reads (F0901 or F0006) */
    size_t   entries;
};
void acct_stats(struct acct_cache *c, struct acct_stats *out);

enum acct_reason {
    ACCT_MISSING = 1,      /* not in F0901 (account) / F0006 (business unit) */
    ACCT_NOT_POSTABLE      /* in F0901 with a posting edit code that is not blank */
};

/* Checks every account and business unit of refs. MLC_OK with *ok true
 * when all are fine; MLC_OK with *ok false and problem ("; "-separated,
 * naming each account: "account 1.1000 is not postable in F0901 (posting
 * edit code N)") when one is not, *why (may be NULL) then saying which problem to fix
 * first (ACCT_MISSING before ACCT_NOT_POSTABLE); a negative code when AIS
 * could not be asked (nothing is concluded then). */
int acct_check(struct acct_cache *c, struct ais_session *s, const struct post_refs *refs,
               bool *ok, enum acct_reason *why, char *problem, size_t cap,
               struct mlc_err *e);

/* ---- the whole posting configuration (mapping.h) ----------------------------- */

/* One bad entry of a mapping. An account posted in a business unit that
 * does not exist is not listed: the business unit is, under the key that
 * chose it. */
struct acct_problem {
    const struct mapping_ref *ref;     /* borrowed: an entry of the mapping checked */
    enum acct_reason          reason;
    char                      pec[2];  /* ACCT_NOT_POSTABLE: the posting edit code */
};

struct acct_report {
    size_t               n_accounts;   /* distinct accounts checked */
    size_t               n_bus;        /* distinct business units checked */
    struct acct_problem *problems;     /* owned, in the mapping's order */
    size_t               n_problems;
};

/* Checks every entry of m against F0901 and F0006: the business units
 * first, then the accounts in business units that exist. What the cache
 * holds good is not read again; the rest is read in batches (one F0901 and
 * one F0006 query for up to AIS_ACCOUNTS_CHUNK / AIS_EXISTS_CHUNK entries),
 * never one query per entry. MLC_OK with *out filled (n_problems 0: all
 * good; caller frees with acct_report_clear) or a negative code when AIS
 * could not be asked (*out empty, nothing concluded). */
int acct_check_mapping(struct acct_cache *c, struct ais_session *s, const struct mapping *m,
                       struct acct_report *out, struct mlc_err *e);
void acct_report_clear(struct acct_report *r); /* NULL-safe */

/* "missing" or "not_postable". */
const char *acct_reason_name(enum acct_reason r);
/* One line naming the key, the account or business unit and the reason:
 *   posting.revenue_by_sku.SKU-1: account 100.4999 does not exist in F0901
 *   posting.clearing_by_method.COD: account 1.1000 is not postable in F0901
 *     (posting edit code N)
 *   posting.bu_by_channel.2: business unit 300 does not exist in F0006
 * with, for an account moved to another business unit, which setting did
 * it. */
void acct_problem_text(const struct acct_problem *p, char *buf, size_t cap);

#endif
