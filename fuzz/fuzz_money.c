/*
 * fuzz_money: the decimal money parsers and formatters (src/core/money.c).
 * Input: one control byte (scale, rounding mode), then the text. A value
 * that parses must format and parse back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(int64_t v, int scale)
{
    char buf[64];
    int64_t back = 0;
    struct mlc_err e = {0};

    if (money_format(v, scale, buf, sizeof(buf)) < 0)
        return;
    if (money_parse_scaled(buf, scale, &back, &e) != 0 || back != v)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cur[] = { "USD", "JPY", "KWD", "EUR", "XXX", "usd" };
    struct mlc_err e = {0};
    int64_t v = 0, r = 0;
    int scale, mode, exp = 0;
    char *s, fmt[64];

    if (size < 1)
        return 0;
    scale = data[0] % 21;           /* 0..20: past MONEY_MAX_SCALE on purpose */
    mode = (data[0] / 21) % 3;
    s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    if (money_parse_scaled(s, scale, &v, &e) == 0)
        roundtrip(v, scale);
    if (money_parse_at(s, scale, (enum money_round)mode, &v, &e) == 0) {
        roundtrip(v, scale);
        (void)money_round_scale(v, scale, 0, (enum money_round)mode, &r, &e);
        (void)money_add(v, r, &r, &e);
        (void)money_sub(v, r, &r, &e);
        (void)money_mul_i64(v, r, &r, &e);
    }
    for (size_t i = 0; i < sizeof(cur) / sizeof(cur[0]); i++) {
        (void)money_exponent(cur[i], &exp, &e);
        if (money_parse(s, cur[i], (enum money_round)mode, &v, &e) == 0)
            (void)money_format_cur(v, cur[i], fmt, sizeof(fmt), &e);
    }
    if (strlen(s) <= 3)
        (void)money_exponent(s, &exp, &e);
    free(s);
    return 0;
}
