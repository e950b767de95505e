/*
 * tz: the store's time zone, for GL dates.
 *
 * GL dates are taken in one configured IANA zone (posting.timezone). glibc
 * already knows the zone rules (tzdata), but only through the process-wide
 * TZ variable, so the zone is set once in main, before any thread starts
 * (tz_init), and read thread-safely afterwards with localtime_r. A change of
 * zone therefore needs a restart.
 */
#ifndef MLC_CORE_TZ_H
#define MLC_CORE_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* Selects the zone for this process. Call before threads exist. Fails with
 * MLC_ENOTFOUND when tzdata has no such zone ("UTC" always works). */
int tz_init(const char *name, struct mlc_err *e);
/* True when tzdata has the zone (a file under /usr/share/zoneinfo), as
 * tz_init will want it; "UTC" always. For `mlc config check`. */
bool tz_exists(const char *name);

/* UTC offset in minutes (east positive) of the selected zone at unix_s. */
int tz_offset_min(int64_t unix_s);

#endif
