/*
 * ais_orch: orchestration calls (POST /jderest/v3/orchestrator/{name}) in
 * the "JDE Standard" input format, and orchestration discovery.
 *
 * An input set is built with the small builder below: header inputs, and
 * rows of named grids (detailInputs[].repeatingInputs[].inputs[]). Every
 * value is sent as a string. Names are the contract's (posting rules §1);
 * cfg_jde.inputs renames them (inputs, grids and outputs alike) to the
 * customer's names. Dates are kept as calendar days and written in the
 * login's simpleDateFormat when the call is made; amounts are written as
 * plain decimals at the given exponent ("-105.00").
 *
 * Outcome of ais_orch_call:
 *   MLC_OK        HTTP 200 without any error in the body; res->out holds
 *                 the outputs (DocumentNumber, BatchNumber, AddressNumber).
 *   MLC_EPROTO    with res->rejected: JDE refused the call (HTTP 200 with
 *                 jde__status "ERROR" or a non-empty error list, HTTP 500
 *                 with AIS's ServiceErrorResponse, or a 4xx other than 408,
 *                 429 and 444); e holds JDE's message.
 *   MLC_ENOTFOUND the orchestration does not exist (HTTP 404).
 *   MLC_EAUTH     with res->reauth: the token was refused, the session
 *                 logged in again and the call was NOT sent again: run the
 *                 idempotency check (ais_data.h) before calling again.
 *                 Without reauth: the login itself failed.
 *   MLC_ETIMEOUT / MLC_EIO with res->outcome_unknown: the request was sent
 *                 and no answer came; the write may have committed. Never
 *                 repeat it before the existence lookup says it is absent
 *                 (posting rules §3: and only once the create can no longer land).
 *                 Answers that prove nothing about the write are reported
 *                 the same way (MLC_EIO, outcome_unknown): every 502, 503
 *                 and 504 whatever its body (a gateway or load balancer in
 *                 front of AIS answers them while the orchestration may
 *                 commit), a 500 without AIS's error body, a 408 and a 429.
 * A rejection from a multi-step orchestration can in principle follow a
 * committed step: the orchestrations of the contract are single writes.
 */
#ifndef MLC_JDE_AIS_ORCH_H
#define MLC_JDE_AIS_ORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "core/jdate.h"

struct ais_session;
struct ais_orch_in;

enum ais_orch_kind {
    AIS_ORCH_JOURNAL = 0,     /* cfg orch.add_journal_entry */
    AIS_ORCH_VOUCHER,         /* orch.add_voucher */
    AIS_ORCH_ADD_CUSTOMER,    /* orch.add_customer */
    AIS_ORCH_UPDATE_CUSTOMER  /* orch.update_customer */
};

/* The configured name of an orchestration (falls back to the contract's
 * default name when the configuration has none). */
const char *ais_orch_name(const struct ais_session *s, enum ais_orch_kind k);

/* ---- inputs ---------------------------------------------------------------- */

/* New empty input set (*out; caller frees with ais_orch_in_free). */
int ais_orch_in_new(struct ais_orch_in **out, struct mlc_err *e);
void ais_orch_in_free(struct ais_orch_in *in);

/* Header inputs (inputs[]). Values are copied. */
int ais_orch_in_str(struct ais_orch_in *in, const char *name, const char *value,
                    struct mlc_err *e);
int ais_orch_in_i64(struct ais_orch_in *in, const char *name, int64_t v,
                    struct mlc_err *e);
int ais_orch_in_date(struct ais_orch_in *in, const char *name, const struct jdate_civil *d,
                     struct mlc_err *e);
/* minor units at exponent places: (-10500, 2) -> "-105.00". */
int ais_orch_in_amount(struct ais_orch_in *in, const char *name, int64_t minor,
                       int exponent, struct mlc_err *e);

/* Starts a new row of grid ("Lines"); the ais_orch_row_* setters then fill
 * the latest row. */
int ais_orch_in_row(struct ais_orch_in *in, const char *grid, struct mlc_err *e);
int ais_orch_row_str(struct ais_orch_in *in, const char *name, const char *value,
                     struct mlc_err *e);
int ais_orch_row_amount(struct ais_orch_in *in, const char *name, int64_t minor,
                        int exponent, struct mlc_err *e);

/* The customer's name (jde.inputs) for a contract name of an input, a grid
 * or an output; name itself when not renamed. Borrowed from cfg or name. */
const char *ais_orch_rename(const struct cfg_jde *cfg, const char *name);
/* The request body for simpleDateFormat sdf with the renames of cfg
 * (may be NULL). *out: caller decrefs. */
int ais_orch_in_json(const struct ais_orch_in *in, const struct cfg_jde *cfg,
                     const char *sdf, json_t **out, struct mlc_err *e);

/* ---- calls --------------------------------------------------------------------- */

struct ais_orch_result {
    int     status;           /* HTTP status, 0 when none */
    json_t *out;              /* the answer body (outputs), NULL when none */
    bool    rejected;         /* JDE answered and refused */
    bool    outcome_unknown;  /* sent, no answer: may have committed */
    bool    reauth;           /* token refused, not sent again */
    bool    not_sent;         /* MLC_ETIMEOUT: its send_by had passed, nothing sent */
    const struct cfg_jde *cfg; /* renames for the accessors (borrowed) */
};

/* Runs orchestration name with in. res: zeroed by the caller; release with
 * ais_orch_result_clear. */
int ais_orch_call(struct ais_session *s, const char *name, const struct ais_orch_in *in,
                  struct ais_orch_result *res, struct mlc_err *e);
/* The same, not sent after send_by_ms (CLOCK_MONOTONIC ms; 0: no limit):
 * then MLC_ETIMEOUT with res->not_sent, and nothing left. */
int ais_orch_call_by(struct ais_session *s, const char *name, const struct ais_orch_in *in,
                     int64_t send_by_ms, struct ais_orch_result *res, struct mlc_err *e);
void ais_orch_result_clear(struct ais_orch_result *res);

/* The verdict ais_orch_call gives on an answer already in res (status, out):
 * MLC_OK, or an error with rejected / outcome_unknown set. Apart from the
 * transport so that fuzz/fuzz_ais.c reaches it without a server. */
int ais_orch_judge(const char *name, struct ais_orch_result *res, struct mlc_err *e);

/* An output by its contract name, as text (numbers are formatted) or as an
 * integer. MLC_ENOTFOUND when absent. */
int ais_orch_out_str(const struct ais_orch_result *res, const char *name, char *buf,
                     size_t cap, struct mlc_err *e);
int ais_orch_out_i64(const struct ais_orch_result *res, const char *name, int64_t *out,
                     struct mlc_err *e);

/* GET /jderest/discover (name NULL: the list) or /jderest/discover/{name};
 * MLC_ENOTFOUND when name is not available to the user. *out: caller
 * decrefs. */
int ais_discover(struct ais_session *s, const char *name, json_t **out, struct mlc_err *e);

#endif
