/*
 * store_row: the values of an exported row in the column order of its
 * table (internal to src/store/), so each backend's import only binds
 * them: by name on SQLite, by position on PostgreSQL.
 *
 * The order is the table's STORE_*_COLUMNS list (store_sql.h), which is
 * also the column order of both backends' import INSERTs.
 */
#ifndef MLC_STORE_STORE_ROW_H
#define MLC_STORE_STORE_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_sql.h"

enum store_val_type { STORE_VAL_INT, STORE_VAL_TEXT, STORE_VAL_BLOB };

/* One column's value; text and blob are borrowed from the row. */
struct store_val {
    enum store_val_type type;
    int64_t             i;
    const char         *text;  /* NULL: SQL NULL */
    const void         *blob;
    size_t              len;
};

/* The widest table (jobs). */
#define STORE_ROW_MAX_COLS ((int)JOB_COL_COUNT)

/* Fills v[0..n) with r's values (a job's or ledger row's state as its
 * name) and returns n; 0 for an unknown table. */
size_t store_row_values(const struct store_row *r,
                        struct store_val v[STORE_ROW_MAX_COLS]);

#endif
