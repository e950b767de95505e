#include "sync/env.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "core/health.h"
#include "core/jobkind.h"
#include "core/log.h"
/* The one include from daemon/: credentials glue the configuration, the
 * vault and the store (it depends on nothing else of the daemon). */
#include "store/credentials.h"
#include "jde/ais_session.h"
#include "sync/budget.h"
#include "sync/accounts.h"
#include "sync/catcache.h"
#include "sync/flow.h"

struct env {
    struct mlc_config  *cfg;
    struct mlc_secret  *bc_token;
    struct mlc_secret  *jde_password;
    struct budget      *budget;    /* owns the pacer */
    struct pacer       *pacer;     /* budget's */
    struct ais_session *ais;
    struct acct_cache  *acct;
    struct catcache    *cats;
    pthread_key_t       key;       /* this thread's bc_client */
    bool                key_ok;
    pthread_mutex_t     mu;        /* clients */
    struct bc_client  **clients;   /* every client env_bc created */
    size_t              n_clients, cap_clients;
    struct health      *health;    /* borrowed, may be NULL */
    struct bc_client   *probe_bc;  /* env_probe's own client (no retries) */
};

static int copy_one(const char *bytes, size_t len, void *ctx)
{
    struct mlc_secret **out = ctx;

    return secret_new(bytes, len, out, NULL);
}

static int secret_copy(const struct mlc_secret *s, struct mlc_secret **out,
                       const char *what, struct mlc_err *e)
{
    *out = NULL;
    if (s == NULL)
        return mlc_err_set(e, MLC_EINVAL, "%s: no credential given", what);
    if (secret_use(s, copy_one, out) != MLC_OK || *out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "%s: cannot copy the credential", what);
    return MLC_OK;
}

static int build(struct env *env, struct mlc_err *e)
{
    const struct mlc_config *cfg = env->cfg;
    int rc;

    struct ais_session_opts ao = {
        .login_backoff_ms = cfg->jde.login_backoff_s > 0 ? cfg->jde.login_backoff_s * 1000L : 0,
    };

    if ((rc = budget_new(cfg, &env->budget, e)) != MLC_OK)
        return rc;
    env->pacer = budget_pacer(env->budget);
    if ((rc = ais_session_new(&cfg->jde, env->jde_password, &ao, &env->ais, e)) != MLC_OK)
        return rc;
    if ((rc = acct_cache_new(&env->acct, e)) != MLC_OK)
        return rc;
    if ((rc = catcache_new(&env->cats, e)) != MLC_OK)
        return rc;
    if (pthread_key_create(&env->key, NULL) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "env: cannot create a thread key");
    env->key_ok = true;
    return MLC_OK;
}

static struct env *env_alloc(struct mlc_config *cfg)
{
    struct env *env = calloc(1, sizeof(*env));

    if (env == NULL)
        return NULL;
    pthread_mutex_init(&env->mu, NULL);
    env->cfg = cfg_ref(cfg);
    return env;
}

int env_new_with(struct mlc_config *cfg, const struct mlc_secret *bc_token,
                 const struct mlc_secret *jde_password, struct env **out,
                 struct mlc_err *e)
{
    struct env *env;
    int rc;

    *out = NULL;
    env = env_alloc(cfg);
    if (env == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "env: out of memory");
    if ((rc = secret_copy(bc_token, &env->bc_token, "bigcommerce token", e)) != MLC_OK ||
        (rc = secret_copy(jde_password, &env->jde_password, "jde password", e)) != MLC_OK ||
        (rc = build(env, e)) != MLC_OK) {
        env_free(env);
        return rc;
    }
    *out = env;
    return MLC_OK;
}

/* Loads the credential named by cfg key `what` into *out. */
static int load_ref(const struct vault *v, struct store *st, const char *name,
                    const char *what, struct mlc_secret **out, struct mlc_err *e)
{
    if (name == NULL || name[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "%s is not set in the configuration", what);
    return credentials_load(v, st, name, out, e);
}

int env_new(struct mlc_config *cfg, struct store *st, struct env **out,
            struct mlc_err *e)
{
    struct vault *v = NULL;
    struct env *env;
    int rc;

    *out = NULL;
    env = env_alloc(cfg);
    if (env == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "env: out of memory");
    rc = credentials_open_vault(cfg, &v, e);
    if (rc == MLC_OK)
        rc = load_ref(v, st, cfg->bigcommerce.token_ref, "bigcommerce.token_ref",
                      &env->bc_token, e);
    if (rc == MLC_OK)
        rc = load_ref(v, st, cfg->jde.password_ref, "jde.password_ref",
                      &env->jde_password, e);
    vault_free(v);
    if (rc == MLC_OK)
        rc = build(env, e);
    if (rc != MLC_OK) {
        env_free(env);
        return rc;
    }
    *out = env;
    return MLC_OK;
}

void env_shutdown(struct env *env)
{
    if (env != NULL && env->pacer != NULL)
        pacer_shutdown(env->pacer);
}

void env_free(struct env *env)
{
    struct mlc_err e;

    if (env == NULL)
        return;
    if (env->ais != NULL) {
        struct ais_login_info li;

        ais_session_info(env->ais, &li);
        if (li.generation > 0 && ais_session_logout(env->ais, &e) != MLC_OK)
            log_warn("env", "AIS logout failed", LF_ERR(&e));
    }
    for (size_t i = 0; i < env->n_clients; i++)
        bc_client_free(env->clients[i]);
    free(env->clients);
    bc_client_free(env->probe_bc);
    if (env->key_ok)
        pthread_key_delete(env->key);
    acct_cache_free(env->acct);
    catcache_free(env->cats);
    ais_session_free(env->ais);
    budget_free(env->budget);
    secret_free(env->bc_token);
    secret_free(env->jde_password);
    cfg_unref(env->cfg);
    pthread_mutex_destroy(&env->mu);
    free(env);
}

struct pacer *env_pacer(struct env *env) { return env->pacer; }
struct ais_session *env_ais(struct env *env) { return env->ais; }
struct acct_cache *env_accounts(struct env *env) { return env->acct; }
struct catcache *env_categories(struct env *env) { return env->cats; }

void env_resource_changed(struct env *env, const char *resource)
{
    int64_t id = 0;

    if (env == NULL || env->cats == NULL || resource == NULL)
        return;
    if (flow_key_parse(resource, JOB_KEY_PRODUCT, &id, NULL) == MLC_OK)
        catcache_invalidate(env->cats, id);
}

int env_bc_client_new(struct env *env, struct bc_client **out, struct mlc_err *e)
{
    int rc = bc_client_new(&env->cfg->bigcommerce, env->bc_token, env->pacer, out, e);

    if (rc == MLC_OK)
        bc_client_set_health(*out, env->health);
    return rc;
}

void env_set_health(struct env *env, struct health *h)
{
    env->health = h;
    ais_session_set_health(env->ais, h);
}

struct health *env_health(const struct env *env)
{
    return env != NULL ? env->health : NULL;
}

int env_probe(struct env *env, const char *system, struct mlc_err *e)
{
    /* One attempt, no retry: the next probe is the retry. */
    struct bc_client_tuning once = { .max_attempts = 1, .max_total_ms = 1,
                                     .max_pacer_wait_ms = 2000 };
    struct bc_store_info si;
    int rc;

    if (strcmp(system, "jde") == 0)
        return ais_session_touch(env->ais, e);
    if (strcmp(system, "bigcommerce") != 0)
        return mlc_err_set(e, MLC_EINVAL, "env: no probe for system '%s'", system);
    if (env->probe_bc == NULL) {
        if ((rc = env_bc_client_new(env, &env->probe_bc, e)) != MLC_OK)
            return rc;
        bc_client_tune(env->probe_bc, &once);
    }
    memset(&si, 0, sizeof(si));
    rc = bc_store_info(env->probe_bc, &si, e);
    bc_store_info_clear(&si);
    return rc;
}

/* Keeps c so that env_free frees it. */
static int track(struct env *env, struct bc_client *c, struct mlc_err *e)
{
    int rc = MLC_OK;

    pthread_mutex_lock(&env->mu);
    if (env->n_clients == env->cap_clients) {
        size_t ncap = env->cap_clients > 0 ? env->cap_clients * 2 : 8;
        struct bc_client **nv = realloc(env->clients, ncap * sizeof(*nv));

        if (nv == NULL)
            rc = mlc_err_set(e, MLC_ENOMEM, "env: out of memory");
        else {
            env->clients = nv;
            env->cap_clients = ncap;
        }
    }
    if (rc == MLC_OK)
        env->clients[env->n_clients++] = c;
    pthread_mutex_unlock(&env->mu);
    return rc;
}

int env_bc(struct env *env, struct bc_client **out, struct mlc_err *e)
{
    struct bc_client *c = pthread_getspecific(env->key);
    int rc;

    if (c != NULL) {
        *out = c;
        return MLC_OK;
    }
    *out = NULL;
    if ((rc = env_bc_client_new(env, &c, e)) != MLC_OK)
        return rc;
    if ((rc = track(env, c, e)) != MLC_OK) {
        bc_client_free(c);
        return rc;
    }
    if (pthread_setspecific(env->key, c) != 0) {
        /* Tracked: freed by env_free; this call still may use it. */
        log_warn("env", "cannot keep the thread's BigCommerce client");
    }
    *out = c;
    return MLC_OK;
}

int env_task_keepalive(void *ctx, struct mlc_err *e)
{
    struct env *env = ctx;

    return ais_session_touch(env->ais, e);
}

int env_task_accounts(void *ctx, struct mlc_err *e)
{
    struct env *env = ctx;

    (void)e;
    acct_invalidate(env->acct);
    return MLC_OK;
}
