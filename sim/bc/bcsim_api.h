/*
 * bcsim_api: the simulator's REST handlers (v2 in bcsim_orders.c, v3 in
 * bcsim_v3.c) and control handlers (bcsim_ctl.c). Every handler runs with
 * s->mu held and answers through struct bcsim_out.
 */
#ifndef MLC_SIM_BCSIM_API_H
#define MLC_SIM_BCSIM_API_H

#include "bc/bcsim_int.h"

/* v2 (bcsim_orders.c) */
void bcsim_v2_orders_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_orders_count(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_products(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_shipping(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_coupons(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_fees(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_order_statuses(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v2_store(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);

/* v3 (bcsim_v3.c) */
void bcsim_v3_transactions(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_order_refunds(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_refunds(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_refund_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_customers(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_addresses(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_products_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_product_create(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_products_batch(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_product_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_product_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_product_variants(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_variants_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_variants_batch(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hooks_list(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hook_create(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hook_get(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hook_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hook_delete(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hooks_admin(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);
void bcsim_v3_hooks_admin_put(struct bcsim *s, const struct bcsim_req *rq, struct bcsim_out *o);

/* Control API (bcsim_ctl.c): path after "/__sim", with method and the parsed
 * body (NULL when empty). Answers plain JSON; errors as {"error": "..."}. */
void bcsim_ctl_handle(struct bcsim *s, const char *method, const char *path,
                      const json_t *body, struct bcsim_out *o);
/* The counters as {"GET /v2/orders": n, ...} (bcsim.c). */
json_t *bcsim_counters_json(struct bcsim *s);
void bcsim_counters_reset(struct bcsim *s);
/* Starts (path) or stops (NULL) the recording (bcsim.c). */
int bcsim_record_open(struct bcsim *s, const char *path, struct mlc_err *e);

#endif
