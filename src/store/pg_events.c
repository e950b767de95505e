/*
 * pg_events: inbound events, deduplicated by key; a new event enqueues its
 * job in the same transaction.
 */
#include "store/pg_int.h"

static int event_insert(struct pg_store *s, const struct store_event *ev,
                        bool *inserted, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_EVENT_INSERT, "event ingest");
    pg_q_text(&q, ev->source);
    pg_q_text(&q, ev->dedupe_key);
    pg_q_text(&q, ev->kind);
    pg_q_text(&q, ev->resource);
    pg_q_text(&q, ev->payload);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    *inserted = rc == MLC_OK && q.rows > 0;
    pg_q_end(&q);
    return rc;
}

int pg_event_ingest(struct store *st, const struct store_event *ev,
                    const char *job_kind, bool *inserted, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int64_t id;
    bool coalesced;
    int rc = pg_tx_enter(s, e);

    *inserted = false;
    if (rc != MLC_OK)
        return rc;
    rc = event_insert(s, ev, inserted, e);
    if (rc == MLC_OK && *inserted && job_kind != NULL)
        rc = pg_job_enqueue_tx(s, job_kind, ev->resource, NULL,
                               ev->job_run_at > 0 ? ev->job_run_at : pg_now(s),
                               &id, &coalesced, e);
    rc = pg_tx_leave(s, rc, e);
    if (rc != MLC_OK)
        *inserted = false;
    return rc;
}
