#include "cmd/cmd_util.h"
#include "core/json.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *cmdu_config(const char *given)
{
    const char *env = getenv("MLC_CONFIG");

    if (given != NULL)
        return given;
    return env != NULL && env[0] != '\0' ? env : CMDU_CONFIG_DEFAULT;
}

int cmdu_open(const char *prog, const char *config_path,
              struct mlc_config **cfg, struct store **st)
{
    struct mlc_config *c = NULL;
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    *st = NULL;
    if (cfg != NULL)
        *cfg = NULL;
    rc = cfg_load(config_path, &c, &e);
    if (rc == MLC_OK)
        rc = store_open_with(c->store.url, c->store.password_ref, st, &e);
    if (rc != MLC_OK) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        cfg_unref(c);
        return rc;
    }
    if (cfg != NULL)
        *cfg = c;
    else
        cfg_unref(c);
    return MLC_OK;
}

int cmdu_print_json(const char *prog, const json_t *o)
{
    char *s = o != NULL ? json_dumps(o, JSON_INDENT(2)) : NULL;

    if (s == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

void cmdu_fmt_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, cap, "-");
        return;
    }
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cmdu_fmt_age(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms > 0 ? ms / 1000 : 0;

    if (s < 60)
        snprintf(buf, cap, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, cap, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, cap, "%lldh %02lldm", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(buf, cap, "%lldd %lldh", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
}

/* A user name as it may stand in an audit row: at most 32 characters of
 * [A-Za-z0-9._-], anything else '_' (an environment value is not trusted). */
static void clean_user(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    for (; in[n] != '\0' && n + 1 < cap && n < 32; n++) {
        char c = in[n];

        out[n] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') ? c : '_';
    }
    out[n] = '\0';
}

void cmdu_actor(char *buf, size_t cap)
{
    char pwbuf[1024], user[40], sudo[40] = "";
    struct passwd pw, *found = NULL;
    const char *su = getenv("SUDO_USER");
    uid_t uid = geteuid();

    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found != NULL &&
        found->pw_name != NULL && found->pw_name[0] != '\0')
        clean_user(found->pw_name, user, sizeof(user));
    else
        snprintf(user, sizeof(user), "%lu", (unsigned long)uid);
    if (su != NULL && su[0] != '\0')
        clean_user(su, sudo, sizeof(sudo));
    if (sudo[0] != '\0' && strcmp(sudo, user) != 0)
        snprintf(buf, cap, "cli:%s(sudo:%s)", user, sudo);
    else
        snprintf(buf, cap, "cli:%s", user);
}

int cmdu_parse_ll(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return (errno == 0 && end != s && *end == '\0') ? MLC_OK : MLC_EINVAL;
}

json_t *cmdu_json_doc(const char *s)
{
    json_t *j;

    if (s == NULL)
        return json_null();
    j = json_loads(s, JSON_DECODE_ANY, NULL);
    return j != NULL ? j : jx_text(s);
}

void cmdu_ids_add(struct cmdu_ids *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == id)
            return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        int64_t *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = id;
}
