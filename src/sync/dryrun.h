/*
 * dryrun: the sample calls of `mlc ping --orchestrations`, made in the
 * optional validation mode of the orchestrations (docs/orchestrations.md,
 * "Validation mode").
 *
 * An orchestration built with that mode lists the input ValidateOnly (or
 * its jde.inputs rename) in its discover answer. Called with ValidateOnly
 * "1" it runs every check a real call runs, writes nothing, and answers
 * Validated "1" without a document or address number. An orchestration
 * that does not list the input is never called: nothing proves it would
 * not write.
 *
 * The samples go through the flows' own input builders on the configured
 * accounts, business units, company and supplier, so a validation also
 * proves the mapping: a journal entry or voucher of one currency unit
 * (revenue against clearing), and a customer named "MLC PING TEST". Their
 * keys start with DRYRUN_KEY_PREFIX and carry the time, so a sample that a
 * broken build wrote anyway is easy to find and void. MLC_UpdateCustomer
 * has no sample: it needs a real customer, and a broken build would
 * overwrite it.
 */
#ifndef MLC_SYNC_DRYRUN_H
#define MLC_SYNC_DRYRUN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "jde/ais_orch.h"

#define DRYRUN_INPUT      "ValidateOnly"  /* contract names */
#define DRYRUN_OUTPUT     "Validated"
#define DRYRUN_KEY_PREFIX "MLCPING"

/* True when the discover answer d of an orchestration lists the
 * validation input under the name cfg gives it. */
bool dryrun_supported(const json_t *d, const struct cfg_jde *cfg);

struct dryrun_sample {
    char                key[26];  /* Reference / InvoiceNumber / LongAddressNumber */
    struct ais_orch_in *in;       /* owned; ValidateOnly "1" included */
};

/* The sample call of kind k at Unix time now (GL date: that day in the
 * zone tz_init selected). currency: the store's, for journals and vouchers.
 * MLC_ESTATE for AIS_ORCH_UPDATE_CUSTOMER; a configuration that cannot
 * make a sample (no supplier in voucher mode, an unknown currency) is
 * MLC_EINVAL with the key to set. Release with dryrun_sample_clear. */
int dryrun_sample(const struct mlc_config *cfg, enum ais_orch_kind k, const char *currency,
                  int64_t now, struct dryrun_sample *out, struct mlc_err *e);
void dryrun_sample_clear(struct dryrun_sample *s);

enum dryrun_outcome {
    DRYRUN_VALIDATED = 0, /* checked and nothing written */
    DRYRUN_REFUSED,       /* JDE refused the sample: e says why */
    DRYRUN_WROTE,         /* the mode was ignored: *doc was created */
    DRYRUN_UNCLEAR,       /* an answer without Validated: may have written */
    DRYRUN_NO_ANSWER      /* no (usable) answer: may have written */
};

/* Judges the result of ais_orch_call (rc, res) on a sample. *doc: the
 * document or address number a broken build returned, else 0. e holds the
 * call's message for REFUSED and NO_ANSWER. */
enum dryrun_outcome dryrun_judge(int rc, const struct ais_orch_result *res, int64_t *doc);

#endif
