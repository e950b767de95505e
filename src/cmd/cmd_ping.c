/* Placeholder until the module lands: keeps the command table linkable. */
#include <stdio.h>

#include "cmd/cmd.h"

int cmd_ping(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mlc ping: not available in this build\n");
    return 1;
}
