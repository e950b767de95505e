/*
 * config_int: what the parts of core/config share; not for other modules.
 *
 *   config.c          public API: lifecycle, refcount, file reading, paths
 *   config_fields.c   the field table: every key, type, default, docs
 *   config_check.c    validators (mostly data rows) and small parsers
 *   config_load.c     YAML (libyaml) -> struct mlc_config, with errors
 *   config_example.c  the commented example (mlc init, mlc.yaml(5))
 *
 * Every table here is static, read-only data.
 */
#ifndef MLC_CORE_CONFIG_INT_H
#define MLC_CORE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CFG_MAX_FILE   (1024 * 1024) /* a config larger than this is a mistake */
#define CFG_KEY_MAX    160           /* longest dotted key in a message */
#define CFG_MAX_SECT   32            /* sections seen in one file */
#define CFG_MAX_LIST   1000          /* items of one int list */
#define CFG_MAX_DEPTH  32            /* nesting: the schema needs 4 */

#define CFG_ACCOUNT_EXPECT "expected an account like \"1.4410\" or \"100.4410.01\""

/* ---- validators ---------------------------------------------------------- */

/* A validator is a data row: the value's length must be in [min, max] and
 * every byte must pass cls, else msg is the answer. fn, when set, runs after
 * that row passed (or alone when cls is NULL) for what a character class
 * cannot say; it returns NULL or its own message. */
struct cfg_check {
    int       (*cls)(int c);
    size_t      min, max;
    const char *msg;
    const char *(*fn)(const char *s);
};

/* NULL when s passes c (or c is NULL), else what was expected. */
const char *cfg_check_run(const struct cfg_check *c, const char *s);

extern const struct cfg_check cfg_chk_ref, cfg_chk_store_hash, cfg_chk_store_id,
    cfg_chk_url, cfg_chk_api_url, cfg_chk_webhook_url, cfg_chk_path, cfg_chk_env,
    cfg_chk_role, cfg_chk_device, cfg_chk_user, cfg_chk_orch, cfg_chk_input_name,
    cfg_chk_input_value, cfg_chk_kco, cfg_chk_dct, cfg_chk_tz, cfg_chk_prefix,
    cfg_chk_an8, cfg_chk_bu, cfg_chk_channel, cfg_chk_match, cfg_chk_code3,
    cfg_chk_uom, cfg_chk_currency, cfg_chk_store_url, cfg_chk_password_ref,
    cfg_chk_listen, cfg_chk_cutover, cfg_chk_hhmm, cfg_chk_smtp_url, cfg_chk_address,
    cfg_chk_text, cfg_chk_console_user, cfg_chk_console_role, cfg_chk_header_name;

/* Strict decimal integer: optional '-', digits only, no overflow. 0 or -1. */
int cfg_parse_ll(const char *s, long long *out);
/* "12", "0.5", "0.02" -> minor units at 2 decimals. 0 or -1. */
int cfg_parse_minor2(const char *s, int64_t *out);
/* Index of s in the NULL-terminated names, or -1. */
int cfg_name_index(const char *const *names, const char *s);
/* "a, b, c" into buf (truncated at cap). */
void cfg_join_names(const char *const *names, char *buf, size_t cap);

/* ---- the field table ----------------------------------------------------- */

enum cfg_ftype {
    FT_STR,         /* char *; optional names[] restricts the value */
    FT_INT,         /* int in [min, max] */
    FT_SIZE,        /* size_t in [min, max] */
    FT_BOOL,        /* bool: true or false only */
    FT_ENUM,        /* enum stored as int: index into names[] */
    FT_ACCOUNT,     /* struct cfg_account */
    FT_MINOR2,      /* int64_t minor units of a "0.02"-style decimal */
    FT_INT_LIST,    /* int * + size_t count, items in [min, max] */
    FT_ACCOUNT_MAP, /* struct cfg_account_map * + size_t count */
    FT_STR_MAP,     /* struct cfg_str_map * + size_t count */
    FT_RECORDS      /* list of mappings: record array + size_t count (rec) */
};

/* One key of the records of an FT_RECORDS field (offsets in the record). */
enum cfg_rtype { RT_STR, RT_STR_LIST };
struct cfg_rfield {
    const char             *key;      /* NULL ends the table */
    enum cfg_rtype          type;
    size_t                  off, off_n; /* RT_STR_LIST: char ** and its count */
    const struct cfg_check *check;
    bool                    required;
    bool                    path;     /* a file, resolved against the file's directory */
    const char             *example;  /* NULL: not in the example */
};

/* The records of an FT_RECORDS field. */
struct cfg_rtable {
    const struct cfg_rfield *f;
    size_t                   size;    /* of one record */
};

#define F_REQUIRED 1u

struct cfg_field {
    const char             *key;      /* dotted path, e.g. "posting.accounts.tax" */
    enum cfg_ftype          type;
    size_t                  off;      /* of the value in struct mlc_config */
    size_t                  off_n;    /* lists and maps: of the count */
    const char             *def;      /* default as text; NULL = none */
    long long               min, max;
    const char *const      *names;    /* FT_ENUM names / FT_STR allowed values */
    const struct cfg_check *check;    /* FT_STR, map values: extra validation */
    const struct cfg_check *check_key; /* maps: key validation */
    unsigned                flags;
    const char             *example;  /* value shown in the example when no default */
    const char             *comment;  /* one line for the example */
    const char             *missing;  /* required: how to set it, said when it is missing */
    const struct cfg_rtable *rec;     /* FT_RECORDS: the keys of one record */
};

/* A section's one-line comment in the example. */
struct cfg_section {
    const char *path;
    const char *comment;
};

/* Rows of one section stay together; the order is the example's. */
extern const struct cfg_field   cfg_fields[];
extern const size_t             cfg_n_fields;
extern const struct cfg_section cfg_sections[];
extern const size_t             cfg_n_sections;

/* ---- the config object (config.c) ---------------------------------------- */

/* A zeroed config with one reference and path copied; NULL when out of
 * memory. Freed by cfg_unref. */
struct mlc_config *cfg_new(const char *path);
/* Frees the value of field f in c and zeroes it (and its count). */
void cfg_free_value(struct mlc_config *c, const struct cfg_field *f);

static inline void *cfg_at(struct mlc_config *c, size_t off)
{
    return (char *)c + off;
}

/* ---- the example writer (config_example.c) ------------------------------- */

/* The commented example of n fields (with their sections' comments) into
 * *out, grown as needed, never truncated; caller frees. MLC_OK or
 * MLC_ENOMEM. */
int cfg_example_render(const struct cfg_field *fields, size_t n,
                       const struct cfg_section *sections, size_t n_sections,
                       char **out);

#endif
