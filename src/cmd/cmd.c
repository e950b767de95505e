#include "cmd/cmd.h"
#include "cmd/cmd_util.h"

#include <stdio.h>
#include <string.h>

const struct cmd_def cmd_table[] = {
    { "run",     cmd_run,     "[--config FILE]", "run the daemon (webhooks, scheduler, workers)" },
    { "init",    cmd_init,    "[--force] [FILE]", "write a commented example configuration (default mlc.yaml) and a master key" },
    { "config",  cmd_config,  "check [FILE]", "validate a configuration file (exit 0 valid, 1 invalid)" },
    { "ping",    cmd_ping,    "[--config FILE] [--json]", "test the connection to BigCommerce and JD Edwards, step by step" },
    { "credentials", cmd_credentials, "set|list|delete ... [--config FILE]", "store credentials encrypted in the state store" },
    { "jobs",    cmd_jobs,    "list|enqueue|show ... [--config FILE]", "inspect and enqueue jobs in the state store" },
    { "held",    cmd_held,    "[--config FILE] [--all] [--json]", "held and failed jobs by reason code: count, amounts, oldest, what to fix" },
    { "replay",  cmd_replay,  "ID|KEY|--all [--config FILE] [--undismiss] [--json]", "put held or failed jobs back in the queue after a fix" },
    { "dismiss", cmd_dismiss, "ID|KEY|--reason CODE --note TEXT [--config FILE] [--json]", "close held or failed jobs handled by hand: never posted" },
    { "audit",   cmd_audit,   "--order ID|--entity KEY [--config FILE]", "the audit trail and JDE documents of one order" },
    { "sync",    cmd_sync,    "orders|customers --since DATE|--from-id N [--config FILE] | catalog [--config FILE]", "backfill orders or customers into jobs (resumable); run one catalog poll now" },
    { "orders",  cmd_orders,  "show ID [--config FILE] [--json]", "dry run: the documents an order would post, validated, nothing written" },
    { "report",  cmd_report,  "reconcile --day D [--to D2] | show [--day D] [--format text|json|csv] [--config FILE]", "daily reconciliation: BigCommerce, the ledger and JDE side by side (exit 0 when they agree)" },
    { "notify",  cmd_notify,  "test [--channel NAME] | list [--limit N] [--config FILE]", "alert channels: send a test message to each (exit 1 if any failed), or list what was sent and what waits" },
    { "console", cmd_console, "passwd NAME | users [--config FILE]", "set a web console user's password (read without echo, stored hashed)" },
    { "store",   cmd_store,   "migrate --from URL --to URL [--config FILE] [--verify-only]", "move an installation to another store (e.g. SQLite to PostgreSQL), verified by counts and checksums" },
    { "version", cmd_version, "", "print the version" },
    { "help",    cmd_help,    "", "list the commands" },
    { NULL, NULL, NULL, NULL },
};

const struct cmd_def *cmd_find(const char *name)
{
    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cmd_print_usage(const char *prog)
{
    fprintf(stderr, "usage: %s COMMAND [ARGS]\n\ncommands:\n", prog);
    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++) {
        char head[256];
        snprintf(head, sizeof(head), "%s %s", c->name, c->usage);
        fprintf(stderr, "  %s\n      %s\n", head, c->summary);
    }
    fprintf(stderr, "\nThe configuration: --config FILE, else $MLC_CONFIG, else %s.\n",
            CMDU_CONFIG_DEFAULT);
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("mlc %s\n", MLC_VERSION);
    return 0;
}

int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cmd_print_usage("mlc");
    return 0;
}
