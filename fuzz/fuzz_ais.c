/*
 * fuzz_ais: the AIS answer decoders (src/jde/), each fed the same JSON
 * document as a server would answer it, without a server:
 *   token          ais_login_decode (userInfo.token and the login details);
 *   data service   ais_pager_page (fs_DATABROWSE_*.data.gridData rowset, the
 *                  duplicate-row keys, summary.moreRecords, the next link),
 *                  twice so rows are seen again, and the row readers
 *                  (ais_row_str, _i64, _julian, _civil, _amount) on every cell
 *                  of every row delivered (or of a bare rowset array);
 *   orchestration  ais_orch_judge under the statuses it tells apart, and the
 *                  output readers (ais_orch_out_str, _i64) on every member;
 *   errors         ais_error_text (message, sysErrors, errors).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/money.h"
#include "core/secret.h"
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

static int row_fn(void *ctx, const json_t *r, struct mlc_err *e)
{
    (void)ctx;
    (void)e;
    row(r);
    return MLC_OK;
}

static void data_service(json_t *root)
{
    static const int statuses[] = { 200, 404, 500 };
    struct mlc_err e = {0};
    struct ais_query *q = NULL;
    struct ais_pager *p = NULL;
    char *next;
    bool more;

    if (ais_query_new("F0901", &q, &e) != 0 || ais_query_key(q, "MCU|OBJ", &e) != 0 ||
        ais_pager_new(q, row_fn, NULL, &p, &e) != 0)
        goto cleanup;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        for (int pass = 0; pass < 2; pass++) {
            next = NULL;
            (void)ais_pager_page(p, statuses[i], root, &next, &more, &e);
            free(next);
        }
    }
cleanup:
    ais_pager_free(p);
    ais_query_free(q);
}

static void orchestration(json_t *root)
{
    static const int statuses[] = { 200, 403, 404, 500, 502 };
    struct mlc_err e = {0};
    struct ais_orch_result res;
    const char *k;
    json_t *v;
    char buf[64];
    int64_t x;

    memset(&res, 0, sizeof(res));
    res.out = root;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        res.status = statuses[i];
        res.rejected = res.outcome_unknown = false;
        (void)ais_orch_judge("ML_GL_JOURNAL", &res, &e);
    }
    res.status = 200;
    json_object_foreach(root, k, v) {
        (void)ais_orch_out_str(&res, k, buf, sizeof(buf), &e);
        (void)ais_orch_out_i64(&res, k, &x, &e);
    }
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
    struct ais_login_info info;
    struct mlc_secret *tok = NULL;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);

    if (root == NULL)
        return 0;
    log_set_level(LOG_LVL_ERROR); /* the login decoder warns on a missing format */
    (void)ais_error_text(root);
    if (json_is_array(root))
        rowset(root);
    orchestration(root);
    data_service(root);
    /* Last: it wipes the token in root. */
    if (ais_login_decode(root, "MLCSVC", &tok, &info) == 0)
        secret_free(tok);
    json_decref(root);
    return 0;
}
