#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "helpers/testcfg.h"

struct mlc_config *testcfg_posting(const char *posting)
{
    static const char head[] =
        "bigcommerce:\n"
        "  store_hash: abc123\n"
        "  token_ref: bc_token\n"
        "jde:\n"
        "  ais_base_url: \"https://ais.example.com\"\n"
        "  user: MLCSVC\n"
        "  password_ref: jde_password\n"
        TESTCFG_ORDERS
        "posting:\n"
        "  company: \"00001\"\n";
    char text[4096];
    struct mlc_config *c = NULL;
    struct mlc_err e = { 0 };
    int n = snprintf(text, sizeof(text), "%s%s", head, posting);

    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (cfg_load_buffer("test.yaml", text, (size_t)n, &c, &e) != MLC_OK)
        fail_msg("config: %s", e.msg);
    return c;
}
