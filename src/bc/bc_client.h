/*
 * bc_client: the BigCommerce REST client (v2 and v3) of one thread.
 *
 * One struct bc_client per thread: it owns an httpc (a libcurl handle keeps
 * its connections). Every client of a store shares that store's pacer, so
 * the request budget (shared with the other apps on the store) is spent
 * once. Each attempt asks the pacer first and reports its response (status
 * and the X-Rate-Limit-* headers, any case) or its failure (status 0).
 *
 * Retries: a 429 is always retried (BigCommerce did not process it, so even
 * a POST may be sent again) once the pacer lets the next request go; 5xx,
 * timeouts and connection errors are retried with backoff for idempotent
 * calls only (GET, PUT of a full state, DELETE). A POST that creates is never
 * re-sent blindly: the create helpers look the object up first.
 *
 * Errors: a non-2xx status is a failure whose message names the method, the
 * path (never the query: it may hold e-mail addresses) and the status, then
 * what BigCommerce said: "GET /v2/orders/105: 404 The requested resource was
 * not found". Codes: 400/422 MLC_EINVAL, 401/403 MLC_EAUTH, 404
 * MLC_ENOTFOUND, 409 MLC_EEXIST, 413 MLC_ETOOBIG, 423/429/503 MLC_EBUSY,
 * other 5xx MLC_EIO, anything else MLC_EPROTO. Transport errors (no
 * response) keep httpc's code and message (method and redacted URL), and a
 * pacer that could not grant a request in time gives MLC_ETIMEOUT. The token
 * is only ever an httpc secret header: it is in no message and no log line.
 *
 * This header also holds the pieces the other bc_* modules share (URL
 * builder, generic call, pagers) and the order reads (v2 orders, v3
 * transactions and refunds), which stay raw jansson values until the order
 * decoders (bc_decode) turn them into the order model.
 */
#ifndef MLC_BC_BC_CLIENT_H
#define MLC_BC_BC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct cfg_bigcommerce;
struct mlc_secret;
struct pacer;
struct bc_client;

/* Page sizes BigCommerce allows at most (v2 orders, v3 lists). */
#define BC_V2_LIMIT_MAX 250
#define BC_V3_LIMIT_MAX 250

/* Retry tuning; 0 fields keep the defaults in brackets. */
struct bc_client_tuning {
    unsigned max_attempts;      /* per call, 429 retries included [8] */
    unsigned max_transient;     /* retries after 5xx/timeouts/IO [3] */
    long     base_delay_ms;     /* first backoff of a transient retry [1000] */
    long     max_delay_ms;      /* backoff cap [30000] */
    long     max_total_ms;      /* no retry starts past this [300000] */
    int64_t  max_pacer_wait_ms; /* longest wait for the pacer [120000] */
};

/* New client (*out, caller frees with bc_client_free). cfg, token and pacer
 * are borrowed and must outlive the client. Uses cfg->api_base_url,
 * cfg->ca_file and cfg->timeout_ms (0: httpc's default). */
int bc_client_new(const struct cfg_bigcommerce *cfg, struct mlc_secret *token,
                  struct pacer *pacer, struct bc_client **out,
                  struct mlc_err *e);
void bc_client_free(struct bc_client *c);
/* Replaces the retry tuning (t NULL: defaults). */
void bc_client_tune(struct bc_client *c, const struct bc_client_tuning *t);

struct health;
/* Reports what the calls find to h (borrowed; may be NULL): a 2xx clears
 * "bigcommerce.auth" and "bigcommerce.unreachable"; 401/403 sets the
 * first; no answer, or a 5xx once the retries are spent, the second; any
 * other answer clears the second. */
void bc_client_set_health(struct bc_client *c, struct health *h);

/* HTTP requests this client sent (attempts, retries included). */
uint64_t bc_client_requests(const struct bc_client *c);

/* ---- URL builder -------------------------------------------------------- */

/* A path relative to the base URL ("/v2/orders") and its query. Errors are
 * sticky (rc) and reported by the call that uses the URL. */
struct bc_url {
    char  *s;
    size_t len, cap;
    bool   has_query;
    int    rc;
};

void bc_url_init(struct bc_url *u, const char *path);
/* Appends name=value, value percent-encoded once (RFC 3986 unreserved
 * characters stay as they are). */
void bc_url_add(struct bc_url *u, const char *name, const char *value);
void bc_url_addi(struct bc_url *u, const char *name, int64_t v);
/* name=1,2,3 */
void bc_url_add_ids(struct bc_url *u, const char *name, const int64_t *ids,
                    size_t n);
/* Copies u into *dst (dst is initialised). */
void bc_url_copy(struct bc_url *dst, const struct bc_url *u);
void bc_url_free(struct bc_url *u);

/* ---- generic call ------------------------------------------------------- */

struct bc_resp {
    int     status; /* HTTP status, 0 when no response arrived */
    json_t *body;   /* parsed body; NULL when empty (204) or not JSON */
};

/* One call with pacing and retries. body (may be NULL) is sent as compact
 * JSON. MLC_OK for 2xx (204 and 207 included); otherwise the error described
 * at the top, with out->status and out->body (the error document) kept for
 * the caller. Caller releases out with bc_resp_clear in both cases. */
int bc_call(struct bc_client *c, const char *method, const struct bc_url *url,
            const json_t *body, bool idempotent, struct bc_resp *out,
            struct mlc_err *e);
void bc_resp_clear(struct bc_resp *r);

/* The readable message of a BigCommerce error: "<method> <path>: <status>
 * <what the body says>". body is the raw text (may be NULL); v2 arrays
 * ([{status, message}]), v3 objects ({status, title, errors{}}) and v3
 * batch_errors are understood, anything else is quoted (short, printable
 * characters only). path is cut at '?'. Always NUL-terminates. */
void bc_error_message(const char *method, const char *path, int status,
                      const char *body, size_t body_len, char *buf, size_t cap);
/* The MLC_E* code for a non-2xx HTTP status (see above). */
int bc_status_code(int status);

/* ---- pagers ------------------------------------------------------------- */

enum bc_pager_kind { BC_PAGER_V2, BC_PAGER_V3 };

/* v2: the body is a bare array; 204 or a page shorter than the limit ends
 * the list. v3: {data:[...], meta:{pagination:{current_page, total_pages}}};
 * the list ends at total_pages, or, without pagination, on a short or empty
 * page (or 204). */
struct bc_pager {
    struct bc_client  *c;
    enum bc_pager_kind kind;
    struct bc_url      url;    /* filters, without page/limit */
    int64_t            page;   /* next page to fetch, 1-based */
    int64_t            limit;
    bool               done;
};

/* Takes a copy of url; limit 1..250. Release with bc_pager_free. */
int bc_pager_init(struct bc_pager *p, struct bc_client *c,
                  enum bc_pager_kind kind, const struct bc_url *url,
                  int64_t limit, struct mlc_err *e);
/* The next page's items (*items: caller decrefs), or *items NULL when the
 * list is over. */
int bc_pager_next(struct bc_pager *p, json_t **items, struct mlc_err *e);
void bc_pager_free(struct bc_pager *p);
/* Every page appended into one new array (*out: caller decrefs), at most
 * max_items items (MLC_ETOOBIG beyond: a guard against a runaway list). */
int bc_pager_collect(struct bc_pager *p, size_t max_items, json_t **out,
                     struct mlc_err *e);

/* ---- store -------------------------------------------------------------- */

struct bc_store_info {
    char *id;        /* store hash */
    char *name;
    char *domain;
    char *currency;  /* default currency code */
    char *timezone;  /* timezone.name */
};

/* GET /v2/store. Caller clears out with bc_store_info_clear. */
int bc_store_info(struct bc_client *c, struct bc_store_info *out,
                  struct mlc_err *e);
void bc_store_info_clear(struct bc_store_info *s);

/* ---- v2 orders ---------------------------------------------------------- */

/* List filters; 0 / NULL / -1 fields are not sent. Dates are sent as given
 * (RFC 2822 or ISO 8601, encoded once). */
struct bc_order_filter {
    int64_t     min_id, max_id;
    int         status_id;          /* -1: any */
    const char *min_date_modified, *max_date_modified;
    const char *min_date_created, *max_date_created;
    const char *sort;               /* "id:asc", ...; NULL: the default */
    const char *email;              /* the customer's (billing) e-mail; NULL: any */
    bool        line_items;         /* include=consignments.line_items,fees */
};
#define BC_ORDER_FILTER_INIT { .status_id = -1, .line_items = true }

/* One page (1-based) of orders: *out is an array (empty on 204), caller
 * decrefs. */
int bc_orders_page(struct bc_client *c, const struct bc_order_filter *f,
                   int64_t page, int64_t limit, json_t **out,
                   struct mlc_err *e);
/* A v2 pager over the filtered list (release with bc_pager_free). */
int bc_orders_pager(struct bc_client *c, const struct bc_order_filter *f,
                    int64_t limit, struct bc_pager *p, struct mlc_err *e);
/* GET /v2/orders/{id} (MLC_ENOTFOUND on 404). */
int bc_order_get(struct bc_client *c, int64_t id, json_t **out,
                 struct mlc_err *e);
/* Every product line of an order (all pages). */
int bc_order_products(struct bc_client *c, int64_t id, json_t **out,
                      struct mlc_err *e);
/* GET /v2/orders/count with the filter's ids, status and dates. */
int bc_orders_count(struct bc_client *c, const struct bc_order_filter *f,
                    int64_t *count, struct mlc_err *e);

/* One ranged list call: min_id..max_id with limit 250 covers n_ids of the
 * requested ids. */
struct bc_id_range {
    int64_t min_id, max_id;
    size_t  n_ids;
};

/* The fewest ranged calls that fetch every requested id: ids (any order,
 * duplicates ignored, each > 0) are split greedily into ranges no wider than
 * per_call ids (1..250), so that one page of per_call orders holds every
 * order of a range, whatever exists in between. *out: caller frees; NULL and
 * 0 for n == 0. Pure. */
int bc_coalesce_ids(const int64_t *ids, size_t n, int64_t per_call,
                    struct bc_id_range **out, size_t *n_out,
                    struct mlc_err *e);
/* The orders among ids that exist, in id order (*out: array, caller decrefs),
 * fetched with the coalesced calls; orders between the ids that were not
 * asked for are dropped. */
int bc_orders_by_ids(struct bc_client *c, const int64_t *ids, size_t n,
                     bool line_items, json_t **out, struct mlc_err *e);

/* ---- v3 transactions and refunds ---------------------------------------- */

/* Transactions of an order (*out: array, empty on 204). */
int bc_order_transactions(struct bc_client *c, int64_t order_id, json_t **out,
                          struct mlc_err *e);
/* Refunds of one order (all pages). */
int bc_order_refunds(struct bc_client *c, int64_t order_id, json_t **out,
                     struct mlc_err *e);

/* Refunds across orders; NULL / 0 fields are not sent. */
struct bc_refund_filter {
    const int64_t *order_ids;    /* order_id:in */
    size_t         n_order_ids;
    const char    *created_min;  /* created:min, RFC 3339 */
    const char    *created_max;
};
int bc_refunds_pager(struct bc_client *c, const struct bc_refund_filter *f,
                     int64_t limit, struct bc_pager *p, struct mlc_err *e);

/* ---- decoded orders (through bc_decode) --------------------------------- */

struct order;
struct order_refund;

/* One order, whole: GET /v2/orders/{id}, its products (all pages) and its
 * transactions, decoded into *out (release with order_clear). Three calls;
 * list pages with line items embedded are cheaper for many orders
 * (bc_orders_page + bcd_orders). */
int bc_order_load(struct bc_client *c, int64_t id, struct order *out,
                  struct mlc_err *e);
/* Fetches o's transactions and decodes them into o (have_txns). */
int bc_order_load_transactions(struct bc_client *c, struct order *o,
                               struct mlc_err *e);
/* Every refund of o, decoded (*out: order_refunds_free). */
int bc_order_load_refunds(struct bc_client *c, const struct order *o,
                          struct order_refund **out, size_t *n,
                          struct mlc_err *e);

/* ---- probe (mlc ping) --------------------------------------------------- */

enum bc_verdict {
    BC_PROBE_OK = 0,
    BC_PROBE_SKIPPED,       /* nothing to read (no order to ask about) */
    BC_PROBE_UNAUTHORIZED,  /* 401: token wrong or revoked */
    BC_PROBE_FORBIDDEN,     /* 403: the token lacks the scope */
    BC_PROBE_ERROR          /* anything else (message in msg) */
};

struct bc_probe_result {
    const char     *resource; /* "orders", "transactions", ... (static) */
    const char     *scope;    /* the token scope it needs (static) */
    enum bc_verdict verdict;
    int             status;   /* HTTP status, 0 without a response */
    char            msg[256];
};

#define BC_PROBE_MAX 8

/* One cheap read of every resource the flows use: store, orders,
 * transactions (of the newest order, skipped when there is none), refunds,
 * customers, products, variants, hooks. Fills out[0..*n) in that order and
 * returns MLC_OK when every verdict is OK or SKIPPED, else the code of the
 * first failure (e: a summary naming the failed resources). */
int bc_probe(struct bc_client *c, struct bc_probe_result out[BC_PROBE_MAX],
             size_t *n, struct mlc_err *e);
const char *bc_verdict_name(enum bc_verdict v);

#endif
