/*
 * config: mlc.yaml -> struct mlc_config, driven by one field table.
 *
 * Every setting is one row of `fields` below: dotted key, type, where it
 * lives in struct mlc_config, default (as text, parsed by the same code as
 * the file), range or allowed names, validator, required flag, an example
 * value and a one-line comment. The table drives parsing, defaults,
 * validation, freeing and the commented example that `mlc init` writes, so
 * the example cannot drift from the parser.
 *
 * The YAML is loaded with libyaml's document API (nodes carry line numbers).
 * Scalars are read as text and typed by the table, never by YAML 1.1's
 * implicit rules: `NO` stays a string, `yes` is not a boolean, `00001` keeps
 * its zeros.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/jdate.h"
#include "core/tz.h"

#define CFG_MAX_FILE   (1024 * 1024) /* a config larger than this is a mistake */
#define CFG_KEY_MAX    160           /* longest dotted key in a message */
#define CFG_MAX_SECT   32            /* sections seen in one file */
#define CFG_MAX_LIST   1000          /* items of one int list */
#define CFG_MAX_DEPTH  32            /* nesting: the schema needs 4 */

#define ACCOUNT_EXPECT "expected an account like \"1.4410\" or \"100.4410.01\""

/* ---- the field table ---------------------------------------------------- */

enum ftype {
    FT_STR,         /* char *; optional names[] restricts the value */
    FT_INT,         /* int in [min, max] */
    FT_SIZE,        /* size_t in [min, max] */
    FT_BOOL,        /* bool: true or false only */
    FT_ENUM,        /* enum stored as int: index into names[] */
    FT_ACCOUNT,     /* struct cfg_account */
    FT_MINOR2,      /* int64_t minor units of a "0.02"-style decimal */
    FT_INT_LIST,    /* int * + size_t count, items in [min, max] */
    FT_ACCOUNT_MAP, /* struct cfg_account_map * + size_t count */
    FT_STR_MAP,     /* struct cfg_str_map * + size_t count */
    FT_RECORDS      /* list of mappings: record array + size_t count (rec) */
};

/* One key of the records of an FT_RECORDS field (offsets in the record). */
enum rtype { RT_STR, RT_STR_LIST };
struct rfield {
    const char *key;           /* NULL ends the table */
    enum rtype  type;
    size_t      off, off_n;    /* RT_STR_LIST: char ** and its count */
    const char *(*check)(const char *s);
    bool        required;
    bool        path;          /* a file, resolved against the file's directory */
    const char *example;       /* NULL: not in the example */
};

/* The records of an FT_RECORDS field. */
struct rtable {
    const struct rfield *f;
    size_t               size;  /* of one record */
};

#define F_REQUIRED 1u

/* A validator returns NULL when s is fine, else what was expected. */
typedef const char *(*check_fn)(const char *s);

struct field {
    const char        *key;     /* dotted path, e.g. "posting.accounts.tax" */
    enum ftype         type;
    size_t             off;     /* of the value in struct mlc_config */
    size_t             off_n;   /* lists and maps: of the count */
    const char        *def;     /* default as text; NULL = none */
    long long          min, max;
    const char *const *names;   /* FT_ENUM names / FT_STR allowed values */
    check_fn           check;   /* FT_STR, map values: extra validation */
    check_fn           check_key; /* maps: key validation */
    unsigned           flags;
    const char        *example; /* value shown by cfg_example_yaml when no default */
    const char        *comment; /* one line for cfg_example_yaml */
    const char        *missing; /* required: how to set it, said when it is missing */
    const struct rtable *rec;   /* FT_RECORDS: the keys of one record */
};

/* Validators (defined below the table). */
static const char *chk_ref(const char *s);
static const char *chk_store_hash(const char *s);
static const char *chk_store_id(const char *s);
static const char *chk_url(const char *s);
static const char *chk_api_url(const char *s);
static const char *chk_webhook_url(const char *s);
static const char *chk_path(const char *s);
static const char *chk_env(const char *s);
static const char *chk_role(const char *s);
static const char *chk_device(const char *s);
static const char *chk_user(const char *s);
static const char *chk_orch(const char *s);
static const char *chk_input_name(const char *s);
static const char *chk_input_value(const char *s);
static const char *chk_kco(const char *s);
static const char *chk_dct(const char *s);
static const char *chk_tz(const char *s);
static const char *chk_prefix(const char *s);
static const char *chk_an8(const char *s);
static const char *chk_bu(const char *s);
static const char *chk_channel(const char *s);
static const char *chk_match(const char *s);
static const char *chk_code3(const char *s);
static const char *chk_uom(const char *s);
static const char *chk_currency(const char *s);
static const char *chk_store_url(const char *s);
static const char *chk_password_ref(const char *s);
static const char *chk_listen(const char *s);
static const char *chk_cutover(const char *s);
static const char *chk_hhmm(const char *s);
static const char *chk_smtp_url(const char *s);
static const char *chk_address(const char *s);
static const char *chk_text(const char *s);

#define ROFF(T, m) offsetof(struct T, m)
static const struct rfield webhook_keys[] = {
    { "name", RT_STR, ROFF(cfg_alert_webhook, name), 0, chk_ref, true, false, "ops-slack" },
    { "url_ref", RT_STR, ROFF(cfg_alert_webhook, url_ref), 0, chk_ref, true, false,
      "alerts_ops_slack_url" },
    { "ca_file", RT_STR, ROFF(cfg_alert_webhook, ca_file), 0, chk_path, false, true, NULL },
    { NULL, RT_STR, 0, 0, NULL, false, false, NULL },
};
static const struct rfield email_keys[] = {
    { "name", RT_STR, ROFF(cfg_alert_email, name), 0, chk_ref, true, false, "finance" },
    { "smtp_url", RT_STR, ROFF(cfg_alert_email, smtp_url), 0, chk_smtp_url, true, false,
      "smtp://mail.example.com:587" },
    { "from", RT_STR, ROFF(cfg_alert_email, from), 0, chk_address, true, false,
      "mlc@example.com" },
    { "to", RT_STR_LIST, ROFF(cfg_alert_email, to), ROFF(cfg_alert_email, n_to), chk_address,
      true, false, "[\"controller@example.com\"]" },
    { "user", RT_STR, ROFF(cfg_alert_email, user), 0, chk_text, false, false, "mlc" },
    { "password_ref", RT_STR, ROFF(cfg_alert_email, password_ref), 0, chk_ref, false, false,
      "alerts_smtp_password" },
    { "ca_file", RT_STR, ROFF(cfg_alert_email, ca_file), 0, chk_path, false, true, NULL },
    { NULL, RT_STR, 0, 0, NULL, false, false, NULL },
};
static const struct rtable webhook_table = { webhook_keys, sizeof(struct cfg_alert_webhook) };
static const struct rtable email_table = { email_keys, sizeof(struct cfg_alert_email) };
static const char *chk_console_user(const char *s);
static const char *chk_console_role(const char *s);
static const char *chk_header_name(const char *s);

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const post_modes[] = { "journal", "voucher", NULL };
static const char *const gl_dates[]   = { "created", "paid", "posting", NULL };
static const char *const cancels[]    = { "reverse", "hold", NULL };
static const char *const sku_srcs[]   = { "litm", "aitm", NULL };
static const char *const budgets[]    = { "auto", "on", "off", NULL };

#define OFF(m) offsetof(struct mlc_config, m)

#define F_STR(K, M, D, CHK, FL, EX, CM) \
    { .key = K, .type = FT_STR, .off = OFF(M), .def = D, .check = CHK, \
      .flags = FL, .example = EX, .comment = CM }
#define F_NAMED(K, M, D, NAMES, CM) \
    { .key = K, .type = FT_STR, .off = OFF(M), .def = D, .names = NAMES, \
      .comment = CM }
#define F_INT(K, M, D, MIN, MAX, CM) \
    { .key = K, .type = FT_INT, .off = OFF(M), .def = D, .min = MIN, \
      .max = MAX, .comment = CM }
#define F_SIZE(K, M, D, MIN, MAX, CM) \
    { .key = K, .type = FT_SIZE, .off = OFF(M), .def = D, .min = MIN, \
      .max = MAX, .comment = CM }
#define F_BOOL(K, M, D, CM) \
    { .key = K, .type = FT_BOOL, .off = OFF(M), .def = D, .comment = CM }
#define F_ENUM(K, M, D, NAMES, CM) \
    { .key = K, .type = FT_ENUM, .off = OFF(M), .def = D, .names = NAMES, \
      .comment = CM }
#define F_ACCT(K, M, FL, EX, CM) \
    { .key = K, .type = FT_ACCOUNT, .off = OFF(M), .flags = FL, \
      .example = EX, .comment = CM }
#define F_MINOR2(K, M, D, MIN, MAX, CM) \
    { .key = K, .type = FT_MINOR2, .off = OFF(M), .def = D, .min = MIN, \
      .max = MAX, .comment = CM }
#define F_INTS(K, M, N, D, MIN, MAX, CM) \
    { .key = K, .type = FT_INT_LIST, .off = OFF(M), .off_n = OFF(N), \
      .def = D, .min = MIN, .max = MAX, .comment = CM }
#define F_AMAP(K, M, N, KCHK, EX, CM) \
    { .key = K, .type = FT_ACCOUNT_MAP, .off = OFF(M), .off_n = OFF(N), \
      .check_key = KCHK, .example = EX, .comment = CM }
#define F_RECS(K, M, N, TABLE, CM) \
    { .key = K, .type = FT_RECORDS, .off = OFF(M), .off_n = OFF(N), \
      .rec = &(TABLE), .comment = CM }
#define F_SMAP(K, M, N, KCHK, VCHK, EX, CM) \
    { .key = K, .type = FT_STR_MAP, .off = OFF(M), .off_n = OFF(N), \
      .check_key = KCHK, .check = VCHK, .example = EX, .comment = CM }

/* Rows of one section must stay together (the example opens each section
 * once). Order here is the order of the example file. */
static const struct field fields[] = {
    F_NAMED("log.level", log_level, "info", log_levels,
        "Lowest level of the log lines written to stderr."),

    F_STR("bigcommerce.store_hash", bigcommerce.store_hash, NULL, chk_store_hash,
        F_REQUIRED, "abc123def4",
        "Store hash: the part after /stores/ in the API path (lowercase letters and digits)."),
    F_STR("bigcommerce.api_base_url", bigcommerce.api_base_url,
        "https://api.bigcommerce.com/stores/{store_hash}", chk_api_url, 0, NULL,
        "API base URL; {store_hash} is replaced by the store hash."),
    F_STR("bigcommerce.token_ref", bigcommerce.token_ref, NULL, chk_ref,
        F_REQUIRED, "bigcommerce_token",
        "Credential name of the API account's access token (mlc credentials set NAME)."),
    F_STR("bigcommerce.webhook_public_url", bigcommerce.webhook_public_url, NULL,
        chk_webhook_url, 0, "https://mlc.example.com/webhooks/bigcommerce",
        "Public https URL (port 443) where BigCommerce delivers webhooks; unset = poll only."),
    F_STR("bigcommerce.webhook_secret_ref", bigcommerce.webhook_secret_ref, NULL,
        chk_ref, 0, "bigcommerce_webhook_secret",
        "Credential name of the secret header value sent with each webhook."),
    F_STR("bigcommerce.store_id", bigcommerce.store_id, NULL, chk_store_id, 0, "1025646",
        "The store's numeric id, as its webhooks carry it in store_id: when set, a delivery naming another store is refused (403). The producer, stores/<store_hash>, is always checked."),
    F_STR("bigcommerce.client_secret_ref", bigcommerce.client_secret_ref, NULL,
        chk_ref, 0, "bigcommerce_client_secret",
        "Credential name of the app client secret that signs webhooks."),
    F_STR("bigcommerce.ca_file", bigcommerce.ca_file, NULL, chk_path, 0,
        "/etc/ssl/certs/extra-ca.pem",
        "Extra CA bundle (PEM) for the API's TLS certificate."),
    F_INT("bigcommerce.rate_reserve", bigcommerce.rate_reserve, "20", 0, 10000,
        "API requests per window left unused for the store's other apps."),
    F_ENUM("bigcommerce.shared_budget", bigcommerce.shared_budget, "auto", budgets,
        "Processes share one API request budget through the state store; auto = when store.url is PostgreSQL."),
    F_INT("bigcommerce.timeout_ms", bigcommerce.timeout_ms, "30000", 100, 600000,
        "Timeout of one API call, in milliseconds."),

    F_STR("jde.ais_base_url", jde.ais_base_url, NULL, chk_url, F_REQUIRED,
        "https://jde-ais.example.com:9300",
        "Base URL of the JD Edwards AIS server (the part before /jderest)."),
    F_STR("jde.environment", jde.environment, NULL, chk_env, 0, "JPS920",
        "JDE environment to sign in to; unset = the user's default."),
    F_STR("jde.role", jde.role, NULL, chk_role, 0, "*ALL",
        "JDE role to sign in with; unset = the user's default."),
    F_STR("jde.device_name", jde.device_name, "ml-connector", chk_device, 0, NULL,
        "Device name sent with the AIS login."),
    F_STR("jde.user", jde.user, NULL, chk_user, F_REQUIRED, "MLCSVC",
        "JDE user that ml-connector signs in as."),
    F_STR("jde.password_ref", jde.password_ref, NULL, chk_ref, F_REQUIRED,
        "jde_password", "Credential name of that user's password."),
    F_STR("jde.ca_file", jde.ca_file, NULL, chk_path, 0,
        "/etc/ssl/certs/jde-ca.pem",
        "Extra CA bundle (PEM) for the AIS server's TLS certificate."),
    F_INT("jde.timeout_ms", jde.timeout_ms, "60000", 100, 600000,
        "Timeout of one AIS call, in milliseconds."),
    F_INT("jde.server_timeout_s", jde.server_timeout_s, "0", 0, 86400,
        "The AIS server's own request timeout in seconds, if your JDE team set one (0: unknown)."),
    F_INT("jde.settle_s", jde.settle_s, "0", 0, 86400,
        "Seconds before a create with a lost answer may be found absent (0: auto, see docs)."),
    F_INT("jde.login_backoff_s", jde.login_backoff_s, "60", 1, 86400,
        "Seconds between AIS logins after JDE refused one (wrong password, locked user): retries must not lock the account."),
    F_STR("jde.orchestrations.add_journal_entry", jde.orch.add_journal_entry,
        "MLC_AddJournalEntry", chk_orch, 0, NULL,
        "Orchestration that adds a GL journal entry."),
    F_STR("jde.orchestrations.add_voucher", jde.orch.add_voucher,
        "MLC_AddVoucher", chk_orch, 0, NULL,
        "Orchestration that adds an AP voucher."),
    F_STR("jde.orchestrations.add_customer", jde.orch.add_customer,
        "MLC_AddCustomer", chk_orch, 0, NULL,
        "Orchestration that adds a customer."),
    F_STR("jde.orchestrations.update_customer", jde.orch.update_customer,
        "MLC_UpdateCustomer", chk_orch, 0, NULL,
        "Orchestration that updates a customer."),
    F_SMAP("jde.inputs", jde.inputs, jde.n_inputs, chk_input_name, chk_input_value,
        "Company: \"CompanyCode\"",
        "Renames orchestration inputs: contract name -> name used by your orchestrations."),

    F_ENUM("posting.mode", posting.mode, "journal", post_modes,
        "Post paid orders as GL journal entries or as AP vouchers."),
    F_STR("posting.company", posting.company, NULL, chk_kco, F_REQUIRED, "00001",
        "JDE company (KCO), up to 5 digits; quote it to keep leading zeros."),
    F_STR("posting.document_type", posting.document_type, "JE", chk_dct, 0, NULL,
        "Document type of journal entries."),
    F_STR("posting.ledger_type", posting.ledger_type, "AA", chk_dct, 0, NULL,
        "Ledger type of journal entries."),
    F_ENUM("posting.gl_date", posting.gl_date, "created", gl_dates,
        "GL date of a sale: the day the order was created, became paid, or is posted."),
    F_STR("posting.timezone", posting.timezone, "UTC", chk_tz, 0, NULL,
        "Time zone (IANA name, from the system's tzdata) in which GL dates are taken; a change needs a restart."),
    F_STR("posting.key_prefix", posting.key_prefix, "BC", chk_prefix, 0, NULL,
        "Prefix of the idempotency keys (1-4 letters or digits, to fit JDE's 25 characters)."),
    F_MINOR2("posting.rounding_tolerance", posting.rounding_tolerance_minor,
        "0.02", 0, 100,
        "Largest rounding difference posted to the rounding account (0.00-1.00); above, the order is held."),
    F_INTS("posting.paid_statuses", posting.paid_statuses, posting.n_paid_statuses,
        "2, 3, 8, 9, 10, 11", 0, 14,
        "BigCommerce order status ids (0-14) that count as paid."),
    F_ENUM("posting.on_cancel", posting.on_cancel, "reverse", cancels,
        "Cancelling a posted order: post a reversal, or hold it for review."),
    F_BOOL("posting.strict_sku_mapping", posting.strict_sku_mapping, "false",
        "Hold an order whose product no SKU or category map names, instead of using accounts.revenue."),
    F_STR("posting.default_supplier", posting.default_supplier, NULL, chk_an8, 0,
        "4242", "Supplier address number (AN8) of vouchers; required in voucher mode."),
    F_STR("posting.balance_sheet_bu", posting.balance_sheet_bu, NULL, chk_bu, 0,
        "1", "Business unit of payment, tax and unmatched lines; unset = the account's own."),
    F_STR("posting.default_bu", posting.default_bu, NULL, chk_bu, 0, "100",
        "Business unit of revenue-type lines; unset = the account's own."),
    F_SMAP("posting.bu_by_channel", posting.bu_by_channel, posting.n_bu_by_channel,
        chk_channel, chk_bu, "\"1\": \"100\"",
        "Business unit of revenue-type lines by BigCommerce channel id."),
    F_ACCT("posting.accounts.revenue", posting.accounts.revenue, F_REQUIRED,
        "100.4010", "Default product revenue."),
    F_ACCT("posting.accounts.discounts", posting.accounts.discounts, F_REQUIRED,
        "100.4090", "Discounts and coupons (contra revenue)."),
    F_ACCT("posting.accounts.shipping", posting.accounts.shipping, F_REQUIRED,
        "100.4020", "Shipping revenue."),
    F_ACCT("posting.accounts.handling", posting.accounts.handling, 0,
        "100.4030", "Handling revenue; unset holds orders that charge handling."),
    F_ACCT("posting.accounts.wrapping", posting.accounts.wrapping, 0,
        "100.4040", "Gift wrapping revenue; unset holds orders that charge wrapping."),
    F_ACCT("posting.accounts.fees", posting.accounts.fees, 0,
        "100.4050", "Order fees revenue; unset holds orders that carry fees."),
    F_ACCT("posting.accounts.tax", posting.accounts.tax, F_REQUIRED,
        "1.2310", "Sales tax payable."),
    F_ACCT("posting.accounts.clearing", posting.accounts.clearing, F_REQUIRED,
        "1.1150", "Default payment clearing account."),
    F_ACCT("posting.accounts.gift_certificate", posting.accounts.gift_certificate, 0,
        "1.2410", "Gift certificate liability; unset holds orders paid with one."),
    F_ACCT("posting.accounts.store_credit", posting.accounts.store_credit, 0,
        "1.2420", "Store credit liability; unset holds orders paid with it."),
    F_ACCT("posting.accounts.rounding", posting.accounts.rounding, F_REQUIRED,
        "100.8990", "Rounding differences up to rounding_tolerance."),
    F_AMAP("posting.revenue_by_sku", posting.revenue_by_sku, posting.n_revenue_by_sku,
        chk_match, "\"SKU-123\": \"100.4011\"",
        "Revenue account by product SKU (checked first)."),
    F_AMAP("posting.revenue_by_category", posting.revenue_by_category,
        posting.n_revenue_by_category, chk_match, "\"23\": \"100.4012\"",
        "Revenue account by product category (checked after the SKU map)."),
    F_INT("posting.category_cache_s", posting.category_cache_s, "600", 0, 86400,
        "Seconds a product's categories are reused before BigCommerce is asked again (a product webhook drops them sooner; 0: ask for every batch)."),
    F_AMAP("posting.clearing_by_gateway", posting.clearing_by_gateway,
        posting.n_clearing_by_gateway, chk_match, "stripe: \"1.1151\"",
        "Clearing account by payment gateway of the transaction."),
    F_AMAP("posting.clearing_by_method", posting.clearing_by_method,
        posting.n_clearing_by_method, chk_match, "\"Cash on Delivery\": \"1.1152\"",
        "Clearing account by the order's payment_method (unmapped gateways, unmatched amounts)."),
    F_SMAP("posting.supplier_by_gateway", posting.supplier_by_gateway,
        posting.n_supplier_by_gateway, chk_match, chk_an8, "stripe: \"4243\"",
        "Voucher mode: supplier (AN8) by payment gateway."),

    { .key = "orders.start", .type = FT_STR, .off = OFF(orders.start), .check = chk_cutover,
      .flags = F_REQUIRED, .example = CFG_START_EXAMPLE,
      .comment = "Go-live cutover, ISO 8601 with the UTC offset: orders created before it "
                 "are never posted (they were keyed by hand).",
      .missing = "the go-live cutover: orders created before it are never posted. Set it "
                 "under \"orders:\" as \"start: 2025-07-01T00:00:00-05:00\" (ISO 8601 with "
                 "the UTC offset; \"mlc init\" writes the current time)" },
    { .key = "orders.start_id", .type = FT_INT, .off = OFF(orders.start_id), .min = 1,
      .max = INT_MAX, .example = "1001",
      .comment = "First order id that may be posted: orders with a lower id are never "
                 "posted either." },

    F_BOOL("customers.enabled", customers.enabled, "false",
        "Create and update JDE customers from BigCommerce customers."),
    F_STR("customers.search_type", customers.search_type, "C", chk_code3, 0, NULL,
        "Address book search type of new customers."),
    F_STR("customers.ar_class", customers.ar_class, NULL, chk_code3, 0, "WEB",
        "AR class of new customers; unset = JDE's default."),
    F_STR("customers.payment_terms", customers.payment_terms, NULL, chk_code3, 0,
        "N30", "Payment terms of new customers; unset = JDE's default."),
    F_STR("customers.currency", customers.currency, NULL, chk_currency, 0, "USD",
        "Currency of new customers (ISO 4217); unset = the company's."),

    F_BOOL("catalog.enabled", catalog.enabled, "false",
        "Update BigCommerce products from JDE items and prices."),
    F_ENUM("catalog.sku_source", catalog.sku_source, "litm", sku_srcs,
        "JDE item number that is the SKU: second (LITM) or third (AITM)."),
    F_SMAP("catalog.sku_map", catalog.sku_map, catalog.n_sku_map, chk_match,
        chk_match, "\"ITEM-0001\": \"SKU-123\"",
        "SKU by JDE item number, where they differ (identity otherwise)."),
    F_STR("catalog.price_currency", catalog.price_currency, NULL, chk_currency, 0,
        "USD", "Currency of the JDE prices to read; unset = the store's default."),
    F_STR("catalog.price_uom", catalog.price_uom, NULL, chk_uom, 0, "EA",
        "Unit of measure of the prices to read; unset = the item's primary."),
    F_STR("catalog.price_branch", catalog.price_branch, NULL, chk_bu, 0, "30",
        "Branch/plant of the prices to read; unset = item-level prices."),
    F_BOOL("catalog.sync_name", catalog.sync_name, "true",
        "Copy the JDE description to the product name."),
    F_BOOL("catalog.sync_price", catalog.sync_price, "true",
        "Copy the JDE price to the product price."),
    F_BOOL("catalog.create_missing", catalog.create_missing, "false",
        "Create hidden products for JDE items that have no product."),

    F_INT("schedule.reconcile_interval", schedule.reconcile_interval, "900", 10, 604800,
        "Seconds between reconciliations that catch orders whose webhook was lost."),
    F_INT("schedule.reconcile_overlap", schedule.reconcile_overlap, "600", 0, 604800,
        "Seconds each reconciliation looks back before the last one."),
    F_INT("schedule.hooks_interval", schedule.hooks_interval, "3600", 10, 604800,
        "Seconds between checks that the webhooks exist and are active."),
    F_INT("schedule.catalog_poll_interval", schedule.catalog_poll_interval, "300",
        10, 604800, "Seconds between polls of changed JDE items and prices."),
    F_INT("schedule.accounts_refresh_interval", schedule.accounts_refresh_interval,
        "3600", 10, 604800, "Seconds between refreshes of the cached JDE chart of accounts."),
    F_INT("schedule.session_keepalive_interval", schedule.session_keepalive_interval,
        "300", 10, 86400, "Seconds between keep-alive calls of an idle AIS session."),
    F_INT("schedule.health_probe_interval", schedule.health_probe_interval, "10", 1, 3600,
        "Seconds between checks of a system that is down or refuses our credentials; its paused jobs resume once it answers."),
    F_INT("schedule.leader_lease_s", schedule.leader_lease_s, "15", 3, 600,
        "Seconds a process leads (runs the sweep, hook check and catalog poll) unless it renews; several processes on PostgreSQL."),

    F_STR("store.url", store.url, "mlc.db", chk_store_url, 0, NULL,
        "State store: a SQLite file (relative to this file's directory), or a postgresql:// URL (no password in it)."),
    F_STR("store.password_ref", store.password_ref, NULL, chk_password_ref, 0, NULL,
        "PostgreSQL password: file:PATH (mode 0600/0640, relative to this file) or systemd:NAME (a systemd credential). Unset: ~/.pgpass or PGPASSFILE."),
    F_STR("store.master_key_file", store.master_key_file, "mlc.key", chk_path, 0,
        NULL, "File holding the key that encrypts stored credentials (mode 0600 or 0400; relative to this file's directory)."),

    F_STR("server.listen", server.listen, "127.0.0.1:8080", chk_listen, 0, NULL,
        "Address and port of the webhook, health and metrics server (host:port)."),
    F_STR("server.admin_listen", server.admin_listen, NULL, chk_listen, 0, "127.0.0.1:9090",
        "Admin address (host:port) for /metrics, /healthz, /readyz; never webhooks. Keep it on loopback."),
    F_BOOL("server.public_metrics", server.public_metrics, "true",
        "Serve /metrics on server.listen too (false: on admin_listen only)."),
    F_INT("server.threads", server.threads, "16", 1, 64,
        "HTTP server threads."),
    F_INT("server.max_connections", server.max_connections, "256", 1, 10000,
        "Concurrent HTTP connections accepted."),
    F_INT("server.max_connections_per_ip", server.max_connections_per_ip, "32", 0, 10000,
        "Concurrent HTTP connections from one client address, below max_connections (0 = no limit)."),
    F_INT("server.connection_timeout_s", server.connection_timeout_s, "30", 1, 3600,
        "Seconds before an idle HTTP connection is closed."),
    F_INT("server.request_timeout_s", server.request_timeout_s, "10", 1, 3600,
        "Seconds a client has to send a whole request, headers and body; a slower one is cut."),
    F_SIZE("server.max_body_bytes", server.max_body_bytes, "1048576", 1024, 67108864,
        "Largest request body accepted, in bytes."),
    F_STR("server.tls_cert_file", server.tls_cert_file, NULL, chk_path, 0,
        "/etc/mlc/tls/fullchain.pem",
        "HTTPS on server.listen: the certificate chain (PEM; relative to this file). Re-read on SIGHUP. Unset: plain HTTP behind a TLS proxy."),
    F_STR("server.tls_key_file", server.tls_key_file, NULL, chk_path, 0,
        "/etc/mlc/tls/privkey.pem",
        "The certificate's private key (PEM, mode 0600 or 0640; relative to this file). Re-read on SIGHUP."),

    F_INT("workers.count", workers.count, "4", 1, 256,
        "Worker threads that run jobs."),
    F_INT("workers.lease_s", workers.lease_s, "120", 10, 86400,
        "Seconds a job's lease lasts; renewed while it runs. At least 2x jde.timeout_ms."),
    F_INT("workers.max_attempts", workers.max_attempts, "10", 1, 1000,
        "Attempts before a job is held for review."),
    F_INT("workers.retry_base_ms", workers.retry_base_ms, "1000", 10, 3600000,
        "First retry delay in milliseconds; doubles each attempt, with jitter."),
    F_INT("workers.retry_cap_ms", workers.retry_cap_ms, "300000", 10, 86400000,
        "Longest retry delay in milliseconds."),
    F_INT("workers.job_max_s", workers.job_max_s, "3600", 60, 86400,
        "Seconds a job may run before its lease is no longer renewed (a stuck job)."),
    F_INT("workers.drain_timeout_s", workers.drain_timeout_s, "30", 0, 3600,
        "Seconds running jobs get to finish at shutdown."),
    F_INT("workers.batch_max", workers.batch_max, "250", 1, 1000,
        "Most order jobs one worker takes at once. It takes its share of the ready backlog (at least 25); the list, refunds and catalog calls are shared by the batch."),
    F_INT("workers.gather_ms", workers.gather_ms, "10000", 0, 60000,
        "Milliseconds a webhook's order job waits so that orders arriving together share a batch (at 1 order/s, 10 s: 1.2 calls an order; 0: at once)."),

    F_STR("report.reconcile_at", report.reconcile_at, NULL, chk_hhmm, 0, "06:00",
        "Local time (posting.timezone) of the daily reconciliation of the day before; "
        "unset: off."),

    F_INT("alerts.digest_interval_s", alerts.digest_interval_s, "300", 1, 86400,
        "Seconds between two digests of one channel: the first alert after a quiet spell goes out at once, later ones wait and are grouped."),
    F_INT("alerts.down_after_s", alerts.down_after_s, "300", 0, 86400,
        "Seconds BigCommerce, JDE or the store must be down (or refuse our credentials) before it is an alert; its recovery is one too."),
    F_INT("alerts.max_age_s", alerts.max_age_s, "86400", 60, 31536000,
        "Pending alerts older than this (a channel that kept failing) are counted in the digest, not listed."),
    F_STR("alerts.console_url", alerts.console_url, NULL, chk_url, 0, "https://mlc.example.com:8443",
        "Base URL of the web console: alerts link to the page with the details."),
    F_RECS("alerts.webhooks", alerts.webhooks, alerts.n_webhooks, webhook_table,
        "HTTPS webhooks (Slack-compatible JSON): name, url_ref (the credential holding the URL, which carries a token), ca_file."),
    F_RECS("alerts.email", alerts.email, alerts.n_email, email_table,
        "E-mail over SMTP with STARTTLS: name, smtp_url, from, to (list), user, password_ref (credential), ca_file."),
    F_STR("console.listen", console.listen, NULL, chk_listen, 0, "127.0.0.1:8090",
        "Address (host:port) of the web console; unset: no console. Keep it on loopback (or behind a TLS proxy)."),
    F_SMAP("console.users", console.users, console.n_users, chk_console_user,
        chk_console_role, "alice: operator",
        "Console users and their role (viewer or operator); set a password with: mlc console passwd NAME."),
    F_STR("console.proxy_user_header", console.proxy_user_header, NULL, chk_header_name, 0,
        "X-Forwarded-User",
        "Header naming the user a reverse proxy authenticated; trusted only from loopback peers, role from console.users."),
    F_BOOL("console.secure_cookie", console.secure_cookie, "false",
        "Mark the session cookie Secure (set it when browsers reach the console through HTTPS)."),
    F_INT("console.session_idle_s", console.session_idle_s, "1800", 60, 86400,
        "Seconds of inactivity after which a console session ends."),
    F_INT("console.session_max_s", console.session_max_s, "43200", 300, 604800,
        "Seconds after login at which a console session ends, however active."),
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* Section comments for the example; every section in `fields` needs one. */
static const struct {
    const char *path;
    const char *comment;
} sections[] = {
    { "log", "Logging (logfmt lines on stderr)." },
    { "bigcommerce", "The BigCommerce store: API access and webhooks." },
    { "jde", "JD Edwards AIS server and the orchestrations built from the published contract." },
    { "jde.orchestrations", "Names of the orchestrations ml-connector calls." },
    { "posting", "How paid orders, refunds and cancellations are posted to JDE." },
    { "posting.accounts", "Accounts \"BU.OBJ\" or \"BU.OBJ.SUB\" (quote them)." },
    { "orders", "Which orders are posted: the go-live cutover (docs/operations.md, Go-live)." },
    { "customers", "BigCommerce customers -> JDE address book and customer master." },
    { "catalog", "JDE items and prices -> BigCommerce products." },
    { "schedule", "Periodic tasks." },
    { "store", "State store: jobs, ledger, audit and encrypted credentials." },
    { "server", "HTTP server for webhooks, health and metrics." },
    { "workers", "Job workers and retries." },
    { "report", "Daily reports the daemon makes and stores (mlc report show)." },
    { "alerts", "Alerts: held and failed items, reconcile differences, systems down, hooks deactivated (mlc notify test)." },
    { "console", "The web console (docs/operations.md, \"The web console\"): off unless listen is set." },
};

/* ---- small helpers ------------------------------------------------------- */

static bool all_of(const char *s, size_t min, size_t max, int (*ok)(int c))
{
    size_t n = strlen(s);

    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return false;
    return true;
}

static int is_lower_alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c); }
static int is_upper_alnum(int c) { return (c >= 'A' && c <= 'Z') || is_digit(c); }
static int is_ref_char(int c) { return is_lower_alnum(c) || c == '_' || c == '.' || c == '-'; }
static int is_word(int c) { return is_alnum(c) || c == '_'; }
static int is_role_char(int c) { return is_word(c) || c == '*'; }
static int is_device_char(int c) { return is_word(c) || c == '.' || c == '-'; }
static int is_graph(int c) { return c > 0x20 && c != 0x7f; }
static int is_acct_char(int c) { return is_alnum(c) || c == '_' || c == '-'; }
static int is_tz_char(int c) { return is_alnum(c) || c == '_' || c == '+' || c == '-' || c == '/'; }

/* Strict decimal integer: optional '-', digits only, no overflow. */
static int parse_ll(const char *s, long long *out)
{
    char *end;
    long long v;

    if (*s == '\0' || (!is_digit((unsigned char)*s) && !(*s == '-' && is_digit((unsigned char)s[1]))))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* "12", "0.5", "0.02" -> minor units at 2 decimals, exact integer arithmetic. */
static int parse_minor2(const char *s, int64_t *out)
{
    int64_t v = 0;
    int dec = -1; /* decimals seen after '.', -1 = no '.' yet */

    if (!is_digit((unsigned char)*s))
        return -1;
    for (; *s != '\0'; s++) {
        if (*s == '.') {
            if (dec >= 0 || !is_digit((unsigned char)s[1]))
                return -1;
            dec = 0;
            continue;
        }
        if (!is_digit((unsigned char)*s) || dec == 2 || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
        if (dec >= 0)
            dec++;
    }
    for (int d = dec < 0 ? 0 : dec; d < 2; d++) {
        if (v > INT64_MAX / 10)
            return -1;
        v *= 10;
    }
    *out = v;
    return 0;
}

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static void join_names(const char *const *names, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int i = 0; names[i] != NULL && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", names[i]);
}

/* Levenshtein distance of two short strings (longer ones count as far). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CFG_KEY_MAX + 1];

    if (la > CFG_KEY_MAX || lb > CFG_KEY_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* ---- validators ---------------------------------------------------------- */

static const char *chk_ref(const char *s)
{
    return all_of(s, 1, 64, is_ref_char) ? NULL
        : "expected a credential name of 1-64 characters a-z 0-9 _ . -";
}

static const char *chk_store_hash(const char *s)
{
    return all_of(s, 1, 64, is_lower_alnum) ? NULL
        : "expected the store hash: lowercase letters and digits";
}

static const char *chk_store_id(const char *s)
{
    return s[0] != '0' && all_of(s, 1, 18, is_digit) ? NULL
        : "expected the store's numeric id (decimal digits)";
}

/* Splits "scheme://host[:port]/..." and returns the host span or NULL. */
static const char *url_host(const char *s, size_t *host_len, const char **port)
{
    const char *h, *p, *end;

    if (strncmp(s, "https://", 8) == 0)
        h = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        h = s + 7;
    else
        return NULL;
    end = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(end - h)) != NULL)
        return NULL; /* user:password@ would be a secret in the file */
    if (*h == '[') {
        p = memchr(h, ']', (size_t)(end - h));
        if (p == NULL)
            return NULL;
        p++;
    } else {
        p = h + strcspn(h, ":/?#");
    }
    *host_len = (size_t)(p - h);
    *port = (p < end && *p == ':') ? p + 1 : NULL;
    if (*port != NULL) {
        size_t n = (size_t)(end - *port);
        if (n == 0 || n > 5 || strspn(*port, "0123456789") != n)
            return NULL;
    } else if (p != end) {
        return NULL;
    }
    return *host_len > 0 ? h : NULL;
}

static const char *chk_url(const char *s)
{
    size_t hl;
    const char *port;

    if (!all_of(s, 8, 2048, is_graph) || url_host(s, &hl, &port) == NULL)
        return "expected a URL starting with https:// or http:// (with a host, no user or password)";
    return NULL;
}

static const char *chk_api_url(const char *s)
{
    const char *p, *why = chk_url(s);

    if (why != NULL)
        return why;
    /* The only placeholder is {store_hash}. */
    for (p = s; (p = strpbrk(p, "{}")) != NULL; p += 12) {
        if (strncmp(p, "{store_hash}", 12) != 0)
            return "expected a URL whose only placeholder is {store_hash}";
    }
    return NULL;
}

static bool host_is_loopback(const char *h, size_t n)
{
    return (n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
           (n == 9 && strncmp(h, "localhost", 9) == 0) ||
           (n == 5 && strncmp(h, "[::1]", 5) == 0);
}

static const char *chk_webhook_url(const char *s)
{
    size_t hl;
    const char *port, *h, *why = chk_url(s);

    if (why != NULL)
        return why;
    h = url_host(s, &hl, &port);
    if (host_is_loopback(h, hl))
        return NULL;
    if (strncmp(s, "https://", 8) != 0)
        return "must start with https:// (BigCommerce delivers webhooks over https on port 443; "
               "http:// is accepted only for 127.0.0.1 and localhost)";
    if (port != NULL && strtol(port, NULL, 10) != 443)
        return "must use port 443 (BigCommerce delivers webhooks to port 443 only)";
    return NULL;
}

/* smtp://host[:port] or smtps://, no user or password in it. */
static const char *chk_smtp_url(const char *s)
{
    const char *h = strncmp(s, "smtp://", 7) == 0 ? s + 7
                  : strncmp(s, "smtps://", 8) == 0 ? s + 8 : NULL;
    size_t hl;

    if (h == NULL || !all_of(s, 8, 512, is_graph) || strchr(s, '@') != NULL)
        return "expected smtp://host:587 (STARTTLS) or smtps://host:465, with no user or "
               "password in it (user: and password_ref: say them)";
    hl = strcspn(h, ":/");
    return hl > 0 ? NULL : "expected a host after smtp://";
}

/* A bare e-mail address: local@domain, nothing that could end a header. */
static const char *chk_address(const char *s)
{
    const char *at = strchr(s, '@');

    if (!all_of(s, 3, 254, is_graph) || at == NULL || at == s || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL || strpbrk(s, "<>,;\"()[]\\") != NULL)
        return "expected an e-mail address like ops@example.com";
    return NULL;
}

static const char *chk_text(const char *s)
{
    return all_of(s, 1, 256, is_graph) ? NULL : "expected 1-256 characters without spaces";
}

static const char *chk_path(const char *s)
{
    return (*s != '\0' && strlen(s) <= 4096) ? NULL : "expected a file path";
}

static const char *chk_env(const char *s)
{
    return all_of(s, 1, 32, is_word) ? NULL : "expected a JDE environment name like JPS920";
}

static const char *chk_role(const char *s)
{
    return all_of(s, 1, 32, is_role_char) ? NULL : "expected a JDE role like *ALL";
}

static const char *chk_device(const char *s)
{
    return all_of(s, 1, 64, is_device_char) ? NULL
        : "expected a device name of 1-64 letters, digits, _ . -";
}

static const char *chk_user(const char *s)
{
    return all_of(s, 1, 64, is_graph) ? NULL : "expected a user name without spaces";
}

static const char *chk_orch(const char *s)
{
    return all_of(s, 1, 64, is_word) ? NULL
        : "expected an orchestration name of 1-64 letters, digits and _";
}

/* Input names of the orchestration contract (docs: orchestrations). */
static const char *const contract_inputs[] = {
    "Account", "AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4",
    "AddressNumber", "AlphaName", "Amount", "ARClass", "City", "Company",
    "Country", "Currency", "DocumentType", "Email", "Explanation", "GLDate",
    "GLDistribution", "GrossAmount", "InvoiceDate", "InvoiceNumber",
    "LedgerType", "Lines", "LongAddressNumber", "MailingName", "PaymentTerms",
    "Phone", "PostalCode", "Reference", "Remark", "SearchType", "State",
    "Subledger", "SubledgerType", "SupplierNumber", "Validated", "ValidateOnly", NULL,
};

static const char *chk_input_name(const char *s)
{
    return name_index(contract_inputs, s) >= 0 ? NULL
        : "expected an input name of the orchestration contract (Company, GLDate, Lines, Account, ...)";
}

static const char *chk_input_value(const char *s)
{
    return (*s != '\0' && strlen(s) <= 64) ? NULL
        : "expected an input name of 1-64 characters";
}

static const char *chk_kco(const char *s)
{
    return all_of(s, 1, 5, is_digit) ? NULL
        : "expected a company number of up to 5 digits, like \"00001\"";
}

static const char *chk_dct(const char *s)
{
    return all_of(s, 2, 2, is_upper_alnum) ? NULL
        : "expected a 2-character code of uppercase letters or digits, like \"JE\"";
}

static const char *chk_tz(const char *s)
{
    if (!all_of(s, 1, 64, is_tz_char) || s[0] == '/' || strstr(s, "..") != NULL)
        return "expected an IANA time zone name like \"UTC\" or \"America/Chicago\"";
    /* mlc run would refuse it at start: say so now. */
    return tz_exists(s) ? NULL
        : "unknown time zone: not in the system's tzdata (/usr/share/zoneinfo; check the "
          "spelling, or install tzdata)";
}

/* "HH:MM", 00:00 to 23:59. */
/* Console user names are part of a credential name (console_user.NAME). */
static const char *chk_console_user(const char *s)
{
    if (all_of(s, 1, 32, is_ref_char))
        return NULL;
    return "expected a user name of 1-32 characters a-z 0-9 _ . -";
}

static const char *chk_console_role(const char *s)
{
    if (strcmp(s, "viewer") == 0 || strcmp(s, "operator") == 0)
        return NULL;
    return "expected viewer or operator";
}

static int is_header_char(int c) { return is_alnum(c) || c == '-' || c == '_'; }

static const char *chk_header_name(const char *s)
{
    if (all_of(s, 1, 64, is_header_char))
        return NULL;
    return "expected an HTTP header name such as X-Forwarded-User";
}

static const char *chk_hhmm(const char *s)
{
    bool ok = strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
              s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]);

    return ok && (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6' ? NULL
        : "expected a time of day HH:MM (00:00 to 23:59)";
}

static const char *chk_prefix(const char *s)
{
    return all_of(s, 1, 4, is_alnum) ? NULL : "expected 1-4 letters or digits";
}

static const char *chk_an8(const char *s)
{
    return all_of(s, 1, 8, is_digit) ? NULL
        : "expected an address number (AN8) of up to 8 digits";
}

static const char *chk_bu(const char *s)
{
    return all_of(s, 1, 12, is_acct_char) ? NULL
        : "expected a business unit of 1-12 letters or digits";
}

static const char *chk_channel(const char *s)
{
    return all_of(s, 1, 10, is_digit) ? NULL : "expected a channel id (digits)";
}

static const char *chk_match(const char *s)
{
    return (*s != '\0' && strlen(s) <= 255) ? NULL : "expected 1-255 characters";
}

static const char *chk_code3(const char *s)
{
    return all_of(s, 1, 3, is_alnum) ? NULL : "expected a code of 1-3 letters or digits";
}

static const char *chk_uom(const char *s)
{
    return all_of(s, 1, 2, is_upper_alnum) ? NULL
        : "expected a unit of measure of 1-2 uppercase letters or digits, like EA";
}

static const char *chk_currency(const char *s)
{
    return (strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3) ? NULL
        : "expected an ISO 4217 currency code like \"USD\"";
}

static const char *chk_store_url(const char *s)
{
    const char *rest, *end, *at, *colon;

    if (*s == '\0')
        return "expected a SQLite file path or a postgresql:// URL";
    if (strstr(s, "://") == NULL)
        return NULL; /* a SQLite path */
    if (strncmp(s, "postgresql://", 13) == 0)
        rest = s + 13;
    else if (strncmp(s, "postgres://", 11) == 0)
        rest = s + 11;
    else
        return "expected a SQLite file path or a postgresql:// URL";
    end = rest + strcspn(rest, "/?#");
    at = memchr(rest, '@', (size_t)(end - rest));
    colon = at != NULL ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (colon != NULL || strstr(s, "password=") != NULL)
        return "must not contain a password (put it in a file named by store.password_ref, or in ~/.pgpass or PGPASSFILE)";
    return NULL;
}

static const char *chk_password_ref(const char *s)
{
    const char *name = s + strlen("systemd:");

    if (strncmp(s, "file:", 5) == 0 && s[5] != '\0' && strlen(s) <= 4096)
        return NULL;
    if (strncmp(s, "systemd:", 8) == 0 && all_of(name, 1, 255, is_graph) &&
        strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
        return NULL;
    return "expected file:PATH or systemd:NAME (a systemd credential)";
}

static const char *chk_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    long long port;

    if (colon == NULL || colon == s || parse_ll(colon + 1, &port) != 0 ||
        port < 1 || port > 65535 || colon[1] == '-')
        return "expected host:port with a port from 1 to 65535, like \"127.0.0.1:8080\"";
    for (const char *p = s; p < colon; p++)
        if (!is_graph((unsigned char)*p))
            return "expected host:port with a port from 1 to 65535, like \"127.0.0.1:8080\"";
    return NULL;
}

/* A date-time with its offset: the cutover is one instant, whatever the
 * zone rules or posting.timezone say later. A bare date is refused too:
 * midnight in which zone? */
static const char *chk_cutover(const char *s)
{
    int64_t t;

    if (strlen(s) > 10 && (s[10] == 'T' || s[10] == 't') &&
        jdate_iso8601_parse(s, &t, NULL) == MLC_OK)
        return NULL;
    return "expected a date-time with its UTC offset, like \"2025-07-01T00:00:00-05:00\" "
           "(ISO 8601; Z or +00:00 for UTC)";
}

/* ---- accounts ------------------------------------------------------------- */

int cfg_account_parse(const char *s, struct cfg_account *out)
{
    static const size_t caps[3] = { 12, 6, 8 };
    char *dst[3];
    size_t part = 0, n = 0;
    struct cfg_account a;

    if (s == NULL || out == NULL)
        return MLC_EINVAL;
    memset(&a, 0, sizeof(a));
    dst[0] = a.bu;
    dst[1] = a.obj;
    dst[2] = a.sub;
    for (;; s++) {
        if (*s == '.' || *s == '\0') {
            if (n == 0)
                return MLC_EINVAL; /* empty BU, OBJ or SUB */
            if (*s == '\0')
                break;
            if (++part == 3)
                return MLC_EINVAL;
            n = 0;
            continue;
        }
        if (!is_acct_char((unsigned char)*s) || n == caps[part])
            return MLC_EINVAL;
        dst[part][n++] = *s;
    }
    if (part < 1)
        return MLC_EINVAL;
    *out = a;
    return MLC_OK;
}

void cfg_account_format(const struct cfg_account *a, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    if (a->sub[0] != '\0')
        snprintf(buf, cap, "%s.%s.%s", a->bu, a->obj, a->sub);
    else
        snprintf(buf, cap, "%s.%s", a->bu, a->obj);
}

/* ---- the config object ---------------------------------------------------- */

/* The refcount lives beside the public struct so that its layout stays plain. */
struct cfg_box {
    atomic_int         refs;
    struct mlc_config  cfg;
};

static struct cfg_box *box_of(struct mlc_config *c)
{
    return (struct cfg_box *)(void *)((char *)c - offsetof(struct cfg_box, cfg));
}

static void *at(struct mlc_config *c, size_t off)
{
    return (char *)c + off;
}

/* Frees the strings of n records of table t at arr, and arr. */
static void records_free(const struct rtable *t, void *arr, size_t n)
{
    for (size_t i = 0; arr != NULL && i < n; i++) {
        char *rec = (char *)arr + i * t->size;
        for (const struct rfield *r = t->f; r->key != NULL; r++) {
            if (r->type == RT_STR_LIST) {
                char **list = *(char ***)(void *)(rec + r->off);
                size_t k = *(size_t *)(void *)(rec + r->off_n);
                for (size_t j = 0; list != NULL && j < k; j++)
                    free(list[j]);
            }
            free(*(void **)(void *)(rec + r->off));
        }
    }
    free(arr);
}

static void free_value(struct mlc_config *c, const struct field *f)
{
    size_t *n = f->off_n ? at(c, f->off_n) : NULL;
    size_t count = n != NULL ? *n : 0;

    switch (f->type) {
    case FT_STR:
    case FT_INT_LIST:
        free(*(void **)at(c, f->off));
        break;
    case FT_ACCOUNT_MAP: {
        struct cfg_account_map *m = *(struct cfg_account_map **)at(c, f->off);
        for (size_t i = 0; m != NULL && i < count; i++)
            free(m[i].match);
        free(m);
        break;
    }
    case FT_STR_MAP: {
        struct cfg_str_map *m = *(struct cfg_str_map **)at(c, f->off);
        for (size_t i = 0; m != NULL && i < count; i++) {
            free(m[i].match);
            free(m[i].value);
        }
        free(m);
        break;
    }
    case FT_RECORDS:
        records_free(f->rec, *(void **)at(c, f->off), count);
        break;
    default:
        return;
    }
    *(void **)at(c, f->off) = NULL;
    if (n != NULL)
        *n = 0;
}

static void cfg_free(struct mlc_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < N_FIELDS; i++)
        free_value(c, &fields[i]);
    free(c->path);
    free(box_of(c));
}

struct mlc_config *cfg_ref(struct mlc_config *c)
{
    if (c != NULL)
        atomic_fetch_add_explicit(&box_of(c)->refs, 1, memory_order_relaxed);
    return c;
}

void cfg_unref(struct mlc_config *c)
{
    if (c != NULL &&
        atomic_fetch_sub_explicit(&box_of(c)->refs, 1, memory_order_acq_rel) == 1)
        cfg_free(c);
}

/* ---- the loader ----------------------------------------------------------- */

struct loader {
    const char        *name;      /* file name used in messages */
    struct mlc_config *cfg;
    yaml_document_t   *doc;
    int                line[N_FIELDS]; /* where each field was set; 0 = not */
    struct {
        char path[CFG_KEY_MAX];
        int  line;
    } sect[CFG_MAX_SECT];
    size_t             n_sect;
    bool               walked;    /* the document was a mapping and was read */
    int                n_err;
    int                code;      /* of the first error */
    struct mlc_err    *e;
    cfg_report_fn      report;
    void              *ctx;
};

static void ld_err(struct loader *L, int code, int line, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void ld_err(struct loader *L, int code, int line, const char *key,
                   const char *fmt, ...)
{
    char what[MLC_ERR_MSG_MAX], msg[MLC_ERR_MSG_MAX + CFG_KEY_MAX + 64];
    va_list ap;

    if (++L->n_err > CFG_MAX_ERRORS) {
        if (L->n_err == CFG_MAX_ERRORS + 1 && L->report != NULL) {
            snprintf(msg, sizeof(msg), "%s: too many errors, stopped after %d",
                     L->name, CFG_MAX_ERRORS);
            L->report(msg, L->ctx);
        }
        return;
    }
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (line > 0 && key != NULL)
        snprintf(msg, sizeof(msg), "%s:%d: %s: %s", L->name, line, key, what);
    else if (line > 0)
        snprintf(msg, sizeof(msg), "%s:%d: %s", L->name, line, what);
    else if (key != NULL)
        snprintf(msg, sizeof(msg), "%s: %s: %s", L->name, key, what);
    else
        snprintf(msg, sizeof(msg), "%s: %s", L->name, what);
    if (L->n_err == 1) {
        L->code = code;
        mlc_err_set(L->e, code, "%s", msg);
    }
    if (L->report != NULL)
        L->report(msg, L->ctx);
}

static void ld_oom(struct loader *L)
{
    ld_err(L, MLC_ENOMEM, 0, NULL, "out of memory");
}

static int node_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    const char *s;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    s = sval(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:  return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default:                 return "a value";
    }
}

/* Printable text only: no NUL (libyaml allows "\0"), no control characters. */
static bool text_ok(const yaml_node_t *n)
{
    const unsigned char *s = n->data.scalar.value;

    for (size_t i = 0; i < n->data.scalar.length; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int field_find(const char *key)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* True when key is a section: some field lives below it. */
static bool is_section(const char *key)
{
    size_t n = strlen(key);

    for (size_t i = 0; i < N_FIELDS; i++)
        if (strncmp(fields[i].key, key, n) == 0 && fields[i].key[n] == '.')
            return true;
    return false;
}

/* What a value of field f must look like, for "wrong type" messages. */
static void expected(const struct field *f, char *buf, size_t cap)
{
    char names[256];

    switch (f->type) {
    case FT_STR:
        if (f->names != NULL) {
            join_names(f->names, names, sizeof(names));
            snprintf(buf, cap, "expected one of: %s", names);
        } else {
            snprintf(buf, cap, "expected a string");
        }
        break;
    case FT_INT:
    case FT_SIZE:
        snprintf(buf, cap, "expected an integer from %lld to %lld", f->min, f->max);
        break;
    case FT_BOOL:
        snprintf(buf, cap, "expected true or false");
        break;
    case FT_ENUM:
        join_names(f->names, names, sizeof(names));
        snprintf(buf, cap, "expected one of: %s", names);
        break;
    case FT_ACCOUNT:
        snprintf(buf, cap, "%s", ACCOUNT_EXPECT);
        break;
    case FT_MINOR2:
        snprintf(buf, cap, "expected a decimal amount from %lld.%02lld to %lld.%02lld "
                 "with at most 2 decimals, like \"0.02\"",
                 f->min / 100, f->min % 100, f->max / 100, f->max % 100);
        break;
    case FT_INT_LIST:
        snprintf(buf, cap, "expected a list of integers from %lld to %lld, like [2, 3]",
                 f->min, f->max);
        break;
    case FT_ACCOUNT_MAP:
        snprintf(buf, cap, "expected a mapping of names to accounts, like "
                 "\"SKU-1\": \"100.4010\"");
        break;
    case FT_STR_MAP:
        snprintf(buf, cap, "expected a mapping of names to values");
        break;
    case FT_RECORDS:
        snprintf(buf, cap, "expected a list of mappings (\"- name: ...\")");
        break;
    }
}

/* Converts the text s (from the file or a default) into field f. */
static int set_scalar(struct loader *L, const struct field *f, const char *key,
                      const char *s, int line)
{
    void *dst = at(L->cfg, f->off);
    char exp[320];
    const char *why = NULL;
    long long v;
    int idx;

    expected(f, exp, sizeof(exp));
    switch (f->type) {
    case FT_STR: {
        char *copy;
        if (f->names != NULL && name_index(f->names, s) < 0)
            why = exp;
        else if (f->check != NULL)
            why = f->check(s);
        if (why != NULL)
            break;
        if ((copy = strdup(s)) == NULL) {
            ld_oom(L);
            return MLC_ENOMEM;
        }
        free(*(char **)dst);
        *(char **)dst = copy;
        return MLC_OK;
    }
    case FT_INT:
    case FT_SIZE:
        if (parse_ll(s, &v) != 0 || v < f->min || v > f->max) {
            why = exp;
            break;
        }
        if (f->type == FT_INT)
            *(int *)dst = (int)v;
        else
            *(size_t *)dst = (size_t)v;
        return MLC_OK;
    case FT_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)dst = s[0] == 't';
            return MLC_OK;
        }
        if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "no") == 0 ||
            strcasecmp(s, "on") == 0 || strcasecmp(s, "off") == 0 ||
            strcasecmp(s, "y") == 0 || strcasecmp(s, "n") == 0)
            why = "expected true or false (YAML 1.1 yes/no/on/off are not accepted)";
        else
            why = exp;
        break;
    case FT_ENUM:
        if ((idx = name_index(f->names, s)) < 0) {
            why = exp;
            break;
        }
        *(int *)dst = idx;
        return MLC_OK;
    case FT_ACCOUNT:
        if (cfg_account_parse(s, dst) != MLC_OK) {
            why = exp;
            break;
        }
        return MLC_OK;
    case FT_MINOR2: {
        int64_t m;
        if (parse_minor2(s, &m) != 0 || m < f->min || m > f->max) {
            why = exp;
            break;
        }
        *(int64_t *)dst = m;
        return MLC_OK;
    }
    default:
        why = exp;
        break;
    }
    ld_err(L, MLC_EINVAL, line, key, "%s", why);
    return MLC_EINVAL;
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Stores a validated list; rejects duplicates. */
static void set_int_list(struct loader *L, const struct field *f, const char *key,
                         int *items, size_t n, int line)
{
    int *sorted = malloc(n * sizeof(*sorted));

    if (sorted == NULL) {
        free(items);
        ld_oom(L);
        return;
    }
    memcpy(sorted, items, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), int_cmp);
    for (size_t i = 1; i < n; i++) {
        if (sorted[i] == sorted[i - 1]) {
            ld_err(L, MLC_EINVAL, line, key, "%d is listed twice", sorted[i]);
            free(sorted);
            free(items);
            return;
        }
    }
    free(sorted);
    free_value(L->cfg, f);
    *(int **)at(L->cfg, f->off) = items;
    *(size_t *)at(L->cfg, f->off_n) = n;
}

static void parse_int_list(struct loader *L, const struct field *f, const char *key,
                           const yaml_node_t *v)
{
    char exp[320];
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    int *items;
    bool bad = false;

    expected(f, exp, sizeof(exp));
    if (n == 0) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "must not be empty");
        return;
    }
    if (n > CFG_MAX_LIST) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "more than %d items", CFG_MAX_LIST);
        return;
    }
    if ((items = calloc(n, sizeof(*items))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        long long x;
        if (it->type != YAML_SCALAR_NODE || parse_ll(sval(it), &x) != 0 ||
            x < f->min || x > f->max) {
            ld_err(L, MLC_EINVAL, node_line(it), key, "%s", exp);
            bad = true;
            continue;
        }
        items[i] = (int)x;
    }
    if (bad) {
        free(items);
        return;
    }
    set_int_list(L, f, key, items, n, node_line(v));
}

/* A default list "2, 3, 8" (table text, trusted to be well formed). */
static void default_int_list(struct loader *L, const struct field *f)
{
    size_t n = 1;
    int *items;
    const char *p = f->def;

    for (const char *q = p; *q != '\0'; q++)
        n += *q == ',';
    if ((items = calloc(n, sizeof(*items))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *end;
        items[i] = (int)strtol(p, &end, 10);
        p = end + strspn(end, ", ");
    }
    set_int_list(L, f, f->key, items, n, 0);
}

/* One map entry while a map is parsed. */
struct mentry {
    char              *match;
    char              *value;
    struct cfg_account account;
    int                line;
};

static int mentry_cmp(const void *a, const void *b)
{
    const struct mentry *x = a, *y = b;
    int c = strcmp(x->match, y->match);

    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static void mentries_free(struct mentry *m, size_t n)
{
    for (size_t i = 0; m != NULL && i < n; i++) {
        free(m[i].match);
        free(m[i].value);
    }
    free(m);
}

/* Reads one entry into *me; returns false (error reported) when bad. */
static bool parse_map_entry(struct loader *L, const struct field *f, const char *key,
                            const yaml_node_t *k, const yaml_node_t *v,
                            struct mentry *me)
{
    char ekey[CFG_KEY_MAX];
    const char *why;

    me->line = node_line(k);
    if (k->type != YAML_SCALAR_NODE || !text_ok(k) || sval(k)[0] == '\0') {
        ld_err(L, MLC_EINVAL, node_line(k), key, "expected a name as the key");
        return false;
    }
    snprintf(ekey, sizeof(ekey), "%s.%s", key, sval(k));
    if (f->check_key != NULL && (why = f->check_key(sval(k))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(k), ekey, "%s", why);
        return false;
    }
    if (v->type != YAML_SCALAR_NODE || !text_ok(v) || is_null(v)) {
        ld_err(L, MLC_EINVAL, node_line(k), ekey, "%s",
               f->type == FT_ACCOUNT_MAP ? ACCOUNT_EXPECT : "expected a value");
        return false;
    }
    if (f->type == FT_ACCOUNT_MAP) {
        if (cfg_account_parse(sval(v), &me->account) != MLC_OK) {
            ld_err(L, MLC_EINVAL, node_line(v), ekey, "%s", ACCOUNT_EXPECT);
            return false;
        }
    } else if (f->check != NULL && (why = f->check(sval(v))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(v), ekey, "%s", why);
        return false;
    } else if ((me->value = strdup(sval(v))) == NULL) {
        ld_oom(L);
        return false;
    }
    if ((me->match = strdup(sval(k))) == NULL) {
        ld_oom(L);
        return false;
    }
    return true;
}

/* Moves the sorted entries into the field's typed array. */
static int map_store(struct loader *L, const struct field *f, struct mentry *m, size_t n)
{
    void *arr;

    if (n == 0)
        return MLC_OK;
    if (f->type == FT_ACCOUNT_MAP) {
        struct cfg_account_map *a = calloc(n, sizeof(*a));
        if (a == NULL)
            return MLC_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            a[i].match = m[i].match;
            a[i].account = m[i].account;
            m[i].match = NULL;
        }
        arr = a;
    } else {
        struct cfg_str_map *s = calloc(n, sizeof(*s));
        if (s == NULL)
            return MLC_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            s[i].match = m[i].match;
            s[i].value = m[i].value;
            m[i].match = m[i].value = NULL;
        }
        arr = s;
    }
    free_value(L->cfg, f);
    *(void **)at(L->cfg, f->off) = arr;
    *(size_t *)at(L->cfg, f->off_n) = n;
    return MLC_OK;
}

static void parse_map(struct loader *L, const struct field *f, const char *key,
                      const yaml_node_t *v)
{
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    struct mentry *m;
    bool bad = false;

    if (n == 0)
        return;
    if ((m = calloc(n, sizeof(*m))) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
        if (!parse_map_entry(L, f, key, yaml_document_get_node(L->doc, p->key),
                             yaml_document_get_node(L->doc, p->value), &m[i]))
            bad = true;
    }
    if (bad)
        goto out;
    qsort(m, n, sizeof(*m), mentry_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(m[i].match, m[i - 1].match) == 0) {
            char ekey[CFG_KEY_MAX];
            snprintf(ekey, sizeof(ekey), "%s.%s", key, m[i].match);
            ld_err(L, MLC_EINVAL, m[i].line, ekey, "duplicate key (first on line %d)",
                   m[i - 1].line);
            bad = true;
        }
    }
    if (!bad && map_store(L, f, m, n) != MLC_OK)
        ld_oom(L);
out:
    mentries_free(m, n);
}

static bool looks_secret(const char *name);
static int dup_line(struct loader *L, const yaml_node_t *map, size_t i);

/* A scalar of a record: printable text that check accepts. */
static char *record_scalar(struct loader *L, const struct rfield *r, const char *key,
                           const yaml_node_t *v)
{
    const char *why;
    char *copy;

    if (v->type != YAML_SCALAR_NODE || is_null(v) || !text_ok(v)) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected a value");
        return NULL;
    }
    if (r->check != NULL && (why = r->check(sval(v))) != NULL) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "%s", why);
        return NULL;
    }
    if ((copy = strdup(sval(v))) == NULL)
        ld_oom(L);
    return copy;
}

/* A list of scalars into a record's char ** and count. */
static void record_list(struct loader *L, const struct rfield *r, const char *key,
                        const yaml_node_t *v, char *rec)
{
    size_t n, k = 0;
    char **list;

    if (v->type != YAML_SEQUENCE_NODE) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected a list, like [\"a@example.com\"]");
        return;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0 || n > CFG_MAX_LIST) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "expected 1 to %d items", CFG_MAX_LIST);
        return;
    }
    if ((list = calloc(n, sizeof(*list))) == NULL) {
        ld_oom(L);
        return;
    }
    *(char ***)(void *)(rec + r->off) = list;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        char *s = record_scalar(L, r, key, it);
        if (s != NULL)
            list[k++] = s;
    }
    *(size_t *)(void *)(rec + r->off_n) = k;
}

/* One record (a mapping) of an FT_RECORDS field into rec. */
static void parse_record(struct loader *L, const struct rtable *t, const char *key,
                         const yaml_node_t *item, char *rec)
{
    size_t n = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
    char rkey[CFG_KEY_MAX];

    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &item->data.mapping.pairs.start[i];
        const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const struct rfield *r = t->f;
        int first;

        if (k->type != YAML_SCALAR_NODE || !text_ok(k)) {
            ld_err(L, MLC_EINVAL, node_line(k), key, "expected a key name");
            continue;
        }
        snprintf(rkey, sizeof(rkey), "%s.%s", key, sval(k));
        while (r->key != NULL && strcmp(r->key, sval(k)) != 0)
            r++;
        if (r->key == NULL && (looks_secret(sval(k)) || strcmp(sval(k), "url") == 0)) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "secrets (and a webhook URL, which "
                   "carries a token) must not be written in the configuration file; store "
                   "the value with \"mlc credentials set NAME\" and refer to it by NAME in "
                   "a *_ref key");
            continue;
        }
        if (r->key == NULL) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "unknown key");
            continue;
        }
        if ((first = dup_line(L, item, i)) != 0) {
            ld_err(L, MLC_EINVAL, node_line(k), rkey, "duplicate key (first on line %d)", first);
            continue;
        }
        if (r->type == RT_STR_LIST) {
            record_list(L, r, rkey, v, rec);
        } else {
            char *s = record_scalar(L, r, rkey, v);
            if (s != NULL)
                *(char **)(void *)(rec + r->off) = s;
        }
    }
    for (const struct rfield *r = t->f; r->key != NULL; r++)
        if (r->required && *(void **)(void *)(rec + r->off) == NULL) {
            snprintf(rkey, sizeof(rkey), "%s.%s", key, r->key);
            ld_err(L, MLC_EINVAL, node_line(item), rkey, "required key is missing");
        }
}

/* A list of records; their first key ("name") must be unique. */
static void parse_records(struct loader *L, const struct field *f, const char *key,
                          const yaml_node_t *v)
{
    const struct rtable *t = f->rec;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    char ikey[CFG_KEY_MAX];
    char *arr;

    if (n == 0)
        return;
    if ((arr = calloc(n, t->size)) == NULL) {
        ld_oom(L);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(L->doc, v->data.sequence.items.start[i]);
        snprintf(ikey, sizeof(ikey), "%s[%zu]", key, i);
        if (item->type != YAML_MAPPING_NODE) {
            ld_err(L, MLC_EINVAL, node_line(item), ikey, "expected a mapping, not %s",
                   kind_name(item));
            continue;
        }
        parse_record(L, t, ikey, item, arr + i * t->size);
        for (size_t j = 0; j < i; j++) {
            const char *a = *(char **)(void *)(arr + i * t->size + t->f[0].off);
            const char *b = *(char **)(void *)(arr + j * t->size + t->f[0].off);
            if (a != NULL && b != NULL && strcmp(a, b) == 0)
                ld_err(L, MLC_EINVAL, node_line(item), ikey, "duplicate %s '%s'",
                       t->f[0].key, a);
        }
    }
    free_value(L->cfg, f);
    *(void **)at(L->cfg, f->off) = arr;
    *(size_t *)at(L->cfg, f->off_n) = n;
}

static void parse_field(struct loader *L, size_t fi, const char *key,
                        const yaml_node_t *k, const yaml_node_t *v)
{
    const struct field *f = &fields[fi];
    char exp[320];

    L->line[fi] = node_line(k);
    if (is_null(v)) {
        if (f->flags & F_REQUIRED)
            ld_err(L, MLC_EINVAL, node_line(k), key, "a value is required");
        else
            L->line[fi] = 0; /* the default applies */
        return;
    }
    expected(f, exp, sizeof(exp));
    switch (f->type) {
    case FT_INT_LIST:
        if (v->type != YAML_SEQUENCE_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_int_list(L, f, key, v);
        return;
    case FT_ACCOUNT_MAP:
    case FT_STR_MAP:
        if (v->type != YAML_MAPPING_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_map(L, f, key, v);
        return;
    case FT_RECORDS:
        if (v->type != YAML_SEQUENCE_NODE)
            ld_err(L, MLC_EINVAL, node_line(k), key, "%s", exp);
        else
            parse_records(L, f, key, v);
        return;
    default:
        break;
    }
    if (v->type != YAML_SCALAR_NODE) {
        ld_err(L, MLC_EINVAL, node_line(k), key, "%s, not %s", exp, kind_name(v));
        return;
    }
    if (!text_ok(v)) {
        ld_err(L, MLC_EINVAL, node_line(v), key, "must not contain control characters");
        return;
    }
    set_scalar(L, f, key, sval(v), node_line(v));
}

/* Names that hold a secret value; the file may only name a credential. */
static bool looks_secret(const char *name)
{
    static const char *const words[] = {
        "token", "password", "passwd", "secret", "passphrase", "api_key",
        "apikey", "private_key", "credential", "credentials", NULL,
    };
    char low[CFG_KEY_MAX];
    size_t n = strlen(name);

    if (n >= sizeof(low))
        return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    for (int i = 0; words[i] != NULL; i++) {
        size_t w = strlen(words[i]);
        if (strcmp(low, words[i]) == 0 ||
            (n > w && low[n - w - 1] == '_' && strcmp(low + n - w, words[i]) == 0))
            return true;
    }
    return false;
}

static void secret_err(struct loader *L, const char *path, const char *name,
                       const char *full, int line)
{
    char ref[CFG_KEY_MAX];

    snprintf(ref, sizeof(ref), "%s%s%s_ref", path, *path ? "." : "", name);
    if (field_find(ref) >= 0)
        ld_err(L, MLC_EINVAL, line, full,
               "secrets must not be written in the configuration file; store the value "
               "with \"mlc credentials set NAME\" and set %s_ref: NAME", name);
    else
        ld_err(L, MLC_EINVAL, line, full,
               "secrets must not be written in the configuration file; store the value "
               "with \"mlc credentials set NAME\" and refer to it by NAME in a *_ref key");
}

/* "unknown key", with the closest sibling name when it is close enough. */
static void unknown_err(struct loader *L, const char *path, const char *name,
                        const char *full, int line)
{
    size_t plen = strlen(path), best = SIZE_MAX, nlen = strlen(name);
    char cand[CFG_KEY_MAX], best_name[CFG_KEY_MAX] = "";
    size_t limit = nlen <= 4 ? 1 : nlen <= 9 ? 2 : 3;

    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *rest = fields[i].key;
        size_t d;
        if (plen > 0) {
            if (strncmp(rest, path, plen) != 0 || rest[plen] != '.')
                continue;
            rest += plen + 1;
        }
        snprintf(cand, sizeof(cand), "%.*s", (int)strcspn(rest, "."), rest);
        d = edit_distance(name, cand);
        if (d < best) {
            best = d;
            snprintf(best_name, sizeof(best_name), "%s", cand);
        }
    }
    if (best <= limit)
        ld_err(L, MLC_EINVAL, line, full, "unknown key (did you mean %s?)", best_name);
    else
        ld_err(L, MLC_EINVAL, line, full, "unknown key");
}

/* Line of an earlier pair of map with the same scalar key as pair i, or 0. */
static int dup_line(struct loader *L, const yaml_node_t *map, size_t i)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    const yaml_node_t *k = yaml_document_get_node(L->doc, pairs[i].key);

    for (size_t j = 0; j < i; j++) {
        const yaml_node_t *o = yaml_document_get_node(L->doc, pairs[j].key);
        if (o->type == YAML_SCALAR_NODE && strcmp(sval(o), sval(k)) == 0)
            return node_line(o);
    }
    return 0;
}

static void walk_section(struct loader *L, const yaml_node_t *map, const char *path)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);

    /* Stops after too many errors, which also bounds the duplicate scan. */
    for (size_t i = 0; i < n && L->n_err <= CFG_MAX_ERRORS; i++) {
        yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        char full[CFG_KEY_MAX];
        int fi, first;

        if (k->type != YAML_SCALAR_NODE || !text_ok(k)) {
            ld_err(L, MLC_EINVAL, node_line(k), *path ? path : NULL,
                   "expected a key name, found %s", kind_name(k));
            continue;
        }
        if ((size_t)snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "",
                             sval(k)) >= sizeof(full)) {
            ld_err(L, MLC_EINVAL, node_line(k), path, "unknown key (name too long)");
            continue;
        }
        if ((first = dup_line(L, map, i)) != 0) {
            ld_err(L, MLC_EINVAL, node_line(k), full, "duplicate key (first on line %d)",
                   first);
            continue;
        }
        if ((fi = field_find(full)) >= 0) {
            parse_field(L, (size_t)fi, full, k, v);
        } else if (is_section(full)) {
            if (L->n_sect < CFG_MAX_SECT) {
                snprintf(L->sect[L->n_sect].path, CFG_KEY_MAX, "%s", full);
                L->sect[L->n_sect++].line = node_line(k);
            }
            if (v->type == YAML_MAPPING_NODE)
                walk_section(L, v, full);
            else if (!is_null(v))
                ld_err(L, MLC_EINVAL, node_line(k), full,
                       "expected a mapping of settings, not %s", kind_name(v));
        } else if (looks_secret(sval(k))) {
            secret_err(L, path, sval(k), full, node_line(k));
        } else {
            unknown_err(L, path, sval(k), full, node_line(k));
        }
    }
}

/* Line of the innermost section of key present in the file, or 0. */
static int section_line(const struct loader *L, const char *key)
{
    int line = 0;
    size_t best = 0;

    for (size_t i = 0; i < L->n_sect; i++) {
        size_t n = strlen(L->sect[i].path);
        if (n > best && strncmp(key, L->sect[i].path, n) == 0 && key[n] == '.') {
            best = n;
            line = L->sect[i].line;
        }
    }
    return line;
}

static void apply_defaults(struct loader *L)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const struct field *f = &fields[i];

        if (L->line[i] != 0)
            continue;
        if (f->flags & F_REQUIRED)
            ld_err(L, MLC_EINVAL, section_line(L, f->key), f->key,
                   "required key is missing%s%s", f->missing != NULL ? ": " : "",
                   f->missing != NULL ? f->missing : "");
        else if (f->def != NULL && f->type == FT_INT_LIST)
            default_int_list(L, f);
        else if (f->def != NULL)
            set_scalar(L, f, f->key, f->def, 0);
    }
}

/* Line where key was set, else its section's line. */
static int line_of(const struct loader *L, const char *key)
{
    int fi = field_find(key);

    return (fi >= 0 && L->line[fi] != 0) ? L->line[fi] : section_line(L, key);
}

/* Whether the file set key (rather than its default). */
static bool key_set(const struct loader *L, const char *key)
{
    int fi = field_find(key);

    return fi >= 0 && L->line[fi] != 0;
}

/* Rules between several keys. */
static void cross_check(struct loader *L)
{
    struct mlc_config *c = L->cfg;

    if (c->posting.mode == CFG_POST_VOUCHER && c->posting.default_supplier == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "posting.mode"), "posting.default_supplier",
               "required when posting.mode is voucher");
    if (c->bigcommerce.webhook_public_url != NULL &&
        c->bigcommerce.webhook_secret_ref == NULL &&
        c->bigcommerce.client_secret_ref == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "bigcommerce.webhook_public_url"),
               "bigcommerce.webhook_public_url",
               "needs bigcommerce.client_secret_ref or webhook_secret_ref to verify deliveries");
    /* A create must end well inside its job's lease even if a heartbeat
     * is late: another worker never sees its ledger row mid-call. */
    if ((int64_t)c->jde.timeout_ms * 2 > (int64_t)c->workers.lease_s * 1000) {
        if (key_set(L, "workers.lease_s"))
            ld_err(L, MLC_EINVAL, line_of(L, "workers.lease_s"), "workers.lease_s",
                   "must be at least twice jde.timeout_ms (%d ms): a call to JD Edwards "
                   "must end well inside the lease of its job", c->jde.timeout_ms);
        else
            ld_err(L, MLC_EINVAL, line_of(L, "jde.timeout_ms"), "jde.timeout_ms",
                   "must be at most half of workers.lease_s (%d s): a call to JD Edwards "
                   "must end well inside the lease of its job", c->workers.lease_s);
    }
    if (c->jde.settle_s != 0 &&
        ((int64_t)c->jde.settle_s * 1000 < (int64_t)c->jde.timeout_ms * 2 ||
         c->jde.settle_s < c->jde.server_timeout_s))
        ld_err(L, MLC_EINVAL, line_of(L, "jde.settle_s"), "jde.settle_s",
               "must be at least twice jde.timeout_ms (%d ms) and at least "
               "jde.server_timeout_s (%d s), or 0 for that automatically: a create whose "
               "answer was lost may still land until then", c->jde.timeout_ms,
               c->jde.server_timeout_s);
    if (c->server.max_connections_per_ip >= c->server.max_connections)
        ld_err(L, MLC_EINVAL, line_of(L, "server.max_connections_per_ip"),
               "server.max_connections_per_ip",
               "must be below server.max_connections (%d), so that one address "
               "cannot take every connection", c->server.max_connections);
    if (c->server.admin_listen != NULL && strcmp(c->server.admin_listen, c->server.listen) == 0)
        ld_err(L, MLC_EINVAL, line_of(L, "server.admin_listen"), "server.admin_listen",
               "must differ from server.listen: the admin listener never serves webhooks");
    if ((c->server.tls_cert_file == NULL) != (c->server.tls_key_file == NULL))
        ld_err(L, MLC_EINVAL, line_of(L, c->server.tls_cert_file != NULL ? "server.tls_cert_file"
                                                                     : "server.tls_key_file"),
               c->server.tls_cert_file != NULL ? "server.tls_cert_file" : "server.tls_key_file",
               "needs %s too", c->server.tls_cert_file != NULL ? "server.tls_key_file"
                                                              : "server.tls_cert_file");
    if (c->console.listen != NULL &&
        (strcmp(c->console.listen, c->server.listen) == 0 ||
         (c->server.admin_listen != NULL && strcmp(c->console.listen, c->server.admin_listen) == 0)))
        ld_err(L, MLC_EINVAL, line_of(L, "console.listen"), "console.listen",
               "must differ from server.listen and server.admin_listen: the console has a listener of its own");
    if (c->console.proxy_user_header != NULL && c->console.n_users == 0)
        ld_err(L, MLC_EINVAL, line_of(L, "console.proxy_user_header"), "console.proxy_user_header",
               "needs console.users: the role of each user the proxy names");
    if (!c->server.public_metrics && c->server.admin_listen == NULL)
        ld_err(L, MLC_EINVAL, line_of(L, "server.public_metrics"), "server.public_metrics",
               "false needs server.admin_listen, else /metrics is served nowhere");
    for (size_t i = 0; i < c->alerts.n_webhooks; i++)
        for (size_t j = 0; j < c->alerts.n_email; j++)
            if (c->alerts.webhooks[i].name != NULL && c->alerts.email[j].name != NULL &&
                strcmp(c->alerts.webhooks[i].name, c->alerts.email[j].name) == 0)
                ld_err(L, MLC_EINVAL, line_of(L, "alerts.email"), "alerts.email",
                       "channel name '%s' is also a webhook's: names must be unique",
                       c->alerts.email[j].name);
    if (c->workers.retry_base_ms > c->workers.retry_cap_ms)
        ld_err(L, MLC_EINVAL, line_of(L, "workers.retry_base_ms"), "workers.retry_base_ms",
               "must not exceed workers.retry_cap_ms (%d)", c->workers.retry_cap_ms);
}

/* Trailing '/' off a base URL; {store_hash} substituted. */
static int finish_urls(struct loader *L)
{
    struct mlc_config *c = L->cfg;
    char *urls[2] = { c->bigcommerce.api_base_url, c->jde.ais_base_url };
    const char *ph = "{store_hash}";
    char *u = c->bigcommerce.api_base_url, *p;

    for (size_t i = 0; i < 2; i++) {
        size_t n = urls[i] != NULL ? strlen(urls[i]) : 0;
        while (n > 0 && urls[i][n - 1] == '/')
            urls[i][--n] = '\0';
    }
    while (u != NULL && c->bigcommerce.store_hash != NULL && (p = strstr(u, ph)) != NULL) {
        size_t pre = (size_t)(p - u), hl = strlen(c->bigcommerce.store_hash);
        size_t len = pre + hl + strlen(p + strlen(ph)) + 1;
        char *nu = malloc(len);
        if (nu == NULL) {
            ld_oom(L);
            return MLC_ENOMEM;
        }
        snprintf(nu, len, "%.*s%s%s", (int)pre, u, c->bigcommerce.store_hash, p + strlen(ph));
        free(u);
        u = c->bigcommerce.api_base_url = nu;
    }
    return MLC_OK;
}

/* orders.start as an instant (its text was checked by chk_cutover). */
static void finish_cutover(struct loader *L)
{
    struct mlc_config *c = L->cfg;

    if (c->orders.start != NULL &&
        jdate_iso8601_parse(c->orders.start, &c->orders.start_s, NULL) != MLC_OK)
        ld_err(L, MLC_EINVAL, line_of(L, "orders.start"), "orders.start", "%s",
               chk_cutover(c->orders.start));
}

static void syntax_err(struct loader *L, const yaml_parser_t *p,
                       const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        ld_oom(L);
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Encoding errors carry a byte offset, not a mark. */
        size_t end = p->problem_offset < len ? p->problem_offset : len;
        int line = 1;
        for (size_t i = 0; i < end; i++)
            line += text[i] == '\n';
        if (p->problem_value >= 0)
            ld_err(L, MLC_EPARSE, line, NULL, "invalid text: %s (byte 0x%02x)",
                   p->problem ? p->problem : "malformed", (unsigned)p->problem_value & 0xffu);
        else
            ld_err(L, MLC_EPARSE, line, NULL, "invalid text: %s",
                   p->problem ? p->problem : "malformed");
        return;
    }
    if (p->context != NULL)
        ld_err(L, MLC_EPARSE, (int)p->problem_mark.line + 1, NULL,
               "YAML syntax error: %s (%s on line %d)",
               p->problem ? p->problem : "malformed", p->context,
               (int)p->context_mark.line + 1);
    else
        ld_err(L, MLC_EPARSE, (int)p->problem_mark.line + 1, NULL, "YAML syntax error: %s",
               p->problem ? p->problem : "malformed");
}

/* False (an error in L) when collections nest deeper than CFG_MAX_DEPTH.
 * libyaml takes time quadratic in the depth to build a document (100,000
 * levels: 28 s, at start and on every SIGHUP); its event parser reads
 * lazily, so this pass stops at the first level too many. A syntax error
 * is left to the load, which reports it. */
static bool depth_ok(struct loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0;
    bool ok = true, end = false;

    if (!yaml_parser_initialize(&parser)) {
        ld_oom(L);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (ok && !end && yaml_parser_parse(&parser, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        if (depth > CFG_MAX_DEPTH) {
            ld_err(L, MLC_EPARSE, (int)ev.start_mark.line + 1, NULL,
                   "lists and mappings nest more than %d levels deep", CFG_MAX_DEPTH);
            ok = false;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return ok;
}

/* Parses text into L->cfg (errors counted in L). */
static void load_yaml(struct loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    const yaml_node_t *root;

    if (!depth_ok(L, text, len))
        return;
    if (!yaml_parser_initialize(&parser)) {
        ld_oom(L);
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_err(L, &parser, text, len);
        yaml_parser_delete(&parser);
        return;
    }
    L->doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL || is_null(root)) {
        ld_err(L, MLC_EPARSE, 0, NULL,
               "the file is empty (\"mlc init\" writes a commented example)");
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_err(L, &parser, text, len);
        goto out;
    }
    if (yaml_document_get_root_node(&extra) != NULL)
        ld_err(L, MLC_EPARSE, (int)extra.start_mark.line + 1, NULL,
               "only one YAML document is allowed");
    yaml_document_delete(&extra);
    if (root->type != YAML_MAPPING_NODE) {
        ld_err(L, MLC_EPARSE, node_line(root), NULL,
               "expected a mapping of sections (log, bigcommerce, jde, posting, ...)");
        goto out;
    }
    walk_section(L, root, "");
    L->walked = true;
out:
    L->doc = NULL;
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

int cfg_load_buffer_report(const char *name, const char *text, size_t len,
                           cfg_report_fn report, void *ctx,
                           struct mlc_config **out, struct mlc_err *e)
{
    struct loader *L;
    struct cfg_box *box;
    int rc;

    if (out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "cfg_load: out is NULL");
    *out = NULL;
    if (name == NULL)
        name = "config";
    if (text == NULL)
        return mlc_err_set(e, MLC_EINVAL, "%s: no text", name);
    L = calloc(1, sizeof(*L));
    box = calloc(1, sizeof(*box));
    if (L == NULL || box == NULL || (box->cfg.path = strdup(name)) == NULL) {
        free(L);
        free(box);
        return mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", name);
    }
    atomic_init(&box->refs, 1);
    L->name = name;
    L->cfg = &box->cfg;
    L->e = e;
    L->report = report;
    L->ctx = ctx;

    load_yaml(L, text, len);
    if (L->walked)
        apply_defaults(L); /* also reports missing keys next to other errors */
    if (L->n_err == 0 && finish_urls(L) == MLC_OK) {
        finish_cutover(L);
        cross_check(L);
    }
    rc = L->n_err == 0 ? MLC_OK : L->code;
    if (rc == MLC_OK)
        *out = &box->cfg;
    else
        cfg_free(&box->cfg);
    free(L);
    return rc;
}

int cfg_load_buffer(const char *name, const char *text, size_t len,
                    struct mlc_config **out, struct mlc_err *e)
{
    return cfg_load_buffer_report(name, text, len, NULL, NULL, out, e);
}

/* Reads a whole (small) file; *buf is caller-freed. */
static int read_file(const char *path, char **buf, size_t *len, struct mlc_err *e)
{
    char ebuf[128];
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0;
    int rc = MLC_OK;

    *buf = NULL;
    if (f == NULL)
        return mlc_err_set(e, MLC_EIO, "%s: cannot open: %s", path,
                           strerror_r(errno, ebuf, sizeof(ebuf)));
    if ((b = malloc(CFG_MAX_FILE + 1)) == NULL) {
        rc = mlc_err_set(e, MLC_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    n = fread(b, 1, CFG_MAX_FILE + 1, f);
    if (ferror(f)) {
        rc = mlc_err_set(e, MLC_EIO, "%s: cannot read: %s", path,
                         strerror_r(errno, ebuf, sizeof(ebuf)));
        goto out;
    }
    if (n > CFG_MAX_FILE) {
        rc = mlc_err_set(e, MLC_ETOOBIG, "%s: larger than %d bytes", path, CFG_MAX_FILE);
        goto out;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
out:
    free(b);
    fclose(f);
    return rc;
}

/* Makes *field absolute against dir when it is a relative file path, so the
 * daemon and the CLI find the same files whatever their working directory.
 * A "sqlite:" prefix is kept; URLs and ":memory:" are left alone. */
static int resolve_path(char **field, const char *dir)
{
    const char *v = *field, *prefix = "";
    size_t len;
    char *abs;

    if (v == NULL || strstr(v, "://") != NULL || strcmp(v, ":memory:") == 0)
        return MLC_OK;
    if (strncmp(v, "sqlite:", 7) == 0) {
        prefix = "sqlite:";
        v += 7;
    }
    if (v[0] == '/' || v[0] == '\0')
        return MLC_OK;
    len = strlen(prefix) + strlen(dir) + 1 + strlen(v) + 1;
    if ((abs = malloc(len)) == NULL)
        return MLC_ENOMEM;
    snprintf(abs, len, "%s%s/%s", prefix, dir, v);
    free(*field);
    *field = abs;
    return MLC_OK;
}

/* Makes the path after prefix absolute against dir; a value without the
 * prefix is left alone. */
static int resolve_prefixed(char **field, const char *prefix, const char *dir)
{
    size_t plen = strlen(prefix), len;
    const char *v = *field;
    char *abs;

    if (v == NULL || strncmp(v, prefix, plen) != 0 || v[plen] == '/' ||
        v[plen] == '\0')
        return MLC_OK;
    len = plen + strlen(dir) + 1 + strlen(v + plen) + 1;
    if ((abs = malloc(len)) == NULL)
        return MLC_ENOMEM;
    snprintf(abs, len, "%s%s/%s", prefix, dir, v + plen);
    free(*field);
    *field = abs;
    return MLC_OK;
}

/* The directory of path, absolute ("." resolved by realpath). */
static int config_dir(const char *path, char **out)
{
    char *copy = strdup(path), *slash;
    char *dir;

    if (copy == NULL)
        return MLC_ENOMEM;
    slash = strrchr(copy, '/');
    if (slash == copy)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    dir = realpath(slash != NULL ? copy : ".", NULL);
    free(copy);
    if (dir == NULL)
        return MLC_EIO;
    *out = dir;
    return MLC_OK;
}

/* The path keys of every record of field f. */
static int resolve_record_paths(struct mlc_config *c, const struct field *f, const char *dir)
{
    char *arr = *(char **)at(c, f->off);
    size_t n = *(size_t *)at(c, f->off_n);
    int rc = MLC_OK;

    for (size_t i = 0; rc == MLC_OK && arr != NULL && i < n; i++)
        for (const struct rfield *r = f->rec->f; rc == MLC_OK && r->key != NULL; r++)
            if (r->path && r->type == RT_STR)
                rc = resolve_path((char **)(void *)(arr + i * f->rec->size + r->off), dir);
    return rc;
}

static int resolve_paths(struct mlc_config *c, struct mlc_err *e)
{
    char *dir = NULL;
    int rc = config_dir(c->path, &dir);

    if (rc == MLC_OK)
        rc = resolve_path(&c->store.url, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->store.master_key_file, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->server.tls_cert_file, dir);
    if (rc == MLC_OK)
        rc = resolve_path(&c->server.tls_key_file, dir);
    if (rc == MLC_OK)
        rc = resolve_prefixed(&c->store.password_ref, "file:", dir);
    for (size_t i = 0; rc == MLC_OK && i < N_FIELDS; i++)
        if (fields[i].type == FT_RECORDS)
            rc = resolve_record_paths(c, &fields[i], dir);
    free(dir);
    if (rc != MLC_OK)
        return mlc_err_set(e, rc, "%s: cannot resolve the directory of the file", c->path);
    return MLC_OK;
}

int cfg_load_report(const char *path, cfg_report_fn report, void *ctx,
                    struct mlc_config **out, struct mlc_err *e)
{
    struct mlc_err local;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (e == NULL)
        e = &local; /* the report callback still gets open/read errors */
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return mlc_err_set(e, MLC_EINVAL, "cfg_load: no path");
    if ((rc = read_file(path, &text, &len, e)) != MLC_OK) {
        if (report != NULL)
            report(e->msg, ctx);
        return rc;
    }
    rc = cfg_load_buffer_report(path, text, len, report, ctx, out, e);
    free(text);
    if (rc == MLC_OK && (rc = resolve_paths(*out, e)) != MLC_OK) {
        if (report != NULL)
            report(e->msg, ctx);
        cfg_unref(*out);
        *out = NULL;
    }
    return rc;
}

int cfg_load(const char *path, struct mlc_config **out, struct mlc_err *e)
{
    return cfg_load_report(path, NULL, NULL, out, e);
}

/* ---- the commented example ------------------------------------------------ */

struct wbuf {
    char  *buf;
    size_t cap, len;
    bool   full;
};

static void w_printf(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void w_printf(struct wbuf *w, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (w->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = true;
        w->buf[w->len] = '\0';
        return;
    }
    w->len += (size_t)n;
}

static size_t depth_of(const char *key)
{
    size_t d = 0;

    for (; *key != '\0'; key++)
        d += *key == '.';
    return d;
}

/* The parent path of key: "posting.accounts.tax" -> "posting.accounts". */
static size_t parent_len(const char *key)
{
    const char *dot = strrchr(key, '.');

    return dot != NULL ? (size_t)(dot - key) : 0;
}

static const char *section_comment(const char *path, size_t n)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strlen(sections[i].path) == n && strncmp(sections[i].path, path, n) == 0)
            return sections[i].comment;
    return "Settings.";
}

/* Opens the sections of key's parent that the previous key's parent did
 * not have ("posting" then "posting.accounts"). */
static void ex_sections(struct wbuf *w, const char *prev, const char *key)
{
    size_t klen = parent_len(key), plen = prev != NULL ? parent_len(prev) : 0;
    size_t level = 0;

    for (size_t start = 0; start < klen; level++) {
        size_t end = start + strcspn(key + start, ".");
        bool open = prev != NULL && end <= plen && strncmp(prev, key, end) == 0 &&
                    (end == plen || prev[end] == '.');
        if (!open) {
            if (level == 0)
                w_printf(w, "\n");
            w_printf(w, "%*s# %s\n", (int)level * 2, "", section_comment(key, end));
            w_printf(w, "%*s%.*s:\n", (int)level * 2, "", (int)(end - start), key + start);
        }
        start = end + 1;
    }
}

/* A value as YAML: strings and accounts quoted, lists in flow style. */
static void ex_value(struct wbuf *w, const struct field *f, const char *text)
{
    switch (f->type) {
    case FT_STR:
        if (f->names != NULL) {
            w_printf(w, "%s", text);
            break;
        }
        /* fall through */
    case FT_ACCOUNT:
    case FT_MINOR2:
        w_printf(w, "\"%s\"", text); /* table text: no quotes or backslashes */
        break;
    case FT_INT_LIST:
        w_printf(w, "[%s]", text);
        break;
    default:
        w_printf(w, "%s", text);
        break;
    }
}

/* The comment's tail: what is allowed and the default, from the table. */
static void ex_tail(struct wbuf *w, const struct field *f)
{
    char names[256];

    if (f->names != NULL) {
        join_names(f->names, names, sizeof(names));
        w_printf(w, " One of: %s.", names);
    } else if (f->type == FT_INT || f->type == FT_SIZE) {
        w_printf(w, " Range: %lld-%lld.", f->min, f->max);
    } else if (f->type == FT_BOOL) {
        w_printf(w, " true or false.");
    }
    if (f->flags & F_REQUIRED)
        w_printf(w, " Required.");
    else if (f->def != NULL)
        w_printf(w, " Default: %s.", f->def);
    else if (f->type == FT_ACCOUNT_MAP || f->type == FT_STR_MAP || f->type == FT_RECORDS)
        w_printf(w, " Default: empty.");
    else
        w_printf(w, " Optional.");
}

static void ex_field(struct wbuf *w, const struct field *f)
{
    int ind = (int)depth_of(f->key) * 2;
    const char *leaf = f->key + parent_len(f->key) + 1;

    w_printf(w, "%*s# %s", ind, "", f->comment);
    ex_tail(w, f);
    w_printf(w, "\n");
    if (f->type == FT_RECORDS) {
        w_printf(w, "%*s%s:\n", ind, "", leaf);
        for (const struct rfield *r = f->rec->f; r->key != NULL; r++) {
            if (r->example == NULL)
                continue;
            w_printf(w, "%*s  # %s%s: ", ind, "", r == f->rec->f ? "- " : "  ", r->key);
            if (r->type == RT_STR_LIST)
                w_printf(w, "%s\n", r->example);  /* a flow list, as written */
            else
                w_printf(w, "\"%s\"\n", r->example);
        }
        return;
    }
    if (f->type == FT_ACCOUNT_MAP || f->type == FT_STR_MAP) {
        w_printf(w, "%*s%s:\n", ind, "", leaf);
        if (f->example != NULL)
            w_printf(w, "%*s  # %s\n", ind, "", f->example);
        return;
    }
    if (f->def != NULL || (f->flags & F_REQUIRED)) {
        w_printf(w, "%*s%s: ", ind, "", leaf);
        ex_value(w, f, f->def != NULL ? f->def : f->example);
    } else {
        w_printf(w, "%*s# %s: ", ind, "", leaf);
        ex_value(w, f, f->example != NULL ? f->example : "");
    }
    w_printf(w, "\n");
}

/* Built once from the table; read-only afterwards (static storage of
 * cfg_example_yaml, guarded by pthread_once). */
static char example_text[32768];
static pthread_once_t example_once = PTHREAD_ONCE_INIT;

static void example_build(void)
{
    struct wbuf w = { example_text, sizeof(example_text), 0, false };

    w_printf(&w,
        "# ml-connector configuration.\n"
        "#\n"
        "# Written by \"mlc init\"; check it with \"mlc config check FILE\".\n"
        "# Every key is listed with what it does, what it accepts and its default.\n"
        "# Keys marked Required must be set; lines starting with \"# key:\" show an\n"
        "# optional key with an example value. Quote strings (\"00001\", \"NO\").\n"
        "#\n"
        "# Secrets are never written here: store each one with\n"
        "#   mlc credentials set NAME\n"
        "# and refer to it by NAME in a *_ref key.\n");
    for (size_t i = 0; i < N_FIELDS; i++) {
        ex_sections(&w, i > 0 ? fields[i - 1].key : NULL, fields[i].key);
        ex_field(&w, &fields[i]);
    }
    if (w.full)
        snprintf(example_text, sizeof(example_text), "# example too large\n");
}

const char *cfg_example_yaml(void)
{
    pthread_once(&example_once, example_build);
    return example_text;
}

int64_t cfg_settle_ms(const struct mlc_config *c)
{
    int64_t twice = (int64_t)c->jde.timeout_ms * 2;
    int64_t server = (int64_t)c->jde.server_timeout_s * 1000;

    if (c->jde.settle_s > 0)
        return (int64_t)c->jde.settle_s * 1000;
    return twice > server ? twice : server;
}

int cfg_example_with_start(const char *start, char **out, struct mlc_err *e)
{
    static const char line[] = "\n  start: \"" CFG_START_EXAMPLE "\"\n";
    const char *ex = cfg_example_yaml(), *at;
    size_t pre, len;

    *out = NULL;
    if (start == NULL || strlen(start) > 64 || chk_cutover(start) != NULL)
        return mlc_err_set(e, MLC_EINVAL, "orders.start: '%s' is not a date-time with its "
                           "UTC offset", start != NULL ? start : "");
    if ((at = strstr(ex, line)) == NULL)
        return mlc_err_set(e, MLC_ESTATE, "the example has no orders.start line");
    pre = (size_t)(at - ex);
    len = strlen(ex) - strlen(CFG_START_EXAMPLE) + strlen(start) + 1;
    if ((*out = malloc(len)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "out of memory");
    snprintf(*out, len, "%.*s\n  start: \"%s\"\n%s", (int)pre, ex, start,
             at + strlen(line));
    return MLC_OK;
}
