/* Unit tests: the credential vault (master key loading, sealing, opening)
 * and the daemon/credentials glue over a real SQLite store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "core/vault.h"
#include "store/credentials.h"
#include "store/store.h"

/* Two fixed keys (base64 of 32 bytes) so tests are reproducible. */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="

struct fx {
    char dir[64];
    char path[128]; /* a key file path inside dir */
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlc-vault-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/mlc.key", f->dir);
    unsetenv(VAULT_ENV);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    const char *names[] = { "mlc.key", "b.key", "link.key", "big.key",
                            "t.db", "t.db-wal", "t.db-shm", "t.db-journal" };
    char p[192];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
        unlink(p);
    }
    rmdir(f->dir);
    unsetenv(VAULT_ENV);
    free(f);
    return 0;
}

/* Writes text to path with mode (replacing any file). */
static void write_file(const char *path, const char *text, size_t len,
                       mode_t mode)
{
    int fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static void write_key(const char *path, const char *text, mode_t mode)
{
    write_file(path, text, strlen(text), mode);
}

static struct vault *open_key(const char *path, const char *text)
{
    struct vault *v = NULL;
    struct mlc_err e = {0};

    write_key(path, text, 0600);
    if (vault_open_keyfile(path, &v, &e) != MLC_OK)
        print_error("vault_open_keyfile: %s\n", e.msg);
    assert_non_null(v);
    return v;
}

static void seal(struct vault *v, const char *name, const char *text,
                 uint8_t **blob, size_t *len)
{
    struct mlc_err e = {0};

    assert_int_equal(vault_seal(v, name, text, strlen(text), blob, len, &e),
                     MLC_OK);
}

/* True when blob opens under name and holds text. */
static int opens_as(struct vault *v, const char *name, const void *blob,
                    size_t len, const char *text)
{
    struct mlc_secret *s = NULL;
    struct mlc_err e = {0};
    int ok;

    if (vault_open_secret(v, name, blob, len, &s, &e) != MLC_OK)
        return 0;
    ok = secret_equals(s, text, strlen(text));
    secret_free(s);
    return ok;
}

static void expect_crypto_fail(struct vault *v, const char *name,
                               const void *blob, size_t len)
{
    struct mlc_secret *s = (struct mlc_secret *)1;
    struct mlc_err e = {0};

    assert_int_equal(vault_open_secret(v, name, blob, len, &s, &e), MLC_ECRYPTO);
    assert_null(s);
    assert_non_null(strstr(e.msg, "cannot decrypt credential"));
}

/* ---- seal / open ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A "\n");
    struct mlc_secret *s = NULL;
    struct mlc_err e = {0};
    uint8_t *blob = NULL;
    size_t len = 0;

    seal(v, "jde_password", "hunter2-CANARY", &blob, &len);
    assert_int_equal(len, 1 + 24 + strlen("hunter2-CANARY") + 16);
    assert_int_equal(blob[0], VAULT_VERSION);
    assert_null(memmem(blob, len, "hunter2", 7)); /* no plaintext inside */
    assert_int_equal(vault_open_secret(v, "jde_password", blob, len, &s, &e),
                     MLC_OK);
    assert_int_equal(secret_len(s), strlen("hunter2-CANARY"));
    assert_true(secret_equals(s, "hunter2-CANARY", 14));
    secret_free(s);
    free(blob);
    vault_free(v);
    vault_free(NULL);
}

static void test_wrong_key(void **state)
{
    struct fx *f = *state;
    struct vault *a = open_key(f->path, KEY_A);
    struct vault *b = open_key(f->path, KEY_B);
    struct mlc_secret *s = NULL;
    struct mlc_err e = {0};
    uint8_t *blob = NULL;
    size_t len = 0;

    seal(a, "jde_password", "pw", &blob, &len);
    assert_int_equal(vault_open_secret(b, "jde_password", blob, len, &s, &e),
                     MLC_ECRYPTO);
    assert_null(s);
    assert_int_equal(e.code, MLC_ECRYPTO);
    assert_string_equal(e.msg, "cannot decrypt credential 'jde_password': "
                        "wrong master key or damaged data");
    assert_true(opens_as(a, "jde_password", blob, len, "pw"));
    free(blob);
    vault_free(a);
    vault_free(b);
}

static void test_other_name(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A);
    uint8_t *blob = NULL;
    size_t len = 0;

    seal(v, "jde_password", "pw", &blob, &len);
    expect_crypto_fail(v, "bigcommerce_token", blob, len);
    expect_crypto_fail(v, "jde_passwor", blob, len);
    expect_crypto_fail(v, "jde_password2", blob, len);
    free(blob);
    vault_free(v);
}

static void test_flipped_bits(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A);
    uint8_t *blob = NULL;
    size_t len = 0;

    seal(v, "bigcommerce_token", "tok-123", &blob, &len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            blob[i] ^= (uint8_t)(1u << bit);
            expect_crypto_fail(v, "bigcommerce_token", blob, len);
            blob[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(opens_as(v, "bigcommerce_token", blob, len, "tok-123"));
    free(blob);
    vault_free(v);
}

static void test_truncated_and_extended(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A);
    uint8_t *blob = NULL, *longer;
    size_t len = 0;

    seal(v, "webhook", "s", &blob, &len);
    for (size_t n = 0; n < len; n++)
        expect_crypto_fail(v, "webhook", blob, n);
    longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, len);
    longer[len] = 0;
    expect_crypto_fail(v, "webhook", longer, len + 1);
    free(longer);
    free(blob);
    vault_free(v);
}

static void test_random_nonce(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;

    seal(v, "jde_password", "same", &b1, &l1);
    seal(v, "jde_password", "same", &b2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_not_equal(b1 + 1, b2 + 1, 24); /* nonces */
    assert_memory_not_equal(b1, b2, l1);
    assert_true(opens_as(v, "jde_password", b1, l1, "same"));
    assert_true(opens_as(v, "jde_password", b2, l2, "same"));
    free(b1);
    free(b2);
    vault_free(v);
}

static void test_seal_arguments(void **state)
{
    struct fx *f = *state;
    struct vault *v = open_key(f->path, KEY_A);
    struct mlc_err e = {0};
    uint8_t *blob = (uint8_t *)1;
    size_t len = 1;
    char *big;

    assert_int_equal(vault_seal(v, "x", "", 0, &blob, &len, &e), MLC_EINVAL);
    assert_null(blob);
    assert_int_equal(vault_seal(v, "Bad Name", "s", 1, &blob, &len, &e), MLC_EINVAL);
    assert_int_equal(vault_seal(v, "", "s", 1, &blob, &len, &e), MLC_EINVAL);
    big = calloc(1, VAULT_MAX_SECRET + 1);
    assert_non_null(big);
    memset(big, 'x', VAULT_MAX_SECRET + 1);
    assert_int_equal(vault_seal(v, "x", big, VAULT_MAX_SECRET + 1, &blob, &len, &e),
                     MLC_ETOOBIG);
    assert_int_equal(vault_seal(v, "x", big, VAULT_MAX_SECRET, &blob, &len, &e),
                     MLC_OK);
    free(blob);
    free(big);
    vault_free(v);
}

static void test_names(void **state)
{
    char longest[VAULT_NAME_MAX + 2];

    (void)state;
    assert_true(vault_name_ok("jde_password"));
    assert_true(vault_name_ok("bigcommerce.token-2"));
    assert_false(vault_name_ok(NULL));
    assert_false(vault_name_ok(""));
    assert_false(vault_name_ok("Upper"));
    assert_false(vault_name_ok("a b"));
    assert_false(vault_name_ok("a/b"));
    assert_false(vault_name_ok("a'b"));
    memset(longest, 'a', sizeof(longest));
    longest[VAULT_NAME_MAX] = '\0';
    assert_true(vault_name_ok(longest));
    longest[VAULT_NAME_MAX] = 'a';
    longest[VAULT_NAME_MAX + 1] = '\0';
    assert_false(vault_name_ok(longest));
}

/* ---- key files and the environment -------------------------------------- */

static void test_create_keyfile(void **state)
{
    struct fx *f = *state;
    struct vault *v = NULL;
    struct mlc_err e = {0};
    char before[64] = {0}, after[64] = {0}, link[192];
    struct stat st;
    mode_t old = umask(0);
    int fd;

    assert_int_equal(vault_create_keyfile(f->path, &e), MLC_OK);
    umask(old);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 45); /* 44 base64 characters + newline */
    fd = open(f->path, O_RDONLY);
    assert_int_equal(read(fd, before, sizeof(before)), 45);
    close(fd);
    assert_int_equal(before[44], '\n');
    assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_OK);
    vault_free(v);

    /* O_EXCL: an existing key is never replaced. */
    assert_int_equal(vault_create_keyfile(f->path, &e), MLC_EEXIST);
    assert_non_null(strstr(e.msg, f->path));
    fd = open(f->path, O_RDONLY);
    assert_int_equal(read(fd, after, sizeof(after)), 45);
    close(fd);
    assert_memory_equal(before, after, 45);

    /* Nor is a symlink followed. */
    snprintf(link, sizeof(link), "%s/link.key", f->dir);
    assert_int_equal(symlink(f->path, link), 0);
    assert_int_equal(vault_create_keyfile(link, &e), MLC_EEXIST);

    /* Two fresh keys differ. */
    snprintf(link, sizeof(link), "%s/b.key", f->dir);
    assert_int_equal(vault_create_keyfile(link, &e), MLC_OK);
    fd = open(link, O_RDONLY);
    assert_int_equal(read(fd, after, sizeof(after)), 45);
    close(fd);
    assert_memory_not_equal(before, after, 44);
}

static void test_keyfile_modes(void **state)
{
    struct fx *f = *state;
    static const mode_t refused[] = { 0644, 0640, 0604, 0660, 0606, 0700 | 07 };
    struct vault *v = NULL;
    struct mlc_err e = {0};
    char want[256];

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        write_key(f->path, KEY_A "\n", refused[i]);
        assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_EAUTH);
        assert_null(v);
        snprintf(want, sizeof(want), "chmod 600 %s", f->path);
        assert_non_null(strstr(e.msg, want));
        assert_null(strstr(e.msg, KEY_A));
    }
    write_key(f->path, KEY_A "\n", 0400);
    assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_OK);
    vault_free(v);
    unlink(f->path);

    assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, f->path));
    assert_int_equal(vault_open_keyfile(f->dir, &v, &e), MLC_EINVAL); /* a directory */
    assert_null(v);
}

static void test_env_wins(void **state)
{
    struct fx *f = *state;
    struct vault *a = open_key(f->path, KEY_A);
    struct vault *v = NULL;
    struct mlc_err e = {0};
    uint8_t *blob = NULL;
    size_t len = 0;
    char missing[192];

    seal(a, "jde_password", "pw", &blob, &len);

    assert_int_equal(setenv(VAULT_ENV, KEY_B, 1), 0);
    assert_int_equal(vault_open_env_or_file(f->path, &v, &e), MLC_OK);
    assert_false(opens_as(v, "jde_password", blob, len, "pw")); /* B, not A */
    vault_free(v);
    /* The environment alone is enough. */
    snprintf(missing, sizeof(missing), "%s/none.key", f->dir);
    assert_int_equal(vault_open_env_or_file(missing, &v, &e), MLC_OK);
    vault_free(v);
    assert_int_equal(vault_open_env_or_file(NULL, &v, &e), MLC_OK);
    vault_free(v);

    assert_int_equal(setenv(VAULT_ENV, KEY_A "\n", 1), 0);
    assert_int_equal(vault_open_env_or_file(missing, &v, &e), MLC_OK);
    assert_true(opens_as(v, "jde_password", blob, len, "pw"));
    vault_free(v);

    /* Set but empty: an error, not a silent fall back to the file. */
    assert_int_equal(setenv(VAULT_ENV, "", 1), 0);
    assert_int_equal(vault_open_env_or_file(f->path, &v, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, VAULT_ENV));
    assert_null(v);

    assert_int_equal(unsetenv(VAULT_ENV), 0);
    assert_int_equal(vault_open_env_or_file(f->path, &v, &e), MLC_OK);
    assert_true(opens_as(v, "jde_password", blob, len, "pw"));
    vault_free(v);
    assert_int_equal(vault_open_env_or_file(missing, &v, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, VAULT_ENV)); /* says how else to give a key */

    free(blob);
    vault_free(a);
}

static void test_bad_encodings(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "",
        "\n",
        "   \n",
        /* hex of 32 bytes: not the chosen encoding */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "AAECAwQFBgcICQoLDA0ODw==",                           /* 16 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",   /* 34 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",        /* no padding */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",       /* bad char */
        "AAECAwQFBgcICQoL DA0ODxAREhMUFRYXGBkaGxwdHh8=",      /* inner space */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" KEY_B "\n", /* 2 keys */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",       /* all zeros */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8-",       /* url-safe */
    };
    struct vault *v = NULL;
    struct mlc_err e = {0};
    char big[400];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_key(f->path, bad[i], 0600);
        assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_EINVAL);
        assert_null(v);
        assert_non_null(strstr(e.msg, f->path));
        if (strlen(bad[i]) > 8)
            assert_null(strstr(e.msg, bad[i] + 4)); /* the key is not echoed */
        if (bad[i][0] != '\0') { /* empty is tested in test_env_wins */
            assert_int_equal(setenv(VAULT_ENV, bad[i], 1), 0);
            assert_int_equal(vault_open_env_or_file(f->path, &v, &e), MLC_EINVAL);
            assert_null(v);
            assert_non_null(strstr(e.msg, VAULT_ENV));
            unsetenv(VAULT_ENV);
        }
    }
    /* Trailing whitespace is fine; a file far larger than a key is not. */
    write_key(f->path, KEY_A " \t\r\n\n", 0600);
    assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_OK);
    vault_free(v);
    memset(big, ' ', sizeof(big));
    memcpy(big, KEY_A, strlen(KEY_A));
    write_file(f->path, big, sizeof(big), 0600);
    assert_int_equal(vault_open_keyfile(f->path, &v, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "too large"));
}

/* ---- daemon/credentials glue ---------------------------------------------- */

static void test_key_path(void **state)
{
    static const struct { const char *cfg, *file, *want; } cases[] = {
        { "/etc/mlc/mlc.yaml", "mlc.key", "/etc/mlc/mlc.key" },
        { "/etc/mlc/mlc.yaml", "keys/m.key", "/etc/mlc/keys/m.key" },
        { "/etc/mlc/mlc.yaml", "/var/lib/mlc/m.key", "/var/lib/mlc/m.key" },
        { "mlc.yaml", "mlc.key", "mlc.key" },
        { "conf/mlc.yaml", "mlc.key", "conf/mlc.key" },
        { "/mlc.yaml", "mlc.key", "/mlc.key" },
        { "/etc/mlc/mlc.yaml", NULL, "/etc/mlc/mlc.key" },
    };
    struct mlc_config cfg;
    struct mlc_err e = {0};
    char *p = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.path = (char *)cases[i].cfg;
        cfg.store.master_key_file = (char *)cases[i].file;
        assert_int_equal(credentials_key_path(&cfg, &p, &e), MLC_OK);
        assert_string_equal(p, cases[i].want);
        free(p);
    }
}

static void test_refs(void **state)
{
    struct credentials_ref refs[CREDENTIALS_MAX_REFS];
    struct mlc_config cfg;
    size_t n;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.bigcommerce.token_ref = (char *)"bc_tok";
    cfg.jde.password_ref = (char *)"jde_pw";
    n = credentials_refs(&cfg, refs);
    assert_int_equal(n, 4);
    assert_string_equal(refs[0].kind, "bigcommerce");
    assert_string_equal(refs[0].key, "bigcommerce.token_ref");
    assert_string_equal(refs[0].name, "bc_tok");
    assert_string_equal(refs[1].kind, "jde");
    assert_string_equal(refs[1].name, "jde_pw");
    assert_string_equal(refs[2].kind, "webhook");
    assert_null(refs[2].name);
    assert_string_equal(refs[3].kind, "client-secret");
    assert_string_equal(refs[3].key, "bigcommerce.client_secret_ref");
}

static void test_load_from_store(void **state)
{
    struct fx *f = *state;
    struct vault *a = open_key(f->path, KEY_A);
    struct vault *b = open_key(f->path, KEY_B);
    struct mlc_secret *s = NULL;
    struct mlc_err e = {0};
    struct store *st = NULL;
    uint8_t *blob = NULL;
    size_t len = 0;
    char db[192];

    snprintf(db, sizeof(db), "%s/t.db", f->dir);
    assert_int_equal(store_open(db, &st, &e), MLC_OK);
    seal(a, "jde_password", "pw-CANARY", &blob, &len);
    assert_int_equal(store_secret_put(st, "jde_password", blob, len, &e), MLC_OK);
    /* The same blob copied under another name must not open. */
    assert_int_equal(store_secret_put(st, "bigcommerce_token", blob, len, &e), MLC_OK);
    free(blob);

    assert_int_equal(credentials_load(a, st, "jde_password", &s, &e), MLC_OK);
    assert_true(secret_equals(s, "pw-CANARY", 9));
    secret_free(s);
    assert_int_equal(credentials_load(b, st, "jde_password", &s, &e), MLC_ECRYPTO);
    assert_null(s);
    assert_string_equal(e.msg, "cannot decrypt credential 'jde_password': "
                        "wrong master key or damaged data");
    assert_int_equal(credentials_load(a, st, "bigcommerce_token", &s, &e),
                     MLC_ECRYPTO);
    assert_int_equal(credentials_load(a, st, "absent", &s, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "mlc credentials set"));
    assert_int_equal(credentials_load(a, st, "Bad Name", &s, &e), MLC_EINVAL);
    store_close(st);
    vault_free(a);
    vault_free(b);
}

/* Last: once taken, the process keeps the key it started with. The
 * variable leaves the environment, its bytes are wiped, and the vault
 * opens with the kept copy. */
static void test_take_env(void **state)
{
    struct fx *f = *state;
    struct vault *a = open_key(f->path, KEY_A), *v = NULL;
    struct mlc_err e = {0};
    uint8_t *blob = NULL;
    size_t len = 0;
    char *raw;

    seal(a, "jde_password", "pw", &blob, &len);
    assert_int_equal(setenv(VAULT_ENV, KEY_A, 1), 0);
    raw = getenv(VAULT_ENV);
    assert_int_equal(vault_take_env(), MLC_OK);
    assert_null(getenv(VAULT_ENV));
    for (size_t i = 0; i < strlen(KEY_A); i++)
        assert_int_equal(raw[i], 0);
    assert_true(vault_env_set());
    assert_int_equal(vault_open_env_or_file(NULL, &v, &e), MLC_OK);
    assert_true(opens_as(v, "jde_password", blob, len, "pw"));
    vault_free(v);
    vault_free(a);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(test_round_trip),
        T(test_wrong_key),
        T(test_other_name),
        T(test_flipped_bits),
        T(test_truncated_and_extended),
        T(test_random_nonce),
        T(test_seal_arguments),
        T(test_names),
        T(test_create_keyfile),
        T(test_keyfile_modes),
        T(test_env_wins),
        T(test_bad_encodings),
        T(test_key_path),
        T(test_refs),
        T(test_load_from_store),
        T(test_take_env),
#undef T
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests_name("vault", tests, NULL, NULL);
}
