#include "bc/bcsim_rate.h"

void bcsim_rate_init(struct bcsim_rate *r, int64_t quota, int64_t window_ms)
{
    r->quota = quota < 0 ? 0 : quota;
    r->window_ms = window_ms > 0 ? window_ms : 30000;
    r->start_ms = -1;
    r->used = 0;
}

bool bcsim_rate_take(struct bcsim_rate *r, int64_t now_ms,
                     struct bcsim_rate_view *v)
{
    bool ok;

    if (r->start_ms < 0 || now_ms - r->start_ms >= r->window_ms) {
        r->start_ms = now_ms;
        r->used = 0;
    }
    v->window_ms = r->window_ms;
    v->reset_ms = r->window_ms - (now_ms - r->start_ms);
    if (r->quota == 0) {
        v->quota = INT32_MAX;
        v->left = INT32_MAX;
        return true;
    }
    ok = r->used < r->quota;
    if (ok)
        r->used++;
    v->quota = r->quota;
    v->left = r->quota - r->used;
    return ok;
}
