/*
 * jdate: calendar dates and times for JD Edwards and BigCommerce.
 *
 * Everything here is pure arithmetic on the proleptic Gregorian calendar: no
 * process time zone, no C library time functions, no I/O, no clock (except
 * jdate_now_unix). A point in time is an int64_t count of Unix seconds (UTC);
 * a calendar day is a struct jdate_civil. Where a local wall clock matters
 * (JDE stores server-local times; GL dates use the store's time zone) the
 * caller passes a fixed UTC offset in minutes (east positive, e.g. +60 for
 * CET, -300 for EST). There is no IANA zone database: a caller that needs
 * daylight saving picks the offset for the instant itself.
 *
 * Status codes (see core/err.h):
 *   MLC_OK       success
 *   JDATE_BLANK  (positive) the input was the "no date" value (Julian 0,
 *                YYYYMMDD "" / "0" / "00000000" / NULL, empty string); the
 *                output is zeroed (blank civil {0,0,0}, 0 seconds) and e is
 *                left untouched. Code that needs a real date treats any
 *                non-zero status as failure.
 *   MLC_EINVAL   malformed input or an impossible date/time (Feb 30, 25:00)
 *   MLC_ERANGE   a valid value that the target form cannot represent (1899
 *                as a JDE Julian date, a year outside 1..9999)
 *   MLC_ETOOBIG  the caller's output buffer is too small
 *
 * Supported range: years 0001..9999 for civil dates and Unix seconds, years
 * 1900..2899 for JDE Julian dates (century digit 0..9).
 */
#ifndef MLC_CORE_JDATE_H
#define MLC_CORE_JDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Positive "blank date" status; never an error (errors are negative). */
#define JDATE_BLANK 1

#define JDATE_YEAR_MIN 1
#define JDATE_YEAR_MAX 9999
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define JDATE_UNIX_MIN INT64_C(-62135596800)
#define JDATE_UNIX_MAX INT64_C(253402300799)
/* Largest accepted |UTC offset| in minutes (23:59, the widest an RFC 2822 or
 * ISO 8601 offset can be written). */
#define JDATE_OFFSET_MAX_MIN 1439

/* Output buffer sizes, NUL included. */
#define JDATE_YYYYMMDD_SIZE 9   /* "20261128" */
#define JDATE_ISO_DATE_SIZE 11  /* "2026-11-28" */
#define JDATE_ISO8601_SIZE  32  /* "2023-02-03T15:01:22.123+05:30" */
#define JDATE_RFC2822_SIZE  32  /* "Tue, 20 Nov 2012 00:00:00 +0000" */
#define JDATE_SDF_SIZE      40  /* any accepted simpleDateFormat output */
#define JDATE_SDF_PATTERN_MAX 32 /* longest accepted pattern (chars) */

/* A calendar day. {0,0,0} is the blank date; anything else must be valid. */
struct jdate_civil {
    int year;   /* 1..9999 */
    int month;  /* 1..12 */
    int day;    /* 1..days in month */
};

/* ---- Civil dates ------------------------------------------------------ */

bool jdate_is_leap_year(int year);
/* 365 or 366. */
int jdate_days_in_year(int year);
/* 28..31, or 0 when month is not 1..12. */
int jdate_days_in_month(int year, int month);

/* MLC_OK when d is a real date in 0001-01-01..9999-12-31, else MLC_EINVAL
 * with a message naming the bad part. The blank date is not valid here. */
int jdate_civil_check(const struct jdate_civil *d, struct mlc_err *e);
bool jdate_civil_is_blank(const struct jdate_civil *d);
/* <0, 0, >0 like strcmp; both dates must be valid or blank (blank first). */
int jdate_civil_cmp(const struct jdate_civil *a, const struct jdate_civil *b);

/* Days since 1970-01-01 (negative before it), both ways. */
int jdate_civil_to_days(const struct jdate_civil *d, int64_t *days,
                        struct mlc_err *e);
int jdate_civil_from_days(int64_t days, struct jdate_civil *out,
                          struct mlc_err *e);
/* out = d + n days (n may be negative); MLC_ERANGE past 0001..9999. */
int jdate_civil_add_days(const struct jdate_civil *d, int64_t n,
                         struct jdate_civil *out, struct mlc_err *e);

/* Day of week of a day count: 0 = Sunday .. 6 = Saturday. Total function. */
int jdate_weekday(int64_t days);
/* 1..366 for a valid date, 0 otherwise. */
int jdate_day_of_year(const struct jdate_civil *d);

/* ---- JDE Julian dates (CYYDDD) ---------------------------------------- */
/* The integer C*100000 + YY*1000 + DDD, i.e. (year - 1900) * 1000 + day of
 * year: 126332 = 2026-11-28, 99365 = 1999-12-31, 0 = blank. */

/* Julian -> civil. 0 gives JDATE_BLANK; a negative value, a century digit
 * above 9, DDD = 0 or DDD past the year's end give MLC_EINVAL. */
int jdate_julian_to_civil(int32_t julian, struct jdate_civil *out,
                          struct mlc_err *e);
/* Civil -> Julian. Blank gives 0 and JDATE_BLANK; a year outside
 * 1900..2899 gives MLC_ERANGE. */
int jdate_julian_from_civil(const struct jdate_civil *d, int32_t *out,
                            struct mlc_err *e);

/* ---- "YYYYMMDD" strings (AIS data service) ---------------------------- */

/* Exactly 8 digits forming a valid date. NULL, "", "0" and "00000000" are
 * blank. Nothing else is accepted (no spaces, no signs, no trailing text). */
int jdate_yyyymmdd_parse(const char *s, struct jdate_civil *out,
                         struct mlc_err *e);
/* Writes 8 digits; the blank date writes "" and returns JDATE_BLANK. */
int jdate_yyyymmdd_format(const struct jdate_civil *d, char *buf, size_t cap,
                          struct mlc_err *e);
/* An AIS "YYYYMMDD" date column straight to its Julian value (blank -> 0). */
int jdate_julian_from_yyyymmdd(const char *s, int32_t *out,
                               struct mlc_err *e);

/* ---- ISO 8601 calendar dates "YYYY-MM-DD" ----------------------------- */

/* Strict "YYYY-MM-DD"; NULL or "" is blank, and formatting the blank date
 * writes "" (both JDATE_BLANK). */
int jdate_iso_date_parse(const char *s, struct jdate_civil *out,
                         struct mlc_err *e);
int jdate_iso_date_format(const struct jdate_civil *d, char *buf, size_t cap,
                          struct mlc_err *e);

/* ---- JDE times of day (UPMT / TDAY) ----------------------------------- */
/* The integer HH*10000 + MM*100 + SS: 143015 = 14:30:15, 93015 = 09:30:15,
 * 0 = midnight. No leap seconds. */

int jdate_hhmmss_check(int32_t hhmmss, struct mlc_err *e);
/* Combines parts after checking them (0..23, 0..59, 0..59). */
int jdate_hhmmss_make(int h, int m, int s, int32_t *out, struct mlc_err *e);
/* Splits a checked value; any of h, m, s may be NULL. */
int jdate_hhmmss_split(int32_t hhmmss, int *h, int *m, int *s,
                       struct mlc_err *e);

/* ---- Unix seconds <-> local civil date and time ----------------------- */

/* The wall-clock date (and HHMMSS time, out_hhmmss may be NULL) of instant t
 * at UTC offset offset_min. MLC_ERANGE when the local date leaves
 * 0001..9999, MLC_EINVAL for an offset beyond JDATE_OFFSET_MAX_MIN. */
int jdate_unix_to_civil(int64_t t, int offset_min, struct jdate_civil *out,
                        int32_t *out_hhmmss, struct mlc_err *e);
/* The instant of local date d at time hhmmss in offset offset_min. */
int jdate_civil_to_unix(const struct jdate_civil *d, int32_t hhmmss,
                        int offset_min, int64_t *out, struct mlc_err *e);

/* ---- Change watermarks (UPMJ + UPMT/TDAY) ----------------------------- */

/* A JDE "last updated" stamp. {0, 0} is the start-of-time watermark: a blank
 * Julian sorts before every date. */
struct jdate_stamp {
    int32_t julian;  /* UPMJ, CYYDDD, 0 = blank */
    int32_t hhmmss;  /* UPMT or TDAY, HHMMSS */
};

/* MLC_OK when julian is 0 or valid and hhmmss is a valid time. */
int jdate_stamp_check(const struct jdate_stamp *s, struct mlc_err *e);
/* Orders by julian then hhmmss: <0, 0, >0. */
int jdate_stamp_cmp(const struct jdate_stamp *a, const struct jdate_stamp *b);
/* The polling predicate "UPMJ > w.julian OR (UPMJ = w.julian AND
 * TIME >= w.hhmmss)": true when row is at or after watermark w. Inclusive on
 * purpose, because several rows can share one second; callers de-duplicate
 * by primary key. */
bool jdate_stamp_at_or_after(const struct jdate_stamp *row,
                             const struct jdate_stamp *w);
/* Stamp <-> instant, with the JDE server's UTC offset (0 when it runs UTC).
 * A blank Julian converts to 0 seconds with JDATE_BLANK. */
int jdate_stamp_to_unix(const struct jdate_stamp *s, int offset_min,
                        int64_t *out, struct mlc_err *e);
int jdate_stamp_from_unix(int64_t t, int offset_min, struct jdate_stamp *out,
                          struct mlc_err *e);

/* ---- JDE user date formats (AIS login "simpleDateFormat") ------------- */
/* A subset of Java SimpleDateFormat: yyyy (4-digit year), yy (2-digit year),
 * MM / dd (2 digits, zero padded), M / d (1 or 2 digits), and any printable
 * ASCII that is not a letter or a quote as a literal separator. Each of year,
 * month and day appears exactly once. A 1-letter field directly followed by
 * another field ("Md") is rejected as ambiguous. Other letters and quoting
 * are rejected with MLC_EINVAL naming the culprit.
 *
 * Parsing is strict (unlike Java's lenient default): yyyy takes exactly 4
 * digits, yy / MM / dd exactly 2, M / d 1 or 2; literals must match; no
 * trailing text; the date must exist. A 2-digit year becomes the one year in
 * [yy_base, yy_base + 99] that ends in those digits: pass
 * JDATE_YY_BASE_DEFAULT for the fixed 1950..2049 window, or (this year - 80)
 * for Java's sliding window. An empty string is blank. */
#define JDATE_YY_BASE_DEFAULT 1950

int jdate_sdf_check(const char *pattern, struct mlc_err *e);
/* Blank d writes "" and returns JDATE_BLANK. */
int jdate_sdf_format(const char *pattern, const struct jdate_civil *d,
                     char *buf, size_t cap, struct mlc_err *e);
int jdate_sdf_parse(const char *pattern, const char *s, int yy_base,
                    struct jdate_civil *out, struct mlc_err *e);

/* ---- BigCommerce v2: RFC 2822 "Tue, 20 Nov 2012 00:00:00 +0000" ------- */

/* Accepts "[Day,] D[D] Mon YYYY HH:MM[:SS] zone" with one or more spaces
 * between parts, where zone is +HHMM / -HHMM, GMT, UT, UTC or Z (names and
 * months case-insensitive). A weekday, when present, must be the one the date
 * falls on: a mismatch is MLC_EINVAL, since it means the producer and we
 * disagree about the date and guessing which part is right is not safe for
 * money. Two-digit years, other zone names, comments and leading or trailing
 * text are rejected. NULL or "" is blank (BigCommerce sends "" for a date
 * not set, e.g. date_shipped). Result in Unix seconds. */
int jdate_rfc2822_parse(const char *s, int64_t *out, struct mlc_err *e);
/* Always UTC: "Tue, 20 Nov 2012 00:00:00 +0000" (day zero padded). */
int jdate_rfc2822_format(int64_t t, char *buf, size_t cap, struct mlc_err *e);

/* ---- BigCommerce v3: ISO 8601 / RFC 3339 ------------------------------ */

/* Accepts "YYYY-MM-DDTHH:MM:SS[.f...](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)" (T and Z
 * may be lower case; 1..9 fraction digits) and the date alone "YYYY-MM-DD",
 * read as midnight UTC. A date-time without a zone is rejected: its meaning
 * is not documented. NULL or "" is blank. The seconds variant drops the
 * fraction (floor); the _ms variant keeps milliseconds (floor). */
int jdate_iso8601_parse(const char *s, int64_t *out, struct mlc_err *e);
int jdate_iso8601_parse_ms(const char *s, int64_t *out_ms, struct mlc_err *e);
/* "2023-02-03T15:01:22Z". */
int jdate_iso8601_format(int64_t t, char *buf, size_t cap, struct mlc_err *e);
/* "2023-02-03T15:01:22.123Z" from milliseconds. */
int jdate_iso8601_format_ms(int64_t t_ms, char *buf, size_t cap,
                            struct mlc_err *e);
/* Local time with an explicit offset: "2023-02-03T16:01:22+01:00";
 * offset 0 gives the "+00:00" form. */
int jdate_iso8601_format_offset(int64_t t, int offset_min, char *buf,
                                size_t cap, struct mlc_err *e);

/* ---- Clock ------------------------------------------------------------ */

/* The current time in Unix seconds (CLOCK_REALTIME); the only impure call
 * here, so that everything else stays testable. */
int64_t jdate_now_unix(void);

#endif
