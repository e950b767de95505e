/* Placeholder until the module lands: keeps the command table linkable. */
#include <stdio.h>

#include "cmd/cmd.h"

int cmd_credentials(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mlc credentials: not available in this build\n");
    return 1;
}
