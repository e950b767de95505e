/*
 * cmd: the operator's commands. main.c only dispatches; each command lives in
 * its own file and has the signature of cmd_fn. A command returns the process
 * exit status (0 success, 1 failure, 2 usage error) and prints its own errors.
 */
#ifndef MLC_CMD_CMD_H
#define MLC_CMD_CMD_H

#include <stdio.h>

#include "cmd/cmd_opt.h"

typedef int (*cmd_fn)(int argc, char **argv);

struct cmd_def {
    const char *name;
    cmd_fn      fn;
    const char *summary; /* one line: what it does */
    /* The option tables (cmd_opt.h), NULL-terminated: one for a plain
     * command, one per subcommand ("jobs list", ...). They give the usage,
     * `mlc help`, the man page and the completion. */
    const struct cmdo_spec *const *specs;
};

/* The command table (cmd.c), terminated by a NULL name. */
extern const struct cmd_def cmd_table[];

const struct cmd_def *cmd_find(const char *name);
void cmd_print_usage(FILE *out);

/* Each command's option tables (in its own file). */
extern const struct cmdo_spec *const cmd_run_specs[];
extern const struct cmdo_spec *const cmd_init_specs[];
extern const struct cmdo_spec *const cmd_config_specs[];
extern const struct cmdo_spec *const cmd_credentials_specs[];
extern const struct cmdo_spec *const cmd_jobs_specs[];
extern const struct cmdo_spec *const cmd_held_specs[];
extern const struct cmdo_spec *const cmd_replay_specs[];
extern const struct cmdo_spec *const cmd_dismiss_specs[];
extern const struct cmdo_spec *const cmd_audit_specs[];
extern const struct cmdo_spec *const cmd_sync_specs[];
extern const struct cmdo_spec *const cmd_orders_specs[];
extern const struct cmdo_spec *const cmd_store_specs[];
extern const struct cmdo_spec *const cmd_report_specs[];
extern const struct cmdo_spec *const cmd_notify_specs[];
extern const struct cmdo_spec *const cmd_console_specs[];
extern const struct cmdo_spec *const cmd_ping_specs[];

int cmd_run(int argc, char **argv);    /* cmd_run.c */
int cmd_init(int argc, char **argv);   /* cmd_init.c */
int cmd_config(int argc, char **argv); /* cmd_config.c */
int cmd_jobs(int argc, char **argv);   /* cmd_jobs.c */
int cmd_credentials(int argc, char **argv); /* cmd_credentials.c */
int cmd_ping(int argc, char **argv);   /* cmd_ping.c */
int cmd_held(int argc, char **argv);   /* cmd_held.c */
int cmd_replay(int argc, char **argv); /* cmd_replay.c */
int cmd_dismiss(int argc, char **argv); /* cmd_dismiss.c */
int cmd_audit(int argc, char **argv);  /* cmd_audit.c */
int cmd_sync(int argc, char **argv);   /* cmd_sync.c */
int cmd_orders(int argc, char **argv); /* cmd_orders.c */
int cmd_store(int argc, char **argv);  /* cmd_store.c */
int cmd_report(int argc, char **argv); /* cmd_report.c */
int cmd_notify(int argc, char **argv); /* cmd_notify.c */
int cmd_console(int argc, char **argv); /* cmd_console.c */
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

#endif
