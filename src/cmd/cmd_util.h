/*
 * cmd_util: small pieces shared by the operator's commands: loading the
 * configuration and opening its state store with the error printed, JSON
 * and time output, number parsing. Every function that can fail prints its
 * own message as "PROG: message" on stderr, so a command only chooses the
 * exit status.
 */
#ifndef MLC_CMD_CMD_UTIL_H
#define MLC_CMD_CMD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "store/store.h"

/* The configuration file a command uses: --config when given, else
 * $MLC_CONFIG when set and not empty, else CMDU_CONFIG_DEFAULT (static or
 * the caller's string; never NULL). */
#define CMDU_CONFIG_DEFAULT "/etc/mlc/mlc.yaml"
const char *cmdu_config(const char *given);

/* Loads config_path and opens its store. On success *cfg (may be NULL when
 * the caller does not want it: the config is then released) and *st belong
 * to the caller (cfg_unref, store_close). On failure prints the error and
 * leaves both NULL. */
int cmdu_open(const char *prog, const char *config_path,
              struct mlc_config **cfg, struct store **st);

/* Prints o indented on stdout followed by a newline; o is not consumed.
 * Returns the exit status: 0, or 1 when o is NULL or cannot be dumped. */
int cmdu_print_json(const char *prog, const json_t *o);

/* Unix milliseconds as "2026-11-28T10:00:00Z" (UTC); "-" for 0 or less. */
void cmdu_fmt_time(int64_t ms, char *buf, size_t cap);
/* A duration in milliseconds, short and human: "42s", "7m 03s", "3h 12m",
 * "2d 4h"; negative durations print as "0s". */
void cmdu_fmt_age(int64_t ms, char *buf, size_t cap);

/* The audit actor of an operator's command: "cli:<user>", the OS user the
 * command runs as (its effective uid; the number when it has no name),
 * with the user sudo was called by when $SUDO_USER is set and differs:
 * "cli:root(sudo:alice)". Characters outside [A-Za-z0-9._-] become '_'. */
void cmdu_actor(char *buf, size_t cap);

/* A whole decimal number, all of s; MLC_EINVAL otherwise. */
int cmdu_parse_ll(const char *s, long long *out);

/* A stored JSON document as a JSON value: parsed when it parses, else the
 * raw text as a string (jx_text); json_null for NULL. */
json_t *cmdu_json_doc(const char *s);

/* Job ids named on a command line, each once (an id and its key may name
 * the same job); oom set when an add failed. The caller frees v. */
struct cmdu_ids {
    int64_t *v;
    size_t   n, cap;
    bool     oom;
};
void cmdu_ids_add(struct cmdu_ids *l, int64_t id);

#endif
