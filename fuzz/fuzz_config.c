/*
 * fuzz_config: the YAML config loader (src/core/config.c) on one buffer,
 * with every error collected (the `mlc config check` path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_report(const char *msg, void *ctx)
{
    (void)msg;
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlc_config *cfg = NULL;
    struct mlc_err e = {0};
    size_t nerr = 0;
    /* Exact size, no terminator: the loader takes a length. */
    char *text = malloc(size > 0 ? size : 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    if (cfg_load_buffer_report("fuzz.yaml", text, size, count_report, &nerr, &cfg, &e) == 0)
        cfg_unref(cfg);
    free(text);
    return 0;
}
