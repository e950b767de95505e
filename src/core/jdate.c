/*
 * jdate: calendar arithmetic and the date formats of JDE and BigCommerce.
 *
 * The day-count conversions use the era / day-of-era method (Howard
 * Hinnant's "chrono-compatible low-level date algorithms"): shift the year to
 * start in March so the leap day is the last day of the year, then split the
 * timeline into 400-year eras of 146097 days. It is exact over the whole
 * proleptic Gregorian calendar with integer arithmetic only.
 */
#include "core/jdate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SECS_PER_DAY INT64_C(86400)
/* Day counts of 0001-01-01 and 9999-12-31 relative to 1970-01-01. */
#define DAYS_MIN INT64_C(-719162)
#define DAYS_MAX INT64_C(2932896)

/* Bound on quoted input in messages: inputs are not secret but may be long. */
#define QMAX "64"

static const char *const month_abbr[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char *const weekday_abbr[7] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

/* Days before the first of each month, [leap][month - 1]. */
static const int days_before_month[2][12] = {
    { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 },
    { 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335 }
};

/* Division rounding toward negative infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b) < 0)
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* ---- Civil dates ------------------------------------------------------ */

bool jdate_is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int jdate_days_in_year(int year)
{
    return jdate_is_leap_year(year) ? 366 : 365;
}

int jdate_days_in_month(int year, int month)
{
    static const int len[12] = { 31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31 };

    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && jdate_is_leap_year(year))
        return 29;
    return len[month - 1];
}

int jdate_civil_check(const struct jdate_civil *d, struct mlc_err *e)
{
    int dim;

    if (d == NULL)
        return mlc_err_set(e, MLC_EINVAL, "date: missing");
    if (d->year < JDATE_YEAR_MIN || d->year > JDATE_YEAR_MAX)
        return mlc_err_set(e, MLC_EINVAL, "date: year %d is outside 1..9999",
                           d->year);
    if (d->month < 1 || d->month > 12)
        return mlc_err_set(e, MLC_EINVAL, "date: month %d is not 1..12",
                           d->month);
    dim = jdate_days_in_month(d->year, d->month);
    if (d->day < 1 || d->day > dim)
        return mlc_err_set(e, MLC_EINVAL,
                           "date: %04d-%02d-%02d does not exist (%s %d has "
                           "%d days)", d->year, d->month, d->day,
                           month_abbr[d->month - 1], d->year, dim);
    return MLC_OK;
}

bool jdate_civil_is_blank(const struct jdate_civil *d)
{
    return d != NULL && d->year == 0 && d->month == 0 && d->day == 0;
}

int jdate_civil_cmp(const struct jdate_civil *a, const struct jdate_civil *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}

/* Day count of a date already checked. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);   /* years start on March 1st */
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;                         /* 0..399 */
    int64_t mp = (m + 9) % 12;                            /* Mar = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;             /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* 0..146096 */

    /* 719468 = days from 0000-03-01 to 1970-01-01. */
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil for any day count that fits. */
static void civil_from_days(int64_t z, struct jdate_civil *out)
{
    int64_t era, doe, yoe, doy, mp, y;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    y = yoe + era * 400;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(y + (out->month <= 2));
}

int jdate_civil_to_days(const struct jdate_civil *d, int64_t *days,
                        struct mlc_err *e)
{
    int rc = jdate_civil_check(d, e);

    if (rc != MLC_OK)
        return rc;
    *days = days_from_civil(d->year, d->month, d->day);
    return MLC_OK;
}

int jdate_civil_from_days(int64_t days, struct jdate_civil *out,
                          struct mlc_err *e)
{
    if (days < DAYS_MIN || days > DAYS_MAX)
        return mlc_err_set(e, MLC_ERANGE,
                           "date: day %lld is outside 0001-01-01..9999-12-31",
                           (long long)days);
    civil_from_days(days, out);
    return MLC_OK;
}

int jdate_civil_add_days(const struct jdate_civil *d, int64_t n,
                         struct jdate_civil *out, struct mlc_err *e)
{
    int64_t days;
    int rc = jdate_civil_to_days(d, &days, e);

    if (rc != MLC_OK)
        return rc;
    if (n < DAYS_MIN - DAYS_MAX || n > DAYS_MAX - DAYS_MIN)
        return mlc_err_set(e, MLC_ERANGE, "date: adding %lld days overflows",
                           (long long)n);
    return jdate_civil_from_days(days + n, out, e);
}

int jdate_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). */
    return (int)floor_mod(floor_mod(days, 7) + 4, 7);
}

int jdate_day_of_year(const struct jdate_civil *d)
{
    if (jdate_civil_check(d, NULL) != MLC_OK)
        return 0;
    return days_before_month[jdate_is_leap_year(d->year)][d->month - 1]
           + d->day;
}

/* ---- Output helpers --------------------------------------------------- */

/* snprintf into buf, MLC_ETOOBIG when it does not fit. */
static int put(char *buf, size_t cap, struct mlc_err *e, const char *what,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int put(char *buf, size_t cap, struct mlc_err *e, const char *what,
               const char *fmt, ...)
{
    va_list ap;
    int n;

    if (buf == NULL || cap == 0)
        return mlc_err_set(e, MLC_ETOOBIG, "%s: no output buffer", what);
    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return mlc_err_set(e, MLC_ETOOBIG, "%s: needs %d bytes, buffer has "
                           "%zu", what, n + 1, cap);
    }
    return MLC_OK;
}

/* Writes "" for a blank date; JDATE_BLANK, or an error for a bad buffer. */
static int put_blank(char *buf, size_t cap, struct mlc_err *e,
                     const char *what)
{
    int rc = put(buf, cap, e, what, "%s", "");

    return rc != MLC_OK ? rc : JDATE_BLANK;
}

/* ---- Input helpers ---------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads min..max digits (max <= 9) at *p into *out, advancing *p. Digits
 * past max are left for the caller, whose next expectation rejects them. */
static bool take_num(const char **p, int min, int max, int *out)
{
    const char *s = *p;
    int n = 0, v = 0;

    while (n < max && is_digit(s[n])) {
        v = v * 10 + (s[n] - '0');
        n++;
    }
    if (n < min)
        return false;
    *p = s + n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Index of the 3-letter name at *p in names[0..n), case-insensitive, or -1. */
static int take_name(const char **p, const char *const *names, int n)
{
    int i;

    if (!is_alpha((*p)[0]) || !is_alpha((*p)[1]) || !is_alpha((*p)[2])
        || is_alpha((*p)[3]))
        return -1;
    for (i = 0; i < n; i++) {
        if (strncasecmp(*p, names[i], 3) == 0) {
            *p += 3;
            return i;
        }
    }
    return -1;
}

/* Skips one or more spaces or tabs; false when there is none. */
static bool take_spaces(const char **p)
{
    const char *s = *p;

    while (*s == ' ' || *s == '\t')
        s++;
    if (s == *p)
        return false;
    *p = s;
    return true;
}

static bool is_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Adds the offending input to e's message and keeps the status rc (which
 * mlc_err_wrap cannot do when e is NULL). */
static int wrap_input(int rc, struct mlc_err *e, const char *s)
{
    if (e != NULL)
        mlc_err_wrap(e, "\"%." QMAX "s\"", s);
    return rc;
}

/* ---- JDE Julian dates ------------------------------------------------- */

int jdate_julian_to_civil(int32_t julian, struct jdate_civil *out,
                          struct mlc_err *e)
{
    int year, doy, leap, m;

    memset(out, 0, sizeof(*out));
    if (julian == 0)
        return JDATE_BLANK;
    if (julian < 0 || julian > 999999)
        return mlc_err_set(e, MLC_EINVAL, "Julian date %ld: not CYYDDD with "
                           "century 0..9", (long)julian);
    year = 1900 + (int)(julian / 1000);
    doy = (int)(julian % 1000);
    if (doy < 1 || doy > jdate_days_in_year(year))
        return mlc_err_set(e, MLC_EINVAL, "Julian date %ld: day of year %d "
                           "is not 1..%d", (long)julian, doy,
                           jdate_days_in_year(year));
    leap = jdate_is_leap_year(year);
    for (m = 12; days_before_month[leap][m - 1] >= doy; m--)
        ;
    out->year = year;
    out->month = m;
    out->day = doy - days_before_month[leap][m - 1];
    return MLC_OK;
}

int jdate_julian_from_civil(const struct jdate_civil *d, int32_t *out,
                            struct mlc_err *e)
{
    int rc;

    *out = 0;
    if (jdate_civil_is_blank(d))
        return JDATE_BLANK;
    rc = jdate_civil_check(d, e);
    if (rc != MLC_OK)
        return rc;
    if (d->year < 1900 || d->year > 2899)
        return mlc_err_set(e, MLC_ERANGE, "date %04d-%02d-%02d: JDE Julian "
                           "dates cover 1900..2899 only", d->year, d->month,
                           d->day);
    *out = (int32_t)((d->year - 1900) * 1000 + jdate_day_of_year(d));
    return MLC_OK;
}

/* ---- YYYYMMDD --------------------------------------------------------- */

int jdate_yyyymmdd_parse(const char *s, struct jdate_civil *out,
                         struct mlc_err *e)
{
    const char *p = s;
    struct jdate_civil d;
    int rc;

    memset(out, 0, sizeof(*out));
    if (is_empty(s) || strcmp(s, "0") == 0 || strcmp(s, "00000000") == 0)
        return JDATE_BLANK;
    if (!take_num(&p, 4, 4, &d.year) || !take_num(&p, 2, 2, &d.month)
        || !take_num(&p, 2, 2, &d.day) || *p != '\0')
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected "
                           "YYYYMMDD (8 digits)", s);
    rc = jdate_civil_check(&d, e);
    if (rc != MLC_OK)
        return wrap_input(MLC_EINVAL, e, s);
    *out = d;
    return MLC_OK;
}

int jdate_yyyymmdd_format(const struct jdate_civil *d, char *buf, size_t cap,
                          struct mlc_err *e)
{
    int rc;

    if (jdate_civil_is_blank(d))
        return put_blank(buf, cap, e, "YYYYMMDD");
    rc = jdate_civil_check(d, e);
    if (rc != MLC_OK)
        return rc;
    return put(buf, cap, e, "YYYYMMDD", "%04d%02d%02d", d->year, d->month,
               d->day);
}

int jdate_julian_from_yyyymmdd(const char *s, int32_t *out, struct mlc_err *e)
{
    struct jdate_civil d;
    int rc = jdate_yyyymmdd_parse(s, &d, e);

    *out = 0;
    if (rc != MLC_OK)
        return rc;
    return jdate_julian_from_civil(&d, out, e);
}

/* ---- ISO dates -------------------------------------------------------- */

/* "YYYY-MM-DD" at *p, advancing *p; no validity check. */
static bool take_iso_date(const char **p, struct jdate_civil *d)
{
    return take_num(p, 4, 4, &d->year) && take_char(p, '-')
           && take_num(p, 2, 2, &d->month) && take_char(p, '-')
           && take_num(p, 2, 2, &d->day);
}

int jdate_iso_date_parse(const char *s, struct jdate_civil *out,
                         struct mlc_err *e)
{
    const char *p = s;
    struct jdate_civil d;

    memset(out, 0, sizeof(*out));
    if (is_empty(s))
        return JDATE_BLANK;
    if (!take_iso_date(&p, &d) || *p != '\0')
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected "
                           "YYYY-MM-DD", s);
    if (jdate_civil_check(&d, e) != MLC_OK)
        return wrap_input(MLC_EINVAL, e, s);
    *out = d;
    return MLC_OK;
}

int jdate_iso_date_format(const struct jdate_civil *d, char *buf, size_t cap,
                          struct mlc_err *e)
{
    int rc;

    if (jdate_civil_is_blank(d))
        return put_blank(buf, cap, e, "ISO date");
    rc = jdate_civil_check(d, e);
    if (rc != MLC_OK)
        return rc;
    return put(buf, cap, e, "ISO date", "%04d-%02d-%02d", d->year, d->month,
               d->day);
}

/* ---- Times of day ----------------------------------------------------- */

static bool hms_valid(int h, int m, int s)
{
    return h >= 0 && h <= 23 && m >= 0 && m <= 59 && s >= 0 && s <= 59;
}

int jdate_hhmmss_check(int32_t hhmmss, struct mlc_err *e)
{
    if (hhmmss < 0 || hhmmss > 235959
        || !hms_valid(hhmmss / 10000, hhmmss / 100 % 100, hhmmss % 100))
        return mlc_err_set(e, MLC_EINVAL, "time %ld: not a valid HHMMSS "
                           "(00:00:00..23:59:59)", (long)hhmmss);
    return MLC_OK;
}

int jdate_hhmmss_make(int h, int m, int s, int32_t *out, struct mlc_err *e)
{
    *out = 0;
    if (!hms_valid(h, m, s))
        return mlc_err_set(e, MLC_EINVAL, "time %d:%d:%d: not a valid time of "
                           "day", h, m, s);
    *out = h * 10000 + m * 100 + s;
    return MLC_OK;
}

int jdate_hhmmss_split(int32_t hhmmss, int *h, int *m, int *s,
                       struct mlc_err *e)
{
    int rc = jdate_hhmmss_check(hhmmss, e);

    if (rc != MLC_OK)
        return rc;
    if (h != NULL)
        *h = (int)(hhmmss / 10000);
    if (m != NULL)
        *m = (int)(hhmmss / 100 % 100);
    if (s != NULL)
        *s = (int)(hhmmss % 100);
    return MLC_OK;
}

/* ---- Unix seconds <-> local civil ------------------------------------- */

static int check_offset(int offset_min, struct mlc_err *e)
{
    if (offset_min < -JDATE_OFFSET_MAX_MIN
        || offset_min > JDATE_OFFSET_MAX_MIN)
        return mlc_err_set(e, MLC_EINVAL, "UTC offset %d minutes is outside "
                           "-23:59..+23:59", offset_min);
    return MLC_OK;
}

static int check_unix(int64_t t, struct mlc_err *e)
{
    if (t < JDATE_UNIX_MIN || t > JDATE_UNIX_MAX)
        return mlc_err_set(e, MLC_ERANGE, "time %lld: outside years "
                           "0001..9999", (long long)t);
    return MLC_OK;
}

int jdate_unix_to_civil(int64_t t, int offset_min, struct jdate_civil *out,
                        int32_t *out_hhmmss, struct mlc_err *e)
{
    int64_t local, days, sec;
    int rc;

    memset(out, 0, sizeof(*out));
    if (out_hhmmss != NULL)
        *out_hhmmss = 0;
    if ((rc = check_offset(offset_min, e)) != MLC_OK
        || (rc = check_unix(t, e)) != MLC_OK)
        return rc;
    local = t + (int64_t)offset_min * 60;
    days = floor_div(local, SECS_PER_DAY);
    sec = local - days * SECS_PER_DAY;
    rc = jdate_civil_from_days(days, out, e);
    if (rc != MLC_OK)
        return rc;
    if (out_hhmmss != NULL)
        *out_hhmmss = (int32_t)(sec / 3600 * 10000 + sec / 60 % 60 * 100
                                + sec % 60);
    return MLC_OK;
}

int jdate_civil_to_unix(const struct jdate_civil *d, int32_t hhmmss,
                        int offset_min, int64_t *out, struct mlc_err *e)
{
    int64_t days, t;
    int rc;

    *out = 0;
    if ((rc = check_offset(offset_min, e)) != MLC_OK
        || (rc = jdate_hhmmss_check(hhmmss, e)) != MLC_OK
        || (rc = jdate_civil_to_days(d, &days, e)) != MLC_OK)
        return rc;
    t = days * SECS_PER_DAY + hhmmss / 10000 * 3600 + hhmmss / 100 % 100 * 60
        + hhmmss % 100 - (int64_t)offset_min * 60;
    if ((rc = check_unix(t, e)) != MLC_OK)
        return rc;
    *out = t;
    return MLC_OK;
}

/* ---- Stamps ----------------------------------------------------------- */

int jdate_stamp_check(const struct jdate_stamp *s, struct mlc_err *e)
{
    struct jdate_civil d;
    int rc = jdate_julian_to_civil(s->julian, &d, e);

    if (rc < 0)
        return rc;
    return jdate_hhmmss_check(s->hhmmss, e);
}

int jdate_stamp_cmp(const struct jdate_stamp *a, const struct jdate_stamp *b)
{
    if (a->julian != b->julian)
        return a->julian < b->julian ? -1 : 1;
    if (a->hhmmss != b->hhmmss)
        return a->hhmmss < b->hhmmss ? -1 : 1;
    return 0;
}

bool jdate_stamp_at_or_after(const struct jdate_stamp *row,
                             const struct jdate_stamp *w)
{
    return row->julian > w->julian
           || (row->julian == w->julian && row->hhmmss >= w->hhmmss);
}

int jdate_stamp_to_unix(const struct jdate_stamp *s, int offset_min,
                        int64_t *out, struct mlc_err *e)
{
    struct jdate_civil d;
    int rc;

    *out = 0;
    rc = jdate_julian_to_civil(s->julian, &d, e);
    if (rc != MLC_OK)
        return rc;
    return jdate_civil_to_unix(&d, s->hhmmss, offset_min, out, e);
}

int jdate_stamp_from_unix(int64_t t, int offset_min, struct jdate_stamp *out,
                          struct mlc_err *e)
{
    struct jdate_civil d;
    int32_t hhmmss, jul;
    int rc;

    out->julian = 0;
    out->hhmmss = 0;
    rc = jdate_unix_to_civil(t, offset_min, &d, &hhmmss, e);
    if (rc != MLC_OK)
        return rc;
    rc = jdate_julian_from_civil(&d, &jul, e);
    if (rc != MLC_OK)
        return rc;
    out->julian = jul;
    out->hhmmss = hhmmss;
    return MLC_OK;
}

/* ---- simpleDateFormat ------------------------------------------------- */

enum sdf_kind { SDF_LIT, SDF_YEAR4, SDF_YEAR2, SDF_MONTH, SDF_DAY };

struct sdf_tok {
    enum sdf_kind kind;
    int width;  /* field: 1 = 1..2 digits, 2 = exactly 2, 4 = exactly 4 */
    char lit;   /* SDF_LIT: the character */
};

struct sdf {
    struct sdf_tok tok[JDATE_SDF_PATTERN_MAX];
    int n;
};

/* Turns one run of a pattern letter into a field token. */
static int sdf_field(const char *pattern, char c, int run, struct sdf_tok *t,
                     struct mlc_err *e)
{
    t->width = run;
    if (c == 'y' && (run == 2 || run == 4)) {
        t->kind = run == 4 ? SDF_YEAR4 : SDF_YEAR2;
        return MLC_OK;
    }
    if ((c == 'M' || c == 'd') && (run == 1 || run == 2)) {
        t->kind = c == 'M' ? SDF_MONTH : SDF_DAY;
        return MLC_OK;
    }
    if (c == 'y' || c == 'M' || c == 'd')
        return mlc_err_set(e, MLC_EINVAL, "date format \"%s\": %d x '%c' is "
                           "not supported (use yyyy, yy, MM, M, dd or d)",
                           pattern, run, c);
    return mlc_err_set(e, MLC_EINVAL, "date format \"%s\": pattern letter "
                       "'%c' is not supported (only y, M and d)", pattern, c);
}

/* Checks that year, month and day each occur once and are unambiguous. */
static int sdf_validate(const char *pattern, const struct sdf *f,
                        struct mlc_err *e)
{
    int seen[5] = { 0 };
    int i;

    for (i = 0; i < f->n; i++) {
        enum sdf_kind k = f->tok[i].kind;

        if (k == SDF_LIT)
            continue;
        seen[k == SDF_YEAR2 ? SDF_YEAR4 : k]++;
        if (f->tok[i].width == 1 && i + 1 < f->n
            && f->tok[i + 1].kind != SDF_LIT)
            return mlc_err_set(e, MLC_EINVAL, "date format \"%s\": a 1-letter "
                               "field followed directly by another field is "
                               "ambiguous", pattern);
    }
    if (seen[SDF_YEAR4] != 1 || seen[SDF_MONTH] != 1 || seen[SDF_DAY] != 1)
        return mlc_err_set(e, MLC_EINVAL, "date format \"%s\": needs exactly "
                           "one year, one month and one day field", pattern);
    return MLC_OK;
}

static int sdf_compile(const char *pattern, struct sdf *f, struct mlc_err *e)
{
    size_t len, i = 0;
    int rc;

    f->n = 0;
    if (pattern == NULL || pattern[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "date format: empty pattern");
    len = strlen(pattern);
    if (len > JDATE_SDF_PATTERN_MAX)
        return mlc_err_set(e, MLC_EINVAL, "date format: pattern longer than "
                           "%d characters", JDATE_SDF_PATTERN_MAX);
    while (i < len) {
        char c = pattern[i];
        struct sdf_tok *t = &f->tok[f->n++];
        size_t run = 1;

        if (c == '\'')
            return mlc_err_set(e, MLC_EINVAL, "date format \"%s\": quoted "
                               "text is not supported", pattern);
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            return mlc_err_set(e, MLC_EINVAL, "date format \"%." QMAX "s\": "
                               "byte 0x%02x is not supported", pattern,
                               (unsigned char)c);
        if (!is_alpha(c)) {
            t->kind = SDF_LIT;
            t->width = 0;
            t->lit = c;
            i++;
            continue;
        }
        while (i + run < len && pattern[i + run] == c)
            run++;
        rc = sdf_field(pattern, c, (int)run, t, e);
        if (rc != MLC_OK)
            return rc;
        i += run;
    }
    return sdf_validate(pattern, f, e);
}

int jdate_sdf_check(const char *pattern, struct mlc_err *e)
{
    struct sdf f;

    return sdf_compile(pattern, &f, e);
}

/* Appends the text of one token; false when it does not fit. */
static bool sdf_put(const struct sdf_tok *t, const struct jdate_civil *d,
                    char *buf, size_t cap, size_t *len)
{
    int n;

    switch (t->kind) {
    case SDF_LIT:   n = snprintf(buf + *len, cap - *len, "%c", t->lit); break;
    case SDF_YEAR4: n = snprintf(buf + *len, cap - *len, "%04d", d->year);
                    break;
    case SDF_YEAR2: n = snprintf(buf + *len, cap - *len, "%02d",
                                 d->year % 100); break;
    case SDF_MONTH: n = snprintf(buf + *len, cap - *len, "%0*d", t->width,
                                 d->month); break;
    default:        n = snprintf(buf + *len, cap - *len, "%0*d", t->width,
                                 d->day); break;
    }
    if (n < 0 || (size_t)n >= cap - *len)
        return false;
    *len += (size_t)n;
    return true;
}

int jdate_sdf_format(const char *pattern, const struct jdate_civil *d,
                     char *buf, size_t cap, struct mlc_err *e)
{
    struct sdf f;
    size_t len = 0;
    int i, rc;

    if (buf == NULL || cap == 0)
        return mlc_err_set(e, MLC_ETOOBIG, "date format: no output buffer");
    buf[0] = '\0';
    if ((rc = sdf_compile(pattern, &f, e)) != MLC_OK)
        return rc;
    if (jdate_civil_is_blank(d))
        return JDATE_BLANK;
    if ((rc = jdate_civil_check(d, e)) != MLC_OK)
        return rc;
    for (i = 0; i < f.n; i++) {
        if (!sdf_put(&f.tok[i], d, buf, cap, &len)) {
            buf[0] = '\0';
            return mlc_err_set(e, MLC_ETOOBIG, "date format \"%s\": buffer of "
                               "%zu bytes is too small", pattern, cap);
        }
    }
    return MLC_OK;
}

/* The year in [base, base + 99] whose last two digits are yy. */
static int sdf_expand_yy(int yy, int base)
{
    return base + (int)floor_mod(yy - base % 100, 100);
}

/* Reads one token of s at *p into d; false on mismatch. */
static bool sdf_take(const struct sdf_tok *t, const char **p, int yy_base,
                     struct jdate_civil *d)
{
    int v;

    switch (t->kind) {
    case SDF_LIT:
        return take_char(p, t->lit);
    case SDF_YEAR4:
        return take_num(p, 4, 4, &d->year);
    case SDF_YEAR2:
        if (!take_num(p, 2, 2, &v))
            return false;
        d->year = sdf_expand_yy(v, yy_base);
        return true;
    case SDF_MONTH:
        return take_num(p, t->width, 2, &d->month);
    default:
        return take_num(p, t->width, 2, &d->day);
    }
}

int jdate_sdf_parse(const char *pattern, const char *s, int yy_base,
                    struct jdate_civil *out, struct mlc_err *e)
{
    struct sdf f;
    struct jdate_civil d = { 0, 0, 0 };
    const char *p = s;
    int i, rc;

    memset(out, 0, sizeof(*out));
    if ((rc = sdf_compile(pattern, &f, e)) != MLC_OK)
        return rc;
    if (yy_base < JDATE_YEAR_MIN || yy_base > JDATE_YEAR_MAX - 99)
        return mlc_err_set(e, MLC_EINVAL, "date format: two-digit year base "
                           "%d is outside 1..9900", yy_base);
    if (is_empty(s))
        return JDATE_BLANK;
    for (i = 0; i < f.n; i++) {
        if (!sdf_take(&f.tok[i], &p, yy_base, &d))
            return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\" does not "
                               "match format \"%s\"", s, pattern);
    }
    if (*p != '\0')
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": unexpected "
                           "text after format \"%s\"", s, pattern);
    if (jdate_civil_check(&d, e) != MLC_OK)
        return wrap_input(MLC_EINVAL, e, s);
    *out = d;
    return MLC_OK;
}

/* ---- Shared date-time assembly ---------------------------------------- */

/* Instant of a local date and time at an offset, after full validation. */
static int assemble(const char *s, const struct jdate_civil *d, int h, int m,
                    int sec, int offset_min, int64_t *out, struct mlc_err *e)
{
    int32_t hhmmss;
    int rc;

    if ((rc = jdate_civil_check(d, e)) != MLC_OK)
        return wrap_input(rc, e, s);
    if (!hms_valid(h, m, sec))
        return mlc_err_set(e, MLC_EINVAL, "\"%." QMAX "s\": time %02d:%02d:"
                           "%02d does not exist", s, h, m, sec);
    hhmmss = h * 10000 + m * 100 + sec;
    rc = jdate_civil_to_unix(d, hhmmss, offset_min, out, e);
    if (rc != MLC_OK)
        return wrap_input(rc, e, s);
    return MLC_OK;
}

/* "+HHMM" / "-HHMM" (or with a colon when colon allowed) at *p. */
static bool take_offset(const char **p, bool colon_ok, int *offset_min)
{
    int sign, h, m;

    if (**p != '+' && **p != '-')
        return false;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!take_num(p, 2, 2, &h))
        return false;
    if (colon_ok)
        take_char(p, ':');
    if (!take_num(p, 2, 2, &m) || h > 23 || m > 59)
        return false;
    *offset_min = sign * (h * 60 + m);
    return true;
}

/* ---- RFC 2822 --------------------------------------------------------- */

/* Named zones allowed by RFC 2822 for UTC, plus the common "UTC" and "Z". */
static bool take_utc_name(const char **p)
{
    static const char *const names[] = { "GMT", "UTC", "UT", "Z" };
    size_t i, n;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        n = strlen(names[i]);
        if (strncasecmp(*p, names[i], n) == 0 && !is_alpha((*p)[n])) {
            *p += n;
            return true;
        }
    }
    return false;
}

/* Parsed fields of an RFC 2822 date; wday is -1 when absent. */
struct rfc_parts {
    struct jdate_civil d;
    int wday, h, m, s, offset;
};

static bool rfc_take_time(const char **p, struct rfc_parts *r)
{
    r->s = 0;
    if (!take_num(p, 2, 2, &r->h) || !take_char(p, ':')
        || !take_num(p, 2, 2, &r->m))
        return false;
    if (take_char(p, ':') && !take_num(p, 2, 2, &r->s))
        return false;
    return true;
}

static bool rfc_take(const char **p, struct rfc_parts *r)
{
    int mon;

    r->wday = -1;
    r->offset = 0;
    if (is_alpha(**p)) {
        r->wday = take_name(p, weekday_abbr, 7);
        if (r->wday < 0 || !take_char(p, ','))
            return false;
        take_spaces(p);
    }
    if (!take_num(p, 1, 2, &r->d.day) || !take_spaces(p))
        return false;
    mon = take_name(p, month_abbr, 12);
    if (mon < 0 || !take_spaces(p) || !take_num(p, 4, 4, &r->d.year)
        || !take_spaces(p) || !rfc_take_time(p, r) || !take_spaces(p))
        return false;
    r->d.month = mon + 1;
    return take_offset(p, false, &r->offset) || take_utc_name(p);
}

int jdate_rfc2822_parse(const char *s, int64_t *out, struct mlc_err *e)
{
    struct rfc_parts r;
    const char *p = s;
    int64_t days;
    int rc;

    *out = 0;
    if (is_empty(s))
        return JDATE_BLANK;
    if (!rfc_take(&p, &r))
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected RFC "
                           "2822 like \"Tue, 20 Nov 2012 00:00:00 +0000\"", s);
    if (*p != '\0')
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": unexpected "
                           "text after the zone", s);
    rc = assemble(s, &r.d, r.h, r.m, r.s, r.offset, out, e);
    if (rc != MLC_OK)
        return rc;
    days = days_from_civil(r.d.year, r.d.month, r.d.day);
    if (r.wday >= 0 && jdate_weekday(days) != r.wday) {
        *out = 0;
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": "
                           "%04d-%02d-%02d is a %s, not a %s", s, r.d.year,
                           r.d.month, r.d.day,
                           weekday_abbr[jdate_weekday(days)],
                           weekday_abbr[r.wday]);
    }
    return MLC_OK;
}

int jdate_rfc2822_format(int64_t t, char *buf, size_t cap, struct mlc_err *e)
{
    struct jdate_civil d;
    int32_t hms;
    int rc;

    if (buf != NULL && cap > 0)
        buf[0] = '\0';
    rc = jdate_unix_to_civil(t, 0, &d, &hms, e);
    if (rc != MLC_OK)
        return rc;
    return put(buf, cap, e, "RFC 2822 date",
               "%s, %02d %s %04d %02d:%02d:%02d +0000",
               weekday_abbr[jdate_weekday(floor_div(t, SECS_PER_DAY))], d.day,
               month_abbr[d.month - 1], d.year, (int)(hms / 10000),
               (int)(hms / 100 % 100), (int)(hms % 100));
}

/* ---- ISO 8601 / RFC 3339 ---------------------------------------------- */

/* Up to 9 fraction digits after '.' as milliseconds (truncated). */
static bool take_fraction_ms(const char **p, int *ms)
{
    const char *start;
    int n;

    *ms = 0;
    if (!take_char(p, '.'))
        return true;
    start = *p;
    while (is_digit(**p) && *p - start < 10)
        (*p)++;
    n = (int)(*p - start);
    if (n < 1 || n > 9)
        return false;
    for (int i = 0; i < 3; i++)
        *ms = *ms * 10 + (i < n ? start[i] - '0' : 0);
    return true;
}

/* The time-and-zone part after 'T': HH:MM:SS[.f](Z|offset). */
static int iso_take_time(const char *s, const char **p, int *h, int *m,
                         int *sec, int *ms, int *offset, struct mlc_err *e)
{
    *offset = 0;
    if (!take_num(p, 2, 2, h) || !take_char(p, ':') || !take_num(p, 2, 2, m)
        || !take_char(p, ':') || !take_num(p, 2, 2, sec)
        || !take_fraction_ms(p, ms))
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected "
                           "HH:MM:SS[.fraction] after 'T'", s);
    if (**p == '\0')
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": no time "
                           "zone (add Z or an offset)", s);
    if (!take_char(p, 'Z') && !take_char(p, 'z')
        && !take_offset(p, true, offset))
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": bad time "
                           "zone (expected Z or +HH:MM)", s);
    return MLC_OK;
}

int jdate_iso8601_parse_ms(const char *s, int64_t *out_ms, struct mlc_err *e)
{
    struct jdate_civil d;
    const char *p = s;
    int h = 0, m = 0, sec = 0, ms = 0, offset = 0, rc;
    int64_t t;

    *out_ms = 0;
    if (is_empty(s))
        return JDATE_BLANK;
    if (!take_iso_date(&p, &d))
        return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected "
                           "YYYY-MM-DD[THH:MM:SSZ]", s);
    if (*p != '\0') {
        if (!take_char(&p, 'T') && !take_char(&p, 't'))
            return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": expected "
                               "'T' after the date", s);
        rc = iso_take_time(s, &p, &h, &m, &sec, &ms, &offset, e);
        if (rc != MLC_OK)
            return rc;
        if (*p != '\0')
            return mlc_err_set(e, MLC_EINVAL, "date \"%." QMAX "s\": "
                               "unexpected text after the zone", s);
    }
    rc = assemble(s, &d, h, m, sec, offset, &t, e);
    if (rc != MLC_OK)
        return rc;
    *out_ms = t * 1000 + ms;
    return MLC_OK;
}

int jdate_iso8601_parse(const char *s, int64_t *out, struct mlc_err *e)
{
    int64_t ms;
    int rc = jdate_iso8601_parse_ms(s, &ms, e);

    *out = rc == MLC_OK ? floor_div(ms, 1000) : 0;
    return rc;
}

/* "YYYY-MM-DDTHH:MM:SS" + tail, local to offset_min. */
static int iso_format(int64_t t, int offset_min, const char *tail, char *buf,
                      size_t cap, struct mlc_err *e)
{
    struct jdate_civil d;
    int32_t hms;
    int rc;

    if (buf != NULL && cap > 0)
        buf[0] = '\0';
    rc = jdate_unix_to_civil(t, offset_min, &d, &hms, e);
    if (rc != MLC_OK)
        return rc;
    return put(buf, cap, e, "ISO 8601 date",
               "%04d-%02d-%02dT%02d:%02d:%02d%s", d.year, d.month, d.day,
               (int)(hms / 10000), (int)(hms / 100 % 100), (int)(hms % 100),
               tail);
}

int jdate_iso8601_format(int64_t t, char *buf, size_t cap, struct mlc_err *e)
{
    return iso_format(t, 0, "Z", buf, cap, e);
}

int jdate_iso8601_format_ms(int64_t t_ms, char *buf, size_t cap,
                            struct mlc_err *e)
{
    char tail[8];

    snprintf(tail, sizeof(tail), ".%03dZ", (int)floor_mod(t_ms, 1000));
    return iso_format(floor_div(t_ms, 1000), 0, tail, buf, cap, e);
}

int jdate_iso8601_format_offset(int64_t t, int offset_min, char *buf,
                                size_t cap, struct mlc_err *e)
{
    char tail[8];
    int a = offset_min < 0 ? -offset_min : offset_min;
    int rc = check_offset(offset_min, e);

    if (rc != MLC_OK) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return rc;
    }
    snprintf(tail, sizeof(tail), "%c%02d:%02d", offset_min < 0 ? '-' : '+',
             a / 60, a % 60);
    return iso_format(t, offset_min, tail, buf, cap, e);
}

/* ---- Clock ------------------------------------------------------------ */

int64_t jdate_now_unix(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec;
}
