/* store_lock: one `mlc run` per SQLite file (see store.h). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/jdate.h"
#include "store/store_impl.h"

struct store_lock {
    int fd;
};

/* "pid=123 host=box since=2026-12-04T21:00:00Z" of the holder, or "". */
static void read_holder(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

static void write_holder(int fd)
{
    char host[256], since[32], line[400];
    int n;

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    jdate_iso8601_format((int64_t)time(NULL), since, sizeof(since), NULL);
    n = snprintf(line, sizeof(line), "pid=%ld host=%s since=%s\n", (long)getpid(), host, since);
    /* Best effort: the lock is the flock, the text only names its holder. */
    if (ftruncate(fd, 0) == 0 && n > 0)
        (void)!pwrite(fd, line, (size_t)n, 0);
}

int store_lock(const char *url, struct store_lock **out, struct mlc_err *e)
{
    const char *path = NULL;
    char lpath[4096], holder[400];
    struct store_lock *l;
    int fd, rc;

    *out = NULL;
    if (store_url_is_pg(url))
        return MLC_OK; /* several daemons share it, through leases */
    if ((rc = store_sqlite_path(url, &path, e)) != MLC_OK)
        return rc;
    if (strcmp(path, ":memory:") == 0)
        return MLC_OK;
    if ((size_t)snprintf(lpath, sizeof(lpath), "%s.lock", path) >= sizeof(lpath))
        return mlc_err_set(e, MLC_EINVAL, "store: path too long: %s", path);
    fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return mlc_err_set(e, MLC_EIO, "store: cannot open the lock file %s: %s", lpath,
                           strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;

        read_holder(fd, holder, sizeof(holder));
        close(fd);
        if (err == EWOULDBLOCK)
            return mlc_err_set(e, MLC_EBUSY, "store %s is in use by another mlc run (%s): "
                               "one daemon per SQLite file; stop it first, or use a "
                               "PostgreSQL store for several processes", path,
                               holder[0] != '\0' ? holder : "holder unknown");
        return mlc_err_set(e, MLC_EIO, "store: cannot lock %s: %s", lpath, strerror(err));
    }
    if ((l = malloc(sizeof(*l))) == NULL) {
        close(fd);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    write_holder(fd);
    l->fd = fd;
    *out = l;
    return MLC_OK;
}

void store_unlock(struct store_lock *l)
{
    if (l == NULL)
        return;
    close(l->fd); /* releases the flock; the file stays for the next holder */
    free(l);
}
