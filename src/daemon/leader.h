/*
 * leader: which `mlc run` process runs the singleton tasks.
 *
 * Several daemons may share one PostgreSQL store. The tasks that must run
 * on one process at a time (the reconcile sweep, the hook check, the
 * catalog poll) run only on the leader: the holder of the store's named
 * lease LEADER_LEASE (store_lease_take). A thread of its own renews the
 * lease every third of its time, on its own store connection, so a long
 * sweep on the main thread never lets it lapse; a process that does not
 * lead tries to take it just as often, so a dead leader is replaced within
 * one lease time plus a third.
 *
 * A process believes it leads only until its last renewal plus the lease
 * time minus a margin, on its monotonic clock: when the store is
 * unreachable it stops leading before anyone else can take over. And every
 * write a singleton task makes is fenced by the lease's token
 * (store_fence_lease), so even a process that stalled past its lease (a
 * paused VM) cannot commit after a takeover.
 *
 * Membership. Each process also keeps a lease of its own,
 * LEADER_PROC_PREFIX + holder, renewed in the same rounds. The leader
 * looks at them every round: when one ran out, its process is gone (or cut
 * off from the store), and the jobs it was running (lease owners starting
 * with "<holder>:") go back to READY at once instead of when each job's
 * lease ends (store_job_release_owner); a create it had in flight is in the
 * ledger as PENDING and is settled before anything is sent again. A process
 * cut off that comes back finds its ledger writes fenced (store_fence).
 *
 * A process alone on its store (an SQLite file under store_lock) needs no
 * lease: leader_start with a NULL store makes a leader that always leads,
 * with token 0 (no fence).
 *
 * Transitions are logged and audited (actor the holder, entity "leader",
 * action "acquired" / "lost" / "resigned", detail {"token":N}; released
 * jobs: entity "jobs", action "recover", {"process":..., "released":N}).
 *
 * Thread-safe: leader_holds may be called from any thread.
 */
#ifndef MLC_DAEMON_LEADER_H
#define MLC_DAEMON_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define LEADER_LEASE       "leader"
#define LEADER_PROC_PREFIX "proc:"

struct leader;

/* Starts leading or trying to. st: a connection the leader owns from now
 * on (closed by leader_stop, also on failure), or NULL for a process alone
 * on its store. holder: this process's identity (copied), unique per
 * process incarnation. ttl_ms >= 3000. *out: stop with leader_stop. */
int leader_start(struct store *st, const char *holder, int64_t ttl_ms,
                 struct leader **out, struct mlc_err *e);

/* True while this process leads; *token (may be NULL) is the lease's
 * fencing token then (0 for a process alone on its store). */
bool leader_holds(struct leader *l, int64_t *token);

/* How many processes share the store (live process leases at the last
 * round, this one included): 1 alone, or before the first round. */
int leader_processes(struct leader *l);

/* The holder name given to leader_start. */
const char *leader_holder(const struct leader *l);

/* Tries to take or renew the lease now (the thread does it on its own;
 * tests and the start-up call this to avoid waiting for the first round). */
void leader_poll(struct leader *l);

/* Stops the thread, gives both leases up (another process takes over at
 * once), closes the connection, frees l. NULL-safe. Call it after the
 * workers stopped: a leader that sees the process lease dropped releases
 * whatever jobs this process still holds. */
void leader_stop(struct leader *l);

#endif
