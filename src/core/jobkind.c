#include "core/jobkind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct jobkind kinds[] = {
    { JOB_ORDER_SYNC, { JOB_KEY_ORDER, NULL }, NULL,
      "posts one BigCommerce order (sale, refunds, reversal) to JD Edwards" },
    { JOB_CUSTOMER_SYNC, { JOB_KEY_CUSTOMER, NULL }, "customers.enabled",
      "adds or updates one BigCommerce customer in the JD Edwards Address Book" },
    { JOB_CATALOG_SYNC, { JOB_KEY_PRODUCT, JOB_KEY_SKU }, "catalog.enabled",
      "puts JD Edwards' name and price back on a product edited in BigCommerce" },
    { JOB_NOOP, { NULL, NULL }, "$" JOBKIND_DEBUG_ENV, "diagnostic: does nothing (payload "
      "may ask it to sleep, hold or retry)" },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

size_t jobkind_count(void) { return N_KINDS; }

const struct jobkind *jobkind_at(size_t i)
{
    return i < N_KINDS ? &kinds[i] : NULL;
}

const struct jobkind *jobkind_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_KINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const char *jobkind_of_resource(const char *type)
{
    size_t n = type != NULL ? strlen(type) : 0;

    for (size_t i = 0; n > 0 && i < N_KINDS; i++)
        for (size_t k = 0; k < JOBKIND_PREFIX_MAX && kinds[i].prefixes[k] != NULL; k++) {
            const char *p = kinds[i].prefixes[k];

            if (strncmp(p, type, n) == 0 && p[n] == ':' && p[n + 1] == '\0')
                return kinds[i].name;
        }
    return NULL;
}

/* The value of a switch: "$NAME" is the environment variable NAME set to
 * 1, anything else a config switch, false for NULL cfg (the defaults). */
static bool switch_on(const struct mlc_config *cfg, const char *name)
{
    if (name[0] == '$') {
        const char *v = getenv(name + 1);

        return v != NULL && strcmp(v, "1") == 0;
    }
    if (cfg == NULL)
        return false;
    if (strcmp(name, "customers.enabled") == 0)
        return cfg->customers.enabled;
    if (strcmp(name, "catalog.enabled") == 0)
        return cfg->catalog.enabled;
    return false;
}

bool jobkind_handled(const struct mlc_config *cfg, const char *kind)
{
    const struct jobkind *k = jobkind_find(kind);

    return k != NULL && (k->enabled_by == NULL || switch_on(cfg, k->enabled_by));
}

int jobkind_check(const struct mlc_config *cfg, const char *kind, struct mlc_err *e)
{
    const struct jobkind *k = jobkind_find(kind);

    if (k == NULL)
        return mlc_err_set(e, MLC_EINVAL, "unknown job kind '%s' (known: order.sync, "
                           "customer.sync, catalog.sync, noop)", kind != NULL ? kind : "");
    if (!jobkind_handled(cfg, kind) && k->enabled_by[0] == '$')
        return mlc_err_set(e, MLC_ESTATE, "kind %s is a diagnostic: the daemon runs it only "
                           "with %s=1 in its environment (and this command needs it too)",
                           k->name, k->enabled_by + 1);
    if (!jobkind_handled(cfg, kind))
        return mlc_err_set(e, MLC_ESTATE, "no handler for kind %s in this configuration "
                           "(%s is false)", k->name, k->enabled_by);
    return MLC_OK;
}

/* "<digits>" -> a positive id; false for anything else. */
static bool parse_id(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return false;
    *out = (int64_t)v;
    return true;
}

int jobkind_key_parse(const char *kind, const char *key, int64_t *id, struct mlc_err *e)
{
    const struct jobkind *k = jobkind_find(kind);
    int64_t v = 0;

    if (id != NULL)
        *id = 0;
    if (k == NULL)
        return mlc_err_set(e, MLC_EINVAL, "unknown job kind '%s'", kind != NULL ? kind : "");
    if (key == NULL || key[0] == '\0')
        return mlc_err_set(e, MLC_EINVAL, "%s: empty job key", k->name);
    if (k->prefixes[0] == NULL)
        return MLC_OK;
    for (size_t i = 0; i < JOBKIND_PREFIX_MAX && k->prefixes[i] != NULL; i++) {
        size_t n = strlen(k->prefixes[i]);

        if (strncmp(key, k->prefixes[i], n) == 0 && parse_id(key + n, &v)) {
            if (id != NULL)
                *id = v;
            return MLC_OK;
        }
    }
    return mlc_err_set(e, MLC_EINVAL, "job key '%s' is not %s<id>%s%s%s", key,
                       k->prefixes[0], k->prefixes[1] != NULL ? " or " : "",
                       k->prefixes[1] != NULL ? k->prefixes[1] : "",
                       k->prefixes[1] != NULL ? "<id>" : "");
}
