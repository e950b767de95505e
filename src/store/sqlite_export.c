/*
 * sqlite_export: every durable row out and in as is (mlc store migrate).
 * Placeholder until the migration command lands.
 */
#include "store/sqlite_int.h"

int sq_export_rows(struct store *st, enum store_table table,
                   int (*fn)(const struct store_row *r, void *ctx), void *ctx,
                   struct mlc_err *e)
{
    (void)st; (void)fn; (void)ctx;
    return mlc_err_set(e, MLC_ESTATE, "store: export of %s: not built yet",
                       store_table_name(table));
}

int sq_import_row(struct store *st, const struct store_row *r,
                  struct mlc_err *e)
{
    (void)st;
    return mlc_err_set(e, MLC_ESTATE, "store: import into %s: not built yet",
                       store_table_name(r->table));
}

int sq_import_finish(struct store *st, struct mlc_err *e)
{
    (void)st;
    return mlc_err_set(e, MLC_ESTATE, "store: import: not built yet");
}
