#include "core/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

bool tz_exists(const char *name)
{
    char path[512];
    struct stat st;

    if (strcmp(name, "UTC") == 0)
        return true;
    if (name[0] == '/' || strstr(name, "..") != NULL)
        return false;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int tz_init(const char *name, struct mlc_err *e)
{
    if (name == NULL || name[0] == '\0')
        name = "UTC";
    if (!tz_exists(name))
        return mlc_err_set(e, MLC_ENOTFOUND,
                           "time zone '%s' is not in /usr/share/zoneinfo (install tzdata?)",
                           name);
    /* The one setenv of the program, before threads: see the header. */
    if (setenv("TZ", name, 1) != 0)
        return mlc_err_set(e, MLC_ENOMEM, "cannot set the time zone");
    tzset();
    return MLC_OK;
}

int tz_offset_min(int64_t unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL)
        return 0;
    return (int)(tm.tm_gmtoff / 60);
}
