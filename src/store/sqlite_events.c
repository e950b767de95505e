/*
 * sqlite_events: inbound events, deduplicated by key; a new event enqueues
 * its job in the same transaction.
 */
#include "store/sqlite_int.h"

static int event_insert(struct sq_store *s, const struct store_event *ev,
                        bool *inserted, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_EVENT_INSERT, "event ingest", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":source", ev->source);
    sq_q_text(&q, ":dedupe_key", ev->dedupe_key);
    sq_q_text(&q, ":kind", ev->kind);
    sq_q_text(&q, ":resource", ev->resource);
    sq_q_text(&q, ":payload", ev->payload);
    sq_q_int(&q, ":now", sq_now(s));
    *inserted = sq_q_step(&q) == SQLITE_DONE && sq_q_changes(&q) > 0;
    return sq_q_end(&q, e);
}

int sq_event_ingest(struct store *st, const struct store_event *ev,
                    const char *job_kind, bool *inserted,
                    struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int64_t id;
    bool coalesced;
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = event_insert(s, ev, inserted, e);
    if (rc == MLC_OK && *inserted && job_kind != NULL)
        rc = sq_job_enqueue_tx(s, job_kind, ev->resource, NULL,
                               ev->job_run_at > 0 ? ev->job_run_at : sq_now(s), &id,
                               &coalesced, e);
    rc = sq_tx_leave(s, rc, e);
    if (rc != MLC_OK)
        *inserted = false;
    return rc;
}
