#include "core/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HEADER_BYTES (1 + NONCE_BYTES)
#define AD_TAG      "mlc-credential:"
#define AD_MAX      (1 + sizeof(AD_TAG) - 1 + VAULT_NAME_MAX)
/* A key file holds 44 characters and a newline; anything much larger is
 * not a key file (and must not be slurped into locked memory). */
#define KEYFILE_MAX 256
#define KEY_B64_LEN sodium_base64_ENCODED_LEN(VAULT_KEY_BYTES, \
                                              sodium_base64_VARIANT_ORIGINAL)

struct vault {
    unsigned char *key; /* sodium_malloc, read-only after load */
};

_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == VAULT_KEY_BYTES,
               "master key size");

static const char key_hint[] =
    "expected one line of base64 encoding 32 bytes, "
    "e.g. from `openssl rand -base64 32`";

bool vault_name_ok(const char *name)
{
    size_t n;

    if (name == NULL)
        return false;
    n = strlen(name);
    if (n == 0 || n > VAULT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

void vault_free(struct vault *v)
{
    if (v == NULL)
        return;
    sodium_free(v->key); /* wipes before unmapping */
    free(v);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes the key text of origin ("MLC_MASTER_KEY" or the file path). */
static int parse_key(const char *text, size_t len, const char *origin,
                     struct vault **out, struct mlc_err *e)
{
    struct vault *v = NULL;
    const char *end = NULL;
    size_t bin_len = 0;
    int rc;

    while (len > 0 && is_space(text[len - 1]))
        len--;
    if (len == 0)
        return mlc_err_set(e, MLC_EINVAL, "master key in %s is empty: %s",
                           origin, key_hint);
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory for the master key");
    v->key = sodium_malloc(VAULT_KEY_BYTES);
    if (v->key == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of locked memory for the master key");
        goto fail;
    }
    if (sodium_base642bin(v->key, VAULT_KEY_BYTES, text, len, NULL, &bin_len,
                          &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text + len || bin_len != VAULT_KEY_BYTES) {
        rc = mlc_err_set(e, MLC_EINVAL, "master key in %s is malformed: %s",
                         origin, key_hint);
        goto fail;
    }
    if (sodium_is_zero(v->key, VAULT_KEY_BYTES)) {
        rc = mlc_err_set(e, MLC_EINVAL, "master key in %s is all zeros: "
                         "generate a random one", origin);
        goto fail;
    }
    sodium_mprotect_readonly(v->key);
    *out = v;
    return MLC_OK;
fail:
    vault_free(v);
    return rc;
}

static int err_errno(struct mlc_err *e, int code, const char *what,
                     const char *path, int errnum)
{
    char buf[128];

    return mlc_err_set(e, code, "%s %s: %s", what, path,
                       strerror_r(errnum, buf, sizeof(buf)));
}

/* Refuses anything but a regular file closed to group and others. */
static int check_keyfile_mode(int fd, const char *path, struct mlc_err *e)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return err_errno(e, MLC_EIO, "cannot stat master key file", path, errno);
    if (!S_ISREG(st.st_mode))
        return mlc_err_set(e, MLC_EINVAL,
                           "master key file %s is not a regular file", path);
    if ((st.st_mode & 077) != 0)
        return mlc_err_set(e, MLC_EAUTH,
                           "master key file %s is accessible by group or "
                           "others (mode %04o); fix with: chmod 600 %s",
                           path, (unsigned)(st.st_mode & 07777), path);
    return MLC_OK;
}

/* Reads at most KEYFILE_MAX bytes of fd into buf (KEYFILE_MAX + 1 long). */
static int read_keyfile(int fd, const char *path, char *buf, size_t *len,
                        struct mlc_err *e)
{
    size_t n = 0;

    for (;;) {
        ssize_t r = read(fd, buf + n, KEYFILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_errno(e, MLC_EIO, "cannot read master key file", path,
                             errno);
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > KEYFILE_MAX)
            return mlc_err_set(e, MLC_EINVAL, "master key file %s is too large "
                               "to be a key: %s", path, key_hint);
    }
    *len = n;
    return MLC_OK;
}

int vault_open_keyfile(const char *path, struct vault **out, struct mlc_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    int fd, rc;

    *out = NULL;
    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialize");
    if (path == NULL || path[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "no master key file given and %s "
                           "is not set", VAULT_ENV);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT)
        return mlc_err_set(e, MLC_ENOTFOUND, "master key file %s does not "
                           "exist (mlc init creates one, or set %s)", path,
                           VAULT_ENV);
    if (fd < 0)
        return err_errno(e, MLC_EIO, "cannot open master key file", path, errno);
    rc = check_keyfile_mode(fd, path, e);
    if (rc != MLC_OK)
        goto out;
    /* The key text is key material too: keep it in locked memory. */
    buf = sodium_malloc(KEYFILE_MAX + 1);
    if (buf == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of locked memory for the master key");
        goto out;
    }
    rc = read_keyfile(fd, path, buf, &len, e);
    if (rc == MLC_OK)
        rc = parse_key(buf, len, path, out, e);
out:
    sodium_free(buf);
    close(fd);
    return rc;
}

/* The process's one copy of MLC_MASTER_KEY, taken by vault_take_env before
 * any thread starts and read-only afterwards: guarded memory (no swap, no
 * core dump), while the variable itself is wiped from the environment. */
static struct {
    bool   taken, set;
    char  *text;  /* sodium_malloc'd; NULL when not set */
    size_t len;
} env_key;

int vault_take_env(void)
{
    char *env = getenv(VAULT_ENV);
    size_t n;

    if (env_key.taken)
        return MLC_OK;
    env_key.taken = true;
    if (env == NULL)
        return MLC_OK;
    if (secret_lib_init() != MLC_OK)
        return MLC_ECRYPTO;
    n = strlen(env);
    env_key.text = sodium_malloc(n + 1);
    if (env_key.text == NULL)
        return MLC_ENOMEM;
    memcpy(env_key.text, env, n + 1);
    env_key.len = n;
    env_key.set = true;
    /* /proc/PID/environ shows the bytes where the kernel put them: drop
     * the entry, then wipe "NAME=value" there (neither glibc nor the
     * kernel frees that memory). */
    env -= sizeof(VAULT_ENV);
    unsetenv(VAULT_ENV);
    sodium_memzero(env, sizeof(VAULT_ENV) + n);
    return MLC_OK;
}

bool vault_env_set(void)
{
    return env_key.taken ? env_key.set : getenv(VAULT_ENV) != NULL;
}

int vault_open_env_or_file(const char *path, struct vault **out,
                           struct mlc_err *e)
{
    const char *env = env_key.taken ? env_key.text : getenv(VAULT_ENV);

    *out = NULL;
    if (env == NULL)
        return vault_open_keyfile(path, out, e);
    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialize");
    /* Set but empty is an error, not a silent fall back to the file. */
    return parse_key(env, strlen(env), VAULT_ENV, out, e);
}

/* ---- key file creation ---------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes the new directory entry durable: a key that vanishes after a power
 * cut would strand the credentials sealed with it. */
static int sync_parent_dir(const char *path, struct mlc_err *e)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));
    char *dir = malloc(n + 1);
    int fd, rc = MLC_OK;

    if (dir == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    if (slash == NULL)
        memcpy(dir, ".", 2);
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        rc = err_errno(e, MLC_EIO, "cannot sync directory", dir, errno);
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Fills the new key file fd with a random key, mode 0600, synced. */
static int fill_keyfile(int fd, const char *path, struct mlc_err *e)
{
    unsigned char *key = sodium_malloc(VAULT_KEY_BYTES);
    char *text = sodium_malloc(KEY_B64_LEN + 1);
    size_t len;
    int rc = MLC_OK;

    if (key == NULL || text == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "out of locked memory for the master key");
        goto out;
    }
    randombytes_buf(key, VAULT_KEY_BYTES);
    sodium_bin2base64(text, KEY_B64_LEN, key, VAULT_KEY_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    len = strlen(text);
    text[len++] = '\n';
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0)
        rc = err_errno(e, MLC_EIO, "cannot write master key file", path, errno);
out:
    sodium_free(text);
    sodium_free(key);
    return rc;
}

int vault_create_keyfile(const char *path, struct mlc_err *e)
{
    int fd, rc;

    if (secret_lib_init() != MLC_OK)
        return mlc_err_set(e, MLC_ECRYPTO, "libsodium failed to initialize");
    if (path == NULL || path[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "no master key file path");
    /* O_EXCL + O_NOFOLLOW: never replace a key, never follow a planted link. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return mlc_err_set(e, MLC_EEXIST, "master key file %s already exists; "
                           "refusing to overwrite it (credentials sealed with "
                           "it would become unreadable)", path);
    if (fd < 0)
        return err_errno(e, MLC_EIO, "cannot create master key file", path, errno);
    rc = fill_keyfile(fd, path, e);
    if (close(fd) != 0 && rc == MLC_OK)
        rc = err_errno(e, MLC_EIO, "cannot write master key file", path, errno);
    if (rc == MLC_OK)
        rc = sync_parent_dir(path, e);
    if (rc != MLC_OK)
        unlink(path);
    return rc;
}

/* ---- seal and open ----------------------------------------------------------- */

/* Associated data: version || "mlc-credential:" || name. Binds the blob to
 * its name and format version. */
static size_t build_ad(unsigned char *ad, unsigned char version, const char *name)
{
    size_t tag = sizeof(AD_TAG) - 1, n = strlen(name);

    ad[0] = version;
    memcpy(ad + 1, AD_TAG, tag);
    memcpy(ad + 1 + tag, name, n);
    return 1 + tag + n;
}

int vault_seal(const struct vault *v, const char *name, const void *plaintext,
               size_t len, uint8_t **blob, size_t *blob_len,
               struct mlc_err *e)
{
    unsigned char ad[AD_MAX];
    unsigned long long clen = 0;
    size_t ad_len, total;
    uint8_t *b;

    *blob = NULL;
    *blob_len = 0;
    if (v == NULL || plaintext == NULL)
        return mlc_err_set(e, MLC_EINVAL, "vault_seal: missing argument");
    if (!vault_name_ok(name))
        return mlc_err_set(e, MLC_EINVAL, "invalid credential name: expected "
                           "1-64 characters a-z 0-9 _ . -");
    if (len == 0)
        return mlc_err_set(e, MLC_EINVAL, "credential '%s': empty secret", name);
    if (len > VAULT_MAX_SECRET)
        return mlc_err_set(e, MLC_ETOOBIG, "credential '%s': secret longer "
                           "than %d bytes", name, VAULT_MAX_SECRET);
    total = HEADER_BYTES + len + TAG_BYTES;
    b = malloc(total);
    if (b == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    b[0] = VAULT_VERSION;
    randombytes_buf(b + 1, NONCE_BYTES);
    ad_len = build_ad(ad, VAULT_VERSION, name);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            b + HEADER_BYTES, &clen, plaintext, len, ad, ad_len, NULL, b + 1,
            v->key) != 0 || clen != len + TAG_BYTES) {
        free(b);
        return mlc_err_set(e, MLC_ECRYPTO, "credential '%s': encryption failed",
                           name);
    }
    *blob = b;
    *blob_len = total;
    return MLC_OK;
}

static int damaged(struct mlc_err *e, const char *name)
{
    return mlc_err_set(e, MLC_ECRYPTO, "cannot decrypt credential '%s': wrong "
                       "master key or damaged data", name);
}

int vault_open_secret(const struct vault *v, const char *name,
                      const void *blob, size_t len, struct mlc_secret **out,
                      struct mlc_err *e)
{
    const uint8_t *b = blob;
    unsigned char ad[AD_MAX];
    unsigned char *plain = NULL;
    unsigned long long plen = 0;
    size_t ad_len, mlen;
    int rc;

    *out = NULL;
    if (v == NULL || (blob == NULL && len > 0))
        return mlc_err_set(e, MLC_EINVAL, "vault_open_secret: missing argument");
    if (!vault_name_ok(name))
        return mlc_err_set(e, MLC_EINVAL, "invalid credential name: expected "
                           "1-64 characters a-z 0-9 _ . -");
    if (len < HEADER_BYTES + TAG_BYTES + 1)
        return damaged(e, name);
    if (b[0] != VAULT_VERSION)
        return mlc_err_set(e, MLC_ECRYPTO, "cannot decrypt credential '%s': "
                           "unknown format version %u (damaged data, or "
                           "written by a newer mlc)", name, (unsigned)b[0]);
    mlen = len - HEADER_BYTES - TAG_BYTES;
    if (mlen > VAULT_MAX_SECRET)
        return damaged(e, name);
    plain = sodium_malloc(mlen);
    if (plain == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of locked memory for a secret");
    ad_len = build_ad(ad, b[0], name);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &plen, NULL, b + HEADER_BYTES, len - HEADER_BYTES, ad,
            ad_len, b + 1, v->key) != 0 || plen != mlen) {
        rc = damaged(e, name);
        goto out;
    }
    rc = secret_new(plain, mlen, out, e);
out:
    sodium_free(plain); /* wipes the plaintext */
    return rc;
}
