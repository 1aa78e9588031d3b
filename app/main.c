// SPDX-License-Identifier: MIT
/* kvmtrack's entry point: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "app/cmd.h"
#include "config-host.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "boot a guest image" },
	{ "ctl", cmd_ctl, "send one command to a control socket" },
	{ "bench", cmd_bench, "built-in benchmarks (bench dirtylog)" },
	{ "dirtyrate", cmd_dirtyrate, "measure a running guest's dirty rate" },
	{ "migrate", cmd_migrate, "live-migrate a running guest to another kvmtrack" },
	{ "checkpoint", cmd_checkpoint, "write a checkpoint of a running guest into a chain" },
	{ "checkpoint-info", cmd_checkpoint_info, "list the checkpoints of a chain" },
	{ "checkpoint-merge", cmd_checkpoint_merge, "fold a chain into one full checkpoint" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: kvmtrack COMMAND [options]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n`kvmtrack COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kvmtrack %s\n", KVMTRACK_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kvmtrack: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
