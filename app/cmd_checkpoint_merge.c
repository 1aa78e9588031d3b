// SPDX-License-Identifier: MIT
/*
 * `kvmtrack checkpoint-merge DIR [NAME]`: folds the chain that ends at
 * NAME (the newest checkpoint by default) into one full checkpoint of
 * that name (checkpoint/merge.h). Checkpoints taken after NAME keep
 * restoring: they name it by the digest it stands for.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/cmd.h"
#include "checkpoint/merge.h"

int cmd_checkpoint_merge(int argc, char **argv)
{
	struct ckpt_merge_result res;
	char err[1024] = "";
	bool help = argc == 2 && !strcmp(argv[1], "--help");

	if (help || argc < 2 || argc > 3 || argv[1][0] == '-') {
		fprintf(help ? stdout : stderr,
			"Usage: kvmtrack checkpoint-merge DIR [NAME]\n"
			"  folds the chain in DIR, from its base up to NAME "
			"(default: the\n"
			"  newest), into one full checkpoint named NAME; the "
			"layers below\n"
			"  it are removed\n");
		return help ? 0 : 2;
	}
	if (ckpt_merge(argv[1], argc == 3 ? argv[2] : NULL, &res, err,
		       sizeof(err))) {
		fprintf(stderr, "kvmtrack checkpoint-merge: %s\n", err);
		return 1;
	}
	if (res.layers <= 1)
		printf("%s: nothing to merge, the checkpoint is full already\n",
		       argv[1]);
	else
		printf("%s: %u checkpoints merged into one, %llu pages "
		       "written, %.1f ms\n",
		       argv[1], res.layers,
		       (unsigned long long)res.pages_written, res.ns / 1e6);
	return 0;
}
