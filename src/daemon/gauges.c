/* gauges: see gauges.h. */
#include "daemon/gauges.h"

#include <stddef.h>

static const char *const state_names[STORE_GAUGE_JOBS] = {
    [STORE_GAUGE_QUEUED]  = "queued",
    [STORE_GAUGE_RUNNING] = "running",
    [STORE_GAUGE_PAUSED]  = "paused",
    [STORE_GAUGE_HELD]    = "held",
    [STORE_GAUGE_FAILED]  = "failed",
};

const char *gauges_state_name(enum store_gauge_jobs s)
{
    return (unsigned)s < STORE_GAUGE_JOBS ? state_names[s] : "unknown";
}

/* Whole seconds from then to now; 0 for no time or a clock step back. */
static int64_t age_s(int64_t now_ms, int64_t then_ms)
{
    return then_ms > 0 && now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
}

static void jobs(struct metrics *m, const struct store_gauges *g, int64_t now_ms)
{
    metrics_head(m, "mlc_jobs_current", "gauge",
                 "Jobs now by what they wait for (queued: ready to run, not paused).");
    for (int s = 0; s < STORE_GAUGE_JOBS; s++)
        metrics_sample(m, "mlc_jobs_current", "state", state_names[s], g->jobs[s]);
    metrics_head(m, "mlc_jobs_oldest_age_seconds", "gauge",
                 "Age of the oldest job of each state: since it was queued, else since it "
                 "entered the state; 0 when none.");
    for (int s = 0; s < STORE_GAUGE_JOBS; s++)
        metrics_sample(m, "mlc_jobs_oldest_age_seconds", "state", state_names[s],
                       g->jobs[s] > 0 ? age_s(now_ms, g->oldest_ms[s]) : 0);
}

void gauges_metrics(struct metrics *m, const struct gauges_in *in)
{
    static const struct store_gauges none;
    const struct store_gauges *g = in->store != NULL ? in->store : &none;

    metrics_one(m, "mlc_store_gauges_up", "gauge",
                "1 when the store answered this scrape's gauge query (else the store "
                "gauges read 0).", in->store != NULL ? 1 : 0);
    jobs(m, g, in->now_ms);
    metrics_one(m, "mlc_last_document_timestamp_seconds", "gauge",
                "Unix time of the newest JDE document posted (sale, refund, reversal); 0 "
                "before the first.", g->last_posted_ms / 1000);
    metrics_one(m, "mlc_reconcile_differences", "gauge",
                "Differences found by the latest reconcile report (0 before the first).",
                g->reconcile_differences);
    metrics_one(m, "mlc_bigcommerce_quota_left", "gauge",
                "The last X-Rate-Limit-Requests-Left BigCommerce sent; -1 before the first "
                "answer.", in->quota_left);
    metrics_one(m, "mlc_jde_session_up", "gauge",
                "1 while an AIS session token is held.", in->ais_up ? 1 : 0);
}
