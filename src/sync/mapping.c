/*
 * mapping: the accounts and business units of the posting configuration
 * (see mapping.h). The business unit rule is the posting engine's own
 * (post_line_bu), so the list cannot drift from what is posted.
 */
#include "sync/mapping.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/posting.h"

/* A growing list of entries; the first allocation failure sticks. */
struct builder {
    struct mapping *m;
    size_t          cap;
    bool            nomem;
};

/* Where the configuration names one account: a plain key or a map entry. */
struct named {
    const char               *key;
    const char               *match;   /* NULL for a plain key */
    const struct cfg_account *account;
    enum post_role            role;
};

static struct mapping_ref *push(struct builder *b)
{
    struct mapping_ref *nv;

    if (b->nomem)
        return NULL;
    if (b->m->n == b->cap) {
        size_t ncap = b->cap > 0 ? b->cap * 2 : 32;

        if ((nv = realloc(b->m->refs, ncap * sizeof(*nv))) == NULL) {
            b->nomem = true;
            return NULL;
        }
        b->m->refs = nv;
        b->cap = ncap;
    }
    nv = &b->m->refs[b->m->n++];
    memset(nv, 0, sizeof(*nv));
    return nv;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_account(const struct cfg_account *a, const struct cfg_account *b)
{
    return strcmp(a->bu, b->bu) == 0 && strcmp(a->obj, b->obj) == 0 &&
           strcmp(a->sub, b->sub) == 0;
}

/* True when an entry of the same kind, key and value is already listed
 * since index from (the variants of one account are listed together). */
static bool listed(const struct builder *b, size_t from, const struct mapping_ref *r)
{
    for (size_t i = from; i < b->m->n; i++) {
        const struct mapping_ref *x = &b->m->refs[i];

        if (x->kind != r->kind || x->key != r->key || !same_str(x->match, r->match))
            continue;
        if (r->kind == MAPPING_BU ? strcmp(x->bu, r->bu) == 0
                                  : same_account(&x->account, &r->account))
            return true;
    }
    return false;
}

static void add(struct builder *b, size_t from, const struct mapping_ref *r)
{
    struct mapping_ref *x;

    if (listed(b, from, r) || (x = push(b)) == NULL)
        return;
    *x = *r;
}

/* A setting whose value is a business unit (NULL or "" when not set). */
static void add_bu_setting(struct builder *b, const char *key, const char *match,
                           const char *bu)
{
    struct mapping_ref r = { .kind = MAPPING_BU, .key = key, .match = match };

    if (bu == NULL || bu[0] == '\0')
        return;
    snprintf(r.bu, sizeof(r.bu), "%s", bu);
    add(b, b->m->n, &r);
}

/* Every way the configuration can post the account of n: its own business
 * unit first when it is kept, then the account in each business unit. */
static void add_account(struct builder *b, const struct cfg_posting *p, const struct named *n)
{
    const struct cfg_account *a = n->account;
    size_t from = b->m->n;
    const char *bu, *bu_key;

    if (a->bu[0] == '\0')
        return; /* optional and not set */
    for (size_t i = 0; i <= p->n_bu_by_channel; i++) {
        /* i == 0: a channel that posting.bu_by_channel does not name. */
        const struct cfg_str_map *ch = i > 0 ? &p->bu_by_channel[i - 1] : NULL;
        struct mapping_ref r = { .kind = MAPPING_ACCOUNT, .key = n->key, .match = n->match,
                                 .configured = *a, .account = *a };

        bu = post_line_bu(p, n->role, ch != NULL ? ch->value : NULL, &bu_key);
        if (bu == NULL) {
            struct mapping_ref own = { .kind = MAPPING_BU, .key = n->key, .match = n->match,
                                       .configured = *a };

            snprintf(own.bu, sizeof(own.bu), "%s", a->bu);
            add(b, from, &own);
        } else {
            snprintf(r.account.bu, sizeof(r.account.bu), "%s", bu);
            r.bu_key = bu_key;
            r.bu_match = ch != NULL && strcmp(bu_key, "posting.bu_by_channel") == 0
                             ? ch->match : NULL;
        }
        snprintf(r.bu, sizeof(r.bu), "%s", r.account.bu);
        add(b, from, &r);
    }
}

static void add_map(struct builder *b, const struct cfg_posting *p, const char *key,
                    const struct cfg_account_map *m, size_t n, enum post_role role)
{
    for (size_t i = 0; i < n; i++) {
        struct named x = { key, m[i].match, &m[i].account, role };

        add_account(b, p, &x);
    }
}

int mapping_build(const struct cfg_posting *p, struct mapping *out, struct mlc_err *e)
{
    const struct named plain[] = {
        { "posting.accounts.revenue", NULL, &p->accounts.revenue, POST_ROLE_REVENUE },
        { "posting.accounts.discounts", NULL, &p->accounts.discounts, POST_ROLE_DISCOUNT },
        { "posting.accounts.shipping", NULL, &p->accounts.shipping, POST_ROLE_SHIPPING },
        { "posting.accounts.handling", NULL, &p->accounts.handling, POST_ROLE_HANDLING },
        { "posting.accounts.wrapping", NULL, &p->accounts.wrapping, POST_ROLE_WRAPPING },
        { "posting.accounts.fees", NULL, &p->accounts.fees, POST_ROLE_FEES },
        { "posting.accounts.tax", NULL, &p->accounts.tax, POST_ROLE_TAX },
        /* Unmatched amounts land on the clearing accounts too: the same
         * (balance-sheet) business unit as payments. */
        { "posting.accounts.clearing", NULL, &p->accounts.clearing, POST_ROLE_PAYMENT },
        { "posting.accounts.gift_certificate", NULL, &p->accounts.gift_certificate,
          POST_ROLE_PAYMENT },
        { "posting.accounts.store_credit", NULL, &p->accounts.store_credit,
          POST_ROLE_PAYMENT },
        { "posting.accounts.rounding", NULL, &p->accounts.rounding, POST_ROLE_ROUNDING },
    };
    struct builder b = { .m = out };

    memset(out, 0, sizeof(*out));
    add_bu_setting(&b, "posting.balance_sheet_bu", NULL, p->balance_sheet_bu);
    add_bu_setting(&b, "posting.default_bu", NULL, p->default_bu);
    for (size_t i = 0; i < p->n_bu_by_channel; i++)
        add_bu_setting(&b, "posting.bu_by_channel", p->bu_by_channel[i].match,
                       p->bu_by_channel[i].value);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        add_account(&b, p, &plain[i]);
    add_map(&b, p, "posting.revenue_by_sku", p->revenue_by_sku, p->n_revenue_by_sku,
            POST_ROLE_REVENUE);
    add_map(&b, p, "posting.revenue_by_category", p->revenue_by_category,
            p->n_revenue_by_category, POST_ROLE_REVENUE);
    add_map(&b, p, "posting.clearing_by_gateway", p->clearing_by_gateway,
            p->n_clearing_by_gateway, POST_ROLE_PAYMENT);
    add_map(&b, p, "posting.clearing_by_method", p->clearing_by_method,
            p->n_clearing_by_method, POST_ROLE_PAYMENT);
    if (b.nomem) {
        mapping_clear(out);
        return mlc_err_set(e, MLC_ENOMEM, "posting mapping: out of memory");
    }
    return MLC_OK;
}

void mapping_clear(struct mapping *m)
{
    if (m == NULL)
        return;
    free(m->refs);
    memset(m, 0, sizeof(*m));
}

static void key_of(const char *key, const char *match, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    if (key == NULL)
        buf[0] = '\0';
    else if (match != NULL)
        snprintf(buf, cap, "%s.%s", key, match);
    else
        snprintf(buf, cap, "%s", key);
}

void mapping_key(const struct mapping_ref *r, char *buf, size_t cap)
{
    key_of(r->key, r->match, buf, cap);
}

void mapping_bu_key(const struct mapping_ref *r, char *buf, size_t cap)
{
    key_of(r->kind == MAPPING_ACCOUNT ? r->bu_key : NULL, r->bu_match, buf, cap);
}
