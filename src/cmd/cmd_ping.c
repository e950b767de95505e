/*
 * mlc ping [--config FILE] [--json] [--orchestrations]: a real connection test
 * of BigCommerce and JD Edwards, one verdict per step, in this order:
 *
 *   bigcommerce reach        DNS, TCP and TLS to the API base URL
 *   bigcommerce credentials  the API token decrypts from the store
 *   bigcommerce store        store information (name, currency)
 *   bigcommerce <resource>   one read of every resource the flows use
 *                            (bc_probe: a missing token scope shows by name)
 *   jde reach / credentials  the same for the AIS server and the password
 *   jde defaultconfig        the AIS server answers (version)
 *   jde login / validate     a session for the configured user
 *   jde login-backoff        whether the running daemon's AIS logins fail and
 *                            back off (its conditions, recorded in the store)
 *   jde orchestration        each configured orchestration exists (discover)
 *   jde dry-run              with --orchestrations: each needed orchestration
 *                            that lists the ValidateOnly input validates a
 *                            sample call in that mode (sync/dryrun.h)
 *   jde mapping              every account and business unit the posting
 *                            configuration names, as posted, exists (F0901,
 *                            F0006) and every account is postable: one ok
 *                            line with the counts, or one FAIL line per bad
 *                            entry naming its configuration key and why
 *   jde logout               the session is ended again
 *
 * Every verdict is ok, FAIL or skip. A read the configuration does not need
 * (customers with customers.enabled false, ...) that fails is a skip that
 * says so; a step that cannot run because an earlier one failed is a skip
 * too. Exit 0 when no step failed, 1 otherwise, 2 on a usage error.
 *
 * The reach step sets up a connection with net/httpc's probe, under the
 * clients' TLS settings (verification always on, the configured CA file),
 * so that DNS, TCP and TLS failures are told apart before any API call. Messages come from the clients, which never put a secret in one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bc/bc_client.h"
#include "bc/pacer.h"
#include "cmd/cmd.h"
#include "cmd/cmd_opt.h"
#include "cmd/cmd_util.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/tz.h"
#include "core/vault.h"
#include "store/credentials.h"
#include "jde/ais_data.h"
#include "jde/ais_orch.h"
#include "jde/ais_session.h"
#include "net/httpc.h"
#include "store/store.h"
#include "sync/accounts.h"
#include "sync/dryrun.h"
#include "sync/mapping.h"

#define PROG "mlc ping"
#define PING_MSG_MAX 1024
/* Longest wait for a TCP connection or TLS handshake in the reach step. */
#define PING_CONNECT_MS 10000L

enum verdict { V_OK = 0, V_FAIL, V_SKIP };

struct ping {
    const struct mlc_config *cfg;
    const char *cfg_path;
    bool        json;
    bool        dry_run;   /* --orchestrations: call them in validation mode */
    char        currency[8]; /* the store's, once the store step answered */
    json_t     *steps;     /* --json: every verdict, printed at the end */
    unsigned    failures;
    int64_t     t0;        /* start of the current step (monotonic ms) */
};

/* What both systems share: the vault and the store the credentials live in
 * (either may be NULL, with the reason in *_err). */
struct cred_src {
    struct vault  *vault;
    struct store  *store;
    struct mlc_err vault_err;
    struct mlc_err store_err;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void step_start(struct ping *p)
{
    p->t0 = mono_ms();
}

static const char *verdict_word(enum verdict v)
{
    return v == V_OK ? "ok" : v == V_FAIL ? "FAIL" : "skip";
}

/* Remote messages end up on a terminal: no control characters. With ascii,
 * bytes outside ASCII go too (for JSON, when the text is not valid UTF-8). */
static void scrub(char *s, bool ascii)
{
    for (unsigned char *c = (unsigned char *)s; *c != '\0'; c++)
        if (*c < 0x20 || *c == 0x7f || (ascii && *c >= 0x80))
            *c = *c >= 0x80 ? '?' : ' ';
}

/* detail (stolen, may be NULL): the step's structured answer. */
static void add_json(struct ping *p, const char *sys, const char *step, enum verdict v,
                     char *msg, int64_t ms, json_t *detail)
{
    json_t *m = json_string(msg), *x;

    if (m == NULL) { /* not UTF-8 */
        scrub(msg, true);
        m = json_string(msg);
    }
    x = json_pack("{s:s, s:s, s:b, s:s, s:o*, s:I}",
        "system", sys, "step", step, "ok", v == V_OK,
        "status", v == V_OK ? "ok" : v == V_FAIL ? "fail" : "skip",
        "message", m, "ms", (json_int_t)ms);
    if (x != NULL && detail != NULL)
        json_object_set(x, "detail", detail);
    json_decref(detail);
    json_array_append_new(p->steps, x);
}

/* Reports one step: the time since step_start, then the next step starts.
 * detail (stolen, may be NULL) goes into --json as the step's "detail". */
__attribute__((format(printf, 6, 0)))
static void vverdict(struct ping *p, const char *sys, const char *step, enum verdict v,
                     json_t *detail, const char *fmt, va_list ap)
{
    char msg[PING_MSG_MAX];
    int64_t ms = mono_ms() - p->t0;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    scrub(msg, false);
    if (v == V_FAIL)
        p->failures++;
    if (p->json) {
        add_json(p, sys, step, v, msg, ms, detail);
    } else {
        json_decref(detail);
        printf("%-5s %-11s %-14s %s  [%lld ms]\n", verdict_word(v), sys, step, msg,
               (long long)ms);
        fflush(stdout);
    }
    step_start(p);
}

__attribute__((format(printf, 5, 6)))
static void verdict(struct ping *p, const char *sys, const char *step, enum verdict v,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vverdict(p, sys, step, v, NULL, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 6, 7)))
static void verdict_detail(struct ping *p, const char *sys, const char *step, enum verdict v,
                           json_t *detail, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vverdict(p, sys, step, v, detail, fmt, ap);
    va_end(ap);
}

/* ---- reach: DNS, TCP, TLS ------------------------------------------------ */

static bool is_ip_literal(const char *host)
{
    return strspn(host, "0123456789.") == strlen(host) || strchr(host, ':') != NULL ||
           host[0] == '[';
}

/* The CA hint of a certificate failure. */
static void ca_hint(char *buf, size_t cap, const char *ca_key, const char *ca_file)
{
    if (ca_file == NULL)
        snprintf(buf, cap, "if the server's certificate comes from a private CA, set %s "
                 "to that CA's PEM bundle", ca_key);
    else
        snprintf(buf, cap, "check that %s (%s) holds the CA that issued the server's "
                 "certificate", ca_key, ca_file);
}

/* Where a reach step connects, and with which settings. */
struct reach_target {
    const char *sys, *url, *ca_file, *ca_key;
    long        connect_ms;
};

static void reach_ok(struct ping *p, const char *sys, const struct httpc_probe *t)
{
    char dns_part[48] = "", tls_part[48];

    if (!is_ip_literal(t->host))
        snprintf(dns_part, sizeof(dns_part), "dns %lld ms, ", (long long)t->dns_ms);
    if (t->tls)
        snprintf(tls_part, sizeof(tls_part), ", tls %lld ms, certificate verified",
                 (long long)(t->tls_ms - t->tcp_ms));
    else
        snprintf(tls_part, sizeof(tls_part), ", plain http");
    verdict(p, sys, "reach", V_OK, "%s:%ld (%stcp %lld ms%s)", t->host, t->port, dns_part,
            (long long)(t->tcp_ms - t->dns_ms), tls_part);
}

/* Says which layer failed: name resolution, TCP, or TLS (with the CA hint). */
static void reach_fail(struct ping *p, const struct reach_target *rt, const struct httpc_probe *t)
{
    const char *sys = rt->sys, *host = t->host, *eb = t->msg;
    char hint[256], ebuf[128];
    long port = t->port;

    ca_hint(hint, sizeof(hint), rt->ca_key, rt->ca_file);
    switch (t->fail) {
    case HTTPC_PROBE_DNS:
        verdict(p, sys, "reach", V_FAIL, "DNS: cannot resolve %s (%s)", host, eb);
        break;
    case HTTPC_PROBE_PROXY_DNS:
        verdict(p, sys, "reach", V_FAIL, "DNS: cannot resolve the proxy (%s)", eb);
        break;
    case HTTPC_PROBE_TCP:
        /* libcurl's text does not always say why; the socket error does. */
        verdict(p, sys, "reach", V_FAIL, "TCP: cannot connect to %s:%ld: %s (is the server "
                "running and the port right?)", host, port,
                t->os_errno != 0 ? strerror_r(t->os_errno, ebuf, sizeof(ebuf)) : eb);
        break;
    case HTTPC_PROBE_TIMEOUT:
        verdict(p, sys, "reach", V_FAIL, "%s: no answer from %s:%ld within %ld ms (%s)",
                t->dns_ms == 0 && !is_ip_literal(host) ? "DNS" : t->tcp_ms == 0 ? "TCP" : "TLS",
                host, port, rt->connect_ms, eb);
        break;
    case HTTPC_PROBE_TLS_UNTRUSTED:
        verdict(p, sys, "reach", V_FAIL, "TLS: the certificate of %s:%ld is not trusted (%s); "
                "%s", host, port, eb, hint);
        break;
    case HTTPC_PROBE_TLS_CAFILE:
        verdict(p, sys, "reach", V_FAIL, "TLS: the CA file %s (%s) cannot be used (%s)",
                rt->ca_file != NULL ? rt->ca_file : "(system)", rt->ca_key, eb);
        break;
    case HTTPC_PROBE_TLS_HANDSHAKE:
        verdict(p, sys, "reach", V_FAIL, "TLS: handshake with %s:%ld failed (%s); %s", host,
                port, eb, hint);
        break;
    default:
        verdict(p, sys, "reach", V_FAIL, "%s:%ld: %s", host, port, eb);
        break;
    }
}

/* The reach step of one system: a connection (and TLS session) set up with
 * the clients' own TLS settings, through net/httpc; true when it worked. */
static bool reach(struct ping *p, const char *sys, const char *base_url, const char *ca_file,
                  const char *ca_key, int timeout_ms)
{
    struct reach_target rt = { .sys = sys, .url = base_url, .ca_file = ca_file,
                               .ca_key = ca_key, .connect_ms = PING_CONNECT_MS };
    struct httpc_opts o = { .ca_file = ca_file };
    struct httpc_probe t;
    struct httpc *c = NULL;
    struct mlc_err e;
    bool ok;

    mlc_err_clear(&e);
    step_start(p);
    if (timeout_ms > 0 && timeout_ms < rt.connect_ms)
        rt.connect_ms = timeout_ms;
    o.connect_timeout_ms = rt.connect_ms;
    if (httpc_new(&o, &c, &e) != MLC_OK) {
        /* The only setting it checks up front is the CA file. */
        verdict(p, sys, "reach", V_FAIL, "TLS: %s (%s)", e.msg, ca_key);
        return false;
    }
    ok = httpc_probe(c, base_url, &t) == MLC_OK;
    if (ok)
        reach_ok(p, sys, &t);
    else
        reach_fail(p, &rt, &t);
    httpc_free(c);
    return ok;
}

/* ---- credentials ------------------------------------------------------- */

/* Loads credential name (configuration key ref_key) into *out and reports
 * the credentials verdict; kind is the word of `mlc credentials set KIND`. */
static bool load_cred(struct ping *p, const char *sys, const char *kind, const char *name,
                      const char *ref_key, struct cred_src *cs, struct mlc_secret **out)
{
    struct mlc_err e;
    int rc;

    *out = NULL;
    mlc_err_clear(&e);
    step_start(p);
    if (name == NULL) {
        verdict(p, sys, "credentials", V_FAIL, "%s is not set in %s", ref_key, p->cfg_path);
        return false;
    }
    if (cs->vault == NULL) {
        verdict(p, sys, "credentials", V_FAIL, "cannot open the credential store: %s",
                cs->vault_err.msg);
        return false;
    }
    if (cs->store == NULL) {
        verdict(p, sys, "credentials", V_FAIL, "cannot open the state store: %s",
                cs->store_err.msg);
        return false;
    }
    rc = credentials_load(cs->vault, cs->store, name, out, &e);
    if (rc == MLC_OK) {
        verdict(p, sys, "credentials", V_OK, "%s (%s) decrypts", name, ref_key);
        return true;
    }
    if (rc == MLC_ENOTFOUND)
        verdict(p, sys, "credentials", V_FAIL, "credential %s (%s) is not stored: run "
                "mlc credentials set %s --config %s", name, ref_key, kind, p->cfg_path);
    else if (rc == MLC_ECRYPTO || rc == MLC_EINVAL)
        verdict(p, sys, "credentials", V_FAIL, "credential %s (%s) does not decrypt with "
                "the current master key (%s): use the right key, or store it again with "
                "mlc credentials set %s --config %s", name, ref_key, e.msg, kind,
                p->cfg_path);
    else
        verdict(p, sys, "credentials", V_FAIL, "credential %s (%s): %s", name, ref_key,
                e.msg);
    return false;
}

/* ---- BigCommerce --------------------------------------------------------- */

/* Whether the configuration needs a probed resource. *why names the switch
 * that makes it optional. */
static bool bc_needed(const struct mlc_config *cfg, const char *resource, const char **why)
{
    *why = NULL;
    if (strcmp(resource, "customers") == 0 && !cfg->customers.enabled)
        *why = "customers.enabled is false";
    else if ((strcmp(resource, "products") == 0 || strcmp(resource, "variants") == 0) &&
             !cfg->catalog.enabled)
        *why = "catalog.enabled is false";
    else if (strcmp(resource, "hooks") == 0 && cfg->bigcommerce.webhook_public_url == NULL)
        *why = "bigcommerce.webhook_public_url is not set";
    return *why == NULL;
}

static void bc_report_probe(struct ping *p, const struct bc_probe_result *r, int64_t ms)
{
    const char *why;
    bool needed = bc_needed(p->cfg, r->resource, &why);

    p->t0 = mono_ms() - ms;
    switch (r->verdict) {
    case BC_PROBE_OK:
        verdict(p, "bigcommerce", r->resource, V_OK, "read ok");
        return;
    case BC_PROBE_SKIPPED:
        verdict(p, "bigcommerce", r->resource, V_SKIP, "%s", r->msg);
        return;
    default:
        break;
    }
    if (!needed) {
        verdict(p, "bigcommerce", r->resource, V_SKIP, "not needed (%s), but not readable: %s",
                why, r->msg);
        return;
    }
    if (r->verdict == BC_PROBE_UNAUTHORIZED)
        verdict(p, "bigcommerce", r->resource, V_FAIL, "401 Unauthorized: %s", r->msg);
    else if (r->verdict == BC_PROBE_FORBIDDEN)
        verdict(p, "bigcommerce", r->resource, V_FAIL, "403 Forbidden: %s", r->msg);
    else
        verdict(p, "bigcommerce", r->resource, V_FAIL, "%s", r->msg);
}

/* The store information; false when the API did not answer at all (no
 * point in probing every resource then). */
static bool bc_store_step(struct ping *p, struct bc_client *c)
{
    struct bc_store_info si;
    struct mlc_err e;
    int rc;

    mlc_err_clear(&e);
    step_start(p);
    rc = bc_store_info(c, &si, &e);
    if (rc == MLC_OK) {
        snprintf(p->currency, sizeof(p->currency), "%s", si.currency ? si.currency : "");
        verdict(p, "bigcommerce", "store", V_OK, "%s (%s)", si.name ? si.name : "?",
                si.currency ? si.currency : "?");
        bc_store_info_clear(&si);
        return true;
    }
    if (rc == MLC_EAUTH && strstr(e.msg, ": 401") != NULL)
        verdict(p, "bigcommerce", "store", V_FAIL, "401 Unauthorized: the API token was "
                "refused (%s); store the right one with mlc credentials set bigcommerce "
                "--config %s", e.msg, p->cfg_path);
    else if (rc == MLC_EAUTH)
        verdict(p, "bigcommerce", "store", V_FAIL, "403 Forbidden: the API token lacks the "
                "scope store_v2_information_read_only (%s)", e.msg);
    else
        verdict(p, "bigcommerce", "store", V_FAIL, "%s", e.msg);
    return rc != MLC_ETIMEOUT && rc != MLC_ECRYPTO;
}

static void bc_skip_rest(struct ping *p, const char *why)
{
    step_start(p);
    verdict(p, "bigcommerce", "store", V_SKIP, "not tried: %s", why);
    verdict(p, "bigcommerce", "resources", V_SKIP, "not tried: %s", why);
}

static void ping_bigcommerce(struct ping *p, struct cred_src *cs)
{
    const struct cfg_bigcommerce *bc = &p->cfg->bigcommerce;
    struct bc_probe_result res[BC_PROBE_MAX];
    struct bc_client_tuning tune = {
        .max_attempts = 4, .max_transient = 1, .base_delay_ms = 250,
        .max_delay_ms = 1000, .max_total_ms = 30000, .max_pacer_wait_ms = 30000,
    };
    struct mlc_secret *token = NULL;
    struct pacer *pacer = NULL;
    struct bc_client *c = NULL;
    struct mlc_err e;
    bool reached, have_token;
    size_t n = 0;
    int64_t t;

    mlc_err_clear(&e);
    reached = reach(p, "bigcommerce", bc->api_base_url, bc->ca_file, "bigcommerce.ca_file",
                    bc->timeout_ms);
    have_token = load_cred(p, "bigcommerce", "bigcommerce", bc->token_ref,
                           "bigcommerce.token_ref", cs, &token);
    if (!reached || !have_token) {
        bc_skip_rest(p, !reached ? "the API is not reachable" : "no API token");
        goto out;
    }
    step_start(p);
    if (pacer_new(&(struct pacer_opts){ .reserve = bc->rate_reserve }, &pacer, &e) != MLC_OK ||
        bc_client_new(bc, token, pacer, &c, &e) != MLC_OK) {
        verdict(p, "bigcommerce", "store", V_FAIL, "%s", e.msg);
        goto out;
    }
    bc_client_tune(c, &tune);
    if (!bc_store_step(p, c)) {
        step_start(p);
        verdict(p, "bigcommerce", "resources", V_SKIP, "not tried: the store did not answer");
        goto out;
    }
    t = mono_ms();
    bc_probe(c, res, &n, &e);
    t = mono_ms() - t;
    /* bc_probe does not time its reads one by one: share the time out. */
    for (size_t i = 0; i < n; i++)
        if (strcmp(res[i].resource, "store") != 0)
            bc_report_probe(p, &res[i], n > 0 ? t / (int64_t)n : 0);
out:
    bc_client_free(c);
    pacer_free(pacer);
    secret_free(token);
}

/* ---- JD Edwards ---------------------------------------------------------- */

static void jde_defaultconfig(struct ping *p, struct ais_session *s)
{
    struct mlc_err e;
    json_t *dc = NULL;
    const char *ver, *env;

    mlc_err_clear(&e);
    step_start(p);
    if (ais_defaultconfig(s, &dc, &e) != MLC_OK) {
        verdict(p, "jde", "defaultconfig", V_FAIL, "%s", e.msg);
        return;
    }
    ver = json_string_value(json_object_get(dc, "aisVersion"));
    env = json_string_value(json_object_get(dc, "defaultEnvironment"));
    verdict(p, "jde", "defaultconfig", V_OK, "%s%s%s", ver != NULL ? ver : "AIS answered",
            env != NULL ? ", default environment " : "", env != NULL ? env : "");
    json_decref(dc);
}

static bool jde_login(struct ping *p, struct ais_session *s)
{
    struct ais_login_info li;
    struct mlc_err e;

    mlc_err_clear(&e);
    step_start(p);
    if (ais_session_login(s, &e) != MLC_OK) {
        if (e.code == MLC_EAUTH)
            verdict(p, "jde", "login", V_FAIL, "%s: check jde.user, jde.environment, jde.role "
                    "and the password (mlc credentials set jde --config %s)", e.msg,
                    p->cfg_path);
        else
            verdict(p, "jde", "login", V_FAIL, "%s", e.msg);
        return false;
    }
    ais_session_info(s, &li);
    verdict(p, "jde", "login", V_OK, "%s in %s as %s (dates %s)", li.username,
            li.environment[0] ? li.environment : "(default environment)",
            li.role[0] ? li.role : "(default role)", li.sdf[0] ? li.sdf : "?");
    return true;
}

/* The daemon's side of the login: it records its health conditions in the
 * store (watermark "health.conditions"); a "jde.login" there means its
 * logins fail and back off (jde.login_backoff_s after a refusal). */
static void jde_backoff(struct ping *p, struct store *st, bool ping_ok)
{
    const int backoff = p->cfg->jde.login_backoff_s;
    char *buf = st != NULL ? malloc(16384) : NULL;
    const json_t *c = NULL, *x;
    json_t *doc = NULL;
    size_t i;

    step_start(p);
    if (buf == NULL || store_watermark_get(st, "health.conditions", buf, 16384, NULL) != MLC_OK ||
        (doc = json_loads(buf, 0, NULL)) == NULL) {
        verdict(p, "jde", "login-backoff", V_OK, "no daemon has recorded a failing login "
                "(after a refused one it waits %d s: jde.login_backoff_s)", backoff);
        goto out;
    }
    json_array_foreach(json_object_get(doc, "conditions"), i, x)
        if (c == NULL && json_is_string(json_object_get(x, "condition")) &&
            strcmp(json_string_value(json_object_get(x, "condition")), "jde.login") == 0)
            c = x;
    if (c == NULL)
        verdict(p, "jde", "login-backoff", V_OK, "the daemon's AIS logins are not failing "
                "(after a refused one it waits %d s: jde.login_backoff_s)", backoff);
    else
        verdict(p, "jde", "login-backoff", V_FAIL, "the daemon's AIS login fails and backs off: "
                "%s. %s", json_string_value(json_object_get(c, "reason")),
                ping_ok ? "This ping logged in: if the stored password changed, restart the "
                          "daemon (it reads credentials at start); otherwise it logs in again "
                          "by itself then"
                        : "Fix the password (mlc credentials set jde), then restart the daemon");
out:
    json_decref(doc);
    free(buf);
}

static bool jde_validate(struct ping *p, struct ais_session *s)
{
    uint64_t before = ais_session_login_count(s);
    struct mlc_err e;

    mlc_err_clear(&e);
    step_start(p);
    if (ais_session_touch(s, &e) != MLC_OK) {
        verdict(p, "jde", "validate", V_FAIL, "%s", e.msg);
        return false;
    }
    if (ais_session_login_count(s) != before) {
        verdict(p, "jde", "validate", V_FAIL, "the token from the login was not valid; "
                "logged in again (is the AIS session timeout very short?)");
        return false;
    }
    verdict(p, "jde", "validate", V_OK, "token valid");
    return true;
}

struct orch_check {
    enum ais_orch_kind kind;
    const char        *key;   /* jde.orchestrations.<key> */
};

static const struct orch_check orch_checks[] = {
    { AIS_ORCH_JOURNAL, "add_journal_entry" },
    { AIS_ORCH_VOUCHER, "add_voucher" },
    { AIS_ORCH_ADD_CUSTOMER, "add_customer" },
    { AIS_ORCH_UPDATE_CUSTOMER, "update_customer" },
};

static bool orch_needed(const struct mlc_config *cfg, enum ais_orch_kind k, const char **why)
{
    switch (k) {
    case AIS_ORCH_JOURNAL:
        *why = "posting.mode is voucher";
        return cfg->posting.mode == CFG_POST_JOURNAL;
    case AIS_ORCH_VOUCHER:
        *why = "posting.mode is journal";
        return cfg->posting.mode == CFG_POST_VOUCHER;
    default:
        *why = "customers.enabled is false";
        return cfg->customers.enabled;
    }
}

/* The key a sample may have left in JDE, and where to look for it. */
static const char *sample_where(enum ais_orch_kind k)
{
    return k == AIS_ORCH_JOURNAL ? "F0911 VINV" : k == AIS_ORCH_VOUCHER ? "F0411 VINV"
                                                                        : "F0101 ALKY";
}

/* --orchestrations: one sample call in the validation mode (sync/dryrun.h). */
static void jde_dry_run(struct ping *p, struct ais_session *s, enum ais_orch_kind k,
                        const char *name)
{
    struct ais_orch_result res = { 0 };
    struct dryrun_sample sm;
    struct mlc_err e;
    int64_t doc;
    int rc;

    mlc_err_clear(&e);
    step_start(p);
    if (dryrun_sample(p->cfg, k, p->currency, time(NULL), &sm, &e) != MLC_OK) {
        verdict(p, "jde", "dry-run", k == AIS_ORCH_UPDATE_CUSTOMER ? V_SKIP : V_FAIL,
                "%s: no sample call: %s", name, e.msg);
        return;
    }
    rc = ais_orch_call(s, name, sm.in, &res, &e);
    switch (dryrun_judge(rc, &res, &doc)) {
    case DRYRUN_VALIDATED:
        verdict(p, "jde", "dry-run", V_OK, "%s validated a sample (%s %s): every check passed, "
                "nothing written", name, DRYRUN_INPUT, sm.key);
        break;
    case DRYRUN_REFUSED:
        verdict(p, "jde", "dry-run", V_FAIL, "%s refused the sample %s: %s", name, sm.key,
                e.msg);
        break;
    case DRYRUN_WROTE:
        verdict(p, "jde", "dry-run", V_FAIL, "%s ignored %s and WROTE number %lld (key %s in "
                "%s): void it in JDE, and fix the orchestration's validation branch",
                name, DRYRUN_INPUT, (long long)doc, sm.key, sample_where(k));
        break;
    case DRYRUN_UNCLEAR:
        verdict(p, "jde", "dry-run", V_FAIL, "%s answered without %s=1: it may have written "
                "the sample; look for %s in %s", name, DRYRUN_OUTPUT, sm.key, sample_where(k));
        break;
    case DRYRUN_NO_ANSWER:
        verdict(p, "jde", "dry-run", V_FAIL, "%s: %s; the sample may have been written: look "
                "for %s in %s", name, e.msg, sm.key, sample_where(k));
        break;
    }
    ais_orch_result_clear(&res);
    dryrun_sample_clear(&sm);
}

/* Every orchestration exists (discover). With --orchestrations, each needed
 * one that lists the validation input is called with a sample in that
 * mode; of the others the verdict says plainly that only existence was
 * checked. */
static void jde_orchestrations(struct ping *p, struct ais_session *s)
{
    for (size_t i = 0; i < sizeof(orch_checks) / sizeof(orch_checks[0]); i++) {
        const struct orch_check *oc = &orch_checks[i];
        const char *name = ais_orch_name(s, oc->kind), *why;
        bool needed = orch_needed(p->cfg, oc->kind, &why), mode;
        struct mlc_err e;
        json_t *d = NULL;
        int rc;

        mlc_err_clear(&e);
        step_start(p);
        rc = ais_discover(s, name, &d, &e);
        mode = rc == MLC_OK && dryrun_supported(d, &p->cfg->jde);
        json_decref(d);
        if (rc == MLC_OK && !needed)
            verdict(p, "jde", "orchestration", V_OK, "%s found (not needed: %s)", name, why);
        else if (rc == MLC_OK && p->dry_run && mode)
            verdict(p, "jde", "orchestration", V_OK, "%s found, with the validation mode "
                    "(%s)", name, ais_orch_rename(&p->cfg->jde, DRYRUN_INPUT));
        else if (rc == MLC_OK && p->dry_run)
            verdict(p, "jde", "orchestration", V_OK, "%s found; it has no validation mode "
                    "(no %s input), so only its existence was checked", name,
                    ais_orch_rename(&p->cfg->jde, DRYRUN_INPUT));
        else if (rc == MLC_OK)
            verdict(p, "jde", "orchestration", V_OK, "%s found (existence only; "
                    "--orchestrations calls it in its validation mode, if built)", name);
        else if (!needed)
            verdict(p, "jde", "orchestration", V_SKIP, "%s: not needed (%s), but: %s", name,
                    why, rc == MLC_ENOTFOUND ? "not found on the AIS server" : e.msg);
        else if (rc == MLC_ENOTFOUND)
            verdict(p, "jde", "orchestration", V_FAIL, "%s not found on the AIS server for "
                    "user %s (build it from docs/orchestrations.md, or correct "
                    "jde.orchestrations.%s)", name, p->cfg->jde.user, oc->key);
        else
            verdict(p, "jde", "orchestration", V_FAIL, "%s: %s", name, e.msg);
        if (rc == MLC_OK && needed && p->dry_run && mode)
            jde_dry_run(p, s, oc->kind, name);
    }
}

/* The --json detail of one bad mapping entry. */
static json_t *problem_json(const struct acct_problem *pb)
{
    const struct mapping_ref *r = pb->ref;
    char key[MAPPING_KEY_MAX], bu_key[MAPPING_KEY_MAX], acct[32], conf[32];
    json_t *d;

    mapping_key(r, key, sizeof(key));
    d = json_pack("{s:s, s:s, s:s, s:s}", "key", key,
                  "kind", r->kind == MAPPING_BU ? "business_unit" : "account",
                  "reason", acct_reason_name(pb->reason), "business_unit", r->bu);
    if (d == NULL)
        return NULL;
    cfg_account_format(&r->configured, conf, sizeof(conf));
    if (r->kind == MAPPING_BU) {
        /* An account's own business unit: say which account. */
        if (r->configured.obj[0] != '\0')
            json_object_set_new(d, "configured", json_string(conf));
        return d;
    }
    cfg_account_format(&r->account, acct, sizeof(acct));
    mapping_bu_key(r, bu_key, sizeof(bu_key));
    json_object_set_new(d, "account", json_string(acct));
    json_object_set_new(d, "configured", json_string(conf));
    json_object_set_new(d, "business_unit_key", bu_key[0] ? json_string(bu_key) : json_null());
    if (pb->reason == ACCT_NOT_POSTABLE)
        json_object_set_new(d, "pec", json_string(pb->pec));
    return d;
}

/* Every account and business unit the posting configuration names, as
 * posted, against F0901 and F0006 (batched reads, a fresh cache). */
static void jde_mapping(struct ping *p, struct ais_session *s)
{
    struct acct_cache *cache = NULL;
    struct acct_report rep = { 0 };
    struct mapping m = { 0 };
    struct mlc_err e;
    char text[PING_MSG_MAX];

    mlc_err_clear(&e);
    step_start(p);
    if (mapping_build(&p->cfg->posting, &m, &e) != MLC_OK ||
        acct_cache_new(&cache, &e) != MLC_OK ||
        acct_check_mapping(cache, s, &m, &rep, &e) != MLC_OK) {
        verdict(p, "jde", "mapping", V_FAIL, "cannot check the accounts of the posting "
                "configuration: %s", e.msg);
        goto out;
    }
    if (rep.n_problems == 0)
        verdict_detail(p, "jde", "mapping", V_OK,
                       json_pack("{s:I, s:I}", "accounts", (json_int_t)rep.n_accounts,
                                 "business_units", (json_int_t)rep.n_bus),
                       "%zu account(s) and %zu business unit(s) of the posting "
                       "configuration checked: all exist (F0901, F0006), every account "
                       "postable", rep.n_accounts, rep.n_bus);
    for (size_t i = 0; i < rep.n_problems; i++) {
        acct_problem_text(&rep.problems[i], text, sizeof(text));
        verdict_detail(p, "jde", "mapping", V_FAIL, problem_json(&rep.problems[i]), "%s",
                       text);
    }
out:
    acct_report_clear(&rep);
    acct_cache_free(cache);
    mapping_clear(&m);
}

static void jde_skip(struct ping *p, const char *from, const char *why)
{
    static const char *const steps[] = { "defaultconfig", "login", "validate",
                                         "orchestration", "mapping" };
    bool on = false;

    step_start(p);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        on = on || strcmp(steps[i], from) == 0;
        if (on)
            verdict(p, "jde", steps[i], V_SKIP, "not tried: %s", why);
    }
}

static void ping_jde(struct ping *p, struct cred_src *cs)
{
    const struct cfg_jde *jc = &p->cfg->jde;
    /* No login back-off: ping logs in once and says so itself. */
    struct ais_session_opts opts = { .read_attempts = 1, .retry_base_ms = 250,
                                     .login_backoff_ms = -1 };
    struct mlc_secret *pw = NULL;
    struct ais_session *s = NULL;
    struct mlc_err e;
    bool reached, have_pw, logged_in;

    mlc_err_clear(&e);
    reached = reach(p, "jde", jc->ais_base_url, jc->ca_file, "jde.ca_file", jc->timeout_ms);
    have_pw = load_cred(p, "jde", "jde", jc->password_ref, "jde.password_ref", cs, &pw);
    if (!reached || !have_pw) {
        jde_skip(p, "defaultconfig", !reached ? "the AIS server is not reachable"
                                              : "no password");
        goto out;
    }
    step_start(p);
    if (ais_session_new(jc, pw, &opts, &s, &e) != MLC_OK) {
        verdict(p, "jde", "defaultconfig", V_FAIL, "%s", e.msg);
        goto out;
    }
    jde_defaultconfig(p, s);
    logged_in = jde_login(p, s);
    jde_backoff(p, cs->store, logged_in);
    if (!logged_in) {
        jde_skip(p, "validate", "the login failed");
        goto out;
    }
    jde_validate(p, s);
    jde_orchestrations(p, s);
    jde_mapping(p, s);
    step_start(p);
    if (ais_session_logout(s, &e) != MLC_OK)
        verdict(p, "jde", "logout", V_FAIL, "%s", e.msg);
    else
        verdict(p, "jde", "logout", V_OK, "session ended");
out:
    ais_session_free(s);
    secret_free(pw);
}

/* ---- entry --------------------------------------------------------------- */

struct ping_args {
    const char *config;
    bool        json;
    bool        orchestrations;
};

static const struct cmdo_opt ping_opts[] = {
    CMDO_CONFIG(struct ping_args),
    CMDO_JSON(struct ping_args, "an array of {system, step, ok, status, message, ms}; the "
              "mapping steps add a \"detail\" object"),
    { "orchestrations", 'o', CMDO_FLAG, offsetof(struct ping_args, orchestrations), NULL,
      "also call each needed orchestration built with the validation mode (ValidateOnly) "
      "with a sample: nothing is written", 0, 0 },
    CMDO_END,
};
static const struct cmdo_spec ping_spec = {
    "ping", "", "test the connection to BigCommerce and JD Edwards, step by step", ping_opts,
    "Steps: reach (DNS, TCP, TLS), credentials, store information and one read of every\n"
    "resource the flows use; AIS defaultconfig, login, validate, each needed orchestration,\n"
    "and every account and business unit the posting configuration names (F0901: exists\n"
    "and postable; F0006: exists), one FAIL line per bad one with its configuration key.\n"
    "One verdict per step (ok, FAIL, skip). Without --orchestrations only the existence of\n"
    "each orchestration is checked (docs/orchestrations.md, \"Validation mode\").\n"
    "Exit status: 0 when every step the configuration needs works, 1 otherwise.",
};
const struct cmdo_spec *const cmd_ping_specs[] = { &ping_spec, NULL };

/* Quiet below error: the verdicts carry every failure. Debug stays available. */
static void ping_log_level(const struct mlc_config *cfg)
{
    enum log_level lvl = LOG_LVL_ERROR;

    if (cfg->log_level != NULL && log_parse_level(cfg->log_level, &lvl) == MLC_OK &&
        lvl == LOG_LVL_DEBUG)
        log_set_level(LOG_LVL_DEBUG);
    else
        log_set_level(LOG_LVL_ERROR);
}

static void cred_src_open(struct cred_src *cs, const struct mlc_config *cfg)
{
    memset(cs, 0, sizeof(*cs));
    if (credentials_open_vault(cfg, &cs->vault, &cs->vault_err) != MLC_OK)
        cs->vault = NULL;
    if (store_open_with(cfg->store.url, cfg->store.password_ref, &cs->store,
                        &cs->store_err) != MLC_OK)
        cs->store = NULL;
}

static void cred_src_close(struct cred_src *cs)
{
    store_close(cs->store);
    vault_free(cs->vault);
    memset(cs, 0, sizeof(*cs));
}

int cmd_ping(int argc, char **argv)
{
    struct ping_args a = { 0 };
    struct ping p = { 0 };
    struct mlc_config *cfg = NULL;
    struct cred_src cs;
    struct mlc_err e;
    const char *path;
    int npos, rc;

    mlc_err_clear(&e);
    if ((rc = cmdo_parse(&ping_spec, argc, argv, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos != 0)
        return cmdo_fail(&ping_spec, "unexpected argument '%s'", argv[1]);
    p.json = a.json;
    p.dry_run = a.orchestrations;
    path = cmdu_config(a.config);
    if (cfg_load(path, &cfg, &e) != MLC_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 1;
    }
    ping_log_level(cfg);
    if (tz_init(cfg->posting.timezone, &e) != MLC_OK) /* the dry run's GL date */
        fprintf(stderr, PROG ": %s; GL dates in UTC\n", e.msg);
    p.cfg = cfg;
    p.cfg_path = path;
    if (p.json && (p.steps = json_array()) == NULL) {
        cfg_unref(cfg);
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    cred_src_open(&cs, cfg);
    ping_bigcommerce(&p, &cs);
    ping_jde(&p, &cs);
    cred_src_close(&cs);
    if (p.json) {
        char *s = json_dumps(p.steps, JSON_INDENT(2));

        if (s == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            p.failures++;
        } else {
            printf("%s\n", s);
        }
        free(s);
        json_decref(p.steps);
    } else {
        printf("%s: %u step(s) failed\n", p.failures == 0 ? "ping ok" : "ping FAILED",
               p.failures);
    }
    cfg_unref(cfg);
    return p.failures == 0 ? 0 : 1;
}
