#include "core/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The logging sink: the program's one piece of global logging state. */
static _Atomic int log_level_g = LOG_LVL_INFO;
static _Atomic int log_fd_g = 2;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Key names whose string values are credentials whatever the caller meant. */
static const char *const secret_keys[] = {
    "password", "passwd", "secret", "token", "authorization", "cookie",
    "credential", "master_key", "api_key", "client_secret",
};

void log_set_level(enum log_level lvl) { atomic_store(&log_level_g, (int)lvl); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&log_level_g); }
void log_set_fd(int fd) { atomic_store(&log_fd_g, fd); }

bool log_enabled(enum log_level lvl)
{
    return (int)lvl <= atomic_load_explicit(&log_level_g, memory_order_relaxed);
}

static const char *log_level_name(enum log_level lvl)
{
    if ((int)lvl < 0 || (size_t)lvl >= sizeof(level_names) / sizeof(level_names[0]))
        return "unknown";
    return level_names[lvl];
}

int log_parse_level(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (name != NULL && strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return MLC_OK;
        }
    }
    if (name != NULL && strcasecmp(name, "warning") == 0) {
        *out = LOG_LVL_WARN;
        return MLC_OK;
    }
    return MLC_EINVAL;
}

static bool key_is_secret(const char *key)
{
    for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
        if (strcasestr(key, secret_keys[i]) != NULL)
            return true;
    return false;
}

/* A bounded line builder: appends never overflow, and a cut line is marked. */
struct line {
    char  *buf;
    size_t cap; /* usable bytes, excluding room for "...\n\0" */
    size_t len;
    bool   cut;
};

static void put_raw(struct line *l, const char *s, size_t n)
{
    if (l->cut)
        return;
    if (n > l->cap - l->len) {
        n = l->cap - l->len;
        l->cut = true;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s) { put_raw(l, s, strlen(s)); }

static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return true;
    }
    return false;
}

/* Writes a value, quoted and escaped when needed (logfmt). */
static void put_value(struct line *l, const char *s)
{
    char esc[8];

    if (s == NULL) {
        put_str(l, "\"\"");
        return;
    }
    if (!needs_quotes(s)) {
        put_str(l, s);
        return;
    }
    put_raw(l, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':  put_raw(l, "\\\"", 2); break;
        case '\\': put_raw(l, "\\\\", 2); break;
        case '\n': put_raw(l, "\\n", 2); break;
        case '\r': put_raw(l, "\\r", 2); break;
        case '\t': put_raw(l, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02x", c);
                put_str(l, esc);
            } else {
                put_raw(l, (const char *)&c, 1);
            }
        }
    }
    put_raw(l, "\"", 1);
}

static void put_key(struct line *l, const char *key)
{
    put_raw(l, " ", 1);
    put_str(l, key);
    put_raw(l, "=", 1);
}

static void put_field(struct line *l, const struct log_field *f)
{
    char num[32];

    switch (f->type) {
    case LF_T_STR:
        put_key(l, f->key);
        put_value(l, key_is_secret(f->key) ? "[redacted]" : f->v.s);
        break;
    case LF_T_INT:
        snprintf(num, sizeof(num), "%lld", f->v.i);
        put_key(l, f->key);
        put_str(l, num);
        break;
    case LF_T_UINT:
        snprintf(num, sizeof(num), "%llu", f->v.u);
        put_key(l, f->key);
        put_str(l, num);
        break;
    case LF_T_BOOL:
        put_key(l, f->key);
        put_str(l, f->v.b ? "true" : "false");
        break;
    case LF_T_SECRET:
        put_key(l, f->key);
        put_str(l, "[redacted]");
        break;
    case LF_T_ERR:
        if (f->v.err == NULL || f->v.err->code == MLC_OK)
            break;
        put_key(l, "err");
        put_value(l, f->v.err->msg);
        put_key(l, "code");
        put_value(l, mlc_strerror(f->v.err->code));
        break;
    case LF_T_END:
        break;
    }
}

size_t log_format(char *buf, size_t cap, long long unix_ms, enum log_level lvl,
                  const char *mod, const char *msg,
                  const struct log_field *fields)
{
    struct line l = { .buf = buf, .cap = cap > 5 ? cap - 5 : 0 };
    struct tm tm;
    time_t secs = (time_t)(unix_ms / 1000);
    char ts[40];

    if (cap < 6) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    gmtime_r(&secs, &tm);
    snprintf(ts, sizeof(ts), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
    put_str(&l, ts);
    put_key(&l, "lvl");
    put_str(&l, log_level_name(lvl));
    put_key(&l, "mod");
    put_value(&l, mod);
    put_key(&l, "msg");
    put_value(&l, msg);
    for (const struct log_field *f = fields; f && f->type != LF_T_END; f++)
        put_field(&l, f);
    if (l.cut) {
        memcpy(l.buf + l.len, "...", 3);
        l.len += 3;
    }
    l.buf[l.len++] = '\n';
    l.buf[l.len] = '\0';
    return l.len;
}

void log_emit(enum log_level lvl, const char *mod, const char *msg,
              const struct log_field *fields)
{
    char buf[LOG_LINE_MAX];
    struct timespec now;
    size_t n;
    ssize_t w;
    int saved = errno;

    clock_gettime(CLOCK_REALTIME, &now);
    n = log_format(buf, sizeof(buf),
                   (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                   lvl, mod, msg, fields);
    do {
        w = write(atomic_load(&log_fd_g), buf, n);
    } while (w < 0 && errno == EINTR);
    errno = saved;
}
