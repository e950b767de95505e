/*
 * config_check: the validators of the field table, and the small parsers
 * the loader shares with them.
 *
 * Most validators are one data row (character class, length range,
 * message); code appears only for what a class cannot say: URL shapes,
 * a time zone that must exist, a date-time with its offset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_int.h"
#include "core/jdate.h"
#include "core/tz.h"

/* ---- character classes ---------------------------------------------------- */

static int is_any(int c) { (void)c; return 1; }
static int is_lower_alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_alnum(int c) { return (c >= 'a' && c <= 'z') || is_upper(c) || is_digit(c); }
static int is_upper_alnum(int c) { return is_upper(c) || is_digit(c); }
static int is_ref_char(int c) { return is_lower_alnum(c) || c == '_' || c == '.' || c == '-'; }
static int is_word(int c) { return is_alnum(c) || c == '_'; }
static int is_role_char(int c) { return is_word(c) || c == '*'; }
static int is_device_char(int c) { return is_word(c) || c == '.' || c == '-'; }
static int is_graph(int c) { return c > 0x20 && c != 0x7f; }
static int is_acct_char(int c) { return is_alnum(c) || c == '_' || c == '-'; }
static int is_tz_char(int c) { return is_alnum(c) || c == '_' || c == '+' || c == '-' || c == '/'; }
static int is_header_char(int c) { return is_alnum(c) || c == '-' || c == '_'; }

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

const char *cfg_check_run(const struct cfg_check *c, const char *s)
{
    if (c == NULL)
        return NULL;
    if (c->cls != NULL && !all_of(s, c->min, c->max, c->cls))
        return c->msg;
    return c->fn != NULL ? c->fn(s) : NULL;
}

/* ---- shared parsers ------------------------------------------------------- */

int cfg_parse_ll(const char *s, long long *out)
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

/* Exact integer arithmetic: no double near money. */
int cfg_parse_minor2(const char *s, int64_t *out)
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

int cfg_name_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

void cfg_join_names(const char *const *names, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int i = 0; names[i] != NULL && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", names[i]);
}

/* ---- validators: data rows ------------------------------------------------ */

#define ROW(NAME, CLS, MIN, MAX, MSG) \
    const struct cfg_check cfg_chk_##NAME = { CLS, MIN, MAX, MSG, NULL }

ROW(ref, is_ref_char, 1, 64, "expected a credential name of 1-64 characters a-z 0-9 _ . -");
ROW(store_hash, is_lower_alnum, 1, 64, "expected the store hash: lowercase letters and digits");
ROW(text, is_graph, 1, 256, "expected 1-256 characters without spaces");
ROW(path, is_any, 1, 4096, "expected a file path");
ROW(env, is_word, 1, 32, "expected a JDE environment name like JPS920");
ROW(role, is_role_char, 1, 32, "expected a JDE role like *ALL");
ROW(device, is_device_char, 1, 64, "expected a device name of 1-64 letters, digits, _ . -");
ROW(user, is_graph, 1, 64, "expected a user name without spaces");
ROW(orch, is_word, 1, 64, "expected an orchestration name of 1-64 letters, digits and _");
ROW(input_value, is_any, 1, 64, "expected an input name of 1-64 characters");
ROW(kco, is_digit, 1, 5, "expected a company number of up to 5 digits, like \"00001\"");
ROW(dct, is_upper_alnum, 2, 2,
    "expected a 2-character code of uppercase letters or digits, like \"JE\"");
ROW(prefix, is_alnum, 1, 4, "expected 1-4 letters or digits");
ROW(an8, is_digit, 1, 8, "expected an address number (AN8) of up to 8 digits");
ROW(bu, is_acct_char, 1, 12, "expected a business unit of 1-12 letters or digits");
ROW(channel, is_digit, 1, 10, "expected a channel id (digits)");
ROW(match, is_any, 1, 255, "expected 1-255 characters");
ROW(code3, is_alnum, 1, 3, "expected a code of 1-3 letters or digits");
ROW(uom, is_upper_alnum, 1, 2,
    "expected a unit of measure of 1-2 uppercase letters or digits, like EA");
ROW(currency, is_upper, 3, 3, "expected an ISO 4217 currency code like \"USD\"");
/* Console user names are part of a credential name (console_user.NAME). */
ROW(console_user, is_ref_char, 1, 32, "expected a user name of 1-32 characters a-z 0-9 _ . -");
ROW(header_name, is_header_char, 1, 64, "expected an HTTP header name such as X-Forwarded-User");

/* A row, then code. */
#define ROW_FN(NAME, CLS, MIN, MAX, MSG, FN) \
    const struct cfg_check cfg_chk_##NAME = { CLS, MIN, MAX, MSG, FN }
/* Code only. */
#define CODE(NAME, FN) const struct cfg_check cfg_chk_##NAME = { NULL, 0, 0, NULL, FN }

/* ---- validators with code ------------------------------------------------- */

#define STORE_ID_EXPECT "expected the store's numeric id (decimal digits)"

static const char *no_leading_zero(const char *s)
{
    return s[0] != '0' ? NULL : STORE_ID_EXPECT;
}
ROW_FN(store_id, is_digit, 1, 18, STORE_ID_EXPECT, no_leading_zero);

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

#define URL_EXPECT \
    "expected a URL starting with https:// or http:// (with a host, no user or password)"

static const char *has_host(const char *s)
{
    size_t hl;
    const char *port;

    return url_host(s, &hl, &port) != NULL ? NULL : URL_EXPECT;
}
ROW_FN(url, is_graph, 8, 2048, URL_EXPECT, has_host);

static const char *api_url(const char *s)
{
    const char *p, *why = cfg_check_run(&cfg_chk_url, s);

    if (why != NULL)
        return why;
    /* The only placeholder is {store_hash}. */
    for (p = s; (p = strpbrk(p, "{}")) != NULL; p += 12) {
        if (strncmp(p, "{store_hash}", 12) != 0)
            return "expected a URL whose only placeholder is {store_hash}";
    }
    return NULL;
}
CODE(api_url, api_url);

static bool host_is_loopback(const char *h, size_t n)
{
    return (n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
           (n == 9 && strncmp(h, "localhost", 9) == 0) ||
           (n == 5 && strncmp(h, "[::1]", 5) == 0);
}

static const char *webhook_url(const char *s)
{
    size_t hl;
    const char *port, *h, *why = cfg_check_run(&cfg_chk_url, s);

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
CODE(webhook_url, webhook_url);

/* smtp://host[:port] or smtps://, no user or password in it. */
static const char *smtp_url(const char *s)
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
CODE(smtp_url, smtp_url);

#define ADDRESS_EXPECT "expected an e-mail address like ops@example.com"

/* A bare e-mail address: local@domain, nothing that could end a header. */
static const char *address(const char *s)
{
    const char *at = strchr(s, '@');

    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
        strpbrk(s, "<>,;\"()[]\\") != NULL)
        return ADDRESS_EXPECT;
    return NULL;
}
ROW_FN(address, is_graph, 3, 254, ADDRESS_EXPECT, address);

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

static const char *input_name(const char *s)
{
    return cfg_name_index(contract_inputs, s) >= 0 ? NULL
        : "expected an input name of the orchestration contract (Company, GLDate, Lines, Account, ...)";
}
CODE(input_name, input_name);

#define TZ_EXPECT "expected an IANA time zone name like \"UTC\" or \"America/Chicago\""

static const char *tz_known(const char *s)
{
    if (s[0] == '/' || strstr(s, "..") != NULL)
        return TZ_EXPECT;
    /* mlc run would refuse it at start: say so now. */
    return tz_exists(s) ? NULL
        : "unknown time zone: not in the system's tzdata (/usr/share/zoneinfo; check the "
          "spelling, or install tzdata)";
}
ROW_FN(tz, is_tz_char, 1, 64, TZ_EXPECT, tz_known);

static const char *console_role(const char *s)
{
    if (strcmp(s, "viewer") == 0 || strcmp(s, "operator") == 0)
        return NULL;
    return "expected viewer or operator";
}
CODE(console_role, console_role);

/* "HH:MM", 00:00 to 23:59. */
static const char *hhmm(const char *s)
{
    bool ok = strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
              s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]);

    return ok && (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6' ? NULL
        : "expected a time of day HH:MM (00:00 to 23:59)";
}
CODE(hhmm, hhmm);

static const char *store_url(const char *s)
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
CODE(store_url, store_url);

static const char *password_ref(const char *s)
{
    const char *name = s + strlen("systemd:");

    if (strncmp(s, "file:", 5) == 0 && s[5] != '\0' && strlen(s) <= 4096)
        return NULL;
    if (strncmp(s, "systemd:", 8) == 0 && all_of(name, 1, 255, is_graph) &&
        strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
        return NULL;
    return "expected file:PATH or systemd:NAME (a systemd credential)";
}
CODE(password_ref, password_ref);

static const char *listen_addr(const char *s)
{
    const char *colon = strrchr(s, ':');
    long long port;

    if (colon == NULL || colon == s || cfg_parse_ll(colon + 1, &port) != 0 ||
        port < 1 || port > 65535 || colon[1] == '-')
        return "expected host:port with a port from 1 to 65535, like \"127.0.0.1:8080\"";
    for (const char *p = s; p < colon; p++)
        if (!is_graph((unsigned char)*p))
            return "expected host:port with a port from 1 to 65535, like \"127.0.0.1:8080\"";
    return NULL;
}
CODE(listen, listen_addr);

/* A date-time with its offset: the cutover is one instant, whatever the
 * zone rules or posting.timezone say later. A bare date is refused too:
 * midnight in which zone? */
static const char *cutover(const char *s)
{
    int64_t t;

    if (strlen(s) > 10 && (s[10] == 'T' || s[10] == 't') &&
        jdate_iso8601_parse(s, &t, NULL) == MLC_OK)
        return NULL;
    return "expected a date-time with its UTC offset, like \"2025-07-01T00:00:00-05:00\" "
           "(ISO 8601; Z or +00:00 for UTC)";
}
CODE(cutover, cutover);

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
