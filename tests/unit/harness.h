/* harness: a thirty-line test harness (after redis's testhelp.h).
 * Each unit test file is one program; CHECK counts every assertion and
 * test_report() prints the line tests/run.sh adds up. */
#ifndef SW_HARNESS_H
#define SW_HARNESS_H

#include <stdio.h>
#include <string.h>

static int th_passed, th_failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            th_passed++;                                                  \
        } else {                                                          \
            th_failed++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

#define CHECK_STR(got, want)                                              \
    do {                                                                  \
        const char *g_ = (got), *w_ = (want);                             \
        CHECK(g_ && strcmp(g_, w_) == 0, "got \"%s\", want \"%s\"",       \
              g_ ? g_ : "(null)", w_);                                    \
    } while (0)

static inline int test_report(const char *name)
{
    printf("unit %s: %d passed, %d failed\n", name, th_passed, th_failed);
    return th_failed ? 1 : 0;
}

#endif
