#include "cmd/cmd.h"
#include "cmd/cmd_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct cmdo_opt version_opts[] = { CMDO_END };
static const struct cmdo_spec version_spec = {
    "version", "", "print the version", version_opts, NULL,
};
static const struct cmdo_spec *const version_specs[] = { &version_spec, NULL };

struct help_args {
    bool table;
};
static const struct cmdo_opt help_opts[] = {
    { "table", 0, CMDO_FLAG, offsetof(struct help_args, table), NULL,
      "one line per command and subcommand: its name, a tab, its options (for scripts)", 0, 0 },
    CMDO_END,
};
static const struct cmdo_spec help_spec = {
    "help", "[COMMAND]", "list the commands, or show one command's usage", help_opts, NULL,
};
static const struct cmdo_spec *const help_specs[] = { &help_spec, NULL };

const struct cmd_def cmd_table[] = {
    { "run",     cmd_run,     "run the daemon (webhooks, scheduler, workers)", cmd_run_specs },
    { "init",    cmd_init,    "write a commented example configuration (default mlc.yaml) and a master key", cmd_init_specs },
    { "config",  cmd_config,  "validate a configuration file (exit 0 valid, 1 invalid)", cmd_config_specs },
    { "ping",    cmd_ping,    "test the connection to BigCommerce and JD Edwards, step by step", cmd_ping_specs },
    { "credentials", cmd_credentials, "store credentials encrypted in the state store", cmd_credentials_specs },
    { "jobs",    cmd_jobs,    "inspect and enqueue jobs in the state store", cmd_jobs_specs },
    { "held",    cmd_held,    "held and failed jobs by reason code: count, amounts, oldest, what to fix", cmd_held_specs },
    { "replay",  cmd_replay,  "put held or failed jobs back in the queue after a fix", cmd_replay_specs },
    { "dismiss", cmd_dismiss, "close held or failed jobs handled by hand: never posted", cmd_dismiss_specs },
    { "audit",   cmd_audit,   "the audit trail and JDE documents of one order", cmd_audit_specs },
    { "sync",    cmd_sync,    "backfill orders or customers into jobs (resumable); run one catalog poll now", cmd_sync_specs },
    { "orders",  cmd_orders,  "dry run: the documents an order would post, validated, nothing written", cmd_orders_specs },
    { "report",  cmd_report,  "daily reconciliation: BigCommerce, the ledger and JDE side by side (exit 0 when they agree)", cmd_report_specs },
    { "notify",  cmd_notify,  "alert channels: send a test message to each (exit 1 if any failed), or list what was sent and what waits", cmd_notify_specs },
    { "console", cmd_console, "set a web console user's password (read without echo, stored hashed)", cmd_console_specs },
    { "store",   cmd_store,   "move an installation to another store (e.g. SQLite to PostgreSQL), verified by counts and checksums", cmd_store_specs },
    { "version", cmd_version, "print the version", version_specs },
    { "help",    cmd_help,    "list the commands, or show one command's usage", help_specs },
    { NULL, NULL, NULL, NULL },
};

const struct cmd_def *cmd_find(const char *name)
{
    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* One entry per command, or per subcommand: the synopsis without "mlc ",
 * then its summary (scripts/gen-man reads this layout). */
void cmd_print_usage(FILE *out)
{
    char syn[1024];

    fprintf(out, "usage: mlc COMMAND [ARGS]\n\ncommands:\n");
    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++) {
        for (size_t i = 0; c->specs[i] != NULL; i++) {
            cmdo_synopsis(c->specs[i], syn, sizeof(syn));
            fprintf(out, "  %s\n      %s\n", syn + strlen("mlc "), c->specs[i]->summary);
        }
    }
    fprintf(out, "\nmlc help COMMAND, or mlc COMMAND --help: its usage and options.\n"
            "The configuration: --config FILE, else $MLC_CONFIG, else %s.\n",
            CMDU_CONFIG_DEFAULT);
}

static void print_table(void)
{
    char opts[1024];

    for (const struct cmd_def *c = cmd_table; c->name != NULL; c++) {
        for (size_t i = 0; c->specs[i] != NULL; i++) {
            cmdo_option_names(c->specs[i], opts, sizeof(opts));
            printf("%s\t%s\n", c->specs[i]->name, opts);
        }
    }
}

int cmd_version(int argc, char **argv)
{
    int npos, rc = cmdo_parse(&version_spec, argc, argv, NULL, &npos);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    printf("mlc %s\n", MLC_VERSION);
    return 0;
}

int cmd_help(int argc, char **argv)
{
    struct help_args a = { false };
    const struct cmd_def *c;
    char *sub[3];
    int npos, rc = cmdo_parse(&help_spec, argc, argv, &a, &npos);

    if (rc != CMDO_GO)
        return rc < 0 ? 0 : rc;
    if (npos > 1)
        return cmdo_fail(&help_spec, "one command at a time");
    if (a.table) {
        print_table();
        return 0;
    }
    if (npos == 0) {
        cmd_print_usage(stdout);
        return 0;
    }
    if ((c = cmd_find(argv[1])) == NULL)
        return cmdo_fail(&help_spec, "unknown command '%s'", argv[1]);
    /* Its own --help: the same text whichever way it is asked for. */
    sub[0] = (char *)c->name;
    sub[1] = (char *)"--help";
    sub[2] = NULL;
    return c->fn(2, sub);
}
