/*
 * accounts: the chart-of-accounts cache that validates a document's
 * accounts (F0901: exists, posting edit code blank) and business units
 * (F0006: exists) before anything is posted (jde-contract §4).
 *
 * Entries are filled from AIS on a miss. A good entry (exists, postable) is
 * trusted until the cache is invalidated (the scheduler does it every
 * schedule.accounts_refresh_interval); then each entry is read again the
 * next time a document uses it. A bad entry (missing, not postable) is
 * never trusted: it is read again on every use, so that an operator who
 * fixes the account in JDE and replays the held order is not stopped by a
 * stale answer.
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

/* Checks every account and business unit of refs. MLC_OK with *ok true
 * when all are fine; MLC_OK with *ok false and problem ("; "-separated,
 * naming each account: "account 1.1000 is not postable in F0901 (posting
 * edit code N)") when one is not; a negative code when AIS could not be
 * asked (nothing is concluded then). */
int acct_check(struct acct_cache *c, struct ais_session *s, const struct post_refs *refs,
               bool *ok, char *problem, size_t cap, struct mlc_err *e);

#endif
