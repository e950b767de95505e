#include "helpers/testclock.h"

#include <time.h>

int64_t testclock_ahead(void *ctx)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + *(const int64_t *)ctx;
}
