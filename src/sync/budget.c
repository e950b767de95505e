#include "sync/budget.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

struct budget {
    struct pacer *pacer;
    struct store *st;    /* shared: the pacer's own connection */
};

static bool is_postgresql(const char *url)
{
    return url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
                           strncmp(url, "postgres://", 11) == 0);
}

bool budget_is_shared(const struct mlc_config *cfg)
{
    switch (cfg->bigcommerce.shared_budget) {
    case CFG_BUDGET_ON:  return true;
    case CFG_BUDGET_OFF: return false;
    default:             return is_postgresql(cfg->store.url);
    }
}

/* The pacer's record update: store_shared_update on the budget's own
 * connection (the pacer holds its lock around the call). */
static int update_record(void *ctx, pacer_record_fn fn, void *fn_ctx,
                         struct mlc_err *e)
{
    struct budget *b = ctx;

    return store_shared_update(b->st, PACER_RECORD, fn, fn_ctx, e);
}

int budget_open_shared(const char *store_url, const char *password_ref,
                       const struct pacer_opts *po,
                       struct budget **out, struct mlc_err *e)
{
    struct budget *b;
    struct pacer_share sh = { .update = update_record };
    int rc;

    *out = NULL;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for the request budget");
    sh.ctx = b;
    rc = store_open_with(store_url, password_ref, &b->st, e);
    if (rc != MLC_OK)
        mlc_err_wrap(e, "shared request budget");
    else if ((rc = pacer_new_shared(po, &sh, &b->pacer, e)) != MLC_OK)
        mlc_err_wrap(e, "bigcommerce.rate_reserve");
    if (rc != MLC_OK) {
        budget_free(b);
        return rc;
    }
    *out = b;
    return MLC_OK;
}

int budget_new(const struct mlc_config *cfg, struct budget **out,
               struct mlc_err *e)
{
    struct pacer_opts po = { .reserve = cfg->bigcommerce.rate_reserve };
    struct budget *b;
    int rc;

    *out = NULL;
    if (budget_is_shared(cfg)) {
        log_info("sync", "BigCommerce request budget shared through the state store",
                 LF_STR("record", PACER_RECORD), LF_INT("reserve", po.reserve));
        return budget_open_shared(cfg->store.url, cfg->store.password_ref, &po, out, e);
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for the request budget");
    rc = pacer_new(&po, &b->pacer, e);
    if (rc != MLC_OK) {
        free(b);
        mlc_err_wrap(e, "bigcommerce.rate_reserve");
        return rc;
    }
    *out = b;
    return MLC_OK;
}

struct pacer *budget_pacer(struct budget *b)
{
    return b->pacer;
}

void budget_free(struct budget *b)
{
    if (b == NULL)
        return;
    pacer_free(b->pacer);
    store_close(b->st);
    free(b);
}
