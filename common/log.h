/* log: one sink (stderr, which websocketd and spawn-fcgi capture), level-gated. */
#ifndef SW_LOG_H
#define SW_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern enum log_level log_threshold;

void log_set_program(const char *name);
/* Sets the per-request or per-connection identity shown on every line ("" to clear). */
void log_set_context(const char *ctx);
int log_level_parse(const char *s, enum log_level *out);
void log_write(enum log_level lvl, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The level is checked before the arguments are evaluated or formatted. */
#define LOG_AT(lvl, errnum, ...) \
    do { if ((lvl) <= log_threshold) log_write((lvl), (errnum), __VA_ARGS__); } while (0)
#define LOG_ERROR(...) LOG_AT(LOG_LVL_ERROR, 0, __VA_ARGS__)
#define LOG_WARN(...)  LOG_AT(LOG_LVL_WARN, 0, __VA_ARGS__)
#define LOG_INFO(...)  LOG_AT(LOG_LVL_INFO, 0, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LVL_DEBUG, 0, __VA_ARGS__)
/* The errno variant: appends ": strerror(errno)". */
#define LOG_PERROR(...) LOG_AT(LOG_LVL_ERROR, errno, __VA_ARGS__)

#endif
