/*
 * migrate: moving an installation from one store to another (`mlc store
 * migrate`): copy every durable row table by table, then count and
 * checksum both sides. Only the public store API is used, so any pair of
 * backends works (SQLite to PostgreSQL, SQLite to another SQLite file).
 * Not to be confused with the schema steps each backend applies at open.
 *
 * The checksum of a table is SHA-256 over a canonical encoding of every
 * field of every row, in export order (primary key; text keys in byte
 * order). Each row is the byte 'R' followed by its fields in the order of
 * the row structs of store.h, each one of:
 *   'N'                                       NULL
 *   'S' <length: 8 bytes big-endian> <bytes>  text, blob, state name
 *   'I' <value: 8 bytes big-endian, two's complement>  integer
 * so NULL and "" differ, no field boundary can shift, and two backends
 * holding the same rows give the same figure.
 *
 * Ownership: nothing here keeps a pointer to its arguments after the call.
 */
#ifndef MLC_STORE_MIGRATE_H
#define MLC_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define MIGRATE_SHA256_BYTES 32
#define MIGRATE_SHA256_HEX   (2 * MIGRATE_SHA256_BYTES + 1)
/* Rows per transaction of the target by default. */
#define MIGRATE_BATCH_DEFAULT 1000

struct migrate_sum {
    int64_t       rows;
    unsigned char sha256[MIGRATE_SHA256_BYTES];
};

/* Row count and checksum of table t of st (one export walk). */
int migrate_sum_table(struct store *st, enum store_table t,
                      struct migrate_sum *out, struct mlc_err *e);
bool migrate_sum_equal(const struct migrate_sum *a,
                       const struct migrate_sum *b);
/* Lower-case hex of the checksum. */
void migrate_sum_hex(const struct migrate_sum *s,
                     char out[MIGRATE_SHA256_HEX]);

/* *out: the first table of st that holds a row, STORE_TABLE_COUNT when
 * every table is empty. */
int migrate_first_nonempty(struct store *st, enum store_table *out,
                           struct mlc_err *e);

/* Called after each committed batch with the rows of t copied so far. */
typedef void (*migrate_progress_fn)(enum store_table t, int64_t copied,
                                    void *ctx);

/*
 * Copies every row of t from src into dst (store_export into
 * store_import), at most batch rows (0: MIGRATE_BATCH_DEFAULT) per
 * transaction of dst, so a big table never makes one huge transaction.
 * dst must not be inside a transaction. *copied: rows committed. On
 * failure the failing batch is rolled back, the batches before it stay
 * committed in dst, and the message names the table and the count.
 * progress may be NULL. The caller ends the copy with store_import_finish.
 */
int migrate_copy_table(struct store *src, struct store *dst,
                       enum store_table t, size_t batch,
                       migrate_progress_fn progress, void *ctx,
                       int64_t *copied, struct mlc_err *e);

#endif
