/*
 * strbuf: see strbuf.h. Capacity doubles (from 64 bytes), so n appends
 * cost O(total length); a bounded buffer never allocates past its limit.
 */
#include "core/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRBUF_MIN_CAP 64

void strbuf_init(struct strbuf *sb)
{
    *sb = (struct strbuf)STRBUF_INIT;
}

void strbuf_init_bounded(struct strbuf *sb, size_t limit)
{
    strbuf_init(sb);
    sb->limit = limit;
}

bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *nb;

    if (sb->oom)
        return false;
    if (extra > SIZE_MAX - 1 - sb->len) {
        sb->oom = true;
        return false;
    }
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    cap = sb->cap < STRBUF_MIN_CAP ? STRBUF_MIN_CAP : sb->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (sb->limit > 0 && cap > sb->limit + 1)
        cap = need > sb->limit + 1 ? need : sb->limit + 1;
    if ((nb = realloc(sb->buf, cap)) == NULL) {
        sb->oom = true;
        return false;
    }
    nb[sb->len] = '\0';
    sb->buf = nb;
    sb->cap = cap;
    return true;
}

/* How many of n more bytes a bounded buffer keeps (all when unbounded). */
static size_t room_for(struct strbuf *sb, size_t n)
{
    size_t room;

    if (sb->limit == 0)
        return n;
    room = sb->len < sb->limit ? sb->limit - sb->len : 0;
    if (n > room) {
        sb->truncated = true;
        return room;
    }
    return n;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
    n = room_for(sb, n);
    if (n == 0 || !strbuf_reserve(sb, n))
        return;
    memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_addchars(struct strbuf *sb, char c, size_t n)
{
    n = room_for(sb, n);
    if (n == 0 || !strbuf_reserve(sb, n))
        return;
    memset(sb->buf + sb->len, c, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list again;
    size_t keep;
    int n;
    size_t guess = STRBUF_MIN_CAP / 2;

    if (sb->limit > 0) {
        size_t room = sb->len < sb->limit ? sb->limit - sb->len : 0;
        if (room < guess)
            guess = room;
    }
    if (sb->oom || !strbuf_reserve(sb, guess))
        return;
    va_copy(again, ap);
    n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    if (n < 0) {
        sb->buf[sb->len] = '\0';
        sb->oom = true; /* an encoding error: treated as a failed append */
        goto out;
    }
    keep = room_for(sb, (size_t)n);
    if ((size_t)n >= sb->cap - sb->len) {
        /* Did not fit: grow to what is kept and format again (cut by the
         * size when bounded). */
        if (!strbuf_reserve(sb, keep)) {
            sb->buf[sb->len] = '\0';
            goto out;
        }
        vsnprintf(sb->buf + sb->len, keep + 1, fmt, again);
    }
    sb->len += keep;
    sb->buf[sb->len] = '\0';
out:
    va_end(again);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
}

const char *strbuf_str(const struct strbuf *sb)
{
    return sb->buf != NULL ? sb->buf : "";
}

bool strbuf_failed(const struct strbuf *sb)
{
    return sb->oom;
}

char *strbuf_take(struct strbuf *sb)
{
    size_t limit = sb->limit;
    char *s;

    if (sb->oom) {
        strbuf_release(sb);
        sb->limit = limit;
        return NULL;
    }
    s = sb->buf != NULL ? sb->buf : calloc(1, 1);
    strbuf_init_bounded(sb, limit);
    return s;
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf != NULL)
        sb->buf[0] = '\0';
    sb->oom = false;
    sb->truncated = false;
}

void strbuf_release(struct strbuf *sb)
{
    if (sb == NULL)
        return;
    free(sb->buf);
    strbuf_init(sb);
}
