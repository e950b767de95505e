/*
 * held_groups: the sums behind `mlc held`'s summary.
 */
#include "sync/held_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

void hg_init(struct hg_set *s)
{
    memset(s, 0, sizeof(*s));
}

void hg_clear(struct hg_set *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < HOLD_CODE_COUNT; i++)
        free(s->by_code[i].sums);
    hg_init(s);
}

/* g's sum for currency, added when new; NULL when out of memory. */
static struct hg_sum *sum_of(struct hg_group *g, const char *currency)
{
    struct hg_sum *v;

    for (size_t i = 0; i < g->n_sums; i++)
        if (strcmp(g->sums[i].currency, currency) == 0)
            return &g->sums[i];
    v = realloc(g->sums, (g->n_sums + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    g->sums = v;
    v = &g->sums[g->n_sums++];
    memset(v, 0, sizeof(*v));
    snprintf(v->currency, sizeof(v->currency), "%s", currency);
    return v;
}

int hg_add(struct hg_set *s, enum hold_code code, bool failed, const char *currency,
           int64_t amount, int64_t since_ms, int64_t job_id, struct mlc_err *e)
{
    struct hg_group *g = &s->by_code[(unsigned)code < HOLD_CODE_COUNT ? code : HOLD_OTHER];
    struct hg_sum *sum;

    g->count++;
    if (failed)
        g->failed++;
    if (g->oldest_ms == 0 || since_ms < g->oldest_ms ||
        (since_ms == g->oldest_ms && job_id < g->oldest_id)) {
        g->oldest_ms = since_ms;
        g->oldest_id = job_id;
    }
    if (currency == NULL || currency[0] == '\0') {
        g->no_amount++;
        return MLC_OK;
    }
    if ((sum = sum_of(g, currency)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (!sum->overflow && money_add(sum->minor, amount, &sum->minor, NULL) != MLC_OK)
        sum->overflow = true;
    return MLC_OK;
}

size_t hg_order(const struct hg_set *s, enum hold_code out[HOLD_CODE_COUNT])
{
    size_t n = 0;

    for (int c = 0; c < HOLD_CODE_COUNT; c++) {
        const struct hg_group *g = &s->by_code[c];
        size_t at = n;

        if (g->count == 0)
            continue;
        /* Insertion: after every group with more items, or as many and older. */
        while (at > 0) {
            const struct hg_group *p = &s->by_code[out[at - 1]];

            if (p->count > g->count || (p->count == g->count && p->oldest_ms <= g->oldest_ms))
                break;
            out[at] = out[at - 1];
            at--;
        }
        out[at] = (enum hold_code)c;
        n++;
    }
    return n;
}
