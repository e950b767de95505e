/* Unit tests: moving an installation between stores (store/migrate): the
 * canonical checksum, the batched copy, the empty-target check, and that
 * a target changed after the copy no longer verifies. Two SQLite files in
 * a temp dir stand for any pair of backends: migrate uses only store.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/migrate.h"
#include "store/store.h"

struct fx {
    char          dir[64];
    char          src_path[128], dst_path[128];
    struct store *src, *dst;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct mlc_err e = {0};

    if (f == NULL || sodium_init() < 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-migrate-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->src_path, sizeof(f->src_path), "%s/src.db", f->dir);
    snprintf(f->dst_path, sizeof(f->dst_path), "%s/dst.db", f->dir);
    if (store_open(f->src_path, &f->src, &e) != MLC_OK ||
        store_open(f->dst_path, &f->dst, &e) != MLC_OK) {
        print_error("store_open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static void unlink_db(const char *path)
{
    char p[160];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->src);
    store_close(f->dst);
    unlink_db(f->src_path);
    unlink_db(f->dst_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static void import_ok(struct store *st, const struct store_row *r)
{
    struct mlc_err e = {0};

    if (store_import(st, r, &e) != MLC_OK)
        fail_msg("store_import: %s", e.msg);
}

static void put_job(struct store *st, int64_t id, const char *key,
                    const char *payload)
{
    struct store_row r = { .table = STORE_TABLE_JOBS };

    r.u.job = (struct store_job){ .id = id, .kind = "noop", .key = (char *)key,
                                  .payload = (char *)payload,
                                  .state = STORE_JOB_DONE, .attempts = 1,
                                  .run_at = 10, .created_at = 10, .updated_at = 11 };
    import_ok(st, &r);
}

static void put_watermark(struct store *st, const char *name,
                          const char *value, int64_t at)
{
    struct store_row r = { .table = STORE_TABLE_WATERMARKS };

    r.u.watermark = (struct store_watermark_row){ .name = name, .value = value,
                                                  .updated_at = at };
    import_ok(st, &r);
}

static void put_ledger(struct store *st, const char *key, int64_t doc)
{
    struct store_row r = { .table = STORE_TABLE_LEDGER };

    r.u.ledger = (struct store_ledger){ .key = (char *)key, .kind = "sale",
                                        .entity = "order:1",
                                        .state = STORE_LEDGER_POSTED,
                                        .doc_type = "JE", .doc_company = "00001",
                                        .doc_number = doc, .batch = 7,
                                        .created_at = 1, .updated_at = 2 };
    import_ok(st, &r);
}

static struct migrate_sum sum(struct store *st, enum store_table t)
{
    struct migrate_sum s;
    struct mlc_err e = {0};

    assert_int_equal(migrate_sum_table(st, t, &s, &e), MLC_OK);
    return s;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

/* ---- checksums --------------------------------------------------------- */

/* The encoding is the documented one (migrate.h), byte for byte: another
 * backend's rows must hash to the same figure. */
static void test_sum_encoding(void **state)
{
    struct fx *f = *state;
    static const unsigned char want_in[] = {
        'R', 'S', 0, 0, 0, 0, 0, 0, 0, 2, 'a', 'b',
             'S', 0, 0, 0, 0, 0, 0, 0, 0,
             'I', 0, 0, 0, 0, 0, 0, 1, 2,
        'R', 'S', 0, 0, 0, 0, 0, 0, 0, 1, 'c',
             'S', 0, 0, 0, 0, 0, 0, 0, 1, 'v',
             'I', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    unsigned char want[crypto_hash_sha256_BYTES];
    struct migrate_sum s;
    char hex[MIGRATE_SHA256_HEX];

    put_watermark(f->src, "c", "v", -1);
    put_watermark(f->src, "ab", "", 258);
    crypto_hash_sha256(want, want_in, sizeof(want_in));
    s = sum(f->src, STORE_TABLE_WATERMARKS);
    assert_int_equal(s.rows, 2);
    assert_memory_equal(s.sha256, want, sizeof(want));
    /* An empty table is SHA-256 of nothing. */
    s = sum(f->src, STORE_TABLE_EVENTS);
    assert_int_equal(s.rows, 0);
    migrate_sum_hex(&s, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* NULL is not "", and bytes cannot move across a field boundary. */
static void test_sum_unambiguous(void **state)
{
    struct fx *f = *state;
    struct migrate_sum a, b;

    put_job(f->src, 1, "k", NULL);
    put_job(f->dst, 1, "k", "");
    a = sum(f->src, STORE_TABLE_JOBS);
    b = sum(f->dst, STORE_TABLE_JOBS);
    assert_int_equal(a.rows, b.rows);
    assert_false(migrate_sum_equal(&a, &b));

    put_watermark(f->src, "ab", "c", 1);
    put_watermark(f->dst, "a", "bc", 1);
    a = sum(f->src, STORE_TABLE_WATERMARKS);
    b = sum(f->dst, STORE_TABLE_WATERMARKS);
    assert_false(migrate_sum_equal(&a, &b));
}

/* ---- copy -------------------------------------------------------------- */

struct progress_log {
    int64_t at[16];
    int     n;
};

static void on_progress(enum store_table t, int64_t copied, void *ctx)
{
    struct progress_log *p = ctx;

    assert_int_equal(t, STORE_TABLE_JOBS);
    assert_true(p->n < 16);
    p->at[p->n++] = copied;
}

/* Batches of two: five rows commit as 2, 4, 5; both sides then agree on
 * every table. */
static void test_copy_in_batches(void **state)
{
    struct fx *f = *state;
    struct progress_log p = {0};
    struct mlc_err e = {0};
    enum store_table first;
    int64_t copied = -1;

    for (int i = 1; i <= 5; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k:%d", i);
        put_job(f->src, i * 10, key, i % 2 ? NULL : "{}");
    }
    assert_int_equal(migrate_first_nonempty(f->dst, &first, &e), MLC_OK);
    assert_int_equal(first, STORE_TABLE_COUNT);
    assert_int_equal(migrate_copy_table(f->src, f->dst, STORE_TABLE_JOBS, 2, on_progress,
                                        &p, &copied, &e), MLC_OK);
    assert_int_equal(copied, 5);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.at[0], 2);
    assert_int_equal(p.at[1], 4);
    assert_int_equal(p.at[2], 5);
    assert_int_equal(store_import_finish(f->dst, &e), MLC_OK);
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        struct migrate_sum a = sum(f->src, (enum store_table)t);
        struct migrate_sum b = sum(f->dst, (enum store_table)t);

        assert_true(migrate_sum_equal(&a, &b));
    }
    assert_int_equal(migrate_first_nonempty(f->dst, &first, &e), MLC_OK);
    assert_int_equal(first, STORE_TABLE_JOBS);
    /* An empty table copies nothing and succeeds. */
    assert_int_equal(migrate_copy_table(f->src, f->dst, STORE_TABLE_AUDIT, 0, NULL, NULL,
                                        &copied, &e), MLC_OK);
    assert_int_equal(copied, 0);
}

/* A taken key stops the copy: the batches before it stay, the failing one
 * is rolled back, and the message says where it stopped. */
static void test_copy_stops_on_taken_key(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    int64_t copied = -1;
    struct migrate_sum s;

    for (int i = 1; i <= 5; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k:%d", i);
        put_job(f->src, i, key, NULL);
    }
    put_job(f->dst, 4, "other", NULL);
    assert_int_equal(migrate_copy_table(f->src, f->dst, STORE_TABLE_JOBS, 2, NULL, NULL,
                                        &copied, &e), MLC_EEXIST);
    assert_int_equal(copied, 2);
    assert_non_null(strstr(e.msg, "jobs: after 2 rows copied"));
    assert_non_null(strstr(e.msg, "id 4"));
    s = sum(f->dst, STORE_TABLE_JOBS);
    assert_int_equal(s.rows, 3); /* ids 1, 2 and the target's own 4 */
}

/* After a faithful copy, one field changed in the target (a document
 * number, a NULL turned into "") shows in that table's figures alone. */
static void test_changed_target_detected(void **state)
{
    struct fx *f = *state;
    struct mlc_err e = {0};
    int64_t copied;

    put_ledger(f->src, "BC1S", 100);
    put_ledger(f->src, "BC2S", 101);
    put_job(f->src, 1, "k:1", NULL);
    put_watermark(f->src, "orders", "x", 5);
    for (int t = 0; t < STORE_TABLE_COUNT; t++)
        assert_int_equal(migrate_copy_table(f->src, f->dst, (enum store_table)t, 0, NULL,
                                            NULL, &copied, &e), MLC_OK);
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        struct migrate_sum a = sum(f->src, (enum store_table)t);
        struct migrate_sum b = sum(f->dst, (enum store_table)t);

        assert_true(migrate_sum_equal(&a, &b));
    }
    raw_exec(f->dst_path, "UPDATE ledger SET doc_number = 102 WHERE key = 'BC2S'");
    raw_exec(f->dst_path, "UPDATE jobs SET payload = '' WHERE id = 1");
    for (int t = 0; t < STORE_TABLE_COUNT; t++) {
        struct migrate_sum a = sum(f->src, (enum store_table)t);
        struct migrate_sum b = sum(f->dst, (enum store_table)t);
        bool changed = t == STORE_TABLE_LEDGER || t == STORE_TABLE_JOBS;

        assert_int_equal(a.rows, b.rows);
        assert_int_equal(migrate_sum_equal(&a, &b), !changed);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_sum_encoding),
        T(test_sum_unambiguous),
        T(test_copy_in_batches),
        T(test_copy_stops_on_taken_key),
        T(test_changed_target_detected),
    };
#undef T
    return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
