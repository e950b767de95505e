/*
 * bc_hooks: v3 webhook registrations of this API account and the admin view
 * (active flags, deactivated hooks, blocked destination domains).
 *
 * A hook is only visible to the account that created it. Registering the
 * same scope and destination twice is refused by BigCommerce, so a create
 * whose reply was lost is recovered by listing the hooks before any re-send.
 * The custom header that authenticates callbacks carries a secret: it is
 * formatted only into the request body, which is wiped after the call.
 */
#ifndef MLC_BC_BC_HOOKS_H
#define MLC_BC_BC_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct bc_client;
struct mlc_secret;

/* Strings owned, never NULL. */
struct bc_hook {
    int64_t id;
    char   *scope;        /* "store/order/created" */
    char   *destination;  /* https://... */
    bool    is_active;
    char   *status;       /* admin view: active|inactive|deactivated; else "" */
    int64_t created_at;   /* unix seconds */
    int64_t updated_at;
};

struct bc_blocked_domain {
    char   *destination;
    int64_t time_left_s;  /* seconds left on the denylist */
    char   *reason;       /* first failure description, "" when none */
};

struct bc_hooks_admin {
    char                    **emails;
    size_t                    n_emails;
    struct bc_hook           *hooks;
    size_t                    n_hooks;
    struct bc_blocked_domain *blocked;
    size_t                    n_blocked;
};

int bc_hook_decode(const json_t *j, struct bc_hook *out, struct mlc_err *e);
void bc_hook_clear(struct bc_hook *h);
void bc_hooks_free(struct bc_hook *v, size_t n);

/* Every hook of this account (all pages). *out: bc_hooks_free. */
int bc_hooks_list(struct bc_client *c, struct bc_hook **out, size_t *n,
                  struct mlc_err *e);

struct bc_hook_spec {
    const char              *scope;
    const char              *destination;
    bool                     is_active;
    const char              *header_name;   /* NULL: no custom header */
    const struct mlc_secret *header_value;  /* borrowed */
};

/* POST /v3/hooks; when the outcome is unknown the hooks are listed and an
 * existing scope+destination is taken as the result before any re-send (at
 * most 3 POSTs). out: release with bc_hook_clear. */
int bc_hook_create(struct bc_client *c, const struct bc_hook_spec *spec,
                   struct bc_hook *out, struct mlc_err *e);
/* PUT /v3/hooks/{id} {"is_active": active}; out may be NULL. */
int bc_hook_set_active(struct bc_client *c, int64_t id, bool active,
                       struct bc_hook *out, struct mlc_err *e);
/* DELETE /v3/hooks/{id}; MLC_ENOTFOUND when it does not exist (or a retried
 * delete already removed it). */
int bc_hook_delete(struct bc_client *c, int64_t id, struct mlc_err *e);

/* GET /v3/hooks/admin. out: release with bc_hooks_admin_clear. */
int bc_hooks_admin(struct bc_client *c, struct bc_hooks_admin *out,
                   struct mlc_err *e);
void bc_hooks_admin_clear(struct bc_hooks_admin *a);

#endif
