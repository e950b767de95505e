/* Unit tests: tz (zone selection and offsets, DST included). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/tz.h"

static void test_utc(void **state)
{
    (void)state;
    assert_int_equal(tz_init("UTC", NULL), MLC_OK);
    assert_int_equal(tz_offset_min(1795852695), 0);
    assert_int_equal(tz_init("", NULL), MLC_OK); /* empty = UTC */
    assert_int_equal(tz_offset_min(0), 0);
}

static void test_dst_zone(void **state)
{
    (void)state;
    if (tz_init("America/Chicago", NULL) != MLC_OK) {
        skip(); /* tzdata absent: install-deps installs it */
        return;
    }
    /* 2026-01-15 12:00 UTC: CST (-6 h); 2026-07-15 12:00 UTC: CDT (-5 h). */
    assert_int_equal(tz_offset_min(1768478400), -360);
    assert_int_equal(tz_offset_min(1784116800), -300);
    assert_int_equal(tz_init("Asia/Kolkata", NULL), MLC_OK);
    assert_int_equal(tz_offset_min(1768478400), 330);
    assert_int_equal(tz_init("UTC", NULL), MLC_OK);
}

static void test_unknown_zone(void **state)
{
    struct mlc_err e = { 0 };

    (void)state;
    assert_int_equal(tz_init("Mars/Olympus_Mons", &e), MLC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "Mars/Olympus_Mons"));
    assert_int_equal(tz_init("../../etc/passwd", &e), MLC_ENOTFOUND);
    assert_int_equal(tz_init("/etc/localtime", &e), MLC_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_dst_zone),
        cmocka_unit_test(test_unknown_zone),
    };
    return cmocka_run_group_tests_name("tz", tests, NULL, NULL);
}
