/*
 * money: exact decimal amounts as int64_t minor units, never floating point.
 *
 * An amount is an int64_t count of minor units at a known scale (the number
 * of decimal places): 336.32 USD is 33632 at scale 2, the BigCommerce v2
 * string "336.3200" is 3363200 at scale 4. A currency's scale is its ISO 4217
 * exponent (money_exponent). Every conversion is exact arithmetic on decimal
 * digits; where digits must be dropped the caller names the rounding mode.
 *
 * Decimal grammar accepted by the parsers (no locale, no whitespace):
 *     [+|-] digit+ [ '.' digit+ ]
 * At least one digit before the point, and a point must be followed by at
 * least one digit: ".5" and "5." are rejected (neither BigCommerce nor JSON
 * produces them, so seeing one means the input is not what we think it is).
 * Leading zeros are allowed ("007.50"). No exponents, no thousands
 * separators, no "NaN"/"inf". "-0" and "-0.00" parse to 0; formatting never
 * prints a negative zero.
 *
 * Status codes: MLC_EINVAL for malformed input, bad arguments, or a value
 * that would need rounding in MONEY_ROUND_EXACT mode; MLC_ERANGE when a
 * result does not fit in int64_t; MLC_ENOTFOUND for an unknown currency.
 * Every message names the offending input.
 */
#ifndef MLC_CORE_MONEY_H
#define MLC_CORE_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Largest scale handled: 10^18 is the largest power of ten in an int64_t. */
#define MONEY_MAX_SCALE 18

/* Buffer size that always fits money_format output, sign and NUL included. */
#define MONEY_FMT_MAX 32

/* How to drop decimal digits. Zero-initialised settings mean EXACT, the safe
 * choice. Modes act on the magnitude, so they are symmetric around zero. */
enum money_round {
    MONEY_ROUND_EXACT = 0,   /* fail with MLC_EINVAL if any non-zero digit would be dropped */
    MONEY_ROUND_HALF_AWAY,   /* ties away from zero: 0.125 -> 0.13, -0.125 -> -0.13 (posting rules §4) */
    MONEY_ROUND_HALF_EVEN    /* ties to the even neighbour: 0.125 -> 0.12, 0.135 -> 0.14 */
};

/* Sets *exponent to the ISO 4217 minor-unit exponent of currency ("USD" -> 2,
 * "JPY" -> 0, "KWD" -> 3). The code must be three upper-case ASCII letters
 * (MLC_EINVAL otherwise); a well-formed code not in the table gives
 * MLC_ENOTFOUND. */
int money_exponent(const char *currency, int *exponent, struct mlc_err *e);

/* Parses s at exactly `scale` decimal places (0..MONEY_MAX_SCALE) without any
 * rounding: "336.3200" at scale 4 -> 3363200, "5" at scale 2 -> 500. More
 * fraction digits than the scale allows is an error even when they are zeros
 * (use money_parse_at with MONEY_ROUND_EXACT to accept "1.500" at scale 2). */
int money_parse_scaled(const char *s, int scale, int64_t *out, struct mlc_err *e);

/* Parses s with any number of fraction digits and rounds it to `scale`
 * places with `mode`. The rounding looks at every dropped digit, so it is
 * exact however long the fraction is. */
int money_parse_at(const char *s, int scale, enum money_round mode, int64_t *out,
                   struct mlc_err *e);

/* money_parse_at at the exponent of `currency`: ("0.125", "USD",
 * MONEY_ROUND_HALF_AWAY) -> 13. */
int money_parse(const char *s, const char *currency, enum money_round mode, int64_t *out,
                struct mlc_err *e);

/* Converts v from from_scale to to_scale places (both 0..MONEY_MAX_SCALE),
 * rounding with `mode` when digits are dropped: 1234567 at scale 4 -> 12346
 * at scale 2 (HALF_AWAY). Scaling up fails with MLC_ERANGE on overflow. */
int money_round_scale(int64_t v, int from_scale, int to_scale, enum money_round mode,
                      int64_t *out, struct mlc_err *e);

/* Writes v at `exponent` places (0..MONEY_MAX_SCALE) as a plain decimal into
 * buf: 33632,2 -> "336.32"; -50,2 -> "-0.50"; 105,0 -> "105"; 1250,3 ->
 * "1.250". Always exactly `exponent` fraction digits; INT64_MIN works.
 * Returns MLC_OK, MLC_EINVAL (bad exponent or NULL buf) or MLC_ETOOBIG (cap
 * too small; MONEY_FMT_MAX always suffices). On failure buf holds "" when
 * cap > 0. Output parses back to v with money_parse_scaled at `exponent`. */
int money_format(int64_t v, int exponent, char *buf, size_t cap);

/* money_format at the exponent of `currency`. */
int money_format_cur(int64_t v, const char *currency, char *buf, size_t cap,
                     struct mlc_err *e);

/* Checked arithmetic: *out = a + b, a - b, a * k, or MLC_ERANGE on overflow
 * (then *out is left unchanged). Operands share one scale. */
int money_add(int64_t a, int64_t b, int64_t *out, struct mlc_err *e);
int money_sub(int64_t a, int64_t b, int64_t *out, struct mlc_err *e);
int money_mul_i64(int64_t a, int64_t k, int64_t *out, struct mlc_err *e);

/* Splits total into n parts in proportion to weights[0..n-1], writing them to
 * out[0..n-1] (caller-owned, n elements). The parts always sum exactly to
 * total: each part gets the floor of its exact share (of |total|), and the
 * units left over go one each to the largest remainders, ties to the lowest
 * index. A negative total is split as the negation of the positive split.
 * Every part differs from its exact share by less than one unit; a zero
 * weight always gets 0. Fails with MLC_EINVAL when n is 0, a weight is
 * negative or all weights are 0; MLC_ENOMEM if the scratch array cannot be
 * allocated. out is untouched on failure. */
int money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *out,
                   struct mlc_err *e);

#endif
