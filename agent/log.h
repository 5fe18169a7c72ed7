/*
 * Logging to stderr with a timestamp, and the limiter that keeps a flood of
 * refusals from turning into a flood of log lines.
 */
#ifndef SLUICE_AGENT_LOG_H
#define SLUICE_AGENT_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_verbosity; /* LOG_LVL_INFO by default, -v: LOG_LVL_DEBUG */

void log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)                                                   \
	do {                                                             \
		if (log_verbosity >= LOG_LVL_DEBUG)                      \
			log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__);   \
	} while (0)

/* At most one line per second per limiter; the lines skipped meanwhile are
 * counted and reported with the next one. */
struct ratelim {
	uint64_t last_ms;
	uint64_t skipped;
};

void log_limited(struct ratelim *rl, enum log_level lvl, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_rl(rl, ...) log_limited(rl, LOG_LVL_WARN, __func__, __VA_ARGS__)

#endif
