/*
 * mlc: the ml-connector daemon and operator's tool. Command dispatch only.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/cmd.h"
#include "core/secret.h"
#include "core/vault.h"
#include "net/httpc.h"

int main(int argc, char **argv)
{
    const struct cmd_def *c;
    struct rlimit no_core = { 0, 0 };
    struct mlc_err err = { 0 };

    /* No core dumps: they would hold decrypted credentials. */
    setrlimit(RLIMIT_CORE, &no_core);
    /* libcurl runs with NOSIGNAL; a peer closing a socket must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    /* libcurl and libsodium global state, once, before any thread starts. */
    if (secret_lib_init() != 0 || httpc_global_init(&err) != 0) {
        fprintf(stderr, "mlc: library initialization failed%s%s\n",
                err.msg[0] ? ": " : "", err.msg);
        return 1;
    }
    /* The master key leaves the environment before anything else runs. */
    if (vault_take_env() != 0) {
        fprintf(stderr, "mlc: cannot keep %s in guarded memory\n", VAULT_ENV);
        return 1;
    }
    if (argc < 2) {
        cmd_print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    c = cmd_find(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "mlc: unknown command '%s'\n", argv[1]);
        cmd_print_usage(stderr);
        return 2;
    }
    return c->fn(argc - 1, argv + 1);
}
