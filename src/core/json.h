/*
 * json: safe loading and typed, path-addressed getters over jansson.
 *
 * Decoding a record is a series of getters sharing one struct jx_ctx. The
 * context names the record ("order 105") and keeps the first failure, so a
 * decoder can read every field and check once at the end:
 *
 *     struct jx_ctx cx;
 *     jx_ctx_init(&cx, "order 105", e);
 *     jx_get_i64(&cx, o, "id", &id);
 *     jx_get_str(&cx, o, "billing_address.email", &email);
 *     jx_get_money(&cx, o, "total_inc_tax", 2, MONEY_ROUND_HALF_AWAY, &total);
 *     if (cx.rc != MLC_OK)
 *         return cx.rc;   // e: "order 105: billing_address.email: expected string, got number"
 *
 * Every getter also returns its own status, and on failure sets its output to
 * a harmless value (NULL, 0, false), so outputs are never uninitialised.
 *
 * Paths: keys separated by '.', array elements by "[N]": "id",
 * "billing_address.email", "items[2].sku", "[0].id" (root is an array),
 * "" (the root itself). Keys containing '.', '[' or ']' cannot be addressed.
 * A missing key, an index past the end, or a JSON null on the way down means
 * "absent": required getters fail with MLC_ENOTFOUND, optional ones (jx_opt_*)
 * return their default. A JSON null at the leaf is absent for optional
 * getters and a type error for required ones.
 *
 * Status codes: MLC_ENOTFOUND missing field; MLC_EPROTO wrong JSON type or an
 * integer field with a fraction; MLC_ERANGE number out of range; MLC_EINVAL
 * malformed decimal string, bad path or NULL argument (money's codes pass
 * through for money fields).
 *
 * Strings and json_t pointers handed out are borrowed: valid while the root
 * document lives, never freed or decref'd by the caller.
 */
#ifndef MLC_CORE_JSON_H
#define MLC_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "core/money.h"

/* Size that fits any jx_real_decimal output (a double spans 10^-324..10^308). */
#define JX_DEC_MAX 400

struct jx_ctx {
    const char     *where;  /* record being decoded, prefixed to messages; may be NULL; borrowed */
    struct mlc_err *e;      /* receives the first failure; may be NULL */
    int             rc;     /* code of the first failure, MLC_OK while none */
};

/* Starts a decode: no failure yet. Does not clear e. */
void jx_ctx_init(struct jx_ctx *cx, const char *where, struct mlc_err *e);

/* Parses len bytes of JSON text into *out (caller frees with json_decref).
 * JSON_REJECT_DUPLICATES is always added to flags. A syntax error gives
 * MLC_EPARSE with line and column; jansson's message may quote a short token
 * of the input. *out is NULL on failure. */
int jx_loads(const char *text, size_t len, size_t flags, json_t **out, struct mlc_err *e);

/* "object", "array", "string", "number", "boolean", "null", or "nothing"
 * for NULL. Integers and reals are both "number". */
const char *jx_type_name(const json_t *v);

/* The value at path, of any type (JSON null included). */
int jx_get(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out);

/* Strings. */
int jx_get_str(struct jx_ctx *cx, const json_t *root, const char *path, const char **out);
int jx_opt_str(struct jx_ctx *cx, const json_t *root, const char *path, const char *def,
               const char **out);
/* Like jx_opt_str, but *out is a malloc'd copy ("" when absent; caller
 * frees, also on failure). Out of memory is recorded in cx. */
int jx_opt_strdup(struct jx_ctx *cx, const json_t *root, const char *path,
                  char **out);

/* Integers: a JSON integer, or a real with no fraction inside int64_t range
 * (5.0 -> 5); 1.5 gives MLC_EPROTO, 1e19 MLC_ERANGE. */
int jx_get_i64(struct jx_ctx *cx, const json_t *root, const char *path, int64_t *out);
int jx_opt_i64(struct jx_ctx *cx, const json_t *root, const char *path, int64_t def,
               int64_t *out);

/* true/false only; numbers and strings are type errors. */
int jx_get_bool(struct jx_ctx *cx, const json_t *root, const char *path, bool *out);
int jx_opt_bool(struct jx_ctx *cx, const json_t *root, const char *path, bool def, bool *out);

/* Containers (borrowed). The optional forms set *out to NULL when absent. */
int jx_get_obj(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out);
int jx_opt_obj(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out);
int jx_get_arr(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out);
int jx_opt_arr(struct jx_ctx *cx, const json_t *root, const char *path, json_t **out);

/* Money at `scale` decimal places (a currency exponent), rounded with mode.
 * Accepts a JSON string in money's decimal grammar (v2: "336.3200"), a JSON
 * integer (v3: 1 -> 1.00), or a JSON real (v3: 336.32). A real is converted
 * once to its shortest round-trip decimal (jx_real_decimal) and that decimal
 * is rounded: 1.005 is read as "1.005" (what the sender meant), so
 * HALF_AWAY gives 1.01, and 0.1 + 0.2 is "0.30000000000000004", which rounds
 * to 0.30 but fails in MONEY_ROUND_EXACT mode. No arithmetic on doubles. */
int jx_get_money(struct jx_ctx *cx, const json_t *root, const char *path, int scale,
                 enum money_round mode, int64_t *minor);
int jx_opt_money(struct jx_ctx *cx, const json_t *root, const char *path, int scale,
                 enum money_round mode, int64_t def, int64_t *minor);
/* jx_get_money at the exponent of currency ("USD"). */
int jx_get_money_cur(struct jx_ctx *cx, const json_t *root, const char *path,
                     const char *currency, enum money_round mode, int64_t *minor);

/* One JSON value (string, integer or real) as money, as jx_get_money does;
 * for values already in hand (array elements). Messages do not name a path. */
int jx_money_value(const json_t *v, int scale, enum money_round mode, int64_t *minor,
                   struct mlc_err *e);

/* Writes the shortest decimal that reads back as d (the first of %.1g ..
 * %.17g that round-trips), expanded without an exponent: 0.1 -> "0.1",
 * 1e-07 -> "0.0000001", 1e+20 -> "100000000000000000000", -0.0 -> "0".
 * MLC_EINVAL for NaN or infinity, MLC_ETOOBIG when cap is too small
 * (JX_DEC_MAX always suffices). Assumes the "C" numeric locale (the daemon
 * never calls setlocale); anything else is detected and rejected. */
int jx_real_decimal(double d, char *buf, size_t cap, struct mlc_err *e);

/* A JSON string (new reference) for text that may be NULL or not UTF-8,
 * such as an upstream message kept raw: NULL becomes null and, when the
 * text is not valid UTF-8, every byte >= 0x80 becomes '?'. NULL only out
 * of memory. */
json_t *jx_text(const char *s);

#endif
