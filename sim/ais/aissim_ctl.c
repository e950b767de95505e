/*
 * aissim_ctl: the /__sim/ control API of the AIS simulator (counters,
 * clock, settings, faults, users' passwords, restart, table reads and
 * upserts).
 */
#include "aissim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static bool is(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Name after prefix when path is prefix + one non-empty segment. */
static const char *tail(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
        return NULL;
    return path + n;
}

static void ctl_ok(struct httpd_response *rs, json_t *body)
{
    aissim_reply(rs, 200, body != NULL ? body : json_pack("{s:b}", "ok", 1));
}

static void ctl_bad(struct httpd_response *rs, int status, const char *msg)
{
    aissim_reply(rs, status, json_pack("{s:s}", "error", msg));
}

static json_t *table_json(const struct aissim_table *t)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(rows, aissim_row_json(t->def, t->rows[i]));
    return json_pack("{s:s, s:I, s:o}", "table", t->def->name, "count", (json_int_t)t->n,
                     "rows", rows);
}

/* Index of the row matching obj on the table's key columns, -1 if none (or
 * when obj does not carry the whole key). */
static long find_by_key(const struct aissim_table *t, const json_t *obj, int32_t today)
{
    const struct aissim_tdef *d = t->def;
    struct aissim_cell *probe = aissim_row_new(d);
    char keys[64], *save = NULL, *k;
    int idx[8];
    size_t nk = 0;
    long found = -1;

    if (probe == NULL)
        return -1;
    snprintf(keys, sizeof(keys), "%s", d->key);
    for (k = strtok_r(keys, "|", &save); k != NULL && nk < 8; k = strtok_r(NULL, "|", &save)) {
        char full[32];
        json_t *v = json_object_get(obj, k);
        int i = aissim_col_find(d, k);

        snprintf(full, sizeof(full), "%s_%s", d->name, k);
        if (v == NULL)
            v = json_object_get(obj, full);
        if (v == NULL || i < 0 || aissim_cell_set_json(&d->cols[i], &probe[i], v, today, NULL) != MLC_OK)
            goto out;
        idx[nk++] = i;
    }
    for (size_t r = 0; r < t->n && found < 0; r++) {
        bool eq = true;

        for (size_t j = 0; j < nk && eq; j++) {
            const struct aissim_cell *a = &t->rows[r][idx[j]], *b = &probe[idx[j]];

            eq = a->s != NULL ? strcmp(a->s, b->s) == 0 : a->n == b->n;
        }
        if (eq)
            found = (long)r;
    }
out:
    aissim_row_free(d, probe);
    return found;
}

/* Upserts rows into t, stamping UPMJ and the time column from the clock
 * unless the row sets them. */
static int table_upsert(struct aissim *s, struct aissim_table *t, const json_t *rows,
                        size_t *added, size_t *changed, struct mlc_err *e)
{
    const struct aissim_tdef *d = t->def;
    int iu = aissim_col_find(d, "UPMJ"), it = aissim_col_find(d, d->upd_time);
    int32_t jul, hms;
    size_t i;
    json_t *r;

    aissim_stamp(s, &jul, &hms);
    json_array_foreach(rows, i, r) {
        long at = json_is_object(r) ? find_by_key(t, r, jul) : -1;
        struct aissim_cell *row = at >= 0 ? t->rows[at] : aissim_row_new(d);
        int rc;

        if (row == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "out of memory");
        if (iu >= 0)
            row[iu].n = jul;
        if (it >= 0)
            row[it].n = hms;
        rc = aissim_row_set_json(d, row, r, jul, e);
        if (rc != MLC_OK) {
            if (at < 0)
                aissim_row_free(d, row);
            mlc_err_wrap(e, "row %zu", i);
            return rc;
        }
        if (at < 0) {
            rc = aissim_table_append(t, row, e);
            if (rc != MLC_OK)
                return rc;
            (*added)++;
        } else {
            (*changed)++;
        }
    }
    return MLC_OK;
}

static void ctl_table(struct aissim *s, const struct httpd_request *rq,
                      struct httpd_response *rs, const char *name, const char *m)
{
    struct aissim_table *t = aissim_db_table(s->db, name);
    struct mlc_err e = { 0 };
    size_t added = 0, changed = 0;
    json_t *body, *rows;

    if (t == NULL) {
        ctl_bad(rs, 404, "unknown table");
        return;
    }
    if (is(m, "GET")) {
        ctl_ok(rs, table_json(t));
        return;
    }
    if (!is(m, "POST")) {
        ctl_bad(rs, 405, "GET or POST");
        return;
    }
    body = aissim_body_json(s, rq, rs);
    if (body == NULL)
        return;
    rows = json_object_get(body, "rows");
    if (!json_is_array(rows))
        ctl_bad(rs, 400, "expected {\"rows\":[...]}");
    else if (table_upsert(s, t, rows, &added, &changed, &e) != MLC_OK)
        ctl_bad(rs, 400, e.msg);
    else
        ctl_ok(rs, json_pack("{s:I, s:I}", "added", (json_int_t)added, "changed",
                             (json_int_t)changed));
    json_decref(body);
}

static void ctl_apply(struct aissim *s, const struct httpd_request *rq,
                      struct httpd_response *rs,
                      int (*fn)(struct aissim *, const json_t *, struct mlc_err *),
                      json_t *(*show)(const struct aissim *))
{
    struct mlc_err e = { 0 };
    json_t *body;

    if (is(httpd_req_method(rq), "POST")) {
        body = aissim_body_json(s, rq, rs);
        if (body == NULL)
            return;
        if (fn(s, body, &e) != MLC_OK) {
            json_decref(body);
            ctl_bad(rs, 400, e.msg);
            return;
        }
        json_decref(body);
    }
    ctl_ok(rs, show(s));
}

static json_t *counters_json(const struct aissim *s)
{
    json_t *o = json_object();

    for (size_t i = 0; i < s->n_counters; i++)
        json_object_set_new(o, s->counters[i].key, json_integer((json_int_t)s->counters[i].n));
    return o;
}

static json_t *tables_json(const struct aissim *s)
{
    json_t *o = json_object();

    for (size_t i = 0; i < aissim_db_count(s->db); i++) {
        struct aissim_table *t = aissim_db_at(s->db, i);

        json_object_set_new(o, t->def->name, json_integer((json_int_t)t->n));
    }
    return o;
}

static void ctl_user(struct aissim *s, const struct httpd_request *rq,
                     struct httpd_response *rs)
{
    struct mlc_err e = { 0 };
    json_t *body = aissim_body_json(s, rq, rs);

    if (body == NULL)
        return;
    if (aissim_user_set_password(s, body, &e) != MLC_OK)
        ctl_bad(rs, e.code == MLC_ENOTFOUND ? 404 : 400, e.msg);
    else
        ctl_ok(rs, NULL);
    json_decref(body);
}

static void ctl_route(struct aissim *s, const struct httpd_request *rq,
                      struct httpd_response *rs)
{
    const char *p = httpd_req_path(rq) + strlen("/__sim");
    const char *m = httpd_req_method(rq);
    const char *name;

    if (is(p, "/counters") && is(m, "GET")) {
        ctl_ok(rs, counters_json(s));
    } else if (is(p, "/load") && is(m, "GET")) {
        ctl_ok(rs, aissim_load_json(s));
    } else if (is(p, "/counters/reset") && is(m, "POST")) {
        aissim_counters_clear(s);
        ctl_ok(rs, NULL);
    } else if (is(p, "/clock") && (is(m, "GET") || is(m, "POST"))) {
        ctl_apply(s, rq, rs, aissim_clock_set, aissim_clock_json);
    } else if (is(p, "/faults") && (is(m, "GET") || is(m, "POST"))) {
        ctl_apply(s, rq, rs, aissim_faults_apply, aissim_faults_json);
    } else if (is(p, "/settings") && (is(m, "GET") || is(m, "POST"))) {
        ctl_apply(s, rq, rs, aissim_settings_apply, aissim_settings_json);
    } else if (is(p, "/users") && is(m, "POST")) {
        ctl_user(s, rq, rs);
    } else if (is(p, "/restart") && is(m, "POST")) {
        aissim_sessions_clear(s);
        s->restarts++;
        log_info("aissim", "simulated AIS restart: tokens and result sets dropped");
        ctl_ok(rs, json_pack("{s:I}", "restarts", (json_int_t)s->restarts));
    } else if (is(p, "/tables") && is(m, "GET")) {
        ctl_ok(rs, tables_json(s));
    } else if ((name = tail(p, "/table/")) != NULL) {
        ctl_table(s, rq, rs, name, m);
    } else {
        ctl_bad(rs, 404, "unknown control endpoint");
    }
}

void aissim_h_control(const struct httpd_request *rq, struct httpd_response *rs, void *ctx)
{
    struct aissim *s = ctx;

    pthread_mutex_lock(&s->mu);
    ctl_route(s, rq, rs);
    pthread_mutex_unlock(&s->mu);
}

