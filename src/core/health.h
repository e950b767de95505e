/*
 * health: the named conditions that make the daemon not ready.
 *
 * A condition is a name ("jde.login") with a reason ("AIS login failed for
 * user MLCSVC: 403 Authorization Failure; next attempt after ...") and the
 * time it was first set. The component that sees a system fail sets it; the
 * same component clears it when the system answers again (the next AIS
 * login, the next BigCommerce 2xx, the next store write). Nobody else needs
 * flags: /readyz is 503 exactly while a condition is set and renders them,
 * /metrics exposes them, the scheduler's probe looks at them to decide
 * whether a system must be asked again and whether paused jobs may resume.
 *
 * Names are "<system>.<what>": the part before the first dot names the
 * system whose jobs wait for it ("jde", "bigcommerce"); "flows" and "store"
 * are not systems jobs pause for. The vocabulary is below.
 *
 * Watches: a worker that runs a job begins a watch (caller-allocated, on its
 * own thread). Every condition set on that thread while the watch is on is
 * noted in it, also a condition that was set already (a second failure
 * re-reports it). The flow then knows that *its* calls found the system down
 * or refusing credentials, without guessing from another thread's state.
 *
 * Threads: every call is thread-safe; health_new/health_free from one
 * thread while no other uses the registry. A NULL registry is accepted by
 * every call (it does nothing), so clients used without a daemon (the CLI,
 * tests) need no registry.
 */
#ifndef MLC_CORE_HEALTH_H
#define MLC_CORE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/metrics.h"

/* The vocabulary (any other "<system>.<what>" name works too). */
#define HEALTH_FLOWS_DISABLED "flows.disabled"          /* a start-up error disabled the flows */
#define HEALTH_JDE_LOGIN      "jde.login"               /* the last AIS login failed */
#define HEALTH_JDE_DOWN       "jde.unreachable"         /* AIS did not answer (or a gateway 5xx) */
#define HEALTH_BC_AUTH        "bigcommerce.auth"        /* BigCommerce answered 401/403 */
#define HEALTH_BC_DOWN        "bigcommerce.unreachable" /* no answer, or 5xx after retries */
#define HEALTH_STORE_WRITE    "store.write"             /* the state store refused a write */

#define HEALTH_NAME_MAX   32
#define HEALTH_REASON_MAX 400
#define HEALTH_MAX        16  /* conditions kept at once; more are dropped (logged) */

struct health;

/* One condition, copied out. */
struct health_cond {
    char    name[HEALTH_NAME_MAX];
    char    reason[HEALTH_REASON_MAX];
    int64_t since_ms;    /* Unix ms when it was set (not moved by re-reports) */
    int64_t updated_ms;  /* Unix ms of the last report */
    uint64_t reports;    /* how often it was reported since it was set */
};

/* What one thread saw reported while the watch was on. */
struct health_watch {
    struct health *h;
    unsigned       seen;                   /* reports on this thread */
    char           last[HEALTH_NAME_MAX];  /* the last condition reported */
};

/* *out: caller frees with health_free. */
int health_new(struct health **out, struct mlc_err *e);
void health_free(struct health *h); /* NULL-safe */

/* Sets (or re-reports) name with a reason (printf format; never a secret).
 * A new condition is logged as a warning; a re-report updates the reason
 * quietly. Marks the calling thread's watch. Reasons should not carry
 * relative times ("in 5 s"): every new text is a change to record. */
__attribute__((format(printf, 3, 4)))
void health_set(struct health *h, const char *name, const char *fmt, ...);
/* Clears name; true when it was set (then logged with how long it lasted). */
bool health_clear(struct health *h, const char *name);
bool health_is_set(struct health *h, const char *name);
/* True when no condition of system ("jde" -> "jde.*") is set. */
bool health_system_ok(struct health *h, const char *system);
/* Copies up to max conditions, oldest first; returns how many are set. */
size_t health_list(struct health *h, struct health_cond *out, size_t max);
/* Bumped whenever a condition is set, cleared or reported with another
 * reason (not on a re-report of the same reason): a writer that persists
 * the conditions does so when it moved. */
uint64_t health_version(struct health *h);

/* "jde.login" -> "jde" into buf (the whole name when it has no dot). */
void health_system_of(const char *name, char *buf, size_t cap);

/* Starts noting the conditions reported on the calling thread into w (one
 * watch per thread at a time; w must stay valid until health_watch_end). */
void health_watch_begin(struct health *h, struct health_watch *w);
void health_watch_end(struct health_watch *w);

/* Prometheus text appended to m: a 0/1 gauge
 * mlc_health_condition{condition="..."} for every name of the vocabulary
 * and every other name set. */
void health_metrics(struct health *h, struct metrics *m);

#endif
