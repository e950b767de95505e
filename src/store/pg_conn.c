/*
 * pg_conn: the libpq connection: connect and reconnect, and the password
 * named by store.password_ref (see pg_int.h). The password lives in a
 * stack buffer for the length of PQconnectdbParams and is wiped after;
 * it is never part of a string that could be logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/pg_int.h"

#define PG_PASSWORD_MAX 1024

bool pg_conn_ok(const struct pg_store *s)
{
    return s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK;
}

/* "systemd:NAME": the credential systemd hands the service
 * (LoadCredential=), a file in $CREDENTIALS_DIRECTORY. */
static int credential_path(const char *name, char *buf, size_t cap,
                           struct mlc_err *e)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");

    if (name[0] == '\0' || strchr(name, '/') != NULL ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return mlc_err_set(e, MLC_EINVAL, "store: password_ref: bad systemd "
                           "credential name \"%s\"", name);
    if (dir == NULL || dir[0] == '\0')
        return mlc_err_set(e, MLC_ENOTFOUND, "store: password_ref: systemd "
                           "credential %s: CREDENTIALS_DIRECTORY is not set "
                           "(LoadCredential=%s:... in the unit)", name, name);
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
        return mlc_err_set(e, MLC_EINVAL, "store: password_ref: path too long");
    return MLC_OK;
}

/* Reads the first line of path: a regular file nobody else may write and
 * the world may not read (0600, 0640, 0400 and 0440 pass). */
static int read_secret_file(const char *path, char *buf, size_t cap,
                            struct mlc_err *e)
{
    struct stat sb;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = MLC_OK;

    if (fd < 0)
        return mlc_err_set(e, errno == ENOENT ? MLC_ENOTFOUND : MLC_EIO,
                           "store: password_ref: cannot open %s: %s", path,
                           strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = mlc_err_set(e, MLC_EINVAL, "store: password_ref: %s is not a "
                         "regular file", path);
    } else if ((sb.st_mode & 0027) != 0) {
        rc = mlc_err_set(e, MLC_EINVAL, "store: password_ref: %s has mode "
                         "%04o: it must not be group-writable or readable by "
                         "others (chmod 0600 or 0640)", path,
                         (unsigned)(sb.st_mode & 07777));
    } else {
        n = read(fd, buf, cap - 1);
        if (n < 0) {
            rc = mlc_err_set(e, MLC_EIO, "store: password_ref: cannot read "
                             "%s: %s", path, strerror(errno));
        } else if ((size_t)n == cap - 1 && memchr(buf, '\n', (size_t)n) == NULL) {
            rc = mlc_err_set(e, MLC_ETOOBIG, "store: password_ref: %s: the "
                             "password is longer than %d bytes", path,
                             PG_PASSWORD_MAX - 1);
        } else {
            buf[n] = '\0';
            buf[strcspn(buf, "\r\n")] = '\0';
            if (buf[0] == '\0')
                rc = mlc_err_set(e, MLC_EINVAL, "store: password_ref: %s is "
                                 "empty", path);
        }
    }
    close(fd);
    if (rc != MLC_OK)
        explicit_bzero(buf, cap);
    return rc;
}

int pg_password_read(const char *ref, char *buf, size_t cap,
                     struct mlc_err *e)
{
    char path[4096];
    int rc;

    if (strncmp(ref, "file:", 5) == 0)
        return read_secret_file(ref + 5, buf, cap, e);
    if (strncmp(ref, "systemd:", 8) == 0) {
        rc = credential_path(ref + 8, path, sizeof(path), e);
        return rc != MLC_OK ? rc : read_secret_file(path, buf, cap, e);
    }
    return mlc_err_set(e, MLC_EINVAL, "store: password_ref must be file:PATH "
                       "or systemd:NAME");
}

/* libpq's last error on one line. It names host, user and database, never
 * a password. */
static int connect_fail(struct pg_store *s, struct mlc_err *e)
{
    char msg[400];
    const char *m = PQerrorMessage(s->conn);
    int code = MLC_EIO;

    snprintf(msg, sizeof(msg), "%s", m != NULL ? m : "out of memory");
    for (char *p = msg; *p != '\0'; p++)
        if (*p == '\n')
            *p = p[1] == '\0' ? '\0' : ' ';
    if (strstr(msg, "password authentication failed") != NULL ||
        strstr(msg, "no password supplied") != NULL ||
        strstr(msg, "authentication failed") != NULL)
        code = MLC_EAUTH;
    return mlc_err_set(e, code, "store: cannot connect to PostgreSQL: %s", msg);
}

/* The server's notices (NOTICE, WARNING outside an error) would go to
 * stderr by default, outside the log's format; none of ours needs one. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * The URL is expanded where "dbname" stands; keywords before it are
 * defaults the URL may override, keywords after it win. The password
 * (when a reference names one) comes last so the URL cannot replace it.
 */
int pg_connect(struct pg_store *s, struct mlc_err *e)
{
    char password[PG_PASSWORD_MAX];
    const char *keys[8], *vals[8];
    int n = 0, rc = MLC_OK;

    if (s->password_ref != NULL &&
        (rc = pg_password_read(s->password_ref, password, sizeof(password),
                               e)) != MLC_OK)
        return rc;
    keys[n] = "connect_timeout";           vals[n++] = "10";
    keys[n] = "fallback_application_name"; vals[n++] = "mlc";
    keys[n] = "client_encoding";           vals[n++] = "UTF8";
    keys[n] = "dbname";                    vals[n++] = s->url;
    if (s->password_ref != NULL) {
        keys[n] = "password";
        vals[n++] = password;
    }
    keys[n] = NULL;
    vals[n] = NULL;
    PQfinish(s->conn);
    memset(s->prepared, 0, sizeof(s->prepared));
    s->conn = PQconnectdbParams(keys, vals, 1);
    explicit_bzero(password, sizeof(password));
    if (!pg_conn_ok(s))
        return connect_fail(s, e);
    PQsetNoticeProcessor(s->conn, drop_notice, NULL);
    return rc;
}
