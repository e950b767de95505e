/*
 * fuzz_ais: the AIS answer decoders reachable without a server (src/jde/):
 * the error text of any answer (ais_error_text: sysErrors, errors,
 * message), the data service's row readers (ais_row_str, _i64, _julian,
 * _civil, _amount) on every cell of every fs_DATABROWSE_*.data.gridData
 * rowset (or of a bare rowset array), and the orchestration output readers
 * (ais_orch_out_str, _i64) on every member of the answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/money.h"
#include "jde/ais_data.h"
#include "jde/ais_orch.h"
#include "jde/ais_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void row(const json_t *r)
{
    struct mlc_err e = {0};
    struct jdate_civil d;
    const char *k;
    json_t *v;
    char buf[64], tiny[4];
    int64_t x;
    int32_t j;

    json_object_foreach((json_t *)r, k, v) {
        (void)ais_row_str(r, k, buf, sizeof(buf), &e);
        (void)ais_row_str(r, k, tiny, sizeof(tiny), &e);
        (void)ais_row_i64(r, k, &x, &e);
        (void)ais_row_julian(r, k, &j, &e);
        (void)ais_row_civil(r, k, &d, &e);
        for (int scale = 0; scale <= 4; scale += 2)
            (void)ais_row_amount(r, k, scale, MONEY_ROUND_HALF_AWAY, &x, &e);
        (void)ais_row_amount(r, k, 2, MONEY_ROUND_EXACT, &x, &e);
    }
    (void)ais_row_str(r, "F0911.MISSING", buf, sizeof(buf), &e);
}

static void rowset(const json_t *rows)
{
    size_t i;
    json_t *r;

    json_array_foreach(rows, i, r)
        row(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlc_err e = {0};
    struct ais_orch_result res;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *v;
    const char *k;
    char buf[64];
    int64_t x;

    if (root == NULL)
        return 0;
    (void)ais_error_text(root);
    if (json_is_array(root))
        rowset(root);
    json_object_foreach(root, k, v) {
        if (strncmp(k, "fs_", 3) == 0)
            rowset(json_object_get(json_object_get(json_object_get(v, "data"), "gridData"),
                                   "rowset"));
    }
    memset(&res, 0, sizeof(res));
    res.status = 200;
    res.out = root;
    json_object_foreach(root, k, v) {
        (void)ais_orch_out_str(&res, k, buf, sizeof(buf), &e);
        (void)ais_orch_out_i64(&res, k, &x, &e);
    }
    json_decref(root);
    return 0;
}
