/*
 * aissim_int: state and helpers shared by the modules of the AIS simulator.
 * Not a public API: sim/main.c and tests use aissim.h and the HTTP surface.
 *
 * Locking: one coarse mutex (struct aissim.mu) guards everything below that
 * changes after start. Every endpoint function named aissim_ep_* and every
 * table/session/query helper expects the caller to hold it, unless it says
 * otherwise.
 */
#ifndef MLC_SIM_AIS_AISSIM_INT_H
#define MLC_SIM_AIS_AISSIM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "net/httpd.h"

/* ---- tables --------------------------------------------------------- */

/* Column kinds. Strings keep their JDE length; MCU columns are stored
 * right-justified to 12 like JDE stores business units. */
enum aissim_ctype {
    AISSIM_C_STR = 0,  /* string, len = max length */
    AISSIM_C_MCU,      /* business unit: string right-justified to 12 */
    AISSIM_C_NUM,      /* integer */
    AISSIM_C_DATE,     /* JDE Julian CYYDDD, 0 = blank; served "YYYYMMDD" */
    AISSIM_C_AMT       /* decimal stored as an integer, len = implied decimals */
};

struct aissim_col {
    const char       *alias;  /* data dictionary alias, e.g. "UPMJ" */
    enum aissim_ctype type;
    int               len;    /* max length (strings) or decimals (AMT) */
    const char       *title;  /* column title served in gridData.columns */
};

struct aissim_tdef {
    const char              *name;     /* "F0911" */
    const struct aissim_col *cols;
    size_t                   ncols;
    const char              *key;      /* '|'-separated key aliases for upserts */
    const char              *upd_time; /* "UPMT" or "TDAY" */
};

/* One cell: n for NUM, DATE and AMT columns, s (owned, never NULL) for
 * strings. */
struct aissim_cell {
    int64_t n;
    char   *s;
};

struct aissim_table {
    const struct aissim_tdef *def;
    struct aissim_cell      **rows;  /* rows[i] has def->ncols cells */
    size_t                    n, cap;
};

struct aissim_db;

int aissim_db_new(struct aissim_db **out, struct mlc_err *e);
void aissim_db_free(struct aissim_db *db);
/* The table by name ("F4101"), NULL when not simulated. */
struct aissim_table *aissim_db_table(struct aissim_db *db, const char *name);
/* Table names, for listings. */
size_t aissim_db_count(const struct aissim_db *db);
struct aissim_table *aissim_db_at(struct aissim_db *db, size_t i);

/* Column index of alias in d, accepting "UPMJ", "F4101.UPMJ" and
 * "F4101_UPMJ" (the table part must match); -1 when unknown. */
int aissim_col_find(const struct aissim_tdef *d, const char *name);

/* A new blank row (strings "", numbers 0); NULL on OOM. Free with
 * aissim_row_free. */
struct aissim_cell *aissim_row_new(const struct aissim_tdef *d);
void aissim_row_free(const struct aissim_tdef *d, struct aissim_cell *row);
/* Appends row (ownership moves to t, freed on failure too). */
int aissim_table_append(struct aissim_table *t, struct aissim_cell *row,
                        struct mlc_err *e);

/* Sets one cell from a C string: dates as YYYYMMDD (or "" / "0" blank),
 * numbers as decimal integers, amounts as plain decimals at the column's
 * scale (exact), strings up to the column length (MLC_ETOOBIG beyond). */
int aissim_cell_set_str(const struct aissim_col *c, struct aissim_cell *cell,
                        const char *v, struct mlc_err *e);
/* Sets one cell from JSON: a string as above, an integer for NUM and DATE
 * (a Julian value) columns. A DATE column also takes a date relative to
 * today (a Julian value, the simulated clock's JDE date): "today",
 * "today+30", "today-400" (days), so seeds and tests never expire; with
 * today 0 such a value is MLC_EINVAL. */
int aissim_cell_set_json(const struct aissim_col *c, struct aissim_cell *cell,
                         const json_t *v, int32_t today, struct mlc_err *e);
/* Applies every member of obj (keys are aliases, optionally prefixed) to
 * row; unknown columns are MLC_EINVAL. today: as aissim_cell_set_json. */
int aissim_row_set_json(const struct aissim_tdef *d, struct aissim_cell *row,
                        const json_t *obj, int32_t today, struct mlc_err *e);
/* "today", "today+N", "today-N" (N days) -> Julian date, from today's
 * Julian date. MLC_ENOTFOUND when s is not of that form (a plain date);
 * MLC_EINVAL when it is but cannot be resolved. */
int aissim_date_relative(const char *s, int32_t today, int32_t *out, struct mlc_err *e);
/* The cell as AIS serves it: "YYYYMMDD" (null when blank), a number, an
 * amount as an exact decimal number (see aissim_json_dec), or a string.
 * New reference; NULL on OOM. */
json_t *aissim_cell_json(const struct aissim_col *c,
                         const struct aissim_cell *cell);
/* The whole row keyed "<T>_<ALIAS>". New reference. */
json_t *aissim_row_json(const struct aissim_tdef *d,
                        const struct aissim_cell *row);
/* Right-justifies a business unit into out (13 bytes); MLC_ETOOBIG when the
 * trimmed value is longer than 12. */
int aissim_mcu_format(const char *in, char out[13], struct mlc_err *e);

/* Loads every table section of the seed ("tables": {"F0901": [rows]}). */
int aissim_db_load(struct aissim_db *db, const json_t *tables,
                   int32_t upmj, int32_t upmt, struct mlc_err *e);

/* ---- JSON output ------------------------------------------------------ */

/* A JSON value that serializes as the exact decimal number text dec
 * ("-105.00") without ever going through a double. Only aissim_dump
 * renders it. */
json_t *aissim_json_dec(const char *dec);
/* Serializes v compactly, rendering aissim_json_dec values; caller frees. */
char *aissim_dump(const json_t *v, size_t *len);

/* ---- simulator state --------------------------------------------------- */

struct aissim_user {
    char   *username;
    char   *password;
    char   *sdf;          /* simpleDateFormat, e.g. "MM/dd/yyyy" */
    char   *tz_offset;    /* "UTC+00:00" */
    json_t *environments; /* array of strings, empty = any */
    json_t *roles;        /* array of strings, empty = any */
    int64_t an8;
};

struct aissim_token {
    char   *token;
    size_t  user;         /* index into users */
    char   *device;       /* deviceName, or the client IP when none was sent */
    char   *environment;
    char   *role;
    int64_t created;      /* simulated unix seconds */
    int64_t last_used;
    bool    temporary;    /* stateless call (credentials, no token) */
};

struct aissim_rset {
    char     rid[33];     /* random hex id carried by the next link */
    char    *token;       /* owning token */
    char    *table;
    char    *ret_ids;     /* returnControlIDs of the first call ("" = all) */
    size_t  *idx;         /* matching rows (table rows are never deleted) */
    size_t   n_idx;
    int     *cols;        /* projected column indexes */
    size_t   n_cols;
    size_t   pos;         /* rows already served */
    size_t   page;        /* page size fixed by the first call */
    int      stack_id;
    int      state_id;
    int64_t  last_access; /* simulated unix seconds */
};

struct aissim_counter {
    char    *key;         /* "POST /jderest/v2/dataservice" */
    uint64_t n;
};

enum aissim_orch_kind {
    AISSIM_ORCH_JE = 0,
    AISSIM_ORCH_VOUCHER,
    AISSIM_ORCH_ADDCUST,
    AISSIM_ORCH_UPDCUST,
    AISSIM_ORCH_COUNT
};

enum aissim_nn {
    AISSIM_NN_JE = 0,     /* document numbers of journal entries */
    AISSIM_NN_PV,         /* document numbers of vouchers */
    AISSIM_NN_BATCH,      /* batch numbers (ICU) */
    AISSIM_NN_AN8,        /* address numbers */
    AISSIM_NN_COUNT
};

struct aissim_settings {
    int64_t session_timeout_s;   /* inactivity before a token dies */
    int64_t time_to_live_s;      /* absolute token lifetime */
    int64_t result_set_timeout_s;/* idle life of an open result set */
    int     invalid_token_status;/* 444 (AIS) or 403 */
    int     page_default;        /* maxPageSize when absent (100) */
    int     page_cap;            /* DB fetch limit (2000) */
    int     server_offset_min;   /* JDE server UTC offset for UPMJ/TODAY */
    int     threads;             /* MHD pool size */
    bool    strict_inputs;       /* refuse unknown orchestration inputs */
    bool    unique_alky;         /* refuse a duplicate LongAddressNumber */
    /* The optional validation mode (docs/orchestrations.md): "honour"
     * (the ValidateOnly input is listed and a "1" writes nothing), "none"
     * (not built: not listed, an unknown input), "ignore" (listed, but the
     * orchestration writes anyway: a broken build). */
    char    validate_mode[8];
    char    environment[32];     /* defaultEnvironment */
    char    role[32];            /* defaultRole */
    char    jas_server[128];     /* defaultJasServer */
    char    aisversion[64];
    char    orch_name[AISSIM_ORCH_COUNT][64];
    json_t *error_style;         /* {"default":"500","balance":"200",...} */
};

struct aissim_faults {
    int64_t latency_ms;          /* added before every /jderest/ call */
    int64_t orch_latency_ms;     /* added before every orchestration call too */
    int     error_pct;           /* share of /jderest/ calls answered 500 */
    int64_t fail_next;           /* the next N /jderest/ calls answer 500 */
    json_t *hang;                /* {"orchestration","count","hang_s","status"} or NULL */
    json_t *delay_commit;        /* {"orchestration","count","delay_s"} or NULL */
    json_t *orch_fail;           /* array of forced-failure rules */
};

struct aissim {
    pthread_mutex_t  mu;
    pthread_cond_t   cv;          /* wakes hung replies at shutdown */
    bool             stopping;
    struct httpd    *httpd;

    struct aissim_settings set;
    struct aissim_faults   faults;

    /* Simulated clock: real time + offset, or frozen at frozen_at. */
    int64_t clock_offset;
    bool    clock_frozen;
    int64_t clock_frozen_at;

    struct aissim_user  *users;
    size_t               n_users;
    struct aissim_token *tokens;
    size_t               n_tokens, cap_tokens;
    struct aissim_rset  *rsets;
    size_t               n_rsets, cap_rsets;
    int                  next_stack_id;
    struct aissim_counter *counters;
    size_t               n_counters, cap_counters;
    int64_t              inflight;      /* /jderest/ calls being served now */
    int64_t              inflight_peak; /* highest since the counters' reset */

    struct aissim_db    *db;
    int64_t              nn[AISSIM_NN_COUNT];
    uint64_t             rng;         /* xorshift state for fault draws */
    uint64_t             restarts;
};

/* ---- clock (aissim.c) ------------------------------------------------- */

int64_t aissim_now(const struct aissim *s);
/* JDE server wall clock now: Julian date and HHMMSS. */
void aissim_stamp(const struct aissim *s, int32_t *julian, int32_t *hhmmss);
/* AIS timeStamp text "2026-11-28:10.00.00" of the simulated now. */
void aissim_timestamp(const struct aissim *s, char *buf, size_t cap);

/* ---- settings, faults, counters (aissim.c) ----------------------------- */

/* Partial updates from JSON (control API and seed); MLC_EINVAL names the
 * bad member. The _json forms return a new reference. */
int aissim_clock_set(struct aissim *s, const json_t *o, struct mlc_err *e);
json_t *aissim_clock_json(const struct aissim *s);
int aissim_settings_apply(struct aissim *s, const json_t *o, struct mlc_err *e);
json_t *aissim_settings_json(const struct aissim *s);
int aissim_faults_apply(struct aissim *s, const json_t *o, struct mlc_err *e);
json_t *aissim_faults_json(const struct aissim *s);
/* Also restarts the in-flight peak from the calls being served now. */
void aissim_counters_clear(struct aissim *s);
/* {"inflight": N, "peak": M}: /jderest/ calls being served (new reference). */
json_t *aissim_load_json(const struct aissim *s);

/* ---- control API (aissim_ctl.c) ---------------------------------------- */

/* The httpd handler of every path under /__sim/; ctx is the aissim. Takes the
 * lock itself. */
void aissim_h_control(const struct httpd_request *rq, struct httpd_response *rs,
                      void *ctx);

/* ---- replies (aissim.c) ----------------------------------------------- */

/* Sends body (reference stolen) with status. */
void aissim_reply(struct httpd_response *rs, int status, json_t *body);
/* A ServiceErrorResponse body with message and exception. */
void aissim_reply_error(const struct aissim *s, struct httpd_response *rs,
                        int status, const char *message,
                        const char *exception);
/* The invalid-token answer (444 or 403 as set). */
void aissim_reply_bad_token(const struct aissim *s,
                            struct httpd_response *rs);
/* Parses the request body as a JSON object; on failure answers 400 and
 * returns NULL. An empty body gives an empty object. */
json_t *aissim_body_json(const struct aissim *s,
                         const struct httpd_request *rq,
                         struct httpd_response *rs);
/* Fills hex with 2*n random hex digits and a NUL (libsodium). */
void aissim_random_hex(char *hex, size_t n);

/* ---- sessions (aissim_session.c) --------------------------------------- */

int aissim_users_load(struct aissim *s, const json_t *users, struct mlc_err *e);
void aissim_users_free(struct aissim *s);
/* Control API: {"username", "password"} changes a seeded user's password
 * (the JDE administrator resets it); existing tokens stay valid. */
int aissim_user_set_password(struct aissim *s, const json_t *body, struct mlc_err *e);
/* Drops every token and every result set (an AIS restart). */
void aissim_sessions_clear(struct aissim *s);
/* Ends the temporary sessions of stateless calls (after each request). */
void aissim_sessions_end_temporary(struct aissim *s);
/* Resolves the caller's token (jde-AIS-Auth header, or "token" in body,
 * or the "token" query argument) and checks device binding, inactivity and
 * time to live; touches it when touch. A next-page link carries no device
 * name, so with link the device is checked only when the caller sends one.
 * Without a token, username/password in the body or Basic authorization
 * open a temporary session that ends with the request (AIS "stateless"
 * calls). NULL when invalid (an expired token is dropped). */
struct aissim_token *aissim_auth(struct aissim *s,
                                 const struct httpd_request *rq,
                                 const json_t *body, bool touch, bool link);
void aissim_ep_tokenrequest(struct aissim *s, const struct httpd_request *rq,
                            struct httpd_response *rs);
void aissim_ep_validate(struct aissim *s, const struct httpd_request *rq,
                        struct httpd_response *rs);
void aissim_ep_logout(struct aissim *s, const struct httpd_request *rq,
                      struct httpd_response *rs);
void aissim_ep_defaultconfig(struct aissim *s, const struct httpd_request *rq,
                             struct httpd_response *rs);

/* ---- data service (aissim_query.c) ------------------------------------- */

void aissim_ep_dataservice(struct aissim *s, const struct httpd_request *rq,
                           struct httpd_response *rs, bool v2);
void aissim_ep_next(struct aissim *s, const struct httpd_request *rq,
                    struct httpd_response *rs);
/* Drops result sets of token (NULL = all). */
void aissim_rsets_drop(struct aissim *s, const char *token);

/* ---- orchestrations (aissim_orch.c) ------------------------------------ */

/* What the request handler does after a committed orchestration (the
 * "hang" fault): withhold the reply hang_ms, then drop the connection
 * without a byte, or (status != 0) replace the reply with that status and
 * a gateway's JSON body, as a proxy in front of AIS answers. */
struct aissim_after {
    int64_t hang_ms;
    int     status;     /* 0: drop; 502, 503, 504: a gateway's answer */
};

/* Runs orchestration name (version 1, 2 or 3); after (zeroed by the
 * caller) says what to do with the reply of a committed call. */
void aissim_ep_orchestrate(struct aissim *s, const struct httpd_request *rq,
                           struct httpd_response *rs, const char *name,
                           int version, struct aissim_after *after);

/* The "delay_commit" fault for orchestration name: the milliseconds to
 * wait before running it (0: none); counts the use. Lock held. */
int64_t aissim_delay_commit_take(struct aissim *s, const char *name);
void aissim_ep_discover(struct aissim *s, const struct httpd_request *rq,
                        struct httpd_response *rs, const char *name);
/* Kind of the configured orchestration name, -1 when unknown. */
int aissim_orch_kind(const struct aissim *s, const char *name);

#endif
