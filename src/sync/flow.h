/*
 * flow: what the sync flows (order_flow, customer_flow) share: the run
 * context and result of one job, the audit writer, the checkpoint call,
 * the hold reason, the padded JDE company and "<prefix><id>" job keys.
 * Stateless; safe from any thread on the caller's own flow_run.
 */
#ifndef MLC_SYNC_FLOW_H
#define MLC_SYNC_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "core/health.h"
#include "core/holdcode.h"
#include "store/store.h"
#include "sync/env.h"

enum flow_result {
    FLOW_DONE = 0, /* finished: everything due is posted (or nothing was due) */
    FLOW_RETRY,    /* try again later (transport, JDE outcome unknown, ...) */
    FLOW_HOLD,     /* needs an operator: e->msg is the reason */
    FLOW_PAUSE,    /* a system is down or refuses our credentials: wait for
                      it (flow_pause_system names it), no attempt used */
    FLOW_DEFER     /* not decidable yet (a create in doubt that may still land
                    * in JDE): again at the time put in r->defer_until */
};

/* Called before each long step; a non-zero return (lease lost, shutdown)
 * stops the run at that safe point with FLOW_RETRY. */
typedef int (*flow_checkpoint_fn)(void *ctx, struct mlc_err *e);

/* Why a run holds: the reason code, decided where the hold happens, and
 * the money that waits (an order's total in its currency). */
struct flow_hold_info {
    enum hold_code code;
    char           currency[8]; /* "": no amount known */
    int64_t        amount;      /* minor units */
};

struct flow_run {
    struct env              *env;
    struct store            *st;       /* ledger and audit (read only when dry) */
    const struct mlc_config *cfg;      /* posting rules (the job's current config) */
    const char              *actor;    /* audit actor: "worker:3", "cli" */
    bool                     dry_run;
    flow_checkpoint_fn       checkpoint; /* may be NULL */
    void                    *checkpoint_ctx;
    int64_t                  now;      /* Unix seconds; 0: the clock */
    /* The health watch of the calling thread during the run (core/health.h;
     * NULL: never FLOW_PAUSE): what the run's own calls found down. */
    const struct health_watch *watch;
    /* Out (may be NULL): for a FLOW_DEFER result, when to run again (Unix
     * ms, the store's clock); one entry per order of a batch (index as the
     * ids), else one. Left alone for other results. */
    int64_t                 *defer_until;
    /* Out (may be NULL): for a FLOW_HOLD result, its code and amount; one
     * entry per order of a batch (index as the ids), else one. */
    struct flow_hold_info   *hold;
};

/* Appends one audit row for entity as r's actor (detail is stolen; may be
 * NULL). Nothing in a dry run. A failed audit write is logged, not
 * returned: the ledger, not the audit, guards the money. */
void flow_audit(const struct flow_run *r, const char *entity, const char *action,
                const char *outcome, json_t *detail);

/* Calls r's checkpoint (none: MLC_OK). When it says stop: e's code if
 * negative, else MLC_ESTATE. */
int flow_run_checkpoint(const struct flow_run *r, struct mlc_err *e);

/* The flows' internal "the run holds" result (positive, never an MLC_E*
 * code): returned by flow_hold, mapped to FLOW_HOLD at the end of a run. */
#define FLOW_HELD 1

/* The flows' internal "not decidable yet" result (positive, like
 * FLOW_HELD; distinct from the engine's POST_EMPTY 2 and the order flow's
 * FX_SKIPPED 3): a create whose outcome is unknown must be looked up in JDE
 * before anything is sent again, and "absent" counts only after its settle
 * time. Mapped to FLOW_DEFER; the run says when (r->defer_until). */
#define FLOW_DEFERRED 4

/*
 * The result of a run that stopped with rc (MLC_OK, FLOW_HELD,
 * FLOW_DEFERRED or a negative code). A negative code of the kind a system
 * outage gives (MLC_EAUTH, MLC_EIO, MLC_ETIMEOUT, MLC_EBUSY, MLC_EPROTO) is
 * FLOW_PAUSE when the run's own calls reported that a system is down or
 * refuses our credentials (r->watch saw "jde.*" or "bigcommerce.*"); any
 * other failure retries. A JDE refusal of a document is a hold (FLOW_HELD)
 * before it gets here, and a create in doubt FLOW_DEFER: neither pauses.
 */
enum flow_result flow_result_of(const struct flow_run *r, int rc);
/* The system a paused run waits for, a static string ("jde",
 * "bigcommerce"), or NULL when the run's calls reported none. */
const char *flow_pause_system(const struct flow_run *r);
/* "done", "retry", "hold", "pause", "wait". */
const char *flow_result_name(enum flow_result res);

/* Sets e to the hold reason (MLC_ESTATE), *code_out (may be NULL) to code,
 * and returns FLOW_HELD. The text is formatted into a buffer of its own
 * first: the arguments may point into e->msg itself. */
__attribute__((format(printf, 4, 5)))
int flow_hold(struct mlc_err *e, enum hold_code *code_out, enum hold_code code,
              const char *fmt, ...);

/* After a create's answer was lost, how soon JDE is asked whether it
 * landed (a lost reply after a commit is adopted then). */
#define FLOW_RECHECK_MS 2000

/* A create is sent within this long of its ledger row's begin, or not at
 * all (ais_request.send_by): so a row's created_at bounds when its create
 * can have left, whatever stalls the sender (a login, a frozen process). */
#define FLOW_SEND_WINDOW_MS 5000
/* The CLOCK_MONOTONIC time after which a create whose ledger row is begun
 * now must not be sent (FLOW_SEND_WINDOW_MS): take it before the begin. */
int64_t flow_send_by(void);
/* When a lookup that does not find the create begun at sent_ms counts as
 * "absent": the send window and the settle time (cfg_settle_ms) after it. */
int64_t flow_settle_deadline(const struct flow_run *r, int64_t sent_ms);

/* Contract §3's settle rule for a create sent at sent_ms (the store's
 * clock) that a lookup asked at asked_ms (the store's clock, when the query
 * was sent) did not find: AIS keeps running an orchestration after its
 * caller gave up, so "absent" counts only when the lookup was asked once
 * cfg_settle_ms had passed since the send. An answer asked earlier proves
 * nothing, however late it is used. MLC_OK when it counts; else
 * FLOW_DEFERRED with *until (when to look again) and e saying so. */
int flow_settle(const struct flow_run *r, const char *key, int64_t sent_ms, int64_t asked_ms,
                int64_t *until, struct mlc_err *e);

/* KCO as JDE stores it: a company of 1 to 5 digits zero-padded to 5;
 * anything else copied as is (cut to 5). co may be NULL (""). */
void flow_kco_pad(const char *co, char out[6]);

/* "<prefix><id>" -> id, for a job key such as "order:105" (prefix
 * "order:"); MLC_EINVAL, *id = 0, unless the rest is a positive decimal
 * number. */
int flow_key_parse(const char *key, const char *prefix, int64_t *id, struct mlc_err *e);

#endif
