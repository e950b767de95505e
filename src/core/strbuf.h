/*
 * strbuf: a growing, always NUL-terminated byte string being appended to.
 *
 *     struct strbuf sb = STRBUF_INIT;
 *     strbuf_adds(&sb, "id=");
 *     strbuf_addf(&sb, "%d", id);
 *     if (strbuf_failed(&sb)) ... out of memory, checked once at the end
 *     char *s = strbuf_take(&sb);   caller frees; sb is empty again
 *
 * Appends never fail loudly: when memory runs out the buffer keeps what it
 * had, sets its oom flag and ignores every later append, so a builder
 * checks once at the end instead of after every call. A bounded buffer
 * (strbuf_init_bounded) keeps at most `limit` bytes and silently cuts the
 * rest, noting it in `truncated` (log excerpts of untrusted text).
 *
 * Bytes may include NUL (strbuf_add); strbuf_str then stops at the first.
 *
 * Ownership: the buffer owns its memory until strbuf_take hands it over;
 * strbuf_release frees it. Not thread-safe (one owner at a time).
 */
#ifndef MLC_CORE_STRBUF_H
#define MLC_CORE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char  *buf;       /* NULL until the first byte; read with strbuf_str */
    size_t len;       /* bytes held, without the terminating NUL */
    size_t cap;       /* bytes allocated at buf */
    size_t limit;     /* bounded: most bytes kept; 0 = unbounded */
    bool   oom;       /* an append ran out of memory: later ones are ignored */
    bool   truncated; /* bounded: some bytes were cut */
};

#define STRBUF_INIT { NULL, 0, 0, 0, false, false }

void strbuf_init(struct strbuf *sb);
/* At most limit (> 0) bytes are kept; more is cut, and truncated set. */
void strbuf_init_bounded(struct strbuf *sb, size_t limit);

/* Room for extra more bytes (and the NUL) without another allocation.
 * False, with oom set, when that memory cannot be had. */
bool strbuf_reserve(struct strbuf *sb, size_t extra);

void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
/* n copies of c. */
void strbuf_addchars(struct strbuf *sb, char c, size_t n);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The text so far ("" before anything was added); valid until the next
 * call that changes sb. */
const char *strbuf_str(const struct strbuf *sb);
/* True when an append ran out of memory (the text is then incomplete). */
bool strbuf_failed(const struct strbuf *sb);

/* The text, for the caller to free, and sb emptied (flags cleared, limit
 * kept). NULL when sb failed (its memory is freed) or out of memory. */
char *strbuf_take(struct strbuf *sb);
/* Empties sb, keeping its memory and limit; clears the flags. */
void strbuf_reset(struct strbuf *sb);
/* Frees sb's memory; sb is empty and unbounded again. NULL-safe. */
void strbuf_release(struct strbuf *sb);

#endif
