/* metrics: see metrics.h. */
#include "core/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_FIRST_CAP 4096

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof(*m));
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    free(m->buf);
    metrics_init(m);
}

/* Room for need more bytes plus the NUL; false (and oom) when it fails. */
static bool reserve(struct metrics *m, size_t need)
{
    size_t cap = m->cap != 0 ? m->cap : METRICS_FIRST_CAP;
    char *nb;

    if (m->oom)
        return false;
    if (need > SIZE_MAX / 2 - m->len) {
        m->oom = true;
        return false;
    }
    while (cap < m->len + need + 1)
        cap *= 2;
    if (cap == m->cap)
        return true;
    if ((nb = realloc(m->buf, cap)) == NULL) {
        m->oom = true;
        return false;
    }
    m->buf = nb;
    m->cap = cap;
    return true;
}

static void vappend(struct metrics *m, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) {
        m->oom = true;
        return;
    }
    if (!reserve(m, (size_t)n))
        return;
    vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
    m->len += (size_t)n;
}

void metrics_printf(struct metrics *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vappend(m, fmt, ap);
    va_end(ap);
}

void metrics_head(struct metrics *m, const char *name, const char *type,
                  const char *help)
{
    metrics_printf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with the three characters the format escapes escaped. */
static void put_label_value(struct metrics *m, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\')
            metrics_printf(m, "\\\\");
        else if (*v == '"')
            metrics_printf(m, "\\\"");
        else if (*v == '\n')
            metrics_printf(m, "\\n");
        else
            metrics_printf(m, "%c", *v);
    }
}

void metrics_sample(struct metrics *m, const char *name, const char *label,
                    const char *value, int64_t v)
{
    metrics_printf(m, "%s", name);
    if (label != NULL) {
        metrics_printf(m, "{%s=\"", label);
        put_label_value(m, value != NULL ? value : "");
        metrics_printf(m, "\"}");
    }
    metrics_printf(m, " %lld\n", (long long)v);
}

void metrics_one(struct metrics *m, const char *name, const char *type,
                 const char *help, int64_t v)
{
    metrics_head(m, name, type, help);
    metrics_sample(m, name, NULL, NULL, v);
}

char *metrics_take(struct metrics *m, size_t *len)
{
    char *out;

    if (m->oom || !reserve(m, 0)) {
        metrics_free(m);
        return NULL;
    }
    m->buf[m->len] = '\0';
    out = m->buf;
    if (len != NULL)
        *len = m->len;
    metrics_init(m);
    return out;
}
