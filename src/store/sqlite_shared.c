/*
 * sqlite_shared: shared records (store_shared_update). Placeholder until
 * the shared request budget lands.
 */
#include "store/sqlite_int.h"

int sq_shared_update(struct store *st, const char *name, store_shared_fn fn,
                     void *ctx, struct mlc_err *e)
{
    (void)st; (void)fn; (void)ctx;
    return mlc_err_set(e, MLC_ESTATE, "store: shared record %s: not built yet",
                       name);
}
