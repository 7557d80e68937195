/* toolkit.h: usage errors, numeric options, a clock and percentiles, shared by the load tools
 * (each one .c file).
 * Define TOOL_NAME and a USAGE string before including it. */
#ifndef SW_TOOLKIT_H
#define SW_TOOLKIT_H

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline _Noreturn void usage(const char *why)
{
    fprintf(stderr, TOOL_NAME ": %s\n%s", why, USAGE);
    exit(2);
}

/* A decimal option within [min, max], else a usage error saying what. */
static inline long number(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        usage(what);
    return v;
}

static inline int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples (microseconds), in ms. */
static inline double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t r = (size_t)(p / 100 * (double)n + 0.999999);
    return v[r ? r - 1 : 0] / 1000.0;
}

#endif
