/*
 * notify_smtp: the e-mail channel (notify_smtp.h).
 */
#include "notify/notify_smtp.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/jdate.h"
#include "core/strbuf.h"

#define SMTP_CONNECT_MS 10000L
#define SMTP_TIMEOUT_MS 30000L
#define SMTP_HOST_MAX   256

static bool is_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* text with every "\n" (not already after "\r") as "\r\n". */
static void put_crlf(struct strbuf *f, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            strbuf_addchars(f, '\r', 1);
        strbuf_addchars(f, *p, 1);
    }
    if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
        strbuf_adds(f, "\r\n");
}

static void put_subject(struct strbuf *f, const char *subject)
{
    char b64[1024];

    if (is_ascii(subject)) {
        strbuf_addf(f, "Subject: %s\r\n", subject);
        return;
    }
    /* RFC 2047 encoded word; the subject is short (digest_subject caps it). */
    if (strlen(subject) > 600)
        subject = "[mlc] alerts";
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)subject, strlen(subject),
                      sodium_base64_VARIANT_ORIGINAL);
    strbuf_addf(f, "Subject: =?UTF-8?B?%s?=\r\n", b64);
}

int nsmtp_message(const struct cfg_alert_email *ch, const char *subject, const char *text,
                  int64_t now_ms, uint32_t nonce, char **out, struct mlc_err *e)
{
    const char *domain = strchr(ch->from, '@');
    char date[JDATE_RFC2822_SIZE];
    struct strbuf f = STRBUF_INIT;
    int rc;

    *out = NULL;
    if ((rc = jdate_rfc2822_format(now_ms / 1000, date, sizeof(date), e)) != MLC_OK)
        return rc;
    strbuf_addf(&f, "Date: %s\r\n", date);
    strbuf_addf(&f, "Message-ID: <%lld.%08x@%s>\r\n", (long long)now_ms, (unsigned)nonce,
                domain != NULL ? domain + 1 : "localhost");
    strbuf_addf(&f, "From: ml-connector <%s>\r\n", ch->from);
    strbuf_adds(&f, "To: ");
    for (size_t i = 0; i < ch->n_to; i++)
        strbuf_addf(&f, "%s%s", i > 0 ? ",\r\n " : "", ch->to[i]);
    strbuf_adds(&f, "\r\n");
    put_subject(&f, subject);
    strbuf_adds(&f, "MIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n"
                    "Auto-Submitted: auto-generated\r\n"
                    "\r\n");
    put_crlf(&f, text);
    if ((*out = strbuf_take(&f)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "e-mail: out of memory");
    return MLC_OK;
}

struct upload {
    const char *data;
    size_t      len, off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *vctx)
{
    struct upload *u = vctx;
    size_t room = size * n, left = u->len - u->off;

    if (room > left)
        room = left;
    memcpy(buf, u->data + u->off, room);
    u->off += room;
    return room;
}

struct send {
    const struct cfg_alert_email *ch;
    const char     *message;
    char            host[SMTP_HOST_MAX];
    struct mlc_err *e;
};

static int perform(const char *password, size_t plen, void *vctx)
{
    struct send *s = vctx;
    struct upload u = { .data = s->message, .len = strlen(s->message) };
    struct curl_slist *rcpt = NULL;
    char errbuf[CURL_ERROR_SIZE] = "", from[300];
    CURL *c = curl_easy_init();
    CURLcode cc = CURLE_OK;
    int rc = MLC_OK;

    (void)plen;
    if (c == NULL)
        return mlc_err_set(s->e, MLC_ENOMEM, "e-mail %s: out of memory", s->ch->name);
    for (size_t i = 0; i < s->ch->n_to; i++) {
        char to[300];
        struct curl_slist *n;
        snprintf(to, sizeof(to), "<%s>", s->ch->to[i]);
        if ((n = curl_slist_append(rcpt, to)) == NULL) {
            rc = mlc_err_set(s->e, MLC_ENOMEM, "e-mail %s: out of memory", s->ch->name);
            goto out;
        }
        rcpt = n;
    }
    snprintf(from, sizeof(from), "<%s>", s->ch->from);
#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, s->ch->smtp_url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, SMTP_CONNECT_MS);
    SET(CURLOPT_TIMEOUT_MS, SMTP_TIMEOUT_MS);
    /* STARTTLS or nothing: a server that does not offer it fails the send. */
    SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ch->ca_file != NULL)
        SET(CURLOPT_CAINFO, s->ch->ca_file);
    if (s->ch->user != NULL)
        SET(CURLOPT_USERNAME, s->ch->user);
    if (password != NULL)
        SET(CURLOPT_PASSWORD, password);
    SET(CURLOPT_MAIL_FROM, from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, &u);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
#undef SET
    if (cc != CURLE_OK) {
        rc = mlc_err_set(s->e, MLC_EINVAL, "e-mail %s (%s): %s", s->ch->name, s->host,
                         curl_easy_strerror(cc));
        goto out;
    }
    if ((cc = curl_easy_perform(c)) != CURLE_OK) {
        int code = cc == CURLE_LOGIN_DENIED ? MLC_EAUTH
                 : cc == CURLE_OPERATION_TIMEDOUT ? MLC_ETIMEOUT
                 : cc == CURLE_USE_SSL_FAILED || cc == CURLE_SSL_CONNECT_ERROR ||
                   cc == CURLE_PEER_FAILED_VERIFICATION ? MLC_ECRYPTO : MLC_EIO;
        rc = mlc_err_set(s->e, code, "e-mail %s (%s): %s%s%s", s->ch->name, s->host,
                         curl_easy_strerror(cc), errbuf[0] != '\0' ? ": " : "", errbuf);
    }
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc;
}

static int perform_plain(struct send *s)
{
    return perform(NULL, 0, s);
}

int nsmtp_send(const struct cfg_alert_email *ch, const struct mlc_secret *password,
               const char *message, struct mlc_err *e)
{
    struct send s = { .ch = ch, .message = message, .e = e };
    const char *h = strstr(ch->smtp_url, "://");

    h = h != NULL ? h + 3 : ch->smtp_url;
    snprintf(s.host, sizeof(s.host), "%.*s", (int)strcspn(h, "/"), h);
    if (password != NULL)
        return secret_use(password, perform, &s);
    return perform_plain(&s);
}
