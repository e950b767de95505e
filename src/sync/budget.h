/*
 * budget: the BigCommerce request budget of the store, as the configuration
 * asks: one process's own pacer, or a pacer in shared mode whose state is
 * the record "bc.budget" of the state store, which every mlc process of
 * the store updates (bigcommerce.shared_budget; auto = when store.url is
 * PostgreSQL). See bc/pacer.h for the pacing and docs/architecture.md, "One
 * BigCommerce quota across processes", for the choice.
 *
 * A shared budget opens a store connection of its own: the pacer calls
 * store_shared_update on it under the pacer's lock, so one thread at a time
 * uses it, and the workers' connections never wait on the pacer.
 *
 * Ownership: a struct budget owns its pacer and its connection; the pacer
 * is borrowed by the clients and valid until budget_free.
 */
#ifndef MLC_SYNC_BUDGET_H
#define MLC_SYNC_BUDGET_H

#include <stdbool.h>

#include "bc/pacer.h"
#include "core/config.h"
#include "core/err.h"

struct budget;

/* Whether cfg asks for a shared budget. */
bool budget_is_shared(const struct mlc_config *cfg);

/* The budget cfg asks for (rate_reserve, shared_budget, store.url).
 * *out: caller frees with budget_free. */
int budget_new(const struct mlc_config *cfg, struct budget **out,
               struct mlc_err *e);

/* A shared budget on the store at store_url with pacer options po (may be
 * NULL): tests and tools. */
int budget_open_shared(const char *store_url, const char *password_ref,
                       const struct pacer_opts *po,
                       struct budget **out, struct mlc_err *e);

/* The pacer (borrowed). */
struct pacer *budget_pacer(struct budget *b);

/* NULL-safe; no thread may use the pacer any more. */
void budget_free(struct budget *b);

#endif
