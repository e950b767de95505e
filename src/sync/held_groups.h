/*
 * held_groups: held and failed items summed up by reason code, for `mlc
 * held` and the web console: how many, of which failed, the money that waits per currency
 * (integer minor units, checked sums), and the oldest. Pure; the caller
 * owns the set (hg_clear frees what hg_add allocated).
 */
#ifndef MLC_SYNC_HELD_GROUPS_H
#define MLC_SYNC_HELD_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/holdcode.h"

struct hg_sum {
    char    currency[8];
    int64_t minor;
    bool    overflow;   /* the sum left int64: minor is not the total */
};

struct hg_group {
    size_t         count, failed;
    size_t         no_amount;   /* items without a known amount */
    int64_t        oldest_ms;   /* since when the oldest waits (0: empty) */
    int64_t        oldest_id;   /* its job */
    struct hg_sum *sums;        /* owned; in the order first seen */
    size_t         n_sums;
};

struct hg_set {
    struct hg_group by_code[HOLD_CODE_COUNT];
};

void hg_init(struct hg_set *s);
void hg_clear(struct hg_set *s); /* NULL-safe; leaves s empty */
/* Counts one item: its code, whether it failed (else held), its amount
 * (currency NULL or "": none known), since when it waits and its job id.
 * MLC_ENOMEM only. */
int hg_add(struct hg_set *s, enum hold_code code, bool failed, const char *currency,
           int64_t amount, int64_t since_ms, int64_t job_id, struct mlc_err *e);
/* The codes that have items, most items first (ties: the older first),
 * into out; returns how many. */
size_t hg_order(const struct hg_set *s, enum hold_code out[HOLD_CODE_COUNT]);

#endif
