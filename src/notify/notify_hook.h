/*
 * notify_hook: the HTTPS webhook channel (Slack-compatible incoming
 * webhooks, or any receiver that takes a JSON POST).
 *
 * The URL is a credential (its path carries the token): it is borrowed from
 * the secret for the call only, and messages and logs name the channel and
 * the URL's host, never the URL. Blocking, one call at a time per caller.
 */
#ifndef MLC_NOTIFY_NOTIFY_HOOK_H
#define MLC_NOTIFY_NOTIFY_HOOK_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"

#define NHOOK_HOST_MAX 256

/* POSTs json to the channel's URL (https only). MLC_OK when the receiver
 * answered 2xx; host (cap NHOOK_HOST_MAX, may be NULL) gets the URL's
 * host for the caller's messages. */
int nhook_post(const struct cfg_alert_webhook *ch, const struct mlc_secret *url,
               const char *json, char *host, struct mlc_err *e);

#endif
