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

struct config_args {
    int unused;  /* no options yet */
};
static const struct cmdo_opt check_opts[] = { CMDO_END };
static const struct cmdo_spec check_spec = {
    "config check", "[FILE]", "validate a configuration file (exit 0 valid, 1 invalid)",
    check_opts,
    "FILE: else $MLC_CONFIG, else /etc/mlc/mlc.yaml. Every error is named\n"
    "with its line and key.",
};
const struct cmdo_spec *const cmd_config_specs[] = { &check_spec, NULL };

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
    struct config_args a = { 0 };
    size_t which = 0;
    int npos, rc;

    if ((rc = cmdo_sub("config", cmd_config_specs, argc, argv, &which)) != CMDO_GO ||
        (rc = cmdo_parse(&check_spec, argc - 1, argv + 1, &a, &npos)) != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos > 1)
        return cmdo_fail(&check_spec, "one FILE at most");
    return config_check(cmdu_config(npos == 1 ? argv[2] : NULL));
}
