// SPDX-License-Identifier: MIT
/*
 * Recovering a chain directory (merge.h): what a crash left behind is
 * finished (a merge past its point of no return) or removed (a
 * checkpoint never committed, the old layers of a finished merge).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/chain.h"
#include "checkpoint/fold.h"
#include "checkpoint/recover.h"

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

/* A leftover .N.tmp: the first step of a merge (finish it), or anything
 * else (a checkpoint that was never committed, the old layer of a merge
 * that was): removed. */
static int recover_tmp(const char *dir, const char *entry,
		       const struct ckpt_keys *keys, char *err,
		       size_t err_len)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	char path[4300], why[256] = "";
	uint64_t digest, written = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, entry);
	if (!ckpt_manifest_read(path, m, &digest, why, sizeof(why)) &&
	    m->merged_from) {
		ret = ckpt_fold_roll_forward(dir, m, keys, &written, why,
					     sizeof(why));
		if (ret)
			snprintf(err, err_len,
				 "finishing the interrupted merge into %s: %s",
				 m->name, why);
	} else {
		ckpt_dir_remove(dir, entry);
	}
	free(m);
	return ret;
}

/* The entries of dir that a merge or a checkpoint left (a name starting
 * with a dot), listed before any is touched. */
static int leftovers(const char *dir, char (**names)[CKPT_NAME_MAX + 8],
		     unsigned int *nr)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*names = NULL;
	*nr = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		void *grown;

		if (e->d_name[0] != '.' || strlen(e->d_name) >= CKPT_NAME_MAX ||
		    (!ends_with(e->d_name, ".tmp") &&
		     !ends_with(e->d_name, ".merged")))
			continue;
		grown = realloc(*names, (*nr + 1) * sizeof(**names));
		if (!grown)
			break;
		*names = grown;
		snprintf((*names)[(*nr)++], CKPT_NAME_MAX + 8, "%s", e->d_name);
	}
	closedir(d);
	return 0;
}

int ckpt_chain_recover(const char *dir, const struct ckpt_keys *keys,
		       char *err, size_t err_len)
{
	char(*names)[CKPT_NAME_MAX + 8];
	unsigned int nr;
	int ret = leftovers(dir, &names, &nr);

	if (ret)
		snprintf(err, err_len, "%s: %s", dir, strerror(-ret));
	for (unsigned int i = 0; i < nr && !ret; i++) {
		if (ends_with(names[i], ".tmp"))
			ret = recover_tmp(dir, names[i], keys, err, err_len);
		else
			ckpt_dir_remove(dir, names[i]);
	}
	free(names);
	return ret;
}
