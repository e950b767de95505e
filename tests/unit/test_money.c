/* Unit tests: money (currency table, decimal parsing, rounding, formatting,
 * checked arithmetic, allocation), with table tests for known cases and
 * seeded property tests that cross-check the string and integer paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/money.h"

#define HALF_AWAY MONEY_ROUND_HALF_AWAY
#define HALF_EVEN MONEY_ROUND_HALF_EVEN
#define EXACT     MONEY_ROUND_EXACT

/* xorshift64*: a deterministic generator, so a failure reproduces. */
struct prng {
    uint64_t s;
};

static uint64_t prng_next(struct prng *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 2685821657736338717ull;
}

/* Uniform-ish in [0, n) (n > 0); the bias is irrelevant for testing. */
static uint64_t prng_below(struct prng *g, uint64_t n)
{
    return prng_next(g) % n;
}

/* A value with a random bit length and sign, so that small amounts, cents,
 * and values near the int64 limits all show up. */
static int64_t prng_amount(struct prng *g)
{
    unsigned bits = (unsigned)prng_below(g, 64);   /* 0..63 magnitude bits */
    uint64_t mag = bits == 0 ? 0 : prng_next(g) >> (64 - bits);
    int64_t v = (int64_t)mag;
    uint64_t pick = prng_below(g, 1000);

    if (pick == 0)
        return INT64_MIN;
    if (pick == 1)
        return INT64_MAX;
    return (prng_next(g) & 1u) ? -v : v;
}

/* ---- currency table ---- */

static void test_exponent(void **state)
{
    static const struct { const char *code; int exp; } ok[] = {
        { "USD", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "IDR", 2 }, { "HUF", 2 },
        { "JPY", 0 }, { "KRW", 0 }, { "ISK", 0 }, { "XOF", 0 }, { "CLP", 0 },
        { "KWD", 3 }, { "BHD", 3 }, { "TND", 3 }, { "LYD", 3 },
    };
    static const char *const malformed[] = { "usd", "US", "USDX", "", "U$D", "US ", "Usd" };
    struct mlc_err e;
    size_t i;
    int exp;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        exp = -1;
        assert_int_equal(money_exponent(ok[i].code, &exp, NULL), MLC_OK);
        if (exp != ok[i].exp)
            fail_msg("%s: exponent %d, want %d", ok[i].code, exp, ok[i].exp);
    }
    for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        mlc_err_clear(&e);
        if (money_exponent(malformed[i], &exp, &e) != MLC_EINVAL)
            fail_msg("'%s' accepted as a currency code", malformed[i]);
        assert_non_null(strstr(e.msg, "currency"));
    }
    mlc_err_clear(&e);
    assert_int_equal(money_exponent("XYZ", &exp, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "XYZ"));
    assert_int_equal(e.code, MLC_ENOTFOUND);
    assert_int_equal(money_exponent(NULL, &exp, NULL), MLC_EINVAL);
    assert_int_equal(money_exponent("USD", NULL, NULL), MLC_EINVAL);
}

/* ---- parsing ---- */

struct parse_case {
    const char *s;
    int         scale;
    int         code;
    int64_t     want;
};

static void run_scaled(const struct parse_case *c, size_t n)
{
    struct mlc_err e;
    size_t i;

    for (i = 0; i < n; i++) {
        int64_t v = 12345;
        int rc;

        mlc_err_clear(&e);
        rc = money_parse_scaled(c[i].s, c[i].scale, &v, &e);
        if (rc != c[i].code)
            fail_msg("parse_scaled('%s', %d): rc %d (%s), want %d", c[i].s, c[i].scale, rc,
                     e.msg, c[i].code);
        if (rc == MLC_OK && v != c[i].want)
            fail_msg("parse_scaled('%s', %d) = %lld, want %lld", c[i].s, c[i].scale,
                     (long long)v, (long long)c[i].want);
        if (rc != MLC_OK && c[i].s[0] != '\0' && strstr(e.msg, c[i].s) == NULL)
            fail_msg("parse_scaled('%s'): message '%s' does not name the input", c[i].s, e.msg);
        if (rc != MLC_OK && v != 12345)
            fail_msg("parse_scaled('%s'): output written on failure", c[i].s);
    }
}

static void test_parse_scaled_good(void **state)
{
    static const struct parse_case c[] = {
        { "336.3200", 4, MLC_OK, 3363200 },
        { "336.32", 4, MLC_OK, 3363200 },
        { "336", 4, MLC_OK, 3360000 },
        { "0.0000", 4, MLC_OK, 0 },
        { "-0.50", 2, MLC_OK, -50 },
        { "-0.0000", 4, MLC_OK, 0 },
        { "-0", 0, MLC_OK, 0 },
        { "+1.25", 2, MLC_OK, 125 },
        { "007.50", 2, MLC_OK, 750 },
        { "105", 0, MLC_OK, 105 },
        { "1.250", 3, MLC_OK, 1250 },
        { "0.000000000000000001", 18, MLC_OK, 1 },
        { "9.223372036854775807", 18, MLC_OK, INT64_MAX },
        { "-9.223372036854775808", 18, MLC_OK, INT64_MIN },
        { "9223372036854775807", 0, MLC_OK, INT64_MAX },
        { "-9223372036854775808", 0, MLC_OK, INT64_MIN },
        { "92233720368547758.07", 2, MLC_OK, INT64_MAX },
        { "-92233720368547758.08", 2, MLC_OK, INT64_MIN },
        { "00000000000000000000000000001", 0, MLC_OK, 1 },
    };

    (void)state;
    run_scaled(c, sizeof(c) / sizeof(c[0]));
}

static void test_parse_scaled_bad(void **state)
{
    static const struct parse_case c[] = {
        { "", 2, MLC_EINVAL, 0 },
        { "-", 2, MLC_EINVAL, 0 },
        { "+", 2, MLC_EINVAL, 0 },
        { ".", 2, MLC_EINVAL, 0 },
        { ".5", 2, MLC_EINVAL, 0 },
        { "5.", 2, MLC_EINVAL, 0 },
        { "-.5", 2, MLC_EINVAL, 0 },
        { "1e3", 2, MLC_EINVAL, 0 },
        { "1E3", 2, MLC_EINVAL, 0 },
        { "NaN", 2, MLC_EINVAL, 0 },
        { "nan", 2, MLC_EINVAL, 0 },
        { "inf", 2, MLC_EINVAL, 0 },
        { "-inf", 2, MLC_EINVAL, 0 },
        { "Infinity", 2, MLC_EINVAL, 0 },
        { "1.2.3", 2, MLC_EINVAL, 0 },
        { " 1.00", 2, MLC_EINVAL, 0 },
        { "1.00 ", 2, MLC_EINVAL, 0 },
        { "1 000", 2, MLC_EINVAL, 0 },
        { "--1", 2, MLC_EINVAL, 0 },
        { "+-1", 2, MLC_EINVAL, 0 },
        { "-+1", 2, MLC_EINVAL, 0 },
        { "1,000.00", 2, MLC_EINVAL, 0 },
        { "1,5", 2, MLC_EINVAL, 0 },
        { "0x10", 2, MLC_EINVAL, 0 },
        { "1.5x", 2, MLC_EINVAL, 0 },
        { "$1.00", 2, MLC_EINVAL, 0 },
        { "1.005", 2, MLC_EINVAL, 0 },      /* more digits than the scale */
        { "1.500", 2, MLC_EINVAL, 0 },      /* even when they are zeros */
        { "1.5", 0, MLC_EINVAL, 0 },
        { "9223372036854775808", 0, MLC_ERANGE, 0 },
        { "-9223372036854775809", 0, MLC_ERANGE, 0 },
        { "92233720368547758.08", 2, MLC_ERANGE, 0 },
        { "-92233720368547758.09", 2, MLC_ERANGE, 0 },
        { "99999999999999999999999", 0, MLC_ERANGE, 0 },
        { "10", 18, MLC_ERANGE, 0 },
        { "1", 19, MLC_EINVAL, 0 },
        { "1", -1, MLC_EINVAL, 0 },
    };
    struct mlc_err e;
    int64_t v;

    (void)state;
    run_scaled(c, sizeof(c) / sizeof(c[0]));
    assert_int_equal(money_parse_scaled(NULL, 2, &v, &e), MLC_EINVAL);
    assert_int_equal(money_parse_scaled("1", 2, NULL, &e), MLC_EINVAL);
}

/* A long, hostile input is quoted in the message but truncated. */
static void test_parse_message_bounded(void **state)
{
    char big[600];
    struct mlc_err e;
    int64_t v;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(money_parse_scaled(big, 2, &v, &e), MLC_EINVAL);
    assert_true(strlen(e.msg) < 120);
    assert_non_null(strstr(e.msg, "xxx..."));
}

struct round_case {
    const char      *s;
    int              scale;
    enum money_round mode;
    int              code;
    int64_t          want;
};

static void test_parse_rounding(void **state)
{
    static const struct round_case c[] = {
        /* the posting rules: ties away from zero */
        { "0.125", 2, HALF_AWAY, MLC_OK, 13 },
        { "-0.125", 2, HALF_AWAY, MLC_OK, -13 },
        { "0.124999999999", 2, HALF_AWAY, MLC_OK, 12 },
        { "-0.124999999999", 2, HALF_AWAY, MLC_OK, -12 },
        { "0.115", 2, HALF_AWAY, MLC_OK, 12 },
        { "1.005", 2, HALF_AWAY, MLC_OK, 101 },
        { "336.3250", 2, HALF_AWAY, MLC_OK, 33633 },
        { "336.3249", 2, HALF_AWAY, MLC_OK, 33632 },
        { "-336.3250", 2, HALF_AWAY, MLC_OK, -33633 },
        { "0.004999", 2, HALF_AWAY, MLC_OK, 0 },
        { "-0.004999", 2, HALF_AWAY, MLC_OK, 0 },
        { "-0.005", 2, HALF_AWAY, MLC_OK, -1 },
        { "0.30000000000000004", 2, HALF_AWAY, MLC_OK, 30 },
        { "2.5", 0, HALF_AWAY, MLC_OK, 3 },
        { "-2.5", 0, HALF_AWAY, MLC_OK, -3 },
        { "99.5", 0, HALF_AWAY, MLC_OK, 100 },
        { "1.2345", 3, HALF_AWAY, MLC_OK, 1235 },
        { "-1.2345", 3, HALF_AWAY, MLC_OK, -1235 },
        { "1.23449999", 3, HALF_AWAY, MLC_OK, 1234 },
        /* ties to even, with the sticky digits breaking false ties */
        { "0.125", 2, HALF_EVEN, MLC_OK, 12 },
        { "-0.125", 2, HALF_EVEN, MLC_OK, -12 },
        { "0.135", 2, HALF_EVEN, MLC_OK, 14 },
        { "-0.135", 2, HALF_EVEN, MLC_OK, -14 },
        { "0.1250000000000000000000000001", 2, HALF_EVEN, MLC_OK, 13 },
        { "0.12500000000000000000000000000", 2, HALF_EVEN, MLC_OK, 12 },
        { "2.5", 0, HALF_EVEN, MLC_OK, 2 },
        { "3.5", 0, HALF_EVEN, MLC_OK, 4 },
        { "-2.5", 0, HALF_EVEN, MLC_OK, -2 },
        { "-3.5", 0, HALF_EVEN, MLC_OK, -4 },
        { "1.2345", 3, HALF_EVEN, MLC_OK, 1234 },
        { "1.2355", 3, HALF_EVEN, MLC_OK, 1236 },
        { "0.126", 2, HALF_EVEN, MLC_OK, 13 },
        /* exact: trailing zeros are fine, anything else fails */
        { "1.50000000", 2, EXACT, MLC_OK, 150 },
        { "1.501", 2, EXACT, MLC_EINVAL, 0 },
        { "0.30000000000000004", 2, EXACT, MLC_EINVAL, 0 },
        { "1.0000000000000000000000001", 2, EXACT, MLC_EINVAL, 0 },
        /* limits, including a round-up that overflows */
        { "92233720368547758.074", 2, HALF_AWAY, MLC_OK, INT64_MAX },
        { "92233720368547758.075", 2, HALF_AWAY, MLC_ERANGE, 0 },
        { "-92233720368547758.075", 2, HALF_AWAY, MLC_OK, INT64_MIN },
        { "-92233720368547758.085", 2, HALF_EVEN, MLC_OK, INT64_MIN },
        { "-92233720368547758.0851", 2, HALF_EVEN, MLC_ERANGE, 0 },
        { "9223372036854775807.5", 0, HALF_AWAY, MLC_ERANGE, 0 },
        { "9223372036854775807.5", 0, HALF_EVEN, MLC_ERANGE, 0 },
        { "9223372036854775806.5", 0, HALF_EVEN, MLC_OK, INT64_MAX - 1 },
        /* grammar is the same as the exact parser */
        { "1e-3", 2, HALF_AWAY, MLC_EINVAL, 0 },
        { ".125", 2, HALF_AWAY, MLC_EINVAL, 0 },
        { "", 2, HALF_AWAY, MLC_EINVAL, 0 },
        { "1", 2, (enum money_round)42, MLC_EINVAL, 0 },
    };
    struct mlc_err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int64_t v = 777;
        int rc;

        mlc_err_clear(&e);
        rc = money_parse_at(c[i].s, c[i].scale, c[i].mode, &v, &e);
        if (rc != c[i].code)
            fail_msg("parse_at('%s', %d, mode %d): rc %d (%s), want %d", c[i].s, c[i].scale,
                     (int)c[i].mode, rc, e.msg, c[i].code);
        if (rc == MLC_OK && v != c[i].want)
            fail_msg("parse_at('%s', %d, mode %d) = %lld, want %lld", c[i].s, c[i].scale,
                     (int)c[i].mode, (long long)v, (long long)c[i].want);
        if (rc != MLC_OK && v != 777)
            fail_msg("parse_at('%s'): output written on failure", c[i].s);
    }
}

static void test_parse_currency(void **state)
{
    struct mlc_err e;
    int64_t v;

    (void)state;
    assert_int_equal(money_parse("0.125", "USD", HALF_AWAY, &v, NULL), MLC_OK);
    assert_int_equal(v, 13);
    assert_int_equal(money_parse("-0.125", "USD", HALF_AWAY, &v, NULL), MLC_OK);
    assert_int_equal(v, -13);
    assert_int_equal(money_parse("1234.5", "JPY", HALF_AWAY, &v, NULL), MLC_OK);
    assert_int_equal(v, 1235);
    assert_int_equal(money_parse("1234.5", "JPY", HALF_EVEN, &v, NULL), MLC_OK);
    assert_int_equal(v, 1234);
    assert_int_equal(money_parse("1.2345", "KWD", HALF_AWAY, &v, NULL), MLC_OK);
    assert_int_equal(v, 1235);
    assert_int_equal(money_parse("336.3200", "USD", EXACT, &v, NULL), MLC_OK);
    assert_int_equal(v, 33632);
    mlc_err_clear(&e);
    assert_int_equal(money_parse("336.3225", "USD", EXACT, &v, &e), MLC_EINVAL);
    assert_non_null(strstr(e.msg, "336.3225"));
    assert_non_null(strstr(e.msg, "USD"));
    mlc_err_clear(&e);
    assert_int_equal(money_parse("1.00", "QQQ", HALF_AWAY, &v, &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "QQQ"));
    assert_int_equal(money_parse("1.00", "usd", HALF_AWAY, &v, NULL), MLC_EINVAL);
}

/* ---- rescaling ---- */

static void test_round_scale(void **state)
{
    static const struct {
        int64_t v; int from, to; enum money_round mode; int code; int64_t want;
    } c[] = {
        { 1234567, 4, 2, HALF_AWAY, MLC_OK, 12346 },
        { 1234567, 4, 2, HALF_EVEN, MLC_OK, 12346 },
        { 1234500, 4, 2, EXACT, MLC_OK, 12345 },
        { 1234567, 4, 2, EXACT, MLC_EINVAL, 0 },
        { 125, 3, 2, HALF_AWAY, MLC_OK, 13 },
        { -125, 3, 2, HALF_AWAY, MLC_OK, -13 },
        { 125, 3, 2, HALF_EVEN, MLC_OK, 12 },
        { -125, 3, 2, HALF_EVEN, MLC_OK, -12 },
        { 135, 3, 2, HALF_EVEN, MLC_OK, 14 },
        { -135, 3, 2, HALF_EVEN, MLC_OK, -14 },
        { 1249, 3, 1, HALF_AWAY, MLC_OK, 12 },
        { 1250, 3, 1, HALF_AWAY, MLC_OK, 13 },
        { 1250, 3, 1, HALF_EVEN, MLC_OK, 12 },
        { 1251, 3, 1, HALF_EVEN, MLC_OK, 13 },
        { 33632, 2, 4, EXACT, MLC_OK, 3363200 },
        { 5, 0, 2, HALF_AWAY, MLC_OK, 500 },
        { 7, 2, 2, EXACT, MLC_OK, 7 },
        { INT64_MAX, 0, 0, EXACT, MLC_OK, INT64_MAX },
        { INT64_MAX, 2, 0, HALF_AWAY, MLC_OK, 92233720368547758 },
        { INT64_MIN, 2, 0, HALF_AWAY, MLC_OK, -92233720368547758 },
        { INT64_MIN, 18, 0, HALF_AWAY, MLC_OK, -9 },
        { INT64_MIN, 18, 0, HALF_EVEN, MLC_OK, -9 },
        { INT64_MAX, 18, 0, HALF_AWAY, MLC_OK, 9 },
        { 500000000000000000, 18, 0, HALF_AWAY, MLC_OK, 1 },
        { 500000000000000000, 18, 0, HALF_EVEN, MLC_OK, 0 },
        { -500000000000000000, 18, 0, HALF_AWAY, MLC_OK, -1 },
        { 92233720368547758, 0, 2, EXACT, MLC_OK, 9223372036854775800 },
        { 92233720368547759, 0, 2, EXACT, MLC_ERANGE, 0 },
        { -92233720368547759, 0, 2, HALF_AWAY, MLC_ERANGE, 0 },
        { 10, 0, 18, EXACT, MLC_ERANGE, 0 },
        { 1, 0, 19, EXACT, MLC_EINVAL, 0 },
        { 1, -1, 0, EXACT, MLC_EINVAL, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int64_t v = 555;
        int rc = money_round_scale(c[i].v, c[i].from, c[i].to, c[i].mode, &v, NULL);

        if (rc != c[i].code)
            fail_msg("round_scale(%lld, %d->%d, mode %d): rc %d, want %d", (long long)c[i].v,
                     c[i].from, c[i].to, (int)c[i].mode, rc, c[i].code);
        if (rc == MLC_OK && v != c[i].want)
            fail_msg("round_scale(%lld, %d->%d, mode %d) = %lld, want %lld",
                     (long long)c[i].v, c[i].from, c[i].to, (int)c[i].mode, (long long)v,
                     (long long)c[i].want);
        if (rc != MLC_OK && v != 555)
            fail_msg("round_scale(%lld): output written on failure", (long long)c[i].v);
    }
}

/* ---- formatting ---- */

static void test_format(void **state)
{
    static const struct { int64_t v; int exp; const char *want; } c[] = {
        { 33632, 2, "336.32" },
        { -50, 2, "-0.50" },
        { 105, 0, "105" },
        { 1250, 3, "1.250" },
        { 0, 2, "0.00" },
        { 0, 0, "0" },
        { 1, 4, "0.0001" },
        { -1, 4, "-0.0001" },
        { -7, 0, "-7" },
        { 3363200, 4, "336.3200" },
        { INT64_MAX, 0, "9223372036854775807" },
        { INT64_MIN, 0, "-9223372036854775808" },
        { INT64_MIN, 2, "-92233720368547758.08" },
        { INT64_MAX, 2, "92233720368547758.07" },
        { INT64_MIN, 18, "-9.223372036854775808" },
        { INT64_MIN, 3, "-9223372036854775.808" },
        { 1, 18, "0.000000000000000001" },
        { -1, 18, "-0.000000000000000001" },
    };
    char buf[MONEY_FMT_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_int_equal(money_format(c[i].v, c[i].exp, buf, sizeof(buf)), MLC_OK);
        if (strcmp(buf, c[i].want) != 0)
            fail_msg("format(%lld, %d) = '%s', want '%s'", (long long)c[i].v, c[i].exp, buf,
                     c[i].want);
    }
}

static void test_format_errors(void **state)
{
    char buf[8];
    struct mlc_err e;

    (void)state;
    /* exactly fits: "-336.32" is 7 chars + NUL */
    assert_int_equal(money_format(-33632, 2, buf, 8), MLC_OK);
    assert_string_equal(buf, "-336.32");
    assert_int_equal(money_format(-33632, 2, buf, 7), MLC_ETOOBIG);
    assert_string_equal(buf, "");
    assert_int_equal(money_format(1, 2, buf, 0), MLC_ETOOBIG);
    assert_int_equal(money_format(1, 19, buf, sizeof(buf)), MLC_EINVAL);
    assert_int_equal(money_format(1, -1, buf, sizeof(buf)), MLC_EINVAL);
    assert_int_equal(money_format(1, 2, NULL, 8), MLC_EINVAL);

    assert_int_equal(money_format_cur(-50, "USD", buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "-0.50");
    assert_int_equal(money_format_cur(105, "JPY", buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "105");
    assert_int_equal(money_format_cur(1250, "BHD", buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "1.250");
    mlc_err_clear(&e);
    assert_int_equal(money_format_cur(1, "ABC", buf, sizeof(buf), &e), MLC_ENOTFOUND);
    assert_string_equal(buf, "");
    assert_int_equal(money_format_cur(INT64_MIN, "USD", buf, sizeof(buf), &e), MLC_ETOOBIG);
    assert_int_equal(e.code, MLC_ETOOBIG);
}

/* ---- checked arithmetic ---- */

static void test_arith(void **state)
{
    struct mlc_err e;
    int64_t v = 99;

    (void)state;
    assert_int_equal(money_add(33632, -50, &v, NULL), MLC_OK);
    assert_int_equal(v, 33582);
    assert_int_equal(money_sub(-50, 33632, &v, NULL), MLC_OK);
    assert_int_equal(v, -33682);
    assert_int_equal(money_mul_i64(1999, 3, &v, NULL), MLC_OK);
    assert_int_equal(v, 5997);
    assert_int_equal(money_add(INT64_MAX, -1, &v, NULL), MLC_OK);
    assert_int_equal(v, INT64_MAX - 1);
    assert_int_equal(money_sub(INT64_MIN, -1, &v, NULL), MLC_OK);
    assert_int_equal(v, INT64_MIN + 1);

    v = 99;
    mlc_err_clear(&e);
    assert_int_equal(money_add(INT64_MAX, 1, &v, &e), MLC_ERANGE);
    assert_int_equal(e.code, MLC_ERANGE);
    assert_non_null(strstr(e.msg, "9223372036854775807"));
    assert_int_equal(money_add(INT64_MIN, -1, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_sub(INT64_MIN, 1, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_sub(0, INT64_MIN, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_sub(INT64_MAX, -1, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_mul_i64(INT64_MIN, -1, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_mul_i64(INT64_MAX / 2 + 1, 2, &v, NULL), MLC_ERANGE);
    assert_int_equal(money_mul_i64(4611686018427387904, -2, &v, NULL), MLC_OK);
    assert_int_equal(v, INT64_MIN);
    v = 99;
    assert_int_equal(money_mul_i64(3037000500, 3037000500, &v, NULL), MLC_ERANGE);
    assert_int_equal(v, 99);   /* untouched on overflow */
}

/* ---- allocation ---- */

static void check_alloc(int64_t total, const int64_t *w, size_t n, const int64_t *want)
{
    int64_t out[16];
    size_t i;

    assert_true(n <= 16);
    assert_int_equal(money_allocate(total, w, n, out, NULL), MLC_OK);
    for (i = 0; i < n; i++)
        if (out[i] != want[i])
            fail_msg("allocate(%lld): part %zu = %lld, want %lld", (long long)total, i,
                     (long long)out[i], (long long)want[i]);
}

static void test_allocate_cases(void **state)
{
    (void)state;
    check_alloc(100, (const int64_t[]){ 1, 1, 1 }, 3, (const int64_t[]){ 34, 33, 33 });
    check_alloc(-100, (const int64_t[]){ 1, 1, 1 }, 3, (const int64_t[]){ -34, -33, -33 });
    check_alloc(5, (const int64_t[]){ 1, 1, 1, 1 }, 4, (const int64_t[]){ 2, 1, 1, 1 });
    check_alloc(2, (const int64_t[]){ 1, 1, 1 }, 3, (const int64_t[]){ 1, 1, 0 });
    check_alloc(-2, (const int64_t[]){ 1, 1, 1 }, 3, (const int64_t[]){ -1, -1, 0 });
    check_alloc(0, (const int64_t[]){ 3, 7 }, 2, (const int64_t[]){ 0, 0 });
    check_alloc(1000, (const int64_t[]){ 0, 1, 0 }, 3, (const int64_t[]){ 0, 1000, 0 });
    /* largest remainder beats lower index: shares 3.3, 3.3, 3.4 */
    check_alloc(10, (const int64_t[]){ 33, 33, 34 }, 3, (const int64_t[]){ 3, 3, 4 });
    /* a 3-way discount split of 10.00 by line totals 19.99, 5.01, 75.00 */
    check_alloc(1000, (const int64_t[]){ 1999, 501, 7500 }, 3,
                (const int64_t[]){ 200, 50, 750 });
    check_alloc(INT64_MAX, (const int64_t[]){ INT64_MAX, INT64_MAX }, 2,
                (const int64_t[]){ INT64_MAX / 2 + 1, INT64_MAX / 2 });
    check_alloc(INT64_MIN, (const int64_t[]){ 1 }, 1, (const int64_t[]){ INT64_MIN });
    check_alloc(INT64_MIN, (const int64_t[]){ 1, 1 }, 2,
                (const int64_t[]){ INT64_MIN / 2, INT64_MIN / 2 });
    check_alloc(INT64_MIN, (const int64_t[]){ 0, INT64_MAX, 0 }, 3,
                (const int64_t[]){ 0, INT64_MIN, 0 });
    check_alloc(7, (const int64_t[]){ 5 }, 1, (const int64_t[]){ 7 });
}

static void test_allocate_errors(void **state)
{
    int64_t out[3] = { 11, 22, 33 };
    struct mlc_err e;

    (void)state;
    mlc_err_clear(&e);
    assert_int_equal(money_allocate(100, (const int64_t[]){ 0, 0, 0 }, 3, out, &e),
                     MLC_EINVAL);
    assert_non_null(strstr(e.msg, "zero"));
    mlc_err_clear(&e);
    assert_int_equal(money_allocate(100, (const int64_t[]){ 1, -1, 1 }, 3, out, &e),
                     MLC_EINVAL);
    assert_non_null(strstr(e.msg, "negative"));
    assert_int_equal(money_allocate(100, (const int64_t[]){ 1 }, 0, out, NULL), MLC_EINVAL);
    assert_int_equal(money_allocate(100, NULL, 3, out, NULL), MLC_EINVAL);
    assert_int_equal(money_allocate(100, (const int64_t[]){ 1 }, 1, NULL, NULL), MLC_EINVAL);
    assert_int_equal(out[0], 11);
    assert_int_equal(out[1], 22);
    assert_int_equal(out[2], 33);
}

/* 10k random splits: the parts sum to the total, each is within one unit of
 * its exact share (|part*W - total*w| < W), zero weights get 0, and a
 * negated total gives the negated split. */
static void test_allocate_property(void **state)
{
    struct prng g = { 0x9E3779B97F4A7C15ull };
    int iter;

    (void)state;
    for (iter = 0; iter < 10000; iter++) {
        int64_t w[8], out[8], neg[8];
        size_t n = 1 + (size_t)prng_below(&g, 8), i;
        unsigned wbits = 1 + (unsigned)prng_below(&g, 50);
        int64_t total = prng_amount(&g);
        __int128 sum = 0, wsum = 0;

        for (i = 0; i < n; i++) {
            w[i] = prng_below(&g, 4) == 0 ? 0 : (int64_t)(prng_next(&g) >> (64 - wbits));
            wsum += w[i];
        }
        if (wsum == 0)
            w[0] = 1, wsum = 1;
        assert_int_equal(money_allocate(total, w, n, out, NULL), MLC_OK);
        for (i = 0; i < n; i++) {
            __int128 diff = (__int128)out[i] * wsum - (__int128)total * w[i];

            sum += out[i];
            if (diff <= -wsum || diff >= wsum)
                fail_msg("iter %d: part %zu = %lld is not within 1 of its share", iter, i,
                         (long long)out[i]);
            if (w[i] == 0 && out[i] != 0)
                fail_msg("iter %d: zero weight %zu got %lld", iter, i, (long long)out[i]);
        }
        if (sum != total)
            fail_msg("iter %d: parts sum differs from %lld", iter, (long long)total);
        if (total != INT64_MIN) {
            assert_int_equal(money_allocate(-total, w, n, neg, NULL), MLC_OK);
            for (i = 0; i < n; i++)
                if (neg[i] != -out[i])
                    fail_msg("iter %d: split of -total is not symmetric at %zu", iter, i);
        }
    }
}

/* ---- round trips and cross-checks ---- */

/* 100k random values at exponents 0..4: format, then parse back with every
 * parser; each must give the value again. */
static void test_format_parse_roundtrip(void **state)
{
    struct prng g = { 0x2545F4914F6CDD1Dull };
    char buf[MONEY_FMT_MAX];
    int iter;

    (void)state;
    for (iter = 0; iter < 100000; iter++) {
        int64_t v = prng_amount(&g), back;
        int exp = (int)prng_below(&g, 5);

        assert_int_equal(money_format(v, exp, buf, sizeof(buf)), MLC_OK);
        if (money_parse_scaled(buf, exp, &back, NULL) != MLC_OK || back != v)
            fail_msg("'%s' (from %lld at %d) does not parse back", buf, (long long)v, exp);
        if (money_parse_at(buf, exp, EXACT, &back, NULL) != MLC_OK || back != v)
            fail_msg("'%s' does not parse back exactly", buf);
        if (money_parse_at(buf, exp, HALF_EVEN, &back, NULL) != MLC_OK || back != v)
            fail_msg("'%s' does not parse back with HALF_EVEN", buf);
    }
}

/* Rounding through the digit string (parse_at) and through integer division
 * (round_scale) are independent implementations: they must agree on 100k
 * random values in every mode, errors included. */
static void test_rounding_cross_check(void **state)
{
    static const enum money_round modes[] = { EXACT, HALF_AWAY, HALF_EVEN };
    struct prng g = { 0xD1B54A32D192ED03ull };
    char buf[MONEY_FMT_MAX];
    int iter;

    (void)state;
    for (iter = 0; iter < 100000; iter++) {
        int64_t v = prng_amount(&g), a = 0, b = 0;
        int from = (int)prng_below(&g, 9), to = (int)prng_below(&g, (uint64_t)from + 1);
        enum money_round mode = modes[prng_below(&g, 3)];
        int ra, rb;

        if (prng_below(&g, 4) == 0)   /* make ties common: ...5 followed by zeros */
            v = (v / 1000) * 1000 + 500 * (v < 0 ? -1 : 1);
        assert_int_equal(money_format(v, from, buf, sizeof(buf)), MLC_OK);
        ra = money_parse_at(buf, to, mode, &a, NULL);
        rb = money_round_scale(v, from, to, mode, &b, NULL);
        if (ra != rb || (ra == MLC_OK && a != b))
            fail_msg("'%s' to %d places, mode %d: parse_at %d/%lld, round_scale %d/%lld", buf,
                     to, (int)mode, ra, (long long)a, rb, (long long)b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponent),
        cmocka_unit_test(test_parse_scaled_good),
        cmocka_unit_test(test_parse_scaled_bad),
        cmocka_unit_test(test_parse_message_bounded),
        cmocka_unit_test(test_parse_rounding),
        cmocka_unit_test(test_parse_currency),
        cmocka_unit_test(test_round_scale),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_arith),
        cmocka_unit_test(test_allocate_cases),
        cmocka_unit_test(test_allocate_errors),
        cmocka_unit_test(test_allocate_property),
        cmocka_unit_test(test_format_parse_roundtrip),
        cmocka_unit_test(test_rounding_cross_check),
    };

    return cmocka_run_group_tests_name("money", tests, NULL, NULL);
}
