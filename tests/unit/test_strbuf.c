/* Unit tests: strbuf (growth, printf-append, embedded NUL, bounded mode,
 * the oom flag, take and reset). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

/* Many small appends: the text is every piece in order, never cut. */
static void test_growth(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    char want[16];
    const char *p;

    (void)state;
    assert_string_equal(strbuf_str(&sb), "");
    for (int i = 0; i < 20000; i++) {
        strbuf_adds(&sb, "<");
        strbuf_addf(&sb, "%d", i);
        strbuf_add(&sb, ">", 1);
    }
    assert_false(strbuf_failed(&sb));
    assert_int_equal(strlen(strbuf_str(&sb)), sb.len);
    assert_true(sb.cap > sb.len);
    p = strbuf_str(&sb);
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(want, sizeof(want), "<%d>", i);
        assert_memory_equal(p, want, (size_t)n);
        p += n;
    }
    assert_int_equal(*p, '\0');
    strbuf_release(&sb);
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
}

/* A printf whose output is far longer than the capacity at hand. */
static void test_printf_long(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    size_t n = 100000;
    char *big = malloc(n + 1);

    (void)state;
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    strbuf_adds(&sb, "head:");
    strbuf_addf(&sb, "[%s]%d", big, 42);
    assert_false(strbuf_failed(&sb));
    assert_int_equal(sb.len, 5 + 1 + n + 1 + 2);
    assert_memory_equal(strbuf_str(&sb), "head:[x", 7);
    assert_string_equal(strbuf_str(&sb) + 5 + 1 + n, "]42");
    strbuf_addchars(&sb, '-', 3);
    assert_string_equal(strbuf_str(&sb) + sb.len - 6, "]42---");
    strbuf_release(&sb);
    free(big);
}

/* Bytes with NUL inside are kept whole; len counts them. */
static void test_embedded_nul(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    static const char bytes[] = { 'a', '\0', 'b', '\0', 'c' };

    (void)state;
    strbuf_add(&sb, bytes, sizeof(bytes));
    strbuf_add(&sb, bytes, sizeof(bytes));
    assert_int_equal(sb.len, 10);
    assert_memory_equal(sb.buf, bytes, sizeof(bytes));
    assert_memory_equal(sb.buf + 5, bytes, sizeof(bytes));
    assert_int_equal(sb.buf[10], '\0');
    assert_string_equal(strbuf_str(&sb), "a"); /* a C string stops at the first NUL */
    strbuf_release(&sb);
}

/* A bounded buffer keeps at most its limit, whatever appends it. */
static void test_bounded(void **state)
{
    struct strbuf sb;

    (void)state;
    strbuf_init_bounded(&sb, 10);
    strbuf_adds(&sb, "abcd");
    assert_false(sb.truncated);
    strbuf_addf(&sb, "%s", "efghijkl");
    assert_true(sb.truncated);
    assert_string_equal(strbuf_str(&sb), "abcdefghij");
    strbuf_adds(&sb, "more");
    strbuf_addchars(&sb, 'z', 5);
    strbuf_addf(&sb, "%d", 7);
    assert_string_equal(strbuf_str(&sb), "abcdefghij");
    assert_true(sb.cap <= 11);
    assert_false(strbuf_failed(&sb));
    strbuf_reset(&sb);
    assert_false(sb.truncated);
    strbuf_addf(&sb, "%05d", 42);
    assert_string_equal(strbuf_str(&sb), "00042");
    strbuf_release(&sb);
}

/* Out of memory once: later appends are ignored, the flag stays until
 * the end, and take hands back nothing. */
static void test_oom_flag(void **state)
{
    struct strbuf sb = STRBUF_INIT;

    (void)state;
    strbuf_adds(&sb, "kept");
    assert_false(strbuf_reserve(&sb, SIZE_MAX)); /* more than can exist */
    assert_true(strbuf_failed(&sb));
    strbuf_adds(&sb, " lost");
    strbuf_addf(&sb, "%d", 1);
    assert_string_equal(strbuf_str(&sb), "kept");
    assert_null(strbuf_take(&sb));
    assert_false(strbuf_failed(&sb)); /* take freed it and started over */
    assert_null(sb.buf);
    strbuf_adds(&sb, "again");
    assert_string_equal(strbuf_str(&sb), "again");
    strbuf_release(&sb);
}

/* take hands the text over and empties the buffer; reset keeps memory. */
static void test_take_reset(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    char *s, *empty;
    char *mem;

    (void)state;
    empty = strbuf_take(&sb);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);
    strbuf_addf(&sb, "%s-%d", "job", 7);
    s = strbuf_take(&sb);
    assert_string_equal(s, "job-7");
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
    free(s);
    strbuf_adds(&sb, "first");
    mem = sb.buf;
    strbuf_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(strbuf_str(&sb), "");
    assert_ptr_equal(sb.buf, mem);
    strbuf_adds(&sb, "second");
    assert_string_equal(strbuf_str(&sb), "second");
    assert_true(strbuf_reserve(&sb, 1000));
    assert_true(sb.cap >= sb.len + 1000 + 1);
    assert_string_equal(strbuf_str(&sb), "second");
    strbuf_release(&sb);
    strbuf_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_printf_long),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_oom_flag),
        cmocka_unit_test(test_take_reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
