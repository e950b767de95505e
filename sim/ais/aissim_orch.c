/*
 * aissim_orch: the four orchestrations of the JDE contract (journal entry,
 * voucher, add and update customer) with JDE-like validation, writing the
 * rows the data service then reads, and the discover listing.
 *
 * Validation failures are grouped in kinds ("account", "balance", "date",
 * "length", "company", "amount", "required", "input", "supplier",
 * "address", "duplicate", "currency", "forced"); settings.error_style maps
 * a kind (or "default") to "500" (ServiceErrorResponse) or "200" (HTTP 200
 * with jde__status "ERROR"). Like JDE's default, a repeated Reference or
 * InvoiceNumber is accepted: double posting stays observable.
 */
#include "aissim_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"
#include "core/money.h"

struct spec {
    const char        *grid;      /* detail grid name, NULL when none */
    const char *const *inputs;    /* header input names, NULL-terminated */
    const char *const *grid_in;   /* grid row input names */
    const char *const *outputs;
    const char        *desc;
};

static const char *const je_in[] = { "Company", "DocumentType", "GLDate", "Explanation",
                                     "Reference", "Currency", "LedgerType", NULL };
static const char *const je_grid[] = { "Account", "Amount", "Remark", "Subledger",
                                       "SubledgerType", NULL };
static const char *const doc_out[] = { "DocumentNumber", "DocumentType", "DocumentCompany",
                                       "BatchNumber", NULL };
static const char *const pv_in[] = { "Company", "SupplierNumber", "InvoiceNumber",
                                     "InvoiceDate", "GLDate", "GrossAmount", "Currency",
                                     "Remark", NULL };
static const char *const pv_grid[] = { "Account", "Amount", "Remark", NULL };
#define CUST_FIELDS "LongAddressNumber", "AlphaName", "MailingName", "SearchType", \
    "AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4", "City", "State", \
    "PostalCode", "Country", "Email", "Phone", "Company", "ARClass", "Currency", "PaymentTerms"
static const char *const ac_in[] = { CUST_FIELDS, NULL };
static const char *const uc_in[] = { "AddressNumber", CUST_FIELDS, NULL };
static const char *const cust_out[] = { "AddressNumber", NULL };

static const struct spec specs[AISSIM_ORCH_COUNT] = {
    { "Lines", je_in, je_grid, doc_out, "Add a G/L journal entry (P0911)" },
    { "GLDistribution", pv_in, pv_grid, doc_out, "Add an A/P voucher (P0411)" },
    { NULL, ac_in, NULL, cust_out, "Add a customer (P01012 + P03013)" },
    { NULL, uc_in, NULL, cust_out, "Update a customer (P01012 + P03013)" },
};

/* Customer inputs: where each one lands and its JDE length. */
static const struct { const char *in, *table, *alias; int len; } cust_map[] = {
    { "LongAddressNumber", "F0101", "ALKY", 20 }, { "AlphaName", "F0101", "ALPH", 40 },
    { "SearchType", "F0101", "AT1", 3 }, { "MailingName", "F0111", "MLNM", 40 },
    { "AddressLine1", "F0116", "ADD1", 40 }, { "AddressLine2", "F0116", "ADD2", 40 },
    { "AddressLine3", "F0116", "ADD3", 40 }, { "AddressLine4", "F0116", "ADD4", 40 },
    { "City", "F0116", "CTY1", 25 }, { "State", "F0116", "ADDS", 3 },
    { "PostalCode", "F0116", "ADDZ", 12 }, { "Country", "F0116", "CTR", 3 },
    { "Email", "F01151", "EMAL", 256 }, { "Phone", "F0115", "PH1", 20 },
    { "Company", "F03012", "CO", 5 }, { "ARClass", "F03012", "ARC", 3 },
    { "Currency", "F03012", "CRCD", 3 }, { "PaymentTerms", "F03012", "TRAR", 3 },
};
#define N_CUST (sizeof(cust_map) / sizeof(cust_map[0]))

/* One orchestration call. */
struct octx {
    struct aissim            *s;
    const struct aissim_user *user;
    const char               *name;
    int                       kind;
    int                       version;
    json_t                   *inputs;   /* borrowed: body.inputs */
    json_t                   *rows;     /* borrowed: the grid's repeatingInputs */
    char                      fail_kind[16];
    char                      fail_msg[300];
    int32_t                   jul, hms; /* commit stamp */
};

static int fail(struct octx *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct octx *c, const char *kind, const char *fmt, ...)
{
    va_list ap;

    snprintf(c->fail_kind, sizeof(c->fail_kind), "%s", kind);
    va_start(ap, fmt);
    vsnprintf(c->fail_msg, sizeof(c->fail_msg), fmt, ap);
    va_end(ap);
    return MLC_EINVAL;
}

int aissim_orch_kind(const struct aissim *s, const char *name)
{
    for (int i = 0; i < AISSIM_ORCH_COUNT; i++)
        if (strcmp(s->set.orch_name[i], name) == 0)
            return i;
    return -1;
}

/* ---- inputs --------------------------------------------------------------- */

/* The input of the optional validation mode (docs/orchestrations.md). */
#define VALIDATE_INPUT "ValidateOnly"

static const char *in_get(const json_t *arr, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
        if (json_is_string(json_object_get(v, "name")) &&
            strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return json_string_value(json_object_get(v, "value"));
    return NULL;
}

static bool allowed(const char *const *names, const char *n)
{
    for (; names != NULL && *names != NULL; names++)
        if (strcmp(*names, n) == 0)
            return true;
    return false;
}

/* Checks one inputs[] array: objects with a string name and string value,
 * names known (when strict). */
static int check_inputs(struct octx *c, const json_t *arr, const char *const *names,
                        const char *where)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr))
        return fail(c, "input", "%s: inputs must be an array", where);
    json_array_foreach(arr, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));

        if (n == NULL || !json_is_string(json_object_get(v, "value")))
            return fail(c, "input", "%s: input %zu needs a string name and a string value",
                        where, i);
        if (c->s->set.strict_inputs && !allowed(names, n) &&
            !(strcmp(n, VALIDATE_INPUT) == 0 && strcmp(c->s->set.validate_mode, "none") != 0))
            return fail(c, "input", "%s: unknown input '%s'", where, n);
    }
    return MLC_OK;
}

static int parse_body(struct octx *c, const json_t *body)
{
    const struct spec *sp = &specs[c->kind];
    json_t *det = json_object_get(body, "detailInputs");
    size_t i;
    json_t *g;
    int rc;

    c->inputs = json_object_get(body, "inputs");
    if (c->inputs == NULL)
        return fail(c, "input", "expected the JDE Standard format: {\"inputs\":[...]}");
    if ((rc = check_inputs(c, c->inputs, sp->inputs, "inputs")) != MLC_OK)
        return rc;
    if (det == NULL)
        return MLC_OK;
    if (!json_is_array(det))
        return fail(c, "input", "detailInputs must be an array");
    json_array_foreach(det, i, g) {
        const char *gn = json_string_value(json_object_get(g, "name"));
        json_t *rows = json_object_get(g, "repeatingInputs");
        size_t r;
        json_t *row;

        if (gn == NULL || sp->grid == NULL || strcmp(gn, sp->grid) != 0) {
            if (c->s->set.strict_inputs)
                return fail(c, "input", "unknown detailInputs grid '%s'", gn ? gn : "");
            continue;
        }
        if (!json_is_array(rows))
            return fail(c, "input", "%s: repeatingInputs must be an array", gn);
        json_array_foreach(rows, r, row) {
            if ((rc = check_inputs(c, json_object_get(row, "inputs"), sp->grid_in, gn)) != MLC_OK)
                return rc;
        }
        c->rows = rows;
    }
    return MLC_OK;
}

static const char *opt(const json_t *arr, const char *name, const char *def)
{
    const char *v = in_get(arr, name);

    return v != NULL && v[0] != '\0' ? v : def;
}

/* A validation call the orchestration honours: every check has passed,
 * nothing is written, and the answer says so. */
static bool validated(struct octx *c, json_t *out)
{
    const char *v = in_get(c->inputs, VALIDATE_INPUT);

    if (v == NULL || strcmp(v, "1") != 0 || strcmp(c->s->set.validate_mode, "honour") != 0)
        return false;
    json_object_set_new(out, "Validated", json_string("1"));
    return true;
}

static int need(struct octx *c, const json_t *arr, const char *name, const char **out)
{
    *out = in_get(arr, name);
    if (*out == NULL || (*out)[0] == '\0')
        return fail(c, "required", "%s is required", name);
    return MLC_OK;
}

static int max_len(struct octx *c, const char *name, const char *v, size_t n)
{
    if (v != NULL && strlen(v) > n)
        return fail(c, "length", "%s '%s' is longer than %zu characters", name, v, n);
    return MLC_OK;
}

/* ---- lookups ----------------------------------------------------------------- */

static const char *cell_s(const struct aissim_table *t, size_t r, const char *alias)
{
    int i = aissim_col_find(t->def, alias);

    return i >= 0 && t->rows[r][i].s != NULL ? t->rows[r][i].s : "";
}

static int64_t cell_n(const struct aissim_table *t, size_t r, const char *alias)
{
    int i = aissim_col_find(t->def, alias);

    return i >= 0 ? t->rows[r][i].n : 0;
}

static bool eq_trim(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    while (la > 0 && a[la - 1] == ' ')
        la--;
    while (lb > 0 && b[lb - 1] == ' ')
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

/* "1" -> "00001": JDE companies are 5 digits, zero padded. */
static int company(struct octx *c, const char *in, char out[6], const char **crcd)
{
    struct aissim_table *t = aissim_db_table(c->s->db, "F0010");
    size_t n = strlen(in);

    if (n == 0 || n > 5 || strspn(in, "0123456789") != n)
        return fail(c, "company", "Company '%s' is not a valid company number", in);
    snprintf(out, 6, "%.*s%s", (int)(5 - n), "00000", in);
    for (size_t r = 0; r < t->n; r++) {
        if (strcmp(cell_s(t, r, "CO"), out) == 0) {
            if (crcd != NULL)
                *crcd = cell_s(t, r, "CRCD");
            return MLC_OK;
        }
    }
    return fail(c, "company", "Company %s does not exist", out);
}

static int parse_date(struct octx *c, const char *name, const char *v, int32_t *jul)
{
    struct jdate_civil d;

    if (jdate_sdf_parse(c->user->sdf, v, JDATE_YY_BASE_DEFAULT, &d, NULL) != MLC_OK ||
        jdate_julian_from_civil(&d, jul, NULL) != MLC_OK)
        return fail(c, "date", "%s '%s' is not a valid date (format %s)", name, v,
                    c->user->sdf);
    return MLC_OK;
}

static int currency(struct octx *c, const char *v, int *exp)
{
    if (money_exponent(v, exp, NULL) != MLC_OK)
        return fail(c, "currency", "Currency code '%s' is invalid", v);
    return MLC_OK;
}

/* An amount at the currency's decimals, then at the 2 implied decimals of
 * the ledger columns. */
static int amount(struct octx *c, const char *name, const char *v, int exp, int64_t *out)
{
    int64_t x;

    if (money_parse_scaled(v, exp, &x, NULL) != MLC_OK ||
        money_round_scale(x, exp, 2, MONEY_ROUND_EXACT, out, NULL) != MLC_OK)
        return fail(c, "amount", "%s '%s' is not a plain decimal amount with at most %d "
                    "decimals", name, v, exp);
    return MLC_OK;
}

/* Resolves "BU.OBJ[.SUB]" to its F0901 row; it must be postable. */
static int account(struct octx *c, const char *v, size_t *row)
{
    struct aissim_table *t = aissim_db_table(c->s->db, "F0901");
    char bu[32] = "", obj[32] = "", sub[32] = "", mcu[13];
    const char *d1 = strchr(v, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;

    if (d1 == NULL || strlen(v) > 29 || (d2 != NULL && strchr(d2 + 1, '.') != NULL))
        return fail(c, "account", "Account '%s' is not in the form BU.OBJ[.SUB]", v);
    snprintf(bu, sizeof(bu), "%.*s", (int)(d1 - v), v);
    if (d2 != NULL) {
        snprintf(obj, sizeof(obj), "%.*s", (int)(d2 - d1 - 1), d1 + 1);
        snprintf(sub, sizeof(sub), "%s", d2 + 1);
    } else {
        snprintf(obj, sizeof(obj), "%s", d1 + 1);
    }
    if (bu[0] == '\0' || obj[0] == '\0' || aissim_mcu_format(bu, mcu, NULL) != MLC_OK)
        return fail(c, "account", "Account '%s' is invalid", v);
    for (size_t r = 0; r < t->n; r++) {
        if (strcmp(cell_s(t, r, "MCU"), mcu) != 0 || !eq_trim(cell_s(t, r, "OBJ"), obj) ||
            !eq_trim(cell_s(t, r, "SUB"), sub))
            continue;
        if (!eq_trim(cell_s(t, r, "PEC"), ""))
            return fail(c, "account", "Account %s is not postable (posting edit code %s)", v,
                        cell_s(t, r, "PEC"));
        *row = r;
        return MLC_OK;
    }
    return fail(c, "account", "Account %s is invalid (not in the account master)", v);
}

static long find_an8(struct aissim_table *t, int64_t an8)
{
    for (size_t r = 0; r < t->n; r++)
        if (cell_n(t, r, "AN8") == an8)
            return (long)r;
    return -1;
}

/* Forced failures from faults.orch_fail; gl is 0 when the call has no date. */
static int forced(struct octx *c, const char *co, int32_t gl)
{
    size_t i;
    json_t *r;

    json_array_foreach(c->s->faults.orch_fail, i, r) {
        const char *o = json_string_value(json_object_get(r, "orchestration"));
        const char *rco = json_string_value(json_object_get(r, "company"));
        const char *msg = json_string_value(json_object_get(r, "message"));
        json_t *cnt = json_object_get(r, "count");
        int32_t from = 0, to = 0;

        jdate_julian_from_yyyymmdd(json_string_value(json_object_get(r, "from")), &from, NULL);
        jdate_julian_from_yyyymmdd(json_string_value(json_object_get(r, "to")), &to, NULL);
        if (o != NULL && strcmp(o, "*") != 0 && strcmp(o, c->name) != 0)
            continue;
        if (rco != NULL && co != NULL && strcmp(rco, co) != 0)
            continue;
        if ((from != 0 || to != 0) && (gl == 0 || (from != 0 && gl < from) || (to != 0 && gl > to)))
            continue;
        if (json_is_integer(cnt)) {
            if (json_integer_value(cnt) <= 0)
                continue;
            json_integer_set(cnt, json_integer_value(cnt) - 1);
        }
        fail(c, "forced", "%s", msg != NULL ? msg : "G/L date is in a closed period");
        if (json_is_string(json_object_get(r, "style")))
            snprintf(c->fail_kind, sizeof(c->fail_kind), "forced:%s",
                     json_string_value(json_object_get(r, "style")));
        return MLC_EINVAL;
    }
    return MLC_OK;
}

/* ---- writing ---------------------------------------------------------------------- */

static int put(struct octx *c, const struct aissim_tdef *d, struct aissim_cell *row,
               const char *alias, const char *v)
{
    int i = aissim_col_find(d, alias);
    char buf[300];

    if (i < 0)
        return MLC_EINVAL;
    if (d->cols[i].type == AISSIM_C_STR && strlen(v) > (size_t)d->cols[i].len) {
        /* Audit fields (USER) hold 10 characters: JDE keeps the prefix. */
        snprintf(buf, sizeof(buf), "%.*s", d->cols[i].len, v);
        v = buf;
    }
    if (aissim_cell_set_str(&d->cols[i], &row[i], v, NULL) != MLC_OK)
        return fail(c, "length", "%s.%s: value '%s' does not fit", d->name, alias, v);
    return MLC_OK;
}

static void put_n(const struct aissim_tdef *d, struct aissim_cell *row, const char *alias,
                  int64_t v)
{
    int i = aissim_col_find(d, alias);

    if (i >= 0)
        row[i].n = v;
}

static void stamp_row(struct octx *c, const struct aissim_tdef *d, struct aissim_cell *row)
{
    put_n(d, row, "UPMJ", c->jul);
    put_n(d, row, d->upd_time, c->hms);
}

/* ---- journal entry ------------------------------------------------------------------ */

struct line {
    size_t      acct;   /* F0901 row */
    int64_t     amt;    /* 2 decimals */
    const char *ani, *remark, *sbl, *sblt;
};

static int read_lines(struct octx *c, int exp, struct line **out, size_t *n, int64_t *sum)
{
    size_t i;
    json_t *row;
    int rc;

    *n = 0;
    *sum = 0;
    *out = calloc(json_array_size(c->rows) + 1, sizeof(**out));
    if (*out == NULL)
        return fail(c, "input", "out of memory");
    if (json_array_size(c->rows) == 0)
        return fail(c, "required", "at least one %s row is required", specs[c->kind].grid);
    json_array_foreach(c->rows, i, row) {
        json_t *in = json_object_get(row, "inputs");
        struct line *l = &(*out)[i];
        const char *acct, *am;

        l->remark = opt(in, "Remark", "");
        l->sbl = opt(in, "Subledger", "");
        l->sblt = opt(in, "SubledgerType", "");
        if ((rc = need(c, in, "Account", &acct)) || (rc = need(c, in, "Amount", &am)) ||
            (rc = max_len(c, "Remark", l->remark, 30)) ||
            (rc = max_len(c, "Subledger", l->sbl, 8)) ||
            (rc = max_len(c, "SubledgerType", l->sblt, 1)) ||
            (rc = account(c, acct, &l->acct)) || (rc = amount(c, "Amount", am, exp, &l->amt)))
            return rc;
        if (money_add(*sum, l->amt, sum, NULL) != MLC_OK)
            return fail(c, "amount", "amounts overflow");
        l->ani = acct;
        (*n)++;
    }
    return MLC_OK;
}

struct doc_hdr {
    char        co[6];
    const char *dct, *lt, *crcd, *exa, *vinv, *pid, *icut;
    int32_t     dgj;
    int64_t     doc, batch, an8;
};

static int write_gl(struct octx *c, const struct doc_hdr *h, const struct line *ls, size_t n)
{
    struct aissim_table *gl = aissim_db_table(c->s->db, "F0911");
    struct aissim_table *gm = aissim_db_table(c->s->db, "F0901");
    const struct aissim_tdef *d = gl->def;
    struct jdate_civil dt = { 0, 0, 0 };
    char amt[MONEY_FMT_MAX];

    jdate_julian_to_civil(h->dgj, &dt, NULL);
    for (size_t i = 0; i < n; i++) {
        struct aissim_cell *row = aissim_row_new(d);

        if (row == NULL)
            return fail(c, "input", "out of memory");
        money_format(ls[i].amt, 2, amt, sizeof(amt));
        put(c, d, row, "KCO", h->co);
        put(c, d, row, "DCT", h->dct);
        put_n(d, row, "DOC", h->doc);
        put_n(d, row, "DGJ", h->dgj);
        put_n(d, row, "JELN", (int64_t)i + 1);
        put_n(d, row, "ICU", h->batch);
        put(c, d, row, "ICUT", h->icut);
        put(c, d, row, "CO", cell_s(gm, ls[i].acct, "CO"));
        put(c, d, row, "ANI", ls[i].ani);
        put(c, d, row, "AM", "2");
        put(c, d, row, "AID", cell_s(gm, ls[i].acct, "AID"));
        put(c, d, row, "MCU", cell_s(gm, ls[i].acct, "MCU"));
        put(c, d, row, "OBJ", cell_s(gm, ls[i].acct, "OBJ"));
        put(c, d, row, "SUB", cell_s(gm, ls[i].acct, "SUB"));
        put(c, d, row, "SBL", ls[i].sbl);
        put(c, d, row, "SBLT", ls[i].sblt);
        put(c, d, row, "LT", h->lt);
        put_n(d, row, "PN", dt.month);
        put_n(d, row, "FY", dt.year % 100);
        put_n(d, row, "CTRY", dt.year / 100);
        put(c, d, row, "CRCD", h->crcd);
        put(c, d, row, "AA", amt);
        put(c, d, row, "EXA", h->exa[0] != '\0' ? h->exa : ls[i].remark);
        put(c, d, row, "EXR", ls[i].remark);
        put_n(d, row, "AN8", h->an8);
        put(c, d, row, "VINV", h->vinv);
        put(c, d, row, "TORG", c->user->username);
        put(c, d, row, "USER", c->user->username);
        put(c, d, row, "PID", h->pid);
        stamp_row(c, d, row);
        if (aissim_table_append(gl, row, NULL) != MLC_OK)
            return fail(c, "input", "out of memory");
    }
    return MLC_OK;
}

static int run_je(struct octx *c, json_t *out)
{
    const char *co_in, *gl_in, *exa = opt(c->inputs, "Explanation", "");
    const char *ref = opt(c->inputs, "Reference", ""), *crcd = NULL;
    struct doc_hdr h = { .dct = opt(c->inputs, "DocumentType", "JE"),
                         .lt = opt(c->inputs, "LedgerType", "AA"),
                         .pid = "EP0911", .icut = "G" };
    struct line *ls = NULL;
    size_t n = 0;
    int64_t sum;
    int exp, rc;
    char sumtxt[MONEY_FMT_MAX];

    if ((rc = need(c, c->inputs, "Company", &co_in)) || (rc = company(c, co_in, h.co, &crcd)) ||
        (rc = need(c, c->inputs, "GLDate", &gl_in)) || (rc = parse_date(c, "GLDate", gl_in, &h.dgj)) ||
        (rc = max_len(c, "Explanation", exa, 30)) || (rc = max_len(c, "Reference", ref, 25)) ||
        (rc = max_len(c, "DocumentType", h.dct, 2)) || (rc = max_len(c, "LedgerType", h.lt, 2)))
        goto out;
    h.crcd = opt(c->inputs, "Currency", crcd);
    if ((rc = currency(c, h.crcd, &exp)) || (rc = read_lines(c, exp, &ls, &n, &sum)))
        goto out;
    if (sum != 0) {
        money_format(sum, 2, sumtxt, sizeof(sumtxt));
        rc = fail(c, "balance", "Journal entry is out of balance by %s", sumtxt);
        goto out;
    }
    if ((rc = forced(c, h.co, h.dgj)) != MLC_OK || validated(c, out))
        goto out;
    h.exa = exa;
    h.vinv = ref;
    h.doc = c->s->nn[AISSIM_NN_JE]++;
    h.batch = c->s->nn[AISSIM_NN_BATCH]++;
    if ((rc = write_gl(c, &h, ls, n)) != MLC_OK)
        goto out;
    json_object_set_new(out, "DocumentNumber", json_integer(h.doc));
    json_object_set_new(out, "DocumentType", json_string(h.dct));
    json_object_set_new(out, "DocumentCompany", json_string(h.co));
    json_object_set_new(out, "BatchNumber", json_integer(h.batch));
out:
    free(ls);
    return rc;
}

/* ---- voucher ---------------------------------------------------------------------------- */

static int run_voucher(struct octx *c, json_t *out)
{
    struct aissim_table *ab = aissim_db_table(c->s->db, "F0101");
    struct aissim_table *ap = aissim_db_table(c->s->db, "F0411");
    const struct aissim_tdef *d = ap->def;
    const char *co_in, *sup, *inv_d, *gl_d, *gross_s, *crcd = NULL;
    const char *vinv = opt(c->inputs, "InvoiceNumber", "");
    const char *rmk = opt(c->inputs, "Remark", "");
    struct doc_hdr h = { .dct = "PV", .lt = "AA", .pid = "EP0411", .icut = "V" };
    struct aissim_cell *row;
    struct line *ls = NULL;
    int32_t divj = 0;
    int64_t gross = 0, sum;
    size_t n = 0;
    int exp, rc;
    char g[MONEY_FMT_MAX], s2[MONEY_FMT_MAX];

    if ((rc = need(c, c->inputs, "Company", &co_in)) || (rc = company(c, co_in, h.co, &crcd)) ||
        (rc = need(c, c->inputs, "SupplierNumber", &sup)) ||
        (rc = need(c, c->inputs, "InvoiceDate", &inv_d)) ||
        (rc = parse_date(c, "InvoiceDate", inv_d, &divj)) ||
        (rc = need(c, c->inputs, "GLDate", &gl_d)) || (rc = parse_date(c, "GLDate", gl_d, &h.dgj)) ||
        (rc = max_len(c, "InvoiceNumber", vinv, 25)) || (rc = max_len(c, "Remark", rmk, 30)) ||
        (rc = need(c, c->inputs, "GrossAmount", &gross_s)))
        goto out;
    errno = 0;
    h.an8 = strtoll(sup, NULL, 10);
    if (strspn(sup, "0123456789") != strlen(sup) || strlen(sup) > 8 || find_an8(ab, h.an8) < 0) {
        rc = fail(c, "supplier", "Supplier %s does not exist in the address book", sup);
        goto out;
    }
    h.crcd = opt(c->inputs, "Currency", crcd);
    if ((rc = currency(c, h.crcd, &exp)) || (rc = amount(c, "GrossAmount", gross_s, exp, &gross)) ||
        (rc = read_lines(c, exp, &ls, &n, &sum)))
        goto out;
    if (sum != gross) {
        money_format(gross, 2, g, sizeof(g));
        money_format(sum, 2, s2, sizeof(s2));
        rc = fail(c, "balance", "G/L distribution %s does not equal the gross amount %s", s2, g);
        goto out;
    }
    if ((rc = forced(c, h.co, h.dgj)) != MLC_OK || validated(c, out))
        goto out;
    h.exa = rmk;
    h.vinv = vinv;
    h.doc = c->s->nn[AISSIM_NN_PV]++;
    h.batch = c->s->nn[AISSIM_NN_BATCH]++;
    if ((row = aissim_row_new(d)) == NULL) {
        rc = fail(c, "input", "out of memory");
        goto out;
    }
    put(c, d, row, "KCO", h.co);
    put_n(d, row, "DOC", h.doc);
    put(c, d, row, "DCT", h.dct);
    put(c, d, row, "SFX", "001");
    put_n(d, row, "AN8", h.an8);
    put_n(d, row, "PYE", h.an8);
    put_n(d, row, "DIVJ", divj);
    put_n(d, row, "DGJ", h.dgj);
    put_n(d, row, "DDJ", h.dgj);
    put_n(d, row, "ICU", h.batch);
    put(c, d, row, "ICUT", h.icut);
    put(c, d, row, "PST", "A");
    money_format(gross, 2, g, sizeof(g));
    put(c, d, row, "AG", g);
    put(c, d, row, "AAP", g);
    put(c, d, row, "CRCD", h.crcd);
    put(c, d, row, "CO", h.co);
    put(c, d, row, "VINV", vinv);
    put(c, d, row, "RMK", rmk);
    put(c, d, row, "USER", c->user->username);
    put(c, d, row, "PID", h.pid);
    stamp_row(c, d, row);
    if (aissim_table_append(ap, row, NULL) != MLC_OK) {
        rc = fail(c, "input", "out of memory");
        goto out;
    }
    if ((rc = write_gl(c, &h, ls, n)) != MLC_OK)
        goto out;
    json_object_set_new(out, "DocumentNumber", json_integer(h.doc));
    json_object_set_new(out, "DocumentType", json_string(h.dct));
    json_object_set_new(out, "DocumentCompany", json_string(h.co));
    json_object_set_new(out, "BatchNumber", json_integer(h.batch));
out:
    free(ls);
    return rc;
}

/* ---- customers ---------------------------------------------------------------------------- */

/* The row of table for an8 (the first), created with its defaults when
 * missing and create is set. */
static struct aissim_cell *cust_row(struct octx *c, const char *table, int64_t an8, bool create)
{
    struct aissim_table *t = aissim_db_table(c->s->db, table);
    const struct aissim_tdef *d = t->def;
    long r = find_an8(t, an8);
    struct aissim_cell *row;

    if (r >= 0)
        return t->rows[r];
    if (!create || (row = aissim_row_new(d)) == NULL)
        return NULL;
    put_n(d, row, "AN8", an8);
    if (strcmp(table, "F01151") == 0) {
        put_n(d, row, "RCK7", 1);
        put(c, d, row, "ETP", "E");
    } else if (strcmp(table, "F0115") == 0) {
        put_n(d, row, "RCK7", 1);
    } else if (strcmp(table, "F03012") == 0) {
        put(c, d, row, "CO", "00000");
    } else if (strcmp(table, "F0101") == 0) {
        put(c, d, row, "AT1", "C");
        put(c, d, row, "PID", "EP01012");
    }
    if (aissim_table_append(t, row, NULL) != MLC_OK)
        return NULL;
    return row;
}

/* Validates every customer input present; co gets the normalized company. */
static int cust_validate(struct octx *c, int64_t self, char co[6])
{
    struct aissim_table *ab = aissim_db_table(c->s->db, "F0101");
    const char *v;
    int exp, rc;

    co[0] = '\0';
    for (size_t i = 0; i < N_CUST; i++)
        if ((rc = max_len(c, cust_map[i].in, in_get(c->inputs, cust_map[i].in),
                          (size_t)cust_map[i].len)) != MLC_OK)
            return rc;
    if ((v = opt(c->inputs, "Company", NULL)) != NULL && (rc = company(c, v, co, NULL)) != MLC_OK)
        return rc;
    if ((v = opt(c->inputs, "Currency", NULL)) != NULL && (rc = currency(c, v, &exp)) != MLC_OK)
        return rc;
    v = opt(c->inputs, "LongAddressNumber", NULL);
    if (v != NULL && c->s->set.unique_alky) {
        for (size_t r = 0; r < ab->n; r++)
            if (cell_n(ab, r, "AN8") != self && eq_trim(cell_s(ab, r, "ALKY"), v))
                return fail(c, "duplicate", "Long Address Number %s already exists "
                            "(address number %lld)", v, (long long)cell_n(ab, r, "AN8"));
    }
    return forced(c, co[0] != '\0' ? co : NULL, 0);
}

/* Writes the inputs present into their tables (all of them when adding). */
static int cust_write(struct octx *c, int64_t an8, bool add, const char *co)
{
    static const char *const always[] = { "F0101", "F0111", "F0116", "F03012" };
    const char *touched[8];
    size_t nt = 0;
    int rc;

    if (add) {
        for (size_t i = 0; i < 4; i++)
            if (cust_row(c, always[i], an8, true) == NULL)
                return fail(c, "input", "out of memory");
    }
    for (size_t i = 0; i < N_CUST; i++) {
        const char *v = in_get(c->inputs, cust_map[i].in);
        struct aissim_table *t = aissim_db_table(c->s->db, cust_map[i].table);
        struct aissim_cell *row;

        if (v == NULL || (add && v[0] == '\0'))
            continue;
        if (strcmp(cust_map[i].in, "Company") == 0)
            v = co;
        row = cust_row(c, cust_map[i].table, an8, true);
        if (row == NULL)
            return fail(c, "input", "out of memory");
        if ((rc = put(c, t->def, row, cust_map[i].alias, v)) != MLC_OK)
            return rc;
        if (nt < 8)
            touched[nt++] = cust_map[i].table;
    }
    if (add && in_get(c->inputs, "MailingName") == NULL) {
        struct aissim_table *t = aissim_db_table(c->s->db, "F0111");

        put(c, t->def, cust_row(c, "F0111", an8, true), "MLNM",
            opt(c->inputs, "AlphaName", ""));
    }
    for (size_t i = 0; i < aissim_db_count(c->s->db); i++) {
        struct aissim_table *t = aissim_db_at(c->s->db, i);
        bool hit = add && (strcmp(t->def->name, "F0101") == 0 || strcmp(t->def->name, "F0111") == 0 ||
                           strcmp(t->def->name, "F0116") == 0 || strcmp(t->def->name, "F03012") == 0);
        struct aissim_cell *row;

        for (size_t k = 0; k < nt; k++)
            hit = hit || strcmp(touched[k], t->def->name) == 0;
        if (hit && (row = cust_row(c, t->def->name, an8, false)) != NULL)
            stamp_row(c, t->def, row);
    }
    return MLC_OK;
}

static int run_addcust(struct octx *c, json_t *out)
{
    struct aissim_table *ab = aissim_db_table(c->s->db, "F0101");
    const char *alph;
    char co[6];
    int64_t an8;
    int rc;

    if ((rc = need(c, c->inputs, "AlphaName", &alph)) || (rc = cust_validate(c, -1, co)))
        return rc;
    if (validated(c, out))
        return MLC_OK;
    if (co[0] == '\0')
        snprintf(co, sizeof(co), "00000");
    do
        an8 = c->s->nn[AISSIM_NN_AN8]++;
    while (find_an8(ab, an8) >= 0);
    if ((rc = cust_write(c, an8, true, co)) != MLC_OK)
        return rc;
    put(c, ab->def, cust_row(c, "F0101", an8, false), "USER", c->user->username);
    json_object_set_new(out, "AddressNumber", json_integer(an8));
    return MLC_OK;
}

static int run_updcust(struct octx *c, json_t *out)
{
    struct aissim_table *ab = aissim_db_table(c->s->db, "F0101");
    const char *v;
    char co[6];
    int64_t an8;
    int rc;

    if ((rc = need(c, c->inputs, "AddressNumber", &v)) != MLC_OK)
        return rc;
    an8 = strtoll(v, NULL, 10);
    if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 8 || find_an8(ab, an8) < 0)
        return fail(c, "address", "Address number %s does not exist", v);
    if ((v = in_get(c->inputs, "AlphaName")) != NULL && v[0] == '\0')
        return fail(c, "required", "AlphaName cannot be blank");
    if ((rc = cust_validate(c, an8, co)) != MLC_OK || validated(c, out) ||
        (rc = cust_write(c, an8, false, co)) != MLC_OK)
        return rc;
    json_object_set_new(out, "AddressNumber", json_integer(an8));
    return MLC_OK;
}

/* ---- replies ---------------------------------------------------------------------------------- */

/* v1/v2 outputs are strings; v3 keeps numbers typed. */
static void stringify(json_t *out)
{
    const char *k;
    json_t *v;
    char buf[32];

    json_object_foreach(out, k, v) {
        if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
            json_object_set_new(out, k, json_string(buf));
        }
    }
}

static void reply_fail(struct octx *c, struct httpd_response *rs, const char *start)
{
    const char *style = NULL, *colon = strchr(c->fail_kind, ':');
    char kind[16], end[40];

    snprintf(kind, sizeof(kind), "%.*s", (int)(colon != NULL ? colon - c->fail_kind : 15),
             c->fail_kind);
    if (colon != NULL)
        style = colon + 1;
    if (style == NULL)
        style = json_string_value(json_object_get(c->s->set.error_style, kind));
    if (style == NULL)
        style = json_string_value(json_object_get(c->s->set.error_style, "default"));
    aissim_timestamp(c->s, end, sizeof(end));
    if (style != NULL && strcmp(style, "200") == 0) {
        aissim_reply(rs, 200, json_pack("{s:s, s:s, s:s, s:s, s:o, s:[{s:s, s:s, s:s}]}",
                                        "jde__status", "ERROR", "jde__simpleMessage",
                                        c->fail_msg, "jde__startTimestamp", start,
                                        "jde__endTimestamp", end,
                                        "jde__serverExecutionSeconds", aissim_json_dec("0.01"),
                                        "errors", "CODE", kind, "TITLE", c->fail_msg,
                                        "DESC", c->fail_msg));
        return;
    }
    aissim_reply(rs, 500, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "message",
                                    c->fail_msg, "exception",
                                    "com.oracle.e1.jdemf.JDERuntimeException", "timeStamp", end,
                                    "status", "ERROR", "type", kind, "userDefinedErrorText",
                                    c->fail_msg, "errorText", c->fail_msg,
                                    "jde__status", "ERROR", "jde__simpleMessage", c->fail_msg));
}

/* Takes one use of a fault rule {"orchestration", "count", ...} that
 * matches name; false when none is left. */
static bool fault_take(json_t *rule, const char *name)
{
    json_t *cnt = json_object_get(rule, "count");
    const char *o = json_string_value(json_object_get(rule, "orchestration"));

    if (rule == NULL || o == NULL || (strcmp(o, "*") != 0 && strcmp(o, name) != 0) ||
        json_integer_value(cnt) <= 0)
        return false;
    json_integer_set(cnt, json_integer_value(cnt) - 1);
    return true;
}

static void hang_after(struct aissim *s, const char *name, struct aissim_after *after)
{
    json_t *h = s->faults.hang, *hs = json_object_get(h, "hang_s");
    json_t *st = json_object_get(h, "status");

    if (!fault_take(h, name))
        return;
    after->status = json_is_integer(st) ? (int)json_integer_value(st) : 0;
    after->hang_ms = 1000 * (json_is_integer(hs) ? json_integer_value(hs)
                             : after->status != 0 ? 0 : 30);
    if (after->hang_ms == 0 && after->status == 0)
        after->hang_ms = 30000;
}

int64_t aissim_delay_commit_take(struct aissim *s, const char *name)
{
    json_t *d = s->faults.delay_commit;

    if (!fault_take(d, name))
        return 0;
    return 1000 * json_integer_value(json_object_get(d, "delay_s"));
}

void aissim_ep_orchestrate(struct aissim *s, const struct httpd_request *rq,
                           struct httpd_response *rs, const char *name, int version,
                           struct aissim_after *after)
{
    static int (*const run[AISSIM_ORCH_COUNT])(struct octx *, json_t *) = {
        run_je, run_voucher, run_addcust, run_updcust
    };
    json_t *body = aissim_body_json(s, rq, rs), *out;
    struct octx c = { .s = s, .name = name, .version = version };
    struct aissim_token *tok;
    char start[40];
    int rc;

    if (body == NULL)
        return;
    tok = aissim_auth(s, rq, body, true, false);
    if (tok == NULL) {
        aissim_reply_bad_token(s, rs);
        goto out;
    }
    c.kind = aissim_orch_kind(s, name);
    if (c.kind < 0) {
        aissim_reply_error(s, rs, 404, "Orchestration not found", "java.lang.Exception");
        goto out;
    }
    c.user = &s->users[tok->user];
    aissim_timestamp(s, start, sizeof(start));
    aissim_stamp(s, &c.jul, &c.hms);
    out = json_object();
    rc = parse_body(&c, body);
    if (rc == MLC_OK)
        rc = run[c.kind](&c, out);
    if (rc != MLC_OK) {
        json_decref(out);
        reply_fail(&c, rs, start);
        goto out;
    }
    if (version < 3)
        stringify(out);
    json_object_set_new(out, "jde__status", json_string("SUCCESS"));
    json_object_set_new(out, "jde__startTimestamp", json_string(start));
    json_object_set_new(out, "jde__endTimestamp", json_string(start));
    json_object_set_new(out, "jde__serverExecutionSeconds", aissim_json_dec("0.01"));
    aissim_reply(rs, 200, out);
    hang_after(s, name, after);
out:
    json_decref(body);
}

/* ---- discover ------------------------------------------------------------------------------------ */

static json_t *names_json(const char *const *names)
{
    json_t *a = json_array();

    for (; names != NULL && *names != NULL; names++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", *names, "type", "String"));
    return a;
}

static json_t *orch_json(const struct aissim *s, int k)
{
    const struct spec *sp = &specs[k];
    json_t *in = names_json(sp->inputs);
    char omw[80];

    if (strcmp(s->set.validate_mode, "none") != 0)
        json_array_append_new(in, json_pack("{s:s, s:s}", "name", VALIDATE_INPUT, "type",
                                            "String"));

    if (sp->grid != NULL) {
        json_array_append_new(in, json_pack("{s:s, s:s, s:o}", "name", sp->grid, "type",
                                            "Array", "repeatingInputs", names_json(sp->grid_in)));
    }
    snprintf(omw, sizeof(omw), "ORCH_%s", s->set.orch_name[k]);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s}", "name", s->set.orch_name[k],
                     "description", sp->desc, "inputFormat", "JDE Standard", "inputs", in,
                     "outputs", names_json(sp->outputs), "omwObjectName", omw, "udoGroup",
                     "Shared", "version", "v3");
}

void aissim_ep_discover(struct aissim *s, const struct httpd_request *rq,
                        struct httpd_response *rs, const char *name)
{
    json_t *list;
    int k;

    if (aissim_auth(s, rq, NULL, true, false) == NULL) {
        aissim_reply_bad_token(s, rs);
        return;
    }
    if (name != NULL) {
        k = aissim_orch_kind(s, name);
        if (k < 0)
            aissim_reply_error(s, rs, 404, "Orchestration not found", "java.lang.Exception");
        else
            aissim_reply(rs, 200, orch_json(s, k));
        return;
    }
    list = json_array();
    for (k = 0; k < AISSIM_ORCH_COUNT; k++)
        json_array_append_new(list, orch_json(s, k));
    aissim_reply(rs, 200, json_pack("{s:o}", "orchestrations", list));
}
