/*
 * pg_watermarks: named progress markers (name -> text value).
 */
#include <string.h>

#include "store/pg_int.h"

int pg_watermark_get(struct store *st, const char *name, char *buf,
                     size_t cap, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_WM_GET, "watermark get");
    pg_q_text(&q, name);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0) {
        const char *v = pg_text(&q, 0, 0);
        size_t len = v != NULL ? strlen(v) : 0;

        if (len < cap)
            memcpy(buf, v != NULL ? v : "", len + 1);
        else
            rc = mlc_err_set(e, MLC_ERANGE, "store: watermark %s is %zu "
                             "bytes, buffer holds %zu", name, len, cap - 1);
    } else if (rc == MLC_OK) {
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: watermark %s not set",
                         name);
    }
    pg_q_end(&q);
    return rc;
}

static int watermark_set_tx(struct pg_store *s, const char *name,
                            const char *value, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_WM_SET, "watermark set");
    pg_q_text(&q, name);
    pg_q_text(&q, value);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_watermark_set(struct store *st, const char *name, const char *value,
                     struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, watermark_set_tx(s, name, value, e), e);
}
