#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "simctl.h"

json_t *simctl(struct httpc *c, const char *base, const char *method,
               const char *path, const char *body)
{
    struct httpc_header h[] = { { "Content-Type", "application/json" } };
    struct httpc_request rq = { 0 };
    struct httpc_response r = { 0 };
    char url[256];
    json_t *j;

    snprintf(url, sizeof(url), "%s%s", base, path);
    rq.method = method;
    rq.url = url;
    rq.headers = h;
    rq.n_headers = 1;
    rq.body = body;
    rq.body_len = body != NULL ? strlen(body) : 0;
    assert_int_equal(httpc_do(c, &rq, &r, NULL), MLC_OK);
    if (r.status != 200 && r.status != 201)
        fprintf(stderr, "%s %s: %d %.*s\n", method, path, r.status, (int)r.body_len, r.body);
    assert_true(r.status == 200 || r.status == 201);
    j = json_loads(r.body, 0, NULL);
    httpc_response_clear(&r);
    assert_non_null(j);
    return j;
}
