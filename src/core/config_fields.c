/*
 * config_fields: the field table. Every setting of mlc.yaml is one row:
 * dotted key, type, where it lives in struct mlc_config, default (as text,
 * parsed by the same code as the file), range or allowed names, validator,
 * required flag, an example value and a one-line comment. The table drives
 * parsing, defaults, validation, freeing and the commented example that
 * `mlc init` writes (and mlc.yaml(5) is made from), so the example cannot
 * drift from the parser.
 */
#include <limits.h>
#include <stddef.h>

#include "core/config_int.h"

#define ROFF(T, m) offsetof(struct T, m)
static const struct cfg_rfield webhook_keys[] = {
    { "name", RT_STR, ROFF(cfg_alert_webhook, name), 0, &cfg_chk_ref, true, false, "ops-slack" },
    { "url_ref", RT_STR, ROFF(cfg_alert_webhook, url_ref), 0, &cfg_chk_ref, true, false,
      "alerts_ops_slack_url" },
    { "ca_file", RT_STR, ROFF(cfg_alert_webhook, ca_file), 0, &cfg_chk_path, false, true, NULL },
    { NULL, RT_STR, 0, 0, NULL, false, false, NULL },
};
static const struct cfg_rfield email_keys[] = {
    { "name", RT_STR, ROFF(cfg_alert_email, name), 0, &cfg_chk_ref, true, false, "finance" },
    { "smtp_url", RT_STR, ROFF(cfg_alert_email, smtp_url), 0, &cfg_chk_smtp_url, true, false,
      "smtp://mail.example.com:587" },
    { "from", RT_STR, ROFF(cfg_alert_email, from), 0, &cfg_chk_address, true, false,
      "mlc@example.com" },
    { "to", RT_STR_LIST, ROFF(cfg_alert_email, to), ROFF(cfg_alert_email, n_to), &cfg_chk_address,
      true, false, "[\"controller@example.com\"]" },
    { "user", RT_STR, ROFF(cfg_alert_email, user), 0, &cfg_chk_text, false, false, "mlc" },
    { "password_ref", RT_STR, ROFF(cfg_alert_email, password_ref), 0, &cfg_chk_ref, false, false,
      "alerts_smtp_password" },
    { "ca_file", RT_STR, ROFF(cfg_alert_email, ca_file), 0, &cfg_chk_path, false, true, NULL },
    { NULL, RT_STR, 0, 0, NULL, false, false, NULL },
};
static const struct cfg_rtable webhook_table = { webhook_keys, sizeof(struct cfg_alert_webhook) };
static const struct cfg_rtable email_table = { email_keys, sizeof(struct cfg_alert_email) };

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
const struct cfg_field cfg_fields[] = {
    F_NAMED("log.level", log_level, "info", log_levels,
        "Lowest level of the log lines written to stderr."),

    F_STR("bigcommerce.store_hash", bigcommerce.store_hash, NULL, &cfg_chk_store_hash,
        F_REQUIRED, "abc123def4",
        "Store hash: the part after /stores/ in the API path (lowercase letters and digits)."),
    F_STR("bigcommerce.api_base_url", bigcommerce.api_base_url,
        "https://api.bigcommerce.com/stores/{store_hash}", &cfg_chk_api_url, 0, NULL,
        "API base URL; {store_hash} is replaced by the store hash."),
    F_STR("bigcommerce.token_ref", bigcommerce.token_ref, NULL, &cfg_chk_ref,
        F_REQUIRED, "bigcommerce_token",
        "Credential name of the API account's access token (mlc credentials set NAME)."),
    F_STR("bigcommerce.webhook_public_url", bigcommerce.webhook_public_url, NULL,
        &cfg_chk_webhook_url, 0, "https://mlc.example.com/webhooks/bigcommerce",
        "Public https URL (port 443) where BigCommerce delivers webhooks; unset = poll only."),
    F_STR("bigcommerce.webhook_secret_ref", bigcommerce.webhook_secret_ref, NULL,
        &cfg_chk_ref, 0, "bigcommerce_webhook_secret",
        "Credential name of the secret header value sent with each webhook."),
    F_STR("bigcommerce.store_id", bigcommerce.store_id, NULL, &cfg_chk_store_id, 0, "1025646",
        "The store's numeric id, as its webhooks carry it in store_id: when set, a delivery naming another store is refused (403). The producer, stores/<store_hash>, is always checked."),
    F_STR("bigcommerce.client_secret_ref", bigcommerce.client_secret_ref, NULL,
        &cfg_chk_ref, 0, "bigcommerce_client_secret",
        "Credential name of the app client secret that signs webhooks."),
    F_STR("bigcommerce.ca_file", bigcommerce.ca_file, NULL, &cfg_chk_path, 0,
        "/etc/ssl/certs/extra-ca.pem",
        "Extra CA bundle (PEM) for the API's TLS certificate."),
    F_INT("bigcommerce.rate_reserve", bigcommerce.rate_reserve, "20", 0, 10000,
        "API requests per window left unused for the store's other apps."),
    F_ENUM("bigcommerce.shared_budget", bigcommerce.shared_budget, "auto", budgets,
        "Processes share one API request budget through the state store; auto = when store.url is PostgreSQL."),
    F_INT("bigcommerce.timeout_ms", bigcommerce.timeout_ms, "30000", 100, 600000,
        "Timeout of one API call, in milliseconds."),

    F_STR("jde.ais_base_url", jde.ais_base_url, NULL, &cfg_chk_url, F_REQUIRED,
        "https://jde-ais.example.com:9300",
        "Base URL of the JD Edwards AIS server (the part before /jderest)."),
    F_STR("jde.environment", jde.environment, NULL, &cfg_chk_env, 0, "JPS920",
        "JDE environment to sign in to; unset = the user's default."),
    F_STR("jde.role", jde.role, NULL, &cfg_chk_role, 0, "*ALL",
        "JDE role to sign in with; unset = the user's default."),
    F_STR("jde.device_name", jde.device_name, "ml-connector", &cfg_chk_device, 0, NULL,
        "Device name sent with the AIS login."),
    F_STR("jde.user", jde.user, NULL, &cfg_chk_user, F_REQUIRED, "MLCSVC",
        "JDE user that ml-connector signs in as."),
    F_STR("jde.password_ref", jde.password_ref, NULL, &cfg_chk_ref, F_REQUIRED,
        "jde_password", "Credential name of that user's password."),
    F_STR("jde.ca_file", jde.ca_file, NULL, &cfg_chk_path, 0,
        "/etc/ssl/certs/jde-ca.pem",
        "Extra CA bundle (PEM) for the AIS server's TLS certificate."),
    F_INT("jde.timeout_ms", jde.timeout_ms, "60000", 100, 600000,
        "Timeout of one AIS call, in milliseconds."),
    F_INT("jde.server_timeout_s", jde.server_timeout_s, "0", 0, 86400,
        "The AIS server's own request timeout in seconds, if your JDE team set one (0: unknown)."),
    F_INT("jde.settle_s", jde.settle_s, "0", 0, 86400,
        "Seconds after the send before a create with a lost answer may be found absent (0: auto: jde.timeout_ms plus the larger of it and jde.server_timeout_s)."),
    F_INT("jde.login_backoff_s", jde.login_backoff_s, "60", 1, 86400,
        "Seconds between AIS logins after JDE refused one (wrong password, locked user): retries must not lock the account."),
    F_STR("jde.orchestrations.add_journal_entry", jde.orch.add_journal_entry,
        "MLC_AddJournalEntry", &cfg_chk_orch, 0, NULL,
        "Orchestration that adds a GL journal entry."),
    F_STR("jde.orchestrations.add_voucher", jde.orch.add_voucher,
        "MLC_AddVoucher", &cfg_chk_orch, 0, NULL,
        "Orchestration that adds an AP voucher."),
    F_STR("jde.orchestrations.add_customer", jde.orch.add_customer,
        "MLC_AddCustomer", &cfg_chk_orch, 0, NULL,
        "Orchestration that adds a customer."),
    F_STR("jde.orchestrations.update_customer", jde.orch.update_customer,
        "MLC_UpdateCustomer", &cfg_chk_orch, 0, NULL,
        "Orchestration that updates a customer."),
    F_SMAP("jde.inputs", jde.inputs, jde.n_inputs, &cfg_chk_input_name, &cfg_chk_input_value,
        "Company: \"CompanyCode\"",
        "Renames orchestration inputs: contract name -> name used by your orchestrations."),

    F_ENUM("posting.mode", posting.mode, "journal", post_modes,
        "Post paid orders as GL journal entries or as AP vouchers."),
    F_STR("posting.company", posting.company, NULL, &cfg_chk_kco, F_REQUIRED, "00001",
        "JDE company (KCO), up to 5 digits; quote it to keep leading zeros."),
    F_STR("posting.document_type", posting.document_type, "JE", &cfg_chk_dct, 0, NULL,
        "Document type of journal entries."),
    F_STR("posting.ledger_type", posting.ledger_type, "AA", &cfg_chk_dct, 0, NULL,
        "Ledger type of journal entries."),
    F_ENUM("posting.gl_date", posting.gl_date, "created", gl_dates,
        "GL date of a sale: the day the order was created, became paid, or is posted."),
    F_STR("posting.timezone", posting.timezone, "UTC", &cfg_chk_tz, 0, NULL,
        "Time zone (IANA name, from the system's tzdata) in which GL dates are taken; a change needs a restart."),
    F_STR("posting.key_prefix", posting.key_prefix, "BC", &cfg_chk_prefix, 0, NULL,
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
    F_STR("posting.default_supplier", posting.default_supplier, NULL, &cfg_chk_an8, 0,
        "4242", "Supplier address number (AN8) of vouchers; required in voucher mode."),
    F_STR("posting.balance_sheet_bu", posting.balance_sheet_bu, NULL, &cfg_chk_bu, 0,
        "1", "Business unit of payment, tax and unmatched lines; unset = the account's own."),
    F_STR("posting.default_bu", posting.default_bu, NULL, &cfg_chk_bu, 0, "100",
        "Business unit of revenue-type lines; unset = the account's own."),
    F_SMAP("posting.bu_by_channel", posting.bu_by_channel, posting.n_bu_by_channel,
        &cfg_chk_channel, &cfg_chk_bu, "\"1\": \"100\"",
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
        &cfg_chk_match, "\"SKU-123\": \"100.4011\"",
        "Revenue account by product SKU (checked first)."),
    F_AMAP("posting.revenue_by_category", posting.revenue_by_category,
        posting.n_revenue_by_category, &cfg_chk_match, "\"23\": \"100.4012\"",
        "Revenue account by product category (checked after the SKU map)."),
    F_INT("posting.category_cache_s", posting.category_cache_s, "600", 0, 86400,
        "Seconds a product's categories are reused before BigCommerce is asked again (a product webhook drops them sooner; 0: ask for every batch)."),
    F_AMAP("posting.clearing_by_gateway", posting.clearing_by_gateway,
        posting.n_clearing_by_gateway, &cfg_chk_match, "stripe: \"1.1151\"",
        "Clearing account by payment gateway of the transaction."),
    F_AMAP("posting.clearing_by_method", posting.clearing_by_method,
        posting.n_clearing_by_method, &cfg_chk_match, "\"Cash on Delivery\": \"1.1152\"",
        "Clearing account by the order's payment_method (unmapped gateways, unmatched amounts)."),
    F_SMAP("posting.supplier_by_gateway", posting.supplier_by_gateway,
        posting.n_supplier_by_gateway, &cfg_chk_match, &cfg_chk_an8, "stripe: \"4243\"",
        "Voucher mode: supplier (AN8) by payment gateway."),

    { .key = "orders.start", .type = FT_STR, .off = OFF(orders.start), .check = &cfg_chk_cutover,
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
    F_STR("customers.search_type", customers.search_type, "C", &cfg_chk_code3, 0, NULL,
        "Address book search type of new customers."),
    F_STR("customers.ar_class", customers.ar_class, NULL, &cfg_chk_code3, 0, "WEB",
        "AR class of new customers; unset = JDE's default."),
    F_STR("customers.payment_terms", customers.payment_terms, NULL, &cfg_chk_code3, 0,
        "N30", "Payment terms of new customers; unset = JDE's default."),
    F_STR("customers.currency", customers.currency, NULL, &cfg_chk_currency, 0, "USD",
        "Currency of new customers (ISO 4217); unset = the company's."),

    F_BOOL("catalog.enabled", catalog.enabled, "false",
        "Update BigCommerce products from JDE items and prices."),
    F_ENUM("catalog.sku_source", catalog.sku_source, "litm", sku_srcs,
        "JDE item number that is the SKU: second (LITM) or third (AITM)."),
    F_SMAP("catalog.sku_map", catalog.sku_map, catalog.n_sku_map, &cfg_chk_match,
        &cfg_chk_match, "\"ITEM-0001\": \"SKU-123\"",
        "SKU by JDE item number, where they differ (identity otherwise)."),
    F_STR("catalog.price_currency", catalog.price_currency, NULL, &cfg_chk_currency, 0,
        "USD", "Currency of the JDE prices to read; unset = the store's default."),
    F_STR("catalog.price_uom", catalog.price_uom, NULL, &cfg_chk_uom, 0, "EA",
        "Unit of measure of the prices to read; unset = the item's primary."),
    F_STR("catalog.price_branch", catalog.price_branch, NULL, &cfg_chk_bu, 0, "30",
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

    F_STR("store.url", store.url, "mlc.db", &cfg_chk_store_url, 0, NULL,
        "State store: a SQLite file (relative to this file's directory), or a postgresql:// URL (no password in it)."),
    F_STR("store.password_ref", store.password_ref, NULL, &cfg_chk_password_ref, 0, NULL,
        "PostgreSQL password: file:PATH (mode 0600/0640, relative to this file) or systemd:NAME (a systemd credential). Unset: ~/.pgpass or PGPASSFILE."),
    F_STR("store.master_key_file", store.master_key_file, "mlc.key", &cfg_chk_path, 0,
        NULL, "File holding the key that encrypts stored credentials (mode 0600 or 0400; relative to this file's directory)."),

    F_STR("server.listen", server.listen, "127.0.0.1:8080", &cfg_chk_listen, 0, NULL,
        "Address and port of the webhook, health and metrics server (host:port)."),
    F_STR("server.admin_listen", server.admin_listen, NULL, &cfg_chk_listen, 0, "127.0.0.1:9090",
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
    F_STR("server.tls_cert_file", server.tls_cert_file, NULL, &cfg_chk_path, 0,
        "/etc/mlc/tls/fullchain.pem",
        "HTTPS on server.listen: the certificate chain (PEM; relative to this file). Re-read on SIGHUP. Unset: plain HTTP behind a TLS proxy."),
    F_STR("server.tls_key_file", server.tls_key_file, NULL, &cfg_chk_path, 0,
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

    F_STR("report.reconcile_at", report.reconcile_at, NULL, &cfg_chk_hhmm, 0, "06:00",
        "Local time (posting.timezone) of the daily reconciliation of the day before; "
        "unset: off."),

    F_INT("alerts.digest_interval_s", alerts.digest_interval_s, "300", 1, 86400,
        "Seconds between two digests of one channel: the first alert after a quiet spell goes out at once, later ones wait and are grouped."),
    F_INT("alerts.down_after_s", alerts.down_after_s, "300", 0, 86400,
        "Seconds BigCommerce, JDE or the store must be down (or refuse our credentials) before it is an alert; its recovery is one too."),
    F_INT("alerts.max_age_s", alerts.max_age_s, "86400", 60, 31536000,
        "Pending alerts older than this (a channel that kept failing) are counted in the digest, not listed."),
    F_STR("alerts.console_url", alerts.console_url, NULL, &cfg_chk_url, 0, "https://mlc.example.com:8443",
        "Base URL of the web console: alerts link to the page with the details."),
    F_RECS("alerts.webhooks", alerts.webhooks, alerts.n_webhooks, webhook_table,
        "HTTPS webhooks (Slack-compatible JSON): name, url_ref (the credential holding the URL, which carries a token), ca_file."),
    F_RECS("alerts.email", alerts.email, alerts.n_email, email_table,
        "E-mail over SMTP with STARTTLS: name, smtp_url, from, to (list), user, password_ref (credential), ca_file."),
    F_STR("console.listen", console.listen, NULL, &cfg_chk_listen, 0, "127.0.0.1:8090",
        "Address (host:port) of the web console; unset: no console. Keep it on loopback (or behind a TLS proxy)."),
    F_SMAP("console.users", console.users, console.n_users, &cfg_chk_console_user,
        &cfg_chk_console_role, "alice: operator",
        "Console users and their role (viewer or operator); set a password with: mlc console passwd NAME."),
    F_STR("console.proxy_user_header", console.proxy_user_header, NULL, &cfg_chk_header_name, 0,
        "X-Forwarded-User",
        "Header naming the user a reverse proxy authenticated; trusted only from loopback peers, role from console.users."),
    F_BOOL("console.secure_cookie", console.secure_cookie, "false",
        "Mark the session cookie Secure (set it when browsers reach the console through HTTPS)."),
    F_INT("console.session_idle_s", console.session_idle_s, "1800", 60, 86400,
        "Seconds of inactivity after which a console session ends."),
    F_INT("console.session_max_s", console.session_max_s, "43200", 300, 604800,
        "Seconds after login at which a console session ends, however active."),
};

const size_t cfg_n_fields = sizeof(cfg_fields) / sizeof(cfg_fields[0]);

/* Section comments for the example; every section in cfg_fields needs one. */
const struct cfg_section cfg_sections[] = {
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

const size_t cfg_n_sections = sizeof(cfg_sections) / sizeof(cfg_sections[0]);
