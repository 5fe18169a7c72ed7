/* Control-plane logging: one line to stderr, tagged with the function. */
#ifndef SLUICE_CP_LOG_H
#define SLUICE_CP_LOG_H

#include <stdio.h>

#define cp_log(fmt, ...) \
	fprintf(stderr, "sluice-cp: %s: " fmt "\n", __func__, ##__VA_ARGS__)

#endif
