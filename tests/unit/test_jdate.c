/* Unit tests: jdate (civil dates, JDE Julian, YYYYMMDD, HHMMSS, stamps,
 * simpleDateFormat, RFC 2822 and ISO 8601). The exhaustive loops walk every
 * day of 1900..2099 with an independent calendar (nested year/month/day
 * loops cross-checked against timegm) so that the module is not tested
 * against itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/jdate.h"

static const char *const sdf_patterns[] = {
    "MM/dd/yyyy", "dd/MM/yyyy", "yyyy-MM-dd", "dd.MM.yy", "MM/dd/yy",
    "M/d/yyyy", "d.M.yy", "yyyyMMdd", "yy/MM/dd", "dd-MM-yyyy"
};
#define N_PATTERNS (sizeof(sdf_patterns) / sizeof(sdf_patterns[0]))

/* Expected text of d in one of sdf_patterns, built independently with
 * snprintf per pattern. */
static void expect_sdf(size_t i, const struct jdate_civil *d, char *buf,
                       size_t cap)
{
    int y = d->year, m = d->month, dd = d->day, yy = d->year % 100;

    switch (i) {
    case 0: snprintf(buf, cap, "%02d/%02d/%04d", m, dd, y); break;
    case 1: snprintf(buf, cap, "%02d/%02d/%04d", dd, m, y); break;
    case 2: snprintf(buf, cap, "%04d-%02d-%02d", y, m, dd); break;
    case 3: snprintf(buf, cap, "%02d.%02d.%02d", dd, m, yy); break;
    case 4: snprintf(buf, cap, "%02d/%02d/%02d", m, dd, yy); break;
    case 5: snprintf(buf, cap, "%d/%d/%04d", m, dd, y); break;
    case 6: snprintf(buf, cap, "%d.%d.%02d", dd, m, yy); break;
    case 7: snprintf(buf, cap, "%04d%02d%02d", y, m, dd); break;
    case 8: snprintf(buf, cap, "%02d/%02d/%02d", yy, m, dd); break;
    default: snprintf(buf, cap, "%02d-%02d-%04d", dd, m, y); break;
    }
}

static int64_t ref_timegm(int y, int m, int d, int hh, int mi, int ss)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss;
    return (int64_t)timegm(&tm);
}

static void assert_civil(const struct jdate_civil *d, int y, int m, int dd)
{
    assert_int_equal(d->year, y);
    assert_int_equal(d->month, m);
    assert_int_equal(d->day, dd);
}

static void assert_msg_has(const struct mlc_err *e, const char *needle)
{
    if (strstr(e->msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e->msg, needle);
}

/* ---- Civil ------------------------------------------------------------ */

static void test_leap_years(void **state)
{
    (void)state;
    assert_false(jdate_is_leap_year(1900));
    assert_true(jdate_is_leap_year(2000));
    assert_true(jdate_is_leap_year(2024));
    assert_false(jdate_is_leap_year(2023));
    assert_false(jdate_is_leap_year(2100));
    assert_true(jdate_is_leap_year(2400));
    assert_int_equal(jdate_days_in_month(1900, 2), 28);
    assert_int_equal(jdate_days_in_month(2000, 2), 29);
    assert_int_equal(jdate_days_in_month(2024, 2), 29);
    assert_int_equal(jdate_days_in_month(2023, 2), 28);
    assert_int_equal(jdate_days_in_month(2023, 4), 30);
    assert_int_equal(jdate_days_in_month(2023, 12), 31);
    assert_int_equal(jdate_days_in_month(2023, 0), 0);
    assert_int_equal(jdate_days_in_month(2023, 13), 0);
    assert_int_equal(jdate_days_in_year(1900), 365);
    assert_int_equal(jdate_days_in_year(2000), 366);
}

static void test_civil_check(void **state)
{
    struct mlc_err e;
    struct jdate_civil bad[] = {
        { 2023, 2, 29 }, { 1900, 2, 29 }, { 2023, 4, 31 }, { 2023, 13, 1 },
        { 2023, 0, 1 }, { 2023, 1, 0 }, { 2023, 1, 32 }, { 0, 1, 1 },
        { 10000, 1, 1 }, { -5, 1, 1 }, { 0, 0, 0 }
    };
    struct jdate_civil ok[] = {
        { 2024, 2, 29 }, { 2000, 2, 29 }, { 1, 1, 1 }, { 9999, 12, 31 }
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jdate_civil_check(&bad[i], NULL), MLC_EINVAL);
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(jdate_civil_check(&ok[i], NULL), MLC_OK);
    assert_int_equal(jdate_civil_check(NULL, NULL), MLC_EINVAL);
    mlc_err_clear(&e);
    assert_int_equal(jdate_civil_check(&bad[0], &e), MLC_EINVAL);
    assert_int_equal(e.code, MLC_EINVAL);
    assert_msg_has(&e, "2023-02-29 does not exist");
    assert_msg_has(&e, "28 days");
    assert_true(jdate_civil_is_blank(&bad[10]));
    assert_false(jdate_civil_is_blank(&ok[0]));
    assert_false(jdate_civil_is_blank(NULL));
}

static void test_days_known(void **state)
{
    struct jdate_civil d = { 1970, 1, 1 }, out;
    int64_t days;

    (void)state;
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_OK);
    assert_int_equal(days, 0);
    d = (struct jdate_civil){ 2000, 3, 1 };
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_OK);
    assert_int_equal(days, 11017);
    d = (struct jdate_civil){ 1, 1, 1 };
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_OK);
    assert_int_equal(days, -719162);
    d = (struct jdate_civil){ 9999, 12, 31 };
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_OK);
    assert_int_equal(days, 2932896);
    assert_int_equal(jdate_civil_from_days(2932896, &out, NULL), MLC_OK);
    assert_civil(&out, 9999, 12, 31);
    assert_int_equal(jdate_civil_from_days(-719162, &out, NULL), MLC_OK);
    assert_civil(&out, 1, 1, 1);
    assert_int_equal(jdate_civil_from_days(2932897, &out, NULL), MLC_ERANGE);
    assert_int_equal(jdate_civil_from_days(-719163, &out, NULL), MLC_ERANGE);
    assert_int_equal(jdate_civil_from_days(INT64_MIN, &out, NULL), MLC_ERANGE);
    d = (struct jdate_civil){ 2023, 2, 30 };
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_EINVAL);

    /* Weekdays: 1970-01-01 Thu, 2000-01-01 Sat, 2026-11-28 Sat. */
    assert_int_equal(jdate_weekday(0), 4);
    assert_int_equal(jdate_weekday(-1), 3);
    assert_int_equal(jdate_weekday(-719162), 1); /* 0001-01-01 Monday */
    d = (struct jdate_civil){ 2026, 11, 28 };
    assert_int_equal(jdate_civil_to_days(&d, &days, NULL), MLC_OK);
    assert_int_equal(jdate_weekday(days), 6);
    assert_int_equal(jdate_day_of_year(&d), 332);
    d = (struct jdate_civil){ 2024, 12, 31 };
    assert_int_equal(jdate_day_of_year(&d), 366);
    d = (struct jdate_civil){ 2023, 2, 30 };
    assert_int_equal(jdate_day_of_year(&d), 0);
}

static void test_add_cmp(void **state)
{
    struct jdate_civil a = { 2024, 2, 28 }, b;

    (void)state;
    assert_int_equal(jdate_civil_add_days(&a, 1, &b, NULL), MLC_OK);
    assert_civil(&b, 2024, 2, 29);
    assert_int_equal(jdate_civil_add_days(&a, 2, &b, NULL), MLC_OK);
    assert_civil(&b, 2024, 3, 1);
    assert_int_equal(jdate_civil_add_days(&a, -59, &b, NULL), MLC_OK);
    assert_civil(&b, 2023, 12, 31);
    assert_true(jdate_civil_cmp(&b, &a) < 0);
    assert_true(jdate_civil_cmp(&a, &b) > 0);
    assert_int_equal(jdate_civil_cmp(&a, &a), 0);
    assert_int_equal(jdate_civil_add_days(&a, INT64_MAX, &b, NULL),
                     MLC_ERANGE);
    a = (struct jdate_civil){ 9999, 12, 31 };
    assert_int_equal(jdate_civil_add_days(&a, 1, &b, NULL), MLC_ERANGE);
}

/* ---- Exhaustive round trips 1900..2099 -------------------------------- */

static void check_one_day(const struct jdate_civil *d, int64_t want_days,
                          int doy)
{
    struct jdate_civil out;
    char buf[JDATE_SDF_SIZE], want[JDATE_SDF_SIZE];
    int64_t days;
    int32_t jul;

    assert_int_equal(jdate_civil_to_days(d, &days, NULL), MLC_OK);
    assert_int_equal(days, want_days);
    assert_int_equal(jdate_civil_from_days(days, &out, NULL), MLC_OK);
    assert_memory_equal(&out, d, sizeof(out));
    assert_int_equal(jdate_day_of_year(d), doy);

    assert_int_equal(jdate_julian_from_civil(d, &jul, NULL), MLC_OK);
    assert_int_equal(jul, (d->year - 1900) * 1000 + doy);
    assert_int_equal(jdate_julian_to_civil(jul, &out, NULL), MLC_OK);
    assert_memory_equal(&out, d, sizeof(out));

    snprintf(want, sizeof(want), "%04d%02d%02d", d->year, d->month, d->day);
    assert_int_equal(jdate_yyyymmdd_format(d, buf, JDATE_YYYYMMDD_SIZE, NULL),
                     MLC_OK);
    assert_string_equal(buf, want);
    assert_int_equal(jdate_yyyymmdd_parse(buf, &out, NULL), MLC_OK);
    assert_memory_equal(&out, d, sizeof(out));
    assert_int_equal(jdate_julian_from_yyyymmdd(buf, &jul, NULL), MLC_OK);
    assert_int_equal(jul, (d->year - 1900) * 1000 + doy);

    assert_int_equal(jdate_iso_date_format(d, buf, JDATE_ISO_DATE_SIZE, NULL),
                     MLC_OK);
    assert_int_equal(jdate_iso_date_parse(buf, &out, NULL), MLC_OK);
    assert_memory_equal(&out, d, sizeof(out));
}

static void check_one_day_sdf(const struct jdate_civil *d)
{
    struct jdate_civil out;
    char buf[JDATE_SDF_SIZE], want[JDATE_SDF_SIZE];
    int base = d->year < 2000 ? 1900 : 2000;
    size_t i;

    for (i = 0; i < N_PATTERNS; i++) {
        expect_sdf(i, d, want, sizeof(want));
        assert_int_equal(jdate_sdf_format(sdf_patterns[i], d, buf,
                                          sizeof(buf), NULL), MLC_OK);
        assert_string_equal(buf, want);
        assert_int_equal(jdate_sdf_parse(sdf_patterns[i], buf, base, &out,
                                         NULL), MLC_OK);
        assert_memory_equal(&out, d, sizeof(out));
    }
}

static void test_exhaustive_1900_2099(void **state)
{
    int64_t want_days = -25567; /* 1900-01-01 */
    int64_t last = want_days - 1;
    int y, m, dd, doy, wd = 1, count = 0; /* 1900-01-01 was a Monday */

    (void)state;
    for (y = 1900; y <= 2099; y++) {
        doy = 0;
        for (m = 1; m <= 12; m++) {
            int dim = m == 2 ? (y % 4 == 0 && y != 1900 ? 29 : 28)
                      : (m == 4 || m == 6 || m == 9 || m == 11) ? 30
                      : 31;

            for (dd = 1; dd <= dim; dd++) {
                struct jdate_civil d = { y, m, dd };

                doy++;
                assert_int_equal(ref_timegm(y, m, dd, 0, 0, 0),
                                 want_days * 86400);
                check_one_day(&d, want_days, doy);
                check_one_day_sdf(&d);
                assert_int_equal(jdate_weekday(want_days), wd);
                assert_true(want_days == last + 1);
                last = want_days;
                want_days++;
                wd = (wd + 1) % 7;
                count++;
            }
        }
        assert_int_equal(doy, y % 4 == 0 && y != 1900 ? 366 : 365);
    }
    assert_int_equal(count, 73049);
}

/* Unix <-> local civil at several offsets, one instant per day 1900..2099. */
static void test_exhaustive_unix_offsets(void **state)
{
    static const int offsets[] = { 0, 60, -300, 330, -720, 840, 1439, -1439 };
    int64_t days;
    size_t i;

    (void)state;
    for (days = -25567; days <= 47481; days++) {
        int64_t t = days * 86400 + (days % 86400 + 86400) % 86400;

        for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
            struct jdate_civil d;
            int32_t hms;
            int64_t back;
            int64_t local = t + offsets[i] * 60;
            int64_t ld = local >= 0 ? local / 86400
                                    : -((-local + 86399) / 86400);
            int64_t ls = local - ld * 86400;
            struct jdate_civil want;

            assert_int_equal(jdate_unix_to_civil(t, offsets[i], &d, &hms,
                                                 NULL), MLC_OK);
            assert_int_equal(jdate_civil_from_days(ld, &want, NULL), MLC_OK);
            assert_memory_equal(&d, &want, sizeof(d));
            assert_int_equal(hms, ls / 3600 * 10000 + ls / 60 % 60 * 100
                                  + ls % 60);
            assert_int_equal(jdate_civil_to_unix(&d, hms, offsets[i], &back,
                                                 NULL), MLC_OK);
            assert_int_equal(back, t);
        }
    }
}

/* ---- JDE Julian ------------------------------------------------------- */

static void test_julian_known(void **state)
{
    struct jdate_civil d;
    struct mlc_err e;
    int32_t jul;

    (void)state;
    assert_int_equal(jdate_julian_to_civil(126332, &d, NULL), MLC_OK);
    assert_civil(&d, 2026, 11, 28);
    assert_int_equal(jdate_julian_to_civil(100001, &d, NULL), MLC_OK);
    assert_civil(&d, 2000, 1, 1);
    assert_int_equal(jdate_julian_to_civil(100060, &d, NULL), MLC_OK);
    assert_civil(&d, 2000, 2, 29);
    assert_int_equal(jdate_julian_to_civil(100366, &d, NULL), MLC_OK);
    assert_civil(&d, 2000, 12, 31);
    assert_int_equal(jdate_julian_to_civil(99365, &d, NULL), MLC_OK);
    assert_civil(&d, 1999, 12, 31);
    assert_int_equal(jdate_julian_to_civil(99001, &d, NULL), MLC_OK);
    assert_civil(&d, 1999, 1, 1);
    assert_int_equal(jdate_julian_to_civil(1, &d, NULL), MLC_OK);
    assert_civil(&d, 1900, 1, 1);
    assert_int_equal(jdate_julian_to_civil(60, &d, NULL), MLC_OK);
    assert_civil(&d, 1900, 3, 1); /* 1900 is not a leap year */
    assert_int_equal(jdate_julian_to_civil(124060, &d, NULL), MLC_OK);
    assert_civil(&d, 2024, 2, 29);
    assert_int_equal(jdate_julian_to_civil(999365, &d, NULL), MLC_OK);
    assert_civil(&d, 2899, 12, 31);

    /* Blank is its own result, not an error and not 1900. */
    d = (struct jdate_civil){ 1, 2, 3 };
    assert_int_equal(jdate_julian_to_civil(0, &d, NULL), JDATE_BLANK);
    assert_true(jdate_civil_is_blank(&d));
    assert_int_equal(jdate_julian_from_civil(&d, &jul, NULL), JDATE_BLANK);
    assert_int_equal(jul, 0);

    /* Rejects. */
    mlc_err_clear(&e);
    assert_int_equal(jdate_julian_to_civil(126000, &d, &e), MLC_EINVAL);
    assert_msg_has(&e, "day of year 0");
    assert_int_equal(jdate_julian_to_civil(126366, &d, &e), MLC_EINVAL);
    assert_msg_has(&e, "1..365");
    assert_int_equal(jdate_julian_to_civil(100367, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(366, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(-1, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(-126332, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(1000001, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(126999, &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_julian_to_civil(INT32_MAX, &d, NULL), MLC_EINVAL);
    assert_true(jdate_civil_is_blank(&d));

    d = (struct jdate_civil){ 1899, 12, 31 };
    assert_int_equal(jdate_julian_from_civil(&d, &jul, NULL), MLC_ERANGE);
    d = (struct jdate_civil){ 2900, 1, 1 };
    assert_int_equal(jdate_julian_from_civil(&d, &jul, NULL), MLC_ERANGE);
    d = (struct jdate_civil){ 2899, 12, 31 };
    assert_int_equal(jdate_julian_from_civil(&d, &jul, NULL), MLC_OK);
    assert_int_equal(jul, 999365);
    d = (struct jdate_civil){ 2026, 2, 29 };
    assert_int_equal(jdate_julian_from_civil(&d, &jul, NULL), MLC_EINVAL);
}

/* ---- YYYYMMDD and ISO dates ------------------------------------------- */

static void test_yyyymmdd(void **state)
{
    static const char *const bad[] = {
        "2026113", "202611280", "2026-11-28", " 20261128", "20261128 ",
        "20260230", "2026112x", "-2026112", "+20261128", "20261300",
        "20261100", "00001128", "0000", "00", "abc"
    };
    struct jdate_civil d;
    struct mlc_err e;
    char buf[JDATE_YYYYMMDD_SIZE];
    int32_t jul;
    size_t i;

    (void)state;
    assert_int_equal(jdate_yyyymmdd_parse("20261128", &d, NULL), MLC_OK);
    assert_civil(&d, 2026, 11, 28);
    assert_int_equal(jdate_yyyymmdd_parse("", &d, NULL), JDATE_BLANK);
    assert_int_equal(jdate_yyyymmdd_parse(NULL, &d, NULL), JDATE_BLANK);
    assert_int_equal(jdate_yyyymmdd_parse("0", &d, NULL), JDATE_BLANK);
    assert_int_equal(jdate_yyyymmdd_parse("00000000", &d, NULL), JDATE_BLANK);
    assert_true(jdate_civil_is_blank(&d));
    assert_int_equal(jdate_julian_from_yyyymmdd("", &jul, NULL), JDATE_BLANK);
    assert_int_equal(jul, 0);
    assert_int_equal(jdate_julian_from_yyyymmdd("18991231", &jul, NULL),
                     MLC_ERANGE);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlc_err_clear(&e);
        if (jdate_yyyymmdd_parse(bad[i], &d, &e) != MLC_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(e.msg[0] != '\0');
        assert_true(jdate_civil_is_blank(&d));
    }
    mlc_err_clear(&e);
    jdate_yyyymmdd_parse("20260230", &d, &e);
    assert_msg_has(&e, "\"20260230\"");
    assert_msg_has(&e, "does not exist");

    d = (struct jdate_civil){ 0, 0, 0 };
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(jdate_yyyymmdd_format(&d, buf, sizeof(buf), NULL),
                     JDATE_BLANK);
    assert_string_equal(buf, "");
    d = (struct jdate_civil){ 2026, 11, 28 };
    assert_int_equal(jdate_yyyymmdd_format(&d, buf, 8, NULL), MLC_ETOOBIG);
    assert_int_equal(jdate_yyyymmdd_format(&d, NULL, 0, NULL), MLC_ETOOBIG);
    d = (struct jdate_civil){ 2026, 11, 31 };
    assert_int_equal(jdate_yyyymmdd_format(&d, buf, sizeof(buf), NULL),
                     MLC_EINVAL);

    assert_int_equal(jdate_iso_date_parse("2023-02-03", &d, NULL), MLC_OK);
    assert_civil(&d, 2023, 2, 3);
    assert_int_equal(jdate_iso_date_parse("", &d, NULL), JDATE_BLANK);
    assert_int_equal(jdate_iso_date_parse("2023-2-3", &d, NULL), MLC_EINVAL);
    assert_int_equal(jdate_iso_date_parse("2023-02-03T", &d, NULL),
                     MLC_EINVAL);
    assert_int_equal(jdate_iso_date_parse("2023-02-29", &d, NULL),
                     MLC_EINVAL);
}

/* ---- Times and stamps ------------------------------------------------- */

static void test_hhmmss(void **state)
{
    static const int32_t ok[] = { 0, 1, 59, 100, 5959, 10000, 93015, 143015,
                                  235959 };
    static const int32_t bad[] = { -1, 60, 99, 6000, 246000, 240000, 236000,
                                   235960, 1000000, 250000, INT32_MIN };
    int32_t v;
    int h, m, s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(jdate_hhmmss_check(ok[i], NULL), MLC_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jdate_hhmmss_check(bad[i], NULL), MLC_EINVAL);
    assert_int_equal(jdate_hhmmss_split(93015, &h, &m, &s, NULL), MLC_OK);
    assert_int_equal(h, 9);
    assert_int_equal(m, 30);
    assert_int_equal(s, 15);
    assert_int_equal(jdate_hhmmss_split(246000, &h, NULL, NULL, NULL),
                     MLC_EINVAL);
    assert_int_equal(jdate_hhmmss_split(143015, NULL, NULL, &s, NULL), MLC_OK);
    assert_int_equal(s, 15);
    assert_int_equal(jdate_hhmmss_make(14, 30, 15, &v, NULL), MLC_OK);
    assert_int_equal(v, 143015);
    assert_int_equal(jdate_hhmmss_make(24, 0, 0, &v, NULL), MLC_EINVAL);
    assert_int_equal(jdate_hhmmss_make(0, 60, 0, &v, NULL), MLC_EINVAL);
    assert_int_equal(jdate_hhmmss_make(0, 0, 60, &v, NULL), MLC_EINVAL);
    assert_int_equal(jdate_hhmmss_make(-1, 0, 0, &v, NULL), MLC_EINVAL);
}

static void test_stamps(void **state)
{
    struct jdate_stamp w = { 126332, 143015 };
    struct jdate_stamp zero = { 0, 0 };
    struct {
        struct jdate_stamp row;
        bool after;
    } cases[] = {
        { { 126332, 143015 }, true },   /* same second: inclusive */
        { { 126332, 143016 }, true },
        { { 126332, 143014 }, false },
        { { 126333, 0 }, true },        /* later day, earlier time */
        { { 126331, 235959 }, false },
        { { 127001, 0 }, true },
        { { 0, 235959 }, false }
    };
    struct jdate_stamp s;
    int64_t t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(jdate_stamp_at_or_after(&cases[i].row, &w),
                         cases[i].after);
        assert_int_equal(jdate_stamp_cmp(&cases[i].row, &w) >= 0,
                         cases[i].after);
        assert_true(jdate_stamp_at_or_after(&cases[i].row, &zero));
    }
    assert_int_equal(jdate_stamp_cmp(&w, &w), 0);
    assert_true(jdate_stamp_cmp(&zero, &w) < 0);
    assert_true(jdate_stamp_cmp(&w, &zero) > 0);

    assert_int_equal(jdate_stamp_check(&w, NULL), MLC_OK);
    assert_int_equal(jdate_stamp_check(&zero, NULL), MLC_OK);
    s = (struct jdate_stamp){ 126332, 246000 };
    assert_int_equal(jdate_stamp_check(&s, NULL), MLC_EINVAL);
    s = (struct jdate_stamp){ 126400, 0 };
    assert_int_equal(jdate_stamp_check(&s, NULL), MLC_EINVAL);

    /* 2026-11-28 14:30:15 UTC. */
    assert_int_equal(jdate_stamp_to_unix(&w, 0, &t, NULL), MLC_OK);
    assert_int_equal(t, ref_timegm(2026, 11, 28, 14, 30, 15));
    assert_int_equal(jdate_stamp_from_unix(t, 0, &s, NULL), MLC_OK);
    assert_int_equal(s.julian, 126332);
    assert_int_equal(s.hhmmss, 143015);
    /* Server at UTC-6: 14:30:15 local is 20:30:15 UTC. */
    assert_int_equal(jdate_stamp_to_unix(&w, -360, &t, NULL), MLC_OK);
    assert_int_equal(t, ref_timegm(2026, 11, 28, 20, 30, 15));
    /* Server at UTC+10: 14:30:15 UTC is 00:30:15 the next day. */
    t = ref_timegm(2026, 11, 28, 14, 30, 15);
    assert_int_equal(jdate_stamp_from_unix(t, 600, &s, NULL), MLC_OK);
    assert_int_equal(s.julian, 126333);
    assert_int_equal(s.hhmmss, 3015);
    /* Year-end carry: 1999-12-31 23:59:59 +1 s. */
    assert_int_equal(jdate_stamp_from_unix(ref_timegm(2000, 1, 1, 0, 0, 0), 0,
                                           &s, NULL), MLC_OK);
    assert_int_equal(s.julian, 100001);
    assert_int_equal(s.hhmmss, 0);
    t = ref_timegm(1999, 12, 31, 23, 59, 59);
    assert_int_equal(jdate_stamp_from_unix(t, 0, &s, NULL), MLC_OK);
    assert_int_equal(s.julian, 99365);
    assert_int_equal(s.hhmmss, 235959);

    assert_int_equal(jdate_stamp_to_unix(&zero, 0, &t, NULL), JDATE_BLANK);
    assert_int_equal(t, 0);
    assert_int_equal(jdate_stamp_from_unix(ref_timegm(1899, 12, 31, 0, 0, 0),
                                           0, &s, NULL), MLC_ERANGE);
    assert_int_equal(jdate_stamp_from_unix(0, 2000, &s, NULL), MLC_EINVAL);
}

static void test_unix_civil_edges(void **state)
{
    struct jdate_civil d;
    int32_t hms;
    int64_t t;

    (void)state;
    assert_int_equal(jdate_unix_to_civil(0, -60, &d, &hms, NULL), MLC_OK);
    assert_civil(&d, 1969, 12, 31);
    assert_int_equal(hms, 230000);
    assert_int_equal(jdate_unix_to_civil(-1, 0, &d, NULL, NULL), MLC_OK);
    assert_civil(&d, 1969, 12, 31);
    assert_int_equal(jdate_unix_to_civil(JDATE_UNIX_MAX, 0, &d, &hms, NULL),
                     MLC_OK);
    assert_civil(&d, 9999, 12, 31);
    assert_int_equal(hms, 235959);
    assert_int_equal(jdate_unix_to_civil(JDATE_UNIX_MIN, 0, &d, &hms, NULL),
                     MLC_OK);
    assert_civil(&d, 1, 1, 1);
    assert_int_equal(hms, 0);
    assert_int_equal(jdate_unix_to_civil(JDATE_UNIX_MAX + 1, 0, &d, NULL,
                                         NULL), MLC_ERANGE);
    assert_int_equal(jdate_unix_to_civil(JDATE_UNIX_MAX, 60, &d, NULL, NULL),
                     MLC_ERANGE);
    assert_int_equal(jdate_unix_to_civil(INT64_MAX, 0, &d, NULL, NULL),
                     MLC_ERANGE);
    assert_int_equal(jdate_unix_to_civil(INT64_MIN, 0, &d, NULL, NULL),
                     MLC_ERANGE);
    assert_int_equal(jdate_unix_to_civil(0, 1440, &d, NULL, NULL), MLC_EINVAL);
    assert_int_equal(jdate_unix_to_civil(0, -1440, &d, NULL, NULL),
                     MLC_EINVAL);

    d = (struct jdate_civil){ 2026, 11, 28 };
    assert_int_equal(jdate_civil_to_unix(&d, 0, 60, &t, NULL), MLC_OK);
    assert_int_equal(t, ref_timegm(2026, 11, 27, 23, 0, 0));
    assert_int_equal(jdate_civil_to_unix(&d, 240000, 0, &t, NULL),
                     MLC_EINVAL);
    d = (struct jdate_civil){ 1, 1, 1 };
    assert_int_equal(jdate_civil_to_unix(&d, 0, 60, &t, NULL), MLC_ERANGE);
    d = (struct jdate_civil){ 2026, 2, 29 };
    assert_int_equal(jdate_civil_to_unix(&d, 0, 0, &t, NULL), MLC_EINVAL);
}

/* ---- simpleDateFormat ------------------------------------------------- */

static void test_sdf_known(void **state)
{
    struct jdate_civil d = { 2026, 11, 28 }, jan = { 2026, 1, 5 }, out;
    char buf[JDATE_SDF_SIZE];

    (void)state;
    assert_int_equal(jdate_sdf_format("MM/dd/yyyy", &d, buf, sizeof(buf),
                                      NULL), MLC_OK);
    assert_string_equal(buf, "11/28/2026");
    assert_int_equal(jdate_sdf_format("dd.MM.yy", &jan, buf, sizeof(buf),
                                      NULL), MLC_OK);
    assert_string_equal(buf, "05.01.26");
    assert_int_equal(jdate_sdf_format("M/d/yyyy", &jan, buf, sizeof(buf),
                                      NULL), MLC_OK);
    assert_string_equal(buf, "1/5/2026");
    assert_int_equal(jdate_sdf_format("yyyy-MM-dd", &jan, buf, sizeof(buf),
                                      NULL), MLC_OK);
    assert_string_equal(buf, "2026-01-05");
    d = (struct jdate_civil){ 812, 3, 4 };
    assert_int_equal(jdate_sdf_format("dd/MM/yyyy", &d, buf, sizeof(buf),
                                      NULL), MLC_OK);
    assert_string_equal(buf, "04/03/0812");

    /* M and d take one or two digits; MM and dd exactly two. */
    assert_int_equal(jdate_sdf_parse("M/d/yyyy", "1/5/2026",
                                     JDATE_YY_BASE_DEFAULT, &out, NULL),
                     MLC_OK);
    assert_memory_equal(&out, &jan, sizeof(out));
    assert_int_equal(jdate_sdf_parse("M/d/yyyy", "01/05/2026",
                                     JDATE_YY_BASE_DEFAULT, &out, NULL),
                     MLC_OK);
    assert_memory_equal(&out, &jan, sizeof(out));
    assert_int_equal(jdate_sdf_parse("MM/dd/yyyy", "1/5/2026",
                                     JDATE_YY_BASE_DEFAULT, &out, NULL),
                     MLC_EINVAL);

    /* Two-digit years: window [base, base + 99]. */
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.49", 1950, &out,
                                     NULL), MLC_OK);
    assert_civil(&out, 2049, 1, 1);
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.50", 1950, &out,
                                     NULL), MLC_OK);
    assert_civil(&out, 1950, 1, 1);
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.46", 1946, &out,
                                     NULL), MLC_OK);
    assert_civil(&out, 1946, 1, 1);
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.45", 1946, &out,
                                     NULL), MLC_OK);
    assert_civil(&out, 2045, 1, 1);
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "29.02.00", 1900, &out,
                                     NULL), MLC_EINVAL); /* 1900 */
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "29.02.00", 1901, &out,
                                     NULL), MLC_OK);     /* 2000 */
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.26", 0, &out, NULL),
                     MLC_EINVAL);
    assert_int_equal(jdate_sdf_parse("dd.MM.yy", "01.01.26", 9901, &out,
                                     NULL), MLC_EINVAL);

    /* Blank both ways. */
    assert_int_equal(jdate_sdf_parse("MM/dd/yyyy", "", 1950, &out, NULL),
                     JDATE_BLANK);
    assert_true(jdate_civil_is_blank(&out));
    assert_int_equal(jdate_sdf_parse("MM/dd/yyyy", NULL, 1950, &out, NULL),
                     JDATE_BLANK);
    out = (struct jdate_civil){ 0, 0, 0 };
    assert_int_equal(jdate_sdf_format("MM/dd/yyyy", &out, buf, sizeof(buf),
                                      NULL), JDATE_BLANK);
    assert_string_equal(buf, "");

    /* Buffer too small. */
    assert_int_equal(jdate_sdf_format("MM/dd/yyyy", &jan, buf, 10, NULL),
                     MLC_ETOOBIG);
    assert_string_equal(buf, "");
    assert_int_equal(jdate_sdf_format("MM/dd/yyyy", &jan, buf, 11, NULL),
                     MLC_OK);
}

static void test_sdf_bad_patterns(void **state)
{
    static const struct { const char *p; const char *msg; } bad[] = {
        { "MM/dd/yyyy HH:mm", "'H'" },
        { "MMM dd yyyy", "3 x 'M'" },
        { "yyy-MM-dd", "3 x 'y'" },
        { "y-M-d", "1 x 'y'" },
        { "dd/MM", "exactly one" },
        { "MM/dd/yyyy/yy", "exactly one" },
        { "'on' dd/MM/yyyy", "quoted" },
        { "", "empty" },
        { "Mdyyyy", "ambiguous" },
        { "yyyyMd", "ambiguous" },
        { "dd/MM/yyyy EEE", "'E'" },
        { "dd\tMM/yyyy", "0x09" },
        { "dd/MM/yyyy..........................", "longer" },
        { "ddd/MM/yyyy", "3 x 'd'" },
    };
    struct jdate_civil d = { 2026, 11, 28 }, out;
    struct mlc_err e;
    char buf[JDATE_SDF_SIZE];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlc_err_clear(&e);
        if (jdate_sdf_check(bad[i].p, &e) != MLC_EINVAL)
            fail_msg("pattern \"%s\" accepted", bad[i].p);
        assert_msg_has(&e, bad[i].msg);
        assert_int_equal(jdate_sdf_format(bad[i].p, &d, buf, sizeof(buf),
                                          NULL), MLC_EINVAL);
        assert_int_equal(jdate_sdf_parse(bad[i].p, "11/28/2026", 1950, &out,
                                         NULL), MLC_EINVAL);
    }
    assert_int_equal(jdate_sdf_check(NULL, NULL), MLC_EINVAL);
    assert_int_equal(jdate_sdf_check("yyyyMMdd", NULL), MLC_OK);
    assert_int_equal(jdate_sdf_check("d MM yyyy", NULL), MLC_OK);
}

static void test_sdf_bad_inputs(void **state)
{
    static const struct { const char *p, *s; } bad[] = {
        { "MM/dd/yyyy", "11/28/26" },
        { "MM/dd/yyyy", "11/28/2026x" },
        { "MM/dd/yyyy", "11/28/20261" },
        { "MM/dd/yyyy", "13/01/2026" },
        { "MM/dd/yyyy", "02/30/2026" },
        { "MM/dd/yyyy", "00/10/2026" },
        { "MM/dd/yyyy", "11-28-2026" },
        { "MM/dd/yyyy", " 11/28/2026" },
        { "MM/dd/yyyy", "11/28" },
        { "M/d/yyyy", "123/5/2026" },
        { "dd.MM.yy", "28.11.2026" },
        { "yyyyMMdd", "2026112" },
        { "yyyyMMdd", "2026-11-28" },
        { "MM/dd/yyyy", "+1/28/2026" },
    };
    struct jdate_civil out;
    struct mlc_err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlc_err_clear(&e);
        if (jdate_sdf_parse(bad[i].p, bad[i].s, 1950, &out, &e) != MLC_EINVAL)
            fail_msg("\"%s\" accepted as \"%s\"", bad[i].s, bad[i].p);
        assert_true(strstr(e.msg, bad[i].s) != NULL);
        assert_true(jdate_civil_is_blank(&out));
    }
}

/* ---- RFC 2822 --------------------------------------------------------- */

static void test_rfc2822_parse(void **state)
{
    static const struct { const char *s; int64_t want; } ok[] = {
        { "Tue, 20 Nov 2012 00:00:00 +0000", 1353369600 },
        { "20 Nov 2012 00:00:00 +0000", 1353369600 },
        { "Tue, 20 Nov 2012 00:00:00 GMT", 1353369600 },
        { "Tue, 20 Nov 2012 00:00:00 UT", 1353369600 },
        { "Tue, 20 Nov 2012 00:00:00 UTC", 1353369600 },
        { "Tue, 20 Nov 2012 00:00:00 Z", 1353369600 },
        { "Tue, 20 Nov 2012 00:00:00 -0000", 1353369600 },
        { "Tue, 20 Nov 2012 00:00 +0000", 1353369600 },
        { "tue, 20 nov 2012 00:00:00 gmt", 1353369600 },
        { "Tue,20 Nov 2012 00:00:00 +0000", 1353369600 },
        { "Tue,  20  Nov  2012  00:00:00  +0000", 1353369600 },
        { "Tue, 20 Nov 2012 05:30:00 +0530", 1353369600 },
        { "Mon, 19 Nov 2012 16:00:00 -0800", 1353369600 },
        { "Mon, 15 Apr 2019 10:41:59 +0000", 1555324919 },
        { "Thu, 1 Jan 1970 00:00:00 +0000", 0 },
        { "Wed, 31 Dec 1969 23:59:59 +0000", -1 },
        { "Fri, 01 Jan 1960 00:00:00 +0000", -315619200 },
        { "Tue, 29 Feb 2000 12:00:00 +0000", 951825600 },
    };
    int64_t t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct mlc_err e;

        mlc_err_clear(&e);
        if (jdate_rfc2822_parse(ok[i].s, &t, &e) != MLC_OK)
            fail_msg("\"%s\" rejected: %s", ok[i].s, e.msg);
        if (t != ok[i].want)
            fail_msg("\"%s\" gave %lld", ok[i].s, (long long)t);
    }
    assert_int_equal(jdate_rfc2822_parse("", &t, NULL), JDATE_BLANK);
    assert_int_equal(jdate_rfc2822_parse(NULL, &t, NULL), JDATE_BLANK);
    assert_int_equal(t, 0);
}

static void test_rfc2822_reject(void **state)
{
    static const struct { const char *s; const char *msg; } bad[] = {
        { "Wed, 20 Nov 2012 00:00:00 +0000", "is a Tue, not a Wed" },
        { "Tue, 30 Feb 2012 00:00:00 +0000", "does not exist" },
        { "Thu, 29 Feb 1900 00:00:00 +0000", "does not exist" },
        { "Tue, 20 Nov 2012 25:00:00 +0000", "25:00:00 does not exist" },
        { "Tue, 20 Nov 2012 23:60:00 +0000", "does not exist" },
        { "Tue, 20 Nov 2012 23:59:60 +0000", "does not exist" },
        { "Tue, 20 Nov 2012 00:00:00 +0000 x", "unexpected text" },
        { "Tue, 20 Nov 2012 00:00:00 +00000", "unexpected text" },
        { "Tue, 20 Nov 2012 00:00:00", "expected RFC 2822" },
        { "Tue, 20 Nov 2012 00:00:00 EST", "expected RFC 2822" },
        { "Tue, 20 Nov 2012 00:00:00 +2400", "expected RFC 2822" },
        { "Tue, 20 Nov 2012 00:00:00 +0060", "expected RFC 2822" },
        { "Tue, 20 Nov 12 00:00:00 +0000", "expected RFC 2822" },
        { "Tue, 20 Nvm 2012 00:00:00 +0000", "expected RFC 2822" },
        { "Tue 20 Nov 2012 00:00:00 +0000", "expected RFC 2822" },
        { "Tuesday, 20 Nov 2012 00:00:00 +0000", "expected RFC 2822" },
        { "Tue, 20 Nov 2012 0:00:00 +0000", "expected RFC 2822" },
        { "Tue, 20 Nov 2012", "expected RFC 2822" },
        { " Tue, 20 Nov 2012 00:00:00 +0000", "expected RFC 2822" },
        { "Tue, 120 Nov 2012 00:00:00 +0000", "expected RFC 2822" },
        { "2012-11-20T00:00:00Z", "expected RFC 2822" },
        { "Tue, 00 Nov 2012 00:00:00 +0000", "does not exist" },
    };
    struct mlc_err e;
    int64_t t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlc_err_clear(&e);
        t = 42;
        if (jdate_rfc2822_parse(bad[i].s, &t, &e) != MLC_EINVAL)
            fail_msg("\"%s\" accepted", bad[i].s);
        assert_msg_has(&e, bad[i].msg);
        assert_int_equal(t, 0);
    }
}

static void test_rfc2822_format(void **state)
{
    char buf[JDATE_RFC2822_SIZE];
    int64_t t, back;

    (void)state;
    assert_int_equal(jdate_rfc2822_format(1353369600, buf, sizeof(buf), NULL),
                     MLC_OK);
    assert_string_equal(buf, "Tue, 20 Nov 2012 00:00:00 +0000");
    assert_int_equal(jdate_rfc2822_format(0, buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_int_equal(jdate_rfc2822_format(-1, buf, sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "Wed, 31 Dec 1969 23:59:59 +0000");
    assert_int_equal(jdate_rfc2822_format(1555324919, buf, sizeof(buf), NULL),
                     MLC_OK);
    assert_string_equal(buf, "Mon, 15 Apr 2019 10:41:59 +0000");
    assert_int_equal(jdate_rfc2822_format(0, buf, 31, NULL), MLC_ETOOBIG);
    assert_int_equal(jdate_rfc2822_format(JDATE_UNIX_MAX + 1, buf,
                                          sizeof(buf), NULL), MLC_ERANGE);
    assert_int_equal(jdate_rfc2822_format(JDATE_UNIX_MIN, buf, sizeof(buf),
                                          NULL), MLC_OK);
    assert_string_equal(buf, "Mon, 01 Jan 0001 00:00:00 +0000");

    /* Round trip across the whole range in irregular steps. */
    for (t = JDATE_UNIX_MIN; t <= JDATE_UNIX_MAX; t += INT64_C(86400) * 3653
                                                     + 3727) {
        assert_int_equal(jdate_rfc2822_format(t, buf, sizeof(buf), NULL),
                         MLC_OK);
        assert_int_equal(jdate_rfc2822_parse(buf, &back, NULL), MLC_OK);
        assert_int_equal(back, t);
    }
}

/* ---- ISO 8601 --------------------------------------------------------- */

static void test_iso8601_parse(void **state)
{
    static const struct { const char *s; int64_t want_ms; } ok[] = {
        { "2023-02-03T15:01:22Z", INT64_C(1675436482000) },
        { "2023-02-03T15:01:22+00:00", INT64_C(1675436482000) },
        { "2023-02-03T15:01:22-00:00", INT64_C(1675436482000) },
        { "2023-02-03t15:01:22z", INT64_C(1675436482000) },
        { "2023-02-03T16:01:22+01:00", INT64_C(1675436482000) },
        { "2023-02-03T16:01:22+0100", INT64_C(1675436482000) },
        { "2023-02-03T09:31:22-05:30", INT64_C(1675436482000) },
        { "2023-02-03T15:01:22.123Z", INT64_C(1675436482123) },
        { "2023-02-03T15:01:22.123456Z", INT64_C(1675436482123) },
        { "2023-02-03T15:01:22.123456789+00:00", INT64_C(1675436482123) },
        { "2023-02-03T15:01:22.9Z", INT64_C(1675436482900) },
        { "2023-02-03T15:01:22.05Z", INT64_C(1675436482050) },
        { "2023-02-03", INT64_C(1675382400000) },
        { "1969-12-31T23:59:59.500Z", INT64_C(-500) },
        { "0001-01-01T00:00:00Z", INT64_C(-62135596800000) },
        { "9999-12-31T23:59:59Z", INT64_C(253402300799000) },
        { "2024-02-29T00:00:00Z", INT64_C(1709164800000) },
    };
    int64_t t, ms;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct mlc_err e;

        mlc_err_clear(&e);
        if (jdate_iso8601_parse_ms(ok[i].s, &ms, &e) != MLC_OK)
            fail_msg("\"%s\" rejected: %s", ok[i].s, e.msg);
        if (ms != ok[i].want_ms)
            fail_msg("\"%s\" gave %lld ms", ok[i].s, (long long)ms);
        assert_int_equal(jdate_iso8601_parse(ok[i].s, &t, NULL), MLC_OK);
        /* Seconds variant floors. */
        assert_int_equal(t, ok[i].want_ms >= 0 ? ok[i].want_ms / 1000
                                               : -((-ok[i].want_ms + 999)
                                                   / 1000));
    }
    assert_int_equal(jdate_iso8601_parse("", &t, NULL), JDATE_BLANK);
    assert_int_equal(jdate_iso8601_parse_ms(NULL, &ms, NULL), JDATE_BLANK);
}

static void test_iso8601_reject(void **state)
{
    static const struct { const char *s; int rc; const char *msg; } bad[] = {
        { "2023-02-03T15:01:22", MLC_EINVAL, "no time zone" },
        { "2023-02-03T25:00:00Z", MLC_EINVAL, "does not exist" },
        { "2023-02-03T24:00:00Z", MLC_EINVAL, "does not exist" },
        { "2023-02-30T00:00:00Z", MLC_EINVAL, "does not exist" },
        { "2023-02-30", MLC_EINVAL, "does not exist" },
        { "2023-13-01", MLC_EINVAL, "month 13" },
        { "2023-02-03T15:01Z", MLC_EINVAL, "HH:MM:SS" },
        { "2023-02-03T15:01:22Zjunk", MLC_EINVAL, "unexpected text" },
        { "2023-02-03T15:01:22+00:00:00", MLC_EINVAL, "unexpected text" },
        { "2023-02-03T15:01:22.1234567890Z", MLC_EINVAL, "HH:MM:SS" },
        { "2023-02-03T15:01:22.Z", MLC_EINVAL, "HH:MM:SS" },
        { "2023-02-03T15:01:22+24:00", MLC_EINVAL, "bad time zone" },
        { "2023-02-03T15:01:22+01", MLC_EINVAL, "bad time zone" },
        { "2023-02-03T15:01:22 +01:00", MLC_EINVAL, "bad time zone" },
        { "2023-02-03T15:01:22EST", MLC_EINVAL, "bad time zone" },
        { "2023-02-03 15:01:22Z", MLC_EINVAL, "expected 'T'" },
        { "2023-02-03T", MLC_EINVAL, "HH:MM:SS" },
        { " 2023-02-03", MLC_EINVAL, "expected YYYY-MM-DD" },
        { "2023-2-3", MLC_EINVAL, "expected YYYY-MM-DD" },
        { "23-02-03", MLC_EINVAL, "expected YYYY-MM-DD" },
        { "Tue, 20 Nov 2012 00:00:00 +0000", MLC_EINVAL, "YYYY-MM-DD" },
        { "0000-01-01T00:00:00Z", MLC_EINVAL, "year 0" },
        { "9999-12-31T23:59:59-00:01", MLC_ERANGE, "0001..9999" },
        { "0001-01-01T00:00:00+00:01", MLC_ERANGE, "0001..9999" },
    };
    struct mlc_err e;
    int64_t t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mlc_err_clear(&e);
        t = 42;
        if (jdate_iso8601_parse(bad[i].s, &t, &e) != bad[i].rc)
            fail_msg("\"%s\": wrong status (%s)", bad[i].s, e.msg);
        assert_msg_has(&e, bad[i].msg);
        assert_int_equal(t, 0);
        /* Without an err struct the status must be the same. */
        assert_int_equal(jdate_iso8601_parse(bad[i].s, &t, NULL), bad[i].rc);
    }
}

static void test_iso8601_format(void **state)
{
    char buf[JDATE_ISO8601_SIZE];
    int64_t t, back;

    (void)state;
    assert_int_equal(jdate_iso8601_format(1675436482, buf, sizeof(buf), NULL),
                     MLC_OK);
    assert_string_equal(buf, "2023-02-03T15:01:22Z");
    assert_int_equal(jdate_iso8601_format_offset(1675436482, 0, buf,
                                                 sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-03T15:01:22+00:00");
    assert_int_equal(jdate_iso8601_format_offset(1675436482, 330, buf,
                                                 sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-03T20:31:22+05:30");
    assert_int_equal(jdate_iso8601_format_offset(1675436482, -480, buf,
                                                 sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-03T07:01:22-08:00");
    assert_int_equal(jdate_iso8601_format_offset(1675436482, -900, buf,
                                                 sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-03T00:01:22-15:00");
    assert_int_equal(jdate_iso8601_format_offset(1675436482, -916, buf,
                                                 sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-02T23:45:22-15:16");
    assert_int_equal(jdate_iso8601_format_offset(0, 1440, buf, sizeof(buf),
                                                 NULL), MLC_EINVAL);
    assert_int_equal(jdate_iso8601_format_ms(INT64_C(1675436482123), buf,
                                             sizeof(buf), NULL), MLC_OK);
    assert_string_equal(buf, "2023-02-03T15:01:22.123Z");
    assert_int_equal(jdate_iso8601_format_ms(-1, buf, sizeof(buf), NULL),
                     MLC_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    assert_int_equal(jdate_iso8601_format(0, buf, 20, NULL), MLC_ETOOBIG);
    assert_int_equal(jdate_iso8601_format(0, buf, 21, NULL), MLC_OK);
    assert_int_equal(jdate_iso8601_format(JDATE_UNIX_MAX + 1, buf,
                                          sizeof(buf), NULL), MLC_ERANGE);

    for (t = JDATE_UNIX_MIN; t <= JDATE_UNIX_MAX; t += INT64_C(86400) * 3653
                                                     + 3727) {
        assert_int_equal(jdate_iso8601_format(t, buf, sizeof(buf), NULL),
                         MLC_OK);
        assert_int_equal(jdate_iso8601_parse(buf, &back, NULL), MLC_OK);
        assert_int_equal(back, t);
        if (t + 86400 <= JDATE_UNIX_MAX && t - 86400 >= JDATE_UNIX_MIN) {
            assert_int_equal(jdate_iso8601_format_offset(t, -754, buf,
                                                         sizeof(buf), NULL),
                             MLC_OK);
            assert_int_equal(jdate_iso8601_parse(buf, &back, NULL), MLC_OK);
            assert_int_equal(back, t);
        }
    }
}

static void test_now(void **state)
{
    (void)state;
    /* Any sane clock is past 2020; this is not a timing assertion. */
    assert_true(jdate_now_unix() > INT64_C(1577836800));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_civil_check),
        cmocka_unit_test(test_days_known),
        cmocka_unit_test(test_add_cmp),
        cmocka_unit_test(test_exhaustive_1900_2099),
        cmocka_unit_test(test_exhaustive_unix_offsets),
        cmocka_unit_test(test_julian_known),
        cmocka_unit_test(test_yyyymmdd),
        cmocka_unit_test(test_hhmmss),
        cmocka_unit_test(test_stamps),
        cmocka_unit_test(test_unix_civil_edges),
        cmocka_unit_test(test_sdf_known),
        cmocka_unit_test(test_sdf_bad_patterns),
        cmocka_unit_test(test_sdf_bad_inputs),
        cmocka_unit_test(test_rfc2822_parse),
        cmocka_unit_test(test_rfc2822_reject),
        cmocka_unit_test(test_rfc2822_format),
        cmocka_unit_test(test_iso8601_parse),
        cmocka_unit_test(test_iso8601_reject),
        cmocka_unit_test(test_iso8601_format),
        cmocka_unit_test(test_now),
    };

    return cmocka_run_group_tests_name("jdate", tests, NULL, NULL);
}
