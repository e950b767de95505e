/*
 * fuzz_jdate: the date parsers (src/core/jdate.c): YYYYMMDD, ISO dates,
 * AIS date patterns (SimpleDateFormat subset, pattern and text both from the
 * input) and the Julian CYYDDD conversions of whatever parses. A parsed date
 * must format and parse back to itself.
 * Input: pattern '\n' text (no newline: the text alone, fixed patterns).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void civil(const struct jdate_civil *d)
{
    struct mlc_err e = {0};
    struct jdate_civil back;
    char buf[JDATE_SDF_SIZE > 32 ? JDATE_SDF_SIZE : 32];
    int32_t jul;
    int64_t days, t;

    if (jdate_civil_check(d, &e) != 0)
        return;
    if (jdate_julian_from_civil(d, &jul, &e) == 0 &&
        (jdate_julian_to_civil(jul, &back, &e) != 0 || jdate_civil_cmp(d, &back) != 0))
        abort();
    if (jdate_yyyymmdd_format(d, buf, sizeof(buf), &e) == 0 &&
        (jdate_yyyymmdd_parse(buf, &back, &e) != 0 || jdate_civil_cmp(d, &back) != 0))
        abort();
    if (jdate_civil_to_days(d, &days, &e) == 0) {
        (void)jdate_weekday(days);
        (void)jdate_civil_add_days(d, 400, &back, &e);
    }
    (void)jdate_day_of_year(d);
    if (jdate_civil_to_unix(d, 235959, -720, &t, &e) == 0)
        (void)jdate_unix_to_civil(t, 840, &back, &jul, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pats[] = { "MM/dd/yyyy", "dd/MM/yy", "yyyyMMdd", "yyyy-MM-dd", "d.M.yyyy" };
    struct mlc_err e = {0};
    struct jdate_civil d;
    char *buf = malloc(size + 1), *text, *nl, out[JDATE_SDF_SIZE];
    int32_t jul;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    nl = strchr(buf, '\n');
    text = nl != NULL ? nl + 1 : buf;
    if (nl != NULL)
        *nl = '\0';

    if (jdate_yyyymmdd_parse(text, &d, &e) == 0)
        civil(&d);
    (void)jdate_julian_from_yyyymmdd(text, &jul, &e);
    if (jdate_iso_date_parse(text, &d, &e) == 0)
        civil(&d);
    if (nl != NULL && jdate_sdf_check(buf, &e) == 0) {
        if (jdate_sdf_parse(buf, text, JDATE_YY_BASE_DEFAULT, &d, &e) == 0) {
            civil(&d);
            (void)jdate_sdf_format(buf, &d, out, sizeof(out), &e);
        }
    }
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
        if (jdate_sdf_parse(pats[i], text, JDATE_YY_BASE_DEFAULT, &d, &e) == 0)
            civil(&d);
    if (size >= 4) {
        int32_t j;

        memcpy(&j, data, sizeof(j));
        if (jdate_julian_to_civil(j, &d, &e) == 0)
            civil(&d);
    }
    free(buf);
    return 0;
}
