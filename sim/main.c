/*
 * mlc-sim: the BigCommerce store and JD Edwards AIS simulators, alone or both
 * in one process (tests, benchmarks, the demo).
 *
 *   mlc-sim --bigcommerce 127.0.0.1:0 --jde 127.0.0.1:0 --seed sim/seed/bigcommerce.json
 *           --seed sim/seed/jde.json --ready-file ports.env
 *
 * Seed files are JSON objects with a "bigcommerce" and/or a "jde" section;
 * with several files the last one that has a section wins. Ports are printed
 * and, with --ready-file, written as "bigcommerce=PORT" / "jde=PORT" lines
 * once both simulators serve. SIGTERM or SIGINT stops them.
 */
#include <getopt.h>
#include <pthread.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ais/aissim.h"
#include "bc/bcsim.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"

#define MAX_SEEDS 8

struct sim_opts {
    const char *bc_listen;
    const char *jde_listen;
    const char *seeds[MAX_SEEDS];
    int         n_seeds;
    const char *ready_file;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mlc-sim [--bigcommerce ADDR] [--jde ADDR] [--seed FILE]...\n"
            "               [--ready-file FILE] [--log-level LEVEL]\n"
            "  ADDR is HOST:PORT on loopback, port 0 picks a free port.\n");
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
    static const struct option longopts[] = {
        { "bigcommerce", required_argument, NULL, 'b' },
        { "jde",         required_argument, NULL, 'j' },
        { "seed",        required_argument, NULL, 's' },
        { "ready-file",  required_argument, NULL, 'r' },
        { "log-level",   required_argument, NULL, 'l' },
        { "help",        no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum log_level lvl;
    int c;

    while ((c = getopt_long(argc, argv, "b:j:s:r:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->bc_listen = optarg; break;
        case 'j': o->jde_listen = optarg; break;
        case 'r': o->ready_file = optarg; break;
        case 's':
            if (o->n_seeds == MAX_SEEDS) {
                fprintf(stderr, "mlc-sim: at most %d --seed files\n", MAX_SEEDS);
                return 2;
            }
            o->seeds[o->n_seeds++] = optarg;
            break;
        case 'l':
            if (log_parse_level(optarg, &lvl) != MLC_OK) {
                fprintf(stderr, "mlc-sim: unknown log level '%s'\n", optarg);
                return 2;
            }
            log_set_level(lvl);
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || (o->bc_listen == NULL && o->jde_listen == NULL)) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Reads every seed file and keeps, per section, the last one given.
 * *out: a new object {"bigcommerce": ..., "jde": ...}; caller decrefs. */
static int load_seeds(const struct sim_opts *o, json_t **out, struct mlc_err *e)
{
    json_t *merged = json_object();
    json_error_t je;

    if (merged == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    for (int i = 0; i < o->n_seeds; i++) {
        json_t *doc = json_load_file(o->seeds[i], JSON_REJECT_DUPLICATES, &je);

        if (doc == NULL || !json_is_object(doc)) {
            mlc_err_set(e, MLC_EPARSE, "%s:%d: %s", o->seeds[i], je.line,
                        doc == NULL ? je.text : "expected a JSON object");
            json_decref(doc);
            json_decref(merged);
            return e ? e->code : MLC_EPARSE;
        }
        for (const char *const *k = (const char *const[]){ "bigcommerce", "jde", NULL }; *k; k++) {
            json_t *section = json_object_get(doc, *k);
            if (section != NULL)
                json_object_set(merged, *k, section);
        }
        json_decref(doc);
    }
    *out = merged;
    return MLC_OK;
}

static int write_ready(const char *path, uint16_t bc_port, uint16_t jde_port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    if (bc_port)
        fprintf(f, "bigcommerce=%u\n", bc_port);
    if (jde_port)
        fprintf(f, "jde=%u\n", jde_port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path); /* readers never see a half-written file */
}

static int wait_for_stop(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

int main(int argc, char **argv)
{
    struct sim_opts o = { 0 };
    struct mlc_err e = { 0 };
    struct bcsim *bc = NULL;
    struct aissim *ais = NULL;
    json_t *seed = NULL;
    sigset_t block;
    int rc, status = 1;

    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    /* Signals are taken by sigwait in this thread only: block them before
     * any simulator thread exists. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (secret_lib_init() != MLC_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "mlc-sim: library initialization failed\n");
        return 1;
    }
    if (load_seeds(&o, &seed, &e) != MLC_OK)
        goto out;
    if (o.bc_listen != NULL &&
        bcsim_start(o.bc_listen, json_object_get(seed, "bigcommerce"), &bc, &e) != MLC_OK)
        goto out;
    if (o.jde_listen != NULL &&
        aissim_start(o.jde_listen, json_object_get(seed, "jde"), &ais, &e) != MLC_OK)
        goto out;
    if (bc != NULL)
        printf("mlc-sim: bigcommerce listening on port %u\n", bcsim_port(bc));
    if (ais != NULL)
        printf("mlc-sim: jde listening on port %u\n", aissim_port(ais));
    fflush(stdout);
    if (o.ready_file != NULL &&
        write_ready(o.ready_file, bc ? bcsim_port(bc) : 0, ais ? aissim_port(ais) : 0) != 0) {
        mlc_err_set(&e, MLC_EIO, "%s: cannot write: %m", o.ready_file);
        goto out;
    }
    rc = wait_for_stop(); /* outside the log macro: it is skipped below info */
    log_info("sim", "stopping", LF_INT("signal", rc));
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "mlc-sim: %s\n", e.msg[0] ? e.msg : "failed");
    bcsim_free(bc);
    aissim_free(ais);
    json_decref(seed);
    curl_global_cleanup();
    return status;
}
