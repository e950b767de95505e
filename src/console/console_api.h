/*
 * console_api: the JSON documents of the web console's pages, read from the
 * state store. Pure readers: nothing here writes (replay and dismiss are
 * sync/heldops, called by console.c after its checks).
 *
 * Money is carried as integer minor units and as the decimal text made
 * from them (core/money), never as a floating-point number. Times are Unix
 * milliseconds (the browser shows them in the server's time zone, which
 * the documents name). Every function returns a new reference in *out
 * (caller decrefs) or fails with e set; st is used by one thread at a time.
 */
#ifndef MLC_CONSOLE_CONSOLE_API_H
#define MLC_CONSOLE_CONSOLE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

/* What the daemon knows of the present that the store does not. */
struct capi_runtime {
    int64_t     now_ms;
    const char *timezone;     /* posting.timezone, an IANA name */
    int         tz_offset_min;/* its UTC offset now */
    int64_t     quota_left;   /* BigCommerce requests left in the window; -1 unknown */
    int64_t     quota_limit;  /* the window's size; -1 unknown */
    int         ais_up;       /* 1 up, 0 down, -1 unknown (flows not running) */
    json_t     *conditions;   /* borrowed: [{condition, reason, since_ms}] or NULL */
};

/* The overview: jobs by state with the oldest of each, held items grouped
 * by reason code, today's posted documents (in the time zone) with their
 * totals per currency, the latest reconciliation, the runtime above and
 * the last success of each flow. Walks the whole ledger once. */
int capi_overview(struct store *st, const struct capi_runtime *rt, json_t **out,
                  struct mlc_err *e);

/* Every held or failed item (dismissed ones flagged) and the groups by
 * reason code with their sums and the setting that fixes each. */
int capi_held(struct store *st, json_t **out, struct mlc_err *e);

/* Which resource key a search names: an order id ("105"), a resource key
 * ("order:105") or a document key ("BC105S", "BC105R3" under prefix).
 * MLC_EINVAL when q is none of these. */
int capi_order_key(const char *q, const char *prefix, char *key, size_t cap,
                   struct mlc_err *e);
/* One resource: its audit trail (oldest first), its ledger rows (the JDE
 * documents, with the lines sent) and its jobs not done. */
int capi_order(struct store *st, const char *key, json_t **out, struct mlc_err *e);

/* The latest stored reconciliation of day ("YYYY-MM-DD"; NULL: of the
 * latest day) as stored; MLC_ENOTFOUND when there is none, MLC_EINVAL on a
 * malformed day. */
int capi_report(struct store *st, const char *day, json_t **out, struct mlc_err *e);
/* The same report as CSV, byte for byte what `mlc report show --format
 * csv` prints. *out: caller frees. */
int capi_report_csv(struct store *st, const char *day, char **out, size_t *len,
                    struct mlc_err *e);

#endif
