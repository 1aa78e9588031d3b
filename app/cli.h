/* SPDX-License-Identifier: MIT */
/* Command-line parsing shared by the subcommands. Pure: unit-tested. */
#ifndef KVMTRACK_CLI_H
#define KVMTRACK_CLI_H

#include <stddef.h>
#include <stdint.h>

struct vm_config;

/*
 * Parses `kvmtrack run` arguments (argv[0] is "run") into cfg, which gets
 * the defaults first. On error returns -EINVAL and a message naming the
 * option and the value in err.
 */
int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err,
		  size_t err_len);

extern const char cli_run_usage[];

#endif
