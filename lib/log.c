// SPDX-License-Identifier: MIT
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

static void log_line(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line so that lines from threads do not interleave. */
	fprintf(stderr, "kvmtrack: %s\n", line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
