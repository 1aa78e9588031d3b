// SPDX-License-Identifier: MIT
/*
 * `kvmtrack checkpoint-info DIR`: the checkpoints of a chain, oldest
 * first, each with its parent, the pages it holds, its files' sizes (the
 * memory file's as allocated on disk, which is what a sparse layer costs)
 * and digests, and the machine they were taken of. It reads manifests
 * only: `run --restore` is what verifies the layers' contents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cmd.h"
#include "checkpoint/chain.h"

static uint64_t held_pages(const struct ckpt_manifest *m)
{
	uint64_t n = 0;

	for (unsigned int r = 0; r < m->nr_regions; r++)
		n += m->regions[r].held_pages;
	return n;
}

/* What the sparse memory file takes on disk, or 0 if it is missing. */
static uint64_t allocated_bytes(const struct ckpt_layer *l)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/memory", l->path);
	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

static void print_machine(const struct ckpt_machine *mc)
{
	printf("machine: %llu MiB of RAM, %u vCPUs, device tree %u bytes (digest %016llx), command line \"%s\", devices \"%s\"\n",
	       (unsigned long long)(mc->mem_bytes >> 20), mc->nr_cpus,
	       mc->fdt_bytes,
	       (unsigned long long)ckpt_bytes_digest(mc->fdt, mc->fdt_bytes),
	       mc->cmdline, mc->devices);
}

static void print_layer(const struct ckpt_layer *l)
{
	const struct ckpt_manifest *m = &l->m;
	time_t created = (time_t)(m->created_unix_ns / 1000000000ull);
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime(&created));
	printf("%-6s %-6s %-11s %9llu %9.2f %10.2f %10.2f %9.3f  %016llx  %s\n",
	       m->name, m->parent[0] ? m->parent : "-",
	       m->parent[0] ? "incremental" : m->merged_from ? "full merged" : "full",
	       (unsigned long long)held_pages(m),
	       m->files[CKPT_FILE_STATE].size_bytes / 1024.0,
	       m->files[CKPT_FILE_PAGES].size_bytes / 1024.0,
	       allocated_bytes(l) / 1048576.0, m->pause_ns / 1e6,
	       (unsigned long long)l->digest, when);
	printf("       digests: state %016llx, pages %016llx, memory %016llx\n",
	       (unsigned long long)m->files[CKPT_FILE_STATE].digest,
	       (unsigned long long)m->files[CKPT_FILE_PAGES].digest,
	       (unsigned long long)m->files[CKPT_FILE_MEMORY].digest);
	/* Listed, not checked: run --restore --mac-psk checks them. */
	if (m->auth.kind == CKPT_AUTH_HMAC_SHA256)
		printf("       authenticated: HMAC-SHA256 per page and file, key identity '%s'\n",
		       m->auth.identity);
}

int cmd_checkpoint_info(int argc, char **argv)
{
	char (*names)[CKPT_NAME_MAX];
	struct ckpt_layer *l;
	unsigned int nr, bad = 0;
	char err[512];

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"Usage: kvmtrack checkpoint-info DIR\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	l = malloc(sizeof(*l));
	if (!l || ckpt_chain_list(argv[1], &names, &nr, err, sizeof(err))) {
		fprintf(stderr, "kvmtrack checkpoint-info: %s\n",
			l ? err : strerror(ENOMEM));
		free(l);
		return 1;
	}
	printf("chain %s: %u checkpoints\n", argv[1], nr);
	printf("%-6s %-6s %-11s %9s %9s %10s %10s %9s  %-16s  %s\n", "name",
	       "parent", "kind", "pages", "state KiB", "pages KiB",
	       "memory MiB", "pause ms", "digest", "taken (UTC)");
	for (unsigned int i = 0; i < nr; i++) {
		if (ckpt_layer_read(argv[1], names[i], l, err, sizeof(err))) {
			printf("%-6s unreadable: %s\n", names[i], err);
			bad++;
			continue;
		}
		print_layer(l);
		if (i == nr - 1)
			print_machine(&l->m.machine);
	}
	free(names);
	free(l);
	return bad ? 1 : 0;
}
