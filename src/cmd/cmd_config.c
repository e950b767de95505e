/*
 * mlc config check FILE: loads FILE as the daemon would and reports every
 * error (file:line: key: problem) on stderr; a valid file is confirmed with
 * its go-live cutover (orders.start). Exit 0 valid, 1 invalid, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_util.h"
#include "core/config.h"

static void print_error(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

static int usage(FILE *out)
{
    fprintf(out, "usage: mlc config check [FILE]\n");
    return out == stdout ? 0 : 2;
}

static int config_check(const char *path)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e;

    mlc_err_clear(&e);
    if (cfg_load_report(path, print_error, NULL, &cfg, &e) != MLC_OK)
        return 1;
    printf("%s: configuration OK\n", path);
    if (cfg->orders.start_id > 0)
        printf("go-live cutover: orders created before %s or numbered below %d are never "
               "posted\n", cfg->orders.start, cfg->orders.start_id);
    else
        printf("go-live cutover: orders created before %s are never posted\n",
               cfg->orders.start);
    cfg_unref(cfg);
    return 0;
}

int cmd_config(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout);
    if (argc < 2 || argc > 3 || strcmp(argv[1], "check") != 0)
        return usage(stderr);
    return config_check(cmdu_config(argc == 3 ? argv[2] : NULL));
}
