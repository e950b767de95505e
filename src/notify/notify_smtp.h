/*
 * notify_smtp: the e-mail channel: an RFC 5322 message sent over SMTP
 * with libcurl, TLS required (STARTTLS on smtp://, implicit on smtps://),
 * the peer and its host name always verified (ca_file adds a private CA).
 *
 * The password is borrowed from its secret for the call only; messages
 * name the channel and the SMTP host, never the user's password. Blocking.
 */
#ifndef MLC_NOTIFY_NOTIFY_SMTP_H
#define MLC_NOTIFY_NOTIFY_SMTP_H

#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"

/* The message: Date (now_s, UTC), Message-ID (<now_ms.nonce@from's
 * domain>), From, To, Subject, MIME headers for UTF-8 text, a blank line
 * and text, every line ending in CRLF. A subject that is not ASCII is
 * encoded (RFC 2047). *out: malloc'd, caller frees. */
int nsmtp_message(const struct cfg_alert_email *ch, const char *subject, const char *text,
                  int64_t now_ms, uint32_t nonce, char **out, struct mlc_err *e);

/* Sends message to every address of ch->to. password may be NULL (no
 * login, or user without a password_ref). */
int nsmtp_send(const struct cfg_alert_email *ch, const struct mlc_secret *password,
               const char *message, struct mlc_err *e);

#endif
