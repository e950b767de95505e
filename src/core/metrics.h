/*
 * metrics: a Prometheus text-format (version 0.0.4) writer into a buffer
 * that grows as needed, so an exposition is never cut short however many
 * series it holds.
 *
 * Every writer call appends; once an allocation fails the writer stays
 * failed (oom) and later calls do nothing, so callers check only at the end
 * (metrics_take). Names and label values are the caller's: metric names are
 * constants, label values are escaped here (backslash, quote, newline).
 *
 * Ownership: struct metrics is caller-allocated; metrics_take hands the text
 * to the caller (free), metrics_free drops it. Not thread-safe: one writer
 * per scrape.
 */
#ifndef MLC_CORE_METRICS_H
#define MLC_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics {
    char  *buf;
    size_t len;
    size_t cap;
    bool   oom;
};

void metrics_init(struct metrics *m);
void metrics_free(struct metrics *m); /* NULL-safe; back to empty */

/* Appends formatted text as it is. */
void metrics_printf(struct metrics *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge). */
void metrics_head(struct metrics *m, const char *name, const char *type,
                  const char *help);
/* One sample: name{label="value"} v; label NULL: no label. */
void metrics_sample(struct metrics *m, const char *name, const char *label,
                    const char *value, int64_t v);
/* HELP, TYPE and one unlabelled sample. */
void metrics_one(struct metrics *m, const char *name, const char *type,
                 const char *help, int64_t v);

/* The text (NUL-terminated, *len without the NUL) for the caller to free,
 * and the writer is empty again; NULL when an allocation failed. */
char *metrics_take(struct metrics *m, size_t *len);

#endif
