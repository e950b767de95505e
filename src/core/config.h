/*
 * config: mlc.yaml loaded into an immutable, reference-counted struct.
 *
 * cfg_load parses with libyaml and fills struct mlc_config from one field
 * table (config_fields.c) that also drives validation, defaults and `mlc
 * init`'s commented example. Errors name file, line and key:
 *   mlc.yaml:14: posting.accounts.tax: expected an account like "1.4410" or "100.4410.01"
 * Unknown keys are errors. Secrets are never in the file: the file holds
 * references (names) to credentials stored encrypted by `mlc credentials`.
 *
 * Ownership: cfg_load returns a config with one reference; cfg_ref adds one,
 * cfg_unref drops one and frees at zero. A loaded config is never modified,
 * so threads may read it freely while they hold a reference; SIGHUP swaps in
 * a new one at job boundaries.
 *
 * Conventions of a loaded config:
 *  - an optional string that is not set is NULL;
 *  - an optional account that is not set has an empty bu (bu[0] == '\0'):
 *    an order that needs it is held, never posted to a guess;
 *  - maps are sorted by match (strcmp order, no duplicates), so callers may
 *    bsearch them; an empty map is NULL with a count of 0;
 *  - bigcommerce.api_base_url has {store_hash} substituted, and neither base
 *    URL ends with '/'.
 */
#ifndef MLC_CORE_CONFIG_H
#define MLC_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A JDE account "BU.OBJ" or "BU.OBJ.SUB" (business unit, object, subsidiary). */
struct cfg_account {
    char bu[13];  /* MCU, up to 12 */
    char obj[7];  /* OBJ, up to 6 */
    char sub[9];  /* SUB, up to 8, may be empty */
};

/* One entry of a string -> account map (by SKU, category, gateway, ...). */
struct cfg_account_map {
    char              *match; /* the map key as written */
    struct cfg_account account;
};

/* One entry of a string -> string map (SKU map, supplier by gateway, ...). */
struct cfg_str_map {
    char *match;
    char *value;
};

enum cfg_post_mode { CFG_POST_JOURNAL = 0, CFG_POST_VOUCHER };
enum cfg_gl_date { CFG_GLDATE_CREATED = 0, CFG_GLDATE_PAID, CFG_GLDATE_POSTING };
enum cfg_cancel { CFG_CANCEL_REVERSE = 0, CFG_CANCEL_HOLD };
enum cfg_sku_source { CFG_SKU_LITM = 0, CFG_SKU_AITM };

/* Whether every process of the store draws from one request budget kept in
 * the state store (auto: when store.url is PostgreSQL). */
enum cfg_shared_budget { CFG_BUDGET_AUTO = 0, CFG_BUDGET_ON, CFG_BUDGET_OFF };

struct cfg_bigcommerce {
    char *store_hash;
    char *store_id;            /* numeric, may be NULL: webhooks' store_id unchecked */
    char *api_base_url;        /* default https://api.bigcommerce.com/stores/{store_hash}, substituted */
    char *token_ref;           /* credential name of the X-Auth-Token */
    char *webhook_public_url;  /* https://host/webhooks/bigcommerce */
    char *webhook_secret_ref;  /* credential name: custom header secret */
    char *client_secret_ref;   /* credential name: signature key, may be NULL */
    char *ca_file;             /* extra CA bundle, may be NULL */
    int   rate_reserve;        /* requests left for other apps on the store */
    enum cfg_shared_budget shared_budget; /* default auto */
    int   timeout_ms;
};

struct cfg_orchestrations {
    char *add_journal_entry;   /* default MLC_AddJournalEntry */
    char *add_voucher;         /* default MLC_AddVoucher */
    char *add_customer;        /* default MLC_AddCustomer */
    char *update_customer;     /* default MLC_UpdateCustomer */
};

struct cfg_jde {
    char *ais_base_url;
    char *environment;
    char *role;
    char *device_name;
    char *user;
    char *password_ref;        /* credential name */
    char *ca_file;
    int   timeout_ms;
    int   server_timeout_s;    /* AIS server's own request timeout, 0: unknown */
    int   settle_s;            /* 0: auto (cfg_settle_ms) */
    int   login_backoff_s;     /* between logins after a refused one */
    struct cfg_orchestrations orch;
    struct cfg_str_map *inputs;   /* contract input name -> customer's name */
    size_t              n_inputs;
};

struct cfg_posting {
    enum cfg_post_mode mode;
    char *company;             /* KCO, 5 digits */
    char *document_type;       /* DCT, default JE */
    char *ledger_type;         /* LT, default AA */
    enum cfg_gl_date gl_date;
    char *timezone;            /* IANA name, default UTC */
    char *key_prefix;          /* default BC */
    int64_t rounding_tolerance_minor; /* in minor units of the order currency */
    int    *paid_statuses;
    size_t  n_paid_statuses;
    enum cfg_cancel on_cancel;
    bool strict_sku_mapping;   /* hold a product no SKU/category map names */
    char *default_supplier;    /* voucher mode AN8 */
    char *balance_sheet_bu;    /* BU of payment, tax, unmatched lines */
    char *default_bu;          /* BU of revenue-type lines */
    struct cfg_str_map *bu_by_channel;  size_t n_bu_by_channel;
    struct {
        struct cfg_account revenue, discounts, shipping, handling, wrapping,
                           fees, tax, clearing, gift_certificate,
                           store_credit, rounding;
    } accounts;
    struct cfg_account_map *revenue_by_sku;      size_t n_revenue_by_sku;
    struct cfg_account_map *revenue_by_category; size_t n_revenue_by_category;
    struct cfg_account_map *clearing_by_gateway; size_t n_clearing_by_gateway;
    struct cfg_account_map *clearing_by_method;  size_t n_clearing_by_method;
    struct cfg_str_map     *supplier_by_gateway; size_t n_supplier_by_gateway;
    int category_cache_s;  /* a product's categories are reused this long */
};

/* Which orders are the connector's (issue 8 §4): the go-live cutover. An
 * order created before start, or (when start_id is set) with a lower id, was
 * keyed by hand and is never posted. */
struct cfg_orders {
    char   *start;             /* ISO 8601 with its UTC offset, as written */
    int64_t start_s;           /* the same instant, Unix seconds */
    int     start_id;          /* first order id posted; 0 = not set */
};

struct cfg_customers {
    bool  enabled;
    char *search_type;         /* default C */
    char *ar_class;
    char *payment_terms;
    char *currency;
};

struct cfg_catalog {
    bool  enabled;
    enum cfg_sku_source sku_source;
    struct cfg_str_map *sku_map; size_t n_sku_map; /* JDE item -> BC SKU */
    char *price_currency;
    char *price_uom;
    char *price_branch;        /* MCU, empty = item level */
    bool  sync_name;
    bool  sync_price;
    bool  create_missing;
};

struct cfg_schedule {          /* seconds */
    int reconcile_interval;
    int reconcile_overlap;
    int hooks_interval;
    int catalog_poll_interval;
    int accounts_refresh_interval;
    int session_keepalive_interval;
    int health_probe_interval; /* down systems asked again; paused jobs resumed */
    int leader_lease_s;        /* singleton tasks' lease (daemon/leader.h) */
};

struct cfg_store {
    char *url;                 /* SQLite path (default) or postgresql:// DSN */
    char *password_ref;        /* PostgreSQL's password: "file:PATH" (made
                                  absolute) or "systemd:NAME"; NULL: libpq's
                                  own (~/.pgpass, PGPASSFILE) */
    char *master_key_file;     /* key for encrypted credentials */
};

struct cfg_server {
    char *listen;              /* "127.0.0.1:8080" */
    char *admin_listen;        /* health and metrics only; NULL: none */
    bool  public_metrics;      /* /metrics on listen too */
    int   threads;
    int   max_connections;
    int   max_connections_per_ip;  /* 0 = no limit */
    int   connection_timeout_s;    /* idle time */
    int   request_timeout_s;       /* whole read of one request */
    size_t max_body_bytes;
    char *tls_cert_file;       /* HTTPS on listen (with tls_key_file); NULL: HTTP */
    char *tls_key_file;
};

struct cfg_workers {
    int count;
    int lease_s;
    int job_max_s;      /* leases of a longer job are no longer renewed */
    int max_attempts;
    int retry_base_ms;
    int retry_cap_ms;
    int drain_timeout_s;
    int batch_max;      /* order jobs claimed together by one worker */
    int gather_ms;      /* order jobs from webhooks wait for a window's end */
};

/* The daily reports the daemon makes (report/daily.h). */
struct cfg_report {
    char *reconcile_at;        /* "HH:MM" local (posting.timezone); NULL = off */
};

/* Alerts (notify/): channels and the digest's pace. A channel's secret
 * (the webhook URL, which carries a token; the SMTP password) is a
 * credential named here, never in the file. */
struct cfg_alert_webhook {
    char *name;                /* channel name, in logs and `mlc notify test` */
    char *url_ref;             /* credential holding the https:// URL */
    char *ca_file;             /* extra CA bundle, NULL: the system's */
};

struct cfg_alert_email {
    char  *name;
    char  *smtp_url;           /* smtp://host:587 (STARTTLS required) or smtps:// */
    char  *from;               /* address */
    char **to;                 /* addresses, at least one */
    size_t n_to;
    char  *user;               /* SMTP login, NULL: none */
    char  *password_ref;       /* credential of the SMTP password */
    char  *ca_file;
};

struct cfg_alerts {
    int   digest_interval_s;   /* at most one digest a channel this often */
    int   down_after_s;        /* a system down this long is an alert */
    int   max_age_s;           /* older pending alerts are counted, not listed */
    char *console_url;         /* base of the links in alerts, NULL: none */
    struct cfg_alert_webhook *webhooks; size_t n_webhooks;
    struct cfg_alert_email   *email;    size_t n_email;
};

/* The web console (console/console.h); off while listen is NULL. */
struct cfg_console {
    char              *listen;            /* "127.0.0.1:8090"; NULL: no console */
    struct cfg_str_map *users;            /* user name -> "viewer" | "operator" */
    size_t             n_users;
    char              *proxy_user_header; /* trusted from loopback peers; NULL: off */
    bool               secure_cookie;     /* the session cookie is Secure */
    int                session_idle_s;    /* a session unused this long ends */
    int                session_max_s;     /* a session ends this long after login */
};

struct mlc_config {
    char *path;                /* file it was loaded from */
    char *log_level;
    struct cfg_bigcommerce bigcommerce;
    struct cfg_jde         jde;
    struct cfg_posting     posting;
    struct cfg_orders      orders;
    struct cfg_customers   customers;
    struct cfg_catalog     catalog;
    struct cfg_schedule    schedule;
    struct cfg_store       store;
    struct cfg_server      server;
    struct cfg_workers     workers;
    struct cfg_report      report;
    struct cfg_alerts      alerts;
    struct cfg_console     console;
};

/* Loads path. On error returns MLC_EPARSE/MLC_EINVAL/MLC_EIO and e->msg
 * reads "FILE:LINE: KEY: problem". *out has one reference. */
int cfg_load(const char *path, struct mlc_config **out, struct mlc_err *e);
/* Same from a memory buffer; name is used in messages. */
int cfg_load_buffer(const char *name, const char *text, size_t len,
                    struct mlc_config **out, struct mlc_err *e);

/* At most this many errors are collected from one file. */
#define CFG_MAX_ERRORS 20

/* Receives each error message ("FILE:LINE: KEY: problem"), in the order
 * found, during a load. */
typedef void (*cfg_report_fn)(const char *msg, void *ctx);

/* cfg_load / cfg_load_buffer that keep going after the first error and pass
 * every error (up to CFG_MAX_ERRORS, then one "too many errors" line) to
 * report (may be NULL). e and the return value describe the first error. */
int cfg_load_report(const char *path, cfg_report_fn report, void *ctx,
                    struct mlc_config **out, struct mlc_err *e);
int cfg_load_buffer_report(const char *name, const char *text, size_t len,
                           cfg_report_fn report, void *ctx,
                           struct mlc_config **out, struct mlc_err *e);

struct mlc_config *cfg_ref(struct mlc_config *c);
void cfg_unref(struct mlc_config *c); /* NULL-safe */

/* The fully commented example configuration (what `mlc init` writes and
 * etc/mlc.example.yaml holds). Static storage. */
const char *cfg_example_yaml(void);

/* How long after a create was sent JDE's "not found" may be believed
 * (posting rules §3): jde.settle_s, or when 0 jde.timeout_ms plus the larger
 * of jde.timeout_ms and jde.server_timeout_s (AIS may receive the request
 * up to our timeout after the send, and runs it for its own). AIS keeps
 * running an orchestration after its caller gave up; until then a lookup
 * can miss a commit that is coming. */
int64_t cfg_settle_ms(const struct mlc_config *c);

/* The example value of orders.start in cfg_example_yaml. */
#define CFG_START_EXAMPLE "2025-07-01T00:00:00+00:00"

/* cfg_example_yaml with orders.start set to start (a valid orders.start
 * value, e.g. the current time): what `mlc init` writes. *out is
 * caller-freed. MLC_EINVAL when start is not a valid value. */
int cfg_example_with_start(const char *start, char **out, struct mlc_err *e);

/* "100.4410.01" -> account; MLC_EINVAL when malformed. */
int cfg_account_parse(const char *s, struct cfg_account *out);
/* "BU.OBJ[.SUB]" into buf. */
void cfg_account_format(const struct cfg_account *a, char *buf, size_t cap);

#endif
