/* SPDX-License-Identifier: MIT */
/* Command-line parsing shared by the subcommands. Pure: unit-tested. */
#ifndef KVMTRACK_CLI_H
#define KVMTRACK_CLI_H

#include <stddef.h>
#include <stdint.h>

struct vm_config;

/*
 * Parses a size such as "256M", "1G", "4096", "64k" (K/M/G/T suffixes,
 * either case, binary multiples; an optional trailing "B" or "iB").
 * Returns 0, or -EINVAL for malformed text and -ERANGE on overflow.
 */
int cli_parse_size(const char *text, uint64_t *bytes);

/* Parses an unsigned decimal integer in [min, max]. */
int cli_parse_uint(const char *text, uint64_t min, uint64_t max,
		   uint64_t *out);

/*
 * Parses `kvmtrack run` arguments (argv[0] is "run") into cfg, which gets
 * the defaults first. On error returns -EINVAL and a message naming the
 * option and the value in err.
 */
int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err,
		  size_t err_len);

extern const char cli_run_usage[];

#endif
