/*
 * bcsim internals shared by the simulator's modules (not for other code).
 *
 * Locking: one coarse mutex, s->mu, guards the store model, the clock, the
 * counters, the rate limiter and the fault settings. Every API and control
 * handler runs with it held; the webhook thread takes it only to look up or
 * deactivate a hook. s->rec_mu guards the recording file alone, and the
 * delivery queue has its own lock (bcsim_hooks.h); the order is always
 * mu -> queue lock, and nothing takes mu while holding another lock.
 */
#ifndef MLC_SIM_BCSIM_INT_H
#define MLC_SIM_BCSIM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bc/bcsim.h"
#include "bc/bcsim_data.h"
#include "bc/bcsim_hooks.h"
#include "bc/bcsim_rate.h"
#include "core/err.h"
#include "net/httpd.h"

/* The "type" member of v3 error bodies. */
#define BCSIM_ERR_TYPE "/api-docs/getting-started/api-status-codes"

/* Simulated clock: real time shifted by a set offset, or frozen. */
struct bcsim_clock {
    int64_t base_ms;  /* simulated time at mono_ms */
    int64_t mono_ms;  /* CLOCK_MONOTONIC when base_ms was set */
    bool    frozen;
};

/* Fault injection. Rates are probabilities (0..1); *_next counts force the
 * fault on the next N eligible events first (deterministic for tests). */
struct bcsim_faults {
    int64_t latency_ms;
    double  error_rate;
    int64_t error_next;
    int     error_status;        /* 500 by default */
    char    error_path[128];     /* with error_path_next: only this path */
    int64_t error_path_next;     /* (after /stores/{hash}, no query) fails */
    double  throttle_rate;       /* 429 without rate-limit headers */
    int64_t throttle_next;
    double  webhook_drop_rate;
    int64_t webhook_drop_next;
    double  webhook_duplicate_rate;
    int64_t webhook_duplicate_next;
};

struct bcsim_settings {
    char    store_hash[64];
    char    store_id[32];
    char   *access_token;     /* accepted X-Auth-Token */
    char   *client_id;        /* reported on hooks */
    char   *client_secret;    /* webhook signature key (raw bytes) */
    int64_t rate_quota;       /* requests per window; 0 = unlimited */
    int64_t rate_window_ms;
    double  retry_scale;      /* webhook retry delays are multiplied by it */
    int64_t webhook_timeout_ms;
    json_t *store_info;       /* GET /v2/store body */
};

struct bcsim {
    pthread_mutex_t       mu;
    struct httpd         *httpd;
    struct bcsim_settings set;
    struct bcsim_clock    clock;
    struct bcsim_faults   faults;
    struct bcsim_rate     rate;
    struct bcsim_data     data;
    uint64_t             *counters;   /* one per API route, + 1 unmatched */
    struct bcsim_hookq    hooks;
    pthread_mutex_t       rec_mu;
    FILE                 *record;     /* JSONL recording, NULL when off */
};

/* One API request after routing. */
struct bcsim_req {
    const struct httpd_request *hr;
    const char *method;
    const char *path;      /* after /stores/{hash}: "/v2/orders/105" */
    int         version;   /* 2 or 3 */
    int64_t     id[3];     /* numeric path parameters, in order */
    size_t      n_id;
    json_t     *body;      /* parsed request body; NULL when empty */
};

/* What a handler answers: status and an owned body (NULL = no body). */
struct bcsim_out {
    int     status;
    json_t *body;
};

typedef void (*bcsim_fn)(struct bcsim *s, const struct bcsim_req *rq,
                         struct bcsim_out *out);

/* ---- helpers (bcsim.c) -------------------------------------------------- */

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t bcsim_mono_ms(void);
/* Simulated time (s->mu held). */
int64_t bcsim_now(struct bcsim *s);
int64_t bcsim_now_ms(struct bcsim *s);

/* Sets status and body (stolen; NULL = empty). */
void bcsim_out_set(struct bcsim_out *o, int status, json_t *body);
/* An error in the shape of rq's API version: v2 [{"status","message"}],
 * v3 {"status","title","type"}. */
void bcsim_out_err(const struct bcsim_req *rq, struct bcsim_out *o, int status,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A v3 error with a detail object ("errors", stolen; may be NULL). */
void bcsim_out_err3(struct bcsim_out *o, int status, const char *title,
                    json_t *errors);

const char *bcsim_q(const struct bcsim_req *rq, const char *name);
/* Integer query argument in [min, max]; def when absent. MLC_EINVAL (and
 * a 400/422 already written to o) when malformed or out of range. */
int bcsim_q_i64(const struct bcsim_req *rq, struct bcsim_out *o,
                const char *name, int64_t def, int64_t min, int64_t max,
                int64_t *out);
/* Time query argument (RFC 2822, ISO 8601, a date, or Unix seconds);
 * *present false when absent. MLC_EINVAL with an error written otherwise. */
int bcsim_q_time(const struct bcsim_req *rq, struct bcsim_out *o,
                 const char *name, bool *present, int64_t *out);
/* A comma-separated list of integers is well formed (or NULL). */
bool bcsim_csv_ints_ok(const char *csv);
bool bcsim_csv_has_i64(const char *csv, int64_t v);
/* Case-sensitive membership of item in a comma-separated list. */
bool bcsim_csv_has(const char *csv, const char *item);
/* The same, ignoring ASCII case (e-mail addresses). */
bool bcsim_csv_has_ci(const char *csv, const char *item);

/* page/limit with v3 defaults; false when an error was written to o. */
bool bcsim_paging(const struct bcsim_req *rq, struct bcsim_out *o,
                  int64_t def_limit, int64_t max_limit, int64_t *page,
                  int64_t *limit);
/* {"pagination":{total,count,per_page,current_page,total_pages,links}}. */
json_t *bcsim_meta_pagination(const struct bcsim_req *rq, int64_t total,
                              int64_t count, int64_t per_page, int64_t page);

/* Representations. */
json_t *bcsim_j_v2money(int64_t v4);                /* "336.3200" */
json_t *bcsim_j_number(int64_t v4, int exponent);   /* 336.32 (JSON number) */
json_t *bcsim_j_rfc2822(int64_t t);
json_t *bcsim_j_iso(int64_t t);
/* Money in a JSON string/integer/real at scale 4, exactly. */
int bcsim_money_in(const json_t *v, int64_t *v4, struct mlc_err *e);

/* Appends one record to the recording, if on (any thread). Steals rec. */
void bcsim_record(struct bcsim *s, json_t *rec);

/* Draws a fault: the *next counter first, then the rate. s->mu held. */
bool bcsim_fault_draw(int64_t *next, double rate);

#endif
