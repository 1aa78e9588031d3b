// SPDX-License-Identifier: MIT
/*
 * `kvmtrack checkpoint-merge [--mac-psk FILE] DIR [NAME]`: folds the
 * chain that ends at NAME (the newest checkpoint by default) into one
 * full checkpoint of that name (checkpoint/merge.h). Checkpoints taken
 * after NAME keep restoring: they name it by the digest it stands for.
 * An authenticated chain needs its key: its pages are checked and its
 * MACs made again.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/cmd.h"
#include "checkpoint/mac.h"
#include "checkpoint/merge.h"

static const char usage[] =
    "Usage: kvmtrack checkpoint-merge [--mac-psk FILE] DIR [NAME]\n"
    "  folds the chain in DIR, from its base up to NAME (default: the\n"
    "  newest), into one full checkpoint named NAME; the layers below\n"
    "  it are removed\n"
    "      --mac-psk FILE   the keys of an authenticated chain (keys.psk)\n";

int cmd_checkpoint_merge(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mac-psk", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ckpt_keys *keys = NULL;
	struct ckpt_merge_result res;
	const char *psk = NULL;
	char err[1024] = "";
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'M') {
			psk = optarg;
		} else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		fputs(usage, stderr);
		return 2;
	}
	ret = psk ? ckpt_keys_load(psk, &keys, err, sizeof(err)) : 0;
	ret = ret ?: ckpt_merge(argv[optind],
				argc - optind == 2 ? argv[optind + 1] : NULL,
				keys, &res, err, sizeof(err));
	ckpt_keys_free(keys);
	if (ret) {
		fprintf(stderr, "kvmtrack checkpoint-merge: %s\n", err);
		return 1;
	}
	if (res.layers <= 1)
		printf("%s: nothing to merge, the checkpoint is full already\n",
		       argv[optind]);
	else
		printf("%s: %u checkpoints merged into one, %llu pages "
		       "written, %.1f ms\n",
		       argv[optind], res.layers,
		       (unsigned long long)res.pages_written, res.ns / 1e6);
	return 0;
}
