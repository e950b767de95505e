/*
 * money: decimal parsing, rounding, formatting and allocation on int64_t
 * minor units. Integers only: digits are accumulated as an unsigned
 * magnitude (so INT64_MIN is reachable) and the sign is applied last.
 */
#include "core/money.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Magnitude limits: a negative value may reach 2^63, a positive one 2^63-1. */
#define MAG_MAX_POS ((uint64_t)INT64_MAX)
#define MAG_MAX_NEG ((uint64_t)INT64_MAX + 1u)

/* How much of an input string an error message quotes. */
#define QUOTE_MAX 48

struct currency {
    char code[4];
    int  exponent;
};

/* ISO 4217 minor-unit exponents of the currencies we may meet. */
static const struct currency currencies[] = {
    /* two decimals */
    { "USD", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "CAD", 2 }, { "AUD", 2 },
    { "NZD", 2 }, { "CHF", 2 }, { "SEK", 2 }, { "NOK", 2 }, { "DKK", 2 },
    { "PLN", 2 }, { "CZK", 2 }, { "HUF", 2 }, { "MXN", 2 }, { "BRL", 2 },
    { "INR", 2 }, { "CNY", 2 }, { "HKD", 2 }, { "SGD", 2 }, { "ZAR", 2 },
    { "AED", 2 }, { "SAR", 2 }, { "ILS", 2 }, { "TRY", 2 }, { "THB", 2 },
    { "MYR", 2 }, { "PHP", 2 }, { "IDR", 2 }, { "TWD", 2 }, { "RON", 2 },
    { "BGN", 2 }, { "ARS", 2 }, { "COP", 2 }, { "PEN", 2 }, { "EGP", 2 },
    { "NGN", 2 }, { "KES", 2 }, { "PKR", 2 }, { "QAR", 2 }, { "UAH", 2 },
    /* no decimals */
    { "JPY", 0 }, { "KRW", 0 }, { "VND", 0 }, { "CLP", 0 }, { "ISK", 0 },
    { "UGX", 0 }, { "XAF", 0 }, { "XOF", 0 }, { "PYG", 0 }, { "XPF", 0 },
    { "RWF", 0 },
    /* three decimals */
    { "KWD", 3 }, { "BHD", 3 }, { "OMR", 3 }, { "JOD", 3 }, { "TND", 3 },
    { "IQD", 3 }, { "LYD", 3 },
};

/* 10^0 .. 10^18. */
static const uint64_t pow10_u64[MONEY_MAX_SCALE + 1] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
    1000000000000ull, 10000000000000ull, 100000000000000ull,
    1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull,
};

/* Lexical pieces of a decimal string; digits are [int_begin, int_end) and
 * [frac_begin, frac_end). */
struct dec {
    bool        neg;
    const char *int_begin, *int_end;
    const char *frac_begin, *frac_end;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Precision to quote s with: at most QUOTE_MAX characters. */
static int quote_len(const char *s)
{
    size_t n = strnlen(s, QUOTE_MAX + 1);

    return n > QUOTE_MAX ? QUOTE_MAX : (int)n;
}

static const char *quote_more(const char *s)
{
    return strnlen(s, QUOTE_MAX + 1) > QUOTE_MAX ? "..." : "";
}

static int bad_scale(int scale, struct mlc_err *e)
{
    return mlc_err_set(e, MLC_EINVAL, "scale %d is outside 0..%d", scale, MONEY_MAX_SCALE);
}

static bool scale_ok(int scale)
{
    return scale >= 0 && scale <= MONEY_MAX_SCALE;
}

/* Splits s into sign, integer digits and fraction digits per the grammar in
 * money.h. */
static int dec_scan(const char *s, struct dec *d, struct mlc_err *e)
{
    const char *p = s;

    d->neg = false;
    if (*p == '-' || *p == '+')
        d->neg = *p++ == '-';
    d->int_begin = p;
    while (is_digit(*p))
        p++;
    d->int_end = p;
    d->frac_begin = d->frac_end = p;
    if (*p == '.') {
        d->frac_begin = ++p;
        while (is_digit(*p))
            p++;
        d->frac_end = p;
    }
    if (*p != '\0' || d->int_begin == d->int_end ||
        (d->frac_begin != d->int_end && d->frac_begin == d->frac_end))
        return mlc_err_set(e, MLC_EINVAL, "'%.*s%s' is not a plain decimal number",
                           quote_len(s), s, quote_more(s));
    return MLC_OK;
}

/* *mag = *mag * 10 + digit, false on uint64_t overflow. */
static bool mag_push(uint64_t *mag, int digit)
{
    uint64_t t;

    if (__builtin_mul_overflow(*mag, 10u, &t) ||
        __builtin_add_overflow(t, (uint64_t)digit, &t))
        return false;
    *mag = t;
    return true;
}

/* Decides whether a magnitude whose dropped part starts with digit `first`
 * (followed by non-zero digits when `sticky`) rounds up. `odd` is the parity
 * of the kept magnitude, for ties to even. */
static bool round_up(enum money_round mode, int first, bool sticky, bool odd)
{
    if (mode == MONEY_ROUND_HALF_AWAY)
        return first >= 5;
    /* HALF_EVEN */
    if (first != 5)
        return first > 5;
    return sticky || odd;
}

/* Applies the sign to a checked magnitude. */
static int mag_to_i64(uint64_t mag, bool neg, int64_t *out)
{
    if (mag > (neg ? MAG_MAX_NEG : MAG_MAX_POS))
        return MLC_ERANGE;
    if (!neg)
        *out = (int64_t)mag;
    else if (mag == 0)
        *out = 0;
    else
        *out = -(int64_t)(mag - 1) - 1;
    return MLC_OK;
}

static uint64_t i64_mag(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static bool valid_mode(enum money_round mode)
{
    return mode == MONEY_ROUND_EXACT || mode == MONEY_ROUND_HALF_AWAY ||
           mode == MONEY_ROUND_HALF_EVEN;
}

/* The digits of s kept at `scale`: integer digits then `scale` fraction
 * digits (padded with zeros), as a magnitude. */
static bool dec_kept(const struct dec *d, int scale, uint64_t *mag)
{
    const char *p;
    int k;

    *mag = 0;
    for (p = d->int_begin; p < d->int_end; p++)
        if (!mag_push(mag, *p - '0'))
            return false;
    for (k = 0, p = d->frac_begin; k < scale; k++) {
        int digit = p < d->frac_end ? *p++ - '0' : 0;

        if (!mag_push(mag, digit))
            return false;
    }
    return true;
}

static int range_err(const char *s, int scale, struct mlc_err *e)
{
    return mlc_err_set(e, MLC_ERANGE, "'%.*s%s' does not fit in 64 bits at scale %d",
                       quote_len(s), s, quote_more(s), scale);
}

int money_parse_at(const char *s, int scale, enum money_round mode, int64_t *out,
                   struct mlc_err *e)
{
    struct dec d;
    uint64_t mag;
    const char *drop, *p;
    bool sticky = false;
    int rc;

    if (s == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "money_parse: NULL argument");
    if (!scale_ok(scale))
        return bad_scale(scale, e);
    if (!valid_mode(mode))
        return mlc_err_set(e, MLC_EINVAL, "unknown rounding mode %d", (int)mode);
    if ((rc = dec_scan(s, &d, e)) != MLC_OK)
        return rc;
    if (!dec_kept(&d, scale, &mag))
        return range_err(s, scale, e);
    drop = d.frac_end - d.frac_begin > scale ? d.frac_begin + scale : d.frac_end;
    for (p = drop + (drop < d.frac_end); p < d.frac_end; p++)
        sticky |= *p != '0';
    if (drop < d.frac_end && (*drop != '0' || sticky)) {
        if (mode == MONEY_ROUND_EXACT)
            return mlc_err_set(e, MLC_EINVAL, "'%.*s%s' has more than %d decimal places",
                               quote_len(s), s, quote_more(s), scale);
        if (round_up(mode, *drop - '0', sticky, mag & 1u) &&
            __builtin_add_overflow(mag, 1u, &mag))
            return range_err(s, scale, e);
    }
    if (mag_to_i64(mag, d.neg, out) != MLC_OK)
        return range_err(s, scale, e);
    return MLC_OK;
}

int money_parse_scaled(const char *s, int scale, int64_t *out, struct mlc_err *e)
{
    struct dec d;
    int rc;

    if (s == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "money_parse_scaled: NULL argument");
    if (!scale_ok(scale))
        return bad_scale(scale, e);
    if ((rc = dec_scan(s, &d, e)) != MLC_OK)
        return rc;
    if (d.frac_end - d.frac_begin > scale)
        return mlc_err_set(e, MLC_EINVAL, "'%.*s%s' has more than %d decimal places",
                           quote_len(s), s, quote_more(s), scale);
    return money_parse_at(s, scale, MONEY_ROUND_EXACT, out, e);
}

int money_exponent(const char *currency, int *exponent, struct mlc_err *e)
{
    size_t i;

    if (currency == NULL || exponent == NULL)
        return mlc_err_set(e, MLC_EINVAL, "money_exponent: NULL argument");
    for (i = 0; i < 3; i++)
        if (currency[i] < 'A' || currency[i] > 'Z')
            break;
    if (i != 3 || currency[3] != '\0')
        return mlc_err_set(e, MLC_EINVAL,
                           "invalid currency code '%.*s%s' (want 3 upper-case letters)",
                           quote_len(currency), currency, quote_more(currency));
    for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        if (memcmp(currencies[i].code, currency, 4) == 0) {
            *exponent = currencies[i].exponent;
            return MLC_OK;
        }
    }
    return mlc_err_set(e, MLC_ENOTFOUND, "unknown currency code '%s'", currency);
}

int money_parse(const char *s, const char *currency, enum money_round mode, int64_t *out,
                struct mlc_err *e)
{
    int exponent;
    int rc = money_exponent(currency, &exponent, e);

    if (rc != MLC_OK)
        return rc;
    rc = money_parse_at(s, exponent, mode, out, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "%s amount", currency);
        return rc;
    }
    return MLC_OK;
}

/* v / 10^shift rounded with mode; never overflows since the result is
 * smaller in magnitude than v. */
static int scale_down(int64_t v, int shift, enum money_round mode, int64_t *out,
                      struct mlc_err *e)
{
    uint64_t p = pow10_u64[shift];
    uint64_t mag = i64_mag(v);
    uint64_t q = mag / p, r = mag % p;
    uint64_t half = p / 2;   /* p >= 10 is even: exact half */

    if (r != 0) {
        if (mode == MONEY_ROUND_EXACT)
            return mlc_err_set(e, MLC_EINVAL,
                               "%lld would lose digits when dropping %d decimal places",
                               (long long)v, shift);
        if (r > half || (r == half && (mode == MONEY_ROUND_HALF_AWAY || (q & 1u))))
            q++;
    }
    return mag_to_i64(q, v < 0, out);
}

int money_round_scale(int64_t v, int from_scale, int to_scale, enum money_round mode,
                      int64_t *out, struct mlc_err *e)
{
    int64_t t;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "money_round_scale: NULL argument");
    if (!scale_ok(from_scale))
        return bad_scale(from_scale, e);
    if (!scale_ok(to_scale))
        return bad_scale(to_scale, e);
    if (!valid_mode(mode))
        return mlc_err_set(e, MLC_EINVAL, "unknown rounding mode %d", (int)mode);
    if (to_scale < from_scale)
        return scale_down(v, from_scale - to_scale, mode, out, e);
    if (__builtin_mul_overflow(v, (int64_t)pow10_u64[to_scale - from_scale], &t))
        return mlc_err_set(e, MLC_ERANGE, "%lld at scale %d does not fit in 64 bits at scale %d",
                           (long long)v, from_scale, to_scale);
    *out = t;
    return MLC_OK;
}

int money_format(int64_t v, int exponent, char *buf, size_t cap)
{
    char digits[24];   /* 20 digits of 2^63 plus room; least significant first */
    uint64_t mag = i64_mag(v);
    size_t n = 0, len, i = 0;

    if (buf == NULL)
        return MLC_EINVAL;
    if (cap > 0)
        buf[0] = '\0';
    if (!scale_ok(exponent))
        return MLC_EINVAL;
    do {
        digits[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag != 0);
    while (n < (size_t)exponent + 1)   /* at least one digit before the point */
        digits[n++] = '0';
    len = (v < 0) + n + (exponent > 0);
    if (len + 1 > cap)
        return MLC_ETOOBIG;
    if (v < 0)
        buf[i++] = '-';
    while (n > 0) {
        if (n == (size_t)exponent && exponent > 0)
            buf[i++] = '.';
        buf[i++] = digits[--n];
    }
    buf[i] = '\0';
    return MLC_OK;
}

int money_format_cur(int64_t v, const char *currency, char *buf, size_t cap,
                     struct mlc_err *e)
{
    int exponent;
    int rc = money_exponent(currency, &exponent, e);

    if (rc != MLC_OK) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return rc;
    }
    rc = money_format(v, exponent, buf, cap);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "cannot format %lld %s into %zu bytes", (long long)v,
                           currency, cap);
    return MLC_OK;
}

int money_add(int64_t a, int64_t b, int64_t *out, struct mlc_err *e)
{
    int64_t t;

    if (__builtin_add_overflow(a, b, &t))
        return mlc_err_set(e, MLC_ERANGE, "%lld + %lld overflows", (long long)a, (long long)b);
    if (out != NULL)
        *out = t;
    return MLC_OK;
}

int money_sub(int64_t a, int64_t b, int64_t *out, struct mlc_err *e)
{
    int64_t t;

    if (__builtin_sub_overflow(a, b, &t))
        return mlc_err_set(e, MLC_ERANGE, "%lld - %lld overflows", (long long)a, (long long)b);
    if (out != NULL)
        *out = t;
    return MLC_OK;
}

int money_mul_i64(int64_t a, int64_t k, int64_t *out, struct mlc_err *e)
{
    int64_t t;

    if (__builtin_mul_overflow(a, k, &t))
        return mlc_err_set(e, MLC_ERANGE, "%lld * %lld overflows", (long long)a, (long long)k);
    if (out != NULL)
        *out = t;
    return MLC_OK;
}

/* One part of an allocation: the floor of its share and the remainder of
 * the division, which orders who gets the leftover units. */
struct alloc_part {
    unsigned __int128 rem;
    uint64_t          part;
    size_t            idx;
};

/* Largest remainder first, then lowest index: a total order, so qsort's
 * instability cannot change the result. */
static int alloc_cmp(const void *pa, const void *pb)
{
    const struct alloc_part *a = pa, *b = pb;

    if (a->rem != b->rem)
        return a->rem > b->rem ? -1 : 1;
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* Sum of weights, or MLC_EINVAL for a negative one or an all-zero set. */
static int alloc_weights(const int64_t *weights, size_t n, unsigned __int128 *sum,
                         struct mlc_err *e)
{
    size_t i;

    *sum = 0;
    for (i = 0; i < n; i++) {
        if (weights[i] < 0)
            return mlc_err_set(e, MLC_EINVAL, "allocation weight %zu is negative (%lld)", i,
                               (long long)weights[i]);
        *sum += (uint64_t)weights[i];   /* n * 2^63 cannot reach 2^128 */
    }
    if (*sum == 0)
        return mlc_err_set(e, MLC_EINVAL, "allocation weights are all zero");
    return MLC_OK;
}

int money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *out,
                   struct mlc_err *e)
{
    struct alloc_part *parts;
    unsigned __int128 wsum;
    uint64_t mag = i64_mag(total), given = 0;
    size_t i;
    int rc;

    if (weights == NULL || out == NULL || n == 0)
        return mlc_err_set(e, MLC_EINVAL, "money_allocate: no weights");
    if ((rc = alloc_weights(weights, n, &wsum, e)) != MLC_OK)
        return rc;
    parts = calloc(n, sizeof(*parts));
    if (parts == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "money_allocate: %zu parts", n);
    for (i = 0; i < n; i++) {
        /* |total| * w < 2^63 * 2^63: exact in 128 bits. */
        unsigned __int128 num = (unsigned __int128)mag * (uint64_t)weights[i];

        parts[i].part = (uint64_t)(num / wsum);
        parts[i].rem = num % wsum;
        parts[i].idx = i;
        given += parts[i].part;   /* sum of floors <= |total|: no wrap */
    }
    qsort(parts, n, sizeof(*parts), alloc_cmp);
    /* Leftover < number of parts with a non-zero remainder, so zero weights
     * (remainder 0) never receive a unit. */
    for (i = 0; given < mag && i < n; i++, given++)
        parts[i].part++;
    for (i = 0; i < n; i++)
        (void)mag_to_i64(parts[i].part, total < 0, &out[parts[i].idx]);   /* part <= |total| */
    free(parts);
    return MLC_OK;
}
