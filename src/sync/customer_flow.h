/*
 * customer_flow: one BigCommerce customer into the JD Edwards Address Book
 * and Customer Master (posting rules §1 MLC_AddCustomer / MLC_UpdateCustomer,
 * §2 F0101 lookup, §3 customer key, §8 field mapping). The body of the
 * `customer.sync` job (key "customer:<id>").
 *
 * One run:
 *  1. fetch  the customer with its addresses (one list call, id:in). A
 *            customer BigCommerce no longer has is done ("not found").
 *  2. map    the fields (cust_map_build, pure): every value cut to its JDE
 *            length; each cut is audited (field, original length).
 *  3. key    LongAddressNumber = <posting.key_prefix><id>; a key longer
 *            than JDE's 20 characters holds (cutting it would merge keys).
 *  4. ledger (kind "customer", doc type "AB", doc number = AN8):
 *            POSTED            -> the customer exists: update when needed;
 *            PENDING / UNKNOWN -> F0101 by ALKY: found -> adopted, absent
 *                                 -> forgotten and created;
 *            no row            -> F0101 by ALKY: found -> adopted (a row is
 *                                 written), absent -> created.
 *            Create: PENDING row with the fields sent, MLC_AddCustomer,
 *            POSTED with the AddressNumber. Refused -> row removed, HOLD
 *            with JDE's message; no answer -> row UNKNOWN, RETRY (the next
 *            run looks the key up before it creates again).
 *  5. update MLC_UpdateCustomer with AddressNumber = the ledger's AN8 when
 *            the mapped fields differ from those last sent. "Last sent" is
 *            a SHA-256 of the fields kept in the watermark
 *            "customer.sent:<KEY>" (the ledger keeps the fields of the
 *            create and never changes a POSTED row); an unchanged customer
 *            costs no JDE write. An adopted customer nobody recorded as
 *            sent is updated once. Refused -> HOLD; no answer -> RETRY
 *            (an update is safe to repeat).
 * Every step is audited under entity "customer:<id>"; details carry the
 * key, the AN8, field names and lengths, never values such as e-mail or
 * phone, never secrets.
 *
 * Dry run: fetch, map and the lookups only; nothing is written.
 */
#ifndef MLC_SYNC_CUSTOMER_FLOW_H
#define MLC_SYNC_CUSTOMER_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bc/bc_customers.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jobkind.h"
#include "sync/flow.h"

/* The job kind and its key prefix (core/jobkind.h). */
#define CUST_JOB JOB_CUSTOMER_SYNC
#define CUST_KEY JOB_KEY_CUSTOMER

/* The orchestration inputs of posting rules §1, in sending order. */
enum cust_field {
    CUST_F_LONG_ADDRESS = 0, /* LongAddressNumber (ALKY, the key) */
    CUST_F_ALPHA_NAME,
    CUST_F_MAILING_NAME,
    CUST_F_SEARCH_TYPE,
    CUST_F_ADDRESS1,
    CUST_F_ADDRESS2,
    CUST_F_CITY,
    CUST_F_STATE,
    CUST_F_POSTAL_CODE,
    CUST_F_COUNTRY,
    CUST_F_EMAIL,
    CUST_F_PHONE,
    CUST_F_COMPANY,
    CUST_F_AR_CLASS,
    CUST_F_CURRENCY,
    CUST_F_PAYMENT_TERMS,
    CUST_F_COUNT
};

/* "AlphaName" etc.; NULL out of range. */
const char *cust_field_name(enum cust_field f);
/* JDE length of the field (bytes: never more than JDE's characters). */
size_t cust_field_max(enum cust_field f);

/* Mapping settings (borrowed strings; NULL or "" = not set). */
struct cust_opts {
    const char *key_prefix;    /* default "BC" */
    const char *company;       /* posting.company, sent zero-padded to 5 */
    const char *search_type;   /* default "C" */
    const char *ar_class;
    const char *currency;
    const char *payment_terms;
};

/* The options of cfg (borrowed from it). */
struct cust_opts cust_opts_of(const struct mlc_config *cfg);

/* The mapped fields. v[f] owned, never NULL ("" when blank); cut[f] is the
 * original length in bytes when the value was cut to cust_field_max, else
 * 0. address_id: the address used (0: none). */
struct cust_map {
    char   *v[CUST_F_COUNT];
    size_t  cut[CUST_F_COUNT];
    int64_t address_id;
};

/* Maps c (posting rules §8). Values are cut at a UTF-8 character boundary.
 * MLC_EINVAL when the key would be longer than 20 (nothing is cut then).
 * out is cleared on failure; release with cust_map_clear. Pure. */
int cust_map_build(const struct bc_customer *c, const struct cust_opts *o,
                   struct cust_map *out, struct mlc_err *e);
void cust_map_clear(struct cust_map *m);
/* The fields as one JSON object text, keys sorted (the ledger request and
 * the basis of the change hash). *out: caller frees with free(). */
int cust_map_json(const struct cust_map *m, char **out, struct mlc_err *e);
/* Lowercase hex SHA-256 of the JSON text above (65 bytes with the NUL). */
int cust_map_hash(const struct cust_map *m, char out[65], struct mlc_err *e);

struct ais_orch_in;
/* The orchestration inputs for m: MLC_AddCustomer's when an8 is 0, else
 * MLC_UpdateCustomer's for that address number. A blank value is not sent
 * when adding (JDE's defaults apply) nor, for a field taken from the
 * configuration, when updating; a blank customer field on update blanks it
 * in JDE (it was removed). *out: caller frees with ais_orch_in_free. */
int cust_orch_inputs(const struct cust_map *m, int64_t an8, struct ais_orch_in **out,
                     struct mlc_err *e);

/* Runs the flow for customer_id (r as for flow_order_sync; r->now unused).
 * Returns MLC_OK with *res set (e->msg: the reason of a HOLD or RETRY), or
 * MLC_EINVAL for bad arguments. */
int cust_sync(const struct flow_run *r, int64_t customer_id, enum flow_result *res,
              struct mlc_err *e);

/* "customer:7" -> 7; MLC_EINVAL for anything else. */
int cust_key_parse(const char *key, int64_t *customer_id, struct mlc_err *e);

#endif
