#include "sync/customer_flow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bc/bc_client.h"
#include "core/log.h"
#include "jde/ais_data.h"
#include "jde/ais_orch.h"
#include "store/store.h"
#include "sync/env.h"

#define CUST_KIND    "customer"
#define CUST_DCT     "AB"               /* address book: the ledger's doc type */
#define CUST_SENT    "customer.sent:"   /* watermark: hash of the fields last sent */
#define CUST_KEY_MAX 20                 /* ALKY */

/* Names and JDE lengths (the simulator's and the contract's). */
static const struct {
    const char *name;
    size_t      max;
    bool        cfg;
} fields[CUST_F_COUNT] = {
    [CUST_F_LONG_ADDRESS]  = { "LongAddressNumber", CUST_KEY_MAX, false },
    [CUST_F_ALPHA_NAME]    = { "AlphaName", 40, false },
    [CUST_F_MAILING_NAME]  = { "MailingName", 40, false },
    [CUST_F_SEARCH_TYPE]   = { "SearchType", 3, true },
    [CUST_F_ADDRESS1]      = { "AddressLine1", 40, false },
    [CUST_F_ADDRESS2]      = { "AddressLine2", 40, false },
    [CUST_F_CITY]          = { "City", 25, false },
    [CUST_F_STATE]         = { "State", 3, false },
    [CUST_F_POSTAL_CODE]   = { "PostalCode", 12, false },
    [CUST_F_COUNTRY]       = { "Country", 3, false },
    [CUST_F_EMAIL]         = { "Email", 256, false },
    [CUST_F_PHONE]         = { "Phone", 20, false },
    [CUST_F_COMPANY]       = { "Company", 5, true },
    [CUST_F_AR_CLASS]      = { "ARClass", 3, true },
    [CUST_F_CURRENCY]      = { "Currency", 3, true },
    [CUST_F_PAYMENT_TERMS] = { "PaymentTerms", 3, true },
};

const char *cust_field_name(enum cust_field f)
{
    return (unsigned)f < CUST_F_COUNT ? fields[f].name : NULL;
}

size_t cust_field_max(enum cust_field f)
{
    return (unsigned)f < CUST_F_COUNT ? fields[f].max : 0;
}

int cust_key_parse(const char *key, int64_t *customer_id, struct mlc_err *e)
{
    return flow_key_parse(key, CUST_KEY, customer_id, e);
}

/* ---- mapping (pure) ------------------------------------------------------ */

static bool blank(const char *s)
{
    return s == NULL || s[0] == '\0';
}

struct cust_opts cust_opts_of(const struct mlc_config *cfg)
{
    struct cust_opts o = {
        .key_prefix = cfg->posting.key_prefix,
        .company = cfg->posting.company,
        .search_type = cfg->customers.search_type,
        .ar_class = cfg->customers.ar_class,
        .currency = cfg->customers.currency,
        .payment_terms = cfg->customers.payment_terms,
    };

    return o;
}

/* The longest prefix of s of at most max bytes that does not split a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    size_t k = max;

    if (n <= max)
        return n;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

static int set_field(struct cust_map *m, enum cust_field f, const char *v, struct mlc_err *e)
{
    size_t n, k;

    if (v == NULL)
        v = "";
    n = strlen(v);
    k = utf8_cut(v, n, fields[f].max);
    free(m->v[f]);
    if ((m->v[f] = strndup(v, k)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    m->cut[f] = k < n ? n : 0;
    return MLC_OK;
}

/* "a<sep>b", or the one that is not blank, or "" (caller frees). */
static char *join(const char *a, const char *sep, const char *b)
{
    size_t cap;
    char *s;

    if (blank(a) || blank(b))
        return strdup(!blank(a) ? a : !blank(b) ? b : "");
    cap = strlen(a) + strlen(sep) + strlen(b) + 1;
    if ((s = malloc(cap)) != NULL)
        snprintf(s, cap, "%s%s%s", a, sep, b);
    return s;
}

static const struct bc_address *first_address(const struct bc_customer *c)
{
    const struct bc_address *best = NULL;

    for (size_t i = 0; i < c->n_addresses; i++)
        if (best == NULL || c->addresses[i].id < best->id)
            best = &c->addresses[i];
    return best;
}

void cust_map_clear(struct cust_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < CUST_F_COUNT; i++)
        free(m->v[i]);
    memset(m, 0, sizeof(*m));
}

/* AlphaName: the company, else "Last, First", else whatever names the
 * customer (JDE refuses a blank AlphaName). */
static char *alpha_name(const struct bc_customer *c)
{
    char buf[40];

    if (!blank(c->company))
        return strdup(c->company);
    if (!blank(c->first_name) || !blank(c->last_name))
        return join(c->last_name, ", ", c->first_name);
    if (!blank(c->email))
        return strdup(c->email);
    snprintf(buf, sizeof(buf), "Customer %" PRId64, c->id);
    return strdup(buf);
}

static int map_names(const struct bc_customer *c, struct cust_map *m, struct mlc_err *e)
{
    char *alpha = alpha_name(c), *mail = join(c->first_name, " ", c->last_name);
    int rc;

    if (alpha == NULL || mail == NULL)
        rc = mlc_err_set(e, MLC_ENOMEM, "out of memory");
    else if ((rc = set_field(m, CUST_F_ALPHA_NAME, alpha, e)) == MLC_OK)
        rc = set_field(m, CUST_F_MAILING_NAME, blank(mail) ? alpha : mail, e);
    free(alpha);
    free(mail);
    return rc;
}

static int map_address(const struct bc_customer *c, struct cust_map *m, struct mlc_err *e)
{
    const struct bc_address *a = first_address(c);
    static const struct bc_address none = { 0 };
    int rc;

    m->address_id = a != NULL ? a->id : 0;
    if (a == NULL)
        a = &none;
    if ((rc = set_field(m, CUST_F_ADDRESS1, a->address1, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_ADDRESS2, a->address2, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_CITY, a->city, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_STATE, a->state_or_province, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_POSTAL_CODE, a->postal_code, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_COUNTRY, a->country_code, e)) != MLC_OK)
        return rc;
    return set_field(m, CUST_F_PHONE, !blank(c->phone) ? c->phone : a->phone, e);
}

static int map_config(const struct cust_opts *o, struct cust_map *m, struct mlc_err *e)
{
    char kco[6];
    int rc;

    flow_kco_pad(o->company, kco);
    if ((rc = set_field(m, CUST_F_SEARCH_TYPE, !blank(o->search_type) ? o->search_type : "C",
                        e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_COMPANY, kco, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_AR_CLASS, o->ar_class, e)) != MLC_OK ||
        (rc = set_field(m, CUST_F_CURRENCY, o->currency, e)) != MLC_OK)
        return rc;
    return set_field(m, CUST_F_PAYMENT_TERMS, o->payment_terms, e);
}

int cust_map_build(const struct bc_customer *c, const struct cust_opts *o,
                   struct cust_map *out, struct mlc_err *e)
{
    char key[64];
    int n, rc;

    memset(out, 0, sizeof(*out));
    if (c == NULL || o == NULL || c->id <= 0)
        return mlc_err_set(e, MLC_EINVAL, "cust_map_build: bad arguments");
    n = snprintf(key, sizeof(key), "%s%" PRId64, !blank(o->key_prefix) ? o->key_prefix : "BC",
                 c->id);
    /* The key is never cut: two customers would share one JDE record. */
    if (n < 0 || (size_t)n > CUST_KEY_MAX)
        return mlc_err_set(e, MLC_EINVAL, "customer %" PRId64 ": the key '%s' is longer than "
                           "JDE's %d characters (shorten posting.key_prefix)", c->id, key,
                           CUST_KEY_MAX);
    if ((rc = set_field(out, CUST_F_LONG_ADDRESS, key, e)) == MLC_OK &&
        (rc = map_names(c, out, e)) == MLC_OK &&
        (rc = map_address(c, out, e)) == MLC_OK &&
        (rc = set_field(out, CUST_F_EMAIL, c->email, e)) == MLC_OK)
        rc = map_config(o, out, e);
    if (rc != MLC_OK)
        cust_map_clear(out);
    return rc;
}

int cust_map_json(const struct cust_map *m, char **out, struct mlc_err *e)
{
    json_t *j = json_object();
    int rc = MLC_OK;

    *out = NULL;
    for (size_t i = 0; j != NULL && i < CUST_F_COUNT && rc == MLC_OK; i++)
        if (json_object_set_new(j, fields[i].name, json_string(m->v[i] != NULL ? m->v[i] : ""))
            != 0)
            rc = MLC_ENOMEM;
    if (j != NULL && rc == MLC_OK)
        *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (*out == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    return MLC_OK;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    for (size_t i = 0; i < sizeof(h); i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

int cust_map_hash(const struct cust_map *m, char out[65], struct mlc_err *e)
{
    char *s = NULL;
    int rc = cust_map_json(m, &s, e);

    out[0] = '\0';
    if (rc == MLC_OK)
        sha256_hex(s, out);
    free(s);
    return rc;
}

/* ---- the run ---------------------------------------------------------------- */

struct cx {
    const struct flow_run *r;
    int64_t                id;
    char                   entity[40];
    const char            *key;       /* m.v[CUST_F_LONG_ADDRESS] */
    struct cust_map        m;
    char                  *req;       /* the fields as JSON (ledger request) */
    char                   hash[65];  /* of req */
    char                   kco[6];
    int64_t                an8;       /* 0 until known */
    bool                   created;   /* by this run: nothing to update */
    int64_t                defer_until; /* FLOW_DEFERRED: again then (Unix ms) */
    enum hold_code         hold_code;   /* FLOW_HELD: why */
};

static void audit(struct cx *x, const char *action, const char *outcome, json_t *detail)
{
    flow_audit(x->r, x->entity, action, outcome, detail);
}

/* The customer with its addresses; *found false when BigCommerce has none. */
static int fetch(struct cx *x, struct bc_customer **out, size_t *n, struct mlc_err *e)
{
    struct bc_customer_filter f = { .ids = &x->id, .n_ids = 1, .addresses = true };
    struct bc_client *c = NULL;
    int rc;

    if ((rc = env_bc(x->r->env, &c, e)) == MLC_OK)
        rc = bc_customers_list(c, &f, out, n, e);
    if (rc != MLC_OK) {
        mlc_err_wrap(e, "customer %" PRId64 ": fetch", x->id);
        audit(x, "fetch", "error", json_pack("{s:s}", "error", e->msg));
    }
    return rc;
}

/* Maps the customer and audits every value cut to its JDE length. */
static int map(struct cx *x, const struct bc_customer *c, struct mlc_err *e)
{
    struct cust_opts o = cust_opts_of(x->r->cfg);
    int rc = cust_map_build(c, &o, &x->m, e);

    if (rc == MLC_EINVAL)
        return flow_hold(e, &x->hold_code, HOLD_OTHER, "%s", e->msg);
    if (rc != MLC_OK)
        return rc;
    x->key = x->m.v[CUST_F_LONG_ADDRESS];
    audit(x, "fetch", "ok", json_pack("{s:s, s:I, s:I}", "key", x->key, "address_id",
                                      (json_int_t)x->m.address_id, "addresses",
                                      (json_int_t)c->n_addresses));
    for (size_t i = 0; i < CUST_F_COUNT; i++)
        if (x->m.cut[i] > 0)
            audit(x, "truncate", "ok",
                  json_pack("{s:s, s:s, s:I, s:I}", "key", x->key, "field", fields[i].name,
                            "length", (json_int_t)x->m.cut[i], "max", (json_int_t)fields[i].max));
    flow_kco_pad(x->m.v[CUST_F_COMPANY], x->kco);
    if ((rc = cust_map_json(&x->m, &x->req, e)) != MLC_OK)
        return rc;
    sha256_hex(x->req, x->hash);
    return MLC_OK;
}

int cust_orch_inputs(const struct cust_map *m, int64_t an8, struct ais_orch_in **out,
                     struct mlc_err *e)
{
    struct ais_orch_in *in = NULL;
    bool update = an8 > 0;
    int rc;

    *out = NULL;
    if ((rc = ais_orch_in_new(&in, e)) != MLC_OK)
        return rc;
    if (update)
        rc = ais_orch_in_i64(in, "AddressNumber", an8, e);
    for (size_t i = 0; i < CUST_F_COUNT && rc == MLC_OK; i++) {
        if (m->v[i][0] == '\0' && (!update || fields[i].cfg))
            continue;
        rc = ais_orch_in_str(in, fields[i].name, m->v[i], e);
    }
    if (rc != MLC_OK) {
        ais_orch_in_free(in);
        return rc;
    }
    *out = in;
    return MLC_OK;
}

/* Records hash as the fields last sent to JDE for the key. Best effort: a
 * lost mark costs one more (harmless) update. */
static void mark_sent(struct cx *x, const char *hash)
{
    char name[64];
    struct mlc_err we;

    snprintf(name, sizeof(name), CUST_SENT "%s", x->key);
    if (store_watermark_set(x->r->st, name, hash, &we) != MLC_OK)
        log_warn("customer", "cannot record the fields sent", LF_STR("key", x->key),
                 LF_ERR(&we));
}

/* Sends MLC_AddCustomer, if still before send_by (flow_send_by, taken
 * before the row's begin); the PENDING ledger row exists. */
static int create(struct cx *x, int64_t send_by, struct mlc_err *e)
{
    struct ais_session *s = env_ais(x->r->env);
    const char *name = ais_orch_name(s, AIS_ORCH_ADD_CUSTOMER);
    struct ais_orch_result res = { 0 };
    struct ais_orch_in *in = NULL;
    struct mlc_err le;
    int64_t an8 = 0;
    bool no_number = false;
    int rc;

    if ((rc = cust_orch_inputs(&x->m, 0, &in, e)) != MLC_OK) {
        store_ledger_forget(x->r->st, x->key, &le); /* nothing was sent */
        return rc;
    }
    rc = ais_orch_call_by(s, name, in, send_by, &res, e);
    ais_orch_in_free(in);
    if (rc == MLC_OK && (ais_orch_out_i64(&res, "AddressNumber", &an8, e) != MLC_OK || an8 <= 0)) {
        /* It answered OK without a number: JDE is asked on the retry. */
        no_number = true;
        rc = MLC_EPROTO;
        mlc_err_set(e, MLC_EPROTO, "%s: JDE answered without an address number", x->key);
    }
    if (rc == MLC_OK) {
        /* A failed mark leaves the row PENDING: the next run adopts. */
        rc = store_ledger_mark_posted(x->r->st, x->key, CUST_DCT, x->kco, an8, 0, e);
        audit(x, "create", rc == MLC_OK ? "ok" : "error",
              json_pack("{s:s, s:s, s:I}", "key", x->key, "orchestration", name,
                        "an8", (json_int_t)an8));
        if (rc == MLC_OK) {
            x->an8 = an8;
            x->created = true;
            mark_sent(x, x->hash);
        }
        goto out;
    }
    if (!no_number && (res.rejected || rc == MLC_ENOTFOUND)) {
        char msg[MLC_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", e->msg);
        store_ledger_forget(x->r->st, x->key, &le);
        audit(x, "create", "rejected", json_pack("{s:s, s:s}", "key", x->key, "error", msg));
        rc = flow_hold(e, &x->hold_code, HOLD_JDE_ERROR,
                       "%s: JD Edwards refused the customer: %s", x->key, msg);
        goto out;
    }
    if (res.reauth || res.not_sent) {
        /* AIS refused the token before running anything, or the send
         * window had passed: nothing written. */
        store_ledger_forget(x->r->st, x->key, &le);
        audit(x, "create", "not_sent", json_pack("{s:s, s:s}", "key", x->key, "error", e->msg));
        if (rc >= 0)
            rc = MLC_EAUTH;
        goto out;
    }
    /* No answer, a gateway's status or a transport error: it may have
     * committed, or may still. Asked again shortly; "absent" counts only
     * after the settle time (ensure). */
    if (store_ledger_mark_unknown(x->r->st, x->key, &le) != MLC_OK)
        log_warn("customer", "cannot mark the ledger row unknown", LF_STR("key", x->key),
                 LF_ERR(&le));
    audit(x, "create", "unknown",
          json_pack("{s:s, s:s, s:b, s:I}", "key", x->key, "error", e->msg,
                    "outcome_unknown", res.outcome_unknown, "status", (json_int_t)res.status));
    mlc_err_wrap(e, "%s: outcome unknown, JDE is looked up before any new attempt", x->key);
    x->defer_until = store_now_ms(x->r->st) + FLOW_RECHECK_MS;
    rc = FLOW_DEFERRED;
out:
    ais_orch_result_clear(&res);
    return rc;
}

/* Found in JDE by its key: recorded as ours. request: the fields of a row
 * left in doubt (they were sent by the create that committed), NULL when
 * there was no row (then nobody knows what JDE holds: updated once). */
static int adopt(struct cx *x, bool have_row, const char *request, struct mlc_err *e)
{
    char h[65];
    int rc = MLC_OK;

    if (x->r->dry_run)
        return MLC_OK;
    if (!have_row)
        rc = store_ledger_begin(x->r->st, x->key, CUST_KIND, x->entity, x->req, e);
    if (rc == MLC_OK)
        rc = store_ledger_mark_posted(x->r->st, x->key, CUST_DCT, x->kco, x->an8, 0, e);
    if (rc != MLC_OK)
        return rc;
    if (have_row && request != NULL) {
        sha256_hex(request, h);
        mark_sent(x, h);
    }
    audit(x, "adopt", "ok", json_pack("{s:s, s:I, s:s}", "key", x->key, "an8", (json_int_t)x->an8,
                                      "why", have_row ? "in doubt, found in JDE"
                                                      : "no ledger row, found in JDE"));
    return MLC_OK;
}

/* Contract §3: ledger first, then F0101; adopt or create. Sets x->an8
 * (0 in a dry run that would create). */
static int ensure(struct cx *x, struct mlc_err *e)
{
    struct store_ledger row = { 0 };
    bool have_row, found = false;
    int64_t asked, send_by;
    int rc;

    rc = store_ledger_get(x->r->st, x->key, &row, e);
    if (rc == MLC_OK && row.state == STORE_LEDGER_POSTED) {
        x->an8 = row.doc_number;
        goto out;
    }
    if (rc != MLC_OK && rc != MLC_ENOTFOUND)
        goto out;
    have_row = rc == MLC_OK;
    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        goto out;
    asked = store_now_ms(x->r->st);
    rc = ais_customer_exists(env_ais(x->r->env), x->key, &found, &x->an8, e);
    if (rc != MLC_OK) {
        audit(x, "lookup", "error", json_pack("{s:s, s:s}", "key", x->key, "error", e->msg));
        goto out;
    }
    audit(x, "lookup", found ? "found" : "absent",
          json_pack("{s:s, s:s, s:I, s:b}", "key", x->key, "table", "F0101",
                    "an8", (json_int_t)x->an8, "ledger_row", have_row));
    if (found) {
        rc = adopt(x, have_row, row.request, e);
        goto out;
    }
    /* A row in doubt that JDE does not have: once its create can no longer
     * land (posting rules §3's settle time), start again with these fields. */
    if (have_row && row.state != STORE_LEDGER_POSTED &&
        (rc = flow_settle(x->r, x->key, row.created_at, asked, &x->defer_until, e)) != MLC_OK) {
        audit(x, "settle", "waiting",
              json_pack("{s:s, s:I, s:I}", "key", x->key, "sent_at_ms",
                        (json_int_t)row.created_at, "again_at_ms",
                        (json_int_t)x->defer_until));
        goto out;
    }
    if (x->r->dry_run)
        goto out;
    if (have_row && (rc = store_ledger_forget(x->r->st, x->key, e)) != MLC_OK)
        goto out;
    send_by = flow_send_by();
    if ((rc = store_ledger_begin(x->r->st, x->key, CUST_KIND, x->entity, x->req, e)) == MLC_OK)
        rc = create(x, send_by, e);
out:
    store_ledger_clear(&row);
    return rc;
}

/* MLC_UpdateCustomer when the fields differ from those last sent. */
static int update(struct cx *x, struct mlc_err *e)
{
    struct ais_session *s = env_ais(x->r->env);
    const char *name = ais_orch_name(s, AIS_ORCH_UPDATE_CUSTOMER);
    struct ais_orch_result res = { 0 };
    struct ais_orch_in *in = NULL;
    char wm[64], last[80];
    struct mlc_err we;
    int rc;

    snprintf(wm, sizeof(wm), CUST_SENT "%s", x->key);
    if (store_watermark_get(x->r->st, wm, last, sizeof(last), &we) == MLC_OK &&
        strcmp(last, x->hash) == 0) {
        audit(x, "update", "skipped", json_pack("{s:s, s:I, s:s}", "key", x->key,
                                                "an8", (json_int_t)x->an8, "why", "unchanged"));
        return MLC_OK;
    }
    if (x->r->dry_run || x->an8 <= 0)
        return MLC_OK;
    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        return rc;
    if ((rc = cust_orch_inputs(&x->m, x->an8, &in, e)) != MLC_OK)
        return rc;
    rc = ais_orch_call(s, name, in, &res, e);
    ais_orch_in_free(in);
    if (rc == MLC_OK) {
        mark_sent(x, x->hash);
        audit(x, "update", "ok", json_pack("{s:s, s:s, s:I}", "key", x->key,
                                           "orchestration", name, "an8", (json_int_t)x->an8));
    } else if (res.rejected || rc == MLC_ENOTFOUND) {
        char msg[MLC_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", e->msg);
        audit(x, "update", "rejected", json_pack("{s:s, s:I, s:s}", "key", x->key,
                                                 "an8", (json_int_t)x->an8, "error", msg));
        rc = flow_hold(e, &x->hold_code, HOLD_JDE_ERROR,
                       "%s: JD Edwards refused the update of address number %" PRId64
                       ": %s", x->key, x->an8, msg);
    } else {
        /* An update is safe to send again: the retry does. */
        audit(x, "update", "unknown", json_pack("{s:s, s:I, s:s}", "key", x->key,
                                                "an8", (json_int_t)x->an8, "error", e->msg));
        mlc_err_wrap(e, "%s: update", x->key);
        if (rc >= 0)
            rc = MLC_EIO;
    }
    ais_orch_result_clear(&res);
    return rc;
}

static int run(struct cx *x, struct mlc_err *e)
{
    struct bc_customer *cs = NULL;
    size_t n = 0;
    int rc;

    if ((rc = flow_run_checkpoint(x->r, e)) != MLC_OK)
        return rc;
    if ((rc = fetch(x, &cs, &n, e)) != MLC_OK)
        return rc;
    if (n == 0) {
        audit(x, "fetch", "not found", json_pack("{s:I}", "customer_id", (json_int_t)x->id));
        goto out;
    }
    if ((rc = map(x, &cs[0], e)) == MLC_OK && (rc = ensure(x, e)) == MLC_OK && !x->created)
        rc = update(x, e);
out:
    bc_customers_free(cs, n);
    return rc;
}

int cust_sync(const struct flow_run *r, int64_t customer_id, enum flow_result *res,
              struct mlc_err *e)
{
    struct cx x;
    struct mlc_err err;
    int rc;

    if (r == NULL || r->env == NULL || r->st == NULL || r->cfg == NULL || res == NULL ||
        customer_id <= 0)
        return mlc_err_set(e, MLC_EINVAL, "cust_sync: bad arguments");
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.id = customer_id;
    snprintf(x.entity, sizeof(x.entity), CUST_KEY "%" PRId64, customer_id);
    mlc_err_clear(&err);
    rc = run(&x, &err);
    *res = flow_result_of(r, rc);
    if (*res == FLOW_DEFER && r->defer_until != NULL)
        r->defer_until[0] = x.defer_until;
    if (*res == FLOW_HOLD && r->hold != NULL)
        r->hold[0] = (struct flow_hold_info){ .code = x.hold_code };
    if (*res == FLOW_HOLD)
        audit(&x, "hold", "held", json_pack("{s:s}", "reason", err.msg));
    if (*res == FLOW_DONE)
        mlc_err_clear(&err);
    if (e != NULL)
        *e = err;
    cust_map_clear(&x.m);
    free(x.req);
    return MLC_OK;
}
