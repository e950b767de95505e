/*
 * simfix: the fixture of the flow tests: both simulators on 127.0.0.1 with
 * the shipped seeds (sim/seed/), the BigCommerce quota made generous so
 * that no test waits for it, a control client, the two credentials the
 * seeds accept, and a temporary directory for the stores a test opens
 * (named by a counter, n_stores). Log level error, time zone UTC.
 */
#ifndef MLC_TEST_SIMFIX_H
#define MLC_TEST_SIMFIX_H

#include "bc/bcsim.h"
#include "ais/aissim.h"
#include "core/secret.h"
#include "net/httpc.h"

#define SIMFIX_BC_SEED  "sim/seed/bigcommerce.json"
#define SIMFIX_AIS_SEED "sim/seed/jde.json"
#define SIMFIX_BC_TOKEN "sim-token-northwind"
#define SIMFIX_JDE_PWD  "mlcint-pass"

struct simfix {
    struct bcsim      *bc;
    struct aissim     *ais;
    char               bc_base[64];   /* http://127.0.0.1:P */
    char               ais_base[64];
    struct httpc      *ctl;
    char               dir[64];
    int                n_stores;
    struct mlc_secret *tok, *pwd;
};

/* Starts everything; 0, or -1 with the reason on stderr. tag names the
 * directory (/tmp/mlc-<tag>-XXXXXX). */
int simfix_start(struct simfix *f, const char *tag);
/* Stops and frees everything, and removes the directory with its files. */
void simfix_stop(struct simfix *f);

#endif
