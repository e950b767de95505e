/*
 * sqlite_watermarks: named progress markers (name -> text value).
 */
#include <string.h>

#include "store/sqlite_int.h"

int sq_watermark_get(struct store *st, const char *name, char *buf,
                     size_t cap, struct mlc_err *e)
{
    struct sq_q q;
    size_t len;
    int end, rc = sq_q_begin(&q, sq_of(st), SQ_WM_GET, "watermark get", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    if (sq_q_step(&q) == SQLITE_ROW) {
        len = (size_t)sqlite3_column_bytes(q.stmt, 0);
        if (len < cap)
            memcpy(buf, sq_col_text(q.stmt, 0), len + 1);
        else
            rc = mlc_err_set(e, MLC_ERANGE, "store: watermark %s is %zu "
                             "bytes, buffer holds %zu", name, len, cap - 1);
    } else if (q.rc == SQLITE_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: watermark %s not set",
                         name);
    }
    end = sq_q_end(&q, e);
    return end != MLC_OK ? end : rc;
}

static int watermark_set_tx(struct sq_store *s, const char *name,
                            const char *value, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_WM_SET, "watermark set", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":name", name);
    sq_q_text(&q, ":value", value);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_watermark_set(struct store *st, const char *name,
                     const char *value, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, watermark_set_tx(s, name, value, e), e);
}
