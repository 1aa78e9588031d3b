/* SPDX-License-Identifier: MIT */
/* Formatted output: into a buffer, or a whole line onto the serial console. */
#ifndef KVMTRACK_GUEST_LIB_PRINTF_H
#define KVMTRACK_GUEST_LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* The C library's, for the conversions printf.c lists. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Formats one line and writes it under the console lock (no interleaving). */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, but gives up waiting for the lock after a while: for CPL0 paths
 * that may have interrupted the lock holder on this very CPU. */
void printf_unlocked_fallback(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
