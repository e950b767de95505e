#include "helpers/simfix.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/tz.h"
#include "helpers/tmpstore.h"

/* The simulators on their seeds, the BigCommerce quota out of the way. */
static int start_sims(struct simfix *f, struct mlc_err *e)
{
    json_error_t je;
    json_t *bdoc = json_load_file(SIMFIX_BC_SEED, 0, &je);
    json_t *adoc = json_load_file(SIMFIX_AIS_SEED, 0, &je);
    json_t *bseed = json_object_get(bdoc, "bigcommerce");
    json_t *set = json_object_get(bseed, "settings");
    int rc = -1;

    if (set == NULL || adoc == NULL) {
        fprintf(stderr, "seeds: %s\n", je.text);
        goto out;
    }
    json_object_set_new(set, "rate_quota", json_integer(100000));
    json_object_set_new(set, "rate_window_ms", json_integer(600000));
    if (bcsim_start("127.0.0.1:0", bseed, &f->bc, e) != MLC_OK ||
        aissim_start("127.0.0.1:0", json_object_get(adoc, "jde"), &f->ais, e) != MLC_OK) {
        fprintf(stderr, "simulators: %s\n", e->msg);
        goto out;
    }
    snprintf(f->bc_base, sizeof(f->bc_base), "http://127.0.0.1:%u", (unsigned)bcsim_port(f->bc));
    snprintf(f->ais_base, sizeof(f->ais_base), "http://127.0.0.1:%u",
             (unsigned)aissim_port(f->ais));
    rc = 0;
out:
    json_decref(bdoc);
    json_decref(adoc);
    return rc;
}

int simfix_start(struct simfix *f, const char *tag)
{
    struct mlc_err e = { 0 };

    memset(f, 0, sizeof(*f));
    log_set_level(LOG_LVL_ERROR);
    if (start_sims(f, &e) != 0)
        return -1;
    if (tmpdir_make(f->dir, sizeof(f->dir), tag) != 0 ||
        httpc_new(NULL, &f->ctl, &e) != MLC_OK || tz_init("UTC", &e) != MLC_OK ||
        secret_new(SIMFIX_BC_TOKEN, strlen(SIMFIX_BC_TOKEN), &f->tok, &e) != MLC_OK ||
        secret_new(SIMFIX_JDE_PWD, strlen(SIMFIX_JDE_PWD), &f->pwd, &e) != MLC_OK) {
        fprintf(stderr, "fixture: %s\n", e.msg[0] != '\0' ? e.msg : "temporary directory");
        return -1;
    }
    return 0;
}

void simfix_stop(struct simfix *f)
{
    if (f->dir[0] != '\0')
        tmpdir_remove(f->dir);
    httpc_free(f->ctl);
    bcsim_free(f->bc);
    aissim_free(f->ais);
    secret_free(f->tok);
    secret_free(f->pwd);
    memset(f, 0, sizeof(*f));
}
