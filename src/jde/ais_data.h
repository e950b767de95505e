/*
 * ais_data: AIS data service reads (POST /jderest/v2/dataservice, BROWSE),
 * a query builder, paging, typed row helpers and the lookups the flows use.
 *
 * A query names a table, the columns to return, conditions (combined by
 * the match type) and optionally a change watermark, which becomes a
 * complexQuery "DATE > d OR (DATE = d AND TIME >= t)" ANDed with the rest.
 * Date literals are written in the login's simpleDateFormat (as forms take
 * them); TODAY* special values let JDE's own date decide.
 *
 * ais_query_run posts the query with enableNextPageProcessing, follows
 * links[rel=next] until summary.moreRecords is false and hands every row to
 * a callback as a JSON object keyed "<TABLE>_<ALIAS>" ("F0901_MCU"). The
 * next link is re-based onto the configured AIS base URL (the token it
 * carries is never sent to another host) and never logged unredacted.
 *
 * Re-runs: when the result set expired (HTTP 500 JAS_MSG347), the token was
 * refused in the middle of paging, or a next page got no answer, the query
 * is run again from the start, at most max_reruns times. With key columns
 * set (ais_query_key), rows already delivered are skipped on a re-run;
 * without them a re-run delivers the first rows again and the callback must
 * be idempotent.
 *
 * Amounts come back decimal-shifted as JSON numbers; ais_row_amount reads
 * them exactly as their shortest decimal text (see jx_money_value).
 */
#ifndef MLC_JDE_AIS_DATA_H
#define MLC_JDE_AIS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"
#include "core/money.h"

struct ais_session;
struct ais_query;

enum ais_op {
    AIS_OP_EQUAL = 0, AIS_OP_NOT_EQUAL, AIS_OP_LESS, AIS_OP_LESS_EQUAL, AIS_OP_GREATER,
    AIS_OP_GREATER_EQUAL, AIS_OP_BETWEEN, AIS_OP_LIST, AIS_OP_STR_START_WITH,
    AIS_OP_STR_END_WITH, AIS_OP_STR_CONTAIN, AIS_OP_STR_BLANK, AIS_OP_STR_NOT_BLANK
};

enum ais_special {
    AIS_SV_LITERAL = 0, AIS_SV_LOGIN_USER, AIS_SV_TODAY,
    AIS_SV_TODAY_PLUS_DAY, AIS_SV_TODAY_MINUS_DAY,
    AIS_SV_TODAY_PLUS_MONTH, AIS_SV_TODAY_MINUS_MONTH,
    AIS_SV_TODAY_PLUS_YEAR, AIS_SV_TODAY_MINUS_YEAR
};

/* One condition value. LITERAL: text, or date when text is NULL (written
 * in the login's simpleDateFormat). TODAY_PLUS/MINUS_*: text is the count
 * ("5"). Borrowed by ais_query_where (copied). */
struct ais_value {
    enum ais_special   special;
    const char        *text;
    struct jdate_civil date;
};

#define AIS_LIT(s)  ((struct ais_value){ .special = AIS_SV_LITERAL, .text = (s) })
#define AIS_DATE(d) ((struct ais_value){ .special = AIS_SV_LITERAL, .text = NULL, .date = (d) })

#define AIS_PAGE_DEFAULT 500u
#define AIS_RERUNS_DEFAULT 3u

/* New query on table ("F0901"); caller frees with ais_query_free. */
int ais_query_new(const char *table, struct ais_query **out, struct mlc_err *e);
void ais_query_free(struct ais_query *q);

/* Columns returned, '|'-separated, as aliases ("MCU|OBJ") or control ids
 * ("F0901.MCU|F0901.OBJ"). Not set: every column. */
int ais_query_columns(struct ais_query *q, const char *cols, struct mlc_err *e);
/* Adds a condition on col ("MCU" or "F0901.MCU"). Value counts: none for
 * STR_BLANK / STR_NOT_BLANK, 2 for BETWEEN, 1..1000 for LIST, else 1. */
int ais_query_where(struct ais_query *q, const char *col, enum ais_op op,
                    const struct ais_value *vals, size_t n, struct mlc_err *e);
/* col EQUAL literal. */
int ais_query_eq(struct ais_query *q, const char *col, const char *literal,
                 struct mlc_err *e);
/* Rows changed at or after w: date_col > w.julian OR (date_col = w.julian
 * AND time_col >= w.hhmmss). Inclusive: dedupe by key. A blank watermark
 * (julian 0) selects everything. */
int ais_query_watermark(struct ais_query *q, const char *date_col, const char *time_col,
                        const struct jdate_stamp *w, struct mlc_err *e);
/* Sort (aggregation.orderBy), up to 8 columns. */
int ais_query_order(struct ais_query *q, const char *col, bool desc, struct mlc_err *e);
/* maxPageSize (0: AIS_PAGE_DEFAULT). */
void ais_query_page_size(struct ais_query *q, unsigned n);
/* Columns that identify a row ("DOC|JELN"), used to skip rows already
 * delivered when the query is re-run. They must be among the returned
 * columns. */
int ais_query_key(struct ais_query *q, const char *cols, struct mlc_err *e);
/* Re-runs allowed (0: none); default AIS_RERUNS_DEFAULT. */
void ais_query_max_reruns(struct ais_query *q, unsigned n);

/* The request body for the login's simpleDateFormat sdf (for tests and
 * diagnostics). *out: caller decrefs. */
int ais_query_json(const struct ais_query *q, const char *sdf, json_t **out,
                   struct mlc_err *e);

/* Called for every row (borrowed, valid during the call). A non-zero
 * return stops the run and is returned by ais_query_run. */
typedef int (*ais_row_fn)(void *ctx, const json_t *row, struct mlc_err *e);

struct ais_query_stats {
    size_t rows;        /* rows handed to the callback */
    size_t pages;       /* pages fetched */
    size_t reruns;      /* query re-runs */
    size_t duplicates;  /* rows skipped on re-runs */
};

/* Runs q. st may be NULL. */
int ais_query_run(struct ais_session *s, const struct ais_query *q, ais_row_fn fn,
                  void *ctx, struct ais_query_stats *st, struct mlc_err *e);

/* The page decoding of ais_query_run apart from the transport, so that
 * fuzz/fuzz_ais.c reaches it without a server: each answer (HTTP status and
 * parsed body) of query q delivers its new rows to fn (rows seen before, by
 * q's key columns, are skipped across pages); *more says whether a next page
 * exists, *next then holds its path (caller frees). Errors as
 * ais_query_run's. */
struct ais_pager;
int ais_pager_new(const struct ais_query *q, ais_row_fn fn, void *ctx,
                  struct ais_pager **out, struct mlc_err *e);
int ais_pager_page(struct ais_pager *p, int status, json_t *body, char **next, bool *more,
                   struct mlc_err *e);
void ais_pager_free(struct ais_pager *p); /* NULL-safe */

/* ---- row helpers --------------------------------------------------------------
 * col is "F0901_MCU" or "F0901.MCU". A missing column is MLC_ENOTFOUND. */

/* String with leading and trailing blanks trimmed (JDE pads CHAR columns
 * and right-justifies business units); JSON null gives "", a number its
 * decimal text. MLC_ETOOBIG when cap is too small. */
int ais_row_str(const json_t *row, const char *col, char *buf, size_t cap,
                struct mlc_err *e);
/* Integer (a JSON integer or a string of digits). */
int ais_row_i64(const json_t *row, const char *col, int64_t *out, struct mlc_err *e);
/* A "YYYYMMDD" date column as Julian / civil; null or blank gives
 * JDATE_BLANK (positive) and 0 / {0,0,0}. */
int ais_row_julian(const json_t *row, const char *col, int32_t *out, struct mlc_err *e);
int ais_row_civil(const json_t *row, const char *col, struct jdate_civil *out,
                  struct mlc_err *e);
/* A decimal-shifted amount as minor units at scale, rounded with mode. */
int ais_row_amount(const json_t *row, const char *col, int scale, enum money_round mode,
                   int64_t *out, struct mlc_err *e);

/* ---- lookups (posting rules §2; the existence checks are the idempotency checks
 * of posting rules §3) -------------------------------------------------------------- */

struct ais_account {
    bool exists;
    bool postable;      /* F0901 PEC blank */
    char aid[9];        /* account ID */
    char co[6];
    char pec[2];
    char desc[31];
};

/* F0901 by MCU (right-justified to 12 as JDE stores it), OBJ and SUB
 * (blank when sub is NULL or ""). out->exists false when not found. */
int ais_account_lookup(struct ais_session *s, const char *bu, const char *obj,
                       const char *sub, struct ais_account *out, struct mlc_err *e);
/* F0006 by MCU. */
int ais_bu_exists(struct ais_session *s, const char *bu, bool *exists, struct mlc_err *e);

/* The same for many at once: one F0901 query per AIS_ACCOUNTS_CHUNK
 * accounts (their MCUs and OBJs in LIST conditions, the exact matches kept)
 * and one F0006 query per AIS_EXISTS_CHUNK business units, instead of one
 * query each. out[i] / exists[i] (n entries, overwritten) answer for
 * accts[i] / bus[i]; duplicates are allowed. Business units are compared
 * as the configuration writes them (no blanks). On error the outputs are
 * left zeroed. */
#define AIS_ACCOUNTS_CHUNK 100
int ais_account_lookup_many(struct ais_session *s, const struct cfg_account *accts, size_t n,
                            struct ais_account *out, struct mlc_err *e);
int ais_bu_exists_many(struct ais_session *s, const char *const *bus, size_t n, bool *exists,
                       struct mlc_err *e);

#define AIS_DOCS_MAX 16

/* Documents found by an idempotency lookup (distinct, in the order seen). */
struct ais_docs {
    size_t  n;
    bool    truncated;          /* more than AIS_DOCS_MAX distinct documents */
    int64_t doc[AIS_DOCS_MAX];
    char    dct[AIS_DOCS_MAX][3];
    char    kco[AIS_DOCS_MAX][6];
};

/* F0911 by GLKCO, GLDCT and GLVINV = reference (dct NULL: any type). */
int ais_journal_exists(struct ais_session *s, const char *company, const char *dct,
                       const char *reference, struct ais_docs *out, struct mlc_err *e);
/* F0411 by RPKCO and RPVINV = invoice. */
int ais_voucher_exists(struct ais_session *s, const char *company, const char *invoice,
                       struct ais_docs *out, struct mlc_err *e);
/* The same lookups for many references at once: one query per
 * AIS_EXISTS_CHUNK references (VINV in a LIST condition) instead of one per
 * reference. out[i] (n entries, overwritten) receives the documents that
 * carry refs[i]; an empty out[i] means JDE has none. Every reference must
 * be non-blank. On error out is left zeroed. */
#define AIS_EXISTS_CHUNK 500
int ais_journal_exists_many(struct ais_session *s, const char *company, const char *dct,
                            const char *const *refs, size_t n, struct ais_docs *out,
                            struct mlc_err *e);
int ais_voucher_exists_many(struct ais_session *s, const char *company,
                            const char *const *refs, size_t n, struct ais_docs *out,
                            struct mlc_err *e);
/* F0101 by ABALKY = alky; *an8 = 0 when not found. */
int ais_customer_exists(struct ais_session *s, const char *alky, bool *found, int64_t *an8,
                        struct mlc_err *e);

#endif
