/*
 * stderr logging: "2024-05-01T12:00:00.123 warn  func: text".  Wall-clock
 * time in the line (what an operator correlates with other logs); the
 * limiter runs on the monotonic clock so a clock step cannot mute it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "loop.h"

int log_verbosity = LOG_LVL_INFO;

static const char *const lvl_name[] = { "error", "warn", "info", "debug" };

static void vlog(enum log_level lvl, const char *func, const char *suffix, const char *fmt,
		 va_list ap)
{
	char ts[32], line[1024];
	struct timeval tv;
	struct tm tm;

	if ((int)lvl > log_verbosity)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one fprintf per line: lines of concurrent processes do not interleave */
	fprintf(stderr, "%s.%03ld %-5s %s: %s%s\n", ts, (long)tv.tv_usec / 1000, lvl_name[lvl],
		func, line, suffix);
}

void log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, func, "", fmt, ap);
	va_end(ap);
}

void log_limited(struct ratelim *rl, enum log_level lvl, const char *func, const char *fmt, ...)
{
	uint64_t now = now_ms();
	char suffix[64] = "";
	va_list ap;

	if (rl->last_ms != 0 && now - rl->last_ms < 1000) {
		rl->skipped++;
		return;
	}
	if (rl->skipped)
		snprintf(suffix, sizeof(suffix), " (%llu more like it not logged)",
			 (unsigned long long)rl->skipped);
	rl->last_ms = now;
	rl->skipped = 0;
	va_start(ap, fmt);
	vlog(lvl, func, suffix, fmt, ap);
	va_end(ap);
}
