/*
 * aissim_tables: the simulated JDE tables, rows as typed cells.
 *
 * Only the columns the connector and the orchestrations touch are modelled.
 * Amounts are integers with the column's implied decimals, as JDE stores
 * them (AA, AG, AAP: 2; UPRC: 4), and are served decimal-shifted.
 */
#include "aissim_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdate.h"
#include "core/money.h"

#define S(a, n, t) { a, AISSIM_C_STR, n, t }
#define M(a, t)    { a, AISSIM_C_MCU, 12, t }
#define N(a, t)    { a, AISSIM_C_NUM, 0, t }
#define D(a, t)    { a, AISSIM_C_DATE, 0, t }
#define A(a, d, t) { a, AISSIM_C_AMT, d, t }
#define NCOLS(x) (sizeof(x) / sizeof((x)[0]))

static const struct aissim_col c_f0010[] = {
    S("CO", 5, "Company"), S("NAME", 30, "Name"), S("CRCD", 3, "Currency Code"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0006[] = {
    M("MCU", "Business Unit"), S("STYL", 2, "Type Business Unit"),
    S("CO", 5, "Company"), S("DL01", 30, "Description"), N("AN8", "Address Number"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0901[] = {
    S("CO", 5, "Company"), S("AID", 8, "Account ID"), M("MCU", "Business Unit"),
    S("OBJ", 6, "Object Account"), S("SUB", 8, "Subsidiary"),
    S("DL01", 30, "Description"), S("LDA", 1, "Level of Detail"),
    S("PEC", 1, "Posting Edit"), S("CRCD", 3, "Currency Code"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0911[] = {
    S("KCO", 5, "Document Company"), S("DCT", 2, "Document Type"),
    N("DOC", "Document Number"), D("DGJ", "G/L Date"), N("JELN", "Line Number"),
    S("EXTL", 2, "Line Extension Code"), S("POST", 1, "G/L Posted Code"),
    N("ICU", "Batch Number"), S("ICUT", 2, "Batch Type"), S("CO", 5, "Company"),
    S("ANI", 29, "Account Number Input"), S("AM", 1, "Account Mode"),
    S("AID", 8, "Account ID"), M("MCU", "Business Unit"),
    S("OBJ", 6, "Object Account"), S("SUB", 8, "Subsidiary"),
    S("SBL", 8, "Subledger"), S("SBLT", 1, "Subledger Type"),
    S("LT", 2, "Ledger Type"), N("PN", "Period Number"), N("FY", "Fiscal Year"),
    N("CTRY", "Century"), S("CRCD", 3, "Currency Code"), A("AA", 2, "Amount"),
    S("EXA", 30, "Explanation"), S("EXR", 30, "Remark"),
    N("AN8", "Address Number"), S("VINV", 25, "Supplier Invoice Number"),
    S("TORG", 10, "Transaction Originator"), S("USER", 10, "User ID"),
    S("PID", 10, "Program ID"), D("UPMJ", "Date Updated"),
    N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0411[] = {
    S("KCO", 5, "Document Company"), N("DOC", "Document Number"),
    S("DCT", 2, "Document Type"), S("SFX", 3, "Pay Item"),
    N("AN8", "Address Number"), N("PYE", "Payee Address Number"),
    D("DIVJ", "Invoice Date"), D("DGJ", "G/L Date"), D("DDJ", "Due Date"),
    N("ICU", "Batch Number"), S("ICUT", 2, "Batch Type"),
    S("PST", 1, "Pay Status"), A("AG", 2, "Gross Amount"),
    A("AAP", 2, "Open Amount"), S("CRCD", 3, "Currency Code"),
    S("CO", 5, "Company"), M("MCU", "Business Unit"), S("POST", 1, "G/L Posted Code"),
    S("VINV", 25, "Supplier Invoice Number"), S("RMK", 30, "Remark"),
    S("PTC", 3, "Payment Terms"), S("USER", 10, "User ID"),
    S("PID", 10, "Program ID"), D("UPMJ", "Date Updated"),
    N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0101[] = {
    N("AN8", "Address Number"), S("ALKY", 20, "Long Address Number"),
    S("TAX", 20, "Tax ID"), S("ALPH", 40, "Alpha Name"),
    S("AT1", 3, "Search Type"), M("MCU", "Business Unit"),
    S("USER", 10, "User ID"), S("PID", 10, "Program ID"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0111[] = {
    N("AN8", "Address Number"), N("IDLN", "Who's Who Line"),
    S("MLNM", 40, "Mailing Name"), D("UPMJ", "Date Updated"),
    N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0116[] = {
    N("AN8", "Address Number"), D("EFTB", "Effective Date"),
    S("ADD1", 40, "Address Line 1"), S("ADD2", 40, "Address Line 2"),
    S("ADD3", 40, "Address Line 3"), S("ADD4", 40, "Address Line 4"),
    S("ADDZ", 12, "Postal Code"), S("CTY1", 25, "City"),
    S("ADDS", 3, "State"), S("CTR", 3, "Country"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f01151[] = {
    N("AN8", "Address Number"), N("IDLN", "Who's Who Line"),
    N("RCK7", "Line Number"), S("ETP", 4, "Electronic Address Type"),
    S("EMAL", 256, "Electronic Address"), D("UPMJ", "Date Updated"),
    N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f0115[] = {
    N("AN8", "Address Number"), N("IDLN", "Who's Who Line"),
    N("RCK7", "Line Number"), S("PHTP", 4, "Phone Type"),
    S("AR1", 6, "Prefix"), S("PH1", 20, "Phone Number"),
    D("UPMJ", "Date Updated"), N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f03012[] = {
    N("AN8", "Address Number"), S("CO", 5, "Company"),
    S("ARC", 3, "G/L Offset"), S("CRCD", 3, "Currency Code"),
    S("TRAR", 3, "Payment Terms - A/R"), S("TXA1", 10, "Tax Area"),
    A("ACL", 2, "Credit Limit"), D("UPMJ", "Date Updated"),
    N("UPMT", "Time Last Updated"),
};
static const struct aissim_col c_f4101[] = {
    N("ITM", "Item Number - Short"), S("LITM", 25, "2nd Item Number"),
    S("AITM", 25, "3rd Item Number"), S("DSC1", 30, "Description"),
    S("DSC2", 30, "Description Line 2"), S("STKT", 1, "Stocking Type"),
    S("LNTY", 2, "Line Type"), S("UOM1", 2, "Unit of Measure"),
    S("GLPT", 4, "G/L Class"), S("SRP1", 3, "Sales Catalog Section"),
    D("UPMJ", "Date Updated"), N("TDAY", "Time of Day"),
};
static const struct aissim_col c_f4106[] = {
    N("ITM", "Item Number - Short"), S("LITM", 25, "2nd Item Number"),
    S("AITM", 25, "3rd Item Number"), M("MCU", "Business Unit"),
    S("LOCN", 20, "Location"), S("LOTN", 30, "Lot Number"),
    N("AN8", "Address Number"), N("IGID", "Item Price Group"),
    N("CGID", "Customer Price Group"), S("CRCD", 3, "Currency Code"),
    S("UOM", 2, "Unit of Measure"), D("EFTJ", "Effective Date"),
    D("EXDJ", "Expiration Date"), A("UPRC", 4, "Unit Price"),
    S("USER", 10, "User ID"), S("PID", 10, "Program ID"),
    D("UPMJ", "Date Updated"), N("TDAY", "Time of Day"),
};

#define T(n, c, k, u) { n, c, NCOLS(c), k, u }
static const struct aissim_tdef tdefs[] = {
    T("F0010", c_f0010, "CO", "UPMT"),
    T("F0006", c_f0006, "MCU", "UPMT"),
    T("F0901", c_f0901, "AID", "UPMT"),
    T("F0911", c_f0911, "KCO|DCT|DOC|JELN|LT", "UPMT"),
    T("F0411", c_f0411, "KCO|DCT|DOC|SFX", "UPMT"),
    T("F0101", c_f0101, "AN8", "UPMT"),
    T("F0111", c_f0111, "AN8|IDLN", "UPMT"),
    T("F0116", c_f0116, "AN8|EFTB", "UPMT"),
    T("F01151", c_f01151, "AN8|IDLN|RCK7", "UPMT"),
    T("F0115", c_f0115, "AN8|IDLN|RCK7", "UPMT"),
    T("F03012", c_f03012, "AN8|CO", "UPMT"),
    T("F4101", c_f4101, "ITM", "TDAY"),
    T("F4106", c_f4106, "ITM|MCU|CRCD|UOM|EFTJ", "TDAY"),
};
#define N_TDEFS NCOLS(tdefs)

struct aissim_db {
    struct aissim_table t[N_TDEFS];
};

int aissim_db_new(struct aissim_db **out, struct mlc_err *e)
{
    struct aissim_db *db = calloc(1, sizeof(*db));

    *out = NULL;
    if (db == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
    for (size_t i = 0; i < N_TDEFS; i++)
        db->t[i].def = &tdefs[i];
    *out = db;
    return MLC_OK;
}

void aissim_row_free(const struct aissim_tdef *d, struct aissim_cell *row)
{
    if (row == NULL)
        return;
    for (size_t i = 0; i < d->ncols; i++)
        free(row[i].s);
    free(row);
}

void aissim_db_free(struct aissim_db *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < N_TDEFS; i++) {
        for (size_t r = 0; r < db->t[i].n; r++)
            aissim_row_free(db->t[i].def, db->t[i].rows[r]);
        free(db->t[i].rows);
    }
    free(db);
}

struct aissim_table *aissim_db_table(struct aissim_db *db, const char *name)
{
    for (size_t i = 0; i < N_TDEFS; i++)
        if (strcmp(db->t[i].def->name, name) == 0)
            return &db->t[i];
    return NULL;
}

size_t aissim_db_count(const struct aissim_db *db)
{
    (void)db;
    return N_TDEFS;
}

struct aissim_table *aissim_db_at(struct aissim_db *db, size_t i)
{
    return i < N_TDEFS ? &db->t[i] : NULL;
}

int aissim_col_find(const struct aissim_tdef *d, const char *name)
{
    size_t tl = strlen(d->name);
    const char *alias = name;

    if (strncmp(name, d->name, tl) == 0 && (name[tl] == '.' || name[tl] == '_'))
        alias = name + tl + 1;
    else if (strchr(name, '.') != NULL)
        return -1;
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].alias, alias) == 0)
            return (int)i;
    return -1;
}

struct aissim_cell *aissim_row_new(const struct aissim_tdef *d)
{
    struct aissim_cell *row = calloc(d->ncols, sizeof(*row));

    if (row == NULL)
        return NULL;
    for (size_t i = 0; i < d->ncols; i++) {
        if (d->cols[i].type == AISSIM_C_STR || d->cols[i].type == AISSIM_C_MCU) {
            row[i].s = strdup(d->cols[i].type == AISSIM_C_MCU ? "            " : "");
            if (row[i].s == NULL) {
                aissim_row_free(d, row);
                return NULL;
            }
        }
    }
    return row;
}

int aissim_table_append(struct aissim_table *t, struct aissim_cell *row,
                        struct mlc_err *e)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap == 0 ? 64 : t->cap * 2;
        struct aissim_cell **nr = realloc(t->rows, ncap * sizeof(*nr));

        if (nr == NULL) {
            aissim_row_free(t->def, row);
            return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
        }
        t->rows = nr;
        t->cap = ncap;
    }
    t->rows[t->n++] = row;
    return MLC_OK;
}

int aissim_mcu_format(const char *in, char out[13], struct mlc_err *e)
{
    size_t b = 0, n = strlen(in);

    while (in[b] == ' ')
        b++;
    while (n > b && in[n - 1] == ' ')
        n--;
    if (n - b > 12)
        return mlc_err_set(e, MLC_ETOOBIG, "business unit '%s' longer than 12", in);
    memset(out, ' ', 12);
    memcpy(out + 12 - (n - b), in + b, n - b);
    out[12] = '\0';
    return MLC_OK;
}

static int parse_i64(const char *v, int64_t *out)
{
    char *end;
    long long x;

    if (v[0] == '\0')
        return MLC_EINVAL;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || end == v)
        return MLC_EINVAL;
    *out = x;
    return MLC_OK;
}

static int replace_str(struct aissim_cell *cell, const char *v,
                       struct mlc_err *e)
{
    char *c = strdup(v);

    if (c == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
    free(cell->s);
    cell->s = c;
    return MLC_OK;
}

int aissim_cell_set_str(const struct aissim_col *c, struct aissim_cell *cell,
                        const char *v, struct mlc_err *e)
{
    char mcu[13];
    int32_t jul;
    int rc;

    switch (c->type) {
    case AISSIM_C_STR:
        if (strlen(v) > (size_t)c->len)
            return mlc_err_set(e, MLC_ETOOBIG, "%s: '%s' longer than %d",
                               c->alias, v, c->len);
        return replace_str(cell, v, e);
    case AISSIM_C_MCU:
        rc = aissim_mcu_format(v, mcu, e);
        return rc != MLC_OK ? rc : replace_str(cell, mcu, e);
    case AISSIM_C_NUM:
        if (parse_i64(v, &cell->n) != MLC_OK)
            return mlc_err_set(e, MLC_EINVAL, "%s: '%s' is not an integer",
                               c->alias, v);
        return MLC_OK;
    case AISSIM_C_DATE:
        rc = jdate_julian_from_yyyymmdd(v, &jul, e);
        if (rc < 0) {
            mlc_err_wrap(e, "%s", c->alias);
            return rc;
        }
        cell->n = jul;
        return MLC_OK;
    case AISSIM_C_AMT:
        if ((rc = money_parse_scaled(v, c->len, &cell->n, e)) != MLC_OK)
            mlc_err_wrap(e, "%s", c->alias);
        return rc;
    }
    return mlc_err_set(e, MLC_EINVAL, "%s: bad column type", c->alias);
}

int aissim_date_relative(const char *s, int32_t today, int32_t *out, struct mlc_err *e)
{
    struct jdate_civil d, r;
    long long n = 0;
    char *end = NULL;
    int rc;

    if (s == NULL || strncmp(s, "today", 5) != 0)
        return MLC_ENOTFOUND;
    if (s[5] != '\0') {
        if (s[5] != '+' && s[5] != '-')
            return mlc_err_set(e, MLC_EINVAL, "'%s': expected today, today+N or today-N", s);
        errno = 0;
        n = strtoll(s + 6, &end, 10);
        if (errno != 0 || end == s + 6 || *end != '\0' || n > 100000)
            return mlc_err_set(e, MLC_EINVAL, "'%s': expected today, today+N or today-N", s);
        if (s[5] == '-')
            n = -n;
    }
    if (today <= 0)
        return mlc_err_set(e, MLC_EINVAL, "'%s': no clock to resolve a relative date", s);
    if ((rc = jdate_julian_to_civil(today, &d, e)) != MLC_OK ||
        (rc = jdate_civil_add_days(&d, n, &r, e)) != MLC_OK ||
        (rc = jdate_julian_from_civil(&r, out, e)) < 0) {
        mlc_err_wrap(e, "'%s'", s);
        return rc;
    }
    return MLC_OK;
}

int aissim_cell_set_json(const struct aissim_col *c, struct aissim_cell *cell,
                         const json_t *v, int32_t today, struct mlc_err *e)
{
    if (json_is_string(v) && c->type == AISSIM_C_DATE) {
        int32_t jul;
        int rc = aissim_date_relative(json_string_value(v), today, &jul, e);

        if (rc == MLC_OK)
            cell->n = jul;
        if (rc != MLC_ENOTFOUND && rc != MLC_OK)
            mlc_err_wrap(e, "%s", c->alias);
        if (rc != MLC_ENOTFOUND)
            return rc;
    }
    if (json_is_string(v))
        return aissim_cell_set_str(c, cell, json_string_value(v), e);
    if (json_is_integer(v) && (c->type == AISSIM_C_NUM || c->type == AISSIM_C_DATE)) {
        cell->n = json_integer_value(v);
        if (c->type == AISSIM_C_DATE && cell->n != 0) {
            struct jdate_civil d;

            int rc = jdate_julian_to_civil((int32_t)cell->n, &d, e);

            if (rc != MLC_OK) {
                mlc_err_wrap(e, "%s", c->alias);
                return rc;
            }
        }
        return MLC_OK;
    }
    if (json_is_null(v)) {
        cell->n = 0;
        return c->type == AISSIM_C_STR ? replace_str(cell, "", e)
               : c->type == AISSIM_C_MCU ? replace_str(cell, "            ", e)
                                         : MLC_OK;
    }
    return mlc_err_set(e, MLC_EINVAL, "%s: unsupported JSON type %s "
                       "(amounts as decimal strings)", c->alias,
                       json_is_real(v) ? "real" : "value");
}

int aissim_row_set_json(const struct aissim_tdef *d, struct aissim_cell *row,
                        const json_t *obj, int32_t today, struct mlc_err *e)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj))
        return mlc_err_set(e, MLC_EINVAL, "%s: a row must be an object", d->name);
    json_object_foreach((json_t *)obj, k, v) {
        int i = aissim_col_find(d, k);
        int rc;

        if (i < 0)
            return mlc_err_set(e, MLC_EINVAL, "%s: unknown column '%s'", d->name, k);
        rc = aissim_cell_set_json(&d->cols[i], &row[i], v, today, e);
        if (rc != MLC_OK) {
            mlc_err_wrap(e, "%s", d->name);
            return rc;
        }
    }
    return MLC_OK;
}

json_t *aissim_cell_json(const struct aissim_col *c,
                         const struct aissim_cell *cell)
{
    char buf[MONEY_FMT_MAX];
    struct jdate_civil d;

    switch (c->type) {
    case AISSIM_C_STR:
    case AISSIM_C_MCU:
        return json_string(cell->s);
    case AISSIM_C_NUM:
        return json_integer(cell->n);
    case AISSIM_C_DATE:
        if (cell->n == 0 || jdate_julian_to_civil((int32_t)cell->n, &d, NULL) != MLC_OK)
            return json_null();
        if (jdate_yyyymmdd_format(&d, buf, sizeof(buf), NULL) != MLC_OK)
            return json_null();
        return json_string(buf);
    case AISSIM_C_AMT:
        if (money_format(cell->n, c->len, buf, sizeof(buf)) != MLC_OK)
            return json_null();
        return aissim_json_dec(buf);
    }
    return json_null();
}

json_t *aissim_row_json(const struct aissim_tdef *d,
                        const struct aissim_cell *row)
{
    json_t *o = json_object();
    char key[48];

    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < d->ncols; i++) {
        snprintf(key, sizeof(key), "%s_%s", d->name, d->cols[i].alias);
        if (json_object_set_new(o, key, aissim_cell_json(&d->cols[i], &row[i])) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Seed rows get UPMJ and the time column from the start stamp unless the
 * row sets them. */
static int load_row(struct aissim_table *t, const json_t *obj, int32_t upmj,
                    int32_t upmt, struct mlc_err *e)
{
    const struct aissim_tdef *d = t->def;
    struct aissim_cell *row = aissim_row_new(d);
    int iu = aissim_col_find(d, "UPMJ"), it = aissim_col_find(d, d->upd_time);
    int rc;

    if (row == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "aissim: out of memory");
    if (iu >= 0)
        row[iu].n = upmj;
    if (it >= 0)
        row[it].n = upmt;
    rc = aissim_row_set_json(d, row, obj, upmj, e);
    if (rc != MLC_OK) {
        aissim_row_free(d, row);
        return rc;
    }
    return aissim_table_append(t, row, e);
}

int aissim_db_load(struct aissim_db *db, const json_t *tables, int32_t upmj,
                   int32_t upmt, struct mlc_err *e)
{
    const char *name;
    json_t *rows;

    if (tables == NULL)
        return MLC_OK;
    if (!json_is_object(tables))
        return mlc_err_set(e, MLC_EINVAL, "seed: tables must be an object");
    json_object_foreach((json_t *)tables, name, rows) {
        struct aissim_table *t = aissim_db_table(db, name);
        size_t i;
        json_t *r;

        if (t == NULL)
            return mlc_err_set(e, MLC_EINVAL, "seed: table %s is not simulated", name);
        if (!json_is_array(rows))
            return mlc_err_set(e, MLC_EINVAL, "seed: %s must be an array", name);
        json_array_foreach(rows, i, r) {
            int rc = load_row(t, r, upmj, upmt, e);

            if (rc != MLC_OK) {
                mlc_err_wrap(e, "seed row %zu", i);
                return rc;
            }
        }
    }
    return MLC_OK;
}
