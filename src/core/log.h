/*
 * log: logfmt lines on stderr, one write(2) per line.
 *
 *   ts=2026-11-28T07:58:15.123Z lvl=info mod=store msg="job claimed" id=42
 *
 * Fields are typed (LF_STR, LF_INT, ...), never printf-formatted, so a value
 * is always quoted and escaped correctly. The level is checked before any
 * field is evaluated or formatted. Secrets are redacted by construction: a
 * struct mlc_secret can only be passed as LF_SECRET, which prints
 * "[redacted]", and a string field whose key names a credential (password,
 * token, secret, authorization, cookie, ...) is redacted too.
 *
 * State (level, fd) is process-global and lives in log.c: the logging sink is
 * one of the few named globals of the program.
 */
#ifndef MLC_CORE_LOG_H
#define MLC_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct mlc_secret;

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN  = 1,
    LOG_LVL_INFO  = 2,
    LOG_LVL_DEBUG = 3
};

enum log_ftype {
    LF_T_END = 0,
    LF_T_STR,
    LF_T_INT,
    LF_T_UINT,
    LF_T_BOOL,
    LF_T_SECRET,
    LF_T_ERR
};

struct log_field {
    const char    *key;
    enum log_ftype type;
    union {
        const char               *s;
        long long                 i;
        unsigned long long        u;
        bool                      b;
        const struct mlc_secret  *sec;
        const struct mlc_err     *err;
    } v;
};

#define LF_STR(k, x)    ((struct log_field){ .key = (k), .type = LF_T_STR, .v.s = (x) })
#define LF_INT(k, x)    ((struct log_field){ .key = (k), .type = LF_T_INT, .v.i = (long long)(x) })
#define LF_UINT(k, x)   ((struct log_field){ .key = (k), .type = LF_T_UINT, .v.u = (unsigned long long)(x) })
#define LF_BOOL(k, x)   ((struct log_field){ .key = (k), .type = LF_T_BOOL, .v.b = (x) })
#define LF_SECRET(k, x) ((struct log_field){ .key = (k), .type = LF_T_SECRET, .v.sec = (x) })
/* err="<message>" code=<name>; prints nothing when e is NULL or clear */
#define LF_ERR(e)       ((struct log_field){ .key = "err", .type = LF_T_ERR, .v.err = (e) })
#define LF_END          ((struct log_field){ .key = NULL, .type = LF_T_END })

/* Longest line written; longer lines are cut and end with "...". */
#define LOG_LINE_MAX 4096

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug" -> level; MLC_EINVAL otherwise. */
int log_parse_level(const char *name, enum log_level *out);
/* Where lines go (default 2). Tests point it at a pipe. */
void log_set_fd(int fd);

bool log_enabled(enum log_level lvl);

/* Formats one line into buf (always NUL-terminated, ends with '\n') and
 * returns its length. fields ends with LF_END. No I/O: used by log_emit and
 * by tests. */
size_t log_format(char *buf, size_t cap, long long unix_ms, enum log_level lvl,
                  const char *mod, const char *msg,
                  const struct log_field *fields);

/* Formats with the current time and writes the line with one write(2). */
void log_emit(enum log_level lvl, const char *mod, const char *msg,
              const struct log_field *fields);

#define LOG_AT_(lvl, mod, msg, ...)                                         \
    do {                                                                    \
        if (log_enabled(lvl)) {                                             \
            const struct log_field log_f_[] = { __VA_ARGS__ };              \
            log_emit((lvl), (mod), (msg), log_f_);                          \
        }                                                                   \
    } while (0)

/* log_info("store", "job claimed", LF_INT("id", id), LF_STR("kind", k)); */
#define log_error(mod, ...) LOG_AT_(LOG_LVL_ERROR, mod, __VA_ARGS__, LF_END)
#define log_warn(mod, ...)  LOG_AT_(LOG_LVL_WARN, mod, __VA_ARGS__, LF_END)
#define log_info(mod, ...)  LOG_AT_(LOG_LVL_INFO, mod, __VA_ARGS__, LF_END)
#define log_debug(mod, ...) LOG_AT_(LOG_LVL_DEBUG, mod, __VA_ARGS__, LF_END)

#endif
