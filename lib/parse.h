/* SPDX-License-Identifier: MIT */
/*
 * Numbers as users write them, for the command line and for the control
 * socket's arguments alike. Pure: unit-tested.
 */
#ifndef KVMTRACK_PARSE_H
#define KVMTRACK_PARSE_H

#include <stdint.h>

/*
 * Parses a size such as "256M", "1G", "4096", "64k" (K/M/G/T suffixes,
 * either case, binary multiples; an optional trailing "B" or "iB").
 * Returns 0, or -EINVAL for malformed text and -ERANGE on overflow.
 */
int parse_size(const char *text, uint64_t *bytes);

/* Parses an unsigned decimal integer in [min, max]. */
int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

#endif
